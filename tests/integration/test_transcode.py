"""Audio transcoding through shared derived streams (SPEC 2, 5, 6): an RTMP
H.264 + AAC stream plays with sound to WebRTC players (aiortc over
WebSocket and WHEP: Opus, the publisher's tone), a WebRTC H.264 + Opus
stream plays with sound to RTMP players (ffmpeg: AAC, the tone); players on
both workers share one transcoder each way (transcoder/find_all, livecdnctl
show transcoders, /metrics); transcoding.max_jobs refuses past its bound
with "Transcoding capacity reached"; a transcoder ends a few seconds after
its last player and with its source."""
import asyncio
import os
import signal
import subprocess
import sys
import tempfile

import numpy

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from lcserver import Tests, wait_for  # noqa: E402
from procs import Stopped, kill_all, spawn, stop_proc, worker_pid_of_udp_port  # noqa: E402
from media_check import heard, near, rtmp_listen, stage, tone_ok, transcoders  # noqa: E402
from rtc_client import Player, Publisher, candidates, dominant_hz  # noqa: E402
from whip_client import WhepPlayer  # noqa: E402

WORK = tempfile.mkdtemp(prefix="lc-transcode-")
MEDIA = os.path.join(WORK, "tone1k.flv")
FLASH = os.path.join(WORK, "flash.flv")
LOOP = asyncio.new_event_loop()
asyncio.set_event_loop(LOOP)


def run(coro, timeout=60):
    return LOOP.run_until_complete(asyncio.wait_for(coro, timeout))




def make_media():
    # H.264 baseline 320x240 25 fps (GOP 1 s) + AAC-LC 44.1 kHz stereo with a 1 kHz tone, 10 s, encoded once
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-y", "-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25",
                    "-f", "lavfi", "-i", "sine=frequency=1000:sample_rate=44100", "-t", "10", "-c:v", "libx264",
                    "-profile:v", "baseline", "-preset", "ultrafast", "-g", "25", "-pix_fmt", "yuv420p", "-c:a", "aac",
                    "-ac", "2", "-ar", "44100", "-b:a", "96k", "-f", "flv", MEDIA], check=True, timeout=120)


def make_flash():
    # black video with a white frame pair at every whole second, and a 1 kHz beep of the same 80 ms
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-y", "-f", "lavfi", "-i", "color=c=black:s=320x240:r=25",
                    "-f", "lavfi", "-i", "aevalsrc='if(lt(mod(t,1),0.08),0.8*sin(2*PI*1000*t),0)':s=44100:c=stereo",
                    "-vf", "drawbox=x=0:y=0:w=iw:h=ih:color=white:t=fill:enable='lt(mod(t,1),0.08)'",
                    "-t", "12", "-c:v", "libx264", "-profile:v", "baseline", "-preset", "ultrafast", "-g", "25",
                    "-pix_fmt", "yuv420p", "-c:a", "aac", "-ar", "44100", "-b:a", "96k", "-f", "flv", FLASH],
                   check=True, timeout=120)


def rtmp_publish(s, name, media=MEDIA):
    return spawn(["ffmpeg", "-nostdin", "-v", "error", "-re", "-stream_loop", "-1", "-i", media, "-c", "copy",
                  "-f", "flv", "rtmp://127.0.0.1:%d/live/%s" % (s.rtmp_port, name)])


def rtmp_url(s, name):
    return "rtmp://127.0.0.1:%d/live/%s" % (s.rtmp_port, name)


def stream_info(s, name):
    for st in s.rest("stream/find_all")["streams"]:
        if st["name"] == name:
            return st
    return None


def wait_live(s, name, frames=30):
    return wait_for(lambda: (stream_info(s, name) or {}).get("frames_in", 0) > frames and stream_info(s, name),
                    15, "stream %s live" % name)


async def in_thread(fn):
    return await asyncio.get_running_loop().run_in_executor(None, fn)


def ws_url(s):
    return "ws://127.0.0.1:%d/" % s.sig_port


async def stop_all(*peers):
    for p in peers:
        if p is not None:
            try:
                await asyncio.wait_for(p.stop(), 5)
            except Exception:
                pass


