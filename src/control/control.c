/*
 * control.c: the control process's loop: one evhttp server on http.listen
 * for the REST API (rest.c), Prometheus metrics (metrics.c) and the web
 * pages (static.c). Who may call what is decided by access.c before any
 * route runs.
 */
#include "control/control.h"

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/keyvalq_struct.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <event2/bufferevent_ssl.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>

#include "common/core/accept_gate.h"
#include "common/core/log.h"
#include "common/core/tls.h"
#include "common/core/net.h"
#include "control/http_deadline.h"

#define MAX_BODY (1 << 20)
#define MAX_HEADERS (16 << 10)

/* One control loop per process. The listeners' error callback gets
 * evhttp's argument, not ours, hence file scope. */
static lc_accept_gate_t gate;            /* pauses http.listen and http.tls_listen on EMFILE */
static lc_http_deadline_t *deadlines;    /* limits.handshake_timeout for every connection */

const char *lc_control_role_name(int role)
{
    switch (role) {
    case LC_ROLE_MASTER: return "master";
    case LC_ROLE_WORKER: return "worker";
    case LC_ROLE_RELAY: return "relay";
    case LC_ROLE_CONTROL: return "control";
    }
    return "none";
}

const char *lc_control_state_name(int state)
{
    switch (state) {
    case LC_PROC_STARTING: return "starting";
    case LC_PROC_RUNNING: return "running";
    case LC_PROC_DRAINING: return "draining";
    }
    return "free";
}

static void on_request(struct evhttp_request *req, void *arg)
{
    lc_control_t *ctl = arg;
    const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
    const char *path = uri ? evhttp_uri_get_path(uri) : NULL;
    char peer[128] = "?";
    const struct sockaddr *sa = evhttp_connection_get_addr(evhttp_request_get_connection(req));

    if (sa)
        lc_net_addr_str(sa, peer, sizeof(peer));
    lc_http_deadline_request(deadlines, req);
    if (!path || path[0] != '/') {
        lc_log_info("bad request target from %s", peer);
        lc_rest_error(req, 400, "Bad Request", "bad request target");
        return;
    }
    int rest = strncmp(path, "/rest-api/", 10) == 0, metrics = strcmp(path, "/metrics") == 0;
    if (lc_access_check(ctl, req, path, peer) < 0)
        return;
    if (rest)
        lc_rest_handle(ctl, req, path + 10);
    else if (metrics)
        lc_metrics_handle(ctl, req);
    else
        lc_static_handle(ctl, req, path);
}

/* A pending answer whose client went away never completes: 5 s bound the wait. */
#define QUIT_WAIT_TICKS 100

static void maybe_exit(lc_control_t *ctl)
{
    if (ctl->quitting && (ctl->pending == 0 || ++ctl->quit_ticks > QUIT_WAIT_TICKS))
        event_base_loopbreak(ctl->base);
}

static void on_quit_tick(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    maybe_exit(arg);
}

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
    lc_control_t *ctl = arg;
    (void)what;
    if (sig == SIGUSR1) {
        lc_log_reopen();
        return;
    }
    if (sig == SIGTERM || sig == SIGINT) {
        event_base_loopbreak(ctl->base);
        return;
    }
    /* QUIT: a new control process serves new requests; answer ours first */
    lc_accept_gate_forget(&gate);
    if (!ctl->quitting && ctl->bound) {
        evhttp_del_accept_socket(ctl->http, ctl->bound);
        ctl->bound = NULL;
    }
    if (!ctl->quitting && ctl->bound_tls) {
        evhttp_del_accept_socket(ctl->https, ctl->bound_tls);
        ctl->bound_tls = NULL;
    }
    ctl->quitting = 1;
    struct timeval tv = { 0, 50000 };
    if (!ctl->quit_tick)
        ctl->quit_tick = event_new(ctl->base, -1, EV_PERSIST, on_quit_tick, ctl);
    event_add(ctl->quit_tick, &tv);
    maybe_exit(ctl);
}

/* https://: every connection of the TLS evhttp gets its own SSL */
static struct bufferevent *tls_bev(struct event_base *base, void *arg)
{
    lc_control_t *ctl = arg;
    SSL *ssl = SSL_new(ctl->tls);
    struct bufferevent *bev =
        ssl ? bufferevent_openssl_socket_new(base, -1, ssl, BUFFEREVENT_SSL_ACCEPTING, BEV_OPT_CLOSE_ON_FREE) : NULL;
    return bev ? lc_http_deadline_track(deadlines, bev) : NULL;
}

/* http://: the bufferevent evhttp would make, made here so its deadline is kept */
static struct bufferevent *plain_bev(struct event_base *base, void *arg)
{
    (void)arg;
    struct bufferevent *bev = bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE);
    return bev ? lc_http_deadline_track(deadlines, bev) : NULL;
}

