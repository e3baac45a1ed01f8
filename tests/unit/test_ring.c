/*
 * test_ring.c: unit tests of src/common/shm/ring.c, the single-writer,
 * multi-reader frame ring.
 *
 * The single-process tests drive every path of the contract in ring.h with
 * exact expectations: empty, one frame, PAD records of every short size at
 * the end of the data area, laps with and without a surviving keyframe,
 * late starts, config slots, size limits, close and reset. The last test is
 * a multi-process stress run over a real arena: four reader processes verify
 * every frame they are handed (checksum, sequence, key after a lap) while the
 * parent writes as fast as bursts allow, so copies really are overwritten
 * under the readers' feet.
 *
 * Invariant checked throughout: a reader is never handed a torn frame, and
 * it never loses a frame without its `lapped` counter saying so.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <errno.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/shm/ring.h"
#include "common/shm/shm.h"
#include "common/shm/stream_table.h"

#define SMALL_DATA (256 * 1024) /* data bytes of the single-process rings */
#define MAX_LEN 60000           /* largest payload the stress writer sends */
#define KEY_EVERY 25

/* ---- payloads: deterministic from (seq), self-checking ---- */

static uint64_t mix(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdull;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ull;
    x ^= x >> 33;
    return x | 1;
}

static uint32_t fnv1a(const uint8_t *p, size_t n)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 16777619u;
    return h;
}

/* Bytes of a pseudo-random stream seeded by seq; for len >= 8 the first
 * four bytes carry seq and the next four the FNV-1a of the rest. */
static void payload_make(uint8_t *p, uint32_t len, uint32_t seq)
{
    uint64_t s = mix(seq + 0x9e3779b97f4a7c15ull);
    uint32_t i = 0;
    for (; i + 8 <= len; i += 8) {
        s ^= s << 13, s ^= s >> 7, s ^= s << 17;
        memcpy(p + i, &s, 8);
    }
    if (i < len) {
        s ^= s << 13, s ^= s >> 7, s ^= s << 17;
        memcpy(p + i, &s, len - i);
    }
    if (len >= 8) {
        uint32_t sum = fnv1a(p + 8, len - 8);
        memcpy(p, &seq, 4);
        memcpy(p + 4, &sum, 4);
    }
}

/* 1 if p is exactly what payload_make(len, seq) wrote. */
static int payload_ok(const uint8_t *p, uint32_t len, uint32_t seq)
{
    uint64_t s = mix(seq + 0x9e3779b97f4a7c15ull);
    if (len >= 8) {
        uint32_t got_seq, got_sum;
        memcpy(&got_seq, p, 4);
        memcpy(&got_sum, p + 4, 4);
        if (got_seq != seq || got_sum != fnv1a(p + 8, len - 8))
            return 0;
    }
    for (uint32_t i = 0; i < len; i += 8) {
        s ^= s << 13, s ^= s >> 7, s ^= s << 17;
        uint32_t n = len - i < 8 ? len - i : 8;
        uint32_t from = i < 8 && len >= 8 ? 8 : 0; /* header bytes checked above */
        if (from < n && memcmp(p + i + from, (uint8_t *)&s + from, n - from) != 0)
            return 0;
    }
    return 1;
}

/* ---- a private ring in ordinary memory ---- */

static lc_ring_t *ring_new(size_t data_bytes)
{
    size_t bytes = (sizeof(lc_ring_t) + data_bytes + 63) & ~(size_t)63;
    lc_ring_t *r = aligned_alloc(64, bytes);
    assert_non_null(r);
    lc_ring_init(r, bytes);
    assert_true(r->cap >= data_bytes && r->cap % 8 == 0);
    return r;
}

/* Size of the record header ring.c puts before each payload (private there). */
static uint64_t rec_hdr(const lc_ring_t *r)
{
    return r->cap / 2 - lc_ring_max_frame(r);
}

static uint64_t head_of(const lc_ring_t *r)
{
    return atomic_load_explicit(&((lc_ring_t *)r)->head, memory_order_acquire);
}

static uint8_t wbuf[LC_RING_CONFIG_MAX * 2 + SMALL_DATA];
static uint8_t rbuf[LC_RING_CONFIG_MAX * 2 + SMALL_DATA];

static int put(lc_ring_t *r, uint32_t seq, uint32_t len, int key)
{
    lc_frame_t f = { .stream_id = 42, .codec = 7, .flags = key ? LC_FRAME_KEY : 0,
                     .track = (uint16_t)(seq % 3), .len = len, .ts = (int64_t)seq * 1000 };
    payload_make(wbuf, len, seq);
    return lc_ring_write(r, &f, wbuf);
}

