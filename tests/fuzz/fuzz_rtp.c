/*
 * fuzz_rtp.c: libFuzzer target for src/common/webrtc/rtp.c.
 *
 * The input is parsed as one RTP packet (what a worker does with each
 * decrypted datagram), its header extensions are walked and looked up by
 * id, and the packet is rewritten in place and written back. The input is
 * also read as a sequence of (seq, timestamp, arrival) triples fed to the
 * receive statistics. Invariants checked besides "no sanitizer report":
 * the parts of a parsed packet tile it exactly, every extension element
 * lies inside the extension block, find() agrees with the walk, in-place
 * rewrites change only their field, a header written from a parsed one
 * parses back to the same fields, and the statistics stay consistent.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/webrtc/rtp.h"

#define CHECK(x) do { if (!(x)) abort(); } while (0)

static void check_extensions(const lc_rtp_header_t *h, lc_rtp_ext_elem_t *first_of,
                             int *seen, size_t *n_elems, int *malformed)
{
    lc_rtp_ext_elem_t e;
    size_t pos = 0, prev = 0;
    const char *err = NULL;
    int rc;

    *n_elems = 0;
    while ((rc = lc_rtp_ext_next(h, &pos, &e, &err)) == 1) {
        CHECK(pos > prev && pos <= h->ext_len);
        CHECK(e.data >= h->ext && e.data + e.len <= h->ext + h->ext_len);
        CHECK(e.id != 0);
        if (lc_rtp_ext_form(h) == 1)
            CHECK(e.id < 15 && e.len >= 1 && e.len <= 16);
        if (!seen[e.id]) {
            seen[e.id] = 1;
            first_of[e.id] = e;
        }
        prev = pos;
        (*n_elems)++;
    }
    *malformed = rc < 0;
    if (rc < 0)
        CHECK(err != NULL);
    for (unsigned id = 0; id < 256; id++) {
        const uint8_t *d = NULL;
        size_t n = 0;
        int f = lc_rtp_ext_find(h, (uint8_t)id, &d, &n, NULL);

        if (seen[id])
            CHECK(f == 1 && d == first_of[id].data && n == first_of[id].len);
        else
            CHECK(f == (*malformed ? -1 : 0));
    }
}

/* Rewrite each field on a copy; only that field may change. */
static void check_rewrites(const uint8_t *data, size_t size, const lc_rtp_header_t *h)
{
    uint8_t *copy = malloc(size);
    lc_rtp_header_t g;

    CHECK(copy != NULL);
    memcpy(copy, data, size);
    CHECK(lc_rtp_set_ssrc(copy, size, ~h->ssrc) == 0);
    CHECK(lc_rtp_set_seq(copy, size, (uint16_t)(h->seq + 1)) == 0);
    CHECK(lc_rtp_set_timestamp(copy, size, h->timestamp + 90000) == 0);
    CHECK(lc_rtp_set_pt(copy, size, (uint8_t)(127 - h->pt)) == 0);
    CHECK(lc_rtp_parse(copy, size, &g, NULL) == 0);
    CHECK(g.ssrc == ~h->ssrc && g.seq == (uint16_t)(h->seq + 1));
    CHECK(g.timestamp == h->timestamp + 90000 && g.pt == 127 - h->pt);
    CHECK(g.marker == h->marker && g.csrc_count == h->csrc_count);
    CHECK(g.header_len == h->header_len && g.payload_len == h->payload_len);
    CHECK(memcmp(copy + 12, data + 12, size - 12) == 0);
    free(copy);
}

/* Write the parsed header back (with its one-byte elements, if any) and
 * parse the result. */
