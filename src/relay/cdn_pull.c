/*
 * cdn_pull.c: this node pulls a stream from the origin that has it.
 *
 * A worker whose player asks for a stream that is not published here but
 * has a route creates the stream's entry itself, owned by the relay and
 * marked pulled, and wakes the relay (stream_core.c). From then on players
 * on every worker wait on that one entry, whatever their protocol. The
 * relay opens a media link to the route's origin, asks for the stream
 * (PULL), and writes the frames that arrive into the ring: it is that
 * ring's only writer, so the keyframe requests of players here come to it
 * and go on to the origin as KEYFRAME (at most one per 500 ms). The pull
 * ends when the origin ends the stream (EOS, its reason goes to the
 * players), when the origin goes away ("Origin unavailable"), or
 * pull_idle_timeout s after the last player left.
 */
#include "relay/cdn.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/cdn/cdn_codecs.h"
#include "common/core/log.h"
#include "common/shm/keyframe.h"
#include "common/shm/stream_table.h"

#define REASON_ORIGIN_GONE "Origin unavailable"

struct lc_cdn_pull {
    lc_cdn_t *c;
    uint32_t id, gen;
    char name[LC_STREAM_NAME_MAX];
    char remote[LC_STREAM_NAME_MAX]; /* what the origin is asked for: name, or a derived name of it */
    char origin[LC_CDN_ADDR_MAX];
    lc_cdn_link_t *link;
    int flowing;          /* PULL_OK seen */
    uint64_t idle_since;  /* ms; 0 while it has players */
    int had_player;
    uint64_t rate_at, rate_bytes; /* ms and bytes_in at the last bitrate update */
    uint32_t kf_seen;     /* the entry's keyframe requests taken so far */
    lc_kf_gate_t kf_gate; /* at most one "keyframe" to the origin per 500 ms */
    struct event *kf_timer; /* sends the held one when the window ends */
    lc_cdn_pull_t *prev, *next;
};

static void pull_end(lc_cdn_pull_t *p, const char *reason)
{
    lc_cdn_t *c = p->c;
    lc_shm_t *shm = c->cycle->shm;
    if (p->link)
        lc_cdn_link_close(p->link);
    if (p->kf_timer)
        event_free(p->kf_timer);
    if (lc_stream_alive(shm, p->id, p->gen)) {
        lc_stream_t *s = lc_shm_stream(shm, p->id);
        snprintf(s->end_reason, sizeof(s->end_reason), "%s", reason ? reason : "");
        lc_stream_unpublish(shm, p->id);
    }
    if (p->prev)
        p->prev->next = p->next;
    else
        c->pulls = p->next;
    if (p->next)
        p->next->prev = p->prev;
    free(p);
}

static void pull_open(lc_cdn_link_t *l, void *ctx)
{
    lc_cdn_pull_t *p = ctx;
    lc_cdn_msg_t m = { .type = LC_CDN_PULL };
    snprintf(m.stream, sizeof(m.stream), "%s", p->remote);
    lc_cdn_send(p->c, l, &m);
}

/* ---- keyframe requests: players here -> the origin's ring ---- */

static void keyframe_send(lc_cdn_pull_t *p)
{
    lc_cdn_msg_t m = { .type = LC_CDN_KEYFRAME };
    snprintf(m.stream, sizeof(m.stream), "%s", p->remote);
    if (p->link && p->flowing)
        lc_cdn_send(p->c, p->link, &m);
}

static void keyframe_due(evutil_socket_t fd, short what, void *arg);

/* A request is held: wake when the window ends (again, if the timer came
 * a millisecond early). Without a timer (no memory) the 250 ms tick's
 * keyframe_check sends it, late. */
static void keyframe_arm(lc_cdn_pull_t *p, uint64_t now)
{
    int64_t wait = lc_kf_gate_wait_ms(&p->kf_gate, now);
    if (wait < 0)
        return;
    if (!p->kf_timer)
        p->kf_timer = evtimer_new(p->c->base, keyframe_due, p);
    if (p->kf_timer && !evtimer_pending(p->kf_timer, NULL)) {
        struct timeval tv = { (time_t)(wait / 1000), (suseconds_t)(wait % 1000) * 1000 };
        evtimer_add(p->kf_timer, &tv);
    }
}

static void keyframe_due(evutil_socket_t fd, short what, void *arg)
{
    lc_cdn_pull_t *p = arg;
    uint64_t now = lc_cdn_now_ms();
    (void)fd;
    (void)what;
    if (lc_kf_gate_due(&p->kf_gate, now))
        keyframe_send(p);
    else
        keyframe_arm(p, now);
}

/* Players of this node asked (their worker bumped the entry's count and
 * woke us, the ring's writer): ask the origin, through the gate. */