static void on_accept_error(struct evconnlistener *l, void *arg)
{
    lc_control_t *ctl = arg;
    (void)ctl; /* evhttp's: see gate */
    (void)l;
    lc_accept_gate_error(&gate, EVUTIL_SOCKET_ERROR(), "http.listen or http.tls_listen");
}

/* evhttp leaves accept errors to us: without a callback the listener stays armed and the loop spins */
static void gate_listener(struct evhttp_bound_socket *bound)
{
    struct evconnlistener *l = bound ? evhttp_bound_socket_get_listener(bound) : NULL;
    if (!l)
        return;
    evconnlistener_set_error_cb(l, on_accept_error);
    lc_accept_gate_add(&gate, l);
}

static void setup_http(lc_control_t *ctl, struct evhttp *h)
{
    evhttp_set_max_headers_size(h, MAX_HEADERS);
    evhttp_set_max_body_size(h, MAX_BODY);
    evhttp_set_timeout(h, 30);
    /* every method reaches our handlers, which answer 405 in JSON */
    evhttp_set_allowed_methods(h, EVHTTP_REQ_GET | EVHTTP_REQ_HEAD | EVHTTP_REQ_POST | EVHTTP_REQ_OPTIONS |
                                      EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE | EVHTTP_REQ_PATCH | EVHTTP_REQ_TRACE);
    evhttp_set_gencb(h, on_request, ctl);
}

/* The same API and pages on http.tls_listen. 0, or -1 (logged). */
static int start_https(lc_control_t *ctl)
{
    char err[512];
    int fd = ctl->cycle->listeners[LC_LISTEN_HTTP_TLS].fd;
    if (fd < 0)
        return 0;
    ctl->tls = lc_tls_server_ctx(ctl->cycle->conf, err, sizeof(err));
    ctl->https = ctl->tls ? evhttp_new(ctl->base) : NULL;
    int dup = ctl->https ? fcntl(fd, F_DUPFD_CLOEXEC, 0) : -1;
    ctl->bound_tls = dup >= 0 ? evhttp_accept_socket_with_handle(ctl->https, dup) : NULL;
    if (!ctl->bound_tls) {
        lc_log_error("cannot serve http.tls_listen %s: %s", ctl->cycle->listeners[LC_LISTEN_HTTP_TLS].addr,
                     ctl->tls ? "no listener" : err);
        return -1;
    }
    evhttp_set_bevcb(ctl->https, tls_bev, ctl);
    setup_http(ctl, ctl->https);
    gate_listener(ctl->bound_tls);
    return 0;
}

int lc_control_main(lc_cycle_t *cycle)
{
    lc_control_t ctl = { .cycle = cycle };
    struct event *sigs[4];
    int signos[4] = { SIGTERM, SIGINT, SIGQUIT, SIGUSR1 };
    int fd = cycle->listeners[LC_LISTEN_HTTP].fd;

    ctl.base = event_base_new();
    ctl.http = ctl.base ? evhttp_new(ctl.base) : NULL;
    if (!ctl.http || lc_accept_gate_init(&gate, ctl.base) < 0 ||
        !(deadlines = lc_http_deadline_new(ctl.base, cycle->conf->limits_handshake_timeout)))
        return 1;
    if (fd >= 0) {
        /* the master's socket: evhttp must not close it on exit */
        int dup = fcntl(fd, F_DUPFD_CLOEXEC, 0);
        ctl.bound = dup >= 0 ? evhttp_accept_socket_with_handle(ctl.http, dup) : NULL;
        if (!ctl.bound) {
            lc_log_error("cannot serve http.listen %s", cycle->listeners[LC_LISTEN_HTTP].addr);
            return 1;
        }
    }
    setup_http(&ctl, ctl.http);
    evhttp_set_bevcb(ctl.http, plain_bev, &ctl);
    gate_listener(ctl.bound);
    if (start_https(&ctl) < 0)
        return 1;
    for (int i = 0; i < 4; i++) {
        sigs[i] = evsignal_new(ctl.base, signos[i], on_signal, &ctl);
        event_add(sigs[i], NULL);
    }
    atomic_store(&lc_shm_proc(cycle->shm, cycle->slot)->state, LC_PROC_RUNNING);
    lc_log_info("control ready on %s", cycle->listeners[LC_LISTEN_HTTP].addr);
    event_base_dispatch(ctl.base);
    for (int i = 0; i < 4; i++)
        event_free(sigs[i]);
    if (ctl.quit_tick)
        event_free(ctl.quit_tick);
    lc_accept_gate_forget(&gate);
    evhttp_free(ctl.http);
    if (ctl.https)
        evhttp_free(ctl.https);
    lc_http_deadline_free(deadlines);
    lc_accept_gate_free(&gate);
    SSL_CTX_free(ctl.tls);
    event_base_free(ctl.base);
    lc_log_info("control exiting");
    return 0;
}