# ---------------------------------------------------------------- RTMP AAC -> WebRTC Opus

async def rtmp_aac_to_webrtc(s):
    ff = rtmp_publish(s, "tone")
    ws = whep = None
    try:
        with stage("the RTMP stream is live with H.264 + AAC"):
            st = await in_thread(lambda: wait_live(s, "tone"))
            assert st["video"] == "H264" and st["audio"] == "AAC", st
        with stage("a WebSocket player is answered with Opus and H.264"):
            ws = Player(ws_url(s), "tone")
            ev = await ws.start("ws1")
            assert ev["status"] == "PLAYING", ev
            assert "OPUS" in ws.codecs and "H264" in ws.codecs, ws.codecs
        with stage("a WHEP player is answered"):
            whep = WhepPlayer("http://127.0.0.1:%d" % s.sig_port, "tone")
            status, body = await whep.start()
            assert status == 201, (status, body)
        with stage("the WebSocket player decodes video and hears 1 kHz"):
            await ws.wait_frames(1, 8)
            await heard(ws, 1000)
        with stage("the WHEP player decodes video and hears 1 kHz"):
            await heard(whep, 1000)
        with stage("one AAC->opus transcoder serves both"):
            tc = transcoders(s, "tone")
            assert len(tc) == 1 and tc[0]["codec"] == "opus" and tc[0]["players"] == 2, tc
            assert tc[0]["cpu_seconds"] > 0, tc
            assert all(x["name"] != "tone~opus" for x in s.rest("stream/find_all")["streams"])
        with stage("livecdnctl show transcoders and /metrics name it"):
            out = s.ctl("show", "transcoders").stdout
            assert "tone" in out and "opus" in out and "Source" in out, out
            metrics = s.get("/metrics")[1]
            assert "livecdn_transcoders 1" in metrics, metrics[-2000:]
            assert 'livecdn_transcoder_cpu_seconds_total{stream="tone~opus"}' in metrics
    finally:
        await stop_all(ws, whep)
        stop_proc(ff)


# ---------------------------------------------------------------- WebRTC Opus -> RTMP AAC

async def webrtc_opus_to_rtmp(s):
    pub = None
    try:
        with stage("aiortc publishes H.264 + Opus (440 Hz)"):
            pub = Publisher(ws_url(s), "sine", video="H264")
            ev = await pub.start()
            assert ev["status"] == "PUBLISHING", ev
            await pub.wait_connected()
            st = await in_thread(lambda: wait_live(s, "sine", 20))
            assert st["audio"] == "opus", st
        with stage("ffprobe of the RTMP URL shows h264 + aac"):
            probe = await in_thread(lambda: subprocess.run(
                ["ffprobe", "-v", "error", "-rw_timeout", "8000000", "-read_intervals", "%+3", "-show_entries",
                 "stream=codec_name,sample_rate", "-of", "csv=p=0", "rtmp://127.0.0.1:%d/live/sine" % s.rtmp_port],
                capture_output=True, text=True, timeout=30))
            kinds = probe.stdout.split()
            assert any(k.startswith("h264") for k in kinds) and any(k.startswith("aac") for k in kinds), probe
        with stage("ffmpeg decodes >= 50 video frames and hears 440 Hz"):
            frames, pcm, err = await in_thread(lambda: rtmp_listen(rtmp_url(s, "sine"), 4, WORK))
            assert frames >= 50, (frames, err[-2000:])
            ok, hz = tone_ok(pcm, 440)
            assert ok, "ffmpeg hears %s Hz (%d samples): %s" % (hz, len(pcm), err[-1000:])
    finally:
        await stop_all(pub)


# ---------------------------------------------------------------- video: VP8 <-> H.264, and G.711 players

