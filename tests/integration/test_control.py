"""Control process (SPEC section 8, and 9 for HTTP): Prometheus metrics, the
static pages (no path traversal), the REST API (shape, errors, methods,
http.token, http.allow), malformed HTTP, and bin/livecdnctl."""
import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from lcserver import CTL, Tests, free_port, wait_for  # noqa: E402

TOKEN = "s3cret-Token_42"

NOT_YET = ["transcoding/set"]
CDN_PATHS = ["cdn/show_nodes", "cdn/show_routes"]
CDN_OFF = "CDN is not enabled (cdn.enabled = false)"
CDN_SERIES = [
    ("livecdn_cdn_nodes", "gauge", [{("state", "active")}, {("state", "passive")}]),
    ("livecdn_cdn_routes", "gauge", [set()]),
    ("livecdn_cdn_pulls_active", "gauge", [set()]),
    ("livecdn_cdn_pulls_total", "counter", [set()]),
    ("livecdn_cdn_pulls_failed_total", "counter", [set()]),
    ("livecdn_cdn_serves_active", "gauge", [set()]),
    ("livecdn_cdn_relayed_bytes_total", "counter", [{("direction", "in")}, {("direction", "out")}]),
    ("livecdn_cdn_messages_total", "counter", [{("direction", "in")}, {("direction", "out")}]),
]


# ---------------------------------------------------------------- helpers

def raw_http(port, data, timeout=15, chunk_send=False):
    """Send raw bytes to the port; return everything read until the peer
    closes (or resets, or `timeout` passes). A reset while sending is fine:
    the server may refuse a request before reading all of it."""
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
            except ConnectionResetError:
                break
            except socket.timeout:
                break
            if not c:
                break
            out += c
    finally:
        s.close()
    return out


def status_of(resp):
    m = re.match(rb"HTTP/1\.[01] (\d{3}) ", resp)
    return int(m.group(1)) if m else None


def split_response(resp):
    head, _, body = resp.partition(b"\r\n\r\n")
    headers = {}
    for ln in head.split(b"\r\n")[1:]:
        k, _, v = ln.partition(b":")
        headers[k.strip().lower().decode()] = v.strip().decode()
    return status_of(resp), headers, body


def get(s, path, headers=None):
    """GET over urllib; returns (status, body bytes, headers) for errors too."""
    req = urllib.request.Request("http://127.0.0.1:%d%s" % (s.http_port, path), headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=20) as r:
            return r.status, r.read(), r.headers
    except urllib.error.HTTPError as e:
        return e.code, e.read(), e.headers


def post(s, path, body=b"{}", headers=None, method="POST"):
    req = urllib.request.Request("http://127.0.0.1:%d/rest-api/%s" % (s.http_port, path), data=body,
                                 method=method, headers=headers or {})
    req.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(req, timeout=20) as r:
            return r.status, r.read(), r.headers
    except urllib.error.HTTPError as e:
        return e.code, e.read(), e.headers


def json_error(status, body, headers, want_status):
    assert status == want_status, "status %s (want %s): %r" % (status, want_status, body)
    assert headers["Content-Type"].startswith("application/json"), headers["Content-Type"]
    doc = json.loads(body)
    assert isinstance(doc, dict) and isinstance(doc.get("error"), str) and doc["error"], doc
    return doc["error"]


def conf_text(s, http_extra):
    """The harness's config with more keys in the http group."""
    return ('worker_processes = %d;\npid = "logs/livecdn.pid";\nerror_log = "logs/error.log";\n'
            'log_level = "info";\nworker_shutdown_timeout = 20;\n'
            'signaling: { listen = "127.0.0.1:%d"; };\n'
            'http: {\n  listen = "127.0.0.1:%d";\n  root = "html";\n%s\n};\n'
            'rtmp: { listen = "127.0.0.1:%d"; };\n'
            'media: { shm_size = "64M"; ring_size = "4M"; };\n'
            % (s.workers, s.sig_port, s.http_port, http_extra, s.rtmp_port))


def start_guarded(t, http_extra, ready):
    """A server whose REST the harness cannot poll (token/allow): start it
    and wait with our own readiness check."""
    s = t.server()
    s.write_conf(raw=conf_text(s, http_extra))
    s.start(wait=False)

    def up():
        if s.proc.poll() is not None:
            raise AssertionError("livecdn exited with %s:\n%s" % (s.proc.returncode, s.log()))
        return ready(s)
    wait_for(up, 20, "guarded server ready")
    return s


