/*
 * rtc_udp.c: see rtc_udp.h. Two small tables: ufrag -> session (consulted
 * only for STUN from an address not yet bound) and address -> session
 * (every packet), chained hashes sized for thousands of players.
 *
 * One socket per candidate address, all on the same port: a reply leaves
 * from the socket its request came in on, so its source is the address the
 * peer sent to (an ICE pair is the two addresses, RFC 8445 7.2.5.2.1). The
 * address table remembers which socket a peer's nominated pair uses.
 */
#include "worker/webrtc/rtc_udp.h"

#include <arpa/inet.h>
#include <errno.h>
#include <event2/event.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "common/core/log.h"
#include "common/core/net.h"
#include "common/webrtc/stun.h"

#define BUCKETS 4096
#define MAX_DATAGRAM 2048
#define UFRAG_MAX 64

typedef struct addr_entry {
    struct sockaddr_storage addr;
    socklen_t len;
    int sock;                      /* index in socks[]: where this peer's pair is */
    lc_rtc_session_t *s;
    struct addr_entry *next;
} addr_entry_t;

typedef struct ufrag_entry {
    char ufrag[UFRAG_MAX];
    lc_rtc_session_t *s;
    struct ufrag_entry *next;
} ufrag_entry_t;

/* The media send batch: one sendmmsg for up to BATCH packets, to any peers. */
#define BATCH 64
#define SLOT 1600

typedef struct {
    int fd;
    struct event *ev;
    char ip[64];                   /* the candidate address it stands for */
    struct mmsghdr batch[BATCH];
    struct iovec iov[BATCH];
    struct sockaddr_storage to[BATCH];
    uint8_t buf[BATCH][SLOT];
    unsigned n;
} udp_sock_t;

static udp_sock_t socks[LC_RTC_UDP_MAX_CANDIDATES];
static int nsocks;
static int port;
/* the datagram being handled: its replies go out where it came in */
static int cur_sock = -1;
static const struct sockaddr *cur_from;
static addr_entry_t *by_addr[BUCKETS];
static ufrag_entry_t *by_ufrag[BUCKETS];

static uint32_t hash_bytes(const void *p, size_t n)
{
    const uint8_t *b = p;
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++)
        h = (h ^ b[i]) * 16777619u;
    return h % BUCKETS;
}

/* ip and port only: a sockaddr has padding that must not count */
static size_t addr_key(const struct sockaddr *sa, uint8_t out[18])
{
    if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)sa;
        memcpy(out, &s6->sin6_addr, 16);
        memcpy(out + 16, &s6->sin6_port, 2);
        return 18;
    }
    const struct sockaddr_in *s4 = (const struct sockaddr_in *)sa;
    memcpy(out, &s4->sin_addr, 4);
    memcpy(out + 4, &s4->sin_port, 2);
    return 6;
}

static int same_addr(const struct sockaddr *a, const struct sockaddr *b)
{
    uint8_t ka[18], kb[18];
    size_t na = addr_key(a, ka), nb = addr_key(b, kb);
    return a->sa_family == b->sa_family && na == nb && memcmp(ka, kb, na) == 0;
}

static uint32_t addr_hash(const struct sockaddr *sa)
{
    uint8_t k[18];
    return hash_bytes(k, addr_key(sa, k));
}

static addr_entry_t *find_entry(const struct sockaddr *sa)
{
    for (addr_entry_t *e = by_addr[addr_hash(sa)]; e; e = e->next)
        if (same_addr((const struct sockaddr *)&e->addr, sa))
            return e;
    return NULL;
}

static lc_rtc_session_t *find_addr(const struct sockaddr *sa)
{
    addr_entry_t *e = find_entry(sa);
    return e ? e->s : NULL;
}

/* The socket a datagram to `to` leaves from: the one the peer's current
 * datagram came in on, else the one of its nominated pair. */
static udp_sock_t *sock_for(const struct sockaddr *to)
{
    if (nsocks <= 1)
        return &socks[0];
    if (cur_sock >= 0 && same_addr(to, cur_from))
        return &socks[cur_sock];
    addr_entry_t *e = find_entry(to);
    return &socks[e ? e->sock : 0];
}

