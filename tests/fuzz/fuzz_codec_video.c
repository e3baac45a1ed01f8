/*
 * fuzz_codec_video.c: the video transcoder (src/common/codec/video.c) on
 * fuzzed frames, and its Annex B helpers on the raw input.
 *
 * Input: byte 0 is the mode: bit 0 the direction (0: VP8 -> H.264, 1:
 * H.264 -> VP8), bit 1 (H.264 input only) an avcC prefix: a 2-byte
 * big-endian length and that many bytes, given to lc_video_create; bit 2
 * lowers the bitrate after the first frame; bit 3 makes timestamps repeat
 * and step back. Then up to MAX_FRAMES frames, each a 2-byte big-endian
 * header (top bit: keyframe, 15 bits: length, cut at the end of the input)
 * and its bytes, 40 ms apart. After each push the config and every output
 * frame are taken. The transcoder is destroyed after each input.
 *
 * Invariants besides "no sanitizer report": push returns 0 or -1; a pulled
 * frame fits the buffer it was pulled into, and H.264 output is well-formed
 * AVCC; a config taken is an avcC of one SPS and one PPS; the helpers'
 * output is well-formed AVCC / avcC within the room they were given.
 *
 * libavutil's largest allocation is capped (av_max_alloc): a mutated
 * keyframe header can claim 16383x16383, and video.c has no size limit of
 * its own; the cap makes the decoder refuse such frames quickly.
 *
 * x264 leaks the strings of its parameters when x264_encoder_open fails,
 * which it does on every frame of an odd size (a VP8 keyframe can say
 * 16x249): allocations made inside libx264 are not reported as leaks (the
 * libavcodec contexts around them still are).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <libavutil/log.h>
#include <libavutil/mem.h>

#include "common/codec/codec.h"
#include "common/codec/video.h"

#define CHECK(x) do { if (!(x)) abort(); } while (0)
#define MAX_FRAMES 12
#define OUT_SIZE (1 << 20)
#define MAX_ALLOC (1 << 21)   /* 2 MB: frames up to about 1.3 Mpixels */

static uint8_t g_out[OUT_SIZE];

const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void)
{
    return "leak:libx264.so\n";
}

static size_t be32(const uint8_t *p)
{
    return (size_t)p[0] << 24 | (size_t)p[1] << 16 | (size_t)p[2] << 8 | p[3];
}

/* AVCC of n bytes: every NAL unit non-empty, the lengths add up to n. */
static void check_avcc(const uint8_t *p, size_t n)
{
    size_t o = 0;

    CHECK(n > 0);
    while (o < n) {
        CHECK(o + 4 < n);
        size_t l = be32(p + o);
        CHECK(l > 0 && l <= n - o - 4);
        o += 4 + l;
    }
    CHECK(o == n);
}

/* An avcC as video.c writes it: one SPS, one PPS, 4-byte lengths. */
static void check_avcc_config(const uint8_t *p, size_t n)
{
    CHECK(n >= 11 + 4 + 1);
    CHECK(p[0] == 1 && p[4] == 0xff && p[5] == 0xe1);
    size_t sps = (size_t)p[6] << 8 | p[7];
    CHECK(sps >= 4 && 8 + sps + 3 <= n);
    CHECK((p[8] & 0x1f) == 7);
    CHECK(p[1] == p[9] && p[2] == p[10] && p[3] == p[11]);
    CHECK(p[8 + sps] == 1);
    size_t pps = (size_t)p[9 + sps] << 8 | p[10 + sps];
    CHECK(pps >= 1 && 11 + sps + pps == n);
    CHECK((p[11 + sps] & 0x1f) == 8);
}

