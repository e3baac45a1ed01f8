"""CDN link security (SPEC 6; security review findings 2, 3 and 12): with
cdn.secret every link proves the secret in its hello, cdn.allow holds for
gossiped nodes too, a route never moves away from an origin that still has
the stream, and gossip cannot make a node dial or log without bound.

One real origin and one real edge on 127.0.0.1 share a secret; the
attacker is a small Python node speaking the CDN protocol (man
livecdn-cdn.7) over a raw WebSocket, sometimes knowing the secret (an
insider at the wrong address, or an origin claiming a name it does not
own), sometimes not. Every socket and subprocess has a timeout; servers are
stopped by PID by the harness.
"""
import base64
import hashlib
import hmac
import json
import os
import selectors
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from lcserver import Tests, free_port, wait_for  # noqa: E402

SECRET = "correct horse battery staple"
WORK = tempfile.mkdtemp(prefix="lc-cdnsec-")
MEDIA = os.path.join(WORK, "src.flv")
PROCS = []
ROLE = {"origin": 1, "edge": 2}
PAIR = {}


# ---------------------------------------------------------------- the fake node

def proof(secret, side, nc, ns, node, role):
    """cdn_hello.h: HMAC-SHA256(secret, label, side, Nc, Ns, node, role)."""
    msg = b"livecdn-cdn-hello-1\0" + bytes([side]) + nc + ns + node.encode() + b"\0" + bytes([ROLE[role]])
    return hmac.new(secret.encode(), msg, hashlib.sha256).digest()


