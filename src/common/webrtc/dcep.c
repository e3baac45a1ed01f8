/*
 * dcep.c: see dcep.h. RFC 8832 section 5: all fields big-endian, the
 * label and protocol lengths are 16 bits each and the two strings follow
 * the 12-byte header back to back. Bytes after them are ignored: aiortc
 * counts a label's length in characters, not bytes, so a non-ASCII label
 * of its leaves bytes over (and its label cut short).
 */
#include "common/webrtc/dcep.h"

#include <string.h>

static uint16_t be16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

static int known_type(uint8_t t)
{
    switch (t & ~LC_DCEP_UNORDERED) {
    case LC_DCEP_RELIABLE:
    case LC_DCEP_PARTIAL_REXMIT:
    case LC_DCEP_PARTIAL_TIMED:
        return 1;
    default:
        return 0;
    }
}

int lc_dcep_type(const uint8_t *d, size_t len, const char **err)
{
    if (len == 0) {
        *err = "DCEP: empty message";
        return -1;
    }
    if (d[0] != LC_DCEP_OPEN && d[0] != LC_DCEP_ACK) {
        *err = "DCEP: unknown message type";
        return -1;
    }
    return d[0];
}

int lc_dcep_parse_open(const uint8_t *d, size_t len, lc_dcep_open_t *out, const char **err)
{
    memset(out, 0, sizeof(*out));
    if (len < LC_DCEP_OPEN_HEADER || d[0] != LC_DCEP_OPEN) {
        *err = "DCEP: DATA_CHANNEL_OPEN shorter than its 12-byte header";
        return -1;
    }
    if (!known_type(d[1])) {
        *err = "DCEP: unknown channel type";
        return -1;
    }
    size_t llen = be16(d + 8), plen = be16(d + 10);
    if (llen + plen > len - LC_DCEP_OPEN_HEADER) {
        *err = "DCEP: label and protocol run past the message";
        return -1;
    }
    out->channel_type = d[1];
    out->priority = be16(d + 2);
    out->reliability = (uint32_t)d[4] << 24 | (uint32_t)d[5] << 16 | (uint32_t)d[6] << 8 | d[7];
    out->label = d + LC_DCEP_OPEN_HEADER;
    out->label_len = llen;
    out->protocol = d + LC_DCEP_OPEN_HEADER + llen;
    out->protocol_len = plen;
    return 0;
}

int lc_dcep_parse_ack(const uint8_t *d, size_t len, const char **err)
{
    if (len != 1 || d[0] != LC_DCEP_ACK) {
        *err = "DCEP: DATA_CHANNEL_ACK is one byte, 0x02";
        return -1;
    }
    *err = NULL;
    return 0;
}

size_t lc_dcep_build_open(uint8_t *out, size_t cap, const lc_dcep_open_t *o)
{
    if (o->label_len > 0xffff || o->protocol_len > 0xffff)
        return 0;
    size_t n = LC_DCEP_OPEN_HEADER + o->label_len + o->protocol_len;
    if (n > cap)
        return 0;
    out[0] = LC_DCEP_OPEN;
    out[1] = o->channel_type;
    out[2] = (uint8_t)(o->priority >> 8);
    out[3] = (uint8_t)o->priority;
    for (int i = 0; i < 4; i++)
        out[4 + i] = (uint8_t)(o->reliability >> (24 - 8 * i));
    out[8] = (uint8_t)(o->label_len >> 8);
    out[9] = (uint8_t)o->label_len;
    out[10] = (uint8_t)(o->protocol_len >> 8);
    out[11] = (uint8_t)o->protocol_len;
    if (o->label_len)
        memcpy(out + LC_DCEP_OPEN_HEADER, o->label, o->label_len);
    if (o->protocol_len)
        memcpy(out + LC_DCEP_OPEN_HEADER + o->label_len, o->protocol, o->protocol_len);
    return n;
}

size_t lc_dcep_build_ack(uint8_t *out, size_t cap)
{
    if (cap < 1)
        return 0;
    out[0] = LC_DCEP_ACK;
    return 1;
}

void lc_dcep_printable(char *out, size_t cap, const uint8_t *s, size_t n)
{
    if (cap == 0)
        return;
    size_t k = 0;
    for (size_t i = 0; i < n && k + 1 < cap; i++)
        out[k++] = s[i] >= 0x20 && s[i] < 0x7f ? (char)s[i] : '?';
    if (k < n && cap >= 4) { /* cut: say so in the last three */
        k = k > cap - 4 ? cap - 4 : k;
        memcpy(out + k, "...", 3);
        k += 3;
    }
    out[k] = '\0';
}
