/*
 * cdn_link.c: see cdn_link.h. RFC 6455 over a bufferevent: the client
 * sends `GET /cdn` with a random key and checks the accept hash; the server
 * answers 101 only to that path. Frames from the client are masked, as the
 * RFC demands; media flows mostly server (origin) to client (edge), so the
 * bulk of the bytes needs no masking.
 *
 * After the upgrade every link goes through the hello exchange of
 * cdn_hello.h (which proves cdn.secret when it is set) before its owner
 * hears of it: until then nothing but hellos is sent, and nothing the peer
 * sends reaches the owner. The owner's on_open marks the end of it.
 */
#include "relay/cdn_link.h"

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/cdn/cdn_hello.h"
#include "common/core/log.h"
#include "common/core/net.h"
#include "common/http/http_parse.h"
#include "common/http/ws_frame.h"

#define MAX_HEAD 8192
#define HANDSHAKE_TIMEOUT_S 10
#define WRITE_TIMEOUT_S 30   /* a peer that takes nothing for this long is gone */
#define CLOSE_FLUSH_S 2
#define PATH "/cdn"
#define MEDIA_BACKLOG (4u << 20)  /* what cdn_serve.c queues at most before it waits, plus a frame */

enum { L_CONNECTING, L_HANDSHAKE, L_HELLO, L_OPEN, L_CLOSING };

struct lc_cdn_link {
    struct event_base *base;
    struct bufferevent *bev;
    const lc_cdn_link_ops_t *ops;
    void *ctx;
    uint64_t id;
    char peer[64];
    int client;
    int state;
    size_t max_message;
    char accept[29];            /* client: the Sec-WebSocket-Accept we expect */
    lc_ws_assembly_t asm_;
    struct evbuffer *message;
    lc_cdn_hello_t hello;
    struct event *deadline;     /* limits.handshake_timeout, absolute: see on_deadline */
};

static uint64_t next_id;
static long long handshake_s = 10;
static size_t output_buffer = 4u << 20;
/* one CDN node per relay process */
static const lc_cdn_self_t *link_self;
static lc_cdn_link_check_fn link_check;
static void *link_check_arg;

void lc_cdn_link_set_limits(long long hs, size_t out)
{
    handshake_s = hs;
    output_buffer = out;
}

void lc_cdn_link_set_self(const lc_cdn_self_t *self, lc_cdn_link_check_fn check, void *arg)
{
    link_self = self;
    link_check = check;
    link_check_arg = arg;
}

static void link_free(lc_cdn_link_t *l)
{
    if (l->deadline)
        event_free(l->deadline);
    if (l->bev)
        bufferevent_free(l->bev);
    evbuffer_free(l->message);
    free(l);
}

static void free_later(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    link_free(arg);
}

static void on_flushed(struct bufferevent *bev, void *arg)
{
    if (evbuffer_get_length(bufferevent_get_output(bev)) == 0)
        link_free(arg);
}

static void on_flush_event(struct bufferevent *bev, short what, void *arg)
{
    (void)bev;
    (void)what;
    link_free(arg);
}

void lc_cdn_link_close(lc_cdn_link_t *l)
{
    if (l->state == L_CLOSING)
        return;
    l->state = L_CLOSING;
    event_del(l->deadline);
    bufferevent_disable(l->bev, EV_READ);
    bufferevent_setcb(l->bev, NULL, on_flushed, on_flush_event, l);
    struct timeval tv = { CLOSE_FLUSH_S, 0 };
    bufferevent_set_timeouts(l->bev, NULL, &tv);
    if (evbuffer_get_length(bufferevent_get_output(l->bev)) == 0) {
        /* never free under the caller, which may be our own read callback */
        struct timeval now = { 0, 0 };
        if (event_base_once(l->base, -1, EV_TIMEOUT, free_later, l, &now) < 0)
            lc_log_error("cdn link %llu: cannot schedule its release", (unsigned long long)l->id);
    } else {
        bufferevent_enable(l->bev, EV_WRITE);
    }
}

/* The link ends by itself: tell the owner, then go. */
static void die(lc_cdn_link_t *l, const char *why)
{
    const lc_cdn_link_ops_t *ops = l->ops;
    void *ctx = l->ctx;
    lc_cdn_link_close(l);
    ops->on_close(l, ctx, why);
}

