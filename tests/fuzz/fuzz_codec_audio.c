/*
 * fuzz_codec_audio.c: decoder input of the audio transcoder. Byte 0 picks
 * the source codec (AAC, Opus, G722, PCMA, PCMU, Speex); for AAC byte 1 is
 * the AudioSpecificConfig length and the ASC follows; then frames, each a
 * 2-byte big-endian length and its bytes, 20 ms apart (a length's top bit
 * skips 20 ms: a lost packet).
 */
#include <stddef.h>
#include <stdint.h>

#include <libavutil/log.h>

#include "common/codec/audio.h"
#include "common/codec/codec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const int src[] = { LC_CODEC_AAC, LC_CODEC_OPUS, LC_CODEC_G722, LC_CODEC_PCMA, LC_CODEC_PCMU,
                               LC_CODEC_SPEEX };
    const uint8_t *cfg = NULL;
    size_t cfg_len = 0, off = 1;
    int64_t pts = 0;
    uint8_t out[8192];
    char err[160];
    lc_audio_t *a;
    int codec;

    av_log_set_level(AV_LOG_QUIET);
    if (size < 1)
        return 0;
    codec = src[data[0] % 6];
    if (codec == LC_CODEC_AAC) {
        if (size < 2 || (size_t)data[1] + 2 > size)
            return 0;
        cfg = data + 2;
        cfg_len = data[1];
        off = 2 + cfg_len;
    }
    /* Opus is the output of all but Opus input, which goes to PCMA (cheap) */
    a = lc_audio_create(codec, cfg, cfg_len, codec == LC_CODEC_OPUS ? LC_CODEC_PCMA : LC_CODEC_OPUS, 48000, 2,
                        32000, err, sizeof err);
    if (a == NULL)
        return 0;
    while (off + 2 <= size) {
        size_t len = ((size_t)(data[off] & 0x7f) << 8) | data[off + 1];
        int64_t o;

        if (data[off] & 0x80)
            pts += 20000;
        off += 2;
        if (len > size - off)
            len = size - off;
        lc_audio_push(a, data + off, len, pts);
        off += len;
        pts += 20000;
        while (lc_audio_pull(a, out, sizeof out, &o) > 0)
            ;
    }
    lc_audio_flush(a);
    while (lc_audio_pull(a, out, sizeof out, &(int64_t){ 0 }) > 0)
        ;
    lc_audio_destroy(a);
    return 0;
}
