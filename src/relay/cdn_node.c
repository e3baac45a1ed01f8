/*
 * cdn_node.c: CDN membership (SPEC section 6, man/livecdn-cdn.7).
 *
 * Every node keeps a link to every other node it knows (a full mesh, as in
 * the WCS CDN 2.0 design): no coordinator, and each node judges the others'
 * liveness itself from what it hears. A link starts with HELLO both ways;
 * then each side sends its STATE (the ACTIVE nodes it knows and the streams
 * it distributes, under a serial) whenever that changes, and a KEEPALIVE
 * naming the serial every keepalive_interval. A receiver holding another
 * serial asks for the STATE again (RESYNC). So at rest a node sends one
 * small message per peer per interval, and a join spreads in one round
 * trip: whoever hears of a new node connects to it.
 *
 * A peer is ACTIVE while it is heard from, PASSIVE once it is silent for
 * three intervals or its last link closed (its routes are withdrawn at
 * once), removed after cdn.node_remove_timeout when that is set. This file
 * writes the nodes and the routes into the arena (cdn_table.h).
 *
 * Trust: a peer is heard from only over a link whose hello it passed
 * (cdn_link.c runs it, cdn_hello.h proves cdn.secret, link_check() below
 * judges the name and cdn.allow). Only heard nodes are listed and only
 * their own states make routes (cdn_route.h, sticky). Addresses that
 * merely arrive in a gossiped node list are bounded (GOSSIP_*), dialled at
 * a bounded global rate, forgotten when they do not answer, never listed.
 */
#include "relay/cdn.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>

#include "common/cdn/cdn_addr.h"
#include "common/cdn/cdn_route.h"
#include "common/core/log.h"
#include "common/core/net.h"
#include "common/shm/notify.h"
#include "common/shm/stream_table.h"

#define TICK_MS 250
#define SILENT_INTERVALS 3
#define BACKOFF_MIN_MS 250
#define CTL_MAX_MESSAGE LC_CDN_MSG_MAX
/* Gossip: real nodes are heard (and then listed) whatever gossip does, as
 * the nodes only gossiped stay well below the table's size. */
#define GOSSIP_PER_STATE 16   /* new addresses taken from one state */
#define GOSSIP_MAX (LC_CDN_NODES_MAX / 2) /* addresses known only from gossip */
#define GOSSIP_TRIES 3        /* failed dials before such an address is forgotten */
#define HEARD_MAX LC_CDN_NODES_MAX
#define DIAL_RATE 20.0        /* control-link dials per second, all peers together */
#define DIAL_BURST 20.0
#define LOG_RATE 2.0          /* log lines per second about gossiped addresses */
#define LOG_BURST 10.0

static const lc_cdn_link_ops_t peer_ops, seed_ops, fresh_ops;
static void connect_due(lc_cdn_t *c, uint64_t now);

uint64_t lc_cdn_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static uint32_t backoff_max(const lc_cdn_t *c)
{
    int64_t ka = c->cycle->conf->cdn_keepalive_interval;
    return (uint32_t)(ka > 5 ? 5000 : ka * 1000);
}

int lc_cdn_send(lc_cdn_t *c, lc_cdn_link_t *l, lc_cdn_msg_t *m)
{
    m->version = LC_CDN_PROTO_VERSION;
    snprintf(m->node, sizeof(m->node), "%s", c->self);
    if (!l || lc_cdn_link_send_msg(l, m) < 0)
        return -1;
    atomic_fetch_add_explicit(&c->table->msgs_out, 1, memory_order_relaxed);
    return 0;
}

/* ---- peers ---- */

static lc_peer_t *peer_find(lc_cdn_t *c, const char *addr)
{
    for (lc_peer_t *p = c->peers; p; p = p->next)
        if (strcmp(p->addr, addr) == 0)
            return p;
    return NULL;
}

/* Silent: a peer is announced when it is first heard (heard()). */
static lc_peer_t *peer_add(lc_cdn_t *c, const char *addr)
{
    lc_peer_t *p = calloc(1, sizeof(*p));
    if (!p)
        return NULL;
    snprintf(p->addr, sizeof(p->addr), "%s", addr);
    p->state = LC_CDN_NODE_PASSIVE;
    p->since = time(NULL);
    p->since_ms = lc_cdn_now_ms();
    p->backoff = BACKOFF_MIN_MS;
    p->next = c->peers;
    c->peers = p;
    return p;
}

static size_t count_peers(const lc_cdn_t *c, int heard)
{
    size_t n = 0;
    for (const lc_peer_t *p = c->peers; p; p = p->next)
        n += p->heard_once == heard;
    return n;
}

/* A token bucket: 1 and one token spent, or 0 when none is left. */
static int take_token(double *tokens, uint64_t *at, double rate, double burst, uint64_t now)
{
    *tokens = *at ? *tokens + (double)(now - *at) * rate / 1000.0 : burst;
    if (*tokens > burst)
        *tokens = burst;
    *at = now;
    if (*tokens < 1.0)
        return 0;
    *tokens -= 1.0;
    return 1;
}

