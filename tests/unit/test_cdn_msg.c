/*
 * test_cdn_msg.c: unit tests of src/common/cdn/cdn_msg.c.
 *
 * Every message type built and parsed back, every required field removed
 * in turn, every field given the wrong type, the size limits on both sides
 * of the edge, and the binary frame header. Invariant checked throughout:
 * what the builder writes parses to an equal message, and a failed parse
 * leaves nothing to free and an error that names the field.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/cdn/cdn_msg.h"

static int parse(const char *json, size_t len, lc_cdn_msg_t *m, char *err, size_t errlen)
{
    err[0] = '\0';
    return lc_cdn_msg_parse(json, len, m, err, errlen);
}

static void parse_ok(const char *json, lc_cdn_msg_t *m)
{
    char err[256];
    if (parse(json, strlen(json), m, err, sizeof(err)) != 0)
        fail_msg("parse of %s failed: %s", json, err);
}

static void expect_err_len(const char *json, size_t len, const char *want)
{
    lc_cdn_msg_t m;
    char err[256];

    memset(&m, 0x5a, sizeof(m));
    assert_int_equal(parse(json, len, &m, err, sizeof(err)), -1);
    if (!strstr(err, want))
        fail_msg("error \"%s\" lacks \"%s\" (input %.200s)", err, want, json);
    /* nothing left to free */
    assert_null(m.nodes);
    assert_null(m.streams);
    assert_int_equal(m.nnodes, 0);
    assert_int_equal(m.nstreams, 0);
}

static void expect_err(const char *json, const char *want)
{
    expect_err_len(json, strlen(json), want);
}

static void assert_msg_equal(const lc_cdn_msg_t *a, const lc_cdn_msg_t *b)
{
    assert_int_equal(a->type, b->type);
    assert_string_equal(a->node, b->node);
    assert_int_equal(a->role, b->role);
    assert_true(a->serial == b->serial);
    assert_string_equal(a->stream, b->stream);
    assert_string_equal(a->reason, b->reason);
    assert_int_equal(a->nnodes, b->nnodes);
    assert_int_equal(a->nstreams, b->nstreams);
    for (size_t i = 0; i < a->nnodes; i++) {
        assert_string_equal(a->nodes[i].addr, b->nodes[i].addr);
        assert_int_equal(a->nodes[i].role, b->nodes[i].role);
    }
    for (size_t i = 0; i < a->nstreams; i++) {
        assert_string_equal(a->streams[i].name, b->streams[i].name);
        assert_int_equal(a->streams[i].fetched, b->streams[i].fetched);
    }
}

/* Build `in`, parse it back into *out (caller frees), compare. */
static void roundtrip(const lc_cdn_msg_t *in, lc_cdn_msg_t *out)
{
    size_t len = 0;
    char err[256];
    char *json = lc_cdn_msg_build(in, &len);

    assert_non_null(json);
    assert_int_equal(strlen(json), len);
    if (parse(json, len, out, err, sizeof(err)) != 0)
        fail_msg("reparse of %.300s failed: %s", json, err);
    free(json);
    assert_int_equal(out->version, LC_CDN_PROTO_VERSION);
    assert_msg_equal(in, out);
}

static void test_roundtrip_each_type(void **state)
{
    (void)state;
    lc_cdn_msg_t in[] = {
        { .type = LC_CDN_HELLO, .node = "10.0.0.1:8443", .role = LC_CDN_ROLE_ORIGIN },
        { .type = LC_CDN_HELLO, .node = "[::1]:8443", .role = LC_CDN_ROLE_EDGE },
        { .type = LC_CDN_STATE, .node = "10.0.0.1:8443", .role = LC_CDN_ROLE_EDGE, .serial = 42 },
        { .type = LC_CDN_KEEPALIVE, .node = "10.0.0.2:8443", .serial = 7 },
        { .type = LC_CDN_RESYNC, .node = "10.0.0.3:8443" },
        { .type = LC_CDN_BYE, .node = "10.0.0.4:8443" },
        { .type = LC_CDN_PULL, .node = "10.0.0.5:8443", .stream = "live/cam" },
        { .type = LC_CDN_PULL_OK, .stream = "live/cam" },
        { .type = LC_CDN_EOS, .stream = "live/cam", .reason = "publisher left" },
        { .type = LC_CDN_EOS, .stream = "x", .reason = "" },
        { .type = LC_CDN_ERROR, .reason = "version 2 != 1" },
    };
    for (size_t i = 0; i < sizeof(in) / sizeof(in[0]); i++) {
        lc_cdn_msg_t out;
        roundtrip(&in[i], &out);
        lc_cdn_msg_free(&out);
    }
}

static void test_build_shape(void **state)
{
    (void)state;
    lc_cdn_msg_t m = { .type = LC_CDN_PULL, .node = "1.2.3.4:5", .stream = "a", .serial = 9, .role = 1 };
    size_t len;
    char *json = lc_cdn_msg_build(&m, &len);

    /* only the fields a type carries are written */
    assert_string_equal(json, "{\"type\":\"pull\",\"version\":1,\"node\":\"1.2.3.4:5\",\"stream\":\"a\"}");
    free(json);

    /* an unknown type has nothing to write */
    m.type = 0;
    assert_null(lc_cdn_msg_build(&m, &len));
    m.type = 1000; /* past every type, whichever are added */
    assert_null(lc_cdn_msg_build(&m, &len));
}

