/*
 * stun.c: STUN message rules (RFC 5389, RFC 8489) for ICE (RFC 8445):
 * the demux test, the parser, MESSAGE-INTEGRITY and FINGERPRINT, and the
 * builders for the few messages an ICE-lite server and its clients send.
 *
 * Owns: every "is this datagram a well-formed STUN message" decision and
 * the byte layout of what we send. Does not own: sockets, retransmission,
 * candidate pairs, nominations, consent timers or which ufrag/password
 * belongs to which session (that is the worker's ICE-lite code), nor
 * long-term credentials (REALM/NONCE), which ICE never uses.
 *
 * Invariant: the parser trusts nothing it has not bounds-checked against
 * the datagram length, and the checks re-derive what they need from the
 * bytes, so a stale or forged lc_stun_msg_t can make a check fail but never
 * read outside buf[0..len). Authentication is never decided here: parse
 * first, then check integrity with the password the USERNAME names.
 */
#include "common/webrtc/stun.h"

#include <string.h>

#include <netinet/in.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/rand.h>

#define MI_LEN 20                        /* HMAC-SHA1 */
#define FINGERPRINT_XOR 0x5354554eu      /* "STUN" */
#define MAX_BODY 0xfffcu                 /* largest length field that is a multiple of 4 */

/* CRC-32 (ISO-HDLC, the one of zlib and Ethernet), reflected polynomial
 * 0xedb88320. A literal table instead of one filled at first use: no
 * init-once state to race on, and zlib is not a dependency worth adding
 * for 8-byte-per-message work. */
