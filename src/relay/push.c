/*
 * push.c: pushes of this node's streams to external RTMP servers (SPEC 5,
 * 7: "push streams to any RTMP CDN"), run by the relay. The control
 * process asks for them in the push table (common/shm/push_table.h); here
 * each one is a reader of its stream's ring, like any player, and an RTMP
 * publishing client (common/rtmp/rtmp_client.h) on a socket.
 *
 * A push connects, publishes, then sends the stream from its last
 * keyframe (configuration first) with timestamps from 0. A stream RTMP
 * cannot carry as it is (VP8, Opus) is read from its derived stream in
 * H.264 + AAC, which a worker makes (relay/derived.h). A server that
 * refuses the publish ends the push (FAILED, PUBLISH_REFUSED, its own
 * words in info); a connection that fails or is lost is tried again with
 * back-off 1, 2, 4, 8, 10, 10 ... s (RECONNECTING) for push.reconnect_timeout
 * seconds, then FAILED; each new connection starts again at a keyframe.
 * The stream's end ends the push (STOPPED); so does push/terminate.
 * A server that does not read is never waited for: past the client's
 * output bound frames are skipped to the next keyframe. External CDNs
 * start their viewers at keyframes and want one every 2 s or so; a browser
 * makes them only when asked, so a push asks the stream for one when
 * KEY_INTERVAL_MS passed without.
 *
 * Ownership: pushes belong to this file (a list per relay); the table's
 * slots are the control process's to hand out and ours to report on.
 */
#include "relay/push.h"

#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/dns.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/codec/codec.h"
#include "common/core/log.h"
#include "common/rtmp/rtmp_chunk.h"
#include "common/rtmp/rtmp_client.h"
#include "common/shm/keyframe.h"
#include "common/shm/push_table.h"
#include "common/shm/stream_table.h"
#include "relay/derived.h"

#define BACKOFF_MAX_S 10
#define READ_MAX (64u << 10)
#define SOCKET_QUEUE (1u << 20)   /* bytes in the socket's buffer before the client keeps the rest */
#define KEY_INTERVAL_MS 2000      /* CDNs want a keyframe at least this often (YouTube: 2 s) */

typedef struct lc_push_run lc_push_run_t;

struct lc_push_run {
    lc_pusher_t *ps;
    uint32_t slot, gen;            /* the table's slot and its generation */
    char url[LC_PUSH_URL_MAX];
    char stream[LC_STREAM_NAME_MAX];
    char host[256], app[LC_PUSH_URL_MAX], tc_url[LC_PUSH_URL_MAX], key[LC_PUSH_URL_MAX];
    int port;
    struct bufferevent *bev;
    lc_rtmp_client_t *client;
    int publishing;                /* the server said Publish.Start */
    int reading;                   /* subscribed to the ring, cursor valid */
    uint32_t id, sgen;             /* the ring read: the stream or its derived one */
    int counted;                   /* counted as a player of it */
    lc_ring_t *ring;
    lc_ring_cursor_t cursor;
    int have_base;
    int64_t base_us;               /* the first frame's ts: the server sees time from 0 */
    int skip_to_key;
    uint64_t key_sent_ms;          /* the last video keyframe sent */
    int state;                     /* what the table shows */
    uint64_t lost_at_ms;           /* first failure of the current outage, 0 = none */
    uint32_t backoff_s;
    struct event *timer;           /* reconnect, and the handshake deadline */
    lc_push_run_t *prev, *next;
};

struct lc_pusher {
    lc_cycle_t *cycle;
    struct event_base *base;
    struct evdns_base *dns;
    uint32_t requests_seen;
    uint8_t *buf;                  /* one ring frame */
    size_t cap;
    lc_push_run_t *runs;
};

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static lc_push_t *row(lc_push_run_t *r)
{
    return &lc_shm_push(r->ps->cycle->shm)->push[r->slot];
}

static void set_state(lc_push_run_t *r, int state, const char *code, const char *info)
{
    r->state = state;
    lc_push_set_state(r->ps->cycle->shm, r->slot, state, code, info);
}

/* rtmp[s]://host[:port]/app[/more]/key[?query]: the app is all between the
 * host and the last '/', the key after it (what OBS and FFmpeg do). */
