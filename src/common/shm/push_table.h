/*
 * push_table.h: pushes to external RTMP(S) servers (SPEC 7, 8), in the
 * shared arena. The control process asks (push/startup, push/terminate);
 * the relay process runs them (src/relay/push.c) and writes their status;
 * control reads it back for push/find_all and `livecdnctl show pushes`.
 * One table per node; every change of a slot's identity is under the arena
 * lock, status fields are written by the relay alone.
 *
 * A slot's life: FREE -> REQUESTED (control) -> STARTED / RECONNECTING
 * (relay, as it connects and loses the server) -> STOPPED (terminated, or
 * its stream ended) or FAILED (a refusal, or reconnect_timeout spent). A
 * STOPPED or FAILED slot stays listed until its URL is pushed again.
 */
#ifndef LC_PUSH_TABLE_H
#define LC_PUSH_TABLE_H

#include <stdatomic.h>
#include <stdint.h>

#include "common/shm/shm.h"

#define LC_PUSH_MAX 64
#define LC_PUSH_URL_MAX 512
#define LC_PUSH_CODE_MAX 32
#define LC_PUSH_INFO_MAX 256

enum lc_push_state {
    LC_PUSH_FREE = 0, LC_PUSH_REQUESTED, LC_PUSH_STARTED, LC_PUSH_RECONNECTING, LC_PUSH_STOPPED, LC_PUSH_FAILED,
};

typedef struct {
    _Atomic uint32_t state;        /* lc_push_state */
    uint32_t gen;                  /* bumped by each request of the slot */
    char url[LC_PUSH_URL_MAX];
    char stream[LC_STREAM_NAME_MAX];
    int32_t transcoding;           /* 1: a composite (live transcoding); 0: the stream as it is */
    _Atomic uint32_t stop;         /* control asks the relay to stop it */
    char code[LC_PUSH_CODE_MAX];   /* SPEC 4's codes: PUBLISH_REFUSED, CONNECTION_LOST, ... ; "" */
    char info[LC_PUSH_INFO_MAX];   /* in words, the server's own when it refused */
    int64_t since;                 /* unix seconds of the last change of state */
    _Atomic uint64_t bytes;        /* media bytes sent */
    _Atomic uint32_t reconnects;
} lc_push_t;

typedef struct {
    _Atomic uint32_t requests;     /* bumped by control after each request; the relay compares */
    lc_push_t push[LC_PUSH_MAX];
} lc_push_table_t;

lc_push_table_t *lc_shm_push(lc_shm_t *shm);

/* Control: ask for a push of `stream` to `url`. 0 with its slot, or
 * -EEXIST (that URL is being pushed), -ENOSPC (LC_PUSH_MAX pushes). */
int lc_push_request(lc_shm_t *shm, const char *url, const char *stream, int transcoding, uint32_t *slot);
/* Control: ask the relay to stop the push to `url`. 0, or -ENOENT (none running). */
int lc_push_request_stop(lc_shm_t *shm, const char *url);
/* Relay: a slot's new state and why (code and info may be NULL). */
void lc_push_set_state(lc_shm_t *shm, uint32_t slot, int state, const char *code, const char *info);
/* Control: a consistent copy of the table. */
void lc_push_snapshot(lc_shm_t *shm, lc_push_table_t *out);

const char *lc_push_state_name(int state); /* "STARTED", ... */

/* Is url an rtmp:// or rtmps:// URL this node can push to (a host, an
 * application and a stream key)? 0, or -1 with why. */
int lc_push_url_check(const char *url, const char **why);

#endif
