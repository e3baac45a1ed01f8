"""WHIP/WHEP sessions and their owners (SPEC section 4, issue 11, security
review #1 and #15), and the late player (SPEC section 6), on 2 workers.

Connections to signaling.listen share one accept queue, so which worker
takes a request is the kernel's choice. To land a DELETE on a chosen worker
the test stops the other one (SIGSTOP): only the chosen one accepts. The
worker that holds a session is told by the UDP port in its answer (each
worker has its own; worker/show says which)."""
import asyncio
import http.client
import os
import re
import secrets
import signal
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from lcserver import Tests, wait_for  # noqa: E402
from rtc_client import Player, candidates, force_codec, new_pc, wait_ice  # noqa: E402
from aiortc import RTCSessionDescription  # noqa: E402
from aiortc.contrib.media import MediaPlayer  # noqa: E402

LOOP = asyncio.new_event_loop()
asyncio.set_event_loop(LOOP)
PROCS = []
IDS = []  # every session id a Location carried
TOKEN = "s3cret-token"


def run(coro, timeout=60):
    return LOOP.run_until_complete(asyncio.wait_for(coro, timeout))


def req(s, method, path, body=None, headers=None, timeout=10):
    """One HTTP request on a new connection: (status, headers, body, seconds)."""
    t0 = time.monotonic()
    c = http.client.HTTPConnection("127.0.0.1", s.sig_port, timeout=timeout)
    try:
        h = dict(headers or {})
        if body is not None:
            h.setdefault("Content-Type", "application/sdp")
        c.request(method, path, body=body.encode() if body is not None else None, headers=h)
        r = c.getresponse()
        return r.status, dict(r.getheaders()), r.read().decode(), time.monotonic() - t0
    finally:
        c.close()


async def areq(s, *a, **kw):
    return await LOOP.run_in_executor(None, lambda: req(s, *a, **kw))


def workers(s):
    """{pid: (udp_lo, udp_hi)} of the running workers."""
    out = {}
    for p in s.processes("worker"):
        if p["state"] == "running":
            lo, hi = p["udp_ports"].split("-")
            out[p["pid"]] = (int(lo), int(hi))
    assert len(out) == 2, out
    return out


def worker_of(s, sdp):
    port = candidates(sdp)[0][1]
    for pid, (lo, hi) in workers(s).items():
        if lo <= port <= hi:
            return pid
    raise AssertionError("no worker has UDP port %d" % port)


def other_worker(s, pid):
    return [p for p in workers(s) if p != pid][0]


def stream_info(s, name):
    for st in s.rest("stream/find_all")["streams"]:
        if st["name"] == name:
            return st
    return None


def location_id(loc, kind, name):
    m = re.fullmatch(r"/%s/%s/([^/]+)" % (kind, re.escape(name)), loc or "")
    assert m, loc
    IDS.append(m.group(1))
    return m.group(1)


class Stopped:
    """SIGSTOP one worker for the block (so the other takes every new connection)."""

    def __init__(self, pid):
        self.pid = pid

    def __enter__(self):
        os.kill(self.pid, signal.SIGSTOP)
        return self

    def __exit__(self, *exc):
        os.kill(self.pid, signal.SIGCONT)


async def publisher(s, name, video="VP8", token=None):
    pc = new_pc()
    v = MediaPlayer("testsrc2=size=320x240:rate=25", format="lavfi")
    a = MediaPlayer("sine=frequency=440:sample_rate=48000", format="lavfi")
    pc.addTransceiver(v.video, direction="sendonly")
    pc.addTransceiver(a.audio, direction="sendonly")
    force_codec(pc, "video", "video/" + video)
    await pc.setLocalDescription(await pc.createOffer())
    await wait_ice(pc)
    hdr = {"Authorization": "Bearer " + token} if token else {}
    status, h, body, _ = await areq(s, "POST", "/whip/" + name, pc.localDescription.sdp, hdr)
    assert status == 201, (status, body)
    await pc.setRemoteDescription(RTCSessionDescription(body, "answer"))
    return pc, h["Location"], body