def ctl(s, *args, token=None, addr=None):
    cmd = [CTL, "-a", addr or "127.0.0.1:%d" % s.http_port] + (["-T", token] if token else []) + list(args)
    env = dict(os.environ)
    env.pop("LIVECDN_ADDR", None)
    env.pop("LIVECDN_TOKEN", None)
    return subprocess.run(cmd, capture_output=True, text=True, timeout=40, env=env)


# ---------------------------------------------------------------- metrics

SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)'
                    r'(\{(?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\.)*"'
                    r'(?:,[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\.)*")*,?)?\})?'
                    r' (\S+)( -?\d+)?$')
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\.)*)"')


def parse_metrics(text):
    """{(name, frozenset(labels)): value}; asserts every line is valid text format 0.0.4."""
    samples, types = {}, {}
    assert text.endswith("\n"), "exposition must end with a newline"
    for ln in text.split("\n")[:-1]:
        if ln.startswith("#"):
            m = re.match(r"^# (HELP|TYPE) ([a-zA-Z_:][a-zA-Z0-9_:]*) (.*)$", ln)
            if m and m.group(1) == "TYPE":
                assert m.group(3) in ("counter", "gauge", "histogram", "summary", "untyped"), ln
                assert m.group(2) not in types, "TYPE given twice: " + ln
                types[m.group(2)] = m.group(3)
            continue
        assert ln.strip(), "blank line in exposition"
        m = SAMPLE.match(ln)
        assert m, "not a Prometheus sample line: %r" % ln
        name, labels, value = m.group(1), m.group(2) or "", m.group(3)
        assert value in ("NaN", "+Inf", "-Inf") or re.match(r"^-?\d+(\.\d+)?([eE][-+]?\d+)?$", value), ln
        key = (name, frozenset(LABEL.findall(labels)))
        assert key not in samples, "duplicate sample " + ln
        samples[key] = float(value)
    return samples, types


def metrics_format(s):
    status, body, headers = get(s, "/metrics")
    assert status == 200, status
    ctype = headers["Content-Type"]
    assert re.match(r"^text/plain; *version=0\.0\.4(;|$)", ctype), ctype
    samples, types = parse_metrics(body.decode())
    workers = [p for p in s.processes("worker") if p["state"] == "running"]
    assert samples[("livecdn_processes", frozenset({("role", "worker")}))] == s.workers == len(workers)
    assert samples[("livecdn_processes", frozenset({("role", "master")}))] == 1
    assert samples[("livecdn_processes", frozenset({("role", "relay")}))] == 1
    assert samples[("livecdn_processes", frozenset({("role", "control")}))] == 1
    names = {k[0] for k in samples}
    assert "livecdn_uptime_seconds" in names and samples[("livecdn_uptime_seconds", frozenset())] >= 0
    assert "livecdn_ring_bytes_written_total" in names
    assert types.get("livecdn_ring_bytes_written_total") == "counter", types
    # a counter never goes down
    later, _ = parse_metrics(get(s, "/metrics")[1].decode())
    for k, v in samples.items():
        if types.get(k[0]) == "counter" and k in later:
            assert later[k] >= v, k


def metrics_cdn_off(s):
    status, body, _ = get(s, "/metrics")
    assert status == 200, status
    text = body.decode()
    samples, types = parse_metrics(text)
    for name, typ, label_sets in CDN_SERIES:
        assert types.get(name) == typ, "%s: TYPE %r, want %r" % (name, types.get(name), typ)
        assert "# HELP %s " % name in text, "no HELP for " + name
        for labels in label_sets:
            key = (name, frozenset(labels))
            assert key in samples, "no sample %s%s" % (name, sorted(labels))
            # the CDN is off in the harness's config: nothing is relayed
            assert samples[key] == 0, (key, samples[key])


# ---------------------------------------------------------------- static pages

