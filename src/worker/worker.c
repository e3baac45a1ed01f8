/*
 * worker.c: a media worker's loop. It accepts sessions on the listeners
 * the master opened, reads the rings it plays from when its eventfd says
 * they moved, and follows the master's signals:
 *   TERM  exit now          QUIT  drain: stop accepting, exit when the last
 *   USR1  reopen the log          session ends or worker_shutdown_timeout passes
 */
#include "worker/worker.h"

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <unistd.h>

#include "common/core/log.h"
#include "common/shm/notify.h"
#include "worker/signaling/signaling.h"
#include "common/core/tls.h"
#include "worker/stream_core.h"
#include "worker/transcode/transcode.h"
#include "worker/signaling/whip.h"
#include "worker/webrtc/rtc.h"
#include "worker/webrtc/rtc_udp.h"

static lc_proc_t *self_proc(lc_worker_t *w)
{
    return lc_shm_proc(w->cycle->shm, w->cycle->slot);
}

static void maybe_finish_drain(lc_worker_t *w)
{
    if (w->draining && atomic_load(&self_proc(w)->connections) == 0) {
        lc_log_info("drained: no sessions left");
        event_base_loopbreak(w->base);
    }
}

void lc_worker_session_opened(lc_worker_t *w)
{
    atomic_fetch_add(&self_proc(w)->connections, 1);
    atomic_fetch_add(&self_proc(w)->accepted, 1);
}

void lc_worker_session_closed(lc_worker_t *w)
{
    atomic_fetch_sub(&self_proc(w)->connections, 1);
    maybe_finish_drain(w);
}

/* TCP connections (RTMP, signaling, TLS) against limits.max_connections:
 * at the limit the listeners pause and the kernel's backlog holds the
 * next ones until a connection closes. */
void lc_worker_conn_opened(lc_worker_t *w)
{
    w->conns++;
    lc_accept_gate_count(&w->gate, w->conns, w->cycle->conf->limits_max_connections);
}

void lc_worker_conn_closed(lc_worker_t *w)
{
    w->conns--;
    lc_accept_gate_count(&w->gate, w->conns, w->cycle->conf->limits_max_connections);
}

static void on_accept(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa, int len, void *arg)
{
    lc_worker_t *w = arg;
    (void)len;
    if (l == w->rtmp)
        lc_rtmp_session_accept(w, fd, sa);
    else
        lc_ws_session_accept(w, fd, sa, l == w->signaling_tls ? w->tls : NULL);
}

static void on_accept_error(struct evconnlistener *l, void *arg)
{
    lc_worker_t *w = arg;
    int err = EVUTIL_SOCKET_ERROR();
    /* EMFILE and friends: a listener left armed is readable again at once
     * and the loop spins; pause accepting instead (accept_gate.h) */
    lc_accept_gate_error(&w->gate, err,
                         l == w->rtmp ? "rtmp.listen" : l == w->signaling_tls ? "signaling.tls_listen" : "signaling.listen");
}

static void on_drain_timeout(evutil_socket_t fd, short what, void *arg)
{
    lc_worker_t *w = arg;
    (void)fd;
    (void)what;
    lc_log_warn("worker_shutdown_timeout reached with %llu sessions open: closing them",
                (unsigned long long)atomic_load(&self_proc(w)->connections));
    event_base_loopbreak(w->base);
}

static void start_drain(lc_worker_t *w)
{
    if (w->draining)
        return;
    w->draining = 1;
    lc_accept_gate_forget(&w->gate);
    if (w->signaling) {
        evconnlistener_free(w->signaling);
        w->signaling = NULL;
    }
    if (w->rtmp) {
        evconnlistener_free(w->rtmp);
        w->rtmp = NULL;
    }
    if (w->signaling_tls) {
        evconnlistener_free(w->signaling_tls);
        w->signaling_tls = NULL;
    }
    lc_log_info("draining: %llu sessions open, at most %llds", 
                (unsigned long long)atomic_load(&self_proc(w)->connections),
                w->cycle->conf->worker_shutdown_timeout);
    struct timeval tv = { (time_t)w->cycle->conf->worker_shutdown_timeout, 0 };
    w->drain_timer = evtimer_new(w->base, on_drain_timeout, w);
    evtimer_add(w->drain_timer, &tv);
    maybe_finish_drain(w);
}

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
    lc_worker_t *w = arg;
    (void)what;
    switch (sig) {
    case SIGUSR1: lc_log_reopen(); break;
    case SIGQUIT: start_drain(w); break;
    default: event_base_loopbreak(w->base); break;
    }
}

