/*
 * cdn_hop.c: the latency one CDN hop adds. Two RTMP players of the same
 * stream, A (on the origin) and B (on an edge that pulls it from that
 * origin), in one poll loop: every video message each receives is stamped
 * with CLOCK_MONOTONIC when the recv() that completed it returned, and
 * keyed by a hash of its payload (the edge forwards the publisher's bytes
 * as they are, so the same frame has the same payload on both). For each
 * frame both players got, delay = arrival at B - arrival at A.
 *
 * The first -w seconds are not counted: each player starts with the GOP
 * the server caches (frames that are seconds old at A and B alike), and
 * only frames that arrived live at both measure the hop. The RTMP timestamp
 * of both copies is compared too: a CDN hop should keep it (ts_mismatch).
 *
 * Player: the simple handshake (C0 = 3, C1 with a zero version, C2 = S1),
 * connect, createStream, play; it answers PingRequest and acknowledges as
 * the server's Window Acknowledgement Size asks (like rtmp_load.c, whose
 * input path this copies in a two-player, poll(2) form).
 *
 * Output: a summary on stderr and one line on stdout,
 *   BENCH cdn_hop frames_a= frames_b= matched= p50_ms= p99_ms= min_ms= max_ms=
 *         mean_ms= ts_mismatch= win_s=
 * Exit status 0 when at least one frame matched, 1 otherwise.
 *
 * Usage: cdn_hop -a rtmp://ORIGIN/APP/NAME -b rtmp://EDGE/APP/NAME [-t window_s] [-w warmup_s]
 */
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "common/rtmp/amf0.h"
#include "common/rtmp/rtmp_chunk.h"
#include "common/rtmp/rtmp_handshake.h"

#include "bench_util.h"

#define HS (LC_RTMP_HANDSHAKE_SIZE)
#define MAX_MESSAGE (8u << 20)
#define OUR_CHUNK LC_RTMP_DEFAULT_CHUNK
#define CSID_CONTROL 2
#define CSID_COMMAND 3
#define CSID_PLAY 8
#define TXN_CONNECT 1
#define TXN_CREATE 2
#define TABLE 16384 /* frames in flight between the two players, open addressing */
#define MAX_SAMPLES 100000

enum { ST_HANDSHAKE, ST_CONNECT, ST_CREATE, ST_PLAY, ST_DONE };

typedef struct {
    const char *label;
    url_t u;
    int fd, state;
    lc_rtmp_chunk_reader_t *rd;
    uint8_t hs[1 + 2 * HS];
    uint32_t hs_got;
    uint64_t bytes, acked;
    uint32_t ack_window;
    long frames;
} player_t;

typedef struct {
    uint64_t key;      /* 0 = free */
    int64_t t[2];      /* arrival at A, at B (0 = not yet) */
    uint32_t ts[2];
} entry_t;

static entry_t table[TABLE];
static double samples[MAX_SAMPLES];
static int nsamples, ts_mismatch;
static int64_t t_count_from; /* frames that reached A before this are not counted */
static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
    (void)sig;
    stop = 1;
}

/* ---- output: small, so a blocking send is fine ---- */

static int send_all(player_t *p, const uint8_t *b, size_t len)
{
    while (len > 0) {
        ssize_t n = send(p->fd, b, len, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN) {
                struct pollfd pf = { .fd = p->fd, .events = POLLOUT };
                poll(&pf, 1, 100);
                continue;
            }
            return -1;
        }
        b += n;
        len -= (size_t)n;
    }
    return 0;
}

static int send_msg(player_t *p, uint32_t csid, uint8_t type, uint32_t msid, const uint8_t *payload, uint32_t len)
{
    size_t n = lc_rtmp_chunk_size_of(len, OUR_CHUNK, 0);
    uint8_t *buf = malloc(n);
    if (!buf)
        return -1;
    n = lc_rtmp_chunk_write(buf, csid, type, 0, msid, payload, len, OUR_CHUNK);
    int rc = send_all(p, buf, n);
    free(buf);
    return rc;
}

static int send_amf(player_t *p, uint32_t csid, uint32_t msid, lc_amf0_buf_t *b)
{
    int rc = b->failed ? -1 : send_msg(p, csid, LC_RTMP_COMMAND_AMF0, msid, b->data, (uint32_t)b->len);
    lc_amf0_buf_free(b);
    return rc;
}

