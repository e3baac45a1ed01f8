/*
 * codec_video.c: how many video transcoder streams one core runs, VP8 ->
 * H.264 and H.264 -> VP8 (640x360, 30 fps, 1 Mbit/s out): stream seconds
 * through lc_video per CPU second of this thread (CLOCK_THREAD_CPUTIME_ID).
 *
 * Input, made here in memory: 10 s of a moving test pattern (a scrolling
 * plasma, a textured box crossing it, a sweeping bar), encoded once as VP8
 * (libvpx realtime, cpu-used 8, as a browser sends it) and once as H.264
 * (libx264 veryfast zerolatency baseline, as OBS sends it), ~1 Mbit/s, a
 * keyframe every 2 s - the encoder settings of src/common/codec/video.c.
 * The H.264 goes to lc_video the way the ring holds it: AVCC frames and an
 * avcC, SPS/PPS out of band.
 *
 * Output, per direction, for bench/run:
 *   BENCH codec name=vp8_h264 streams_per_core=X cpu_s_per_stream_s=Y stream_s=S cpu_s=C
 *         input_s=10 in_kbps=I frames_out=N keys_out=K out_kbps=B errors=E dropped=D
 * (streams_per_core = stream seconds transcoded per CPU second; Y = 1/X).
 *
 *   codec_video [DIR]   with DIR, also writes the same input as DIR/in.ivf
 *                       (VP8) and DIR/in.flv (H.264, as RTMP carries it) for
 *                       bench/codec_bench.sh, which runs the ffmpeg command
 *                       line over the same files.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <libavcodec/avcodec.h>
#include <libavutil/opt.h>

#include "common/codec/codec.h"
#include "common/codec/video.h"

#define W 640
#define H 360
#define FPS 30
#define SECONDS 10
#define NFR (FPS * SECONDS)
#define GOP (2 * FPS)
#define BITRATE 1000000
#define MIN_CPU_S 3.0           /* rounds over the input until this much CPU was measured */

typedef struct { uint8_t *data; size_t len; int key; } frame_t;

static frame_t in[NFR];
static int nin;
static uint8_t avcc_cfg[512];
static size_t avcc_cfg_len;
static const char *dir;

static double cpu(void)
{
    struct timespec t;

    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return (double)t.tv_sec + t.tv_nsec / 1e9;
}

/* Frame n of the pattern: content moves everywhere, so no encoder can skip
 * the frame, yet it is smooth enough that 1 Mbit/s looks like video. */
static void pattern(AVFrame *f, int n)
{
    static uint8_t wave[1024];
    static int init;

    if (!init) {
        for (int i = 0; i < 1024; i++)
            wave[i] = (uint8_t)(42 + 42 * sin(2 * M_PI * i / 1024.0));
        init = 1;
    }
    int bx = (n * 5) % (W - 96), by = 40 + (int)(100 + 90 * sin(n / 20.0)) % (H - 136), bar = (n * 3) % W;

    for (int y = 0; y < H; y++) {
        uint8_t *row = f->data[0] + (size_t)y * f->linesize[0];

        for (int x = 0; x < W; x++) {
            int v = wave[(x * 3 + n * 8) & 1023] + wave[(y * 5 - n * 6) & 1023] + wave[((x + y) * 2 + n * 4) & 1023] / 2;

            if (x >= bx && x < bx + 96 && y >= by && y < by + 96)
                v = ((x - bx) / 12 + (y - by) / 12) & 1 ? 235 : 30 + (x - bx);
            else if (x >= bar && x < bar + 8)
                v = 220;
            row[x] = (uint8_t)(v > 255 ? 255 : v);
        }
    }
    for (int y = 0; y < H / 2; y++) {
        uint8_t *u = f->data[1] + (size_t)y * f->linesize[1], *v = f->data[2] + (size_t)y * f->linesize[2];

        for (int x = 0; x < W / 2; x++) {
            u[x] = (uint8_t)(128 + (wave[(x * 4 + n * 5) & 1023] - 42) * 2 / 3);
            v[x] = (uint8_t)(128 + (wave[(y * 6 + n * 7) & 1023] - 42) * 2 / 3);
        }
    }
}

static void keep(const uint8_t *d, size_t len, int key)
{
    in[nin].data = malloc(len);
    memcpy(in[nin].data, d, len);
    in[nin].len = len;
    in[nin++].key = key;
}

