/*
 * sdp.c: see sdp.h. One pass over the lines; each line is dispatched by its
 * type letter and, for a=, by attribute name, to a handler that writes the
 * session or the current m= section. A short finishing pass then resolves
 * what SDP leaves to the end of the text: a=fmtp may come before a=rtpmap
 * (Firefox sorts attributes alphabetically), "a=rtcp-fb:*" applies to every
 * payload type, session-level direction and extmaps apply to sections that
 * say nothing themselves.
 *
 * Strings are copied into one arena sized from the text, so the struct
 * outlives the caller's buffer. Every piece copied is a disjoint slice of
 * the text followed by a delimiter, so the arena cannot run out; keep()
 * still checks, because "cannot" is cheaper to check than to prove again
 * after the next edit.
 *
 * Invariant: a value that the answer echoes back (mid, m= tokens) is a
 * printable token of bounded length, so echoing it cannot inject a line.
 */
#include "common/webrtc/sdp.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

typedef struct {
    const char *p, *e;
} span_t;

typedef struct {
    lc_sdp_t *sdp;
    char *arena;
    size_t arena_len, arena_used;
    unsigned line;
    char *err;
    size_t errlen;
    lc_sdp_media_t *cur;        /* NULL while at session level */
    /* What sdp.h's struct does not keep but the finishing pass needs. */
    int session_dir_set;
    lc_sdp_dir_t session_dir;
    int media_dir_set[LC_SDP_MAX_MEDIA];
    unsigned fb_all[LC_SDP_MAX_MEDIA], fb_all_other[LC_SDP_MAX_MEDIA];
    lc_sdp_extmap_t session_ext[LC_SDP_MAX_EXTMAP];
    size_t nsession_ext;
} parser_t;

static int fail(parser_t *ps, const char *fmt, ...)
{
    va_list ap;
    int n = 0;
    if (ps->errlen == 0)
        return -1;
    n = snprintf(ps->err, ps->errlen, "Bad SDP: ");
    if (ps->line && n >= 0 && (size_t)n < ps->errlen)
        n += snprintf(ps->err + n, ps->errlen - n, "line %u: ", ps->line);
    if (n >= 0 && (size_t)n < ps->errlen) {
        va_start(ap, fmt);
        vsnprintf(ps->err + n, ps->errlen - n, fmt, ap);
        va_end(ap);
    }
    return -1;
}

/* ---- spans ---------------------------------------------------------------- */

static int is_space(char c)
{
    return c == ' ' || c == '\t';
}

static void skip_space(span_t *s)
{
    while (s->p < s->e && is_space(*s->p))
        s->p++;
}

/* Next whitespace-separated token; 0 when none is left. */
static int next_tok(span_t *s, span_t *tok)
{
    skip_space(s);
    tok->p = s->p;
    while (s->p < s->e && !is_space(*s->p))
        s->p++;
    tok->e = s->p;
    return tok->e > tok->p;
}

/* Split tok at the first c: head before, tail after; 0 if c is absent. */
static int split_at(span_t tok, char c, span_t *head, span_t *tail)
{
    const char *q = memchr(tok.p, c, (size_t)(tok.e - tok.p));
    if (!q)
        return 0;
    head->p = tok.p;
    head->e = q;
    tail->p = q + 1;
    tail->e = tok.e;
    return 1;
}

static size_t span_len(span_t s)
{
    return (size_t)(s.e - s.p);
}

static int span_is(span_t s, const char *lit)
{
    size_t n = strlen(lit);
    return span_len(s) == n && memcmp(s.p, lit, n) == 0;
}

/* Plain decimal, no sign, no leading garbage, value <= max. */
static int span_uint(span_t s, unsigned long max, unsigned long *out)
{
    unsigned long v = 0;
    if (s.p == s.e || span_len(s) > 10)
        return -1;
    for (const char *q = s.p; q < s.e; q++) {
        if (*q < '0' || *q > '9')
            return -1;
        v = v * 10 + (unsigned long)(*q - '0');
    }
    if (v > max)
        return -1;
    *out = v;
    return 0;
}

