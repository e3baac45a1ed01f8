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

typedef enum {
    LC_CODEC_NONE = 0,
    LC_CODEC_H264 = 1, LC_CODEC_VP8 = 2, LC_CODEC_H263 = 3, LC_CODEC_VP6 = 4, LC_CODEC_HEVC = 5,
    LC_CODEC_AAC = 16, LC_CODEC_MP3 = 17, LC_CODEC_SPEEX = 18, LC_CODEC_PCMA = 19, LC_CODEC_PCMU = 20,
    LC_CODEC_OPUS = 21, LC_CODEC_NELLY = 22, LC_CODEC_PCM = 23,
    LC_CODEC_AMF0_DATA = 32,
    LC_CODEC_TEXT = 33,       /* a data-channel text message from a WebRTC publisher (track 2) */
} lc_codec_t;

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
const char *lc_codec_name(int codec);

#endif
