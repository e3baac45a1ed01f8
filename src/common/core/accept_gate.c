/*
 * accept_gate.c: see accept_gate.h.
 */
#include "common/core/accept_gate.h"

#include <errno.h>

#include "common/core/log.h"

static time_t now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec;
}

static void apply(lc_accept_gate_t *g)
{
    for (int i = 0; i < g->n; i++)
        if (g->closed)
            evconnlistener_disable(g->l[i]);
        else
            evconnlistener_enable(g->l[i]);
}

static void on_retry(evutil_socket_t fd, short what, void *arg)
{
    lc_accept_gate_t *g = arg;
    (void)fd;
    (void)what;
    g->closed &= ~(unsigned)LC_ACCEPT_GATE_FDS;
    apply(g);
}

int lc_accept_gate_init(lc_accept_gate_t *g, struct event_base *base)
{
    *g = (lc_accept_gate_t){ .base = base };
    g->retry = evtimer_new(base, on_retry, g);
    return g->retry ? 0 : -1;
}

void lc_accept_gate_free(lc_accept_gate_t *g)
{
    if (g->retry)
        event_free(g->retry);
    g->retry = NULL;
    g->n = 0;
}

void lc_accept_gate_add(lc_accept_gate_t *g, struct evconnlistener *l)
{
    if (!l || g->n == LC_ACCEPT_GATE_MAX)
        return;
    g->l[g->n++] = l;
    if (g->closed)
        evconnlistener_disable(l);
}

void lc_accept_gate_forget(lc_accept_gate_t *g)
{
    g->n = 0;
}

/* One line a second per reason at most: a flood of refusals must not become a flood of log lines. */
static int may_log(lc_accept_gate_t *g, int reason, unsigned long *quiet)
{
    time_t t = now_s();
    if (g->logged[reason] == t) {
        g->quiet[reason]++;
        return 0;
    }
    g->logged[reason] = t;
    *quiet = g->quiet[reason];
    g->quiet[reason] = 0;
    return 1;
}

void lc_accept_gate_error(lc_accept_gate_t *g, int err, const char *what)
{
    unsigned long quiet;
    int was = (g->closed & LC_ACCEPT_GATE_FDS) != 0;
    g->closed |= LC_ACCEPT_GATE_FDS;
    apply(g);
    if (!was) {
        struct timeval tv = { 0, LC_ACCEPT_GATE_RETRY_MS * 1000 };
        if (evtimer_add(g->retry, &tv) < 0)
            on_retry(-1, 0, g); /* no timer: never stay closed for good */
    }
    if (may_log(g, 1, &quiet))
        lc_log_errno(LC_LOG_ERROR, err, "accept paused for %d ms: accept() failed on %s (%lu more pauses since the "
                     "last line)", LC_ACCEPT_GATE_RETRY_MS, what, quiet);
}

void lc_accept_gate_count(lc_accept_gate_t *g, long long open, long long max)
{
    unsigned long quiet;
    if (open < max) {
        if (g->closed & LC_ACCEPT_GATE_FULL) {
            g->closed &= ~(unsigned)LC_ACCEPT_GATE_FULL;
            /* a connection closed, so a descriptor is free again too */
            if (g->closed & LC_ACCEPT_GATE_FDS) {
                event_del(g->retry);
                g->closed &= ~(unsigned)LC_ACCEPT_GATE_FDS;
            }
            apply(g);
        } else if (g->closed & LC_ACCEPT_GATE_FDS) {
            event_del(g->retry);
            on_retry(-1, 0, g);
        }
        return;
    }
    if (g->closed & LC_ACCEPT_GATE_FULL)
        return;
    g->closed |= LC_ACCEPT_GATE_FULL;
    apply(g);
    if (may_log(g, 0, &quiet))
        lc_log_warn("accept paused: %lld connections open (limits.max_connections = %lld; %lu more pauses since the "
                    "last line)", open, max, quiet);
}
