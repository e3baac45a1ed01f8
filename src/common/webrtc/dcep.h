/*
 * dcep.h: the WebRTC Data Channel Establishment Protocol (RFC 8832), the
 * messages on SCTP payload protocol 50 that open a data channel:
 * DATA_CHANNEL_OPEN (type, priority, reliability, label, protocol) and its
 * one-byte DATA_CHANNEL_ACK. I/O-free: bytes in, a struct out, and back.
 * A parsed message points into the caller's buffer (label and protocol
 * are not NUL-terminated and may hold any bytes).
 */
#ifndef LC_DCEP_H
#define LC_DCEP_H

#include <stddef.h>
#include <stdint.h>

#define LC_DCEP_PPID 50
#define LC_DCEP_ACK 0x02
#define LC_DCEP_OPEN 0x03
#define LC_DCEP_OPEN_HEADER 12     /* the fixed part of DATA_CHANNEL_OPEN */

/* channel types, RFC 8832 section 5.1 (0x80: unordered) */
#define LC_DCEP_RELIABLE 0x00
#define LC_DCEP_PARTIAL_REXMIT 0x01
#define LC_DCEP_PARTIAL_TIMED 0x02
#define LC_DCEP_UNORDERED 0x80

typedef struct {
    uint8_t channel_type;
    uint16_t priority;
    uint32_t reliability;          /* retransmissions or ms, per channel_type; 0 for reliable */
    const uint8_t *label;
    size_t label_len;
    const uint8_t *protocol;
    size_t protocol_len;
} lc_dcep_open_t;

/* The message type of a DCEP message (LC_DCEP_OPEN, LC_DCEP_ACK), or -1
 * with *err for an empty or unknown one. */
int lc_dcep_type(const uint8_t *d, size_t len, const char **err);
/* DATA_CHANNEL_OPEN: 0, or -1 with *err (short, lengths past the end,
 * unknown channel type). */
int lc_dcep_parse_open(const uint8_t *d, size_t len, lc_dcep_open_t *out, const char **err);
/* DATA_CHANNEL_ACK: 0 with *err NULL, -1 with *err (not exactly one byte 0x02). */
int lc_dcep_parse_ack(const uint8_t *d, size_t len, const char **err);
/* Bytes written, or 0 when cap is too small (or a length exceeds 65535). */
size_t lc_dcep_build_open(uint8_t *out, size_t cap, const lc_dcep_open_t *o);
size_t lc_dcep_build_ack(uint8_t *out, size_t cap);
/* A label or protocol for a log line: printable ASCII kept, anything else
 * '?', at most cap - 1 bytes (a "..." end says it was cut); out is NUL-terminated. */
void lc_dcep_printable(char *out, size_t cap, const uint8_t *s, size_t n);

#endif