class WhepPlayer:
    def __init__(self, s, name):
        self.s, self.name = s, name
        self.frames = 0
        self.tasks = []

    async def offer(self):
        self.pc = new_pc()
        self.pc.addTransceiver("video", direction="recvonly")
        self.pc.addTransceiver("audio", direction="recvonly")

        @self.pc.on("track")
        def on_track(track):
            self.tasks.append(asyncio.ensure_future(self._consume(track)))

        await self.pc.setLocalDescription(await self.pc.createOffer())
        await wait_ice(self.pc)
        return self.pc.localDescription.sdp

    async def _consume(self, track):
        try:
            while True:
                await track.recv()
                if track.kind == "video":
                    self.frames += 1
        except Exception:
            return

    async def answer(self, body, location):
        self.location = location
        self.sdp = body
        await self.pc.setRemoteDescription(RTCSessionDescription(body, "answer"))

    async def start(self):
        sdp = await self.offer()
        status, h, body, _ = await areq(self.s, "POST", "/whep/" + self.name, sdp)
        assert status == 201, (status, body)
        location_id(h["Location"], "whep", self.name)
        await self.answer(body, h["Location"])
        return self

    async def wait_frames(self, n, timeout=10):
        deadline = time.monotonic() + timeout
        while self.frames < n:
            assert time.monotonic() < deadline, "%d video frames, %d wanted (%s)" % (
                self.frames, n, self.pc.connectionState)
            await asyncio.sleep(0.05)

    async def close(self):
        for t in self.tasks:
            t.cancel()
        await self.pc.close()


def players_of(s, name):
    st = stream_info(s, name)
    return st["players"] if st else None


# ---------------------------------------------------------------- DELETE on the other worker

def whep_delete_other_worker(s):
    async def go():
        pc, loc, _ = await publisher(s, "d1")
        location_id(loc, "whip", "d1")
        p1 = await WhepPlayer(s, "d1").start()
        p2 = await WhepPlayer(s, "d1").start()
        await p1.wait_frames(5)
        await p2.wait_frames(5)
        owner = worker_of(s, p1.sdp)
        # the owner is stopped: the DELETE lands on the other worker, which
        # asks the owner; it is answered once the owner (resumed) ended it
        with Stopped(owner):
            t = LOOP.run_in_executor(None, lambda: req(s, "DELETE", p1.location))
            await asyncio.sleep(0.5)
        status, _, body, took = await t
        assert status == 200, (status, body)
        assert 0.4 < took < 2.5, took
        assert re.search(r"%d#.*DELETE of a whep session of \"d1\": asked its worker" % other_worker(s, owner),
                         s.log()), "the other worker did not forward the DELETE"
        # the session is gone: the stream counts one player, and p1 gets no more media
        await LOOP.run_in_executor(None, lambda: wait_for(lambda: players_of(s, "d1") == 1, 5, "one player left"))
        await asyncio.sleep(0.5)
        f = p1.frames
        await asyncio.sleep(1.5)
        assert p1.frames - f <= 2, "the deleted player still gets media: %d frames in 1.5 s" % (p1.frames - f)
        f2 = p2.frames
        await asyncio.sleep(0.5)
        assert p2.frames > f2, "the other player stopped too"
        # an owner that does not answer: 504 after the bounded wait (and the
        # request still holds: the session ends once the owner runs again)
        owner2 = worker_of(s, p2.sdp)
        with Stopped(owner2):
            status, _, body, took = await areq(s, "DELETE", p2.location)
        assert status == 504 and 1.8 < took < 3.5, (status, body, took)
        assert "did not end the session within 2000 ms" in s.log()
        await LOOP.run_in_executor(None, lambda: wait_for(lambda: players_of(s, "d1") == 0, 5, "no player left"))
        status, _, body, _ = await areq(s, "DELETE", p1.location)
        assert status == 404, (status, body)
        for p in (p1, p2):
            await p.close()
        status, _, _, _ = await areq(s, "DELETE", loc)
        assert status == 200
        await pc.close()
    run(go(), 60)


# ---------------------------------------------------------------- forged ids end nothing

def forged_ids(s):
    async def go():
        pc, loc, answer = await publisher(s, "f1")
        real = location_id(loc, "whip", "f1")
        await LOOP.run_in_executor(None, lambda: wait_for(
            lambda: (stream_info(s, "f1") or {}).get("frames_in", 0) > 10, 10, "f1 live"))
        owner = worker_of(s, answer)
        forged = ["/whip/f1/" + secrets.token_hex(16), "/whip/f1/deadbeef", "/whip/f1/" + real.upper(),
                  "/whip/f2/" + real, "/whep/f1/" + real, "/whip/f1/" + real[:-1] + "0" * 1]
        forged = [f for f in forged if f != loc]
        # on either worker: stop one, then the other
        for stop in (owner, other_worker(s, owner)):
            with Stopped(stop):
                for path in forged:
                    status, _, body, _ = await areq(s, "DELETE", path)
                    assert status == 404, (path, status, body)
        frames = stream_info(s, "f1")["frames_in"]
        await asyncio.sleep(1.0)
        st = stream_info(s, "f1")
        assert st and st["frames_in"] > frames + 10, "the publisher did not go on: %r" % st
        status, _, _, _ = await areq(s, "DELETE", loc)
        assert status == 200
        await LOOP.run_in_executor(None, lambda: wait_for(lambda: stream_info(s, "f1") is None, 5, "f1 gone"))
        await pc.close()
    run(go(), 40)


