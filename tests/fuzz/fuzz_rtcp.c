/*
 * fuzz_rtcp.c: libFuzzer target for src/common/webrtc/rtcp.c.
 *
 * The input is walked as a compound RTCP packet (what a worker does with
 * each decrypted RTCP datagram) and every packet goes through every parser,
 * whatever its type says. Invariants checked besides "no sanitizer report":
 * packets tile the input, parsed pointers stay inside their packet, a
 * packet accepted by a parser is rebuilt by the matching builder and parses
 * back to the same values, NACK lists survive a rebuild as sets, and the
 * snprintf-style list parsers give the same count whatever the cap.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/webrtc/rtcp.h"

#define CHECK(x) do { if (!(x)) abort(); } while (0)
#define NACK_CAP 512

static uint8_t out[8192];

static int inside(const lc_rtcp_hdr_t *h, const uint8_t *p, size_t n)
{
    return p >= h->body && p + n <= h->body + h->body_len;
}

static void check_rb(const lc_rtcp_rb_t *a, const lc_rtcp_rb_t *b)
{
    CHECK(a->ssrc == b->ssrc && a->fraction_lost == b->fraction_lost);
    CHECK(a->cumulative_lost == b->cumulative_lost && a->ext_highest_seq == b->ext_highest_seq);
    CHECK(a->jitter == b->jitter && a->lsr == b->lsr && a->dlsr == b->dlsr);
}

static int reparse(size_t len, lc_rtcp_hdr_t *h)
{
    lc_rtcp_iter_t it;

    CHECK(len > 0);
    lc_rtcp_iter_init(&it, out, len);
    CHECK(lc_rtcp_iter_next(&it, h, NULL) == 1);
    CHECK(h->len == len);
    CHECK(lc_rtcp_iter_next(&it, h + 1, NULL) == 0);
    return 0;
}

static void check_reports(const lc_rtcp_hdr_t *h)
{
    lc_rtcp_sr_t sr, sr2;
    lc_rtcp_rr_t rr, rr2;
    lc_rtcp_hdr_t g[2];

    if (lc_rtcp_sr_parse(h, &sr, NULL) == 0) {
        reparse(lc_rtcp_build_sr(out, sizeof out, &sr), g);
        CHECK(lc_rtcp_sr_parse(g, &sr2, NULL) == 0);
        CHECK(sr.ssrc == sr2.ssrc && sr.ntp == sr2.ntp && sr.rtp_ts == sr2.rtp_ts);
        CHECK(sr.packet_count == sr2.packet_count && sr.octet_count == sr2.octet_count);
        CHECK(sr.rc == sr2.rc);
        for (unsigned i = 0; i < sr.rc; i++)
            check_rb(&sr.rb[i], &sr2.rb[i]);
    }
    if (lc_rtcp_rr_parse(h, &rr, NULL) == 0) {
        reparse(lc_rtcp_build_rr(out, sizeof out, &rr), g);
        CHECK(lc_rtcp_rr_parse(g, &rr2, NULL) == 0);
        CHECK(rr.ssrc == rr2.ssrc && rr.rc == rr2.rc);
        for (unsigned i = 0; i < rr.rc; i++)
            check_rb(&rr.rb[i], &rr2.rb[i]);
    }
}

static void check_sdes_bye(const lc_rtcp_hdr_t *h)
{
    lc_rtcp_sdes_t sdes, sdes2;
    lc_rtcp_bye_t bye, bye2;
    lc_rtcp_hdr_t g[2];

    if (lc_rtcp_sdes_parse(h, &sdes, NULL) == 0) {
        CHECK(sdes.count == h->count);
        for (unsigned i = 0; i < sdes.count; i++) {
            if (sdes.chunk[i].cname == NULL)
                continue;
            CHECK(inside(h, sdes.chunk[i].cname, sdes.chunk[i].cname_len));
            if (sdes.chunk[i].cname_len == 0)
                continue;
            reparse(lc_rtcp_build_sdes_cname(out, sizeof out, sdes.chunk[i].ssrc,
                                             (const char *)sdes.chunk[i].cname,
                                             sdes.chunk[i].cname_len), g);
            CHECK(lc_rtcp_sdes_parse(g, &sdes2, NULL) == 0);
            CHECK(sdes2.count == 1 && sdes2.chunk[0].ssrc == sdes.chunk[i].ssrc);
            CHECK(sdes2.chunk[0].cname_len == sdes.chunk[i].cname_len);
            CHECK(memcmp(sdes2.chunk[0].cname, sdes.chunk[i].cname, sdes.chunk[i].cname_len) == 0);
        }
    }
    if (lc_rtcp_bye_parse(h, &bye, NULL) == 0) {
        if (bye.reason != NULL)
            CHECK(bye.reason_len > 0 && inside(h, bye.reason, bye.reason_len));
        if (bye.count == 0)
            return;
        reparse(lc_rtcp_build_bye(out, sizeof out, bye.ssrc, bye.count,
                                  (const char *)bye.reason, bye.reason_len), g);
        CHECK(lc_rtcp_bye_parse(g, &bye2, NULL) == 0);
        CHECK(bye2.count == bye.count);
        CHECK(memcmp(bye2.ssrc, bye.ssrc, 4 * (size_t)bye.count) == 0);
        CHECK(bye2.reason_len == bye.reason_len);
        CHECK(bye.reason_len == 0 || memcmp(bye2.reason, bye.reason, bye.reason_len) == 0);
    }
}

static int has(const uint16_t *s, size_t n, uint16_t v)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] == v)
            return 1;
    return 0;
}

static void check_nack(const lc_rtcp_hdr_t *h)
{
    static uint16_t seqs[NACK_CAP], again[NACK_CAP * 17];
    lc_rtcp_fb_t fb, fb2;
    lc_rtcp_hdr_t g[2];
    int n = lc_rtcp_nack_parse(h, &fb, seqs, NACK_CAP, NULL), m;

    if (n < 0)
        return;
    CHECK(n > 0 && lc_rtcp_nack_parse(h, &fb2, seqs, 1, NULL) == n);
    CHECK(lc_rtcp_nack_parse(h, &fb2, seqs, NACK_CAP, NULL) == n);
    if (n > NACK_CAP)
        return;
    reparse(lc_rtcp_build_nack(out, sizeof out, fb.sender_ssrc, fb.media_ssrc, seqs, (size_t)n), g);
    m = lc_rtcp_nack_parse(g, &fb2, again, sizeof again / sizeof again[0], NULL);
    CHECK(m > 0 && m <= n && fb2.sender_ssrc == fb.sender_ssrc && fb2.media_ssrc == fb.media_ssrc);
    for (int i = 0; i < n; i++)
        CHECK(has(again, (size_t)m, seqs[i]));
    for (int i = 0; i < m; i++)
        CHECK(has(seqs, (size_t)n, again[i]));
}

static void check_psfb(const lc_rtcp_hdr_t *h)
{
    static lc_rtcp_fir_entry_t e[1024], e2[1024];
    lc_rtcp_fb_t fb, fb2;
    lc_rtcp_remb_t remb, remb2;
    lc_rtcp_hdr_t g[2];
    int n;

    if (lc_rtcp_pli_parse(h, &fb, NULL) == 0) {
        reparse(lc_rtcp_build_pli(out, sizeof out, fb.sender_ssrc, fb.media_ssrc), g);
        CHECK(lc_rtcp_pli_parse(g, &fb2, NULL) == 0);
        CHECK(fb2.sender_ssrc == fb.sender_ssrc && fb2.media_ssrc == fb.media_ssrc);
    }
    n = lc_rtcp_fir_parse(h, &fb, e, 1024, NULL);
    if (n > 0) {
        CHECK(lc_rtcp_fir_parse(h, &fb, e2, 0, NULL) == n);
        if (n <= 1000) {
            reparse(lc_rtcp_build_fir(out, sizeof out, fb.sender_ssrc, e, (size_t)n), g);
            CHECK(lc_rtcp_fir_parse(g, &fb2, e2, 1024, NULL) == n);
            for (int i = 0; i < n; i++)
                CHECK(e2[i].ssrc == e[i].ssrc && e2[i].seq_nr == e[i].seq_nr);
        }
    }
    if (lc_rtcp_remb_parse(h, &remb, NULL) == 0) {
        reparse(lc_rtcp_build_remb(out, sizeof out, remb.sender_ssrc, remb.bitrate, remb.ssrc,
                                   remb.n_ssrc), g);
        CHECK(lc_rtcp_remb_parse(g, &remb2, NULL) == 0);
        CHECK(remb2.bitrate == remb.bitrate && remb2.n_ssrc == remb.n_ssrc);
        CHECK(memcmp(remb2.ssrc, remb.ssrc, 4 * (size_t)remb.n_ssrc) == 0);
    }
}

static void check_twcc(const lc_rtcp_hdr_t *h)
{
    static lc_rtcp_twcc_status_t st[65536];
    lc_rtcp_twcc_t t;
    int n;

    if (lc_rtcp_twcc_parse(h, &t, NULL) < 0)
        return;
    CHECK(inside(h, t.fb.fci, t.fb.fci_len));
    CHECK(t.reference_time >= -0x800000 && t.reference_time <= 0x7fffff);
    n = lc_rtcp_twcc_decode(&t, st, 65536, NULL);
    CHECK(n == -1 || n == t.status_count);
    CHECK(lc_rtcp_twcc_decode(&t, st, 3, NULL) == n);
    for (int i = 0; i < n; i++) {
        CHECK(st[i].seq == (uint16_t)(t.base_seq + i) && st[i].status <= 2);
        CHECK(st[i].status != 0 || st[i].delta == 0);
        CHECK(st[i].status != 1 || (st[i].delta >= 0 && st[i].delta <= 255));
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    lc_rtcp_iter_t it;
    lc_rtcp_hdr_t h;
    const char *err = NULL;
    size_t total = 0;
    int rc;

    lc_rtcp_iter_init(&it, data, size);
    while ((rc = lc_rtcp_iter_next(&it, &h, &err)) == 1) {
        lc_rtcp_fb_t fb;

        CHECK(h.pkt == data + total && h.len % 4 == 0 && h.len >= 4);
        CHECK(h.body == h.pkt + 4 && h.body_len <= h.len - 4);
        total += h.len;
        check_reports(&h);
        check_sdes_bye(&h);
        if (lc_rtcp_fb_parse(&h, &fb, NULL) == 0)
            CHECK(inside(&h, fb.fci, fb.fci_len) || fb.fci_len == 0);
        check_nack(&h);
        check_psfb(&h);
        check_twcc(&h);
    }
    CHECK(rc == 0 ? total == size : err != NULL && it.off == total);
    return 0;
}
