/*
 * session_table.h: which process owns each WHIP/WHEP session, in the shared
 * arena, so that a DELETE landing on any worker reaches the session's owner
 * (SPEC section 4).
 *
 * A session is known by its id: 128 bits from a CSPRNG, the hex in its
 * Location. Ids are compared in constant time (CRYPTO_memcmp), and an entry
 * also holds its kind and a hash of its stream name, so a Location of
 * another stream or kind names nothing.
 *
 * Entries are taken and freed without the arena lock: state goes FREE ->
 * CLAIMED (compare-and-swap, one claimer) -> LIVE (release, after every
 * field) -> FREE. gen is bumped on each claim, so (idx, gen) names one
 * session for good: a reader copies the fields between two loads of gen and
 * trusts them only if gen and state did not move (a seqlock), and a request
 * to end a session carries its gen, so it can never hit the entry's next
 * occupant.
 *
 * Ending another process's session: the asker stores the gen in end_gen,
 * raises the owner's session_requests and wakes it (notify.h); the owner, on
 * its wake-up, takes the requests and ends each of its sessions whose
 * end_gen equals its gen, which frees the entry: the asker sees the entry
 * gone. The master frees every entry of a process slot that died.
 */
#ifndef LC_SESSION_TABLE_H
#define LC_SESSION_TABLE_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "common/shm/shm.h"

#define LC_SESSION_ID_BYTES 16
#define LC_SESSION_ID_HEX (2 * LC_SESSION_ID_BYTES)

enum lc_session_kind { LC_SESSION_WHIP = 1, LC_SESSION_WHEP = 2 };
enum lc_session_state { LC_SESSION_FREE = 0, LC_SESSION_CLAIMED, LC_SESSION_LIVE };

/* One cache line. Every field is atomic: readers race with a new claim by
 * design (see the seqlock above), so none may be a plain load. */
typedef struct lc_session {
    _Atomic uint32_t state;        /* lc_session_state */
    _Atomic uint32_t gen;          /* bumped by each claim */
    _Atomic int32_t owner_slot;    /* proc slot of the worker holding it */
    _Atomic uint32_t kind;         /* lc_session_kind */
    _Atomic uint64_t id[2];        /* the id's 16 bytes, as two words in memory order */
    _Atomic uint64_t name_hash;    /* FNV-1a of the stream name */
    _Atomic uint32_t end_gen;      /* set by another process: end the session of this gen */
    uint32_t pad[7];
} lc_session_t;

/* (idx, gen) of one session, as found. */
typedef struct {
    uint32_t idx, gen;
    int owner_slot;
} lc_session_ref_t;

/* Entries for an arena of streams_max streams (shm.c sizes the arena with it). */
uint32_t lc_session_table_size(uint32_t streams_max);

/* Record a session of this owner. 0 with *ref, or -ENOSPC (table full). */
int lc_session_add(lc_shm_t *shm, int kind, const char *name, const uint8_t id[LC_SESSION_ID_BYTES], int owner_slot,
                   lc_session_ref_t *ref);
/* The owner: the session ended. A stale ref (entry reused) is ignored. */
void lc_session_remove(lc_shm_t *shm, const lc_session_ref_t *ref);
/* The live session of this kind, stream name and id: 0 with *ref, or -ENOENT. */
int lc_session_find(lc_shm_t *shm, int kind, const char *name, const uint8_t id[LC_SESSION_ID_BYTES],
                    lc_session_ref_t *ref);
/* Is that session still live? */
int lc_session_alive(lc_shm_t *shm, const lc_session_ref_t *ref);
/* Ask the session's owner to end it (it is woken). -ENOENT if it is gone already. */
int lc_session_request_end(lc_shm_t *shm, const lc_session_ref_t *ref);
/* The owner, on a wake-up: 1 if some process asked it to end sessions since the last call. */
int lc_session_take_requests(lc_shm_t *shm, int slot);
/* The owner: was this session of ours asked to end? */
int lc_session_end_requested(lc_shm_t *shm, const lc_session_ref_t *ref);
/* Master: free every entry of a process slot that died. Returns how many. */
int lc_session_release_owner(lc_shm_t *shm, int slot);
/* Live entries (for tests and counters). */
uint32_t lc_session_count(lc_shm_t *shm);

#endif
