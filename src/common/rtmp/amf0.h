/*
 * amf0.h: AMF0 values (the encoding of RTMP commands and metadata), decoded
 * into a small tree and encoded from calls. I/O-free; never logs.
 *
 * Decoding is bounded: at most LC_AMF0_MAX_DEPTH nested objects/arrays and
 * LC_AMF0_MAX_VALUES values per decode call, strings at most the input
 * length. Strings are NUL-terminated copies (AMF0 strings may hold NULs:
 * such strings are kept with their length in `len`).
 * Ownership: a decoded value tree is freed with lc_amf0_free().
 */
#ifndef LC_AMF0_H
#define LC_AMF0_H

#include <stddef.h>
#include <stdint.h>

#define LC_AMF0_MAX_DEPTH 16
#define LC_AMF0_MAX_VALUES 4096

enum lc_amf0_type {
    LC_AMF0_NUMBER = 0x00, LC_AMF0_BOOLEAN = 0x01, LC_AMF0_STRING = 0x02, LC_AMF0_OBJECT = 0x03,
    LC_AMF0_NULL = 0x05, LC_AMF0_UNDEFINED = 0x06, LC_AMF0_ECMA_ARRAY = 0x08,
    LC_AMF0_OBJECT_END = 0x09, LC_AMF0_STRICT_ARRAY = 0x0a, LC_AMF0_DATE = 0x0b,
    LC_AMF0_LONG_STRING = 0x0c,
};

typedef struct lc_amf0 lc_amf0_t;
struct lc_amf0 {
    int type;              /* lc_amf0_type; LONG_STRING decodes as STRING */
    double num;            /* NUMBER, DATE (ms), BOOLEAN (0/1) */
    char *str;             /* STRING: bytes + NUL */
    size_t len;            /* STRING: length; OBJECT/ARRAYs: number of members */
    char **keys;           /* OBJECT, ECMA_ARRAY: member names (NULL for STRICT_ARRAY) */
    lc_amf0_t **vals;      /* OBJECT, ECMA_ARRAY, STRICT_ARRAY: members */
};

/* Decode one value at buf. Returns bytes consumed (>0) with *out set, or -1
 * with *err set (truncated, unknown marker, too deep, too many values). */
int lc_amf0_decode(const uint8_t *buf, size_t len, lc_amf0_t **out, const char **err);
/* Decode every value in buf into out[0..max); returns the count or -1. */
int lc_amf0_decode_all(const uint8_t *buf, size_t len, lc_amf0_t **out, int max, const char **err);
void lc_amf0_free(lc_amf0_t *v);
void lc_amf0_free_all(lc_amf0_t **v, int n);

/* Member of an OBJECT or ECMA_ARRAY by name, or NULL. */
const lc_amf0_t *lc_amf0_get(const lc_amf0_t *obj, const char *key);
/* v as a string (NULL unless STRING) / number (def unless NUMBER). */
const char *lc_amf0_str(const lc_amf0_t *v);
double lc_amf0_num(const lc_amf0_t *v, double def);

/* Encoder: appends to a growable buffer. Out of memory (or a key over 65535
 * bytes) sets b->failed, which makes every later call a no-op: check it once. */
typedef struct { uint8_t *data; size_t len, cap; int failed; } lc_amf0_buf_t;
void lc_amf0_buf_free(lc_amf0_buf_t *b);
void lc_amf0_put_number(lc_amf0_buf_t *b, double v);
void lc_amf0_put_bool(lc_amf0_buf_t *b, int v);
void lc_amf0_put_string(lc_amf0_buf_t *b, const char *s);
void lc_amf0_put_null(lc_amf0_buf_t *b);
void lc_amf0_put_object_start(lc_amf0_buf_t *b);
void lc_amf0_put_ecma_start(lc_amf0_buf_t *b, uint32_t count);
void lc_amf0_put_key(lc_amf0_buf_t *b, const char *key);   /* a member name, then put its value */
void lc_amf0_put_object_end(lc_amf0_buf_t *b);
/* Re-encode a decoded value (used to forward metadata). */
void lc_amf0_put_value(lc_amf0_buf_t *b, const lc_amf0_t *v);

#endif
