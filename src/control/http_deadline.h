/*
 * http_deadline.h: absolute deadlines for the control process's HTTP
 * connections (limits.handshake_timeout, SPEC section 9).
 *
 * evhttp's own timeout is an idle timeout that every byte resets: one
 * byte a second holds a connection for good. Here each connection's
 * request (TLS handshake, head and body) must be whole within the
 * timeout of its accept, or of the end of the previous response on a
 * kept-alive connection; while a request is being answered the clock
 * stops. A connection past its deadline is shut down, and evhttp, which
 * reads it, sees the end and frees it.
 *
 * How connections are seen without evhttp's internals: every bufferevent
 * evhttp uses is made by our bevcb, which takes a reference on it. When
 * evhttp frees a connection, bufferevent_free() drops its callbacks; a
 * sweep once a second drops our reference then.
 *
 * Ownership: the control loop owns the set; it frees it after evhttp.
 */
#ifndef LC_HTTP_DEADLINE_H
#define LC_HTTP_DEADLINE_H

#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>

typedef struct lc_http_deadline lc_http_deadline_t;

lc_http_deadline_t *lc_http_deadline_new(struct event_base *base, long long timeout_s);
void lc_http_deadline_free(lc_http_deadline_t *d);
/* A bufferevent made for a new connection: follow it. Returns bev, or NULL
 * (bev freed) when out of memory. */
struct bufferevent *lc_http_deadline_track(lc_http_deadline_t *d, struct bufferevent *bev);
/* A request is in (the handler runs): its connection's clock stops until
 * the response is sent. */
void lc_http_deadline_request(lc_http_deadline_t *d, struct evhttp_request *req);

#endif