static int parse_url(lc_push_run_t *r, const char **why)
{
    if (lc_push_url_check(r->url, why) < 0)
        return -1;
    int tls = strncmp(r->url, "rtmps://", 8) == 0;
    const char *h = r->url + (tls ? 8 : 7), *slash = strchr(h, '/'), *last = strrchr(h, '/');
    char hostport[300];
    snprintf(hostport, sizeof(hostport), "%.*s", (int)(slash - h), h);
    char *colon = strrchr(hostport, ':'), *rb = strchr(hostport, ']');
    r->port = tls ? 443 : 1935;
    /* host:port, [v6]:port; a bare v6 address has no port */
    if (colon && (hostport[0] == '[' ? rb && colon == rb + 1 : strchr(hostport, ':') == colon)) {
        char *end;
        long p = strtol(colon + 1, &end, 10);
        if (*end || p <= 0 || p > 65535) {
            *why = "url has a bad port";
            return -1;
        }
        r->port = (int)p;
        *colon = '\0';
    }
    if (hostport[0] == '[') { /* [v6] */
        size_t n = strlen(hostport);
        if (n < 3 || hostport[n - 1] != ']') {
            *why = "url has a bad host";
            return -1;
        }
        hostport[n - 1] = '\0';
        memmove(hostport, hostport + 1, n - 1);
    }
    snprintf(r->host, sizeof(r->host), "%s", hostport);
    snprintf(r->app, sizeof(r->app), "%.*s", (int)(last - slash - 1), slash + 1);
    snprintf(r->tc_url, sizeof(r->tc_url), "%.*s", (int)(last - r->url), r->url);
    snprintf(r->key, sizeof(r->key), "%s", last + 1);
    if (tls) {
        *why = "rtmps:// is not in this version";
        return -1;
    }
    return 0;
}

/* ---- the ring ---- */

static void stop_reading(lc_push_run_t *r)
{
    lc_shm_t *shm = r->ps->cycle->shm;
    if (!r->reading)
        return;
    if (r->counted && lc_stream_alive(shm, r->id, r->sgen))
        atomic_fetch_sub(&lc_shm_stream(shm, r->id)->players[r->ps->cycle->slot], 1);
    lc_stream_unsubscribe(shm, r->id, r->sgen, r->ps->cycle->slot);
    r->reading = r->counted = 0;
}

/* The stream in codecs RTMP carries: itself, or its derived stream. */
static int start_reading(lc_push_run_t *r, const char **why)
{
    lc_shm_t *shm = r->ps->cycle->shm;
    lc_stream_codecs_t c;
    uint32_t id, gen;
    if (lc_stream_codecs(shm, r->stream, &c) < 0 || lc_stream_find(shm, r->stream, &id, &gen) < 0) {
        *why = "Stream not found";
        return -1;
    }
    int v = c.vcodec && c.vcodec != LC_CODEC_H264 ? LC_CODEC_H264 : 0;
    int a = c.acodec && c.acodec != LC_CODEC_AAC && c.acodec != LC_CODEC_MP3 && c.acodec != LC_CODEC_SPEEX &&
                    c.acodec != LC_CODEC_PCMA && c.acodec != LC_CODEC_PCMU
                ? LC_CODEC_AAC
                : 0;
    if (v || a) {
        char dname[LC_STREAM_NAME_MAX];
        if (lc_stream_derived_name(r->stream, v, a, dname, sizeof(dname)) < 0 ||
            lc_relay_derived(r->ps->cycle, dname, &id, &gen, why) < 0)
            return -1;
    }
    r->id = id;
    r->sgen = gen;
    r->ring = lc_shm_ring(shm, (uint32_t)lc_shm_stream(shm, id)->ring);
    /* subscribe before taking the cursor: a frame written in between wakes us */
    lc_stream_subscribe(shm, id, r->ps->cycle->slot);
    atomic_fetch_add(&lc_shm_stream(shm, id)->players[r->ps->cycle->slot], 1);
    r->reading = r->counted = 1;
    r->have_base = 0;
    r->skip_to_key = 0;
    lc_ring_cursor_init(r->ring, &r->cursor, LC_RING_FROM_KEY);
    if (r->cursor.need_key)
        lc_keyframe_request(shm, id, gen);
    return 0;
}

/* ---- the connection ---- */

