/*
 * transcode.c: see transcode.h. Everything here runs on the worker's loop
 * except tc_run, which runs on a pool thread and touches only its job and
 * the transcoder's codec side (t->audio, t->cfg_sent): the pool never runs
 * two jobs of one transcoder at once, and the loop touches that side only
 * once no job of it is left (tc_release).
 *
 * Frames are one job each (about 50 audio and 30 video a second). Audio
 * and video jobs have keys of their own (the pool orders jobs of one key
 * and runs different keys in parallel), so a video encode never delays
 * audio. A job that cannot be queued (the pool is full) drops its frame:
 * audio's jitter buffer and concealment cover the hole; video waits for
 * the next keyframe, which it asks the source for.
 */
#include "worker/transcode/transcode.h"

#include <errno.h>
#include <libavcodec/avcodec.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/codec/audio.h"
#include "common/codec/video.h"
#include "common/codec/codec.h"
#include "common/core/log.h"
#include "common/shm/stream_table.h"
#include "worker/stream_core.h"
#include "worker/transcode/pool.h"

#define LINGER_S 5             /* a derived stream outlives its last player by this much */
#define POOL_QUEUE 1024        /* jobs in the pool at once, all transcoders of this worker */
#define AAC_HDR 0xAF           /* FLV audio tag header: AAC, 44 kHz flag, 16-bit, stereo (as FLV wants for AAC) */
#define AUDIO_OUT_MAX 8192
#define VIDEO_OUT_MAX (1u << 20)  /* one encoded frame; 1 MiB is far above any sane bitrate's keyframe */
#define CFG_MAX 512
#define FLV_AVC_HDR 5             /* FLV AVC body: frame type/codec, packet type, composition time */

typedef struct lc_transcode lc_transcode_t;

struct lc_transcode {
    lc_worker_t *w;
    char name[LC_STREAM_NAME_MAX];    /* the derived stream */
    char source[LC_STREAM_NAME_MAX];
    uint32_t id, gen;                 /* of the derived stream */
    uint32_t src_id, src_gen;         /* of the source: its bitrate */
    int src_acodec, acodec;           /* acodec 0: audio passes through */
    int src_vcodec, vcodec;           /* vcodec 0: video passes through */
    lc_pub_t *pub;
    lc_play_t *play;
    int audio_key;                    /* the source's audio frames are keyframes (no video) */
    int idle_s;
    int jobs;                         /* in the pool */
    int ended;
    int codec_warned;                 /* the source's frames came in another codec than it was started for */
    uint64_t dropped, errors;
    /* codec side: pool threads only (see the top of the file); audio jobs
     * touch only the audio half, video jobs only the video half */
    lc_audio_t *audio;
    uint8_t cfg[CFG_MAX];             /* the source's AAC AudioSpecificConfig */
    size_t cfg_len;
    int cfg_sent;                     /* our own AAC sequence header is in the ring */
    lc_video_t *video;
    uint8_t vcfg[CFG_MAX];            /* the source's avcC */
    size_t vcfg_len;
    int vbitrate;                     /* what the encoder was last told */
    uint8_t *vout;                    /* VIDEO_OUT_MAX: one frame pulled from the encoder */
    lc_transcode_t *prev, *next;
};

typedef struct lc_transcode_state {
    lc_transcode_t *list;
    const char *h264_encoder;         /* transcoding.h264_encoder, or libx264 when libavcodec lacks it */
    lc_pool_t *pool;
    struct event *tick;
} tc_state_t;

enum { JOB_FRAME, JOB_CONFIG, JOB_VFRAME, JOB_VCONFIG };

/* An output record in a job: HEADROOM bytes, then the frame's bytes. The
 * loop writes the FLV tag header into the headroom, so a frame goes into
 * the ring from where the codec thread left it, with no copy. */
typedef struct {
    uint32_t len;
    uint32_t key;
    int64_t pts;
} rec_t;
#define HEADROOM 8

