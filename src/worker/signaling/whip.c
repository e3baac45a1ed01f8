/*
 * whip.c: see whip.h. Errors keep the words the WebSocket protocol uses
 * ("Stream not found", "Bad SDP: ...") in a text/plain body.
 *
 * A DELETE can reach another worker than the one holding the session (the
 * kernel spreads connections): a publisher is then ended through the
 * stream table (any worker can ask its owner to end it); a player's session
 * there ends when ICE consent expires.
 */
#include "worker/signaling/whip.h"

#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/core/log.h"
#include "common/shm/stream_table.h"
#include "worker/webrtc/rtc.h"

typedef struct whip_res {
    char id[33];
    int role;
    char name[LC_STREAM_NAME_MAX];
    lc_rtc_session_t *rtc;
    struct whip_res *next;
} whip_res_t;

static whip_res_t *resources;

#define CORS "Access-Control-Allow-Origin: *\r\nAccess-Control-Allow-Methods: POST, DELETE, OPTIONS\r\n" \
             "Access-Control-Allow-Headers: Content-Type, Authorization, If-Match\r\n"                     \
             "Access-Control-Expose-Headers: Location, ETag\r\n"

int lc_whip_target(const char *t, size_t len)
{
    return len > 6 && (memcmp(t, "/whip/", 6) == 0 || memcmp(t, "/whep/", 6) == 0);
}

static const char *log_peer; /* of the request being answered: every refusal gets a log line */

static void reply(struct evbuffer *out, int code, const char *status, const char *text)
{
    if (code >= 400 && log_peer)
        lc_log_info("[whip %s] %d %s: %s", log_peer, code, status, text);
    evbuffer_add_printf(out, "HTTP/1.1 %d %s\r\n" CORS "Content-Type: text/plain\r\nContent-Length: %zu\r\n"
                             "Connection: close\r\n\r\n%s\n", code, status, strlen(text) + 1, text);
}

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

static void res_ended(void *ctx, const char *why)
{
    whip_res_t *r = ctx;
    lc_log_info("[whip %s] %s of \"%s\" ended: %s", r->id, r->role == LC_RTC_PUBLISH ? "publish" : "play", r->name,
                why);
    res_unlink(r);
}

static const lc_rtc_owner_ops_t res_ops = { res_ended };

void lc_whip_close_all(void)
{
    while (resources) {
        whip_res_t *r = resources;
        lc_rtc_stop(r->rtc);
        res_unlink(r);
    }
}

/* "NAME" or "NAME/ID" after the prefix, percent-escapes refused. */
static int split(const char *t, size_t len, char *name, size_t nlen, char *id, size_t idlen)
{
    const char *p = t + 6, *end = t + len, *slash = memchr(p, '/', (size_t)(end - p));
    const char *q = memchr(p, '?', (size_t)(end - p));
    if (q)
        end = q;
    if (slash && slash > end)
        slash = NULL;
    size_t n = (size_t)((slash ? slash : end) - p);
    if (n == 0 || n >= nlen || memchr(p, '%', n))
        return -1;
    memcpy(name, p, n);
    name[n] = '\0';
    id[0] = '\0';
    if (slash) {
        size_t m = (size_t)(end - slash - 1);
        if (m >= idlen)
            return -1;
        memcpy(id, slash + 1, m);
        id[m] = '\0';
    }
    return 0;
}