/* Lines an attacker's gossip can cause, at most LOG_RATE a second. */
#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
static void gossip_log(lc_cdn_t *c, const char *fmt, ...)
{
    if (!take_token(&c->log_tokens, &c->log_at, LOG_RATE, LOG_BURST, lc_cdn_now_ms())) {
        c->log_dropped++;
        return;
    }
    if (c->log_dropped)
        lc_log_info("cdn: %u more lines about gossiped nodes were not logged (at most %.0f a second)",
                    c->log_dropped, LOG_RATE);
    c->log_dropped = 0;
    char line[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    lc_log_info("%s", line);
}

static lc_cdn_link_t *peer_link(lc_peer_t *p)
{
    if (p->out && lc_cdn_link_is_open(p->out))
        return p->out;
    if (p->in && lc_cdn_link_is_open(p->in))
        return p->in;
    return NULL;
}

static void peer_set_state(lc_peer_t *p, int state, const char *why)
{
    if (p->state == state)
        return;
    p->state = state;
    p->since = time(NULL);
    p->since_ms = lc_cdn_now_ms();
    if (state == LC_CDN_NODE_ACTIVE) {
        lc_log_info("cdn: node %s is ACTIVE", p->addr);
    } else {
        lc_log_warn("cdn: node %s is PASSIVE: %s; its routes are withdrawn", p->addr, why);
        p->have_state = 0;
        free(p->streams);
        p->streams = NULL;
        p->nstreams = 0;
    }
}

static void peer_close_links(lc_peer_t *p)
{
    if (p->out)
        lc_cdn_link_close(p->out);
    if (p->in)
        lc_cdn_link_close(p->in);
    p->out = p->in = NULL;
}

static void peer_free(lc_peer_t *p)
{
    peer_close_links(p);
    free(p->streams);
    free(p);
}

/* ---- our state ---- */


/* The streams this node distributes: origins give their live streams, the
 * ones they pulled marked fetched; edges give none. Caller frees. */
static lc_cdn_stream_ref_t *own_streams(lc_cdn_t *c, size_t *n)
{
    lc_shm_t *shm = c->cycle->shm;
    *n = 0;
    if (c->role != LC_CDN_ROLE_ORIGIN)
        return NULL;
    lc_cdn_stream_ref_t *v = NULL;
    size_t alloc = 0;
    for (uint32_t i = 0; i < shm->streams_max && *n < LC_CDN_LIST_MAX; i++) {
        lc_stream_t *s = lc_shm_stream(shm, i);
        if (atomic_load_explicit(&s->state, memory_order_acquire) != LC_STREAM_LIVE ||
            atomic_load_explicit(&s->derived, memory_order_relaxed)) /* a node makes its own (SPEC 6) */
            continue;
        if (*n == alloc) {
            alloc = alloc ? alloc * 2 : 16;
            lc_cdn_stream_ref_t *nv = realloc(v, alloc * sizeof(*v));
            if (!nv)
                break;
            v = nv;
        }
        snprintf(v[*n].name, sizeof(v[*n].name), "%s", s->name);
        v[*n].fetched = atomic_load_explicit(&s->pulled, memory_order_relaxed) != 0;
        v[*n].vcodec = (int)atomic_load_explicit(&s->vcodec, memory_order_relaxed);
        v[*n].acodec = (int)atomic_load_explicit(&s->acodec, memory_order_relaxed);
        (*n)++;
    }
    return v;
}

static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
    const uint8_t *b = p;
    for (size_t i = 0; i < n; i++)
        h = (h ^ b[i]) * 1099511628211ull;
    return h;
}

/* The state is order-free: hash the elements and add the hashes. */
static uint64_t state_hash(lc_cdn_t *c, const lc_cdn_stream_ref_t *v, size_t n)
{
    uint64_t sum = 0;
    for (size_t i = 0; i < n; i++) {
        uint64_t h = fnv(14695981039346656037ull, v[i].name, strlen(v[i].name));
        int facts[3] = { v[i].fetched, v[i].vcodec, v[i].acodec }; /* codecs learned later re-announce it */
        sum += fnv(h, facts, sizeof(facts));
    }
    for (lc_peer_t *p = c->peers; p; p = p->next)
        if (p->state == LC_CDN_NODE_ACTIVE && p->role)
            sum += fnv(fnv(7, p->addr, strlen(p->addr)), &p->role, sizeof(int));
    return sum;
}