/* The next read must be frame seq (as put() wrote it) with an intact payload. */
static void expect_seq(lc_ring_t *r, lc_ring_cursor_t *c, uint32_t seq, uint32_t len)
{
    lc_frame_t f;
    memset(&f, 0xa5, sizeof(f));
    int rc = lc_ring_read(r, c, &f, rbuf, sizeof(rbuf));
    if (rc != LC_RING_OK || f.ts != (int64_t)seq * 1000)
        print_error("expected seq %u: rc %d ts %lld\n", seq, rc, (long long)f.ts);
    assert_int_equal(rc, LC_RING_OK);
    assert_int_equal(f.ts, (int64_t)seq * 1000);
    assert_int_equal(f.len, len);
    assert_int_equal(f.stream_id, 42);
    assert_int_equal(f.codec, 7);
    assert_int_equal(f.track, seq % 3);
    assert_true(payload_ok(rbuf, len, seq));
}

static void expect_rc(lc_ring_t *r, lc_ring_cursor_t *c, int want)
{
    lc_frame_t f;
    assert_int_equal(lc_ring_read(r, c, &f, rbuf, sizeof(rbuf)), want);
}

/* ---- tests ---- */

static void test_empty_read(void **state)
{
    (void)state;
    lc_ring_t *r = ring_new(SMALL_DATA);
    lc_ring_cursor_t a, b;

    lc_ring_cursor_init(r, &a, LC_RING_FROM_KEY);
    lc_ring_cursor_init(r, &b, LC_RING_FROM_NOW);
    expect_rc(r, &a, LC_RING_EMPTY);
    expect_rc(r, &b, LC_RING_EMPTY);
    expect_rc(r, &a, LC_RING_EMPTY);
    assert_int_equal(a.lapped, 0);
    assert_int_equal(b.lapped, 0);
    assert_int_equal(a.skipped + b.skipped, 0);
    free(r);
}

static void test_one_frame(void **state)
{
    (void)state;
    lc_ring_t *r = ring_new(SMALL_DATA);
    lc_ring_cursor_t c;
    lc_frame_t in = { .stream_id = 0xdeadbeef, .codec = 9, .flags = LC_FRAME_KEY | LC_FRAME_META,
                      .track = 2, .len = 1234, .ts = -1234567890123ll };
    lc_frame_t out;
    uint8_t payload[1234];

    for (size_t i = 0; i < sizeof(payload); i++)
        payload[i] = (uint8_t)(i * 7 + 3);
    lc_ring_cursor_init(r, &c, LC_RING_FROM_KEY);
    assert_int_equal(lc_ring_write(r, &in, payload), 0);
    assert_int_equal(atomic_load(&r->frames), 1);

    memset(&out, 0, sizeof(out));
    memset(rbuf, 0, sizeof(payload));
    assert_int_equal(lc_ring_read(r, &c, &out, rbuf, sizeof(payload)), LC_RING_OK); /* exact fit */
    assert_int_equal(out.stream_id, in.stream_id);
    assert_int_equal(out.codec, in.codec);
    assert_int_equal(out.flags, in.flags);
    assert_int_equal(out.track, in.track);
    assert_int_equal(out.len, in.len);
    assert_int_equal(out.ts, in.ts);
    assert_memory_equal(rbuf, payload, sizeof(payload));
    expect_rc(r, &c, LC_RING_EMPTY);

    /* an empty payload is a frame too (EOS carries none) */
    lc_frame_t eos = { .stream_id = 1, .flags = LC_FRAME_EOS, .len = 0, .ts = 5 };
    assert_int_equal(lc_ring_write(r, &eos, payload), 0);
    assert_int_equal(lc_ring_read(r, &c, &out, rbuf, 16), LC_RING_OK);
    assert_int_equal(out.flags, LC_FRAME_EOS);
    assert_int_equal(out.len, 0);
    assert_int_equal(out.ts, 5);
    expect_rc(r, &c, LC_RING_EMPTY);
    assert_int_equal(c.lapped, 0);
    free(r);
}

/* Write frames until the writer stands exactly `left` bytes before the end
 * of the data area, reading (and checking) everything as it goes. */
static void seek_left(lc_ring_t *r, lc_ring_cursor_t *c, uint32_t *seq, uint64_t left)
{
    uint64_t hdr = rec_hdr(r), cap = r->cap;
    for (int guard = 0; guard < 64; guard++) {
        uint64_t off = head_of(r) % cap;
        if (cap - off == left)
            return;
        uint64_t d = cap - off >= left ? cap - off - left : 0;
        uint64_t rec;
        if (d == 0 || d < hdr) {
            rec = cap / 4; /* cannot land exactly from here: go round */
        } else if (d <= cap / 4) {
            rec = d;
        } else {
            rec = cap / 4;
            if (d - rec < hdr)
                rec -= hdr;
        }
        uint32_t len = (uint32_t)(rec - hdr);
        assert_int_equal(put(r, *seq, len, 0), 0);
        expect_seq(r, c, *seq, len);
        (*seq)++;
    }
    fail_msg("could not reach %llu bytes before the end", (unsigned long long)left);
}

