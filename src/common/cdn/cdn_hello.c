/*
 * cdn_hello.c: see cdn_hello.h. The one place that decides whether a peer
 * proved cdn.secret; cdn_link.c feeds it every message until it says DONE.
 */
#include "common/cdn/cdn_hello.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define LABEL "livecdn-cdn-hello-1"

enum { C_SENT = 1, S_WAIT_HELLO, S_WAIT_PROOF, H_DONE, H_REFUSED };

int lc_cdn_proof(const char *secret, int side, const uint8_t nc[LC_CDN_NONCE_LEN],
                 const uint8_t ns[LC_CDN_NONCE_LEN], const char *node, int role, uint8_t out[LC_CDN_PROOF_LEN])
{
    /* label \0 side nc ns node \0 role: fixed-size fields and NUL-ended
     * strings, so no two inputs give the same bytes */
    uint8_t msg[sizeof(LABEL) + 1 + 2 * LC_CDN_NONCE_LEN + LC_CDN_ADDR_MAX + 1 + 1];
    size_t n = 0, nl = strnlen(node, LC_CDN_ADDR_MAX - 1);
    memcpy(msg, LABEL, sizeof(LABEL));
    n += sizeof(LABEL);
    msg[n++] = (uint8_t)side;
    memcpy(msg + n, nc, LC_CDN_NONCE_LEN);
    n += LC_CDN_NONCE_LEN;
    memcpy(msg + n, ns, LC_CDN_NONCE_LEN);
    n += LC_CDN_NONCE_LEN;
    memcpy(msg + n, node, nl);
    n += nl;
    msg[n++] = 0;
    msg[n++] = (uint8_t)role;
    unsigned int len = 0;
    if (!HMAC(EVP_sha256(), secret, (int)strlen(secret), msg, n, out, &len) || len != LC_CDN_PROOF_LEN)
        return -1;
    return 0;
}

int lc_cdn_proof_check(const char *secret, int side, const uint8_t nc[LC_CDN_NONCE_LEN],
                       const uint8_t ns[LC_CDN_NONCE_LEN], const char *node, int role,
                       const uint8_t proof[LC_CDN_PROOF_LEN])
{
    uint8_t want[LC_CDN_PROOF_LEN];
    if (lc_cdn_proof(secret, side, nc, ns, node, role, want) < 0)
        return 0;
    return CRYPTO_memcmp(want, proof, LC_CDN_PROOF_LEN) == 0;
}

#if defined(__GNUC__)
__attribute__((format(printf, 4, 5)))
#endif
static int refuse(lc_cdn_hello_t *h, char *why, size_t whylen, const char *fmt, ...)
{
    va_list ap;
    h->step = H_REFUSED;
    if (why && whylen) {
        va_start(ap, fmt);
        vsnprintf(why, whylen, fmt, ap);
        va_end(ap);
    }
    return LC_CDN_HELLO_REFUSED;
}

static void own_hello(const lc_cdn_hello_t *h, lc_cdn_msg_t *out)
{
    memset(out, 0, sizeof(*out));
    out->type = LC_CDN_HELLO;
    out->version = LC_CDN_PROTO_VERSION;
    snprintf(out->node, sizeof(out->node), "%s", h->self->node);
    out->role = h->self->role;
}

/* Our hello with our nonce and, once we hold both nonces, our proof. */
static int own_proof(const lc_cdn_hello_t *h, lc_cdn_msg_t *out)
{
    own_hello(h, out);
    out->has_nonce = 1;
    memcpy(out->nonce, h->client ? h->nc : h->ns, LC_CDN_NONCE_LEN);
    out->has_proof = 1;
    return lc_cdn_proof(h->self->secret, h->client ? LC_CDN_SIDE_CLIENT : LC_CDN_SIDE_SERVER, h->nc, h->ns,
                        h->self->node, h->self->role, out->proof);
}

