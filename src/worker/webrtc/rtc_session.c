/*
 * rtc_session.c: one WebRTC peer connection in a worker (rtc.h): the offer
 * and answer, ICE-lite (we answer STUN binding checks, the browser
 * nominates), DTLS as the passive side, SRTP keyed from it, and the RTCP
 * that concerns the whole session. What flows once it is up is
 * rtc_publish.c's (into the ring) or rtc_play.c's (out of it).
 *
 * Packets arrive through rtc_udp.c, demultiplexed by RFC 7983's first
 * byte: 0-3 STUN, 20-63 DTLS, 128-191 RTP or RTCP.
 */
#include "worker/webrtc/rtc_int.h"

#include <openssl/rand.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "common/core/log.h"
#include "common/core/net.h"
#include "common/media/flv.h"
#include "common/shm/cdn_table.h"
#include "common/shm/stream_table.h"
#include "common/webrtc/rtcp.h"
#include "common/webrtc/sdp_negotiate.h"
#include "common/webrtc/stun.h"
#include "worker/webrtc/rtc_udp.h"

#define TICK_MS 50
#define CONNECT_TIMEOUT_MS 20000   /* offer answered, but ICE + DTLS never completed; at most
                                    * limits.handshake_timeout, as a publish holds a ring meanwhile */
#define CONSENT_TIMEOUT_MS 30000   /* RFC 7675: no consent check answered for this long */