async def vp8_to_rtmp(s):
    pub = None
    try:
        with stage("aiortc publishes VP8 + Opus (440 Hz)"):
            pub = Publisher(ws_url(s), "vp8cam", video="VP8")
            assert (await pub.start())["status"] == "PUBLISHING"
            await pub.wait_connected()
            st = await in_thread(lambda: wait_live(s, "vp8cam", 20))
            assert st["video"] == "VP8" and st["audio"] == "opus", st
        with stage("ffprobe of the RTMP URL shows h264 + aac"):
            probe = await in_thread(lambda: subprocess.run(
                ["ffprobe", "-v", "error", "-rw_timeout", "8000000", "-read_intervals", "%+3", "-show_entries",
                 "stream=codec_name,width,height", "-of", "csv=p=0", "rtmp://127.0.0.1:%d/live/vp8cam" % s.rtmp_port],
                capture_output=True, text=True, timeout=30))
            assert "h264,320,240" in probe.stdout.split() and "aac" in probe.stdout.split(), probe
        with stage("ffmpeg decodes >= 50 H.264 frames and hears 440 Hz"):
            frames, pcm, err = await in_thread(lambda: rtmp_listen(rtmp_url(s, "vp8cam"), 4, WORK))
            assert frames >= 50, (frames, err[-2000:])
            ok, hz = tone_ok(pcm, 440)
            assert ok, hz
        with stage("one transcoder makes both tracks"):
            tc = transcoders(s, "vp8cam")
            assert len(tc) == 1 and tc[0]["codec"] == "h264+aac", tc
    finally:
        await stop_all(pub)


async def h264_to_vp8_and_pcma(s):
    ff = rtmp_publish(s, "tovp8")
    vp8 = pcma = None
    try:
        await in_thread(lambda: wait_live(s, "tovp8"))
        with stage("a player offering only VP8 and Opus (Firefox without OpenH264) is answered VP8"):
            vp8 = Player(ws_url(s), "tovp8", codecs={"video": "video/VP8"})
            ev = await vp8.start("vp8")
            assert ev["status"] == "PLAYING", ev
            assert "VP8" in vp8.codecs and "H264" not in vp8.codecs, vp8.codecs
        with stage("it decodes >= 50 frames of 320x240 in 5 s and hears 1 kHz"):
            await vp8.wait_frames(1, 8)
            await heard(vp8, 1000)
            assert vp8.sizes == {(320, 240)}, vp8.sizes
        with stage("a PCMA-only player is answered PCMA and hears 1 kHz at 8 kHz"):
            pcma = Player(ws_url(s), "tovp8", video=False, codecs={"audio": "audio/PCMA"})
            ev = await pcma.start("pcma")
            assert ev["status"] == "PLAYING" and "PCMA" in pcma.codecs, (ev, pcma.codecs)
            await in_thread(lambda: wait_for(lambda: pcma.audio_frames > 100, 8, "PCMA audio"))
            assert pcma.audio_rates == {8000}, pcma.audio_rates
            assert near(dominant_hz(pcma.pcm), 1000), dominant_hz(pcma.pcm)
        with stage("transcoder/find_all: vp8+opus and pcma, nothing else"):
            codecs = sorted(t["codec"] for t in transcoders(s, "tovp8"))
            assert codecs == ["pcma", "vp8+opus"], codecs
    finally:
        await stop_all(vp8, pcma)
        stop_proc(ff)


# ---------------------------------------------------------------- sharing, capacity, lifetime

def worker_of(p):
    return candidates(p.event["sdp"])[0][1]


async def players_on_both_workers(s, name):
    """Two WebSocket players of `name` on two workers: the second while the first's worker is stopped."""
    first = Player(ws_url(s), name, video=False)
    ev = await first.start("p0")
    assert ev["status"] == "PLAYING", ev
    second = Player(ws_url(s), name, video=False)
    with Stopped(worker_pid_of_udp_port(s, worker_of(first))):
        ev = await second.start("p1")
    assert ev["status"] == "PLAYING", ev
    assert worker_of(first) != worker_of(second), "both players on UDP port %d" % worker_of(first)
    return [first, second]


def rtmp_player(s, name, seconds=30):
    return spawn(["ffmpeg", "-nostdin", "-v", "error", "-rw_timeout", "8000000", "-i",
                  "rtmp://127.0.0.1:%d/live/%s" % (s.rtmp_port, name), "-t", str(seconds), "-f", "null", "-"])


