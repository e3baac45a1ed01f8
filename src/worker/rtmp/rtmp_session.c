/*
 * rtmp_session.c: one RTMP connection in a worker: handshake, chunk
 * stream, the NetConnection/NetStream commands, and the glue to the stream
 * core for publishing (frames into the ring) and playing (frames out of
 * it). Parsing lives in src/common/rtmp (I/O-free); this file owns the
 * socket, the session state and what each command means.
 *
 * Any protocol error closes this session only, after a log line naming
 * the peer and the reason; a publisher's stream then ends for its players.
 */
#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/core/log.h"
#include "common/core/net.h"
#include "common/media/flv.h"
#include "common/rtmp/amf0.h"
#include "common/rtmp/rtmp_chunk.h"
#include "common/rtmp/rtmp_handshake.h"
#include "common/shm/stream_table.h"
#include "worker/stream_core.h"

#define MAX_MESSAGE (8u << 20)        /* one video frame of a 4K keyframe fits */
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
    char app[128];
    char name[LC_STREAM_NAME_MAX];
    lc_pub_t *pub;
    int seen_video;
    lc_play_t *play;
    struct event *deadline; /* limits.handshake_timeout, absolute; see on_deadline */
    int overflow;           /* output past limits.output_buffer: closed from on_deadline */
};

static lc_rtmp_session_t *sessions;
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
    lc_amf0_put_string(&b, "onStatus");
    lc_amf0_put_number(&b, 0);
    lc_amf0_put_null(&b);
    lc_amf0_put_object_start(&b);
    lc_amf0_put_key(&b, "level");
    lc_amf0_put_string(&b, level);
    lc_amf0_put_key(&b, "code");
    lc_amf0_put_string(&b, code);
    lc_amf0_put_key(&b, "description");
    lc_amf0_put_string(&b, desc);
    lc_amf0_put_object_end(&b);
    send_amf(s, LC_RTMP_COMMAND_AMF0, CSID_COMMAND, MSID, &b);
}

/* _result(txn, null, value) with value a number, or null when num < 0 */
static void send_result(lc_rtmp_session_t *s, double txn, double num)
{
    lc_amf0_buf_t b = { 0 };
    lc_amf0_put_string(&b, "_result");
    lc_amf0_put_number(&b, txn);
    lc_amf0_put_null(&b);
    if (num >= 0)
        lc_amf0_put_number(&b, num);
    else
        lc_amf0_put_null(&b);
    send_amf(s, LC_RTMP_COMMAND_AMF0, CSID_COMMAND, 0, &b);
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
    if (lc_core_pub_write(s->pub, &f, m->payload, &err) < 0) {
        SLOG(s, LC_LOG_WARN, "publisher closed: %s (%u bytes)", err, m->len);
        return -1;
    }
    return 0;
bad:
    SLOG(s, LC_LOG_WARN, "publisher closed: bad FLV %s tag: %s", m->type == LC_RTMP_VIDEO ? "video" : "audio", err);
    return -1;
}

/* @setDataFrame("onMetaData", {...}) or onMetaData({...}): kept as the
 * stream's metadata and sent to players as onMetaData. */
static int publish_metadata(lc_rtmp_session_t *s, const lc_rtmp_msg_t *m)
{
    lc_amf0_t *v[8];
    const char *err;
    int n = lc_amf0_decode_all(m->payload, m->len, v, 8, &err);
    if (n < 0) {
        SLOG(s, LC_LOG_WARN, "publisher closed: bad AMF0 in data message: %s", err);
        return -1;
    }
    int first = n > 0 && lc_amf0_str(v[0]) && strcmp(lc_amf0_str(v[0]), "@setDataFrame") == 0 ? 1 : 0;
    int rc = 0;
    if (n > first && lc_amf0_str(v[first]) && strcmp(lc_amf0_str(v[first]), "onMetaData") == 0) {
        lc_amf0_buf_t b = { 0 };
        for (int i = first; i < n; i++)
            lc_amf0_put_value(&b, v[i]);
        lc_frame_t f = { .track = 2, .flags = LC_FRAME_META, .codec = LC_CODEC_AMF0_DATA,
                         .len = (uint32_t)b.len, .ts = (int64_t)m->timestamp * 1000 };
        if (b.failed || lc_core_pub_write(s->pub, &f, b.data, &err) < 0) {
            SLOG(s, LC_LOG_WARN, "publisher closed: metadata refused: %s", b.failed ? "out of memory" : err);
            rc = -1;
        }
        lc_amf0_buf_free(&b);
    }
    lc_amf0_free_all(v, n);
    return rc;
}

