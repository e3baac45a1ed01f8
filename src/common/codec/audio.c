/*
 * audio.c: the audio transcoder (see audio.h for timestamps, jitter buffer
 * and concealment). Opus goes through libopus both ways (FEC and PLC are
 * libopus calls); everything else through libavcodec; libswresample turns
 * whatever the decoder gives into interleaved s16 at the output rate and
 * channel count, kept in a FIFO that the encoder takes whole frames from.
 */
#include "common/codec/audio.h"
#include "common/codec/codec.h"

#include <opus.h>
#include <libavcodec/avcodec.h>
#include <libavutil/channel_layout.h>
#include <libavutil/opt.h>
#include <libswresample/swresample.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_IN 8192                 /* bytes of one input frame kept in the jitter buffer */
#define OPUS_MAX_SAMPLES 5760       /* 120 ms at 48 kHz */
#define OUT_MAX 16                  /* encoded frames waiting for pull */
#define OUT_BYTES 8192

typedef struct { int64_t pts; size_t len; uint8_t data[MAX_IN]; } jitter_slot_t;
typedef struct { int64_t pts; size_t len; uint8_t data[OUT_BYTES]; } out_slot_t;

struct lc_audio {
    int src, dst, rate, channels;
    /* decoder */
    OpusDecoder *odec;
    AVCodecContext *dec;
    AVPacket *pkt;
    AVFrame *frame;
    SwrContext *swr;
    int in_rate;
    int64_t next_in_pts;            /* Opus: where the next frame should start; INT64_MIN = none yet */
    int64_t last_pts;               /* pts of the last decoded frame */
    int started;
    /* jitter buffer, sorted by pts */
    jitter_slot_t jb[LC_AUDIO_JITTER + 1];
    int jn;
    /* FIFO of s16 interleaved at the output rate */
    int16_t *fifo;
    int fifo_n, fifo_cap;
    /* encoder */
    OpusEncoder *oenc;
    AVCodecContext *enc;
    AVFrame *eframe;
    int frame_size;
    int64_t first_pts, samples_out, packets_out;
    int delay;                      /* encoder delay in samples (Opus lookahead, AAC priming): taken off every pts */
    out_slot_t *out;
    int out_head, out_n;
    uint64_t errors, concealed;
    char err[160];
};

static int fail(lc_audio_t *a, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(a->err, sizeof a->err, fmt, ap);
    va_end(ap);
    a->errors++;
    return -1;
}

static enum AVCodecID av_id(int codec)
{
    switch (codec) {
    case LC_CODEC_AAC: return AV_CODEC_ID_AAC;
    case LC_CODEC_PCMA: return AV_CODEC_ID_PCM_ALAW;
    case LC_CODEC_PCMU: return AV_CODEC_ID_PCM_MULAW;
    case LC_CODEC_G722: return AV_CODEC_ID_ADPCM_G722;
    case LC_CODEC_SPEEX: return AV_CODEC_ID_SPEEX;
    default: return AV_CODEC_ID_NONE;
    }
}

/* The fixed-rate codecs: their rate and channels, whatever was asked. */
static void fixed_format(int codec, int *rate, int *channels)
{
    switch (codec) {
    case LC_CODEC_OPUS: *rate = 48000; break;
    case LC_CODEC_PCMA: case LC_CODEC_PCMU: *rate = 8000; *channels = 1; break;
    case LC_CODEC_G722: case LC_CODEC_SPEEX: *rate = 16000; *channels = 1; break;
    default: break;
    }
}

static int open_decoder(lc_audio_t *a, const uint8_t *cfg, size_t cfg_len)
{
    const AVCodec *c;
    int rate = 0, ch = 1;

    if (a->src == LC_CODEC_OPUS) {
        int e;

        a->odec = opus_decoder_create(48000, 2, &e);
        a->in_rate = 48000;
        return a->odec != NULL ? 0 : fail(a, "opus decoder: %s", opus_strerror(e));
    }
    if (av_id(a->src) == AV_CODEC_ID_NONE)
        return fail(a, "no decoder for %s", lc_codec_name(a->src));
    c = avcodec_find_decoder(av_id(a->src));
    if (c == NULL)
        return fail(a, "libavcodec has no %s decoder", lc_codec_name(a->src));
    a->dec = avcodec_alloc_context3(c);
    if (a->dec == NULL)
        return fail(a, "out of memory");
    fixed_format(a->src, &rate, &ch);
    if (a->src == LC_CODEC_AAC) {
        if (cfg == NULL || cfg_len < 2 || cfg_len > 64)
            return fail(a, "AAC needs its AudioSpecificConfig");
        a->dec->extradata = av_mallocz(cfg_len + AV_INPUT_BUFFER_PADDING_SIZE);
        if (a->dec->extradata == NULL)
            return fail(a, "out of memory");
        memcpy(a->dec->extradata, cfg, cfg_len);
        a->dec->extradata_size = (int)cfg_len;
    } else {
        a->dec->sample_rate = rate;
        av_channel_layout_default(&a->dec->ch_layout, ch);
    }
    if (avcodec_open2(a->dec, c, NULL) < 0)
        return fail(a, "%s decoder does not open (bad configuration)", lc_codec_name(a->src));
    a->pkt = av_packet_alloc();
    a->frame = av_frame_alloc();
    return a->pkt != NULL && a->frame != NULL ? 0 : fail(a, "out of memory");
}

