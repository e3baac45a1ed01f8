/*
 * hex.h: the value of one hexadecimal digit, in one place (percent-decoding
 * of paths and stream names, session ids). Ids we issue are lowercase and
 * are compared as written, so their parser takes lowercase only.
 */
#ifndef LC_HEX_H
#define LC_HEX_H

/* 0..15, or -1 if c is no hex digit (either case) */
static inline int lc_hex_digit(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* the same, lowercase only */
static inline int lc_hex_digit_lower(int c)
{
    return c >= 'A' && c <= 'F' ? -1 : lc_hex_digit(c);
}

#endif
