/*
 * fuzz_rtp_h264.c: libFuzzer target for src/common/media/rtp_h264.c.
 *
 * Input: one byte of settings (packetizer MTU), then records of
 * [flags][length low] + payload, where flags bit0 = marker, bit1 = next
 * timestamp, bit2 = skip a sequence number, bit3 = step back one, bits
 * 4..7 = length high; each payload is pushed from a heap copy of exactly
 * its length. Invariants besides "no sanitizer report": a return is 0 or
 * LOST with a reason; every access unit is well-formed AVCC inside the
 * buffer, NALU count and keyframe flag agree with its content, no NALU of
 * types 0 or 24..31; packetizing it again and depacketizing the payloads
 * gives it back byte for byte with no loss; the SPS/PPS kept build a
 * configuration record that parses back to them. The whole input is also
 * tried as a configuration record and as an FLV video body.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/media/rtp_h264.h"

#define CHECK(x) do { if (!(x)) abort(); } while (0)
#define CAP 65536

static size_t g_mtu;
static uint8_t g_buf[CAP], g_buf2[CAP], g_copy[CAP];
static size_t g_copy_len;
static int g_got;
static lc_rtp_h264_depack_t g_rx;
static uint16_t g_rx_seq;

static void on_au2(void *ctx, const lc_rtp_h264_au_t *au)
{
    (void)ctx;
    CHECK(!g_got);
    CHECK(au->len == g_copy_len && memcmp(au->data, g_copy, au->len) == 0);
    g_got = 1;
}

static void on_emit(void *ctx, const uint8_t *p, size_t len, int marker)
{
    const char *err = NULL;

    (void)ctx;
    CHECK(len >= 1 && len <= g_mtu);
    CHECK(lc_rtp_h264_depack_push(&g_rx, p, len, g_rx_seq++, 1234, marker, &err) == 0);
}

static void check_au(const lc_rtp_h264_au_t *au)
{
    size_t pos = 0;
    unsigned n = 0;
    int key = 0;
    lc_rtp_h264_pack_opts_t o = { .mtu = g_mtu };
    const char *err = NULL;
    int rc;

    CHECK(au->len <= CAP && au->nalus > 0 && au->nalus <= LC_RTP_H264_MAX_NALUS);
    while (pos < au->len) {
        uint32_t size;
        int type;

        CHECK(au->len - pos >= 5);
        size = (uint32_t)au->data[pos] << 24 | (uint32_t)au->data[pos + 1] << 16 |
               (uint32_t)au->data[pos + 2] << 8 | au->data[pos + 3];
        CHECK(size >= 1 && size <= au->len - pos - 4);
        type = au->data[pos + 4] & 0x1f;
        CHECK(type != 0 && type < 24);
        key |= type == 5;
        pos += 4 + size;
        n++;
    }
    CHECK(n == au->nalus && key == au->keyframe);

    /* round trip through the packetizer */
    memcpy(g_copy, au->data, au->len);
    g_copy_len = au->len;
    g_got = 0;
    lc_rtp_h264_depack_init(&g_rx, g_buf2, CAP, on_au2, NULL);
    rc = lc_rtp_h264_packetize(g_copy, g_copy_len, &o, on_emit, NULL, &err);
    CHECK(rc >= 1 && g_got);
}

static void on_au(void *ctx, const lc_rtp_h264_au_t *au)
{
    (void)ctx;
    check_au(au);
}

static void check_config(const lc_rtp_h264_depack_t *d)
{
    size_t sl, pl;
    const uint8_t *s = lc_rtp_h264_depack_sps(d, &sl), *p = lc_rtp_h264_depack_pps(d, &pl);
    uint8_t rec[2 * LC_RTP_H264_PS_MAX + 16];
    lc_rtp_h264_avcc_t c;
    const char *err = NULL;
    int n;

    CHECK(sl <= LC_RTP_H264_PS_MAX && pl <= LC_RTP_H264_PS_MAX);
    if (sl == 0 || pl == 0)
        return;
    n = lc_rtp_h264_avcc_config(s, sl, p, pl, rec, sizeof rec, &err);
    if (n < 0) {
        CHECK(n == -1 && err != NULL && sl < 4);
        return;
    }
    CHECK(lc_rtp_h264_parse_avcc_config(rec, (size_t)n, &c, &err) == 0);
    CHECK(c.sps_len == sl && memcmp(c.sps, s, sl) == 0);
    CHECK(c.pps_len == pl && memcmp(c.pps, p, pl) == 0);
    CHECK(c.length_size == 4);
}

static void check_whole(const uint8_t *data, size_t size)
{
    lc_rtp_h264_avcc_t c;
    lc_rtp_h264_flv_t f;
    const char *err = NULL;

    if (lc_rtp_h264_parse_avcc_config(data, size, &c, &err) == 0) {
        CHECK(c.length_size == 1 || c.length_size == 2 || c.length_size == 4);
        CHECK(c.sps >= data && c.sps + c.sps_len <= data + size && c.sps_len > 0);
        CHECK(c.pps >= data && c.pps + c.pps_len <= data + size && c.pps_len > 0);
    } else {
        CHECK(err != NULL);
    }
    err = NULL;
    if (lc_rtp_h264_from_flv(data, size, &f, &err) == 0)
        CHECK(f.data >= data && f.data + f.len == data + size);
    else
        CHECK(err != NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    lc_rtp_h264_depack_t d;
    uint16_t seq = 100;
    uint32_t ts = 0;
    size_t pos = 1;

    if (size < 1)
        return 0;
    check_whole(data, size);
    g_mtu = 3 + data[0] * 6u;       /* 3 .. 1533 */
    lc_rtp_h264_depack_init(&d, g_buf, CAP, on_au, NULL);
    while (pos + 2 <= size) {
        uint8_t flags = data[pos];
        size_t len = (size_t)(flags >> 4) << 8 | data[pos + 1];
        const char *err = NULL;
        uint8_t *p;
        int rc;

        pos += 2;
        if (len > size - pos)
            len = size - pos;
        if (flags & 2)
            ts += 3000;
        if (flags & 4)
            seq++;
        if (flags & 8)
            seq -= 2;
        p = malloc(len ? len : 1);
        CHECK(p != NULL);
        memcpy(p, data + pos, len);
        rc = lc_rtp_h264_depack_push(&d, p, len, seq++, ts, flags & 1, &err);
        CHECK(rc == 0 || (rc == LC_RTP_H264_LOST && err != NULL));
        free(p);
        pos += len;
    }
    check_config(&d);
    return 0;
}
