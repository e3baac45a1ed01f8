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
#   janus     Debian's janus (apt-get installed if missing, bounded; else
#             status=skipped with the reason), event_loops = 1 (one media
#             thread for every PeerConnection, as livecdn's one worker),
#             its HTTP transport and the streaming plugin with one RTP
#             mountpoint (Opus PT 111 + VP8 PT 96) that one ffmpeg feeds
#             (libvpx 330 kbps testsrc2 640x360 25 fps in 1200-byte RTP
#             packets, libopus 32 kbps sine: the publisher's mix);
#             the players are webrtc_load -J: Janus's HTTP API, Janus
#             offers (full ICE, controlling), the players answer. Janus
#             never gathers on loopback, so janus, ffmpeg and the load
#             client run in a network namespace of their own with a veth
#             pair (10.99.77.1/.2, both ends inside, lo up): packets still
#             go through the loopback path of the kernel. Ns:
#             WEBRTC_BENCH_JANUS_N, default those of WEBRTC_BENCH_N up to
#             1000 (one Janus event loop is saturated by then).
#             janus_saturated=1 in the ratio line: Janus at >= 95% of its
#             core, or > 1% of the window's packets lost, or not every
#             player connected: its pkts/CPU-s is then an overload figure.
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
# Output: `BENCH srtp_floor ...` per SRTP profile, per N and server one
# `BENCH webrtc server=livecdn|janus ...` line (or one `BENCH webrtc
# server=janus status=skipped reason=...`), `BENCH webrtc_ratio` lines
# against the floor and, per N both ran, livecdn over Janus (packets per
# CPU-second; memory per player), then a table. Janus's kbps is what its
# players received (RTP + SRTP bytes) per connected player. Environment knobs: WEBRTC_BENCH_N, WEBRTC_BENCH_WINDOW
# (5 s), WEBRTC_BENCH_WARMUP (2 s), WEBRTC_BENCH_RAMP (200 players/s), WEBRTC_BENCH_RAMP_MAX (40 s),
# WEBRTC_BENCH_SETTLE (8 s). The whole script stays well under 5 minutes
# with the defaults; every step has a timeout.
set -u
cd "$(dirname "$0")/.." || exit 1
. bench/lib.sh
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
NETNS="" # Janus's network namespace, deleted on exit

log() { echo "webrtc_bench: $*" >&2; }


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
    [ -n "$NETNS" ] && ip netns del "$NETNS" 2>/dev/null
    rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 130' INT TERM



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
    emit_result livecdn "$n" "$status" "$kbps0" "${kbps1:--1}" "$line"
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

