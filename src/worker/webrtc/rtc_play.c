/*
 * rtc_play.c: frames out of the stream's ring to a WebRTC player.
 *
 * Each frame is packetized once per worker (the RTP payloads are kept in
 * the shared frame, lc_shared_frame_t.rtp) and every player of that worker
 * only writes its own 12-byte header (its SSRC, sequence numbers and
 * timestamps, so it sees one continuous stream from its first keyframe)
 * and encrypts. A player remembers its last RTC_HISTORY video packets as
 * references into those shared payloads, so a NACK is answered without a
 * copy per player. H.264 frames arrive as FLV AVC bodies (RTMP or WebRTC
 * publishers alike); the last sequence header's SPS/PPS go in front of
 * every keyframe so a player can start at any of them.
 */
#include "worker/webrtc/rtc_int.h"

#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/core/log.h"
#include "common/media/flv.h"
#include "common/webrtc/rtcp.h"

/* A packetized frame in its refbuf: records of [u16 len][u8 marker][u8 0][payload]. */
#define REC_HDR 4

typedef struct {
    uint8_t *p;
    size_t len, cap;
    int failed;
} builder_t;

static uint16_t *picture_ids; /* per stream id: VP8 PictureIDs must run on without gaps */
static uint32_t picture_ids_n;

static void emit(void *ctx, const uint8_t *payload, size_t len, int marker)
{
    builder_t *b = ctx;
    if (b->failed || len > 0xffff)
        return;
    if (b->len + REC_HDR + len > b->cap) {
        size_t cap = (b->cap ? b->cap * 2 : 4096) + len + REC_HDR;
        uint8_t *np = realloc(b->p, cap);
        if (!np) {
            b->failed = 1;
            return;
        }
        b->p = np;
        b->cap = cap;
    }
    uint8_t *r = b->p + b->len;
    r[0] = (uint8_t)(len >> 8);
    r[1] = (uint8_t)len;
    r[2] = (uint8_t)(marker != 0);
    r[3] = 0;
    memcpy(r + REC_HDR, payload, len);
    b->len += REC_HDR + len;
}

/* The frame's RTP payloads, built on first use in this worker. NULL when
 * this frame is nothing a player gets (config, metadata, another codec). */
static lc_refbuf_t *packetize(lc_rtc_session_t *s, lc_shared_frame_t *sf, int32_t *cts)
{
    const char *err;
    builder_t b = { 0 };
    *cts = 0;
    if (sf->f.codec == LC_CODEC_H264) {
        lc_rtp_h264_flv_t fl;
        if (lc_rtp_h264_from_flv(sf->payload, sf->f.len, &fl, &err) < 0 || fl.config || fl.end_of_seq)
            return NULL;
        *cts = fl.cts;
        if (sf->rtp)
            return sf->rtp;
        lc_rtp_h264_pack_opts_t o = { .mtu = RTC_MTU_PAYLOAD, .length_size = 4 };
        if (fl.keyframe && s->sps_len && s->pps_len) {
            o.sps = s->sps;
            o.sps_len = s->sps_len;
            o.pps = s->pps;
            o.pps_len = s->pps_len;
        }
        lc_rtp_h264_packetize(fl.data, fl.len, &o, emit, &b, &err);
    } else if (sf->rtp) {
        return sf->rtp;
    } else if (sf->f.codec == LC_CODEC_VP8) {
        uint16_t pid = 0;
        if (sf->f.stream_id < picture_ids_n)
            pid = (uint16_t)(picture_ids[sf->f.stream_id]++ & 0x7fff);
        lc_rtp_vp8_packetize(sf->payload, sf->f.len, pid, RTC_MTU_PAYLOAD, emit, &b, &err);
    } else if (sf->f.codec == LC_CODEC_OPUS || sf->f.codec == LC_CODEC_PCMA || sf->f.codec == LC_CODEC_PCMU ||
               sf->f.codec == LC_CODEC_G722) {
        emit(&b, sf->payload, sf->f.len, 1); /* one 20 ms frame, one packet */
    }
    if (b.failed || b.len == 0) {
        free(b.p);
        return NULL;
    }
    sf->rtp = lc_refbuf_new(b.len);
    if (sf->rtp)
        memcpy(sf->rtp->data, b.p, b.len);
    free(b.p);
    return sf->rtp;
}

