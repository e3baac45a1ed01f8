/*
 * stream_core.c: see stream_core.h. Everything here runs in one worker's
 * loop; the only shared state is the arena (stream table, rings), touched
 * through stream_table.h and ring.h.
 */
#include "worker/stream_core.h"

#include <errno.h>
#include <malloc.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/core/log.h"
#include "common/core/net.h"
#include "common/cdn/cdn_codecs.h"
#include "common/shm/cdn_table.h"
#include "common/shm/keyframe.h"
#include "common/shm/notify.h"
#include "common/shm/stream_table.h"
#include "worker/transcode/transcode.h"


struct lc_pub {
    lc_worker_t *w;
    uint32_t id, gen;
    lc_stream_t *entry;
    lc_ring_t *ring;
    const lc_pub_ops_t *ops;
    void *ctx;
    int terminating;
    int derived;                 /* a transcoder's: not a client's publish */
    uint32_t keyframe_requests;  /* the entry's count we last answered */
    uint64_t last_bytes;
    uint64_t media_frames;       /* frames written, not config or metadata: idle_publishers_end */
    uint64_t media_seen;         /* media_frames at the last tick */
    long long idle_s;            /* ticks without media */
    lc_pub_t *prev, *next;
};

#define CATCHUP_SLICE (64u << 10) /* bytes a catching-up player may have queued */

typedef struct lc_fanout lc_fanout_t;

struct lc_play {
    lc_fanout_t *fo;
    const lc_player_ops_t *ops;
    void *ctx;
    int live;                /* joined the fan-out (else catching up on its own cursor) */
    int skip_to_key;         /* congested: drop until the next keyframe */
    int flushed_live;        /* had its first flush as a live player */
    lc_ring_cursor_t cursor; /* while catching up */
    /* a player of a derived stream: what it asked for, so that it moves to
     * the stream's next maker when this one's worker exits (fanout_move) */
    char *source;
    lc_core_accept_t acc;
    lc_play_t *prev, *next;
};

/* Protocol bytes of one frame of the current GOP, by the frame's end
 * position in the ring: players catching up from the last keyframe send
 * these instead of building their own copy of the whole GOP. */
typedef struct {
    uint64_t end;
    lc_refbuf_t *rtmp;
} lc_gop_frame_t;

struct lc_fanout {
    lc_worker_t *w;
    uint32_t id, gen;
    lc_ring_t *ring;
    lc_ring_cursor_t cursor;
    uint8_t *buf;
    size_t cap;
    lc_play_t *players;
    int nplayers;
    lc_gop_frame_t *gop;     /* sorted by end */
    size_t ngop, gop_alloc, gop_bytes;
    lc_fanout_t *prev, *next;
};

struct lc_core {
    lc_pub_t *pubs;
    lc_fanout_t *fanouts;
    struct event *tick;
};

#define LIST_ADD(head, e) do { (e)->prev = NULL; (e)->next = (head); if (head) (head)->prev = (e); (head) = (e); } while (0)
#define LIST_DEL(head, e) do { if ((e)->prev) (e)->prev->next = (e)->next; else (head) = (e)->next; \
                               if ((e)->next) (e)->next->prev = (e)->prev; } while (0)

static lc_proc_t *self(lc_worker_t *w)
{
    return lc_shm_proc(w->cycle->shm, w->cycle->slot);
}

/* ---- publish ---- */

/* The address limits.max_streams_per_ip counts a publish against: the
 * last word of `who` ("rtmp 1.2.3.4:5678", "webrtc whip [::1]:5678"),
 * without its port, into buf (INET6_ADDRSTRLEN). "" when the address is
 * in limits.trusted, or when `who` names none (then nothing is counted,
 * and the log says so). */
