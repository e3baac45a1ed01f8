/*
 * test_rtcp.c: unit tests of src/common/webrtc/rtcp.c.
 *
 * Packets written by hand from RFC 3550 (SR, RR, SDES, BYE), RFC 4585
 * (generic NACK, PLI), RFC 5104 (FIR), draft-alvestrand-rmcat-remb and
 * draft-holmer-rmcat-transport-wide-cc-extensions; a compound packet and a
 * reduced-size one (RFC 5506); a round trip through every builder with
 * every too-small buffer refused untouched; NACK packing of awkward lists
 * across the 65535 -> 0 wrap; and every prefix of every vector walked and
 * parsed from an exact-size heap copy, so an over-read is an ASan report.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/webrtc/rtcp.h"

/* SR, SSRC 0x11223344, one report block about 0x55667788. */
static const uint8_t sr_vec[] = {
    0x81, 0xc8, 0x00, 0x0c,
    0x11, 0x22, 0x33, 0x44,
    0xe1, 0x2a, 0x3b, 0x4c,  0x80, 0x00, 0x00, 0x01,   /* NTP */
    0x00, 0x01, 0xe2, 0x40,                           /* RTP ts 123456 */
    0x00, 0x00, 0x00, 0x64,                           /* 100 packets */
    0x00, 0x00, 0x27, 0x10,                           /* 10000 octets */
    0x55, 0x66, 0x77, 0x88,
    0x40, 0xff, 0xff, 0xfe,                           /* 1/4 lost, cumulative -2 */
    0x00, 0x01, 0x00, 0x05,
    0x00, 0x00, 0x00, 0x20,
    0x12, 0x34, 0x56, 0x78,
    0x00, 0x01, 0x00, 0x00,
};

/* SDES: one chunk, CNAME "abcd", end, padding. */
static const uint8_t sdes_vec[] = {
    0x81, 0xca, 0x00, 0x03,
    0x11, 0x22, 0x33, 0x44,
    0x01, 0x04, 'a', 'b',  'c', 'd', 0x00, 0x00,
};

/* BYE with reason "bye!" */
static const uint8_t bye_vec[] = {
    0x81, 0xcb, 0x00, 0x03,
    0x11, 0x22, 0x33, 0x44,
    0x04, 'b', 'y', 'e',  '!', 0x00, 0x00, 0x00,
};

/* Generic NACK: PID 100, BLP 0b101 -> 100, 101, 103. */
static const uint8_t nack_vec[] = {
    0x81, 0xcd, 0x00, 0x03,
    0x00, 0x00, 0x00, 0x01,  0x00, 0x00, 0x00, 0x02,
    0x00, 0x64, 0x00, 0x05,
};

static const uint8_t pli_vec[] = {
    0x81, 0xce, 0x00, 0x02,
    0x00, 0x00, 0x00, 0x01,  0x00, 0x00, 0x00, 0x02,
};

static const uint8_t fir_vec[] = {
    0x84, 0xce, 0x00, 0x04,
    0x00, 0x00, 0x00, 0x01,  0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x02,  0x07, 0x00, 0x00, 0x00,
};

/* REMB 1,000,000 bps = 250000 << 2 for SSRC 0x0a0b0c0d. */
static const uint8_t remb_vec[] = {
    0x8f, 0xce, 0x00, 0x05,
    0x00, 0x00, 0x00, 0x01,  0x00, 0x00, 0x00, 0x00,
    'R', 'E', 'M', 'B',  0x01, 0x0b, 0xd0, 0x90,
    0x0a, 0x0b, 0x0c, 0x0d,
};

/* TWCC: base 10, 3 statuses, ref time 16 (x64 ms), fb count 5; one run-length
 * chunk "3 x small delta", deltas 4 8 12, then 3 bytes of RTCP padding. */
static const uint8_t twcc_vec[] = {
    0xaf, 0xcd, 0x00, 0x06,
    0x00, 0x00, 0x00, 0x01,  0x00, 0x00, 0x00, 0x02,
    0x00, 0x0a, 0x00, 0x03,  0x00, 0x00, 0x10, 0x05,
    0x20, 0x03, 0x04, 0x08,  0x0c, 0x00, 0x00, 0x03,
};

/* TWCC with a 2-bit status vector chunk: statuses 1 0 2 1 (3 unused), base
 * 65534 so the seqs wrap; deltas 0x10, -10 (large), 0x20; negative ref time. */
static const uint8_t twcc2_vec[] = {
    0x8f, 0xcd, 0x00, 0x06,
    0x00, 0x00, 0x00, 0x01,  0x00, 0x00, 0x00, 0x02,
    0xff, 0xfe, 0x00, 0x04,  0xff, 0xff, 0xff, 0x00,
    0xd2, 0x40, 0x10, 0xff,  0xf6, 0x20, 0x00, 0x00,
};

/* TWCC with a 1-bit status vector: 14 statuses 1,0,1,0,... */
static const uint8_t twcc3_vec[] = {
    0x8f, 0xcd, 0x00, 0x07,
    0x00, 0x00, 0x00, 0x01,  0x00, 0x00, 0x00, 0x02,
    0x00, 0x00, 0x00, 0x0e,  0x00, 0x00, 0x00, 0x00,
    0xaa, 0xaa, 1, 2,  3, 4, 5, 6,  7, 0, 0, 0,
};

/* Parse one packet with every parser that applies and check the results
 * are consistent; returns how many parsers accepted it. */
