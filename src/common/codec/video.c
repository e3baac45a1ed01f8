/*
 * video.c: the video transcoder (see video.h for formats, keyframes and
 * timestamps). One libavcodec decoder, one encoder opened at the first
 * decoded frame's size (and opened again when the size changes: browsers
 * change resolution with their bandwidth), libswscale only when the
 * decoder's pixel format is not the encoder's yuv420p. Every codec context
 * runs single-threaded: the pool gives each transcoder one thread at a time.
 */
#include "common/codec/video.h"
#include "common/codec/codec.h"

#include <libavcodec/avcodec.h>
#include <libavutil/opt.h>
#include <libswscale/swscale.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define OUT_MAX 8                   /* encoded frames waiting for pull */
#define CFG_MAX 512

typedef struct { int64_t pts; int key; size_t len; uint8_t *data; } out_slot_t;

struct lc_video {
    int src, dst, bitrate;
    char h264_encoder[16];
    AVCodecContext *dec, *enc;
    AVPacket *pkt;
    AVFrame *frame, *scaled;
    struct SwsContext *sws;
    int need_key;
    int annexb_in;           /* H.264 input without an avcC: AVCC lengths become start codes */
    int reopen;              /* VP8 output: a new bitrate, applied at the next keyframe */
    out_slot_t out[OUT_MAX];
    int out_head, out_n;
    uint8_t cfg[CFG_MAX];
    size_t cfg_len;
    int cfg_new;
    uint64_t errors;
    char err[160];
};

static int fail(lc_video_t *v, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(v->err, sizeof(v->err), fmt, ap);
    va_end(ap);
    return -1;
}

static enum AVCodecID av_id(int codec)
{
    return codec == LC_CODEC_H264 ? AV_CODEC_ID_H264 : codec == LC_CODEC_VP8 ? AV_CODEC_ID_VP8 : AV_CODEC_ID_NONE;
}

/* ---- H.264 byte formats ---- */

/* The next Annex B NAL unit at or after *pos: its start and length, or -1. */
static int next_nal(const uint8_t *p, size_t len, size_t *pos, const uint8_t **nal, size_t *nal_len)
{
    size_t i = *pos;
    while (i + 3 <= len && !(p[i] == 0 && p[i + 1] == 0 && p[i + 2] == 1))
        i++;
    if (i + 3 > len)
        return -1;
    size_t start = i + 3, j = start;
    while (j + 3 <= len && !(p[j] == 0 && p[j + 1] == 0 && (p[j + 2] == 1 || (p[j + 2] == 0 && j + 3 < len && p[j + 3] == 1))))
        j++;
    if (j + 3 > len)
        j = len;
    *nal = p + start;
    *nal_len = j - start;
    *pos = j;
    return 0;
}

int lc_video_annexb_to_avcc(const uint8_t *in, size_t len, uint8_t *out, size_t size)
{
    size_t pos = 0, n = 0;
    const uint8_t *nal;
    size_t nal_len;
    while (next_nal(in, len, &pos, &nal, &nal_len) == 0) {
        while (nal_len > 0 && nal[nal_len - 1] == 0) /* trailing zeros belong to the next start code */
            nal_len--;
        if (nal_len == 0)
            continue;
        if (n + 4 + nal_len > size || nal_len > 0x7fffffff)
            return -1;
        out[n] = (uint8_t)(nal_len >> 24);
        out[n + 1] = (uint8_t)(nal_len >> 16);
        out[n + 2] = (uint8_t)(nal_len >> 8);
        out[n + 3] = (uint8_t)nal_len;
        memcpy(out + n + 4, nal, nal_len);
        n += 4 + nal_len;
    }
    return n ? (int)n : -1;
}