static void test_state_lists(void **state)
{
    (void)state;
    lc_cdn_peer_t nodes[] = {
        { "10.0.0.1:8443", LC_CDN_ROLE_ORIGIN },
        { "10.0.0.2:8443", LC_CDN_ROLE_EDGE },
        { "[2001:db8::1]:8443", LC_CDN_ROLE_ORIGIN },
    };
    lc_cdn_stream_ref_t streams[] = { { "live/a", 0, 0, 0 }, { "live/b", 1, 0, 0 }, { "x", 0, 0, 0 } };
    lc_cdn_msg_t in = { .type = LC_CDN_STATE, .node = "10.0.0.1:8443", .role = LC_CDN_ROLE_ORIGIN,
                        .serial = 3, .nodes = nodes, .nnodes = 3, .streams = streams, .nstreams = 3 };
    lc_cdn_msg_t out;

    roundtrip(&in, &out);
    lc_cdn_msg_free(&out);
    assert_null(out.nodes);

    /* empty lists */
    in.nnodes = in.nstreams = 0;
    roundtrip(&in, &out);
    assert_null(out.nodes);
    assert_null(out.streams);
    lc_cdn_msg_free(&out);

    /* by hand, fields in any order, unknown ones in the entries too */
    parse_ok("{\"streams\":[{\"fetched\":true,\"name\":\"s\",\"bitrate\":5}],\"serial\":0,"
             "\"nodes\":[{\"role\":\"edge\",\"node\":\"n:1\",\"x\":[1,{}]}],"
             "\"role\":\"origin\",\"node\":\"me:1\",\"version\":1,\"type\":\"state\"}",
             &out);
    assert_int_equal(out.type, LC_CDN_STATE);
    assert_int_equal(out.nnodes, 1);
    assert_string_equal(out.nodes[0].addr, "n:1");
    assert_int_equal(out.nodes[0].role, LC_CDN_ROLE_EDGE);
    assert_int_equal(out.nstreams, 1);
    assert_string_equal(out.streams[0].name, "s");
    assert_int_equal(out.streams[0].fetched, 1);
    assert_true(out.serial == 0);
    lc_cdn_msg_free(&out);
    lc_cdn_msg_free(&out); /* twice is harmless */
}

static void test_escapes_roundtrip(void **state)
{
    (void)state;
    lc_cdn_msg_t in = { .type = LC_CDN_EOS };
    lc_cdn_msg_t out;

    snprintf(in.stream, sizeof(in.stream), "%s", "q\"b\\s/t\tn\nc\x01\x1f\x7f \xc3\xa9\xe2\x82\xac\xf0\x9f\x8e\xa5");
    snprintf(in.reason, sizeof(in.reason), "%s", "</script>\"\\\b\f\r");
    roundtrip(&in, &out);
    lc_cdn_msg_free(&out);

    /* JSON escapes decode */
    parse_ok("{\"type\":\"pull_ok\",\"version\":1,\"stream\":\"a\\u00e9\\/\\\"\\\\\\n\\ud83c\\udfa5\"}", &out);
    assert_string_equal(out.stream, "a\xc3\xa9/\"\\\n\xf0\x9f\x8e\xa5");
    lc_cdn_msg_free(&out);

    /* an escaped backslash followed by "u0000" is not a NUL */
    parse_ok("{\"type\":\"pull_ok\",\"version\":1,\"stream\":\"a\\\\u0000\"}", &out);
    assert_string_equal(out.stream, "a\\u0000");
}

static void test_serial(void **state)
{
    (void)state;
    lc_cdn_msg_t in = { .type = LC_CDN_KEEPALIVE, .node = "n:1" };
    lc_cdn_msg_t out;
    const uint64_t serials[] = { 0, 1, INT64_MAX, (uint64_t)INT64_MAX + 1, UINT64_MAX };

    for (size_t i = 0; i < sizeof(serials) / sizeof(serials[0]); i++) {
        in.serial = serials[i];
        roundtrip(&in, &out);
        lc_cdn_msg_free(&out);
    }
    parse_ok("{\"type\":\"keepalive\",\"version\":1,\"node\":\"n:1\",\"serial\":18446744073709551615}", &out);
    assert_true(out.serial == UINT64_MAX);

    const char *bad[] = { "-1", "18446744073709551616", "99999999999999999999999", "1.5", "1e3", "1.0",
                          "\"3\"", "true", "null", "[]", "{}", "-0" };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char json[256];
        snprintf(json, sizeof(json), "{\"type\":\"keepalive\",\"version\":1,\"node\":\"n:1\",\"serial\":%s}", bad[i]);
        expect_err(json, "\"serial\" must be a non-negative integer");
        snprintf(json, sizeof(json),
                 "{\"type\":\"state\",\"version\":1,\"node\":\"n:1\",\"role\":\"edge\",\"serial\":%s,"
                 "\"nodes\":[],\"streams\":[]}",
                 bad[i]);
        expect_err(json, "\"serial\" must be a non-negative integer");
    }
}

