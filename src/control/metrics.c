/*
 * metrics.c: GET /metrics in the Prometheus text format (version 0.0.4),
 * read straight from the shared arena: what every process publishes there
 * is what is reported, nothing is cached here.
 */
#include <event2/buffer.h>
#include <stdlib.h>
#include <time.h>

#include "common/shm/cdn_table.h"
#include "common/shm/push_table.h"
#include "common/shm/stream_table.h"
#include "control/control.h"

/* A stream name as a label value: \\, \" and newline escaped. */
static void label(struct evbuffer *b, const char *s)
{
    for (; *s; s++) {
        if (*s == '\\' || *s == '"')
            evbuffer_add_printf(b, "\\%c", *s);
        else if (*s == '\n')
            evbuffer_add(b, "\\n", 2);
        else
            evbuffer_add(b, s, 1);
    }
}

/* Derived streams: how many, and the codec CPU each has cost. */
static void metrics_transcoders(struct evbuffer *b, lc_shm_t *shm)
{
    evbuffer_add_printf(b, "# HELP livecdn_transcoders Derived streams (transcodes) made on this node.\n"
                           "# TYPE livecdn_transcoders gauge\nlivecdn_transcoders %u\n",
                        lc_stream_count_derived(shm));
    evbuffer_add_printf(b, "# HELP livecdn_transcoder_cpu_seconds_total Codec CPU time of each live transcoder.\n"
                           "# TYPE livecdn_transcoder_cpu_seconds_total counter\n");
    for (uint32_t i = 0; i < shm->streams_max; i++) {
        lc_stream_t *s = lc_shm_stream(shm, i);
        if (atomic_load(&s->state) != LC_STREAM_LIVE || !atomic_load(&s->derived))
            continue;
        evbuffer_add_printf(b, "livecdn_transcoder_cpu_seconds_total{stream=\"");
        label(b, s->name);
        evbuffer_add_printf(b, "\"} %.6f\n", (double)atomic_load(&s->cpu_us) / 1e6);
    }
}

/* Pushes to external RTMP servers: how many in each state, and each one's bytes. -1 when out of memory. */
static int metrics_pushes(struct evbuffer *b, lc_shm_t *shm)
{
    lc_push_table_t *t = malloc(sizeof(*t));
    unsigned count[LC_PUSH_FAILED + 1] = { 0 };
    if (!t)
        return -1;
    lc_push_snapshot(shm, t);
    for (int i = 0; i < LC_PUSH_MAX; i++) {
        uint32_t st = atomic_load(&t->push[i].state);
        if (st <= LC_PUSH_FAILED)
            count[st]++;
    }
    evbuffer_add_printf(b, "# HELP livecdn_pushes Pushes to external RTMP servers by status.\n"
                           "# TYPE livecdn_pushes gauge\n");
    for (int st = LC_PUSH_REQUESTED; st <= LC_PUSH_FAILED; st++)
        evbuffer_add_printf(b, "livecdn_pushes{status=\"%s\"} %u\n", lc_push_state_name(st), count[st]);
    evbuffer_add_printf(b, "# HELP livecdn_push_bytes_total Media bytes each push sent.\n"
                           "# TYPE livecdn_push_bytes_total counter\n");
    for (int i = 0; i < LC_PUSH_MAX; i++) {
        lc_push_t *p = &t->push[i];
        if (atomic_load(&p->state) == LC_PUSH_FREE)
            continue;
        evbuffer_add_printf(b, "livecdn_push_bytes_total{url=\"");
        label(b, p->url);
        evbuffer_add_printf(b, "\",stream=\"");
        label(b, p->stream);
        evbuffer_add_printf(b, "\"} %llu\n", (unsigned long long)atomic_load(&p->bytes));
    }
    free(t);
    return 0;
}

static void metrics_streams(struct evbuffer *b, lc_shm_t *shm)
{
    static const struct { const char *name, *type, *help; } per[] = {
        { "bitrate_kbps", "gauge", "Incoming bitrate of each live stream over the last second." },
        { "bytes_in_total", "counter", "Payload bytes written into each live stream's ring." },
        { "players", "gauge", "Players of each live stream, all workers." },
    };
    for (size_t k = 0; k < sizeof(per) / sizeof(per[0]); k++) {
        evbuffer_add_printf(b, "# HELP livecdn_stream_%s %s\n# TYPE livecdn_stream_%s %s\n", per[k].name,
                            per[k].help, per[k].name, per[k].type);
        for (uint32_t i = 0; i < shm->streams_max; i++) {
            lc_stream_t *s = lc_shm_stream(shm, i);
            if (atomic_load(&s->state) != LC_STREAM_LIVE)
                continue;
            unsigned long long players = 0;
            for (int slot = 0; slot < LC_PROC_SLOTS; slot++)
                players += atomic_load(&s->players[slot]);
            unsigned long long v[] = { atomic_load(&s->bitrate_kbps), atomic_load(&s->bytes_in), players };
            evbuffer_add_printf(b, "livecdn_stream_%s{stream=\"", per[k].name);
            label(b, s->name);
            evbuffer_add_printf(b, "\"} %llu\n", v[k]);
        }
    }
}

