/*
 * rtmp_load.c: an RTMP player load client for fan-out benchmarks. One
 * process, one epoll loop, N players of rtmp://HOST:PORT/APP/NAME; each
 * reads and discards the media. One ffmpeg per player costs ~0.6% of a
 * core (TESTING.md), which would saturate this machine long before the
 * server; a player here costs a socket, a chunk reader and a few counters.
 *
 * Each player: simple handshake (C0 = 3, C1 with a zero version field,
 * S0S1S2 read, C2 = S1), connect, createStream (after connect's _result),
 * play (after createStream's _result, on the stream id it returned). Input
 * goes through the I/O-free chunk reader (src/common/rtmp), which applies
 * the server's Set Chunk Size; the client answers PingRequest and sends
 * Acknowledgements as the server's Window Acknowledgement Size asks, so it
 * is a well-behaved peer for nginx-rtmp and livecdn alike.
 *
 * Phases: connections open at a bounded rate (-r per second, so neither
 * accept queue nor SYN backlog is what is measured); when every player has
 * its first keyframe, failed, or -s seconds passed since the last opened,
 * -w seconds of warm-up; then the measurement window of -t seconds. At
 * the window's edges the client samples the server processes named with -p
 * (utime+stime from /proc/PID/stat, VmRSS from /proc/PID/status): sampling
 * here rather than in the calling script puts the CPU and byte counts on
 * exactly the same interval. The server's RSS is also sampled at start,
 * before the first player connects (the "0 players" baseline).
 *
 * What is recorded per player: bytes received, and from the moment play
 * was written, the time to the first video message carrying a coded frame
 * (not the AVC sequence header) and to the first video keyframe (the first
 * picture a decoder can show; with a GOP cache both are the same frame).
 *
 * Output: a summary on stderr and one line on stdout,
 *   BENCH rtmp_load n= connected= failed= connect_err= closed= no_video=
 *         bytes= win_s= win_bytes= win_mbps= behind= ff_p50_ms= ff_p99_ms=
 *         fv_p50_ms= fv_p99_ms= client_cpu_s= stuck_hs= stuck_cmd= stuck_play=
 *         [srv_cpu_s= srv_rss0_kib= srv_rss1_kib= srv_anon0_kib= srv_anon1_kib=]
 * connected: players that had their first keyframe and were still open at
 * the window's end; failed = n - connected. no_video = stuck_hs (in the
 * handshake) + stuck_cmd (connect/createStream unanswered) + stuck_play
 * (play sent, no keyframe yet): open players that never got a picture. behind: connected players that
 * got less than 90% of -b kbps in the window (0 without -b).
 * Exit status: 0 when at least one player was connected, 1 otherwise.
 *
 * Usage: rtmp_load -u rtmp://HOST[:PORT]/APP/NAME... [-n players] [-r per_s]
 *        [-t window_s] [-w warmup_s] [-s settle_s] [-b kbps] [-p pid]...
 * With several -u (e.g. the edges of a CDN), player i plays URL i mod count;
 * the counts and percentiles are over all players.
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "common/rtmp/amf0.h"
#include "common/rtmp/rtmp_chunk.h"
#include "common/rtmp/rtmp_handshake.h"

#include "bench_util.h"

#define HS (LC_RTMP_HANDSHAKE_SIZE)
#define MAX_MESSAGE (8u << 20)
#define READ_BUF (256u << 10)
#define READS_PER_EVENT 4         /* then let other players have the loop (level-triggered) */
#define OUR_CHUNK LC_RTMP_DEFAULT_CHUNK
#define CSID_CONTROL 2
#define CSID_COMMAND 3
#define CSID_PLAY 8               /* where ffmpeg sends play */
#define MAX_PIDS 64               /* every process of a few servers (bench/cdn_bench.sh) */
#define MAX_URLS 16
#define TXN_CONNECT 1
#define TXN_CREATE 2

