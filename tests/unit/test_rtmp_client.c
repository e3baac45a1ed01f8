/*
 * test_rtmp_client.c: unit tests of src/common/rtmp/rtmp_client.c, the
 * I/O-free publish client, against a scripted server built from the
 * server-side pieces of the same layer: lc_rtmp_handshake_response() for
 * S0S1S2, lc_rtmp_chunk_write() and the lc_rtmp_cmd_put_* builders for
 * what the server says, the chunk reader and lc_rtmp_cmd_parse() to check
 * what the client sent (connect's app and tcUrl, createStream, publish's
 * name and type on the right stream id, media byte-exact with timestamps).
 *
 * Every scenario runs with the server's bytes fed whole, byte by byte and
 * in pseudo-random pieces: the events must not depend on the split.
 *
 * With LC_RTMP_CLIENT_CORPUS=DIR in the environment, the server's bytes of
 * each scenario (after S0S1S2) are also written to DIR in the input format
 * of tests/fuzz/fuzz_rtmp_client.c: that is how its seed corpus was made.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/rtmp/amf0.h"
#include "common/rtmp/rtmp_chunk.h"
#include "common/rtmp/rtmp_client.h"
#include "common/rtmp/rtmp_cmd.h"
#include "common/rtmp/rtmp_handshake.h"

#define HS LC_RTMP_HANDSHAKE_SIZE
#define MAX_MSGS 64
#define MAX_EVS 16
#define STREAM_ID 7     /* not 1, so a client that assumes 1 is caught */
#define KEY "cam?token=abc"
#define TC_URL "rtmp://127.0.0.1:1935/live"

enum { SPLIT_WHOLE, SPLIT_BYTES, SPLIT_RANDOM };

typedef struct {
    lc_rtmp_client_t *c;
    lc_rtmp_chunk_reader_t *rd;     /* reads what the client sent */
    uint32_t out_chunk;             /* the server's chunk size */
    int split;
    uint32_t seed;
    lc_rtmp_msg_t msgs[MAX_MSGS];   /* client messages not yet looked at */
    int nmsgs;
    lc_rtmp_client_event_t evs[MAX_EVS];
    int nevs;
    uint64_t sent;                  /* server bytes, S0S1S2 included */
    uint32_t client_chunk;          /* what the client announces */
    uint8_t *script;                /* server bytes after S0S1S2 (the fuzz seed) */
    size_t script_len;
} srv_t;

/* ---- the scripted server ---- */

static void srv_init(srv_t *s, const lc_rtmp_client_conf_t *conf, int split)
{
    char err[128];

    memset(s, 0, sizeof *s);
    s->c = lc_rtmp_client_new(conf, err, sizeof err);
    assert_non_null(s->c);
    s->rd = lc_rtmp_chunk_reader_new(16u << 20);
    assert_non_null(s->rd);
    s->out_chunk = LC_RTMP_DEFAULT_CHUNK;
    s->split = split;
    s->seed = 12345;
    s->client_chunk = conf->chunk_size ? conf->chunk_size : LC_RTMP_CLIENT_DEFAULT_CHUNK;
}

static void default_conf(lc_rtmp_client_conf_t *conf)
{
    memset(conf, 0, sizeof *conf);
    conf->app = "live";
    conf->tc_url = TC_URL;
    conf->stream_key = KEY;
}

static void srv_clear_msgs(srv_t *s)
{
    for (int i = 0; i < s->nmsgs; i++)
        free(s->msgs[i].payload);
    s->nmsgs = 0;
}

static void srv_free(srv_t *s)
{
    srv_clear_msgs(s);
    lc_rtmp_chunk_reader_free(s->rd);
    lc_rtmp_client_free(s->c);
    free(s->script);
}

/* Feed bytes to the client as the split mode says, collecting events. */
static void srv_feed(srv_t *s, const uint8_t *p, size_t len)
{
    size_t off = 0;

    s->sent += len;
    while (off < len) {
        size_t n = len - off;
        lc_rtmp_client_event_t ev;
        long rc;

        if (s->split == SPLIT_BYTES) {
            n = 1;
        } else if (s->split == SPLIT_RANDOM) {
            s->seed = s->seed * 1103515245u + 12345u;
            n = 1 + (s->seed >> 16) % 97;
            if (n > len - off)
                n = len - off;
        }
        /* one piece may need several calls: one per event */
        size_t pos = 0;
        do {
            rc = lc_rtmp_client_input(s->c, p + off + pos, n - pos, &ev);
            if (rc < 0) {
                assert_int_equal(ev.type, LC_RTMP_CLIENT_ERROR);
                assert_non_null(ev.error);
                assert_true(s->nevs < MAX_EVS);
                s->evs[s->nevs++] = ev;
                return;
            }
            assert_true((size_t)rc <= n - pos);
            pos += (size_t)rc;
            if (ev.type != LC_RTMP_CLIENT_NONE) {
                assert_true(s->nevs < MAX_EVS);
                s->evs[s->nevs++] = ev;
            } else {
                assert_int_equal(pos, n);   /* NONE: everything taken */
            }
        } while (pos < n);
        off += n;
    }
}