/* ---- commands ---- */

/* A stream name from publish/play: "NAME" or "NAME?query"; printable, bounded. */
static int take_name(lc_rtmp_session_t *s, const char *arg)
{
    size_t n = arg ? strcspn(arg, "?") : 0;
    if (n == 0 || n >= sizeof(s->name))
        return -1;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)arg[i] < 0x20 || arg[i] == 0x7f)
            return -1;
    memcpy(s->name, arg, n);
    s->name[n] = '\0';
    return 0;
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
    send_u32(s, LC_RTMP_SET_CHUNK_SIZE, s->out_chunk);

    lc_amf0_buf_t b = { 0 };
    lc_amf0_put_string(&b, "_result");
    lc_amf0_put_number(&b, txn);
    lc_amf0_put_object_start(&b);
    lc_amf0_put_key(&b, "fmsVer");
    lc_amf0_put_string(&b, "FMS/3,0,1,123");
    lc_amf0_put_key(&b, "capabilities");
    lc_amf0_put_number(&b, 31);
    lc_amf0_put_object_end(&b);
    lc_amf0_put_object_start(&b);
    lc_amf0_put_key(&b, "level");
    lc_amf0_put_string(&b, "status");
    lc_amf0_put_key(&b, "code");
    lc_amf0_put_string(&b, "NetConnection.Connect.Success");
    lc_amf0_put_key(&b, "description");
    lc_amf0_put_string(&b, "Connection succeeded.");
    lc_amf0_put_key(&b, "objectEncoding");
    lc_amf0_put_number(&b, lc_amf0_num(lc_amf0_get(obj, "objectEncoding"), 0));
    lc_amf0_put_object_end(&b);
    send_amf(s, LC_RTMP_COMMAND_AMF0, CSID_COMMAND, 0, &b);
}

