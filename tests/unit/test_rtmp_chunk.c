/*
 * test_rtmp_chunk.c: unit tests of src/common/rtmp/rtmp_chunk.c.
 *
 * The writer and reader are checked against each other over every basic
 * header form (csid 2, 63 | 64, 319 | 320, 65599), message sizes around the
 * chunk size, and timestamps on both sides of the extended-timestamp mark;
 * the reader alone against hand-written byte sequences for fmt 1/2/3
 * deltas, extended timestamps repeated or not in fmt 3 chunks, Set Chunk
 * Size mid-stream, Abort, and every protocol error.
 *
 * Invariant checked throughout: the messages that come out do not depend
 * on how the input is split (whole, byte by byte, random pieces), and a
 * call that completes no message consumes all of its input.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/rtmp/rtmp_chunk.h"

#define MAXMSG 1024

enum { WHOLE, BYTES, RANDOM, NSPLITS };

typedef struct {
    lc_rtmp_msg_t m[MAXMSG];
    int n;
    const char *err;
} got_t;

static uint32_t rng = 1;
static uint32_t rnd(void)
{
    rng = rng * 1103515245u + 12345u;
    return rng >> 8;
}

static void got_free(got_t *g)
{
    for (int i = 0; i < g->n; i++)
        free(g->m[i].payload);
    g->n = 0;
}

/* Feed one piece until it is used up and no message is pending. */
static int feed_piece(lc_rtmp_chunk_reader_t *r, const uint8_t *p, size_t len, got_t *g)
{
    size_t off = 0;
    int got;

    do {
        lc_rtmp_msg_t m;
        long rc = lc_rtmp_chunk_feed(r, p + off, len - off, &m, &got, &g->err);

        if (rc < 0) {
            assert_non_null(g->err);
            return -1;
        }
        assert_true((size_t)rc <= len - off);
        off += (size_t)rc;
        if (got) {
            assert_true(g->n < MAXMSG);
            assert_non_null(m.payload);
            g->m[g->n++] = m;
        } else {
            assert_int_equal(off, len);     /* no message: all input taken */
        }
    } while (got || off < len);
    return 0;
}

static int feed_split(lc_rtmp_chunk_reader_t *r, const uint8_t *buf, size_t len, int mode, got_t *g)
{
    size_t off = 0;

    g->err = NULL;
    while (off < len) {
        size_t n = mode == WHOLE ? len - off : mode == BYTES ? 1 : 1 + rnd() % 700;

        if (n > len - off)
            n = len - off;
        if (feed_piece(r, buf + off, n, g) < 0)
            return -1;
        off += n;
    }
    return 0;
}

/* A growable byte string for building streams. */
typedef struct { uint8_t *p; size_t len; } bytes_t;

static void put(bytes_t *b, const void *p, size_t n)
{
    b->p = realloc(b->p, b->len + n + 1);
    assert_non_null(b->p);
    if (n > 0)
        memcpy(b->p + b->len, p, n);
    b->len += n;
}

static void put_msg(bytes_t *b, uint32_t csid, uint8_t type, uint32_t ts, uint32_t sid,
                    const uint8_t *payload, uint32_t len, uint32_t chunk)
{
    size_t bound = lc_rtmp_chunk_size_of(len, chunk, ts);
    uint8_t *tmp = malloc(bound);
    size_t n;

    assert_non_null(tmp);
    n = lc_rtmp_chunk_write(tmp, csid, type, ts, sid, payload, len, chunk);
    assert_true(n > 0 && n <= bound);
    /* the bound is exact for 3-byte basic headers */
    if (csid >= 320)
        assert_int_equal(n, bound);
    put(b, tmp, n);
    free(tmp);
}

static void put_set_chunk(bytes_t *b, uint32_t size, uint32_t cur_chunk)
{
    uint8_t p[4] = { (uint8_t)(size >> 24), (uint8_t)(size >> 16), (uint8_t)(size >> 8), (uint8_t)size };
    put_msg(b, 2, LC_RTMP_SET_CHUNK_SIZE, 0, 0, p, 4, cur_chunk);
}

static void fill(uint8_t *p, size_t n, uint32_t seed)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)(seed * 31 + i * 7 + (i >> 8));
}

