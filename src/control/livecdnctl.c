/*
 * livecdnctl.c: the whole livecdnctl program (SPEC 8), in one file.
 *
 * One command line becomes one REST call to the control process:
 * POST /rest-api/<object>/<verb> with a JSON body, over plain HTTP/1.1, one
 * connection per call (Connection: close), one 15 s deadline for all of it
 * (resolve excepted). The JSON answer is printed as an aligned table or one
 * line.
 *
 * Owns: option parsing; the command table, which drives dispatch, usage and
 * the table printers; a minimal HTTP/1.1 client (Content-Length, chunked or
 * read-until-close bodies, 16 MiB cap); the table layout. Does not own
 * anything of the server and links nothing of src/common (version.h is
 * header-only): only libc and yajl.
 *
 * The one invariant: functions return their error (a malloc'd message in
 * *err, or NULL when even that allocation failed) and never print it; only
 * main() prints errors and picks the exit status (0 ok, 1 failure or error
 * answer, 2 usage). Bytes that come from the server or the user never reach
 * the terminal raw: control characters are printed as '?'.
 */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <netdb.h>
#include <poll.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <yajl/yajl_gen.h>
#include <yajl/yajl_tree.h>

#include "common/core/version.h" /* header only: one version for both binaries */
#include "common/json/json_guard.h"  /* yajl_tree_free() recurses once per level */

#define LC_CTL_VERSION       LC_VERSION
#define LC_CTL_DEFAULT_ADDR  "127.0.0.1:8081"
#define LC_CTL_DEFAULT_PORT  "8081"
#define LC_CTL_TIMEOUT_MS    15000
#define LC_CTL_MAX_ANSWER    (16u * 1024 * 1024) /* head + body, bytes */
#define LC_CTL_MAX_HEAD      (64u * 1024)
#define LC_CTL_MAX_COLS      12

/* Return codes of every fallible function here; main() maps them to exit codes. */
enum {
    LC_CTL_OK = 0,
    LC_CTL_ERR = -1,   /* exit 1: cannot connect, error answer, bad answer */
    LC_CTL_EUSAGE = -2 /* exit 2: bad command line */
};

enum { LC_CTL_EXIT_OK = 0, LC_CTL_EXIT_FAIL = 1, LC_CTL_EXIT_USAGE = 2 };

/* How a column turns its JSON value into text. */
typedef enum {
    LC_CTL_CELL_PLAIN,       /* numbers as integers, strings as is, missing "-" */
    LC_CTL_CELL_WORKER_ONLY, /* as PLAIN on rows whose "role" is "worker", else "-" */
    LC_CTL_CELL_SECONDS,     /* a number followed by "s" */
    LC_CTL_CELL_SELF         /* as PLAIN, followed by "(self)" on rows whose "self" is true */
} lc_ctl_cell_fmt_t;

typedef struct {
    const char *title;
    const char *key;
    lc_ctl_cell_fmt_t fmt;
} lc_ctl_col_t;

typedef struct lc_ctl_cmd_s lc_ctl_cmd_t;

/* Prints a 2xx answer (tree may be NULL for an empty body). */
typedef int (*lc_ctl_print_pt)(const lc_ctl_cmd_t *cmd, yajl_val tree, const char *arg,
                               FILE *out, char **err);

struct lc_ctl_cmd_s {
    const char *verb;      /* first word: "show", "reload", "terminate" */
    const char *object;    /* second word when it is fixed ("workers"), else NULL */
    const char *arg_name;  /* name of the free second word ("NAME"), else NULL */
    const char *path;      /* REST call below /rest-api/ */
    const char *help;
    lc_ctl_print_pt print;
    const char *array_key; /* tables: the answer's array of row objects, NULL: the answer is one */
    const lc_ctl_col_t *cols;
    size_t ncols;
};

typedef struct {
    char *host;      /* without brackets */
    char *port;
    char *authority; /* "host:port" or "[v6]:port": Host header and messages */
} lc_ctl_target_t;

typedef struct {
    int status;
    const char *reason; /* into the answer buffer, reason_len bytes */
    int reason_len;
    long long content_length; /* -1: none */
    int chunked;
    size_t head_len; /* up to and including the empty line */
} lc_ctl_head_t;

typedef struct {
    char *buf; /* whole answer as received; owns the memory */
    lc_ctl_head_t head;
    char *body; /* into buf, de-chunked, NUL-terminated */
    size_t body_len;
} lc_ctl_answer_t;

/* ---- small helpers ------------------------------------------------------ */

static char *ctl_vstrfmt(const char *fmt, va_list ap)
{
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap2);
    va_end(ap2);
    if (n < 0)
        return NULL;
    char *s = malloc((size_t)n + 1);
    if (s)
        vsnprintf(s, (size_t)n + 1, fmt, ap);
    return s;
}

__attribute__((format(printf, 1, 2))) static char *ctl_strfmt(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *s = ctl_vstrfmt(fmt, ap);
    va_end(ap);
    return s;
}

/* Sets *err (replacing an earlier one) and returns rc, for "return ctl_fail(...)". */
__attribute__((format(printf, 3, 4))) static int ctl_fail(char **err, int rc, const char *fmt, ...)
{
    va_list ap;
    free(*err);
    va_start(ap, fmt);
    *err = ctl_vstrfmt(fmt, ap);
    va_end(ap);
    return rc;
}

static int ctl_oom(char **err)
{
    return ctl_fail(err, LC_CTL_ERR, "out of memory");
}

/* Writes s with control characters replaced, so no answer can drive the terminal. */
static void ctl_put_clean(FILE *out, const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        fputc(c < 0x20 || c == 0x7f ? '?' : c, out);
    }
}

/* Columns a UTF-8 string takes, counting one per code point (no wide glyphs). */
static size_t ctl_text_width(const char *s)
{
    size_t w = 0;
    for (; *s; s++)
        if (((unsigned char)*s & 0xc0) != 0x80)
            w++;
    return w;
}

