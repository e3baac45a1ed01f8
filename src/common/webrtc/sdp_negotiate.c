/*
 * sdp_negotiate.c: see sdp_negotiate.h. Policy, then the answer text.
 *
 * Policy in one paragraph. The transport comes from the offerer's BUNDLE
 * tag (the first mid of a=group:BUNDLE): we only ever run one ICE/DTLS
 * transport, so an offer without BUNDLE is refused rather than half served.
 * Each m= section is then accepted or rejected on its own: it must be in
 * the BUNDLE group, use DTLS-SRTP (SAVP/SAVPF), multiplex RTCP, go the way
 * the role needs, and offer a codec we take; at most one audio, one video
 * and one data channel section are accepted, the rest get port 0. Codec
 * choice follows the offerer's order (RFC 3264 section 6.1: the answerer
 * should honour it) restricted to what we run; among several H.264 entries
 * the one fitting the stream best wins (same profile-level-id, then
 * constrained baseline, what every browser decodes in hardware).
 *
 * Failures a person can act on are errors, not silent rejections: a
 * publisher whose video codec we lack would otherwise publish audio only
 * and never know why.
 */
#include "common/webrtc/sdp_negotiate.h"

#include <arpa/inet.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char *const ext_uri[LC_SDP_EXT_COUNT] = {
    [LC_SDP_EXT_MID] = "urn:ietf:params:rtp-hdrext:sdes:mid",
    [LC_SDP_EXT_ABS_SEND_TIME] = "http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time",
    [LC_SDP_EXT_TWCC] = "http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01",
    [LC_SDP_EXT_AUDIO_LEVEL] = "urn:ietf:params:rtp-hdrext:ssrc-audio-level",
};

