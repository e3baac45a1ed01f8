"""Smoke test under valgrind: every process of a server that served sessions,
REST calls, bad input and a reload exits with no invalid access and no
definitely lost memory."""
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
from lcserver import Tests, wait_for  # noqa: E402


def rtmp_roundtrip(s):
    """ffmpeg publishes 4 s of H.264+AAC; ffprobe plays it meanwhile."""
    url = "rtmp://127.0.0.1:%d/live/vg" % s.rtmp_port
    pub = subprocess.Popen(["ffmpeg", "-nostdin", "-v", "error", "-re", "-f", "lavfi", "-i",
                            "testsrc2=size=160x120:rate=15", "-f", "lavfi", "-i", "sine", "-t", "4",
                            "-c:v", "libx264", "-preset", "ultrafast", "-g", "15", "-pix_fmt", "yuv420p",
                            "-c:a", "aac", "-f", "flv", url], stdin=subprocess.DEVNULL)
    try:
        wait_for(lambda: s.rest("stream/find_all")["streams"], 30, "stream live under valgrind")
        r = subprocess.run(["ffprobe", "-v", "error", "-rw_timeout", "20000000", "-read_intervals", "%+1",
                            "-show_packets", "-of", "csv", url], capture_output=True, text=True, timeout=60)
        assert r.returncode == 0 and r.stdout.count("packet,video") > 5, r.stderr
        assert pub.wait(timeout=60) == 0
    finally:
        if pub.poll() is None:
            pub.kill()
            pub.wait()


def exercise(s):
    rtmp_roundtrip(s)

    async def run():
        ws = await websockets.connect("ws://127.0.0.1:%d/" % s.sig_port, open_timeout=30)
        await ws.send(json.dumps({"method": "connect"}))
        assert json.loads(await asyncio.wait_for(ws.recv(), 30))["status"] == "ESTABLISHED"
        await ws.send(json.dumps({"method": "publishStream", "id": "1", "name": "cam", "sdp": "v=0"}))
        assert json.loads(await asyncio.wait_for(ws.recv(), 30))["status"] == "FAILED"
        s.rest("worker/show")
        s.rest_error("cdn/show_nodes")
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


with Tests() as t:
    s = t.server(workers=1, valgrind=True).start()
    t.case("RTMP publish and play, sessions, REST, bad input and a reload under valgrind", exercise, s)
    t.case("no process has memory errors or definite leaks", no_leaks, s)