static int64_t ctl_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Waits for events on fd until deadline. Returns 0, ETIMEDOUT or an errno. */
static int ctl_wait(int fd, short events, int64_t deadline)
{
    for (;;) {
        struct pollfd pfd = { .fd = fd, .events = events };
        int64_t left = deadline - ctl_now_ms();
        if (left <= 0)
            return ETIMEDOUT;
        int n = poll(&pfd, 1, (int)left);
        if (n > 0)
            return 0; /* POLLERR/POLLHUP included: the next call reports them */
        if (n < 0 && errno != EINTR)
            return errno;
    }
}

/* ---- address ------------------------------------------------------------ */

static void ctl_target_free(lc_ctl_target_t *t)
{
    free(t->host);
    free(t->port);
    free(t->authority);
}

/*
 * Splits "HOST:PORT", "[V6]:PORT", "HOST" or a bare IPv6 literal; a missing
 * port is 8081. Resolving is ctl_connect()'s job.
 */
static int ctl_target_parse(const char *addr, lc_ctl_target_t *t, char **err)
{
    const char *host = addr, *port = NULL;
    size_t hlen;

    if (addr[0] == '[') {
        const char *close = strchr(addr, ']');
        if (!close || (close[1] != '\0' && close[1] != ':'))
            return ctl_fail(err, LC_CTL_EUSAGE,
                            "bad address \"%s\": expected HOST:PORT or [IPV6]:PORT", addr);
        host = addr + 1;
        hlen = (size_t)(close - host);
        if (close[1] == ':')
            port = close + 2;
    } else {
        const char *colon = strchr(addr, ':');
        if (colon && !strchr(colon + 1, ':')) {
            hlen = (size_t)(colon - addr);
            port = colon + 1;
        } else {
            hlen = strlen(addr); /* no port, or a bare IPv6 literal */
        }
    }
    if (hlen == 0)
        return ctl_fail(err, LC_CTL_EUSAGE, "bad address \"%s\": no host", addr);
    if (port) {
        size_t n = strlen(port);
        if (n == 0 || n > 5 || strspn(port, "0123456789") != n || atoi(port) < 1 || atoi(port) > 65535)
            return ctl_fail(err, LC_CTL_EUSAGE, "bad address \"%s\": port must be 1-65535", addr);
    } else {
        port = LC_CTL_DEFAULT_PORT;
    }
    t->host = strndup(host, hlen);
    t->port = strdup(port);
    if (!t->host || !t->port)
        return ctl_oom(err);
    t->authority = ctl_strfmt(strchr(t->host, ':') ? "[%s]:%s" : "%s:%s", t->host, t->port);
    if (!t->authority)
        return ctl_oom(err);
    return LC_CTL_OK;
}

/* ---- HTTP client -------------------------------------------------------- */

/* Returns a connected non-blocking socket, or -1 with *err. */
static int ctl_connect(const lc_ctl_target_t *t, int64_t deadline, char **err)
{
    struct addrinfo hints, *res = NULL;
    int last = ECONNREFUSED;

    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    int rc = getaddrinfo(t->host, t->port, &hints, &res);
    if (rc != 0) {
        ctl_fail(err, LC_CTL_ERR, "cannot resolve %s: %s (see -a)", t->authority,
                 rc == EAI_SYSTEM ? strerror(errno) : gai_strerror(rc));
        return -1;
    }
    for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
        int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
                        ai->ai_protocol);
        if (fd < 0) {
            last = errno;
            continue;
        }
        if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0) {
            freeaddrinfo(res);
            return fd;
        }
        last = errno;
        if (last == EINPROGRESS) {
            last = ctl_wait(fd, POLLOUT, deadline);
            if (last == 0) {
                socklen_t len = sizeof(last);
                if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &last, &len) != 0)
                    last = errno;
                if (last == 0) {
                    freeaddrinfo(res);
                    return fd;
                }
            }
        }
        close(fd);
        if (last == ETIMEDOUT)
            break; /* the deadline is shared: nothing left for the next address */
    }
    freeaddrinfo(res);
    ctl_fail(err, LC_CTL_ERR, "cannot connect to %s: %s (is livecdn running? see -a)",
             t->authority, strerror(last));
    return -1;
}

/* Returns 0 or an errno (ETIMEDOUT at the deadline). */
static int ctl_send_all(int fd, const char *buf, size_t len, int64_t deadline)
{
    while (len > 0) {
        ssize_t n = send(fd, buf, len, MSG_NOSIGNAL);
        if (n > 0) {
            buf += n;
            len -= (size_t)n;
        } else if (n < 0 && errno == EINTR) {
            continue;
        } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            int rc = ctl_wait(fd, POLLOUT, deadline);
            if (rc != 0)
                return rc;
        } else {
            return n < 0 ? errno : EPIPE;
        }
    }
    return 0;
}

/*
 * Parses a response head (status line and fields) of head_len bytes, which
 * ends with the empty line. I/O-free; returns 0, or -1 with a static *why.
 */
