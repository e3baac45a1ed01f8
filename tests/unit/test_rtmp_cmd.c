/*
 * test_rtmp_cmd.c: unit tests of src/common/rtmp/rtmp_cmd.c: commands
 * parsed (AMF0 and AMF3 framing, the salvage of name and transaction from
 * a body that does not decode), the builders of both roles read back by
 * the parser (what a client of ours would see from our server), the
 * stream name's query and its token, metadata and aggregate messages.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/rtmp/rtmp_cmd.h"

static const char *info_str(const lc_rtmp_cmd_t *c, const char *key)
{
    return lc_amf0_str(lc_amf0_get(lc_rtmp_cmd_info(c), key));
}

static void test_connect_roundtrip(void **state)
{
    lc_amf0_buf_t b = { 0 };
    lc_rtmp_cmd_t c;
    const char *err;
    (void)state;

    lc_rtmp_cmd_put_connect(&b, 1, "live", "rtmp://h/live");
    assert_false(b.failed);
    assert_int_equal(lc_rtmp_cmd_parse(LC_RTMP_COMMAND_AMF0, b.data, b.len, &c, &err), 0);
    assert_string_equal(c.name, "connect");
    assert_true(c.has_txn && c.txn == 1);
    assert_string_equal(lc_amf0_str(lc_amf0_get(c.obj, "app")), "live");
    assert_string_equal(lc_amf0_str(lc_amf0_get(c.obj, "tcUrl")), "rtmp://h/live");
    assert_int_equal(c.nargs, 0);
    assert_null(lc_rtmp_cmd_arg(&c, 0));
    lc_rtmp_cmd_free(&c);
    lc_amf0_buf_free(&b);
}

static void test_call_and_amf3(void **state)
{
    lc_amf0_buf_t b = { 0 };
    lc_rtmp_cmd_t c;
    const char *err;
    uint8_t *amf3;
    (void)state;

    lc_rtmp_cmd_put_call(&b, "publish", 4, "cam?token=x", "live");
    assert_int_equal(lc_rtmp_cmd_parse(LC_RTMP_COMMAND_AMF0, b.data, b.len, &c, &err), 0);
    assert_string_equal(c.name, "publish");
    assert_null(c.obj);                 /* AMF null */
    assert_int_equal(c.nargs, 2);
    assert_string_equal(lc_amf0_str(lc_rtmp_cmd_arg(&c, 0)), "cam?token=x");
    assert_string_equal(lc_amf0_str(lc_rtmp_cmd_arg(&c, 1)), "live");
    assert_null(lc_rtmp_cmd_info(&c));  /* a string, not an info object */
    lc_rtmp_cmd_free(&c);

    /* the same in an AMF3 command message: one format byte first */
    amf3 = malloc(b.len + 1);
    assert_non_null(amf3);
    amf3[0] = 0;
    memcpy(amf3 + 1, b.data, b.len);
    assert_int_equal(lc_rtmp_cmd_parse(LC_RTMP_COMMAND_AMF3, amf3, b.len + 1, &c, &err), 0);
    assert_string_equal(c.name, "publish");
    assert_int_equal(c.nargs, 2);
    lc_rtmp_cmd_free(&c);
    assert_int_equal(lc_rtmp_cmd_parse(LC_RTMP_COMMAND_AMF3, amf3, 0, &c, &err), -1);
    lc_rtmp_cmd_free(&c);
    assert_int_equal(lc_rtmp_cmd_parse(LC_RTMP_VIDEO, amf3, b.len + 1, &c, &err), -1);
    lc_rtmp_cmd_free(&c);
    free(amf3);
    lc_amf0_buf_free(&b);

    lc_rtmp_cmd_put_call(&b, "createStream", 2, NULL, "ignored");
    assert_int_equal(lc_rtmp_cmd_parse(LC_RTMP_COMMAND_AMF0, b.data, b.len, &c, &err), 0);
    assert_int_equal(c.nargs, 0);
    lc_rtmp_cmd_free(&c);
    lc_amf0_buf_free(&b);
}

