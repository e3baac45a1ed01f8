/*
 * test_cdn_hello.c: unit tests of src/common/cdn/cdn_hello.c, the hello
 * exchange that proves cdn.secret on every CDN link.
 *
 * The HMAC against a vector computed apart (Python's hmac), each field of
 * the proof changed in turn, then whole exchanges between a client and a
 * server whose messages go through lc_cdn_msg_build/parse as on the wire:
 * same secret, wrong secret, secret on one side only, a forged, replayed
 * or reflected proof, a message other than hello first.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/cdn/cdn_hello.h"

static const char VECTOR[] = "87952b39981536574197cf78bc0a8a7558eacbff174a0e90f18f23438aac5da5";

static void nonces(uint8_t nc[16], uint8_t ns[16])
{
    for (int i = 0; i < 16; i++) {
        nc[i] = (uint8_t)i;
        ns[i] = (uint8_t)(16 + i);
    }
}

static void test_proof_vector(void **state)
{
    (void)state;
    uint8_t nc[16], ns[16], out[32];
    char hex[65];
    nonces(nc, ns);
    assert_int_equal(lc_cdn_proof("sesame", LC_CDN_SIDE_SERVER, nc, ns, "10.0.0.1:8084", LC_CDN_ROLE_ORIGIN, out), 0);
    for (int i = 0; i < 32; i++)
        snprintf(hex + 2 * i, 3, "%02x", out[i]);
    assert_string_equal(hex, VECTOR);
    assert_int_equal(lc_cdn_proof_check("sesame", LC_CDN_SIDE_SERVER, nc, ns, "10.0.0.1:8084", LC_CDN_ROLE_ORIGIN,
                                        out), 1);
}

static void test_proof_binds_every_field(void **state)
{
    (void)state;
    uint8_t nc[16], ns[16], p[32], bad[32];
    nonces(nc, ns);
    lc_cdn_proof("sesame", LC_CDN_SIDE_CLIENT, nc, ns, "10.0.0.2:8084", LC_CDN_ROLE_EDGE, p);
    assert_int_equal(lc_cdn_proof_check("sesame", LC_CDN_SIDE_CLIENT, nc, ns, "10.0.0.2:8084", LC_CDN_ROLE_EDGE, p), 1);
    assert_int_equal(lc_cdn_proof_check("sesamE", LC_CDN_SIDE_CLIENT, nc, ns, "10.0.0.2:8084", LC_CDN_ROLE_EDGE, p), 0);
    assert_int_equal(lc_cdn_proof_check("", LC_CDN_SIDE_CLIENT, nc, ns, "10.0.0.2:8084", LC_CDN_ROLE_EDGE, p), 0);
    assert_int_equal(lc_cdn_proof_check("sesame", LC_CDN_SIDE_SERVER, nc, ns, "10.0.0.2:8084", LC_CDN_ROLE_EDGE, p), 0);
    assert_int_equal(lc_cdn_proof_check("sesame", LC_CDN_SIDE_CLIENT, ns, nc, "10.0.0.2:8084", LC_CDN_ROLE_EDGE, p), 0);
    assert_int_equal(lc_cdn_proof_check("sesame", LC_CDN_SIDE_CLIENT, nc, ns, "10.0.0.3:8084", LC_CDN_ROLE_EDGE, p), 0);
    assert_int_equal(lc_cdn_proof_check("sesame", LC_CDN_SIDE_CLIENT, nc, ns, "10.0.0.2:8084", LC_CDN_ROLE_ORIGIN, p),
                     0);
    for (int bit = 0; bit < 256; bit += 37) {
        memcpy(bad, p, 32);
        bad[bit / 8] ^= (uint8_t)(1 << (bit % 8));
        assert_int_equal(lc_cdn_proof_check("sesame", LC_CDN_SIDE_CLIENT, nc, ns, "10.0.0.2:8084", LC_CDN_ROLE_EDGE,
                                            bad), 0);
    }
}

/* One message over the "wire": built to JSON and parsed back. */
static void wire(const lc_cdn_msg_t *m, lc_cdn_msg_t *got)
{
    size_t len;
    char err[256];
    char *json = lc_cdn_msg_build(m, &len);
    assert_non_null(json);
    if (lc_cdn_msg_parse(json, len, got, err, sizeof(err)) != 0)
        fail_msg("%s does not parse: %s", json, err);
    free(json);
}

typedef struct {
    lc_cdn_self_t cs, ss;
    lc_cdn_hello_t c, s;
    int crc, src;               /* last results */
    char cwhy[256], swhy[256];
    lc_cdn_msg_t c2;            /* the client's second hello, as sent */
} pair_t;