static int ctl_http_parse_head(const char *buf, size_t head_len, lc_ctl_head_t *h,
                               const char **why)
{
    const char *p = buf, *end = buf + head_len - 2; /* end: the final CRLF */

    memset(h, 0, sizeof(*h));
    h->content_length = -1;
    h->head_len = head_len;
    if (head_len < 14 || memcmp(p, "HTTP/1.", 7) != 0 || !isdigit((unsigned char)p[7]) ||
        p[8] != ' ' || !isdigit((unsigned char)p[9]) || !isdigit((unsigned char)p[10]) ||
        !isdigit((unsigned char)p[11]) || (p[12] != ' ' && p[12] != '\r')) {
        *why = "not an HTTP/1.x status line";
        return -1;
    }
    h->status = (p[9] - '0') * 100 + (p[10] - '0') * 10 + (p[11] - '0');
    const char *eol = memmem(p, (size_t)(end + 2 - p), "\r\n", 2);
    h->reason = p[12] == ' ' ? p + 13 : p + 12;
    h->reason_len = (int)(eol - h->reason);
    if (h->reason_len < 0)
        h->reason_len = 0;

    for (p = eol + 2; p < end; p = eol + 2) {
        eol = memmem(p, (size_t)(end + 2 - p), "\r\n", 2);
        const char *colon = memchr(p, ':', (size_t)(eol - p));
        if (!colon || colon == p || *p == ' ' || *p == '\t') {
            *why = "malformed header field";
            return -1;
        }
        size_t nlen = (size_t)(colon - p);
        const char *v = colon + 1, *ve = eol;
        while (v < ve && (*v == ' ' || *v == '\t'))
            v++;
        while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t'))
            ve--;
        size_t vlen = (size_t)(ve - v);

        if (nlen == 14 && strncasecmp(p, "Content-Length", 14) == 0) {
            long long cl = 0;
            if (vlen == 0) {
                *why = "empty Content-Length";
                return -1;
            }
            for (const char *d = v; d < ve; d++) {
                if (!isdigit((unsigned char)*d)) {
                    *why = "malformed Content-Length";
                    return -1;
                }
                cl = cl * 10 + (*d - '0');
                if (cl > (long long)LC_CTL_MAX_ANSWER) {
                    *why = "answer larger than 16 MiB";
                    return -1;
                }
            }
            if (h->content_length >= 0 && h->content_length != cl) {
                *why = "conflicting Content-Length fields";
                return -1;
            }
            h->content_length = cl;
        } else if (nlen == 17 && strncasecmp(p, "Transfer-Encoding", 17) == 0) {
            /* the only coding we know; a server that compresses is not ours */
            if (vlen != 7 || strncasecmp(v, "chunked", 7) != 0) {
                *why = "unsupported Transfer-Encoding";
                return -1;
            }
            h->chunked = 1;
        }
    }
    if (h->chunked)
        h->content_length = -1; /* RFC 9112 6.3: Transfer-Encoding wins */
    if (h->status == 204 || h->status == 304)
        h->content_length = 0;
    return 0;
}

/*
 * Decodes a chunked body (RFC 9112 7.1) of len bytes. With dst NULL only
 * checks; else writes the data to dst, which may be src. Returns 1 when
 * complete (*out_len set), 0 when more bytes are needed, -1 when malformed.
 */
static int ctl_http_dechunk(const char *src, size_t len, char *dst, size_t *out_len)
{
    size_t pos = 0, out = 0;

    for (;;) {
        size_t size = 0, digits = 0;
        while (pos < len && isxdigit((unsigned char)src[pos])) {
            int c = tolower((unsigned char)src[pos]);
            size = size * 16 + (size_t)(c <= '9' ? c - '0' : c - 'a' + 10);
            if (size > LC_CTL_MAX_ANSWER)
                return -1;
            pos++;
            digits++;
        }
        if (pos == len)
            return 0;
        if (digits == 0)
            return -1;
        const char *eol = memmem(src + pos, len - pos, "\r\n", 2); /* skips extensions */
        if (!eol)
            return 0;
        pos = (size_t)(eol - src) + 2;
        if (size == 0) { /* trailer fields, then the empty line */
            for (;;) {
                eol = memmem(src + pos, len - pos, "\r\n", 2);
                if (!eol)
                    return 0;
                size_t l = (size_t)(eol - (src + pos));
                pos += l + 2;
                if (l == 0) {
                    *out_len = out;
                    return 1;
                }
            }
        }
        if (len - pos < size + 2)
            return 0;
        if (src[pos + size] != '\r' || src[pos + size + 1] != '\n')
            return -1;
        if (dst)
            memmove(dst + out, src + pos, size);
        out += size;
        pos += size + 2;
    }
}

static void ctl_answer_free(lc_ctl_answer_t *a)
{
    free(a->buf);
    memset(a, 0, sizeof(*a));
}

/* Reads one whole answer: until its body is complete or the server closes. */
static int ctl_http_read(int fd, int64_t deadline, const char *who, lc_ctl_answer_t *a,
                         char **err)
{
    size_t cap = 16384, len = 0;
    char *buf = malloc(cap);
    int have_head = 0, rc;
    const char *why;

    if (!buf)
        return ctl_oom(err);
    a->buf = buf;
    for (;;) {
        if (cap - len < 2) {
            if (cap >= LC_CTL_MAX_ANSWER + 2)
                return ctl_fail(err, LC_CTL_ERR, "bad answer from server: answer larger than 16 MiB");
            size_t ncap = cap * 2 > LC_CTL_MAX_ANSWER + 2 ? LC_CTL_MAX_ANSWER + 2 : cap * 2;
            char *nbuf = realloc(buf, ncap);
            if (!nbuf)
                return ctl_oom(err);
            a->buf = buf = nbuf;
            cap = ncap;
        }
        ssize_t n = recv(fd, buf + len, cap - len - 1, 0);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno != EAGAIN && errno != EWOULDBLOCK)
                return ctl_fail(err, LC_CTL_ERR, "cannot read the answer from %s: %s", who,
                                strerror(errno));
            rc = ctl_wait(fd, POLLIN, deadline);
            if (rc == ETIMEDOUT)
                return ctl_fail(err, LC_CTL_ERR, "no answer from %s within %d s", who,
                                LC_CTL_TIMEOUT_MS / 1000);
            if (rc != 0)
                return ctl_fail(err, LC_CTL_ERR, "cannot read the answer from %s: %s", who,
                                strerror(rc));
            continue;
        }
        if (n == 0)
            break; /* the server closed: the answer is what we have */
        size_t prev = len;
        len += (size_t)n;
        if (len > LC_CTL_MAX_ANSWER)
            return ctl_fail(err, LC_CTL_ERR, "bad answer from server: answer larger than 16 MiB");
        if (!have_head) {
            /* fail fast on a port that speaks something else (and may never close) */
            if (memcmp(buf, "HTTP/", len < 5 ? len : 5) != 0)
                return ctl_fail(err, LC_CTL_ERR,
                                "bad answer from server: not HTTP (is %s the control port? see -a)",
                                who);
            size_t from = prev >= 3 ? prev - 3 : 0;
            const char *e = memmem(buf + from, len - from, "\r\n\r\n", 4);
            if (!e) {
                if (len > LC_CTL_MAX_HEAD)
                    return ctl_fail(err, LC_CTL_ERR, "bad answer from server: header larger than 64 KiB");
                continue;
            }
            if (ctl_http_parse_head(buf, (size_t)(e - buf) + 4, &a->head, &why) != 0)
                return ctl_fail(err, LC_CTL_ERR, "bad answer from server: %s", why);
            have_head = 1;
        }
        size_t got = len - a->head.head_len;
        size_t unused;
        if (a->head.content_length >= 0 && got >= (size_t)a->head.content_length)
            break;
        if (a->head.chunked && got >= 2 && memcmp(buf + len - 2, "\r\n", 2) == 0 &&
            ctl_http_dechunk(buf + a->head.head_len, got, NULL, &unused) == 1)
            break;
    }

    if (!have_head)
        return ctl_fail(err, LC_CTL_ERR, "bad answer from server: %s",
                        len == 0 ? "connection closed without an answer" : "incomplete HTTP header");
    a->body = buf + a->head.head_len;
    a->body_len = len - a->head.head_len;
    if (a->head.content_length >= 0) {
        if (a->body_len < (size_t)a->head.content_length)
            return ctl_fail(err, LC_CTL_ERR, "bad answer from server: truncated (%zu of %lld body bytes)",
                            a->body_len, a->head.content_length);
        a->body_len = (size_t)a->head.content_length;
    } else if (a->head.chunked) {
        rc = ctl_http_dechunk(a->body, a->body_len, a->body, &a->body_len);
        if (rc != 1)
            return ctl_fail(err, LC_CTL_ERR, "bad answer from server: %s chunked body",
                            rc == 0 ? "truncated" : "malformed");
    }
    a->body[a->body_len] = '\0'; /* within buf: head_len + body_len <= len < cap */
    return LC_CTL_OK;
}

