/*
 * test_rtp_vp8.c: unit tests of src/common/media/rtp_vp8.c.
 *
 * Vectors: payload descriptors as Chrome and libwebrtc write them (15-bit
 * PictureID, TL0PICIDX, TID/KEYIDX) and the RFC 7741 examples' shapes, a
 * 640x360 keyframe header with scaling bits set (they must not leak into
 * the dimensions). Round trips packetize -> depacketize for frames around
 * the MTU boundary and a big keyframe, PictureID wrap at 15 bits, loss in
 * the middle of a frame (dropped, reported, the next frame fine), joining
 * mid-frame, reordering and duplicates (never a crash).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/media/rtp_vp8.h"

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
    lc_rtp_vp8_depack_t d;
    uint8_t *buf;
    uint8_t *data;
    lc_rtp_vp8_frame_t f;
    int count, lost;
    uint16_t seq;
    const char *err;
} rx_t;

static void on_frame(void *ctx, const lc_rtp_vp8_frame_t *f)
{
    rx_t *r = ctx;

    free(r->data);
    r->data = malloc(f->len);
    assert_non_null(r->data);
    memcpy(r->data, f->data, f->len);
    r->f = *f;
    r->f.data = r->data;
    r->count++;
}

static void rx_init(rx_t *r, size_t cap, uint16_t seq)
{
    memset(r, 0, sizeof *r);
    r->buf = malloc(cap);
    assert_non_null(r->buf);
    lc_rtp_vp8_depack_init(&r->d, r->buf, cap, on_frame, r);
    r->seq = seq;
}

static void rx_free(rx_t *r)
{
    free(r->buf);
    free(r->data);
}

static int rx_push_seq(rx_t *r, const uint8_t *p, size_t len, uint16_t seq, uint32_t ts, int marker)
{
    uint8_t *copy = malloc(len ? len : 1);
    int rc;

    assert_non_null(copy);
    if (len)
        memcpy(copy, p, len);
    r->err = NULL;
    rc = lc_rtp_vp8_depack_push(&r->d, copy, len, seq, ts, marker, &r->err);
    free(copy);
    assert_true(rc == 0 || rc == LC_RTP_VP8_LOST);
    if (rc) {
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

/* a frame: keyframe with a 640x360 header (scaling bits set), or interframe */
static void make_frame(uint8_t *f, size_t len, int key, unsigned seed)
{
    static const uint8_t hdr[10] = { 0x10, 0x02, 0x00, 0x9d, 0x01, 0x2a, 0x80, 0x42, 0x68, 0xc1 };

    for (size_t i = 0; i < len; i++)
        f[i] = (uint8_t)(seed + i * 13 + (i >> 9));
    if (key)
        memcpy(f, hdr, len < 10 ? len : 10);
    else
        f[0] |= 1;
}

static int pack(const uint8_t *f, size_t len, uint16_t pid, size_t mtu, pkts_t *k)
{
    const char *err = NULL;
    int rc = lc_rtp_vp8_packetize(f, len, pid, mtu, on_emit, k, &err);

    assert_int_equal(rc, k->n);
    for (int i = 0; i < k->n; i++) {
        lc_rtp_vp8_desc_t d;

        assert_true(k->len[i] <= mtu);
        assert_int_equal(k->marker[i], i == k->n - 1);
        assert_int_equal(lc_rtp_vp8_parse_desc(k->data[i], k->len[i], &d, &err), 0);
        assert_int_equal(d.start, i == 0);
        assert_int_equal(d.partition, 0);
        assert_int_equal(d.picture_id, pid & 0x7fff);
        assert_int_equal(d.size, LC_RTP_VP8_DESC_SIZE);
    }
    return rc;
}

static void test_mtu_boundary(void **state)
{
    (void)state;
    static uint8_t f[8192];
    const size_t mtu = 1200, room = mtu - LC_RTP_VP8_DESC_SIZE;
    const size_t sizes[] = { 1, 10, room - 1, room, room + 1, 2 * room, 2 * room + 1, 5 * room };
    const int want[] = { 1, 1, 1, 1, 2, 2, 3, 5 };
    rx_t r;

    rx_init(&r, LC_RTP_VP8_MAX_FRAME, 65533);
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        int key = i % 2;
        pkts_t k = { .n = 0 };

        make_frame(f, sizes[i], key, (unsigned)i);
        assert_int_equal(pack(f, sizes[i], (uint16_t)i, mtu, &k), want[i]);
        rx_pkts(&r, &k, (uint32_t)i * 3000);
        assert_int_equal(r.count, (int)i + 1);
        assert_int_equal(r.f.len, sizes[i]);
        assert_memory_equal(r.data, f, sizes[i]);
        assert_int_equal(r.f.keyframe, key);
        assert_int_equal(r.f.picture_id, (int)i);
        assert_int_equal(r.f.rtp_ts, (uint32_t)i * 3000);
        assert_int_equal(r.f.width, key && sizes[i] >= 10 ? 640 : 0);
        assert_int_equal(r.f.height, key && sizes[i] >= 10 ? 360 : 0);
        assert_int_equal(r.f.discont, 0);
        pkts_free(&k);
    }
    assert_int_equal(r.lost, 0);
    rx_free(&r);
}

