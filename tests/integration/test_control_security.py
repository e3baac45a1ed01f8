"""Control process security (review findings 10, 11, 14, 16; SPEC 8 and 9)
and refused reloads (issue 11, Operations): a deep JSON body does not crash
control; REST takes only application/json from its own origin; /metrics
honours http.token; a symlink under http.root is not followed; a reload of a
bad file (HUP or `livecdn -s reload`) names file, line and key in the
running server's error log and keeps the old configuration."""
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from lcserver import BIN, Tests, wait_for  # noqa: E402

TOKEN = "metrics-Token_7"
PROCS = []


def raw_http(port, data, timeout=15):
    """Raw bytes to 127.0.0.1:port; (status, headers, body) of the answer."""
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    out = b""
    deadline = time.monotonic() + timeout
    try:
        try:
            s.sendall(data)
        except (BrokenPipeError, ConnectionResetError):
            pass
        while time.monotonic() < deadline:
            try:
                c = s.recv(65536)
            except (ConnectionResetError, socket.timeout):
                break
            if not c:
                break
            out += c
    finally:
        s.close()
    head, _, body = out.partition(b"\r\n\r\n")
    m = re.match(rb"HTTP/1\.[01] (\d{3}) ", head)
    headers = {}
    for ln in head.split(b"\r\n")[1:]:
        k, _, v = ln.partition(b":")
        headers[k.strip().lower().decode()] = v.strip().decode()
    return (int(m.group(1)) if m else None), headers, body


def request(s, method, path, body=b"", headers=None, host=None):
    hdrs = {"Host": host or "127.0.0.1:%d" % s.http_port, "Connection": "close"}
    hdrs.update(headers or {})
    if method == "POST":
        hdrs["Content-Length"] = str(len(body))
    head = "%s %s HTTP/1.1\r\n%s\r\n" % (method, path, "".join("%s: %s\r\n" % kv for kv in hdrs.items()))
    return raw_http(s.http_port, head.encode() + body)


def json_error(answer, want):
    st, headers, body = answer
    assert st == want, "status %s (want %s): %r" % (st, want, body[:300])
    assert headers.get("content-type", "").startswith("application/json"), headers
    doc = json.loads(body)
    assert isinstance(doc.get("error"), str) and doc["error"], doc
    return doc["error"]


def control_pid(s):
    return [p["pid"] for p in s.processes("control") if p["state"] == "running"]


