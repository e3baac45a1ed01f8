"""WHIP and WHEP on the signaling port (aiortc as client): POST an offer,
201 with Location and the answer, media flows, DELETE ends the session;
OPTIONS answers CORS; wrong content type, missing stream, name in use and
the publish token are refused with the right status."""
import asyncio
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from lcserver import Tests, wait_for  # noqa: E402
from whip_client import WhepPlayer, WhipPublisher, http  # noqa: E402


def base(s):
    return "http://127.0.0.1:%d" % s.sig_port


def whip_then_whep(s):
    async def go():
        pub = WhipPublisher(base(s), "w1")
        status, _ = await pub.start()
        assert status == 201 and pub.location.startswith("/whip/w1/"), (status, pub.location)
        players = [WhepPlayer(base(s), "w1") for _ in range(2)]
        for p in players:
            status, body = await p.start()
            assert status == 201 and p.location.startswith("/whep/w1/"), (status, body[:200])
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and min(p.video_frames for p in players) < 40:
            await asyncio.sleep(0.2)
        for p in players:
            assert p.video_frames >= 40 and p.sizes == {(320, 240)} and p.audio_samples > 0, \
                (p.video_frames, p.sizes, p.audio_samples)
        # a second WHIP publisher of the live name
        other = WhipPublisher(base(s), "w1")
        status, body = await other.start()
        assert status == 409 and "Stream name in use" in body, (status, body)
        await other.stop(delete=False)
        for p in players:
            await p.stop()
        # DELETE ends the publish: the stream leaves the table
        await pub.stop()
        wait_for(lambda: not any(x["name"] == "w1" for x in s.rest("stream/find_all")["streams"]), 10,
                 "stream gone after DELETE")
    asyncio.run(asyncio.wait_for(go(), 90))


def refusals(s):
    status, headers, _ = http("OPTIONS", base(s) + "/whip/x")
    assert status == 204 and headers.get("Access-Control-Allow-Origin") == "*", (status, headers)
    assert "POST" in headers.get("Access-Control-Allow-Methods", ""), headers
    status, _, body = http("POST", base(s) + "/whep/nothing", "v=0\r\n")
    assert status == 404 and "Stream not found" in body, (status, body)
    status, _, body = http("POST", base(s) + "/whip/x", "v=0\r\n", ctype="text/plain")
    assert status == 415, (status, body)
    status, _, body = http("POST", base(s) + "/whip/x", "garbage")
    assert status == 400 and body.startswith("Bad SDP"), (status, body)
    status, _, body = http("DELETE", base(s) + "/whep/x/0123")
    assert status == 404, (status, body)
    status, _, body = http("GET", base(s) + "/whip/x")
    assert status == 405, (status, body)
    status, _, body = http("POST", base(s) + "/whip/x", "v=0\r\n" + "a=x\r\n" * 20000)
    assert status == 413 and "Bad SDP" in body, (status, body)


def token(s):
    async def go():
        pub = WhipPublisher(base(s), "t1")
        status, body = await pub.start()
        assert status == 401 and "Not authorized" in body, (status, body)
        await pub.stop(delete=False)
    asyncio.run(asyncio.wait_for(go(), 30))
    assert "refused: no or wrong bearer token" in s.log()


with Tests() as t:
    s = t.server(workers=2).start()
    t.case("WHIP publish, two WHEP players decode, name in use is 409, DELETE ends the stream", whip_then_whep, s)
    t.case("OPTIONS (CORS), 404, 415, 400 Bad SDP, 405, 413 and unknown DELETE", refusals, s)
    locked = t.server(workers=1, extra='signaling: { publish_token = "s3cret"; };')
    locked.write_conf(raw=open(locked.conf).read().replace(
        'signaling: { listen = "127.0.0.1:%d"; };' % locked.sig_port,
        'signaling: { listen = "127.0.0.1:%d"; publish_token = "s3cret"; };' % locked.sig_port).replace(
        'signaling: { publish_token = "s3cret"; };', ''))
    locked.start()
    t.case("signaling.publish_token: WHIP without the bearer token is 401", token, locked)