typedef struct {
    lc_pool_job_t job;
    lc_transcode_t *t;
    int kind;
    int64_t pts;
    int key;                          /* video: the input is a keyframe */
    int bitrate;                      /* video: the source's, bit/s (0 unknown) */
    size_t len;
    /* results, written by tc_run */
    uint8_t *out;                     /* rec_t + bytes, one after another */
    size_t out_len, out_cap;
    uint8_t out_cfg[HEADROOM + CFG_MAX]; /* HEADROOM, then our sequence header */
    int out_cfg_len;                  /* > 0: write our sequence header first */
    int need_key;                     /* video: the decoder waits for a keyframe */
    char err[160];
    int64_t cpu_us;
    uint8_t in[];
} tc_job_t;

int lc_transcode_supported(int src, int dst)
{
    static const int audio[] = { LC_CODEC_OPUS, LC_CODEC_AAC, LC_CODEC_PCMA, LC_CODEC_PCMU, LC_CODEC_G722,
                                 LC_CODEC_SPEEX };
    int s = 0, d = 0;
    if ((src == LC_CODEC_VP8 && dst == LC_CODEC_H264) || (src == LC_CODEC_H264 && dst == LC_CODEC_VP8))
        return 1;
    for (size_t i = 0; i < sizeof(audio) / sizeof(audio[0]); i++) {
        s |= audio[i] == src;
        d |= audio[i] == dst;
    }
    /* G722 never comes over RTMP, and nothing here publishes it yet */
    return s && d && src != dst && src != LC_CODEC_G722;
}

static tc_state_t *state(lc_worker_t *w)
{
    return w->transcode;
}

/* ---- the pool side ---- */

static int64_t thread_cpu_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int out_add(tc_job_t *j, const uint8_t *data, size_t len, int64_t pts, int key)
{
    size_t need = j->out_len + sizeof(rec_t) + HEADROOM + len;
    if (need > j->out_cap) {
        size_t cap = need * 2;
        uint8_t *p = realloc(j->out, cap);
        if (!p)
            return -1;
        j->out = p;
        j->out_cap = cap;
    }
    rec_t r = { (uint32_t)len, (uint32_t)key, pts };
    memcpy(j->out + j->out_len, &r, sizeof(r));
    memcpy(j->out + j->out_len + sizeof(r) + HEADROOM, data, len);
    j->out_len = need;
    return 0;
}

/* AAC out: 48 kHz stereo, as FLV players expect; Opus: 48 kHz stereo (opus/48000/2). */
static int open_audio(lc_transcode_t *t, char *err, size_t errlen)
{
    if (t->src_acodec == LC_CODEC_AAC && !t->cfg_len) {
        snprintf(err, errlen, "AAC frame before its AudioSpecificConfig: dropped");
        return -1;
    }
    int bitrate = t->acodec == LC_CODEC_OPUS ? 64000 : t->acodec == LC_CODEC_AAC ? 96000 : 0;
    t->audio = lc_audio_create(t->src_acodec, t->cfg_len ? t->cfg : NULL, t->cfg_len, t->acodec, 48000, 2, bitrate,
                               err, errlen);
    t->cfg_sent = 0;
    return t->audio ? 0 : -1;
}

