/*
 * access.c: who may use the control API, checked before any route runs.
 *
 *   /rest-api/ and /metrics: http.allow (peer address), then http.token
 *   (Bearer, compared in constant time), then the browser checks of
 *   common/http/http_origin.h (a foreign Origin is 403; with no token, a
 *   Host that is not this machine is 403, against DNS rebinding), then, for
 *   a REST POST, a JSON Content-Type (415 otherwise).
 *   Pages are public: they hold no secret and change nothing.
 */
#include <event2/bufferevent_ssl.h>
#include <event2/keyvalq_struct.h>
#include <openssl/crypto.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "common/core/log.h"
#include "common/core/net.h"
#include "common/http/http_origin.h"
#include "control/control.h"

static int peer_allowed(lc_control_t *ctl, struct evhttp_request *req)
{
    const lc_conf_list_t *allow = &ctl->cycle->conf->http_allow;
    struct evhttp_connection *conn = evhttp_request_get_connection(req);
    const struct sockaddr *sa = evhttp_connection_get_addr(conn);

    if (allow->n == 0)
        return 1;
    if (!sa)
        return 0;
    for (size_t i = 0; i < allow->n; i++)
        if (lc_net_cidr_match(allow->v[i], sa) == 1)
            return 1;
    return 0;
}

/* Equal in time that depends on neither content nor length: both sides are
 * hashed first, so CRYPTO_memcmp always compares 32 bytes. */
static int secret_equal(const char *a, const char *b)
{
    unsigned char da[SHA256_DIGEST_LENGTH], db[SHA256_DIGEST_LENGTH];
    SHA256((const unsigned char *)a, strlen(a), da);
    SHA256((const unsigned char *)b, strlen(b), db);
    return CRYPTO_memcmp(da, db, sizeof(da)) == 0;
}

static int token_ok(lc_control_t *ctl, struct evhttp_request *req)
{
    const char *token = ctl->cycle->conf->http_token;
    if (!token[0])
        return 1;
    const char *auth = evhttp_find_header(evhttp_request_get_input_headers(req), "Authorization");
    /* the scheme is no secret: only the credential is compared */
    return auth && strncmp(auth, "Bearer ", 7) == 0 && secret_equal(auth + 7, token);
}

static const char *scheme_of(struct evhttp_request *req)
{
    struct bufferevent *bev = evhttp_connection_get_bufferevent(evhttp_request_get_connection(req));
    return bev && bufferevent_openssl_get_ssl(bev) ? "https" : "http";
}

static void refuse(struct evhttp_request *req, int code, const char *reason, const char *what,
                   const char *path, const char *peer, const char *msg)
{
    lc_log_warn("%s %s from %s refused: %s", what, path, peer, msg);
    lc_rest_error(req, code, reason, msg);
}

int lc_access_check(lc_control_t *ctl, struct evhttp_request *req, const char *path, const char *peer)
{
    int rest = strncmp(path, "/rest-api/", 10) == 0, metrics = strcmp(path, "/metrics") == 0;
    const char *what = rest ? "REST" : "metrics";
    struct evkeyvalq *in = evhttp_request_get_input_headers(req);
    char msg[512];

    if (!rest && !metrics)
        return 0;
    if (!peer_allowed(ctl, req)) {
        refuse(req, 403, "Forbidden", what, path, peer, "address not in http.allow");
        return -1;
    }
    if (!token_ok(ctl, req)) {
        refuse(req, 401, "Unauthorized", what, path, peer, "missing or wrong bearer token (http.token)");
        return -1;
    }
    const char *host = evhttp_find_header(in, "Host"), *origin = evhttp_find_header(in, "Origin");
    if (origin && !lc_http_origin_is_same(origin, scheme_of(req), host)) {
        snprintf(msg, sizeof(msg), "cross-origin request refused (Origin %.200s)", origin);
        refuse(req, 403, "Forbidden", what, path, peer, msg);
        return -1;
    }
    if (host && !ctl->cycle->conf->http_token[0]) {
        char self[256] = "";
        if (gethostname(self, sizeof(self) - 1) < 0)
            self[0] = '\0';
        if (!lc_http_origin_host_is_local(host, self)) {
            snprintf(msg, sizeof(msg), "Host %.200s is not an address of this server "
                     "(use its IP address, or set http.token to allow any name)", host);
            refuse(req, 403, "Forbidden", what, path, peer, msg);
            return -1;
        }
    }
    if (rest && evhttp_request_get_command(req) == EVHTTP_REQ_POST &&
        !lc_http_origin_media_type_is(evhttp_find_header(in, "Content-Type"), "application/json")) {
        refuse(req, 415, "Unsupported Media Type", what, path, peer,
               "REST bodies must be sent with Content-Type: application/json");
        return -1;
    }
    return 0;
}
