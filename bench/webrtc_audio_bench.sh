#!/usr/bin/env bash
# webrtc_audio_bench.sh: what the audio of an RTMP stream costs N WebRTC
# players. An RTMP H.264 + AAC stream reaches a WebRTC player with its audio
# as Opus through ONE shared transcoder per node (the derived stream
# NAME~opus, man livecdn(8) TRANSCODING), so the goal is: N players with
# audio cost N players without it plus one transcoder plus the per-packet
# cost of the audio packets, not N transcoders.
#
# Source: one ffmpeg publishing over RTMP a file made once per run in the
# temp dir (testsrc2 640x360 25 fps, H.264 constrained baseline CBR 600
# kbit/s, GOP 2 s + AAC-LC 44.1 kHz stereo 64 kbit/s of a 1 kHz sine, as
# long as the window: each window then holds one whole loop of it, since
# testsrc2's rate moves +-6% from one 2 s to the next), pushed with
# `-re -stream_loop -1 -c copy` (no live encode: TESTING.md).
# Cases, each on a fresh livecdn (worker_processes 1, pinned like
# bench/webrtc_bench.sh: server CPU 0, publisher and load client CPU 1) with
# the same N WHEP players of build/bench/webrtc_load:
#   video   players offering H.264 only (-A none -V h264): the video passes
#           through, no transcoder may run
#   audio   players offering Opus + H.264 (-A opus -V h264): the same video
#           and the audio from the one AAC->Opus transcoder (NAME~opus)
# run as WEBRTC_AUDIO_CASES, "video audio video" (the video-only cost is
# the mean of its runs: their spread shows the machine's noise).
# webrtc_load runs a hook (-H) at the edges of its window (after every
# player has RTP and a warm-up), which samples at the same instant
#   - utime+stime of every livecdn worker (pids from REST worker/show; the
#     transcoder's pool threads are threads of the worker, so counted), and
#     of all livecdn processes (master, relay, control too) as cpu_all
#   - the sum of cpu_seconds of REST transcoder/find_all (codec CPU of the
#     transcoders' jobs, CLOCK_THREAD_CPUTIME_ID), their number and players
#   - the server core's line of /proc/stat: busy (user+nice+system+irq+
#     softirq), softirq (on loopback the receivers' kernel path runs there,
#     charged to no process) and steal; core_other = busy - softirq - livecdn,
#     what other processes of the machine took from the server's core
# Output: per run `BENCH webrtc_audio_case case= run= ...`, then
#   BENCH webrtc_audio n= connected_video= connected_audio= cpu_video_only=
#         cpu_with_audio= transcoder_cpu= extra_cpu= extra_minus_transcoder=
#         extra_minus_transcoder_per_player_us= transcoder_share= audio_pps=
#         audio_pkt_us= video_pkt_us= per_player_tc_cpu= transcoders= ... status=
# and a table. cpu_* are the workers' CPU-seconds per second (1 = one core)
# in the window; transcoder_cpu the same for the transcoder's cpu_seconds;
# extra_cpu = cpu_with_audio - cpu_video_only; transcoder_share =
# transcoder_cpu / extra_cpu; extra_minus_transcoder_per_player_us =
# (extra_cpu - transcoder_cpu) / connected players, CPU-us per second per
# player; audio_pkt_us = (extra_cpu - transcoder_cpu) / the audio packets
# per second the players received (what one more audio packet costs: each
# is a frame of its own, so per-frame work is in it), video_pkt_us =
# cpu_video_only / video packets per second (~4 per frame); per_player_tc_cpu
# = N x transcoder_cpu, what a transcoder per player would have cost.
# status: ok, or what is wrong with the comparison, joined by +:
# saturated (the server core >= 95% busy in a window: the difference is no
# cost), contended (other processes took > 10% of the server core: the
# machine was not quiet), partial (not every player connected), transcoders
# (not 0 and 1 transcoders), video_differs (video packets per player differ
# by > 5%: the server fell behind in one case), or a dead worker, publisher,
# load timeout. Never worked around; logs go to stderr.
#
# N: 500 by default. On a 2-core machine one worker core saturates at about
# 930 players of this stream video only (~100k packets/s, 96% of the core;
# the ramp's blocking POSTs then also run out of time), so 1000 players
# measure an overload, not a cost. Environment: WEBRTC_AUDIO_N (500),
# WEBRTC_AUDIO_WINDOW (10 s), WEBRTC_AUDIO_WARMUP (3 s), WEBRTC_AUDIO_RAMP
# (200 players/s), WEBRTC_AUDIO_RAMP_MAX (20 s), WEBRTC_AUDIO_SETTLE (8 s),
# WEBRTC_AUDIO_CASES ("video audio video"), WEBRTC_AUDIO_PIN (1). With the
# defaults the script takes about 60 s; every step has a time bound, every
# process it starts is stopped by PID on exit.
set -u
cd "$(dirname "$0")/.." || exit 1
. bench/lib.sh
ROOT=$PWD
LOAD=$ROOT/build/bench/webrtc_load
PY=/usr/bin/python3
N=${WEBRTC_AUDIO_N:-500}
WINDOW=${WEBRTC_AUDIO_WINDOW:-10}
WARMUP=${WEBRTC_AUDIO_WARMUP:-3}
RAMP=${WEBRTC_AUDIO_RAMP:-200}
RAMP_MAX=${WEBRTC_AUDIO_RAMP_MAX:-20}
SETTLE=${WEBRTC_AUDIO_SETTLE:-8}
CASES=${WEBRTC_AUDIO_CASES:-"video audio video"}
# the source loops every SRC_S seconds: a window as long holds the same
# frames whatever its phase (testsrc2's bitrate moves +-6% from 2 s to 2 s,
# and the packets per player with it)
SRC_S=${WINDOW%.*}
[ "$SRC_S" -ge 4 ] 2>/dev/null || SRC_S=10
NAME=bench

