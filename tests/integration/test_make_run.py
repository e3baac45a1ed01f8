"""make run for a browser on the same machine (SPEC 1, `make run`): an origin
and an edge from conf/origin.conf and conf/edge.conf as they ship (every
listener on 127.0.0.1, webrtc.public_ip empty; only ports and file names
changed so that this file can run beside others), and headless Chromium
publishing with html/publisher.html on the origin and playing with
html/player.html on the edge. Chromium never uses loopback for ICE, so this
works only because the answers carry this machine's first non-loopback
address beside the listen address, on a socket of its own.

Where this machine has a non-loopback IPv4 address, everything runs here
(Chromium talks to that address of this same machine only; mDNS host
candidates are turned off so that it announces nothing on the LAN). Where it
has none, this file re-runs itself inside a network namespace it makes with
a veth pair (both ends inside, no route out), where 127.0.0.1 and the veth
address play those two roles.

Everything started here (servers, chromedriver and its browser, the
namespace) is stopped by PID / deleted by name at exit, also on failure.
"""
import asyncio
import hashlib
import hmac
import json
import os
import re
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
import zlib

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from lcserver import ROOT, Tests, free_port, wait_for  # noqa: E402

PID = os.getpid()
CHROMIUM = "/usr/lib/chromium/chromium"  # /usr/bin/chromium is a wrapper script
CHROME_OFFER = os.path.join(ROOT, "tests", "fuzz", "corpus", "fuzz_sdp", "chrome.sdp")  # a real Chrome offer
INSIDE = "--inside-netns"


def sh(*args, check=True):
    r = subprocess.run(list(args), capture_output=True, text=True, timeout=30)
    if check and r.returncode != 0:
        raise RuntimeError("%s: %s" % (" ".join(args), r.stderr.strip()))
    return r


def first_lan_ipv4():
    """This machine's first non-loopback IPv4 address (the server's rule), or None."""
    for line in sh("ip", "-4", "-o", "addr", "show", "up").stdout.splitlines():
        m = re.search(r"\binet (\d+\.\d+\.\d+\.\d+)/", line)
        if m and not m.group(1).startswith("127."):
            return m.group(1)
    return None


def candidates(sdp):
    return [(m.group(1), int(m.group(2))) for m in
            re.finditer(r"^a=candidate:\S+ 1 udp \d+ (\S+) (\d+) typ host", sdp, re.M | re.I)]


# ---------------------------------------------------------------- the demo configs

def demo_servers(t):
    """An origin and an edge from conf/origin.conf and conf/edge.conf, with
    their ports moved to free ones (and the log at the harness's place)."""
    udp = 40000 + (PID * 16) % 20000
    origin = t.server(name="lc-makerun-origin")
    edge = t.server(name="lc-makerun-edge")
    origin_cdn, edge_cdn = free_port(), free_port()
    ports = {
        "origin": {"8080": origin.sig_port, "8081": origin.http_port, "1935": origin.rtmp_port,
                   "8084": origin_cdn, "31000-31999": "%d-%d" % (udp, udp + 7)},
        "edge": {"8090": edge.sig_port, "8091": edge.http_port, "1945": edge.rtmp_port, "8094": edge_cdn,
                 "8084": origin_cdn, "32000-32999": "%d-%d" % (udp + 8, udp + 15)},
    }
    for node, srv in (("origin", origin), ("edge", edge)):
        with open(os.path.join(ROOT, "conf", node + ".conf")) as f:
            text = f.read()
        moved = ports[node]
        text = re.sub(r"\b(%s)\b" % "|".join(re.escape(k) for k in moved), lambda m: str(moved[m.group(1)]), text)
        text = re.sub(r'error_log = "[^"]*"', 'error_log = "logs/error.log"', text)
        srv.write_conf(raw=text)
        srv.workers = 2
        for f in os.listdir(os.path.join(ROOT, "html")):
            shutil.copy(os.path.join(ROOT, "html", f), os.path.join(srv.dir, "html", f))
    return origin, edge


