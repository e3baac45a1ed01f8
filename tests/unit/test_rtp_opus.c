/*
 * test_rtp_opus.c: unit tests of src/common/media/rtp_opus.c.
 *
 * Vectors: the TOC table of RFC 6716 section 3.1 (every one of the 32
 * configurations), the four frame-count codes, the TOC bytes browsers
 * send (0x78: CELT FB 20 ms, 0xf8, 0xfc: CELT 20 ms mono/stereo), and the
 * 120 ms limit of section 3.2.5; and every TOC byte with every frame
 * count byte against libopus's opus_packet_get_nb_samples().
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <opus.h>

#include "common/media/rtp_opus.h"

static int samples(const char *p, size_t len)
{
    uint8_t *copy = malloc(len ? len : 1);
    const char *err = NULL;
    int n;

    assert_non_null(copy);
    memcpy(copy, p, len);
    n = lc_rtp_opus_samples(copy, len, &err);
    if (n < 0)
        assert_non_null(err);
    free(copy);
    return n;
}

static void test_toc_table(void **state)
{
    (void)state;
    /* per config: SILK NB/MB/WB 10 20 40 60 ms, Hybrid SWB/FB 10 20,
     * CELT NB/WB/SWB/FB 2.5 5 10 20 */
    static const int ms10[32] = {
        100, 200, 400, 600, 100, 200, 400, 600, 100, 200, 400, 600,
        100, 200, 100, 200,
        25, 50, 100, 200, 25, 50, 100, 200, 25, 50, 100, 200, 25, 50, 100, 200,
    };

    for (int config = 0; config < 32; config++)
        for (int low = 0; low < 8; low++) {
            uint8_t toc = (uint8_t)(config << 3 | low);

            assert_int_equal(lc_rtp_opus_frame_samples(toc), ms10[config] * 48 / 10);
        }
}

static void test_codes(void **state)
{
    (void)state;

    assert_int_equal(samples("\x78\x01\x02", 3), 960);          /* code 0 */
    assert_int_equal(samples("\xfc\xff", 2), 960);
    assert_int_equal(samples("\x79\x01\x02", 3), 1920);         /* code 1: two equal frames */
    assert_int_equal(samples("\x7a\x01\x02", 3), 1920);         /* code 2: two frames */
    assert_int_equal(samples("\x7b\x03", 2), 2880);             /* code 3: M = 3 */
    assert_int_equal(samples("\x7b\xc6\x00", 3), 5760);         /* VBR + padding flags, M = 6 */
    assert_int_equal(samples("\x1b\x02", 2), 5760);             /* SILK 60 ms x 2 = 120 ms */
    assert_int_equal(samples("\x19", 1), 5760);
    assert_int_equal(samples("\x83\x30", 2), 48 * 120);         /* CELT 2.5 ms x 48 */
    assert_int_equal(samples("\x08", 1), 960);                  /* SILK NB 20 ms */
}

static void test_bad(void **state)
{
    (void)state;
    const char *err = NULL;

    assert_int_equal(samples("", 0), -1);
    assert_int_equal(samples("\x7b", 1), -1);                   /* code 3 without count */
    assert_int_equal(samples("\x7b\x00", 2), -1);               /* zero frames */
    assert_int_equal(samples("\x7b\x07", 2), -1);               /* 140 ms */
    assert_int_equal(samples("\x1b\x03", 2), -1);               /* 180 ms */
    assert_int_equal(samples("\x83\x31", 2), -1);               /* 122.5 ms */
    assert_int_equal(lc_rtp_opus_samples((const uint8_t *)"", 0, &err), -1);
    assert_string_equal(err, "empty Opus packet");
    assert_int_equal(lc_rtp_opus_samples((const uint8_t *)"", 0, NULL), -1);
}

/* Every TOC and count byte: the same answer as libopus, -1 exactly where
 * it says the packet is invalid, and where it counts zero frames (it only
 * counts; RFC 6716 3.2.5 rule R5 forbids M = 0). */
static void test_libopus(void **state)
{
    (void)state;

    for (int toc = 0; toc < 256; toc++)
        for (int count = 0; count < 256; count++) {
            uint8_t p[2] = { (uint8_t)toc, (uint8_t)count };
            int ours = lc_rtp_opus_samples(p, 2, NULL);
            int theirs = opus_packet_get_nb_samples(p, 2, LC_RTP_OPUS_CLOCK);

            assert_int_equal(ours, theirs <= 0 ? -1 : theirs);
        }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_toc_table),
        cmocka_unit_test(test_codes),
        cmocka_unit_test(test_bad),
        cmocka_unit_test(test_libopus),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
