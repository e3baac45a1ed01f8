/*
 * cdn_link.h: one WebSocket connection between two CDN nodes on cdn.port,
 * as client (we connected) or server (they did). Carries the JSON control
 * messages and the binary media frames of man/livecdn-cdn.7; knows nothing
 * of what they mean, except the hello exchange every link begins with
 * (cdn_hello.h: names, and the proof of cdn.secret), which it runs itself
 * so that no owner can skip it: an owner hears of a link's messages only
 * once the peer proved itself, and can send only then.
 *
 * Ownership: the link frees itself. ops->on_close is called once when the
 * link dies on its own (peer closed, error, timeout, protocol error) and the
 * link is gone when it returns. lc_cdn_link_close() is the owner's way out:
 * no callback follows, the bytes queued are flushed (bounded), then freed.
 */
#ifndef LC_CDN_LINK_H
#define LC_CDN_LINK_H

#include <event2/event.h>
#include <stddef.h>
#include <stdint.h>

#include "common/cdn/cdn_hello.h"
#include "common/cdn/cdn_msg.h"

typedef struct lc_cdn_link lc_cdn_link_t;

typedef struct {
    void (*on_open)(lc_cdn_link_t *l, void *ctx); /* the hello exchange is done, the peer proven; may be NULL */
    void (*on_text)(lc_cdn_link_t *l, void *ctx, const char *text, size_t len);
    void (*on_binary)(lc_cdn_link_t *l, void *ctx, const uint8_t *data, size_t len);
    void (*on_close)(lc_cdn_link_t *l, void *ctx, const char *why);
} lc_cdn_link_ops_t;

/* Judges the name a peer gave in its hello, on every link before this side
 * answers it: 0 goes on, -1 refused (why says why; the link sends it as
 * error, logs it and closes). inbound: the peer connected to us. */
typedef int (*lc_cdn_link_check_fn)(void *arg, lc_cdn_link_t *l, int inbound, const char *node, int role,
                                    const char **why);

/* This node's name, role and secret for every link's hello, and the check
 * of every peer's name; set once when the CDN starts, before the first
 * link, and kept alive while links are. */
void lc_cdn_link_set_self(const lc_cdn_self_t *self, lc_cdn_link_check_fn check, void *arg);

/* Connect to "ip:port" (numeric). NULL only on a local error; a refused
 * connection arrives later as on_close. */
lc_cdn_link_t *lc_cdn_link_connect(struct event_base *base, const char *addr, size_t max_message,
                                   const lc_cdn_link_ops_t *ops, void *ctx);
/* Serve an accepted connection (the HTTP upgrade first). */
lc_cdn_link_t *lc_cdn_link_accept(struct event_base *base, int fd, const char *peer, size_t max_message,
                                  const lc_cdn_link_ops_t *ops, void *ctx);
void lc_cdn_link_set_owner(lc_cdn_link_t *l, const lc_cdn_link_ops_t *ops, void *ctx);

int lc_cdn_link_send_msg(lc_cdn_link_t *l, const lc_cdn_msg_t *m);
int lc_cdn_link_send_frame(lc_cdn_link_t *l, const lc_frame_t *f, const void *payload);
/* Send ERROR with reason, then close. */
void lc_cdn_link_fail(lc_cdn_link_t *l, const char *reason);
void lc_cdn_link_close(lc_cdn_link_t *l);

size_t lc_cdn_link_backlog(const lc_cdn_link_t *l); /* bytes queued, not yet sent */
/* limits.handshake_timeout (s) and limits.output_buffer (bytes) for the
 * links made from now on: a link must be upgraded and (inbound) have its
 * first message within the first, absolute; one whose peer does not read
 * is closed when its backlog passes the second on top of what media may
 * queue (a serve's 4 MiB and one message). */
void lc_cdn_link_set_limits(long long handshake_s, size_t output_buffer);
int lc_cdn_link_is_open(const lc_cdn_link_t *l);    /* hello done and not closing */
const char *lc_cdn_link_node(const lc_cdn_link_t *l); /* the open link's peer as its hello named it */
int lc_cdn_link_role(const lc_cdn_link_t *l);         /* and its role */
const char *lc_cdn_link_peer(const lc_cdn_link_t *l); /* "ip:port" of the TCP peer */
uint64_t lc_cdn_link_id(const lc_cdn_link_t *l);

#endif
