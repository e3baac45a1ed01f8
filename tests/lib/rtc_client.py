"""aiortc clients for the WebRTC tests (Debian's python3-aiortc, run with
/usr/bin/python3): a publisher of a generated VP8 (or H.264) + Opus stream
and a player that decodes what it receives, over livecdn's WebSocket
signaling (SPEC section 4) or WHIP/WHEP."""
import asyncio
import json
import time
import urllib.request

import websockets
from aiortc import RTCPeerConnection, RTCSessionDescription
from aiortc.contrib.media import MediaPlayer
from aiortc.rtcrtpsender import RTCRtpSender


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


class Signaling:
    """One WebSocket signaling session."""

    def __init__(self, url):
        self.url = url
        self.ws = None
        self.events = []

    async def open(self):
        self.ws = await websockets.connect(self.url, open_timeout=10, max_size=None)
        await self.ws.send(json.dumps({"method": "connect"}))
        ev = json.loads(await asyncio.wait_for(self.ws.recv(), 10))
        assert ev.get("status") == "ESTABLISHED", ev
        return self

    async def request(self, msg, timeout=10):
        await self.ws.send(json.dumps(msg))
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
    def __init__(self, sig_url, name, video="VP8", size="320x240", rate=25):
        self.sig_url, self.name, self.video = sig_url, name, video
        self.size, self.rate = size, rate
        self.pc = None
        self.sig = None
        self.event = None

    async def start(self, sid="p1"):
        self.pc = RTCPeerConnection()
        self.vplayer = MediaPlayer("testsrc2=size=%s:rate=%d" % (self.size, self.rate), format="lavfi")
        self.aplayer = MediaPlayer("sine=frequency=440:sample_rate=48000", format="lavfi")
        self.pc.addTransceiver(self.vplayer.video, direction="sendonly")
        self.pc.addTransceiver(self.aplayer.audio, direction="sendonly")
        force_codec(self.pc, "video", "video/" + self.video)
        await self.pc.setLocalDescription(await self.pc.createOffer())
        await wait_ice(self.pc)
        self.sig = await Signaling(self.sig_url).open()
        self.event = await self.sig.request({"method": "publishStream", "id": sid, "name": self.name,
                                             "sdp": self.pc.localDescription.sdp})
        if self.event.get("status") == "PUBLISHING":
            await self.pc.setRemoteDescription(RTCSessionDescription(self.event["sdp"], "answer"))
        return self.event

    async def stop(self):
        if self.sig:
            await self.sig.close()
        if self.pc:
            await self.pc.close()
        for p in (getattr(self, "vplayer", None), getattr(self, "aplayer", None)):
            if p and getattr(p, "_MediaPlayer__thread", None):
                p._stop(p.video or p.audio) if False else None


class Player:
    """Receives and decodes; counts frames, keeps sizes and audio samples."""

    def __init__(self, sig_url, name, video=True, audio=True):
        self.sig_url, self.name = sig_url, name
        self.want_video, self.want_audio = video, audio
        self.pc = None
        self.sig = None
        self.event = None
        self.video_frames = 0
        self.audio_samples = 0
        self.sizes = set()
        self.first_video_at = None
        self.started_at = None
        self.tasks = []

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
        except Exception:
            return

    async def start(self, sid="v1"):
        self.pc = RTCPeerConnection()
        if self.want_video:
            self.pc.addTransceiver("video", direction="recvonly")
        if self.want_audio:
            self.pc.addTransceiver("audio", direction="recvonly")

        @self.pc.on("track")
        def on_track(track):
            self.tasks.append(asyncio.ensure_future(self._consume(track)))

        await self.pc.setLocalDescription(await self.pc.createOffer())
        await wait_ice(self.pc)
        self.sig = await Signaling(self.sig_url).open()
        self.started_at = time.monotonic()
        self.event = await self.sig.request({"method": "playStream", "id": sid, "name": self.name,
                                             "sdp": self.pc.localDescription.sdp})
        if self.event.get("status") == "PLAYING":
            await self.pc.setRemoteDescription(RTCSessionDescription(self.event["sdp"], "answer"))
        return self.event

    async def stop(self):
        for t in self.tasks:
            t.cancel()
        if self.sig:
            await self.sig.close()
        if self.pc:
            await self.pc.close()
