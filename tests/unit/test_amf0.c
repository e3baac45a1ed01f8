/*
 * test_amf0.c: unit tests of src/common/rtmp/amf0.c.
 *
 * Vectors: a connect command byte for byte as FFmpeg's gen_connect() sends
 * it when publishing, an onMetaData ECMA array as FFmpeg's flvenc/rtmp
 * muxer writes it, and hand-built trees of every type. Invariant checked
 * throughout: what the encoder writes decodes back to an equal tree, and
 * every proper prefix of a value is an error (never a crash, never a
 * shorter value).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>

#include <cmocka.h>

#include "common/rtmp/amf0.h"

/* Deep equality; numbers compared bit for bit so NaN round trips count. */
static int amf_equal(const lc_amf0_t *a, const lc_amf0_t *b)
{
    if (a->type != b->type || a->len != b->len)
        return 0;
    switch (a->type) {
    case LC_AMF0_NUMBER: case LC_AMF0_DATE: case LC_AMF0_BOOLEAN:
        return memcmp(&a->num, &b->num, sizeof a->num) == 0;
    case LC_AMF0_STRING:
        return memcmp(a->str, b->str, a->len + 1) == 0;
    case LC_AMF0_OBJECT: case LC_AMF0_ECMA_ARRAY: case LC_AMF0_STRICT_ARRAY:
        for (size_t i = 0; i < a->len; i++) {
            if (a->type != LC_AMF0_STRICT_ARRAY && strcmp(a->keys[i], b->keys[i]) != 0)
                return 0;
            if (!amf_equal(a->vals[i], b->vals[i]))
                return 0;
        }
        return 1;
    default:
        return 1;
    }
}

/* Every proper prefix must fail; the whole must decode to `len` bytes. */
static lc_amf0_t *decode_checked(const uint8_t *buf, size_t len)
{
    lc_amf0_t *v = NULL;
    const char *err = NULL;

    for (size_t i = 0; i < len; i++) {
        lc_amf0_t *w = (lc_amf0_t *)1;
        err = NULL;
        assert_int_equal(lc_amf0_decode(buf, i, &w, &err), -1);
        assert_null(w);
        assert_non_null(err);
    }
    assert_int_equal(lc_amf0_decode(buf, len, &v, &err), (int)len);
    assert_non_null(v);
    return v;
}

static void roundtrip(const lc_amf0_t *v)
{
    lc_amf0_buf_t b = { 0 };
    lc_amf0_t *back;

    lc_amf0_put_value(&b, v);
    assert_false(b.failed);
    back = decode_checked(b.data, b.len);
    assert_true(amf_equal(v, back));
    lc_amf0_free(back);
    lc_amf0_buf_free(&b);
}

static lc_amf0_t *mk(int type)
{
    lc_amf0_t *v = calloc(1, sizeof *v);
    assert_non_null(v);
    v->type = type;
    return v;
}

static lc_amf0_t *mk_num(int type, double d)
{
    lc_amf0_t *v = mk(type);
    v->num = d;
    return v;
}

static lc_amf0_t *mk_str(const char *s, size_t n)
{
    lc_amf0_t *v = mk(LC_AMF0_STRING);
    v->str = malloc(n + 1);
    assert_non_null(v->str);
    memcpy(v->str, s, n);
    v->str[n] = '\0';
    v->len = n;
    return v;
}

static void add(lc_amf0_t *c, const char *key, lc_amf0_t *m)
{
    c->vals = realloc(c->vals, (c->len + 1) * sizeof *c->vals);
    assert_non_null(c->vals);
    if (c->type != LC_AMF0_STRICT_ARRAY) {
        c->keys = realloc(c->keys, (c->len + 1) * sizeof *c->keys);
        assert_non_null(c->keys);
        c->keys[c->len] = strdup(key);
    }
    c->vals[c->len++] = m;
}

static void test_scalars_roundtrip(void **state)
{
    (void)state;
    const double nums[] = { 0.0, -0.0, 1.0, -1.5, 3.141592653589793, 1e300, -1e-300,
                            INFINITY, -INFINITY, NAN, 4294967296.0 };

    for (size_t i = 0; i < sizeof nums / sizeof nums[0]; i++) {
        lc_amf0_t *v = mk_num(LC_AMF0_NUMBER, nums[i]);
        roundtrip(v);
        lc_amf0_free(v);
        v = mk_num(LC_AMF0_DATE, nums[i]);
        roundtrip(v);
        lc_amf0_free(v);
    }
    for (int b = 0; b < 2; b++) {
        lc_amf0_t *v = mk_num(LC_AMF0_BOOLEAN, b);
        roundtrip(v);
        lc_amf0_free(v);
    }
    lc_amf0_t *n = mk(LC_AMF0_NULL), *u = mk(LC_AMF0_UNDEFINED);
    roundtrip(n);
    roundtrip(u);
    lc_amf0_free(n);
    lc_amf0_free(u);
}