def static_index(s):
    want = open(os.path.join(s.dir, "html", "index.html"), "rb").read()
    for path in ("/", "/index.html"):
        status, body, headers = get(s, path)
        assert status == 200, (path, status)
        assert headers["Content-Type"].startswith("text/html"), headers["Content-Type"]
        assert body == want, body
    # HEAD: headers only
    resp = raw_http(s.http_port, b"HEAD / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    st, hdrs, body = split_response(resp)
    assert st == 200 and hdrs["content-type"].startswith("text/html") and body == b"", resp


def static_missing(s):
    for path in ("/missing.html", "/no/such/dir/", "/index.html/x"):
        status, body, headers = get(s, path)
        json_error(status, body, headers, 404)


def static_traversal(s):
    conf = open(s.conf, "rb").read()
    assert b"worker_processes" in conf
    for path in ("/../livecdn.conf", "/%2e%2e/livecdn.conf", "/..%2flivecdn.conf", "/%00",
                 "/%2e%2e%2flivecdn.conf", "/html/../livecdn.conf", "/./../livecdn.conf",
                 "/index.html%00.png", "/%2E%2E/%2E%2E/etc/passwd", "/..\\livecdn.conf"):
        resp = raw_http(s.http_port, b"GET %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n" % path.encode())
        st, hdrs, body = split_response(resp)
        assert st == 404, "%s -> %r" % (path, resp[:200])
        assert b"worker_processes" not in resp and b"root:" not in resp, "%s leaked a file: %r" % (path, resp)
        assert "error" in json.loads(body), body


# ---------------------------------------------------------------- REST

def rest_worker_show(s):
    status, body, headers = post(s, "worker/show")
    assert status == 200 and headers["Content-Type"].startswith("application/json"), (status, headers)
    show = json.loads(body)
    m = show["master"]
    assert m["pid"] == s.master_pid and m["generation"] == 1 and isinstance(m["uptime"], int), m
    procs = show["processes"]
    ints = ("pid", "index", "slot", "generation", "connections", "accepted", "streams", "uptime")
    for p in procs:
        for k in ints:
            assert isinstance(p[k], int), (k, p)
        for k in ("role", "state", "udp_ports"):
            assert isinstance(p[k], str), (k, p)
        assert p["state"] in ("starting", "running", "draining"), p
        assert p["role"] in ("worker", "relay", "control"), p
        if p["role"] == "worker":
            assert re.match(r"^\d+-\d+$", p["udp_ports"]), p
    roles = sorted(p["role"] for p in procs)
    assert roles == sorted(["worker"] * s.workers + ["relay", "control"]), roles
    assert sorted(p["index"] for p in procs if p["role"] == "worker") == list(range(s.workers))
    assert len({p["pid"] for p in procs}) == len(procs)
    # an empty body is fine too (the harness sends {}; livecdnctl may send nothing)
    status, body, _ = post(s, "worker/show", body=b"")
    assert status == 200 and json.loads(body)["master"]["pid"] == s.master_pid


def rest_unknown_path(s):
    for path in ("no/such", "worker/shows", "worker", "", "worker/show/extra"):
        err = json_error(*post(s, path), 404)
        assert err, path


def rest_not_yet(s):
    for path in NOT_YET:
        err = json_error(*post(s, path, body=b'{"name":"x","url":"rtmp://127.0.0.1/a/b","channel":"c"}'), 404)
        assert path in err, "error for %s does not name it: %r" % (path, err)


def rest_cdn_off(s):
    for path in CDN_PATHS:
        for body in (b"{}", b""):
            err = json_error(*post(s, path, body=body), 404)
            assert err == CDN_OFF, "%s: %r" % (path, err)


def rest_get_is_405(s):
    for path in ["worker/show", "config/reload", "push/startup"] + CDN_PATHS + NOT_YET[:1]:
        status, body, headers = get(s, "/rest-api/" + path)
        json_error(status, body, headers, 405)
    # nothing was reloaded by the GET
    assert s.rest("worker/show")["master"]["generation"] == 1


def rest_other_methods_json(s):
    # SPEC 8: every REST answer is JSON, errors as {"error": ...}, whatever the method
    for method in ("PUT", "DELETE", "PATCH"):
        resp = raw_http(s.http_port, b"%s /rest-api/worker/show HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n"
                                     b"Connection: close\r\n\r\n{}" % method.encode())
        st, hdrs, body = split_response(resp)
        assert st is not None and 400 <= st < 600, resp[:200]
        assert hdrs.get("content-type", "").startswith("application/json"), \
            "%s on REST answered %s with Content-Type %r, not JSON: %r" % (method, st, hdrs.get("content-type"), body[:120])
        assert "error" in json.loads(body)


def rest_token(t):
    def ready(s):
        st, body, _ = post(s, "worker/show", headers={"Authorization": "Bearer " + TOKEN})
        if st != 200:
            return None
        procs = json.loads(body)["processes"]
        return len([p for p in procs if p["state"] == "running"]) == s.workers + 2
    s = start_guarded(t, '  token = "%s";' % TOKEN, ready)
    json_error(*post(s, "worker/show"), 401)
    json_error(*post(s, "worker/show", headers={"Authorization": "Bearer wrong"}), 401)
    json_error(*post(s, "worker/show", headers={"Authorization": "Bearer " + TOKEN + "x"}), 401)
    json_error(*post(s, "worker/show", headers={"Authorization": "Bearer " + TOKEN[:-1]}), 401)
    json_error(*post(s, "worker/show", headers={"Authorization": "Basic " + TOKEN}), 401)
    json_error(*post(s, "worker/show", headers={"Authorization": TOKEN}), 401)
    st, body, _ = post(s, "worker/show", headers={"Authorization": "Bearer " + TOKEN})
    assert st == 200 and json.loads(body)["master"]["pid"] == s.master_pid
    # unknown paths need the token too (no probing without it)
    json_error(*post(s, "no/such"), 401)
    # pages stay public
    st, body, _ = get(s, "/")
    assert st == 200 and b"livecdn test page" in body
    assert "bearer token" in s.log()
    if os.path.exists(CTL):
        r = ctl(s, "show", "workers", token=TOKEN)
        assert r.returncode == 0 and "Pid" in r.stdout, (r.returncode, r.stdout, r.stderr)
        r = ctl(s, "show", "workers")
        assert r.returncode == 1 and "token" in r.stderr, (r.returncode, r.stdout, r.stderr)
    return s


def rest_allow(t):
    def ready(s):
        return get(s, "/")[0] == 200
    s = start_guarded(t, '  allow = ["10.0.0.0/8"];', ready)
    json_error(*post(s, "worker/show"), 403)
    json_error(*post(s, "config/reload"), 403)
    json_error(*post(s, "no/such"), 403)
    status, body, headers = get(s, "/metrics")
    json_error(status, body, headers, 403)
    st, body, headers = get(s, "/")
    assert st == 200 and headers["Content-Type"].startswith("text/html") and b"livecdn test page" in body
    assert "not in http.allow" in s.log()
    # the refused reload did nothing: only generation 1 was ever started
    assert "configuration reloaded" not in s.log() and "reloading configuration" not in s.log()


# ---------------------------------------------------------------- malformed HTTP

def malformed_http(s):
    control = s.processes("control")[0]["pid"]
    cases = [
        ("garbage line", b"GARBAGE\r\n\r\n"),
        ("binary garbage", bytes(range(256)) * 4 + b"\r\n\r\n"),
        ("bad version", b"GET / HTTP/9.9\r\nHost: x\r\n\r\n"),
        ("huge header", b"GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * (20 << 10) + b"\r\n\r\n"),
        ("many headers", b"GET / HTTP/1.1\r\nHost: x\r\n" + b"".join(b"X-%d: y\r\n" % i for i in range(3000)) + b"\r\n"),
        ("2 MiB body", b"POST /rest-api/worker/show HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                       b"Content-Length: %d\r\n\r\n" % (2 << 20) + b"[" * (2 << 20)),
        ("negative length", b"POST /rest-api/worker/show HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n"),
        ("bad chunked", b"POST /rest-api/worker/show HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                        b"zz\r\nhello\r\n0\r\n\r\n"),
    ]
    for name, data in cases:
        resp = raw_http(s.http_port, data, timeout=40)
        st = status_of(resp)
        assert resp == b"" or (st is not None and 400 <= st < 500), "%s -> %r" % (name, resp[:200])
        # still serving after each
        assert s.rest("worker/show")["master"]["pid"] == s.master_pid, name
    # a bad JSON body on a REST path is not a crash either
    st, body, _ = post(s, "worker/show", body=b"{not json")
    assert st in (200, 400), st
    assert s.processes("control")[0]["pid"] == control, "the control process was restarted"
    assert "was killed by signal" not in s.log() and "[error]" not in s.log()


def slow_and_idle_clients(s):
    # a half-sent request and an idle connection do not block others
    idle = socket.create_connection(("127.0.0.1", s.http_port), timeout=10)
    half = socket.create_connection(("127.0.0.1", s.http_port), timeout=10)
    half.sendall(b"POST /rest-api/worker/show HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{")
    try:
        for _ in range(5):
            assert s.rest("worker/show")["master"]["pid"] == s.master_pid
    finally:
        idle.close()
        half.close()


# ---------------------------------------------------------------- livecdnctl

def skip_without_ctl(name, fn, *args):
    if not os.path.exists(CTL):
        print("ok - %s # SKIP livecdnctl not built" % name, flush=True)
        return
    t.case(name, fn, *args)


def ctl_show_workers(s):
    r = ctl(s, "show", "workers")
    assert r.returncode == 0, (r.returncode, r.stdout, r.stderr)
    procs = s.rest("worker/show")["processes"]
    lines = [ln for ln in r.stdout.split("\n") if ln.strip()]
    header = lines[0]
    heads = header.split()
    assert "Pid" in heads and "Role" in heads, header
    rows = lines[1:]
    # one row for the master and one per process
    assert len(rows) == 1 + len(procs), r.stdout
    cols = [m.start() for m in re.finditer(r"\S+", header)]
    for row in rows:
        starts = [m.start() for m in re.finditer(r"\S+", row)]
        # aligned: every cell starts in its header's column
        assert starts == cols, "row not aligned with the header:\n%s\n%s" % (header, row)
    pid_col, role_col = heads.index("Pid"), heads.index("Role")
    table = [row.split() for row in rows]
    assert sorted(int(c[pid_col]) for c in table) == sorted([s.master_pid] + [p["pid"] for p in procs])
    assert sorted(c[role_col] for c in table) == sorted(["master", "relay", "control"] + ["worker"] * s.workers)
    assert r.stderr == "", r.stderr


def ctl_show_streams_error(s):
    r = ctl(s, "show", "streams")
    assert r.returncode == 0 and r.stdout.split() == ["Name", "Codecs", "Bitrate", "Publisher", "Players"], \
        (r.returncode, r.stdout, r.stderr)
    r = ctl(s, "show", "cdn-nodes")
    assert r.returncode == 1, (r.returncode, r.stdout, r.stderr)
    status, body, headers = post(s, "cdn/show_nodes")
    server_error = json_error(status, body, headers, 404)
    assert server_error in r.stderr, "the server's error %r not in %r" % (server_error, r.stderr)
    assert r.stdout == "", r.stdout


def ctl_cdn_off(s):
    for obj in ("cdn-nodes", "cdn-routes"):
        r = ctl(s, "show", obj)
        assert r.returncode == 1, (obj, r.returncode, r.stdout, r.stderr)
        assert r.stderr == "livecdnctl: %s\n" % CDN_OFF, (obj, r.stderr)
        assert r.stdout == "", (obj, r.stdout)


def ctl_reload(s):
    assert s.rest("worker/show")["master"]["generation"] == 1
    r = ctl(s, "reload")
    assert r.returncode == 0, (r.returncode, r.stdout, r.stderr)
    assert r.stdout == "configuration reloaded, generation 2\n", repr(r.stdout)
    s.wait_ready(generation=2, timeout=30)


def ctl_no_server(s):
    port = free_port()
    r = ctl(s, "show", "workers", addr="127.0.0.1:%d" % port)
    assert r.returncode == 1, (r.returncode, r.stdout, r.stderr)
    assert "cannot connect" in r.stderr and str(port) in r.stderr, r.stderr
    assert r.stdout == ""


with Tests() as t:
    s = t.server().start()
    t.case("GET /metrics: Prometheus text 0.0.4, every line parses, process counts", metrics_format, s)
    t.case("GET /metrics: the livecdn_cdn_* series, 0 with the CDN off", metrics_cdn_off, s)
    t.case("static: / and /index.html serve the page as text/html; HEAD", static_index, s)
    t.case("static: a missing page is 404 JSON", static_missing, s)
    t.case("static: path traversal and NUL are 404, never a file outside root", static_traversal, s)
    t.case("REST worker/show: shape and types", rest_worker_show, s)
    t.case("REST unknown path: 404 {\"error\"}", rest_unknown_path, s)
    t.case("REST SPEC paths not built yet: 404 naming the path", rest_not_yet, s)
    t.case("REST cdn/show_nodes, cdn/show_routes with the CDN off: 404 \"CDN is not enabled\"", rest_cdn_off, s)
    t.case("REST GET: 405 JSON", rest_get_is_405, s)
    t.case("REST PUT/DELETE/PATCH: an error answered in JSON", rest_other_methods_json, s)
    t.case("malformed HTTP (garbage, 20 KiB header, 2 MiB body...): 4xx or close, control keeps serving",
           malformed_http, s)
    t.case("an idle and a half-sent request do not block REST", slow_and_idle_clients, s)
    skip_without_ctl("livecdnctl show workers: aligned table, a row per process", ctl_show_workers, s)
    skip_without_ctl("livecdnctl show streams (empty table); show cdn-nodes: exit 1 with the server's error", ctl_show_streams_error, s)
    skip_without_ctl("livecdnctl show cdn-nodes, cdn-routes with the CDN off: exit 1, the server's error", ctl_cdn_off, s)
    skip_without_ctl("livecdnctl with no server: exit 1, cannot connect", ctl_no_server, s)
    skip_without_ctl("livecdnctl reload: configuration reloaded, generation 2", ctl_reload, s)
    t.case("http.token: none or wrong -> 401, right -> 200, pages public", rest_token, t)
    t.case("http.allow = [\"10.0.0.0/8\"]: REST and metrics 403 from 127.0.0.1, pages served", rest_allow, t)