static int fail(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    if (errlen) {
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return -1;
}

/* Bounded copy; the parser's limits make every source fit its field. */
static void copy(char *dst, size_t cap, const char *src)
{
    snprintf(dst, cap, "%s", src ? src : "");
}

static int in_list(const char *const *list, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (list[i] && strcasecmp(list[i], name) == 0)
            return 1;
    return 0;
}

static int ext_offered(const lc_sdp_media_t *m, lc_sdp_negotiate_ext_t e)
{
    for (size_t i = 0; i < m->next; i++)
        if (strcmp(m->ext[i].uri, ext_uri[e]) == 0)
            return m->ext[i].id;
    return 0;
}

/* ---- codec choice ----------------------------------------------------------- */

/* The six hex digits of an H.264 profile-level-id, or RFC 6184's default
 * 420010 (baseline) when the fmtp says nothing. NULL if malformed. */
static const char *h264_plid(const lc_sdp_pt_t *pt, char out[7])
{
    size_t n;
    const char *v = lc_sdp_fmtp_find(pt->fmtp, "profile-level-id", &n);
    if (!v) {
        memcpy(out, "420010", 7);
        return out;
    }
    if (n != 6)
        return NULL;
    for (size_t i = 0; i < 6; i++) {
        char c = v[i];
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')))
            return NULL;
        out[i] = (c >= 'A' && c <= 'F') ? (char)(c - 'A' + 'a') : c;
    }
    out[6] = '\0';
    return out;
}

/* Can we carry pt as codec `name` at all? */
static int usable(const lc_sdp_pt_t *pt, const char *name)
{
    size_t n;
    const char *v;
    char plid[7];

    if (strcasecmp(pt->name, name) != 0)
        return 0;
    if (strcasecmp(name, "H264") == 0) {
        /* Mode 0 (one NAL unit per packet) cannot carry our FU-A/STAP-A
         * packetization; RFC 6184 defaults to mode 0 when unsaid. */
        v = lc_sdp_fmtp_find(pt->fmtp, "packetization-mode", &n);
        return pt->clock == 90000 && v && n == 1 && v[0] == '1' && h264_plid(pt, plid);
    }
    if (strcasecmp(name, "VP8") == 0)
        return pt->clock == 90000;
    if (strcasecmp(name, "opus") == 0)
        return pt->clock == 48000 && pt->channels == 2;  /* RFC 7587: always /2 */
    return pt->clock != 0;
}

/* Higher is better; only H.264 entries differ. */
static int h264_score(const lc_sdp_pt_t *pt, const char *want)
{
    char plid[7];
    if (!h264_plid(pt, plid))
        return 0;
    if (want && strlen(want) == 6) {
        if (strncasecmp(plid, want, 6) == 0)
            return 4;
        if (strncasecmp(plid, want, 4) == 0)    /* same profile_idc and constraints */
            return 3;
    }
    if (strncmp(plid, "42", 2) == 0)    /* baseline / constrained baseline */
        return 2;
    return 1;
}

/* Index in m->pts of the payload type to use, -1 if none. PUBLISH takes the
 * first codec in offer order that we run; PLAY only the stream's codec. */
static int choose_pt(const lc_sdp_media_t *m, lc_sdp_negotiate_role_t role,
                     const lc_sdp_negotiate_policy_t *pol)
{
    const char *name = NULL;
    int best = -1, best_score = 0;

    if (role == LC_SDP_NEGOTIATE_PLAY) {
        name = m->kind == LC_SDP_KIND_VIDEO ? pol->stream_video : pol->stream_audio;
        int offered = 0;
        for (size_t i = 0; name && i < m->npts && !offered; i++)
            offered = usable(&m->pts[i], name);
        if (!offered && pol->play_transcode)
            name = NULL; /* the player's first codec, through a transcoder (SPEC 6) */
    }
    if (!name) {
        const char *const *list = m->kind == LC_SDP_KIND_VIDEO ? pol->video : pol->audio;
        size_t nlist = m->kind == LC_SDP_KIND_VIDEO ? pol->nvideo : pol->naudio;
        for (size_t i = 0; i < m->npts && !name && (role != LC_SDP_NEGOTIATE_PLAY || pol->play_transcode); i++)
            if (in_list(list, nlist, m->pts[i].name) && usable(&m->pts[i], m->pts[i].name))
                name = m->pts[i].name;
    }
    if (!name)
        return -1;
    for (size_t i = 0; i < m->npts; i++) {
        int score;
        if (!usable(&m->pts[i], name))
            continue;
        score = strcasecmp(name, "H264") == 0
                ? h264_score(&m->pts[i], role == LC_SDP_NEGOTIATE_PLAY ? pol->stream_h264_profile : NULL)
                : 1;
        if (score > best_score) {
            best = (int)i;
            best_score = score;
        }
    }
    return best;
}

/* Fill the RTP part of r from the offered section m and its payload type. */
static void accept_rtp(lc_sdp_negotiate_media_t *r, const lc_sdp_media_t *m, const lc_sdp_pt_t *pt,
                       lc_sdp_negotiate_role_t role, const lc_sdp_negotiate_policy_t *pol)
{
    const unsigned basic = LC_SDP_FB_NACK | LC_SDP_FB_NACK_PLI | LC_SDP_FB_CCM_FIR;
    int twcc = ext_offered(m, LC_SDP_EXT_TWCC);

    r->accepted = 1;
    r->pt = pt->pt;
    copy(r->codec, sizeof(r->codec), pt->name);
    r->clock = pt->clock;
    r->channels = pt->channels;
    r->rtcp_rsize = m->rtcp_rsize;
    r->dir = role == LC_SDP_NEGOTIATE_PUBLISH ? LC_SDP_DIR_RECVONLY : LC_SDP_DIR_SENDONLY;

    /* One congestion controller, never both: transport-cc when its header
     * extension comes along (send-side BWE), else REMB fed by abs-send-time. */
    r->fb = pt->fb & basic;
    if (twcc && (pt->fb & LC_SDP_FB_TRANSPORT_CC)) {
        r->fb |= LC_SDP_FB_TRANSPORT_CC;
        r->ext_id[LC_SDP_EXT_TWCC] = twcc;
    } else if (pt->fb & LC_SDP_FB_GOOG_REMB) {
        r->fb |= LC_SDP_FB_GOOG_REMB;
        r->ext_id[LC_SDP_EXT_ABS_SEND_TIME] = ext_offered(m, LC_SDP_EXT_ABS_SEND_TIME);
    }
    r->ext_id[LC_SDP_EXT_MID] = ext_offered(m, LC_SDP_EXT_MID);
    if (m->kind == LC_SDP_KIND_AUDIO)
        r->ext_id[LC_SDP_EXT_AUDIO_LEVEL] = ext_offered(m, LC_SDP_EXT_AUDIO_LEVEL);

    /* RTX only repairs what NACK asks for; without NACK it is dead weight. */
    r->rtx_pt = -1;
    for (size_t i = 0; (r->fb & LC_SDP_FB_NACK) && i < m->npts; i++) {
        if (strcasecmp(m->pts[i].name, "rtx") == 0 && m->pts[i].apt == pt->pt
            && m->pts[i].clock == pt->clock) {
            r->rtx_pt = m->pts[i].pt;
            break;
        }
    }

    r->fmtp[0] = '\0';
    if (strcasecmp(pt->name, "H264") == 0) {
        char plid[7];
        const char *want = pol->stream_h264_profile;
        h264_plid(pt, plid);
        /* Browsers match answer to offer by profile, not level: say the
         * publisher's exact profile-level-id only when the profile agrees. */
        if (role == LC_SDP_NEGOTIATE_PLAY && want && strlen(want) == 6 && strncasecmp(plid, want, 4) == 0)
            copy(plid, sizeof(plid), want);
        snprintf(r->fmtp, sizeof(r->fmtp),
                 "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=%s", plid);
    } else if (strcasecmp(pt->name, "opus") == 0) {
        snprintf(r->fmtp, sizeof(r->fmtp), "minptime=10;useinbandfec=1");
    }
}

static int in_bundle(const lc_sdp_t *o, const char *mid)
{
    for (size_t i = 0; mid && i < o->nbundle; i++)
        if (strcmp(o->bundle[i], mid) == 0)
            return 1;
    return 0;
}

static const char *setup_name(lc_sdp_setup_t s)
{
    switch (s) {
    case LC_SDP_SETUP_ACTPASS: return "actpass";
    case LC_SDP_SETUP_ACTIVE: return "active";
    case LC_SDP_SETUP_PASSIVE: return "passive";
    case LC_SDP_SETUP_HOLDCONN: return "holdconn";
    default: return "none";
    }
}

/* The transport of the offerer's BUNDLE tag, media level over session. */
static int take_transport(const lc_sdp_t *o, lc_sdp_negotiate_t *out, char *err, size_t errlen)
{
    const lc_sdp_media_t *tag = NULL;
    const char *ufrag, *pwd, *alg, *hex;
    lc_sdp_setup_t setup;

    if (o->nbundle == 0)
        return fail(err, errlen, "Bad SDP: no a=group:BUNDLE (BUNDLE is required)");
    for (size_t i = 0; i < o->nmedia && !tag; i++)
        if (o->media[i].mid && strcmp(o->media[i].mid, o->bundle[0]) == 0)
            tag = &o->media[i];
    if (!tag)
        return fail(err, errlen, "Bad SDP: no BUNDLE-able mid (BUNDLE names \"%s\", no section has it)",
                    o->bundle[0]);
    ufrag = tag->ice_ufrag ? tag->ice_ufrag : o->ice_ufrag;
    pwd = tag->ice_pwd ? tag->ice_pwd : o->ice_pwd;
    alg = tag->fp_alg ? tag->fp_alg : o->fp_alg;
    hex = tag->fp_alg ? tag->fp_hex : o->fp_hex;
    setup = tag->setup ? tag->setup : o->setup;
    if (!ufrag)
        return fail(err, errlen, "Bad SDP: no ice-ufrag");
    if (!pwd)
        return fail(err, errlen, "Bad SDP: no ice-pwd");
    if (!alg)
        return fail(err, errlen, "Bad SDP: no fingerprint");
    if (setup == LC_SDP_SETUP_NONE)
        return fail(err, errlen, "Bad SDP: no setup");
    if (setup != LC_SDP_SETUP_ACTPASS && setup != LC_SDP_SETUP_ACTIVE)
        return fail(err, errlen, "Bad SDP: setup:%s, we are DTLS passive (need actpass or active)",
                    setup_name(setup));
    copy(out->ice_ufrag, sizeof(out->ice_ufrag), ufrag);
    copy(out->ice_pwd, sizeof(out->ice_pwd), pwd);
    copy(out->fp_alg, sizeof(out->fp_alg), alg);
    copy(out->fp_hex, sizeof(out->fp_hex), hex);
    out->setup = setup;
    return 0;
}

static void join(char *buf, size_t cap, const char *const *list, size_t n)
{
    size_t used = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < n && used < cap; i++) {
        int w = snprintf(buf + used, cap - used, "%s%s", i == 0 ? "" : i + 1 == n ? " or " : ", ",
                         list[i] ? list[i] : "");
        if (w < 0)
            break;
        used += (size_t)w;
    }
}

