"""Pushes to an external RTMP CDN (SPEC 5, 7, 8): a real nginx with
libnginx-mod-rtmp, started by this file, is the CDN. REST push/startup of a
stream (transcoding false): nginx serves it as h264 + aac and ffmpeg hears
its tone; push/find_all and `livecdnctl show pushes` report it; the same
URL twice is refused; a URL nginx refuses (someone already publishes
there) is FAILED PUBLISH_REFUSED with nginx's words; nginx killed and
started again: RECONNECTING, then STARTED, and it plays again; a WebRTC
VP8 + Opus stream is pushed as h264 + aac (a derived stream, made once);
push/terminate and the source's end stop a push; bad requests are refused
naming the field."""
import asyncio
import os
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from lcserver import Tests, free_port, wait_for  # noqa: E402
from procs import PROCS, kill_all, spawn, stop_proc  # noqa: E402
from media_check import rtmp_listen, stage, tone_ok, transcoders  # noqa: E402
from rtc_client import Publisher  # noqa: E402

WORK = tempfile.mkdtemp(prefix="lc-push-")
MEDIA = os.path.join(WORK, "tone.flv")
NGINX_MODULE = "/usr/lib/nginx/modules/ngx_rtmp_module.so"


class Nginx:
    """nginx-rtmp on 127.0.0.1:port from a prefix of its own, one process; stopped by PID."""

    def __init__(self):
        self.port = free_port()
        self.dir = tempfile.mkdtemp(prefix="lc-nginx-")
        self.proc = None
        with open(os.path.join(self.dir, "nginx.conf"), "w") as f:
            f.write("load_module %s;\ndaemon off;\nmaster_process off;\npid %s/nginx.pid;\n"
                    "error_log %s/error.log warn;\nevents { worker_connections 1024; }\n"
                    "rtmp { server { listen 127.0.0.1:%d; chunk_size 4096;\n"
                    "  application live { live on; record off; } } }\n"
                    % (NGINX_MODULE, self.dir, self.dir, self.port))

    def start(self):
        self.proc = subprocess.Popen(["nginx", "-p", self.dir, "-c", os.path.join(self.dir, "nginx.conf"),
                                      "-e", os.path.join(self.dir, "error.log")],
                                     stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        PROCS.append(self.proc)
        import socket

        def listening():
            try:
                socket.create_connection(("127.0.0.1", self.port), 0.5).close()
                return True
            except OSError:
                return False
        wait_for(listening, 10, "nginx-rtmp listening")
        return self

    def kill(self):
        """One process (master_process off): killing it closes every connection at once."""
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)

    def url(self, key):
        return "rtmp://127.0.0.1:%d/live/%s" % (self.port, key)


def make_media():
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-y", "-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25",
                    "-f", "lavfi", "-i", "sine=frequency=1000:sample_rate=44100", "-t", "10", "-c:v", "libx264",
                    "-profile:v", "baseline", "-preset", "ultrafast", "-g", "25", "-pix_fmt", "yuv420p", "-c:a", "aac",
                    "-ar", "44100", "-f", "flv", MEDIA], check=True, timeout=120)




def publish(url):
    return spawn(["ffmpeg", "-nostdin", "-v", "error", "-re", "-stream_loop", "-1", "-i", MEDIA, "-c", "copy",
                  "-f", "flv", url])


def lc_url(s, name):
    return "rtmp://127.0.0.1:%d/live/%s" % (s.rtmp_port, name)


def pushes(s):
    return {p["url"]: p for p in s.rest("push/find_all")["pushes"]}


def push_is(s, url, status, timeout=15):
    return wait_for(lambda: pushes(s).get(url, {}).get("status") == status and pushes(s)[url], timeout,
                    "push to %s %s (now %s)" % (url, status, pushes(s).get(url)))


