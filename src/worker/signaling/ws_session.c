/*
 * ws_session.c: one connection on signaling.listen. It starts as HTTP
 * (a WebSocket upgrade on "/", or WHIP/WHEP when that lands) and becomes a
 * WebSocket carrying the JSON protocol of SPEC section 4 (signaling.c).
 *
 * Owns: the bufferevent, the message being reassembled. Frees itself on
 * close. Any protocol error closes this session only, with a close code
 * or HTTP status the peer can read, and a log line with the session id.
 */
#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/core/log.h"
#include "common/core/net.h"
#include "common/http/http_parse.h"
#include "common/http/ws_frame.h"
#include "worker/signaling/signaling.h"
#include "worker/signaling/whip.h"

#define MAX_HEAD 16384
#define MAX_MESSAGE (1 << 20)
#define IDLE_PING_S 30  /* a ping after this much silence; a second silence closes */

struct lc_ws_session {
    lc_worker_t *w;
    struct bufferevent *bev;
    struct lc_ws_session *prev, *next;
    uint64_t id;
    char peer[64];
    int upgraded;
    int closing;       /* close frame sent: flush and free */
    int idle_pings;
    lc_ws_assembly_t asm_;
    struct evbuffer *message;
    lc_signaling_t sig;
    lc_whip_pending_t *whip;   /* a WHIP/WHEP answer that waits (whip.h) */
    struct event *deadline;    /* limits.handshake_timeout, absolute: see on_deadline */
    uint64_t messages;         /* whole messages received */
    uint64_t deadline_at;      /* messages when the deadline was last armed */
};

static lc_ws_session_t *sessions;

static void session_free(lc_ws_session_t *s)
{
    if (s->prev)
        s->prev->next = s->next;
    else
        sessions = s->next;
    if (s->next)
        s->next->prev = s->prev;
    if (s->whip)
        lc_whip_cancel(s->whip);
    lc_signaling_end(&s->sig);
    bufferevent_free(s->bev);
    evbuffer_free(s->message);
    if (s->deadline)
        event_free(s->deadline);
    lc_worker_conn_closed(s->w);
    lc_worker_session_closed(s->w);
    free(s);
}

void lc_ws_session_close_all(void)
{
    while (sessions)
        session_free(sessions);
}

static void on_flushed(struct bufferevent *bev, void *arg)
{
    lc_ws_session_t *s = arg;
    (void)bev;
    if (s->closing && evbuffer_get_length(bufferevent_get_output(s->bev)) == 0)
        session_free(s);
}

/* Flush what is queued, then free (the peer reads our last words). */
static void close_after_flush(lc_ws_session_t *s)
{
    s->closing = 1;
    bufferevent_disable(s->bev, EV_READ);
    bufferevent_setcb(s->bev, NULL, on_flushed, NULL, s);
    struct timeval tv = { 5, 0 };
    bufferevent_set_timeouts(s->bev, NULL, &tv);
    bufferevent_setwatermark(s->bev, EV_WRITE, 0, 0);
    if (evbuffer_get_length(bufferevent_get_output(s->bev)) == 0)
        session_free(s);
}

static void http_reply(lc_ws_session_t *s, int code, const char *reason, const char *json_error)
{
    struct evbuffer *out = bufferevent_get_output(s->bev);
    char body[512];
    int n = snprintf(body, sizeof(body), "{\"error\":\"%s\"}\n", json_error);
    evbuffer_add_printf(out,
                        "HTTP/1.1 %d %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n"
                        "Access-Control-Allow-Origin: *\r\nConnection: close\r\n\r\n%s",
                        code, reason, n, body);
    close_after_flush(s);
}

static void ws_send(lc_ws_session_t *s, int opcode, const void *payload, size_t len)
{
    uint8_t hdr[LC_WS_MAX_HEADER];
    size_t n = lc_ws_write_header(hdr, 1, opcode, len, NULL);
    struct evbuffer *out = bufferevent_get_output(s->bev);
    evbuffer_add(out, hdr, n);
    if (len)
        evbuffer_add(out, payload, len);
}

