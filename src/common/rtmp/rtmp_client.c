/*
 * rtmp_client.c: the publishing side of an RTMP connection (see
 * rtmp_client.h), I/O-free: server bytes in, events and client bytes out.
 *
 * Owns: the client's half of the handshake, the order of the NetConnection
 * and NetStream calls a publisher makes, which of the server's answers
 * mean "go", "no" or "over", and the client's duties on the chunk stream
 * (PingResponse, Acknowledgement). Does not own: chunk framing
 * (rtmp_chunk.c), AMF0 bodies of commands (rtmp_cmd.c), the socket, TLS,
 * timeouts, reconnecting, or what to drop when the server reads slowly.
 *
 * Choices, each what FFmpeg's publisher (libavformat/rtmpproto.c) or OBS's
 * librtmp does with nginx-rtmp, YouTube and Facebook:
 *   - The simple handshake (C1 version field zero): servers then answer
 *     with the simple one too. C2 echoes S1 and goes out as soon as S1 is
 *     in (librtmp's order: a server that waits for C2 before S2 still
 *     works); connect waits for S2, as the spec asks.
 *   - connect carries app, type "nonprivate", flashVer "FMLE/3.0 ...",
 *     tcUrl; then releaseStream, FCPublish, createStream at once; publish
 *     on the stream id createStream returned. The answers to releaseStream
 *     and FCPublish (often _error: nothing to release) are ignored, as is
 *     onFCPublish (whose code is also NetStream.Publish.Start: only
 *     onStatus counts).
 *   - Every outgoing message has a fmt 0 header (lc_rtmp_chunk_write):
 *     a few bytes more per frame than header compression, never wrong.
 *   - Set Peer Bandwidth is not answered (FFmpeg and librtmp publish
 *     without doing so); the server's Acknowledgements are not needed.
 *
 * Invariant: the events and the error a byte sequence produces never
 * depend on how it is split (the chunk reader's invariant, kept here by
 * returning after each event and counting bytes, not calls).
 */
#include "common/rtmp/rtmp_client.h"

#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/rand.h>

#include "common/rtmp/amf0.h"
#include "common/rtmp/rtmp_cmd.h"
#include "common/rtmp/rtmp_handshake.h"

#define HS LC_RTMP_HANDSHAKE_SIZE
/* What the client may queue of its own (C2, commands, acks, ping replies)
 * beyond max_output before it calls the session broken: the server keeps
 * asking for answers the caller never sends. */
#define CONTROL_SLACK ((size_t)64 << 10)
#define MAX_RTMP_MESSAGE 0xffffffu

/* chunk streams: FFmpeg's for commands and publish, livecdn's for media */
#define CSID_CONTROL 2
#define CSID_COMMAND 3
#define CSID_AUDIO 4
#define CSID_DATA 5
#define CSID_VIDEO 6
#define CSID_STREAM 8

/* transaction ids, one per call, in the order FFmpeg numbers them */
#define TXN_CONNECT 1
#define TXN_RELEASE 2
#define TXN_FCPUBLISH 3
#define TXN_CREATE 4
#define TXN_PUBLISH 5
#define TXN_FCUNPUBLISH 6
#define TXN_DELETE 7

#define UC_PING_REQUEST 6
#define UC_PING_RESPONSE 7

enum {
    PH_S0S1,            /* C0C1 sent, waiting for S0 and S1 */
    PH_S2,              /* C2 sent, waiting for S2 */
    PH_CONNECT,         /* connect sent */
    PH_CREATE,          /* releaseStream, FCPublish, createStream sent */
    PH_PUBLISH,         /* publish sent */
    PH_PUBLISHING,      /* NetStream.Publish.Start seen */
    PH_UNPUBLISHING,    /* FCUnpublish, deleteStream sent */
    PH_ENDED,           /* REFUSED or CLOSED reported */
    PH_FAILED,          /* ERROR reported */
};

struct lc_rtmp_client {
    char *app, *tc_url, *key;
    uint32_t chunk_size;        /* ours once announced */
    uint32_t out_chunk;         /* what the writer uses now (128 until announced) */
    size_t max_output;
    int phase;
    lc_rtmp_chunk_reader_t *rd;

    uint32_t hs_got;            /* S0S1S2 bytes received, 0..1 + 2 * HS */
    uint8_t s1[HS];             /* echoed as C2 */