static void test_roundtrip(void **state)
{
    (void)state;
    static const uint32_t csids[] = { 2, 3, 63, 64, 65, 319, 320, 1000, 65599 };
    static const uint32_t sizes[] = { 0, 1, 3, 4, 5, 127, 128, 129, 255, 256, 300, 4097, 20000 };
    static const uint32_t tss[] = { 0, 1000, 0xfffffe, 0xffffff, 0x1000000, 0x12345678, 0xffffffff };
    static const uint32_t chunks[] = { 128, 1, 4, 100, 4096, 60000 };
    uint8_t *payload = malloc(20000);

    assert_non_null(payload);
    for (size_t c = 0; c < sizeof chunks / sizeof chunks[0]; c++) {
        uint32_t chunk = chunks[c];
        bytes_t b = { 0 };
        int expect = 0;

        if (chunk != LC_RTMP_DEFAULT_CHUNK) {
            put_set_chunk(&b, chunk, LC_RTMP_DEFAULT_CHUNK);
            expect++;
        }
        for (size_t i = 0; i < sizeof csids / sizeof csids[0]; i++)
            for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
                /* chunk size 1 on big messages: too slow byte by byte, and adds nothing */
                if (chunk < 100 && sizes[s] > 300)
                    continue;
                uint32_t ts = tss[(i + s) % (sizeof tss / sizeof tss[0])];
                fill(payload, sizes[s], (uint32_t)(i * 100 + s));
                put_msg(&b, csids[i], LC_RTMP_VIDEO, ts, (uint32_t)(s + 1) * 0x01010101u, payload,
                        sizes[s], chunk);
                expect++;
            }
        for (int mode = 0; mode < NSPLITS; mode++) {
            lc_rtmp_chunk_reader_t *r = lc_rtmp_chunk_reader_new(1 << 20);
            got_t *g = calloc(1, sizeof *g);
            int k = 0;

            assert_non_null(g);
            assert_int_equal(feed_split(r, b.p, b.len, mode, g), 0);
            assert_int_equal(g->n, expect);
            assert_int_equal(lc_rtmp_chunk_reader_chunk_size(r), chunk);
            if (chunk != LC_RTMP_DEFAULT_CHUNK) {
                assert_int_equal(g->m[0].type, LC_RTMP_SET_CHUNK_SIZE);
                assert_int_equal(g->m[0].csid, 2);
                k = 1;
            }
            for (size_t i = 0; i < sizeof csids / sizeof csids[0]; i++)
                for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
                    if (chunk < 100 && sizes[s] > 300)
                        continue;
                    lc_rtmp_msg_t *m = &g->m[k++];
                    assert_int_equal(m->csid, csids[i]);
                    assert_int_equal(m->type, LC_RTMP_VIDEO);
                    assert_int_equal(m->timestamp, tss[(i + s) % (sizeof tss / sizeof tss[0])]);
                    assert_int_equal(m->stream_id, (uint32_t)(s + 1) * 0x01010101u);
                    assert_int_equal(m->len, sizes[s]);
                    fill(payload, sizes[s], (uint32_t)(i * 100 + s));
                    if (sizes[s] > 0)
                        assert_memory_equal(m->payload, payload, sizes[s]);
                }
            got_free(g);
            free(g);
            lc_rtmp_chunk_reader_free(r);
        }
        free(b.p);
    }
    free(payload);
}