static int send_connect(player_t *p)
{
    lc_amf0_buf_t b = { 0 };
    rtmp_connect_amf(&b, &p->u, TXN_CONNECT);
    p->state = ST_CONNECT;
    return send_amf(p, CSID_COMMAND, 0, &b);
}

static int send_create_stream(player_t *p)
{
    lc_amf0_buf_t b = { 0 };
    rtmp_create_stream_amf(&b, TXN_CREATE);
    p->state = ST_CREATE;
    return send_amf(p, CSID_COMMAND, 0, &b);
}

static int send_play(player_t *p, uint32_t msid)
{
    lc_amf0_buf_t b = { 0 };
    rtmp_play_amf(&b, &p->u);
    p->state = ST_PLAY;
    return send_amf(p, CSID_PLAY, msid, &b);
}

/* ---- matching ---- */

static uint64_t fnv1a(const uint8_t *p, size_t n)
{
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++) {
        h ^= p[i];
        h *= 1099511628211ull;
    }
    return h ? h : 1;
}

/* side 0 = A, 1 = B. Entries are never emptied (a probe chain stays
 * whole): one both sides completed, or more than 10 s old (a frame one
 * player never got), is stale and its slot is reused by a new frame. */
#define STALE_NS 10000000000ll
static int stale(const entry_t *e, int64_t t)
{
    return (e->t[0] && e->t[1]) || t - (e->t[0] ? e->t[0] : e->t[1]) >= STALE_NS;
}

static void arrived(int side, const uint8_t *payload, uint32_t len, uint32_t ts, int64_t t)
{
    uint64_t key = fnv1a(payload, len) ^ ((uint64_t)len << 40);
    key = key ? key : 1;
    uint32_t start = (uint32_t)(key % TABLE), i = start;
    entry_t *slot = NULL;
    for (int probe = 0; probe < TABLE; probe++, i = (i + 1) % TABLE) {
        entry_t *e = &table[i];
        if (e->key == 0) {
            if (!slot)
                slot = e;
            break;
        }
        if (e->key == key && !e->t[side] && !stale(e, t)) { /* the other player's copy */
            e->t[side] = t;
            e->ts[side] = ts;
            if (e->t[0] >= t_count_from && nsamples < MAX_SAMPLES) {
                samples[nsamples++] = (double)(e->t[1] - e->t[0]) / 1e6;
                if (e->ts[0] != e->ts[1])
                    ts_mismatch++;
            }
            return;
        }
        if (!slot && stale(e, t))
            slot = e;
    }
    if (slot) {
        memset(slot, 0, sizeof(*slot));
        slot->key = key;
        slot->t[side] = t;
        slot->ts[side] = ts;
    }
}

/* ---- input ---- */

static int on_command(player_t *p, const lc_rtmp_msg_t *m, int amf3)
{
    lc_amf0_t *v[8];
    const char *err;
    const uint8_t *q = m->payload + (amf3 && m->len > 0 ? 1 : 0);
    int n = lc_amf0_decode_all(q, m->len - (uint32_t)(q - m->payload), v, 8, &err);
    int rc = 0;

    if (n < 2 || !lc_amf0_str(v[0])) {
        if (n > 0)
            lc_amf0_free_all(v, n);
        fprintf(stderr, "cdn_hop: %s: bad AMF0 command\n", p->label);
        return -1;
    }
    const char *name = lc_amf0_str(v[0]);
    double txn = lc_amf0_num(v[1], -1);
    if (strcmp(name, "_result") == 0 && txn == TXN_CONNECT && p->state == ST_CONNECT) {
        rc = send_create_stream(p);
    } else if (strcmp(name, "_result") == 0 && txn == TXN_CREATE && p->state == ST_CREATE) {
        rc = send_play(p, (uint32_t)(n > 3 ? lc_amf0_num(v[3], 1) : 1));
    } else if (strcmp(name, "_error") == 0) {
        fprintf(stderr, "cdn_hop: %s: _error from the server\n", p->label);
        rc = -1;
    } else if (strcmp(name, "onStatus") == 0) {
        const lc_amf0_t *info = n > 3 ? v[3] : NULL;
        const char *level = lc_amf0_str(lc_amf0_get(info, "level"));
        const char *code = lc_amf0_str(lc_amf0_get(info, "code"));
        if ((level && strcmp(level, "error") == 0) ||
            (code && (strcmp(code, "NetStream.Play.Stop") == 0 || strcmp(code, "NetStream.Play.UnpublishNotify") == 0))) {
            fprintf(stderr, "cdn_hop: %s: onStatus %s\n", p->label, code ? code : "error");
            rc = -1;
        }
    }
    lc_amf0_free_all(v, n);
    return rc;
}