static int cmd_publish(lc_rtmp_session_t *s, const char *name)
{
    if (s->pub || s->play || take_name(s, name) < 0) {
        SLOG(s, LC_LOG_WARN, "publish refused: %s", s->pub || s->play ? "already publishing or playing" : "bad stream name");
        send_status(s, "error", "NetStream.Publish.BadName", "Bad stream name");
        return -1;
    }
    char who[sizeof(s->peer) + 8];
    snprintf(who, sizeof(who), "rtmp %s", s->peer);
    static const lc_pub_ops_t pub_ops = { pub_terminate, NULL }; /* RTMP cannot ask for a keyframe */
    int rc = lc_core_publish(s->w, s->name, who, &pub_ops, s, &s->pub);
    if (rc < 0) {
        const char *why = rc == -EEXIST   ? "Stream name in use"
                          : rc == -EINVAL ? "Bad stream name"
                          : rc == -EDQUOT ? "Too many streams from this address"
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

static int cmd_play(lc_rtmp_session_t *s, const char *name)
{
    if (s->pub || s->play || take_name(s, name) < 0) {
        send_status(s, "error", "NetStream.Play.Failed", "Bad stream name");
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
    if (lc_core_play(s->w, s->name, &play_ops, s, &s->play) < 0) {
        send_status(s, "error", "NetStream.Play.StreamNotFound", "Stream not found");
        return -1;
    }
    SLOG(s, LC_LOG_INFO, "playing");
    return 0;
}

/* Returns -1 when the session must close. */
static int handle_command(lc_rtmp_session_t *s, const uint8_t *p, uint32_t len)
{
    lc_amf0_t *v[16];
    const char *err;
    int n = lc_amf0_decode_all(p, len, v, 16, &err);
    if (n < 2 || !lc_amf0_str(v[0]) || v[1]->type != LC_AMF0_NUMBER) {
        SLOG(s, LC_LOG_WARN, "closed: bad AMF0 command: %s", n < 0 ? err : "not (name, transaction id, ...)");
        if (n > 0)
            lc_amf0_free_all(v, n);
        return -1;
    }
    const char *cmd = lc_amf0_str(v[0]);
    double txn = v[1]->num;
    const char *arg = n > 3 ? lc_amf0_str(v[3]) : NULL;
    int rc = 0;

    if (strcmp(cmd, "connect") == 0) {
        cmd_connect(s, txn, n > 2 ? v[2] : NULL);
    } else if (strcmp(cmd, "createStream") == 0) {
        send_result(s, txn, MSID);
    } else if (strcmp(cmd, "publish") == 0) {
        rc = cmd_publish(s, arg);
    } else if (strcmp(cmd, "play") == 0) {
        rc = cmd_play(s, arg);
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
        lc_amf0_put_string(&b, "_error");
        lc_amf0_put_number(&b, txn);
        lc_amf0_put_null(&b);
        lc_amf0_put_object_start(&b);
        lc_amf0_put_key(&b, "level");
        lc_amf0_put_string(&b, "error");
        lc_amf0_put_key(&b, "code");
        lc_amf0_put_string(&b, "NetConnection.Call.Failed");
        lc_amf0_put_object_end(&b);
        send_amf(s, LC_RTMP_COMMAND_AMF0, CSID_COMMAND, 0, &b);
    }
    lc_amf0_free_all(v, n);
    return rc;
}

/* FLV tags packed in one message (type 22): each becomes its own message. */
static int handle_aggregate(lc_rtmp_session_t *s, const lc_rtmp_msg_t *m)
{
    const uint8_t *p = m->payload, *end = m->payload + m->len;
    uint32_t base = 0;
    int first = 1;
    while (end - p >= 11) {
        uint32_t size = (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
        uint32_t ts = (uint32_t)p[7] << 24 | (uint32_t)p[4] << 16 | (uint32_t)p[5] << 8 | p[6];
        if ((size_t)(end - p) < 11 + (size_t)size + 4) {
            SLOG(s, LC_LOG_WARN, "publisher closed: aggregate message with a bad FLV tag length");
            return -1;
        }
        if (first)
            base = ts;
        first = 0;
        lc_rtmp_msg_t sub = { .type = p[0], .timestamp = m->timestamp + (ts - base), .len = size,
                              .payload = (uint8_t *)p + 11 };
        if ((sub.type == LC_RTMP_AUDIO || sub.type == LC_RTMP_VIDEO) && publish_frame(s, &sub) < 0)
            return -1;
        p += 11 + size + 4;
    }
    return 0;
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
        return handle_command(s, m->payload, m->len);
    case LC_RTMP_COMMAND_AMF3:
        /* AMF3 command messages carry AMF0 after one format byte */
        return m->len > 0 ? handle_command(s, m->payload + 1, m->len - 1) : 0;
    }
    return 0;
}

/* ---- input ---- */

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
                long n = lc_rtmp_chunk_feed(s->reader, p, left, &m, &got, &err);
                if (n < 0) {
                    SLOG(s, LC_LOG_WARN, "closed: RTMP protocol error: %s", err);
                    return -1;
                }
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
    s->out_chunk = (uint32_t)w->cycle->conf->rtmp_chunk_size;
    lc_net_addr_str(peer, s->peer, sizeof(s->peer));
    s->bev = bufferevent_socket_new(w->base, fd, BEV_OPT_CLOSE_ON_FREE);
    s->reader = lc_rtmp_chunk_reader_new(MAX_MESSAGE);
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