static void run_audio(lc_transcode_t *t, tc_job_t *j)
{
    if (j->kind == JOB_CONFIG) {
        /* a new AudioSpecificConfig (the publisher restarted its encoder): a new decoder */
        if (j->len <= CFG_MAX && (j->len != t->cfg_len || memcmp(j->in, t->cfg, j->len) != 0)) {
            memcpy(t->cfg, j->in, j->len);
            t->cfg_len = j->len;
            lc_audio_destroy(t->audio);
            t->audio = NULL;
        }
        return;
    }
    if (!t->audio && open_audio(t, j->err, sizeof(j->err)) < 0)
        return;
    if (!t->cfg_sent) {
        int n = lc_audio_out_config(t->audio, j->out_cfg + HEADROOM, CFG_MAX);
        j->out_cfg_len = n > 0 ? n : 0;
        t->cfg_sent = 1;
    }
    if (lc_audio_push(t->audio, j->in, j->len, j->pts) < 0)
        snprintf(j->err, sizeof(j->err), "%s", lc_audio_error(t->audio));
    uint8_t buf[AUDIO_OUT_MAX];
    int64_t pts;
    int n;
    while ((n = lc_audio_pull(t->audio, buf, sizeof(buf), &pts)) > 0)
        if (out_add(j, buf, (size_t)n, pts, 0) < 0) {
            snprintf(j->err, sizeof(j->err), "out of memory");
            break;
        }
}

/* The source's bitrate less a typical audio track, followed when it moves by a fifth. */
static int video_bitrate(int source_bps)
{
    int bps = source_bps > 200000 ? source_bps - 64000 : 1000000;
    return bps < 100000 ? 100000 : bps;
}

static void run_video(lc_transcode_t *t, tc_job_t *j)
{
    if (j->kind == JOB_VCONFIG) {
        /* a new avcC (the publisher restarted its encoder): a new decoder */
        if (j->len <= CFG_MAX && (j->len != t->vcfg_len || memcmp(j->in, t->vcfg, j->len) != 0)) {
            memcpy(t->vcfg, j->in, j->len);
            t->vcfg_len = j->len;
            lc_video_destroy(t->video);
            t->video = NULL;
        }
        return;
    }
    int bps = video_bitrate(j->bitrate);
    if (!t->video) {
        lc_video_params_t p = { .src = t->src_vcodec, .dst = t->vcodec, .cfg = t->vcfg_len ? t->vcfg : NULL,
                                .cfg_len = t->vcfg_len, .bitrate = bps,
                                .h264_encoder = state(t->w)->h264_encoder };
        if (!(t->video = lc_video_create(&p, j->err, sizeof(j->err))))
            return;
        t->vbitrate = bps;
    } else if (bps > t->vbitrate * 6 / 5 || bps < t->vbitrate * 4 / 5) {
        lc_video_set_bitrate(t->video, bps);
        t->vbitrate = bps;
    }
    if (lc_video_push(t->video, j->in, j->len, j->pts, j->key) < 0 &&
        strncmp(lc_video_error(t->video), "waiting", 7) != 0) /* waiting for a keyframe is no news */
        snprintf(j->err, sizeof(j->err), "%s", lc_video_error(t->video));
    j->need_key = lc_video_needs_key(t->video);
    int n = lc_video_take_config(t->video, j->out_cfg + HEADROOM, CFG_MAX);
    j->out_cfg_len = n > 0 ? n : 0;
    int64_t pts;
    int key;
    if (!t->vout && !(t->vout = malloc(VIDEO_OUT_MAX))) {
        snprintf(j->err, sizeof(j->err), "out of memory");
        return;
    }
    while ((n = lc_video_pull(t->video, t->vout, VIDEO_OUT_MAX, &pts, &key)) > 0)
        if (out_add(j, t->vout, (size_t)n, pts, key) < 0) {
            snprintf(j->err, sizeof(j->err), "out of memory");
            break;
        }
}

static void tc_run(lc_pool_job_t *job)
{
    tc_job_t *j = job->arg;
    int64_t t0 = thread_cpu_us();
    if (j->kind == JOB_FRAME || j->kind == JOB_CONFIG)
        run_audio(j->t, j);
    else
        run_video(j->t, j);
    j->cpu_us = thread_cpu_us() - t0;
}

/* ---- the loop side ---- */

static void tc_release(lc_transcode_t *t)
{
    if (t->ended && t->jobs == 0) {
        lc_audio_destroy(t->audio);
        lc_video_destroy(t->video);
        free(t->vout);
        free(t);
    }
}

