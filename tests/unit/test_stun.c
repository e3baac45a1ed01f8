/*
 * test_stun.c: unit tests of src/common/webrtc/stun.c.
 *
 * Vectors: RFC 5769 section 2.1 (the short-term-credential Binding request
 * an ICE agent sends), 2.2 and 2.3 (responses with IPv4 and IPv6
 * XOR-MAPPED-ADDRESS), all under the password "VOkJxbRl1RmTxUk/WvJxBt".
 * Then what our builders write, parsed back; hand-made messages for every
 * parse error; and two invariants run over every vector: each proper
 * prefix is rejected (also with the length field patched to match), and no
 * single flipped bit keeps both MESSAGE-INTEGRITY and FINGERPRINT valid.
 * Hand-made messages get their HMAC from OpenSSL's one-shot HMAC() and
 * their CRC from a bitwise CRC-32, not from the code under test.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "common/webrtc/stun.h"

static const uint8_t pw[] = "VOkJxbRl1RmTxUk/WvJxBt";
#define PWLEN (sizeof pw - 1)

/* RFC 5769 2.1: SOFTWARE "STUN test client", PRIORITY, ICE-CONTROLLED, USERNAME "evtj:h6vY"
 * (padded with spaces, which the receiver must ignore), M-I, FINGERPRINT. */
static const uint8_t req[] = {
    0x00, 0x01, 0x00, 0x58, 0x21, 0x12, 0xa4, 0x42,
    0xb7, 0xe7, 0xa7, 0x01, 0xbc, 0x34, 0xd6, 0x86, 0xfa, 0x87, 0xdf, 0xae,
    0x80, 0x22, 0x00, 0x10, 0x53, 0x54, 0x55, 0x4e, 0x20, 0x74, 0x65, 0x73,
    0x74, 0x20, 0x63, 0x6c, 0x69, 0x65, 0x6e, 0x74,
    0x00, 0x24, 0x00, 0x04, 0x6e, 0x00, 0x01, 0xff,
    0x80, 0x29, 0x00, 0x08, 0x93, 0x2f, 0xf9, 0xb1, 0x51, 0x26, 0x3b, 0x36,
    0x00, 0x06, 0x00, 0x09, 0x65, 0x76, 0x74, 0x6a, 0x3a, 0x68, 0x36, 0x76,
    0x59, 0x20, 0x20, 0x20,
    0x00, 0x08, 0x00, 0x14, 0x9a, 0xea, 0xa7, 0x0c, 0xbf, 0xd8, 0xcb, 0x56,
    0x78, 0x1e, 0xf2, 0xb5, 0xb2, 0xd3, 0xf2, 0x49, 0xc1, 0xb5, 0x71, 0xa2,
    0x80, 0x28, 0x00, 0x04, 0xe5, 0x7a, 0x3b, 0xcf,
};

/* RFC 5769 2.2: SOFTWARE, XOR-MAPPED-ADDRESS 192.0.2.1:32853, M-I, FP. */
static const uint8_t resp4[] = {
    0x01, 0x01, 0x00, 0x3c, 0x21, 0x12, 0xa4, 0x42,
    0xb7, 0xe7, 0xa7, 0x01, 0xbc, 0x34, 0xd6, 0x86, 0xfa, 0x87, 0xdf, 0xae,
    0x80, 0x22, 0x00, 0x0b, 0x74, 0x65, 0x73, 0x74, 0x20, 0x76, 0x65, 0x63,
    0x74, 0x6f, 0x72, 0x20,
    0x00, 0x20, 0x00, 0x08, 0x00, 0x01, 0xa1, 0x47, 0xe1, 0x12, 0xa6, 0x43,
    0x00, 0x08, 0x00, 0x14, 0x2b, 0x91, 0xf5, 0x99, 0xfd, 0x9e, 0x90, 0xc3,
    0x8c, 0x74, 0x89, 0xf9, 0x2a, 0xf9, 0xba, 0x53, 0xf0, 0x6b, 0xe7, 0xd7,
    0x80, 0x28, 0x00, 0x04, 0xc0, 0x7d, 0x4c, 0x96,
};

/* RFC 5769 2.3: the same with 2001:db8:1234:5678:11:2233:4455:6677. */
static const uint8_t resp6[] = {
    0x01, 0x01, 0x00, 0x48, 0x21, 0x12, 0xa4, 0x42,
    0xb7, 0xe7, 0xa7, 0x01, 0xbc, 0x34, 0xd6, 0x86, 0xfa, 0x87, 0xdf, 0xae,
    0x80, 0x22, 0x00, 0x0b, 0x74, 0x65, 0x73, 0x74, 0x20, 0x76, 0x65, 0x63,
    0x74, 0x6f, 0x72, 0x20,
    0x00, 0x20, 0x00, 0x14, 0x00, 0x02, 0xa1, 0x47, 0x01, 0x13, 0xa9, 0xfa,
    0xa5, 0xd3, 0xf1, 0x79, 0xbc, 0x25, 0xf4, 0xb5, 0xbe, 0xd2, 0xb9, 0xd9,
    0x00, 0x08, 0x00, 0x14, 0xa3, 0x82, 0x95, 0x4e, 0x4b, 0xe6, 0x7b, 0xf1,
    0x17, 0x84, 0xc9, 0x7c, 0x82, 0x92, 0xc2, 0x75, 0xbf, 0xe3, 0xed, 0x41,
    0x80, 0x28, 0x00, 0x04, 0xc8, 0xfb, 0x0b, 0x4c,
};

static const uint8_t txid[12] = {
    0xb7, 0xe7, 0xa7, 0x01, 0xbc, 0x34, 0xd6, 0x86, 0xfa, 0x87, 0xdf, 0xae,
};

static const struct { const uint8_t *p; size_t n; } vectors[] = {
    { req, sizeof req }, { resp4, sizeof resp4 }, { resp6, sizeof resp6 },
};

/* ------------------------------------------------- hand-made messages */

typedef struct {
    uint8_t b[1024];
    size_t n;
} msg_t;

