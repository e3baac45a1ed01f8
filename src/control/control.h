/*
 * control.h: pieces of the control process (REST, metrics, static pages)
 * that control.c's loop wires into one evhttp server.
 */
#ifndef LC_CONTROL_H
#define LC_CONTROL_H

#include <event2/http.h>

#include <openssl/ssl.h>

#include "common/core/cycle.h"

typedef struct {
    lc_cycle_t *cycle;
    struct event_base *base;
    struct evhttp *http;
    struct evhttp_bound_socket *bound;
    struct evhttp *https;          /* http.tls_listen, NULL when off */
    struct evhttp_bound_socket *bound_tls;
    SSL_CTX *tls;
    int pending;          /* requests answered later (reload waits for the master) */
    int quitting;
    int quit_ticks;       /* 50 ms ticks spent quitting */
    struct event *quit_tick;
} lc_control_t;

/* access.c: 0 if req may reach its route, else -1 with the refusal sent and logged */
int lc_access_check(lc_control_t *ctl, struct evhttp_request *req, const char *path, const char *peer);
/* rest.c */
void lc_rest_handle(lc_control_t *ctl, struct evhttp_request *req, const char *path);
void lc_rest_error(struct evhttp_request *req, int code, const char *reason, const char *msg);
/* metrics.c */
void lc_metrics_handle(lc_control_t *ctl, struct evhttp_request *req);
/* static.c */
void lc_static_handle(lc_control_t *ctl, struct evhttp_request *req, const char *path);

const char *lc_control_role_name(int role);
const char *lc_control_state_name(int state);

#endif