static void test_writer_bytes(void **state)
{
    (void)state;
    uint8_t out[64], payload[5] = "hello";

    /* csid 3, ts 0x010203, len 5, type 20, stream id 1 (little-endian) */
    assert_int_equal(lc_rtmp_chunk_write(out, 3, 20, 0x010203, 1, payload, 5, 128), 17);
    assert_memory_equal(out, "\x03\x01\x02\x03\x00\x00\x05\x14\x01\x00\x00\x00hello", 17);
    /* 2-byte basic header */
    assert_int_equal(lc_rtmp_chunk_write(out, 64, 8, 0, 0, payload, 0, 128), 13);
    assert_memory_equal(out, "\x00\x00", 2);
    assert_int_equal(lc_rtmp_chunk_write(out, 319, 8, 0, 0, payload, 0, 128), 13);
    assert_memory_equal(out, "\x00\xff", 2);
    /* 3-byte basic header: csid - 64 little-endian */
    assert_int_equal(lc_rtmp_chunk_write(out, 320, 8, 0, 0, payload, 0, 128), 14);
    assert_memory_equal(out, "\x01\x00\x01", 3);
    assert_int_equal(lc_rtmp_chunk_write(out, 65599, 8, 0, 0, payload, 0, 128), 14);
    assert_memory_equal(out, "\x01\xff\xff", 3);
    /* extended timestamp, repeated in the fmt 3 chunk; chunk size 3 */
    assert_int_equal(lc_rtmp_chunk_write(out, 5, 9, 0x01000000, 0, payload, 5, 3), 12 + 4 + 3 + 1 + 4 + 2);
    assert_memory_equal(out, "\x05\xff\xff\xff\x00\x00\x05\x09\x00\x00\x00\x00\x01\x00\x00\x00hel"
                             "\xc5\x01\x00\x00\x00lo", 26);
    assert_int_equal(lc_rtmp_chunk_size_of(5, 3, 0x01000000), 3 + 11 + 4 + 5 + 3 + 4);
    assert_int_equal(lc_rtmp_chunk_size_of(0, 128, 0), 14);
    assert_int_equal(lc_rtmp_chunk_size_of(256, 128, 0), 14 + 256 + 3);
    /* what the wire cannot carry */
    assert_int_equal(lc_rtmp_chunk_write(out, 1, 8, 0, 0, payload, 0, 128), 0);
    assert_int_equal(lc_rtmp_chunk_write(out, 65600, 8, 0, 0, payload, 0, 128), 0);
    assert_int_equal(lc_rtmp_chunk_size_of(0x1000000, 128, 0), 0);
}

/* Run `buf` through a new reader in every split; check the same messages come out. */
static void read_all_ways(const uint8_t *buf, size_t len, uint32_t max, got_t *g)
{
    got_t *other = calloc(1, sizeof *other);

    assert_non_null(other);
    for (int mode = 0; mode < NSPLITS; mode++) {
        lc_rtmp_chunk_reader_t *r = lc_rtmp_chunk_reader_new(max);
        got_t *dst = mode == 0 ? g : other;

        if (feed_split(r, buf, len, mode, dst) < 0)
            fail_msg("mode %d: %s", mode, dst->err);
        if (mode > 0) {
            assert_int_equal(other->n, g->n);
            for (int i = 0; i < g->n; i++) {
                assert_int_equal(other->m[i].csid, g->m[i].csid);
                assert_int_equal(other->m[i].timestamp, g->m[i].timestamp);
                assert_int_equal(other->m[i].len, g->m[i].len);
                assert_int_equal(other->m[i].type, g->m[i].type);
                assert_memory_equal(other->m[i].payload, g->m[i].payload, g->m[i].len);
            }
            got_free(other);
        }
        lc_rtmp_chunk_reader_free(r);
    }
    free(other);
}

#define S(x) (const uint8_t *)(x), sizeof(x) - 1

static void expect_msg(const lc_rtmp_msg_t *m, uint32_t csid, uint8_t type, uint32_t ts, uint32_t sid,
                       const char *payload, uint32_t len)
{
    assert_int_equal(m->csid, csid);
    assert_int_equal(m->type, type);
    assert_int_equal(m->timestamp, ts);
    assert_int_equal(m->stream_id, sid);
    assert_int_equal(m->len, len);
    assert_memory_equal(m->payload, payload, len);
}