static void put16(uint8_t *p, unsigned v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
    put16(p, v >> 16);
    put16(p + 2, v & 0xffff);
}

static void set_len(msg_t *m)
{
    put16(m->b + 2, (unsigned)(m->n - 20));
}

static void mk_header(msg_t *m, unsigned type)
{
    memset(m, 0, sizeof *m);
    put16(m->b, type);
    put32(m->b + 4, 0x2112a442);
    memcpy(m->b + 8, txid, 12);
    m->n = 20;
}

/* Attribute with its length field saying `n`, value v, padding bytes = pad. */
static void add_attr(msg_t *m, unsigned type, const void *v, size_t n, uint8_t pad)
{
    size_t padded = (n + 3) & ~(size_t)3;

    assert_true(m->n + 4 + padded <= sizeof m->b);
    put16(m->b + m->n, type);
    put16(m->b + m->n + 2, (unsigned)n);
    if (n > 0)
        memcpy(m->b + m->n + 4, v, n);
    memset(m->b + m->n + 4 + n, pad, padded - n);
    m->n += 4 + padded;
    set_len(m);
}

static void add_mi(msg_t *m)
{
    uint8_t mac[20];
    unsigned int mac_len = 0;

    m->n += 24;
    set_len(m);
    m->n -= 24;
    assert_non_null(HMAC(EVP_sha1(), pw, (int)PWLEN, m->b, m->n, mac, &mac_len));
    add_attr(m, 0x0008, mac, 20, 0);
}

/* Bit by bit: a different algorithm from stun.c's table. */
static uint32_t ref_crc32(const uint8_t *p, size_t n)
{
    uint32_t c = 0xffffffffu;

    for (size_t i = 0; i < n; i++) {
        c ^= p[i];
        for (int k = 0; k < 8; k++)
            c = (c >> 1) ^ (0xedb88320u & (0u - (c & 1)));
    }
    return ~c;
}

static void add_fp(msg_t *m)
{
    uint8_t v[4];

    m->n += 8;
    set_len(m);
    m->n -= 8;
    put32(v, ref_crc32(m->b, m->n) ^ 0x5354554eu);
    add_attr(m, 0x8028, v, 4, 0);
}

static void parse_ok(const uint8_t *b, size_t n, lc_stun_msg_t *m)
{
    const char *err = NULL;
    int rc = lc_stun_parse(b, n, m, &err);

    if (rc != 0)
        fail_msg("parse failed: %s", err);
}

static void parse_fails(const uint8_t *b, size_t n, const char *why_contains)
{
    lc_stun_msg_t m;
    const char *err = NULL;

    assert_int_equal(lc_stun_parse(b, n, &m, &err), -1);
    assert_non_null(err);
    if (why_contains != NULL && strstr(err, why_contains) == NULL)
        fail_msg("error \"%s\" does not mention \"%s\"", err, why_contains);
    assert_int_equal(lc_stun_parse(b, n, &m, NULL), -1);
}

static void checks_ok(const uint8_t *b, size_t n, const lc_stun_msg_t *m)
{
    assert_true(m->has_integrity);
    assert_true(m->has_fingerprint);
    assert_int_equal(lc_stun_check_integrity(b, n, m, pw, PWLEN), 1);
    assert_int_equal(lc_stun_check_fingerprint(b, n, m), 1);
}

/* ----------------------------------------------------------- RFC 5769 */

static void test_rfc5769_request(void **state)
{
    lc_stun_msg_t m;
    const uint8_t *local, *remote;
    size_t llen, rlen;

    (void)state;
    assert_true(lc_stun_is_stun(req, sizeof req));
    parse_ok(req, sizeof req, &m);
    assert_int_equal(m.type, LC_STUN_BINDING_REQUEST);
    assert_int_equal(LC_STUN_CLASS(m.type), LC_STUN_CLASS_REQUEST);
    assert_int_equal(LC_STUN_METHOD(m.type), 1);
    assert_memory_equal(m.txid, txid, 12);
    assert_int_equal(m.username_len, 9);
    assert_memory_equal(m.username, "evtj:h6vY", 9);
    assert_true(m.has_priority);
    assert_int_equal(m.priority, 0x6e0001ff);
    assert_true(m.ice_controlled);
    assert_false(m.ice_controlling);
    assert_true(m.tiebreaker == 0x932ff9b151263b36ull);
    assert_false(m.use_candidate);
    assert_false(m.has_xor_mapped);
    assert_int_equal(m.error_code, 0);
    assert_int_equal(m.n_unknown, 0);
    assert_int_equal(m.integrity_at, 76);
    assert_int_equal(m.fingerprint_at, 100);
    checks_ok(req, sizeof req, &m);

    /* wrong, shorter and empty passwords, no key */
    assert_int_equal(lc_stun_check_integrity(req, sizeof req, &m, (const uint8_t *)"VOkJxbRl1RmTxUk/WvJxBT", PWLEN), 0);
    assert_int_equal(lc_stun_check_integrity(req, sizeof req, &m, pw, PWLEN - 1), 0);
    assert_int_equal(lc_stun_check_integrity(req, sizeof req, &m, pw, 0), 0);
    assert_int_equal(lc_stun_check_integrity(req, sizeof req, &m, NULL, 0), 0);

    assert_int_equal(lc_stun_username_split(m.username, m.username_len, &local, &llen, &remote, &rlen), 0);
    assert_int_equal(llen, 4);
    assert_memory_equal(local, "evtj", 4);
    assert_int_equal(rlen, 4);
    assert_memory_equal(remote, "h6vY", 4);
}

static void test_rfc5769_ipv4_response(void **state)
{
    lc_stun_msg_t m;
    const struct sockaddr_in *sin = (const struct sockaddr_in *)&m.xor_mapped;

    (void)state;
    parse_ok(resp4, sizeof resp4, &m);
    assert_int_equal(m.type, LC_STUN_BINDING_SUCCESS);
    assert_int_equal(LC_STUN_CLASS(m.type), LC_STUN_CLASS_SUCCESS);
    assert_true(m.has_xor_mapped);
    assert_int_equal(sin->sin_family, AF_INET);
    assert_int_equal(ntohs(sin->sin_port), 32853);
    assert_int_equal(ntohl(sin->sin_addr.s_addr), 0xc0000201);   /* 192.0.2.1 */
    assert_null(m.username);
    checks_ok(resp4, sizeof resp4, &m);
}