/* A message from the server at its current chunk size. */
static void srv_send(srv_t *s, uint32_t csid, uint8_t type, uint32_t msid, const uint8_t *payload, size_t len)
{
    size_t cap = lc_rtmp_chunk_size_of((uint32_t)len, s->out_chunk, 0);
    uint8_t *buf = malloc(cap);
    size_t n;

    assert_non_null(buf);
    n = lc_rtmp_chunk_write(buf, csid, type, 0, msid, payload, (uint32_t)len, s->out_chunk);
    assert_true(n > 0 && n <= cap);
    s->script = realloc(s->script, s->script_len + n);
    assert_non_null(s->script);
    memcpy(s->script + s->script_len, buf, n);
    s->script_len += n;
    srv_feed(s, buf, n);
    free(buf);
}

static void srv_cmd(srv_t *s, uint32_t csid, uint32_t msid, lc_amf0_buf_t *b)
{
    assert_false(b->failed);
    srv_send(s, csid, LC_RTMP_COMMAND_AMF0, msid, b->data, b->len);
    lc_amf0_buf_free(b);
}

static void srv_u32(srv_t *s, uint8_t type, uint32_t v)
{
    uint8_t p[4] = { (uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v };

    srv_send(s, 2, type, 0, p, 4);
}

static void srv_set_chunk(srv_t *s, uint32_t size)
{
    srv_u32(s, LC_RTMP_SET_CHUNK_SIZE, size);
    s->out_chunk = size;
}

static void srv_status(srv_t *s, const char *level, const char *code, const char *desc)
{
    lc_amf0_buf_t b = { 0 };

    lc_rtmp_cmd_put_status(&b, level, code, desc);
    srv_cmd(s, 5, STREAM_ID, &b);
}

/* Read everything the client has pending into s->msgs. */
static void srv_read(srv_t *s)
{
    size_t len, off = 0;
    const uint8_t *p = lc_rtmp_client_pending(s->c, &len);

    while (off < len) {
        lc_rtmp_msg_t m;
        int got;
        const char *err = NULL;
        long n = lc_rtmp_chunk_feed(s->rd, p + off, len - off, &m, &got, &err);

        if (n < 0)
            fail_msg("the client's output does not read: %s", err);
        off += (size_t)n;
        if (got) {
            assert_true(s->nmsgs < MAX_MSGS);
            s->msgs[s->nmsgs++] = m;
        }
    }
    lc_rtmp_client_consumed(s->c, len);
}

/* S0S1S2 from the server side of the handshake; checks C2 echoes S1. */
static void srv_handshake(srv_t *s)
{
    uint8_t s012[1 + 2 * HS];
    const char *err = NULL;
    size_t len;
    const uint8_t *p = lc_rtmp_client_pending(s->c, &len);

    assert_string_equal(lc_rtmp_client_phase(s->c), "handshake");
    assert_int_equal(len, 1 + HS);
    assert_int_equal(p[0], 3);
    assert_int_equal(lc_rtmp_handshake_response(p, s012, &err), 0);   /* the simple one */
    lc_rtmp_client_consumed(s->c, len);
    srv_feed(s, s012, sizeof s012);
    assert_int_equal(s->nevs, 0);
    p = lc_rtmp_client_pending(s->c, &len);
    assert_true(len > HS);
    assert_memory_equal(p, s012 + 1, HS);
    lc_rtmp_client_consumed(s->c, HS);
    assert_string_equal(lc_rtmp_client_phase(s->c), "connect");
}

/* The client message i as a command named name; cmd to be freed. */
static void expect_cmd(srv_t *s, int i, const char *name, double txn, uint32_t msid, lc_rtmp_cmd_t *cmd)
{
    const char *err = NULL;

    assert_true(i < s->nmsgs);
    assert_int_equal(s->msgs[i].type, LC_RTMP_COMMAND_AMF0);
    assert_int_equal(s->msgs[i].stream_id, msid);
    assert_int_equal(lc_rtmp_cmd_parse(s->msgs[i].type, s->msgs[i].payload, s->msgs[i].len, cmd, &err), 0);
    assert_string_equal(cmd->name, name);
    assert_true(cmd->txn == txn);
}

static void expect_events(srv_t *s, int n)
{
    if (s->nevs != n)
        fail_msg("%d events, expected %d (first: type %d, %s)", s->nevs, n, s->nevs ? (int)s->evs[0].type : -1,
                 s->nevs && s->evs[0].error ? s->evs[0].error : "");
}

/* Handshake, connect, createStream and publish, checking each call, up
 * to the server's answer to publish (which the test gives). server_chunk:
 * the server's chunk size from connect's answers on. */
static void to_publish(srv_t *s, uint32_t server_chunk)
{
    lc_rtmp_cmd_t cmd;
    lc_amf0_buf_t b = { 0 };

    srv_handshake(s);
    srv_read(s);
    assert_int_equal(s->nmsgs, 2);
    assert_int_equal(s->msgs[0].type, LC_RTMP_SET_CHUNK_SIZE);
    assert_int_equal(lc_rtmp_chunk_reader_chunk_size(s->rd), s->client_chunk);
    expect_cmd(s, 1, "connect", 1, 0, &cmd);
    assert_int_equal(s->msgs[1].csid, 3);
    assert_string_equal(lc_amf0_str(lc_amf0_get(cmd.obj, "app")), "live");
    assert_string_equal(lc_amf0_str(lc_amf0_get(cmd.obj, "tcUrl")), TC_URL);
    assert_string_equal(lc_amf0_str(lc_amf0_get(cmd.obj, "type")), "nonprivate");
    assert_non_null(strstr(lc_amf0_str(lc_amf0_get(cmd.obj, "flashVer")), "FMLE/3.0"));
    lc_rtmp_cmd_free(&cmd);
    srv_clear_msgs(s);

    /* what nginx-rtmp answers connect with */
    srv_u32(s, LC_RTMP_WINDOW_ACK_SIZE, 5000000);
    uint8_t bw[5] = { 0, 0x4c, 0x4b, 0x40, 2 };
    srv_send(s, 2, LC_RTMP_SET_PEER_BANDWIDTH, 0, bw, 5);
    srv_set_chunk(s, server_chunk);
    lc_rtmp_cmd_put_connect_result(&b, 1, 0);
    srv_cmd(s, 3, 0, &b);
    lc_rtmp_cmd_put_call(&b, "onBWDone", 0, NULL, NULL);
    srv_cmd(s, 3, 0, &b);
    expect_events(s, 0);
    assert_string_equal(lc_rtmp_client_phase(s->c), "createStream");

    srv_read(s);
    assert_int_equal(s->nmsgs, 3);
    expect_cmd(s, 0, "releaseStream", 2, 0, &cmd);
    assert_string_equal(lc_amf0_str(lc_rtmp_cmd_arg(&cmd, 0)), KEY);
    lc_rtmp_cmd_free(&cmd);
    expect_cmd(s, 1, "FCPublish", 3, 0, &cmd);
    assert_string_equal(lc_amf0_str(lc_rtmp_cmd_arg(&cmd, 0)), KEY);
    lc_rtmp_cmd_free(&cmd);
    expect_cmd(s, 2, "createStream", 4, 0, &cmd);
    assert_null(cmd.obj);
    lc_rtmp_cmd_free(&cmd);
    srv_clear_msgs(s);

    /* releaseStream's _error and onFCPublish (whose code looks like the
     * one that matters) change nothing */
    lc_rtmp_cmd_put_error(&b, 2, "NetConnection.Call.Failed", "nothing to release");
    srv_cmd(s, 3, 0, &b);
    lc_amf0_put_string(&b, "onFCPublish");
    lc_amf0_put_number(&b, 0);
    lc_amf0_put_null(&b);
    lc_amf0_put_object_start(&b);
    lc_amf0_put_key(&b, "code");
    lc_amf0_put_string(&b, "NetStream.Publish.Start");
    lc_amf0_put_key(&b, "description");
    lc_amf0_put_string(&b, KEY);
    lc_amf0_put_object_end(&b);
    srv_cmd(s, 3, 0, &b);
    lc_rtmp_cmd_put_result(&b, 3, -1);
    srv_cmd(s, 3, 0, &b);
    lc_rtmp_cmd_put_result(&b, 4, STREAM_ID);
    srv_cmd(s, 3, 0, &b);
    expect_events(s, 0);
    assert_string_equal(lc_rtmp_client_phase(s->c), "publish");

    srv_read(s);
    assert_int_equal(s->nmsgs, 1);
    expect_cmd(s, 0, "publish", 5, STREAM_ID, &cmd);
    assert_int_equal(cmd.nargs, 2);
    assert_string_equal(lc_amf0_str(lc_rtmp_cmd_arg(&cmd, 0)), KEY);
    assert_string_equal(lc_amf0_str(lc_rtmp_cmd_arg(&cmd, 1)), "live");
    lc_rtmp_cmd_free(&cmd);
    srv_clear_msgs(s);

    /* nothing may flow yet */
    const char *err = NULL;
    assert_int_equal(lc_rtmp_client_send(s->c, LC_RTMP_AUDIO, 0, (const uint8_t *)"\xaf\x01", 2, &err), -1);
    assert_string_equal(err, "not publishing yet");
}

static void to_publishing(srv_t *s, uint32_t server_chunk)
{
    uint8_t begin[6] = { 0, 0, 0, 0, 0, STREAM_ID };

    to_publish(s, server_chunk);
    srv_send(s, 2, LC_RTMP_USER_CONTROL, 0, begin, 6);
    srv_status(s, "status", "NetStream.Publish.Start", "cam is now published.");
    expect_events(s, 1);
    assert_int_equal(s->evs[0].type, LC_RTMP_CLIENT_PUBLISHING);
    assert_string_equal(lc_rtmp_client_phase(s->c), "publishing");
    s->nevs = 0;
}

/* With LC_RTMP_CLIENT_CORPUS set: the server's script as a fuzz seed
 * (byte 0: the fuzzer's flags, bit 0 = it prepends S0S1S2; byte 1: seed). */
static void dump_seed(const srv_t *s, const char *name, int flags)
{
    const char *dir = getenv("LC_RTMP_CLIENT_CORPUS");
    char path[512];
    FILE *f;

    if (dir == NULL || s->split != SPLIT_WHOLE)
        return;
    snprintf(path, sizeof path, "%s/%s", dir, name);
    f = fopen(path, "wb");
    assert_non_null(f);
    fputc(flags, f);
    fputc(7, f);
    fwrite(s->script, 1, s->script_len, f);
    fclose(f);
}

/* ---- scenarios ---- */

static const int splits[] = { SPLIT_WHOLE, SPLIT_BYTES, SPLIT_RANDOM };

static uint8_t *pattern(size_t n, uint8_t salt)
{
    uint8_t *p = malloc(n);

    assert_non_null(p);
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)(i * 7 + salt + (i >> 8));
    return p;
}