static int open_encoder(lc_audio_t *a, int bitrate)
{
    const AVCodec *c;

    if (a->dst == LC_CODEC_OPUS) {
        int e;

        a->oenc = opus_encoder_create(48000, a->channels, OPUS_APPLICATION_AUDIO, &e);
        if (a->oenc == NULL)
            return fail(a, "opus encoder: %s", opus_strerror(e));
        if (bitrate > 0)
            opus_encoder_ctl(a->oenc, OPUS_SET_BITRATE(bitrate));
        /* in-band FEC off by default: it moves the encoder into SILK/hybrid
         * modes and costs 3.7x the CPU at 64 kbit/s (bench/codec_audio.c);
         * lc_audio_set_fec turns it on when players ask (useinbandfec=1) */
        a->frame_size = 960;
        opus_encoder_ctl(a->oenc, OPUS_GET_LOOKAHEAD(&a->delay));
        return 0;
    }
    if (av_id(a->dst) == AV_CODEC_ID_NONE)
        return fail(a, "no encoder for %s", lc_codec_name(a->dst));
    c = avcodec_find_encoder(av_id(a->dst));
    if (c == NULL)
        return fail(a, "libavcodec has no %s encoder", lc_codec_name(a->dst));
    a->enc = avcodec_alloc_context3(c);
    if (a->enc == NULL)
        return fail(a, "out of memory");
    a->enc->sample_rate = a->rate;
    av_channel_layout_default(&a->enc->ch_layout, a->channels);
    a->enc->sample_fmt = c->sample_fmts != NULL ? c->sample_fmts[0] : AV_SAMPLE_FMT_S16;
    if (bitrate > 0)
        a->enc->bit_rate = bitrate;
    if (a->dst == LC_CODEC_AAC) {
        a->enc->profile = FF_PROFILE_AAC_LOW;
        a->enc->flags |= AV_CODEC_FLAG_GLOBAL_HEADER; /* the ASC goes out once, as the FLV sequence header */
    }
    if (avcodec_open2(a->enc, c, NULL) < 0)
        return fail(a, "%s encoder does not open at %d Hz, %d channels", lc_codec_name(a->dst),
                    a->rate, a->channels);
    a->frame_size = a->enc->frame_size > 0 ? a->enc->frame_size : a->rate / 50;   /* PCM: 20 ms */
    a->delay = a->enc->initial_padding > 0 ? a->enc->initial_padding : 0;
    a->eframe = av_frame_alloc();
    a->pkt = a->pkt != NULL ? a->pkt : av_packet_alloc();
    return a->eframe != NULL && a->pkt != NULL ? 0 : fail(a, "out of memory");
}

lc_audio_t *lc_audio_create(int src, const uint8_t *cfg, size_t cfg_len, int dst, int rate,
                            int channels, int bitrate, char *err, size_t err_size)
{
    lc_audio_t *a = calloc(1, sizeof *a);

    if (a == NULL) {
        snprintf(err, err_size, "out of memory");
        return NULL;
    }
    a->src = src;
    a->dst = dst;
    a->rate = rate > 0 ? rate : 48000;
    a->channels = channels == 1 ? 1 : 2;
    fixed_format(dst, &a->rate, &a->channels);
    a->next_in_pts = INT64_MIN;
    a->first_pts = INT64_MIN;
    a->out = calloc(OUT_MAX, sizeof *a->out);
    if (a->out == NULL) {
        fail(a, "out of memory");
        goto failed;
    }
    if (open_decoder(a, cfg, cfg_len) < 0 || open_encoder(a, bitrate) < 0)
        goto failed;
    if (a->dst == LC_CODEC_AAC && a->rate != a->enc->sample_rate)
        goto failed;
    return a;
failed:
    snprintf(err, err_size, "%s", a->err);
    lc_audio_destroy(a);
    return NULL;
}

