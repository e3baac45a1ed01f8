/*
 * test_rtmp_handshake.c: unit tests of src/common/rtmp/rtmp_handshake.c.
 *
 * The client side is written here from FFmpeg's rtmpproto.c
 * (rtmp_handshake, rtmp_handshake_imprint_with_digest, rtmp_validate_digest)
 * independently of the code under test: a C1 is built the way FFmpeg
 * builds it and the response is checked the way FFmpeg checks it before it
 * agrees to play. Invariant: a response FFmpeg would reject never passes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "common/rtmp/rtmp_handshake.h"

#define HS LC_RTMP_HANDSHAKE_SIZE

static const uint8_t tail32[32] = {
    0xf0, 0xee, 0xc2, 0x4a, 0x80, 0x68, 0xbe, 0xe8, 0x2e, 0x00, 0xd0, 0xd1,
    0x02, 0x9e, 0x7e, 0x57, 0x6e, 0xec, 0x5d, 0x2d, 0x29, 0x80, 0x6f, 0xab,
    0x93, 0xb8, 0xe6, 0x36, 0xcf, 0xeb, 0x31, 0xae,
};

static uint8_t player_key[62];   /* "Genuine Adobe Flash Player 001" + tail */
static uint8_t fms_key[68];      /* "Genuine Adobe Flash Media Server 001" + tail */

static int setup_keys(void **state)
{
    (void)state;
    memcpy(player_key, "Genuine Adobe Flash Player 001", 30);
    memcpy(player_key + 30, tail32, 32);
    memcpy(fms_key, "Genuine Adobe Flash Media Server 001", 36);
    memcpy(fms_key + 36, tail32, 32);
    return 0;
}

/* ff_rtmp_calc_digest: HMAC-SHA256 of buf[0..len) skipping 32 bytes at gap (gap 0: none). */
static void calc_digest(const uint8_t *buf, size_t len, size_t gap, const uint8_t *key, size_t klen,
                        uint8_t out[32])
{
    uint8_t tmp[HS];
    unsigned int n = 0;

    if (gap > 0) {
        memcpy(tmp, buf, gap);
        memcpy(tmp + gap, buf + gap + 32, len - gap - 32);
        len -= 32;
        buf = tmp;
    }
    assert_non_null(HMAC(EVP_sha256(), key, (int)klen, buf, len, out, &n));
    assert_int_equal(n, 32);
}

/* ff_rtmp_calc_digest_pos */
static size_t calc_pos(const uint8_t *buf, size_t off, size_t add)
{
    return (buf[off] + buf[off + 1] + buf[off + 2] + buf[off + 3]) % 728 + add;
}

/* C0+C1 as FFmpeg's rtmp_handshake() builds it; returns the digest position
 * in C1. scheme 0 is FFmpeg's unencrypted one, scheme 1 its RTMPE one. */
static size_t build_ffmpeg_c0c1(uint8_t *c0c1, int scheme, uint32_t seed)
{
    uint8_t *c1 = c0c1 + 1;
    size_t pos;

    c0c1[0] = 3;
    memset(c1, 0, 4);                                   /* uptime */
    c1[4] = 9, c1[5] = 0, c1[6] = 124, c1[7] = 2;      /* RTMP_CLIENT_VER1..4 */
    for (size_t i = 8; i < HS; i++) {
        seed = seed * 1664525u + 1013904223u;
        c1[i] = (uint8_t)(seed >> 24);
    }
    pos = scheme == 0 ? calc_pos(c1, 8, 12) : calc_pos(c1, 772, 776);
    calc_digest(c1, HS, pos, player_key, 30, c1 + pos);
    return pos;
}

/* rtmp_validate_digest(serverdata + 1, off) */
static size_t validate_s1(const uint8_t *s1, size_t off)
{
    uint8_t d[32];
    size_t pos = calc_pos(s1, off, off + 4);

    calc_digest(s1, HS, pos, fms_key, 36, d);
    return memcmp(d, s1 + pos, 32) == 0 ? pos : 0;
}

