/*
 * flv.c: what an FLV audio/video tag body (an RTMP audio/video message)
 * says about itself: codec, keyframe, codec configuration, composition time.
 *
 * Owns: the codec-id tables of FLV (spec v10.1 annex E) plus the Enhanced
 * RTMP FourCC headers (veovera enhanced-rtmp v1/v2) for the codecs we name,
 * and the non-standard ids the Chinese CDN forks put on the wire (HEVC as
 * video codec 12, Opus as audio format 13, both as SRS reads them). Does
 * not own: parsing the codec payload itself (SPS, AudioSpecificConfig are
 * the codec helpers'), nor deciding what to do with an unknown codec.
 *
 * Invariant: *out is fully written on success; only the bytes the FLV
 * header itself needs are required, so an unknown codec is never an error
 * (it reports LC_CODEC_NONE and is relayed as is).
 */
#include "common/media/flv.h"

#include <string.h>

#define FOURCC(a, b, c, d) ((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 | (uint32_t)(d))

/* Enhanced RTMP packet types (video; audio uses 0..2 the same way). */
enum { EX_SEQ_START = 0, EX_CODED_FRAMES = 1, EX_SEQ_END = 2, EX_CODED_FRAMES_X = 3 };

static int fail(const char **err, const char *why)
{
    if (err != NULL)
        *err = why;
    return -1;
}

static uint32_t rd_be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int32_t rd_si24(const uint8_t *p)
{
    uint32_t v = (uint32_t)p[0] << 16 | (uint32_t)p[1] << 8 | p[2];

    return (int32_t)(v ^ 0x800000) - 0x800000;
}

/* Enhanced RTMP video: [1 IsExHeader | 3 frame type | 4 packet type] FourCC. */
static int video_ex(const uint8_t *body, size_t len, lc_flv_info_t *out, const char **err)
{
    int frame_type = (body[0] >> 4) & 0x07;
    int pkt = body[0] & 0x0f;
    uint32_t fourcc;

    if (len < 5)
        return fail(err, "enhanced video header too short");
    fourcc = rd_be32(body + 1);
    switch (fourcc) {
    case FOURCC('a', 'v', 'c', '1'): out->codec = LC_CODEC_H264; break;
    case FOURCC('h', 'v', 'c', '1'): out->codec = LC_CODEC_HEVC; break;
    case FOURCC('v', 'p', '0', '8'): out->codec = LC_CODEC_VP8; break;
    default: out->codec = LC_CODEC_NONE; break;    /* av01, vp09: no lc_codec_t yet */
    }
    /* Multitrack (6) and ModEx (7) wrap the real packet type further in:
     * not worth parsing for codecs we do not name. Frame type 5 is a
     * command frame carrying no picture. */
    if (pkt > EX_CODED_FRAMES_X) {
        out->codec = LC_CODEC_NONE;
        return 0;
    }
    out->keyframe = frame_type == 1;
    if (frame_type == 5)
        return 0;
    out->config = pkt == EX_SEQ_START;
    out->end_of_seq = pkt == EX_SEQ_END;
    if (pkt == EX_CODED_FRAMES && (out->codec == LC_CODEC_H264 || out->codec == LC_CODEC_HEVC)) {
        if (len < 8)
            return fail(err, "enhanced video composition time missing");
        out->cts = rd_si24(body + 5);
    }
    return 0;
}

int lc_flv_video_info(const uint8_t *body, size_t len, lc_flv_info_t *out, const char **err)
{
    int frame_type, codec_id;

    memset(out, 0, sizeof *out);
    if (len < 1)
        return fail(err, "empty video body");
    if (body[0] & 0x80)
        return video_ex(body, len, out, err);
    frame_type = body[0] >> 4;
    codec_id = body[0] & 0x0f;
    switch (codec_id) {
    case 2: out->codec = LC_CODEC_H263; break;
    case 4: case 5: out->codec = LC_CODEC_VP6; break;     /* VP6, VP6 with alpha */
    case 7: out->codec = LC_CODEC_H264; break;
    case 12: out->codec = LC_CODEC_HEVC; break;
    default: out->codec = LC_CODEC_NONE; break;
    }
    out->keyframe = frame_type == 1;
    /* A video info/command frame (type 5) is one command byte, not an AVC
     * packet: no AVC header to read even when the codec id says AVC. */
    if (frame_type == 5 || (out->codec != LC_CODEC_H264 && out->codec != LC_CODEC_HEVC))
        return 0;
    if (len < 5)
        return fail(err, "AVC video header too short");
    out->config = body[1] == 0;
    out->end_of_seq = body[1] == 2;
    out->cts = rd_si24(body + 2);
    return 0;
}

/* Enhanced RTMP audio (v2): sound format 9, then the packet type in the
 * low nibble and a FourCC. */
static int audio_ex(const uint8_t *body, size_t len, lc_flv_info_t *out, const char **err)
{
    int pkt = body[0] & 0x0f;

    if (len < 5)
        return fail(err, "enhanced audio header too short");
    switch (rd_be32(body + 1)) {
    case FOURCC('O', 'p', 'u', 's'): out->codec = LC_CODEC_OPUS; break;
    case FOURCC('m', 'p', '4', 'a'): out->codec = LC_CODEC_AAC; break;
    case FOURCC('.', 'm', 'p', '3'): out->codec = LC_CODEC_MP3; break;
    default: out->codec = LC_CODEC_NONE; break;
    }
    /* packet types above SequenceEnd / CodedFrames wrap others (multitrack) */
    if (pkt > EX_SEQ_END)
        out->codec = LC_CODEC_NONE;
    out->config = pkt == EX_SEQ_START;
    return 0;
}

int lc_flv_audio_info(const uint8_t *body, size_t len, lc_flv_info_t *out, const char **err)
{
    int fmt;

    memset(out, 0, sizeof *out);
    if (len < 1)
        return fail(err, "empty audio body");
    out->keyframe = 1;     /* every audio frame decodes on its own */
    fmt = body[0] >> 4;
    switch (fmt) {
    case 0: case 3: out->codec = LC_CODEC_PCM; break;       /* platform / little endian */
    case 2: case 14: out->codec = LC_CODEC_MP3; break;      /* 14: MP3 at 8 kHz */
    case 4: case 5: case 6: out->codec = LC_CODEC_NELLY; break;
    case 7: out->codec = LC_CODEC_PCMA; break;
    case 8: out->codec = LC_CODEC_PCMU; break;
    case 9: return audio_ex(body, len, out, err);
    case 10: out->codec = LC_CODEC_AAC; break;
    case 11: out->codec = LC_CODEC_SPEEX; break;
    case 13: out->codec = LC_CODEC_OPUS; break;
    default: out->codec = LC_CODEC_NONE; break;
    }
    if (out->codec == LC_CODEC_AAC) {
        if (len < 2)
            return fail(err, "AAC audio header too short");
        out->config = body[1] == 0;
    }
    return 0;
}
