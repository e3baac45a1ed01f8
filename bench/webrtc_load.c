/*
 * webrtc_load.c: a WHEP player load client for WebRTC fan-out benchmarks.
 * One process, one epoll loop, N players of http://HOST:PORT/whep/NAME.
 * A browser or aiortc peer costs far more CPU than the server spends on
 * it; a player here costs a UDP socket, a DTLS association (only during
 * the handshake), an SRTP session and a few counters.
 *
 * Each player: a minimal offer (BUNDLE audio + video recvonly, rtcp-mux,
 * our ice-ufrag/pwd, the process's DTLS fingerprint, setup:actpass, VP8
 * PT 96 and opus PT 111 with nack/pli; -V h264: H.264 PT 102
 * packetization-mode 1 profile-level-id 42e01f instead of VP8; -A none: no
 * audio section) POSTed to /whep/NAME over a
 * blocking TCP connection (loopback; ramped at -r per second, so neither
 * the accept queue nor the signaling path is what is measured); from the
 * 201 answer, the host candidate, ice-ufrag/pwd and fingerprint. Then, on
 * a UDP socket connected to the candidate: STUN Binding requests (USERNAME
 * "server:ours", MESSAGE-INTEGRITY under the server's pwd, ICE-CONTROLLING,
 * USE-CANDIDATE) every 100 ms until a success; the DTLS client handshake
 * (src/common/webrtc/dtls.c, the server's certificate checked against its
 * SDP fingerprint); SRTP keyed from it (srtp.c). Every RTP packet is
 * unprotected (so a bad key or a corrupt packet counts as an error, not
 * as traffic) and counted; losses are seq gaps per SSRC (expected -
 * received, RFC 3550 A.3 style, over the whole life of the player). A
 * receiver report goes out every second, and a STUN Binding every 2.5 s
 * keeps ICE consent fresh (RFC 7675).
 *
 * Phases as in rtmp_load.c: ramp (-r per second), settle (until every
 * player has RTP, failed, or -s seconds passed), -w seconds of warm-up,
 * then the window of -t seconds, at whose edges the server processes
 * named with -p are sampled (utime+stime, VmRSS, RssAnon); RSS also at
 * start (the "0 players" baseline).
 *
 * Output: a summary on stderr and one line on stdout,
 *   BENCH webrtc_load n= connected= failed= not_started= post_err= ice_err= dtls_err= no_rtp=
 *         win_s= win_pkts= win_bytes= pps= mbps= lost= srtp_err= rtcp_pkts=
 *         first_p50_ms= first_p99_ms= dtls_p50_ms= dtls_p99_ms= post_p50_ms=
 *         post_p99_ms= client_cpu_s= srtp_profile=
 *         [srv_cpu_s= srv_rss0_kib= srv_rss1_kib= srv_anon0_kib= srv_anon1_kib=]
 *         [offer= win_audio_pkts= win_video_pkts= audio_pps= video_pps= audio_players= audio_lost=]
 * The last group only with -A or -V: RTP of payload type 111 (the Opus PT
 * we offer, and Janus's) counted as audio, the rest as video;
 * audio_players: connected players with audio in the window; audio_lost:
 * the audio SSRCs' share of lost.
 * -H CMD: `CMD start` runs (system(), waited for) just before the window
 * opens and `CMD end` just after it closes, to sample what -p cannot (a
 * REST counter, a core's /proc/stat line) over the same window.
 * connected: players open at the window's end that received RTP in it.
 * first: POST sent -> first RTP packet unprotected; dtls: POST -> DTLS up;
 * post: POST sent -> answer read (the blocking HTTP exchange).
 * lost: packets missing by sequence number in the window (sum over SSRCs).
 * Exit status: 0 when at least one player was connected, 1 otherwise.
 *
 * Janus mode (-J http://HOST:PORT/janus -m MOUNTPOINT): the same players
 * against the Janus streaming plugin over its HTTP API, each with its own
 * session: POST create, attach janus.plugin.streaming, message "watch",
 * GET the session's event (long poll, maxev=1), whose JSEP is Janus's
 * offer; then our answer (recvonly, the offer's first payload type of each
 * m-line, a=setup:active, our UDP socket's host candidate and
 * a=end-of-candidates) in a "start" message. "post" then covers those five
 * exchanges. Janus is a full ICE agent and the offerer, hence controlling:
 * the player is the controlled agent (its checks carry ICE-CONTROLLED and
 * no USE-CANDIDATE), answers Janus's checks (MESSAGE-INTEGRITY under our
 * pwd) and starts DTLS 40 ms after Janus nominated the pair (USE-CANDIDATE)
 * or, failing that, 1 s after its own check succeeded. A {"janus":"keepalive"}
 * per session every 20 s keeps the session from timing out. The rest
 * (DTLS client, SRTP, RR, consent, counting) is the WHEP player's.
 *
 * Usage: webrtc_load -u http://HOST:PORT/whep/NAME [-n players] [-r per_s] [-R max_ramp_s]
 *        [-t window_s] [-w warmup_s] [-s settle_s] [-p pid]... [-A opus|none] [-V vp8|h264] [-H cmd]
 *        webrtc_load -J http://HOST:PORT/janus -m MOUNTPOINT_ID [same options]
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "common/webrtc/dtls.h"
#include "common/webrtc/rtcp.h"
#include "common/webrtc/rtp.h"
#include "common/webrtc/sdp.h"
#include "common/webrtc/srtp.h"
#include "common/webrtc/stun.h"

#include "bench_util.h"

#define MAX_PIDS 64
#define MAX_SSRC 4                /* audio, video, and room for an RTX or a change */
#define UDP_BUF 2048
#define BATCH 32                  /* datagrams per recvmmsg */
#define STUN_RTO_NS 100000000ll   /* ICE check retransmission until the first success */
#define CONSENT_NS 2500000000ll   /* then one Binding every 2.5 s (RFC 7675 allows 4-6 s) */
#define RR_NS 1000000000ll
#define ICE_GIVEUP_NS 10000000000ll
#define JANUS_KEEPALIVE_NS 20000000000ll /* Janus's session_timeout is 60 s by default */
#define JANUS_NOMINATE_WAIT_NS 1000000000ll /* DTLS without Janus's USE-CANDIDATE after this */
#define OPUS_PT 111               /* the payload types we offer (WHEP) */
#define VP8_PT 96
#define H264_PT 102
#define JANUS_DTLS_DELAY_NS 40000000ll /* after it: a ClientHello right away beats Janus's DTLS setup and is
                                          lost (1 s retransmission); libnice reports the pair a bit later */

enum { ST_IDLE, ST_ICE, ST_DTLS, ST_MEDIA, ST_FAILED };

typedef struct {
    uint32_t ssrc;
    int used;
    int audio;                    /* its first packet had payload type OPUS_PT */
    uint32_t ext_max, ext_first;  /* extended highest and first sequence numbers */
    uint64_t received;
    uint64_t win_expected0, win_received0;
} ssrc_t;

