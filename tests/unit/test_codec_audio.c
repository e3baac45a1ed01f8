/*
 * test_codec_audio.c: the audio transcoder on real encoded audio made here
 * with libavcodec and libopus: a sine goes in, the output is decoded again
 * and its frequency counted by zero crossings; timestamps over an hour; the
 * first output pts; a lost Opus packet concealed.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>

#include <cmocka.h>
#include <opus.h>
#include <libavcodec/avcodec.h>

#include "common/codec/audio.h"
#include "common/codec/codec.h"

#define MAXF 4096
typedef struct { int n; size_t len[MAXF]; uint8_t *data[MAXF]; int64_t pts[MAXF];
                 uint8_t cfg[64]; size_t cfg_len; int frame_samples; int rate; } frames_t;

static void frames_free(frames_t *f)
{
    for (int i = 0; i < f->n; i++)
        free(f->data[i]);
    free(f);
}

static void add(frames_t *f, const uint8_t *d, size_t len, int64_t pts)
{
    assert_true(f->n < MAXF);
    f->data[f->n] = malloc(len);
    memcpy(f->data[f->n], d, len);
    f->len[f->n] = len;
    f->pts[f->n] = pts;
    f->n++;
}

static int16_t sine(int64_t i, int rate, double hz)
{
    return (int16_t)(12000 * sin(2 * M_PI * hz * (double)i / rate));
}

/* seconds of a hz sine, encoded by libavcodec's `codec` (pts from 1 s on) */
static frames_t *encode_av(int codec, int rate, int ch, double hz, double seconds)
{
    enum AVCodecID id = codec == LC_CODEC_AAC ? AV_CODEC_ID_AAC : codec == LC_CODEC_PCMA ? AV_CODEC_ID_PCM_ALAW
                        : codec == LC_CODEC_PCMU ? AV_CODEC_ID_PCM_MULAW : codec == LC_CODEC_G722
                        ? AV_CODEC_ID_ADPCM_G722 : AV_CODEC_ID_SPEEX;
    const AVCodec *c = avcodec_find_encoder(id);
    AVCodecContext *e;
    AVFrame *fr = av_frame_alloc();
    AVPacket *p = av_packet_alloc();
    frames_t *f = calloc(1, sizeof *f);
    int64_t total = (int64_t)(seconds * rate), done = 0;

    if (c == NULL)
        return NULL;
    e = avcodec_alloc_context3(c);
    e->sample_rate = rate;
    av_channel_layout_default(&e->ch_layout, ch);
    e->sample_fmt = c->sample_fmts[0];
    e->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
    assert_int_equal(avcodec_open2(e, c, NULL), 0);
    if (e->extradata_size > 0) {
        memcpy(f->cfg, e->extradata, (size_t)e->extradata_size);
        f->cfg_len = (size_t)e->extradata_size;
    }
    f->frame_samples = e->frame_size > 0 ? e->frame_size : rate / 50;
    f->rate = rate;
    while (done < total) {
        fr->nb_samples = f->frame_samples;
        fr->format = e->sample_fmt;
        fr->sample_rate = rate;
        av_channel_layout_copy(&fr->ch_layout, &e->ch_layout);
        assert_int_equal(av_frame_get_buffer(fr, 0), 0);
        for (int i = 0; i < fr->nb_samples; i++)
            for (int k = 0; k < ch; k++) {
                int16_t v = sine(done + i, rate, hz);

                if (fr->format == AV_SAMPLE_FMT_FLTP)
                    ((float *)fr->data[k])[i] = v / 32768.0f;
                else
                    ((int16_t *)fr->data[0])[i * ch + k] = v;
            }
        fr->pts = done;
        done += fr->nb_samples;
        assert_int_equal(avcodec_send_frame(e, fr), 0);
        av_frame_unref(fr);
        while (avcodec_receive_packet(e, p) == 0) {
            add(f, p->data, (size_t)p->size, 1000000 + p->pts * 1000000 / rate);
            av_packet_unref(p);
        }
    }
    avcodec_free_context(&e);
    av_frame_free(&fr);
    av_packet_free(&p);
    return f;
}