static void keyframe_check(lc_cdn_pull_t *p, uint64_t now)
{
    if (lc_keyframe_take(p->c->cycle->shm, p->id, &p->kf_seen) && p->flowing && lc_kf_gate_ask(&p->kf_gate, now))
        keyframe_send(p);
    else if (lc_kf_gate_due(&p->kf_gate, now))
        keyframe_send(p);
    keyframe_arm(p, now);
}

static void pull_text(lc_cdn_link_t *l, void *ctx, const char *text, size_t len)
{
    lc_cdn_pull_t *p = ctx;
    lc_cdn_msg_t m;
    char err[256];
    atomic_fetch_add_explicit(&p->c->table->msgs_in, 1, memory_order_relaxed);
    if (lc_cdn_msg_parse(text, len, &m, err, sizeof(err)) < 0) {
        lc_log_warn("cdn: pull of \"%s\" from %s: bad message: %s", p->name, p->origin, err);
        lc_cdn_link_fail(l, err);
        p->link = NULL;
        pull_end(p, REASON_ORIGIN_GONE);
        return;
    }
    if (m.type == LC_CDN_PULL_OK) {
        p->flowing = 1;
        /* the origin starts us at its last keyframe: what players asked
         * while we waited for it is answered by that */
        lc_keyframe_take(p->c->cycle->shm, p->id, &p->kf_seen);
        lc_log_info("cdn: pulling \"%s\" from %s", p->name, p->origin);
    } else if (m.type == LC_CDN_EOS) {
        lc_log_info("cdn: \"%s\" ended on %s: %s", p->name, p->origin, m.reason);
        pull_end(p, m.reason);
    } else if (m.type == LC_CDN_ERROR) {
        lc_log_warn("cdn: %s refused the pull of \"%s\": %s", p->origin, p->name, m.reason);
        atomic_fetch_add_explicit(&p->c->table->pulls_failed, 1, memory_order_relaxed);
        pull_end(p, m.reason[0] ? m.reason : REASON_ORIGIN_GONE);
    } else {
        lc_log_warn("cdn: pull of \"%s\": unexpected message %d from %s", p->name, m.type, p->origin);
        lc_cdn_link_fail(l, "unexpected message on a media link");
        p->link = NULL;
        pull_end(p, REASON_ORIGIN_GONE);
    }
    lc_cdn_msg_free(&m);
}

static void pull_binary(lc_cdn_link_t *l, void *ctx, const uint8_t *data, size_t len)
{
    lc_cdn_pull_t *p = ctx;
    lc_frame_t f;
    const uint8_t *payload;
    const char *err;
    if (!p->flowing || lc_cdn_frame_parse(data, len, &f, &payload, &err) < 0 ||
        lc_stream_write(p->c->cycle->shm, p->id, &f, payload, &err) < 0) {
        lc_log_warn("cdn: pull of \"%s\" from %s: %s", p->name, p->origin, p->flowing ? err : "media before pull_ok");
        lc_cdn_link_fail(l, p->flowing ? err : "media before pull_ok");
        p->link = NULL;
        pull_end(p, REASON_ORIGIN_GONE);
        return;
    }
    atomic_fetch_add_explicit(&p->c->table->bytes_relayed_in, len, memory_order_relaxed);
}

static void pull_closed(lc_cdn_link_t *l, void *ctx, const char *why)
{
    lc_cdn_pull_t *p = ctx;
    (void)l;
    lc_log_warn("cdn: pull of \"%s\" from %s lost: %s", p->name, p->origin, why);
    if (!p->flowing)
        atomic_fetch_add_explicit(&p->c->table->pulls_failed, 1, memory_order_relaxed);
    p->link = NULL;
    pull_end(p, REASON_ORIGIN_GONE);
}

static const lc_cdn_link_ops_t pull_ops = { pull_open, pull_text, pull_binary, pull_closed };

/* What to ask the origin for: the stream as it is, unless this node's
 * cdn.codecs_exclude leaves one codec and the stream's differs; then the
 * origin transcodes, once for every edge ("cam~opus", SPEC 6). */
static void remote_name(lc_cdn_t *c, const char *name, char *out, size_t size)
{
    int v = 0, a = 0, fv, fa;
    snprintf(out, size, "%s", name);
    if (lc_cdn_route_codecs(c->cycle->shm, name, &v, &a) < 0)
        return;
    lc_cdn_forwarded_codecs(c->cycle->conf, v, a, &fv, &fa);
    if ((fv != v || fa != a) && lc_stream_derived_name(name, fv != v ? fv : 0, fa != a ? fa : 0, out, size) < 0)
        snprintf(out, size, "%s", name);
}