static const uint32_t crc_table[256] = {
    0x00000000, 0x77073096, 0xee0e612c, 0x990951ba, 0x076dc419, 0x706af48f,
    0xe963a535, 0x9e6495a3, 0x0edb8832, 0x79dcb8a4, 0xe0d5e91e, 0x97d2d988,
    0x09b64c2b, 0x7eb17cbd, 0xe7b82d07, 0x90bf1d91, 0x1db71064, 0x6ab020f2,
    0xf3b97148, 0x84be41de, 0x1adad47d, 0x6ddde4eb, 0xf4d4b551, 0x83d385c7,
    0x136c9856, 0x646ba8c0, 0xfd62f97a, 0x8a65c9ec, 0x14015c4f, 0x63066cd9,
    0xfa0f3d63, 0x8d080df5, 0x3b6e20c8, 0x4c69105e, 0xd56041e4, 0xa2677172,
    0x3c03e4d1, 0x4b04d447, 0xd20d85fd, 0xa50ab56b, 0x35b5a8fa, 0x42b2986c,
    0xdbbbc9d6, 0xacbcf940, 0x32d86ce3, 0x45df5c75, 0xdcd60dcf, 0xabd13d59,
    0x26d930ac, 0x51de003a, 0xc8d75180, 0xbfd06116, 0x21b4f4b5, 0x56b3c423,
    0xcfba9599, 0xb8bda50f, 0x2802b89e, 0x5f058808, 0xc60cd9b2, 0xb10be924,
    0x2f6f7c87, 0x58684c11, 0xc1611dab, 0xb6662d3d, 0x76dc4190, 0x01db7106,
    0x98d220bc, 0xefd5102a, 0x71b18589, 0x06b6b51f, 0x9fbfe4a5, 0xe8b8d433,
    0x7807c9a2, 0x0f00f934, 0x9609a88e, 0xe10e9818, 0x7f6a0dbb, 0x086d3d2d,
    0x91646c97, 0xe6635c01, 0x6b6b51f4, 0x1c6c6162, 0x856530d8, 0xf262004e,
    0x6c0695ed, 0x1b01a57b, 0x8208f4c1, 0xf50fc457, 0x65b0d9c6, 0x12b7e950,
    0x8bbeb8ea, 0xfcb9887c, 0x62dd1ddf, 0x15da2d49, 0x8cd37cf3, 0xfbd44c65,
    0x4db26158, 0x3ab551ce, 0xa3bc0074, 0xd4bb30e2, 0x4adfa541, 0x3dd895d7,
    0xa4d1c46d, 0xd3d6f4fb, 0x4369e96a, 0x346ed9fc, 0xad678846, 0xda60b8d0,
    0x44042d73, 0x33031de5, 0xaa0a4c5f, 0xdd0d7cc9, 0x5005713c, 0x270241aa,
    0xbe0b1010, 0xc90c2086, 0x5768b525, 0x206f85b3, 0xb966d409, 0xce61e49f,
    0x5edef90e, 0x29d9c998, 0xb0d09822, 0xc7d7a8b4, 0x59b33d17, 0x2eb40d81,
    0xb7bd5c3b, 0xc0ba6cad, 0xedb88320, 0x9abfb3b6, 0x03b6e20c, 0x74b1d29a,
    0xead54739, 0x9dd277af, 0x04db2615, 0x73dc1683, 0xe3630b12, 0x94643b84,
    0x0d6d6a3e, 0x7a6a5aa8, 0xe40ecf0b, 0x9309ff9d, 0x0a00ae27, 0x7d079eb1,
    0xf00f9344, 0x8708a3d2, 0x1e01f268, 0x6906c2fe, 0xf762575d, 0x806567cb,
    0x196c3671, 0x6e6b06e7, 0xfed41b76, 0x89d32be0, 0x10da7a5a, 0x67dd4acc,
    0xf9b9df6f, 0x8ebeeff9, 0x17b7be43, 0x60b08ed5, 0xd6d6a3e8, 0xa1d1937e,
    0x38d8c2c4, 0x4fdff252, 0xd1bb67f1, 0xa6bc5767, 0x3fb506dd, 0x48b2364b,
    0xd80d2bda, 0xaf0a1b4c, 0x36034af6, 0x41047a60, 0xdf60efc3, 0xa867df55,
    0x316e8eef, 0x4669be79, 0xcb61b38c, 0xbc66831a, 0x256fd2a0, 0x5268e236,
    0xcc0c7795, 0xbb0b4703, 0x220216b9, 0x5505262f, 0xc5ba3bbe, 0xb2bd0b28,
    0x2bb45a92, 0x5cb36a04, 0xc2d7ffa7, 0xb5d0cf31, 0x2cd99e8b, 0x5bdeae1d,
    0x9b64c2b0, 0xec63f226, 0x756aa39c, 0x026d930a, 0x9c0906a9, 0xeb0e363f,
    0x72076785, 0x05005713, 0x95bf4a82, 0xe2b87a14, 0x7bb12bae, 0x0cb61b38,
    0x92d28e9b, 0xe5d5be0d, 0x7cdcefb7, 0x0bdbdf21, 0x86d3d2d4, 0xf1d4e242,
    0x68ddb3f8, 0x1fda836e, 0x81be16cd, 0xf6b9265b, 0x6fb077e1, 0x18b74777,
    0x88085ae6, 0xff0f6a70, 0x66063bca, 0x11010b5c, 0x8f659eff, 0xf862ae69,
    0x616bffd3, 0x166ccf45, 0xa00ae278, 0xd70dd2ee, 0x4e048354, 0x3903b3c2,
    0xa7672661, 0xd06016f7, 0x4969474d, 0x3e6e77db, 0xaed16a4a, 0xd9d65adc,
    0x40df0b66, 0x37d83bf0, 0xa9bcae53, 0xdebb9ec5, 0x47b2cf7f, 0x30b5ffe9,
    0xbdbdf21c, 0xcabac28a, 0x53b39330, 0x24b4a3a6, 0xbad03605, 0xcdd70693,
    0x54de5729, 0x23d967bf, 0xb3667a2e, 0xc4614ab8, 0x5d681b02, 0x2a6f2b94,
    0xb40bbe37, 0xc30c8ea1, 0x5a05df1b, 0x2d02ef8d,
};

static uint32_t stun_crc32(const uint8_t *p, size_t n)
{
    uint32_t c = 0xffffffffu;

    while (n-- > 0)
        c = crc_table[(c ^ *p++) & 0xff] ^ (c >> 8);
    return c ^ 0xffffffffu;
}

static uint16_t rd16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t rd32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void wr16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static void wr32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

