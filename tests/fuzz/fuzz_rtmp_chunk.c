/*
 * fuzz_rtmp_chunk.c: libFuzzer target for src/common/rtmp/rtmp_chunk.c.
 *
 * Input: byte 0 picks how the rest is split (byte by byte, fixed pieces,
 * pseudo-random pieces, whole), the max_message limit and the chunk size
 * of the write-back; byte 1 seeds the split; the rest is a chunk stream as
 * a peer would send it. Invariants checked besides "no sanitizer report":
 *   - the messages and the error (if any) do not depend on the split;
 *   - a call that completes no message has consumed all its input;
 *   - every message is within max_message;
 *   - every non-control message, written back by lc_rtmp_chunk_write() at
 *     the chosen chunk size, reads back identical, in no more bytes than
 *     lc_rtmp_chunk_size_of() said.
 * Every returned payload is freed (LeakSanitizer checks the reader's own).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/rtmp/rtmp_chunk.h"

#define CHECK(x) do { if (!(x)) abort(); } while (0)

typedef struct {
    lc_rtmp_msg_t *m;
    size_t n, cap;
    const char *err;        /* NULL: no error */
} run_t;

static void run_free(run_t *r)
{
    for (size_t i = 0; i < r->n; i++)
        free(r->m[i].payload);
    free(r->m);
    memset(r, 0, sizeof *r);
}

static void run_add(run_t *r, const lc_rtmp_msg_t *m)
{
    if (r->n == r->cap) {
        r->cap = r->cap ? r->cap * 2 : 16;
        r->m = realloc(r->m, r->cap * sizeof *r->m);
        CHECK(r->m != NULL);
    }
    r->m[r->n++] = *m;
}

/* Feed one piece; returns -1 once the reader has failed. */
static int feed_piece(lc_rtmp_chunk_reader_t *rd, const uint8_t *p, size_t len, uint32_t max, run_t *out)
{
    size_t off = 0;
    int got;

    do {
        lc_rtmp_msg_t m;
        const char *err = NULL;
        long rc = lc_rtmp_chunk_feed(rd, p + off, len - off, &m, &got, &err);

        if (rc < 0) {
            CHECK(err != NULL);
            out->err = err;
            return -1;
        }
        CHECK((size_t)rc <= len - off);
        off += (size_t)rc;
        if (got) {
            CHECK(m.len <= max && m.payload != NULL);
            CHECK(m.csid >= 2 && m.csid <= 65599);
            if (m.type == LC_RTMP_SET_CHUNK_SIZE) {
                CHECK(m.len >= 4);
                CHECK(lc_rtmp_chunk_reader_chunk_size(rd) >= 1);
                CHECK(lc_rtmp_chunk_reader_chunk_size(rd) <= LC_RTMP_MAX_CHUNK_ACCEPTED);
            }
            run_add(out, &m);
        } else {
            CHECK(off == len);
        }
    } while (got || off < len);
    return 0;
}

static void read_split(const uint8_t *p, size_t len, uint32_t max, int mode, uint32_t seed, run_t *out)
{
    lc_rtmp_chunk_reader_t *rd = lc_rtmp_chunk_reader_new(max);
    size_t off = 0;

    CHECK(rd != NULL);
    while (off < len) {
        size_t n;

        switch (mode) {
        case 0: n = 1; break;
        case 1: n = 1 + seed % 64; break;
        case 2: seed = seed * 1103515245u + 12345u; n = 1 + (seed >> 16) % 200; break;
        default: n = len - off; break;
        }
        if (n > len - off)
            n = len - off;
        if (feed_piece(rd, p + off, n, max, out) < 0)
            break;
        off += n;
    }
    /* once failed, it stays failed */
    if (out->err != NULL) {
        lc_rtmp_msg_t m;
        int got;
        const char *err = NULL;
        CHECK(lc_rtmp_chunk_feed(rd, (const uint8_t *)"\x03", 1, &m, &got, &err) == -1 && err == out->err);
    }
    lc_rtmp_chunk_reader_free(rd);
}

