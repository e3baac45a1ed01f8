/*
 * rtcp.c: walking compound RTCP packets, parsing the report and feedback
 * messages an SFU acts on, and building the ones it sends.
 *
 * Owns: the wire format of SR, RR, SDES, BYE, generic NACK, PLI, FIR, REMB
 * and transport-wide CC feedback. Does not own: SRTCP, what to do about a
 * NACK or a PLI (the session's forwarder), bandwidth estimation from TWCC
 * or REMB, RTT from LSR/DLSR.
 *
 * Invariant: a parser reads only inside the lc_rtcp_hdr_t's body, whose
 * bounds lc_rtcp_iter_next() checked against the buffer; a builder checks
 * the full length against cap before writing its first byte, so a 0 return
 * leaves out untouched.
 */
#include "common/webrtc/rtcp.h"

#include <string.h>

#define SR_INFO_LEN 20     /* NTP, RTP timestamp, packet and octet counts */
#define RB_LEN 24
#define FB_COMMON_LEN 8
#define MAX_LEN_WORDS 65536   /* a 16-bit "length in words minus one" */

static int rtcp_fail(const char **err, const char *why)
{
    if (err != NULL)
        *err = why;
    return -1;
}

static uint16_t rd16(const uint8_t *p)
{
    return (uint16_t)((p[0] << 8) | p[1]);
}

static uint32_t rd24(const uint8_t *p)
{
    return ((uint32_t)p[0] << 16) | ((uint32_t)p[1] << 8) | p[2];
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

static void wr24(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 16);
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)v;
}

static void wr32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static int32_t sign24(uint32_t v)
{
    return (v & 0x800000) ? (int32_t)(v | 0xff000000u) : (int32_t)v;
}

/* ---- compound packets ---- */

void lc_rtcp_iter_init(lc_rtcp_iter_t *it, const uint8_t *buf, size_t len)
{
    it->buf = buf;
    it->len = len;
    it->off = 0;
}

/*
 * Padding is accepted on any packet, not only the last as RFC 3550 A.2
 * suggests: each packet's length field already says where it ends, so the
 * padding is unambiguous, and libwebrtc accepts it too.
 */
int lc_rtcp_iter_next(lc_rtcp_iter_t *it, lc_rtcp_hdr_t *h, const char **err)
{
    size_t rest = it->len - it->off, len;
    const uint8_t *p = it->buf + it->off;

    if (rest == 0)
        return 0;
    if (rest < LC_RTCP_HEADER_LEN)
        return rtcp_fail(err, "RTCP packet shorter than its header");
    if ((p[0] >> 6) != 2)
        return rtcp_fail(err, "RTCP version is not 2");
    len = ((size_t)rd16(p + 2) + 1) * 4;
    if (len > rest)
        return rtcp_fail(err, "RTCP length past the end of the compound packet");
    memset(h, 0, sizeof *h);
    h->padding = (p[0] >> 5) & 1;
    h->count = p[0] & 0x1f;
    h->pt = p[1];
    h->pkt = p;
    h->len = len;
    h->body = p + LC_RTCP_HEADER_LEN;
    h->body_len = len - LC_RTCP_HEADER_LEN;
    if (h->padding) {
        size_t pad = p[len - 1];

        if (pad == 0)
            return rtcp_fail(err, "RTCP padding count is 0");
        if (pad > h->body_len)
            return rtcp_fail(err, "RTCP padding longer than the packet body");
        h->body_len -= pad;
    }
    it->off += len;
    return 1;
}

/* ---- reports ---- */

static void rb_read(const uint8_t *p, lc_rtcp_rb_t *rb)
{
    rb->ssrc = rd32(p);
    rb->fraction_lost = p[4];
    rb->cumulative_lost = sign24(rd24(p + 5));
    rb->ext_highest_seq = rd32(p + 8);
    rb->jitter = rd32(p + 12);
    rb->lsr = rd32(p + 16);
    rb->dlsr = rd32(p + 20);
}

