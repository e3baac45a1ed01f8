/*
 * relay.c: the relay process's loop. With cdn.enabled it is this node's
 * member of the CDN (cdn.h): it accepts other nodes on cdn.port, keeps the
 * membership and routes, pulls streams for this node's players and serves
 * this node's streams to others. It also runs the pushes to external RTMP
 * servers (push.h). Workers wake it through its eventfd when they ask for
 * a pull and when a stream it serves or pushes has new frames; control
 * wakes it for a push asked or stopped.
 *
 *   TERM/INT  exit now          QUIT  say bye to the CDN, end pulls, exit
 *   USR1      reopen the log
 */
#include <event2/event.h>
#include <event2/listener.h>
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include "common/core/accept_gate.h"
#include "common/core/cycle.h"
#include "common/core/log.h"
#include "common/shm/notify.h"
#include "relay/cdn.h"
#include "relay/cdn_link.h"
#include "relay/push.h"

typedef struct {
    lc_cycle_t *cycle;
    struct event_base *base;
    lc_cdn_t *cdn;
    lc_pusher_t *pusher;           /* pushes to external RTMP servers (push.c) */
    struct evconnlistener *listener;
    lc_accept_gate_t gate;         /* pauses cdn.port on EMFILE */
    struct event *drain;
    uint64_t drain_deadline;       /* ms */
} lc_relay_t;

/* Draining: exit once the last pull and serve ended, or at the deadline. */
static void on_drain_tick(evutil_socket_t fd, short what, void *arg)
{
    lc_relay_t *r = arg;
    (void)fd;
    (void)what;
    if (!lc_cdn_busy(r->cdn) || lc_cdn_now_ms() >= r->drain_deadline) {
        if (lc_cdn_busy(r->cdn))
            lc_log_warn("relay: worker_shutdown_timeout reached; ending the pulls and serves left");
        event_base_loopbreak(r->base);
    }
}

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
    lc_relay_t *r = arg;
    (void)what;
    if (sig == SIGUSR1) {
        lc_log_reopen();
        return;
    }
    if (sig != SIGQUIT || !r->cdn || r->drain) {
        event_base_loopbreak(r->base);
        return;
    }
    /* a reload: the new relay accepts and keeps the membership from now on */
    lc_accept_gate_forget(&r->gate);
    evconnlistener_free(r->listener);
    r->listener = NULL;
    lc_cdn_drain(r->cdn);
    r->drain_deadline = lc_cdn_now_ms() + (uint64_t)r->cycle->conf->worker_shutdown_timeout * 1000;
    struct timeval tv = { 0, 200000 };
    r->drain = event_new(r->base, -1, EV_PERSIST, on_drain_tick, r);
    if (!r->drain || event_add(r->drain, &tv) < 0)
        event_base_loopbreak(r->base);
}

static void on_wake(evutil_socket_t fd, short what, void *arg)
{
    lc_relay_t *r = arg;
    (void)fd;
    (void)what;
    lc_notify_ack(r->cycle->shm, r->cycle->slot);
    if (r->cdn) {
        lc_cdn_pull_check(r->cdn);
        lc_cdn_serve_pump(r->cdn);
    }
    if (r->pusher)
        lc_pusher_on_wake(r->pusher);
}

static void on_accept(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa, int len, void *arg)
{
    lc_relay_t *r = arg;
    (void)l;
    (void)len;
    lc_cdn_accept(r->cdn, fd, sa);
}

static void on_accept_error(struct evconnlistener *l, void *arg)
{
    lc_relay_t *r = arg;
    (void)l;
    lc_accept_gate_error(&r->gate, EVUTIL_SOCKET_ERROR(), "cdn.port");
}

int lc_relay_main(lc_cycle_t *cycle)
{
    lc_relay_t r = { .cycle = cycle };
    struct event *sigs[4], *wake = NULL;
    int signos[4] = { SIGTERM, SIGINT, SIGQUIT, SIGUSR1 };
    int status = 1;

    r.base = event_base_new();
    if (!r.base || lc_accept_gate_init(&r.gate, r.base) < 0)
        return 1;
    lc_cdn_link_set_limits(cycle->conf->limits_handshake_timeout, (size_t)cycle->conf->limits_output_buffer);
    for (int i = 0; i < 4; i++) {
        sigs[i] = evsignal_new(r.base, signos[i], on_signal, &r);
        event_add(sigs[i], NULL);
    }
    wake = event_new(r.base, lc_notify_fd(cycle->slot), EV_READ | EV_PERSIST, on_wake, &r);
    lc_notify_ack(cycle->shm, cycle->slot); /* a previous occupant's wake-ups are not ours */
    if (!wake || event_add(wake, NULL) < 0)
        goto out;
    int fd = cycle->listeners[LC_LISTEN_CDN].fd;
    if (cycle->conf->cdn_enabled && fd >= 0) {
        r.cdn = lc_cdn_start(cycle, r.base);
        int dup = fcntl(fd, F_DUPFD_CLOEXEC, 0);
        r.listener = r.cdn && dup >= 0 ? evconnlistener_new(r.base, on_accept, &r, LEV_OPT_CLOSE_ON_FREE, -1, dup)
                                       : NULL;
        if (!r.listener) {
            if (dup >= 0)
                close(dup);
            lc_log_error("relay: cannot start the CDN on %s", cycle->listeners[LC_LISTEN_CDN].addr);
            goto out;
        }
        evconnlistener_set_error_cb(r.listener, on_accept_error);
        lc_accept_gate_add(&r.gate, r.listener);
    } else {
        lc_cdn_disable(cycle->shm);
    }
    r.pusher = lc_pusher_new(cycle, r.base);
    if (!r.pusher)
        goto out;
    atomic_store(&lc_shm_proc(cycle->shm, cycle->slot)->state, LC_PROC_RUNNING);
    lc_log_info("relay ready (cdn %s)", r.cdn ? "enabled" : "disabled");
    lc_pusher_on_wake(r.pusher); /* pushes asked before we ran, or handed over by the relay we replace */
    event_base_dispatch(r.base);
    status = 0;
out:
    lc_accept_gate_forget(&r.gate);
    lc_accept_gate_free(&r.gate);
    if (r.listener)
        evconnlistener_free(r.listener);
    if (r.drain)
        event_free(r.drain);
    /* a newer generation runs: our pushes go on from its relay */
    lc_pusher_free(r.pusher, atomic_load(&cycle->shm->generation) != lc_shm_proc(cycle->shm, cycle->slot)->generation);
    if (r.cdn)
        lc_cdn_stop(r.cdn);
    if (wake)
        event_free(wake);
    for (int i = 0; i < 4; i++)
        event_free(sigs[i]);
    /* bye messages and closes go out before we leave */
    event_base_loop(r.base, EVLOOP_NONBLOCK);
    event_base_free(r.base);
    lc_log_info("relay exiting");
    return status;
}