int lc_sdp_negotiate_offer(const lc_sdp_t *offer, lc_sdp_negotiate_role_t role,
                           const lc_sdp_negotiate_policy_t *pol, lc_sdp_negotiate_t *out,
                           char *err, size_t errlen)
{
    /* Sections of a kind that went the right way but had no codec for us. */
    int no_codec[LC_SDP_KIND_APPLICATION + 1] = { 0 };
    int publish = role == LC_SDP_NEGOTIATE_PUBLISH;
    char names[128];

    memset(out, 0, sizeof(*out));
    out->role = role;
    out->audio = out->video = out->data = -1;
    if (errlen)
        err[0] = '\0';

    if (offer->nmedia == 0)
        return fail(err, errlen, "Bad SDP: no media");
    if (take_transport(offer, out, err, errlen) < 0)
        return -1;

    for (size_t i = 0; i < offer->nmedia; i++) {
        const lc_sdp_media_t *m = &offer->media[i];
        lc_sdp_negotiate_media_t *r = &out->media[i];
        int *slot = m->kind == LC_SDP_KIND_AUDIO ? &out->audio
                  : m->kind == LC_SDP_KIND_VIDEO ? &out->video
                  : m->kind == LC_SDP_KIND_APPLICATION ? &out->data : NULL;
        int pick;

        out->nmedia++;
        r->kind = m->kind;
        copy(r->media, sizeof(r->media), m->media);
        copy(r->proto, sizeof(r->proto), m->proto);
        copy(r->fmt, sizeof(r->fmt), m->fmt);
        copy(r->mid, sizeof(r->mid), m->mid);
        r->rtx_pt = -1;
        r->dir = LC_SDP_DIR_INACTIVE;
        /* a rejected section still names its format's codec: aiortc wants one it knows in every section */
        if (m->npts > 0 && m->pts[0].name && m->pts[0].name[0] && m->pts[0].clock) {
            copy(r->codec, sizeof(r->codec), m->pts[0].name);
            r->pt = m->pts[0].pt;
            r->clock = m->pts[0].clock;
            r->channels = m->pts[0].channels;
        }

        if (m->port == 0 && !m->bundle_only) {
            r->why = "disabled in the offer";
            continue;
        }
        if (!slot) {
            r->why = "unknown media";
            continue;
        }
        if (!in_bundle(offer, m->mid)) {
            r->why = "not in the BUNDLE group";
            continue;
        }
        if (*slot >= 0) {
            r->why = "one section of each kind per session";
            continue;
        }

        if (m->kind == LC_SDP_KIND_APPLICATION) {
            if (!pol->datachannel) {
                r->why = "data channels disabled";
                continue;
            }
            if (!strstr(m->proto, "DTLS/SCTP")) {
                r->why = "not SCTP over DTLS";
                continue;
            }
            r->accepted = 1;
            r->dir = LC_SDP_DIR_SENDRECV;
            /* RFC 8841 section 5.2: 5000 when the offer does not say. */
            r->sctp_port = m->sctp_port ? m->sctp_port : 5000;
            r->max_message_size = m->max_message_size;
            *slot = (int)i;
            continue;
        }

        if (!strstr(m->proto, "RTP/SAVP")) {
            r->why = "not DTLS-SRTP";
            continue;
        }
        if (publish ? (m->dir != LC_SDP_DIR_SENDONLY && m->dir != LC_SDP_DIR_SENDRECV)
                    : (m->dir != LC_SDP_DIR_RECVONLY && m->dir != LC_SDP_DIR_SENDRECV)) {
            r->why = publish ? "the client does not send here" : "the client does not receive here";
            continue;
        }
        if (!publish && !(m->kind == LC_SDP_KIND_VIDEO ? pol->stream_video : pol->stream_audio)) {
            r->why = "the stream has no media of this kind";
            continue;
        }
        if ((pick = choose_pt(m, role, pol)) < 0) {
            no_codec[m->kind] = 1;
            r->why = "no codec in common";
            continue;
        }
        if (!m->rtcp_mux)
            return fail(err, errlen, "Bad SDP: mid %s has no a=rtcp-mux (RTCP multiplexing is required)",
                        m->mid);
        accept_rtp(r, m, &m->pts[pick], role, pol);
        *slot = (int)i;
    }

    /* Codec errors first: they say more than "nothing accepted" would. */
    if (publish && no_codec[LC_SDP_KIND_VIDEO] && out->video < 0) {
        join(names, sizeof(names), pol->video, pol->nvideo);
        return fail(err, errlen, "Codec not supported: offer has no %s video", names);
    }
    if (publish && no_codec[LC_SDP_KIND_AUDIO] && out->audio < 0) {
        join(names, sizeof(names), pol->audio, pol->naudio);
        return fail(err, errlen, "Codec not supported: offer has no %s audio", names);
    }
    /* A player's audio may fall back to silence (a stream with AAC nobody
     * transcodes), but the picture is what was asked for. */
    if (!publish && no_codec[LC_SDP_KIND_VIDEO] && out->video < 0)
        return fail(err, errlen, "Codec not supported: stream video is %s, the offer has no %s%s video",
                    pol->stream_video, pol->stream_video,
                    strcasecmp(pol->stream_video, "H264") == 0 ? " (packetization-mode=1)" : "");
    if (out->audio < 0 && out->video < 0) {
        if (!publish && no_codec[LC_SDP_KIND_AUDIO])
            return fail(err, errlen, "Codec not supported: stream audio is %s, the offer has none",
                        pol->stream_audio);
        if (!publish && !pol->stream_audio && !pol->stream_video)
            return fail(err, errlen, "Codec not supported: the stream has no audio or video");
        return fail(err, errlen, publish ? "Bad SDP: publish offer has no sendable audio or video in BUNDLE"
                                         : "Bad SDP: play offer has no receivable audio or video in BUNDLE");
    }
    return 0;
}

