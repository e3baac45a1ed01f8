/*
 * cdn_codecs.h: which codecs a stream crosses the CDN in (SPEC 6). An
 * edge pulls the publish codec, unless its cdn.codecs_exclude leaves it
 * one codec of that kind and the publish codec is another: then it pulls
 * the origin's derived stream in that codec, transcoded there once for
 * every such edge. PCMU counts only when PCMA is excluded. I/O-free: the
 * relay asks it what to pull, a worker what a pull will carry before its
 * first frame.
 */
#ifndef LC_CDN_CODECS_H
#define LC_CDN_CODECS_H

#include "common/core/conf.h"

/* The codecs (lc_codec_t, 0 none) a pull of a stream whose origin has
 * vcodec/acodec carries to this node. */
void lc_cdn_forwarded_codecs(const lc_conf_t *conf, int vcodec, int acodec, int *fvcodec, int *facodec);

#endif
