/*
 * rtmp_client.h: the publishing side of an RTMP connection, I/O-free: what
 * livecdn needs to push a stream to an external RTMP server (nginx-rtmp,
 * YouTube, Facebook behind TLS the caller runs). Bytes from the server go
 * in, events and bytes for the server come out; the caller owns the
 * socket (or TLS), the timers and the decision to reconnect.
 *
 * The conversation, as FFmpeg and OBS have it with those servers:
 *   C0+C1 (simple handshake)  ->            <- S0+S1
 *   C2 (= S1)                 ->            <- S2
 *   Set Chunk Size, connect(app, tcUrl)  -> <- Window Ack Size, Set Peer
 *                                              Bandwidth, _result, onBWDone
 *   releaseStream(key), FCPublish(key), createStream ->   <- _result(id)
 *   publish(key, "live") on stream id    -> <- onStatus Publish.Start
 *   @setDataFrame, audio, video on that stream ->
 * Along the way the client answers PingRequests, acknowledges the bytes
 * the server's window asks it to, and applies the server's chunk size.
 *
 * Use:
 *   c = lc_rtmp_client_new(&conf, err, sizeof err);
 *   loop: write what lc_rtmp_client_pending() shows, then
 *         lc_rtmp_client_consumed(c, written);
 *         feed what was read to lc_rtmp_client_input() until it is all
 *         taken, handling each event it returns;
 *         once PUBLISHING, lc_rtmp_client_send() each frame.
 *
 * Ownership and memory: the client owns every buffer it uses (its copies
 * of the conf strings, the output bytes, the chunk reader); the caller
 * frees the client with lc_rtmp_client_free(), which releases them all.
 * Inbound memory is bounded as the server's chunk reader bounds it (2 x
 * max_message of partial messages, see rtmp_chunk.h); outbound bytes are
 * bounded by max_output (media) plus a small slack for the client's own
 * control messages, past which the session fails rather than grow.
 * Nothing here logs: failures come back as words a person understands.
 */
#ifndef LC_RTMP_CLIENT_H
#define LC_RTMP_CLIENT_H

#include <stddef.h>
#include <stdint.h>

#include "common/rtmp/rtmp_chunk.h"

#define LC_RTMP_CLIENT_DEFAULT_CHUNK 4096
/* The server tells a publisher little: commands, statuses, controls. */
#define LC_RTMP_CLIENT_DEFAULT_MAX_MESSAGE (256u << 10)
/* About 4 s of a 8 Mbit/s stream the socket did not take yet. */
#define LC_RTMP_CLIENT_DEFAULT_MAX_OUTPUT ((size_t)4 << 20)
/* Longest app, tcUrl or stream key accepted (they travel as AMF0 strings). */
#define LC_RTMP_CLIENT_STRING_MAX 4096

typedef struct {
    const char *app;            /* "live" (the URL's first path segment) */
    const char *tc_url;         /* "rtmp://host[:port]/live" */
    const char *stream_key;     /* the publish name, may carry "?query" */
    uint32_t chunk_size;        /* ours, announced after the handshake; 0: 4096 */
    uint32_t max_message;       /* largest message accepted from the server; 0: 256 KiB */
    size_t max_output;          /* media queued only below this many pending bytes; 0: 4 MiB */
    lc_rtmp_chunk_budget_t *budget; /* optional: the process's partial-message budget */
} lc_rtmp_client_conf_t;

typedef enum {
    LC_RTMP_CLIENT_NONE = 0,    /* nothing to report: all input was taken */
    LC_RTMP_CLIENT_PUBLISHING,  /* onStatus NetStream.Publish.Start: media may flow */
    LC_RTMP_CLIENT_REFUSED,     /* the server said no: an onStatus error, or _error to
                                 * connect, createStream or publish (code, description) */
    LC_RTMP_CLIENT_CLOSED,      /* the server ended it: NetStream.Unpublish.Success,
                                 * NetConnection.Connect.Closed, or a close command */
    LC_RTMP_CLIENT_ERROR,       /* the server's bytes broke the protocol (error) */
} lc_rtmp_client_event_type_t;