static void test_big_keyframe(void **state)
{
    (void)state;
    size_t len = 400 * 1024;
    uint8_t *f = malloc(len);
    pkts_t *k = calloc(1, sizeof *k);
    rx_t r;

    assert_non_null(f);
    assert_non_null(k);
    make_frame(f, len, 1, 77);
    assert_int_equal(pack(f, len, 0x1234, 1200, k), (int)((len + 1195) / 1196));
    rx_init(&r, LC_RTP_VP8_MAX_FRAME, 0);
    rx_pkts(&r, k, 1);
    assert_int_equal(r.count, 1);
    assert_int_equal(r.f.len, len);
    assert_memory_equal(r.data, f, len);
    assert_int_equal(r.f.width, 640);
    assert_int_equal(r.f.height, 360);
    /* a buffer one byte short: dropped and reported */
    rx_free(&r);
    rx_init(&r, len - 1, 0);
    for (int i = 0; i < k->n; i++)
        rx_push(&r, k->data[i], k->len[i], 1, k->marker[i]);
    assert_int_equal(r.count, 0);
    assert_int_equal(r.lost, 1);
    assert_string_equal(r.err, "VP8 frame too big");
    pkts_free(k);
    free(k);
    free(f);
    rx_free(&r);
}

static void test_picture_id_wrap(void **state)
{
    (void)state;
    uint8_t f[3000];
    rx_t r;
    uint16_t pid = 0x7ffd;

    rx_init(&r, 65536, 100);
    for (int i = 0; i < 6; i++, pid++) {
        pkts_t k = { .n = 0 };

        make_frame(f, sizeof f, i == 0, (unsigned)i);
        pack(f, sizeof f, pid, 1200, &k);
        assert_int_equal(k.data[0][2] & 0x80, 0x80);   /* M: always 15 bits */
        rx_pkts(&r, &k, (uint32_t)i * 3000);
        assert_int_equal(r.f.picture_id, (0x7ffd + i) & 0x7fff);
        pkts_free(&k);
    }
    assert_int_equal(r.f.picture_id, 2);
    rx_free(&r);
}

static void test_desc(void **state)
{
    (void)state;
    lc_rtp_vp8_desc_t d;
    const char *err = NULL;

    /* no extension */
    assert_int_equal(lc_rtp_vp8_parse_desc((const uint8_t *)"\x10\x9d", 2, &d, &err), 0);
    assert_int_equal(d.start, 1);
    assert_int_equal(d.size, 1);
    assert_int_equal(d.picture_id, -1);
    /* 7-bit PictureID, N, PID 2 */
    assert_int_equal(lc_rtp_vp8_parse_desc((const uint8_t *)"\xa2\x80\x45\x00", 4, &d, &err), 0);
    assert_int_equal(d.start, 0);
    assert_int_equal(d.non_reference, 1);
    assert_int_equal(d.partition, 2);
    assert_int_equal(d.picture_id, 0x45);
    assert_int_equal(d.size, 3);
    /* 15-bit PictureID, L, T and K */
    assert_int_equal(lc_rtp_vp8_parse_desc((const uint8_t *)"\x90\xf0\xab\xcd\x07\x9f\x00", 7, &d, &err), 0);
    assert_int_equal(d.picture_id, 0x2bcd);
    assert_int_equal(d.tl0picidx, 7);
    assert_int_equal(d.tid, 2);
    assert_int_equal(d.keyidx, 0x1f);
    assert_int_equal(d.size, 6);
    /* only K */
    assert_int_equal(lc_rtp_vp8_parse_desc((const uint8_t *)"\x90\x10\x05", 3, &d, &err), 0);
    assert_int_equal(d.tid, -1);
    assert_int_equal(d.keyidx, 5);
    /* every truncation refused */
    assert_int_equal(lc_rtp_vp8_parse_desc((const uint8_t *)"", 0, &d, &err), -1);
    assert_int_equal(lc_rtp_vp8_parse_desc((const uint8_t *)"\x90", 1, &d, &err), -1);
    assert_int_equal(lc_rtp_vp8_parse_desc((const uint8_t *)"\x90\x80", 2, &d, &err), -1);
    assert_int_equal(lc_rtp_vp8_parse_desc((const uint8_t *)"\x90\x80\x80", 3, &d, &err), -1);
    assert_int_equal(lc_rtp_vp8_parse_desc((const uint8_t *)"\x90\x40", 2, &d, &err), -1);
    assert_int_equal(lc_rtp_vp8_parse_desc((const uint8_t *)"\x90\x20", 2, &d, &err), -1);
    assert_string_equal(err, "VP8 TID/KEYIDX truncated");
}

