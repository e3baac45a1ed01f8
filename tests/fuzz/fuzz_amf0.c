/*
 * fuzz_amf0.c: libFuzzer target for src/common/rtmp/amf0.c.
 *
 * The input is read as a command or data message body: lc_amf0_decode_all()
 * then lc_amf0_decode() of the first value. Invariants checked besides "no
 * sanitizer report": each decoded value, re-encoded by lc_amf0_put_value(),
 * decodes to an equal tree in exactly the bytes written, and re-encoding
 * that gives the same bytes again (the encoder's output is canonical);
 * decode_all and decode agree on the first value; a failed decode hands
 * nothing out.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/rtmp/amf0.h"

#define MAX_VALUES 32

#define CHECK(x) do { if (!(x)) abort(); } while (0)

/* Keys compare as C strings: that is how they re-encode (see amf0.c). */
static int amf_equal(const lc_amf0_t *a, const lc_amf0_t *b)
{
    if (a->type != b->type || a->len != b->len)
        return 0;
    switch (a->type) {
    case LC_AMF0_NUMBER: case LC_AMF0_DATE: case LC_AMF0_BOOLEAN:
        return memcmp(&a->num, &b->num, sizeof a->num) == 0;
    case LC_AMF0_STRING:
        return a->str[a->len] == '\0' && memcmp(a->str, b->str, a->len + 1) == 0;
    case LC_AMF0_OBJECT: case LC_AMF0_ECMA_ARRAY: case LC_AMF0_STRICT_ARRAY:
        for (size_t i = 0; i < a->len; i++) {
            if (a->type != LC_AMF0_STRICT_ARRAY && strcmp(a->keys[i], b->keys[i]) != 0)
                return 0;
            if (!amf_equal(a->vals[i], b->vals[i]))
                return 0;
        }
        return 1;
    case LC_AMF0_NULL: case LC_AMF0_UNDEFINED:
        return 1;
    default:
        return 0;       /* no other type may come out of the decoder */
    }
}

static void check_value(const lc_amf0_t *v)
{
    lc_amf0_buf_t b1 = { 0 }, b2 = { 0 };
    lc_amf0_t *back = NULL;
    const char *err = NULL;

    lc_amf0_put_value(&b1, v);
    CHECK(!b1.failed);
    CHECK(lc_amf0_decode(b1.data, b1.len, &back, &err) == (int)b1.len);
    CHECK(amf_equal(v, back));
    lc_amf0_put_value(&b2, back);
    CHECK(!b2.failed && b2.len == b1.len && memcmp(b1.data, b2.data, b1.len) == 0);
    /* a few lookups, as the session does on connect/publish objects */
    if (v->type == LC_AMF0_OBJECT || v->type == LC_AMF0_ECMA_ARRAY) {
        for (size_t i = 0; i < v->len; i++)
            CHECK(lc_amf0_get(v, v->keys[i]) != NULL);
        (void)lc_amf0_str(lc_amf0_get(v, "app"));
        (void)lc_amf0_num(lc_amf0_get(v, "width"), 0);
    }
    lc_amf0_free(back);
    lc_amf0_buf_free(&b1);
    lc_amf0_buf_free(&b2);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    lc_amf0_t *v[MAX_VALUES];
    lc_amf0_t *one = (lc_amf0_t *)&one;
    const char *err = NULL;
    int n = lc_amf0_decode_all(data, size, v, MAX_VALUES, &err);
    int r1 = lc_amf0_decode(data, size, &one, &err);

    CHECK(n >= -1 && n <= MAX_VALUES);
    CHECK(n != 0 || size == 0);
    if (r1 < 0) {
        CHECK(one == NULL && err != NULL);
        CHECK(n == -1 || size == 0);
    } else {
        CHECK(r1 > 0 && (size_t)r1 <= size);
        if (n > 0)
            CHECK(amf_equal(one, v[0]));
        lc_amf0_free(one);
    }
    if (n < 0) {
        CHECK(err != NULL);
        return 0;
    }
    for (int i = 0; i < n; i++)
        check_value(v[i]);
    lc_amf0_free_all(v, n);
    return 0;
}