static void ws_send(lc_cdn_link_t *l, int opcode, const void *a, size_t alen, const void *b, size_t blen)
{
    struct evbuffer *out = bufferevent_get_output(l->bev);
    uint8_t hdr[LC_WS_MAX_HEADER], mask[4];
    size_t len = alen + blen;

    if (!l->client) {
        evbuffer_add(out, hdr, lc_ws_write_header(hdr, 1, opcode, len, NULL));
        evbuffer_add(out, a, alen);
        if (blen)
            evbuffer_add(out, b, blen);
        return;
    }
    if (RAND_bytes(mask, sizeof(mask)) != 1)
        memset(mask, 0x5a, sizeof(mask)); /* masking defeats proxies' caches, not attackers */
    evbuffer_add(out, hdr, lc_ws_write_header(hdr, 1, opcode, len, mask));
    struct evbuffer_iovec v;
    if (len == 0 || evbuffer_reserve_space(out, (ev_ssize_t)len, &v, 1) < 1)
        return;
    uint8_t *p = v.iov_base;
    memcpy(p, a, alen);
    if (blen)
        memcpy(p + alen, b, blen);
    lc_ws_unmask(p, len, mask, 0);
    v.iov_len = len;
    evbuffer_commit_space(out, &v, 1);
}

static int send_text(lc_cdn_link_t *l, const lc_cdn_msg_t *m)
{
    size_t len;
    char *text = lc_cdn_msg_build(m, &len);
    if (!text)
        return -1;
    ws_send(l, LC_WS_TEXT, text, len, NULL, 0);
    free(text);
    return 0;
}

int lc_cdn_link_send_msg(lc_cdn_link_t *l, const lc_cdn_msg_t *m)
{
    return l->state == L_OPEN ? send_text(l, m) : -1;
}

int lc_cdn_link_send_frame(lc_cdn_link_t *l, const lc_frame_t *f, const void *payload)
{
    uint8_t hdr[LC_CDN_FRAME_HEADER];
    if (l->state != L_OPEN)
        return -1;
    lc_cdn_frame_header(hdr, f);
    ws_send(l, LC_WS_BINARY, hdr, sizeof(hdr), payload, f->len);
    return 0;
}

void lc_cdn_link_fail(lc_cdn_link_t *l, const char *reason)
{
    lc_cdn_msg_t m = { .type = LC_CDN_ERROR, .version = LC_CDN_PROTO_VERSION };
    snprintf(m.reason, sizeof(m.reason), "%s", reason);
    if (l->state == L_OPEN || l->state == L_HELLO)
        send_text(l, &m);
    lc_cdn_link_close(l);
}

/* ---- hello (cdn_hello.h) ---- */

static void ready(lc_cdn_link_t *l)
{
    l->state = L_OPEN;
    event_del(l->deadline); /* the hello is proved: what follows is the owner's to time */
    struct timeval wt = { WRITE_TIMEOUT_S, 0 };
    bufferevent_set_timeouts(l->bev, NULL, &wt);
    if (l->ops->on_open)
        l->ops->on_open(l, l->ctx);
}

static void hello_begin(lc_cdn_link_t *l)
{
    uint8_t nonce[LC_CDN_NONCE_LEN];
    lc_cdn_msg_t out;
    l->state = L_HELLO;
    if (!link_self || RAND_bytes(nonce, sizeof(nonce)) != 1) {
        die(l, link_self ? "no randomness for the hello nonce" : "this node has no CDN identity");
        return;
    }
    if (lc_cdn_hello_begin(&l->hello, link_self, l->client, nonce, &out) == 1)
        send_text(l, &out);
}

static void hello_refuse(lc_cdn_link_t *l, const char *node, const char *why)
{
    lc_log_warn("cdn: %s%s%s(%s) refused: %s", node[0] ? "node \"" : "", node, node[0] ? "\" " : "", l->peer,
                why);
    lc_cdn_link_fail(l, why);
    /* refused by the link itself: the owner hears of it as of any end */
    l->ops->on_close(l, l->ctx, why);
}

