/*
 * tls.c: see tls.h.
 */
#include "common/core/tls.h"

#include <openssl/err.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>

int lc_tls_wanted(const lc_conf_t *conf)
{
    return conf->signaling_tls_listen[0] || conf->http_tls_listen[0];
}

SSL_CTX *lc_tls_server_ctx(const lc_conf_t *conf, char *err, size_t errlen)
{
    if (!conf->signaling_tls_certificate[0] || !conf->signaling_tls_certificate_key[0]) {
        snprintf(err, errlen, "%s: a TLS listen address needs \"signaling.tls_certificate\" and "
                              "\"signaling.tls_certificate_key\"", conf->file);
        return NULL;
    }
    char *cert = lc_conf_path(conf, conf->signaling_tls_certificate);
    char *key = lc_conf_path(conf, conf->signaling_tls_certificate_key);
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    const char *what = NULL;
    if (!cert || !key || !ctx)
        what = "out of memory";
    else if (SSL_CTX_use_certificate_chain_file(ctx, cert) != 1)
        what = "cannot load \"signaling.tls_certificate\"";
    else if (SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1)
        what = "cannot load \"signaling.tls_certificate_key\"";
    else if (SSL_CTX_check_private_key(ctx) != 1)
        what = "\"signaling.tls_certificate_key\" does not match the certificate";
    if (what) {
        unsigned long e = ERR_peek_error();
        /* OpenSSL 3 finds a foreign key while loading it, not in the check */
        if (ERR_GET_REASON(e) == X509_R_KEY_VALUES_MISMATCH)
            what = "\"signaling.tls_certificate_key\" does not match the certificate";
        snprintf(err, errlen, "%s: %s (%s, %s): %s", conf->file, what, cert ? cert : "?", key ? key : "?",
                 e && ERR_reason_error_string(e) ? ERR_reason_error_string(e) : "no detail");
        ERR_clear_error();
        SSL_CTX_free(ctx);
        ctx = NULL;
    } else {
        SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    }
    free(cert);
    free(key);
    return ctx;
}
