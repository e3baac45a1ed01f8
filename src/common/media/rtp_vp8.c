/*
 * rtp_vp8.c: VP8 RTP payload format (RFC 7741) to and from whole frames.
 *
 * Owns: the payload descriptor, the depacketizer (frame boundaries, loss
 * detection from sequence numbers and missing frame starts), the keyframe
 * header's dimensions and the packetizer. Does not own: reordering and
 * retransmission (the caller's jitter buffer and NACK), RTP headers,
 * deciding to send a PLI, or anything inside the VP8 bitstream beyond the
 * keyframe header.
 *
 * Invariant: a frame is handed out only when every packet of it arrived
 * with consecutive sequence numbers starting at a packet with S=1 and
 * PID=0; anything else is dropped whole and reported, because a decoder
 * fed a partial frame corrupts every frame until the next keyframe.
 */
#include "common/media/rtp_vp8.h"

#include <limits.h>
#include <string.h>

/* This many packets in a row that look older than the last one mean the
 * sender restarted its sequence numbers rather than a burst of late ones. */
#define STALE_RESYNC 64

/* Packetizer input bound: keeps the payload count inside an int. */
#define PACK_MAX_FRAME (1u << 30)

static int fail(const char **err, const char *why)
{
    if (err != NULL)
        *err = why;
    return -1;
}

/*
 *  X|R|N|S|R| PID     X: extension byte follows
 *  I|L|T|K| RSV       (if X) I: PictureID, L: TL0PICIDX, T: TID, K: KEYIDX
 *  M| PictureID       (if I) M: 15-bit PictureID, one more byte
 *  TL0PICIDX          (if L)
 *  TID|Y| KEYIDX      (if T or K)
 */
int lc_rtp_vp8_parse_desc(const uint8_t *p, size_t len, lc_rtp_vp8_desc_t *out, const char **err)
{
    size_t pos = 1;

    out->start = out->partition = out->non_reference = 0;
    out->picture_id = out->tl0picidx = out->tid = out->keyidx = -1;
    out->size = 0;
    if (len < 1)
        return fail(err, "empty VP8 payload");
    out->start = (p[0] >> 4) & 1;
    out->non_reference = (p[0] >> 5) & 1;
    out->partition = p[0] & 0x07;
    if (p[0] & 0x80) {
        uint8_t x;

        if (len < 2)
            return fail(err, "VP8 descriptor extension truncated");
        x = p[pos++];
        if (x & 0x80) {
            if (pos >= len)
                return fail(err, "VP8 PictureID truncated");
            if (p[pos] & 0x80) {
                if (pos + 1 >= len)
                    return fail(err, "VP8 PictureID truncated");
                out->picture_id = (p[pos] & 0x7f) << 8 | p[pos + 1];
                pos += 2;
            } else {
                out->picture_id = p[pos++];
            }
        }
        if (x & 0x40) {
            if (pos >= len)
                return fail(err, "VP8 TL0PICIDX truncated");
            out->tl0picidx = p[pos++];
        }
        if (x & 0x30) {
            if (pos >= len)
                return fail(err, "VP8 TID/KEYIDX truncated");
            if (x & 0x20)
                out->tid = p[pos] >> 6;
            if (x & 0x10)
                out->keyidx = p[pos] & 0x1f;
            pos++;
        }
    }
    out->size = pos;
    return 0;
}

int lc_rtp_vp8_keyframe_dims(const uint8_t *f, size_t len, int *width, int *height, const char **err)
{
    *width = *height = 0;
    if (len < 10)
        return fail(err, "VP8 keyframe header truncated");
    if (f[0] & 1)
        return fail(err, "not a VP8 keyframe");
    if (f[3] != 0x9d || f[4] != 0x01 || f[5] != 0x2a)
        return fail(err, "VP8 keyframe start code missing");
    *width = (f[6] | f[7] << 8) & 0x3fff;
    *height = (f[8] | f[9] << 8) & 0x3fff;
    return 0;
}

/* ---- depacketizer ---------------------------------------------------- */

void lc_rtp_vp8_depack_init(lc_rtp_vp8_depack_t *d, uint8_t *buf, size_t cap,
                            lc_rtp_vp8_frame_fn on_frame, void *ctx)
{
    memset(d, 0, sizeof *d);
    d->buf = buf;
    d->cap = cap;
    d->on_frame = on_frame;
    d->ctx = ctx;
}

static void frame_clear(lc_rtp_vp8_depack_t *d)
{
    d->len = 0;
    d->building = 0;
}

void lc_rtp_vp8_depack_reset(lc_rtp_vp8_depack_t *d)
{
    frame_clear(d);
    d->dropping = 0;
    d->have_seq = 0;
    d->stale = 0;
    d->discont = 1;
}

