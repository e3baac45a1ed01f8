/*
 * whip_path.c: see whip_path.h. Bytes in, struct out: no I/O, no logging.
 */
#include "common/http/whip_path.h"
#include "common/core/hex.h"

#include <string.h>

int lc_whip_path_match(const char *t, size_t len)
{
    return t && len > 6 && (memcmp(t, "/whip/", 6) == 0 || memcmp(t, "/whep/", 6) == 0);
}

/* bytes a name or an id may not hold: escapes (never decoded), controls, space */
static int clean(const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)p[i];
        if (c == '%' || c <= ' ' || c == 0x7f)
            return 0;
    }
    return 1;
}

int lc_whip_path_split(const char *t, size_t len, lc_whip_path_t *out, const char **err)
{
    memset(out, 0, sizeof(*out));
    if (!lc_whip_path_match(t, len)) {
        *err = "not a WHIP or WHEP path";
        return -1;
    }
    out->kind = memcmp(t, "/whip/", 6) == 0 ? LC_WHIP_PATH_WHIP : LC_WHIP_PATH_WHEP;
    const char *p = t + 6, *end = t + len;
    const char *q = memchr(p, '?', (size_t)(end - p));
    if (q)
        end = q;
    const char *slash = memchr(p, '/', (size_t)(end - p));
    size_t n = (size_t)((slash ? slash : end) - p);
    if (n == 0 || n >= sizeof(out->name) || !clean(p, n)) {
        *err = n == 0 ? "empty stream name" : n >= sizeof(out->name) ? "stream name too long"
                                                                     : "bad byte in the stream name";
        return -1;
    }
    memcpy(out->name, p, n);
    out->name[n] = '\0';
    if (slash && end - slash > 1) { /* "/whip/NAME/" is NAME (some clients add the slash) */
        size_t m = (size_t)(end - slash - 1);
        if (m >= sizeof(out->id) || !clean(slash + 1, m) || memchr(slash + 1, '/', m)) {
            *err = "bad session id";
            return -1;
        }
        memcpy(out->id, slash + 1, m);
        out->id[m] = '\0';
        out->has_id = 1;
    }
    return 0;
}

int lc_whip_path_id(const char *hex, uint8_t out[LC_WHIP_PATH_ID_BYTES])
{
    if (strlen(hex) != LC_WHIP_PATH_ID_HEX)
        return -1;
    for (int i = 0; i < LC_WHIP_PATH_ID_BYTES; i++) {
        int hi = lc_hex_digit_lower(hex[2 * i]), lo = lc_hex_digit_lower(hex[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return -1;
        out[i] = (uint8_t)(hi << 4 | lo);
    }
    return 0;
}

void lc_whip_path_id_hex(const uint8_t id[LC_WHIP_PATH_ID_BYTES], char out[LC_WHIP_PATH_ID_HEX + 1])
{
    static const char digits[] = "0123456789abcdef";
    for (int i = 0; i < LC_WHIP_PATH_ID_BYTES; i++) {
        out[2 * i] = digits[id[i] >> 4];
        out[2 * i + 1] = digits[id[i] & 15];
    }
    out[LC_WHIP_PATH_ID_HEX] = '\0';
}