def publish(s, name):
    p = subprocess.Popen(["ffmpeg", "-nostdin", "-v", "error", "-re", "-f", "lavfi", "-i",
                          "testsrc2=size=160x120:rate=15", "-c:v", "libx264", "-preset", "ultrafast",
                          "-tune", "zerolatency", "-g", "15", "-pix_fmt", "yuv420p", "-f", "flv",
                          "rtmp://127.0.0.1:%d/live/%s" % (s.rtmp_port, name)],
                         stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    PROCS.append(p)
    wait_for(lambda: any(st["name"] == name for st in s.rest("stream/find_all")["streams"]), 20,
             "stream %s live" % name)
    return p


def live(s, name):
    return any(st["name"] == name for st in s.rest("stream/find_all")["streams"])


# ---------------------------------------------------------------- finding 10

def deep_json_body(s):
    before = control_pid(s)
    body = b"[" * 400000 + b"]" * 400000
    err = json_error(request(s, "POST", "/rest-api/stream/find", body, {"Content-Type": "application/json"}), 400)
    assert "Bad JSON" in err and "nested" in err, err
    # the same for the other routes that read a body, and for a \u0000 name
    json_error(request(s, "POST", "/rest-api/stream/terminate", b"{" * 100 + b'"a":1', {"Content-Type": "application/json"}), 400)
    err = json_error(request(s, "POST", "/rest-api/stream/find", b'{"name":"a\\u0000b"}',
                             {"Content-Type": "application/json"}), 400)
    assert "u0000" in err, err
    assert control_pid(s) == before, "the control process was restarted: %r -> %r" % (before, control_pid(s))
    assert "was killed by signal" not in s.log()
    # a good body still works
    json_error(request(s, "POST", "/rest-api/stream/find", b'{"name":"nope"}', {"Content-Type": "application/json"}), 404)


# ---------------------------------------------------------------- finding 11

def cross_site_refused(s):
    publish(s, "show")
    ctl = control_pid(s)
    body = b'{"name":"show"}'
    # the review's repro: a page on another site posting text/plain
    json_error(request(s, "POST", "/rest-api/stream/terminate", body,
                       {"Origin": "http://evil.example", "Content-Type": "text/plain"}), 403)
    # a foreign origin even with the JSON type (a browser would preflight; refused anyway)
    json_error(request(s, "POST", "/rest-api/stream/terminate", body,
                       {"Origin": "http://evil.example", "Content-Type": "application/json"}), 403)
    json_error(request(s, "POST", "/rest-api/stream/terminate", body,
                       {"Origin": "null", "Content-Type": "application/json"}), 403)
    # no Origin, but not JSON: 415 (form posts and text/plain are what a page can send freely)
    for ctype in ("text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", None):
        err = json_error(request(s, "POST", "/rest-api/stream/terminate", body,
                                 {"Content-Type": ctype} if ctype else {}), 415)
        assert "application/json" in err, err
    # DNS rebinding: the attacker's name, same-origin to the browser, no token set
    err = json_error(request(s, "POST", "/rest-api/stream/terminate", body,
                             {"Origin": "http://evil.example:%d" % s.http_port, "Content-Type": "application/json"},
                             host="evil.example:%d" % s.http_port), 403)
    assert "Host" in err, err
    json_error(request(s, "POST", "/rest-api/worker/show", b"{}", {"Content-Type": "application/json"},
                       host="evil.example"), 403)
    # config/reload is refused the same way: nothing was reloaded
    json_error(request(s, "POST", "/rest-api/config/reload", b"{}", {"Content-Type": "text/plain"}), 415)
    time.sleep(0.5)
    assert live(s, "show"), "a refused request ended the stream"
    assert s.rest("worker/show")["master"]["generation"] == 1
    # same origin (as the pages send it) and localhost names work
    st, _, b = request(s, "POST", "/rest-api/worker/show", b"{}",
                       {"Origin": "http://127.0.0.1:%d" % s.http_port, "Content-Type": "application/json; charset=utf-8"})
    assert st == 200 and json.loads(b)["master"]["pid"] == s.master_pid, (st, b[:200])
    st, _, b = request(s, "POST", "/rest-api/worker/show", b"{}", {"Content-Type": "application/json"},
                       host="localhost:%d" % s.http_port)
    assert st == 200, (st, b[:200])
    # application/json and no Origin: the call goes through
    st, _, b = request(s, "POST", "/rest-api/stream/terminate", body, {"Content-Type": "application/json"})
    assert st == 200 and json.loads(b) == {"result": "ok"}, (st, b)
    wait_for(lambda: not live(s, "show"), 10, "stream ended")
    assert control_pid(s) == ctl
    assert "cross-origin request refused" in s.log() and "Content-Type: application/json" in s.log()


def ctl_and_page_still_work(s):
    # livecdnctl sends application/json
    r = subprocess.run([os.path.join(os.path.dirname(BIN), "livecdnctl"), "-a", "127.0.0.1:%d" % s.http_port,
                        "show", "workers"], capture_output=True, text=True, timeout=30)
    assert r.returncode == 0 and "Pid" in r.stdout, (r.returncode, r.stdout, r.stderr)
    # the shipped page's fetch() sends the JSON type: check the page we serve says so
    page = open(os.path.join(os.path.dirname(BIN), "..", "html", "index.html")).read()
    for m in re.finditer(r"fetch\(\"/rest-api/[^)]*\)", page, re.S):
        assert "application/json" in m.group(0), m.group(0)


# ---------------------------------------------------------------- finding 14

def metrics_token(t):
    s = t.server(workers=1, http_extra='token = "%s";' % TOKEN)
    s.start(wait=False)

    def up():
        if s.proc.poll() is not None:
            raise AssertionError("livecdn exited:\n" + s.log())
        st, _, _ = request(s, "POST", "/rest-api/worker/show", b"{}",
                           {"Content-Type": "application/json", "Authorization": "Bearer " + TOKEN})
        return st == 200
    wait_for(up, 20, "server with token ready")
    json_error(request(s, "GET", "/metrics"), 401)
    json_error(request(s, "GET", "/metrics", headers={"Authorization": "Bearer wrong"}), 401)
    json_error(request(s, "GET", "/metrics", headers={"Authorization": "Bearer " + TOKEN[:-1]}), 401)
    st, headers, body = request(s, "GET", "/metrics", headers={"Authorization": "Bearer " + TOKEN})
    assert st == 200 and b"livecdn_" in body, (st, body[:200])
    # with a token any Host name is fine: the token is what a rebinding page lacks
    st, _, _ = request(s, "POST", "/rest-api/worker/show", b"{}",
                       {"Content-Type": "application/json", "Authorization": "Bearer " + TOKEN},
                       host="cdn1.example.com")
    assert st == 200, st


# ---------------------------------------------------------------- finding 16 (static half)

def symlink_not_followed(s):
    root = os.path.join(s.dir, "html")
    outside = os.path.join(s.dir, "secret.txt")
    with open(outside, "w") as f:
        f.write("outside the root\n")
    os.makedirs(os.path.join(s.dir, "outdir"), exist_ok=True)
    with open(os.path.join(s.dir, "outdir", "x.txt"), "w") as f:
        f.write("outside dir\n")
    os.symlink(outside, os.path.join(root, "link.txt"))
    os.symlink("/etc", os.path.join(root, "etc"))
    os.symlink(os.path.join(s.dir, "outdir"), os.path.join(root, "sub"))
    os.makedirs(os.path.join(root, "real"), exist_ok=True)
    with open(os.path.join(root, "real", "ok.txt"), "w") as f:
        f.write("inside\n")
    for path in ("/link.txt", "/etc/passwd", "/etc/hostname", "/sub/x.txt", "/sub/", "/%6cink.txt"):
        st, _, body = request(s, "GET", path)
        assert st == 404, "%s -> %s %r" % (path, st, body[:100])
        assert b"outside" not in body and b"root:" not in body, path
    st, headers, body = request(s, "GET", "/real/ok.txt")
    assert st == 200 and body == b"inside\n" and headers["content-type"].startswith("text/plain"), (st, body)
    st, _, body = request(s, "GET", "/")
    assert st == 200 and b"livecdn test page" in body
    st, _, body = request(s, "GET", "/real//ok.txt")
    assert st == 200 and body == b"inside\n", (st, body)
    # traversal forms still refused
    for path in ("/../secret.txt", "/%2e%2e/secret.txt", "/real%2f..%2f..%2fsecret.txt", "/x%00.html", "/.%2e/secret.txt"):
        st, _, _ = request(s, "GET", path)
        assert st in (400, 404), "%s -> %s" % (path, st)
    # a FIFO under root does not block the control loop
    os.mkfifo(os.path.join(root, "pipe.txt"))
    st, _, _ = request(s, "GET", "/pipe.txt")
    assert st == 404, st
    assert "symlink under http.root" in s.log()


# ---------------------------------------------------------------- reload refused

def reload_refused_names_key(s):
    good = open(s.conf).read()
    workers = sorted(p["pid"] for p in s.processes("worker"))
    try:
        # a bad key on a known line of the running server's file
        lines = good.rstrip("\n").split("\n")
        lines.insert(2, "rtmp_chunk_size = 4096;")
        bad_line = 3
        with open(s.conf, "w") as f:
            f.write("\n".join(lines) + "\n")
        where = "%s:%d:" % (os.path.realpath(s.conf), bad_line)

        def refused_lines():
            return [ln for ln in s.log().split("\n") if "reload refused:" in ln]
        n0 = len(refused_lines())
        s.send_signal(signal.SIGHUP)
        wait_for(lambda: len(refused_lines()) > n0, 10, "a refusal line after HUP")
        ln = refused_lines()[-1]
        assert "[error]" in ln and where in ln and "rtmp_chunk_size" in ln, ln

        # livecdn -s reload: exit 1 with the reason, and the master logs it too
        n1 = len(refused_lines())
        r = subprocess.run([BIN, "-c", s.conf, "-p", s.dir, "-s", "reload"], capture_output=True, text=True,
                           timeout=20)
        assert r.returncode == 1 and where in r.stderr and "rtmp_chunk_size" in r.stderr, (r.returncode, r.stderr)
        wait_for(lambda: len(refused_lines()) > n1, 10, "a refusal line after -s reload")
        ln = refused_lines()[-1]
        assert where in ln and "rtmp_chunk_size" in ln, ln

        # a wrong value: the key and the line of the value
        lines = good.rstrip("\n").split("\n")
        lines.append("cdn: { port = 0; };")
        with open(s.conf, "w") as f:
            f.write("\n".join(lines) + "\n")
        n2 = len(refused_lines())
        r = subprocess.run([BIN, "-c", s.conf, "-p", s.dir, "-s", "reload"], capture_output=True, text=True,
                           timeout=20)
        assert r.returncode == 1, r.stderr
        wait_for(lambda: len(refused_lines()) > n2, 10, "a refusal line for a bad value")
        ln = refused_lines()[-1]
        assert ("%s:%d:" % (os.path.realpath(s.conf), len(lines))) in ln and "cdn.port" in ln, ln

        # a listen address that cannot be bound: the line of that key too
        busy = socket.socket()
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        try:
            text = good.replace("127.0.0.1:%d" % s.sig_port, "127.0.0.1:%d" % busy.getsockname()[1])
            assert text != good
            with open(s.conf, "w") as f:
                f.write(text)
            sig_line = [i + 1 for i, ln in enumerate(text.split("\n")) if "signaling:" in ln][0]
            n3 = len(refused_lines())
            s.send_signal(signal.SIGHUP)
            wait_for(lambda: len(refused_lines()) > n3, 10, "a refusal line for a busy address")
            ln = refused_lines()[-1]
            assert ("%s:%d:" % (os.path.realpath(s.conf), sig_line)) in ln and "signaling.listen" in ln, ln
        finally:
            busy.close()
        with open(s.conf, "w") as f:
            f.write("\n".join(lines) + "\n")

        # REST config/reload answers the same text
        st, _, body = request(s, "POST", "/rest-api/config/reload", b"{}", {"Content-Type": "application/json"})
        assert st == 500 and "reload refused" in json.loads(body)["error"] and "cdn.port" in body.decode()

        # the old configuration still serves, on the same workers, generation 1
        show = s.rest("worker/show")
        assert show["master"]["generation"] == 1, show["master"]
        assert sorted(p["pid"] for p in show["processes"] if p["role"] == "worker") == workers
        publish(s, "after")
    finally:
        with open(s.conf, "w") as f:
            f.write(good)
    # fixed: -s reload goes through
    r = subprocess.run([BIN, "-c", s.conf, "-p", s.dir, "-s", "reload"], capture_output=True, text=True, timeout=20)
    assert r.returncode == 0, r.stderr
    s.wait_ready(generation=2)


with Tests() as t:
    try:
        s = t.server(workers=1).start()
        t.case("a 400000-deep JSON body is 400 and control keeps its pid (finding 10)", deep_json_body, s)
        t.case("REST refuses foreign Origin, non-JSON bodies and foreign Host; JSON without Origin works (finding 11)",
               cross_site_refused, s)
        t.case("livecdnctl and the page send application/json", ctl_and_page_still_work, s)
        t.case("/metrics with http.token: 401 without, 200 with (finding 14)", metrics_token, t)
        t.case("a symlink under http.root is not followed: 404 (finding 16)", symlink_not_followed, s)
        t.case("a refused reload (HUP, -s reload, REST) logs file:line and key; old config serves",
               reload_refused_names_key, s)
    finally:
        for p in PROCS:
            if p.poll() is None:
                p.kill()
            try:
                p.wait(timeout=5)
            except subprocess.TimeoutExpired:
                pass
