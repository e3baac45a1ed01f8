/*
 * rtp.h: RTP packets (RFC 3550) and their header extensions (RFC 8285),
 * I/O-free.
 *
 * Bytes in, structs out, and the few in-place rewrites an SFU does when it
 * forwards a packet (SSRC, sequence number, timestamp, payload type). Nothing
 * here logs or allocates; a malformed packet gives -1 and a static reason.
 *
 * Ownership: every pointer in a parsed lc_rtp_header_t points into the
 * caller's buffer and is valid as long as that buffer is. Nothing to free.
 *
 * Receive statistics (lc_rtp_stats_t) follow RFC 3550 appendix A.1, A.3 and
 * A.8 and are what an RTCP receiver report block is filled from.
 */
#ifndef LC_COMMON_WEBRTC_RTP_H
#define LC_COMMON_WEBRTC_RTP_H

#include <stddef.h>
#include <stdint.h>

#define LC_RTP_HEADER_MIN 12
#define LC_RTP_MAX_CSRC 15
#define LC_RTP_EXT_PROFILE_ONE_BYTE 0xBEDE
#define LC_RTP_EXT_PROFILE_TWO_BYTE 0x1000 /* low 4 bits are "appbits" */

/* A parsed RTP header. */
typedef struct {
    int padding;              /* P bit */
    int extension;            /* X bit */
    int marker;
    unsigned csrc_count;
    uint8_t pt;               /* 0..127 */
    uint16_t seq;
    uint32_t timestamp;
    uint32_t ssrc;
    uint32_t csrc[LC_RTP_MAX_CSRC];
    uint16_t ext_profile;     /* "defined by profile" word; 0 when !extension */
    const uint8_t *ext;       /* extension data after its 4-byte header, or NULL */
    size_t ext_len;           /* bytes, a multiple of 4 */
    size_t header_len;        /* fixed header + CSRCs + extension block */
    const uint8_t *payload;
    size_t payload_len;       /* excludes padding */
    size_t padding_len;       /* 0, or the count in the last byte (>= 1) */
} lc_rtp_header_t;

/* One header extension element: a parsed one (data points into the packet)
 * or one to write. */
typedef struct {
    uint8_t id;
    uint8_t len;
    const uint8_t *data;
} lc_rtp_ext_elem_t;

/* RFC 5761/7983 demux of a packet already known to be RTP or RTCP (first byte
 * 128..191): 1 if the second byte is 192..223 (an RTCP packet type; RTP
 * payload types 64..95 with the marker set would collide, which is why
 * RFC 5761 forbids them), else 0. Also 0 for len < 2 or version != 2. */
int lc_rtp_is_rtcp(const uint8_t *b, size_t len);

/* Parse b[0..len) as one RTP packet. Returns 0, or -1 with *err (err may be
 * NULL): shorter than its header, version not 2, CSRC list or extension block
 * past the end, padding count 0 or larger than what follows the header. */
int lc_rtp_parse(const uint8_t *b, size_t len, lc_rtp_header_t *h, const char **err);

/* The RFC 8285 form of the parsed extension block: 1 (one-byte, 0xBEDE),
 * 2 (two-byte, 0x100X), 0 (none, or some other profile's extension). */
int lc_rtp_ext_form(const lc_rtp_header_t *h);

/* Walk the extension elements. Start with *pos = 0. Returns 1 with *e set
 * and *pos advanced, 0 at the end (or for form 0), -1 with *err if an
 * element runs past the block. Padding bytes (id 0) are skipped; a one-byte
 * id 15 ends the walk (RFC 8285 section 4.2). */
int lc_rtp_ext_next(const lc_rtp_header_t *h, size_t *pos, lc_rtp_ext_elem_t *e,
                    const char **err);

/* First element with this id: 1 with *data and *len set, 0 if absent, -1 with
 * *err if the block is malformed before it is found. */
int lc_rtp_ext_find(const lc_rtp_header_t *h, uint8_t id, const uint8_t **data, size_t *len,
                    const char **err);

/* Write a header from h's marker, pt, seq, timestamp, ssrc, csrc_count and
 * csrc (other fields ignored; P is written 0) and, when n_ext > 0, a one-byte
 * form extension block of ext[] padded with zeros to 32 bits. Returns the
 * header length, or 0 if cap is too small or a field cannot be written
 * (pt > 127, csrc_count > 15, id not 1..14, len not 1..16, data NULL). */
size_t lc_rtp_write_header(uint8_t *out, size_t cap, const lc_rtp_header_t *h,
                           const lc_rtp_ext_elem_t *ext, size_t n_ext);

/* In-place rewrites of a packet's fixed header: 0, or -1 if len < 12. */
int lc_rtp_set_ssrc(uint8_t *b, size_t len, uint32_t ssrc);
int lc_rtp_set_seq(uint8_t *b, size_t len, uint16_t seq);
int lc_rtp_set_timestamp(uint8_t *b, size_t len, uint32_t ts);
int lc_rtp_set_pt(uint8_t *b, size_t len, uint8_t pt);   /* keeps the marker bit */

/* 16-bit sequence arithmetic. lc_rtp_seq_newer(a, b): 1 if a comes after b
 * (going forward less than half the space); for a distance of exactly
 * 0x8000 the larger value is the newer, so newer(a,b) and newer(b,a) are
 * never both true. lc_rtp_seq_diff(a, b): signed distance a - b. */
int lc_rtp_seq_newer(uint16_t a, uint16_t b);
int32_t lc_rtp_seq_diff(uint16_t a, uint16_t b);

/* Receive statistics of one source. Start from all zero (or lc_rtp_stats_init). */
typedef struct {
    int started;
    uint16_t max_seq;         /* highest seq seen */
    uint32_t cycles;          /* wraps of max_seq, times 65536 */
    uint32_t base_seq;
    uint32_t bad_seq;         /* the seq that would confirm a restart */
    uint32_t received;
    uint32_t expected_prior;
    uint32_t received_prior;
    int have_transit;
    uint32_t transit;         /* arrival - timestamp of the last in-order packet */
    uint32_t jitter16;        /* jitter times 16 (A.8 integer form) */
} lc_rtp_stats_t;

void lc_rtp_stats_init(lc_rtp_stats_t *s);

/* Account for one received packet. arrival is the arrival time in the
 * stream's RTP clock units. Returns 1 if counted, 0 if the seq jumped by
 * more than the dropout limit (counted only if the next packet confirms
 * the jump, which restarts the statistics). */
int lc_rtp_stats_update(lc_rtp_stats_t *s, uint16_t seq, uint32_t timestamp, uint32_t arrival);

uint32_t lc_rtp_stats_ext_max(const lc_rtp_stats_t *s);    /* cycles + max_seq */
uint32_t lc_rtp_stats_expected(const lc_rtp_stats_t *s);
int32_t lc_rtp_stats_lost(const lc_rtp_stats_t *s);        /* clamped to 24-bit signed */
uint32_t lc_rtp_stats_jitter(const lc_rtp_stats_t *s);     /* RTP clock units */

/* Fraction lost (8-bit fixed point, 0 if none or more received than
 * expected) since the previous call, which starts a new interval: call once
 * per report block sent. */
uint8_t lc_rtp_stats_fraction_lost(lc_rtp_stats_t *s);

#endif