static void pull_start(lc_cdn_t *c, uint32_t id, lc_stream_t *s)
{
    lc_cdn_pull_t *p = calloc(1, sizeof(*p));
    if (!p) {
        snprintf(s->end_reason, sizeof(s->end_reason), "out of memory");
        lc_stream_unpublish(c->cycle->shm, id);
        return;
    }
    p->c = c;
    p->id = id;
    p->gen = s->gen;
    snprintf(p->name, sizeof(p->name), "%s", s->name);
    remote_name(c, p->name, p->remote, sizeof(p->remote));
    if (strcmp(p->remote, p->name) != 0)
        lc_log_info("cdn: \"%s\" is pulled as \"%s\" (cdn.codecs_exclude leaves one codec)", p->name, p->remote);
    p->next = c->pulls;
    if (c->pulls)
        c->pulls->prev = p;
    c->pulls = p;
    atomic_fetch_add_explicit(&c->table->pulls_total, 1, memory_order_relaxed);
    if (lc_cdn_route_find(c->cycle->shm, p->name, p->origin) < 0) {
        lc_log_warn("cdn: no route for \"%s\" any more", p->name);
        atomic_fetch_add_explicit(&c->table->pulls_failed, 1, memory_order_relaxed);
        pull_end(p, REASON_ORIGIN_GONE);
        return;
    }
    size_t max = LC_CDN_MSG_MAX + c->cap + LC_CDN_FRAME_HEADER;
    p->link = lc_cdn_link_connect(c->base, p->origin, max, &pull_ops, p);
    if (!p->link) {
        atomic_fetch_add_explicit(&c->table->pulls_failed, 1, memory_order_relaxed);
        pull_end(p, REASON_ORIGIN_GONE);
    }
}

static int pulling(const lc_cdn_t *c, uint32_t id, uint32_t gen)
{
    for (lc_cdn_pull_t *p = c->pulls; p; p = p->next)
        if (p->id == id && p->gen == gen)
            return 1;
    return 0;
}

void lc_cdn_pull_check(lc_cdn_t *c)
{
    lc_shm_t *shm = c->cycle->shm;
    uint32_t req = atomic_load_explicit(&c->table->pull_requests, memory_order_acquire);
    if (req != c->pull_requests_seen) {
        c->pull_requests_seen = req;
        for (uint32_t i = 0; i < shm->streams_max; i++) {
            lc_stream_t *s = lc_shm_stream(shm, i);
            if (atomic_load_explicit(&s->state, memory_order_acquire) == LC_STREAM_LIVE &&
                s->owner_slot == c->cycle->slot && atomic_load_explicit(&s->pulled, memory_order_relaxed) &&
                !pulling(c, i, s->gen))
                pull_start(c, i, s);
        }
    }
    uint64_t now = lc_cdn_now_ms(), idle_ms = (uint64_t)c->cycle->conf->cdn_pull_idle_timeout * 1000;
    for (lc_cdn_pull_t *p = c->pulls, *next; p; p = next) {
        next = p->next;
        lc_stream_t *s = lc_shm_stream(shm, p->id);
        if (!lc_stream_alive(shm, p->id, p->gen)) {
            pull_end(p, NULL);
            continue;
        }
        if (atomic_load_explicit(&s->terminate, memory_order_acquire)) {
            lc_log_info("cdn: pull of \"%s\" terminated by the control API", p->name);
            pull_end(p, "Terminated by the server");
            continue;
        }
        keyframe_check(p, now);
        uint64_t bytes = atomic_load_explicit(&s->bytes_in, memory_order_relaxed);
        if (now - p->rate_at >= 1000) {
            if (p->rate_at)
                atomic_store_explicit(&s->bitrate_kbps, (uint32_t)((bytes - p->rate_bytes) * 8 / (now - p->rate_at)),
                                      memory_order_relaxed);
            p->rate_at = now;
            p->rate_bytes = bytes;
        }
        uint32_t players = 0;
        for (int slot = 0; slot < LC_PROC_SLOTS; slot++)
            players += atomic_load_explicit(&s->players[slot], memory_order_relaxed);
        if (players > 0) {
            p->idle_since = 0;
            p->had_player = 1;
            continue;
        }
        if (!p->idle_since)
            p->idle_since = now;
        /* the worker that asked for the pull counts its player a moment
         * after it wakes us: a pull that never had one gets a second */
        uint64_t wait = p->had_player || idle_ms >= 1000 ? idle_ms : 1000;
        if (now - p->idle_since >= wait) {
            lc_log_info("cdn: pull of \"%s\" from %s dropped: no player for %lld s", p->name, p->origin,
                        (long long)c->cycle->conf->cdn_pull_idle_timeout);
            pull_end(p, NULL);
        }
    }
}

void lc_cdn_pull_stop_all(lc_cdn_t *c)
{
    while (c->pulls)
        pull_end(c->pulls, "Relay stopped");
}