static void emit(lc_rtp_vp8_depack_t *d)
{
    if (d->building && d->len > 0) {
        lc_rtp_vp8_frame_t f = {
            .data = d->buf, .len = d->len, .rtp_ts = d->ts, .keyframe = !(d->buf[0] & 1),
            .picture_id = d->picture_id, .discont = d->discont,
        };

        if (f.keyframe)
            (void)lc_rtp_vp8_keyframe_dims(d->buf, d->len, &f.width, &f.height, NULL);
        d->discont = 0;
        d->on_frame(d->ctx, &f);
    }
    frame_clear(d);
}

/* Drop what is being built and the rest of the frame with timestamp ts. */
static int lose(lc_rtp_vp8_depack_t *d, uint32_t ts, int marker, const char **err, const char *why)
{
    frame_clear(d);
    d->discont = 1;
    d->dropping = !marker;
    d->drop_ts = ts;
    if (err != NULL)
        *err = why;
    return LC_RTP_VP8_LOST;
}

int lc_rtp_vp8_depack_push(lc_rtp_vp8_depack_t *d, const uint8_t *payload, size_t len,
                           uint16_t seq, uint32_t rtp_ts, int marker, const char **err)
{
    lc_rtp_vp8_desc_t desc;
    const char *why = NULL;
    int begins;

    marker = marker != 0;
    if (d->have_seq) {
        uint16_t delta = (uint16_t)(seq - d->last_seq);

        if (delta == 0 || delta >= 0x8000) {
            if (++d->stale < STALE_RESYNC)
                return 0;       /* duplicate or late: already counted as lost */
            why = "sequence numbers restarted";
        } else if (delta != 1) {
            why = "sequence gap";
        }
    }
    d->stale = 0;
    d->have_seq = 1;
    d->last_seq = seq;
    if (why != NULL)
        return lose(d, rtp_ts, marker, err, why);

    if (lc_rtp_vp8_parse_desc(payload, len, &desc, &why) < 0)
        return lose(d, rtp_ts, marker, err, why);
    begins = desc.start && desc.partition == 0;
    if (d->dropping) {
        /* a frame start ends the dropping even with the same timestamp */
        if (rtp_ts == d->drop_ts && !begins) {
            d->dropping = !marker;
            return 0;
        }
        d->dropping = 0;
    }
    /* a frame start or a new timestamp ends a frame whose marker the
     * sender left off: nothing was lost, so it is complete */
    if (d->building && (begins || rtp_ts != d->ts))
        emit(d);
    if (!d->building) {
        if (!begins)
            return lose(d, rtp_ts, marker, err, "VP8 packet without its frame start");
        if (len == desc.size)
            return lose(d, rtp_ts, marker, err, "VP8 frame start without payload");
        d->building = 1;
        d->ts = rtp_ts;
        d->picture_id = desc.picture_id;
    }
    if (d->cap - d->len < len - desc.size)
        return lose(d, rtp_ts, marker, err, "VP8 frame too big");
    if (len > desc.size)
        memcpy(d->buf + d->len, payload + desc.size, len - desc.size);
    d->len += len - desc.size;
    if (marker)
        emit(d);
    return 0;
}

/* ---- packetizer ------------------------------------------------------ */

int lc_rtp_vp8_packetize(const uint8_t *frame, size_t len, uint16_t picture_id, size_t mtu,
                         lc_rtp_vp8_emit_fn emit_fn, void *ctx, const char **err)
{
    uint8_t buf[LC_RTP_VP8_MTU_MAX];
    size_t chunk;
    int count = 0;

    if (mtu <= LC_RTP_VP8_DESC_SIZE || mtu > LC_RTP_VP8_MTU_MAX)
        return fail(err, "payload size out of range");
    chunk = mtu - LC_RTP_VP8_DESC_SIZE;
    if (len == 0)
        return fail(err, "empty VP8 frame");
    if (len > PACK_MAX_FRAME)
        return fail(err, "VP8 frame too big");
    picture_id &= 0x7fff;
    buf[1] = 0x80;                                  /* I: PictureID present */
    buf[2] = (uint8_t)(0x80 | picture_id >> 8);     /* M: 15 bits */
    buf[3] = (uint8_t)picture_id;
    while (len > 0) {
        size_t k = len < chunk ? len : chunk;

        buf[0] = (uint8_t)(0x80 | (count == 0 ? 0x10 : 0));    /* X, S on the first, PID 0 */
        memcpy(buf + LC_RTP_VP8_DESC_SIZE, frame, k);
        frame += k, len -= k;
        emit_fn(ctx, buf, k + LC_RTP_VP8_DESC_SIZE, len == 0);
        count++;
    }
    return count;
}