/* ---- the answer -------------------------------------------------------------- */

typedef struct {
    char *s;
    size_t len, cap;
    int failed;
} sbuf_t;

static void put(sbuf_t *b, const char *fmt, ...)
{
    va_list ap;
    int n;

    if (b->failed)
        return;
    for (;;) {
        va_start(ap, fmt);
        n = vsnprintf(b->s ? b->s + b->len : NULL, b->s ? b->cap - b->len : 0, fmt, ap);
        va_end(ap);
        if (n < 0) {
            b->failed = 1;
            return;
        }
        if (b->s && (size_t)n < b->cap - b->len) {
            b->len += (size_t)n;
            /* Keep the answer re-parseable by our own parser, which caps input. */
            if (b->len > LC_SDP_MAX_TEXT)
                b->failed = 1;
            return;
        }
        if (b->len + (size_t)n > LC_SDP_MAX_TEXT) {
            b->failed = 1;
            return;
        }
        size_t cap = b->cap ? b->cap * 2 : 4096;
        while (cap < b->len + (size_t)n + 1)
            cap *= 2;
        char *s = realloc(b->s, cap);
        if (!s) {
            b->failed = 1;
            return;
        }
        b->s = s;
        b->cap = cap;
    }
}

/* ice-char (RFC 8839): ALPHA / DIGIT / "+" / "/", with its length range. */
static int ice_ok(const char *s, size_t min, size_t max)
{
    size_t n = s ? strlen(s) : 0;
    if (n < min || n > max)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '+' || c == '/'))
            return 0;
    }
    return 1;
}