/* One REST call: connect, send, read the whole answer, close. */
static int ctl_call(const lc_ctl_target_t *t, const char *token, const char *path,
                    const char *body, lc_ctl_answer_t *a, char **err)
{
    /* a reload is answered only once the master has started the new
     * generation (the server gives up after 15 s): wait a little longer so
     * the server's own answer, not our timeout, is what the user reads */
    int64_t deadline = ctl_now_ms() + LC_CTL_TIMEOUT_MS + (strcmp(path, "config/reload") == 0 ? 5000 : 0);
    char *auth = NULL, *req = NULL;
    int rc = LC_CTL_ERR;

    int fd = ctl_connect(t, deadline, err);
    if (fd < 0)
        return LC_CTL_ERR;
    if (token && token[0])
        auth = ctl_strfmt("Authorization: Bearer %s\r\n", token);
    req = ctl_strfmt("POST /rest-api/%s HTTP/1.1\r\n"
                     "Host: %s\r\n"
                     "User-Agent: livecdnctl/" LC_CTL_VERSION "\r\n"
                     "Accept: application/json\r\n"
                     "Content-Type: application/json\r\n"
                     "Content-Length: %zu\r\n"
                     "%s"
                     "Connection: close\r\n"
                     "\r\n"
                     "%s",
                     path, t->authority, strlen(body), auth ? auth : "", body);
    if (!req || (token && token[0] && !auth)) {
        rc = ctl_oom(err);
        goto done;
    }
    int e = ctl_send_all(fd, req, strlen(req), deadline);
    if (e == ETIMEDOUT) {
        rc = ctl_fail(err, LC_CTL_ERR, "cannot send the request to %s within %d s", t->authority,
                      LC_CTL_TIMEOUT_MS / 1000);
        goto done;
    }
    if (e != 0) {
        rc = ctl_fail(err, LC_CTL_ERR, "cannot send the request to %s: %s", t->authority,
                      strerror(e));
        goto done;
    }
    rc = ctl_http_read(fd, deadline, t->authority, a, err);
done:
    close(fd);
    free(req);
    free(auth);
    return rc;
}

/* ---- JSON --------------------------------------------------------------- */

static yajl_val ctl_json_get(yajl_val obj, const char *key)
{
    if (!YAJL_IS_OBJECT(obj))
        return NULL;
    for (size_t i = 0; i < obj->u.object.len; i++)
        if (strcmp(obj->u.object.keys[i], key) == 0)
            return obj->u.object.values[i];
    return NULL;
}

/*
 * Turns an answer into a JSON tree. 2xx: *tree is the body (NULL when the
 * body is empty). Anything else fails with the server's {"error"} text, or
 * with "bad answer from server" when there is none.
 */
static int ctl_answer_json(const lc_ctl_answer_t *a, yajl_val *tree, char **err)
{
    const lc_ctl_head_t *h = &a->head;
    int ok = h->status >= 200 && h->status <= 299;
    char ebuf[256] = "";
    const char *why = NULL;

    *tree = NULL;
    if (a->body_len == strspn(a->body, " \t\r\n") && memchr(a->body, '\0', a->body_len) == NULL) {
        if (ok)
            return LC_CTL_OK;
        why = "empty body";
    } else if (memchr(a->body, '\0', a->body_len)) {
        why = "NUL byte in the body";
    } else if ((why = lc_json_guard(a->body, a->body_len)) != NULL) {
        /* the same guard as every parse in the tree: see json_guard.h */
    } else {
        *tree = yajl_tree_parse(a->body, ebuf, sizeof(ebuf));
        if (!*tree) {
            ebuf[strcspn(ebuf, "\n")] = '\0'; /* yajl adds lines pointing at the spot */
            why = ebuf[0] ? ebuf : "invalid JSON";
        }
    }
    if (ok) {
        if (why)
            return ctl_fail(err, LC_CTL_ERR, "bad answer from server: %s", why);
        return LC_CTL_OK;
    }
    const char *msg = YAJL_GET_STRING(ctl_json_get(*tree, "error"));
    int rc;
    if (msg && msg[0])
        rc = ctl_fail(err, LC_CTL_ERR, "%s", msg);
    else
        rc = ctl_fail(err, LC_CTL_ERR, "bad answer from server: HTTP %d %.*s without a JSON error",
                      h->status, h->reason_len, h->reason);
    yajl_tree_free(*tree);
    *tree = NULL;
    return rc;
}

