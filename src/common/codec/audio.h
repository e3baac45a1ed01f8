/*
 * audio.h: one audio transcoder: jitter buffer -> decode -> resample ->
 * encode, I/O-free and single-threaded (the pool runs one at a time).
 *
 * Timestamps (microseconds): output pts = the first input's pts + (samples
 * encoded so far - the encoder's delay) / rate, so there is no drift and
 * no gap at the start. The delay (Opus lookahead 6.5 ms, AAC's 1024
 * samples of priming) is taken off because nothing downstream does: RTP
 * and FLV carry no pre-skip or edit list, so a decoder plays the priming,
 * and the first input sample comes out that much late. With it taken off
 * it plays at its own pts, in step with the video (the first output frame,
 * mostly priming, starts that much before the first input).
 *
 * Jitter buffer: LC_AUDIO_JITTER frames, ordered by pts; a frame is decoded
 * once that many newer ones wait behind it (60 ms of 20 ms frames), a frame
 * older than the last decoded one is dropped. Opus input: a hole of one or
 * more frame durations is filled with FEC from the next packet (its first
 * 20 ms) and PLC for the rest, never silence or a gap. Other input: a hole
 * of 15 ms to 1 s becomes silence, so output pts stay on the input's clock.
 *
 * Ownership: lc_audio_create returns the object; lc_audio_destroy frees it
 * and everything inside. Bad input frames are dropped and counted in
 * lc_audio_errors(); they never end the transcoder.
 */
#ifndef LC_AUDIO_H
#define LC_AUDIO_H

#include <stddef.h>
#include <stdint.h>

#define LC_AUDIO_JITTER 3

typedef struct lc_audio lc_audio_t;

/* src/dst: lc_codec_t (OPUS, AAC, PCMA, PCMU, G722, SPEEX). cfg: AAC's
 * AudioSpecificConfig (NULL otherwise). rate/channels: of the output
 * (Opus is always 48000; PCMA/PCMU 8000 mono; G722, Speex 16000 mono).
 * bitrate in bit/s (0 = the encoder's default). NULL with err on failure. */
lc_audio_t *lc_audio_create(int src, const uint8_t *cfg, size_t cfg_len, int dst, int rate,
                            int channels, int bitrate, char *err, size_t err_size);
void lc_audio_destroy(lc_audio_t *a);

/* One encoded input frame. 0, or -1 when the frame was dropped (corrupt,
 * late): lc_audio_error() says why; the transcoder stays usable. */
int lc_audio_push(lc_audio_t *a, const uint8_t *data, size_t len, int64_t pts_us);
/* Decodes what the jitter buffer holds (end of stream). */
void lc_audio_flush(lc_audio_t *a);
/* Next encoded output frame: its length (copied into buf, *pts_us set), 0 when
 * none is ready, -1 when buf is too small (the frame stays queued). */
int lc_audio_pull(lc_audio_t *a, uint8_t *buf, size_t size, int64_t *pts_us);

/* Opus output: in-band FEC for this expected loss (0 = off, the default:
 * FEC costs about 3.7x the encoder's CPU). 0, or -1 when the output is not Opus. */
int lc_audio_set_fec(lc_audio_t *a, int loss_percent);

/* The encoder's configuration (AAC: its AudioSpecificConfig, the FLV
 * sequence header's body): its length, 0 when the codec has none, -1 when
 * buf is too small. */
int lc_audio_out_config(const lc_audio_t *a, uint8_t *buf, size_t size);
int lc_audio_out_rate(const lc_audio_t *a);
int lc_audio_out_channels(const lc_audio_t *a);

const char *lc_audio_error(const lc_audio_t *a);
uint64_t lc_audio_errors(const lc_audio_t *a);
uint64_t lc_audio_concealed(const lc_audio_t *a);    /* Opus frames made by FEC/PLC */

#endif
