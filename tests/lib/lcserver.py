"""Test harness: start a real livecdn (bin/livecdn) on free loopback ports in a
temporary prefix, talk to it over REST and WebSocket, and always clean up by
PID. Import from integration tests (run with /usr/bin/python3).

Each test file uses Tests: `with Tests() as t:` then `t.case(name, fn)`; it
prints "ok - name" / "not ok - name" lines that tests/run counts.
"""
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import traceback
import urllib.error
import urllib.request

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BIN = os.path.join(ROOT, "bin", "livecdn")
CTL = os.path.join(ROOT, "bin", "livecdnctl")


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def wait_for(pred, timeout=10.0, what="condition", step=0.05):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            last = pred()
            if last:
                return last
        except Exception as e:  # the server may still be starting
            last = e
        time.sleep(step)
    raise AssertionError("timed out after %.1fs waiting for %s (last: %r)" % (timeout, what, last))


class Server:
    """One livecdn master in its own prefix. Config keys come from `extra`
    (libconfig text appended to the generated file).

    host: the address every listener binds to and the tests connect to
    (default 127.0.0.1). netns: run the server under `ip netns exec NETNS`
    (then host is that namespace's address). ports: (signaling, http, rtmp)
    to reuse, e.g. to restart a node on the same ports. http_extra: more
    keys for the http group, e.g. 'allow = ["10.1.0.1"];'."""

    def __init__(self, workers=2, extra="", name="lc", valgrind=False, host="127.0.0.1", netns=None,
                 ports=None, http_extra=""):
        self.dir = tempfile.mkdtemp(prefix=name + "-")
        self.host = host
        self.netns = netns
        self.http_extra = http_extra
        if ports:
            self.sig_port, self.http_port, self.rtmp_port = ports
        else:
            self.sig_port = free_port()
            self.http_port = free_port()
            self.rtmp_port = free_port()
        self.workers = workers
        self.extra = extra
        self.valgrind = valgrind
        self.proc = None
        os.makedirs(os.path.join(self.dir, "html"))
        with open(os.path.join(self.dir, "html", "index.html"), "w") as f:
            f.write("<html><body>livecdn test page</body></html>\n")
        self.conf = os.path.join(self.dir, "livecdn.conf")
        self.write_conf()

    rtmp_extra = ""  # more keys for the rtmp group, e.g. "read_timeout = 2;"

    def write_conf(self, workers=None, extra=None, raw=None):
        if workers is not None:
            self.workers = workers
        if extra is not None:
            self.extra = extra
        text = raw if raw is not None else (
            'worker_processes = %d;\npid = "logs/livecdn.pid";\nerror_log = "logs/error.log";\n'
            'log_level = "info";\nworker_shutdown_timeout = 20;\n'
            'signaling: { listen = "%s:%d"; };\n'
            'http: { listen = "%s:%d"; root = "html"; %s};\n'
            'rtmp: { listen = "%s:%d"; %s };\n'
            'media: { shm_size = "64M"; ring_size = "4M"; };\n%s\n'
            % (self.workers, self.host, self.sig_port, self.host, self.http_port,
               self.http_extra + " " if self.http_extra else "", self.host, self.rtmp_port,
               self.rtmp_extra, self.extra))
        with open(self.conf, "w") as f:
            f.write(text)

    @property
    def log_path(self):
        return os.path.join(self.dir, "logs", "error.log")

    def log(self):
        try:
            with open(self.log_path) as f:
                return f.read()
        except FileNotFoundError:
            return ""

    def start(self, wait=True):
        cmd = [BIN, "-g", "-c", self.conf, "-p", self.dir]
        if self.valgrind:
            cmd = ["valgrind", "--leak-check=full", "--errors-for-leak-kinds=definite",
                   "--error-exitcode=99", "--child-silent-after-fork=no",
                   "--log-file=" + os.path.join(self.dir, "valgrind.%p.log")] + cmd
        if self.netns:
            cmd = ["ip", "netns", "exec", self.netns] + cmd  # execs: the pid stays the master's
        self.stdout = open(os.path.join(self.dir, "stdout.log"), "w")
        self.proc = subprocess.Popen(cmd, stdout=self.stdout, stderr=subprocess.STDOUT,
                                     start_new_session=True)
        if wait:
            self.wait_ready(timeout=60 if self.valgrind else 15)
        return self

    def wait_ready(self, generation=None, timeout=15):
        def ready():
            if self.proc.poll() is not None:
                raise AssertionError("livecdn exited with %s:\n%s" % (self.proc.returncode, self.log()))
            show = self.rest("worker/show")
            procs = show["processes"]
            gen = generation or show["master"]["generation"]
            cur = [p for p in procs if p["generation"] == gen]
            workers = [p for p in cur if p["role"] == "worker" and p["state"] == "running"]
            others = [p for p in cur if p["role"] in ("relay", "control") and p["state"] == "running"]
            return show if len(workers) == self.workers and len(others) == 2 else None
        return wait_for(ready, timeout, "server ready")

    @property
    def master_pid(self):
        return self.proc.pid

    def rest(self, path, body=None, token=None, method="POST", raw=False):
        data = json.dumps(body or {}).encode() if method == "POST" else None
        req = urllib.request.Request("http://%s:%d/rest-api/%s" % (self.host, self.http_port, path),
                                     data=data, method=method)
        req.add_header("Content-Type", "application/json")
        if token:
            req.add_header("Authorization", "Bearer " + token)
        with urllib.request.urlopen(req, timeout=20) as r:
            text = r.read().decode()
        return text if raw else json.loads(text)

    def rest_error(self, path, body=None, token=None, method="POST"):
        """Expect an HTTP error; return (status, json body)."""
        try:
            self.rest(path, body, token, method)
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read().decode())
        raise AssertionError("expected an HTTP error from %s" % path)

    def get(self, path):
        with urllib.request.urlopen("http://%s:%d%s" % (self.host, self.http_port, path), timeout=10) as r:
            return r.status, r.read().decode(), r.headers

    def processes(self, role=None, generation=None):
        procs = self.rest("worker/show")["processes"]
        return [p for p in procs if (role is None or p["role"] == role)
                and (generation is None or p["generation"] == generation)]

    def send_signal(self, sig):
        os.kill(self.master_pid, sig)

    def ctl(self, *args):
        return subprocess.run([CTL, "-a", "%s:%d" % (self.host, self.http_port)] + list(args),
                              capture_output=True, text=True, timeout=30)

    def descendants(self):
        """PIDs of every process of this server (master's session)."""
        out = subprocess.run(["ps", "-eo", "pid=,sid="], capture_output=True, text=True).stdout
        pids = []
        for line in out.split("\n"):
            parts = line.split()
            if len(parts) == 2 and int(parts[1]) == self.master_pid:
                pids.append(int(parts[0]))
        return pids

    def stop(self, sig=signal.SIGTERM, timeout=30):
        if self.proc and self.proc.poll() is None:
            try:
                os.kill(self.master_pid, sig)
                self.proc.wait(timeout=timeout)
            except (subprocess.TimeoutExpired, ProcessLookupError):
                pass
        self.kill_all()
        return self.proc.returncode if self.proc else None

    def kill_all(self):
        if not self.proc:
            return
        for pid in self.descendants() + [self.master_pid]:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            pass

    def cleanup(self):
        self.kill_all()
        if os.environ.get("LC_KEEP") is None:
            shutil.rmtree(self.dir, ignore_errors=True)


class Tests:
    """Collects cases; prints TAP-like lines; cleans up servers on exit."""

    def __init__(self):
        self.servers = []
        self.failed = 0

    def __enter__(self):
        return self

    def server(self, **kw):
        s = Server(**kw)
        self.servers.append(s)
        return s

    def case(self, name, fn, *args):
        start = time.monotonic()
        try:
            fn(*args)
            print("ok - %s (%.1fs)" % (name, time.monotonic() - start), flush=True)
        except Exception:
            self.failed += 1
            print("not ok - %s" % name, flush=True)
            traceback.print_exc(file=sys.stdout)
            for s in self.servers:
                print("---- error log of %s:\n%s" % (s.dir, s.log()[-4000:]), flush=True)

    def __exit__(self, *exc):
        for s in self.servers:
            s.cleanup()
        if exc[0] is not None:
            print("not ok - test file crashed: %r" % (exc[1],), flush=True)
        sys.exit(1 if self.failed or exc[0] else 0)