/* {"name":NAME} for terminate; yajl escapes, and refuses what is not UTF-8. */
static int ctl_body_with_name(const char *name, char **body, char **err)
{
    const unsigned char *out;
    size_t len;
    int rc = LC_CTL_OK;
    yajl_gen g = yajl_gen_alloc(NULL);

    if (!g)
        return ctl_oom(err);
    yajl_gen_config(g, yajl_gen_validate_utf8, 1);
    if (yajl_gen_map_open(g) != yajl_gen_status_ok ||
        yajl_gen_string(g, (const unsigned char *)"name", 4) != yajl_gen_status_ok ||
        yajl_gen_string(g, (const unsigned char *)name, strlen(name)) != yajl_gen_status_ok ||
        yajl_gen_map_close(g) != yajl_gen_status_ok ||
        yajl_gen_get_buf(g, &out, &len) != yajl_gen_status_ok) {
        rc = ctl_fail(err, LC_CTL_EUSAGE, "stream name is not valid UTF-8");
    } else if (!(*body = strndup((const char *)out, len))) {
        rc = ctl_oom(err);
    }
    yajl_gen_free(g);
    return rc;
}

/* ---- cells and tables --------------------------------------------------- */

static char *ctl_cell_number(yajl_val v)
{
    const char *raw = YAJL_GET_NUMBER(v);
    if (YAJL_IS_INTEGER(v) && !strpbrk(raw, ".eE"))
        return ctl_strfmt("%lld", YAJL_GET_INTEGER(v));
    if (YAJL_IS_DOUBLE(v)) {
        double d = YAJL_GET_DOUBLE(v);
        if (d > -9e18 && d < 9e18) /* round half away from zero, no libm */
            return ctl_strfmt("%lld", (long long)(d < 0 ? d - 0.5 : d + 0.5));
    }
    return strdup(raw); /* out of range: the digits as sent */
}

/* Text of one value: malloc'd, NULL only when out of memory. */
static char *ctl_cell_text(yajl_val v, int nested)
{
    if (!v)
        return strdup("-");
    switch (v->type) {
    case yajl_t_string:
        return strdup(v->u.string[0] ? v->u.string : "-");
    case yajl_t_number:
        return ctl_cell_number(v);
    case yajl_t_true:
        return strdup("true");
    case yajl_t_false:
        return strdup("false");
    case yajl_t_object:
        return strdup("{...}");
    case yajl_t_array:
        break;
    default:
        return strdup("-");
    }
    if (nested)
        return strdup("[...]");
    if (v->u.array.len == 0)
        return strdup("-");
    /* an array of scalars, e.g. "codecs": ["H264","opus"], joins with commas */
    char *s = NULL;
    for (size_t i = 0; i < v->u.array.len; i++) {
        char *item = ctl_cell_text(v->u.array.values[i], 1);
        char *next = item ? ctl_strfmt("%s%s%s", s ? s : "", s ? "," : "", item) : NULL;
        free(item);
        free(s);
        if (!next)
            return NULL;
        s = next;
    }
    return s;
}

static char *ctl_col_text(const lc_ctl_col_t *c, yajl_val row)
{
    yajl_val v = ctl_json_get(row, c->key);

    switch (c->fmt) {
    case LC_CTL_CELL_WORKER_ONLY: {
        const char *role = YAJL_GET_STRING(ctl_json_get(row, "role"));
        if (!role || strcmp(role, "worker") != 0)
            return strdup("-");
        break;
    }
    case LC_CTL_CELL_SECONDS:
        if (YAJL_IS_NUMBER(v)) {
            char *n = ctl_cell_number(v);
            char *s = n ? ctl_strfmt("%ss", n) : NULL;
            free(n);
            return s;
        }
        break;
    case LC_CTL_CELL_SELF:
        if (YAJL_IS_TRUE(ctl_json_get(row, "self"))) {
            /* no space: a row keeps as many words as the header has */
            char *text = ctl_cell_text(v, 0);
            char *s = text ? ctl_strfmt("%s(self)", text) : NULL;
            free(text);
            return s;
        }
        break;
    case LC_CTL_CELL_PLAIN:
        break;
    }
    return ctl_cell_text(v, 0);
}

/* Rows of text cells under fixed column titles; owns every cell. */
typedef struct {
    const lc_ctl_col_t *cols;
    size_t ncols, nrows, cap;
    char **cells; /* nrows * ncols, row-major */
} lc_ctl_table_t;

static void ctl_table_init(lc_ctl_table_t *t, const lc_ctl_col_t *cols, size_t ncols)
{
    memset(t, 0, sizeof(*t));
    t->cols = cols;
    t->ncols = ncols < LC_CTL_MAX_COLS ? ncols : LC_CTL_MAX_COLS;
}

static void ctl_table_free(lc_ctl_table_t *t)
{
    for (size_t i = 0; i < t->nrows * t->ncols; i++)
        free(t->cells[i]);
    free(t->cells);
    memset(t, 0, sizeof(*t));
}

/* Appends one row, its cells taken from the JSON object row. Returns the row or NULL (OOM). */
static char **ctl_table_add_object(lc_ctl_table_t *t, yajl_val row)
{
    if (t->nrows == t->cap) {
        size_t ncap = t->cap ? t->cap * 2 : 8;
        char **n = realloc(t->cells, ncap * t->ncols * sizeof(*n));
        if (!n)
            return NULL;
        t->cells = n;
        t->cap = ncap;
    }
    char **cells = t->cells + t->nrows * t->ncols;
    memset(cells, 0, t->ncols * sizeof(*cells));
    t->nrows++; /* counted now so that ctl_table_free() frees a half-filled row */
    for (size_t i = 0; i < t->ncols; i++)
        if (!(cells[i] = ctl_col_text(&t->cols[i], row)))
            return NULL;
    return cells;
}