static void check_write(const lc_rtp_header_t *h, const lc_rtp_ext_elem_t *first_of,
                        const int *seen, size_t n_elems, int malformed)
{
    lc_rtp_ext_elem_t ext[16];
    size_t n_ext = 0;
    uint8_t out[12 + 60 + 4 + 16 * 17 + 4];
    lc_rtp_header_t g;
    size_t len;

    if (lc_rtp_ext_form(h) == 1 && !malformed && n_elems > 0) {
        for (unsigned id = 1; id < 15; id++)
            if (seen[id])
                ext[n_ext++] = first_of[id];
    }
    len = lc_rtp_write_header(out, sizeof out, h, ext, n_ext);
    CHECK(len >= 12 && len % 4 == 0);
    CHECK(lc_rtp_parse(out, len, &g, NULL) == 0);
    CHECK(g.header_len == len && g.payload_len == 0 && !g.padding);
    CHECK(g.marker == h->marker && g.pt == h->pt && g.seq == h->seq);
    CHECK(g.timestamp == h->timestamp && g.ssrc == h->ssrc && g.csrc_count == h->csrc_count);
    CHECK(memcmp(g.csrc, h->csrc, sizeof g.csrc) == 0);
    for (size_t i = 0; i < n_ext; i++) {
        const uint8_t *d;
        size_t n;

        CHECK(lc_rtp_ext_find(&g, ext[i].id, &d, &n, NULL) == 1);
        CHECK(n == ext[i].len && memcmp(d, ext[i].data, n) == 0);
    }
    CHECK(lc_rtp_write_header(out, len - 1, h, ext, n_ext) == 0);
}

static void check_packet(const uint8_t *data, size_t size)
{
    lc_rtp_header_t h;
    const char *err = NULL;
    lc_rtp_ext_elem_t first_of[256];
    int seen[256] = { 0 };
    size_t n_elems;
    int malformed;

    if (lc_rtp_parse(data, size, &h, &err) < 0) {
        CHECK(err != NULL);
        return;
    }
    CHECK(h.header_len + h.payload_len + h.padding_len == size);
    CHECK(h.payload == data + h.header_len);
    CHECK(h.header_len == 12 + 4 * h.csrc_count + (h.extension ? 4 + h.ext_len : 0));
    CHECK(h.padding ? h.padding_len == data[size - 1] && h.padding_len > 0 : h.padding_len == 0);
    check_extensions(&h, first_of, seen, &n_elems, &malformed);
    check_rewrites(data, size, &h);
    check_write(&h, first_of, seen, n_elems, malformed);
}

static uint32_t rd32(const uint8_t *p)
{
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

static void check_stats(const uint8_t *data, size_t size)
{
    lc_rtp_stats_t s;

    lc_rtp_stats_init(&s);
    for (size_t off = 0; off + 10 <= size; off += 10) {
        uint16_t seq = (uint16_t)((data[off] << 8) | data[off + 1]);
        uint32_t before = s.received;
        int rc = lc_rtp_stats_update(&s, seq, rd32(data + off + 2), rd32(data + off + 6));

        CHECK(rc == 0 || rc == 1);
        CHECK(rc ? s.received >= 1 : s.received == before);
        CHECK(lc_rtp_stats_expected(&s) >= 1);
        CHECK(lc_rtp_stats_lost(&s) <= 0x7fffff && lc_rtp_stats_lost(&s) >= -0x800000);
        if (off % 40 == 0)
            (void)lc_rtp_stats_fraction_lost(&s);
    }
    for (size_t off = 0; off + 4 <= size; off += 4) {
        uint16_t a = (uint16_t)((data[off] << 8) | data[off + 1]);
        uint16_t b = (uint16_t)((data[off + 2] << 8) | data[off + 3]);
        int ab = lc_rtp_seq_newer(a, b), ba = lc_rtp_seq_newer(b, a);

        CHECK(!(ab && ba) && (a == b || ab || ba));
        CHECK((uint16_t)(b + lc_rtp_seq_diff(a, b)) == a);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int rtcp = lc_rtp_is_rtcp(data, size);

    CHECK(rtcp == (size >= 2 && data[0] >> 6 == 2 && data[1] >= 192 && data[1] <= 223));
    check_packet(data, size);
    check_stats(data, size);
    return 0;
}
