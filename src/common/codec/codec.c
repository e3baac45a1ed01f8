/*
 * codec.c: the codec table (see codec.h). Owns names, rtpmap names, clock
 * rates and FLV ids; does not own parsing (media/flv.c, the SDP parser) nor
 * choosing codecs (negotiation).
 */
#include "common/codec/codec.h"

#include <stdio.h>
#include <strings.h>

#define A LC_CODEC_KIND_AUDIO
#define V LC_CODEC_KIND_VIDEO
#define D LC_CODEC_KIND_DATA

static const lc_codec_info_t table[] = {
    /* id               kind name          rtpmap           clock  ch  flv */
    { LC_CODEC_H264,      V, "H264",       "H264",          90000, 0,  7 },
    { LC_CODEC_VP8,       V, "VP8",        "VP8",           90000, 0, -1 },
    { LC_CODEC_H263,      V, "H263",       NULL,            90000, 0,  2 },
    { LC_CODEC_VP6,       V, "VP6",        NULL,            90000, 0,  4 },
    { LC_CODEC_HEVC,      V, "H265",       "H265",          90000, 0, 12 },
    { LC_CODEC_AAC,       A, "AAC",        "mpeg4-generic", 48000, 2, 10 },
    { LC_CODEC_MP3,       A, "MP3",        NULL,            90000, 0,  2 },
    { LC_CODEC_SPEEX,     A, "speex",      "speex",         16000, 0, 11 },
    { LC_CODEC_PCMA,      A, "PCMA",       "PCMA",           8000, 0,  7 },
    { LC_CODEC_PCMU,      A, "PCMU",       "PCMU",           8000, 0,  8 },
    { LC_CODEC_OPUS,      A, "opus",       "opus",          48000, 2, 13 },  /* 13: SRS's id */
    { LC_CODEC_NELLY,     A, "nellymoser", NULL,                0, 0,  6 },
    { LC_CODEC_PCM,       A, "PCM",        NULL,                0, 0,  3 },
    /* G722's RTP clock is 8000 by RFC 3551's historic error; it samples at 16 kHz */
    { LC_CODEC_G722,      A, "G722",       "G722",           8000, 0, -1 },
    { LC_CODEC_AMF0_DATA, D, "amf0",       NULL,                0, 0, 18 },
    { LC_CODEC_TEXT,      D, "text",       NULL,                0, 0, -1 },
};

static const int aac_rates[] = { 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000 };

const lc_codec_info_t *lc_codec_info(int codec)
{
    for (unsigned i = 0; i < sizeof table / sizeof table[0]; i++)
        if ((int)table[i].id == codec)
            return &table[i];
    return NULL;
}

const char *lc_codec_name(int codec)
{
    const lc_codec_info_t *c = lc_codec_info(codec);

    return c != NULL ? c->name : "none";
}

lc_codec_t lc_codec_by_rtpmap(const char *name)
{
    if (name == NULL)
        return LC_CODEC_NONE;
    for (unsigned i = 0; i < sizeof table / sizeof table[0]; i++)
        if (table[i].rtpmap != NULL && strcasecmp(table[i].rtpmap, name) == 0)
            return table[i].id;
    return LC_CODEC_NONE;
}

lc_codec_t lc_codec_by_name(const char *name)
{
    if (name == NULL)
        return LC_CODEC_NONE;
    for (unsigned i = 0; i < sizeof table / sizeof table[0]; i++)
        if (strcasecmp(table[i].name, name) == 0)
            return table[i].id;
    return LC_CODEC_NONE;
}

int lc_codec_rtpmap(int codec, int rate, int channels, char *buf, unsigned size)
{
    const lc_codec_info_t *c = lc_codec_info(codec);
    int n;

    if (c == NULL || c->rtpmap == NULL || size == 0)
        return -1;
    if (rate <= 0)
        rate = c->clock_rate;
    if (channels <= 0)
        channels = c->channels;
    if (channels > 0)
        n = snprintf(buf, size, "%s/%d/%d", c->rtpmap, rate, channels);
    else
        n = snprintf(buf, size, "%s/%d", c->rtpmap, rate);
    return n < 0 || (unsigned)n >= size ? -1 : 0;
}

const int *lc_codec_aac_rates(int *n)
{
    *n = (int)(sizeof aac_rates / sizeof aac_rates[0]);
    return aac_rates;
}