/* token-char of RFC 8866 section 9, as RFC 8830 msid-id requires. */
static int token_ok(const char *s, size_t max)
{
    size_t n = s ? strlen(s) : 0;
    if (n == 0 || n > max)
        return 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c <= 0x20 || c >= 0x7f || c == '"' || c == '(' || c == ')' || c == ',' || c == '/'
            || c == ':' || c == ';' || c == '<' || c == '=' || c == '>' || c == '?' || c == '@'
            || c == '[' || c == '\\' || c == ']')
            return 0;
    }
    return 1;
}

static int fingerprint_ok(const char *fp)
{
    const char *sp = fp ? strchr(fp, ' ') : NULL;
    if (!sp || sp == fp || (size_t)(sp - fp) > LC_SDP_MAX_FP_ALG || !sp[1] || strlen(sp + 1) > LC_SDP_MAX_FP_HEX)
        return 0;
    for (const char *p = fp; p < sp; p++)
        if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f)
            return 0;
    for (const char *p = sp + 1; *p; p++)
        if (!((*p >= '0' && *p <= '9') || (*p >= 'A' && *p <= 'F') || (*p >= 'a' && *p <= 'f') || *p == ':'))
            return 0;
    return 1;
}

typedef struct {
    char ip[INET6_ADDRSTRLEN];
    int v6;
    unsigned port;
} cand_t;

