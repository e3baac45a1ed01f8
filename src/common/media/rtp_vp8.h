/*
 * rtp_vp8.h: VP8 over RTP (RFC 7741), I/O-free.
 *
 * Depacketizer: RTP payloads in (with seq, timestamp, marker), whole VP8
 * frames out with keyframe, picture id and, on keyframes, the dimensions.
 * Packetizer: a frame in, payloads out, each with a descriptor carrying
 * a 15-bit PictureID (which browsers use to spot lost frames).
 *
 * Ordering is the caller's: payloads must be pushed in sequence order (a
 * jitter buffer with NACK sits in front). Out-of-order input never breaks
 * anything here, it only shows up as loss (LC_RTP_VP8_LOST) or as stale
 * packets that are ignored.
 *
 * Ownership: the depacketizer writes into a buffer the caller owns and
 * passes to init (its size is the largest frame accepted); nothing here
 * allocates. Data handed to a callback is valid during the call only.
 */
#ifndef LC_COMMON_MEDIA_RTP_VP8_H
#define LC_COMMON_MEDIA_RTP_VP8_H

#include <stddef.h>
#include <stdint.h>

#define LC_RTP_VP8_CLOCK 90000
#define LC_RTP_VP8_MAX_FRAME (4u << 20)    /* a sensible depacketizer buffer size */
#define LC_RTP_VP8_MTU_MAX 4096            /* largest payload the packetizer makes */
#define LC_RTP_VP8_DESC_SIZE 4             /* descriptor the packetizer writes */

/* Return value of lc_rtp_vp8_depack_push: the frame being built (and the
 * rest of its packets) was dropped; ask the sender for a keyframe. */
#define LC_RTP_VP8_LOST 1

typedef struct {
    const uint8_t *data;     /* the VP8 frame, descriptors removed */
    size_t len;
    uint32_t rtp_ts;
    int keyframe;            /* P bit of the frame tag is 0 */
    int width, height;       /* keyframes with a valid header; else 0 */
    int picture_id;          /* from the first packet's descriptor; -1 if absent */
    int discont;             /* frames were dropped since the last one emitted */
} lc_rtp_vp8_frame_t;

typedef void (*lc_rtp_vp8_frame_fn)(void *ctx, const lc_rtp_vp8_frame_t *frame);

/* Depacketizer state; fields are private. */
typedef struct {
    uint8_t *buf;
    size_t cap, len;
    lc_rtp_vp8_frame_fn on_frame;
    void *ctx;
    int building;            /* a frame with timestamp ts is in buf */
    uint32_t ts;
    int picture_id;
    int dropping;            /* discarding the rest of the frame with drop_ts */
    uint32_t drop_ts;
    int have_seq;
    uint16_t last_seq;
    unsigned stale;          /* consecutive packets older than last_seq */
    int discont;
} lc_rtp_vp8_depack_t;

typedef struct {
    int start;               /* S */
    int partition;           /* PID */
    int non_reference;       /* N */
    int picture_id;          /* 7 or 15 bits, -1 if absent */
    int tl0picidx;           /* -1 if absent */
    int tid, keyidx;         /* -1 if absent */
    size_t size;             /* descriptor bytes; the VP8 payload follows */
} lc_rtp_vp8_desc_t;

/* The payload descriptor (RFC 7741 4.2). 0, or -1 with *err. */
int lc_rtp_vp8_parse_desc(const uint8_t *payload, size_t len, lc_rtp_vp8_desc_t *out, const char **err);

/* buf/cap: where frames are built (cap is the largest accepted, e.g.
 * LC_RTP_VP8_MAX_FRAME); on_frame is called once per complete frame. */
void lc_rtp_vp8_depack_init(lc_rtp_vp8_depack_t *d, uint8_t *buf, size_t cap,
                            lc_rtp_vp8_frame_fn on_frame, void *ctx);
/* Forget the frame being built and the sequence state (new SSRC). */
void lc_rtp_vp8_depack_reset(lc_rtp_vp8_depack_t *d);
/* One RTP payload, in sequence order. A frame is emitted on the marker bit
 * or, when a sender omits it, on the next frame start. Returns 0, or
 * LC_RTP_VP8_LOST with *err saying why (sequence gap, packet without its
 * frame start, malformed descriptor, frame too big). Duplicates and
 * packets older than the last one are ignored (0). */
int lc_rtp_vp8_depack_push(lc_rtp_vp8_depack_t *d, const uint8_t *payload, size_t len,
                           uint16_t seq, uint32_t rtp_ts, int marker, const char **err);

/* Width and height (14 bits each, scaling bits dropped) of a keyframe:
 * frame tag, start code 9d 01 2a, then the dimensions (RFC 6386 9.1).
 * 0, or -1 with *err when frame is not a keyframe with a valid header. */
int lc_rtp_vp8_keyframe_dims(const uint8_t *frame, size_t len, int *width, int *height,
                             const char **err);

typedef void (*lc_rtp_vp8_emit_fn)(void *ctx, const uint8_t *payload, size_t len, int marker);

/* Packetize one frame into payloads of at most mtu bytes (descriptor
 * included, LC_RTP_VP8_DESC_SIZE+1..LC_RTP_VP8_MTU_MAX): S on the first,
 * marker on the last, PictureID picture_id & 0x7fff on all (the caller
 * adds one per frame; it wraps at 15 bits). Returns the number of
 * payloads emitted, or -1 with *err (nothing emitted). */
int lc_rtp_vp8_packetize(const uint8_t *frame, size_t len, uint16_t picture_id, size_t mtu,
                         lc_rtp_vp8_emit_fn emit, void *ctx, const char **err);

#endif
