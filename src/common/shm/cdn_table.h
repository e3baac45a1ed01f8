/*
 * cdn_table.h: this node's view of the CDN, in the shared arena. The relay
 * process is its only writer (membership changes, never per frame); workers
 * read it when a player asks for a stream that is not published here, and
 * the control process reads it for REST, the CLI and metrics. Both sides
 * hold the arena lock, so a reader never sees a half-written view.
 */
#ifndef LC_CDN_TABLE_H
#define LC_CDN_TABLE_H

#include <stdatomic.h>
#include <stdint.h>

#include "common/cdn/cdn_msg.h"
#include "common/shm/shm.h"

#define LC_CDN_NODES_MAX 64
#define LC_CDN_ROUTES_MAX 4096

enum lc_cdn_node_state { LC_CDN_NODE_FREE = 0, LC_CDN_NODE_ACTIVE, LC_CDN_NODE_PASSIVE };

typedef struct {
    int32_t state;                 /* lc_cdn_node_state */
    int32_t role;                  /* lc_cdn_role, 0 while not yet known */
    char addr[LC_CDN_ADDR_MAX];    /* "ip:port" of its cdn.port */
    int64_t since;                 /* unix seconds of the last state change */
} lc_cdn_node_t;

/* A stream this node can pull, and the origin it pulls it from. */
typedef struct {
    char name[LC_STREAM_NAME_MAX];
    char origin[LC_CDN_ADDR_MAX];
    int32_t vcodec, acodec;        /* as the origin last said, 0 = not known yet */
} lc_cdn_route_t;

typedef struct {
    int32_t enabled;               /* cdn.enabled of the running relay */
    int32_t role;                  /* this node's lc_cdn_role */
    char self[LC_CDN_ADDR_MAX];    /* this node's address in the CDN */
    uint32_t nnodes;               /* other nodes, ACTIVE or PASSIVE */
    lc_cdn_node_t nodes[LC_CDN_NODES_MAX];
    uint32_t nroutes;
    lc_cdn_route_t routes[LC_CDN_ROUTES_MAX];
    /* Workers bump it after they create a stream entry for the relay to
     * pull (owner = relay, pulled = 1), then wake the relay. */
    _Atomic uint32_t pull_requests;
    /* Counters, written by the relay without the lock. What is active now
     * is not counted here (a relay that dies could not take its share
     * back): pulls are the LIVE entries marked pulled, serves the relays'
     * players in their process rows. */
    _Atomic uint64_t pulls_total;
    _Atomic uint64_t pulls_failed;
    _Atomic uint64_t bytes_relayed_in; /* media bytes received over pulls */
    _Atomic uint64_t bytes_relayed_out;/* media bytes sent to pulling nodes */
    _Atomic uint64_t msgs_in, msgs_out;/* control messages */
} lc_cdn_table_t;

lc_cdn_table_t *lc_shm_cdn(lc_shm_t *shm);

/* Worker: the origin to pull `name` from. 0 with origin copied, or -ENOENT
 * (no route, or CDN off). */
int lc_cdn_route_find(lc_shm_t *shm, const char *name, char origin[LC_CDN_ADDR_MAX]);
/* The same, with the stream's codecs as its origin announced them (0 = not known). */
int lc_cdn_route_codecs(lc_shm_t *shm, const char *name, int *vcodec, int *acodec);

/* Control: a consistent copy of the nodes and routes (counters included). */
void lc_cdn_snapshot(lc_shm_t *shm, lc_cdn_table_t *out);

const char *lc_cdn_node_state_name(int state); /* "ACTIVE", "PASSIVE" */

#endif
