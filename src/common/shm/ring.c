/*
 * ring.c: see ring.h for the contract and the table of memory orderings.
 * Every atomic below names the operation it pairs with.
 */
#include "common/shm/ring.h"

#include <string.h>

/* A record in data[]: this header, then the payload, padded to 8 bytes. */
typedef struct {
    uint32_t size;       /* whole record incl. header and padding */
    uint32_t pad;
    uint64_t pos;        /* the record's own absolute position: catches torn reads */
    lc_frame_t frame;
} rec_t;

#define NO_KEY UINT64_MAX
#define ALIGN8(n) (((n) + 7) & ~(uint64_t)7)

void lc_ring_init(lc_ring_t *r, size_t bytes)
{
    memset(r, 0, sizeof(*r));
    r->cap = (bytes - sizeof(*r)) & ~(uint64_t)7;
    atomic_store_explicit(&r->last_key, NO_KEY, memory_order_relaxed);
    atomic_store_explicit(&r->epoch, 1, memory_order_release);
}

void lc_ring_reset(lc_ring_t *r)
{
    /* Bumping epoch first makes every old reader's next check fail (it pairs
     * with the reader's acquire load after each copy). */
    atomic_fetch_add_explicit(&r->epoch, 1, memory_order_release);
    atomic_store_explicit(&r->closed, 0, memory_order_relaxed);
    for (unsigned i = 0; i < LC_RING_CONFIG_SLOTS; i++) {
        atomic_fetch_add_explicit(&r->config[i].seq, 1, memory_order_relaxed);
        r->config[i].len = 0;
        atomic_fetch_add_explicit(&r->config[i].seq, 1, memory_order_release);
    }
    /* Positions keep growing across lives so a stale cursor can never match. */
    uint64_t h = atomic_load_explicit(&r->head, memory_order_relaxed);
    h = ALIGN8(h + r->cap);
    atomic_store_explicit(&r->tail, h, memory_order_relaxed);
    atomic_store_explicit(&r->last_key, NO_KEY, memory_order_relaxed);
    atomic_store_explicit(&r->frames, 0, memory_order_relaxed);
    atomic_store_explicit(&r->head, h, memory_order_release);
}

void lc_ring_close(lc_ring_t *r)
{
    /* pairs with the reader's acquire load of closed when it reaches head */
    atomic_store_explicit(&r->closed, 1, memory_order_release);
}

size_t lc_ring_max_frame(const lc_ring_t *r)
{
    /* Half the ring: a frame must never evict the keyframe a new reader needs
     * more than it has to, and a reader must be able to hold it. */
    return r->cap / 2 - sizeof(rec_t);
}

int lc_ring_write(lc_ring_t *r, const lc_frame_t *f, const void *payload)
{
    if (f->len > lc_ring_max_frame(r))
        return -1;

    uint64_t size = ALIGN8(sizeof(rec_t) + f->len);
    uint64_t head = atomic_load_explicit(&r->head, memory_order_relaxed); /* only we write it */
    uint64_t off = head % r->cap;
    uint64_t pad = off + size > r->cap ? r->cap - off : 0;
    uint64_t end = head + pad + size;

    /* Invalidate what we are about to overwrite before touching it.
     * pairs with: reader's acquire fence + load of tail after its copy. */
    if (end > r->cap) {
        uint64_t tail = atomic_load_explicit(&r->tail, memory_order_relaxed);
        if (end - r->cap > tail)
            atomic_store_explicit(&r->tail, end - r->cap, memory_order_relaxed);
    }
    atomic_thread_fence(memory_order_release);

    if (pad) {
        rec_t p = { .size = (uint32_t)pad, .pos = head, .frame = { .flags = LC_FRAME_PAD } };
        if (pad >= sizeof(rec_t))
            memcpy(r->data + off, &p, sizeof(p));
        else
            memcpy(r->data + off, &p, pad); /* size field alone is enough to skip */
        head += pad;
        off = 0;
    }
    rec_t h = { .size = (uint32_t)size, .pos = head, .frame = *f };
    memcpy(r->data + off, &h, sizeof(h));
    if (f->len)
        memcpy(r->data + off + sizeof(h), payload, f->len);

    atomic_fetch_add_explicit(&r->frames, 1, memory_order_relaxed);
    /* pairs with reader's acquire load of head */
    atomic_store_explicit(&r->head, head + size, memory_order_release);
    /* After head, so a reader that resyncs here never finds pos > head
     * (it would take that for a lap and spin until head moved, for ever if
     * we died in between). pairs with acquire load of last_key on resync,
     * which therefore also sees this head. */
    if (f->flags & LC_FRAME_KEY)
        atomic_store_explicit(&r->last_key, head, memory_order_release);
    return 0;
}

int lc_ring_set_config(lc_ring_t *r, unsigned slot, const lc_frame_t *f, const void *payload)
{
    if (slot >= LC_RING_CONFIG_SLOTS || f->len > LC_RING_CONFIG_MAX)
        return -1;
    lc_ring_config_t *c = &r->config[slot];
    /* seq odd while writing; pairs with the reader's two loads around its copy */
    atomic_fetch_add_explicit(&c->seq, 1, memory_order_relaxed);
    atomic_thread_fence(memory_order_release);
    c->frame = *f;
    c->len = f->len;
    memcpy(c->data, payload, f->len);
    atomic_fetch_add_explicit(&c->seq, 1, memory_order_release);
    return 0;
}

