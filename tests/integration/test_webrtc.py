"""WebRTC publish and play over WebSocket signaling (SPEC section 4) with
real aiortc peers (tests/lib/rtc_client.py): VP8 and H.264 with Opus,
players on both workers, a late joiner, WebRTC to RTMP and RTMP to WebRTC,
signaling failures, packet loss through a lossy UDP proxy (NACK
retransmission) and malformed input on the workers' UDP ports."""
import asyncio
import hashlib
import hmac
import json
import os
import random
import re
import select
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import zlib

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from lcserver import Tests, wait_for  # noqa: E402
from procs import Stopped, worker_pid_of_udp_port  # noqa: E402
from rtc_client import Player, Publisher, Signaling, candidates, new_pc, wait_ice  # noqa: E402

WORK = tempfile.mkdtemp(prefix="lc-webrtc-media-")
MEDIA = os.path.join(WORK, "src.flv")
PROCS = []
LOOP = asyncio.new_event_loop()
asyncio.set_event_loop(LOOP)


def run(coro, timeout=60):
    """Run one case's coroutine on the file's event loop, bounded in time."""
    return LOOP.run_until_complete(asyncio.wait_for(coro, timeout))


def spawn(args):
    p = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    PROCS.append(p)
    return p


def finish(p, timeout=30):
    try:
        out, err = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        p.kill()
        out, err = p.communicate()
        raise AssertionError("%s did not end in %ds: %s" % (p.args[0], timeout, err[-2000:]))
    return p.returncode, out, err


def stop_proc(p):
    if p.poll() is None:
        p.terminate()
        try:
            p.wait(5)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


def make_media():
    # 320x240 25 fps H.264 baseline (GOP 1 s) + 48 kHz AAC, 12 s, encoded once
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-y", "-f", "lavfi", "-i",
                    "testsrc2=size=320x240:rate=25", "-f", "lavfi", "-i", "sine=frequency=1000:sample_rate=48000",
                    "-t", "12", "-c:v", "libx264", "-profile:v", "baseline", "-preset", "ultrafast", "-g", "25",
                    "-pix_fmt", "yuv420p", "-c:a", "aac", "-b:a", "64k", "-f", "flv", MEDIA], check=True, timeout=120)


def stream_info(s, name):
    for st in s.rest("stream/find_all")["streams"]:
        if st["name"] == name:
            return st
    return None


def ws_url(s):
    return "ws://127.0.0.1:%d/" % s.sig_port


async def stop_all(*peers):
    for p in peers:
        if p is None:
            continue
        try:
            await asyncio.wait_for(p.stop(), 5)
        except Exception:
            pass


async def counts_over(players, seconds):
    """Video frames and audio samples each player decoded during `seconds`."""
    v0 = [p.video_frames for p in players]
    a0 = [p.audio_samples for p in players]
    await asyncio.sleep(seconds)
    return [p.video_frames - v for p, v in zip(players, v0)], [p.audio_samples - a for p, a in zip(players, a0)]


async def start_publisher(s, name, video="VP8"):
    pub = Publisher(ws_url(s), name, video=video)
    ev = await pub.start()
    assert ev["status"] == "PUBLISHING", ev
    await pub.wait_connected()
    await asyncio.get_running_loop().run_in_executor(
        None, lambda: wait_for(lambda: (stream_info(s, name) or {}).get("frames_in", 0) > 20, 10,
                               "stream %s live" % name))
    return pub


def worker_port(player):
    return candidates(player.event["sdp"])[0][1]


# ---------------------------------------------------------------- 1, 2: VP8 + Opus to players on both workers

SHARED = {}