enum { ST_IDLE, ST_CONNECTING, ST_HANDSHAKE, ST_CONNECT, ST_CREATE, ST_PLAY, ST_CLOSED, ST_FAILED };

typedef struct {
    int fd;
    int state;
    lc_rtmp_chunk_reader_t *rd;
    uint8_t *hs;                   /* S0S1S2 while the handshake runs */
    uint32_t hs_got;
    uint8_t *out;                  /* bytes the socket did not take yet */
    size_t out_len, out_cap;
    uint64_t bytes, acked, win_start_bytes;
    uint32_t ack_window;
    int url;                       /* index in urls[] */
    int64_t t_play, t_video, t_key; /* ns, CLOCK_MONOTONIC; 0 = not yet */
} conn_t;

static conn_t *conns;
static url_t urls[MAX_URLS];
static struct addrinfo *addrs[MAX_URLS];
static int nurls;
static int nconns;
static int epfd;
static uint64_t total_bytes;
static uint8_t rbuf[READ_BUF];
static int connect_err, closed_early;
static const char *last_error = "";
static char errbuf[160];
static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
    (void)sig;
    stop = 1;
}

/* ---- URL ---- */

/* ---- /proc sampling of the server ---- */

/* ---- connection lifetime ---- */

/* why, with errno's text appended (for syscall failures) */
static const char *why_errno(const char *why)
{
    snprintf(errbuf, sizeof(errbuf), "%s: %s", why, strerror(errno));
    return errbuf;
}

static void conn_end(conn_t *c, int state, const char *why)
{
    if (c->fd >= 0) {
        epoll_ctl(epfd, EPOLL_CTL_DEL, c->fd, NULL);
        close(c->fd);
        c->fd = -1;
    }
    lc_rtmp_chunk_reader_free(c->rd);
    c->rd = NULL;
    free(c->hs);
    c->hs = NULL;
    free(c->out);
    c->out = NULL;
    c->out_len = c->out_cap = 0;
    if (state == ST_FAILED && c->state == ST_CONNECTING)
        connect_err++;
    else if (c->state != ST_CLOSED && c->state != ST_FAILED)
        closed_early++;
    c->state = state;
    last_error = why;
}

static void want_write(conn_t *c, int on)
{
    struct epoll_event ev = { .events = EPOLLIN | (on ? EPOLLOUT : 0), .data.u32 = (uint32_t)(c - conns) };
    epoll_ctl(epfd, EPOLL_CTL_MOD, c->fd, &ev);
}

static int flush_out(conn_t *c)
{
    size_t off = 0;
    while (off < c->out_len) {
        ssize_t n = send(c->fd, c->out + off, c->out_len - off, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN)
                break;
            return -1;
        }
        off += (size_t)n;
    }
    memmove(c->out, c->out + off, c->out_len - off);
    c->out_len -= off;
    want_write(c, c->out_len > 0);
    return 0;
}

static int queue_out(conn_t *c, const uint8_t *p, size_t len)
{
    if (c->out_len + len > c->out_cap) {
        size_t cap = c->out_cap ? c->out_cap : 4096;
        while (cap < c->out_len + len)
            cap *= 2;
        uint8_t *n = realloc(c->out, cap);
        if (!n)
            return -1;
        c->out = n;
        c->out_cap = cap;
    }
    memcpy(c->out + c->out_len, p, len);
    c->out_len += len;
    return flush_out(c);
}

static int send_msg(conn_t *c, uint32_t csid, uint8_t type, uint32_t msid, const uint8_t *payload, uint32_t len)
{
    size_t n = lc_rtmp_chunk_size_of(len, OUR_CHUNK, 0);
    uint8_t *buf = malloc(n);
    if (!buf)
        return -1;
    n = lc_rtmp_chunk_write(buf, csid, type, 0, msid, payload, len, OUR_CHUNK);
    int rc = queue_out(c, buf, n);
    free(buf);
    return rc;
}

