/*
 * test_rtp.c: unit tests of src/common/webrtc/rtp.c.
 *
 * Packets written by hand from RFC 3550 section 5.1 and RFC 8285 sections
 * 4.2/4.3 (one- and two-byte extensions, padding, id 15), the RFC 5761
 * demux boundaries, header writing round trips, the in-place rewrites,
 * sequence arithmetic across the wrap, and receive statistics (RFC 3550
 * A.1/A.3/A.8) on synthetic streams. Every packet is also parsed at every
 * shorter length from an exact-size heap copy, so an over-read is an ASan
 * report rather than luck.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/webrtc/rtp.h"

/* Parse b[0..len) from an exact-size heap copy and walk its extensions;
 * h points into freed memory afterwards, so only the result is for use. */
static int parse_exact(const uint8_t *b, size_t len, lc_rtp_header_t *h, const char **err)
{
    uint8_t *copy = malloc(len ? len : 1);
    int rc;

    assert_non_null(copy);
    memcpy(copy, b, len);
    rc = lc_rtp_parse(copy, len, h, err);
    if (rc == 0) {
        /* walk the extensions while the copy is alive */
        lc_rtp_ext_elem_t e;
        size_t pos = 0;
        const char *xerr = NULL;
        int x;

        while ((x = lc_rtp_ext_next(h, &pos, &e, &xerr)) == 1)
            assert_true(e.data >= copy && e.data + e.len <= copy + len);
        if (x < 0)
            assert_non_null(xerr);
    }
    free(copy);
    return rc;
}

/* Every prefix shorter than the header fails with a reason; longer ones
 * either parse or fail with a reason (a cut payload is still a packet). */
static void check_prefixes(const uint8_t *b, size_t len, size_t header_len)
{
    for (size_t i = 0; i < len; i++) {
        lc_rtp_header_t h;
        const char *err = NULL;
        int rc = parse_exact(b, i, &h, &err);

        if (i < header_len) {
            assert_int_equal(rc, -1);
            assert_non_null(err);
        } else if (rc < 0) {
            assert_non_null(err);
        } else {
            assert_int_equal(h.header_len, header_len);
            assert_true(h.header_len + h.payload_len + h.padding_len == i);
        }
    }
}

static void test_basic_header(void **state)
{
    (void)state;
    static const uint8_t pkt[] = {
        0x80, 0x60, 0x12, 0x34,  0x00, 0x00, 0x03, 0xe8,  0xde, 0xad, 0xbe, 0xef,
        'a', 'b', 'c',
    };
    lc_rtp_header_t h;

    assert_int_equal(lc_rtp_parse(pkt, sizeof pkt, &h, NULL), 0);
    assert_int_equal(h.padding, 0);
    assert_int_equal(h.extension, 0);
    assert_int_equal(h.marker, 0);
    assert_int_equal(h.csrc_count, 0);
    assert_int_equal(h.pt, 96);
    assert_int_equal(h.seq, 0x1234);
    assert_int_equal(h.timestamp, 1000);
    assert_int_equal(h.ssrc, 0xdeadbeef);
    assert_int_equal(h.header_len, 12);
    assert_int_equal(h.payload_len, 3);
    assert_memory_equal(h.payload, "abc", 3);
    assert_int_equal(lc_rtp_ext_form(&h), 0);
    check_prefixes(pkt, sizeof pkt, 12);
}

static void test_csrc_marker_padding(void **state)
{
    (void)state;
    /* V=2 P=1 X=0 CC=2, M=1 PT=111, two CSRCs, payload "hi", 3 padding bytes */
    static const uint8_t pkt[] = {
        0xa2, 0xef, 0xff, 0xff,  0xff, 0xff, 0xff, 0xff,  0x00, 0x00, 0x00, 0x01,
        0x00, 0x00, 0x00, 0x0a,  0x00, 0x00, 0x00, 0x0b,
        'h', 'i', 0x00, 0x00, 0x03,
    };
    lc_rtp_header_t h;

    assert_int_equal(lc_rtp_parse(pkt, sizeof pkt, &h, NULL), 0);
    assert_int_equal(h.padding, 1);
    assert_int_equal(h.marker, 1);
    assert_int_equal(h.pt, 111);
    assert_int_equal(h.seq, 65535);
    assert_int_equal(h.timestamp, 0xffffffffu);
    assert_int_equal(h.csrc_count, 2);
    assert_int_equal(h.csrc[0], 10);
    assert_int_equal(h.csrc[1], 11);
    assert_int_equal(h.header_len, 20);
    assert_int_equal(h.payload_len, 2);
    assert_int_equal(h.padding_len, 3);
    assert_memory_equal(h.payload, "hi", 2);
    check_prefixes(pkt, sizeof pkt, 20);
}

