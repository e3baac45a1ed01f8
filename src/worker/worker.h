/*
 * worker.h: state of one media worker process, shared by its loop
 * (worker.c) and its protocol front-ends (signaling/, later rtmp/, rtc/).
 */
#ifndef LC_WORKER_H
#define LC_WORKER_H

#include <event2/event.h>
#include <event2/listener.h>
#include <openssl/ssl.h>

#include "common/core/accept_gate.h"
#include "common/core/cycle.h"

typedef struct lc_ws_session lc_ws_session_t;

struct lc_core;
struct lc_transcode_state;

typedef struct lc_worker {
    lc_cycle_t *cycle;
    struct event_base *base;
    struct evconnlistener *signaling;
    struct event *wake;        /* our slot's eventfd: rings have news */
    struct event *drain_timer;
    int draining;
    uint64_t next_session_id;
    struct lc_core *core;      /* stream_core.c: publishers and fan-outs of this worker */
    struct lc_transcode_state *transcode; /* transcode/transcode.c: its derived streams and pool, NULL until the first */
    uint32_t derive_requests_seen;        /* our lc_proc_t's derive_requests at the last look */
    struct evconnlistener *rtmp;
    struct evconnlistener *signaling_tls; /* wss:// and https:// WHIP/WHEP */
    SSL_CTX *tls;
    lc_accept_gate_t gate;     /* pauses the listeners: limits.max_connections, EMFILE */
    long long conns;           /* TCP connections open (lc_worker_conn_opened) */
} lc_worker_t;

/* A session opened or closed: keeps the shared counters (and draining) right. */
void lc_worker_session_opened(lc_worker_t *w);
void lc_worker_session_closed(lc_worker_t *w);
/* A TCP connection was taken or closed (RTMP, signaling, TLS; not WebRTC
 * sessions, which hold no descriptor): counts against limits.max_connections. */
void lc_worker_conn_opened(lc_worker_t *w);
void lc_worker_conn_closed(lc_worker_t *w);

/* rtmp/rtmp_session.c: take an accepted RTMP connection; close them all at exit. */
void lc_rtmp_session_accept(lc_worker_t *w, evutil_socket_t fd, const struct sockaddr *peer);
void lc_rtmp_session_close_all(void);

/* signaling/ws_session.c: take an accepted signaling connection. */
void lc_ws_session_accept(lc_worker_t *w, evutil_socket_t fd, const struct sockaddr *peer, SSL_CTX *tls);

#endif
