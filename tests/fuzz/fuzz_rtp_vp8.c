/*
 * fuzz_rtp_vp8.c: libFuzzer target for src/common/media/rtp_vp8.c.
 *
 * Input: one byte of settings (packetizer MTU), then records of
 * [flags][length low] + payload, where flags bit0 = marker, bit1 = next
 * timestamp, bit2 = skip a sequence number, bit3 = step back one, bits
 * 4..7 = length high; each payload is pushed from a heap copy of exactly
 * its length. Invariants besides "no sanitizer report": a return is 0 or
 * LOST with a reason; every frame is non-empty, inside the buffer, its
 * keyframe flag is the P bit, dimensions only on keyframes and within 14
 * bits, the picture id within 15; packetizing it again (with the next
 * PictureID) and depacketizing the payloads gives it back byte for byte
 * with no loss. The whole input is also parsed as one descriptor.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/media/rtp_vp8.h"

#define CHECK(x) do { if (!(x)) abort(); } while (0)
#define CAP 65536

static size_t g_mtu;
static uint16_t g_pid;
static uint8_t g_buf[CAP], g_buf2[CAP], g_copy[CAP];
static size_t g_copy_len;
static int g_got;
static lc_rtp_vp8_depack_t g_rx;
static uint16_t g_rx_seq;

static void on_frame2(void *ctx, const lc_rtp_vp8_frame_t *f)
{
    (void)ctx;
    CHECK(!g_got);
    CHECK(f->len == g_copy_len && memcmp(f->data, g_copy, f->len) == 0);
    CHECK(f->picture_id == (g_pid & 0x7fff));
    g_got = 1;
}

static void on_emit(void *ctx, const uint8_t *p, size_t len, int marker)
{
    const char *err = NULL;

    (void)ctx;
    CHECK(len > LC_RTP_VP8_DESC_SIZE && len <= g_mtu);
    CHECK(lc_rtp_vp8_depack_push(&g_rx, p, len, g_rx_seq++, 77, marker, &err) == 0);
}

static void on_frame(void *ctx, const lc_rtp_vp8_frame_t *f)
{
    const char *err = NULL;
    int rc;

    (void)ctx;
    CHECK(f->len >= 1 && f->len <= CAP);
    CHECK(f->keyframe == !(f->data[0] & 1));
    CHECK(f->width >= 0 && f->width < 16384 && f->height >= 0 && f->height < 16384);
    if (!f->keyframe)
        CHECK(f->width == 0 && f->height == 0);
    CHECK(f->picture_id >= -1 && f->picture_id <= 0x7fff);

    memcpy(g_copy, f->data, f->len);
    g_copy_len = f->len;
    g_got = 0;
    g_pid++;
    lc_rtp_vp8_depack_init(&g_rx, g_buf2, CAP, on_frame2, NULL);
    rc = lc_rtp_vp8_packetize(g_copy, g_copy_len, g_pid, g_mtu, on_emit, NULL, &err);
    CHECK(rc >= 1 && g_got);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    lc_rtp_vp8_depack_t d;
    lc_rtp_vp8_desc_t desc;
    uint16_t seq = 65000;
    uint32_t ts = 0;
    size_t pos = 1;
    const char *err = NULL;

    if (lc_rtp_vp8_parse_desc(data, size, &desc, &err) == 0)
        CHECK(desc.size >= 1 && desc.size <= 6 && desc.size <= size);
    else
        CHECK(err != NULL);
    if (size < 1)
        return 0;
    g_mtu = LC_RTP_VP8_DESC_SIZE + 1 + data[0] * 6u;    /* 5 .. 1535 */
    g_pid = (uint16_t)(data[0] << 7);
    lc_rtp_vp8_depack_init(&d, g_buf, CAP, on_frame, NULL);
    while (pos + 2 <= size) {
        uint8_t flags = data[pos];
        size_t len = (size_t)(flags >> 4) << 8 | data[pos + 1];
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
        err = NULL;
        rc = lc_rtp_vp8_depack_push(&d, p, len, seq++, ts, flags & 1, &err);
        CHECK(rc == 0 || (rc == LC_RTP_VP8_LOST && err != NULL));
        free(p);
        pos += len;
    }
    return 0;
}
