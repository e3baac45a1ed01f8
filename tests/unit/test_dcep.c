/*
 * test_dcep.c: DCEP messages (RFC 8832) as browsers send them, and the
 * ones a worker must refuse.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "common/webrtc/dcep.h"

/* Chrome's OPEN of createDataChannel("chat"): reliable, priority 256, no protocol */
static const uint8_t chrome_open[] = { 0x03, 0x00, 0x01, 0x00, 0, 0, 0, 0, 0x00, 0x04, 0x00, 0x00,
                                       'c',  'h',  'a',  't' };

static void open_parsed(void **state)
{
    (void)state;
    lc_dcep_open_t o;
    const char *err;
    assert_int_equal(lc_dcep_type(chrome_open, sizeof(chrome_open), &err), LC_DCEP_OPEN);
    assert_int_equal(lc_dcep_parse_open(chrome_open, sizeof(chrome_open), &o, &err), 0);
    assert_int_equal(o.channel_type, LC_DCEP_RELIABLE);
    assert_int_equal(o.priority, 256);
    assert_int_equal(o.reliability, 0);
    assert_int_equal(o.label_len, 4);
    assert_memory_equal(o.label, "chat", 4);
    assert_int_equal(o.protocol_len, 0);
    uint8_t out[64];
    assert_int_equal(lc_dcep_build_open(out, sizeof(out), &o), sizeof(chrome_open));
    assert_memory_equal(out, chrome_open, sizeof(chrome_open));
}

static void open_with_protocol(void **state)
{
    (void)state;
    lc_dcep_open_t o = { .channel_type = LC_DCEP_PARTIAL_REXMIT | LC_DCEP_UNORDERED, .priority = 128,
                         .reliability = 3, .label = (const uint8_t *)"state", .label_len = 5,
                         .protocol = (const uint8_t *)"json", .protocol_len = 4 };
    uint8_t buf[64];
    size_t n = lc_dcep_build_open(buf, sizeof(buf), &o);
    assert_int_equal(n, 12 + 5 + 4);
    assert_int_equal(lc_dcep_build_open(buf, n - 1, &o), 0);
    lc_dcep_open_t p;
    const char *err;
    assert_int_equal(lc_dcep_parse_open(buf, n, &p, &err), 0);
    assert_int_equal(p.channel_type, 0x81);
    assert_int_equal(p.reliability, 3);
    assert_memory_equal(p.protocol, "json", 4);
}

static void bad_open_refused(void **state)
{
    (void)state;
    uint8_t m[32];
    lc_dcep_open_t o;
    const char *err = NULL;
    memcpy(m, chrome_open, sizeof(chrome_open));
    assert_int_equal(lc_dcep_parse_open(m, 11, &o, &err), -1); /* short header */
    assert_non_null(err);
    m[9] = 5; /* label one byte longer than the message */
    assert_int_equal(lc_dcep_parse_open(m, sizeof(chrome_open), &o, &err), -1);
    m[9] = 4;
    m[8] = 0xff; /* 65284-byte label: the lengths lie */
    assert_int_equal(lc_dcep_parse_open(m, sizeof(chrome_open), &o, &err), -1);
    m[8] = 0;
    m[1] = 0x03; /* no such channel type */
    assert_int_equal(lc_dcep_parse_open(m, sizeof(chrome_open), &o, &err), -1);
    m[1] = 0;
    m[sizeof(chrome_open)] = 'x'; /* a byte after the protocol: ignored (aiortc counts characters) */
    assert_int_equal(lc_dcep_parse_open(m, sizeof(chrome_open) + 1, &o, &err), 0);
    assert_int_equal(o.label_len, 4);
    assert_int_equal(lc_dcep_parse_open(m, sizeof(chrome_open), &o, &err), 0);
    assert_int_equal(lc_dcep_type(m, 0, &err), -1);
    m[0] = 0x07;
    assert_int_equal(lc_dcep_type(m, 1, &err), -1);
}

static void ack(void **state)
{
    (void)state;
    uint8_t b[2] = { 0 };
    const char *err;
    assert_int_equal(lc_dcep_build_ack(b, 0), 0);
    assert_int_equal(lc_dcep_build_ack(b, sizeof(b)), 1);
    assert_int_equal(b[0], LC_DCEP_ACK);
    assert_int_equal(lc_dcep_type(b, 1, &err), LC_DCEP_ACK);
    assert_int_equal(lc_dcep_parse_ack(b, 1, &err), 0);
    assert_int_equal(lc_dcep_parse_ack(b, 2, &err), -1);
}

static void printable(void **state)
{
    (void)state;
    char out[8];
    lc_dcep_printable(out, sizeof(out), (const uint8_t *)"a\nb\x1b[c", 6);
    assert_string_equal(out, "a?b?[c");
    lc_dcep_printable(out, sizeof(out), (const uint8_t *)"0123456789", 10);
    assert_string_equal(out, "0123...");
    lc_dcep_printable(out, 1, (const uint8_t *)"abc", 3);
    assert_string_equal(out, "");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(open_parsed), cmocka_unit_test(open_with_protocol), cmocka_unit_test(bad_open_refused),
        cmocka_unit_test(ack),         cmocka_unit_test(printable),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
