/*
 * push.h: the relay's pushes to external RTMP servers (push.c has the
 * story). relay.c makes one pusher, wakes it with the rest of the relay,
 * and frees it at exit.
 */
#ifndef LC_RELAY_PUSH_H
#define LC_RELAY_PUSH_H

#include <event2/event.h>

#include "common/core/cycle.h"

typedef struct lc_pusher lc_pusher_t;

lc_pusher_t *lc_pusher_new(lc_cycle_t *cycle, struct event_base *base);
/* New requests and stops in the push table, new frames in the rings read. */
void lc_pusher_on_wake(lc_pusher_t *ps);
/* hand_over: a newer relay runs (a reload): its pushes go to it (they
 * reconnect from a keyframe); else they stop. */
void lc_pusher_free(lc_pusher_t *ps, int hand_over);

#endif