/* What a client reads from our answers. */
static void test_builders_read_back(void **state)
{
    lc_amf0_buf_t b = { 0 };
    lc_rtmp_cmd_t c;
    const char *err;
    (void)state;

    lc_rtmp_cmd_put_status(&b, "error", "NetStream.Publish.BadName", "wrong token");
    assert_int_equal(lc_rtmp_cmd_parse(LC_RTMP_COMMAND_AMF0, b.data, b.len, &c, &err), 0);
    assert_string_equal(c.name, "onStatus");
    assert_true(c.txn == 0);
    assert_string_equal(info_str(&c, "level"), "error");
    assert_string_equal(info_str(&c, "code"), "NetStream.Publish.BadName");
    assert_string_equal(info_str(&c, "description"), "wrong token");
    lc_rtmp_cmd_free(&c);
    lc_amf0_buf_free(&b);

    lc_rtmp_cmd_put_error(&b, 7, "NetConnection.Call.Failed", "Protocol error: x");
    assert_int_equal(lc_rtmp_cmd_parse(LC_RTMP_COMMAND_AMF0, b.data, b.len, &c, &err), 0);
    assert_string_equal(c.name, "_error");
    assert_true(c.txn == 7);
    assert_string_equal(info_str(&c, "level"), "error");
    assert_string_equal(info_str(&c, "description"), "Protocol error: x");
    lc_rtmp_cmd_free(&c);
    lc_amf0_buf_free(&b);

    lc_rtmp_cmd_put_connect_result(&b, 1, 3);
    assert_int_equal(lc_rtmp_cmd_parse(LC_RTMP_COMMAND_AMF0, b.data, b.len, &c, &err), 0);
    assert_string_equal(c.name, "_result");
    assert_string_equal(lc_amf0_str(lc_amf0_get(c.obj, "fmsVer")), "FMS/3,0,1,123");
    assert_string_equal(info_str(&c, "code"), "NetConnection.Connect.Success");
    assert_true(lc_amf0_num(lc_amf0_get(lc_rtmp_cmd_info(&c), "objectEncoding"), -1) == 3);
    lc_rtmp_cmd_free(&c);
    lc_amf0_buf_free(&b);

    lc_rtmp_cmd_put_result(&b, 2, 1);
    assert_int_equal(lc_rtmp_cmd_parse(LC_RTMP_COMMAND_AMF0, b.data, b.len, &c, &err), 0);
    assert_true(lc_amf0_num(lc_rtmp_cmd_arg(&c, 0), -1) == 1);
    lc_rtmp_cmd_free(&c);
    lc_amf0_buf_free(&b);
    lc_rtmp_cmd_put_result(&b, 2, -1);
    assert_int_equal(lc_rtmp_cmd_parse(LC_RTMP_COMMAND_AMF0, b.data, b.len, &c, &err), 0);
    assert_int_equal(lc_rtmp_cmd_arg(&c, 0)->type, LC_AMF0_NULL);
    lc_rtmp_cmd_free(&c);
    lc_amf0_buf_free(&b);
}

static void test_bad_commands(void **state)
{
    lc_amf0_buf_t b = { 0 };
    lc_rtmp_cmd_t c;
    const char *err;
    (void)state;

    /* connect(5, {a: {a: ... 40 deep}}): too deep, but name and txn salvaged */
    lc_amf0_put_string(&b, "connect");
    lc_amf0_put_number(&b, 5);
    for (int i = 0; i < 40; i++) {
        lc_amf0_put_object_start(&b);
        lc_amf0_put_key(&b, "a");
    }
    lc_amf0_put_null(&b);
    for (int i = 0; i < 40; i++)
        lc_amf0_put_object_end(&b);
    assert_int_equal(lc_rtmp_cmd_parse(LC_RTMP_COMMAND_AMF0, b.data, b.len, &c, &err), -1);
    assert_string_equal(err, "too deep");
    assert_true(c.has_txn && c.txn == 5);
    assert_string_equal(c.name, "connect");
    lc_rtmp_cmd_free(&c);
    lc_amf0_buf_free(&b);

    /* a truncated name: nothing salvaged */
    static const uint8_t trunc[] = { 0x02, 0x00, 0x10, 'c', 'o' };
    assert_int_equal(lc_rtmp_cmd_parse(LC_RTMP_COMMAND_AMF0, trunc, sizeof trunc, &c, &err), -1);
    assert_false(c.has_txn);
    assert_null(c.name);
    lc_rtmp_cmd_free(&c);

    /* a name and no number */
    lc_amf0_put_string(&b, "play");
    lc_amf0_put_string(&b, "x");
    assert_int_equal(lc_rtmp_cmd_parse(LC_RTMP_COMMAND_AMF0, b.data, b.len, &c, &err), -1);
    assert_false(c.has_txn);
    assert_string_equal(c.name, "play");
    lc_rtmp_cmd_free(&c);
    lc_amf0_buf_free(&b);

    /* a number first */
    lc_amf0_put_number(&b, 1);
    lc_amf0_put_number(&b, 1);
    assert_int_equal(lc_rtmp_cmd_parse(LC_RTMP_COMMAND_AMF0, b.data, b.len, &c, &err), -1);
    assert_null(c.name);
    lc_rtmp_cmd_free(&c);
    lc_amf0_buf_free(&b);

    /* name and txn fine, then garbage */
    lc_amf0_put_string(&b, "publish");
    lc_amf0_put_number(&b, 3);
    lc_amf0_put_null(&b);
    b.data = realloc(b.data, b.len + 1);
    assert_non_null(b.data);
    b.data[b.len++] = 0x42;         /* no such AMF0 marker */
    assert_int_equal(lc_rtmp_cmd_parse(LC_RTMP_COMMAND_AMF0, b.data, b.len, &c, &err), -1);
    assert_string_equal(err, "unknown marker");
    assert_true(c.has_txn && c.txn == 3);
    lc_rtmp_cmd_free(&c);
    lc_amf0_buf_free(&b);
}

