"""aiortc clients for the WebRTC tests (Debian's python3-aiortc, run with
/usr/bin/python3): a publisher of a generated VP8 (or H.264) + Opus stream
and a player that decodes what it receives, over livecdn's WebSocket
signaling (SPEC section 4).

Traps handled here (see TESTING.md): aioice drops 127.0.0.1 from its host
candidates, so it is patched to offer only loopback; every peer connection
uses RTCConfiguration(iceServers=[]) so no public STUN server is asked."""
import asyncio
import collections
import json
import re
import time

import aioice.ice



def set_host_addresses(addrs):
    """The addresses aiortc gathers host candidates on (default: loopback only,
    for a server on 127.0.0.1; a test in a network namespace sets its own)."""
    aioice.ice.get_host_addresses = lambda *a, **k: list(addrs)


set_host_addresses(["127.0.0.1"])  # before any gathering

import websockets  # noqa: E402
from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription  # noqa: E402
from aiortc.contrib.media import MediaPlayer  # noqa: E402
from aiortc.rtcrtpsender import RTCRtpSender  # noqa: E402


def new_pc():
    return RTCPeerConnection(RTCConfiguration(iceServers=[]))


def force_codec(pc, kind, mime):
    """Offer only `mime` (e.g. video/VP8) for the transceivers of `kind`."""
    caps = RTCRtpSender.getCapabilities(kind)
    prefs = [c for c in caps.codecs if c.mimeType.lower() == mime.lower() or
             (c.mimeType.lower() == kind + "/rtx")]
    for t in pc.getTransceivers():
        if t.kind == kind:
            t.setCodecPreferences(prefs)


async def wait_ice(pc):
    while pc.iceGatheringState != "complete":
        await asyncio.sleep(0.05)


def keep_pcm(pcm, frame):
    """Keeps the first channel of a decoded audio frame (s16) in the deque pcm."""
    a = frame.to_ndarray()
    ch = len(frame.layout.channels)
    pcm.append((frame.sample_rate, a.reshape(-1)[::ch] if a.shape[0] == 1 else a[0]))


def dominant_hz(pcm):
    """The strongest frequency of the audio kept by keep_pcm (None when there is none)."""
    import numpy
    if not pcm:
        return None
    rate = pcm[-1][0]
    x = numpy.concatenate([s for r, s in pcm if r == rate]).astype(numpy.float64)
    if len(x) < rate // 10 or not numpy.any(x):
        return None
    spec = numpy.abs(numpy.fft.rfft(x * numpy.hanning(len(x))))
    spec[0] = 0
    return float(numpy.argmax(spec)) * rate / len(x)


def candidates(sdp):
    """(ip, port) of every a=candidate line of an SDP (UDP only)."""
    out = []
    for m in re.finditer(r"^a=candidate:\S+ \d+ (?:udp|UDP) \d+ (\S+) (\d+) typ", sdp, re.M):
        out.append((m.group(1), int(m.group(2))))
    return out


class Signaling:
    """One WebSocket signaling session. Events not yet consumed by a
    request wait in `pending`."""

    def __init__(self, url):
        self.url = url
        self.ws = None
        self.events = []
        self.session = None

    async def open(self):
        self.ws = await websockets.connect(self.url, open_timeout=10, max_size=None, ping_interval=None)
        await self.ws.send(json.dumps({"method": "connect"}))
        ev = json.loads(await asyncio.wait_for(self.ws.recv(), 10))
        assert ev.get("status") == "ESTABLISHED", ev
        self.session = ev
        return self

    async def send(self, msg):
        await self.ws.send(json.dumps(msg))

    async def request(self, msg, timeout=10):
        await self.send(msg)
        return await self.next_stream_event(timeout)

    async def next_stream_event(self, timeout=10):
        while True:
            ev = json.loads(await asyncio.wait_for(self.ws.recv(), timeout))
            self.events.append(ev)
            if ev.get("event") == "stream":
                return ev

    async def close(self):
        if self.ws:
            await self.ws.close()