int lc_ring_get_config(const lc_ring_t *r, unsigned slot, lc_frame_t *f, void *buf, size_t cap)
{
    if (slot >= LC_RING_CONFIG_SLOTS)
        return 0;
    lc_ring_config_t *c = (lc_ring_config_t *)&r->config[slot];
    for (;;) {
        uint32_t s1 = atomic_load_explicit(&c->seq, memory_order_acquire);
        if (s1 & 1)
            continue; /* the writer is mid-copy of at most 16 KiB */
        uint32_t len = c->len;
        if (len == 0)
            return 0;
        if (len > cap || len > LC_RING_CONFIG_MAX)
            return -1;
        *f = c->frame;
        memcpy(buf, c->data, len);
        atomic_thread_fence(memory_order_acquire);
        if (atomic_load_explicit(&c->seq, memory_order_relaxed) == s1)
            return (int)len;
    }
}

/* Jump to the newest keyframe, or wait for the next one if it is gone. */
static void resync(const lc_ring_t *r, lc_ring_cursor_t *c)
{
    lc_ring_t *w = (lc_ring_t *)r;
    uint64_t key = atomic_load_explicit(&w->last_key, memory_order_acquire);
    uint64_t tail = atomic_load_explicit(&w->tail, memory_order_acquire);
    if (key != NO_KEY && key >= tail) {
        c->pos = key;
        c->need_key = 0;
    } else {
        c->pos = atomic_load_explicit(&w->head, memory_order_acquire);
        c->need_key = 1;
    }
}

void lc_ring_cursor_init(const lc_ring_t *r, lc_ring_cursor_t *c, int from)
{
    lc_ring_t *w = (lc_ring_t *)r;
    memset(c, 0, sizeof(*c));
    c->epoch = atomic_load_explicit(&w->epoch, memory_order_acquire);
    if (from == LC_RING_FROM_KEY) {
        resync(r, c);
    } else {
        c->pos = atomic_load_explicit(&w->head, memory_order_acquire);
        c->need_key = 1;
    }
}

int lc_ring_read(const lc_ring_t *r, lc_ring_cursor_t *c, lc_frame_t *f, void *buf, size_t cap)
{
    lc_ring_t *w = (lc_ring_t *)r;

    for (;;) {
        if (atomic_load_explicit(&w->epoch, memory_order_acquire) != c->epoch)
            return LC_RING_ENDED;
        uint64_t head = atomic_load_explicit(&w->head, memory_order_acquire);
        if (c->pos >= head) {
            /* pos > head is no lap: positions only grow within an epoch. It
             * is a resync onto a keyframe whose last_key store we saw before
             * its head store; wait for that like for any new frame.
             * pairs with lc_ring_close's release store; re-check head after it */
            if (atomic_load_explicit(&w->closed, memory_order_acquire) &&
                atomic_load_explicit(&w->head, memory_order_acquire) <= c->pos)
                return LC_RING_ENDED;
            return LC_RING_EMPTY;
        }
        if (c->pos < atomic_load_explicit(&w->tail, memory_order_acquire)) {
            c->lapped++;
            resync(r, c);
            continue;
        }

        uint64_t off = c->pos % r->cap;
        rec_t h;
        uint64_t left = r->cap - off;
        if (left < sizeof(rec_t)) {
            /* only a short PAD fits here */
            c->pos += left;
            continue;
        }
        memcpy(&h, r->data + off, sizeof(h));
        int sane = h.pos == c->pos && h.size >= sizeof(rec_t) && h.size <= left && (h.size & 7) == 0 &&
                   ((h.frame.flags & LC_FRAME_PAD) || h.frame.len <= h.size - sizeof(rec_t));
        int copied = LC_RING_OK;
        if (sane && !(h.frame.flags & LC_FRAME_PAD)) {
            if (h.frame.len > cap)
                copied = LC_RING_E2BIG;
            else if (!c->need_key || (h.frame.flags & LC_FRAME_KEY))
                memcpy(buf, r->data + off + sizeof(rec_t), h.frame.len);
        }
        /* Was any of that overwritten while we copied? pairs with the
         * writer's tail store + release fence before it overwrites. */
        atomic_thread_fence(memory_order_acquire);
        if (!sane || c->pos < atomic_load_explicit(&w->tail, memory_order_relaxed) ||
            atomic_load_explicit(&w->epoch, memory_order_relaxed) != c->epoch) {
            if (atomic_load_explicit(&w->epoch, memory_order_relaxed) != c->epoch)
                return LC_RING_ENDED;
            c->lapped++;
            resync(r, c);
            continue;
        }
        c->pos += h.size;
        if (h.frame.flags & LC_FRAME_PAD)
            continue;
        if (c->need_key && !(h.frame.flags & LC_FRAME_KEY)) {
            c->skipped++;
            continue;
        }
        c->need_key = 0;
        if (copied == LC_RING_E2BIG) {
            c->skipped++;
            return LC_RING_E2BIG;
        }
        *f = h.frame;
        return LC_RING_OK;
    }
}