static void test_padding_rules(void **state)
{
    (void)state;
    uint8_t pkt[16] = { 0xa0, 0x60, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 4 };
    lc_rtp_header_t h;
    const char *err = NULL;

    /* Padding-only packet (a bandwidth probe): payload 0. */
    assert_int_equal(parse_exact(pkt, 16, &h, NULL), 0);
    assert_int_equal(h.payload_len, 0);
    assert_int_equal(h.padding_len, 4);
    /* Count larger than what follows the header. */
    pkt[15] = 5;
    assert_int_equal(parse_exact(pkt, 16, &h, &err), -1);
    assert_non_null(err);
    /* Count 0 cannot include itself. */
    pkt[15] = 0;
    err = NULL;
    assert_int_equal(parse_exact(pkt, 16, &h, &err), -1);
    assert_non_null(err);
    /* P set and nothing after the header. */
    err = NULL;
    assert_int_equal(parse_exact(pkt, 12, &h, &err), -1);
    assert_non_null(err);
    pkt[15] = 1;
    assert_int_equal(parse_exact(pkt, 16, &h, NULL), 0);
    assert_int_equal(h.payload_len, 3);
}

static void test_bad_version(void **state)
{
    (void)state;
    uint8_t pkt[12] = { 0x40, 0x60 };
    lc_rtp_header_t h;
    const char *err = NULL;

    assert_int_equal(parse_exact(pkt, 12, &h, &err), -1);
    assert_non_null(err);
    pkt[0] = 0xc0;
    assert_int_equal(parse_exact(pkt, 12, &h, NULL), -1);
    pkt[0] = 0x80;
    assert_int_equal(parse_exact(pkt, 12, &h, NULL), 0);
}

static void test_one_byte_extensions(void **state)
{
    (void)state;
    /* RFC 8285 4.2: id 1 len 1, a padding byte, id 2 len 3, padding to 32 bits. */
    static const uint8_t pkt[] = {
        0x90, 0x6f, 0x00, 0x01,  0x00, 0x00, 0x00, 0x02,  0x00, 0x00, 0x00, 0x03,
        0xbe, 0xde, 0x00, 0x02,
        0x10, 0xaa, 0x00, 0x22,  0x01, 0x02, 0x03, 0x00,
        0x55,
    };
    lc_rtp_header_t h;
    const uint8_t *d;
    size_t n;

    assert_int_equal(lc_rtp_parse(pkt, sizeof pkt, &h, NULL), 0);
    assert_int_equal(h.extension, 1);
    assert_int_equal(h.ext_profile, 0xbede);
    assert_int_equal(h.ext_len, 8);
    assert_int_equal(h.header_len, 24);
    assert_int_equal(h.payload_len, 1);
    assert_int_equal(h.payload[0], 0x55);
    assert_int_equal(lc_rtp_ext_form(&h), 1);
    assert_int_equal(lc_rtp_ext_find(&h, 1, &d, &n, NULL), 1);
    assert_int_equal(n, 1);
    assert_int_equal(d[0], 0xaa);
    assert_int_equal(lc_rtp_ext_find(&h, 2, &d, &n, NULL), 1);
    assert_int_equal(n, 3);
    assert_memory_equal(d, "\x01\x02\x03", 3);
    assert_int_equal(lc_rtp_ext_find(&h, 3, &d, &n, NULL), 0);

    /* walk order */
    lc_rtp_ext_elem_t e;
    size_t pos = 0;
    assert_int_equal(lc_rtp_ext_next(&h, &pos, &e, NULL), 1);
    assert_int_equal(e.id, 1);
    assert_int_equal(lc_rtp_ext_next(&h, &pos, &e, NULL), 1);
    assert_int_equal(e.id, 2);
    assert_int_equal(lc_rtp_ext_next(&h, &pos, &e, NULL), 0);
    check_prefixes(pkt, sizeof pkt, 24);
}