static void test_header_deltas(void **state)
{
    (void)state;
    got_t *g = calloc(1, sizeof *g);
    static const char seq[] =
        /* fmt 0, csid 4: ts 1000, len 3, type 8, stream 1 */
        "\x04\x00\x03\xe8\x00\x00\x03\x08\x01\x00\x00\x00" "abc"
        /* fmt 1: delta 20, len 2, type 9 */
        "\x44\x00\x00\x14\x00\x00\x02\x09" "de"
        /* fmt 2: delta 33 */
        "\x84\x00\x00\x21" "fg"
        /* fmt 3 starting new messages: delta 33 again, twice */
        "\xc4" "hi"
        "\xc4" "jk"
        /* csid 5, fmt 0 ts 40 len 1; a fmt 3 after it adds 40 (spec 5.3.1.2.4) */
        "\x05\x00\x00\x28\x00\x00\x01\x12\x00\x00\x00\x00" "x"
        "\xc5" "y"
        /* fmt 1 with an extended delta of 0x01000000 on csid 4 */
        "\x44\xff\xff\xff\x00\x00\x01\x08\x01\x00\x00\x00" "z"
        /* fmt 3 after that: the delta and its extended field repeat */
        "\xc4\x01\x00\x00\x00" "w"
        /* 2-byte basic header (csid 64) and 3-byte one (csid 65599) */
        "\x00\x00\x00\x00\x07\x00\x00\x01\x14\x02\x00\x00\x00" "A"
        "\x01\xff\xff\x00\x00\x07\x00\x00\x01\x14\x03\x00\x00\x00" "B"
        /* fmt 2 on csid 64 in 2-byte form */
        "\x80\x00\x00\x00\x03" "C";

    assert_non_null(g);
    read_all_ways(S(seq), 1000, g);
    assert_int_equal(g->n, 12);
    expect_msg(&g->m[0], 4, 8, 1000, 1, "abc", 3);
    expect_msg(&g->m[1], 4, 9, 1020, 1, "de", 2);
    expect_msg(&g->m[2], 4, 9, 1053, 1, "fg", 2);
    expect_msg(&g->m[3], 4, 9, 1086, 1, "hi", 2);
    expect_msg(&g->m[4], 4, 9, 1119, 1, "jk", 2);
    expect_msg(&g->m[5], 5, 18, 40, 0, "x", 1);
    expect_msg(&g->m[6], 5, 18, 80, 0, "y", 1);
    expect_msg(&g->m[7], 4, 8, 1119 + 0x01000000, 1, "z", 1);
    expect_msg(&g->m[8], 4, 8, 1119 + 0x02000000, 1, "w", 1);
    expect_msg(&g->m[9], 64, 20, 7, 2, "A", 1);
    expect_msg(&g->m[10], 65599, 20, 7, 3, "B", 1);
    expect_msg(&g->m[11], 64, 20, 10, 2, "C", 1);
    got_free(g);
    free(g);
}

/* A message of 300 bytes at ts 0x01000000 in chunks of 128: the fmt 3
 * chunks with (FFmpeg) and without (some encoders) the repeated field. */
