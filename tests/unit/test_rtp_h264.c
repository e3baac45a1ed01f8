/*
 * test_rtp_h264.c: unit tests of src/common/media/rtp_h264.c.
 *
 * Vectors: the SPS/PPS x264 (core 164, baseline, 640x360) writes and the
 * exact FLV sequence header FFmpeg's flv muxer builds from them, so the
 * record we build must match it byte for byte. Round trips packetize ->
 * depacketize for NALUs around the MTU boundary and a 300 KB IDR; STAP-A
 * and FU-A built by hand; loss in the middle of a FU-A (access unit
 * dropped, loss reported, the next one fine); reordering, duplicates and
 * sequence wrap (not supported, but nothing breaks); every malformed
 * payload reports loss rather than emitting a broken access unit.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/media/rtp_h264.h"

/* x264 640x360 baseline, as FFmpeg's flv muxer sends them (sequence header body) */
static const uint8_t ffmpeg_seq_header[] = {
    0x17, 0x00, 0x00, 0x00, 0x00, 0x01, 0x42, 0xc0, 0x1e, 0xff, 0xe1, 0x00, 0x18, 0x67, 0x42, 0xc0,
    0x1e, 0xdc, 0x0a, 0x02, 0xff, 0x97, 0x01, 0x10, 0x00, 0x00, 0x03, 0x00, 0x10, 0x00, 0x00, 0x03,
    0x03, 0xc8, 0xf1, 0x62, 0xf8, 0x01, 0x00, 0x05, 0x68, 0xce, 0x0f, 0x2c, 0x80,
};
static const uint8_t sps[] = {
    0x67, 0x42, 0xc0, 0x1e, 0xdc, 0x0a, 0x02, 0xff, 0x97, 0x01, 0x10, 0x00, 0x00, 0x03, 0x00, 0x10,
    0x00, 0x00, 0x03, 0x03, 0xc8, 0xf1, 0x62, 0xf8,
};
static const uint8_t pps[] = { 0x68, 0xce, 0x0f, 0x2c, 0x80 };

/* ---- helpers: collect payloads and access units ---- */

#define MAX_PKTS 4096

typedef struct {
    uint8_t *data[MAX_PKTS];
    size_t len[MAX_PKTS];
    int marker[MAX_PKTS];
    int n;
} pkts_t;

static void on_emit(void *ctx, const uint8_t *p, size_t len, int marker)
{
    pkts_t *k = ctx;

    assert_true(k->n < MAX_PKTS);
    assert_true(len >= 1);
    k->data[k->n] = malloc(len);
    assert_non_null(k->data[k->n]);
    memcpy(k->data[k->n], p, len);
    k->len[k->n] = len;
    k->marker[k->n] = marker;
    k->n++;
}

static void pkts_free(pkts_t *k)
{
    for (int i = 0; i < k->n; i++)
        free(k->data[i]);
    k->n = 0;
}

typedef struct {
    uint8_t *data;
    size_t len;
    lc_rtp_h264_au_t au;
    int count;
} aus_t;

static void on_au(void *ctx, const lc_rtp_h264_au_t *au)
{
    aus_t *a = ctx;

    free(a->data);
    a->data = malloc(au->len);
    assert_non_null(a->data);
    memcpy(a->data, au->data, au->len);
    a->len = au->len;
    a->au = *au;
    a->au.data = a->data;
    a->count++;
}

typedef struct {
    lc_rtp_h264_depack_t d;
    uint8_t *buf;
    aus_t aus;
    uint16_t seq;
    int lost;
    const char *err;
} rx_t;

static void rx_init(rx_t *r, size_t cap, uint16_t first_seq)
{
    memset(r, 0, sizeof *r);
    r->buf = malloc(cap);
    assert_non_null(r->buf);
    lc_rtp_h264_depack_init(&r->d, r->buf, cap, on_au, &r->aus);
    r->seq = first_seq;
}

static void rx_free(rx_t *r)
{
    free(r->buf);
    free(r->aus.data);
}

/* push a heap copy of exactly len bytes, so ASan sees any over-read */
static int rx_push_seq(rx_t *r, const uint8_t *p, size_t len, uint16_t seq, uint32_t ts, int marker)
{
    uint8_t *copy = malloc(len ? len : 1);
    int rc;

    assert_non_null(copy);
    if (len)
        memcpy(copy, p, len);
    r->err = NULL;
    rc = lc_rtp_h264_depack_push(&r->d, copy, len, seq, ts, marker, &r->err);
    free(copy);
    assert_true(rc == 0 || rc == LC_RTP_H264_LOST);
    if (rc == LC_RTP_H264_LOST) {
        assert_non_null(r->err);
        r->lost++;
    }
    return rc;
}

static int rx_push(rx_t *r, const uint8_t *p, size_t len, uint32_t ts, int marker)
{
    return rx_push_seq(r, p, len, r->seq++, ts, marker);
}

