/* test_codec.c: the codec table: names, rtpmap strings, FLV ids, AAC rates. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/codec/codec.h"
#include "common/media/flv.h"

static void test_rtpmap(void **state)
{
    static const struct { int codec; const char *s; } want[] = {
        { LC_CODEC_OPUS, "opus/48000/2" }, { LC_CODEC_AAC, "mpeg4-generic/48000/2" },
        { LC_CODEC_PCMA, "PCMA/8000" }, { LC_CODEC_PCMU, "PCMU/8000" }, { LC_CODEC_G722, "G722/8000" },
        { LC_CODEC_SPEEX, "speex/16000" }, { LC_CODEC_H264, "H264/90000" }, { LC_CODEC_VP8, "VP8/90000" },
    };
    char buf[64];

    (void)state;
    for (unsigned i = 0; i < sizeof want / sizeof want[0]; i++) {
        assert_int_equal(lc_codec_rtpmap(want[i].codec, 0, 0, buf, sizeof buf), 0);
        assert_string_equal(buf, want[i].s);
    }
    assert_int_equal(lc_codec_rtpmap(LC_CODEC_AAC, 44100, 1, buf, sizeof buf), 0);
    assert_string_equal(buf, "mpeg4-generic/44100/1");
    assert_int_equal(lc_codec_rtpmap(LC_CODEC_OPUS, 0, 0, buf, 5), -1);      /* never truncated */
    assert_int_equal(lc_codec_rtpmap(LC_CODEC_MP3, 0, 0, buf, sizeof buf), -1);
    assert_int_equal(lc_codec_rtpmap(999, 0, 0, buf, sizeof buf), -1);
}

static void test_lookup(void **state)
{
    int n;
    const int *r = lc_codec_aac_rates(&n);

    (void)state;
    assert_int_equal(lc_codec_by_rtpmap("OPUS"), LC_CODEC_OPUS);
    assert_int_equal(lc_codec_by_rtpmap("mpeg4-generic"), LC_CODEC_AAC);
    assert_int_equal(lc_codec_by_rtpmap("g722"), LC_CODEC_G722);
    assert_int_equal(lc_codec_by_rtpmap("GSM"), LC_CODEC_NONE);
    assert_int_equal(lc_codec_by_rtpmap(NULL), LC_CODEC_NONE);
    assert_string_equal(lc_codec_name(LC_CODEC_AAC), "AAC");
    assert_string_equal(lc_codec_name(LC_CODEC_G722), "G722");
    assert_string_equal(lc_codec_name(12345), "none");
    assert_int_equal(lc_codec_info(LC_CODEC_AAC)->flv_id, 10);
    assert_int_equal(lc_codec_info(LC_CODEC_SPEEX)->flv_id, 11);
    assert_int_equal(lc_codec_info(LC_CODEC_PCMA)->flv_id, 7);
    assert_int_equal(lc_codec_info(LC_CODEC_PCMU)->flv_id, 8);
    assert_int_equal(lc_codec_info(LC_CODEC_H264)->flv_id, 7);
    assert_int_equal(lc_codec_info(LC_CODEC_OPUS)->kind, LC_CODEC_KIND_AUDIO);
    assert_int_equal(lc_codec_info(LC_CODEC_VP8)->kind, LC_CODEC_KIND_VIDEO);
    assert_int_equal(n, 9);
    assert_int_equal(r[0], 48000);
    assert_int_equal(r[8], 8000);
}

/* The FLV parser and the table agree on every legacy sound format / codec id. */
static void test_flv_agrees(void **state)
{
    static const int audio[] = { LC_CODEC_AAC, LC_CODEC_SPEEX, LC_CODEC_PCMA, LC_CODEC_PCMU, LC_CODEC_OPUS };
    static const int video[] = { LC_CODEC_H264, LC_CODEC_HEVC, LC_CODEC_H263 };
    lc_flv_info_t fi;
    uint8_t b[8] = { 0 };

    (void)state;
    for (unsigned i = 0; i < sizeof audio / sizeof audio[0]; i++) {
        b[0] = (uint8_t)(lc_codec_info(audio[i])->flv_id << 4);
        assert_int_equal(lc_flv_audio_info(b, sizeof b, &fi, NULL), 0);
        assert_int_equal(fi.codec, audio[i]);
    }
    for (unsigned i = 0; i < sizeof video / sizeof video[0]; i++) {
        b[0] = (uint8_t)(0x10 | lc_codec_info(video[i])->flv_id);
        assert_int_equal(lc_flv_video_info(b, sizeof b, &fi, NULL), 0);
        assert_int_equal(fi.codec, video[i]);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rtpmap),
        cmocka_unit_test(test_lookup),
        cmocka_unit_test(test_flv_agrees),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
