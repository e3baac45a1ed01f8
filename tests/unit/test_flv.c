/*
 * test_flv.c: unit tests of src/common/media/flv.c.
 *
 * Vectors: the first bytes of tag bodies as FFmpeg and OBS send them (AVC
 * sequence header 0x17 0x00, NALUs with negative and positive composition
 * times, AAC config 0xaf 0x00), the legacy codec ids, Enhanced RTMP FourCC
 * headers, and every body too short for its own header. Invariant: no
 * body, however short, is read past its end, and an unknown codec is never
 * an error.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/media/flv.h"

typedef int (*info_fn)(const uint8_t *, size_t, lc_flv_info_t *, const char **);

/* Parse a heap copy of exactly len bytes so ASan sees any over-read; every
 * shorter prefix must fail or succeed without reading past its end. */
static int parse(info_fn fn, const char *body, size_t len, lc_flv_info_t *out)
{
    uint8_t *copy = malloc(len ? len : 1);
    const char *err = NULL;
    int rc;

    assert_non_null(copy);
    memcpy(copy, body, len);
    memset(out, 0x5a, sizeof *out);     /* must be fully written */
    rc = fn(copy, len, out, &err);
    if (rc < 0)
        assert_non_null(err);
    free(copy);
    return rc;
}

#define V(s, out) parse(lc_flv_video_info, s, sizeof(s) - 1, out)
#define A(s, out) parse(lc_flv_audio_info, s, sizeof(s) - 1, out)

static void expect(const lc_flv_info_t *i, int codec, int key, int config, int eos, int32_t cts)
{
    assert_int_equal(i->codec, codec);
    assert_int_equal(i->keyframe, key);
    assert_int_equal(i->config, config);
    assert_int_equal(i->end_of_seq, eos);
    assert_int_equal(i->cts, cts);
}

static void test_avc(void **state)
{
    (void)state;
    lc_flv_info_t i;

    /* sequence header (AVCDecoderConfigurationRecord follows) */
    assert_int_equal(V("\x17\x00\x00\x00\x00\x01\x64\x00\x1f", &i), 0);
    expect(&i, LC_CODEC_H264, 1, 1, 0, 0);
    /* keyframe NALU, cts 80 ms */
    assert_int_equal(V("\x17\x01\x00\x00\x50\x00\x00\x00\x05\x65", &i), 0);
    expect(&i, LC_CODEC_H264, 1, 0, 0, 80);
    /* inter frame, cts -40 (SI24 0xffffd8), a B-frame with negative offset */
    assert_int_equal(V("\x27\x01\xff\xff\xd8\x00\x00\x00\x05\x41", &i), 0);
    expect(&i, LC_CODEC_H264, 0, 0, 0, -40);
    /* the largest and smallest SI24 */
    assert_int_equal(V("\x27\x01\x7f\xff\xff", &i), 0);
    assert_int_equal(i.cts, 0x7fffff);
    assert_int_equal(V("\x27\x01\x80\x00\x00", &i), 0);
    assert_int_equal(i.cts, -0x800000);
    /* end of sequence */
    assert_int_equal(V("\x17\x02\x00\x00\x00", &i), 0);
    expect(&i, LC_CODEC_H264, 1, 0, 1, 0);
    /* a video info/command frame is 2 bytes, no AVC header to read */
    assert_int_equal(V("\x57\x00", &i), 0);
    expect(&i, LC_CODEC_H264, 0, 0, 0, 0);
    /* legacy HEVC (codec id 12) */
    assert_int_equal(V("\x1c\x00\x00\x00\x00\x01", &i), 0);
    expect(&i, LC_CODEC_HEVC, 1, 1, 0, 0);
    assert_int_equal(V("\x2c\x01\x00\x00\x21", &i), 0);
    expect(&i, LC_CODEC_HEVC, 0, 0, 0, 33);
}