static void test_rfc5769_ipv6_response(void **state)
{
    lc_stun_msg_t m;
    const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)&m.xor_mapped;
    struct in6_addr want;

    (void)state;
    assert_int_equal(inet_pton(AF_INET6, "2001:db8:1234:5678:11:2233:4455:6677", &want), 1);
    parse_ok(resp6, sizeof resp6, &m);
    assert_int_equal(m.type, LC_STUN_BINDING_SUCCESS);
    assert_true(m.has_xor_mapped);
    assert_int_equal(sin6->sin6_family, AF_INET6);
    assert_int_equal(ntohs(sin6->sin6_port), 32853);
    assert_memory_equal(&sin6->sin6_addr, &want, 16);
    checks_ok(resp6, sizeof resp6, &m);
}

/* Our builder, given the vector's address, writes the vector's attribute. */
static void test_rfc5769_rebuilt(void **state)
{
    struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(32853) };
    struct sockaddr_in6 sin6 = { .sin6_family = AF_INET6, .sin6_port = htons(32853) };
    uint8_t out[128];
    size_t n;

    (void)state;
    sin.sin_addr.s_addr = htonl(0xc0000201);
    n = lc_stun_build_binding_success(out, sizeof out, txid, (struct sockaddr *)&sin, pw, PWLEN);
    assert_int_equal(n, 20 + 12 + 24 + 8);
    assert_memory_equal(out + 20, resp4 + 36, 12);
    assert_int_equal(inet_pton(AF_INET6, "2001:db8:1234:5678:11:2233:4455:6677", &sin6.sin6_addr), 1);
    n = lc_stun_build_binding_success(out, sizeof out, txid, (struct sockaddr *)&sin6, pw, PWLEN);
    assert_int_equal(n, 20 + 24 + 24 + 8);
    assert_memory_equal(out + 20, resp6 + 36, 24);
}

/* ----------------------------------------------- invariants on vectors */

/* Each proper prefix fails to parse. With the length field patched to the
 * prefix, a cut at an attribute boundary is a shorter valid message, but
 * never one whose integrity and fingerprint both still check. */
static void test_truncations(void **state)
{
    (void)state;
    for (size_t v = 0; v < sizeof vectors / sizeof vectors[0]; v++) {
        const uint8_t *p = vectors[v].p;
        size_t n = vectors[v].n;

        for (size_t cut = 0; cut < n; cut++) {
            uint8_t b[256];
            lc_stun_msg_t m;
            const char *err = NULL;

            parse_fails(p, cut, NULL);
            memcpy(b, p, n);
            if (cut >= 20)
                put16(b + 2, (unsigned)(cut - 20));
            if (lc_stun_parse(b, cut, &m, &err) == 0) {
                assert_int_equal(cut % 4, 0);
                assert_int_equal(lc_stun_check_fingerprint(b, cut, &m), 0);
                assert_int_equal(lc_stun_check_integrity(b, cut, &m, pw, PWLEN),
                                 cut == n - 8 ? 1 : 0);
            } else {
                assert_non_null(err);
            }
        }
    }
}

static void test_flipped_bits(void **state)
{
    (void)state;
    for (size_t v = 0; v < sizeof vectors / sizeof vectors[0]; v++) {
        const uint8_t *p = vectors[v].p;
        size_t n = vectors[v].n, mi_end = n - 8;

        for (size_t bit = 0; bit < n * 8; bit++) {
            uint8_t b[256];
            lc_stun_msg_t m;

            memcpy(b, p, n);
            b[bit / 8] ^= (uint8_t)(1u << (bit % 8));
            if (lc_stun_parse(b, n, &m, NULL) < 0)
                continue;
            if (bit / 8 < mi_end)
                assert_int_equal(lc_stun_check_integrity(b, n, &m, pw, PWLEN), 0);
            if (bit / 8 < n - 8 || bit / 8 >= n - 4)   /* not in the FP header */
                assert_int_equal(lc_stun_check_fingerprint(b, n, &m), 0);
            assert_false(lc_stun_check_integrity(b, n, &m, pw, PWLEN)
                         && lc_stun_check_fingerprint(b, n, &m));
        }
    }
}

/* ---------------------------------------------------------- builders */