/*
 * HMAC-SHA1 of a then b. Two pieces because the checker must MAC a patched
 * copy of the header followed by the rest of the message in place; EVP_MAC
 * is OpenSSL 3's incremental HMAC (HMAC_CTX is deprecated there). The MAC
 * is fetched per call rather than cached in a static: no shared state to
 * initialise safely, and one message per consent check costs nothing.
 */
static int hmac_sha1(const uint8_t *key, size_t keylen, const uint8_t *a, size_t alen,
                     const uint8_t *b, size_t blen, uint8_t out[MI_LEN])
{
    static const uint8_t empty[1] = { 0 };
    EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
    EVP_MAC_CTX *ctx = mac != NULL ? EVP_MAC_CTX_new(mac) : NULL;
    char digest[] = "SHA1";
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
        OSSL_PARAM_construct_end()
    };
    size_t out_len = 0;
    int rc = -1;

    /* EVP_MAC_init() reads a NULL key as "keep the previous one". */
    if (key == NULL || keylen == 0)
        key = empty, keylen = 0;
    if (ctx != NULL && EVP_MAC_init(ctx, key, keylen, params) == 1
        && EVP_MAC_update(ctx, a, alen) == 1 && EVP_MAC_update(ctx, b, blen) == 1
        && EVP_MAC_final(ctx, out, &out_len, MI_LEN) == 1 && out_len == MI_LEN)
        rc = 0;
    EVP_MAC_CTX_free(ctx);
    EVP_MAC_free(mac);
    return rc;
}

int lc_stun_is_stun(const uint8_t *buf, size_t len)
{
    return len >= LC_STUN_HEADER_LEN && buf[0] < 4 && rd32(buf + 4) == LC_STUN_MAGIC_COOKIE;
}

/* ------------------------------------------------------------------ parse */

static int stun_fail(const char **err, const char *why)
{
    if (err != NULL)
        *err = why;
    return -1;
}

/* XOR-MAPPED-ADDRESS value v[0..n) into m (RFC 8489 14.2). */
static int parse_xor_mapped(lc_stun_msg_t *m, const uint8_t *v, size_t n, const char **err)
{
    uint16_t port;

    if (n < 4)
        return stun_fail(err, "XOR-MAPPED-ADDRESS too short");
    port = (uint16_t)(rd16(v + 2) ^ (LC_STUN_MAGIC_COOKIE >> 16));
    if (v[1] == 0x01) {
        struct sockaddr_in sin;

        if (n != 8)
            return stun_fail(err, "XOR-MAPPED-ADDRESS (IPv4) is not 8 bytes");
        if (m->has_xor_mapped)
            return 0;
        memset(&sin, 0, sizeof sin);
        sin.sin_family = AF_INET;
        sin.sin_port = htons(port);
        sin.sin_addr.s_addr = htonl(rd32(v + 4) ^ LC_STUN_MAGIC_COOKIE);
        memcpy(&m->xor_mapped, &sin, sizeof sin);
    } else if (v[1] == 0x02) {
        struct sockaddr_in6 sin6;
        uint8_t pad[16];

        if (n != 20)
            return stun_fail(err, "XOR-MAPPED-ADDRESS (IPv6) is not 20 bytes");
        if (m->has_xor_mapped)
            return 0;
        wr32(pad, LC_STUN_MAGIC_COOKIE);
        memcpy(pad + 4, m->txid, LC_STUN_TXID_LEN);
        memset(&sin6, 0, sizeof sin6);
        sin6.sin6_family = AF_INET6;
        sin6.sin6_port = htons(port);
        for (size_t i = 0; i < 16; i++)
            sin6.sin6_addr.s6_addr[i] = v[4 + i] ^ pad[i];
        memcpy(&m->xor_mapped, &sin6, sizeof sin6);
    } else {
        return stun_fail(err, "XOR-MAPPED-ADDRESS of unknown address family");
    }
    m->has_xor_mapped = 1;
    return 0;
}

