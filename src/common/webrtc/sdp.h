/*
 * sdp.h: SDP offers (RFC 8866, as JSEP RFC 8829 shapes them) from text into
 * a struct. I/O-free; never logs.
 *
 * This file owns syntax only: what the offer says, line by line, bounded.
 * What the server does with it (which codec, which feedback, accept or
 * reject a section) is policy and lives in sdp_negotiate.c, the split Janus
 * makes between sdp-utils.c and sdp.c. So the parser accepts a well-formed
 * offer with no ICE credentials or no fingerprint; negotiation refuses it.
 *
 * Ownership: lc_sdp_parse() returns one heap block the caller frees with
 * lc_sdp_free(). Every string in it points into that block (a private copy
 * of the pieces of the text), so the caller's text may go away at once.
 *
 * Limits: the text is at most LC_SDP_MAX_TEXT bytes and every list has a
 * fixed bound below. Going past a bound is an error ("Bad SDP: ..."), never
 * a silent truncation. Unknown attributes and line types are skipped
 * (RFC 8866 section 5), so simulcast, rid, ice-options and friends pass.
 */
#ifndef LC_COMMON_WEBRTC_SDP_H
#define LC_COMMON_WEBRTC_SDP_H

#include <stddef.h>
#include <stdint.h>

#define LC_SDP_MAX_TEXT   (64 * 1024)
#define LC_SDP_MAX_MEDIA  16    /* m= sections */
#define LC_SDP_MAX_PT     64    /* payload types per m= section */
#define LC_SDP_MAX_EXTMAP 32    /* a=extmap per m= section */
#define LC_SDP_MAX_SSRC   32    /* distinct a=ssrc per m= section */
#define LC_SDP_MAX_FID    16    /* a=ssrc-group:FID per m= section */
#define LC_SDP_MAX_BUNDLE LC_SDP_MAX_MEDIA
/* Longest accepted values, in bytes without the NUL. */
#define LC_SDP_MAX_MID    64    /* RFC 8843 mids; browsers use "0", "1" */
#define LC_SDP_MAX_TOKEN  32    /* m= media, proto, first fmt; rtpmap name */
#define LC_SDP_MAX_ICE    256   /* ice-ufrag, ice-pwd (RFC 8839: up to 256) */
#define LC_SDP_MAX_FP_ALG 16    /* "sha-256" */
#define LC_SDP_MAX_FP_HEX 191   /* sha-512: 64 bytes as "AB:" pairs */

typedef enum {
    LC_SDP_KIND_OTHER = 0,      /* e.g. "text", "message": only rejectable */
    LC_SDP_KIND_AUDIO,
    LC_SDP_KIND_VIDEO,
    LC_SDP_KIND_APPLICATION,
} lc_sdp_kind_t;

typedef enum {
    LC_SDP_DIR_SENDRECV = 0,    /* also the default when nothing is said */
    LC_SDP_DIR_SENDONLY,
    LC_SDP_DIR_RECVONLY,
    LC_SDP_DIR_INACTIVE,
} lc_sdp_dir_t;

typedef enum {
    LC_SDP_SETUP_NONE = 0,      /* no a=setup at this level */
    LC_SDP_SETUP_ACTPASS,
    LC_SDP_SETUP_ACTIVE,
    LC_SDP_SETUP_PASSIVE,
    LC_SDP_SETUP_HOLDCONN,
} lc_sdp_setup_t;

/* a=rtcp-fb values we know by name; others only counted (fb_other). */
enum {
    LC_SDP_FB_NACK         = 1u << 0,   /* "nack" */
    LC_SDP_FB_NACK_PLI     = 1u << 1,   /* "nack pli" */
    LC_SDP_FB_CCM_FIR      = 1u << 2,   /* "ccm fir" */
    LC_SDP_FB_GOOG_REMB    = 1u << 3,   /* "goog-remb" */
    LC_SDP_FB_TRANSPORT_CC = 1u << 4,   /* "transport-cc" */
};

typedef struct {
    int pt;                 /* 0..127, as listed on the m= line */
    const char *name;       /* rtpmap encoding name as written ("H264", "opus");
                               the static name for 0/8/9/13...; "" if unknown */
    unsigned clock;         /* rtpmap clock rate; 0 if unknown */
    unsigned channels;      /* rtpmap channels; 0 when not written */
    const char *fmtp;       /* a=fmtp text after "PT ", NULL when absent */
    unsigned fb;            /* LC_SDP_FB_* (including "a=rtcp-fb:*" ones) */
    unsigned fb_other;      /* rtcp-fb values not in LC_SDP_FB_* */
    int apt;                /* rtx: associated PT from fmtp apt=; -1 otherwise */
} lc_sdp_pt_t;

