/*
 * stream_table.h: stream names -> rings, in the shared arena.
 *
 * A name is LIVE in at most one entry. Publishing takes an entry and a ring
 * under the arena lock; the publisher's process is the ring's only writer.
 * Ending a stream closes its ring (readers drain it and see ENDED) and frees
 * the entry; the master does the same for every stream of a process that
 * died. Readers hold (id, gen) pairs: gen tells them the entry was reused.
 */
#ifndef LC_STREAM_TABLE_H
#define LC_STREAM_TABLE_H

#include <sys/types.h>

#include "common/shm/shm.h"

/* 0 with *id set, or -EEXIST (name is live), -ENOSPC (table full),
 * -ENOBUFS (no free ring), -EINVAL (empty or too long name). */
int lc_stream_publish(lc_shm_t *shm, const char *name, int owner_slot, pid_t owner_pid, uint32_t *id);
/* The same for a client's publish: also -EDQUOT when `client` (an address,
 * "" = not counted) already publishes max_per_client streams. Counted under
 * the arena lock, so the bound holds across every worker. -EUSERS when the
 * counted addresses together hold lc_stream_untrusted_max rings. */
int lc_stream_publish_from(lc_shm_t *shm, const char *name, int owner_slot, pid_t owner_pid, const char *client,
                           uint32_t max_per_client, uint32_t *id);
/* A derived stream (SPEC 2: one source in other codecs, made once per
 * node): "SOURCE~opus", "SOURCE~aac", "SOURCE~vp8+opus". Clients cannot
 * publish a name with the separator (lc_stream_publish_from: -EINVAL). */
#define LC_STREAM_DERIVED_SEP '~'
/* The end reason of a derived stream whose maker's worker exited: its
 * players move to a new maker instead of ending (stream_core.c). */
#define LC_STREAM_END_MOVED "Transcoder moved"

/* The claim of a derived stream: one worker wins (-EEXIST for the others);
 * -EDQUOT when max_jobs derived streams are live on the node. */
int lc_stream_publish_derived(lc_shm_t *shm, const char *name, int owner_slot, pid_t owner_pid, uint32_t max_jobs,
                              uint32_t *id);
/* The source and codecs (0: passed through) of a derived name; -1 when
 * dname is not one lc_stream_derived_name makes. */
int lc_stream_derived_parse(const char *dname, char *source, size_t size, int *vcodec, int *acodec);
/* The relay needs a derived stream (a CDN pull of "SOURCE~codec"): the
 * entry is made now, owned by the worker in owner_slot, which is woken to
 * start its transcoder (adopt = 1, its derive_requests bumped). 0 with
 * id/gen, or lc_stream_publish_derived's errors. */
int lc_stream_request_derived(lc_shm_t *shm, const char *dname, int owner_slot, uint32_t max_jobs, uint32_t *id,
                              uint32_t *gen);
/* Live derived streams on this node. */
uint32_t lc_stream_count_derived(lc_shm_t *shm);
/* The name of source in these codecs (0 = as the source has it). 0, or -1 when too long. */
int lc_stream_derived_name(const char *source, int vcodec, int acodec, char *buf, size_t size);
/* Rings counted addresses may hold together: all but a reserve of rings/8. */
uint32_t lc_stream_untrusted_max(const lc_shm_t *shm);
/* Live streams published from `client`. */
uint32_t lc_stream_count_client(lc_shm_t *shm, const char *client);
/* Owner ends its stream: close ring, wake readers, free entry. */
void lc_stream_unpublish(lc_shm_t *shm, uint32_t id);
/* 0 with id and gen of the LIVE entry of that name, or -ENOENT. */
int lc_stream_find(lc_shm_t *shm, const char *name, uint32_t *id, uint32_t *gen);
/* Is (id, gen) still the same live stream? */
int lc_stream_alive(lc_shm_t *shm, uint32_t id, uint32_t gen);
/* Master: end every stream owned by a dead process slot and drop the slot
 * from every stream's readers. Returns how many streams ended. */
int lc_stream_release_owner(lc_shm_t *shm, int slot);
/* Reader processes announce interest so the writer wakes them. */
void lc_stream_subscribe(lc_shm_t *shm, uint32_t id, int slot);
void lc_stream_unsubscribe(lc_shm_t *shm, uint32_t id, uint32_t gen, int slot);
/* Control: ask the owner of a live stream to end it (it is woken). -ENOENT if none. */
int lc_stream_request_terminate(lc_shm_t *shm, const char *name);
/* The owner writes one frame: config and metadata also go to the ring's
 * side slots (the GOP cache's start), counters move, readers are woken.
 * 0, or -1 with *err (frame too large). */
int lc_stream_write(lc_shm_t *shm, uint32_t id, const lc_frame_t *f, const void *payload, const char **err);
/* Side slots in the order a new reader needs them: metadata, video config, audio config. */
extern const unsigned lc_stream_config_order[3];

/* The publisher says what it sends before its first frame (a WebRTC offer
 * negotiated): players arriving before that frame are answered with it.
 * vcodec/acodec are lc_codec_t, 0 for none; h264_profile NULL or "" unknown. */
void lc_stream_declare_codecs(lc_shm_t *shm, uint32_t id, int vcodec, int acodec, const char *h264_profile);

typedef struct {
    int known;             /* declared by the publisher, or its first video frame seen */
    int vcodec, acodec;    /* lc_codec_t, 0 none (or not seen yet when !known) */
    char h264_profile[8];  /* "" unknown */
} lc_stream_codecs_t;
/* The codecs of the live stream `name`: 0 with *out, or -ENOENT. */
int lc_stream_codecs(lc_shm_t *shm, const char *name, lc_stream_codecs_t *out);

/* Number of live streams. */
uint32_t lc_stream_count(lc_shm_t *shm);

#endif
