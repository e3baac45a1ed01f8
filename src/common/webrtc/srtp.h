/*
 * srtp.h: SRTP and SRTCP for one DTLS-SRTP association (libsrtp2), keyed
 * from lc_dtls_srtp_keys: one libsrtp session to protect what we send,
 * one to unprotect what the peer sends, for any SSRC. In place: protect
 * grows the packet by at most LC_SRTP_MAX_TRAILER bytes.
 */
#ifndef LC_SRTP_H
#define LC_SRTP_H

#include <stddef.h>

#include "common/webrtc/dtls.h"

#define LC_SRTP_MAX_TRAILER 144  /* libsrtp's SRTP_MAX_TRAILER_LEN */

typedef struct lc_srtp lc_srtp_t;

/* Once per process. 0, or -1. */
int lc_srtp_init(void);
/* NULL with *err on bad keys or no memory. */
lc_srtp_t *lc_srtp_new(const lc_srtp_keys_t *keys, const char **err);
void lc_srtp_free(lc_srtp_t *s);

/* In place; *len in, new length out; cap: the buffer's size. 0, or -1 with
 * *err (replay, authentication failure, too short, no room). */
int lc_srtp_protect_rtp(lc_srtp_t *s, void *pkt, size_t *len, size_t cap, const char **err);
int lc_srtp_protect_rtcp(lc_srtp_t *s, void *pkt, size_t *len, size_t cap, const char **err);
int lc_srtp_unprotect_rtp(lc_srtp_t *s, void *pkt, size_t *len, const char **err);
int lc_srtp_unprotect_rtcp(lc_srtp_t *s, void *pkt, size_t *len, const char **err);

#endif
