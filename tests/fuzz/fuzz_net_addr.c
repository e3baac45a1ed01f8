/*
 * libFuzzer target: node addresses as gossip hands them over
 * (src/common/core/net.c lc_net_parse_addr, lc_net_cidr_match and
 * src/common/cdn/cdn_addr.c). Input: "RULE\nADDRESS" (without a newline
 * both are the whole input).
 *
 * Invariants: an address that parses prints to a form that parses to the
 * same socket address and prints the same again; a rule matches 1, 0 or
 * is bad (-1), and the address's own IP as a rule matches it; what the
 * gossip check accepts is a valid node address allowed by the rule.
 */
#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/cdn/cdn_addr.h"
#include "common/core/net.h"

static int same(const lc_net_addr_t *a, const lc_net_addr_t *b)
{
    if (a->ss.ss_family != b->ss.ss_family || a->len != b->len)
        return 0;
    if (a->ss.ss_family == AF_INET) {
        const struct sockaddr_in *x = (const void *)&a->ss, *y = (const void *)&b->ss;
        return x->sin_port == y->sin_port && x->sin_addr.s_addr == y->sin_addr.s_addr;
    }
    const struct sockaddr_in6 *x = (const void *)&a->ss, *y = (const void *)&b->ss;
    return x->sin6_port == y->sin6_port && memcmp(&x->sin6_addr, &y->sin6_addr, 16) == 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 256)
        return 0;
    char in[257], rule[257], addr[257];
    memcpy(in, data, size);
    in[size] = '\0';
    if (strlen(in) != size)
        return 0; /* C strings only: gossip never carries a NUL (cdn_msg refuses \u0000) */
    const char *nl = strchr(in, '\n');
    if (nl) {
        memcpy(rule, in, (size_t)(nl - in));
        rule[nl - in] = '\0';
        strcpy(addr, nl + 1);
    } else {
        strcpy(rule, in);
        strcpy(addr, in);
    }

    lc_net_addr_t a, b;
    const char *why = NULL;
    char text[128], again[128];
    if (lc_net_parse_addr(addr, &a, &why) == 0) {
        lc_net_addr_str((const struct sockaddr *)&a.ss, text, sizeof(text));
        if (lc_net_parse_addr(text, &b, &why) != 0 || !same(&a, &b))
            abort();
        lc_net_addr_str((const struct sockaddr *)&b.ss, again, sizeof(again));
        if (strcmp(text, again) != 0)
            abort();
        int r = lc_net_cidr_match(rule, (const struct sockaddr *)&a.ss);
        if (r < -1 || r > 1)
            abort();
        /* the printed IP, brackets off, is a rule that matches it */
        char ip[128];
        strcpy(ip, text[0] == '[' ? text + 1 : text);
        *strrchr(ip, text[0] == '[' ? ']' : ':') = '\0';
        if (lc_net_cidr_match(ip, (const struct sockaddr *)&a.ss) != 1)
            abort();
        if (lc_cdn_addr_bad(text) != NULL)
            abort(); /* the printed form is the one spelling */
    } else if (!why) {
        abort();
    }
    struct sockaddr_in v4 = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(0x7f000001) };
    struct sockaddr_in6 v6 = { .sin6_family = AF_INET6 };
    v6.sin6_addr.s6_addr[10] = v6.sin6_addr.s6_addr[11] = 0xff; /* ::ffff:10.0.0.1 */
    v6.sin6_addr.s6_addr[12] = 10;
    v6.sin6_addr.s6_addr[15] = 1;
    int r4 = lc_net_cidr_match(rule, (const struct sockaddr *)&v4);
    int r6 = lc_net_cidr_match(rule, (const struct sockaddr *)&v6);
    if (r4 < -1 || r4 > 1 || r6 < -1 || r6 > 1)
        abort();

    char *rules[1] = { rule };
    lc_conf_list_t allow = { rules, 1 };
    (void)lc_cdn_addr_kind(addr);
    const char *bad = lc_cdn_gossip_bad(addr, "127.0.0.1:8084", &allow);
    if (!bad && (lc_cdn_addr_bad(addr) != NULL || !lc_cdn_addr_allowed(&allow, addr)))
        abort();
    (void)lc_cdn_gossip_bad(addr, "10.0.0.1:8084", &allow);
    return 0;
}