static void test_keyframe_dims(void **state)
{
    (void)state;
    int w, h;
    const char *err = NULL;

    /* 1920x1080 with both scaling fields at 3 */
    assert_int_equal(lc_rtp_vp8_keyframe_dims((const uint8_t *)"\x50\x42\x00\x9d\x01\x2a\x80\xc7\x38\xc4", 10,
                                              &w, &h, &err), 0);
    assert_int_equal(w, 1920);
    assert_int_equal(h, 1080);
    assert_int_equal(lc_rtp_vp8_keyframe_dims((const uint8_t *)"\x51\x42\x00\x9d\x01\x2a\x80\x07\x38\x04", 10,
                                              &w, &h, &err), -1);
    assert_string_equal(err, "not a VP8 keyframe");
    assert_int_equal(lc_rtp_vp8_keyframe_dims((const uint8_t *)"\x50\x42\x00\x9d\x01\x2b\x80\x07\x38\x04", 10,
                                              &w, &h, &err), -1);
    assert_int_equal(lc_rtp_vp8_keyframe_dims((const uint8_t *)"\x50\x42\x00\x9d\x01\x2a\x80\x07\x38", 9,
                                              &w, &h, &err), -1);
    assert_int_equal(w, 0);
}

static void test_loss(void **state)
{
    (void)state;
    static uint8_t f[6000];
    pkts_t k = { .n = 0 };
    rx_t r;

    make_frame(f, sizeof f, 1, 3);
    pack(f, sizeof f, 9, 1200, &k);
    assert_int_equal(k.n, 6);
    rx_init(&r, LC_RTP_VP8_MAX_FRAME, 40000);
    for (int i = 0; i < k.n; i++) {
        if (i == 2) {
            r.seq++;
            continue;
        }
        assert_int_equal(rx_push(&r, k.data[i], k.len[i], 10, k.marker[i]), i == 3 ? LC_RTP_VP8_LOST : 0);
    }
    assert_int_equal(r.count, 0);
    assert_int_equal(r.lost, 1);
    rx_pkts(&r, &k, 20);
    assert_int_equal(r.count, 1);
    assert_int_equal(r.f.discont, 1);
    assert_memory_equal(r.data, f, sizeof f);
    rx_pkts(&r, &k, 30);
    assert_int_equal(r.f.discont, 0);
    /* joined mid-frame: reported, the rest of it skipped quietly */
    lc_rtp_vp8_depack_reset(&r.d);
    assert_int_equal(rx_push(&r, k.data[1], k.len[1], 40, 0), LC_RTP_VP8_LOST);
    assert_string_equal(r.err, "VP8 packet without its frame start");
    for (int i = 2; i < k.n; i++)
        assert_int_equal(rx_push(&r, k.data[i], k.len[i], 40, k.marker[i]), 0);
    rx_pkts(&r, &k, 50);
    assert_int_equal(r.count, 3);
    /* marker lost: the next frame start ends the dropping */
    for (int i = 0; i < k.n - 1; i++)
        rx_push(&r, k.data[i], k.len[i], 60, 0);
    r.seq++;
    assert_int_equal(rx_push(&r, k.data[0], k.len[0], 70, 0), LC_RTP_VP8_LOST);
    rx_pkts(&r, &k, 80);
    assert_int_equal(r.count, 4);
    assert_int_equal(r.f.rtp_ts, 80);
    pkts_free(&k);
    rx_free(&r);
}

/* Sender without marker bits: the next frame start ends a frame. Frame
 * start without payload, empty payload: reported. */
