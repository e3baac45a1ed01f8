/*
 * accept_gate.h: when a process stops accepting connections, and how it
 * starts again (SPEC section 3, limits.max_connections).
 *
 * A gate holds the listeners of one process. It closes for two reasons,
 * each a bit: FULL (the process has limits.max_connections open; it opens
 * when one closes) and FDS (accept failed, EMFILE, ENFILE or the like; it
 * opens after a short pause or when a connection closes, which frees a
 * descriptor). While closed the listeners are disabled, so the kernel
 * keeps new connections in the backlog and the loop does not spin on a
 * readable listener it cannot serve, which is what nginx does. Each
 * reason is logged at most once a second ("accept paused: ...").
 *
 * Ownership: the caller owns the gate and its listeners; it calls
 * lc_accept_gate_forget before freeing a listener the gate holds.
 */
#ifndef LC_ACCEPT_GATE_H
#define LC_ACCEPT_GATE_H

#include <event2/event.h>
#include <event2/listener.h>
#include <time.h>

#define LC_ACCEPT_GATE_MAX 4
#define LC_ACCEPT_GATE_RETRY_MS 500 /* after EMFILE: nginx's accept_mutex_delay */

typedef struct {
    struct event_base *base;
    struct evconnlistener *l[LC_ACCEPT_GATE_MAX];
    int n;
    unsigned closed;         /* LC_ACCEPT_GATE_FULL | LC_ACCEPT_GATE_FDS */
    struct event *retry;
    time_t logged[2];        /* monotonic second of the last line, per reason */
    unsigned long quiet[2];  /* times paused since that line */
} lc_accept_gate_t;

enum { LC_ACCEPT_GATE_FULL = 1, LC_ACCEPT_GATE_FDS = 2 };

/* 0, or -1 (no timer). */
int lc_accept_gate_init(lc_accept_gate_t *g, struct event_base *base);
void lc_accept_gate_free(lc_accept_gate_t *g);
/* Hold a listener (at most LC_ACCEPT_GATE_MAX); it follows the gate from now on. */
void lc_accept_gate_add(lc_accept_gate_t *g, struct evconnlistener *l);
/* Drop every listener (the process frees them: drain, exit). */
void lc_accept_gate_forget(lc_accept_gate_t *g);
/* accept() failed with err on the listener named `what`: pause (every
 * error that libevent does not retry by itself would come back at once). */
void lc_accept_gate_error(lc_accept_gate_t *g, int err, const char *what);
/* The process has `open` connections of at most `max`: close or open the gate. */
void lc_accept_gate_count(lc_accept_gate_t *g, long long open, long long max);

#endif
