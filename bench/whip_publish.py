"""whip_publish.py: the publisher of bench/webrtc_bench.sh. One aiortc peer
pushes a generated VP8 640x360 25 fps (testsrc2) + Opus (sine) stream to
livecdn's WHIP endpoint and keeps it up until SIGTERM/SIGINT.

Run with /usr/bin/python3 (Debian's python3-aiortc). aiortc sets its VP8
encoder's bitrate from the server's REMB, within its own bounds (500 kbps
at start, at most 1.5 Mbit/s in aiortc 1.4), so the bitrate is not chosen
here: the bench reads the real one from the REST API.

Usage: whip_publish.py http://HOST:PORT NAME [WIDTHxHEIGHT]
Prints "published" on stdout once the server answered 201 and ICE is up;
exits 1 when the server refused the offer or the connection failed."""
import asyncio
import os
import signal
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "lib"))

from rtc_client import force_codec, new_pc, wait_ice  # noqa: E402  (patches aioice for loopback)
from aiortc import RTCSessionDescription  # noqa: E402
from aiortc.contrib.media import MediaPlayer  # noqa: E402
from whip_client import http  # noqa: E402


async def main(base, name, size):
    pc = new_pc()
    vplayer = MediaPlayer("testsrc2=size=%s:rate=25" % size, format="lavfi")
    aplayer = MediaPlayer("sine=frequency=440:sample_rate=48000", format="lavfi")
    pc.addTransceiver(vplayer.video, direction="sendonly")
    pc.addTransceiver(aplayer.audio, direction="sendonly")
    force_codec(pc, "video", "video/VP8")
    await pc.setLocalDescription(await pc.createOffer())
    await wait_ice(pc)
    loop = asyncio.get_event_loop()
    status, headers, body = await loop.run_in_executor(None, http, "POST", "%s/whip/%s" % (base, name),
                                                       pc.localDescription.sdp)
    if status != 201:
        print("whip_publish: POST answered %s: %s" % (status, body.strip()[:200]), file=sys.stderr)
        await pc.close()
        return 1
    await pc.setRemoteDescription(RTCSessionDescription(body, "answer"))
    done = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, done.set)

    @pc.on("connectionstatechange")
    def on_state():
        if pc.connectionState == "connected":
            print("published", flush=True)
        elif pc.connectionState in ("failed", "closed"):
            print("whip_publish: connection %s" % pc.connectionState, file=sys.stderr)
            done.set()

    await done.wait()
    location = headers.get("Location")
    if location:
        await loop.run_in_executor(None, http, "DELETE", base + location)
    await pc.close()
    return 0 if pc.connectionState != "failed" else 1


if __name__ == "__main__":
    if len(sys.argv) < 3:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    sys.exit(asyncio.run(main(sys.argv[1], sys.argv[2], sys.argv[3] if len(sys.argv) > 3 else "640x360")))