static void rx_pkts(rx_t *r, const pkts_t *k, uint32_t ts)
{
    for (int i = 0; i < k->n; i++)
        assert_int_equal(rx_push(r, k->data[i], k->len[i], ts, k->marker[i]), 0);
}

/* an AVCC access unit of NALUs with the given types and sizes */
static size_t make_au(uint8_t *out, const int *types, const size_t *sizes, int n, unsigned seed)
{
    size_t pos = 0;

    for (int i = 0; i < n; i++) {
        out[pos++] = (uint8_t)(sizes[i] >> 24);
        out[pos++] = (uint8_t)(sizes[i] >> 16);
        out[pos++] = (uint8_t)(sizes[i] >> 8);
        out[pos++] = (uint8_t)sizes[i];
        out[pos] = (uint8_t)(0x60 | types[i]);
        for (size_t j = 1; j < sizes[i]; j++)
            out[pos + j] = (uint8_t)(seed + j * 7 + (j >> 8));
        pos += sizes[i];
    }
    return pos;
}

static int pack(const uint8_t *au, size_t len, size_t mtu, const uint8_t *s, const uint8_t *p, pkts_t *k)
{
    lc_rtp_h264_pack_opts_t o = { .mtu = mtu };
    const char *err = NULL;
    int rc;

    if (s != NULL) {
        o.sps = s, o.sps_len = sizeof sps;
        o.pps = p, o.pps_len = sizeof pps;
    }
    rc = lc_rtp_h264_packetize(au, len, &o, on_emit, k, &err);
    assert_int_equal(rc, k->n);
    for (int i = 0; i < k->n; i++) {
        assert_true(k->len[i] <= mtu);
        assert_int_equal(k->marker[i], i == k->n - 1);
    }
    return rc;
}

/* ---- tests ---- */

static void test_mtu_boundary(void **state)
{
    (void)state;
    static uint8_t au[8192];
    const size_t mtu = 1200;
    const size_t sizes[] = { 1, 2, mtu - 1, mtu, mtu + 1, mtu + 2, 2 * (mtu - 2), 2 * (mtu - 2) + 1,
                             2 * (mtu - 2) + 2, 3 * mtu };
    /* how many payloads each takes: single NAL up to mtu, then FU-A
     * carrying mtu-2 bytes of the NALU after its header */
    const int want[] = { 1, 1, 1, 1, 2, 2, 2, 2, 3, 4 };
    rx_t r;

    rx_init(&r, LC_RTP_H264_MAX_AU, 65530);     /* crosses the sequence wrap */
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        int types[2] = { i % 2 ? 5 : 1, 1 };
        size_t sz[2] = { sizes[i], 700 };
        pkts_t k = { .n = 0 };

        for (int n = 1; n <= 2; n++) {
            size_t len = make_au(au, types, sz, n, (unsigned)i);

            assert_int_equal(pack(au, len, mtu, NULL, NULL, &k), want[i] + (n - 1));
            rx_pkts(&r, &k, (uint32_t)(i * 6000 + n * 3000));
            assert_int_equal(r.aus.count, (int)(i * 2) + n);
            assert_int_equal(r.aus.len, len);
            assert_memory_equal(r.aus.data, au, len);
            assert_int_equal(r.aus.au.nalus, n);
            assert_int_equal(r.aus.au.keyframe, i % 2);
            assert_int_equal(r.aus.au.discont, 0);
            assert_int_equal(r.aus.au.rtp_ts, (uint32_t)(i * 6000 + n * 3000));
            pkts_free(&k);
        }
    }
    assert_int_equal(r.lost, 0);
    rx_free(&r);
}