static int on_message(player_t *p, int side, const lc_rtmp_msg_t *m, int64_t t)
{
    switch (m->type) {
    case LC_RTMP_VIDEO:
        /* coded frames only: not the AVC sequence header (codec 7, packet type 0) */
        if (m->len >= 2 && !((m->payload[0] & 0x0f) == 7 && m->payload[1] == 0)) {
            p->frames++;
            arrived(side, m->payload, m->len, m->timestamp, t);
        }
        return 0;
    case LC_RTMP_WINDOW_ACK_SIZE:
        if (m->len >= 4)
            p->ack_window = (uint32_t)m->payload[0] << 24 | (uint32_t)m->payload[1] << 16 |
                            (uint32_t)m->payload[2] << 8 | m->payload[3];
        return 0;
    case LC_RTMP_USER_CONTROL:
        if (m->len >= 6 && m->payload[0] == 0 && m->payload[1] == 6) { /* PingRequest -> PingResponse */
            uint8_t b[6] = { 0, 7 };
            memcpy(b + 2, m->payload + 2, 4);
            return send_msg(p, CSID_CONTROL, LC_RTMP_USER_CONTROL, 0, b, 6);
        }
        return 0;
    case LC_RTMP_COMMAND_AMF0:
    case LC_RTMP_COMMAND_AMF3:
        return on_command(p, m, m->type == LC_RTMP_COMMAND_AMF3);
    }
    return 0;
}

static int feed(player_t *p, int side, const uint8_t *b, size_t len, int64_t t)
{
    while (len > 0) {
        lc_rtmp_msg_t m;
        int got;
        const char *err;
        long n = lc_rtmp_chunk_feed(p->rd, b, len, &m, &got, &err);
        if (n < 0) {
            fprintf(stderr, "cdn_hop: %s: %s\n", p->label, err);
            return -1;
        }
        b += n;
        len -= (size_t)n;
        if (got) {
            int rc = on_message(p, side, &m, t);
            free(m.payload);
            if (rc < 0)
                return -1;
        } else if (n == 0) {
            break;
        }
    }
    if (p->ack_window && p->bytes - p->acked >= p->ack_window) {
        uint8_t a[4] = { (uint8_t)(p->bytes >> 24), (uint8_t)(p->bytes >> 16), (uint8_t)(p->bytes >> 8),
                         (uint8_t)p->bytes };
        p->acked = p->bytes;
        return send_msg(p, CSID_CONTROL, LC_RTMP_ACK, 0, a, 4);
    }
    return 0;
}

static int on_input(player_t *p, int side, const uint8_t *b, size_t len, int64_t t)
{
    if (p->state != ST_HANDSHAKE)
        return feed(p, side, b, len, t);
    size_t take = len < sizeof(p->hs) - p->hs_got ? len : sizeof(p->hs) - p->hs_got;
    memcpy(p->hs + p->hs_got, b, take);
    p->hs_got += (uint32_t)take;
    if (p->hs_got < sizeof(p->hs))
        return 0;
    if (p->hs[0] != 3) {
        fprintf(stderr, "cdn_hop: %s: S0 is not version 3\n", p->label);
        return -1;
    }
    if (send_all(p, p->hs + 1, HS) < 0 || send_connect(p) < 0) /* C2 = S1 */
        return -1;
    return take < len ? feed(p, side, b + take, len - take, t) : 0;
}