static int parse_any(const lc_rtcp_hdr_t *h)
{
    lc_rtcp_sr_t sr;
    lc_rtcp_rr_t rr;
    lc_rtcp_sdes_t sdes;
    lc_rtcp_bye_t bye;
    lc_rtcp_fb_t fb;
    lc_rtcp_remb_t remb;
    lc_rtcp_twcc_t tw;
    lc_rtcp_twcc_status_t st[32];
    lc_rtcp_fir_entry_t fe[8];
    uint16_t seqs[64];
    const char *err;
    int ok = 0, rc;

#define TRY(call) do { err = NULL; rc = (call); if (rc < 0) assert_non_null(err); else ok++; } while (0)
    TRY(lc_rtcp_sr_parse(h, &sr, &err));
    TRY(lc_rtcp_rr_parse(h, &rr, &err));
    TRY(lc_rtcp_sdes_parse(h, &sdes, &err));
    if (rc == 0)
        for (unsigned i = 0; i < sdes.count; i++)
            if (sdes.chunk[i].cname != NULL)
                assert_true(sdes.chunk[i].cname + sdes.chunk[i].cname_len <= h->body + h->body_len);
    TRY(lc_rtcp_bye_parse(h, &bye, &err));
    if (rc == 0 && bye.reason != NULL)
        assert_true(bye.reason + bye.reason_len <= h->body + h->body_len);
    TRY(lc_rtcp_fb_parse(h, &fb, &err));
    TRY(lc_rtcp_nack_parse(h, &fb, seqs, 64, &err));
    TRY(lc_rtcp_pli_parse(h, &fb, &err));
    TRY(lc_rtcp_fir_parse(h, &fb, fe, 8, &err));
    TRY(lc_rtcp_remb_parse(h, &remb, &err));
    TRY(lc_rtcp_twcc_parse(h, &tw, &err));
    if (rc == 0)
        TRY(lc_rtcp_twcc_decode(&tw, st, 32, &err));
#undef TRY
    return ok;
}

/* Walk buf[0..len) from an exact-size copy, parsing each packet. Returns
 * the packet count, or -1 if the walk failed. */
static int walk_exact(const uint8_t *buf, size_t len)
{
    uint8_t *copy = malloc(len ? len : 1);
    lc_rtcp_iter_t it;
    lc_rtcp_hdr_t h;
    const char *err = NULL;
    int rc, n = 0;

    assert_non_null(copy);
    memcpy(copy, buf, len);
    lc_rtcp_iter_init(&it, copy, len);
    while ((rc = lc_rtcp_iter_next(&it, &h, &err)) == 1) {
        assert_true(h.pkt + h.len <= copy + len);
        assert_true(h.body + h.body_len <= h.pkt + h.len);
        parse_any(&h);
        n++;
    }
    if (rc < 0)
        assert_non_null(err);
    free(copy);
    return rc < 0 ? -1 : n;
}

/* Every prefix: a cut inside a packet fails the walk, a cut on a packet
 * boundary walks the packets before it. */
static void check_prefixes(const uint8_t *buf, size_t len)
{
    for (size_t i = 0; i <= len; i++) {
        int n = walk_exact(buf, i);
        lc_rtcp_iter_t it;
        lc_rtcp_hdr_t h;
        size_t boundary = 0;
        int k = 0;

        lc_rtcp_iter_init(&it, buf, len);
        while (boundary < i && lc_rtcp_iter_next(&it, &h, NULL) == 1) {
            boundary += h.len;
            k++;
        }
        if (boundary == i)
            assert_int_equal(n, k);
        else
            assert_int_equal(n, -1);
    }
}

static void first(const uint8_t *buf, size_t len, lc_rtcp_hdr_t *h)
{
    lc_rtcp_iter_t it;

    lc_rtcp_iter_init(&it, buf, len);
    assert_int_equal(lc_rtcp_iter_next(&it, h, NULL), 1);
    assert_int_equal(lc_rtcp_iter_next(&it, h + 1, NULL), 0);
}

static void test_sr_vector(void **state)
{
    (void)state;
    lc_rtcp_hdr_t h[2];
    lc_rtcp_sr_t sr;
    lc_rtcp_rr_t rr;
    const char *err = NULL;

    first(sr_vec, sizeof sr_vec, h);
    assert_int_equal(h[0].pt, LC_RTCP_SR);
    assert_int_equal(h[0].count, 1);
    assert_int_equal(h[0].len, 52);
    assert_int_equal(lc_rtcp_sr_parse(h, &sr, NULL), 0);
    assert_int_equal(sr.ssrc, 0x11223344);
    assert_true(sr.ntp == 0xe12a3b4c80000001ull);
    assert_int_equal(sr.rtp_ts, 123456);
    assert_int_equal(sr.packet_count, 100);
    assert_int_equal(sr.octet_count, 10000);
    assert_int_equal(sr.rc, 1);
    assert_int_equal(sr.rb[0].ssrc, 0x55667788);
    assert_int_equal(sr.rb[0].fraction_lost, 64);
    assert_int_equal(sr.rb[0].cumulative_lost, -2);
    assert_int_equal(sr.rb[0].ext_highest_seq, 65541);
    assert_int_equal(sr.rb[0].jitter, 32);
    assert_int_equal(sr.rb[0].lsr, 0x12345678);
    assert_int_equal(sr.rb[0].dlsr, 65536);
    assert_int_equal(lc_rtcp_rr_parse(h, &rr, &err), -1);
    assert_non_null(err);
    check_prefixes(sr_vec, sizeof sr_vec);
}