int lc_video_avcc_config(const uint8_t *annexb, size_t len, uint8_t *out, size_t size)
{
    const uint8_t *sps = NULL, *pps = NULL, *nal;
    size_t sps_len = 0, pps_len = 0, nal_len, pos = 0;
    while (next_nal(annexb, len, &pos, &nal, &nal_len) == 0) {
        while (nal_len > 0 && nal[nal_len - 1] == 0)
            nal_len--;
        if (nal_len && (nal[0] & 0x1f) == 7 && !sps) {
            sps = nal;
            sps_len = nal_len;
        } else if (nal_len && (nal[0] & 0x1f) == 8 && !pps) {
            pps = nal;
            pps_len = nal_len;
        }
    }
    if (!sps || !pps || sps_len < 4 || sps_len > 0xffff || pps_len > 0xffff || 11 + sps_len + pps_len > size)
        return -1;
    size_t n = 0;
    out[n++] = 1;          /* configurationVersion */
    out[n++] = sps[1];     /* profile, compatibility, level: from the SPS */
    out[n++] = sps[2];
    out[n++] = sps[3];
    out[n++] = 0xff;       /* 4-byte NAL lengths */
    out[n++] = 0xe1;       /* one SPS */
    out[n++] = (uint8_t)(sps_len >> 8);
    out[n++] = (uint8_t)sps_len;
    memcpy(out + n, sps, sps_len);
    n += sps_len;
    out[n++] = 1;          /* one PPS */
    out[n++] = (uint8_t)(pps_len >> 8);
    out[n++] = (uint8_t)pps_len;
    memcpy(out + n, pps, pps_len);
    n += pps_len;
    return (int)n;
}

/* An avcC's SPS and PPS lists lie within it (libavcodec opens on a broken one). */
static int avcc_valid(const uint8_t *c, size_t len)
{
    if (len < 7 || c[0] != 1)
        return 0;
    size_t o = 6;
    for (int list = 0; list < 2; list++) {
        int n = list ? c[o++] : c[5] & 0x1f;
        if (n == 0)
            return 0;
        for (int i = 0; i < n; i++) {
            if (o + 2 > len)
                return 0;
            size_t l = (size_t)c[o] << 8 | c[o + 1];
            if (l == 0 || o + 2 + l > len)
                return 0;
            o += 2 + l;
        }
        if (!list && o >= len)
            return 0;
    }
    return 1;
}

/* ---- codecs ---- */

static int open_decoder(lc_video_t *v, const uint8_t *cfg, size_t cfg_len)
{
    const AVCodec *c = avcodec_find_decoder(av_id(v->src));
    if (!c)
        return fail(v, "libavcodec has no %s decoder", lc_codec_name(v->src));
    v->dec = avcodec_alloc_context3(c);
    if (!v->dec)
        return fail(v, "out of memory");
    v->dec->thread_count = 1;
    v->dec->pkt_timebase = (AVRational){ 1, 1000000 };
    v->dec->max_pixels = 3840 * 2160;  /* a 64-byte keyframe can claim 8192x8192: seconds and 600 MB a frame */
    if (cfg && cfg_len) {
        v->dec->extradata = av_mallocz(cfg_len + AV_INPUT_BUFFER_PADDING_SIZE);
        if (!v->dec->extradata)
            return fail(v, "out of memory");
        memcpy(v->dec->extradata, cfg, cfg_len);
        v->dec->extradata_size = (int)cfg_len;
    }
    if (avcodec_open2(v->dec, c, NULL) < 0)
        return fail(v, "%s decoder does not open%s", lc_codec_name(v->src), cfg ? " with this configuration" : "");
    v->pkt = av_packet_alloc();
    v->frame = av_frame_alloc();
    v->scaled = av_frame_alloc();
    return v->pkt && v->frame && v->scaled ? 0 : fail(v, "out of memory");
}

static void close_encoder(lc_video_t *v)
{
    avcodec_free_context(&v->enc);
    sws_freeContext(v->sws);
    v->sws = NULL;
    av_frame_unref(v->scaled);
}

/* Zero latency: one frame in, its packet out; keyframes only when forced
 * (at the source's), so a GOP here is the source's GOP. */