static void rb_write(uint8_t *p, const lc_rtcp_rb_t *rb)
{
    int32_t lost = rb->cumulative_lost;

    /* Saturate like RFC 3550 6.4.1 says, rather than wrap into the sign bit. */
    if (lost > 0x7fffff)
        lost = 0x7fffff;
    if (lost < -0x800000)
        lost = -0x800000;
    wr32(p, rb->ssrc);
    p[4] = rb->fraction_lost;
    wr24(p + 5, (uint32_t)lost & 0xffffff);
    wr32(p + 8, rb->ext_highest_seq);
    wr32(p + 12, rb->jitter);
    wr32(p + 16, rb->lsr);
    wr32(p + 20, rb->dlsr);
}

int lc_rtcp_sr_parse(const lc_rtcp_hdr_t *h, lc_rtcp_sr_t *sr, const char **err)
{
    const uint8_t *b = h->body;

    if (h->pt != LC_RTCP_SR)
        return rtcp_fail(err, "not an RTCP SR");
    if (h->body_len < 4 + SR_INFO_LEN + RB_LEN * (size_t)h->count)
        return rtcp_fail(err, "RTCP SR shorter than its report count");
    memset(sr, 0, sizeof *sr);
    sr->ssrc = rd32(b);
    sr->ntp = ((uint64_t)rd32(b + 4) << 32) | rd32(b + 8);
    sr->rtp_ts = rd32(b + 12);
    sr->packet_count = rd32(b + 16);
    sr->octet_count = rd32(b + 20);
    sr->rc = h->count;
    for (unsigned i = 0; i < h->count; i++)
        rb_read(b + 4 + SR_INFO_LEN + RB_LEN * i, &sr->rb[i]);
    return 0;
}

int lc_rtcp_rr_parse(const lc_rtcp_hdr_t *h, lc_rtcp_rr_t *rr, const char **err)
{
    if (h->pt != LC_RTCP_RR)
        return rtcp_fail(err, "not an RTCP RR");
    if (h->body_len < 4 + RB_LEN * (size_t)h->count)
        return rtcp_fail(err, "RTCP RR shorter than its report count");
    memset(rr, 0, sizeof *rr);
    rr->ssrc = rd32(h->body);
    rr->rc = h->count;
    for (unsigned i = 0; i < h->count; i++)
        rb_read(h->body + 4 + RB_LEN * i, &rr->rb[i]);
    return 0;
}

/* Chunks start 32-bit aligned; items follow the SSRC until a null octet,
 * then null octets up to the next 32-bit boundary (RFC 3550 6.5). */
int lc_rtcp_sdes_parse(const lc_rtcp_hdr_t *h, lc_rtcp_sdes_t *sdes, const char **err)
{
    const uint8_t *b = h->body;
    size_t n = h->body_len, p = 0;

    if (h->pt != LC_RTCP_SDES)
        return rtcp_fail(err, "not an RTCP SDES");
    memset(sdes, 0, sizeof *sdes);
    sdes->count = h->count;
    for (unsigned i = 0; i < h->count; i++) {
        if (n - p < 4)
            return rtcp_fail(err, "RTCP SDES chunk past the end");
        sdes->chunk[i].ssrc = rd32(b + p);
        p += 4;
        for (;;) {
            uint8_t type, len;

            if (p >= n)
                return rtcp_fail(err, "RTCP SDES chunk without its end");
            type = b[p];
            if (type == 0) {
                p = (p + 4) & ~(size_t)3;
                if (p > n)
                    return rtcp_fail(err, "RTCP SDES chunk padding past the end");
                break;
            }
            if (n - p < 2 || n - p - 2 < b[p + 1])
                return rtcp_fail(err, "RTCP SDES item past the end");
            len = b[p + 1];
            if (type == LC_RTCP_SDES_CNAME && sdes->chunk[i].cname == NULL) {
                sdes->chunk[i].cname = b + p + 2;
                sdes->chunk[i].cname_len = len;
            }
            p += 2 + (size_t)len;
        }
    }
    return 0;
}