static void test_sr_short_for_count(void **state)
{
    (void)state;
    uint8_t b[sizeof sr_vec];
    lc_rtcp_hdr_t h[2];
    lc_rtcp_sr_t sr;
    const char *err = NULL;

    memcpy(b, sr_vec, sizeof b);
    b[0] = 0x82;                  /* claims 2 blocks, has 1 */
    first(b, sizeof b, h);
    assert_int_equal(lc_rtcp_sr_parse(h, &sr, &err), -1);
    assert_non_null(err);
    b[0] = 0x80;                  /* 0 blocks: the extra bytes are a profile extension */
    first(b, sizeof b, h);
    assert_int_equal(lc_rtcp_sr_parse(h, &sr, NULL), 0);
    assert_int_equal(sr.rc, 0);
}

static void test_rr_empty(void **state)
{
    (void)state;
    static const uint8_t rr_vec[] = { 0x80, 0xc9, 0x00, 0x01, 0x11, 0x22, 0x33, 0x44 };
    lc_rtcp_hdr_t h[2];
    lc_rtcp_rr_t rr;

    first(rr_vec, sizeof rr_vec, h);
    assert_int_equal(lc_rtcp_rr_parse(h, &rr, NULL), 0);
    assert_int_equal(rr.ssrc, 0x11223344);
    assert_int_equal(rr.rc, 0);
    check_prefixes(rr_vec, sizeof rr_vec);
}

static void test_sdes_bye_vectors(void **state)
{
    (void)state;
    lc_rtcp_hdr_t h[2];
    lc_rtcp_sdes_t sdes;
    lc_rtcp_bye_t bye;

    first(sdes_vec, sizeof sdes_vec, h);
    assert_int_equal(lc_rtcp_sdes_parse(h, &sdes, NULL), 0);
    assert_int_equal(sdes.count, 1);
    assert_int_equal(sdes.chunk[0].ssrc, 0x11223344);
    assert_int_equal(sdes.chunk[0].cname_len, 4);
    assert_memory_equal(sdes.chunk[0].cname, "abcd", 4);
    check_prefixes(sdes_vec, sizeof sdes_vec);

    first(bye_vec, sizeof bye_vec, h);
    assert_int_equal(lc_rtcp_bye_parse(h, &bye, NULL), 0);
    assert_int_equal(bye.count, 1);
    assert_int_equal(bye.ssrc[0], 0x11223344);
    assert_int_equal(bye.reason_len, 4);
    assert_memory_equal(bye.reason, "bye!", 4);
    check_prefixes(bye_vec, sizeof bye_vec);
}

static void test_sdes_malformed(void **state)
{
    (void)state;
    /* two chunks: one with NOTE then CNAME, one with no items */
    uint8_t b[] = {
        0x82, 0xca, 0x00, 0x06,
        0x00, 0x00, 0x00, 0x01,
        0x07, 0x01, 'n', 0x01,  0x02, 'x', 'y', 0x00,
        0x00, 0x00, 0x00, 0x02,  0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00,
    };
    lc_rtcp_hdr_t h[2];
    lc_rtcp_sdes_t sdes;
    const char *err = NULL;

    first(b, sizeof b, h);
    assert_int_equal(lc_rtcp_sdes_parse(h, &sdes, NULL), 0);
    assert_int_equal(sdes.count, 2);
    assert_int_equal(sdes.chunk[0].cname_len, 2);
    assert_memory_equal(sdes.chunk[0].cname, "xy", 2);
    assert_int_equal(sdes.chunk[1].ssrc, 2);
    assert_null(sdes.chunk[1].cname);
    /* an item length running past the packet */
    b[12] = 0x40;
    first(b, sizeof b, h);
    assert_int_equal(lc_rtcp_sdes_parse(h, &sdes, &err), -1);
    assert_non_null(err);
    /* claims 9 chunks */
    b[12] = 0x02;
    b[0] = 0x89;
    first(b, sizeof b, h);
    err = NULL;
    assert_int_equal(lc_rtcp_sdes_parse(h, &sdes, &err), -1);
    assert_non_null(err);
}

static void test_feedback_vectors(void **state)
{
    (void)state;
    lc_rtcp_hdr_t h[2];
    lc_rtcp_fb_t fb;
    uint16_t seqs[8];
    lc_rtcp_fir_entry_t e[4];
    lc_rtcp_remb_t remb;
    const char *err = NULL;

    first(nack_vec, sizeof nack_vec, h);
    assert_int_equal(lc_rtcp_nack_parse(h, &fb, seqs, 8, NULL), 3);
    assert_int_equal(fb.sender_ssrc, 1);
    assert_int_equal(fb.media_ssrc, 2);
    assert_int_equal(seqs[0], 100);
    assert_int_equal(seqs[1], 101);
    assert_int_equal(seqs[2], 103);
    /* snprintf-style: the count, only cap stored */
    seqs[1] = 0;
    assert_int_equal(lc_rtcp_nack_parse(h, &fb, seqs, 1, NULL), 3);
    assert_int_equal(seqs[1], 0);
    assert_int_equal(lc_rtcp_pli_parse(h, &fb, &err), -1);
    assert_non_null(err);
    check_prefixes(nack_vec, sizeof nack_vec);

    first(pli_vec, sizeof pli_vec, h);
    assert_int_equal(lc_rtcp_pli_parse(h, &fb, NULL), 0);
    assert_int_equal(fb.sender_ssrc, 1);
    assert_int_equal(fb.media_ssrc, 2);
    assert_int_equal(fb.fci_len, 0);
    assert_int_equal(lc_rtcp_nack_parse(h, &fb, seqs, 8, NULL), -1);

    first(fir_vec, sizeof fir_vec, h);
    assert_int_equal(lc_rtcp_fir_parse(h, &fb, e, 4, NULL), 1);
    assert_int_equal(fb.sender_ssrc, 1);
    assert_int_equal(e[0].ssrc, 2);
    assert_int_equal(e[0].seq_nr, 7);
    check_prefixes(fir_vec, sizeof fir_vec);

    first(remb_vec, sizeof remb_vec, h);
    assert_int_equal(lc_rtcp_remb_parse(h, &remb, NULL), 0);
    assert_int_equal(remb.sender_ssrc, 1);
    assert_true(remb.bitrate == 1000000);
    assert_int_equal(remb.n_ssrc, 1);
    assert_int_equal(remb.ssrc[0], 0x0a0b0c0d);
    check_prefixes(remb_vec, sizeof remb_vec);
}