static int send_state(lc_cdn_t *c, lc_cdn_link_t *l)
{
    lc_cdn_msg_t m = { .type = LC_CDN_STATE, .role = c->role, .serial = c->serial };
    size_t nn = 0;
    for (lc_peer_t *p = c->peers; p; p = p->next)
        nn++;
    m.nodes = calloc(nn ? nn : 1, sizeof(*m.nodes));
    m.streams = own_streams(c, &m.nstreams);
    if (!m.nodes) {
        free(m.streams);
        return -1;
    }
    /* only nodes we hear from: a dead node is not brought back by gossip */
    for (lc_peer_t *p = c->peers; p; p = p->next) {
        if (p->state != LC_CDN_NODE_ACTIVE || !p->role)
            continue;
        snprintf(m.nodes[m.nnodes].addr, sizeof(m.nodes[m.nnodes].addr), "%s", p->addr);
        m.nodes[m.nnodes++].role = p->role;
    }
    int rc = lc_cdn_send(c, l, &m);
    free(m.nodes);
    free(m.streams);
    return rc;
}


/* ---- the view: heard nodes, and routes (cdn_route.h) ---- */

static void publish_view(lc_cdn_t *c)
{
    lc_shm_t *shm = c->cycle->shm;
    lc_cdn_table_t *t = c->table;
    size_t n = 0;
    for (lc_peer_t *p = c->peers; p; p = p->next)
        if (p->state == LC_CDN_NODE_ACTIVE && p->role == LC_CDN_ROLE_ORIGIN)
            n += p->nstreams;
    lc_cdn_claim_t *v = calloc(n ? n : 1, sizeof(*v));
    lc_cdn_route_t *routes = calloc(n ? n : 1, sizeof(*routes));
    if (!v || !routes) {
        free(v);
        free(routes);
        return;
    }
    n = 0;
    /* streams come only from a peer's own state, over a link it proved */
    for (lc_peer_t *p = c->peers; p; p = p->next) {
        if (p->state != LC_CDN_NODE_ACTIVE || p->role != LC_CDN_ROLE_ORIGIN)
            continue;
        for (size_t i = 0; i < p->nstreams; i++)
            v[n++] = (lc_cdn_claim_t){ p->streams[i].name, p->addr, p->streams[i].fetched, p->streams[i].vcodec,
                                       p->streams[i].acodec };
    }
    size_t nr = lc_cdn_routes_pick(c->routes, c->nroutes, v, n, routes, LC_CDN_ROUTES_MAX);
    /* v is sorted now: the same name from two publishers' origins is a warning */
    for (size_t i = 1, r = 0; i < n; i++) {
        if (strcmp(v[i].name, v[i - 1].name) != 0 || v[i].fetched || v[i - 1].fetched ||
            (i >= 2 && strcmp(v[i].name, v[i - 2].name) == 0))
            continue;
        while (r < nr && strcmp(routes[r].name, v[i].name) < 0)
            r++;
        lc_log_warn("cdn: stream \"%s\" is published on two origins, %s and %s; this node pulls it from %s",
                    v[i].name, v[i - 1].origin, v[i].origin, r < nr ? routes[r].origin : "?");
    }

    lc_shm_lock(shm);
    t->nnodes = 0;
    for (lc_peer_t *p = c->peers; p && t->nnodes < LC_CDN_NODES_MAX; p = p->next) {
        if (!p->heard_once)
            continue; /* an address someone gossiped is not a node until it answers */
        lc_cdn_node_t *d = &t->nodes[t->nnodes++];
        d->state = p->state;
        d->role = p->role;
        d->since = p->since;
        snprintf(d->addr, sizeof(d->addr), "%s", p->addr);
    }
    t->nroutes = (uint32_t)nr;
    memcpy(t->routes, routes, nr * sizeof(*routes));
    lc_shm_unlock(shm);
    free(v);
    free(c->routes);
    c->routes = routes;
    c->nroutes = nr;
}

/* ---- messages from peers ---- */

static int check_version(lc_cdn_link_t *l, const lc_cdn_msg_t *m)
{
    if (m->version == LC_CDN_PROTO_VERSION)
        return 0;
    char why[160];
    snprintf(why, sizeof(why), "CDN protocol version %d is not this node's version %d", m->version,
             LC_CDN_PROTO_VERSION);
    lc_log_warn("cdn: %s (%s) refused: %s", m->node[0] ? m->node : "a node", lc_cdn_link_peer(l), why);
    lc_cdn_link_fail(l, why);
    return -1;
}

static lc_cdn_t *the_cdn; /* links carry peers as their context; peers need the cdn */

/* Every link's peer, as its hello names it, before this node answers
 * (cdn_link.h): a node address in its one spelling, not ours, with a role,
 * allowed by cdn.allow; inbound, from the IP the connection comes from (a
 * node may not speak for another); outbound, the node we dialled (but the
 * point of entry, which we knew only by its entry address). */