static void test_pad_every_short_size(void **state)
{
    (void)state;
    lc_ring_t *r = ring_new(SMALL_DATA);
    lc_ring_cursor_t c;
    uint32_t seq = 0;
    uint64_t hdr = rec_hdr(r);

    assert_true(hdr >= 16 && hdr % 8 == 0);
    lc_ring_cursor_init(r, &c, LC_RING_FROM_KEY);
    assert_int_equal(put(r, seq, 10, 1), 0);
    expect_seq(r, &c, seq++, 10);

    /* Every leftover smaller than, equal to and a bit larger than a record
     * header, then a frame that cannot fit there: it must go to offset 0. */
    for (uint64_t left = 8; left <= hdr + 24; left += 8) {
        seek_left(r, &c, &seq, left);
        uint64_t before = head_of(r);
        assert_int_equal(put(r, seq, 100, seq % 2), 0);
        uint64_t after = head_of(r);
        assert_int_equal(after - before, left + ((hdr + 100 + 7) & ~7ull)); /* PAD + record */
        assert_int_equal((after - before - left) % 8, 0);
        expect_seq(r, &c, seq++, 100);
        expect_rc(r, &c, LC_RING_EMPTY);
    }

    /* A zero-length frame fills a header-sized leftover exactly: no PAD. */
    seek_left(r, &c, &seq, hdr);
    uint64_t before = head_of(r);
    assert_int_equal(put(r, seq, 0, 0), 0);
    assert_int_equal(head_of(r) - before, hdr);
    assert_int_equal(head_of(r) % r->cap, 0);
    expect_seq(r, &c, seq++, 0);
    assert_int_equal(put(r, seq, 33, 0), 0);
    expect_seq(r, &c, seq++, 33);
    expect_rc(r, &c, LC_RING_EMPTY);
    assert_int_equal(c.lapped, 0);
    assert_int_equal(c.skipped, 0);
    free(r);
}

static void test_wrap_variable_sizes(void **state)
{
    (void)state;
    lc_ring_t *r = ring_new(SMALL_DATA);
    lc_ring_cursor_t c;
    uint32_t wseq = 0, rseq = 0, lens[4096];
    uint64_t rng = 12345;

    lc_ring_cursor_init(r, &c, LC_RING_FROM_KEY);
    /* Batches of random-size frames that together stay under half the ring,
     * then drain: the reader never falls a whole ring behind. */
    while (head_of(r) < 40 * r->cap) {
        uint64_t batch = 0;
        for (;;) {
            rng = mix(rng);
            uint32_t len = (uint32_t)(rng % 20000);
            if (rng % 7 == 0)
                len = (uint32_t)(rng % 64); /* many tiny ones so PADs of all sizes occur */
            if (batch + len + 64 > r->cap / 2)
                break;
            lens[wseq % 4096] = len;
            assert_int_equal(put(r, wseq, len, wseq % KEY_EVERY == 0), 0);
            wseq++;
            batch += len + 64;
            assert_true(wseq - rseq < 4096);
        }
        for (; rseq < wseq; rseq++)
            expect_seq(r, &c, rseq, lens[rseq % 4096]);
        expect_rc(r, &c, LC_RING_EMPTY);
    }
    assert_int_equal(c.lapped, 0);
    assert_int_equal(c.skipped, 0);
    assert_int_equal(atomic_load(&r->frames), wseq);
    free(r);
}

static void test_overrun_resyncs_at_newest_key(void **state)
{
    (void)state;
    lc_ring_t *r = ring_new(SMALL_DATA);
    lc_ring_cursor_t c;
    uint32_t seq = 0, last_key = UINT32_MAX;

    lc_ring_cursor_init(r, &c, LC_RING_FROM_KEY);
    assert_int_equal(put(r, seq, 3000, 1), 0);
    expect_seq(r, &c, seq++, 3000);

    /* Three rings' worth behind: the key every 10 frames (~50 KiB apart)
     * means the newest one is intact. */
    while (head_of(r) < 3 * r->cap) {
        int key = seq % 10 == 0;
        assert_int_equal(put(r, seq, 5000 + seq % 17, key), 0);
        if (key)
            last_key = seq;
        seq++;
    }
    assert_true(last_key != UINT32_MAX && seq - last_key > 1);

    expect_seq(r, &c, last_key, 5000 + last_key % 17);
    assert_int_equal(c.lapped, 1);
    for (uint32_t s = last_key + 1; s < seq; s++)
        expect_seq(r, &c, s, 5000 + s % 17);
    expect_rc(r, &c, LC_RING_EMPTY);
    assert_int_equal(c.lapped, 1);

    /* Lapped again, by exactly one ring plus a frame. */
    uint64_t start = head_of(r);
    while (head_of(r) < start + r->cap + 6000) {
        int key = seq % 10 == 0;
        assert_int_equal(put(r, seq, 5000 + seq % 17, key), 0);
        if (key)
            last_key = seq;
        seq++;
    }
    expect_seq(r, &c, last_key, 5000 + last_key % 17);
    assert_int_equal(c.lapped, 2);
    free(r);
}