/* A 300 KB IDR with SPS/PPS prepended as a STAP-A, at several MTUs. */
static void test_big_idr(void **state)
{
    (void)state;
    size_t big = 300 * 1024;
    uint8_t *au = malloc(big + 64);
    int types[] = { 9, 5 };
    size_t sizes[] = { 2, big };
    size_t len = make_au(au, types, sizes, 2, 3);
    const size_t mtus[] = { 1200, 1500, 100, 3 };
    rx_t r;

    assert_non_null(au);
    rx_init(&r, LC_RTP_H264_MAX_AU, 1);
    for (size_t m = 0; m < sizeof mtus / sizeof mtus[0]; m++) {
        pkts_t *k = calloc(1, sizeof *k);
        size_t pos = 0;
        uint8_t *want = malloc(len + 64);

        assert_non_null(k);
        assert_non_null(want);
        if (mtus[m] < 100) {
            /* too many payloads for the collector: only the small AUD + SPS/PPS */
            int t[] = { 9, 5 };
            size_t s[] = { 2, 40 };
            len = make_au(au, t, s, 2, 3);
        }
        pack(au, len, mtus[m], sps, pps, k);
        /* AUD stays first, then SPS and PPS */
        assert_memory_equal(k->data[0], au + 4, 2);
        if (mtus[m] >= 1 + 2 + sizeof sps + 2 + sizeof pps)
            assert_int_equal(k->data[1][0] & 0x1f, 24);     /* STAP-A */
        else
            assert_int_equal(k->data[1][0] & 0x1f, 28);     /* SPS as FU-A */
        rx_pkts(&r, k, (uint32_t)(m * 3000));
        assert_int_equal(r.aus.count, (int)m + 1);
        /* what comes out: AUD, SPS, PPS, IDR */
        memcpy(want, au, 6);
        pos = 6;
        want[pos++] = 0, want[pos++] = 0, want[pos++] = 0, want[pos++] = sizeof sps;
        memcpy(want + pos, sps, sizeof sps), pos += sizeof sps;
        want[pos++] = 0, want[pos++] = 0, want[pos++] = 0, want[pos++] = sizeof pps;
        memcpy(want + pos, pps, sizeof pps), pos += sizeof pps;
        memcpy(want + pos, au + 6, len - 6), pos += len - 6;
        assert_int_equal(r.aus.len, pos);
        assert_memory_equal(r.aus.data, want, pos);
        assert_int_equal(r.aus.au.nalus, 4);
        assert_int_equal(r.aus.au.keyframe, 1);
        assert_int_equal(r.aus.au.config_changed, m == 0);
        pkts_free(k);
        free(k);
        free(want);
    }
    {
        size_t n;
        const uint8_t *p = lc_rtp_h264_depack_sps(&r.d, &n);
        assert_int_equal(n, sizeof sps);
        assert_memory_equal(p, sps, n);
        p = lc_rtp_h264_depack_pps(&r.d, &n);
        assert_int_equal(n, sizeof pps);
        assert_memory_equal(p, pps, n);
    }
    assert_int_equal(r.lost, 0);
    rx_free(&r);
    free(au);
}

/* No SPS/PPS prepended when the AU has its own, or is not a keyframe. */
static void test_no_prepend(void **state)
{
    (void)state;
    uint8_t au[256];
    int t1[] = { 7, 8, 5 }, t2[] = { 1 };
    size_t s1[] = { 10, 4, 50 }, s2[] = { 50 };
    size_t len;
    pkts_t k = { .n = 0 };

    len = make_au(au, t1, s1, 3, 0);
    assert_int_equal(pack(au, len, 1200, sps, pps, &k), 3);
    assert_int_equal(k.data[0][0] & 0x1f, 7);
    pkts_free(&k);
    len = make_au(au, t2, s2, 1, 0);
    assert_int_equal(pack(au, len, 1200, sps, pps, &k), 1);
    pkts_free(&k);
}

/* A STAP-A as Chrome sends it ahead of a keyframe, then the IDR. */
static void test_stap_a_input(void **state)
{
    (void)state;
    uint8_t stap[64], idr[] = { 0x65, 0x88, 0x84, 0x00, 0x33 };
    size_t n = 0;
    rx_t r;

    stap[n++] = 0x78;   /* NRI 3, type 24 */
    stap[n++] = 0, stap[n++] = sizeof sps;
    memcpy(stap + n, sps, sizeof sps), n += sizeof sps;
    stap[n++] = 0, stap[n++] = sizeof pps;
    memcpy(stap + n, pps, sizeof pps), n += sizeof pps;
    rx_init(&r, 4096, 100);
    assert_int_equal(rx_push(&r, stap, n, 9000, 0), 0);
    assert_int_equal(r.aus.count, 0);
    assert_int_equal(rx_push(&r, idr, sizeof idr, 9000, 1), 0);
    assert_int_equal(r.aus.count, 1);
    assert_int_equal(r.aus.au.nalus, 3);
    assert_int_equal(r.aus.au.keyframe, 1);
    assert_int_equal(r.aus.au.config_changed, 1);
    assert_int_equal(r.aus.len, 4 + sizeof sps + 4 + sizeof pps + 4 + sizeof idr);
    assert_memory_equal(r.aus.data + 4, sps, sizeof sps);
    assert_memory_equal(r.aus.data + 12 + sizeof sps + sizeof pps, idr, sizeof idr);
    /* the same parameter sets again: no change reported */
    assert_int_equal(rx_push(&r, stap, n, 12000, 1), 0);
    assert_int_equal(r.aus.count, 2);
    assert_int_equal(r.aus.au.config_changed, 0);
    assert_int_equal(r.aus.au.keyframe, 0);
    /* undefined NAL types 0, 30, 31 are ignored; an AU of only those is not emitted */
    assert_int_equal(rx_push(&r, (const uint8_t *)"\x1e\x01", 2, 15000, 1), 0);
    assert_int_equal(rx_push(&r, (const uint8_t *)"\x00\x01", 2, 18000, 1), 0);
    assert_int_equal(r.aus.count, 2);
    /* ... and taken out of STAP-A and FU-A (a FU-A of "type 28") */
    assert_int_equal(rx_push(&r, (const uint8_t *)"\x18\x00\x02\x7e\x01\x00\x02\x41\x09", 9, 21000, 0), 0);
    assert_int_equal(rx_push(&r, (const uint8_t *)"\x7c\xdc\x05", 3, 21000, 1), 0);
    assert_int_equal(r.aus.count, 3);
    assert_int_equal(r.aus.au.nalus, 1);
    assert_int_equal(r.aus.len, 6);
    assert_memory_equal(r.aus.data, "\0\0\0\x02\x41\x09", 6);
    assert_int_equal(r.lost, 0);
    rx_free(&r);
}