/* A printable token (no space, no control), bounded: safe to echo. */
static int span_token(span_t s, size_t max)
{
    if (s.p == s.e || span_len(s) > max)
        return 0;
    for (const char *q = s.p; q < s.e; q++)
        if ((unsigned char)*q <= 0x20 || (unsigned char)*q >= 0x7f)
            return 0;
    return 1;
}

static const char *keep(parser_t *ps, span_t s)
{
    size_t n = span_len(s);
    char *out;
    if (n + 1 > ps->arena_len - ps->arena_used)
        return NULL;
    out = ps->arena + ps->arena_used;
    memcpy(out, s.p, n);
    out[n] = '\0';
    ps->arena_used += n + 1;
    return out;
}

#define KEEP(dst, ps, s) do { \
        if (!((dst) = keep((ps), (s)))) \
            return fail((ps), "out of string space"); \
    } while (0)

/* ---- lookup helpers ---------------------------------------------------------- */

const lc_sdp_pt_t *lc_sdp_find_pt(const lc_sdp_media_t *m, int pt)
{
    for (size_t i = 0; i < m->npts; i++)
        if (m->pts[i].pt == pt)
            return &m->pts[i];
    return NULL;
}

const char *lc_sdp_fmtp_find(const char *fmtp, const char *key, size_t *vlen)
{
    size_t klen = strlen(key);
    const char *p = fmtp;
    if (!fmtp)
        return NULL;
    while (*p) {
        const char *end = strchr(p, ';');
        if (!end)
            end = p + strlen(p);
        while (p < end && is_space(*p))
            p++;
        if ((size_t)(end - p) > klen && strncasecmp(p, key, klen) == 0 && p[klen] == '=') {
            const char *v = p + klen + 1, *ve = end;
            while (ve > v && is_space(ve[-1]))
                ve--;
            *vlen = (size_t)(ve - v);
            return v;
        }
        p = *end ? end + 1 : end;
    }
    return NULL;
}

static lc_sdp_pt_t *find_pt_mut(lc_sdp_media_t *m, int pt)
{
    return (lc_sdp_pt_t *)lc_sdp_find_pt(m, pt);
}

/* The section's payload type named by tok; NULL when tok is not a listed PT
 * (RFC 8866 lets such attributes be ignored) and -1 via *bad when tok is not
 * a number at all. */
static lc_sdp_pt_t *pt_of(parser_t *ps, span_t tok, int *bad)
{
    unsigned long v;
    *bad = 0;
    if (span_uint(tok, 127, &v) < 0) {
        *bad = 1;
        return NULL;
    }
    return find_pt_mut(ps->cur, (int)v);
}

/* ---- m= ------------------------------------------------------------------ */

static int parse_m(parser_t *ps, span_t v)
{
    lc_sdp_t *sdp = ps->sdp;
    lc_sdp_media_t *m;
    span_t media, port, proto, fmt, pnum, pcount;
    unsigned long n;
    int rtp;

    if (sdp->nmedia >= LC_SDP_MAX_MEDIA)
        return fail(ps, "more than %d m= sections", LC_SDP_MAX_MEDIA);
    m = &sdp->media[sdp->nmedia];
    ps->cur = m;
    sdp->nmedia++;

    if (!next_tok(&v, &media) || !next_tok(&v, &port) || !next_tok(&v, &proto) || !next_tok(&v, &fmt))
        return fail(ps, "m= needs media, port, proto and a format");
    if (!span_token(media, LC_SDP_MAX_TOKEN) || !span_token(proto, LC_SDP_MAX_TOKEN)
        || !span_token(fmt, LC_SDP_MAX_TOKEN))
        return fail(ps, "bad m= token");
    KEEP(m->media, ps, media);
    KEEP(m->proto, ps, proto);
    KEEP(m->fmt, ps, fmt);
    m->kind = span_is(media, "audio") ? LC_SDP_KIND_AUDIO
            : span_is(media, "video") ? LC_SDP_KIND_VIDEO
            : span_is(media, "application") ? LC_SDP_KIND_APPLICATION : LC_SDP_KIND_OTHER;

    /* "9" or "9/2" (a port count, RFC 8866 section 5.14). */
    if (!split_at(port, '/', &pnum, &pcount))
        pnum = port;
    else if (span_uint(pcount, 65535, &n) < 0)
        return fail(ps, "bad m= port");
    if (span_uint(pnum, 65535, &n) < 0)
        return fail(ps, "bad m= port");
    m->port = (unsigned)n;

    /* RTP profiles list payload type numbers; others (SCTP) list names. */
    rtp = strstr(m->proto, "RTP/") != NULL;
    if (!rtp)
        return 0;
    v.p = fmt.p;
    while (next_tok(&v, &fmt)) {
        lc_sdp_pt_t *pt;
        if (span_uint(fmt, 127, &n) < 0)
            return fail(ps, "bad payload type on m= line");
        if (lc_sdp_find_pt(m, (int)n))
            return fail(ps, "payload type %lu listed twice", n);
        if (m->npts >= LC_SDP_MAX_PT)
            return fail(ps, "more than %d payload types", LC_SDP_MAX_PT);
        pt = &m->pts[m->npts++];
        pt->pt = (int)n;
        pt->name = "";
        pt->apt = -1;
    }
    return 0;
}