static frames_t *encode_opus(double hz, int frames)
{
    int err;
    OpusEncoder *e = opus_encoder_create(48000, 2, OPUS_APPLICATION_AUDIO, &err);
    frames_t *f = calloc(1, sizeof *f);
    int16_t pcm[960 * 2];
    uint8_t buf[1500];

    opus_encoder_ctl(e, OPUS_SET_INBAND_FEC(1));
    opus_encoder_ctl(e, OPUS_SET_PACKET_LOSS_PERC(20));
    for (int n = 0; n < frames; n++) {
        for (int i = 0; i < 960; i++)
            pcm[2 * i] = pcm[2 * i + 1] = sine((int64_t)n * 960 + i, 48000, hz);
        int len = opus_encode(e, pcm, 960, buf, sizeof buf);
        assert_true(len > 0);
        add(f, buf, (size_t)len, 1000000 + (int64_t)n * 20000);
    }
    f->frame_samples = 960;
    f->rate = 48000;
    opus_encoder_destroy(e);
    return f;
}

typedef struct { int16_t *pcm; int n, rate; int64_t first_pts, last_pts; int frames; } decoded_t;

/* Runs f through a transcoder to dst and decodes the output again (mono, s16). */
static decoded_t run(const frames_t *f, int src, int dst, int rate, int ch, int skip)
{
    char err[160];
    lc_audio_t *a = lc_audio_create(src, f->cfg_len ? f->cfg : NULL, f->cfg_len, dst, rate, ch, 64000,
                                    err, sizeof err);
    decoded_t d = { .first_pts = INT64_MIN };
    uint8_t buf[8192];
    int64_t pts;
    int len, e;
    OpusDecoder *od = NULL;
    AVCodecContext *dc = NULL;
    AVPacket *p = av_packet_alloc();
    AVFrame *fr = av_frame_alloc();

    if (a == NULL)
        fail_msg("create: %s", err);
    if (dst == LC_CODEC_OPUS) {
        od = opus_decoder_create(48000, 1, &e);
        d.rate = 48000;
    } else {
        enum AVCodecID id = dst == LC_CODEC_AAC ? AV_CODEC_ID_AAC : dst == LC_CODEC_PCMA ? AV_CODEC_ID_PCM_ALAW
                            : AV_CODEC_ID_PCM_MULAW;
        dc = avcodec_alloc_context3(avcodec_find_decoder(id));
        dc->sample_rate = rate;
        av_channel_layout_default(&dc->ch_layout, ch);
        if (dst == LC_CODEC_AAC) {      /* an ASC for AAC-LC at this rate/channels */
            static const int rates[] = { 96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000 };
            int idx = 0;

            while (rates[idx] != rate)
                idx++;
            dc->extradata = av_mallocz(2 + AV_INPUT_BUFFER_PADDING_SIZE);
            dc->extradata[0] = (uint8_t)(2 << 3 | idx >> 1);
            dc->extradata[1] = (uint8_t)((idx & 1) << 7 | ch << 3);
            dc->extradata_size = 2;
        }
        assert_int_equal(avcodec_open2(dc, NULL, NULL), 0);
        d.rate = rate;
    }
    d.pcm = malloc(sizeof(int16_t) * (size_t)d.rate * 10);
    for (int i = 0; i <= f->n; i++) {
        if (i < f->n && i != skip)
            lc_audio_push(a, f->data[i], f->len[i], f->pts[i]);
        if (i == f->n)
            lc_audio_flush(a);
        while ((len = lc_audio_pull(a, buf, sizeof buf, &pts)) > 0) {
            if (d.first_pts == INT64_MIN)
                d.first_pts = pts;
            d.last_pts = pts;
            d.frames++;
            if (od != NULL) {
                int n = opus_decode(od, buf, len, d.pcm + d.n, 5760, 0);
                assert_true(n > 0);
                d.n += n;
                continue;
            }
            av_new_packet(p, len);
            memcpy(p->data, buf, (size_t)len);
            assert_int_equal(avcodec_send_packet(dc, p), 0);
            av_packet_unref(p);
            while (avcodec_receive_frame(dc, fr) == 0) {
                for (int k = 0; k < fr->nb_samples; k++)
                    d.pcm[d.n++] = fr->format == AV_SAMPLE_FMT_FLTP ? (int16_t)(((float *)fr->data[0])[k] * 32767)
                                   : ((int16_t *)fr->data[0])[k * ch];
                av_frame_unref(fr);
            }
        }
    }
    assert_int_equal(lc_audio_errors(a), 0);
    lc_audio_destroy(a);
    if (od != NULL)
        opus_decoder_destroy(od);
    avcodec_free_context(&dc);
    av_packet_free(&p);
    av_frame_free(&fr);
    return d;
}