static void test_version(void **state)
{
    (void)state;
    lc_cdn_msg_t m;
    const struct { const char *v; int want; } ok[] = {
        { "1", 1 }, { "7", 7 }, { "0", 0 }, { "-3", -3 }, { "2147483647", 2147483647 },
        { "-2147483648", -2147483647 - 1 },
    };
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        char json[128];
        snprintf(json, sizeof(json), "{\"type\":\"bye\",\"version\":%s,\"node\":\"n:1\"}", ok[i].v);
        parse_ok(json, &m);
        assert_int_equal(m.version, ok[i].want);
        assert_int_equal(m.type, LC_CDN_BYE);
        lc_cdn_msg_free(&m);
    }
    const char *bad[] = { "\"1\"", "1.0", "1e0", "2147483648", "-2147483649", "99999999999999999999", "null",
                          "true", "[1]" };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char json[128];
        snprintf(json, sizeof(json), "{\"type\":\"bye\",\"version\":%s,\"node\":\"n:1\"}", bad[i]);
        expect_err(json, "\"version\" must be an integer");
    }
    expect_err("{\"type\":\"bye\",\"node\":\"n:1\"}", "\"version\" missing in bye");
    expect_err("{\"type\":\"error\",\"reason\":\"x\"}", "\"version\" missing in error");
}

/* Each type with all its required fields; each is dropped in turn. */
static const struct {
    const char *type;
    const char *fields[6][2];
} full[] = {
    { "hello", { { "node", "\"a:1\"" }, { "role", "\"origin\"" } } },
    { "state",
      { { "node", "\"a:1\"" }, { "role", "\"edge\"" }, { "serial", "5" },
        { "nodes", "[{\"node\":\"b:2\",\"role\":\"origin\"}]" }, { "streams", "[{\"name\":\"s\",\"fetched\":false}]" } } },
    { "keepalive", { { "node", "\"a:1\"" }, { "serial", "5" } } },
    { "resync", { { "node", "\"a:1\"" } } },
    { "bye", { { "node", "\"a:1\"" } } },
    { "pull", { { "node", "\"a:1\"" }, { "stream", "\"live/x\"" } } },
    { "pull_ok", { { "stream", "\"live/x\"" } } },
    { "eos", { { "stream", "\"live/x\"" }, { "reason", "\"gone\"" } } },
    { "error", { { "reason", "\"bad\"" } } },
};
#define NFULL (sizeof(full) / sizeof(full[0]))

/* JSON of full[t] without field `skip` (-1: none) and with field
 * `replace` given `value`. */
static void make_json(char *out, size_t cap, size_t t, int skip, int replace, const char *value)
{
    size_t n = (size_t)snprintf(out, cap, "{\"type\":\"%s\",\"version\":1", full[t].type);
    for (int i = 0; i < 6 && full[t].fields[i][0]; i++) {
        if (i == skip)
            continue;
        n += (size_t)snprintf(out + n, cap - n, ",\"%s\":%s", full[t].fields[i][0],
                              i == replace ? value : full[t].fields[i][1]);
    }
    snprintf(out + n, cap - n, "}");
    assert_true(n + 1 < cap);
}

static void test_required_fields(void **state)
{
    (void)state;
    char json[512], want[64];
    lc_cdn_msg_t m;

    for (size_t t = 0; t < NFULL; t++) {
        make_json(json, sizeof(json), t, -1, -1, NULL);
        parse_ok(json, &m);
        assert_int_equal(m.type, (int)t + 1);
        assert_int_equal(m.version, 1);
        lc_cdn_msg_free(&m);
        for (int i = 0; i < 6 && full[t].fields[i][0]; i++) {
            make_json(json, sizeof(json), t, i, -1, NULL);
            snprintf(want, sizeof(want), "\"%s\" missing in %s", full[t].fields[i][0], full[t].type);
            expect_err(json, want);
        }
    }

    /* the fields of list entries */
    expect_err("{\"type\":\"state\",\"version\":1,\"node\":\"a:1\",\"role\":\"edge\",\"serial\":1,"
               "\"nodes\":[{\"node\":\"b:1\",\"role\":\"edge\"},{\"role\":\"edge\"}],\"streams\":[]}",
               "\"node\" missing in nodes[1]");
    expect_err("{\"type\":\"state\",\"version\":1,\"node\":\"a:1\",\"role\":\"edge\",\"serial\":1,"
               "\"nodes\":[{\"node\":\"b:1\"}],\"streams\":[]}",
               "\"role\" missing in nodes[0]");
    expect_err("{\"type\":\"state\",\"version\":1,\"node\":\"a:1\",\"role\":\"edge\",\"serial\":1,"
               "\"nodes\":[],\"streams\":[{\"fetched\":true}]}",
               "\"name\" missing in streams[0]");
    expect_err("{\"type\":\"state\",\"version\":1,\"node\":\"a:1\",\"role\":\"edge\",\"serial\":1,"
               "\"nodes\":[],\"streams\":[{\"name\":\"a\",\"fetched\":true},{\"name\":\"b\"}]}",
               "\"fetched\" missing in streams[1]");
}