void lc_rtc_udp_bind_addr(lc_rtc_session_t *s, const struct sockaddr *from, socklen_t len)
{
    uint32_t h = addr_hash(from);
    for (addr_entry_t *e = by_addr[h]; e; e = e->next) {
        if (same_addr((const struct sockaddr *)&e->addr, from)) {
            e->s = s; /* the address moved to another session (a client reused its port) */
            e->sock = cur_sock >= 0 ? cur_sock : 0;
            return;
        }
    }
    addr_entry_t *e = calloc(1, sizeof(*e));
    if (!e)
        return;
    memcpy(&e->addr, from, len);
    e->len = len;
    e->sock = cur_sock >= 0 ? cur_sock : 0;
    e->s = s;
    e->next = by_addr[h];
    by_addr[h] = e;
}

void lc_rtc_udp_add_ufrag(const char *ufrag, lc_rtc_session_t *s)
{
    ufrag_entry_t *e = calloc(1, sizeof(*e));
    if (!e)
        return;
    snprintf(e->ufrag, sizeof(e->ufrag), "%s", ufrag);
    e->s = s;
    uint32_t h = hash_bytes(e->ufrag, strlen(e->ufrag));
    e->next = by_ufrag[h];
    by_ufrag[h] = e;
}

void lc_rtc_udp_remove(lc_rtc_session_t *s)
{
    for (int i = 0; i < BUCKETS; i++) {
        for (addr_entry_t **pp = &by_addr[i], *e; (e = *pp);) {
            if (e->s == s) {
                *pp = e->next;
                free(e);
            } else {
                pp = &e->next;
            }
        }
        for (ufrag_entry_t **pp = &by_ufrag[i], *e; (e = *pp);) {
            if (e->s == s) {
                *pp = e->next;
                free(e);
            } else {
                pp = &e->next;
            }
        }
    }
}

static lc_rtc_session_t *find_ufrag(const uint8_t *u, size_t len)
{
    if (len == 0 || len >= UFRAG_MAX)
        return NULL;
    for (ufrag_entry_t *e = by_ufrag[hash_bytes(u, len)]; e; e = e->next)
        if (strlen(e->ufrag) == len && memcmp(e->ufrag, u, len) == 0)
            return e->s;
    return NULL;
}

void lc_rtc_udp_send(const struct sockaddr *to, socklen_t tolen, const uint8_t *buf, size_t len)
{
    /* UDP: a full socket buffer drops the packet, as the network would */
    if (nsocks > 0)
        (void)sendto(sock_for(to)->fd, buf, len, MSG_DONTWAIT, to, tolen);
}

static void flush_sock(udp_sock_t *u)
{
    for (unsigned done = 0; done < u->n;) {
        int n = sendmmsg(u->fd, u->batch + done, u->n - done, MSG_DONTWAIT);
        if (n <= 0)
            break; /* a full socket buffer drops the rest, as the network would */
        done += (unsigned)n;
    }
    u->n = 0;
}

void lc_rtc_udp_flush(void)
{
    for (int i = 0; i < nsocks; i++)
        if (socks[i].n)
            flush_sock(&socks[i]);
}

void lc_rtc_udp_queue(const struct sockaddr *to, socklen_t tolen, const uint8_t *buf, size_t len)
{
    if (nsocks == 0 || len > SLOT)
        return;
    udp_sock_t *u = sock_for(to);
    if (u->n == BATCH)
        flush_sock(u);
    unsigned i = u->n++;
    memcpy(u->buf[i], buf, len);
    memcpy(&u->to[i], to, tolen);
    u->iov[i] = (struct iovec){ u->buf[i], len };
    u->batch[i].msg_hdr = (struct msghdr){ .msg_name = &u->to[i], .msg_namelen = tolen, .msg_iov = &u->iov[i],
                                           .msg_iovlen = 1 };
}