/* One attribute before MESSAGE-INTEGRITY: value v[0..n) at offset off. */
static int parse_attr(lc_stun_msg_t *m, uint16_t type, const uint8_t *v, size_t n, size_t off,
                      const char **err)
{
    switch (type) {
    case LC_STUN_ATTR_USERNAME:
        if (n > LC_STUN_MAX_USERNAME)
            return stun_fail(err, "USERNAME too long");
        if (m->username == NULL)
            m->username = v, m->username_len = n;
        return 0;
    case LC_STUN_ATTR_MESSAGE_INTEGRITY:
        if (n != MI_LEN)
            return stun_fail(err, "MESSAGE-INTEGRITY is not 20 bytes");
        m->has_integrity = 1;
        m->integrity_at = off;
        return 0;
    case LC_STUN_ATTR_ERROR_CODE: {
        int cls, num;

        if (n < 4)
            return stun_fail(err, "ERROR-CODE too short");
        if (n - 4 > LC_STUN_MAX_REASON)
            return stun_fail(err, "ERROR-CODE reason too long");
        cls = v[2] & 0x07, num = v[3];
        if (cls < 3 || cls > 6 || num > 99)
            return stun_fail(err, "ERROR-CODE out of range");
        if (m->error_code == 0)
            m->error_code = cls * 100 + num, m->reason = v + 4, m->reason_len = n - 4;
        return 0;
    }
    case LC_STUN_ATTR_XOR_MAPPED_ADDRESS:
        return parse_xor_mapped(m, v, n, err);
    case LC_STUN_ATTR_PRIORITY:
        if (n != 4)
            return stun_fail(err, "PRIORITY is not 4 bytes");
        if (!m->has_priority)
            m->priority = rd32(v), m->has_priority = 1;
        return 0;
    case LC_STUN_ATTR_USE_CANDIDATE:
        if (n != 0)
            return stun_fail(err, "USE-CANDIDATE is not empty");
        m->use_candidate = 1;
        return 0;
    case LC_STUN_ATTR_ICE_CONTROLLED:
    case LC_STUN_ATTR_ICE_CONTROLLING:
        if (n != 8)
            return stun_fail(err, "ICE-CONTROLLING/ICE-CONTROLLED is not 8 bytes");
        if (!m->ice_controlling && !m->ice_controlled)
            m->tiebreaker = (uint64_t)rd32(v) << 32 | rd32(v + 4);
        if (type == LC_STUN_ATTR_ICE_CONTROLLING)
            m->ice_controlling = 1;
        else
            m->ice_controlled = 1;
        return 0;
    case LC_STUN_ATTR_MAPPED_ADDRESS:      /* only pre-RFC 5389 servers need it */
    case LC_STUN_ATTR_UNKNOWN_ATTRIBUTES:  /* we never send what a peer could refuse */
    case LC_STUN_ATTR_REALM:               /* long-term credentials: not ICE's */
    case LC_STUN_ATTR_NONCE:
        return 0;
    default:
        /* 0x0000-0x7fff: comprehension-required, the caller answers 420 */
        if (type < 0x8000) {
            if (m->n_unknown < LC_STUN_MAX_UNKNOWN)
                m->unknown[m->n_unknown] = type;
            m->n_unknown++;
        }
        return 0;
    }
}

int lc_stun_parse(const uint8_t *buf, size_t len, lc_stun_msg_t *m, const char **err)
{
    size_t off = LC_STUN_HEADER_LEN, body;

    memset(m, 0, sizeof *m);
    if (len < LC_STUN_HEADER_LEN)
        return stun_fail(err, "shorter than a STUN header");
    if (!lc_stun_is_stun(buf, len))
        return stun_fail(err, "not STUN (type bits or magic cookie)");
    body = rd16(buf + 2);
    if (body % 4 != 0)
        return stun_fail(err, "message length not a multiple of 4");
    if (body != len - LC_STUN_HEADER_LEN)
        return stun_fail(err, "message length does not match the datagram");
    m->type = rd16(buf);
    memcpy(m->txid, buf + 8, LC_STUN_TXID_LEN);

    /* off and len are multiples of 4 here, so 4 header bytes always fit. */
    while (off < len) {
        uint16_t type = rd16(buf + off);
        size_t n = rd16(buf + off + 2), padded = (n + 3) & ~(size_t)3;

        if (padded > len - off - 4)
            return stun_fail(err, "attribute runs past the end of the message");
        if (m->has_fingerprint)
            return stun_fail(err, "attribute after FINGERPRINT");
        if (type == LC_STUN_ATTR_FINGERPRINT) {
            if (n != 4)
                return stun_fail(err, "FINGERPRINT is not 4 bytes");
            m->has_fingerprint = 1;
            m->fingerprint_at = off;
        } else if (!m->has_integrity) {
            /* after MESSAGE-INTEGRITY everything but FINGERPRINT is ignored
             * (RFC 5389 15.4): it is not covered by the HMAC */
            if (parse_attr(m, type, buf + off + 4, n, off, err) < 0)
                return -1;
        }
        off += 4 + padded;
    }
    return 0;
}

