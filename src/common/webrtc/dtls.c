/*
 * dtls.c: see dtls.h. Incoming datagrams go into a memory BIO; outgoing
 * records go through a tiny BIO of our own whose write is the caller's
 * send callback, so every record OpenSSL writes is one datagram of at most
 * MTU bytes (a memory BIO would glue a whole flight together).
 */
#include "common/webrtc/dtls.h"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MTU 1200
#define CERT_DAYS 30
#define SRTP_PROFILES "SRTP_AEAD_AES_128_GCM:SRTP_AES128_CM_SHA1_80"

struct lc_dtls {
    SSL *ssl;
    BIO *rbio;
    lc_dtls_send_fn send;
    lc_dtls_recv_fn recv;
    void *ctx;
    int connected;
    int failed;
};

static SSL_CTX *server_ctx, *client_ctx;
static EVP_PKEY *key;
static X509 *cert;
static BIO_METHOD *out_method;
static char fingerprint[3 * EVP_MAX_MD_SIZE];

/* ---- the outgoing BIO ---- */

static int out_write(BIO *b, const char *buf, int len)
{
    lc_dtls_t *d = BIO_get_data(b);
    if (d && len > 0)
        d->send(d->ctx, (const uint8_t *)buf, (size_t)len);
    return len;
}

static long out_ctrl(BIO *b, int cmd, long num, void *ptr)
{
    (void)b;
    (void)num;
    (void)ptr;
    switch (cmd) {
    case BIO_CTRL_FLUSH:
        return 1;
    case BIO_CTRL_DGRAM_QUERY_MTU:
    case BIO_CTRL_DGRAM_GET_FALLBACK_MTU:
        return MTU;
    case BIO_CTRL_WPENDING:
    case BIO_CTRL_PENDING:
        return 0;
    }
    return 0;
}

static int out_create(BIO *b)
{
    BIO_set_init(b, 1);
    return 1;
}

/* ---- the process's identity ---- */

static int make_cert(void)
{
    key = EVP_EC_gen("P-256");
    cert = X509_new();
    if (!key || !cert)
        return -1;
    uint64_t serial;
    if (RAND_bytes((unsigned char *)&serial, sizeof(serial)) != 1)
        return -1;
    X509_set_version(cert, 2);
    ASN1_INTEGER_set_uint64(X509_get_serialNumber(cert), serial >> 1);
    X509_gmtime_adj(X509_getm_notBefore(cert), -86400);
    X509_gmtime_adj(X509_getm_notAfter(cert), (long)CERT_DAYS * 86400);
    X509_NAME *name = X509_get_subject_name(cert);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)"livecdn", -1, -1, 0);
    X509_set_issuer_name(cert, name);
    if (X509_set_pubkey(cert, key) != 1 || X509_sign(cert, key, EVP_sha256()) <= 0)
        return -1;
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned n;
    if (X509_digest(cert, EVP_sha256(), md, &n) != 1)
        return -1;
    for (unsigned i = 0; i < n; i++)
        snprintf(fingerprint + 3 * i, 4, i + 1 < n ? "%02X:" : "%02X", md[i]);
    return 0;
}

/* The peer's certificate is self-signed by design: it is checked against
 * the SDP fingerprint instead (lc_dtls_check_peer). */
static int accept_any(int ok, X509_STORE_CTX *x)
{
    (void)ok;
    (void)x;
    return 1;
}

static SSL_CTX *make_ctx(int server)
{
    SSL_CTX *c = SSL_CTX_new(DTLS_method());
    if (!c)
        return NULL;
    SSL_CTX_set_min_proto_version(c, DTLS1_2_VERSION);
    SSL_CTX_set_verify(c, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, accept_any);
    if (SSL_CTX_use_certificate(c, cert) != 1 || SSL_CTX_use_PrivateKey(c, key) != 1 ||
        SSL_CTX_set_tlsext_use_srtp(c, SRTP_PROFILES) != 0) {
        SSL_CTX_free(c);
        return NULL;
    }
    SSL_CTX_set_options(c, SSL_OP_NO_QUERY_MTU | SSL_OP_NO_TICKET);
    /* after the handshake a media session rarely uses DTLS: no idle buffers per player */
    SSL_CTX_set_mode(c, SSL_MODE_RELEASE_BUFFERS);
    (void)server;
    return c;
}

