/*
 * srtp.c: see srtp.h. Inbound streams are ssrc_any_inbound so a publisher's
 * new SSRC (a simulcast layer, an RTX stream) needs no setup; outbound is
 * ssrc_any_outbound for the SSRCs we choose per player.
 */
#include "common/webrtc/srtp.h"

#include <limits.h>
#include <srtp2/srtp.h>
#include <stdlib.h>
#include <string.h>

/* libsrtp keeps per-SSRC replay state; a player's streams are few */
#define WINDOW 1024

struct lc_srtp {
    srtp_t in, out;
};

int lc_srtp_init(void)
{
    return srtp_init() == srtp_err_status_ok ? 0 : -1;
}

static void policy_for(srtp_policy_t *p, const lc_srtp_keys_t *k, const uint8_t *key, int inbound)
{
    memset(p, 0, sizeof(*p));
    if (k->profile == LC_SRTP_AEAD_AES_128_GCM) {
        srtp_crypto_policy_set_aes_gcm_128_16_auth(&p->rtp);
        srtp_crypto_policy_set_aes_gcm_128_16_auth(&p->rtcp);
    } else {
        srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&p->rtp);
        srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&p->rtcp);
    }
    p->ssrc.type = inbound ? ssrc_any_inbound : ssrc_any_outbound;
    p->key = (unsigned char *)key;
    p->window_size = WINDOW;
    /* a NACKed packet sent again is a repeat of the same index */
    p->allow_repeat_tx = 1;
}

lc_srtp_t *lc_srtp_new(const lc_srtp_keys_t *keys, const char **err)
{
    lc_srtp_t *s = calloc(1, sizeof(*s));
    srtp_policy_t in, out;
    if (!s) {
        *err = "out of memory";
        return NULL;
    }
    policy_for(&in, keys, keys->remote, 1);
    policy_for(&out, keys, keys->local, 0);
    if (srtp_create(&s->in, &in) != srtp_err_status_ok || srtp_create(&s->out, &out) != srtp_err_status_ok) {
        *err = "libsrtp refused the keys";
        lc_srtp_free(s);
        return NULL;
    }
    return s;
}

void lc_srtp_free(lc_srtp_t *s)
{
    if (!s)
        return;
    if (s->in)
        srtp_dealloc(s->in);
    if (s->out)
        srtp_dealloc(s->out);
    free(s);
}

static const char *why(srtp_err_status_t e)
{
    switch (e) {
    case srtp_err_status_replay_fail:
    case srtp_err_status_replay_old: return "SRTP replayed packet";
    case srtp_err_status_auth_fail: return "SRTP authentication failed";
    case srtp_err_status_bad_param: return "SRTP packet malformed";
    default: return "SRTP error";
    }
}

static int protect(srtp_t ctx, void *pkt, size_t *len, size_t cap, int rtcp, const char **err)
{
    if (*len + LC_SRTP_MAX_TRAILER > cap || *len > INT_MAX - LC_SRTP_MAX_TRAILER) {
        *err = "no room for the SRTP trailer";
        return -1;
    }
    int n = (int)*len;
    srtp_err_status_t e = rtcp ? srtp_protect_rtcp(ctx, pkt, &n) : srtp_protect(ctx, pkt, &n);
    if (e != srtp_err_status_ok) {
        *err = why(e);
        return -1;
    }
    *len = (size_t)n;
    return 0;
}

static int unprotect(srtp_t ctx, void *pkt, size_t *len, int rtcp, const char **err)
{
    if (*len < 12 || *len > INT_MAX) {
        *err = "SRTP packet too short";
        return -1;
    }
    int n = (int)*len;
    srtp_err_status_t e = rtcp ? srtp_unprotect_rtcp(ctx, pkt, &n) : srtp_unprotect(ctx, pkt, &n);
    if (e != srtp_err_status_ok) {
        *err = why(e);
        return -1;
    }
    *len = (size_t)n;
    return 0;
}

int lc_srtp_protect_rtp(lc_srtp_t *s, void *pkt, size_t *len, size_t cap, const char **err)
{
    return protect(s->out, pkt, len, cap, 0, err);
}

int lc_srtp_protect_rtcp(lc_srtp_t *s, void *pkt, size_t *len, size_t cap, const char **err)
{
    return protect(s->out, pkt, len, cap, 1, err);
}

int lc_srtp_unprotect_rtp(lc_srtp_t *s, void *pkt, size_t *len, const char **err)
{
    return unprotect(s->in, pkt, len, 0, err);
}

int lc_srtp_unprotect_rtcp(lc_srtp_t *s, void *pkt, size_t *len, const char **err)
{
    return unprotect(s->in, pkt, len, 1, err);
}
