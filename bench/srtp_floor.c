/*
 * srtp_floor.c: the physical floor of WebRTC fan-out on this machine: how
 * many ~1100-byte RTP packets one core can SRTP-protect and hand to the
 * kernel per CPU-second, with nothing else a server does (no ring reads,
 * no per-player state, no RTCP). bench/webrtc_bench.sh divides livecdn's
 * packets per CPU-second by this.
 *
 * Per profile (AES_CM_128_HMAC_SHA1_80, AEAD_AES_128_GCM), through the
 * project's wrapper (src/common/webrtc/srtp.c, libsrtp2, the same policy
 * the server uses): for -t seconds, batches of 32 packets are protected
 * (each a fresh copy of one template, seq + 1) and sent with one sendmmsg
 * to a UDP socket on loopback that nobody reads (the kernel delivers up to
 * the socket's buffer, then drops: the sender pays for the loopback
 * delivery either way, as the server does). CPU is the process's
 * (CLOCK_PROCESS_CPUTIME_ID); run it pinned to one core (taskset).
 *
 * Output, one line per profile:
 *   BENCH srtp_floor profile= pkt_bytes= batch= protect_pps= send_pps= cpu_s= wall_s=
 * protect_pps: protect alone, packets per CPU-second; send_pps: protect +
 * sendmmsg, packets per CPU-second (the floor).
 *
 * Usage: srtp_floor [-t seconds per measurement] [-b packet bytes]
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "common/webrtc/srtp.h"

#define BATCH 32
#define MAX_PKT 1500

static double clock_s(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Protect (and with fd >= 0 send) batches until `seconds` of CPU passed.
 * Returns packets per CPU-second; *cpu and *wall the time spent. */
static double run(lc_srtp_t *s, size_t plen, int fd, const struct sockaddr_in *to, double seconds, double *cpu,
                  double *wall, uint16_t *seq)
{
    static uint8_t tmpl[MAX_PKT], pkts[BATCH][MAX_PKT + LC_SRTP_MAX_TRAILER];
    struct mmsghdr msgs[BATCH];
    struct iovec iov[BATCH];
    const char *err;
    uint64_t n = 0;

    memset(tmpl, 0xab, sizeof(tmpl));
    tmpl[0] = 0x80;
    tmpl[1] = 96;
    tmpl[8] = 0x12, tmpl[9] = 0x34, tmpl[10] = 0x56, tmpl[11] = 0x78;
    double c0 = clock_s(CLOCK_PROCESS_CPUTIME_ID), w0 = clock_s(CLOCK_MONOTONIC), c1 = c0;
    while (c1 - c0 < seconds) {
        for (int k = 0; k < 64; k++) {
            for (int i = 0; i < BATCH; i++) {
                size_t len = plen;
                memcpy(pkts[i], tmpl, plen);
                (*seq)++;
                pkts[i][2] = (uint8_t)(*seq >> 8);
                pkts[i][3] = (uint8_t)*seq;
                if (lc_srtp_protect_rtp(s, pkts[i], &len, sizeof(pkts[i]), &err) < 0) {
                    fprintf(stderr, "srtp_floor: protect: %s\n", err);
                    exit(1);
                }
                iov[i].iov_base = pkts[i];
                iov[i].iov_len = len;
                memset(&msgs[i], 0, sizeof(msgs[i]));
                msgs[i].msg_hdr.msg_name = (void *)to;
                msgs[i].msg_hdr.msg_namelen = sizeof(*to);
                msgs[i].msg_hdr.msg_iov = &iov[i];
                msgs[i].msg_hdr.msg_iovlen = 1;
            }
            if (fd >= 0) {
                int off = 0;
                while (off < BATCH) {
                    int r = sendmmsg(fd, msgs + off, (unsigned)(BATCH - off), MSG_DONTWAIT);
                    if (r <= 0)
                        break; /* a full socket buffer on our side: count as sent, like the server */
                    off += r;
                }
            }
            n += BATCH;
        }
        c1 = clock_s(CLOCK_PROCESS_CPUTIME_ID);
    }
    *cpu = c1 - c0;
    *wall = clock_s(CLOCK_MONOTONIC) - w0;
    return (double)n / *cpu;
}

int main(int argc, char **argv)
{
    double seconds = 1.5;
    size_t plen = 1100;
    int opt;
    while ((opt = getopt(argc, argv, "t:b:")) != -1) {
        switch (opt) {
        case 't': seconds = atof(optarg); break;
        case 'b': plen = (size_t)atoi(optarg); break;
        default:
            fprintf(stderr, "usage: srtp_floor [-t seconds] [-b packet_bytes]\n");
            return 2;
        }
    }
    if (plen < 12 || plen > MAX_PKT || seconds <= 0) {
        fprintf(stderr, "srtp_floor: packet bytes 12..%d, seconds > 0\n", MAX_PKT);
        return 2;
    }
    if (lc_srtp_init() < 0) {
        fprintf(stderr, "srtp_floor: lc_srtp_init failed\n");
        return 1;
    }
    /* the sink: bound on loopback, never read */
    int sink = socket(AF_INET, SOCK_DGRAM, 0), fd = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in to = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t tl = sizeof(to);
    if (sink < 0 || fd < 0 || bind(sink, (struct sockaddr *)&to, sizeof(to)) < 0 ||
        getsockname(sink, (struct sockaddr *)&to, &tl) < 0) {
        perror("srtp_floor: sink socket");
        return 1;
    }
    int sndbuf = 4 << 20;
    setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf));

    static const struct {
        int profile;
        const char *name;
        size_t keylen;
    } profiles[] = { { LC_SRTP_AES128_CM_SHA1_80, "aes_cm_128_hmac_sha1_80", 30 },
                     { LC_SRTP_AEAD_AES_128_GCM, "aead_aes_128_gcm", 28 } };
    for (size_t i = 0; i < sizeof(profiles) / sizeof(profiles[0]); i++) {
        lc_srtp_keys_t keys;
        const char *err = "";
        memset(&keys, 0, sizeof(keys));
        keys.profile = profiles[i].profile;
        keys.len = profiles[i].keylen;
        for (size_t k = 0; k < keys.len; k++) {
            keys.local[k] = (uint8_t)(k * 7 + 1);
            keys.remote[k] = (uint8_t)(k * 11 + 3);
        }
        lc_srtp_t *s = lc_srtp_new(&keys, &err);
        if (!s) {
            fprintf(stderr, "srtp_floor: %s: %s\n", profiles[i].name, err);
            return 1;
        }
        uint16_t seq = 0;
        double cpu_p, wall_p, cpu_s, wall_s;
        double protect_pps = run(s, plen, -1, &to, seconds, &cpu_p, &wall_p, &seq);
        double send_pps = run(s, plen, fd, &to, seconds, &cpu_s, &wall_s, &seq);
        printf("BENCH srtp_floor profile=%s pkt_bytes=%zu batch=%d protect_pps=%.0f send_pps=%.0f cpu_s=%.2f "
               "wall_s=%.2f\n",
               profiles[i].name, plen, BATCH, protect_pps, send_pps, cpu_s, wall_s);
        fflush(stdout);
        lc_srtp_free(s);
    }
    close(fd);
    close(sink);
    return 0;
}