#define SLOG(s, lvl, fmt, ...) \
    lc_log(lvl, "[rtc:%llx %s stream:%s] " fmt, (unsigned long long)(s)->id, \
           (s)->role == LC_RTC_PUBLISH ? "publish" : "play", (s)->name, ##__VA_ARGS__)

static lc_rtc_session_t *sessions;
static uint64_t next_id;

uint64_t lc_rtc_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

int64_t lc_rtc_now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int lc_rtc_init(lc_worker_t *w)
{
    const char *err;
    if (lc_dtls_init(&err) < 0) {
        lc_log_error("webrtc: %s", err);
        return -1;
    }
    if (lc_srtp_init() < 0) {
        lc_log_error("webrtc: libsrtp2 did not initialise");
        return -1;
    }
    return lc_rtc_udp_start(w);
}

void lc_rtc_shutdown(void)
{
    while (sessions)
        lc_rtc_end(sessions, "Server stopping");
    lc_rtc_udp_stop();
    lc_dtls_cleanup();
}

/* ---- sending ---- */

static void send_raw(void *ctx, const uint8_t *buf, size_t len)
{
    lc_rtc_session_t *s = ctx;
    if (s->have_addr)
        lc_rtc_udp_send((struct sockaddr *)&s->addr, s->addrlen, buf, len);
}

void lc_rtc_send_rtp(lc_rtc_session_t *s, uint8_t *pkt, size_t len)
{
    const char *err;
    if (!s->ready || !s->have_addr ||
        lc_srtp_protect_rtp(s->srtp, pkt, &len, RTC_PACKET_MAX + LC_SRTP_MAX_TRAILER, &err) < 0)
        return;
    lc_rtc_udp_queue((struct sockaddr *)&s->addr, s->addrlen, pkt, len);
}

void lc_rtc_send_rtcp(lc_rtc_session_t *s, uint8_t *pkt, size_t len)
{
    const char *err;
    if (!s->ready || lc_srtp_protect_rtcp(s->srtp, pkt, &len, RTC_PACKET_MAX + LC_SRTP_MAX_TRAILER, &err) < 0)
        return;
    send_raw(s, pkt, len);
}

/* ---- lifetime ---- */

static void session_free(lc_rtc_session_t *s)
{
    if (s->role == LC_RTC_PUBLISH)
        lc_rtc_publish_end(s);
    else
        lc_rtc_play_end(s);
    lc_rtc_data_stop(s);
    lc_rtc_udp_remove(s);
    if (s->timer)
        event_free(s->timer);
    lc_srtp_free(s->srtp);
    lc_dtls_free(s->dtls);
    lc_sdp_free(s->waiting_offer);
    if (s->prev)
        s->prev->next = s->next;
    else
        sessions = s->next;
    if (s->next)
        s->next->prev = s->prev;
    lc_worker_session_closed(s->w);
    free(s);
}

void lc_rtc_play_accept(const lc_rtc_session_t *s, lc_core_accept_t *acc)
{
    memset(acc, 0, sizeof(*acc));
    if (s->audio.on) {
        acc->audio = LC_CORE_CODEC_BIT(s->audio.codec);
        acc->audio_want = s->audio.codec;
    }
    if (s->video.on) {
        acc->video = LC_CORE_CODEC_BIT(s->video.codec);
        acc->video_want = s->video.codec;
    }
}

const char *lc_rtc_play_error(int rc)
{
    return rc == -EDQUOT ? "Transcoding capacity reached"
           : rc == -ENOTSUP ? "Codec not supported: the stream's audio cannot be transcoded for this player"
                            : "Stream not found";
}

void lc_rtc_end(lc_rtc_session_t *s, const char *why)
{
    if (s->ending)
        return;
    s->ending = 1;
    SLOG(s, LC_LOG_INFO, "ends: %s", why);
    const lc_rtc_owner_ops_t *ops = s->owner;
    void *ctx = s->owner_ctx;
    int waiting = s->waiting_offer != NULL;
    session_free(s);
    if (ops && waiting)
        ops->on_answer(ctx, NULL, why); /* never answered: the owner is told why */
    else if (ops && ops->on_end)
        ops->on_end(ctx, why);
}

void lc_rtc_stop(lc_rtc_session_t *s)
{
    s->owner = NULL; /* the owner asked: it needs no word back */
    lc_rtc_end(s, "stopped by the client");
}

const char *lc_rtc_info(const lc_rtc_session_t *s)
{
    return s->info;
}

/* ---- ICE ---- */

static void on_stun(lc_rtc_session_t *s, const struct sockaddr *from, socklen_t fromlen, const uint8_t *buf,
                    size_t len)
{
    lc_stun_msg_t m;
    const char *err;
    uint8_t out[512];
    if (lc_stun_parse(buf, len, &m, &err) < 0 || m.type != LC_STUN_BINDING_REQUEST)
        return; /* responses and indications: an ICE-lite agent sends no checks of its own */
    size_t ul = strlen(s->ufrag);
    if (!m.username || m.username_len <= ul || memcmp(m.username, s->ufrag, ul) != 0 || m.username[ul] != ':' ||
        !m.has_integrity ||
        !lc_stun_check_integrity(buf, len, &m, (const uint8_t *)s->pwd, strlen(s->pwd))) {
        size_t n = lc_stun_build_error(out, sizeof(out), m.txid, 401, "Unauthorized", NULL, 0);
        lc_rtc_udp_send(from, fromlen, out, n);
        return;
    }
    size_t n = lc_stun_build_binding_success(out, sizeof(out), m.txid, from, (const uint8_t *)s->pwd, strlen(s->pwd));
    lc_rtc_udp_send(from, fromlen, out, n);
    s->last_heard_ms = lc_rtc_now_ms();
    /* the controlling side nominates; until it does, the first checked pair serves */
    if (m.use_candidate || !s->have_addr) {
        if (!s->have_addr || memcmp(&s->addr, from, fromlen) != 0) {
            char a[64];
            lc_net_addr_str(from, a, sizeof(a));
            SLOG(s, LC_LOG_DEBUG, "ICE: peer at %s%s", a, m.use_candidate ? " (nominated)" : "");
        }
        memcpy(&s->addr, from, fromlen);
        s->addrlen = fromlen;
        s->have_addr = 1;
        lc_rtc_udp_bind_addr(s, from, fromlen);
    }
}

/* ---- DTLS ---- */

static void dtls_connected(lc_rtc_session_t *s)
{
    const char *err;
    lc_srtp_keys_t keys;
    if (!lc_dtls_check_peer(s->dtls, s->fp_alg, s->fp_hex)) {
        lc_rtc_end(s, "DTLS: the peer's certificate does not match the fingerprint of its SDP");
        return;
    }
    if (lc_dtls_srtp_keys(s->dtls, &keys, &err) < 0 || !(s->srtp = lc_srtp_new(&keys, &err))) {
        lc_rtc_end(s, err);
        return;
    }
    s->ready = 1;
    SLOG(s, LC_LOG_INFO, "connected (SRTP %s)", keys.profile == LC_SRTP_AEAD_AES_128_GCM ? "AEAD_AES_128_GCM"
                                                                                        : "AES_CM_128_HMAC_SHA1_80");
    if (s->sctp_port && lc_rtc_data_start(s, s->sctp_port) < 0)
        SLOG(s, LC_LOG_WARN, "data channels unavailable: SCTP did not start");
    /* Without data channels DTLS has done its work once SRTP is keyed, and
     * its state is half of what a player costs (~70 KiB): let it go. The
     * peer's closing alert is still seen (on_dtls). */
    if (!s->sctp) {
        lc_dtls_free(s->dtls);
        s->dtls = NULL;
    }
    int rc = s->role == LC_RTC_PLAY ? lc_rtc_play_begin(s) : 0;
    if (rc < 0)
        lc_rtc_end(s, lc_rtc_play_error(rc));
}

/* DTLS application data is SCTP (data channels) */
static void dtls_app_data(void *ctx, const uint8_t *buf, size_t len)
{
    lc_rtc_data_input(ctx, buf, len);
}

static void on_dtls(lc_rtc_session_t *s, const uint8_t *buf, size_t len)
{
    const char *err;
    if (!s->have_addr)
        return; /* DTLS only after a checked ICE pair */
    if (s->ready && !s->dtls) {
        /* after the handshake the only record a peer sends is an alert
         * (content type 21), its close_notify or a fatal one: either ends it */
        if (buf[0] == 21)
            lc_rtc_end(s, "the peer closed the connection");
        return;
    }
    if (!s->dtls && !(s->dtls = lc_dtls_new(1, send_raw, dtls_app_data, s)))
        return;
    int was = lc_dtls_connected(s->dtls);
    if (lc_dtls_feed(s->dtls, buf, len, &err) < 0) {
        char why[160];
        snprintf(why, sizeof(why), strstr(err, "closed") ? "%s" : "DTLS failed: %s", err);
        lc_rtc_end(s, why);
        return;
    }
    if (!was && lc_dtls_connected(s->dtls))
        dtls_connected(s);
}

/* ---- RTCP in ---- */

static void on_rtcp(lc_rtc_session_t *s, uint8_t *buf, size_t len)
{
    const char *err;
    if (lc_srtp_unprotect_rtcp(s->srtp, buf, &len, &err) < 0)
        return;
    lc_rtcp_iter_t it;
    lc_rtcp_hdr_t h;
    lc_rtcp_iter_init(&it, buf, len);
    while (lc_rtcp_iter_next(&it, &h, &err) > 0) {
        lc_rtcp_fb_t fb;
        if (s->role == LC_RTC_PLAY && h.pt == LC_RTCP_RTPFB && h.count == LC_RTCP_FMT_NACK &&
            s->w->cycle->conf->webrtc_nack) {
            uint16_t seqs[256];
            int n = lc_rtcp_nack_parse(&h, &fb, seqs, 256, &err);
            if (n > 0) /* the count may exceed what was stored */
                lc_rtc_play_nack(s, fb.media_ssrc, seqs, n > 256 ? 256 : (size_t)n);
        } else if (s->role == LC_RTC_PLAY && h.pt == LC_RTCP_PSFB &&
                   (h.count == LC_RTCP_FMT_PLI || h.count == LC_RTCP_FMT_FIR)) {
            /* a player's decoder asks; every one counts (the stream's
             * writer takes any number as one, and its gate holds a request
             * made inside its 500 ms window for the window's end rather
             * than dropping it: the last ask is the one that matters) */
            if (s->play)
                lc_core_request_keyframe(s->play);
        } else if (s->role == LC_RTC_PUBLISH && h.pt == LC_RTCP_SR) {
            lc_rtcp_sr_t sr;
            if (lc_rtcp_sr_parse(&h, &sr, &err) == 0)
                lc_rtc_publish_sr(s, &sr);
        } else if (h.pt == LC_RTCP_BYE) {
            lc_rtc_end(s, s->role == LC_RTC_PUBLISH ? "Stopped by publisher stop" : "stopped by the client");
            return;
        }
    }
}

/* ---- packets ---- */

void lc_rtc_session_on_packet(lc_rtc_session_t *s, const struct sockaddr *from, socklen_t fromlen, uint8_t *buf,
                              size_t len)
{
    if (len == 0)
        return;
    uint8_t b = buf[0];
    if (b <= 3) {
        on_stun(s, from, fromlen, buf, len);
        return;
    }
    /* anything else only from the checked address */
    if (!s->have_addr || fromlen != s->addrlen || memcmp(from, &s->addr, fromlen) != 0)
        return;
    s->last_heard_ms = lc_rtc_now_ms();
    if (b >= 20 && b <= 63)
        on_dtls(s, buf, len);
    else if (b >= 128 && b <= 191 && s->ready) {
        if (lc_rtp_is_rtcp(buf, len))
            on_rtcp(s, buf, len);
        else if (s->role == LC_RTC_PUBLISH)
            lc_rtc_publish_rtp(s, buf, len);
    }
}

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
    lc_rtc_session_t *s = arg;
    uint64_t now = lc_rtc_now_ms();
    const char *err;
    (void)fd;
    (void)what;
    if (!s->ready) {
        uint64_t limit = (uint64_t)s->w->cycle->conf->limits_handshake_timeout * 1000;
        if (now - s->created_ms > (limit < CONNECT_TIMEOUT_MS ? limit : CONNECT_TIMEOUT_MS)) {
            lc_rtc_end(s, s->have_addr ? "DTLS handshake did not complete" : "ICE: no connectivity check arrived");
            return;
        }
        if (s->dtls && lc_dtls_timeout_ms(s->dtls) == 0 && lc_dtls_on_timeout(s->dtls, &err) < 0) {
            lc_rtc_end(s, err);
            return;
        }
        return;
    }
    if (now - s->last_heard_ms > CONSENT_TIMEOUT_MS) {
        lc_rtc_end(s, "ICE consent expired: the peer stopped answering");
        return;
    }
    if (s->role == LC_RTC_PUBLISH)
        lc_rtc_publish_tick(s);
    int64_t pli = s->w->cycle->conf->webrtc_pli_interval_ms;
    if (s->role == LC_RTC_PUBLISH && pli > 0 && now - s->last_pli_ms >= (uint64_t)pli)
        lc_rtc_publish_keyframe(s);
    if (now - s->last_report_ms >= 1000) {
        s->last_report_ms = now;
        if (s->role == LC_RTC_PUBLISH)
            lc_rtc_publish_rtcp_tick(s);
        else
            lc_rtc_play_rtcp_tick(s);
    }
    lc_rtc_udp_flush();
}

