#!/usr/bin/env bash
# rtmp_bench.sh: RTMP fan-out, livecdn against nginx-rtmp on the same
# machine in the same run. One publisher (ffmpeg pushing a CBR file with
# -c copy) and N players of build/bench/rtmp_load, for each stream bitrate
# (600 kbps, 2.5 Mbit/s) and N (500, 2000, 5000), against
#   livecdn   worker_processes = 1, media.gop_cache = true, rtmp.chunk_size 4096
#   nginx     Debian's libnginx-mod-rtmp, worker_processes 1, chunk_size 4096
#             (the config of /work/shared/TESTING.md, worker_connections 20000)
# Each case starts the server afresh (so its RSS baseline is clean), waits
# for the stream with a one-player probe, then runs the load. rtmp_load
# samples the server's media process (livecdn's worker, nginx's worker) at
# the edges of its measurement window, after every player has its first
# keyframe and a warm-up:
#   CPU-s/GB   (utime+stime delta) / (bytes the players received in the window, 1e9 per GB)
#   KiB/player (VmRSS with N players - VmRSS before the first player) / players;
#              livecdn's rings are a shared arena (RssShmem): VmRSS counts the
#              pages of it the worker touched, so "anon" (RssAnon delta) is
#              also shown, the private memory a player costs
#   first frame: ms from play sent to the first video keyframe at the player
#              (livecdn: GOP cache; nginx-rtmp has none and waits for the next one)
# Pinning: with 2+ cores the servers run on CPU 0 and the publisher and the
# load client on CPU 1, so the server has one core to itself ("players per
# core" as the published SRS/nginx-rtmp anchors count them). RTMP_BENCH_PIN=0 turns it off.
# A server that cannot keep up is not a failure: the table shows what was
# delivered against N x bitrate. A livecdn crash, refusal or stall is
# reported with the tail of its error log, never worked around.
#
# Output: per case one `BENCH rtmp ...` line, per bitrate and N one
# `BENCH rtmp_ratio ...` line, then a table. Environment knobs:
# RTMP_BENCH_N ("500 2000 5000"), RTMP_BENCH_KBPS ("600 2500"),
# RTMP_BENCH_WINDOW (10 s), RTMP_BENCH_WARMUP (3 s), RTMP_BENCH_RAMP (500 players/s),
# RTMP_BENCH_SERVERS ("livecdn nginx").
set -u
cd "$(dirname "$0")/.." || exit 1
. bench/lib.sh
ROOT=$PWD
LOAD=$ROOT/build/bench/rtmp_load
MEDIA=$ROOT/build/bench/media
NS=${RTMP_BENCH_N:-"500 2000 5000"}
RATES=${RTMP_BENCH_KBPS:-"600 2500"}
WINDOW=${RTMP_BENCH_WINDOW:-10}
WARMUP=${RTMP_BENCH_WARMUP:-3}
RAMP=${RTMP_BENCH_RAMP:-500}
SETTLE=10
SERVERS=${RTMP_BENCH_SERVERS:-"livecdn nginx"}
NGINX_MOD=/usr/lib/nginx/modules/ngx_rtmp_module.so

T=$(mktemp -d /tmp/lc-rtmp-bench.XXXXXX)
RESULTS=$T/results
: > "$RESULTS"
SRV_PID="" PUB_PID=""
declare -a KILL_PIDS=()

log() { echo "rtmp_bench: $*" >&2; }