static void publish_client(lc_worker_t *w, const char *who, char *buf, size_t len)
{
    const lc_conf_list_t *trusted = &w->cycle->conf->limits_trusted;
    const char *addr = strrchr(who, ' ');
    lc_net_addr_t a;
    const char *why;
    buf[0] = '\0';
    if (lc_net_parse_addr(addr ? addr + 1 : who, &a, &why) < 0 ||
        getnameinfo((struct sockaddr *)&a.ss, a.len, buf, (socklen_t)len, NULL, 0, NI_NUMERICHOST) != 0) {
        buf[0] = '\0';
        lc_log_warn("publisher \"%s\" has no address: limits.max_streams_per_ip does not count it", who);
        return;
    }
    for (size_t i = 0; i < trusted->n; i++)
        if (lc_net_cidr_match(trusted->v[i], (struct sockaddr *)&a.ss) == 1) {
            buf[0] = '\0';
            return;
        }
}

static int pub_new(lc_worker_t *w, uint32_t id, const char *who, const lc_pub_ops_t *ops, void *ctx, int derived,
                   lc_pub_t **out);

int lc_core_publish(lc_worker_t *w, const char *name, const char *who, const lc_pub_ops_t *ops, void *ctx,
                    lc_pub_t **out)
{
    lc_shm_t *shm = w->cycle->shm;
    uint32_t id;
    char client[64];
    publish_client(w, who, client, sizeof(client));
    int rc = lc_stream_publish_from(shm, name, w->cycle->slot, getpid(), client,
                                    (uint32_t)w->cycle->conf->limits_max_streams_per_ip, &id);
    if (rc == -EDQUOT)
        lc_log_warn("[stream:%s] publish from %s refused: it already publishes %lld streams "
                    "(limits.max_streams_per_ip)", name, client, w->cycle->conf->limits_max_streams_per_ip);
    else if (rc == -EUSERS)
        lc_log_warn("[stream:%s] publish from %s refused: untrusted addresses hold %u of %u rings, the rest is "
                    "kept for limits.trusted and the CDN", name, client, lc_stream_untrusted_max(shm), shm->rings);
    if (rc < 0)
        return rc;
    return pub_new(w, id, who, ops, ctx, 0, out);
}

int lc_core_publish_derived(lc_worker_t *w, const char *name, const char *who, const lc_pub_ops_t *ops, void *ctx,
                            lc_pub_t **out)
{
    uint32_t id;
    int rc = lc_stream_publish_derived(w->cycle->shm, name, w->cycle->slot, getpid(),
                                       (uint32_t)w->cycle->conf->transcoding_max_jobs, &id);
    if (rc == -EDQUOT)
        lc_log_warn("[stream:%s] not started: %lld derived streams are live (transcoding.max_jobs)", name,
                    w->cycle->conf->transcoding_max_jobs);
    if (rc < 0)
        return rc;
    return pub_new(w, id, who, ops, ctx, 1, out);
}

int lc_core_publish_adopt(lc_worker_t *w, uint32_t id, uint32_t gen, const char *who, const lc_pub_ops_t *ops,
                          void *ctx, lc_pub_t **out)
{
    lc_shm_t *shm = w->cycle->shm;
    if (!lc_stream_alive(shm, id, gen) || lc_shm_stream(shm, id)->owner_slot != w->cycle->slot)
        return -ENOENT;
    return pub_new(w, id, who, ops, ctx, 1, out);
}

/* The lc_pub_t of the entry id just taken. */
static int pub_new(lc_worker_t *w, uint32_t id, const char *who, const lc_pub_ops_t *ops, void *ctx, int derived,
                   lc_pub_t **out)
{
    lc_shm_t *shm = w->cycle->shm;
    lc_pub_t *p = calloc(1, sizeof(*p));
    if (!p) {
        lc_stream_unpublish(shm, id);
        return -ENOMEM;
    }
    p->w = w;
    p->derived = derived;
    p->id = id;
    p->entry = lc_shm_stream(shm, id);
    p->gen = p->entry->gen;
    p->ring = lc_shm_ring(shm, (uint32_t)p->entry->ring);
    p->ops = ops;
    p->ctx = ctx;
    /* cut to the table's field, visibly */
    snprintf(p->entry->publisher, sizeof(p->entry->publisher), "%.*s", (int)sizeof(p->entry->publisher) - 1, who);
    LIST_ADD(w->core->pubs, p);
    if (!derived)
        atomic_fetch_add(&self(w)->publishers, 1);
    *out = p;
    return 0;
}