def wait_live(s, name, frames=30):
    def live():
        for st in s.rest("stream/find_all")["streams"]:
            if st["name"] == name and st["frames_in"] > frames:
                return st
        return None
    return wait_for(live, 15, "stream %s live" % name)


def probe(url):
    r = subprocess.run(["ffprobe", "-v", "error", "-rw_timeout", "8000000", "-read_intervals", "%+2",
                        "-show_entries", "stream=codec_name", "-of", "csv=p=0", url],
                       capture_output=True, text=True, timeout=30)
    return sorted(set(r.stdout.split())), r.stderr


def push_plays(s, n):
    src = publish(lc_url(s, "cam"))
    try:
        wait_live(s, "cam")
        url = n.url("out")
        with stage("push/startup of cam to nginx-rtmp: STARTED"):
            r = s.rest("push/startup", {"streamName": "cam", "url": url})
            assert r["status"] == "PENDING", r
            push_is(s, url, "STARTED")
        with stage("nginx serves h264 + aac; ffmpeg decodes the video and hears 1 kHz"):
            codecs, err = probe(url)
            assert codecs == ["aac", "h264"], (codecs, err)
            frames, pcm, err = rtmp_listen(url, 4, WORK)
            assert frames >= 50, (frames, err)
            ok, hz = tone_ok(pcm, 1000)
            assert ok, hz
        with stage("push/find_all: bytes grow; livecdnctl show pushes lists it"):
            b0 = pushes(s)[url]["bytes"]
            time.sleep(1)
            p = pushes(s)[url]
            assert p["bytes"] > b0 and p["stream"] == "cam" and p["reconnects"] == 0, p
            out = s.ctl("show", "pushes").stdout
            assert url in out and "STARTED" in out, out
            metrics = s.get("/metrics")[1]
            assert 'livecdn_pushes{status="STARTED"} 1' in metrics, metrics[-1500:]
            assert 'livecdn_push_bytes_total{url="%s",stream="cam"}' % url in metrics, metrics[-1500:]
        with stage("the same url again is refused (409)"):
            code, err = s.rest_error("push/startup", {"streamName": "cam", "url": url})
            assert code == 409, (code, err)
        with stage("push/terminate: STOPPED, and nginx has the stream no more"):
            assert s.rest("push/terminate", {"url": url})["result"] == "ok"
            p = push_is(s, url, "STOPPED", 5)
            assert "control API" in p["info"], p
            wait_for(lambda: probe(url)[0] == [], 10, "nginx without the stream")
        with stage("pushed again, then the source stops: STOPPED, Stopped by publisher stop"):
            s.rest("push/startup", {"streamName": "cam", "url": url})
            push_is(s, url, "STARTED")
            stop_proc(src)
            p = push_is(s, url, "STOPPED", 10)
            assert p["info"] == "Stopped by publisher stop", p
    finally:
        stop_proc(src)


def push_refused_and_reconnects(s, n):
    src = publish(lc_url(s, "cam2"))
    squatter = publish(n.url("taken"))
    try:
        wait_live(s, "cam2")
        wait_for(lambda: probe(n.url("taken"))[0], 10, "someone publishing on nginx's live/taken")
        with stage("a key nginx refuses (already publishing): FAILED, PUBLISH_REFUSED, nginx's words"):
            s.rest("push/startup", {"streamName": "cam2", "url": n.url("taken")})
            p = push_is(s, n.url("taken"), "FAILED")
            assert p["code"] == "PUBLISH_REFUSED" and "BadName" in p["info"], p
        url = n.url("again")
        with stage("a push runs; nginx killed: RECONNECTING, CONNECTION_LOST"):
            s.rest("push/startup", {"streamName": "cam2", "url": url})
            push_is(s, url, "STARTED")
            stop_proc(squatter)
            n.kill()
            p = push_is(s, url, "RECONNECTING", 10)
            assert p["code"] == "CONNECTION_LOST", p
        with stage("nginx back on its port: STARTED again, reconnects counted, it plays from a keyframe"):
            n.start()
            p = push_is(s, url, "STARTED", 20)
            assert p["reconnects"] >= 1, p
            frames, pcm, err = rtmp_listen(url, 3, WORK)
            assert frames >= 40, (frames, err)
    finally:
        stop_proc(squatter)
        stop_proc(src)
        try:
            s.rest("push/terminate", {"url": n.url("again")})
        except Exception:
            pass