static uint32_t read_be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void expect_media(srv_t *s, int i, uint8_t type, uint32_t csid, uint32_t ts, const uint8_t *body,
                         size_t len)
{
    assert_true(i < s->nmsgs);
    assert_int_equal(s->msgs[i].type, type);
    assert_int_equal(s->msgs[i].csid, csid);
    assert_int_equal(s->msgs[i].stream_id, STREAM_ID);
    assert_int_equal(s->msgs[i].timestamp, ts);
    assert_int_equal(s->msgs[i].len, len);
    assert_memory_equal(s->msgs[i].payload, body, len);
}

static void test_happy_path(void **state)
{
    (void)state;
    for (size_t k = 0; k < sizeof splits / sizeof splits[0]; k++) {
        lc_rtmp_client_conf_t conf;
        srv_t s;
        lc_amf0_buf_t meta = { 0 }, player_meta = { 0 }, b = { 0 };
        const char *err = NULL;
        uint8_t *video = pattern(10000, 1), *video2 = pattern(9000, 2), *audio = pattern(300, 3);
        lc_rtmp_cmd_t cmd;

        default_conf(&conf);
        srv_init(&s, &conf, splits[k]);
        to_publishing(&s, 4096);

        /* metadata as an encoder gives it, and in the form players get */
        lc_amf0_put_string(&meta, "@setDataFrame");
        lc_amf0_put_string(&meta, "onMetaData");
        lc_amf0_put_ecma_start(&meta, 2);
        lc_amf0_put_key(&meta, "width");
        lc_amf0_put_number(&meta, 640);
        lc_amf0_put_key(&meta, "videocodecid");
        lc_amf0_put_number(&meta, 7);
        lc_amf0_put_object_end(&meta);
        assert_int_equal(lc_rtmp_cmd_metadata(meta.data, meta.len, &player_meta, &err), 1);

        assert_int_equal(lc_rtmp_client_send(s.c, LC_RTMP_DATA_AMF0, 0, meta.data, meta.len, &err), 0);
        assert_int_equal(lc_rtmp_client_send(s.c, LC_RTMP_AUDIO, 0, audio, 300, &err), 0);
        assert_int_equal(lc_rtmp_client_send(s.c, LC_RTMP_VIDEO, 40, video, 10000, &err), 0);
        assert_int_equal(lc_rtmp_client_send(s.c, LC_RTMP_AUDIO, 0xffffff, audio, 7, &err), 0);
        assert_int_equal(lc_rtmp_client_send(s.c, LC_RTMP_VIDEO, 0x01000005, video2, 9000, &err), 0);
        assert_int_equal(lc_rtmp_client_send(s.c, LC_RTMP_VIDEO, 0xfffffff0u, video2, 0, &err), 0);
        assert_int_equal(lc_rtmp_client_send(s.c, LC_RTMP_DATA_AMF0, 5, player_meta.data, player_meta.len, &err),
                         0);
        assert_int_equal(lc_rtmp_client_send(s.c, LC_RTMP_COMMAND_AMF0, 5, meta.data, meta.len, &err), -1);
        assert_string_equal(err, "only audio, video and data (metadata) messages are sent");
        srv_read(&s);
        assert_int_equal(s.nmsgs, 7);
        expect_media(&s, 0, LC_RTMP_DATA_AMF0, 5, 0, meta.data, meta.len);
        expect_media(&s, 1, LC_RTMP_AUDIO, 4, 0, audio, 300);
        expect_media(&s, 2, LC_RTMP_VIDEO, 6, 40, video, 10000);
        expect_media(&s, 3, LC_RTMP_AUDIO, 4, 0xffffff, audio, 7);
        expect_media(&s, 4, LC_RTMP_VIDEO, 6, 0x01000005, video2, 9000);
        expect_media(&s, 5, LC_RTMP_VIDEO, 6, 0xfffffff0u, video2, 0);
        expect_media(&s, 6, LC_RTMP_DATA_AMF0, 5, 5, meta.data, meta.len);   /* @setDataFrame put back */
        srv_clear_msgs(&s);

        /* a ping mid-stream, answered with its value */
        uint8_t ping[6] = { 0, 6, 0x12, 0x34, 0x56, 0x78 };
        srv_send(&s, 2, LC_RTMP_USER_CONTROL, 0, ping, 6);
        expect_events(&s, 0);
        srv_read(&s);
        assert_int_equal(s.nmsgs, 1);
        assert_int_equal(s.msgs[0].type, LC_RTMP_USER_CONTROL);
        assert_int_equal(s.msgs[0].csid, 2);
        assert_int_equal(s.msgs[0].len, 6);
        assert_memory_equal(s.msgs[0].payload, "\x00\x07\x12\x34\x56\x78", 6);
        srv_clear_msgs(&s);

        /* the end as FFmpeg does it, and the server's goodbye */
        assert_int_equal(lc_rtmp_client_unpublish(s.c, &err), 0);
        assert_int_equal(lc_rtmp_client_send(s.c, LC_RTMP_AUDIO, 0, audio, 3, &err), -1);
        assert_string_equal(err, "not publishing any more");
        srv_read(&s);
        assert_int_equal(s.nmsgs, 2);
        expect_cmd(&s, 0, "FCUnpublish", 6, 0, &cmd);
        assert_string_equal(lc_amf0_str(lc_rtmp_cmd_arg(&cmd, 0)), KEY);
        lc_rtmp_cmd_free(&cmd);
        expect_cmd(&s, 1, "deleteStream", 7, 0, &cmd);
        assert_true(lc_amf0_num(lc_rtmp_cmd_arg(&cmd, 0), -1) == STREAM_ID);
        lc_rtmp_cmd_free(&cmd);
        srv_clear_msgs(&s);
        srv_status(&s, "status", "NetStream.Unpublish.Success", "cam is now unpublished.");
        expect_events(&s, 1);
        assert_int_equal(s.evs[0].type, LC_RTMP_CLIENT_CLOSED);
        assert_string_equal(s.evs[0].code, "NetStream.Unpublish.Success");
        assert_string_equal(s.evs[0].description, "cam is now unpublished.");
        assert_string_equal(lc_rtmp_client_phase(s.c), "ended");

        /* after the end, input is taken and ignored */
        lc_rtmp_cmd_put_result(&b, 9, 1);
        srv_cmd(&s, 3, 0, &b);
        expect_events(&s, 1);
        dump_seed(&s, "happy_path", 1 | 3 << 1 | 32);   /* random split, unpublish */

        lc_amf0_buf_free(&meta);
        lc_amf0_buf_free(&player_meta);
        free(video);
        free(video2);
        free(audio);
        srv_free(&s);
    }
}