/* ---- a= handlers ------------------------------------------------------------- */

static int attr_rtpmap(parser_t *ps, span_t v)
{
    span_t ptok, enc, name, rest, clock, chans;
    unsigned long n;
    int bad;
    lc_sdp_pt_t *pt;

    if (!next_tok(&v, &ptok) || !next_tok(&v, &enc))
        return fail(ps, "bad rtpmap");
    pt = pt_of(ps, ptok, &bad);
    if (bad)
        return fail(ps, "bad rtpmap payload type");
    if (!split_at(enc, '/', &name, &rest))
        return fail(ps, "rtpmap needs name/clock");
    if (!split_at(rest, '/', &clock, &chans)) {
        clock = rest;
        chans.p = chans.e = NULL;
    }
    if (!span_token(name, LC_SDP_MAX_TOKEN) || span_uint(clock, 0xffffffffUL, &n) < 0 || n == 0)
        return fail(ps, "bad rtpmap");
    if (!pt)
        return 0;
    KEEP(pt->name, ps, name);
    pt->clock = (unsigned)n;
    pt->channels = 0;
    if (chans.p) {
        if (span_uint(chans, 255, &n) < 0)
            return fail(ps, "bad rtpmap channels");
        pt->channels = (unsigned)n;
    }
    return 0;
}

static int attr_fmtp(parser_t *ps, span_t v)
{
    span_t ptok;
    int bad;
    lc_sdp_pt_t *pt;

    if (!next_tok(&v, &ptok))
        return fail(ps, "bad fmtp");
    pt = pt_of(ps, ptok, &bad);
    if (bad)
        return fail(ps, "bad fmtp payload type");
    skip_space(&v);
    if (pt)
        KEEP(pt->fmtp, ps, v);
    return 0;
}

static unsigned fb_bit(span_t type, span_t param)
{
    int none = param.p == param.e;
    if (span_is(type, "nack"))
        return none ? LC_SDP_FB_NACK : span_is(param, "pli") ? LC_SDP_FB_NACK_PLI : 0;
    if (span_is(type, "ccm"))
        return span_is(param, "fir") ? LC_SDP_FB_CCM_FIR : 0;
    if (none && span_is(type, "goog-remb"))
        return LC_SDP_FB_GOOG_REMB;
    if (none && span_is(type, "transport-cc"))
        return LC_SDP_FB_TRANSPORT_CC;
    return 0;
}

static int attr_rtcp_fb(parser_t *ps, span_t v)
{
    span_t ptok, type, param;
    unsigned bit;
    size_t idx = (size_t)(ps->cur - ps->sdp->media);
    int bad;
    lc_sdp_pt_t *pt = NULL;

    if (!next_tok(&v, &ptok) || !next_tok(&v, &type))
        return fail(ps, "bad rtcp-fb");
    skip_space(&v);
    param = v;
    bit = fb_bit(type, param);
    if (span_is(ptok, "*")) {
        if (bit)
            ps->fb_all[idx] |= bit;
        else
            ps->fb_all_other[idx]++;
        return 0;
    }
    pt = pt_of(ps, ptok, &bad);
    if (bad)
        return fail(ps, "bad rtcp-fb payload type");
    if (pt) {
        if (bit)
            pt->fb |= bit;
        else
            pt->fb_other++;
    }
    return 0;
}

