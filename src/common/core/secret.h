/*
 * secret.h: comparing a secret a client sent (a token) with ours, in time
 * that depends on neither the secret's bytes nor its length.
 */
#ifndef LC_SECRET_H
#define LC_SECRET_H

#include <stddef.h>

/* 1 if the len bytes at given are exactly the NUL-terminated secret. */
int lc_secret_equal(const char *given, size_t len, const char *secret);

#endif
