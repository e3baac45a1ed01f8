"""Dynamic CDN (SPEC section 6) with several real livecdn nodes: membership,
routes, edge pulls played by real ffmpeg/ffprobe clients, idle pulls, node
faults and partitions, and malformed input on the inter-node port.

Each node runs in its own network namespace (a veth pair into a bridge that
this file creates and always deletes), so every node has its own address,
as in a real CDN. Without network namespaces (or with LC_TEST_NO_NETNS=1)
all nodes run on 127.0.0.1 with distinct ports and only the partition check
is skipped.
"""
import base64
import json
import os
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from lcserver import Tests, free_port, wait_for  # noqa: E402

PID = os.getpid()
WORK = tempfile.mkdtemp(prefix="lc-cdn-media-")
MEDIA = os.path.join(WORK, "src.flv")
PROCS = []
CDN_PORT = 8084  # every namespace has its own port space


# ---------------------------------------------------------------- network namespaces

def sh(*args, check=True):
    r = subprocess.run(list(args), capture_output=True, text=True, timeout=30)
    if check and r.returncode != 0:
        raise RuntimeError("%s: %s" % (" ".join(args), r.stderr.strip()))
    return r


class Net:
    """A bridge lcbr<pid> on the host (10.X.0.1/24) and, per node i, a
    namespace lc<pid>n<i> holding one end of a veth pair (10.X.0.<i+2>)
    whose other end, lc<pid>h<i>, is a port of the bridge. Nothing has a
    route out of 10.X.0.0/24."""

    def __init__(self):
        self.bridge = "lcbr%d" % PID
        self.namespaces = []

    def setup(self):
        used = sh("ip", "-4", "-o", "addr").stdout + sh("ip", "-4", "route").stdout
        for k in range(150):
            x = 100 + (PID + k) % 150
            if ("10.%d." % x) not in used:
                break
        self.x = x
        self.host_ip = "10.%d.0.1" % x
        sh("ip", "link", "add", self.bridge, "type", "bridge")
        sh("ip", "addr", "add", self.host_ip + "/24", "dev", self.bridge)
        sh("ip", "link", "set", self.bridge, "up")

    def ns(self, i):
        return "lc%dn%d" % (PID, i)

    def ip(self, i):
        return "10.%d.0.%d" % (self.x, i + 2)

    def host_end(self, i):
        return "lc%dh%d" % (PID, i)

    def add(self, i):
        """The namespace of node i (made once; a restarted node reuses it)."""
        ns = self.ns(i)
        if ns in self.namespaces:
            return ns
        inner = "lc%dv%d" % (PID, i)
        sh("ip", "netns", "add", ns)
        self.namespaces.append(ns)
        sh("ip", "link", "add", self.host_end(i), "type", "veth", "peer", "name", inner)
        sh("ip", "link", "set", inner, "netns", ns)
        sh("ip", "link", "set", self.host_end(i), "master", self.bridge, "up")
        sh("ip", "-n", ns, "addr", "add", self.ip(i) + "/24", "dev", inner)
        sh("ip", "-n", ns, "link", "set", inner, "up")
        sh("ip", "-n", ns, "link", "set", "lo", "up")
        return ns

    def link(self, i, up):
        sh("ip", "link", "set", self.host_end(i), "up" if up else "down")

    def cleanup(self):
        for ns in self.namespaces:
            sh("ip", "netns", "del", ns, check=False)  # takes its veth pair with it
        self.namespaces = []
        sh("ip", "link", "del", self.bridge, check=False)


def netns_usable():
    if os.environ.get("LC_TEST_NO_NETNS"):  # to try the loopback fallback
        return False
    probe = "lc%dprobe" % PID
    try:
        if sh("ip", "netns", "add", probe, check=False).returncode != 0:
            return False
        sh("ip", "netns", "del", probe, check=False)
        return True
    except Exception:
        return False


NET = None


# ---------------------------------------------------------------- nodes