int lc_core_pub_write(lc_pub_t *p, const lc_frame_t *f, const void *payload, const char **err)
{
    if (lc_stream_write(p->w->cycle->shm, p->id, f, payload, err) < 0)
        return -1;
    if (!(f->flags & (LC_FRAME_CONFIG | LC_FRAME_META))) /* a publisher may repeat its metadata for ever */
        p->media_frames++;
    atomic_fetch_add_explicit(&self(p->w)->bytes_in, f->len, memory_order_relaxed);
    return 0;
}

void lc_core_pubs_end_reason(lc_worker_t *w, const char *why)
{
    for (lc_pub_t *p = w->core->pubs; p; p = p->next)
        snprintf(p->entry->end_reason, sizeof(p->entry->end_reason), "%s", why);
}

void lc_core_unpublish(lc_pub_t *p)
{
    lc_worker_t *w = p->w;
    if (lc_stream_alive(w->cycle->shm, p->id, p->gen))
        lc_stream_unpublish(w->cycle->shm, p->id);
    LIST_DEL(w->core->pubs, p);
    if (!p->derived)
        atomic_fetch_sub(&self(w)->publishers, 1);
    free(p);
}

void lc_core_unpublish_reason(lc_pub_t *p, const char *why)
{
    if (why && lc_stream_alive(p->w->cycle->shm, p->id, p->gen))
        snprintf(p->entry->end_reason, sizeof(p->entry->end_reason), "%s", why);
    lc_core_unpublish(p);
}

/* ---- play ---- */

static void gop_clear(lc_fanout_t *fo)
{
    for (size_t i = 0; i < fo->ngop; i++)
        lc_refbuf_unref(fo->gop[i].rtmp);
    fo->ngop = 0;
    fo->gop_bytes = 0;
}

static lc_refbuf_t *gop_find(const lc_fanout_t *fo, uint64_t end)
{
    size_t lo = 0, hi = fo->ngop;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (fo->gop[mid].end < end)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < fo->ngop && fo->gop[lo].end == end ? fo->gop[lo].rtmp : NULL;
}

/* Keep a frame's bytes for later players; bounded by the ring's size,
 * since frames older than that are gone from the ring anyway. */
static void gop_keep(lc_fanout_t *fo, uint64_t end, lc_refbuf_t *rtmp)
{
    if (!rtmp || gop_find(fo, end) || fo->gop_bytes + rtmp->len > fo->ring->cap)
        return;
    if (fo->ngop == fo->gop_alloc) {
        size_t n = fo->gop_alloc ? fo->gop_alloc * 2 : 64;
        lc_gop_frame_t *g = realloc(fo->gop, n * sizeof(*g));
        if (!g)
            return;
        fo->gop = g;
        fo->gop_alloc = n;
    }
    size_t i = fo->ngop;
    while (i > 0 && fo->gop[i - 1].end > end)
        i--;
    memmove(fo->gop + i + 1, fo->gop + i, (fo->ngop - i) * sizeof(*fo->gop));
    fo->gop[i] = (lc_gop_frame_t){ end, lc_refbuf_ref(rtmp) };
    fo->ngop++;
    fo->gop_bytes += rtmp->len;
}

static void fanout_free(lc_fanout_t *fo)
{
    lc_worker_t *w = fo->w;
    gop_clear(fo);
    free(fo->gop);
    lc_stream_unsubscribe(w->cycle->shm, fo->id, fo->gen, w->cycle->slot);
    LIST_DEL(w->core->fanouts, fo);
    free(fo->buf);
    free(fo);
}