static void test_overrun_key_gone_waits_for_next(void **state)
{
    (void)state;
    lc_ring_t *r = ring_new(SMALL_DATA);
    lc_ring_cursor_t c;
    uint32_t seq = 0;

    lc_ring_cursor_init(r, &c, LC_RING_FROM_KEY);
    assert_int_equal(put(r, seq++, 100, 1), 0);
    /* the only keyframe is overwritten by a ring and a half of deltas */
    while (head_of(r) < r->cap + r->cap / 2) {
        assert_int_equal(put(r, seq, 7000, 0), 0);
        seq++;
    }
    expect_rc(r, &c, LC_RING_EMPTY); /* nothing safe to start from */
    assert_int_equal(c.lapped, 1);
    assert_true(c.need_key);

    assert_int_equal(put(r, seq++, 50, 0), 0);
    assert_int_equal(put(r, seq++, 60, 0), 0);
    assert_int_equal(put(r, seq, 70, 1), 0);
    expect_seq(r, &c, seq++, 70);
    assert_int_equal(c.skipped, 2);
    assert_int_equal(put(r, seq, 80, 0), 0);
    expect_seq(r, &c, seq++, 80);
    expect_rc(r, &c, LC_RING_EMPTY);
    assert_int_equal(c.lapped, 1);
    free(r);
}

static void test_from_now_skips_to_next_key(void **state)
{
    (void)state;
    lc_ring_t *r = ring_new(SMALL_DATA);
    lc_ring_cursor_t c;

    assert_int_equal(put(r, 0, 500, 1), 0);
    assert_int_equal(put(r, 1, 500, 0), 0);
    assert_int_equal(put(r, 2, 500, 0), 0);
    lc_ring_cursor_init(r, &c, LC_RING_FROM_NOW);
    assert_true(c.need_key);
    expect_rc(r, &c, LC_RING_EMPTY); /* history is not replayed */

    assert_int_equal(put(r, 3, 500, 0), 0);
    assert_int_equal(put(r, 4, 500, 0), 0);
    expect_rc(r, &c, LC_RING_EMPTY); /* deltas without their key are skipped */
    assert_int_equal(c.skipped, 2);
    assert_int_equal(put(r, 5, 900, 1), 0);
    assert_int_equal(put(r, 6, 400, 0), 0);
    expect_seq(r, &c, 5, 900);
    assert_false(c.need_key);
    expect_seq(r, &c, 6, 400);
    expect_rc(r, &c, LC_RING_EMPTY);
    assert_int_equal(c.skipped, 2);
    assert_int_equal(c.lapped, 0);
    free(r);
}

static void test_from_key_starts_at_last_key(void **state)
{
    (void)state;
    lc_ring_t *r = ring_new(SMALL_DATA);
    lc_ring_cursor_t c, none;

    /* no keyframe yet: FROM_KEY behaves like FROM_NOW */
    assert_int_equal(put(r, 0, 300, 0), 0);
    lc_ring_cursor_init(r, &none, LC_RING_FROM_KEY);
    assert_true(none.need_key);
    expect_rc(r, &none, LC_RING_EMPTY);

    assert_int_equal(put(r, 1, 301, 1), 0);
    assert_int_equal(put(r, 2, 302, 0), 0);
    assert_int_equal(put(r, 3, 303, 1), 0);
    assert_int_equal(put(r, 4, 304, 0), 0);
    assert_int_equal(put(r, 5, 305, 0), 0);

    lc_ring_cursor_init(r, &c, LC_RING_FROM_KEY);
    expect_seq(r, &c, 3, 303);
    expect_seq(r, &c, 4, 304);
    expect_seq(r, &c, 5, 305);
    expect_rc(r, &c, LC_RING_EMPTY);
    assert_int_equal(c.lapped + c.skipped, 0);

    /* the early cursor got the first key written after it started */
    expect_seq(r, &none, 1, 301);
    expect_seq(r, &none, 2, 302);
    free(r);
}