    uint32_t stream_id;         /* from createStream's _result */
    uint64_t bytes_in;          /* every byte received, the handshake's too */
    uint64_t acked;             /* bytes_in when the last Acknowledgement was queued */
    uint32_t ack_window;        /* the server's Window Acknowledgement Size; 0: none */

    uint8_t *out;               /* pending bytes are out[out_head..out_len) */
    size_t out_head, out_len, out_cap;

    char err[256];              /* why the session failed (PH_FAILED) */
};

static const char *const phase_names[] = {
    [PH_S0S1] = "handshake", [PH_S2] = "handshake", [PH_CONNECT] = "connect",
    [PH_CREATE] = "createStream", [PH_PUBLISH] = "publish", [PH_PUBLISHING] = "publishing",
    [PH_UNPUBLISHING] = "unpublishing", [PH_ENDED] = "ended", [PH_FAILED] = "failed",
};

static uint32_t rd_be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void wr_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static int set_err(const char **err, const char *why)
{
    if (err != NULL)
        *err = why;
    return -1;
}

/* The session is broken: report it now and on every later call. */
__attribute__((format(printf, 3, 4)))
static int fail(lc_rtmp_client_t *c, lc_rtmp_client_event_t *ev, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(c->err, sizeof c->err, fmt, ap);
    va_end(ap);
    c->phase = PH_FAILED;
    ev->type = LC_RTMP_CLIENT_ERROR;
    ev->error = c->err;
    return -1;
}

/* ---- output ---- */

static size_t out_pending(const lc_rtmp_client_t *c)
{
    return c->out_len - c->out_head;
}

/* Room for n more bytes at out + out_len, or NULL (out of memory). */
static uint8_t *out_reserve(lc_rtmp_client_t *c, size_t n)
{
    if (c->out_cap - c->out_len < n && c->out_head > 0) {
        memmove(c->out, c->out + c->out_head, out_pending(c));
        c->out_len -= c->out_head;
        c->out_head = 0;
    }
    if (c->out_cap - c->out_len < n) {
        size_t ncap = c->out_cap ? c->out_cap : 4096;
        uint8_t *p;

        while (ncap - c->out_len < n) {
            if (ncap > SIZE_MAX / 2)
                return NULL;
            ncap *= 2;
        }
        p = realloc(c->out, ncap);
        if (p == NULL)
            return NULL;
        c->out = p;
        c->out_cap = ncap;
    }
    return c->out + c->out_len;
}

/* One message as chunks at our current chunk size. 0, or -1 (out of
 * memory: the length was checked by every caller). */
static int put_msg(lc_rtmp_client_t *c, uint32_t csid, uint8_t type, uint32_t ts, uint32_t msid,
                   const uint8_t *payload, size_t len)
{
    size_t need = lc_rtmp_chunk_size_of((uint32_t)len, c->out_chunk, ts);
    uint8_t *p;
    size_t n;

    if (len > MAX_RTMP_MESSAGE || need == 0)
        return -1;
    p = out_reserve(c, need);
    if (p == NULL)
        return -1;
    n = lc_rtmp_chunk_write(p, csid, type, ts, msid, payload, (uint32_t)len, c->out_chunk);
    if (n == 0)
        return -1;
    c->out_len += n;
    return 0;
}

/* The client's own bytes (C2, commands, controls), bounded by max_output
 * plus a slack: past it the caller is not sending what it must. */
static int over_control_limit(lc_rtmp_client_t *c, lc_rtmp_client_event_t *ev, size_t adding)
{
    size_t limit = c->max_output > SIZE_MAX - CONTROL_SLACK ? SIZE_MAX : c->max_output + CONTROL_SLACK;

    if (adding <= limit && out_pending(c) <= limit - adding)
        return 0;
    return fail(c, ev, "%zu bytes wait to be sent to the server: the output is not being written", out_pending(c));
}

static int put_control(lc_rtmp_client_t *c, lc_rtmp_client_event_t *ev, uint32_t csid, uint8_t type, uint32_t msid,
                       const uint8_t *payload, size_t len)
{
    if (over_control_limit(c, ev, lc_rtmp_chunk_size_of((uint32_t)len, c->out_chunk, 0)) < 0)
        return -1;
    if (put_msg(c, csid, type, 0, msid, payload, len) < 0)
        return fail(c, ev, "out of memory queueing a message to the server");
    return 0;
}