async def vp8_players_on_two_workers(s):
    pub = await start_publisher(s, "cam")
    SHARED["pub"] = pub
    st = stream_info(s, "cam")
    assert st["video"] == "VP8" and st["audio"] == "opus" and st["publisher"].startswith("webrtc "), st
    players = []
    try:
        # each worker answers with its own UDP port; the second player is opened while the first's worker
        # is stopped, so the other worker takes it (left to the kernel, 8 in a row once landed on one)
        for i in range(2):
            p = Player(ws_url(s), "cam")
            players.append(p)
            if i:
                with Stopped(worker_pid_of_udp_port(s, worker_port(players[0]))):
                    ev = await p.start("v%d" % i)
            else:
                ev = await p.start("v%d" % i)
            assert ev["status"] == "PLAYING", ev
            assert candidates(ev["sdp"]) and candidates(ev["sdp"])[0][0] == "127.0.0.1", ev["sdp"]
        assert worker_port(players[0]) != worker_port(players[1]), "both players on port %d" % worker_port(p)
        two = players
        SHARED["players"] = two

        def per_worker():
            st = stream_info(s, "cam")
            return st["players"] == 2 and len(st["players_per_worker"]) == 2 and st
        st = await asyncio.get_running_loop().run_in_executor(None, lambda: wait_for(per_worker, 10, "2 workers"))
        assert {w["players"] for w in st["players_per_worker"]} == {1}, st
        for p in two:
            await p.wait_frames(1, 5)
        frames, samples = await counts_over(two, 3)
        for p, f, a in zip(two, frames, samples):
            assert f > 40, "player on port %d decoded %d frames in 3 s" % (worker_port(p), f)
            assert p.sizes == {(320, 240)}, p.sizes
            assert p.audio_rates == {48000}, p.audio_rates
            assert a > 48000 * 3 * 0.6, "player on port %d: %d audio samples in 3 s" % (worker_port(p), a)
            assert p.pc.connectionState == "connected"
        frames, samples = await counts_over(two, 2)
        assert min(frames) > 30 and min(samples) > 48000, "frame counts stopped growing: %s %s" % (frames, samples)
    except BaseException:
        await stop_all(*players)
        SHARED.pop("players", None)
        raise


async def late_player_first_frame(s):
    if "pub" not in SHARED or SHARED["pub"].pc.connectionState != "connected":
        SHARED["pub"] = await start_publisher(s, "cam")
    await asyncio.sleep(1.3)  # mid-GOP, whatever the publisher's keyframe interval
    p = Player(ws_url(s), "cam")
    try:
        ev = await p.start("late")
        assert ev["status"] == "PLAYING", ev
        await p.wait_frames(1, 5)
        took = p.first_video_at - p.answered_at
        assert took < 1.0, "first decoded frame %.2f s after the PLAYING answer" % took
        await p.wait_frames(20, 5)
        assert p.sizes == {(320, 240)}, p.sizes
        # the earlier players still grow
        others = SHARED.get("players", [])
        if others:
            frames, _ = await counts_over(others, 1)
            assert min(frames) > 10, frames
    finally:
        await stop_all(p, *SHARED.pop("players", []), SHARED.pop("pub", None))


# ---------------------------------------------------------------- 3: H.264 WebRTC publish, WebRTC and RTMP players

async def h264_webrtc_and_rtmp(s):
    pub = p = None
    try:
        pub = await start_publisher(s, "h264cam", video="H264")
        st = stream_info(s, "h264cam")
        assert st["video"] == "H264" and st["audio"] == "opus", st
        probe = spawn(["ffprobe", "-v", "error", "-rw_timeout", "8000000", "-read_intervals", "%+3", "-count_frames",
                       "-select_streams", "v", "-show_streams", "-of", "json",
                       "rtmp://127.0.0.1:%d/live/h264cam" % s.rtmp_port])
        p = Player(ws_url(s), "h264cam")
        ev = await p.start()
        assert ev["status"] == "PLAYING", ev
        assert "H264" in p.codecs and "VP8" not in p.codecs, p.codecs
        await p.wait_frames(1, 5)
        frames, samples = await counts_over([p], 3)
        assert frames[0] > 40 and samples[0] > 0, (frames, samples)
        assert p.sizes == {(320, 240)}, p.sizes
        rc, out, err = await asyncio.get_running_loop().run_in_executor(None, lambda: finish(probe, 30))
        assert rc == 0, err
        streams = json.loads(out)["streams"]
        assert len(streams) == 1, streams
        v = streams[0]
        assert v["codec_name"] == "h264" and (v["width"], v["height"]) == (320, 240), v
        assert int(v["nb_read_frames"]) > 25, v
    finally:
        await stop_all(p, pub)


# ---------------------------------------------------------------- 4: RTMP H.264 + AAC to WebRTC players

def rtmp_publish(s, name):
    return spawn(["ffmpeg", "-nostdin", "-v", "error", "-re", "-stream_loop", "-1", "-i", MEDIA, "-c", "copy",
                  "-f", "flv", "rtmp://127.0.0.1:%d/live/%s" % (s.rtmp_port, name)])