static int link_check(void *arg, lc_cdn_link_t *l, int inbound, const char *node, int role, const char **why)
{
    lc_cdn_t *c = arg;
    char ip[LC_CDN_ADDR_MAX], from[LC_CDN_ADDR_MAX];
    *why = NULL;
    if (lc_cdn_addr_bad(node))
        *why = "its node address is not ip:port";
    else if (strcmp(node, c->self) == 0)
        *why = "it claims this node's own address";
    else if (role != LC_CDN_ROLE_ORIGIN && role != LC_CDN_ROLE_EDGE)
        *why = "it has no role";
    else if (!lc_cdn_addr_allowed(&c->cycle->conf->cdn_allow, node))
        *why = "not in cdn.allow";
    if (!*why && inbound) {
        snprintf(ip, sizeof(ip), "%s", node);
        snprintf(from, sizeof(from), "%s", lc_cdn_link_peer(l));
        *strrchr(ip, ':') = '\0';
        char *colon = strrchr(from, ':');
        if (colon)
            *colon = '\0';
        if (strcmp(ip, from) != 0)
            *why = "it claims an address that is not the one it connects from";
    }
    if (!*why && !inbound && l != c->seed_link && strcmp(node, lc_cdn_link_peer(l)) != 0)
        *why = "it answers as another node than the one dialled";
    return *why ? -1 : 0;
}

static void heard(lc_peer_t *p)
{
    if (!p->heard_once)
        lc_log_info("cdn: node %s joins the node list", p->addr);
    p->heard_once = 1;
    p->tries = 0;
    p->last_heard = lc_cdn_now_ms();
    p->backoff = BACKOFF_MIN_MS;
    peer_set_state(p, LC_CDN_NODE_ACTIVE, "");
}

/* Addresses a peer gossips join the node list as candidates only, within
 * bounds: GOSSIP_PER_STATE from one state, GOSSIP_MAX unheard at once. */
static void learn_nodes(lc_cdn_t *c, const lc_peer_t *from, const lc_cdn_msg_t *m)
{
    size_t taken = 0, refused = 0, over = 0, unheard = count_peers(c, 0);
    const char *why = NULL;
    for (size_t i = 0; i < m->nnodes; i++) {
        const char *a = m->nodes[i].addr;
        if (strcmp(a, c->self) == 0 || peer_find(c, a))
            continue;
        const char *bad = lc_cdn_gossip_bad(a, c->self, &c->cycle->conf->cdn_allow);
        if (bad) {
            why = bad;
            refused++;
        } else if (taken >= GOSSIP_PER_STATE || unheard >= GOSSIP_MAX) {
            over++;
        } else {
            lc_peer_t *np = peer_add(c, a);
            if (!np)
                break;
            np->role = m->nodes[i].role;
            taken++;
            unheard++;
        }
    }
    if (refused || over)
        gossip_log(c, "cdn: node %s names %zu nodes this node did not know: %zu to try, %zu refused%s%s%s, "
                   "%zu over the bound (%d per state, %d untried at once)",
                   from->addr, taken + refused + over, taken, refused, why ? " (" : "", why ? why : "",
                   why ? ")" : "", over, GOSSIP_PER_STATE, GOSSIP_MAX);
}

static void on_state(lc_cdn_t *c, lc_peer_t *p, lc_cdn_link_t *l, lc_cdn_msg_t *m)
{
    /* the role is what its hello said (and proved): a state may not change it */
    if (m->role != lc_cdn_link_role(l)) {
        lc_log_warn("cdn: node %s sent a state as %s after a hello as %s: closed", p->addr,
                    lc_cdn_role_name(m->role), lc_cdn_role_name(lc_cdn_link_role(l)));
        lc_cdn_link_fail(l, "the state names another role than the hello");
        return;
    }
    p->role = m->role;
    p->serial = m->serial;
    p->have_state = 1;
    free(p->streams);
    p->streams = m->streams; /* taken over */
    p->nstreams = m->role == LC_CDN_ROLE_ORIGIN ? m->nstreams : 0;
    m->streams = NULL;
    m->nstreams = 0;
    learn_nodes(c, p, m);
    connect_due(c, lc_cdn_now_ms());
    publish_view(c);
}

static void peer_message(lc_cdn_t *c, lc_peer_t *p, lc_cdn_link_t *l, lc_cdn_msg_t *m)
{
    if (check_version(l, m) < 0)
        return;
    heard(p);
    switch (m->type) {
    case LC_CDN_STATE:
        on_state(c, p, l, m);
        break;
    case LC_CDN_KEEPALIVE:
        if (!p->have_state || m->serial != p->serial) {
            lc_cdn_msg_t r = { .type = LC_CDN_RESYNC };
            lc_cdn_send(c, l, &r);
        }
        break;
    case LC_CDN_RESYNC:
        send_state(c, l);
        break;
    case LC_CDN_BYE:
        peer_close_links(p);
        peer_set_state(p, LC_CDN_NODE_PASSIVE, "it said bye");
        p->next_try = lc_cdn_now_ms() + backoff_max(c);
        publish_view(c);
        break;
    case LC_CDN_ERROR:
        lc_log_warn("cdn: node %s reports an error and closes the link: %s", p->addr, m->reason);
        break;
    default:
        lc_log_warn("cdn: node %s sent a %d message on a control link: closed", p->addr, m->type);
        lc_cdn_link_fail(l, "unexpected message on a control link");
        break;
    }
}

