/*
 * ws_frame.c: RFC 6455 framing rules: frame headers in and out, masking,
 * the handshake accept key, UTF-8 and close payload checks, fragmentation.
 *
 * Owns: every "is this frame/message legal" decision and the close code
 * that goes with it. Does not own: sockets, buffering, the HTTP upgrade
 * exchange, or what a message means (that is the signaling layer's).
 *
 * Invariant: every check is a pure function of the bytes given (and, for
 * lc_ws_assembly_feed(), of the assembly state), and a failed check leaves
 * the caller's state as it was, so the caller can always send the returned
 * close code and tear down without cleanup here.
 */
#include "common/http/ws_frame.h"

#include <string.h>

#include <openssl/evp.h>
#include <openssl/sha.h>

#define LC_WS_GUID "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
#define LC_WS_KEY_LEN 24

static int ws_fail(const char **err, int *close_code, int code, const char *why)
{
    if (err != NULL)
        *err = why;
    if (close_code != NULL)
        *close_code = code;
    return -1;
}

static int is_control(int opcode)
{
    return (opcode & 0x8) != 0;
}

static int is_known_opcode(int opcode)
{
    return opcode <= LC_WS_BINARY || (opcode >= LC_WS_CLOSE && opcode <= LC_WS_PONG);
}

static int check_first_byte(uint8_t b, const char **err, int *close_code)
{
    int opcode = b & 0x0f;

    if (b & 0x70)
        return ws_fail(err, close_code, LC_WS_CLOSE_PROTOCOL_ERROR, "reserved bits set");
    if (!is_known_opcode(opcode))
        return ws_fail(err, close_code, LC_WS_CLOSE_PROTOCOL_ERROR, "unknown opcode");
    if (is_control(opcode) && !(b & 0x80))
        return ws_fail(err, close_code, LC_WS_CLOSE_PROTOCOL_ERROR, "fragmented control frame");
    return 0;
}

static uint64_t read_be(const uint8_t *p, size_t n)
{
    uint64_t v = 0;

    for (size_t i = 0; i < n; i++)
        v = (v << 8) | p[i];
    return v;
}

int lc_ws_parse_header(const uint8_t *buf, size_t len, uint64_t max_payload,
                       int require_mask, lc_ws_frame_t *f,
                       const char **err, int *close_code)
{
    size_t ext, need;
    int len7;

    if (len < 1)
        return 0;
    if (check_first_byte(buf[0], err, close_code) < 0)
        return -1;
    if (len < 2)
        return 0;

    f->fin = buf[0] >> 7;
    f->opcode = buf[0] & 0x0f;
    f->masked = buf[1] >> 7;
    len7 = buf[1] & 0x7f;
    if (require_mask && !f->masked)
        return ws_fail(err, close_code, LC_WS_CLOSE_PROTOCOL_ERROR, "unmasked client frame");
    if (is_control(f->opcode) && len7 > LC_WS_MAX_CONTROL_PAYLOAD)
        return ws_fail(err, close_code, LC_WS_CLOSE_PROTOCOL_ERROR, "control frame too long");

    ext = len7 == 126 ? 2 : len7 == 127 ? 8 : 0;
    need = 2 + ext;
    if (len < need)
        return 0;
    f->payload_len = ext ? read_be(buf + 2, ext) : (uint64_t)len7;
    if (f->payload_len >> 63)
        return ws_fail(err, close_code, LC_WS_CLOSE_PROTOCOL_ERROR, "payload length MSB set");
    if (f->payload_len > max_payload)
        return ws_fail(err, close_code, LC_WS_CLOSE_TOO_BIG, "frame too big");

    memset(f->mask, 0, sizeof f->mask);
    if (f->masked) {
        if (len < need + 4)
            return 0;
        memcpy(f->mask, buf + need, 4);
        need += 4;
    }
    f->header_len = need;
    return (int)need;
}

void lc_ws_unmask(uint8_t *payload, size_t len, const uint8_t mask[4], uint64_t offset)
{
    /* Rotate the mask once so the loop indexes it by i alone: the compiler
     * can then vectorise it. */
    uint8_t m[4];

    for (size_t k = 0; k < 4; k++)
        m[k] = mask[(offset + k) & 3];
    for (size_t i = 0; i < len; i++)
        payload[i] ^= m[i & 3];
}

size_t lc_ws_write_header(uint8_t *out, int fin, int opcode, uint64_t payload_len,
                          const uint8_t *mask)
{
    size_t n = 2;

    out[0] = (uint8_t)((fin ? 0x80 : 0) | (opcode & 0x0f));
    out[1] = mask != NULL ? 0x80 : 0;
    if (payload_len < 126) {
        out[1] |= (uint8_t)payload_len;
    } else if (payload_len <= 0xffff) {
        out[1] |= 126;
        out[2] = (uint8_t)(payload_len >> 8);
        out[3] = (uint8_t)payload_len;
        n = 4;
    } else {
        out[1] |= 127;
        for (size_t i = 0; i < 8; i++)
            out[2 + i] = (uint8_t)(payload_len >> (56 - 8 * i));
        n = 10;
    }
    if (mask != NULL) {
        memcpy(out + n, mask, 4);
        n += 4;
    }
    return n;
}

static int is_base64_char(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')
           || c == '+' || c == '/';
}