/* FU-A with its middle packet lost: AU dropped, loss reported once, the
 * next AU comes out whole and flagged as after a discontinuity. */
static void test_fu_loss(void **state)
{
    (void)state;
    static uint8_t au[16384];
    int t[] = { 5 };
    size_t s[] = { 5000 };
    size_t len = make_au(au, t, s, 1, 9);
    pkts_t k = { .n = 0 };
    rx_t r;

    rx_init(&r, LC_RTP_H264_MAX_AU, 0);
    assert_int_equal(pack(au, len, 1200, NULL, NULL, &k), 5);
    for (int i = 0; i < k.n; i++) {
        if (i == 2) {
            r.seq++;    /* lost on the way */
            continue;
        }
        assert_int_equal(rx_push(&r, k.data[i], k.len[i], 3000, k.marker[i]), i == 3 ? LC_RTP_H264_LOST : 0);
        if (i == 3)
            assert_string_equal(r.err, "sequence gap");
    }
    assert_int_equal(r.aus.count, 0);
    assert_int_equal(r.lost, 1);
    rx_pkts(&r, &k, 6000);
    assert_int_equal(r.aus.count, 1);
    assert_int_equal(r.aus.au.discont, 1);
    assert_int_equal(r.aus.len, len);
    assert_memory_equal(r.aus.data, au, len);
    rx_pkts(&r, &k, 9000);
    assert_int_equal(r.aus.count, 2);
    assert_int_equal(r.aus.au.discont, 0);

    /* the marker packet lost: the gap lands on the next AU's first packet,
     * so both are dropped; the one after is fine */
    for (int i = 0; i < k.n - 1; i++)
        assert_int_equal(rx_push(&r, k.data[i], k.len[i], 12000, 0), 0);
    r.seq++;
    for (int i = 0; i < k.n; i++)
        rx_push(&r, k.data[i], k.len[i], 15000, k.marker[i]);
    assert_int_equal(r.aus.count, 2);
    assert_int_equal(r.lost, 2);
    rx_pkts(&r, &k, 18000);
    assert_int_equal(r.aus.count, 3);
    assert_int_equal(r.aus.au.discont, 1);
    pkts_free(&k);
    rx_free(&r);
}

/* Joining mid-FU (no start seen), FU-A broken by the sender without a
 * sequence gap, marker inside a FU. */
static void test_fu_broken(void **state)
{
    (void)state;
    static uint8_t au[8192];
    int t[] = { 1 };
    size_t s[] = { 3000 };
    size_t len = make_au(au, t, s, 1, 1);
    pkts_t k = { .n = 0 };
    rx_t r;

    rx_init(&r, LC_RTP_H264_MAX_AU, 7);
    assert_int_equal(pack(au, len, 1200, NULL, NULL, &k), 3);
    /* joined at the second fragment */
    assert_int_equal(rx_push(&r, k.data[1], k.len[1], 100, 0), LC_RTP_H264_LOST);
    assert_string_equal(r.err, "FU-A without its start");
    assert_int_equal(rx_push(&r, k.data[2], k.len[2], 100, 1), 0);
    rx_pkts(&r, &k, 200);
    assert_int_equal(r.aus.count, 1);
    assert_int_equal(r.aus.au.discont, 1);
    /* FU start, then a single NAL of the same AU */
    assert_int_equal(rx_push(&r, k.data[0], k.len[0], 300, 0), 0);
    assert_int_equal(rx_push(&r, (const uint8_t *)"\x41\x01", 2, 300, 1), LC_RTP_H264_LOST);
    /* FU start, then the next AU's start without the end: the cut one is
     * lost, the new one is kept */
    assert_int_equal(rx_push(&r, k.data[0], k.len[0], 400, 0), 0);
    assert_int_equal(rx_push(&r, k.data[0], k.len[0], 500, 0), LC_RTP_H264_LOST);
    assert_string_equal(r.err, "FU-A cut short by the next access unit");
    assert_int_equal(rx_push(&r, k.data[1], k.len[1], 500, 0), 0);
    assert_int_equal(rx_push(&r, k.data[2], k.len[2], 500, 1), 0);
    assert_int_equal(r.aus.count, 2);
    assert_memory_equal(r.aus.data, au, len);
    /* two starts in a row */
    assert_int_equal(rx_push(&r, k.data[0], k.len[0], 600, 0), 0);
    assert_int_equal(rx_push(&r, k.data[0], k.len[0], 600, 0), LC_RTP_H264_LOST);
    /* marker on a middle fragment */
    assert_int_equal(rx_push(&r, k.data[0], k.len[0], 700, 0), 0);
    assert_int_equal(rx_push(&r, k.data[1], k.len[1], 700, 1), LC_RTP_H264_LOST);
    assert_string_equal(r.err, "marker bit inside a FU-A");
    rx_pkts(&r, &k, 800);
    assert_int_equal(r.aus.count, 3);
    pkts_free(&k);
    rx_free(&r);
}

