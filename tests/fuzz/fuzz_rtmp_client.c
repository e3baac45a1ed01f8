/*
 * fuzz_rtmp_client.c: libFuzzer target for src/common/rtmp/rtmp_client.c,
 * the publish client, fed arbitrary server bytes.
 *
 * Input: byte 0 holds flags: bit 0, a valid S0S1S2 goes before the rest
 * (so the fuzzer need not find one); bits 1-2, how the rest is split
 * (whole, byte by byte, fixed pieces, pseudo-random pieces); bit 3, a
 * small max_message; bit 4, a small max_output; bit 5, unpublish once
 * publishing. Byte 1 seeds the split. The rest: what the server sends.
 * Invariants checked besides "no sanitizer report":
 *   - -1 exactly with ERROR; no more consumed than given; NONE means all
 *     of it; after REFUSED, CLOSED or ERROR no other event;
 *   - the events (types, the server's words, the error) do not depend on
 *     the split;
 *   - everything the client sends reads back as RTMP: C0C1, C2, then chunks
 *     whose commands parse and whose media are byte for byte the frames
 *     given to lc_rtmp_client_send() once PUBLISHING was reported;
 *   - what waits to be sent stays within max_output, the control slack and
 *     the frames queued below the limit.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/rtmp/rtmp_chunk.h"
#include "common/rtmp/rtmp_client.h"
#include "common/rtmp/rtmp_cmd.h"
#include "common/rtmp/rtmp_handshake.h"

#define CHECK(x) do { if (!(x)) abort(); } while (0)
#define HS LC_RTMP_HANDSHAKE_SIZE
#define MAX_EVS 8
#define SLACK (64u << 10)

typedef struct {
    lc_rtmp_client_event_t ev[MAX_EVS];
    char error[MAX_EVS][256];       /* ev[i].error points into the client */
    int n;
    int ended;
} evlog_t;

/* The frames sent once publishing, in order: what the checker expects. */
typedef struct {
    uint8_t type;
    uint32_t ts;
    const uint8_t *body;
    uint32_t len;
} frame_t;

static uint8_t video[5000];
static const uint8_t audio[] = { 0xaf, 0x01, 0x21, 0x10, 0x04 };
static const uint8_t meta[] = { 2, 0, 10, 'o', 'n', 'M', 'e', 't', 'a', 'D', 'a', 't', 'a', 8, 0, 0, 0, 0, 0, 0, 9 };

typedef struct {
    lc_rtmp_client_t *c;
    lc_rtmp_chunk_reader_t *rd;     /* reads the client's output */
    uint64_t out_seen;              /* client bytes read so far (C0C1 and C2 skipped) */
    frame_t want[8];
    int nwant, next_want;
    int unpublish;
    size_t max_output;
} run_t;

static void check_output(run_t *r)
{
    size_t len, off = 0;
    const uint8_t *p = lc_rtmp_client_pending(r->c, &len);

    CHECK((p == NULL) == (len == 0));
    /* bound: the limit, the slack, and what sends below the limit added */
    CHECK(len <= r->max_output + SLACK + 2 * sizeof video + 4096);
    while (off < len) {
        if (r->out_seen < 1 + 2 * HS) {
            size_t skip = 1 + 2 * HS - r->out_seen;

            if (skip > len - off)
                skip = len - off;
            if (r->out_seen == 0)
                CHECK(p[off] == 3);
            r->out_seen += skip;
            off += skip;
            continue;
        }
        lc_rtmp_msg_t m;
        int got;
        const char *err = NULL;
        long n = lc_rtmp_chunk_feed(r->rd, p + off, len - off, &m, &got, &err);

        CHECK(n >= 0);
        off += (size_t)n;
        r->out_seen += (uint64_t)n;
        if (!got)
            continue;
        switch (m.type) {
        case LC_RTMP_SET_CHUNK_SIZE:
        case LC_RTMP_ACK:
            CHECK(m.len == 4);
            break;
        case LC_RTMP_USER_CONTROL:
            CHECK(m.len == 6 && m.payload[0] == 0 && m.payload[1] == 7);
            break;
        case LC_RTMP_COMMAND_AMF0: {
            lc_rtmp_cmd_t cmd;

            CHECK(lc_rtmp_cmd_parse(m.type, m.payload, m.len, &cmd, &err) == 0);
            lc_rtmp_cmd_free(&cmd);
            break;
        }
        case LC_RTMP_AUDIO:
        case LC_RTMP_VIDEO:
        case LC_RTMP_DATA_AMF0: {
            const frame_t *f;

            CHECK(r->next_want < r->nwant);
            f = &r->want[r->next_want++];
            CHECK(m.type == f->type && m.timestamp == f->ts);
            if (f->body == meta) {      /* sent with @setDataFrame in front */
                CHECK(m.len == 16 + f->len && memcmp(m.payload + 16, meta, f->len) == 0);
            } else {
                CHECK(m.len == f->len && memcmp(m.payload, f->body, f->len) == 0);
            }
            break;
        }
        default:
            abort();
        }
        free(m.payload);
    }
    lc_rtmp_client_consumed(r->c, len);
}

