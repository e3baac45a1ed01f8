/*
 * cdn.h: the relay's CDN (SPEC section 6, man/livecdn-cdn.7), shared by
 * its three parts:
 *   cdn_node.c   membership: peers, their states and streams, the routes
 *   cdn_pull.c   this node pulls a stream from an origin into a local ring
 *   cdn_serve.c  this node sends a local stream to a node that pulls it
 * One lc_cdn_t per relay process; everything runs on the relay's loop.
 */
#ifndef LC_RELAY_CDN_H
#define LC_RELAY_CDN_H

#include <event2/event.h>
#include <stdint.h>
#include <sys/socket.h>

#include "common/cdn/cdn_msg.h"
#include "common/core/cycle.h"
#include "common/shm/cdn_table.h"
#include "relay/cdn_link.h"

typedef struct lc_peer lc_peer_t;
typedef struct lc_cdn_pull lc_cdn_pull_t;
typedef struct lc_cdn_serve lc_cdn_serve_t;

struct lc_peer {
    char addr[LC_CDN_ADDR_MAX];
    int role;                      /* lc_cdn_role, 0 until it said hello */
    int state;                     /* LC_CDN_NODE_ACTIVE / PASSIVE */
    int64_t since;                 /* unix s of the last state change (shown) */
    uint64_t since_ms;             /* the same, monotonic ms (timed) */
    uint64_t last_heard;           /* ms, monotonic */
    uint64_t serial;               /* of the state we hold from it */
    int have_state;
    lc_cdn_stream_ref_t *streams;  /* what it distributes (origins only) */
    size_t nstreams;
    lc_cdn_link_t *out, *in;       /* we opened / it opened */
    uint64_t next_try;             /* ms: reconnect not before */
    uint32_t backoff;              /* ms */
    int heard_once;                /* a link to it finished its hello (proved cdn.secret) */
    int tries;                     /* dials that failed while it was never heard (gossip only) */
    lc_peer_t *next;
};

typedef struct {
    lc_cycle_t *cycle;
    struct event_base *base;
    struct event *tick;
    char self[LC_CDN_ADDR_MAX];
    int role;
    lc_cdn_self_t id;              /* what every link's hello says and proves */
    lc_cdn_table_t *table;         /* in the arena */
    lc_peer_t *peers;
    uint64_t serial;               /* of our own state */
    uint64_t state_hash;
    uint64_t last_keepalive;       /* ms: when the last one was due */
    uint64_t last_tick;            /* ms */
    char seed[LC_CDN_ADDR_MAX];    /* point_of_entry as "ip:port", "" if none */
    lc_cdn_link_t *seed_link;
    uint64_t seed_next_try;
    uint32_t seed_backoff;
    lc_cdn_route_t *routes;        /* the last routes written (cdn_route.h: they are sticky) */
    size_t nroutes;
    double dial_tokens;            /* global dial rate (token bucket) */
    uint64_t dial_at;              /* ms of the last refill */
    double log_tokens;             /* lines about gossiped nodes (token bucket) */
    uint64_t log_at;
    unsigned log_dropped;
    lc_cdn_pull_t *pulls;
    uint32_t pull_requests_seen;
    lc_cdn_serve_t *serves;
    uint8_t *buf;                  /* one ring frame, for serves */
    size_t cap;
    int stopping;
    int draining;                  /* a new generation's relay took over the membership */
} lc_cdn_t;

/* relay.c's view */
lc_cdn_t *lc_cdn_start(lc_cycle_t *cycle, struct event_base *base);
void lc_cdn_accept(lc_cdn_t *c, int fd, const struct sockaddr *sa);
void lc_cdn_on_wake(lc_cdn_t *c);
/* Reload: hand the membership to the new generation's relay (close the
 * control links without a bye, leave the arena's view alone) and keep
 * only the pulls and serves running, which the caller waits out. */
void lc_cdn_drain(lc_cdn_t *c);
int lc_cdn_busy(const lc_cdn_t *c);   /* pulls or serves still running */
/* Say bye to every peer (unless draining), end pulls and serves; then free. */
void lc_cdn_stop(lc_cdn_t *c);
/* CDN off in this generation: the arena's view says so. */
void lc_cdn_disable(lc_shm_t *shm);

/* between the parts */
uint64_t lc_cdn_now_ms(void);
int lc_cdn_send(lc_cdn_t *c, lc_cdn_link_t *l, lc_cdn_msg_t *m); /* fills version and node */
void lc_cdn_pull_check(lc_cdn_t *c);      /* new pull requests, idle pulls */
void lc_cdn_pull_stop_all(lc_cdn_t *c);
/* An inbound link's first message was PULL: serve it (or refuse). */
void lc_cdn_serve_start(lc_cdn_t *c, lc_cdn_link_t *l, const lc_cdn_msg_t *m);
void lc_cdn_serve_pump(lc_cdn_t *c);
void lc_cdn_serve_stop_all(lc_cdn_t *c);

#endif
