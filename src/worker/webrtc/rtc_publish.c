/*
 * rtc_publish.c: a WebRTC publisher's RTP into the stream's ring.
 *
 * Each track's packets go through its depacketizer (VP8, H.264 or none for
 * Opus) into frames. Frames carry microseconds on one timeline for both
 * tracks: a track's first packet is placed at its arrival time since the
 * session began, later ones by their RTP timestamps from there, so audio
 * and video stay in step without waiting for sender reports. Once both
 * tracks have sent one, audio's timeline is put on video's through them
 * (the sender's clock, not the arrival of the first packets: encoders and
 * pacing delay the tracks differently), once, so RTMP players lip-sync. H.264 goes
 * into the ring as FLV AVC bodies (with a sequence header whenever the
 * SPS/PPS change), the format RTMP players take as is; VP8 and Opus go raw.
 *
 * Towards the publisher: receiver reports and REMB each second, PLI (and
 * FIR if negotiated) when a frame was lost or a player anywhere asks for a
 * keyframe: at most one per 500 ms, a request inside that window held for
 * its end rather than dropped (common/shm/keyframe.h). Video packets after
 * a gap wait (at most LC_RTP_REORDER_WAIT_MS) in a reorder buffer while the
 * missing ones are NACKed; the retransmissions (plain or RTX) fill the gap
 * in order, and only a gap that stays open costs a frame and a PLI.
 */
#include "worker/webrtc/rtc_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/core/log.h"
#include "common/media/flv.h"
#include "common/media/rtp_opus.h"
#include "common/webrtc/rtcp.h"

#define REMB_BPS 8000000ull      /* an upper bound; publishers pick their own rate below it */
#define SERVER_SSRC 1            /* our RTCP sender SSRC towards publishers */

/* A frame's time on the session's timeline, from its RTP timestamp (near
 * the newest one seen, on either side of it). */
static int64_t frame_us(rtc_track_t *t, uint32_t rtp_ts)
{
    int64_t ext = t->ext_ts + (int32_t)(rtp_ts - t->last_ts);
    return t->base_us + (ext - t->base_ext) * 1000000 / (int64_t)t->clock;
}

static void write_frame(lc_rtc_session_t *s, const lc_frame_t *f, const void *payload)
{
    const char *err;
    if (s->pub && lc_core_pub_write(s->pub, f, payload, &err) < 0)
        lc_log_warn("[rtc:%llx stream:%s] frame dropped: %s", (unsigned long long)s->id, s->name, err);
}

/* PLI, and FIR (RFC 5104) beside it when the publisher offered "ccm fir":
 * a sender that acts on only one of them still makes its keyframe. */
static void pli_out(lc_rtc_session_t *s, uint64_t now)
{
    uint8_t pkt[RTC_PACKET_MAX + LC_SRTP_MAX_TRAILER];
    s->last_pli_ms = now;
    size_t n = lc_rtcp_build_pli(pkt, RTC_PACKET_MAX, SERVER_SSRC, s->video.ssrc);
    if (n && (s->video.fb & LC_SDP_FB_CCM_FIR)) {
        /* a new seq_nr each time: a repeated one is a retransmission, ignored */
        lc_rtcp_fir_entry_t e = { s->video.ssrc, ++s->fir_seq };
        n += lc_rtcp_build_fir(pkt + n, RTC_PACKET_MAX - n, SERVER_SSRC, &e, 1);
    }
    if (n)
        lc_rtc_send_rtcp(s, pkt, n);
}

/* Every reason to ask (a lost frame, a new SSRC, players anywhere, the
 * periodic webrtc.pli_interval_ms) goes through one gate: the publisher
 * gets at most one request per 500 ms, and one asked inside the window goes
 * out when it ends (lc_rtc_publish_tick). */
static void send_pli(lc_rtc_session_t *s)
{
    uint64_t now = lc_rtc_now_ms();
    if (!s->video.on || !s->video.ssrc)
        return;
    if (lc_kf_gate_ask(&s->pli_gate, now))
        pli_out(s, now);
}

void lc_rtc_publish_keyframe(lc_rtc_session_t *s)
{
    send_pli(s);
}

static void on_vp8(void *ctx, const lc_rtp_vp8_frame_t *fr)
{
    lc_rtc_session_t *s = ctx;
    if (fr->discont)
        send_pli(s);
    lc_frame_t f = { .codec = LC_CODEC_VP8, .track = 0, .len = (uint32_t)fr->len,
                     .flags = fr->keyframe ? LC_FRAME_KEY : 0, .ts = frame_us(&s->video, fr->rtp_ts) };
    write_frame(s, &f, fr->data);
}

