"""RTMP hardening (security review #5, #6 and #16; SPEC 5 and 9), with raw
RTMP clients in Python and real ffmpeg/ffprobe:

- #5: partial messages are bounded per connection (2 x the 8 MiB message
  limit, 8 in flight) and per worker (64 MiB): the review's repro (chunk
  size 1 MiB, 63 chunk streams announcing 8 MiB and sending 7 MiB each) is
  closed with a log line and the worker's peak RSS stays bounded while a
  publisher and a player on the same worker go on; the same with two
  attackers at once; when connections holding partials under their own
  limit fill the worker's, the one holding the most is closed, not a
  publisher; a 1080p publisher with 550 KB keyframes is untouched.
- #6: with signaling.publish_token set, an RTMP publish needs
  NAME?token=TOKEN: without it or with a wrong one ffmpeg is refused with
  NetStream.Publish.BadName (level error, a reason) and the stream is not
  listed; with it the stream is published and played as NAME (a player's
  own query is ignored).
- #16: a chunk size of 0x7fffffff, a 40-deep AMF object and a bad
  aggregate get an onStatus/_error with words before the close.
"""
import os
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from lcserver import Tests, wait_for  # noqa: E402

WORK = tempfile.mkdtemp(prefix="lc-rtmp-hard-")
SMALL = os.path.join(WORK, "small.flv")
BIG = os.path.join(WORK, "big.flv")
PROCS = []
TOKEN = "s3cret-T0ken"
MIB = 1 << 20


def make_media():
    # 320x240 H.264 + AAC, 6 s; and 1080p whose keyframes are ~550 KB (static
    # noise defeats intra prediction, P frames stay ~80 KB), 4 s: published with -c copy
    audio = ["-f", "lavfi", "-i", "sine=frequency=1000:sample_rate=44100"]
    out = ["-c:a", "aac", "-b:a", "64k", "-pix_fmt", "yuv420p", "-c:v", "libx264", "-preset", "ultrafast",
           "-g", "25", "-f", "flv"]
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-y", "-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25"]
                   + audio + ["-t", "6"] + out + [SMALL], check=True, timeout=60)
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-y", "-f", "lavfi", "-i", "testsrc2=size=1920x1080:rate=25"]
                   + audio + ["-t", "4", "-vf", "noise=alls=10:allf=u", "-qp", "22"] + out + [BIG],
                   check=True, timeout=60)


def spawn(args):
    p = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    PROCS.append(p)
    return p


def finish(p, timeout=30):
    out, err = p.communicate(timeout=timeout)
    return p.returncode, out, err


def url(s, path):
    return "rtmp://127.0.0.1:%d/live/%s" % (s.rtmp_port, path)


def publish(s, path, media=SMALL, loop=True):
    return spawn(["ffmpeg", "-nostdin", "-v", "error", "-re"] + (["-stream_loop", "-1"] if loop else []) +
                 ["-i", media, "-c", "copy", "-f", "flv", url(s, path)])


def frames_played(s, path, seconds=3):
    """ffmpeg decodes `seconds` of the stream; returns the video frames it counted."""
    rc, out, err = finish(spawn(["ffmpeg", "-nostdin", "-v", "error", "-stats", "-rw_timeout", "8000000", "-i",
                                 url(s, path), "-t", str(seconds), "-map", "0:v", "-f", "null", "-"]), 40)
    assert rc == 0, err[-2000:]
    counts = [int(x.split()[0]) for x in err.replace("\r", "\n").split("frame=")[1:] if x.split()]
    return counts[-1] if counts else 0


def streams(s):
    return {st["name"]: st for st in s.rest("stream/find_all")["streams"]}


def wait_live(s, name, timeout=15):
    return wait_for(lambda: streams(s).get(name, {}).get("frames_in", 0) > 20 and streams(s)[name], timeout,
                    "stream %s live" % name)


def worker_pid(s):
    pids = [p["pid"] for p in s.processes("worker") if p["state"] == "running"]
    assert len(pids) == 1, pids
    return pids[0]


def proc_kib(pid, field):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise AssertionError("no %s for %d" % (field, pid))


def reset_peak(pid):
    with open("/proc/%d/clear_refs" % pid, "w") as f:
        f.write("5")  # VmHWM := VmRSS now


# ---------------------------------------------------------------- RTMP on the wire

