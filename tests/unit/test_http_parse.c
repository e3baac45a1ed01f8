/*
 * test_http_parse.c: unit tests of src/common/http/http_parse.c.
 *
 * Covers every accepted form and every error of lc_http_parse_request(),
 * incremental feeding, and the two header helpers. Invariant checked
 * throughout: a buffer gives the same answer however it was split, and a
 * prefix of a valid head always asks for more bytes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/http/http_parse.h"

#define MAX_HEAD 8192

static int parse(const char *s, lc_http_request_t *req, const char **err)
{
    return lc_http_parse_request(s, strlen(s), MAX_HEAD, req, err);
}

/* The string s must fail with rc, and say why. */
static void expect_error(const char *s, int rc)
{
    lc_http_request_t req;
    const char *err = NULL;

    int got = parse(s, &req, &err);
    if (got != rc)
        print_error("input: \"%s\" gave %d, expected %d\n", s, got, rc);
    assert_int_equal(got, rc);
    assert_non_null(err);
    assert_true(strlen(err) > 0);
}

static void expect_bad(const char *s)
{
    expect_error(s, LC_HTTP_EBAD);
}

static int mem_is(const char *p, size_t n, const char *s)
{
    return n == strlen(s) && memcmp(p, s, n) == 0;
}

static void test_simple_get(void **state)
{
    (void)state;
    const char *s = "GET /live/cam?token=x HTTP/1.1\r\nHost: example.com\r\n"
                    "Connection: keep-alive\r\n\r\n";
    lc_http_request_t req;
    const char *err = "unset";

    assert_int_equal(parse(s, &req, &err), (int)strlen(s));
    assert_null(err);
    assert_true(mem_is(req.method, req.method_len, "GET"));
    assert_true(mem_is(req.target, req.target_len, "/live/cam?token=x"));
    assert_int_equal(req.version_minor, 1);
    assert_int_equal(req.nheaders, 2);
    assert_true(mem_is(req.headers[0].name, req.headers[0].name_len, "Host"));
    assert_true(mem_is(req.headers[0].value, req.headers[0].value_len, "example.com"));
    assert_true(mem_is(req.headers[1].name, req.headers[1].name_len, "Connection"));
    assert_true(mem_is(req.headers[1].value, req.headers[1].value_len, "keep-alive"));
    assert_int_equal(req.head_len, strlen(s));
    assert_int_equal(req.content_length, -1);
    /* Pointers point into the buffer, not into a copy. */
    assert_ptr_equal(req.method, s);
    assert_true(req.headers[1].value > s && req.headers[1].value < s + strlen(s));
}

static void test_http10_without_host(void **state)
{
    (void)state;
    lc_http_request_t req;
    const char *s = "GET / HTTP/1.0\r\n\r\n";

    assert_int_equal(parse(s, &req, NULL), (int)strlen(s));
    assert_int_equal(req.version_minor, 0);
    assert_int_equal(req.nheaders, 0);
}

static void test_bare_lf_and_mixed(void **state)
{
    (void)state;
    lc_http_request_t req;
    const char *lf = "GET / HTTP/1.1\nHost: a\n\n";
    const char *mixed1 = "GET / HTTP/1.1\r\nHost: a\n\r\n";
    const char *mixed2 = "GET / HTTP/1.1\nHost: a\r\n\n";

    assert_int_equal(parse(lf, &req, NULL), (int)strlen(lf));
    assert_true(mem_is(req.headers[0].value, req.headers[0].value_len, "a"));
    assert_int_equal(parse(mixed1, &req, NULL), (int)strlen(mixed1));
    assert_int_equal(parse(mixed2, &req, NULL), (int)strlen(mixed2));
    assert_true(mem_is(req.headers[0].value, req.headers[0].value_len, "a"));
}

static void test_leading_empty_lines(void **state)
{
    (void)state;
    lc_http_request_t req;
    const char *s = "\r\n\n\r\nGET / HTTP/1.0\r\n\r\n";

    assert_int_equal(parse(s, &req, NULL), (int)strlen(s));
    assert_ptr_equal(req.method, s + 5);
    assert_int_equal(req.head_len, strlen(s));
}