void lc_audio_destroy(lc_audio_t *a)
{
    if (a == NULL)
        return;
    if (a->odec != NULL)
        opus_decoder_destroy(a->odec);
    if (a->oenc != NULL)
        opus_encoder_destroy(a->oenc);
    avcodec_free_context(&a->dec);
    avcodec_free_context(&a->enc);
    av_packet_free(&a->pkt);
    av_frame_free(&a->frame);
    av_frame_free(&a->eframe);
    swr_free(&a->swr);
    free(a->fifo);
    free(a->out);
    free(a);
}

static int fifo_room(lc_audio_t *a, int samples)
{
    int need = (a->fifo_n + samples) * a->channels;

    if (need > a->fifo_cap) {
        int cap = need * 2;
        int16_t *f = realloc(a->fifo, (size_t)cap * sizeof *f);

        if (f == NULL)
            return fail(a, "out of memory");
        a->fifo = f;
        a->fifo_cap = cap;
    }
    return 0;
}

static void queue_out(lc_audio_t *a, const uint8_t *data, size_t len, int64_t pts)
{
    out_slot_t *o;

    if (len > OUT_BYTES)
        return;
    if (a->out_n == OUT_MAX) {            /* nobody pulls: the oldest goes */
        a->out_head = (a->out_head + 1) % OUT_MAX;
        a->out_n--;
        a->errors++;
    }
    o = &a->out[(a->out_head + a->out_n) % OUT_MAX];
    memcpy(o->data, data, len);
    o->len = len;
    o->pts = pts;
    a->out_n++;
}

static int64_t out_pts(const lc_audio_t *a)
{
    return a->first_pts + (a->samples_out - a->delay) * 1000000 / a->rate;
}

static void drain_encoder(lc_audio_t *a)
{
    while (avcodec_receive_packet(a->enc, a->pkt) == 0) {
        /* Counted, not the packet's pts (libavcodec's, in its own time base) */
        queue_out(a, a->pkt->data, (size_t)a->pkt->size,
                  a->first_pts + (a->packets_out * a->frame_size - a->delay) * 1000000 / a->rate);
        a->packets_out++;
        av_packet_unref(a->pkt);
    }
}

/* Encodes every whole frame the FIFO holds. */
static void encode_fifo(lc_audio_t *a)
{
    int off = 0;

    while (a->fifo_n - off >= a->frame_size) {
        const int16_t *s = a->fifo + (size_t)off * a->channels;

        if (a->oenc != NULL) {
            uint8_t buf[1500];
            int n = opus_encode(a->oenc, s, a->frame_size, buf, sizeof buf);

            if (n > 0)
                queue_out(a, buf, (size_t)n, out_pts(a));
        } else {
            AVFrame *f = a->eframe;

            av_frame_unref(f);
            f->nb_samples = a->frame_size;
            f->format = a->enc->sample_fmt;
            f->sample_rate = a->rate;
            av_channel_layout_copy(&f->ch_layout, &a->enc->ch_layout);
            if (av_frame_get_buffer(f, 0) < 0) {
                fail(a, "out of memory");
                break;
            }
            for (int i = 0; i < a->frame_size; i++)
                for (int c = 0; c < a->channels; c++) {
                    int16_t v = s[i * a->channels + c];

                    switch (f->format) {
                    case AV_SAMPLE_FMT_FLTP: ((float *)f->data[c])[i] = (float)v / 32768.0f; break;
                    case AV_SAMPLE_FMT_S16P: ((int16_t *)f->data[c])[i] = v; break;
                    default: ((int16_t *)f->data[0])[i * a->channels + c] = v; break;
                    }
                }
            f->pts = a->samples_out;
            if (avcodec_send_frame(a->enc, f) == 0)
                drain_encoder(a);
        }
        a->samples_out += a->frame_size;
        off += a->frame_size;
    }
    if (off > 0) {
        memmove(a->fifo, a->fifo + (size_t)off * a->channels,
                (size_t)(a->fifo_n - off) * a->channels * sizeof *a->fifo);
        a->fifo_n -= off;
    }
}

