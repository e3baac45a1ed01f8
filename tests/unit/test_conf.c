/* Unit tests: the configuration loader (conf.c) and address helpers (net.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/core/conf.h"
#include "common/core/net.h"

static char dir[] = "/tmp/lc-conf-XXXXXX";

static const char *write_file(const char *name, const char *text)
{
    static char path[256];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    return path;
}

static lc_conf_t *load(const char *text, char *err, size_t len)
{
    return lc_conf_load(write_file("t.conf", text), "/prefix", err, len);
}

static void expect_error(const char *text, const char *needle)
{
    char err[1024] = "";
    lc_conf_t *c = load(text, err, sizeof(err));
    if (c)
        fail_msg("loaded, but expected an error containing \"%s\"", needle);
    if (!strstr(err, needle))
        fail_msg("error \"%s\" does not contain \"%s\"", err, needle);
}

static void defaults(void **state)
{
    (void)state;
    char err[1024];
    lc_conf_t *c = load("", err, sizeof(err));
    assert_non_null(c);
    assert_true(c->worker_processes >= 1);
    assert_int_equal(c->worker_shutdown_timeout, 60);
    assert_string_equal(c->signaling_listen, "0.0.0.0:8080");
    assert_int_equal(c->webrtc_udp_ports.lo, 31000);
    assert_int_equal(c->webrtc_udp_ports.hi, 31999);
    assert_int_equal(c->media_shm_size, 256LL << 20);
    assert_int_equal(c->rtmp_chunk_size, 4096);
    assert_true(c->webrtc_nack);
    assert_false(c->cdn_enabled);
    assert_int_equal(c->codecs_audio.n, 6);
    assert_string_equal(c->codecs_audio.v[0], "opus");
    assert_int_equal(c->http_allow.n, 2);
    assert_int_equal(c->cdn_allow.n, 0);
    assert_string_equal(c->cdn_static_distribution, "webrtc");
    char *p = lc_conf_path(c, c->pid);
    assert_string_equal(p, "/prefix/logs/livecdn.pid");
    free(p);
    lc_conf_free(c);
}

static void values(void **state)
{
    (void)state;
    char err[1024];
    lc_conf_t *c = load("worker_processes = 3;\nlog_level = \"debug\";\n"
                        "media: { shm_size = \"1G\"; ring_size = \"512K\"; };\n"
                        "webrtc: { udp_ports = \"40000-40999\"; nack = false; };\n"
                        "http: { allow = [\"10.0.0.0/8\"]; listen = \"[::1]:9000\"; };\n"
                        "cdn: { enabled = true; role = \"origin\"; static: { nodes = [\"a\", \"b:1\"]; }; };\n",
                        err, sizeof(err));
    assert_non_null(c);
    assert_int_equal(c->worker_processes, 3);
    assert_string_equal(c->log_level, "debug");
    assert_int_equal(c->media_shm_size, 1LL << 30);
    assert_int_equal(c->media_ring_size, 512 << 10);
    assert_int_equal(c->webrtc_udp_ports.lo, 40000);
    assert_false(c->webrtc_nack);
    assert_string_equal(c->http_allow.v[0], "10.0.0.0/8");
    assert_string_equal(c->http_listen, "[::1]:9000");
    assert_true(c->cdn_enabled);
    assert_string_equal(c->cdn_role, "origin");
    assert_int_equal(c->cdn_static_nodes.n, 2);
    assert_string_equal(c->cdn_static_nodes.v[1], "b:1");
    lc_conf_free(c);
}

static void errors(void **state)
{
    (void)state;
    expect_error("nope = 1;", "t.conf:1: unknown key \"nope\"");
    expect_error("rtmp: {\n  chunkk_size = 1;\n};", "t.conf:2: unknown key \"rtmp.chunkk_size\"");
    expect_error("cdn: { static: { x = 1; }; };", "unknown key \"cdn.static.x\"");
    expect_error("media: 5;", "unknown key \"media\"");
    expect_error("worker_processes = 65;", "out of range 1..64");
    expect_error("worker_processes = \"many\";", "\"auto\" or an integer");
    expect_error("rtmp: { chunk_size = \"big\"; };", "must be an integer");
    expect_error("rtmp: { chunk_size = 1; };", "out of range 128..16777215");
    expect_error("webrtc: { nack = 1; };", "must be true or false");
    expect_error("log_level = \"loud\";", "is not one of error|warn|info|debug");
    expect_error("media: { shm_size = \"12Q\"; };", "is not a size");
    expect_error("media: { shm_size = \"1K\"; };", "out of range");
    expect_error("media: { shm_size = \"8M\"; ring_size = \"8M\"; };", "at least two rings");
    expect_error("signaling: { listen = \"nohost\"; };", "expected \"address:port\"");
    expect_error("signaling: { listen = \"1.2.3.4:0\"; };", "port must be 1..65535");
    expect_error("signaling: { listen = \"example.com:80\"; };", "literal");
    expect_error("webrtc: { udp_ports = \"5-4\"; };", "must be \"LO-HI\"");
    expect_error("worker_processes = 4;\nwebrtc: { udp_ports = \"40000-40006\"; };", "2 ports per worker");
    expect_error("codecs: { audio = [1, 2]; };", "element 1 must be a non-empty string");
    expect_error("codecs: { audio = \"opus\"; };", "must be a list of strings");
    expect_error("x = ;", "t.conf:1: syntax error");
    expect_error("pid = 3.5;", "must be a string");
}

static void include(void **state)
{
    (void)state;
    char err[1024] = "";
    write_file("inc.conf", "worker_processes = 2;\nbad_key = 1;\n");
    lc_conf_t *c = load("@include \"inc.conf\"\n", err, sizeof(err));
    assert_null(c);
    assert_non_null(strstr(err, "inc.conf:2: unknown key \"bad_key\""));
    write_file("inc.conf", "worker_processes = 2;\n");
    c = load("@include \"inc.conf\"\n", err, sizeof(err));
    assert_non_null(c);
    assert_int_equal(c->worker_processes, 2);
    lc_conf_free(c);
}

static void missing_file(void **state)
{
    (void)state;
    char err[1024];
    assert_null(lc_conf_load("/nonexistent/livecdn.conf", ".", err, sizeof(err)));
    assert_non_null(strstr(err, "No such file"));
}

static void print_keys(void **state)
{
    (void)state;
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_int_equal(lc_conf_print_keys(f, "sample"), 0);
    fclose(f);
    /* the sample is itself a valid configuration equal to the defaults */
    char err[1024];
    lc_conf_t *c = load(buf, err, sizeof(err));
    if (!c)
        fail_msg("sample does not load: %s", err);
    assert_int_equal(c->cdn_port, 8084);
    lc_conf_free(c);
    free(buf);
    assert_int_equal(lc_conf_print_keys(stdout, "nonsense"), -1);
}

