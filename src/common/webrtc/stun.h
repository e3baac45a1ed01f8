/*
 * stun.h: STUN messages (RFC 5389 / RFC 8489) as ICE (RFC 8445) uses them,
 * I/O-free.
 *
 * What an ICE-lite server and its test/bench clients need: the demux test
 * run on every UDP datagram, a parser that turns a datagram into an
 * lc_stun_msg_t, MESSAGE-INTEGRITY (HMAC-SHA1, short-term credentials: the
 * key is the ICE password bytes) and FINGERPRINT checks, and builders for
 * Binding requests, success and error responses. Nothing here logs, keeps
 * state or allocates; errors come back as a static reason string.
 *
 * Ownership: lc_stun_msg_t holds no memory of its own; username and reason
 * point into the buffer given to lc_stun_parse(), which must outlive them.
 * Builders write only into the caller's buffer.
 *
 * Only the Binding method matters to ICE, but the parser reads any method;
 * what to do with a class or method is the caller's decision.
 */
#ifndef LC_COMMON_WEBRTC_STUN_H
#define LC_COMMON_WEBRTC_STUN_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define LC_STUN_HEADER_LEN 20
#define LC_STUN_MAGIC_COOKIE 0x2112A442u
#define LC_STUN_TXID_LEN 12
#define LC_STUN_MAX_USERNAME 512     /* RFC 5389 15.3: "less than 513 bytes" */
#define LC_STUN_MAX_REASON 763       /* RFC 5389 15.6 */
#define LC_STUN_MAX_UNKNOWN 8        /* unknown attributes remembered for a 420 */

/* Message types: method Binding (0x001) in each of the four classes. */
enum {
    LC_STUN_BINDING_REQUEST = 0x0001,
    LC_STUN_BINDING_INDICATION = 0x0011,
    LC_STUN_BINDING_SUCCESS = 0x0101,
    LC_STUN_BINDING_ERROR = 0x0111
};

/* The class bits (C1 = 0x0100, C0 = 0x0010) of a message type. */
#define LC_STUN_CLASS(type) ((type) & 0x0110)
#define LC_STUN_CLASS_REQUEST 0x0000
#define LC_STUN_CLASS_INDICATION 0x0010
#define LC_STUN_CLASS_SUCCESS 0x0100
#define LC_STUN_CLASS_ERROR 0x0110
/* The 12 method bits, with the class bits squeezed out. */
#define LC_STUN_METHOD(type) \
    ((uint16_t)(((type) & 0x000f) | (((type) & 0x00e0) >> 1) | (((type) & 0x3e00) >> 2)))

/* Attribute types this file reads or writes. */
enum {
    LC_STUN_ATTR_MAPPED_ADDRESS = 0x0001,
    LC_STUN_ATTR_USERNAME = 0x0006,
    LC_STUN_ATTR_MESSAGE_INTEGRITY = 0x0008,
    LC_STUN_ATTR_ERROR_CODE = 0x0009,
    LC_STUN_ATTR_UNKNOWN_ATTRIBUTES = 0x000a,
    LC_STUN_ATTR_REALM = 0x0014,
    LC_STUN_ATTR_NONCE = 0x0015,
    LC_STUN_ATTR_XOR_MAPPED_ADDRESS = 0x0020,
    LC_STUN_ATTR_PRIORITY = 0x0024,
    LC_STUN_ATTR_USE_CANDIDATE = 0x0025,
    LC_STUN_ATTR_SOFTWARE = 0x8022,
    LC_STUN_ATTR_FINGERPRINT = 0x8028,
    LC_STUN_ATTR_ICE_CONTROLLED = 0x8029,
    LC_STUN_ATTR_ICE_CONTROLLING = 0x802a
};

typedef struct {
    uint16_t type;                     /* e.g. LC_STUN_BINDING_REQUEST */
    uint8_t txid[LC_STUN_TXID_LEN];
    const uint8_t *username;           /* into the parsed buffer; NULL if absent */
    size_t username_len;
    uint32_t priority;
    int has_priority;
    int use_candidate;
    int ice_controlling, ice_controlled;
    uint64_t tiebreaker;               /* of the first ICE-CONTROLL* attribute */
    int has_integrity;
    size_t integrity_at;               /* offset of the MESSAGE-INTEGRITY attribute header */
    int has_fingerprint;
    size_t fingerprint_at;             /* offset of the FINGERPRINT attribute header */
    int error_code;                    /* 300..699 from ERROR-CODE, else 0 */
    const uint8_t *reason;             /* its reason phrase, into the buffer */
    size_t reason_len;
    int has_xor_mapped;
    struct sockaddr_storage xor_mapped; /* AF_INET or AF_INET6, port and address decoded */
    /* Comprehension-required attributes (type < 0x8000) this file does not
     * know, before MESSAGE-INTEGRITY. A request with any gets a 420
     * (lc_stun_build_unknown_attributes); a response with any is discarded
     * (RFC 8489 6.3.1, 6.3.3). Only the first LC_STUN_MAX_UNKNOWN are listed;
     * n_unknown counts them all. */
    uint16_t unknown[LC_STUN_MAX_UNKNOWN];
    size_t n_unknown;
} lc_stun_msg_t;

/*
 * RFC 7983 demux test, cheap enough for every UDP datagram: at least a
 * header, first byte 0..3 (top two bits of the type 0) and the magic
 * cookie. Returns 1 or 0. A 1 does not mean the message is well formed.
 */