def demo_configs_are_loopback():
    """The premise: the shipped demo configs put every listener on loopback
    and set no public_ip (so what follows tests them as a user gets them)."""
    for node in ("origin", "edge"):
        with open(os.path.join(ROOT, "conf", node + ".conf")) as f:
            text = f.read()
        listens = re.findall(r'listen\s*=\s*"([^"]*)"', text)
        assert listens and all(a.startswith("127.0.0.1:") for a in listens), (node, listens)
        assert "public_ip" not in text, "conf/%s.conf sets webrtc.public_ip" % node


# ---------------------------------------------------------------- answers and STUN

def stun_request(username, pwd):
    """A Binding request with USERNAME, ICE-CONTROLLING, MESSAGE-INTEGRITY and FINGERPRINT."""
    tid = os.urandom(12)

    def attr(t, v):
        return struct.pack("!HH", t, len(v)) + v + b"\x00" * (-len(v) % 4)
    body = attr(0x0006, username) + attr(0x802A, os.urandom(8))
    head = struct.pack("!HHI", 0x0001, len(body) + 24, 0x2112A442) + tid
    body += attr(0x0008, hmac.new(pwd, head + body, hashlib.sha1).digest())
    head = struct.pack("!HHI", 0x0001, len(body) + 8, 0x2112A442) + tid
    body += attr(0x8028, struct.pack("!I", (zlib.crc32(head + body) ^ 0x5354554E) & 0xffffffff))
    return struct.pack("!HHI", 0x0001, len(body), 0x2112A442) + tid + body, tid


def whip_answer(srv, name):
    with open(CHROME_OFFER) as f:
        offer = f.read()
    req = urllib.request.Request("http://127.0.0.1:%d/whip/%s" % (srv.sig_port, name), data=offer.encode(),
                                 method="POST")
    req.add_header("Content-Type", "application/sdp")
    with urllib.request.urlopen(req, timeout=10) as r:
        assert r.status == 201, r.status
        return offer, r.read().decode(), r.headers["Location"]


def ws_answer(srv, name):
    import websockets  # Debian's python3-websockets

    with open(CHROME_OFFER) as f:
        offer = f.read()

    async def go():
        async with websockets.connect("ws://127.0.0.1:%d/" % srv.sig_port, open_timeout=5) as ws:
            await ws.send(json.dumps({"method": "connect"}))
            ev = json.loads(await asyncio.wait_for(ws.recv(), 5))
            assert ev.get("status") == "ESTABLISHED", ev
            await ws.send(json.dumps({"method": "publishStream", "id": "mr", "name": name, "sdp": offer}))
            while True:
                ev = json.loads(await asyncio.wait_for(ws.recv(), 5))
                if ev.get("sdp") or ev.get("status") == "FAILED":
                    return ev
    return asyncio.run(asyncio.wait_for(go(), 15))


def answer_carries_both(srv, lan):
    """Over WHIP and over WebSocket signaling: two host candidates on one
    port, the listen address (first) and the first non-loopback address."""
    _, sdp, loc = whip_answer(srv, "both-%d" % PID)
    got = candidates(sdp)
    assert len(got) == 2 and got[0][0] == "127.0.0.1" and got[1][0] == lan and got[0][1] == got[1][1], \
        "WHIP answer candidates %s (want 127.0.0.1 and %s on one port)" % (got, lan)
    prio = {m.group(2): int(m.group(1)) for m in re.finditer(r"^a=candidate:\S+ 1 udp (\d+) (\S+) ", sdp, re.M)}
    assert prio[lan] > prio["127.0.0.1"], "the loopback candidate ranks above %s: %s" % (lan, prio)
    urllib.request.urlopen(urllib.request.Request("http://127.0.0.1:%d%s" % (srv.sig_port, loc), method="DELETE"),
                           timeout=10).close()
    ev = ws_answer(srv, "both-ws-%d" % PID)
    assert ev.get("sdp"), ev
    got = candidates(ev["sdp"])
    assert [ip for ip, _ in got] == ["127.0.0.1", lan] and got[0][1] == got[1][1], \
        "WebSocket answer candidates %s" % got


