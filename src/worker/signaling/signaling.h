/*
 * signaling.h: the JSON protocol of SPEC section 4 on top of a WebSocket
 * session. ws_session.c owns the connection; this owns what the messages
 * mean.
 */
#ifndef LC_SIGNALING_H
#define LC_SIGNALING_H

#include <stddef.h>
#include <stdint.h>

#include "worker/worker.h"



typedef struct lc_sig_stream lc_sig_stream_t;

typedef struct {
    lc_ws_session_t *ws;
    int connected;
    char session_id[33];
    lc_sig_stream_t *streams;   /* publishStream/playStream in flight, by client id */
} lc_signaling_t;

void lc_signaling_begin(lc_signaling_t *sig, lc_ws_session_t *ws);
void lc_signaling_end(lc_signaling_t *sig);
/* One text message. Returns 0, or -1 when the session was closed. */
int lc_signaling_message(lc_signaling_t *sig, const char *text, size_t len);

/* ws_session.c, for signaling.c */
void lc_ws_session_send_text(lc_ws_session_t *s, const char *text, size_t len);
void lc_ws_session_close(lc_ws_session_t *s, int code, const char *reason);
const char *lc_ws_session_peer(const lc_ws_session_t *s);
uint64_t lc_ws_session_id(const lc_ws_session_t *s);
lc_worker_t *lc_ws_session_worker(const lc_ws_session_t *s);
void lc_ws_session_close_all(void);

#endif
