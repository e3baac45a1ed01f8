/*
 * secret.c: see secret.h. Both sides are hashed (SHA-256) and the digests
 * compared with CRYPTO_memcmp: a plain memcmp stops at the first wrong byte,
 * and a length check first would tell the secret's length.
 */
#include "common/core/secret.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <string.h>

int lc_secret_equal(const char *given, size_t len, const char *secret)
{
    unsigned char a[EVP_MAX_MD_SIZE], b[EVP_MAX_MD_SIZE];
    unsigned int alen = 0, blen = 0;
    if (!given || !secret)
        return 0;
    if (EVP_Digest(given, len, a, &alen, EVP_sha256(), NULL) != 1 ||
        EVP_Digest(secret, strlen(secret), b, &blen, EVP_sha256(), NULL) != 1 || alen != blen)
        return 0;
    /* equal digests and equal lengths: a collision of SHA-256 is not a worry */
    return CRYPTO_memcmp(a, b, alen) == 0 && len == strlen(secret);
}
