#!/usr/bin/env bash
# cdn_bench.sh: the CDN (livecdn-cdn(7)) on one machine. Every node is one
# livecdn master (its own prefix, config and ports) on 127.0.0.1 with
#   cdn: { enabled = true; role; ip = "127.0.0.1"; port; point_of_entry; keepalive_interval = 1; }
# Numbers are measured, never asserted. Parts (CDN_BENCH_PARTS):
#   first     origin + edge, one publisher on the origin (the 2.5 Mbit/s CBR
#             file of rtmp_bench.sh, 2 s GOP, ffmpeg -re -stream_loop -1 -c copy),
#             players of rtmp_load -n 1 on the edge: ms from play sent to the
#             first video keyframe, cold (the edge does not pull the stream:
#             pull_idle_timeout = 0 and, between samples, wait until the edge's
#             stream/find_all no longer lists it) and warm (one player kept on
#             the edge); the same on the origin for reference.
#   hop       build/bench/cdn_hop: one player on the origin, one on the edge,
#             arrival of the same video frame at both: edge - origin, p50/p99
#             over a window. Twice: rtmp.send_batch_ms = 40 (the default: each
#             player's writes wait for its worker's 40 ms batch timer, whose
#             phase differs per node, so the difference can be negative) and
#             send_batch_ms = 0 (what the hop itself adds).
#   converge  for 2, 4 and 8 nodes (odd: origin, even: edge, all entering via
#             node 1): nodes 1..N-1 start together (boot_ms: until they all
#             list each other ACTIVE), then node N starts (join_ms: until every
#             node's cdn/show_nodes lists all others ACTIVE; polled every 50 ms).
#             Then node N fails: frozen (SIGSTOP, its sockets stay open:
#             freeze_ms until every survivor shows it PASSIVE, three keepalive
#             intervals expected; then SIGCONT, recover_ms until ACTIVE again),
#             then killed (kill -9 of its master and children: kill_ms until
#             PASSIVE everywhere, at once when the links close). With 8 nodes,
#             control messages per node per second at rest (delta of
#             livecdn_cdn_messages_total{direction="out"} over CDN_BENCH_REST s;
#             (nodes - 1) / keepalive_interval expected).
#   tree      CPU per GB delivered, summed over every livecdn process involved
#             (utime+stime, sampled by rtmp_load at its window's edges): one
#             origin + 4 edges with 1000 players of a 600 kbps stream split
#             over the edges, against one node serving the 1000 players
#             directly; worker_processes = 1 per node, nodes pinned to CPU 0,
#             publisher and load client to CPU 1 (CDN_BENCH_PIN=0: no pinning).
# Output: `BENCH cdn_first|cdn_hop|cdn_converge|cdn_msgs|cdn_tree|cdn_tree_ratio ...`
# lines, then a table. Every process started here is stopped by PID at exit
# (nodes run in their own session: every process of that session). The whole
# run is bounded by CDN_BENCH_BUDGET seconds (330): a part that would not
# fit is reported as status=skipped_budget.
# Knobs: CDN_BENCH_PARTS ("first hop converge tree"), CDN_BENCH_SAMPLES (15),
# CDN_BENCH_HOP_WINDOW (10 s), CDN_BENCH_NODES ("2 4 8"), CDN_BENCH_REST (10 s),
# CDN_BENCH_PLAYERS (1000), CDN_BENCH_EDGES (4), CDN_BENCH_TREE_KBPS (600),
# CDN_BENCH_WINDOW (10 s), CDN_BENCH_WARMUP (3 s), CDN_BENCH_RAMP (500 players/s),
# CDN_BENCH_BUDGET (330 s), CDN_BENCH_PIN (1).
set -u
cd "$(dirname "$0")/.." || exit 1
. bench/lib.sh
ROOT=$PWD
LOAD=$ROOT/build/bench/rtmp_load
HOP=$ROOT/build/bench/cdn_hop
MEDIA=$ROOT/build/bench/media
PARTS=${CDN_BENCH_PARTS:-"first hop converge tree"}
SAMPLES=${CDN_BENCH_SAMPLES:-15}
HOP_WINDOW=${CDN_BENCH_HOP_WINDOW:-10}
NODE_COUNTS=${CDN_BENCH_NODES:-"2 4 8"}
REST_WINDOW=${CDN_BENCH_REST:-10}
PLAYERS=${CDN_BENCH_PLAYERS:-1000}
EDGES=${CDN_BENCH_EDGES:-4}
TREE_KBPS=${CDN_BENCH_TREE_KBPS:-600}
WINDOW=${CDN_BENCH_WINDOW:-10}
WARMUP=${CDN_BENCH_WARMUP:-3}
RAMP=${CDN_BENCH_RAMP:-500}
BUDGET=${CDN_BENCH_BUDGET:-330}
KEEPALIVE=1
SETTLE=10
FIRST_KBPS=2500

