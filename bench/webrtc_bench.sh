#!/usr/bin/env bash
# webrtc_bench.sh: WebRTC fan-out of livecdn against the machine's floor,
# in the same run. One publisher (bench/whip_publish.py: aiortc over WHIP,
# VP8 testsrc2 640x360 25 fps + Opus; its bitrate is whatever aiortc's
# encoder makes of the server's REMB, so it is measured from the REST API's
# stream/find_all "bitrate", not chosen) and N WHEP players of
# build/bench/webrtc_load (WEBRTC_BENCH_N, "250 1000 2000"), against
#   livecdn   worker_processes = 1, webrtc.udp_ports a 4-port loopback range
#   floor     build/bench/srtp_floor: one core SRTP-protecting ~1100-byte
#             packets and sendmmsg-ing them to a loopback sink, nothing else
#   janus     not run (status=skipped): Debian's janus needs its own
#             WHEP front-end and a network namespace (TESTING.md)
# Each N starts the server afresh (clean RSS baseline; WHEP sessions of a
# finished load client linger until ICE consent expires), publishes, waits
# for the stream, then runs the load. webrtc_load samples the worker at the
# edges of its window (after every player has RTP and a warm-up):
#   CPU-s/Mpkt  worker utime+stime / (RTP packets the players received, 1e6)
#   pkts/CPU-s  the inverse; / the floor's packets per CPU-second = "of floor"
#   players/core connected players * 1 core / the worker's share of a core
#               in the window (an estimate; meaningless once the worker is
#               saturated, i.e. cpu% near 100: then pkts/s per player drops)
#   KiB/player  (worker VmRSS with N players - before the first) / N
#   first RTP   ms from the WHEP POST to the first RTP packet unprotected
# Pinning: with 2+ cores the server runs on CPU 0, the publisher and the
# load client on CPU 1 (WEBRTC_BENCH_PIN=0 turns it off). A livecdn crash,
# refusal, stall or a publisher that dies under the load is reported with
# the tail of the logs, never worked around.
#
# Output: `BENCH srtp_floor ...` per SRTP profile, per N one
# `BENCH webrtc ...` line, a `BENCH webrtc server=janus status=skipped`
# line, then a table. Environment knobs: WEBRTC_BENCH_N, WEBRTC_BENCH_WINDOW
# (5 s), WEBRTC_BENCH_WARMUP (2 s), WEBRTC_BENCH_RAMP (200 players/s), WEBRTC_BENCH_RAMP_MAX (40 s),
# WEBRTC_BENCH_SETTLE (8 s). The whole script stays well under 5 minutes
# with the defaults; every step has a timeout.
set -u
cd "$(dirname "$0")/.." || exit 1
ROOT=$PWD
LOAD=$ROOT/build/bench/webrtc_load
FLOOR=$ROOT/build/bench/srtp_floor
PY=/usr/bin/python3
NS=${WEBRTC_BENCH_N:-"250 1000 2000"}
WINDOW=${WEBRTC_BENCH_WINDOW:-5}
WARMUP=${WEBRTC_BENCH_WARMUP:-2}
RAMP=${WEBRTC_BENCH_RAMP:-200}
SETTLE=${WEBRTC_BENCH_SETTLE:-8}
RAMP_MAX=${WEBRTC_BENCH_RAMP_MAX:-40} # s: POSTs are blocking, a busy worker answers them slowly

T=$(mktemp -d /tmp/lc-webrtc-bench.XXXXXX)
RESULTS=$T/results
: > "$RESULTS"
SRV_PID="" PUB_PID=""

log() { echo "webrtc_bench: $*" >&2; }

