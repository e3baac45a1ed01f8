/*
 * test_ws_frame.c: unit tests of src/common/http/ws_frame.c.
 *
 * Vectors from RFC 6455 (section 5.7 frames, section 1.3 accept key), every
 * protocol error with its close code, UTF-8 edge cases in the style of the
 * Autobahn suite, and the fragmentation rules. Invariant checked throughout:
 * a header fed byte by byte asks for more until complete and then gives the
 * same answer as when fed whole.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "common/http/ws_frame.h"

#define BIG ((uint64_t)1 << 40)

/* Parse buf whole and every prefix of it; prefixes must give 0 or, for an
 * error, the same error. Returns the whole-buffer result. */
static int parse_all_prefixes(const uint8_t *buf, size_t len, uint64_t max, int req_mask,
                              lc_ws_frame_t *f, int *close_code)
{
    const char *err = NULL;
    int rc = lc_ws_parse_header(buf, len, max, req_mask, f, &err, close_code);

    if (rc < 0) {
        assert_non_null(err);
        assert_true(strlen(err) > 0);
    }
    for (size_t i = 0; i < len; i++) {
        lc_ws_frame_t g;
        int cc = 0;
        int r = lc_ws_parse_header(buf, i, max, req_mask, &g, NULL, &cc);
        if (rc > 0)
            assert_int_equal(r, (size_t)rc > i ? 0 : rc);
        else if (rc < 0)
            assert_true(r == 0 || (r == rc && cc == *close_code));
    }
    return rc;
}

static void expect_frame(const uint8_t *buf, size_t len, int fin, int opcode, int masked,
                         uint64_t payload_len, size_t header_len)
{
    lc_ws_frame_t f;
    int cc = 0;

    assert_int_equal(parse_all_prefixes(buf, len, BIG, 0, &f, &cc), (int)header_len);
    assert_int_equal(f.fin, fin);
    assert_int_equal(f.opcode, opcode);
    assert_int_equal(f.masked, masked);
    assert_int_equal(f.payload_len, payload_len);
    assert_int_equal(f.header_len, header_len);
}

static void expect_error(const uint8_t *buf, size_t len, uint64_t max, int req_mask, int code)
{
    lc_ws_frame_t f;
    int cc = 0;

    assert_int_equal(parse_all_prefixes(buf, len, max, req_mask, &f, &cc), -1);
    assert_int_equal(cc, code);
}

/* RFC 6455 section 5.7, "A single-frame unmasked text message". */
static void test_rfc_unmasked_text(void **state)
{
    (void)state;
    const uint8_t b[] = { 0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f };
    uint8_t out[LC_WS_MAX_HEADER];

    expect_frame(b, sizeof b, 1, LC_WS_TEXT, 0, 5, 2);
    assert_int_equal(lc_ws_write_header(out, 1, LC_WS_TEXT, 5, NULL), 2);
    assert_memory_equal(out, b, 2);
    assert_memory_equal(b + 2, "Hello", 5);
}

/* "A single-frame masked text message". */
static void test_rfc_masked_text(void **state)
{
    (void)state;
    const uint8_t b[] = { 0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d,
                          0x7f, 0x9f, 0x4d, 0x51, 0x58 };
    lc_ws_frame_t f;
    int cc = 0;
    uint8_t p[5], out[LC_WS_MAX_HEADER];

    assert_int_equal(parse_all_prefixes(b, sizeof b, BIG, 1, &f, &cc), 6);
    assert_int_equal(f.masked, 1);
    assert_int_equal(f.payload_len, 5);
    assert_memory_equal(f.mask, b + 2, 4);
    memcpy(p, b + 6, 5);
    lc_ws_unmask(p, 5, f.mask, 0);
    assert_memory_equal(p, "Hello", 5);
    assert_true(lc_ws_utf8_valid(p, 5));
    assert_int_equal(lc_ws_write_header(out, 1, LC_WS_TEXT, 5, f.mask), 6);
    assert_memory_equal(out, b, 6);
}