static void on_h264(void *ctx, const lc_rtp_h264_au_t *au)
{
    lc_rtc_session_t *s = ctx;
    const char *err;
    if (au->discont)
        send_pli(s);
    int64_t ts = frame_us(&s->video, au->rtp_ts);
    if (au->config_changed || (au->keyframe && !s->video.have_stats)) {
        size_t sl, pl;
        const uint8_t *sps = lc_rtp_h264_depack_sps(&s->video.h264, &sl);
        const uint8_t *pps = lc_rtp_h264_depack_pps(&s->video.h264, &pl);
        uint8_t cfg[2 * LC_RTP_H264_PS_MAX + 64];
        int n = sps && pps ? lc_rtp_h264_to_flv_config(sps, sl, pps, pl, cfg, sizeof(cfg), &err) : -1;
        if (n > 0) {
            lc_frame_t f = { .codec = LC_CODEC_H264, .track = 0, .len = (uint32_t)n, .flags = LC_FRAME_CONFIG,
                             .ts = ts };
            write_frame(s, &f, cfg);
        }
    }
    size_t cap = au->len + 16;
    uint8_t *body = malloc(cap);
    int n = body ? lc_rtp_h264_to_flv(au->data, au->len, au->keyframe, 0, body, cap, &err) : -1;
    if (n > 0) {
        lc_frame_t f = { .codec = LC_CODEC_H264, .track = 0, .len = (uint32_t)n,
                         .flags = au->keyframe ? LC_FRAME_KEY : 0, .ts = ts };
        write_frame(s, &f, body);
    }
    free(body);
}

static void pub_terminate(void *ctx)
{
    lc_rtc_end(ctx, "Terminated by the server");
}

static void pub_keyframe(void *ctx)
{
    send_pli(ctx);
}

static const lc_pub_ops_t pub_ops = { pub_terminate, pub_keyframe };

static void reorder_push(void *ctx, const uint8_t *payload, size_t len, uint16_t seq, uint32_t ts, int marker);
static void reorder_nack(void *ctx, const uint16_t *seqs, size_t n);
static const lc_rtp_reorder_ops_t reorder_ops = { reorder_push, reorder_nack };

int lc_rtc_publish_begin(lc_rtc_session_t *s, char *err, size_t errlen)
{
    int rc = lc_core_publish(s->w, s->name, s->who, &pub_ops, s, &s->pub);
    if (rc < 0) {
        snprintf(err, errlen, "%s", rc == -EEXIST   ? "Stream name in use"
                                    : rc == -EINVAL ? "Bad stream name"
                                    : rc == -EDQUOT ? "Too many streams from this address"
                          : rc == -EUSERS ? "No room for another stream (the rest is kept for trusted publishers)"
                                                    : "Server busy: no room for another stream");
        return -1;
    }
    rtc_track_t *v = &s->video;
    if (v->on && (v->codec == LC_CODEC_VP8 || v->codec == LC_CODEC_H264)) {
        size_t cap = v->codec == LC_CODEC_VP8 ? LC_RTP_VP8_MAX_FRAME : LC_RTP_H264_MAX_AU;
        v->buf = malloc(cap);
        if (!v->buf) {
            lc_core_unpublish(s->pub);
            s->pub = NULL;
            snprintf(err, errlen, "out of memory");
            return -1;
        }
        if (v->codec == LC_CODEC_VP8)
            lc_rtp_vp8_depack_init(&v->vp8, v->buf, cap, on_vp8, s);
        else
            lc_rtp_h264_depack_init(&v->h264, v->buf, cap, on_h264, s);
        /* with webrtc.nack off, a gap is a lost frame at once */
        if (s->w->cycle->conf->webrtc_nack)
            v->reorder = lc_rtp_reorder_new(&reorder_ops, s);
    }
    return 0;
}

void lc_rtc_publish_end(lc_rtc_session_t *s)
{
    if (s->pub)
        lc_core_unpublish(s->pub);
    s->pub = NULL;
    free(s->video.buf);
    s->video.buf = NULL;
    if (s->video.reorder) {
        lc_rtp_reorder_stats_t st = lc_rtp_reorder_stats(s->video.reorder);
        if (st.nacked)
            lc_log_info("[rtc:%llx stream:%s] publisher losses: %u packets NACKed, %u gaps filled by retransmission",
                        (unsigned long long)s->id, s->name, st.nacked, st.recovered);
        lc_rtp_reorder_free(s->video.reorder);
        s->video.reorder = NULL;
    }
}

