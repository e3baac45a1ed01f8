/*
 * test_dtls.c: unit tests of src/common/webrtc/dtls.c and srtp.c.
 *
 * A client and a server association talk through in-memory "wires" (each
 * send callback queues datagrams for the other side): the handshake
 * completes with use_srtp, each side sees the other's certificate match
 * our fingerprint, the exported keys mirror each other, and SRTP/SRTCP
 * protected on one side unprotects on the other, for both profiles the
 * server offers. Garbage datagrams fail the association cleanly.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/webrtc/dtls.h"
#include "common/webrtc/srtp.h"

#define MAXQ 64

typedef struct {
    uint8_t buf[MAXQ][2048];
    size_t len[MAXQ];
    int n;
    size_t max_seen;
} wire_t;

static void to_wire(void *ctx, const uint8_t *b, size_t len)
{
    wire_t *w = ctx;
    assert_true(w->n < MAXQ);
    assert_true(len <= sizeof(w->buf[0]));
    memcpy(w->buf[w->n], b, len);
    w->len[w->n++] = len;
    if (len > w->max_seen)
        w->max_seen = len;
}

/* Deliver everything queued on w to d; returns datagrams delivered. */
static int deliver(wire_t *w, lc_dtls_t *d)
{
    int n = w->n;
    const char *err = NULL;
    w->n = 0;
    for (int i = 0; i < n; i++)
        assert_int_equal(lc_dtls_feed(d, w->buf[i], w->len[i], &err), 0);
    return n;
}

static int setup(void **state)
{
    (void)state;
    const char *err = NULL;
    return lc_dtls_init(&err) == 0 && lc_srtp_init() == 0 ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    lc_dtls_cleanup();
    return 0;
}

static void handshake(lc_dtls_t **cli, lc_dtls_t **srv, wire_t *c2s, wire_t *s2c)
{
    const char *err = NULL;
    memset(c2s, 0, sizeof(*c2s));
    memset(s2c, 0, sizeof(*s2c));
    *srv = lc_dtls_new(1, to_wire, NULL, s2c);
    *cli = lc_dtls_new(0, to_wire, NULL, c2s);
    assert_non_null(*srv);
    assert_non_null(*cli);
    assert_int_equal(lc_dtls_start(*cli, &err), 0);
    for (int round = 0; round < 10 && !(lc_dtls_connected(*cli) && lc_dtls_connected(*srv)); round++) {
        deliver(c2s, *srv);
        deliver(s2c, *cli);
    }
    assert_true(lc_dtls_connected(*srv));
    assert_true(lc_dtls_connected(*cli));
}