/* "1.2.3.4:5000" or "[2001:db8::1]:5000". */
static int cand_parse(const char *s, cand_t *c)
{
    const char *colon, *ip = s, *ipe;
    unsigned char bin[16];
    char *end;
    unsigned long port;

    if (!s)
        return -1;
    if (s[0] == '[') {
        ip = s + 1;
        if (!(ipe = strchr(ip, ']')) || ipe[1] != ':')
            return -1;
        colon = ipe + 1;
        c->v6 = 1;
    } else {
        if (!(colon = strrchr(s, ':')))
            return -1;
        ipe = colon;
        c->v6 = 0;
    }
    if ((size_t)(ipe - ip) >= sizeof(c->ip) || colon[1] < '0' || colon[1] > '9')
        return -1;
    memcpy(c->ip, ip, (size_t)(ipe - ip));
    c->ip[ipe - ip] = '\0';
    if (inet_pton(c->v6 ? AF_INET6 : AF_INET, c->ip, bin) != 1)
        return -1;
    port = strtoul(colon + 1, &end, 10);
    if (*end || port == 0 || port > 65535)
        return -1;
    c->port = (unsigned)port;
    return 0;
}

static const char *dir_name(lc_sdp_dir_t d)
{
    switch (d) {
    case LC_SDP_DIR_SENDONLY: return "sendonly";
    case LC_SDP_DIR_RECVONLY: return "recvonly";
    case LC_SDP_DIR_INACTIVE: return "inactive";
    default: return "sendrecv";
    }
}

static void put_fb(sbuf_t *b, int pt, unsigned fb)
{
    static const struct { unsigned bit; const char *text; } names[] = {
        { LC_SDP_FB_NACK, "nack" }, { LC_SDP_FB_NACK_PLI, "nack pli" }, { LC_SDP_FB_CCM_FIR, "ccm fir" },
        { LC_SDP_FB_GOOG_REMB, "goog-remb" }, { LC_SDP_FB_TRANSPORT_CC, "transport-cc" },
    };
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (fb & names[i].bit)
            put(b, "a=rtcp-fb:%d %s\r\n", pt, names[i].text);
}

/* Extmaps in ascending id order, as browsers write them. */
static void put_extmaps(sbuf_t *b, const lc_sdp_negotiate_media_t *r)
{
    for (int id = 1; id <= 255; id++)
        for (int e = 0; e < LC_SDP_EXT_COUNT; e++)
            if (r->ext_id[e] == id)
                put(b, "a=extmap:%d %s\r\n", id, ext_uri[e]);
}

static void put_ssrc(sbuf_t *b, uint32_t ssrc, const lc_sdp_negotiate_server_t *srv, const char *track)
{
    put(b, "a=ssrc:%" PRIu32 " cname:%s\r\n", ssrc, srv->cname);
    put(b, "a=ssrc:%" PRIu32 " msid:%s %s-%s\r\n", ssrc, srv->msid_stream, srv->msid_stream, track);
}

static int cand_is_loopback(const cand_t *c)
{
    return c->v6 ? strcmp(c->ip, "::1") == 0 : strncmp(c->ip, "127.", 4) == 0;
}

/* RFC 8445 section 5.1.2.1 with type preference 126 (host), a distinct
 * local preference per address, component 1; one foundation per address.
 * A loopback address ranks below every other: browsers do not gather on
 * loopback, and reach it from another address only where the kernel
 * happens to deliver it, so a pair with a real address is preferred. */
