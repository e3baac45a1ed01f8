/*
 * net.c: see net.h. No DNS anywhere here: every address is a literal.
 */
#include "common/core/net.h"

#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int lc_net_parse_addr(const char *s, lc_net_addr_t *out, const char **why)
{
    char host[64];
    const char *port_s;
    size_t hlen;

    memset(out, 0, sizeof(*out));
    if (s[0] == '[') {
        const char *close = strchr(s, ']');
        if (!close || close[1] != ':') {
            *why = "expected \"[v6-address]:port\"";
            return -1;
        }
        hlen = (size_t)(close - s - 1);
        if (hlen >= sizeof(host)) {
            *why = "address too long";
            return -1;
        }
        memcpy(host, s + 1, hlen);
        port_s = close + 2;
    } else {
        const char *colon = strrchr(s, ':');
        if (!colon) {
            *why = "expected \"address:port\"";
            return -1;
        }
        hlen = (size_t)(colon - s);
        if (hlen >= sizeof(host)) {
            *why = "address too long";
            return -1;
        }
        memcpy(host, s, hlen);
        port_s = colon + 1;
    }
    host[hlen] = '\0';

    char *end;
    long port = strtol(port_s, &end, 10);
    if (*port_s == '\0' || *end != '\0' || port < 1 || port > 65535) {
        *why = "port must be 1..65535";
        return -1;
    }
    struct sockaddr_in *in4 = (struct sockaddr_in *)&out->ss;
    struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&out->ss;
    if (hlen == 0 || strcmp(host, "*") == 0) {
        in4->sin_family = AF_INET;
        in4->sin_addr.s_addr = htonl(INADDR_ANY);
        in4->sin_port = htons((uint16_t)port);
        out->len = sizeof(*in4);
    } else if (inet_pton(AF_INET, host, &in4->sin_addr) == 1) {
        in4->sin_family = AF_INET;
        in4->sin_port = htons((uint16_t)port);
        out->len = sizeof(*in4);
    } else if (inet_pton(AF_INET6, host, &in6->sin6_addr) == 1) {
        in6->sin6_family = AF_INET6;
        in6->sin6_port = htons((uint16_t)port);
        out->len = sizeof(*in6);
    } else {
        *why = "address must be a literal IPv4 or IPv6 address";
        return -1;
    }
    return 0;
}

const char *lc_net_addr_str(const struct sockaddr *sa, char *buf, size_t len)
{
    char host[INET6_ADDRSTRLEN] = "?";
    int port = 0;
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *in4 = (const struct sockaddr_in *)sa;
        inet_ntop(AF_INET, &in4->sin_addr, host, sizeof(host));
        port = ntohs(in4->sin_port);
        snprintf(buf, len, "%s:%d", host, port);
    } else if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
        inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof(host));
        port = ntohs(in6->sin6_port);
        snprintf(buf, len, "[%s]:%d", host, port);
    } else if (sa->sa_family == AF_UNIX) {
        snprintf(buf, len, "unix:");
    } else {
        snprintf(buf, len, "?");
    }
    return buf;
}

int lc_net_addr_port(const lc_net_addr_t *a)
{
    if (a->ss.ss_family == AF_INET)
        return ntohs(((const struct sockaddr_in *)&a->ss)->sin_port);
    return ntohs(((const struct sockaddr_in6 *)&a->ss)->sin6_port);
}

int lc_net_set_nonblock(int fd)
{
    int fl = fcntl(fd, F_GETFL);
    return fl < 0 ? -1 : fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

int lc_net_listen(const lc_net_addr_t *a, int type, int backlog)
{
    int one = 1, fd = socket(a->ss.ss_family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    /* TCP: a restart may bind over connections in TIME_WAIT. Never UDP:
     * there it would let two processes share a port and split its datagrams */
    if (type == SOCK_STREAM && setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0)
        goto failed;
    if (a->ss.ss_family == AF_INET6 && setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) < 0)
        goto failed;
    if (bind(fd, (const struct sockaddr *)&a->ss, a->len) < 0)
        goto failed;
    if (type == SOCK_STREAM && listen(fd, backlog) < 0)
        goto failed;
    return fd;
failed:;
    int e = errno;
    close(fd);
    errno = e;
    return -1;
}

int lc_net_cidr_match(const char *rule, const struct sockaddr *sa)
{
    char host[64];
    const char *slash = strchr(rule, '/');
    size_t hlen = slash ? (size_t)(slash - rule) : strlen(rule);
    unsigned char want[16], have[16];
    int bits, alen;

    if (hlen >= sizeof(host))
        return -1;
    memcpy(host, rule, hlen);
    host[hlen] = '\0';
    int fam = strchr(host, ':') ? AF_INET6 : AF_INET;
    if (inet_pton(fam, host, want) != 1)
        return -1;
    alen = fam == AF_INET ? 4 : 16;
    bits = alen * 8;
    if (slash) {
        char *end;
        long b = strtol(slash + 1, &end, 10);
        if (*end || b < 0 || b > bits)
            return -1;
        bits = (int)b;
    }
    if (sa->sa_family == AF_INET && fam == AF_INET) {
        memcpy(have, &((const struct sockaddr_in *)sa)->sin_addr, 4);
    } else if (sa->sa_family == AF_INET6 && fam == AF_INET6) {
        memcpy(have, &((const struct sockaddr_in6 *)sa)->sin6_addr, 16);
    } else if (sa->sa_family == AF_INET6 && fam == AF_INET) {
        /* v4-mapped v6 peer against a v4 rule */
        const unsigned char *a6 = (const unsigned char *)&((const struct sockaddr_in6 *)sa)->sin6_addr;
        static const unsigned char mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
        if (memcmp(a6, mapped, 12) != 0)
            return 0;
        memcpy(have, a6 + 12, 4);
    } else {
        return 0;
    }
    for (int i = 0; i < bits; i++) {
        int mask = 0x80 >> (i % 8);
        if ((want[i / 8] & mask) != (have[i / 8] & mask))
            return 0;
    }
    return 1;
}

void lc_net_first_ipv4(char *buf, size_t len)
{
    struct ifaddrs *ifs;
    snprintf(buf, len, "127.0.0.1");
    if (getifaddrs(&ifs) < 0)
        return;
    for (struct ifaddrs *i = ifs; i; i = i->ifa_next) {
        /* an interface that is down has an address nobody reaches */
        if (!i->ifa_addr || i->ifa_addr->sa_family != AF_INET || !(i->ifa_flags & IFF_UP))
            continue;
        const struct sockaddr_in *sin = (const struct sockaddr_in *)i->ifa_addr;
        if ((ntohl(sin->sin_addr.s_addr) >> 24) == 127)
            continue;
        inet_ntop(AF_INET, &sin->sin_addr, buf, (socklen_t)len);
        break;
    }
    freeifaddrs(ifs);
}