static void test_body_not_part_of_head(void **state)
{
    (void)state;
    lc_http_request_t req;
    const char *head = "POST /whip/live HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\n";
    char buf[256];

    snprintf(buf, sizeof buf, "%shelloGET / HTTP/1.1\r\n\r\n", head);
    assert_int_equal(parse(buf, &req, NULL), (int)strlen(head));
    assert_int_equal(req.content_length, 5);
    assert_int_equal(req.head_len, strlen(head));
}

static void test_content_length_values(void **state)
{
    (void)state;
    lc_http_request_t req;

    assert_true(parse("PUT / HTTP/1.0\r\nContent-Length: 0\r\n\r\n", &req, NULL) > 0);
    assert_int_equal(req.content_length, 0);
    assert_true(parse("PUT / HTTP/1.0\r\ncontent-length:007\r\n\r\n", &req, NULL) > 0);
    assert_int_equal(req.content_length, 7);
    assert_true(parse("PUT / HTTP/1.0\r\nContent-Length: 9223372036854775807\r\n\r\n",
                      &req, NULL) > 0);
    assert_int_equal(req.content_length, 9223372036854775807LL);
}

static void test_ows_and_empty_values(void **state)
{
    (void)state;
    lc_http_request_t req;
    const char *s = "GET / HTTP/1.1\r\nHost:h\r\nX-A: \t spaced  out \t\r\nX-Empty:\r\n"
                    "X-Blank:   \r\nX-Obs: caf\xc3\xa9\r\n\r\n";

    assert_int_equal(parse(s, &req, NULL), (int)strlen(s));
    assert_int_equal(req.nheaders, 5);
    assert_true(mem_is(req.headers[0].value, req.headers[0].value_len, "h"));
    assert_true(mem_is(req.headers[1].value, req.headers[1].value_len, "spaced  out"));
    assert_int_equal(req.headers[2].value_len, 0);
    assert_int_equal(req.headers[3].value_len, 0);
    assert_true(mem_is(req.headers[4].value, req.headers[4].value_len, "caf\xc3\xa9"));
}

static void test_target_forms(void **state)
{
    (void)state;
    lc_http_request_t req;

    assert_true(parse("OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n", &req, NULL) > 0);
    assert_true(mem_is(req.target, req.target_len, "*"));
    assert_true(parse("GET http://h:8080/a?b=c#d HTTP/1.1\r\nHost: h\r\n\r\n", &req, NULL) > 0);
    assert_true(mem_is(req.target, req.target_len, "http://h:8080/a?b=c#d"));
    assert_true(parse("CONNECT h:443 HTTP/1.1\r\nHost: h:443\r\n\r\n", &req, NULL) > 0);
    /* Bytes >= 0x80 are tolerated in the target (see is_target_char). */
    assert_true(parse("GET /\xc3\xa9 HTTP/1.1\r\nHost: h\r\n\r\n", &req, NULL) > 0);
    /* Methods are tokens; their meaning is the caller's business. */
    assert_true(parse("M-SEARCH! / HTTP/1.1\r\nHost: h\r\n\r\n", &req, NULL) > 0);
    assert_true(mem_is(req.method, req.method_len, "M-SEARCH!"));
}

static void test_incremental_byte_by_byte(void **state)
{
    (void)state;
    const char *s = "\r\nPOST /rest-api/stream/list HTTP/1.1\r\nHost: localhost:8080\n"
                    "Content-Type: application/json\r\nContent-Length: 2\r\n\r\n{}";
    size_t head = strlen(s) - 2;
    lc_http_request_t req;
    const char *err = "unset";

    for (size_t i = 0; i < head; i++) {
        assert_int_equal(lc_http_parse_request(s, i, MAX_HEAD, &req, &err), 0);
        assert_null(err);
    }
    for (size_t i = head; i <= strlen(s); i++) {
        assert_int_equal(lc_http_parse_request(s, i, MAX_HEAD, &req, &err), (int)head);
        assert_int_equal(req.content_length, 2);
        assert_int_equal(req.nheaders, 3);
    }
}