typedef struct {
    int fd;
    int state;
    char ufrag[9], pwd[25];          /* ours */
    char rufrag[64], rpwd[128];      /* the server's */
    char rfp[128];                   /* its sha-256 fingerprint */
    uint8_t txid[LC_STUN_TXID_LEN];
    uint64_t tiebreaker;
    lc_dtls_t *dtls;
    lc_srtp_t *srtp;
    int64_t t_post, t_answer, t_dtls, t_rtp; /* ns, CLOCK_MONOTONIC; 0 = not yet */
    int64_t t_stun, t_rr;            /* next Binding, next RR */
    int64_t t_dtls_timer;            /* next DTLS retransmission check, 0 = none */
    int64_t t_ice_ok;                /* Janus mode: our check succeeded (0 = not yet) */
    int64_t t_keepalive;             /* Janus mode: next session keepalive */
    unsigned long long jsession, jhandle; /* Janus mode: session and handle ids */
    struct sockaddr_in raddr;        /* the server's candidate (our socket is connected to it) */
    uint64_t pkts, bytes, win_pkts0;
    uint64_t apkts, win_apkts0;      /* of those, audio (payload type OPUS_PT) */
    ssrc_t ssrc[MAX_SSRC];
} player_t;

static player_t *players;
static int nplayers;
static int epfd;
static char host[256], port[16], path[512];
static int janus;                 /* -J: Janus HTTP API, streaming plugin */
static int offer_audio = 1;       /* -A opus (default) | none: the offer's audio section */
static int offer_h264;            /* -V h264: H.264 instead of VP8 in the offer */
static int count_kinds;           /* -A or -V given: audio and video counted apart in the output */
static const char *hook;          /* -H: command run as `CMD start` / `CMD end` at the window's edges */
static unsigned long long janus_mp; /* -m: its mountpoint id */
static struct sockaddr_storage http_addr;
static socklen_t http_addrlen;
static uint64_t total_pkts, total_bytes, rtcp_pkts, srtp_errs, other_pkts, total_apkts;
static int post_err, ice_err, dtls_err, not_started;
static int srtp_profile; /* of the first keyed player (lc_srtp_profile) */
static const char *last_error = "";
static char errbuf[800];
static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
    (void)sig;
    stop = 1;
}

/* ---- player end ---- */

static void player_fail(player_t *p, int *counter, const char *why)
{
    if (p->fd >= 0) {
        epoll_ctl(epfd, EPOLL_CTL_DEL, p->fd, NULL);
        close(p->fd);
        p->fd = -1;
    }
    if (p->dtls) {
        lc_dtls_free(p->dtls);
        p->dtls = NULL;
    }
    if (p->srtp) {
        lc_srtp_free(p->srtp);
        p->srtp = NULL;
    }
    p->state = ST_FAILED;
    if (counter)
        (*counter)++;
    last_error = why;
}

/* ---- signaling: one blocking WHEP POST ---- */

