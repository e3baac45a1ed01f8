"""Smoke test under valgrind: every process of a server that served sessions,
REST calls, bad input, CDN pulls both ways and a reload exits with no
invalid access and no definitely lost memory."""
# lc-test: serial  (valgrind runs every process ~20x slower; its bounds assume an idle machine)
import asyncio
import glob
import json
import os
import re
import signal
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
import websockets  # noqa: E402
from lcserver import Tests, free_port, wait_for  # noqa: E402


def rtmp_roundtrip(pub_node, play_node, name):
    """ffmpeg publishes 4 s of H.264+AAC on one node; ffprobe plays it
    meanwhile on the same node or, through the CDN, on another."""
    url = "rtmp://127.0.0.1:%d/live/%s"
    pub = subprocess.Popen(["ffmpeg", "-nostdin", "-v", "error", "-re", "-f", "lavfi", "-i",
                            "testsrc2=size=160x120:rate=15", "-f", "lavfi", "-i", "sine", "-t", "4",
                            "-c:v", "libx264", "-preset", "ultrafast", "-g", "15", "-pix_fmt", "yuv420p",
                            "-c:a", "aac", "-f", "flv", url % (pub_node.rtmp_port, name)], stdin=subprocess.DEVNULL)
    try:
        wait_for(lambda: pub_node.rest("stream/find_all")["streams"], 30, "stream live under valgrind")
        if play_node is not pub_node:
            wait_for(lambda: any(r["stream"] == name for r in play_node.rest("cdn/show_routes")), 30,
                     "route to %s" % name)
        r = subprocess.run(["ffprobe", "-v", "error", "-rw_timeout", "20000000", "-read_intervals", "%+1",
                            "-show_packets", "-of", "csv", url % (play_node.rtmp_port, name)],
                           capture_output=True, text=True, timeout=60)
        assert r.returncode == 0 and r.stdout.count("packet,video") > 5, r.stderr
        assert pub.wait(timeout=60) == 0
    finally:
        if pub.poll() is None:
            pub.kill()
            pub.wait()


def webrtc_roundtrip(s):
    """aiortc publishes VP8 + Opus with a data channel message and plays it back: the whole WebRTC path
    (STUN, DTLS, SRTP, SCTP, depacketize, packetize) runs under valgrind."""
    from rtc_client import Player, Publisher  # noqa: E402

    async def go():
        url = "ws://127.0.0.1:%d/" % s.sig_port
        pub = Publisher(url, "vgrtc")
        ev = await pub.start()
        assert ev["status"] == "PUBLISHING", ev
        pl = Player(url, "vgrtc")
        ev = await pl.start()
        assert ev["status"] == "PLAYING", ev
        for _ in range(300):
            if pl.video_frames > 10:
                break
            await asyncio.sleep(0.1)
        frames = pl.video_frames
        await pl.stop()
        await pub.stop()
        assert frames > 10, frames
    asyncio.run(asyncio.wait_for(go(), 120))


def transcode_roundtrip(s):
    """ffmpeg publishes 8 s of H.264 + AAC; an audio-only aiortc player gets it as Opus: a transcoder and the
    thread pool start, run and end (with its source) under valgrind."""
    from rtc_client import Player  # noqa: E402
    pub = subprocess.Popen(["ffmpeg", "-nostdin", "-v", "error", "-re", "-f", "lavfi", "-i",
                            "testsrc2=size=160x120:rate=15", "-f", "lavfi", "-i", "sine", "-t", "8",
                            "-c:v", "libx264", "-preset", "ultrafast", "-g", "15", "-pix_fmt", "yuv420p",
                            "-c:a", "aac", "-f", "flv", "rtmp://127.0.0.1:%d/live/vgaac" % s.rtmp_port],
                           stdin=subprocess.DEVNULL)

    async def go():
        pl = Player("ws://127.0.0.1:%d/" % s.sig_port, "vgaac", video=False)
        ev = await pl.start()
        assert ev["status"] == "PLAYING", ev
        for _ in range(300):
            if pl.audio_frames > 10:
                break
            await asyncio.sleep(0.1)
        frames = pl.audio_frames
        await pl.stop()
        assert frames > 10, frames
    try:
        wait_for(lambda: any(x["name"] == "vgaac" for x in s.rest("stream/find_all")["streams"]), 30,
                 "stream live under valgrind")
        asyncio.run(asyncio.wait_for(go(), 90))
        assert pub.wait(timeout=60) == 0
        wait_for(lambda: not s.rest("transcoder/find_all")["transcoders"], 30, "the transcoder ends with its source")
    finally:
        if pub.poll() is None:
            pub.kill()
            pub.wait()