static int send_amf(conn_t *c, uint32_t csid, uint32_t msid, lc_amf0_buf_t *b)
{
    int rc = b->failed ? -1 : send_msg(c, csid, LC_RTMP_COMMAND_AMF0, msid, b->data, (uint32_t)b->len);
    lc_amf0_buf_free(b);
    return rc;
}

static void put_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

/* ---- the player's commands ---- */

static int send_connect(conn_t *c, const url_t *u)
{
    lc_amf0_buf_t b = { 0 };
    rtmp_connect_amf(&b, u, TXN_CONNECT);
    c->state = ST_CONNECT;
    return send_amf(c, CSID_COMMAND, 0, &b);
}

static int send_create_stream(conn_t *c)
{
    lc_amf0_buf_t b = { 0 };
    rtmp_create_stream_amf(&b, TXN_CREATE);
    c->state = ST_CREATE;
    return send_amf(c, CSID_COMMAND, 0, &b);
}

static int send_play(conn_t *c, const url_t *u, uint32_t msid)
{
    lc_amf0_buf_t b = { 0 };
    rtmp_play_amf(&b, u);
    c->state = ST_PLAY;
    c->t_play = now_ns();
    return send_amf(c, CSID_PLAY, msid, &b);
}

/* ---- input ---- */

/* An onStatus/_result/_error. Returns -1 when the player is done. */
static int on_command(conn_t *c, const url_t *u, const lc_rtmp_msg_t *m, int amf3)
{
    lc_amf0_t *v[8];
    const char *err;
    const uint8_t *p = m->payload + (amf3 && m->len > 0 ? 1 : 0);
    int n = lc_amf0_decode_all(p, m->len - (uint32_t)(p - m->payload), v, 8, &err);
    int rc = 0;

    if (n < 2 || !lc_amf0_str(v[0])) {
        if (n > 0)
            lc_amf0_free_all(v, n);
        conn_end(c, ST_FAILED, "bad AMF0 command from the server");
        return -1;
    }
    const char *name = lc_amf0_str(v[0]);
    double txn = lc_amf0_num(v[1], -1);
    if (strcmp(name, "_result") == 0 && txn == TXN_CONNECT && c->state == ST_CONNECT) {
        if (send_create_stream(c) < 0)
            rc = -1;
    } else if (strcmp(name, "_result") == 0 && txn == TXN_CREATE && c->state == ST_CREATE) {
        double id = n > 3 ? lc_amf0_num(v[3], 1) : 1;
        if (send_play(c, u, (uint32_t)id) < 0)
            rc = -1;
    } else if (strcmp(name, "_error") == 0) {
        conn_end(c, ST_FAILED, "_error from the server");
        rc = -1;
    } else if (strcmp(name, "onStatus") == 0) {
        const lc_amf0_t *info = n > 3 ? v[3] : NULL;
        const char *level = lc_amf0_str(lc_amf0_get(info, "level"));
        const char *code = lc_amf0_str(lc_amf0_get(info, "code"));
        if (level && strcmp(level, "error") == 0) {
            conn_end(c, ST_FAILED, "onStatus error from the server (play refused)");
            rc = -1;
        } else if (code && (strcmp(code, "NetStream.Play.Stop") == 0 ||
                            strcmp(code, "NetStream.Play.UnpublishNotify") == 0)) {
            conn_end(c, ST_CLOSED, "the server ended the stream");
            rc = -1;
        }
    }
    lc_amf0_free_all(v, n);
    if (rc < 0 && c->fd >= 0)
        conn_end(c, ST_FAILED, "could not send a command");
    return rc;
}

