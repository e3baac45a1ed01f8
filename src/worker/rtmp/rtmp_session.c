/*
 * rtmp_session.c: one RTMP connection in a worker: handshake, chunk
 * stream, the NetConnection/NetStream commands, and the glue to the stream
 * core for publishing (frames into the ring) and playing (frames out of
 * it). Parsing lives in src/common/rtmp (I/O-free); this file owns the
 * socket, the session state and what each command means.
 *
 * Any protocol error closes this session only, after a log line naming
 * the peer and the reason and a message telling the peer the same (an
 * _error to the call that failed, else onStatus NetConnection.Connect.
 * Rejected); a publisher's stream then ends for its players.
 */
#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <openssl/crypto.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/core/log.h"
#include "common/core/net.h"
#include "common/media/flv.h"
#include "common/rtmp/amf0.h"
#include "common/rtmp/rtmp_chunk.h"
#include "common/rtmp/rtmp_cmd.h"
#include "common/rtmp/rtmp_handshake.h"
#include "common/shm/stream_table.h"
#include "worker/stream_core.h"

#define MAX_MESSAGE (8u << 20)        /* one video frame of a 4K keyframe fits */
/* Bytes of partial messages all RTMP connections of this worker may hold
 * at once (each connection at most 2 x MAX_MESSAGE, see rtmp_chunk.h):
 * real encoders hold one frame in flight, a few hundred KB. */
#define WORKER_PARTIAL_LIMIT ((size_t)64 << 20)
#define WINDOW_ACK 2500000u
#define PLAYER_BACKLOG (2u << 20)     /* queued bytes before a player skips to the next keyframe */
#define MSID 1                        /* the one NetStream each connection gets */
#define CSID_CONTROL 2
#define CSID_COMMAND 3
#define CSID_AUDIO 4
#define CSID_DATA 5
#define CSID_VIDEO 6

enum { HS_C0C1, HS_C2, CHUNKS };

typedef struct lc_rtmp_session lc_rtmp_session_t;
struct lc_rtmp_session {
    lc_worker_t *w;
    struct bufferevent *bev;
    lc_rtmp_session_t *prev, *next;
    uint64_t id;
    char peer[64];
    int state;
    int closing;
    int write_armed; /* output backed up: libevent writes when the socket is writable */
    lc_rtmp_chunk_reader_t *reader;
    uint32_t out_chunk;
    uint64_t bytes_in, acked;
    uint32_t ack_window;
    int connected;   /* connect answered: our chunk size is announced (out_chunk) */
    char app[128];
    char name[LC_STREAM_NAME_MAX];
    lc_pub_t *pub;
    int seen_video;
    lc_play_t *play;
    struct event *deadline; /* limits.handshake_timeout, absolute; see on_deadline */
    int overflow;           /* output past limits.output_buffer: closed from on_deadline */
};

static lc_rtmp_session_t *sessions;
static lc_rtmp_chunk_budget_t partial_budget = { 0, WORKER_PARTIAL_LIMIT };
static struct event *batch_timer; /* flushes live players' output, see play_flush */