void lc_ws_session_send_text(lc_ws_session_t *s, const char *text, size_t len)
{
    if (!s->closing)
        ws_send(s, LC_WS_TEXT, text, len);
}

void lc_ws_session_close(lc_ws_session_t *s, int code, const char *reason)
{
    uint8_t payload[2 + 123];
    size_t rlen = strlen(reason) > 123 ? 123 : strlen(reason);
    if (s->closing)
        return;
    payload[0] = (uint8_t)(code >> 8);
    payload[1] = (uint8_t)code;
    memcpy(payload + 2, reason, rlen);
    ws_send(s, LC_WS_CLOSE, payload, 2 + rlen);
    close_after_flush(s);
}

const char *lc_ws_session_peer(const lc_ws_session_t *s) { return s->peer; }
uint64_t lc_ws_session_id(const lc_ws_session_t *s) { return s->id; }
lc_worker_t *lc_ws_session_worker(const lc_ws_session_t *s) { return s->w; }

static void protocol_error(lc_ws_session_t *s, int code, const char *why)
{
    lc_log_info("[sess:%llx %s] websocket closed (%d): %s", (unsigned long long)s->id, s->peer, code, why);
    lc_ws_session_close(s, code, why);
}

/* A waiting WHIP/WHEP answer has been written: send it, close. */
static void whip_answered(void *ctx)
{
    lc_ws_session_t *s = ctx;
    s->whip = NULL;
    close_after_flush(s);
}

/* A WHIP/WHEP request: wait for its whole body, answer, close. 0 = need
 * more bytes, -1 = answered (the connection closes after the flush). */
static int handle_whip(lc_ws_session_t *s, const lc_http_request_t *req)
{
    struct evbuffer *in = bufferevent_get_input(s->bev);
    long long blen = req->content_length < 0 ? 0 : req->content_length;
    if (blen > LC_WHIP_MAX_BODY) {
        lc_log_info("[sess:%llx %s] WHIP/WHEP offer of %lld bytes refused", (unsigned long long)s->id, s->peer, blen);
        http_reply(s, 413, "Content Too Large", "Bad SDP: larger than 64 KiB");
        return -1;
    }
    if (evbuffer_get_length(in) < req->head_len + (size_t)blen)
        return 0;
    /* the head was pulled up contiguously; the body follows it */
    const char *buf = (const char *)evbuffer_pullup(in, (ev_ssize_t)(req->head_len + (size_t)blen));
    lc_http_request_t again;
    const char *err;
    lc_http_parse_request(buf, req->head_len, MAX_HEAD, &again, &err); /* pointers into the pulled-up copy */
    const lc_http_header_t *ct = lc_http_find_header(&again, "Content-Type");
    const lc_http_header_t *auth = lc_http_find_header(&again, "Authorization");
    s->whip = lc_whip_request(s->w, again.method, again.method_len, again.target, again.target_len,
                              ct ? ct->value : NULL, ct ? ct->value_len : 0, auth ? auth->value : NULL,
                              auth ? auth->value_len : 0, buf + req->head_len, (size_t)blen, s->peer,
                              bufferevent_get_output(s->bev), whip_answered, s);
    evbuffer_drain(in, req->head_len + (size_t)blen);
    if (s->whip) /* answered later (whip_answered), within seconds: read nothing more meanwhile */
        bufferevent_disable(s->bev, EV_READ);
    else
        close_after_flush(s);
    return -1;
}