static void test_wrong_types(void **state)
{
    (void)state;
    static const struct { const char *type, *field, *value, *want; } cases[] = {
        { "hello", "node", "5", "\"node\" must be a string" },
        { "hello", "node", "null", "\"node\" must be a string" },
        { "hello", "node", "\"\"", "\"node\" must not be empty" },
        { "hello", "role", "\"master\"", "\"role\" must be \"origin\" or \"edge\"" },
        { "hello", "role", "\"Origin\"", "\"role\" must be \"origin\" or \"edge\"" },
        { "hello", "role", "1", "\"role\" must be a string" },
        { "state", "nodes", "{}", "\"nodes\" must be an array" },
        { "state", "nodes", "null", "\"nodes\" must be an array" },
        { "state", "streams", "\"s\"", "\"streams\" must be an array" },
        { "state", "nodes", "[\"b:2\"]", "nodes[0] must be an object" },
        { "state", "streams", "[{\"name\":\"s\",\"fetched\":false},[]]", "streams[1] must be an object" },
        { "state", "nodes", "[{\"node\":3,\"role\":\"edge\"}]", "\"node\" must be a string in nodes[0]" },
        { "state", "nodes", "[{\"node\":\"\",\"role\":\"edge\"}]", "\"node\" must not be empty in nodes[0]" },
        { "state", "nodes", "[{\"node\":\"b:2\",\"role\":\"relay\"}]",
          "\"role\" must be \"origin\" or \"edge\" in nodes[0]" },
        { "state", "streams", "[{\"name\":\"s\",\"fetched\":1}]", "\"fetched\" must be a boolean in streams[0]" },
        { "state", "streams", "[{\"name\":\"s\",\"fetched\":\"true\"}]", "\"fetched\" must be a boolean in streams[0]" },
        { "state", "streams", "[{\"name\":\"\",\"fetched\":true}]", "\"name\" must not be empty in streams[0]" },
        { "state", "streams", "[{\"name\":[],\"fetched\":true}]", "\"name\" must be a string in streams[0]" },
        { "pull", "stream", "\"\"", "\"stream\" must not be empty" },
        { "pull", "stream", "{}", "\"stream\" must be a string" },
        { "pull_ok", "stream", "false", "\"stream\" must be a string" },
        { "eos", "reason", "3", "\"reason\" must be a string" },
        { "error", "reason", "null", "\"reason\" must be a string" },
    };
    char json[512];

    for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
        size_t t;
        int f = -1;
        for (t = 0; t < NFULL && strcmp(full[t].type, cases[c].type) != 0; t++)
            ;
        assert_true(t < NFULL);
        for (int i = 0; i < 6 && full[t].fields[i][0]; i++)
            if (strcmp(full[t].fields[i][0], cases[c].field) == 0)
                f = i;
        assert_true(f >= 0);
        make_json(json, sizeof(json), t, -1, f, cases[c].value);
        expect_err(json, cases[c].want);
    }
}

static void test_envelope_errors(void **state)
{
    (void)state;
    expect_err("", "Bad JSON");
    expect_err("{", "Bad JSON");
    expect_err("{\"type\":\"bye\",\"version\":1,\"node\":\"a:1\"", "Bad JSON");
    expect_err("{\"type\":\"bye\",\"version\":1,\"node\":\"a:1\"} {}", "Bad JSON");
    expect_err("{'type':'bye'}", "Bad JSON");
    expect_err("[]", "must be an object");
    expect_err("\"hello\"", "must be an object");
    expect_err("3", "must be an object");
    expect_err("null", "must be an object");
    expect_err("{}", "\"type\" missing");
    expect_err("{\"version\":1,\"node\":\"a:1\"}", "\"type\" missing");
    expect_err("{\"type\":3,\"version\":1}", "\"type\" must be a string");
    expect_err("{\"type\":null,\"version\":1}", "\"type\" must be a string");
    expect_err("{\"type\":\"welcome\",\"version\":1}", "unknown \"type\" \"welcome\"");
    expect_err("{\"type\":\"HELLO\",\"version\":1}", "unknown \"type\"");
    expect_err("{\"type\":\"\",\"version\":1}", "unknown \"type\"");
    expect_err("{\"type\":\"a\\nb\\\"c\xc3\xa9\",\"version\":1}", "unknown \"type\" \"a?b?c??\"");
    /* comments are not JSON, though yajl_tree_parse would take them */
    expect_err("{\"type\":\"bye\",\"version\":1,\"node\":\"a:1\"} /* hi */", "comments");
    expect_err("// x\n{\"type\":\"bye\",\"version\":1,\"node\":\"a:1\"}", "comments");
    /* invalid UTF-8 in a string */
    expect_err("{\"type\":\"pull_ok\",\"version\":1,\"stream\":\"\xc3\"}", "Bad JSON");

    /* a NULL error buffer is tolerated */
    lc_cdn_msg_t m;
    assert_int_equal(lc_cdn_msg_parse("{}", 2, &m, NULL, 0), -1);
}

static void test_unknown_fields_ignored(void **state)
{
    (void)state;
    lc_cdn_msg_t m;

    parse_ok("{\"type\":\"pull_ok\",\"version\":1,\"stream\":\"s\",\"node\":\"ignored:1\",\"serial\":-5,"
             "\"role\":\"nope\",\"reason\":3,\"nodes\":7,\"extra\":{\"deep\":[[[{\"a\":null}]]]},\"f\":1.5e300}",
             &m);
    assert_int_equal(m.type, LC_CDN_PULL_OK);
    assert_string_equal(m.stream, "s");
    /* fields the type does not carry are not filled in */
    assert_string_equal(m.node, "");
    assert_int_equal(m.role, 0);
    assert_true(m.serial == 0);
    assert_string_equal(m.reason, "");
    assert_null(m.nodes);
    lc_cdn_msg_free(&m);

    /* a duplicate key: the first one counts */
    parse_ok("{\"type\":\"bye\",\"version\":1,\"node\":\"a:1\",\"node\":\"b:2\"}", &m);
    assert_string_equal(m.node, "a:1");
}

