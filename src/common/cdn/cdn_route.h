/*
 * cdn_route.h: which origin this node pulls each stream from (SPEC 6), as
 * a pure function of the routes it had and the claims it holds now, so the
 * rule is tested without sockets (tests/unit/test_cdn_route.c).
 *
 * The rule: a route is sticky. While the origin of a name's route is ACTIVE
 * and still claims the name, the route stays, whoever else claims it (so a
 * name never moves away from an origin that has it, and a late claim, true
 * or forged, takes nothing over). Only when that origin drops the name or
 * goes PASSIVE (its claims are gone) does another claim take it: one from
 * the publisher's origin before one that fetched it, then the lowest
 * address, so that nodes deciding at the same moment agree.
 */
#ifndef LC_CDN_ROUTE_H
#define LC_CDN_ROUTE_H

#include <stddef.h>

#include "common/shm/cdn_table.h"

/* One stream as one ACTIVE, authenticated origin distributes it. */
typedef struct {
    const char *name;
    const char *origin;   /* "ip:port" */
    int fetched;          /* the origin pulled it from another */
    int vcodec, acodec;
} lc_cdn_claim_t;

/* prev[0..nprev): the routes of the last call (sorted by name, as this
 * function writes them). claims[0..n) is reordered (by name, then the
 * order of preference). Writes at most cap routes, sorted by name, into
 * out (which must not overlap prev) and returns how many. */
size_t lc_cdn_routes_pick(const lc_cdn_route_t *prev, size_t nprev, lc_cdn_claim_t *claims, size_t n,
                          lc_cdn_route_t *out, size_t cap);

#endif