static void test_one_byte_id15_and_overrun(void **state)
{
    (void)state;
    uint8_t pkt[] = {
        0x90, 0x60, 0x00, 0x01,  0x00, 0x00, 0x00, 0x02,  0x00, 0x00, 0x00, 0x03,
        0xbe, 0xde, 0x00, 0x01,
        0x10, 0xaa, 0xf0, 0x30,
    };
    lc_rtp_header_t h;
    const uint8_t *d;
    size_t n;
    const char *err = NULL;

    /* id 15 stops the walk: the "id 3" after it is never seen */
    assert_int_equal(lc_rtp_parse(pkt, sizeof pkt, &h, NULL), 0);
    assert_int_equal(lc_rtp_ext_find(&h, 1, &d, &n, NULL), 1);
    assert_int_equal(lc_rtp_ext_find(&h, 3, &d, &n, NULL), 0);
    /* id 1 claims 16 bytes in a 4-byte block */
    pkt[16] = 0x1f;
    assert_int_equal(lc_rtp_parse(pkt, sizeof pkt, &h, NULL), 0);
    assert_int_equal(lc_rtp_ext_find(&h, 1, &d, &n, &err), -1);
    assert_non_null(err);
    /* one byte too long: 0x13 = id 1, 4 bytes after its header */
    pkt[16] = 0x13;
    err = NULL;
    assert_int_equal(lc_rtp_parse(pkt, sizeof pkt, &h, NULL), 0);
    assert_int_equal(lc_rtp_ext_find(&h, 1, &d, &n, &err), -1);
    assert_non_null(err);
    /* the element exactly fills the block: 0x12 = id 1, 3 bytes */
    pkt[16] = 0x12;
    assert_int_equal(lc_rtp_parse(pkt, sizeof pkt, &h, NULL), 0);
    assert_int_equal(lc_rtp_ext_find(&h, 1, &d, &n, NULL), 1);
    assert_int_equal(n, 3);
    /* extension block longer than the packet */
    pkt[15] = 2;
    assert_int_equal(lc_rtp_parse(pkt, sizeof pkt, &h, &err), -1);
}

static void test_two_byte_extensions(void **state)
{
    (void)state;
    /* RFC 8285 4.3: profile 0x100 + appbits 0x5; id 1 len 0, id 200 len 2, padding. */
    static const uint8_t pkt[] = {
        0x90, 0x60, 0x00, 0x01,  0x00, 0x00, 0x00, 0x02,  0x00, 0x00, 0x00, 0x03,
        0x10, 0x05, 0x00, 0x02,
        0x01, 0x00, 0xc8, 0x02,  0xcc, 0xdd, 0x00, 0x00,
    };
    static const uint8_t bad[] = {
        0x90, 0x60, 0x00, 0x01,  0x00, 0x00, 0x00, 0x02,  0x00, 0x00, 0x00, 0x03,
        0x10, 0x00, 0x00, 0x01,
        0x01, 0x03, 0xcc, 0xdd,
    };
    lc_rtp_header_t h;
    const uint8_t *d;
    size_t n;
    const char *err = NULL;

    assert_int_equal(lc_rtp_parse(pkt, sizeof pkt, &h, NULL), 0);
    assert_int_equal(lc_rtp_ext_form(&h), 2);
    assert_int_equal(lc_rtp_ext_find(&h, 1, &d, &n, NULL), 1);
    assert_int_equal(n, 0);
    assert_int_equal(lc_rtp_ext_find(&h, 200, &d, &n, NULL), 1);
    assert_int_equal(n, 2);
    assert_memory_equal(d, "\xcc\xdd", 2);
    assert_int_equal(lc_rtp_ext_find(&h, 2, &d, &n, NULL), 0);
    assert_int_equal(h.payload_len, 0);
    check_prefixes(pkt, sizeof pkt, sizeof pkt);

    assert_int_equal(lc_rtp_parse(bad, sizeof bad, &h, NULL), 0);
    assert_int_equal(lc_rtp_ext_find(&h, 9, &d, &n, &err), -1);
    assert_non_null(err);
}

