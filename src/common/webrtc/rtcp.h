/*
 * rtcp.h: RTCP packets (RFC 3550, 4585, 5104, 5506, REMB, transport-wide
 * congestion control feedback), I/O-free.
 *
 * A compound packet is walked with lc_rtcp_iter_next(), which checks every
 * header (version 2, length inside the buffer, padding) and hands out one
 * packet at a time; the per-type parsers then read that packet's body. A
 * reduced-size packet (RFC 5506: one feedback message, no SR/RR first)
 * iterates like any other, so the first packet's type is not checked.
 * Builders write one packet into a caller buffer and return its length, or
 * 0 if the buffer is too small or the input cannot be encoded; a compound
 * packet is built by concatenating them.
 *
 * Nothing here logs or allocates; parse errors are -1 with a static reason
 * string (err may be NULL). Pointers in parsed structs point into the
 * caller's buffer. Lists whose size only the packet bounds (NACK seqs, FIR
 * entries, TWCC statuses) are written into caller arrays snprintf-style:
 * the return value is the full count, and only the first `cap` are stored.
 */
#ifndef LC_COMMON_WEBRTC_RTCP_H
#define LC_COMMON_WEBRTC_RTCP_H

#include <stddef.h>
#include <stdint.h>

enum {
    LC_RTCP_SR = 200, LC_RTCP_RR = 201, LC_RTCP_SDES = 202, LC_RTCP_BYE = 203,
    LC_RTCP_APP = 204, LC_RTCP_RTPFB = 205, LC_RTCP_PSFB = 206
};

/* Feedback message types (the FMT field of RTPFB / PSFB). */
enum {
    LC_RTCP_FMT_NACK = 1, LC_RTCP_FMT_TWCC = 15,                   /* RTPFB */
    LC_RTCP_FMT_PLI = 1, LC_RTCP_FMT_FIR = 4, LC_RTCP_FMT_AFB = 15 /* PSFB; REMB is an AFB */
};

#define LC_RTCP_HEADER_LEN 4
#define LC_RTCP_MAX_RB 31         /* 5-bit report count */
#define LC_RTCP_SDES_CNAME 1

/* One packet of a compound packet. */
typedef struct {
    int padding;
    uint8_t count;            /* RC / SC / FMT: low 5 bits of the first byte */
    uint8_t pt;
    const uint8_t *pkt;       /* the packet, header included */
    size_t len;               /* (length field + 1) * 4 */
    const uint8_t *body;      /* after the 4-byte header */
    size_t body_len;          /* excludes padding */
} lc_rtcp_hdr_t;

typedef struct {
    const uint8_t *buf;
    size_t len;
    size_t off;
} lc_rtcp_iter_t;

void lc_rtcp_iter_init(lc_rtcp_iter_t *it, const uint8_t *buf, size_t len);

/* Next packet: 1 with *h set, 0 at the end, -1 with *err: shorter than a
 * header, version not 2, length past the buffer, padding count 0 or longer
 * than the body. Padding is accepted on any packet, not only the last.
 * After -1 the iterator stays at the bad packet. */
int lc_rtcp_iter_next(lc_rtcp_iter_t *it, lc_rtcp_hdr_t *h, const char **err);

/* Report block (RFC 3550 6.4.1). */
typedef struct {
    uint32_t ssrc;
    uint8_t fraction_lost;
    int32_t cumulative_lost;  /* 24-bit signed */
    uint32_t ext_highest_seq;
    uint32_t jitter;
    uint32_t lsr;
    uint32_t dlsr;
} lc_rtcp_rb_t;

typedef struct {
    uint32_t ssrc;
    uint64_t ntp;             /* NTP timestamp, 32.32 fixed point */
    uint32_t rtp_ts;
    uint32_t packet_count;
    uint32_t octet_count;
    uint8_t rc;
    lc_rtcp_rb_t rb[LC_RTCP_MAX_RB];
} lc_rtcp_sr_t;

typedef struct {
    uint32_t ssrc;
    uint8_t rc;
    lc_rtcp_rb_t rb[LC_RTCP_MAX_RB];
} lc_rtcp_rr_t;

/* SDES: every chunk's SSRC and CNAME (NULL if the chunk has none). */
typedef struct {
    uint8_t count;
    struct {
        uint32_t ssrc;
        const uint8_t *cname;
        uint8_t cname_len;
    } chunk[LC_RTCP_MAX_RB];
} lc_rtcp_sdes_t;

typedef struct {
    uint8_t count;
    uint32_t ssrc[LC_RTCP_MAX_RB];
    const uint8_t *reason;    /* NULL if none */
    uint8_t reason_len;
} lc_rtcp_bye_t;

/* Common header of RTPFB / PSFB messages (RFC 4585 6.1). */
typedef struct {
    uint32_t sender_ssrc;
    uint32_t media_ssrc;
    const uint8_t *fci;
    size_t fci_len;
} lc_rtcp_fb_t;

typedef struct {
    uint32_t ssrc;
    uint8_t seq_nr;
} lc_rtcp_fir_entry_t;

