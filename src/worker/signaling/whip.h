/*
 * whip.h: WHIP (RFC 9725) and WHEP ingest/egress on the signaling port:
 *   POST /whip/NAME   SDP offer -> 201 Created, Location, SDP answer (publish)
 *   POST /whep/NAME   SDP offer -> 201 Created, Location, SDP answer (play)
 *   DELETE LOCATION   ends that session, whichever worker holds it
 *   OPTIONS ...       CORS preflight
 * The session outlives the HTTP exchange: it is a WebRTC session of this
 * worker (webrtc/rtc.h), found again, from any worker, by the id in its
 * Location (common/shm/session_table.h).
 */
#ifndef LC_WHIP_H
#define LC_WHIP_H

#include <event2/buffer.h>
#include <stddef.h>

#include "worker/worker.h"

#define LC_WHIP_MAX_BODY (64 * 1024)

/* A request whose answer waits (a DELETE forwarded to another worker, a
 * WHEP player waiting for the stream's codecs); at most a few seconds. */
typedef struct lc_whip_pending lc_whip_pending_t;

/* Is this request target ours? */
int lc_whip_target(const char *target, size_t len);
/* Answer one request (status line, headers, body) into out, and return
 * NULL; or return a pending request: the answer is written into out later
 * and then done(ctx) is called. The caller keeps out alive until then, or
 * calls lc_whip_cancel if its connection closes first.
 * auth: the Authorization header's value, NULL if absent (signaling.publish_token). */
lc_whip_pending_t *lc_whip_request(lc_worker_t *w, const char *method, size_t mlen, const char *target, size_t tlen,
                                   const char *ctype, size_t ctlen, const char *auth, size_t alen, const char *body,
                                   size_t blen, const char *peer, struct evbuffer *out, void (*done)(void *ctx),
                                   void *ctx);
void lc_whip_cancel(lc_whip_pending_t *p);
/* The worker's wake-up: another worker may have asked us to end sessions. */
void lc_whip_on_wake(lc_worker_t *w);
void lc_whip_close_all(void);

#endif