/* One frame into the derived ring; FLV bodies for AAC and H.264 (as an
 * RTMP publisher writes them), raw for the others (as WebRTC's). data has
 * HEADROOM bytes before it that are ours to write the tag header into. */
static int write_frame(lc_transcode_t *t, int track, int codec, int flags, int64_t pts, uint8_t *data, size_t len)
{
    const char *err;
    uint8_t hdr[FLV_AVC_HDR];
    size_t h = 0;
    if (codec == LC_CODEC_AAC) {
        hdr[h++] = AAC_HDR;
        hdr[h++] = (flags & LC_FRAME_CONFIG) ? 0 : 1;
    } else if (codec == LC_CODEC_H264) {
        hdr[h++] = (flags & (LC_FRAME_KEY | LC_FRAME_CONFIG)) ? 0x17 : 0x27;
        hdr[h++] = (flags & LC_FRAME_CONFIG) ? 0 : 1;
        hdr[h++] = 0; /* composition time 0: no B-frames out of our encoders */
        hdr[h++] = 0;
        hdr[h++] = 0;
    }
    memcpy(data - h, hdr, h);
    lc_frame_t f = { .track = (uint16_t)track, .codec = (uint8_t)codec, .flags = (uint8_t)flags,
                     .len = (uint32_t)(h + len), .ts = pts };
    int rc = lc_core_pub_write(t->pub, &f, data - h, &err);
    if (rc < 0 && t->errors++ % 1000 == 0)
        lc_log_warn("[stream:%s] transcoder: %s", t->name, err);
    return rc;
}

static void write_out(lc_transcode_t *t, tc_job_t *j)
{
    int video = j->kind == JOB_VFRAME;
    int track = video ? 0 : 1, codec = video ? t->vcodec : t->acodec;
    int64_t first = j->out_len >= sizeof(rec_t) ? ((rec_t *)(void *)j->out)->pts : j->pts;
    if (j->out_cfg_len > 0 && (codec == LC_CODEC_AAC || codec == LC_CODEC_H264) &&
        write_frame(t, track, codec, LC_FRAME_CONFIG, first, j->out_cfg + HEADROOM, (size_t)j->out_cfg_len) < 0)
        return;
    for (size_t off = 0; off + sizeof(rec_t) <= j->out_len;) {
        rec_t r;
        memcpy(&r, j->out + off, sizeof(r));
        int flags = video ? (r.key ? LC_FRAME_KEY : 0) : (t->audio_key ? LC_FRAME_KEY : 0);
        if (write_frame(t, track, codec, flags, r.pts, j->out + off + sizeof(r) + HEADROOM, r.len) < 0)
            break;
        off += sizeof(r) + HEADROOM + r.len;
    }
}

static void tc_done(lc_pool_job_t *job)
{
    tc_job_t *j = job->arg;
    lc_transcode_t *t = j->t;
    t->jobs--;
    if (!t->ended && !job->cancelled) {
        lc_stream_t *e = lc_shm_stream(t->w->cycle->shm, t->id);
        if (j->cpu_us > 0 && lc_stream_alive(t->w->cycle->shm, t->id, t->gen))
            atomic_fetch_add_explicit(&e->cpu_us, (uint64_t)j->cpu_us, memory_order_relaxed);
        if (j->err[0]) {
            /* once, then every 1000th: a corrupt source must not flood the log */
            if (t->errors++ % 1000 == 0)
                lc_log_warn("[stream:%s] transcoder %s: %s (%llu so far)", t->name, lc_codec_name(t->src_acodec),
                            j->err, (unsigned long long)t->errors);
        }
        write_out(t, j);
        if (j->need_key && t->play)
            lc_core_request_keyframe(t->play); /* at most one per 500 ms reaches the publisher */
    }
    free(j->out);
    free(j);
    tc_release(t);
}

