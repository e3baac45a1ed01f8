/*
 * cdn_addr.c: see cdn_addr.h.
 */
#include "common/cdn/cdn_addr.h"

#include <netinet/in.h>
#include <string.h>

#include "common/cdn/cdn_msg.h"
#include "common/core/net.h"

const char *lc_cdn_addr_bad(const char *addr)
{
    lc_net_addr_t a;
    const char *why;
    char again[LC_CDN_ADDR_MAX];
    if (!addr[0])
        return "empty";
    if (lc_net_parse_addr(addr, &a, &why) < 0)
        return why;
    lc_net_addr_str((const struct sockaddr *)&a.ss, again, sizeof(again));
    if (strcmp(again, addr) != 0)
        return "not written as ip:port";
    return NULL;
}

int lc_cdn_addr_kind(const char *addr)
{
    lc_net_addr_t a;
    const char *why;
    if (lc_net_parse_addr(addr, &a, &why) < 0)
        return LC_ADDR_UNSPECIFIED;
    uint8_t v4[4];
    if (a.ss.ss_family == AF_INET6) {
        const struct in6_addr *in6 = &((const struct sockaddr_in6 *)&a.ss)->sin6_addr;
        if (IN6_IS_ADDR_V4MAPPED(in6)) {
            memcpy(v4, in6->s6_addr + 12, 4);
        } else {
            if (IN6_IS_ADDR_LOOPBACK(in6))
                return LC_ADDR_LOOPBACK;
            if (IN6_IS_ADDR_UNSPECIFIED(in6))
                return LC_ADDR_UNSPECIFIED;
            if (IN6_IS_ADDR_MULTICAST(in6))
                return LC_ADDR_MULTICAST;
            return LC_ADDR_UNICAST;
        }
    } else {
        memcpy(v4, &((const struct sockaddr_in *)&a.ss)->sin_addr, 4);
    }
    if (v4[0] == 127)
        return LC_ADDR_LOOPBACK;
    if (v4[0] == 0)
        return LC_ADDR_UNSPECIFIED; /* 0.0.0.0/8: "this network", never a peer */
    if (v4[0] >= 224)
        return LC_ADDR_MULTICAST; /* multicast and the reserved 240/4, broadcast */
    return LC_ADDR_UNICAST;
}

int lc_cdn_addr_allowed(const lc_conf_list_t *allow, const char *addr)
{
    lc_net_addr_t a;
    const char *why;
    if (allow->n == 0)
        return 1;
    if (lc_net_parse_addr(addr, &a, &why) < 0)
        return 0;
    for (size_t i = 0; i < allow->n; i++)
        if (lc_net_cidr_match(allow->v[i], (const struct sockaddr *)&a.ss) == 1)
            return 1;
    return 0;
}

const char *lc_cdn_gossip_bad(const char *addr, const char *self, const lc_conf_list_t *allow)
{
    const char *why = lc_cdn_addr_bad(addr);
    if (why)
        return why;
    if (!lc_cdn_addr_allowed(allow, addr))
        return "not in cdn.allow";
    int kind = lc_cdn_addr_kind(addr);
    if (kind != LC_ADDR_UNICAST && kind != lc_cdn_addr_kind(self))
        return kind == LC_ADDR_LOOPBACK ? "a loopback address" : kind == LC_ADDR_MULTICAST
                                                                   ? "a multicast or broadcast address"
                                                                   : "an unspecified address";
    return NULL;
}