/* The server's chunk size changes several times, down to 1 byte, and a
 * command spans many chunks. */
static void test_server_chunk_size_changes(void **state)
{
    static const uint32_t sizes[] = { 1, 7, 128, 60000 };
    (void)state;

    for (size_t k = 0; k < sizeof splits / sizeof splits[0]; k++) {
        for (size_t j = 0; j < sizeof sizes / sizeof sizes[0]; j++) {
            lc_rtmp_client_conf_t conf;
            srv_t s;
            char name[32];

            default_conf(&conf);
            conf.chunk_size = 100;      /* ours: the server's reader must follow too */
            srv_init(&s, &conf, splits[k]);
            to_publish(&s, sizes[j]);
            srv_set_chunk(&s, sizes[(j + 1) % 4]);   /* and once more before the answer */
            srv_status(&s, "status", "NetStream.Publish.Start", "a description long enough to span chunks");
            expect_events(&s, 1);
            assert_int_equal(s.evs[0].type, LC_RTMP_CLIENT_PUBLISHING);
            snprintf(name, sizeof name, "chunk_size_%u", sizes[j]);
            if (sizes[j] == 7)
                dump_seed(&s, name, 1 | 1 << 1);       /* byte by byte */
            srv_free(&s);
        }
    }
}

static void test_publish_refused(void **state)
{
    (void)state;
    for (size_t k = 0; k < sizeof splits / sizeof splits[0]; k++) {
        lc_rtmp_client_conf_t conf;
        srv_t s;
        const char *err = NULL;

        default_conf(&conf);
        srv_init(&s, &conf, splits[k]);
        to_publish(&s, 4096);
        srv_status(&s, "error", "NetStream.Publish.BadName", "Already publishing");
        /* the session is over: what the server says next is ignored */
        srv_status(&s, "status", "NetStream.Publish.Start", "too late");
        expect_events(&s, 1);
        assert_int_equal(s.evs[0].type, LC_RTMP_CLIENT_REFUSED);
        assert_string_equal(s.evs[0].code, "NetStream.Publish.BadName");
        assert_string_equal(s.evs[0].description, "Already publishing");
        assert_string_equal(s.evs[0].call, "publish");
        assert_int_equal(lc_rtmp_client_send(s.c, LC_RTMP_VIDEO, 0, (const uint8_t *)"\x17", 1, &err), -1);
        assert_string_equal(err, "not publishing any more");
        assert_int_equal(lc_rtmp_client_unpublish(s.c, &err), -1);
        dump_seed(&s, "publish_badname", 1 | 16);       /* small max_output */
        srv_free(&s);
    }
}

