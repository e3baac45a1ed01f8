/*
 * flv.h: what RTMP audio/video message bodies (FLV tag bodies) say about
 * themselves: codec, keyframe, codec configuration. I/O-free.
 *
 * Ring payload format for streams that arrive over RTMP: the FLV tag body
 * exactly as carried (so RTMP players need no transform); lc_frame_t.codec
 * is an lc_codec_t and flags mark KEY/CONFIG/META.
 */
#ifndef LC_FLV_H
#define LC_FLV_H

#include <stddef.h>
#include <stdint.h>

#include "common/codec/codec.h"    /* lc_codec_t and lc_codec_name: the codec table */

typedef struct {
    int codec;        /* lc_codec_t */
    int keyframe;     /* video: a player may start here; audio: always 1 */
    int config;       /* AVC sequence header / AAC AudioSpecificConfig */
    int end_of_seq;   /* AVC end of sequence */
    int32_t cts;      /* AVC composition time offset, ms */
} lc_flv_info_t;

/* 0, or -1 with *err when the body is too short for its own header. */
int lc_flv_video_info(const uint8_t *body, size_t len, lc_flv_info_t *out, const char **err);
int lc_flv_audio_info(const uint8_t *body, size_t len, lc_flv_info_t *out, const char **err);

#endif