static void put_candidates(sbuf_t *b, const cand_t *c, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        size_t f = i;
        uint32_t local = (uint32_t)(65535 - i) - (cand_is_loopback(&c[i]) ? 32768u : 0u);
        uint32_t prio = (126u << 24) | (local << 8) | (256 - 1);
        for (size_t j = 0; j < i; j++)
            if (strcmp(c[j].ip, c[i].ip) == 0) {
                f = j;
                break;
            }
        put(b, "a=candidate:%zu 1 udp %" PRIu32 " %s %u typ host\r\n", f + 1, prio, c[i].ip, c[i].port);
    }
    put(b, "a=end-of-candidates\r\n");
}

static void put_media(sbuf_t *b, const lc_sdp_negotiate_t *n, const lc_sdp_negotiate_media_t *r,
                      const lc_sdp_negotiate_server_t *srv, const cand_t *cands, int tag)
{
    const char *track = r->kind == LC_SDP_KIND_VIDEO ? "video" : "audio";
    int play = n->role == LC_SDP_NEGOTIATE_PLAY;
    unsigned port = srv->ncandidates ? cands[0].port : 9;
    const char *conn = srv->ncandidates ? cands[0].ip : "0.0.0.0";
    int v6 = srv->ncandidates && cands[0].v6;
    int legacy_sctp = r->kind == LC_SDP_KIND_APPLICATION && strcmp(r->proto, "UDP/DTLS/SCTP") != 0
                      && strcmp(r->proto, "TCP/DTLS/SCTP") != 0;

    if (!r->accepted) {
        /* JSEP 5.3.1: port 0, the offered proto and a format, the mid. */
        put(b, "m=%s 0 %s %s\r\nc=IN IP4 0.0.0.0\r\n", r->media, r->proto, r->fmt);
        if (r->mid[0])
            put(b, "a=mid:%s\r\n", r->mid);
        /* JSEP does not need them here, but aiortc refuses any section
         * without ICE credentials, a DTLS role and rtcp-mux, rejected or not */
        put(b, "a=inactive\r\na=ice-ufrag:%s\r\na=ice-pwd:%s\r\na=fingerprint:%s\r\na=setup:passive\r\n"
               "a=rtcp-mux\r\n", srv->ice_ufrag, srv->ice_pwd, srv->fingerprint);
        if (r->codec[0] && r->kind != LC_SDP_KIND_APPLICATION) {
            put(b, "a=rtpmap:%d %s/%u", r->pt, r->codec, r->clock);
            put(b, r->channels > 1 ? "/%u\r\n" : "\r\n", r->channels);
        }
        return;
    }
    if (r->kind == LC_SDP_KIND_APPLICATION) {
        if (legacy_sctp)
            put(b, "m=application %u DTLS/SCTP %u\r\n", port, srv->sctp_port);
        else
            put(b, "m=application %u %s webrtc-datachannel\r\n", port, r->proto);
    } else {
        put(b, "m=%s %u %s %d", r->media, port, r->proto, r->pt);
        if (r->rtx_pt >= 0)
            put(b, " %d", r->rtx_pt);
        put(b, "\r\n");
    }
    put(b, "c=IN %s %s\r\n", v6 ? "IP6" : "IP4", conn);
    put(b, "a=ice-ufrag:%s\r\na=ice-pwd:%s\r\n", srv->ice_ufrag, srv->ice_pwd);
    put(b, "a=fingerprint:%s\r\na=setup:passive\r\n", srv->fingerprint);
    put(b, "a=mid:%s\r\n", r->mid);

    if (r->kind == LC_SDP_KIND_APPLICATION) {
        if (legacy_sctp)
            put(b, "a=sctpmap:%u webrtc-datachannel 1024\r\n", srv->sctp_port);
        else
            put(b, "a=sctp-port:%u\r\n", srv->sctp_port);
        if (srv->max_message_size)
            put(b, "a=max-message-size:%u\r\n", srv->max_message_size);
    } else {
        put_extmaps(b, r);
        put(b, "a=%s\r\n", dir_name(r->dir));
        if (play)
            put(b, "a=msid:%s %s-%s\r\n", srv->msid_stream, srv->msid_stream, track);
        put(b, "a=rtcp-mux\r\n");
        if (r->rtcp_rsize)
            put(b, "a=rtcp-rsize\r\n");
        put(b, "a=rtpmap:%d %s/%u", r->pt, r->codec, r->clock);
        if (r->channels)
            put(b, "/%u", r->channels);
        put(b, "\r\n");
        put_fb(b, r->pt, r->fb);
        if (r->fmtp[0])
            put(b, "a=fmtp:%d %s\r\n", r->pt, r->fmtp);
        if (r->rtx_pt >= 0)
            put(b, "a=rtpmap:%d rtx/%u\r\na=fmtp:%d apt=%d\r\n", r->rtx_pt, r->clock, r->rtx_pt, r->pt);
        if (play && r->kind == LC_SDP_KIND_VIDEO) {
            int rtx = r->rtx_pt >= 0 && srv->video_rtx_ssrc;
            if (rtx)
                put(b, "a=ssrc-group:FID %" PRIu32 " %" PRIu32 "\r\n", srv->video_ssrc, srv->video_rtx_ssrc);
            put_ssrc(b, srv->video_ssrc, srv, track);
            if (rtx)
                put_ssrc(b, srv->video_rtx_ssrc, srv, track);
        } else if (play) {
            put_ssrc(b, srv->audio_ssrc, srv, track);
        }
    }
    /* Bundled sections share the tag's transport: candidates once (JSEP 5.3.1). */
    if (tag)
        put_candidates(b, cands, srv->ncandidates);
}

