/*
 * transcode.h: derived streams (SPEC 2) made by this worker. A transcoder
 * is the player of one ring (the source) and the publisher of another (the
 * derived stream "SOURCE~codec"): metadata, data and every track it does
 * not convert pass through as they are; audio goes through one lc_audio_t,
 * video through one lc_video_t, on the worker's thread pool (pool.h, the
 * one hand-off between this loop and codec threads).
 *
 * The claim is the stream table's: the worker whose lc_stream_publish_derived
 * wins runs the transcoder; every player on every worker reads its ring.
 * It ends LINGER seconds after its last player anywhere left, when its
 * source ends (its players are told the source's reason) or when the
 * control API terminates it.
 *
 * Ownership: transcoders belong to this file (a list per worker); the
 * stream core only asks for one to be started.
 */
#ifndef LC_TRANSCODE_H
#define LC_TRANSCODE_H

#include <stdint.h>

#include "worker/worker.h"

/* Claim the derived stream `dname` of `source`, whose codecs are src[]
 * (video, audio), making out[] of them (0: that track passes through),
 * and start it here. 0 with the derived stream's id/gen; -EEXIST (another
 * worker claimed it first: play that one), -EDQUOT (transcoding.max_jobs
 * derived streams are live), -ENOTSUP (no such transcoder), -ENOENT (the
 * source is gone), -ENOMEM. */
int lc_transcode_start(lc_worker_t *w, const char *source, const int src[2], const char *dname, const int out[2],
                       uint32_t *id, uint32_t *gen);

/* Can a transcoder go from codec src to dst (both audio or both video)? */
int lc_transcode_supported(int src, int dst);

/* On every wake: start the derived streams the relay made for this worker
 * (a CDN pull of "SOURCE~codec", lc_stream_request_derived). */
void lc_transcode_on_wake(lc_worker_t *w);

/* The worker exits: end every transcoder, join the pool. */
void lc_transcode_free_all(lc_worker_t *w);

#endif