static void pair_init(pair_t *p, const char *csecret, const char *ssecret)
{
    memset(p, 0, sizeof(*p));
    snprintf(p->cs.node, sizeof(p->cs.node), "10.0.0.2:8084");
    p->cs.role = LC_CDN_ROLE_EDGE;
    snprintf(p->cs.secret, sizeof(p->cs.secret), "%s", csecret);
    snprintf(p->ss.node, sizeof(p->ss.node), "10.0.0.1:8084");
    p->ss.role = LC_CDN_ROLE_ORIGIN;
    snprintf(p->ss.secret, sizeof(p->ss.secret), "%s", ssecret);
}

/* A whole exchange; returns after the first refusal or when both are done. */
static void run(pair_t *p, uint8_t seed)
{
    uint8_t ncn[16], nsn[16];
    lc_cdn_msg_t out, in;
    int send, intro;
    memset(ncn, seed, sizeof(ncn));
    memset(nsn, seed + 1, sizeof(nsn));
    assert_int_equal(lc_cdn_hello_begin(&p->s, &p->ss, 0, nsn, &out), 0);
    assert_int_equal(lc_cdn_hello_begin(&p->c, &p->cs, 1, ncn, &out), 1);
    assert_int_equal(out.has_nonce, p->cs.secret[0] != 0);
    assert_int_equal(out.has_proof, 0);
    wire(&out, &in);
    p->src = lc_cdn_hello_recv(&p->s, &in, &out, &send, &intro, p->swhy, sizeof(p->swhy));
    if (p->src == LC_CDN_HELLO_REFUSED)
        return;
    assert_true(send && intro);
    assert_string_equal(p->s.peer_node, "10.0.0.2:8084");
    wire(&out, &in);
    p->crc = lc_cdn_hello_recv(&p->c, &in, &out, &send, &intro, p->cwhy, sizeof(p->cwhy));
    if (p->crc == LC_CDN_HELLO_REFUSED)
        return;
    assert_int_equal(p->crc, LC_CDN_HELLO_DONE);
    assert_string_equal(p->c.peer_node, "10.0.0.1:8084");
    assert_int_equal(p->c.peer_role, LC_CDN_ROLE_ORIGIN);
    if (p->src == LC_CDN_HELLO_DONE) {
        assert_false(send); /* no secret: nothing more */
        return;
    }
    assert_true(send);
    p->c2 = out;
    wire(&out, &in);
    p->src = lc_cdn_hello_recv(&p->s, &in, &out, &send, &intro, p->swhy, sizeof(p->swhy));
    assert_false(intro);
}

static void test_same_secret(void **state)
{
    (void)state;
    pair_t p;
    pair_init(&p, "sesame", "sesame");
    run(&p, 1);
    assert_int_equal(p.crc, LC_CDN_HELLO_DONE);
    assert_int_equal(p.src, LC_CDN_HELLO_DONE);
    assert_int_equal(p.s.peer_role, LC_CDN_ROLE_EDGE);
}

static void test_no_secret(void **state)
{
    (void)state;
    pair_t p;
    pair_init(&p, "", "");
    run(&p, 1);
    assert_int_equal(p.crc, LC_CDN_HELLO_DONE);
    assert_int_equal(p.src, LC_CDN_HELLO_DONE);
}

static void test_wrong_secret(void **state)
{
    (void)state;
    pair_t p;
    /* the client checks the server's proof first and refuses it */
    pair_init(&p, "sesame", "open");
    run(&p, 1);
    assert_int_equal(p.crc, LC_CDN_HELLO_REFUSED);
    assert_non_null(strstr(p.cwhy, "proof of cdn.secret is wrong"));
}

static void test_secret_on_one_side(void **state)
{
    (void)state;
    pair_t p;
    pair_init(&p, "", "sesame");
    run(&p, 1);
    assert_int_equal(p.src, LC_CDN_HELLO_REFUSED);
    assert_non_null(strstr(p.swhy, "did not prove cdn.secret"));
    pair_init(&p, "sesame", "");
    run(&p, 1);
    assert_int_equal(p.crc, LC_CDN_HELLO_REFUSED);
    assert_non_null(strstr(p.cwhy, "did not prove cdn.secret"));
}

