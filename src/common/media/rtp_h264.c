/*
 * rtp_h264.c: H.264 RTP payload format (RFC 6184, packetization-mode 1)
 * to and from the AVCC access units that FLV, RTMP and our rings carry.
 *
 * Owns: the depacketizer (single NAL unit, STAP-A, FU-A; loss detection
 * from sequence numbers and broken fragmentation), the packetizer (single
 * NAL unit or FU-A, SPS+PPS as a STAP-A ahead of a keyframe), the
 * AVCDecoderConfigurationRecord both ways and the FLV tag body glue. Does
 * not own: reordering and retransmission (the caller's jitter buffer and
 * NACK), RTP headers, timestamp mapping, or deciding to send a PLI.
 *
 * Invariant: an access unit is handed out only when every packet of it
 * arrived with consecutive sequence numbers and every FU-A in it was
 * complete; anything else is dropped whole (never patched up), because a
 * decoder fed half a picture smears until the next keyframe anyway, and
 * the caller asks for that keyframe when we report LC_RTP_H264_LOST.
 */
#include "common/media/rtp_h264.h"

#include <limits.h>
#include <string.h>

#include "common/media/flv.h"

enum {
    NAL_IDR = 5, NAL_SPS = 7, NAL_PPS = 8, NAL_AUD = 9,
    NAL_STAP_A = 24, NAL_STAP_B = 25, NAL_MTAP16 = 26, NAL_MTAP24 = 27, NAL_FU_A = 28, NAL_FU_B = 29,
};

/* This many packets in a row that look older than the last one mean the
 * sender restarted its sequence numbers rather than a burst of late
 * packets: resynchronise instead of ignoring it for 32768 packets. */
#define STALE_RESYNC 64

/* Packetizer input bound: keeps the payload count inside an int. */
#define PACK_MAX_AU (1u << 30)

static int fail(const char **err, const char *why)
{
    if (err != NULL)
        *err = why;
    return -1;
}

static void wr_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static uint32_t rd_be(const uint8_t *p, unsigned n)
{
    uint32_t v = 0;

    for (unsigned i = 0; i < n; i++)
        v = v << 8 | p[i];
    return v;
}

/* ---- depacketizer ---------------------------------------------------- */

void lc_rtp_h264_depack_init(lc_rtp_h264_depack_t *d, uint8_t *buf, size_t cap,
                             lc_rtp_h264_au_fn on_au, void *ctx)
{
    memset(d, 0, sizeof *d);
    d->buf = buf;
    /* NALU lengths are written as 32 bits */
    d->cap = cap > UINT32_MAX ? UINT32_MAX : cap;
    d->on_au = on_au;
    d->ctx = ctx;
}

static void au_clear(lc_rtp_h264_depack_t *d)
{
    d->len = 0;
    d->nalus = 0;
    d->in_fu = 0;
    d->building = 0;
    d->keyframe = 0;
    d->config_changed = 0;
}

void lc_rtp_h264_depack_reset(lc_rtp_h264_depack_t *d)
{
    au_clear(d);
    d->dropping = 0;
    d->have_seq = 0;
    d->stale = 0;
    d->discont = 1;
}

const uint8_t *lc_rtp_h264_depack_sps(const lc_rtp_h264_depack_t *d, size_t *len)
{
    *len = d->sps_len;
    return d->sps;
}

const uint8_t *lc_rtp_h264_depack_pps(const lc_rtp_h264_depack_t *d, size_t *len)
{
    *len = d->pps_len;
    return d->pps;
}

/* A parameter set bigger than we keep is left alone: it still travels
 * in-band inside the access unit, only the out-of-band copy is missing. */
static void keep_ps(uint8_t *dst, size_t *dst_len, const uint8_t *nal, size_t n, int *changed)
{
    if (n > LC_RTP_H264_PS_MAX || (n == *dst_len && memcmp(dst, nal, n) == 0))
        return;
    memcpy(dst, nal, n);
    *dst_len = n;
    *changed = 1;
}

