/*
 * test_rtp_reorder.c: the publish path's reorder buffer (rtp_reorder.c)
 * without sockets: packets in any order with their arrival times, what
 * comes out in order, what is NACKed, and when a gap is given up.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "common/webrtc/rtp_reorder.h"

typedef struct {
    uint16_t out[4096];
    uint32_t out_ts[4096];
    size_t nout;
    uint16_t nacked[4096];
    size_t nnack, nack_calls;
    int payload_ok;
} sink_t;

static void push(void *ctx, const uint8_t *p, size_t len, uint16_t seq, uint32_t ts, int marker)
{
    sink_t *k = ctx;
    (void)marker;
    /* every payload here is its own seq, big-endian: a slot mix-up shows */
    if (len != 2 || (uint16_t)(p[0] << 8 | p[1]) != seq)
        k->payload_ok = 0;
    k->out_ts[k->nout] = ts;
    k->out[k->nout++] = seq;
}

static void nack(void *ctx, const uint16_t *seqs, size_t n)
{
    sink_t *k = ctx;
    memcpy(k->nacked + k->nnack, seqs, n * sizeof(*seqs));
    k->nnack += n;
    k->nack_calls++;
}

static const lc_rtp_reorder_ops_t ops = { push, nack };

static void in(lc_rtp_reorder_t *r, uint16_t seq, uint64_t now)
{
    uint8_t p[2] = { (uint8_t)(seq >> 8), (uint8_t)seq };
    lc_rtp_reorder_in(r, p, 2, seq, (uint32_t)seq * 3000u, 0, now);
}

static lc_rtp_reorder_t *setup(sink_t *k)
{
    memset(k, 0, sizeof(*k));
    k->payload_ok = 1;
    lc_rtp_reorder_t *r = lc_rtp_reorder_new(&ops, k);
    assert_non_null(r);
    return r;
}

static void in_order_passes(void **state)
{
    (void)state;
    sink_t k;
    lc_rtp_reorder_t *r = setup(&k);
    for (uint16_t s = 100; s < 110; s++)
        in(r, s, 1000);
    assert_int_equal(k.nout, 10);
    assert_int_equal(k.out[9], 109);
    assert_int_equal(k.out_ts[9], 109 * 3000);
    assert_int_equal(k.nack_calls, 0);
    assert_true(k.payload_ok);
    lc_rtp_reorder_free(r);
}

static void gap_nacked_then_filled(void **state)
{
    (void)state;
    sink_t k;
    lc_rtp_reorder_t *r = setup(&k);
    in(r, 10, 1000);
    in(r, 13, 1001); /* 11 and 12 missing */
    in(r, 14, 1002);
    assert_int_equal(k.nout, 1);
    assert_int_equal(k.nack_calls, 1);
    assert_int_equal(k.nnack, 2);
    assert_int_equal(k.nacked[0], 11);
    assert_int_equal(k.nacked[1], 12);
    lc_rtp_reorder_tick(r, 1030); /* too soon to ask again */
    assert_int_equal(k.nack_calls, 1);
    lc_rtp_reorder_tick(r, 1070);
    assert_int_equal(k.nack_calls, 2);
    in(r, 12, 1080); /* the retransmission of 12, then of 11 */
    assert_int_equal(k.nout, 1);
    in(r, 11, 1090);
    assert_int_equal(k.nout, 5);
    for (size_t i = 0; i < 5; i++)
        assert_int_equal(k.out[i], 10 + i);
    in(r, 12, 1091); /* a late duplicate: dropped */
    assert_int_equal(k.nout, 5);
    lc_rtp_reorder_stats_t st = lc_rtp_reorder_stats(r);
    assert_int_equal(st.recovered, 1);
    assert_int_equal(st.waiting, 0);
    assert_int_equal(st.nacked, 4);
    assert_true(k.payload_ok);
    lc_rtp_reorder_free(r);
}

static void gap_given_up(void **state)
{
    (void)state;
    sink_t k;
    lc_rtp_reorder_t *r = setup(&k);
    in(r, 1, 1000);
    in(r, 3, 1000);  /* 2 never comes */
    in(r, 5, 1010);  /* nor 4 */
    in(r, 3, 1011);  /* a duplicate of one waiting */
    lc_rtp_reorder_tick(r, 1199);
    assert_int_equal(k.nout, 1);
    lc_rtp_reorder_tick(r, 1200); /* 2 is given up: 3 goes on, and 5 waits on 4 anew */
    assert_int_equal(k.nout, 2);
    assert_int_equal(k.out[1], 3);
    lc_rtp_reorder_tick(r, 1399);
    assert_int_equal(k.nout, 2);
    lc_rtp_reorder_tick(r, 1400);
    assert_int_equal(k.nout, 3);
    assert_int_equal(k.out[2], 5);
    assert_int_equal(lc_rtp_reorder_stats(r).given_up, 2);
    in(r, 6, 1401);
    assert_int_equal(k.nout, 4);
    assert_true(k.payload_ok);
    lc_rtp_reorder_free(r);
}