/* ---- offer and answer ---- */

static void random_token(char *out, size_t n)
{
    static const char abc[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+/";
    uint8_t r[64];
    if (RAND_bytes(r, (int)n) != 1)
        memset(r, 7, sizeof(r));
    for (size_t i = 0; i < n; i++)
        out[i] = abc[r[i] % 64];
    out[n] = '\0';
}

static uint32_t random_u32(void)
{
    uint32_t v = 0;
    if (RAND_bytes((uint8_t *)&v, sizeof(v)) != 1)
        v = (uint32_t)lc_rtc_now_us();
    return v ? v : 1;
}

/* The codecs WebRTC media here carries, by rtpmap name; LC_CODEC_NONE for any other. */
static int codec_of(const char *name)
{
    int c = lc_codec_by_rtpmap(name);
    return c == LC_CODEC_VP8 || c == LC_CODEC_H264 || c == LC_CODEC_OPUS || c == LC_CODEC_PCMA ||
                   c == LC_CODEC_PCMU || c == LC_CODEC_G722
               ? c
               : LC_CODEC_NONE;
}

static void take_track(rtc_track_t *t, const lc_sdp_negotiate_media_t *m)
{
    t->on = 1;
    t->codec = codec_of(m->codec);
    t->pt = m->pt;
    t->rtx_pt = m->rtx_pt;
    t->fb = m->fb;
    t->clock = m->clock;
}

/* What a PLAY offer is measured against: the stream's codecs as the
 * publisher declared them (a WebRTC offer), else as far as its frames have
 * shown them. Audio other than Opus cannot go to a WebRTC player until live
 * transcoding lands. profile: where the publisher's H.264 profile-level-id
 * is kept while the policy points at it. */
static void stream_codecs(lc_rtc_session_t *s, lc_sdp_negotiate_policy_t *pol, char profile[8])
{
    lc_shm_t *shm = s->w->cycle->shm;
    lc_stream_codecs_t c;
    int v = 0, a = 0;
    pol->stream_video = pol->stream_audio = pol->stream_h264_profile = NULL;
    profile[0] = '\0';
    if (lc_stream_codecs(shm, s->name, &c) == 0) {
        v = c.vcodec;
        a = c.acodec;
        snprintf(profile, 8, "%s", c.h264_profile);
    } else if (lc_cdn_route_codecs(shm, s->name, &v, &a) < 0) {
        return;
    }
    pol->stream_video = v == LC_CODEC_H264 ? "H264" : v == LC_CODEC_VP8 ? "VP8" : NULL;
    if (v == LC_CODEC_H264 && profile[0])
        pol->stream_h264_profile = profile;
    /* a player that lacks the stream's codec gets its own first one through
     * the shared transcoder (pol->play_transcode, lc_core_play_as); no audio
     * is still answered (Opus, silent): clients such as aiortc cannot take a
     * rejected audio section */
    const lc_codec_info_t *ai = lc_codec_info(a);
    pol->stream_audio = a && ai && ai->rtpmap ? ai->rtpmap : "opus";
    pol->play_transcode = 1;
    if (!v && !a) { /* nothing known after the wait: let the offer choose */
        pol->stream_video = "VP8";
        pol->stream_audio = "opus";
    }
}

/* Does the play side know what the stream carries? A WebRTC publisher
 * declares it with its offer; an RTMP one with its first video frame; a CDN
 * route once its origin has seen frames. A stream gone is "known": the
 * answer then says it is not found. */
static int stream_codecs_known(lc_rtc_session_t *s)
{
    lc_shm_t *shm = s->w->cycle->shm;
    lc_stream_codecs_t c;
    int v = 0, a = 0;
    if (lc_stream_codecs(shm, s->name, &c) == 0)
        return c.known;
    if (lc_cdn_route_codecs(shm, s->name, &v, &a) == 0)
        return v || a;
    return 1;
}

/* The publisher's codecs go into the stream's shared record before its
 * answer goes out: a player arriving on any worker before the first frame
 * is answered with them (not with whatever its offer prefers). */
static void declare_publish(lc_rtc_session_t *s, const lc_sdp_negotiate_t *neg)
{
    lc_shm_t *shm = s->w->cycle->shm;
    uint32_t id, gen;
    char profile[8] = "";
    if (lc_stream_find(shm, s->name, &id, &gen) < 0 || lc_shm_stream(shm, id)->owner_slot != s->w->cycle->slot)
        return;
    if (s->video.on && s->video.codec == LC_CODEC_H264) {
        size_t n;
        const char *plid = lc_sdp_fmtp_find(neg->media[neg->video].fmtp, "profile-level-id", &n);
        if (plid && n == 6)
            snprintf(profile, sizeof(profile), "%.6s", plid);
    }
    lc_stream_declare_codecs(shm, id, s->video.on ? s->video.codec : 0, s->audio.on ? s->audio.codec : 0, profile);
}

static void session_link(lc_rtc_session_t *s)
{
    s->next = sessions;
    if (sessions)
        sessions->prev = s;
    sessions = s;
    lc_worker_session_opened(s->w);
}

#define WAIT_TICK_MS 20
#define WAIT_MAX_MS 2000

/* Negotiate the offer and make the answer; on success the session is on its
 * way (ICE expected). On failure -1 with err, nothing of the session started. */
static int answer_offer(lc_rtc_session_t *s, lc_sdp_t *sdp, char **answer, char *err, size_t errlen)
{
    const char *video[2], *audio[4];
    size_t nvideo = 0, naudio = 0;
    char profile[8];
    lc_worker_t *w = s->w;
    int role = s->role;
    lc_sdp_negotiate_t *neg = calloc(1, sizeof(*neg));
    int rc = -1;

    *answer = NULL;
    if (!neg) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    /* codecs.video / codecs.audio, in their order, as far as WebRTC media here goes */
    const lc_conf_t *conf = w->cycle->conf;
    for (size_t i = 0; i < conf->codecs_video.n && nvideo < 2; i++)
        if (codec_of(conf->codecs_video.v[i]) == LC_CODEC_H264 || codec_of(conf->codecs_video.v[i]) == LC_CODEC_VP8)
            video[nvideo++] = conf->codecs_video.v[i];
    /* players take G.711 and G.722 too (through a transcoder); publishers send Opus */
    for (size_t i = 0; i < conf->codecs_audio.n && naudio < 4; i++)
        if (codec_of(conf->codecs_audio.v[i]) == LC_CODEC_OPUS ||
            (role == LC_RTC_PLAY && codec_of(conf->codecs_audio.v[i]) != LC_CODEC_NONE))
            audio[naudio++] = conf->codecs_audio.v[i];
    lc_sdp_negotiate_policy_t pol = { video, nvideo, audio, naudio, 1, NULL, NULL, NULL, 0 };
    if (role == LC_RTC_PLAY) {
        if (!lc_core_playable(w, s->name)) {
            snprintf(err, errlen, "Stream not found");
            goto out;
        }
        stream_codecs(s, &pol, profile);
    }
    if (lc_sdp_negotiate_offer(sdp, role == LC_RTC_PUBLISH ? LC_SDP_NEGOTIATE_PUBLISH : LC_SDP_NEGOTIATE_PLAY, &pol,
                               neg, err, errlen) < 0)
        goto out;
    /* no transport-wide feedback from us (yet): keep senders on REMB */
    for (size_t i = 0; i < neg->nmedia; i++) {
        neg->media[i].fb &= ~(unsigned)LC_SDP_FB_TRANSPORT_CC;
        neg->media[i].ext_id[LC_SDP_EXT_TWCC] = 0;
        if (!conf->webrtc_nack) { /* webrtc.nack = false: loss is repaired by keyframes only */
            neg->media[i].fb &= ~(unsigned)LC_SDP_FB_NACK;
            neg->media[i].rtx_pt = -1;
        }
    }
    if (neg->video >= 0)
        take_track(&s->video, &neg->media[neg->video]);
    if (neg->audio >= 0)
        take_track(&s->audio, &neg->media[neg->audio]);
    if (role == LC_RTC_PLAY) {
        /* refused now, with the answer, rather than after DTLS */
        lc_core_accept_t acc;
        lc_rtc_play_accept(s, &acc);
        int prc = lc_core_play_check(w, s->name, &acc);
        if (prc < 0) {
            snprintf(err, errlen, "%s", lc_rtc_play_error(prc));
            goto out;
        }
    }
    if (neg->data >= 0)
        s->sctp_port = neg->media[neg->data].sctp_port ? (int)neg->media[neg->data].sctp_port : 5000;
    snprintf(s->fp_alg, sizeof(s->fp_alg), "%s", neg->fp_alg);
    snprintf(s->fp_hex, sizeof(s->fp_hex), "%s", neg->fp_hex);

    char cand[LC_RTC_UDP_MAX_CANDIDATES][LC_RTC_UDP_CAND_LEN], fp[160];
    const char *cands[LC_RTC_UDP_MAX_CANDIDATES];
    size_t ncands = lc_rtc_udp_candidates(cand, LC_RTC_UDP_MAX_CANDIDATES);
    for (size_t i = 0; i < ncands; i++)
        cands[i] = cand[i];
    snprintf(fp, sizeof(fp), "sha-256 %s", lc_dtls_fingerprint());
    if (role == LC_RTC_PLAY) {
        s->video.ssrc = random_u32();
        s->audio.ssrc = random_u32();
    }
    lc_sdp_negotiate_server_t srv = {
        .ice_ufrag = s->ufrag, .ice_pwd = s->pwd, .fingerprint = fp, .candidates = cands, .ncandidates = ncands,
        .session_id = ((uint64_t)random_u32() << 16) | 1, .video_ssrc = s->video.ssrc, .audio_ssrc = s->audio.ssrc,
        .cname = "livecdn", .msid_stream = "livecdn", .sctp_port = 5000, .max_message_size = 65536,
    };
    if (!(*answer = lc_sdp_negotiate_answer(neg, &srv, err, errlen)))
        goto out;
    if (role == LC_RTC_PUBLISH) {
        if (lc_rtc_publish_begin(s, err, errlen) < 0)
            goto out;
        declare_publish(s, neg);
    }
    s->timer = event_new(w->base, -1, EV_PERSIST, on_tick, s);
    struct timeval tv = { 0, TICK_MS * 1000 };
    if (!s->timer || event_add(s->timer, &tv) < 0) {
        snprintf(err, errlen, "out of timers");
        if (s->pub)
            lc_rtc_publish_end(s);
        goto out;
    }
    lc_rtc_udp_add_ufrag(s->ufrag, s);
    SLOG(s, LC_LOG_INFO, "offer from %s answered: video %s, audio %s", s->who + 7,
         s->video.on ? lc_codec_name(s->video.codec) : "none", s->audio.on ? lc_codec_name(s->audio.codec) : "none");
    rc = 0;
out:
    if (rc < 0) {
        free(*answer);
        *answer = NULL;
        if (s->timer)
            event_free(s->timer);
        s->timer = NULL;
    }
    free(neg);
    return rc;
}

/* A waiting player: answer it once the stream's codecs are known, or when
 * the wait is up. The owner hears either way (on_answer). */
static void on_wait_tick(evutil_socket_t fd, short what, void *arg)
{
    lc_rtc_session_t *s = arg;
    char err[300];
    char *answer = NULL;
    (void)fd;
    (void)what;
    int known = stream_codecs_known(s);
    if (!known && lc_rtc_now_ms() < s->wait_until_ms)
        return;
    if (!known)
        SLOG(s, LC_LOG_INFO, "the stream's codecs are still unknown after %d ms: answering with the offer's",
             WAIT_MAX_MS);
    event_free(s->timer);
    s->timer = NULL;
    lc_sdp_t *sdp = s->waiting_offer;
    s->waiting_offer = NULL;
    int rc = answer_offer(s, sdp, &answer, err, sizeof(err));
    lc_sdp_free(sdp);
    const lc_rtc_owner_ops_t *ops = s->owner;
    void *ctx = s->owner_ctx;
    if (rc < 0) {
        SLOG(s, LC_LOG_INFO, "offer from %s refused: %s", s->who + 7, err);
        s->owner = NULL; /* told below, through on_answer */
        lc_rtc_end(s, err);
        if (ops)
            ops->on_answer(ctx, NULL, err);
        return;
    }
    if (ops)
        ops->on_answer(ctx, answer, NULL); /* may stop the session: s is not used after */
    free(answer);
}

int lc_rtc_start(lc_worker_t *w, int role, const char *name, const char *offer, size_t len, const char *who,
                 const lc_rtc_owner_ops_t *ops, void *ctx, char **answer, lc_rtc_session_t **out, char *err,
                 size_t errlen)
{
    lc_sdp_t *sdp = NULL;
    lc_rtc_session_t *s;

    *answer = NULL;
    if (!lc_rtc_udp_port()) {
        snprintf(err, errlen, "WebRTC is not available on this server: no UDP port (see its error log)");
        return -1;
    }
    if (!(s = calloc(1, sizeof(*s)))) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    s->w = w;
    s->id = ++next_id;
    s->role = role;
    s->owner = ops;
    s->owner_ctx = ctx;
    snprintf(s->name, sizeof(s->name), "%s", name);
    snprintf(s->who, sizeof(s->who), "webrtc %s", who);
    random_token(s->ufrag, 8);
    random_token(s->pwd, 24);
    s->created_ms = s->last_heard_ms = lc_rtc_now_ms();
    s->started_us = lc_rtc_now_us();

    if (!(sdp = lc_sdp_parse(offer, len, err, errlen))) {
        free(s);
        return -1;
    }
    if (role == LC_RTC_PLAY && lc_core_playable(w, name) && !stream_codecs_known(s)) {
        /* published, but what it carries is not known yet (an RTMP publisher
         * before its first video frame): wait for it, without blocking */
        s->waiting_offer = sdp;
        s->wait_until_ms = lc_rtc_now_ms() + WAIT_MAX_MS;
        s->timer = event_new(w->base, -1, EV_PERSIST, on_wait_tick, s);
        struct timeval tv = { 0, WAIT_TICK_MS * 1000 };
        if (!s->timer || event_add(s->timer, &tv) < 0) {
            snprintf(err, errlen, "out of timers");
            if (s->timer)
                event_free(s->timer);
            lc_sdp_free(sdp);
            free(s);
            return -1;
        }
        session_link(s);
        SLOG(s, LC_LOG_DEBUG, "offer from %s waits for the stream's codecs", who);
        *out = s;
        return 1;
    }
    if (answer_offer(s, sdp, answer, err, errlen) < 0) {
        lc_sdp_free(sdp);
        free(s);
        return -1;
    }
    lc_sdp_free(sdp);
    session_link(s);
    *out = s;
    return 0;
}