/* ----------------------------------------------------------------- checks */

int lc_stun_check_integrity(const uint8_t *buf, size_t len, const lc_stun_msg_t *m,
                            const uint8_t *key, size_t keylen)
{
    uint8_t hdr[LC_STUN_HEADER_LEN], mac[MI_LEN];
    size_t at = m->integrity_at;
    const uint8_t *attr;

    if (!m->has_integrity || key == NULL || at < LC_STUN_HEADER_LEN || at > len
        || len - at < 4 + MI_LEN || at + 4 + MI_LEN - LC_STUN_HEADER_LEN > MAX_BODY)
        return 0;
    attr = buf + at;
    if (rd16(attr) != LC_STUN_ATTR_MESSAGE_INTEGRITY || rd16(attr + 2) != MI_LEN)
        return 0;
    /* The HMAC was computed with the length field counting up to the end of
     * MESSAGE-INTEGRITY, before FINGERPRINT (if any) was appended. */
    memcpy(hdr, buf, LC_STUN_HEADER_LEN);
    wr16(hdr + 2, (uint16_t)(at + 4 + MI_LEN - LC_STUN_HEADER_LEN));
    if (hmac_sha1(key, keylen, hdr, sizeof hdr, buf + LC_STUN_HEADER_LEN,
                  at - LC_STUN_HEADER_LEN, mac) < 0)
        return 0;
    return CRYPTO_memcmp(mac, attr + 4, MI_LEN) == 0;
}

int lc_stun_check_fingerprint(const uint8_t *buf, size_t len, const lc_stun_msg_t *m)
{
    size_t at = m->fingerprint_at;

    /* Last attribute, so the length field already counts it: no patching. */
    if (!m->has_fingerprint || at < LC_STUN_HEADER_LEN || at > len || len - at != 8)
        return 0;
    if (rd16(buf + at) != LC_STUN_ATTR_FINGERPRINT || rd16(buf + at + 2) != 4)
        return 0;
    return rd32(buf + at + 4) == (stun_crc32(buf, at) ^ FINGERPRINT_XOR);
}

/* --------------------------------------------------------------- builders */

typedef struct {
    uint8_t *out;
    size_t cap, len;
} writer_t;

static int writer_start(writer_t *w, uint8_t *out, size_t cap, uint16_t type,
                        const uint8_t txid[LC_STUN_TXID_LEN])
{
    w->out = out, w->cap = cap, w->len = 0;
    if (cap < LC_STUN_HEADER_LEN)
        return -1;
    wr16(out, type);
    wr16(out + 2, 0);
    wr32(out + 4, LC_STUN_MAGIC_COOKIE);
    memcpy(out + 8, txid, LC_STUN_TXID_LEN);
    w->len = LC_STUN_HEADER_LEN;
    return 0;
}

/* Append an attribute header with n value bytes, zeroing the padding;
 * returns where the value goes, NULL if it does not fit. */
static uint8_t *writer_attr(writer_t *w, uint16_t type, size_t n)
{
    size_t padded = (n + 3) & ~(size_t)3;
    uint8_t *v;

    if (n > MAX_BODY || 4 + padded > w->cap - w->len
        || w->len + 4 + padded - LC_STUN_HEADER_LEN > MAX_BODY)
        return NULL;
    wr16(w->out + w->len, type);
    wr16(w->out + w->len + 2, (uint16_t)n);
    v = w->out + w->len + 4;
    memset(v + n, 0, padded - n);
    w->len += 4 + padded;
    wr16(w->out + 2, (uint16_t)(w->len - LC_STUN_HEADER_LEN));
    return v;
}