/* "id[/direction] uri [attributes]" (RFC 8285 section 7). */
static int add_extmap(parser_t *ps, lc_sdp_extmap_t *ext, size_t *next, span_t v)
{
    span_t idtok, id, dir, uri;
    unsigned long n;

    if (!next_tok(&v, &idtok) || !next_tok(&v, &uri))
        return fail(ps, "bad extmap");
    if (!split_at(idtok, '/', &id, &dir))
        id = idtok;
    if (span_uint(id, 255, &n) < 0 || n == 0)
        return fail(ps, "bad extmap id");
    for (size_t i = 0; i < *next; i++)
        if (ext[i].id == (int)n)
            return fail(ps, "extmap id %lu used twice", n);
    if (*next >= LC_SDP_MAX_EXTMAP)
        return fail(ps, "more than %d extmaps", LC_SDP_MAX_EXTMAP);
    ext[*next].id = (int)n;
    KEEP(ext[*next].uri, ps, uri);
    (*next)++;
    return 0;
}

static lc_sdp_ssrc_t *ssrc_entry(parser_t *ps, uint32_t ssrc)
{
    lc_sdp_media_t *m = ps->cur;
    for (size_t i = 0; i < m->nssrc; i++)
        if (m->ssrc[i].ssrc == ssrc)
            return &m->ssrc[i];
    if (m->nssrc >= LC_SDP_MAX_SSRC)
        return NULL;
    m->ssrc[m->nssrc].ssrc = ssrc;
    return &m->ssrc[m->nssrc++];
}

/* "ssrc cname:x", "ssrc msid:stream track"; mslabel/label (Plan B) skipped. */
static int attr_ssrc(parser_t *ps, span_t v)
{
    span_t stok, at, name, val;
    unsigned long n;
    lc_sdp_ssrc_t *s;

    if (!next_tok(&v, &stok) || span_uint(stok, 0xffffffffUL, &n) < 0)
        return fail(ps, "bad ssrc");
    skip_space(&v);
    at = v;
    if (!(s = ssrc_entry(ps, (uint32_t)n)))
        return fail(ps, "more than %d ssrcs", LC_SDP_MAX_SSRC);
    if (!split_at(at, ':', &name, &val))
        return 0;
    if (span_is(name, "cname"))
        KEEP(s->cname, ps, val);
    else if (span_is(name, "msid"))
        KEEP(s->msid, ps, val);
    return 0;
}

static int attr_ssrc_group(parser_t *ps, span_t v)
{
    span_t sem, a, b;
    unsigned long x, y;
    lc_sdp_media_t *m = ps->cur;

    if (!next_tok(&v, &sem))
        return fail(ps, "bad ssrc-group");
    if (!span_is(sem, "FID"))
        return 0;   /* SIM, FEC-FR: not used by an SFU without simulcast */
    if (!next_tok(&v, &a) || !next_tok(&v, &b) || span_uint(a, 0xffffffffUL, &x) < 0
        || span_uint(b, 0xffffffffUL, &y) < 0)
        return fail(ps, "bad ssrc-group:FID");
    if (m->nfid >= LC_SDP_MAX_FID)
        return fail(ps, "more than %d ssrc-group:FID", LC_SDP_MAX_FID);
    m->fid[m->nfid].media = (uint32_t)x;
    m->fid[m->nfid].rtx = (uint32_t)y;
    m->nfid++;
    return 0;
}

