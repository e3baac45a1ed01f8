/*
 * codec_audio.c: how many audio transcoder channels one core runs, AAC ->
 * Opus and Opus -> AAC (48 kHz stereo, 64 kbit/s): audio seconds through
 * lc_audio per CPU second of this thread. Prints one line per direction and
 * one machine-readable line for bench/run:
 *   BENCH codec name=aac_opus streams_per_core=X cpu_s_per_stream_s=Y stream_s=S cpu_s=C input_s=I out_kbps=B ...
 * (a stream = one stereo channel; stream_s = audio seconds transcoded;
 * out_kbps = the encoder's payload, no container).
 *
 *   codec_audio [DIR]   with DIR, also writes the input as DIR/in.aac (ADTS)
 *                       and DIR/in.opus (Ogg Opus) for bench/codec_bench.sh,
 *                       which runs the ffmpeg command line over the same files.
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
static int opus_preskip = 312;
static const char *dir;

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
    opus_encoder_ctl(oe, OPUS_GET_LOOKAHEAD(&opus_preskip));
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

static void put_le(uint8_t *p, uint64_t v, int n)
{
    for (int i = 0; i < n; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

/* The AAC frames as ADTS (AAC-LC, 48 kHz, stereo: what asc says). */
static int write_adts(FILE *f)
{
    for (int i = 0; i < nf; i++) {
        unsigned len = (unsigned)fl[i] + 7;
        uint8_t h[7] = { 0xff, 0xf1, (1 << 6) | (3 << 2) | (2 >> 2), (uint8_t)(((2 & 3) << 6) | (len >> 11)),
                         (uint8_t)(len >> 3), (uint8_t)(((len & 7) << 5) | 0x1f), 0xfc };

        if (fwrite(h, 1, 7, f) != 7 || fwrite(fr[i], 1, (size_t)fl[i], f) != (size_t)fl[i])
            return -1;
    }
    return 0;
}

static uint32_t ogg_crc(const uint8_t *p, size_t n)
{
    uint32_t c = 0;

    while (n--) {
        c ^= (uint32_t)*p++ << 24;
        for (int k = 0; k < 8; k++)
            c = c & 0x80000000u ? (c << 1) ^ 0x04c11db7u : c << 1;
    }
    return c;
}

/* One Ogg page holding one whole packet (up to 8 KiB). */
static int ogg_page(FILE *f, int flags, uint64_t granule, uint32_t seq, const uint8_t *d, size_t len)
{
    uint8_t p[27 + 255 + 8192];
    size_t nseg = len / 255 + 1, n = 27 + nseg;

    if (len > sizeof p - 27 - 255)
        return -1;
    memcpy(p, "OggS", 4);
    p[4] = 0;
    p[5] = (uint8_t)flags;
    put_le(p + 6, granule, 8);
    put_le(p + 14, 0x6c63646e, 4);            /* serial */
    put_le(p + 18, seq, 4);
    put_le(p + 22, 0, 4);
    p[26] = (uint8_t)nseg;
    for (size_t i = 0; i < nseg; i++)
        p[27 + i] = i + 1 < nseg ? 255 : (uint8_t)(len % 255);
    memcpy(p + n, d, len);
    n += len;
    put_le(p + 22, ogg_crc(p, n), 4);
    return fwrite(p, 1, n, f) == n ? 0 : -1;
}

/* The Opus frames (20 ms each) as Ogg Opus (RFC 7845). */
static int write_ogg_opus(FILE *f)
{
    uint8_t head[19] = "OpusHead", tags[8 + 4 + 11 + 4] = "OpusTags";
    uint64_t granule = (uint64_t)opus_preskip;

    head[8] = 1;                                /* version */
    head[9] = 2;                                /* channels */
    put_le(head + 10, (uint64_t)opus_preskip, 2);
    put_le(head + 12, 48000, 4);                /* input rate; gain 0, mapping family 0 */
    put_le(tags + 8, 11, 4);
    memcpy(tags + 12, "codec_audio", 11);       /* vendor; no comments */
    if (ogg_page(f, 2, 0, 0, head, sizeof head) < 0 || ogg_page(f, 0, 0, 1, tags, sizeof tags) < 0)
        return -1;
    for (int i = 0; i < nf; i++) {
        granule += 960;
        if (ogg_page(f, i + 1 == nf ? 4 : 0, granule, (uint32_t)i + 2, fr[i], (size_t)fl[i]) < 0)
            return -1;
    }
    return 0;
}

static void write_input(int src)
{
    char path[4096];
    FILE *f;
    int rc;

    snprintf(path, sizeof path, "%s/%s", dir, src == LC_CODEC_AAC ? "in.aac" : "in.opus");
    f = fopen(path, "wb");
    if (f == NULL) {
        perror(path);
        return;
    }
    rc = src == LC_CODEC_AAC ? write_adts(f) : write_ogg_opus(f);
    if (fclose(f) != 0 || rc < 0)
        fprintf(stderr, "%s: write failed\n", path);
}

static void bench(int src, int dst)
{
    char err[160];
    uint8_t out[8192];
    int64_t pts;
    double t0, used = 0, in_s;
    long long bytes = 0;
    int rounds = 0, n;

    nf = 0;
    if (make_input(src) < 0)
        return;
    if (dir != NULL)
        write_input(src);
    in_s = src == LC_CODEC_AAC ? nf * 1024 / 48000.0 : nf * 0.02;   /* the input's length: AAC lost the jitter delay */
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
            while ((n = lc_audio_pull(a, out, sizeof out, &pts)) > 0)
                bytes += n;
        }
        used += cpu() - t0;
        lc_audio_destroy(a);
        rounds++;
    }
    printf("%s->%s 48 kHz stereo 64 kbit/s: %.0f channels per core (%.1f x realtime)\n", lc_codec_name(src),
           lc_codec_name(dst), rounds * in_s / used, rounds * in_s / used);
    printf("BENCH codec name=%s_%s streams_per_core=%.1f cpu_s_per_stream_s=%.6f stream_s=%.3f cpu_s=%.3f input_s=%.6f "
           "kbps=64 out_kbps=%.0f rate=48000 channels=2\n", src == LC_CODEC_AAC ? "aac" : "opus",
           dst == LC_CODEC_AAC ? "aac" : "opus", rounds * in_s / used, used / (rounds * in_s), rounds * in_s, used, in_s,
           bytes * 8 / 1000.0 / (rounds * in_s));
    fflush(stdout);
    for (int i = 0; i < nf; i++)
        free(fr[i]);
}

int main(int argc, char **argv)
{
    dir = argc > 1 ? argv[1] : NULL;
    av_log_set_level(AV_LOG_ERROR);
    bench(LC_CODEC_AAC, LC_CODEC_OPUS);
    bench(LC_CODEC_OPUS, LC_CODEC_AAC);
    return 0;
}
