/*
 * rest.c: POST /rest-api/<object>/<verb>. JSON in, JSON out, errors as
 * {"error": "..."}. A path of SPEC section 8 whose feature has not landed
 * answers 404 saying so; it never answers with made-up data.
 */
#include <event2/buffer.h>
#include <event2/event.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <yajl/yajl_gen.h>
#include <yajl/yajl_tree.h>

#include "common/media/flv.h"

#include "common/core/log.h"
#include "common/json/rest_body.h"
#include "common/shm/cdn_table.h"
#include "common/shm/push_table.h"
#include "common/shm/stream_table.h"
#include "control/control.h"

#define RELOAD_WAIT_MS 15000
#define RELOAD_POLL_MS 20

static void send_gen(struct evhttp_request *req, int code, const char *reason, yajl_gen g)
{
    const unsigned char *buf;
    size_t len;
    struct evbuffer *out = evbuffer_new();
    yajl_gen_get_buf(g, &buf, &len);
    evbuffer_add(out, buf, len);
    evbuffer_add(out, "\n", 1);
    evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type", "application/json");
    evhttp_send_reply(req, code, reason, out);
    evbuffer_free(out);
}

static void gen_str(yajl_gen g, const char *s)
{
    yajl_gen_string(g, (const unsigned char *)s, strlen(s));
}

static void gen_kv_str(yajl_gen g, const char *k, const char *v)
{
    gen_str(g, k);
    gen_str(g, v);
}

static void gen_kv_int(yajl_gen g, const char *k, long long v)
{
    gen_str(g, k);
    yajl_gen_integer(g, v);
}

void lc_rest_error(struct evhttp_request *req, int code, const char *reason, const char *msg)
{
    yajl_gen g = yajl_gen_alloc(NULL);
    yajl_gen_map_open(g);
    gen_kv_str(g, "error", msg);
    yajl_gen_map_close(g);
    send_gen(req, code, reason, g);
    yajl_gen_free(g);
}

static void worker_show(lc_control_t *ctl, struct evhttp_request *req)
{
    lc_shm_t *shm = ctl->cycle->shm;
    time_t now = time(NULL);
    yajl_gen g = yajl_gen_alloc(NULL);
    lc_proc_t *master = lc_shm_proc(shm, 0);

    yajl_gen_map_open(g);
    gen_str(g, "master");
    yajl_gen_map_open(g);
    gen_kv_int(g, "pid", master->pid);
    gen_kv_int(g, "generation", atomic_load(&shm->generation));
    gen_kv_int(g, "uptime", (long long)(now - shm->started_at));
    yajl_gen_map_close(g);
    gen_str(g, "processes");
    yajl_gen_array_open(g);
    for (int s = 1; s < LC_PROC_SLOTS; s++) {
        lc_proc_t *p = lc_shm_proc(shm, s);
        int state = atomic_load(&p->state);
        if (state == LC_PROC_FREE || p->pid <= 0)
            continue;
        char ports[32] = "";
        if (p->role == LC_ROLE_WORKER)
            snprintf(ports, sizeof(ports), "%u-%u", p->udp_lo, p->udp_hi);
        yajl_gen_map_open(g);
        gen_kv_int(g, "pid", p->pid);
        gen_kv_str(g, "role", lc_control_role_name(p->role));
        gen_kv_int(g, "index", p->index);
        gen_kv_int(g, "slot", s);
        gen_kv_int(g, "generation", p->generation);
        gen_kv_str(g, "state", lc_control_state_name(state));
        gen_kv_int(g, "connections", (long long)atomic_load(&p->connections));
        gen_kv_int(g, "accepted", (long long)atomic_load(&p->accepted));
        gen_kv_int(g, "streams", atomic_load(&p->streams));
        gen_kv_str(g, "udp_ports", ports);
        gen_kv_int(g, "uptime", (long long)(now - p->started_at));
        yajl_gen_map_close(g);
    }
    yajl_gen_array_close(g);
    yajl_gen_map_close(g);
    send_gen(req, 200, "OK", g);
    yajl_gen_free(g);
}

/* A reload is answered once the master has published its outcome. */
typedef struct {
    lc_control_t *ctl;
    struct evhttp_request *req;
    struct event *tick;
    uint32_t seq;
    int waited_ms;
} reload_wait_t;

/* The answer is only queued on the connection: a control told to QUIT must
 * not exit before libevent has written it, so pending drops once sent. */
