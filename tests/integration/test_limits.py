"""The limits group (SPEC sections 3 and 9) against the security review's
repros (findings 4, 7, 8, 9, 13), each bounded in time: stream slots per
client address, silent publishers, absolute handshake deadlines, output
high-water marks, accept under EMFILE and limits.max_connections.

Raw Python sockets for the abusive clients; ffmpeg for the legit publisher.
Every socket has a timeout and every server is cleaned up by PID."""
import os
import select
import socket
import struct
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from lcserver import Tests, wait_for  # noqa: E402

# ---------------------------------------------------------------- RTMP bytes


def amf_str(s):
    b = s.encode()
    return b"\x02" + struct.pack(">H", len(b)) + b


def amf_num(x):
    return b"\x00" + struct.pack(">d", x)


def chunk0(csid, type_, payload, msid=0):
    out = bytes([csid]) + bytes(3) + struct.pack(">I", len(payload))[1:] + bytes([type_]) + struct.pack("<I", msid)
    for i in range(0, max(len(payload), 1), 128):
        if i:
            out += bytes([0xC0 | csid])
        out += payload[i:i + 128]
    return out


CONNECT = chunk0(3, 20, amf_str("connect") + amf_num(1) + b"\x03" + struct.pack(">H", 3) + b"app" +
                 amf_str("live") + b"\x00\x00\x09")


def publish_cmds(name):
    return (chunk0(3, 20, amf_str("createStream") + amf_num(2) + b"\x05") +
            chunk0(3, 20, amf_str("publish") + amf_num(3) + b"\x05" + amf_str(name) + amf_str("live"), msid=1))


def rtmp_conn(port, source="127.0.0.1", rcvbuf=None, timeout=10):
    c = socket.socket()
    c.settimeout(timeout)
    if rcvbuf:
        c.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    c.bind((source, 0))
    c.connect(("127.0.0.1", port))
    c.sendall(b"\x03" + bytes(1536))
    got = b""
    while len(got) < 3073:
        chunk = c.recv(4096)
        assert chunk, "closed during the RTMP handshake"
        got += chunk
    c.sendall(bytes(1536))
    return c


def read_until(c, needles, timeout):
    """Bytes from c until one of needles shows, the peer closes or timeout."""
    out = b""
    deadline = time.monotonic() + timeout
    while not any(n in out for n in needles):
        left = deadline - time.monotonic()
        if left <= 0:
            break
        c.settimeout(left)
        try:
            chunk = c.recv(65536)
        except (socket.timeout, ConnectionResetError):
            break
        if not chunk:
            break
        out += chunk
    return out


def closed_within(c, timeout):
    """Seconds until the server closed c (reading and dropping what it sends), or None."""
    start = time.monotonic()
    c.settimeout(timeout)
    try:
        while True:
            if not c.recv(65536):
                return time.monotonic() - start
    except ConnectionResetError:
        return time.monotonic() - start
    except socket.timeout:
        return None


def worker_pid(s):
    return s.processes("worker")[0]["pid"]


def rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def cpu_ticks(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])  # utime + stime


def streams(s):
    return {st["name"]: st for st in s.rest("stream/find_all")["streams"]}


def server(t, workers=1, **limits):
    keys = " ".join("%s = %s;" % kv for kv in limits.items())
    return t.server(workers=workers, extra="limits: { %s };" % keys).start()


def whip_offer():
    """An SDP offer from aiortc (VP8 video, Opus audio), for offers that never do ICE."""
    import asyncio
    from whip_client import force_codec  # noqa: E402 (imports aiortc, patched for loopback)
    from aiortc import RTCPeerConnection

    async def make():
        pc = RTCPeerConnection()
        pc.addTransceiver("video", direction="sendonly")
        pc.addTransceiver("audio", direction="sendonly")
        force_codec(pc, "video", "video/VP8")
        await pc.setLocalDescription(await pc.createOffer())
        sdp = pc.localDescription.sdp
        await pc.close()
        return sdp
    return asyncio.run(asyncio.wait_for(make(), 30))


def http_raw(port, data, timeout=10):
    c = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    try:
        c.sendall(data)
        out = b""
        while True:
            chunk = c.recv(65536)
            if not chunk:
                return out
            out += chunk
    finally:
        c.close()


