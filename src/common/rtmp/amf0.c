/*
 * amf0.c: the AMF0 encoding (RTMP commands and metadata) as a small value
 * tree in, bytes out.
 *
 * Owns: every decision about which bytes form a legal AMF0 value and the
 * limits that keep a hostile peer from making us allocate or recurse without
 * bound. Does not own: what a command means (connect, publish, play are the
 * session layer's) or where the bytes came from.
 *
 * Invariant: a failed decode frees everything it built and hands nothing
 * out; a successful one hands out a tree that lc_amf0_free() releases whole.
 * Memory stays proportional to the input: every value costs at least one
 * input byte and LC_AMF0_MAX_VALUES caps the count, so a short message
 * cannot claim a large allocation (a strict array's count is checked
 * against the bytes left before its member table is allocated).
 *
 * Not supported (decoded as "unknown marker"): movieclip, reference,
 * unsupported, recordset, XML document, typed object and the AMF3 switch.
 * No RTMP encoder we meet (FFmpeg, OBS, Flash-era clients, nginx-rtmp
 * relays) puts them in AMF0 commands or metadata.
 */
#include "common/rtmp/amf0.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    const uint8_t *p;
    const uint8_t *end;
    int values;             /* nodes built by this call, against LC_AMF0_MAX_VALUES */
    const char *err;
} dec_t;

static lc_amf0_t *decode_value(dec_t *d, int depth);

static uint32_t rd_be(const uint8_t *p, int n)
{
    uint32_t v = 0;

    for (int i = 0; i < n; i++)
        v = (v << 8) | p[i];
    return v;
}

static double rd_double(const uint8_t *p)
{
    uint64_t bits = 0;
    double d;

    for (int i = 0; i < 8; i++)
        bits = (bits << 8) | p[i];
    memcpy(&d, &bits, sizeof d);
    return d;
}

static int have(dec_t *d, size_t n)
{
    if ((size_t)(d->end - d->p) < n) {
        d->err = "truncated";
        return 0;
    }
    return 1;
}

/* A NUL-terminated copy of n input bytes. */
static char *take_bytes(dec_t *d, size_t n)
{
    char *s;

    if (!have(d, n))
        return NULL;
    s = malloc(n + 1);
    if (s == NULL) {
        d->err = "out of memory";
        return NULL;
    }
    memcpy(s, d->p, n);
    s[n] = '\0';
    d->p += n;
    return s;
}

static int grow_members(lc_amf0_t *v, size_t *cap)
{
    size_t ncap = *cap ? *cap * 2 : 8;
    char **nk;
    lc_amf0_t **nv;

    nk = realloc(v->keys, ncap * sizeof *nk);
    if (nk == NULL)
        return -1;
    v->keys = nk;
    nv = realloc(v->vals, ncap * sizeof *nv);
    if (nv == NULL)
        return -1;
    v->vals = nv;
    *cap = ncap;
    return 0;
}

/* Members of an OBJECT or ECMA_ARRAY up to the empty-key object-end. The
 * ECMA count is only a hint: encoders get it wrong often enough that
 * FFmpeg and nginx-rtmp both read to the end marker, and so do we. */
static int decode_members(dec_t *d, lc_amf0_t *v, int depth)
{
    size_t cap = 0;

    for (;;) {
        size_t klen;
        char *key;
        lc_amf0_t *val;

        if (!have(d, 2))
            return -1;
        klen = rd_be(d->p, 2);
        if (klen == 0) {
            if (!have(d, 3))
                return -1;
            if (d->p[2] == LC_AMF0_OBJECT_END) {
                d->p += 3;
                return 0;
            }
        }
        d->p += 2;
        key = take_bytes(d, klen);
        if (key == NULL)
            return -1;
        if (v->len == cap && grow_members(v, &cap) < 0) {
            free(key);
            d->err = "out of memory";
            return -1;
        }
        val = decode_value(d, depth);
        if (val == NULL) {
            free(key);
            return -1;
        }
        v->keys[v->len] = key;
        v->vals[v->len] = val;
        v->len++;
    }
}