static void reload_sent(struct evhttp_request *req, void *arg)
{
    lc_control_t *ctl = arg;
    (void)req;
    ctl->pending--;
}

static void reload_done(reload_wait_t *w)
{
    event_free(w->tick);
    free(w);
}

static void on_reload_tick(evutil_socket_t fd, short what, void *arg)
{
    reload_wait_t *w = arg;
    lc_shm_t *shm = w->ctl->cycle->shm;
    (void)fd;
    (void)what;

    /* pairs with the master's release increment in reload.c */
    if (atomic_load_explicit(&shm->reload_seq, memory_order_acquire) != w->seq) {
        if (atomic_load(&shm->reload_ok)) {
            yajl_gen g = yajl_gen_alloc(NULL);
            yajl_gen_map_open(g);
            gen_kv_str(g, "result", "ok");
            gen_kv_int(g, "generation", atomic_load(&shm->generation));
            yajl_gen_map_close(g);
            send_gen(w->req, 200, "OK", g);
            yajl_gen_free(g);
        } else {
            char msg[1100];
            snprintf(msg, sizeof(msg), "reload refused: %s", shm->reload_msg);
            lc_rest_error(w->req, 500, "Internal Server Error", msg);
        }
        reload_done(w);
        return;
    }
    w->waited_ms += RELOAD_POLL_MS;
    if (w->waited_ms >= RELOAD_WAIT_MS) {
        lc_rest_error(w->req, 504, "Gateway Timeout", "the master did not answer the reload in time");
        reload_done(w);
    }
}

static void config_reload(lc_control_t *ctl, struct evhttp_request *req)
{
    reload_wait_t *w = calloc(1, sizeof(*w));
    if (!w) {
        lc_rest_error(req, 500, "Internal Server Error", "out of memory");
        return;
    }
    w->ctl = ctl;
    w->req = req;
    w->seq = atomic_load_explicit(&ctl->cycle->shm->reload_seq, memory_order_acquire);
    w->tick = event_new(ctl->base, -1, EV_PERSIST, on_reload_tick, w);
    struct timeval tv = { 0, RELOAD_POLL_MS * 1000 };
    if (!w->tick || event_add(w->tick, &tv) < 0 || kill(ctl->cycle->master_pid, SIGHUP) < 0) {
        lc_rest_error(req, 500, "Internal Server Error", "cannot signal the master");
        if (w->tick)
            event_free(w->tick);
        free(w);
        return;
    }
    ctl->pending++;
    evhttp_request_set_on_complete_cb(req, reload_sent, ctl);
    lc_log_info("REST config/reload: reload requested");
}

/* {"result": "ok"} */
static void send_ok(struct evhttp_request *req)
{
    yajl_gen g = yajl_gen_alloc(NULL);
    yajl_gen_map_open(g);
    gen_kv_str(g, "result", "ok");
    yajl_gen_map_close(g);
    send_gen(req, 200, "OK", g);
    yajl_gen_free(g);
}

/* ---- streams ---- */

static void gen_stream(yajl_gen g, lc_shm_t *shm, lc_stream_t *s, time_t now)
{
    char codecs[64];
    int v = (int)atomic_load(&s->vcodec), a = (int)atomic_load(&s->acodec);
    snprintf(codecs, sizeof(codecs), "%s%s%s", v ? lc_codec_name(v) : "", v && a ? "," : "",
             a ? lc_codec_name(a) : "");
    yajl_gen_map_open(g);
    gen_kv_str(g, "name", s->name);
    gen_kv_str(g, "codecs", codecs[0] ? codecs : "-");
    gen_kv_str(g, "video", v ? lc_codec_name(v) : "");
    gen_kv_str(g, "audio", a ? lc_codec_name(a) : "");
    gen_kv_int(g, "bitrate", atomic_load(&s->bitrate_kbps));
    gen_kv_str(g, "publisher", s->publisher);
    lc_proc_t *owner = s->owner_slot > 0 ? lc_shm_proc(shm, s->owner_slot) : NULL;
    gen_kv_int(g, "owner_pid", s->owner_pid);
    gen_kv_int(g, "owner_worker", owner && owner->role == LC_ROLE_WORKER ? owner->index : -1);
    gen_kv_int(g, "bytes_in", (long long)atomic_load(&s->bytes_in));
    gen_kv_int(g, "frames_in", (long long)atomic_load(&s->frames_in));
    gen_kv_int(g, "uptime", (long long)(now - s->created_at));
    long long total = 0;
    gen_str(g, "players_per_worker");
    yajl_gen_array_open(g);
    for (int slot = 1; slot < LC_PROC_SLOTS; slot++) {
        uint32_t n = atomic_load(&s->players[slot]);
        lc_proc_t *p = lc_shm_proc(shm, slot);
        if (!n || p->role != LC_ROLE_WORKER)
            continue;
        total += n;
        yajl_gen_map_open(g);
        gen_kv_int(g, "worker", p->index);
        gen_kv_int(g, "pid", p->pid);
        gen_kv_int(g, "generation", p->generation);
        gen_kv_int(g, "players", n);
        yajl_gen_map_close(g);
    }
    yajl_gen_array_close(g);
    gen_kv_int(g, "players", total);
    yajl_gen_map_close(g);
}

