/*
 * whip.c: see whip.h. Errors keep the words the WebSocket protocol uses
 * ("Stream not found", "Bad SDP: ...") in a text/plain body.
 *
 * Every session gets an id of 128 bits from the CSPRNG (its Location), and
 * is recorded with this worker's slot in the arena's session table
 * (common/shm/session_table.h). A DELETE names (kind, stream, id): the
 * table says which worker holds it; this worker ends its own at once, and
 * asks the owner to end another's, answering 200 once the owner has (or 504
 * after 2 s). An id that names no live session is 404 and ends nothing.
 *
 * Two answers wait without blocking the loop (lc_whip_pending_t): a DELETE
 * forwarded to another worker, and a WHEP player of a stream whose codecs
 * are not known yet (rtc.h). The connection that asked holds the pending
 * request; if it closes first, lc_whip_cancel.
 */
#include "worker/signaling/whip.h"

#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "common/core/log.h"
#include "common/core/secret.h"
#include "common/http/whip_path.h"
#include "common/shm/session_table.h"
#include "common/shm/stream_table.h"
#include "worker/webrtc/rtc.h"

#define DELETE_WAIT_MS 2000   /* for the owner of a session to end it */
#define DELETE_TICK_MS 10

_Static_assert(LC_WHIP_PATH_ID_BYTES == LC_SESSION_ID_BYTES, "one session id size");
_Static_assert((int)LC_WHIP_PATH_WHIP == (int)LC_SESSION_WHIP && (int)LC_WHIP_PATH_WHEP == (int)LC_SESSION_WHEP,
               "one numbering of the kinds");

typedef struct whip_res {
    lc_worker_t *w;
    char id[LC_WHIP_PATH_ID_HEX + 1];
    int role;
    char name[LC_STREAM_NAME_MAX];
    lc_rtc_session_t *rtc;
    lc_session_ref_t ref;          /* our entry in the shared session table */
    lc_whip_pending_t *pending;    /* the POST, while its answer waits */
    struct whip_res *next;
} whip_res_t;

enum { PENDING_ANSWER = 1, PENDING_DELETE };

struct lc_whip_pending {
    int what;
    lc_worker_t *w;
    struct evbuffer *out;
    void (*done)(void *ctx);
    void *ctx;
    char peer[64];
    char kind[8];
    whip_res_t *res;               /* PENDING_ANSWER: the session being answered */
    lc_session_ref_t ref;          /* PENDING_DELETE: another worker's session */
    struct event *timer;
    uint64_t deadline_ms;
    lc_whip_pending_t *prev, *next;
};

static whip_res_t *resources;
static lc_whip_pending_t *pendings;

#define CORS "Access-Control-Allow-Origin: *\r\nAccess-Control-Allow-Methods: POST, DELETE, OPTIONS\r\n" \
             "Access-Control-Allow-Headers: Content-Type, Authorization, If-Match\r\n"                     \
             "Access-Control-Expose-Headers: Location, ETag\r\n"

int lc_whip_target(const char *t, size_t len)
{
    return lc_whip_path_match(t, len);
}

static void reply(struct evbuffer *out, const char *peer, int code, const char *status, const char *text)
{
    if (code >= 400)
        lc_log_info("[whip %s] %d %s: %s", peer, code, status, text);
    evbuffer_add_printf(out, "HTTP/1.1 %d %s\r\n" CORS "Content-Type: text/plain\r\nContent-Length: %zu\r\n"
                             "Connection: close\r\n\r\n%s\n", code, status, strlen(text) + 1, text);
}

static void reply_created(struct evbuffer *out, const char *kind, const whip_res_t *r, const char *answer)
{
    evbuffer_add_printf(out, "HTTP/1.1 201 Created\r\n" CORS "Content-Type: application/sdp\r\n"
                             "Location: /%s/%s/%s\r\nETag: \"%s\"\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n",
                        kind, r->name, r->id, r->id, strlen(answer));
    evbuffer_add(out, answer, strlen(answer));
}

/* The status a refusal of lc_rtc_start gets. */
static void reply_refused(struct evbuffer *out, const char *peer, const char *err)
{
    int code = strncmp(err, "Stream not found", 16) == 0 ? 404 : strcmp(err, "Stream name in use") == 0 ? 409
             : strncmp(err, "Bad SDP", 7) == 0 || strncmp(err, "Codec", 5) == 0 ? 400 : 503;
    reply(out, peer, code, code == 404 ? "Not Found" : code == 409 ? "Conflict" : code == 400 ? "Bad Request"
                                                                                     : "Service Unavailable",
          err);
}

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* ---- pending answers ---- */

