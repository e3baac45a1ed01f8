/*
 * keyframe.h: "the writer of this ring is asked for a keyframe", the one
 * way a request travels back against the media (SPEC 6, "Keyframe requests
 * travel").
 *
 * A reader of a ring (a player's fan-out, a CDN serve, later a transcoder)
 * asks with lc_keyframe_request: the stream's request count goes up and the
 * ring's writer process is woken. The writer, on each wake, takes the
 * requests that arrived since it last looked (lc_keyframe_take) and
 * forwards them towards its own source: a WebRTC publisher gets a PLI, a
 * CDN pull sends "keyframe" to its origin, a transcoder asks the ring it
 * reads. Each writer forwards through an lc_kf_gate_t, so every hop sends
 * at most one request per LC_KF_GATE_MS per stream; a request inside that
 * window is held, not dropped, and goes out when the window ends (the
 * player that asked last still gets its keyframe).
 *
 * The gate is plain logic on a caller's clock (no I/O, no timers): the
 * caller polls lc_kf_gate_due from a timer while lc_kf_gate_wait_ms says a
 * request is held.
 */
#ifndef LC_KEYFRAME_H
#define LC_KEYFRAME_H

#include <stdint.h>

#include "common/shm/shm.h"

#define LC_KF_GATE_MS 500

/* Reader: ask the writer of stream (id, gen) for a keyframe. Nothing if
 * the entry is no longer that stream. */
void lc_keyframe_request(lc_shm_t *shm, uint32_t id, uint32_t gen);
/* Writer: 1 if requests arrived since *seen (which is brought up to date).
 * The count starts at 0 with each publish, as does a writer's *seen. */
int lc_keyframe_take(lc_shm_t *shm, uint32_t id, uint32_t *seen);

typedef struct {
    uint64_t sent_ms;   /* when the last request went out */
    int sent;           /* one went out already (sent_ms is valid) */
    int held;           /* one arrived inside the window */
} lc_kf_gate_t;

/* A request arrives at now_ms: 1 = forward it now, 0 = held until the
 * window ends. */
int lc_kf_gate_ask(lc_kf_gate_t *g, uint64_t now_ms);
/* From a timer: 1 = the held request is due, forward it now. */
int lc_kf_gate_due(lc_kf_gate_t *g, uint64_t now_ms);
/* ms until the held request is due (0: now), -1 when none is held. */
int64_t lc_kf_gate_wait_ms(const lc_kf_gate_t *g, uint64_t now_ms);

#endif