static int submit(lc_transcode_t *t, int kind, const uint8_t *data, size_t len, int64_t pts, int key)
{
    tc_job_t *j = calloc(1, sizeof(*j) + len);
    if (!j)
        return -1;
    int video = kind == JOB_VFRAME || kind == JOB_VCONFIG;
    j->t = t;
    j->kind = kind;
    j->pts = pts;
    j->key = key;
    j->len = len;
    if (video && lc_stream_alive(t->w->cycle->shm, t->src_id, t->src_gen))
        j->bitrate = (int)atomic_load_explicit(&lc_shm_stream(t->w->cycle->shm, t->src_id)->bitrate_kbps,
                                               memory_order_relaxed) * 1000;
    memcpy(j->in, data, len);
    /* audio and video of one transcoder: two keys, so they run side by side */
    j->job = (lc_pool_job_t){ .key = video ? (void *)&t->video : (void *)&t->audio, .run = tc_run, .done = tc_done,
                              .arg = j };
    if (lc_pool_submit(state(t->w)->pool, &j->job) < 0) {
        free(j);
        if (t->dropped++ % 1000 == 0)
            lc_log_warn("[stream:%s] transcoding pool full: %s frame dropped (%llu so far)", t->name,
                        video ? "video" : "audio", (unsigned long long)t->dropped);
        if (video && t->play)
            lc_core_request_keyframe(t->play);
        return -1;
    }
    t->jobs++;
    return 0;
}

/* End the transcoder: its players are told why (NULL: the source's own end already told them). */
static void tc_end(lc_transcode_t *t, const char *why)
{
    if (t->ended)
        return;
    t->ended = 1;
    tc_state_t *st = state(t->w);
    if (t->prev)
        t->prev->next = t->next;
    else
        st->list = t->next;
    if (t->next)
        t->next->prev = t->prev;
    if (t->play)
        lc_core_stop(t->play);
    t->play = NULL;
    if (t->pub)
        lc_core_unpublish_reason(t->pub, why);
    t->pub = NULL;
    tc_release(t);
}

static void other_codec(lc_transcode_t *t, int codec)
{
    if (!t->codec_warned++)
        lc_log_warn("[stream:%s] transcoder: the source sends %s, not what it was started for: dropped", t->name,
                    lc_codec_name(codec));
}

/* The source's audio: FLV bodies (RTMP publishers: AAC with a packet type
 * byte, the others with the sound header only) or raw Opus (WebRTC). */
static void source_audio(lc_transcode_t *t, lc_shared_frame_t *sf)
{
    const uint8_t *p = sf->payload;
    size_t n = sf->f.len;
    if (sf->f.codec != t->src_acodec) {
        other_codec(t, sf->f.codec); /* not ours to guess */
        return;
    }
    t->audio_key = (sf->f.flags & LC_FRAME_KEY) != 0;
    if (t->src_acodec == LC_CODEC_AAC) {
        if (n < 2)
            return;
        if (p[1] == 0) {
            submit(t, JOB_CONFIG, p + 2, n - 2, sf->f.ts, 0);
            return;
        }
        p += 2;
        n -= 2;
    } else if (t->src_acodec != LC_CODEC_OPUS) {
        if (n < 1)
            return;
        p++;
        n--;
    }
    if (n)
        submit(t, JOB_FRAME, p, n, sf->f.ts, 0);
}