typedef struct {
    uint32_t sender_ssrc;
    uint64_t bitrate;         /* bits per second, mantissa << exp */
    uint8_t n_ssrc;
    uint32_t ssrc[255];
} lc_rtcp_remb_t;

/* Transport-wide CC feedback: the fixed FCI fields. */
typedef struct {
    lc_rtcp_fb_t fb;
    uint16_t base_seq;
    uint16_t status_count;
    int32_t reference_time;   /* 24-bit signed, multiples of 64 ms */
    uint8_t fb_count;
} lc_rtcp_twcc_t;

/* One packet's fate in a TWCC report. */
typedef struct {
    uint16_t seq;
    uint8_t status;           /* 0 not received, 1 small delta, 2 large or negative delta */
    int32_t delta;            /* receive delta in 250 us units; 0 when not received */
} lc_rtcp_twcc_status_t;

/* Per-type parsers of a packet from lc_rtcp_iter_next(): 0, or -1 with *err
 * (wrong type, body too short for what its header claims, malformed
 * content). Bytes after the last report block (profile extensions) are
 * ignored. */
int lc_rtcp_sr_parse(const lc_rtcp_hdr_t *h, lc_rtcp_sr_t *sr, const char **err);
int lc_rtcp_rr_parse(const lc_rtcp_hdr_t *h, lc_rtcp_rr_t *rr, const char **err);
int lc_rtcp_sdes_parse(const lc_rtcp_hdr_t *h, lc_rtcp_sdes_t *sdes, const char **err);
int lc_rtcp_bye_parse(const lc_rtcp_hdr_t *h, lc_rtcp_bye_t *bye, const char **err);

/* Any RTPFB or PSFB: the two SSRCs and the FCI. */
int lc_rtcp_fb_parse(const lc_rtcp_hdr_t *h, lc_rtcp_fb_t *fb, const char **err);

/* Generic NACK (205/1): the lost seqs, PID then each BLP bit in order, into
 * seqs[0..cap). Returns how many the packet lists (may exceed cap), or -1. */
int lc_rtcp_nack_parse(const lc_rtcp_hdr_t *h, lc_rtcp_fb_t *fb, uint16_t *seqs, size_t cap,
                       const char **err);

/* PLI (206/1). */
int lc_rtcp_pli_parse(const lc_rtcp_hdr_t *h, lc_rtcp_fb_t *fb, const char **err);

/* FIR (206/4): entries into e[0..cap); returns the entry count, or -1. */
int lc_rtcp_fir_parse(const lc_rtcp_hdr_t *h, lc_rtcp_fb_t *fb, lc_rtcp_fir_entry_t *e,
                      size_t cap, const char **err);

/* REMB (206/15 with "REMB"): -1 also for an AFB that is not REMB. */
int lc_rtcp_remb_parse(const lc_rtcp_hdr_t *h, lc_rtcp_remb_t *r, const char **err);

/* TWCC (205/15): the fixed fields only; chunks are not looked at. */
int lc_rtcp_twcc_parse(const lc_rtcp_hdr_t *h, lc_rtcp_twcc_t *t, const char **err);

/* Decode the status chunks and receive deltas of a parsed TWCC packet into
 * st[0..cap). Returns status_count, or -1 with *err if chunks or deltas run
 * past the FCI or a status is the reserved value 3. */
int lc_rtcp_twcc_decode(const lc_rtcp_twcc_t *t, lc_rtcp_twcc_status_t *st, size_t cap,
                        const char **err);

/* Builders: packet length, or 0 if cap is too small or the input does not
 * fit the format (rc > 31, n == 0 where a list is the message, n > 255...). */
size_t lc_rtcp_build_sr(uint8_t *out, size_t cap, const lc_rtcp_sr_t *sr);
size_t lc_rtcp_build_rr(uint8_t *out, size_t cap, const lc_rtcp_rr_t *rr);
size_t lc_rtcp_build_sdes_cname(uint8_t *out, size_t cap, uint32_t ssrc, const char *cname,
                                size_t cname_len);
size_t lc_rtcp_build_bye(uint8_t *out, size_t cap, const uint32_t *ssrcs, size_t n,
                         const char *reason, size_t reason_len);

/* Generic NACK for seqs[0..n): each seq joins the current FCI entry if it is
 * 1..16 after its PID (wrap-aware), else starts a new entry, so ascending
 * input (65534, 65535, 0, 1 included) packs tightest; any order is correct. */
size_t lc_rtcp_build_nack(uint8_t *out, size_t cap, uint32_t sender_ssrc, uint32_t media_ssrc,
                          const uint16_t *seqs, size_t n);
size_t lc_rtcp_build_pli(uint8_t *out, size_t cap, uint32_t sender_ssrc, uint32_t media_ssrc);
size_t lc_rtcp_build_fir(uint8_t *out, size_t cap, uint32_t sender_ssrc,
                         const lc_rtcp_fir_entry_t *e, size_t n);

/* REMB: bitrate is rounded down to an 18-bit mantissa and 6-bit exponent. */
size_t lc_rtcp_build_remb(uint8_t *out, size_t cap, uint32_t sender_ssrc, uint64_t bitrate,
                          const uint32_t *ssrcs, size_t n);

#endif