static void test_name_lengths(void **state)
{
    (void)state;
    char addr[LC_CDN_ADDR_MAX + 1], name[LC_STREAM_NAME_MAX + 1], json[1024];
    lc_cdn_msg_t m;

    /* node: LC_CDN_ADDR_MAX - 1 fits, LC_CDN_ADDR_MAX does not */
    memset(addr, 'a', sizeof(addr));
    addr[LC_CDN_ADDR_MAX - 1] = '\0';
    snprintf(json, sizeof(json), "{\"type\":\"resync\",\"version\":1,\"node\":\"%s\"}", addr);
    parse_ok(json, &m);
    assert_int_equal(strlen(m.node), LC_CDN_ADDR_MAX - 1);
    addr[LC_CDN_ADDR_MAX - 1] = 'a';
    addr[LC_CDN_ADDR_MAX] = '\0';
    snprintf(json, sizeof(json), "{\"type\":\"resync\",\"version\":1,\"node\":\"%s\"}", addr);
    expect_err(json, "\"node\" is longer than 63 bytes");
    snprintf(json, sizeof(json),
             "{\"type\":\"state\",\"version\":1,\"node\":\"a:1\",\"role\":\"edge\",\"serial\":1,"
             "\"nodes\":[{\"node\":\"%s\",\"role\":\"edge\"}],\"streams\":[]}",
             addr);
    expect_err(json, "\"node\" is longer than 63 bytes in nodes[0]");

    /* stream: LC_STREAM_NAME_MAX - 1 fits, LC_STREAM_NAME_MAX does not */
    memset(name, 'n', sizeof(name));
    name[LC_STREAM_NAME_MAX - 1] = '\0';
    lc_cdn_msg_t in = { .type = LC_CDN_PULL, .node = "a:1" }, out;
    memcpy(in.stream, name, LC_STREAM_NAME_MAX);
    roundtrip(&in, &out);
    assert_int_equal(strlen(out.stream), LC_STREAM_NAME_MAX - 1);
    name[LC_STREAM_NAME_MAX - 1] = 'n';
    name[LC_STREAM_NAME_MAX] = '\0';
    snprintf(json, sizeof(json), "{\"type\":\"pull\",\"version\":1,\"node\":\"a:1\",\"stream\":\"%s\"}", name);
    expect_err(json, "\"stream\" is longer than 255 bytes");
    snprintf(json, sizeof(json),
             "{\"type\":\"state\",\"version\":1,\"node\":\"a:1\",\"role\":\"edge\",\"serial\":1,"
             "\"nodes\":[],\"streams\":[{\"name\":\"ok\",\"fetched\":true},{\"name\":\"%s\",\"fetched\":true}]}",
             name);
    expect_err(json, "\"name\" is longer than 255 bytes in streams[1]");

    /* a length counts bytes after unescaping: 200 "\u00e9" are 400 bytes */
    size_t n = (size_t)snprintf(json, sizeof(json), "{\"type\":\"pull_ok\",\"version\":1,\"stream\":\"");
    char *big = malloc(8192);
    assert_non_null(big);
    memcpy(big, json, n);
    for (int i = 0; i < 200; i++)
        n += (size_t)sprintf(big + n, "\\u00e9");
    sprintf(big + n, "\"}");
    expect_err(big, "\"stream\" is longer than 255 bytes");
    free(big);
}

static void test_reason_truncated(void **state)
{
    (void)state;
    char *json = malloc(8192);
    lc_cdn_msg_t m, out;
    assert_non_null(json);

    /* ASCII: cut to LC_CDN_REASON_MAX - 1 */
    size_t n = (size_t)sprintf(json, "{\"type\":\"error\",\"version\":1,\"reason\":\"");
    memset(json + n, 'r', 1000);
    strcpy(json + n + 1000, "\"}");
    parse_ok(json, &m);
    assert_int_equal(strlen(m.reason), LC_CDN_REASON_MAX - 1);
    assert_int_equal(m.reason[0], 'r');
    roundtrip(&m, &out);

    /* multi-byte UTF-8 across the cut: never half a character */
    const char *chars[] = { "\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x8e\xa5" };
    for (size_t c = 0; c < 3; c++) {
        for (size_t lead = 0; lead < 4; lead++) {
            n = (size_t)sprintf(json, "{\"type\":\"eos\",\"version\":1,\"stream\":\"s\",\"reason\":\"");
            for (size_t i = 0; i < lead; i++)
                json[n++] = 'x';
            for (int i = 0; i < 300; i++)
                n += (size_t)sprintf(json + n, "%s", chars[c]);
            strcpy(json + n, "\"}");
            parse_ok(json, &m);
            size_t len = strlen(m.reason), clen = strlen(chars[c]);
            assert_true(len <= LC_CDN_REASON_MAX - 1);
            assert_true(len > LC_CDN_REASON_MAX - 1 - clen);
            assert_int_equal((len - lead) % clen, 0);
            roundtrip(&m, &out);
        }
    }
    free(json);
}