static int attr_fingerprint(parser_t *ps, span_t v, const char **alg, const char **hex)
{
    span_t a, h;
    if (!next_tok(&v, &a) || !next_tok(&v, &h) || !span_token(a, LC_SDP_MAX_FP_ALG)
        || span_len(h) > LC_SDP_MAX_FP_HEX)
        return fail(ps, "bad fingerprint");
    for (const char *q = h.p; q < h.e; q++) {
        char c = *q;
        if (!((c >= '0' && c <= '9') || (c >= 'A' && c <= 'F') || (c >= 'a' && c <= 'f') || c == ':'))
            return fail(ps, "bad fingerprint");
    }
    /* Several are allowed (RFC 8122); keep sha-256 when offered, what all
     * browsers send and what the DTLS layer checks. */
    if (*alg && strcasecmp(*alg, "sha-256") == 0)
        return 0;
    KEEP(*alg, ps, a);
    KEEP(*hex, ps, h);
    return 0;
}

static int attr_ice(parser_t *ps, span_t v, const char **out)
{
    span_t t;
    if (!next_tok(&v, &t) || !span_token(t, LC_SDP_MAX_ICE))
        return fail(ps, "bad ice-ufrag/ice-pwd");
    KEEP(*out, ps, t);
    return 0;
}

static int attr_setup(parser_t *ps, span_t v, lc_sdp_setup_t *out)
{
    span_t t;
    next_tok(&v, &t);
    if (span_is(t, "actpass"))
        *out = LC_SDP_SETUP_ACTPASS;
    else if (span_is(t, "active"))
        *out = LC_SDP_SETUP_ACTIVE;
    else if (span_is(t, "passive"))
        *out = LC_SDP_SETUP_PASSIVE;
    else if (span_is(t, "holdconn"))
        *out = LC_SDP_SETUP_HOLDCONN;
    else
        return fail(ps, "bad setup");
    return 0;
}

static int attr_group(parser_t *ps, span_t v)
{
    lc_sdp_t *sdp = ps->sdp;
    span_t sem, mid;
    if (!next_tok(&v, &sem))
        return fail(ps, "bad group");
    /* One BUNDLE group is all JSEP produces; a second one is ignored rather
     * than refused, the sections it names then simply are not bundled. */
    if (!span_is(sem, "BUNDLE") || sdp->nbundle)
        return 0;
    while (next_tok(&v, &mid)) {
        if (!span_token(mid, LC_SDP_MAX_MID))
            return fail(ps, "bad mid in BUNDLE group");
        if (sdp->nbundle >= LC_SDP_MAX_BUNDLE)
            return fail(ps, "more than %d mids in BUNDLE group", LC_SDP_MAX_BUNDLE);
        KEEP(sdp->bundle[sdp->nbundle], ps, mid);
        sdp->nbundle++;
    }
    return 0;
}

static int set_dir(parser_t *ps, lc_sdp_dir_t d)
{
    if (ps->cur) {
        ps->cur->dir = d;
        ps->media_dir_set[ps->cur - ps->sdp->media] = 1;
    } else {
        ps->session_dir = d;
        ps->session_dir_set = 1;
    }
    return 0;
}