static size_t write_packet(uint8_t *pkt, const rtc_track_t *t, uint16_t seq, uint32_t ts, int marker,
                           const uint8_t *payload, size_t len)
{
    pkt[0] = 0x80;
    pkt[1] = (uint8_t)((marker ? 0x80 : 0) | (t->pt & 0x7f));
    pkt[2] = (uint8_t)(seq >> 8);
    pkt[3] = (uint8_t)seq;
    pkt[4] = (uint8_t)(ts >> 24);
    pkt[5] = (uint8_t)(ts >> 16);
    pkt[6] = (uint8_t)(ts >> 8);
    pkt[7] = (uint8_t)ts;
    pkt[8] = (uint8_t)(t->ssrc >> 24);
    pkt[9] = (uint8_t)(t->ssrc >> 16);
    pkt[10] = (uint8_t)(t->ssrc >> 8);
    pkt[11] = (uint8_t)t->ssrc;
    memcpy(pkt + 12, payload, len);
    return 12 + len;
}

/* The RTP timestamp of source time pts_us on track t. */
static uint32_t rtp_ts(const rtc_track_t *t, int64_t pts_us)
{
    return t->ts_base + (uint32_t)((uint64_t)pts_us * t->clock / 1000000);
}

static void play_frame(void *ctx, lc_shared_frame_t *sf)
{
    lc_rtc_session_t *s = ctx;
    rtc_track_t *t = sf->f.track == 0 ? &s->video : sf->f.track == 1 ? &s->audio : NULL;
    const char *err;
    if (sf->f.codec == LC_CODEC_TEXT) {
        lc_rtc_data_send_text(s, sf->payload, sf->f.len);
        return;
    }
    if (!t || !t->on || sf->f.codec != t->codec || (sf->f.flags & LC_FRAME_META))
        return;
    if (sf->f.codec == LC_CODEC_H264 && (sf->f.flags & LC_FRAME_CONFIG)) {
        lc_rtp_h264_flv_t fl;
        lc_rtp_h264_avcc_t cfg;
        if (lc_rtp_h264_from_flv(sf->payload, sf->f.len, &fl, &err) == 0 && fl.config &&
            lc_rtp_h264_parse_avcc_config(fl.data, fl.len, &cfg, &err) == 0 && cfg.sps_len <= sizeof(s->sps) &&
            cfg.pps_len <= sizeof(s->pps)) {
            memcpy(s->sps, cfg.sps, cfg.sps_len);
            memcpy(s->pps, cfg.pps, cfg.pps_len);
            s->sps_len = cfg.sps_len;
            s->pps_len = cfg.pps_len;
        }
        return;
    }
    int32_t cts;
    lc_refbuf_t *rb = packetize(s, sf, &cts);
    if (!rb || !s->ready)
        return;
    int64_t pts_us = sf->f.ts + (int64_t)cts * 1000;
    uint32_t ts = rtp_ts(t, pts_us);
    if (!s->have_anchor) {
        s->have_anchor = 1;
        s->anchor_pts_us = pts_us;
        s->anchor_us = lc_rtc_now_us();
    }
    uint8_t pkt[RTC_PACKET_MAX + LC_SRTP_MAX_TRAILER];
    for (size_t off = 0; off + REC_HDR <= rb->len;) {
        size_t len = ((size_t)rb->data[off] << 8) | rb->data[off + 1];
        int marker = rb->data[off + 2];
        const uint8_t *payload = rb->data + off + REC_HDR;
        if (off + REC_HDR + len > rb->len || 12 + len > RTC_PACKET_MAX)
            break;
        uint16_t seq = t->seq++;
        if (t->hist) {
            rtc_sent_t *h = &t->hist[seq % RTC_HISTORY];
            lc_refbuf_unref(h->rb);
            *h = (rtc_sent_t){ lc_refbuf_ref(rb), (uint32_t)(off + REC_HDR), (uint16_t)len, seq, ts, (uint8_t)marker };
        }
        lc_rtc_send_rtp(s, pkt, write_packet(pkt, t, seq, ts, marker, payload, len));
        t->packets++;
        t->octets += (uint32_t)len;
        off += REC_HDR + len;
    }
    atomic_fetch_add_explicit(&lc_shm_proc(s->w->cycle->shm, s->w->cycle->slot)->bytes_out, rb->len,
                              memory_order_relaxed);
}

static void play_end(void *ctx, const char *why)
{
    lc_rtc_session_t *s = ctx;
    s->play = NULL; /* the core freed it */
    lc_rtc_end(s, why);
}