static lc_fanout_t *fanout_get(lc_worker_t *w, uint32_t id, uint32_t gen)
{
    for (lc_fanout_t *fo = w->core->fanouts; fo; fo = fo->next)
        if (fo->id == id && fo->gen == gen)
            return fo;
    lc_shm_t *shm = w->cycle->shm;
    lc_fanout_t *fo = calloc(1, sizeof(*fo));
    if (!fo)
        return NULL;
    fo->w = w;
    fo->id = id;
    fo->gen = gen;
    fo->ring = lc_shm_ring(shm, (uint32_t)lc_shm_stream(shm, id)->ring);
    fo->cap = lc_ring_max_frame(fo->ring);
    fo->buf = malloc(fo->cap > LC_RING_CONFIG_MAX ? fo->cap : LC_RING_CONFIG_MAX);
    if (!fo->buf) {
        free(fo);
        return NULL;
    }
    /* subscribe before taking the cursor: a frame written in between wakes us */
    lc_stream_subscribe(shm, id, w->cycle->slot);
    lc_ring_cursor_init(fo->ring, &fo->cursor, LC_RING_FROM_NOW);
    fo->cursor.need_key = 0; /* the shared cursor passes everything on; players filter */
    /* the ring may have been reused between the lookup and the cursor */
    if (!lc_stream_alive(shm, id, gen)) {
        lc_stream_unsubscribe(shm, id, gen, w->cycle->slot);
        free(fo->buf);
        free(fo);
        return NULL;
    }
    LIST_ADD(w->core->fanouts, fo);
    return fo;
}

static void deliver(lc_play_t *pl, lc_shared_frame_t *sf)
{
    /* codec configuration always passes: the frames after it need it */
    if (!(sf->f.flags & (LC_FRAME_CONFIG | LC_FRAME_META))) {
        if (pl->skip_to_key) {
            if (!(sf->f.flags & LC_FRAME_KEY) || pl->ops->congested(pl->ctx))
                return;
            pl->skip_to_key = 0;
        } else if (pl->ops->congested(pl->ctx)) {
            pl->skip_to_key = 1;
            return;
        }
    }
    pl->ops->on_frame(pl->ctx, sf);
}

static void deliver_config(lc_play_t *pl, lc_fanout_t *fo)
{
    const unsigned *order = lc_stream_config_order;
    for (unsigned i = 0; i < 3; i++) {
        lc_shared_frame_t sf = { .payload = fo->buf };
        if (lc_ring_get_config(fo->ring, order[i], &sf.f, fo->buf, LC_RING_CONFIG_MAX) > 0) {
            pl->ops->on_frame(pl->ctx, &sf);
            lc_refbuf_unref(sf.rtmp);
            lc_refbuf_unref(sf.rtp);
        }
    }
}

/* Not published here: if an origin of the CDN has it, make the entry the
 * relay will pull into, so this player and every later one (any worker,
 * any protocol) wait on the one pull. 0 with id/gen, or -ENOENT. */
static int request_pull(lc_worker_t *w, const char *name, uint32_t *id, uint32_t *gen)
{
    lc_shm_t *shm = w->cycle->shm;
    char origin[LC_CDN_ADDR_MAX];
    int relay = lc_shm_relay_slot(shm);
    if (relay < 0 || lc_cdn_route_find(shm, name, origin) < 0)
        return -ENOENT;
    int rc = lc_stream_publish(shm, name, relay, lc_shm_proc(shm, relay)->pid, id);
    if (rc == -EEXIST) /* another worker asked first */
        return lc_stream_find(shm, name, id, gen);
    if (rc < 0)
        return -ENOENT;
    lc_stream_t *s = lc_shm_stream(shm, *id);
    *gen = s->gen;
    snprintf(s->publisher, sizeof(s->publisher), "cdn %.*s", (int)sizeof(s->publisher) - 5, origin);
    atomic_store_explicit(&s->pulled, 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&lc_shm_cdn(shm)->pull_requests, 1, memory_order_release);
    lc_notify_wake(shm, relay);
    return 0;
}

int lc_core_playable(lc_worker_t *w, const char *name)
{
    uint32_t id, gen;
    char origin[LC_CDN_ADDR_MAX];
    return lc_stream_find(w->cycle->shm, name, &id, &gen) == 0 || lc_cdn_route_find(w->cycle->shm, name, origin) == 0;
}