static int decode_strict(dec_t *d, lc_amf0_t *v, int depth)
{
    uint32_t count;

    if (!have(d, 4))
        return -1;
    count = rd_be(d->p, 4);
    d->p += 4;
    /* Every member takes at least its marker byte: a count beyond the bytes
     * left is a truncated array, refused before allocating for it. */
    if (count > (size_t)(d->end - d->p)) {
        d->err = "truncated";
        return -1;
    }
    if (count == 0)
        return 0;
    v->vals = calloc(count, sizeof *v->vals);
    if (v->vals == NULL) {
        d->err = "out of memory";
        return -1;
    }
    for (uint32_t i = 0; i < count; i++) {
        lc_amf0_t *m = decode_value(d, depth);

        if (m == NULL)
            return -1;
        v->vals[v->len++] = m;
    }
    return 0;
}

static lc_amf0_t *decode_value(dec_t *d, int depth)
{
    lc_amf0_t *v;
    uint8_t marker;
    int rc = 0;

    if (!have(d, 1))
        return NULL;
    if (++d->values > LC_AMF0_MAX_VALUES) {
        d->err = "too many values";
        return NULL;
    }
    marker = *d->p;
    switch (marker) {
    case LC_AMF0_NUMBER: case LC_AMF0_BOOLEAN: case LC_AMF0_STRING: case LC_AMF0_OBJECT:
    case LC_AMF0_NULL: case LC_AMF0_UNDEFINED: case LC_AMF0_ECMA_ARRAY:
    case LC_AMF0_STRICT_ARRAY: case LC_AMF0_DATE: case LC_AMF0_LONG_STRING:
        break;
    case LC_AMF0_OBJECT_END:
        d->err = "object end without object";
        return NULL;
    default:
        d->err = "unknown marker";
        return NULL;
    }
    if ((marker == LC_AMF0_OBJECT || marker == LC_AMF0_ECMA_ARRAY || marker == LC_AMF0_STRICT_ARRAY)
        && depth + 1 > LC_AMF0_MAX_DEPTH) {
        d->err = "too deep";
        return NULL;
    }
    v = calloc(1, sizeof *v);
    if (v == NULL) {
        d->err = "out of memory";
        return NULL;
    }
    v->type = marker;
    d->p++;

    switch (marker) {
    case LC_AMF0_NUMBER:
        if (!have(d, 8))
            goto failed;
        v->num = rd_double(d->p);
        d->p += 8;
        break;
    case LC_AMF0_BOOLEAN:
        if (!have(d, 1))
            goto failed;
        v->num = *d->p++ != 0;
        break;
    case LC_AMF0_STRING:
    case LC_AMF0_LONG_STRING: {
        int w = marker == LC_AMF0_STRING ? 2 : 4;

        v->type = LC_AMF0_STRING;
        if (!have(d, w))
            goto failed;
        v->len = rd_be(d->p, w);
        d->p += w;
        v->str = take_bytes(d, v->len);
        if (v->str == NULL)
            goto failed;
        break;
    }
    case LC_AMF0_ECMA_ARRAY:
        if (!have(d, 4))
            goto failed;
        d->p += 4;
        /* fall through */
    case LC_AMF0_OBJECT:
        rc = decode_members(d, v, depth + 1);
        break;
    case LC_AMF0_STRICT_ARRAY:
        rc = decode_strict(d, v, depth + 1);
        break;
    case LC_AMF0_DATE:
        /* the time zone field is reserved and ignored by every reader */
        if (!have(d, 10))
            goto failed;
        v->num = rd_double(d->p);
        d->p += 10;
        break;
    default:                /* NULL, UNDEFINED: the marker is the value */
        break;
    }
    if (rc < 0)
        goto failed;
    return v;

failed:
    lc_amf0_free(v);
    return NULL;
}

int lc_amf0_decode(const uint8_t *buf, size_t len, lc_amf0_t **out, const char **err)
{
    /* Byte counts are returned as int; nothing longer fits in an RTMP
     * message anyway (24-bit length). */
    dec_t d = { buf, buf + (len > INT_MAX ? INT_MAX : len), 0, NULL };
    lc_amf0_t *v;

    *out = NULL;
    if (buf == NULL)
        d.end = d.p;
    v = decode_value(&d, 0);
    if (v == NULL) {
        if (err != NULL)
            *err = d.err;
        return -1;
    }
    *out = v;
    return (int)(d.p - buf);
}