static void test_strings_roundtrip(void **state)
{
    (void)state;
    const size_t sizes[] = { 0, 1, 5, 255, 256, 65535, 65536, 70000 };
    char *big = malloc(70000);

    assert_non_null(big);
    for (size_t i = 0; i < 70000; i++)
        big[i] = (char)('a' + i % 26);
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        lc_amf0_t *v = mk_str(big, sizes[i]);
        lc_amf0_buf_t b = { 0 };

        lc_amf0_put_value(&b, v);
        /* STRING up to 65535 bytes, LONG_STRING beyond, both decode as STRING */
        assert_int_equal(b.data[0], sizes[i] > 65535 ? LC_AMF0_LONG_STRING : LC_AMF0_STRING);
        assert_int_equal(b.len, 1 + (sizes[i] > 65535 ? 4 : 2) + sizes[i]);
        lc_amf0_buf_free(&b);
        if (sizes[i] < 300)
            roundtrip(v);
        else {
            lc_amf0_t *back = NULL;
            lc_amf0_put_value(&b, v);
            assert_int_equal(lc_amf0_decode(b.data, b.len, &back, NULL), (int)b.len);
            assert_true(amf_equal(v, back));
            lc_amf0_free(back);
            assert_int_equal(lc_amf0_decode(b.data, b.len - 1, &back, NULL), -1);
            assert_null(back);
            lc_amf0_buf_free(&b);
        }
        lc_amf0_free(v);
    }
    free(big);

    /* AMF0 strings may hold NULs: kept with their length */
    lc_amf0_t *v = mk_str("a\0b", 3);
    roundtrip(v);
    lc_amf0_free(v);

    lc_amf0_buf_t b = { 0 };
    lc_amf0_t *s = NULL;
    lc_amf0_put_string(&b, "hello");
    assert_int_equal(b.len, 8);
    assert_memory_equal(b.data, "\x02\x00\x05hello", 8);
    assert_int_equal(lc_amf0_decode(b.data, b.len, &s, NULL), 8);
    assert_string_equal(lc_amf0_str(s), "hello");
    assert_null(lc_amf0_str(NULL));
    assert_true(lc_amf0_num(s, 7.0) == 7.0);
    lc_amf0_free(s);
    lc_amf0_buf_free(&b);
}

static void test_containers_roundtrip(void **state)
{
    (void)state;
    lc_amf0_t *o = mk(LC_AMF0_OBJECT), *e = mk(LC_AMF0_ECMA_ARRAY), *a = mk(LC_AMF0_STRICT_ARRAY);
    lc_amf0_t *top = mk(LC_AMF0_STRICT_ARRAY);

    /* empty ones first */
    roundtrip(o);
    roundtrip(e);
    roundtrip(a);
    add(o, "num", mk_num(LC_AMF0_NUMBER, 42));
    add(o, "str", mk_str("value", 5));
    add(o, "", mk(LC_AMF0_NULL));           /* an empty key is a member, not the end */
    add(o, "undef", mk(LC_AMF0_UNDEFINED));
    add(e, "bool", mk_num(LC_AMF0_BOOLEAN, 1));
    add(e, "date", mk_num(LC_AMF0_DATE, 1.7e12));
    add(a, NULL, mk_num(LC_AMF0_NUMBER, 1));
    add(a, NULL, mk_str("", 0));
    add(a, NULL, mk(LC_AMF0_OBJECT));
    add(e, "arr", a);
    add(o, "ecma", e);
    add(top, NULL, o);
    add(top, NULL, mk(LC_AMF0_NULL));
    roundtrip(top);

    assert_ptr_equal(lc_amf0_get(o, "num"), o->vals[0]);
    assert_ptr_equal(lc_amf0_get(o, ""), o->vals[2]);
    assert_null(lc_amf0_get(o, "missing"));
    assert_null(lc_amf0_get(top, "num"));       /* strict arrays have no keys */
    assert_null(lc_amf0_get(NULL, "num"));
    assert_true(lc_amf0_num(lc_amf0_get(o, "num"), 0) == 42);
    assert_true(lc_amf0_num(lc_amf0_get(o, "str"), -1) == -1);
    lc_amf0_free(top);
}

