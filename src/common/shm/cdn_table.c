/*
 * cdn_table.c: see cdn_table.h.
 */
#include "common/shm/cdn_table.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

lc_cdn_table_t *lc_shm_cdn(lc_shm_t *shm)
{
    return (lc_cdn_table_t *)((char *)shm + shm->off_cdn);
}

int lc_cdn_route_find(lc_shm_t *shm, const char *name, char origin[LC_CDN_ADDR_MAX])
{
    lc_cdn_table_t *t = lc_shm_cdn(shm);
    int rc = -ENOENT;
    lc_shm_lock(shm);
    for (uint32_t i = 0; t->enabled && i < t->nroutes; i++) {
        if (strcmp(t->routes[i].name, name) == 0) {
            memcpy(origin, t->routes[i].origin, LC_CDN_ADDR_MAX);
            rc = 0;
            break;
        }
    }
    lc_shm_unlock(shm);
    return rc;
}

int lc_cdn_route_codecs(lc_shm_t *shm, const char *name, int *vcodec, int *acodec)
{
    lc_cdn_table_t *t = lc_shm_cdn(shm);
    int rc = -ENOENT;
    lc_shm_lock(shm);
    for (uint32_t i = 0; t->enabled && i < t->nroutes; i++) {
        if (strcmp(t->routes[i].name, name) == 0) {
            *vcodec = t->routes[i].vcodec;
            *acodec = t->routes[i].acodec;
            rc = 0;
            break;
        }
    }
    lc_shm_unlock(shm);
    return rc;
}

void lc_cdn_snapshot(lc_shm_t *shm, lc_cdn_table_t *out)
{
    lc_cdn_table_t *t = lc_shm_cdn(shm);
    lc_shm_lock(shm);
    /* the atomics are copied as plain bytes: a counter may be a moment old */
    memcpy(out, t, sizeof(*out));
    lc_shm_unlock(shm);
}

const char *lc_cdn_node_state_name(int state)
{
    switch (state) {
    case LC_CDN_NODE_ACTIVE: return "ACTIVE";
    case LC_CDN_NODE_PASSIVE: return "PASSIVE";
    }
    return "?";
}