static void test_request_roundtrip(void **state)
{
    static const struct { int controlling, use; uint64_t tb; uint32_t prio; } cases[] = {
        { 1, 1, 0x0123456789abcdefull, 0x6e7f1eff },
        { 1, 0, 0, 1 },
        { 0, 0, ~0ull, 0xffffffffu },
        { -1, 1, 5, 0 },
    };
    uint8_t out[256];

    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        lc_stun_msg_t m;
        size_t n = lc_stun_build_binding_request(out, sizeof out, txid, "srvufrag:cli", pw, PWLEN,
                                                 cases[i].prio, cases[i].controlling,
                                                 cases[i].tb, cases[i].use);
        assert_true(n > 0 && n % 4 == 0);
        parse_ok(out, n, &m);
        assert_int_equal(m.type, LC_STUN_BINDING_REQUEST);
        assert_memory_equal(m.txid, txid, 12);
        assert_int_equal(m.username_len, 12);
        assert_memory_equal(m.username, "srvufrag:cli", 12);
        assert_true(m.has_priority);
        assert_int_equal(m.priority, cases[i].prio);
        assert_int_equal(m.ice_controlling, cases[i].controlling == 1);
        assert_int_equal(m.ice_controlled, cases[i].controlling == 0);
        assert_true(m.tiebreaker == (cases[i].controlling >= 0 ? cases[i].tb : 0));
        assert_int_equal(m.use_candidate, cases[i].use);
        checks_ok(out, n, &m);
        assert_int_equal(m.fingerprint_at, n - 8);
        assert_int_equal(m.integrity_at, n - 32);
    }

    /* no key: no MESSAGE-INTEGRITY, still a FINGERPRINT; no username */
    {
        lc_stun_msg_t m;
        size_t n = lc_stun_build_binding_request(out, sizeof out, txid, NULL, NULL, 0, 7, 1, 9, 0);

        assert_int_equal(n, 20 + 12 + 8 + 8);
        parse_ok(out, n, &m);
        assert_false(m.has_integrity);
        assert_null(m.username);
        assert_int_equal(lc_stun_check_integrity(out, n, &m, pw, PWLEN), 0);
        assert_int_equal(lc_stun_check_fingerprint(out, n, &m), 1);
    }

    /* a username of the maximum size fits, one byte more does not */
    {
        char u[LC_STUN_MAX_USERNAME + 2];
        uint8_t big[1024];
        lc_stun_msg_t m;
        size_t n;

        memset(u, 'a', sizeof u);
        u[LC_STUN_MAX_USERNAME] = '\0';
        n = lc_stun_build_binding_request(big, sizeof big, txid, u, pw, PWLEN, 1, 1, 1, 1);
        assert_true(n > 0);
        parse_ok(big, n, &m);
        assert_int_equal(m.username_len, LC_STUN_MAX_USERNAME);
        checks_ok(big, n, &m);
        u[LC_STUN_MAX_USERNAME] = 'a';
        u[LC_STUN_MAX_USERNAME + 1] = '\0';
        assert_int_equal(lc_stun_build_binding_request(big, sizeof big, txid, u, pw, PWLEN, 1, 1, 1, 1), 0);
    }
}

static void test_success_roundtrip(void **state)
{
    static const char *v6[] = { "::1", "fe80::1:2:3:4", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff" };
    static const uint16_t ports[] = { 0, 1, 0x2112, 65535 };
    uint8_t out[128];

    (void)state;
    for (size_t p = 0; p < sizeof ports / sizeof ports[0]; p++) {
        struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(ports[p]) };
        const struct sockaddr_in *got4;
        lc_stun_msg_t m;
        size_t n;

        sin.sin_addr.s_addr = htonl(0x0a000001u + (uint32_t)p * 0x01010101u);
        n = lc_stun_build_binding_success(out, sizeof out, txid, (struct sockaddr *)&sin, pw, PWLEN);
        assert_int_equal(n, 64);
        parse_ok(out, n, &m);
        got4 = (const struct sockaddr_in *)&m.xor_mapped;
        assert_int_equal(m.type, LC_STUN_BINDING_SUCCESS);
        assert_true(m.has_xor_mapped);
        assert_int_equal(got4->sin_family, AF_INET);
        assert_int_equal(got4->sin_port, sin.sin_port);
        assert_int_equal(got4->sin_addr.s_addr, sin.sin_addr.s_addr);
        checks_ok(out, n, &m);

        for (size_t a = 0; a < sizeof v6 / sizeof v6[0]; a++) {
            struct sockaddr_in6 sin6 = { .sin6_family = AF_INET6, .sin6_port = htons(ports[p]) };
            const struct sockaddr_in6 *got6 = (const struct sockaddr_in6 *)&m.xor_mapped;

            assert_int_equal(inet_pton(AF_INET6, v6[a], &sin6.sin6_addr), 1);
            n = lc_stun_build_binding_success(out, sizeof out, txid, (struct sockaddr *)&sin6, pw, PWLEN);
            assert_int_equal(n, 76);
            parse_ok(out, n, &m);
            assert_int_equal(got6->sin6_family, AF_INET6);
            assert_int_equal(got6->sin6_port, sin6.sin6_port);
            assert_memory_equal(&got6->sin6_addr, &sin6.sin6_addr, 16);
            checks_ok(out, n, &m);
        }
    }
}

/* A dual-stack socket's ::ffff:a.b.c.d peer is answered as IPv4. */
static void test_success_v4mapped(void **state)
{
    struct sockaddr_in6 sin6 = { .sin6_family = AF_INET6, .sin6_port = htons(5000) };
    const struct sockaddr_in *got = NULL;
    struct sockaddr sa = { .sa_family = AF_UNIX };
    lc_stun_msg_t m;
    uint8_t out[128];
    size_t n;

    (void)state;
    assert_int_equal(inet_pton(AF_INET6, "::ffff:198.51.100.7", &sin6.sin6_addr), 1);
    n = lc_stun_build_binding_success(out, sizeof out, txid, (struct sockaddr *)&sin6, pw, PWLEN);
    assert_int_equal(n, 64);
    parse_ok(out, n, &m);
    got = (const struct sockaddr_in *)&m.xor_mapped;
    assert_int_equal(got->sin_family, AF_INET);
    assert_int_equal(ntohs(got->sin_port), 5000);
    assert_int_equal(ntohl(got->sin_addr.s_addr), 0xc6336407);

    assert_int_equal(lc_stun_build_binding_success(out, sizeof out, txid, &sa, pw, PWLEN), 0);
    assert_int_equal(lc_stun_build_binding_success(out, sizeof out, txid, NULL, pw, PWLEN), 0);
}