static void hello_text(lc_cdn_link_t *l, const char *text, size_t len)
{
    lc_cdn_msg_t in, out;
    char why[LC_CDN_REASON_MAX];
    int send, introduced;
    if (lc_cdn_msg_parse(text, len, &in, why, sizeof(why)) < 0) {
        lc_log_warn("cdn: bad message from %s: %s", l->peer, why);
        lc_cdn_link_fail(l, why);
        l->ops->on_close(l, l->ctx, why);
        return;
    }
    int rc = lc_cdn_hello_recv(&l->hello, &in, &out, &send, &introduced, why, sizeof(why));
    const char *node = in.type == LC_CDN_HELLO ? in.node : "";
    lc_cdn_msg_free(&in);
    if (rc == LC_CDN_HELLO_REFUSED) {
        hello_refuse(l, node, why);
        return;
    }
    /* the node judges the name (address, cdn.allow) before we answer */
    const char *bad = NULL;
    if (introduced && link_check &&
        link_check(link_check_arg, l, !l->client, l->hello.peer_node, l->hello.peer_role, &bad) < 0) {
        hello_refuse(l, l->hello.peer_node, bad ? bad : "refused");
        return;
    }
    if (send)
        send_text(l, &out);
    if (rc == LC_CDN_HELLO_DONE)
        ready(l);
}

/* ---- handshake ---- */

static void http_refuse(lc_cdn_link_t *l, const char *status, const char *why)
{
    lc_log_info("[cdn:%llu %s] refused: %s", (unsigned long long)l->id, l->peer, why);
    evbuffer_add_printf(bufferevent_get_output(l->bev),
                        "HTTP/1.1 %s\r\nContent-Type: text/plain\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n%s\n",
                        status, strlen(why) + 1, why);
    die(l, why);
}

/* Server: 1 upgraded, 0 need more, -1 gone. */
static int server_handshake(lc_cdn_link_t *l)
{
    struct evbuffer *in = bufferevent_get_input(l->bev);
    size_t avail = evbuffer_get_length(in), look = avail < MAX_HEAD ? avail : MAX_HEAD;
    const char *buf = (const char *)evbuffer_pullup(in, (ev_ssize_t)look);
    lc_http_request_t req;
    const char *err;
    char accept[29];

    int rc = lc_http_parse_request(buf, look, MAX_HEAD, &req, &err);
    if (rc == 0)
        return 0;
    if (rc < 0) {
        http_refuse(l, "400 Bad Request", err);
        return -1;
    }
    const lc_http_header_t *up = lc_http_find_header(&req, "Upgrade");
    const lc_http_header_t *key = lc_http_find_header(&req, "Sec-WebSocket-Key");
    if (req.target_len != strlen(PATH) || memcmp(req.target, PATH, req.target_len) != 0) {
        http_refuse(l, "404 Not Found", "this port speaks the livecdn CDN protocol on " PATH " only");
        return -1;
    }
    if (!up || !lc_http_header_has_token(up, "websocket") || !key ||
        lc_ws_accept_key(key->value, key->value_len, accept) < 0) {
        http_refuse(l, "400 Bad Request", "not a WebSocket upgrade");
        return -1;
    }
    evbuffer_drain(in, req.head_len);
    evbuffer_add_printf(bufferevent_get_output(l->bev),
                        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                        "Sec-WebSocket-Accept: %s\r\n\r\n", accept);
    return 1;
}

/* Client: 1 upgraded, 0 need more, -1 gone. */
static int client_handshake(lc_cdn_link_t *l)
{
    struct evbuffer *in = bufferevent_get_input(l->bev);
    struct evbuffer_ptr end = evbuffer_search(in, "\r\n\r\n", 4, NULL);
    if (end.pos < 0) {
        if (evbuffer_get_length(in) > MAX_HEAD) {
            die(l, "the peer's answer to the upgrade is too long");
            return -1;
        }
        return 0;
    }
    size_t n = (size_t)end.pos + 4;
    char *head = malloc(n + 1);
    if (!head) {
        die(l, "out of memory");
        return -1;
    }
    evbuffer_remove(in, head, n);
    head[n] = '\0';
    int ok = strncmp(head, "HTTP/1.1 101", 12) == 0 && strcasestr(head, l->accept) != NULL;
    if (!ok) {
        char line[128];
        snprintf(line, sizeof(line), "the peer refused the upgrade: %.*s", (int)strcspn(head, "\r\n"), head);
        free(head);
        die(l, line);
        return -1;
    }
    free(head);
    return 1;
}

/* ---- frames ---- */