class Fake:
    """A CDN node in Python: WebSocket client on /cdn, then hello (with the
    proof of `secret` when the server asks for one), state, keepalives."""

    def __init__(self, port, node, role, secret=None, src="127.0.0.1"):
        self.node, self.role, self.secret = node, role, secret
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=5, source_address=(src, 0))
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall(("GET /cdn HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                           "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n\r\n" % key).encode())
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = self.sock.recv(4096)
            assert chunk, "closed during the upgrade: %r" % head
            head += chunk
        head, self.buf = head.split(b"\r\n\r\n", 1)
        assert head.startswith(b"HTTP/1.1 101"), head
        self.got = []  # every JSON message received
        self.serial = 1

    def send(self, obj):
        payload = json.dumps(obj).encode()
        n = len(payload)
        hdr = bytes([0x81])
        if n < 126:
            hdr += bytes([0x80 | n])
        elif n < 65536:
            hdr += bytes([0x80 | 126]) + struct.pack(">H", n)
        else:
            hdr += bytes([0x80 | 127]) + struct.pack(">Q", n)
        mask = os.urandom(4)
        m = (mask * (n // 4 + 1))[:n]
        body = (int.from_bytes(payload, "big") ^ int.from_bytes(m, "big")).to_bytes(n, "big")
        try:
            self.sock.sendall(hdr + mask + body)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def _need(self, n, deadline):
        while len(self.buf) < n:
            self.sock.settimeout(max(0.01, deadline - time.monotonic()))
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError
            self.buf += chunk

    def recv(self, timeout=5):
        """The next JSON message; None once closed; raises socket.timeout."""
        deadline = time.monotonic() + timeout
        try:
            while True:
                self._need(2, deadline)
                n, at = self.buf[1] & 0x7F, 2
                if n == 126:
                    self._need(4, deadline)
                    n, at = struct.unpack(">H", self.buf[2:4])[0], 4
                elif n == 127:
                    self._need(10, deadline)
                    n, at = struct.unpack(">Q", self.buf[2:10])[0], 10
                self._need(at + n, deadline)
                op, payload = self.buf[0] & 0x0F, self.buf[at:at + n]
                self.buf = self.buf[at + n:]
                if op == 8:
                    return None
                if op == 1:
                    m = json.loads(payload)
                    self.got.append(m)
                    return m
        except (EOFError, ConnectionResetError):
            return None

    def drain(self, seconds):
        """Messages until closed or `seconds` of silence; True if it closed."""
        try:
            while self.recv(seconds) is not None:
                pass
            return True
        except socket.timeout:
            return False

    def hello(self, send_nonce=True, forge=False):
        """The hello exchange; returns the server's first answer."""
        nc = os.urandom(16)
        h = {"type": "hello", "version": 1, "node": self.node, "role": self.role}
        if self.secret is not None and send_nonce:
            h["nonce"] = nc.hex()
        self.send(h)
        r = self.recv()
        if r and r.get("type") == "hello" and "nonce" in r and self.secret is not None:
            ns = bytes.fromhex(r["nonce"])
            mine = proof(self.secret, 1, nc, ns, self.node, self.role)
            if forge:
                mine = bytes(32)
            self.send(dict(h, nonce=nc.hex(), proof=mine.hex()))
        return r

    def state(self, nodes=(), streams=()):
        self.serial += 1
        self.send({"type": "state", "version": 1, "node": self.node, "role": self.role, "serial": self.serial,
                   "nodes": [{"node": a, "role": "edge"} for a in nodes],
                   "streams": [{"name": s, "fetched": False, "vcodec": 7, "acodec": 10} for s in streams]})

    def keepalive(self):
        self.send({"type": "keepalive", "version": 1, "node": self.node, "serial": self.serial})
        try:
            while True:  # answer resyncs, keep the buffer short
                m = self.recv(0.05)
                if m is None:
                    return False
        except socket.timeout:
            return True

    def close(self):
        self.sock.close()


class Listeners:
    """TCP listeners that count (and at once close) every connection; the
    first bytes of each are kept, to tell who dialled."""

    def __init__(self, addrs):
        self.sel = selectors.DefaultSelector()
        self.socks, self.addrs = [], []
        self.accepts = []  # (monotonic time, "ip:port" listened on)
        self.first = []    # first bytes of connections read in full mode
        for ip, port in addrs:
            s = socket.socket()
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                s.bind((ip, port))
                s.listen(64)
            except OSError:
                s.close()  # in use: that one stays a closed port
                continue
            s.setblocking(False)
            self.sel.register(s, selectors.EVENT_READ, "%s:%d" % (ip, port))
            self.socks.append(s)
        self.stop = False
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self):
        while not self.stop:
            for key, _ in self.sel.select(0.1):
                try:
                    c, _ = key.fileobj.accept()
                except OSError:
                    continue
                self.accepts.append((time.monotonic(), key.data))
                if len(self.socks) == 1:  # one listener: see who it is (its upgrade and hello)
                    c.settimeout(1)
                    data = b""
                    try:
                        while len(data) < 4096:
                            chunk = c.recv(4096)
                            if not chunk:
                                break
                            data += chunk
                    except OSError:
                        pass
                    self.first.append(data)
                c.close()

    def close(self):
        self.stop = True
        self.thread.join(5)
        for s in self.socks:
            s.close()


# ---------------------------------------------------------------- nodes and clients

def node(t, role, entry=None, cdn_extra=""):
    port = free_port()
    extra = ('cdn: { enabled = true; role = "%s"; ip = "127.0.0.1"; port = %d; %s keepalive_interval = 1; %s };'
             % (role, port, 'point_of_entry = "%s";' % entry.cdn_addr if entry else "", cdn_extra))
    s = t.server(workers=1, extra=extra, name="lc-cdnsec-" + role)
    s.role, s.cdn_port, s.cdn_addr = role, port, "127.0.0.1:%d" % port
    return s.start()


def show_nodes(s):
    return {n["ip"]: n for n in s.rest("cdn/show_nodes")}


def routes(s):
    return {r["stream"]: r["route"] for r in s.rest("cdn/show_routes")}


def stream_info(s, name):
    for st in s.rest("stream/find_all")["streams"]:
        if st["name"] == name:
            return st
    return None


def make_media():
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-y", "-f", "lavfi", "-i",
                    "testsrc2=size=320x240:rate=25", "-f", "lavfi", "-i", "sine=frequency=1000:sample_rate=44100",
                    "-t", "6", "-c:v", "libx264", "-preset", "ultrafast", "-g", "25", "-pix_fmt", "yuv420p",
                    "-c:a", "aac", "-b:a", "64k", "-f", "flv", MEDIA], check=True, timeout=120)


def spawn(args):
    p = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    PROCS.append(p)
    return p


def finish(p, timeout=30):
    try:
        out, err = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        p.kill()
        p.communicate()
        raise AssertionError("%s did not end within %ds" % (p.args[0], timeout))
    return p.returncode, out, err


def probe(s, name):
    return spawn(["ffprobe", "-v", "error", "-rw_timeout", "8000000", "-read_intervals", "%+2",
                  "-show_streams", "-of", "json", "rtmp://127.0.0.1:%d/live/%s" % (s.rtmp_port, name)])


def video_size(p):
    rc, out, err = finish(p, 40)
    assert rc == 0, "ffprobe: %s" % err
    v = [st for st in json.loads(out)["streams"] if st["codec_type"] == "video"]
    assert v, out
    return v[0]["width"], v[0]["height"]


def converged(o, e):
    for s, other in ((o, e), (e, o)):
        n = show_nodes(s)
        if (n.get(other.cdn_addr) or {}).get("state") != "ACTIVE":
            return False
    return True


def log_lines(s):
    return s.log().count("\n")


# ---------------------------------------------------------------- cases

def secret_pair_plays(t):
    o = node(t, "origin", cdn_extra='secret = "%s"; allow = ["127.0.0.1"];' % SECRET)
    e = node(t, "edge", entry=o, cdn_extra='secret = "%s"; pull_idle_timeout = 1;' % SECRET)
    PAIR.update(o=o, e=e)
    wait_for(lambda: converged(o, e), 15, "origin and edge ACTIVE on each other")
    pub = spawn(["ffmpeg", "-nostdin", "-v", "error", "-re", "-stream_loop", "-1", "-i", MEDIA, "-c", "copy",
                 "-f", "flv", "rtmp://127.0.0.1:%d/live/cam" % o.rtmp_port])
    PAIR["pub"] = pub
    wait_for(lambda: routes(e).get("cam") == o.cdn_addr, 15, "route of cam on the edge")
    assert video_size(probe(e, "cam")) == (320, 240)
    for s in (o, e):
        assert "cdn.secret is empty" not in s.log(), "a node with a secret says it has none"


def no_secret_warns(t):
    s = node(t, "edge")
    wait_for(lambda: "cdn: cdn.secret is empty: links between nodes are not authenticated" in s.log(), 5,
             "the unauthenticated-CDN warning")
    s.stop()


def without_secret_refused(t):
    o, e = PAIR["o"], PAIR["e"]
    failures = []
    # no secret at all: the hello has no nonce
    f = Fake(o.cdn_port, "127.0.0.1:1", "edge")
    r = f.hello()
    if not (r and r.get("type") == "error" and "did not prove cdn.secret" in r.get("reason", "")):
        failures.append("hello without the secret answered %r" % r)
    f.drain(3)
    if any(m.get("type") == "state" for m in f.got):
        failures.append("a node without the secret got the state: %r" % f.got)
    f.close()
    # a guessed proof: it sees the origin's hello (nonce, proof), then error; never the state
    f = Fake(o.cdn_port, "127.0.0.1:1", "edge", secret="guess")
    r = f.hello(forge=True)
    closed = f.drain(3)
    if not closed or [m.get("type") for m in f.got] != ["hello", "error"] or "nodes" in f.got[0]:
        failures.append("a wrong proof got %r (closed %s)" % (f.got, closed))
    f.close()
    # a state right behind the hello, before any proof: refused, never acted on
    f = Fake(e.cdn_port, "127.0.0.1:1", "origin", secret="guess")
    f.send({"type": "hello", "version": 1, "node": f.node, "role": "origin", "nonce": os.urandom(16).hex()})
    f.state(nodes=["127.0.0.1:3"], streams=["evil"])
    f.drain(3)
    if any(m.get("type") == "state" for m in f.got):
        failures.append("the edge sent its state before a proof: %r" % f.got)
    f.close()
    time.sleep(1.5)
    if "evil" in routes(e) or "127.0.0.1:1" in show_nodes(e) or "127.0.0.1:3" in show_nodes(e):
        failures.append("what came before the proof was acted on: routes %s nodes %s"
                        % (routes(e), list(show_nodes(e))))
    assert not failures, failures
    for s, text in ((o, "refused: it did not prove cdn.secret"), (o, "refused: its proof of cdn.secret is wrong"),
                    (e, "refused: a link begins with hello and the proof of cdn.secret")):
        assert text in s.log(), "no log line %r on the %s" % (text, s.role)
    assert converged(o, e)


def route_stays(t):
    """An origin that proves the secret but claims a stream another origin
    has, from an address that sorts first (the review's 127.0.0.1:10000
    against 127.0.0.1:23084), takes nothing over."""
    o, e = PAIR["o"], PAIR["e"]
    # a hello as edge, then a state as origin: what the hello proved holds
    f = Fake(e.cdn_port, "127.0.0.1:3", "edge", secret=SECRET)
    r = f.hello()
    assert r and r.get("type") == "hello", r
    f.send({"type": "state", "version": 1, "node": f.node, "role": "origin", "serial": 9, "nodes": [],
            "streams": [{"name": "turncoat", "fetched": False}]})
    assert f.drain(3), "a state with another role than the hello did not close the link"
    f.close()
    assert "turncoat" not in routes(e), routes(e)
    wait_for(lambda: stream_info(e, "cam") is None, 10, "the edge's idle pull of cam dropped")
    f = Fake(e.cdn_port, "127.0.0.1:1", "origin", secret=SECRET)
    r = f.hello()
    assert r and r.get("type") == "hello", r
    f.state(streams=["cam"])
    try:
        wait_for(lambda: (show_nodes(e).get("127.0.0.1:1") or {}).get("state") == "ACTIVE", 5,
                 "the claiming origin ACTIVE on the edge")
        p = probe(e, "cam")  # a new pull, made while both claim cam
        seen = set()
        end = time.monotonic() + 4
        while time.monotonic() < end:
            f.keepalive()
            seen.add(routes(e).get("cam"))
            time.sleep(0.2)
        assert seen == {o.cdn_addr}, "route of cam while another origin claims it: %s" % seen
        assert video_size(p) == (320, 240), "the edge played another origin's cam"
        st = stream_info(e, "cam")
        assert st is None or st["publisher"] == "cdn " + o.cdn_addr, st
    finally:
        f.close()


def allow_holds_for_gossip(t):
    """The origin allows 127.0.0.1 only. A node at 127.0.0.5 that proves the
    secret joins the edge (which allows any); the edge gossips it to the
    origin, which must never dial it nor send it anything."""
    o, e = PAIR["o"], PAIR["e"]
    port = free_port()
    lis = Listeners([("127.0.0.5", port)])
    f = Fake(e.cdn_port, "127.0.0.5:%d" % port, "edge", secret=SECRET, src="127.0.0.5")
    try:
        r = f.hello()
        assert r and r.get("type") == "hello", r
        f.state()
        wait_for(lambda: (show_nodes(e).get(f.node) or {}).get("state") == "ACTIVE", 5, "the node ACTIVE on the edge")
        end = time.monotonic() + 4
        while time.monotonic() < end:
            f.keepalive()
            assert f.node not in show_nodes(o), "the origin lists a node outside cdn.allow"
            time.sleep(0.25)
        origin_dials = [d for d in lis.first if o.cdn_addr.encode() in d]
        assert not origin_dials, "the origin dialled a node outside cdn.allow and sent: %r" % origin_dials[:1]
        assert "not in cdn.allow" in o.log(), "the origin did not log the refused gossip"
    finally:
        f.close()
        lis.close()


def gossip_flood_bounded(t):
    """One state naming 4000 closed ports (here: ports that accept and
    close at once, so each dial is counted)."""
    o, e = PAIR["o"], PAIR["e"]
    addrs = [("127.0.0.7", 20000 + i) for i in range(4000)]
    lis = Listeners(addrs)
    f = Fake(e.cdn_port, "127.0.0.1:2", "edge", secret=SECRET)
    try:
        r = f.hello()
        assert r and r.get("type") == "hello", r
        before = log_lines(e)
        start = time.monotonic()
        f.state(nodes=["%s:%d" % a for a in addrs])
        listed = set()
        while time.monotonic() < start + 10:
            f.keepalive()
            listed |= {a for a in show_nodes(e) if a.startswith("127.0.0.7:")}
            time.sleep(0.5)
        dials = len(lis.accepts)
        late = len([a for a in lis.accepts if a[0] > start + 5])
        lines = log_lines(e) - before
        print("# %d dials (%d in the last 5 s), %d log lines in 10 s" % (dials, late, lines), flush=True)
        assert dials <= 120, "%d dials in 10 s after one state (listening on %d of them)" % (dials, len(lis.socks))
        assert late <= 40, "%d dials in the last 5 s: redials are not bounded" % late
        assert lines <= 40, "%d log lines in 10 s:\n%s" % (lines, "\n".join(e.log().split("\n")[before:before + 40]))
        assert not listed, "show_nodes lists gossiped addresses never heard from: %s" % sorted(listed)[:5]
        nodes = show_nodes(e)
        assert (nodes.get(o.cdn_addr) or {}).get("state") == "ACTIVE", nodes
        assert routes(e).get("cam") == o.cdn_addr
    finally:
        f.close()
        lis.close()


def main():
    make_media()
    with Tests() as t:
        t.case("with cdn.secret an origin and an edge converge and an edge pull plays", secret_pair_plays, t)
        t.case("cdn.secret empty: a warning at start that the CDN is unauthenticated", no_secret_warns, t)
        t.case("a node that cannot prove cdn.secret is refused with a log line and gets no state",
               without_secret_refused, t)
        t.case("another origin's claim never takes a route from the origin that has the stream", route_stays, t)
        t.case("cdn.allow on the origin: a refused node gossiped by an edge is never dialled",
               allow_holds_for_gossip, t)
        t.case("one state naming 4000 closed ports: dials and log lines bounded, none listed",
               gossip_flood_bounded, t)


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
        subprocess.run(["rm", "-rf", WORK])
        print("# test_cdn_security ran %.0fs" % (time.monotonic() - started), flush=True)