/* Decoded samples in (any format/rate), s16 at the output rate into the FIFO. */
static int resample(lc_audio_t *a, const uint8_t **in, int n, enum AVSampleFormat fmt,
                    AVChannelLayout *layout, int rate)
{
    int max, got;
    uint8_t *outp;

    if (a->swr == NULL) {
        AVChannelLayout out_l;

        av_channel_layout_default(&out_l, a->channels);
        if (swr_alloc_set_opts2(&a->swr, &out_l, AV_SAMPLE_FMT_S16, a->rate, layout, fmt, rate, 0, NULL) < 0
            || swr_init(a->swr) < 0) {
            swr_free(&a->swr);
            return fail(a, "resampler does not open (%d Hz in)", rate);
        }
        a->in_rate = rate;
    } else if (rate != a->in_rate) {
        return fail(a, "input rate changed from %d to %d Hz", a->in_rate, rate);
    }
    max = swr_get_out_samples(a->swr, n);
    if (max < 0 || fifo_room(a, max) < 0)
        return -1;
    outp = (uint8_t *)(a->fifo + (size_t)a->fifo_n * a->channels);
    got = swr_convert(a->swr, &outp, max, in, n);
    if (got < 0)
        return fail(a, "resampler failed");
    a->fifo_n += got;
    encode_fifo(a);
    return 0;
}

static int opus_out(lc_audio_t *a, const uint8_t *data, size_t len, int fec, int samples)
{
    int16_t pcm[OPUS_MAX_SAMPLES * 2];
    const uint8_t *in[1] = { (const uint8_t *)pcm };
    AVChannelLayout st = AV_CHANNEL_LAYOUT_STEREO;
    int n = opus_decode(a->odec, data, (opus_int32)len, pcm, samples, fec);

    if (n < 0)
        return fail(a, "corrupt Opus frame (%s)", opus_strerror(n));
    return resample(a, in, n, AV_SAMPLE_FMT_S16, &st, 48000);
}

static int decode_opus(lc_audio_t *a, const uint8_t *data, size_t len, int64_t pts)
{
    int n = opus_packet_get_nb_samples(data, (opus_int32)len, 48000);

    if (n <= 0 || n > OPUS_MAX_SAMPLES)
        return fail(a, "corrupt Opus frame (TOC)");
    if (a->next_in_pts != INT64_MIN) {
        int64_t gap_us = pts - a->next_in_pts;
        int64_t gap = gap_us > 0 && gap_us < 1000000 ? gap_us * 48000 / 1000000 : 0;   /* missing samples */

        /* libopus conceals in steps of 2.5 ms (120 samples): a hole that is
         * not a whole number of them (a publisher's timeline moved by its
         * sender reports) is concealed to the step below, the rest is jitter */
        gap -= gap % 120;
        if (gap > 0 && gap >= n / 2) {          /* a hole of up to 1 s is concealed */
            int fec_n = gap >= n ? n : (int)gap;
            int plc = (int)gap - fec_n;

            while (plc > 0) {                  /* PLC for all but the last missing frame */
                int k = plc > 960 ? 960 : plc;

                if (opus_out(a, NULL, 0, 0, k) < 0)
                    break;                     /* concealment is a nicety: the frame itself still plays */
                plc -= k;
                a->concealed++;
            }
            if (opus_out(a, data, len, 1, fec_n) == 0)  /* FEC: the missing frame from this one */
                a->concealed++;
        }
    }
    if (opus_out(a, data, len, 0, OPUS_MAX_SAMPLES) < 0)
        return -1;
    a->next_in_pts = pts + (int64_t)n * 1000000 / 48000;
    return 0;
}

/* A hole in non-Opus input (15 ms to 1 s) becomes silence, so output
 * timestamps stay on the input's clock (A/V sync) after a loss. */
static int fill_hole(lc_audio_t *a, int64_t pts)
{
    int64_t gap;
    int n;

    if (a->next_in_pts == INT64_MIN)
        return 0;
    gap = pts - a->next_in_pts;
    if (gap < 15000 || gap >= 1000000)
        return 0;
    n = (int)(gap * a->rate / 1000000);
    if (fifo_room(a, n) < 0)
        return -1;
    memset(a->fifo + (size_t)a->fifo_n * a->channels, 0, (size_t)n * a->channels * sizeof *a->fifo);
    a->fifo_n += n;
    a->concealed++;
    encode_fifo(a);
    return 0;
}

