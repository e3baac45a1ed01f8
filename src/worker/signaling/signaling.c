/*
 * signaling.c: what signaling messages mean (SPEC section 4): sessions,
 * ping, publishStream/playStream/stopStream over WebRTC (webrtc/rtc.h),
 * and honest refusals for what has not landed (live transcoding): a client
 * is told in `info` why, never left waiting.
 *
 * A WebSocket session owns the streams it started (by the client's id);
 * when it closes, they stop.
 */
#include "worker/signaling/signaling.h"

#include <openssl/rand.h>
#include <stdarg.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <yajl/yajl_gen.h>

#include "common/core/log.h"
#include "common/core/secret.h"
#include "common/json/sig_msg.h"
#include "worker/webrtc/rtc.h"

#define MAX_STREAMS 16 /* per signaling session */

struct lc_sig_stream {
    lc_signaling_t *sig;
    char id[LC_SIG_FIELD_MAX];
    char name[LC_SIG_FIELD_MAX];
    int role;
    lc_rtc_session_t *rtc;
    lc_sig_stream_t *next;
};

static void gen_kv(yajl_gen g, const char *k, const char *v)
{
    yajl_gen_string(g, (const unsigned char *)k, strlen(k));
    yajl_gen_string(g, (const unsigned char *)v, strlen(v));
}

/* Send {"event": event, k1: v1, ...}; pairs of strings, NULL-terminated, NULL values skipped. */
static void send_event(lc_signaling_t *sig, const char *event, ...)
{
    yajl_gen g = yajl_gen_alloc(NULL);
    va_list ap;
    const unsigned char *buf;
    size_t len;

    yajl_gen_map_open(g);
    gen_kv(g, "event", event);
    va_start(ap, event);
    for (const char *k; (k = va_arg(ap, const char *));) {
        const char *v = va_arg(ap, const char *);
        if (v)
            gen_kv(g, k, v);
    }
    va_end(ap);
    yajl_gen_map_close(g);
    yajl_gen_get_buf(g, &buf, &len);
    lc_ws_session_send_text(sig->ws, (const char *)buf, len);
    yajl_gen_free(g);
}

void lc_signaling_begin(lc_signaling_t *sig, lc_ws_session_t *ws)
{
    memset(sig, 0, sizeof(*sig));
    sig->ws = ws;
}

static void stream_unlink(lc_sig_stream_t *st)
{
    for (lc_sig_stream_t **pp = &st->sig->streams; *pp; pp = &(*pp)->next) {
        if (*pp == st) {
            *pp = st->next;
            break;
        }
    }
    free(st);
}

void lc_signaling_end(lc_signaling_t *sig)
{
    while (sig->streams) {
        lc_sig_stream_t *st = sig->streams;
        lc_rtc_stop(st->rtc);
        stream_unlink(st);
    }
}

/* The WebRTC session ended on its own (publisher gone, peer silent...). */
static void stream_ended(void *ctx, const char *why)
{
    lc_sig_stream_t *st = ctx;
    send_event(st->sig, "stream", "id", st->id, "name", st->name, "status",
               st->role == LC_RTC_PUBLISH ? "UNPUBLISHED" : "STOPPED", "info", why, NULL);
    stream_unlink(st);
}

static void stream_started(lc_sig_stream_t *st, const char *answer)
{
    send_event(st->sig, "stream", "id", st->id, "name", st->name, "status",
               st->role == LC_RTC_PUBLISH ? "PUBLISHING" : "PLAYING", "sdp", answer, "info", lc_rtc_info(st->rtc),
               NULL);
}

/* A player that waited for the stream's codecs is answered, or refused. */
static void stream_answered(void *ctx, const char *answer, const char *why)
{
    lc_sig_stream_t *st = ctx;
    if (answer) {
        stream_started(st, answer);
        return;
    }
    lc_log_info("[sess:%llx %s] play of \"%s\" refused: %s", (unsigned long long)lc_ws_session_id(st->sig->ws),
                lc_ws_session_peer(st->sig->ws), st->name, why);
    send_event(st->sig, "stream", "id", st->id, "name", st->name, "status", "FAILED", "info", why, NULL);
    stream_unlink(st);
}

static const lc_rtc_owner_ops_t stream_ops = { stream_ended, stream_answered };

static lc_sig_stream_t *stream_find(lc_signaling_t *sig, const char *id)
{
    for (lc_sig_stream_t *st = sig->streams; st; st = st->next)
        if (strcmp(st->id, id) == 0)
            return st;
    return NULL;
}

