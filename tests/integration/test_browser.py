"""Real browsers (SPEC sections 4 and 8): headless Chromium publishes its fake
camera with html/publisher.html and plays it back with html/player.html,
through html/livecdn.js and livecdn's WebSocket signaling, in VP8 and H.264.

Chromium never gathers ICE candidates on loopback, so livecdn, chromedriver
and Chromium all run in a network namespace made by this file, whose only
interface besides lo is one end of a veth pair (10.X.0.2/24); the other end
(10.X.0.1/24) stays on the host so that this file can reach the REST API and
chromedriver. Nothing routes out of 10.X.0.0/24. Chromium is driven over
chromedriver's HTTP WebDriver API with the tiny client below (no selenium).

Everything this file starts (server, chromedriver and its browser, the
namespace and its veth pair) is stopped by PID / deleted by name at exit,
also on failure. Skipped (reported as "ok - ... # skipped") without
chromium + chromium-driver or without network namespaces.
"""
# lc-test: serial  (Chromium and its renderer take a core; its WebRTC timing suffers under load)
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from lcserver import ROOT, Tests, wait_for  # noqa: E402

PID = os.getpid()
CHROMIUM = "/usr/lib/chromium/chromium"  # /usr/bin/chromium is a wrapper script
DRIVER_PORT = 9515  # inside the namespace: its own port space
FRAMES = 30  # decoded frames a player must reach...
FRAMES_WITHIN = 15  # ...within this many seconds of opening the page
CASES = [("VP8 publish and play in Chromium", "VP8"), ("H.264 publish and play in Chromium", "H264")]
THROUGH_CDN = "VP8: publisher page on an origin, player page on an edge of the CDN; publisher stop reaches it"
NEGATIVE = "player of a stream nobody publishes shows FAILED: Stream not found"
FROM_RTMP = ("ffmpeg publishes H.264 + AAC (1 kHz) over RTMP: Chromium plays it with sound (Opus), as VP8 "
             "when it offers VP8 alone, with G.722 sound when it offers G.722 alone")


def sh(*args, check=True):
    r = subprocess.run(list(args), capture_output=True, text=True, timeout=30)
    if check and r.returncode != 0:
        raise RuntimeError("%s: %s" % (" ".join(args), r.stderr.strip()))
    return r


# ---------------------------------------------------------------- the namespace

class Net:
    """Namespace lcb<pid> with veth end lcb<pid>v (10.X.0.2); the peer end
    lcb<pid>h (10.X.0.1) on the host."""

    def __init__(self):
        self.ns = "lcb%d" % PID
        self.host_end = "lcb%dh" % PID
        self.made = False

    def setup(self):
        used = sh("ip", "-4", "-o", "addr").stdout + sh("ip", "-4", "route").stdout
        for k in range(150):
            x = 100 + (PID + 7 + k) % 150
            if ("10.%d." % x) not in used:
                break
        self.host_ip, self.ip = "10.%d.0.1" % x, "10.%d.0.2" % x
        inner = "lcb%dv" % PID
        sh("ip", "netns", "add", self.ns)
        self.made = True
        sh("ip", "link", "add", self.host_end, "type", "veth", "peer", "name", inner)
        sh("ip", "link", "set", inner, "netns", self.ns)
        sh("ip", "addr", "add", self.host_ip + "/24", "dev", self.host_end)
        sh("ip", "link", "set", self.host_end, "up")
        sh("ip", "-n", self.ns, "addr", "add", self.ip + "/24", "dev", inner)
        sh("ip", "-n", self.ns, "link", "set", inner, "up")
        sh("ip", "-n", self.ns, "link", "set", "lo", "up")

    def cleanup(self):
        if self.made:
            sh("ip", "netns", "del", self.ns, check=False)  # takes the veth pair with it
        sh("ip", "link", "del", self.host_end, check=False)
        self.made = False


def netns_usable():
    probe = "lcb%dprobe" % PID
    try:
        if sh("ip", "netns", "add", probe, check=False).returncode != 0:
            return False
        sh("ip", "netns", "del", probe, check=False)
        return True
    except Exception:
        return False


# ---------------------------------------------------------------- WebDriver

class WebDriverError(Exception):
    pass


