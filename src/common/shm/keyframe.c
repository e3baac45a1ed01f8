/*
 * keyframe.c: see keyframe.h. The count lives in the stream's entry
 * (lc_stream_t.keyframe_requests); it only ever grows, so a writer that
 * compares it with the value it last saw never misses a request and takes
 * any number of them as one.
 */
#include "common/shm/keyframe.h"

#include "common/shm/notify.h"
#include "common/shm/stream_table.h"

void lc_keyframe_request(lc_shm_t *shm, uint32_t id, uint32_t gen)
{
    if (!lc_stream_alive(shm, id, gen))
        return;
    lc_stream_t *e = lc_shm_stream(shm, id);
    /* pairs with the acquire load in lc_keyframe_take, after the writer's wake */
    atomic_fetch_add_explicit(&e->keyframe_requests, 1, memory_order_release);
    if (e->owner_slot >= 0)
        lc_notify_wake(shm, e->owner_slot);
}

int lc_keyframe_take(lc_shm_t *shm, uint32_t id, uint32_t *seen)
{
    uint32_t n = atomic_load_explicit(&lc_shm_stream(shm, id)->keyframe_requests, memory_order_acquire);
    if (n == *seen)
        return 0;
    *seen = n;
    return 1;
}

int lc_kf_gate_ask(lc_kf_gate_t *g, uint64_t now_ms)
{
    if (!g->sent || now_ms - g->sent_ms >= LC_KF_GATE_MS) {
        g->sent = 1;
        g->sent_ms = now_ms;
        g->held = 0;
        return 1;
    }
    g->held = 1;
    return 0;
}

int lc_kf_gate_due(lc_kf_gate_t *g, uint64_t now_ms)
{
    if (!g->held || now_ms - g->sent_ms < LC_KF_GATE_MS)
        return 0;
    g->held = 0;
    g->sent_ms = now_ms;
    return 1;
}

int64_t lc_kf_gate_wait_ms(const lc_kf_gate_t *g, uint64_t now_ms)
{
    if (!g->held)
        return -1;
    uint64_t since = now_ms - g->sent_ms;
    return since >= LC_KF_GATE_MS ? 0 : (int64_t)(LC_KF_GATE_MS - since);
}
