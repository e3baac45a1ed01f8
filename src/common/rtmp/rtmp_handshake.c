/*
 * rtmp_handshake.c: the server side of the RTMP handshake, C0+C1 in,
 * S0+S1+S2 out.
 *
 * Owns: the choice between the simple handshake (spec section 5.2: S2
 * echoes C1) and the digest handshake of Flash Media Server that FFmpeg,
 * Flash-era players and many encoders expect, and the HMAC-SHA256 digests
 * that go with it. Does not own: reading C2 (nothing in it needs checking:
 * nginx-rtmp and FFmpeg's server ignore it too), sockets, timeouts.
 *
 * The digest scheme (no public spec; as nginx-rtmp ngx_rtmp_handshake.c
 * and FFmpeg rtmpproto.c implement it), offsets counted within C1/S1:
 *   scheme 0: offset = (sum of bytes 8..11) % 728 + 12
 *   scheme 1: offset = (sum of bytes 772..775) % 728 + 776
 *   digest = HMAC-SHA256(key, the 1504 bytes around the 32-byte digest)
 * C1's key is the first 30 bytes of the player key, S1's the first 36 of
 * the server key; S2 ends with HMAC-SHA256(HMAC-SHA256(whole server key,
 * C1's digest), S2's first 1504 bytes).
 *
 * Invariant: the response depends only on C0+C1 and fresh random bytes;
 * a C1 that carries no digest we can verify gets the simple handshake, so
 * a client that worked with nginx-rtmp works here.
 */
#include "common/rtmp/rtmp_handshake.h"

#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#define HS LC_RTMP_HANDSHAKE_SIZE
#define DIGEST_LEN 32

/* "Genuine Adobe Flash Player 001" + 32 bytes; digests of C1 use the first 30. */
static const uint8_t client_key[62] = {
    'G', 'e', 'n', 'u', 'i', 'n', 'e', ' ', 'A', 'd', 'o', 'b', 'e', ' ',
    'F', 'l', 'a', 's', 'h', ' ', 'P', 'l', 'a', 'y', 'e', 'r', ' ', '0', '0', '1',
    0xf0, 0xee, 0xc2, 0x4a, 0x80, 0x68, 0xbe, 0xe8, 0x2e, 0x00, 0xd0, 0xd1,
    0x02, 0x9e, 0x7e, 0x57, 0x6e, 0xec, 0x5d, 0x2d, 0x29, 0x80, 0x6f, 0xab,
    0x93, 0xb8, 0xe6, 0x36, 0xcf, 0xeb, 0x31, 0xae,
};
#define CLIENT_KEY_OPEN 30

/* "Genuine Adobe Flash Media Server 001" + the same 32 bytes; S1 uses 36. */
static const uint8_t server_key[68] = {
    'G', 'e', 'n', 'u', 'i', 'n', 'e', ' ', 'A', 'd', 'o', 'b', 'e', ' ',
    'F', 'l', 'a', 's', 'h', ' ', 'M', 'e', 'd', 'i', 'a', ' ',
    'S', 'e', 'r', 'v', 'e', 'r', ' ', '0', '0', '1',
    0xf0, 0xee, 0xc2, 0x4a, 0x80, 0x68, 0xbe, 0xe8, 0x2e, 0x00, 0xd0, 0xd1,
    0x02, 0x9e, 0x7e, 0x57, 0x6e, 0xec, 0x5d, 0x2d, 0x29, 0x80, 0x6f, 0xab,
    0x93, 0xb8, 0xe6, 0x36, 0xcf, 0xeb, 0x31, 0xae,
};
#define SERVER_KEY_OPEN 36

/* What S1 announces as our version. FFmpeg checks the digest only when the
 * first byte is >= 3; these are the bytes nginx-rtmp sends (13.14.10.13). */
static const uint8_t server_version[4] = { 0x0d, 0x0e, 0x0a, 0x0d };

/* Offset of the digest in a 1536-byte packet for scheme 0 (base 8) or 1
 * (base 772): always within the packet (at most 775 + 727 + 32 < 1536). */
