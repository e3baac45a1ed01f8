/*
 * ws_frame.h: RFC 6455 WebSocket pieces, I/O-free.
 *
 * Frame headers in and out, payload unmasking, the handshake accept key,
 * UTF-8 validation and the fragmentation rules of a message. Nothing here
 * logs or allocates; errors come back as a static reason string plus the
 * close code the caller should send (then close the connection).
 *
 * No extension is ever negotiated, so the RSV bits must always be 0
 * (permessage-deflate is refused at the handshake, not here).
 */
#ifndef LC_COMMON_HTTP_WS_FRAME_H
#define LC_COMMON_HTTP_WS_FRAME_H

#include <stddef.h>
#include <stdint.h>

enum { LC_WS_CONT = 0, LC_WS_TEXT = 1, LC_WS_BINARY = 2,
       LC_WS_CLOSE = 8, LC_WS_PING = 9, LC_WS_PONG = 10 };

/* Close codes (RFC 6455 section 7.4.1) that this file reports or that a
 * caller of it needs. */
enum {
    LC_WS_CLOSE_NORMAL = 1000,
    LC_WS_CLOSE_NO_STATUS = 1005,      /* never sent: "close had no code" */
    LC_WS_CLOSE_PROTOCOL_ERROR = 1002,
    LC_WS_CLOSE_INVALID_DATA = 1007,   /* bad UTF-8 in a text message */
    LC_WS_CLOSE_TOO_BIG = 1009,
    LC_WS_CLOSE_INTERNAL_ERROR = 1011
};

#define LC_WS_MAX_HEADER 14            /* 2 + 8 (length) + 4 (mask) */
#define LC_WS_MAX_CONTROL_PAYLOAD 125

typedef struct {
    int fin;
    int opcode;
    int masked;
    uint8_t mask[4];          /* all zero when !masked */
    uint64_t payload_len;
    size_t header_len;
} lc_ws_frame_t;

/*
 * Parse a frame header from buf[0..len). Returns header_len (> 0) when the
 * header is complete, 0 if more bytes are needed, -1 on protocol error with
 * *err and *close_code set: reserved bits set, unknown opcode, control frame
 * with payload > 125 or not FIN, 64-bit length with its MSB set (1002);
 * payload_len > max_payload (1009); require_mask (server side) and an
 * unmasked frame (1002). Non-minimal length encodings are accepted.
 * Checks run in byte order, so an error is reported as soon as the bytes
 * that show it have arrived, and any prefix of a header gives either 0 or
 * the same result as the whole. f is meaningful only when > 0.
 */
int lc_ws_parse_header(const uint8_t *buf, size_t len, uint64_t max_payload,
                       int require_mask, lc_ws_frame_t *f,
                       const char **err, int *close_code);

/* XOR payload[0..len) with the mask in place; offset is how many bytes of
 * this frame's payload were already unmasked, so a payload that arrives in
 * pieces can be unmasked piece by piece. Unmasking twice restores it. */
void lc_ws_unmask(uint8_t *payload, size_t len, const uint8_t mask[4], uint64_t offset);

/* Write a frame header with the minimal length encoding into out (at least
 * LC_WS_MAX_HEADER bytes); mask == NULL writes an unmasked (server) frame.
 * payload_len must be < 2^63. Returns the header length (2 to 14). */
size_t lc_ws_write_header(uint8_t *out, int fin, int opcode, uint64_t payload_len,
                          const uint8_t *mask);

/* Sec-WebSocket-Accept for a Sec-WebSocket-Key: base64(SHA1(key + GUID)),
 * NUL-terminated in out. Returns 0, or -1 (out = "") if the key is not 24
 * base64 characters decoding to 16 bytes. */
int lc_ws_accept_key(const char *key, size_t key_len, char out[29]);

/* 1 if s[0..len) is valid UTF-8, else 0. Rejects overlong forms, surrogates,
 * code points above U+10FFFF and sequences cut at the end, so validate a
 * fragmented text message once it is reassembled, not fragment by fragment. */
int lc_ws_utf8_valid(const uint8_t *s, size_t len);

/*
 * Close frame payload: empty (*code = 1005) or a 2-byte code then a UTF-8
 * reason, which starts at payload + 2. Returns 0, or -1 with *err and
 * *close_code: a 1-byte payload or a code that may not be sent (1002), an
 * invalid reason (1007).
 */
int lc_ws_parse_close(const uint8_t *payload, size_t len, int *code,
                      const char **err, int *close_code);

/*
 * Fragmentation state of one connection's incoming messages. Start from all
 * zero. in_message: a TEXT/BINARY frame without FIN was seen and its
 * CONTINUATION frames are due. opcode and total (payload bytes so far)
 * describe the current message and stay valid after its final frame, so the
 * caller can read them once in_message drops to 0.
 */
typedef struct {
    int in_message;
    int opcode;
    uint64_t total;
} lc_ws_assembly_t;

/*
 * Feed a parsed data or continuation frame header. Returns 0 if ok, -1 with
 * *err and *close_code: continuation without a started message (1002), new data
 * frame while a message is in progress (1002), total > max_message (1009),
 * control frame fed (1011: control frames may come between fragments and
 * never belong to a message, so feeding one is the caller's bug). On error
 * the state is left unchanged. On FIN sets in_message = 0.
 */
int lc_ws_assembly_feed(lc_ws_assembly_t *a, const lc_ws_frame_t *f, uint64_t max_message,
                        const char **err, int *close_code);

#endif