def wait_rtmp_stream(s, name):
    return wait_for(lambda: (stream_info(s, name) or {}).get("frames_in", 0) > 30 and stream_info(s, name),
                    15, "stream %s live" % name)


async def rtmp_to_webrtc(s, audio):
    name = "rtmpcam%d" % audio
    ff = rtmp_publish(s, name)
    p = None
    try:
        st = await asyncio.get_running_loop().run_in_executor(None, lambda: wait_rtmp_stream(s, name))
        assert st["video"] == "H264" and st["audio"] == "AAC", st
        p = Player(ws_url(s), name, video=True, audio=audio)
        ev = await p.start()
        assert ev["status"] == "PLAYING", ev
        if audio:
            assert "OPUS" in p.codecs and not ev.get("info"), ev  # AAC comes as Opus (test_transcode.py)
        assert "H264" in p.codecs, p.codecs
        await p.wait_frames(1, 5)
        frames, _ = await counts_over([p], 3)
        assert frames[0] > 40, frames
        assert p.sizes == {(320, 240)}, p.sizes
        if audio:
            assert p.audio_samples > 48000, p.audio_samples
        else:
            assert p.audio_samples == 0
    finally:
        await stop_all(p)
        stop_proc(ff)


async def extra_sections(s):
    """A player offering more sections than the stream has (a second video): the
    server rejects the extra one (port 0) in an answer aiortc can apply."""
    pub = p = None
    try:
        pub = await start_publisher(s, "extra")
        p = Player(ws_url(s), "extra", kinds=["video", "audio", "video"])
        ev = await p.start()
        assert ev["status"] == "PLAYING", ev
        sections = ev["sdp"].split("\r\nm=")[1:]
        assert len(sections) == 3 and sections[2].startswith("video 0 "), ev["sdp"]
        await p.wait_frames(1, 5)
        frames, samples = await counts_over([p], 2)
        assert frames[0] > 25 and samples[0] > 0 and p.sizes == {(320, 240)}, (frames, samples, p.sizes)
    finally:
        await stop_all(p, pub)


# ---------------------------------------------------------------- 5: stop and failures

def replace_codecs(sdp, kind, rtpmap):
    """Keep the offer's `kind` m= section but offer only payload type 100 = rtpmap."""
    out, section = [], None
    for line in sdp.split("\r\n"):
        if line.startswith("m="):
            section = line[2:].split(" ")[0]
            if section == kind:
                parts = line.split(" ")
                line = " ".join(parts[:3] + ["100"])
                out.append(line)
                continue
        if section == kind and re.match(r"a=(rtpmap|fmtp|rtcp-fb):", line):
            if line.startswith("a=rtpmap:"):
                out.append("a=rtpmap:100 " + rtpmap)
            continue
        out.append(line)
    return "\r\n".join(out)


async def offer_sdp(video=True, audio=True):
    pc = new_pc()
    try:
        if video:
            pc.addTransceiver("video", direction="sendonly")
        if audio:
            pc.addTransceiver("audio", direction="sendonly")
        await pc.setLocalDescription(await pc.createOffer())
        await wait_ice(pc)
        return pc.localDescription.sdp
    finally:
        await pc.close()


