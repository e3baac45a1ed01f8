/*
 * cdn_serve.c: this node sends one of its streams to a node that pulls it.
 *
 * The relay reads the stream's ring like any player (it subscribes, so the
 * writer wakes it): first the codec configuration and metadata from the
 * side slots, then from the last keyframe on, so the puller's players start
 * at once. Each frame is one binary WebSocket message; the only message
 * the puller sends back is KEYFRAME, handed to the ring's writer
 * (common/shm/keyframe.h), so a request travels every hop. A puller that
 * does not keep up is never waited for: the relay stops reading while the
 * link's backlog is high, and the ring, if it laps the cursor, resumes it
 * at a keyframe.
 *
 * A pull of a derived name ("cam~opus": an edge whose cdn.codecs_exclude
 * leaves it one codec, SPEC 6) is served from a derived stream made here,
 * once for every edge: when none runs yet, a worker is asked to make it
 * (lc_stream_request_derived) and the serve waits for its first keyframe
 * (at most DERIVED_WAIT_MS) before PULL_OK, so the puller gets its codec
 * configuration like any other.
 */
#include "relay/cdn.h"

#include <errno.h>
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/core/log.h"
#include "common/shm/keyframe.h"
#include "common/shm/stream_table.h"
#include "relay/derived.h"

#define MAX_BACKLOG (4u << 20)
#define DERIVED_WAIT_MS 5000
#define DERIVED_POLL_MS 50

struct lc_cdn_serve {
    lc_cdn_t *c;
    lc_cdn_link_t *link;
    uint32_t id, gen;
    lc_ring_t *ring;
    lc_ring_cursor_t cursor;
    char name[LC_STREAM_NAME_MAX];
    char node[LC_CDN_ADDR_MAX];
    int derived;             /* counted as a player of it, so it lingers not */
    int started;             /* PULL_OK sent */
    int waited_ms;           /* for a derived stream's first keyframe */
    struct event *wait;
    lc_cdn_serve_t *prev, *next;
};

static void serve_free(lc_cdn_serve_t *s)
{
    lc_cdn_t *c = s->c;
    if (s->wait)
        event_free(s->wait);
    if (s->derived && lc_stream_alive(c->cycle->shm, s->id, s->gen))
        atomic_fetch_sub(&lc_shm_stream(c->cycle->shm, s->id)->players[c->cycle->slot], 1);
    lc_stream_unsubscribe(c->cycle->shm, s->id, s->gen, c->cycle->slot);
    if (s->prev)
        s->prev->next = s->next;
    else
        c->serves = s->next;
    if (s->next)
        s->next->prev = s->prev;
    atomic_fetch_sub_explicit(&lc_shm_proc(c->cycle->shm, c->cycle->slot)->players, 1, memory_order_relaxed);
    free(s);
}

static void serve_refuse(lc_cdn_link_t *l, lc_cdn_serve_t *s, const char *why)
{
    lc_log_warn("cdn: %s on the media link of \"%s\": %s; closed", s->node, s->name, why);
    lc_cdn_link_fail(l, "a media link carries only keyframe requests after pull");
    serve_free(s);
}

/* The puller's players want a keyframe: ask this ring's writer (a
 * publisher here, or our own pull from a further origin), which forwards
 * it at most once per 500 ms. */
static void serve_text(lc_cdn_link_t *l, void *ctx, const char *text, size_t len)
{
    lc_cdn_serve_t *s = ctx;
    lc_cdn_msg_t m;
    char err[256];
    atomic_fetch_add_explicit(&s->c->table->msgs_in, 1, memory_order_relaxed);
    if (lc_cdn_msg_parse(text, len, &m, err, sizeof(err)) < 0) {
        serve_refuse(l, s, err);
        return;
    }
    int ok = m.type == LC_CDN_KEYFRAME && strcmp(m.stream, s->name) == 0;
    lc_cdn_msg_free(&m);
    if (!ok) {
        serve_refuse(l, s, "a message other than a keyframe request for its stream");
        return;
    }
    lc_keyframe_request(s->c->cycle->shm, s->id, s->gen);
}

static void serve_binary(lc_cdn_link_t *l, void *ctx, const uint8_t *data, size_t len)
{
    (void)data;
    (void)len;
    serve_refuse(l, ctx, "media from the puller");
}

static void serve_closed(lc_cdn_link_t *l, void *ctx, const char *why)
{
    lc_cdn_serve_t *s = ctx;
    (void)l;
    lc_log_info("cdn: %s stops pulling \"%s\": %s", s->node, s->name, why);
    serve_free(s);
}

static const lc_cdn_link_ops_t serve_ops = { NULL, serve_text, serve_binary, serve_closed };

static void send_frame(lc_cdn_serve_t *s, const lc_frame_t *f)
{
    if (lc_cdn_link_send_frame(s->link, f, s->c->buf) == 0)
        atomic_fetch_add_explicit(&s->c->table->bytes_relayed_out, LC_CDN_FRAME_HEADER + f->len,
                                  memory_order_relaxed);
}

/* PULL_OK, the codec configuration, then frames from the last keyframe. */
static void serve_begin(lc_cdn_serve_t *s)
{
    lc_cdn_t *c = s->c;
    s->started = 1;
    lc_ring_cursor_init(s->ring, &s->cursor, LC_RING_FROM_KEY);
    if (s->cursor.need_key) /* no keyframe to start the puller at: ask for one */
        lc_keyframe_request(c->cycle->shm, s->id, s->gen);
    lc_cdn_msg_t ok = { .type = LC_CDN_PULL_OK };
    snprintf(ok.stream, sizeof(ok.stream), "%s", s->name);
    lc_cdn_send(c, s->link, &ok);
    for (unsigned i = 0; i < 3; i++) {
        lc_frame_t f;
        if (lc_ring_get_config(s->ring, lc_stream_config_order[i], &f, c->buf, LC_RING_CONFIG_MAX) > 0)
            send_frame(s, &f);
    }
    lc_log_info("cdn: %s pulls \"%s\"", s->node, s->name);
}