stop_pid() {
    local pid=$1 sig=$2 grace=$3
    [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 0
    kill "-$sig" "$pid" 2>/dev/null
    for _ in $(seq $((grace * 10))); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    return 0
}

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
    rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() {
    $PY -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# Four free consecutive UDP ports (webrtc.udp_ports wants at least 2 per worker).
free_udp_range() {
    $PY -c '
import random, socket
for _ in range(200):
    b = random.randrange(20000, 60000, 4)
    socks = []
    try:
        for p in range(b, b + 4):
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", p)); socks.append(s)
        print("%d-%d" % (b, b + 3)); break
    except OSError:
        pass
    finally:
        for s in socks: s.close()'
}

rest() { curl -s -m 5 -X POST -H 'Content-Type: application/json' -d '{}' "http://127.0.0.1:$HTTP_PORT/rest-api/$1"; }

# bitrate (kbps) of stream $1 as the server measures it, "" when absent
stream_kbps() {
    rest stream/find_all | $PY -c '
import json, sys
try:
    for s in json.load(sys.stdin)["streams"]:
        if s["name"] == sys.argv[1]: print(s["bitrate"])
except Exception:
    pass' "$1"
}

# ---- prerequisites ----

if [ ! -x "$LOAD" ] || [ ! -x "$FLOOR" ] || [ ! -x bin/livecdn ]; then
    log "build first: make all build/bench/webrtc_load build/bench/srtp_floor"
    exit 1
fi
PIN_SRV="" PIN_CLI=""
if [ "${WEBRTC_BENCH_PIN:-1}" = 1 ] && [ "$(nproc)" -ge 2 ] && command -v taskset >/dev/null; then
    PIN_SRV="taskset -c 0"
    PIN_CLI="taskset -c 1"
fi
NMAX=0
for n in $NS; do [ "$n" -gt "$NMAX" ] && NMAX=$n; done
ulimit -Hn 65536 2>/dev/null
ulimit -n "$(ulimit -Hn)" 2>/dev/null
[ "$(ulimit -n)" != unlimited ] && [ "$(ulimit -n)" -lt $((NMAX + 200)) ] &&
    log "warning: open files limit $(ulimit -n) < $((NMAX + 200)) for $NMAX players"

# ---- the floor, on the core the server will use ----

log "floor: srtp_floor on one core (${PIN_SRV:-unpinned})"
timeout 30 $PIN_SRV "$FLOOR" -t 1 | tee -a "$RESULTS"

# ---- livecdn ----

start_livecdn() {
    local d=$T/livecdn
    rm -rf "$d" && mkdir -p "$d/logs" "$d/html"
    SIG_PORT=$(free_port)
    HTTP_PORT=$(free_port)
    UDP_RANGE=$(free_udp_range)
    cat >"$d/livecdn.conf" <<EOF
worker_processes = 1;
pid = "logs/livecdn.pid";
error_log = "logs/error.log";
log_level = "warn";
signaling: { listen = "127.0.0.1:$SIG_PORT"; };
http: { listen = "127.0.0.1:$HTTP_PORT"; root = "html"; };
rtmp: { listen = "127.0.0.1:$(free_port)"; };
webrtc: { udp_ports = "$UDP_RANGE"; public_ip = "127.0.0.1"; };
EOF
    SRV_LOG=$d/logs/error.log
    $PIN_SRV "$ROOT/bin/livecdn" -g -c "$d/livecdn.conf" -p "$d" >"$d/stdout.log" 2>&1 &
    SRV_PID=$!
    WORKER=
    for _ in $(seq 150); do
        for k in $(pgrep -P "$SRV_PID" 2>/dev/null); do
            [[ "$(tr '\0' ' ' <"/proc/$k/cmdline" 2>/dev/null)" == "livecdn: worker"* ]] && WORKER=$k
        done
        [ -n "$WORKER" ] && ss -ltnH "sport = :$SIG_PORT" | grep -q . && ss -ltnH "sport = :$HTTP_PORT" | grep -q . &&
            return 0
        kill -0 "$SRV_PID" 2>/dev/null || break
        sleep 0.1
    done
    log "livecdn did not start:"; tail -20 "$SRV_LOG" "$d/stdout.log" >&2
    return 1
}

# run_case N: appends a BENCH webrtc line to $RESULTS
run_case() {
    local n=$1 name=bench rc out status=ok kbps0 kbps1
    start_livecdn || { echo "BENCH webrtc server=livecdn n=$n status=start_failed" >>"$RESULTS"; stop_server; return; }
    $PIN_CLI timeout 300 $PY "$ROOT/bench/whip_publish.py" "http://127.0.0.1:$SIG_PORT" "$name" >"$T/pub.log" 2>&1 &
    PUB_PID=$!
    local up=
    for _ in $(seq 150); do # 15 s: aiortc gathers, POSTs, connects
        grep -q '^published' "$T/pub.log" && { up=1; break; }
        kill -0 "$PUB_PID" 2>/dev/null || break
        sleep 0.1
    done
    # the encoder's rate settles after the server's first REMBs
    sleep 3
    kbps0=$(stream_kbps "$name")
    if [ -z "$up" ] || [ -z "$kbps0" ]; then
        log "livecdn: the WHIP publisher never got a stream up"; tail -5 "$T/pub.log" "$SRV_LOG" >&2
        echo "BENCH webrtc server=livecdn n=$n status=no_stream" >>"$RESULTS"
        stop_server
        return
    fi
    local budget=$((RAMP_MAX + 2 * SETTLE + WARMUP + ${WINDOW%.*} + 20))
    out=$(timeout -k 5 "$budget" $PIN_CLI "$LOAD" -u "http://127.0.0.1:$SIG_PORT/whep/$name" -n "$n" -r "$RAMP" -R "$RAMP_MAX" \
        -t "$WINDOW" -w "$WARMUP" -s "$SETTLE" -p "$WORKER" 2>"$T/load.err")
    rc=$?
    kbps1=$(stream_kbps "$name")
    grep -v '^$' "$T/load.err" | sed 's/^/  [livecdn] /' >&2
    if ! kill -0 "$WORKER" 2>/dev/null; then
        status=worker_died
    elif [ $rc -eq 124 ] || [ $rc -eq 137 ]; then
        status=load_timeout
    elif ! kill -0 "$PUB_PID" 2>/dev/null || grep -q 'connection failed' "$T/pub.log"; then
        status=publisher_died
    elif [ -z "$kbps1" ]; then
        status=stream_gone
    fi
    local line
    line=$(grep '^BENCH webrtc_load' <<<"$out")
    if [ -z "$line" ]; then
        echo "BENCH webrtc server=livecdn n=$n status=$status kbps=$kbps0" >>"$RESULTS"
    else
        awk -v st="$status" -v k0="$kbps0" -v k1="${kbps1:--1}" '{
            for (i = 3; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
            cpu = v["srv_cpu_s"]; w = v["win_s"] > 0 ? v["win_s"] : 1; c = v["connected"]
            share = cpu / w
            fmt = "BENCH webrtc server=livecdn n=%d connected=%d failed=%d status=%s kbps=%s kbps_after=%s "
            fmt = fmt "pps=%.0f pps_per_player=%.1f mbps=%.1f lost=%d srtp_err=%d cpu_s=%.2f cpu_pct=%.1f "
            fmt = fmt "cpu_s_per_mpkt=%.3f pkts_per_cpu_s=%.0f players_per_core=%.0f kib_per_player=%.1f "
            fmt = fmt "anon_kib_per_player=%.1f rss0_kib=%d rss1_kib=%d first_p50_ms=%.1f first_p99_ms=%.1f "
            fmt = fmt "dtls_p50_ms=%.1f dtls_p99_ms=%.1f post_p50_ms=%.1f post_p99_ms=%.1f client_cpu_s=%.2f srtp_profile=%s win_s=%.2f "
            fmt = fmt "not_started=%d post_err=%d ice_err=%d dtls_err=%d no_rtp=%d\n"
            printf fmt, v["n"], c, v["failed"], st, k0, k1, v["pps"], (c > 0 ? v["pps"] / c : 0), v["mbps"],
                   v["lost"], v["srtp_err"], cpu, 100 * share,
                   (v["win_pkts"] > 0 ? cpu / (v["win_pkts"] / 1e6) : -1), (cpu > 0 ? v["win_pkts"] / cpu : 0),
                   (share > 0 ? c / share : 0), (v["srv_rss1_kib"] - v["srv_rss0_kib"]) / v["n"],
                   (v["srv_anon1_kib"] - v["srv_anon0_kib"]) / v["n"], v["srv_rss0_kib"], v["srv_rss1_kib"],
                   v["first_p50_ms"], v["first_p99_ms"], v["dtls_p50_ms"], v["dtls_p99_ms"], v["post_p50_ms"], v["post_p99_ms"], v["client_cpu_s"],
                   v["srtp_profile"], v["win_s"], v["not_started"], v["post_err"], v["ice_err"], v["dtls_err"], v["no_rtp"]
        }' <<<"$line" >>"$RESULTS"
    fi
    if [ "$status" != ok ] || grep -q 'failed=[1-9]' <<<"$line" || [ -z "$line" ]; then
        log "livecdn: $status, ${line:-no result}"
        log "publisher log ends with:"; tail -3 "$T/pub.log" | sed 's/^/  | /' >&2
        log "livecdn error log ends with:"; tail -10 "$SRV_LOG" | cut -c1-300 | sed 's/^/  | /' >&2
    elif [ -s "$SRV_LOG" ]; then
        log "livecdn error log: $(wc -l <"$SRV_LOG") lines, the last ones:"
        tail -3 "$SRV_LOG" | cut -c1-300 | sed 's/^/  | /' >&2
    fi
    stop_server
}

log "players: $NS; window ${WINDOW}s after ${WARMUP}s warm-up; ramp $RAMP/s${PIN_SRV:+; server pinned to CPU 0, publisher and clients to CPU 1}"
for n in $NS; do
    log "-- livecdn, $n players"
    run_case "$n"
    grep "server=livecdn n=$n " "$RESULTS" | tail -1
done
echo "BENCH webrtc server=janus status=skipped" | tee -a "$RESULTS"

# ---- ratio to the floor, and the table ----

awk '
/^BENCH srtp_floor / { for (i = 3; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }; floor[v["profile"]] = v["send_pps"] }
/^BENCH webrtc server=livecdn / {
    delete v
    for (i = 3; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
    if (v["pkts_per_cpu_s"] > 0 && floor[v["srtp_profile"]] > 0)
        printf "BENCH webrtc_ratio n=%s profile=%s pkts_per_cpu_s=%s floor_pkts_per_cpu_s=%s livecdn_over_floor=%.3f\n",
               v["n"], v["srtp_profile"], v["pkts_per_cpu_s"], floor[v["srtp_profile"]], v["pkts_per_cpu_s"] / floor[v["srtp_profile"]]
}' "$RESULTS" >>"$RESULTS"
grep '^BENCH webrtc_ratio' "$RESULTS"

echo
echo "WebRTC fan-out: one WHIP publisher (aiortc VP8 640x360 + Opus), N WHEP players (webrtc_load), livecdn worker on one core"
echo "(CPU-s/Mpkt: worker CPU per 1e6 RTP packets the players received; players/core: connected / worker's core share;"
echo " KiB/player: VmRSS delta / N; first RTP: WHEP POST -> first RTP packet; floor: srtp_floor protect + sendmmsg, one core)"
awk '
function f(x, fmt) { return x == "" ? "-" : sprintf(fmt, x) }
/^BENCH srtp_floor / {
    delete v
    for (i = 3; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
    fl[++nf] = sprintf("%-6s %-8s floor %s: %.0f pkts/CPU-s protect + sendmmsg (%.0f protect alone), %.3f CPU-s/Mpkt",
                       "-", "floor", v["profile"], v["send_pps"], v["protect_pps"], 1e6 / v["send_pps"])
}
/^BENCH webrtc server=livecdn / {
    delete v
    for (i = 3; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
    if (!hdr++) printf "%-6s %-8s %11s %6s %9s %8s %7s %10s %10s %9s %10s %10s %14s %6s %s\n", "N", "server", "players",
                       "kbps", "pkts/s", "pps/plr", "cpu%", "CPU-s/Mpkt", "pkts/CPU-s", "plrs/core", "KiB/player",
                       "anon KiB", "first p50/p99", "lost", "status"
    printf "%-6s %-8s %11s %6s %9s %8s %7s %10s %10s %9s %10s %10s %14s %6s %s\n", v["n"], "livecdn",
           v["connected"] == "" ? "-" : v["connected"] "/" v["n"], v["kbps"], f(v["pps"], "%.0f"),
           f(v["pps_per_player"], "%.1f"), f(v["cpu_pct"], "%.0f"), f(v["cpu_s_per_mpkt"], "%.3f"),
           f(v["pkts_per_cpu_s"], "%.0f"), f(v["players_per_core"], "%.0f"), f(v["kib_per_player"], "%.1f"),
           f(v["anon_kib_per_player"], "%.1f"),
           v["first_p50_ms"] == "" ? "-" : sprintf("%.0f/%.0f ms", v["first_p50_ms"], v["first_p99_ms"]),
           f(v["lost"], "%d"), v["status"]
}
/^BENCH webrtc_ratio/ {
    delete v
    for (i = 3; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
    printf "%-6s %-8s packets per CPU-second %.0f = %.2f x the floor (%s)\n", v["n"], "ratio", v["pkts_per_cpu_s"],
           v["livecdn_over_floor"], v["profile"]
}
/^BENCH webrtc server=janus/ { janus = $0 }
END {
    for (i = 1; i <= nf; i++) print fl[i]
    if (janus != "") { sub(/^BENCH webrtc server=janus /, "", janus); printf "%-6s %-8s %s\n", "-", "janus", janus }
}' "$RESULTS"