static void run_free(lc_push_run_t *r)
{
    lc_pusher_t *ps = r->ps;
    stop_reading(r);
    if (r->bev)
        bufferevent_free(r->bev);
    lc_rtmp_client_free(r->client);
    if (r->timer)
        event_free(r->timer);
    if (r->prev)
        r->prev->next = r->next;
    else
        ps->runs = r->next;
    if (r->next)
        r->next->prev = r->prev;
    free(r);
}

static void disconnect(lc_push_run_t *r)
{
    if (r->bev)
        bufferevent_free(r->bev);
    r->bev = NULL;
    lc_rtmp_client_free(r->client);
    r->client = NULL;
    r->publishing = 0;
    stop_reading(r);
}

/* The push is over: the table says how, and it is freed. */
static void finish(lc_push_run_t *r, int state, const char *code, const char *info)
{
    lc_log_info("push: \"%s\" to %s %s%s%s%s%s", r->stream, r->url, lc_push_state_name(state), code && *code ? " " : "",
                code ? code : "", info && *info ? ": " : "", info ? info : "");
    set_state(r, state, code, info);
    run_free(r);
}

static void connect_now(lc_push_run_t *r);

static void lost(lc_push_run_t *r, const char *why);

/* Due: a reconnect after its back-off, or the handshake's deadline. */
static void on_timer(evutil_socket_t fd, short what, void *arg)
{
    lc_push_run_t *r = arg;
    (void)fd;
    (void)what;
    if (!r->bev)
        connect_now(r);
    else if (!r->publishing)
        lost(r, "no Publish.Start within limits.handshake_timeout");
}

/* A failure of the connection: try again after the back-off, or give up. */
static void lost(lc_push_run_t *r, const char *why)
{
    int first = r->state == LC_PUSH_REQUESTED;
    disconnect(r);
    uint64_t now = now_ms();
    if (!r->lost_at_ms)
        r->lost_at_ms = now;
    if ((now - r->lost_at_ms) / 1000 >= (uint64_t)r->ps->cycle->conf->push_reconnect_timeout) {
        finish(r, LC_PUSH_FAILED, first ? "CONNECT_FAILED" : "CONNECTION_LOST", why);
        return;
    }
    r->backoff_s = r->backoff_s ? (r->backoff_s * 2 > BACKOFF_MAX_S ? BACKOFF_MAX_S : r->backoff_s * 2) : 1;
    if (!first && r->state != LC_PUSH_RECONNECTING) {
        lc_log_warn("push: \"%s\" to %s lost: %s; reconnecting", r->stream, r->url, why);
        set_state(r, LC_PUSH_RECONNECTING, "CONNECTION_LOST", why);
    } else {
        lc_log_info("push: \"%s\" to %s: %s; again in %us", r->stream, r->url, why, r->backoff_s);
    }
    struct timeval tv = { r->backoff_s, 0 };
    evtimer_del(r->timer);
    evtimer_add(r->timer, &tv);
}

/* Hand the socket what the client has for the server, up to SOCKET_QUEUE
 * in its buffer: the rest stays in the client, whose own bound then makes
 * the pump skip to a keyframe rather than queue without end. */
static void flush_out(lc_push_run_t *r)
{
    size_t n, queued = evbuffer_get_length(bufferevent_get_output(r->bev));
    const uint8_t *p = lc_rtmp_client_pending(r->client, &n);
    if (!p || !n || queued >= SOCKET_QUEUE)
        return;
    if (n > SOCKET_QUEUE - queued)
        n = SOCKET_QUEUE - queued;
    if (bufferevent_write(r->bev, p, n) == 0)
        lc_rtmp_client_consumed(r->client, n);
}

/* The socket took some: give it more, and read on. */
static void on_write(struct bufferevent *bev, void *arg)
{
    lc_push_run_t *r = arg;
    (void)bev;
    flush_out(r);
}

static void pump(lc_push_run_t *r);