static void test_remb_malformed(void **state)
{
    (void)state;
    uint8_t b[sizeof remb_vec];
    lc_rtcp_hdr_t h[2];
    lc_rtcp_remb_t remb;
    const char *err = NULL;

    memcpy(b, remb_vec, sizeof b);
    b[16] = 2;                        /* two SSRCs, room for one */
    first(b, sizeof b, h);
    assert_int_equal(lc_rtcp_remb_parse(h, &remb, &err), -1);
    assert_non_null(err);
    b[16] = 1;
    b[12] = 'X';                      /* an AFB that is not REMB */
    first(b, sizeof b, h);
    assert_int_equal(lc_rtcp_remb_parse(h, &remb, NULL), -1);
    b[12] = 'R';
    b[17] = 0xff;                     /* exponent 63, mantissa large: overflow */
    first(b, sizeof b, h);
    assert_int_equal(lc_rtcp_remb_parse(h, &remb, NULL), -1);
}

static void test_twcc_vectors(void **state)
{
    (void)state;
    lc_rtcp_hdr_t h[2];
    lc_rtcp_twcc_t t;
    lc_rtcp_twcc_status_t st[16];

    first(twcc_vec, sizeof twcc_vec, h);
    assert_int_equal(h[0].padding, 1);
    assert_int_equal(h[0].body_len, 21);
    assert_int_equal(lc_rtcp_twcc_parse(h, &t, NULL), 0);
    assert_int_equal(t.fb.sender_ssrc, 1);
    assert_int_equal(t.fb.media_ssrc, 2);
    assert_int_equal(t.base_seq, 10);
    assert_int_equal(t.status_count, 3);
    assert_int_equal(t.reference_time, 16);
    assert_int_equal(t.fb_count, 5);
    assert_int_equal(lc_rtcp_twcc_decode(&t, st, 16, NULL), 3);
    for (unsigned i = 0; i < 3; i++) {
        assert_int_equal(st[i].seq, 10 + i);
        assert_int_equal(st[i].status, 1);
        assert_int_equal(st[i].delta, 4 * (i + 1));
    }
    check_prefixes(twcc_vec, sizeof twcc_vec);

    first(twcc2_vec, sizeof twcc2_vec, h);
    assert_int_equal(lc_rtcp_twcc_parse(h, &t, NULL), 0);
    assert_int_equal(t.reference_time, -1);
    assert_int_equal(lc_rtcp_twcc_decode(&t, st, 16, NULL), 4);
    assert_int_equal(st[0].seq, 65534);
    assert_int_equal(st[0].status, 1);
    assert_int_equal(st[0].delta, 0x10);
    assert_int_equal(st[1].seq, 65535);
    assert_int_equal(st[1].status, 0);
    assert_int_equal(st[1].delta, 0);
    assert_int_equal(st[2].seq, 0);
    assert_int_equal(st[2].status, 2);
    assert_int_equal(st[2].delta, -10);
    assert_int_equal(st[3].seq, 1);
    assert_int_equal(st[3].delta, 0x20);
    check_prefixes(twcc2_vec, sizeof twcc2_vec);

    first(twcc3_vec, sizeof twcc3_vec, h);
    assert_int_equal(lc_rtcp_twcc_parse(h, &t, NULL), 0);
    assert_int_equal(lc_rtcp_twcc_decode(&t, st, 16, NULL), 14);
    for (unsigned i = 0; i < 14; i++) {
        assert_int_equal(st[i].status, i % 2 == 0);
        assert_int_equal(st[i].delta, i % 2 == 0 ? (int)(i / 2 + 1) : 0);
    }
}