def whip_post(port, name, sdp):
    body = sdp.encode()
    return http_raw(port, b"POST /whip/%s HTTP/1.1\r\nHost: x\r\nContent-Type: application/sdp\r\n"
                    b"Content-Length: %d\r\n\r\n%s" % (name.encode(), len(body), body))


# ---------------------------------------------------------------- cases

def streams_per_ip(t):
    """Finding 4: 62 silent publishers from one address take 4 streams (the
    limit), across two workers; the rest are refused with the reason, and a
    publisher from another address still gets on."""
    s = server(t, workers=2, max_streams_per_ip=4, idle_publish_timeout=60, handshake_timeout=30)
    socks, started, refused = [], 0, 0
    try:
        for i in range(62):
            c = rtmp_conn(s.rtmp_port, source="127.0.0.2")
            socks.append(c)
            c.sendall(CONNECT + publish_cmds("squat%d" % i))
        for c in socks:
            got = read_until(c, [b"NetStream.Publish.Start", b"Too many streams"], 10)
            started += b"NetStream.Publish.Start" in got
            refused += b"Too many streams from this address" in got
        assert started == 4 and refused == 58, "started %d, refused %d" % (started, refused)
        assert len([n for n in streams(s) if n.startswith("squat")]) == 4
        assert "limits.max_streams_per_ip" in s.log()
        pub = subprocess.Popen(["ffmpeg", "-nostdin", "-v", "error", "-re", "-f", "lavfi", "-i",
                                "testsrc2=size=160x120:rate=25", "-t", "6", "-c:v", "libx264", "-preset",
                                "ultrafast", "-g", "25", "-pix_fmt", "yuv420p", "-f", "flv",
                                "rtmp://127.0.0.1:%d/live/legit" % s.rtmp_port],
                               stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        try:
            wait_for(lambda: streams(s).get("legit", {}).get("frames_in", 0) > 10, 15, "legit stream live")
        finally:
            pub.kill()
            pub.wait(timeout=10)
    finally:
        for c in socks:
            c.close()
    # the slots come back when the squatters go
    wait_for(lambda: not [n for n in streams(s) if n.startswith("squat")], 10, "squatters' streams gone")
    c = rtmp_conn(s.rtmp_port, source="127.0.0.2")
    c.sendall(CONNECT + publish_cmds("again"))
    assert b"NetStream.Publish.Start" in read_until(c, [b"NetStream.Publish.Start"], 10)
    c.close()
    s.stop()


def silent_publisher_ended(s):
    """Finding 4: a publisher that sends no media is ended after limits.idle_publish_timeout (2 s)."""
    c = rtmp_conn(s.rtmp_port)
    c.sendall(CONNECT + publish_cmds("silent"))
    assert b"NetStream.Publish.Start" in read_until(c, [b"NetStream.Publish.Start"], 10)
    start = time.monotonic()
    assert "silent" in streams(s)
    took = closed_within(c, 10)
    c.close()
    assert took is not None, "a silent publisher was still on after 10 s"
    assert 1.5 < time.monotonic() - start < 6, "ended after %.1fs" % (time.monotonic() - start)
    assert "silent" not in streams(s)
    wait_for(lambda: "no media for" in s.log() and "limits.idle_publish_timeout" in s.log(), 5, "log line")


def trickle_closed(s):
    """Finding 9: one byte a second to the RTMP, signaling and control ports
    never completes a handshake: each is closed at limits.handshake_timeout
    (3 s), however the bytes keep coming."""
    msgs = {
        "rtmp": (s.rtmp_port, b"\x03" + bytes(1536)),
        "signaling": (s.sig_port, b"GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n" * 20),
        "control": (s.http_port, b"GET /rest-api/worker/show HTTP/1.1\r\nHost: x\r\nX-A: " + b"a" * 100),
    }
    conns = {}
    for name, (port, data) in msgs.items():
        conns[name] = (socket.create_connection(("127.0.0.1", port), timeout=5), data)
    start = time.monotonic()
    closed = {}
    try:
        i = 0
        while len(closed) < len(conns) and time.monotonic() - start < 12:
            for name, (c, data) in conns.items():
                if name in closed:
                    continue
                try:
                    r, _, _ = select.select([c], [], [], 0)
                    if r and not c.recv(65536):
                        closed[name] = time.monotonic() - start
                        continue
                    c.send(data[i:i + 1])
                except (ConnectionResetError, BrokenPipeError):
                    closed[name] = time.monotonic() - start
            i += 1
            time.sleep(1)
    finally:
        for c, _ in conns.values():
            c.close()
    for name in conns:
        assert name in closed, "%s: still open after 12 s of one byte a second (closed: %r)" % (name, closed)
        assert 2 < closed[name] < 8, "%s: closed after %.1fs, handshake_timeout is 3 s" % (name, closed[name])
    log = s.log()
    assert "no publish or play within limits.handshake_timeout" in log
    assert "HTTP handshake timed out" in log
    assert "request not complete within limits.handshake_timeout" in log


def whip_offers_without_ice(s):
    """Finding 4: WHIP offers that never do ICE hold a stream each, count
    against max_streams_per_ip (2 here) and let go at handshake_timeout (3 s)."""
    sdp = whip_offer()
    got = [whip_post(s.sig_port, "w%d" % i, sdp) for i in range(3)]
    assert [g.split(b" ", 2)[1] for g in got] == [b"201", b"201", b"503"], [g[:60] for g in got]
    assert b"Too many streams from this address" in got[2], got[2][:300]
    start = time.monotonic()
    wait_for(lambda: not {"w0", "w1"} & set(streams(s)), 10, "offers without ICE released")
    took = time.monotonic() - start
    assert took < 6, "released after %.1fs" % took
    assert whip_post(s.sig_port, "w3", sdp).startswith(b"HTTP/1.1 201")
    wait_for(lambda: "w3" not in streams(s), 10, "last offer released")


def ws_fragment_never_finished(s):
    """Finding 13: after its first message a WebSocket client begins a
    fragmented message and sends only pings: it is closed at handshake_timeout."""
    c = socket.create_connection(("127.0.0.1", s.sig_port), timeout=10)
    c.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
              b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
    assert read_until(c, [b"\r\n\r\n"], 5).startswith(b"HTTP/1.1 101")
    msg = b'{"method":"connect"}'
    c.sendall(bytes([0x81, 0x80 | len(msg)]) + bytes(4) + msg)
    assert b"ESTABLISHED" in read_until(c, [b"ESTABLISHED"], 5)
    part = b"x" * 60000
    c.sendall(bytes([0x01, 0x80 | 126]) + struct.pack(">H", len(part)) + bytes(4) + part)  # FIN = 0
    start = time.monotonic()
    closed = None
    while closed is None and time.monotonic() - start < 10:
        try:
            c.sendall(bytes([0x89, 0x80]) + bytes(4))  # pings keep the connection busy
            r, _, _ = select.select([c], [], [], 0.5)
            if r and not c.recv(65536):
                closed = time.monotonic() - start
        except (ConnectionResetError, BrokenPipeError):
            closed = time.monotonic() - start
    c.close()
    assert closed is not None, "an unfinished message kept its connection 10 s"
    assert 2 < closed < 6, "closed after %.1fs" % closed
    wait_for(lambda: "message not complete within limits.handshake_timeout" in s.log(), 5, "log line")


def ws_ping_flood(s):
    """Findings 7, 13: a WebSocket client with a tiny receive buffer sends
    pings and never reads the pongs: the worker stops at limits.output_buffer
    (1M) and closes it; its memory stays bounded."""
    pid = worker_pid(s)
    before = rss_kib(pid)
    c = socket.socket()
    c.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    c.settimeout(10)
    c.connect(("127.0.0.1", s.sig_port))
    c.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
              b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
    assert read_until(c, [b"\r\n\r\n"], 5).startswith(b"HTTP/1.1 101")
    ping = bytes([0x89, 0x80 | 125]) + b"\x00\x00\x00\x00" + b"p" * 125
    batch = ping * 512
    sent, closed = 0, False
    grew = 0
    start = time.monotonic()
    try:
        while sent < (96 << 20) and time.monotonic() - start < 20:
            c.sendall(batch)
            sent += len(batch)
            grew = max(grew, rss_kib(pid) - before)
    except (ConnectionResetError, BrokenPipeError, socket.timeout):
        closed = True
    c.close()
    assert closed, "sent %d MiB of pings to a non-reader and it is still open" % (sent >> 20)
    assert grew < 24 << 10, "the worker grew by %d KiB" % grew
    wait_for(lambda: "the peer does not read" in s.log(), 5, "log line")


def rtmp_ping_flood(s):
    """Finding 7: RTMP PingRequests from a peer that never reads the replies."""
    pid = worker_pid(s)
    before = rss_kib(pid)
    c = rtmp_conn(s.rtmp_port, rcvbuf=4096)
    ping = chunk0(2, 4, b"\x00\x06" + b"\x00\x00\x00\x01")
    batch = CONNECT + ping * 4096
    sent, closed, grew = 0, False, 0
    start = time.monotonic()
    try:
        while sent < (96 << 20) and time.monotonic() - start < 20:
            c.sendall(batch)
            sent += len(batch)
            grew = max(grew, rss_kib(pid) - before)
    except (ConnectionResetError, BrokenPipeError, socket.timeout):
        closed = True
    c.close()
    assert closed, "sent %d MiB of PingRequests to a non-reader and it is still open" % (sent >> 20)
    assert grew < 24 << 10, "the worker grew by %d KiB" % grew
    wait_for(lambda: any("[rtmp:" in line and "the peer does not read" in line for line in s.log().split("\n")),
             5, "log line")


def emfile_no_spin(s):
    """Finding 8: with the worker out of descriptors, 300 connections do not
    make it spin or flood the log; once they go it accepts again."""
    pid = worker_pid(s)
    nfds = len(os.listdir("/proc/%d/fd" % pid))
    subprocess.run(["prlimit", "--pid", str(pid), "--nofile=%d:%d" % (nfds + 20, nfds + 20)], check=True, timeout=10)
    accept_lines = lambda: sum("accept" in line for line in s.log().split("\n"))  # noqa: E731
    socks = []
    try:
        for _ in range(300):
            c = socket.socket()
            c.setblocking(False)  # past the backlog a connect waits: do not
            c.connect_ex(("127.0.0.1", s.rtmp_port))
            socks.append(c)
        time.sleep(0.5)
        log_before = accept_lines()
        t0 = cpu_ticks(pid)
        time.sleep(3)
        used = (cpu_ticks(pid) - t0) / os.sysconf("SC_CLK_TCK")
        lines = accept_lines() - log_before
        assert used < 0.6, "the worker used %.2f s of CPU in 3 s with its descriptors gone" % used
        assert lines < 10, "%d lines about accept in 3 s" % lines
        assert "accept paused" in s.log()
    finally:
        for c in socks:
            c.close()
    time.sleep(1)
    c = rtmp_conn(s.rtmp_port, timeout=5)  # accepted again: the handshake is answered
    c.close()


def control_emfile(s):
    """Finding 8 on the control process: out of descriptors, 300 connections
    to http.listen cost no CPU, and REST answers again once they go."""
    pid = [p for p in s.processes("control")][0]["pid"]
    nfds = len(os.listdir("/proc/%d/fd" % pid))
    subprocess.run(["prlimit", "--pid", str(pid), "--nofile=%d:%d" % (nfds + 10, nfds + 10)], check=True, timeout=10)
    socks = []
    try:
        for _ in range(300):
            c = socket.socket()
            c.setblocking(False)
            c.connect_ex(("127.0.0.1", s.http_port))
            socks.append(c)
        time.sleep(0.5)
        t0 = cpu_ticks(pid)
        time.sleep(3)
        used = (cpu_ticks(pid) - t0) / os.sysconf("SC_CLK_TCK")
        assert used < 0.6, "control used %.2f s of CPU in 3 s with its descriptors gone" % used
        assert "accept paused" in s.log()
    finally:
        for c in socks:
            c.close()
    wait_for(lambda: s.rest("worker/show"), 10, "REST answers again")


def cdn_link_deadline(t):
    """Finding 9 on cdn.port: a link that upgrades and never says HELLO, and
    one that trickles its upgrade, are closed at handshake_timeout."""
    from lcserver import free_port
    port = free_port()
    s = t.server(workers=1, extra='cdn: { enabled = true; role = "origin"; ip = "127.0.0.1"; port = %d; };\n'
                 'limits: { handshake_timeout = 3; };' % port).start()
    up = socket.create_connection(("127.0.0.1", port), timeout=10)
    up.sendall(b"GET /cdn HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
               b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
    assert read_until(up, [b"\r\n\r\n"], 5).startswith(b"HTTP/1.1 101")
    trickle = socket.create_connection(("127.0.0.1", port), timeout=10)
    start = time.monotonic()
    closed = {}
    data = b"GET /cdn HTTP/1.1\r\n" * 10
    i = 0
    while len(closed) < 2 and time.monotonic() - start < 10:
        for name, c in (("upgraded", up), ("trickle", trickle)):
            if name in closed:
                continue
            try:
                r, _, _ = select.select([c], [], [], 0)
                if r and not c.recv(65536):
                    closed[name] = time.monotonic() - start
                elif name == "trickle":
                    c.send(data[i:i + 1])
            except (ConnectionResetError, BrokenPipeError):
                closed[name] = time.monotonic() - start
        i += 1
        time.sleep(0.5)
    up.close()
    trickle.close()
    for name in ("upgraded", "trickle"):
        assert name in closed, "%s CDN link still open after 10 s (%r)" % (name, closed)
        assert 2 < closed[name] < 7, "%s closed after %.1fs" % (name, closed[name])
    assert "not done within limits.handshake_timeout" in s.log()
    s.stop()


def max_connections(t):
    """Finding 8: limits.max_connections = 16: of 40 connections 16 are
    served, the 17th waits in the backlog and is served when one closes."""
    s = server(t, max_connections=16, handshake_timeout=30)
    socks = []
    try:
        for _ in range(40):
            c = socket.create_connection(("127.0.0.1", s.rtmp_port), timeout=5)
            c.sendall(b"\x03" + bytes(1536))
            socks.append(c)
            time.sleep(0.01)  # in order: the backlog is a queue
        time.sleep(2)
        served = select.select(socks, [], [], 0)[0]
        assert len(served) == 16, "%d of 40 connections served with max_connections = 16" % len(served)
        waiting = [c for c in socks if c not in served]
        served[0].close()
        time.sleep(2)
        r = select.select(waiting, [], [], 0)[0]
        assert len(r) == 1 and r[0] is waiting[0], "after one closed, %d more served" % len(r)
        assert "accept paused" in s.log() and "limits.max_connections" in s.log()
    finally:
        for c in socks:
            c.close()
    s.stop()


with Tests() as t:
    t.case("max_streams_per_ip: 62 silent publishers from one address, 4 get on, ffmpeg from another still does",
           streams_per_ip, t)
    s = server(t, idle_publish_timeout=2, handshake_timeout=3, output_buffer='"1M"')
    t.case("a publisher that sends no media is ended after idle_publish_timeout", silent_publisher_ended, s)
    t.case("one byte a second to RTMP, signaling and control: closed at handshake_timeout", trickle_closed, s)
    t.case("WHIP offers without ICE count against max_streams_per_ip and go at handshake_timeout",
           whip_offers_without_ice, t.server(workers=1, extra="limits: { max_streams_per_ip = 2; "
                                                              "handshake_timeout = 3; };").start())
    t.case("an unfinished fragmented WebSocket message is closed at handshake_timeout",
           ws_fragment_never_finished, s)
    t.case("WebSocket pings to a non-reader: closed at output_buffer, memory bounded", ws_ping_flood, s)
    t.case("RTMP PingRequests to a non-reader: closed at output_buffer, memory bounded", rtmp_ping_flood, s)
    t.case("EMFILE: accept pauses, no busy loop, few log lines, accepts again", emfile_no_spin, s)
    t.case("EMFILE in the control process: accept pauses, no busy loop, REST answers again", control_emfile, s)
    t.case("CDN links: an upgrade trickled, or no HELLO, closed at handshake_timeout", cdn_link_deadline, t)
    t.case("max_connections = 16: the 17th waits until one closes", max_connections, t)