static void test_list_lengths(void **state)
{
    (void)state;
    lc_cdn_msg_t in = { .type = LC_CDN_STATE, .node = "a:1", .role = LC_CDN_ROLE_ORIGIN, .serial = 99 };
    lc_cdn_msg_t out;
    char err[256];
    size_t len;

    in.nodes = calloc(LC_CDN_LIST_MAX + 1, sizeof(*in.nodes));
    in.streams = calloc(LC_CDN_LIST_MAX + 1, sizeof(*in.streams));
    assert_non_null(in.nodes);
    assert_non_null(in.streams);
    for (size_t i = 0; i <= LC_CDN_LIST_MAX; i++) {
        snprintf(in.nodes[i].addr, sizeof(in.nodes[i].addr), "10.%zu.%zu.1:8443", i / 256, i % 256);
        in.nodes[i].role = i % 2 ? LC_CDN_ROLE_EDGE : LC_CDN_ROLE_ORIGIN;
        snprintf(in.streams[i].name, sizeof(in.streams[i].name), "live/%zu", i);
        in.streams[i].fetched = i % 3 == 0;
    }

    /* LC_CDN_LIST_MAX of each fits */
    in.nnodes = in.nstreams = LC_CDN_LIST_MAX;
    roundtrip(&in, &out);
    lc_cdn_msg_free(&out);

    /* one more does not, in either list */
    in.nnodes = LC_CDN_LIST_MAX + 1;
    char *json = lc_cdn_msg_build(&in, &len);
    assert_non_null(json);
    assert_int_equal(parse(json, len, &out, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "\"nodes\" has more than 4096 entries"));
    free(json);

    in.nnodes = 1;
    in.nstreams = LC_CDN_LIST_MAX + 1;
    json = lc_cdn_msg_build(&in, &len);
    assert_non_null(json);
    expect_err_len(json, len, "\"streams\" has more than 4096 entries");
    free(json);

    /* an error late in a long list frees what was copied */
    in.nnodes = in.nstreams = 100;
    in.streams[99].name[0] = '\0';
    json = lc_cdn_msg_build(&in, &len);
    assert_non_null(json);
    expect_err_len(json, len, "\"name\" must not be empty in streams[99]");
    free(json);

    free(in.nodes);
    free(in.streams);
}

static void test_nul_bytes(void **state)
{
    (void)state;
    const char good[] = "{\"type\":\"bye\",\"version\":1,\"node\":\"a:1\"}";
    char buf[128];
    lc_cdn_msg_t m;
    char err[256];

    /* a NUL after a whole message, inside it, and inside a string */
    memcpy(buf, good, sizeof(good));
    expect_err_len(buf, sizeof(good), "NUL byte");
    buf[10] = '\0';
    expect_err_len(buf, sizeof(good) - 1, "NUL byte");
    const char in_str[] = "{\"type\":\"bye\",\"version\":1,\"node\":\"a\0:1\"}";
    expect_err_len(in_str, sizeof(in_str) - 1, "NUL byte");

    /* the text need not be NUL-terminated: len is what counts */
    memcpy(buf, good, sizeof(good) - 1);
    buf[sizeof(good) - 1] = '}';
    assert_int_equal(parse(buf, sizeof(good) - 1, &m, err, sizeof(err)), 0);
    assert_string_equal(m.node, "a:1");

    /* an escaped NUL would cut the name short without a word: refused */
    expect_err("{\"type\":\"pull_ok\",\"version\":1,\"stream\":\"live\\u0000/secret\"}", "\\u0000");
    expect_err("{\"type\":\"bye\",\"version\":1,\"node\":\"a:1\",\"x\":\"\\u0000\"}", "\\u0000");
    expect_err("{\"type\":\"error\",\"version\":1,\"reason\":\"\\\\\\u0000\"}", "\\u0000");
}

static void test_size_and_depth(void **state)
{
    (void)state;
    const char good[] = "{\"type\":\"bye\",\"version\":1,\"node\":\"a:1\"}";
    char *buf = malloc(LC_CDN_MSG_MAX + 2);
    lc_cdn_msg_t m;
    char err[256];
    assert_non_null(buf);

    /* exactly LC_CDN_MSG_MAX bytes (padded with spaces) parses */
    memset(buf, ' ', LC_CDN_MSG_MAX + 1);
    memcpy(buf, good, sizeof(good) - 1);
    assert_int_equal(parse(buf, LC_CDN_MSG_MAX, &m, err, sizeof(err)), 0);
    assert_string_equal(m.node, "a:1");
    expect_err_len(buf, LC_CDN_MSG_MAX + 1, "larger than");

    /* deep nesting is refused before yajl (whose tree free recurses) sees it */
    size_t depth = LC_CDN_MSG_MAX / 2;
    memset(buf, '[', depth);
    memset(buf + depth, ']', depth);
    expect_err_len(buf, 2 * depth, "nested deeper");
    char deep[256];
    for (int levels = 31; levels <= 32; levels++) {
        /* the message object is one level, "x" adds `levels` more */
        int n = snprintf(deep, sizeof(deep), "{\"type\":\"bye\",\"version\":1,\"node\":\"a:1\",\"x\":");
        for (int i = 0; i < levels; i++)
            n += sprintf(deep + n, "%s", i % 2 ? "[" : "{\"k\":");
        deep[n++] = '0';
        for (int i = levels - 1; i >= 0; i--)
            deep[n++] = i % 2 ? ']' : '}';
        strcpy(deep + n, "}");
        if (levels == 31)
            parse_ok(deep, &m); /* 32 levels fit */
        else
            expect_err(deep, "nested deeper than 32");
    }

    /* brackets in strings are not nesting */
    memset(buf, 0, 1024);
    int n = snprintf(buf, 1024, "{\"type\":\"pull_ok\",\"version\":1,\"stream\":\"");
    memset(buf + n, '[', 200);
    strcpy(buf + n + 200, "{\\\"\"}");
    parse_ok(buf, &m);
    assert_int_equal(strlen(m.stream), 202);
    free(buf);
}

/* A stream's codecs ride along when known, so an edge can answer a WebRTC
 * offer for a stream it has not pulled yet. */
