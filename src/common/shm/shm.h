/*
 * shm.h: the shared arena every process maps (created by the master before
 * the first fork, inherited, never remapped, so a reload keeps it).
 *
 * Layout, all by offset from the arena start:
 *   lc_shm_t header | lc_proc_t procs[LC_PROC_SLOTS] | lc_stream_t streams[streams_max] |
 *   lc_session_t sessions[sessions_max] (session_table.h) | lc_cdn_table_t (cdn_table.h) |
 *   lc_push_table_t (push_table.h) | rings
 * The header's robust, process-shared mutex guards allocation of stream
 * entries and rings (publish/unpublish, never per frame); if its holder dies
 * the next locker repairs it. Everything per frame is lock-free (ring.h).
 */
#ifndef LC_SHM_H
#define LC_SHM_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/shm/ring.h"

#define LC_SHM_MAGIC 0x6c63646eu /* "lcdn" */
#define LC_PROC_SLOTS 136        /* 2 generations x 64 workers + relay/control spares */
#define LC_PROC_MASK_WORDS ((LC_PROC_SLOTS + 63) / 64)
#define LC_STREAM_NAME_MAX 256

enum lc_proc_role { LC_ROLE_NONE = 0, LC_ROLE_MASTER, LC_ROLE_WORKER, LC_ROLE_RELAY, LC_ROLE_CONTROL };
enum lc_proc_state { LC_PROC_FREE = 0, LC_PROC_STARTING, LC_PROC_RUNNING, LC_PROC_DRAINING };

/* One child process, written by the master (identity) and by the child (counters). */
typedef struct {
    _Atomic int32_t state;         /* lc_proc_state; master writes */
    int32_t pid;
    int32_t role;
    int32_t index;                 /* worker number within its generation */
    uint32_t generation;
    uint16_t udp_lo, udp_hi;       /* this worker's slice of webrtc.udp_ports */
    int64_t started_at;            /* unix seconds */
    _Atomic uint64_t connections;  /* open sessions now; the child writes */
    _Atomic uint64_t accepted;     /* sessions accepted in all */
    _Atomic uint32_t streams;      /* streams this process publishes into rings */
    _Atomic uint32_t wake_pending; /* coalesces eventfd wake-ups, see notify.c */
    _Atomic uint32_t players;      /* playing sessions in this process */
    _Atomic uint32_t publishers;   /* publishing sessions in this process */
    _Atomic uint64_t bytes_in;     /* media payload bytes received from publishers */
    _Atomic uint64_t bytes_out;    /* media bytes queued to players */
    _Atomic uint32_t session_requests; /* another process asked us to end a session (session_table.h) */
    _Atomic uint32_t derive_requests;  /* the relay made a derived stream for us to run (stream_table.h) */
    _Alignas(64) char end_[];
} lc_proc_t;

enum lc_stream_state { LC_STREAM_FREE = 0, LC_STREAM_LIVE };

typedef struct {
    _Atomic uint32_t state;        /* lc_stream_state */
    uint32_t gen;                  /* bumped on every allocation of this entry */
    int32_t owner_slot;            /* proc slot of the writer */
    int32_t owner_pid;
    int32_t ring;                  /* ring index */
    int32_t pad;
    int64_t created_at;
    _Atomic uint64_t readers[LC_PROC_MASK_WORDS]; /* proc slots reading this stream */
    char name[LC_STREAM_NAME_MAX];
    /* Descriptive, written by the owner after publish, read by control. */
    char publisher[64];            /* "rtmp 1.2.3.4:5678" */
    char client[48];               /* publisher's address, set at publish: limits.max_streams_per_ip
                                    * counts the entries of one; "" = not counted (CDN pulls, trusted) */
    _Atomic uint32_t vcodec, acodec;  /* lc_codec_t: declared by the publish, else of the frames seen */
    /* 1 once the publisher said what it sends (a WebRTC offer is negotiated):
     * vcodec/acodec then hold even before the first frame, 0 meaning none */
    _Atomic uint32_t codecs_declared;
    char h264_profile[8];          /* the publisher's profile-level-id ("42e01f"), "" unknown; before declared */
    _Atomic uint64_t bytes_in;     /* payload bytes written to the ring */
    _Atomic uint64_t frames_in;
    _Atomic uint32_t bitrate_kbps; /* over the last second, updated by the owner */
    _Atomic uint32_t terminate;    /* set by control: the owner ends the stream */
    _Atomic uint32_t pulled;       /* 1: the relay pulls it from another node (a CDN stream) */
    _Atomic uint32_t keyframe_requests; /* players bump it, the owner asks its publisher for one */
    char end_reason[64];           /* set by the owner before it ends the stream; "" = publisher stop */
    /* 1: a derived stream (SPEC 2), "SOURCE~codec", made from another
     * stream by a transcoder of its owner worker; never announced to the
     * CDN, counted against transcoding.max_jobs */
    _Atomic uint32_t derived;
    _Atomic uint32_t adopt;        /* derived, 1: made by the relay, its owner worker has not started it yet */
    _Atomic uint64_t cpu_us;       /* derived: codec CPU time spent on it so far */
    _Atomic uint32_t players[LC_PROC_SLOTS]; /* players per process slot */
} lc_stream_t;

typedef struct {
    uint32_t magic;
    uint32_t streams_max;
    uint64_t size;
    uint64_t ring_size;
    uint32_t rings;
    uint32_t pad;
    uint64_t off_procs, off_streams, off_sessions, off_cdn, off_push, off_rings;
    uint32_t sessions_max;
    uint32_t pad2;
    int64_t started_at;
    pthread_mutex_t lock;
    _Atomic uint64_t ring_bytes;   /* payload bytes written into all rings */
    _Atomic uint64_t ring_frames;
    _Atomic uint32_t generation;   /* current worker generation */
    _Atomic uint32_t reload_seq;   /* bumped by the master after each reload attempt */
    _Atomic int32_t reload_ok;
    char reload_msg[1024];
    _Atomic uint32_t ring_in_use[]; /* per ring: 1 while a stream owns it */
} lc_shm_t;

/* Create the arena (MAP_SHARED | MAP_ANONYMOUS). NULL + errno on failure. */
lc_shm_t *lc_shm_create(uint64_t size, uint64_t ring_size, uint32_t streams_max);
void lc_shm_destroy(lc_shm_t *shm);

lc_proc_t *lc_shm_proc(lc_shm_t *shm, int slot);
lc_stream_t *lc_shm_stream(lc_shm_t *shm, uint32_t id);
struct lc_session;
struct lc_session *lc_shm_session(lc_shm_t *shm, uint32_t idx);
lc_ring_t *lc_shm_ring(lc_shm_t *shm, uint32_t ring);

/* The relay of the running generation: its proc slot, or -1. */
int lc_shm_relay_slot(lc_shm_t *shm);
/* Wake that relay (a pull, a push asked of it). */
void lc_shm_wake_relay(lc_shm_t *shm);

/* The allocation lock; repairs itself if a holder died. */
void lc_shm_lock(lc_shm_t *shm);
void lc_shm_unlock(lc_shm_t *shm);

#endif