# emit_result SERVER N STATUS KBPS KBPS_AFTER "BENCH webrtc_load ..." appends
# a BENCH webrtc line (kbps "" = per connected player, from the load client)
emit_result() {
    local server=$1 n=$2 status=$3 k0=$4 k1=$5 line=$6
    if [ -z "$line" ]; then
        echo "BENCH webrtc server=$server n=$n status=$status kbps=${k0:--1}" >>"$RESULTS"
    else
        awk -v srv="$server" -v st="$status" -v k0="$k0" -v k1="$k1" '{
            for (i = 3; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
            cpu = v["srv_cpu_s"]; w = v["win_s"] > 0 ? v["win_s"] : 1; c = v["connected"]
            share = cpu / w
            if (k0 == "") { k0 = sprintf("%.0f", c > 0 ? v["mbps"] * 1000 / c : 0); k1 = k0 }
            fmt = "BENCH webrtc server=" srv " n=%d connected=%d failed=%d status=%s kbps=%s kbps_after=%s "
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
}

log "players: $NS; window ${WINDOW}s after ${WARMUP}s warm-up; ramp $RAMP/s${PIN_SRV:+; server pinned to CPU 0, publisher and clients to CPU 1}"
for n in $NS; do
    log "-- livecdn, $n players"
    run_case "$n"
    grep "server=livecdn n=$n " "$RESULTS" | tail -1
done

# ---- Janus ----

JANUS_PORT=8088 RTP_PORT=5004 RTP_APORT=5002 MP_ID=1 # inside the namespace: nothing else listens there
JANUS_ADDR=10.99.77.1 PEER_ADDR=10.99.77.2
JANUS_SKIP=""
JANUS_LIBDIR=""
if [ -n "${WEBRTC_BENCH_JANUS_N+x}" ]; then
    JNS=$WEBRTC_BENCH_JANUS_N
else
    JNS="" jmin=""
    for n in $NS; do
        [ "$n" -le 1000 ] && JNS="$JNS $n"
        { [ -z "$jmin" ] || [ "$n" -lt "$jmin" ]; } && jmin=$n
    done
    [ -z "$JNS" ] && JNS=$jmin
fi

# janus_prepare: sets JANUS_SKIP to a reason (one word per space replaced) when Janus cannot run
janus_prepare() {
    if [ -z "$JNS" ]; then JANUS_SKIP="no_N (WEBRTC_BENCH_JANUS_N empty)"; return; fi
    if ! command -v janus >/dev/null; then
        if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
            log "janus: not installed; apt-get install -y --no-install-recommends janus (at most 240 s)"
            if ! DEBIAN_FRONTEND=noninteractive timeout 240 apt-get install -y --no-install-recommends janus >"$T/apt.log" 2>&1; then
                JANUS_SKIP="apt-get install janus failed: $(tail -1 "$T/apt.log" | cut -c1-120)"
                return
            fi
        else
            JANUS_SKIP="janus not installed and not root (apt-get install janus)"
            return
        fi
    fi
    command -v janus >/dev/null || { JANUS_SKIP="janus not on PATH after apt-get"; return; }
    command -v ffmpeg >/dev/null || { JANUS_SKIP="ffmpeg not installed (it feeds Janus's mountpoint)"; return; }
    local so
    for so in /usr/lib/*/janus/plugins/libjanus_streaming.so /usr/lib/janus/plugins/libjanus_streaming.so \
              /usr/local/lib/janus/plugins/libjanus_streaming.so /opt/janus/lib/janus/plugins/libjanus_streaming.so; do
        [ -e "$so" ] && { JANUS_LIBDIR=${so%/plugins/*}; break; }
    done
    [ -z "$JANUS_LIBDIR" ] && { JANUS_SKIP="janus streaming plugin not found"; return; }
    [ -e "$JANUS_LIBDIR/transports/libjanus_http.so" ] || { JANUS_SKIP="janus HTTP transport not found"; return; }
    # Janus gathers no loopback candidate: a namespace with a veth pair
    NETNS=lcwb$$
    if ! ip netns add "$NETNS" 2>"$T/netns.err"; then
        NETNS=""
        JANUS_SKIP="janus needs a network namespace (it never gathers on loopback): ip netns add: $(head -1 "$T/netns.err")"
        return
    fi
    if ! ip netns exec "$NETNS" sh -ec "ip link set lo up
        ip link add lcja type veth peer name lcjb
        ip addr add $JANUS_ADDR/24 dev lcja
        ip addr add $PEER_ADDR/24 dev lcjb
        ip link set lcja up
        ip link set lcjb up" 2>"$T/netns.err"; then
        JANUS_SKIP="janus network namespace: veth: $(head -1 "$T/netns.err")"
        return
    fi
}

janus_config() {
    local d=$1 L=$JANUS_LIBDIR dis="" so
    for so in "$L"/plugins/libjanus_*.so; do
        so=${so##*/}; [ "$so" = libjanus_streaming.so ] || dis="$dis${dis:+,}$so"
    done
    local tdis="" 
    for so in "$L"/transports/libjanus_*.so; do
        so=${so##*/}; [ "$so" = libjanus_http.so ] || tdis="$tdis${tdis:+,}$so"
    done
    local ldis=""
    for so in "$L"/loggers/libjanus_*.so; do
        [ -e "$so" ] && { so=${so##*/}; ldis="$ldis${ldis:+,}$so"; }
    done
    mkdir -p "$d"
    cat >"$d/janus.jcfg" <<EOF
general: {
    configs_folder = "$d"
    plugins_folder = "$L/plugins"
    transports_folder = "$L/transports"
    events_folder = "$L/events"
    loggers_folder = "$L/loggers"
    debug_level = 3
    session_timeout = 60
    event_loops = 1
}
certificates: { }
media: { rtp_port_range = "20000-60000" }
nat: { nice_debug = false ice_enforce_list = "$JANUS_ADDR" }
plugins: { disable = "$dis" }
transports: { disable = "$tdis" }
loggers: { disable = "$ldis" }
events: { broadcast = false }
EOF
    cat >"$d/janus.transport.http.jcfg" <<EOF
general: { json = "plain" base_path = "/janus" http = true port = $JANUS_PORT ip = "127.0.0.1" https = false }
admin: { admin_http = false }
EOF
    cat >"$d/janus.plugin.streaming.jcfg" <<EOF
general: { }
bench: {
    type = "rtp"
    id = $MP_ID
    description = "bench"
    media = (
        { type = "audio" mid = "a" port = $RTP_APORT pt = 111 codec = "opus" },
        { type = "video" mid = "v" port = $RTP_PORT pt = 96 codec = "vp8" }
    )
}
EOF
}

start_janus() {
    local d=$T/janus
    rm -rf "$d" && mkdir -p "$d"
    janus_config "$d/conf"
    SRV_LOG=$d/janus.log
    $PIN_SRV ip netns exec "$NETNS" janus -C "$d/conf/janus.jcfg" -F "$d/conf" -o >"$SRV_LOG" 2>&1 &
    SRV_PID=$!
    for _ in $(seq 150); do
        kill -0 "$SRV_PID" 2>/dev/null || break
        ip netns exec "$NETNS" curl -s -m 1 "http://127.0.0.1:$JANUS_PORT/janus/info" 2>/dev/null | grep -q server_info &&
            return 0
        sleep 0.1
    done
    log "janus did not start:"; tail -20 "$SRV_LOG" >&2
    return 1
}

run_janus_case() {
    local n=$1 rc out status=ok
    start_janus || { echo "BENCH webrtc server=janus n=$n status=start_failed" >>"$RESULTS"; stop_server; return; }
    $PIN_CLI ip netns exec "$NETNS" ffmpeg -nostdin -loglevel error -re -f lavfi -i testsrc2=size=640x360:rate=25 \
        -re -f lavfi -i sine=frequency=440:sample_rate=48000 \
        -map 0:v -c:v libvpx -b:v 330k -deadline realtime -cpu-used 8 -pkt_size 1200 -payload_type 96 -f rtp "rtp://127.0.0.1:$RTP_PORT" \
        -map 1:a -c:a libopus -b:a 32k -ac 2 -payload_type 111 -f rtp "rtp://127.0.0.1:$RTP_APORT" \
        >"$T/ffmpeg.log" 2>&1 &
    PUB_PID=$!
    sleep 2 # the encoder running, the mountpoint relaying
    if ! kill -0 "$PUB_PID" 2>/dev/null; then
        log "janus: ffmpeg died:"; tail -5 "$T/ffmpeg.log" >&2
        echo "BENCH webrtc server=janus n=$n status=no_stream" >>"$RESULTS"
        stop_server
        return
    fi
    local budget=$((RAMP_MAX + 2 * SETTLE + WARMUP + ${WINDOW%.*} + 20))
    out=$(timeout -k 5 "$budget" $PIN_CLI ip netns exec "$NETNS" "$LOAD" -J "http://127.0.0.1:$JANUS_PORT/janus" -m "$MP_ID" \
        -n "$n" -r "$RAMP" -R "$RAMP_MAX" -t "$WINDOW" -w "$WARMUP" -s "$SETTLE" -p "$SRV_PID" 2>"$T/load.err")
    rc=$?
    grep -v '^$' "$T/load.err" | sed 's/^/  [janus] /' >&2
    if ! kill -0 "$SRV_PID" 2>/dev/null; then
        status=server_died
    elif [ $rc -eq 124 ] || [ $rc -eq 137 ]; then
        status=load_timeout
    elif ! kill -0 "$PUB_PID" 2>/dev/null; then
        status=publisher_died
    fi
    local line
    line=$(grep '^BENCH webrtc_load' <<<"$out")
    emit_result janus "$n" "$status" "" "" "$line"
    if [ "$status" != ok ] || grep -q 'failed=[1-9]' <<<"$line" || [ -z "$line" ]; then
        log "janus: $status, ${line:-no result}"
        log "janus log: $(wc -l <"$SRV_LOG") lines, the last ones:"; tail -5 "$SRV_LOG" | cut -c1-300 | sed 's/^/  | /' >&2
    fi
    stop_server
}

janus_prepare
if [ -n "$JANUS_SKIP" ]; then
    log "janus: skipped: $JANUS_SKIP"
    echo "BENCH webrtc server=janus status=skipped reason=$(tr ' =' '_:' <<<"$JANUS_SKIP")" | tee -a "$RESULTS"
else
    for n in $JNS; do
        log "-- janus $(janus --version 2>/dev/null | sed -n 's/.*(\(.*\)).*/\1/p;q'), $n players (event_loops 1, in namespace $NETNS)"
        run_janus_case "$n"
        grep "server=janus n=$n " "$RESULTS" | tail -1
    done
fi

# ---- ratios to the floor and of livecdn to Janus, and the table ----

awk '
/^BENCH srtp_floor / { for (i = 3; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }; floor[v["profile"]] = v["send_pps"] }
/^BENCH webrtc server=(livecdn|janus) n=/ {
    delete v
    for (i = 3; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
    s = v["server"]; n = v["n"]
    if (v["pkts_per_cpu_s"] > 0 && floor[v["srtp_profile"]] > 0) {
        if (s == "livecdn")
            printf "BENCH webrtc_ratio n=%s profile=%s pkts_per_cpu_s=%s floor_pkts_per_cpu_s=%s livecdn_over_floor=%.3f\n",
                   n, v["srtp_profile"], v["pkts_per_cpu_s"], floor[v["srtp_profile"]], v["pkts_per_cpu_s"] / floor[v["srtp_profile"]]
        else
            printf "BENCH webrtc_ratio n=%s server=janus profile=%s pkts_per_cpu_s=%s floor_pkts_per_cpu_s=%s janus_over_floor=%.3f\n",
                   n, v["srtp_profile"], v["pkts_per_cpu_s"], floor[v["srtp_profile"]], v["pkts_per_cpu_s"] / floor[v["srtp_profile"]]
    }
    if (v["pkts_per_cpu_s"] > 0) {
        if (!(n in seen)) order[++nn] = n
        seen[n] = 1
        pk[s, n] = v["pkts_per_cpu_s"]; kib[s, n] = v["kib_per_player"]; con[s, n] = v["connected"]
        cpu[s, n] = v["cpu_pct"]; prof[s, n] = v["srtp_profile"]
        bad[s, n] = v["cpu_pct"] >= 95 || v["lost"] * 100 > v["pps"] * v["win_s"] || v["connected"] < v["n"]
    }
}
END {
    for (i = 1; i <= nn; i++) {
        n = order[i]
        if (!((("livecdn", n) in pk) && (("janus", n) in pk)))
            continue
        fmt = "BENCH webrtc_ratio n=%s vs=janus livecdn_pkts_per_cpu_s=%s janus_pkts_per_cpu_s=%s livecdn_over_janus=%.2f "
        fmt = fmt "livecdn_kib_per_player=%s janus_kib_per_player=%s mem_janus_over_livecdn=%s livecdn_connected=%s "
        fmt = fmt "janus_connected=%s janus_cpu_pct=%s janus_saturated=%d livecdn_profile=%s janus_profile=%s\n"
        mem = (kib["livecdn", n] > 0) ? sprintf("%.2f", kib["janus", n] / kib["livecdn", n]) : "-"
        sat = bad["janus", n] ? 1 : 0
        printf fmt, n, pk["livecdn", n], pk["janus", n], pk["livecdn", n] / pk["janus", n], kib["livecdn", n], kib["janus", n],
               mem, con["livecdn", n], con["janus", n], cpu["janus", n], sat, prof["livecdn", n], prof["janus", n]
    }
}' "$RESULTS" >>"$RESULTS"
grep '^BENCH webrtc_ratio' "$RESULTS"

echo
echo "WebRTC fan-out: one WHIP publisher (aiortc VP8 640x360 + Opus), N WHEP players (webrtc_load), livecdn worker on one core;"
echo "Janus: ffmpeg VP8 ~330 kbps + Opus RTP into one streaming mountpoint, N players over its HTTP API, event_loops 1, pinned to one core"
echo "(CPU-s/Mpkt: server CPU per 1e6 RTP packets the players received (Janus: the whole process); players/core: connected /"
echo " server's core share; KiB/player: VmRSS delta / N; first RTP: WHEP POST or Janus create -> first RTP packet;"
echo " Janus kbps: received per player; floor: srtp_floor protect + sendmmsg, one core)"
awk '
function f(x, fmt) { return x == "" ? "-" : sprintf(fmt, x) }
/^BENCH srtp_floor / {
    delete v
    for (i = 3; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
    fl[++nf] = sprintf("%-6s %-8s floor %s: %.0f pkts/CPU-s protect + sendmmsg (%.0f protect alone), %.3f CPU-s/Mpkt",
                       "-", "floor", v["profile"], v["send_pps"], v["protect_pps"], 1e6 / v["send_pps"])
}
/^BENCH webrtc server=(livecdn|janus) n=/ {
    delete v
    for (i = 3; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
    if (!hdr++) printf "%-6s %-8s %11s %6s %9s %8s %7s %10s %10s %9s %10s %10s %14s %6s %s\n", "N", "server", "players",
                       "kbps", "pkts/s", "pps/plr", "cpu%", "CPU-s/Mpkt", "pkts/CPU-s", "plrs/core", "KiB/player",
                       "anon KiB", "first p50/p99", "lost", "status"
    printf "%-6s %-8s %11s %6s %9s %8s %7s %10s %10s %9s %10s %10s %14s %6s %s\n", v["n"], v["server"],
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
    if (v["livecdn_over_floor"] != "")
        printf "%-6s %-8s livecdn packets per CPU-second %.0f = %.2f x the floor (%s)\n", v["n"], "ratio", v["pkts_per_cpu_s"],
               v["livecdn_over_floor"], v["profile"]
    else if (v["janus_over_floor"] != "")
        printf "%-6s %-8s janus packets per CPU-second %.0f = %.2f x the floor (%s)\n", v["n"], "ratio", v["pkts_per_cpu_s"],
               v["janus_over_floor"], v["profile"]
    else if (v["livecdn_over_janus"] != "")
        printf "%-6s %-8s livecdn/janus packets per CPU-second %.2fx; memory per player janus/livecdn %sx (janus %s/%s players%s)\n",
               v["n"], "ratio", v["livecdn_over_janus"], v["mem_janus_over_livecdn"], v["janus_connected"], v["n"],
               v["janus_saturated"] ? sprintf(", overloaded: %.0f%% of its core, loss or players left out", v["janus_cpu_pct"]) : ""
}
/^BENCH webrtc server=janus status=skipped/ { janus = $0 }
END {
    for (i = 1; i <= nf; i++) print fl[i]
    if (janus != "") { sub(/^BENCH webrtc server=janus /, "", janus); printf "%-6s %-8s %s\n", "-", "janus", janus }
}' "$RESULTS"