/* The player of stream (id, gen), on this worker's fan-out of it. */
static int play_entry(lc_worker_t *w, uint32_t id, uint32_t gen, const lc_player_ops_t *ops, void *ctx,
                      lc_play_t **out)
{
    lc_fanout_t *fo = fanout_get(w, id, gen);
    if (!fo)
        return -ENOENT;
    lc_play_t *pl = calloc(1, sizeof(*pl));
    if (!pl) {
        if (!fo->players)
            fanout_free(fo);
        return -ENOMEM;
    }
    pl->fo = fo;
    pl->ops = ops;
    pl->ctx = ctx;
    pl->skip_to_key = 1; /* a player's first media frame is a keyframe */
    lc_ring_cursor_init(fo->ring, &pl->cursor, w->cycle->conf->media_gop_cache ? LC_RING_FROM_KEY : LC_RING_FROM_NOW);
    LIST_ADD(fo->players, pl);
    fo->nplayers++;
    atomic_fetch_add(&lc_shm_stream(w->cycle->shm, id)->players[w->cycle->slot], 1);
    atomic_fetch_add(&self(w)->players, 1);
    *out = pl;
    /* nothing to start from: a publisher that sends keyframes only when
     * asked (browsers) would leave this player waiting */
    if (pl->cursor.need_key)
        lc_keyframe_request(w->cycle->shm, id, gen);
    deliver_config(pl, fo);
    /* catch up now rather than at the next frame: video shows at once */
    lc_notify_wake(w->cycle->shm, w->cycle->slot);
    return 0;
}

int lc_core_play(lc_worker_t *w, const char *name, const lc_player_ops_t *ops, void *ctx, lc_play_t **out)
{
    uint32_t id, gen;
    if (lc_stream_find(w->cycle->shm, name, &id, &gen) < 0 && request_pull(w, name, &id, &gen) < 0)
        return -ENOENT;
    return play_entry(w, id, gen, ops, ctx, out);
}

/* The codecs of stream `name` as far as they are known (its frames, its
 * publisher's declaration, its CDN route), 0 when unknown. -ENOENT. */
static int stream_codecs_of(lc_shm_t *shm, const lc_conf_t *conf, const char *name, int *vcodec, int *acodec)
{
    lc_stream_codecs_t c;
    int v = 0, a = 0, local = lc_stream_codecs(shm, name, &c) == 0;
    *vcodec = local ? c.vcodec : 0;
    *acodec = local ? c.acodec : 0;
    if ((!*vcodec || !*acodec) && lc_cdn_route_codecs(shm, name, &v, &a) == 0) {
        /* a pull before its first frames: as its origin said, in the codecs the pull carries */
        lc_cdn_forwarded_codecs(conf, v, a, &v, &a);
        *vcodec = *vcodec ? *vcodec : v;
        *acodec = *acodec ? *acodec : a;
        return 0;
    }
    return local ? 0 : -ENOENT;
}

/* Does a player that takes `mask` and wants `want` need `codec` transcoded? */
static int needs(int codec, uint64_t mask, int want)
{
    /* the stream's own codec, whatever the player's preference (SPEC 6) */
    return codec > 0 && codec < 64 && want && !(mask & LC_CORE_CODEC_BIT(codec));
}

/* The derived stream a player of `name` needs, into dname, with the
 * codecs it makes (0: passed through): 1, or 0 (the stream as it is: its
 * codecs are the player's, or not known), -ENOTSUP. */
static int derived_for(lc_shm_t *shm, const lc_conf_t *conf, const char *name, const lc_core_accept_t *acc,
                       int src[2], int out[2], char *dname, size_t size)
{
    if (stream_codecs_of(shm, conf, name, &src[0], &src[1]) < 0)
        return 0;
    out[0] = needs(src[0], acc->video, acc->video_want) ? acc->video_want : 0;
    out[1] = needs(src[1], acc->audio, acc->audio_want) ? acc->audio_want : 0;
    if (!out[0] && !out[1])
        return 0;
    if ((out[0] && !lc_transcode_supported(src[0], out[0])) || (out[1] && !lc_transcode_supported(src[1], out[1])) ||
        lc_stream_derived_name(name, out[0], out[1], dname, size) < 0)
        return -ENOTSUP;
    return 1;
}