static int writer_bytes(writer_t *w, uint16_t type, const void *p, size_t n)
{
    uint8_t *v = writer_attr(w, type, n);

    if (v == NULL)
        return -1;
    if (n > 0)
        memcpy(v, p, n);
    return 0;
}

/* MESSAGE-INTEGRITY (if key) and FINGERPRINT. writer_attr() has already
 * set the length field to count each of them when it is computed. */
static size_t writer_finish(writer_t *w, const uint8_t *key, size_t keylen)
{
    uint8_t *v;
    size_t at;

    if (key != NULL) {
        at = w->len;
        if ((v = writer_attr(w, LC_STUN_ATTR_MESSAGE_INTEGRITY, MI_LEN)) == NULL)
            return 0;
        if (hmac_sha1(key, keylen, w->out, at, NULL, 0, v) < 0)
            return 0;
    }
    at = w->len;
    if ((v = writer_attr(w, LC_STUN_ATTR_FINGERPRINT, 4)) == NULL)
        return 0;
    wr32(v, stun_crc32(w->out, at) ^ FINGERPRINT_XOR);
    return w->len;
}

size_t lc_stun_build_binding_success(uint8_t *out, size_t cap, const uint8_t txid[LC_STUN_TXID_LEN],
                                     const struct sockaddr *mapped,
                                     const uint8_t *key, size_t keylen)
{
    static const uint8_t v4mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
    writer_t w;
    uint8_t *v, pad[16];
    const uint8_t *addr;
    uint16_t port;
    int v6;

    if (mapped == NULL)
        return 0;
    if (mapped->sa_family == AF_INET) {
        const struct sockaddr_in *sin = (const struct sockaddr_in *)(const void *)mapped;

        port = ntohs(sin->sin_port);
        addr = (const uint8_t *)&sin->sin_addr;
        v6 = 0;
    } else if (mapped->sa_family == AF_INET6) {
        const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)(const void *)mapped;

        port = ntohs(sin6->sin6_port);
        addr = sin6->sin6_addr.s6_addr;
        v6 = 1;
        /* A dual-stack socket reports IPv4 peers as ::ffff:a.b.c.d; the peer
         * knows its address as IPv4 and would not match a family-2 answer. */
        if (memcmp(addr, v4mapped, sizeof v4mapped) == 0)
            addr += 12, v6 = 0;
    } else {
        return 0;
    }
    if (writer_start(&w, out, cap, LC_STUN_BINDING_SUCCESS, txid) < 0)
        return 0;
    if ((v = writer_attr(&w, LC_STUN_ATTR_XOR_MAPPED_ADDRESS, v6 ? 20 : 8)) == NULL)
        return 0;
    wr32(pad, LC_STUN_MAGIC_COOKIE);
    memcpy(pad + 4, txid, LC_STUN_TXID_LEN);
    v[0] = 0;
    v[1] = v6 ? 0x02 : 0x01;
    wr16(v + 2, (uint16_t)(port ^ (LC_STUN_MAGIC_COOKIE >> 16)));
    for (size_t i = 0; i < (v6 ? 16u : 4u); i++)
        v[4 + i] = addr[i] ^ pad[i];
    return writer_finish(&w, key, keylen);
}

size_t lc_stun_build_binding_request(uint8_t *out, size_t cap, const uint8_t txid[LC_STUN_TXID_LEN],
                                     const char *username, const uint8_t *key, size_t keylen,
                                     uint32_t priority, int controlling, uint64_t tiebreaker,
                                     int use_candidate)
{
    writer_t w;
    uint8_t *v;

    if (writer_start(&w, out, cap, LC_STUN_BINDING_REQUEST, txid) < 0)
        return 0;
    if (username != NULL) {
        size_t n = strlen(username);

        if (n > LC_STUN_MAX_USERNAME || writer_bytes(&w, LC_STUN_ATTR_USERNAME, username, n) < 0)
            return 0;
    }
    if (controlling >= 0) {
        v = writer_attr(&w, controlling ? LC_STUN_ATTR_ICE_CONTROLLING : LC_STUN_ATTR_ICE_CONTROLLED, 8);
        if (v == NULL)
            return 0;
        wr32(v, (uint32_t)(tiebreaker >> 32));
        wr32(v + 4, (uint32_t)tiebreaker);
    }
    if ((v = writer_attr(&w, LC_STUN_ATTR_PRIORITY, 4)) == NULL)
        return 0;
    wr32(v, priority);
    if (use_candidate && writer_attr(&w, LC_STUN_ATTR_USE_CANDIDATE, 0) == NULL)
        return 0;
    return writer_finish(&w, key, keylen);
}