static void post(lc_worker_t *w, int role, const char *kind, const char *name, const char *body, size_t blen,
                 const char *peer, struct evbuffer *out)
{
    char err[300], who[96];
    char *answer = NULL;
    whip_res_t *r = calloc(1, sizeof(*r));
    if (!r) {
        reply(out, 503, "Service Unavailable", "out of memory");
        return;
    }
    unsigned char rnd[16];
    if (RAND_bytes(rnd, sizeof(rnd)) != 1)
        memset(rnd, 9, sizeof(rnd));
    for (int i = 0; i < 16; i++)
        sprintf(r->id + 2 * i, "%02x", rnd[i]);
    r->role = role;
    snprintf(r->name, sizeof(r->name), "%s", name);
    snprintf(who, sizeof(who), "%s %s", kind, peer);
    if (lc_rtc_start(w, role, name, body, blen, who, &res_ops, r, &answer, &r->rtc, err, sizeof(err)) < 0) {
        lc_log_info("[%s %s] %s of \"%s\" refused: %s", kind, peer, role == LC_RTC_PUBLISH ? "publish" : "play", name,
                    err);
        int code = strncmp(err, "Stream not found", 16) == 0 ? 404 : strcmp(err, "Stream name in use") == 0 ? 409
                 : strncmp(err, "Bad SDP", 7) == 0 || strncmp(err, "Codec", 5) == 0 ? 400 : 503;
        reply(out, code, code == 404 ? "Not Found" : code == 409 ? "Conflict" : code == 400 ? "Bad Request"
                                                                                           : "Service Unavailable",
              err);
        free(r);
        return;
    }
    r->next = resources;
    resources = r;
    evbuffer_add_printf(out, "HTTP/1.1 201 Created\r\n" CORS "Content-Type: application/sdp\r\n"
                             "Location: /%s/%s/%s\r\nETag: \"%s\"\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n",
                        kind, name, r->id, r->id, strlen(answer));
    evbuffer_add(out, answer, strlen(answer));
    free(answer);
}

static void delete(const char *kind, const char *name, const char *id, lc_worker_t *w, struct evbuffer *out)
{
    for (whip_res_t *r = resources; r; r = r->next) {
        if (strcmp(r->id, id) == 0 && strcmp(r->name, name) == 0) {
            lc_rtc_stop(r->rtc);
            res_unlink(r);
            reply(out, 200, "OK", "session ended");
            return;
        }
    }
    /* another worker's session: a publisher can still be ended by name */
    if (strcmp(kind, "whip") == 0 && lc_stream_request_terminate(w->cycle->shm, name) == 0) {
        reply(out, 200, "OK", "session ended");
        return;
    }
    reply(out, 404, "Not Found", "No such session on this server");
}

/* WHIP's way of carrying the publish token: "Authorization: Bearer TOKEN" */
static int authorized(const char *token, const char *auth, size_t alen)
{
    size_t n = strlen(token);
    return !token[0] || (auth && alen == 7 + n && strncasecmp(auth, "Bearer ", 7) == 0 && memcmp(auth + 7, token, n) == 0);
}

void lc_whip_request(lc_worker_t *w, const char *method, size_t mlen, const char *target, size_t tlen,
                     const char *ctype, size_t ctlen, const char *auth, size_t alen, const char *body, size_t blen,
                     const char *peer, struct evbuffer *out)
{
    char name[LC_STREAM_NAME_MAX], id[64];
    const char *kind = memcmp(target, "/whip/", 6) == 0 ? "whip" : "whep";
    log_peer = peer;
    if (split(target, tlen, name, sizeof(name), id, sizeof(id)) < 0) {
        reply(out, 400, "Bad Request", "Bad stream name");
        return;
    }
    if (mlen == 7 && memcmp(method, "OPTIONS", 7) == 0) {
        evbuffer_add_printf(out, "HTTP/1.1 204 No Content\r\n" CORS "Accept-Post: application/sdp\r\n"
                                 "Content-Length: 0\r\nConnection: close\r\n\r\n");
        return;
    }
    if (mlen == 6 && memcmp(method, "DELETE", 6) == 0 && id[0]) {
        delete(kind, name, id, w, out);
        return;
    }
    if (mlen != 4 || memcmp(method, "POST", 4) != 0 || id[0]) {
        reply(out, 405, "Method Not Allowed", "POST an SDP offer to /whip/NAME or /whep/NAME; DELETE the Location");
        return;
    }
    if (!ctype || ctlen < 15 || strncasecmp(ctype, "application/sdp", 15) != 0) {
        reply(out, 415, "Unsupported Media Type", "the offer must be Content-Type: application/sdp");
        return;
    }
    int role = strcmp(kind, "whip") == 0 ? LC_RTC_PUBLISH : LC_RTC_PLAY;
    if (role == LC_RTC_PUBLISH && !authorized(w->cycle->conf->signaling_publish_token, auth, alen)) {
        lc_log_info("[whip %s] publish of \"%s\" refused: no or wrong bearer token", peer, name);
        reply(out, 401, "Unauthorized", "Not authorized: publishing needs the right token");
        return;
    }
    post(w, role, kind, name, body, blen, peer, out);
}