def each_candidate_answers_from_itself(srv, lan):
    """A connectivity check sent to either candidate is answered (Binding
    success) from that very address and port: an ICE pair is both ends."""
    offer, sdp, loc = whip_answer(srv, "stun-%d" % PID)
    ufrag = re.search(r"^a=ice-ufrag:(\S+)", sdp, re.M).group(1)
    pwd = re.search(r"^a=ice-pwd:(\S+)", sdp, re.M).group(1)
    theirs = re.search(r"^a=ice-ufrag:(\S+)", offer, re.M).group(1)
    try:
        for ip, port in candidates(sdp):
            for src in ("127.0.0.1", lan):  # a local peer may come from either of its addresses
                so = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                so.settimeout(3)
                try:
                    so.bind((src, 0))
                    msg, tid = stun_request(("%s:%s" % (ufrag, theirs)).encode(), pwd.encode())
                    so.sendto(msg, (ip, port))
                    data, frm = so.recvfrom(2048)
                finally:
                    so.close()
                assert data[:2] == b"\x01\x01" and data[8:20] == tid, \
                    "check to %s:%d from %s: got %s" % (ip, port, src, data[:2].hex())
                assert frm == (ip, port), "check to %s:%d from %s answered from %s:%d" % (ip, port, src, *frm)
    finally:
        urllib.request.urlopen(urllib.request.Request("http://127.0.0.1:%d%s" % (srv.sig_port, loc),
                                                      method="DELETE"), timeout=10).close()


# ---------------------------------------------------------------- Chromium

class Browser:
    """chromedriver (its own session: every process of it is killed by PID
    at stop) and one Chromium session through it."""

    def __init__(self, work):
        self.port = free_port()
        self.log_path = os.path.join(work, "chromedriver.log")
        self.profile = os.path.join(work, "profile")
        self.proc = self.sid = self.log = None

    def start(self):
        self.log = open(self.log_path, "w")
        self.proc = subprocess.Popen(["chromedriver", "--port=%d" % self.port, "--log-level=WARNING"],
                                     stdin=subprocess.DEVNULL, stdout=self.log, stderr=subprocess.STDOUT,
                                     start_new_session=True)
        wait_for(lambda: self.proc.poll() is None and self.call("GET", "/status")["ready"], 15, "chromedriver")
        args = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--disable-dev-shm-usage", "--user-data-dir=" + self.profile,
                "--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream",
                "--autoplay-policy=no-user-gesture-required",
                # host candidates as addresses, not mDNS names: nothing is announced on the LAN
                "--disable-features=WebRtcHideLocalIpsWithMdns",
                "--disable-background-timer-throttling", "--disable-renderer-backgrounding",
                "--disable-backgrounding-occluded-windows", "--window-size=800,700"]
        caps = {"capabilities": {"alwaysMatch": {
            "browserName": "chrome", "goog:loggingPrefs": {"browser": "ALL"},
            "goog:chromeOptions": {"binary": CHROMIUM, "args": args}}}}
        self.sid = self.call("POST", "/session", caps, timeout=60)["sessionId"]

    def call(self, method, path, body=None, timeout=20):
        data = json.dumps(body).encode() if body is not None else (b"{}" if method == "POST" else None)
        req = urllib.request.Request("http://127.0.0.1:%d%s" % (self.port, path), data=data, method=method)
        req.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(req, timeout=timeout) as r:
                return json.loads(r.read().decode())["value"]
        except urllib.error.HTTPError as e:
            raise AssertionError("%s %s: %s" % (method, path, e.read().decode()[:500]))

    def open(self, url):
        handle = self.call("POST", "/session/%s/window/new" % self.sid, {"type": "window"})["handle"]
        self.switch(handle)
        self.call("POST", "/session/%s/url" % self.sid, {"url": url}, timeout=30)
        return handle

    def switch(self, handle):
        self.call("POST", "/session/%s/window" % self.sid, {"handle": handle})

    def js(self, handle, script):
        self.switch(handle)
        return self.call("POST", "/session/%s/execute/sync" % self.sid, {"script": script, "args": []})

    def js_async(self, handle, script):
        self.switch(handle)
        return self.call("POST", "/session/%s/execute/async" % self.sid, {"script": script, "args": []})

    def console(self):
        try:
            return ["%s %s" % (e.get("level"), e.get("message"))
                    for e in self.call("POST", "/session/%s/se/log" % self.sid, {"type": "browser"})]
        except Exception as ex:
            return ["(no console: %s)" % ex]

    def stop(self):
        if self.sid:
            try:
                self.call("DELETE", "/session/%s" % self.sid, timeout=10)
            except Exception:
                pass
            self.sid = None
        if self.proc:
            kill_session(self.proc)
            self.proc = None
        if self.log:
            self.log.close()
            self.log = None