static const char *nal_open(lc_rtp_h264_depack_t *d, size_t *at)
{
    if (d->nalus >= LC_RTP_H264_MAX_NALUS)
        return "too many NAL units in one access unit";
    if (d->cap - d->len < 4)
        return "access unit too big";
    *at = d->len;
    d->len += 4;
    d->nalus++;
    return NULL;
}

static const char *put(lc_rtp_h264_depack_t *d, const uint8_t *p, size_t n)
{
    if (d->cap - d->len < n)
        return "access unit too big";
    if (n > 0)
        memcpy(d->buf + d->len, p, n);
    d->len += n;
    return NULL;
}

/* The NALU opened at `at` is complete: write its length, note what it is.
 * Types 0 and 24..31 are not H.264 NAL units (RTP uses them for its own
 * headers): decoders ignore them and no packetizer could carry them again
 * unambiguously, so they are taken back out, as RFC 6184 5.2 allows. */
static void nal_close(lc_rtp_h264_depack_t *d, size_t at)
{
    const uint8_t *nal = d->buf + at + 4;
    size_t n = d->len - at - 4;
    int type = nal[0] & 0x1f;

    if (type == 0 || type >= NAL_STAP_A) {
        d->len = at;
        d->nalus--;
        return;
    }
    wr_be32(d->buf + at, (uint32_t)n);
    switch (type) {
    case NAL_IDR: d->keyframe = 1; break;
    case NAL_SPS: keep_ps(d->sps, &d->sps_len, nal, n, &d->config_changed); break;
    case NAL_PPS: keep_ps(d->pps, &d->pps_len, nal, n, &d->config_changed); break;
    default: break;
    }
}

static const char *whole_nal(lc_rtp_h264_depack_t *d, const uint8_t *p, size_t n)
{
    size_t at;
    const char *why = nal_open(d, &at);

    if (why == NULL)
        why = put(d, p, n);
    if (why == NULL)
        nal_close(d, at);
    return why;
}

static const char *stap_a(lc_rtp_h264_depack_t *d, const uint8_t *p, size_t n)
{
    const char *why;

    p++, n--;
    if (n == 0)
        return "empty STAP-A";
    while (n > 0) {
        size_t size;

        if (n < 2)
            return "STAP-A unit size truncated";
        size = (size_t)p[0] << 8 | p[1];
        p += 2, n -= 2;
        if (size == 0 || size > n)
            return "STAP-A unit overruns the payload";
        if ((why = whole_nal(d, p, size)) != NULL)
            return why;
        p += size, n -= size;
    }
    return NULL;
}

/* FU indicator: F|NRI of the original NALU, type 28; FU header: S|E|R|type.
 * The original NALU header is F|NRI from the one and type from the other. */
static const char *fu_a(lc_rtp_h264_depack_t *d, const uint8_t *p, size_t n)
{
    const char *why;
    uint8_t type;

    if (n < 2)
        return "FU-A header truncated";
    type = p[1] & 0x1f;
    if (p[1] & 0x80) {
        uint8_t hdr = (uint8_t)((p[0] & 0xe0) | type);

        if (d->in_fu)
            return "FU-A start inside another FU-A";
        if ((why = nal_open(d, &d->fu_at)) != NULL || (why = put(d, &hdr, 1)) != NULL)
            return why;
        d->in_fu = 1;
        d->fu_type = type;
    } else {
        if (!d->in_fu)
            return "FU-A without its start";
        if (type != d->fu_type)
            return "FU-A type changed within one NAL unit";
    }
    if ((why = put(d, p + 2, n - 2)) != NULL)
        return why;
    if (p[1] & 0x40) {
        nal_close(d, d->fu_at);
        d->in_fu = 0;
    }
    return NULL;
}