/* The "name" member of the JSON body, copied into out. -1 (with an answer sent) if missing. */
static int body_name(struct evhttp_request *req, char *out, size_t len)
{
    struct evbuffer *in = evhttp_request_get_input_buffer(req);
    size_t n = evbuffer_get_length(in);
    char err[256];
    /* contiguous in place: the body is capped at MAX_BODY by evhttp */
    const char *text = n ? (const char *)evbuffer_pullup(in, -1) : "";
    if (!text) {
        lc_rest_error(req, 500, "Internal Server Error", "out of memory");
        return -1;
    }
    if (lc_rest_body_name(text, n, out, len, err, sizeof(err)) < 0) {
        lc_log_info("REST %s: bad body: %s", evhttp_request_get_uri(req), err);
        lc_rest_error(req, 400, "Bad Request", err);
        return -1;
    }
    return 0;
}

/* Published and pulled streams; derived ones are transcoder/find_all's. */
static void stream_find_all(lc_control_t *ctl, struct evhttp_request *req)
{
    lc_shm_t *shm = ctl->cycle->shm;
    time_t now = time(NULL);
    yajl_gen g = yajl_gen_alloc(NULL);
    yajl_gen_map_open(g);
    gen_str(g, "streams");
    yajl_gen_array_open(g);
    for (uint32_t i = 0; i < shm->streams_max; i++) {
        lc_stream_t *s = lc_shm_stream(shm, i);
        if (atomic_load(&s->state) == LC_STREAM_LIVE && !atomic_load(&s->derived))
            gen_stream(g, shm, s, now);
    }
    yajl_gen_array_close(g);
    yajl_gen_map_close(g);
    send_gen(req, 200, "OK", g);
    yajl_gen_free(g);
}

/* Derived streams (SPEC 2): which node's worker makes which codec of which
 * source, for whom, at what CPU cost. */
static void transcoder_find_all(lc_control_t *ctl, struct evhttp_request *req)
{
    lc_shm_t *shm = ctl->cycle->shm;
    time_t now = time(NULL);
    yajl_gen g = yajl_gen_alloc(NULL);
    yajl_gen_map_open(g);
    gen_str(g, "transcoders");
    yajl_gen_array_open(g);
    for (uint32_t i = 0; i < shm->streams_max; i++) {
        lc_stream_t *s = lc_shm_stream(shm, i);
        if (atomic_load(&s->state) != LC_STREAM_LIVE || !atomic_load(&s->derived))
            continue;
        char source[LC_STREAM_NAME_MAX];
        snprintf(source, sizeof(source), "%s", s->name);
        char *sep = strrchr(source, LC_STREAM_DERIVED_SEP);
        const char *codec = sep ? sep + 1 : "";
        if (sep)
            *sep = '\0';
        long long players = 0, uptime = (long long)(now - s->created_at);
        for (int slot = 0; slot < LC_PROC_SLOTS; slot++)
            players += atomic_load(&s->players[slot]);
        double cpu = (double)atomic_load(&s->cpu_us) / 1e6;
        lc_proc_t *owner = s->owner_slot > 0 ? lc_shm_proc(shm, s->owner_slot) : NULL;
        yajl_gen_map_open(g);
        gen_kv_str(g, "name", s->name);
        gen_kv_str(g, "source", source);
        gen_kv_str(g, "codec", codec);
        gen_kv_str(g, "what", s->publisher);
        gen_kv_int(g, "worker", owner && owner->role == LC_ROLE_WORKER ? owner->index : -1);
        gen_kv_int(g, "pid", s->owner_pid);
        gen_str(g, "cpu_seconds");
        yajl_gen_double(g, cpu);
        gen_str(g, "cpu_share");
        yajl_gen_double(g, uptime > 0 ? cpu / (double)uptime : 0.0);
        gen_kv_int(g, "players", players);
        gen_kv_int(g, "uptime", uptime);
        yajl_gen_map_close(g);
    }
    yajl_gen_array_close(g);
    yajl_gen_map_close(g);
    send_gen(req, 200, "OK", g);
    yajl_gen_free(g);
}