static void test_config_slots(void **state)
{
    (void)state;
    lc_ring_t *r = ring_new(SMALL_DATA);
    lc_frame_t f, avc = { .stream_id = 1, .codec = 7, .flags = LC_FRAME_CONFIG, .track = 0, .len = 40 },
                  aac = { .stream_id = 1, .codec = 10, .flags = LC_FRAME_CONFIG, .track = 1, .len = 2 };
    uint8_t a[40], b[2] = { 0x12, 0x10 }, out[LC_RING_CONFIG_MAX];

    for (int i = 0; i < 40; i++)
        a[i] = (uint8_t)(0x40 + i);
    for (unsigned s = 0; s < LC_RING_CONFIG_SLOTS; s++)
        assert_int_equal(lc_ring_get_config(r, s, &f, out, sizeof(out)), 0);

    assert_int_equal(lc_ring_set_config(r, 0, &avc, a), 0);
    assert_int_equal(lc_ring_set_config(r, 1, &aac, b), 0);
    memset(&f, 0, sizeof(f));
    assert_int_equal(lc_ring_get_config(r, 0, &f, out, sizeof(out)), 40);
    assert_memory_equal(out, a, 40);
    assert_int_equal(f.codec, 7);
    assert_int_equal(f.flags, LC_FRAME_CONFIG);
    assert_int_equal(f.len, 40);
    assert_int_equal(lc_ring_get_config(r, 1, &f, out, 2), 2);
    assert_memory_equal(out, b, 2);
    assert_int_equal(f.codec, 10);
    assert_int_equal(f.track, 1);
    assert_int_equal(lc_ring_get_config(r, 2, &f, out, sizeof(out)), 0);

    /* replaced: a new sequence header wins */
    avc.len = 80;
    for (int i = 0; i < 80; i++)
        out[i] = (uint8_t)(0xf0 ^ i);
    memcpy(wbuf, out, 80);
    assert_int_equal(lc_ring_set_config(r, 0, &avc, wbuf), 0);
    memset(out, 0, 80);
    assert_int_equal(lc_ring_get_config(r, 0, &f, out, sizeof(out)), 80);
    assert_memory_equal(out, wbuf, 80);
    assert_int_equal(f.len, 80);

    /* the caller's buffer is too small: -1, nothing promised about out */
    assert_int_equal(lc_ring_get_config(r, 0, &f, out, 79), -1);

    /* too big for a slot, or no such slot: refused, the slot keeps its value */
    avc.len = LC_RING_CONFIG_MAX + 1;
    assert_int_equal(lc_ring_set_config(r, 0, &avc, wbuf), -1);
    assert_int_equal(lc_ring_get_config(r, 0, &f, out, sizeof(out)), 80);
    avc.len = 10;
    assert_int_equal(lc_ring_set_config(r, LC_RING_CONFIG_SLOTS, &avc, wbuf), -1);
    assert_int_equal(lc_ring_get_config(r, LC_RING_CONFIG_SLOTS, &f, out, sizeof(out)), 0);

    /* exactly the limit fits */
    avc.len = LC_RING_CONFIG_MAX;
    payload_make(wbuf, LC_RING_CONFIG_MAX, 77);
    assert_int_equal(lc_ring_set_config(r, 3, &avc, wbuf), 0);
    assert_int_equal(lc_ring_get_config(r, 3, &f, out, sizeof(out)), LC_RING_CONFIG_MAX);
    assert_true(payload_ok(out, LC_RING_CONFIG_MAX, 77));

    /* a new life forgets them */
    lc_ring_reset(r);
    for (unsigned s = 0; s < LC_RING_CONFIG_SLOTS; s++)
        assert_int_equal(lc_ring_get_config(r, s, &f, out, sizeof(out)), 0);
    free(r);
}

static void test_frame_too_big(void **state)
{
    (void)state;
    lc_ring_t *r = ring_new(SMALL_DATA);
    lc_ring_cursor_t c;
    uint32_t max = (uint32_t)lc_ring_max_frame(r);

    assert_true(max >= SMALL_DATA / 2 - 64 && max < r->cap / 2);
    lc_ring_cursor_init(r, &c, LC_RING_FROM_KEY);
    uint64_t h = head_of(r);
    assert_int_equal(put(r, 1, max + 1, 1), -1);
    lc_frame_t huge = { .flags = LC_FRAME_KEY, .len = UINT32_MAX };
    assert_int_equal(lc_ring_write(r, &huge, wbuf), -1); /* checked before any byte is read */
    assert_int_equal(head_of(r), h); /* nothing written */
    assert_int_equal(atomic_load(&r->frames), 0);
    expect_rc(r, &c, LC_RING_EMPTY);

    assert_int_equal(put(r, 3, max, 1), 0);
    expect_seq(r, &c, 3, max);
    /* two of the largest in a row wrap without losing either */
    assert_int_equal(put(r, 4, max, 0), 0);
    expect_seq(r, &c, 4, max);
    assert_int_equal(put(r, 5, max, 0), 0);
    expect_seq(r, &c, 5, max);
    assert_int_equal(c.lapped, 0);
    free(r);
}

static void test_e2big_skips_frame(void **state)
{
    (void)state;
    lc_ring_t *r = ring_new(SMALL_DATA);
    lc_ring_cursor_t c;
    lc_frame_t f;
    uint8_t small[500];

    lc_ring_cursor_init(r, &c, LC_RING_FROM_KEY);
    assert_int_equal(put(r, 0, 400, 1), 0);
    assert_int_equal(put(r, 1, 1000, 0), 0);
    assert_int_equal(put(r, 2, 10, 0), 0);

    assert_int_equal(lc_ring_read(r, &c, &f, small, sizeof(small)), LC_RING_OK);
    assert_int_equal(f.len, 400);
    assert_true(payload_ok(small, 400, 0));
    memset(small, 0x5a, sizeof(small));
    assert_int_equal(lc_ring_read(r, &c, &f, small, sizeof(small)), LC_RING_E2BIG);
    assert_int_equal(c.skipped, 1);
    for (size_t i = 0; i < sizeof(small); i++) /* the buffer was not overrun nor half-filled */
        assert_int_equal(small[i], 0x5a);
    assert_int_equal(lc_ring_read(r, &c, &f, small, sizeof(small)), LC_RING_OK);
    assert_int_equal(f.len, 10);
    assert_int_equal(f.ts, 2000);
    assert_true(payload_ok(small, 10, 2));
    assert_int_equal(lc_ring_read(r, &c, &f, small, sizeof(small)), LC_RING_EMPTY);
    assert_int_equal(c.lapped, 0);
    free(r);
}