async def stop_and_failures(s):
    pub = players = sig = None
    try:
        pub = await start_publisher(s, "stopme")
        players = [Player(ws_url(s), "stopme") for _ in range(3)]
        for i, p in enumerate(players):
            ev = await p.start("s%d" % i)
            assert ev["status"] == "PLAYING", ev
        for p in players:
            await p.wait_frames(5, 5)

        # a player stops itself
        ev = await players[2].sig.request({"method": "stopStream", "id": "s2"})
        assert ev["status"] == "STOPPED" and ev["id"] == "s2", ev

        # a second publisher of the live name
        sig = await Signaling(ws_url(s)).open()
        offer = await offer_sdp()
        ev = await sig.request({"method": "publishStream", "id": "dup", "name": "stopme", "sdp": offer})
        assert ev["status"] == "FAILED" and ev["info"] == "Stream name in use", ev
        assert stream_info(s, "stopme")["frames_in"] > 0

        # missing stream
        ev = await sig.request({"method": "playStream", "id": "miss", "name": "nosuchstream",
                                "sdp": await offer_sdp()})
        assert ev["status"] == "FAILED" and ev["info"] == "Stream not found", ev

        # only unsupported codecs: H.265 video, PCMU audio
        bad = replace_codecs(replace_codecs(offer, "video", "H265/90000"), "audio", "PCMU/8000")
        assert "VP8" not in bad and "opus" not in bad and "H265" in bad, bad
        ev = await sig.request({"method": "publishStream", "id": "codec", "name": "codecs", "sdp": bad})
        assert ev["status"] == "FAILED" and ev["info"].startswith("Codec not supported"), ev
        # H.265 video only
        bad = replace_codecs(await offer_sdp(audio=False), "video", "H265/90000")
        ev = await sig.request({"method": "publishStream", "id": "codec2", "name": "codecs", "sdp": bad})
        assert ev["status"] == "FAILED" and ev["info"].startswith("Codec not supported"), ev

        # garbage SDP
        for i, garbage in enumerate(["hello world", "v=0\r\nm=video\r\n", "", "\x7f\x01\x02\u00e9\u20ac\ufffd" * 50,
                                     "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\nm=video 9 UDP/TLS/RTP/SAVPF\r\n"]):
            ev = await sig.request({"method": "publishStream", "id": "g%d" % i, "name": "garbage%d" % i,
                                    "sdp": garbage})
            assert ev["status"] == "FAILED" and ev["info"].startswith("Bad SDP"), (garbage, ev)
        assert stream_info(s, "garbage0") is None and stream_info(s, "codecs") is None

        # the publisher stops: the remaining players are told
        stopped_at = time.monotonic()
        ev = await pub.sig.request({"method": "stopStream", "id": pub.sid})
        assert ev["status"] == "UNPUBLISHED", ev
        for p in players[:2]:
            ev = await p.sig.next_stream_event(5)
            assert ev["status"] == "STOPPED" and ev["info"] == "Stopped by publisher stop" and ev["id"] == p.sid, ev
        assert time.monotonic() - stopped_at < 5
        await asyncio.get_running_loop().run_in_executor(
            None, lambda: wait_for(lambda: stream_info(s, "stopme") is None, 5, "stream gone"))
        # the name is free again; this time the publisher just goes away (WebSocket and peer closed)
        await stop_all(pub, *players)
        pub = await start_publisher(s, "stopme")
        players = [Player(ws_url(s), "stopme")]
        ev = await players[0].start("after")
        assert ev["status"] == "PLAYING", ev
        await players[0].wait_frames(5, 5)
        stopped_at = time.monotonic()
        await pub.stop()
        ev = await players[0].sig.next_stream_event(5)
        assert ev["status"] == "STOPPED" and ev["info"] == "Stopped by publisher stop", ev
        assert time.monotonic() - stopped_at < 5
    finally:
        await stop_all(pub, sig, *(players or []))


# ---------------------------------------------------------------- 6: loss

class LossyProxy:
    """UDP proxy 127.0.0.1:port <-> server: STUN/DTLS/RTCP pass untouched,
    server-to-client RTP of payload type `drop_pt` is dropped with
    probability `loss`. Counts the (ssrc, seq) pairs seen twice going to the
    client (RTP headers are in clear under SRTP)."""

    def __init__(self, server_addr, loss, drop_pt, seed=7, to_server=False):
        self.server_addr = server_addr
        self.loss, self.drop_pt = loss, drop_pt
        self.to_server = to_server  # drop the client's (a publisher's) RTP instead
        self.from_client = 0
        self.rnd = random.Random(seed)
        self.front = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.front.bind(("127.0.0.1", 0))
        self.back = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.back.bind(("127.0.0.1", 0))
        self.port = self.front.getsockname()[1]
        self.client = None
        self.seen = set()
        self.dropped = set()
        self.duplicates = 0
        self.resent_dropped = 0
        self.rtp_to_client = 0
        self.stun = self.dtls = 0
        self.quit = False
        self.thread = threading.Thread(target=self.loop, daemon=True)
        self.thread.start()

    def loop(self):
        while not self.quit:
            r, _, _ = select.select([self.front, self.back], [], [], 0.1)
            for sock in r:
                data, addr = sock.recvfrom(65536)
                if sock is self.front:
                    self.client = addr
                    if self.to_server and len(data) >= 12 and 128 <= data[0] <= 191 and not 200 <= data[1] <= 206:
                        self.from_client += 1
                        seq, ssrc = struct.unpack("!H", data[2:4])[0], struct.unpack("!I", data[8:12])[0]
                        if (data[1] & 0x7f) == self.drop_pt and self.rnd.random() < self.loss:
                            self.dropped.add((ssrc, seq))
                            continue
                    self.back.sendto(data, self.server_addr)
                    continue
                if self.client is None:
                    continue
                b0 = data[0]
                if b0 < 2:
                    self.stun += 1
                elif 20 <= b0 <= 63:
                    self.dtls += 1
                elif 128 <= b0 <= 191 and len(data) >= 12 and not 200 <= data[1] <= 206:
                    pt = data[1] & 0x7f
                    seq, ssrc = struct.unpack("!H", data[2:4])[0], struct.unpack("!I", data[8:12])[0]
                    key = (ssrc, seq)
                    if pt == self.drop_pt:
                        self.rtp_to_client += 1
                        if key in self.seen:
                            self.duplicates += 1
                            if key in self.dropped:
                                self.resent_dropped += 1
                        self.seen.add(key)
                        if self.rnd.random() < self.loss and key not in self.dropped:
                            self.dropped.add(key)  # a retransmission of it passes
                            continue
                self.front.sendto(data, self.client)

    def close(self):
        self.quit = True
        self.thread.join(2)
        self.front.close()
        self.back.close()