/* Reason phrases of RFC 8489 15.6 and RFC 8445 7.3.1.1. */
static const char *default_reason(int code)
{
    switch (code) {
    case 300: return "Try Alternate";
    case 400: return "Bad Request";
    case 401: return "Unauthenticated";
    case 420: return "Unknown Attribute";
    case 438: return "Stale Nonce";
    case 487: return "Role Conflict";
    case 500: return "Server Error";
    default: return "";
    }
}

/* Header and ERROR-CODE of an error response; the caller finishes it. */
static int start_error(writer_t *w, uint8_t *out, size_t cap, const uint8_t txid[LC_STUN_TXID_LEN],
                       int code, const char *reason)
{
    size_t n;
    uint8_t *v;

    if (code < 300 || code > 699)
        return -1;
    if (reason == NULL)
        reason = default_reason(code);
    n = strlen(reason);
    if (n > LC_STUN_MAX_REASON || writer_start(w, out, cap, LC_STUN_BINDING_ERROR, txid) < 0)
        return -1;
    if ((v = writer_attr(w, LC_STUN_ATTR_ERROR_CODE, 4 + n)) == NULL)
        return -1;
    v[0] = v[1] = 0;
    v[2] = (uint8_t)(code / 100);
    v[3] = (uint8_t)(code % 100);
    memcpy(v + 4, reason, n);
    return 0;
}

size_t lc_stun_build_error(uint8_t *out, size_t cap, const uint8_t txid[LC_STUN_TXID_LEN],
                           int code, const char *reason, const uint8_t *key, size_t keylen)
{
    writer_t w;

    if (start_error(&w, out, cap, txid, code, reason) < 0)
        return 0;
    return writer_finish(&w, key, keylen);
}

size_t lc_stun_build_unknown_attributes(uint8_t *out, size_t cap,
                                        const uint8_t txid[LC_STUN_TXID_LEN],
                                        const uint16_t *types, size_t n,
                                        const uint8_t *key, size_t keylen)
{
    writer_t w;
    uint8_t *v;

    if (types == NULL || n == 0 || n > MAX_BODY / 2)
        return 0;
    if (start_error(&w, out, cap, txid, 420, NULL) < 0)
        return 0;
    if ((v = writer_attr(&w, LC_STUN_ATTR_UNKNOWN_ATTRIBUTES, 2 * n)) == NULL)
        return 0;
    for (size_t i = 0; i < n; i++)
        wr16(v + 2 * i, types[i]);
    return writer_finish(&w, key, keylen);
}

/* ------------------------------------------------------------------ misc */

int lc_stun_txid_new(uint8_t txid[LC_STUN_TXID_LEN])
{
    return RAND_bytes(txid, LC_STUN_TXID_LEN) == 1 ? 0 : -1;
}

int lc_stun_username_split(const uint8_t *u, size_t len,
                           const uint8_t **local, size_t *local_len,
                           const uint8_t **remote, size_t *remote_len)
{
    const uint8_t *colon = u != NULL && len > 0 ? memchr(u, ':', len) : NULL;
    size_t at;

    if (colon == NULL)
        return -1;
    at = (size_t)(colon - u);
    if (at == 0 || at + 1 == len || memchr(colon + 1, ':', len - at - 1) != NULL)
        return -1;
    *local = u;
    *local_len = at;
    if (remote != NULL)
        *remote = colon + 1;
    if (remote_len != NULL)
        *remote_len = len - at - 1;
    return 0;
}
