/*
 * dtls.h: DTLS 1.2 with the use_srtp extension (RFC 5764) over memory
 * BIOs, as Janus does it: the caller owns the UDP socket and hands each
 * DTLS datagram in; whatever OpenSSL wants to send comes back through a
 * callback. No I/O, no logging; errors come back as a reason.
 *
 * One certificate (ECDSA P-256, self-signed) per process lifetime: its
 * SHA-256 fingerprint goes into every SDP answer, and the peer's
 * certificate is checked against the fingerprint of its SDP before any
 * SRTP key is used (lc_dtls_check_peer).
 */
#ifndef LC_DTLS_H
#define LC_DTLS_H

#include <stddef.h>
#include <stdint.h>

#define LC_SRTP_MAX_KEY 32         /* key + salt of the largest profile we use */

enum lc_srtp_profile { LC_SRTP_AES128_CM_SHA1_80 = 1, LC_SRTP_AEAD_AES_128_GCM = 7 };

typedef struct {
    int profile;                   /* lc_srtp_profile */
    uint8_t local[LC_SRTP_MAX_KEY];  /* what we protect with: key then salt */
    uint8_t remote[LC_SRTP_MAX_KEY]; /* what the peer protects with */
    size_t len;                    /* key + salt bytes of each */
} lc_srtp_keys_t;

typedef struct lc_dtls lc_dtls_t;
typedef void (*lc_dtls_send_fn)(void *ctx, const uint8_t *buf, size_t len);
/* One decrypted application-data record (an SCTP packet for data channels). */
typedef void (*lc_dtls_recv_fn)(void *ctx, const uint8_t *buf, size_t len);

/* Once per process: key, certificate, contexts. 0, or -1 with *err. */
int lc_dtls_init(const char **err);
void lc_dtls_cleanup(void);
/* "sha-256" fingerprint of our certificate, "AB:CD:..." */
const char *lc_dtls_fingerprint(void);

/* server = 1: we answer (a=setup:passive); 0: we connect (tests, benchmarks). */
lc_dtls_t *lc_dtls_new(int server, lc_dtls_send_fn send, lc_dtls_recv_fn recv, void *ctx);
void lc_dtls_free(lc_dtls_t *d);
/* Client: send the ClientHello. */
int lc_dtls_start(lc_dtls_t *d, const char **err);
/* One datagram from the peer. 0, or -1 with *err (the association is dead). */
int lc_dtls_feed(lc_dtls_t *d, const uint8_t *buf, size_t len, const char **err);
int lc_dtls_connected(const lc_dtls_t *d);
/* ms until lc_dtls_on_timeout is due (retransmission), or -1 if none. */
long lc_dtls_timeout_ms(lc_dtls_t *d);
int lc_dtls_on_timeout(lc_dtls_t *d, const char **err);
/* After connect: is the peer's certificate the one its SDP named? alg like
 * "sha-256", fp "AB:CD:..." (case-insensitive). 1 yes, 0 no. */
int lc_dtls_check_peer(lc_dtls_t *d, const char *alg, const char *fp);
/* After connect: the negotiated SRTP profile and keys. 0, or -1 with *err. */
int lc_dtls_srtp_keys(lc_dtls_t *d, lc_srtp_keys_t *out, const char **err);
/* Application data (SCTP for data channels): one record. 0 or -1. */
int lc_dtls_write(lc_dtls_t *d, const uint8_t *buf, size_t len);

#endif