static int parse(lc_cdn_t *c, lc_cdn_link_t *l, const char *text, size_t len, lc_cdn_msg_t *m)
{
    char err[256];
    atomic_fetch_add_explicit(&c->table->msgs_in, 1, memory_order_relaxed);
    if (lc_cdn_msg_parse(text, len, m, err, sizeof(err)) == 0)
        return 0;
    lc_log_warn("cdn: bad message from %s: %s", lc_cdn_link_peer(l), err);
    lc_cdn_link_fail(l, err);
    return -1;
}

static void peer_closed(lc_cdn_link_t *l, void *ctx, const char *why);

/* This node closed a peer's link (lc_cdn_link_fail gives no callback):
 * the peer lets go of it as if it had closed by itself. */
static void peer_let_go(lc_cdn_link_t *l, lc_peer_t *p)
{
    if (!lc_cdn_link_is_open(l) && (p->out == l || p->in == l))
        peer_closed(l, p, "closed by this node");
}

static void peer_text(lc_cdn_link_t *l, void *ctx, const char *text, size_t len)
{
    lc_cdn_msg_t m;
    if (parse(the_cdn, l, text, len, &m) == 0) {
        peer_message(the_cdn, ctx, l, &m);
        lc_cdn_msg_free(&m);
    }
    peer_let_go(l, ctx);
}

static void no_binary(lc_cdn_link_t *l, void *ctx, const uint8_t *data, size_t len)
{
    (void)ctx;
    (void)data;
    (void)len;
    lc_log_warn("cdn: %s sent media on a control link: closed", lc_cdn_link_peer(l));
    lc_cdn_link_fail(l, "media on a control link");
}

static void peer_binary(lc_cdn_link_t *l, void *ctx, const uint8_t *data, size_t len)
{
    no_binary(l, ctx, data, len);
    peer_let_go(l, ctx);
}

static void peer_closed(lc_cdn_link_t *l, void *ctx, const char *why)
{
    lc_cdn_t *c = the_cdn;
    lc_peer_t *p = ctx;
    if (p->out == l)
        p->out = NULL;
    if (p->in == l)
        p->in = NULL;
    if (!p->heard_once) {
        /* an address from gossip that does not answer: a few tries, then forgotten (tick) */
        p->tries++;
        p->next_try = lc_cdn_now_ms() + p->backoff;
        if (p->tries >= GOSSIP_TRIES)
            gossip_log(c, "cdn: gossiped node %s forgotten: no answer in %d tries (%s)", p->addr, p->tries, why);
        return;
    }
    /* a PASSIVE node's failed redials are not news: one line when it went PASSIVE */
    if (p->state == LC_CDN_NODE_ACTIVE)
        lc_log_info("cdn: link to %s closed: %s", p->addr, why);
    if (!p->out && !p->in) {
        peer_set_state(p, LC_CDN_NODE_PASSIVE, why);
        p->next_try = lc_cdn_now_ms() + p->backoff;
        publish_view(c);
    }
}

/* Our link to a known node passed its hello: the node is heard. */
static void peer_open(lc_cdn_link_t *l, void *ctx)
{
    lc_peer_t *p = ctx;
    p->role = lc_cdn_link_role(l);
    heard(p);
    send_state(the_cdn, l);
    publish_view(the_cdn);
}

static const lc_cdn_link_ops_t peer_ops = { peer_open, peer_text, peer_binary, peer_closed };

/* A link passed its hello and is a control link: it belongs to the node
 * its hello named from now on. NULL if refused (closed). */
static lc_peer_t *adopt(lc_cdn_t *c, lc_cdn_link_t *l, int inbound)
{
    const char *node = lc_cdn_link_node(l);
    lc_peer_t *p = peer_find(c, node);
    if (!p && count_peers(c, 1) >= HEARD_MAX) {
        gossip_log(c, "cdn: node %s (%s) refused: this node already knows %d nodes", node, lc_cdn_link_peer(l),
                   HEARD_MAX);
        lc_cdn_link_fail(l, "too many nodes");
        return NULL;
    }
    if (!p && !(p = peer_add(c, node))) {
        lc_cdn_link_close(l);
        return NULL;
    }
    lc_cdn_link_t **slot = inbound ? &p->in : &p->out;
    if (*slot && *slot != l)
        lc_cdn_link_close(*slot); /* it reconnected: the old link is dead */
    *slot = l;
    lc_cdn_link_set_owner(l, &peer_ops, p);
    p->role = lc_cdn_link_role(l);
    heard(p);
    if (inbound)
        send_state(c, l);
    publish_view(c);
    return p;
}

/* Inbound link past its hello, first message: PULL makes it a media link,
 * anything else a control link (a node sends its state first). */
static void fresh_text(lc_cdn_link_t *l, void *ctx, const char *text, size_t len)
{
    lc_cdn_t *c = ctx;
    lc_cdn_msg_t m;
    if (parse(c, l, text, len, &m) < 0)
        return;
    if (m.type == LC_CDN_PULL) {
        if (check_version(l, &m) == 0)
            lc_cdn_serve_start(c, l, &m);
    } else if (check_version(l, &m) == 0) {
        lc_peer_t *p = adopt(c, l, 1);
        if (p) {
            peer_message(c, p, l, &m);
            peer_let_go(l, p);
        }
    }
    lc_cdn_msg_free(&m);
}