static void test_other_profile_extension(void **state)
{
    (void)state;
    static const uint8_t pkt[] = {
        0x90, 0x60, 0x00, 0x01,  0x00, 0x00, 0x00, 0x02,  0x00, 0x00, 0x00, 0x03,
        0xab, 0xcd, 0x00, 0x01,  0x11, 0x22, 0x33, 0x44,
    };
    lc_rtp_header_t h;
    const uint8_t *d;
    size_t n;

    assert_int_equal(lc_rtp_parse(pkt, sizeof pkt, &h, NULL), 0);
    assert_int_equal(h.ext_profile, 0xabcd);
    assert_int_equal(lc_rtp_ext_form(&h), 0);
    assert_int_equal(lc_rtp_ext_find(&h, 1, &d, &n, NULL), 0);
}

static void test_is_rtcp(void **state)
{
    (void)state;
    uint8_t b[2] = { 0x80, 0 };

    for (unsigned v = 0; v < 256; v++) {
        b[1] = (uint8_t)v;
        assert_int_equal(lc_rtp_is_rtcp(b, 2), v >= 192 && v <= 223);
    }
    b[1] = 200;
    assert_int_equal(lc_rtp_is_rtcp(b, 1), 0);
    assert_int_equal(lc_rtp_is_rtcp(b, 0), 0);
    b[0] = 0x40;
    assert_int_equal(lc_rtp_is_rtcp(b, 2), 0);
    /* PT 96 with the marker (224) stays RTP */
    b[0] = 0x81;
    b[1] = 0x80 | 0x60;
    assert_int_equal(lc_rtp_is_rtcp(b, 2), 0);
}

static void test_write_roundtrip(void **state)
{
    (void)state;
    static const uint8_t mid[] = { '0' };
    static const uint8_t tcc[] = { 0x01, 0x02 };
    static const uint8_t big[16] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16 };
    lc_rtp_ext_elem_t ext[] = {
        { .id = 3, .len = 1, .data = mid },
        { .id = 5, .len = 2, .data = tcc },
        { .id = 14, .len = 16, .data = big },
    };
    lc_rtp_header_t in = { .marker = 1, .pt = 100, .seq = 65535, .timestamp = 0x12345678,
                           .ssrc = 0xcafebabe, .csrc_count = 2, .csrc = { 7, 8 } };
    uint8_t buf[128], out[128];
    size_t len;
    lc_rtp_header_t h;
    const uint8_t *d;
    size_t n;

    /* 12 + 8 + 4 + (2 + 3 + 17 = 22 -> 24) */
    len = lc_rtp_write_header(buf, sizeof buf, &in, ext, 3);
    assert_int_equal(len, 48);
    memcpy(buf + len, "payload", 7);
    assert_int_equal(lc_rtp_parse(buf, len + 7, &h, NULL), 0);
    assert_int_equal(h.marker, 1);
    assert_int_equal(h.pt, 100);
    assert_int_equal(h.seq, 65535);
    assert_int_equal(h.timestamp, 0x12345678);
    assert_int_equal(h.ssrc, 0xcafebabe);
    assert_int_equal(h.csrc_count, 2);
    assert_int_equal(h.csrc[1], 8);
    assert_int_equal(h.header_len, 48);
    assert_int_equal(h.payload_len, 7);
    assert_int_equal(lc_rtp_ext_form(&h), 1);
    assert_int_equal(lc_rtp_ext_find(&h, 3, &d, &n, NULL), 1);
    assert_int_equal(n, 1);
    assert_int_equal(d[0], '0');
    assert_int_equal(lc_rtp_ext_find(&h, 5, &d, &n, NULL), 1);
    assert_memory_equal(d, tcc, 2);
    assert_int_equal(lc_rtp_ext_find(&h, 14, &d, &n, NULL), 1);
    assert_int_equal(n, 16);
    assert_memory_equal(d, big, 16);

    /* Every smaller cap refuses and leaves out untouched. */
    for (size_t cap = 0; cap < len; cap++) {
        memset(out, 0xaa, sizeof out);
        assert_int_equal(lc_rtp_write_header(out, cap, &in, ext, 3), 0);
        for (size_t i = 0; i < sizeof out; i++)
            assert_int_equal(out[i], 0xaa);
    }

    /* No extensions: plain 12-byte header plus CSRCs, X clear. */
    assert_int_equal(lc_rtp_write_header(out, sizeof out, &in, NULL, 0), 20);
    assert_int_equal(out[0], 0x82);
    assert_int_equal(out[1], 0x80 | 100);

    /* Unwritable fields. */
    ext[0].id = 15;
    assert_int_equal(lc_rtp_write_header(out, sizeof out, &in, ext, 1), 0);
    ext[0].id = 0;
    assert_int_equal(lc_rtp_write_header(out, sizeof out, &in, ext, 1), 0);
    ext[0].id = 1;
    ext[0].len = 17;
    assert_int_equal(lc_rtp_write_header(out, sizeof out, &in, ext, 1), 0);
    ext[0].len = 0;
    assert_int_equal(lc_rtp_write_header(out, sizeof out, &in, ext, 1), 0);
    in.pt = 128;
    assert_int_equal(lc_rtp_write_header(out, sizeof out, &in, NULL, 0), 0);
    in.pt = 0;
    in.csrc_count = 16;
    assert_int_equal(lc_rtp_write_header(out, sizeof out, &in, NULL, 0), 0);
}