T=$(mktemp -d /tmp/lc-webrtc-audio.XXXXXX)
RESULTS=$T/results
: >"$RESULTS"
SRV_PID="" PUB_PID="" LOAD_PID=""

log() { echo "webrtc_audio_bench: $*" >&2; }

stop_server() {
    stop_pid "$LOAD_PID" TERM 3
    LOAD_PID=
    stop_pid "$PUB_PID" TERM 3
    PUB_PID=
    if [ -n "$SRV_PID" ]; then
        local kids
        kids=$(pgrep -P "$SRV_PID" 2>/dev/null)
        stop_pid "$SRV_PID" TERM 5
        for k in $kids; do stop_pid "$k" KILL 1; done
    fi
    SRV_PID=
}

cleanup() {
    stop_server
    rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 130' INT TERM


# ---- prerequisites ----

if [ ! -x "$LOAD" ] || [ ! -x bin/livecdn ]; then
    log "build first: make all build/bench/webrtc_load"
    exit 1
fi
if ! command -v ffmpeg >/dev/null; then
    log "ffmpeg is missing (apt-get install ffmpeg): skipped"
    echo "BENCH webrtc_audio n=$N status=skipped reason=no_ffmpeg"
    exit 0
fi
PIN_SRV="" PIN_CLI="" SRV_CORE=""
if [ "${WEBRTC_AUDIO_PIN:-1}" = 1 ] && [ "$(nproc)" -ge 2 ] && command -v taskset >/dev/null; then
    PIN_SRV="taskset -c 0"
    PIN_CLI="taskset -c 1"
    SRV_CORE=0
fi
ulimit -Hn 65536 2>/dev/null
ulimit -n "$(ulimit -Hn)" 2>/dev/null
[ "$(ulimit -n)" != unlimited ] && [ "$(ulimit -n)" -lt $((N + 200)) ] &&
    log "warning: open files limit $(ulimit -n) < $((N + 200)) for $N players"
HZ=$(getconf CLK_TCK)
for c in $CASES; do
    [ "$c" = video ] || [ "$c" = audio ] || { log "WEBRTC_AUDIO_CASES: \"$c\" is neither video nor audio"; exit 1; }
done
[[ " $CASES " == *" video "* && " $CASES " == *" audio "* ]] || { log "WEBRTC_AUDIO_CASES needs a video and an audio case"; exit 1; }

# ---- the source file, once per run ----

MEDIA=$T/src.flv
log "encoding $MEDIA (640x360 25 fps H.264 CBR 600 kbit/s + AAC 44.1 kHz stereo 64 kbit/s, $SRC_S s)"
if ! timeout 120 $PIN_CLI ffmpeg -nostdin -v error -y -f lavfi -i testsrc2=size=640x360:rate=25 \
    -f lavfi -i sine=frequency=1000:sample_rate=44100 -t "$SRC_S" \
    -c:v libx264 -preset veryfast -profile:v baseline -g 50 -keyint_min 50 -sc_threshold 0 -pix_fmt yuv420p \
    -b:v 600k -minrate 600k -maxrate 600k -bufsize 600k -x264-params nal-hrd=cbr:force-cfr=1 \
    -c:a aac -b:a 64k -ar 44100 -ac 2 -f flv "$MEDIA" >"$T/enc.log" 2>&1; then
    log "ffmpeg could not encode the source:"; tail -5 "$T/enc.log" >&2
    echo "BENCH webrtc_audio n=$N status=encode_failed"
    exit 0
fi
SRC_KBPS=$(($(stat -c %s "$MEDIA") * 8 / SRC_S / 1000))

# ---- livecdn ----

start_livecdn() {
    local d=$T/livecdn
    rm -rf "$d" && mkdir -p "$d/logs" "$d/html"
    SIG_PORT=$(free_port)
    HTTP_PORT=$(free_port)
    RTMP_PORT=$(free_port)
    UDP_RANGE=$(free_udp_range)
    cat >"$d/livecdn.conf" <<EOF
worker_processes = 1;
pid = "logs/livecdn.pid";
error_log = "logs/error.log";
log_level = "warn";
signaling: { listen = "127.0.0.1:$SIG_PORT"; };
http: { listen = "127.0.0.1:$HTTP_PORT"; root = "html"; };
rtmp: { listen = "127.0.0.1:$RTMP_PORT"; };
webrtc: { udp_ports = "$UDP_RANGE"; public_ip = "127.0.0.1"; };
EOF
    SRV_LOG=$d/logs/error.log
    $PIN_SRV "$ROOT/bin/livecdn" -g -c "$d/livecdn.conf" -p "$d" >"$d/stdout.log" 2>&1 &
    SRV_PID=$!
    WORKERS="" ALLPIDS=""
    for _ in $(seq 150); do
        if ss -ltnH "sport = :$SIG_PORT" | grep -q . && ss -ltnH "sport = :$HTTP_PORT" | grep -q . &&
            ss -ltnH "sport = :$RTMP_PORT" | grep -q .; then
            # the workers, and every process of the server, from the REST API
            read -r WORKERS ALLPIDS < <(rest worker/show | $PY -c '
import json, sys
try:
    j = json.load(sys.stdin)
    w = [str(p["pid"]) for p in j["processes"] if p["role"] == "worker"]
    a = [str(j["master"]["pid"])] + [str(p["pid"]) for p in j["processes"]]
    if w: print(",".join(w), ",".join(a))
except Exception:
    pass')
            [ -n "$WORKERS" ] && return 0
        fi
        kill -0 "$SRV_PID" 2>/dev/null || break
        sleep 0.1
    done
    log "livecdn did not start:"; tail -20 "$SRV_LOG" "$d/stdout.log" >&2
    return 1
}

# The hook webrtc_load runs at its window's edges: one line per edge in
# $T/samples.$case: EDGE t= cpu_workers= cpu_all= tc_cpu= tc_n= tc_players=
write_hook() {
    cat >"$T/hook.sh" <<'EOF'
#!/usr/bin/env bash
# $1 samples file, $2 worker pids, $3 all pids (comma-separated), $4 REST base URL, $5 CLK_TCK,
# $6 the server's CPU (cpuN line of /proc/stat) or "none", $7 edge
t=$(date +%s.%N)
# utime+stime (ticks) of the workers and of every process, read in one pass
w=0 a=0
for p in ${3//,/ }; do
    { read -r l <"/proc/$p/stat"; } 2>/dev/null || continue
    read -ra f <<<"${l##*) }"    # after the comm field (which may hold spaces): state ppid ... utime(11) stime(12)
    x=$((f[11] + f[12]))
    a=$((a + x))
    [[ ",$2," == *",$p,"* ]] && w=$((w + x))
done
# the server's core: busy (user nice system irq softirq), softirq alone, steal; ticks
core="0 0 0"
[ "$6" != none ] && core=$(awk -v c="cpu$6" '$1 == c { print $2 + $3 + $4 + $7 + $8, $8, $9 }' /proc/stat)
set -- "$@" $core
tc=$(curl -s -m 2 -X POST -H 'Content-Type: application/json' -d '{}' "$4/transcoder/find_all")
printf "%s" "$tc" | awk -v edge="$7" -v t="$t" -v w="$w" -v a="$a" -v hz="$5" -v cb="$8" -v cs="$9" -v st="${10}" '
{ s = $0
  while (match(s, /"cpu_seconds":[-+0-9.eE]+/)) { cpu += substr(s, RSTART + 14, RLENGTH - 14); n++; s = substr(s, RSTART + RLENGTH) }
  s = $0
  while (match(s, /"players":[0-9]+/)) { pl += substr(s, RSTART + 10, RLENGTH - 10); s = substr(s, RSTART + RLENGTH) } }
END { printf "%s t=%s cpu_workers=%.2f cpu_all=%.2f tc_cpu=%.6f tc_n=%d tc_players=%d core_busy=%.2f core_softirq=%.2f core_steal=%.2f rest=%s\n",
             edge, t, w / hz, a / hz, cpu, n, pl, cb / hz, cs / hz, st / hz, NR ? "ok" : "none" }' >>"$1"
EOF
    chmod +x "$T/hook.sh"
}

# run_case CASE (video|audio) RUN: appends a BENCH webrtc_audio_case line to $RESULTS
run_case() {
    local c=$1 run=$2 opts rc status=ok out line k=$1.$2
    case $c in
        video) opts="-A none -V h264" ;;
        audio) opts="-A opus -V h264" ;;
    esac
    start_livecdn || { echo "BENCH webrtc_audio_case case=$c run=$run n=$N status=start_failed" >>"$RESULTS"; stop_server; return; }
    $PIN_CLI ffmpeg -nostdin -v error -re -stream_loop -1 -i "$MEDIA" -c copy -f flv \
        "rtmp://127.0.0.1:$RTMP_PORT/live/$NAME" >"$T/pub.$k.log" 2>&1 &
    PUB_PID=$!
    # the stream is up when the server knows both codecs (a player before that waits up to 2 s)
    local up=
    for _ in $(seq 100); do
        rest stream/find_all | grep -q "\"name\":\"$NAME\",\"codecs\":\"H264,AAC\"" && { up=1; break; }
        kill -0 "$PUB_PID" 2>/dev/null || break
        sleep 0.1
    done
    if [ -z "$up" ]; then
        log "$c: the RTMP stream never came up as H264,AAC:"; tail -5 "$T/pub.$k.log" "$SRV_LOG" >&2
        rest stream/find_all >&2; echo >&2
        echo "BENCH webrtc_audio_case case=$c run=$run n=$N status=no_stream" >>"$RESULTS"
        stop_server
        return
    fi
    sleep 1 # a GOP in the ring before the first player
    local smp=$T/samples.$k
    : >"$smp"
    local budget=$((RAMP_MAX + 2 * SETTLE + WARMUP + ${WINDOW%.*} + 20))
    # -p: the load client's own srv_cpu_s over the workers, a cross-check of the hook's
    local pflags=""
    for p in ${WORKERS//,/ }; do pflags="$pflags -p $p"; done
    timeout -k 5 "$budget" $PIN_CLI "$LOAD" -u "http://127.0.0.1:$SIG_PORT/whep/$NAME" -n "$N" -r "$RAMP" -R "$RAMP_MAX" \
        -t "$WINDOW" -w "$WARMUP" -s "$SETTLE" $pflags $opts \
        -H "$T/hook.sh $smp $WORKERS $ALLPIDS http://127.0.0.1:$HTTP_PORT/rest-api $HZ ${SRV_CORE:-none}" >"$T/load.$k.out" 2>"$T/load.$k.err" &
    LOAD_PID=$!
    wait "$LOAD_PID"
    rc=$?
    LOAD_PID=
    out=$(cat "$T/load.$k.out")
    grep -v '^$' "$T/load.$k.err" | sed "s/^/  [$k] /" >&2
    local w
    for w in ${WORKERS//,/ }; do kill -0 "$w" 2>/dev/null || status=worker_died; done
    if [ "$status" = ok ]; then
        if [ $rc -eq 124 ] || [ $rc -eq 137 ]; then
            status=load_timeout
        elif ! kill -0 "$PUB_PID" 2>/dev/null; then
            status=publisher_died
        elif [ "$(grep -c '^start ' "$smp")" != 1 ] || [ "$(grep -c '^end ' "$smp")" != 1 ] || grep -q 'rest=none' "$smp"; then
            status=no_samples
        fi
    fi
    line=$(grep '^BENCH webrtc_load' <<<"$out")
    if [ -z "$line" ]; then
        echo "BENCH webrtc_audio_case case=$c run=$run n=$N status=$status" >>"$RESULTS"
    else
        # one line from the load client's result and the hook's start (S) and end (E) samples
        {
            echo "$line"
            sed -n 's/^start /S /p; s/^end /E /p' "$smp"
        } | awk -v c="$c" -v run="$run" -v st="$status" -v core="${SRV_CORE:+1}" '
            /^BENCH/ { for (i = 3; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] } }
            /^S / { for (i = 2; i <= NF; i++) { split($i, kv, "="); s[kv[1]] = kv[2] } }
            /^E / { for (i = 2; i <= NF; i++) { split($i, kv, "="); e[kv[1]] = kv[2] } }
            END {
                dt = e["t"] - s["t"]
                if (dt <= 0) dt = -1
                fmt = "BENCH webrtc_audio_case case=%s run=%d n=%d connected=%d failed=%d status=%s sample_s=%.3f win_s=%.3f "
                fmt = fmt "cpu=%.4f cpu_all=%.4f tc_cpu=%.4f transcoders=%d tc_players=%d pps=%.0f audio_pps=%.0f "
                fmt = fmt "video_pps=%.0f audio_players=%d lost=%d audio_lost=%d srtp_err=%d load_srv_cpu_s=%.2f "
                fmt = fmt "client_cpu_s=%.2f mbps=%.1f first_p50_ms=%.1f first_p99_ms=%.1f not_started=%d post_err=%d "
                fmt = fmt "ice_err=%d dtls_err=%d no_rtp=%d core_busy=%s core_softirq=%s core_steal=%s core_other=%s\n"
                printf fmt, c, run, v["n"], v["connected"], v["failed"], st, dt, v["win_s"],
                       (e["cpu_workers"] - s["cpu_workers"]) / dt, (e["cpu_all"] - s["cpu_all"]) / dt,
                       (e["tc_cpu"] - s["tc_cpu"]) / dt, e["tc_n"], e["tc_players"], v["pps"], v["audio_pps"],
                       v["video_pps"], v["audio_players"], v["lost"], v["audio_lost"], v["srtp_err"], v["srv_cpu_s"],
                       v["client_cpu_s"], v["mbps"], v["first_p50_ms"], v["first_p99_ms"], v["not_started"],
                       v["post_err"], v["ice_err"], v["dtls_err"], v["no_rtp"],
                       (core ? sprintf("%.4f", (e["core_busy"] - s["core_busy"]) / dt) : "-"),
                       (core ? sprintf("%.4f", (e["core_softirq"] - s["core_softirq"]) / dt) : "-"),
                       (core ? sprintf("%.4f", (e["core_steal"] - s["core_steal"]) / dt) : "-"),
                       (core ? sprintf("%.4f", (e["core_busy"] - s["core_busy"] - e["core_softirq"] + s["core_softirq"] - \
                                                e["cpu_all"] + s["cpu_all"]) / dt) : "-")
            }' >>"$RESULTS"
    fi
    if [ "$status" != ok ] || grep -q 'failed=[1-9]' <<<"$line" || [ -z "$line" ]; then
        log "$c: $status, ${line:-no result}"
        log "publisher log ends with:"; tail -3 "$T/pub.$k.log" | sed 's/^/  | /' >&2
        log "livecdn error log ends with:"; tail -10 "$SRV_LOG" | cut -c1-300 | sed 's/^/  | /' >&2
    elif [ -s "$SRV_LOG" ]; then
        log "$c: livecdn error log: $(wc -l <"$SRV_LOG") lines, the last ones:"
        tail -3 "$SRV_LOG" | cut -c1-300 | sed 's/^/  | /' >&2
    fi
    stop_server
}

write_hook
log "$N players per run, runs: $CASES; window ${WINDOW}s after ${WARMUP}s warm-up; ramp $RAMP/s" \
    "(at most ${RAMP_MAX}s); source ${SRC_KBPS} kbit/s${PIN_SRV:+; server pinned to CPU 0, publisher and clients to CPU 1}"
run=0
for c in $CASES; do
    run=$((run + 1))
    log "-- run $run: $c, $N players"
    run_case "$c" "$run"
    grep "case=$c run=$run " "$RESULTS" | tail -1
done

# ---- the comparison ----

awk -v N="$N" '
# several runs of a case (video audio video: drift and noise show): means of
# their numbers; the worst of their statuses, connected and transcoders
/^BENCH webrtc_audio_case / {
    delete v
    for (i = 3; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
    c = v["case"]
    if (v["status"] != "ok" && bad[c] == "") bad[c] = v["status"]
    if (v["cpu"] == "") next
    nr[c]++
    for (k in v) if (v[k] ~ /^-?[0-9.]+$/) sum[c, k] += v[k]
    if (v["core_busy"] == "-") nocore = 1
    if (v["core_other"] != "-" && v["core_other"] > other) other = v["core_other"]
    if (nr[c] == 1 || v["cpu"] < lo[c]) lo[c] = v["cpu"]
    if (nr[c] == 1 || v["cpu"] > hi[c]) hi[c] = v["cpu"]
    if (nr[c] == 1 || v["connected"] < cmin[c]) cmin[c] = v["connected"]
    if (nr[c] == 1 || v["transcoders"] < tmin[c]) tmin[c] = v["transcoders"]
    if (nr[c] == 1 || v["transcoders"] > tmax[c]) tmax[c] = v["transcoders"]
}
END {
    st = bad["video"] != "" ? "video_" bad["video"] : bad["audio"] != "" ? "audio_" bad["audio"] : "ok"
    if (st != "ok" || !nr["video"] || !nr["audio"]) {
        printf "BENCH webrtc_audio n=%s status=%s\n", N, st == "ok" ? "no_result" : st
        exit
    }
    for (k in sum) { split(k, ck, SUBSEP); r[ck[1], ck[2]] = sum[k] / nr[ck[1]] }
    cv = r["video", "connected"]; ca = r["audio", "connected"]
    if (cmin["video"] < N || cmin["audio"] < N) st = "partial"
    if (tmax["video"] != 0 || tmin["audio"] != 1 || tmax["audio"] != 1) st = (st == "ok" ? "transcoders" : st "+transcoders")
    # the core of the server (worker + the kernel work it causes + steal), else the worker alone
    split("video audio", cs, " ")
    sat = 0
    for (i = 1; i <= 2; i++) {
        c = cs[i]
        load = nocore ? hi[c] : r[c, "core_busy"] + r[c, "core_steal"]
        if (load >= 0.95) sat = 1
    }
    if (sat) st = (st == "ok" ? "saturated" : st "+saturated")
    # other processes took more than 10% of the server core in a window: the machine was not quiet
    if (other > 0.10) st = (st == "ok" ? "contended" : st "+contended")
    # each player should get the same video either way: fewer video packets per player = the server fell behind
    vpv = cv > 0 ? r["video", "video_pps"] / cv : 0; vpa = ca > 0 ? r["audio", "video_pps"] / ca : 0
    if (vpa < 0.95 * vpv || vpv < 0.95 * vpa) st = (st == "ok" ? "video_differs" : st "+video_differs")
    extra = r["audio", "cpu"] - r["video", "cpu"]
    tc = r["audio", "tc_cpu"]
    rest = extra - tc
    app = r["audio", "audio_pps"]
    fmt = "BENCH webrtc_audio n=%s connected_video=%d connected_audio=%d cpu_video_only=%.4f cpu_with_audio=%.4f "
    fmt = fmt "transcoder_cpu=%.4f extra_cpu=%.4f extra_minus_transcoder=%.4f extra_minus_transcoder_per_player_us=%.1f "
    fmt = fmt "transcoder_share=%s audio_pps=%.0f audio_players=%d video_pps_video_only=%.0f video_pps_with_audio=%.0f "
    fmt = fmt "audio_pkt_us=%s video_pkt_us=%.3f per_player_tc_cpu=%.2f transcoders=%d tc_players=%d "
    fmt = fmt "transcoders_video_only=%d cpu_all_video_only=%.4f cpu_all_with_audio=%.4f core_busy_video_only=%s "
    fmt = fmt "core_busy_with_audio=%s video_pps_per_player_video_only=%.1f video_pps_per_player_with_audio=%.1f "
    fmt = fmt "audio_pps_per_player=%.1f runs_video=%d runs_audio=%d cpu_video_only_spread=%.4f cpu_with_audio_spread=%.4f "
    fmt = fmt "core_other_max=%s status=%s\n"
    share = extra > 0 ? sprintf("%.3f", tc / extra) : "-"
    per_apkt = app > 0 ? sprintf("%.3f", rest / app * 1e6) : "-"
    per_vpkt = r["video", "video_pps"] > 0 ? r["video", "cpu"] / r["video", "video_pps"] * 1e6 : 0
    printf fmt, N, cv, ca, r["video", "cpu"], r["audio", "cpu"], tc, extra, rest,
           (ca > 0 ? rest / ca * 1e6 : 0), share, app, r["audio", "audio_players"],
           r["video", "video_pps"], r["audio", "video_pps"], per_apkt, per_vpkt, N * tc,
           r["audio", "transcoders"], r["audio", "tc_players"], r["video", "transcoders"],
           r["video", "cpu_all"], r["audio", "cpu_all"], nocore ? "-" : sprintf("%.4f", r["video", "core_busy"]),
           nocore ? "-" : sprintf("%.4f", r["audio", "core_busy"]), vpv, vpa, (ca > 0 ? app / ca : 0), nr["video"], nr["audio"],
           hi["video"] - lo["video"], hi["audio"] - lo["audio"], nocore ? "-" : sprintf("%.4f", other), st
}' "$RESULTS" >>"$RESULTS"
grep '^BENCH webrtc_audio ' "$RESULTS"

echo
echo "WebRTC players of an RTMP H.264 + AAC stream (${SRC_KBPS} kbit/s), video only vs Opus + video (one shared AAC->Opus transcoder)"
echo "(cpu: livecdn worker CPU-s per s in the window, 1 = a core; transcoder: its cpu_seconds per s (transcoder/find_all);"
echo " extra = with audio - video only; per audio packet = (extra - transcoder) / audio packets per s the players received)"
awk '
/^BENCH webrtc_audio_case / {
    delete v
    for (i = 3; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
    if (!h++) printf "%-8s %11s %7s %7s %7s %7s %10s %10s %11s %12s %6s %s\n", "run", "players", "cpu%", "all%", "core%",
                     "other%", "audio pps", "video pps", "transcoder", "tc/players", "lost", "status"
    if (v["cpu"] == "") { printf "%-8s %11s %s\n", v["run"] " " v["case"], v["n"], v["status"]; next }
    nc = v["core_busy"] == "-" || v["core_busy"] == ""
    printf "%-8s %11s %7.1f %7.1f %7s %7s %10.0f %10.0f %10.2f%% %12s %6d %s\n", v["run"] " " v["case"], v["connected"] "/" v["n"],
           100 * v["cpu"], 100 * v["cpu_all"], nc ? "-" : sprintf("%.1f", 100 * (v["core_busy"] + v["core_steal"])),
           nc ? "-" : sprintf("%.1f", 100 * v["core_other"]), v["audio_pps"], v["video_pps"], 100 * v["tc_cpu"],
           v["transcoders"] "/" v["tc_players"], v["lost"], v["status"]
}
/^BENCH webrtc_audio / {
    delete v
    for (i = 3; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
    if (v["extra_cpu"] == "") { printf "%-8s %s\n", "result", v["status"]; next }
    printf "%-8s extra CPU with audio %.1f%% of a core = transcoder %.2f%% (%s of the extra) + %.1f%% other (%.1f us/s per player,\n",
           "result", 100 * v["extra_cpu"], 100 * v["transcoder_cpu"], v["transcoder_share"], 100 * v["extra_minus_transcoder"],
           v["extra_minus_transcoder_per_player_us"]
    printf "%-8s %s us per audio packet vs %.2f us per video packet); a transcoder per player: %.1f cores; status %s\n", "",
           v["audio_pkt_us"], v["video_pkt_us"], v["per_player_tc_cpu"], v["status"]
    printf "%-8s noise: cpu%% of the %d video-only runs spread %.1f points, of the %d with audio %.1f\n", "",
           v["runs_video"], 100 * v["cpu_video_only_spread"], v["runs_audio"], 100 * v["cpu_with_audio_spread"]
}' "$RESULTS"