static void test_connect_error(void **state)
{
    (void)state;
    for (size_t k = 0; k < sizeof splits / sizeof splits[0]; k++) {
        lc_rtmp_client_conf_t conf;
        srv_t s;
        lc_amf0_buf_t b = { 0 };

        default_conf(&conf);
        srv_init(&s, &conf, splits[k]);
        srv_handshake(&s);
        srv_read(&s);
        srv_clear_msgs(&s);
        /* an _error to another call first: not ours to act on */
        lc_rtmp_cmd_put_error(&b, 99, "NetConnection.Call.Failed", "unrelated");
        srv_cmd(&s, 3, 0, &b);
        expect_events(&s, 0);
        lc_rtmp_cmd_put_error(&b, 1, "NetConnection.Connect.Rejected", "Application 'live' not found\n(bye)");
        srv_cmd(&s, 3, 0, &b);
        expect_events(&s, 1);
        assert_int_equal(s.evs[0].type, LC_RTMP_CLIENT_REFUSED);
        assert_string_equal(s.evs[0].call, "connect");
        assert_string_equal(s.evs[0].code, "NetConnection.Connect.Rejected");
        assert_string_equal(s.evs[0].description, "Application 'live' not found?(bye)");
        dump_seed(&s, "connect_error", 1);
        srv_free(&s);
    }
}