static void on_wake(evutil_socket_t fd, short what, void *arg)
{
    lc_worker_t *w = arg;
    (void)fd;
    (void)what;
    /* Clear first, then read rings: a frame written after this is not missed. */
    lc_notify_ack(w->cycle->shm, w->cycle->slot);
    lc_core_on_wake(w);
    lc_transcode_on_wake(w); /* derived streams the relay made for a CDN pull */
    lc_whip_on_wake(w); /* DELETEs of our sessions that landed on another worker */
    lc_rtc_udp_flush(); /* the RTP this wake-up queued for WebRTC players */
}

/* Serve one of the master's listening sockets (a dup: closing ours on
 * drain must not close the master's). */
static int listen_on(lc_worker_t *w, int kind, struct evconnlistener **out)
{
    int fd = w->cycle->listeners[kind].fd;
    if (fd < 0)
        return 0;
    int dup = fcntl(fd, F_DUPFD_CLOEXEC, 0);
    if (dup < 0)
        return -1;
    *out = evconnlistener_new(w->base, on_accept, w, LEV_OPT_CLOSE_ON_FREE, -1, dup);
    if (!*out) {
        close(dup);
        return -1;
    }
    evconnlistener_set_error_cb(*out, on_accept_error);
    lc_accept_gate_add(&w->gate, *out);
    return 0;
}

int lc_worker_main(lc_cycle_t *cycle)
{
    lc_worker_t w = { .cycle = cycle, .next_session_id = (uint64_t)getpid() << 20 };
    struct event *sigs[4];
    int signos[4] = { SIGTERM, SIGINT, SIGQUIT, SIGUSR1 };

    w.base = event_base_new();
    if (!w.base || lc_accept_gate_init(&w.gate, w.base) < 0)
        return 1;
    if (lc_core_init(&w) < 0 || listen_on(&w, LC_LISTEN_SIGNALING, &w.signaling) < 0 ||
        listen_on(&w, LC_LISTEN_RTMP, &w.rtmp) < 0) {
        lc_log_error("worker start failed: cannot serve signaling.listen %s or rtmp.listen %s",
                     cycle->listeners[LC_LISTEN_SIGNALING].addr, cycle->listeners[LC_LISTEN_RTMP].addr);
        return 1;
    }
    char err[512];
    if (cycle->listeners[LC_LISTEN_SIGNALING_TLS].fd >= 0 &&
        (!(w.tls = lc_tls_server_ctx(cycle->conf, err, sizeof(err))) ||
         listen_on(&w, LC_LISTEN_SIGNALING_TLS, &w.signaling_tls) < 0)) {
        lc_log_error("worker start failed: cannot serve signaling.tls_listen %s: %s",
                     cycle->listeners[LC_LISTEN_SIGNALING_TLS].addr, w.tls ? "listener" : err);
        return 1;
    }
    /* without its UDP port a worker still serves RTMP; WebRTC offers are refused with the reason */
    if (lc_rtc_init(&w) < 0)
        lc_log_error("webrtc is off in this worker (see above)");
    for (int i = 0; i < 4; i++) {
        sigs[i] = evsignal_new(w.base, signos[i], on_signal, &w);
        event_add(sigs[i], NULL);
    }
    w.wake = event_new(w.base, lc_notify_fd(cycle->slot), EV_READ | EV_PERSIST, on_wake, &w);
    event_add(w.wake, NULL);
    lc_notify_ack(cycle->shm, cycle->slot); /* a previous occupant's wake-ups are not ours */

    atomic_store(&self_proc(&w)->state, LC_PROC_RUNNING);
    lc_log_info("worker %d ready (generation %u, udp ports %u-%u)", cycle->index, cycle->generation,
                self_proc(&w)->udp_lo, self_proc(&w)->udp_hi);
    event_base_dispatch(w.base);

    /* Sessions still open are closed here; their peers see the TCP close
     * and the streams this worker published end for every player, which
     * sees this server as an origin gone away (SPEC section 6). */
    lc_core_pubs_end_reason(&w, "Origin unavailable");
    lc_whip_close_all();
    lc_rtc_shutdown();
    lc_rtmp_session_close_all();
    lc_ws_session_close_all();
    lc_transcode_free_all(&w);
    lc_core_free(&w);
    lc_accept_gate_forget(&w.gate);
    lc_accept_gate_free(&w.gate);
    if (w.signaling)
        evconnlistener_free(w.signaling);
    if (w.rtmp)
        evconnlistener_free(w.rtmp);
    if (w.signaling_tls)
        evconnlistener_free(w.signaling_tls);
    SSL_CTX_free(w.tls);
    if (w.drain_timer)
        event_free(w.drain_timer);
    event_free(w.wake);
    for (int i = 0; i < 4; i++)
        event_free(sigs[i]);
    event_base_free(w.base);
    lc_log_info("worker %d exiting", cycle->index);
    return 0;
}