static void test_twcc_malformed(void **state)
{
    (void)state;
    uint8_t b[sizeof twcc2_vec];
    lc_rtcp_hdr_t h[2];
    lc_rtcp_twcc_t t;
    lc_rtcp_twcc_status_t st[16];
    const char *err = NULL;

    memcpy(b, twcc2_vec, sizeof b);
    b[20] = 0xde;                     /* the second status is the reserved 3 */
    first(b, sizeof b, h);
    assert_int_equal(lc_rtcp_twcc_parse(h, &t, NULL), 0);
    assert_int_equal(lc_rtcp_twcc_decode(&t, st, 16, &err), -1);
    assert_non_null(err);
    /* 65535 statuses: the deltas and padding read as run-length chunks
     * cover 4122, then the chunks run out */
    {
        uint8_t c[sizeof twcc3_vec];

        memcpy(c, twcc3_vec, sizeof c);
        c[14] = c[15] = 0xff;
        first(c, sizeof c, h);
        assert_int_equal(lc_rtcp_twcc_parse(h, &t, NULL), 0);
        err = NULL;
        assert_int_equal(lc_rtcp_twcc_decode(&t, st, 16, &err), -1);
        assert_non_null(err);
    }
    /* a run of 4000 large deltas cannot fit */
    memcpy(b, twcc2_vec, sizeof b);
    b[14] = 0x0f;
    b[15] = 0xa0;
    b[20] = 0x4f;
    b[21] = 0xa0;
    first(b, sizeof b, h);
    assert_int_equal(lc_rtcp_twcc_parse(h, &t, NULL), 0);
    err = NULL;
    assert_int_equal(lc_rtcp_twcc_decode(&t, st, 16, &err), -1);
    assert_non_null(err);
    /* 4000 "not received" need no deltas: fine, only 16 stored */
    b[20] = 0x0f;
    first(b, sizeof b, h);
    assert_int_equal(lc_rtcp_twcc_parse(h, &t, NULL), 0);
    assert_int_equal(lc_rtcp_twcc_decode(&t, st, 16, NULL), 4000);
    assert_int_equal(st[15].status, 0);
}

static void test_compound_and_reduced_size(void **state)
{
    (void)state;
    uint8_t buf[256];
    size_t len = 0;
    lc_rtcp_iter_t it;
    lc_rtcp_hdr_t h;
    static const uint8_t pts[] = { LC_RTCP_SR, LC_RTCP_SDES, LC_RTCP_RTPFB, LC_RTCP_PSFB,
                                   LC_RTCP_PSFB, LC_RTCP_RTPFB, LC_RTCP_BYE };

    memcpy(buf + len, sr_vec, sizeof sr_vec), len += sizeof sr_vec;
    memcpy(buf + len, sdes_vec, sizeof sdes_vec), len += sizeof sdes_vec;
    memcpy(buf + len, nack_vec, sizeof nack_vec), len += sizeof nack_vec;
    memcpy(buf + len, pli_vec, sizeof pli_vec), len += sizeof pli_vec;
    memcpy(buf + len, remb_vec, sizeof remb_vec), len += sizeof remb_vec;
    memcpy(buf + len, twcc_vec, sizeof twcc_vec), len += sizeof twcc_vec; /* padded, mid-packet */
    memcpy(buf + len, bye_vec, sizeof bye_vec), len += sizeof bye_vec;
    lc_rtcp_iter_init(&it, buf, len);
    for (unsigned i = 0; i < sizeof pts; i++) {
        assert_int_equal(lc_rtcp_iter_next(&it, &h, NULL), 1);
        assert_int_equal(h.pt, pts[i]);
        assert_int_equal(parse_any(&h) > 0, 1);
    }
    assert_int_equal(lc_rtcp_iter_next(&it, &h, NULL), 0);
    check_prefixes(buf, len);

    /* RFC 5506: a lone PLI is a whole RTCP packet */
    assert_int_equal(walk_exact(pli_vec, sizeof pli_vec), 1);
    assert_int_equal(walk_exact(nack_vec, sizeof nack_vec), 1);
}

static void test_iter_errors(void **state)
{
    (void)state;
    uint8_t b[12];
    lc_rtcp_iter_t it;
    lc_rtcp_hdr_t h;
    const char *err = NULL;

    memcpy(b, pli_vec, 12);
    b[0] = 0x41;                      /* version 1 */
    lc_rtcp_iter_init(&it, b, 12);
    assert_int_equal(lc_rtcp_iter_next(&it, &h, &err), -1);
    assert_non_null(err);
    assert_int_equal(it.off, 0);
    b[0] = 0x81;
    b[3] = 3;                         /* 16 bytes claimed, 12 present */
    lc_rtcp_iter_init(&it, b, 12);
    assert_int_equal(lc_rtcp_iter_next(&it, &h, NULL), -1);
    b[3] = 2;
    b[0] = 0xa1;                      /* padding; count 2 */
    b[11] = 2;
    lc_rtcp_iter_init(&it, b, 12);
    assert_int_equal(lc_rtcp_iter_next(&it, &h, NULL), 1);
    assert_int_equal(h.body_len, 6);
    b[11] = 0;                        /* padding count 0 */
    lc_rtcp_iter_init(&it, b, 12);
    assert_int_equal(lc_rtcp_iter_next(&it, &h, NULL), -1);
    b[11] = 9;                        /* more than the body */
    lc_rtcp_iter_init(&it, b, 12);
    assert_int_equal(lc_rtcp_iter_next(&it, &h, NULL), -1);
    b[11] = 8;                        /* exactly the body */
    lc_rtcp_iter_init(&it, b, 12);
    assert_int_equal(lc_rtcp_iter_next(&it, &h, NULL), 1);
    assert_int_equal(h.body_len, 0);
    assert_int_equal(lc_rtcp_pli_parse(&h, &(lc_rtcp_fb_t){0}, NULL), -1);
}

/* out[0..len) must be refused untouched at every smaller cap. */
#define CHECK_CAPS(call_with_cap, len)                                            \
    do {                                                                          \
        for (size_t cap_ = 0; cap_ < (len); cap_++) {                             \
            uint8_t small_[1024];                                                  \
            memset(small_, 0xaa, sizeof small_);                                  \
            uint8_t *out_ = small_;                                               \
            size_t cap = cap_;                                                    \
            assert_int_equal((call_with_cap), 0);                                 \
            for (size_t k_ = 0; k_ < sizeof small_; k_++)                         \
                assert_int_equal(small_[k_], 0xaa);                               \
            (void)cap;                                                            \
        }                                                                         \
    } while (0)

