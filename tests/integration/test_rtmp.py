"""RTMP publish and play (SPEC section 5) with real ffmpeg/ffprobe clients:
players on several workers, publisher end, worker death, reload,
terminate, and malformed input."""
import json
import os
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from lcserver import Tests, wait_for  # noqa: E402

WORK = tempfile.mkdtemp(prefix="lc-rtmp-media-")
MEDIA = os.path.join(WORK, "src.flv")
PROCS = []


def make_media():
    # 320x240 25 fps H.264 (GOP 1 s) + 44.1 kHz AAC, 12 s: encoded once, then
    # published with -c copy so the test costs little CPU
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-y", "-f", "lavfi", "-i",
                    "testsrc2=size=320x240:rate=25", "-f", "lavfi", "-i", "sine=frequency=1000:sample_rate=44100",
                    "-t", "12", "-c:v", "libx264", "-preset", "ultrafast", "-g", "25", "-pix_fmt", "yuv420p",
                    "-c:a", "aac", "-b:a", "64k", "-f", "flv", MEDIA], check=True, timeout=120)


def spawn(args, **kw):
    p = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True, **kw)
    PROCS.append(p)
    return p


def publish(s, name, loop=True):
    args = ["ffmpeg", "-nostdin", "-v", "error", "-re"]
    if loop:
        args += ["-stream_loop", "-1"]
    return spawn(args + ["-i", MEDIA, "-c", "copy", "-f", "flv",
                         "rtmp://127.0.0.1:%d/live/%s" % (s.rtmp_port, name)])


def url(s, name):
    return "rtmp://127.0.0.1:%d/live/%s" % (s.rtmp_port, name)


def probe(s, name, seconds=4):
    """ffprobe: streams and every packet (stream, pts, flags) for `seconds`."""
    return spawn(["ffprobe", "-v", "error", "-rw_timeout", "8000000", "-read_intervals", "%%+%d" % seconds,
                  "-show_streams", "-show_packets", "-of", "json", url(s, name)])


def decode(s, name, seconds=4):
    """ffmpeg decodes video and audio to null; returns the process."""
    return spawn(["ffmpeg", "-nostdin", "-v", "error", "-rw_timeout", "8000000", "-i", url(s, name),
                  "-t", str(seconds), "-f", "null", "-"])


def finish(p, timeout=30):
    out, err = p.communicate(timeout=timeout)
    return p.returncode, out, err


def check_probe(out, seconds):
    j = json.loads(out)
    streams = {st["codec_type"]: st for st in j["streams"]}
    v, a = streams["video"], streams["audio"]
    assert v["codec_name"] == "h264" and v["width"] == 320 and v["height"] == 240, v
    assert a["codec_name"] == "aac" and int(a["sample_rate"]) == 44100, a
    for kind, st, rate in (("video", v, 25), ("audio", a, 44100 / 1024)):
        pts = [float(p["pts_time"]) for p in j["packets"] if p["stream_index"] == st["index"]]
        assert len(pts) >= rate * seconds * 0.7, "%s: %d packets in %ds" % (kind, len(pts), seconds)
        gaps = [b - a_ for a_, b in zip(pts, pts[1:])]
        # continuous: no jump backwards beyond B-frame reordering, no hole
        assert max(gaps) < 0.5 and min(gaps) > -0.5, "%s timestamps jump: %s" % (kind, (min(gaps), max(gaps)))
    vk = [p for p in j["packets"] if p["stream_index"] == v["index"]]
    assert "K" in vk[0]["flags"], "first video packet is not a keyframe: %s" % vk[0]
    return j


def stream_info(s, name):
    for st in s.rest("stream/find_all")["streams"]:
        if st["name"] == name:
            return st
    return None


def wait_stream(s, name, timeout=15):
    return wait_for(lambda: (stream_info(s, name) or {}).get("frames_in", 0) > 30 and stream_info(s, name),
                    timeout, "stream %s live" % name)


def server(t, workers=2, rtmp_extra=""):
    s = t.server(workers=workers)
    s.rtmp_extra = rtmp_extra
    s.write_conf()
    return s.start()


# ---------------------------------------------------------------- cases