/*
 * The relay's CDN view and counters. Nodes and routes come from a heap
 * snapshot (the table is about 1 MB) so they are counted under the arena
 * lock; they read 0 while the CDN is off. -1 when out of memory.
 */
static int metrics_cdn(struct evbuffer *b, lc_shm_t *shm)
{
    lc_cdn_table_t *t = malloc(sizeof(*t));
    if (!t)
        return -1;
    lc_cdn_snapshot(shm, t);
    unsigned active = 0, passive = 0, routes = 0;
    if (t->enabled) {
        uint32_t n = t->nnodes < LC_CDN_NODES_MAX ? t->nnodes : LC_CDN_NODES_MAX;
        for (uint32_t i = 0; i < n; i++) {
            active += t->nodes[i].state == LC_CDN_NODE_ACTIVE;
            passive += t->nodes[i].state == LC_CDN_NODE_PASSIVE;
        }
        active++; /* this node */
        routes = t->nroutes < LC_CDN_ROUTES_MAX ? t->nroutes : LC_CDN_ROUTES_MAX;
    }
    evbuffer_add_printf(b, "# HELP livecdn_cdn_nodes CDN nodes by state, this node included (0 when the CDN is off).\n"
                           "# TYPE livecdn_cdn_nodes gauge\n"
                           "livecdn_cdn_nodes{state=\"active\"} %u\nlivecdn_cdn_nodes{state=\"passive\"} %u\n",
                        active, passive);
    evbuffer_add_printf(b, "# HELP livecdn_cdn_routes Streams this node can pull from another node.\n"
                           "# TYPE livecdn_cdn_routes gauge\nlivecdn_cdn_routes %u\n", routes);
    static const struct { const char *name, *type, *help; } one[] = {
        { "pulls_active", "gauge", "Streams this node pulls from other nodes now." },
        { "pulls_total", "counter", "Pulls from other nodes started." },
        { "pulls_failed_total", "counter", "Pulls from other nodes that failed." },
        { "serves_active", "gauge", "Pulls other nodes make from this one now." },
    };
    unsigned long long pulls = 0, serves = 0;
    for (uint32_t i = 0; t->enabled && i < shm->streams_max; i++) {
        lc_stream_t *s = lc_shm_stream(shm, i);
        pulls += atomic_load(&s->state) == LC_STREAM_LIVE && atomic_load(&s->pulled);
    }
    for (int i = 0; t->enabled && i < LC_PROC_SLOTS; i++) {
        lc_proc_t *p = lc_shm_proc(shm, i);
        if (atomic_load(&p->state) != LC_PROC_FREE && p->role == LC_ROLE_RELAY)
            serves += atomic_load(&p->players);
    }
    unsigned long long v[] = { pulls, t->pulls_total, t->pulls_failed, serves };
    for (size_t k = 0; k < sizeof(one) / sizeof(one[0]); k++)
        evbuffer_add_printf(b, "# HELP livecdn_cdn_%s %s\n# TYPE livecdn_cdn_%s %s\nlivecdn_cdn_%s %llu\n",
                            one[k].name, one[k].help, one[k].name, one[k].type, one[k].name, v[k]);
    evbuffer_add_printf(b, "# HELP livecdn_cdn_relayed_bytes_total Media bytes received over pulls (in) "
                           "and sent to pulling nodes (out).\n"
                           "# TYPE livecdn_cdn_relayed_bytes_total counter\n"
                           "livecdn_cdn_relayed_bytes_total{direction=\"in\"} %llu\n"
                           "livecdn_cdn_relayed_bytes_total{direction=\"out\"} %llu\n",
                        (unsigned long long)t->bytes_relayed_in, (unsigned long long)t->bytes_relayed_out);
    evbuffer_add_printf(b, "# HELP livecdn_cdn_messages_total CDN control messages received (in) and sent (out).\n"
                           "# TYPE livecdn_cdn_messages_total counter\n"
                           "livecdn_cdn_messages_total{direction=\"in\"} %llu\n"
                           "livecdn_cdn_messages_total{direction=\"out\"} %llu\n",
                        (unsigned long long)t->msgs_in, (unsigned long long)t->msgs_out);
    free(t);
    return 0;
}

