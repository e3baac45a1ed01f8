/*
 * fuzz_flv.c: libFuzzer target for src/common/media/flv.c and, on inputs
 * of at least 1537 bytes (C0+C1), src/common/rtmp/rtmp_handshake.c.
 *
 * The input is an RTMP audio and a video message body, whole and cut at
 * every length up to 16 (the bytes the FLV headers can need). Invariants
 * checked besides "no sanitizer report": success or a reason string, every
 * field in range, audio always a keyframe, a longer body never turns a
 * success into an error. For the handshake: -1 exactly when C0 is not 3,
 * S0 is 3, the simple answer echoes C1 in S2, a digest answer carries our
 * version in S1.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/media/flv.h"
#include "common/rtmp/rtmp_handshake.h"

#define CHECK(x) do { if (!(x)) abort(); } while (0)

static int known_codec(int c)
{
    return (c >= LC_CODEC_NONE && c <= LC_CODEC_HEVC) || (c >= LC_CODEC_AAC && c <= LC_CODEC_PCM);
}

typedef int (*info_fn)(const uint8_t *, size_t, lc_flv_info_t *, const char **);

static int check_info(info_fn fn, const uint8_t *p, size_t n, int audio)
{
    lc_flv_info_t i;
    const char *err = NULL;
    int rc = fn(p, n, &i, &err);

    if (rc < 0) {
        CHECK(rc == -1 && err != NULL);
        return rc;
    }
    CHECK(rc == 0);
    CHECK(known_codec(i.codec) && lc_codec_name(i.codec) != NULL);
    CHECK(i.keyframe == 0 || i.keyframe == 1);
    CHECK(i.config == 0 || i.config == 1);
    CHECK(i.end_of_seq == 0 || i.end_of_seq == 1);
    CHECK(i.cts >= -0x800000 && i.cts <= 0x7fffff);
    if (audio)
        CHECK(i.keyframe == 1 && i.end_of_seq == 0 && i.cts == 0);
    return rc;
}

static void check_body(info_fn fn, const uint8_t *data, size_t size, int audio)
{
    int whole = check_info(fn, data, size, audio);

    for (size_t n = 0; n < size && n <= 16; n++) {
        /* a heap copy of exactly n bytes, so an over-read is caught */
        uint8_t *p = malloc(n ? n : 1);
        CHECK(p != NULL);
        memcpy(p, data, n);
        int rc = check_info(fn, p, n, audio);
        if (rc == 0)
            CHECK(whole == 0);
        free(p);
    }
}

static void check_handshake(const uint8_t *c0c1)
{
    static uint8_t out[1 + 2 * LC_RTMP_HANDSHAKE_SIZE];
    const char *err = NULL;
    int rc = lc_rtmp_handshake_response(c0c1, out, &err);

    CHECK(rc >= -1 && rc <= 2);
    CHECK((rc == -1) == (c0c1[0] != 3));
    if (rc < 0) {
        CHECK(err != NULL);
        return;
    }
    CHECK(out[0] == 3);
    if (rc == 0)
        CHECK(memcmp(out + 1 + LC_RTMP_HANDSHAKE_SIZE, c0c1 + 1, LC_RTMP_HANDSHAKE_SIZE) == 0);
    else
        CHECK(memcmp(out + 5, "\x0d\x0e\x0a\x0d", 4) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    check_body(lc_flv_video_info, data, size, 0);
    check_body(lc_flv_audio_info, data, size, 1);
    if (size >= 1 + LC_RTMP_HANDSHAKE_SIZE)
        check_handshake(data);
    return 0;
}
