"""WHIP publisher and WHEP player (aiortc), for the WebRTC tests: the offer
goes in one HTTP POST, the answer comes back with a Location to DELETE."""
import asyncio
import collections
import time
import urllib.error
import urllib.request

from aiortc import RTCPeerConnection, RTCSessionDescription
from aiortc.contrib.media import MediaPlayer

from rtc_client import force_codec, keep_pcm, wait_ice


def http(method, url, body=None, ctype="application/sdp"):
    req = urllib.request.Request(url, data=body.encode() if body is not None else None, method=method)
    if body is not None:
        req.add_header("Content-Type", ctype)
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, dict(r.headers), r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read().decode()


class WhipPublisher:
    def __init__(self, base, name, video="VP8"):
        self.base, self.name, self.video = base, name, video
        self.pc = None
        self.location = None
        self.status = None

    async def start(self):
        self.pc = RTCPeerConnection()
        self.vplayer = MediaPlayer("testsrc2=size=320x240:rate=25", format="lavfi")
        self.aplayer = MediaPlayer("sine=frequency=440:sample_rate=48000", format="lavfi")
        self.pc.addTransceiver(self.vplayer.video, direction="sendonly")
        self.pc.addTransceiver(self.aplayer.audio, direction="sendonly")
        force_codec(self.pc, "video", "video/" + self.video)
        await self.pc.setLocalDescription(await self.pc.createOffer())
        await wait_ice(self.pc)
        self.status, headers, body = await asyncio.get_event_loop().run_in_executor(
            None, http, "POST", "%s/whip/%s" % (self.base, self.name), self.pc.localDescription.sdp)
        self.location = headers.get("Location")
        if self.status == 201:
            await self.pc.setRemoteDescription(RTCSessionDescription(body, "answer"))
        return self.status, body

    async def stop(self, delete=True):
        if delete and self.location:
            await asyncio.get_event_loop().run_in_executor(None, http, "DELETE", self.base + self.location)
        if self.pc:
            await self.pc.close()


class WhepPlayer:
    def __init__(self, base, name):
        self.base, self.name = base, name
        self.pc = None
        self.location = None
        self.video_frames = 0
        self.audio_samples = 0
        self.audio_frames = 0
        self.pcm = collections.deque(maxlen=100)
        self.sizes = set()
        self.tasks = []

    async def _consume(self, track):
        try:
            while True:
                frame = await track.recv()
                if track.kind == "video":
                    self.video_frames += 1
                    self.sizes.add((frame.width, frame.height))
                else:
                    self.audio_samples += frame.samples
                    self.audio_frames += 1
                    keep_pcm(self.pcm, frame)
        except Exception:
            return

    async def start(self):
        self.pc = RTCPeerConnection()
        self.pc.addTransceiver("video", direction="recvonly")
        self.pc.addTransceiver("audio", direction="recvonly")

        @self.pc.on("track")
        def on_track(track):
            self.tasks.append(asyncio.ensure_future(self._consume(track)))

        await self.pc.setLocalDescription(await self.pc.createOffer())
        await wait_ice(self.pc)
        status, headers, body = await asyncio.get_event_loop().run_in_executor(
            None, http, "POST", "%s/whep/%s" % (self.base, self.name), self.pc.localDescription.sdp)
        self.location = headers.get("Location")
        if status == 201:
            await self.pc.setRemoteDescription(RTCSessionDescription(body, "answer"))
        return status, body

    async def stop(self):
        for t in self.tasks:
            t.cancel()
        if self.location:
            await asyncio.get_event_loop().run_in_executor(None, http, "DELETE", self.base + self.location)
        if self.pc:
            await self.pc.close()