int lc_rtcp_bye_parse(const lc_rtcp_hdr_t *h, lc_rtcp_bye_t *bye, const char **err)
{
    size_t off = 4 * (size_t)h->count;

    if (h->pt != LC_RTCP_BYE)
        return rtcp_fail(err, "not an RTCP BYE");
    if (h->body_len < off)
        return rtcp_fail(err, "RTCP BYE shorter than its SSRC count");
    memset(bye, 0, sizeof *bye);
    bye->count = h->count;
    for (unsigned i = 0; i < h->count; i++)
        bye->ssrc[i] = rd32(h->body + 4 * i);
    if (h->body_len > off) {
        size_t len = h->body[off];

        if (h->body_len - off - 1 < len)
            return rtcp_fail(err, "RTCP BYE reason past the end");
        /* A zero byte where a reason would start is padding, not a reason. */
        if (len > 0) {
            bye->reason = h->body + off + 1;
            bye->reason_len = (uint8_t)len;
        }
    }
    return 0;
}

/* ---- feedback ---- */

int lc_rtcp_fb_parse(const lc_rtcp_hdr_t *h, lc_rtcp_fb_t *fb, const char **err)
{
    if (h->pt != LC_RTCP_RTPFB && h->pt != LC_RTCP_PSFB)
        return rtcp_fail(err, "not an RTCP feedback message");
    if (h->body_len < FB_COMMON_LEN)
        return rtcp_fail(err, "RTCP feedback shorter than its SSRCs");
    fb->sender_ssrc = rd32(h->body);
    fb->media_ssrc = rd32(h->body + 4);
    fb->fci = h->body + FB_COMMON_LEN;
    fb->fci_len = h->body_len - FB_COMMON_LEN;
    return 0;
}

static int fb_expect(const lc_rtcp_hdr_t *h, uint8_t pt, uint8_t fmt, lc_rtcp_fb_t *fb,
                     const char *what, const char **err)
{
    if (h->pt != pt || h->count != fmt)
        return rtcp_fail(err, what);
    return lc_rtcp_fb_parse(h, fb, err);
}

int lc_rtcp_nack_parse(const lc_rtcp_hdr_t *h, lc_rtcp_fb_t *fb, uint16_t *seqs, size_t cap,
                       const char **err)
{
    size_t n = 0;

    if (fb_expect(h, LC_RTCP_RTPFB, LC_RTCP_FMT_NACK, fb, "not an RTCP generic NACK", err) < 0)
        return -1;
    if (fb->fci_len == 0 || fb->fci_len % 4 != 0)
        return rtcp_fail(err, "RTCP NACK FCI not a list of 4-byte entries");
    for (size_t off = 0; off < fb->fci_len; off += 4) {
        uint16_t pid = rd16(fb->fci + off), blp = rd16(fb->fci + off + 2);

        if (n < cap)
            seqs[n] = pid;
        n++;
        for (unsigned bit = 0; bit < 16; bit++) {
            if (blp & (1u << bit)) {
                if (n < cap)
                    seqs[n] = (uint16_t)(pid + bit + 1);
                n++;
            }
        }
    }
    /* At most 17 per entry and 65533 entries: always fits an int. */
    return (int)n;
}

int lc_rtcp_pli_parse(const lc_rtcp_hdr_t *h, lc_rtcp_fb_t *fb, const char **err)
{
    return fb_expect(h, LC_RTCP_PSFB, LC_RTCP_FMT_PLI, fb, "not an RTCP PLI", err);
}

int lc_rtcp_fir_parse(const lc_rtcp_hdr_t *h, lc_rtcp_fb_t *fb, lc_rtcp_fir_entry_t *e,
                      size_t cap, const char **err)
{
    size_t n;

    if (fb_expect(h, LC_RTCP_PSFB, LC_RTCP_FMT_FIR, fb, "not an RTCP FIR", err) < 0)
        return -1;
    if (fb->fci_len == 0 || fb->fci_len % 8 != 0)
        return rtcp_fail(err, "RTCP FIR FCI not a list of 8-byte entries");
    n = fb->fci_len / 8;
    for (size_t i = 0; i < n && i < cap; i++) {
        e[i].ssrc = rd32(fb->fci + 8 * i);
        e[i].seq_nr = fb->fci[8 * i + 4];
    }
    return (int)n;
}