static void rb_equal(const lc_rtcp_rb_t *a, const lc_rtcp_rb_t *b)
{
    assert_int_equal(a->ssrc, b->ssrc);
    assert_int_equal(a->fraction_lost, b->fraction_lost);
    assert_int_equal(a->cumulative_lost, b->cumulative_lost);
    assert_int_equal(a->ext_highest_seq, b->ext_highest_seq);
    assert_int_equal(a->jitter, b->jitter);
    assert_int_equal(a->lsr, b->lsr);
    assert_int_equal(a->dlsr, b->dlsr);
}

static void test_build_reports(void **state)
{
    (void)state;
    lc_rtcp_sr_t sr = { .ssrc = 1, .ntp = 0x0102030405060708ull, .rtp_ts = 9,
                        .packet_count = 10, .octet_count = 11, .rc = 2 };
    lc_rtcp_rr_t rr = { .ssrc = 2, .rc = LC_RTCP_MAX_RB };
    lc_rtcp_sr_t sr2;
    lc_rtcp_rr_t rr2;
    lc_rtcp_hdr_t h[2];
    uint8_t buf[1024];
    size_t len;

    sr.rb[0] = (lc_rtcp_rb_t){ 3, 255, -8388608, 0xffffffff, 4, 5, 6 };
    sr.rb[1] = (lc_rtcp_rb_t){ 7, 0, 8388607, 0, 0, 0, 0 };
    len = lc_rtcp_build_sr(buf, sizeof buf, &sr);
    assert_int_equal(len, 28 + 48);
    first(buf, len, h);
    assert_int_equal(lc_rtcp_sr_parse(h, &sr2, NULL), 0);
    assert_int_equal(sr2.ssrc, 1);
    assert_true(sr2.ntp == sr.ntp);
    assert_int_equal(sr2.rtp_ts, 9);
    assert_int_equal(sr2.packet_count, 10);
    assert_int_equal(sr2.octet_count, 11);
    assert_int_equal(sr2.rc, 2);
    rb_equal(&sr.rb[0], &sr2.rb[0]);
    rb_equal(&sr.rb[1], &sr2.rb[1]);
    CHECK_CAPS(lc_rtcp_build_sr(out_, cap, &sr), len);

    /* the known vector rebuilt byte for byte */
    first(sr_vec, sizeof sr_vec, h);
    assert_int_equal(lc_rtcp_sr_parse(h, &sr2, NULL), 0);
    assert_int_equal(lc_rtcp_build_sr(buf, sizeof buf, &sr2), sizeof sr_vec);
    assert_memory_equal(buf, sr_vec, sizeof sr_vec);

    /* cumulative lost saturates instead of wrapping */
    sr.rb[0].cumulative_lost = -9000000;
    sr.rb[1].cumulative_lost = 9000000;
    len = lc_rtcp_build_sr(buf, sizeof buf, &sr);
    first(buf, len, h);
    assert_int_equal(lc_rtcp_sr_parse(h, &sr2, NULL), 0);
    assert_int_equal(sr2.rb[0].cumulative_lost, -8388608);
    assert_int_equal(sr2.rb[1].cumulative_lost, 8388607);

    for (unsigned i = 0; i < LC_RTCP_MAX_RB; i++)
        rr.rb[i] = (lc_rtcp_rb_t){ 100 + i, (uint8_t)i, -(int32_t)i, i, i, i, i };
    len = lc_rtcp_build_rr(buf, sizeof buf, &rr);
    assert_int_equal(len, 8 + 24 * 31);
    first(buf, len, h);
    assert_int_equal(lc_rtcp_rr_parse(h, &rr2, NULL), 0);
    assert_int_equal(rr2.ssrc, 2);
    assert_int_equal(rr2.rc, 31);
    for (unsigned i = 0; i < LC_RTCP_MAX_RB; i++)
        rb_equal(&rr.rb[i], &rr2.rb[i]);
    CHECK_CAPS(lc_rtcp_build_rr(out_, cap, &rr), len);
    rr.rc = 32;
    assert_int_equal(lc_rtcp_build_rr(buf, sizeof buf, &rr), 0);
    rr.rc = 0;
    assert_int_equal(lc_rtcp_build_rr(buf, sizeof buf, &rr), 8);
}