static lc_whip_pending_t *pending_new(int what, lc_worker_t *w, const char *kind, const char *peer,
                                      struct evbuffer *out, void (*done)(void *), void *ctx)
{
    lc_whip_pending_t *p = calloc(1, sizeof(*p));
    if (!p)
        return NULL;
    p->what = what;
    p->w = w;
    p->out = out;
    p->done = done;
    p->ctx = ctx;
    snprintf(p->peer, sizeof(p->peer), "%s", peer);
    snprintf(p->kind, sizeof(p->kind), "%s", kind);
    p->next = pendings;
    if (pendings)
        pendings->prev = p;
    pendings = p;
    return p;
}

static void pending_free(lc_whip_pending_t *p)
{
    if (p->prev)
        p->prev->next = p->next;
    else
        pendings = p->next;
    if (p->next)
        p->next->prev = p->prev;
    if (p->timer)
        event_free(p->timer);
    if (p->res)
        p->res->pending = NULL;
    free(p);
}

/* The answer is in p->out: hand the connection back, which sends and closes. */
static void pending_done(lc_whip_pending_t *p)
{
    void (*done)(void *) = p->done;
    void *ctx = p->ctx;
    pending_free(p);
    done(ctx);
}

/* ---- sessions of this worker ---- */

static void res_unlink(whip_res_t *r)
{
    for (whip_res_t **pp = &resources; *pp; pp = &(*pp)->next) {
        if (*pp == r) {
            *pp = r->next;
            break;
        }
    }
    free(r);
}

/* End one of ours: the session, its table entry, the resource. */
static void res_end(lc_worker_t *w, whip_res_t *r, const char *why)
{
    lc_log_info("[whip %s] %s of \"%s\" ended: %s", r->id, r->role == LC_RTC_PUBLISH ? "publish" : "play", r->name,
                why);
    if (r->pending) { /* not answered yet: its POST learns it */
        lc_whip_pending_t *p = r->pending;
        p->res = NULL;
        reply(p->out, p->peer, 503, "Service Unavailable", why);
        pending_done(p);
    }
    lc_rtc_stop(r->rtc);
    lc_session_remove(w->cycle->shm, &r->ref);
    res_unlink(r);
}

static void res_ended(void *ctx, const char *why)
{
    whip_res_t *r = ctx;
    lc_log_info("[whip %s] %s of \"%s\" ended: %s", r->id, r->role == LC_RTC_PUBLISH ? "publish" : "play", r->name,
                why);
    lc_session_remove(r->w->cycle->shm, &r->ref);
    res_unlink(r);
}

/* A player that waited for the stream's codecs is answered (or refused). */
static void res_answered(void *ctx, const char *answer, const char *why)
{
    whip_res_t *r = ctx;
    lc_whip_pending_t *p = r->pending;
    if (!answer) {
        lc_session_remove(r->w->cycle->shm, &r->ref);
        r->pending = NULL;
        if (p) {
            p->res = NULL;
            reply_refused(p->out, p->peer, why);
        }
        res_unlink(r);
    } else if (p) {
        reply_created(p->out, p->kind, r, answer);
    }
    if (p)
        pending_done(p);
}

static const lc_rtc_owner_ops_t res_ops = { res_ended, res_answered };

void lc_whip_close_all(void)
{
    while (resources) {
        whip_res_t *r = resources;
        if (r->pending)
            r->pending->res = NULL; /* its connection is closed (and cancels it) after us */
        lc_rtc_stop(r->rtc);
        lc_session_remove(r->w->cycle->shm, &r->ref);
        res_unlink(r);
    }
}

void lc_whip_on_wake(lc_worker_t *w)
{
    if (!resources || !lc_session_take_requests(w->cycle->shm, w->cycle->slot))
        return;
    for (whip_res_t *r = resources, *next; r; r = next) {
        next = r->next;
        if (lc_session_end_requested(w->cycle->shm, &r->ref))
            res_end(w, r, "DELETE of its Location on another worker");
    }
}

