/*
 * codec_audio.c: how many audio transcoder channels one core runs, AAC ->
 * Opus and Opus -> AAC (48 kHz stereo, 64 kbit/s): audio seconds through
 * lc_audio per CPU second of this thread. Prints one line per direction.
 */
#include <math.h>
#include <opus.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <libavcodec/avcodec.h>

#include "common/codec/audio.h"
#include "common/codec/codec.h"

#define SECONDS 20
#define MAXF (SECONDS * 60)

static uint8_t *fr[MAXF];
static int fl[MAXF], nf;
static uint8_t asc[64];
static size_t asc_len;

static double cpu(void)
{
    struct timespec t;

    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return (double)t.tv_sec + t.tv_nsec / 1e9;
}

static void keep(const uint8_t *d, int len)
{
    fr[nf] = malloc((size_t)len);
    memcpy(fr[nf], d, (size_t)len);
    fl[nf++] = len;
}

/* SECONDS of a 1 kHz tone as `src` frames: Opus from libopus; AAC made from
 * that Opus by the transcoder itself (both real encodings). */
static int make_input(int src)
{
    int e;
    OpusEncoder *oe = opus_encoder_create(48000, 2, OPUS_APPLICATION_AUDIO, &e);
    int16_t pcm[1920];
    uint8_t buf[1500], out[8192];
    char err[160];
    lc_audio_t *a = NULL;
    int64_t pts;
    int len;

    opus_encoder_ctl(oe, OPUS_SET_BITRATE(64000));
    if (src == LC_CODEC_AAC) {
        a = lc_audio_create(LC_CODEC_OPUS, NULL, 0, LC_CODEC_AAC, 48000, 2, 64000, err, sizeof err);
        if (a == NULL)
            return fprintf(stderr, "%s\n", err), -1;
        asc[0] = 0x11; asc[1] = 0x90;       /* AAC-LC, 48 kHz, stereo */
        asc_len = 2;
    }
    for (int n = 0; n < SECONDS * 50; n++) {
        for (int i = 0; i < 960; i++)
            pcm[2 * i] = pcm[2 * i + 1] = (int16_t)(10000 * sin(2 * M_PI * 1000 * (n * 960 + i) / 48000.0));
        len = opus_encode(oe, pcm, 960, buf, sizeof buf);
        if (a == NULL) {
            keep(buf, len);
            continue;
        }
        lc_audio_push(a, buf, (size_t)len, (int64_t)n * 20000);
        while ((len = lc_audio_pull(a, out, sizeof out, &pts)) > 0 && nf < MAXF)
            keep(out, len);
    }
    opus_encoder_destroy(oe);
    lc_audio_destroy(a);
    return 0;
}

static void bench(int src, int dst)
{
    char err[160];
    uint8_t out[8192];
    int64_t pts;
    double t0, used = 0;
    int rounds = 0;

    nf = 0;
    if (make_input(src) < 0)
        return;
    while (used < 3.0) {
        lc_audio_t *a = lc_audio_create(src, asc_len && src == LC_CODEC_AAC ? asc : NULL, asc_len, dst, 48000,
                                        2, 64000, err, sizeof err);

        if (a == NULL) {
            fprintf(stderr, "%s\n", err);
            return;
        }
        t0 = cpu();
        for (int i = 0; i < nf; i++) {
            lc_audio_push(a, fr[i], (size_t)fl[i], src == LC_CODEC_AAC ? (int64_t)i * 21333 : (int64_t)i * 20000);
            while (lc_audio_pull(a, out, sizeof out, &pts) > 0)
                ;
        }
        used += cpu() - t0;
        lc_audio_destroy(a);
        rounds++;
    }
    printf("%s->%s 48 kHz stereo 64 kbit/s: %.0f channels per core (%.1f x realtime)\n", lc_codec_name(src),
           lc_codec_name(dst), rounds * (double)SECONDS / used, rounds * (double)SECONDS / used);
    for (int i = 0; i < nf; i++)
        free(fr[i]);
}

int main(void)
{
    av_log_set_level(AV_LOG_ERROR);
    bench(LC_CODEC_AAC, LC_CODEC_OPUS);
    bench(LC_CODEC_OPUS, LC_CODEC_AAC);
    return 0;
}
