/*
 * session_table.c: see session_table.h. Lookups scan the table; they
 * happen on a WHIP/WHEP POST or DELETE, never per packet, and a scan of
 * 16384 entries is some tens of microseconds.
 */
#include "common/shm/session_table.h"

#include <errno.h>
#include <openssl/crypto.h>
#include <string.h>

#include "common/shm/notify.h"

#define SESSIONS_MIN 1024
#define SESSIONS_MAX 65536

uint32_t lc_session_table_size(uint32_t streams_max)
{
    /* a stream has one publisher and, typically, a few WHEP players per
     * worker; 4 per stream gives 16384 (1 MiB) for the default 4096 */
    uint64_t n = (uint64_t)streams_max * 4;
    return n < SESSIONS_MIN ? SESSIONS_MIN : n > SESSIONS_MAX ? SESSIONS_MAX : (uint32_t)n;
}

static uint64_t name_hash(const char *name)
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (const unsigned char *p = (const unsigned char *)name; *p; p++)
        h = (h ^ *p) * 0x100000001b3ull;
    return h;
}

int lc_session_add(lc_shm_t *shm, int kind, const char *name, const uint8_t id[LC_SESSION_ID_BYTES], int owner_slot,
                   lc_session_ref_t *ref)
{
    uint64_t w[2];
    memcpy(w, id, sizeof(w));
    for (uint32_t i = 0; i < shm->sessions_max; i++) {
        lc_session_t *e = lc_shm_session(shm, i);
        uint32_t free_state = LC_SESSION_FREE;
        if (atomic_load_explicit(&e->state, memory_order_relaxed) != LC_SESSION_FREE ||
            !atomic_compare_exchange_strong_explicit(&e->state, &free_state, LC_SESSION_CLAIMED,
                                                     memory_order_acq_rel, memory_order_relaxed))
            continue;
        uint32_t gen = atomic_fetch_add_explicit(&e->gen, 1, memory_order_relaxed) + 1;
        if (gen == 0) /* 0 is end_gen's "nothing asked" */
            gen = atomic_fetch_add_explicit(&e->gen, 1, memory_order_relaxed) + 1;
        /* pairs with the acquire fence of a reader that read fields from this claim (session_table.h) */
        atomic_thread_fence(memory_order_release);
        atomic_store_explicit(&e->owner_slot, owner_slot, memory_order_relaxed);
        atomic_store_explicit(&e->kind, (uint32_t)kind, memory_order_relaxed);
        atomic_store_explicit(&e->id[0], w[0], memory_order_relaxed);
        atomic_store_explicit(&e->id[1], w[1], memory_order_relaxed);
        atomic_store_explicit(&e->name_hash, name_hash(name), memory_order_relaxed);
        atomic_store_explicit(&e->end_gen, 0, memory_order_relaxed);
        /* pairs with the acquire load of state in find and alive */
        atomic_store_explicit(&e->state, LC_SESSION_LIVE, memory_order_release);
        ref->idx = i;
        ref->gen = gen;
        ref->owner_slot = owner_slot;
        return 0;
    }
    return -ENOSPC;
}

int lc_session_alive(lc_shm_t *shm, const lc_session_ref_t *ref)
{
    if (ref->idx >= shm->sessions_max)
        return 0;
    lc_session_t *e = lc_shm_session(shm, ref->idx);
    return atomic_load_explicit(&e->state, memory_order_acquire) == LC_SESSION_LIVE &&
           atomic_load_explicit(&e->gen, memory_order_acquire) == ref->gen;
}

void lc_session_remove(lc_shm_t *shm, const lc_session_ref_t *ref)
{
    /* only the owner frees a live entry (the master only once it is dead) */
    if (lc_session_alive(shm, ref))
        atomic_store_explicit(&lc_shm_session(shm, ref->idx)->state, LC_SESSION_FREE, memory_order_release);
}