void lc_whip_cancel(lc_whip_pending_t *p)
{
    whip_res_t *r = p->res;
    if (r) { /* the client left before its answer: nobody will use the session */
        p->res = NULL;
        r->pending = NULL;
        lc_log_info("[whip %s] %s of \"%s\" ended: the client closed the connection before the answer", r->id,
                    r->role == LC_RTC_PUBLISH ? "publish" : "play", r->name);
        lc_rtc_stop(r->rtc);
        lc_session_remove(p->w->cycle->shm, &r->ref);
        res_unlink(r);
    }
    pending_free(p);
}

/* ---- POST ---- */

static lc_whip_pending_t *post(lc_worker_t *w, int role, const char *kind, const char *name, const char *body,
                               size_t blen, const char *peer, struct evbuffer *out, void (*done)(void *), void *ctx)
{
    char err[300], who[96];
    char *answer = NULL;
    uint8_t id[LC_SESSION_ID_BYTES];
    lc_shm_t *shm = w->cycle->shm;
    whip_res_t *r = calloc(1, sizeof(*r));
    if (!r) {
        reply(out, peer, 503, "Service Unavailable", "out of memory");
        return NULL;
    }
    /* the id is what a DELETE proves it may end the session with: never a fallback */
    if (RAND_bytes(id, sizeof(id)) != 1) {
        lc_log_error("[whip %s] no session id: the CSPRNG failed", peer);
        reply(out, peer, 503, "Service Unavailable", "no random session id available");
        free(r);
        return NULL;
    }
    lc_whip_path_id_hex(id, r->id);
    r->w = w;
    r->role = role;
    snprintf(r->name, sizeof(r->name), "%s", name);
    if (lc_session_add(shm, role == LC_RTC_PUBLISH ? LC_SESSION_WHIP : LC_SESSION_WHEP, name, id, w->cycle->slot,
                       &r->ref) < 0) {
        reply(out, peer, 503, "Service Unavailable", "Server busy: the session table is full (media.streams_max x 4)");
        free(r);
        return NULL;
    }
    snprintf(who, sizeof(who), "%s %s", kind, peer);
    int rc = lc_rtc_start(w, role, name, body, blen, who, &res_ops, r, &answer, &r->rtc, err, sizeof(err));
    if (rc < 0) {
        lc_log_info("[%s %s] %s of \"%s\" refused: %s", kind, peer, role == LC_RTC_PUBLISH ? "publish" : "play", name,
                    err);
        reply_refused(out, peer, err);
        lc_session_remove(shm, &r->ref);
        free(r);
        return NULL;
    }
    r->next = resources;
    resources = r;
    if (rc == 0) {
        reply_created(out, kind, r, answer);
        free(answer);
        return NULL;
    }
    /* the answer waits for the stream's codecs (res_answered) */
    lc_whip_pending_t *p = pending_new(PENDING_ANSWER, w, kind, peer, out, done, ctx);
    if (!p) {
        reply(out, peer, 503, "Service Unavailable", "out of memory");
        lc_rtc_stop(r->rtc);
        lc_session_remove(shm, &r->ref);
        res_unlink(r);
        return NULL;
    }
    p->res = r;
    r->pending = p;
    return p;
}

/* ---- DELETE ---- */

static void on_delete_tick(evutil_socket_t fd, short what, void *arg)
{
    lc_whip_pending_t *p = arg;
    (void)fd;
    (void)what;
    if (!lc_session_alive(p->w->cycle->shm, &p->ref)) {
        reply(p->out, p->peer, 200, "OK", "session ended");
        pending_done(p);
    } else if (now_ms() >= p->deadline_ms) {
        lc_log_warn("[whip %s] DELETE: the worker in slot %d did not end the session within %d ms", p->peer,
                    p->ref.owner_slot, DELETE_WAIT_MS);
        reply(p->out, p->peer, 504, "Gateway Timeout", "the session's worker did not end it in time: try again");
        pending_done(p);
    }
}