static void test_build_sdes_bye(void **state)
{
    (void)state;
    uint8_t buf[512];
    char cname[255];
    lc_rtcp_hdr_t h[2];
    lc_rtcp_sdes_t sdes;
    lc_rtcp_bye_t bye;
    uint32_t ssrcs[31];
    size_t len;

    assert_int_equal(lc_rtcp_build_sdes_cname(buf, sizeof buf, 0x11223344, "abcd", 4), 16);
    assert_memory_equal(buf, sdes_vec, 16);
    CHECK_CAPS(lc_rtcp_build_sdes_cname(out_, cap, 0x11223344, "abcd", 4), 16);
    /* every CNAME length: the terminating null always fits */
    memset(cname, 'c', sizeof cname);
    for (size_t n = 1; n <= 255; n++) {
        len = lc_rtcp_build_sdes_cname(buf, sizeof buf, (uint32_t)n, cname, n);
        assert_int_equal(len % 4, 0);
        assert_true(len >= 8 + 2 + n + 1);
        assert_int_equal(walk_exact(buf, len), 1);
        first(buf, len, h);
        assert_int_equal(lc_rtcp_sdes_parse(h, &sdes, NULL), 0);
        assert_int_equal(sdes.chunk[0].ssrc, n);
        assert_int_equal(sdes.chunk[0].cname_len, n);
    }
    assert_int_equal(lc_rtcp_build_sdes_cname(buf, sizeof buf, 1, cname, 0), 0);
    assert_int_equal(lc_rtcp_build_sdes_cname(buf, sizeof buf, 1, cname, 256), 0);

    ssrcs[0] = 0x11223344;
    assert_int_equal(lc_rtcp_build_bye(buf, sizeof buf, ssrcs, 1, "bye!", 4), 16);
    assert_memory_equal(buf, bye_vec, 16);
    CHECK_CAPS(lc_rtcp_build_bye(out_, cap, ssrcs, 1, "bye!", 4), 16);
    for (unsigned i = 0; i < 31; i++)
        ssrcs[i] = 1000 + i;
    for (size_t r = 0; r < 9; r++) {
        len = lc_rtcp_build_bye(buf, sizeof buf, ssrcs, 31, "reason!!", r);
        first(buf, len, h);
        assert_int_equal(lc_rtcp_bye_parse(h, &bye, NULL), 0);
        assert_int_equal(bye.count, 31);
        assert_int_equal(bye.ssrc[30], 1030);
        assert_int_equal(bye.reason_len, r);
        if (r > 0)
            assert_memory_equal(bye.reason, "reason!!", r);
        else
            assert_null(bye.reason);
    }
    assert_int_equal(lc_rtcp_build_bye(buf, sizeof buf, ssrcs, 0, NULL, 0), 0);
    assert_int_equal(lc_rtcp_build_bye(buf, sizeof buf, ssrcs, 32, NULL, 0), 0);
}

/* Build a NACK of in[0..n), check the entry count, parse it back. */
static void nack_roundtrip(const uint16_t *in, size_t n, size_t entries, const uint16_t *expect,
                           size_t n_expect)
{
    uint8_t buf[512];
    lc_rtcp_hdr_t h[2];
    lc_rtcp_fb_t fb;
    uint16_t out[256];
    size_t len = lc_rtcp_build_nack(buf, sizeof buf, 0xaaaa, 0xbbbb, in, n);

    assert_int_equal(len, 12 + 4 * entries);
    first(buf, len, h);
    assert_int_equal(lc_rtcp_nack_parse(h, &fb, out, 256, NULL), n_expect);
    assert_int_equal(fb.sender_ssrc, 0xaaaa);
    assert_int_equal(fb.media_ssrc, 0xbbbb);
    assert_memory_equal(out, expect, n_expect * sizeof *out);
    CHECK_CAPS(lc_rtcp_build_nack(out_, cap, 0xaaaa, 0xbbbb, in, n), len);
}

static void test_build_nack_packing(void **state)
{
    (void)state;
    uint16_t seqs[64];

    /* the known vector */
    {
        static const uint16_t s[] = { 100, 101, 103 };
        uint8_t buf[32];
        assert_int_equal(lc_rtcp_build_nack(buf, sizeof buf, 1, 2, s, 3), sizeof nack_vec);
        assert_memory_equal(buf, nack_vec, sizeof nack_vec);
    }
    /* across the wrap, one entry: PID 65535, BLP 0b11 */
    {
        static const uint16_t s[] = { 65535, 0, 1 };
        uint8_t buf[32];
        assert_int_equal(lc_rtcp_build_nack(buf, sizeof buf, 1, 2, s, 3), 16);
        assert_int_equal(buf[12], 0xff);
        assert_int_equal(buf[13], 0xff);
        assert_int_equal(buf[14], 0x00);
        assert_int_equal(buf[15], 0x03);
        nack_roundtrip(s, 3, 1, s, 3);
    }
    /* 17 consecutive across the wrap fill one entry exactly (BLP 0xffff) */
    for (unsigned i = 0; i < 17; i++)
        seqs[i] = (uint16_t)(65530 + i);
    nack_roundtrip(seqs, 17, 1, seqs, 17);
    /* the 18th needs a second entry */
    seqs[17] = (uint16_t)(65530 + 17);
    nack_roundtrip(seqs, 18, 2, seqs, 18);
    /* distance 16 fits, 17 does not */
    {
        static const uint16_t a[] = { 1, 17 }, b[] = { 1, 18 }, c[] = { 65535, 15 };
        nack_roundtrip(a, 2, 1, a, 2);
        nack_roundtrip(b, 2, 2, b, 2);
        nack_roundtrip(c, 2, 1, c, 2);
    }
    /* duplicates collapse; out-of-order input is still correct, just larger */
    {
        static const uint16_t d[] = { 5, 5, 6, 6 }, de[] = { 5, 6 };
        static const uint16_t o[] = { 10, 5, 7 };
        nack_roundtrip(d, 4, 1, de, 2);
        nack_roundtrip(o, 3, 2, (const uint16_t[]){ 10, 5, 7 }, 3);
    }
    /* sparse: every other seq from 65500 across the wrap, 40 seqs */
    for (unsigned i = 0; i < 40; i++)
        seqs[i] = (uint16_t)(65500 + 2 * i);
    /* each entry covers PID and 8 more (distances 2..16) */
    nack_roundtrip(seqs, 40, 5, seqs, 40);
    /* nothing to NACK */
    {
        uint8_t buf[32];
        assert_int_equal(lc_rtcp_build_nack(buf, sizeof buf, 1, 2, seqs, 0), 0);
    }
}