static void test_close_ends_after_drain(void **state)
{
    (void)state;
    lc_ring_t *r = ring_new(SMALL_DATA);
    lc_ring_cursor_t c, idle;

    lc_ring_cursor_init(r, &c, LC_RING_FROM_KEY);
    assert_int_equal(put(r, 0, 100, 1), 0);
    assert_int_equal(put(r, 1, 200, 0), 0);
    assert_int_equal(put(r, 2, 300, 0), 0);
    lc_ring_cursor_init(r, &idle, LC_RING_FROM_NOW);
    lc_ring_close(r);

    expect_seq(r, &c, 0, 100); /* what was written before close is still delivered */
    expect_seq(r, &c, 1, 200);
    expect_seq(r, &c, 2, 300);
    expect_rc(r, &c, LC_RING_ENDED);
    expect_rc(r, &c, LC_RING_ENDED); /* and stays ended */
    expect_rc(r, &idle, LC_RING_ENDED);
    free(r);
}

static void test_reset_ends_old_cursors(void **state)
{
    (void)state;
    lc_ring_t *r = ring_new(SMALL_DATA);
    lc_ring_cursor_t old, fresh;

    lc_ring_cursor_init(r, &old, LC_RING_FROM_KEY);
    assert_int_equal(put(r, 0, 100, 1), 0);
    assert_int_equal(put(r, 1, 100, 0), 0);
    assert_int_equal(put(r, 2, 100, 0), 0);
    expect_seq(r, &old, 0, 100);
    uint64_t e = atomic_load(&r->epoch);
    uint64_t h = head_of(r);
    lc_ring_close(r);

    lc_ring_reset(r); /* reused for another stream */
    assert_int_equal(atomic_load(&r->epoch), e + 1);
    assert_true(head_of(r) > h); /* positions keep growing across lives */
    assert_int_equal(atomic_load(&r->frames), 0);
    expect_rc(r, &old, LC_RING_ENDED); /* unread frames of the old life are not handed out */

    lc_ring_cursor_init(r, &fresh, LC_RING_FROM_KEY);
    expect_rc(r, &fresh, LC_RING_EMPTY); /* not closed any more, and no old key */
    assert_int_equal(put(r, 100, 700, 1), 0);
    expect_rc(r, &old, LC_RING_ENDED);
    expect_seq(r, &fresh, 100, 700);
    expect_rc(r, &fresh, LC_RING_EMPTY);
    assert_int_equal(fresh.lapped, 0);
    free(r);
}

/*
 * A reader resyncing while the writer sits between its store of last_key and
 * its store of head (a keyframe that needed a PAD) gets pos > head and spins
 * in lc_ring_read, counting laps, until the writer moves on; for ever if the
 * writer was killed right there. The writer's pause is reproduced by putting
 * head back where it was during that window. Run in a child under alarm().
 */
static void test_resync_while_key_unpublished(void **state)
{
    (void)state;
    lc_ring_t *r = ring_new(SMALL_DATA);
    lc_ring_cursor_t c;
    uint32_t seq = 0;

    lc_ring_cursor_init(r, &c, LC_RING_FROM_KEY);
    assert_int_equal(put(r, seq, 10, 1), 0);
    expect_seq(r, &c, seq++, 10);
    seek_left(r, &c, &seq, 64);
    uint64_t h = head_of(r);
    assert_int_equal(put(r, seq, 100, 1), 0); /* PAD of 64, then the key at offset 0 */
    atomic_store(&r->head, h);                /* ...as seen before the head store */

    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        lc_ring_cursor_t late;
        lc_frame_t f;
        alarm(2);
        lc_ring_cursor_init(r, &late, LC_RING_FROM_KEY);
        int rc = lc_ring_read(r, &late, &f, rbuf, sizeof(rbuf));
        _exit(rc == LC_RING_EMPTY && late.lapped == 0 ? 0 : 1);
    }
    int st;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    if (WIFSIGNALED(st))
        print_error("reader spun in lc_ring_read until signal %d\n", WTERMSIG(st));
    assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    free(r);
}

/* ---- multi-process stress ---- */

#define STRESS_READERS 4
#define STRESS_SLEEPER 3
#define STRESS_WRITE_NS 1800000000ll
#define STRESS_READER_NS 4200000000ll /* a reader that sees no ENDED by then fails */
#define STRESS_TOTAL_NS 4700000000ll

typedef struct {
    _Atomic int started;
    _Atomic uint64_t frames, bytes, lapped, skipped, keys_after_lap;
    char why[200];
} stress_result_t;

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000ll + ts.tv_nsec;
}

static void nap_ns(long ns)
{
    struct timespec ts = { 0, ns };
    nanosleep(&ts, NULL);
}