def kill_session(proc):
    """SIGKILL every process of proc's session (chromedriver, Chromium and its helpers), then proc."""
    out = subprocess.run(["ps", "-eo", "pid=,sid="], capture_output=True, text=True, timeout=10).stdout
    for line in out.split("\n"):
        parts = line.split()
        if len(parts) == 2 and int(parts[1]) == proc.pid and int(parts[0]) != proc.pid:
            try:
                os.kill(int(parts[0]), signal.SIGKILL)
            except ProcessLookupError:
                pass
    if proc.poll() is None:
        proc.kill()
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        pass


STATE = "return window.lc ? JSON.parse(JSON.stringify(window.lc)) : null"
# [local, remote] address of the ICE pair the page's peer connection uses
PAIR = """const done = arguments[arguments.length - 1];
const pc = typeof stream !== "undefined" && stream && stream.peerConnection();
if (!pc) { done(null); return; }
pc.getStats().then(r => {
  let pair = null;
  r.forEach(s => { if (s.type === "transport" && s.selectedCandidatePairId) pair = r.get(s.selectedCandidatePairId); });
  if (!pair) { done(null); return; }
  const l = r.get(pair.localCandidateId), m = r.get(pair.remoteCandidateId);
  done([l.address || l.ip, m.address || m.ip]);
}, () => done(null));"""
VIDEO = "const v = document.querySelector('video'); return v ? [v.videoWidth, v.currentTime] : null"


def page(srv, which, name):
    return "http://127.0.0.1:%d/%s.html?%s" % (srv.http_port, which, urllib.parse.urlencode(
        {"ws": "ws://127.0.0.1:%d/" % srv.sig_port, "name": name, "autostart": 1}))


def browser_publishes_and_plays(b, origin, edge, lan):
    """The URLs make run prints: publisher page on the origin, player page on
    the edge; the player's <video> has frames and its time advances."""
    name = "cam%d" % PID
    pub = b.open(page(origin, "publisher", name))
    wait_for(lambda: (b.js(pub, STATE) or {}).get("status") in ("PUBLISHING", "FAILED", "DISCONNECTED"), 10,
             "publisher page to answer")
    st = b.js(pub, STATE)
    assert st["status"] == "PUBLISHING", "publisher page: %s" % st

    def live():
        for s in origin.rest("stream/find_all")["streams"]:
            if s["name"] == name and s.get("frames_in", 0) > 10:
                return s
    wait_for(live, 10, "frames of %s on the origin (ICE from Chromium to the origin)" % name)
    wait_for(lambda: any(r["stream"] == name for r in edge.rest("cdn/show_routes")), 15, "route on the edge")
    ply = b.open(page(edge, "player", name))

    def playing():
        s = b.js(ply, STATE) or {}
        if s.get("status") in ("FAILED", "STOPPED", "DISCONNECTED"):
            raise AssertionError("player page: %s" % s)
        v = b.js(ply, VIDEO)
        return v and v[0] > 0 and v[1] > 0.5 and v
    try:
        first = wait_for(playing, 15, "the player's video to show frames", step=0.5)
    except AssertionError as ex:
        raise AssertionError("%s; player %s; publisher %s" % (ex, b.js(ply, STATE), b.js(pub, STATE)))
    time.sleep(2)
    later = b.js(ply, VIDEO)
    assert later[1] > first[1] + 1, "the player's video stopped: currentTime %s then %s" % (first[1], later[1])
    pairs = {"publisher": b.js_async(pub, PAIR), "player": b.js_async(ply, PAIR)}
    print("# player on the edge: %dpx wide, currentTime %.1f -> %.1f s; ICE pairs (local, remote): %s"
          % (first[0], first[1], later[1], pairs), flush=True)
    # Linux delivers a datagram from a LAN address to 127.0.0.1, which other
    # systems need not: the pair in use must be the one with this machine's address
    for who, pair in pairs.items():
        assert pair and pair[1] == lan, "the %s page's ICE pair is %s, not one to %s" % (who, pair, lan)


