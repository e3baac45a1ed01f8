/*
 * rtp_opus.c: the duration of an Opus packet from its TOC byte (RFC 6716
 * section 3.1), which is all RFC 7587 leaves to do: one RTP payload is
 * one Opus packet, timestamps count 48 kHz samples.
 *
 * Does not own: decoding, or validating frame lengths inside the packet
 * (the decoder does that; a bad packet costs one packet of audio).
 */
#include "common/media/rtp_opus.h"

static int fail(const char **err, const char *why)
{
    if (err != NULL)
        *err = why;
    return -1;
}

/* config = toc >> 3: 0..11 SILK 10/20/40/60 ms, 12..15 Hybrid 10/20 ms,
 * 16..31 CELT 2.5/5/10/20 ms. */
int lc_rtp_opus_frame_samples(uint8_t toc)
{
    static const int silk[4] = { 480, 960, 1920, 2880 };
    static const int celt[4] = { 120, 240, 480, 960 };
    int config = toc >> 3;

    if (config < 12)
        return silk[config & 3];
    if (config < 16)
        return config & 1 ? 960 : 480;
    return celt[config & 3];
}

int lc_rtp_opus_samples(const uint8_t *p, size_t len, const char **err)
{
    int frames, total;

    if (len < 1)
        return fail(err, "empty Opus packet");
    switch (p[0] & 3) {
    case 0: frames = 1; break;
    case 1: case 2: frames = 2; break;
    default:
        /* code 3: frame count byte, v|p|M (6 bits) */
        if (len < 2)
            return fail(err, "Opus frame count missing");
        frames = p[1] & 0x3f;
        if (frames == 0)
            return fail(err, "Opus packet with zero frames");
        break;
    }
    total = frames * lc_rtp_opus_frame_samples(p[0]);
    if (total > LC_RTP_OPUS_MAX_SAMPLES)
        return fail(err, "Opus packet longer than 120 ms");
    return total;
}
