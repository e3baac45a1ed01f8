/*
 * tls.h: the server side of TLS for wss:// and https:// (signaling.tls_listen,
 * http.tls_listen), one context per process from the configured PEM files.
 * `livecdn -t` builds one too, so a missing file or a key that does not
 * match its certificate is a configuration error, not a surprise at start.
 */
#ifndef LC_TLS_H
#define LC_TLS_H

#include <openssl/ssl.h>
#include <stddef.h>

#include "common/core/conf.h"

/* Does the configuration ask for TLS anywhere? */
int lc_tls_wanted(const lc_conf_t *conf);
/* A server context from signaling.tls_certificate(_key), paths resolved
 * against the prefix. NULL with a reason in err. */
SSL_CTX *lc_tls_server_ctx(const lc_conf_t *conf, char *err, size_t errlen);

#endif