static void test_other_video(void **state)
{
    (void)state;
    lc_flv_info_t i;

    assert_int_equal(V("\x12", &i), 0);
    expect(&i, LC_CODEC_H263, 1, 0, 0, 0);
    assert_int_equal(V("\x24\x00", &i), 0);
    expect(&i, LC_CODEC_VP6, 0, 0, 0, 0);
    assert_int_equal(V("\x15\x00", &i), 0);
    expect(&i, LC_CODEC_VP6, 1, 0, 0, 0);
    /* screen video and unknown ids: not an error, just no codec */
    assert_int_equal(V("\x13", &i), 0);
    expect(&i, LC_CODEC_NONE, 1, 0, 0, 0);
    assert_int_equal(V("\x2f", &i), 0);
    expect(&i, LC_CODEC_NONE, 0, 0, 0, 0);
    /* disposable inter frame (3), generated keyframe (4) are not keyframes */
    assert_int_equal(V("\x37\x01\x00\x00\x00", &i), 0);
    expect(&i, LC_CODEC_H264, 0, 0, 0, 0);
}

static void test_enhanced_video(void **state)
{
    (void)state;
    lc_flv_info_t i;

    /* key | SequenceStart, 'hvc1' */
    assert_int_equal(V("\x90hvc1\x01\x01\x60", &i), 0);
    expect(&i, LC_CODEC_HEVC, 1, 1, 0, 0);
    /* inter | CodedFrames, 'hvc1', cts 66 */
    assert_int_equal(V("\xa1hvc1\x00\x00\x42\x00\x00\x00\x01", &i), 0);
    expect(&i, LC_CODEC_HEVC, 0, 0, 0, 66);
    /* key | CodedFramesX (no cts), 'avc1' */
    assert_int_equal(V("\x93" "avc1\x00\x00\x00\x01", &i), 0);
    expect(&i, LC_CODEC_H264, 1, 0, 0, 0);
    /* SequenceEnd */
    assert_int_equal(V("\x92hvc1", &i), 0);
    expect(&i, LC_CODEC_HEVC, 1, 0, 1, 0);
    /* codecs without an lc_codec_t */
    assert_int_equal(V("\x90" "av01\x81", &i), 0);
    expect(&i, LC_CODEC_NONE, 1, 1, 0, 0);
    assert_int_equal(V("\x91vp09", &i), 0);
    expect(&i, LC_CODEC_NONE, 1, 0, 0, 0);
    /* multitrack, metadata: reported as no codec */
    assert_int_equal(V("\x96hvc1", &i), 0);
    assert_int_equal(i.codec, LC_CODEC_NONE);
    assert_int_equal(V("\x94hvc1", &i), 0);
    assert_int_equal(i.codec, LC_CODEC_NONE);
    /* too short for the FourCC or the cts */
    assert_int_equal(V("\x90hvc", &i), -1);
    assert_int_equal(V("\x91hvc1\x00\x00", &i), -1);
}

static void test_video_short(void **state)
{
    (void)state;
    lc_flv_info_t i;

    assert_int_equal(parse(lc_flv_video_info, "", 0, &i), -1);
    assert_int_equal(V("\x17", &i), -1);
    assert_int_equal(V("\x17\x01", &i), -1);
    assert_int_equal(V("\x17\x01\x00\x00", &i), -1);
    assert_int_equal(V("\x1c\x00\x00", &i), -1);
    const char *err = NULL;
    assert_int_equal(lc_flv_video_info(NULL, 0, &i, &err), -1);
    assert_non_null(err);
    assert_int_equal(lc_flv_video_info(NULL, 0, &i, NULL), -1);    /* err is optional */
}

