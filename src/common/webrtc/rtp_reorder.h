/*
 * rtp_reorder.h: a WebRTC publisher's video packets back into sequence
 * order while the ones missing are NACKed (RFC 4585) and retransmitted,
 * plain or as RTX (RFC 4588). I/O-free: packets in with the time they
 * arrived, packets out in order through `push`, sequence numbers to NACK
 * out through `nack`; the caller sends the RTCP and owns the clock.
 *
 * In order, a packet goes straight through. After a gap it waits (at most
 * LC_RTP_REORDER_WAIT_MS, at most LC_RTP_REORDER_SLOTS packets ahead)
 * while the gap is NACKed, at once and then every LC_RTP_REORDER_NACK_MS;
 * a retransmission that fills the gap lets what waits behind it go on in
 * order. A gap still open when its time is up is given up: the packets
 * after it go on (the depacketizer sees the seq jump, the frame is lost).
 * A packet already passed (a late retransmission, a duplicate) is
 * dropped; a jump of LC_RTP_REORDER_SLOTS or more either way (a sender
 * that restarted its numbering) starts over from that packet.
 *
 * Ownership: lc_rtp_reorder_new copies every packet that waits; free it
 * with lc_rtp_reorder_free. `push` gets pointers valid only during the call.
 */
#ifndef LC_RTP_REORDER_H
#define LC_RTP_REORDER_H

#include <stddef.h>
#include <stdint.h>

#define LC_RTP_REORDER_SLOTS 512     /* packets that may wait behind a gap */
#define LC_RTP_REORDER_WAIT_MS 200   /* then the gap is given up */
#define LC_RTP_REORDER_NACK_MS 60    /* a gap's NACK is repeated this often */
#define LC_RTP_REORDER_NACK_MAX 64   /* sequence numbers per NACK */

typedef struct {
    /* a packet, in order */
    void (*push)(void *ctx, const uint8_t *payload, size_t len, uint16_t seq, uint32_t ts, int marker);
    /* these are missing: ask for them */
    void (*nack)(void *ctx, const uint16_t *seqs, size_t n);
} lc_rtp_reorder_ops_t;

typedef struct lc_rtp_reorder lc_rtp_reorder_t;

/* NULL when out of memory. */
lc_rtp_reorder_t *lc_rtp_reorder_new(const lc_rtp_reorder_ops_t *ops, void *ctx);
void lc_rtp_reorder_free(lc_rtp_reorder_t *r);
/* One packet (payload after the RTP header) as it arrived at now_ms. */
void lc_rtp_reorder_in(lc_rtp_reorder_t *r, const uint8_t *payload, size_t len, uint16_t seq, uint32_t ts,
                       int marker, uint64_t now_ms);
/* A new source (SSRC): forget what waits, start at its next packet. */
void lc_rtp_reorder_reset(lc_rtp_reorder_t *r);
/* Timers: repeat a NACK, give a gap up. Call every few tens of ms. */
void lc_rtp_reorder_tick(lc_rtp_reorder_t *r, uint64_t now_ms);

typedef struct {
    uint32_t nacked;      /* sequence numbers NACKed */
    uint32_t recovered;   /* gaps filled by a retransmission */
    uint32_t given_up;    /* gaps given up */
    uint32_t restarts;    /* jumps that started over */
    uint32_t waiting;     /* packets waiting now */
} lc_rtp_reorder_stats_t;
lc_rtp_reorder_stats_t lc_rtp_reorder_stats(const lc_rtp_reorder_t *r);

/* RTX (RFC 4588 section 4): the original sequence number, then the
 * original payload. 0 with *osn and the inner payload, -1 for a payload
 * shorter than the OSN (padding-only probes). */
int lc_rtp_reorder_rtx(const uint8_t *payload, size_t len, uint16_t *osn, const uint8_t **inner, size_t *inner_len);

#endif