/* "A fragmented unmasked text message": "Hel" then "lo". */
static void test_rfc_fragmented(void **state)
{
    (void)state;
    const uint8_t b1[] = { 0x01, 0x03, 0x48, 0x65, 0x6c };
    const uint8_t b2[] = { 0x80, 0x02, 0x6c, 0x6f };
    lc_ws_assembly_t a = { 0 };
    lc_ws_frame_t f;
    int cc = 0;

    expect_frame(b1, sizeof b1, 0, LC_WS_TEXT, 0, 3, 2);
    assert_int_equal(lc_ws_parse_header(b1, sizeof b1, BIG, 0, &f, NULL, &cc), 2);
    assert_int_equal(lc_ws_assembly_feed(&a, &f, 100, NULL, &cc), 0);
    assert_int_equal(a.in_message, 1);
    assert_int_equal(a.opcode, LC_WS_TEXT);

    expect_frame(b2, sizeof b2, 1, LC_WS_CONT, 0, 2, 2);
    assert_int_equal(lc_ws_parse_header(b2, sizeof b2, BIG, 0, &f, NULL, &cc), 2);
    assert_int_equal(lc_ws_assembly_feed(&a, &f, 100, NULL, &cc), 0);
    assert_int_equal(a.in_message, 0);
    assert_int_equal(a.opcode, LC_WS_TEXT);
    assert_int_equal(a.total, 5);
}

/* "Unmasked Ping request and masked Ping response". */
static void test_rfc_ping_pong(void **state)
{
    (void)state;
    const uint8_t ping[] = { 0x89, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f };
    const uint8_t pong[] = { 0x8a, 0x85, 0x37, 0xfa, 0x21, 0x3d,
                             0x7f, 0x9f, 0x4d, 0x51, 0x58 };
    lc_ws_frame_t f;
    int cc = 0;
    uint8_t p[5];

    expect_frame(ping, sizeof ping, 1, LC_WS_PING, 0, 5, 2);
    expect_frame(pong, sizeof pong, 1, LC_WS_PONG, 1, 5, 6);
    assert_int_equal(lc_ws_parse_header(pong, sizeof pong, BIG, 1, &f, NULL, &cc), 6);
    memcpy(p, pong + 6, 5);
    lc_ws_unmask(p, 5, f.mask, 0);
    assert_memory_equal(p, "Hello", 5);
}

/* "256 bytes binary message in a single unmasked frame" and "64KiB". */
static void test_rfc_extended_lengths(void **state)
{
    (void)state;
    const uint8_t b256[] = { 0x82, 0x7e, 0x01, 0x00 };
    const uint8_t b64k[] = { 0x82, 0x7f, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00 };
    uint8_t out[LC_WS_MAX_HEADER];

    expect_frame(b256, sizeof b256, 1, LC_WS_BINARY, 0, 256, 4);
    expect_frame(b64k, sizeof b64k, 1, LC_WS_BINARY, 0, 65536, 10);
    assert_int_equal(lc_ws_write_header(out, 1, LC_WS_BINARY, 256, NULL), 4);
    assert_memory_equal(out, b256, 4);
    assert_int_equal(lc_ws_write_header(out, 1, LC_WS_BINARY, 65536, NULL), 10);
    assert_memory_equal(out, b64k, 10);
}

static void test_write_header_boundaries(void **state)
{
    (void)state;
    static const struct { uint64_t len; size_t hdr; } cases[] = {
        { 0, 2 }, { 125, 2 }, { 126, 4 }, { 0xffff, 4 }, { 0x10000, 10 },
        { ((uint64_t)1 << 63) - 1, 10 },
    };
    const uint8_t mask[4] = { 1, 2, 3, 4 };

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        for (int m = 0; m < 2; m++) {
            uint8_t out[LC_WS_MAX_HEADER];
            lc_ws_frame_t f;
            int cc = 0;
            size_t n = lc_ws_write_header(out, 0, LC_WS_BINARY, cases[i].len, m ? mask : NULL);

            assert_int_equal(n, cases[i].hdr + (m ? 4 : 0));
            assert_int_equal(lc_ws_parse_header(out, n, UINT64_MAX, m, &f, NULL, &cc), (int)n);
            assert_int_equal(f.payload_len, cases[i].len);
            assert_int_equal(f.fin, 0);
            assert_int_equal(f.masked, m);
            if (m)
                assert_memory_equal(f.mask, mask, 4);
        }
    }
}

static void test_non_minimal_lengths_accepted(void **state)
{
    (void)state;
    const uint8_t b16[] = { 0x82, 0x7e, 0x00, 0x05 };
    const uint8_t b64[] = { 0x82, 0x7f, 0, 0, 0, 0, 0, 0, 0, 0x05 };
    const uint8_t b64z[] = { 0x82, 0x7f, 0, 0, 0, 0, 0, 0, 0, 0 };

    expect_frame(b16, sizeof b16, 1, LC_WS_BINARY, 0, 5, 4);
    expect_frame(b64, sizeof b64, 1, LC_WS_BINARY, 0, 5, 10);
    expect_frame(b64z, sizeof b64z, 1, LC_WS_BINARY, 0, 0, 10);
}

