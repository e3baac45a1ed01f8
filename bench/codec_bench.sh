#!/usr/bin/env bash
# codec_bench.sh: the transcoders against the ffmpeg command line, same
# input, same run, same core. AAC->Opus and Opus->AAC (48 kHz stereo,
# 64 kbit/s), VP8->H.264 and H.264->VP8 (640x360 30 fps, 1 Mbit/s).
#
#   livecdn  build/bench/codec_audio and build/bench/codec_video make their
#            input in memory, write it to a temp dir (in.aac ADTS, in.opus
#            Ogg, in.ivf VP8, in.flv H.264) and time lc_audio / lc_video over
#            it: CPU of the transcoding thread (CLOCK_THREAD_CPUTIME_ID),
#            rounds over the input until >= 3 CPU-s.
#   ffmpeg   one `ffmpeg` process per conversion over the same file, looped
#            (-stream_loop) so it transcodes as many stream seconds as livecdn
#            did: user + sys of the whole process (bash `time`: startup,
#            demuxing, the filter graph's sample/pixel format conversion and
#            muxing included - "a full ffmpeg process", which each of our
#            transcoders does less than). Its startup (the same command over
#            one frame) is reported apart as startup_cpu_s.
# Settings, matched to src/common/codec/audio.c and video.c:
#   Opus out  libopus, application audio, 64 kbit/s constrained VBR,
#             complexity 10, 20 ms frames, no FEC: libopus's defaults, as
#             lc_audio leaves them. ffmpeg's `-vbr on` (its default) is
#             unconstrained VBR, which spends ~90 kbit/s on this input, so
#             `-vbr constrained` here
#   AAC out   libavcodec's native aac, LC, 64 kbit/s (coder twoloop, default)
#   Opus in   libopus decoder (-c:a libopus before -i; ffmpeg's default is its
#             native decoder, lc_audio uses libopus), AAC in: native aac
#   H.264 out libx264 veryfast zerolatency baseline, 1M/1M/1M (bitrate,
#             maxrate, VBV), GOP bound 600, keyframes at the source's
#             (-force_key_frames source, forced-idr), no B-frames
#   VP8 out   libvpx realtime cpu-used 8, lag 0, no alt-ref, q 4..56, 1M/1M/1M,
#             keyframes at the source's
#   decoders  libavcodec's native vp8 and h264, one thread (-threads 1 before
#             -i); encoders one thread; -filter_threads 1
# Unavoidable differences: ffmpeg reads files and writes its output to files
# (ADTS, Ogg, raw H.264, IVF: ffprobe then sums the packets, to check its
# bitrate against ours; not timed) where
# lc_* gets and gives frames in memory; ffmpeg's raw H.264 output repeats
# SPS/PPS at each keyframe (lc sends them once, as the avcC); lc's encoders
# have a 1/1000000 time base (pts in microseconds), ffmpeg's 1/30 or 1/48000.
# ffmpeg's CPU counts its whole process (its main thread does demux, decode,
# filter, encode, mux in turn: version 5.x has no other busy threads here).
#
# Pinning: with 2+ cores everything (ours and ffmpeg) runs on CPU 1, so the
# numbers are one core's; CODEC_BENCH_PIN=0 turns it off.
# Noise: the whole comparison runs CODEC_BENCH_REPEAT (2) times, ours then
# ffmpeg's each time, and each side's best run per conversion is reported
# (single runs here moved the ratio by +-10%). About 35 s per repetition.
# Output: `BENCH codec name=...` (from the C benchmarks) and
# `BENCH codec_ffmpeg name=... streams_per_core=...` lines on stdout, each
# the best of the repetitions (best_of=N); progress and every run on stderr.
set -u
cd "$(dirname "$0")/.." || exit 1

T=$(mktemp -d /tmp/lc-codec-bench.XXXXXX)
trap 'rm -rf "$T"' EXIT
trap 'exit 130' INT TERM
log() { echo "codec_bench: $*" >&2; }

REPEAT=${CODEC_BENCH_REPEAT:-2}
PIN=()
if [ "${CODEC_BENCH_PIN:-1}" = 1 ] && [ "$(nproc)" -ge 2 ] && command -v taskset >/dev/null && taskset -c 1 true 2>/dev/null; then
    PIN=(taskset -c 1)
fi

for b in codec_audio codec_video; do
    if [ ! -x build/bench/$b ]; then
        log "build first: make build/bench/codec_audio build/bench/codec_video"
        exit 1
    fi
done

have_ffmpeg=1
command -v ffmpeg >/dev/null || { have_ffmpeg=0; log "ffmpeg is missing (apt-get install ffmpeg): its rows skipped"; }

# key=value of our BENCH line for conversion $1
lc_val() { awk -v n="$1" -v k="$2" '$2 == "codec" && $3 == "name=" n {
        for (i = 3; i <= NF; i++) { split($i, a, "="); if (a[1] == k) print a[2] } }' "$T/lc.out"; }

# user+sys CPU seconds of one command (bash `time` over the child); its
# stderr in $T/ff.err, nonzero exit status reported as "fail"
cpu_of() {
    local TIMEFORMAT='%3U %3S' t
    t=$( { time "${PIN[@]}" "$@" >/dev/null 2>"$T/ff.err"; } 2>&1 ) || { echo fail; return; }
    awk '{ printf "%.3f\n", $1 + $2 }' <<<"$t"
}

