"""wss:// and https://: signaling.tls_listen serves the WebSocket protocol
and WHIP/WHEP over TLS, http.tls_listen the REST API, metrics and pages;
`livecdn -t` refuses a TLS address without certificate, a missing file and
a key that does not belong to its certificate."""
import asyncio
import json
import os
import ssl
import subprocess
import sys
import tempfile
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
import websockets  # noqa: E402
from lcserver import BIN, Tests, free_port  # noqa: E402

CERTS = tempfile.mkdtemp(prefix="lc-tls-")


def make_cert(name):
    key, crt = os.path.join(CERTS, name + ".key"), os.path.join(CERTS, name + ".crt")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                    "-keyout", key, "-out", crt, "-days", "2", "-subj", "/CN=127.0.0.1"],
                   check=True, capture_output=True, timeout=30)
    return crt, key


CRT, KEY = make_cert("a")
CRT2, KEY2 = make_cert("b")
NOVERIFY = ssl.create_default_context()
NOVERIFY.check_hostname = False
NOVERIFY.verify_mode = ssl.CERT_NONE


def tls_conf(s, wss, https, crt=CRT, key=KEY):
    text = open(s.conf).read()
    text = text.replace('signaling: { listen = "127.0.0.1:%d"; };' % s.sig_port,
                        'signaling: { listen = "127.0.0.1:%d"; tls_listen = "127.0.0.1:%d"; '
                        'tls_certificate = "%s"; tls_certificate_key = "%s"; };' % (s.sig_port, wss, crt, key))
    text = text.replace('http: { listen = "127.0.0.1:%d"; root = "html"; };' % s.http_port,
                        'http: { listen = "127.0.0.1:%d"; tls_listen = "127.0.0.1:%d"; root = "html"; };'
                        % (s.http_port, https))
    s.write_conf(raw=text)


def wss_signaling(s):
    async def go():
        async with websockets.connect("wss://127.0.0.1:%d/" % s.wss_port, ssl=NOVERIFY, open_timeout=10) as ws:
            await ws.send(json.dumps({"method": "connect"}))
            ev = json.loads(await asyncio.wait_for(ws.recv(), 10))
            assert ev["status"] == "ESTABLISHED", ev
            await ws.send(json.dumps({"method": "ping"}))
            assert json.loads(await asyncio.wait_for(ws.recv(), 10)) == {"event": "pong"}
            await ws.send(json.dumps({"method": "playStream", "id": "1", "name": "none", "sdp": "v=0"}))
            ev = json.loads(await asyncio.wait_for(ws.recv(), 10))
            assert ev["status"] == "FAILED", ev
    asyncio.run(go())


def https_rest_and_pages(s):
    req = urllib.request.Request("https://127.0.0.1:%d/rest-api/worker/show" % s.https_port, data=b"{}",
                                 method="POST", headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, context=NOVERIFY, timeout=10) as r:
        body = json.loads(r.read())
    assert any(p["role"] == "worker" for p in body["processes"]), body
    with urllib.request.urlopen("https://127.0.0.1:%d/metrics" % s.https_port, context=NOVERIFY, timeout=10) as r:
        assert b"livecdn_" in r.read()
    # plain HTTP on the TLS port is refused, the plain port still works
    try:
        urllib.request.urlopen("http://127.0.0.1:%d/metrics" % s.https_port, timeout=5)
        raise AssertionError("plain HTTP answered on http.tls_listen")
    except (urllib.error.URLError, ConnectionError, OSError):
        pass
    assert s.get("/metrics")[0] == 200


def whip_over_https(s):
    from whip_client import WhepPlayer, WhipPublisher  # noqa: E402
    import whip_client
    opener = urllib.request.build_opener(urllib.request.HTTPSHandler(context=NOVERIFY))
    urllib.request.install_opener(opener)

    async def go():
        base = "https://127.0.0.1:%d" % s.wss_port
        pub = WhipPublisher(base, "tls")
        status, body = await pub.start()
        assert status == 201, (status, body)
        pl = WhepPlayer(base, "tls")
        status, body = await pl.start()
        assert status == 201, (status, body)
        for _ in range(100):
            if pl.video_frames >= 20:
                break
            await asyncio.sleep(0.1)
        assert pl.video_frames >= 20, pl.video_frames
        await pl.stop()
        await pub.stop()
    asyncio.run(asyncio.wait_for(go(), 60))
    assert whip_client


def bad_tls_config(t):
    s = t.server(workers=1)
    checks = [
        (dict(crt="", key=""), "needs \"signaling.tls_certificate\""),
        (dict(crt="/nonexistent.crt", key=KEY), "cannot load \"signaling.tls_certificate\""),
        (dict(crt=CRT, key=KEY2), "does not match the certificate"),
    ]
    for kw, want in checks:
        s.write_conf()  # the plain configuration again, then TLS on it
        tls_conf(s, free_port(), free_port(), **kw)
        r = subprocess.run([BIN, "-t", "-c", s.conf, "-p", s.dir], capture_output=True, text=True, timeout=20)
        out = r.stdout + r.stderr
        assert r.returncode == 1 and want in out, (kw, r.returncode, out)


with Tests() as t:
    s = t.server(workers=2)
    s.wss_port, s.https_port = free_port(), free_port()
    tls_conf(s, s.wss_port, s.https_port)
    s.start()
    t.case("wss:// signaling: connect, ping, refusals", wss_signaling, s)
    t.case("https:// REST, metrics; plain HTTP refused on the TLS port", https_rest_and_pages, s)
    t.case("WHIP and WHEP over https:// (media over UDP as always)", whip_over_https, s)
    t.case("-t refuses TLS without certificate, a missing file, a mismatched key", bad_tls_config, t)