async def one_transcoder_each_way(s):
    ff = rtmp_publish(s, "share")
    pub = None
    players, rtmps = [], []
    try:
        await in_thread(lambda: wait_live(s, "share"))
        with stage("two WebRTC players of an AAC stream on both workers"):
            players = await players_on_both_workers(s, "share")
            await in_thread(lambda: wait_for(lambda: all(p.audio_frames > 20 for p in players), 10, "audio"))
        with stage("exactly one AAC->opus transcoder"):
            tc = transcoders(s, "share")
            assert len(tc) == 1 and tc[0]["codec"] == "opus" and tc[0]["players"] == 2, tc
        with stage("two RTMP players of an Opus stream, on both workers"):
            pub = Publisher(ws_url(s), "opuscam", video="H264")
            assert (await pub.start())["status"] == "PUBLISHING"
            await pub.wait_connected()
            await in_thread(lambda: wait_live(s, "opuscam", 20))
            for _ in range(6):  # connections spread over workers; six give both with near certainty
                rtmps.append(rtmp_player(s, "opuscam"))

            def spread():
                tc = transcoders(s, "opuscam")
                return len(tc) == 1 and tc[0]["players"] == 6 and tc
            tc = await in_thread(lambda: wait_for(spread, 15, "6 RTMP players of opuscam~aac"))
            assert tc[0]["codec"] == "aac", tc
        with stage("still exactly one transcoder each way"):
            assert len(transcoders(s)) == 2, transcoders(s)
    finally:
        await stop_all(pub, *players)
        for p in rtmps:
            stop_proc(p)
        stop_proc(ff)


async def transcoder_worker_killed(s):
    ff = rtmp_publish(s, "move")
    players = []
    try:
        await in_thread(lambda: wait_live(s, "move"))
        publisher = stream_info(s, "move")["owner_pid"]
        for attempt in range(8):
            with stage("players on both workers hear the AAC stream through one transcoder"):
                players = await players_on_both_workers(s, "move")
                await in_thread(lambda: wait_for(lambda: all(p.audio_frames > 20 for p in players), 10, "audio"))
                tc = transcoders(s, "move")
                assert len(tc) == 1, tc
            if tc[0]["pid"] != publisher:
                break
            # the transcoder is on the publisher's worker, whose death would end the source too: again
            with stage("a transcoder beside the publisher is terminated (attempt %d)" % attempt):
                await stop_all(*players)
                s.rest("stream/terminate", {"name": "move~opus"})  # rather than wait out its linger
                await in_thread(lambda: wait_for(lambda: not transcoders(s, "move"), 10, "transcoder gone"))
        assert tc[0]["pid"] != publisher, "8 transcoders in a row on the publisher's worker"
        with stage("the worker that runs the transcoder is killed"):
            owner = tc[0]["pid"]
            survivor = next(p for p in players if worker_pid_of_udp_port(s, worker_of(p)) != owner)
            os.kill(owner, 9)
        with stage("the other worker's player moves to a new transcoder and hears on, at 1 kHz"):
            def moved():
                tc = transcoders(s, "move")
                return len(tc) == 1 and tc[0]["pid"] != owner and tc
            await in_thread(lambda: wait_for(moved, 10, "a new transcoder"))
            a0 = survivor.audio_frames
            await asyncio.sleep(3)
            assert survivor.audio_frames - a0 > 100, survivor.audio_frames - a0
            assert near(dominant_hz(survivor.pcm), 1000), dominant_hz(survivor.pcm)
            assert survivor.pc.connectionState == "connected"
            assert not [e for e in survivor.sig.events if e.get("status") in ("STOPPED", "FAILED")], \
                survivor.sig.events
    finally:
        await stop_all(*players)
        stop_proc(ff)