static int parse_a(parser_t *ps, span_t v)
{
    lc_sdp_t *sdp = ps->sdp;
    lc_sdp_media_t *m = ps->cur;
    span_t name, val;
    unsigned long n;

    if (!split_at(v, ':', &name, &val)) {
        name = v;
        val.p = val.e = v.e;
    }
    skip_space(&val);

    /* Attributes valid at both levels. */
    if (span_is(name, "ice-ufrag"))
        return attr_ice(ps, val, m ? &m->ice_ufrag : &sdp->ice_ufrag);
    if (span_is(name, "ice-pwd"))
        return attr_ice(ps, val, m ? &m->ice_pwd : &sdp->ice_pwd);
    if (span_is(name, "fingerprint"))
        return m ? attr_fingerprint(ps, val, &m->fp_alg, &m->fp_hex)
                 : attr_fingerprint(ps, val, &sdp->fp_alg, &sdp->fp_hex);
    if (span_is(name, "setup"))
        return attr_setup(ps, val, m ? &m->setup : &sdp->setup);
    if (span_is(name, "sendrecv"))
        return set_dir(ps, LC_SDP_DIR_SENDRECV);
    if (span_is(name, "sendonly"))
        return set_dir(ps, LC_SDP_DIR_SENDONLY);
    if (span_is(name, "recvonly"))
        return set_dir(ps, LC_SDP_DIR_RECVONLY);
    if (span_is(name, "inactive"))
        return set_dir(ps, LC_SDP_DIR_INACTIVE);
    if (span_is(name, "extmap"))
        return m ? add_extmap(ps, m->ext, &m->next, val)
                 : add_extmap(ps, ps->session_ext, &ps->nsession_ext, val);

    if (!m) {
        if (span_is(name, "group"))
            return attr_group(ps, val);
        if (span_is(name, "msid-semantic")) {
            while (val.e > val.p && is_space(val.e[-1]))
                val.e--;
            KEEP(sdp->msid_semantic, ps, val);
        } else if (span_is(name, "ice-lite")) {
            sdp->ice_lite = 1;
        }
        return 0;   /* other session attributes do not concern us */
    }

    if (span_is(name, "mid")) {
        if (m->mid)
            return fail(ps, "second a=mid in one section");
        if (!span_token(val, LC_SDP_MAX_MID))
            return fail(ps, "bad mid");
        KEEP(m->mid, ps, val);
    } else if (span_is(name, "rtpmap")) {
        return attr_rtpmap(ps, val);
    } else if (span_is(name, "fmtp")) {
        return attr_fmtp(ps, val);
    } else if (span_is(name, "rtcp-fb")) {
        return attr_rtcp_fb(ps, val);
    } else if (span_is(name, "ssrc")) {
        return attr_ssrc(ps, val);
    } else if (span_is(name, "ssrc-group")) {
        return attr_ssrc_group(ps, val);
    } else if (span_is(name, "rtcp-mux") || span_is(name, "rtcp-mux-only")) {
        m->rtcp_mux = 1;
    } else if (span_is(name, "rtcp-rsize")) {
        m->rtcp_rsize = 1;
    } else if (span_is(name, "bundle-only")) {
        m->bundle_only = 1;
    } else if (span_is(name, "msid")) {
        while (val.e > val.p && is_space(val.e[-1]))
            val.e--;
        KEEP(m->msid, ps, val);
    } else if (span_is(name, "candidate")) {
        m->ncandidates++;
    } else if (span_is(name, "end-of-candidates")) {
        m->end_of_candidates = 1;
    } else if (span_is(name, "sctp-port")) {
        if (span_uint(val, 65535, &n) < 0)
            return fail(ps, "bad sctp-port");
        m->sctp_port = (unsigned)n;
    } else if (span_is(name, "sctpmap")) {
        span_t t;   /* draft-ietf-mmusic-sctp-sdp-05: "5000 webrtc-datachannel 1024" */
        if (!next_tok(&val, &t) || span_uint(t, 65535, &n) < 0)
            return fail(ps, "bad sctpmap");
        m->sctp_port = (unsigned)n;
    } else if (span_is(name, "max-message-size")) {
        if (span_uint(val, 0xffffffffUL, &n) < 0)
            return fail(ps, "bad max-message-size");
        m->max_message_size = (unsigned)n;
    } else if (span_is(name, "simulcast") || span_is(name, "rid")) {
        m->simulcast = 1;
    }
    return 0;
}

/* ---- finishing pass ------------------------------------------------------------ */

static const struct {
    int pt;
    const char *name;
    unsigned clock, channels;
} static_pts[] = {  /* RFC 3551 table 4, the ones offers list without rtpmap */
    { 0, "PCMU", 8000, 1 }, { 3, "GSM", 8000, 1 }, { 8, "PCMA", 8000, 1 },
    { 9, "G722", 8000, 1 }, { 13, "CN", 8000, 1 }, { 18, "G729", 8000, 1 },
};