def amf_str(v):
    b = v.encode()
    return b"\x02" + struct.pack(">H", len(b)) + b


def amf_num(x):
    return b"\x00" + struct.pack(">d", x)


def amf_obj(items):
    return b"\x03" + b"".join(struct.pack(">H", len(k)) + k.encode() + v for k, v in items) + b"\x00\x00\x09"


def basic(fmt, csid):
    if csid < 64:
        return bytes([fmt << 6 | csid])
    if csid < 320:
        return bytes([fmt << 6, csid - 64])
    return bytes([fmt << 6 | 1, (csid - 64) & 0xff, (csid - 64) >> 8])


def fmt0(csid, type_, length, msid=0, ts=0):
    return basic(0, csid) + struct.pack(">I", ts)[1:] + struct.pack(">I", length)[1:] + bytes([type_]) + \
        struct.pack("<I", msid)


def message(csid, type_, payload, msid=0, chunk=128):
    out = fmt0(csid, type_, len(payload), msid)
    for i in range(0, max(len(payload), 1), chunk):
        if i:
            out += basic(3, csid)
        out += payload[i:i + chunk]
    return out


def set_chunk_size(n):
    return message(2, 1, struct.pack(">I", n))


def connect_cmd(txn=1):
    return message(3, 20, amf_str("connect") + amf_num(txn) + amf_obj([("app", amf_str("live"))]))


def publish_cmds(name):
    return (message(3, 20, amf_str("createStream") + amf_num(2) + b"\x05") +
            message(3, 20, amf_str("publish") + amf_num(3) + b"\x05" + amf_str(name) + amf_str("live"), msid=1))


class Rtmp:
    """A raw RTMP client: sends what it is told, reads the server's messages."""

    def __init__(self, s, timeout=10):
        self.sock = socket.create_connection(("127.0.0.1", s.rtmp_port), timeout=timeout)
        self.port = self.sock.getsockname()[1]
        self.sock.sendall(b"\x03" + bytes(1536))
        got = b""
        while len(got) < 3073:
            c = self.sock.recv(65536)
            assert c, "closed during the handshake"
            got += c
        self.sock.sendall(bytes(1536))
        self.buf = got[3073:]
        self.eof = False

    def send(self, data):
        """False once the server has closed (the rest is not sent)."""
        try:
            self.sock.sendall(data)
            return True
        except (BrokenPipeError, ConnectionResetError):
            return False

    def read_until_close(self, timeout=15):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.sock.settimeout(max(0.1, deadline - time.monotonic()))
            try:
                c = self.sock.recv(65536)
            except ConnectionResetError:
                c = b""
            except socket.timeout:
                continue
            if not c:
                self.eof = True
                return self.buf
            self.buf += c
        raise AssertionError("the server did not close within %ds" % timeout)

    def close(self):
        self.sock.close()


def parse_messages(data):
    """The server's chunk stream -> [(type, msid, payload)], following its
    Set Chunk Size. Stops at a message cut short by the close."""
    chunk, p, out, streams_ = 128, 0, [], {}
    while p < len(data):
        b0 = data[p]
        fmt, csid, p = b0 >> 6, b0 & 0x3f, p + 1
        if csid == 0:
            csid, p = 64 + data[p], p + 1
        elif csid == 1:
            csid, p = 64 + data[p] + data[p + 1] * 256, p + 2
        st = streams_.setdefault(csid, {"len": 0, "type": 0, "msid": 0, "buf": b""})
        hlen = (11, 7, 3, 0)[fmt]
        h = data[p:p + hlen]
        if len(h) < hlen:
            break
        p += hlen
        if fmt < 3 and h[:3] == b"\xff\xff\xff":
            p += 4
        if fmt <= 1:
            st["len"], st["type"] = int.from_bytes(h[3:6], "big"), h[6]
        if fmt == 0:
            st["msid"] = struct.unpack("<I", h[7:11])[0]
        n = min(chunk, st["len"] - len(st["buf"]))
        if p + n > len(data):
            break
        st["buf"] += data[p:p + n]
        p += n
        if len(st["buf"]) == st["len"]:
            out.append((st["type"], st["msid"], st["buf"]))
            if st["type"] == 1:
                chunk = struct.unpack(">I", st["buf"][:4])[0]
            st["buf"] = b""
    return out


