"""Codecs through the CDN (SPEC 6): an origin and an edge on distinct
loopback ports; which node transcodes, seen in transcoder/find_all of each.
  RTMP AAC origin -> RTMP edge player: no transcode anywhere;
  RTMP Speex origin -> RTMP edge player: none (Speex plays as it is);
  WebRTC Opus origin -> RTMP edge player: Opus->AAC on the edge;
  RTMP AAC origin -> WebRTC edge player: AAC->Opus on the edge;
  RTMP Speex origin -> WebRTC edge player: Speex->Opus on the edge;
  an edge whose cdn.codecs_exclude leaves only opus: the origin transcodes
  AAC->Opus once (for every such edge) and the edge forwards it.
Each player is a real client (ffmpeg, ffprobe, aiortc) that hears the
source's tone."""
import asyncio
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from lcserver import Tests, free_port, wait_for  # noqa: E402
from procs import kill_all, spawn, stop_proc  # noqa: E402
from media_check import heard, near, pcm_hz, rtmp_listen, stage, tone_ok, transcoders  # noqa: E402
from rtc_client import Player, Publisher  # noqa: E402

WORK = tempfile.mkdtemp(prefix="lc-cdn-codecs-")
AAC = os.path.join(WORK, "aac.flv")
SPEEX = os.path.join(WORK, "speex.flv")
LOOP = asyncio.new_event_loop()
asyncio.set_event_loop(LOOP)


def run(coro, timeout=60):
    return LOOP.run_until_complete(asyncio.wait_for(coro, timeout))


def make_media():
    video = ["-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25"]
    common = ["-t", "10", "-c:v", "libx264", "-profile:v", "baseline", "-preset", "ultrafast", "-g", "25",
              "-pix_fmt", "yuv420p"]
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-y"] + video +
                   ["-f", "lavfi", "-i", "sine=frequency=1000:sample_rate=44100"] + common +
                   ["-c:a", "aac", "-ar", "44100", "-f", "flv", AAC], check=True, timeout=120)
    # FLV's Speex is 16 kHz mono
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-y"] + video +
                   ["-f", "lavfi", "-i", "sine=frequency=600:sample_rate=16000"] + common +
                   ["-c:a", "libspeex", "-ar", "16000", "-ac", "1", "-f", "flv", SPEEX], check=True, timeout=120)


def file_tone(media):
    """The tone of a media file as ffmpeg itself decodes it: what every player must hear (libspeex at 16 kHz
    shifts a lavfi sine: the reference is the file, not the generator)."""
    raw = subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-i", media, "-map", "0:a", "-ac", "1", "-ar", "48000",
                          "-f", "s16le", "-"], capture_output=True, check=True, timeout=60).stdout
    import numpy
    return pcm_hz(numpy.frombuffer(raw, dtype=numpy.int16)[48000:])




def url(s, name):
    return "rtmp://127.0.0.1:%d/live/%s" % (s.rtmp_port, name)


def publish(s, name, media):
    return spawn(["ffmpeg", "-nostdin", "-v", "error", "-re", "-stream_loop", "-1", "-i", media, "-c", "copy",
                  "-f", "flv", url(s, name)])


def stream_info(s, name):
    for st in s.rest("stream/find_all")["streams"]:
        if st["name"] == name:
            return st
    return None


async def in_thread(fn):
    return await asyncio.get_running_loop().run_in_executor(None, fn)


def nodes(t):
    """An origin, an edge, and an edge that forwards Opus alone (cdn.codecs_exclude)."""
    o_port, e_port, x_port = free_port(), free_port(), free_port()
    cdn = 'cdn: { enabled = true; role = "%s"; ip = "127.0.0.1"; port = %d; keepalive_interval = 1; %s };'
    entry = 'point_of_entry = "127.0.0.1:%d";' % o_port
    o = t.server(workers=2, name="lc-cc-origin", extra=cdn % ("origin", o_port, ""))
    e = t.server(workers=2, name="lc-cc-edge", extra=cdn % ("edge", e_port, entry))
    x = t.server(workers=1, name="lc-cc-opus", extra=cdn % ("edge", x_port, entry + ' codecs_exclude = '
                                                                 '["mpeg4-generic", "PCMA", "PCMU", "G722", "speex"];'))
    for s in (o, e, x):
        s.start()
    return o, e, x


def routed(e, name):
    wait_for(lambda: any(r["stream"] == name for r in e.rest("cdn/show_routes")), 15, "route of %s on the edge" % name)


def codec_names(st):
    return st["video"], st["audio"]


async def rtmp_to_rtmp(o, e, name, media, audio, tone):
    ff = publish(o, name, media)
    try:
        with stage("the %s stream is live on the origin and routed on the edge" % audio):
            st = await in_thread(lambda: wait_for(lambda: (stream_info(o, name) or {}).get("frames_in", 0) > 30
                                                  and stream_info(o, name), 15, "stream"))
            assert st["audio"] == audio, st
            await in_thread(lambda: routed(e, name))
        with stage("ffmpeg on the edge decodes the video and hears %.0f Hz" % tone):
            frames, pcm, err = await in_thread(lambda: rtmp_listen(url(e, name), 4, WORK))
            assert frames >= 50, (frames, err[-1500:])
            ok, hz = tone_ok(pcm, tone)
            assert ok, (hz, err[-1500:])
        with stage("the edge plays it as the origin has it: no transcoder on either node"):
            assert stream_info(e, name)["audio"] == audio, stream_info(e, name)
            assert transcoders(o) == [] and transcoders(e) == [], (transcoders(o), transcoders(e))
    finally:
        stop_proc(ff)