T=$(mktemp -d /tmp/lc-cdn-bench.XXXXXX)
declare -a MASTERS=() OTHER_PIDS=()
declare -A N_DIR N_PID N_HTTP N_RTMP N_CDN

log() { echo "cdn_bench: $*" >&2; }
left() { echo $((BUDGET - SECONDS)); }

# ---- processes ----

# Every process of a node: its session (the master is the session leader).
node_procs() {
    local m=$1
    [ -n "$m" ] || return 0
    ps -eo pid=,sid= | awk -v s="$m" '$2 == s { print $1 }'
}


# stop_node ID: TERM to the master, then KILL to whatever of its session is left.
stop_node() {
    local m=${N_PID[$1]:-} p
    [ -n "$m" ] || return 0
    local procs
    procs=$(node_procs "$m")
    stop_pid "$m" TERM 5
    for p in $procs $(node_procs "$m"); do kill -KILL "$p" 2>/dev/null; done
    wait "$m" 2>/dev/null
    N_PID[$1]=
}

# kill_node ID: the failure case: kill -9 of the master and its children at once.
kill_node() {
    local m=${N_PID[$1]:-}
    [ -n "$m" ] || return 0
    kill -KILL "$m" $(pgrep -P "$m") $(node_procs "$m") 2>/dev/null
    wait "$m" 2>/dev/null
}

# signal_node ID SIG: every process of the node (STOP/CONT)
signal_node() {
    local m=${N_PID[$1]:-}
    [ -n "$m" ] || return 0
    kill "-$2" $(node_procs "$m") 2>/dev/null
}

stop_all_nodes() {
    local id
    for id in "${!N_PID[@]}"; do stop_node "$id"; done
    N_PID=()
}