async def reload_hands_over(s):
    """HUP while a transcoder runs: a player of the new generation joins the old worker's transcoder; when
    the old worker's last session ends it exits, and the player moves on without a gap it would notice."""
    ff = rtmp_publish(s, "hup")
    old = new = None
    try:
        await in_thread(lambda: wait_live(s, "hup"))
        with stage("a player before the reload: a transcoder on an old worker"):
            old = Player(ws_url(s), "hup", video=False)
            assert (await old.start("old"))["status"] == "PLAYING"
            await in_thread(lambda: wait_for(lambda: old.audio_frames > 20, 10, "audio before the reload"))
            gen = s.rest("worker/show")["master"]["generation"]
        with stage("reload; a player of the new generation hears the stream"):
            s.send_signal(signal.SIGHUP)
            await in_thread(lambda: s.wait_ready(generation=gen + 1, timeout=20))
            new = Player(ws_url(s), "hup", video=False)
            assert (await new.start("new"))["status"] == "PLAYING"
            await in_thread(lambda: wait_for(lambda: new.audio_frames > 20, 10, "audio after the reload"))
        with stage("the old player leaves; the new one hears on at 1 kHz, told nothing"):
            await stop_all(old)
            old = None
            a0 = new.audio_frames
            await asyncio.sleep(6)
            assert new.audio_frames - a0 > 250, new.audio_frames - a0
            assert near(dominant_hz(new.pcm), 1000), dominant_hz(new.pcm)
            assert not [e for e in new.sig.events if e.get("status") in ("STOPPED", "FAILED")], new.sig.events
            assert len(transcoders(s, "hup")) == 1, transcoders(s, "hup")
    finally:
        await stop_all(old, new)
        stop_proc(ff)


async def capacity_and_lifetime(s):
    ff1 = rtmp_publish(s, "cap1")
    ff2 = rtmp_publish(s, "cap2")
    p1 = p2 = None
    try:
        await in_thread(lambda: wait_live(s, "cap1"))
        await in_thread(lambda: wait_live(s, "cap2"))
        with stage("the first transcode starts"):
            p1 = Player(ws_url(s), "cap1")
            assert (await p1.start("c1"))["status"] == "PLAYING"
            await in_thread(lambda: wait_for(lambda: p1.audio_frames > 10, 10, "cap1 audio"))
        with stage("past transcoding.max_jobs = 1 a player gets FAILED, Transcoding capacity reached"):
            p2 = Player(ws_url(s), "cap2")
            ev = await p2.start("c2")
            assert ev["status"] == "FAILED" and ev.get("info") == "Transcoding capacity reached", ev
        with stage("the running transcode goes on"):
            a0 = p1.audio_frames
            await asyncio.sleep(2)
            assert p1.audio_frames - a0 > 60, p1.audio_frames - a0
        with stage("a video-only player of cap2 needs no transcoder and plays"):
            await stop_all(p2)
            p2 = Player(ws_url(s), "cap2", audio=False)
            assert (await p2.start("c3"))["status"] == "PLAYING"
            await p2.wait_frames(10, 8)
        with stage("the transcoder ends within 5-9 s of its last player"):
            await stop_all(p1)
            p1 = None
            await asyncio.sleep(3)
            assert len(transcoders(s, "cap1")) == 1, "ended before its linger"
            await in_thread(lambda: wait_for(lambda: not transcoders(s, "cap1"), 8, "transcoder gone"))
        with stage("then the capacity is free again"):
            p1 = Player(ws_url(s), "cap2")
            ev = await p1.start("c4")
            assert ev["status"] == "PLAYING", ev
            await in_thread(lambda: wait_for(lambda: p1.audio_frames > 10, 10, "cap2 audio"))
        with stage("the source's end ends the transcoder and its players hear why"):
            stop_proc(ff2)
            ev = await p1.sig.next_stream_event(10)
            assert ev["status"] == "STOPPED" and ev.get("info") == "Stopped by publisher stop", ev
            await in_thread(lambda: wait_for(lambda: not transcoders(s), 5, "no transcoder"))
    finally:
        await stop_all(p1, p2)
        stop_proc(ff1)
        stop_proc(ff2)


# ---------------------------------------------------------------- A/V sync through sender reports

def record_srs():
    """Each aiortc receiver keeps the (ntp seconds, rtp timestamp) of every SR it gets, in _lc_srs."""
    from aiortc import rtcrtpreceiver
    orig = rtcrtpreceiver.RTCRtpReceiver._handle_rtcp_packet

    async def handle(self, packet):
        if isinstance(packet, rtcrtpreceiver.RtcpSrPacket):
            if not hasattr(self, "_lc_srs"):
                self._lc_srs = []
            self._lc_srs.append((packet.sender_info.ntp_timestamp / 2.0 ** 32, packet.sender_info.rtp_timestamp))
        return await orig(self, packet)
    rtcrtpreceiver.RTCRtpReceiver._handle_rtcp_packet = handle