/* A command body built in b (freed here). */
static int put_command(lc_rtmp_client_t *c, lc_rtmp_client_event_t *ev, uint32_t csid, uint32_t msid,
                       lc_amf0_buf_t *b)
{
    int rc;

    if (b->failed) {
        lc_amf0_buf_free(b);
        return fail(c, ev, "out of memory building a command");
    }
    rc = put_control(c, ev, csid, LC_RTMP_COMMAND_AMF0, msid, b->data, b->len);
    lc_amf0_buf_free(b);
    return rc;
}

static int put_raw(lc_rtmp_client_t *c, lc_rtmp_client_event_t *ev, const uint8_t *p, size_t n)
{
    uint8_t *dst;

    if (over_control_limit(c, ev, n) < 0)
        return -1;
    dst = out_reserve(c, n);
    if (dst == NULL)
        return fail(c, ev, "out of memory queueing the handshake");
    memcpy(dst, p, n);
    c->out_len += n;
    return 0;
}

/* ---- the calls a publisher makes ---- */

/* After S2: our chunk size (announced at the default size it replaces),
 * then connect at the new one. */
static int send_connect(lc_rtmp_client_t *c, lc_rtmp_client_event_t *ev)
{
    lc_amf0_buf_t b = { 0 };
    uint8_t scs[4];

    wr_be32(scs, c->chunk_size);
    if (put_control(c, ev, CSID_CONTROL, LC_RTMP_SET_CHUNK_SIZE, 0, scs, 4) < 0)
        return -1;
    c->out_chunk = c->chunk_size;
    lc_rtmp_cmd_put_connect(&b, TXN_CONNECT, c->app, c->tc_url);
    c->phase = PH_CONNECT;
    return put_command(c, ev, CSID_COMMAND, 0, &b);
}

static int send_create(lc_rtmp_client_t *c, lc_rtmp_client_event_t *ev)
{
    lc_amf0_buf_t b = { 0 };

    lc_rtmp_cmd_put_call(&b, "releaseStream", TXN_RELEASE, c->key, NULL);
    if (put_command(c, ev, CSID_COMMAND, 0, &b) < 0)
        return -1;
    lc_rtmp_cmd_put_call(&b, "FCPublish", TXN_FCPUBLISH, c->key, NULL);
    if (put_command(c, ev, CSID_COMMAND, 0, &b) < 0)
        return -1;
    lc_rtmp_cmd_put_call(&b, "createStream", TXN_CREATE, NULL, NULL);
    c->phase = PH_CREATE;
    return put_command(c, ev, CSID_COMMAND, 0, &b);
}

static int send_publish(lc_rtmp_client_t *c, lc_rtmp_client_event_t *ev)
{
    lc_amf0_buf_t b = { 0 };

    lc_rtmp_cmd_put_call(&b, "publish", TXN_PUBLISH, c->key, "live");
    c->phase = PH_PUBLISH;
    return put_command(c, ev, CSID_STREAM, c->stream_id, &b);
}

/* ---- the server's answers ---- */

/* The server's words, for an event or an error: at most cap - 1 bytes,
 * cut at a UTF-8 character boundary and marked "...", control characters
 * as '?' (they end up in our logs). */
static void copy_clean(char *dst, size_t cap, const char *s, size_t n)
{
    int cut = n > cap - 1;
    size_t o;

    if (cut) {
        n = cap - 4;
        while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
            n--;
    }
    for (o = 0; o < n; o++) {
        unsigned char ch = (unsigned char)s[o];

        dst[o] = ch < 0x20 || ch == 0x7f ? '?' : (char)ch;
    }
    if (cut) {
        memcpy(dst + o, "...", 3);
        o += 3;
    }
    dst[o] = '\0';
}

/* A string value's words, "" for anything else. */
static void copy_words(char *dst, size_t cap, const lc_amf0_t *v)
{
    const char *s = lc_amf0_str(v);

    copy_clean(dst, cap, s != NULL ? s : "", s != NULL ? v->len : 0);
}

