/*
 * sdp_negotiate.h: what livecdn answers to a parsed offer (sdp.h), and the
 * answer text. I/O-free; never logs.
 *
 * The server is an SFU that is ICE-lite, BUNDLE-only, rtcp-mux-only and
 * DTLS passive. A publisher (PUBLISH) sends one audio and one video track;
 * a player (PLAY) receives the stream's codecs as they are, without video
 * transcoding. So for each m= section the policy decides: accept (one
 * payload type, its RTX, the feedback and header extensions we implement)
 * or reject (port 0). Parsing stays in sdp.c; this file never reads text.
 *
 * Ownership: lc_sdp_negotiate_t is self-contained (strings are copied; the
 * parser's bounds guarantee they fit), so the offer may be freed once
 * lc_sdp_negotiate_offer() returns. lc_sdp_negotiate_answer() returns a
 * malloc'd string the caller frees.
 */
#ifndef LC_COMMON_WEBRTC_SDP_NEGOTIATE_H
#define LC_COMMON_WEBRTC_SDP_NEGOTIATE_H

#include <stddef.h>
#include <stdint.h>

#include "common/webrtc/sdp.h"

typedef enum {
    LC_SDP_NEGOTIATE_PUBLISH,   /* the client sends, we answer recvonly */
    LC_SDP_NEGOTIATE_PLAY,      /* the client receives, we answer sendonly */
} lc_sdp_negotiate_role_t;

/* RTP header extensions we keep; any other offered one is dropped. */
typedef enum {
    LC_SDP_EXT_MID = 0,         /* urn:ietf:params:rtp-hdrext:sdes:mid */
    LC_SDP_EXT_ABS_SEND_TIME,   /* http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time */
    LC_SDP_EXT_TWCC,            /* http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01 */
    LC_SDP_EXT_AUDIO_LEVEL,     /* urn:ietf:params:rtp-hdrext:ssrc-audio-level */
    LC_SDP_EXT_COUNT
} lc_sdp_negotiate_ext_t;

typedef struct {
    /* Codecs the server has enabled, by rtpmap name (case-insensitive):
     * video "H264", "VP8"; audio "opus", "PCMU", "PCMA", "G722". */
    const char *const *video;
    size_t nvideo;
    const char *const *audio;
    size_t naudio;
    int datachannel;            /* accept an SCTP application section */

    /* PLAY only: what the stream carries (NULL: nothing of that kind), and
     * the publisher's H.264 profile-level-id ("42e01f"; NULL if unknown). */
    const char *stream_video;
    const char *stream_audio;
    const char *stream_h264_profile;
    /* PLAY: a player whose offer lacks the stream's codec gets its own
     * first codec of the enabled ones (the server transcodes); 0: refused. */
    int play_transcode;
} lc_sdp_negotiate_policy_t;

typedef struct {
    int accepted;               /* 0: answered with port 0 */
    const char *why;            /* static reason when rejected (for logs) */
    lc_sdp_kind_t kind;
    char media[LC_SDP_MAX_TOKEN + 1];   /* m= tokens echoed by the answer */
    char proto[LC_SDP_MAX_TOKEN + 1];
    char fmt[LC_SDP_MAX_TOKEN + 1];
    char mid[LC_SDP_MAX_MID + 1];       /* "" when the offer had none */
    lc_sdp_dir_t dir;           /* the answer's direction */
    int rtcp_rsize;             /* offered, so answered */

    /* RTP sections (accepted only). */
    int pt;                     /* chosen payload type */
    char codec[LC_SDP_MAX_TOKEN + 1];   /* rtpmap name as offered ("H264") */
    unsigned clock, channels;
    char fmtp[128];             /* the answer's fmtp for pt; "" for none */
    int rtx_pt;                 /* -1 when none */
    unsigned fb;                /* LC_SDP_FB_* kept for pt */
    int ext_id[LC_SDP_EXT_COUNT];   /* offered id, 0 when not kept */

    /* Application sections (accepted only). */
    unsigned sctp_port;         /* the offerer's */
    unsigned max_message_size;  /* the offerer's; 0 when not said */
} lc_sdp_negotiate_media_t;

typedef struct {
    lc_sdp_negotiate_role_t role;
    lc_sdp_negotiate_media_t media[LC_SDP_MAX_MEDIA];  /* one per offered m=, same order */
    size_t nmedia;
    int audio, video, data;     /* index into media[] of the accepted one, -1 if none */

    /* The remote transport, from the first accepted (BUNDLE-tag) section. */
    char ice_ufrag[LC_SDP_MAX_ICE + 1];
    char ice_pwd[LC_SDP_MAX_ICE + 1];
    char fp_alg[LC_SDP_MAX_FP_ALG + 1];
    char fp_hex[LC_SDP_MAX_FP_HEX + 1];
    lc_sdp_setup_t setup;       /* actpass or active */
} lc_sdp_negotiate_t;

/*
 * Decide the answer to offer for role under pol. 0 on success; -1 with err
 * set to "Codec not supported: ..." (nothing we can send or receive in the
 * codecs asked for) or "Bad SDP: ..." (no media, nothing BUNDLE-able, no
 * ICE credentials, no fingerprint, setup not actpass/active, ...).
 */
int lc_sdp_negotiate_offer(const lc_sdp_t *offer, lc_sdp_negotiate_role_t role,
                           const lc_sdp_negotiate_policy_t *pol, lc_sdp_negotiate_t *out,
                           char *err, size_t errlen);

/* What the server puts in its answer besides the negotiated media. */
typedef struct {
    const char *ice_ufrag, *ice_pwd;    /* ours; ICE chars only */
    const char *fingerprint;            /* "sha-256 AB:CD:..." of our certificate */
    const char *const *candidates;      /* host candidates "1.2.3.4:5000", "[::1]:5000" */
    size_t ncandidates;
    uint64_t session_id;                /* o= sess-id, e.g. random per session */

    /* PLAY: our SSRCs and names (0 / NULL: video_rtx_ssrc unused if no RTX). */
    uint32_t video_ssrc, video_rtx_ssrc, audio_ssrc;
    const char *cname;                  /* token, e.g. "livecdn" */
    const char *msid_stream;            /* token, e.g. a sanitized stream name */

    /* Data channels. */
    unsigned sctp_port;                 /* ours, usually 5000 */
    unsigned max_message_size;          /* ours, e.g. 262144 */
} lc_sdp_negotiate_server_t;

/*
 * The answer text (CRLF lines) for n, or NULL with err set ("Bad SDP
 * answer: ..." for unusable server parameters, such as a candidate that is
 * not ip:port or a name with a space). The caller frees the result.
 */
char *lc_sdp_negotiate_answer(const lc_sdp_negotiate_t *n, const lc_sdp_negotiate_server_t *srv,
                              char *err, size_t errlen);

#endif