int lc_session_find(lc_shm_t *shm, int kind, const char *name, const uint8_t id[LC_SESSION_ID_BYTES],
                    lc_session_ref_t *ref)
{
    uint64_t h = name_hash(name);
    for (uint32_t i = 0; i < shm->sessions_max; i++) {
        lc_session_t *e = lc_shm_session(shm, i);
        uint32_t g1 = atomic_load_explicit(&e->gen, memory_order_acquire);
        if (atomic_load_explicit(&e->state, memory_order_acquire) != LC_SESSION_LIVE)
            continue;
        uint64_t w[2] = { atomic_load_explicit(&e->id[0], memory_order_relaxed),
                          atomic_load_explicit(&e->id[1], memory_order_relaxed) };
        uint32_t k = atomic_load_explicit(&e->kind, memory_order_relaxed);
        uint64_t eh = atomic_load_explicit(&e->name_hash, memory_order_relaxed);
        int owner = atomic_load_explicit(&e->owner_slot, memory_order_relaxed);
        /* the seqlock's check: a claim racing with the copy moved gen */
        atomic_thread_fence(memory_order_acquire);
        if (atomic_load_explicit(&e->gen, memory_order_relaxed) != g1 ||
            atomic_load_explicit(&e->state, memory_order_relaxed) != LC_SESSION_LIVE)
            continue;
        /* the id is the secret: compared in constant time, and the whole of it */
        int same = CRYPTO_memcmp(w, id, LC_SESSION_ID_BYTES) == 0;
        if (same && k == (uint32_t)kind && eh == h) {
            ref->idx = i;
            ref->gen = g1;
            ref->owner_slot = owner;
            return 0;
        }
    }
    return -ENOENT;
}

int lc_session_request_end(lc_shm_t *shm, const lc_session_ref_t *ref)
{
    if (!lc_session_alive(shm, ref) || ref->owner_slot < 0 || ref->owner_slot >= LC_PROC_SLOTS)
        return -ENOENT;
    lc_session_t *e = lc_shm_session(shm, ref->idx);
    /* both pair with the owner's acquire loads after its wake-up (lc_notify_ack, then take_requests) */
    atomic_store_explicit(&e->end_gen, ref->gen, memory_order_release);
    atomic_store_explicit(&lc_shm_proc(shm, ref->owner_slot)->session_requests, 1, memory_order_release);
    lc_notify_wake(shm, ref->owner_slot);
    return 0;
}

int lc_session_take_requests(lc_shm_t *shm, int slot)
{
    return atomic_exchange_explicit(&lc_shm_proc(shm, slot)->session_requests, 0, memory_order_acq_rel) != 0;
}

int lc_session_end_requested(lc_shm_t *shm, const lc_session_ref_t *ref)
{
    return lc_session_alive(shm, ref) &&
           atomic_load_explicit(&lc_shm_session(shm, ref->idx)->end_gen, memory_order_acquire) == ref->gen;
}

int lc_session_release_owner(lc_shm_t *shm, int slot)
{
    int n = 0;
    for (uint32_t i = 0; i < shm->sessions_max; i++) {
        lc_session_t *e = lc_shm_session(shm, i);
        uint32_t live = LC_SESSION_LIVE;
        /* LIVE only: a CLAIMED entry may be a live worker's claim whose
         * owner_slot is still the previous occupant's. (An owner killed in the
         * few instructions between its claim and LIVE leaks that one entry.) */
        if (atomic_load_explicit(&e->state, memory_order_acquire) == LC_SESSION_LIVE &&
            atomic_load_explicit(&e->owner_slot, memory_order_relaxed) == slot &&
            atomic_compare_exchange_strong_explicit(&e->state, &live, LC_SESSION_FREE, memory_order_acq_rel,
                                                    memory_order_relaxed))
            n++;
    }
    atomic_store_explicit(&lc_shm_proc(shm, slot)->session_requests, 0, memory_order_relaxed);
    return n;
}

uint32_t lc_session_count(lc_shm_t *shm)
{
    uint32_t n = 0;
    for (uint32_t i = 0; i < shm->sessions_max; i++)
        n += atomic_load_explicit(&lc_shm_session(shm, i)->state, memory_order_relaxed) == LC_SESSION_LIVE;
    return n;
}