static int finish(parser_t *ps)
{
    lc_sdp_t *sdp = ps->sdp;

    ps->line = 0;
    for (size_t i = 0; i < sdp->nmedia; i++) {
        lc_sdp_media_t *m = &sdp->media[i];

        if (!ps->media_dir_set[i])
            m->dir = ps->session_dir_set ? ps->session_dir : LC_SDP_DIR_SENDRECV;

        for (size_t j = 0; m->mid && j < i; j++)
            if (sdp->media[j].mid && strcmp(sdp->media[j].mid, m->mid) == 0)
                return fail(ps, "mid \"%s\" used twice", m->mid);

        for (size_t k = 0; k < ps->nsession_ext; k++) {
            int have = 0;
            for (size_t j = 0; j < m->next; j++)
                have |= m->ext[j].id == ps->session_ext[k].id;
            if (have)
                continue;   /* the section's own mapping wins (RFC 8285 section 5) */
            if (m->next >= LC_SDP_MAX_EXTMAP)
                return fail(ps, "more than %d extmaps", LC_SDP_MAX_EXTMAP);
            m->ext[m->next++] = ps->session_ext[k];
        }

        for (size_t j = 0; j < m->npts; j++) {
            lc_sdp_pt_t *pt = &m->pts[j];
            size_t vlen;
            const char *apt;

            pt->fb |= ps->fb_all[i];
            pt->fb_other += ps->fb_all_other[i];
            if (!pt->clock) {
                for (size_t k = 0; k < sizeof(static_pts) / sizeof(static_pts[0]); k++) {
                    if (static_pts[k].pt == pt->pt) {
                        pt->name = static_pts[k].name;
                        pt->clock = static_pts[k].clock;
                        pt->channels = static_pts[k].channels;
                    }
                }
            }
            if (strcasecmp(pt->name, "rtx") == 0 && (apt = lc_sdp_fmtp_find(pt->fmtp, "apt", &vlen))) {
                span_t s = { apt, apt + vlen };
                unsigned long n;
                if (span_uint(s, 127, &n) == 0)
                    pt->apt = (int)n;
            }
        }
    }
    return 0;
}

lc_sdp_t *lc_sdp_parse(const char *text, size_t len, char *err, size_t errlen)
{
    parser_t ps;
    const char *p = text, *end = text + len;
    int seen_v = 0;

    memset(&ps, 0, sizeof(ps));
    ps.err = err;
    ps.errlen = errlen;
    if (errlen)
        err[0] = '\0';
    if (len > LC_SDP_MAX_TEXT) {
        fail(&ps, "larger than %d bytes", LC_SDP_MAX_TEXT);
        return NULL;
    }
    if (len && memchr(text, '\0', len)) {
        fail(&ps, "NUL byte in text");
        return NULL;
    }
    ps.sdp = calloc(1, sizeof(*ps.sdp));
    ps.arena_len = len + 1;
    ps.arena = malloc(ps.arena_len);
    if (!ps.sdp || !ps.arena) {
        free(ps.sdp);
        free(ps.arena);
        fail(&ps, "out of memory");
        return NULL;
    }
    ps.sdp->arena_ = ps.arena;

    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *le = nl ? nl : end, *next = nl ? nl + 1 : end;
        span_t v;
        int rc = 0;

        ps.line++;
        while (le > p && (le[-1] == '\r' || is_space(le[-1])))
            le--;
        if (le == p) {   /* blank lines: harmless, some tools end with two */
            p = next;
            continue;
        }
        if (le - p < 2 || p[1] != '=' || p[0] < 'a' || p[0] > 'z') {
            fail(&ps, "expected type=value");
            goto failed;
        }
        v.p = p + 2;
        v.e = le;
        if (!seen_v) {
            if (p[0] != 'v' || !span_is(v, "0")) {
                fail(&ps, "must start with v=0");
                goto failed;
            }
            seen_v = 1;
        } else if (p[0] == 'v') {
            fail(&ps, "second v= line");
            goto failed;
        } else if (p[0] == 'm') {
            rc = parse_m(&ps, v);
        } else if (p[0] == 'a') {
            rc = parse_a(&ps, v);
        }   /* o= s= t= c= b= and the rest: nothing an ICE-lite SFU uses */
        if (rc < 0)
            goto failed;
        p = next;
    }
    if (!seen_v) {
        fail(&ps, "empty");
        goto failed;
    }
    if (finish(&ps) < 0)
        goto failed;
    return ps.sdp;

failed:
    lc_sdp_free(ps.sdp);
    return NULL;
}

void lc_sdp_free(lc_sdp_t *sdp)
{
    if (!sdp)
        return;
    free(sdp->arena_);
    free(sdp);
}
