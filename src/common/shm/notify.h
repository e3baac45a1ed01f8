/*
 * notify.h: waking reader processes without polling.
 *
 * The master creates one eventfd per process slot before the first fork, so
 * every process (old generation or new) can wake every other. A wake is
 * coalesced: the writer writes the eventfd only when the slot's
 * wake_pending flag goes 0 -> 1; the reader clears the flag (exchange, so it
 * acquires everything written before the wake) and then reads its rings.
 */
#ifndef LC_NOTIFY_H
#define LC_NOTIFY_H

#include "common/shm/shm.h"

int lc_notify_init(void);      /* master, once: -1 + errno on failure */
int lc_notify_fd(int slot);
void lc_notify_wake(lc_shm_t *shm, int slot);
void lc_notify_wake_readers(lc_shm_t *shm, lc_stream_t *s);
/* Reader: drain the eventfd and clear the flag before reading rings. */
void lc_notify_ack(lc_shm_t *shm, int slot);

#endif
