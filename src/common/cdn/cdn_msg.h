/*
 * cdn_msg.h: the inter-node CDN protocol's messages (man/livecdn-cdn.7),
 * I/O-free. Control messages are JSON text WebSocket frames, media are
 * binary WebSocket frames with a fixed 16-byte header. Nothing here logs;
 * errors come back as a reason the relay logs and sends to the peer.
 *
 * Every JSON message is an object with "type" and "version" (the protocol
 * version, LC_CDN_PROTO_VERSION). A parse accepts any integer version so
 * the caller can refuse a mismatched peer naming both versions.
 */
#ifndef LC_CDN_MSG_H
#define LC_CDN_MSG_H

#include <stddef.h>
#include <stdint.h>

#include "common/shm/ring.h"
#include "common/shm/shm.h"

#define LC_CDN_PROTO_VERSION 1
#define LC_CDN_ADDR_MAX 64        /* "ip:port", "[v6]:port" */
#define LC_CDN_MSG_MAX (1u << 20) /* largest JSON message */
#define LC_CDN_LIST_MAX 4096      /* entries in "nodes" or "streams" */
#define LC_CDN_REASON_MAX 256
#define LC_CDN_FRAME_HEADER 16
#define LC_CDN_NONCE_LEN 16       /* HELLO "nonce": 32 hex digits */
#define LC_CDN_PROOF_LEN 32       /* HELLO "proof": HMAC-SHA256, 64 hex digits */
#define LC_CDN_HELLO_MAX 4096     /* largest message before the hello exchange is done */

enum lc_cdn_msg_type {
    LC_CDN_HELLO = 1, /* first message on every link: who I am */
    LC_CDN_STATE,     /* my view: active nodes I know, streams I distribute, serial */
    LC_CDN_KEEPALIVE, /* I am alive, my state is still `serial` */
    LC_CDN_RESYNC,    /* your serial differs from what I hold: send STATE */
    LC_CDN_BYE,       /* I am stopping: mark me PASSIVE now */
    LC_CDN_PULL,      /* media link: send me frames of `stream` */
    LC_CDN_PULL_OK,   /* media link: frames follow */
    LC_CDN_EOS,       /* media link: the stream ended, `reason` says why */
    LC_CDN_ERROR,     /* `reason`; the sender closes the link */
    LC_CDN_KEYFRAME,  /* media link, puller to origin: players want a keyframe of `stream` */
};

enum lc_cdn_role { LC_CDN_ROLE_ORIGIN = 1, LC_CDN_ROLE_EDGE = 2 };

typedef struct {
    char addr[LC_CDN_ADDR_MAX];
    int role;                     /* lc_cdn_role */
} lc_cdn_peer_t;

typedef struct {
    char name[LC_STREAM_NAME_MAX];
    int fetched;                  /* 1: the sender pulled it from another origin */
    int vcodec, acodec;           /* lc_codec_t of its frames so far, 0 = not known yet */
} lc_cdn_stream_ref_t;

typedef struct {
    int type;                     /* lc_cdn_msg_type */
    int version;
    char node[LC_CDN_ADDR_MAX];   /* sender (HELLO, STATE, KEEPALIVE, BYE, PULL) */
    int role;                     /* sender's role (HELLO, STATE) */
    int has_nonce, has_proof;     /* HELLO, with cdn.secret (cdn_hello.h) */
    uint8_t nonce[LC_CDN_NONCE_LEN];
    uint8_t proof[LC_CDN_PROOF_LEN];
    uint64_t serial;              /* STATE, KEEPALIVE */
    lc_cdn_peer_t *nodes;         /* STATE: owned, lc_cdn_msg_free */
    size_t nnodes;
    lc_cdn_stream_ref_t *streams; /* STATE: owned */
    size_t nstreams;
    char stream[LC_STREAM_NAME_MAX];  /* PULL, PULL_OK, EOS, KEYFRAME */
    char reason[LC_CDN_REASON_MAX];   /* EOS, ERROR */
} lc_cdn_msg_t;

/* Parse one JSON message. 0, or -1 with a reason in err: bad JSON, not an
 * object, missing or unknown "type", missing "version", a field of the
 * wrong type, a name or address too long, a list too long. On -1 nothing
 * is left to free; on 0 the caller frees with lc_cdn_msg_free. */
int lc_cdn_msg_parse(const char *text, size_t len, lc_cdn_msg_t *m, char *err, size_t errlen);
void lc_cdn_msg_free(lc_cdn_msg_t *m);

/* Build the JSON of m (version always LC_CDN_PROTO_VERSION): a malloc'd,
 * NUL-terminated string with its length in *len, or NULL on no memory. */
char *lc_cdn_msg_build(const lc_cdn_msg_t *m, size_t *len);

const char *lc_cdn_role_name(int role);  /* "origin", "edge", "?" */

/* Binary media frame: byte 0 version (1), 1 track, 2 flags, 3 codec,
 * 4..7 payload length (big endian), 8..15 timestamp in microseconds
 * (big endian, two's complement), then the payload. */
void lc_cdn_frame_header(uint8_t out[LC_CDN_FRAME_HEADER], const lc_frame_t *f);
/* buf[0..len) is one whole binary message. 0 with *f (stream_id 0) and
 * *payload pointing into buf, or -1 with err: short header, bad version,
 * length mismatch, unknown track (> 2), flags outside KEY|CONFIG|META. */
int lc_cdn_frame_parse(const uint8_t *buf, size_t len, lc_frame_t *f, const uint8_t **payload, const char **err);

#endif