static void test_extended_fmt3(void **state)
{
    (void)state;
    got_t *g = calloc(1, sizeof *g);
    uint8_t payload[300];
    static const uint8_t hdr[] = { 0x06, 0xff, 0xff, 0xff, 0x00, 0x01, 0x2c, 0x09, 1, 0, 0, 0, 1, 0, 0, 0 };
    static const uint8_t ext[] = { 1, 0, 0, 0 };

    assert_non_null(g);
    fill(payload, sizeof payload, 9);
    for (int repeat = 0; repeat < 2; repeat++) {
        bytes_t b = { 0 };

        put(&b, hdr, sizeof hdr);
        put(&b, payload, 128);
        put(&b, "\xc6", 1);
        if (repeat)
            put(&b, ext, 4);
        put(&b, payload + 128, 128);
        put(&b, "\xc6", 1);
        if (repeat)
            put(&b, ext, 4);
        put(&b, payload + 256, 44);
        /* then a new message by fmt 3 (delta 0x01000000 again) */
        put(&b, "\xc6", 1);
        if (repeat)
            put(&b, ext, 4);
        put(&b, payload, 128);
        put(&b, "\xc6", 1);
        if (repeat)
            put(&b, ext, 4);
        put(&b, payload + 128, 128);
        put(&b, "\xc6", 1);
        if (repeat)
            put(&b, ext, 4);
        put(&b, payload + 256, 44);
        read_all_ways(b.p, b.len, 1000, g);
        assert_int_equal(g->n, 2);
        assert_int_equal(g->m[0].timestamp, 0x01000000);
        assert_int_equal(g->m[0].len, 300);
        assert_memory_equal(g->m[0].payload, payload, 300);
        assert_int_equal(g->m[1].timestamp, 0x02000000);
        assert_memory_equal(g->m[1].payload, payload, 300);
        got_free(g);
        free(b.p);
    }

    /* Without repeats, a last chunk shorter than 4 bytes: the peek reaches
     * into the next chunk's header, which must still be read as a header. */
    for (int repeat = 0; repeat < 2; repeat++) {
        bytes_t b = { 0 };
        static const uint8_t hdr130[] = { 0x06, 0xff, 0xff, 0xff, 0x00, 0x00, 0x82, 0x09, 1, 0, 0, 0, 1, 0, 0, 0 };

        put(&b, hdr130, sizeof hdr130);
        put(&b, payload, 128);
        put(&b, "\xc6", 1);
        if (repeat)
            put(&b, ext, 4);
        put(&b, payload + 128, 2);
        put(&b, S("\x03\x00\x00\x05\x00\x00\x01\x14\x00\x00\x00\x00" "q"));
        /* a zero-length message by fmt 3 right after a peek */
        put(&b, S("\x07\xff\xff\xff\x00\x00\x00\x12\x00\x00\x00\x00\x00\x00\x00\x09"));
        put(&b, "\xc7", 1);
        if (repeat)
            put(&b, "\x00\x00\x00\x09", 4);
        put(&b, S("\x03\x00\x00\x06\x00\x00\x01\x14\x00\x00\x00\x00" "r"));
        read_all_ways(b.p, b.len, 1000, g);
        assert_int_equal(g->n, 5);
        assert_int_equal(g->m[0].len, 130);
        assert_memory_equal(g->m[0].payload, payload, 130);
        expect_msg(&g->m[1], 3, 20, 5, 0, "q", 1);
        expect_msg(&g->m[2], 7, 18, 9, 0, "", 0);
        expect_msg(&g->m[3], 7, 18, 18, 0, "", 0);
        expect_msg(&g->m[4], 3, 20, 6, 0, "r", 1);
        got_free(g);
        free(b.p);
    }
    free(g);
}

static void test_set_chunk_size_midstream(void **state)
{
    (void)state;
    got_t *g = calloc(1, sizeof *g);
    uint8_t payload[3000];
    bytes_t b = { 0 };

    assert_non_null(g);
    fill(payload, sizeof payload, 3);
    /* csid 4: the first 128-byte chunk of a 300-byte message */
    put(&b, S("\x04\x00\x00\x01\x00\x01\x2c\x09\x01\x00\x00\x00"));
    put(&b, payload, 128);
    /* Set Chunk Size 256 on csid 2, applied as soon as it is complete */
    put_set_chunk(&b, 256, 128);
    /* the rest of csid 4's message in one 172-byte chunk */
    put(&b, "\xc4", 1);
    put(&b, payload + 128, 172);
    /* then straight on to 4000 and a 3000-byte message in one chunk */
    put_set_chunk(&b, 4000, 256);
    put_msg(&b, 6, LC_RTMP_AUDIO, 5, 1, payload, 3000, 4000);
    read_all_ways(b.p, b.len, 1 << 16, g);
    assert_int_equal(g->n, 4);
    assert_int_equal(g->m[0].type, LC_RTMP_SET_CHUNK_SIZE);
    assert_int_equal(g->m[1].len, 300);
    assert_memory_equal(g->m[1].payload, payload, 300);
    assert_int_equal(g->m[2].type, LC_RTMP_SET_CHUNK_SIZE);
    assert_int_equal(g->m[3].len, 3000);
    assert_memory_equal(g->m[3].payload, payload, 3000);
    got_free(g);

    /* whole buffer, one call at a time: the size changes between calls */
    lc_rtmp_chunk_reader_t *r = lc_rtmp_chunk_reader_new(1 << 16);
    lc_rtmp_msg_t m;
    int got;
    long used = lc_rtmp_chunk_feed(r, b.p, b.len, &m, &got, NULL);
    assert_true(used > 0 && got);
    assert_int_equal(m.type, LC_RTMP_SET_CHUNK_SIZE);
    assert_int_equal(lc_rtmp_chunk_reader_chunk_size(r), 256);
    free(m.payload);
    lc_rtmp_chunk_reader_free(r);
    free(b.p);
    free(g);
}