static size_t digest_pos(const uint8_t *pkt, size_t base)
{
    size_t sum = (size_t)pkt[base] + pkt[base + 1] + pkt[base + 2] + pkt[base + 3];

    return sum % 728 + base + 4;
}

/* HMAC-SHA256 of pkt[0..len) without the 32 bytes at gap (gap < 0: none). */
static int hmac_gap(const uint8_t *key, size_t key_len, const uint8_t *pkt, size_t len, long gap,
                    uint8_t out[DIGEST_LEN])
{
    uint8_t joined[HS];
    const uint8_t *data = pkt;
    unsigned int out_len = 0;

    if (gap >= 0) {
        memcpy(joined, pkt, (size_t)gap);
        memcpy(joined + gap, pkt + gap + DIGEST_LEN, len - (size_t)gap - DIGEST_LEN);
        data = joined;
        len -= DIGEST_LEN;
    }
    if (HMAC(EVP_sha256(), key, (int)key_len, data, len, out, &out_len) == NULL || out_len != DIGEST_LEN)
        return -1;
    return 0;
}

/* Returns the digest offset in c1 when scheme `base` validates, else 0. */
static size_t find_digest(const uint8_t *c1, size_t base)
{
    uint8_t want[DIGEST_LEN];
    size_t pos = digest_pos(c1, base);

    if (hmac_gap(client_key, CLIENT_KEY_OPEN, c1, HS, (long)pos, want) < 0)
        return 0;
    return memcmp(want, c1 + pos, DIGEST_LEN) == 0 ? pos : 0;
}

static int fail(const char **err, const char *why)
{
    if (err != NULL)
        *err = why;
    return -1;
}

static int simple_response(const uint8_t *c1, uint8_t *s1, uint8_t *s2, const char **err)
{
    /* S1: time 0 (we have no clock here, and no client reads it), zero, random */
    memset(s1, 0, 8);
    if (RAND_bytes(s1 + 8, HS - 8) != 1)
        return fail(err, "random bytes unavailable");
    memcpy(s2, c1, HS);
    return 0;
}

static int digest_response(const uint8_t *c1, size_t c1_pos, size_t base, uint8_t *s1, uint8_t *s2,
                           const char **err)
{
    uint8_t key[DIGEST_LEN];
    size_t pos;

    if (RAND_bytes(s1, HS) != 1 || RAND_bytes(s2, HS - DIGEST_LEN) != 1)
        return fail(err, "random bytes unavailable");
    memset(s1, 0, 4);
    memcpy(s1 + 4, server_version, 4);
    pos = digest_pos(s1, base);
    if (hmac_gap(server_key, SERVER_KEY_OPEN, s1, HS, (long)pos, s1 + pos) < 0)
        return fail(err, "hmac failed");
    if (hmac_gap(server_key, sizeof server_key, c1 + c1_pos, DIGEST_LEN, -1, key) < 0
        || hmac_gap(key, DIGEST_LEN, s2, HS - DIGEST_LEN, -1, s2 + HS - DIGEST_LEN) < 0)
        return fail(err, "hmac failed");
    return 0;
}

int lc_rtmp_handshake_response(const uint8_t *c0c1, uint8_t *out, const char **err)
{
    const uint8_t *c1 = c0c1 + 1;
    static const uint8_t zero[4];
    size_t pos;

    if (c0c1[0] != 3)
        return fail(err, "unsupported RTMP version (C0 is not 3)");
    out[0] = 3;
    if (memcmp(c1 + 4, zero, 4) != 0) {
        /* Scheme 0 first: it is what FFmpeg and Flash Player send unencrypted. */
        pos = find_digest(c1, 8);
        if (pos > 0) {
            if (digest_response(c1, pos, 8, out + 1, out + 1 + HS, err) < 0)
                return -1;
            return 1;
        }
        pos = find_digest(c1, 772);
        if (pos > 0) {
            if (digest_response(c1, pos, 772, out + 1, out + 1 + HS, err) < 0)
                return -1;
            return 2;
        }
    }
    if (simple_response(c1, out + 1, out + 1 + HS, err) < 0)
        return -1;
    return 0;
}
