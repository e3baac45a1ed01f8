/*
 * test_control_input.c: unit tests of the control process's I/O-free
 * input checks: src/common/http/url_path.c (page paths),
 * src/common/http/http_origin.c (Content-Type, Host, Origin) and
 * src/common/json/rest_body.c (REST bodies, guarded).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/http/http_origin.h"
#include "common/http/url_path.h"
#include "common/json/rest_body.h"

static const char *decode(const char *raw)
{
    static char out[LC_URL_PATH_MAX + 1];
    const char *why = NULL;
    if (lc_url_path_decode(raw, strlen(raw), out, sizeof(out), &why) < 0) {
        assert_non_null(why);
        return NULL;
    }
    return out;
}

static void test_url_path_good(void **state)
{
    (void)state;
    assert_string_equal(decode("/"), "index.html");
    assert_string_equal(decode("//"), "index.html");
    assert_string_equal(decode("/index.html"), "index.html");
    assert_string_equal(decode("/js/livecdn.js"), "js/livecdn.js");
    assert_string_equal(decode("/a//b/"), "a/b/index.html");
    assert_string_equal(decode("/%41b%2ejs"), "Ab.js");
    assert_string_equal(decode("/a..b.txt"), "a..b.txt");
    assert_string_equal(decode("/.well-known/x"), ".well-known/x");
}

static void test_url_path_bad(void **state)
{
    (void)state;
    const char *bad[] = { "", "x", "/..", "/../etc/passwd", "/a/../b", "/%2e%2e/x", "/.%2e/x", "/./x",
                          "/a/.", "/a%2fb", "/a%5cb", "/a\\b", "/x%00.html", "/%0a", "/%", "/%4", "/%zz",
                          "/a%2F..%2F..%2Fetc" };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_null(decode(bad[i]));
    char longp[LC_URL_PATH_MAX + 10];
    longp[0] = '/';
    memset(longp + 1, 'a', sizeof(longp) - 2);
    longp[sizeof(longp) - 1] = '\0';
    assert_null(decode(longp));
    /* a small buffer is refused, never overrun */
    char small[8];
    const char *why;
    assert_int_equal(lc_url_path_decode("/", 1, small, sizeof(small), &why), -1);
}

static void test_media_type(void **state)
{
    (void)state;
    assert_true(lc_http_origin_media_type_is("application/json", "application/json"));
    assert_true(lc_http_origin_media_type_is(" Application/JSON ; charset=utf-8", "application/json"));
    assert_false(lc_http_origin_media_type_is(NULL, "application/json"));
    assert_false(lc_http_origin_media_type_is("text/plain", "application/json"));
    assert_false(lc_http_origin_media_type_is("application/jsonx", "application/json"));
    assert_false(lc_http_origin_media_type_is("application/json-patch+json", "application/json"));
    assert_false(lc_http_origin_media_type_is("", "application/json"));
}

static void test_host(void **state)
{
    (void)state;
    const char *good[] = { "127.0.0.1", "127.0.0.1:8081", "10.1.2.3:80", "[::1]:8081", "[::1]", "localhost",
                           "LOCALHOST:8081", "localhost.:1", "app.localhost:8081", "myhost", "MyHost:8081" };
    const char *bad[] = { "evil.example", "evil.example:8081", "127.0.0.1.evil.example", "::1", "[::1",
                          "[::1]x", "[evil]:80", "", ":80", "localhost.evil", "notlocalhost", "1.2.3:80",
                          "myhost.evil" };
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
        assert_true(lc_http_origin_host_is_local(good[i], "myhost"));
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_false(lc_http_origin_host_is_local(bad[i], "myhost"));
    assert_false(lc_http_origin_host_is_local("myhost", NULL));
    assert_false(lc_http_origin_host_is_local(NULL, "myhost"));
}

static void test_origin(void **state)
{
    (void)state;
    assert_true(lc_http_origin_is_same("http://127.0.0.1:8081", "http", "127.0.0.1:8081"));
    assert_true(lc_http_origin_is_same("HTTP://LocalHost:8081", "http", "localhost:8081"));
    assert_true(lc_http_origin_is_same("http://h", "http", "h:80"));
    assert_true(lc_http_origin_is_same("https://h:443", "https", "h"));
    assert_false(lc_http_origin_is_same("http://evil.example", "http", "127.0.0.1:8081"));
    assert_false(lc_http_origin_is_same("null", "http", "127.0.0.1:8081"));
    assert_false(lc_http_origin_is_same("https://127.0.0.1:8081", "http", "127.0.0.1:8081"));
    assert_false(lc_http_origin_is_same("http://127.0.0.1:8081", "http", NULL));
    assert_false(lc_http_origin_is_same("http://127.0.0.1:80811", "http", "127.0.0.1:8081"));
    assert_false(lc_http_origin_is_same("http://h:443", "https", "h"));
}

static void test_rest_body(void **state)
{
    char name[16], err[256];
    (void)state;
    assert_int_equal(lc_rest_body_name("{\"name\":\"cam1\"}", 15, name, sizeof(name), err, sizeof(err)), 0);
    assert_string_equal(name, "cam1");
    const char *bad[] = { "", "{}", "[]", "\"name\"", "{\"name\":1}", "{\"name\":\"\"}", "{not json",
                          "{\"name\":\"a\\u0000b\"}", "{\"name\":\"x\"/*c*/}", "{\"name\":\"0123456789abcdef\"}" };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(lc_rest_body_name(bad[i], strlen(bad[i]), name, sizeof(name), err, sizeof(err)), -1);
    /* the review's finding 10: refused by the guard, not by a stack overflow */
    size_t n = 400000;
    char *deep = malloc(2 * n);
    assert_non_null(deep);
    memset(deep, '[', n);
    memset(deep + n, ']', n);
    assert_int_equal(lc_rest_body_name(deep, 2 * n, name, sizeof(name), err, sizeof(err)), -1);
    assert_non_null(strstr(err, "nested deeper"));
    free(deep);
    /* NUL inside the length: refused even if what precedes it is JSON */
    assert_int_equal(lc_rest_body_name("{\"name\":\"a\"}\0x", 14, name, sizeof(name), err, sizeof(err)), -1);
    /* found by fuzz_json_guard: a NUL right after a backslash was skipped as the escaped byte */
    assert_int_equal(lc_rest_body_name("{\"name\":\"a\\\0\"}", 14, name, sizeof(name), err, sizeof(err)), -1);
    assert_non_null(strstr(err, "NUL"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_url_path_good), cmocka_unit_test(test_url_path_bad),
        cmocka_unit_test(test_media_type),    cmocka_unit_test(test_host),
        cmocka_unit_test(test_origin),        cmocka_unit_test(test_rest_body),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