static void test_create_stream_answers(void **state)
{
    lc_rtmp_client_conf_t conf;
    srv_t s;
    lc_amf0_buf_t b = { 0 };
    (void)state;

    default_conf(&conf);

    /* _error(txn, null, "words"): the words without an info object */
    srv_init(&s, &conf, SPLIT_WHOLE);
    srv_handshake(&s);
    lc_rtmp_cmd_put_connect_result(&b, 1, 0);
    srv_cmd(&s, 3, 0, &b);
    lc_rtmp_cmd_put_call(&b, "_error", 4, "no streams for you", NULL);
    srv_cmd(&s, 3, 0, &b);
    expect_events(&s, 1);
    assert_int_equal(s.evs[0].type, LC_RTMP_CLIENT_REFUSED);
    assert_string_equal(s.evs[0].call, "createStream");
    assert_string_equal(s.evs[0].code, "");
    assert_string_equal(s.evs[0].description, "no streams for you");
    srv_free(&s);

    /* _result without a stream id: the conversation cannot go on */
    srv_init(&s, &conf, SPLIT_WHOLE);
    srv_handshake(&s);
    lc_rtmp_cmd_put_connect_result(&b, 1, 0);
    srv_cmd(&s, 3, 0, &b);
    lc_rtmp_cmd_put_result(&b, 4, -1);
    srv_cmd(&s, 3, 0, &b);
    expect_events(&s, 1);
    assert_int_equal(s.evs[0].type, LC_RTMP_CLIENT_ERROR);
    assert_non_null(strstr(s.evs[0].error, "without a stream id"));
    srv_free(&s);

    /* close while publishing */
    srv_init(&s, &conf, SPLIT_WHOLE);
    to_publishing(&s, 4096);
    lc_rtmp_cmd_put_call(&b, "close", 0, NULL, NULL);
    srv_cmd(&s, 3, 0, &b);
    expect_events(&s, 1);
    assert_int_equal(s.evs[0].type, LC_RTMP_CLIENT_CLOSED);
    assert_string_equal(s.evs[0].code, "close");
    assert_string_equal(s.evs[0].call, "publishing");
    srv_free(&s);
}

/* The client acknowledges once the server's window of bytes arrived, with
 * the count of bytes received (S0S1S2 included). */
static void test_acknowledgement(void **state)
{
    (void)state;
    for (size_t k = 0; k < sizeof splits / sizeof splits[0]; k++) {
        lc_rtmp_client_conf_t conf;
        srv_t s;
        uint8_t *pad = pattern(700, 9);
        uint32_t seq;

        default_conf(&conf);
        srv_init(&s, &conf, splits[k]);
        srv_handshake(&s);
        srv_read(&s);
        srv_clear_msgs(&s);
        /* S0S1S2 and this message are already past the window: acked at once */
        srv_u32(&s, LC_RTMP_WINDOW_ACK_SIZE, 1000);
        srv_read(&s);
        assert_int_equal(s.nmsgs, 1);
        assert_int_equal(s.msgs[0].type, LC_RTMP_ACK);
        assert_int_equal(s.msgs[0].csid, 2);
        assert_int_equal(s.msgs[0].len, 4);
        seq = read_be32(s.msgs[0].payload);
        assert_int_equal(seq, s.sent);
        srv_clear_msgs(&s);
        srv_send(&s, 3, LC_RTMP_DATA_AMF0, 0, pad, 700);    /* ignored by a publisher */
        srv_read(&s);
        assert_int_equal(s.nmsgs, 0);           /* not yet a window since */
        srv_send(&s, 3, LC_RTMP_DATA_AMF0, 0, pad, 700);
        srv_read(&s);
        assert_int_equal(s.nmsgs, 1);
        assert_int_equal(s.msgs[0].type, LC_RTMP_ACK);
        /* as soon as the window is full: exactly there when fed byte by byte */
        assert_true(read_be32(s.msgs[0].payload) >= seq + 1000);
        assert_true(read_be32(s.msgs[0].payload) <= s.sent);
        if (splits[k] == SPLIT_BYTES)
            assert_int_equal(read_be32(s.msgs[0].payload), seq + 1000);
        if (splits[k] == SPLIT_WHOLE)
            assert_int_equal(read_be32(s.msgs[0].payload), s.sent);
        dump_seed(&s, "ack_window", 1 | 2 << 1);
        free(pad);
        srv_free(&s);
    }
}