class Driver:
    """chromedriver in the namespace, and one Chromium session through it."""

    def __init__(self, net, workdir):
        self.net = net
        self.base = "http://%s:%d" % (net.ip, DRIVER_PORT)
        self.log_path = os.path.join(workdir, "chromedriver.log")
        self.profile = os.path.join(workdir, "profile")
        self.proc = None
        self.sid = None

    def start(self, origin):
        """origin: the http://HOST:PORT of the pages, which may use the camera although it is not https."""
        self.log = open(self.log_path, "w")
        # --allowed-ips makes chromedriver listen beyond loopback, for the host end only
        self.proc = subprocess.Popen(["ip", "netns", "exec", self.net.ns, "chromedriver", "--port=%d" % DRIVER_PORT,
                                      "--allowed-ips=%s" % self.net.host_ip, "--log-level=WARNING"],
                                     stdin=subprocess.DEVNULL, stdout=self.log, stderr=subprocess.STDOUT,
                                     start_new_session=True)
        wait_for(lambda: self._alive() and self.call("GET", "/status")["ready"], 15, "chromedriver ready")
        args = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--disable-dev-shm-usage", "--user-data-dir=" + self.profile,
                "--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream",
                "--autoplay-policy=no-user-gesture-required",
                "--unsafely-treat-insecure-origin-as-secure=" + origin,
                # two windows play at once: keep the one not in front running at full speed
                "--disable-background-timer-throttling", "--disable-renderer-backgrounding",
                "--disable-backgrounding-occluded-windows", "--window-size=800,700"]
        caps = {"capabilities": {"alwaysMatch": {
            "browserName": "chrome", "pageLoadStrategy": "normal", "goog:loggingPrefs": {"browser": "ALL"},
            "goog:chromeOptions": {"binary": CHROMIUM, "args": args}}}}
        self.sid = self.call("POST", "/session", caps, timeout=60)["sessionId"]
        return self

    def _alive(self):
        if self.proc.poll() is not None:
            raise AssertionError("chromedriver exited with %s: %s" % (self.proc.returncode, self.tail()))
        return True

    def tail(self, n=3000):
        try:
            with open(self.log_path) as f:
                return f.read()[-n:]
        except OSError:
            return ""

    def call(self, method, path, body=None, timeout=20):
        data = json.dumps(body).encode() if body is not None else (b"{}" if method == "POST" else None)
        req = urllib.request.Request(self.base + path, data=data, method=method)
        req.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(req, timeout=timeout) as r:
                return json.loads(r.read().decode())["value"]
        except urllib.error.HTTPError as e:
            try:
                v = json.loads(e.read().decode())["value"]
                why = "%s: %s" % (v.get("error"), v.get("message", "")[:500])
            except Exception:
                why = str(e)
            raise WebDriverError("%s %s: %s" % (method, path, why))

    def s(self, path):
        return "/session/%s%s" % (self.sid, path)

    def open(self, url, new_window=True):
        """Load url, in a new window unless new_window is False; returns its handle."""
        if new_window:
            handle = self.call("POST", self.s("/window/new"), {"type": "window"})["handle"]
            self.switch(handle)
        self.call("POST", self.s("/url"), {"url": url}, timeout=30)
        return self.call("GET", self.s("/window"))

    def switch(self, handle):
        self.call("POST", self.s("/window"), {"handle": handle})

    def js(self, script, *args):
        return self.call("POST", self.s("/execute/sync"), {"script": script, "args": list(args)})

    def console(self):
        """The browser console lines since the last call (all windows)."""
        try:
            return ["%s %s" % (e.get("level"), e.get("message")) for e in
                    self.call("POST", self.s("/se/log"), {"type": "browser"})]
        except Exception as ex:
            return ["(no console log: %s)" % ex]

    def close_others(self, keep=None):
        """Close every window but one (a session needs one)."""
        handles = self.call("GET", self.s("/window/handles"))
        keep = keep or handles[0]
        for h in handles:
            if h != keep:
                self.switch(h)
                self.call("DELETE", self.s("/window"))
        self.switch(keep)
        self.call("POST", self.s("/url"), {"url": "about:blank"})

    def stop(self):
        if self.sid:
            try:
                self.call("DELETE", self.s(""), timeout=15)  # closes Chromium
            except Exception:
                pass
            self.sid = None
        if self.proc:
            kill_session(self.proc)
            self.proc = None
        if getattr(self, "log", None):
            self.log.close()