/* REFUSED or CLOSED, with what the server said about it. */
static void report_end(lc_rtmp_client_t *c, lc_rtmp_client_event_t *ev, int type, const char *call,
                       const lc_rtmp_cmd_t *cmd)
{
    const lc_amf0_t *info = lc_rtmp_cmd_info(cmd);

    if (info == NULL)
        info = cmd->obj;            /* onStatus(0, {info}) from older servers */
    ev->type = type;
    ev->call = call;
    copy_words(ev->code, sizeof ev->code, lc_amf0_get(info, "code"));
    copy_words(ev->description, sizeof ev->description, lc_amf0_get(info, "description"));
    /* _error(txn, null, "words") */
    if (info == NULL && ev->description[0] == '\0')
        copy_words(ev->description, sizeof ev->description, lc_rtmp_cmd_arg(cmd, 0));
    c->phase = PH_ENDED;
}

static int on_result(lc_rtmp_client_t *c, lc_rtmp_client_event_t *ev, const lc_rtmp_cmd_t *cmd)
{
    double id;

    if (cmd->txn == TXN_CONNECT && c->phase == PH_CONNECT)
        return send_create(c, ev);
    if (cmd->txn == TXN_CREATE && c->phase == PH_CREATE) {
        id = lc_amf0_num(lc_rtmp_cmd_arg(cmd, 0), -1);
        if (!(id >= 0 && id <= 4294967295.0))   /* NaN fails too */
            return fail(c, ev, "the server answered createStream without a stream id");
        c->stream_id = (uint32_t)id;
        return send_publish(c, ev);
    }
    return 0;                       /* releaseStream, FCPublish, or stale */
}

static int on_error(lc_rtmp_client_t *c, lc_rtmp_client_event_t *ev, const lc_rtmp_cmd_t *cmd)
{
    if (cmd->txn == TXN_CONNECT && c->phase == PH_CONNECT)
        report_end(c, ev, LC_RTMP_CLIENT_REFUSED, "connect", cmd);
    else if (cmd->txn == TXN_CREATE && c->phase == PH_CREATE)
        report_end(c, ev, LC_RTMP_CLIENT_REFUSED, "createStream", cmd);
    else if (cmd->txn == TXN_PUBLISH && (c->phase == PH_PUBLISH || c->phase == PH_PUBLISHING))
        report_end(c, ev, LC_RTMP_CLIENT_REFUSED, "publish", cmd);
    /* else: releaseStream or FCPublish (nothing to release), or stale */
    return 0;
}

static int on_status(lc_rtmp_client_t *c, lc_rtmp_client_event_t *ev, const lc_rtmp_cmd_t *cmd)
{
    const lc_amf0_t *info = lc_rtmp_cmd_info(cmd) != NULL ? lc_rtmp_cmd_info(cmd) : cmd->obj;
    const char *level = lc_amf0_str(lc_amf0_get(info, "level"));
    const char *code = lc_amf0_str(lc_amf0_get(info, "code"));

    if (level != NULL && strcmp(level, "error") == 0) {
        report_end(c, ev, LC_RTMP_CLIENT_REFUSED, phase_names[c->phase], cmd);
    } else if (code == NULL) {
        return 0;
    } else if (strcmp(code, "NetStream.Publish.Start") == 0 && c->phase == PH_PUBLISH) {
        c->phase = PH_PUBLISHING;
        ev->type = LC_RTMP_CLIENT_PUBLISHING;
    } else if (strcmp(code, "NetStream.Unpublish.Success") == 0
               || strcmp(code, "NetConnection.Connect.Closed") == 0) {
        report_end(c, ev, LC_RTMP_CLIENT_CLOSED, phase_names[c->phase], cmd);
    }
    return 0;
}

/* The commands a publisher acts on; the others (onBWDone, onFCPublish,
 * onFCUnpublish, |RtmpSampleAccess, vendor calls) are ignored. */
static int acts_on(const char *name)
{
    return strcmp(name, "_result") == 0 || strcmp(name, "_error") == 0 || strcmp(name, "onStatus") == 0
        || strcmp(name, "close") == 0;
}

