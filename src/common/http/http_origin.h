/*
 * http_origin.h: the header checks that keep a web page in a browser on
 * the host from driving the control API (SPEC 9). I/O-free, never logs.
 *
 * Why these three are enough without a token:
 * - A cross-site page can make a browser POST only a "simple" request
 *   without asking first: Content-Type text/plain, form-urlencoded or
 *   multipart. An application/json POST to another origin needs a CORS
 *   preflight (OPTIONS), which we never approve. So requiring
 *   application/json stops every cross-site POST, and refusing a foreign
 *   Origin stops any that a browser bug or a plugin might let through.
 * - DNS rebinding makes the attacker's name resolve to 127.0.0.1: then the
 *   request is same-origin to the browser (Origin and Host both name the
 *   attacker's host) and passes both checks above. Only the Host header
 *   shows it: with no token set, Host must be an IP literal, "localhost"
 *   or this machine's name, which a rebinding page cannot send.
 */
#ifndef LC_COMMON_HTTP_HTTP_ORIGIN_H
#define LC_COMMON_HTTP_HTTP_ORIGIN_H

/* 1 if the media type of a Content-Type value (parameters after ';'
 * ignored, case-insensitive, spaces trimmed) is want, else 0. */
int lc_http_origin_media_type_is(const char *content_type, const char *want);

/* 1 if host (a Host header: "name", "name:port", "1.2.3.4:port",
 * "[::1]:port") is an IP literal, "localhost" (or a name under
 * ".localhost"), or equals hostname (this machine's name, may be NULL). */
int lc_http_origin_host_is_local(const char *host, const char *hostname);

/* 1 if origin (an Origin header) is scheme "://" host, the request's own
 * origin, compared case-insensitively. "null" and anything else: 0. */
int lc_http_origin_is_same(const char *origin, const char *scheme, const char *host);

#endif