async def rtmp_to_webrtc(o, e, name, media, tone, source_audio):
    ff = publish(o, name, media)
    p = None
    try:
        await in_thread(lambda: wait_for(lambda: (stream_info(o, name) or {}).get("frames_in", 0) > 30, 15, "live"))
        await in_thread(lambda: routed(e, name))
        with stage("an aiortc player on the edge gets Opus and hears %.0f Hz" % tone):
            p = Player("ws://127.0.0.1:%d/" % e.sig_port, name)
            ev = await p.start("e1")
            assert ev["status"] == "PLAYING" and "OPUS" in p.codecs, (ev, p.codecs)
            await p.wait_frames(1, 8)
            await heard(p, tone)
        with stage("%s->opus on the edge, nothing on the origin" % source_audio):
            te = transcoders(e, name)
            assert len(te) == 1 and te[0]["codec"] == "opus", te
            assert transcoders(o) == [], transcoders(o)
    finally:
        if p:
            await p.stop()
        stop_proc(ff)


async def webrtc_to_rtmp(o, e):
    pub = None
    try:
        with stage("aiortc publishes H.264 + Opus (440 Hz) on the origin"):
            pub = Publisher("ws://127.0.0.1:%d/" % o.sig_port, "rtc", video="H264")
            assert (await pub.start())["status"] == "PUBLISHING"
            await pub.wait_connected()
            await in_thread(lambda: wait_for(lambda: (stream_info(o, "rtc") or {}).get("frames_in", 0) > 20, 10,
                                             "live"))
            await in_thread(lambda: routed(e, "rtc"))
        with stage("ffmpeg on the edge hears 440 Hz as AAC"):
            frames, pcm, err = await in_thread(lambda: rtmp_listen(url(e, "rtc"), 4, WORK))
            assert frames >= 50, (frames, err[-1500:])
            ok, hz = tone_ok(pcm, 440)
            assert ok, (hz, err[-1500:])
        with stage("opus->aac on the edge, nothing on the origin; the edge pulled Opus"):
            te = transcoders(e, "rtc")
            assert len(te) == 1 and te[0]["codec"] == "aac", te
            assert transcoders(o) == [], transcoders(o)
            assert stream_info(e, "rtc")["audio"] == "opus", stream_info(e, "rtc")
    finally:
        if pub:
            await pub.stop()


async def origin_transcodes_once(o, e, x):
    ff = publish(o, "once", AAC)
    players = []
    try:
        await in_thread(lambda: wait_for(lambda: (stream_info(o, "once") or {}).get("frames_in", 0) > 30, 15, "live"))
        await in_thread(lambda: routed(x, "once"))
        with stage("two aiortc players on the Opus-only edge hear the tone"):
            for i in range(2):
                p = Player("ws://127.0.0.1:%d/" % x.sig_port, "once")
                players.append(p)
                ev = await p.start("x%d" % i)
                assert ev["status"] == "PLAYING" and "OPUS" in p.codecs, (ev, p.codecs)
            await players[0].wait_frames(1, 10)
            await heard(players[0], TONE[AAC])
            assert players[1].audio_frames > 50, players[1].audio_frames
        with stage("the origin made AAC->opus once, for the edge; the edge pulled Opus and transcodes nothing"):
            to = transcoders(o, "once")
            assert len(to) == 1 and to[0]["codec"] == "opus" and to[0]["players"] >= 1, to
            assert transcoders(x) == [], transcoders(x)
            assert stream_info(x, "once")["audio"] == "opus", stream_info(x, "once")
        with stage("the plain edge still pulls AAC and transcodes for its own WebRTC player"):
            p = Player("ws://127.0.0.1:%d/" % e.sig_port, "once")
            players.append(p)
            assert (await p.start("e"))["status"] == "PLAYING"
            await p.wait_frames(1, 10)
            await in_thread(lambda: wait_for(lambda: p.audio_frames > 20, 10, "audio on the plain edge"))
            assert stream_info(e, "once")["audio"] == "AAC", stream_info(e, "once")
            assert [t["codec"] for t in transcoders(e, "once")] == ["opus"], transcoders(e)
            assert len(transcoders(o, "once")) == 1, transcoders(o)
    finally:
        for p in players:
            await p.stop()
        stop_proc(ff)


try:
    make_media()
    TONE = {AAC: file_tone(AAC), SPEEX: file_tone(SPEEX)}
    assert near(TONE[AAC], 1000), TONE
    with Tests() as t:
        o, e, x = nodes(t)
        t.case("RTMP AAC origin -> RTMP edge player: no transcode",
               lambda: run(rtmp_to_rtmp(o, e, "aac", AAC, "AAC", TONE[AAC])))
        t.case("RTMP Speex origin -> RTMP edge player: no transcode",
               lambda: run(rtmp_to_rtmp(o, e, "spx", SPEEX, "speex", TONE[SPEEX])))
        t.case("WebRTC Opus origin -> RTMP edge player: Opus->AAC on the edge",
               lambda: run(webrtc_to_rtmp(o, e)))
        t.case("RTMP AAC origin -> WebRTC edge player: AAC->Opus on the edge",
               lambda: run(rtmp_to_webrtc(o, e, "aac2", AAC, TONE[AAC], "AAC")))
        t.case("RTMP Speex origin -> WebRTC edge player: Speex->Opus on the edge",
               lambda: run(rtmp_to_webrtc(o, e, "spx2", SPEEX, TONE[SPEEX], "Speex")))
        t.case("an edge with codecs_exclude leaving opus: the origin transcodes AAC->Opus once, the edge forwards it",
               lambda: run(origin_transcodes_once(o, e, x)))
finally:
    kill_all()
