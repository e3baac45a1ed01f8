/*
 * fuzz_rtp_reorder.c: libFuzzer target for src/common/webrtc/rtp_reorder.c,
 * the publish path's reorder buffer and RTX unwrapping.
 *
 * The input is a script of 8-byte steps: op, seq (2), ts (4 bytes, the
 * low 3 used with the op's), a time step and a payload length; ops are a
 * plain packet, an RTX packet (OSN + payload, unwrapped as the worker
 * does), a timer tick, a reset (new SSRC). Any bytes left over go through
 * the RTX unwrapper raw. Invariants checked besides "no sanitizer report":
 * every packet out carries the payload that came in with its seq, packets
 * come out in strictly increasing seq order between restarts, never more
 * packets out than in, NACK lists are 1..64 long, the waiting count stays
 * within the ring, and with time running on, everything that waits comes
 * out (nothing is stranded in the ring).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/webrtc/rtp.h"
#include "common/webrtc/rtp_reorder.h"

#define CHECK(x) do { if (!(x)) abort(); } while (0)

typedef struct {
    lc_rtp_reorder_t *r;
    int have_last;
    uint16_t last;
    uint32_t restarts_seen;
    size_t in, out;
} sink_t;

static uint8_t pattern(uint16_t seq, size_t i)
{
    return (uint8_t)(seq * 31u + i);
}

static void push(void *ctx, const uint8_t *p, size_t len, uint16_t seq, uint32_t ts, int marker)
{
    sink_t *k = ctx;
    (void)ts;
    CHECK(marker == 0 || marker == 1);
    for (size_t i = 0; i < len; i++)
        CHECK(p[i] == pattern(seq, i));
    uint32_t restarts = lc_rtp_reorder_stats(k->r).restarts;
    if (k->have_last && restarts == k->restarts_seen)
        CHECK(lc_rtp_seq_diff(seq, k->last) > 0);
    k->restarts_seen = restarts;
    k->have_last = 1;
    k->last = seq;
    k->out++;
    CHECK(k->out <= k->in);
}

static void nack(void *ctx, const uint16_t *seqs, size_t n)
{
    (void)ctx;
    (void)seqs;
    CHECK(n >= 1 && n <= LC_RTP_REORDER_NACK_MAX);
}

static const lc_rtp_reorder_ops_t ops = { push, nack };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    sink_t k = { 0 };
    uint8_t pkt[2 + 255];
    uint64_t now = 1000;
    k.r = lc_rtp_reorder_new(&ops, &k);
    CHECK(k.r);
    size_t i = 0;
    for (; i + 8 <= size; i += 8) {
        const uint8_t *st = data + i;
        uint16_t seq = (uint16_t)(st[1] << 8 | st[2]);
        uint32_t ts = (uint32_t)st[3] << 16 | (uint32_t)st[4] << 8 | st[5];
        size_t len = st[7];
        now += st[6] & 0x80 ? (uint64_t)(st[6] & 0x7f) * 8 : st[6];
        switch (st[0] & 7) {
        case 0: case 1: case 2: case 3: /* a packet as it came */
            for (size_t j = 0; j < len; j++)
                pkt[j] = pattern(seq, j);
            k.in++;
            lc_rtp_reorder_in(k.r, pkt, len, seq, ts, st[0] >> 7, now);
            break;
        case 4: case 5: { /* its RTX: OSN then the payload */
            pkt[0] = (uint8_t)(seq >> 8);
            pkt[1] = (uint8_t)seq;
            for (size_t j = 0; j < len; j++)
                pkt[2 + j] = pattern(seq, j);
            uint16_t osn;
            const uint8_t *inner;
            size_t inner_len;
            CHECK(lc_rtp_reorder_rtx(pkt, len + 2, &osn, &inner, &inner_len) == 0);
            CHECK(osn == seq && inner == pkt + 2 && inner_len == len);
            k.in++;
            lc_rtp_reorder_in(k.r, inner, inner_len, osn, ts, st[0] >> 7, now);
            break;
        }
        case 6:
            lc_rtp_reorder_tick(k.r, now);
            break;
        default:
            lc_rtp_reorder_reset(k.r);
            k.have_last = 0;
            break;
        }
        CHECK(lc_rtp_reorder_stats(k.r).waiting < LC_RTP_REORDER_SLOTS);
    }
    /* time runs on: every gap is given up in turn, nothing stays behind */
    for (int t = 0; t < LC_RTP_REORDER_SLOTS + 2 && lc_rtp_reorder_stats(k.r).waiting; t++) {
        now += LC_RTP_REORDER_WAIT_MS;
        lc_rtp_reorder_tick(k.r, now);
    }
    CHECK(lc_rtp_reorder_stats(k.r).waiting == 0);
    /* the rest, raw, as an RTX payload off the wire */
    uint16_t osn;
    const uint8_t *inner;
    size_t inner_len;
    if (lc_rtp_reorder_rtx(data + i, size - i, &osn, &inner, &inner_len) == 0)
        CHECK(inner == data + i + 2 && inner_len == size - i - 2);
    else
        CHECK(size - i < 2);
    lc_rtp_reorder_free(k.r);
    return 0;
}