int lc_dtls_init(const char **err)
{
    if (server_ctx)
        return 0;
    out_method = BIO_meth_new(BIO_TYPE_SOURCE_SINK | BIO_get_new_index(), "livecdn dtls out");
    if (!out_method || !BIO_meth_set_write(out_method, out_write) || !BIO_meth_set_ctrl(out_method, out_ctrl) ||
        !BIO_meth_set_create(out_method, out_create)) {
        *err = "cannot create the DTLS output BIO";
        return -1;
    }
    if (make_cert() < 0) {
        *err = "cannot create the DTLS certificate";
        return -1;
    }
    server_ctx = make_ctx(1);
    client_ctx = make_ctx(0);
    if (!server_ctx || !client_ctx) {
        *err = "cannot create the DTLS contexts (use_srtp)";
        return -1;
    }
    return 0;
}

void lc_dtls_cleanup(void)
{
    SSL_CTX_free(server_ctx);
    SSL_CTX_free(client_ctx);
    X509_free(cert);
    EVP_PKEY_free(key);
    BIO_meth_free(out_method);
    server_ctx = client_ctx = NULL;
    cert = NULL;
    key = NULL;
    out_method = NULL;
}

const char *lc_dtls_fingerprint(void)
{
    return fingerprint;
}

/* ---- one association ---- */

lc_dtls_t *lc_dtls_new(int server, lc_dtls_send_fn send, lc_dtls_recv_fn recv, void *ctx)
{
    lc_dtls_t *d = calloc(1, sizeof(*d));
    if (!d)
        return NULL;
    d->send = send;
    d->recv = recv;
    d->ctx = ctx;
    d->ssl = SSL_new(server ? server_ctx : client_ctx);
    d->rbio = BIO_new(BIO_s_mem());
    BIO *wbio = BIO_new(out_method);
    if (!d->ssl || !d->rbio || !wbio) {
        BIO_free(d->rbio);
        BIO_free(wbio);
        SSL_free(d->ssl);
        free(d);
        return NULL;
    }
    BIO_set_mem_eof_return(d->rbio, -1);
    BIO_set_data(wbio, d);
    SSL_set_bio(d->ssl, d->rbio, wbio); /* the SSL owns both now */
    SSL_set_mtu(d->ssl, MTU);
    DTLS_set_link_mtu(d->ssl, MTU);
    if (server)
        SSL_set_accept_state(d->ssl);
    else
        SSL_set_connect_state(d->ssl);
    return d;
}

void lc_dtls_free(lc_dtls_t *d)
{
    if (!d)
        return;
    SSL_free(d->ssl);
    free(d);
}

/* Drive the handshake or read records; 0, or -1 on a fatal error. */
static int pump(lc_dtls_t *d, const char **err)
{
    if (!d->connected) {
        int rc = SSL_do_handshake(d->ssl);
        if (rc == 1) {
            d->connected = 1;
        } else {
            int e = SSL_get_error(d->ssl, rc);
            if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
                return 0;
            d->failed = 1;
            unsigned long code = ERR_get_error();
            *err = code ? ERR_reason_error_string(code) : "DTLS handshake failed";
            if (!*err)
                *err = "DTLS handshake failed";
            ERR_clear_error();
            return -1;
        }
    }
    uint8_t buf[16384];
    for (;;) {
        int n = SSL_read(d->ssl, buf, sizeof(buf));
        if (n > 0) {
            if (d->recv)
                d->recv(d->ctx, buf, (size_t)n);
            continue;
        }
        int e = SSL_get_error(d->ssl, n);
        if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
            return 0;
        if (e == SSL_ERROR_ZERO_RETURN) {
            *err = "the peer closed the connection";
            d->failed = 1;
            return -1;
        }
        unsigned long code = ERR_get_error();
        ERR_clear_error();
        *err = code && ERR_reason_error_string(code) ? ERR_reason_error_string(code) : "DTLS read failed";
        d->failed = 1;
        return -1;
    }
}

int lc_dtls_start(lc_dtls_t *d, const char **err)
{
    return pump(d, err);
}

