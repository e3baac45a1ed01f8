/*
 * http_deadline.c: see http_deadline.h.
 */
#include "control/http_deadline.h"

#include <stdint.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>

#include "common/core/log.h"
#include "common/core/net.h"

typedef struct conn conn_t;
struct conn {
    struct bufferevent *bev; /* our reference */
    int64_t deadline_ms;     /* 0 while a request is being answered */
    int shut;                /* shut down past its deadline; waiting for evhttp to let go */
    conn_t *prev, *next;
};

struct lc_http_deadline {
    struct event *sweep;
    int64_t timeout_ms;
    conn_t *conns;
};

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void conn_drop(lc_http_deadline_t *d, conn_t *c)
{
    if (c->prev)
        c->prev->next = c->next;
    else
        d->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    bufferevent_decref(c->bev);
    free(c);
}

/* evhttp is done with it: bufferevent_free() cleared the callbacks it set */
static int conn_gone(const conn_t *c)
{
    bufferevent_data_cb r, w;
    bufferevent_event_cb e;
    void *arg;
    bufferevent_getcb(c->bev, &r, &w, &e, &arg);
    return !r && !w && !e;
}

static void conn_expire(lc_http_deadline_t *d, conn_t *c)
{
    char peer[128] = "?";
    struct sockaddr_storage ss;
    socklen_t len = sizeof(ss);
    int fd = bufferevent_getfd(c->bev);
    if (fd >= 0 && getpeername(fd, (struct sockaddr *)&ss, &len) == 0)
        lc_net_addr_str((struct sockaddr *)&ss, peer, sizeof(peer));
    lc_log_info("[http %s] closed: request not complete within limits.handshake_timeout (%llds)", peer,
                (long long)(d->timeout_ms / 1000));
    c->shut = 1;
    if (fd >= 0)
        shutdown(fd, SHUT_RDWR);
}

static void on_sweep(evutil_socket_t fd, short what, void *arg)
{
    lc_http_deadline_t *d = arg;
    int64_t now = now_ms();
    (void)fd;
    (void)what;
    for (conn_t *c = d->conns, *next; c; c = next) {
        next = c->next;
        if (conn_gone(c))
            conn_drop(d, c);
        else if (!c->shut && c->deadline_ms && now >= c->deadline_ms)
            conn_expire(d, c);
    }
}

lc_http_deadline_t *lc_http_deadline_new(struct event_base *base, long long timeout_s)
{
    lc_http_deadline_t *d = calloc(1, sizeof(*d));
    if (!d)
        return NULL;
    d->timeout_ms = timeout_s * 1000;
    d->sweep = event_new(base, -1, EV_PERSIST, on_sweep, d);
    struct timeval tv = { 0, 250000 };
    if (!d->sweep || event_add(d->sweep, &tv) < 0) {
        if (d->sweep)
            event_free(d->sweep);
        free(d);
        return NULL;
    }
    return d;
}

void lc_http_deadline_free(lc_http_deadline_t *d)
{
    if (!d)
        return;
    while (d->conns)
        conn_drop(d, d->conns);
    event_free(d->sweep);
    free(d);
}

struct bufferevent *lc_http_deadline_track(lc_http_deadline_t *d, struct bufferevent *bev)
{
    conn_t *c = bev ? calloc(1, sizeof(*c)) : NULL;
    if (!c) {
        if (bev)
            bufferevent_free(bev);
        return NULL;
    }
    bufferevent_incref(bev);
    c->bev = bev;
    c->deadline_ms = now_ms() + d->timeout_ms;
    c->next = d->conns;
    if (d->conns)
        d->conns->prev = c;
    d->conns = c;
    return bev;
}

static conn_t *conn_of(lc_http_deadline_t *d, struct evhttp_request *req)
{
    struct evhttp_connection *evcon = evhttp_request_get_connection(req);
    struct bufferevent *bev = evcon ? evhttp_connection_get_bufferevent(evcon) : NULL;
    for (conn_t *c = d->conns; c && bev; c = c->next)
        if (c->bev == bev)
            return c;
    return NULL;
}

/* The response is out; on a kept-alive connection the next request's clock
 * starts. The request still names its connection while this runs. */
static void on_done(struct evhttp_request *req, void *arg)
{
    lc_http_deadline_t *d = arg;
    conn_t *c = conn_of(d, req);
    if (c)
        c->deadline_ms = now_ms() + d->timeout_ms;
}

void lc_http_deadline_request(lc_http_deadline_t *d, struct evhttp_request *req)
{
    conn_t *c = conn_of(d, req);
    if (!c)
        return; /* not one of ours to time */
    c->deadline_ms = 0;
    evhttp_request_set_on_complete_cb(req, on_done, d);
}