static int on_command(lc_rtmp_client_t *c, lc_rtmp_client_event_t *ev, const lc_rtmp_msg_t *m)
{
    lc_rtmp_cmd_t cmd;
    const char *err = "";
    int rc = 0;

    if (lc_rtmp_cmd_parse(m->type, m->payload, m->len, &cmd, &err) < 0) {
        /* A call we have no use for may hold AMF0 we do not decode; one we
         * need must be read, or the conversation cannot go on. */
        if (cmd.name == NULL || acts_on(cmd.name)) {
            char name[48];

            copy_clean(name, sizeof name, cmd.name != NULL ? cmd.name : "", cmd.name != NULL ? strlen(cmd.name) : 0);
            rc = fail(c, ev, "the server sent a command that does not decode (%s%s%s)", name, *name ? ": " : "",
                      err);
        }
        lc_rtmp_cmd_free(&cmd);
        return rc;
    }
    if (strcmp(cmd.name, "_result") == 0) {
        rc = on_result(c, ev, &cmd);
    } else if (strcmp(cmd.name, "_error") == 0) {
        rc = on_error(c, ev, &cmd);
    } else if (strcmp(cmd.name, "onStatus") == 0) {
        rc = on_status(c, ev, &cmd);
    } else if (strcmp(cmd.name, "close") == 0) {
        report_end(c, ev, LC_RTMP_CLIENT_CLOSED, phase_names[c->phase], &cmd);
        if (ev->code[0] == '\0')
            snprintf(ev->code, sizeof ev->code, "close");
    }
    lc_rtmp_cmd_free(&cmd);
    return rc;
}

static int on_message(lc_rtmp_client_t *c, lc_rtmp_client_event_t *ev, const lc_rtmp_msg_t *m)
{
    switch (m->type) {
    case LC_RTMP_WINDOW_ACK_SIZE:
        if (m->len >= 4)
            c->ack_window = rd_be32(m->payload);
        return 0;
    case LC_RTMP_USER_CONTROL:
        if (m->len >= 6 && m->payload[0] == 0 && m->payload[1] == UC_PING_REQUEST) {
            uint8_t pong[6] = { 0, UC_PING_RESPONSE };

            memcpy(pong + 2, m->payload + 2, 4);
            return put_control(c, ev, CSID_CONTROL, LC_RTMP_USER_CONTROL, 0, pong, sizeof pong);
        }
        return 0;                   /* StreamBegin and the rest: nothing to do */
    case LC_RTMP_COMMAND_AMF0:
    case LC_RTMP_COMMAND_AMF3:
        return on_command(c, ev, m);
    default:
        /* Set Chunk Size and Abort are applied by the reader; Set Peer
         * Bandwidth, Acknowledgement, media and data: nothing to do. */
        return 0;
    }
}

/* An Acknowledgement once the server's window of bytes has arrived. */
static int maybe_ack(lc_rtmp_client_t *c, lc_rtmp_client_event_t *ev)
{
    uint8_t seq[4];

    if (c->ack_window == 0 || c->bytes_in - c->acked < c->ack_window || c->phase >= PH_ENDED)
        return 0;
    c->acked = c->bytes_in;
    wr_be32(seq, (uint32_t)c->bytes_in);    /* the field wraps, as the spec says */
    return put_control(c, ev, CSID_CONTROL, LC_RTMP_ACK, 0, seq, 4);
}

/* S0, S1 (echoed at once as C2), S2 (then connect). *used: bytes taken. */
static int handshake_in(lc_rtmp_client_t *c, lc_rtmp_client_event_t *ev, const uint8_t *p, size_t len,
                        size_t *used)
{
    size_t i = 0;

    while (i < len && c->phase <= PH_S2) {
        size_t want, take;

        if (c->hs_got == 0) {
            const char *hint = p[i] == 'H' ? " (an HTTP server?)"
                             : p[i] == 0x16 ? " (a TLS server: is this rtmps?)"
                             : p[i] == 6 ? " (encrypted RTMPE, which is not supported)" : "";

            if (p[i] != 3) {
                *used = 1;
                return fail(c, ev, "the server answered the handshake with version %u, not RTMP's 3%s", p[i],
                            hint);
            }
            c->hs_got = 1;
            i = 1;
            continue;
        }
        want = c->hs_got < 1 + HS ? 1 + HS : 1 + 2 * HS;
        take = want - c->hs_got < len - i ? want - c->hs_got : len - i;
        if (c->hs_got < 1 + HS)
            memcpy(c->s1 + c->hs_got - 1, p + i, take);
        c->hs_got += (uint32_t)take;
        i += take;
        if (c->hs_got == 1 + HS) {
            c->phase = PH_S2;
            if (put_raw(c, ev, c->s1, HS) < 0) {
                *used = i;
                return -1;
            }
        } else if (c->hs_got == 1 + 2 * HS && send_connect(c, ev) < 0) {
            *used = i;
            return -1;
        }
    }
    *used = i;
    return 0;
}