static void test_control_frames(void **state)
{
    (void)state;
    const uint8_t close125[] = { 0x88, 0x7d };
    const uint8_t close0[] = { 0x88, 0x00 };
    const uint8_t close126[] = { 0x88, 0x7e, 0x00, 0x7e };
    const uint8_t close126small[] = { 0x88, 0x7e, 0x00, 0x05 };  /* > 125 in the 7 bits */
    const uint8_t ping127[] = { 0x89, 0x7f, 0, 0, 0, 0, 0, 0, 0, 5 };
    const uint8_t ping_nofin[] = { 0x09, 0x00 };
    const uint8_t pong_nofin[] = { 0x0a, 0x00 };
    const uint8_t close_nofin[] = { 0x08, 0x00 };

    expect_frame(close125, sizeof close125, 1, LC_WS_CLOSE, 0, 125, 2);
    expect_frame(close0, sizeof close0, 1, LC_WS_CLOSE, 0, 0, 2);
    expect_error(close126, sizeof close126, BIG, 0, LC_WS_CLOSE_PROTOCOL_ERROR);
    expect_error(close126small, sizeof close126small, BIG, 0, LC_WS_CLOSE_PROTOCOL_ERROR);
    expect_error(ping127, sizeof ping127, BIG, 0, LC_WS_CLOSE_PROTOCOL_ERROR);
    expect_error(ping_nofin, sizeof ping_nofin, BIG, 0, LC_WS_CLOSE_PROTOCOL_ERROR);
    expect_error(pong_nofin, sizeof pong_nofin, BIG, 0, LC_WS_CLOSE_PROTOCOL_ERROR);
    expect_error(close_nofin, sizeof close_nofin, BIG, 0, LC_WS_CLOSE_PROTOCOL_ERROR);
}

static void test_reserved_bits(void **state)
{
    (void)state;
    for (uint8_t rsv = 0x10; rsv <= 0x70; rsv += 0x10) {
        const uint8_t b[] = { (uint8_t)(0x81 | rsv), 0x00 };
        expect_error(b, sizeof b, BIG, 0, LC_WS_CLOSE_PROTOCOL_ERROR);
        /* Reported from the first byte alone. */
        int cc = 0;
        lc_ws_frame_t f;
        assert_int_equal(lc_ws_parse_header(b, 1, BIG, 0, &f, NULL, &cc), -1);
    }
}

static void test_opcodes(void **state)
{
    (void)state;
    for (int op = 0; op < 16; op++) {
        const uint8_t b[] = { (uint8_t)(0x80 | op), 0x00 };
        int known = op <= 2 || (op >= 8 && op <= 10);
        if (known)
            expect_frame(b, sizeof b, 1, op, 0, 0, 2);
        else
            expect_error(b, sizeof b, BIG, 0, LC_WS_CLOSE_PROTOCOL_ERROR);
    }
}