static void test_bad_input(void **state)
{
    lc_rtmp_client_conf_t conf;
    lc_rtmp_client_event_t ev;
    srv_t s;
    lc_amf0_buf_t b = { 0 };
    static const char http[] = "HTTP/1.1 400 Bad Request\r\n\r\n";
    (void)state;

    default_conf(&conf);

    /* not an RTMP server */
    srv_init(&s, &conf, SPLIT_WHOLE);
    assert_int_equal(lc_rtmp_client_input(s.c, (const uint8_t *)http, sizeof http - 1, &ev), -1);
    assert_int_equal(ev.type, LC_RTMP_CLIENT_ERROR);
    assert_non_null(strstr(ev.error, "version 72"));
    assert_non_null(strstr(ev.error, "HTTP"));
    /* and it stays failed */
    assert_int_equal(lc_rtmp_client_input(s.c, (const uint8_t *)"\x03", 1, &ev), -1);
    assert_non_null(strstr(ev.error, "HTTP"));
    assert_string_equal(lc_rtmp_client_phase(s.c), "failed");
    srv_free(&s);

    /* a fmt 1 chunk on a chunk stream never opened */
    srv_init(&s, &conf, SPLIT_BYTES);
    srv_handshake(&s);
    srv_feed(&s, (const uint8_t *)"\x43\x00\x00\x00\x00\x00\x04\x14", 8);
    expect_events(&s, 1);
    assert_int_equal(s.evs[0].type, LC_RTMP_CLIENT_ERROR);
    assert_string_equal(s.evs[0].error, "bad chunk stream from the server: chunk stream not opened with fmt 0");
    srv_free(&s);

    /* over max_message */
    conf.max_message = 1000;
    srv_init(&s, &conf, SPLIT_WHOLE);
    srv_handshake(&s);
    uint8_t *big = pattern(2000, 0);
    srv_send(&s, 3, LC_RTMP_DATA_AMF0, 0, big, 2000);
    free(big);
    expect_events(&s, 1);
    assert_non_null(strstr(s.evs[0].error, "message too long"));
    srv_free(&s);
    conf.max_message = 0;

    /* a whole message whose command is cut short */
    srv_init(&s, &conf, SPLIT_WHOLE);
    srv_handshake(&s);
    lc_rtmp_cmd_put_connect_result(&b, 1, 0);
    srv_send(&s, 3, LC_RTMP_COMMAND_AMF0, 0, b.data, b.len - 5);
    lc_amf0_buf_free(&b);
    expect_events(&s, 1);
    assert_int_equal(s.evs[0].type, LC_RTMP_CLIENT_ERROR);
    assert_string_equal(s.evs[0].error, "the server sent a command that does not decode (_result: truncated)");
    dump_seed(&s, "truncated_result", 1 | 8);
    srv_free(&s);

    /* a vendor call we have no use for may not decode: ignored */
    srv_init(&s, &conf, SPLIT_WHOLE);
    srv_handshake(&s);
    lc_amf0_put_string(&b, "onVendorThing");
    lc_amf0_put_number(&b, 0);
    uint8_t odd = 0x11;             /* the AMF3 switch marker, not decoded */
    b.data = realloc(b.data, b.len + 1);
    b.data[b.len++] = odd;
    srv_send(&s, 3, LC_RTMP_COMMAND_AMF0, 0, b.data, b.len);
    lc_amf0_buf_free(&b);
    expect_events(&s, 0);
    srv_free(&s);

    /* a stream cut mid-message: nothing to report, everything taken, and
     * the rest completes it */
    srv_init(&s, &conf, SPLIT_WHOLE);
    srv_handshake(&s);
    {
        uint8_t buf[512];
        size_t n;

        lc_rtmp_cmd_put_connect_result(&b, 1, 0);
        n = lc_rtmp_chunk_write(buf, 3, LC_RTMP_COMMAND_AMF0, 0, 0, b.data, (uint32_t)b.len, 128);
        lc_amf0_buf_free(&b);
        assert_int_equal(lc_rtmp_client_input(s.c, buf, n / 2, &ev), (long)(n / 2));
        assert_int_equal(ev.type, LC_RTMP_CLIENT_NONE);
        assert_string_equal(lc_rtmp_client_phase(s.c), "connect");
        assert_int_equal(lc_rtmp_client_input(s.c, buf + n / 2, n - n / 2, &ev), (long)(n - n / 2));
        assert_int_equal(ev.type, LC_RTMP_CLIENT_NONE);
        assert_string_equal(lc_rtmp_client_phase(s.c), "createStream");
    }
    srv_free(&s);

    /* a server's words bounded and cleaned */
    srv_init(&s, &conf, SPLIT_WHOLE);
    srv_handshake(&s);
    {
        char longdesc[2000];

        memset(longdesc, 'x', sizeof longdesc - 1);
        longdesc[sizeof longdesc - 1] = '\0';
        /* UTF-8 across the cut (at byte 508): the last character goes whole */
        memcpy(longdesc + 503, "\xc3\xa9\xc3\xa9\xc3\xa9", 6);
        lc_rtmp_cmd_put_error(&b, 1, "a\x1b[31mcode", longdesc);
        srv_cmd(&s, 3, 0, &b);
        expect_events(&s, 1);
        assert_string_equal(s.evs[0].code, "a?[31mcode");
        assert_true(strlen(s.evs[0].description) <= LC_RTMP_CLIENT_DESC_MAX - 1);
        assert_non_null(strstr(s.evs[0].description, "..."));
        assert_int_equal(strlen(s.evs[0].description), 507 + 3);
        assert_memory_equal(s.evs[0].description + 503, "\xc3\xa9\xc3\xa9...", 8);
    }
    srv_free(&s);
}