def receiver(p, kind):
    return next(r for r in p.pc.getReceivers() if r.track.kind == kind)


class OnsetPlayer(Player):
    """Keeps the RTP timestamps of white flashes (video) and beep onsets (audio)."""

    def __init__(self, *a, **kw):
        super().__init__(*a, **kw)
        self.flashes, self.beeps = [], []
        self._white = self._loud = False

    async def _consume(self, track):
        try:
            while True:
                frame = await track.recv()
                if track.kind == "video":
                    self.video_frames += 1
                    white = frame.to_ndarray(format="gray").mean() > 128
                    if white and not self._white:
                        self.flashes.append(frame.pts)
                    self._white = white
                else:
                    self.audio_frames += 1
                    x = frame.to_ndarray().reshape(-1)[::len(frame.layout.channels)]
                    loud = numpy.nonzero(numpy.abs(x.astype(numpy.int32)) > 8000)[0]
                    if len(loud) and not self._loud:
                        self.beeps.append(frame.pts + int(loud[0]))
                    self._loud = len(loud) > 0
        except Exception as e:
            self.errors.append(repr(e))


def sr_time(r, pts, clock):
    """Sender time of a decoded frame's pts (aiortc counts from its first RTP timestamp) through the
    receiver's last SR."""
    ntp, sr_rtp = r._lc_srs[-1]
    rtp = (pts + r._RTCRtpReceiver__timestamp_mapper._origin) & 0xffffffff
    d = (rtp - sr_rtp) & 0xffffffff
    if d >= 1 << 31:
        d -= 1 << 32
    return ntp + d / clock


async def av_sync(s):
    ff = rtmp_publish(s, "flash", FLASH)
    p = None
    try:
        await in_thread(lambda: wait_live(s, "flash"))
        with stage("a player of the flash-and-beep stream, audio through the transcoder"):
            p = OnsetPlayer(ws_url(s), "flash")
            assert (await p.start("av"))["status"] == "PLAYING"
            await p.wait_frames(1, 8)
        with stage("5 flashes and 5 beeps, and sender reports on both tracks"):
            ra, rv = receiver(p, "audio"), receiver(p, "video")
            await in_thread(lambda: wait_for(lambda: len(p.flashes) >= 6 and len(p.beeps) >= 6 and
                                             len(getattr(ra, "_lc_srs", [])) >= 2 and
                                             len(getattr(rv, "_lc_srs", [])) >= 2,
                                             15, "flashes %s beeps %s" % (p.flashes, p.beeps)))
        with stage("the SR-mapped times of each flash and its beep differ < 40 ms"):
            flashes = [sr_time(rv, f, 90000) for f in p.flashes[1:]]
            beeps = [sr_time(ra, b, 48000) for b in p.beeps[1:]]
            diffs = [min((b - f for b in beeps), key=abs) for f in flashes]
            assert sorted(abs(d) for d in diffs)[len(diffs) // 2] < 0.040, "beep - flash (s): %s" % diffs
            assert max(abs(d) for d in diffs) < 0.060, "beep - flash (s): %s" % diffs
            print("# beep - flash through the SRs: %s ms" % [round(d * 1000, 1) for d in diffs], flush=True)
    finally:
        await stop_all(p)
        stop_proc(ff)


def ffmpeg_onsets(url, seconds, workdir):
    """ffmpeg plays an RTMP URL: the stream times (s) of each white flash (mean luma up through 128) and of
    each beep's onset (peak up through -12 dBFS, to the millisecond)."""
    vf, af = os.path.join(workdir, "v.txt"), os.path.join(workdir, "a.txt")
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-rw_timeout", "8000000", "-t", str(seconds), "-i", url,
                    "-map", "0:v", "-vf", "signalstats,metadata=print:key=lavfi.signalstats.YAVG:file=" + vf,
                    "-f", "null", "-", "-map", "0:a", "-af",
                    "aresample=48000,asetnsamples=n=48:p=0,astats=metadata=1:reset=1,"
                    "ametadata=print:key=lavfi.astats.Overall.Peak_level:file=" + af, "-f", "null", "-"],
                   timeout=seconds + 30, check=True)

    def parse(path, key):
        out, t = [], None
        for line in open(path):
            if line.startswith("frame:"):
                t = float(line.split("pts_time:")[1])
            elif line.startswith(key + "="):
                out.append((t, float(line.split("=")[1])))
        return out
    v = parse(vf, "lavfi.signalstats.YAVG")
    a = parse(af, "lavfi.astats.Overall.Peak_level")
    return ([t for (t, y), (_, py) in zip(v[1:], v) if y > 128 >= py],
            [t for (t, p), (_, pp) in zip(a[1:], a) if p > -12 >= pp])