static lc_whip_pending_t *delete(lc_worker_t *w, const lc_whip_path_t *path, const char *peer, struct evbuffer *out,
                                 void (*done)(void *), void *ctx)
{
    uint8_t id[LC_SESSION_ID_BYTES];
    lc_session_ref_t ref;
    lc_shm_t *shm = w->cycle->shm;
    /* no such id, or one of another stream or kind: nothing ends */
    if (lc_whip_path_id(path->id, id) < 0 || lc_session_find(shm, path->kind, path->name, id, &ref) < 0) {
        reply(out, peer, 404, "Not Found", "No such session");
        return NULL;
    }
    if (ref.owner_slot == w->cycle->slot) {
        for (whip_res_t *r = resources; r; r = r->next) {
            if (r->ref.idx == ref.idx && r->ref.gen == ref.gen) {
                res_end(w, r, "DELETE of its Location");
                reply(out, peer, 200, "OK", "session ended");
                return NULL;
            }
        }
        reply(out, peer, 404, "Not Found", "No such session");
        return NULL;
    }
    lc_whip_pending_t *p = pending_new(PENDING_DELETE, w, path->kind == LC_WHIP_PATH_WHIP ? "whip" : "whep", peer,
                                       out, done, ctx);
    if (p)
        p->timer = event_new(w->base, -1, EV_PERSIST, on_delete_tick, p);
    struct timeval tv = { 0, DELETE_TICK_MS * 1000 };
    if (!p || !p->timer || event_add(p->timer, &tv) < 0) {
        if (p)
            pending_free(p);
        reply(out, peer, 503, "Service Unavailable", "out of memory");
        return NULL;
    }
    p->ref = ref;
    p->deadline_ms = now_ms() + DELETE_WAIT_MS;
    if (lc_session_request_end(shm, &ref) < 0) { /* it ended while we looked */
        pending_free(p);
        reply(out, peer, 404, "Not Found", "No such session");
        return NULL;
    }
    lc_log_info("[whip %s] DELETE of a %s session of \"%s\": asked its worker (slot %d) to end it", peer, p->kind,
                path->name, ref.owner_slot);
    return p;
}

/* WHIP's way of carrying the publish token: "Authorization: Bearer TOKEN" */
static int authorized(const char *token, const char *auth, size_t alen)
{
    if (!token[0])
        return 1;
    return auth && alen >= 7 && strncasecmp(auth, "Bearer ", 7) == 0 && lc_secret_equal(auth + 7, alen - 7, token);
}

lc_whip_pending_t *lc_whip_request(lc_worker_t *w, const char *method, size_t mlen, const char *target, size_t tlen,
                                   const char *ctype, size_t ctlen, const char *auth, size_t alen, const char *body,
                                   size_t blen, const char *peer, struct evbuffer *out, void (*done)(void *ctx),
                                   void *ctx)
{
    lc_whip_path_t path;
    const char *err;
    if (lc_whip_path_split(target, tlen, &path, &err) < 0) {
        reply(out, peer, 400, "Bad Request", "Bad stream name");
        return NULL;
    }
    const char *kind = path.kind == LC_WHIP_PATH_WHIP ? "whip" : "whep";
    int role = path.kind == LC_WHIP_PATH_WHIP ? LC_RTC_PUBLISH : LC_RTC_PLAY;
    if (mlen == 7 && memcmp(method, "OPTIONS", 7) == 0) {
        evbuffer_add_printf(out, "HTTP/1.1 204 No Content\r\n" CORS "Accept-Post: application/sdp\r\n"
                                 "Content-Length: 0\r\nConnection: close\r\n\r\n");
        return NULL;
    }
    int is_delete = mlen == 6 && memcmp(method, "DELETE", 6) == 0 && path.has_id;
    if (!is_delete && (mlen != 4 || memcmp(method, "POST", 4) != 0 || path.has_id)) {
        reply(out, peer, 405, "Method Not Allowed", "POST an SDP offer to /whip/NAME or /whep/NAME; DELETE the Location");
        return NULL;
    }
    /* a WHIP session is the publisher's: ending it takes the same token as starting it */
    if (role == LC_RTC_PUBLISH && !authorized(w->cycle->conf->signaling_publish_token, auth, alen)) {
        lc_log_info("[whip %s] %s of \"%s\" refused: no or wrong bearer token", peer,
                    is_delete ? "DELETE" : "publish", path.name);
        reply(out, peer, 401, "Unauthorized",
              is_delete ? "Not authorized: ending a publish needs the right token"
                        : "Not authorized: publishing needs the right token");
        return NULL;
    }
    if (is_delete)
        return delete(w, &path, peer, out, done, ctx);
    if (!ctype || ctlen < 15 || strncasecmp(ctype, "application/sdp", 15) != 0) {
        reply(out, peer, 415, "Unsupported Media Type", "the offer must be Content-Type: application/sdp");
        return NULL;
    }
    return post(w, role, kind, path.name, body, blen, peer, out, done, ctx);
}