static int open_encoder(lc_video_t *v, int width, int height)
{
    const AVCodec *c;
    close_encoder(v);
    if (v->dst == LC_CODEC_H264)
        c = avcodec_find_encoder_by_name(v->h264_encoder);
    else
        c = avcodec_find_encoder_by_name("libvpx");
    if (!c)
        return fail(v, "libavcodec has no %s encoder", v->dst == LC_CODEC_H264 ? v->h264_encoder : "libvpx");
    v->enc = avcodec_alloc_context3(c);
    if (!v->enc)
        return fail(v, "out of memory");
    AVCodecContext *e = v->enc;
    e->width = width;
    e->height = height;
    e->pix_fmt = AV_PIX_FMT_YUV420P;
    e->time_base = (AVRational){ 1, 1000000 };
    e->framerate = (AVRational){ 30, 1 };
    e->bit_rate = v->bitrate;
    e->rc_max_rate = v->bitrate;
    e->rc_buffer_size = v->bitrate; /* one second of VBV: a steady rate for RTMP and WebRTC alike */
    e->gop_size = 600;              /* keyframes come from the source (forced), this is only a bound */
    e->max_b_frames = 0;
    e->thread_count = 1;
    if (v->dst == LC_CODEC_H264) {
        e->flags |= AV_CODEC_FLAG_GLOBAL_HEADER; /* SPS/PPS once, as the avcC */
        e->profile = FF_PROFILE_H264_CONSTRAINED_BASELINE;
        av_opt_set(e->priv_data, "preset", "veryfast", 0);
        av_opt_set(e->priv_data, "tune", "zerolatency", 0);
        av_opt_set(e->priv_data, "forced-idr", "1", 0);
        av_opt_set(e->priv_data, "profile", "baseline", 0);
        av_opt_set(e->priv_data, "x264-params", "scenecut=0", 0); /* keyframes where the source has them, only */
    } else {
        av_opt_set(e->priv_data, "deadline", "realtime", 0);
        av_opt_set(e->priv_data, "cpu-used", "8", 0);
        av_opt_set(e->priv_data, "lag-in-frames", "0", 0);
        av_opt_set(e->priv_data, "auto-alt-ref", "0", 0);
        e->qmin = 4;
        e->qmax = 56;
    }
    if (avcodec_open2(e, c, NULL) < 0)
        return fail(v, "%s encoder does not open at %dx%d", c->name, width, height);
    if (v->dst == LC_CODEC_H264) {
        int n = e->extradata_size > 0 ? lc_video_avcc_config(e->extradata, (size_t)e->extradata_size, v->cfg,
                                                               sizeof(v->cfg))
                                      : -1;
        if (n < 0)
            return fail(v, "%s gave no SPS/PPS", c->name);
        v->cfg_len = (size_t)n;
        v->cfg_new = 1;
    }
    return 0;
}

lc_video_t *lc_video_create(const lc_video_params_t *p, char *err, size_t err_size)
{
    lc_video_t *v = calloc(1, sizeof(*v));
    if (!v) {
        snprintf(err, err_size, "out of memory");
        return NULL;
    }
    v->src = p->src;
    v->dst = p->dst;
    v->bitrate = p->bitrate > 0 ? p->bitrate : 1000000;
    snprintf(v->h264_encoder, sizeof(v->h264_encoder), "%s", p->h264_encoder ? p->h264_encoder : "libx264");
    v->need_key = 1;
    if (av_id(p->src) == AV_CODEC_ID_NONE || av_id(p->dst) == AV_CODEC_ID_NONE || p->src == p->dst) {
        snprintf(err, err_size, "no video transcoder from %s to %s", lc_codec_name(p->src), lc_codec_name(p->dst));
        free(v);
        return NULL;
    }
    if (p->src == LC_CODEC_H264 && p->cfg && p->cfg_len && !avcc_valid(p->cfg, p->cfg_len)) {
        snprintf(err, err_size, "bad avcC (%zu bytes)", p->cfg_len);
        free(v);
        return NULL;
    }
    if (!avcodec_find_encoder_by_name(p->dst == LC_CODEC_H264 ? v->h264_encoder : "libvpx")) {
        snprintf(err, err_size, "libavcodec has no %s encoder", p->dst == LC_CODEC_H264 ? v->h264_encoder : "libvpx");
        free(v);
        return NULL;
    }
    v->annexb_in = p->src == LC_CODEC_H264 && !(p->cfg && p->cfg_len);
    if (open_decoder(v, p->cfg, p->cfg_len) < 0) {
        snprintf(err, err_size, "%s", v->err);
        lc_video_destroy(v);
        return NULL;
    }
    return v;
}