static void fresh_closed(lc_cdn_link_t *l, void *ctx, const char *why)
{
    (void)ctx;
    lc_log_info("cdn: connection from %s closed before hello: %s", lc_cdn_link_peer(l), why);
}

static const lc_cdn_link_ops_t fresh_ops = { NULL, fresh_text, no_binary, fresh_closed };

/* The seed (point_of_entry) link: its hello names the node. */
static void seed_open(lc_cdn_link_t *l, void *ctx)
{
    lc_cdn_t *c = ctx;
    c->seed_link = NULL;
    lc_peer_t *p = peer_find(c, lc_cdn_link_node(l));
    if (p && p->out && p->out != l) {
        lc_cdn_link_close(l); /* we already have a link to it */
        return;
    }
    if (adopt(c, l, 0))
        send_state(c, l);
}

static void seed_text(lc_cdn_link_t *l, void *ctx, const char *text, size_t len)
{
    (void)ctx;
    (void)text;
    (void)len;
    lc_cdn_link_fail(l, "unexpected message");
}

static void seed_closed(lc_cdn_link_t *l, void *ctx, const char *why)
{
    lc_cdn_t *c = ctx;
    (void)l;
    c->seed_link = NULL;
    c->seed_backoff = c->seed_backoff ? c->seed_backoff * 2 : BACKOFF_MIN_MS;
    if (c->seed_backoff > backoff_max(c))
        c->seed_backoff = backoff_max(c);
    c->seed_next_try = lc_cdn_now_ms() + c->seed_backoff;
    lc_log_info("cdn: point of entry %s not reachable (%s); retrying in %u ms, meanwhile waiting to be contacted",
                c->seed, why, c->seed_backoff);
}

static const lc_cdn_link_ops_t seed_ops = { seed_open, seed_text, no_binary, seed_closed };

void lc_cdn_accept(lc_cdn_t *c, int fd, const struct sockaddr *sa)
{
    char peer[LC_CDN_ADDR_MAX];
    lc_net_addr_str(sa, peer, sizeof(peer));
    const lc_conf_list_t *allow = &c->cycle->conf->cdn_allow;
    int ok = allow->n == 0;
    for (size_t i = 0; !ok && i < allow->n; i++)
        ok = lc_net_cidr_match(allow->v[i], sa) == 1;
    if (!ok || c->stopping) {
        if (!ok)
            lc_log_warn("cdn: connection from %s refused: not in cdn.allow", peer);
        evutil_closesocket(fd);
        return;
    }
    if (!lc_cdn_link_accept(c->base, fd, peer, LC_CDN_MSG_MAX + lc_ring_max_frame(lc_shm_ring(c->cycle->shm, 0)),
                            &fresh_ops, c))
        evutil_closesocket(fd);
}

/* ---- the clock ---- */

/* Open the links that are due: to known nodes we have no link to, and to
 * the point of entry while no node at its address answers. Called on the
 * clock and at once when a node is learned, so a join takes a round trip. */
static void connect_due(lc_cdn_t *c, uint64_t now)
{
    /* nodes heard before go first; all dials share one rate (DIAL_RATE) */
    for (int heard = 1; heard >= 0; heard--) {
        for (lc_peer_t *p = c->peers; p; p = p->next) {
            if (p->heard_once != heard || p->out || p->in || now < p->next_try ||
                (!heard && p->tries >= GOSSIP_TRIES))
                continue;
            if (!take_token(&c->dial_tokens, &c->dial_at, DIAL_RATE, DIAL_BURST, now))
                break;
            p->out = lc_cdn_link_connect(c->base, p->addr, CTL_MAX_MESSAGE, &peer_ops, p);
            p->backoff = p->backoff * 2 > backoff_max(c) ? backoff_max(c) : p->backoff * 2;
            p->next_try = now + p->backoff;
        }
    }
    if (c->seed[0] && !c->seed_link && now >= c->seed_next_try) {
        lc_peer_t *p = peer_find(c, c->seed);
        /* a node we know is reconnected as a peer: a second link to it would
         * replace the first on its side and drop it on ours */
        if (!p || (p->state != LC_CDN_NODE_ACTIVE && !p->out && !p->in))
            c->seed_link = lc_cdn_link_connect(c->base, c->seed, CTL_MAX_MESSAGE, &seed_ops, c);
        c->seed_next_try = now + BACKOFF_MIN_MS;
    }
}