def via_proxy(sdp, proxy_port):
    # the proxy is the only way: the candidate of this machine's LAN address goes
    sdp = re.sub(r"^a=candidate:\S+ \d+ (?:udp|UDP) \d+ (?!127\.0\.0\.1 )\S+ \d+ .*\r?\n", "", sdp, flags=re.M)
    return re.sub(r"(a=candidate:\S+ \d+ (?:udp|UDP) \d+ )127\.0\.0\.1 \d+", r"\g<1>127.0.0.1 %d" % proxy_port, sdp)


async def loss_recovered(s):
    pub = p = proxy = None
    try:
        pub = await start_publisher(s, "lossy")
        state = {}

        def hook(sdp):
            (ip, port), = {c for c in candidates(sdp) if c[0] == "127.0.0.1"}
            pt = int(re.search(r"^m=video \d+ \S+ (\d+)", sdp, re.M).group(1))
            state["proxy"] = LossyProxy((ip, port), 0.05, pt)
            return via_proxy(sdp, state["proxy"].port)
        p = Player(ws_url(s), "lossy", answer_hook=hook)
        ev = await p.start()
        proxy = state["proxy"]
        assert ev["status"] == "PLAYING", ev
        await p.wait_frames(1, 5)
        assert proxy.client is not None and proxy.stun > 0 and proxy.dtls > 0
        frames, samples = await counts_over([p], 6)
        print("# loss: %d video packets to the player, %d dropped, %d duplicates, %d dropped ones resent, "
              "%d frames in 6 s" % (proxy.rtp_to_client, len(proxy.dropped), proxy.duplicates, proxy.resent_dropped,
                                    frames[0]), flush=True)
        assert len(proxy.dropped) >= 5, "the proxy dropped only %d of %d packets" % (
            len(proxy.dropped), proxy.rtp_to_client)
        assert proxy.resent_dropped > len(proxy.dropped) // 2, \
            "the server resent %d of %d dropped video packets (%d duplicates in %d)" % (
                proxy.resent_dropped, len(proxy.dropped), proxy.duplicates, proxy.rtp_to_client)
        assert proxy.duplicates <= 3 * len(proxy.dropped) + 5, "the server resent too much"
        assert frames[0] > 6 * 25 * 0.8, "decoded %d frames in 6 s through 5%% loss (dropped %d, resent %d)" % (
            frames[0], len(proxy.dropped), proxy.resent_dropped)
        assert samples[0] > 0 and p.sizes == {(320, 240)}
    finally:
        await stop_all(p, pub)
        if proxy:
            proxy.close()