static const char *depack(lc_rtp_h264_depack_t *d, const uint8_t *p, size_t n)
{
    int type;

    if (n < 1)
        return "empty payload";
    type = p[0] & 0x1f;
    if (d->in_fu && type != NAL_FU_A)
        return "FU-A interrupted by another payload";
    switch (type) {
    case NAL_STAP_A: return stap_a(d, p, n);
    case NAL_FU_A: return fu_a(d, p, n);
    case NAL_STAP_B: case NAL_MTAP16: case NAL_MTAP24: case NAL_FU_B:
        return "interleaved-mode payload (STAP-B, MTAP, FU-B) in packetization-mode 1";
    case 0: case 30: case 31:
        return NULL;    /* undefined types: ignored, as RFC 6184 section 5.2 asks */
    default:
        return whole_nal(d, p, n);
    }
}

static void emit(lc_rtp_h264_depack_t *d)
{
    if (d->nalus > 0) {
        lc_rtp_h264_au_t au = {
            .data = d->buf, .len = d->len, .rtp_ts = d->ts, .nalus = d->nalus,
            .keyframe = d->keyframe, .config_changed = d->config_changed, .discont = d->discont,
        };

        d->discont = 0;
        d->on_au(d->ctx, &au);
    }
    au_clear(d);
}

/* Drop what is being built and the rest of the access unit with timestamp
 * ts: a packet of it is missing or broken, so it cannot be complete. */
static int lose(lc_rtp_h264_depack_t *d, uint32_t ts, int marker, const char **err, const char *why)
{
    au_clear(d);
    d->discont = 1;
    d->dropping = !marker;
    d->drop_ts = ts;
    if (err != NULL)
        *err = why;
    return LC_RTP_H264_LOST;
}

int lc_rtp_h264_depack_push(lc_rtp_h264_depack_t *d, const uint8_t *payload, size_t len,
                            uint16_t seq, uint32_t rtp_ts, int marker, const char **err)
{
    const char *lost = NULL, *why;

    marker = marker != 0;
    if (d->have_seq) {
        uint16_t delta = (uint16_t)(seq - d->last_seq);

        if (delta == 0 || delta >= 0x8000) {
            if (++d->stale < STALE_RESYNC)
                return 0;       /* duplicate or late: already counted as lost */
            lost = "sequence numbers restarted";
        } else if (delta != 1) {
            lost = "sequence gap";
        }
    }
    d->stale = 0;
    d->have_seq = 1;
    d->last_seq = seq;
    if (lost != NULL)
        return lose(d, rtp_ts, marker, err, lost);

    if (d->dropping) {
        if (rtp_ts == d->drop_ts) {
            d->dropping = !marker;
            return 0;
        }
        d->dropping = 0;
    }
    /* A new timestamp ends the access unit of a sender that left the
     * marker off; an FU-A still open then was cut short by the sender. */
    if (d->building && rtp_ts != d->ts) {
        if (d->in_fu) {
            au_clear(d);
            d->discont = 1;
            lost = "FU-A cut short by the next access unit";
        } else {
            emit(d);
        }
    }
    d->building = 1;
    d->ts = rtp_ts;
    if ((why = depack(d, payload, len)) != NULL)
        return lose(d, rtp_ts, marker, err, why);
    if (marker) {
        if (d->in_fu)
            return lose(d, rtp_ts, 1, err, "marker bit inside a FU-A");
        emit(d);
    }
    if (lost != NULL) {
        if (err != NULL)
            *err = lost;
        return LC_RTP_H264_LOST;
    }
    return 0;
}

/* ---- packetizer ------------------------------------------------------ */

/* The next length-prefixed NALU at *pos: 1 and (nal, n), 0 at the end, -1
 * when a length field or a NALU overruns the unit or a NALU is empty. */