static void test_stream_codecs(void **state)
{
    (void)state;
    lc_cdn_stream_ref_t st[2] = { { .name = "a", .vcodec = 1, .acodec = 21 }, { .name = "b", .fetched = 1 } };
    lc_cdn_msg_t m = { .type = LC_CDN_STATE, .node = "10.0.0.1:8084", .role = LC_CDN_ROLE_ORIGIN, .serial = 3,
                       .streams = st, .nstreams = 2 };
    size_t len;
    char *text = lc_cdn_msg_build(&m, &len);
    assert_non_null(text);
    lc_cdn_msg_t back;
    parse_ok(text, &back);
    assert_int_equal(back.nstreams, 2);
    assert_int_equal(back.streams[0].vcodec, 1);
    assert_int_equal(back.streams[0].acodec, 21);
    assert_int_equal(back.streams[1].vcodec, 0);
    assert_int_equal(back.streams[1].acodec, 0);
    assert_null(strstr(strstr(text, "\"b\""), "codec")); /* unknown codecs are left out */
    lc_cdn_msg_free(&back);
    free(text);
    expect_err("{\"type\":\"state\",\"version\":1,\"node\":\"1.2.3.4:1\",\"role\":\"origin\",\"serial\":1,"
               "\"nodes\":[],\"streams\":[{\"name\":\"a\",\"fetched\":false,\"vcodec\":300}]}",
               "vcodec");
}

static void test_role_name(void **state)
{
    (void)state;
    assert_string_equal(lc_cdn_role_name(LC_CDN_ROLE_ORIGIN), "origin");
    assert_string_equal(lc_cdn_role_name(LC_CDN_ROLE_EDGE), "edge");
    assert_string_equal(lc_cdn_role_name(0), "?");
    assert_string_equal(lc_cdn_role_name(3), "?");
    assert_string_equal(lc_cdn_role_name(-1), "?");
}

static void test_frame_vector(void **state)
{
    (void)state;
    lc_frame_t f = { .stream_id = 77, .codec = 7, .flags = LC_FRAME_KEY | LC_FRAME_CONFIG, .track = 0,
                     .len = 0x01020304, .ts = 0x1122334455667788 };
    uint8_t h[LC_CDN_FRAME_HEADER];
    const uint8_t want[] = { 1, 0, 3, 7, 0x01, 0x02, 0x03, 0x04, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88 };

    lc_cdn_frame_header(h, &f);
    assert_memory_equal(h, want, sizeof(want));

    f.ts = -1;
    f.len = 0;
    lc_cdn_frame_header(h, &f);
    for (int i = 8; i < 16; i++)
        assert_int_equal(h[i], 0xff);
    assert_int_equal(h[4] | h[5] | h[6] | h[7], 0);
}

static void test_frame_roundtrip(void **state)
{
    (void)state;
    const int64_t ts[] = { 0, 1, -1, 40000, -40000, INT64_MAX, INT64_MIN, INT64_MIN + 1, (int64_t)1 << 32,
                           -((int64_t)1 << 32) };
    const uint8_t flags[] = { 0, LC_FRAME_KEY, LC_FRAME_CONFIG, LC_FRAME_META,
                              LC_FRAME_KEY | LC_FRAME_CONFIG | LC_FRAME_META };
    uint8_t buf[LC_CDN_FRAME_HEADER + 64];

    for (size_t i = 0; i < sizeof(ts) / sizeof(ts[0]); i++)
        for (uint16_t track = 0; track <= 2; track++)
            for (size_t fl = 0; fl < sizeof(flags); fl++) {
                uint32_t plen = (uint32_t)((i * 7 + fl) % 64);
                lc_frame_t in = { .stream_id = 12345, .codec = (uint8_t)(i * 31 + fl), .flags = flags[fl],
                                  .track = track, .len = plen, .ts = ts[i] };
                lc_frame_t out;
                const uint8_t *payload = NULL;
                const char *err = NULL;

                memset(&out, 0xa5, sizeof(out));
                lc_cdn_frame_header(buf, &in);
                memset(buf + LC_CDN_FRAME_HEADER, (int)i, plen);
                assert_int_equal(lc_cdn_frame_parse(buf, LC_CDN_FRAME_HEADER + plen, &out, &payload, &err), 0);
                assert_int_equal(out.stream_id, 0);
                assert_int_equal(out.codec, in.codec);
                assert_int_equal(out.flags, in.flags);
                assert_int_equal(out.track, in.track);
                assert_int_equal(out.len, plen);
                assert_true(out.ts == in.ts);
                assert_ptr_equal(payload, buf + LC_CDN_FRAME_HEADER);
            }
}

static void expect_frame_err(const uint8_t *buf, size_t len, const char *want)
{
    lc_frame_t f;
    const uint8_t *payload = NULL;
    const char *err = NULL;

    assert_int_equal(lc_cdn_frame_parse(buf, len, &f, &payload, &err), -1);
    assert_non_null(err);
    if (!strstr(err, want))
        fail_msg("frame error \"%s\" lacks \"%s\"", err, want);
    assert_null(payload);
    /* a NULL err is tolerated */
    assert_int_equal(lc_cdn_frame_parse(buf, len, &f, &payload, NULL), -1);
}