static void test_incremental_error_is_stable(void **state)
{
    (void)state;
    /* Until the head is complete the parser only asks for more; then it
     * gives the error, whatever the split. */
    const char *s = "GET / HTTP/1.1\r\nHost: a\r\nBad Name: x\r\n\r\n";
    lc_http_request_t req;

    for (size_t i = 0; i < strlen(s); i++)
        assert_int_equal(lc_http_parse_request(s, i, MAX_HEAD, &req, NULL), 0);
    assert_int_equal(lc_http_parse_request(s, strlen(s), MAX_HEAD, &req, NULL), LC_HTTP_EBAD);
}

static void test_find_header(void **state)
{
    (void)state;
    lc_http_request_t req;
    const char *s = "GET /ws HTTP/1.1\r\nHost: h\r\nUPGRADE: websocket\r\n"
                    "sec-websocket-key: dGhlIHNhbXBsZSBub25jZQ==\r\nX-Dup: 1\r\nX-Dup: 2\r\n\r\n";
    const lc_http_header_t *h;

    assert_true(parse(s, &req, NULL) > 0);
    h = lc_http_find_header(&req, "Upgrade");
    assert_non_null(h);
    assert_true(mem_is(h->value, h->value_len, "websocket"));
    h = lc_http_find_header(&req, "Sec-WebSocket-Key");
    assert_non_null(h);
    assert_true(mem_is(h->value, h->value_len, "dGhlIHNhbXBsZSBub25jZQ=="));
    h = lc_http_find_header(&req, "x-dup");
    assert_non_null(h);
    assert_true(mem_is(h->value, h->value_len, "1"));
    assert_null(lc_http_find_header(&req, "Connection"));
    assert_null(lc_http_find_header(&req, "Hos"));
    assert_null(lc_http_find_header(&req, "Hostx"));
}

static void test_has_token(void **state)
{
    (void)state;
    lc_http_request_t req;
    const char *s = "GET / HTTP/1.1\r\nHost: h\r\nConnection: keep-alive, Upgrade\r\n"
                    "X-List: ,, a ,\tb\t,\r\nX-One: close\r\nX-Empty:\r\n\r\n";
    const lc_http_header_t *c, *l, *o, *e;

    assert_true(parse(s, &req, NULL) > 0);
    c = lc_http_find_header(&req, "connection");
    l = lc_http_find_header(&req, "x-list");
    o = lc_http_find_header(&req, "x-one");
    e = lc_http_find_header(&req, "x-empty");
    assert_true(lc_http_header_has_token(c, "upgrade"));
    assert_true(lc_http_header_has_token(c, "Keep-Alive"));
    assert_false(lc_http_header_has_token(c, "keep"));
    assert_false(lc_http_header_has_token(c, "alive"));
    assert_false(lc_http_header_has_token(c, "keep-alive, Upgrade"));
    assert_false(lc_http_header_has_token(c, "close"));
    assert_false(lc_http_header_has_token(c, ""));
    assert_true(lc_http_header_has_token(l, "a"));
    assert_true(lc_http_header_has_token(l, "B"));
    assert_false(lc_http_header_has_token(l, "c"));
    assert_true(lc_http_header_has_token(o, "close"));
    assert_false(lc_http_header_has_token(e, "close"));
    assert_false(lc_http_header_has_token(NULL, "close"));
}