def node(t, i, role, entry=None, workers=1, cdn_extra="", like=None):
    """Start CDN node i. like: an earlier node whose address and ports to
    reuse (a restart)."""
    if NET:
        ns, ip, cdn_port = NET.add(i), NET.ip(i), CDN_PORT
        http_extra = 'allow = ["127.0.0.1", "%s"];' % NET.host_ip
    else:
        ns, ip, http_extra = None, "127.0.0.1", ""
        cdn_port = like.cdn_port if like else free_port()
    ports = (like.sig_port, like.http_port, like.rtmp_port) if like else None
    extra = ('cdn: { enabled = true; role = "%s"; ip = "%s"; port = %d; %s keepalive_interval = 1; %s };'
             % (role, ip, cdn_port, 'point_of_entry = "%s";' % entry.cdn_addr if entry else "", cdn_extra))
    s = t.server(workers=workers, extra=extra, name="lc-cdn%d" % i, host=ip, netns=ns, ports=ports,
                 http_extra=http_extra)
    s.role, s.cdn_port, s.cdn_addr = role, cdn_port, "%s:%d" % (ip, cdn_port)
    return s.start()


def show_nodes(s):
    return {n["ip"]: n for n in s.rest("cdn/show_nodes")}


def converged(servers):
    want = {s.cdn_addr: s.role for s in servers}
    for s in servers:
        got = show_nodes(s)
        if {a: n["role"] for a, n in got.items()} != want:
            return False
        if any(n["state"] != "ACTIVE" for n in got.values()):
            return False
        if [a for a, n in got.items() if n["self"]] != [s.cdn_addr]:
            return False
    return True


def wait_converged(servers, timeout=20):
    try:
        wait_for(lambda: converged(servers), timeout, "CDN of %d nodes to converge" % len(servers))
    except AssertionError as ex:
        views = []
        for s in servers:
            try:
                views.append((s.cdn_addr, s.rest("cdn/show_nodes")))
            except Exception as why:
                views.append((s.cdn_addr, repr(why)))
        raise AssertionError("%s; views: %s" % (ex, views))


def routes(s):
    return {r["stream"]: r["route"] for r in s.rest("cdn/show_routes")}


def metric(s, name):
    _, text, _ = s.get("/metrics")
    for line in text.split("\n"):
        if line.startswith(name + " "):
            return float(line.split()[-1])
    raise AssertionError("no metric %s" % name)


def stream_info(s, name):
    for st in s.rest("stream/find_all")["streams"]:
        if st["name"] == name:
            return st
    return None


def wait_stream(s, name, timeout=15):
    return wait_for(lambda: (stream_info(s, name) or {}).get("frames_in", 0) > 30 and stream_info(s, name),
                    timeout, "stream %s live on %s" % (name, s.cdn_addr))


def log_has(s, text, timeout=5):
    wait_for(lambda: text in s.log(), timeout, "log line %r on %s" % (text, s.cdn_addr))


# ---------------------------------------------------------------- ffmpeg clients

def make_media():
    # 320x240 25 fps H.264 (GOP 1 s) + 44.1 kHz AAC, 12 s: encoded once, then
    # published with -c copy so the test costs little CPU
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-y", "-f", "lavfi", "-i",
                    "testsrc2=size=320x240:rate=25", "-f", "lavfi", "-i", "sine=frequency=1000:sample_rate=44100",
                    "-t", "12", "-c:v", "libx264", "-preset", "ultrafast", "-g", "25", "-pix_fmt", "yuv420p",
                    "-c:a", "aac", "-b:a", "64k", "-f", "flv", MEDIA], check=True, timeout=120)


def spawn(args):
    p = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True)
    PROCS.append(p)
    return p


def url(s, name):
    return "rtmp://%s:%d/live/%s" % (s.host, s.rtmp_port, name)


def publish(s, name, seconds=None):
    """Loops the file forever, or sends its first `seconds` once."""
    args = ["ffmpeg", "-nostdin", "-v", "error", "-re"]
    args += ["-stream_loop", "-1"] if seconds is None else ["-t", str(seconds)]
    return spawn(args + ["-i", MEDIA, "-c", "copy", "-f", "flv", url(s, name)])


def probe(s, name, seconds=4):
    return spawn(["ffprobe", "-v", "error", "-rw_timeout", "8000000", "-read_intervals", "%%+%d" % seconds,
                  "-show_streams", "-show_packets", "-of", "json", url(s, name)])