void lc_video_destroy(lc_video_t *v)
{
    if (!v)
        return;
    close_encoder(v);
    avcodec_free_context(&v->dec);
    av_packet_free(&v->pkt);
    av_frame_free(&v->frame);
    av_frame_free(&v->scaled);
    for (int i = 0; i < OUT_MAX; i++)
        free(v->out[i].data);
    free(v);
}

static void queue_out(lc_video_t *v, const AVPacket *pkt)
{
    if (v->out_n == OUT_MAX) {
        v->errors++;
        fail(v, "output queue full: frame dropped");
        return;
    }
    out_slot_t *o = &v->out[(v->out_head + v->out_n) % OUT_MAX];
    size_t cap = (size_t)pkt->size + 64;
    uint8_t *d = realloc(o->data, cap);
    if (!d)
        return;
    o->data = d;
    if (v->dst == LC_CODEC_H264) {
        int n = lc_video_annexb_to_avcc(pkt->data, (size_t)pkt->size, d, cap);
        if (n < 0)
            return;
        o->len = (size_t)n;
    } else {
        memcpy(d, pkt->data, (size_t)pkt->size);
        o->len = (size_t)pkt->size;
    }
    o->pts = pkt->pts;
    o->key = (pkt->flags & AV_PKT_FLAG_KEY) != 0;
    v->out_n++;
}

static int encode(lc_video_t *v, AVFrame *f, int key)
{
    /* x264 and openh264 take 4:2:0 at even sizes only: drop an odd last row / column */
    int ew = v->dst == LC_CODEC_H264 ? f->width & ~1 : f->width;
    int eh = v->dst == LC_CODEC_H264 ? f->height & ~1 : f->height;
    if (ew <= 0 || eh <= 0)
        return fail(v, "a %dx%d frame cannot be encoded", f->width, f->height);
    if (!v->enc || v->enc->width != ew || v->enc->height != eh || (v->reopen && key)) {
        v->reopen = 0;
        if (open_encoder(v, ew, eh) < 0) {
            close_encoder(v);
            return -1;
        }
        key = 1;
    }
    AVFrame *in = f;
    if (f->format != AV_PIX_FMT_YUV420P) {
        v->sws = sws_getCachedContext(v->sws, f->width, f->height, f->format, f->width, f->height,
                                      AV_PIX_FMT_YUV420P, SWS_BILINEAR, NULL, NULL, NULL);
        if (!v->scaled->data[0]) {
            v->scaled->format = AV_PIX_FMT_YUV420P;
            v->scaled->width = f->width;
            v->scaled->height = f->height;
            if (av_frame_get_buffer(v->scaled, 0) < 0)
                return fail(v, "out of memory");
        }
        if (!v->sws || av_frame_make_writable(v->scaled) < 0)
            return fail(v, "no conversion from pixel format %d", f->format);
        sws_scale(v->sws, (const uint8_t *const *)f->data, f->linesize, 0, f->height, v->scaled->data,
                  v->scaled->linesize);
        v->scaled->pts = f->pts;
        in = v->scaled;
    }
    /* cropped only when odd: a reference to the same buffers, narrower */
    AVFrame *c = ew == in->width && eh == in->height ? in : av_frame_clone(in);
    if (!c)
        return fail(v, "out of memory");
    c->width = ew;
    c->height = eh;
    c->pict_type = key ? AV_PICTURE_TYPE_I : AV_PICTURE_TYPE_NONE;
    int rc = avcodec_send_frame(v->enc, c);
    if (c != in)
        av_frame_free(&c);
    if (rc < 0)
        return fail(v, "the encoder refused a frame");
    while (avcodec_receive_packet(v->enc, v->pkt) == 0) {
        queue_out(v, v->pkt);
        av_packet_unref(v->pkt);
    }
    return 0;
}