/* Reordering is the jitter buffer's job: here it is loss, never a crash;
 * duplicates and late packets are ignored; a restarted sequence resyncs. */
static void test_reorder(void **state)
{
    (void)state;
    static uint8_t au[8192];
    int t[] = { 1 };
    size_t s[] = { 4000 };
    size_t len = make_au(au, t, s, 1, 5);
    pkts_t k = { .n = 0 };
    rx_t r;

    rx_init(&r, LC_RTP_H264_MAX_AU, 1000);
    pack(au, len, 1200, NULL, NULL, &k);
    /* 0 2 1 3: 2 is a gap, 1 is late (ignored), 3 continues a dropped AU */
    assert_int_equal(rx_push_seq(&r, k.data[0], k.len[0], 1000, 10, 0), 0);
    assert_int_equal(rx_push_seq(&r, k.data[2], k.len[2], 1002, 10, 0), LC_RTP_H264_LOST);
    assert_int_equal(rx_push_seq(&r, k.data[1], k.len[1], 1001, 10, 0), 0);
    assert_int_equal(rx_push_seq(&r, k.data[3], k.len[3], 1003, 10, 1), 0);
    assert_int_equal(r.aus.count, 0);
    /* whole AU, each packet sent twice */
    r.seq = 1004;
    for (int i = 0; i < k.n; i++) {
        assert_int_equal(rx_push_seq(&r, k.data[i], k.len[i], r.seq, 20, k.marker[i]), 0);
        assert_int_equal(rx_push_seq(&r, k.data[i], k.len[i], r.seq, 20, k.marker[i]), 0);
        r.seq++;
    }
    assert_int_equal(r.aus.count, 1);
    assert_memory_equal(r.aus.data, au, len);
    /* the sender restarts far back: ignored for a while, then resynced */
    for (int i = 0; i < 200; i++)
        rx_push_seq(&r, (const uint8_t *)"\x41\x02", 2, (uint16_t)(10 + i), (uint32_t)(30 + i), 1);
    assert_true(r.aus.count > 100);
    /* random order over many AUs: no crash, nothing bigger than the buffer */
    srand(7);
    for (int i = 0; i < 2000; i++) {
        int j = rand() % k.n;
        rx_push_seq(&r, k.data[j], k.len[j], (uint16_t)(r.seq + rand() % 5 - 2), (uint32_t)(i / 4), k.marker[j]);
        r.seq++;
        assert_true(r.aus.len <= LC_RTP_H264_MAX_AU);
    }
    pkts_free(&k);
    rx_free(&r);
}

/* A sender that leaves the marker off: the timestamp ends the AU. */
static void test_no_marker(void **state)
{
    (void)state;
    rx_t r;

    rx_init(&r, 1024, 0);
    assert_int_equal(rx_push(&r, (const uint8_t *)"\x65\x01\x02", 3, 0, 0), 0);
    assert_int_equal(rx_push(&r, (const uint8_t *)"\x65\x03", 2, 0, 0), 0);
    assert_int_equal(r.aus.count, 0);
    assert_int_equal(rx_push(&r, (const uint8_t *)"\x41\x04", 2, 3000, 0), 0);
    assert_int_equal(r.aus.count, 1);
    assert_int_equal(r.aus.au.nalus, 2);
    assert_int_equal(r.aus.au.keyframe, 1);
    assert_int_equal(r.aus.len, 4 + 3 + 4 + 2);
    assert_memory_equal(r.aus.data, "\0\0\0\x03\x65\x01\x02\0\0\0\x02\x65\x03", 13);
    lc_rtp_h264_depack_reset(&r.d);
    assert_int_equal(rx_push(&r, (const uint8_t *)"\x41\x05", 2, 6000, 1), 0);
    assert_int_equal(r.aus.count, 2);
    assert_int_equal(r.aus.au.discont, 1);
    assert_int_equal(r.aus.au.len, 6);
    rx_free(&r);
}