static int on_message(conn_t *c, const url_t *u, const lc_rtmp_msg_t *m)
{
    switch (m->type) {
    case LC_RTMP_VIDEO:
        if (m->len >= 2 && c->t_play) {
            int codec = m->payload[0] & 0x0f, key = (m->payload[0] >> 4) == 1;
            int seq_header = codec == 7 && m->payload[1] == 0;
            if (!seq_header) {
                int64_t t = now_ns();
                if (!c->t_video)
                    c->t_video = t;
                if (key && !c->t_key)
                    c->t_key = t;
            }
        }
        return 0;
    case LC_RTMP_WINDOW_ACK_SIZE:
        if (m->len >= 4)
            c->ack_window = (uint32_t)m->payload[0] << 24 | (uint32_t)m->payload[1] << 16 |
                            (uint32_t)m->payload[2] << 8 | m->payload[3];
        return 0;
    case LC_RTMP_USER_CONTROL:
        if (m->len >= 6 && m->payload[0] == 0 && m->payload[1] == 6) { /* PingRequest -> PingResponse */
            uint8_t b[6] = { 0, 7 };
            memcpy(b + 2, m->payload + 2, 4);
            if (send_msg(c, CSID_CONTROL, LC_RTMP_USER_CONTROL, 0, b, 6) < 0) {
                conn_end(c, ST_FAILED, "send failed");
                return -1;
            }
        }
        return 0;
    case LC_RTMP_COMMAND_AMF0:
    case LC_RTMP_COMMAND_AMF3:
        return on_command(c, u, m, m->type == LC_RTMP_COMMAND_AMF3);
    }
    return 0; /* audio, data, set chunk size (applied by the reader): discarded */
}

static int feed(conn_t *c, const url_t *u, const uint8_t *p, size_t len)
{
    while (len > 0) {
        lc_rtmp_msg_t m;
        int got;
        const char *err;
        long n = lc_rtmp_chunk_feed(c->rd, p, len, &m, &got, &err);
        if (n < 0) {
            conn_end(c, ST_FAILED, err);
            return -1;
        }
        p += n;
        len -= (size_t)n;
        if (got) {
            int rc = on_message(c, u, &m);
            free(m.payload);
            if (rc < 0)
                return -1;
        } else if (n == 0) {
            break; /* the reader consumed all it was given (rtmp_chunk.c invariant) */
        }
    }
    if (c->ack_window && c->bytes - c->acked >= c->ack_window) {
        uint8_t b[4];
        c->acked = c->bytes;
        put_be32(b, (uint32_t)c->bytes);
        if (send_msg(c, CSID_CONTROL, LC_RTMP_ACK, 0, b, 4) < 0) {
            conn_end(c, ST_FAILED, "send failed");
            return -1;
        }
    }
    return 0;
}

static int handshake_in(conn_t *c, const url_t *u, const uint8_t *p, size_t len)
{
    size_t take = len < 1 + 2u * HS - c->hs_got ? len : 1 + 2u * HS - c->hs_got;
    memcpy(c->hs + c->hs_got, p, take);
    c->hs_got += (uint32_t)take;
    if (c->hs_got < 1 + 2u * HS)
        return 0;
    if (c->hs[0] != 3) {
        conn_end(c, ST_FAILED, "S0 is not version 3");
        return -1;
    }
    int rc = queue_out(c, c->hs + 1, HS); /* C2 = S1 */
    free(c->hs);
    c->hs = NULL;
    if (rc < 0 || send_connect(c, u) < 0) {
        conn_end(c, ST_FAILED, "send failed");
        return -1;
    }
    return take < len ? feed(c, u, p + take, len - take) : 0;
}

static void on_readable(conn_t *c, const url_t *u)
{
    for (int i = 0; i < READS_PER_EVENT && c->fd >= 0; i++) {
        ssize_t n = recv(c->fd, rbuf, sizeof(rbuf), 0);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno != EAGAIN)
                conn_end(c, ST_FAILED, why_errno("recv"));
            return;
        }
        if (n == 0) {
            conn_end(c, ST_CLOSED, "closed by the server");
            return;
        }
        c->bytes += (uint64_t)n;
        total_bytes += (uint64_t)n;
        if (c->state == ST_HANDSHAKE ? handshake_in(c, u, rbuf, (size_t)n) < 0 : feed(c, u, rbuf, (size_t)n) < 0)
            return;
        if ((size_t)n < sizeof(rbuf))
            return;
    }
}