stop_server() {
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
    for p in "${KILL_PIDS[@]}"; do stop_pid "$p" KILL 1; done
    rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 130' INT TERM


# ---- prerequisites ----

if [ ! -x "$LOAD" ] || [ ! -x bin/livecdn ]; then
    log "build first: make all build/bench/rtmp_load"
    exit 1
fi
if ! command -v ffmpeg >/dev/null; then
    log "ffmpeg is missing (apt-get install ffmpeg): RTMP bench skipped"
    exit 0
fi
if [[ " $SERVERS " == *" nginx "* ]] && { ! command -v nginx >/dev/null || [ ! -e "$NGINX_MOD" ]; }; then
    log "installing nginx and libnginx-mod-rtmp (the system service is never started)"
    timeout 300 apt-get install -y --no-install-recommends nginx libnginx-mod-rtmp >"$T/apt.log" 2>&1 ||
        { log "apt-get failed, nginx rows skipped:"; tail -5 "$T/apt.log" >&2; SERVERS=${SERVERS//nginx/}; }
fi

# Descriptors: each player is one socket in the client and one in the server.
NMAX=0
for n in $NS; do [ "$n" -gt "$NMAX" ] && NMAX=$n; done
HARD=$(ulimit -Hn)
[ "$HARD" = unlimited ] && HARD=1048576
ulimit -Hn 65536 2>/dev/null && HARD=65536
ulimit -n "$HARD"
NOFILE=$(ulimit -n)
if [ "$NOFILE" -lt $((NMAX + 200)) ]; then
    log "warning: open files limit $NOFILE < $((NMAX + 200)) needed for $NMAX players; larger cases will fail to connect"
fi
NGINX_NOFILE=$((NOFILE < 40000 ? NOFILE : 40000)) # worker_rlimit_nofile above the hard limit would only fail

PIN_SRV="" PIN_CLI=""
if [ "${RTMP_BENCH_PIN:-1}" = 1 ] && [ "$(nproc)" -ge 2 ] && command -v taskset >/dev/null; then
    PIN_SRV="taskset -c 0"
    PIN_CLI="taskset -c 1"
fi

# ---- media: encoded once, kept ----

mkdir -p "$MEDIA"
declare -A MEDIA_KBPS
for kbps in $RATES; do
    f=$MEDIA/cbr_${kbps}k.flv
    if [ ! -s "$f" ]; then
        v=$((kbps - 64)) # 64 kbps of AAC, the rest video: ~kbps total
        log "encoding $f (640x360 25 fps, GOP 2 s, CBR ${kbps} kbps, 20 s)"
        timeout 180 ffmpeg -nostdin -v error -y -f lavfi -i testsrc2=size=640x360:rate=25 \
            -f lavfi -i sine=frequency=1000:sample_rate=48000 -t 20 \
            -c:v libx264 -preset veryfast -g 50 -keyint_min 50 -sc_threshold 0 -pix_fmt yuv420p \
            -b:v ${v}k -minrate ${v}k -maxrate ${v}k -bufsize ${v}k -x264-params nal-hrd=cbr:force-cfr=1 \
            -c:a aac -b:a 64k -ar 48000 -f flv "$f.tmp" && mv "$f.tmp" "$f" ||
            { log "ffmpeg could not encode $f"; exit 1; }
    fi
    # the stream's real rate (FLV tags included, close to what RTMP carries)
    MEDIA_KBPS[$kbps]=$(( $(stat -c %s "$f") * 8 / 20 / 1000 ))
done

# ---- servers ----

# Start one server in $T/$1; sets SRV_PID (master), WORKER, PORT, SRV_LOG.
start_livecdn() {
    local d=$T/livecdn
    rm -rf "$d" && mkdir -p "$d/logs" "$d/html"
    PORT=$(free_port)
    cat >"$d/livecdn.conf" <<EOF
worker_processes = 1;
pid = "logs/livecdn.pid";
error_log = "logs/error.log";
log_level = "warn";
signaling: { listen = "127.0.0.1:$(free_port)"; };
http: { listen = "127.0.0.1:$(free_port)"; root = "html"; };
rtmp: { listen = "127.0.0.1:$PORT"; chunk_size = 4096; };
media: { gop_cache = true; };
EOF
    SRV_LOG=$d/logs/error.log
    $PIN_SRV "$ROOT/bin/livecdn" -g -c "$d/livecdn.conf" -p "$d" >"$d/stdout.log" 2>&1 &
    SRV_PID=$!
    WORKER=
    for _ in $(seq 150); do
        for k in $(pgrep -P "$SRV_PID" 2>/dev/null); do
            [[ "$(tr '\0' ' ' <"/proc/$k/cmdline" 2>/dev/null)" == "livecdn: worker"* ]] && WORKER=$k
        done
        [ -n "$WORKER" ] && ss -ltnH "sport = :$PORT" | grep -q . && return 0
        kill -0 "$SRV_PID" 2>/dev/null || break
        sleep 0.1
    done
    log "livecdn did not start:"; tail -20 "$SRV_LOG" "$d/stdout.log" >&2
    return 1
}

start_nginx() {
    local d=$T/nginx
    rm -rf "$d" && mkdir -p "$d/logs"
    PORT=$(free_port)
    cat >"$d/nginx.conf" <<EOF
load_module $NGINX_MOD;
daemon off;
master_process on;
worker_processes 1;
worker_rlimit_nofile $NGINX_NOFILE;
pid $d/nginx.pid;
error_log $d/error.log warn;
events { worker_connections 20000; }
rtmp { server { listen 127.0.0.1:$PORT; chunk_size 4096; application live { live on; record off; } } }
EOF
    SRV_LOG=$d/error.log
    $PIN_SRV nginx -p "$d" -c "$d/nginx.conf" -e "$d/error.log" >"$d/stdout.log" 2>&1 &
    SRV_PID=$!
    WORKER=
    for _ in $(seq 150); do
        WORKER=$(pgrep -P "$SRV_PID" 2>/dev/null | head -1)
        [ -n "$WORKER" ] && ss -ltnH "sport = :$PORT" | grep -q . && return 0
        kill -0 "$SRV_PID" 2>/dev/null || break
        sleep 0.1
    done
    log "nginx did not start:"; tail -20 "$SRV_LOG" "$d/stdout.log" >&2
    return 1
}

# ---- one case ----

# run_case SERVER KBPS N: appends a BENCH rtmp line to $RESULTS
run_case() {
    local srv=$1 kbps=$2 n=$3 url rc out status=ok
    local rate=${MEDIA_KBPS[$kbps]}
    "start_$srv" || { echo "BENCH rtmp server=$srv kbps=$kbps n=$n status=start_failed" >>"$RESULTS"; stop_server; return; }
    url=rtmp://127.0.0.1:$PORT/live/bench
    local lim
    lim=$(awk '/Max open files/ {print $4}' "/proc/$WORKER/limits")
    [ "$lim" -lt $((n + 100)) ] && log "$srv worker $WORKER: open files limit $lim < $((n + 100)) for $n players"
    $PIN_CLI ffmpeg -nostdin -v error -re -stream_loop -1 -i "$MEDIA/cbr_${kbps}k.flv" -c copy -f flv "$url" \
        >"$T/pub.log" 2>&1 &
    PUB_PID=$!
    # the stream is up when a probe player gets a keyframe
    local up=
    for _ in $(seq 10); do
        timeout 10 "$LOAD" -u "$url" -n 1 -t 0 -w 0 -s 4 >/dev/null 2>&1 && { up=1; break; }
        kill -0 "$PUB_PID" 2>/dev/null || break
        sleep 0.5
    done
    if [ -z "$up" ]; then
        log "$srv: the published stream never reached a player"; tail -5 "$T/pub.log" "$SRV_LOG" >&2
        echo "BENCH rtmp server=$srv kbps=$kbps n=$n status=no_stream" >>"$RESULTS"
        stop_server
        return
    fi
    local budget=$((n / RAMP + SETTLE + WARMUP + ${WINDOW%.*} + 30))
    out=$(timeout -k 5 "$budget" $PIN_CLI "$LOAD" -u "$url" -n "$n" -r "$RAMP" -t "$WINDOW" -w "$WARMUP" \
        -s "$SETTLE" -b "$rate" -p "$WORKER" 2>"$T/load.err")
    rc=$?
    grep -v '^$' "$T/load.err" | sed "s/^/  [$srv] /" >&2
    # a server problem is reported as it is: dead worker, refused or stalled players
    if ! kill -0 "$WORKER" 2>/dev/null; then
        status=worker_died
    elif [ $rc -eq 124 ] || [ $rc -eq 137 ]; then
        status=load_timeout
    elif ! kill -0 "$PUB_PID" 2>/dev/null; then
        status=publisher_died
    fi
    local line
    line=$(grep '^BENCH rtmp_load' <<<"$out")
    if [ -z "$line" ]; then
        echo "BENCH rtmp server=$srv kbps=$kbps n=$n status=$status" >>"$RESULTS"
    else
        awk -v srv="$srv" -v kbps="$kbps" -v rate="$rate" -v st="$status" -v lim="$lim" '{
            for (i = 3; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
            gb = v["win_bytes"] / 1e9
            mbps = v["win_mbps"]; target = v["n"] * rate / 1000
            cpg = gb > 0 ? v["srv_cpu_s"] / gb : -1
            c = v["connected"] > 0 ? v["connected"] : 1
            fmt = "BENCH rtmp server=%s kbps=%s n=%d connected=%d failed=%d status=%s mbps=%.1f target_mbps=%.1f "
            fmt = fmt "pct=%.1f behind=%d cpu_s=%.2f gb=%.3f cpu_s_per_gb=%.3f gb_per_cpu_s=%.3f kib_per_player=%.1f "
            fmt = fmt "anon_kib_per_player=%.1f rss0_kib=%d rss1_kib=%d ff_p50_ms=%.1f ff_p99_ms=%.1f client_cpu_s=%.2f "
            fmt = fmt "win_s=%.2f nofile=%s\n"
            printf fmt,
                   srv, kbps, v["n"], v["connected"], v["failed"], st, mbps, target, 100 * mbps / target, v["behind"],
                   v["srv_cpu_s"], gb, cpg, (cpg > 0 ? 1 / cpg : 0), (v["srv_rss1_kib"] - v["srv_rss0_kib"]) / c,
                   (v["srv_anon1_kib"] - v["srv_anon0_kib"]) / c, v["srv_rss0_kib"], v["srv_rss1_kib"],
                   v["ff_p50_ms"], v["ff_p99_ms"], v["client_cpu_s"], v["win_s"], lim
        }' <<<"$line" >>"$RESULTS"
    fi
    if [ "$srv" = livecdn ] && { [ "$status" != ok ] || grep -q 'failed=[1-9]' <<<"$line" || [ -z "$line" ]; }; then
        log "livecdn: $status, ${line:-no result}; its error log ends with:"
        tail -20 "$SRV_LOG" | sed 's/^/  | /' >&2
    elif [ -s "$SRV_LOG" ]; then # both log at warn: anything there is worth a look
        log "$srv error log: $(wc -l <"$SRV_LOG") lines, the last ones:"
        tail -3 "$SRV_LOG" | cut -c1-300 | sed 's/^/  | /' >&2
    fi
    stop_server
}

# ---- the runs: servers interleaved per case, so drift on this noisy machine hits both ----

log "servers: $SERVERS; bitrates: $RATES kbps; players: $NS; window ${WINDOW}s after ${WARMUP}s warm-up;" \
    "ramp $RAMP/s; open files $NOFILE${PIN_SRV:+; server pinned to CPU 0, clients to CPU 1}"
for kbps in $RATES; do
    for n in $NS; do
        for srv in $SERVERS; do
            log "-- $srv, ${kbps} kbps (${MEDIA_KBPS[$kbps]} measured), $n players"
            run_case "$srv" "$kbps" "$n"
            grep "server=$srv kbps=$kbps n=$n " "$RESULTS" | tail -1
        done
    done
done

# ---- ratios and table ----

awk '
/^BENCH rtmp / {
    delete v
    for (i = 3; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
    k = v["kbps"] " " v["n"]
    if (!(k in seen)) { seen[k] = 1; order[++nk] = k }
    row[k, v["server"]] = $0
    for (f in v) val[k, v["server"], f] = v[f]
}
END {
    for (i = 1; i <= nk; i++) {
        k = order[i]; split(k, kn, " ")
        if (val[k, "livecdn", "status"] == "ok" && val[k, "nginx", "status"] == "ok" &&
            val[k, "livecdn", "cpu_s_per_gb"] > 0 && val[k, "nginx", "cpu_s_per_gb"] > 0) {
            ml = val[k, "livecdn", "kib_per_player"]; mn = val[k, "nginx", "kib_per_player"]
            al = val[k, "livecdn", "anon_kib_per_player"]; an = val[k, "nginx", "anon_kib_per_player"]
            printf "BENCH rtmp_ratio kbps=%s n=%s bytes_per_cpu_s_ratio=%.2f delivered_ratio=%.2f mem_ratio=%s anon_mem_ratio=%s\n",
                   kn[1], kn[2], val[k, "nginx", "cpu_s_per_gb"] / val[k, "livecdn", "cpu_s_per_gb"],
                   val[k, "livecdn", "mbps"] / val[k, "nginx", "mbps"],
                   (mn > 0 ? sprintf("%.2f", ml / mn) : "n/a"), (an > 0 ? sprintf("%.2f", al / an) : "n/a")
        }
    }
}' "$RESULTS" >>"$RESULTS"

grep '^BENCH rtmp_ratio' "$RESULTS"
echo
echo "RTMP fan-out: one publisher, N players (rtmp_load), server media process on one core"
echo "(CPU-s/GB: server CPU per 1e9 bytes delivered; KiB/player: VmRSS delta / players, anon: RssAnon delta;"
echo " livecdn's rings are shared memory, counted in VmRSS only as far as the worker touched them;"
echo " first frame: play sent -> first video keyframe at the player)"
awk '
function f(x, fmt) { return x == "" ? "-" : sprintf(fmt, x) }
/^BENCH rtmp / {
    delete v
    for (i = 3; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
    if (!hdr++) printf "%-6s %6s %-8s %11s %16s %9s %10s %10s %15s %-10s\n", "kbps", "N", "server", "players",
                       "delivered Mb/s", "CPU-s/GB", "KiB/player", "anon KiB", "first p50/p99", "status"
    printf "%-6s %6s %-8s %11s %16s %9s %10s %10s %15s %-10s\n", v["kbps"], v["n"], v["server"],
           v["connected"] == "" ? "-" : v["connected"] "/" v["n"],
           v["mbps"] == "" ? "-" : sprintf("%.0f (%.0f%%)", v["mbps"], v["pct"]),
           f(v["cpu_s_per_gb"], "%.3f"), f(v["kib_per_player"], "%.1f"), f(v["anon_kib_per_player"], "%.1f"),
           v["ff_p50_ms"] == "" ? "-" : sprintf("%.0f/%.0f ms", v["ff_p50_ms"], v["ff_p99_ms"]), v["status"]
}
/^BENCH rtmp_ratio/ {
    delete v
    for (i = 3; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
    printf "%-6s %6s %-8s bytes per CPU-second %sx nginx (target >= 2), delivered %sx, memory per player %sx (anon %sx; target <= 1)\n",
           v["kbps"], v["n"], "ratio", v["bytes_per_cpu_s_ratio"], v["delivered_ratio"], v["mem_ratio"], v["anon_mem_ratio"]
}' "$RESULTS"