def publish_and_play_on_two_workers(s):
    pub = publish(s, "cam")
    st = wait_stream(s, "cam")
    assert st["video"] == "H264" and st["audio"] == "AAC" and st["publisher"].startswith("rtmp 127.0.0.1:"), st
    # several players at once: the kernel spreads them over both workers
    for attempt in range(5):
        probes = [probe(s, "cam") for _ in range(2)]
        decoders = [decode(s, "cam") for _ in range(4)]
        seen = wait_for(lambda: (stream_info(s, "cam") or {}).get("players", 0) >= 6 and stream_info(s, "cam"),
                        20, "6 players")
        workers = {w["worker"] for w in seen["players_per_worker"]}
        for p in probes:
            rc, out, err = finish(p)
            assert rc == 0, err
            check_probe(out, 4)
        for d in decoders:
            rc, out, err = finish(d)
            assert rc == 0 and "rror" not in err, err
        if len(workers) >= 2:
            break
    assert len(workers) >= 2, "players all landed on one worker in 5 tries: %s" % seen
    assert pub.poll() is None, "publisher died"
    # players gone: counts drop back
    wait_for(lambda: stream_info(s, "cam")["players"] == 0, 10, "players counted out")


def late_player_starts_at_keyframe(s):
    # GOP cache: a player joining mid-GOP gets the last keyframe at once
    start = time.monotonic()
    rc, out, err = finish(probe(s, "cam", 2))
    assert rc == 0, err
    check_probe(out, 2)
    assert time.monotonic() - start < 8


def second_publisher_refused(s):
    p = publish(s, "cam", loop=False)
    rc, out, err = finish(p, 30)
    assert rc != 0, "second publisher of a live name was accepted"
    wait_for(lambda: "Stream name in use" in s.log(), 5, "log line")
    assert stream_info(s, "cam")["frames_in"] > 0


def missing_stream(s):
    rc, out, err = finish(decode(s, "nosuch"), 30)
    assert rc != 0
    assert "stream not found" in s.log()


def metrics_and_cli(s):
    _, text, _ = s.get("/metrics")
    assert 'livecdn_stream_bitrate_kbps{stream="cam"}' in text, text
    assert "livecdn_worker_publishers{" in text
    r = s.ctl("show", "streams")
    assert r.returncode == 0, r.stderr
    lines = r.stdout.strip().split("\n")
    assert lines[0].split()[:2] == ["Name", "Codecs"] and any(l.startswith("cam ") for l in lines), r.stdout
    st = s.rest("stream/find", {"name": "cam"})["stream"]
    assert st["name"] == "cam" and st["bitrate"] > 50, st
    code, body = s.rest_error("stream/find", {"name": "nope"})
    assert code == 404 and body["error"] == "Stream not found"


def publisher_stop_ends_players(s):
    pub = publish(s, "short", loop=False)  # the 12 s file, once
    wait_stream(s, "short")
    players = [decode(s, "short", 60) for _ in range(3)]
    wait_for(lambda: stream_info(s, "short") and stream_info(s, "short")["players"] == 3, 15, "3 players")
    rc, _, err = finish(pub, 40)
    assert rc == 0, err
    for p in players:
        rc, out, err = finish(p, 20)
        assert rc == 0, "player did not end cleanly after the publisher stopped: %s" % err
    wait_for(lambda: stream_info(s, "short") is None, 5, "stream leaves the table")
    assert "play ends: Stopped by publisher stop" in s.log()


def terminate(s):
    pub = publish(s, "term")
    wait_stream(s, "term")
    player = decode(s, "term", 60)
    wait_for(lambda: stream_info(s, "term")["players"] == 1, 15, "player")
    assert s.rest("stream/terminate", {"name": "term"}) == {"result": "ok"}
    rc, _, err = finish(player, 20)
    assert rc == 0, err
    wait_for(lambda: stream_info(s, "term") is None, 5, "terminated stream gone")
    finish(pub, 20)
    r = s.ctl("terminate", "term")
    assert r.returncode == 1 and "Stream not found" in r.stderr, (r.stdout, r.stderr)


def reload_keeps_players(s):
    pub = publish(s, "rl")
    wait_stream(s, "rl")
    p = probe(s, "rl", 8)
    wait_for(lambda: stream_info(s, "rl")["players"] == 1, 15, "player")
    time.sleep(2)
    gen = s.rest("worker/show")["master"]["generation"]
    assert s.rest("config/reload")["generation"] == gen + 1
    rc, out, err = finish(p, 40)
    assert rc == 0, err
    check_probe(out, 8)  # no hole in either track across the reload
    # a player on the new generation reads the stream the old one publishes
    rc, out, err = finish(probe(s, "rl", 2))
    assert rc == 0, err
    check_probe(out, 2)
    pub.terminate()
    finish(pub)


