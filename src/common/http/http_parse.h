/*
 * http_parse.h: HTTP/1.1 request-head parsing (RFC 9112), I/O-free.
 *
 * Bytes in, struct out. The parser never logs and never allocates; it
 * returns an error code and a static reason string the caller logs with its
 * session context. It keeps no state between calls: call it again on the
 * grown buffer until it returns non-zero.
 *
 * Ownership: every pointer in lc_http_request_t points into the caller's
 * buffer and is valid exactly as long as that buffer is. The struct itself
 * belongs to the caller (usually on its stack or in its session).
 */
#ifndef LC_COMMON_HTTP_HTTP_PARSE_H
#define LC_COMMON_HTTP_HTTP_PARSE_H

#include <stddef.h>

#define LC_HTTP_MAX_HEADERS 64

/* Return codes of lc_http_parse_request(); suggested responses in brackets. */
enum {
    LC_HTTP_EBAD = -1,         /* malformed head [400] */
    LC_HTTP_ETOOBIG = -2,      /* no complete head within max_head bytes,
                                  or more than LC_HTTP_MAX_HEADERS fields [431] */
    LC_HTTP_EUNSUPPORTED = -3  /* Transfer-Encoding: chunked [501],
                                  HTTP version other than 1.0/1.1 [505] */
};

typedef struct {
    const char *name;
    size_t name_len;
    const char *value;     /* leading and trailing OWS removed */
    size_t value_len;
} lc_http_header_t;

typedef struct {
    const char *method;
    size_t method_len;
    const char *target;    /* request-target as sent, not decoded */
    size_t target_len;
    int version_minor;     /* 0 or 1 (HTTP/1.x only) */
    lc_http_header_t headers[LC_HTTP_MAX_HEADERS];
    size_t nheaders;
    size_t head_len;       /* bytes of the head incl. the final empty line */
    long long content_length;  /* -1 if absent */
} lc_http_request_t;

/*
 * Parse buf[0..len). Returns head_len (> 0) when a complete, valid head is
 * present; the body, if any, starts at buf + head_len. Returns 0 when more
 * bytes are needed, < 0 on error (LC_HTTP_E*). *err gets a short static
 * reason on error and NULL otherwise (err may be NULL). req is meaningful
 * only when > 0.
 *
 * Strict on purpose: method and header names are tokens; the target has no
 * CTL or space; the version is exactly "HTTP/1.0" or "HTTP/1.1"; single SP
 * separators; no obs-fold; no whitespace before a header's colon; Content-
 * Length is plain digits and appears at most once; any Transfer-Encoding is
 * refused; HTTP/1.1 needs exactly one Host (RFC 9112 section 3.2). CRLF and
 * bare LF line ends are both accepted, and empty lines before the request
 * line are skipped (RFC 9112 section 2.2). max_head above INT_MAX is treated
 * as INT_MAX so that the result fits the return type.
 */
int lc_http_parse_request(const char *buf, size_t len, size_t max_head,
                          lc_http_request_t *req, const char **err);

/* First header named name (ASCII case-insensitive), or NULL. */
const lc_http_header_t *lc_http_find_header(const lc_http_request_t *req,
                                            const char *name);

/*
 * 1 if h's value, read as a comma-separated list, holds token (ASCII
 * case-insensitive, OWS around elements ignored), e.g. "keep-alive, Upgrade"
 * holds "upgrade". 0 otherwise, and when h is NULL.
 */
int lc_http_header_has_token(const lc_http_header_t *h, const char *token);

#endif
