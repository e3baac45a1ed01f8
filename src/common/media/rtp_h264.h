/*
 * rtp_h264.h: H.264 over RTP (RFC 6184, packetization-mode 1), I/O-free.
 *
 * Depacketizer: RTP payloads in (with seq, timestamp, marker), whole access
 * units out as AVCC (4-byte big-endian length before each NALU), the form
 * FLV and our rings carry. Packetizer: an AVCC access unit in, RTP payloads
 * out (single NAL unit, FU-A, STAP-A for SPS+PPS). Also the bridges to FLV
 * (tag body <-> AVCC NALUs) and the AVCDecoderConfigurationRecord both
 * ways, so a WebRTC publish plays over RTMP and the other way round.
 *
 * Ordering is the caller's: payloads must be pushed in sequence order (a
 * jitter buffer with NACK sits in front). Out-of-order input never breaks
 * anything here, it only shows up as loss (LC_RTP_H264_LOST) or as stale
 * packets that are ignored.
 *
 * Ownership: the depacketizer writes into a buffer the caller owns and
 * passes to init (its size is the largest access unit accepted); nothing
 * here allocates. Data handed to a callback is valid during the call only.
 */
#ifndef LC_COMMON_MEDIA_RTP_H264_H
#define LC_COMMON_MEDIA_RTP_H264_H

#include <stddef.h>
#include <stdint.h>

#define LC_RTP_H264_CLOCK 90000
#define LC_RTP_H264_MAX_AU (4u << 20)      /* a sensible depacketizer buffer size */
#define LC_RTP_H264_MAX_NALUS 1024         /* per access unit */
#define LC_RTP_H264_PS_MAX 512             /* largest SPS / PPS kept */
#define LC_RTP_H264_MTU_MAX 4096           /* largest payload the packetizer makes */

/* Return value of lc_rtp_h264_depack_push: the access unit being built
 * (and the rest of its packets) was dropped; ask the sender for a
 * keyframe (RTCP PLI). */
#define LC_RTP_H264_LOST 1

typedef struct {
    const uint8_t *data;     /* AVCC: [4-byte length][NALU] repeated */
    size_t len;
    uint32_t rtp_ts;
    unsigned nalus;
    int keyframe;            /* contains an IDR slice (NAL type 5) */
    int config_changed;      /* carried an SPS or PPS unlike the one kept before */
    int discont;             /* access units were dropped since the last one emitted */
} lc_rtp_h264_au_t;

typedef void (*lc_rtp_h264_au_fn)(void *ctx, const lc_rtp_h264_au_t *au);

/* Depacketizer state; fields are private, read SPS/PPS with the getters. */
typedef struct {
    uint8_t *buf;
    size_t cap, len;
    lc_rtp_h264_au_fn on_au;
    void *ctx;
    unsigned nalus;
    size_t fu_at;            /* offset of the length field of the FU-A being joined */
    int in_fu;
    uint8_t fu_type;
    int building;            /* an access unit with timestamp ts is in buf */
    uint32_t ts;
    int dropping;            /* discarding the rest of the access unit with drop_ts */
    uint32_t drop_ts;
    int have_seq;
    uint16_t last_seq;
    unsigned stale;          /* consecutive packets older than last_seq */
    int keyframe, config_changed, discont;
    uint8_t sps[LC_RTP_H264_PS_MAX], pps[LC_RTP_H264_PS_MAX];
    size_t sps_len, pps_len;
} lc_rtp_h264_depack_t;

/* buf/cap: where access units are built (cap is the largest accepted, e.g.
 * LC_RTP_H264_MAX_AU); on_au is called once per complete access unit. */
void lc_rtp_h264_depack_init(lc_rtp_h264_depack_t *d, uint8_t *buf, size_t cap,
                             lc_rtp_h264_au_fn on_au, void *ctx);
/* Forget the access unit being built and the sequence state (new SSRC);
 * the SPS/PPS seen so far are kept. */