def push_webrtc(s, n):
    async def go():
        pub = Publisher("ws://127.0.0.1:%d/" % s.sig_port, "rtc", video="VP8")
        try:
            assert (await pub.start())["status"] == "PUBLISHING"
            await pub.wait_connected()
            loop = asyncio.get_running_loop()
            await loop.run_in_executor(None, lambda: wait_live(s, "rtc", 20))
            url = n.url("rtc")
            with stage("a VP8 + Opus stream is pushed: nginx serves h264 + aac, one transcoder made it"):
                s.rest("push/startup", {"streamName": "rtc", "url": url})
                await loop.run_in_executor(None, lambda: push_is(s, url, "STARTED"))
                codecs, err = await loop.run_in_executor(None, lambda: probe(url))
                assert codecs == ["aac", "h264"], (codecs, err)
                frames, pcm, err = await loop.run_in_executor(None, lambda: rtmp_listen(url, 4, WORK))
                ok, hz = tone_ok(pcm, 440)
                assert frames >= 50 and ok, (frames, hz, err)
                assert [t["codec"] for t in transcoders(s, "rtc")] == ["h264+aac"], transcoders(s)
                s.rest("push/terminate", {"url": url})
        finally:
            await pub.stop()
    asyncio.run(asyncio.wait_for(go(), 60))


def bad_requests(s, n):
    cases = [({"streamName": "cam"}, "url"), ({"url": "http://x/live/k", "streamName": "cam"}, "rtmp"),
             ({"url": "rtmp://127.0.0.1/live", "streamName": "cam"}, "stream key"),
             ({"url": n.url("x")}, "streamName"), ({"url": n.url("x"), "streamName": 5}, "streamName"),
             ({"url": n.url("x"), "channel": "c1"}, "TRANSCODING_NOT_SUPPORTED"),
             ({"url": n.url("x"), "streamName": "cam", "transcoding": "yes"}, "transcoding")]
    for body, word in cases:
        code, err = s.rest_error("push/startup", body)
        assert code == 400 and word in err["error"], (body, code, err)
    code, err = s.rest_error("push/terminate", {"url": n.url("nothing")})
    assert code == 404, (code, err)
    with stage("a push of a stream nobody publishes: FAILED, STREAM_NOT_FOUND"):
        s.rest("push/startup", {"streamName": "nobody", "url": n.url("nobody")})
        p = push_is(s, n.url("nobody"), "FAILED", 5)
        assert p["code"] == "STREAM_NOT_FOUND", p


try:
    make_media()
    with Tests() as t:
        if not os.path.exists(NGINX_MODULE):
            print("ok - pushes to nginx-rtmp # skipped: libnginx-mod-rtmp not installed", flush=True)
            sys.exit(0)
        n = Nginx().start()
        s = t.server(workers=2, extra="push: { reconnect_timeout = 30; };")
        s.start()
        t.case("push/startup to nginx-rtmp: h264 + aac with the tone, find_all, show pushes, 409, terminate, "
               "source stop", push_plays, s, n)
        t.case("a refused key is FAILED PUBLISH_REFUSED; nginx killed and back: RECONNECTING then STARTED",
               push_refused_and_reconnects, s, n)
        t.case("a WebRTC VP8 + Opus stream is pushed as h264 + aac through one transcoder", push_webrtc, s, n)
        t.case("bad push requests are refused naming the field; an unknown stream is STREAM_NOT_FOUND",
               bad_requests, s, n)
finally:
    kill_all()
    try:
        n.kill()
    except Exception:
        pass