static void stream_find(lc_control_t *ctl, struct evhttp_request *req)
{
    char name[LC_STREAM_NAME_MAX];
    uint32_t id, gen;
    if (body_name(req, name, sizeof(name)) < 0)
        return;
    if (lc_stream_find(ctl->cycle->shm, name, &id, &gen) < 0) {
        lc_rest_error(req, 404, "Not Found", "Stream not found");
        return;
    }
    yajl_gen g = yajl_gen_alloc(NULL);
    yajl_gen_map_open(g);
    gen_str(g, "stream");
    gen_stream(g, ctl->cycle->shm, lc_shm_stream(ctl->cycle->shm, id), time(NULL));
    yajl_gen_map_close(g);
    send_gen(req, 200, "OK", g);
    yajl_gen_free(g);
}

static void stream_terminate(lc_control_t *ctl, struct evhttp_request *req)
{
    char name[LC_STREAM_NAME_MAX];
    if (body_name(req, name, sizeof(name)) < 0)
        return;
    if (lc_stream_request_terminate(ctl->cycle->shm, name) < 0) {
        lc_rest_error(req, 404, "Not Found", "Stream not found");
        return;
    }
    lc_log_info("REST stream/terminate: %s", name);
    send_ok(req);
}

/* ---- cdn ---- */

/* A role as the REST answer names it: "" while the relay has not learnt it. */
static const char *cdn_role(int role)
{
    return role == LC_CDN_ROLE_ORIGIN || role == LC_CDN_ROLE_EDGE ? lc_cdn_role_name(role) : "";
}

/*
 * A heap copy of the relay's view (the table is about 1 MB: never on the
 * stack), with its counts clamped and its strings terminated so a torn or
 * corrupt arena cannot walk us off the copy. NULL, with an answer sent, when
 * out of memory or when the CDN is off. The caller frees.
 */
static lc_cdn_table_t *cdn_view(lc_control_t *ctl, struct evhttp_request *req)
{
    lc_cdn_table_t *t = malloc(sizeof(*t));
    if (!t) {
        lc_rest_error(req, 500, "Internal Server Error", "out of memory");
        return NULL;
    }
    lc_cdn_snapshot(ctl->cycle->shm, t);
    if (!t->enabled) {
        free(t);
        lc_rest_error(req, 404, "Not Found", "CDN is not enabled (cdn.enabled = false)");
        return NULL;
    }
    if (t->nnodes > LC_CDN_NODES_MAX)
        t->nnodes = LC_CDN_NODES_MAX;
    if (t->nroutes > LC_CDN_ROUTES_MAX)
        t->nroutes = LC_CDN_ROUTES_MAX;
    t->self[LC_CDN_ADDR_MAX - 1] = '\0';
    for (uint32_t i = 0; i < t->nnodes; i++)
        t->nodes[i].addr[LC_CDN_ADDR_MAX - 1] = '\0';
    for (uint32_t i = 0; i < t->nroutes; i++) {
        t->routes[i].name[LC_STREAM_NAME_MAX - 1] = '\0';
        t->routes[i].origin[LC_CDN_ADDR_MAX - 1] = '\0';
    }
    return t;
}

static void gen_node(yajl_gen g, const char *ip, int role, const char *state, int self)
{
    yajl_gen_map_open(g);
    gen_kv_str(g, "ip", ip);
    gen_kv_str(g, "role", cdn_role(role));
    gen_kv_str(g, "state", state);
    gen_str(g, "self");
    yajl_gen_bool(g, self);
    yajl_gen_map_close(g);
}

/* [{"ip","role","state","self"}]: this node first (always ACTIVE), then the others. */
static void cdn_show_nodes(lc_control_t *ctl, struct evhttp_request *req)
{
    lc_cdn_table_t *t = cdn_view(ctl, req);
    if (!t)
        return;
    yajl_gen g = yajl_gen_alloc(NULL);
    yajl_gen_array_open(g);
    gen_node(g, t->self, t->role, lc_cdn_node_state_name(LC_CDN_NODE_ACTIVE), 1);
    for (uint32_t i = 0; i < t->nnodes; i++) {
        const lc_cdn_node_t *n = &t->nodes[i];
        if (n->state != LC_CDN_NODE_FREE)
            gen_node(g, n->addr, n->role, lc_cdn_node_state_name(n->state), 0);
    }
    yajl_gen_array_close(g);
    free(t);
    send_gen(req, 200, "OK", g);
    yajl_gen_free(g);
}