int lc_rtcp_remb_parse(const lc_rtcp_hdr_t *h, lc_rtcp_remb_t *r, const char **err)
{
    lc_rtcp_fb_t fb;
    unsigned exp;
    uint64_t mantissa;

    if (fb_expect(h, LC_RTCP_PSFB, LC_RTCP_FMT_AFB, &fb, "not an RTCP REMB", err) < 0)
        return -1;
    if (fb.fci_len < 8 || memcmp(fb.fci, "REMB", 4) != 0)
        return rtcp_fail(err, "RTCP AFB is not REMB");
    memset(r, 0, sizeof *r);
    r->sender_ssrc = fb.sender_ssrc;
    r->n_ssrc = fb.fci[4];
    exp = fb.fci[5] >> 2;
    mantissa = rd24(fb.fci + 5) & 0x3ffff;
    if (exp > 0 && mantissa > (UINT64_MAX >> exp))
        return rtcp_fail(err, "RTCP REMB bitrate overflows 64 bits");
    r->bitrate = mantissa << exp;
    if (fb.fci_len - 8 < 4 * (size_t)r->n_ssrc)
        return rtcp_fail(err, "RTCP REMB SSRC list past the end");
    for (unsigned i = 0; i < r->n_ssrc; i++)
        r->ssrc[i] = rd32(fb.fci + 8 + 4 * i);
    return 0;
}

int lc_rtcp_twcc_parse(const lc_rtcp_hdr_t *h, lc_rtcp_twcc_t *t, const char **err)
{
    memset(t, 0, sizeof *t);
    if (fb_expect(h, LC_RTCP_RTPFB, LC_RTCP_FMT_TWCC, &t->fb, "not an RTCP TWCC feedback",
                  err) < 0)
        return -1;
    if (t->fb.fci_len < 8)
        return rtcp_fail(err, "RTCP TWCC shorter than its fixed fields");
    t->base_seq = rd16(t->fb.fci);
    t->status_count = rd16(t->fb.fci + 2);
    t->reference_time = sign24(rd24(t->fb.fci + 4));
    t->fb_count = t->fb.fci[7];
    return 0;
}

/* Reads packet status symbols out of the chunk list one at a time. */
typedef struct {
    const uint8_t *fci;
    size_t len;
    size_t pos;            /* next chunk */
    uint16_t chunk;
    unsigned left;         /* symbols left in the current chunk */
} twcc_chunks_t;

static int twcc_next_symbol(twcc_chunks_t *c, uint8_t *sym, const char **err)
{
    while (c->left == 0) {
        if (c->len - c->pos < 2)
            return rtcp_fail(err, "RTCP TWCC status chunks past the end");
        c->chunk = rd16(c->fci + c->pos);
        c->pos += 2;
        if (!(c->chunk & 0x8000))
            c->left = c->chunk & 0x1fff;          /* run length; 0 is empty */
        else
            c->left = (c->chunk & 0x4000) ? 7 : 14;
    }
    if (!(c->chunk & 0x8000)) {
        *sym = (c->chunk >> 13) & 3;
    } else if (c->chunk & 0x4000) {
        *sym = (c->chunk >> (2 * (c->left - 1))) & 3;
    } else {
        *sym = (c->chunk >> (c->left - 1)) & 1;
    }
    c->left--;
    if (*sym == 3)
        return rtcp_fail(err, "RTCP TWCC reserved status 3");
    return 0;
}

/*
 * Two passes over the chunks: the first finds where the deltas start and
 * how many bytes they need (so a short packet is refused before anything is
 * written), the second pairs each status with its delta.
 */
int lc_rtcp_twcc_decode(const lc_rtcp_twcc_t *t, lc_rtcp_twcc_status_t *st, size_t cap,
                        const char **err)
{
    twcc_chunks_t c = { .fci = t->fb.fci, .len = t->fb.fci_len, .pos = 8 };
    size_t delta_bytes = 0, dpos;
    uint8_t sym;

    if (t->fb.fci_len < 8)
        return rtcp_fail(err, "RTCP TWCC shorter than its fixed fields");
    for (unsigned i = 0; i < t->status_count; i++) {
        if (twcc_next_symbol(&c, &sym, err) < 0)
            return -1;
        delta_bytes += sym;
    }
    if (c.len - c.pos < delta_bytes)
        return rtcp_fail(err, "RTCP TWCC receive deltas past the end");
    dpos = c.pos;
    c.pos = 8;
    c.left = 0;
    for (unsigned i = 0; i < t->status_count; i++) {
        int32_t delta = 0;

        (void)twcc_next_symbol(&c, &sym, NULL);   /* same bytes, cannot fail now */
        if (sym == 1)
            delta = c.fci[dpos];
        else if (sym == 2)
            delta = (int16_t)rd16(c.fci + dpos);
        dpos += sym;
        if (i < cap) {
            st[i].seq = (uint16_t)(t->base_seq + i);
            st[i].status = sym;
            st[i].delta = delta;
        }
    }
    return t->status_count;
}