static void test_abort(void **state)
{
    (void)state;
    got_t *g = calloc(1, sizeof *g);
    uint8_t payload[300];
    bytes_t b = { 0 };

    assert_non_null(g);
    fill(payload, sizeof payload, 5);
    put(&b, S("\x04\x00\x00\x0a\x00\x01\x2c\x09\x01\x00\x00\x00"));
    put(&b, payload, 128);
    /* Abort csid 4 */
    put_msg(&b, 2, LC_RTMP_ABORT, 0, 0, (const uint8_t *)"\x00\x00\x00\x04", 4, 128);
    /* a fmt 3 chunk now starts a new 300-byte message (ts 10 + 10) */
    put(&b, "\xc4", 1);
    put(&b, payload + 100, 128);
    put(&b, "\xc4", 1);
    put(&b, payload + 228, 72);
    put(&b, payload, 56);
    put(&b, "\xc4", 1);
    put(&b, payload + 56, 44);
    /* an abort of a csid never used is harmless */
    put_msg(&b, 2, LC_RTMP_ABORT, 0, 0, (const uint8_t *)"\x00\x00\x01\x00", 4, 128);
    read_all_ways(b.p, b.len, 1000, g);
    assert_int_equal(g->n, 3);
    assert_int_equal(g->m[0].type, LC_RTMP_ABORT);
    assert_int_equal(g->m[1].csid, 4);
    assert_int_equal(g->m[1].timestamp, 20);
    assert_memory_equal(g->m[1].payload, payload + 100, 200);
    assert_memory_equal(g->m[1].payload + 200, payload, 100);
    assert_int_equal(g->m[1].len, 300);
    assert_int_equal(g->m[2].type, LC_RTMP_ABORT);
    got_free(g);
    free(b.p);

    /* a partial message left behind is freed with the reader (ASan) */
    b = (bytes_t){ 0 };
    put(&b, S("\x04\x00\x00\x0a\x00\x01\x2c\x09\x01\x00\x00\x00"));
    put(&b, payload, 128);
    put(&b, "\xc4", 1);
    put(&b, payload, 50);
    lc_rtmp_chunk_reader_t *r = lc_rtmp_chunk_reader_new(1000);
    assert_int_equal(feed_split(r, b.p, b.len, WHOLE, g), 0);
    assert_int_equal(g->n, 0);
    lc_rtmp_chunk_reader_free(r);
    free(b.p);
    free(g);
}

/* buf must fail with `why` however it is split, and keep failing. */
static void expect_error(const uint8_t *buf, size_t len, uint32_t max, const char *why)
{
    got_t *g = calloc(1, sizeof *g);

    assert_non_null(g);
    for (int mode = 0; mode < NSPLITS; mode++) {
        lc_rtmp_chunk_reader_t *r = lc_rtmp_chunk_reader_new(max);
        lc_rtmp_msg_t m;
        int got;
        const char *err = NULL;

        assert_int_equal(feed_split(r, buf, len, mode, g), -1);
        assert_string_equal(g->err, why);
        assert_int_equal(lc_rtmp_chunk_feed(r, (const uint8_t *)"\x02", 1, &m, &got, &err), -1);
        assert_string_equal(err, why);
        got_free(g);
        lc_rtmp_chunk_reader_free(r);
    }
    free(g);
}