int lc_video_push(lc_video_t *v, const uint8_t *data, size_t len, int64_t pts_us, int key)
{
    if (v->need_key && !key) {
        fail(v, "waiting for a keyframe");
        return -1;
    }
    if (len == 0 || len > 0x7ffffff0)
        return fail(v, "empty frame");
    if (av_new_packet(v->pkt, (int)len) < 0)
        return fail(v, "out of memory");
    memcpy(v->pkt->data, data, len);
    if (v->annexb_in) { /* AVCC -> Annex B in place: each 4-byte length becomes 00 00 00 01 */
        size_t o = 0;
        while (o + 4 <= len) {
            size_t n = (size_t)data[o] << 24 | (size_t)data[o + 1] << 16 | (size_t)data[o + 2] << 8 | data[o + 3];
            if (n > len - o - 4)
                break;
            memcpy(v->pkt->data + o, "\0\0\0\1", 4);
            o += 4 + n;
        }
        if (o != len) {
            av_packet_unref(v->pkt);
            v->errors++;
            v->need_key = 1;
            return fail(v, "corrupt H264 frame (%d bytes): bad NAL lengths, waiting for a keyframe", (int)len);
        }
    }
    v->pkt->pts = pts_us;
    v->pkt->dts = AV_NOPTS_VALUE;
    if (key)
        v->pkt->flags |= AV_PKT_FLAG_KEY;
    int rc = avcodec_send_packet(v->dec, v->pkt);
    av_packet_unref(v->pkt);
    if (rc < 0) {
        v->errors++;
        v->need_key = 1;
        return fail(v, "corrupt %s frame (%d bytes): dropped, waiting for a keyframe", lc_codec_name(v->src),
                    (int)len);
    }
    v->need_key = 0;
    while ((rc = avcodec_receive_frame(v->dec, v->frame)) == 0) {
        int fkey = v->frame->key_frame || v->frame->pict_type == AV_PICTURE_TYPE_I;
        v->frame->pts = v->frame->best_effort_timestamp != AV_NOPTS_VALUE ? v->frame->best_effort_timestamp
                                                                           : v->frame->pts;
        if (v->frame->width <= 0 || v->frame->height <= 0 || encode(v, v->frame, fkey) < 0)
            v->errors++;
        av_frame_unref(v->frame);
    }
    if (rc != AVERROR(EAGAIN) && rc != AVERROR_EOF) {
        v->errors++;
        v->need_key = 1;
        return fail(v, "corrupt %s frame: dropped, waiting for a keyframe", lc_codec_name(v->src));
    }
    return 0;
}

int lc_video_pull(lc_video_t *v, uint8_t *buf, size_t size, int64_t *pts_us, int *key)
{
    if (v->out_n == 0)
        return 0;
    out_slot_t *o = &v->out[v->out_head];
    if (o->len > size)
        return -1;
    memcpy(buf, o->data, o->len);
    *pts_us = o->pts;
    *key = o->key;
    v->out_head = (v->out_head + 1) % OUT_MAX;
    v->out_n--;
    return (int)o->len;
}

int lc_video_take_config(lc_video_t *v, uint8_t *buf, size_t size)
{
    if (!v->cfg_new)
        return 0;
    if (v->cfg_len > size)
        return -1;
    memcpy(buf, v->cfg, v->cfg_len);
    v->cfg_new = 0;
    return (int)v->cfg_len;
}

void lc_video_size(const lc_video_t *v, int *width, int *height)
{
    *width = v->enc ? v->enc->width : 0;
    *height = v->enc ? v->enc->height : 0;
}

int lc_video_set_bitrate(lc_video_t *v, int bitrate)
{
    if (bitrate <= 0)
        return -1;
    v->bitrate = bitrate;
    if (v->enc) {
        /* libx264 reads these before each frame; libvpx only when it opens (reopen above) */
        v->enc->bit_rate = bitrate;
        v->enc->rc_max_rate = bitrate;
        v->enc->rc_buffer_size = bitrate;
        if (v->dst == LC_CODEC_VP8) /* libavcodec's libvpx reads the rate only when it opens */
            v->reopen = 1;
    }
    return 0;
}

int lc_video_needs_key(const lc_video_t *v) { return v->need_key; }
const char *lc_video_error(const lc_video_t *v) { return v->err; }
uint64_t lc_video_errors(const lc_video_t *v) { return v->errors; }