/*
 * The generic printer's core: one row per object of arr, cells by the
 * table's (title, key) columns. An element that is not an object is a bad
 * answer; what names arr in that message (NULL: arr is the whole answer).
 */
static int ctl_table_add_array(lc_ctl_table_t *t, yajl_val arr, const char *what, char **err)
{
    for (size_t i = 0; i < arr->u.array.len; i++) {
        if (!YAJL_IS_OBJECT(arr->u.array.values[i]))
            return ctl_fail(err, LC_CTL_ERR, "bad answer from server: element %zu of %s%s%s is not an object",
                            i, what ? "\"" : "the answer", what ? what : "", what ? "\"" : "");
        if (!ctl_table_add_object(t, arr->u.array.values[i]))
            return ctl_oom(err);
    }
    return LC_CTL_OK;
}

static void ctl_table_print_row(const lc_ctl_table_t *t, const size_t *width,
                                const char *const *cells, FILE *out)
{
    for (size_t i = 0; i < t->ncols; i++) {
        ctl_put_clean(out, cells[i], strlen(cells[i]));
        if (i + 1 < t->ncols)
            fprintf(out, "%*s", (int)(width[i] - ctl_text_width(cells[i]) + 2), "");
    }
    fputc('\n', out);
}

/* Left-aligned columns, as wide as their widest cell, two spaces apart. */
static void ctl_table_print(const lc_ctl_table_t *t, FILE *out)
{
    size_t width[LC_CTL_MAX_COLS];
    const char *titles[LC_CTL_MAX_COLS];

    for (size_t i = 0; i < t->ncols; i++) {
        titles[i] = t->cols[i].title;
        width[i] = ctl_text_width(titles[i]);
    }
    for (size_t r = 0; r < t->nrows; r++)
        for (size_t i = 0; i < t->ncols; i++) {
            size_t w = ctl_text_width(t->cells[r * t->ncols + i]);
            if (w > width[i])
                width[i] = w;
        }
    ctl_table_print_row(t, width, titles, out);
    for (size_t r = 0; r < t->nrows; r++)
        ctl_table_print_row(t, width, (const char *const *)t->cells + r * t->ncols, out);
}

/* ---- commands ----------------------------------------------------------- */

/* The command's array of rows: the answer's array_key member, or the answer itself. */
static yajl_val ctl_answer_array(const lc_ctl_cmd_t *cmd, yajl_val tree, char **err)
{
    if (!cmd->array_key) {
        if (!YAJL_IS_ARRAY(tree))
            ctl_fail(err, LC_CTL_ERR, "bad answer from server: not a JSON array");
        return YAJL_IS_ARRAY(tree) ? tree : NULL;
    }
    yajl_val arr = ctl_json_get(tree, cmd->array_key);
    if (!YAJL_IS_ARRAY(arr))
        ctl_fail(err, LC_CTL_ERR, "bad answer from server: no \"%s\" array", cmd->array_key);
    return YAJL_IS_ARRAY(arr) ? arr : NULL;
}

/* show streams, cdn-nodes, cdn-routes, pushes: the command's array as a table. */
static int ctl_print_table(const lc_ctl_cmd_t *cmd, yajl_val tree, const char *arg, FILE *out,
                           char **err)
{
    lc_ctl_table_t t;
    (void)arg;

    yajl_val arr = ctl_answer_array(cmd, tree, err);
    if (!arr)
        return LC_CTL_ERR;
    ctl_table_init(&t, cmd->cols, cmd->ncols);
    int rc = ctl_table_add_array(&t, arr, cmd->array_key, err);
    if (rc == LC_CTL_OK)
        ctl_table_print(&t, out);
    ctl_table_free(&t);
    return rc;
}

/* show workers: the master as the first row (Role "master"), then every process. */
static int ctl_print_workers(const lc_ctl_cmd_t *cmd, yajl_val tree, const char *arg, FILE *out,
                             char **err)
{
    lc_ctl_table_t t;
    int rc = LC_CTL_OK;
    (void)arg;

    yajl_val procs = ctl_answer_array(cmd, tree, err);
    if (!procs)
        return LC_CTL_ERR;
    ctl_table_init(&t, cmd->cols, cmd->ncols);
    yajl_val master = ctl_json_get(tree, "master");
    if (YAJL_IS_OBJECT(master)) {
        char **row = ctl_table_add_object(&t, master);
        if (!row) {
            rc = ctl_oom(err);
            goto done;
        }
        for (size_t i = 0; i < t.ncols; i++) {
            if (strcmp(t.cols[i].key, "role") == 0) {
                free(row[i]);
                if (!(row[i] = strdup("master"))) {
                    rc = ctl_oom(err);
                    goto done;
                }
            }
        }
    }
    rc = ctl_table_add_array(&t, procs, cmd->array_key, err);
    if (rc == LC_CTL_OK)
        ctl_table_print(&t, out);
done:
    ctl_table_free(&t);
    return rc;
}

static int ctl_print_reload(const lc_ctl_cmd_t *cmd, yajl_val tree, const char *arg, FILE *out,
                            char **err)
{
    (void)cmd;
    (void)arg;
    const char *result = YAJL_GET_STRING(ctl_json_get(tree, "result"));
    if (!result || strcmp(result, "ok") != 0)
        return ctl_fail(err, LC_CTL_ERR, "bad answer from server: reload result is not \"ok\"");
    yajl_val gen = ctl_json_get(tree, "generation");
    if (!YAJL_IS_NUMBER(gen)) {
        fputs("configuration reloaded\n", out);
        return LC_CTL_OK;
    }
    char *n = ctl_cell_number(gen);
    if (!n)
        return ctl_oom(err);
    fputs("configuration reloaded, generation ", out);
    ctl_put_clean(out, n, strlen(n));
    fputc('\n', out);
    free(n);
    return LC_CTL_OK;
}