/* [{"route": origin address, "stream"}]: the streams this node can pull. */
static void cdn_show_routes(lc_control_t *ctl, struct evhttp_request *req)
{
    lc_cdn_table_t *t = cdn_view(ctl, req);
    if (!t)
        return;
    yajl_gen g = yajl_gen_alloc(NULL);
    yajl_gen_array_open(g);
    for (uint32_t i = 0; i < t->nroutes; i++) {
        yajl_gen_map_open(g);
        gen_kv_str(g, "route", t->routes[i].origin);
        gen_kv_str(g, "stream", t->routes[i].name);
        yajl_gen_map_close(g);
    }
    yajl_gen_array_close(g);
    free(t);
    send_gen(req, 200, "OK", g);
    yajl_gen_free(g);
}

/* Paths of SPEC section 8 that belong to features not built yet. */
/* ---- pushes to external RTMP servers (SPEC 7, 8) ---- */

/* The JSON body as a tree, or NULL with the answer sent. The caller frees it. */
static yajl_val body_tree(struct evhttp_request *req)
{
    struct evbuffer *in = evhttp_request_get_input_buffer(req);
    size_t n = evbuffer_get_length(in);
    char err[256];
    const char *text = n ? (const char *)evbuffer_pullup(in, -1) : "{}";
    yajl_val tree = text ? lc_rest_body_parse(text, n ? n : 2, err, sizeof(err)) : NULL;
    if (!tree || !YAJL_IS_OBJECT(tree)) {
        lc_log_info("REST %s: bad body: %s", evhttp_request_get_uri(req), tree ? "not an object" : err);
        lc_rest_error(req, 400, "Bad Request", tree ? "the body must be a JSON object" : err);
        yajl_tree_free(tree);
        return NULL;
    }
    return tree;
}

static const char *tree_str(yajl_val tree, const char *key)
{
    const char *path[] = { key, NULL };
    yajl_val v = yajl_tree_get(tree, path, yajl_t_string);
    return v ? YAJL_GET_STRING(v) : NULL;
}

static void push_startup(lc_control_t *ctl, struct evhttp_request *req)
{
    yajl_val tree = body_tree(req);
    if (!tree)
        return;
    const char *url = tree_str(tree, "url"), *stream = tree_str(tree, "streamName"), *why = NULL;
    const char *tpath[] = { "transcoding", NULL };
    yajl_val tr = yajl_tree_get(tree, tpath, yajl_t_any);
    uint32_t slot;
    if (!url)
        why = "INVALID_ARGUMENT: url (a string) is missing";
    else if (lc_push_url_check(url, &why) == 0 && !stream)
        why = tree_str(tree, "channel") ? "TRANSCODING_NOT_SUPPORTED: channels (live transcoding) are not in this version"
                                        : "INVALID_ARGUMENT: streamName (a string) is missing";
    else if (!why && tr && !YAJL_IS_TRUE(tr) && !YAJL_IS_FALSE(tr))
        why = "INVALID_ARGUMENT: transcoding must be true or false";
    else if (!why && tr && YAJL_IS_TRUE(tr))
        why = "TRANSCODING_NOT_SUPPORTED: a composite needs a channel (live transcoding is not in this version)";
    else if (!why && (!*stream || strlen(stream) >= LC_STREAM_NAME_MAX))
        why = "INVALID_ARGUMENT: streamName is empty or too long";
    if (why && strncmp(why, "INVALID_ARGUMENT", 16) != 0 && strncmp(why, "TRANSCODING", 11) != 0) {
        static char buf[128];
        snprintf(buf, sizeof(buf), "INVALID_ARGUMENT: %s", why);
        why = buf;
    }
    if (why) {
        lc_log_info("REST push/startup refused: %s", why);
        lc_rest_error(req, 400, "Bad Request", why);
        yajl_tree_free(tree);
        return;
    }
    int rc = lc_push_request(ctl->cycle->shm, url, stream, 0, &slot);
    if (rc < 0) {
        lc_rest_error(req, rc == -EEXIST ? 409 : 503, rc == -EEXIST ? "Conflict" : "Service Unavailable",
                      rc == -EEXIST ? "this url is being pushed already" : "CAPACITY: too many pushes");
        yajl_tree_free(tree);
        return;
    }
    lc_log_info("REST push/startup: \"%s\" to %s", stream, url);
    lc_shm_wake_relay(ctl->cycle->shm);
    yajl_gen g = yajl_gen_alloc(NULL);
    yajl_gen_map_open(g);
    gen_kv_str(g, "url", url);
    gen_kv_str(g, "stream", stream);
    gen_kv_str(g, "status", "PENDING");
    yajl_gen_map_close(g);
    send_gen(req, 200, "OK", g);
    yajl_gen_free(g);
    yajl_tree_free(tree);
}