#define SLOG(s, lvl, fmt, ...) \
    lc_log(lvl, "[rtmp:%llx %s%s%s] " fmt, (unsigned long long)(s)->id, (s)->peer, (s)->name[0] ? " stream:" : "", \
           (s)->name, ##__VA_ARGS__)

/* ---- lifetime ---- */

static void session_free(lc_rtmp_session_t *s)
{
    if (s->prev)
        s->prev->next = s->next;
    else
        sessions = s->next;
    if (s->next)
        s->next->prev = s->prev;
    if (s->pub) {
        SLOG(s, LC_LOG_INFO, "publisher gone: stream ends");
        lc_core_unpublish(s->pub);
    }
    if (s->play)
        lc_core_stop(s->play);
    lc_rtmp_chunk_reader_free(s->reader);
    bufferevent_free(s->bev);
    if (s->deadline)
        event_free(s->deadline);
    lc_worker_conn_closed(s->w);
    lc_worker_session_closed(s->w);
    free(s);
}

void lc_rtmp_session_close_all(void)
{
    while (sessions)
        session_free(sessions);
    if (batch_timer)
        event_free(batch_timer);
    batch_timer = NULL;
}

static void on_flushed(struct bufferevent *bev, void *arg)
{
    lc_rtmp_session_t *s = arg;
    (void)bev;
    if (evbuffer_get_length(bufferevent_get_output(s->bev)) == 0)
        session_free(s);
}

static void on_close_event(struct bufferevent *bev, short what, void *arg)
{
    (void)bev;
    (void)what;
    session_free(arg);
}

/* Write queued output now, from the loop's turn that queued it. Only when
 * the socket does not take it all is the write event armed (and the write
 * timeout with it): a player that keeps up costs one writev per wake and
 * no epoll_ctl. Errors surface through the armed event, so this never
 * frees the session under its caller. */
static void session_flush(lc_rtmp_session_t *s)
{
    struct evbuffer *out = bufferevent_get_output(s->bev);
    if (s->write_armed || evbuffer_get_length(out) == 0)
        return;
    /* on an error the bytes stay queued: the armed write meets it again and reports it */
    (void)evbuffer_write(out, bufferevent_getfd(s->bev));
    if (evbuffer_get_length(out) > 0) {
        s->write_armed = 1;
        bufferevent_enable(s->bev, EV_WRITE);
    }
}

/* The socket took everything: back to direct writes. */
static void on_written(struct bufferevent *bev, void *arg)
{
    lc_rtmp_session_t *s = arg;
    s->write_armed = 0;
    bufferevent_disable(bev, EV_WRITE);
}

/* Stop reading, let the peer read what we queued (bounded), then free. */
static void close_after_flush(lc_rtmp_session_t *s)
{
    if (s->closing)
        return;
    s->closing = 1;
    if (s->pub) {
        lc_core_unpublish(s->pub);
        s->pub = NULL;
    }
    if (s->play) {
        lc_core_stop(s->play);
        s->play = NULL;
    }
    bufferevent_disable(s->bev, EV_READ);
    bufferevent_setcb(s->bev, NULL, on_flushed, on_close_event, s);
    struct timeval tv = { 5, 0 };
    bufferevent_set_timeouts(s->bev, NULL, &tv);
    if (evbuffer_get_length(bufferevent_get_output(s->bev)) == 0)
        session_free(s);
    else
        bufferevent_enable(s->bev, EV_WRITE);
}

/* ---- output ---- */

/* limits.output_buffer: the hard bound on what this session may have
 * queued. A peer past it does not read what we send (PingRequests it
 * never takes the replies of, a player that stalled while frames kept
 * coming in bigger than the skip-to-key policy could drop). */
static size_t out_queued(const lc_rtmp_session_t *s)
{
    return evbuffer_get_length(bufferevent_get_output(s->bev));
}

static int out_over(const lc_rtmp_session_t *s)
{
    return out_queued(s) > (size_t)s->w->cycle->conf->limits_output_buffer;
}

static void send_msg(lc_rtmp_session_t *s, uint32_t csid, uint8_t type, uint32_t ts, uint32_t msid,
                     const uint8_t *payload, uint32_t len)
{
    size_t n = lc_rtmp_chunk_size_of(len, s->out_chunk, ts);
    uint8_t stackbuf[2048];
    uint8_t *out = n <= sizeof(stackbuf) ? stackbuf : malloc(n);
    if (!out)
        return;
    n = lc_rtmp_chunk_write(out, csid, type, ts, msid, payload, len, s->out_chunk);
    evbuffer_add(bufferevent_get_output(s->bev), out, n);
    if (out != stackbuf)
        free(out);
}

static void put_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static void send_u32(lc_rtmp_session_t *s, uint8_t type, uint32_t v)
{
    uint8_t b[4];
    put_be32(b, v);
    send_msg(s, CSID_CONTROL, type, 0, 0, b, 4);
}

static void send_user_control(lc_rtmp_session_t *s, uint16_t event, uint32_t v)
{
    uint8_t b[6] = { (uint8_t)(event >> 8), (uint8_t)event };
    put_be32(b + 2, v);
    send_msg(s, CSID_CONTROL, LC_RTMP_USER_CONTROL, 0, 0, b, 6);
}

static void send_amf(lc_rtmp_session_t *s, uint8_t type, uint32_t csid, uint32_t msid, lc_amf0_buf_t *b)
{
    if (!b->failed)
        send_msg(s, csid, type, 0, msid, b->data, (uint32_t)b->len);
    lc_amf0_buf_free(b);
}

static void send_status(lc_rtmp_session_t *s, const char *level, const char *code, const char *desc)
{
    lc_amf0_buf_t b = { 0 };
    lc_rtmp_cmd_put_status(&b, level, code, desc);
    send_amf(s, LC_RTMP_COMMAND_AMF0, CSID_COMMAND, MSID, &b);
}

/* _result(txn, null, value) with value a number, or null when num < 0 */
static void send_result(lc_rtmp_session_t *s, double txn, double num)
{
    lc_amf0_buf_t b = { 0 };
    lc_rtmp_cmd_put_result(&b, txn, num);
    send_amf(s, LC_RTMP_COMMAND_AMF0, CSID_COMMAND, 0, &b);
}

/* The session must close for bad input: log why (log_pfx, then the reason)
 * and tell the peer in the same words (SPEC 9): _error(txn) when the call
 * that failed has a transaction id, else onStatus on the NetConnection
 * (FFmpeg and OBS print an error-level description). code NULL: the
 * default for the case. Returns -1, which closes the session. */
static int refuse(lc_rtmp_session_t *s, double txn, const char *code, const char *log_pfx, const char *fmt, ...)
{
    char why[256], desc[300];
    va_list ap;
    lc_amf0_buf_t b = { 0 };

    va_start(ap, fmt);
    vsnprintf(why, sizeof(why), fmt, ap);
    va_end(ap);
    SLOG(s, LC_LOG_WARN, "%s%s", log_pfx, why);
    snprintf(desc, sizeof(desc), "Protocol error: %s", why);
    if (txn > 0)
        lc_rtmp_cmd_put_error(&b, txn, code ? code : "NetConnection.Call.Failed", desc);
    else
        lc_rtmp_cmd_put_status(&b, "error", code ? code : "NetConnection.Connect.Rejected", desc);
    send_amf(s, LC_RTMP_COMMAND_AMF0, CSID_COMMAND, 0, &b);
    return -1;
}

/* ---- playing ---- */

static int play_congested(void *ctx)
{
    lc_rtmp_session_t *s = ctx;
    /* below the hard bound, so a congested player skips frames before it is closed */
    size_t hard = (size_t)s->w->cycle->conf->limits_output_buffer / 2;
    return out_queued(s) > (PLAYER_BACKLOG < hard ? PLAYER_BACKLOG : hard);
}

static size_t play_queued(void *ctx)
{
    lc_rtmp_session_t *s = ctx;
    return evbuffer_get_length(bufferevent_get_output(s->bev));
}

static void play_frame(void *ctx, lc_shared_frame_t *sf)
{
    lc_rtmp_session_t *s = ctx;
    /* VP8 and Opus frames (WebRTC publishers) are raw, not FLV bodies: an
     * RTMP player cannot take them until live transcoding lands; data
     * channel text is for WebRTC players */
    if (sf->f.codec == LC_CODEC_VP8 || sf->f.codec == LC_CODEC_OPUS || sf->f.codec == LC_CODEC_TEXT || s->overflow)
        return;
    if (!sf->rtmp) {
        /* built once per frame per worker: every RTMP player here shares these bytes */
        static const uint8_t types[] = { LC_RTMP_VIDEO, LC_RTMP_AUDIO, LC_RTMP_DATA_AMF0 };
        static const uint32_t csids[] = { CSID_VIDEO, CSID_AUDIO, CSID_DATA };
        unsigned t = sf->f.track < 3 ? sf->f.track : 2;
        uint32_t ts = (uint32_t)(sf->f.ts / 1000);
        sf->rtmp = lc_refbuf_new(lc_rtmp_chunk_size_of(sf->f.len, s->out_chunk, ts));
        if (!sf->rtmp)
            return;
        sf->rtmp->len = lc_rtmp_chunk_write(sf->rtmp->data, csids[t], types[t], ts, MSID, sf->payload,
                                            sf->f.len, s->out_chunk);
    }
    evbuffer_add_reference(bufferevent_get_output(s->bev), sf->rtmp->data, sf->rtmp->len,
                           lc_refbuf_evbuffer_cleanup, lc_refbuf_ref(sf->rtmp));
    atomic_fetch_add_explicit(&lc_shm_proc(s->w->cycle->shm, s->w->cycle->slot)->bytes_out, sf->rtmp->len,
                              memory_order_relaxed);
    if (out_over(s)) {
        /* the core is iterating its players: close from the loop's next turn */
        s->overflow = 1;
        event_active(s->deadline, EV_TIMEOUT, 0);
    }
}

static void play_end(void *ctx, const char *why)
{
    lc_rtmp_session_t *s = ctx;
    s->play = NULL; /* the core freed it */
    SLOG(s, LC_LOG_INFO, "play ends: %s", why);
    send_status(s, "status", "NetStream.Play.UnpublishNotify", why);
    send_user_control(s, 1 /* StreamEOF */, MSID);
    send_status(s, "status", "NetStream.Play.Stop", why);
    close_after_flush(s);
}

/* Live players' writes wait for the batch timer: at 2.5 Mbit/s a frame is
 * ~1-12 KB, and a write per frame per player costs a TCP segment (and on
 * loopback the receiver's processing too) per frame. */
static void on_batch(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    (void)arg;
    for (lc_rtmp_session_t *s = sessions; s; s = s->next)
        if (s->play && !s->closing)
            session_flush(s);
}

static void play_flush(void *ctx, int urgent)
{
    lc_rtmp_session_t *s = ctx;
    int64_t ms = s->w->cycle->conf->rtmp_send_batch_ms;
    if (urgent || ms == 0) {
        session_flush(s);
        return;
    }
    if (!batch_timer) {
        struct timeval tv = { (time_t)(ms / 1000), (suseconds_t)(ms % 1000) * 1000 };
        batch_timer = event_new(s->w->base, -1, EV_PERSIST, on_batch, NULL);
        if (!batch_timer || event_add(batch_timer, &tv) < 0) {
            SLOG(s, LC_LOG_ERROR, "cannot arm the send batch timer: writing each frame at once");
            session_flush(s);
        }
    }
}

static const lc_player_ops_t play_ops = { play_frame, play_end, play_congested, play_queued, play_flush };

/* ---- publishing ---- */

static void pub_terminate(void *ctx)
{
    lc_rtmp_session_t *s = ctx;
    send_status(s, "status", "NetStream.Publish.Stop", "Terminated by the server");
    close_after_flush(s);
}

static int publish_frame(lc_rtmp_session_t *s, const lc_rtmp_msg_t *m)
{
    lc_flv_info_t info;
    const char *err;
    lc_frame_t f = { .len = m->len, .ts = (int64_t)m->timestamp * 1000 };

    if (m->len == 0)
        return 0; /* some encoders send empty audio/video messages: nothing to forward */
    if (m->type == LC_RTMP_VIDEO) {
        if (lc_flv_video_info(m->payload, m->len, &info, &err) < 0)
            goto bad;
        s->seen_video = 1;
        f.track = 0;
        f.flags = (uint8_t)((info.keyframe && !info.config ? LC_FRAME_KEY : 0) | (info.config ? LC_FRAME_CONFIG : 0));
    } else {
        if (lc_flv_audio_info(m->payload, m->len, &info, &err) < 0)
            goto bad;
        f.track = 1;
        /* audio-only streams start anywhere; with video, players start at a video keyframe */
        f.flags = (uint8_t)((!s->seen_video && !info.config ? LC_FRAME_KEY : 0) | (info.config ? LC_FRAME_CONFIG : 0));
    }
    f.codec = (uint8_t)info.codec;
    if (lc_core_pub_write(s->pub, &f, m->payload, &err) < 0)
        return refuse(s, 0, NULL, "publisher closed: ", "%s (%u bytes)", err, m->len);
    return 0;
bad:
    return refuse(s, 0, NULL, "publisher closed: ", "bad FLV %s tag: %s", m->type == LC_RTMP_VIDEO ? "video" : "audio",
                  err);
}

/* @setDataFrame("onMetaData", {...}) or onMetaData({...}): kept as the
 * stream's metadata and sent to players as onMetaData. */
static int publish_metadata(lc_rtmp_session_t *s, const lc_rtmp_msg_t *m)
{
    lc_amf0_buf_t b = { 0 };
    const char *err;
    int rc = lc_rtmp_cmd_metadata(m->payload, m->len, &b, &err);
    if (rc < 0) {
        lc_amf0_buf_free(&b);
        return refuse(s, 0, NULL, "publisher closed: ", "bad AMF0 in data message: %s", err);
    }
    if (rc > 0) {
        lc_frame_t f = { .track = 2, .flags = LC_FRAME_META, .codec = LC_CODEC_AMF0_DATA,
                         .len = (uint32_t)b.len, .ts = (int64_t)m->timestamp * 1000 };
        rc = lc_core_pub_write(s->pub, &f, b.data, &err);
        lc_amf0_buf_free(&b);
        if (rc < 0)
            return refuse(s, 0, NULL, "publisher closed: ", "metadata refused: %s", err);
    }
    return 0;
}

/* ---- commands ---- */

/* The stream name of publish/play ("NAME" or "NAME?query", see
 * lc_rtmp_cmd_stream_name) into s->name; the token, if any, into token. */
static int take_name(lc_rtmp_session_t *s, const lc_amf0_t *arg, char *token, size_t token_cap, int *has_token,
                     const char **err)
{
    if (!arg || arg->type != LC_AMF0_STRING) {
        *err = "no stream name";
        return -1;
    }
    int rc = lc_rtmp_cmd_stream_name(arg->str, arg->len, s->name, sizeof(s->name), token, token_cap, has_token, err);
    if (rc < 0)
        s->name[0] = '\0';
    return rc;
}

/* Constant time in the token's content (SPEC 9): both sides are compared
 * over the whole buffer, zero-padded. */
static int token_ok(const char *want, const char *got, size_t cap)
{
    char a[LC_RTMP_CMD_TOKEN_MAX] = { 0 };
    size_t n = strlen(want);
    if (n >= sizeof(a) || cap != sizeof(a))
        return 0;
    memcpy(a, want, n);
    int eq = CRYPTO_memcmp(a, got, sizeof(a)) == 0;
    OPENSSL_cleanse(a, sizeof(a));
    return eq;
}

static void cmd_connect(lc_rtmp_session_t *s, double txn, const lc_amf0_t *obj)
{
    const char *app = lc_amf0_str(lc_amf0_get(obj, "app"));
    snprintf(s->app, sizeof(s->app), "%s", app ? app : "");
    send_u32(s, LC_RTMP_WINDOW_ACK_SIZE, WINDOW_ACK);
    uint8_t bw[5];
    put_be32(bw, WINDOW_ACK);
    bw[4] = 2; /* dynamic */
    send_msg(s, CSID_CONTROL, LC_RTMP_SET_PEER_BANDWIDTH, 0, 0, bw, 5);
    /* until now the peer read our chunks at the default size */
    s->out_chunk = (uint32_t)s->w->cycle->conf->rtmp_chunk_size;
    send_u32(s, LC_RTMP_SET_CHUNK_SIZE, s->out_chunk);
    s->connected = 1;

    lc_amf0_buf_t b = { 0 };
    lc_rtmp_cmd_put_connect_result(&b, txn, lc_amf0_num(lc_amf0_get(obj, "objectEncoding"), 0));
    send_amf(s, LC_RTMP_COMMAND_AMF0, CSID_COMMAND, 0, &b);
}

static int cmd_publish(lc_rtmp_session_t *s, const lc_amf0_t *arg)
{
    char token[LC_RTMP_CMD_TOKEN_MAX] = { 0 };
    int has_token = 0;
    const char *err;

    if (s->pub || s->play || !s->connected) {
        const char *why = s->connected ? "already publishing or playing" : "publish before connect";
        SLOG(s, LC_LOG_WARN, "publish refused: %s", why);
        send_status(s, "error", "NetStream.Publish.BadName", why);
        return -1;
    }
    if (take_name(s, arg, token, sizeof(token), &has_token, &err) < 0) {
        char desc[128];
        snprintf(desc, sizeof(desc), "Bad stream name: %s", err);
        SLOG(s, LC_LOG_WARN, "publish refused: bad stream name (%s)", err);
        send_status(s, "error", "NetStream.Publish.BadName", desc);
        return -1;
    }
    /* SPEC 5: with signaling.publish_token set, the name carries ?token= */
    const char *want = s->w->cycle->conf->signaling_publish_token;
    if (want[0] && (!has_token || !token_ok(want, token, sizeof(token)))) {
        OPENSSL_cleanse(token, sizeof(token));
        SLOG(s, LC_LOG_WARN, "publish refused: %s", has_token ? "wrong token" : "no token");
        send_status(s, "error", "NetStream.Publish.BadName",
                    has_token ? "Publish refused: wrong token"
                              : "Publish refused: this server needs a token: publish to NAME?token=TOKEN");
        return -1;
    }
    OPENSSL_cleanse(token, sizeof(token));
    char who[sizeof(s->peer) + 8];
    snprintf(who, sizeof(who), "rtmp %s", s->peer);
    static const lc_pub_ops_t pub_ops = { pub_terminate, NULL }; /* RTMP cannot ask for a keyframe */
    int rc = lc_core_publish(s->w, s->name, who, &pub_ops, s, &s->pub);
    if (rc < 0) {
        const char *why = rc == -EEXIST   ? "Stream name in use"
                          : rc == -EINVAL ? "Bad stream name"
                          : rc == -EDQUOT ? "Too many streams from this address"
                          : rc == -EUSERS ? "No room for another stream (the rest is kept for trusted publishers)"
                                          : "No room for another stream (media.shm_size)";
        SLOG(s, LC_LOG_WARN, "publish refused: %s", why);
        send_status(s, "error", "NetStream.Publish.BadName", why);
        return -1;
    }
    SLOG(s, LC_LOG_INFO, "publishing (app \"%s\")", s->app);
    send_user_control(s, 0 /* StreamBegin */, MSID);
    send_status(s, "status", "NetStream.Publish.Start", "Start publishing");
    return 0;
}

static int cmd_play(lc_rtmp_session_t *s, const lc_amf0_t *arg)
{
    char token[LC_RTMP_CMD_TOKEN_MAX];
    int has_token;
    const char *err = "already publishing or playing";

    /* a player's query (tokens, player params) is not part of the name */
    if (s->pub || s->play || !s->connected || take_name(s, arg, token, sizeof(token), &has_token, &err) < 0) {
        char desc[128];
        snprintf(desc, sizeof(desc), "Bad stream name: %s", s->connected ? err : "play before connect");
        SLOG(s, LC_LOG_INFO, "play refused: %s", desc);
        send_status(s, "error", "NetStream.Play.Failed", desc);
        return -1;
    }
    if (!lc_core_playable(s->w, s->name)) {
        SLOG(s, LC_LOG_INFO, "play refused: stream not found");
        send_status(s, "error", "NetStream.Play.StreamNotFound", "Stream not found");
        return -1;
    }
    send_user_control(s, 0 /* StreamBegin */, MSID);
    send_status(s, "status", "NetStream.Play.Reset", "Playing and resetting");
    send_status(s, "status", "NetStream.Play.Start", "Start playing");
    lc_amf0_buf_t b = { 0 };
    lc_amf0_put_string(&b, "|RtmpSampleAccess");
    lc_amf0_put_bool(&b, 1);
    lc_amf0_put_bool(&b, 1);
    send_amf(s, LC_RTMP_DATA_AMF0, CSID_DATA, MSID, &b);
    /* FLV carries AAC, Speex, PCMA, PCMU (and MP3) and H.264 (and the old
     * H.263, VP6, the enhanced HEVC); anything else comes as AAC and H.264
     * through the shared transcoder */
    lc_core_accept_t acc = {
        .audio = LC_CORE_CODEC_BIT(LC_CODEC_AAC) | LC_CORE_CODEC_BIT(LC_CODEC_SPEEX) |
                 LC_CORE_CODEC_BIT(LC_CODEC_PCMA) | LC_CORE_CODEC_BIT(LC_CODEC_PCMU) | LC_CORE_CODEC_BIT(LC_CODEC_MP3),
        .audio_want = LC_CODEC_AAC,
        .video = LC_CORE_CODEC_BIT(LC_CODEC_H264) | LC_CORE_CODEC_BIT(LC_CODEC_H263) |
                 LC_CORE_CODEC_BIT(LC_CODEC_VP6) | LC_CORE_CODEC_BIT(LC_CODEC_HEVC),
        .video_want = LC_CODEC_H264,
    };
    int rc = lc_core_play_as(s->w, s->name, &acc, &play_ops, s, &s->play);
    if (rc == -EDQUOT) {
        SLOG(s, LC_LOG_INFO, "play refused: transcoding capacity reached");
        send_status(s, "error", "NetStream.Play.Failed", "Transcoding capacity reached");
        return -1;
    }
    if (rc < 0) {
        send_status(s, "error", "NetStream.Play.StreamNotFound", "Stream not found");
        return -1;
    }
    SLOG(s, LC_LOG_INFO, "playing");
    return 0;
}

/* Returns -1 when the session must close. */
static int handle_command(lc_rtmp_session_t *s, const lc_rtmp_msg_t *m)
{
    lc_rtmp_cmd_t c;
    const char *err;
    if (lc_rtmp_cmd_parse(m->type, m->payload, m->len, &c, &err) < 0) {
        int connect = c.name && strcmp(c.name, "connect") == 0;
        /* the name goes into the log and the reply only when it is a plain word */
        int word = c.name && c.name[0] && strlen(c.name) < 32;
        for (const char *p = c.name; word && *p; p++)
            word = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '_';
        refuse(s, c.has_txn ? c.txn : 0, connect ? "NetConnection.Connect.Rejected" : NULL, "closed: ",
               "bad AMF0 command%s%s: %s", word ? " " : "", word ? c.name : "", err);
        lc_rtmp_cmd_free(&c);
        return -1;
    }
    const char *cmd = c.name;
    double txn = c.txn;
    int rc = 0;

    if (strcmp(cmd, "connect") == 0) {
        cmd_connect(s, txn, c.obj);
    } else if (strcmp(cmd, "createStream") == 0) {
        send_result(s, txn, MSID);
    } else if (strcmp(cmd, "publish") == 0) {
        rc = cmd_publish(s, lc_rtmp_cmd_arg(&c, 0));
    } else if (strcmp(cmd, "play") == 0) {
        rc = cmd_play(s, lc_rtmp_cmd_arg(&c, 0));
    } else if (strcmp(cmd, "deleteStream") == 0 || strcmp(cmd, "closeStream") == 0 ||
               strcmp(cmd, "FCUnpublish") == 0) {
        if (s->pub) {
            SLOG(s, LC_LOG_INFO, "unpublished");
            lc_core_unpublish(s->pub);
            s->pub = NULL;
        }
        if (s->play) {
            lc_core_stop(s->play);
            s->play = NULL;
        }
    } else if (strcmp(cmd, "getStreamLength") == 0) {
        send_result(s, txn, 0);
    } else if (strcmp(cmd, "releaseStream") == 0 || strcmp(cmd, "FCPublish") == 0 ||
               strcmp(cmd, "FCSubscribe") == 0) {
        if (txn > 0)
            send_result(s, txn, -1);
    } else if (txn > 0) {
        /* unknown call with a transaction: answer so the client does not hang */
        lc_amf0_buf_t b = { 0 };
        lc_rtmp_cmd_put_error(&b, txn, "NetConnection.Call.Failed", "Unknown command");
        send_amf(s, LC_RTMP_COMMAND_AMF0, CSID_COMMAND, 0, &b);
    }
    lc_rtmp_cmd_free(&c);
    return rc;
}

/* FLV tags packed in one message (type 22): each becomes its own message. */
static int handle_aggregate(lc_rtmp_session_t *s, const lc_rtmp_msg_t *m)
{
    lc_rtmp_cmd_aggregate_t it;
    lc_rtmp_msg_t sub;
    const char *err;
    int rc;
    lc_rtmp_cmd_aggregate_init(&it, m);
    while ((rc = lc_rtmp_cmd_aggregate_next(&it, &sub, &err)) > 0)
        if ((sub.type == LC_RTMP_AUDIO || sub.type == LC_RTMP_VIDEO) && publish_frame(s, &sub) < 0)
            return -1;
    return rc < 0 ? refuse(s, 0, NULL, "publisher closed: ", "%s", err) : 0;
}

static int handle_message(lc_rtmp_session_t *s, lc_rtmp_msg_t *m)
{
    switch (m->type) {
    case LC_RTMP_USER_CONTROL:
        if (m->len >= 6 && m->payload[0] == 0 && m->payload[1] == 6) { /* PingRequest */
            uint8_t b[6] = { 0, 7 };
            memcpy(b + 2, m->payload + 2, 4);
            send_msg(s, CSID_CONTROL, LC_RTMP_USER_CONTROL, 0, 0, b, 6);
        }
        return 0;
    case LC_RTMP_WINDOW_ACK_SIZE:
        if (m->len >= 4)
            s->ack_window = (uint32_t)m->payload[0] << 24 | (uint32_t)m->payload[1] << 16 |
                            (uint32_t)m->payload[2] << 8 | m->payload[3];
        return 0;
    case LC_RTMP_AUDIO:
    case LC_RTMP_VIDEO:
        return s->pub ? publish_frame(s, m) : 0;
    case LC_RTMP_AGGREGATE:
        return s->pub ? handle_aggregate(s, m) : 0;
    case LC_RTMP_DATA_AMF0:
        return s->pub ? publish_metadata(s, m) : 0;
    case LC_RTMP_COMMAND_AMF0:
    case LC_RTMP_COMMAND_AMF3:
        return handle_command(s, m);
    }
    return 0;
}

/* ---- input ---- */

/* The worker's partial-message budget would be spent by the `need` bytes s
 * is about to feed: close the connection holding the most partial bytes
 * instead, when that is not s. What fills the budget is connections that
 * announce large messages and never finish them; a publisher's keyframe in
 * flight is a few hundred KB, so it is not the one to go. When s holds the
 * most, its own reader refuses the bytes. */
static void make_room(lc_rtmp_session_t *s, size_t need)
{
    while (partial_budget.used + need > partial_budget.limit) {
        lc_rtmp_session_t *big = NULL;
        size_t most = lc_rtmp_chunk_reader_held(s->reader);
        for (lc_rtmp_session_t *x = sessions; x; x = x->next) {
            size_t held = x != s && x->reader ? lc_rtmp_chunk_reader_held(x->reader) : 0;
            if (held > most) {
                big = x;
                most = held;
            }
        }
        if (!big)
            return;
        if (!big->closing)
            refuse(big, 0, NULL, "closed: ", "partial messages over the worker's limit (all RTMP connections): "
                   "this connection holds the most (%zu bytes)", most);
        lc_rtmp_chunk_reader_free(big->reader); /* gives its bytes back now, not after the flush */
        big->reader = NULL;
        close_after_flush(big);                 /* may free big */
    }
}

static int read_chunks(lc_rtmp_session_t *s)
{
    struct evbuffer *in = bufferevent_get_input(s->bev);
    struct evbuffer_iovec vec[8];

    while (!s->closing && evbuffer_get_length(in) > 0) {
        int nv = evbuffer_peek(in, -1, NULL, vec, 8);
        size_t used = 0;
        int progressed = 0;
        for (int i = 0; i < nv && i < 8 && !s->closing; i++) {
            const uint8_t *p = vec[i].iov_base;
            size_t left = vec[i].iov_len;
            /* after a message, ask again even with no input left: the
             * reader may hold look-ahead bytes that complete another */
            for (int again = 1; left > 0 || again;) {
                lc_rtmp_msg_t m;
                int got;
                const char *err;
                if (partial_budget.used + left > partial_budget.limit)
                    make_room(s, left);
                long n = lc_rtmp_chunk_feed(s->reader, p, left, &m, &got, &err);
                if (n < 0)
                    return refuse(s, 0, NULL, "closed: RTMP protocol error: ", "%s", err);
                p += n;
                left -= (size_t)n;
                used += (size_t)n;
                progressed |= n > 0 || got;
                again = got;
                if (got) {
                    int rc = handle_message(s, &m);
                    free(m.payload);
                    if (rc < 0)
                        return -1;
                    if (s->closing)
                        break;
                } else if (n == 0) {
                    break;
                }
            }
        }
        evbuffer_drain(in, used);
        s->bytes_in += used;
        if (!progressed)
            break;
    }
    /* acknowledge what we received, as the peer's window asks */
    if (s->ack_window && s->bytes_in - s->acked >= s->ack_window && !s->closing) {
        s->acked = s->bytes_in;
        send_u32(s, LC_RTMP_ACK, (uint32_t)s->bytes_in);
    }
    return 0;
}

static void on_read(struct bufferevent *bev, void *arg)
{
    lc_rtmp_session_t *s = arg;
    struct evbuffer *in = bufferevent_get_input(bev);

    if (s->state == HS_C0C1) {
        if (evbuffer_get_length(in) < 1 + LC_RTMP_HANDSHAKE_SIZE)
            return;
        uint8_t out[1 + 2 * LC_RTMP_HANDSHAKE_SIZE];
        const char *err;
        if (lc_rtmp_handshake_response(evbuffer_pullup(in, 1 + LC_RTMP_HANDSHAKE_SIZE), out, &err) < 0) {
            SLOG(s, LC_LOG_WARN, "closed: bad RTMP handshake: %s", err);
            session_free(s);
            return;
        }
        evbuffer_drain(in, 1 + LC_RTMP_HANDSHAKE_SIZE);
        evbuffer_add(bufferevent_get_output(bev), out, sizeof(out));
        session_flush(s);
        s->state = HS_C2;
    }
    if (s->state == HS_C2) {
        if (evbuffer_get_length(in) < LC_RTMP_HANDSHAKE_SIZE)
            return;
        evbuffer_drain(in, LC_RTMP_HANDSHAKE_SIZE);
        s->state = CHUNKS;
        const lc_conf_t *c = s->w->cycle->conf;
        struct timeval rt = { (time_t)c->rtmp_read_timeout, 0 }, wt = { (time_t)c->rtmp_write_timeout, 0 };
        bufferevent_set_timeouts(bev, c->rtmp_read_timeout ? &rt : NULL, c->rtmp_write_timeout ? &wt : NULL);
    }
    if (read_chunks(s) < 0) {
        close_after_flush(s); /* may free s */
        return;
    }
    session_flush(s);
    if (!s->closing && out_over(s)) {
        SLOG(s, LC_LOG_WARN, "closed: the peer does not read: %zu bytes queued (limits.output_buffer)", out_queued(s));
        session_free(s);
    }
}

/* Absolute, unlike a read timeout that each byte resets: a connection
 * that has not published or played within limits.handshake_timeout of its
 * accept, or of its last stream's end, is closed however it trickles. */
static void deadline_arm(lc_rtmp_session_t *s)
{
    struct timeval tv = { (time_t)s->w->cycle->conf->limits_handshake_timeout, 0 };
    if (event_add(s->deadline, &tv) < 0)
        SLOG(s, LC_LOG_ERROR, "cannot arm the handshake deadline");
}

static void on_deadline(evutil_socket_t fd, short what, void *arg)
{
    lc_rtmp_session_t *s = arg;
    (void)fd;
    (void)what;
    if (s->overflow) {
        SLOG(s, LC_LOG_WARN, "closed: the player does not read: %zu bytes queued (limits.output_buffer)",
             out_queued(s));
        session_free(s);
        return;
    }
    if (s->closing) /* close_after_flush bounds the rest */
        return;
    if (s->pub || s->play) {
        deadline_arm(s); /* look again later: a stream that ends leaves an idle connection */
        return;
    }
    SLOG(s, LC_LOG_INFO, "closed: no publish or play within limits.handshake_timeout (%llds)%s",
         s->w->cycle->conf->limits_handshake_timeout, s->state == CHUNKS ? "" : ", in the RTMP handshake");
    session_free(s);
}

static void on_event(struct bufferevent *bev, short what, void *arg)
{
    lc_rtmp_session_t *s = arg;
    (void)bev;
    if (what & BEV_EVENT_TIMEOUT)
        SLOG(s, LC_LOG_INFO, "closed: %s timed out", s->state == CHUNKS ? (what & BEV_EVENT_READING ? "read" : "write")
                                                                        : "handshake");
    else if (what & BEV_EVENT_ERROR)
        SLOG(s, LC_LOG_INFO, "closed: connection error: %s", strerror(EVUTIL_SOCKET_ERROR()));
    else
        SLOG(s, LC_LOG_DEBUG, "peer closed");
    session_free(s);
}

void lc_rtmp_session_accept(lc_worker_t *w, evutil_socket_t fd, const struct sockaddr *peer)
{
    lc_rtmp_session_t *s = calloc(1, sizeof(*s));
    if (!s) {
        evutil_closesocket(fd);
        return;
    }
    s->w = w;
    s->id = ++w->next_session_id;
    s->out_chunk = LC_RTMP_DEFAULT_CHUNK; /* ours until connect announces rtmp.chunk_size */
    lc_net_addr_str(peer, s->peer, sizeof(s->peer));
    s->bev = bufferevent_socket_new(w->base, fd, BEV_OPT_CLOSE_ON_FREE);
    s->reader = lc_rtmp_chunk_reader_new(MAX_MESSAGE);
    if (s->reader)
        lc_rtmp_chunk_reader_set_budget(s->reader, &partial_budget);
    s->deadline = evtimer_new(w->base, on_deadline, s);
    if (!s->bev || !s->reader || !s->deadline) {
        if (s->deadline)
            event_free(s->deadline);
        if (s->bev)
            bufferevent_free(s->bev);
        else
            evutil_closesocket(fd);
        lc_rtmp_chunk_reader_free(s->reader);
        free(s);
        return;
    }
    s->prev = NULL;
    s->next = sessions;
    if (sessions)
        sessions->prev = s;
    sessions = s;
    lc_worker_session_opened(w);
    lc_worker_conn_opened(w);
    bufferevent_setcb(s->bev, on_read, on_written, on_event, s);
    deadline_arm(s);
    bufferevent_enable(s->bev, EV_READ);
}
