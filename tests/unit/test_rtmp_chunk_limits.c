/*
 * test_rtmp_chunk_limits.c: the memory limits of the RTMP chunk reader
 * (security review #5, rtmp_chunk.h): partial messages in flight, bytes
 * held per connection (2 x max_message) and per worker (a shared budget).
 *
 * Streams are written by hand so that messages stay partial: a fmt 0
 * header announcing a length, then fewer payload bytes than that.
 * Checked: each limit trips at the byte that crosses it, whatever the split
 * of the input; what a reader holds goes back (to the budget too) when a
 * message completes, is aborted, or the reader fails or is freed; a
 * publisher's stream (a large keyframe between audio frames) never trips.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/rtmp/rtmp_chunk.h"

typedef struct { uint8_t *p; size_t len; } bytes_t;

static void put(bytes_t *b, const void *p, size_t n)
{
    b->p = realloc(b->p, b->len + n + 1);
    assert_non_null(b->p);
    memcpy(b->p + b->len, p, n);
    b->len += n;
}

static void put_byte(bytes_t *b, uint8_t v)
{
    put(b, &v, 1);
}

static void fmt0(bytes_t *b, uint8_t csid, uint8_t type, uint32_t len)
{
    uint8_t h[12] = { csid, 0, 0, 0, (uint8_t)(len >> 16), (uint8_t)(len >> 8), (uint8_t)len, type, 1, 0, 0, 0 };
    put(b, h, sizeof h);
}

/* k payload bytes of a message of len on csid (k < len leaves it partial:
 * then k is whole chunks, or the reader would take what follows as payload). */
static void message(bytes_t *b, uint8_t csid, uint8_t type, uint32_t len, uint32_t k, uint32_t chunk)
{
    uint8_t *fill = malloc(chunk);

    assert_true(k == len || k % chunk == 0);
    assert_non_null(fill);
    memset(fill, 0x17, chunk);
    fmt0(b, csid, type, len);
    for (uint32_t off = 0; off < k;) {
        uint32_t n = k - off < chunk ? k - off : chunk;

        if (off > 0)
            put_byte(b, 0xc0 | csid);
        put(b, fill, n);
        off += n;
    }
    free(fill);
}

static void set_chunk(bytes_t *b, uint32_t size)
{
    uint8_t v[4] = { (uint8_t)(size >> 24), (uint8_t)(size >> 16), (uint8_t)(size >> 8), (uint8_t)size };

    fmt0(b, 2, LC_RTMP_SET_CHUNK_SIZE, 4);
    put(b, v, 4);
}

/* Feed in pieces of `piece` bytes (0: whole); messages are counted and
 * freed. Returns -1 at an error (*err). */
static int feed(lc_rtmp_chunk_reader_t *r, const bytes_t *b, size_t piece, int *msgs, const char **err)
{
    size_t off = 0;

    *err = NULL;
    while (off < b->len) {
        size_t len = piece == 0 || b->len - off < piece ? b->len - off : piece;
        size_t used = 0;
        int got;

        do {
            lc_rtmp_msg_t m;
            long rc = lc_rtmp_chunk_feed(r, b->p + off + used, len - used, &m, &got, err);

            if (rc < 0)
                return -1;
            used += (size_t)rc;
            if (got) {
                free(m.payload);
                (*msgs)++;
            }
        } while (got || used < len);
        off += len;
    }
    return 0;
}

#define MAXMSG (64u << 10)   /* small limits keep byte-by-byte feeding fast */

