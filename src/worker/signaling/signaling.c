/*
 * signaling.c: what signaling messages mean (SPEC section 4). Sessions,
 * ping, and honest refusals for the media methods whose issues have not
 * landed: a client is told in `info` why, never left waiting.
 */
#include "worker/signaling/signaling.h"

#include <openssl/rand.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <yajl/yajl_gen.h>

#include "common/core/log.h"
#include "common/json/sig_msg.h"

static void gen_kv(yajl_gen g, const char *k, const char *v)
{
    yajl_gen_string(g, (const unsigned char *)k, strlen(k));
    yajl_gen_string(g, (const unsigned char *)v, strlen(v));
}

/* Send {"event": event, k1: v1, ...}; pairs of strings, NULL-terminated, NULL values skipped. */
static void send_event(lc_signaling_t *sig, const char *event, ...)
{
    yajl_gen g = yajl_gen_alloc(NULL);
    va_list ap;
    const unsigned char *buf;
    size_t len;

    yajl_gen_map_open(g);
    gen_kv(g, "event", event);
    va_start(ap, event);
    for (const char *k; (k = va_arg(ap, const char *));) {
        const char *v = va_arg(ap, const char *);
        if (v)
            gen_kv(g, k, v);
    }
    va_end(ap);
    yajl_gen_map_close(g);
    yajl_gen_get_buf(g, &buf, &len);
    lc_ws_session_send_text(sig->ws, (const char *)buf, len);
    yajl_gen_free(g);
}

void lc_signaling_begin(lc_signaling_t *sig, lc_ws_session_t *ws)
{
    memset(sig, 0, sizeof(*sig));
    sig->ws = ws;
}

void lc_signaling_end(lc_signaling_t *sig)
{
    (void)sig;
}

static void new_session_id(char out[33])
{
    unsigned char r[16];
    if (RAND_bytes(r, sizeof(r)) != 1)
        memset(r, 0, sizeof(r)); /* ids need not be secret, only distinct enough */
    for (int i = 0; i < 16; i++)
        sprintf(out + 2 * i, "%02x", r[i]);
}

int lc_signaling_message(lc_signaling_t *sig, const char *text, size_t len)
{
    lc_sig_msg_t m;
    char err[300];
    unsigned long long sid = (unsigned long long)lc_ws_session_id(sig->ws);

    if (lc_sig_msg_parse(text, len, &m, err, sizeof(err)) < 0) {
        lc_log_info("[sess:%llx %s] bad signaling message: %s", sid, lc_ws_session_peer(sig->ws), err);
        send_event(sig, "error", "info", err, NULL);
        lc_ws_session_close(sig->ws, 1007, "bad message");
        return -1;
    }
    if (m.method != LC_SIG_CONNECT && m.method != LC_SIG_PING && !sig->connected) {
        send_event(sig, "error", "info", "Not connected: send connect first", NULL);
        lc_sig_msg_free(&m);
        return 0;
    }
    switch (m.method) {
    case LC_SIG_CONNECT:
        if (!sig->connected)
            new_session_id(sig->session_id);
        sig->connected = 1;
        send_event(sig, "session", "status", "ESTABLISHED", "sessionId", sig->session_id, NULL);
        lc_log_info("[sess:%llx %s] session %s established", sid, lc_ws_session_peer(sig->ws), sig->session_id);
        break;
    case LC_SIG_PING:
        send_event(sig, "pong", NULL);
        break;
    case LC_SIG_PUBLISH:
    case LC_SIG_PLAY:
        send_event(sig, "stream", "id", m.id, "name", m.name, "status", "FAILED", "info",
                   "WebRTC media is not available in this version of livecdn", NULL);
        break;
    case LC_SIG_STOP:
        send_event(sig, "stream", "id", m.id, "status", "FAILED", "info", "Stream not found", NULL);
        break;
    case LC_SIG_SET_TRANSCODING:
    case LC_SIG_START_LIVE:
    case LC_SIG_STOP_LIVE:
        send_event(sig, "error", "info", "Live transcoding is not available in this version of livecdn", NULL);
        break;
    default:
        snprintf(err, sizeof(err), "Unknown method: %s", m.method_name);
        send_event(sig, "error", "info", err, NULL);
        break;
    }
    lc_sig_msg_free(&m);
    return 0;
}