static void test_audio(void **state)
{
    (void)state;
    lc_flv_info_t i;

    /* AAC 44.1 kHz 16-bit stereo: config then raw */
    assert_int_equal(A("\xaf\x00\x12\x10", &i), 0);
    expect(&i, LC_CODEC_AAC, 1, 1, 0, 0);
    assert_int_equal(A("\xaf\x01\x21\x00", &i), 0);
    expect(&i, LC_CODEC_AAC, 1, 0, 0, 0);
    assert_int_equal(A("\xaf", &i), -1);
    assert_int_equal(parse(lc_flv_audio_info, "", 0, &i), -1);

    static const struct { uint8_t fmt; int codec; } table[] = {
        { 0, LC_CODEC_PCM }, { 1, LC_CODEC_NONE }, { 2, LC_CODEC_MP3 }, { 3, LC_CODEC_PCM },
        { 4, LC_CODEC_NELLY }, { 5, LC_CODEC_NELLY }, { 6, LC_CODEC_NELLY }, { 7, LC_CODEC_PCMA },
        { 8, LC_CODEC_PCMU }, { 11, LC_CODEC_SPEEX }, { 12, LC_CODEC_NONE }, { 13, LC_CODEC_OPUS },
        { 14, LC_CODEC_MP3 }, { 15, LC_CODEC_NONE },
    };
    for (size_t k = 0; k < sizeof table / sizeof table[0]; k++) {
        char b[1] = { (char)(table[k].fmt << 4 | 0x0e) };
        assert_int_equal(parse(lc_flv_audio_info, b, 1, &i), 0);
        expect(&i, table[k].codec, 1, 0, 0, 0);
    }
}

static void test_enhanced_audio(void **state)
{
    (void)state;
    lc_flv_info_t i;

    assert_int_equal(A("\x90Opus\x01\x02", &i), 0);
    expect(&i, LC_CODEC_OPUS, 1, 1, 0, 0);
    assert_int_equal(A("\x91Opus\xfc", &i), 0);
    expect(&i, LC_CODEC_OPUS, 1, 0, 0, 0);
    assert_int_equal(A("\x90mp4a\x12\x10", &i), 0);
    expect(&i, LC_CODEC_AAC, 1, 1, 0, 0);
    assert_int_equal(A("\x91.mp3", &i), 0);
    expect(&i, LC_CODEC_MP3, 1, 0, 0, 0);
    assert_int_equal(A("\x91" "fLaC", &i), 0);
    expect(&i, LC_CODEC_NONE, 1, 0, 0, 0);
    assert_int_equal(A("\x95Opus", &i), 0);     /* multitrack */
    assert_int_equal(i.codec, LC_CODEC_NONE);
    assert_int_equal(A("\x90Opu", &i), -1);
}

static void test_names(void **state)
{
    (void)state;
    /* the names the REST API and the codec lists of the config use */
    assert_string_equal(lc_codec_name(LC_CODEC_H264), "H264");
    assert_string_equal(lc_codec_name(LC_CODEC_HEVC), "H265");
    assert_string_equal(lc_codec_name(LC_CODEC_VP8), "VP8");
    assert_string_equal(lc_codec_name(LC_CODEC_AAC), "AAC");
    assert_string_equal(lc_codec_name(LC_CODEC_OPUS), "opus");
    assert_string_equal(lc_codec_name(LC_CODEC_AMF0_DATA), "amf0");
    assert_string_equal(lc_codec_name(LC_CODEC_NONE), "none");
    assert_string_equal(lc_codec_name(-1), "none");
    assert_string_equal(lc_codec_name(1000), "none");
    /* every named codec has a distinct name */
    for (int a = 1; a < 40; a++)
        for (int b = a + 1; b < 40; b++)
            if (strcmp(lc_codec_name(a), "none") != 0)
                assert_string_not_equal(lc_codec_name(a), lc_codec_name(b));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_avc),
        cmocka_unit_test(test_other_video),
        cmocka_unit_test(test_enhanced_video),
        cmocka_unit_test(test_video_short),
        cmocka_unit_test(test_audio),
        cmocka_unit_test(test_enhanced_audio),
        cmocka_unit_test(test_names),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