/* Values beyond max are left undecoded: commands carry optional trailing
 * arguments the caller did not ask for, and nginx-rtmp ignores them too. */
int lc_amf0_decode_all(const uint8_t *buf, size_t len, lc_amf0_t **out, int max, const char **err)
{
    dec_t d = { buf, buf + (len > INT_MAX ? INT_MAX : len), 0, NULL };
    int n = 0;

    if (buf == NULL)
        d.end = d.p;
    while (d.p < d.end && n < max) {
        lc_amf0_t *v = decode_value(&d, 0);

        if (v == NULL) {
            lc_amf0_free_all(out, n);
            if (err != NULL)
                *err = d.err;
            return -1;
        }
        out[n++] = v;
    }
    return n;
}

void lc_amf0_free(lc_amf0_t *v)
{
    if (v == NULL)
        return;
    free(v->str);
    for (size_t i = 0; i < v->len && v->vals != NULL; i++) {
        if (v->keys != NULL)
            free(v->keys[i]);
        lc_amf0_free(v->vals[i]);
    }
    free(v->keys);
    free(v->vals);
    free(v);
}

void lc_amf0_free_all(lc_amf0_t **v, int n)
{
    for (int i = 0; i < n; i++) {
        lc_amf0_free(v[i]);
        v[i] = NULL;
    }
}

const lc_amf0_t *lc_amf0_get(const lc_amf0_t *obj, const char *key)
{
    if (obj == NULL || obj->keys == NULL
        || (obj->type != LC_AMF0_OBJECT && obj->type != LC_AMF0_ECMA_ARRAY))
        return NULL;
    for (size_t i = 0; i < obj->len; i++)
        if (strcmp(obj->keys[i], key) == 0)
            return obj->vals[i];
    return NULL;
}

const char *lc_amf0_str(const lc_amf0_t *v)
{
    return v != NULL && v->type == LC_AMF0_STRING ? v->str : NULL;
}

double lc_amf0_num(const lc_amf0_t *v, double def)
{
    return v != NULL && v->type == LC_AMF0_NUMBER ? v->num : def;
}

/* ---- encoder ----
 * Errors are sticky in b->failed so a caller can build a whole command and
 * check once; after a failure every call is a no-op. */

static uint8_t *reserve(lc_amf0_buf_t *b, size_t n)
{
    if (b->failed)
        return NULL;
    if (b->cap - b->len < n) {
        size_t ncap = b->cap ? b->cap : 64;
        uint8_t *nd;

        while (ncap - b->len < n) {
            if (ncap > SIZE_MAX / 2) {
                b->failed = 1;
                return NULL;
            }
            ncap *= 2;
        }
        nd = realloc(b->data, ncap);
        if (nd == NULL) {
            b->failed = 1;
            return NULL;
        }
        b->data = nd;
        b->cap = ncap;
    }
    b->len += n;
    return b->data + b->len - n;
}

static void wr_be(uint8_t *p, uint64_t v, int n)
{
    for (int i = n - 1; i >= 0; i--, v >>= 8)
        p[i] = (uint8_t)v;
}

static void put_marker(lc_amf0_buf_t *b, uint8_t m)
{
    uint8_t *p = reserve(b, 1);

    if (p != NULL)
        *p = m;
}

static void put_double(lc_amf0_buf_t *b, uint8_t marker, double v, size_t trailing_zeros)
{
    uint8_t *p = reserve(b, 9 + trailing_zeros);
    uint64_t bits;

    if (p == NULL)
        return;
    memcpy(&bits, &v, sizeof bits);
    p[0] = marker;
    wr_be(p + 1, bits, 8);
    memset(p + 9, 0, trailing_zeros);
}

/* STRING up to 65535 bytes, LONG_STRING beyond (both decode as STRING). */
static void put_bytes_string(lc_amf0_buf_t *b, const char *s, size_t n)
{
    int w = n > 0xffff ? 4 : 2;
    uint8_t *p;

    if (n > UINT32_MAX) {
        b->failed = 1;
        return;
    }
    p = reserve(b, 1 + w + n);
    if (p == NULL)
        return;
    p[0] = w == 2 ? LC_AMF0_STRING : LC_AMF0_LONG_STRING;
    wr_be(p + 1, n, w);
    if (n > 0)
        memcpy(p + 1 + w, s, n);
}