static void on_connected(conn_t *c)
{
    int err = 0;
    socklen_t len = sizeof(err);
    if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0 || err) {
        errno = err;
        conn_end(c, ST_FAILED, why_errno("connect"));
        return;
    }
    uint8_t c0c1[1 + HS];
    c0c1[0] = 3;
    memset(c0c1 + 1, 0, 8); /* time 0, version 0: the simple handshake */
    for (int i = 9; i < 1 + HS; i++)
        c0c1[i] = (uint8_t)rand();
    c->hs = malloc(1 + 2 * HS);
    c->rd = lc_rtmp_chunk_reader_new(MAX_MESSAGE);
    c->state = ST_HANDSHAKE;
    if (!c->hs || !c->rd || queue_out(c, c0c1, sizeof(c0c1)) < 0)
        conn_end(c, ST_FAILED, "out of memory or send failed");
}

static void conn_open(conn_t *c, const struct addrinfo *ai)
{
    c->fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    c->state = ST_CONNECTING;
    if (c->fd < 0) {
        last_error = why_errno("socket");
        c->state = ST_FAILED;
        connect_err++;
        return;
    }
    int one = 1;
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    if (connect(c->fd, ai->ai_addr, ai->ai_addrlen) < 0 && errno != EINPROGRESS) {
        last_error = why_errno("connect");
        close(c->fd);
        c->fd = -1;
        c->state = ST_FAILED;
        connect_err++;
        return;
    }
    struct epoll_event ev = { .events = EPOLLIN | EPOLLOUT, .data.u32 = (uint32_t)(c - conns) };
    epoll_ctl(epfd, EPOLL_CTL_ADD, c->fd, &ev);
}

static void on_event(conn_t *c, uint32_t events, const url_t *u)
{
    if (c->fd < 0)
        return;
    if (c->state == ST_CONNECTING) {
        if (events & (EPOLLOUT | EPOLLERR | EPOLLHUP))
            on_connected(c);
        return;
    }
    if ((events & EPOLLOUT) && flush_out(c) < 0) {
        conn_end(c, ST_FAILED, "send failed");
        return;
    }
    if (events & (EPOLLIN | EPOLLERR | EPOLLHUP))
        on_readable(c, u);
}

/* ---- results ---- */

static void usage(void)
{
    fprintf(stderr, "usage: rtmp_load -u rtmp://HOST[:PORT]/APP/NAME... [-n players] [-r per_s] [-t window_s]\n"
                    "                 [-w warmup_s] [-s settle_s] [-b kbps] [-p server_pid]...\n");
    exit(2);
}