int lc_core_play_check(lc_worker_t *w, const char *name, const lc_core_accept_t *acc)
{
    lc_shm_t *shm = w->cycle->shm;
    int src[2], out[2];
    uint32_t id, gen;
    char dname[LC_STREAM_NAME_MAX];
    int rc = derived_for(shm, w->cycle->conf, name, acc, src, out, dname, sizeof(dname));
    if (rc <= 0)
        return rc;
    if (lc_stream_find(shm, dname, &id, &gen) == 0)
        return 0;
    return lc_stream_count_derived(shm) >= (uint32_t)w->cycle->conf->transcoding_max_jobs ? -EDQUOT : 0;
}

/* The stream (id, gen) a player of `name` with codecs acc reads: the
 * stream itself, or its derived stream, found or claimed and started here. */
static int resolve_as(lc_worker_t *w, const char *name, const lc_core_accept_t *acc, uint32_t *id, uint32_t *gen,
                      int *derived)
{
    lc_shm_t *shm = w->cycle->shm;
    int src[2], out[2];
    char dname[LC_STREAM_NAME_MAX];
    *derived = 0;
    if (lc_stream_find(shm, name, id, gen) < 0 && request_pull(w, name, id, gen) < 0)
        return -ENOENT;
    int need = derived_for(shm, w->cycle->conf, name, acc, src, out, dname, sizeof(dname));
    if (need <= 0)
        return need;
    *derived = 1;
    for (int tries = 0; tries < 2; tries++) {
        if (lc_stream_find(shm, dname, id, gen) == 0)
            return 0;
        int rc = lc_transcode_start(w, name, src, dname, out, id, gen);
        if (rc != -EEXIST)
            return rc;
        /* another worker claimed it between our lookup and our claim: join it */
    }
    return -ENOENT;
}

int lc_core_play_as(lc_worker_t *w, const char *name, const lc_core_accept_t *acc, const lc_player_ops_t *ops,
                    void *ctx, lc_play_t **out)
{
    uint32_t id, gen;
    int derived;
    int rc = resolve_as(w, name, acc, &id, &gen, &derived);
    if (rc < 0)
        return rc;
    char *source = derived ? strdup(name) : NULL;
    if (derived && !source)
        return -ENOMEM;
    rc = play_entry(w, id, gen, ops, ctx, out);
    if (rc < 0) {
        free(source);
        return rc;
    }
    (*out)->source = source;
    (*out)->acc = *acc;
    return 0;
}

/* Take a player off its fan-out (freed with its last player) and the counts. */
static void play_detach(lc_play_t *pl)
{
    lc_fanout_t *fo = pl->fo;
    lc_worker_t *w = fo->w;
    LIST_DEL(fo->players, pl);
    fo->nplayers--;
    if (lc_stream_alive(w->cycle->shm, fo->id, fo->gen))
        atomic_fetch_sub(&lc_shm_stream(w->cycle->shm, fo->id)->players[w->cycle->slot], 1);
    atomic_fetch_sub(&self(w)->players, 1);
    pl->fo = NULL;
    if (!fo->players)
        fanout_free(fo);
}

/* Put a detached player on fan-out fo, starting at its last keyframe. */
static void play_attach(lc_play_t *pl, lc_fanout_t *fo)
{
    lc_worker_t *w = fo->w;
    pl->fo = fo;
    pl->live = 0;
    pl->skip_to_key = 1;
    pl->flushed_live = 0;
    lc_ring_cursor_init(fo->ring, &pl->cursor, w->cycle->conf->media_gop_cache ? LC_RING_FROM_KEY : LC_RING_FROM_NOW);
    LIST_ADD(fo->players, pl);
    fo->nplayers++;
    atomic_fetch_add(&lc_shm_stream(w->cycle->shm, fo->id)->players[w->cycle->slot], 1);
    atomic_fetch_add(&self(w)->players, 1);
    if (pl->cursor.need_key)
        lc_keyframe_request(w->cycle->shm, fo->id, fo->gen);
    deliver_config(pl, fo);
}

static void play_free(lc_play_t *pl)
{
    play_detach(pl);
    free(pl->source);
    free(pl);
}

void lc_core_stop(lc_play_t *pl)
{
    play_free(pl);
}

void lc_core_request_keyframe(lc_play_t *pl)
{
    lc_keyframe_request(pl->fo->w->cycle->shm, pl->fo->id, pl->fo->gen);
}