int lc_dtls_feed(lc_dtls_t *d, const uint8_t *buf, size_t len, const char **err)
{
    if (d->failed) {
        *err = "DTLS association already failed";
        return -1;
    }
    if (BIO_write(d->rbio, buf, (int)len) != (int)len) {
        *err = "cannot buffer a DTLS datagram";
        return -1;
    }
    int rc = pump(d, err);
    /* a datagram OpenSSL did not take (garbage) must not linger */
    (void)BIO_reset(d->rbio);
    return rc;
}

int lc_dtls_connected(const lc_dtls_t *d)
{
    return d->connected;
}

long lc_dtls_timeout_ms(lc_dtls_t *d)
{
    struct timeval tv;
    if (d->connected || DTLSv1_get_timeout(d->ssl, &tv) != 1)
        return -1;
    return (long)tv.tv_sec * 1000 + tv.tv_usec / 1000;
}

int lc_dtls_on_timeout(lc_dtls_t *d, const char **err)
{
    if (d->connected)
        return 0;
    if (DTLSv1_handle_timeout(d->ssl) < 0) {
        *err = "DTLS handshake timed out";
        d->failed = 1;
        return -1;
    }
    return 0;
}

int lc_dtls_check_peer(lc_dtls_t *d, const char *alg, const char *fp)
{
    char name[32];
    size_t j = 0;
    /* SDP says "sha-256", OpenSSL knows "SHA256" */
    for (size_t i = 0; alg[i] && j + 1 < sizeof(name); i++)
        if (alg[i] != '-')
            name[j++] = alg[i];
    name[j] = '\0';
    const EVP_MD *md = EVP_get_digestbyname(name);
    X509 *peer = SSL_get1_peer_certificate(d->ssl);
    unsigned char dig[EVP_MAX_MD_SIZE];
    unsigned n = 0;
    int ok = 0;
    if (md && peer && X509_digest(peer, md, dig, &n) == 1) {
        char hex[3 * EVP_MAX_MD_SIZE];
        for (unsigned i = 0; i < n; i++)
            snprintf(hex + 3 * i, 4, i + 1 < n ? "%02X:" : "%02X", dig[i]);
        ok = strcasecmp(hex, fp) == 0;
    }
    X509_free(peer);
    return ok;
}

int lc_dtls_srtp_keys(lc_dtls_t *d, lc_srtp_keys_t *out, const char **err)
{
    const SRTP_PROTECTION_PROFILE *p = SSL_get_selected_srtp_profile(d->ssl);
    size_t klen, slen;
    if (!d->connected || !p) {
        *err = "no SRTP profile was negotiated (use_srtp)";
        return -1;
    }
    if (p->id == SRTP_AEAD_AES_128_GCM) {
        out->profile = LC_SRTP_AEAD_AES_128_GCM;
        klen = 16;
        slen = 12;
    } else if (p->id == SRTP_AES128_CM_SHA1_80) {
        out->profile = LC_SRTP_AES128_CM_SHA1_80;
        klen = 16;
        slen = 14;
    } else {
        *err = "unsupported SRTP profile";
        return -1;
    }
    /* RFC 5764 4.2: client key | server key | client salt | server salt */
    uint8_t m[2 * (16 + 14)];
    size_t total = 2 * (klen + slen);
    if (SSL_export_keying_material(d->ssl, m, total, "EXTRACTOR-dtls_srtp", 19, NULL, 0, 0) != 1) {
        *err = "cannot export the SRTP keying material";
        return -1;
    }
    const uint8_t *ck = m, *sk = m + klen, *cs = m + 2 * klen, *ss = m + 2 * klen + slen;
    int server = SSL_is_server(d->ssl);
    memcpy(out->local, server ? sk : ck, klen);
    memcpy(out->local + klen, server ? ss : cs, slen);
    memcpy(out->remote, server ? ck : sk, klen);
    memcpy(out->remote + klen, server ? cs : ss, slen);
    out->len = klen + slen;
    return 0;
}

int lc_dtls_write(lc_dtls_t *d, const uint8_t *buf, size_t len)
{
    if (!d->connected)
        return -1;
    return SSL_write(d->ssl, buf, (int)len) == (int)len ? 0 : -1;
}