/* connect as FFmpeg (libavformat/rtmpproto.c gen_connect) sends it to publish. */
static const uint8_t connect_cmd[] =
    "\x02\x00\x07" "connect"
    "\x00\x3f\xf0\x00\x00\x00\x00\x00\x00"
    "\x03"
    "\x00\x03" "app" "\x02\x00\x04" "live"
    "\x00\x04" "type" "\x02\x00\x0a" "nonprivate"
    "\x00\x08" "flashVer" "\x02\x00\x24" "FMLE/3.0 (compatible; Lavf59.27.100)"
    "\x00\x05" "tcUrl" "\x02\x00\x1a" "rtmp://127.0.0.1:1935/live"
    "\x00\x00\x09";
#define CONNECT_LEN (sizeof connect_cmd - 1)

static void test_connect_command(void **state)
{
    (void)state;
    lc_amf0_t *v[8] = { 0 };
    const char *err = NULL;
    lc_amf0_buf_t b = { 0 };

    assert_int_equal(lc_amf0_decode_all(connect_cmd, CONNECT_LEN, v, 8, &err), 3);
    assert_string_equal(lc_amf0_str(v[0]), "connect");
    assert_true(lc_amf0_num(v[1], 0) == 1.0);
    assert_int_equal(v[2]->type, LC_AMF0_OBJECT);
    assert_int_equal(v[2]->len, 4);
    assert_string_equal(lc_amf0_str(lc_amf0_get(v[2], "app")), "live");
    assert_string_equal(lc_amf0_str(lc_amf0_get(v[2], "type")), "nonprivate");
    assert_string_equal(lc_amf0_str(lc_amf0_get(v[2], "flashVer")), "FMLE/3.0 (compatible; Lavf59.27.100)");
    assert_string_equal(lc_amf0_str(lc_amf0_get(v[2], "tcUrl")), "rtmp://127.0.0.1:1935/live");

    /* the encoder writes the same bytes, by calls and by re-encoding */
    lc_amf0_put_string(&b, "connect");
    lc_amf0_put_number(&b, 1.0);
    lc_amf0_put_object_start(&b);
    lc_amf0_put_key(&b, "app");
    lc_amf0_put_string(&b, "live");
    lc_amf0_put_key(&b, "type");
    lc_amf0_put_string(&b, "nonprivate");
    lc_amf0_put_key(&b, "flashVer");
    lc_amf0_put_string(&b, "FMLE/3.0 (compatible; Lavf59.27.100)");
    lc_amf0_put_key(&b, "tcUrl");
    lc_amf0_put_string(&b, "rtmp://127.0.0.1:1935/live");
    lc_amf0_put_object_end(&b);
    assert_false(b.failed);
    assert_int_equal(b.len, CONNECT_LEN);
    assert_memory_equal(b.data, connect_cmd, CONNECT_LEN);
    lc_amf0_buf_free(&b);
    for (int i = 0; i < 3; i++)
        lc_amf0_put_value(&b, v[i]);
    assert_int_equal(b.len, CONNECT_LEN);
    assert_memory_equal(b.data, connect_cmd, CONNECT_LEN);
    lc_amf0_buf_free(&b);

    /* max smaller than the count: the trailing values are left alone */
    lc_amf0_t *w[2] = { 0 };
    assert_int_equal(lc_amf0_decode_all(connect_cmd, CONNECT_LEN, w, 2, &err), 2);
    lc_amf0_free_all(w, 2);
    lc_amf0_free_all(v, 3);

    /* cut anywhere: an error, never a crash (the cut at a value boundary
     * is a shorter valid command, which is right) */
    for (size_t i = 1; i < CONNECT_LEN; i++) {
        int n = lc_amf0_decode_all(connect_cmd, i, v, 8, &err);
        if (i == 10 || i == 19)
            assert_int_equal(n, i == 10 ? 1 : 2);
        else
            assert_int_equal(n, -1);
        if (n > 0)
            lc_amf0_free_all(v, n);
    }
    assert_int_equal(lc_amf0_decode_all(connect_cmd, 0, v, 8, &err), 0);
}

