/*
 * stream_core.h: where protocol front-ends (RTMP today, WebRTC and the CDN
 * later) meet the shared stream table and rings. "What happens on publish"
 * and "what happens on play" are each one function here.
 *
 * Publish: take the name in the shared table, write every frame into the
 * stream's ring once, wake the processes that read it.
 * Play: every player of one stream in this worker hangs off one fan-out,
 * which reads each frame from the ring once and hands it to all of them;
 * per-frame protocol bytes (RTMP chunks) are built once per fan-out and
 * shared (lc_shared_frame_t). A new player first catches up privately from
 * the last keyframe (the GOP cache), then joins the fan-out. A congested
 * player skips to the next keyframe; the publisher never waits.
 *
 * Ownership: lc_pub_t and lc_play_t belong to the core; front-ends hold
 * them between publish/play and unpublish/stop, and must not use them after
 * on_end (the core frees the lc_play_t right after calling it).
 */
#ifndef LC_STREAM_CORE_H
#define LC_STREAM_CORE_H

#include <stddef.h>
#include <stdint.h>

#include "common/shm/ring.h"
#include "worker/refbuf.h"
#include "worker/worker.h"

typedef struct lc_pub lc_pub_t;
typedef struct lc_play lc_play_t;

/* One frame on its way to players. */
typedef struct {
    lc_frame_t f;
    const uint8_t *payload;
    lc_refbuf_t *rtmp;        /* RTMP chunk bytes, built on first use (rtmp_session.c) */
    lc_refbuf_t *rtp;         /* RTP payloads, built on first use (webrtc/rtc_play.c) */
} lc_shared_frame_t;

typedef struct {
    /* The control API ended the stream: unpublish. */
    void (*on_terminate)(void *ctx);
    /* Players somewhere asked for a keyframe since the last call (once per
     * wake however many asked); NULL when the protocol cannot ask (RTMP).
     * The front-end forwards through an lc_kf_gate_t (common/shm/keyframe.h):
     * a WebRTC publisher as PLI; a derived stream (a transcoder, the player
     * of one ring and the publisher of another) with lc_core_request_keyframe
     * on its source, so a request crosses it like any other hop. */
    void (*on_keyframe_request)(void *ctx);
} lc_pub_ops_t;

typedef struct {
    /* Deliver a frame; copy or reference what is needed before returning. */
    void (*on_frame)(void *ctx, lc_shared_frame_t *sf);
    /* The stream ended (publisher stopped, its process died, terminated). */
    void (*on_end)(void *ctx, const char *why);
    /* Is the player's output backed up? Then frames are skipped to the next keyframe. */
    int (*congested)(void *ctx);
    /* Bytes queued for the player and not yet taken by its socket. */
    size_t (*queued)(void *ctx);
    /* After a batch of frames: write out what on_frame queued, now if urgent
     * (a new player's GOP), else when the front-end batches its writes.
     * Must not end the player. */
    void (*flush)(void *ctx, int urgent);
} lc_player_ops_t;

/* 0, or -EEXIST (name is live), -ENOSPC/-ENOBUFS (table or arena full), -EINVAL (bad name),
 * -EDQUOT (the client already publishes limits.max_streams_per_ip streams: "Too many streams from
 * this address"). `who` is "PROTOCOL... ADDRESS:PORT": its last word is the client whose streams
 * are counted, unless limits.trusted has it. */
int lc_core_publish(lc_worker_t *w, const char *name, const char *who, const lc_pub_ops_t *ops, void *ctx,
                    lc_pub_t **out);
/* Write one frame. 0, or -1 with *err (frame larger than the ring allows). */
int lc_core_pub_write(lc_pub_t *p, const lc_frame_t *f, const void *payload, const char **err);
void lc_core_unpublish(lc_pub_t *p);
/* The same, telling its players why (NULL: "Stopped by publisher stop"). */
void lc_core_unpublish_reason(lc_pub_t *p, const char *why);
/* A derived stream's publish (transcode/transcode.c): the claim of `name`
 * through lc_stream_publish_derived (-EEXIST, -EDQUOT as there); not
 * counted as a client's publish. */
int lc_core_publish_derived(lc_worker_t *w, const char *name, const char *who, const lc_pub_ops_t *ops, void *ctx,
                            lc_pub_t **out);
/* The worker exits with publishers still on: their players (here, on
 * other workers and on every edge pulling them) are told `why`. */
void lc_core_pubs_end_reason(lc_worker_t *w, const char *why);

/* 1 if `name` is published here or an origin of the CDN has it. */
int lc_core_playable(lc_worker_t *w, const char *name);
/* 0, or -ENOENT (no such live stream here or in the CDN). */
int lc_core_play(lc_worker_t *w, const char *name, const lc_player_ops_t *ops, void *ctx, lc_play_t **out);
/* The same for a derived stream the relay made for this worker (stream
 * table adopt): its writer from now on. 0, or -ENOENT (gone, not ours). */
int lc_core_publish_adopt(lc_worker_t *w, uint32_t id, uint32_t gen, const char *who, const lc_pub_ops_t *ops,
                          void *ctx, lc_pub_t **out);
/* What a player takes: a bit (1ull << lc_codec_t) per codec of each kind,
 * and the one it wants when the stream's is none of them (0: as it is). */
typedef struct {
    uint64_t audio;
    int audio_want;
    uint64_t video;
    int video_want;
} lc_core_accept_t;
#define LC_CORE_CODEC_BIT(c) (1ull << (c))
/* lc_core_play for a player that takes only some codecs (SPEC 6, choosing
 * a player's codec): the stream itself when its codecs are among them (or
 * not known), else the derived stream in acc's wanted codecs, which this call
 * starts (here) or joins (made by another worker). Also -EDQUOT
 * ("Transcoding capacity reached") and -ENOTSUP (no such transcoder). */
int lc_core_play_as(lc_worker_t *w, const char *name, const lc_core_accept_t *acc, const lc_player_ops_t *ops,
                    void *ctx, lc_play_t **out);
/* Could lc_core_play_as serve this player now? 0, -ENOTSUP, -EDQUOT (asked
 * before a WebRTC answer, so a refusal comes with it). */
int lc_core_play_check(lc_worker_t *w, const char *name, const lc_core_accept_t *acc);
void lc_core_stop(lc_play_t *p);
/* A player needs a keyframe (it lost one): the stream's writer is asked,
 * in whichever process it is (a worker's publisher, the relay's pull).
 * A player that joins with no keyframe cached asks by itself. */
void lc_core_request_keyframe(lc_play_t *p);

/* Worker loop hooks. */
int lc_core_init(lc_worker_t *w);
void lc_core_on_wake(lc_worker_t *w);
void lc_core_free(lc_worker_t *w);

#endif