static void test_handshake_and_keys(void **state)
{
    (void)state;
    lc_dtls_t *cli, *srv;
    static wire_t c2s, s2c;
    const char *err = NULL;
    handshake(&cli, &srv, &c2s, &s2c);
    assert_true(c2s.max_seen <= 1200 && s2c.max_seen <= 1200);

    /* both ends use this process's certificate */
    const char *fp = lc_dtls_fingerprint();
    assert_int_equal(strlen(fp), 32 * 3 - 1);
    assert_int_equal(lc_dtls_check_peer(srv, "sha-256", fp), 1);
    assert_int_equal(lc_dtls_check_peer(cli, "SHA-256", fp), 1);
    char other[128];
    strcpy(other, fp);
    other[0] = other[0] == 'A' ? 'B' : 'A';
    assert_int_equal(lc_dtls_check_peer(srv, "sha-256", other), 0);

    lc_srtp_keys_t ks, kc;
    assert_int_equal(lc_dtls_srtp_keys(srv, &ks, &err), 0);
    assert_int_equal(lc_dtls_srtp_keys(cli, &kc, &err), 0);
    assert_int_equal(ks.profile, LC_SRTP_AEAD_AES_128_GCM); /* preferred when both offer it */
    assert_int_equal(ks.len, 28);
    assert_memory_equal(ks.local, kc.remote, ks.len);
    assert_memory_equal(ks.remote, kc.local, ks.len);

    /* SRTP: server protects, client unprotects, and back */
    lc_srtp_t *ss = lc_srtp_new(&ks, &err), *sc = lc_srtp_new(&kc, &err);
    assert_non_null(ss);
    assert_non_null(sc);
    for (int i = 0; i < 3; i++) {
        uint8_t pkt[1500] = { 0x80, 96, 0, (uint8_t)i, 0, 0, 0, 1, 0x11, 0x22, 0x33, 0x44 };
        memset(pkt + 12, 0xab, 100);
        size_t len = 112;
        assert_int_equal(lc_srtp_protect_rtp(ss, pkt, &len, sizeof(pkt), &err), 0);
        assert_true(len > 112);
        assert_int_equal(lc_srtp_unprotect_rtp(sc, pkt, &len, &err), 0);
        assert_int_equal(len, 112);
        assert_int_equal(pkt[12], 0xab);
    }
    /* a flipped bit is an authentication failure, not a crash */
    uint8_t pkt[1500] = { 0x80, 96, 0, 9, 0, 0, 0, 1, 0x11, 0x22, 0x33, 0x44 };
    size_t len = 60;
    assert_int_equal(lc_srtp_protect_rtp(sc, pkt, &len, sizeof(pkt), &err), 0);
    pkt[20] ^= 1;
    assert_int_equal(lc_srtp_unprotect_rtp(ss, pkt, &len, &err), -1);
    /* RTCP: a receiver report with one block */
    uint8_t rr[256] = { 0x81, 201, 0, 7, 0, 0, 0, 2, 0x11, 0x22, 0x33, 0x44 };
    len = 32;
    assert_int_equal(lc_srtp_protect_rtcp(sc, rr, &len, sizeof(rr), &err), 0);
    assert_int_equal(lc_srtp_unprotect_rtcp(ss, rr, &len, &err), 0);
    assert_int_equal(len, 32);
    /* no room for the trailer */
    len = 100;
    assert_int_equal(lc_srtp_protect_rtp(ss, pkt, &len, 120, &err), -1);
    lc_srtp_free(ss);
    lc_srtp_free(sc);
    lc_dtls_free(cli);
    lc_dtls_free(srv);
}

static void test_garbage(void **state)
{
    (void)state;
    static wire_t w;
    const char *err = NULL;
    lc_dtls_t *srv = lc_dtls_new(1, to_wire, NULL, &w);
    uint8_t junk[300];
    for (size_t i = 0; i < sizeof(junk); i++)
        junk[i] = (uint8_t)(i * 37 + 11);
    /* a record header claiming a handshake, then nonsense */
    junk[0] = 22;
    junk[1] = 0xfe;
    junk[2] = 0xfd;
    int rc = lc_dtls_feed(srv, junk, sizeof(junk), &err);
    if (rc < 0)
        assert_non_null(err);
    /* zero-length and one-byte datagrams */
    lc_dtls_feed(srv, junk, 1, &err);
    assert_false(lc_dtls_connected(srv));
    lc_srtp_keys_t k;
    assert_int_equal(lc_dtls_srtp_keys(srv, &k, &err), -1);
    lc_dtls_free(srv);
}

static void test_retransmit_timer(void **state)
{
    (void)state;
    static wire_t w;
    const char *err = NULL;
    memset(&w, 0, sizeof(w));
    lc_dtls_t *cli = lc_dtls_new(0, to_wire, NULL, &w);
    assert_int_equal(lc_dtls_start(cli, &err), 0);
    assert_int_equal(w.n, 1); /* the ClientHello */
    long ms = lc_dtls_timeout_ms(cli);
    assert_true(ms >= 0 && ms <= 2000);
    lc_dtls_free(cli);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_handshake_and_keys),
        cmocka_unit_test(test_garbage),
        cmocka_unit_test(test_retransmit_timer),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
