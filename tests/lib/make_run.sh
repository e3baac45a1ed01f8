#!/usr/bin/env bash
# make run: an origin and an edge on this machine, in the foreground, from
# conf/origin.conf and conf/edge.conf. Ctrl-C stops both.
set -u
cd "$(dirname "$0")/../.."
mkdir -p logs
pids=()
stop() {
    trap - INT TERM EXIT
    echo; echo "stopping..."
    for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null; done
    for p in "${pids[@]}"; do wait "$p" 2>/dev/null; done
    echo "stopped"
    exit 0
}
trap stop INT TERM EXIT
for node in origin edge; do
    bin/livecdn -t -c conf/$node.conf || exit 1
    bin/livecdn -g -c conf/$node.conf &
    pids+=($!)
done
sleep 1
for p in "${pids[@]}"; do
    kill -0 "$p" 2>/dev/null || { echo "a node failed to start: see logs/origin-error.log and logs/edge-error.log"; exit 1; }
done
cat <<EOT

livecdn is running: origin (pid ${pids[0]}) and edge (pid ${pids[1]}).
  origin page:  http://127.0.0.1:8081/     signaling ws://127.0.0.1:8080/
  edge page:    http://127.0.0.1:8091/     signaling ws://127.0.0.1:8090/
  logs:         logs/origin-error.log, logs/edge-error.log
  CLI:          bin/livecdnctl show workers   (origin)
                bin/livecdnctl -a 127.0.0.1:8091 show cdn-nodes   (edge)
Publish on the origin:
  ffmpeg -re -f lavfi -i testsrc2 -f lavfi -i sine -c:v libx264 -c:a aac -f flv rtmp://127.0.0.1:1935/live/cam
Play on the edge (it pulls the stream from the origin through the CDN):
  ffplay rtmp://127.0.0.1:1945/live/cam     (bin/livecdnctl -a 127.0.0.1:8091 show cdn-routes lists it)
WebRTC from a browser: publish on the origin, play on the edge:
  http://127.0.0.1:8081/publisher.html?ws=ws://127.0.0.1:8080/&name=cam
  http://127.0.0.1:8091/player.html?ws=ws://127.0.0.1:8090/&name=cam
  (browsers skip loopback for ICE: the media candidates also carry this machine's LAN address)
Press Ctrl-C to stop both.
EOT
wait