static void test_error_roundtrip(void **state)
{
    static const struct { int code; const char *reason, *want; int keyed; } cases[] = {
        { 400, NULL, "Bad Request", 0 },
        { 401, NULL, "Unauthenticated", 0 },
        { 487, NULL, "Role Conflict", 1 },
        { 500, "", "", 1 },
        { 699, "custom reason", "custom reason", 0 },
        { 300, "xyz", "xyz", 1 },
        { 451, NULL, "", 0 },
    };
    uint8_t out[1024];

    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        lc_stun_msg_t m;
        size_t n = lc_stun_build_error(out, sizeof out, txid, cases[i].code, cases[i].reason,
                                       cases[i].keyed ? pw : NULL, PWLEN);

        assert_true(n > 0 && n % 4 == 0);
        parse_ok(out, n, &m);
        assert_int_equal(m.type, LC_STUN_BINDING_ERROR);
        assert_int_equal(LC_STUN_CLASS(m.type), LC_STUN_CLASS_ERROR);
        assert_int_equal(m.error_code, cases[i].code);
        assert_int_equal(m.reason_len, strlen(cases[i].want));
        assert_memory_equal(m.reason, cases[i].want, m.reason_len);
        assert_int_equal(m.has_integrity, cases[i].keyed);
        assert_int_equal(lc_stun_check_integrity(out, n, &m, pw, PWLEN), cases[i].keyed);
        assert_int_equal(lc_stun_check_fingerprint(out, n, &m), 1);
    }

    /* out of range */
    {
        char longr[LC_STUN_MAX_REASON + 2];

        assert_int_equal(lc_stun_build_error(out, sizeof out, txid, 299, NULL, NULL, 0), 0);
        assert_int_equal(lc_stun_build_error(out, sizeof out, txid, 700, NULL, NULL, 0), 0);
        assert_int_equal(lc_stun_build_error(out, sizeof out, txid, -400, NULL, NULL, 0), 0);
        memset(longr, 'r', sizeof longr);
        longr[LC_STUN_MAX_REASON] = '\0';
        assert_true(lc_stun_build_error(out, sizeof out, txid, 400, longr, pw, PWLEN) > 0);
        longr[LC_STUN_MAX_REASON] = 'r';
        longr[LC_STUN_MAX_REASON + 1] = '\0';
        assert_int_equal(lc_stun_build_error(out, sizeof out, txid, 400, longr, pw, PWLEN), 0);
    }
}

static void test_unknown_attributes_roundtrip(void **state)
{
    msg_t in;
    lc_stun_msg_t m, r;
    uint8_t out[128];
    size_t n;
    const uint8_t *u;

    (void)state;
    mk_header(&in, LC_STUN_BINDING_REQUEST);
    add_attr(&in, 0x0006, "a:b", 3, 0);
    add_attr(&in, 0x7777, "xx", 2, 0);      /* comprehension-required: unknown */
    add_attr(&in, 0xc001, "yy", 2, 0);      /* optional: ignored */
    add_attr(&in, 0x001c, NULL, 0, 0);      /* MESSAGE-INTEGRITY-SHA256: not ours */
    add_mi(&in);
    add_attr(&in, 0x7778, NULL, 0, 0);      /* after M-I: ignored, not listed */
    add_fp(&in);
    parse_ok(in.b, in.n, &m);
    checks_ok(in.b, in.n, &m);
    assert_int_equal(m.n_unknown, 2);
    assert_int_equal(m.unknown[0], 0x7777);
    assert_int_equal(m.unknown[1], 0x001c);

    n = lc_stun_build_unknown_attributes(out, sizeof out, m.txid, m.unknown, m.n_unknown, pw, PWLEN);
    assert_true(n > 0);
    parse_ok(out, n, &r);
    assert_int_equal(r.error_code, 420);
    assert_memory_equal(r.reason, "Unknown Attribute", r.reason_len);
    checks_ok(out, n, &r);
    /* the UNKNOWN-ATTRIBUTES value follows ERROR-CODE (4 + 4 + 17 + 3 pad) */
    u = out + 20 + 28;
    assert_int_equal(u[0] << 8 | u[1], 0x000a);
    assert_int_equal(u[2] << 8 | u[3], 4);
    assert_int_equal(u[4] << 8 | u[5], 0x7777);
    assert_int_equal(u[6] << 8 | u[7], 0x001c);

    assert_int_equal(lc_stun_build_unknown_attributes(out, sizeof out, txid, NULL, 1, NULL, 0), 0);
    assert_int_equal(lc_stun_build_unknown_attributes(out, sizeof out, txid, m.unknown, 0, NULL, 0), 0);

    /* more unknowns than remembered: all counted, the first listed */
    mk_header(&in, LC_STUN_BINDING_REQUEST);
    for (unsigned t = 0; t < LC_STUN_MAX_UNKNOWN + 3; t++)
        add_attr(&in, 0x4000 + t, NULL, 0, 0);
    parse_ok(in.b, in.n, &m);
    assert_int_equal(m.n_unknown, LC_STUN_MAX_UNKNOWN + 3);
    for (unsigned t = 0; t < LC_STUN_MAX_UNKNOWN; t++)
        assert_int_equal(m.unknown[t], 0x4000 + t);
}

/* Every builder returns 0 for every cap below what it needs, the length
 * at exactly what it needs, and never writes at or beyond cap. */
static void test_builders_cap(void **state)
{
    struct sockaddr_in6 sin6 = { .sin6_family = AF_INET6, .sin6_port = htons(9) };
    uint16_t unk[3] = { 1, 2, 3 };

    (void)state;
    for (int which = 0; which < 4; which++) {
        uint8_t full[256], out[256 + 16];
        size_t need = 0;

        for (size_t cap = 0; cap <= sizeof full; cap++) {
            size_t n = 0;

            memset(out, 0xa5, sizeof out);
            switch (which) {
            case 0:
                n = lc_stun_build_binding_success(out, cap, txid, (struct sockaddr *)&sin6, pw, PWLEN);
                break;
            case 1:
                n = lc_stun_build_binding_request(out, cap, txid, "abcd:efgh", pw, PWLEN, 1, 1, 2, 1);
                break;
            case 2:
                n = lc_stun_build_error(out, cap, txid, 401, NULL, pw, PWLEN);
                break;
            default:
                n = lc_stun_build_unknown_attributes(out, cap, txid, unk, 3, NULL, 0);
                break;
            }
            for (size_t i = cap; i < sizeof out; i++)
                assert_int_equal(out[i], 0xa5);
            if (need == 0 && n == 0)
                continue;
            if (need == 0) {
                need = n;
                assert_int_equal(n, cap);
                memcpy(full, out, n);
            } else {
                assert_int_equal(n, need);
                assert_memory_equal(out, full, n);
            }
        }
        assert_true(need > 0);
    }
}

