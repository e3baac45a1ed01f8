/*
 * rtp_reorder.c: see rtp_reorder.h. Waiting packets sit in a ring of
 * LC_RTP_REORDER_SLOTS slots indexed by seq modulo its size; every slot in
 * use holds a seq in (next, next + SLOTS), so a slot's own seq says whether
 * it holds the packet asked for. `waiting` counts the slots in use, so
 * that a packet in order costs no scan of the ring.
 */
#include "common/webrtc/rtp_reorder.h"

#include <stdlib.h>
#include <string.h>

#include "common/webrtc/rtp.h"

typedef struct {
    uint8_t *data;
    size_t cap;
    uint16_t len;
    uint16_t seq;
    uint32_t ts;
    uint8_t marker, used;
} held_t;

struct lc_rtp_reorder {
    const lc_rtp_reorder_ops_t *ops;
    void *ctx;
    held_t held[LC_RTP_REORDER_SLOTS];
    int have_next;
    uint16_t next;               /* the seq that goes out next */
    uint64_t gap_since;          /* ms the oldest open gap opened; 0 = none */
    uint64_t last_nack;
    lc_rtp_reorder_stats_t st;
};

lc_rtp_reorder_t *lc_rtp_reorder_new(const lc_rtp_reorder_ops_t *ops, void *ctx)
{
    lc_rtp_reorder_t *r = calloc(1, sizeof(*r));
    if (!r)
        return NULL;
    r->ops = ops;
    r->ctx = ctx;
    return r;
}

void lc_rtp_reorder_free(lc_rtp_reorder_t *r)
{
    if (!r)
        return;
    for (int i = 0; i < LC_RTP_REORDER_SLOTS; i++)
        free(r->held[i].data);
    free(r);
}

static held_t *slot(lc_rtp_reorder_t *r, uint16_t seq)
{
    return &r->held[seq % LC_RTP_REORDER_SLOTS];
}

static int holds(lc_rtp_reorder_t *r, uint16_t seq)
{
    held_t *h = slot(r, seq);
    return h->used && h->seq == seq;
}

static void forget_all(lc_rtp_reorder_t *r)
{
    for (int i = 0; i < LC_RTP_REORDER_SLOTS; i++)
        r->held[i].used = 0;
    r->st.waiting = 0;
    r->gap_since = 0;
}

void lc_rtp_reorder_reset(lc_rtp_reorder_t *r)
{
    forget_all(r);
    r->have_next = 0;
}

/* Push what waits right after next, in order. */
static void drain(lc_rtp_reorder_t *r)
{
    while (r->st.waiting && holds(r, r->next)) {
        held_t *h = slot(r, r->next);
        h->used = 0;
        r->st.waiting--;
        r->next++;
        r->ops->push(r->ctx, h->data, h->len, h->seq, h->ts, h->marker);
    }
    if (!r->st.waiting)
        r->gap_since = 0;
}

/* NACK every seq missing between next and the newest waiting packet. */
static void send_nack(lc_rtp_reorder_t *r, uint64_t now)
{
    uint16_t seqs[LC_RTP_REORDER_NACK_MAX];
    size_t n = 0;
    int newest = -1;
    for (int i = LC_RTP_REORDER_SLOTS - 1; i > 0 && newest < 0; i--)
        if (holds(r, (uint16_t)(r->next + i)))
            newest = i;
    for (int i = 0; i < newest && n < LC_RTP_REORDER_NACK_MAX; i++)
        if (!holds(r, (uint16_t)(r->next + i)))
            seqs[n++] = (uint16_t)(r->next + i);
    r->last_nack = now;
    if (n) {
        r->st.nacked += (uint32_t)n;
        r->ops->nack(r->ctx, seqs, n);
    }
}

void lc_rtp_reorder_in(lc_rtp_reorder_t *r, const uint8_t *payload, size_t len, uint16_t seq, uint32_t ts,
                       int marker, uint64_t now_ms)
{
    if (len > UINT16_MAX)
        return; /* no RTP packet is that long */
    if (!r->have_next) {
        r->have_next = 1;
        r->next = seq;
    }
    int32_t d = lc_rtp_seq_diff(seq, r->next);
    if (d >= LC_RTP_REORDER_SLOTS || d <= -LC_RTP_REORDER_SLOTS) {
        /* a jump no NACK can bridge (or a sender that renumbered): start over here */
        forget_all(r);
        r->next = seq;
        r->st.restarts++;
        d = 0;
    }
    if (d < 0)
        return; /* played out already: a late retransmission or a duplicate */
    if (d == 0) {
        if (r->gap_since)
            r->st.recovered++;
        r->next++;
        r->ops->push(r->ctx, payload, len, seq, ts, marker);
        drain(r);
        return;
    }
    held_t *h = slot(r, seq);
    if (h->used)
        return; /* a duplicate of one already waiting (the only seq of the window in this slot) */
    if (h->cap < len || !h->data) {
        uint8_t *data = realloc(h->data, len ? len : 1);
        if (!data)
            return;
        h->data = data;
        h->cap = len ? len : 1;
    }
    if (len)
        memcpy(h->data, payload, len);
    h->len = (uint16_t)len;
    h->seq = seq;
    h->ts = ts;
    h->marker = (uint8_t)(marker != 0);
    h->used = 1;
    r->st.waiting++;
    if (!r->gap_since) {
        r->gap_since = now_ms ? now_ms : 1;
        send_nack(r, now_ms);
    }
}

void lc_rtp_reorder_tick(lc_rtp_reorder_t *r, uint64_t now_ms)
{
    if (!r->gap_since)
        return;
    if (now_ms - r->gap_since >= LC_RTP_REORDER_WAIT_MS) {
        /* give the gap up: go on from the oldest packet that waits */
        for (int i = 1; i < LC_RTP_REORDER_SLOTS; i++) {
            if (holds(r, (uint16_t)(r->next + i))) {
                r->next = (uint16_t)(r->next + i);
                break;
            }
        }
        r->st.given_up++;
        r->gap_since = 0;
        drain(r);
        if (r->st.waiting) /* more gaps behind: wait on them anew */
            r->gap_since = now_ms ? now_ms : 1;
    } else if (now_ms - r->last_nack >= LC_RTP_REORDER_NACK_MS) {
        send_nack(r, now_ms);
    }
}

lc_rtp_reorder_stats_t lc_rtp_reorder_stats(const lc_rtp_reorder_t *r)
{
    return r->st;
}

int lc_rtp_reorder_rtx(const uint8_t *payload, size_t len, uint16_t *osn, const uint8_t **inner, size_t *inner_len)
{
    if (len < 2)
        return -1;
    *osn = (uint16_t)(payload[0] << 8 | payload[1]);
    *inner = payload + 2;
    *inner_len = len - 2;
    return 0;
}