enum { RD_OK = 0, RD_BAD_FRAME = 2, RD_BAD_SEQ = 3, RD_LOST = 4, RD_NO_KEY = 5, RD_TIMEOUT = 6,
       RD_BAD_RC = 7, RD_NOTHING = 8 };

/* One reader process. Returns its exit status; never touches cmocka. */
static int stress_reader(lc_ring_t *r, uint32_t stream_id, int index, stress_result_t *res, int64_t deadline)
{
    static uint8_t buf[MAX_LEN + 64];
    lc_ring_cursor_t c;
    lc_frame_t f;
    int64_t prev = -1;
    uint64_t laps_seen = 0;

    lc_ring_cursor_init(r, &c, LC_RING_FROM_KEY);
    atomic_store(&res->started, 1);
    for (uint64_t n = 0;; n++) {
        if (now_ns() > deadline) {
            snprintf(res->why, sizeof(res->why), "no ENDED before the deadline (pos %llu)",
                     (unsigned long long)c.pos);
            return RD_TIMEOUT;
        }
        int rc = lc_ring_read(r, &c, &f, buf, sizeof(buf));
        if (rc == LC_RING_EMPTY) {
            nap_ns(50000);
            continue;
        }
        if (rc == LC_RING_ENDED)
            break;
        if (rc != LC_RING_OK) {
            snprintf(res->why, sizeof(res->why), "lc_ring_read returned %d", rc);
            return RD_BAD_RC;
        }
        uint32_t seq = (uint32_t)f.ts;
        if (f.ts < 0 || f.ts > UINT32_MAX || f.stream_id != stream_id || f.len < 1 || f.len > MAX_LEN ||
            f.codec != 7 || f.track != seq % 3 || !!(f.flags & LC_FRAME_KEY) != (seq % KEY_EVERY == 0) ||
            !payload_ok(buf, f.len, seq)) {
            snprintf(res->why, sizeof(res->why), "torn or corrupt frame seq %u len %u flags %u", seq, f.len,
                     f.flags);
            return RD_BAD_FRAME;
        }
        if (prev < 0 || c.lapped != laps_seen) {
            /* the first frame of a reader, and the first after a lap, must be a key */
            if (!(f.flags & LC_FRAME_KEY)) {
                snprintf(res->why, sizeof(res->why), "frame %u after lap %llu is not a key", seq,
                         (unsigned long long)c.lapped);
                return RD_NO_KEY;
            }
            if (prev >= 0 && (int64_t)seq <= prev) {
                snprintf(res->why, sizeof(res->why), "seq went back from %lld to %u after a lap",
                         (long long)prev, seq);
                return RD_BAD_SEQ;
            }
            if (prev >= 0)
                atomic_fetch_add(&res->keys_after_lap, 1);
            laps_seen = c.lapped;
        } else if ((int64_t)seq != prev + 1) {
            /* no lap counted, so nothing may be missing */
            snprintf(res->why, sizeof(res->why), "seq %lld then %u without a lap", (long long)prev, seq);
            return seq > prev ? RD_LOST : RD_BAD_SEQ;
        }
        prev = seq;
        atomic_fetch_add_explicit(&res->frames, 1, memory_order_relaxed);
        atomic_fetch_add_explicit(&res->bytes, f.len, memory_order_relaxed);
        atomic_store_explicit(&res->lapped, c.lapped, memory_order_relaxed);
        atomic_store_explicit(&res->skipped, c.skipped, memory_order_relaxed);
        if (index == STRESS_SLEEPER && n % 64 == 63)
            nap_ns(20000000 + (long)(n % 5) * 3000000); /* fall a ring or more behind */
    }
    atomic_store(&res->lapped, c.lapped);
    atomic_store(&res->skipped, c.skipped);
    if (atomic_load(&res->frames) == 0) {
        snprintf(res->why, sizeof(res->why), "ENDED without a single frame");
        return RD_NOTHING;
    }
    return RD_OK;
}

/* Write for STRESS_WRITE_NS: paced most of each 100 ms, flat out for the
 * rest so every reader gets overwritten mid-copy. Returns frames written or
 * -1 if a write failed. */
static long stress_writer(lc_ring_t *r, uint32_t stream_id)
{
    static uint8_t buf[MAX_LEN];
    uint64_t rng = 0x1234abcd;
    int64_t t0 = now_ns(), paced_bytes = 0;
    uint32_t seq = 0;

    for (int64_t t = t0; t - t0 < STRESS_WRITE_NS; seq++) {
        rng = mix(rng);
        uint32_t len = 1 + (uint32_t)(rng % MAX_LEN);
        lc_frame_t f = { .stream_id = stream_id, .codec = 7, .track = (uint16_t)(seq % 3), .len = len,
                         .ts = seq, .flags = seq % KEY_EVERY == 0 ? LC_FRAME_KEY : 0 };
        payload_make(buf, len, seq);
        if (lc_ring_write(r, &f, buf) != 0)
            return -1;
        t = now_ns();
        if ((t - t0) % 100000000 < 85000000) {
            paced_bytes += len;
            if (paced_bytes > 256 * 1024) { /* ~100-200 MB/s while paced */
                paced_bytes = 0;
                nap_ns(1000000);
            }
        }
    }
    return seq;
}

