/*
 * net.h: addresses and listening sockets.
 * "host:port", "[v6]:port" and ":port" parse into lc_net_addr_t without DNS
 * (listen addresses must be literal). Listening sockets are opened by the
 * master and inherited by children across fork.
 */
#ifndef LC_NET_H
#define LC_NET_H

#include <sys/socket.h>

typedef struct {
    struct sockaddr_storage ss;
    socklen_t len;
} lc_net_addr_t;

int lc_net_parse_addr(const char *s, lc_net_addr_t *out, const char **why);
/* "1.2.3.4:80" / "[::1]:80" into buf. */
const char *lc_net_addr_str(const struct sockaddr *sa, char *buf, size_t len);
int lc_net_addr_port(const lc_net_addr_t *a);
/* Non-blocking TCP (SOCK_STREAM) or UDP (SOCK_DGRAM) socket bound to a, listening if TCP. -1 + errno. */
int lc_net_listen(const lc_net_addr_t *a, int type, int backlog);
int lc_net_set_nonblock(int fd);
/* The first non-loopback IPv4 address of an interface that is up into buf, or
 * "127.0.0.1" when it has none. */
void lc_net_first_ipv4(char *buf, size_t len);
/* Does the literal address ip (no port) match "addr" or "addr/prefix"? 1 yes, 0 no, -1 bad rule. */
int lc_net_cidr_match(const char *rule, const struct sockaddr *sa);

#endif