/* ---- builders ---- */

/* 1 if a packet of len bytes fits cap and its length field. */
static int fits(size_t len, size_t cap)
{
    return len <= cap && len / 4 <= MAX_LEN_WORDS;
}

static void hdr_write(uint8_t *out, size_t count, uint8_t pt, size_t len)
{
    out[0] = (uint8_t)(0x80 | count);
    out[1] = pt;
    wr16(out + 2, (uint16_t)(len / 4 - 1));
}

size_t lc_rtcp_build_sr(uint8_t *out, size_t cap, const lc_rtcp_sr_t *sr)
{
    size_t len = 8 + SR_INFO_LEN + RB_LEN * (size_t)sr->rc;

    if (sr->rc > LC_RTCP_MAX_RB || !fits(len, cap))
        return 0;
    hdr_write(out, sr->rc, LC_RTCP_SR, len);
    wr32(out + 4, sr->ssrc);
    wr32(out + 8, (uint32_t)(sr->ntp >> 32));
    wr32(out + 12, (uint32_t)sr->ntp);
    wr32(out + 16, sr->rtp_ts);
    wr32(out + 20, sr->packet_count);
    wr32(out + 24, sr->octet_count);
    for (unsigned i = 0; i < sr->rc; i++)
        rb_write(out + 28 + RB_LEN * i, &sr->rb[i]);
    return len;
}

size_t lc_rtcp_build_rr(uint8_t *out, size_t cap, const lc_rtcp_rr_t *rr)
{
    size_t len = 8 + RB_LEN * (size_t)rr->rc;

    if (rr->rc > LC_RTCP_MAX_RB || !fits(len, cap))
        return 0;
    hdr_write(out, rr->rc, LC_RTCP_RR, len);
    wr32(out + 4, rr->ssrc);
    for (unsigned i = 0; i < rr->rc; i++)
        rb_write(out + 8 + RB_LEN * i, &rr->rb[i]);
    return len;
}

size_t lc_rtcp_build_sdes_cname(uint8_t *out, size_t cap, uint32_t ssrc, const char *cname,
                                size_t cname_len)
{
    /* SSRC, type, length, text, then at least one null octet to a 32-bit boundary. */
    size_t len = 4 + 4 + ((2 + cname_len + 1 + 3) & ~(size_t)3);

    if (cname == NULL || cname_len == 0 || cname_len > 255 || !fits(len, cap))
        return 0;
    hdr_write(out, 1, LC_RTCP_SDES, len);
    wr32(out + 4, ssrc);
    out[8] = LC_RTCP_SDES_CNAME;
    out[9] = (uint8_t)cname_len;
    memcpy(out + 10, cname, cname_len);
    memset(out + 10 + cname_len, 0, len - 10 - cname_len);
    return len;
}

size_t lc_rtcp_build_bye(uint8_t *out, size_t cap, const uint32_t *ssrcs, size_t n,
                         const char *reason, size_t reason_len)
{
    size_t len = 4 + 4 * n, off;

    if (n == 0 || n > LC_RTCP_MAX_RB || reason_len > 255 || (reason_len > 0 && reason == NULL))
        return 0;
    if (reason_len > 0)
        len += (1 + reason_len + 3) & ~(size_t)3;
    if (!fits(len, cap))
        return 0;
    hdr_write(out, n, LC_RTCP_BYE, len);
    for (size_t i = 0; i < n; i++)
        wr32(out + 4 + 4 * i, ssrcs[i]);
    off = 4 + 4 * n;
    if (reason_len > 0) {
        out[off] = (uint8_t)reason_len;
        memcpy(out + off + 1, reason, reason_len);
        memset(out + off + 1 + reason_len, 0, len - off - 1 - reason_len);
    }
    return len;
}