static void on_read(struct bufferevent *bev, void *arg)
{
    lc_push_run_t *r = arg;
    struct evbuffer *in = bufferevent_get_input(bev);
    while (evbuffer_get_length(in) > 0) {
        size_t n = evbuffer_get_length(in);
        if (n > READ_MAX)
            n = READ_MAX;
        const uint8_t *p = evbuffer_pullup(in, (ev_ssize_t)n);
        lc_rtmp_client_event_t ev;
        long used = lc_rtmp_client_input(r->client, p, n, &ev);
        if (used < 0) {
            lost(r, ev.error ? ev.error : "bad RTMP from the server");
            return;
        }
        evbuffer_drain(in, (size_t)used);
        flush_out(r);
        if (ev.type == LC_RTMP_CLIENT_PUBLISHING) {
            const char *why;
            evtimer_del(r->timer);
            if (start_reading(r, &why) < 0) {
                finish(r, strcmp(why, "Stream not found") == 0 ? LC_PUSH_STOPPED : LC_PUSH_FAILED,
                       strcmp(why, "Stream not found") == 0 ? "STREAM_NOT_FOUND" : "CAPACITY", why);
                return;
            }
            r->publishing = 1;
            r->lost_at_ms = 0;
            r->backoff_s = 0;
            lc_log_info("push: \"%s\" to %s started", r->stream, r->url);
            set_state(r, LC_PUSH_STARTED, NULL, NULL);
            pump(r);
            continue; /* what came with it (a ping) is answered now, not at the next read */
        }
        if (ev.type == LC_RTMP_CLIENT_REFUSED) {
            char info[LC_PUSH_INFO_MAX];
            /* cut to the table's field, visibly: the server's words can be long */
            snprintf(info, sizeof(info), "%.*s%s%.*s (to %s)", 64, ev.code, ev.description[0] ? ": " : "", 160,
                     ev.description, ev.call ? ev.call : "?");
            finish(r, LC_PUSH_FAILED, "PUBLISH_REFUSED", info);
            return;
        }
        if (ev.type == LC_RTMP_CLIENT_CLOSED) {
            lost(r, ev.code[0] ? ev.code : "the server closed the stream");
            return;
        }
    }
}

static void on_event(struct bufferevent *bev, short what, void *arg)
{
    lc_push_run_t *r = arg;
    (void)bev;
    if (what & BEV_EVENT_CONNECTED) {
        flush_out(r); /* C0+C1 */
        return;
    }
    if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR)) {
        char why[160];
        int dns = bufferevent_socket_get_dns_error(r->bev);
        snprintf(why, sizeof(why), "%s", dns ? evutil_gai_strerror(dns)
                                        : (what & BEV_EVENT_EOF) ? "the server closed the connection"
                                                                 : evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()));
        lost(r, why);
    }
}

static void connect_now(lc_push_run_t *r)
{
    char err[256];
    if (r->state == LC_PUSH_RECONNECTING)
        atomic_fetch_add_explicit(&row(r)->reconnects, 1, memory_order_relaxed);
    lc_rtmp_client_conf_t cc = { .app = r->app, .tc_url = r->tc_url, .stream_key = r->key };
    r->client = lc_rtmp_client_new(&cc, err, sizeof(err));
    if (!r->client) {
        finish(r, LC_PUSH_FAILED, "INVALID_ARGUMENT", err);
        return;
    }
    r->bev = bufferevent_socket_new(r->ps->base, -1, BEV_OPT_CLOSE_ON_FREE);
    if (!r->bev) {
        lost(r, "out of sockets");
        return;
    }
    bufferevent_setcb(r->bev, on_read, on_write, on_event, r);
    bufferevent_setwatermark(r->bev, EV_WRITE, SOCKET_QUEUE / 4, 0);
    bufferevent_enable(r->bev, EV_READ | EV_WRITE);
    if (bufferevent_socket_connect_hostname(r->bev, r->ps->dns, AF_UNSPEC, r->host, r->port) < 0) {
        lost(r, "cannot connect");
        return;
    }
    /* the whole way to Publish.Start is bounded like any handshake */
    struct timeval tv = { (time_t)r->ps->cycle->conf->limits_handshake_timeout, 0 };
    evtimer_del(r->timer);
    evtimer_add(r->timer, &tv);
}

/* ---- media ---- */

