/*
 * rtp_opus.h: Opus over RTP (RFC 7587), I/O-free.
 *
 * The payload is one Opus packet, unchanged, so there is nothing to
 * (de)packetize: what a caller needs is how long a packet lasts, to keep
 * RTP timestamps continuous (the RTP clock is always 48 kHz, whatever
 * the encoder's internal rate) and to turn them into ring times.
 */
#ifndef LC_COMMON_MEDIA_RTP_OPUS_H
#define LC_COMMON_MEDIA_RTP_OPUS_H

#include <stddef.h>
#include <stdint.h>

#define LC_RTP_OPUS_CLOCK 48000
#define LC_RTP_OPUS_MAX_SAMPLES 5760       /* 120 ms, the most one packet may hold */

/* Samples at 48 kHz in one frame of a packet with this TOC byte (RFC 6716
 * 3.1): 120, 240, 480, 960, 1920 or 2880. */
int lc_rtp_opus_frame_samples(uint8_t toc);
/* Samples at 48 kHz in one Opus packet (TOC, and frame count byte for code
 * 3): the RTP timestamp step to the next packet. -1 with *err when the
 * packet is empty, its frame count is missing or zero, or it lasts more
 * than 120 ms. */
int lc_rtp_opus_samples(const uint8_t *packet, size_t len, const char **err);

#endif