static void test_rewrite_in_place(void **state)
{
    (void)state;
    uint8_t pkt[] = {
        0x80, 0xe0, 0x12, 0x34,  0x00, 0x00, 0x03, 0xe8,  0xde, 0xad, 0xbe, 0xef, 'x',
    };
    lc_rtp_header_t h;

    assert_int_equal(lc_rtp_set_ssrc(pkt, sizeof pkt, 0x01020304), 0);
    assert_int_equal(lc_rtp_set_seq(pkt, sizeof pkt, 0xfffe), 0);
    assert_int_equal(lc_rtp_set_timestamp(pkt, sizeof pkt, 0x80000001), 0);
    assert_int_equal(lc_rtp_set_pt(pkt, sizeof pkt, 111), 0);
    assert_int_equal(lc_rtp_set_pt(pkt, sizeof pkt, 128), -1);
    assert_int_equal(lc_rtp_parse(pkt, sizeof pkt, &h, NULL), 0);
    assert_int_equal(h.ssrc, 0x01020304);
    assert_int_equal(h.seq, 0xfffe);
    assert_int_equal(h.timestamp, 0x80000001);
    assert_int_equal(h.pt, 111);
    assert_int_equal(h.marker, 1);
    assert_int_equal(h.payload[0], 'x');
    assert_int_equal(lc_rtp_set_ssrc(pkt, 11, 1), -1);
    assert_int_equal(lc_rtp_set_seq(pkt, 11, 1), -1);
    assert_int_equal(lc_rtp_set_timestamp(pkt, 11, 1), -1);
    assert_int_equal(lc_rtp_set_pt(pkt, 11, 1), -1);
    assert_int_equal(h.ssrc, 0x01020304);
}

