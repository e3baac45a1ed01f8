/*
 * fuzz_http_parse.c: libFuzzer target for src/common/http/http_parse.c.
 *
 * The input is the bytes a client sent. Besides "no crash, no sanitizer
 * report", it checks what callers rely on: a head points only into the
 * buffer; the answer does not depend on the bytes after the head, on the
 * head being cut short (a prefix asks for more), or on max_head as long as
 * the head fits; lookups find what the parser produced.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/http/http_parse.h"

#define MAX_HEAD 8192

#define CHECK(x) do { if (!(x)) abort(); } while (0)

static int inside(const char *p, size_t n, const char *buf, size_t len)
{
    return p >= buf && n <= len && (size_t)(p - buf) <= len - n;
}

static void check_request(const lc_http_request_t *req, const char *buf, size_t head)
{
    CHECK(req->head_len == head);
    CHECK(req->method_len > 0 && inside(req->method, req->method_len, buf, head));
    CHECK(req->target_len > 0 && inside(req->target, req->target_len, buf, head));
    CHECK(req->version_minor == 0 || req->version_minor == 1);
    CHECK(req->nheaders <= LC_HTTP_MAX_HEADERS);
    CHECK(req->content_length >= -1);
    for (size_t i = 0; i < req->nheaders; i++) {
        const lc_http_header_t *h = &req->headers[i];
        char name[128], tok[128];
        size_t n;

        CHECK(h->name_len > 0 && inside(h->name, h->name_len, buf, head));
        CHECK(inside(h->value, h->value_len, buf, head));
        CHECK(memchr(h->value, '\0', h->value_len) == NULL);

        /* find_header() gives this header or an earlier one of the same name. */
        if (h->name_len < sizeof name) {
            memcpy(name, h->name, h->name_len);
            name[h->name_len] = '\0';
            const lc_http_header_t *f = lc_http_find_header(req, name);
            CHECK(f != NULL && f <= h && f->name_len == h->name_len);
        }
        /* The first list element, trimmed, is a token of the value. */
        for (n = 0; n < h->value_len && h->value[n] != ','; n++)
            ;
        while (n > 0 && (h->value[n - 1] == ' ' || h->value[n - 1] == '\t'))
            n--;
        if (n > 0 && n < sizeof tok) {
            memcpy(tok, h->value, n);
            tok[n] = '\0';
            CHECK(lc_http_header_has_token(h, tok));
        }
        lc_http_header_has_token(h, "upgrade");
        lc_http_header_has_token(h, "keep-alive");
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *buf = (const char *)data;
    lc_http_request_t req, again;
    const char *err = "unset";
    int rc = lc_http_parse_request(buf, size, MAX_HEAD, &req, &err);

    if (rc < 0) {
        CHECK(rc == LC_HTTP_EBAD || rc == LC_HTTP_ETOOBIG || rc == LC_HTTP_EUNSUPPORTED);
        CHECK(err != NULL && err[0] != '\0');
        return 0;
    }
    CHECK(err == NULL);
    if (rc == 0) {
        CHECK(size < MAX_HEAD);
        return 0;
    }

    size_t head = (size_t)rc;
    CHECK(head <= size && head <= MAX_HEAD);
    check_request(&req, buf, head);

    /* The bytes after the head do not matter; a cut head asks for more. */
    CHECK(lc_http_parse_request(buf, head, MAX_HEAD, &again, NULL) == rc);
    CHECK(again.nheaders == req.nheaders && again.content_length == req.content_length);
    CHECK(lc_http_parse_request(buf, head - 1, MAX_HEAD, &again, &err) == 0);
    /* max_head only matters when the head does not fit in it. */
    CHECK(lc_http_parse_request(buf, size, head, &again, NULL) == rc);
    CHECK(lc_http_parse_request(buf, size, head - 1, &again, NULL) == LC_HTTP_ETOOBIG);
    return 0;
}