static void tick(evutil_socket_t fd, short what, void *arg)
{
    lc_cdn_t *c = arg;
    uint64_t now = lc_cdn_now_ms();
    const lc_conf_t *conf = c->cycle->conf;
    uint64_t interval = (uint64_t)conf->cdn_keepalive_interval * 1000;
    int changed = 0;
    (void)fd;
    (void)what;

    if (c->draining) {
        lc_cdn_pull_check(c);
        lc_cdn_serve_pump(c);
        return;
    }
    /* a relay that was not scheduled for a while (stopped, swapped out)
     * heard nothing in that time: that is its silence, not its peers' */
    if (c->last_tick && now - c->last_tick > interval)
        for (lc_peer_t *p = c->peers; p; p = p->next)
            if (p->last_heard < now - interval)
                p->last_heard = now - interval;
    c->last_tick = now;
    for (lc_peer_t **pp = &c->peers, *p; (p = *pp);) {
        if (!p->heard_once && p->tries >= GOSSIP_TRIES && !p->out && !p->in) {
            *pp = p->next; /* gossiped, never answered: forgotten (peer_closed logged it) */
            peer_free(p);
            continue;
        }
        if (p->state == LC_CDN_NODE_ACTIVE && now - p->last_heard > SILENT_INTERVALS * interval) {
            peer_close_links(p);
            peer_set_state(p, LC_CDN_NODE_PASSIVE, "silent for three keepalive intervals");
            p->next_try = now;
            changed = 1;
        }
        if (p->state == LC_CDN_NODE_PASSIVE && conf->cdn_node_remove_timeout > 0 &&
            now - p->since_ms >= (uint64_t)conf->cdn_node_remove_timeout * 1000) {
            lc_log_info("cdn: node %s removed: PASSIVE for %lld s", p->addr, (long long)conf->cdn_node_remove_timeout);
            *pp = p->next;
            peer_free(p);
            changed = 1;
            continue;
        }
        pp = &p->next;
    }
    connect_due(c, now);

    /* our own state: local streams come and go without telling us */
    size_t n;
    lc_cdn_stream_ref_t *own = own_streams(c, &n);
    uint64_t h = state_hash(c, own, n);
    free(own);
    if (h != c->state_hash) {
        c->state_hash = h;
        c->serial++;
        for (lc_peer_t *p = c->peers; p; p = p->next)
            send_state(c, peer_link(p));
    } else if (now - c->last_keepalive >= interval) {
        /* from when it was due, not when the tick came: the interval holds */
        c->last_keepalive = now - c->last_keepalive < 2 * interval ? c->last_keepalive + interval : now;
        for (lc_peer_t *p = c->peers; p; p = p->next) {
            lc_cdn_msg_t m = { .type = LC_CDN_KEEPALIVE, .serial = c->serial };
            lc_cdn_send(c, peer_link(p), &m);
        }
    }
    if (changed)
        publish_view(c);
    if (c->log_dropped && take_token(&c->log_tokens, &c->log_at, LOG_RATE, LOG_BURST, now)) {
        lc_log_info("cdn: %u more lines about gossiped nodes were not logged (at most %.0f a second)",
                    c->log_dropped, LOG_RATE);
        c->log_dropped = 0;
    }
    lc_cdn_pull_check(c);
    lc_cdn_serve_pump(c);
}

/* ---- start and stop ---- */

/* cdn.ip, or the first non-loopback IPv4 address, or 127.0.0.1. */
static void own_ip(const lc_conf_t *conf, char *out, size_t len)
{
    if (conf->cdn_ip[0])
        snprintf(out, len, "%s", conf->cdn_ip);
    else
        lc_net_first_ipv4(out, len);
}

/* "host" or "host:port" into "ip:port"; names resolved when nodes_resolve_ip. */
static int seed_addr(const lc_conf_t *conf, char *out, size_t len)
{
    char host[LC_CDN_ADDR_MAX], port[16];
    const char *e = conf->cdn_point_of_entry;
    const char *colon = strrchr(e, ':');
    int bracket = e[0] == '[';
    snprintf(port, sizeof(port), "%lld", (long long)conf->cdn_port);
    if (colon && (!bracket || colon[-1] == ']') && (bracket || strchr(e, ':') == colon)) {
        snprintf(host, sizeof(host), "%.*s", (int)(colon - e), e);
        snprintf(port, sizeof(port), "%s", colon + 1);
    } else {
        snprintf(host, sizeof(host), "%s", e);
    }
    if (bracket) {
        memmove(host, host + 1, strlen(host));
        host[strcspn(host, "]")] = '\0';
    }
    struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *res;
    hints.ai_flags = conf->cdn_nodes_resolve_ip ? 0 : AI_NUMERICHOST;
    if (getaddrinfo(host, port, &hints, &res) != 0)
        return -1;
    lc_net_addr_str(res->ai_addr, out, len);
    freeaddrinfo(res);
    return 0;
}