/* One whole frame, if it has arrived: 1 consumed, 0 need more, -1 gone. */
static int read_frame(lc_cdn_link_t *l)
{
    struct evbuffer *in = bufferevent_get_input(l->bev);
    size_t avail = evbuffer_get_length(in);
    const uint8_t *p = evbuffer_pullup(in, (ev_ssize_t)(avail < LC_WS_MAX_HEADER ? avail : LC_WS_MAX_HEADER));
    lc_ws_frame_t f;
    const char *err;
    int code;

    size_t max = l->state == L_HELLO ? LC_CDN_HELLO_MAX : l->max_message;
    int hl = lc_ws_parse_header(p, avail < LC_WS_MAX_HEADER ? avail : LC_WS_MAX_HEADER, max, !l->client, &f, &err,
                                &code);
    if (hl == 0)
        return 0;
    if (hl < 0) {
        die(l, err);
        return -1;
    }
    if (avail < (size_t)hl + f.payload_len)
        return 0;
    evbuffer_drain(in, (size_t)hl);
    size_t len = (size_t)f.payload_len;

    if (f.opcode >= LC_WS_CLOSE) {
        uint8_t ctl[LC_WS_MAX_CONTROL_PAYLOAD];
        evbuffer_remove(in, ctl, len);
        lc_ws_unmask(ctl, len, f.mask, 0);
        if (f.opcode == LC_WS_PING)
            ws_send(l, LC_WS_PONG, ctl, len, NULL, 0);
        if (f.opcode == LC_WS_CLOSE) {
            ws_send(l, LC_WS_CLOSE, ctl, len >= 2 ? 2 : 0, NULL, 0);
            die(l, "the peer closed the link");
            return -1;
        }
        return 1;
    }
    if (lc_ws_assembly_feed(&l->asm_, &f, max, &err, &code) < 0) {
        die(l, err);
        return -1;
    }
    size_t at = evbuffer_get_length(l->message);
    evbuffer_remove_buffer(in, l->message, len);
    if (f.masked) {
        uint8_t *m = evbuffer_pullup(l->message, -1);
        lc_ws_unmask(m + at, len, f.mask, 0);
    }
    if (l->asm_.in_message)
        return 1;
    size_t total = evbuffer_get_length(l->message);
    uint8_t *msg = evbuffer_pullup(l->message, -1);
    if (l->state == L_HELLO && l->asm_.opcode == LC_WS_TEXT)
        hello_text(l, (const char *)msg, total);
    else if (l->state == L_HELLO)
        die(l, "media before the hello exchange");
    else if (l->asm_.opcode == LC_WS_TEXT)
        l->ops->on_text(l, l->ctx, (const char *)msg, total);
    else
        l->ops->on_binary(l, l->ctx, msg, total);
    /* the callback may have closed us: then the buffer goes with the link */
    evbuffer_drain(l->message, total);
    return l->state == L_OPEN || l->state == L_HELLO ? 1 : -1;
}

static void on_read(struct bufferevent *bev, void *arg)
{
    lc_cdn_link_t *l = arg;
    (void)bev;
    if (l->state == L_HANDSHAKE) {
        int rc = l->client ? client_handshake(l) : server_handshake(l);
        if (rc <= 0)
            return;
        hello_begin(l);
    }
    while ((l->state == L_HELLO || l->state == L_OPEN) && read_frame(l) > 0)
        ;
    /* a peer that sends pings and never reads the pongs stops here */
    size_t queued = l->state == L_OPEN ? lc_cdn_link_backlog(l) : 0;
    if (queued > output_buffer + MEDIA_BACKLOG + l->max_message) {
        char why[128];
        snprintf(why, sizeof(why), "the peer does not read: %zu bytes queued (limits.output_buffer)", queued);
        lc_log_warn("[cdn:%llu %s] closed: %s", (unsigned long long)l->id, l->peer, why);
        die(l, why);
    }
}

/* Absolute, unlike the idle timeouts each byte resets: a link that one
 * byte a second keeps busy still ends at limits.handshake_timeout. */
static void on_deadline(evutil_socket_t fd, short what, void *arg)
{
    lc_cdn_link_t *l = arg;
    (void)fd;
    (void)what;
    lc_log_info("[cdn:%llu %s] closed: %s not done within limits.handshake_timeout (%llds)", (unsigned long long)l->id,
                l->peer, l->state == L_HELLO ? "hello exchange" : "upgrade", handshake_s);
    die(l, "handshake timed out (limits.handshake_timeout)");
}