/* NTP 32.32 to microseconds. */
static int64_t ntp_us(uint64_t ntp)
{
    return (int64_t)(ntp >> 32) * 1000000 + (int64_t)(((ntp & 0xffffffffu) * 1000000) >> 32);
}

/* Both tracks have an SR: move audio's timeline so that a sample and a
 * video frame the sender stamped at the same NTP time carry the same time
 * here. Video keeps its own, so its players see no jump; audio moves by
 * however far the first packets' arrival was off (tens of ms), once. */
static void align(lc_rtc_session_t *s)
{
    rtc_track_t *v = &s->video, *a = &s->audio;
    /* video's time of its SR instant, on our timeline */
    int64_t v_at_sr = v->base_us + (v->sr_ext - v->base_ext) * 1000000 / (int64_t)v->clock;
    int64_t k = v_at_sr - ntp_us(v->sr_ntp); /* our time = sender's NTP time + k */
    int64_t was = a->base_us + (a->sr_ext - a->base_ext) * 1000000 / (int64_t)a->clock;
    a->base_us = ntp_us(a->sr_ntp) + k;
    a->base_ext = a->sr_ext;
    s->sr_aligned = 1;
    lc_log_info("[rtc:%llx stream:%s] audio put on video's clock through their sender reports: %+lld us",
                (unsigned long long)s->id, s->name, (long long)(a->base_us - was));
}

void lc_rtc_publish_sr(lc_rtc_session_t *s, const lc_rtcp_sr_t *sr)
{
    rtc_track_t *t = sr->ssrc == s->video.ssrc && s->video.on ? &s->video
                     : sr->ssrc == s->audio.ssrc && s->audio.on ? &s->audio : NULL;
    if (!t || !t->have_base || !t->clock)
        return;
    t->have_sr = 1;
    t->sr_ntp = sr->ntp;
    t->sr_ext = t->ext_ts + (int32_t)(sr->rtp_ts - t->last_ts);
    if (!s->sr_aligned && s->video.have_sr && s->audio.have_sr)
        align(s);
}

/* Unwrap a 32-bit RTP timestamp into the track's 64-bit timeline. */
static void track_time(lc_rtc_session_t *s, rtc_track_t *t, uint32_t ts)
{
    if (!t->have_base) {
        t->have_base = 1;
        t->ext_ts = t->base_ext = ts;
        t->base_us = lc_rtc_now_us() - s->started_us;
    } else {
        t->ext_ts += (int32_t)(ts - t->last_ts);
    }
    t->last_ts = ts;
}

/* One video packet, in order, into the depacketizer. */
static void video_push(lc_rtc_session_t *s, rtc_track_t *t, const uint8_t *payload, size_t len, uint16_t seq,
                       uint32_t ts, int marker)
{
    const char *err;
    track_time(s, t, ts);
    int rc = t->codec == LC_CODEC_VP8 ? lc_rtp_vp8_depack_push(&t->vp8, payload, len, seq, ts, marker, &err)
                                      : lc_rtp_h264_depack_push(&t->h264, payload, len, seq, ts, marker, &err);
    if (rc == LC_RTP_VP8_LOST || rc == LC_RTP_H264_LOST)
        send_pli(s);
}

/* The reorder buffer's ways out: packets in order, and NACKs of what is missing. */
static void reorder_push(void *ctx, const uint8_t *payload, size_t len, uint16_t seq, uint32_t ts, int marker)
{
    lc_rtc_session_t *s = ctx;
    video_push(s, &s->video, payload, len, seq, ts, marker);
}

static void reorder_nack(void *ctx, const uint16_t *seqs, size_t n)
{
    lc_rtc_session_t *s = ctx;
    uint8_t pkt[RTC_PACKET_MAX + LC_SRTP_MAX_TRAILER];
    size_t len = lc_rtcp_build_nack(pkt, RTC_PACKET_MAX, SERVER_SSRC, s->video.ssrc, seqs, n);
    if (len)
        lc_rtc_send_rtcp(s, pkt, len);
}