async def av_sync_to_rtmp(s):
    pub = None
    try:
        with stage("aiortc publishes the flash-and-beep file (H.264 + Opus)"):
            pub = Publisher(ws_url(s), "flashrtc", video="H264", source=FLASH)
            assert (await pub.start())["status"] == "PUBLISHING"
            await pub.wait_connected()
            await in_thread(lambda: wait_live(s, "flashrtc", 20))
            await asyncio.sleep(2)  # sender reports on both tracks
        with stage("ffmpeg plays the RTMP URL (AAC through the transcoder): flash and beep < 40 ms apart"):
            flashes, beeps = await in_thread(lambda: ffmpeg_onsets(rtmp_url(s, "flashrtc"), 6, WORK))
            assert len(flashes) >= 4 and len(beeps) >= 4, (flashes, beeps)
            diffs = [min((b - f for b in beeps), key=abs) for f in flashes]
            print("# beep - flash over RTMP: %s ms" % [round(d * 1000, 1) for d in diffs], flush=True)
            assert sorted(abs(d) for d in diffs)[len(diffs) // 2] < 0.040, "beep - flash (s): %s" % diffs
    finally:
        await stop_all(pub)


try:
    make_media()
    make_flash()
    record_srs()
    with Tests() as t:
        s = t.server(workers=2)
        s.start()
        t.case("RTMP H.264 + AAC 44.1 kHz: WebSocket and WHEP players get Opus with the 1 kHz tone, one transcoder",
               lambda: run(rtmp_aac_to_webrtc(s), 60))
        t.case("aiortc H.264 + Opus 440 Hz: the RTMP URL is h264 + aac, ffmpeg hears 440 Hz",
               lambda: run(webrtc_opus_to_rtmp(s), 60))
        t.case("aiortc VP8 + Opus: the RTMP URL is h264 + aac, ffmpeg decodes the video and hears 440 Hz",
               lambda: run(vp8_to_rtmp(s), 60))
        t.case("RTMP H.264 + AAC: a VP8-only player gets VP8 + Opus, a PCMA-only player PCMA with the tone",
               lambda: run(h264_to_vp8_and_pcma(s), 60))
        t.case("players on both workers share one transcoder each way",
               lambda: run(one_transcoder_each_way(s), 60))
        t.case("A/V sync: an RTMP stream's flash and beep, SR-mapped on a WebRTC player, differ < 40 ms",
               lambda: run(av_sync(s), 60))
        # three workers: the transcoder's, unlike the publisher's, is soon found
        m = t.server(workers=3)
        m.start()
        t.case("A/V sync: an aiortc stream's flash and beep, played over RTMP (Opus->AAC), differ < 40 ms",
               lambda: run(av_sync_to_rtmp(s), 60))
        t.case("the transcoder's worker is killed: players elsewhere move to a new transcoder, unaware",
               lambda: run(transcoder_worker_killed(m), 60))
        t.case("a reload while transcoding: the new generation's player hears on when the old worker leaves",
               lambda: run(reload_hands_over(s), 60))
        c = t.server(workers=2, extra="transcoding: { max_jobs = 1; };")
        c.start()
        t.case("transcoding.max_jobs: FAILED past it, nothing running slows; linger; the source's end",
               lambda: run(capacity_and_lifetime(c), 60))
finally:
    kill_all()