def kill_session(proc):
    """SIGKILL every process of proc's session (chromedriver, Chromium and
    its helpers), then proc itself."""
    out = subprocess.run(["ps", "-eo", "pid=,sid="], capture_output=True, text=True).stdout
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


# ---------------------------------------------------------------- cases

def page(srv, which, **q):
    q["ws"] = "ws://%s:%d/" % (srv.host, srv.sig_port)
    return "http://%s:%d/%s.html?%s" % (srv.host, srv.http_port, which, urllib.parse.urlencode(q))


STATE = "return window.lc ? JSON.parse(JSON.stringify(window.lc)) : null"
# frames the <video> element got, as a second witness of the page's own counter
VIDEO_FRAMES = ("const v = document.querySelector('video'); "
                "return v && v.getVideoPlaybackQuality ? v.getVideoPlaybackQuality().totalVideoFrames : -1")


def state(d, handle):
    d.switch(handle)
    return d.js(STATE) or {}


def stream_info(srv, name):
    for st in srv.rest("stream/find_all")["streams"]:
        if st["name"] == name:
            return st
    return None


def publish_and_play(d, srv, codec, play_srv=None):
    """Publisher page on srv, player page on play_srv (srv, or an edge of it)."""
    play_srv = play_srv or srv
    name = "cam-%s-%d%s" % (codec.lower(), PID, "" if play_srv is srv else "-cdn")
    pub = d.open(page(srv, "publisher", name=name, codec=codec, autostart=1))
    try:
        wait_for(lambda: state(d, pub).get("status") in ("PUBLISHING", "FAILED", "DISCONNECTED"), 10,
                 "publisher page to publish")
    except AssertionError:
        raise AssertionError("publisher page state: %s" % state(d, pub))
    st = state(d, pub)
    assert st["status"] == "PUBLISHING", "publisher page: %s" % st
    info = wait_for(lambda: (stream_info(srv, name) or {}).get("frames_in", 0) > 10 and stream_info(srv, name),
                    10, "stream %s with frames on the server" % name)
    assert info["video"] == codec, "published with %s, the server has %s" % (codec, info)

    if play_srv is not srv:  # the edge knows the stream (and its codec) from the origin
        wait_for(lambda: any(r["stream"] == name for r in play_srv.rest("cdn/show_routes")), 10,
                 "route of %s on the edge" % name)
        time.sleep(1.5)
    ply = d.open(page(play_srv, "player", name=name, autostart=1))
    opened = time.monotonic()

    def decoded():
        s = state(d, ply)
        if s.get("status") in ("FAILED", "STOPPED", "DISCONNECTED"):
            raise AssertionError("player page: %s" % s)
        return (s.get("stats") or {}).get("framesDecoded", 0) > FRAMES and s

    try:
        s = wait_for(decoded, FRAMES_WITHIN, "player to decode %d frames" % FRAMES, step=0.5)
    except AssertionError as ex:
        raise AssertionError("%s; player %s; publisher %s; server %s"
                             % (ex, state(d, ply), state(d, pub), stream_info(srv, name)))
    took = time.monotonic() - opened
    stats = s["stats"]
    assert stats["codec"].upper() == codec, "the player decodes %s, not %s: %s" % (stats["codec"], codec, stats)
    assert stats["width"] > 0 and stats["height"] > 0, stats
    # and it goes on: more frames, and Opus audio too
    more = wait_for(lambda: (state(d, ply).get("stats") or {}).get("framesDecoded", 0) > stats["framesDecoded"] + 25
                    and state(d, ply)["stats"], 6, "the player to keep decoding", step=0.5)
    assert more["audioCodec"].lower() == "opus" and more["audioPackets"] > 50, "no Opus audio: %s" % more
    d.switch(ply)
    shown = d.js(VIDEO_FRAMES)
    assert shown > 0, "the <video> element shows no frame (getVideoPlaybackQuality: %s)" % shown
    print("# %s: %d frames decoded %dx%d in %.1fs, then %d at %s kbit/s, %d Opus packets, video element %s frames"
          % (codec, stats["framesDecoded"], stats["width"], stats["height"], took, more["framesDecoded"],
             more["kbps"], more["audioPackets"], shown), flush=True)
    assert (stream_info(play_srv, name) or {}).get("players") == 1, stream_info(play_srv, name)

    # the publisher stops: the player is told why (SPEC 4)
    d.switch(pub)
    d.js("document.getElementById('stop').click()")
    wait_for(lambda: state(d, pub).get("status") == "UNPUBLISHED", 5, "publisher page UNPUBLISHED")
    end = wait_for(lambda: state(d, ply).get("status") in ("STOPPED", "FAILED") and state(d, ply), 5,
                   "player page to stop")
    assert end["status"] == "STOPPED" and end["info"] == "Stopped by publisher stop", end
    wait_for(lambda: stream_info(srv, name) is None, 5, "stream %s gone from the server" % name)
    d.close_others()