static int next_nal(const uint8_t *au, size_t len, unsigned ls, size_t *pos,
                    const uint8_t **nal, size_t *n)
{
    size_t left = len - *pos;
    uint32_t size;

    if (left == 0)
        return 0;
    if (left < ls)
        return -1;
    size = rd_be(au + *pos, ls);
    if (size == 0 || size > left - ls)
        return -1;
    *nal = au + *pos + ls;
    *n = size;
    *pos += ls + size;
    return 1;
}

/* Types 0 and 24..31 would read as RTP aggregation or fragmentation
 * headers at the receiver: such NALUs (which decoders ignore) are left
 * out rather than sent ambiguously. */
static int carried(const uint8_t *nal)
{
    int type = nal[0] & 0x1f;

    return type != 0 && type < NAL_STAP_A;
}

/* One NALU as a single NAL unit packet when it fits, else as FU-A. */
static int send_nal(const uint8_t *nal, size_t n, size_t mtu, int marker,
                    lc_rtp_h264_emit_fn emit_fn, void *ctx)
{
    uint8_t buf[LC_RTP_H264_MTU_MAX];
    const uint8_t *p = nal + 1;
    size_t left = n - 1;
    int count = 0;

    if (n <= mtu) {
        emit_fn(ctx, nal, n, marker);
        return 1;
    }
    buf[0] = (uint8_t)((nal[0] & 0xe0) | NAL_FU_A);
    while (left > 0) {
        size_t k = left < mtu - 2 ? left : mtu - 2;

        buf[1] = (uint8_t)((count == 0 ? 0x80 : 0) | (k == left ? 0x40 : 0) | (nal[0] & 0x1f));
        memcpy(buf + 2, p, k);
        p += k, left -= k;
        emit_fn(ctx, buf, k + 2, marker && left == 0);
        count++;
    }
    return count;
}

/* SPS and PPS ahead of a keyframe: one STAP-A whose NRI is the larger of
 * theirs (RFC 6184 5.7.1), or two packets when that would not fit. */
static int send_ps(const lc_rtp_h264_pack_opts_t *o, lc_rtp_h264_emit_fn emit_fn, void *ctx)
{
    uint8_t buf[LC_RTP_H264_MTU_MAX];
    size_t need = 1 + 2 + o->sps_len + 2 + o->pps_len;
    uint8_t nri;

    if (need > o->mtu)
        return send_nal(o->sps, o->sps_len, o->mtu, 0, emit_fn, ctx) +
               send_nal(o->pps, o->pps_len, o->mtu, 0, emit_fn, ctx);
    nri = (o->sps[0] & 0x60) > (o->pps[0] & 0x60) ? o->sps[0] & 0x60 : o->pps[0] & 0x60;
    buf[0] = (uint8_t)(nri | NAL_STAP_A);
    buf[1] = (uint8_t)(o->sps_len >> 8);
    buf[2] = (uint8_t)o->sps_len;
    memcpy(buf + 3, o->sps, o->sps_len);
    buf[3 + o->sps_len] = (uint8_t)(o->pps_len >> 8);
    buf[4 + o->sps_len] = (uint8_t)o->pps_len;
    memcpy(buf + 5 + o->sps_len, o->pps, o->pps_len);
    emit_fn(ctx, buf, need, 0);
    return 1;
}