static void test_seq_arithmetic(void **state)
{
    (void)state;
    assert_true(lc_rtp_seq_newer(1, 0));
    assert_false(lc_rtp_seq_newer(0, 1));
    assert_false(lc_rtp_seq_newer(5, 5));
    assert_true(lc_rtp_seq_newer(0, 65535));
    assert_true(lc_rtp_seq_newer(10, 65000));
    assert_false(lc_rtp_seq_newer(65535, 0));
    assert_true(lc_rtp_seq_newer(0x7fff, 0));
    assert_false(lc_rtp_seq_newer(0, 0x7fff));
    /* exactly half-way: antisymmetric */
    assert_true(lc_rtp_seq_newer(0x8000, 0));
    assert_false(lc_rtp_seq_newer(0, 0x8000));
    assert_true(lc_rtp_seq_newer(0x9000, 0x1000));
    assert_false(lc_rtp_seq_newer(0x1000, 0x9000));
    for (unsigned a = 0; a < 65536; a += 257) {
        for (unsigned b = 0; b < 65536; b += 263) {
            int ab = lc_rtp_seq_newer((uint16_t)a, (uint16_t)b);
            int ba = lc_rtp_seq_newer((uint16_t)b, (uint16_t)a);
            assert_false(ab && ba);
            assert_true(a == b || ab || ba);
        }
    }
    assert_int_equal(lc_rtp_seq_diff(1, 65535), 2);
    assert_int_equal(lc_rtp_seq_diff(65535, 1), -2);
    assert_int_equal(lc_rtp_seq_diff(100, 100), 0);
    assert_int_equal(lc_rtp_seq_diff(0x8000, 0), -32768);
}

/* 20 packets across the wrap (65530 .. 13), 3 lost, constant transit. */
static void test_stats_wrap_and_loss(void **state)
{
    (void)state;
    lc_rtp_stats_t s;

    lc_rtp_stats_init(&s);
    assert_int_equal(lc_rtp_stats_expected(&s), 0);
    for (unsigned i = 0; i < 20; i++) {
        uint16_t seq = (uint16_t)(65530 + i);
        uint32_t ts = 3000 * i;

        if (i == 4 || i == 7 || i == 15)
            continue;
        assert_int_equal(lc_rtp_stats_update(&s, seq, ts, ts + 500), 1);
    }
    assert_int_equal(s.max_seq, 13);
    assert_int_equal(s.cycles, 65536);
    assert_int_equal(lc_rtp_stats_ext_max(&s), 65536 + 13);
    assert_int_equal(lc_rtp_stats_expected(&s), 20);
    assert_int_equal(s.received, 17);
    assert_int_equal(lc_rtp_stats_lost(&s), 3);
    assert_int_equal(lc_rtp_stats_fraction_lost(&s), 3 * 256 / 20);
    assert_int_equal(lc_rtp_stats_jitter(&s), 0);
    /* a new interval with nothing lost */
    assert_int_equal(lc_rtp_stats_fraction_lost(&s), 0);
    for (unsigned i = 20; i < 30; i++)
        lc_rtp_stats_update(&s, (uint16_t)(65530 + i), 3000 * i, 3000 * i + 500);
    assert_int_equal(lc_rtp_stats_fraction_lost(&s), 0);
    assert_int_equal(lc_rtp_stats_lost(&s), 3);

    /* a late retransmission of a lost one is counted; the lost count falls */
    assert_int_equal(lc_rtp_stats_update(&s, (uint16_t)(65530 + 7), 21000, 999999), 1);
    assert_int_equal(lc_rtp_stats_lost(&s), 2);
    assert_int_equal(lc_rtp_stats_jitter(&s), 0);   /* out of order: no jitter */
    assert_int_equal(s.max_seq, (uint16_t)(65530 + 29));

    /* duplicates make "lost" negative and the fraction 0 */
    for (unsigned i = 0; i < 5; i++)
        lc_rtp_stats_update(&s, s.max_seq, 0, 0);
    assert_int_equal(lc_rtp_stats_lost(&s), -3);
    assert_int_equal(lc_rtp_stats_fraction_lost(&s), 0);
}

static void test_stats_all_lost_interval(void **state)
{
    (void)state;
    lc_rtp_stats_t s;

    lc_rtp_stats_init(&s);
    lc_rtp_stats_update(&s, 100, 0, 0);
    assert_int_equal(lc_rtp_stats_fraction_lost(&s), 0);
    /* 101..149 lost, 150 arrives: 49 of 50 lost in the interval */
    lc_rtp_stats_update(&s, 150, 0, 0);
    assert_int_equal(lc_rtp_stats_fraction_lost(&s), 49 * 256 / 50);
    assert_int_equal(lc_rtp_stats_lost(&s), 49);
}