def forged_id_rtmp(s):
    ff = subprocess.Popen(["ffmpeg", "-nostdin", "-v", "error", "-re", "-f", "lavfi", "-i",
                           "testsrc2=size=160x120:rate=25", "-c:v", "libx264", "-preset", "ultrafast", "-g", "25",
                           "-pix_fmt", "yuv420p", "-t", "30", "-f", "flv",
                           "rtmp://127.0.0.1:%d/live/r1" % s.rtmp_port],
                          stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    PROCS.append(ff)
    try:
        wait_for(lambda: (stream_info(s, "r1") or {}).get("frames_in", 0) > 10, 15, "r1 live")
        for pid in workers(s):
            with Stopped(pid):
                for path in ("/whip/r1/" + secrets.token_hex(16), "/whip/r1/deadbeef"):
                    status, _, body, _ = req(s, "DELETE", path)
                    assert status == 404, (path, status, body)
        frames = stream_info(s, "r1")["frames_in"]
        time.sleep(1.0)
        st = stream_info(s, "r1")
        assert st and st["frames_in"] > frames + 10, "the RTMP publisher did not go on: %r" % st
        assert ff.poll() is None, "ffmpeg ended"
    finally:
        ff.kill()
        ff.wait(5)


# ---------------------------------------------------------------- the publish token guards DELETE

def delete_needs_token(s):
    async def go():
        pc, loc, answer = await publisher(s, "t1", token=TOKEN)
        location_id(loc, "whip", "t1")
        owner = worker_of(s, answer)
        for stop in (owner, other_worker(s, owner)):
            with Stopped(stop):
                for hdr in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": "Bearer " + TOKEN + "x"},
                            {"Authorization": "Bearer " + TOKEN[:-1]}, {"Authorization": TOKEN}):
                    status, _, body, _ = await areq(s, "DELETE", loc, headers=hdr)
                    assert status == 401, (hdr, status, body)
        assert "DELETE of \"t1\" refused: no or wrong bearer token" in s.log()
        assert stream_info(s, "t1"), "a DELETE without the token ended the stream"
        with Stopped(other_worker(s, owner)):  # with the token, and from the owner's side
            status, _, body, _ = await areq(s, "DELETE", loc, headers={"Authorization": "Bearer " + TOKEN})
        assert status == 200, (status, body)
        await LOOP.run_in_executor(None, lambda: wait_for(lambda: stream_info(s, "t1") is None, 5, "t1 gone"))
        await pc.close()
    run(go(), 30)


# ---------------------------------------------------------------- the late player

def late_player(s):
    async def one(i):
        name = "late%d" % i
        player = WhepPlayer(s, name)
        offer = await player.offer()  # ready before the publisher posts: nothing delays the POST
        pc, loc, answer = await publisher(s, name, video="H264")
        location_id(loc, "whip", name)
        pub_worker = worker_of(s, answer)
        # the publisher's worker is held for the POST's few ms, so the player
        # lands on the other one (and no frame of the publisher can be in the
        # ring yet: only the codecs recorded with its answer can say H.264)
        with Stopped(pub_worker):
            status, h, body, _ = await areq(s, "POST", "/whep/" + name, offer)
        assert status == 201, (status, body)
        assert worker_of(s, body) != pub_worker
        video = body.split("m=video", 1)[1].split("m=audio", 1)[0] if "m=video" in body else ""
        assert "H264/90000" in video and "VP8" not in video, "round %d: the player got %s" % (i, video[:300])
        location_id(h["Location"], "whep", name)
        await player.answer(body, h["Location"])
        await player.wait_frames(3, 10)
        await areq(s, "DELETE", player.location)
        await areq(s, "DELETE", loc)
        await player.close()
        await pc.close()

    async def go():
        for i in range(20):
            await one(i)
    run(go(), 80)