static void test_per_connection(void **state)
{
    static const size_t pieces[] = { 0, 1, 777, 4096 };
    (void)state;

    for (size_t i = 0; i < sizeof pieces / sizeof pieces[0]; i++) {
        lc_rtmp_chunk_reader_t *r = lc_rtmp_chunk_reader_new(MAXMSG);
        bytes_t b = { 0 };
        const char *err;
        int msgs = 0;

        set_chunk(&b, 1);   /* a chunk a byte: partials of any length */
        /* two partials of max_message - 1 bytes: 2 x max_message - 2 held */
        message(&b, 3, LC_RTMP_VIDEO, MAXMSG, MAXMSG - 1, 1);
        message(&b, 4, LC_RTMP_VIDEO, MAXMSG, MAXMSG - 1, 1);
        assert_int_equal(feed(r, &b, pieces[i], &msgs, &err), 0);
        assert_int_equal(msgs, 1);      /* Set Chunk Size */
        assert_int_equal(lc_rtmp_chunk_reader_held(r), 2 * MAXMSG - 2);
        /* two more bytes fit exactly; the third crosses */
        free(b.p);
        b = (bytes_t){ 0 };
        message(&b, 5, LC_RTMP_AUDIO, 100, 2, 1);
        assert_int_equal(feed(r, &b, pieces[i], &msgs, &err), 0);
        assert_int_equal(lc_rtmp_chunk_reader_held(r), 2 * MAXMSG);
        free(b.p);
        b = (bytes_t){ 0 };
        put_byte(&b, 0xc0 | 5);
        put_byte(&b, 0x42);
        assert_int_equal(feed(r, &b, pieces[i], &msgs, &err), -1);
        assert_non_null(strstr(err, "connection's limit"));
        assert_int_equal(lc_rtmp_chunk_reader_held(r), 0);   /* a failed reader lets go at once */
        free(b.p);
        lc_rtmp_chunk_reader_free(r);
    }
}

/* The review's repro, scaled: many chunk streams each announcing the
 * largest message and sending most of it. */
static void test_many_csids(void **state)
{
    lc_rtmp_chunk_reader_t *r = lc_rtmp_chunk_reader_new(MAXMSG);
    bytes_t b = { 0 };
    const char *err;
    int msgs = 0;
    (void)state;

    set_chunk(&b, 16384);
    for (uint8_t csid = 3; csid < 63; csid++)
        message(&b, csid, LC_RTMP_VIDEO, MAXMSG, MAXMSG - 16384, 16384);
    assert_int_equal(feed(r, &b, 0, &msgs, &err), -1);
    assert_non_null(strstr(err, "limit"));
    free(b.p);
    lc_rtmp_chunk_reader_free(r);
}

static void test_in_flight(void **state)
{
    lc_rtmp_chunk_reader_t *r = lc_rtmp_chunk_reader_new(MAXMSG);
    bytes_t b = { 0 };
    const char *err;
    int msgs = 0;
    (void)state;

    for (uint8_t csid = 3; csid < 3 + LC_RTMP_MAX_PARTIAL; csid++)
        message(&b, csid, LC_RTMP_AUDIO, 300, 128, 128);
    assert_int_equal(feed(r, &b, 1, &msgs, &err), 0);
    assert_int_equal(lc_rtmp_chunk_reader_held(r), 128 * LC_RTMP_MAX_PARTIAL);
    /* finishing one makes room for another */
    free(b.p);
    b = (bytes_t){ 0 };
    put_byte(&b, 0xc0 | 3);
    for (int i = 0; i < 128; i++)
        put_byte(&b, 0);
    put_byte(&b, 0xc0 | 3);
    for (int i = 0; i < 44; i++)
        put_byte(&b, 0);
    message(&b, 40, LC_RTMP_AUDIO, 300, 128, 128);
    assert_int_equal(feed(r, &b, 0, &msgs, &err), 0);
    assert_int_equal(msgs, 1);
    /* one more header starting a message is one too many */
    free(b.p);
    b = (bytes_t){ 0 };
    message(&b, 41, LC_RTMP_AUDIO, 300, 0, 128);
    assert_int_equal(feed(r, &b, 0, &msgs, &err), -1);
    assert_non_null(strstr(err, "too many partial messages"));
    free(b.p);
    lc_rtmp_chunk_reader_free(r);
}

