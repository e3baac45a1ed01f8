/*
 * rtc.h: WebRTC publish and play in a worker (SPEC section 4), what the
 * signaling front-ends (WebSocket JSON, WHIP, WHEP) call. One
 * lc_rtc_session_t is one peer connection that either publishes one stream
 * or plays one: ICE-lite, DTLS-SRTP, then RTP both ways on the worker's
 * UDP port (rtc_udp.h).
 *
 * Ownership: the front-end holds the session from lc_rtc_start until
 * lc_rtc_stop, or until its on_end callback, or an on_answer without an
 * answer (then the session is gone when the callback returns; do not stop
 * it again).
 */
#ifndef LC_RTC_H
#define LC_RTC_H

#include <stddef.h>

#include "worker/worker.h"

typedef struct lc_rtc_session lc_rtc_session_t;

typedef struct {
    /* The session ended on its own: the stream ended (players), ICE or
     * DTLS failed or timed out, or the stream was terminated. why is for
     * people ("Stopped by publisher stop"). */
    void (*on_end)(void *ctx, const char *why);
    /* A start that returned 1 is answered: answer is the SDP (the callee
     * copies it), or NULL with why (refused or ended: the session is gone). */
    void (*on_answer)(void *ctx, const char *answer, const char *why);
} lc_rtc_owner_ops_t;

enum lc_rtc_role { LC_RTC_PUBLISH = 1, LC_RTC_PLAY = 2 };

/*
 * Take an SDP offer for publishing or playing `name`. On success returns 0
 * with *answer (malloc'd SDP, the caller frees) and *out. A player of a
 * stream whose codecs are not known yet (no frame, no declaration) waits
 * for them, at most 2 s, without blocking: 1 with *out and no answer, which
 * comes through ops->on_answer. On failure -1 with a reason for the client
 * in err: "Bad SDP: ...", "Codec not supported: ...", "Stream name in use",
 * "Stream not found".
 */
int lc_rtc_start(lc_worker_t *w, int role, const char *name, const char *offer, size_t len, const char *who,
                 const lc_rtc_owner_ops_t *ops, void *ctx, char **answer, lc_rtc_session_t **out, char *err,
                 size_t errlen);
void lc_rtc_stop(lc_rtc_session_t *s);
/* Once per worker: DTLS identity, SRTP, the UDP socket. 0 or -1 (logged). */
int lc_rtc_init(lc_worker_t *w);
void lc_rtc_shutdown(void);
/* "video only: audio is AAC, which WebRTC players cannot take until live transcoding" and the like */
const char *lc_rtc_info(const lc_rtc_session_t *s);

#endif