def decode(s, name, seconds=4):
    return spawn(["ffmpeg", "-nostdin", "-v", "error", "-rw_timeout", "8000000", "-i", url(s, name),
                  "-t", str(seconds), "-f", "null", "-"])


def finish(p, timeout=30):
    try:
        out, err = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        p.kill()
        p.communicate()
        raise AssertionError("%s did not end within %ds" % (p.args[0], timeout))
    return p.returncode, out, err


def stop_proc(p):
    if p.poll() is None:
        p.terminate()
    finish(p, 15)


def check_probe(out, seconds):
    j = json.loads(out)
    streams = {st["codec_type"]: st for st in j["streams"]}
    assert "video" in streams and "audio" in streams, j["streams"]
    v, a = streams["video"], streams["audio"]
    assert v["codec_name"] == "h264" and v["width"] == 320 and v["height"] == 240, v
    assert a["codec_name"] == "aac" and int(a["sample_rate"]) == 44100, a
    for kind, st, rate in (("video", v, 25), ("audio", a, 44100 / 1024)):
        pts = [float(p["pts_time"]) for p in j["packets"] if p["stream_index"] == st["index"]]
        assert len(pts) >= rate * seconds * 0.7, "%s: %d packets in %ds" % (kind, len(pts), seconds)
        gaps = [b - a_ for a_, b in zip(pts, pts[1:])]
        assert max(gaps) < 0.5 and min(gaps) > -0.5, "%s timestamps jump: %s" % (kind, (min(gaps), max(gaps)))
    vk = [p for p in j["packets"] if p["stream_index"] == v["index"]]
    assert "K" in vk[0]["flags"], "first video packet is not a keyframe: %s" % vk[0]
    return j


def probe_ok(s, name, seconds=3):
    start = time.monotonic()
    rc, out, err = finish(probe(s, name, seconds), 40)
    assert rc == 0, "ffprobe of %s on %s: %s" % (name, s.cdn_addr, err)
    check_probe(out, seconds)
    return time.monotonic() - start


def ctl_table(s, *args):
    r = s.ctl(*args)
    assert r.returncode == 0, (r.stdout, r.stderr)
    lines = [l.split() for l in r.stdout.strip().split("\n")]
    return lines[0], lines[1:]


# ---------------------------------------------------------------- a tiny WebSocket client