static void test_frame_errors(void **state)
{
    (void)state;
    lc_frame_t f = { .codec = 1, .flags = LC_FRAME_KEY, .track = 1, .len = 4, .ts = -5 };
    uint8_t buf[LC_CDN_FRAME_HEADER + 8] = { 0 };

    lc_cdn_frame_header(buf, &f);
    /* every short prefix of the header */
    for (size_t i = 0; i < LC_CDN_FRAME_HEADER; i++)
        expect_frame_err(buf, i, "short header");
    expect_frame_err(NULL, 0, "short header");

    /* the length must match exactly: payload short, long, or absent */
    expect_frame_err(buf, LC_CDN_FRAME_HEADER + 3, "length mismatch");
    expect_frame_err(buf, LC_CDN_FRAME_HEADER + 5, "length mismatch");
    expect_frame_err(buf, LC_CDN_FRAME_HEADER, "length mismatch");
    buf[4] = 0x80; /* 2 GiB + 4 */
    expect_frame_err(buf, LC_CDN_FRAME_HEADER + 4, "length mismatch");
    buf[4] = 0;

    buf[0] = 0;
    expect_frame_err(buf, LC_CDN_FRAME_HEADER + 4, "bad version");
    buf[0] = 2;
    expect_frame_err(buf, LC_CDN_FRAME_HEADER + 4, "bad version");
    buf[0] = 1;

    buf[1] = 3;
    expect_frame_err(buf, LC_CDN_FRAME_HEADER + 4, "unknown track");
    buf[1] = 255;
    expect_frame_err(buf, LC_CDN_FRAME_HEADER + 4, "unknown track");
    buf[1] = 2;

    const uint8_t bad_flags[] = { LC_FRAME_EOS, LC_FRAME_PAD, 16, 32, 64, LC_FRAME_KEY | LC_FRAME_EOS, 0xff };
    for (size_t i = 0; i < sizeof(bad_flags); i++) {
        buf[2] = bad_flags[i];
        expect_frame_err(buf, LC_CDN_FRAME_HEADER + 4, "flags");
    }
    buf[2] = LC_FRAME_META;

    lc_frame_t out;
    const uint8_t *payload;
    assert_int_equal(lc_cdn_frame_parse(buf, LC_CDN_FRAME_HEADER + 4, &out, &payload, NULL), 0);
    assert_int_equal(out.track, 2);
    assert_int_equal(out.flags, LC_FRAME_META);
    assert_true(out.ts == -5);
}

/* The hello's proof of cdn.secret (cdn_hello.h): optional hex, exact length. */
static void test_hello_auth_fields(void **state)
{
    (void)state;
    lc_cdn_msg_t m, again;
    char err[256];
    size_t len;
    parse_ok("{\"type\":\"hello\",\"version\":1,\"node\":\"a:1\",\"role\":\"edge\","
             "\"nonce\":\"000102030405060708090A0B0C0D0E0F\"}", &m);
    assert_true(m.has_nonce);
    assert_false(m.has_proof);
    assert_int_equal(m.nonce[10], 10);
    m.has_proof = 1;
    memset(m.proof, 0xab, sizeof(m.proof));
    char *json = lc_cdn_msg_build(&m, &len);
    assert_non_null(strstr(json, "\"nonce\":\"000102030405060708090a0b0c0d0e0f\""));
    assert_non_null(strstr(json, "\"proof\":\"abababab"));
    assert_int_equal(parse(json, len, &again, err, sizeof(err)), 0);
    assert_true(again.has_nonce && again.has_proof);
    assert_memory_equal(again.nonce, m.nonce, sizeof(m.nonce));
    assert_memory_equal(again.proof, m.proof, sizeof(m.proof));
    free(json);
    /* a hello without them has neither */
    parse_ok("{\"type\":\"hello\",\"version\":1,\"node\":\"a:1\",\"role\":\"edge\"}", &m);
    assert_false(m.has_nonce || m.has_proof);
    expect_err("{\"type\":\"hello\",\"version\":1,\"node\":\"a:1\",\"role\":\"edge\",\"nonce\":\"00\"}",
                   "\"nonce\" must be a string of 32 hex digits");
    expect_err("{\"type\":\"hello\",\"version\":1,\"node\":\"a:1\",\"role\":\"edge\",\"nonce\":7}",
                   "\"nonce\" must be a string of 32 hex digits");
    expect_err("{\"type\":\"hello\",\"version\":1,\"node\":\"a:1\",\"role\":\"edge\",\"proof\":"
                   "\"zz00000000000000000000000000000000000000000000000000000000000000\"}",
                   "\"proof\" must be a string of 64 hex digits");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_roundtrip_each_type),
        cmocka_unit_test(test_stream_codecs),
        cmocka_unit_test(test_build_shape),
        cmocka_unit_test(test_state_lists),
        cmocka_unit_test(test_escapes_roundtrip),
        cmocka_unit_test(test_serial),
        cmocka_unit_test(test_version),
        cmocka_unit_test(test_required_fields),
        cmocka_unit_test(test_wrong_types),
        cmocka_unit_test(test_envelope_errors),
        cmocka_unit_test(test_unknown_fields_ignored),
        cmocka_unit_test(test_name_lengths),
        cmocka_unit_test(test_reason_truncated),
        cmocka_unit_test(test_list_lengths),
        cmocka_unit_test(test_nul_bytes),
        cmocka_unit_test(test_size_and_depth),
        cmocka_unit_test(test_role_name),
        cmocka_unit_test(test_frame_vector),
        cmocka_unit_test(test_frame_roundtrip),
        cmocka_unit_test(test_frame_errors),
        cmocka_unit_test(test_hello_auth_fields),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