def publisher_worker_killed(s):
    pub = publish(s, "kill")
    st = wait_stream(s, "kill")
    owner = st["owner_pid"]
    players = []
    for _ in range(6):
        players.append(decode(s, "kill", 60))
    wait_for(lambda: stream_info(s, "kill")["players"] == 6, 20, "6 players")
    others = [w for w in stream_info(s, "kill")["players_per_worker"] if w["pid"] != owner]
    os.kill(owner, signal.SIGKILL)
    wait_for(lambda: stream_info(s, "kill") is None, 10, "stream released by the master")
    for p in players:
        try:
            finish(p, 20)
        except subprocess.TimeoutExpired:
            raise AssertionError("a player hangs after its publisher's worker died")
    # players on the surviving workers got a clean end
    if others:
        assert s.log().count("play ends:") >= 1
    finish(pub, 20)
    wait_for(lambda: any(p["pid"] != owner for p in s.processes("worker")) and
             len([p for p in s.processes("worker") if p["state"] == "running"]) == 2, 10, "respawn")
    pub2 = publish(s, "kill")
    wait_stream(s, "kill")
    rc, out, err = finish(probe(s, "kill", 2))
    assert rc == 0, err
    pub2.terminate()
    finish(pub2)


# ---------------------------------------------------------------- malformed input

def rtmp_conn(s, handshake=True):
    c = socket.create_connection(("127.0.0.1", s.rtmp_port), timeout=10)
    if handshake:
        c.sendall(b"\x03" + bytes(1536))
        got = b""
        while len(got) < 3073:
            chunk = c.recv(4096)
            assert chunk, "closed during handshake"
            got += chunk
        c.sendall(bytes(1536))
    return c


def amf_str(s):
    b = s.encode()
    return b"\x02" + struct.pack(">H", len(b)) + b


def amf_num(x):
    return b"\x00" + struct.pack(">d", x)


def chunk0(csid, type_, payload, msid=0, ts=0):
    """One message in fmt 0 chunks of 128 bytes."""
    out = bytes([csid]) + struct.pack(">I", ts)[1:] + struct.pack(">I", len(payload))[1:] + bytes([type_]) + \
        struct.pack("<I", msid)
    for i in range(0, max(len(payload), 1), 128):
        if i:
            out += bytes([0xC0 | csid])
        out += payload[i:i + 128]
    return out


def closed_by_server(c, timeout=10):
    c.settimeout(timeout)
    try:
        while True:
            if not c.recv(65536):
                return True
    except ConnectionResetError:
        return True
    except socket.timeout:
        return False


def connect_cmd():
    obj = b"\x03" + struct.pack(">H", 3) + b"app" + amf_str("live") + b"\x00\x00\x09"
    return chunk0(3, 20, amf_str("connect") + amf_num(1) + obj)


def publish_cmds(name):
    return (chunk0(3, 20, amf_str("createStream") + amf_num(2) + b"\x05") +
            chunk0(3, 20, amf_str("publish") + amf_num(3) + b"\x05" + amf_str(name) + amf_str("live"), msid=1))


BAD = {
    "truncated handshake": lambda s: (rtmp_conn(s, False), b"\x03" + bytes(100)),
    "bad handshake version": lambda s: (rtmp_conn(s, False), b"\x09" + bytes(1536)),
    "chunk size 0": lambda s: (rtmp_conn(s), chunk0(2, 1, struct.pack(">I", 0))),
    "chunk size over 16 MiB": lambda s: (rtmp_conn(s), chunk0(2, 1, struct.pack(">I", 0x7fffff00))),
    "continuation on an unknown chunk stream": lambda s: (rtmp_conn(s), b"\x47" + bytes(7) + b"x" * 50),
    "bogus AMF command": lambda s: (rtmp_conn(s), chunk0(3, 20, b"\x02\xff\xff" + b"abc")),
    "unknown AMF marker": lambda s: (rtmp_conn(s), chunk0(3, 20, b"\x42" * 40)),
    "huge metadata": lambda s: (rtmp_conn(s), connect_cmd() + publish_cmds("meta") + chunk0(
        4, 18, amf_str("@setDataFrame") + amf_str("onMetaData") + b"\x08\x00\x00\x00\x01" +
        struct.pack(">H", 4) + b"blob" + b"\x0c" + struct.pack(">I", 100000) + b"x" * 100000 + b"\x00\x00\x09",
        msid=1)),
    "FLV aggregate with bad tag lengths": lambda s: (rtmp_conn(s), connect_cmd() + publish_cmds("agg") + chunk0(
        6, 22, b"\x09\xff\xff\xff" + bytes(7) + b"\x17\x01" + bytes(20), msid=1)),
    "message longer than allowed": lambda s: (rtmp_conn(s), b"\x03" + bytes(3) + b"\xff\xff\xff" + b"\x09" + bytes(4)),
    "random bytes after handshake": lambda s: (rtmp_conn(s), os.urandom(3000)),
}


