"""DCEP (RFC 8832) from a hostile peer: an aiortc publisher with a working
data channel sends, on SCTP streams of its own choosing, raw
DATA_CHANNEL_OPEN messages: one whose label length runs past the message,
one of an unknown channel type, one whose label carries a line break and a
forged log line. The bad ones are refused (logged, no ACK), the odd label
is ACKed and logged on one line with its control bytes replaced, and the
session goes on (its frames keep coming, its channel still carries text).
"""
import asyncio
import os
import struct
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from aiortc import RTCPeerConnection, RTCSessionDescription  # noqa: E402
from aiortc.contrib.media import MediaPlayer  # noqa: E402
from lcserver import Tests, wait_for  # noqa: E402
from rtc_client import Signaling, force_codec, wait_ice  # noqa: E402

DCEP = 50
FORGED = "2031/01/01 00:00:00.000 [error] 1#master: forged by a data channel label"


def dcep_open(label, channel_type=0, label_len=None):
    label = label.encode()
    return struct.pack("!BBHLHH", 3, channel_type, 0, 0, len(label) if label_len is None else label_len, 0) + label


def stream_info(s, name):
    return next((x for x in s.rest("stream/find_all")["streams"] if x["name"] == name), None)


def hostile_opens(s):
    async def go():
        pc = RTCPeerConnection()
        media = MediaPlayer("testsrc2=size=320x240:rate=25", format="lavfi")
        pc.addTransceiver(media.video, direction="sendonly")
        force_codec(pc, "video", "video/VP8")
        ch = pc.createDataChannel("chat")
        await pc.setLocalDescription(await pc.createOffer())
        await wait_ice(pc)
        sig = await Signaling("ws://127.0.0.1:%d/" % s.sig_port).open()
        try:
            ev = await sig.request({"method": "publishStream", "id": "p", "name": "dcep",
                                    "sdp": pc.localDescription.sdp})
            assert ev["status"] == "PUBLISHING", ev
            opened = asyncio.Event()
            ch.on("open", opened.set)
            await pc.setRemoteDescription(RTCSessionDescription(ev["sdp"], "answer"))
            await asyncio.wait_for(opened.wait(), 10)

            # every DCEP message the server sends us, by SCTP stream
            sctp = pc.sctp
            acks = []
            real = sctp._receive

            async def spy(stream_id, pp_id, data):
                if pp_id == DCEP:
                    acks.append((stream_id, bytes(data)))
                    if stream_id not in sctp._data_channels:
                        return  # ours, not aiortc's (it asserts on an ACK of a stream it did not open)
                await real(stream_id, pp_id, data)
            sctp._receive = spy
            # odd stream ids: the DTLS server side's (RFC 8832 section 6), unused by aiortc's own channel
            await sctp._send(107, DCEP, dcep_open("a\n" + FORGED))         # a label with a line break
            await sctp._send(101, DCEP, dcep_open("lie", label_len=0xffff))   # label past the end
            await sctp._send(103, DCEP, dcep_open("odd", channel_type=0x05))  # no such channel type
            await sctp._send(105, DCEP, b"\x03\x00")                          # shorter than the header
            deadline = time.monotonic() + 5
            while time.monotonic() < deadline and 107 not in [sid for sid, _ in acks]:
                await asyncio.sleep(0.1)
            await asyncio.sleep(0.5)  # room for an ACK the refused ones must not get
            assert (107, b"\x02") in acks, "the OPEN with an odd label got no ACK: %s" % acks
            refused = [sid for sid, _ in acks if sid in (101, 103, 105)]
            assert not refused, "bad OPENs on streams %s were ACKed" % refused

            log = s.log()
            assert "label and protocol run past the message" in log, log[-2000:]
            assert "unknown channel type" in log and "shorter than its 12-byte header" in log, log[-2000:]
            assert not any(line.startswith(FORGED[:30]) for line in log.splitlines()), \
                "a data channel label wrote a line of its own into the log"
            assert 'data channel "a?2031/01/01' in log, log[-2000:]

            # the session goes on
            before = stream_info(s, "dcep")["frames_in"]
            ch.send("still here")
            await asyncio.get_running_loop().run_in_executor(None, lambda: wait_for(
                lambda: stream_info(s, "dcep")["frames_in"] > before + 20, 5, "frames after the bad OPENs"))
            assert pc.connectionState == "connected", pc.connectionState
        finally:
            await sig.close()
            await pc.close()
            media.video.stop()
    asyncio.run(asyncio.wait_for(go(), 60))


with Tests() as t:
    srv = t.server(workers=1, name="lc-dcep")
    srv.start()
    t.case("bad DATA_CHANNEL_OPENs are refused and logged, a label cannot forge a log line, the session goes on",
           hostile_opens, srv)
