/*
 * rtmp_chunk.h: the RTMP chunk stream (RTMP spec section 5.3), both ways.
 * I/O-free: bytes in, whole messages out; messages in, chunk bytes out.
 *
 * Reader: lc_rtmp_chunk_feed() consumes what it can of the input and
 * returns one complete message at a time. Limits, each a protocol error:
 * chunk size 1..LC_RTMP_MAX_CHUNK (set by the peer's Set Chunk Size),
 * message length <= max_message, at most LC_RTMP_MAX_CSID live chunk
 * streams, a fmt 1/2/3 chunk on a chunk stream never opened with fmt 0,
 * a message length change in the middle of a message, and the memory
 * limits below.
 * Protocol control messages 1 (Set Chunk Size), 2 (Abort) are applied here
 * and also returned so the caller can log them.
 * Ownership: the reader owns partial message buffers (lc_rtmp_chunk_reader_free);
 * a returned message's payload belongs to the caller (free()).
 */
#ifndef LC_RTMP_CHUNK_H
#define LC_RTMP_CHUNK_H

#include <stddef.h>
#include <stdint.h>

#define LC_RTMP_MAX_CHUNK 0x7fffffff   /* the spec's limit; we cap lower below */
#define LC_RTMP_MAX_CHUNK_ACCEPTED (16 * 1024 * 1024)
#define LC_RTMP_MAX_CSID 64             /* distinct chunk streams in use at once */
#define LC_RTMP_DEFAULT_CHUNK 128

/* Memory limits of reassembly (security review #5). A reader holds the
 * bytes of messages still arriving; what it may hold at once is bounded
 * three ways, each a protocol error that ends the stream:
 *   - at most LC_RTMP_MAX_PARTIAL messages in flight (an encoder interleaves
 *     at most audio, video, data and a command: 1-4);
 *   - at most 2 * max_message bytes arrived in them (a keyframe of the
 *     largest allowed size and what is interleaved with it);
 *   - with a budget set, the bytes arrived across every reader sharing it
 *     (a worker's RTMP connections) at most budget->limit.
 * Bytes are counted as they arrive, so the limits do not depend on how the
 * input is split; allocations grow by doubling, and pages not yet written
 * are not resident, so memory follows the count. */
#define LC_RTMP_MAX_PARTIAL 8

/* One process's (worker's) bytes in partial messages, shared by its readers.
 * Not atomic: the readers of one budget run on one thread. */
typedef struct {
    size_t used;
    size_t limit;
} lc_rtmp_chunk_budget_t;

enum lc_rtmp_msg_type {
    LC_RTMP_SET_CHUNK_SIZE = 1, LC_RTMP_ABORT = 2, LC_RTMP_ACK = 3, LC_RTMP_USER_CONTROL = 4,
    LC_RTMP_WINDOW_ACK_SIZE = 5, LC_RTMP_SET_PEER_BANDWIDTH = 6, LC_RTMP_AUDIO = 8,
    LC_RTMP_VIDEO = 9, LC_RTMP_DATA_AMF3 = 15, LC_RTMP_COMMAND_AMF3 = 17,
    LC_RTMP_DATA_AMF0 = 18, LC_RTMP_COMMAND_AMF0 = 20, LC_RTMP_AGGREGATE = 22,
};

typedef struct {
    uint32_t csid;
    uint8_t type;
    uint32_t timestamp;     /* absolute, ms (deltas already summed) */
    uint32_t stream_id;     /* message stream id */
    uint32_t len;
    uint8_t *payload;       /* malloc'd, owned by the caller once returned */
} lc_rtmp_msg_t;

typedef struct lc_rtmp_chunk_reader lc_rtmp_chunk_reader_t;

lc_rtmp_chunk_reader_t *lc_rtmp_chunk_reader_new(uint32_t max_message);
void lc_rtmp_chunk_reader_free(lc_rtmp_chunk_reader_t *r);
/* Count this reader's partial bytes in b too (b outlives the reader; set
 * before the first feed). The reader returns what it holds on free. */
void lc_rtmp_chunk_reader_set_budget(lc_rtmp_chunk_reader_t *r, lc_rtmp_chunk_budget_t *b);
/* Bytes arrived in partial messages now (what the limits count). */
size_t lc_rtmp_chunk_reader_held(const lc_rtmp_chunk_reader_t *r);
/* Feed input. Returns bytes consumed (>= 0). *got = 1 when a message was
 * completed into *msg (call again with the rest of the input), 0 if more
 * input is needed. -1 on a protocol error with *err set. */
long lc_rtmp_chunk_feed(lc_rtmp_chunk_reader_t *r, const uint8_t *buf, size_t len, lc_rtmp_msg_t *msg,
                        int *got, const char **err);
uint32_t lc_rtmp_chunk_reader_chunk_size(const lc_rtmp_chunk_reader_t *r);

/* Writer: the chunk bytes of one message, fmt 0 header then fmt 3 chunks
 * (the same bytes for every receiver with the same chunk size, which is
 * what lets a worker build them once per frame). Returns the size written
 * into out, which must hold lc_rtmp_chunk_size_of() bytes. */
size_t lc_rtmp_chunk_size_of(uint32_t len, uint32_t chunk_size, uint32_t timestamp);
size_t lc_rtmp_chunk_write(uint8_t *out, uint32_t csid, uint8_t type, uint32_t timestamp, uint32_t stream_id,
                           const uint8_t *payload, uint32_t len, uint32_t chunk_size);

#endif