static void wraps_at_65535(void **state)
{
    (void)state;
    sink_t k;
    lc_rtp_reorder_t *r = setup(&k);
    in(r, 65534, 1);
    in(r, 1, 2);      /* 65535 and 0 missing */
    in(r, 0, 3);
    in(r, 65535, 4);
    assert_int_equal(k.nout, 4);
    assert_int_equal(k.out[1], 65535);
    assert_int_equal(k.out[2], 0);
    assert_int_equal(k.out[3], 1);
    assert_true(k.payload_ok);
    lc_rtp_reorder_free(r);
}

static void jumps_start_over(void **state)
{
    (void)state;
    sink_t k;
    lc_rtp_reorder_t *r = setup(&k);
    in(r, 1000, 1);
    in(r, 1002, 1);         /* waits on 1001 */
    in(r, 1000 + 600, 2);   /* forward past the window: start over there */
    assert_int_equal(k.nout, 2);
    assert_int_equal(k.out[1], 1600);
    in(r, 1601, 3);
    assert_int_equal(k.nout, 3);
    in(r, 1002, 4);         /* behind by 599: a sender that renumbered, start over */
    in(r, 1003, 5);
    assert_int_equal(k.nout, 5);
    assert_int_equal(k.out[3], 1002);
    assert_int_equal(k.out[4], 1003);
    in(r, 900, 6);          /* behind by 104: late, dropped */
    assert_int_equal(k.nout, 5);
    assert_int_equal(lc_rtp_reorder_stats(r).restarts, 2);
    assert_int_equal(lc_rtp_reorder_stats(r).waiting, 0);
    assert_true(k.payload_ok);
    lc_rtp_reorder_free(r);
}

static void reset_forgets(void **state)
{
    (void)state;
    sink_t k;
    lc_rtp_reorder_t *r = setup(&k);
    in(r, 10, 1);
    in(r, 12, 1); /* waits on 11 */
    lc_rtp_reorder_reset(r); /* a new SSRC: its numbering starts anywhere */
    in(r, 11, 2);
    in(r, 12, 2);
    assert_int_equal(k.nout, 3);
    assert_int_equal(k.out[1], 11);
    assert_int_equal(k.out[2], 12);
    assert_true(k.payload_ok);
    lc_rtp_reorder_free(r);
}

static void nack_list_bounded(void **state)
{
    (void)state;
    sink_t k;
    lc_rtp_reorder_t *r = setup(&k);
    in(r, 0, 1);
    in(r, 300, 1); /* 299 missing: one NACK of the first 64 */
    assert_int_equal(k.nack_calls, 1);
    assert_int_equal(k.nnack, LC_RTP_REORDER_NACK_MAX);
    assert_int_equal(k.nacked[0], 1);
    assert_int_equal(k.nacked[63], 64);
    lc_rtp_reorder_free(r);
}

static void rtx_unwrapped(void **state)
{
    (void)state;
    const uint8_t rtx[] = { 0x12, 0x34, 0xaa, 0xbb };
    uint16_t osn;
    const uint8_t *inner;
    size_t n;
    assert_int_equal(lc_rtp_reorder_rtx(rtx, sizeof(rtx), &osn, &inner, &n), 0);
    assert_int_equal(osn, 0x1234);
    assert_int_equal(n, 2);
    assert_ptr_equal(inner, rtx + 2);
    assert_int_equal(lc_rtp_reorder_rtx(rtx, 2, &osn, &inner, &n), 0);
    assert_int_equal(n, 0);
    assert_int_equal(lc_rtp_reorder_rtx(rtx, 1, &osn, &inner, &n), -1); /* a padding probe */
    assert_int_equal(lc_rtp_reorder_rtx(rtx, 0, &osn, &inner, &n), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(in_order_passes), cmocka_unit_test(gap_nacked_then_filled),
        cmocka_unit_test(gap_given_up),    cmocka_unit_test(wraps_at_65535),
        cmocka_unit_test(jumps_start_over), cmocka_unit_test(reset_forgets),
        cmocka_unit_test(nack_list_bounded), cmocka_unit_test(rtx_unwrapped),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