/* The source's video: FLV AVC bodies (H.264, from RTMP or WebRTC) or raw VP8. */
static void source_video(lc_transcode_t *t, lc_shared_frame_t *sf)
{
    const uint8_t *p = sf->payload;
    size_t n = sf->f.len;
    int64_t pts = sf->f.ts;
    int key = (sf->f.flags & LC_FRAME_KEY) != 0;
    if (sf->f.codec != t->src_vcodec) {
        other_codec(t, sf->f.codec);
        return;
    }
    if (t->src_vcodec == LC_CODEC_H264) {
        if (n < FLV_AVC_HDR)
            return;
        if (p[1] == 0) {
            submit(t, JOB_VCONFIG, p + FLV_AVC_HDR, n - FLV_AVC_HDR, pts, 0);
            return;
        }
        if (p[1] != 1)
            return; /* end of sequence */
        int32_t cts = (int32_t)((uint32_t)p[2] << 16 | (uint32_t)p[3] << 8 | p[4]);
        if (cts & 0x800000)
            cts -= 0x1000000;
        pts += (int64_t)cts * 1000;
        p += FLV_AVC_HDR;
        n -= FLV_AVC_HDR;
    }
    if (n)
        submit(t, JOB_VFRAME, p, n, pts, key);
}

static void src_frame(void *ctx, lc_shared_frame_t *sf)
{
    lc_transcode_t *t = ctx;
    const char *err;
    if (t->ended)
        return;
    if (sf->f.track == 1 && t->acodec) {
        source_audio(t, sf);
        return;
    }
    if (sf->f.track == 0 && t->vcodec) {
        source_video(t, sf);
        return;
    }
    /* the tracks we do not convert, metadata, data channel text: as they are */
    if (lc_core_pub_write(t->pub, &sf->f, sf->payload, &err) < 0 && t->errors++ % 1000 == 0)
        lc_log_warn("[stream:%s] transcoder: %s", t->name, err);
}

static void src_end(void *ctx, const char *why)
{
    lc_transcode_t *t = ctx;
    t->play = NULL; /* the core freed it */
    lc_log_info("[stream:%s] transcoder ends with its source: %s", t->name, why);
    tc_end(t, why);
}

/* A transcoder keeps up with its source or drops audio in the pool: never congested. */
static int src_congested(void *ctx)
{
    (void)ctx;
    return 0;
}

static size_t src_queued(void *ctx)
{
    (void)ctx;
    return 0;
}

static void src_flush(void *ctx, int urgent)
{
    (void)ctx;
    (void)urgent;
}

static const lc_player_ops_t src_ops = { src_frame, src_end, src_congested, src_queued, src_flush };

static void pub_terminate(void *ctx)
{
    lc_transcode_t *t = ctx;
    lc_log_info("[stream:%s] transcoder terminated by the control API", t->name);
    tc_end(t, "Terminated by the server");
}

/* Our players' keyframe requests go on to the source (SPEC 6: through every transcoder). */
static void pub_keyframe(void *ctx)
{
    lc_transcode_t *t = ctx;
    if (t->play)
        lc_core_request_keyframe(t->play);
}

static const lc_pub_ops_t pub_ops = { pub_terminate, pub_keyframe };

static int players_anywhere(lc_transcode_t *t)
{
    lc_stream_t *e = lc_shm_stream(t->w->cycle->shm, t->id);
    uint32_t n = 0;
    for (int i = 0; i < LC_PROC_SLOTS; i++)
        n += atomic_load_explicit(&e->players[i], memory_order_relaxed);
    return n != 0;
}

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
    lc_worker_t *w = arg;
    (void)fd;
    (void)what;
    for (lc_transcode_t *t = state(w)->list, *next; t; t = next) {
        next = t->next;
        t->idle_s = players_anywhere(t) ? 0 : t->idle_s + 1;
        if (t->idle_s >= LINGER_S) {
            lc_log_info("[stream:%s] transcoder ends: no player for %d s", t->name, LINGER_S);
            tc_end(t, "Transcoder stopped: no players");
        }
    }
}