int lc_rtp_h264_packetize(const uint8_t *au, size_t len, const lc_rtp_h264_pack_opts_t *opts,
                          lc_rtp_h264_emit_fn emit_fn, void *ctx, const char **err)
{
    unsigned ls = opts->length_size ? opts->length_size : 4;
    const uint8_t *nal;
    size_t pos = 0, n;
    unsigned count = 0, i = 0;
    int rc, idr = 0, sps = 0, ps, sent = 0;

    if (ls != 1 && ls != 2 && ls != 4)
        return fail(err, "NALU length size must be 1, 2 or 4");
    if (opts->mtu < 3 || opts->mtu > LC_RTP_H264_MTU_MAX)
        return fail(err, "payload size out of range");
    if (len > PACK_MAX_AU)
        return fail(err, "access unit too big");
    /* check the whole unit first so that an error never leaves half of it sent */
    while ((rc = next_nal(au, len, ls, &pos, &nal, &n)) > 0) {
        if (!carried(nal))
            continue;
        count++;
        idr |= (nal[0] & 0x1f) == NAL_IDR;
        sps |= (nal[0] & 0x1f) == NAL_SPS;
    }
    if (rc < 0)
        return fail(err, "NALU length overruns the access unit");
    if (count == 0)
        return fail(err, "no NAL unit RTP can carry in the access unit");
    ps = idr && !sps && opts->sps != NULL && opts->pps != NULL && opts->sps_len > 0 && opts->pps_len > 0;

    pos = 0;
    while (next_nal(au, len, ls, &pos, &nal, &n) > 0) {
        if (!carried(nal))
            continue;
        /* parameter sets go first, after an access unit delimiter if any
         * (H.264 7.4.1.2.3 wants the delimiter first) */
        if (ps && !(i == 0 && (nal[0] & 0x1f) == NAL_AUD)) {
            sent += send_ps(opts, emit_fn, ctx);
            ps = 0;
        }
        sent += send_nal(nal, n, opts->mtu, i == count - 1, emit_fn, ctx);
        i++;
    }
    return sent;
}

/* ---- AVCDecoderConfigurationRecord ------------------------------------ */

/* We write no High-profile extension (chroma_format, bit depths, SPS
 * extensions): FFmpeg, browsers and Flash players read the record
 * without it, and filling it in needs a full SPS parse. */
int lc_rtp_h264_avcc_config(const uint8_t *sps, size_t sps_len, const uint8_t *pps, size_t pps_len,
                            uint8_t *out, size_t cap, const char **err)
{
    size_t need = 11 + sps_len + pps_len;
    uint8_t *p = out;

    if (sps_len < 4 || (sps[0] & 0x1f) != NAL_SPS)
        return fail(err, "not an SPS");
    if (pps_len < 1 || (pps[0] & 0x1f) != NAL_PPS)
        return fail(err, "not a PPS");
    if (sps_len > 0xffff || pps_len > 0xffff)
        return fail(err, "parameter set too big for the record");
    if (need > cap)
        return fail(err, "buffer too small for the configuration record");
    *p++ = 1;               /* configurationVersion */
    *p++ = sps[1];          /* AVCProfileIndication */
    *p++ = sps[2];          /* profile_compatibility */
    *p++ = sps[3];          /* AVCLevelIndication */
    *p++ = 0xfc | 3;        /* reserved, lengthSizeMinusOne = 3 */
    *p++ = 0xe0 | 1;        /* reserved, numOfSequenceParameterSets = 1 */
    *p++ = (uint8_t)(sps_len >> 8);
    *p++ = (uint8_t)sps_len;
    memcpy(p, sps, sps_len);
    p += sps_len;
    *p++ = 1;               /* numOfPictureParameterSets */
    *p++ = (uint8_t)(pps_len >> 8);
    *p++ = (uint8_t)pps_len;
    memcpy(p, pps, pps_len);
    return (int)need;
}

/* n parameter sets, each a 16-bit length then the NALU; the first is
 * returned, the others skipped. */
static const char *ps_list(const uint8_t *rec, size_t len, size_t *pos, unsigned n,
                           const uint8_t **first, size_t *first_len)
{
    for (unsigned i = 0; i < n; i++) {
        size_t size;

        if (len - *pos < 2)
            return "configuration record truncated";
        size = (size_t)rec[*pos] << 8 | rec[*pos + 1];
        *pos += 2;
        if (size == 0 || size > len - *pos)
            return "parameter set overruns the configuration record";
        if (i == 0) {
            *first = rec + *pos;
            *first_len = size;
        }
        *pos += size;
    }
    return NULL;
}

