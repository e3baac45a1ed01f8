/*
 * cdn_codecs.c: see cdn_codecs.h.
 */
#include "common/cdn/cdn_codecs.h"

#include "common/codec/codec.h"

/* Is codec in cdn.codecs_exclude (by rtpmap or display name)? */
static int excluded(const lc_conf_t *conf, int codec)
{
    for (size_t k = 0; k < conf->cdn_codecs_exclude.n; k++) {
        int x = (int)lc_codec_by_rtpmap(conf->cdn_codecs_exclude.v[k]);
        if (!x)
            x = (int)lc_codec_by_name(conf->cdn_codecs_exclude.v[k]);
        if (x == codec)
            return 1;
    }
    return 0;
}

/* The one codec of the list left by cdn.codecs_exclude; 0 when it leaves
 * more, or none. */
static int only_codec(const lc_conf_t *conf, const lc_conf_list_t *l)
{
    int kept[32], n = 0, pcma = 0, only = 0, count = 0;
    for (size_t i = 0; i < l->n && n < 32; i++) {
        int codec = (int)lc_codec_by_rtpmap(l->v[i]);
        if (codec && !excluded(conf, codec)) {
            kept[n++] = codec;
            pcma |= codec == LC_CODEC_PCMA;
        }
    }
    for (int i = 0; i < n; i++) {
        if (kept[i] == LC_CODEC_PCMU && pcma)
            continue; /* PCMU stands in for PCMA only when PCMA is excluded */
        only = kept[i];
        count++;
    }
    return count == 1 ? only : 0;
}

void lc_cdn_forwarded_codecs(const lc_conf_t *conf, int vcodec, int acodec, int *fvcodec, int *facodec)
{
    int ov = conf->cdn_codecs_exclude.n ? only_codec(conf, &conf->codecs_video) : 0;
    int oa = conf->cdn_codecs_exclude.n ? only_codec(conf, &conf->codecs_audio) : 0;
    *fvcodec = vcodec && ov ? ov : vcodec;
    *facodec = acodec && oa ? oa : acodec;
}