class WS:
    """RFC 6455 client: masked frames out, unmasked frames in."""

    def __init__(self, host, port, path="/cdn"):
        self.sock = socket.create_connection((host, port), timeout=10)
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall(("GET %s HTTP/1.1\r\nHost: %s:%d\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                           "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n\r\n"
                           % (path, host, port, key)).encode())
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = self.sock.recv(4096)
            assert chunk, "closed during the upgrade: %r" % head
            head += chunk
        head, self.buf = head.split(b"\r\n\r\n", 1)
        assert head.startswith(b"HTTP/1.1 101"), head

    def send(self, payload, opcode=1):
        if isinstance(payload, str):
            payload = payload.encode()
        n = len(payload)
        hdr = bytes([0x80 | opcode])
        if n < 126:
            hdr += bytes([0x80 | n])
        elif n < 65536:
            hdr += bytes([0x80 | 126]) + struct.pack(">H", n)
        else:
            hdr += bytes([0x80 | 127]) + struct.pack(">Q", n)
        mask = os.urandom(4)
        body = bytes(b ^ mask[i % 4] for i, b in enumerate(payload)) if n < 65536 else \
            (int.from_bytes(payload, "big") ^ int.from_bytes((mask * (n // 4 + 1))[:n], "big")).to_bytes(n, "big")
        self.sock.sendall(hdr + mask + body)

    def send_json(self, obj):
        self.send(json.dumps(obj))

    def _need(self, n, deadline):
        while len(self.buf) < n:
            self.sock.settimeout(max(0.01, deadline - time.monotonic()))
            chunk = self.sock.recv(65536)
            if not chunk:
                return False
            self.buf += chunk
        return True

    def recv(self, timeout=10):
        """(opcode, payload), or None once the server closed the TCP connection."""
        deadline = time.monotonic() + timeout
        try:
            if not self._need(2, deadline):
                return None
            n = self.buf[1] & 0x7F
            at = 2
            if n == 126:
                if not self._need(4, deadline):
                    return None
                n, at = struct.unpack(">H", self.buf[2:4])[0], 4
            elif n == 127:
                if not self._need(10, deadline):
                    return None
                n, at = struct.unpack(">Q", self.buf[2:10])[0], 10
            if not self._need(at + n, deadline):
                return None
            op, payload = self.buf[0] & 0x0F, self.buf[at:at + n]
            self.buf = self.buf[at + n:]
            return op, payload
        except ConnectionResetError:
            return None

    def recv_json(self, timeout=10):
        """The next text message as JSON (control frames skipped), or None if closed."""
        while True:
            m = self.recv(timeout)
            if m is None:
                return None
            if m[0] == 1:
                return json.loads(m[1])
            if m[0] == 8:
                return None

    def closed(self, timeout=10):
        """True once the server closes (whatever it sends before)."""
        deadline = time.monotonic() + timeout
        try:
            while time.monotonic() < deadline:
                if self.recv(deadline - time.monotonic()) is None:
                    return True
        except socket.timeout:
            return False
        return False

    def close(self):
        self.sock.close()


def closed_by_server(c, timeout=10):
    c.settimeout(timeout)
    got = b""
    try:
        while True:
            chunk = c.recv(65536)
            if not chunk:
                return True, got
            got += chunk
    except ConnectionResetError:
        return True, got
    except socket.timeout:
        return False, got


# ---------------------------------------------------------------- cases

PAIR = {}


def two_nodes(t):
    o = node(t, 0, "origin")
    e = node(t, 1, "edge", entry=o, workers=2, cdn_extra="pull_idle_timeout = 2; node_remove_timeout = 3;")
    PAIR.update(o=o, e=e)
    wait_converged([o, e], 15)
    for s in (o, e):
        assert metric(s, 'livecdn_cdn_nodes{state="active"}') == 2
        head, rows = ctl_table(s, "show", "cdn-nodes")
        assert head[:3] == ["Ip", "Role", "State"], head
        want = [[n.cdn_addr + ("(self)" if n is s else ""), n.role, "ACTIVE"] for n in (o, e)]
        assert sorted(r[:3] for r in rows) == sorted(want), rows

    pub = publish(o, "cam")
    PAIR["pub"] = pub
    wait_stream(o, "cam")
    wait_for(lambda: routes(e) == {"cam": o.cdn_addr}, 10, "route of cam on the edge")
    head, rows = ctl_table(e, "show", "cdn-routes")
    assert head[:2] == ["Route", "Stream"] and [o.cdn_addr, "cam"] in [r[:2] for r in rows], rows
    assert routes(o) == {}, "an origin routes its own stream: %s" % routes(o)

    # the first player starts at once: the GOP comes from the origin
    took = probe_ok(e, "cam", 4)
    assert took < 12, "ffprobe took %.1fs" % took

    players = [decode(e, "cam", 6) for _ in range(2)]
    wait_for(lambda: (stream_info(e, "cam") or {}).get("players") == 2, 15, "2 players on the edge")
    assert metric(o, "livecdn_cdn_serves_active") == 1, "two edge players made more than one pull"
    assert metric(e, "livecdn_cdn_pulls_active") == 1
    st = stream_info(e, "cam")
    assert st["publisher"] == "cdn " + o.cdn_addr, st
    assert st["video"] == "H264" and st["audio"] == "AAC", st
    for p in players:
        rc, out, err = finish(p, 30)
        assert rc == 0 and "rror" not in err, err
    assert metric(e, 'livecdn_cdn_relayed_bytes_total{direction="in"}') > 50000
    assert metric(o, 'livecdn_cdn_relayed_bytes_total{direction="out"}') > 50000

    # the publisher stops: every edge player ends cleanly
    short = publish(o, "short", seconds=8)
    wait_for(lambda: "short" in routes(e), 15, "route of short on the edge")
    players = [decode(e, "short", 60) for _ in range(2)]
    wait_for(lambda: (stream_info(e, "short") or {}).get("players") == 2, 15, "2 players of short")
    rc, _, err = finish(short, 40)
    assert rc == 0, err
    for p in players:
        rc, out, err = finish(p, 20)
        assert rc == 0, "edge player did not end cleanly after the publisher stopped: %s" % err
    log_has(e, "play ends: Stopped by publisher stop")
    wait_for(lambda: stream_info(e, "short") is None and "short" not in routes(e), 10, "short gone from the edge")


def idle_pull_and_name_in_use(t):
    o, e = PAIR["o"], PAIR["e"]
    assert PAIR["pub"].poll() is None, "origin publisher died"
    player = decode(e, "cam", 60)
    wait_for(lambda: (stream_info(e, "cam") or {}).get("players") == 1, 15, "edge player")
    # publishing the pulled name on the edge is refused
    before = e.log().count("Stream name in use")
    rc, _, err = finish(publish(e, "cam", seconds=3), 30)
    assert rc != 0, "publishing a name the edge pulls was accepted"
    wait_for(lambda: e.log().count("Stream name in use") > before, 5, "'Stream name in use' in the edge log")
    st = stream_info(e, "cam")
    assert st["publisher"] == "cdn " + o.cdn_addr and st["players"] == 1, st
    # the last player leaves: the pull goes pull_idle_timeout (2 s) later
    player.kill()
    finish(player)
    left = time.monotonic()
    wait_for(lambda: stream_info(e, "cam") is None, 10, "idle pull dropped")
    took = time.monotonic() - left
    assert took >= 1.5, "the pull went %.1fs after the last player, before pull_idle_timeout" % took
    wait_for(lambda: metric(e, "livecdn_cdn_pulls_active") == 0 and metric(o, "livecdn_cdn_serves_active") == 0,
             5, "pull and serve counted out")
    log_has(e, 'pull of "cam" from %s dropped' % o.cdn_addr)
    assert routes(e) == {"cam": o.cdn_addr}, "the route went with the pull"


def wire_send(host, port, data):
    c = socket.create_connection((host, port), timeout=10)
    try:
        c.sendall(data)
    except (BrokenPipeError, ConnectionResetError):
        pass
    return c


def bad_input(t):
    o, e = PAIR["o"], PAIR["e"]
    host = NET.host_ip if NET else "127.0.0.1"
    relay = [p["pid"] for p in o.processes("relay")]
    log_start = len(o.log())
    failures = []

    c = wire_send(o.host, o.cdn_port, os.urandom(10000))  # more than a request head may be
    closed, _ = closed_by_server(c, 15)
    c.close()
    if not closed:
        failures.append("random bytes: not closed")

    c = wire_send(o.host, o.cdn_port, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    closed, got = closed_by_server(c, 10)
    c.close()
    if not (closed and got.startswith(b"HTTP/1.1 404") and b"text/plain" in got):
        failures.append("GET /: %r (closed %s)" % (got[:200], closed))

    ws = WS(o.host, o.cdn_port)
    ws.send("{this is not json")
    r = ws.recv_json()
    if not (r and r.get("type") == "error") or not ws.closed():
        failures.append("garbage JSON: %r" % r)
    ws.close()

    ws = WS(o.host, o.cdn_port)
    ws.send_json({"type": "hello", "version": 99, "node": "%s:9" % host, "role": "edge"})
    r = ws.recv_json()
    if not (r and r.get("type") == "error" and "version" in r.get("reason", "")) or not ws.closed():
        failures.append("hello version 99: %r" % r)
    ws.close()

    ws = WS(o.host, o.cdn_port)
    try:
        ws.send('{"type":"hello","version":1,"node":"%s:9","role":"edge","pad":"%s"}' % (host, "a" * (1 << 20)))
    except (BrokenPipeError, ConnectionResetError):
        pass
    if not ws.closed(15):
        failures.append("text message over 1 MiB: not closed")
    ws.close()

    # a node may not speak for another address than its own
    other = e.cdn_addr if NET else "127.0.0.2:%d" % e.cdn_port
    ws = WS(o.host, o.cdn_port)
    ws.send_json({"type": "hello", "version": 1, "node": other, "role": "edge"})
    r = ws.recv_json()
    if not (r and r.get("type") == "error") or not ws.closed():
        failures.append("hello claiming %s: %r" % (other, r))
    ws.close()

    ws = WS(o.host, o.cdn_port)
    ws.send_json({"type": "pull", "version": 1, "node": "%s:9" % host, "stream": "nosuch"})
    r = ws.recv_json()
    if not (r and r.get("type") == "error" and "begins with hello" in r.get("reason", "")) or not ws.closed():
        failures.append("pull before hello: %r" % r)
    ws.close()

    ws = WS(o.host, o.cdn_port)
    ws.send_json({"type": "hello", "version": 1, "node": "%s:9" % host, "role": "edge"})
    r = ws.recv_json()
    if not (r and r.get("type") == "hello" and r.get("node") == o.cdn_addr):
        failures.append("hello: answered %r" % r)
    ws.send_json({"type": "pull", "version": 1, "node": "%s:9" % host, "stream": "nosuch"})
    r = ws.recv_json()
    if not (r and r.get("type") == "error" and r.get("reason") == "Stream not found"):
        failures.append("pull of a missing stream: %r" % r)
    ws.close()

    assert not failures, failures
    log = o.log()[log_start:]
    for needle in ("CDN protocol version 99 is not this node's version 1",
                   "claims an address that is not the one it connects from", "bad message from"):
        assert needle in log, "no log line with %r" % needle
    assert "killed by signal" not in log, log
    assert o.proc.poll() is None and [p["pid"] for p in o.processes("relay")] == relay, "the origin's relay died"
    assert converged([o, e]), [show_nodes(o), show_nodes(e)]
    # and it still serves
    probe_ok(e, "cam", 2)


def faults(t):
    o, e = PAIR["o"], PAIR["e"]
    # kill -9 of the edge's relay while it pulls for a player: the player
    # ends (never hangs), the relay is respawned, rejoins, serves again
    player = decode(e, "cam", 60)
    wait_for(lambda: (stream_info(e, "cam") or {}).get("players") == 1 and
             metric(e, "livecdn_cdn_pulls_active") == 1, 15, "edge player and its pull")
    old = [p["pid"] for p in e.processes("relay")]
    assert len(old) == 1, e.processes()
    os.kill(old[0], signal.SIGKILL)
    wait_for(lambda: [p["pid"] for p in e.processes("relay") if p["state"] == "running" and p["pid"] != old[0]],
             10, "relay respawned")
    finish(player, 20)
    wait_converged([o, e], 15)
    wait_for(lambda: routes(e) == {"cam": o.cdn_addr}, 10, "routes back after the relay respawn")
    probe_ok(e, "cam", 3)

    # the origin stops: PASSIVE, then removed (node_remove_timeout = 3); its edge player ends
    player = decode(e, "cam", 60)
    wait_for(lambda: (stream_info(e, "cam") or {}).get("players") == 1, 15, "edge player")
    stopped = time.monotonic()
    o.stop()
    wait_for(lambda: show_nodes(e)[o.cdn_addr]["state"] == "PASSIVE", 5, "origin PASSIVE on the edge")
    wait_for(lambda: o.cdn_addr not in show_nodes(e), 10, "origin removed from the edge")
    took = time.monotonic() - stopped
    # these two are checked at the end, so that the rest of the case runs anyway
    problems = []
    if took < 2.9:
        problems.append("origin removed %.2fs after it stopped, before node_remove_timeout (3 s)" % took)
    finish(player, 20)
    try:
        log_has(e, "play ends: Origin unavailable")
    except AssertionError as ex:
        ends = [l for l in e.log().split("\n") if "stream:cam] play ends" in l]
        problems.append("%s; the edge player's end: %s" % (ex, ends[-1:]))
    assert routes(e) == {}, routes(e)
    try:
        wait_for(lambda: metric(e, "livecdn_cdn_pulls_active") == 0, 5, "edge pulls_active back to 0")
    except AssertionError:
        problems.append("edge livecdn_cdn_pulls_active = %s with no pull (pulls of the edge's relay: %s)"
                        % (metric(e, "livecdn_cdn_pulls_active"), [l for l in e.log().split("\n") if "cdn: pull" in l][-4:]))
    stop_proc(PAIR["pub"])

    # the origin comes back on the same address: they converge again
    o2 = node(t, 0, "origin", like=o)
    PAIR["o"] = o2
    wait_converged([o2, e], 15)
    pub = publish(o2, "cam")
    PAIR["pub"] = pub
    wait_stream(o2, "cam")
    wait_for(lambda: routes(e) == {"cam": o2.cdn_addr}, 10, "route from the restarted origin")
    probe_ok(e, "cam", 3)
    assert not problems, problems


def partition(t):
    if not NET:
        return "skipped: no network namespaces"
    o, e = PAIR["o"], PAIR["e"]
    wait_converged([o, e], 10)
    NET.link(0, False)
    try:
        down = time.monotonic()
        wait_for(lambda: (show_nodes(e).get(o.cdn_addr) or {}).get("state") != "ACTIVE", 8,
                 "origin PASSIVE on the edge")
        took = time.monotonic() - down
        assert took < 5.5, "the edge noticed the partition after %.1fs" % took
        assert routes(e) == {}, "routes of a PASSIVE origin not withdrawn: %s" % routes(e)
    finally:
        NET.link(0, True)
    wait_converged([o, e], 20)
    wait_for(lambda: routes(e) == {"cam": o.cdn_addr}, 10, "routes back after the partition")
    probe_ok(e, "cam", 2)


def four_nodes(t):
    if "pub" in PAIR:
        stop_proc(PAIR["pub"])
    for k in ("o", "e"):
        if k in PAIR:
            PAIR[k].stop()
    o1 = node(t, 2, "origin")
    o2 = node(t, 3, "origin", entry=o1)
    e1 = node(t, 4, "edge", entry=o1)
    e2 = node(t, 5, "edge", entry=o1)
    all4 = [o1, o2, e1, e2]
    wait_converged(all4, 20)
    for s in all4:
        assert metric(s, 'livecdn_cdn_nodes{state="active"}') == 4
    pubs = [publish(o1, "s1"), publish(o2, "s2")]
    wait_stream(o1, "s1")
    wait_stream(o2, "s2")
    want = {"s1": o1.cdn_addr, "s2": o2.cdn_addr}
    for e in (e1, e2):
        wait_for(lambda: routes(e) == want, 10, "routes on %s" % e.cdn_addr)
    # origins distribute to each other too
    wait_for(lambda: routes(o1) == {"s2": o2.cdn_addr} and routes(o2) == {"s1": o1.cdn_addr}, 10,
             "routes between origins")
    probes = [(e, n, probe(e, n, 3)) for e in (e1, e2) for n in ("s1", "s2")]
    for e, n, p in probes:
        rc, out, err = finish(p, 40)
        assert rc == 0, "%s on %s: %s" % (n, e.cdn_addr, err)
        check_probe(out, 3)
    assert metric(o1, "livecdn_cdn_serves_active") <= 2 and metric(o2, "livecdn_cdn_serves_active") <= 2

    # the same name on both origins: a warning, and one route
    dup = [publish(o1, "dup"), publish(o2, "dup")]
    wait_for(lambda: routes(e1).get("dup") in (o1.cdn_addr, o2.cdn_addr), 15, "route of dup")
    log_has(e1, "is published on two origins", 10)
    # a local stream wins over a CDN one of the same name (routed, not pulled)
    assert stream_info(e1, "dup") is None
    local = publish(e1, "dup")
    wait_stream(e1, "dup")
    probe_ok(e1, "dup", 2)
    st = stream_info(e1, "dup")
    assert st["publisher"].startswith("rtmp "), st
    assert metric(o1, "livecdn_cdn_serves_active") <= 2 and metric(o2, "livecdn_cdn_serves_active") <= 2
    for p in pubs + dup + [local]:
        stop_proc(p)
    for s in all4:
        s.stop()


def chain(t):
    a = node(t, 6, "origin")
    b = node(t, 7, "origin", entry=a)
    c = node(t, 8, "edge", entry=b)
    wait_converged([a, b, c], 20)
    pub = publish(a, "chain")
    wait_stream(a, "chain")
    wait_for(lambda: routes(c) == {"chain": a.cdn_addr}, 10, "route on C")
    probe_ok(c, "chain", 3)
    assert stream_info(c, "chain")["publisher"] == "cdn " + a.cdn_addr
    stop_proc(pub)
    for s in (a, b, c):
        s.stop()


def webrtc_through_cdn(t):
    """aiortc publishes VP8 + Opus on an origin; aiortc players on the edge
    decode it (the edge answers with the codec the origin announced, before
    any pull); the publisher's stop reaches them as STOPPED."""
    import asyncio
    import rtc_client
    rtc_client.set_host_addresses([NET.host_ip] if NET else ["127.0.0.1"])
    o = node(t, 20, "origin")
    e = node(t, 21, "edge", entry=o, workers=2)
    wait_converged([o, e], 15)

    async def go():
        pub = rtc_client.Publisher("ws://%s:%d/" % (o.host, o.sig_port), "rtc", video="H264")
        ev = await pub.start()
        assert ev["status"] == "PUBLISHING", ev
        # poll without blocking the loop aiortc runs on
        for _ in range(150):
            if "rtc" in routes(e) and (stream_info(o, "rtc") or {}).get("video") == "H264":
                break
            await asyncio.sleep(0.1)
        assert "rtc" in routes(e), routes(e)
        await asyncio.sleep(1.5)  # the origin's state names the codec
        players = [rtc_client.Player("ws://%s:%d/" % (e.host, e.sig_port), "rtc") for _ in range(2)]
        for p in players:
            ev = await p.start()
            assert ev["status"] == "PLAYING", ev
        for _ in range(100):
            if min(p.video_frames for p in players) >= 30:
                break
            await asyncio.sleep(0.1)
        for p in players:
            assert p.video_frames >= 30 and p.sizes == {(320, 240)}, (p.video_frames, p.sizes)
        assert metric(o, "livecdn_cdn_serves_active") == 1
        await pub.stop()
        for p in players:
            ev = await p.sig.next_stream_event(15)
            assert ev["status"] == "STOPPED" and ev.get("info") == "Stopped by publisher stop", ev
            await p.stop()
    asyncio.run(asyncio.wait_for(go(), 90))


CASES = [("WebRTC publish on an origin plays over WebRTC on an edge; publisher stop reaches the players",
          webrtc_through_cdn)]


def main():
    global NET
    make_media()
    skip_reason = None
    if netns_usable():
        NET = Net()
        try:
            NET.setup()
        except Exception as ex:  # no bridge support: fall back to loopback
            NET.cleanup()
            NET = None
            skip_reason = "no bridge: %s" % ex
    else:
        skip_reason = "no network namespaces"
    if NET:
        print("# nodes in network namespaces lc%dn*, bridge %s %s/24" % (PID, NET.bridge, NET.host_ip), flush=True)
    else:
        print("# %s: all nodes on 127.0.0.1" % skip_reason, flush=True)
    only = os.environ.get("LC_CDN_CASES")  # run only the cases whose name contains this
    with Tests() as t:
        if only:
            for name, fn in CASES:
                if only in name:
                    t.case(name, fn, t)
            return
        t.case("origin + edge: membership, routes, edge players share one pull, publisher stop", two_nodes, t)
        t.case("edge drops an idle pull; publishing a pulled name is refused", idle_pull_and_name_in_use, t)
        t.case("bad input on the CDN port closes only that link", bad_input, t)
        t.case("relay kill -9, origin stop and restart", faults, t)
        if NET:
            t.case("partition: origin unreachable goes PASSIVE, then ACTIVE again", partition, t)
        else:
            print("ok - partition: origin unreachable goes PASSIVE, then ACTIVE again # skipped: no network "
                  "namespaces", flush=True)
        t.case("four nodes (2 origins, 2 edges) converge; each edge plays both origins' streams", four_nodes, t)
        t.case("chain A <- B <- C: C knows A and plays its stream", chain, t)
        t.case("WebRTC publish on an origin plays over WebRTC on an edge; publisher stop reaches the players",
               webrtc_through_cdn, t)


def on_term(signum, frame):
    raise SystemExit(1)


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, on_term)
    started = time.monotonic()
    try:
        main()
    finally:
        for p in PROCS:
            if p.poll() is None:
                p.kill()
                p.wait()
        if NET:
            NET.cleanup()
        subprocess.run(["rm", "-rf", WORK])
        print("# test_cdn ran %.0fs" % (time.monotonic() - started), flush=True)