static void fb_write(uint8_t *out, uint8_t fmt, uint8_t pt, size_t len, uint32_t sender,
                     uint32_t media)
{
    hdr_write(out, fmt, pt, len);
    wr32(out + 4, sender);
    wr32(out + 8, media);
}

/* Pack seqs into PID/BLP entries; fci == NULL only counts them. */
static size_t nack_pack(const uint16_t *seqs, size_t n, uint8_t *fci)
{
    size_t entries = 0;
    uint16_t pid = 0, blp = 0;

    for (size_t i = 0; i < n; i++) {
        uint16_t d = (uint16_t)(seqs[i] - pid);

        if (entries > 0 && d == 0)
            continue;
        if (entries > 0 && d <= 16) {
            blp |= (uint16_t)(1u << (d - 1));
        } else {
            if (entries > 0 && fci != NULL) {
                wr16(fci + 4 * (entries - 1), pid);
                wr16(fci + 4 * (entries - 1) + 2, blp);
            }
            entries++;
            pid = seqs[i];
            blp = 0;
        }
    }
    if (entries > 0 && fci != NULL) {
        wr16(fci + 4 * (entries - 1), pid);
        wr16(fci + 4 * (entries - 1) + 2, blp);
    }
    return entries;
}

size_t lc_rtcp_build_nack(uint8_t *out, size_t cap, uint32_t sender_ssrc, uint32_t media_ssrc,
                          const uint16_t *seqs, size_t n)
{
    size_t entries = nack_pack(seqs, n, NULL), len = 12 + 4 * entries;

    if (entries == 0 || !fits(len, cap))
        return 0;
    fb_write(out, LC_RTCP_FMT_NACK, LC_RTCP_RTPFB, len, sender_ssrc, media_ssrc);
    nack_pack(seqs, n, out + 12);
    return len;
}

size_t lc_rtcp_build_pli(uint8_t *out, size_t cap, uint32_t sender_ssrc, uint32_t media_ssrc)
{
    if (!fits(12, cap))
        return 0;
    fb_write(out, LC_RTCP_FMT_PLI, LC_RTCP_PSFB, 12, sender_ssrc, media_ssrc);
    return 12;
}

/* RFC 5104 4.3.1.2: the media SSRC field is 0; the targets are in the FCI. */
size_t lc_rtcp_build_fir(uint8_t *out, size_t cap, uint32_t sender_ssrc,
                         const lc_rtcp_fir_entry_t *e, size_t n)
{
    size_t len = 12 + 8 * n;

    if (n == 0 || n > MAX_LEN_WORDS || !fits(len, cap))
        return 0;
    fb_write(out, LC_RTCP_FMT_FIR, LC_RTCP_PSFB, len, sender_ssrc, 0);
    for (size_t i = 0; i < n; i++) {
        uint8_t *p = out + 12 + 8 * i;

        wr32(p, e[i].ssrc);
        p[4] = e[i].seq_nr;
        p[5] = p[6] = p[7] = 0;
    }
    return len;
}

size_t lc_rtcp_build_remb(uint8_t *out, size_t cap, uint32_t sender_ssrc, uint64_t bitrate,
                          const uint32_t *ssrcs, size_t n)
{
    size_t len = 20 + 4 * n;
    unsigned exp = 0;

    if (n > 255 || !fits(len, cap))
        return 0;
    while ((bitrate >> exp) >= (1u << 18))
        exp++;
    fb_write(out, LC_RTCP_FMT_AFB, LC_RTCP_PSFB, len, sender_ssrc, 0);
    memcpy(out + 12, "REMB", 4);
    out[16] = (uint8_t)n;
    wr24(out + 17, ((uint32_t)exp << 18) | (uint32_t)(bitrate >> exp));
    for (size_t i = 0; i < n; i++)
        wr32(out + 20 + 4 * i, ssrcs[i]);
    return len;
}