static void send_frames(run_t *r)
{
    static const frame_t frames[] = {
        { LC_RTMP_DATA_AMF0, 0, meta, sizeof meta },
        { LC_RTMP_AUDIO, 0, audio, sizeof audio },
        { LC_RTMP_VIDEO, 40, video, sizeof video },
        { LC_RTMP_VIDEO, 0x01000000, video, 300 },
    };

    for (size_t i = 0; i < sizeof frames / sizeof frames[0]; i++) {
        const char *err = NULL;
        int rc = lc_rtmp_client_send(r->c, frames[i].type, frames[i].ts, frames[i].body, frames[i].len, &err);

        CHECK(rc == 0 || rc == 1);
        if (rc == 0) {
            CHECK(r->nwant < 8);
            r->want[r->nwant++] = frames[i];
        }
    }
    if (r->unpublish)
        CHECK(lc_rtmp_client_unpublish(r->c, NULL) == 0);
}

static void record(run_t *r, evlog_t *log, const lc_rtmp_client_event_t *ev)
{
    CHECK(!log->ended || ev->type == LC_RTMP_CLIENT_ERROR);
    CHECK(log->n < MAX_EVS);
    if (ev->error != NULL) {
        CHECK(strlen(ev->error) < sizeof log->error[0]);
        strcpy(log->error[log->n], ev->error);
    }
    log->ev[log->n++] = *ev;
    if (ev->type == LC_RTMP_CLIENT_PUBLISHING)
        send_frames(r);
    if (ev->type != LC_RTMP_CLIENT_PUBLISHING)
        log->ended = 1;
    if (ev->type == LC_RTMP_CLIENT_REFUSED || ev->type == LC_RTMP_CLIENT_CLOSED) {
        CHECK(ev->call != NULL);
        CHECK(memchr(ev->code, 0, sizeof ev->code) != NULL);
        CHECK(memchr(ev->description, 0, sizeof ev->description) != NULL);
        for (const char *s = ev->description; *s; s++)
            CHECK((unsigned char)*s >= 0x20 && *s != 0x7f);
    }
}

/* Returns -1 once the client failed. */
static int feed(run_t *r, evlog_t *log, const uint8_t *p, size_t len)
{
    size_t off = 0;

    while (off < len || len == 0) {
        lc_rtmp_client_event_t ev;
        long rc = lc_rtmp_client_input(r->c, p + off, len - off, &ev);

        check_output(r);
        if (rc < 0) {
            CHECK(ev.type == LC_RTMP_CLIENT_ERROR && ev.error != NULL && ev.error[0] != '\0');
            record(r, log, &ev);
            return -1;
        }
        CHECK(ev.type != LC_RTMP_CLIENT_ERROR);
        CHECK((size_t)rc <= len - off);
        off += (size_t)rc;
        if (ev.type == LC_RTMP_CLIENT_NONE) {
            CHECK(off == len);
            break;
        }
        record(r, log, &ev);
    }
    return 0;
}

static void run(const uint8_t *data, size_t size, int flags, int mode, uint32_t seed, evlog_t *log)
{
    lc_rtmp_client_conf_t conf = {
        .app = "live", .tc_url = "rtmp://127.0.0.1/live", .stream_key = "key?token=t",
        .chunk_size = (flags & 8) ? 50 : 0, .max_message = (flags & 8) ? 300 : 0,
        .max_output = (flags & 16) ? 2000 : 0,
    };
    char err[128];
    run_t r = { 0 };
    size_t off = 0;

    memset(log, 0, sizeof *log);
    r.c = lc_rtmp_client_new(&conf, err, sizeof err);
    CHECK(r.c != NULL);
    r.rd = lc_rtmp_chunk_reader_new(16u << 20);
    CHECK(r.rd != NULL);
    r.unpublish = (flags & 32) != 0;
    r.max_output = conf.max_output ? conf.max_output : LC_RTMP_CLIENT_DEFAULT_MAX_OUTPUT;
    check_output(&r);

    if (flags & 1) {
        static uint8_t s012[1 + 2 * HS] = { 3 };

        if (feed(&r, log, s012, sizeof s012) < 0)
            abort();
    }
    while (off < size) {
        size_t n;

        switch (mode) {
        case 0: n = size - off; break;
        case 1: n = 1; break;
        case 2: n = 1 + seed % 64; break;
        default: seed = seed * 1103515245u + 12345u; n = 1 + (seed >> 16) % 300; break;
        }
        if (n > size - off)
            n = size - off;
        if (feed(&r, log, data + off, n) < 0)
            break;
        off += n;
    }
    lc_rtmp_chunk_reader_free(r.rd);
    lc_rtmp_client_free(r.c);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    evlog_t whole, split;
    int flags;

    if (size < 2)
        return 0;
    if (video[1] == 0)
        for (size_t i = 0; i < sizeof video; i++)
            video[i] = (uint8_t)(i * 13 + 1);
    flags = data[0];
    run(data + 2, size - 2, flags, 0, 0, &whole);
    run(data + 2, size - 2, flags, (flags >> 1) & 3, data[1], &split);
    CHECK(whole.n == split.n);
    for (int i = 0; i < whole.n; i++) {
        const lc_rtmp_client_event_t *a = &whole.ev[i], *b = &split.ev[i];

        CHECK(a->type == b->type);
        CHECK(strcmp(a->code, b->code) == 0 && strcmp(a->description, b->description) == 0);
        CHECK((a->call == NULL) == (b->call == NULL) && (a->call == NULL || strcmp(a->call, b->call) == 0));
        CHECK((a->error == NULL) == (b->error == NULL));
        CHECK(a->error == NULL || strcmp(whole.error[i], split.error[i]) == 0);
    }
    return 0;
}
