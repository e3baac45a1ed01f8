/*
 * listeners.c: the master opens every listening socket before forking, so
 * children never bind and a reload that keeps an address keeps the very
 * same socket (no connection is refused while generations change hands).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/core/log.h"
#include "common/core/net.h"
#include "master/master.h"

static const char *wanted_addr(const lc_conf_t *conf, int kind)
{
    static char cdn[64];
    switch (kind) {
    case LC_LISTEN_CDN:
        /* every address: nodes reach this one at cdn.ip, which may be a NAT's */
        if (!conf->cdn_enabled)
            return "";
        snprintf(cdn, sizeof(cdn), strchr(conf->cdn_ip, ':') ? "[::]:%lld" : "0.0.0.0:%lld", (long long)conf->cdn_port);
        return cdn;
    case LC_LISTEN_SIGNALING: return conf->signaling_listen;
    case LC_LISTEN_HTTP: return conf->http_listen;
    case LC_LISTEN_RTMP: return conf->rtmp_listen;
    case LC_LISTEN_SIGNALING_TLS: return conf->signaling_tls_listen;
    case LC_LISTEN_HTTP_TLS: return conf->http_tls_listen;
    }
    return "";
}

int lc_listeners_open(lc_cycle_t *cycle, const lc_cycle_t *old, char *err, size_t errlen)
{
    static const char *names[] = { "signaling.listen", "http.listen", "rtmp.listen", "cdn.port",
                                   "signaling.tls_listen", "http.tls_listen" };

    for (int k = 0; k < LC_LISTEN_KINDS; k++) {
        lc_listener_t *l = &cycle->listeners[k];
        const char *addr = wanted_addr(cycle->conf, k);
        snprintf(l->addr, sizeof(l->addr), "%s", addr);
        l->fd = -1;
        if (addr[0] == '\0')
            continue;
        if (old && old->listeners[k].fd >= 0 && strcmp(old->listeners[k].addr, addr) == 0) {
            l->fd = old->listeners[k].fd;
            continue;
        }
        lc_net_addr_t a;
        const char *why;
        char where[4200];
        if (lc_net_parse_addr(addr, &a, &why) < 0) {
            lc_conf_where(cycle->conf, names[k], where, sizeof(where));
            snprintf(err, errlen, "%s: %s \"%s\": %s", where, names[k], addr, why);
            goto failed;
        }
        l->fd = lc_net_listen(&a, SOCK_STREAM, 1024);
        if (l->fd < 0) {
            int e = errno;
            /* the key's file and line, as for a bad value: what the operator edits */
            lc_conf_where(cycle->conf, names[k], where, sizeof(where));
            snprintf(err, errlen, "%s: cannot listen on %s \"%s\": %s", where, names[k], addr, strerror(e));
            goto failed;
        }
        lc_log_info("listening on %s (%s)", addr, names[k]);
    }
    return 0;

failed:
    for (int k = 0; k < LC_LISTEN_KINDS; k++) {
        lc_listener_t *l = &cycle->listeners[k];
        int shared = old && old->listeners[k].fd == l->fd;
        if (l->fd >= 0 && !shared)
            close(l->fd);
        l->fd = -1;
    }
    return -1;
}

void lc_listeners_close_unused(lc_cycle_t *old, const lc_cycle_t *cur)
{
    for (int k = 0; k < LC_LISTEN_KINDS; k++) {
        if (old->listeners[k].fd >= 0 && old->listeners[k].fd != cur->listeners[k].fd) {
            lc_log_info("closing listener %s", old->listeners[k].addr);
            close(old->listeners[k].fd);
        }
        old->listeners[k].fd = -1;
    }
}