async def publisher_loss_recovered(s):
    """5% of the publisher's video lost on the way in: the server NACKs,
    the retransmissions fill the gaps in order, and players decode on."""
    pub = p = proxy = None
    try:
        state = {}

        def hook(sdp):
            (ip, port), = {c for c in candidates(sdp) if c[0] == "127.0.0.1"}
            pt = int(re.search(r"^m=video \d+ \S+ (\d+)", sdp, re.M).group(1))
            state["proxy"] = LossyProxy((ip, port), 0.05, pt, seed=11, to_server=True)
            return via_proxy(sdp, state["proxy"].port)
        pub = Publisher(ws_url(s), "inloss", answer_hook=hook)
        ev = await pub.start()
        assert ev["status"] == "PUBLISHING", ev
        proxy = state["proxy"]
        await pub.wait_connected()
        p = Player(ws_url(s), "inloss")
        ev = await p.start()
        assert ev["status"] == "PLAYING", ev
        await p.wait_frames(1, 5)
        frames, _ = await counts_over([p], 6)
        print("# publisher loss: %d video packets from the publisher, %d dropped; player decoded %d frames in 6 s"
              % (proxy.from_client, len(proxy.dropped), frames[0]), flush=True)
        assert len(proxy.dropped) >= 5, "the proxy dropped only %d packets" % len(proxy.dropped)
        assert frames[0] > 6 * 25 * 0.8, "decoded %d frames in 6 s with 5%% loss on the way in" % frames[0]
    finally:
        await stop_all(p, pub)
        if proxy:
            proxy.close()
    wait_for(lambda: re.search(r"stream:inloss\] publisher losses: (\d+) packets NACKed, (\d+) gaps filled", s.log()),
             10, "the publisher's loss summary")
    m = re.search(r"stream:inloss\] publisher losses: (\d+) packets NACKed, (\d+) gaps filled", s.log())
    assert int(m.group(1)) >= 5 and int(m.group(2)) >= 3, m.group(0)


async def reload_keeps_sessions(s):
    """HUP while a WebRTC publisher and player run: the old workers drain,
    keeping their UDP ports and sessions; the player decodes on through it,
    and a new player after the reload (new workers, new ports) works."""
    pub = p = late = None
    try:
        pub = await start_publisher(s, "reload")
        p = Player(ws_url(s), "reload")
        assert (await p.start())["status"] == "PLAYING"
        await p.wait_frames(10, 10)
        gen = s.rest("worker/show")["master"]["generation"]
        s.send_signal(signal.SIGHUP)
        await asyncio.get_running_loop().run_in_executor(None, lambda: s.wait_ready(generation=gen + 1, timeout=20))
        frames, _ = await counts_over([p], 4)
        assert frames[0] > 4 * 25 * 0.8, "the player decoded %d frames in the 4 s after the reload" % frames[0]
        late = Player(ws_url(s), "reload")
        assert (await late.start())["status"] == "PLAYING"
        await late.wait_frames(10, 10)
    finally:
        await stop_all(late, p, pub)


# ---------------------------------------------------------------- 7: malformed UDP and signaling input

def stun_msg(mtype, attrs, key=None, fingerprint=True, tid=None):
    """A STUN message; with `key`, MESSAGE-INTEGRITY (HMAC-SHA1) then FINGERPRINT."""
    tid = tid or os.urandom(12)

    def attr(t, v):
        return struct.pack("!HH", t, len(v)) + v + b"\x00" * (-len(v) % 4)
    body = b"".join(attr(t, v) for t, v in attrs)
    if key is not None:
        head = struct.pack("!HHI", mtype, len(body) + 24, 0x2112A442) + tid
        body += attr(0x0008, hmac.new(key, head + body, hashlib.sha1).digest())
    if fingerprint:
        head = struct.pack("!HHI", mtype, len(body) + 8, 0x2112A442) + tid
        crc = (zlib.crc32(head + body) ^ 0x5354554E) & 0xffffffff
        body += attr(0x8028, struct.pack("!I", crc))
    return struct.pack("!HHI", mtype, len(body), 0x2112A442) + tid + body


def ice_ufrag(sdp):
    return re.search(r"^a=ice-ufrag:(\S+)", sdp, re.M).group(1)