/* A derived stream just made: begin once it has a keyframe. */
static void serve_wait(evutil_socket_t fd, short what, void *arg)
{
    lc_cdn_serve_t *s = arg;
    (void)fd;
    (void)what;
    if (!lc_stream_alive(s->c->cycle->shm, s->id, s->gen) || (s->waited_ms += DERIVED_POLL_MS) > DERIVED_WAIT_MS) {
        lc_log_warn("cdn: \"%s\" for %s: the transcoder made no keyframe in %d ms", s->name, s->node,
                    DERIVED_WAIT_MS);
        lc_cdn_link_fail(s->link, "Transcoder did not start");
        serve_free(s);
        return;
    }
    if (atomic_load_explicit(&s->ring->last_key, memory_order_acquire) == UINT64_MAX)
        return;
    event_free(s->wait);
    s->wait = NULL;
    serve_begin(s);
    lc_cdn_serve_pump(s->c);
}

void lc_cdn_serve_start(lc_cdn_t *c, lc_cdn_link_t *l, const lc_cdn_msg_t *m)
{
    lc_shm_t *shm = c->cycle->shm;
    uint32_t id, gen;
    const char *why = "Stream not found";
    if (c->role != LC_CDN_ROLE_ORIGIN) {
        lc_log_warn("cdn: %s asks this edge for \"%s\": edges do not distribute streams", m->node, m->stream);
        lc_cdn_link_fail(l, "edge nodes do not distribute streams");
        return;
    }
    if (lc_stream_find(shm, m->stream, &id, &gen) < 0 && lc_relay_derived(c->cycle, m->stream, &id, &gen, &why) < 0) {
        lc_log_info("cdn: %s asks for \"%s\": %s", m->node, m->stream, why);
        lc_cdn_link_fail(l, why);
        return;
    }
    lc_cdn_serve_t *s = calloc(1, sizeof(*s));
    if (!s) {
        lc_cdn_link_fail(l, "out of memory");
        return;
    }
    s->c = c;
    s->link = l;
    s->id = id;
    s->gen = gen;
    s->ring = lc_shm_ring(shm, (uint32_t)lc_shm_stream(shm, id)->ring);
    snprintf(s->name, sizeof(s->name), "%s", m->stream);
    snprintf(s->node, sizeof(s->node), "%s", m->node[0] ? m->node : lc_cdn_link_peer(l));
    /* subscribe before taking the cursor: a frame written in between wakes us */
    lc_stream_subscribe(shm, id, c->cycle->slot);
    s->next = c->serves;
    if (c->serves)
        c->serves->prev = s;
    c->serves = s;
    /* a pulling node is this relay's player */
    atomic_fetch_add_explicit(&lc_shm_proc(shm, c->cycle->slot)->players, 1, memory_order_relaxed);
    lc_cdn_link_set_owner(l, &serve_ops, s);
    if (atomic_load(&lc_shm_stream(shm, id)->derived)) {
        s->derived = 1; /* its transcoder ends a few seconds after its last player: we are one */
        atomic_fetch_add(&lc_shm_stream(shm, id)->players[c->cycle->slot], 1);
        if (atomic_load_explicit(&s->ring->last_key, memory_order_acquire) == UINT64_MAX) {
            struct timeval tv = { 0, DERIVED_POLL_MS * 1000 };
            s->wait = event_new(c->base, -1, EV_PERSIST, serve_wait, s);
            if (!s->wait || event_add(s->wait, &tv) < 0) {
                lc_cdn_link_fail(l, "out of timers");
                serve_free(s);
            }
            return;
        }
    }
    serve_begin(s);
    lc_cdn_serve_pump(c);
}

/* 0, or -1 when the serve ended (and is freed). */
static int pump_one(lc_cdn_serve_t *s)
{
    lc_cdn_t *c = s->c;
    lc_frame_t f;
    int rc;
    if (!s->started)
        return 0;
    while (lc_cdn_link_backlog(s->link) < MAX_BACKLOG) {
        rc = lc_ring_read(s->ring, &s->cursor, &f, c->buf, c->cap);
        if (rc == LC_RING_EMPTY)
            return 0;
        if (rc == LC_RING_E2BIG)
            continue;
        if (rc == LC_RING_ENDED) {
            lc_stream_t *e = lc_shm_stream(c->cycle->shm, s->id);
            lc_cdn_msg_t m = { .type = LC_CDN_EOS };
            snprintf(m.stream, sizeof(m.stream), "%s", s->name);
            /* the owner leaves its reason in the entry before ending it */
            snprintf(m.reason, sizeof(m.reason), "%s",
                     e->gen == s->gen && e->end_reason[0] ? e->end_reason : "Stopped by publisher stop");
            lc_cdn_send(c, s->link, &m);
            lc_cdn_link_close(s->link);
            lc_log_info("cdn: \"%s\" ended; %s told: %s", s->name, s->node, m.reason);
            serve_free(s);
            return -1;
        }
        send_frame(s, &f);
    }
    return 0;
}

void lc_cdn_serve_pump(lc_cdn_t *c)
{
    for (lc_cdn_serve_t *s = c->serves, *next; s; s = next) {
        next = s->next;
        pump_one(s);
    }
}

void lc_cdn_serve_stop_all(lc_cdn_t *c)
{
    while (c->serves) {
        lc_cdn_serve_t *s = c->serves;
        lc_cdn_link_close(s->link);
        serve_free(s);
    }
}