def waiting_player(s):
    """An RTMP publisher that sends no video: a player waits for its codecs
    (at most 2 s, without holding the worker up), then is answered."""
    ff = subprocess.Popen(["ffmpeg", "-nostdin", "-v", "error", "-re", "-f", "lavfi", "-i",
                           "sine=frequency=440:sample_rate=48000", "-c:a", "aac", "-t", "20", "-f", "flv",
                           "rtmp://127.0.0.1:%d/live/a1" % s.rtmp_port],
                          stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    PROCS.append(ff)
    try:
        wait_for(lambda: (stream_info(s, "a1") or {}).get("frames_in", 0) > 5, 15, "a1 live")

        async def go():
            p = WhepPlayer(s, "a1")
            offer = await p.offer()
            t = LOOP.run_in_executor(None, lambda: req(s, "POST", "/whep/a1", offer))
            await asyncio.sleep(0.2)
            # meanwhile both workers answer at once
            for _ in range(6):
                status, _, _, took = await areq(s, "OPTIONS", "/whep/a1")
                assert status == 204 and took < 0.5, (status, took)
            status, h, body, took = await t
            assert status == 201 and 1.8 < took < 4, (status, took, body[:200])
            location_id(h["Location"], "whep", "a1")
            await areq(s, "DELETE", h["Location"])
            await p.close()
            # the same over WebSocket signaling: PLAYING comes once the wait is up
            ws = Player("ws://127.0.0.1:%d/" % s.sig_port, "a1")
            t0 = time.monotonic()
            ev = await ws.start()
            took = time.monotonic() - t0
            assert ev["status"] == "PLAYING" and 1.8 < took < 4, (ev.get("status"), ev.get("info"), took)
            await ws.stop()
        run(go(), 25)
        assert "codecs are still unknown after 2000 ms" in s.log()
    finally:
        ff.kill()
        ff.wait(5)


def dead_owner(s):
    """A worker killed with its sessions: the master frees their entries, so
    a DELETE of one is a quick 404, not a wait for a worker that is gone."""
    async def go():
        pc, loc, answer = await publisher(s, "k1")
        location_id(loc, "whip", "k1")
        p = await WhepPlayer(s, "k1").start()
        owner = worker_of(s, p.sdp)
        pub_owner = worker_of(s, answer)
        os.kill(owner, signal.SIGKILL)
        await LOOP.run_in_executor(None, lambda: wait_for(lambda: owner not in workers(s), 10, "worker respawned"))
        await LOOP.run_in_executor(None, lambda: s.wait_ready(timeout=15))
        for pid in workers(s):  # on the respawned worker (same slot) and on the other one
            with Stopped(pid):
                status, _, body, took = await areq(s, "DELETE", p.location)
            assert status == 404 and took < 1.0, (status, body, took)
        await p.close()
        if pub_owner != owner:
            status, _, _, _ = await areq(s, "DELETE", loc)
            assert status == 200
        await pc.close()
    run(go(), 40)


def ids_unguessable(s):
    assert len(IDS) >= 20, IDS
    for i in IDS:
        assert re.fullmatch(r"[0-9a-f]{24,}", i), i  # >= 96 bits of hex
    assert len(set(IDS)) == len(IDS), "a session id repeated"


with Tests() as t:
    s = t.server(workers=2).start()
    try:
        t.case("WHEP DELETE landing on the other worker is 200 and ends that player only; 504 when the owner "
               "does not answer in 2 s", whep_delete_other_worker, s)
        t.case("WHIP DELETE of a forged id (either worker, other name or kind) is 404 and the publisher goes on",
               forged_ids, s)
        t.case("WHIP DELETE of a forged id of an RTMP publisher's name is 404 and it goes on", forged_id_rtmp, s)
        t.case("the late player: H.264 WHIP publisher, WHEP player on the other worker within ms, 20 times: "
               "always H.264, always frames", late_player, s)
        t.case("a player of a stream whose codecs are unknown waits (<= 2 s, loop not blocked), then is answered",
               waiting_player, s)
        t.case("a killed worker's sessions leave the table: their DELETE is 404 at once", dead_owner, s)
        locked = t.server(workers=2, extra="")
        locked.write_conf(raw=open(locked.conf).read().replace(
            'signaling: { listen = "127.0.0.1:%d"; };' % locked.sig_port,
            'signaling: { listen = "127.0.0.1:%d"; publish_token = "%s"; };' % (locked.sig_port, TOKEN)))
        locked.start()
        t.case("signaling.publish_token: WHIP DELETE without the bearer token is 401 on either worker, "
               "with it 200", delete_needs_token, locked)
        t.case("session ids in Location are >= 96 bits of hex and all differ", ids_unguessable, s)
    finally:
        for p in PROCS:
            if p.poll() is None:
                p.kill()
