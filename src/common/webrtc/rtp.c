/*
 * rtp.c: RTP header parsing and writing, RFC 8285 header extensions, the
 * in-place rewrites an SFU does on forward, sequence arithmetic and the
 * RFC 3550 receive statistics.
 *
 * Owns: "is this a well-formed RTP packet" and where its parts are. Does not
 * own: SRTP (packets reach here decrypted), what a payload or an extension
 * means (packetizers and the bandwidth estimator know), or which extension
 * id was negotiated (SDP).
 *
 * Invariant: every read is bounds-checked against the length given and no
 * function keeps state between calls except through the caller's
 * lc_rtp_stats_t, so any byte string is safe input.
 */
#include "common/webrtc/rtp.h"

#include <string.h>

#define RTP_SEQ_MOD (1u << 16)
#define MAX_DROPOUT 3000   /* RFC 3550 A.1 values */
#define MAX_MISORDER 100

static int rtp_fail(const char **err, const char *why)
{
    if (err != NULL)
        *err = why;
    return -1;
}

static uint16_t rd16(const uint8_t *p)
{
    return (uint16_t)((p[0] << 8) | p[1]);
}

static uint32_t rd32(const uint8_t *p)
{
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

static void wr16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static void wr32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

int lc_rtp_is_rtcp(const uint8_t *b, size_t len)
{
    return len >= 2 && (b[0] >> 6) == 2 && b[1] >= 192 && b[1] <= 223;
}

int lc_rtp_parse(const uint8_t *b, size_t len, lc_rtp_header_t *h, const char **err)
{
    size_t off;

    memset(h, 0, sizeof *h);
    if (len < LC_RTP_HEADER_MIN)
        return rtp_fail(err, "RTP packet shorter than 12 bytes");
    if ((b[0] >> 6) != 2)
        return rtp_fail(err, "RTP version is not 2");
    h->padding = (b[0] >> 5) & 1;
    h->extension = (b[0] >> 4) & 1;
    h->csrc_count = b[0] & 0x0f;
    h->marker = b[1] >> 7;
    h->pt = b[1] & 0x7f;
    h->seq = rd16(b + 2);
    h->timestamp = rd32(b + 4);
    h->ssrc = rd32(b + 8);
    off = LC_RTP_HEADER_MIN;
    if (len - off < 4 * (size_t)h->csrc_count)
        return rtp_fail(err, "RTP CSRC list past the end");
    for (unsigned i = 0; i < h->csrc_count; i++, off += 4)
        h->csrc[i] = rd32(b + off);
    if (h->extension) {
        size_t ext_len;

        if (len - off < 4)
            return rtp_fail(err, "RTP extension header past the end");
        h->ext_profile = rd16(b + off);
        ext_len = 4 * (size_t)rd16(b + off + 2);
        off += 4;
        if (len - off < ext_len)
            return rtp_fail(err, "RTP extension block past the end");
        h->ext = b + off;
        h->ext_len = ext_len;
        off += ext_len;
    }
    h->header_len = off;
    h->payload = b + off;
    h->payload_len = len - off;
    if (h->padding) {
        /* The count includes itself, so 0 cannot be right; it may cover the
         * whole payload (RFC 3550 5.1 allows padding-only packets, which
         * bandwidth probes send). */
        size_t pad = b[len - 1];

        if (pad == 0)
            return rtp_fail(err, "RTP padding count is 0");
        if (pad > h->payload_len)
            return rtp_fail(err, "RTP padding longer than the payload");
        h->padding_len = pad;
        h->payload_len -= pad;
    }
    return 0;
}

int lc_rtp_ext_form(const lc_rtp_header_t *h)
{
    if (!h->extension || h->ext == NULL)
        return 0;
    if (h->ext_profile == LC_RTP_EXT_PROFILE_ONE_BYTE)
        return 1;
    if ((h->ext_profile & 0xfff0) == LC_RTP_EXT_PROFILE_TWO_BYTE)
        return 2;
    return 0;
}

int lc_rtp_ext_next(const lc_rtp_header_t *h, size_t *pos, lc_rtp_ext_elem_t *e,
                    const char **err)
{
    int form = lc_rtp_ext_form(h);
    size_t p = *pos;

    if (form == 0)
        return 0;
    while (p < h->ext_len) {
        uint8_t b = h->ext[p];
        size_t n;

        if (b == 0) {               /* padding between or after elements */
            p++;
            continue;
        }
        if (form == 1) {
            if ((b >> 4) == 15) {   /* reserved: stop, the rest is not ours to read */
                *pos = h->ext_len;
                return 0;
            }
            if ((b >> 4) == 0) {    /* id 0 with a length: still padding, one byte */
                p++;
                continue;
            }
            n = (size_t)(b & 0x0f) + 1;
            if (h->ext_len - p - 1 < n)
                return rtp_fail(err, "one-byte extension element past the block");
            e->id = b >> 4;
            e->len = (uint8_t)n;
            e->data = h->ext + p + 1;
            *pos = p + 1 + n;
            return 1;
        }
        if (h->ext_len - p < 2)
            return rtp_fail(err, "two-byte extension header past the block");
        n = h->ext[p + 1];
        if (h->ext_len - p - 2 < n)
            return rtp_fail(err, "two-byte extension element past the block");
        e->id = b;
        e->len = (uint8_t)n;
        e->data = h->ext + p + 2;
        *pos = p + 2 + n;
        return 1;
    }
    *pos = p;
    return 0;
}

int lc_rtp_ext_find(const lc_rtp_header_t *h, uint8_t id, const uint8_t **data, size_t *len,
                    const char **err)
{
    lc_rtp_ext_elem_t e;
    size_t pos = 0;
    int rc;

    while ((rc = lc_rtp_ext_next(h, &pos, &e, err)) == 1) {
        if (e.id == id) {
            *data = e.data;
            *len = e.len;
            return 1;
        }
    }
    return rc;
}

size_t lc_rtp_write_header(uint8_t *out, size_t cap, const lc_rtp_header_t *h,
                           const lc_rtp_ext_elem_t *ext, size_t n_ext)
{
    size_t len = LC_RTP_HEADER_MIN + 4 * (size_t)h->csrc_count, ext_bytes = 0, off;

    if (h->pt > 127 || h->csrc_count > LC_RTP_MAX_CSRC)
        return 0;
    for (size_t i = 0; i < n_ext; i++) {
        if (ext[i].id < 1 || ext[i].id > 14 || ext[i].len < 1 || ext[i].len > 16 ||
            ext[i].data == NULL)
            return 0;
        ext_bytes += 1 + (size_t)ext[i].len;
    }
    if (n_ext > 0)
        len += 4 + ((ext_bytes + 3) & ~(size_t)3);
    if (cap < len)
        return 0;
    out[0] = (uint8_t)(0x80 | (n_ext > 0 ? 0x10 : 0) | h->csrc_count);
    out[1] = (uint8_t)((h->marker ? 0x80 : 0) | h->pt);
    wr16(out + 2, h->seq);
    wr32(out + 4, h->timestamp);
    wr32(out + 8, h->ssrc);
    off = LC_RTP_HEADER_MIN;
    for (unsigned i = 0; i < h->csrc_count; i++, off += 4)
        wr32(out + off, h->csrc[i]);
    if (n_ext > 0) {
        wr16(out + off, LC_RTP_EXT_PROFILE_ONE_BYTE);
        wr16(out + off + 2, (uint16_t)((len - off - 4) / 4));
        off += 4;
        for (size_t i = 0; i < n_ext; i++) {
            out[off++] = (uint8_t)((ext[i].id << 4) | (ext[i].len - 1));
            memcpy(out + off, ext[i].data, ext[i].len);
            off += ext[i].len;
        }
        memset(out + off, 0, len - off);
    }
    return len;
}

int lc_rtp_set_ssrc(uint8_t *b, size_t len, uint32_t ssrc)
{
    if (len < LC_RTP_HEADER_MIN)
        return -1;
    wr32(b + 8, ssrc);
    return 0;
}

int lc_rtp_set_seq(uint8_t *b, size_t len, uint16_t seq)
{
    if (len < LC_RTP_HEADER_MIN)
        return -1;
    wr16(b + 2, seq);
    return 0;
}

int lc_rtp_set_timestamp(uint8_t *b, size_t len, uint32_t ts)
{
    if (len < LC_RTP_HEADER_MIN)
        return -1;
    wr32(b + 4, ts);
    return 0;
}

int lc_rtp_set_pt(uint8_t *b, size_t len, uint8_t pt)
{
    if (len < LC_RTP_HEADER_MIN || pt > 127)
        return -1;
    b[1] = (uint8_t)((b[1] & 0x80) | pt);
    return 0;
}

int lc_rtp_seq_newer(uint16_t a, uint16_t b)
{
    uint16_t d = (uint16_t)(a - b);

    if (d == 0x8000)
        return a > b;
    return d != 0 && d < 0x8000;
}

int32_t lc_rtp_seq_diff(uint16_t a, uint16_t b)
{
    return (int32_t)(int16_t)(uint16_t)(a - b);
}

void lc_rtp_stats_init(lc_rtp_stats_t *s)
{
    memset(s, 0, sizeof *s);
}

/* RFC 3550 A.1 init_seq(). */
static void stats_restart(lc_rtp_stats_t *s, uint16_t seq)
{
    s->started = 1;
    s->base_seq = seq;
    s->max_seq = seq;
    s->bad_seq = RTP_SEQ_MOD + 1;   /* so seq == bad_seq is false */
    s->cycles = 0;
    s->received = 0;
    s->received_prior = 0;
    s->expected_prior = 0;
    s->have_transit = 0;
}

/* RFC 3550 A.8, integer form: jitter16 is J * 16. */
static void stats_jitter(lc_rtp_stats_t *s, uint32_t timestamp, uint32_t arrival)
{
    uint32_t transit = arrival - timestamp;

    if (s->have_transit) {
        int32_t d = (int32_t)(transit - s->transit);
        uint32_t ad = d < 0 ? (uint32_t)0 - (uint32_t)d : (uint32_t)d;

        s->jitter16 += ad - ((s->jitter16 + 8) >> 4);
    }
    s->transit = transit;
    s->have_transit = 1;
}

/*
 * RFC 3550 A.1 update_seq() without the probation stage: packets reach here
 * after SRTP authentication, which already proves the source is real, and
 * probation would only throw away the first packets of every stream.
 *
 * Jitter is updated only by packets that advance max_seq: a reordered or
 * late packet's transit time says how late it was, not how the network
 * varies, and would count once as jitter now and again when order resumes.
 */
int lc_rtp_stats_update(lc_rtp_stats_t *s, uint16_t seq, uint32_t timestamp, uint32_t arrival)
{
    uint16_t udelta;

    if (!s->started) {
        stats_restart(s, seq);
        stats_jitter(s, timestamp, arrival);
        s->received = 1;
        return 1;
    }
    udelta = (uint16_t)(seq - s->max_seq);
    if (udelta < MAX_DROPOUT) {
        if (udelta != 0) {
            if (seq < s->max_seq)
                s->cycles += RTP_SEQ_MOD;
            s->max_seq = seq;
            stats_jitter(s, timestamp, arrival);
        }
    } else if (udelta <= RTP_SEQ_MOD - MAX_MISORDER) {
        if (seq != s->bad_seq) {
            s->bad_seq = (seq + 1) & (RTP_SEQ_MOD - 1);
            return 0;
        }
        /* Two sequential packets after a big jump: the sender restarted. */
        stats_restart(s, seq);
        stats_jitter(s, timestamp, arrival);
    }
    /* else: a duplicate or a reordered packet, counted but nothing moves */
    s->received++;
    return 1;
}

uint32_t lc_rtp_stats_ext_max(const lc_rtp_stats_t *s)
{
    return s->cycles + s->max_seq;
}

uint32_t lc_rtp_stats_expected(const lc_rtp_stats_t *s)
{
    return s->started ? lc_rtp_stats_ext_max(s) - s->base_seq + 1 : 0;
}

int32_t lc_rtp_stats_lost(const lc_rtp_stats_t *s)
{
    int64_t lost = (int64_t)lc_rtp_stats_expected(s) - (int64_t)s->received;

    if (lost > 0x7fffff)
        return 0x7fffff;
    if (lost < -0x800000)
        return -0x800000;
    return (int32_t)lost;
}

uint32_t lc_rtp_stats_jitter(const lc_rtp_stats_t *s)
{
    return s->jitter16 >> 4;
}

uint8_t lc_rtp_stats_fraction_lost(lc_rtp_stats_t *s)
{
    uint32_t expected = lc_rtp_stats_expected(s);
    uint32_t expected_interval = expected - s->expected_prior;
    uint32_t received_interval = s->received - s->received_prior;
    int64_t lost_interval = (int64_t)expected_interval - (int64_t)received_interval;

    s->expected_prior = expected;
    s->received_prior = s->received;
    if (expected_interval == 0 || lost_interval <= 0)
        return 0;
    if ((uint64_t)lost_interval >= expected_interval)
        return 255;                 /* all lost: 256/256 does not fit 8 bits */
    return (uint8_t)(((uint64_t)lost_interval << 8) / expected_interval);
}
