/*
 * video.h: one video transcoder, VP8 <-> H.264: decode with libavcodec,
 * encode with libx264 (or libopenh264) or libvpx through libavcodec, at
 * zero latency (no B-frames, no lookahead, one frame in, at most one out).
 * I/O-free and single-threaded (the pool runs one job of it at a time).
 *
 * Formats, as the ring holds them: H.264 frames are the NAL units of one
 * access unit, each behind a 4-byte big-endian length (AVCC), and the
 * configuration is an AVCDecoderConfigurationRecord (avcC) - the bodies of
 * FLV AVC tags without their 5-byte header. VP8 frames are raw.
 *
 * Keyframes: every input keyframe makes an output keyframe, so a player
 * that starts at the source's keyframe (or asks the source for one)
 * starts here too. Timestamps pass through: an output frame carries its
 * input frame's pts. Bitrate: set at creation, changed with
 * lc_video_set_bitrate as the source's moves.
 *
 * Ownership: lc_video_create returns the object; lc_video_destroy frees it.
 * Corrupt input frames are dropped and counted; after one, output waits for
 * the next input keyframe (a decoder that lost its reference would show
 * garbage), and lc_video_needs_key() says so, so the caller asks the
 * source for one.
 */
#ifndef LC_VIDEO_H
#define LC_VIDEO_H

#include <stddef.h>
#include <stdint.h>

typedef struct lc_video lc_video_t;

typedef struct {
    int src, dst;            /* lc_codec_t: LC_CODEC_VP8, LC_CODEC_H264 */
    const uint8_t *cfg;      /* H.264 input: its avcC (NULL: SPS/PPS in band) */
    size_t cfg_len;
    int bitrate;             /* bit/s; 0 = 1 Mbit/s */
    const char *h264_encoder; /* "libx264" (default) or "libopenh264" */
} lc_video_params_t;

/* NULL with err on failure (no such encoder, bad avcC). */
lc_video_t *lc_video_create(const lc_video_params_t *p, char *err, size_t err_size);
void lc_video_destroy(lc_video_t *v);

/* One encoded input frame. 0; -1 when it was dropped (corrupt, or waiting
 * for a keyframe): lc_video_error() says why; the transcoder stays usable. */
int lc_video_push(lc_video_t *v, const uint8_t *data, size_t len, int64_t pts_us, int key);
/* The next output frame: its length (copied into buf; *pts_us and *key
 * set), 0 when none is ready, -1 when buf is too small (it stays queued). */
int lc_video_pull(lc_video_t *v, uint8_t *buf, size_t size, int64_t *pts_us, int *key);
/* H.264 output: the avcC of an encoder opened since the last call (the
 * first frame, a change of size), to go out before the next frame pulled:
 * its length, 0 when there is none new (or VP8), -1 when buf is too small. */
int lc_video_take_config(lc_video_t *v, uint8_t *buf, size_t size);
/* The output's size, once the first frame was decoded (0 before). */
void lc_video_size(const lc_video_t *v, int *width, int *height);
int lc_video_set_bitrate(lc_video_t *v, int bitrate);
/* 1 while input is dropped until the next keyframe. */
int lc_video_needs_key(const lc_video_t *v);

const char *lc_video_error(const lc_video_t *v);
uint64_t lc_video_errors(const lc_video_t *v);

/* AVCC <-> Annex B helpers (exposed for tests and fuzzing). Each returns the
 * output length, or -1 when the input is malformed or out too small. */
int lc_video_annexb_to_avcc(const uint8_t *in, size_t len, uint8_t *out, size_t size);
/* An avcC from Annex B SPS and PPS NAL units (the encoder's extradata). */
int lc_video_avcc_config(const uint8_t *annexb, size_t len, uint8_t *out, size_t size);

#endif
