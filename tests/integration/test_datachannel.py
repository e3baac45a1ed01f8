"""WebRTC data channels (SCTP over DTLS, usrsctp): text a publisher sends on
its data channel reaches every WebRTC player of the stream, on another
worker too, in order; RTMP players of the same stream are not disturbed.

Every peer connection a case opens is closed in its `finally`, also when the
case fails: an aiortc connection left open keeps non-daemon decoder threads
alive, and the file never exited (it ran into tests/run's 600 s limit)."""
import asyncio
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from aiortc import RTCSessionDescription  # noqa: E402
from aiortc.contrib.media import MediaPlayer  # noqa: E402
from lcserver import Tests, step  # noqa: E402
from rtc_client import Signaling, force_codec, new_pc, wait_ice  # noqa: E402


class Peers:
    """The peer connections and signaling sessions of one case, closed
    whatever happens (each close bounded)."""

    def __init__(self):
        self.items = []

    def add(self, *objs):
        self.items.extend(objs)
        return objs

    async def close(self):
        for o in reversed(self.items):
            try:
                await asyncio.wait_for(o.close(), 5)
            except Exception:
                pass


async def open_channel(ch, timeout=10):
    opened = asyncio.Event()
    ch.on("open", lambda: opened.set())
    if ch.readyState != "open":
        await asyncio.wait_for(opened.wait(), timeout)


async def publisher(url, name, peers):
    step("publisher %s connecting" % name)
    pc = new_pc()
    peers.add(pc)
    media = MediaPlayer("testsrc2=size=320x240:rate=25", format="lavfi")
    pc.addTransceiver(media.video, direction="sendonly")
    force_codec(pc, "video", "video/H264")
    ch = pc.createDataChannel("chat")
    await pc.setLocalDescription(await pc.createOffer())
    await wait_ice(pc)
    sig = Signaling(url)
    peers.add(sig)
    await sig.open()
    ev = await sig.request({"method": "publishStream", "id": "p", "name": name, "sdp": pc.localDescription.sdp})
    assert ev["status"] == "PUBLISHING", ev
    await pc.setRemoteDescription(RTCSessionDescription(ev["sdp"], "answer"))
    await open_channel(ch)
    return pc, sig, ch


async def player(url, name, peers):
    step("data channel player of %s connecting" % name)
    pc = new_pc()
    peers.add(pc)
    pc.addTransceiver("video", direction="recvonly")
    ch = pc.createDataChannel("recv")
    got = []
    ch.on("message", lambda m: got.append(m))
    await pc.setLocalDescription(await pc.createOffer())
    await wait_ice(pc)
    sig = Signaling(url)
    peers.add(sig)
    await sig.open()
    ev = await sig.request({"method": "playStream", "id": "v", "name": name, "sdp": pc.localDescription.sdp})
    assert ev["status"] == "PLAYING", ev
    await pc.setRemoteDescription(RTCSessionDescription(ev["sdp"], "answer"))
    await open_channel(ch)
    return pc, sig, got


def text_reaches_players(s):
    url = "ws://127.0.0.1:%d/" % s.sig_port

    async def go(peers):
        pub, psig, ch = await publisher(url, "chat", peers)
        players = [await player(url, "chat", peers) for _ in range(3)]
        step("RTMP player (ffprobe) and text on the channel")
        # an RTMP player of the same stream keeps playing video meanwhile
        probe = await asyncio.create_subprocess_exec(
            "ffprobe", "-v", "error", "-rw_timeout", "8000000", "-read_intervals", "%+3", "-count_frames",
            "-show_entries", "stream=codec_name,nb_read_frames", "-of", "csv=p=0",
            "rtmp://127.0.0.1:%d/live/chat" % s.rtmp_port, stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE)
        try:
            await asyncio.sleep(2)  # players start at a keyframe; text before it is not theirs
            sent = ["message %d: %s" % (i, "é" * i) for i in range(20)]
            for m in sent:
                ch.send(m)
                await asyncio.sleep(0.05)
            for _ in range(50):
                if all(len(got) >= len(sent) for _, _, got in players):
                    break
                await asyncio.sleep(0.1)
            for _, _, got in players:
                assert got == sent, got
            step("ffprobe's frames")
            out, err = await asyncio.wait_for(probe.communicate(), 30)
            assert probe.returncode == 0 and out.decode().startswith("h264,"), (out, err)
        finally:
            if probe.returncode is None:
                probe.kill()
                await probe.wait()
        workers = {p["pid"] for p in s.rest("worker/show")["processes"] if p["role"] == "worker"}
        assert len(workers) == 2
    run(go, 90)
    log = s.log()
    assert log.count("data channel \"recv\" open") >= 3 and "data channel \"chat\" open" in log, log[-2000:]


def no_channel_no_harm(s):
    """A player without a data channel gets video; the text is simply not for it."""
    url = "ws://127.0.0.1:%d/" % s.sig_port

    async def go(peers):
        pub, psig, ch = await publisher(url, "quiet", peers)
        step("player without a data channel")
        pc = new_pc()
        peers.add(pc)
        pc.addTransceiver("video", direction="recvonly")
        frames = []

        @pc.on("track")
        def on_track(track):
            async def consume():
                while True:
                    frames.append(await track.recv())
            asyncio.ensure_future(consume())

        await pc.setLocalDescription(await pc.createOffer())
        await wait_ice(pc)
        sig = Signaling(url)
        peers.add(sig)
        await sig.open()
        ev = await sig.request({"method": "playStream", "id": "v", "name": "quiet", "sdp": pc.localDescription.sdp})
        assert ev["status"] == "PLAYING", ev
        await pc.setRemoteDescription(RTCSessionDescription(ev["sdp"], "answer"))
        step("text on the publisher's channel, frames at the player")
        for i in range(30):
            ch.send("x" * 1000)
            await asyncio.sleep(0.05)
        await asyncio.sleep(1)
        assert len(frames) > 20, len(frames)
    run(go, 60)


def run(go, limit):
    """go(peers) under a time limit; its peers closed whatever happens."""
    async def main():
        peers = Peers()
        try:
            await asyncio.wait_for(go(peers), limit)
        finally:
            await peers.close()
    asyncio.run(main())


with Tests() as t:
    s = t.server(workers=2).start()
    t.case("data channel text from a publisher reaches every WebRTC player in order, whichever worker each is on",
           text_reaches_players, s)
    t.case("a player without a data channel plays on", no_channel_no_harm, s)
