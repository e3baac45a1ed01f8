/*
 * codec.h: THE codec table. Every codec livecdn names has one row here: its
 * id (lc_codec_t, stored in ring frames, so values never change), display
 * name, SDP rtpmap encoding name and clock rate, channels, and FLV sound
 * format / video codec id. SDP, FLV, REST and the transcoders all read it.
 *
 * lc_codec_t moved here from media/flv.h, which includes this header so its
 * users keep compiling; moving them to include this file is for later.
 */
#ifndef LC_CODEC_H
#define LC_CODEC_H

typedef enum {
    LC_CODEC_NONE = 0,
    LC_CODEC_H264 = 1, LC_CODEC_VP8 = 2, LC_CODEC_H263 = 3, LC_CODEC_VP6 = 4, LC_CODEC_HEVC = 5,
    LC_CODEC_AAC = 16, LC_CODEC_MP3 = 17, LC_CODEC_SPEEX = 18, LC_CODEC_PCMA = 19, LC_CODEC_PCMU = 20,
    LC_CODEC_OPUS = 21, LC_CODEC_NELLY = 22, LC_CODEC_PCM = 23, LC_CODEC_G722 = 24,
    LC_CODEC_AMF0_DATA = 32,
    LC_CODEC_TEXT = 33,       /* a data-channel text message from a WebRTC publisher (track 2) */
} lc_codec_t;

typedef enum { LC_CODEC_KIND_DATA = 0, LC_CODEC_KIND_AUDIO, LC_CODEC_KIND_VIDEO } lc_codec_kind_t;

typedef struct {
    lc_codec_t id;
    lc_codec_kind_t kind;
    const char *name;         /* display name (REST, logs): "AAC", "opus" */
    const char *rtpmap;       /* SDP encoding name ("mpeg4-generic"), NULL = none */
    int clock_rate;           /* RTP clock rate; AAC: the rate in the SDP varies (SPEC 6) */
    int channels;             /* rtpmap channels; 0 = not written */
    int flv_id;               /* FLV SoundFormat / CodecID, -1 = none (enhanced RTMP FourCC only) */
} lc_codec_info_t;

/* The row of a codec, or NULL for an unknown id. */
const lc_codec_info_t *lc_codec_info(int codec);
/* The display name, "none" for an unknown id. */
const char *lc_codec_name(int codec);
/* The codec of an SDP encoding name (case-insensitive) or config name
 * ("opus", "mpeg4-generic", "PCMA"); LC_CODEC_NONE when unknown. */
lc_codec_t lc_codec_by_rtpmap(const char *name);
/* The codec of a display name, case-insensitive ("aac", "opus", "h264"); LC_CODEC_NONE when unknown. */
lc_codec_t lc_codec_by_name(const char *name);
/* Writes "opus/48000/2", "PCMA/8000", "H264/90000"; for AAC rate and channels
 * are the caller's (0 = the table's). 0, or -1 when unknown or too long. */
int lc_codec_rtpmap(int codec, int rate, int channels, char *buf, unsigned size);
/* The nine AAC rates SPEC 6 lists, highest first; *n gets 9. */
const int *lc_codec_aac_rates(int *n);

#endif