static void test_bad_request_line(void **state)
{
    (void)state;
    expect_bad(" / HTTP/1.1\r\nHost: h\r\n\r\n");          /* empty method */
    expect_bad("GE(T / HTTP/1.1\r\nHost: h\r\n\r\n");      /* not a token */
    expect_bad("GET\t/ HTTP/1.1\r\nHost: h\r\n\r\n");      /* HTAB, not SP */
    expect_bad("GET  / HTTP/1.1\r\nHost: h\r\n\r\n");      /* two SP */
    expect_bad("GET / HTTP/1.1 \r\nHost: h\r\n\r\n");      /* trailing SP */
    expect_bad("GET /  HTTP/1.1\r\nHost: h\r\n\r\n");
    expect_bad("GET\r\nHost: h\r\n\r\n");
    expect_bad("GET /\r\nHost: h\r\n\r\n");                /* HTTP/0.9 */
    expect_bad("GET / \r\nHost: h\r\n\r\n");
    expect_bad("GET /a\x01 HTTP/1.1\r\nHost: h\r\n\r\n");  /* CTL in target */
    expect_bad("GET /a\x7f HTTP/1.1\r\nHost: h\r\n\r\n");  /* DEL in target */
    expect_bad("GET /a\tb HTTP/1.1\r\nHost: h\r\n\r\n");
    expect_bad("GET /a\rb HTTP/1.1\r\nHost: h\r\n\r\n");   /* bare CR */
    expect_bad("GET / HTTP/1.1\r\r\nHost: h\r\n\r\n");
    expect_bad("\rGET / HTTP/1.1\r\nHost: h\r\n\r\n");
    expect_bad("\x16\x03\x01\x02\x10\x01\x10\x01\xfc\x03\x03\n\n");  /* TLS on plain */
}

static void test_bad_version(void **state)
{
    (void)state;
    expect_bad("GET / http/1.1\r\nHost: h\r\n\r\n");
    expect_bad("GET / HTTP/1.\r\nHost: h\r\n\r\n");
    expect_bad("GET / HTTP/1\r\nHost: h\r\n\r\n");
    expect_bad("GET / HTTP/1.10\r\nHost: h\r\n\r\n");
    expect_bad("GET / HTTP/11\r\nHost: h\r\n\r\n");
    expect_bad("GET / HTTP/x.1\r\nHost: h\r\n\r\n");
    expect_bad("GET / HTTPS/1.1\r\nHost: h\r\n\r\n");
    expect_bad("GET / HTTP/1.1x\r\nHost: h\r\n\r\n");
    expect_bad("GET / HTTP/2\r\nHost: h\r\n\r\n");  /* not HTTP/DIGIT.DIGIT */
    expect_bad("GET / HTTP/3\r\nHost: h\r\n\r\n");
}

static void test_unsupported_version(void **state)
{
    (void)state;
    expect_error("GET / HTTP/2.0\r\nHost: h\r\n\r\n", LC_HTTP_EUNSUPPORTED);
    expect_error("GET / HTTP/1.2\r\nHost: h\r\n\r\n", LC_HTTP_EUNSUPPORTED);
    expect_error("GET / HTTP/0.9\r\n\r\n", LC_HTTP_EUNSUPPORTED);
    /* The HTTP/2 connection preface. */
    expect_error("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", LC_HTTP_EUNSUPPORTED);
}