static int handle_upgrade(lc_ws_session_t *s)
{
    struct evbuffer *in = bufferevent_get_input(s->bev);
    size_t avail = evbuffer_get_length(in);
    size_t look = avail < MAX_HEAD ? avail : MAX_HEAD;
    const char *buf = (const char *)evbuffer_pullup(in, (ssize_t)look);
    lc_http_request_t req;
    const char *err = "";

    int rc = lc_http_parse_request(buf, look, MAX_HEAD, &req, &err);
    if (rc == 0)
        return 0;
    if (rc < 0) {
        lc_log_info("[sess:%llx %s] bad HTTP request: %s", (unsigned long long)s->id, s->peer, err);
        if (rc == LC_HTTP_ETOOBIG)
            http_reply(s, 431, "Request Header Fields Too Large", "request head too large");
        else
            http_reply(s, 400, "Bad Request", "malformed HTTP request");
        return -1;
    }
    const lc_http_header_t *upgrade = lc_http_find_header(&req, "Upgrade");
    const lc_http_header_t *conn = lc_http_find_header(&req, "Connection");
    const lc_http_header_t *key = lc_http_find_header(&req, "Sec-WebSocket-Key");
    const lc_http_header_t *ver = lc_http_find_header(&req, "Sec-WebSocket-Version");
    int is_get = req.method_len == 3 && memcmp(req.method, "GET", 3) == 0;

    if (!upgrade || !lc_http_header_has_token(upgrade, "websocket")) {
        if (lc_whip_target(req.target, req.target_len))
            return handle_whip(s, &req);
        lc_log_info("[sess:%llx %s] %.*s %.*s: not a WebSocket upgrade", (unsigned long long)s->id, s->peer,
                    (int)req.method_len, req.method, (int)req.target_len, req.target);
        http_reply(s, 426, "Upgrade Required", "this port speaks WebSocket signaling");
        return -1;
    }
    char accept[29];
    if (!is_get || !conn || !lc_http_header_has_token(conn, "upgrade") || !ver || ver->value_len != 2 ||
        memcmp(ver->value, "13", 2) != 0 || !key || lc_ws_accept_key(key->value, key->value_len, accept) < 0) {
        lc_log_info("[sess:%llx %s] bad WebSocket upgrade request", (unsigned long long)s->id, s->peer);
        http_reply(s, 400, "Bad Request", "bad WebSocket upgrade (GET, Connection: Upgrade, "
                                          "Sec-WebSocket-Version: 13, Sec-WebSocket-Key)");
        return -1;
    }
    evbuffer_drain(in, req.head_len);
    evbuffer_add_printf(bufferevent_get_output(s->bev),
                        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                        "Sec-WebSocket-Accept: %s\r\n\r\n", accept);
    s->upgraded = 1;
    struct timeval idle = { IDLE_PING_S, 0 };
    bufferevent_set_timeouts(s->bev, &idle, NULL);
    lc_log_debug("[sess:%llx %s] websocket open", (unsigned long long)s->id, s->peer);
    return 1;
}