/* --------------------------------------------------------- parse errors */

static void test_header_errors(void **state)
{
    msg_t in;
    uint8_t b[128];

    (void)state;
    mk_header(&in, LC_STUN_BINDING_REQUEST);
    parse_ok(in.b, in.n, &(lc_stun_msg_t){ 0 });     /* bare header: valid */

    memcpy(b, in.b, 20);
    b[0] |= 0x40;
    parse_fails(b, 20, "not STUN");
    memcpy(b, in.b, 20);
    b[5] ^= 1;
    parse_fails(b, 20, "not STUN");

    /* length field: not a multiple of 4, more or less than the datagram */
    mk_header(&in, LC_STUN_BINDING_REQUEST);
    add_attr(&in, 0x0024, "\0\0\0\1", 4, 0);
    memcpy(b, in.b, in.n);
    put16(b + 2, 6);
    parse_fails(b, in.n, "multiple of 4");
    put16(b + 2, 4);
    parse_fails(b, in.n, "does not match");
    put16(b + 2, 12);
    parse_fails(b, in.n, "does not match");
    memset(b + in.n, 0, 4);                              /* trailing bytes */
    put16(b + 2, 8);
    parse_fails(b, in.n + 4, "does not match");
}

static void test_bad_attribute_lengths(void **state)
{
    static const uint8_t zeros[800];
    static const struct { unsigned type; size_t n; const char *why; } cases[] = {
        { 0x0024, 3, "PRIORITY" }, { 0x0024, 8, "PRIORITY" },
        { 0x0025, 4, "USE-CANDIDATE" },
        { 0x8029, 4, "ICE-CONTROLL" }, { 0x802a, 12, "ICE-CONTROLL" },
        { 0x0008, 19, "MESSAGE-INTEGRITY" }, { 0x0008, 32, "MESSAGE-INTEGRITY" },
        { 0x8028, 8, "FINGERPRINT" }, { 0x8028, 0, "FINGERPRINT" },
        { 0x0009, 3, "ERROR-CODE" },
        { 0x0009, 4 + LC_STUN_MAX_REASON + 1, "ERROR-CODE" },
        { 0x0020, 2, "XOR-MAPPED" },
        { 0x0006, LC_STUN_MAX_USERNAME + 1, "USERNAME" },
    };
    msg_t in;

    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        mk_header(&in, LC_STUN_BINDING_REQUEST);
        add_attr(&in, cases[i].type, zeros, cases[i].n, 0);
        parse_fails(in.b, in.n, cases[i].why);
    }

    /* an attribute length that runs past the end, with the field still a
     * multiple of 4 and the header length right */
    mk_header(&in, LC_STUN_BINDING_REQUEST);
    add_attr(&in, 0x0006, "abcdefgh", 8, 0);
    put16(in.b + 22, 9);
    parse_fails(in.b, in.n, "past the end");
    put16(in.b + 22, 0xffff);
    parse_fails(in.b, in.n, "past the end");

    /* address families and sizes */
    {
        static const uint8_t fam3[8] = { 0, 3 }, v4long[20] = { 0, 1 }, v6short[8] = { 0, 2 };

        mk_header(&in, LC_STUN_BINDING_SUCCESS);
        add_attr(&in, 0x0020, fam3, 8, 0);
        parse_fails(in.b, in.n, "family");
        mk_header(&in, LC_STUN_BINDING_SUCCESS);
        add_attr(&in, 0x0020, v4long, 20, 0);
        parse_fails(in.b, in.n, "IPv4");
        mk_header(&in, LC_STUN_BINDING_SUCCESS);
        add_attr(&in, 0x0020, v6short, 8, 0);
        parse_fails(in.b, in.n, "IPv6");
    }

    /* ERROR-CODE class and number */
    {
        static const uint8_t c2[4] = { 0, 0, 2, 0 }, c7[4] = { 0, 0, 7, 0 }, n100[4] = { 0, 0, 4, 100 };
        static const uint8_t ok[4] = { 0xff, 0xff, 0xfc, 99 };   /* reserved bits ignored */
        lc_stun_msg_t m;

        mk_header(&in, LC_STUN_BINDING_ERROR);
        add_attr(&in, 0x0009, c2, 4, 0);
        parse_fails(in.b, in.n, "ERROR-CODE");
        mk_header(&in, LC_STUN_BINDING_ERROR);
        add_attr(&in, 0x0009, c7, 4, 0);
        parse_fails(in.b, in.n, "ERROR-CODE");
        mk_header(&in, LC_STUN_BINDING_ERROR);
        add_attr(&in, 0x0009, n100, 4, 0);
        parse_fails(in.b, in.n, "ERROR-CODE");
        mk_header(&in, LC_STUN_BINDING_ERROR);
        add_attr(&in, 0x0009, ok, 4, 0);
        parse_ok(in.b, in.n, &m);
        assert_int_equal(m.error_code, 499);
        assert_int_equal(m.reason_len, 0);
    }

    /* the largest legal USERNAME */
    {
        lc_stun_msg_t m;

        mk_header(&in, LC_STUN_BINDING_REQUEST);
        add_attr(&in, 0x0006, zeros, LC_STUN_MAX_USERNAME, 0);
        parse_ok(in.b, in.n, &m);
        assert_int_equal(m.username_len, LC_STUN_MAX_USERNAME);
    }
}