static int same_msg(const lc_rtmp_msg_t *a, const lc_rtmp_msg_t *b)
{
    return a->csid == b->csid && a->type == b->type && a->timestamp == b->timestamp
        && a->stream_id == b->stream_id && a->len == b->len
        && memcmp(a->payload, b->payload, a->len) == 0;
}

static void append(uint8_t **buf, size_t *len, size_t *cap, size_t need)
{
    if (*cap - *len < need) {
        while (*cap - *len < need)
            *cap = *cap ? *cap * 2 : 4096;
        *buf = realloc(*buf, *cap);
        CHECK(*buf != NULL);
    }
}

/* Write the non-control messages back and read them again. */
static void write_back(const run_t *src, uint32_t max, uint32_t chunk)
{
    uint8_t *buf = NULL;
    size_t len = 0, cap = 0;
    size_t want = 0;
    run_t back = { 0 };
    int scs = 0;

    for (size_t i = 0; i < src->n; i++) {
        const lc_rtmp_msg_t *m = &src->m[i];
        size_t bound, n;

        if (m->type == LC_RTMP_SET_CHUNK_SIZE || m->type == LC_RTMP_ABORT)
            continue;
        if (!scs && chunk != LC_RTMP_DEFAULT_CHUNK) {
            /* on a csid already in use, so the reader's csid limit holds */
            uint8_t p[4] = { (uint8_t)(chunk >> 24), (uint8_t)(chunk >> 16), (uint8_t)(chunk >> 8),
                             (uint8_t)chunk };
            append(&buf, &len, &cap, lc_rtmp_chunk_size_of(4, LC_RTMP_DEFAULT_CHUNK, 0));
            len += lc_rtmp_chunk_write(buf + len, m->csid, LC_RTMP_SET_CHUNK_SIZE, 0, 0, p, 4,
                                       LC_RTMP_DEFAULT_CHUNK);
        }
        scs = 1;
        bound = lc_rtmp_chunk_size_of(m->len, chunk, m->timestamp);
        append(&buf, &len, &cap, bound);
        n = lc_rtmp_chunk_write(buf + len, m->csid, m->type, m->timestamp, m->stream_id, m->payload,
                                m->len, chunk);
        CHECK(n > 0 && n <= bound);
        len += n;
        want++;
    }
    if (want == 0) {
        free(buf);
        return;
    }
    /* the Set Chunk Size we add is 4 bytes, whatever max the input chose */
    read_split(buf, len, max < 4 ? 4 : max, 3, 0, &back);
    CHECK(back.err == NULL);
    CHECK(back.n == want + (chunk != LC_RTMP_DEFAULT_CHUNK));
    size_t k = 0;
    for (size_t i = 0; i < back.n; i++) {
        if (back.m[i].type == LC_RTMP_SET_CHUNK_SIZE && i == 0 && chunk != LC_RTMP_DEFAULT_CHUNK)
            continue;
        while (src->m[k].type == LC_RTMP_SET_CHUNK_SIZE || src->m[k].type == LC_RTMP_ABORT)
            k++;
        CHECK(same_msg(&back.m[i], &src->m[k]));
        k++;
    }
    run_free(&back);
    free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const uint32_t maxes[4] = { 0, 64, 1000, 1 << 16 };
    static const uint32_t chunks[4] = { 128, 1, 7, 4096 };
    run_t whole = { 0 }, split = { 0 };
    uint32_t max;

    if (size < 2)
        return 0;
    max = maxes[(data[0] >> 2) & 3];
    read_split(data + 2, size - 2, max, 3, 0, &whole);
    read_split(data + 2, size - 2, max, data[0] & 3, data[1], &split);

    CHECK(whole.n == split.n);
    CHECK(whole.err == split.err);      /* the same static reason string */
    for (size_t i = 0; i < whole.n; i++)
        CHECK(same_msg(&whole.m[i], &split.m[i]));

    write_back(&whole, max, chunks[(data[0] >> 4) & 3]);
    run_free(&whole);
    run_free(&split);
    return 0;
}
