/*
 * cdn_addr.h: node addresses as other nodes hand them to us (hello names,
 * gossiped node lists), I/O-free: is it a node address at all, may this
 * node deal with it (cdn.allow), and is it worth dialling. An attacker
 * chooses these strings; tests/fuzz/fuzz_net_addr.c feeds them here.
 */
#ifndef LC_CDN_ADDR_H
#define LC_CDN_ADDR_H

#include "common/core/conf.h"

enum lc_addr_kind { LC_ADDR_UNICAST, LC_ADDR_LOOPBACK, LC_ADDR_UNSPECIFIED, LC_ADDR_MULTICAST };

/* NULL if addr is a node address in its one spelling ("ip:port" as
 * lc_net_addr_str writes it, port > 0), else why not. One spelling, so one
 * node cannot be listed twice ("1.2.3.4:080", "[::ffff:...]"). */
const char *lc_cdn_addr_bad(const char *addr);
/* The kind of a valid node address (v4-mapped v6 as its v4). */
int lc_cdn_addr_kind(const char *addr);
/* 1 if cdn.allow lets this node deal with addr (an empty list lets any). */
int lc_cdn_addr_allowed(const lc_conf_list_t *allow, const char *addr);
/* NULL if a gossiped addr may be added to the node list of the node self:
 * valid, allowed, and of the kind self is when it is loopback, unspecified
 * or multicast (nodes on 127.x, as in tests, gossip 127.x). Else why not. */
const char *lc_cdn_gossip_bad(const char *addr, const char *self, const lc_conf_list_t *allow);

#endif