/* Frequency by rising zero crossings, skipping the first 200 ms (priming). */
static double freq(const decoded_t *d)
{
    int from = d->rate / 5, cross = 0, first = -1, last = -1;

    for (int i = from + 1; i < d->n; i++)
        if (d->pcm[i - 1] < 0 && d->pcm[i] >= 0) {
            if (first < 0)
                first = i;
            last = i;
            cross++;
        }
    return cross < 2 ? 0 : (cross - 1) * (double)d->rate / (last - first);
}

static void check(int src, int src_rate, int src_ch, int dst, int rate, int ch, double hz)
{
    frames_t *f = src == LC_CODEC_OPUS ? encode_opus(hz, 100) : encode_av(src, src_rate, src_ch, hz, 2.0);
    decoded_t d;

    if (f == NULL) {
        print_message("no encoder for %s here, skipped\n", lc_codec_name(src));
        return;
    }
    d = run(f, src, dst, rate, ch, -1);
    print_message("%s -> %s: %d frames, %.1f Hz, first pts %lld (input %lld)\n", lc_codec_name(src),
                  lc_codec_name(dst), d.frames, freq(&d), (long long)d.first_pts, (long long)f->pts[0]);
    assert_true(d.frames >= (int)(1.5 * rate / (dst == LC_CODEC_AAC ? 1024 : rate / 50)));
    assert_true(fabs(freq(&d) - hz) < hz * 0.03);
    /* no gap at the start: the first frame starts before the first input by the encoder's delay, which
     * plays first, so the first input sample plays at its own pts */
    int64_t delay = dst == LC_CODEC_AAC ? 1024 * 1000000 / rate : dst == LC_CODEC_OPUS ? 312 * 1000000 / 48000 : 0;
    assert_int_equal(d.first_pts, f->pts[0] - delay);
    free(d.pcm);
    frames_free(f);
}

static void test_aac_to_opus(void **s) { (void)s; check(LC_CODEC_AAC, 44100, 2, LC_CODEC_OPUS, 48000, 2, 1000); }
static void test_opus_to_aac(void **s) { (void)s; check(LC_CODEC_OPUS, 48000, 2, LC_CODEC_AAC, 44100, 2, 1000); }
static void test_opus_to_aac_mono16k(void **s) { (void)s; check(LC_CODEC_OPUS, 48000, 2, LC_CODEC_AAC, 16000, 1, 440); }
static void test_pcma_to_opus(void **s) { (void)s; check(LC_CODEC_PCMA, 8000, 1, LC_CODEC_OPUS, 48000, 2, 1000); }
static void test_g722_to_opus(void **s) { (void)s; check(LC_CODEC_G722, 16000, 1, LC_CODEC_OPUS, 48000, 2, 1000); }
static void test_speex_to_opus(void **s) { (void)s; check(LC_CODEC_SPEEX, 16000, 1, LC_CODEC_OPUS, 48000, 2, 440); }
static void test_opus_to_pcma(void **s) { (void)s; check(LC_CODEC_OPUS, 48000, 2, LC_CODEC_PCMA, 8000, 1, 1000); }