/* Random bytes, before and after a valid handshake, split every way:
 * never a crash, and -1 exactly with ERROR. */
static void test_garbage(void **state)
{
    uint32_t seed = 99;
    (void)state;

    for (int round = 0; round < 400; round++) {
        lc_rtmp_client_conf_t conf;
        srv_t s;
        uint8_t junk[600];
        size_t n;

        default_conf(&conf);
        conf.max_message = 4096;
        srv_init(&s, &conf, round % 3);
        s.seed = (uint32_t)round;
        if (round % 2)
            srv_handshake(&s);
        seed = seed * 1103515245u + 12345u;
        n = 1 + (seed >> 16) % sizeof junk;
        for (size_t i = 0; i < n; i++) {
            seed = seed * 1103515245u + 12345u;
            junk[i] = (uint8_t)(seed >> 16);
        }
        if (round % 4 == 1)
            junk[0] = 0x03;             /* fmt 0 on csid 3: reach deeper */
        srv_feed(&s, junk, n);
        for (int i = 0; i < s.nevs; i++)
            if (s.evs[i].type == LC_RTMP_CLIENT_ERROR)
                assert_true(strlen(s.evs[i].error) > 0);
        if (round % 2)
            srv_read(&s);               /* whatever the client sent still reads */
        srv_free(&s);
    }
}

static void test_output_limits(void **state)
{
    lc_rtmp_client_conf_t conf;
    srv_t s;
    const char *err = NULL;
    uint8_t *frame = pattern(20000, 4);
    size_t len;
    (void)state;

    default_conf(&conf);
    conf.max_output = 10000;
    srv_init(&s, &conf, SPLIT_WHOLE);
    to_publishing(&s, 4096);
    assert_int_equal(lc_rtmp_client_send(s.c, LC_RTMP_VIDEO, 0, frame, 20000, &err), 0);
    assert_int_equal(lc_rtmp_client_send(s.c, LC_RTMP_VIDEO, 40, frame, 100, &err), 1);   /* backlog */
    lc_rtmp_client_pending(s.c, &len);
    lc_rtmp_client_consumed(s.c, 15000);
    assert_int_equal(lc_rtmp_client_send(s.c, LC_RTMP_VIDEO, 40, frame, 100, &err), 0);
    lc_rtmp_client_consumed(s.c, (size_t)-1);           /* clamped */
    assert_null(lc_rtmp_client_pending(s.c, &len));
    assert_int_equal(len, 0);
    assert_int_equal(lc_rtmp_client_send(s.c, LC_RTMP_VIDEO, 80, frame, 0x1000000, &err), -1);
    assert_string_equal(err, "message over RTMP's 16 MiB limit");

    /* a server that keeps pinging a client whose output is never written */
    uint8_t ping[6] = { 0, 6, 0, 0, 0, 1 };
    for (int i = 0; i < 10000 && s.nevs == 0; i++)
        srv_send(&s, 2, LC_RTMP_USER_CONTROL, 0, ping, 6);
    expect_events(&s, 1);
    assert_int_equal(s.evs[0].type, LC_RTMP_CLIENT_ERROR);
    assert_non_null(strstr(s.evs[0].error, "not being written"));
    lc_rtmp_client_pending(s.c, &len);
    assert_true(len <= 10000 + (64 << 10));
    free(frame);
    /* the pings are not the client's output to read here */
    lc_rtmp_client_consumed(s.c, len);
    srv_free(&s);
}

static void test_conf(void **state)
{
    lc_rtmp_client_conf_t conf;
    char err[128], *longkey;
    (void)state;

    default_conf(&conf);
    conf.app = "";
    assert_null(lc_rtmp_client_new(&conf, err, sizeof err));
    assert_string_equal(err, "the RTMP app is empty");
    default_conf(&conf);
    conf.stream_key = NULL;
    assert_null(lc_rtmp_client_new(&conf, err, sizeof err));
    assert_string_equal(err, "the stream key is empty");
    default_conf(&conf);
    longkey = malloc(LC_RTMP_CLIENT_STRING_MAX + 2);
    assert_non_null(longkey);
    memset(longkey, 'k', LC_RTMP_CLIENT_STRING_MAX + 1);
    longkey[LC_RTMP_CLIENT_STRING_MAX + 1] = '\0';
    conf.stream_key = longkey;
    assert_null(lc_rtmp_client_new(&conf, err, sizeof err));
    assert_non_null(strstr(err, "longer than"));
    free(longkey);
    default_conf(&conf);
    conf.chunk_size = 0x7fffffff;
    assert_null(lc_rtmp_client_new(&conf, NULL, 0));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_happy_path),
        cmocka_unit_test(test_server_chunk_size_changes),
        cmocka_unit_test(test_publish_refused),
        cmocka_unit_test(test_connect_error),
        cmocka_unit_test(test_create_stream_answers),
        cmocka_unit_test(test_acknowledgement),
        cmocka_unit_test(test_bad_input),
        cmocka_unit_test(test_garbage),
        cmocka_unit_test(test_output_limits),
        cmocka_unit_test(test_conf),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