static void on_readable(evutil_socket_t s, short what, void *arg)
{
    uint8_t buf[MAX_DATAGRAM];
    (void)what;
    /* a bounded batch per wake-up, so one busy socket cannot starve the loop */
    for (int i = 0; i < 64; i++) {
        struct sockaddr_storage from;
        socklen_t fromlen = sizeof(from);
        ssize_t n = recvfrom(s, buf, sizeof(buf), MSG_DONTWAIT, (struct sockaddr *)&from, &fromlen);
        if (n <= 0)
            break;
        lc_rtc_session_t *sess = find_addr((struct sockaddr *)&from);
        if (!sess && lc_stun_is_stun(buf, (size_t)n)) {
            /* USERNAME is "ours:theirs": ours names the session */
            lc_stun_msg_t m;
            const char *err;
            if (lc_stun_parse(buf, (size_t)n, &m, &err) == 0 && m.username) {
                const uint8_t *colon = memchr(m.username, ':', m.username_len);
                sess = find_ufrag(m.username, colon ? (size_t)(colon - m.username) : m.username_len);
            }
        }
        if (sess) {
            cur_sock = (int)(intptr_t)arg;
            cur_from = (const struct sockaddr *)&from;
            lc_rtc_session_on_packet(sess, (struct sockaddr *)&from, fromlen, buf, (size_t)n);
            cur_sock = -1;
            cur_from = NULL;
        }
    }
    lc_rtc_udp_flush(); /* retransmissions NACKs asked for */
}

/* The host part of a listen address, unbracketed: "127.0.0.1", "::1", "0.0.0.0". */
static void host_of(const lc_net_addr_t *a, char *out, size_t len)
{
    char s[80];
    lc_net_addr_str((const struct sockaddr *)&a->ss, s, sizeof(s));
    char *colon = strrchr(s, ':');
    if (colon)
        *colon = '\0';
    snprintf(out, len, "%.63s", s[0] == '[' ? s + 1 : s);
    out[strcspn(out, "]")] = '\0';
}

static int is_wildcard(const lc_net_addr_t *a)
{
    if (a->ss.ss_family == AF_INET6)
        return IN6_IS_ADDR_UNSPECIFIED(&((const struct sockaddr_in6 *)&a->ss)->sin6_addr);
    return ((const struct sockaddr_in *)&a->ss)->sin_addr.s_addr == htonl(INADDR_ANY);
}

static int is_loopback(const lc_net_addr_t *a)
{
    if (a->ss.ss_family == AF_INET6)
        return IN6_IS_ADDR_LOOPBACK(&((const struct sockaddr_in6 *)&a->ss)->sin6_addr);
    return (ntohl(((const struct sockaddr_in *)&a->ss)->sin_addr.s_addr) >> 24) == 127;
}

static void set_port(lc_net_addr_t *a, int p)
{
    if (a->ss.ss_family == AF_INET6)
        ((struct sockaddr_in6 *)&a->ss)->sin6_port = htons((uint16_t)p);
    else
        ((struct sockaddr_in *)&a->ss)->sin_port = htons((uint16_t)p);
}

/* What the candidates are and where their sockets bind (n of them):
 * webrtc.public_ip alone when it is set (on the listen address); else the
 * listen address, or for a wildcard one the first non-loopback address.
 * A loopback listen address (the demo configs) gets the first non-loopback
 * address beside it, on a socket of its own: browsers never use loopback
 * for ICE, and that address still reaches a browser on this machine. */
static int plan(const lc_conf_t *conf, const lc_net_addr_t *listen, lc_net_addr_t bind_to[], char ips[][64])
{
    char lan[64];
    bind_to[0] = *listen;
    if (conf->webrtc_public_ip[0]) {
        snprintf(ips[0], 64, "%s", conf->webrtc_public_ip);
        return 1;
    }
    if (is_wildcard(listen)) {
        lc_net_first_ipv4(ips[0], 64);
        return 1;
    }
    host_of(listen, ips[0], 64);
    if (!is_loopback(listen))
        return 1;
    lc_net_first_ipv4(lan, sizeof(lan));
    const char *why;
    char spec[80];
    snprintf(spec, sizeof(spec), "%s:1", lan);
    if (strncmp(lan, "127.", 4) == 0 || lc_net_parse_addr(spec, &bind_to[1], &why) < 0)
        return 1; /* no other address: loopback alone */
    snprintf(ips[1], 64, "%s", lan);
    return 2;
}