static void on_event(struct bufferevent *bev, short what, void *arg)
{
    lc_cdn_link_t *l = arg;
    (void)bev;
    if (what & BEV_EVENT_CONNECTED) {
        unsigned char raw[16];
        char key[25];
        if (RAND_bytes(raw, sizeof(raw)) != 1) {
            die(l, "no randomness for the WebSocket key");
            return;
        }
        EVP_EncodeBlock((unsigned char *)key, raw, sizeof(raw));
        lc_ws_accept_key(key, 24, l->accept);
        evbuffer_add_printf(bufferevent_get_output(l->bev),
                            "GET " PATH " HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                            "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n\r\n", l->peer, key);
        l->state = L_HANDSHAKE;
        return;
    }
    if (what & BEV_EVENT_TIMEOUT)
        die(l, l->state == L_OPEN    ? "write timed out"
               : l->state == L_HELLO ? "hello timed out"
                                     : "handshake timed out");
    else if (what & BEV_EVENT_ERROR)
        die(l, evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()));
    else
        die(l, "connection closed");
}

static lc_cdn_link_t *link_new(struct event_base *base, int fd, size_t max_message, const lc_cdn_link_ops_t *ops,
                               void *ctx)
{
    lc_cdn_link_t *l = calloc(1, sizeof(*l));
    if (!l)
        return NULL;
    l->base = base;
    l->ops = ops;
    l->ctx = ctx;
    l->id = ++next_id;
    l->max_message = max_message;
    l->message = evbuffer_new();
    l->bev = bufferevent_socket_new(base, fd, BEV_OPT_CLOSE_ON_FREE);
    l->deadline = evtimer_new(base, on_deadline, l);
    struct timeval hs = { (time_t)handshake_s, 0 };
    if (!l->message || !l->bev || !l->deadline || evtimer_add(l->deadline, &hs) < 0) {
        link_free(l);
        return NULL;
    }
    bufferevent_setcb(l->bev, on_read, NULL, on_event, l);
    struct timeval tv = { HANDSHAKE_TIMEOUT_S, 0 };
    bufferevent_set_timeouts(l->bev, &tv, &tv);
    bufferevent_enable(l->bev, EV_READ | EV_WRITE);
    return l;
}

lc_cdn_link_t *lc_cdn_link_connect(struct event_base *base, const char *addr, size_t max_message,
                                   const lc_cdn_link_ops_t *ops, void *ctx)
{
    lc_net_addr_t a;
    const char *why;
    if (lc_net_parse_addr(addr, &a, &why) < 0)
        return NULL;
    lc_cdn_link_t *l = link_new(base, -1, max_message, ops, ctx);
    if (!l)
        return NULL;
    l->client = 1;
    l->state = L_CONNECTING;
    snprintf(l->peer, sizeof(l->peer), "%s", addr);
    if (bufferevent_socket_connect(l->bev, (struct sockaddr *)&a.ss, (int)a.len) < 0) {
        link_free(l);
        return NULL;
    }
    return l;
}

lc_cdn_link_t *lc_cdn_link_accept(struct event_base *base, int fd, const char *peer, size_t max_message,
                                  const lc_cdn_link_ops_t *ops, void *ctx)
{
    lc_cdn_link_t *l = link_new(base, fd, max_message, ops, ctx);
    if (!l)
        return NULL;
    l->state = L_HANDSHAKE;
    snprintf(l->peer, sizeof(l->peer), "%s", peer);
    return l;
}

void lc_cdn_link_set_owner(lc_cdn_link_t *l, const lc_cdn_link_ops_t *ops, void *ctx)
{
    l->ops = ops;
    l->ctx = ctx;
}

size_t lc_cdn_link_backlog(const lc_cdn_link_t *l)
{
    return evbuffer_get_length(bufferevent_get_output(l->bev));
}

int lc_cdn_link_is_open(const lc_cdn_link_t *l) { return l->state == L_OPEN; }
const char *lc_cdn_link_node(const lc_cdn_link_t *l) { return l->state == L_OPEN ? l->hello.peer_node : ""; }
int lc_cdn_link_role(const lc_cdn_link_t *l) { return l->state == L_OPEN ? l->hello.peer_role : 0; }
const char *lc_cdn_link_peer(const lc_cdn_link_t *l) { return l->peer; }
uint64_t lc_cdn_link_id(const lc_cdn_link_t *l) { return l->id; }