static void fanout_end(lc_fanout_t *fo, const char *why)
{
    /* play_free frees the fan-out with its last player: never touch fo after that */
    for (int last = 0; !last;) {
        lc_play_t *pl = fo->players;
        const lc_player_ops_t *ops = pl->ops;
        void *ctx = pl->ctx;
        last = fo->nplayers == 1;
        play_free(pl);
        ops->on_end(ctx, why);
    }
}

/* The derived stream fo reads ended because the worker that made it
 * exited (LC_STREAM_END_MOVED): each player goes to the stream's next
 * maker, claimed anew (perhaps here), and starts there at a keyframe; its
 * session never notices. One that cannot move ends as its source did. */
static void fanout_move(lc_fanout_t *fo)
{
    lc_worker_t *w = fo->w;
    lc_play_t *moving = NULL;
    /* play_detach frees fo with its last player: take them all off first */
    while (fo->players) {
        int last = fo->nplayers == 1;
        lc_play_t *pl = fo->players;
        play_detach(pl);
        pl->next = moving;
        moving = pl;
        if (last)
            break;
    }
    for (lc_play_t *pl = moving, *next; pl; pl = next) {
        next = pl->next;
        uint32_t id, gen;
        int derived;
        lc_fanout_t *nf = NULL;
        if (pl->source && resolve_as(w, pl->source, &pl->acc, &id, &gen, &derived) == 0)
            nf = fanout_get(w, id, gen);
        if (nf) {
            play_attach(pl, nf);
            lc_log_info("[stream:%s] a player moved to the stream's new transcoder", pl->source);
            continue;
        }
        const lc_player_ops_t *ops = pl->ops;
        void *ctx = pl->ctx;
        free(pl->source);
        free(pl);
        ops->on_end(ctx, "Stopped by publisher stop");
    }
    lc_notify_wake(w->cycle->shm, w->cycle->slot);
}

/* Read what is new: once for every live player, then privately for each
 * player still catching up from the last keyframe, until it reaches the
 * shared position and joins. Returns 0, or -1 if the fan-out ended. */
static int fanout_pump(lc_fanout_t *fo)
{
    lc_shared_frame_t sf;
    int rc;

    while ((rc = lc_ring_read(fo->ring, &fo->cursor, &sf.f, fo->buf, fo->cap)) == LC_RING_OK) {
        sf.payload = fo->buf;
        sf.rtmp = NULL;
        sf.rtp = NULL;
        if (sf.f.flags & LC_FRAME_KEY)
            gop_clear(fo);
        for (lc_play_t *pl = fo->players, *next; pl; pl = next) {
            next = pl->next;
            if (pl->live)
                deliver(pl, &sf);
        }
        gop_keep(fo, fo->cursor.pos, sf.rtmp);
        lc_refbuf_unref(sf.rtmp);
        lc_refbuf_unref(sf.rtp);
    }
    if (rc == LC_RING_ENDED) {
        /* the owner leaves its reason in the entry before ending it */
        lc_stream_t *e = lc_shm_stream(fo->w->cycle->shm, fo->id);
        if (e->gen == fo->gen && strcmp(e->end_reason, LC_STREAM_END_MOVED) == 0) {
            fanout_move(fo);
            return -1;
        }
        char why[sizeof(e->end_reason)];
        snprintf(why, sizeof(why), "%s", e->gen == fo->gen && e->end_reason[0] ? e->end_reason
                                                                                : "Stopped by publisher stop");
        fanout_end(fo, why);
        return -1;
    }
    for (lc_play_t *pl = fo->players; pl; pl = pl->next) {
        if (pl->live)
            continue;
        /* a GOP at a time would queue hundreds of buffers per joining
         * player; a crowd joining at once would leave the heap fragmented
         * at its peak. Paced, the socket takes each slice before the next. */
        while (pl->cursor.pos < fo->cursor.pos && pl->ops->queued(pl->ctx) < CATCHUP_SLICE) {
            rc = lc_ring_read(fo->ring, &pl->cursor, &sf.f, fo->buf, fo->cap);
            if (rc != LC_RING_OK)
                break;
            sf.payload = fo->buf;
            sf.rtmp = gop_find(fo, pl->cursor.pos);
            sf.rtp = NULL;
            if (sf.rtmp)
                lc_refbuf_ref(sf.rtmp);
            deliver(pl, &sf);
            gop_keep(fo, pl->cursor.pos, sf.rtmp);
            lc_refbuf_unref(sf.rtmp);
            lc_refbuf_unref(sf.rtp);
        }
        if (pl->cursor.pos == fo->cursor.pos)
            pl->live = 1;
    }
    /* one write per player for everything this wake brought; one that just
     * caught up writes at once, so its video shows at once */
    for (lc_play_t *pl = fo->players; pl; pl = pl->next) {
        pl->ops->flush(pl->ctx, !pl->flushed_live);
        pl->flushed_live = pl->live;
    }
    return 0;
}