/* A video packet in any order: through the reorder buffer when NACK is on. */
static void video_in(lc_rtc_session_t *s, rtc_track_t *t, const uint8_t *payload, size_t len, uint16_t seq,
                     uint32_t ts, int marker)
{
    if (t->reorder)
        lc_rtp_reorder_in(t->reorder, payload, len, seq, ts, marker, lc_rtc_now_ms());
    else
        video_push(s, t, payload, len, seq, ts, marker);
}

void lc_rtc_publish_tick(lc_rtc_session_t *s)
{
    rtc_track_t *t = &s->video;
    uint64_t now = lc_rtc_now_ms();
    if (t->ssrc && lc_kf_gate_due(&s->pli_gate, now))
        pli_out(s, now);
    if (t->reorder)
        lc_rtp_reorder_tick(t->reorder, now);
}

void lc_rtc_publish_rtp(lc_rtc_session_t *s, uint8_t *pkt, size_t len)
{
    const char *err;
    lc_rtp_header_t h;
    if (lc_srtp_unprotect_rtp(s->srtp, pkt, &len, &err) < 0 || lc_rtp_parse(pkt, len, &h, &err) < 0)
        return;
    rtc_track_t *v = &s->video;
    if (v->on && v->rtx_pt >= 0 && h.pt == v->rtx_pt && v->reorder) {
        uint16_t osn;
        const uint8_t *inner;
        size_t inner_len;
        if (lc_rtp_reorder_rtx(h.payload, h.payload_len, &osn, &inner, &inner_len) == 0)
            video_in(s, v, inner, inner_len, osn, h.timestamp, h.marker);
        return; /* padding-only probes carry no OSN */
    }
    rtc_track_t *t = v->on && h.pt == v->pt ? v : s->audio.on && h.pt == s->audio.pt ? &s->audio : NULL;
    if (!t)
        return; /* FEC, padding probes: nothing a frame is made of */
    if (t->ssrc != h.ssrc) {
        t->ssrc = h.ssrc;
        lc_rtp_stats_init(&t->stats);
        if (t == v) {
            if (t->reorder)
                lc_rtp_reorder_reset(t->reorder);
            send_pli(s); /* start the stream at a fresh keyframe */
        }
    }
    uint32_t arrival = (uint32_t)((uint64_t)(lc_rtc_now_us() - s->started_us) * t->clock / 1000000);
    lc_rtp_stats_update(&t->stats, h.seq, h.timestamp, arrival);
    t->have_stats = 1;
    if (t == &s->audio) {
        track_time(s, t, h.timestamp);
        if (h.payload_len == 0)
            return;
        lc_frame_t f = { .codec = (uint8_t)t->codec, .track = 1, .len = (uint32_t)h.payload_len,
                         .flags = s->video.on ? 0 : LC_FRAME_KEY, .ts = frame_us(t, h.timestamp) };
        write_frame(s, &f, h.payload);
        return;
    }
    video_in(s, t, h.payload, h.payload_len, h.seq, h.timestamp, h.marker);
}

void lc_rtc_publish_rtcp_tick(lc_rtc_session_t *s)
{
    uint8_t pkt[RTC_PACKET_MAX + LC_SRTP_MAX_TRAILER];
    lc_rtcp_rr_t rr = { .ssrc = SERVER_SSRC };
    uint32_t ssrcs[2];
    size_t nssrc = 0;
    rtc_track_t *tracks[2] = { &s->video, &s->audio };
    for (int i = 0; i < 2; i++) {
        rtc_track_t *t = tracks[i];
        if (!t->on || !t->have_stats)
            continue;
        lc_rtcp_rb_t *b = &rr.rb[rr.rc++];
        b->ssrc = t->ssrc;
        b->fraction_lost = lc_rtp_stats_fraction_lost(&t->stats);
        b->cumulative_lost = lc_rtp_stats_lost(&t->stats);
        b->ext_highest_seq = lc_rtp_stats_ext_max(&t->stats);
        b->jitter = lc_rtp_stats_jitter(&t->stats);
        ssrcs[nssrc++] = t->ssrc;
    }
    size_t n = lc_rtcp_build_rr(pkt, RTC_PACKET_MAX, &rr);
    if (nssrc)
        n += lc_rtcp_build_remb(pkt + n, RTC_PACKET_MAX - n, SERVER_SSRC, REMB_BPS, ssrcs, nssrc);
    if (n)
        lc_rtc_send_rtcp(s, pkt, n);
}
