/*
 * rtc_udp.c: see rtc_udp.h. Two small tables: ufrag -> session (consulted
 * only for STUN from an address not yet bound) and address -> session
 * (every packet), chained hashes sized for thousands of players.
 */
#include "worker/webrtc/rtc_udp.h"

#include <arpa/inet.h>
#include <errno.h>
#include <event2/event.h>
#include <netinet/in.h>
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
    lc_rtc_session_t *s;
    struct addr_entry *next;
} addr_entry_t;

typedef struct ufrag_entry {
    char ufrag[UFRAG_MAX];
    lc_rtc_session_t *s;
    struct ufrag_entry *next;
} ufrag_entry_t;

static int fd = -1;
static struct event *ev;
static int port;
static char cand_ip[64];
static addr_entry_t *by_addr[BUCKETS];

/* The media send batch: one sendmmsg for up to BATCH packets, to any peers. */
#define BATCH 64
#define SLOT 1600
static struct mmsghdr batch[BATCH];
static struct iovec batch_iov[BATCH];
static struct sockaddr_storage batch_to[BATCH];
static uint8_t batch_buf[BATCH][SLOT];
static unsigned batch_n;
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

static lc_rtc_session_t *find_addr(const struct sockaddr *sa)
{
    for (addr_entry_t *e = by_addr[addr_hash(sa)]; e; e = e->next)
        if (same_addr((const struct sockaddr *)&e->addr, sa))
            return e->s;
    return NULL;
}

void lc_rtc_udp_bind_addr(lc_rtc_session_t *s, const struct sockaddr *from, socklen_t len)
{
    uint32_t h = addr_hash(from);
    for (addr_entry_t *e = by_addr[h]; e; e = e->next) {
        if (same_addr((const struct sockaddr *)&e->addr, from)) {
            e->s = s; /* the address moved to another session (a client reused its port) */
            return;
        }
    }
    addr_entry_t *e = calloc(1, sizeof(*e));
    if (!e)
        return;
    memcpy(&e->addr, from, len);
    e->len = len;
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
    if (fd >= 0)
        (void)sendto(fd, buf, len, MSG_DONTWAIT, to, tolen);
}

void lc_rtc_udp_flush(void)
{
    for (unsigned done = 0; done < batch_n;) {
        int n = sendmmsg(fd, batch + done, batch_n - done, MSG_DONTWAIT);
        if (n <= 0)
            break; /* a full socket buffer drops the rest, as the network would */
        done += (unsigned)n;
    }
    batch_n = 0;
}

void lc_rtc_udp_queue(const struct sockaddr *to, socklen_t tolen, const uint8_t *buf, size_t len)
{
    if (fd < 0 || len > SLOT)
        return;
    if (batch_n == BATCH)
        lc_rtc_udp_flush();
    unsigned i = batch_n++;
    memcpy(batch_buf[i], buf, len);
    memcpy(&batch_to[i], to, tolen);
    batch_iov[i] = (struct iovec){ batch_buf[i], len };
    batch[i].msg_hdr = (struct msghdr){ .msg_name = &batch_to[i], .msg_namelen = tolen, .msg_iov = &batch_iov[i],
                                        .msg_iovlen = 1 };
}

static void on_readable(evutil_socket_t s, short what, void *arg)
{
    uint8_t buf[MAX_DATAGRAM];
    (void)what;
    (void)arg;
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
        if (sess)
            lc_rtc_session_on_packet(sess, (struct sockaddr *)&from, fromlen, buf, (size_t)n);
    }
    lc_rtc_udp_flush(); /* retransmissions NACKs asked for */
}

static void pick_candidate_ip(const lc_conf_t *conf, const lc_net_addr_t *listen)
{
    if (conf->webrtc_public_ip[0]) {
        snprintf(cand_ip, sizeof(cand_ip), "%s", conf->webrtc_public_ip);
        return;
    }
    char s[80];
    lc_net_addr_str((const struct sockaddr *)&listen->ss, s, sizeof(s));
    char *colon = strrchr(s, ':');
    if (colon)
        *colon = '\0';
    if (strcmp(s, "0.0.0.0") != 0 && strcmp(s, "[::]") != 0) {
        snprintf(cand_ip, sizeof(cand_ip), "%.63s", s[0] == '[' ? s + 1 : s);
        cand_ip[strcspn(cand_ip, "]")] = '\0';
        return;
    }
    lc_net_first_ipv4(cand_ip, sizeof(cand_ip));
}

int lc_rtc_udp_start(lc_worker_t *w)
{
    const lc_conf_t *conf = w->cycle->conf;
    lc_proc_t *self = lc_shm_proc(w->cycle->shm, w->cycle->slot);
    lc_net_addr_t a;
    const char *why;
    const char *listen = conf->signaling_listen[0] ? conf->signaling_listen : "0.0.0.0:0";
    if (lc_net_parse_addr(listen, &a, &why) < 0) {
        lc_log_error("webrtc: cannot take the address of signaling.listen \"%s\": %s", listen, why);
        return -1;
    }
    pick_candidate_ip(conf, &a);
    for (int p = self->udp_lo; p <= self->udp_hi && fd < 0; p++) {
        if (a.ss.ss_family == AF_INET6)
            ((struct sockaddr_in6 *)&a.ss)->sin6_port = htons((uint16_t)p);
        else
            ((struct sockaddr_in *)&a.ss)->sin_port = htons((uint16_t)p);
        fd = lc_net_listen(&a, SOCK_DGRAM, 0);
        if (fd >= 0)
            port = p;
    }
    if (fd < 0) {
        lc_log_error("webrtc: no free UDP port in this worker's slice %d-%d", self->udp_lo, self->udp_hi);
        return -1;
    }
    int size = 4 << 20;
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
    setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof(size));
    ev = event_new(w->base, fd, EV_READ | EV_PERSIST, on_readable, NULL);
    if (!ev || event_add(ev, NULL) < 0) {
        close(fd);
        fd = -1;
        return -1;
    }
    lc_log_info("webrtc: media on udp %s:%d", cand_ip, port);
    return 0;
}

void lc_rtc_udp_stop(void)
{
    if (ev)
        event_free(ev);
    ev = NULL;
    if (fd >= 0)
        close(fd);
    fd = -1;
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

const char *lc_rtc_udp_candidate_ip(void)
{
    return cand_ip;
}

int lc_rtc_udp_port(void)
{
    return port;
}