static void test_bad_header_lines(void **state)
{
    (void)state;
    expect_bad("GET / HTTP/1.1\r\nHost : h\r\n\r\n");          /* SP before colon */
    expect_bad("GET / HTTP/1.1\r\nHost\t: h\r\n\r\n");
    expect_bad("GET / HTTP/1.1\r\nHost: h\r\n: x\r\n\r\n");    /* empty name */
    expect_bad("GET / HTTP/1.1\r\nHost: h\r\nNoColon\r\n\r\n");
    expect_bad("GET / HTTP/1.1\r\nHost: h\r\nX(y): z\r\n\r\n");
    expect_bad("GET / HTTP/1.1\r\nHost: h\r\nX-A: 1\r\n continued\r\n\r\n");  /* obs-fold */
    expect_bad("GET / HTTP/1.1\r\nHost: h\r\nX-A: 1\r\n\tcontinued\r\n\r\n");
    expect_bad("GET / HTTP/1.1\r\n Host: h\r\n\r\n");
    lc_http_request_t req;
    const char *err = NULL;
    assert_int_equal(parse("GET / HTTP/1.1\r\nHost: h\r\n\tx\r\n\r\n", &req, &err),
                     LC_HTTP_EBAD);
    assert_string_equal(err, "obsolete line folding");
    expect_bad("GET / HTTP/1.1\r\nHost: h\r\nX-A: a\rb\r\n\r\n");  /* bare CR */
    expect_bad("GET / HTTP/1.1\r\nHost: h\r\nX-A: a\x7f\r\n\r\n");
    expect_bad("GET / HTTP/1.1\r\nHost: h\r\nX-A: a\x1b[0m\r\n\r\n");
    expect_bad("GET / HTTP/1.1\r\nHost: h\r\nX-A: a\r\r\n\r\n");

    /* A NUL cannot go through a C string literal: build it. */
    char nul[] = "GET / HTTP/1.1\r\nHost: h\r\nX-A: a?b\r\n\r\n";
    *strchr(nul, '?') = '\0';
    assert_int_equal(lc_http_parse_request(nul, sizeof nul - 1, MAX_HEAD, &req, NULL),
                     LC_HTTP_EBAD);
}

static void test_bad_content_length(void **state)
{
    (void)state;
    expect_bad("POST / HTTP/1.0\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\n");
    expect_bad("POST / HTTP/1.0\r\nContent-Length: 1\r\ncontent-length: 2\r\n\r\n");
    expect_bad("POST / HTTP/1.0\r\nContent-Length:\r\n\r\n");
    expect_bad("POST / HTTP/1.0\r\nContent-Length: abc\r\n\r\n");
    expect_bad("POST / HTTP/1.0\r\nContent-Length: -1\r\n\r\n");
    expect_bad("POST / HTTP/1.0\r\nContent-Length: +1\r\n\r\n");
    expect_bad("POST / HTTP/1.0\r\nContent-Length: 1 2\r\n\r\n");
    expect_bad("POST / HTTP/1.0\r\nContent-Length: 1,1\r\n\r\n");
    expect_bad("POST / HTTP/1.0\r\nContent-Length: 0x10\r\n\r\n");
    expect_bad("POST / HTTP/1.0\r\nContent-Length: 9223372036854775808\r\n\r\n");
    expect_bad("POST / HTTP/1.0\r\nContent-Length: 99999999999999999999999\r\n\r\n");
}

static void test_transfer_encoding(void **state)
{
    (void)state;
    expect_error("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n",
                 LC_HTTP_EUNSUPPORTED);
    expect_error("POST / HTTP/1.1\r\nHost: h\r\ntransfer-encoding: gzip, Chunked\r\n\r\n",
                 LC_HTTP_EUNSUPPORTED);
    expect_error("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n"
                 "Transfer-Encoding: chunked\r\n\r\n", LC_HTTP_EUNSUPPORTED);
    expect_bad("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip\r\n\r\n");
    expect_bad("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunkedx\r\n\r\n");
    expect_bad("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding:\r\n\r\n");
}

static void test_host_rules(void **state)
{
    (void)state;
    expect_bad("GET / HTTP/1.1\r\n\r\n");
    expect_bad("GET / HTTP/1.1\r\nX-Host: h\r\n\r\n");
    expect_bad("GET / HTTP/1.1\r\nHost: a\r\nhost: b\r\n\r\n");
    expect_bad("GET / HTTP/1.0\r\nHost: a\r\nHost: a\r\n\r\n");
}