/* UDP never backs up in the socket's view: a slow player is the network's
 * to drop, and NACK and PLI recover it. */
static int never_congested(void *ctx)
{
    (void)ctx;
    return 0;
}

static size_t nothing_queued(void *ctx)
{
    (void)ctx;
    return 0;
}

static void sent_at_once(void *ctx, int urgent)
{
    (void)ctx;
    (void)urgent;
}

static const lc_player_ops_t play_ops = { play_frame, play_end, never_congested, nothing_queued, sent_at_once };

int lc_rtc_play_begin(lc_rtc_session_t *s)
{
    lc_shm_t *shm = s->w->cycle->shm;
    if (!picture_ids) {
        picture_ids = calloc(shm->streams_max, sizeof(*picture_ids));
        picture_ids_n = picture_ids ? shm->streams_max : 0;
    }
    if (s->video.on && !(s->video.hist = calloc(RTC_HISTORY, sizeof(rtc_sent_t))))
        return -1;
    uint8_t r[8];
    if (RAND_bytes(r, sizeof(r)) != 1)
        memset(r, 3, sizeof(r));
    s->video.seq = (uint16_t)(r[0] << 8 | r[1]);
    s->audio.seq = (uint16_t)(r[2] << 8 | r[3]);
    s->video.ts_base = (uint32_t)r[4] << 24 | (uint32_t)r[5] << 16;
    s->audio.ts_base = (uint32_t)r[6] << 24 | (uint32_t)r[7] << 16;
    /* audio in another codec than the player's comes through the shared transcoder (SPEC 6) */
    lc_core_accept_t acc;
    lc_rtc_play_accept(s, &acc);
    int rc = lc_core_play_as(s->w, s->name, &acc, &play_ops, s, &s->play);
    if (rc < 0)
        return rc;
    /* start at a fresh keyframe rather than wait for the publisher's next one */
    lc_core_request_keyframe(s->play);
    return 0;
}

void lc_rtc_play_end(lc_rtc_session_t *s)
{
    if (s->play)
        lc_core_stop(s->play);
    s->play = NULL;
    if (s->video.hist) {
        for (int i = 0; i < RTC_HISTORY; i++)
            lc_refbuf_unref(s->video.hist[i].rb);
        free(s->video.hist);
        s->video.hist = NULL;
    }
}

void lc_rtc_play_nack(lc_rtc_session_t *s, uint32_t media_ssrc, const uint16_t *seqs, size_t n)
{
    rtc_track_t *t = &s->video;
    uint8_t pkt[RTC_PACKET_MAX + LC_SRTP_MAX_TRAILER];
    if (!t->hist || media_ssrc != t->ssrc)
        return;
    for (size_t i = 0; i < n; i++) {
        rtc_sent_t *h = &t->hist[seqs[i] % RTC_HISTORY];
        if (!h->rb || h->seq != seqs[i])
            continue; /* too old: the player's PLI will follow */
        lc_rtc_send_rtp(s, pkt, write_packet(pkt, t, h->seq, h->ts, h->marker, h->rb->data + h->off, h->len));
    }
}

/* NTP time, 32.32 fixed point */
static uint64_t ntp_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    uint64_t sec = (uint64_t)ts.tv_sec + 2208988800ull;
    return sec << 32 | (uint64_t)(((uint64_t)ts.tv_nsec << 32) / 1000000000ull);
}

void lc_rtc_play_rtcp_tick(lc_rtc_session_t *s)
{
    uint8_t pkt[RTC_PACKET_MAX + LC_SRTP_MAX_TRAILER];
    rtc_track_t *tracks[2] = { &s->video, &s->audio };
    size_t n = 0;
    int64_t now = lc_rtc_now_us();
    for (int i = 0; i < 2; i++) {
        rtc_track_t *t = tracks[i];
        if (!t->on || !t->packets)
            continue;
        lc_rtcp_sr_t sr = { .ssrc = t->ssrc, .ntp = ntp_now(), .packet_count = t->packets, .octet_count = t->octets };
        sr.rtp_ts = rtp_ts(t, s->anchor_pts_us + (now - s->anchor_us));
        n += lc_rtcp_build_sr(pkt + n, RTC_PACKET_MAX - n, &sr);
    }
    if (n)
        lc_rtc_send_rtcp(s, pkt, n);
}