char *lc_sdp_negotiate_answer(const lc_sdp_negotiate_t *n, const lc_sdp_negotiate_server_t *srv,
                              char *err, size_t errlen)
{
    sbuf_t b = { 0 };
    cand_t *cands = NULL;
    int play = n->role == LC_SDP_NEGOTIATE_PLAY, tag_done = 0;

    if (errlen)
        err[0] = '\0';
    if (!ice_ok(srv->ice_ufrag, 4, LC_SDP_MAX_ICE) || !ice_ok(srv->ice_pwd, 22, LC_SDP_MAX_ICE)) {
        fail(err, errlen, "Bad SDP answer: ice-ufrag/ice-pwd not ice-chars of the right length");
        return NULL;
    }
    if (!fingerprint_ok(srv->fingerprint)) {
        fail(err, errlen, "Bad SDP answer: fingerprint is not \"alg HEX:HEX...\"");
        return NULL;
    }
    if (play && (!token_ok(srv->cname, 64) || !token_ok(srv->msid_stream, 58)
                 || (n->video >= 0 && !srv->video_ssrc) || (n->audio >= 0 && !srv->audio_ssrc))) {
        fail(err, errlen, "Bad SDP answer: play needs ssrcs, and cname and msid_stream as tokens");
        return NULL;
    }
    if (n->data >= 0 && (srv->sctp_port == 0 || srv->sctp_port > 65535)) {
        fail(err, errlen, "Bad SDP answer: no sctp port");
        return NULL;
    }
    if (srv->ncandidates > 64) {
        fail(err, errlen, "Bad SDP answer: more than 64 candidates");
        return NULL;
    }
    if (srv->ncandidates && !(cands = calloc(srv->ncandidates, sizeof(*cands)))) {
        fail(err, errlen, "Bad SDP answer: out of memory");
        return NULL;
    }
    for (size_t i = 0; i < srv->ncandidates; i++) {
        if (cand_parse(srv->candidates[i], &cands[i]) < 0) {
            fail(err, errlen, "Bad SDP answer: candidate \"%.64s\" is not ip:port", srv->candidates[i]);
            free(cands);
            return NULL;
        }
    }

    put(&b, "v=0\r\no=- %" PRIu64 " 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=ice-lite\r\n",
        srv->session_id & 0x7fffffffffffffffULL);   /* RFC 8866: fits a signed 64-bit */
    put(&b, "a=group:BUNDLE");
    for (size_t i = 0; i < n->nmedia; i++)
        if (n->media[i].accepted)
            put(&b, " %s", n->media[i].mid);
    put(&b, "\r\n");
    if (play)
        put(&b, "a=msid-semantic: WMS %s\r\n", srv->msid_stream);
    else
        put(&b, "a=msid-semantic: WMS\r\n");
    for (size_t i = 0; i < n->nmedia; i++) {
        int tag = n->media[i].accepted && !tag_done;
        put_media(&b, n, &n->media[i], srv, cands, tag);
        tag_done |= tag;
    }
    free(cands);
    if (b.failed) {
        free(b.s);
        fail(err, errlen, "Bad SDP answer: larger than %d bytes or out of memory", LC_SDP_MAX_TEXT);
        return NULL;
    }
    return b.s;
}