static tc_state_t *state_get(lc_worker_t *w)
{
    if (w->transcode)
        return w->transcode;
    char err[160];
    tc_state_t *st = calloc(1, sizeof(*st));
    if (!st)
        return NULL;
    st->pool = lc_pool_create(w->base, (int)w->cycle->conf->transcoding_threads, POOL_QUEUE, err, sizeof(err));
    struct timeval tv = { 1, 0 };
    st->tick = event_new(w->base, -1, EV_PERSIST, on_tick, w);
    if (!st->pool || !st->tick || event_add(st->tick, &tv) < 0) {
        lc_log_error("transcoding pool: %s", st->pool ? "no timer" : err);
        if (st->tick)
            event_free(st->tick);
        if (st->pool)
            lc_pool_destroy(st->pool);
        free(st);
        return NULL;
    }
    st->h264_encoder = w->cycle->conf->transcoding_h264_encoder;
    if (!avcodec_find_encoder_by_name(st->h264_encoder)) {
        lc_log_warn("transcoding.h264_encoder \"%s\" is not in this libavcodec: libx264 encodes H.264",
                    st->h264_encoder);
        st->h264_encoder = "libx264";
    }
    lc_log_info("transcoding pool: %d threads", lc_pool_threads(st->pool));
    w->transcode = st;
    return st;
}

/* A transcoder of source (codecs src) making dname (codecs out), not yet running. */
static lc_transcode_t *tc_new(lc_worker_t *w, const char *source, const int src[2], const char *dname,
                              const int out[2])
{
    lc_transcode_t *t = calloc(1, sizeof(*t));
    if (!t)
        return NULL;
    t->w = w;
    snprintf(t->name, sizeof(t->name), "%s", dname);
    snprintf(t->source, sizeof(t->source), "%s", source);
    t->src_vcodec = src[0];
    t->vcodec = out[0];
    t->src_acodec = src[1];
    t->acodec = out[1];
    return t;
}

static void tc_who(const lc_transcode_t *t, char *who, size_t size)
{
    snprintf(who, size, "transcode %s%s%s%s%s%s%s", t->vcodec ? lc_codec_name(t->src_vcodec) : "",
             t->vcodec ? ">" : "", t->vcodec ? lc_codec_name(t->vcodec) : "", t->vcodec && t->acodec ? " " : "",
             t->acodec ? lc_codec_name(t->src_acodec) : "", t->acodec ? ">" : "",
             t->acodec ? lc_codec_name(t->acodec) : "");
}

/* t has its derived stream (pub, id, gen): run it. 0, or an error with t ended. */
static int tc_begin(lc_transcode_t *t)
{
    tc_state_t *st = state(t->w);
    char who[64];
    t->next = st->list;
    if (st->list)
        st->list->prev = t;
    st->list = t;
    /* the source's config and GOP arrive through src_frame before this returns */
    int rc = lc_core_play(t->w, t->source, &src_ops, t, &t->play);
    if (rc < 0) {
        t->play = NULL;
        tc_end(t, "Stream not found");
        return rc;
    }
    tc_who(t, who, sizeof(who));
    lc_log_info("[stream:%s] transcoder started (%s), on %d pool threads", t->name, who + 10,
                lc_pool_threads(st->pool));
    return 0;
}

int lc_transcode_start(lc_worker_t *w, const char *source, const int src[2], const char *dname, const int out[2],
                       uint32_t *id, uint32_t *gen)
{
    if ((out[0] && !lc_transcode_supported(src[0], out[0])) || (out[1] && !lc_transcode_supported(src[1], out[1])))
        return -ENOTSUP;
    tc_state_t *st = state_get(w);
    lc_transcode_t *t = st ? tc_new(w, source, src, dname, out) : NULL;
    char who[64];
    if (!t)
        return -ENOMEM;
    if (lc_stream_find(w->cycle->shm, source, &t->src_id, &t->src_gen) < 0) {
        free(t);
        return -ENOENT;
    }
    tc_who(t, who, sizeof(who));
    int rc = lc_core_publish_derived(w, dname, who, &pub_ops, t, &t->pub);
    if (rc < 0) {
        free(t);
        return rc;
    }
    if (lc_stream_find(w->cycle->shm, dname, &t->id, &t->gen) < 0) {
        lc_core_unpublish_reason(t->pub, NULL);
        free(t);
        return -ENOENT;
    }
    if ((rc = tc_begin(t)) < 0)
        return rc;
    *id = t->id;
    *gen = t->gen;
    return 0;
}