static void test_no_marker_and_bad(void **state)
{
    (void)state;
    rx_t r;

    rx_init(&r, 4096, 0);
    assert_int_equal(rx_push(&r, (const uint8_t *)"\x10\x01\x02", 3, 0, 0), 0);
    assert_int_equal(rx_push(&r, (const uint8_t *)"\x00\x03", 2, 0, 0), 0);
    assert_int_equal(rx_push(&r, (const uint8_t *)"\x10\x05", 2, 0, 0), 0);
    assert_int_equal(r.count, 1);
    assert_int_equal(r.f.len, 3);
    assert_memory_equal(r.data, "\x01\x02\x03", 3);
    assert_int_equal(r.f.keyframe, 0);
    assert_int_equal(rx_push(&r, (const uint8_t *)"\x10\x06", 2, 3000, 0), 0);
    assert_int_equal(r.count, 2);
    assert_memory_equal(r.data, "\x05", 1);
    assert_int_equal(rx_push(&r, (const uint8_t *)"\x10", 1, 6000, 1), LC_RTP_VP8_LOST);
    assert_int_equal(rx_push(&r, (const uint8_t *)"", 0, 9000, 1), LC_RTP_VP8_LOST);
    assert_int_equal(rx_push(&r, (const uint8_t *)"\x90\x80", 2, 9000, 1), LC_RTP_VP8_LOST);
    /* partition 1 start is not a frame start */
    assert_int_equal(rx_push(&r, (const uint8_t *)"\x11\x00", 2, 12000, 1), LC_RTP_VP8_LOST);
    assert_int_equal(rx_push(&r, (const uint8_t *)"\x10\x00", 2, 15000, 1), 0);
    assert_int_equal(r.f.keyframe, 1);
    assert_int_equal(r.f.width, 0);     /* keyframe too short for a header */
    assert_int_equal(r.f.discont, 1);
    rx_free(&r);
}

static void test_reorder(void **state)
{
    (void)state;
    static uint8_t f[5000];
    pkts_t k = { .n = 0 };
    rx_t r;

    make_frame(f, sizeof f, 0, 1);
    pack(f, sizeof f, 1, 1200, &k);
    rx_init(&r, LC_RTP_VP8_MAX_FRAME, 0);
    /* duplicates ignored */
    for (int i = 0; i < k.n; i++) {
        assert_int_equal(rx_push_seq(&r, k.data[i], k.len[i], (uint16_t)i, 1, k.marker[i]), 0);
        assert_int_equal(rx_push_seq(&r, k.data[i], k.len[i], (uint16_t)i, 1, k.marker[i]), 0);
    }
    assert_int_equal(r.count, 1);
    srand(3);
    for (int i = 0; i < 5000; i++) {
        int j = rand() % k.n;
        rx_push_seq(&r, k.data[j], k.len[j], (uint16_t)(i + rand() % 3), (uint32_t)(i / 5), k.marker[j]);
        assert_true(r.f.len <= LC_RTP_VP8_MAX_FRAME);
    }
    pkts_free(&k);
    rx_free(&r);
}

static void test_packetize_errors(void **state)
{
    (void)state;
    pkts_t k = { .n = 0 };
    const char *err = NULL;

    assert_int_equal(lc_rtp_vp8_packetize((const uint8_t *)"", 0, 1, 1200, on_emit, &k, &err), -1);
    assert_string_equal(err, "empty VP8 frame");
    assert_int_equal(lc_rtp_vp8_packetize((const uint8_t *)"\x00", 1, 1, 4, on_emit, &k, &err), -1);
    assert_int_equal(lc_rtp_vp8_packetize((const uint8_t *)"\x00", 1, 1, LC_RTP_VP8_MTU_MAX + 1, on_emit, &k, &err), -1);
    assert_int_equal(k.n, 0);
    /* smallest MTU: one byte of frame per payload */
    assert_int_equal(lc_rtp_vp8_packetize((const uint8_t *)"\x00\x01\x02", 3, 0xffff, 5, on_emit, &k, &err), 3);
    assert_memory_equal(k.data[0], "\x90\x80\xff\xff\x00", 5);
    assert_memory_equal(k.data[1], "\x80\x80\xff\xff\x01", 5);
    assert_memory_equal(k.data[2], "\x80\x80\xff\xff\x02", 5);
    pkts_free(&k);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mtu_boundary),
        cmocka_unit_test(test_big_keyframe),
        cmocka_unit_test(test_picture_id_wrap),
        cmocka_unit_test(test_desc),
        cmocka_unit_test(test_keyframe_dims),
        cmocka_unit_test(test_loss),
        cmocka_unit_test(test_no_marker_and_bad),
        cmocka_unit_test(test_reorder),
        cmocka_unit_test(test_packetize_errors),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
