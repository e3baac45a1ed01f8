/*
 * rtc_int.h: one WebRTC session's state, shared by the files that handle
 * it: rtc_session.c (lifetime, ICE, DTLS, SRTP, RTCP in), rtc_publish.c
 * (RTP in -> frames into the ring) and rtc_play.c (frames -> RTP out).
 * Private to src/worker/webrtc.
 */
#ifndef LC_RTC_INT_H
#define LC_RTC_INT_H

#include <event2/event.h>
#include <stdint.h>
#include <sys/socket.h>

#include "common/media/rtp_h264.h"
#include "common/media/rtp_vp8.h"
#include "common/shm/keyframe.h"
#include "common/shm/shm.h"
#include "common/webrtc/dtls.h"
#include "common/webrtc/rtcp.h"
#include "common/webrtc/rtp.h"
#include "common/webrtc/rtp_reorder.h"
#include "common/webrtc/sdp.h"
#include "common/webrtc/srtp.h"
#include "worker/refbuf.h"
#include "worker/stream_core.h"
#include "worker/webrtc/rtc.h"

#define RTC_MTU_PAYLOAD 1100     /* RTP payload per packet: 1200 minus headers and SRTP tag, with room */
#define RTC_PACKET_MAX 1500
#define RTC_HISTORY 512          /* packets per played video track kept for NACK */

/* A player's packet, remembered for retransmission: the payload lives in
 * the shared per-frame buffer, so this costs a reference, not a copy. */
typedef struct {
    lc_refbuf_t *rb;
    uint32_t off;
    uint16_t len;
    uint16_t seq;
    uint32_t ts;
    uint8_t marker;
} rtc_sent_t;

typedef struct {
    int on;                        /* negotiated and accepted */
    int codec;                     /* lc_codec_t */
    int pt, rtx_pt;
    unsigned fb;                   /* LC_SDP_FB_* negotiated for pt */
    uint32_t clock;
    uint32_t ssrc;                 /* publish: the sender's (learned); play: ours */
    /* publish */
    int have_stats;
    lc_rtp_stats_t stats;
    int have_base;
    uint32_t last_ts;
    int64_t ext_ts;                /* unwrapped RTP timestamp of the last packet */
    int64_t base_ext;
    int64_t base_us;               /* session time of the first packet */
    int have_sr;                   /* the sender's last SR: its NTP time (32.32) of RTP time sr_ext */
    uint64_t sr_ntp;
    int64_t sr_ext;
    uint8_t *buf;                  /* depacketizer buffer */
    lc_rtp_reorder_t *reorder;     /* video with NACK only: packets back in order (rtp_reorder.h) */
    lc_rtp_vp8_depack_t vp8;
    lc_rtp_h264_depack_t h264;
    /* play */
    uint16_t seq;
    uint32_t ts_base;
    uint32_t packets, octets;
    rtc_sent_t *hist;              /* RTC_HISTORY slots, video only */
} rtc_track_t;

struct lc_rtc_session {
    lc_worker_t *w;
    uint64_t id;
    int role;
    char name[LC_STREAM_NAME_MAX];
    char who[64];
    const lc_rtc_owner_ops_t *owner;
    void *owner_ctx;
    char ufrag[16], pwd[40];       /* ours */
    char fp_alg[LC_SDP_MAX_FP_ALG + 1], fp_hex[LC_SDP_MAX_FP_HEX + 1]; /* theirs, from the offer */
    struct sockaddr_storage addr;  /* where the peer is (the nominated pair) */
    socklen_t addrlen;
    int have_addr;
    int64_t started_us;
    uint64_t last_heard_ms, created_ms, last_report_ms;
    lc_dtls_t *dtls;
    lc_srtp_t *srtp;
    int ready;                     /* DTLS done, SRTP keyed */
    int ending;
    struct event *timer;
    rtc_track_t audio, video;
    const char *info;              /* told to the client with the answer */
    /* publish */
    lc_pub_t *pub;
    uint64_t last_pli_ms;
    lc_kf_gate_t pli_gate;         /* every PLI to the publisher passes it */
    int sr_aligned;                /* audio's timeline was put on video's through their SRs */
    uint8_t fir_seq;
    /* play */
    lc_play_t *play;
    /* One clock for both tracks' sender reports: the source's pts
     * anchor_pts_us was sent at anchor_us (lc_rtc_now_us). Each SR maps
     * "now" through it, never through a track's own send times, so audio
     * that a transcoder delays still lines up with its video (SPEC 5). */
    int have_anchor;
    int64_t anchor_pts_us, anchor_us;
    lc_sdp_t *waiting_offer;       /* a player's offer held until the stream's codecs are known */
    uint64_t wait_until_ms;        /* then it is answered all the same (SPEC 6: at most 2 s) */
    uint8_t sps[LC_RTP_H264_PS_MAX], pps[LC_RTP_H264_PS_MAX];
    size_t sps_len, pps_len;
    /* data channels */
    int sctp_port;                 /* the peer's, 0 when no application section was accepted */
    struct socket *sctp;
    int channel;                   /* SCTP stream of the first channel the client opened, -1 none */
    lc_rtc_session_t *prev, *next;
};

/* rtc_session.c */
uint64_t lc_rtc_now_ms(void);
int64_t lc_rtc_now_us(void);
void lc_rtc_send_rtp(lc_rtc_session_t *s, uint8_t *pkt, size_t len);
void lc_rtc_send_rtcp(lc_rtc_session_t *s, uint8_t *pkt, size_t len);
/* End the session from inside (once): tell the owner, free. */
void lc_rtc_end(lc_rtc_session_t *s, const char *why);

/* What a player takes: the one codec of each kind its answer names. */
void lc_rtc_play_accept(const lc_rtc_session_t *s, lc_core_accept_t *acc);
/* The words a player is told for lc_core_play_as's error rc. */
const char *lc_rtc_play_error(int rc);

/* rtc_publish.c */
int lc_rtc_publish_begin(lc_rtc_session_t *s, char *err, size_t errlen);
void lc_rtc_publish_rtp(lc_rtc_session_t *s, uint8_t *pkt, size_t len);
void lc_rtc_publish_rtcp_tick(lc_rtc_session_t *s);
void lc_rtc_publish_keyframe(lc_rtc_session_t *s);
void lc_rtc_publish_tick(lc_rtc_session_t *s);      /* every TICK: NACK again or give a gap up */
void lc_rtc_publish_end(lc_rtc_session_t *s);
void lc_rtc_publish_sr(lc_rtc_session_t *s, const lc_rtcp_sr_t *sr); /* the publisher's sender report */

/* rtc_data.c */
int lc_rtc_data_start(lc_rtc_session_t *s, int remote_port);
void lc_rtc_data_input(lc_rtc_session_t *s, const uint8_t *buf, size_t len);
void lc_rtc_data_send_text(lc_rtc_session_t *s, const uint8_t *text, size_t len);
void lc_rtc_data_stop(lc_rtc_session_t *s);

/* rtc_play.c */
int lc_rtc_play_begin(lc_rtc_session_t *s);   /* 0, or lc_core_play_as's error */
void lc_rtc_play_nack(lc_rtc_session_t *s, uint32_t media_ssrc, const uint16_t *seqs, size_t n);
void lc_rtc_play_rtcp_tick(lc_rtc_session_t *s);
void lc_rtc_play_end(lc_rtc_session_t *s);

#endif
