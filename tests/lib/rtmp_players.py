"""Hundreds of RTMP players in one process: an asyncio loop in a daemon
thread, one Protocol per player. One ffmpeg per player costs ~0.6% of a
core (TESTING.md), so 300 of them would be the load, not the server.

A player does the simple handshake (C0 = 3, C1, S0S1S2, C2 = S1), then
sends connect, createStream and play at once: livecdn answers commands in
order and gives every connection NetStream 1. After that it only counts
the bytes it receives (no chunk parsing: the test asks whether media keeps
flowing, not what it is). `playing` turns true when NetStream.Play.Start
has arrived and then more than PLAYING_BYTES of media.

    ps = RtmpPlayers("127.0.0.1", port, "live", "name")
    ps.add(300, rate=100)        # opens 300 players, 100 per second
    ...ps.players[i].bytes, .closed, .port (the client's local port)
    ps.close()
"""
import asyncio
import os
import struct
import threading
import time

PLAYING_BYTES = 4096
HS = 1536


def _amf_str(s):
    b = s.encode()
    return b"\x02" + struct.pack(">H", len(b)) + b


def _amf_num(x):
    return b"\x00" + struct.pack(">d", x)


def _amf_obj(d):
    out = b"\x03"
    for k, v in d.items():
        kb = k.encode()
        out += struct.pack(">H", len(kb)) + kb + _amf_str(v)
    return out + b"\x00\x00\x09"


def _message(csid, type_id, msid, payload, chunk=128):
    """One RTMP message in chunks of the default size (type 0, then type 3)."""
    out = bytes([csid]) + b"\x00\x00\x00" + struct.pack(">I", len(payload))[1:] + bytes([type_id]) + \
        struct.pack("<I", msid)
    for i in range(0, len(payload), chunk):
        if i:
            out += bytes([0xC0 | csid])
        out += payload[i:i + chunk]
    return out


def commands(host, port, app, name):
    connect = _amf_str("connect") + _amf_num(1) + _amf_obj(
        {"app": app, "flashVer": "LNX 9,0,124,2", "tcUrl": "rtmp://%s:%d/%s" % (host, port, app)})
    create = _amf_str("createStream") + _amf_num(2) + b"\x05"
    play = _amf_str("play") + _amf_num(0) + b"\x05" + _amf_str(name)
    return _message(3, 20, 0, connect) + _message(3, 20, 0, create) + _message(8, 20, 1, play)


class Player(asyncio.Protocol):
    def __init__(self, cmds):
        self.cmds = cmds
        self.hs = bytearray()
        self.head = b""        # the first bytes after the handshake: where Play.Start is
        self.started = False
        self.bytes = 0         # received after the handshake
        self.port = None
        self.closed = False
        self.closed_at = None
        self.error = None
        self.transport = None

    @property
    def playing(self):
        return self.started and self.bytes > PLAYING_BYTES

    def connection_made(self, transport):
        self.transport = transport
        self.port = transport.get_extra_info("sockname")[1]
        transport.write(b"\x03" + struct.pack(">II", 0, 0) + os.urandom(HS - 8))

    def data_received(self, data):
        if self.hs is not None:
            self.hs += data
            if len(self.hs) < 1 + 2 * HS:
                return
            s1, data = bytes(self.hs[1:1 + HS]), bytes(self.hs[1 + 2 * HS:])
            self.hs = None
            self.transport.write(s1 + self.cmds)
        self.bytes += len(data)
        if not self.started:
            self.head = (self.head + data)[-16384:]
            self.started = b"NetStream.Play.Start" in self.head

    def connection_lost(self, exc):
        self.closed = True
        self.closed_at = time.monotonic()
        self.error = exc


class RtmpPlayers:
    def __init__(self, host, port, app, name):
        self.host, self.port, self.app, self.name = host, port, app, name
        self.players = []
        self.connect_errors = []
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="rtmp-players", daemon=True)
        self.thread.start()

    def _call(self, coro, timeout):
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    async def _open(self, n, rate):
        cmds = commands(self.host, self.port, self.app, self.name)
        out = []
        for i in range(n):
            try:
                _, p = await asyncio.wait_for(
                    self.loop.create_connection(lambda: Player(cmds), self.host, self.port), 10)
                out.append(p)
            except (OSError, asyncio.TimeoutError) as e:
                self.connect_errors.append(repr(e))
            await asyncio.sleep(1.0 / rate)
        return out

    def add(self, n, rate=100):
        """Opens n more players (rate per second); returns them."""
        new = self._call(self._open(n, rate), n / rate + 30)
        self.players.extend(new)
        return new

    def snapshot(self, players=None):
        """{port: bytes} of the given (default: all) players."""
        return {p.port: p.bytes for p in (players or self.players)}

    async def _close(self):
        for p in self.players:
            if p.transport:
                p.transport.abort()
        await asyncio.sleep(0)

    def close(self):
        try:
            self._call(self._close(), 10)
        except Exception:
            pass
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)


def socket_owners(server_port, pids):
    """{client port: pid} for the loopback TCP connections to server_port whose
    server side is held by one of pids (read from /proc: which worker
    accepted which player)."""
    inode_pid = {}
    for pid in pids:
        try:
            for fd in os.listdir("/proc/%d/fd" % pid):
                try:
                    link = os.readlink("/proc/%d/fd/%s" % (pid, fd))
                except OSError:
                    continue
                if link.startswith("socket:["):
                    inode_pid[link[8:-1]] = pid
        except OSError:
            continue
    out = {}
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(table) as f:
                rows = f.read().split("\n")[1:]
        except OSError:
            continue
        for row in rows:
            c = row.split()
            if len(c) < 10:
                continue
            lport = int(c[1].rsplit(":", 1)[1], 16)
            rport = int(c[2].rsplit(":", 1)[1], 16)
            if lport == server_port and c[9] in inode_pid:
                out[rport] = inode_pid[c[9]]
    return out