void lc_core_on_wake(lc_worker_t *w)
{
    for (lc_pub_t *p = w->core->pubs, *next; p; p = next) {
        next = p->next;
        if (!p->terminating && atomic_load_explicit(&p->entry->terminate, memory_order_acquire)) {
            p->terminating = 1;
            lc_log_info("[stream:%s] terminated by the control API", p->entry->name);
            p->ops->on_terminate(p->ctx); /* unpublishes: p is gone */
            continue;
        }
        if (lc_keyframe_take(p->w->cycle->shm, p->id, &p->keyframe_requests) && p->ops->on_keyframe_request)
            p->ops->on_keyframe_request(p->ctx);
    }
    for (lc_fanout_t *fo = w->core->fanouts, *next; fo; fo = next) {
        next = fo->next;
        fanout_pump(fo);
    }
}

/* Once a second: a publisher that sent no media (audio, video, data channel text) for
 * limits.idle_publish_timeout seconds is ended, so a silent connection
 * cannot hold a stream name and a ring (a publish that never sends
 * media, a WebRTC peer whose media never flows). */
static void idle_publishers_end(lc_worker_t *w)
{
    long long limit = w->cycle->conf->limits_idle_publish_timeout;
    for (lc_pub_t *p = w->core->pubs, *next; p; p = next) {
        next = p->next;
        if (p->media_frames != p->media_seen || p->terminating) {
            p->media_seen = p->media_frames;
            p->idle_s = 0;
            continue;
        }
        if (++p->idle_s < limit)
            continue;
        lc_log_info("[stream:%s] publisher %s ended: no media for %llds (limits.idle_publish_timeout)", p->entry->name,
                    p->entry->publisher, p->idle_s);
        snprintf(p->entry->end_reason, sizeof(p->entry->end_reason), "Publisher sent no media");
        p->terminating = 1;
        p->ops->on_terminate(p->ctx); /* unpublishes: p is gone */
    }
}

/* Once a second: each published stream's bitrate, for REST and metrics. */
static void on_tick(evutil_socket_t fd, short what, void *arg)
{
    lc_worker_t *w = arg;
    (void)fd;
    (void)what;
    idle_publishers_end(w);
    for (lc_pub_t *p = w->core->pubs; p; p = p->next) {
        uint64_t now = atomic_load_explicit(&p->entry->bytes_in, memory_order_relaxed);
        atomic_store_explicit(&p->entry->bitrate_kbps, (uint32_t)((now - p->last_bytes) * 8 / 1000),
                              memory_order_relaxed);
        p->last_bytes = now;
    }
    /* Players joining in a crowd each queue a GOP of small buffers at once;
     * once sent, glibc keeps the freed pages. Give them back, or a worker's
     * memory stays at the peak of its busiest second. */
    malloc_trim(0);
}

int lc_core_init(lc_worker_t *w)
{
    w->core = calloc(1, sizeof(*w->core));
    if (!w->core)
        return -1;
    struct timeval tv = { 1, 0 };
    w->core->tick = event_new(w->base, -1, EV_PERSIST, on_tick, w);
    if (!w->core->tick || event_add(w->core->tick, &tv) < 0)
        return -1;
    return 0;
}

void lc_core_free(lc_worker_t *w)
{
    if (!w->core)
        return;
    if (w->core->tick)
        event_free(w->core->tick);
    free(w->core);
    w->core = NULL;
}