int lc_rtp_h264_parse_avcc_config(const uint8_t *rec, size_t len, lc_rtp_h264_avcc_t *out,
                                  const char **err)
{
    size_t pos = 6;
    unsigned nsps, npps;
    const char *why;

    memset(out, 0, sizeof *out);
    if (len < 7)
        return fail(err, "configuration record too short");
    if (rec[0] != 1)
        return fail(err, "unknown configurationVersion");
    out->profile = rec[1];
    out->compat = rec[2];
    out->level = rec[3];
    out->length_size = (rec[4] & 3) + 1u;
    if (out->length_size == 3)
        return fail(err, "NALU length size 3 is not allowed");
    nsps = rec[5] & 0x1f;
    if (nsps == 0)
        return fail(err, "configuration record without SPS");
    if ((why = ps_list(rec, len, &pos, nsps, &out->sps, &out->sps_len)) != NULL)
        return fail(err, why);
    if (pos >= len)
        return fail(err, "configuration record truncated");
    npps = rec[pos++];
    if (npps == 0)
        return fail(err, "configuration record without PPS");
    if ((why = ps_list(rec, len, &pos, npps, &out->pps, &out->pps_len)) != NULL)
        return fail(err, why);
    return 0;   /* a High-profile extension may follow: nothing we need */
}

/* ---- FLV glue --------------------------------------------------------- */

int lc_rtp_h264_from_flv(const uint8_t *body, size_t len, lc_rtp_h264_flv_t *out, const char **err)
{
    lc_flv_info_t info;
    size_t hdr = 5;

    memset(out, 0, sizeof *out);
    if (lc_flv_video_info(body, len, &info, err) < 0)
        return -1;
    if (info.codec != LC_CODEC_H264)
        return fail(err, "not an H.264 video body");
    if (((body[0] >> 4) & 0x07) == 5)
        return fail(err, "video command frame carries no picture");
    /* Enhanced RTMP: CodedFrames (1) has a composition time after the
     * FourCC, CodedFramesX (3) has none; the legacy header is 5 bytes. */
    if ((body[0] & 0x80) && (body[0] & 0x0f) == 1)
        hdr = 8;
    if (len < hdr)
        return fail(err, "AVC video header too short");
    out->data = body + hdr;
    out->len = len - hdr;
    out->cts = info.cts;
    out->keyframe = info.keyframe;
    out->config = info.config;
    out->end_of_seq = info.end_of_seq;
    return 0;
}

static int flv_header(uint8_t *out, int keyframe, int pkt, int32_t cts)
{
    uint32_t v = (uint32_t)cts & 0xffffff;

    out[0] = keyframe ? 0x17 : 0x27;
    out[1] = (uint8_t)pkt;
    out[2] = (uint8_t)(v >> 16);
    out[3] = (uint8_t)(v >> 8);
    out[4] = (uint8_t)v;
    return 5;
}

int lc_rtp_h264_to_flv(const uint8_t *au, size_t len, int keyframe, int32_t cts,
                       uint8_t *out, size_t cap, const char **err)
{
    if (cts < -0x800000 || cts > 0x7fffff)
        return fail(err, "composition time out of the 24-bit range");
    if (len > (size_t)INT_MAX - 5)
        return fail(err, "access unit too big");
    if (cap < 5 || len > cap - 5)
        return fail(err, "buffer too small for the video body");
    flv_header(out, keyframe, 1, cts);
    if (len > 0)
        memcpy(out + 5, au, len);
    return (int)len + 5;
}

int lc_rtp_h264_to_flv_config(const uint8_t *sps, size_t sps_len, const uint8_t *pps, size_t pps_len,
                              uint8_t *out, size_t cap, const char **err)
{
    int n;

    if (cap < 5)
        return fail(err, "buffer too small for the video body");
    n = lc_rtp_h264_avcc_config(sps, sps_len, pps, pps_len, out + 5, cap - 5, err);
    if (n < 0)
        return -1;
    flv_header(out, 1, 0, 0);
    return n + 5;
}
