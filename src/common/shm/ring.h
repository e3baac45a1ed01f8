/*
 * ring.h: a single-writer, multi-reader ring of variable-size media frames
 * in shared memory, read by processes that never talk to the writer.
 *
 * Contract
 *   - One writer per ring (the process that owns the stream). It never
 *     blocks, never waits for and never reads the state of any reader.
 *   - Any number of readers, in any process, each with a private cursor.
 *     A reader copies a frame out, then checks it was not overwritten while
 *     copying; a reader that was lapped resynchronises at the newest
 *     keyframe (or, if that is gone too, at the next keyframe written).
 *   - Positions are absolute byte counts (uint64, never wrap in practice);
 *     the physical offset is pos % cap. Only offsets live in shared memory.
 *   - Records never straddle the end of the data area: a PAD record fills
 *     the rest and the next record starts at offset 0.
 *   - Config frames (sequence headers, metadata) are also kept in a small
 *     side table so a player that starts at the last keyframe still gets
 *     them, however long ago they were sent (the GOP cache).
 *
 * Memory ordering (writer W, reader R)
 *   W stores tail (relaxed), then release fence, then overwrites data
 *       pairs with R: copy data, acquire fence, load tail: R sees the new
 *       tail whenever it may have seen overwritten bytes (seqlock pattern).
 *   W writes data, then store head (release)
 *       pairs with R: load head (acquire) before copying [pos, head).
 *   W writes a keyframe, then store last_key (release)
 *       pairs with R: load last_key (acquire) on resync.
 *   W config slot: seq odd (relaxed) + release fence, data, seq even (release)
 *       pairs with R: load seq (acquire), copy, acquire fence, reload seq.
 *   epoch (release on reuse) pairs with R's acquire load after each copy.
 */
#ifndef LC_RING_H
#define LC_RING_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

enum lc_frame_flags {
    LC_FRAME_KEY = 1,     /* a player may start here */
    LC_FRAME_CONFIG = 2,  /* codec configuration (AVC/AAC sequence header) */
    LC_FRAME_META = 4,    /* stream metadata (onMetaData) */
    LC_FRAME_EOS = 8,     /* end of stream marker */
    LC_FRAME_PAD = 128,   /* internal: filler to the end of the data area */
};

/* What a frame is; payload travels separately. */
typedef struct {
    uint32_t stream_id;
    uint8_t codec;        /* enum lc_codec in media code; opaque here */
    uint8_t flags;        /* lc_frame_flags */
    uint16_t track;       /* 0 video, 1 audio, 2 data: who wants it */
    uint32_t len;         /* payload bytes */
    int64_t ts;           /* presentation time, microseconds */
} lc_frame_t;

#define LC_RING_CONFIG_SLOTS 4
#define LC_RING_CONFIG_MAX 16384

typedef struct {
    _Atomic uint32_t seq;
    uint32_t len;
    lc_frame_t frame;
    uint8_t data[LC_RING_CONFIG_MAX];
} lc_ring_config_t;

typedef struct lc_ring {
    uint64_t cap;                  /* bytes of data[], multiple of 8 */
    _Atomic uint64_t epoch;        /* changes when the ring is reused for another stream */
    _Atomic uint32_t closed;       /* writer is gone; readers end at head */
    uint32_t pad0;
    char pad1[64 - 24];
    _Atomic uint64_t head;         /* end of the last complete record */
    _Atomic uint64_t tail;         /* lowest position still intact */
    _Atomic uint64_t last_key;     /* position of the newest keyframe record, UINT64_MAX = none */
    _Atomic uint64_t frames;
    char pad2[64 - 32];
    lc_ring_config_t config[LC_RING_CONFIG_SLOTS];
    _Alignas(64) uint8_t data[];
} lc_ring_t;

typedef struct {
    uint64_t pos;
    uint64_t epoch;
    int need_key;       /* skip until a keyframe (after a lap or a late start) */
    uint64_t lapped;    /* times this reader was overrun */
    uint64_t skipped;   /* frames skipped while resynchronising */
} lc_ring_cursor_t;

enum {
    LC_RING_OK = 1,        /* a frame was read */
    LC_RING_EMPTY = 0,     /* nothing new yet */
    LC_RING_ENDED = -1,    /* writer closed the ring (or it was reused) and all was read */
    LC_RING_E2BIG = -2,    /* frame larger than the caller's buffer: skipped */
};

enum { LC_RING_FROM_KEY, LC_RING_FROM_NOW };

/* Ring occupying `bytes` of shared memory (header included). */
void lc_ring_init(lc_ring_t *r, size_t bytes);
/* Start a new life for another stream: readers of the old one see ENDED. */
void lc_ring_reset(lc_ring_t *r);
void lc_ring_close(lc_ring_t *r);
/* Largest payload a ring of this capacity accepts. */
size_t lc_ring_max_frame(const lc_ring_t *r);

/* Writer. Returns 0, or -1 if the frame exceeds lc_ring_max_frame(). */
int lc_ring_write(lc_ring_t *r, const lc_frame_t *f, const void *payload);
/* Keep a config frame in side slot i (also write it inline with lc_ring_write). -1 if too big. */
int lc_ring_set_config(lc_ring_t *r, unsigned slot, const lc_frame_t *f, const void *payload);

/* Reader. */
void lc_ring_cursor_init(const lc_ring_t *r, lc_ring_cursor_t *c, int from);
int lc_ring_read(const lc_ring_t *r, lc_ring_cursor_t *c, lc_frame_t *f, void *buf, size_t cap);
/* Copy config slot i; returns payload length, 0 if empty, -1 if cap too small. */
int lc_ring_get_config(const lc_ring_t *r, unsigned slot, lc_frame_t *f, void *buf, size_t cap);

#endif