def exercise(s, peer):
    rtmp_roundtrip(s, s, "vg")
    webrtc_roundtrip(s)
    transcode_roundtrip(s)
    wait_for(lambda: len([n for n in s.rest("cdn/show_nodes") if n["state"] == "ACTIVE"]) == 2, 60, "CDN joined")
    rtmp_roundtrip(s, peer, "served")   # the valgrind node serves a pull
    rtmp_roundtrip(peer, s, "pulled")   # the valgrind node pulls

    async def run():
        ws = await websockets.connect("ws://127.0.0.1:%d/" % s.sig_port, open_timeout=30)
        await ws.send(json.dumps({"method": "connect"}))
        assert json.loads(await asyncio.wait_for(ws.recv(), 30))["status"] == "ESTABLISHED"
        await ws.send(json.dumps({"method": "publishStream", "id": "1", "name": "cam", "sdp": "v=0"}))
        assert json.loads(await asyncio.wait_for(ws.recv(), 30))["status"] == "FAILED"
        s.rest("worker/show")
        s.rest("cdn/show_routes")
        s.get("/metrics")
        s.get("/")
        assert s.rest("config/reload")["result"] == "ok"
        await ws.send(json.dumps({"method": "ping"}))  # the old worker, draining
        assert json.loads(await asyncio.wait_for(ws.recv(), 30)) == {"event": "pong"}
        await ws.send("{not json")
        await asyncio.wait_for(ws.recv(), 30)
        try:
            await asyncio.wait_for(ws.recv(), 30)
        except websockets.ConnectionClosed:
            pass
        s.wait_ready(generation=2, timeout=60)
    asyncio.run(run())
    s.send_signal(signal.SIGQUIT)
    s.proc.wait(timeout=90)


def no_leaks(s):
    logs = glob.glob(os.path.join(s.dir, "valgrind.*.log"))
    # master + 2 generations x (worker, relay, control) at least
    assert len(logs) >= 7, logs
    bad = []
    for path in logs:
        text = open(path).read()
        errors = re.search(r"ERROR SUMMARY: (\d+) errors", text)
        definite = re.search(r"definitely lost: ([\d,]+) bytes", text)
        if not errors:
            bad.append("%s: no summary (process did not exit cleanly)" % path)
        elif errors.group(1) != "0" or (definite and definite.group(1) != "0"):
            bad.append("%s:\n%s" % (path, text[-3000:]))
    assert not bad, "\n".join(bad)


CDN = 'cdn: { enabled = true; role = "origin"; ip = "127.0.0.1"; port = %d; keepalive_interval = 1; ' \
      'pull_idle_timeout = 1; %s };'

with Tests() as t:
    vport, pport = free_port(), free_port()
    s = t.server(workers=1, valgrind=True, extra=CDN % (vport, "")).start()
    peer = t.server(workers=1, extra=CDN % (pport, 'point_of_entry = "127.0.0.1:%d";' % vport)).start()
    t.case("RTMP publish and play, a transcoder, CDN pulls both ways, sessions, REST, bad input and a reload "
           "under valgrind",
           exercise, s, peer, timeout=180)  # everything ~20x slower under valgrind
    t.case("no process has memory errors or definite leaks", no_leaks, s, timeout=150)
