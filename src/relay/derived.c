/*
 * derived.c: see derived.h.
 */
#include "relay/derived.h"

#include <errno.h>

#include "common/core/log.h"
#include "common/shm/stream_table.h"

/* The worker that makes a derived stream of `source`: the source's own
 * writer when it is a worker of the running generation (its frames are
 * already there), else the first such worker. -1 when there is none. */
static int derived_maker(lc_shm_t *shm, const char *source)
{
    uint32_t id, gen, now = atomic_load(&shm->generation);
    int first = -1;
    int owner = lc_stream_find(shm, source, &id, &gen) == 0 ? lc_shm_stream(shm, id)->owner_slot : -1;
    for (int i = 0; i < LC_PROC_SLOTS; i++) {
        lc_proc_t *p = lc_shm_proc(shm, i);
        if (p->role != LC_ROLE_WORKER || p->generation != now || atomic_load(&p->state) != LC_PROC_RUNNING)
            continue;
        if (i == owner)
            return i;
        if (first < 0)
            first = i;
    }
    return first;
}

int lc_relay_derived(lc_cycle_t *cycle, const char *name, uint32_t *id, uint32_t *gen, const char **why)
{
    lc_shm_t *shm = cycle->shm;
    char source[LC_STREAM_NAME_MAX];
    int v, a;
    uint32_t sid, sgen;
    *why = "Stream not found";
    if (lc_stream_derived_parse(name, source, sizeof(source), &v, &a) < 0 ||
        lc_stream_find(shm, source, &sid, &sgen) < 0)
        return -1;
    for (int tries = 0; tries < 2; tries++) {
        int maker = derived_maker(shm, source);
        if (maker < 0) {
            *why = "no worker to transcode";
            return -1;
        }
        int rc = lc_stream_request_derived(shm, name, maker, (uint32_t)cycle->conf->transcoding_max_jobs, id, gen);
        if (rc == 0) {
            lc_log_info("relay: \"%s\" is made by worker slot %d", name, maker);
            return 0;
        }
        if (rc == -EDQUOT) {
            *why = "Transcoding capacity reached";
            return -1;
        }
        if (rc != -EEXIST || lc_stream_find(shm, name, id, gen) == 0)
            return rc == -EEXIST ? 0 : -1;
    }
    return -1;
}