static void helpers(const uint8_t *data, size_t size)
{
    size_t room = size + 64;
    uint8_t *out = malloc(room);
    uint8_t cfg[512];
    int n;

    if (out == NULL)
        return;
    n = lc_video_annexb_to_avcc(data, size, out, room);
    CHECK(n == -1 || (n > 0 && (size_t)n <= room));
    if (n > 0) {
        check_avcc(out, (size_t)n);
        /* one byte less room than needed fails cleanly */
        CHECK(lc_video_annexb_to_avcc(data, size, out, (size_t)n - 1) == -1);
    }
    n = lc_video_avcc_config(data, size, cfg, sizeof cfg);
    CHECK(n == -1 || (n > 0 && (size_t)n <= sizeof cfg));
    if (n > 0)
        check_avcc_config(cfg, (size_t)n);
    free(out);
}

static void drain(lc_video_t *v, int dst)
{
    int64_t pts;
    int key, n;

    n = lc_video_take_config(v, g_out, 8);
    CHECK(n >= -1 && n <= 8);
    n = lc_video_take_config(v, g_out, 512);
    CHECK(n >= 0 && n <= 512);
    if (n > 0) {
        CHECK(dst == LC_CODEC_H264);
        check_avcc_config(g_out, (size_t)n);
        CHECK(lc_video_take_config(v, g_out, 512) == 0);
    }
    n = lc_video_pull(v, g_out, 16, &pts, &key);     /* small: stays queued unless it fits */
    CHECK(n >= -1 && n <= 16);
    if (n > 0 && dst == LC_CODEC_H264)
        check_avcc(g_out, (size_t)n);
    while ((n = lc_video_pull(v, g_out, sizeof g_out, &pts, &key)) > 0) {
        CHECK((size_t)n <= sizeof g_out);
        CHECK(key == 0 || key == 1);
        if (dst == LC_CODEC_H264)
            check_avcc(g_out, (size_t)n);
    }
    CHECK(n == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int init;
    lc_video_params_t p = { 0 };
    char err[160];
    lc_video_t *v;
    size_t off = 1;
    int mode, frames = 0, w, h;

    if (!init) {
        av_log_set_level(AV_LOG_QUIET);
        av_max_alloc(MAX_ALLOC);
        init = 1;
    }
    helpers(data, size);
    if (size < 1)
        return 0;
    mode = data[0];
    p.src = mode & 1 ? LC_CODEC_H264 : LC_CODEC_VP8;
    p.dst = mode & 1 ? LC_CODEC_VP8 : LC_CODEC_H264;
    p.bitrate = 300000;
    if ((mode & 1) && (mode & 2)) {
        size_t cfg_len;

        if (size < 3)
            return 0;
        cfg_len = (size_t)data[1] << 8 | data[2];
        if (cfg_len > size - 3)
            cfg_len = size - 3;
        p.cfg = data + 3;
        p.cfg_len = cfg_len;
        off = 3 + cfg_len;
    }
    v = lc_video_create(&p, err, sizeof err);
    if (v == NULL)
        return 0;
    while (off + 2 <= size && frames < MAX_FRAMES) {
        int key = data[off] >> 7;
        size_t len = (size_t)(data[off] & 0x7f) << 8 | data[off + 1];
        int64_t pts = (mode & 8) ? (int64_t)(frames % 3) * 40000 : (int64_t)frames * 40000;
        int rc;

        off += 2;
        if (len > size - off)
            len = size - off;
        rc = lc_video_push(v, data + off, len, pts, key);
        CHECK(rc == 0 || rc == -1);
        CHECK(lc_video_needs_key(v) == 0 || lc_video_needs_key(v) == 1);
        drain(v, p.dst);
        if (frames == 0 && (mode & 4))
            CHECK(lc_video_set_bitrate(v, 100000) == 0);
        off += len;
        frames++;
    }
    lc_video_size(v, &w, &h);
    CHECK(w >= 0 && h >= 0);
    CHECK(strlen(lc_video_error(v)) < 160);
    (void)lc_video_errors(v);
    lc_video_destroy(v);
    return 0;
}