/* The server side against an attacker who sends its own messages. */
static int server_after(lc_cdn_hello_t *s, const lc_cdn_self_t *ss, const lc_cdn_msg_t *first,
                        const lc_cdn_msg_t *second, lc_cdn_msg_t *answer, char *why)
{
    uint8_t nsn[16];
    lc_cdn_msg_t out, in;
    int send, intro;
    memset(nsn, 0x77, sizeof(nsn));
    lc_cdn_hello_begin(s, ss, 0, nsn, &out);
    wire(first, &in);
    int rc = lc_cdn_hello_recv(s, &in, &out, &send, &intro, why, 256);
    if (rc != LC_CDN_HELLO_WAIT)
        return rc;
    if (answer)
        *answer = out;
    wire(second, &in);
    return lc_cdn_hello_recv(s, &in, &out, &send, &intro, why, 256);
}

static void test_forged_replayed_reflected(void **state)
{
    (void)state;
    pair_t p;
    lc_cdn_hello_t s;
    lc_cdn_msg_t first = { .type = LC_CDN_HELLO, .version = LC_CDN_PROTO_VERSION, .role = LC_CDN_ROLE_EDGE,
                           .has_nonce = 1 };
    lc_cdn_msg_t second, answer;
    char why[256];
    snprintf(first.node, sizeof(first.node), "10.0.0.2:8084");
    memset(first.nonce, 0x11, sizeof(first.nonce));

    /* forged: a proof made with another secret */
    second = first;
    second.has_proof = 1;
    lc_cdn_proof("guess", LC_CDN_SIDE_CLIENT, first.nonce, first.nonce, first.node, first.role, second.proof);
    pair_init(&p, "sesame", "sesame");
    assert_int_equal(server_after(&s, &p.ss, &first, &second, NULL, why), LC_CDN_HELLO_REFUSED);
    assert_non_null(strstr(why, "proof of cdn.secret is wrong"));

    /* replayed: a good client's second hello from an earlier link */
    run(&p, 1);
    assert_int_equal(p.src, LC_CDN_HELLO_DONE);
    lc_cdn_msg_t replay_first = p.c2;
    replay_first.has_proof = 0;
    assert_int_equal(server_after(&s, &p.ss, &replay_first, &p.c2, NULL, why), LC_CDN_HELLO_REFUSED);

    /* reflected: the server's own proof sent back to it, under its name */
    lc_cdn_msg_t mirror = first;
    snprintf(mirror.node, sizeof(mirror.node), "10.0.0.1:8084");
    mirror.role = LC_CDN_ROLE_ORIGIN;
    assert_int_equal(server_after(&s, &p.ss, &mirror, &mirror, &answer, why), LC_CDN_HELLO_REFUSED);
    lc_cdn_hello_t s2;
    lc_cdn_msg_t back = answer;
    back.has_nonce = 1;
    memcpy(back.nonce, mirror.nonce, sizeof(back.nonce));
    assert_int_equal(server_after(&s2, &p.ss, &mirror, &back, NULL, why), LC_CDN_HELLO_REFUSED);

    /* a second hello that names another node */
    run(&p, 2);
    lc_cdn_msg_t other = p.c2;
    snprintf(other.node, sizeof(other.node), "10.0.0.9:8084");
    replay_first = p.c2;
    replay_first.has_proof = 0;
    assert_int_equal(server_after(&s, &p.ss, &replay_first, &other, NULL, why), LC_CDN_HELLO_REFUSED);
}

static void test_hello_first(void **state)
{
    (void)state;
    pair_t p;
    lc_cdn_hello_t s;
    lc_cdn_msg_t out, in = { .type = LC_CDN_STATE, .version = LC_CDN_PROTO_VERSION };
    uint8_t n[16] = { 0 };
    int send = 7, intro = 7;
    char why[256];
    pair_init(&p, "sesame", "sesame");
    lc_cdn_hello_begin(&s, &p.ss, 0, n, &out);
    assert_int_equal(lc_cdn_hello_recv(&s, &in, &out, &send, &intro, why, sizeof(why)), LC_CDN_HELLO_REFUSED);
    assert_false(send);
    assert_false(intro);
    assert_non_null(strstr(why, "begins with hello"));
    /* version mismatch names both versions */
    in.type = LC_CDN_HELLO;
    in.version = 99;
    lc_cdn_hello_begin(&s, &p.ss, 0, n, &out);
    assert_int_equal(lc_cdn_hello_recv(&s, &in, &out, &send, &intro, why, sizeof(why)), LC_CDN_HELLO_REFUSED);
    assert_non_null(strstr(why, "version 99 is not this node's version 1"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_proof_vector),
        cmocka_unit_test(test_proof_binds_every_field),
        cmocka_unit_test(test_same_secret),
        cmocka_unit_test(test_no_secret),
        cmocka_unit_test(test_wrong_secret),
        cmocka_unit_test(test_secret_on_one_side),
        cmocka_unit_test(test_forged_replayed_reflected),
        cmocka_unit_test(test_hello_first),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