/* An hour of 20 ms PCMA frames: the last output pts stays within one frame
 * of the last input pts (sample counting, no rounding that adds up). */
static void test_no_drift_over_an_hour(void **s)
{
    char err[160];
    lc_audio_t *a = lc_audio_create(LC_CODEC_PCMA, NULL, 0, LC_CODEC_PCMU, 8000, 1, 0, err, sizeof err);
    uint8_t in[160], buf[512];
    int64_t pts, last_in = 0, last_out = 0;

    (void)s;
    assert_non_null(a);
    memset(in, 0xd5, sizeof in);
    for (int64_t i = 0; i < 3600 * 50; i++) {
        last_in = 5000000 + i * 20000;
        assert_int_equal(lc_audio_push(a, in, sizeof in, last_in), 0);
        while (lc_audio_pull(a, buf, sizeof buf, &pts) > 0)
            last_out = pts;
    }
    lc_audio_flush(a);
    while (lc_audio_pull(a, buf, sizeof buf, &pts) > 0)
        last_out = pts;
    print_message("last input pts %lld, last output pts %lld\n", (long long)last_in, (long long)last_out);
    assert_true(llabs(last_out - last_in) <= 20000);
    lc_audio_destroy(a);
}

/* Opus frame 20 of 100 lost: the output is continuous (100 frames' worth of
 * samples), one frame concealed, the tone still there. */
static void test_opus_loss_concealed(void **s)
{
    frames_t *f = encode_opus(1000, 100);
    char err[160];
    lc_audio_t *a = lc_audio_create(LC_CODEC_OPUS, NULL, 0, LC_CODEC_PCMA, 8000, 1, 0, err, sizeof err);
    uint8_t buf[512];
    int64_t pts, prev = INT64_MIN;
    int samples = 0, len;

    (void)s;
    for (int i = 0; i < f->n; i++) {
        if (i != 20)
            assert_int_equal(lc_audio_push(a, f->data[i], f->len[i], f->pts[i]), 0);
        if (i == f->n - 1)
            lc_audio_flush(a);
        while ((len = lc_audio_pull(a, buf, sizeof buf, &pts)) > 0) {
            if (prev != INT64_MIN)
                assert_int_equal(pts - prev, 20000);     /* no hole in the timestamps */
            prev = pts;
            samples += len;
        }
    }
    assert_int_equal(lc_audio_concealed(a), 1);
    assert_true(samples >= 99 * 160);                     /* one frame may wait in the resampler */
    assert_true(samples <= 100 * 160);
    lc_audio_destroy(a);
    frames_free(f);
}

/* Opus input whose timeline jumps 26.056 ms forward mid-stream (a WebRTC
 * publisher's audio put on its video's clock by their sender reports): not
 * a whole number of libopus's 2.5 ms concealment steps. Every frame after it
 * still decodes (this once made every later frame fail, and players heard
 * only concealment), and the tone survives. */
static void test_opus_odd_jump(void **s)
{
    frames_t *f = encode_opus(1000, 100);
    char err[160];
    lc_audio_t *a = lc_audio_create(LC_CODEC_OPUS, NULL, 0, LC_CODEC_PCMA, 8000, 1, 0, err, sizeof err);
    uint8_t buf[512];
    int64_t pts;
    int samples = 0, len;

    (void)s;
    for (int i = 0; i < f->n; i++) {
        assert_int_equal(lc_audio_push(a, f->data[i], f->len[i], f->pts[i] + (i >= 30 ? 26056 : 0)), 0);
        if (i == f->n - 1)
            lc_audio_flush(a);
        while ((len = lc_audio_pull(a, buf, sizeof buf, &pts)) > 0)
            samples += len;
    }
    assert_int_equal(lc_audio_errors(a), 0);
    assert_true(samples >= 100 * 160);                    /* every frame, and the 25 ms concealed */
    assert_true(samples <= 102 * 160);
    lc_audio_destroy(a);
    frames_free(f);
}