static void test_padding(void **state)
{
    msg_t in;
    lc_stun_msg_t m;

    (void)state;
    /* padding may hold anything and is covered by M-I and FINGERPRINT */
    for (unsigned n = 0; n <= 8; n++) {
        mk_header(&in, LC_STUN_BINDING_REQUEST);
        add_attr(&in, 0x0006, "abcdefgh", n, 0xee);
        add_attr(&in, 0x8022, "sw", 2, 0x55);
        add_mi(&in);
        add_fp(&in);
        parse_ok(in.b, in.n, &m);
        assert_int_equal(m.username_len, n);
        assert_memory_equal(m.username, "abcdefgh", n);
        checks_ok(in.b, in.n, &m);
    }

    /* an unpadded last attribute: length field not a multiple of 4 */
    mk_header(&in, LC_STUN_BINDING_REQUEST);
    add_attr(&in, 0x0006, "abcde", 5, 0);
    in.n -= 3;
    set_len(&in);
    parse_fails(in.b, in.n, "multiple of 4");

    /* unpadded in the middle: the walk reads the next header misaligned.
     * TLV framing cannot tell; what it finds is either garbage that runs
     * past the end or unknown attributes, never the PRIORITY */
    for (int big = 0; big < 2; big++) {
        mk_header(&in, LC_STUN_BINDING_REQUEST);
        add_attr(&in, 0x0006, "abcde", 5, 0);
        add_attr(&in, 0x0024, big ? "\xff\xff\xff\xff" : "\0\0\0\1", 4, 0);
        memmove(in.b + 29, in.b + 32, 8);
        memset(in.b + 37, 0, 3);
        set_len(&in);
        if (big) {
            parse_fails(in.b, in.n, "past the end");
        } else {
            parse_ok(in.b, in.n, &m);
            assert_false(m.has_priority);
            assert_int_equal(m.n_unknown, 2);
        }
    }
}

static void test_attribute_order(void **state)
{
    msg_t in;
    lc_stun_msg_t m;

    (void)state;
    /* anything after FINGERPRINT is an error, even another FINGERPRINT */
    mk_header(&in, LC_STUN_BINDING_REQUEST);
    add_fp(&in);
    add_attr(&in, 0x0024, "\0\0\0\1", 4, 0);
    parse_fails(in.b, in.n, "after FINGERPRINT");
    mk_header(&in, LC_STUN_BINDING_REQUEST);
    add_fp(&in);
    add_attr(&in, 0xc001, NULL, 0, 0);
    parse_fails(in.b, in.n, "after FINGERPRINT");
    mk_header(&in, LC_STUN_BINDING_REQUEST);
    add_fp(&in);
    add_fp(&in);
    parse_fails(in.b, in.n, "after FINGERPRINT");
    mk_header(&in, LC_STUN_BINDING_REQUEST);
    add_fp(&in);
    add_mi(&in);
    parse_fails(in.b, in.n, "after FINGERPRINT");

    /* between M-I and FINGERPRINT: ignored, even when malformed; M-I still
     * verifies because it never covered them */
    mk_header(&in, LC_STUN_BINDING_REQUEST);
    add_attr(&in, 0x0006, "u:v", 3, 0);
    add_mi(&in);
    add_attr(&in, 0x0024, "\0\0\0\7", 4, 0);
    add_attr(&in, 0x0025, "bad", 3, 0);
    add_attr(&in, 0x0008, "short", 5, 0);
    {
        size_t at = in.n;

        add_fp(&in);
        parse_ok(in.b, in.n, &m);
        assert_false(m.has_priority);
        assert_false(m.use_candidate);
        assert_int_equal(m.integrity_at, 20 + 8);
        assert_int_equal(m.fingerprint_at, at);
        checks_ok(in.b, in.n, &m);
    }

    /* FINGERPRINT without M-I, M-I without FINGERPRINT */
    mk_header(&in, LC_STUN_BINDING_INDICATION);
    add_fp(&in);
    parse_ok(in.b, in.n, &m);
    assert_false(m.has_integrity);
    assert_int_equal(lc_stun_check_fingerprint(in.b, in.n, &m), 1);
    assert_int_equal(lc_stun_check_integrity(in.b, in.n, &m, pw, PWLEN), 0);
    mk_header(&in, LC_STUN_BINDING_REQUEST);
    add_mi(&in);
    parse_ok(in.b, in.n, &m);
    assert_false(m.has_fingerprint);
    assert_int_equal(lc_stun_check_integrity(in.b, in.n, &m, pw, PWLEN), 1);
    assert_int_equal(lc_stun_check_fingerprint(in.b, in.n, &m), 0);
}

static void test_duplicates_first_counts(void **state)
{
    msg_t in;
    lc_stun_msg_t m;
    uint8_t tb1[8] = { 1, 2, 3, 4, 5, 6, 7, 8 }, tb2[8] = { 9 };

    (void)state;
    mk_header(&in, LC_STUN_BINDING_REQUEST);
    add_attr(&in, 0x0006, "first:x", 7, 0);
    add_attr(&in, 0x0006, "second:y", 8, 0);
    add_attr(&in, 0x0024, "\0\0\0\1", 4, 0);
    add_attr(&in, 0x0024, "\0\0\0\2", 4, 0);
    add_attr(&in, 0x802a, tb1, 8, 0);
    add_attr(&in, 0x8029, tb2, 8, 0);
    add_attr(&in, 0x0025, NULL, 0, 0);
    add_attr(&in, 0x0025, NULL, 0, 0);
    parse_ok(in.b, in.n, &m);
    assert_memory_equal(m.username, "first:x", 7);
    assert_int_equal(m.priority, 1);
    assert_true(m.ice_controlling && m.ice_controlled);   /* the caller's 400 to send */
    assert_true(m.tiebreaker == 0x0102030405060708ull);
    assert_true(m.use_candidate);
}

/* -------------------------------------------------- demux, checks, misc */

static void test_is_stun(void **state)
{
    uint8_t b[20];

    (void)state;
    memcpy(b, req, 20);
    assert_true(lc_stun_is_stun(b, 20));
    assert_false(lc_stun_is_stun(b, 19));
    assert_false(lc_stun_is_stun(b, 0));
    for (unsigned first = 0; first < 256; first++) {
        b[0] = (uint8_t)first;
        /* RFC 7983: 0-3 STUN, 20-63 DTLS, 128-191 RTP/RTCP */
        assert_int_equal(lc_stun_is_stun(b, 20), first < 4);
    }
    b[0] = 0;
    b[7] ^= 0x80;
    assert_false(lc_stun_is_stun(b, 20));
}

/* The checks re-derive offsets from the bytes, so a stale or forged
 * message struct can only make them fail. */