static int player_open(player_t *p)
{
    struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *ai;
    int gai = getaddrinfo(p->u.host, p->u.port, &hints, &ai);
    if (gai) {
        fprintf(stderr, "cdn_hop: %s: %s\n", p->u.host, gai_strerror(gai));
        return -1;
    }
    p->fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int ok = p->fd >= 0 && connect(p->fd, ai->ai_addr, ai->ai_addrlen) == 0;
    freeaddrinfo(ai);
    if (!ok) {
        fprintf(stderr, "cdn_hop: %s: connect: %s\n", p->label, strerror(errno));
        return -1;
    }
    int one = 1;
    setsockopt(p->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    uint8_t c0c1[1 + HS];
    c0c1[0] = 3;
    memset(c0c1 + 1, 0, 8);
    for (int i = 9; i < 1 + HS; i++)
        c0c1[i] = (uint8_t)rand();
    p->rd = lc_rtmp_chunk_reader_new(MAX_MESSAGE);
    p->state = ST_HANDSHAKE;
    return p->rd && send_all(p, c0c1, sizeof(c0c1)) == 0 ? 0 : -1;
}

static void usage(void)
{
    fprintf(stderr, "usage: cdn_hop -a rtmp://ORIGIN/APP/NAME -b rtmp://EDGE/APP/NAME [-t window_s] [-w warmup_s]\n");
    exit(2);
}

int main(int argc, char **argv)
{
    player_t pl[2] = { { .label = "A", .fd = -1 }, { .label = "B", .fd = -1 } };
    const char *ua = NULL, *ub = NULL;
    double window = 10, warmup = 3;
    int opt;
    static uint8_t rbuf[256 << 10];

    while ((opt = getopt(argc, argv, "a:b:t:w:")) != -1) {
        switch (opt) {
        case 'a': ua = optarg; break;
        case 'b': ub = optarg; break;
        case 't': window = atof(optarg); break;
        case 'w': warmup = atof(optarg); break;
        default: usage();
        }
    }
    if (!ua || !ub || parse_url(ua, &pl[0].u) < 0 || parse_url(ub, &pl[1].u) < 0 || window <= 0 || warmup < 0)
        usage();
    signal(SIGPIPE, SIG_IGN);
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    srand((unsigned)getpid());

    for (int i = 0; i < 2; i++)
        if (player_open(&pl[i]) < 0)
            return 2;
    int64_t t0 = now_ns();
    t_count_from = t0 + (int64_t)(warmup * 1e9);
    int64_t t_end = t_count_from + (int64_t)(window * 1e9);
    int failed = 0;

    while (!stop && !failed) {
        int64_t now = now_ns();
        if (now >= t_end)
            break;
        struct pollfd pf[2] = { { .fd = pl[0].fd, .events = POLLIN }, { .fd = pl[1].fd, .events = POLLIN } };
        int ne = poll(pf, 2, 50);
        if (ne < 0 && errno != EINTR)
            break;
        for (int i = 0; i < 2 && ne > 0; i++) {
            if (!(pf[i].revents & (POLLIN | POLLERR | POLLHUP)))
                continue;
            ssize_t n = recv(pl[i].fd, rbuf, sizeof(rbuf), 0);
            int64_t t = now_ns();
            if (n < 0 && errno == EINTR)
                continue;
            if (n <= 0) {
                fprintf(stderr, "cdn_hop: %s: %s\n", pl[i].label, n == 0 ? "closed by the server" : strerror(errno));
                failed = 1;
                break;
            }
            pl[i].bytes += (uint64_t)n;
            if (on_input(&pl[i], i, rbuf, (size_t)n, t) < 0) {
                failed = 1;
                break;
            }
        }
    }
    double win_s = (double)(now_ns() - t_count_from) / 1e9;

    double sum = 0;
    for (int i = 0; i < nsamples; i++)
        sum += samples[i];
    qsort(samples, (size_t)nsamples, sizeof(double), cmp_double);
    double mean = nsamples ? sum / nsamples : -1;
    fprintf(stderr, "cdn_hop: A %s: %ld video frames, B %s: %ld; %d matched after %.0f s: B - A p50 %.1f ms p99 %.1f ms "
                    "(min %.1f, max %.1f), %d with another timestamp\n",
            ua, pl[0].frames, ub, pl[1].frames, nsamples, warmup, pct(samples, nsamples, 0.5),
            pct(samples, nsamples, 0.99), nsamples ? samples[0] : -1, nsamples ? samples[nsamples - 1] : -1, ts_mismatch);
    printf("BENCH cdn_hop frames_a=%ld frames_b=%ld matched=%d p50_ms=%.1f p99_ms=%.1f min_ms=%.1f max_ms=%.1f "
           "mean_ms=%.1f ts_mismatch=%d win_s=%.2f\n",
           pl[0].frames, pl[1].frames, nsamples, pct(samples, nsamples, 0.5), pct(samples, nsamples, 0.99),
           nsamples ? samples[0] : -1, nsamples ? samples[nsamples - 1] : -1, mean, ts_mismatch, win_s);
    fflush(stdout);
    for (int i = 0; i < 2; i++) {
        if (pl[i].fd >= 0)
            close(pl[i].fd);
        lc_rtmp_chunk_reader_free(pl[i].rd);
    }
    return nsamples > 0 ? 0 : 1;
}