static int decode_av(lc_audio_t *a, const uint8_t *data, size_t len, int64_t pts)
{
    int r;
    int64_t got = 0;

    if (fill_hole(a, pts) < 0)
        return -1;
    av_packet_unref(a->pkt);
    if (av_new_packet(a->pkt, (int)len) < 0)
        return fail(a, "out of memory");
    memcpy(a->pkt->data, data, len);
    r = avcodec_send_packet(a->dec, a->pkt);
    av_packet_unref(a->pkt);
    if (r < 0)
        return fail(a, "corrupt %s frame", lc_codec_name(a->src));
    while ((r = avcodec_receive_frame(a->dec, a->frame)) == 0) {
        AVFrame *f = a->frame;

        if (f->nb_samples > 0 && f->sample_rate > 0
            && resample(a, (const uint8_t **)f->extended_data, f->nb_samples, f->format,
                        &f->ch_layout, f->sample_rate) < 0) {
            av_frame_unref(f);
            return -1;
        }
        if (f->sample_rate > 0)
            got += (int64_t)f->nb_samples * 1000000 / f->sample_rate;
        av_frame_unref(f);
    }
    if (r != AVERROR(EAGAIN) && r != AVERROR_EOF)
        return fail(a, "corrupt %s frame", lc_codec_name(a->src));
    if (got > 0)
        a->next_in_pts = pts + got;
    return 0;
}

static int decode(lc_audio_t *a, const jitter_slot_t *s)
{
    if (!a->started) {
        a->started = 1;
        a->first_pts = s->pts;
    } else if (s->pts <= a->last_pts) {
        return fail(a, "late frame dropped (%lld us behind)", (long long)(a->last_pts - s->pts));
    }
    a->last_pts = s->pts;
    return a->odec != NULL ? decode_opus(a, s->data, s->len, s->pts) : decode_av(a, s->data, s->len, s->pts);
}

int lc_audio_push(lc_audio_t *a, const uint8_t *data, size_t len, int64_t pts_us)
{
    int i, r = 0;

    if (len == 0 || len > MAX_IN)
        return fail(a, "input frame of %zu bytes dropped", len);
    if (pts_us < -(INT64_C(1) << 61) || pts_us > INT64_C(1) << 61)   /* differences never overflow */
        return fail(a, "input pts out of range");
    if (a->started && pts_us <= a->last_pts)
        return fail(a, "late frame dropped (%lld us behind)", (long long)(a->last_pts - pts_us));
    for (i = a->jn; i > 0 && a->jb[i - 1].pts > pts_us; i--)
        ;
    if (i > 0 && a->jb[i - 1].pts == pts_us)
        return fail(a, "duplicate frame dropped");
    memmove(&a->jb[i + 1], &a->jb[i], (size_t)(a->jn - i) * sizeof a->jb[0]);
    a->jb[i].pts = pts_us;
    a->jb[i].len = len;
    memcpy(a->jb[i].data, data, len);
    a->jn++;
    if (a->jn > LC_AUDIO_JITTER) {
        r = decode(a, &a->jb[0]);
        a->jn--;
        memmove(&a->jb[0], &a->jb[1], (size_t)a->jn * sizeof a->jb[0]);
    }
    return r;
}

void lc_audio_flush(lc_audio_t *a)
{
    for (int i = 0; i < a->jn; i++)
        decode(a, &a->jb[i]);
    a->jn = 0;
}

int lc_audio_pull(lc_audio_t *a, uint8_t *buf, size_t size, int64_t *pts_us)
{
    out_slot_t *o;

    if (a->out_n == 0)
        return 0;
    o = &a->out[a->out_head];
    if (o->len > size)
        return -1;
    memcpy(buf, o->data, o->len);
    *pts_us = o->pts;
    a->out_head = (a->out_head + 1) % OUT_MAX;
    a->out_n--;
    return (int)o->len;
}

int lc_audio_set_fec(lc_audio_t *a, int loss_percent)
{
    if (a->oenc == NULL)
        return -1;
    opus_encoder_ctl(a->oenc, OPUS_SET_INBAND_FEC(loss_percent > 0));
    opus_encoder_ctl(a->oenc, OPUS_SET_PACKET_LOSS_PERC(loss_percent));
    return 0;
}

int lc_audio_out_config(const lc_audio_t *a, uint8_t *buf, size_t size)
{
    if (a->enc == NULL || a->enc->extradata_size <= 0)
        return 0;
    if ((size_t)a->enc->extradata_size > size)
        return -1;
    memcpy(buf, a->enc->extradata, (size_t)a->enc->extradata_size);
    return a->enc->extradata_size;
}

int lc_audio_out_rate(const lc_audio_t *a) { return a->rate; }
int lc_audio_out_channels(const lc_audio_t *a) { return a->channels; }

const char *lc_audio_error(const lc_audio_t *a) { return a->err; }
uint64_t lc_audio_errors(const lc_audio_t *a) { return a->errors; }
uint64_t lc_audio_concealed(const lc_audio_t *a) { return a->concealed; }
