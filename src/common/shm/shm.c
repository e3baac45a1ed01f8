/*
 * shm.c: creates and lays out the shared arena (see shm.h). Offsets only:
 * the arena is mapped once before fork, so addresses happen to agree, but
 * nothing stored in it is a pointer.
 */
#include "common/shm/shm.h"

#include "common/shm/cdn_table.h"
#include "common/shm/notify.h"
#include "common/shm/push_table.h"
#include "common/shm/session_table.h"

#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#define ALIGN64(n) (((n) + 63) & ~(uint64_t)63)

lc_shm_t *lc_shm_create(uint64_t size, uint64_t ring_size, uint32_t streams_max)
{
    pthread_mutexattr_t ma;
    uint64_t hdr, procs, streams, sessions, cdn = ALIGN64(sizeof(lc_cdn_table_t)) + ALIGN64(sizeof(lc_push_table_t));
    uint32_t sessions_max = lc_session_table_size(streams_max);

    ring_size &= ~(uint64_t)63;
    /* a ring is its header (config slots included, ~64 KiB) plus data: below
     * that lc_ring_init's cap would wrap round to ~2^64 (and 0 divides below) */
    if (ring_size < sizeof(lc_ring_t) + 4096) {
        errno = EINVAL;
        return NULL;
    }
    procs = ALIGN64(sizeof(lc_proc_t)) * LC_PROC_SLOTS;
    streams = sizeof(lc_stream_t) * (uint64_t)streams_max;
    sessions = ALIGN64(sizeof(lc_session_t) * (uint64_t)sessions_max);
    /* the ring count depends on the header size, which depends on the ring count:
     * size the header for the most rings that could fit at all */
    uint64_t max_rings = size / ring_size;
    hdr = ALIGN64(sizeof(lc_shm_t) + max_rings * sizeof(_Atomic uint32_t));
    if (hdr + procs + ALIGN64(streams) + sessions + cdn + ring_size > size) {
        errno = ENOSPC;
        return NULL;
    }
    uint64_t rings = (size - hdr - procs - ALIGN64(streams) - sessions - cdn) / ring_size;

    void *mem = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (mem == MAP_FAILED)
        return NULL;
    lc_shm_t *shm = mem;
    shm->magic = LC_SHM_MAGIC;
    shm->size = size;
    shm->ring_size = ring_size;
    shm->rings = (uint32_t)rings;
    shm->streams_max = streams_max;
    shm->sessions_max = sessions_max;
    shm->off_procs = hdr;
    shm->off_streams = hdr + procs;
    shm->off_sessions = ALIGN64(hdr + procs + streams);
    shm->off_cdn = shm->off_sessions + sessions;
    shm->off_push = shm->off_cdn + ALIGN64(sizeof(lc_cdn_table_t));
    shm->off_rings = shm->off_cdn + cdn;
    shm->started_at = time(NULL);

    pthread_mutexattr_init(&ma);
    pthread_mutexattr_setpshared(&ma, PTHREAD_PROCESS_SHARED);
    pthread_mutexattr_setrobust(&ma, PTHREAD_MUTEX_ROBUST);
    int rc = pthread_mutex_init(&shm->lock, &ma);
    pthread_mutexattr_destroy(&ma);
    if (rc != 0) {
        munmap(mem, size);
        errno = rc;
        return NULL;
    }
    for (uint32_t i = 0; i < shm->rings; i++)
        lc_ring_init(lc_shm_ring(shm, i), ring_size);
    return shm;
}

void lc_shm_destroy(lc_shm_t *shm)
{
    if (shm)
        munmap(shm, shm->size);
}

lc_proc_t *lc_shm_proc(lc_shm_t *shm, int slot)
{
    return (lc_proc_t *)((char *)shm + shm->off_procs + ALIGN64(sizeof(lc_proc_t)) * (uint64_t)slot);
}

lc_stream_t *lc_shm_stream(lc_shm_t *shm, uint32_t id)
{
    return (lc_stream_t *)((char *)shm + shm->off_streams) + id;
}

lc_session_t *lc_shm_session(lc_shm_t *shm, uint32_t idx)
{
    return (lc_session_t *)((char *)shm + shm->off_sessions) + idx;
}

lc_ring_t *lc_shm_ring(lc_shm_t *shm, uint32_t ring)
{
    return (lc_ring_t *)((char *)shm + shm->off_rings + shm->ring_size * ring);
}

/* Under the lock, after its holder died: an entry only counts once its state
 * is LIVE (the last store of a publish, the first of an end), but the ring
 * flag is set before that and cleared after it, so a death in between leaks
 * the ring. The LIVE entries are the truth; rebuild the flags from them. */
static void repair_locked(lc_shm_t *shm)
{
    for (uint32_t i = 0; i < shm->rings; i++)
        atomic_store_explicit(&shm->ring_in_use[i], 0, memory_order_relaxed);
    for (uint32_t i = 0; i < shm->streams_max; i++) {
        lc_stream_t *s = lc_shm_stream(shm, i);
        if (atomic_load_explicit(&s->state, memory_order_relaxed) == LC_STREAM_LIVE)
            atomic_store_explicit(&shm->ring_in_use[s->ring], 1, memory_order_relaxed);
    }
}

int lc_shm_relay_slot(lc_shm_t *shm)
{
    uint32_t gen = atomic_load(&shm->generation);
    for (int i = 0; i < LC_PROC_SLOTS; i++) {
        lc_proc_t *p = lc_shm_proc(shm, i);
        if (p->role == LC_ROLE_RELAY && p->generation == gen && atomic_load(&p->state) == LC_PROC_RUNNING)
            return i;
    }
    return -1;
}

void lc_shm_wake_relay(lc_shm_t *shm)
{
    int slot = lc_shm_relay_slot(shm);
    if (slot >= 0)
        lc_notify_wake(shm, slot);
}

void lc_shm_lock(lc_shm_t *shm)
{
    if (pthread_mutex_lock(&shm->lock) == EOWNERDEAD) {
        /* The holder died mid-publish or mid-end: entries are consistent
         * (state is stored last), ring flags may not be. */
        repair_locked(shm);
        pthread_mutex_consistent(&shm->lock);
    }
}

void lc_shm_unlock(lc_shm_t *shm)
{
    pthread_mutex_unlock(&shm->lock);
}