#define LC_RTMP_CLIENT_CODE_MAX 128
#define LC_RTMP_CLIENT_DESC_MAX 512

typedef struct {
    lc_rtmp_client_event_type_t type;
    /* REFUSED, CLOSED: what the server's info object said, copied out. A
     * longer value is cut and ends in "..."; control characters become '?'
     * (these are the server's words, bound for our logs). "" when absent. */
    char code[LC_RTMP_CLIENT_CODE_MAX];         /* "NetStream.Publish.BadName" */
    char description[LC_RTMP_CLIENT_DESC_MAX];  /* "Already publishing" */
    const char *call;   /* REFUSED, CLOSED: the step it answered ("connect",
                         * "createStream", "publish", "publishing"): static */
    const char *error;  /* ERROR: why, owned by the client, valid until it is freed */
} lc_rtmp_client_event_t;

typedef struct lc_rtmp_client lc_rtmp_client_t;

/* A client whose first bytes (C0+C1) are already pending. NULL with err
 * set (a missing or too long string, a chunk size out of 1..16 MiB, out
 * of memory). The conf strings are copied: conf need not outlive the call. */
lc_rtmp_client_t *lc_rtmp_client_new(const lc_rtmp_client_conf_t *conf, char *err, size_t errlen);
void lc_rtmp_client_free(lc_rtmp_client_t *c);

/* The bytes waiting for the server: *len of them at the returned pointer
 * (NULL when none), valid until the next call on this client. After
 * writing some, say how many were taken (n beyond *len is clamped). */
const uint8_t *lc_rtmp_client_pending(lc_rtmp_client_t *c, size_t *len);
void lc_rtmp_client_consumed(lc_rtmp_client_t *c, size_t n);

/* Bytes from the server. Returns how many were consumed and fills *ev:
 * with NONE every byte was taken; with another event the client stopped
 * right after the message that caused it, and the rest (if any) is to be
 * fed again once the event is handled. -1 exactly when ev->type is ERROR
 * (then, and on every later call, ev->error says why).
 * REFUSED, CLOSED and ERROR end the session: later input is ignored (an
 * ERROR client keeps returning -1) and lc_rtmp_client_send() refuses.
 * The result never depends on how the input is split. */
long lc_rtmp_client_input(lc_rtmp_client_t *c, const uint8_t *buf, size_t len, lc_rtmp_client_event_t *ev);

/* Queue one media message on the published stream: type LC_RTMP_AUDIO or
 * LC_RTMP_VIDEO (an FLV tag body), or LC_RTMP_DATA_AMF0 (metadata: the
 * body @setDataFrame("onMetaData", {...}) as given; a body starting with
 * "onMetaData" itself, the form players get, is sent with @setDataFrame
 * put in front). Timestamps in ms, absolute (every message has a full
 * header, extended past 0xFFFFFF), on chunk streams 4 (audio), 6 (video)
 * and 5 (data) as the server side of livecdn uses them.
 * Returns 0 when queued; 1 when not, because max_output bytes or more are
 * already pending (the caller's drop policy decides: skip to a keyframe);
 * -1 with *err (if err is not NULL): not publishing (yet, or any more),
 * another type, over the 16 MiB RTMP message limit, out of memory. */
int lc_rtmp_client_send(lc_rtmp_client_t *c, uint8_t type, uint32_t timestamp_ms, const uint8_t *body, size_t len,
                        const char **err);

/* Queue FCUnpublish(key) and deleteStream(id), what FFmpeg sends before
 * it closes: the server ends the stream at once instead of at a timeout.
 * Then flush what is pending and close. 0, or -1 with *err (not
 * publishing, out of memory). Later sends are refused. */
int lc_rtmp_client_unpublish(lc_rtmp_client_t *c, const char **err);

/* Where the conversation is, for logs and timeouts ("handshake",
 * "connect", "createStream", "publish", "publishing", "ended", "failed"). */
const char *lc_rtmp_client_phase(const lc_rtmp_client_t *c);

#endif