def bad_input(s):
    pub = publish(s, "good")
    wait_stream(s, "good")
    watcher = probe(s, "good", 10)
    gen = s.rest("worker/show")["master"]["generation"]
    pids = sorted(p["pid"] for p in s.processes("worker", gen))
    log_start = len(s.log())
    failures = []
    for name, make in BAD.items():
        c, data = make(s)
        try:
            c.sendall(data)
        except (BrokenPipeError, ConnectionResetError):
            pass
        if not closed_by_server(c, 15):
            failures.append("%s: connection not closed" % name)
        c.close()
    assert not failures, failures
    rc, out, err = finish(watcher, 40)
    assert rc == 0, err
    check_probe(out, 10)  # the good stream went on through all of it
    assert sorted(p["pid"] for p in s.processes("worker", gen)) == pids, "a worker crashed"
    log = s.log()[log_start:]
    assert "killed by signal" not in log, log
    for needle in ("bad RTMP handshake", "chunk size", "bad AMF0 command", "metadata refused",
                   "aggregate message with a bad FLV tag length", "RTMP protocol error"):
        assert needle in log, "no log line with %r" % needle
    pub.terminate()
    finish(pub)


def play_cmd(name):
    return (chunk0(3, 20, amf_str("createStream") + amf_num(2) + b"\x05") +
            chunk0(3, 20, amf_str("play") + amf_num(3) + b"\x05" + amf_str(name), msid=1))


def rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def slow_player_bounded(s):
    """Players that never read: the publisher and a normal player go on, and
    what the worker queues for them stays bounded (skip to keyframe)."""
    pub = publish(s, "slow")
    wait_stream(s, "slow")
    stuck = []
    for _ in range(4):
        c = rtmp_conn(s)
        c.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        c.sendall(connect_cmd() + play_cmd("slow"))
        stuck.append(c)  # and never read again
    wait_for(lambda: stream_info(s, "slow")["players"] == 4, 10, "stuck players counted")
    workers = {w["pid"] for w in stream_info(s, "slow")["players_per_worker"]}
    before = {pid: rss_kib(pid) for pid in workers}
    rc, out, err = finish(probe(s, "slow", 8), 40)
    assert rc == 0, err
    check_probe(out, 8)
    # 4 stuck players x (2 MiB queue + a frame) at most, plus slack for the allocator
    for pid in workers:
        grew = rss_kib(pid) - before[pid]
        assert grew < 4 * 4096 + 8192, "worker %d grew by %d KiB with stuck players" % (pid, grew)
    assert stream_info(s, "slow")["frames_in"] > 0 and pub.poll() is None
    for c in stuck:
        c.close()
    pub.terminate()
    finish(pub)


def read_timeout(t):
    s = server(t, workers=1, rtmp_extra="read_timeout = 2;")
    c = rtmp_conn(s)
    c.sendall(connect_cmd())
    start = time.monotonic()
    assert closed_by_server(c, 10), "an idle peer was not closed"
    assert 1.5 < time.monotonic() - start < 8
    wait_for(lambda: "read timed out" in s.log(), 5, "timeout log line")
    s.stop()


try:
    make_media()
    with Tests() as t:
        s = server(t)
        t.case("ffmpeg publishes; ffprobe/ffmpeg players on two workers decode H.264+AAC", publish_and_play_on_two_workers, s)
        t.case("a late player starts at a keyframe (GOP cache)", late_player_starts_at_keyframe, s)
        t.case("a second publisher of a live name is refused", second_publisher_refused, s)
        t.case("playing a missing stream fails", missing_stream, s)
        t.case("REST stream/find, metrics and livecdnctl show streams", metrics_and_cli, s)
        t.case("publisher stop ends every player cleanly", publisher_stop_ends_players, s)
        t.case("stream/terminate and livecdnctl terminate", terminate, s)
        t.case("reload while publishing and playing loses nothing", reload_keeps_players, s)
        t.case("kill -9 of the publisher's worker: clean end, respawn, republish", publisher_worker_killed, s)
        t.case("malformed RTMP input closes only that session", bad_input, s)
        t.case("players that never read: bounded memory, others unaffected", slow_player_bounded, s)
        t.case("rtmp.read_timeout closes a silent peer", read_timeout, t)
finally:
    for p in PROCS:
        if p.poll() is None:
            p.kill()
            p.wait()
    subprocess.run(["rm", "-rf", WORK])