static void test_errors(void **state)
{
    (void)state;
    bytes_t b = { 0 };
    got_t *g = calloc(1, sizeof *g);

    assert_non_null(g);
    static const uint32_t bad_sizes[] = { 0, LC_RTMP_MAX_CHUNK_ACCEPTED + 1, 0x80000000u, 0x80000080u, 0xffffffffu };
    for (size_t i = 0; i < sizeof bad_sizes / sizeof bad_sizes[0]; i++) {
        put_set_chunk(&b, bad_sizes[i], 128);
        expect_error(b.p, b.len, 1000, "chunk size out of range");
        b.len = 0;
    }
    /* the edges of the accepted range */
    put_set_chunk(&b, 1, 128);
    put_set_chunk(&b, LC_RTMP_MAX_CHUNK_ACCEPTED, 1);
    read_all_ways(b.p, b.len, 1000, g);
    assert_int_equal(g->n, 2);
    got_free(g);
    b.len = 0;

    put_msg(&b, 2, LC_RTMP_SET_CHUNK_SIZE, 0, 0, (const uint8_t *)"\x00\x01", 2, 128);
    expect_error(b.p, b.len, 1000, "set chunk size message too short");
    b.len = 0;
    put_msg(&b, 2, LC_RTMP_ABORT, 0, 0, (const uint8_t *)"", 0, 128);
    expect_error(b.p, b.len, 1000, "abort message too short");
    b.len = 0;

    /* fmt 1, 2, 3 on a chunk stream never opened */
    expect_error(S("\x44\x00\x00\x14\x00\x00\x02\x09" "de"), 1000, "chunk stream not opened with fmt 0");
    expect_error(S("\x84\x00\x00\x14" "de"), 1000, "chunk stream not opened with fmt 0");
    expect_error(S("\xc4" "de"), 1000, "chunk stream not opened with fmt 0");
    expect_error(S("\x04\x00\x00\x00\x00\x00\x01\x08\x00\x00\x00\x00" "a" "\xc5" "b"), 1000,
                 "chunk stream not opened with fmt 0");

    /* max_message: equal is fine, one more is not */
    uint8_t payload[1001] = { 0 };
    put_msg(&b, 5, LC_RTMP_VIDEO, 0, 1, payload, 1000, 128);
    read_all_ways(b.p, b.len, 1000, g);
    assert_int_equal(g->n, 1);
    got_free(g);
    b.len = 0;
    put_msg(&b, 5, LC_RTMP_VIDEO, 0, 1, payload, 1001, 128);
    expect_error(b.p, b.len, 1000, "message too long");
    b.len = 0;
    /* fmt 1 announcing a longer message on an open chunk stream */
    put_msg(&b, 5, LC_RTMP_VIDEO, 0, 1, payload, 10, 128);
    put(&b, S("\x45\x00\x00\x00\x00\x03\xe9\x09"));
    expect_error(b.p, b.len, 1000, "message too long");
    b.len = 0;

    /* LC_RTMP_MAX_CSID chunk streams are fine, one more is not */
    for (uint32_t c = 0; c < LC_RTMP_MAX_CSID; c++)
        put_msg(&b, 3 + c * 7, LC_RTMP_VIDEO, 0, 1, payload, 0, 128);
    read_all_ways(b.p, b.len, 1000, g);
    assert_int_equal(g->n, LC_RTMP_MAX_CSID);
    got_free(g);
    put_msg(&b, 2, LC_RTMP_VIDEO, 0, 1, payload, 0, 128);
    expect_error(b.p, b.len, 1000, "too many chunk streams");
    b.len = 0;

    /* a length change in the middle of a message */
    put(&b, S("\x04\x00\x00\x0a\x00\x01\x2c\x09\x01\x00\x00\x00"));
    put(&b, payload, 128);
    put(&b, S("\x44\x00\x00\x00\x00\x00\x20\x09"));
    expect_error(b.p, b.len, 1000, "message length changed mid-message");
    b.len = 0;

    free(b.p);
    free(g);
}

static void test_zero_length(void **state)
{
    (void)state;
    got_t *g = calloc(1, sizeof *g);
    bytes_t b = { 0 };

    assert_non_null(g);
    put_msg(&b, 3, LC_RTMP_DATA_AMF0, 77, 1, NULL, 0, 128);
    put(&b, "\xc3", 1);
    read_all_ways(b.p, b.len, 0, g);
    assert_int_equal(g->n, 2);
    assert_int_equal(g->m[0].len, 0);
    assert_non_null(g->m[0].payload);
    assert_int_equal(g->m[0].timestamp, 77);
    assert_int_equal(g->m[1].timestamp, 154);
    got_free(g);
    free(b.p);
    free(g);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_writer_bytes),
        cmocka_unit_test(test_roundtrip),
        cmocka_unit_test(test_header_deltas),
        cmocka_unit_test(test_extended_fmt3),
        cmocka_unit_test(test_set_chunk_size_midstream),
        cmocka_unit_test(test_abort),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_zero_length),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