/* ---- API ---- */

static int conf_string(char **dst, const char *s, const char *what, char *err, size_t errlen)
{
    size_t n = s != NULL ? strlen(s) : 0;

    if (n == 0 || n > LC_RTMP_CLIENT_STRING_MAX) {
        if (err != NULL && errlen > 0)
            snprintf(err, errlen, n == 0 ? "%s is empty" : "%s is longer than %d bytes", what,
                     LC_RTMP_CLIENT_STRING_MAX);
        return -1;
    }
    *dst = strdup(s);
    if (*dst == NULL) {
        if (err != NULL && errlen > 0)
            snprintf(err, errlen, "out of memory");
        return -1;
    }
    return 0;
}

lc_rtmp_client_t *lc_rtmp_client_new(const lc_rtmp_client_conf_t *conf, char *err, size_t errlen)
{
    lc_rtmp_client_t *c = calloc(1, sizeof *c);
    const char *why = "out of memory";
    uint8_t *c0c1;

    if (c == NULL)
        goto failed;
    if (conf_string(&c->app, conf->app, "the RTMP app", err, errlen) < 0
        || conf_string(&c->tc_url, conf->tc_url, "the tcUrl", err, errlen) < 0
        || conf_string(&c->key, conf->stream_key, "the stream key", err, errlen) < 0) {
        lc_rtmp_client_free(c);
        return NULL;
    }
    c->chunk_size = conf->chunk_size != 0 ? conf->chunk_size : LC_RTMP_CLIENT_DEFAULT_CHUNK;
    if (c->chunk_size > LC_RTMP_MAX_CHUNK_ACCEPTED) {
        why = "chunk size over 16 MiB";
        goto failed;
    }
    c->out_chunk = LC_RTMP_DEFAULT_CHUNK;
    c->max_output = conf->max_output != 0 ? conf->max_output : LC_RTMP_CLIENT_DEFAULT_MAX_OUTPUT;
    c->rd = lc_rtmp_chunk_reader_new(conf->max_message != 0 ? conf->max_message
                                                            : LC_RTMP_CLIENT_DEFAULT_MAX_MESSAGE);
    if (c->rd == NULL)
        goto failed;
    if (conf->budget != NULL)
        lc_rtmp_chunk_reader_set_budget(c->rd, conf->budget);

    /* C0 = 3; C1 = time 0, version 0 (the simple handshake), random */
    c0c1 = out_reserve(c, 1 + HS);
    if (c0c1 == NULL)
        goto failed;
    memset(c0c1, 0, 9);
    c0c1[0] = 3;
    if (RAND_bytes(c0c1 + 9, HS - 8) != 1) {
        why = "random bytes unavailable for the handshake";
        goto failed;
    }
    c->out_len = 1 + HS;
    c->phase = PH_S0S1;
    return c;

failed:
    if (err != NULL && errlen > 0)
        snprintf(err, errlen, "%s", why);
    lc_rtmp_client_free(c);
    return NULL;
}

void lc_rtmp_client_free(lc_rtmp_client_t *c)
{
    if (c == NULL)
        return;
    lc_rtmp_chunk_reader_free(c->rd);
    free(c->out);
    free(c->app);
    free(c->tc_url);
    free(c->key);
    free(c);
}

const uint8_t *lc_rtmp_client_pending(lc_rtmp_client_t *c, size_t *len)
{
    *len = out_pending(c);
    return *len > 0 ? c->out + c->out_head : NULL;
}

void lc_rtmp_client_consumed(lc_rtmp_client_t *c, size_t n)
{
    if (n > out_pending(c))
        n = out_pending(c);
    c->out_head += n;
    if (c->out_head == c->out_len)
        c->out_head = c->out_len = 0;
}