void lc_metrics_handle(lc_control_t *ctl, struct evhttp_request *req)
{
    lc_shm_t *shm = ctl->cycle->shm;
    struct evbuffer *b = evbuffer_new();
    int by_role[5] = { 0 };

    for (int s = 0; s < LC_PROC_SLOTS; s++) {
        lc_proc_t *p = lc_shm_proc(shm, s);
        if (atomic_load(&p->state) != LC_PROC_FREE && p->pid > 0 && p->role > 0 && p->role < 5)
            by_role[p->role]++;
    }
    evbuffer_add_printf(b, "# HELP livecdn_processes Processes by role.\n# TYPE livecdn_processes gauge\n");
    for (int r = LC_ROLE_MASTER; r <= LC_ROLE_CONTROL; r++)
        evbuffer_add_printf(b, "livecdn_processes{role=\"%s\"} %d\n", lc_control_role_name(r), by_role[r]);
    evbuffer_add_printf(b, "# HELP livecdn_uptime_seconds Seconds since the master started.\n"
                           "# TYPE livecdn_uptime_seconds gauge\nlivecdn_uptime_seconds %lld\n",
                        (long long)(time(NULL) - shm->started_at));
    evbuffer_add_printf(b, "# HELP livecdn_generation Current worker generation (reloads + 1).\n"
                           "# TYPE livecdn_generation gauge\nlivecdn_generation %u\n",
                        atomic_load(&shm->generation));
    evbuffer_add_printf(b, "# HELP livecdn_ring_bytes_written_total Media payload bytes written into rings.\n"
                           "# TYPE livecdn_ring_bytes_written_total counter\n"
                           "livecdn_ring_bytes_written_total %llu\n",
                        (unsigned long long)atomic_load(&shm->ring_bytes));
    evbuffer_add_printf(b, "# HELP livecdn_ring_frames_written_total Media frames written into rings.\n"
                           "# TYPE livecdn_ring_frames_written_total counter\n"
                           "livecdn_ring_frames_written_total %llu\n",
                        (unsigned long long)atomic_load(&shm->ring_frames));
    evbuffer_add_printf(b, "# HELP livecdn_streams Live streams in the stream table.\n"
                           "# TYPE livecdn_streams gauge\nlivecdn_streams %u\n", lc_stream_count(shm));
    evbuffer_add_printf(b, "# HELP livecdn_rings Rings in the arena.\n# TYPE livecdn_rings gauge\n"
                           "livecdn_rings %u\n", shm->rings);
    static const struct { const char *name, *type, *help; } per[] = {
        { "connections", "gauge", "Open sessions per worker." },
        { "accepted_total", "counter", "Sessions accepted per worker." },
        { "players", "gauge", "Playing sessions per worker." },
        { "publishers", "gauge", "Publishing sessions per worker." },
        { "bytes_in_total", "counter", "Media payload bytes received from publishers per worker." },
        { "bytes_out_total", "counter", "Media bytes queued to players per worker." },
    };
    for (size_t k = 0; k < sizeof(per) / sizeof(per[0]); k++) {
        evbuffer_add_printf(b, "# HELP livecdn_worker_%s %s\n# TYPE livecdn_worker_%s %s\n", per[k].name,
                            per[k].help, per[k].name, per[k].type);
        for (int s = 1; s < LC_PROC_SLOTS; s++) {
            lc_proc_t *p = lc_shm_proc(shm, s);
            if (atomic_load(&p->state) == LC_PROC_FREE || p->role != LC_ROLE_WORKER || p->pid <= 0)
                continue;
            unsigned long long v[] = { atomic_load(&p->connections), atomic_load(&p->accepted),
                                       atomic_load(&p->players), atomic_load(&p->publishers),
                                       atomic_load(&p->bytes_in), atomic_load(&p->bytes_out) };
            evbuffer_add_printf(b, "livecdn_worker_%s{worker=\"%d\",generation=\"%u\",pid=\"%d\"} %llu\n",
                                per[k].name, p->index, p->generation, p->pid, v[k]);
        }
    }
    metrics_streams(b, shm);
    metrics_transcoders(b, shm);
    if (metrics_pushes(b, shm) < 0)
        evbuffer_add_printf(b, "# livecdn_pushes: out of memory\n");
    if (metrics_cdn(b, shm) < 0) {
        evbuffer_free(b);
        lc_rest_error(req, 500, "Internal Server Error", "out of memory");
        return;
    }
    evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type",
                      "text/plain; version=0.0.4; charset=utf-8");
    evhttp_send_reply(req, 200, "OK", b);
    evbuffer_free(b);
}