static void test_budget(void **state)
{
    lc_rtmp_chunk_budget_t budget = { 0, 3 * MAXMSG / 2 };
    lc_rtmp_chunk_reader_t *a = lc_rtmp_chunk_reader_new(MAXMSG), *c;
    lc_rtmp_chunk_reader_t *b2 = lc_rtmp_chunk_reader_new(MAXMSG);
    bytes_t b = { 0 };
    const char *err;
    int msgs = 0;
    (void)state;

    lc_rtmp_chunk_reader_set_budget(a, &budget);
    lc_rtmp_chunk_reader_set_budget(b2, &budget);
    message(&b, 3, LC_RTMP_VIDEO, MAXMSG, MAXMSG - 128, 128);
    assert_int_equal(feed(a, &b, 0, &msgs, &err), 0);
    assert_int_equal(budget.used, MAXMSG - 128);
    /* b2 is under its own limit but the worker's is reached */
    assert_int_equal(feed(b2, &b, 0, &msgs, &err), -1);
    assert_non_null(strstr(err, "worker's limit"));
    assert_int_equal(budget.used, MAXMSG - 128);   /* b2 gave back what it had */
    lc_rtmp_chunk_reader_free(b2);
    /* a completes its message: the bytes leave the budget with it */
    free(b.p);
    b = (bytes_t){ 0 };
    put_byte(&b, 0xc3);
    for (int i = 0; i < 128; i++)
        put_byte(&b, 0);
    assert_int_equal(feed(a, &b, 0, &msgs, &err), 0);
    assert_int_equal(msgs, 1);
    assert_int_equal(budget.used, 0);
    /* a partial again; freeing the reader returns it */
    free(b.p);
    b = (bytes_t){ 0 };
    message(&b, 3, LC_RTMP_VIDEO, MAXMSG, 1024, 128);
    assert_int_equal(feed(a, &b, 0, &msgs, &err), 0);
    assert_int_equal(budget.used, 1024);
    lc_rtmp_chunk_reader_free(a);
    assert_int_equal(budget.used, 0);
    /* room again for a new connection */
    c = lc_rtmp_chunk_reader_new(MAXMSG);
    lc_rtmp_chunk_reader_set_budget(c, &budget);
    free(b.p);
    b = (bytes_t){ 0 };
    message(&b, 3, LC_RTMP_VIDEO, MAXMSG, MAXMSG, 128);
    assert_int_equal(feed(c, &b, 0, &msgs, &err), 0);
    assert_int_equal(budget.used, 0);
    lc_rtmp_chunk_reader_free(c);
    free(b.p);
}

static void test_abort_releases(void **state)
{
    lc_rtmp_chunk_budget_t budget = { 0, MAXMSG };
    lc_rtmp_chunk_reader_t *r = lc_rtmp_chunk_reader_new(MAXMSG);
    bytes_t b = { 0 };
    const char *err;
    int msgs = 0;
    uint8_t csid[4] = { 0, 0, 0, 6 };
    (void)state;

    lc_rtmp_chunk_reader_set_budget(r, &budget);
    message(&b, 6, LC_RTMP_VIDEO, 5000, 2944, 128);
    assert_int_equal(feed(r, &b, 0, &msgs, &err), 0);
    assert_int_equal(budget.used, 2944);
    free(b.p);
    b = (bytes_t){ 0 };
    fmt0(&b, 2, LC_RTMP_ABORT, 4);
    put(&b, csid, 4);
    assert_int_equal(feed(r, &b, 0, &msgs, &err), 0);
    assert_int_equal(lc_rtmp_chunk_reader_held(r), 0);
    assert_int_equal(budget.used, 0);
    free(b.p);
    lc_rtmp_chunk_reader_free(r);
}

/* What an encoder sends: a keyframe of most of max_message in 4 KiB chunks
 * with audio frames completing between its chunks, over and over. */
static void test_encoder_unaffected(void **state)
{
    lc_rtmp_chunk_budget_t budget = { 0, 2 * MAXMSG };
    lc_rtmp_chunk_reader_t *r = lc_rtmp_chunk_reader_new(MAXMSG);
    bytes_t b = { 0 };
    const char *err;
    int msgs = 0;
    uint8_t fill[4096];
    (void)state;

    memset(fill, 1, sizeof fill);
    lc_rtmp_chunk_reader_set_budget(r, &budget);
    set_chunk(&b, 4096);
    for (int gop = 0; gop < 20; gop++) {
        uint32_t len = MAXMSG - 100;

        fmt0(&b, 6, LC_RTMP_VIDEO, len);
        for (uint32_t off = 0; off < len; off += 4096) {
            if (off > 0)
                put_byte(&b, 0xc6);
            put(&b, fill, len - off < 4096 ? len - off : 4096);
            message(&b, 4, LC_RTMP_AUDIO, 200, 200, 4096);
        }
    }
    assert_int_equal(feed(r, &b, 1000, &msgs, &err), 0);
    assert_true(msgs > 20);
    assert_int_equal(budget.used, 0);
    free(b.p);
    lc_rtmp_chunk_reader_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_per_connection),
        cmocka_unit_test(test_many_csids),
        cmocka_unit_test(test_in_flight),
        cmocka_unit_test(test_budget),
        cmocka_unit_test(test_abort_releases),
        cmocka_unit_test(test_encoder_unaffected),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
