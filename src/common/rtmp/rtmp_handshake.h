/*
 * rtmp_handshake.h: the server side of the RTMP handshake, both the simple
 * one (C1 echoed) and the digest one Flash-era clients, ffmpeg and many
 * encoders send (HMAC-SHA256 digests in C1/S1/S2 with the Adobe keys).
 * I/O-free: given C0+C1 (1537 bytes), produce S0+S1+S2 (3073 bytes).
 */
#ifndef LC_RTMP_HANDSHAKE_H
#define LC_RTMP_HANDSHAKE_H

#include <stddef.h>
#include <stdint.h>

#define LC_RTMP_HANDSHAKE_SIZE 1536

/* c0c1: 1537 bytes from the client. out: 1 + 2 * 1536 bytes to send.
 * Returns 0 (simple), 1 (digest scheme 0), 2 (digest scheme 1), or -1 with
 * *err (C0 version is not 3). A C1 with a non-zero version field but no
 * valid digest gets the simple handshake (as nginx-rtmp does). */
int lc_rtmp_handshake_response(const uint8_t *c0c1, uint8_t *out, const char **err);

#endif