static void test_malformed(void **state)
{
    (void)state;
    static const struct {
        const char *p;
        size_t len;
    } bad[] = {
        { "", 0 },                                      /* empty */
        { "\x18", 1 },                                  /* empty STAP-A */
        { "\x18\x00", 2 },                              /* size truncated */
        { "\x18\x00\x03\x41\x01", 5 },                  /* unit overruns */
        { "\x18\x00\x00\x41", 4 },                      /* zero-size unit */
        { "\x18\x00\x01\x41\x00", 5 },                  /* trailing size truncated */
        { "\x1c", 1 },                                  /* FU-A header truncated */
        { "\x19\x00\x00\x00\x01\x41", 6 },              /* STAP-B */
        { "\x1a\x00", 2 }, { "\x1b\x00", 2 },           /* MTAP16, MTAP24 */
        { "\x1d\x85\x00", 3 },                          /* FU-B */
    };
    static uint8_t big[2048];
    rx_t r;

    rx_init(&r, 1024, 0);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(rx_push(&r, (const uint8_t *)"\x41\x01", 2, (uint32_t)i * 10, 0), 0);
        assert_int_equal(rx_push(&r, (const uint8_t *)bad[i].p, bad[i].len, (uint32_t)i * 10, 1),
                         LC_RTP_H264_LOST);
        assert_int_equal(r.aus.count, 0);
    }
    /* larger than the buffer: as one NAL, as STAP-A, as FU-A */
    memset(big, 0x41, sizeof big);
    assert_int_equal(rx_push(&r, big, 1021, 1000, 1), LC_RTP_H264_LOST);     /* 4 + 1021 > 1024 */
    assert_int_equal(r.aus.count, 0);
    assert_int_equal(rx_push(&r, big, 1020, 1001, 1), 0);
    assert_int_equal(r.aus.count, 1);
    assert_int_equal(r.aus.len, 1024);
    assert_int_equal(rx_push(&r, big, 2000, 1002, 1), LC_RTP_H264_LOST);
    assert_string_equal(r.err, "access unit too big");
    big[0] = 0x7c, big[1] = 0x81;      /* FU-A start, type 1 */
    assert_int_equal(rx_push(&r, big, 600, 1003, 0), 0);
    big[1] = 0x41;                      /* FU-A end */
    assert_int_equal(rx_push(&r, big, 600, 1003, 1), LC_RTP_H264_LOST);
    /* too many NALUs in one AU */
    rx_free(&r);
    rx_init(&r, LC_RTP_H264_MAX_AU, 0);
    for (int i = 0; i < LC_RTP_H264_MAX_NALUS; i++)
        assert_int_equal(rx_push(&r, (const uint8_t *)"\x41\x01", 2, 5, 0), 0);
    assert_int_equal(rx_push(&r, (const uint8_t *)"\x41\x01", 2, 5, 1), LC_RTP_H264_LOST);
    assert_string_equal(r.err, "too many NAL units in one access unit");
    assert_int_equal(r.aus.count, 0);
    rx_free(&r);
}

static void test_packetize_errors(void **state)
{
    (void)state;
    lc_rtp_h264_pack_opts_t o = { .mtu = 1200 };
    const char *err = NULL;
    pkts_t k = { .n = 0 };

    assert_int_equal(lc_rtp_h264_packetize((const uint8_t *)"", 0, &o, on_emit, &k, &err), -1);
    assert_string_equal(err, "no NAL unit RTP can carry in the access unit");
    assert_int_equal(lc_rtp_h264_packetize((const uint8_t *)"\0\0\0\x02\x41", 5, &o, on_emit, &k, &err), -1);
    assert_int_equal(lc_rtp_h264_packetize((const uint8_t *)"\0\0\0\x00", 4, &o, on_emit, &k, &err), -1);
    assert_int_equal(lc_rtp_h264_packetize((const uint8_t *)"\0\0\0\x01\x41\0\0", 7, &o, on_emit, &k, &err), -1);
    assert_int_equal(lc_rtp_h264_packetize((const uint8_t *)"\0\0\0\x01\x7c", 5, &o, on_emit, &k, &err), -1);
    assert_int_equal(k.n, 0);      /* nothing was sent before the error was found */
    /* a NALU of type 30 is left out */
    assert_int_equal(lc_rtp_h264_packetize((const uint8_t *)"\0\0\0\x01\x41\0\0\0\x01\x7e", 10, &o, on_emit, &k, &err), 1);
    assert_int_equal(k.marker[0], 1);
    pkts_free(&k);
    o.mtu = 2;
    assert_int_equal(lc_rtp_h264_packetize((const uint8_t *)"\0\0\0\x01\x41", 5, &o, on_emit, &k, &err), -1);
    o.mtu = LC_RTP_H264_MTU_MAX + 1;
    assert_int_equal(lc_rtp_h264_packetize((const uint8_t *)"\0\0\0\x01\x41", 5, &o, on_emit, &k, &err), -1);
    o.mtu = 1200, o.length_size = 3;
    assert_int_equal(lc_rtp_h264_packetize((const uint8_t *)"\0\0\x01\x41", 4, &o, on_emit, &k, &err), -1);
    /* 2-byte NALU lengths: two single NAL packets */
    o.length_size = 2;
    assert_int_equal(lc_rtp_h264_packetize((const uint8_t *)"\0\x02\x41\x07\0\x01\x41", 7, &o, on_emit, &k, &err), 2);
    assert_int_equal(k.len[0], 2);
    assert_memory_equal(k.data[0], "\x41\x07", 2);
    assert_int_equal(k.marker[0], 0);
    assert_int_equal(k.marker[1], 1);
    pkts_free(&k);
    /* 1-byte lengths, mtu 3: FU-A of one byte each, NRI and type kept */
    o.length_size = 1, o.mtu = 3;
    assert_int_equal(lc_rtp_h264_packetize((const uint8_t *)"\x04\x65\xaa\xbb\xcc", 5, &o, on_emit, &k, &err), 3);
    assert_memory_equal(k.data[0], "\x7c\x85\xaa", 3);
    assert_memory_equal(k.data[1], "\x7c\x05\xbb", 3);
    assert_memory_equal(k.data[2], "\x7c\x45\xcc", 3);
    pkts_free(&k);
}

