/*
 * fuzz_stun.c: libFuzzer target for src/common/webrtc/stun.c.
 *
 * The input is one UDP datagram, as the ICE-lite server's demux sees it.
 * When it parses, both checks run under a fixed key (the RFC 5769
 * password, so the seed vectors pass them), and what a server would answer
 * is built from the parsed fields and parsed back. Invariants checked
 * besides "no sanitizer report": a failed parse gives a reason; a parsed
 * message passed the demux test and every offset and pointer in it lies
 * inside the datagram; parsing is deterministic; every proper prefix fails;
 * builders fed the parsed values write messages that parse back to them
 * and pass both checks.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <netinet/in.h>

#include "common/webrtc/stun.h"

#define CHECK(x) do { if (!(x)) abort(); } while (0)

static const uint8_t key[] = "VOkJxbRl1RmTxUk/WvJxBt";
#define KEYLEN (sizeof key - 1)

static int inside(const uint8_t *p, size_t n, const uint8_t *buf, size_t len)
{
    return p >= buf && n <= len && (size_t)(p - buf) <= len - n;
}

static void check_fields(const uint8_t *buf, size_t len, const lc_stun_msg_t *m)
{
    CHECK(lc_stun_is_stun(buf, len));
    CHECK(len % 4 == 0);
    CHECK(memcmp(m->txid, buf + 8, LC_STUN_TXID_LEN) == 0);
    if (m->has_integrity)
        CHECK(m->integrity_at >= LC_STUN_HEADER_LEN && m->integrity_at + 24 <= len);
    if (m->has_fingerprint)
        CHECK(m->fingerprint_at + 8 == len && m->fingerprint_at >= LC_STUN_HEADER_LEN);
    if (m->has_integrity && m->has_fingerprint)
        CHECK(m->integrity_at + 24 <= m->fingerprint_at);
    if (m->username != NULL)
        CHECK(inside(m->username, m->username_len, buf, len)
              && m->username_len <= LC_STUN_MAX_USERNAME);
    if (m->error_code != 0)
        CHECK(m->error_code >= 300 && m->error_code <= 699
              && inside(m->reason, m->reason_len, buf, len) && m->reason_len <= LC_STUN_MAX_REASON);
    if (m->has_xor_mapped)
        CHECK(m->xor_mapped.ss_family == AF_INET || m->xor_mapped.ss_family == AF_INET6);
    for (size_t i = 0; i < m->n_unknown && i < LC_STUN_MAX_UNKNOWN; i++)
        CHECK(m->unknown[i] < 0x8000);
}

static void parse_back(const uint8_t *out, size_t n, lc_stun_msg_t *r, int keyed)
{
    const char *err = NULL;

    CHECK(n > 0);
    CHECK(lc_stun_parse(out, n, r, &err) == 0);
    CHECK(lc_stun_check_fingerprint(out, n, r) == 1);
    CHECK(lc_stun_check_integrity(out, n, r, key, KEYLEN) == keyed);
}

/* What an ICE-lite server (success, errors) and a client (request) would
 * send with these values. */
static void check_builders(const lc_stun_msg_t *m)
{
    uint8_t out[1024];
    lc_stun_msg_t r;
    size_t n;

    if (m->has_xor_mapped) {
        n = lc_stun_build_binding_success(out, sizeof out, m->txid,
                                          (const struct sockaddr *)&m->xor_mapped, key, KEYLEN);
        parse_back(out, n, &r, 1);
        CHECK(r.has_xor_mapped && r.xor_mapped.ss_family == m->xor_mapped.ss_family);
        if (m->xor_mapped.ss_family == AF_INET) {
            const struct sockaddr_in *a = (const void *)&m->xor_mapped, *b = (const void *)&r.xor_mapped;
            CHECK(a->sin_port == b->sin_port && a->sin_addr.s_addr == b->sin_addr.s_addr);
        } else {
            const struct sockaddr_in6 *a = (const void *)&m->xor_mapped, *b = (const void *)&r.xor_mapped;
            static const uint8_t v4mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
            /* ::ffff:a.b.c.d comes back as IPv4 (see the builder) */
            if (memcmp(a->sin6_addr.s6_addr, v4mapped, 12) != 0)
                CHECK(a->sin6_port == b->sin6_port
                      && memcmp(&a->sin6_addr, &b->sin6_addr, 16) == 0);
        }
    }

    if (m->username != NULL && memchr(m->username, '\0', m->username_len) == NULL) {
        char u[LC_STUN_MAX_USERNAME + 1];
        int role = m->ice_controlling ? 1 : m->ice_controlled ? 0 : -1;
        const uint8_t *local, *remote;
        size_t llen, rlen;

        memcpy(u, m->username, m->username_len);
        u[m->username_len] = '\0';
        n = lc_stun_build_binding_request(out, sizeof out, m->txid, u, key, KEYLEN, m->priority,
                                          role, m->tiebreaker, m->use_candidate);
        parse_back(out, n, &r, 1);
        CHECK(r.username_len == m->username_len
              && memcmp(r.username, m->username, m->username_len) == 0);
        CHECK(r.priority == m->priority && r.use_candidate == m->use_candidate);
        CHECK(r.ice_controlling == (role == 1) && r.ice_controlled == (role == 0));
        CHECK(role < 0 || r.tiebreaker == m->tiebreaker);
        if (lc_stun_username_split(m->username, m->username_len, &local, &llen, &remote, &rlen) == 0) {
            CHECK(llen > 0 && rlen > 0 && llen + 1 + rlen == m->username_len);
            CHECK(local == m->username && remote == m->username + llen + 1);
            CHECK(memchr(m->username, ':', m->username_len) == m->username + llen);
        }
    }

    if (m->error_code != 0) {
        n = lc_stun_build_error(out, sizeof out, m->txid, m->error_code, NULL, NULL, 0);
        parse_back(out, n, &r, 0);
        CHECK(r.error_code == m->error_code);
    }

    if (m->n_unknown > 0) {
        size_t k = m->n_unknown < LC_STUN_MAX_UNKNOWN ? m->n_unknown : LC_STUN_MAX_UNKNOWN;

        n = lc_stun_build_unknown_attributes(out, sizeof out, m->txid, m->unknown, k, key, KEYLEN);
        parse_back(out, n, &r, 1);
        CHECK(r.error_code == 420 && r.n_unknown == 0);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    lc_stun_msg_t m, again;
    const char *err = NULL;
    /* a copy of exactly size bytes, so ASan sees any read past the datagram */
    uint8_t *buf = malloc(size ? size : 1);

    CHECK(buf != NULL);
    memcpy(buf, data, size);
    if (lc_stun_parse(buf, size, &m, &err) < 0) {
        CHECK(err != NULL && err[0] != '\0');
        free(buf);
        return 0;
    }
    check_fields(buf, size, &m);
    CHECK(lc_stun_parse(buf, size, &again, NULL) == 0 && memcmp(&m, &again, sizeof m) == 0);
    for (size_t cut = size >= 8 ? size - 8 : 0; cut < size; cut++)
        CHECK(lc_stun_parse(buf, cut, &again, &err) < 0);

    (void)lc_stun_check_integrity(buf, size, &m, key, KEYLEN);
    (void)lc_stun_check_fingerprint(buf, size, &m);
    if (!m.has_integrity)
        CHECK(lc_stun_check_integrity(buf, size, &m, key, KEYLEN) == 0);
    if (!m.has_fingerprint)
        CHECK(lc_stun_check_fingerprint(buf, size, &m) == 0);
    check_builders(&m);
    free(buf);
    return 0;
}