/* One whole frame, if it has arrived. 1 = consumed one, 0 = need more, -1 = closed. */
static int handle_frame(lc_ws_session_t *s)
{
    struct evbuffer *in = bufferevent_get_input(s->bev);
    size_t avail = evbuffer_get_length(in);
    const uint8_t *hdr = evbuffer_pullup(in, (ssize_t)(avail < LC_WS_MAX_HEADER ? avail : LC_WS_MAX_HEADER));
    lc_ws_frame_t f;
    const char *err;
    int code;

    int rc = lc_ws_parse_header(hdr, avail < LC_WS_MAX_HEADER ? avail : LC_WS_MAX_HEADER, MAX_MESSAGE, 1, &f,
                                &err, &code);
    if (rc < 0) {
        protocol_error(s, code, err);
        return -1;
    }
    if (rc == 0 || avail < f.header_len + f.payload_len)
        return 0;
    evbuffer_drain(in, f.header_len);
    uint8_t *payload = evbuffer_pullup(in, (ssize_t)f.payload_len);
    if (f.payload_len)
        lc_ws_unmask(payload, f.payload_len, f.mask, 0);

    switch (f.opcode) {
    case LC_WS_PING:
        ws_send(s, LC_WS_PONG, payload, f.payload_len);
        evbuffer_drain(in, f.payload_len);
        return 1;
    case LC_WS_PONG:
        evbuffer_drain(in, f.payload_len);
        return 1;
    case LC_WS_CLOSE: {
        int peer_code;
        if (lc_ws_parse_close(payload, f.payload_len, &peer_code, &err, &code) < 0) {
            protocol_error(s, code, err);
            return -1;
        }
        evbuffer_drain(in, f.payload_len);
        lc_ws_session_close(s, peer_code == LC_WS_CLOSE_NO_STATUS ? LC_WS_CLOSE_NORMAL : 1000, "bye");
        return -1;
    }
    }
    if (lc_ws_assembly_feed(&s->asm_, &f, MAX_MESSAGE, &err, &code) < 0) {
        protocol_error(s, code, err);
        return -1;
    }
    evbuffer_remove_buffer(in, s->message, f.payload_len);
    if (s->asm_.in_message)
        return 1;
    if (s->asm_.opcode != LC_WS_TEXT) {
        protocol_error(s, 1003, "binary messages are not part of the signaling protocol");
        return -1;
    }
    size_t len = evbuffer_get_length(s->message);
    const char *text = (const char *)evbuffer_pullup(s->message, (ssize_t)len);
    if (!lc_ws_utf8_valid((const uint8_t *)text, len)) {
        protocol_error(s, LC_WS_CLOSE_INVALID_DATA, "text message is not valid UTF-8");
        return -1;
    }
    s->messages++;
    int keep = lc_signaling_message(&s->sig, text, len);
    evbuffer_drain(s->message, len);
    return keep < 0 || s->closing ? -1 : 1;
}

/* What this session has queued to its peer, against limits.output_buffer:
 * a peer that sends pings and never reads the pongs is closed there. */
static int out_over(lc_ws_session_t *s)
{
    size_t n = evbuffer_get_length(bufferevent_get_output(s->bev));
    if (n <= (size_t)s->w->cycle->conf->limits_output_buffer)
        return 0;
    lc_log_warn("[sess:%llx %s] closed: the peer does not read: %zu bytes queued (limits.output_buffer)",
                (unsigned long long)s->id, s->peer, n);
    session_free(s);
    return 1;
}

/* After the first message the deadline runs only while a message is on
 * its way: one begun (a partial frame, a fragmented message) must be
 * whole within limits.handshake_timeout, so memory held for it is too. */
static void deadline_follow(lc_ws_session_t *s)
{
    int partial = evbuffer_get_length(bufferevent_get_input(s->bev)) > 0 || s->asm_.in_message;
    if (!s->messages || s->closing)
        return;
    if (!partial) {
        event_del(s->deadline);
    } else if (!evtimer_pending(s->deadline, NULL) || s->deadline_at != s->messages) {
        s->deadline_at = s->messages; /* a new message began: its own deadline */
        struct timeval tv = { (time_t)s->w->cycle->conf->limits_handshake_timeout, 0 };
        evtimer_add(s->deadline, &tv);
    }
}

static void on_read(struct bufferevent *bev, void *arg)
{
    lc_ws_session_t *s = arg;
    int rc;
    (void)bev;
    s->idle_pings = 0;
    if (!s->upgraded && handle_upgrade(s) <= 0)
        return; /* s may be gone */
    while ((rc = handle_frame(s)) > 0)
        ;
    if (rc < 0 || out_over(s))
        return; /* s may be gone */
    deadline_follow(s);
}

/* The TLS handshake, the HTTP request (upgrade or WHIP/WHEP) and the first
 * WebSocket message must be done within limits.handshake_timeout of the
 * accept, however the bytes trickle in: a read timeout each byte resets
 * would let one byte a second hold the session for good. */