/* onMetaData the way FFmpeg's flvenc writes it: an ECMA array with a count. */
static void test_ecma_metadata(void **state)
{
    (void)state;
    lc_amf0_buf_t b = { 0 };
    lc_amf0_t *v[4] = { 0 };
    const lc_amf0_t *md;

    lc_amf0_put_string(&b, "@setDataFrame");
    lc_amf0_put_string(&b, "onMetaData");
    lc_amf0_put_ecma_start(&b, 8);
    lc_amf0_put_key(&b, "duration");
    lc_amf0_put_number(&b, 0);
    lc_amf0_put_key(&b, "width");
    lc_amf0_put_number(&b, 1280);
    lc_amf0_put_key(&b, "height");
    lc_amf0_put_number(&b, 720);
    lc_amf0_put_key(&b, "framerate");
    lc_amf0_put_number(&b, 30);
    lc_amf0_put_key(&b, "videocodecid");
    lc_amf0_put_number(&b, 7);
    lc_amf0_put_key(&b, "audiocodecid");
    lc_amf0_put_number(&b, 10);
    lc_amf0_put_key(&b, "stereo");
    lc_amf0_put_bool(&b, 1);
    lc_amf0_put_key(&b, "encoder");
    lc_amf0_put_string(&b, "Lavf59.27.100");
    lc_amf0_put_object_end(&b);
    assert_false(b.failed);

    assert_int_equal(lc_amf0_decode_all(b.data, b.len, v, 4, NULL), 3);
    assert_string_equal(lc_amf0_str(v[0]), "@setDataFrame");
    assert_string_equal(lc_amf0_str(v[1]), "onMetaData");
    md = v[2];
    assert_int_equal(md->type, LC_AMF0_ECMA_ARRAY);
    assert_int_equal(md->len, 8);
    assert_true(lc_amf0_num(lc_amf0_get(md, "width"), 0) == 1280);
    assert_true(lc_amf0_num(lc_amf0_get(md, "height"), 0) == 720);
    assert_int_equal(lc_amf0_get(md, "stereo")->type, LC_AMF0_BOOLEAN);
    assert_string_equal(lc_amf0_str(lc_amf0_get(md, "encoder")), "Lavf59.27.100");

    /* forwarded metadata (onMetaData + array) re-encodes byte for byte */
    lc_amf0_buf_t f = { 0 };
    lc_amf0_put_value(&f, v[1]);
    lc_amf0_put_value(&f, v[2]);
    assert_int_equal(f.len, b.len - 16);
    assert_memory_equal(f.data, b.data + 16, f.len);
    lc_amf0_buf_free(&f);
    lc_amf0_free_all(v, 3);

    /* the ECMA count is a hint: a wrong one (0 here) still reads to the end */
    b.data[16 + 13 + 1] = 0;
    b.data[16 + 13 + 4] = 0;
    assert_int_equal(lc_amf0_decode_all(b.data, b.len, v, 4, NULL), 3);
    assert_int_equal(v[2]->len, 8);
    lc_amf0_free_all(v, 3);

    /* every cut of the array alone is an error */
    lc_amf0_t *arr = decode_checked(b.data + 29, b.len - 29);
    lc_amf0_free(arr);
    lc_amf0_buf_free(&b);
}

/* Raw bytes, for what the encoder API has no call for (strict arrays). */
static void append(lc_amf0_buf_t *b, const void *p, size_t n)
{
    b->data = realloc(b->data, b->len + n);
    assert_non_null(b->data);
    memcpy(b->data + b->len, p, n);
    b->len += n;
    b->cap = b->len;
}

static void nest(lc_amf0_buf_t *b, int depth, uint8_t kind)
{
    static const uint8_t strict1[5] = { LC_AMF0_STRICT_ARRAY, 0, 0, 0, 1 };

    for (int i = 0; i < depth; i++) {
        if (kind == LC_AMF0_OBJECT) {
            lc_amf0_put_object_start(b);
            lc_amf0_put_key(b, "k");
        } else if (kind == LC_AMF0_ECMA_ARRAY) {
            lc_amf0_put_ecma_start(b, 1);
            lc_amf0_put_key(b, "k");
        } else {
            append(b, strict1, sizeof strict1);
        }
    }
    lc_amf0_put_null(b);
    for (int i = 0; i < depth; i++)
        if (kind != LC_AMF0_STRICT_ARRAY)
            lc_amf0_put_object_end(b);
}

static void test_depth_limit(void **state)
{
    (void)state;
    const uint8_t kinds[] = { LC_AMF0_OBJECT, LC_AMF0_ECMA_ARRAY, LC_AMF0_STRICT_ARRAY };

    for (size_t k = 0; k < 3; k++) {
        lc_amf0_buf_t b = { 0 };
        lc_amf0_t *v = NULL;
        const char *err = NULL;

        nest(&b, LC_AMF0_MAX_DEPTH, kinds[k]);
        assert_int_equal(lc_amf0_decode(b.data, b.len, &v, &err), (int)b.len);
        lc_amf0_t *w = v;
        for (int d = 0; d < LC_AMF0_MAX_DEPTH; d++) {
            assert_int_equal(w->type, kinds[k]);
            w = w->vals[0];
        }
        assert_int_equal(w->type, LC_AMF0_NULL);
        lc_amf0_free(v);
        lc_amf0_buf_free(&b);

        nest(&b, LC_AMF0_MAX_DEPTH + 1, kinds[k]);
        assert_int_equal(lc_amf0_decode(b.data, b.len, &v, &err), -1);
        assert_null(v);
        assert_string_equal(err, "too deep");
        lc_amf0_buf_free(&b);
    }
}

