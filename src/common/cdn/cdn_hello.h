/*
 * cdn_hello.h: the HELLO exchange that opens every CDN link, control and
 * media alike (man/livecdn-cdn.7), I/O-free: messages in, messages out.
 *
 * Each side names itself (node, role). With cdn.secret set each side also
 * sends a fresh random nonce and proves the secret: a HELLO answering the
 * peer's nonce carries HMAC-SHA256(secret, label, side, client nonce,
 * server nonce, own node, own role). So the connecting side speaks twice
 * (hello with its nonce, then hello with its proof) and the accepting side
 * once (hello with its nonce and proof):
 *
 *   client  hello {node, role, nonce Nc}
 *   server  hello {node, role, nonce Ns, proof(server)}   client checks it
 *   client  hello {node, role, nonce Nc, proof(client)}   server checks it
 *
 * The side is in the MAC, so a proof cannot be reflected back at its
 * author; both nonces are, so it cannot be replayed on another link. A
 * link is usable (DONE) only once the peer's proof checked: the caller
 * must neither send nor act on anything else before.
 */
#ifndef LC_CDN_HELLO_H
#define LC_CDN_HELLO_H

#include <stddef.h>
#include <stdint.h>

#include "common/cdn/cdn_msg.h"

#define LC_CDN_SECRET_MAX 256

typedef struct {
    char node[LC_CDN_ADDR_MAX];      /* "ip:port" */
    int role;                        /* lc_cdn_role */
    char secret[LC_CDN_SECRET_MAX];  /* "" = links are not authenticated */
} lc_cdn_self_t;

enum { LC_CDN_SIDE_CLIENT = 1, LC_CDN_SIDE_SERVER = 2 };

/* The proof a side gives: HMAC-SHA256 over the fields above. 0, or -1 if
 * the MAC could not be computed. */
int lc_cdn_proof(const char *secret, int side, const uint8_t nc[LC_CDN_NONCE_LEN],
                 const uint8_t ns[LC_CDN_NONCE_LEN], const char *node, int role, uint8_t out[LC_CDN_PROOF_LEN]);
/* 1 if proof is that side's proof (compared in constant time), else 0. */
int lc_cdn_proof_check(const char *secret, int side, const uint8_t nc[LC_CDN_NONCE_LEN],
                       const uint8_t ns[LC_CDN_NONCE_LEN], const char *node, int role,
                       const uint8_t proof[LC_CDN_PROOF_LEN]);

enum { LC_CDN_HELLO_REFUSED = -1, LC_CDN_HELLO_WAIT = 0, LC_CDN_HELLO_DONE = 1 };

typedef struct {
    const lc_cdn_self_t *self;       /* not owned; outlives the exchange */
    int client;
    int step;
    uint8_t nc[LC_CDN_NONCE_LEN], ns[LC_CDN_NONCE_LEN];
    char peer_node[LC_CDN_ADDR_MAX]; /* as the peer named itself (valid once it did) */
    int peer_role;
} lc_cdn_hello_t;

/* Start one side. nonce: LC_CDN_NONCE_LEN bytes from a CSPRNG. A client
 * gets its first hello in *out and 1 (send it); a server gets 0. */
int lc_cdn_hello_begin(lc_cdn_hello_t *h, const lc_cdn_self_t *self, int client,
                       const uint8_t nonce[LC_CDN_NONCE_LEN], lc_cdn_msg_t *out);

/* The peer's message in: DONE (the link is usable), WAIT (more to come) or
 * REFUSED with why (the caller sends error with it and closes). When *send
 * is set, *out is to be sent first (also with DONE). *introduced is set on
 * the message by which the peer first named itself: the caller checks that
 * identity (address, cdn.allow) before it sends *out. */
int lc_cdn_hello_recv(lc_cdn_hello_t *h, const lc_cdn_msg_t *in, lc_cdn_msg_t *out, int *send, int *introduced,
                      char *why, size_t whylen);

#endif
