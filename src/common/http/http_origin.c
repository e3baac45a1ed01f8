/*
 * http_origin.c: see http_origin.h for why these checks and not others.
 */
#include "common/http/http_origin.h"

#include <arpa/inet.h>
#include <string.h>
#include <strings.h>

int lc_http_origin_media_type_is(const char *ct, const char *want)
{
    if (!ct)
        return 0;
    while (*ct == ' ' || *ct == '\t')
        ct++;
    size_t n = strcspn(ct, ";");
    while (n > 0 && (ct[n - 1] == ' ' || ct[n - 1] == '\t'))
        n--;
    return n == strlen(want) && strncasecmp(ct, want, n) == 0;
}

/* host without its ":port" into out; -1 if it does not fit or is malformed */
static int host_part(const char *host, char *out, size_t outlen)
{
    const char *end;
    if (host[0] == '[') {
        const char *close = strchr(host, ']');
        if (!close || (close[1] != '\0' && close[1] != ':'))
            return -1;
        host++;
        end = close;
    } else {
        const char *colon = strchr(host, ':');
        if (colon && strchr(colon + 1, ':'))
            return -1; /* a bare IPv6 address is not a valid Host */
        end = colon ? colon : host + strlen(host);
    }
    size_t n = (size_t)(end - host);
    if (n == 0 || n >= outlen)
        return -1;
    memcpy(out, host, n);
    out[n] = '\0';
    return 0;
}

int lc_http_origin_host_is_local(const char *host, const char *hostname)
{
    char name[256];
    unsigned char addr[16];
    if (!host || host_part(host, name, sizeof(name)) < 0)
        return 0;
    int bracketed = host[0] == '[';
    if (inet_pton(bracketed ? AF_INET6 : AF_INET, name, addr) == 1)
        return 1;
    if (bracketed)
        return 0;
    size_t n = strlen(name);
    if (n > 0 && name[n - 1] == '.')
        name[--n] = '\0'; /* "localhost." is the same name */
    if (strcasecmp(name, "localhost") == 0 || (n > 10 && strcasecmp(name + n - 10, ".localhost") == 0))
        return 1;
    return hostname && hostname[0] && strcasecmp(name, hostname) == 0;
}

int lc_http_origin_is_same(const char *origin, const char *scheme, const char *host)
{
    size_t sl = strlen(scheme);
    if (!origin || !host || !host[0])
        return 0;
    if (strncasecmp(origin, scheme, sl) != 0 || strncmp(origin + sl, "://", 3) != 0)
        return 0;
    const char *o = origin + sl + 3;
    if (strcasecmp(o, host) == 0)
        return 1;
    /* the default port may be left out of one and written in the other */
    const char *def = strcasecmp(scheme, "https") == 0 ? ":443" : ":80";
    size_t ol = strlen(o), hl = strlen(host), dl = strlen(def);
    if (ol + dl == hl && strncasecmp(o, host, ol) == 0 && strcmp(host + ol, def) == 0)
        return 1;
    return hl + dl == ol && strncasecmp(o, host, hl) == 0 && strcmp(o + hl, def) == 0;
}