# ---------------------------------------------------------------- main

def run_here(lan):
    print("# candidates expected: 127.0.0.1 and %s" % lan, flush=True)
    work = tempfile.mkdtemp(prefix="lc-makerun-")
    b = None
    try:
        with Tests() as t:
            t.case("demo configs listen on 127.0.0.1 only and set no webrtc.public_ip", demo_configs_are_loopback)
            origin, edge = demo_servers(t)
            origin.start()
            edge.start()
            t.case("an answer (WHIP and WebSocket) carries 127.0.0.1 and the first non-loopback address",
                   answer_carries_both, origin, lan)
            t.case("a check to either candidate is answered from that candidate's address",
                   each_candidate_answers_from_itself, origin, lan)
            if not (shutil.which("chromedriver") and os.access(CHROMIUM, os.X_OK)):
                print("ok - Chromium on this machine publishes on the origin and plays on the edge "
                      "# skipped: chromium or chromium-driver not installed", flush=True)
                return
            b = Browser(work)
            t.case("Chromium starts", b.start)
            if b.sid:
                failed = t.failed
                t.case("Chromium on this machine publishes on the origin and plays on the edge (demo configs)",
                       browser_publishes_and_plays, b, origin, edge, lan)
                if t.failed > failed:
                    print("# ---- browser console:\n# " + "\n# ".join(b.console()[-40:]), flush=True)
    finally:
        if b:
            b.stop()
        shutil.rmtree(work, ignore_errors=True)


def run_in_netns():
    """No non-loopback address here: the same cases inside a namespace of
    our own whose veth pair (both ends inside) gives it one."""
    ns, a, z = "lcm%d" % PID, "lcm%da" % PID, "lcm%dz" % PID
    used = sh("ip", "-4", "-o", "addr").stdout + sh("ip", "-4", "route").stdout
    x = next((100 + (PID + k) % 150 for k in range(150) if "10.%d." % (100 + (PID + k) % 150) not in used), 199)
    child = None
    try:
        sh("ip", "netns", "add", ns)
        sh("ip", "-n", ns, "link", "add", a, "type", "veth", "peer", "name", z)
        sh("ip", "-n", ns, "addr", "add", "10.%d.0.1/24" % x, "dev", a)
        sh("ip", "-n", ns, "addr", "add", "10.%d.0.2/24" % x, "dev", z)
        for dev in ("lo", a, z):
            sh("ip", "-n", ns, "link", "set", dev, "up")
        print("# no non-loopback address here: running in namespace %s" % ns, flush=True)
        child = subprocess.Popen(["ip", "netns", "exec", ns, sys.executable, os.path.abspath(__file__), INSIDE],
                                 start_new_session=True)
        try:
            rc = child.wait(timeout=150)
        except subprocess.TimeoutExpired:
            print("not ok - the cases in namespace %s ran over 150 s" % ns, flush=True)
            child.terminate()  # SIGTERM: it stops its browser and servers
            try:
                child.wait(timeout=20)
            except subprocess.TimeoutExpired:
                child.kill()
            rc = 1
        return rc
    finally:
        # whatever is still alive in the namespace, by PID, then the namespace
        for p in sh("ip", "netns", "pids", ns, check=False).stdout.split():
            try:
                os.kill(int(p), signal.SIGKILL)
            except (ProcessLookupError, ValueError):
                pass
        sh("ip", "netns", "del", ns, check=False)


def on_term(signum, frame):
    raise SystemExit(1)


def main():
    lan = first_lan_ipv4()
    if lan and os.environ.get("LC_MAKE_RUN_NETNS") is None:
        run_here(lan)
        return 0
    if INSIDE in sys.argv:
        if not lan:
            print("not ok - the namespace has no non-loopback address", flush=True)
            return 1
        run_here(lan)
        return 0
    if os.geteuid() != 0 or sh("ip", "netns", "list", check=False).returncode != 0:
        print("ok - a browser on this machine # skipped: no non-loopback address and no network namespaces",
              flush=True)
        return 0
    return run_in_netns()


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, on_term)
    started = time.monotonic()
    try:
        sys.exit(main())
    finally:
        print("# test_make_run ran %.0fs" % (time.monotonic() - started), flush=True)
