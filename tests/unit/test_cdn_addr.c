/*
 * test_cdn_addr.c: unit tests of src/common/cdn/cdn_addr.c, the checks on
 * node addresses other nodes hand us: one spelling per node, cdn.allow,
 * and which kinds of gossiped address a node may dial.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/cdn/cdn_addr.h"

static void test_one_spelling(void **state)
{
    (void)state;
    assert_null(lc_cdn_addr_bad("10.0.0.1:8084"));
    assert_null(lc_cdn_addr_bad("[2001:db8::1]:8084"));
    const char *bad[] = { "", "10.0.0.1", "10.0.0.1:0", "10.0.0.1:65536", "10.0.0.1:080", "10.0.0.1:+80",
                          "10.0.0.1: 80", "*:80", ":80", "[2001:DB8::1]:8084", "[2001:db8:0::1]:8084",
                          "host.example:80", "[::1]80", "10.0.0.1:80x" };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        if (!lc_cdn_addr_bad(bad[i]))
            fail_msg("\"%s\" accepted as a node address", bad[i]);
}

static void test_kinds(void **state)
{
    (void)state;
    assert_int_equal(lc_cdn_addr_kind("10.0.0.1:1"), LC_ADDR_UNICAST);
    assert_int_equal(lc_cdn_addr_kind("127.0.0.7:1"), LC_ADDR_LOOPBACK);
    assert_int_equal(lc_cdn_addr_kind("[::1]:1"), LC_ADDR_LOOPBACK);
    assert_int_equal(lc_cdn_addr_kind("[::ffff:127.0.0.1]:1"), LC_ADDR_LOOPBACK);
    assert_int_equal(lc_cdn_addr_kind("0.0.0.0:1"), LC_ADDR_UNSPECIFIED);
    assert_int_equal(lc_cdn_addr_kind("0.1.2.3:1"), LC_ADDR_UNSPECIFIED);
    assert_int_equal(lc_cdn_addr_kind("[::]:1"), LC_ADDR_UNSPECIFIED);
    assert_int_equal(lc_cdn_addr_kind("224.0.0.1:1"), LC_ADDR_MULTICAST);
    assert_int_equal(lc_cdn_addr_kind("255.255.255.255:1"), LC_ADDR_MULTICAST);
    assert_int_equal(lc_cdn_addr_kind("[ff02::1]:1"), LC_ADDR_MULTICAST);
    assert_int_equal(lc_cdn_addr_kind("[2001:db8::1]:1"), LC_ADDR_UNICAST);
}

static void test_gossip(void **state)
{
    (void)state;
    lc_conf_list_t any = { NULL, 0 };
    char *r[] = { "10.0.0.0/24", "127.0.0.1" };
    lc_conf_list_t allow = { r, 2 };
    /* a node on a routable address dials only routable addresses */
    assert_null(lc_cdn_gossip_bad("10.0.0.2:8084", "10.0.0.1:8084", &any));
    assert_non_null(strstr(lc_cdn_gossip_bad("127.0.0.1:8084", "10.0.0.1:8084", &any), "loopback"));
    assert_non_null(strstr(lc_cdn_gossip_bad("[::1]:8084", "10.0.0.1:8084", &any), "loopback"));
    assert_non_null(strstr(lc_cdn_gossip_bad("0.0.0.0:8084", "10.0.0.1:8084", &any), "unspecified"));
    assert_non_null(strstr(lc_cdn_gossip_bad("239.1.1.1:8084", "10.0.0.1:8084", &any), "multicast"));
    /* nodes on loopback (tests, one machine) gossip loopback */
    assert_null(lc_cdn_gossip_bad("127.0.0.1:9000", "127.0.0.1:8084", &any));
    assert_non_null(lc_cdn_gossip_bad("224.0.0.1:8084", "127.0.0.1:8084", &any));
    /* cdn.allow */
    assert_null(lc_cdn_gossip_bad("10.0.0.9:8084", "10.0.0.1:8084", &allow));
    assert_string_equal(lc_cdn_gossip_bad("10.0.1.9:8084", "10.0.0.1:8084", &allow), "not in cdn.allow");
    assert_string_equal(lc_cdn_gossip_bad("127.0.0.5:8084", "127.0.0.1:8084", &allow), "not in cdn.allow");
    assert_int_equal(lc_cdn_addr_allowed(&allow, "[::ffff:10.0.0.3]:1"), 1);
    assert_int_equal(lc_cdn_addr_allowed(&allow, "[2001:db8::1]:1"), 0);
    /* not a node address at all */
    assert_non_null(lc_cdn_gossip_bad("10.0.0.2:08084", "10.0.0.1:8084", &any));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_one_spelling),
        cmocka_unit_test(test_kinds),
        cmocka_unit_test(test_gossip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