def bad_datagrams(server_ufrag):
    cookie = struct.pack("!I", 0x2112A442)
    rnd = random.Random(11)

    def junk(n):
        return bytes(rnd.getrandbits(8) for _ in range(n))
    user = server_ufrag.encode() + b":abcd"
    out = [junk(n) for n in (1, 7, 20, 100, 1200, 1500)]
    out += [
        b"\x00", b"\x00\x01", b"\x00\x01\x00\x00" + cookie,  # truncated STUN
        b"\x00\x01\x00\x00" + cookie + junk(12),  # binding request, no attributes
        b"\x00\x01\x00\x08" + cookie + junk(12),  # length beyond the datagram
        b"\x00\x01\x03\xfc" + cookie + junk(12) + junk(40),
        b"\x00\x01\x00\x0c" + cookie + junk(12) + b"\x00\x06\xff\xf0" + junk(8),  # attribute longer than message
        b"\x00\x01\x00\x04" + cookie + junk(12) + b"\x00\x08\x00\x00",  # empty MESSAGE-INTEGRITY
        b"\x01\x01\x00\x00" + cookie + junk(12),  # unsolicited success response
        b"\x00\x01\x00\x10" + cookie + junk(12) + junk(16),
        stun_msg(0x0001, [(0x0006, b"nosuch:abcd")], key=b"wrongpassword"),  # unknown ufrag
        stun_msg(0x0001, [(0x0006, user), (0x0025, b""), (0x8029, os.urandom(8))],
                 key=b"0123456789012345678901"),  # right ufrag, wrong password
        stun_msg(0x0001, [(0x0006, user)], key=None),  # no integrity at all
        stun_msg(0x0001, [(0x0006, b"x" * 600)], key=b"k"),  # huge username
        stun_msg(0x0001, [(0x0006, user)], key=b"k", fingerprint=False)[:-3],  # cut short
    ]
    out += [b"\x16\xfe\xfd" + junk(n) for n in (0, 10, 13, 200)]  # DTLS-looking
    out += [b"\x16\xfe\xff\x00\x00" + bytes(6) + b"\xff\xff" + junk(50)]  # DTLS record length lies
    out += [b"\x80" + junk(n) for n in (0, 5, 11, 12, 40, 1400)]  # RTP-looking
    out += [b"\x80\xc8" + junk(30), b"\x81\xcd\x00\x02" + junk(8), b"\x80\xc9\xff\xff" + junk(4)]  # RTCP-looking
    out += [b"\x90" + junk(11) + b"\xbe\xde\xff\xff" + junk(20)]  # extension longer than the packet
    return out


async def bad_udp_input(s):
    pub = p = sig = None
    try:
        pub = await start_publisher(s, "sturdy")
        p = Player(ws_url(s), "sturdy")
        ev = await p.start()
        assert ev["status"] == "PLAYING", ev
        await p.wait_frames(5, 5)
        gen = s.rest("worker/show")["master"]["generation"]
        pids = sorted(w["pid"] for w in s.processes("worker", gen))
        ports = {c[1] for c in candidates(pub.event["sdp"]) + candidates(p.event["sdp"])}
        ports |= set(range(s.udp_base, s.udp_base + 4))  # every worker's port, whichever got the peers
        log_start = len(s.log())
        start_frames = p.video_frames
        socks = [socket.socket(socket.AF_INET, socket.SOCK_DGRAM) for _ in range(3)]
        grams = bad_datagrams(ice_ufrag(p.event["sdp"])) + bad_datagrams(ice_ufrag(pub.event["sdp"]))
        sent = 0
        for rounds in range(3):
            for port in sorted(ports):
                for i, d in enumerate(grams):
                    try:
                        socks[i % 3].sendto(d, ("127.0.0.1", port))
                        sent += 1
                    except OSError:
                        pass
            await asyncio.sleep(0.3)
        # nothing we sent was a valid check: no binding success may come back
        answers = []
        for so in socks:
            so.setblocking(False)
            while True:
                try:
                    answers.append(so.recv(65536))
                except OSError:
                    break
            so.close()
        assert not [a for a in answers if a[:2] == b"\x01\x01"], "a bad STUN check got a binding success"
        print("# bad UDP input: %d datagrams sent, %d answers (%s)" % (
            sent, len(answers), sorted({a[:2].hex() for a in answers})), flush=True)
        frames, _ = await counts_over([p], 2)
        assert frames[0] > 35, "the player decoded %d frames in 2 s after the bad datagrams" % frames[0]
        assert p.video_frames - start_frames > 50
        assert p.pc.connectionState == "connected" and pub.pc.connectionState == "connected"

        # control: the same STUN builder with the right credentials gets a binding success, so the
        # refusals above were for the credentials, not for a malformed message
        sig = await Signaling(ws_url(s)).open()
        offer = await offer_sdp(video=True, audio=False)
        offer = offer.replace("a=sendonly", "a=recvonly")
        ev = await sig.request({"method": "playStream", "id": "ctl", "name": "sturdy", "sdp": offer})
        assert ev["status"] == "PLAYING", ev
        pwd = re.search(r"^a=ice-pwd:(\S+)", ev["sdp"], re.M).group(1)
        user = (ice_ufrag(ev["sdp"]) + ":" + ice_ufrag(offer)).encode()
        so = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        so.settimeout(2)
        try:
            so.sendto(stun_msg(0x0001, [(0x0006, user), (0x8029, os.urandom(8))], key=pwd.encode()),
                      candidates(ev["sdp"])[0])
            got = so.recv(2048)
        finally:
            so.close()
        assert got[:2] == b"\x01\x01", "a correct binding request got %s" % got[:2].hex()
        await sig.request({"method": "stopStream", "id": "ctl"})

        # a huge SDP on the signaling socket
        offer = await offer_sdp()
        huge = offer + "".join("a=x-filler-%d:%s\r\n" % (i, "y" * 200) for i in range(400))
        assert len(huge) > 65536
        ev = await sig.request({"method": "publishStream", "id": "huge", "name": "huge", "sdp": huge}, 15)
        assert ev["status"] == "FAILED" and ev["info"].startswith("Bad SDP"), {k: ev[k] for k in ev if k != "sdp"}
        assert stream_info(s, "huge") is None
        # still the same workers, no crash
        assert sorted(w["pid"] for w in s.processes("worker", gen)) == pids, "a worker died"
        log = s.log()[log_start:]
        assert "killed by signal" not in log and "exited" not in log, log[-3000:]
        frames, _ = await counts_over([p], 1)
        assert frames[0] > 15
    finally:
        await stop_all(sig, p, pub)


