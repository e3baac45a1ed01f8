/*
 * fuzz_ws_frame.c: libFuzzer target for src/common/http/ws_frame.c.
 *
 * The input is read as a stream of frames, the way a worker reads a
 * connection: parse a header, unmask the payload that follows, hand data
 * frames to the assembler, check close payloads and whole text messages.
 * The same bytes also go to the accept-key and UTF-8 functions. Invariants
 * checked besides "no sanitizer report": a cut header asks for more,
 * written headers parse back, unmasking in pieces equals unmasking at once
 * and is its own inverse, and the UTF-8 check agrees with a naive decoder.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/http/ws_frame.h"

#define MAX_PAYLOAD ((uint64_t)1 << 20)
#define MAX_MESSAGE 4096

#define CHECK(x) do { if (!(x)) abort(); } while (0)

/* Decode-then-range-check: a different algorithm from ws_frame.c's table. */
static int ref_utf8_valid(const uint8_t *s, size_t n)
{
    size_t i = 0;

    while (i < n) {
        uint32_t c = s[i], min;
        size_t len;

        if (c < 0x80) {
            i++;
            continue;
        } else if ((c & 0xe0) == 0xc0) {
            len = 2, c &= 0x1f, min = 0x80;
        } else if ((c & 0xf0) == 0xe0) {
            len = 3, c &= 0x0f, min = 0x800;
        } else if ((c & 0xf8) == 0xf0) {
            len = 4, c &= 0x07, min = 0x10000;
        } else {
            return 0;
        }
        if (n - i < len)
            return 0;
        for (size_t k = 1; k < len; k++) {
            if ((s[i + k] & 0xc0) != 0x80)
                return 0;
            c = (c << 6) | (s[i + k] & 0x3f);
        }
        if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
            return 0;
        i += len;
    }
    return 1;
}

static int ref_key_valid(const uint8_t *k, size_t n)
{
    if (n != 24 || k[22] != '=' || k[23] != '=')
        return 0;
    for (size_t i = 0; i < 22; i++) {
        if (!memchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/",
                    k[i], 64))
            return 0;
    }
    return 1;
}

static void check_accept_key(const uint8_t *data, size_t size)
{
    char out[29];
    int rc = lc_ws_accept_key((const char *)data, size, out);

    CHECK(rc == (ref_key_valid(data, size) ? 0 : -1));
    CHECK(rc == 0 ? strlen(out) == 28 && out[27] == '=' : out[0] == '\0');
}

static void check_utf8(const uint8_t *s, size_t n)
{
    CHECK(lc_ws_utf8_valid(s, n) == ref_utf8_valid(s, n));
}

/* Writing the parsed header back gives a minimal header that parses to the
 * same fields. */
static void check_roundtrip(const lc_ws_frame_t *f, int require_mask)
{
    uint8_t out[LC_WS_MAX_HEADER];
    lc_ws_frame_t g;
    int cc = 0;
    size_t n = lc_ws_write_header(out, f->fin, f->opcode, f->payload_len,
                                  f->masked ? f->mask : NULL);

    CHECK(n <= f->header_len);
    CHECK(lc_ws_parse_header(out, n, MAX_PAYLOAD, require_mask, &g, NULL, &cc) == (int)n);
    CHECK(g.fin == f->fin && g.opcode == f->opcode && g.masked == f->masked);
    CHECK(g.payload_len == f->payload_len && memcmp(g.mask, f->mask, 4) == 0);
}

/* Unmask p[0..n) in place, checking against a split unmask and an undo. */
static void unmask_checked(uint8_t *p, size_t n, const uint8_t mask[4])
{
    uint8_t *orig = malloc(n + 1), *split = malloc(n + 1);
    size_t cut = n / 3;

    CHECK(orig != NULL && split != NULL);
    memcpy(orig, p, n);
    memcpy(split, p, n);
    lc_ws_unmask(p, n, mask, 0);
    lc_ws_unmask(split, cut, mask, 0);
    lc_ws_unmask(split + cut, n - cut, mask, cut);
    CHECK(memcmp(p, split, n) == 0);
    lc_ws_unmask(split, n, mask, 0);
    CHECK(memcmp(split, orig, n) == 0);
    free(orig);
    free(split);
}

typedef struct {
    lc_ws_assembly_t a;
    uint8_t msg[MAX_MESSAGE];
    size_t msg_len;
} conn_t;

/* What a worker does with one payload. Returns -1 when it would close. */
static int handle_payload(conn_t *c, const lc_ws_frame_t *f, const uint8_t *p, size_t n)
{
    const char *err = NULL;
    int cc = 0, code = 0;

    if (f->opcode == LC_WS_CLOSE) {
        if (n == f->payload_len && lc_ws_parse_close(p, n, &code, &err, &cc) < 0)
            CHECK(err != NULL && (cc == 1002 || cc == 1007));
        return -1;
    }
    if (f->opcode >= LC_WS_CLOSE)
        return 0;
    if (lc_ws_assembly_feed(&c->a, f, MAX_MESSAGE, &err, &cc) < 0) {
        CHECK(err != NULL && (cc == 1002 || cc == 1009));
        return -1;
    }
    CHECK(c->a.total <= MAX_MESSAGE);
    if (f->opcode != LC_WS_CONT)
        c->msg_len = 0;
    memcpy(c->msg + c->msg_len, p, n);
    c->msg_len += n;
    if (!c->a.in_message && c->a.opcode == LC_WS_TEXT)
        check_utf8(c->msg, c->msg_len);
    return 0;
}

static void read_frames(const uint8_t *data, size_t size, int require_mask)
{
    uint8_t *buf = malloc(size + 1);
    conn_t *c = calloc(1, sizeof *c);
    size_t off = 0;

    CHECK(buf != NULL && c != NULL);
    memcpy(buf, data, size);
    while (off < size) {
        lc_ws_frame_t f;
        const char *err = NULL;
        int cc = 0;
        int rc = lc_ws_parse_header(buf + off, size - off, MAX_PAYLOAD, require_mask,
                                    &f, &err, &cc);
        if (rc < 0)
            CHECK(err != NULL && (cc == 1002 || cc == 1009));
        if (rc <= 0)
            break;

        CHECK((size_t)rc == f.header_len && f.header_len <= LC_WS_MAX_HEADER);
        CHECK(f.payload_len <= MAX_PAYLOAD && (!require_mask || f.masked));
        CHECK(lc_ws_parse_header(buf + off, (size_t)rc - 1, MAX_PAYLOAD, require_mask,
                                 &f, NULL, &cc) == 0);
        CHECK(lc_ws_parse_header(buf + off, (size_t)rc, MAX_PAYLOAD, require_mask,
                                 &f, NULL, &cc) == rc);
        check_roundtrip(&f, require_mask);
        off += (size_t)rc;

        size_t n = size - off < f.payload_len ? size - off : (size_t)f.payload_len;
        unmask_checked(buf + off, n, f.mask);
        if (handle_payload(c, &f, buf + off, n) < 0)
            break;
        off += n;
    }
    free(c);
    free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    check_accept_key(data, size);
    if (size >= 24)
        check_accept_key(data, 24);
    check_utf8(data, size);
    read_frames(data, size, 1);
    read_frames(data, size, 0);
    return 0;
}