void lc_amf0_buf_free(lc_amf0_buf_t *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
    b->failed = 0;
}

void lc_amf0_put_number(lc_amf0_buf_t *b, double v)
{
    put_double(b, LC_AMF0_NUMBER, v, 0);
}

void lc_amf0_put_bool(lc_amf0_buf_t *b, int v)
{
    uint8_t *p = reserve(b, 2);

    if (p != NULL) {
        p[0] = LC_AMF0_BOOLEAN;
        p[1] = v != 0;
    }
}

void lc_amf0_put_string(lc_amf0_buf_t *b, const char *s)
{
    put_bytes_string(b, s, strlen(s));
}

void lc_amf0_put_null(lc_amf0_buf_t *b)
{
    put_marker(b, LC_AMF0_NULL);
}

void lc_amf0_put_object_start(lc_amf0_buf_t *b)
{
    put_marker(b, LC_AMF0_OBJECT);
}

void lc_amf0_put_ecma_start(lc_amf0_buf_t *b, uint32_t count)
{
    uint8_t *p = reserve(b, 5);

    if (p != NULL) {
        p[0] = LC_AMF0_ECMA_ARRAY;
        wr_be(p + 1, count, 4);
    }
}

/* A key longer than AMF0 can carry fails the buffer rather than being cut:
 * a silently shortened name would be a different key. */
void lc_amf0_put_key(lc_amf0_buf_t *b, const char *key)
{
    size_t n = strlen(key);
    uint8_t *p;

    if (n > 0xffff) {
        b->failed = 1;
        return;
    }
    p = reserve(b, 2 + n);
    if (p != NULL) {
        wr_be(p, n, 2);
        memcpy(p + 2, key, n);
    }
}

void lc_amf0_put_object_end(lc_amf0_buf_t *b)
{
    uint8_t *p = reserve(b, 3);

    if (p != NULL) {
        p[0] = 0;
        p[1] = 0;
        p[2] = LC_AMF0_OBJECT_END;
    }
}

/* Keys are re-encoded as C strings: a key holding a NUL (legal AMF0, never
 * seen in practice) comes out cut at the NUL, as lc_amf0_get() sees it. */
void lc_amf0_put_value(lc_amf0_buf_t *b, const lc_amf0_t *v)
{
    uint8_t *p;

    if (v == NULL) {
        b->failed = 1;
        return;
    }
    switch (v->type) {
    case LC_AMF0_NUMBER:
        lc_amf0_put_number(b, v->num);
        break;
    case LC_AMF0_BOOLEAN:
        lc_amf0_put_bool(b, v->num != 0);
        break;
    case LC_AMF0_STRING:
    case LC_AMF0_LONG_STRING:
        put_bytes_string(b, v->str, v->str != NULL ? v->len : 0);
        break;
    case LC_AMF0_NULL:
    case LC_AMF0_UNDEFINED:
        put_marker(b, (uint8_t)v->type);
        break;
    case LC_AMF0_DATE:
        put_double(b, LC_AMF0_DATE, v->num, 2);
        break;
    case LC_AMF0_OBJECT:
    case LC_AMF0_ECMA_ARRAY:
        if (v->len > 0 && (v->keys == NULL || v->vals == NULL)) {
            b->failed = 1;
            return;
        }
        if (v->type == LC_AMF0_OBJECT)
            lc_amf0_put_object_start(b);
        else
            lc_amf0_put_ecma_start(b, v->len > UINT32_MAX ? UINT32_MAX : (uint32_t)v->len);
        for (size_t i = 0; i < v->len; i++) {
            lc_amf0_put_key(b, v->keys[i]);
            lc_amf0_put_value(b, v->vals[i]);
        }
        lc_amf0_put_object_end(b);
        break;
    case LC_AMF0_STRICT_ARRAY:
        if ((v->len > 0 && v->vals == NULL) || v->len > UINT32_MAX) {
            b->failed = 1;
            return;
        }
        p = reserve(b, 5);
        if (p == NULL)
            return;
        p[0] = LC_AMF0_STRICT_ARRAY;
        wr_be(p + 1, v->len, 4);
        for (size_t i = 0; i < v->len; i++)
            lc_amf0_put_value(b, v->vals[i]);
        break;
    default:
        b->failed = 1;
        break;
    }
}