int lc_stun_is_stun(const uint8_t *buf, size_t len);

/*
 * Parse one whole datagram buf[0..len). Returns 0, or -1 with *err (if err
 * != NULL) set to a static reason. Rejected: no STUN header, a length field
 * that is not a multiple of 4 or not len - 20, an attribute (with its
 * padding to 4 bytes) running past the end, an attribute after FINGERPRINT,
 * and known attributes with impossible values (wrong size, ERROR-CODE class
 * outside 3..6, unknown address family, USERNAME or reason too long).
 * Accepted and skipped: unknown comprehension-optional attributes (listed
 * in m->unknown when comprehension-required), repeats of an attribute (the
 * first counts, RFC 8489 14), and everything between MESSAGE-INTEGRITY and
 * FINGERPRINT (RFC 5389 15.4). Padding bytes may hold anything.
 * m is meaningful only when 0 is returned. Neither MESSAGE-INTEGRITY nor
 * FINGERPRINT is verified here: see the two checks below.
 */
int lc_stun_parse(const uint8_t *buf, size_t len, lc_stun_msg_t *m, const char **err);

/*
 * 1 if the MESSAGE-INTEGRITY of the message that lc_stun_parse() read from
 * buf[0..len) into m is the HMAC-SHA1 under key[0..keylen), else 0 (also
 * when there is none, or m does not describe buf). The HMAC covers the
 * message up to the attribute, with the header length field counting up to
 * its end (RFC 5389 15.4). ICE short-term credentials: key = the password.
 * The comparison takes the same time wherever the first difference is.
 */
int lc_stun_check_integrity(const uint8_t *buf, size_t len, const lc_stun_msg_t *m,
                            const uint8_t *key, size_t keylen);

/* 1 if the message has a FINGERPRINT, last, equal to CRC-32 of what
 * precedes it XOR 0x5354554e (RFC 5389 15.5), else 0. */
int lc_stun_check_fingerprint(const uint8_t *buf, size_t len, const lc_stun_msg_t *m);

/*
 * Builders. Each writes a complete message into out[0..cap) and returns its
 * length, or 0 if cap is too small or an argument is out of range (then
 * out's contents are unspecified). When key != NULL, MESSAGE-INTEGRITY
 * under key[0..keylen) is added; FINGERPRINT is always added, last.
 */

/* Binding success response to txid with XOR-MAPPED-ADDRESS of mapped
 * (AF_INET or AF_INET6; anything else returns 0). */
size_t lc_stun_build_binding_success(uint8_t *out, size_t cap, const uint8_t txid[LC_STUN_TXID_LEN],
                                     const struct sockaddr *mapped,
                                     const uint8_t *key, size_t keylen);

/* Binding request as an ICE agent sends it (tests, bench clients): USERNAME
 * ("remote-ufrag:local-ufrag", at most LC_STUN_MAX_USERNAME bytes; NULL for
 * none), ICE-CONTROLLING (controlling = 1) or ICE-CONTROLLED (0) with the
 * tiebreaker, or neither (-1), PRIORITY, and USE-CANDIDATE if use_candidate. */
size_t lc_stun_build_binding_request(uint8_t *out, size_t cap, const uint8_t txid[LC_STUN_TXID_LEN],
                                     const char *username, const uint8_t *key, size_t keylen,
                                     uint32_t priority, int controlling, uint64_t tiebreaker,
                                     int use_candidate);

/* Binding error response with ERROR-CODE code (300..699), e.g. 400 Bad
 * Request, 401 Unauthorized, 487 Role Conflict. reason NULL gives the RFC's
 * phrase for the codes of RFC 8489/8445 and "" for others; at most
 * LC_STUN_MAX_REASON bytes. key may be NULL (no MESSAGE-INTEGRITY: what a
 * 400 or 401 for a request that failed authentication must be). */
size_t lc_stun_build_error(uint8_t *out, size_t cap, const uint8_t txid[LC_STUN_TXID_LEN],
                           int code, const char *reason, const uint8_t *key, size_t keylen);

/* 420 Unknown Attribute with UNKNOWN-ATTRIBUTES listing types[0..n), n >= 1
 * (e.g. m->unknown, min(m->n_unknown, LC_STUN_MAX_UNKNOWN)). */
size_t lc_stun_build_unknown_attributes(uint8_t *out, size_t cap,
                                        const uint8_t txid[LC_STUN_TXID_LEN],
                                        const uint16_t *types, size_t n,
                                        const uint8_t *key, size_t keylen);

/* A fresh random transaction ID (OpenSSL RAND_bytes). Returns 0 or -1. */
int lc_stun_txid_new(uint8_t txid[LC_STUN_TXID_LEN]);

/*
 * Split an ICE USERNAME "A:B" (RFC 8445 7.2.2: A is the ufrag of the agent
 * receiving the request, i.e. ours on the server side; B the sender's).
 * Returns 0 with both parts set (pointers into u), or -1 if there is not
 * exactly one ':' with a non-empty part on each side. remote/remote_len
 * may be NULL. Compare *local with our ufrag byte for byte (length too).
 */
int lc_stun_username_split(const uint8_t *u, size_t len,
                           const uint8_t **local, size_t *local_len,
                           const uint8_t **remote, size_t *remote_len);

#endif
