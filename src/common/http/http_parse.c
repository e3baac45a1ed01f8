/*
 * http_parse.c: turns the bytes of an HTTP/1.x request head into an
 * lc_http_request_t, plus two header-lookup helpers.
 *
 * Owns: request-line and header-field syntax, and the framing headers that
 * decide where the head ends and the body begins (Content-Length,
 * Transfer-Encoding) and Host. Does not own: sockets, bodies, responses,
 * URL decoding, or what a method or target means.
 *
 * Invariant: the parser is stateless. Each call first finds the empty line
 * that ends the head (a memchr scan, cheap enough to repeat as bytes trickle
 * in) and only then validates the head, once. So the caller's only state is
 * its buffer, and the result for a given buffer never depends on how it was
 * split across reads.
 */
#include "common/http/http_parse.h"

#include <limits.h>
#include <string.h>

/* Every return of lc_http_parse_request() goes through here, so *err is
 * always defined: a reason on error, NULL otherwise. */
static int set_err(const char **err, int rc, const char *why)
{
    if (err != NULL)
        *err = why;
    return rc;
}

/* tchar from RFC 9110 section 5.6.2. */
static int is_tchar(unsigned char c)
{
    if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
        return 1;
    return c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

static int is_ows(unsigned char c)
{
    return c == ' ' || c == '\t';
}

/* Anything but CTL, DEL and space. Bytes >= 0x80 are let through (they
 * should be percent-encoded, but rejecting them buys no safety). */
static int is_target_char(unsigned char c)
{
    return c > 0x20 && c != 0x7f;
}

/* field-vchar, SP and HTAB; obs-text (>= 0x80) is allowed by RFC 9110. */
static int is_field_char(unsigned char c)
{
    return c == '\t' || (c >= 0x20 && c != 0x7f);
}

static int ascii_lower(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') ? c + ('a' - 'A') : c;
}

static int ascii_caseeq(const char *a, const char *b, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (ascii_lower((unsigned char)a[i]) != ascii_lower((unsigned char)b[i]))
            return 0;
    }
    return 1;
}

static int header_is(const lc_http_header_t *h, const char *name)
{
    size_t n = strlen(name);
    return h->name_len == n && ascii_caseeq(h->name, name, n);
}

/*
 * Finds the head in buf[0..lim) with lim = min(len, max_head): skips empty
 * lines before the request line (*start), then stops after the first empty
 * line (*head_len). Returns 1 when found, else 0 or LC_HTTP_ETOOBIG.
 */
static int find_head(const char *buf, size_t len, size_t max_head,
                     size_t *start, size_t *head_len)
{
    size_t lim = len < max_head ? len : max_head;
    size_t i = 0;

    for (;;) {
        if (i < lim && buf[i] == '\n')
            i += 1;
        else if (i + 1 < lim && buf[i] == '\r' && buf[i + 1] == '\n')
            i += 2;
        else
            break;
    }
    *start = i;
    for (;;) {
        const char *nl = memchr(buf + i, '\n', lim - i);
        if (nl == NULL)
            break;
        i = (size_t)(nl - buf) + 1;
        if (i < lim && buf[i] == '\n') {
            *head_len = i + 1;
            return 1;
        }
        if (i + 1 < lim && buf[i] == '\r' && buf[i + 1] == '\n') {
            *head_len = i + 2;
            return 1;
        }
    }
    return len >= max_head ? LC_HTTP_ETOOBIG : 0;
}

/* Next line of the head at *pos, without its LF or CRLF; find_head()
 * guarantees the LF is there. */
static size_t next_line(const char *buf, size_t *pos, size_t end, const char **line)
{
    const char *s = buf + *pos;
    const char *nl = memchr(s, '\n', end - *pos);
    size_t n = (size_t)(nl - s);

    *pos += n + 1;
    if (n > 0 && s[n - 1] == '\r')
        n--;
    *line = s;
    return n;
}

static int is_digit_str(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return 0;
    }
    return n > 0;
}

static int parse_version(const char *v, size_t n, lc_http_request_t *req, const char **err)
{
    if (n == 8 && memcmp(v, "HTTP/1.", 7) == 0 && (v[7] == '0' || v[7] == '1')) {
        req->version_minor = v[7] - '0';
        return 0;
    }
    /* Well-formed HTTP-version but not ours ("HTTP/2.0" as in the h2
     * preface, "HTTP/1.2"): 505, not 400, so the client can tell. */
    if (n == 8 && memcmp(v, "HTTP/", 5) == 0 && is_digit_str(v + 5, 1) && v[6] == '.'
        && is_digit_str(v + 7, 1))
        return set_err(err, LC_HTTP_EUNSUPPORTED, "unsupported HTTP version");
    return set_err(err, LC_HTTP_EBAD, "bad HTTP version");
}

/* request-line = method SP request-target SP HTTP-version, one SP each. */
static int parse_request_line(const char *s, size_t n, lc_http_request_t *req,
                              const char **err)
{
    size_t i = 0, t;

    while (i < n && is_tchar((unsigned char)s[i]))
        i++;
    if (i == 0 || i == n || s[i] != ' ')
        return set_err(err, LC_HTTP_EBAD, "bad method");
    req->method = s;
    req->method_len = i;

    t = ++i;
    while (i < n && is_target_char((unsigned char)s[i]))
        i++;
    if (i == t || i == n || s[i] != ' ')
        return set_err(err, LC_HTTP_EBAD, "bad request-target");
    req->target = s + t;
    req->target_len = i - t;

    return parse_version(s + i + 1, n - i - 1, req, err);
}