static void start_stream(lc_signaling_t *sig, const lc_sig_msg_t *m, int role)
{
    char err[300], who[96];
    char *answer = NULL;
    int n = 0;
    for (lc_sig_stream_t *st = sig->streams; st; st = st->next)
        n++;
    const char *token = lc_ws_session_worker(sig->ws)->cycle->conf->signaling_publish_token;
    const char *fail = !m->name[0] ? "Bad stream name" : !m->sdp ? "Bad SDP: the message has no sdp"
                     : role == LC_RTC_PUBLISH && token[0] && !lc_secret_equal(m->token, strlen(m->token), token)
                         ? "Not authorized: publishing needs the right token"
                     : stream_find(sig, m->id) ? "A stream with this id is already open in this session"
                     : n >= MAX_STREAMS ? "Too many streams in one session" : NULL;
    if (fail) {
        send_event(sig, "stream", "id", m->id, "name", m->name, "status", "FAILED", "info", fail, NULL);
        return;
    }
    lc_sig_stream_t *st = calloc(1, sizeof(*st));
    if (!st) {
        send_event(sig, "stream", "id", m->id, "name", m->name, "status", "FAILED", "info", "out of memory", NULL);
        return;
    }
    st->sig = sig;
    st->role = role;
    snprintf(st->id, sizeof(st->id), "%s", m->id);
    snprintf(st->name, sizeof(st->name), "%s", m->name);
    snprintf(who, sizeof(who), "ws %s", lc_ws_session_peer(sig->ws));
    lc_worker_t *w = lc_ws_session_worker(sig->ws);
    int rc = lc_rtc_start(w, role, m->name, m->sdp, strlen(m->sdp), who, &stream_ops, st, &answer, &st->rtc, err,
                          sizeof(err));
    if (rc < 0) {
        lc_log_info("[sess:%llx %s] %s of \"%s\" refused: %s", (unsigned long long)lc_ws_session_id(sig->ws),
                    lc_ws_session_peer(sig->ws), role == LC_RTC_PUBLISH ? "publish" : "play", m->name, err);
        send_event(sig, "stream", "id", m->id, "name", m->name, "status", "FAILED", "info", err, NULL);
        free(st);
        return;
    }
    st->next = sig->streams;
    sig->streams = st;
    if (rc == 0) /* else the answer comes through stream_answered */
        stream_started(st, answer);
    free(answer);
}

static void stop_stream(lc_signaling_t *sig, const lc_sig_msg_t *m)
{
    lc_sig_stream_t *st = stream_find(sig, m->id);
    if (!st) {
        send_event(sig, "stream", "id", m->id, "status", "FAILED", "info", "Stream not found", NULL);
        return;
    }
    int role = st->role;
    char name[LC_SIG_FIELD_MAX];
    snprintf(name, sizeof(name), "%s", st->name);
    lc_rtc_stop(st->rtc);
    stream_unlink(st);
    send_event(sig, "stream", "id", m->id, "name", name, "status", role == LC_RTC_PUBLISH ? "UNPUBLISHED" : "STOPPED",
               "info", "Stopped by the client", NULL);
}

static void new_session_id(char out[33])
{
    unsigned char r[16];
    if (RAND_bytes(r, sizeof(r)) != 1)
        memset(r, 0, sizeof(r)); /* ids need not be secret, only distinct enough */
    for (int i = 0; i < 16; i++)
        sprintf(out + 2 * i, "%02x", r[i]);
}

int lc_signaling_message(lc_signaling_t *sig, const char *text, size_t len)
{
    lc_sig_msg_t m;
    char err[300];
    unsigned long long sid = (unsigned long long)lc_ws_session_id(sig->ws);

    if (lc_sig_msg_parse(text, len, &m, err, sizeof(err)) < 0) {
        lc_log_info("[sess:%llx %s] bad signaling message: %s", sid, lc_ws_session_peer(sig->ws), err);
        send_event(sig, "error", "info", err, NULL);
        lc_ws_session_close(sig->ws, 1007, "bad message");
        return -1;
    }
    if (m.method != LC_SIG_CONNECT && m.method != LC_SIG_PING && !sig->connected) {
        send_event(sig, "error", "info", "Not connected: send connect first", NULL);
        lc_sig_msg_free(&m);
        return 0;
    }
    switch (m.method) {
    case LC_SIG_CONNECT:
        if (!sig->connected)
            new_session_id(sig->session_id);
        sig->connected = 1;
        send_event(sig, "session", "status", "ESTABLISHED", "sessionId", sig->session_id, NULL);
        lc_log_info("[sess:%llx %s] session %s established", sid, lc_ws_session_peer(sig->ws), sig->session_id);
        break;
    case LC_SIG_PING:
        send_event(sig, "pong", NULL);
        break;
    case LC_SIG_PUBLISH:
        start_stream(sig, &m, LC_RTC_PUBLISH);
        break;
    case LC_SIG_PLAY:
        start_stream(sig, &m, LC_RTC_PLAY);
        break;
    case LC_SIG_STOP:
        stop_stream(sig, &m);
        break;
    case LC_SIG_SET_TRANSCODING:
    case LC_SIG_START_LIVE:
    case LC_SIG_STOP_LIVE:
        send_event(sig, "error", "info", "Live transcoding is not available in this version of livecdn", NULL);
        break;
    default:
        snprintf(err, sizeof(err), "Unknown method: %s", m.method_name);
        send_event(sig, "error", "info", err, NULL);
        break;
    }
    lc_sig_msg_free(&m);
    return 0;
}