static void rand_token(char *out, size_t n)
{
    static const char al[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    for (size_t i = 0; i < n; i++)
        out[i] = al[(unsigned)rand() % (sizeof(al) - 1)];
    out[n] = '\0';
}

/* The WHEP offer: an audio section (Opus PT 111, mid 0; -A none leaves it
 * out) and a video section (VP8 PT 96 or, -V h264, H.264 PT 102
 * packetization-mode 1 constrained baseline; mid 1), both recvonly and
 * bundled. With the defaults the text is the original Opus + VP8 offer. */
static int build_offer(const player_t *p, char *out, size_t cap)
{
    static const char *fb = "a=rtcp-fb:%d nack\r\na=rtcp-fb:%d nack pli\r\n";
    static const char *sec = "c=IN IP4 0.0.0.0\r\n"
                             "a=rtcp:9 IN IP4 0.0.0.0\r\n"
                             "a=ice-ufrag:%s\r\na=ice-pwd:%s\r\n"
                             "a=fingerprint:sha-256 %s\r\n"
                             "a=setup:actpass\r\n"
                             "a=mid:%d\r\n"
                             "a=recvonly\r\n"
                             "a=rtcp-mux\r\n";
    int vpt = offer_h264 ? H264_PT : VP8_PT;
    char fbv[96], fba[96];
    snprintf(fbv, sizeof(fbv), fb, vpt, vpt);
    snprintf(fba, sizeof(fba), fb, OPUS_PT, OPUS_PT);
    size_t n = 0;
    int w = snprintf(out, cap,
                     "v=0\r\n"
                     "o=- %u 2 IN IP4 127.0.0.1\r\n"
                     "s=-\r\n"
                     "t=0 0\r\n"
                     "a=group:BUNDLE %s\r\n"
                     "a=msid-semantic: WMS\r\n",
                     (unsigned)rand(), offer_audio ? "0 1" : "1");
    if (w < 0 || (size_t)w >= cap)
        return -1;
    n = (size_t)w;
    if (offer_audio) {
        w = snprintf(out + n, cap - n, "m=audio 9 UDP/TLS/RTP/SAVPF %d\r\n", OPUS_PT);
        if (w < 0 || (size_t)w >= cap - n)
            return -1;
        n += (size_t)w;
        w = snprintf(out + n, cap - n, sec, p->ufrag, p->pwd, lc_dtls_fingerprint(), 0);
        if (w < 0 || (size_t)w >= cap - n)
            return -1;
        n += (size_t)w;
        w = snprintf(out + n, cap - n, "a=rtpmap:%d opus/48000/2\r\n%sa=fmtp:%d minptime=10;useinbandfec=1\r\n",
                     OPUS_PT, fba, OPUS_PT);
        if (w < 0 || (size_t)w >= cap - n)
            return -1;
        n += (size_t)w;
    }
    w = snprintf(out + n, cap - n, "m=video 9 UDP/TLS/RTP/SAVPF %d\r\n", vpt);
    if (w < 0 || (size_t)w >= cap - n)
        return -1;
    n += (size_t)w;
    w = snprintf(out + n, cap - n, sec, p->ufrag, p->pwd, lc_dtls_fingerprint(), 1);
    if (w < 0 || (size_t)w >= cap - n)
        return -1;
    n += (size_t)w;
    if (offer_h264)
        w = snprintf(out + n, cap - n,
                     "a=rtcp-rsize\r\na=rtpmap:%d H264/90000\r\n%s"
                     "a=fmtp:%d level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f\r\n",
                     vpt, fbv, vpt);
    else
        w = snprintf(out + n, cap - n, "a=rtcp-rsize\r\na=rtpmap:%d VP8/90000\r\n%s", vpt, fbv);
    if (w < 0 || (size_t)w >= cap - n)
        return -1;
    n += (size_t)w;
    return (int)n;
}

/* The host candidate of an answer: "a=candidate:F C udp PRIO IP PORT typ host". */
static int answer_candidate(const char *sdp, struct sockaddr_in *sa)
{
    const char *l = strstr(sdp, "a=candidate:");
    while (l) {
        char proto[8], ip[64];
        unsigned comp, prio, prt;
        if (sscanf(l, "a=candidate:%*s %u %7s %u %63s %u typ", &comp, proto, &prio, ip, &prt) == 5 &&
            (proto[0] == 'u' || proto[0] == 'U') && comp == 1) {
            memset(sa, 0, sizeof(*sa));
            sa->sin_family = AF_INET;
            sa->sin_port = htons((uint16_t)prt);
            if (inet_pton(AF_INET, ip, &sa->sin_addr) == 1)
                return 0;
        }
        l = strstr(l + 1, "a=candidate:");
    }
    return -1;
}

/* One blocking HTTP/1.1 exchange (Connection: close) with the server of
 * -u/-J: method uri, body of type ctype (NULL: no body). The response goes
 * to resp[0..cap), NUL-terminated; *body points at its body. Returns the
 * status code, or -1 with last_error set. timeout_s bounds each send/recv. */
static int http_exchange(const char *method, const char *uri, const char *ctype, const char *body, size_t blen,
                         char *resp, size_t cap, char **rbody, int timeout_s)
{
    static char req[16384];
    int hlen = snprintf(req, sizeof(req),
                        "%s %s HTTP/1.1\r\nHost: %s:%s\r\n%s%s%sContent-Length: %zu\r\nConnection: close\r\n\r\n",
                        method, uri, host, port, ctype ? "Content-Type: " : "", ctype ? ctype : "", ctype ? "\r\n" : "",
                        body ? blen : 0);
    if (hlen < 0 || (size_t)hlen + (body ? blen : 0) >= sizeof(req)) {
        last_error = "HTTP request too large";
        return -1;
    }
    if (body)
        memcpy(req + hlen, body, blen);
    size_t rlen = (size_t)hlen + (body ? blen : 0);
    int fd = socket(http_addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    struct timeval tv = { .tv_sec = timeout_s };
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    size_t got = 0;
    if (connect(fd, (struct sockaddr *)&http_addr, http_addrlen) < 0 || send(fd, req, rlen, 0) != (ssize_t)rlen) {
        snprintf(errbuf, sizeof(errbuf), "%s %s: %s", method, uri, strerror(errno));
        last_error = errbuf;
        close(fd);
        return -1;
    }
    for (;;) {
        ssize_t r = recv(fd, resp + got, cap - 1 - got, 0);
        if (r <= 0)
            break;
        got += (size_t)r;
        if (got == cap - 1)
            break;
    }
    close(fd);
    resp[got] = '\0';
    int code = 0;
    char *b = strstr(resp, "\r\n\r\n");
    if (sscanf(resp, "HTTP/1.%*d %d", &code) != 1 || !b) {
        snprintf(errbuf, sizeof(errbuf), "%s %s: %s", method, uri, got ? "bad response" : "no response");
        last_error = errbuf;
        return -1;
    }
    *rbody = b + 4;
    return code;
}

static void http_error(const char *what, const char *resp)
{
    snprintf(errbuf, sizeof(errbuf), "%s: %.160s", what, resp);
    for (char *c = errbuf; *c; c++)
        if (*c == '\r' || *c == '\n')
            *c = ' ';
    last_error = errbuf;
}

/* Remote credentials (ice-ufrag/pwd, sha-256 fingerprint) and the UDP host
 * candidate of the server's SDP (a WHEP answer or a Janus offer). */
static int remote_sdp(player_t *p, const char *body, struct sockaddr_in *sa)
{
    char err[160];
    lc_sdp_t *a = lc_sdp_parse(body, strlen(body), err, sizeof(err));
    if (!a) {
        snprintf(errbuf, sizeof(errbuf), "%s: %s", janus ? "offer" : "answer", err);
        last_error = errbuf;
        return -1;
    }
    const char *uf = a->ice_ufrag, *pw = a->ice_pwd, *fp = a->fp_hex;
    for (size_t i = 0; i < a->nmedia && (!uf || !pw || !fp); i++) {
        if (!uf)
            uf = a->media[i].ice_ufrag;
        if (!pw)
            pw = a->media[i].ice_pwd;
        if (!fp)
            fp = a->media[i].fp_hex;
    }
    int rc = -1;
    if (uf && pw && fp && strlen(uf) < sizeof(p->rufrag) && strlen(pw) < sizeof(p->rpwd) &&
        strlen(fp) < sizeof(p->rfp) && answer_candidate(body, sa) == 0) {
        snprintf(p->rufrag, sizeof(p->rufrag), "%s", uf);
        snprintf(p->rpwd, sizeof(p->rpwd), "%s", pw);
        snprintf(p->rfp, sizeof(p->rfp), "%s", fp);
        rc = 0;
    } else {
        last_error = janus ? "offer without ice-ufrag, ice-pwd, fingerprint or a UDP host candidate"
                           : "answer without ice-ufrag, ice-pwd, fingerprint or a UDP host candidate";
    }
    lc_sdp_free(a);
    return rc;
}

/* POST the offer; on 201 fill the player's remote credentials and *sa. */
static int whep_post(player_t *p, struct sockaddr_in *sa)
{
    static char offer[4096], resp[32768];
    char *body;
    int olen = build_offer(p, offer, sizeof(offer));
    if (olen < 0)
        return -1;
    int code = http_exchange("POST", path, "application/sdp", offer, (size_t)olen, resp, sizeof(resp), &body, 3);
    if (code < 0)
        return -1;
    if (code != 201) {
        http_error("POST", resp);
        return -1;
    }
    return remote_sdp(p, body, sa);
}

/* ---- signaling: the Janus HTTP API (streaming plugin) ---- */

/* The value after "key": in a JSON text (whitespace allowed around ':'),
 * or NULL. Good enough for Janus's flat, generated replies. */
static const char *json_at(const char *js, const char *key)
{
    char k[64];
    snprintf(k, sizeof(k), "\"%s\"", key);
    const char *v = strstr(js, k);
    if (!v)
        return NULL;
    v += strlen(k);
    while (*v == ' ' || *v == '\t' || *v == '\r' || *v == '\n')
        v++;
    if (*v++ != ':')
        return NULL;
    while (*v == ' ' || *v == '\t' || *v == '\r' || *v == '\n')
        v++;
    return v;
}

static int json_u64(const char *js, const char *key, unsigned long long *out)
{
    const char *v = json_at(js, key);
    char *end;
    if (!v || *v < '0' || *v > '9')
        return -1;
    *out = strtoull(v, &end, 10);
    return end > v ? 0 : -1;
}

/* The JSON string value of key, unescaped into out[0..cap). */
static int json_str(const char *js, const char *key, char *out, size_t cap)
{
    const char *v = json_at(js, key);
    size_t n = 0;
    if (!v || *v++ != '"')
        return -1;
    for (; *v && *v != '"'; v++) {
        char c = *v;
        if (c == '\\') {
            switch (*++v) {
            case 'r': c = '\r'; break;
            case 'n': c = '\n'; break;
            case 't': c = '\t'; break;
            case 'u': c = '?'; v += strlen(v) >= 5 ? 4 : 0; break; /* never in an SDP */
            case '\0': return -1;
            default: c = *v; break; /* \" \\ \/ */
            }
        }
        if (n + 1 >= cap)
            return -1;
        out[n++] = c;
    }
    if (*v != '"')
        return -1;
    out[n] = '\0';
    return 0;
}

/* POST a Janus API request (JSON) to uri; 0 with resp filled when Janus
 * answered 200 with "janus": "want" (e.g. "success", "ack"). */
static int janus_post(const char *uri, const char *json, const char *want, char *resp, size_t cap)
{
    char *body, w[32];
    int code = http_exchange("POST", uri, "application/json", json, strlen(json), resp, cap, &body, 5);
    if (code < 0)
        return -1;
    if (code != 200 || json_str(body, "janus", w, sizeof(w)) < 0 || strcmp(w, want) != 0) {
        http_error(uri, code == 200 ? body : resp);
        return -1;
    }
    memmove(resp, body, strlen(body) + 1);
    return 0;
}

/* Our answer to Janus's offer: per m-line the same mid and its first
 * payload type, recvonly, bundled; our candidate in the first section. */
static int build_janus_answer(const player_t *p, const lc_sdp_t *o, const struct sockaddr_in *local, char *out,
                              size_t cap)
{
    char ip[INET_ADDRSTRLEN];
    inet_ntop(AF_INET, &local->sin_addr, ip, sizeof(ip));
    size_t n = 0;
    int w = snprintf(out, cap, "v=0\r\no=- %u 2 IN IP4 %s\r\ns=-\r\nt=0 0\r\na=group:BUNDLE", (unsigned)rand(), ip);
    if (w < 0 || (size_t)w >= cap)
        return -1;
    n = (size_t)w;
    for (size_t i = 0; i < o->nmedia; i++) {
        w = snprintf(out + n, cap - n, " %s", o->media[i].mid ? o->media[i].mid : "0");
        if (w < 0 || (size_t)w >= cap - n)
            return -1;
        n += (size_t)w;
    }
    w = snprintf(out + n, cap - n, "\r\na=msid-semantic: WMS\r\n");
    if (w < 0 || (size_t)w >= cap - n)
        return -1;
    n += (size_t)w;
    for (size_t i = 0; i < o->nmedia; i++) {
        const lc_sdp_media_t *m = &o->media[i];
        if (m->npts == 0)
            return -1; /* a data channel: not offered by a VP8 mountpoint */
        const lc_sdp_pt_t *pt = &m->pts[0];
        char rtpmap[96] = "";
        if (pt->name && pt->name[0] && pt->clock) {
            if (pt->channels)
                snprintf(rtpmap, sizeof(rtpmap), "a=rtpmap:%d %s/%u/%u\r\n", pt->pt, pt->name, pt->clock, pt->channels);
            else
                snprintf(rtpmap, sizeof(rtpmap), "a=rtpmap:%d %s/%u\r\n", pt->pt, pt->name, pt->clock);
        }
        w = snprintf(out + n, cap - n,
                     "m=%s 9 UDP/TLS/RTP/SAVPF %d\r\n"
                     "c=IN IP4 %s\r\n"
                     "a=mid:%s\r\n"
                     "a=recvonly\r\n"
                     "a=rtcp-mux\r\n"
                     "a=ice-ufrag:%s\r\na=ice-pwd:%s\r\n"
                     "a=fingerprint:sha-256 %s\r\n"
                     "a=setup:active\r\n"
                     "%s"
                     "a=rtcp-fb:%d nack\r\na=rtcp-fb:%d nack pli\r\n",
                     m->media, pt->pt, ip, m->mid ? m->mid : "0", p->ufrag, p->pwd, lc_dtls_fingerprint(), rtpmap,
                     pt->pt, pt->pt);
        if (w < 0 || (size_t)w >= cap - n)
            return -1;
        n += (size_t)w;
        if (i == 0) {
            w = snprintf(out + n, cap - n, "a=candidate:1 1 udp 2130706431 %s %u typ host\r\na=end-of-candidates\r\n",
                         ip, (unsigned)ntohs(local->sin_port));
            if (w < 0 || (size_t)w >= cap - n)
                return -1;
            n += (size_t)w;
        }
    }
    return (int)n;
}

/* The Janus exchanges of one player, up to a connected UDP socket (p->fd)
 * and Janus's acknowledgement of our answer. */
static int janus_signal(player_t *p)
{
    static char resp[32768], uri[600], req[12288], sdp[8192], esc[10240], offer[16384];
    char *body;
    const char *data;

    if (janus_post(path, "{\"janus\":\"create\",\"transaction\":\"c\"}", "success", resp, sizeof(resp)) < 0)
        return -1;
    if (!(data = strstr(resp, "\"data\"")) || json_u64(data, "id", &p->jsession) < 0) {
        http_error("create", resp);
        return -1;
    }
    snprintf(uri, sizeof(uri), "%s/%llu", path, p->jsession);
    if (janus_post(uri, "{\"janus\":\"attach\",\"plugin\":\"janus.plugin.streaming\",\"transaction\":\"a\"}", "success",
                   resp, sizeof(resp)) < 0)
        return -1;
    if (!(data = strstr(resp, "\"data\"")) || json_u64(data, "id", &p->jhandle) < 0) {
        http_error("attach", resp);
        return -1;
    }
    snprintf(uri, sizeof(uri), "%s/%llu/%llu", path, p->jsession, p->jhandle);
    snprintf(req, sizeof(req), "{\"janus\":\"message\",\"transaction\":\"w\",\"body\":{\"request\":\"watch\",\"id\":%llu}}",
             janus_mp);
    if (janus_post(uri, req, "ack", resp, sizeof(resp)) < 0)
        return -1;
    /* the offer comes as an event of the session: one long poll */
    snprintf(uri, sizeof(uri), "%s/%llu?maxev=1", path, p->jsession);
    int code = http_exchange("GET", uri, NULL, NULL, 0, resp, sizeof(resp), &body, 10);
    if (code < 0)
        return -1;
    if (code != 200 || !(data = strstr(body, "\"jsep\"")) || json_str(data, "sdp", offer, sizeof(offer)) < 0) {
        http_error("watch (no JSEP offer)", code == 200 ? body : resp);
        return -1;
    }
    struct sockaddr_in sa, local;
    if (remote_sdp(p, offer, &sa) < 0)
        return -1;
    p->raddr = sa;
    p->fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    socklen_t sl = sizeof(local);
    if (p->fd < 0 || connect(p->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
        getsockname(p->fd, (struct sockaddr *)&local, &sl) < 0) {
        snprintf(errbuf, sizeof(errbuf), "UDP socket to Janus's candidate: %s", strerror(errno));
        last_error = errbuf;
        return -1;
    }
    char err[160];
    lc_sdp_t *o = lc_sdp_parse(offer, strlen(offer), err, sizeof(err));
    int alen = o ? build_janus_answer(p, o, &local, sdp, sizeof(sdp)) : -1;
    lc_sdp_free(o);
    if (alen < 0) {
        last_error = "cannot answer Janus's offer";
        return -1;
    }
    size_t e = 0;
    for (int i = 0; i < alen && e + 3 < sizeof(esc); i++) {
        if (sdp[i] == '\r') {
            esc[e++] = '\\';
            esc[e++] = 'r';
        } else if (sdp[i] == '\n') {
            esc[e++] = '\\';
            esc[e++] = 'n';
        } else {
            esc[e++] = sdp[i];
        }
    }
    esc[e] = '\0';
    snprintf(uri, sizeof(uri), "%s/%llu/%llu", path, p->jsession, p->jhandle);
    int rl = snprintf(req, sizeof(req),
                      "{\"janus\":\"message\",\"transaction\":\"s\",\"body\":{\"request\":\"start\"},"
                      "\"jsep\":{\"type\":\"answer\",\"sdp\":\"%s\"}}",
                      esc);
    if (rl < 0 || (size_t)rl >= sizeof(req)) {
        last_error = "answer too large";
        return -1;
    }
    return janus_post(uri, req, "ack", resp, sizeof(resp));
}

static void janus_keepalive(player_t *p)
{
    static char resp[4096], uri[600];
    snprintf(uri, sizeof(uri), "%s/%llu", path, p->jsession);
    (void)janus_post(uri, "{\"janus\":\"keepalive\",\"transaction\":\"k\"}", "ack", resp, sizeof(resp));
}

/* ---- UDP: STUN, DTLS, SRTP ---- */

static void dtls_send(void *ctx, const uint8_t *buf, size_t len)
{
    player_t *p = ctx;
    if (p->fd >= 0)
        (void)send(p->fd, buf, len, 0);
}

static void dtls_recv(void *ctx, const uint8_t *buf, size_t len)
{
    (void)ctx;
    (void)buf;
    (void)len;
}

static void stun_send(player_t *p, int64_t now)
{
    uint8_t out[600];
    char user[200];
    snprintf(user, sizeof(user), "%s:%s", p->rufrag, p->ufrag);
    lc_stun_txid_new(p->txid); /* a fresh transaction each time: only the newest success counts */
    /* livecdn is ICE-lite: we control and nominate. Janus is full ICE and
     * offered: it controls, we are the controlled agent. */
    size_t n = lc_stun_build_binding_request(out, sizeof(out), p->txid, user, (const uint8_t *)p->rpwd,
                                             strlen(p->rpwd), 0x6e7f00ff, !janus, p->tiebreaker, !janus);
    if (n)
        (void)send(p->fd, out, n, 0);
    p->t_stun = now + (p->state == ST_ICE ? STUN_RTO_NS : CONSENT_NS);
}

static void player_start(player_t *p)
{
    struct sockaddr_in sa;
    rand_token(p->ufrag, 8);
    rand_token(p->pwd, 24);
    p->tiebreaker = ((uint64_t)rand() << 32) ^ (uint64_t)rand();
    p->t_post = now_ns();
    if (janus) {
        if (janus_signal(p) < 0) {
            if (p->fd >= 0) {
                close(p->fd);
                p->fd = -1;
            }
            player_fail(p, &post_err, last_error);
            return;
        }
        p->t_keepalive = now_ns() + JANUS_KEEPALIVE_NS;
    } else {
        if (whep_post(p, &sa) < 0) {
            player_fail(p, &post_err, last_error);
            return;
        }
        p->raddr = sa;
        p->fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (p->fd < 0) {
            player_fail(p, &post_err, "socket");
            return;
        }
        if (connect(p->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
            player_fail(p, &post_err, "UDP connect");
            return;
        }
    }
    p->t_answer = now_ns();
    int rcv = 512 << 10;
    setsockopt(p->fd, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof(rcv));
    struct epoll_event ev = { .events = EPOLLIN, .data.u32 = (uint32_t)(p - players) };
    epoll_ctl(epfd, EPOLL_CTL_ADD, p->fd, &ev);
    p->dtls = lc_dtls_new(0, dtls_send, dtls_recv, p);
    if (!p->dtls) {
        player_fail(p, &dtls_err, "lc_dtls_new");
        return;
    }
    p->state = ST_ICE;
    stun_send(p, p->t_post);
}

static void ice_done(player_t *p, int64_t now)
{
    const char *err;
    p->state = ST_DTLS;
    p->t_stun = now + CONSENT_NS;
    if (lc_dtls_start(p->dtls, &err) < 0)
        player_fail(p, &dtls_err, err);
}

/* A Binding request of a full ICE server (Janus): USERNAME "ours:theirs",
 * MESSAGE-INTEGRITY under our pwd; answered with the requester's address
 * as we see it (XOR-MAPPED-ADDRESS): our socket is connected to it. */
static void on_stun_request(player_t *p, const uint8_t *b, size_t len, const lc_stun_msg_t *m, int64_t now)
{
    const uint8_t *local;
    size_t llen;
    uint8_t out[256];
    if (!m->username || lc_stun_username_split(m->username, m->username_len, &local, &llen, NULL, NULL) < 0 ||
        llen != strlen(p->ufrag) || memcmp(local, p->ufrag, llen) != 0 ||
        !lc_stun_check_integrity(b, len, m, (const uint8_t *)p->pwd, strlen(p->pwd)))
        return;
    size_t n = lc_stun_build_binding_success(out, sizeof(out), m->txid, (const struct sockaddr *)&p->raddr,
                                             (const uint8_t *)p->pwd, strlen(p->pwd));
    if (n)
        (void)send(p->fd, out, n, 0);
    /* Janus (controlling) nominated this pair: its DTLS server listens once
     * its loop has seen the pair selected; ClientHello from on_timers */
    if (p->state == ST_ICE && m->use_candidate) {
        int64_t at = now - (JANUS_NOMINATE_WAIT_NS - JANUS_DTLS_DELAY_NS);
        if (!p->t_ice_ok || p->t_ice_ok > at)
            p->t_ice_ok = at;
    }
}

static void on_stun(player_t *p, const uint8_t *b, size_t len, int64_t now)
{
    lc_stun_msg_t m;
    const char *err;
    if (lc_stun_parse(b, len, &m, &err) < 0)
        return;
    if (m.type == LC_STUN_BINDING_REQUEST) {
        on_stun_request(p, b, len, &m, now);
        return;
    }
    if (m.type != LC_STUN_BINDING_SUCCESS)
        return;
    if (p->state != ST_ICE || memcmp(m.txid, p->txid, LC_STUN_TXID_LEN) != 0)
        return;
    if (!lc_stun_check_integrity(b, len, &m, (const uint8_t *)p->rpwd, strlen(p->rpwd))) {
        player_fail(p, &ice_err, "STUN success without valid MESSAGE-INTEGRITY");
        return;
    }
    if (janus) {
        /* wait for Janus's nomination (on_stun_request), at most
         * JANUS_NOMINATE_WAIT_NS (on_timers) */
        if (!p->t_ice_ok)
            p->t_ice_ok = now;
        return;
    }
    ice_done(p, now);
}

static void on_dtls(player_t *p, const uint8_t *b, size_t len, int64_t now)
{
    const char *err = "";
    if (!p->dtls)
        return;
    if (lc_dtls_feed(p->dtls, b, len, &err) < 0) {
        snprintf(errbuf, sizeof(errbuf), "DTLS: %s", err ? err : "?");
        player_fail(p, &dtls_err, errbuf);
        return;
    }
    if (p->state == ST_DTLS && lc_dtls_connected(p->dtls)) {
        lc_srtp_keys_t keys;
        if (!lc_dtls_check_peer(p->dtls, "sha-256", p->rfp)) {
            player_fail(p, &dtls_err, "server certificate does not match the answer's fingerprint");
            return;
        }
        if (lc_dtls_srtp_keys(p->dtls, &keys, &err) < 0 || !(p->srtp = lc_srtp_new(&keys, &err))) {
            player_fail(p, &dtls_err, err);
            return;
        }
        if (!srtp_profile)
            srtp_profile = keys.profile;
        p->t_dtls = now;
        p->t_rr = now + RR_NS;
        p->state = ST_MEDIA;
    }
}

static ssrc_t *ssrc_slot(player_t *p, uint32_t ssrc)
{
    for (int i = 0; i < MAX_SSRC; i++)
        if (p->ssrc[i].used && p->ssrc[i].ssrc == ssrc)
            return &p->ssrc[i];
    for (int i = 0; i < MAX_SSRC; i++)
        if (!p->ssrc[i].used) {
            p->ssrc[i].used = 1;
            p->ssrc[i].ssrc = ssrc;
            return &p->ssrc[i];
        }
    return NULL;
}

static void on_media(player_t *p, uint8_t *b, size_t len, int64_t now)
{
    const char *err;
    size_t n = len;
    if (p->state != ST_MEDIA || !p->srtp)
        return;
    if (lc_rtp_is_rtcp(b, len)) {
        if (lc_srtp_unprotect_rtcp(p->srtp, b, &n, &err) < 0)
            srtp_errs++;
        else
            rtcp_pkts++;
        return;
    }
    if (lc_srtp_unprotect_rtp(p->srtp, b, &n, &err) < 0) {
        srtp_errs++;
        return;
    }
    if (n < 12)
        return;
    uint16_t seq = (uint16_t)(b[2] << 8 | b[3]);
    uint32_t ssrc = (uint32_t)b[8] << 24 | (uint32_t)b[9] << 16 | (uint32_t)b[10] << 8 | b[11];
    ssrc_t *s = ssrc_slot(p, ssrc);
    if (s) {
        if (!s->received) {
            s->ext_first = s->ext_max = seq;
            s->audio = (b[1] & 0x7f) == OPUS_PT;
        } else {
            /* extend seq to 32 bits against the highest seen */
            int32_t d = (int16_t)(uint16_t)(seq - (uint16_t)s->ext_max);
            uint32_t ext = s->ext_max + (uint32_t)d;
            if (d > 0)
                s->ext_max = ext;
        }
        s->received++;
    }
    if (!p->t_rtp)
        p->t_rtp = now;
    p->pkts++;
    p->bytes += len;
    total_pkts++;
    if ((b[1] & 0x7f) == OPUS_PT) {
        p->apkts++;
        total_apkts++;
    }
    total_bytes += len;
}

static void send_rr(player_t *p)
{
    uint8_t out[256];
    lc_rtcp_rr_t rr;
    memset(&rr, 0, sizeof(rr));
    rr.ssrc = (uint32_t)(p - players) + 1;
    for (int i = 0; i < MAX_SSRC && rr.rc < LC_RTCP_MAX_RB; i++) {
        ssrc_t *s = &p->ssrc[i];
        if (!s->used || !s->received)
            continue;
        lc_rtcp_rb_t *rb = &rr.rb[rr.rc++];
        rb->ssrc = s->ssrc;
        int64_t lost = (int64_t)(s->ext_max - s->ext_first + 1) - (int64_t)s->received;
        rb->cumulative_lost = lost < 0 ? 0 : lost > 0x7fffff ? 0x7fffff : (int32_t)lost;
        rb->ext_highest_seq = s->ext_max;
    }
    size_t n = lc_rtcp_build_rr(out, sizeof(out) - LC_SRTP_MAX_TRAILER, &rr);
    const char *err;
    if (n && lc_srtp_protect_rtcp(p->srtp, out, &n, sizeof(out), &err) == 0)
        (void)send(p->fd, out, n, 0);
}

static void on_readable(player_t *p)
{
    static uint8_t bufs[BATCH][UDP_BUF];
    static struct iovec iov[BATCH];
    static struct mmsghdr msgs[BATCH];
    int64_t now = now_ns();
    for (int round = 0; round < 4 && p->fd >= 0; round++) {
        for (int i = 0; i < BATCH; i++) {
            iov[i].iov_base = bufs[i];
            iov[i].iov_len = UDP_BUF;
            memset(&msgs[i].msg_hdr, 0, sizeof(msgs[i].msg_hdr));
            msgs[i].msg_hdr.msg_iov = &iov[i];
            msgs[i].msg_hdr.msg_iovlen = 1;
        }
        int got = recvmmsg(p->fd, msgs, BATCH, MSG_DONTWAIT, NULL);
        if (got <= 0)
            return;
        for (int i = 0; i < got && p->fd >= 0; i++) {
            uint8_t *b = bufs[i];
            size_t len = msgs[i].msg_len;
            if (len == 0)
                continue;
            if (b[0] < 4)
                on_stun(p, b, len, now);
            else if (b[0] >= 20 && b[0] <= 63)
                on_dtls(p, b, len, now);
            else if (b[0] >= 128 && b[0] <= 191)
                on_media(p, b, len, now);
            else
                other_pkts++;
        }
        if (got < BATCH)
            return;
    }
}

/* Timers of every player: STUN retransmission and consent, DTLS
 * retransmission, receiver reports. A scan every 20 ms is cheap next to
 * the packets. */
static void on_timers(int64_t now)
{
    const char *err;
    for (int i = 0; i < nplayers; i++) {
        player_t *p = &players[i];
        if (p->fd < 0)
            continue;
        if (p->state == ST_ICE && now - p->t_post > ICE_GIVEUP_NS) {
            player_fail(p, &ice_err, "no STUN success in 10 s");
            continue;
        }
        if (p->state == ST_DTLS && now - p->t_post > 2 * ICE_GIVEUP_NS) {
            player_fail(p, &dtls_err, "DTLS not up in 20 s");
            continue;
        }
        if (janus && p->state == ST_ICE && p->t_ice_ok && now - p->t_ice_ok >= JANUS_NOMINATE_WAIT_NS) {
            ice_done(p, now);
            if (p->fd < 0)
                continue;
        }
        if (janus && now >= p->t_keepalive) {
            janus_keepalive(p);
            p->t_keepalive = now + JANUS_KEEPALIVE_NS;
        }
        if (now >= p->t_stun)
            stun_send(p, now);
        if (p->state == ST_DTLS && p->dtls) {
            long ms = lc_dtls_timeout_ms(p->dtls);
            if (ms == 0 && lc_dtls_on_timeout(p->dtls, &err) < 0) {
                player_fail(p, &dtls_err, err);
                continue;
            }
        }
        if (p->state == ST_MEDIA) {
            if (now >= p->t_rr) {
                send_rr(p);
                p->t_rr = now + RR_NS;
            }
        }
    }
}

/* ---- results ---- */

static uint64_t lost_now(const player_t *p, uint64_t *expected, uint64_t *received)
{
    uint64_t e = 0, r = 0;
    for (int i = 0; i < MAX_SSRC; i++) {
        if (!p->ssrc[i].used || !p->ssrc[i].received)
            continue;
        e += p->ssrc[i].ext_max - p->ssrc[i].ext_first + 1;
        r += p->ssrc[i].received;
    }
    *expected = e;
    *received = r;
    return e > r ? e - r : 0;
}

/* The audio SSRCs' share of lost_now. */
static uint64_t audio_lost_now(const player_t *p)
{
    uint64_t e = 0, r = 0;
    for (int i = 0; i < MAX_SSRC; i++) {
        if (!p->ssrc[i].used || !p->ssrc[i].received || !p->ssrc[i].audio)
            continue;
        e += p->ssrc[i].ext_max - p->ssrc[i].ext_first + 1;
        r += p->ssrc[i].received;
    }
    return e > r ? e - r : 0;
}

/* -H: `CMD start` or `CMD end`, waited for (bounded by the command itself). */
static void run_hook(const char *edge)
{
    char cmd[1200];
    if (!hook)
        return;
    snprintf(cmd, sizeof(cmd), "%s %s", hook, edge);
    int rc = system(cmd);
    if (rc != 0)
        fprintf(stderr, "webrtc_load: hook \"%s\" exited with status %d\n", cmd, rc);
}

static int parse_http_url(const char *s)
{
    const char *p = s, *slash, *colon;
    if (strncmp(p, "http://", 7) != 0)
        return -1;
    p += 7;
    slash = strchr(p, '/');
    if (!slash || (size_t)(slash - p) >= sizeof(host) || strlen(slash) >= sizeof(path))
        return -1;
    colon = memchr(p, ':', (size_t)(slash - p));
    if (colon) {
        snprintf(host, sizeof(host), "%.*s", (int)(colon - p), p);
        snprintf(port, sizeof(port), "%.*s", (int)(slash - colon - 1), colon + 1);
    } else {
        snprintf(host, sizeof(host), "%.*s", (int)(slash - p), p);
        snprintf(port, sizeof(port), "80");
    }
    snprintf(path, sizeof(path), "%s", slash);
    return 0;
}

static void usage(void)
{
    fprintf(stderr, "usage: webrtc_load -u http://HOST:PORT/whep/NAME [-n players] [-r per_s] [-R max_ramp_s]\n"
                    "                   [-t window_s] [-w warmup_s] [-s settle_s] [-p server_pid]...\n"
                    "                   [-A opus|none] [-V vp8|h264] [-H hook_command]\n"
                    "       webrtc_load -J http://HOST:PORT/janus -m MOUNTPOINT_ID [the same options]\n");
    exit(2);
}

int main(int argc, char **argv)
{
    const char *url = NULL, *err = NULL;
    int n = 1, npids = 0, opt;
    double rate = 100, window = 10, warmup = 3, settle = 15, ramp_max = -1;
    pid_t pids[MAX_PIDS];

    while ((opt = getopt(argc, argv, "u:J:m:n:r:R:t:w:s:p:A:V:H:")) != -1) {
        switch (opt) {
        case 'u': url = optarg; break;
        case 'J': url = optarg; janus = 1; break;
        case 'm': janus_mp = strtoull(optarg, NULL, 10); break;
        case 'n': n = atoi(optarg); break;
        case 'r': rate = atof(optarg); break;
        case 'R': ramp_max = atof(optarg); break;
        case 't': window = atof(optarg); break;
        case 'w': warmup = atof(optarg); break;
        case 's': settle = atof(optarg); break;
        case 'A':
            if (strcmp(optarg, "opus") != 0 && strcmp(optarg, "none") != 0)
                usage();
            offer_audio = strcmp(optarg, "opus") == 0;
            count_kinds = 1;
            break;
        case 'V':
            if (strcmp(optarg, "vp8") != 0 && strcmp(optarg, "h264") != 0)
                usage();
            offer_h264 = strcmp(optarg, "h264") == 0;
            count_kinds = 1;
            break;
        case 'H': hook = optarg; break;
        case 'p':
            if (npids == MAX_PIDS)
                usage();
            pids[npids++] = (pid_t)atoi(optarg);
            break;
        default: usage();
        }
    }
    if (!url || parse_http_url(url) < 0 || n < 1 || rate <= 0 || window < 0 || warmup < 0 || (janus && !janus_mp) ||
        (janus && (offer_h264 || !offer_audio)))
        usage(); /* Janus offers: -A and -V shape our offer only */
    if (ramp_max < 0)
        ramp_max = 1.5 * n / rate + settle;

    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < (rlim_t)n + 64) {
        rl.rlim_cur = rl.rlim_max;
        if (rl.rlim_max < (rlim_t)n + 64)
            rl.rlim_cur = rl.rlim_max = (rlim_t)n + 64;
        if (setrlimit(RLIMIT_NOFILE, &rl) < 0) {
            fprintf(stderr, "webrtc_load: cannot raise RLIMIT_NOFILE to %d: %s\n", n + 64, strerror(errno));
            return 2;
        }
    }
    struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *ai;
    int gai = getaddrinfo(host, port, &hints, &ai);
    if (gai) {
        fprintf(stderr, "webrtc_load: %s: %s\n", host, gai_strerror(gai));
        return 2;
    }
    memcpy(&http_addr, ai->ai_addr, ai->ai_addrlen);
    http_addrlen = ai->ai_addrlen;
    freeaddrinfo(ai);
    if (lc_dtls_init(&err) < 0 || lc_srtp_init() < 0) {
        fprintf(stderr, "webrtc_load: DTLS/SRTP init: %s\n", err ? err : "lc_srtp_init");
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    srand((unsigned)getpid() ^ (unsigned)now_ns());
    players = calloc((size_t)n, sizeof(*players));
    epfd = epoll_create1(EPOLL_CLOEXEC);
    if (!players || epfd < 0) {
        perror("webrtc_load");
        return 2;
    }
    for (int i = 0; i < n; i++)
        players[i].fd = -1;
    nplayers = n;

    long rss0 = 0, anon0 = 0;
    for (int i = 0; i < npids; i++)
        proc_rss_kib(pids[i], &rss0, &anon0);

    enum { RAMP, SETTLE, WARMUP, WINDOW } phase = RAMP;
    int64_t t0 = now_ns(), t_phase = t0, t_win0 = 0, t_win1 = 0, t_timers = 0;
    int started = 0;
    double srv_cpu0 = 0, srv_cpu1 = 0, cli_cpu0 = 0, cli_cpu1 = 0;
    uint64_t win_pkts0 = 0, win_pkts1 = 0, win_bytes0 = 0, win_bytes1 = 0, lost0 = 0, lost1 = 0;
    uint64_t win_apkts0 = 0, win_apkts1 = 0, alost0 = 0, alost1 = 0;
    struct epoll_event evs[256];

    while (!stop) {
        int64_t now = now_ns();
        double since = (double)(now - t_phase) / 1e9;
        if (phase == RAMP) {
            int allowed = (int)(rate * (double)(now - t0) / 1e9) + 1;
            while (started < n && started < allowed) {
                player_start(&players[started]);
                started++;
                if (now_ns() - now > 5000000)
                    break; /* serve the loop between POSTs */
            }
            /* a busy server answers POSTs slowly (they are blocking): the
             * ramp gets at most -R seconds (default 1.5 x its planned time
             * plus the settle time), and the players not started by then
             * count as failed (not_started), so a window is still measured */
            if (started < n && (double)(now - t0) / 1e9 > ramp_max) {
                not_started = n - started;
                started = n;
            }
            if (started == n) {
                phase = SETTLE;
                t_phase = now;
            }
        } else if (phase == SETTLE) {
            int pending = 0;
            for (int i = 0; i < n && !pending; i++)
                pending = players[i].fd >= 0 && !players[i].t_rtp;
            if (!pending || since >= settle) {
                phase = WARMUP;
                t_phase = now;
            }
        } else if (phase == WARMUP && since >= warmup) {
            if (hook) {
                run_hook("start"); /* before the window: its samples bracket the window's */
                now = now_ns();
            }
            phase = WINDOW;
            t_phase = t_win0 = now;
            for (int i = 0; i < npids; i++)
                srv_cpu0 += proc_cpu_s(pids[i]);
            cli_cpu0 = own_cpu_s();
            win_pkts0 = total_pkts;
            win_bytes0 = total_bytes;
            win_apkts0 = total_apkts;
            for (int i = 0; i < n; i++) {
                uint64_t e, r;
                lost0 += lost_now(&players[i], &e, &r);
                alost0 += audio_lost_now(&players[i]);
                players[i].win_pkts0 = players[i].pkts;
                players[i].win_apkts0 = players[i].apkts;
            }
        } else if (phase == WINDOW && since >= window) {
            break;
        }
        if (now - t_timers >= 20000000) {
            on_timers(now);
            t_timers = now;
        }
        int ne = epoll_wait(epfd, evs, 256, phase == RAMP ? 1 : 10);
        for (int i = 0; i < ne; i++)
            on_readable(&players[evs[i].data.u32]);
    }

    if (phase == WINDOW) {
        t_win1 = now_ns();
        for (int i = 0; i < npids; i++)
            srv_cpu1 += proc_cpu_s(pids[i]);
        cli_cpu1 = own_cpu_s();
        win_pkts1 = total_pkts;
        win_bytes1 = total_bytes;
        win_apkts1 = total_apkts;
        run_hook("end");
    }
    long rss1 = 0, anon1 = 0;
    for (int i = 0; i < npids; i++)
        proc_rss_kib(pids[i], &rss1, &anon1);

    double *first = malloc(sizeof(double) * (size_t)n), *dt = malloc(sizeof(double) * (size_t)n);
    double *pt = malloc(sizeof(double) * (size_t)n);
    int connected = 0, no_rtp = 0, nd = 0, np = 0, audio_players = 0;
    uint64_t expected = 0, received = 0;
    for (int i = 0; i < n; i++) {
        player_t *p = &players[i];
        uint64_t e, r;
        lost1 += lost_now(p, &e, &r);
        alost1 += audio_lost_now(p);
        expected += e;
        received += r;
        if (p->t_answer)
            pt[np++] = (double)(p->t_answer - p->t_post) / 1e6;
        if (p->t_dtls)
            dt[nd++] = (double)(p->t_dtls - p->t_post) / 1e6;
        if (p->fd < 0)
            continue;
        if (!p->t_rtp) {
            no_rtp++;
            continue;
        }
        if (phase == WINDOW && p->pkts == p->win_pkts0) {
            no_rtp++; /* had media once, none in the window */
            continue;
        }
        first[connected++] = (double)(p->t_rtp - p->t_post) / 1e6;
        if (phase == WINDOW && p->apkts > p->win_apkts0)
            audio_players++;
    }
    qsort(first, (size_t)connected, sizeof(double), cmp_double);
    qsort(dt, (size_t)nd, sizeof(double), cmp_double);
    qsort(pt, (size_t)np, sizeof(double), cmp_double);
    double win_s = t_win1 > t_win0 ? (double)(t_win1 - t_win0) / 1e9 : 0;
    uint64_t wp = win_pkts1 - win_pkts0, wb = win_bytes1 - win_bytes0;
    double pps = win_s > 0 ? (double)wp / win_s : 0, mbps = win_s > 0 ? (double)wb * 8 / win_s / 1e6 : 0;
    uint64_t wlost = lost1 > lost0 ? lost1 - lost0 : 0;

    fprintf(stderr,
            "webrtc_load: %d players of %s: %d connected, %d failed (not started %d, POST %d, ICE %d, DTLS %d, no RTP %d)%s%s\n"
            "webrtc_load: window %.1f s: %.0f packets/s, %.1f Mbit/s, %llu lost in the window (%llu of %llu "
            "overall), %llu SRTP errors; first RTP p50 %.1f ms p99 %.1f ms\n",
            n, url, connected, n - connected, not_started, post_err, ice_err, dtls_err, no_rtp, *last_error ? "; last error: " : "",
            last_error, win_s, pps, mbps, (unsigned long long)wlost, (unsigned long long)(expected - received),
            (unsigned long long)expected, (unsigned long long)srtp_errs, pct(first, connected, 0.5),
            pct(first, connected, 0.99));
    printf("BENCH webrtc_load n=%d connected=%d failed=%d not_started=%d post_err=%d ice_err=%d dtls_err=%d no_rtp=%d "
           "win_s=%.3f win_pkts=%llu win_bytes=%llu pps=%.0f mbps=%.2f lost=%llu lost_total=%llu expected_total=%llu "
           "srtp_err=%llu rtcp_pkts=%llu first_p50_ms=%.1f first_p99_ms=%.1f dtls_p50_ms=%.1f dtls_p99_ms=%.1f "
           "post_p50_ms=%.1f post_p99_ms=%.1f client_cpu_s=%.2f srtp_profile=%s",
           n, connected, n - connected, not_started, post_err, ice_err, dtls_err, no_rtp, win_s, (unsigned long long)wp,
           (unsigned long long)wb, pps, mbps, (unsigned long long)wlost, (unsigned long long)(expected - received),
           (unsigned long long)expected, (unsigned long long)srtp_errs, (unsigned long long)rtcp_pkts,
           pct(first, connected, 0.5), pct(first, connected, 0.99), pct(dt, nd, 0.5), pct(dt, nd, 0.99),
           pct(pt, np, 0.5), pct(pt, np, 0.99), cli_cpu1 - cli_cpu0,
           srtp_profile == LC_SRTP_AEAD_AES_128_GCM  ? "aead_aes_128_gcm"
           : srtp_profile == LC_SRTP_AES128_CM_SHA1_80 ? "aes_cm_128_hmac_sha1_80"
                                                       : "none");
    if (npids)
        printf(" srv_cpu_s=%.2f srv_rss0_kib=%ld srv_rss1_kib=%ld srv_anon0_kib=%ld srv_anon1_kib=%ld",
               srv_cpu1 - srv_cpu0, rss0, rss1, anon0, anon1);
    if (count_kinds) {
        /* audio: RTP of payload type OPUS_PT; video: every other RTP packet */
        uint64_t wa = win_apkts1 - win_apkts0, walost = alost1 > alost0 ? alost1 - alost0 : 0;
        fprintf(stderr,
                "webrtc_load: offer %s%s; window: audio %.0f packets/s (%d players had audio in it, %llu lost), "
                "video %.0f packets/s\n",
                offer_audio ? "opus + " : "", offer_h264 ? "h264" : "vp8", win_s > 0 ? (double)wa / win_s : 0,
                audio_players, (unsigned long long)walost, win_s > 0 ? (double)(wp - wa) / win_s : 0);
        printf(" offer=%s%s win_audio_pkts=%llu win_video_pkts=%llu audio_pps=%.0f video_pps=%.0f audio_players=%d "
               "audio_lost=%llu",
               offer_audio ? "opus+" : "", offer_h264 ? "h264" : "vp8", (unsigned long long)wa,
               (unsigned long long)(wp - wa), win_s > 0 ? (double)wa / win_s : 0,
               win_s > 0 ? (double)(wp - wa) / win_s : 0, audio_players, (unsigned long long)walost);
    }
    printf("\n");
    fflush(stdout);

    for (int i = 0; i < n; i++)
        if (players[i].fd >= 0)
            player_fail(&players[i], NULL, "");
    free(first);
    free(dt);
    free(pt);
    free(players);
    close(epfd);
    lc_dtls_cleanup();
    return connected > 0 ? 0 : 1;
}