static void close_socks(void)
{
    for (int i = 0; i < nsocks; i++) {
        if (socks[i].ev)
            event_free(socks[i].ev);
        socks[i].ev = NULL;
        if (socks[i].fd >= 0)
            close(socks[i].fd);
        socks[i].fd = -1;
        socks[i].n = 0;
    }
    nsocks = 0;
}

/* n sockets on port p, or none (-1, errno of the failed bind). */
static int bind_all(lc_net_addr_t bind_to[], int n, int p)
{
    for (int i = 0; i < n; i++) {
        set_port(&bind_to[i], p);
        socks[i].fd = lc_net_listen(&bind_to[i], SOCK_DGRAM, 0);
        if (socks[i].fd < 0) {
            int e = errno;
            nsocks = i;
            close_socks();
            errno = e;
            return -1;
        }
        nsocks = i + 1;
    }
    return 0;
}

int lc_rtc_udp_start(lc_worker_t *w)
{
    const lc_conf_t *conf = w->cycle->conf;
    lc_proc_t *self = lc_shm_proc(w->cycle->shm, w->cycle->slot);
    lc_net_addr_t a, bind_to[LC_RTC_UDP_MAX_CANDIDATES];
    char ips[LC_RTC_UDP_MAX_CANDIDATES][64];
    const char *why;
    const char *listen = conf->signaling_listen[0] ? conf->signaling_listen : "0.0.0.0:0";
    if (lc_net_parse_addr(listen, &a, &why) < 0) {
        lc_log_error("webrtc: cannot take the address of signaling.listen \"%s\": %s", listen, why);
        return -1;
    }
    int n = plan(conf, &a, bind_to, ips);
    for (int p = self->udp_lo; p <= self->udp_hi && nsocks == 0; p++)
        if (bind_all(bind_to, n, p) == 0)
            port = p;
    if (nsocks == 0 && n > 1) {
        lc_log_warn("webrtc: cannot bind UDP on %s in the slice %d-%d (%s): candidates on %s only", ips[1],
                    self->udp_lo, self->udp_hi, strerror(errno), ips[0]);
        n = 1;
        for (int p = self->udp_lo; p <= self->udp_hi && nsocks == 0; p++)
            if (bind_all(bind_to, n, p) == 0)
                port = p;
    }
    if (nsocks == 0) {
        lc_log_error("webrtc: no free UDP port in this worker's slice %d-%d", self->udp_lo, self->udp_hi);
        return -1;
    }
    char list[160] = "";
    for (int i = 0; i < nsocks; i++) {
        udp_sock_t *u = &socks[i];
        int size = 4 << 20;
        setsockopt(u->fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
        setsockopt(u->fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof(size));
        snprintf(u->ip, sizeof(u->ip), "%s", ips[i]);
        u->ev = event_new(w->base, u->fd, EV_READ | EV_PERSIST, on_readable, (void *)(intptr_t)i);
        if (!u->ev || event_add(u->ev, NULL) < 0) {
            lc_log_error("webrtc: cannot watch the UDP socket of %s", ips[i]);
            close_socks();
            port = 0;
            return -1;
        }
        size_t l = strlen(list);
        snprintf(list + l, sizeof(list) - l, "%s%s", i ? ", " : "", ips[i]);
    }
    lc_log_info("webrtc: media on udp port %d, candidates %s", port, list);
    return 0;
}

void lc_rtc_udp_stop(void)
{
    close_socks();
    for (int i = 0; i < BUCKETS; i++) {
        while (by_addr[i]) {
            addr_entry_t *e = by_addr[i];
            by_addr[i] = e->next;
            free(e);
        }
        while (by_ufrag[i]) {
            ufrag_entry_t *e = by_ufrag[i];
            by_ufrag[i] = e->next;
            free(e);
        }
    }
}

size_t lc_rtc_udp_candidates(char out[][LC_RTC_UDP_CAND_LEN], size_t max)
{
    size_t n = 0;
    for (int i = 0; i < nsocks && n < max; i++, n++)
        snprintf(out[n], LC_RTC_UDP_CAND_LEN, strchr(socks[i].ip, ':') ? "[%s]:%d" : "%s:%d", socks[i].ip, port);
    return n;
}

int lc_rtc_udp_port(void)
{
    return port;
}