static void test_stats_jitter(void **state)
{
    (void)state;
    lc_rtp_stats_t s;
    double ref = 0;
    uint32_t prev_transit = 0;

    lc_rtp_stats_init(&s);
    /* 90 kHz video, a frame every 3000 units; network delay alternates
     * 0 / 160 / 40 units. Reference: the floating form of RFC 3550 A.8. */
    for (unsigned i = 0; i < 400; i++) {
        static const uint32_t wobble[] = { 0, 160, 40 };
        uint32_t ts = 0xfffff000u + 3000 * i;          /* the timestamp wraps too */
        uint32_t arrival = ts + 7777 + wobble[i % 3];
        uint32_t transit = arrival - ts;

        assert_int_equal(lc_rtp_stats_update(&s, (uint16_t)(40000 + i), ts, arrival), 1);
        if (i > 0) {
            double d = (double)transit - (double)prev_transit;
            ref += ((d < 0 ? -d : d) - ref) / 16.0;
        }
        prev_transit = transit;
        assert_true((double)lc_rtp_stats_jitter(&s) >= ref - 2);
        assert_true((double)lc_rtp_stats_jitter(&s) <= ref + 2);
    }
    /* |D| is 160, 120, 40: converges near their mean */
    assert_true(lc_rtp_stats_jitter(&s) >= 100 && lc_rtp_stats_jitter(&s) <= 120);
    assert_int_equal(lc_rtp_stats_lost(&s), 0);
}

static void test_stats_restart(void **state)
{
    (void)state;
    lc_rtp_stats_t s;

    lc_rtp_stats_init(&s);
    for (unsigned i = 0; i < 10; i++)
        assert_int_equal(lc_rtp_stats_update(&s, (uint16_t)(1000 + i), 0, 0), 1);
    /* a jump beyond MAX_DROPOUT is not believed at once */
    assert_int_equal(lc_rtp_stats_update(&s, 30000, 0, 0), 0);
    assert_int_equal(s.received, 10);
    assert_int_equal(s.max_seq, 1009);
    /* a lone jump, then back to normal: still the old stream */
    assert_int_equal(lc_rtp_stats_update(&s, 1010, 0, 0), 1);
    assert_int_equal(s.received, 11);
    /* two in a row after a jump: the sender restarted */
    assert_int_equal(lc_rtp_stats_update(&s, 50000, 0, 0), 0);
    assert_int_equal(lc_rtp_stats_update(&s, 50001, 0, 0), 1);
    assert_int_equal(s.received, 1);
    assert_int_equal(lc_rtp_stats_expected(&s), 1);
    assert_int_equal(lc_rtp_stats_lost(&s), 0);
    assert_int_equal(lc_rtp_stats_update(&s, 50002, 0, 0), 1);
    assert_int_equal(lc_rtp_stats_expected(&s), 2);
    /* a small step back (misorder) is counted, max stays */
    assert_int_equal(lc_rtp_stats_update(&s, 49990, 0, 0), 1);
    assert_int_equal(s.max_seq, 50002);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_basic_header),
        cmocka_unit_test(test_csrc_marker_padding),
        cmocka_unit_test(test_padding_rules),
        cmocka_unit_test(test_bad_version),
        cmocka_unit_test(test_one_byte_extensions),
        cmocka_unit_test(test_one_byte_id15_and_overrun),
        cmocka_unit_test(test_two_byte_extensions),
        cmocka_unit_test(test_other_profile_extension),
        cmocka_unit_test(test_is_rtcp),
        cmocka_unit_test(test_write_roundtrip),
        cmocka_unit_test(test_rewrite_in_place),
        cmocka_unit_test(test_seq_arithmetic),
        cmocka_unit_test(test_stats_wrap_and_loss),
        cmocka_unit_test(test_stats_all_lost_interval),
        cmocka_unit_test(test_stats_jitter),
        cmocka_unit_test(test_stats_restart),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