static void test_avcc_config(void **state)
{
    (void)state;
    uint8_t out[256];
    lc_rtp_h264_avcc_t c;
    const char *err = NULL;
    int n;

    /* byte for byte what FFmpeg's flv muxer sends */
    n = lc_rtp_h264_to_flv_config(sps, sizeof sps, pps, sizeof pps, out, sizeof out, &err);
    assert_int_equal(n, sizeof ffmpeg_seq_header);
    assert_memory_equal(out, ffmpeg_seq_header, sizeof ffmpeg_seq_header);
    n = lc_rtp_h264_avcc_config(sps, sizeof sps, pps, sizeof pps, out, sizeof out, &err);
    assert_int_equal(n, sizeof ffmpeg_seq_header - 5);
    assert_int_equal(lc_rtp_h264_parse_avcc_config(out, (size_t)n, &c, &err), 0);
    assert_int_equal(c.sps_len, sizeof sps);
    assert_memory_equal(c.sps, sps, sizeof sps);
    assert_int_equal(c.pps_len, sizeof pps);
    assert_memory_equal(c.pps, pps, sizeof pps);
    assert_int_equal(c.length_size, 4);
    assert_int_equal(c.profile, 66);
    assert_int_equal(c.compat, 0xc0);
    assert_int_equal(c.level, 30);
    /* every shorter prefix is refused, never over-read */
    for (int i = 0; i < n; i++) {
        uint8_t *p = malloc(i ? (size_t)i : 1);
        memcpy(p, out, (size_t)i);
        err = NULL;
        assert_int_equal(lc_rtp_h264_parse_avcc_config(p, (size_t)i, &c, &err), -1);
        assert_non_null(err);
        free(p);
        if (i > 0)
            assert_int_equal(lc_rtp_h264_avcc_config(sps, sizeof sps, pps, sizeof pps, out, (size_t)i, &err), -1);
    }
    /* a High-profile tail is ignored; two SPS, the first one is taken;
     * 2-byte lengths */
    {
        static const uint8_t rec[] = {
            1, 0x64, 0, 0x1f, 0xfd, 0xe2, 0, 4, 0x67, 0x64, 0, 0x1f, 0, 2, 0x67, 0x01,
            2, 0, 2, 0x68, 0xee, 0, 1, 0x68, 0xfd, 0xf8, 0xf8, 0,
        };
        assert_int_equal(lc_rtp_h264_parse_avcc_config(rec, sizeof rec, &c, &err), 0);
        assert_int_equal(c.length_size, 2);
        assert_int_equal(c.sps_len, 4);
        assert_int_equal(c.pps_len, 2);
        assert_int_equal(c.profile, 100);
    }
    assert_int_equal(lc_rtp_h264_parse_avcc_config((const uint8_t *)"\x02\x42\0\x1e\xff\xe1\0\x01\x67\x01\0\x01\x68", 13, &c, &err), -1);
    assert_int_equal(lc_rtp_h264_parse_avcc_config((const uint8_t *)"\x01\x42\0\x1e\xfe\xe1\0\x01\x67\x01\0\x01\x68", 13, &c, &err), -1);
    assert_string_equal(err, "NALU length size 3 is not allowed");
    assert_int_equal(lc_rtp_h264_parse_avcc_config((const uint8_t *)"\x01\x42\0\x1e\xff\xe0\0", 7, &c, &err), -1);
    assert_int_equal(lc_rtp_h264_parse_avcc_config((const uint8_t *)"\x01\x42\0\x1e\xff\xe1\0\x01\x67\x00", 10, &c, &err), -1);
    assert_string_equal(err, "configuration record without PPS");
    /* not parameter sets */
    assert_int_equal(lc_rtp_h264_avcc_config(pps, sizeof pps, pps, sizeof pps, out, sizeof out, &err), -1);
    assert_int_equal(lc_rtp_h264_avcc_config(sps, sizeof sps, sps, sizeof sps, out, sizeof out, &err), -1);
    assert_int_equal(lc_rtp_h264_avcc_config(sps, 3, pps, sizeof pps, out, sizeof out, &err), -1);
    assert_int_equal(lc_rtp_h264_to_flv_config(sps, sizeof sps, pps, sizeof pps, out, 4, &err), -1);
}