static void expect_err(const uint8_t *buf, size_t len, const char *why)
{
    lc_amf0_t *v = NULL;
    const char *err = NULL;

    assert_int_equal(lc_amf0_decode(buf, len, &v, &err), -1);
    assert_null(v);
    assert_string_equal(err, why);
}

static void test_bad_input(void **state)
{
    (void)state;
    const uint8_t unknown[] = { 0x04, 0x07, 0x0d, 0x0e, 0x0f, 0x10, 0x11, 0x12, 0xff };

    for (size_t i = 0; i < sizeof unknown; i++)
        expect_err(&unknown[i], 1, "unknown marker");
    expect_err((const uint8_t *)"\x09", 1, "object end without object");
    /* an object end inside an array (no empty key in front of it) */
    expect_err((const uint8_t *)"\x0a\x00\x00\x00\x01\x09", 6, "object end without object");
    /* a non-empty key followed by the end marker */
    expect_err((const uint8_t *)"\x03\x00\x01k\x09", 5, "object end without object");
    expect_err((const uint8_t *)"", 0, "truncated");
    expect_err(NULL, 0, "truncated");
    /* a strict array claiming 4G members in 6 bytes: refused before allocating */
    expect_err((const uint8_t *)"\x0a\xff\xff\xff\xff\x05", 6, "truncated");
    /* long string longer than the input */
    expect_err((const uint8_t *)"\x0c\x7f\xff\xff\xff" "abc", 8, "truncated");

    /* LC_AMF0_MAX_VALUES nodes is fine, one more is not */
    size_t n = 5 + LC_AMF0_MAX_VALUES;
    uint8_t *buf = malloc(n);
    assert_non_null(buf);
    memset(buf, LC_AMF0_NULL, n);
    buf[0] = LC_AMF0_STRICT_ARRAY;
    uint32_t cnt = LC_AMF0_MAX_VALUES - 1;
    buf[1] = (uint8_t)(cnt >> 24), buf[2] = (uint8_t)(cnt >> 16);
    buf[3] = (uint8_t)(cnt >> 8), buf[4] = (uint8_t)cnt;
    lc_amf0_t *v = NULL;
    assert_int_equal(lc_amf0_decode(buf, n - 1, &v, NULL), (int)n - 1);
    assert_int_equal(v->len, cnt);
    lc_amf0_free(v);
    cnt++;
    buf[3] = (uint8_t)(cnt >> 8), buf[4] = (uint8_t)cnt;
    expect_err(buf, n, "too many values");
    free(buf);

    /* decode_all frees what it built when a later value fails */
    lc_amf0_t *vals[4] = { 0 };
    const char *err = NULL;
    assert_int_equal(lc_amf0_decode_all((const uint8_t *)"\x05\x05\x02\x00", 4, vals, 4, &err), -1);
    assert_string_equal(err, "truncated");
}

static void test_encoder_limits(void **state)
{
    (void)state;
    lc_amf0_buf_t b = { 0 };
    char *key = malloc(70000);

    assert_non_null(key);
    memset(key, 'k', 69999);
    key[69999] = '\0';
    lc_amf0_put_object_start(&b);
    lc_amf0_put_key(&b, key);       /* AMF0 keys are at most 65535 bytes */
    assert_true(b.failed);
    size_t len = b.len;
    lc_amf0_put_null(&b);           /* sticky: no-ops after a failure */
    assert_int_equal(b.len, len);
    lc_amf0_buf_free(&b);
    assert_null(b.data);
    assert_false(b.failed);
    free(key);

    lc_amf0_put_value(&b, NULL);
    assert_true(b.failed);
    lc_amf0_buf_free(&b);

    lc_amf0_put_bool(&b, 5);
    lc_amf0_put_null(&b);
    assert_int_equal(b.len, 3);
    assert_memory_equal(b.data, "\x01\x01\x05", 3);
    lc_amf0_buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_scalars_roundtrip),
        cmocka_unit_test(test_strings_roundtrip),
        cmocka_unit_test(test_containers_roundtrip),
        cmocka_unit_test(test_connect_command),
        cmocka_unit_test(test_ecma_metadata),
        cmocka_unit_test(test_depth_limit),
        cmocka_unit_test(test_bad_input),
        cmocka_unit_test(test_encoder_limits),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