static void addresses(void **state)
{
    (void)state;
    lc_net_addr_t a;
    const char *why;
    char buf[64];
    assert_int_equal(lc_net_parse_addr("127.0.0.1:8080", &a, &why), 0);
    assert_int_equal(lc_net_addr_port(&a), 8080);
    assert_string_equal(lc_net_addr_str((struct sockaddr *)&a.ss, buf, sizeof(buf)), "127.0.0.1:8080");
    assert_int_equal(lc_net_parse_addr("[::1]:443", &a, &why), 0);
    assert_string_equal(lc_net_addr_str((struct sockaddr *)&a.ss, buf, sizeof(buf)), "[::1]:443");
    assert_int_equal(lc_net_parse_addr(":99", &a, &why), 0);
    assert_string_equal(lc_net_addr_str((struct sockaddr *)&a.ss, buf, sizeof(buf)), "0.0.0.0:99");
    assert_int_equal(lc_net_parse_addr("[::1:443", &a, &why), -1);
    assert_int_equal(lc_net_parse_addr("1.2.3.4:65536", &a, &why), -1);
    assert_int_equal(lc_net_parse_addr("1.2.3.4:", &a, &why), -1);
}

static void cidr(void **state)
{
    (void)state;
    struct sockaddr_in in4 = { .sin_family = AF_INET };
    struct sockaddr_in6 in6 = { .sin6_family = AF_INET6 };
    inet_pton(AF_INET, "10.1.2.3", &in4.sin_addr);
    assert_int_equal(lc_net_cidr_match("10.0.0.0/8", (struct sockaddr *)&in4), 1);
    assert_int_equal(lc_net_cidr_match("10.1.2.3", (struct sockaddr *)&in4), 1);
    assert_int_equal(lc_net_cidr_match("10.1.2.4", (struct sockaddr *)&in4), 0);
    assert_int_equal(lc_net_cidr_match("11.0.0.0/8", (struct sockaddr *)&in4), 0);
    assert_int_equal(lc_net_cidr_match("0.0.0.0/0", (struct sockaddr *)&in4), 1);
    assert_int_equal(lc_net_cidr_match("::1", (struct sockaddr *)&in4), 0);
    assert_int_equal(lc_net_cidr_match("10.0.0.0/33", (struct sockaddr *)&in4), -1);
    assert_int_equal(lc_net_cidr_match("garbage", (struct sockaddr *)&in4), -1);
    inet_pton(AF_INET6, "::ffff:10.1.2.3", &in6.sin6_addr);
    assert_int_equal(lc_net_cidr_match("10.0.0.0/8", (struct sockaddr *)&in6), 1);
    inet_pton(AF_INET6, "fd00::5", &in6.sin6_addr);
    assert_int_equal(lc_net_cidr_match("fd00::/8", (struct sockaddr *)&in6), 1);
    assert_int_equal(lc_net_cidr_match("::1", (struct sockaddr *)&in6), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(defaults), cmocka_unit_test(values),       cmocka_unit_test(errors),
        cmocka_unit_test(include),  cmocka_unit_test(missing_file), cmocka_unit_test(print_keys),
        cmocka_unit_test(addresses), cmocka_unit_test(cidr),
    };
    if (!mkdtemp(dir))
        return 1;
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    char cmd[300];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    if (system(cmd) != 0)
        return 1;
    return rc;
}
