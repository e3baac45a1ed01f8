"""Keyframe requests travel (SPEC 6): a PLI from a WebRTC player on any node
reaches the publisher through every hop, at most one per 500 ms per stream.

Two livecdn nodes on loopback (an origin and an edge, distinct ports) and
real aiortc peers in this process: a VP8 publisher on the origin whose
encoder makes a keyframe only when asked (its first frame, then only after a
PLI; libvpx's own keyframe placement is switched off), as browsers do, and
players on the origin and on the edge that send PLIs (RTCRtpReceiver's
_send_rtcp_pli) and note when a keyframe's first packet reaches them. The
publisher's DTLS transport counts the PLIs and FIRs it is sent (its offer
says "ccm fir", as browsers' do). A second publisher, H.264 with IDRs only
on request, is left unasked until the origin's small ring has lapped its
only keyframe: an edge player (through the origin's serve) and an RTMP
player joining then must still get a keyframe.

Before keyframe requests crossed the CDN, the edge player's PLI went
nowhere (its keyframe never came), a request inside the 500 ms window was
dropped, no FIR was sent, and a player or pull joining a ring without a
keyframe waited for one nobody asked for.
"""
import asyncio
import fractions
import os
import re
import socket
import struct
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from lcserver import Tests, free_port, wait_for  # noqa: E402
from rtc_client import Player, Publisher, Signaling  # noqa: E402  (patches aioice for loopback first)

import aiortc.codecs  # noqa: E402
import av  # noqa: E402
from aiortc.codecs.h264 import H264Encoder  # noqa: E402
from aiortc.codecs.vpx import Vp8Encoder, VpxPayloadDescriptor, lib as vpx_lib  # noqa: E402
from aiortc.rtcdtlstransport import RTCDtlsTransport  # noqa: E402
from aiortc.rtcrtpreceiver import RTCRtpReceiver  # noqa: E402
from aiortc.rtp import RtcpPacket, RtcpPsfbPacket  # noqa: E402

LOOP = asyncio.new_event_loop()
asyncio.set_event_loop(LOOP)
STREAM = "live/kf"
WINDOW = 0.5    # the SPEC's 500 ms per stream and hop
ARRIVE = 1.5    # a keyframe at the asking player within this
SMALL_RING = 256 * 1024  # the origin's media.ring_size


def run(coro, timeout=60):
    return LOOP.run_until_complete(asyncio.wait_for(coro, timeout))


# ---------------------------------------------------------------- instrumented aiortc

class OnRequestVp8Encoder(Vp8Encoder):
    """Keyframes only on request, like a browser: libvpx places none of its
    own after the first frame (kf_mode disabled once the codec exists)."""
    made = []  # (monotonic time, forced) of every keyframe encoded

    def encode(self, frame, force_keyframe=False):
        fresh = self.codec is None
        payloads, ts = super().encode(frame, force_keyframe)
        if fresh and self.codec is not None:
            self.cfg.kf_mode = vpx_lib.VPX_KF_DISABLED
            vpx_lib.vpx_codec_enc_config_set(self.codec, self.cfg)
        if payloads and is_keyframe(payloads[0]):
            OnRequestVp8Encoder.made.append((time.monotonic(), force_keyframe))
        return payloads, ts


class OnRequestH264Encoder(H264Encoder):
    """The same for H.264 (libx264, baseline): one IDR at the start, then
    only when asked (this aiortc's own H264Encoder ignores requests)."""
    made = []

    def _encode_frame(self, frame, force_keyframe):
        if self.codec is None:
            c = av.CodecContext.create("libx264", "w")
            c.width, c.height, c.pix_fmt = frame.width, frame.height, "yuv420p"
            c.bit_rate = 1000000
            c.framerate = fractions.Fraction(30, 1)
            c.time_base = fractions.Fraction(1, 30)
            c.options = {"profile": "baseline", "level": "31", "tune": "zerolatency", "forced-idr": "1",
                         "x264-params": "keyint=100000:min-keyint=100000:scenecut=0"}
            c.open()
            self.codec = c
        frame.pict_type = av.video.frame.PictureType.I if force_keyframe else av.video.frame.PictureType.NONE
        data = b"".join(bytes(p) for p in self.codec.encode(frame))
        if data:
            yield from self._split_bitstream(data)

    def encode(self, frame, force_keyframe=False):
        payloads, ts = super().encode(frame, force_keyframe)
        if any(is_h264_idr(p) for p in payloads):
            OnRequestH264Encoder.made.append((time.monotonic(), force_keyframe))
        return payloads, ts