static void test_length_msb(void **state)
{
    (void)state;
    const uint8_t msb[] = { 0x82, 0x7f, 0x80, 0, 0, 0, 0, 0, 0, 0 };
    const uint8_t all[] = { 0x82, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
    const uint8_t top[] = { 0x82, 0x7f, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

    expect_error(msb, sizeof msb, UINT64_MAX, 0, LC_WS_CLOSE_PROTOCOL_ERROR);
    expect_error(all, sizeof all, UINT64_MAX, 0, LC_WS_CLOSE_PROTOCOL_ERROR);
    /* The largest legal length is 2^63 - 1. */
    lc_ws_frame_t f;
    int cc = 0;
    assert_int_equal(lc_ws_parse_header(top, sizeof top, UINT64_MAX, 0, &f, NULL, &cc), 10);
    assert_int_equal(f.payload_len, ((uint64_t)1 << 63) - 1);
    expect_error(top, sizeof top, BIG, 0, LC_WS_CLOSE_TOO_BIG);
}

static void test_max_payload(void **state)
{
    (void)state;
    const uint8_t b7[] = { 0x82, 0x0a };
    const uint8_t b16[] = { 0x82, 0x7e, 0x01, 0x00 };
    const uint8_t b64[] = { 0x82, 0x7f, 0, 0, 0, 0, 0, 0x10, 0, 0 };
    const uint8_t masked[] = { 0x82, 0x8a, 1, 2, 3, 4 };
    lc_ws_frame_t f;
    int cc = 0;

    assert_int_equal(lc_ws_parse_header(b7, sizeof b7, 10, 0, &f, NULL, &cc), 2);
    expect_error(b7, sizeof b7, 9, 0, LC_WS_CLOSE_TOO_BIG);
    expect_error(b7, sizeof b7, 0, 0, LC_WS_CLOSE_TOO_BIG);
    assert_int_equal(lc_ws_parse_header(b16, sizeof b16, 256, 0, &f, NULL, &cc), 4);
    expect_error(b16, sizeof b16, 255, 0, LC_WS_CLOSE_TOO_BIG);
    assert_int_equal(lc_ws_parse_header(b64, sizeof b64, 0x100000, 0, &f, NULL, &cc), 10);
    expect_error(b64, sizeof b64, 0xfffff, 0, LC_WS_CLOSE_TOO_BIG);
    /* Too big is known before the mask arrives. */
    assert_int_equal(lc_ws_parse_header(masked, 2, 9, 1, &f, NULL, &cc), -1);
    assert_int_equal(cc, LC_WS_CLOSE_TOO_BIG);
}

static void test_require_mask(void **state)
{
    (void)state;
    const uint8_t unmasked[] = { 0x81, 0x05, 'H', 'e', 'l', 'l', 'o' };
    const uint8_t masked0[] = { 0x82, 0x80, 0, 0, 0, 0 };
    lc_ws_frame_t f;
    int cc = 0;
    const char *err = NULL;

    expect_error(unmasked, sizeof unmasked, BIG, 1, LC_WS_CLOSE_PROTOCOL_ERROR);
    assert_int_equal(lc_ws_parse_header(unmasked, 2, BIG, 1, &f, &err, &cc), -1);
    assert_string_equal(err, "unmasked client frame");
    assert_int_equal(lc_ws_parse_header(masked0, sizeof masked0, BIG, 1, &f, NULL, &cc), 6);
    assert_int_equal(f.payload_len, 0);
    /* Without require_mask both kinds pass. */
    assert_int_equal(lc_ws_parse_header(unmasked, sizeof unmasked, BIG, 0, &f, NULL, &cc), 2);
    assert_int_equal(lc_ws_parse_header(masked0, sizeof masked0, BIG, 0, &f, NULL, &cc), 6);
}

static void test_need_more(void **state)
{
    (void)state;
    lc_ws_frame_t f;
    int cc = -7;
    const char *err = "unset";
    const uint8_t masked64[] = { 0x82, 0xff, 0, 0, 0, 0, 0, 0, 0x01, 0, 9, 8, 7, 6 };

    assert_int_equal(lc_ws_parse_header(NULL, 0, BIG, 1, &f, &err, &cc), 0);
    assert_int_equal(parse_all_prefixes(masked64, sizeof masked64, BIG, 1, &f, &cc), 14);
    assert_int_equal(f.payload_len, 256);
    assert_int_equal(f.mask[0], 9);
    assert_int_equal(f.mask[3], 6);
    /* Errors and "need more" leave the out-parameters alone. */
    assert_int_equal(lc_ws_parse_header(masked64, 5, BIG, 1, &f, &err, &cc), 0);
    assert_string_equal(err, "unset");
}

static void test_unmask_in_pieces(void **state)
{
    (void)state;
    const uint8_t mask[4] = { 0xa1, 0xb2, 0xc3, 0xd4 };
    uint8_t orig[103], whole[103], split[103];

    for (size_t i = 0; i < sizeof orig; i++)
        orig[i] = (uint8_t)(i * 7 + 3);
    memcpy(whole, orig, sizeof orig);
    lc_ws_unmask(whole, sizeof whole, mask, 0);
    for (size_t i = 0; i < sizeof orig; i++)
        assert_int_equal(whole[i], orig[i] ^ mask[i % 4]);

    for (size_t a = 0; a <= sizeof orig; a++) {
        for (size_t b = a; b <= sizeof orig; b += 5) {
            memcpy(split, orig, sizeof orig);
            lc_ws_unmask(split, a, mask, 0);
            lc_ws_unmask(split + a, b - a, mask, a);
            lc_ws_unmask(split + b, sizeof orig - b, mask, b);
            assert_memory_equal(split, whole, sizeof orig);
        }
    }
    /* Offsets beyond 32 bits only matter modulo 4. */
    memcpy(split, orig, sizeof orig);
    lc_ws_unmask(split, sizeof split, mask, ((uint64_t)1 << 40) + 4);
    assert_memory_equal(split, whole, sizeof orig);
    /* Unmasking twice restores the payload; length 0 touches nothing. */
    lc_ws_unmask(split, sizeof split, mask, 0);
    assert_memory_equal(split, orig, sizeof orig);
    lc_ws_unmask(NULL, 0, mask, 3);
}

static void test_accept_key(void **state)
{
    (void)state;
    char out[29];
    const char *rfc = "dGhlIHNhbXBsZSBub25jZQ==";

    /* RFC 6455 section 1.3. (A copy of this vector that ends "...9kXGzOzZ15HRb+0="
     * circulates; it is wrong: openssl sha1 | base64 agrees with the RFC.) */
    assert_int_equal(lc_ws_accept_key(rfc, strlen(rfc), out), 0);
    assert_string_equal(out, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
    /* A second known pair (from a Chromium handshake). */
    assert_int_equal(lc_ws_accept_key("x3JJHMbDL1EzLkh9GBhXDw==", 24, out), 0);
    assert_string_equal(out, "HSmrc0sMlYUkAGmm5OPpG2HaGWk=");
    assert_int_equal(lc_ws_accept_key("AAAAAAAAAAAAAAAAAAAAAA==", 24, out), 0);
    assert_int_equal(lc_ws_accept_key("+/+/+/+/+/+/+/+/+/+/+/==", 24, out), 0);
    assert_int_equal(strlen(out), 28);
}

static void test_accept_key_invalid(void **state)
{
    (void)state;
    static const char *bad[] = {
        "",
        "dGhlIHNhbXBsZSBub25jZQ=",         /* 23 */
        "dGhlIHNhbXBsZSBub25jZQ===",       /* 25 */
        "dGhlIHNhbXBsZSBub25jZQ== ",
        " dGhlIHNhbXBsZSBub25jZQ==",
        "dGhlIHNhbXBsZSBub25jZQAA",        /* 18 bytes, no padding */
        "AAAAAAAAAAAAAAAAAAAAAAA=",        /* 17 bytes */
        "AAAAAAAAAAAAAAAAAAAA====",
        "dGhlIHNhbXBsZSBub25jZ-==",        /* base64url is not base64 */
        "dGhlIHNhbXBsZSBub25jZ_==",
        "dGhlIHNhbXBsZSBub25jZ.==",
        "dGhlIHNhbXBs\nSBub25jZQ==",
        "dGhlIHNhbXBsZSBu=25jZQ==",
    };
    char out[29] = "junk";

    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(lc_ws_accept_key(bad[i], strlen(bad[i]), out), -1);
        assert_string_equal(out, "");
    }
    /* key_len is what counts, not the NUL. */
    assert_int_equal(lc_ws_accept_key("dGhlIHNhbXBsZSBub25jZQ==xyz", 24, out), 0);
    assert_string_equal(out, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
    assert_int_equal(lc_ws_accept_key("dGhlIHNhbXBsZSBub25jZQ==", 23, out), -1);
}

static int utf8(const char *s)
{
    return lc_ws_utf8_valid((const uint8_t *)s, strlen(s));
}

static void test_utf8_valid(void **state)
{
    (void)state;
    assert_true(lc_ws_utf8_valid(NULL, 0));
    assert_true(utf8("Hello-\x7f"));
    assert_true(utf8("\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5"));  /* kosme */
    assert_true(utf8("\xc2\x80"));              /* U+0080 */
    assert_true(utf8("\xdf\xbf"));              /* U+07FF */
    assert_true(utf8("\xe0\xa0\x80"));          /* U+0800 */
    assert_true(utf8("\xed\x9f\xbf"));          /* U+D7FF */
    assert_true(utf8("\xee\x80\x80"));          /* U+E000 */
    assert_true(utf8("\xef\xbf\xbd"));          /* U+FFFD */
    assert_true(utf8("\xef\xbf\xbf"));          /* U+FFFF: a noncharacter, still valid */
    assert_true(utf8("\xf0\x90\x80\x80"));      /* U+10000 */
    assert_true(utf8("\xf4\x8f\xbf\xbf"));      /* U+10FFFF */
    assert_true(utf8("\xf0\x9f\x8e\xa5 live"));  /* emoji then ASCII */
    const uint8_t nul[] = { 'a', 0, 'b' };
    assert_true(lc_ws_utf8_valid(nul, sizeof nul));
}

static void test_utf8_invalid(void **state)
{
    (void)state;
    static const char *bad[] = {
        "\x80", "\xbf", "a\x80z",                     /* lone continuation */
        "\xc0\x80", "\xc1\xbf",                       /* overlong 2-byte */
        "\xe0\x80\x80", "\xe0\x9f\xbf",               /* overlong 3-byte */
        "\xf0\x80\x80\x80", "\xf0\x8f\xbf\xbf",       /* overlong 4-byte */
        "\xed\xa0\x80", "\xed\xbf\xbf",               /* surrogates */
        "\xed\xa0\x80\xed\xb0\x80",                   /* surrogate pair (CESU-8) */
        "\xf4\x90\x80\x80", "\xf7\xbf\xbf\xbf",       /* > U+10FFFF */
        "\xf5\x80\x80\x80", "\xf8\x88\x80\x80\x80",   /* 5-byte forms */
        "\xfc\x84\x80\x80\x80\x80", "\xfe", "\xff",
        "\xc2", "\xe2\x82", "\xf0\x9f\x8e",           /* cut at the end */
        "\xe2\x28\xa1", "\xe2\x82\x28", "\xf0\x28\x8c\xbc",  /* bad continuation */
        "\xc2\xc2\x80", "\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xed\xa0\x80-edited",
    };

    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        if (utf8(bad[i]))
            print_error("case %zu accepted\n", i);
        assert_false(utf8(bad[i]));
    }
}

static void test_close_payload(void **state)
{
    (void)state;
    static const struct { int code; int ok; } codes[] = {
        { 0, 0 }, { 999, 0 }, { 1000, 1 }, { 1001, 1 }, { 1002, 1 }, { 1003, 1 },
        { 1004, 0 }, { 1005, 0 }, { 1006, 0 }, { 1007, 1 }, { 1011, 1 }, { 1012, 1 },
        { 1014, 1 }, { 1015, 0 }, { 1016, 0 }, { 2000, 0 }, { 2999, 0 }, { 3000, 1 },
        { 4999, 1 }, { 5000, 0 }, { 65535, 0 },
    };
    int code = 0, cc = 0;
    const char *err = NULL;

    assert_int_equal(lc_ws_parse_close(NULL, 0, &code, &err, &cc), 0);
    assert_int_equal(code, LC_WS_CLOSE_NO_STATUS);
    const uint8_t one[] = { 0x03 };
    assert_int_equal(lc_ws_parse_close(one, 1, &code, &err, &cc), -1);
    assert_int_equal(cc, LC_WS_CLOSE_PROTOCOL_ERROR);

    for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++) {
        const uint8_t p[] = { (uint8_t)(codes[i].code >> 8), (uint8_t)codes[i].code, 'b', 'y' };
        cc = 0;
        int rc = lc_ws_parse_close(p, sizeof p, &code, &err, &cc);
        assert_int_equal(rc, codes[i].ok ? 0 : -1);
        if (codes[i].ok)
            assert_int_equal(code, codes[i].code);
        else
            assert_int_equal(cc, LC_WS_CLOSE_PROTOCOL_ERROR);
    }
    const uint8_t bad_reason[] = { 0x03, 0xe8, 'o', 0xed, 0xa0, 0x80 };
    assert_int_equal(lc_ws_parse_close(bad_reason, sizeof bad_reason, &code, &err, &cc), -1);
    assert_int_equal(cc, LC_WS_CLOSE_INVALID_DATA);
    const uint8_t good[] = { 0x03, 0xe8, 0xce, 0xba };
    assert_int_equal(lc_ws_parse_close(good, sizeof good, &code, &err, &cc), 0);
    assert_int_equal(code, 1000);
}

static lc_ws_frame_t frame(int fin, int opcode, uint64_t len)
{
    lc_ws_frame_t f = { .fin = fin, .opcode = opcode, .payload_len = len, .header_len = 2 };
    return f;
}

static int feed(lc_ws_assembly_t *a, int fin, int opcode, uint64_t len, uint64_t max, int *cc)
{
    lc_ws_frame_t f = frame(fin, opcode, len);
    const char *err = NULL;
    int rc = lc_ws_assembly_feed(a, &f, max, &err, cc);
    if (rc < 0)
        assert_non_null(err);
    return rc;
}

static void test_assembly_sequences(void **state)
{
    (void)state;
    lc_ws_assembly_t a = { 0 };
    int cc = 0;

    /* Unfragmented messages of both kinds. */
    assert_int_equal(feed(&a, 1, LC_WS_BINARY, 10, 100, &cc), 0);
    assert_int_equal(a.in_message, 0);
    assert_int_equal(a.opcode, LC_WS_BINARY);
    assert_int_equal(a.total, 10);
    assert_int_equal(feed(&a, 1, LC_WS_TEXT, 0, 100, &cc), 0);
    assert_int_equal(a.opcode, LC_WS_TEXT);
    assert_int_equal(a.total, 0);

    /* Binary in four fragments, empty ones included; total restarts. */
    assert_int_equal(feed(&a, 0, LC_WS_BINARY, 40, 100, &cc), 0);
    assert_int_equal(a.in_message, 1);
    assert_int_equal(feed(&a, 0, LC_WS_CONT, 0, 100, &cc), 0);
    assert_int_equal(feed(&a, 0, LC_WS_CONT, 30, 100, &cc), 0);
    assert_int_equal(feed(&a, 1, LC_WS_CONT, 30, 100, &cc), 0);
    assert_int_equal(a.in_message, 0);
    assert_int_equal(a.opcode, LC_WS_BINARY);
    assert_int_equal(a.total, 100);
}

static void test_assembly_errors(void **state)
{
    (void)state;
    lc_ws_assembly_t a = { 0 };
    int cc = 0;

    assert_int_equal(feed(&a, 1, LC_WS_CONT, 1, 100, &cc), -1);
    assert_int_equal(cc, LC_WS_CLOSE_PROTOCOL_ERROR);
    assert_int_equal(feed(&a, 0, LC_WS_CONT, 1, 100, &cc), -1);
    assert_int_equal(cc, LC_WS_CLOSE_PROTOCOL_ERROR);

    assert_int_equal(feed(&a, 0, LC_WS_TEXT, 1, 100, &cc), 0);
    assert_int_equal(feed(&a, 1, LC_WS_TEXT, 1, 100, &cc), -1);
    assert_int_equal(cc, LC_WS_CLOSE_PROTOCOL_ERROR);
    assert_int_equal(feed(&a, 0, LC_WS_BINARY, 1, 100, &cc), -1);
    assert_int_equal(cc, LC_WS_CLOSE_PROTOCOL_ERROR);
    /* The failed feeds left the message as it was. */
    assert_int_equal(a.in_message, 1);
    assert_int_equal(a.opcode, LC_WS_TEXT);
    assert_int_equal(a.total, 1);

    /* Control frames and unknown opcodes are not the assembler's. */
    for (int op = 3; op < 16; op++) {
        cc = 0;
        assert_int_equal(feed(&a, 1, op, 0, 100, &cc), -1);
        assert_int_equal(cc, op >= 8 && op <= 10 ? LC_WS_CLOSE_INTERNAL_ERROR
                                                 : LC_WS_CLOSE_PROTOCOL_ERROR);
    }
    assert_int_equal(a.in_message, 1);
}

static void test_assembly_too_big(void **state)
{
    (void)state;
    lc_ws_assembly_t a = { 0 };
    int cc = 0;

    assert_int_equal(feed(&a, 1, LC_WS_BINARY, 100, 100, &cc), 0);
    assert_int_equal(feed(&a, 1, LC_WS_BINARY, 101, 100, &cc), -1);
    assert_int_equal(cc, LC_WS_CLOSE_TOO_BIG);

    a = (lc_ws_assembly_t){ 0 };
    assert_int_equal(feed(&a, 0, LC_WS_TEXT, 60, 100, &cc), 0);
    assert_int_equal(feed(&a, 0, LC_WS_CONT, 40, 100, &cc), 0);
    assert_int_equal(feed(&a, 1, LC_WS_CONT, 1, 100, &cc), -1);
    assert_int_equal(cc, LC_WS_CLOSE_TOO_BIG);
    assert_int_equal(a.total, 100);

    /* A limit lowered mid-message (a reload) applies to what is already in. */
    a = (lc_ws_assembly_t){ 0 };
    assert_int_equal(feed(&a, 0, LC_WS_BINARY, 60, 100, &cc), 0);
    assert_int_equal(feed(&a, 1, LC_WS_CONT, 0, 50, &cc), -1);
    assert_int_equal(cc, LC_WS_CLOSE_TOO_BIG);

    /* No wrap-around with lengths near 2^64. */
    a = (lc_ws_assembly_t){ 0 };
    assert_int_equal(feed(&a, 0, LC_WS_BINARY, 10, UINT64_MAX - 5, &cc), 0);
    assert_int_equal(feed(&a, 1, LC_WS_CONT, UINT64_MAX - 10, UINT64_MAX - 5, &cc), -1);
    assert_int_equal(cc, LC_WS_CLOSE_TOO_BIG);
    assert_int_equal(feed(&a, 1, LC_WS_CONT, UINT64_MAX - 15, UINT64_MAX - 5, &cc), 0);
    assert_int_equal(a.total, UINT64_MAX - 5);
}

/* A whole exchange: parse, unmask, assemble, validate, as a worker would. */
static void test_stream_of_frames(void **state)
{
    (void)state;
    const uint8_t mask[4] = { 0x11, 0x22, 0x33, 0x44 };
    const char *parts[] = { "\xce\xba\xe1", "\xbd\xb9", "\xcf\x83" };  /* split code points */
    uint8_t wire[128], msg[32];
    size_t w = 0, m = 0, r = 0;
    lc_ws_assembly_t a = { 0 };
    int cc = 0;

    for (int i = 0; i < 3; i++) {
        size_t n = strlen(parts[i]);
        w += lc_ws_write_header(wire + w, i == 2, i ? LC_WS_CONT : LC_WS_TEXT, n, mask);
        memcpy(wire + w, parts[i], n);
        lc_ws_unmask(wire + w, n, mask, 0);
        w += n;
        if (i == 0) {  /* a ping between fragments */
            w += lc_ws_write_header(wire + w, 1, LC_WS_PING, 0, mask);
        }
    }
    while (r < w) {
        lc_ws_frame_t f;
        int h = lc_ws_parse_header(wire + r, w - r, 64, 1, &f, NULL, &cc);
        assert_true(h > 0);
        r += (size_t)h;
        lc_ws_unmask(wire + r, (size_t)f.payload_len, f.mask, 0);
        if (f.opcode == LC_WS_PING) {
            assert_int_equal(a.in_message, 1);
            continue;
        }
        assert_int_equal(lc_ws_assembly_feed(&a, &f, 64, NULL, &cc), 0);
        memcpy(msg + m, wire + r, (size_t)f.payload_len);
        m += (size_t)f.payload_len;
        r += (size_t)f.payload_len;
        /* The first fragment ends inside a code point: only the whole
         * message is checked. */
        if (a.in_message && m == 3)
            assert_false(lc_ws_utf8_valid(msg, m));
    }
    assert_int_equal(a.in_message, 0);
    assert_int_equal(a.opcode, LC_WS_TEXT);
    assert_int_equal(a.total, m);
    assert_true(lc_ws_utf8_valid(msg, m));
    assert_memory_equal(msg, "\xce\xba\xe1\xbd\xb9\xcf\x83", 7);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rfc_unmasked_text),
        cmocka_unit_test(test_rfc_masked_text),
        cmocka_unit_test(test_rfc_fragmented),
        cmocka_unit_test(test_rfc_ping_pong),
        cmocka_unit_test(test_rfc_extended_lengths),
        cmocka_unit_test(test_write_header_boundaries),
        cmocka_unit_test(test_non_minimal_lengths_accepted),
        cmocka_unit_test(test_control_frames),
        cmocka_unit_test(test_reserved_bits),
        cmocka_unit_test(test_opcodes),
        cmocka_unit_test(test_length_msb),
        cmocka_unit_test(test_max_payload),
        cmocka_unit_test(test_require_mask),
        cmocka_unit_test(test_need_more),
        cmocka_unit_test(test_unmask_in_pieces),
        cmocka_unit_test(test_accept_key),
        cmocka_unit_test(test_accept_key_invalid),
        cmocka_unit_test(test_utf8_valid),
        cmocka_unit_test(test_utf8_invalid),
        cmocka_unit_test(test_close_payload),
        cmocka_unit_test(test_assembly_sequences),
        cmocka_unit_test(test_assembly_errors),
        cmocka_unit_test(test_assembly_too_big),
        cmocka_unit_test(test_stream_of_frames),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