void lc_rtp_h264_depack_reset(lc_rtp_h264_depack_t *d);
/* One RTP payload, in sequence order. An access unit is emitted on the
 * marker bit or, when a sender omits it, on the next timestamp. NAL units
 * of types 0 and 24..31 found inside aggregates or fragments are left out
 * (RFC 6184 5.2: receivers ignore them). Returns 0, or LC_RTP_H264_LOST
 * with *err saying why (sequence gap, FU-A without its start, malformed
 * payload, access unit too big). Duplicates and packets older than the
 * last one are ignored (0). */
int lc_rtp_h264_depack_push(lc_rtp_h264_depack_t *d, const uint8_t *payload, size_t len,
                            uint16_t seq, uint32_t rtp_ts, int marker, const char **err);
/* The latest SPS / PPS seen (NALU without length prefix); len 0 = none yet. */
const uint8_t *lc_rtp_h264_depack_sps(const lc_rtp_h264_depack_t *d, size_t *len);
const uint8_t *lc_rtp_h264_depack_pps(const lc_rtp_h264_depack_t *d, size_t *len);

typedef void (*lc_rtp_h264_emit_fn)(void *ctx, const uint8_t *payload, size_t len, int marker);

typedef struct {
    size_t mtu;              /* largest RTP payload, 3..LC_RTP_H264_MTU_MAX, e.g. 1200 */
    unsigned length_size;    /* AVCC NALU length field: 1, 2 or 4; 0 means 4 */
    /* When both are set, an access unit with an IDR but no SPS of its own
     * gets them first (one STAP-A when it fits), so a player can start at
     * any keyframe. NALUs without length prefix. */
    const uint8_t *sps, *pps;
    size_t sps_len, pps_len;
} lc_rtp_h264_pack_opts_t;

/* Packetize one AVCC access unit; marker is set on its last payload.
 * NALUs of types 0 and 24..31 (RTP's own header types, ignored by
 * decoders) are left out. The whole unit is checked before the first
 * emit, so on error nothing was sent. Returns the number of payloads
 * emitted, or -1 with *err. */
int lc_rtp_h264_packetize(const uint8_t *au, size_t len, const lc_rtp_h264_pack_opts_t *opts,
                          lc_rtp_h264_emit_fn emit, void *ctx, const char **err);

/* AVCDecoderConfigurationRecord (ISO 14496-15 5.2.4.1) with one SPS, one
 * PPS and 4-byte NALU lengths. Returns its size, or -1 with *err. */
int lc_rtp_h264_avcc_config(const uint8_t *sps, size_t sps_len, const uint8_t *pps, size_t pps_len,
                            uint8_t *out, size_t cap, const char **err);

typedef struct {
    const uint8_t *sps, *pps;    /* the first of each, pointing into the record */
    size_t sps_len, pps_len;
    unsigned length_size;        /* 1, 2 or 4 */
    uint8_t profile, compat, level;
} lc_rtp_h264_avcc_t;

/* 0, or -1 with *err. */
int lc_rtp_h264_parse_avcc_config(const uint8_t *rec, size_t len, lc_rtp_h264_avcc_t *out,
                                  const char **err);

typedef struct {
    const uint8_t *data;     /* AVCC NALUs, or the configuration record when config */
    size_t len;
    int32_t cts;             /* composition time offset, ms (RTP timestamp = dts + cts) */
    int keyframe;
    int config;
    int end_of_seq;
} lc_rtp_h264_flv_t;

/* An FLV/RTMP H.264 video tag body (legacy codec id 7 or Enhanced RTMP
 * avc1), pointing into body. 0, or -1 with *err (not H.264, command frame,
 * header too short). */
int lc_rtp_h264_from_flv(const uint8_t *body, size_t len, lc_rtp_h264_flv_t *out, const char **err);
/* An FLV AVC NALU tag body: 5-byte header, then the AVCC access unit as
 * given. Returns its size, or -1 with *err. */
int lc_rtp_h264_to_flv(const uint8_t *au, size_t len, int keyframe, int32_t cts,
                       uint8_t *out, size_t cap, const char **err);
/* An FLV AVC sequence header tag body built from SPS/PPS. Returns its size,
 * or -1 with *err. */
int lc_rtp_h264_to_flv_config(const uint8_t *sps, size_t sps_len, const uint8_t *pps, size_t pps_len,
                              uint8_t *out, size_t cap, const char **err);

#endif