def amf_decode(b):
    vals, p = [], 0

    def val(p):
        m = b[p]
        p += 1
        if m == 0:
            return struct.unpack(">d", b[p:p + 8])[0], p + 8
        if m == 1:
            return bool(b[p]), p + 1
        if m == 2:
            n = struct.unpack(">H", b[p:p + 2])[0]
            return b[p + 2:p + 2 + n].decode(), p + 2 + n
        if m in (3, 8):
            if m == 8:
                p += 4
            o = {}
            while b[p:p + 3] != b"\x00\x00\x09":
                n = struct.unpack(">H", b[p:p + 2])[0]
                k = b[p + 2:p + 2 + n].decode()
                o[k], p = val(p + 2 + n)
            return o, p + 3
        if m in (5, 6):
            return None, p
        raise ValueError("AMF0 marker %d" % m)
    while p < len(b):
        v, p = val(p)
        vals.append(v)
    return vals


def commands(data):
    return [amf_decode(payload) for type_, _, payload in parse_messages(data) if type_ == 20]


def error_reply(data):
    """The server's last error-level onStatus or _error: (name, txn, info)."""
    errs = [c for c in commands(data) if c and c[0] in ("onStatus", "_error") and len(c) >= 4 and
            isinstance(c[3], dict) and c[3].get("level") == "error"]
    assert errs, "no error-level onStatus/_error before the close; got %r" % commands(data)
    c = errs[-1]
    return c[0], c[1], c[3]


# ---------------------------------------------------------------- #5: partial-message memory