/* Send what the ring has, config first (once per connection). */
static void pump(lc_push_run_t *r)
{
    lc_pusher_t *ps = r->ps;
    lc_frame_t f;
    const char *err;
    int rc;
    if (!r->publishing || !r->reading)
        return;
    if (!r->have_base) {
        /* nothing to start from yet (a derived stream just made): wait for its first keyframe */
        if (atomic_load_explicit(&r->ring->last_key, memory_order_acquire) == UINT64_MAX)
            return;
        if (r->cursor.need_key)
            lc_ring_cursor_init(r->ring, &r->cursor, LC_RING_FROM_KEY);
    }
    while ((rc = lc_ring_read(r->ring, &r->cursor, &f, ps->buf, ps->cap)) != LC_RING_EMPTY) {
        if (rc == LC_RING_E2BIG)
            continue;
        if (rc == LC_RING_ENDED) {
            lc_stream_t *e = lc_shm_stream(ps->cycle->shm, r->id);
            char why[sizeof(e->end_reason)];
            snprintf(why, sizeof(why), "%s", e->gen == r->sgen && e->end_reason[0] ? e->end_reason
                                                                                   : "Stopped by publisher stop");
            lc_rtmp_client_unpublish(r->client, &err);
            flush_out(r);
            finish(r, LC_PUSH_STOPPED, NULL, why);
            return;
        }
        if (!r->have_base) {
            /* the codec configuration the key frame needs, then the frames */
            lc_frame_t cf;
            r->have_base = 1;
            r->base_us = f.ts;
            for (unsigned i = 0; i < 3; i++) {
                uint8_t *cbuf = ps->buf + ps->cap; /* past the frame: see lc_pusher_new */
                if (lc_ring_get_config(r->ring, lc_stream_config_order[i], &cf, cbuf, LC_RING_CONFIG_MAX) > 0 &&
                    cf.codec != LC_CODEC_TEXT)
                    lc_rtmp_client_send(r->client, cf.track == 0 ? LC_RTMP_VIDEO : cf.track == 1 ? LC_RTMP_AUDIO
                                                                                                 : LC_RTMP_DATA_AMF0,
                                        0, cbuf, cf.len, &err);
            }
        }
        if (f.codec == LC_CODEC_TEXT || (f.flags & LC_FRAME_CONFIG && f.ts < r->base_us))
            continue;
        if (r->skip_to_key && !(f.flags & (LC_FRAME_KEY | LC_FRAME_CONFIG | LC_FRAME_META)))
            continue;
        r->skip_to_key = 0;
        if (f.track == 0 && (f.flags & LC_FRAME_KEY))
            r->key_sent_ms = now_ms();
        uint8_t type = f.track == 0 ? LC_RTMP_VIDEO : f.track == 1 ? LC_RTMP_AUDIO : LC_RTMP_DATA_AMF0;
        int64_t ms = (f.ts - r->base_us) / 1000;
        rc = lc_rtmp_client_send(r->client, type, (uint32_t)(ms < 0 ? 0 : ms), ps->buf, f.len, &err);
        if (rc == 1) { /* the server does not keep up: skip to the next keyframe */
            r->skip_to_key = 1;
            continue;
        }
        if (rc < 0) {
            lost(r, err ? err : "cannot send");
            return;
        }
        atomic_fetch_add_explicit(&row(r)->bytes, f.len, memory_order_relaxed);
    }
    flush_out(r);
    /* the stream's writer takes any number of requests as one per 500 ms */
    if (r->key_sent_ms && now_ms() - r->key_sent_ms > KEY_INTERVAL_MS)
        lc_keyframe_request(ps->cycle->shm, r->id, r->sgen);
}

/* ---- the table ---- */

static void start(lc_pusher_t *ps, uint32_t slot)
{
    lc_push_t *p = &lc_shm_push(ps->cycle->shm)->push[slot];
    const char *why = NULL;
    lc_push_run_t *r = calloc(1, sizeof(*r));
    if (!r) {
        lc_push_set_state(ps->cycle->shm, slot, LC_PUSH_FAILED, "INTERNAL", "out of memory");
        return;
    }
    r->ps = ps;
    r->slot = slot;
    r->gen = p->gen;
    r->state = LC_PUSH_REQUESTED;
    snprintf(r->url, sizeof(r->url), "%s", p->url);
    snprintf(r->stream, sizeof(r->stream), "%s", p->stream);
    r->next = ps->runs;
    if (ps->runs)
        ps->runs->prev = r;
    ps->runs = r;
    r->timer = evtimer_new(ps->base, on_timer, r);
    if (!r->timer) {
        finish(r, LC_PUSH_FAILED, "INTERNAL", "out of timers");
        return;
    }
    if (parse_url(r, &why) < 0) {
        finish(r, LC_PUSH_FAILED, "INVALID_ARGUMENT", why);
        return;
    }
    uint32_t id, gen;
    if (lc_stream_find(ps->cycle->shm, r->stream, &id, &gen) < 0) {
        finish(r, LC_PUSH_FAILED, "STREAM_NOT_FOUND", "Stream not found");
        return;
    }
    lc_log_info("push: \"%s\" to %s (host %s port %d app \"%s\")", r->stream, r->url, r->host, r->port, r->app);
    connect_now(r);
}