def is_h264_idr(p):
    """Does this RTP payload (single NAL, STAP-A, first FU-A) carry an IDR slice?"""
    if not p:
        return False
    t = p[0] & 0x1F
    if t == 5:
        return True
    if t == 28:
        return len(p) > 1 and bool(p[1] & 0x80) and (p[1] & 0x1F) == 5
    if t == 24:
        i = 1
        while i + 2 < len(p):
            n = p[i] << 8 | p[i + 1]
            if p[i + 2] & 0x1F == 5:
                return True
            i += 2 + n
    return False


aiortc.codecs.Vp8Encoder = OnRequestVp8Encoder  # get_encoder looks the classes up here
aiortc.codecs.H264Encoder = OnRequestH264Encoder


def is_keyframe(payload):
    """The first packet of a VP8 keyframe (RFC 7741: S=1, PID=0, P bit 0)."""
    try:
        desc, data = VpxPayloadDescriptor.parse(payload)
    except ValueError:
        return False
    return bool(desc.partition_start) and desc.partition_id == 0 and len(data) > 0 and not (data[0] & 1)


PUB_TRANSPORTS = set()
PUB_FEEDBACK = []  # (monotonic time, "pli" | "fir", FIR seq_nr) of what the publisher is sent
_rtcp_in = RTCDtlsTransport._handle_rtcp_data


async def _counting_rtcp(self, data):
    if self in PUB_TRANSPORTS:
        try:
            for p in RtcpPacket.parse(data):
                if isinstance(p, RtcpPsfbPacket) and p.fmt == 1:
                    PUB_FEEDBACK.append((time.monotonic(), "pli", None))
                elif isinstance(p, RtcpPsfbPacket) and p.fmt == 4 and len(p.fci) >= 8:
                    PUB_FEEDBACK.append((time.monotonic(), "fir", p.fci[4]))  # its seq_nr
        except ValueError:
            pass
    await _rtcp_in(self, data)


RTCDtlsTransport._handle_rtcp_data = _counting_rtcp

KEYS_AT = {}  # receiver -> [monotonic times of keyframe starts]
SSRC = {}     # receiver -> the server's video SSRC
_rtp_in = RTCRtpReceiver._handle_rtp_packet


async def _noting_rtp(self, packet, arrival_time_ms):
    if getattr(self, "_RTCRtpReceiver__kind", None) == "video":
        SSRC[self] = packet.ssrc
        if is_keyframe(packet.payload):
            KEYS_AT.setdefault(self, []).append(time.monotonic())
    await _rtp_in(self, packet, arrival_time_ms)


RTCRtpReceiver._handle_rtp_packet = _noting_rtp


def video_receiver(player):
    for r in player.pc.getReceivers():
        if r.track and r.track.kind == "video":
            return r
    raise AssertionError("player %s has no video receiver" % player.sid)


# ---------------------------------------------------------------- nodes

def udp_base():
    """8 free UDP ports in a row (4 per node) below the ephemeral range aiortc uses."""
    for k in range(200):
        base = 21000 + (os.getpid() * 11 + k * 37) % 11000
        socks = []
        try:
            for port in range(base, base + 8):
                u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                socks.append(u)
                u.bind(("127.0.0.1", port))
            return base
        except OSError:
            pass
        finally:
            for u in socks:
                u.close()
    raise AssertionError("no 8 free UDP ports")