static void push_terminate(lc_control_t *ctl, struct evhttp_request *req)
{
    yajl_val tree = body_tree(req);
    if (!tree)
        return;
    const char *url = tree_str(tree, "url");
    if (!url)
        lc_rest_error(req, 400, "Bad Request", "INVALID_ARGUMENT: url (a string) is missing");
    else if (lc_push_request_stop(ctl->cycle->shm, url) < 0)
        lc_rest_error(req, 404, "Not Found", "no push to this url");
    else {
        lc_log_info("REST push/terminate: %s", url);
        lc_shm_wake_relay(ctl->cycle->shm);
        send_ok(req);
    }
    yajl_tree_free(tree);
}

static void push_find_all(lc_control_t *ctl, struct evhttp_request *req)
{
    lc_push_table_t *t = malloc(sizeof(*t));
    if (!t) {
        lc_rest_error(req, 500, "Internal Server Error", "out of memory");
        return;
    }
    lc_push_snapshot(ctl->cycle->shm, t);
    yajl_gen g = yajl_gen_alloc(NULL);
    yajl_gen_map_open(g);
    gen_str(g, "pushes");
    yajl_gen_array_open(g);
    for (int i = 0; i < LC_PUSH_MAX; i++) {
        lc_push_t *p = &t->push[i];
        int state = (int)atomic_load(&p->state);
        if (state == LC_PUSH_FREE)
            continue;
        yajl_gen_map_open(g);
        gen_kv_str(g, "url", p->url);
        gen_kv_str(g, "stream", p->stream);
        gen_kv_str(g, "status", lc_push_state_name(state));
        gen_kv_str(g, "code", p->code);
        gen_kv_str(g, "info", p->info);
        gen_kv_int(g, "since", p->since);
        gen_kv_int(g, "bytes", (long long)atomic_load(&p->bytes));
        gen_kv_int(g, "reconnects", atomic_load(&p->reconnects));
        yajl_gen_map_close(g);
    }
    yajl_gen_array_close(g);
    yajl_gen_map_close(g);
    send_gen(req, 200, "OK", g);
    yajl_gen_free(g);
    free(t);
}

static const char *not_yet[] = {
    "transcoding/set",
};

void lc_rest_handle(lc_control_t *ctl, struct evhttp_request *req, const char *path)
{
    if (evhttp_request_get_command(req) != EVHTTP_REQ_POST) {
        lc_rest_error(req, 405, "Method Not Allowed", "REST calls use POST with a JSON body");
        return;
    }
    if (strcmp(path, "worker/show") == 0) {
        worker_show(ctl, req);
        return;
    }
    if (strcmp(path, "config/reload") == 0) {
        config_reload(ctl, req);
        return;
    }
    static const struct { const char *path; void (*fn)(lc_control_t *, struct evhttp_request *); } routes[] = {
        { "stream/find_all", stream_find_all }, { "stream/find", stream_find },
        { "stream/terminate", stream_terminate }, { "cdn/show_nodes", cdn_show_nodes },
        { "cdn/show_routes", cdn_show_routes }, { "transcoder/find_all", transcoder_find_all },
        { "push/startup", push_startup }, { "push/find_all", push_find_all }, { "push/terminate", push_terminate },
    };
    for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
        if (strcmp(path, routes[i].path) == 0) {
            routes[i].fn(ctl, req);
            return;
        }
    }
    for (size_t i = 0; i < sizeof(not_yet) / sizeof(not_yet[0]); i++) {
        if (strcmp(path, not_yet[i]) == 0) {
            char msg[128];
            snprintf(msg, sizeof(msg), "%s is not available in this version of livecdn", path);
            lc_rest_error(req, 404, "Not Found", msg);
            return;
        }
    }
    lc_rest_error(req, 404, "Not Found", "unknown REST path");
}