/* What FFmpeg does with S1 and S2 when it plays (rt->is_input). */
static void ffmpeg_check(const uint8_t *c1, size_t client_pos, const uint8_t *out, size_t want_s1_base)
{
    const uint8_t *s1 = out + 1, *s2 = out + 1 + HS;
    uint8_t digest[32], signature[32];
    size_t server_pos;

    assert_int_equal(out[0], 3);
    assert_true(s1[4] >= 3);            /* else FFmpeg skips the checks */
    assert_memory_equal(s1 + 4, "\x0d\x0e\x0a\x0d", 4);
    server_pos = validate_s1(s1, 772);
    if (server_pos == 0)
        server_pos = validate_s1(s1, 8);
    assert_true(server_pos > 0);        /* "Server response validating failed" */
    assert_int_equal(server_pos, calc_pos(s1, want_s1_base, want_s1_base + 4));
    calc_digest(c1 + client_pos, 32, 0, fms_key, sizeof fms_key, digest);
    calc_digest(s2, HS - 32, 0, digest, 32, signature);
    assert_memory_equal(signature, s2 + HS - 32, 32);    /* "Signature mismatch" */
}

static void test_bad_version(void **state)
{
    (void)state;
    static uint8_t c0c1[1 + HS], out[1 + 2 * HS];
    const char *err = NULL;

    for (int v = 0; v < 256; v++) {
        if (v == 3)
            continue;
        c0c1[0] = (uint8_t)v;
        err = NULL;
        assert_int_equal(lc_rtmp_handshake_response(c0c1, out, &err), -1);
        assert_non_null(err);
    }
}

static void test_simple(void **state)
{
    (void)state;
    static uint8_t c0c1[1 + HS], out[1 + 2 * HS], out2[1 + 2 * HS];
    const char *err = NULL;

    c0c1[0] = 3;
    for (size_t i = 0; i < HS; i++)
        c0c1[1 + i] = (uint8_t)(i * 13 + 5);
    memset(c0c1 + 5, 0, 4);             /* version zero: the spec's simple handshake */
    assert_int_equal(lc_rtmp_handshake_response(c0c1, out, &err), 0);
    assert_int_equal(out[0], 3);
    assert_memory_equal(out + 1 + HS, c0c1 + 1, HS);    /* S2 echoes C1 */
    assert_memory_equal(out + 1, "\0\0\0\0\0\0\0\0", 8);  /* time 0, zero */
    assert_int_equal(lc_rtmp_handshake_response(c0c1, out2, &err), 0);
    assert_memory_not_equal(out + 9, out2 + 9, HS - 8);  /* S1 is random */

    /* a version but no digest that validates: simple too (nginx-rtmp does so) */
    c0c1[5] = 9, c0c1[6] = 0, c0c1[7] = 124, c0c1[8] = 2;
    assert_int_equal(lc_rtmp_handshake_response(c0c1, out, &err), 0);
    assert_memory_equal(out + 1 + HS, c0c1 + 1, HS);

    /* a digest made with the wrong key is not a digest */
    static uint8_t c[1 + HS];
    size_t pos = build_ffmpeg_c0c1(c, 0, 7);
    c[1 + pos] ^= 1;
    assert_int_equal(lc_rtmp_handshake_response(c, out, &err), 0);
    assert_memory_equal(out + 1 + HS, c + 1, HS);
}

static void test_digest_scheme(int scheme)
{
    static uint8_t c0c1[1 + HS], out[1 + 2 * HS];
    const char *err = NULL;

    for (uint32_t seed = 1; seed <= 40; seed++) {
        size_t pos = build_ffmpeg_c0c1(c0c1, scheme, seed * 2654435761u);

        /* a C1 valid under scheme 1 may by chance also parse under 0: no */
        assert_int_equal(lc_rtmp_handshake_response(c0c1, out, &err), scheme + 1);
        ffmpeg_check(c0c1 + 1, pos, out, scheme == 0 ? 8 : 772);
    }
}

static void test_digest_scheme0(void **state)
{
    (void)state;
    test_digest_scheme(0);
}

static void test_digest_scheme1(void **state)
{
    (void)state;
    test_digest_scheme(1);
}

/* A C1 whose version field is zero is simple even if it carries a digest. */
static void test_version_zero_wins(void **state)
{
    (void)state;
    static uint8_t c0c1[1 + HS], out[1 + 2 * HS];
    const char *err = NULL;

    build_ffmpeg_c0c1(c0c1, 0, 99);
    memset(c0c1 + 5, 0, 4);
    assert_int_equal(lc_rtmp_handshake_response(c0c1, out, &err), 0);
    assert_memory_equal(out + 1 + HS, c0c1 + 1, HS);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bad_version),
        cmocka_unit_test(test_simple),
        cmocka_unit_test(test_digest_scheme0),
        cmocka_unit_test(test_digest_scheme1),
        cmocka_unit_test(test_version_zero_wins),
    };

    return cmocka_run_group_tests(tests, setup_keys, NULL);
}