int main(int argc, char **argv)
{
    const char *url_s[MAX_URLS];
    int n = 1, npids = 0, opt;
    double rate = 500, window = 10, warmup = 3, settle = 15, kbps = 0;
    pid_t pids[MAX_PIDS];

    while ((opt = getopt(argc, argv, "u:n:r:t:w:s:b:p:")) != -1) {
        switch (opt) {
        case 'u':
            if (nurls == MAX_URLS)
                usage();
            url_s[nurls++] = optarg;
            break;
        case 'n': n = atoi(optarg); break;
        case 'r': rate = atof(optarg); break;
        case 't': window = atof(optarg); break;
        case 'w': warmup = atof(optarg); break;
        case 's': settle = atof(optarg); break;
        case 'b': kbps = atof(optarg); break;
        case 'p':
            if (npids == MAX_PIDS)
                usage();
            pids[npids++] = (pid_t)atoi(optarg);
            break;
        default: usage();
        }
    }
    if (nurls == 0 || n < 1 || rate <= 0 || window < 0 || warmup < 0)
        usage();
    for (int i = 0; i < nurls; i++)
        if (parse_url(url_s[i], &urls[i]) < 0)
            usage();

    /* two descriptors of headroom per player, whatever the soft limit was */
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < (rlim_t)n + 64) {
        rl.rlim_cur = rl.rlim_max;
        if (rl.rlim_max < (rlim_t)n + 64) {
            rl.rlim_cur = rl.rlim_max = (rlim_t)n + 64;
        }
        if (setrlimit(RLIMIT_NOFILE, &rl) < 0) {
            fprintf(stderr, "rtmp_load: cannot raise RLIMIT_NOFILE to %d: %s\n", n + 64, strerror(errno));
            return 2;
        }
    }
    struct addrinfo hints = { .ai_socktype = SOCK_STREAM };
    for (int i = 0; i < nurls; i++) {
        int gai = getaddrinfo(urls[i].host, urls[i].port, &hints, &addrs[i]);
        if (gai) {
            fprintf(stderr, "rtmp_load: %s: %s\n", urls[i].host, gai_strerror(gai));
            return 2;
        }
    }
    signal(SIGPIPE, SIG_IGN);
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    srand((unsigned)getpid());
    conns = calloc((size_t)n, sizeof(*conns));
    epfd = epoll_create1(EPOLL_CLOEXEC);
    if (!conns || epfd < 0) {
        perror("rtmp_load");
        return 2;
    }
    for (int i = 0; i < n; i++) {
        conns[i].fd = -1;
        conns[i].url = i % nurls;
    }
    nconns = n;

    long rss0 = 0, anon0 = 0;
    for (int i = 0; i < npids; i++)
        proc_rss_kib(pids[i], &rss0, &anon0);

    enum { RAMP, SETTLE, WARMUP, WINDOW } phase = RAMP;
    int64_t t0 = now_ns(), t_phase = t0, t_win0 = 0, t_win1 = 0;
    int started = 0;
    double srv_cpu0 = 0, srv_cpu1 = 0, cli_cpu0 = 0, cli_cpu1 = 0;
    uint64_t win_bytes0 = 0, win_bytes1 = 0;
    struct epoll_event evs[256];

    while (!stop) {
        int64_t now = now_ns();
        double since = (double)(now - t_phase) / 1e9;
        if (phase == RAMP) {
            int allowed = (int)(rate * (double)(now - t0) / 1e9) + 1;
            while (started < n && started < allowed) {
                conn_open(&conns[started], addrs[conns[started].url]);
                started++;
            }
            if (started == n) {
                phase = SETTLE;
                t_phase = now;
            }
        } else if (phase == SETTLE) {
            int pending = 0;
            for (int i = 0; i < n && !pending; i++)
                pending = conns[i].fd >= 0 && !conns[i].t_key;
            if (!pending || since >= settle) {
                phase = WARMUP;
                t_phase = now;
            }
        } else if (phase == WARMUP && since >= warmup) {
            phase = WINDOW;
            t_phase = t_win0 = now;
            for (int i = 0; i < npids; i++)
                srv_cpu0 += proc_cpu_s(pids[i]);
            cli_cpu0 = own_cpu_s();
            win_bytes0 = total_bytes;
            for (int i = 0; i < n; i++)
                conns[i].win_start_bytes = conns[i].bytes;
        } else if (phase == WINDOW && since >= window) {
            break;
        }
        int timeout_ms = phase == RAMP ? 1 : 10;
        int ne = epoll_wait(epfd, evs, 256, timeout_ms);
        for (int i = 0; i < ne; i++)
            on_event(&conns[evs[i].data.u32], evs[i].events, &urls[conns[evs[i].data.u32].url]);
    }

    if (phase == WINDOW) { /* the window's end, or a signal inside it (a player kept until killed) */
        t_win1 = now_ns();
        for (int i = 0; i < npids; i++)
            srv_cpu1 += proc_cpu_s(pids[i]);
        cli_cpu1 = own_cpu_s();
        win_bytes1 = total_bytes;
    }
    long rss1 = 0, anon1 = 0;
    for (int i = 0; i < npids; i++)
        proc_rss_kib(pids[i], &rss1, &anon1);

    /* results: only players that had a picture and were open to the end count as connected */
    double *ff = malloc(sizeof(double) * (size_t)n), *fv = malloc(sizeof(double) * (size_t)n);
    int connected = 0, no_video = 0, behind = 0, stuck[ST_FAILED + 1] = { 0 };
    double win_s = t_win1 > t_win0 ? (double)(t_win1 - t_win0) / 1e9 : 0;
    for (int i = 0; i < n; i++) {
        conn_t *c = &conns[i];
        if (c->fd < 0)
            continue;
        if (!c->t_key) {
            no_video++;
            stuck[c->state]++;
            continue;
        }
        ff[connected] = (double)(c->t_key - c->t_play) / 1e6;
        fv[connected] = (double)(c->t_video - c->t_play) / 1e6;
        connected++;
        if (kbps > 0 && win_s > 0 && (double)(c->bytes - c->win_start_bytes) * 8 / win_s < 0.9 * kbps * 1000)
            behind++;
    }
    qsort(ff, (size_t)connected, sizeof(double), cmp_double);
    qsort(fv, (size_t)connected, sizeof(double), cmp_double);
    uint64_t wb = win_bytes1 - win_bytes0;
    double mbps = win_s > 0 ? (double)wb * 8 / win_s / 1e6 : 0;

    fprintf(stderr,
            "rtmp_load: %d players of %s%s: %d connected, %d failed (connect %d, closed %d, no video %d: "
            "%d in handshake, %d in connect/createStream, %d played without a keyframe)%s%s\n"
            "rtmp_load: window %.1f s: %.1f Mbit/s, %d behind; first keyframe p50 %.1f ms p99 %.1f ms\n",
            n, url_s[0], nurls > 1 ? " and the other URLs" : "", connected, n - connected, connect_err, closed_early, no_video, stuck[ST_CONNECTING] + stuck[ST_HANDSHAKE],
            stuck[ST_CONNECT] + stuck[ST_CREATE], stuck[ST_PLAY], *last_error ? "; last error: " : "",
            last_error, win_s, mbps, behind, pct(ff, connected, 0.5), pct(ff, connected, 0.99));
    printf("BENCH rtmp_load n=%d connected=%d failed=%d connect_err=%d closed=%d no_video=%d bytes=%llu "
           "win_s=%.3f win_bytes=%llu win_mbps=%.2f behind=%d ff_p50_ms=%.1f ff_p99_ms=%.1f fv_p50_ms=%.1f "
           "fv_p99_ms=%.1f client_cpu_s=%.2f stuck_hs=%d stuck_cmd=%d stuck_play=%d",
           n, connected, n - connected, connect_err, closed_early, no_video, (unsigned long long)total_bytes, win_s,
           (unsigned long long)wb, mbps, behind, pct(ff, connected, 0.5), pct(ff, connected, 0.99),
           pct(fv, connected, 0.5), pct(fv, connected, 0.99), cli_cpu1 - cli_cpu0,
           stuck[ST_CONNECTING] + stuck[ST_HANDSHAKE], stuck[ST_CONNECT] + stuck[ST_CREATE], stuck[ST_PLAY]);
    if (npids)
        printf(" srv_cpu_s=%.2f srv_rss0_kib=%ld srv_rss1_kib=%ld srv_anon0_kib=%ld srv_anon1_kib=%ld",
               srv_cpu1 - srv_cpu0, rss0, rss1, anon0, anon1);
    printf("\n");
    fflush(stdout);

    for (int i = 0; i < n; i++)
        if (conns[i].fd >= 0)
            conn_end(&conns[i], ST_CLOSED, "");
    free(ff);
    free(fv);
    free(conns);
    for (int i = 0; i < nurls; i++)
        freeaddrinfo(addrs[i]);
    close(epfd);
    return connected > 0 ? 0 : 1;
}