# ---------------------------------------------------------------- main

def start_server(t):
    s = t.server(workers=2)
    # 4 UDP ports (2 per worker) of the server's own slice (lcserver.udp_slot): no other test uses them
    s.udp_base = s.udp_lo
    s.extra = 'webrtc: { udp_ports = "%d-%d"; };' % (s.udp_base, s.udp_base + 3)
    s.write_conf()
    return s.start()


try:
    make_media()
    with Tests() as t:
        only = os.environ.get("LC_WEBRTC_CASES")  # e.g. "loss": run only cases whose name has it
        if only:
            case = t.case
            t.case = lambda name, fn: case(name, fn) if only in name else None
        s = start_server(t)
        t.case("aiortc VP8+Opus publish; players on both workers decode 320x240 video and 48 kHz audio",
               lambda: run(vp8_players_on_two_workers(s), 60))
        t.case("a late player decodes its first frame within 1 s of PLAYING",
               lambda: run(late_player_first_frame(s), 30))
        t.case("aiortc H.264+Opus publish plays over WebRTC and over RTMP (ffprobe)",
               lambda: run(h264_webrtc_and_rtmp(s), 40))
        t.case("RTMP H.264+AAC publish plays to a video-only WebRTC player",
               lambda: run(rtmp_to_webrtc(s, False), 40))
        t.case("RTMP H.264+AAC publish plays to a video+audio WebRTC player, the AAC as Opus",
               lambda: run(rtmp_to_webrtc(s, True), 40))
        t.case("a player offering an extra video section gets it rejected in an answer aiortc applies",
               lambda: run(extra_sections(s), 30))
        t.case("publisher stop ends players; stopStream; name in use; not found; codec not supported; bad SDP",
               lambda: run(stop_and_failures(s), 40))
        t.case("5% loss of video through a proxy: NACKs answered, the player keeps decoding",
               lambda: run(loss_recovered(s), 40))
        t.case("5% loss of a publisher's video on the way in: the server NACKs it, players decode on",
               lambda: run(publisher_loss_recovered(s), 40))
        t.case("reload (HUP) while publishing and playing: the player decodes on, a new player works",
               lambda: run(reload_keeps_sessions(s), 60))
        t.case("malformed datagrams on the worker UDP ports and a huge SDP: media flows, workers live",
               lambda: run(bad_udp_input(s), 40))
finally:
    for p in PROCS:
        if p.poll() is None:
            p.kill()
            p.wait()
    try:
        LOOP.run_until_complete(asyncio.sleep(0.1))
        LOOP.close()
    except Exception:
        pass
    subprocess.run(["rm", "-rf", WORK])
