/*
 * whip.h: WHIP (RFC 9725) and WHEP ingest/egress on the signaling port:
 *   POST /whip/NAME   SDP offer -> 201 Created, Location, SDP answer (publish)
 *   POST /whep/NAME   SDP offer -> 201 Created, Location, SDP answer (play)
 *   DELETE LOCATION   ends that session
 *   OPTIONS ...       CORS preflight
 * The session outlives the HTTP exchange: it is a WebRTC session of this
 * worker (webrtc/rtc.h), found again by the id in its Location.
 */
#ifndef LC_WHIP_H
#define LC_WHIP_H

#include <event2/buffer.h>
#include <stddef.h>

#include "worker/worker.h"

#define LC_WHIP_MAX_BODY (64 * 1024)

/* Is this request target ours? */
int lc_whip_target(const char *target, size_t len);
/* Answer one request completely into out (status line, headers, body). */
/* auth: the Authorization header's value, NULL if absent (signaling.publish_token) */
void lc_whip_request(lc_worker_t *w, const char *method, size_t mlen, const char *target, size_t tlen,
                     const char *ctype, size_t ctlen, const char *auth, size_t alen, const char *body, size_t blen,
                     const char *peer, struct evbuffer *out);
void lc_whip_close_all(void);

#endif