static int ctl_print_terminated(const lc_ctl_cmd_t *cmd, yajl_val tree, const char *arg,
                                FILE *out, char **err)
{
    (void)cmd;
    (void)tree;
    (void)err;
    fputs("stream ", out);
    ctl_put_clean(out, arg, strlen(arg));
    fputs(" terminated\n", out);
    return LC_CTL_OK;
}

#define LC_CTL_NCOLS(a) (sizeof(a) / sizeof((a)[0]))

static const lc_ctl_col_t lc_ctl_worker_cols[] = {
    { "Pid", "pid", LC_CTL_CELL_PLAIN },
    { "Role", "role", LC_CTL_CELL_PLAIN },
    { "Index", "index", LC_CTL_CELL_WORKER_ONLY },
    { "Generation", "generation", LC_CTL_CELL_PLAIN },
    { "State", "state", LC_CTL_CELL_PLAIN },
    { "Connections", "connections", LC_CTL_CELL_PLAIN },
    { "Streams", "streams", LC_CTL_CELL_PLAIN },
    { "UdpPorts", "udp_ports", LC_CTL_CELL_PLAIN },
    { "Uptime", "uptime", LC_CTL_CELL_SECONDS },
};

static const lc_ctl_col_t lc_ctl_stream_cols[] = {
    { "Name", "name", LC_CTL_CELL_PLAIN },
    { "Codecs", "codecs", LC_CTL_CELL_PLAIN },
    { "Bitrate", "bitrate", LC_CTL_CELL_PLAIN },
    { "Publisher", "publisher", LC_CTL_CELL_PLAIN },
    { "Players", "players", LC_CTL_CELL_PLAIN },
};

static const lc_ctl_col_t lc_ctl_node_cols[] = {
    { "Ip", "ip", LC_CTL_CELL_SELF },
    { "Role", "role", LC_CTL_CELL_PLAIN },
    { "State", "state", LC_CTL_CELL_PLAIN },
};

static const lc_ctl_col_t lc_ctl_route_cols[] = {
    { "Route", "route", LC_CTL_CELL_PLAIN },
    { "Stream", "stream", LC_CTL_CELL_PLAIN },
};

static const lc_ctl_col_t lc_ctl_push_cols[] = {
    { "Url", "url", LC_CTL_CELL_PLAIN },
    { "Stream", "stream", LC_CTL_CELL_PLAIN },
    { "Status", "status", LC_CTL_CELL_PLAIN },
    { "Reconnects", "reconnects", LC_CTL_CELL_PLAIN },
};

static const lc_ctl_col_t lc_ctl_transcoder_cols[] = {
    { "Source", "source", LC_CTL_CELL_PLAIN },
    { "Codec", "codec", LC_CTL_CELL_PLAIN },
    { "Worker", "worker", LC_CTL_CELL_PLAIN },
    { "CpuSeconds", "cpu_seconds", LC_CTL_CELL_PLAIN },
    { "Players", "players", LC_CTL_CELL_PLAIN },
    { "Uptime", "uptime", LC_CTL_CELL_SECONDS },
};

#define LC_CTL_TABLE(k, c) k, c, LC_CTL_NCOLS(c)

/* Every command, once: dispatch, usage and printing all read this table. */
static const lc_ctl_cmd_t lc_ctl_cmds[] = {
    { "show", "workers", NULL, "worker/show", "the master and every process it runs",
      ctl_print_workers, LC_CTL_TABLE("processes", lc_ctl_worker_cols) },
    { "show", "streams", NULL, "stream/find_all", "published streams",
      ctl_print_table, LC_CTL_TABLE("streams", lc_ctl_stream_cols) },
    { "show", "cdn-nodes", NULL, "cdn/show_nodes", "this node and the CDN nodes it knows",
      ctl_print_table, LC_CTL_TABLE(NULL, lc_ctl_node_cols) },
    { "show", "cdn-routes", NULL, "cdn/show_routes", "streams this node can pull, and their origin",
      ctl_print_table, LC_CTL_TABLE(NULL, lc_ctl_route_cols) },
    { "show", "pushes", NULL, "push/find_all", "pushes to external RTMP URLs",
      ctl_print_table, LC_CTL_TABLE("pushes", lc_ctl_push_cols) },
    { "show", "transcoders", NULL, "transcoder/find_all", "derived streams: transcodes made on this node",
      ctl_print_table, LC_CTL_TABLE("transcoders", lc_ctl_transcoder_cols) },
    { "reload", NULL, NULL, "config/reload", "reload the configuration, as livecdn -s reload does",
      ctl_print_reload, NULL, NULL, 0 },
    { "terminate", NULL, "NAME", "stream/terminate", "stop the published stream NAME",
      ctl_print_terminated, NULL, NULL, 0 },
};

static void ctl_usage(FILE *out)
{
    fputs("usage: livecdnctl [-a HOST:PORT] [-T TOKEN] COMMAND\n"
          "       livecdnctl -h | -v\n"
          "\n"
          "commands:\n",
          out);
    for (size_t i = 0; i < LC_CTL_NCOLS(lc_ctl_cmds); i++) {
        const lc_ctl_cmd_t *c = &lc_ctl_cmds[i];
        char *words = ctl_strfmt("%s%s%s", c->verb, c->object || c->arg_name ? " " : "",
                                 c->object ? c->object : c->arg_name ? c->arg_name : "");
        fprintf(out, "  %-17s %s (%s)\n", words ? words : c->verb, c->help, c->path);
        free(words);
    }
    fputs("\n"
          "options:\n"
          "  -a HOST:PORT   control address (default " LC_CTL_DEFAULT_ADDR ", or $LIVECDN_ADDR)\n"
          "  -T TOKEN       bearer token for http.token (or $LIVECDN_TOKEN)\n"
          "  -h, --help     this help\n"
          "  -v, --version  print the version\n",
          out);
}