static void test_build_pli_fir_remb(void **state)
{
    (void)state;
    uint8_t buf[2048];
    lc_rtcp_hdr_t h[2];
    lc_rtcp_fb_t fb;
    lc_rtcp_fir_entry_t e[3] = { { 2, 7 }, { 0xffffffff, 255 }, { 0, 0 } }, e2[3];
    lc_rtcp_remb_t remb;
    uint32_t ssrcs[255];
    size_t len;

    assert_int_equal(lc_rtcp_build_pli(buf, sizeof buf, 1, 2), sizeof pli_vec);
    assert_memory_equal(buf, pli_vec, sizeof pli_vec);
    CHECK_CAPS(lc_rtcp_build_pli(out_, cap, 1, 2), 12);

    assert_int_equal(lc_rtcp_build_fir(buf, sizeof buf, 1, e, 1), sizeof fir_vec);
    assert_memory_equal(buf, fir_vec, sizeof fir_vec);
    len = lc_rtcp_build_fir(buf, sizeof buf, 1, e, 3);
    assert_int_equal(len, 36);
    first(buf, len, h);
    assert_int_equal(lc_rtcp_fir_parse(h, &fb, e2, 3, NULL), 3);
    for (unsigned i = 0; i < 3; i++) {
        assert_int_equal(e2[i].ssrc, e[i].ssrc);
        assert_int_equal(e2[i].seq_nr, e[i].seq_nr);
    }
    assert_int_equal(fb.media_ssrc, 0);
    CHECK_CAPS(lc_rtcp_build_fir(out_, cap, 1, e, 3), 36);
    assert_int_equal(lc_rtcp_build_fir(buf, sizeof buf, 1, e, 0), 0);

    ssrcs[0] = 0x0a0b0c0d;
    assert_int_equal(lc_rtcp_build_remb(buf, sizeof buf, 1, 1000000, ssrcs, 1), sizeof remb_vec);
    assert_memory_equal(buf, remb_vec, sizeof remb_vec);
    CHECK_CAPS(lc_rtcp_build_remb(out_, cap, 1, 1000000, ssrcs, 1), sizeof remb_vec);
    for (unsigned i = 0; i < 255; i++)
        ssrcs[i] = i * 7919u;
    {
        static const uint64_t rates[] = { 0, 1, 262143, 262144, 262145, 1000000,
                                          123456789, 5000000000ull, UINT64_MAX };
        for (unsigned r = 0; r < sizeof rates / sizeof rates[0]; r++) {
            len = lc_rtcp_build_remb(buf, sizeof buf, 9, rates[r], ssrcs, 255);
            assert_int_equal(len, 20 + 4 * 255);
            first(buf, len, h);
            assert_int_equal(lc_rtcp_remb_parse(h, &remb, NULL), 0);
            assert_int_equal(remb.sender_ssrc, 9);
            assert_int_equal(remb.n_ssrc, 255);
            assert_memory_equal(remb.ssrc, ssrcs, sizeof ssrcs);
            /* rounded down, by less than one part in 2^17 */
            assert_true(remb.bitrate <= rates[r]);
            assert_true(rates[r] - remb.bitrate <= rates[r] >> 17);
            if (rates[r] < 262144)
                assert_true(remb.bitrate == rates[r]);
        }
    }
    assert_int_equal(lc_rtcp_build_remb(buf, sizeof buf, 9, 1, ssrcs, 256), 0);
    assert_int_equal(lc_rtcp_build_remb(buf, sizeof buf, 9, 1, NULL, 0), 20);
}

static void test_build_compound(void **state)
{
    (void)state;
    uint8_t buf[256];
    lc_rtcp_rr_t rr = { .ssrc = 5, .rc = 1, .rb = { { .ssrc = 6, .jitter = 7 } } };
    size_t len = 0, n;
    static const uint16_t lost[] = { 65534, 65535, 0, 3 };

    n = lc_rtcp_build_rr(buf + len, sizeof buf - len, &rr), len += n;
    assert_int_equal(n, 32);
    n = lc_rtcp_build_sdes_cname(buf + len, sizeof buf - len, 5, "x", 1), len += n;
    assert_int_equal(n, 12);
    n = lc_rtcp_build_nack(buf + len, sizeof buf - len, 5, 6, lost, 4), len += n;
    assert_int_equal(n, 16);
    n = lc_rtcp_build_pli(buf + len, sizeof buf - len, 5, 6), len += n;
    assert_int_equal(walk_exact(buf, len), 4);
    check_prefixes(buf, len);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sr_vector),
        cmocka_unit_test(test_sr_short_for_count),
        cmocka_unit_test(test_rr_empty),
        cmocka_unit_test(test_sdes_bye_vectors),
        cmocka_unit_test(test_sdes_malformed),
        cmocka_unit_test(test_feedback_vectors),
        cmocka_unit_test(test_remb_malformed),
        cmocka_unit_test(test_twcc_vectors),
        cmocka_unit_test(test_twcc_malformed),
        cmocka_unit_test(test_compound_and_reduced_size),
        cmocka_unit_test(test_iter_errors),
        cmocka_unit_test(test_build_reports),
        cmocka_unit_test(test_build_sdes_bye),
        cmocka_unit_test(test_build_nack_packing),
        cmocka_unit_test(test_build_pli_fir_remb),
        cmocka_unit_test(test_build_compound),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