long lc_rtmp_client_input(lc_rtmp_client_t *c, const uint8_t *buf, size_t len, lc_rtmp_client_event_t *ev)
{
    size_t off = 0;

    memset(ev, 0, sizeof *ev);
    if (c->phase == PH_FAILED) {
        ev->type = LC_RTMP_CLIENT_ERROR;
        ev->error = c->err;
        return -1;
    }
    if (c->phase == PH_ENDED)
        return (long)len;
    if (len > (size_t)LONG_MAX)
        len = (size_t)LONG_MAX;
    while (off < len && ev->type == LC_RTMP_CLIENT_NONE) {
        lc_rtmp_msg_t m;
        const char *err = "";
        size_t used = 0;
        int got, rc;
        long n;

        if (c->phase <= PH_S2) {
            rc = handshake_in(c, ev, buf + off, len - off, &used);
            off += used;
            c->bytes_in += used;
            if (rc < 0)
                return -1;
            continue;
        }
        n = lc_rtmp_chunk_feed(c->rd, buf + off, len - off, &m, &got, &err);
        if (n < 0)
            return fail(c, ev, "bad chunk stream from the server: %s", err);
        off += (size_t)n;
        c->bytes_in += (uint64_t)n;
        if (!got)
            break;                  /* all taken (the reader's invariant) */
        rc = on_message(c, ev, &m);
        free(m.payload);
        if (rc < 0)
            return -1;
    }
    if (maybe_ack(c, ev) < 0)
        return -1;
    return (long)off;
}

int lc_rtmp_client_send(lc_rtmp_client_t *c, uint8_t type, uint32_t timestamp_ms, const uint8_t *body, size_t len,
                        const char **err)
{
    /* "onMetaData" as an AMF0 string, and what goes before it */
    static const uint8_t on_meta[13] = { 2, 0, 10, 'o', 'n', 'M', 'e', 't', 'a', 'D', 'a', 't', 'a' };
    static const uint8_t set_frame[16] = { 2, 0, 13, '@', 's', 'e', 't', 'D', 'a', 't', 'a', 'F', 'r', 'a', 'm', 'e' };
    uint8_t *tmp = NULL;
    uint32_t csid;
    int rc;

    if (c->phase != PH_PUBLISHING)
        return set_err(err, c->phase < PH_PUBLISHING ? "not publishing yet" : "not publishing any more");
    if (type == LC_RTMP_AUDIO)
        csid = CSID_AUDIO;
    else if (type == LC_RTMP_VIDEO)
        csid = CSID_VIDEO;
    else if (type == LC_RTMP_DATA_AMF0)
        csid = CSID_DATA;
    else
        return set_err(err, "only audio, video and data (metadata) messages are sent");
    if (body == NULL && len > 0)
        return set_err(err, "no message body");
    if (type == LC_RTMP_DATA_AMF0 && len >= sizeof on_meta && memcmp(body, on_meta, sizeof on_meta) == 0) {
        if (len > MAX_RTMP_MESSAGE - sizeof set_frame)
            return set_err(err, "message over RTMP's 16 MiB limit");
        tmp = malloc(sizeof set_frame + len);
        if (tmp == NULL)
            return set_err(err, "out of memory");
        memcpy(tmp, set_frame, sizeof set_frame);
        memcpy(tmp + sizeof set_frame, body, len);
        body = tmp;
        len += sizeof set_frame;
    }
    if (len > MAX_RTMP_MESSAGE) {
        free(tmp);
        return set_err(err, "message over RTMP's 16 MiB limit");
    }
    if (out_pending(c) >= c->max_output) {
        free(tmp);
        return 1;
    }
    rc = put_msg(c, csid, type, timestamp_ms, c->stream_id, body, len);
    free(tmp);
    return rc < 0 ? set_err(err, "out of memory") : 0;
}

int lc_rtmp_client_unpublish(lc_rtmp_client_t *c, const char **err)
{
    lc_amf0_buf_t b = { 0 };
    lc_rtmp_client_event_t ev;

    if (c->phase != PH_PUBLISH && c->phase != PH_PUBLISHING)
        return set_err(err, "not publishing");
    lc_rtmp_cmd_put_call(&b, "FCUnpublish", TXN_FCUNPUBLISH, c->key, NULL);
    if (put_command(c, &ev, CSID_COMMAND, 0, &b) < 0)
        return set_err(err, c->err);
    /* deleteStream(txn, null, id): the one call whose argument is a number */
    lc_amf0_put_string(&b, "deleteStream");
    lc_amf0_put_number(&b, TXN_DELETE);
    lc_amf0_put_null(&b);
    lc_amf0_put_number(&b, c->stream_id);
    if (put_command(c, &ev, CSID_COMMAND, 0, &b) < 0)
        return set_err(err, c->err);
    c->phase = PH_UNPUBLISHING;
    return 0;
}

const char *lc_rtmp_client_phase(const lc_rtmp_client_t *c)
{
    return phase_names[c->phase];
}