lc_cdn_t *lc_cdn_start(lc_cycle_t *cycle, struct event_base *base)
{
    const lc_conf_t *conf = cycle->conf;
    lc_cdn_t *c = calloc(1, sizeof(*c));
    if (!c)
        return NULL;
    char ip[LC_CDN_ADDR_MAX];
    c->cycle = cycle;
    c->base = base;
    c->table = lc_shm_cdn(cycle->shm);
    c->role = strcmp(conf->cdn_role, "origin") == 0 ? LC_CDN_ROLE_ORIGIN : LC_CDN_ROLE_EDGE;
    own_ip(conf, ip, sizeof(ip));
    snprintf(c->self, sizeof(c->self), strchr(ip, ':') ? "[%s]:%lld" : "%s:%lld", ip, (long long)conf->cdn_port);
    /* in the one spelling other nodes check names against (cdn_addr.h) */
    lc_net_addr_t a;
    const char *why;
    if (lc_net_parse_addr(c->self, &a, &why) == 0)
        lc_net_addr_str((const struct sockaddr *)&a.ss, c->self, sizeof(c->self));
    snprintf(c->id.node, sizeof(c->id.node), "%s", c->self);
    c->id.role = c->role;
    snprintf(c->id.secret, sizeof(c->id.secret), "%s", conf->cdn_secret);
    c->cap = lc_ring_max_frame(lc_shm_ring(cycle->shm, 0));
    c->buf = malloc(c->cap > LC_RING_CONFIG_MAX ? c->cap : LC_RING_CONFIG_MAX);
    c->tick = event_new(base, -1, EV_PERSIST, tick, c);
    struct timeval tv = { 0, TICK_MS * 1000 };
    if (!c->buf || !c->tick || event_add(c->tick, &tv) < 0) {
        free(c->buf);
        if (c->tick)
            event_free(c->tick);
        free(c);
        return NULL;
    }
    if (conf->cdn_point_of_entry[0] && seed_addr(conf, c->seed, sizeof(c->seed)) < 0)
        lc_log_error("cdn: cdn.point_of_entry \"%s\" does not resolve; waiting to be contacted",
                     conf->cdn_point_of_entry);
    if (strcmp(c->seed, c->self) == 0)
        c->seed[0] = '\0'; /* the entry point itself */
    if (c->seed[0] && !lc_cdn_addr_allowed(&conf->cdn_allow, c->seed)) {
        lc_log_error("cdn: cdn.point_of_entry %s is not in cdn.allow: not contacted; waiting to be contacted",
                     c->seed);
        c->seed[0] = '\0';
    }
    if (!conf->cdn_secret[0])
        lc_log_warn("cdn: cdn.secret is empty: links between nodes are not authenticated, any host that "
                    "reaches cdn.port%s can join this CDN, read its streams and claim routes",
                    conf->cdn_allow.n ? " from an address in cdn.allow" : "");
    lc_cdn_table_t *t = c->table;
    lc_shm_lock(cycle->shm);
    t->enabled = 1;
    t->role = c->role;
    snprintf(t->self, sizeof(t->self), "%s", c->self);
    t->nnodes = t->nroutes = 0;
    lc_shm_unlock(cycle->shm);
    c->pull_requests_seen = atomic_load(&t->pull_requests);
    the_cdn = c;
    lc_cdn_link_set_self(&c->id, link_check, c);
    connect_due(c, lc_cdn_now_ms());
    lc_log_info("cdn: node %s (%s) starts%s%s", c->self, lc_cdn_role_name(c->role),
                c->seed[0] ? ", point of entry " : ", waiting to be contacted", c->seed);
    return c;
}

static void drop_peers(lc_cdn_t *c)
{
    while (c->peers) {
        lc_peer_t *p = c->peers;
        c->peers = p->next;
        peer_free(p);
    }
    if (c->seed_link)
        lc_cdn_link_close(c->seed_link);
    c->seed_link = NULL;
}

void lc_cdn_drain(lc_cdn_t *c)
{
    c->draining = 1;
    c->stopping = 1;
    drop_peers(c);
    lc_log_info("cdn: the new generation's relay takes over this node's membership; %s",
                lc_cdn_busy(c) ? "pulls and serves run on until they end" : "nothing left to run");
}

int lc_cdn_busy(const lc_cdn_t *c)
{
    return c->pulls != NULL || c->serves != NULL;
}

void lc_cdn_disable(lc_shm_t *shm)
{
    lc_cdn_table_t *t = lc_shm_cdn(shm);
    lc_shm_lock(shm);
    t->enabled = 0;
    t->nnodes = t->nroutes = 0;
    lc_shm_unlock(shm);
}

void lc_cdn_stop(lc_cdn_t *c)
{
    c->stopping = 1;
    for (lc_peer_t *p = c->peers; p; p = p->next) {
        lc_cdn_msg_t m = { .type = LC_CDN_BYE };
        lc_cdn_send(c, peer_link(p), &m);
    }
    lc_cdn_pull_stop_all(c);
    lc_cdn_serve_stop_all(c);
    drop_peers(c);
    if (!c->draining)
        lc_cdn_disable(c->cycle->shm);
    event_free(c->tick);
    free(c->buf);
    free(c->routes);
    lc_cdn_link_set_self(NULL, NULL, NULL);
    OPENSSL_cleanse(c->id.secret, sizeof(c->id.secret));
    free(c);
    the_cdn = NULL;
}