/* 16 bytes in base64 are 22 characters and "==". The 4 unused bits of the
 * 22nd character are not checked: browsers never set them, and the accept
 * hash covers the key text anyway. */
static int is_valid_key(const char *key, size_t key_len)
{
    if (key_len != LC_WS_KEY_LEN || key[22] != '=' || key[23] != '=')
        return 0;
    for (size_t i = 0; i < 22; i++) {
        if (!is_base64_char(key[i]))
            return 0;
    }
    return 1;
}

int lc_ws_accept_key(const char *key, size_t key_len, char out[29])
{
    unsigned char cat[LC_WS_KEY_LEN + sizeof LC_WS_GUID - 1];
    unsigned char md[SHA_DIGEST_LENGTH];

    out[0] = '\0';
    if (!is_valid_key(key, key_len))
        return -1;
    memcpy(cat, key, LC_WS_KEY_LEN);
    memcpy(cat + LC_WS_KEY_LEN, LC_WS_GUID, sizeof LC_WS_GUID - 1);
    SHA1(cat, sizeof cat, md);
    EVP_EncodeBlock((unsigned char *)out, md, SHA_DIGEST_LENGTH);  /* 28 + NUL */
    return 0;
}

/*
 * Length of the well-formed UTF-8 sequence at s[0..len), or 0. The ranges of
 * the second byte are those of Unicode table 3-7: they exclude overlong
 * forms (E0, F0), surrogates (ED) and code points above U+10FFFF (F4).
 */
static size_t utf8_seq_len(const uint8_t *s, size_t len)
{
    uint8_t lo = 0x80, hi = 0xbf;
    size_t n;

    if (s[0] < 0x80)
        return 1;
    if (s[0] >= 0xc2 && s[0] <= 0xdf)
        n = 2;
    else if (s[0] >= 0xe0 && s[0] <= 0xef)
        n = 3;
    else if (s[0] >= 0xf0 && s[0] <= 0xf4)
        n = 4;
    else
        return 0;

    if (s[0] == 0xe0)
        lo = 0xa0;
    else if (s[0] == 0xed)
        hi = 0x9f;
    else if (s[0] == 0xf0)
        lo = 0x90;
    else if (s[0] == 0xf4)
        hi = 0x8f;

    if (len < n || s[1] < lo || s[1] > hi)
        return 0;
    for (size_t i = 2; i < n; i++) {
        if (s[i] < 0x80 || s[i] > 0xbf)
            return 0;
    }
    return n;
}

int lc_ws_utf8_valid(const uint8_t *s, size_t len)
{
    size_t i = 0;

    while (i < len) {
        size_t n = utf8_seq_len(s + i, len - i);
        if (n == 0)
            return 0;
        i += n;
    }
    return 1;
}

/* Codes a peer may put in a close frame: RFC 6455 section 7.4 plus the
 * IANA-registered 1012-1014; 1004-1006 and 1015 are reserved. */
static int is_sendable_close_code(int code)
{
    if (code >= 3000 && code <= 4999)
        return 1;
    if (code < 1000 || code > 1014)
        return 0;
    return code < 1004 || code > 1006;
}

int lc_ws_parse_close(const uint8_t *payload, size_t len, int *code,
                      const char **err, int *close_code)
{
    int c;

    if (len == 0) {
        *code = LC_WS_CLOSE_NO_STATUS;
        return 0;
    }
    if (len == 1)
        return ws_fail(err, close_code, LC_WS_CLOSE_PROTOCOL_ERROR, "1-byte close payload");
    c = (payload[0] << 8) | payload[1];
    if (!is_sendable_close_code(c))
        return ws_fail(err, close_code, LC_WS_CLOSE_PROTOCOL_ERROR, "invalid close code");
    if (!lc_ws_utf8_valid(payload + 2, len - 2))
        return ws_fail(err, close_code, LC_WS_CLOSE_INVALID_DATA, "close reason not UTF-8");
    *code = c;
    return 0;
}

int lc_ws_assembly_feed(lc_ws_assembly_t *a, const lc_ws_frame_t *f, uint64_t max_message,
                        const char **err, int *close_code)
{
    uint64_t before;

    if (!is_known_opcode(f->opcode))
        return ws_fail(err, close_code, LC_WS_CLOSE_PROTOCOL_ERROR, "unknown opcode");
    if (is_control(f->opcode))
        return ws_fail(err, close_code, LC_WS_CLOSE_INTERNAL_ERROR,
                       "control frame fed to the assembler");
    if (f->opcode == LC_WS_CONT && !a->in_message)
        return ws_fail(err, close_code, LC_WS_CLOSE_PROTOCOL_ERROR,
                       "continuation frame without a message");
    if (f->opcode != LC_WS_CONT && a->in_message)
        return ws_fail(err, close_code, LC_WS_CLOSE_PROTOCOL_ERROR,
                       "new message inside a fragmented one");

    before = f->opcode == LC_WS_CONT ? a->total : 0;
    /* Written as a subtraction so that a huge payload_len cannot wrap. */
    if (before > max_message || f->payload_len > max_message - before)
        return ws_fail(err, close_code, LC_WS_CLOSE_TOO_BIG, "message too big");

    if (f->opcode != LC_WS_CONT)
        a->opcode = f->opcode;
    a->total = before + f->payload_len;
    a->in_message = !f->fin;
    return 0;
}