def start_nodes(t):
    base = udp_base()
    o_port, e_port = free_port(), free_port()
    conf = ('cdn: { enabled = true; role = "%s"; ip = "127.0.0.1"; port = %d; %s keepalive_interval = 1; };\n'
            'webrtc: { udp_ports = "%d-%d"; };')
    origin = t.server(workers=2, name="lc-kf-origin",
                      extra=conf % ("origin", o_port, "", base, base + 3))
    # a small ring on the origin, so a stream whose publisher was not asked
    # for a while holds no keyframe there any more (lapped_edge, lapped_rtmp)
    with open(origin.conf) as f:
        text = f.read()
    assert 'ring_size = "4M"' in text
    origin.write_conf(raw=text.replace('ring_size = "4M"', 'ring_size = "%dK"' % (SMALL_RING // 1024)))
    edge = t.server(workers=1, name="lc-kf-edge",
                    extra=conf % ("edge", e_port, 'point_of_entry = "127.0.0.1:%d";' % o_port, base + 4, base + 7))
    origin.start()
    edge.start()
    return origin, edge


def frames_in(s):
    for st in s.rest("stream/find_all")["streams"]:
        if st["name"] == STREAM:
            return st["frames_in"]
    return 0


def sig_url(s):
    return "ws://127.0.0.1:%d/" % s.sig_port


# ---------------------------------------------------------------- the cases

class World:
    pub = None
    players = {}


W = World()


def offer_ccm_fir(sdp):
    """What browsers offer and aiortc does not: "ccm fir" beside "nack pli"."""
    return re.sub(r"^a=rtcp-fb:(\d+) nack pli\r\n", lambda m: m.group(0) + "a=rtcp-fb:%s ccm fir\r\n" % m.group(1),
                  sdp, flags=re.M)


async def setup(origin, edge):
    W.pub = Publisher(sig_url(origin), STREAM)
    sig = await Signaling(sig_url(origin)).open()
    request = sig.request

    async def munged(msg, timeout=10):
        msg = dict(msg, sdp=offer_ccm_fir(msg["sdp"]))
        assert "ccm fir" in msg["sdp"]
        return await request(msg, timeout)
    sig.request = munged
    ev = await W.pub.start(sig=sig)
    assert "ccm fir" in ev.get("sdp", ""), "the answer does not accept ccm fir"
    assert ev.get("status") == "PUBLISHING", ev
    PUB_TRANSPORTS.add(W.pub.pc.getSenders()[0].transport)
    await W.pub.wait_connected()
    await asyncio.get_event_loop().run_in_executor(
        None, lambda: wait_for(lambda: frames_in(origin) > 20, 10, "frames in the origin's ring"))
    # the edge learns the stream's route from the origin's state
    await asyncio.get_event_loop().run_in_executor(
        None, lambda: wait_for(lambda: any(r["stream"] == STREAM for r in edge.rest("cdn/show_routes")),
                               15, "the edge's route to %s" % STREAM))
    for where, s in (("origin", origin), ("edge", edge)):
        p = Player(sig_url(s), STREAM, audio=False)
        ev = await p.start(sid="v-" + where)
        assert ev.get("status") == "PLAYING", (where, ev)
        await p.wait_frames(10, timeout=15)
        W.players[where] = p


async def send_fir(r, seq):
    rtcp_ssrc = r._RTCRtpReceiver__rtcp_ssrc
    await r._send_rtcp(RtcpPsfbPacket(fmt=4, ssrc=rtcp_ssrc, media_ssrc=0,
                                      fci=struct.pack("!LBxxx", SSRC[r], seq)))


async def keyframes_on_request(where, rounds=3):
    """Each PLI (the second time a FIR) of this player brings a keyframe to
    it within ARRIVE s."""
    p = W.players[where]
    r = video_receiver(p)
    for i in range(rounds):
        await asyncio.sleep(WINDOW + 0.3)  # > 500 ms since the last request anywhere
        t0 = time.monotonic()
        made0 = len(OnRequestVp8Encoder.made)
        if i == 1:
            await send_fir(r, 7)
        else:
            await r._send_rtcp_pli(SSRC[r])
        deadline = t0 + ARRIVE
        while not any(k > t0 for k in KEYS_AT.get(r, [])):
            if time.monotonic() > deadline:
                asked = [round(ft - t0, 3) for ft, kind, _ in PUB_FEEDBACK if kind == "pli" and ft > t0]
                raise AssertionError("round %d: no keyframe at the %s player %.1f s after its PLI "
                                     "(the publisher was asked at %s s, encoded %d keyframes since)"
                                     % (i + 1, where, ARRIVE, asked, len(OnRequestVp8Encoder.made) - made0))
            await asyncio.sleep(0.01)
        assert p.pc.connectionState == "connected"
    # and the player still decodes
    n = p.video_frames
    await p.wait_frames(n + 5, timeout=5)


async def burst_coalesced():
    """20 PLIs in 100 ms from the edge player: the publisher is asked at
    once, then once more when the 500 ms window ends (the last request is
    held, at every hop, not dropped), and never twice within 500 ms."""
    r = video_receiver(W.players["edge"])
    await asyncio.sleep(WINDOW + 0.3)
    t0 = time.monotonic()
    for i in range(20):
        await r._send_rtcp_pli(SSRC[r])
        await asyncio.sleep(0.005)
    assert time.monotonic() - t0 < 0.3, "the burst took %.2f s" % (time.monotonic() - t0)
    await asyncio.sleep(1.5)
    plis = [ft - t0 for ft, kind, _ in PUB_FEEDBACK if kind == "pli" and ft > t0]
    shown = [round(x, 3) for x in plis]
    assert len(plis) >= 2, "the publisher was asked %d times (at %s s): the held request was lost" % (
        len(plis), shown)
    assert plis[0] < 0.5, "the first request took %.3f s" % plis[0]
    assert plis[1] - plis[0] < WINDOW + 0.5, "the held request went out %.3f s after the first, not when the window ended" % (
        plis[1] - plis[0])
    gaps = [b - a for a, b in zip(plis, plis[1:])]
    assert min(gaps) > WINDOW - 0.1, "two requests within 500 ms at the publisher: %s s" % shown
    assert len(plis) <= 3, "the publisher was asked %d times in 1.5 s: %s" % (len(plis), shown)


def stream_bytes(s, name):
    for st in s.rest("stream/find_all")["streams"]:
        if st["name"] == name:
            return st["bytes_in"]
    return 0


QUIET = "kfquiet"  # also rtmp://.../live/kfquiet


async def in_thread(fn):
    return await asyncio.get_event_loop().run_in_executor(None, fn)


async def wait_lapped(origin):
    """Until the origin's ring has lapped the quiet stream's last keyframe
    (nobody asked it for one since)."""
    await asyncio.sleep(1.0)  # a keyframe asked for just now is encoded and written
    made = len(OnRequestH264Encoder.made)
    start = stream_bytes(origin, QUIET)
    await in_thread(lambda: wait_for(lambda: stream_bytes(origin, QUIET) > start + SMALL_RING * 1.2,
                                     20, "%s to lap the origin's ring" % QUIET, step=0.2))
    assert len(OnRequestH264Encoder.made) == made, "the quiet stream's publisher made a keyframe: %s" % [
        round(time.monotonic() - kt, 2) for kt, _ in OnRequestH264Encoder.made[made:]]


async def lapped_edge(origin, edge):
    """A second stream (H.264, keyframes only on request), asked for nothing
    since it started, until the origin's ring has lapped its only keyframe:
    the edge's first player of it, whose pull the origin serves from no
    keyframe, still gets one."""
    pub = Publisher(sig_url(origin), QUIET, video="H264", size="640x480")  # more bytes a second: laps sooner
    W.players["quiet-pub"] = pub
    ev = await pub.start(sid="p-quiet")
    assert ev.get("status") == "PUBLISHING", ev
    await pub.wait_connected()
    await in_thread(lambda: wait_for(lambda: stream_bytes(origin, QUIET) > 0, 10, "%s's frames" % QUIET))
    await wait_lapped(origin)
    await in_thread(lambda: wait_for(lambda: any(r["stream"] == QUIET for r in edge.rest("cdn/show_routes")),
                                     15, "the edge's route to %s" % QUIET))
    p = Player(sig_url(edge), QUIET, audio=False)
    W.players["quiet"] = p
    ev = await p.start(sid="v-quiet")
    assert ev.get("status") == "PLAYING", ev
    await p.wait_frames(1, timeout=ARRIVE + 1.5)


async def lapped_rtmp(origin):
    """An RTMP player joining the quiet stream when the origin's ring holds
    no keyframe of it: its join asks, and its first frame comes at once."""
    await wait_lapped(origin)
    url = "rtmp://127.0.0.1:%d/live/%s" % (origin.rtmp_port, QUIET)
    t0 = time.monotonic()
    r = await in_thread(lambda: subprocess.run(
        ["ffmpeg", "-nostdin", "-v", "error", "-rw_timeout", "6000000", "-analyzeduration", "500000",
         "-i", url, "-map", "0:v", "-frames:v", "1", "-f", "null", "-"],
        stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=15))
    took = time.monotonic() - t0
    assert r.returncode == 0, "ffmpeg got no video frame of %s (%.1f s): %s" % (QUIET, took, r.stderr[-1500:])
    assert took < 4, "the RTMP player's first video frame took %.1f s" % took


def fir_beside_pli():
    """The publisher offered "ccm fir": every request it got was a PLI with
    a FIR beside it, each FIR with a new seq_nr (RFC 5104: a repeated one
    is a retransmission)."""
    plis = [e for e in PUB_FEEDBACK if e[1] == "pli"]
    firs = [e for e in PUB_FEEDBACK if e[1] == "fir"]
    assert len(plis) >= 6 and len(firs) == len(plis), "%d PLIs, %d FIRs" % (len(plis), len(firs))
    seqs = [e[2] for e in firs]
    assert all((b - a) % 256 == 1 for a, b in zip(seqs, seqs[1:])), "FIR seq_nr: %s" % seqs


def edge_pull_alive(edge):
    wait_for(lambda: frames_in(edge) > 0, 5, "the edge's pull")


async def teardown():
    for p in list(W.players.values()):
        await p.stop()
    if W.pub:
        await W.pub.stop()


try:
    with Tests() as t:
        origin, edge = start_nodes(t)
        W.edge = edge
        wait_for(lambda: any(n["state"] == "ACTIVE" and not n["self"] for n in edge.rest("cdn/show_nodes")),
                 20, "the edge to join the origin")
        t.case("setup: a publisher making keyframes only on request; a WebRTC player on the origin and one "
               "on the edge", lambda: run(setup(origin, edge), 45))
        t.case("a PLI or FIR from the edge player brings a keyframe to it within 1.5 s, three times",
               lambda: run(keyframes_on_request("edge"), 20))
        t.case("a PLI or FIR from the origin player brings a keyframe to it within 1.5 s, three times",
               lambda: run(keyframes_on_request("origin"), 20))
        t.case("20 PLIs in 100 ms on the edge: the publisher is asked once at once and once 500 ms later",
               lambda: run(burst_coalesced(), 25))
        t.case("the publisher offered ccm fir: each request was a PLI and a FIR with a new seq_nr", fir_beside_pli)
        t.case("an edge player of a stream whose origin ring has lapped its keyframe gets one",
               lambda: run(lapped_edge(origin, edge), 45))
        t.case("an RTMP player joining with no keyframe cached gets one at once",
               lambda: run(lapped_rtmp(origin), 40))
        t.case("the edge's pull survived the keyframe requests", lambda: edge_pull_alive(edge))
        try:
            run(teardown(), 15)
        except Exception as ex:
            print("# teardown: %r" % (ex,))
finally:
    try:
        LOOP.run_until_complete(asyncio.sleep(0.1))
        LOOP.close()
    except Exception:
        pass