# run_ff NAME INPUT OUTPUT [decoder options] -- [encoder options]
run_ff() {
    local name=$1 in=$T/$2 out=$T/$3 stream_s input_s loops cpu start bytes kbps s_s dec=() enc=()
    shift 3
    while [ $# -gt 0 ] && [ "$1" != -- ]; do dec+=("$1"); shift; done
    shift
    enc=("$@")
    stream_s=$(lc_val "$name" stream_s)
    input_s=$(lc_val "$name" input_s)
    if [ -z "$stream_s" ] || [ ! -s "$in" ]; then
        echo "BENCH codec_ffmpeg name=$name status=skipped reason=no_livecdn_result"
        return
    fi
    # as many stream seconds as ours did (whole loops of the input)
    loops=$(awk -v s="$stream_s" -v i="$input_s" 'BEGIN { n = int(s / i + 0.5); print n < 1 ? 1 : n }')
    log "ffmpeg $name: ${loops}x ${input_s} s of $(basename "$in")"
    start=$(cpu_of ffmpeg -nostdin -v error -y -threads 1 -filter_threads 1 "${dec[@]}" -i "$in" -frames 1 \
            "${enc[@]}" -threads 1 "$out")
    cpu=$(cpu_of ffmpeg -nostdin -v error -y -threads 1 -filter_threads 1 "${dec[@]}" -stream_loop $((loops - 1)) \
          -i "$in" "${enc[@]}" -threads 1 "$out")
    if [ "$cpu" = fail ] || [ "$start" = fail ]; then
        log "ffmpeg $name failed: $(head -c 300 "$T/ff.err")"
        echo "BENCH codec_ffmpeg name=$name status=failed"
        return
    fi
    [ -s "$T/ff.err" ] && log "ffmpeg $name said: $(head -c 300 "$T/ff.err")"
    s_s=$(awk -v l="$loops" -v i="$input_s" 'BEGIN { printf "%.3f", l * i }')
    # the encoder's payload (packets, no container), as ours counts it
    # (ADTS: ffmpeg's packets keep their 7-byte headers)
    bytes=$(ffprobe -v error -show_entries packet=size -of csv=p=0 "$out" 2>/dev/null |
            awk -v h="$([ "${out##*.}" = aac ] && echo 7 || echo 0)" '{ s += $1 - h } END { print s + 0 }')
    [ "${bytes:-0}" -gt 0 ] || bytes=$(stat -c %s "$out")
    kbps=$(awk -v b="$bytes" -v s="$s_s" 'BEGIN { printf "%.0f", b * 8 / 1000 / s }')
    rm -f "$out"
    awk -v n="$name" -v s="$s_s" -v c="$cpu" -v st="$start" -v k="$kbps" -v l="$loops" 'BEGIN {
        printf "BENCH codec_ffmpeg name=%s streams_per_core=%.2f cpu_s_per_stream_s=%.6f stream_s=%s cpu_s=%.3f loops=%d startup_cpu_s=%.3f steady_streams_per_core=%.2f out_kbps=%s status=ok\n",
               n, s / c, c / s, s, c, l, st, (c > st ? s / (c - st) : 0), k }'
}

# Each repetition: ours (which writes the input to $T again, the same
# bytes), then ffmpeg over it; the best of the repetitions per side is kept
# (interleaved, so a noisy neighbour hurts both sides alike).
: > "$T/all"
for rep in $(seq "$REPEAT"); do
    log "repetition $rep of $REPEAT: livecdn"
    "${PIN[@]}" build/bench/codec_audio "$T" > "$T/lc.out"
    "${PIN[@]}" build/bench/codec_video "$T" >> "$T/lc.out"
    grep -v '^BENCH' "$T/lc.out" | sed 's/^/codec_bench:   /' >&2
    grep '^BENCH' "$T/lc.out" >> "$T/all"
    if [ $have_ffmpeg = 0 ]; then
        for n in aac_opus opus_aac vp8_h264 h264_vp8; do
            echo "BENCH codec_ffmpeg name=$n status=skipped reason=no_ffmpeg" >> "$T/all"
        done
        continue
    fi
    {
        run_ff aac_opus in.aac out.opus -- -map 0:a -c:a libopus -b:a 64k -vbr constrained -application audio \
            -frame_duration 20 -compression_level 10 -f ogg
        run_ff opus_aac in.opus out.aac -c:a libopus -- -map 0:a -c:a aac -profile:a aac_low -b:a 64k -f adts
        run_ff vp8_h264 in.ivf out.h264 -c:v vp8 -- -map 0:v -c:v libx264 -preset veryfast -tune zerolatency \
            -profile:v baseline -b:v 1M -maxrate 1M -bufsize 1M -g 600 -bf 0 -forced-idr 1 -force_key_frames source \
            -pix_fmt yuv420p -f h264
        run_ff h264_vp8 in.flv out.ivf -c:v h264 -- -map 0:v -c:v libvpx -deadline realtime -cpu-used 8 \
            -lag-in-frames 0 -auto-alt-ref 0 -qmin 4 -qmax 56 -b:v 1M -maxrate 1M -bufsize 1M -g 600 \
            -force_key_frames source -pix_fmt yuv420p -f ivf
    } | tee -a "$T/all" | sed 's/^/codec_bench:   /' >&2
done

# per side and conversion: the line with the most streams per core (or,
# when none has a number, the last status line), in first-seen order
awk -v reps="$REPEAT" '{
        k = $2 " " $3; sp = -1
        for (i = 4; i <= NF; i++) if ($i ~ /^streams_per_core=/) sp = substr($i, 18) + 0
        if (!(k in best)) { order[++n] = k; best[k] = -2 }
        if (sp > best[k]) { best[k] = sp; line[k] = $0 }
     }
     END { for (i = 1; i <= n; i++) print line[order[i]] (best[order[i]] >= 0 ? " best_of=" reps : "") }' "$T/all"
exit 0