typedef struct {
    int id;                 /* 1..255 (RFC 8285) */
    const char *uri;
} lc_sdp_extmap_t;

typedef struct {
    uint32_t ssrc;
    const char *cname;      /* NULL when not given */
    const char *msid;       /* "stream track" as written, NULL when not given */
} lc_sdp_ssrc_t;

typedef struct {
    uint32_t media, rtx;    /* a=ssrc-group:FID media rtx */
} lc_sdp_fid_t;

typedef struct {
    lc_sdp_kind_t kind;
    const char *media;      /* m= media token as written */
    unsigned port;          /* 0: rejected/disabled by the offerer (see bundle_only) */
    const char *proto;      /* "UDP/TLS/RTP/SAVPF", "UDP/DTLS/SCTP", ... */
    const char *fmt;        /* first format token as written ("111", "webrtc-datachannel") */
    const char *mid;        /* NULL when absent */
    lc_sdp_dir_t dir;       /* this section's, else the session's, else sendrecv */
    int rtcp_mux, rtcp_rsize, bundle_only;
    int simulcast;          /* a=simulcast or a=rid present (ignored otherwise) */

    /* Media-level transport attributes; NULL/NONE when only session-level. */
    const char *ice_ufrag, *ice_pwd;
    const char *fp_alg, *fp_hex;    /* a=fingerprint: "sha-256", "AB:CD:.." */
    lc_sdp_setup_t setup;

    const char *msid;       /* a=msid value ("stream track"), NULL when absent */

    lc_sdp_pt_t pts[LC_SDP_MAX_PT];         /* in m= line order (the offerer's preference) */
    size_t npts;                            /* 0 for non-RTP protos */
    lc_sdp_extmap_t ext[LC_SDP_MAX_EXTMAP]; /* section ones plus session-level ones */
    size_t next;
    lc_sdp_ssrc_t ssrc[LC_SDP_MAX_SSRC];
    size_t nssrc;
    lc_sdp_fid_t fid[LC_SDP_MAX_FID];
    size_t nfid;

    unsigned sctp_port;         /* a=sctp-port or legacy a=sctpmap; 0 when absent */
    unsigned max_message_size;  /* a=max-message-size; 0 when absent */
    unsigned ncandidates;       /* a=candidate lines (contents not kept) */
    int end_of_candidates;
} lc_sdp_media_t;

typedef struct {
    /* Session-level transport attributes; NULL/NONE when absent. */
    const char *ice_ufrag, *ice_pwd;
    const char *fp_alg, *fp_hex;
    lc_sdp_setup_t setup;
    int ice_lite;

    const char *bundle[LC_SDP_MAX_BUNDLE];  /* a=group:BUNDLE mids, in order */
    size_t nbundle;
    const char *msid_semantic;  /* value after "a=msid-semantic:", trimmed
                                   ("WMS", "WMS *"); NULL when absent */

    lc_sdp_media_t media[LC_SDP_MAX_MEDIA];
    size_t nmedia;

    char *arena_;               /* owned: the strings above point into it */
} lc_sdp_t;

/*
 * Parse text[0..len) (CRLF or LF lines). Returns a heap struct to free with
 * lc_sdp_free(), or NULL with a reason starting "Bad SDP: " in err
 * ("Bad SDP: line 7: expected type=value").
 */
lc_sdp_t *lc_sdp_parse(const char *text, size_t len, char *err, size_t errlen);
void lc_sdp_free(lc_sdp_t *sdp);

/*
 * Value of parameter key in an fmtp text such as
 * "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f"
 * (key compared ASCII case-insensitively, spaces after ';' allowed).
 * Returns a pointer into fmtp and its length in *vlen, or NULL if absent or
 * fmtp is NULL.
 */
const char *lc_sdp_fmtp_find(const char *fmtp, const char *key, size_t *vlen);

/* The payload type pt of section m, or NULL. */
const lc_sdp_pt_t *lc_sdp_find_pt(const lc_sdp_media_t *m, int pt);

#endif
