/*
 * derived.h: the relay's way to a derived stream (SPEC 2): it cannot run a
 * transcoder itself, so it has a worker make it (lc_stream_request_derived:
 * the entry is made for the worker, which starts it on its next wake).
 * A CDN pull of "cam~opus" (cdn_serve.c) and a push to an RTMP server of a
 * stream RTMP cannot carry as it is (push.c) both go through here.
 */
#ifndef LC_RELAY_DERIVED_H
#define LC_RELAY_DERIVED_H

#include <stdint.h>

#include "common/core/cycle.h"

/* The derived stream `name` ("SOURCE~codecs") of a stream live on this
 * node: found, or asked of a worker now. 0 with id/gen, or -1 with why
 * ("Stream not found", "Transcoding capacity reached", ...). */
int lc_relay_derived(lc_cycle_t *cycle, const char *name, uint32_t *id, uint32_t *gen, const char **why);

#endif