static void put_le(uint8_t *p, uint64_t v, int n)
{
    for (int i = 0; i < n; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static void put_be(uint8_t *p, uint64_t v, int n)
{
    for (int i = 0; i < n; i++)
        p[i] = (uint8_t)(v >> (8 * (n - 1 - i)));
}

/* One FLV video tag: AVC (codec 7), key or inter, `type` 0 = avcC, 1 = frame. */
static void flv_tag(FILE *f, int64_t ms, int key, int type, const uint8_t *d, size_t len)
{
    uint8_t h[16];

    h[0] = 9;
    put_be(h + 1, len + 5, 3);
    put_be(h + 4, (uint64_t)ms & 0xffffff, 3);
    h[7] = (uint8_t)(ms >> 24);
    put_be(h + 8, 0, 3);
    h[11] = key ? 0x17 : 0x27;
    h[12] = (uint8_t)type;
    put_be(h + 13, 0, 3);                       /* composition time: no B-frames */
    fwrite(h, 1, sizeof h, f);
    fwrite(d, 1, len, f);
    put_be(h, len + 5 + 11, 4);
    fwrite(h, 1, 4, f);
}

static FILE *open_out(const char *name)
{
    char path[4096];
    FILE *f;

    snprintf(path, sizeof path, "%s/%s", dir, name);
    f = fopen(path, "wb");
    if (f == NULL)
        perror(path);
    return f;
}

/* NFR frames of the pattern as `codec` in in[] (H.264: AVCC, its avcC in
 * avcc_cfg); with dir, the same frames to in.ivf or in.flv. */
static int make_input(int codec)
{
    const AVCodec *c = avcodec_find_encoder_by_name(codec == LC_CODEC_H264 ? "libx264" : "libvpx");
    AVCodecContext *e;
    AVFrame *f = av_frame_alloc();
    AVPacket *pkt = av_packet_alloc();
    uint8_t *avcc = malloc(4 << 20);
    FILE *out = NULL;
    int rc = -1;

    nin = 0;
    if (c == NULL || (e = avcodec_alloc_context3(c)) == NULL) {
        fprintf(stderr, "codec_video: no %s encoder\n", codec == LC_CODEC_H264 ? "libx264" : "libvpx");
        return -1;
    }
    e->width = W;
    e->height = H;
    e->pix_fmt = AV_PIX_FMT_YUV420P;
    e->time_base = (AVRational){ 1, FPS };
    e->framerate = (AVRational){ FPS, 1 };
    e->bit_rate = e->rc_max_rate = e->rc_buffer_size = BITRATE;
    e->gop_size = GOP;
    e->max_b_frames = 0;
    e->thread_count = 1;
    if (codec == LC_CODEC_H264) {
        e->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
        e->profile = FF_PROFILE_H264_CONSTRAINED_BASELINE;
        av_opt_set(e->priv_data, "preset", "veryfast", 0);
        av_opt_set(e->priv_data, "tune", "zerolatency", 0);
        av_opt_set(e->priv_data, "profile", "baseline", 0);
        av_opt_set(e->priv_data, "forced-idr", "1", 0);
        av_opt_set(e->priv_data, "x264-params", "scenecut=0", 0);   /* the input's keyframes: every 2 s, no others */
    } else {
        av_opt_set(e->priv_data, "deadline", "realtime", 0);
        av_opt_set(e->priv_data, "cpu-used", "8", 0);
        av_opt_set(e->priv_data, "lag-in-frames", "0", 0);
        av_opt_set(e->priv_data, "auto-alt-ref", "0", 0);
        e->qmin = 4;
        e->qmax = 56;
    }
    f->format = AV_PIX_FMT_YUV420P;
    f->width = W;
    f->height = H;
    if (avcodec_open2(e, c, NULL) < 0 || av_frame_get_buffer(f, 0) < 0 || pkt == NULL || avcc == NULL) {
        fprintf(stderr, "codec_video: %s does not open\n", c->name);
        goto done;
    }
    if (codec == LC_CODEC_H264) {
        int n = lc_video_avcc_config(e->extradata, (size_t)e->extradata_size, avcc_cfg, sizeof avcc_cfg);

        if (n < 0) {
            fprintf(stderr, "codec_video: libx264 gave no SPS/PPS\n");
            goto done;
        }
        avcc_cfg_len = (size_t)n;
    }
    if (dir != NULL && (out = open_out(codec == LC_CODEC_H264 ? "in.flv" : "in.ivf")) != NULL) {
        if (codec == LC_CODEC_H264) {
            static const uint8_t hdr[13] = { 'F', 'L', 'V', 1, 1, 0, 0, 0, 9, 0, 0, 0, 0 };   /* video only */

            fwrite(hdr, 1, sizeof hdr, out);
            flv_tag(out, 0, 1, 0, avcc_cfg, avcc_cfg_len);
        } else {
            uint8_t h[32] = "DKIF";

            put_le(h + 4, 0, 2);
            put_le(h + 6, 32, 2);
            memcpy(h + 8, "VP80", 4);
            put_le(h + 12, W, 2);
            put_le(h + 14, H, 2);
            put_le(h + 16, FPS, 4);             /* time base 1/FPS */
            put_le(h + 20, 1, 4);
            put_le(h + 24, NFR, 4);
            fwrite(h, 1, sizeof h, out);
        }
    }
    for (int n = 0; n <= NFR; n++) {
        if (n < NFR) {
            if (av_frame_make_writable(f) < 0)
                goto done;
            pattern(f, n);
            f->pts = n;
            f->pict_type = n % GOP == 0 ? AV_PICTURE_TYPE_I : AV_PICTURE_TYPE_NONE;
        }
        if (avcodec_send_frame(e, n < NFR ? f : NULL) < 0)
            goto done;
        while (avcodec_receive_packet(e, pkt) == 0) {
            int key = (pkt->flags & AV_PKT_FLAG_KEY) != 0;

            if (codec == LC_CODEC_H264) {
                int len = lc_video_annexb_to_avcc(pkt->data, (size_t)pkt->size, avcc, 4 << 20);

                if (len > 0 && nin < NFR)
                    keep(avcc, (size_t)len, key);
                if (len > 0 && out != NULL)
                    flv_tag(out, pkt->pts * 1000 / FPS, key, 1, avcc, (size_t)len);
            } else {
                if (nin < NFR)
                    keep(pkt->data, (size_t)pkt->size, key);
                if (out != NULL) {
                    uint8_t h[12];

                    put_le(h, (uint64_t)pkt->size, 4);
                    put_le(h + 4, (uint64_t)pkt->pts, 8);
                    fwrite(h, 1, sizeof h, out);
                    fwrite(pkt->data, 1, (size_t)pkt->size, out);
                }
            }
            av_packet_unref(pkt);
        }
    }
    rc = nin == NFR ? 0 : -1;
    if (rc < 0)
        fprintf(stderr, "codec_video: %s gave %d frames of %d\n", c->name, nin, NFR);
done:
    if (out != NULL && fclose(out) != 0)
        fprintf(stderr, "codec_video: writing the %s input failed\n", c->name);
    avcodec_free_context(&e);
    av_frame_free(&f);
    av_packet_free(&pkt);
    free(avcc);
    return rc;
}

static void bench(int src, int dst)
{
    static uint8_t out[4 << 20];
    char err[160];
    double t0, used = 0;
    long long bytes = 0, frames = 0, keys = 0, errors = 0, dropped = 0, in_bytes = 0;
    int rounds = 0, key, in_keys = 0;
    int64_t pts;

    if (make_input(src) < 0)
        return;
    for (int i = 0; i < nin; i++) {
        in_bytes += (long long)in[i].len;
        in_keys += in[i].key;
    }
    while (used < MIN_CPU_S) {
        lc_video_params_t p = { .src = src, .dst = dst, .bitrate = BITRATE };
        lc_video_t *v;

        if (src == LC_CODEC_H264) {
            p.cfg = avcc_cfg;
            p.cfg_len = avcc_cfg_len;
        }
        t0 = cpu();
        v = lc_video_create(&p, err, sizeof err);
        if (v == NULL) {
            fprintf(stderr, "codec_video: %s\n", err);
            return;
        }
        for (int i = 0; i < nin; i++) {
            int n;

            if (lc_video_push(v, in[i].data, in[i].len, (int64_t)i * 1000000 / FPS, in[i].key) < 0)
                dropped++;
            lc_video_take_config(v, out, sizeof out);
            while ((n = lc_video_pull(v, out, sizeof out, &pts, &key)) > 0) {
                bytes += n;
                frames++;
                keys += key;
            }
        }
        errors += (long long)lc_video_errors(v);
        lc_video_destroy(v);
        used += cpu() - t0;
        rounds++;
    }
    double stream_s = rounds * (double)nin / FPS;
    const char *name = src == LC_CODEC_VP8 ? "vp8_h264" : "h264_vp8";

    printf("%s->%s %dx%d %d fps %d kbit/s (input %.0f kbit/s, %d keyframes): %.1f streams per core (%.1f x realtime)\n",
           lc_codec_name(src), lc_codec_name(dst), W, H, FPS, BITRATE / 1000, in_bytes * 8 / 1000.0 / SECONDS, in_keys,
           stream_s / used, stream_s / used);
    printf("BENCH codec name=%s streams_per_core=%.2f cpu_s_per_stream_s=%.5f stream_s=%.1f cpu_s=%.3f input_s=%d "
           "in_kbps=%.0f frames_out=%lld keys_out=%lld out_kbps=%.0f errors=%lld dropped=%lld\n", name, stream_s / used,
           used / stream_s, stream_s, used, SECONDS, in_bytes * 8 / 1000.0 / SECONDS, frames, keys,
           bytes * 8 / 1000.0 / stream_s, errors, dropped);
    fflush(stdout);
    for (int i = 0; i < nin; i++)
        free(in[i].data);
}

int main(int argc, char **argv)
{
    dir = argc > 1 ? argv[1] : NULL;
    av_log_set_level(AV_LOG_ERROR);
    bench(LC_CODEC_VP8, LC_CODEC_H264);
    bench(LC_CODEC_H264, LC_CODEC_VP8);
    return 0;
}
