/*
 * transcode.h: derived streams (SPEC 2) made by this worker. A transcoder
 * is the player of one ring (the source) and the publisher of another (the
 * derived stream "SOURCE~codec"): video, metadata and data pass through as
 * they are, audio goes through one lc_audio_t on the worker's thread pool
 * (pool.h, the one hand-off between this loop and codec threads).
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

/* Claim the derived stream `dname` of `source` with its audio in `acodec`
 * and start it here. 0 with the derived stream's id/gen; -EEXIST (another
 * worker claimed it first: play that one), -EDQUOT (transcoding.max_jobs
 * derived streams are live), -ENOTSUP (no transcoder from the source's
 * audio to acodec), -ENOENT (the source is gone), -ENOMEM. */
int lc_transcode_start(lc_worker_t *w, const char *source, int src_acodec, const char *dname, int acodec,
                       uint32_t *id, uint32_t *gen);

/* Can the audio transcoder go from src to dst? */
int lc_transcode_supported(int src, int dst);

/* The worker exits: end every transcoder, join the pool. */
void lc_transcode_free_all(lc_worker_t *w);

#endif