/* Start the derived stream the relay made for us (entry id): its name says what of what. */
static void adopt(lc_worker_t *w, uint32_t id, uint32_t gen)
{
    lc_shm_t *shm = w->cycle->shm;
    lc_stream_t *e = lc_shm_stream(shm, id);
    char source[LC_STREAM_NAME_MAX], dname[LC_STREAM_NAME_MAX], who[64];
    int src[2] = { 0, 0 }, out[2], scodecs[2];
    lc_stream_codecs_t c;
    lc_pub_t *pub;
    const char *why = NULL;
    snprintf(dname, sizeof(dname), "%s", e->name);
    if (lc_stream_derived_parse(dname, source, sizeof(source), &out[0], &out[1]) < 0)
        why = "Bad derived stream name";
    else if (lc_stream_codecs(shm, source, &c) < 0)
        why = "Stream not found";
    if (!why) {
        scodecs[0] = c.vcodec;
        scodecs[1] = c.acodec;
        for (int k = 0; k < 2; k++) /* asked for what the source already is: pass it through */
            src[k] = scodecs[k], out[k] = out[k] == scodecs[k] ? 0 : out[k];
        if ((out[0] && !lc_transcode_supported(src[0], out[0])) ||
            (out[1] && !lc_transcode_supported(src[1], out[1])))
            why = "Codec not supported: no such transcoder";
    }
    tc_state_t *st = why ? NULL : state_get(w);
    lc_transcode_t *t = st ? tc_new(w, source, src, dname, out) : NULL;
    if (!why && !t)
        why = "out of memory";
    if (t) {
        tc_who(t, who, sizeof(who));
        if (lc_stream_find(shm, source, &t->src_id, &t->src_gen) < 0)
            why = "Stream not found";
        else if (lc_core_publish_adopt(w, id, gen, who, &pub_ops, t, &pub) < 0)
            why = "Stream not found";
    }
    if (why) {
        free(t);
        lc_log_warn("[stream:%s] the CDN's derived stream not started: %s", dname, why);
        if (lc_stream_alive(shm, id, gen)) {
            snprintf(e->end_reason, sizeof(e->end_reason), "%s", why);
            lc_stream_unpublish(shm, id);
        }
        return;
    }
    t->pub = pub;
    t->id = id;
    t->gen = gen;
    tc_begin(t);
}

void lc_transcode_on_wake(lc_worker_t *w)
{
    lc_shm_t *shm = w->cycle->shm;
    lc_proc_t *me = lc_shm_proc(shm, w->cycle->slot);
    uint32_t req = atomic_load_explicit(&me->derive_requests, memory_order_acquire);
    if (req == w->derive_requests_seen)
        return;
    w->derive_requests_seen = req;
    for (uint32_t i = 0; i < shm->streams_max; i++) {
        lc_stream_t *e = lc_shm_stream(shm, i);
        uint32_t one = 1;
        if (atomic_load_explicit(&e->state, memory_order_acquire) != LC_STREAM_LIVE || e->owner_slot != w->cycle->slot)
            continue;
        /* taken once: the flag goes 1 -> 0 here only */
        if (atomic_compare_exchange_strong(&e->adopt, &one, 0))
            adopt(w, i, e->gen);
    }
}

void lc_transcode_free_all(lc_worker_t *w)
{
    tc_state_t *st = state(w);
    if (!st)
        return;
    while (st->list)
        tc_end(st->list, LC_STREAM_END_MOVED); /* its players go on with a new maker (stream_core.c) */
    /* cancelled jobs come back through tc_done, which frees them and their transcoders */
    lc_pool_destroy(st->pool);
    event_free(st->tick);
    free(st);
    w->transcode = NULL;
}