/* field-line = field-name ":" OWS field-value OWS; n > 0. */
static int parse_header_line(const char *s, size_t n, lc_http_header_t *h, const char **err)
{
    size_t i = 0, vs, ve;

    if (is_ows((unsigned char)s[0]))
        return set_err(err, LC_HTTP_EBAD, "obsolete line folding");
    while (i < n && is_tchar((unsigned char)s[i]))
        i++;
    /* "Name : v" is refused, not trimmed: proxies disagree on it (smuggling). */
    if (i == 0 || i == n || s[i] != ':')
        return set_err(err, LC_HTTP_EBAD, "bad header name");
    h->name = s;
    h->name_len = i;

    vs = i + 1;
    while (vs < n && is_ows((unsigned char)s[vs]))
        vs++;
    ve = n;
    while (ve > vs && is_ows((unsigned char)s[ve - 1]))
        ve--;
    for (i = vs; i < ve; i++) {
        if (!is_field_char((unsigned char)s[i]))
            return set_err(err, LC_HTTP_EBAD, "bad header value");
    }
    h->value = s + vs;
    h->value_len = ve - vs;
    return 0;
}

static int parse_content_length(const lc_http_header_t *h, long long *out)
{
    long long v = 0;

    if (!is_digit_str(h->value, h->value_len))
        return -1;
    for (size_t i = 0; i < h->value_len; i++) {
        int d = h->value[i] - '0';
        if (v > (LLONG_MAX - d) / 10)
            return -1;
        v = v * 10 + d;
    }
    *out = v;
    return 0;
}

/*
 * The headers that decide message framing. Anything ambiguous is an error,
 * never a guess: a front proxy that guessed differently would let a second
 * request hide in this one's body.
 */
static int check_framing(lc_http_request_t *req, const char **err)
{
    int hosts = 0;

    for (size_t i = 0; i < req->nheaders; i++) {
        const lc_http_header_t *h = &req->headers[i];

        if (header_is(h, "Content-Length")) {
            if (req->content_length >= 0)
                return set_err(err, LC_HTTP_EBAD, "duplicate Content-Length");
            if (parse_content_length(h, &req->content_length) < 0)
                return set_err(err, LC_HTTP_EBAD, "bad Content-Length");
        } else if (header_is(h, "Transfer-Encoding")) {
            /* In a request, chunked must be the last coding (RFC 9112
             * section 6.3), so a Transfer-Encoding without it is malformed. */
            if (lc_http_header_has_token(h, "chunked"))
                return set_err(err, LC_HTTP_EUNSUPPORTED, "chunked request body");
            return set_err(err, LC_HTTP_EBAD, "bad Transfer-Encoding");
        } else if (header_is(h, "Host")) {
            hosts++;
        }
    }
    if (hosts > 1)
        return set_err(err, LC_HTTP_EBAD, "duplicate Host");
    if (hosts == 0 && req->version_minor == 1)
        return set_err(err, LC_HTTP_EBAD, "missing Host");
    return 0;
}

int lc_http_parse_request(const char *buf, size_t len, size_t max_head,
                          lc_http_request_t *req, const char **err)
{
    size_t start = 0, head_len = 0, pos, n;
    const char *line;
    int rc;

    req->nheaders = 0;
    req->head_len = 0;
    req->content_length = -1;
    if (max_head > INT_MAX)
        max_head = INT_MAX;

    rc = find_head(buf, len, max_head, &start, &head_len);
    if (rc == 0)
        return set_err(err, 0, NULL);
    if (rc < 0)
        return set_err(err, rc, "request head too large");

    pos = start;
    n = next_line(buf, &pos, head_len, &line);
    rc = parse_request_line(line, n, req, err);
    if (rc < 0)
        return rc;

    while ((n = next_line(buf, &pos, head_len, &line)) > 0) {
        if (req->nheaders == LC_HTTP_MAX_HEADERS)
            return set_err(err, LC_HTTP_ETOOBIG, "too many header fields");
        rc = parse_header_line(line, n, &req->headers[req->nheaders], err);
        if (rc < 0)
            return rc;
        req->nheaders++;
    }

    rc = check_framing(req, err);
    if (rc < 0)
        return rc;
    req->head_len = head_len;
    return set_err(err, (int)head_len, NULL);
}

const lc_http_header_t *lc_http_find_header(const lc_http_request_t *req, const char *name)
{
    for (size_t i = 0; i < req->nheaders; i++) {
        if (header_is(&req->headers[i], name))
            return &req->headers[i];
    }
    return NULL;
}

int lc_http_header_has_token(const lc_http_header_t *h, const char *token)
{
    size_t tlen = strlen(token), i = 0;

    if (h == NULL || tlen == 0)
        return 0;
    while (i <= h->value_len) {
        size_t a = i, b = i;

        while (b < h->value_len && h->value[b] != ',')
            b++;
        i = b + 1;
        while (a < b && is_ows((unsigned char)h->value[a]))
            a++;
        while (b > a && is_ows((unsigned char)h->value[b - 1]))
            b--;
        if (b - a == tlen && ascii_caseeq(h->value + a, token, tlen))
            return 1;
    }
    return 0;
}