def attack(s, csids=63, announce=8 * MIB, send=7 * MIB, chunk=MIB):
    """The review's repro: chunk size 1 MiB, then on each csid a fmt 0
    header announcing `announce` bytes and `send` bytes of payload. Returns
    the client (closed by the server unless under every limit)."""
    c = Rtmp(s, timeout=30)
    piece = b"\x17" * chunk
    ok = c.send(set_chunk_size(chunk))
    for csid in range(3, 3 + csids):
        if not ok:
            break
        ok = c.send(fmt0(csid, 9, announce, msid=1))
        for i in range(send // chunk):
            if i:
                ok = ok and c.send(basic(3, csid))
            ok = ok and c.send(piece)
            if not ok:
                break
    return c


def check_refused(s, c, why):
    data = c.read_until_close(20)
    name, _, info = error_reply(data)
    assert name == "onStatus" and info.get("code") == "NetConnection.Connect.Rejected", (name, info)
    assert why in info.get("description", ""), info
    wait_for(lambda: "127.0.0.1:%d]" % c.port in s.log() and
             any("127.0.0.1:%d]" % c.port in ln and why in ln for ln in s.log().splitlines()), 5,
             "a log line naming the peer and %r" % why)
    c.close()


def one_attacker(s, state):
    pid = worker_pid(s)
    pub = publish(s, "victim")
    wait_live(s, "victim")
    state["pub"] = pub
    time.sleep(1)
    rss0 = proc_kib(pid, "VmRSS")
    reset_peak(pid)
    player = spawn(["ffmpeg", "-nostdin", "-v", "error", "-stats", "-rw_timeout", "8000000", "-i", url(s, "victim"),
                    "-t", "5", "-map", "0:v", "-f", "null", "-"])
    time.sleep(0.5)
    c = attack(s)
    check_refused(s, c, "connection's limit")
    grew = proc_kib(pid, "VmHWM") - rss0
    print("# one attacker: worker peak RSS +%d KiB" % grew)
    # 2 x 8 MiB of partials at most, plus socket buffers and allocator slack
    assert grew < 40 * 1024, "worker peak RSS grew by %d KiB for one connection" % grew
    rc, _, err = finish(player, 30)
    assert rc == 0, "the player on the same worker failed: %s" % err[-1000:]
    assert pub.poll() is None, "the publisher on the same worker died"
    assert streams(s)["victim"]["frames_in"] > 0
    assert worker_pid(s) == pid, "the worker was replaced"


def two_attackers(s, state):
    pid = worker_pid(s)
    rss0 = proc_kib(pid, "VmRSS")
    reset_peak(pid)
    done = []

    def run():
        done.append(attack(s))
    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert len(done) == 2, "an attacker hung"
    for c in done:
        check_refused(s, c, "limit")
    grew = proc_kib(pid, "VmHWM") - rss0
    print("# two attackers: worker peak RSS +%d KiB" % grew)
    assert grew < 72 * 1024, "worker peak RSS grew by %d KiB for two connections" % grew
    assert frames_played(s, "victim", 2) > 20, "the stream on the same worker stopped"
    assert state["pub"].poll() is None and worker_pid(s) == pid


def worker_budget(s, state):
    """Connections holding partials under their own 16 MiB fill 63.75 of the
    worker's 64 MiB (4 x 14 + 7.75). A 1080p publisher then needs room for its
    keyframes: the connection holding the most is closed (with words and a
    log line), not the publisher, whose every frame arrives."""
    state["pub"].kill()
    finish(state["pub"])
    wait_for(lambda: "victim" not in streams(s), 10, "victim gone")
    held = []
    try:
        for i in range(4):
            held.append(attack(s, csids=2, send=7 * MIB))
            time.sleep(0.2)
        held.append(attack(s, csids=1, send=31 * MIB // 4, chunk=MIB // 4))
        time.sleep(0.5)
        for c in held:
            c.sock.settimeout(0.2)
            try:
                assert c.sock.recv(1) != b"", "a connection under every limit was closed"
            except socket.timeout:
                pass
        pub = publish(s, "hd1", BIG, loop=False)
        wait_live(s, "hd1")
        assert frames_played(s, "hd1", 2) >= 40
        rc, _, err = finish(pub, 30)
        assert rc == 0, "the publisher was closed, not the connection holding the most: %s" % err[-1000:]
        evicted = []
        for c in held[:4]:
            c.sock.settimeout(0.5)
            try:
                c.buf += c.sock.recv(65536)
            except socket.timeout:
                continue
            except ConnectionResetError:
                pass
            evicted.append(c)
        assert evicted, "no connection was closed for the worker's limit"
        for c in evicted:
            check_refused(s, c, "worker's limit")
        assert "holds the most" in s.log()
    finally:
        for c in held:
            c.close()
    assert not any("stream:hd1]" in ln and "[warn]" in ln for ln in s.log().splitlines()), s.log()[-2000:]


def big_keyframes(s):
    """A 1080p publisher whose keyframes are ~550 KB: every frame arrives."""
    sizes = subprocess.run(["ffprobe", "-v", "error", "-select_streams", "v", "-show_entries", "packet=size,flags",
                            "-of", "csv=p=0", BIG], capture_output=True, text=True, timeout=30).stdout.split()
    keys = [int(x.split(",")[0]) for x in sizes if "K" in x]
    assert keys and min(keys) > 300000, "the test media's keyframes are too small: %r" % keys
    pub = publish(s, "hd", BIG, loop=False)
    wait_live(s, "hd")
    assert frames_played(s, "hd", 2) >= 40
    rc, _, err = finish(pub, 30)
    assert rc == 0, "the 1080p publisher failed: %s" % err[-1000:]
    log = s.log()
    assert not any("stream:hd]" in ln and "[warn]" in ln for ln in log.splitlines()), log[-2000:]


# ---------------------------------------------------------------- #16: words before the close

def huge_chunk_size(s):
    c = Rtmp(s)
    c.send(set_chunk_size(0x7fffffff))
    name, _, info = error_reply(c.read_until_close())
    assert name == "onStatus" and info["code"] == "NetConnection.Connect.Rejected", info
    assert info["description"].startswith("Protocol error: ") and "chunk size" in info["description"], info
    c.close()
    wait_for(lambda: "closed: RTMP protocol error: chunk size out of range" in s.log(), 5, "log line")


def deep_amf(s):
    c = Rtmp(s)
    deep = b"".join(b"\x03" + struct.pack(">H", 1) + b"a" for _ in range(40)) + b"\x05" + b"\x00\x00\x09" * 40
    c.send(message(3, 20, amf_str("connect") + amf_num(1) + deep))
    name, txn, info = error_reply(c.read_until_close())
    assert name == "_error" and txn == 1, (name, txn, info)
    assert info["code"] == "NetConnection.Connect.Rejected" and "too deep" in info["description"], info
    c.close()
    wait_for(lambda: "bad AMF0 command connect: too deep" in s.log(), 5, "log line")


def bad_aggregate(s):
    c = Rtmp(s)
    c.send(connect_cmd() + publish_cmds("agg") + message(6, 22, b"\x09\xff\xff\xff" + bytes(7) + b"\x17\x01" +
                                                           bytes(20), msid=1))
    data = c.read_until_close()
    codes = [x[3].get("code") for x in commands(data) if len(x) > 3 and isinstance(x[3], dict)]
    # connect answered, publish started (the server's chunk size changed on the way), then the error
    assert "NetConnection.Connect.Success" in codes and "NetStream.Publish.Start" in codes, codes
    name, _, info = error_reply(data)
    assert name == "onStatus" and "aggregate" in info["description"], info
    c.close()


# ---------------------------------------------------------------- #6: publish_token over RTMP

def refused_publish(s, path, why):
    p = publish(s, path, loop=False)
    rc, _, err = finish(p, 30)
    assert rc != 0, "ffmpeg published %s" % path
    assert why in err, "ffmpeg did not print the reason %r: %s" % (why, err[-1000:])
    assert "tok" not in streams(s) and not any(n.startswith("tok") for n in streams(s)), streams(s)


def token_missing(s):
    refused_publish(s, "tok", "needs a token")
    wait_for(lambda: "stream:tok] publish refused: no token" in s.log(), 5, "log line")
    # the exact reply, read by a raw client
    c = Rtmp(s)
    c.send(connect_cmd() + publish_cmds("tok"))
    name, _, info = error_reply(c.read_until_close())
    assert name == "onStatus" and info["code"] == "NetStream.Publish.BadName", info
    assert "NAME?token=TOKEN" in info["description"], info
    c.close()


def token_wrong(s):
    refused_publish(s, "tok?token=" + TOKEN + "x", "wrong token")
    refused_publish(s, "tok?token=" + TOKEN[:-1], "wrong token")
    refused_publish(s, "tok?token=", "wrong token")
    wait_for(lambda: s.log().count("publish refused: wrong token") >= 3, 5, "log lines")


def token_right(s):
    pub = publish(s, "tok?channel=c1&token=" + TOKEN)
    st = wait_live(s, "tok")
    assert st["name"] == "tok" and st["video"] == "H264", st
    assert frames_played(s, "tok", 2) > 20
    assert frames_played(s, "tok?uid=7&token=whatever", 2) > 20  # a player's query is not the name
    # percent-encoded works too (%2D is '-')
    pub2 = publish(s, "tok2?token=" + TOKEN.replace("-", "%2D"))
    wait_live(s, "tok2")
    for p in (pub, pub2):
        assert p.poll() is None
        p.kill()
        finish(p)
    assert TOKEN not in s.log(), "the token is in the log"


try:
    make_media()
    with Tests() as t:
        a = t.server(workers=1, name="lc-hard")
        a.start()
        state = {}
        t.case("#5 repro (63 csids x 7 MiB of 8 MiB): closed with words and a log line, worker RSS bounded, "
               "publisher and player on the worker go on", one_attacker, a, state)
        t.case("#5 two such connections at once: both closed, RSS bounded", two_attackers, a, state)
        t.case("#5 the worker's 64 MiB nearly spent: the connection holding the most is closed, not a 1080p "
               "publisher", worker_budget, a, state)
        t.case("a 1080p publisher with ~550 KB keyframes is not affected", big_keyframes, a)
        t.case("#16 chunk size 0x7fffffff: onStatus Connect.Rejected 'Protocol error: chunk size ...'",
               huge_chunk_size, a)
        t.case("#16 40-deep AMF in connect: _error(1) Connect.Rejected 'too deep'", deep_amf, a)
        t.case("#16 a bad aggregate after publish: onStatus with the reason", bad_aggregate, a)
        b = t.server(workers=2, name="lc-tok", extra="")
        b.write_conf(raw=open(b.conf).read().replace(
            "signaling: {", 'signaling: { publish_token = "%s";' % TOKEN))
        b.start()
        t.case("#6 publish_token set: ffmpeg without ?token= is refused with BadName, not listed", token_missing, b)
        t.case("#6 a wrong token is refused", token_wrong, b)
        t.case("#6 ?token=TOKEN publishes and plays as NAME (a player's query ignored)", token_right, b)
finally:
    for p in PROCS:
        if p.poll() is None:
            p.kill()
            p.wait()
    subprocess.run(["rm", "-rf", WORK])