cleanup() {
    local p m
    for p in "${OTHER_PIDS[@]}"; do stop_pid "$p" KILL 1; done
    for m in "${MASTERS[@]}"; do
        kill -CONT $(node_procs "$m") 2>/dev/null
        for p in $(node_procs "$m") "$m"; do kill -KILL "$p" 2>/dev/null; done
        wait "$m" 2>/dev/null
    done
    rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# bg CMD...: run in the background, remembered for cleanup; sets BG
bg() {
    "$@" &
    BG=$!
    OTHER_PIDS+=("$BG")
}

# K distinct free ports on 127.0.0.1 (all bound at once, so none repeats)
free_ports() {
    /usr/bin/python3 -c '
import socket, sys
ss = [socket.socket() for _ in range(int(sys.argv[1]))]
for s in ss: s.bind(("127.0.0.1", 0))
print(" ".join(str(s.getsockname()[1]) for s in ss))' "$1"
}

# ---- nodes ----

# node_conf ID ROLE POE_ID WORKERS EXTRA_RTMP EXTRA_CDN: writes the node's prefix
node_conf() {
    local id=$1 role=$2 poe=$3 workers=$4 rtmp_extra=$5 cdn_extra=$6 d=$T/node$1 ports
    rm -rf "$d" && mkdir -p "$d/logs" "$d/html"
    read -r -a ports <<<"$(free_ports 4)"
    N_DIR[$id]=$d N_HTTP[$id]=${ports[0]} N_RTMP[$id]=${ports[1]} N_CDN[$id]=${ports[2]}
    local poe_s=""
    [ -n "$poe" ] && poe_s="127.0.0.1:${N_CDN[$poe]}"
    cat >"$d/livecdn.conf" <<EOF
worker_processes = $workers;
pid = "logs/livecdn.pid";
error_log = "logs/error.log";
log_level = "warn";
worker_shutdown_timeout = 2;
signaling: { listen = "127.0.0.1:${ports[3]}"; };
http: { listen = "127.0.0.1:${ports[0]}"; root = "html"; };
rtmp: { listen = "127.0.0.1:${ports[1]}"; chunk_size = 4096; $rtmp_extra };
media: { gop_cache = true; };
cdn: { enabled = true; role = "$role"; ip = "127.0.0.1"; port = ${ports[2]}; point_of_entry = "$poe_s";
       keepalive_interval = $KEEPALIVE; $cdn_extra };
EOF
}

# node_start ID [PIN]: starts the node in its own session, does not wait
node_start() {
    local id=$1 pin=${2:-} d=${N_DIR[$1]}
    $pin setsid "$BIN" -g -c "$d/livecdn.conf" -p "$d" >"$d/stdout.log" 2>&1 &
    N_PID[$id]=$!
    MASTERS+=("$!")
}

# node_ready ID: worker(s), relay and control up, REST answers (15 s at most)
node_ready() {
    local id=$1
    for _ in $(seq 150); do
        if ss -ltnH "sport = :${N_RTMP[$id]}" | grep -q . &&
            curl -sf -m 1 -X POST -H 'Content-Type: application/json' -d '{}' "http://127.0.0.1:${N_HTTP[$id]}/rest-api/cdn/show_nodes" >/dev/null; then
            return 0
        fi
        kill -0 "${N_PID[$id]}" 2>/dev/null || break
        sleep 0.1
    done
    log "node $id did not start:"
    tail -5 "${N_DIR[$id]}/logs/error.log" "${N_DIR[$id]}/stdout.log" 2>/dev/null | sed 's/^/  | /' >&2
    return 1
}

rest() { curl -sf -m 2 -X POST -H 'Content-Type: application/json' -d '{}' "http://127.0.0.1:${N_HTTP[$1]}/rest-api/$2"; }

msgs_out() {
    curl -sf -m 2 "http://127.0.0.1:${N_HTTP[$1]}/metrics" |
        awk '/^livecdn_cdn_messages_total\{direction="out"\}/ { print $2; f = 1 } END { if (!f) print -1 }'
}

# Poll the REST of nodes every 50 ms (python: one process, no fork per poll).
#   poll_nodes T0 TIMEOUT converged ID...          every listed node lists all the others ACTIVE
#   poll_nodes T0 TIMEOUT state ADDR STATE ID...   every listed node shows ADDR in STATE (PASSIVE: or not at all)
# prints ms from T0 (an $EPOCHREALTIME) to the first round where it held, or "timeout"
cat >"$T/poll.py" <<'EOF'
import json, sys, time, urllib.request
t0, timeout, mode = float(sys.argv[1]), float(sys.argv[2]), sys.argv[3]
args = sys.argv[4:]
if mode == "state":
    addr, want, args = args[0], args[1], args[2:]
ports = dict(a.split("=") for a in args)  # "addr=http_port"
def nodes(port):
    req = urllib.request.Request("http://127.0.0.1:%s/rest-api/cdn/show_nodes" % port, data=b"{}", method="POST",
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=1) as r:
        return {n["ip"]: n["state"] for n in json.loads(r.read()) if not n.get("self")}
def holds():
    for a, port in ports.items():
        try:
            seen = nodes(port)
        except Exception:
            return False
        if mode == "converged":
            if any(seen.get(b) != "ACTIVE" for b in ports if b != a):
                return False
        elif seen.get(addr, "PASSIVE" if want == "PASSIVE" else None) != want:
            return False
    return True
while True:
    r0 = time.time()
    if holds():
        print("%.0f" % ((time.time() - t0) * 1000))
        break
    if time.time() - t0 > timeout:
        print("timeout")
        break
    time.sleep(max(0.0, 0.05 - (time.time() - r0)))
EOF
poll_nodes() {
    local t0=$1 to=$2 mode=$3 id
    shift 3
    local extra=()
    if [ "$mode" = state ]; then extra=("$1" "$2"); shift 2; fi
    local specs=()
    for id in "$@"; do specs+=("127.0.0.1:${N_CDN[$id]}=${N_HTTP[$id]}"); done
    timeout $((to + 5)) /usr/bin/python3 "$T/poll.py" "$t0" "$to" "$mode" "${extra[@]}" "${specs[@]}" || echo timeout
}

# ---- media and publisher ----

# media KBPS: the CBR file of rtmp_bench.sh (encoded once, kept)
media() {
    local kbps=$1 f=$MEDIA/cbr_${1}k.flv v=$(($1 - 64))
    mkdir -p "$MEDIA"
    if [ ! -s "$f" ]; then
        log "encoding $f (640x360 25 fps, GOP 2 s, CBR ${kbps} kbps, 20 s)"
        timeout 180 ffmpeg -nostdin -v error -y -f lavfi -i testsrc2=size=640x360:rate=25 \
            -f lavfi -i sine=frequency=1000:sample_rate=48000 -t 20 \
            -c:v libx264 -preset veryfast -g 50 -keyint_min 50 -sc_threshold 0 -pix_fmt yuv420p \
            -b:v ${v}k -minrate ${v}k -maxrate ${v}k -bufsize ${v}k -x264-params nal-hrd=cbr:force-cfr=1 \
            -c:a aac -b:a 64k -ar 48000 -f flv "$f.tmp" >&2 && mv "$f.tmp" "$f" || return 1
    fi
    echo "$f"
}

# publish ID KBPS [PIN]: ffmpeg pushes the file to node ID's /live/bench; sets PUB; waits
# until a one-player probe on that node gets a keyframe
publish() {
    local id=$1 f url
    f=$(media "$2") || { log "cannot encode the ${2} kbps media"; return 1; }
    url=rtmp://127.0.0.1:${N_RTMP[$id]}/live/bench
    bg ${3:-} ffmpeg -nostdin -v error -re -stream_loop -1 -i "$f" -c copy -f flv "$url"
    PUB=$BG
    for _ in $(seq 10); do
        timeout 10 "$LOAD" -u "$url" -n 1 -t 0 -w 0 -s 4 >/dev/null 2>&1 && return 0
        kill -0 "$PUB" 2>/dev/null || break
        sleep 0.5
    done
    log "the stream published on node $id never reached a player"
    return 1
}

# wait_route ID: node ID has a route for "bench" (10 s at most)
wait_route() {
    for _ in $(seq 100); do
        rest "$1" cdn/show_routes | grep -q '"stream":"bench"' && return 0
        sleep 0.1
    done
    return 1
}

# listed ID: node ID's stream/find_all lists "bench"
listed() { rest "$1" stream/find_all | grep -q '"name":"bench"'; }

# percentile summary of numbers on stdin: n p50 p99 min max (rtmp_load's nearest-rank rule)
summary() {
    sort -g | awk '{ v[++n] = $1 }
        function p(q,  i) { i = int(q * n + 0.999999); if (i < 1) i = 1; if (i > n) i = n; return v[i] }
        END { if (!n) { print "n=0"; exit }
              printf "n=%d p50_ms=%.1f p99_ms=%.1f min_ms=%.1f max_ms=%.1f\n", n, p(0.5), p(0.99), v[1], v[n] }'
}

ff_of() { sed -n 's/.* ff_p50_ms=\([0-9.]*\).*/\1/p'; }

# node_errlog ID [EXPECTED_RE]: the tail of a node's log (warn and up), lines
# matching EXPECTED_RE (what the case provokes) only counted
node_errlog() {
    local id=$1 re=${2:-} f=${N_DIR[$1]}/logs/error.log n
    [ -s "$f" ] || return 0
    if [ -n "$re" ]; then
        n=$(grep -cE "$re" "$f")
        grep -vE "$re" "$f" >"$f.other"
        f=$f.other
        [ -s "$f" ] || { log "node $id error log: $n expected lines ($re)"; return 0; }
    fi
    log "node $id error log: $(wc -l <"$f") lines${re:+ besides $n expected}, the last ones:"
    tail -3 "$f" | cut -c1-300 | sed 's/^/  | /' >&2
}

# ---- prerequisites ----

if [ ! -x "$LOAD" ] || [ ! -x "$HOP" ] || [ ! -x bin/livecdn ]; then
    log "build first: make all build/bench/rtmp_load build/bench/cdn_hop"
    exit 1
fi
if ! command -v ffmpeg >/dev/null || ! command -v curl >/dev/null; then
    log "ffmpeg or curl is missing: CDN bench skipped"
    exit 0
fi
# a private copy: a rebuild of bin/livecdn during the run changes no node
BIN=$T/livecdn
cp bin/livecdn "$BIN"
ulimit -n "$(ulimit -Hn)" 2>/dev/null
PIN_SRV="" PIN_CLI=""
if [ "${CDN_BENCH_PIN:-1}" = 1 ] && [ "$(nproc)" -ge 2 ] && command -v taskset >/dev/null; then
    PIN_SRV="taskset -c 0" PIN_CLI="taskset -c 1"
fi
has() { [[ " $PARTS " == *" $1 "* ]]; }

# ---- first frame and hop: origin (1) + edge (2) ----

# pair BATCH_MS: origin and edge, stream published, edge has the route
pair() {
    node_conf 1 origin "" 1 "send_batch_ms = $1;" ""
    node_conf 2 edge 1 1 "send_batch_ms = $1;" "pull_idle_timeout = 0;"
    node_start 1 && node_start 2
    node_ready 1 && node_ready 2 || return 1
    [ "$(poll_nodes "$EPOCHREALTIME" 10 converged 1 2)" != timeout ] || { log "origin and edge never met"; return 1; }
    publish 1 "$FIRST_KBPS" || return 1
    wait_route 2 || { log "the edge never got the route"; return 1; }
}

# first_samples WHERE URL [COLD_ID]: SAMPLES one-player first frames; with COLD_ID,
# wait before each until node COLD_ID no longer lists the stream
first_samples() {
    local where=$1 url=$2 cold=${3:-} i ff drops=0 dropped nd=0 t0
    : >"$T/ff" && : >"$T/drop"
    for i in $(seq "$SAMPLES"); do
        if [ -n "$cold" ]; then
            dropped=
            t0=$EPOCHREALTIME
            for _ in $(seq 100); do
                listed "$cold" || { dropped=1; break; }
                sleep 0.05
            done
            [ -n "$dropped" ] || { nd=$((nd + 1)); continue; } # still pulled after 5 s: not a cold sample
            [ "$i" -gt 1 ] && awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f\n", (b - a) * 1000 }' >>"$T/drop"
        fi
        ff=$(timeout 15 "$LOAD" -u "$url" -n 1 -t 0 -w 0 -s 5 2>/dev/null | ff_of)
        [ -n "$ff" ] && echo "$ff" >>"$T/ff" || drops=$((drops + 1))
    done
    local s
    s=$(summary <"$T/ff")
    echo "BENCH cdn_first where=$where samples=$SAMPLES failed=$drops not_dropped=$nd $s" \
        "$( [ -n "$cold" ] && summary <"$T/drop" | sed 's/\([a-z0-9_]*\)=/drop_\1=/g')"
}

if has first || has hop; then
    if [ "$(left)" -lt 40 ]; then
        echo "BENCH cdn_first where=edge_cold status=skipped_budget"
    else
        log "-- first frame and hop: origin + edge, ${FIRST_KBPS} kbps, send_batch_ms 40"
        if pair 40; then
            e_url=rtmp://127.0.0.1:${N_RTMP[2]}/live/bench o_url=rtmp://127.0.0.1:${N_RTMP[1]}/live/bench
            if has first; then
                first_samples edge_cold "$e_url" 2
                bg "$LOAD" -u "$e_url" -n 1 -t 100000 -w 0 -s 1 >/dev/null 2>&1
                keep=$BG
                sleep 1
                first_samples edge_warm "$e_url"
                first_samples origin "$o_url"
                stop_pid "$keep" TERM 2
            fi
            if has hop; then
                out=$(timeout $((HOP_WINDOW + 20)) "$HOP" -a "$o_url" -b "$e_url" -t "$HOP_WINDOW" -w 3 2>"$T/hop.err")
                [ -n "$out" ] && echo "${out/BENCH cdn_hop /BENCH cdn_hop batch_ms=40 }" ||
                    { echo "BENCH cdn_hop batch_ms=40 status=failed"; sed 's/^/  /' "$T/hop.err" >&2; }
            fi
        else
            echo "BENCH cdn_first where=edge_cold status=start_failed"
        fi
        node_errlog 1; node_errlog 2
        stop_pid "${PUB:-}" TERM 3
        stop_all_nodes
        if has hop && [ "$(left)" -gt 30 ]; then
            log "-- hop again with send_batch_ms 0"
            if pair 0; then
                out=$(timeout $((HOP_WINDOW + 20)) "$HOP" -a "rtmp://127.0.0.1:${N_RTMP[1]}/live/bench" \
                    -b "rtmp://127.0.0.1:${N_RTMP[2]}/live/bench" -t "$HOP_WINDOW" -w 3 2>"$T/hop.err")
                [ -n "$out" ] && echo "${out/BENCH cdn_hop /BENCH cdn_hop batch_ms=0 }" ||
                    { echo "BENCH cdn_hop batch_ms=0 status=failed"; sed 's/^/  /' "$T/hop.err" >&2; }
            else
                echo "BENCH cdn_hop batch_ms=0 status=start_failed"
            fi
            node_errlog 1; node_errlog 2
            stop_pid "${PUB:-}" TERM 3
            stop_all_nodes
        fi
    fi
fi

# ---- convergence, failure detection, messages at rest ----

if has converge; then
    for n in $NODE_COUNTS; do
        if [ "$(left)" -lt $((25 + (n == 8 ? REST_WINDOW : 0))) ]; then
            echo "BENCH cdn_converge nodes=$n status=skipped_budget"
            continue
        fi
        log "-- convergence: $n nodes"
        ids=$(seq "$n")
        for i in $ids; do
            role=origin
            [ $((i % 2)) = 0 ] && role=edge
            node_conf "$i" "$role" "$([ "$i" = 1 ] || echo 1)" 1 "" ""
        done
        first=$(seq $((n - 1)))
        t0=$EPOCHREALTIME
        for i in $first; do node_start "$i"; done
        boot=-
        [ "$n" -gt 2 ] && boot=$(poll_nodes "$t0" 20 converged $first)
        # node 1 alone (n = 2): it needs only to be up before the join is timed
        [ "$n" = 2 ] && { node_ready 1 || boot=timeout; }
        t0=$EPOCHREALTIME
        node_start "$n"
        join=$(poll_nodes "$t0" 20 converged $ids)
        rate=""
        if [ "$n" = 8 ] && [ "$join" != timeout ]; then
            sleep 1
            declare -A m0=()
            for i in $ids; do m0[$i]=$(msgs_out "$i"); done
            ta=$EPOCHREALTIME
            sleep "$REST_WINDOW"
            tb=$EPOCHREALTIME
            for i in $ids; do echo "$i $(msgs_out "$i") ${m0[$i]}"; done >"$T/msgs"
            awk -v n="$n" -v a="$ta" -v b="$tb" -v k="$KEEPALIVE" '
                $2 >= 0 && $3 >= 0 { r = ($2 - $3) / (b - a); s += r; c++
                                     if (c == 1 || r < mn) mn = r; if (c == 1 || r > mx) mx = r }
                END { printf "BENCH cdn_msgs nodes=%d window_s=%.1f nodes_read=%d per_node_per_s_avg=%.2f min=%.2f max=%.2f expected=%.1f\n",
                             n, b - a, c, c ? s / c : -1, mn, mx, (n - 1) / k }' "$T/msgs"
        fi
        victim=$n addr=127.0.0.1:${N_CDN[$n]}
        survivors=$(seq $((n - 1)))
        freeze=- recover=- killed=-
        if [ "$join" != timeout ]; then
            t0=$EPOCHREALTIME
            signal_node "$victim" STOP
            freeze=$(poll_nodes "$t0" $((10 * KEEPALIVE + 5)) state "$addr" PASSIVE $survivors)
            t0=$EPOCHREALTIME
            signal_node "$victim" CONT
            recover=$(poll_nodes "$t0" 15 state "$addr" ACTIVE $survivors)
            sleep 0.5
            t0=$EPOCHREALTIME
            kill_node "$victim"
            killed=$(poll_nodes "$t0" $((10 * KEEPALIVE + 5)) state "$addr" PASSIVE $survivors)
        fi
        status=ok
        [[ "$boot $join $freeze $recover $killed" == *timeout* ]] && status=timeout
        echo "BENCH cdn_converge nodes=$n boot_ms=$boot join_ms=$join freeze_passive_ms=$freeze recover_ms=$recover" \
            "kill_passive_ms=$killed keepalive_s=$KEEPALIVE status=$status"
        for i in $ids; do node_errlog "$i" 'is PASSIVE: (silent for three keepalive intervals|connection closed|it said bye)'; done
        stop_all_nodes
    done
fi

# ---- relay tree CPU: origin + edges vs one node ----

# cpu_by_role PID...: "role ticks" per process (role from the process title: master, worker, relay, control)
cpu_by_role() {
    local p
    for p in "$@"; do
        awk -v r="$(tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null | awk '/^livecdn: / { print $2; exit } { print "master" }')" \
            -v hz="$(getconf CLK_TCK)" '{ sub(/.*\) /, ""); print r, ($12 + $13) / hz }' "/proc/$p/stat" 2>/dev/null
    done
}

# tree_case CASE NODE_IDS URL_IDS: one rtmp_load over the URL nodes, CPU of every process of NODE_IDS
tree_case() {
    local case=$1 nodes=$2 urls=$3 rate=$4 id pids=() uargs=() out line status=ok
    for id in $nodes; do pids+=($(node_procs "${N_PID[$id]}")); done
    for id in $urls; do uargs+=(-u "rtmp://127.0.0.1:${N_RTMP[$id]}/live/bench"); done
    local pargs=()
    for p in "${pids[@]}"; do pargs+=(-p "$p"); done
    local budget=$((PLAYERS / RAMP + SETTLE + WARMUP + WINDOW + 30))
    cpu_by_role "${pids[@]}" >"$T/cpu0"
    out=$(timeout -k 5 "$budget" $PIN_CLI "$LOAD" "${uargs[@]}" -n "$PLAYERS" -r "$RAMP" -t "$WINDOW" -w "$WARMUP" \
        -s "$SETTLE" -b "$rate" "${pargs[@]}" 2>"$T/load.err")
    [ $? -ge 124 ] && status=load_timeout
    cpu_by_role "${pids[@]}" >"$T/cpu1"
    # the whole run (ramp included), per process role: where the CPU goes
    local roles
    roles=$(awk 'NR == FNR { a[$1] += $2; next } { b[$1] += $2 }
                 END { for (r in b) printf "run_cpu_%s_s=%.2f ", r, b[r] - a[r] }' "$T/cpu0" "$T/cpu1")
    sed "s/^/  [$case] /" "$T/load.err" >&2
    for id in $nodes; do kill -0 "${N_PID[$id]}" 2>/dev/null || status=node_died; done
    line=$(grep '^BENCH rtmp_load' <<<"$out")
    if [ -z "$line" ]; then
        echo "BENCH cdn_tree case=$case nodes=$(wc -w <<<"$nodes") n=$PLAYERS status=$status"
        return
    fi
    awk -v roles="$roles" -v c="$case" -v nn="$(wc -w <<<"$nodes")" -v np="${#pids[@]}" -v rate="$rate" -v st="$status" '{
        for (i = 3; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
        gb = v["win_bytes"] / 1e9; cpg = gb > 0 ? v["srv_cpu_s"] / gb : -1
        target = v["n"] * rate / 1000
        printf "BENCH cdn_tree case=%s nodes=%d procs=%d kbps=%s n=%d connected=%d behind=%d mbps=%.1f target_mbps=%.1f " \
               "pct=%.1f cpu_s=%.2f gb=%.3f cpu_s_per_gb=%.3f ff_p50_ms=%.1f ff_p99_ms=%.1f client_cpu_s=%.2f %sstatus=%s\n",
               c, nn, np, rate, v["n"], v["connected"], v["behind"], v["win_mbps"], target, 100 * v["win_mbps"] / target,
               v["srv_cpu_s"], gb, cpg, v["ff_p50_ms"], v["ff_p99_ms"], v["client_cpu_s"], roles, st
    }' <<<"$line"
}

# (a brace group, not a pipe: the nodes must be started by this shell for cleanup to see them)
: >"$T/tree"
if has tree; then {
    f=$(media "$TREE_KBPS") && rate=$(($(stat -c %s "$f") * 8 / 20 / 1000)) # the file's real rate
    need=$((2 * (PLAYERS / RAMP + SETTLE + WARMUP + WINDOW + 15)))
    if [ -z "${rate:-}" ]; then
        echo "BENCH cdn_tree case=tree status=no_media"
    elif [ "$(left)" -lt "$need" ]; then
        echo "BENCH cdn_tree case=tree status=skipped_budget"
        echo "BENCH cdn_tree case=single status=skipped_budget"
    else
        log "-- relay tree: origin + $EDGES edges vs one node, $PLAYERS players of $TREE_KBPS kbps ($rate measured)"
        edges=$(seq 2 $((EDGES + 1)))
        node_conf 1 origin "" 1 "" ""
        for i in $edges; do node_conf "$i" edge 1 1 "" ""; done
        ok=1
        for i in 1 $edges; do node_start "$i" "$PIN_SRV"; done
        for i in 1 $edges; do node_ready "$i" || ok=; done
        [ -n "$ok" ] && [ "$(poll_nodes "$EPOCHREALTIME" 15 converged 1 $edges)" = timeout ] && ok=
        [ -n "$ok" ] && { publish 1 "$TREE_KBPS" "$PIN_CLI" || ok=; }
        for i in $edges; do [ -n "$ok" ] && { wait_route "$i" || ok=; }; done
        if [ -n "$ok" ]; then
            tree_case tree "1 $edges" "$edges" "$rate"
        else
            echo "BENCH cdn_tree case=tree nodes=$((EDGES + 1)) n=$PLAYERS status=start_failed"
        fi
        for i in 1 $edges; do node_errlog "$i"; done
        stop_pid "${PUB:-}" TERM 3
        stop_all_nodes

        node_conf 1 origin "" 1 "" ""
        node_start 1 "$PIN_SRV"
        if node_ready 1 && publish 1 "$TREE_KBPS" "$PIN_CLI"; then
            tree_case single 1 1 "$rate"
        else
            echo "BENCH cdn_tree case=single nodes=1 n=$PLAYERS status=start_failed"
        fi
        node_errlog 1
        stop_pid "${PUB:-}" TERM 3
        stop_all_nodes
    fi
} >>"$T/tree"; fi
cat "$T/tree"
awk '/^BENCH cdn_tree / { for (i = 3; i <= NF; i++) { split($i, kv, "="); v[$3, kv[1]] = kv[2] } }
     END { t = v["case=tree", "cpu_s_per_gb"]; s = v["case=single", "cpu_s_per_gb"]
           if (t > 0 && s > 0)
               printf "BENCH cdn_tree_ratio kbps=%s n=%s tree_cpu_s_per_gb=%.3f single_cpu_s_per_gb=%.3f tree_over_single=%.2f\n",
                      v["case=tree", "kbps"], v["case=tree", "n"], t, s, t / s }' "$T/tree"
log "done in ${SECONDS}s"
