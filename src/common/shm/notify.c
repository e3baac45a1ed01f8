/*
 * notify.c: see notify.h. Costs one atomic exchange per reader process per
 * frame, and one eventfd write only when that process had caught up.
 */
#include "common/shm/notify.h"

#include <stdint.h>
#include <sys/eventfd.h>
#include <unistd.h>

static int fds[LC_PROC_SLOTS];

int lc_notify_init(void)
{
    for (int i = 0; i < LC_PROC_SLOTS; i++) {
        fds[i] = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
        if (fds[i] < 0)
            return -1;
    }
    return 0;
}

int lc_notify_fd(int slot)
{
    return fds[slot];
}

void lc_notify_wake(lc_shm_t *shm, int slot)
{
    lc_proc_t *p = lc_shm_proc(shm, slot);
    /* release: the frames written before pair with the reader's exchange in ack */
    if (atomic_exchange_explicit(&p->wake_pending, 1, memory_order_acq_rel) == 0) {
        uint64_t one = 1;
        ssize_t w = write(fds[slot], &one, sizeof(one));
        (void)w; /* EAGAIN means the counter is already non-zero: still woken */
    }
}

void lc_notify_wake_readers(lc_shm_t *shm, lc_stream_t *s)
{
    for (int w = 0; w < LC_PROC_MASK_WORDS; w++) {
        uint64_t bits = atomic_load_explicit(&s->readers[w], memory_order_acquire);
        while (bits) {
            int b = __builtin_ctzll(bits);
            bits &= bits - 1;
            lc_notify_wake(shm, w * 64 + b);
        }
    }
}

void lc_notify_ack(lc_shm_t *shm, int slot)
{
    uint64_t v;
    ssize_t r = read(fds[slot], &v, sizeof(v));
    (void)r;
    atomic_exchange_explicit(&lc_shm_proc(shm, slot)->wake_pending, 0, memory_order_acq_rel);
}