static void test_multiprocess_stress(void **state)
{
    (void)state;
    int64_t t_start = now_ns();
    lc_shm_t *shm = lc_shm_create(16 << 20, 1 << 20, 16);
    assert_non_null(shm);
    uint32_t id;
    assert_int_equal(lc_stream_publish(shm, "stress/cam", 0, getpid(), &id), 0);
    lc_ring_t *r = lc_shm_ring(shm, (uint32_t)lc_shm_stream(shm, id)->ring);
    assert_true(lc_ring_max_frame(r) > MAX_LEN);

    stress_result_t *res = mmap(NULL, sizeof(stress_result_t) * STRESS_READERS, PROT_READ | PROT_WRITE,
                                MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    assert_true(res != MAP_FAILED);
    memset(res, 0, sizeof(stress_result_t) * STRESS_READERS);

    pid_t pids[STRESS_READERS];
    int status[STRESS_READERS];
    int nchild = 0, failed = 0;
    fflush(NULL);
    for (int i = 0; i < STRESS_READERS; i++) {
        pid_t pid = fork();
        if (pid == 0)
            _exit(stress_reader(r, id, i, &res[i], t_start + STRESS_READER_NS));
        if (pid < 0) {
            failed = 1;
            break;
        }
        pids[nchild++] = pid;
        status[i] = -1;
    }
    /* every reader has its cursor before the first frame */
    while (!failed) {
        int ready = 0;
        for (int i = 0; i < nchild; i++)
            ready += atomic_load(&res[i].started);
        if (ready == nchild)
            break;
        if (now_ns() - t_start > 1000000000ll)
            failed = 1;
        nap_ns(1000000);
    }

    long written = failed ? 0 : stress_writer(r, id);
    lc_stream_unpublish(shm, id); /* close: readers drain and see ENDED */

    /* Reap with a deadline; whoever is still running then is killed. */
    int left = nchild;
    while (left > 0) {
        for (int i = 0; i < nchild; i++) {
            if (status[i] != -1)
                continue;
            int st;
            pid_t w = waitpid(pids[i], &st, WNOHANG);
            if (w == pids[i]) {
                status[i] = st;
                left--;
            }
        }
        if (left > 0 && now_ns() - t_start > STRESS_TOTAL_NS) {
            for (int i = 0; i < nchild; i++) {
                if (status[i] == -1) {
                    kill(pids[i], SIGKILL);
                    waitpid(pids[i], &status[i], 0);
                    left--;
                }
            }
            failed = 1;
        }
        if (left > 0)
            nap_ns(2000000);
    }

    uint64_t laps = 0;
    for (int i = 0; i < nchild; i++) {
        int ok = WIFEXITED(status[i]) && WEXITSTATUS(status[i]) == 0;
        if (!ok)
            print_error("reader %d: %s %d: %s\n", i, WIFEXITED(status[i]) ? "exit" : "signal",
                        WIFEXITED(status[i]) ? WEXITSTATUS(status[i]) : WTERMSIG(status[i]), res[i].why);
        failed |= !ok;
        laps += res[i].lapped;
    }
    print_message("stress: %ld frames written in %.2f s; per reader frames/lapped/keys-after-lap:", written,
                  (double)(now_ns() - t_start) / 1e9);
    for (int i = 0; i < nchild; i++)
        print_message(" %llu/%llu/%llu", (unsigned long long)res[i].frames, (unsigned long long)res[i].lapped,
                      (unsigned long long)res[i].keys_after_lap);
    print_message("\n");

    uint64_t sleeper_laps = res[STRESS_SLEEPER].lapped;
    munmap(res, sizeof(stress_result_t) * STRESS_READERS);
    lc_shm_destroy(shm);
    assert_int_equal(nchild, STRESS_READERS);
    assert_false(failed);
    assert_true(written > 1000);
    assert_true(laps >= 1);
    assert_true(sleeper_laps >= 1);
    assert_true(now_ns() - t_start < 5000000000ll);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_empty_read),
        cmocka_unit_test(test_one_frame),
        cmocka_unit_test(test_pad_every_short_size),
        cmocka_unit_test(test_wrap_variable_sizes),
        cmocka_unit_test(test_overrun_resyncs_at_newest_key),
        cmocka_unit_test(test_overrun_key_gone_waits_for_next),
        cmocka_unit_test(test_from_now_skips_to_next_key),
        cmocka_unit_test(test_from_key_starts_at_last_key),
        cmocka_unit_test(test_config_slots),
        cmocka_unit_test(test_frame_too_big),
        cmocka_unit_test(test_e2big_skips_frame),
        cmocka_unit_test(test_close_ends_after_drain),
        cmocka_unit_test(test_reset_ends_old_cursors),
        cmocka_unit_test(test_resync_while_key_unpublished),
        cmocka_unit_test(test_multiprocess_stress),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