static void test_too_big(void **state)
{
    (void)state;
    const char *s = "GET / HTTP/1.1\r\nHost: h\r\n\r\n";
    size_t n = strlen(s);
    lc_http_request_t req;
    const char *err = NULL;

    /* The head fits exactly. */
    assert_int_equal(lc_http_parse_request(s, n, n, &req, &err), (int)n);
    /* One byte short: no head within max_head, whatever follows. */
    assert_int_equal(lc_http_parse_request(s, n, n - 1, &req, &err), LC_HTTP_ETOOBIG);
    assert_non_null(err);
    assert_int_equal(lc_http_parse_request(s, n - 1, n - 1, &req, &err), LC_HTTP_ETOOBIG);
    /* Below max_head without an end: wait. */
    assert_int_equal(lc_http_parse_request(s, n - 2, n - 1, &req, &err), 0);
    /* Garbage without newlines is refused once max_head bytes are in. */
    char junk[100];
    memset(junk, 'A', sizeof junk);
    assert_int_equal(lc_http_parse_request(junk, sizeof junk, 64, &req, &err), LC_HTTP_ETOOBIG);
    assert_int_equal(lc_http_parse_request(junk, 63, 64, &req, &err), 0);
    /* Empty lines count towards the limit. */
    char blank[64];
    memset(blank, '\n', sizeof blank);
    assert_int_equal(lc_http_parse_request(blank, sizeof blank, 64, &req, &err), LC_HTTP_ETOOBIG);
    assert_int_equal(lc_http_parse_request(blank, 63, 64, &req, &err), 0);
    /* A huge max_head is clamped, not trusted. */
    assert_int_equal(lc_http_parse_request(s, n, (size_t)-1, &req, &err), (int)n);
}

static void build_with_headers(char *buf, size_t cap, int count)
{
    size_t off = (size_t)snprintf(buf, cap, "GET / HTTP/1.1\r\nHost: h\r\n");
    for (int i = 1; i < count; i++)
        off += (size_t)snprintf(buf + off, cap - off, "X-H%d: %d\r\n", i, i);
    snprintf(buf + off, cap - off, "\r\n");
}

static void test_header_count(void **state)
{
    (void)state;
    static char buf[4096];
    lc_http_request_t req;
    const char *err = NULL;

    build_with_headers(buf, sizeof buf, LC_HTTP_MAX_HEADERS);
    assert_int_equal(parse(buf, &req, &err), (int)strlen(buf));
    assert_int_equal(req.nheaders, LC_HTTP_MAX_HEADERS);
    build_with_headers(buf, sizeof buf, LC_HTTP_MAX_HEADERS + 1);
    assert_int_equal(parse(buf, &req, &err), LC_HTTP_ETOOBIG);
    assert_string_equal(err, "too many header fields");
}

static void test_empty_and_tiny(void **state)
{
    (void)state;
    lc_http_request_t req;
    const char *err = "unset";

    assert_int_equal(lc_http_parse_request("", 0, MAX_HEAD, &req, &err), 0);
    assert_null(err);
    assert_int_equal(lc_http_parse_request("\r", 1, MAX_HEAD, &req, &err), 0);
    assert_int_equal(lc_http_parse_request("\r\n", 2, MAX_HEAD, &req, &err), 0);
    assert_int_equal(lc_http_parse_request("G\n\n", 3, MAX_HEAD, &req, &err), LC_HTTP_EBAD);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_simple_get),
        cmocka_unit_test(test_http10_without_host),
        cmocka_unit_test(test_bare_lf_and_mixed),
        cmocka_unit_test(test_leading_empty_lines),
        cmocka_unit_test(test_body_not_part_of_head),
        cmocka_unit_test(test_content_length_values),
        cmocka_unit_test(test_ows_and_empty_values),
        cmocka_unit_test(test_target_forms),
        cmocka_unit_test(test_incremental_byte_by_byte),
        cmocka_unit_test(test_incremental_error_is_stable),
        cmocka_unit_test(test_find_header),
        cmocka_unit_test(test_has_token),
        cmocka_unit_test(test_bad_request_line),
        cmocka_unit_test(test_bad_version),
        cmocka_unit_test(test_unsupported_version),
        cmocka_unit_test(test_bad_header_lines),
        cmocka_unit_test(test_bad_content_length),
        cmocka_unit_test(test_transfer_encoding),
        cmocka_unit_test(test_host_rules),
        cmocka_unit_test(test_too_big),
        cmocka_unit_test(test_header_count),
        cmocka_unit_test(test_empty_and_tiny),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