static void test_checks_forged_msg(void **state)
{
    lc_stun_msg_t m, f;

    (void)state;
    parse_ok(req, sizeof req, &m);
    f = m;
    f.integrity_at = sizeof req - 20;
    assert_int_equal(lc_stun_check_integrity(req, sizeof req, &f, pw, PWLEN), 0);
    f.integrity_at = (size_t)-1;
    assert_int_equal(lc_stun_check_integrity(req, sizeof req, &f, pw, PWLEN), 0);
    f.integrity_at = 4;
    assert_int_equal(lc_stun_check_integrity(req, sizeof req, &f, pw, PWLEN), 0);
    f.integrity_at = 20;
    assert_int_equal(lc_stun_check_integrity(req, sizeof req, &f, pw, PWLEN), 0);
    f = m;
    f.has_integrity = 0;
    assert_int_equal(lc_stun_check_integrity(req, sizeof req, &f, pw, PWLEN), 0);
    assert_int_equal(lc_stun_check_integrity(req, 80, &m, pw, PWLEN), 0);

    f = m;
    f.fingerprint_at = 80;
    assert_int_equal(lc_stun_check_fingerprint(req, sizeof req, &f), 0);
    f.fingerprint_at = (size_t)-4;
    assert_int_equal(lc_stun_check_fingerprint(req, sizeof req, &f), 0);
    f.fingerprint_at = 0;
    assert_int_equal(lc_stun_check_fingerprint(req, sizeof req, &f), 0);
    f = m;
    f.has_fingerprint = 0;
    assert_int_equal(lc_stun_check_fingerprint(req, sizeof req, &f), 0);
    assert_int_equal(lc_stun_check_fingerprint(req, sizeof req - 4, &m), 0);
    /* the same message struct against a different message */
    assert_int_equal(lc_stun_check_fingerprint(resp4, sizeof resp4, &m), 0);
    assert_int_equal(lc_stun_check_integrity(resp4, sizeof resp4, &m, pw, PWLEN), 0);
}

static void test_username_split(void **state)
{
    static const struct { const char *u; int rc; size_t llen, rlen; } cases[] = {
        { "abc:de", 0, 3, 2 }, { "a:b", 0, 1, 1 },
        { "", -1, 0, 0 }, { ":", -1, 0, 0 }, { "abc", -1, 0, 0 }, { ":abc", -1, 0, 0 },
        { "abc:", -1, 0, 0 }, { "a:b:c", -1, 0, 0 }, { "a::b", -1, 0, 0 },
    };

    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const uint8_t *u = (const uint8_t *)cases[i].u, *l = NULL, *r = NULL;
        size_t llen = 99, rlen = 99;
        int rc = lc_stun_username_split(u, strlen(cases[i].u), &l, &llen, &r, &rlen);

        assert_int_equal(rc, cases[i].rc);
        if (rc == 0) {
            assert_ptr_equal(l, u);
            assert_int_equal(llen, cases[i].llen);
            assert_ptr_equal(r, u + llen + 1);
            assert_int_equal(rlen, cases[i].rlen);
            assert_int_equal(lc_stun_username_split(u, strlen(cases[i].u), &l, &llen, NULL, NULL), 0);
        }
    }
    /* a NUL is just a byte; the length decides */
    {
        const uint8_t *l;
        size_t llen;

        assert_int_equal(lc_stun_username_split((const uint8_t *)"ab\0:c", 5, &l, &llen, NULL, NULL), 0);
        assert_int_equal(llen, 3);
        assert_int_equal(lc_stun_username_split(NULL, 0, &l, &llen, NULL, NULL), -1);
    }
}

static void test_txid_new(void **state)
{
    uint8_t a[12], b[12];

    (void)state;
    assert_int_equal(lc_stun_txid_new(a), 0);
    assert_int_equal(lc_stun_txid_new(b), 0);
    assert_memory_not_equal(a, b, 12);
}

static void test_method_class_macros(void **state)
{
    (void)state;
    assert_int_equal(LC_STUN_METHOD(LC_STUN_BINDING_REQUEST), 1);
    assert_int_equal(LC_STUN_METHOD(LC_STUN_BINDING_INDICATION), 1);
    assert_int_equal(LC_STUN_METHOD(LC_STUN_BINDING_SUCCESS), 1);
    assert_int_equal(LC_STUN_METHOD(LC_STUN_BINDING_ERROR), 1);
    assert_int_equal(LC_STUN_CLASS(LC_STUN_BINDING_INDICATION), LC_STUN_CLASS_INDICATION);
    /* TURN Allocate (0x003) request 0x0003, success 0x0103; method 0xfff */
    assert_int_equal(LC_STUN_METHOD(0x0103), 3);
    assert_int_equal(LC_STUN_METHOD(0x3eef), 0xfff);
    assert_int_equal(LC_STUN_CLASS(0x3eef), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rfc5769_request),
        cmocka_unit_test(test_rfc5769_ipv4_response),
        cmocka_unit_test(test_rfc5769_ipv6_response),
        cmocka_unit_test(test_rfc5769_rebuilt),
        cmocka_unit_test(test_truncations),
        cmocka_unit_test(test_flipped_bits),
        cmocka_unit_test(test_request_roundtrip),
        cmocka_unit_test(test_success_roundtrip),
        cmocka_unit_test(test_success_v4mapped),
        cmocka_unit_test(test_error_roundtrip),
        cmocka_unit_test(test_unknown_attributes_roundtrip),
        cmocka_unit_test(test_builders_cap),
        cmocka_unit_test(test_header_errors),
        cmocka_unit_test(test_bad_attribute_lengths),
        cmocka_unit_test(test_padding),
        cmocka_unit_test(test_attribute_order),
        cmocka_unit_test(test_duplicates_first_counts),
        cmocka_unit_test(test_is_stun),
        cmocka_unit_test(test_checks_forged_msg),
        cmocka_unit_test(test_username_split),
        cmocka_unit_test(test_txid_new),
        cmocka_unit_test(test_method_class_macros),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
