/*
 * cdn_route.c: see cdn_route.h.
 */
#include "common/cdn/cdn_route.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int claim_cmp(const void *a, const void *b)
{
    const lc_cdn_claim_t *x = a, *y = b;
    int r = strcmp(x->name, y->name);
    if (r)
        return r;
    if (x->fetched != y->fetched)
        return x->fetched - y->fetched;
    return strcmp(x->origin, y->origin);
}

static const lc_cdn_route_t *prev_find(const lc_cdn_route_t *prev, size_t n, const char *name)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int r = strcmp(prev[mid].name, name);
        if (r == 0)
            return &prev[mid];
        if (r < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

size_t lc_cdn_routes_pick(const lc_cdn_route_t *prev, size_t nprev, lc_cdn_claim_t *claims, size_t n,
                          lc_cdn_route_t *out, size_t cap)
{
    size_t nout = 0;
    if (n > 1)
        qsort(claims, n, sizeof(*claims), claim_cmp);
    for (size_t i = 0; i < n && nout < cap;) {
        size_t end = i + 1;
        while (end < n && strcmp(claims[end].name, claims[i].name) == 0)
            end++;
        /* the group claims[i..end) names one stream; [i] is the preferred claim */
        const lc_cdn_claim_t *pick = &claims[i];
        const lc_cdn_route_t *was = prev_find(prev, nprev, claims[i].name);
        for (size_t k = i; was && k < end; k++)
            if (strcmp(claims[k].origin, was->origin) == 0) {
                pick = &claims[k]; /* its origin still has it: it stays */
                break;
            }
        lc_cdn_route_t *r = &out[nout++];
        memset(r, 0, sizeof(*r));
        snprintf(r->name, sizeof(r->name), "%s", pick->name);
        snprintf(r->origin, sizeof(r->origin), "%s", pick->origin);
        r->vcodec = pick->vcodec;
        r->acodec = pick->acodec;
        i = end;
    }
    return nout;
}