static int name_of(const char *arg, size_t len, char *name, char *token, int *has, const char **err)
{
    return lc_rtmp_cmd_stream_name(arg, len, name, 32, token, 16, has, err);
}

#define NAME(s, name, token, has, err) name_of(s, strlen(s), name, token, has, err)

static void test_stream_name(void **state)
{
    char name[32], token[16];
    int has;
    const char *err;
    (void)state;

    assert_int_equal(NAME("cam", name, token, &has, &err), 0);
    assert_string_equal(name, "cam");
    assert_false(has);
    assert_int_equal(NAME("cam?token=abc", name, token, &has, &err), 0);
    assert_string_equal(name, "cam");
    assert_true(has);
    assert_string_equal(token, "abc");
    assert_int_equal(NAME("cam?x=1&token=a%2Fb%3d&y", name, token, &has, &err), 0);
    assert_string_equal(token, "a/b=");
    assert_int_equal(NAME("cam?channel=c&uid=7", name, token, &has, &err), 0);
    assert_false(has);
    assert_int_equal(NAME("cam?tokenx=1&xtoken=2", name, token, &has, &err), 0);
    assert_false(has);
    assert_int_equal(NAME("cam?", name, token, &has, &err), 0);
    assert_false(has);
    assert_int_equal(NAME("cam?token", name, token, &has, &err), 0);
    assert_true(has);
    assert_string_equal(token, "");
    assert_int_equal(NAME("a/b.c-d_e", name, token, &has, &err), 0);
    assert_string_equal(name, "a/b.c-d_e");

    assert_int_equal(NAME("cam?token=a&token=a", name, token, &has, &err), -1);
    assert_non_null(strstr(err, "twice"));
    assert_int_equal(NAME("cam?token=%zz", name, token, &has, &err), -1);
    assert_non_null(strstr(err, "percent"));
    assert_int_equal(NAME("cam?token=ab%4", name, token, &has, &err), -1);
    assert_int_equal(NAME("cam?token=ab%", name, token, &has, &err), -1);
    assert_int_equal(NAME("cam?token=a%00b", name, token, &has, &err), -1);
    assert_non_null(strstr(err, "NUL"));
    assert_int_equal(NAME("cam?token=0123456789abcdef", name, token, &has, &err), -1);
    assert_non_null(strstr(err, "too long"));
    assert_int_equal(NAME("cam?token=0123456789abcde", name, token, &has, &err), 0);  /* 15 + NUL fits */
    assert_int_equal(NAME("?token=x", name, token, &has, &err), -1);
    assert_non_null(strstr(err, "empty"));
    assert_int_equal(NAME("", name, token, &has, &err), -1);
    assert_int_equal(NAME("0123456789012345678901234567890123", name, token, &has, &err), -1);
    assert_non_null(strstr(err, "too long"));
    assert_int_equal(NAME("ca\x01m", name, token, &has, &err), -1);
    assert_int_equal(name_of("ca\0m", 4, name, token, &has, &err), -1);  /* an AMF string may hold NUL */
    assert_non_null(strstr(err, "control"));
    assert_int_equal(lc_rtmp_cmd_stream_name(NULL, 5, name, 32, token, 16, &has, &err), -1);
}

