"""Signaling port (SPEC sections 4 and 9): the WebSocket JSON session, and
every kind of bad input on the port -- bad JSON, bad frames, bad UTF-8, bad
HTTP, silence, floods of garbage. Each gets a clear error (event, close code
or HTTP status) and a log line, closes only its own session, and never
crashes a worker: the workers at the end are the ones of the start.

Raw sockets for what a library would refuse to send; python3-websockets
(asyncio, Debian's 10.x) for the ordinary client side."""
import asyncio
import base64
import hashlib
import json
import os
import random
import re
import selectors
import socket
import struct
import sys
import time

import websockets

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from lcserver import Tests, wait_for  # noqa: E402

GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
TEXT, BINARY, CONT, CLOSE, PING, PONG = 1, 2, 0, 8, 9, 10
MAX_MESSAGE = 1 << 20

# (client port, what was wrong): every one must have a log line naming it
BAD_SESSIONS = []


def bad(port, what):
    BAD_SESSIONS.append((port, what))


# ---------------------------------------------------------------- raw WebSocket client

class Closed(Exception):
    pass


class RawWS:
    """A WebSocket client that sends whatever bytes it is told to."""

    def __init__(self, port, timeout=20):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.port = self.sock.getsockname()[1]
        self.buf = b""
        key = base64.b64encode(os.urandom(16))
        self.sock.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nUpgrade: websocket\r\n"
                          b"Connection: Upgrade\r\nSec-WebSocket-Key: %s\r\n"
                          b"Sec-WebSocket-Version: 13\r\n\r\n" % (port, key))
        head = self._until(b"\r\n\r\n", timeout)
        assert head.startswith(b"HTTP/1.1 101 "), head
        accept = base64.b64encode(hashlib.sha1(key + GUID).digest())
        assert re.search(rb"(?i)\r\nsec-websocket-accept: *" + re.escape(accept) + rb"\r\n", head), head

    def _fill(self, deadline):
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError("nothing from the server in time (have %r)" % self.buf[:100])
        self.sock.settimeout(left)
        try:
            c = self.sock.recv(65536)
        except socket.timeout:
            raise TimeoutError("nothing from the server in time (have %r)" % self.buf[:100])
        except ConnectionResetError:
            c = b""
        if not c:
            raise Closed("connection closed (have %r)" % self.buf[:100])
        self.buf += c

    def _until(self, sep, timeout):
        deadline = time.monotonic() + timeout
        while sep not in self.buf:
            self._fill(deadline)
        head, _, self.buf = self.buf.partition(sep)
        return head + sep

    def _take(self, n, deadline):
        while len(self.buf) < n:
            self._fill(deadline)
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def send_frame(self, opcode, payload=b"", fin=True, masked=True, rsv=0, length=None):
        n = len(payload) if length is None else length
        b0 = (0x80 if fin else 0) | (rsv << 4) | opcode
        m = 0x80 if masked else 0
        if n < 126:
            hdr = struct.pack("!BB", b0, m | n)
        elif n < 65536:
            hdr = struct.pack("!BBH", b0, m | 126, n)
        else:
            hdr = struct.pack("!BBQ", b0, m | 127, n)
        if masked:
            key = os.urandom(4)
            hdr += key
            payload = bytes(b ^ key[i & 3] for i, b in enumerate(payload)) if len(payload) < 4096 else \
                (int.from_bytes(payload, "big") ^ int.from_bytes((key * (len(payload) // 4 + 1))[:len(payload)],
                                                                  "big")).to_bytes(len(payload), "big")
        try:
            self.sock.sendall(hdr + payload)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server may close before reading all of it; what it said is still readable

    def send_text(self, text):
        self.send_frame(TEXT, text.encode() if isinstance(text, str) else text)

    def recv_frame(self, timeout=20):
        deadline = time.monotonic() + timeout
        b0, b1 = self._take(2, deadline)
        assert not b1 & 0x80, "a server frame must not be masked"
        assert not b0 & 0x70, "a server frame with reserved bits"
        n = b1 & 0x7f
        if n == 126:
            n = struct.unpack("!H", self._take(2, deadline))[0]
        elif n == 127:
            n = struct.unpack("!Q", self._take(8, deadline))[0]
        return bool(b0 & 0x80), b0 & 0x0f, self._take(n, deadline)

    def recv_message(self, timeout=20):
        """Next data or close frame; answers the server's pings on the way."""
        deadline = time.monotonic() + timeout
        while True:
            fin, op, payload = self.recv_frame(max(0.1, deadline - time.monotonic()))
            if op == PING:
                self.send_frame(PONG, payload)
                continue
            if op == PONG:
                continue
            assert fin, "the server fragments its messages?"
            return op, payload

    def recv_json(self, timeout=20):
        op, payload = self.recv_message(timeout)
        assert op == TEXT, "expected a text message, got opcode %d %r" % (op, payload[:200])
        return json.loads(payload)

    def expect_close(self, code, timeout=20):
        """Read until the server's close frame; check its code; then the TCP close.
        Returns (text messages before it, close reason)."""
        texts = []
        while True:
            try:
                op, payload = self.recv_message(timeout)
            except Closed as e:
                raise AssertionError("TCP closed without a close frame (want %d): %s" % (code, e))
            if op == TEXT:
                texts.append(payload)
                continue
            assert op == CLOSE, "expected close %d, got opcode %d %r" % (code, op, payload[:100])
            got = struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else None
            assert got == code, "close code %r (want %d), reason %r" % (got, code, payload[2:])
            self.wait_eof(timeout)
            return texts, payload[2:].decode()

    def wait_eof(self, timeout=20):
        deadline = time.monotonic() + timeout
        try:
            while True:
                self.buf = b""
                self._fill(deadline)
        except Closed:
            return

    def ping_pong(self, timeout=20):
        self.send_text('{"method":"ping"}')
        ev = self.recv_json(timeout)
        assert ev == {"event": "pong"}, ev

    def close(self):
        self.sock.close()


def raw_http(port, data, timeout=20):
    """Raw bytes in; (bytes read until close, seconds until close) out."""
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    start = time.monotonic()
    out = b""
    try:
        try:
            if data:
                s.sendall(data)
        except (BrokenPipeError, ConnectionResetError):
            pass
        bad(s.getsockname()[1], "http %r" % data[:30])
        while time.monotonic() - start < timeout:
            try:
                c = s.recv(65536)
            except ConnectionResetError:
                break
            except socket.timeout:
                raise AssertionError("connection still open after %ss (got %r)" % (timeout, out[:200]))
            if not c:
                break
            out += c
    finally:
        s.close()
    return out, time.monotonic() - start


def http_status(resp):
    m = re.match(rb"HTTP/1\.1 (\d{3}) ", resp)
    assert m, "not an HTTP response: %r" % resp[:200]
    head, _, body = resp.partition(b"\r\n\r\n")
    return int(m.group(1)), head.decode("latin-1"), body


def expect_json_http_error(resp, code):
    st, head, body = http_status(resp)
    assert st == code, "status %d (want %d): %r" % (st, code, resp[:300])
    assert re.search(r"(?i)\r\ncontent-type: *application/json", head), head
    m = re.search(r"(?i)\r\ncontent-length: *(\d+)", head)
    assert m and int(m.group(1)) == len(body), "Content-Length %r for a body of %d" % (m and m.group(1), len(body))
    doc = json.loads(body)
    assert isinstance(doc.get("error"), str) and doc["error"], doc
    return doc["error"]


# ---------------------------------------------------------------- python-websockets client

def run(coro, timeout=60):
    return asyncio.run(asyncio.wait_for(coro, timeout))


def ws_connect(s):
    return websockets.connect("ws://127.0.0.1:%d/" % s.sig_port, open_timeout=20, close_timeout=10,
                              ping_interval=None, max_size=None, compression=None)


async def recv_json(ws, timeout=20):
    msg = await asyncio.wait_for(ws.recv(), timeout)
    assert isinstance(msg, str), "binary from the server: %r" % msg[:100]
    return json.loads(msg)


async def call(ws, msg, timeout=20):
    await ws.send(json.dumps(msg) if not isinstance(msg, (str, bytes)) else msg)
    return await recv_json(ws, timeout)


async def expect_closed(ws, code, timeout=20):
    """The server closes with `code`; returns the text messages it sent first."""
    texts = []
    while True:
        try:
            texts.append(await asyncio.wait_for(ws.recv(), timeout))
        except websockets.ConnectionClosed:
            break
    await asyncio.wait_for(ws.wait_closed(), timeout)
    assert ws.close_code == code, "close code %r (want %d), reason %r, after %r" % (
        ws.close_code, code, ws.close_reason, texts)
    return texts


# ---------------------------------------------------------------- the session

def session_connect(s):
    async def go():
        ids = []
        for _ in range(2):
            async with ws_connect(s) as ws:
                ev = await call(ws, {"method": "connect"})
                assert ev.get("event") == "session" and ev.get("status") == "ESTABLISHED", ev
                assert isinstance(ev.get("sessionId"), str) and len(ev["sessionId"]) >= 8, ev
                # connect again on the same session: the same id
                again = await call(ws, {"method": "connect"})
                assert again == ev, (again, ev)
                ids.append(ev["sessionId"])
                await ws.close()
                assert ws.close_code == 1000, ws.close_code
        assert ids[0] != ids[1], ids
    run(go())


def session_ping(s):
    async def go():
        async with ws_connect(s) as ws:
            assert await call(ws, {"method": "ping"}) == {"event": "pong"}  # before connect too
            await call(ws, {"method": "connect"})
            for _ in range(3):
                assert await call(ws, {"method": "ping"}) == {"event": "pong"}
            # unknown fields are ignored
            assert await call(ws, {"method": "ping", "x": [1, {"y": None}], "id": 7}) == {"event": "pong"}
            # a WebSocket-level ping is answered too
            pong = await ws.ping(b"abc")
            await asyncio.wait_for(pong, 20)
    run(go())


def session_media_methods_fail(s):
    async def go():
        async with ws_connect(s) as ws:
            await call(ws, {"method": "connect"})
            for method in ("publishStream", "playStream"):
                ev = await call(ws, {"method": method, "id": "s1", "name": "cam1", "sdp": "v=0\r\n"})
                assert ev.get("event") == "stream" and ev.get("status") == "FAILED", ev
                assert ev.get("id") == "s1" and ev.get("name") == "cam1", ev
                assert isinstance(ev.get("info"), str) and len(ev["info"]) > 5, ev
            ev = await call(ws, {"method": "stopStream", "id": "s1"})
            assert ev.get("event") == "stream" and ev.get("status") in ("FAILED", "STOPPED"), ev
            assert ev.get("info"), ev
            # the session is still there
            assert await call(ws, {"method": "ping"}) == {"event": "pong"}
    run(go())


def session_unknown_method(s):
    async def go():
        async with ws_connect(s) as ws:
            await call(ws, {"method": "connect"})
            ev = await call(ws, {"method": "fooBarStream", "id": "1"})
            assert ev.get("event") == "error" and "fooBarStream" in ev.get("info", ""), ev
            assert await call(ws, {"method": "ping"}) == {"event": "pong"}
    run(go())


def session_before_connect(s):
    async def go():
        async with ws_connect(s) as ws:
            for msg in ({"method": "publishStream", "id": "a", "name": "n", "sdp": "v=0"},
                        {"method": "playStream", "id": "a", "name": "n", "sdp": "v=0"},
                        {"method": "stopStream", "id": "a"},
                        {"method": "startLiveStreaming", "channel": "c", "url": "rtmp://x/y", "transcoding": False}):
                ev = await call(ws, msg)
                assert ev.get("event") == "error" and "connect" in ev.get("info", ""), (msg, ev)
            ev = await call(ws, {"method": "connect"})
            assert ev.get("status") == "ESTABLISHED", ev
    run(go())


def bad_json(s):
    async def go():
        # 300k levels of nesting overflowed yajl's recursive tree free (a crash, not an error)
        for text in ('{"method": "connect"', "not json at all", '{"method":"ping",}', "{'method':'ping'}",
                     '{"method": "ping"} {"method": "ping"}', "", '{"method":"ping","x":' + "[" * 300000 + "]" * 300000 + "}",
                     '{"method":"ping" /* c */}', '{"method":"ping","id":"a\\u0000b"}'):
            async with ws_connect(s) as ws:
                bad(ws.local_address[1], "bad JSON %r" % text)
                await ws.send(text)
                texts = await expect_closed(ws, 1007)
                assert len(texts) == 1, texts
                ev = json.loads(texts[0])
                assert ev.get("event") == "error" and ev.get("info"), ev
    run(go())


def non_object_json(s):
    async def go():
        for text, why in (("[1, 2]", "object"), ("42", "object"), ('"connect"', "object"), ("null", "object"),
                          ("true", "object"), ('{"x": 1}', "method"), ('{"method": 5}', "method"),
                          ('{"method": null}', "method"), ('{"method":"ping","id":{"a":1}}', "id"),
                          ('{"method":"publishStream","name":"' + "n" * 5000 + '"}', "name"),
                          ('{"method":"publishStream","sdp":42}', "sdp")):
            async with ws_connect(s) as ws:
                bad(ws.local_address[1], "non-object JSON %r" % text[:30])
                await ws.send(text)
                texts = await expect_closed(ws, 1007)
                assert len(texts) == 1, (text, texts)
                ev = json.loads(texts[0])
                assert ev.get("event") == "error" and why in ev.get("info", ""), (text, ev)
    run(go())


def binary_message(s):
    async def go():
        async with ws_connect(s) as ws:
            await call(ws, {"method": "connect"})
            bad(ws.local_address[1], "binary message")
            await ws.send(b'{"method":"ping"}')
            await expect_closed(ws, 1003)
    run(go())


def close_handshake(s):
    async def go():
        async with ws_connect(s) as ws:
            await call(ws, {"method": "connect"})
            await ws.close(1000, "done")
            assert ws.close_code == 1000, ws.close_code
    run(go())
    # raw: a close with a code is answered with a close frame, then TCP close
    for payload in (struct.pack("!H", 1000) + b"bye", struct.pack("!H", 4001), b""):
        w = RawWS(s.sig_port)
        w.ping_pong()
        w.send_frame(CLOSE, payload)
        texts, _ = w.expect_close(1000)
        assert texts == []
        w.close()


# ---------------------------------------------------------------- bad frames (raw)

def raw_close_case(s, what, code, send):
    w = RawWS(s.sig_port)
    bad(w.port, what)
    try:
        w.ping_pong()
        send(w)
        texts, reason = w.expect_close(code)
        assert reason, "close %d without a reason" % code
        return texts
    finally:
        w.close()


def unmasked_frame(s):
    raw_close_case(s, "unmasked frame", 1002, lambda w: w.send_frame(TEXT, b'{"method":"ping"}', masked=False))


def reserved_bits(s):
    for rsv in (1, 2, 4, 7):
        raw_close_case(s, "rsv %d" % rsv, 1002, lambda w: w.send_frame(TEXT, b'{"method":"ping"}', rsv=rsv))


def frame_too_big(s):
    # only the header: the server must not wait for (or allocate) the payload
    raw_close_case(s, "frame > 1 MiB", 1009, lambda w: w.send_frame(TEXT, b"", length=MAX_MESSAGE + 1))
    raw_close_case(s, "frame of 2^62", 1009, lambda w: w.send_frame(BINARY, b"", length=1 << 62))


def fragmented_message(s):
    w = RawWS(s.sig_port)
    try:
        w.ping_pong()
        # '{"method":"ping","x":"é€"}' in four fragments, two of them cutting a
        # UTF-8 sequence in half, with pings in between
        msg = '{"method":"ping","x":"\u00e9\u20ac"}'.encode()
        cut1, cut2 = msg.index(b"\xc3") + 1, msg.index(b"\xe2") + 2
        w.send_frame(TEXT, msg[:10], fin=False)
        w.send_frame(PING, b"p1")
        fin, op, payload = w.recv_frame()
        assert (fin, op, payload) == (True, PONG, b"p1"), (fin, op, payload)
        w.send_frame(CONT, msg[10:cut1], fin=False)
        w.send_frame(CONT, msg[cut1:cut2], fin=False)
        w.send_frame(PING, b"")
        fin, op, payload = w.recv_frame()
        assert (fin, op, payload) == (True, PONG, b""), (fin, op, payload)
        w.send_frame(CONT, msg[cut2:], fin=True)
        assert w.recv_json() == {"event": "pong"}
        # many one-byte fragments
        msg = b'{"method":"connect"}'
        for i, c in enumerate(msg):
            w.send_frame(TEXT if i == 0 else CONT, bytes([c]), fin=i == len(msg) - 1)
        assert w.recv_json().get("status") == "ESTABLISHED"
        # an empty final fragment
        w.send_frame(TEXT, b'{"method":"ping"}', fin=False)
        w.send_frame(CONT, b"", fin=True)
        assert w.recv_json() == {"event": "pong"}
        # a large message (900 KiB, under the 1 MiB limit) in one frame, then in pieces
        big = b'{"method":"ping","pad":"' + b"a" * (900 << 10) + b'"}'
        w.send_frame(TEXT, big)
        assert w.recv_json(30) == {"event": "pong"}
        for i in range(0, len(big), 100 << 10):
            w.send_frame(TEXT if i == 0 else CONT, big[i:i + (100 << 10)], fin=i + (100 << 10) >= len(big))
        assert w.recv_json(30) == {"event": "pong"}
    finally:
        w.close()


def invalid_utf8(s):
    for name, payload in (("0xff byte", b'{"method":"ping","x":"\xff"}'),
                          ("overlong /", b'{"method":"ping","x":"\xc0\xaf"}'),
                          ("surrogate", b'{"method":"ping","x":"\xed\xa0\x80"}'),
                          ("above U+10FFFF", b'{"method":"ping","x":"\xf4\x90\x80\x80"}'),
                          ("truncated at the end", b'{"method":"ping"}\xe2\x82')):
        raw_close_case(s, "invalid UTF-8 " + name, 1007, lambda w: w.send_text(payload))
    # split over fragments, still invalid once whole
    def frag(w):
        w.send_frame(TEXT, b'{"method":"ping","x":"\xe2', fin=False)
        w.send_frame(CONT, b'\x28\xa1"}', fin=True)
    raw_close_case(s, "invalid UTF-8 across fragments", 1007, frag)


def other_frame_violations(s):
    cases = [
        ("unknown opcode 3", 1002, lambda w: w.send_frame(3, b"x")),
        ("unknown opcode 11", 1002, lambda w: w.send_frame(11, b"")),
        ("fragmented ping", 1002, lambda w: w.send_frame(PING, b"x", fin=False)),
        ("control frame of 126 bytes", 1002, lambda w: w.send_frame(PING, b"x" * 126)),
        ("continuation without a message", 1002, lambda w: w.send_frame(CONT, b"x")),
        ("new message inside a fragmented one", 1002,
         lambda w: (w.send_frame(TEXT, b"{", fin=False), w.send_frame(TEXT, b"}"))),
        ("fragments over 1 MiB in total", 1009,
         lambda w: (w.send_frame(TEXT, b"a" * (600 << 10), fin=False), w.send_frame(CONT, b"a" * (600 << 10)))),
        ("close with a 1-byte payload", 1002, lambda w: w.send_frame(CLOSE, b"\x03")),
        ("close with code 1005", 1002, lambda w: w.send_frame(CLOSE, struct.pack("!H", 1005))),
        ("close with code 999", 1002, lambda w: w.send_frame(CLOSE, struct.pack("!H", 999))),
        ("close reason not UTF-8", 1007, lambda w: w.send_frame(CLOSE, struct.pack("!H", 1000) + b"\xff")),
        ("NUL in a message", 1007, lambda w: w.send_text(b'{"method":"ping"}\x00')),
    ]
    for what, code, send in cases:
        try:
            raw_close_case(s, what, code, send)
        except AssertionError as e:
            raise AssertionError("%s: %s" % (what, e))


# ---------------------------------------------------------------- bad HTTP on the signaling port

def http_no_upgrade(s):
    resp, _ = raw_http(s.sig_port, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    err = expect_json_http_error(resp, 426)
    assert "WebSocket" in err, err
    resp, _ = raw_http(s.sig_port, b"GET /index.html HTTP/1.0\r\n\r\n")
    expect_json_http_error(resp, 426)


def http_whip_bad(s):
    """WHIP/WHEP with a useless offer: Bad SDP (400); a body cut short, a
    missing content type and a huge offer each get their status; the worker lives."""
    sdp = b"v=0\r\no=- 0 0 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n"
    for path in (b"/whip/x", b"/whep/x"):
        resp, _ = raw_http(s.sig_port, b"POST %s HTTP/1.1\r\nHost: x\r\nContent-Type: application/sdp\r\n"
                                       b"Content-Length: %d\r\n\r\n%s" % (path, len(sdp), sdp))
        st, _, _ = http_status(resp)
        want = 400 if path == b"/whip/x" else 404  # nothing to play is said first
        assert st == want and (b"Bad SDP" in resp or b"Stream not found" in resp), resp[:300]
    resp, _ = raw_http(s.sig_port, b"POST /whip/x HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n\r\nv=0\n")
    assert http_status(resp)[0] == 415, resp[:200]
    resp, _ = raw_http(s.sig_port, b"POST /whip/x HTTP/1.1\r\nHost: x\r\nContent-Type: application/sdp\r\n"
                                   b"Content-Length: 999999\r\n\r\nv=0")
    assert http_status(resp)[0] == 413, resp[:200]


def http_bad_request_line(s):
    for data in (b"GARBAGE\r\n\r\n", b"GET\r\n\r\n", b"GET /\r\n\r\n", b"GET / HTTP/1.1 extra\r\nHost: x\r\n\r\n",
                 b" GET / HTTP/1.1\r\nHost: x\r\n\r\n", b"G\x00T / HTTP/1.1\r\nHost: x\r\n\r\n",
                 b"GET / HTTP/1.1\r\nHost: x\r\n bad folding\r\n\r\n", b"GET / HTTP/1.1\r\nBad Header: x\r\n\r\n",
                 b"GET / HTTP/1.1\r\n\r\n",  # no Host
                 b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n"):  # a TLS hello-ish
        resp, _ = raw_http(s.sig_port, data)
        st, _, _ = http_status(resp)
        assert st == 400, "%r -> %r" % (data, resp[:200])
        expect_json_http_error(resp, 400)


def http_bad_upgrade(s):
    base = [b"GET / HTTP/1.1", b"Host: x", b"Upgrade: websocket", b"Connection: Upgrade",
            b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==", b"Sec-WebSocket-Version: 13"]
    for drop, replace in ((4, None), (5, None), (3, None), (5, b"Sec-WebSocket-Version: 8"),
                          (4, b"Sec-WebSocket-Key: short"), (0, b"POST / HTTP/1.1")):
        lines = list(base)
        if replace:
            lines[drop] = replace
        else:
            del lines[drop]
        resp, _ = raw_http(s.sig_port, b"\r\n".join(lines) + b"\r\n\r\n")
        expect_json_http_error(resp, 400)


def http_header_too_large(s):
    resp, _ = raw_http(s.sig_port, b"GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * (20 << 10) + b"\r\n\r\n")
    expect_json_http_error(resp, 431)
    # the same without an end of head: the limit holds while it is still arriving
    resp, _ = raw_http(s.sig_port, b"GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * (20 << 10))
    expect_json_http_error(resp, 431)


def handshake_timeout(s):
    # both at once: a connection that says nothing, one that stops mid-head
    socks = []
    for data in (b"", b"GET / HTTP/1.1\r\nHost: x\r\n"):
        c = socket.create_connection(("127.0.0.1", s.sig_port), timeout=20)
        if data:
            c.sendall(data)
        bad(c.getsockname()[1], "silent %r" % data)
        socks.append((c, time.monotonic()))
    try:
        for c, start in socks:
            out = b""
            while True:
                try:
                    chunk = c.recv(4096)
                except ConnectionResetError:
                    break
                except socket.timeout:
                    raise AssertionError("still open after %.1fs" % (time.monotonic() - start))
                if not chunk:
                    break
                out += chunk
            took = time.monotonic() - start
            assert took <= 15, "closed only after %.1fs" % took
            assert took >= 5, "closed after %.1fs: that is not the ~10s handshake timeout" % took
            assert out == b"" or http_status(out)[0] == 408, out[:200]
    finally:
        for c, _ in socks:
            c.close()
    wait_for(lambda: s.log().count("HTTP handshake timed out") >= 2, 5, "timeout log lines")


def garbage_flood(s, witness):
    good = RawWS(s.sig_port)
    try:
        ev = (good.send_text('{"method":"connect"}'), good.recv_json())[1]
        assert ev.get("status") == "ESTABLISHED", ev
        witness.ping_pong()
        seed = int(os.environ.get("LC_SEED", time.time()))
        rng = random.Random(seed)
        sel = selectors.DefaultSelector()
        conns = []
        for i in range(200):
            c = socket.create_connection(("127.0.0.1", s.sig_port), timeout=20)
            n = rng.randint(1, 4096)
            data = bytes(rng.getrandbits(8) for _ in range(n))
            if i % 2:
                data += b"\r\n\r\n"  # half of them end like a head: parsed and refused at once
            try:
                c.sendall(data)
            except (BrokenPipeError, ConnectionResetError):
                pass
            c.setblocking(False)
            bad(c.getsockname()[1], "garbage (seed %d, #%d)" % (seed, i))
            sel.register(c, selectors.EVENT_READ, [c, b"", None])
            conns.append(c)
        start = time.monotonic()
        open_ = len(conns)
        answers = []
        while open_ and time.monotonic() - start < 40:
            for key, _ in sel.select(timeout=1):
                st = key.data
                try:
                    chunk = st[0].recv(65536)
                except BlockingIOError:
                    continue
                except ConnectionResetError:
                    chunk = b""
                if chunk:
                    st[1] += chunk
                    continue
                sel.unregister(st[0])
                st[0].close()
                open_ -= 1
                answers.append(st[1])
        for c in conns:
            try:
                sel.unregister(c)
            except (KeyError, ValueError):
                pass
            c.close()
        assert open_ == 0, "%d of 200 garbage connections still open after 40s (seed %d)" % (open_, seed)
        for a in answers:
            assert a == b"" or http_status(a)[0] in (400, 408, 431, 505), "answer to garbage: %r (seed %d)" % (a[:200], seed)
        # the good sessions opened before are still served
        good.ping_pong()
        witness.ping_pong()
    finally:
        good.close()


def nothing_crashed(s, workers_before, witness):
    witness.ping_pong()
    now = sorted(p["pid"] for p in s.processes("worker") if p["state"] == "running")
    assert now == workers_before, "workers changed: %r -> %r" % (workers_before, now)
    log = s.log()
    for needle in ("[error]", "was killed by signal", "respawning"):
        assert needle not in log, "log says %r:\n%s" % (needle, "\n".join(
            ln for ln in log.splitlines() if needle in ln)[:2000])
    missing = []

    def all_logged():
        log = s.log()
        missing[:] = [(p, w) for p, w in BAD_SESSIONS if "127.0.0.1:%d]" % p not in log]
        return not missing
    try:
        wait_for(all_logged, 10, "a log line per bad session")
    except AssertionError:
        raise AssertionError("%d of %d bad sessions have no log line, e.g. %r" % (
            len(missing), len(BAD_SESSIONS), missing[:5]))
    assert BAD_SESSIONS


with Tests() as t:
    s = t.server().start()
    workers_before = sorted(p["pid"] for p in s.processes("worker"))
    witness = RawWS(s.sig_port)  # a good session that lives through everything
    witness.send_text('{"method":"connect"}')
    assert witness.recv_json().get("status") == "ESTABLISHED"
    t.case("session: connect -> session ESTABLISHED with a sessionId; ids differ", session_connect, s)
    t.case("session: ping -> pong, before and after connect", session_ping, s)
    t.case("session: publishStream/playStream -> stream FAILED with info", session_media_methods_fail, s)
    t.case("session: unknown method -> error naming it, session stays", session_unknown_method, s)
    t.case("session: methods before connect -> error, connect still works", session_before_connect, s)
    t.case("bad JSON -> error event, then close 1007", bad_json, s)
    t.case("non-object JSON / bad fields -> error event, then close 1007", non_object_json, s)
    t.case("binary message -> close 1003", binary_message, s)
    t.case("close handshake: the server answers with a close frame", close_handshake, s)
    t.case("unmasked client frame -> close 1002", unmasked_frame, s)
    t.case("reserved bits set -> close 1002", reserved_bits, s)
    t.case("frame announcing more than 1 MiB -> close 1009", frame_too_big, s)
    t.case("fragmented text message reassembled, pings in between answered", fragmented_message, s)
    t.case("invalid UTF-8 text -> close 1007", invalid_utf8, s)
    t.case("other frame violations (opcodes, control frames, fragments, close payloads)", other_frame_violations, s)
    t.case("HTTP GET without upgrade -> 426 JSON", http_no_upgrade, s)
    t.case("POST /whip/x and /whep/x with bad offers -> 400/404/413/415", http_whip_bad, s)
    t.case("malformed HTTP request -> 400 JSON", http_bad_request_line, s)
    t.case("bad WebSocket upgrade -> 400 JSON", http_bad_upgrade, s)
    t.case("a 20 KiB header -> 431", http_header_too_large, s)
    t.case("silent connections are closed after the ~10s handshake timeout", handshake_timeout, s)
    t.case("200 garbage connections at once: all closed, good sessions still served", garbage_flood, s, witness)
    t.case("same worker PIDs at the end, no crash, a log line per bad session", nothing_crashed, s,
           workers_before, witness)
    witness.close()