static void on_deadline(evutil_socket_t fd, short what, void *arg)
{
    lc_ws_session_t *s = arg;
    long long t = s->w->cycle->conf->limits_handshake_timeout;
    (void)fd;
    (void)what;
    if (s->closing)
        return; /* close_after_flush bounds the rest */
    const char *what_ = !s->upgraded ? "request" : s->messages ? "message" : "first message";
    lc_log_info("[sess:%llx %s] %s timed out: %s not complete within limits.handshake_timeout (%llds)",
                (unsigned long long)s->id, s->peer, s->upgraded ? "websocket" : "HTTP handshake", what_, t);
    if (s->upgraded)
        lc_ws_session_close(s, 1008, "message not complete within limits.handshake_timeout");
    else
        http_reply(s, 408, "Request Timeout", "request not complete within limits.handshake_timeout");
}

static void on_event(struct bufferevent *bev, short what, void *arg)
{
    lc_ws_session_t *s = arg;
    (void)bev;
    if (what == BEV_EVENT_CONNECTED) /* the TLS handshake of wss:// or https:// is done */
        return;
    if ((what & BEV_EVENT_TIMEOUT) && s->upgraded && !s->closing && s->idle_pings == 0) {
        /* silence: ask the peer to prove it is there */
        s->idle_pings = 1;
        ws_send(s, LC_WS_PING, "idle", 4);
        bufferevent_enable(s->bev, EV_READ);
        return;
    }
    if (what & BEV_EVENT_TIMEOUT)
        lc_log_info("[sess:%llx %s] %s timed out", (unsigned long long)s->id, s->peer,
                    s->upgraded ? "websocket" : "HTTP handshake");
    else if (what & BEV_EVENT_ERROR) {
        unsigned long tls = bufferevent_get_openssl_error(s->bev);
        lc_log_info("[sess:%llx %s] connection error: %s", (unsigned long long)s->id, s->peer,
                    tls ? ERR_reason_error_string(tls) : strerror(EVUTIL_SOCKET_ERROR()));
    }
    else
        lc_log_debug("[sess:%llx %s] peer closed", (unsigned long long)s->id, s->peer);
    session_free(s);
}

void lc_ws_session_accept(lc_worker_t *w, evutil_socket_t fd, const struct sockaddr *peer, SSL_CTX *tls)
{
    lc_ws_session_t *s = calloc(1, sizeof(*s));
    SSL *ssl = tls ? SSL_new(tls) : NULL;
    if (!s || (tls && !ssl)) {
        SSL_free(ssl);
        free(s);
        evutil_closesocket(fd);
        return;
    }
    s->w = w;
    s->id = ++w->next_session_id;
    lc_net_addr_str(peer, s->peer, sizeof(s->peer));
    /* wss:// and https:// (WHIP/WHEP): the same session over a TLS bufferevent, which owns ssl */
    s->bev = ssl ? bufferevent_openssl_socket_new(w->base, fd, ssl, BUFFEREVENT_SSL_ACCEPTING, BEV_OPT_CLOSE_ON_FREE)
                 : bufferevent_socket_new(w->base, fd, BEV_OPT_CLOSE_ON_FREE);
    s->message = evbuffer_new();
    s->deadline = evtimer_new(w->base, on_deadline, s);
    if (!s->bev || !s->message || !s->deadline) {
        if (s->deadline)
            event_free(s->deadline);
        if (s->bev)
            bufferevent_free(s->bev);
        else
            evutil_closesocket(fd);
        if (s->message)
            evbuffer_free(s->message);
        free(s);
        return;
    }
    s->next = sessions;
    if (sessions)
        sessions->prev = s;
    sessions = s;
    lc_worker_session_opened(w);
    lc_worker_conn_opened(w);
    lc_signaling_begin(&s->sig, s);
    bufferevent_setcb(s->bev, on_read, NULL, on_event, s);
    /* never buffer more than one message plus a frame header beyond what we consume */
    bufferevent_setwatermark(s->bev, EV_READ, 0, MAX_MESSAGE + MAX_HEAD);
    struct timeval tv = { (time_t)w->cycle->conf->limits_handshake_timeout, 0 };
    evtimer_add(s->deadline, &tv);
    bufferevent_enable(s->bev, EV_READ | EV_WRITE);
}