def rtmp_with_sound(d, srv, work):
    """The first thing a user tries: OBS (here ffmpeg) publishes H.264 + AAC, a browser plays it, with sound."""
    name = "obs-%d" % PID
    media = os.path.join(work, "tone.flv")
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-y", "-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25",
                    "-f", "lavfi", "-i", "sine=frequency=1000:sample_rate=44100", "-t", "10", "-c:v", "libx264",
                    "-profile:v", "baseline", "-preset", "ultrafast", "-g", "25", "-pix_fmt", "yuv420p", "-c:a", "aac",
                    "-ar", "44100", "-f", "flv", media], check=True, timeout=60)
    ff = subprocess.Popen(["ffmpeg", "-nostdin", "-v", "error", "-re", "-stream_loop", "-1", "-i", media, "-c", "copy",
                           "-f", "flv", "rtmp://%s:%d/live/%s" % (srv.host, srv.rtmp_port, name)],
                          stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        wait_for(lambda: (stream_info(srv, name) or {}).get("frames_in", 0) > 30, 10, "the RTMP stream on the server")
        ply = d.open(page(srv, "player", name=name, autostart=1))

        def playing():
            s = state(d, ply)
            if s.get("status") in ("FAILED", "STOPPED", "DISCONNECTED"):
                raise AssertionError("player page: %s" % s)
            st = s.get("stats") or {}
            return st.get("framesDecoded", 0) > FRAMES and st.get("audioSamples", 0) > 0 and st
        first = wait_for(playing, FRAMES_WITHIN, "video frames and audio samples in the player", step=0.5)
        assert first["codec"].upper() == "H264" and first["audioCodec"].lower() == "opus", first
        more = wait_for(lambda: (state(d, ply).get("stats") or {}).get("audioSamples", 0) > first["audioSamples"] + 48000
                        and state(d, ply)["stats"], 6, "the audio samples to grow by a second", step=0.5)
        assert more["audioLevel"] > 0.02, "the browser decodes silence: %s" % more  # the tone: ~0.09
        print("# RTMP to Chromium: %d frames, %d audio samples, level %.2f" % (more["framesDecoded"],
              more["audioSamples"], more["audioLevel"]), flush=True)
        d.close_others()
        # a browser without H.264 (Firefox without OpenH264): the page offers VP8 alone
        vp8 = d.open(page(srv, "player", name=name, codec="VP8", only=1, autostart=1))

        def vp8_playing():
            s = state(d, vp8)
            if s.get("status") in ("FAILED", "STOPPED", "DISCONNECTED"):
                raise AssertionError("VP8-only player page: %s" % s)
            st = s.get("stats") or {}
            return st.get("framesDecoded", 0) > FRAMES and st
        st = wait_for(vp8_playing, FRAMES_WITHIN, "the VP8-only player to decode", step=0.5)
        assert st["codec"].upper() == "VP8" and st["width"] == 320, st
        names = sorted(t["codec"] for t in srv.rest("transcoder/find_all")["transcoders"] if t["source"] == name)
        assert "vp8+opus" in names, names  # (the first player's ~opus may have ended: 5 s linger)
        print("# RTMP H.264 to a VP8-only Chromium: %d frames %dx%d" % (st["framesDecoded"], st["width"],
                                                                    st["height"]), flush=True)
        d.close_others()
        # a G.722 player (as a SIP gateway's): the AAC comes as G.722, and sounds
        g722 = d.open(page(srv, "player", name=name, audio="G722", only=1, autostart=1))

        def g722_playing():
            s = state(d, g722)
            if s.get("status") in ("FAILED", "STOPPED", "DISCONNECTED"):
                raise AssertionError("G.722 player page: %s" % s)
            st = s.get("stats") or {}
            return st.get("audioSamples", 0) > 16000 and st
        st = wait_for(g722_playing, FRAMES_WITHIN, "the G.722 player to decode audio", step=0.5)
        assert st["audioCodec"].upper() == "G722", st
        st = wait_for(lambda: (state(d, g722).get("stats") or {}).get("audioLevel", 0) > 0.02 and state(d, g722)["stats"],
                      6, "the G.722 player's audio level", step=0.5)
        print("# RTMP AAC to a G.722-only Chromium: %d samples, level %.2f" % (st["audioSamples"], st["audioLevel"]),
              flush=True)
        d.close_others()
    finally:
        ff.terminate()
        ff.wait(5)


def unknown_stream(d, srv):
    ply = d.open(page(srv, "player", name="nosuch-%d" % PID, autostart=1), new_window=False)
    s = wait_for(lambda: state(d, ply).get("status") in ("FAILED", "PLAYING") and state(d, ply), 10,
                 "player page of a missing stream to fail")
    assert s["status"] == "FAILED" and s["info"] == "Stream not found", s
    d.close_others()


def main():
    missing = [what for what, ok in (("chromium-driver", shutil.which("chromedriver")),
                                     ("chromium", os.access(CHROMIUM, os.X_OK))) if not ok]
    why = None
    if missing:
        why = "%s not installed" % " and ".join(missing)
    elif os.geteuid() != 0 or not netns_usable():
        why = "no network namespaces (needs root and iproute2)"
    if why:
        for name, _ in CASES:
            print("ok - %s # skipped: %s" % (name, why), flush=True)
        print("ok - %s # skipped: %s" % (NEGATIVE, why), flush=True)
        print("ok - %s # skipped: %s" % (FROM_RTMP, why), flush=True)
        print("ok - %s # skipped: %s" % (THROUGH_CDN, why), flush=True)
        return

    net = Net()
    work = tempfile.mkdtemp(prefix="lc-browser-")
    driver = None
    try:
        net.setup()
        print("# namespace %s, server and browser on %s, host end %s" % (net.ns, net.ip, net.host_ip), flush=True)
        with Tests() as t:
            # an origin and, for the CDN case, an edge in the same namespace
            cdn = 'cdn: { enabled = true; role = "%s"; ip = "%s"; port = %d; keepalive_interval = 1; %s };'
            srv = t.server(workers=2, name="lc-browser", host=net.ip, netns=net.ns,
                           http_extra='allow = ["127.0.0.1", "%s"];' % net.host_ip,
                           extra='webrtc: { public_ip = "%s"; udp_ports = "31000-31499"; }; %s'
                                 % (net.ip, cdn % ("origin", net.ip, 8084, "")))
            edge = t.server(workers=2, name="lc-browser-edge", host=net.ip, netns=net.ns,
                            http_extra='allow = ["127.0.0.1", "%s"];' % net.host_ip,
                            extra='webrtc: { public_ip = "%s"; udp_ports = "32000-32499"; }; %s'
                                  % (net.ip, cdn % ("edge", net.ip, 8094, 'point_of_entry = "%s:8084";' % net.ip)))
            # the pages under test, in place of the harness's stub root
            for node in (srv, edge):
                for f in os.listdir(os.path.join(ROOT, "html")):
                    shutil.copy(os.path.join(ROOT, "html", f), os.path.join(node.dir, "html", f))
            srv.start()
            edge.start()
            driver = Driver(net, work)
            t.case("Chromium starts under chromedriver in the namespace", driver.start,
                   "http://%s:%d" % (srv.host, srv.http_port))
            if not driver.sid:
                return
            for name, codec in CASES:
                failed = t.failed
                t.case(name, publish_and_play, driver, srv, codec)
                if t.failed > failed:
                    print("# ---- browser console:\n# " + "\n# ".join(driver.console()[-60:]), flush=True)
                    driver.close_others()
            t.case(NEGATIVE, unknown_stream, driver, srv)
            t.case(FROM_RTMP, rtmp_with_sound, driver, srv, work)
            t.case(THROUGH_CDN, publish_and_play, driver, srv, "VP8", edge)
            if t.failed:
                print("# ---- end of the chromedriver log:\n%s" % driver.tail(), flush=True)
    finally:
        if driver:
            driver.stop()
        net.cleanup()
        shutil.rmtree(work, ignore_errors=True)


def on_term(signum, frame):
    raise SystemExit(1)


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, on_term)
    started = time.monotonic()
    try:
        main()
    finally:
        print("# test_browser ran %.0fs" % (time.monotonic() - started), flush=True)