void lc_pusher_on_wake(lc_pusher_t *ps)
{
    lc_shm_t *shm = ps->cycle->shm;
    lc_push_table_t *t = lc_shm_push(shm);
    uint32_t req = atomic_load_explicit(&t->requests, memory_order_acquire);
    if (req != ps->requests_seen) {
        ps->requests_seen = req;
        /* stops first: a stop and a new request of the same url may come together */
        for (lc_push_run_t *r = ps->runs, *next; r; r = next) {
            next = r->next;
            lc_push_t *p = &t->push[r->slot];
            if (p->gen != r->gen || atomic_load_explicit(&p->stop, memory_order_acquire)) {
                if (r->client && r->publishing) {
                    const char *err;
                    lc_rtmp_client_unpublish(r->client, &err);
                    flush_out(r);
                }
                if (p->gen == r->gen)
                    finish(r, LC_PUSH_STOPPED, NULL, "Terminated by the control API");
                else
                    run_free(r);
            }
        }
        /* only the running generation's relay takes new pushes */
        if (lc_shm_proc(shm, ps->cycle->slot)->generation == atomic_load(&shm->generation)) {
            for (uint32_t i = 0; i < LC_PUSH_MAX; i++) {
                uint32_t want = LC_PUSH_REQUESTED;
                lc_push_t *p = &t->push[i];
                int mine = 0;
                for (lc_push_run_t *r = ps->runs; r && !mine; r = r->next)
                    mine = r->slot == i && r->gen == p->gen;
                if (!mine && atomic_load_explicit(&p->state, memory_order_acquire) == want)
                    start(ps, i);
            }
        }
    }
    for (lc_push_run_t *r = ps->runs, *next; r; r = next) {
        next = r->next;
        pump(r);
    }
}

lc_pusher_t *lc_pusher_new(lc_cycle_t *cycle, struct event_base *base)
{
    lc_pusher_t *ps = calloc(1, sizeof(*ps));
    if (!ps)
        return NULL;
    ps->cycle = cycle;
    ps->base = base;
    ps->dns = evdns_base_new(base, EVDNS_BASE_INITIALIZE_NAMESERVERS);
    lc_ring_t *any = lc_shm_ring(cycle->shm, 0);
    ps->cap = lc_ring_max_frame(any);
    /* one frame, and past it one config slot (pump reads both at once) */
    ps->buf = malloc(ps->cap + LC_RING_CONFIG_MAX);
    if (!ps->buf) {
        lc_pusher_free(ps, 0);
        return NULL;
    }
    /* what an earlier relay ran is ours to run now (it handed them over at its exit) */
    ps->requests_seen = atomic_load(&lc_shm_push(cycle->shm)->requests) - 1;
    return ps;
}

void lc_pusher_free(lc_pusher_t *ps, int hand_over)
{
    if (!ps)
        return;
    while (ps->runs) {
        lc_push_run_t *r = ps->runs;
        if (hand_over && r->state != LC_PUSH_FAILED) {
            /* the next generation's relay takes it from here: a new connection, from a keyframe */
            lc_log_info("push: \"%s\" to %s handed to the next relay", r->stream, r->url);
            lc_push_set_state(ps->cycle->shm, r->slot, LC_PUSH_REQUESTED, "CONNECTION_LOST", "relay restarted");
            atomic_fetch_add(&lc_shm_push(ps->cycle->shm)->requests, 1);
        } else if (r->state != LC_PUSH_FAILED) {
            lc_push_set_state(ps->cycle->shm, r->slot, LC_PUSH_STOPPED, NULL, "Server stopped");
        }
        run_free(r);
    }
    if (hand_over)
        lc_shm_wake_relay(ps->cycle->shm);
    if (ps->dns)
        evdns_base_free(ps->dns, 0);
    free(ps->buf);
    free(ps);
}