static void test_flv_glue(void **state)
{
    (void)state;
    static const uint8_t au[] = { 0, 0, 0, 3, 0x65, 0x88, 0x80, 0, 0, 0, 2, 0x06, 0x05 };
    uint8_t out[64];
    lc_rtp_h264_flv_t f;
    const char *err = NULL;
    int n;

    n = lc_rtp_h264_to_flv(au, sizeof au, 1, -40, out, sizeof out, &err);
    assert_int_equal(n, 5 + sizeof au);
    assert_memory_equal(out, "\x17\x01\xff\xff\xd8", 5);
    assert_int_equal(lc_rtp_h264_from_flv(out, (size_t)n, &f, &err), 0);
    assert_int_equal(f.len, sizeof au);
    assert_memory_equal(f.data, au, sizeof au);
    assert_int_equal(f.cts, -40);
    assert_int_equal(f.keyframe, 1);
    assert_int_equal(f.config, 0);
    n = lc_rtp_h264_to_flv(au, sizeof au, 0, 0x7fffff, out, sizeof out, &err);
    assert_int_equal(lc_rtp_h264_from_flv(out, (size_t)n, &f, &err), 0);
    assert_int_equal(f.cts, 0x7fffff);
    assert_int_equal(f.keyframe, 0);
    assert_int_equal(lc_rtp_h264_to_flv(au, sizeof au, 0, 0x800000, out, sizeof out, &err), -1);
    assert_int_equal(lc_rtp_h264_to_flv(au, sizeof au, 0, 0, out, sizeof au + 4, &err), -1);
    /* the sequence header: the record */
    assert_int_equal(lc_rtp_h264_from_flv(ffmpeg_seq_header, sizeof ffmpeg_seq_header, &f, &err), 0);
    assert_int_equal(f.config, 1);
    assert_int_equal(f.len, sizeof ffmpeg_seq_header - 5);
    /* end of sequence: no NALUs */
    assert_int_equal(lc_rtp_h264_from_flv((const uint8_t *)"\x17\x02\0\0\0", 5, &f, &err), 0);
    assert_int_equal(f.end_of_seq, 1);
    assert_int_equal(f.len, 0);
    /* Enhanced RTMP avc1: CodedFrames with composition time, CodedFramesX without */
    assert_int_equal(lc_rtp_h264_from_flv((const uint8_t *)"\x91" "avc1" "\0\0\x21\0\0\0\x01\x65", 13, &f, &err), 0);
    assert_int_equal(f.cts, 0x21);
    assert_int_equal(f.len, 5);
    assert_int_equal(f.keyframe, 1);
    assert_int_equal(lc_rtp_h264_from_flv((const uint8_t *)"\xa3" "avc1" "\0\0\0\x01\x41", 10, &f, &err), 0);
    assert_int_equal(f.len, 5);
    assert_int_equal(f.keyframe, 0);
    /* refused: not H.264, command frame, too short */
    assert_int_equal(lc_rtp_h264_from_flv((const uint8_t *)"\x12\0\0\0\0", 5, &f, &err), -1);
    assert_int_equal(lc_rtp_h264_from_flv((const uint8_t *)"\x57\x00", 2, &f, &err), -1);
    assert_int_equal(lc_rtp_h264_from_flv((const uint8_t *)"\x17\x01\0\0", 4, &f, &err), -1);
    assert_int_equal(lc_rtp_h264_from_flv((const uint8_t *)"", 0, &f, &err), -1);
}

/* FLV body -> RTP -> FLV body: what a relay between RTMP and WebRTC does. */
static void test_flv_rtp_flv(void **state)
{
    (void)state;
    static uint8_t body[20000], out[20000];
    int t[] = { 6, 5, 5 };
    size_t s[] = { 30, 9000, 4000 };
    size_t len = 5 + make_au(body + 5, t, s, 3, 11);
    lc_rtp_h264_flv_t f;
    pkts_t k = { .n = 0 };
    const char *err = NULL;
    rx_t r;
    int n;

    memcpy(body, "\x17\x01\0\0\0", 5);
    assert_int_equal(lc_rtp_h264_from_flv(body, len, &f, &err), 0);
    pack(f.data, f.len, 1200, NULL, NULL, &k);
    rx_init(&r, LC_RTP_H264_MAX_AU, 0);
    rx_pkts(&r, &k, 90000);
    assert_int_equal(r.aus.count, 1);
    n = lc_rtp_h264_to_flv(r.aus.data, r.aus.len, r.aus.au.keyframe, 0, out, sizeof out, &err);
    assert_int_equal(n, len);
    assert_memory_equal(out, body, len);
    pkts_free(&k);
    rx_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mtu_boundary),
        cmocka_unit_test(test_big_idr),
        cmocka_unit_test(test_no_prepend),
        cmocka_unit_test(test_stap_a_input),
        cmocka_unit_test(test_fu_loss),
        cmocka_unit_test(test_fu_broken),
        cmocka_unit_test(test_reorder),
        cmocka_unit_test(test_no_marker),
        cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_packetize_errors),
        cmocka_unit_test(test_avcc_config),
        cmocka_unit_test(test_flv_glue),
        cmocka_unit_test(test_flv_rtp_flv),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