/* 100 ms missing from PCMA input: silence fills it, so the last output pts
 * still matches the last input pts (A/V sync survives the loss). */
static void test_hole_filled(void **s)
{
    char err[160];
    lc_audio_t *a = lc_audio_create(LC_CODEC_PCMA, NULL, 0, LC_CODEC_PCMU, 8000, 1, 0, err, sizeof err);
    uint8_t in[160], buf[512];
    int64_t pts, last_in = 0, last_out = 0;

    (void)s;
    memset(in, 0xd5, sizeof in);
    for (int i = 0; i < 100; i++) {
        if (i >= 40 && i < 45)
            continue;
        last_in = i * 20000;
        assert_int_equal(lc_audio_push(a, in, sizeof in, last_in), 0);
    }
    lc_audio_flush(a);
    while (lc_audio_pull(a, buf, sizeof buf, &pts) > 0)
        last_out = pts;
    assert_int_equal(lc_audio_concealed(a), 1);
    assert_true(llabs(last_out - last_in) <= 20000);
    lc_audio_destroy(a);
}

/* Corrupt and hostile input: dropped, counted, no crash; bad ASC refused. */
static void test_corrupt_input(void **s)
{
    char err[160];
    uint8_t junk[300];
    static const uint8_t bad_asc[] = { 0xff, 0xff };
    lc_audio_t *a;

    (void)s;
    assert_null(lc_audio_create(LC_CODEC_AAC, NULL, 0, LC_CODEC_OPUS, 48000, 2, 0, err, sizeof err));
    assert_null(lc_audio_create(LC_CODEC_AAC, bad_asc, 2, LC_CODEC_OPUS, 48000, 2, 0, err, sizeof err));
    assert_null(lc_audio_create(LC_CODEC_OPUS, NULL, 0, LC_CODEC_AAC, 7000, 2, 0, err, sizeof err));
    assert_null(lc_audio_create(LC_CODEC_H264, NULL, 0, LC_CODEC_OPUS, 48000, 2, 0, err, sizeof err));
    a = lc_audio_create(LC_CODEC_PCMA, NULL, 0, LC_CODEC_OPUS, 48000, 2, 0, err, sizeof err);
    assert_int_equal(lc_audio_set_fec(a, 10), 0);
    lc_audio_destroy(a);
    a = lc_audio_create(LC_CODEC_OPUS, NULL, 0, LC_CODEC_AAC, 48000, 2, 0, err, sizeof err);
    assert_non_null(a);
    assert_int_equal(lc_audio_set_fec(a, 10), -1);       /* not an Opus output */
    for (int i = 0; i < 50; i++) {
        for (size_t k = 0; k < sizeof junk; k++)
            junk[k] = (uint8_t)(rand() & 0xff);
        lc_audio_push(a, junk, 1 + (size_t)(rand() % 300), i * 20000);
    }
    lc_audio_push(a, junk, 10, 0);                      /* late */
    assert_true(lc_audio_errors(a) > 0);
    assert_true(strlen(lc_audio_error(a)) > 0);
    lc_audio_destroy(a);
}

int main(void)
{
    av_log_set_level(AV_LOG_ERROR);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_aac_to_opus),
        cmocka_unit_test(test_opus_to_aac),
        cmocka_unit_test(test_opus_to_aac_mono16k),
        cmocka_unit_test(test_pcma_to_opus),
        cmocka_unit_test(test_g722_to_opus),
        cmocka_unit_test(test_speex_to_opus),
        cmocka_unit_test(test_opus_to_pcma),
        cmocka_unit_test(test_no_drift_over_an_hour),
        cmocka_unit_test(test_opus_loss_concealed),
        cmocka_unit_test(test_opus_odd_jump),
        cmocka_unit_test(test_hole_filled),
        cmocka_unit_test(test_corrupt_input),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