class Publisher:
    def __init__(self, sig_url, name, video="VP8", size="320x240", rate=25, answer_hook=None, source=None):
        self.sig_url, self.name, self.video = sig_url, name, video
        self.source = source  # a media file to send (its video and audio) instead of testsrc2 + a 440 Hz sine
        self.size, self.rate = size, rate
        self.answer_hook = answer_hook  # rewrites the server's answer before it is applied
        self.pc = None
        self.sig = None
        self.event = None
        self.vplayer = self.aplayer = None

    async def start(self, sid="p1", sig=None):
        self.sid = sid
        self.pc = new_pc()
        if self.source:
            self.vplayer = self.aplayer = MediaPlayer(self.source)
        else:
            self.vplayer = MediaPlayer("testsrc2=size=%s:rate=%d" % (self.size, self.rate), format="lavfi")
            self.aplayer = MediaPlayer("sine=frequency=440:sample_rate=48000", format="lavfi")
        self.pc.addTransceiver(self.vplayer.video, direction="sendonly")
        self.pc.addTransceiver(self.aplayer.audio, direction="sendonly")
        force_codec(self.pc, "video", "video/" + self.video)
        await self.pc.setLocalDescription(await self.pc.createOffer())
        await wait_ice(self.pc)
        self.sig = sig or await Signaling(self.sig_url).open()
        self.event = await self.sig.request({"method": "publishStream", "id": sid, "name": self.name,
                                             "sdp": self.pc.localDescription.sdp})
        if self.event.get("status") == "PUBLISHING":
            sdp = self.event["sdp"]
            if self.answer_hook:
                sdp = self.answer_hook(sdp)
            await self.pc.setRemoteDescription(RTCSessionDescription(sdp, "answer"))
        return self.event

    async def wait_connected(self, timeout=10):
        deadline = time.monotonic() + timeout
        while self.pc.connectionState != "connected":
            assert self.pc.connectionState not in ("failed", "closed"), self.pc.connectionState
            assert time.monotonic() < deadline, "publisher not connected: %s" % self.pc.connectionState
            await asyncio.sleep(0.05)

    async def stop(self):
        if self.sig:
            await self.sig.close()
        if self.pc:
            await self.pc.close()  # stops the senders' tracks, hence the MediaPlayer threads


class Player:
    """Receives and decodes; counts frames, keeps sizes and audio samples.

    answer_hook(sdp) -> sdp may rewrite the server's answer before it is
    applied (e.g. to send media through a proxy)."""

    def __init__(self, sig_url, name, video=True, audio=True, answer_hook=None, kinds=None, codecs=None):
        self.sig_url, self.name = sig_url, name
        self.force = codecs or {}  # kind -> the one mime type to offer, e.g. {"audio": "audio/PCMA"}
        # kinds: the recvonly transceivers to offer, in order (default: video and/or audio)
        self.kinds = kinds or [k for k, on in (("video", video), ("audio", audio)) if on]
        self.answer_hook = answer_hook
        self.pc = None
        self.sig = None
        self.event = None
        self.video_frames = 0
        self.audio_samples = 0
        self.audio_frames = 0
        self.pcm = collections.deque(maxlen=100)  # the last 100 audio frames (2 s of Opus), first channel
        self.audio_rates = set()
        self.sizes = set()
        self.codecs = set()
        self.first_video_at = None
        self.started_at = None
        self.answered_at = None
        self.tasks = []
        self.errors = []

    async def _consume(self, track):
        try:
            while True:
                frame = await track.recv()
                if track.kind == "video":
                    self.video_frames += 1
                    self.sizes.add((frame.width, frame.height))
                    if self.first_video_at is None:
                        self.first_video_at = time.monotonic()
                else:
                    self.audio_samples += frame.samples
                    self.audio_frames += 1
                    self.audio_rates.add(frame.sample_rate)
                    keep_pcm(self.pcm, frame)
        except asyncio.CancelledError:
            raise
        except Exception as e:  # MediaStreamError at the end
            self.errors.append(repr(e))
            return

    async def start(self, sid="v1", sig=None):
        self.sid = sid
        self.pc = new_pc()
        for kind in self.kinds:
            self.pc.addTransceiver(kind, direction="recvonly")
        for kind, mime in self.force.items():
            force_codec(self.pc, kind, mime)

        @self.pc.on("track")
        def on_track(track):
            self.tasks.append(asyncio.ensure_future(self._consume(track)))

        await self.pc.setLocalDescription(await self.pc.createOffer())
        await wait_ice(self.pc)
        self.sig = sig or await Signaling(self.sig_url).open()
        self.started_at = time.monotonic()
        self.event = await self.sig.request({"method": "playStream", "id": sid, "name": self.name,
                                             "sdp": self.pc.localDescription.sdp})
        self.answered_at = time.monotonic()
        if self.event.get("status") == "PLAYING":
            for line in self.event["sdp"].split("\r\n"):
                if line.startswith("a=rtpmap:"):
                    self.codecs.add(line.split(" ", 1)[1].split("/")[0].upper())
            sdp = self.event["sdp"]
            if self.answer_hook:
                sdp = self.answer_hook(sdp)
            await self.pc.setRemoteDescription(RTCSessionDescription(sdp, "answer"))
        return self.event

    async def wait_frames(self, n, timeout=10):
        deadline = time.monotonic() + timeout
        while self.video_frames < n:
            assert time.monotonic() < deadline, "player %s: %d video frames, %d wanted (state %s)" % (
                self.sid, self.video_frames, n, self.pc.connectionState)
            await asyncio.sleep(0.05)

    async def stop(self):
        for t in self.tasks:
            t.cancel()
        if self.sig:
            await self.sig.close()
        if self.pc:
            await self.pc.close()