/* The command named by words, or NULL; *arg is its free word, if it takes one. */
static const lc_ctl_cmd_t *ctl_cmd_find(int nwords, char **words, const char **arg)
{
    *arg = NULL;
    for (size_t i = 0; i < LC_CTL_NCOLS(lc_ctl_cmds); i++) {
        const lc_ctl_cmd_t *c = &lc_ctl_cmds[i];
        int want = c->object || c->arg_name ? 2 : 1;
        if (nwords != want || strcmp(words[0], c->verb) != 0)
            continue;
        if (c->object && strcmp(words[1], c->object) != 0)
            continue;
        if (c->arg_name)
            *arg = words[1];
        return c;
    }
    return NULL;
}

/* The first command whose verb is word, for a hint when the rest does not fit. */
static const lc_ctl_cmd_t *ctl_cmd_find_verb(const char *word)
{
    for (size_t i = 0; i < LC_CTL_NCOLS(lc_ctl_cmds); i++)
        if (strcmp(word, lc_ctl_cmds[i].verb) == 0)
            return &lc_ctl_cmds[i];
    return NULL;
}

static int ctl_run(const lc_ctl_cmd_t *cmd, const char *arg, const char *addr, const char *token,
                   char **err)
{
    lc_ctl_target_t t = { 0 };
    lc_ctl_answer_t a = { 0 };
    yajl_val tree = NULL;
    char *body = NULL;
    int rc;

    for (const char *p = token; p && *p; p++)
        if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f)
            return ctl_fail(err, LC_CTL_EUSAGE, "the token may hold only printable ASCII without spaces");
    if (arg && !arg[0])
        return ctl_fail(err, LC_CTL_EUSAGE, "empty %s", cmd->arg_name);
    rc = ctl_target_parse(addr, &t, err);
    if (rc != LC_CTL_OK)
        goto done;
    if (arg)
        rc = ctl_body_with_name(arg, &body, err);
    else if (!(body = strdup("{}")))
        rc = ctl_oom(err);
    if (rc != LC_CTL_OK)
        goto done;
    rc = ctl_call(&t, token, cmd->path, body, &a, err);
    if (rc != LC_CTL_OK)
        goto done;
    rc = ctl_answer_json(&a, &tree, err);
    if (rc != LC_CTL_OK)
        goto done;
    rc = cmd->print(cmd, tree, arg, stdout, err);
done:
    yajl_tree_free(tree);
    ctl_answer_free(&a);
    free(body);
    ctl_target_free(&t);
    return rc;
}

static void ctl_print_error(const char *msg)
{
    fputs("livecdnctl: ", stderr);
    msg = msg ? msg : "out of memory";
    ctl_put_clean(stderr, msg, strlen(msg));
    fputc('\n', stderr);
}

/* A table that did not reach its reader is a failure a script must see. */
static int ctl_flush_stdout(void)
{
    if (fflush(stdout) != 0 || ferror(stdout)) {
        fprintf(stderr, "livecdnctl: cannot write the output: %s\n", strerror(errno));
        return LC_CTL_EXIT_FAIL;
    }
    return LC_CTL_EXIT_OK;
}

int main(int argc, char **argv)
{
    static const struct option longopts[] = {
        { "help", no_argument, NULL, 'h' },
        { "version", no_argument, NULL, 'v' },
        { NULL, 0, NULL, 0 },
    };
    const char *addr = getenv("LIVECDN_ADDR"), *token = getenv("LIVECDN_TOKEN");
    char *err = NULL;
    int c;

    if (!addr || !addr[0])
        addr = LC_CTL_DEFAULT_ADDR;
    opterr = 0; /* our own messages, without argv[0]'s path */
    while ((c = getopt_long(argc, argv, ":a:T:hv", longopts, NULL)) != -1) {
        switch (c) {
        case 'a':
            addr = optarg;
            break;
        case 'T':
            token = optarg;
            break;
        case 'h':
            ctl_usage(stdout);
            return ctl_flush_stdout();
        case 'v':
            puts("livecdnctl version " LC_CTL_VERSION);
            return ctl_flush_stdout();
        case ':':
            fprintf(stderr, "livecdnctl: option -%c needs an argument\n", optopt);
            ctl_usage(stderr);
            return LC_CTL_EXIT_USAGE;
        default:
            fputs("livecdnctl: unknown option ", stderr);
            if (optopt) {
                fprintf(stderr, "-%c\n", optopt);
            } else {
                ctl_put_clean(stderr, argv[optind - 1], strlen(argv[optind - 1]));
                fputc('\n', stderr);
            }
            ctl_usage(stderr);
            return LC_CTL_EXIT_USAGE;
        }
    }

    const char *arg;
    const lc_ctl_cmd_t *cmd = optind < argc ? ctl_cmd_find(argc - optind, argv + optind, &arg) : NULL;
    if (!cmd) {
        const lc_ctl_cmd_t *near = optind + 1 == argc ? ctl_cmd_find_verb(argv[optind]) : NULL;
        if (optind >= argc) {
            fputs("livecdnctl: no command\n", stderr);
        } else if (near && near->arg_name) {
            fprintf(stderr, "livecdnctl: %s needs %s\n", near->verb, near->arg_name);
        } else {
            fputs("livecdnctl: unknown command \"", stderr);
            for (int i = optind; i < argc; i++) {
                ctl_put_clean(stderr, argv[i], strlen(argv[i]));
                fputs(i + 1 < argc ? " " : "\"\n", stderr);
            }
        }
        ctl_usage(stderr);
        return LC_CTL_EXIT_USAGE;
    }

    int rc = ctl_run(cmd, arg, addr, token, &err);
    if (rc != LC_CTL_OK) {
        fflush(stdout);
        ctl_print_error(err);
        free(err);
        return rc == LC_CTL_EUSAGE ? LC_CTL_EXIT_USAGE : LC_CTL_EXIT_FAIL;
    }
    return ctl_flush_stdout();
}