int lc_cdn_hello_begin(lc_cdn_hello_t *h, const lc_cdn_self_t *self, int client,
                       const uint8_t nonce[LC_CDN_NONCE_LEN], lc_cdn_msg_t *out)
{
    memset(h, 0, sizeof(*h));
    h->self = self;
    h->client = client;
    memcpy(client ? h->nc : h->ns, nonce, LC_CDN_NONCE_LEN);
    if (!client) {
        h->step = S_WAIT_HELLO;
        return 0;
    }
    own_hello(h, out);
    if (self->secret[0]) {
        out->has_nonce = 1;
        memcpy(out->nonce, h->nc, LC_CDN_NONCE_LEN);
    }
    h->step = C_SENT;
    return 1;
}

static void peer_named(lc_cdn_hello_t *h, const lc_cdn_msg_t *in)
{
    snprintf(h->peer_node, sizeof(h->peer_node), "%s", in->node);
    h->peer_role = in->role;
}

int lc_cdn_hello_recv(lc_cdn_hello_t *h, const lc_cdn_msg_t *in, lc_cdn_msg_t *out, int *send, int *introduced,
                      char *why, size_t whylen)
{
    int secret = h->self->secret[0] != '\0';
    *send = 0;
    *introduced = 0;
    if (h->step == H_DONE || h->step == H_REFUSED)
        return refuse(h, why, whylen, "the hello exchange is over");
    if (in->type != LC_CDN_HELLO)
        return refuse(h, why, whylen, "%s", secret ? "a link begins with hello and the proof of cdn.secret"
                                                   : "a link begins with hello");
    if (in->version != LC_CDN_PROTO_VERSION)
        return refuse(h, why, whylen, "CDN protocol version %d is not this node's version %d", in->version,
                      LC_CDN_PROTO_VERSION);

    switch (h->step) {
    case C_SENT:
        /* the server's answer: its name, and with a secret its nonce and proof */
        if (secret && (!in->has_nonce || !in->has_proof))
            return refuse(h, why, whylen, "it did not prove cdn.secret");
        if (secret) {
            memcpy(h->ns, in->nonce, LC_CDN_NONCE_LEN);
            if (!lc_cdn_proof_check(h->self->secret, LC_CDN_SIDE_SERVER, h->nc, h->ns, in->node, in->role,
                                    in->proof))
                return refuse(h, why, whylen, "its proof of cdn.secret is wrong");
            if (own_proof(h, out) < 0)
                return refuse(h, why, whylen, "cannot compute the proof of cdn.secret");
            *send = 1;
        }
        peer_named(h, in);
        *introduced = 1;
        h->step = H_DONE;
        return LC_CDN_HELLO_DONE;

    case S_WAIT_HELLO:
        if (!secret) {
            own_hello(h, out);
            h->step = H_DONE;
        } else {
            if (!in->has_nonce)
                return refuse(h, why, whylen, "it did not prove cdn.secret");
            memcpy(h->nc, in->nonce, LC_CDN_NONCE_LEN);
            if (own_proof(h, out) < 0)
                return refuse(h, why, whylen, "cannot compute the proof of cdn.secret");
            h->step = S_WAIT_PROOF;
        }
        *send = 1;
        peer_named(h, in);
        *introduced = 1;
        return h->step == H_DONE ? LC_CDN_HELLO_DONE : LC_CDN_HELLO_WAIT;

    case S_WAIT_PROOF:
        if (!in->has_proof)
            return refuse(h, why, whylen, "it did not prove cdn.secret");
        if (strcmp(in->node, h->peer_node) != 0 || in->role != h->peer_role ||
            (in->has_nonce && memcmp(in->nonce, h->nc, LC_CDN_NONCE_LEN) != 0))
            return refuse(h, why, whylen, "its second hello names another node, role or nonce");
        if (!lc_cdn_proof_check(h->self->secret, LC_CDN_SIDE_CLIENT, h->nc, h->ns, h->peer_node, h->peer_role,
                                in->proof))
            return refuse(h, why, whylen, "its proof of cdn.secret is wrong");
        h->step = H_DONE;
        return LC_CDN_HELLO_DONE;
    }
    return refuse(h, why, whylen, "hello exchange not started");
}