static void test_metadata(void **state)
{
    lc_amf0_buf_t in = { 0 }, out = { 0 }, want = { 0 };
    const char *err;
    (void)state;

    lc_amf0_put_string(&in, "@setDataFrame");
    lc_amf0_put_string(&want, "onMetaData");
    lc_amf0_put_ecma_start(&want, 1);
    lc_amf0_put_key(&want, "width");
    lc_amf0_put_number(&want, 320);
    lc_amf0_put_object_end(&want);
    in.data = realloc(in.data, in.len + want.len);
    assert_non_null(in.data);
    memcpy(in.data + in.len, want.data, want.len);
    in.len += want.len;
    assert_int_equal(lc_rtmp_cmd_metadata(in.data, in.len, &out, &err), 1);
    assert_int_equal(out.len, want.len);
    assert_memory_equal(out.data, want.data, want.len);
    lc_amf0_buf_free(&out);
    /* onMetaData without @setDataFrame: forwarded as it is */
    assert_int_equal(lc_rtmp_cmd_metadata(want.data, want.len, &out, &err), 1);
    assert_memory_equal(out.data, want.data, want.len);
    lc_amf0_buf_free(&out);
    lc_amf0_buf_free(&in);

    lc_amf0_put_string(&in, "|RtmpSampleAccess");
    lc_amf0_put_bool(&in, 1);
    assert_int_equal(lc_rtmp_cmd_metadata(in.data, in.len, &out, &err), 0);
    assert_int_equal(out.len, 0);
    lc_amf0_buf_free(&out);
    lc_amf0_buf_free(&in);
    lc_amf0_put_string(&in, "@setDataFrame");
    assert_int_equal(lc_rtmp_cmd_metadata(in.data, in.len, &out, &err), 0);
    lc_amf0_buf_free(&in);
    assert_int_equal(lc_rtmp_cmd_metadata((const uint8_t *)"\x02\x00\x09onMeta", 9, &out, &err), -1);
    lc_amf0_buf_free(&out);
    lc_amf0_buf_free(&want);
}

static size_t tag(uint8_t *p, uint8_t type, uint32_t ts, const char *body)
{
    uint32_t n = (uint32_t)strlen(body);

    p[0] = type;
    p[1] = (uint8_t)(n >> 16);
    p[2] = (uint8_t)(n >> 8);
    p[3] = (uint8_t)n;
    p[4] = (uint8_t)(ts >> 16);
    p[5] = (uint8_t)(ts >> 8);
    p[6] = (uint8_t)ts;
    p[7] = (uint8_t)(ts >> 24);
    memset(p + 8, 0, 3);
    memcpy(p + 11, body, n);
    memset(p + 11 + n, 0, 4);       /* previous tag size: not checked */
    return 11 + n + 4;
}

static void test_aggregate(void **state)
{
    uint8_t buf[256];
    size_t n = 0;
    lc_rtmp_msg_t m = { .csid = 6, .type = LC_RTMP_AGGREGATE, .timestamp = 5000, .stream_id = 1 }, sub;
    lc_rtmp_cmd_aggregate_t it;
    const char *err;
    (void)state;

    n += tag(buf + n, LC_RTMP_VIDEO, 0x01000010, "video!");
    n += tag(buf + n, LC_RTMP_AUDIO, 0x01000024, "aud");
    memset(buf + n, 0xee, 5);       /* padding shorter than a tag header */
    n += 5;
    m.payload = buf;
    m.len = (uint32_t)n;
    lc_rtmp_cmd_aggregate_init(&it, &m);
    assert_int_equal(lc_rtmp_cmd_aggregate_next(&it, &sub, &err), 1);
    assert_int_equal(sub.type, LC_RTMP_VIDEO);
    assert_int_equal(sub.timestamp, 5000);
    assert_int_equal(sub.len, 6);
    assert_int_equal(sub.csid, 6);
    assert_int_equal(sub.stream_id, 1);
    assert_memory_equal(sub.payload, "video!", 6);
    assert_int_equal(lc_rtmp_cmd_aggregate_next(&it, &sub, &err), 1);
    assert_int_equal(sub.type, LC_RTMP_AUDIO);
    assert_int_equal(sub.timestamp, 5020);
    assert_memory_equal(sub.payload, "aud", 3);
    assert_int_equal(lc_rtmp_cmd_aggregate_next(&it, &sub, &err), 0);

    /* a tag whose size runs past the message (its trailer cut off) */
    m.len = (uint32_t)(11 + 6 + 3);
    lc_rtmp_cmd_aggregate_init(&it, &m);
    assert_int_equal(lc_rtmp_cmd_aggregate_next(&it, &sub, &err), -1);
    assert_non_null(strstr(err, "bad FLV tag length"));
    m.len = 0;
    lc_rtmp_cmd_aggregate_init(&it, &m);
    assert_int_equal(lc_rtmp_cmd_aggregate_next(&it, &sub, &err), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_connect_roundtrip),
        cmocka_unit_test(test_call_and_amf3),
        cmocka_unit_test(test_builders_read_back),
        cmocka_unit_test(test_bad_commands),
        cmocka_unit_test(test_stream_name),
        cmocka_unit_test(test_metadata),
        cmocka_unit_test(test_aggregate),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
