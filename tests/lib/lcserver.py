"""Test harness: start a real livecdn (bin/livecdn) on free loopback ports in a
temporary prefix, talk to it over REST and WebSocket, and always clean up by
PID. Import from integration tests (run with /usr/bin/python3).

Each test file uses Tests: `with Tests() as t:` then `t.case(name, fn)`; it
prints "ok - name" / "not ok - name" lines that tests/run counts.

Time limits: every case has one (CASE_TIMEOUT seconds, or
`t.case(name, fn, timeout=N)`). A case that overruns fails as
"not ok - NAME (timed out after Ns in step: ...)", naming the last
`step("...")` or wait_for(what=...) it was in; the servers it started are
killed and the file goes on with its next case. When tests/run ends the
whole file (SIGTERM at its file limit), the running case is reported the
same way. A line "# case: NAME" precedes each case so that even a file
killed outright shows which case was running.

UDP: every Server gets a webrtc.udp_ports slice of its own (see
udp_slot()), so test files that run in parallel never share UDP ports.
"""
import fcntl
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
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


CASE_TIMEOUT = 90  # seconds a case may take unless t.case(..., timeout=N) says otherwise

_now = {"case": None, "step": None}  # what is running, for the time-limit messages


def step(what):
    """Names what the running case does next; a time-out reports it."""
    _now["step"] = what


class CaseTimeout(BaseException):
    """Raised in a case at its time limit. A BaseException so that the
    `except Exception` of retry loops does not swallow it."""


def wait_for(pred, timeout=10.0, what="condition", step=0.05):
    _now["step"] = "waiting for " + what
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


UDP_SLOT_BASE, UDP_SLOT_SIZE, UDP_SLOTS = 21000, 64, 150  # 21000-30599, below aiortc's ephemeral ports
UDP_LOCK_DIR = os.path.join(tempfile.gettempdir(), "livecdn-test-udp")


def udp_slot():
    """(fd, lo, hi): a range of UDP ports no other live test process holds.
    The claim is an flock on one file per slot, held while fd is open: the
    kernel drops it when the process dies, so a killed test leaves nothing
    behind. Starts at a pid-derived slot so parallel files rarely probe the
    same files."""
    os.makedirs(UDP_LOCK_DIR, exist_ok=True)
    first = os.getpid() % UDP_SLOTS
    for k in range(UDP_SLOTS):
        slot = (first + k) % UDP_SLOTS
        fd = os.open(os.path.join(UDP_LOCK_DIR, "slot.%d" % slot), os.O_RDWR | os.O_CREAT, 0o666)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            continue
        lo = UDP_SLOT_BASE + slot * UDP_SLOT_SIZE
        return fd, lo, lo + UDP_SLOT_SIZE - 1
    raise AssertionError("no free UDP port slot in %s" % UDP_LOCK_DIR)


def with_udp_ports(text, lo, hi):
    """The config text with webrtc.udp_ports = lo-hi unless it sets its own."""
    if "udp_ports" in text:
        return text
    key = 'udp_ports = "%d-%d";' % (lo, hi)
    group = re.search(r"(?<![\w.])webrtc\s*[:=]\s*\{", text)
    if group:
        return text[:group.end()] + " " + key + " " + text[group.end():]
    return text + "webrtc: { %s };\n" % key


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
        # this server's own UDP ports (udp_slot()); a test that names its own keeps them
        self.udp_fd, self.udp_lo, self.udp_hi = udp_slot()
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
        text = with_udp_ports(text, self.udp_lo, self.udp_hi)
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
        if self.udp_fd is not None:
            os.close(self.udp_fd)  # the UDP slot is free for the next server
            self.udp_fd = None
        if os.environ.get("LC_KEEP") is None:
            shutil.rmtree(self.dir, ignore_errors=True)


def _children():
    """PIDs whose parent is this process (ffmpeg, ffprobe, server masters...)."""
    me, out = os.getpid(), []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % d) as f:
                stat = f.read()
        except OSError:
            continue
        if int(stat[stat.rindex(")") + 2:].split()[1]) == me:
            out.append(int(d))
    return out


def _kill_pids(pids):
    for pid in pids:
        try:
            os.killpg(pid, signal.SIGKILL) if os.getpgid(pid) == pid else os.kill(pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        try:
            os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            pass


class Tests:
    """Collects cases; prints TAP-like lines; cleans up servers on exit.
    Every case runs under a time limit (see the module comment)."""

    GRACE = 20  # seconds a timed-out case gets to unwind before the file is ended

    def __init__(self):
        self.servers = []
        self.failed = 0
        self.done = False
        signal.signal(signal.SIGALRM, self._alarm)
        signal.signal(signal.SIGTERM, self._terminated)

    def __enter__(self):
        return self

    def server(self, **kw):
        s = Server(**kw)
        self.servers.append(s)
        return s

    step = staticmethod(step)

    def _where(self):
        return _now["step"] or "(no step named)"

    def _alarm(self, signum, frame):
        if _now["case"] is not None and not _now.get("fired"):
            _now["fired"] = True
            raise CaseTimeout()

    def _terminated(self, signum, frame):
        """tests/run ended the file at its time limit: say where it was, then
        unwind (SystemExit) so that the file's own finally blocks still
        delete what they made (network namespaces); tests/run SIGKILLs 15 s
        later if that hangs."""
        if _now.get("terminated"):
            return
        _now["terminated"] = True
        name = _now["case"]
        if name is not None:
            print("not ok - %s (file time limit reached: killed in step: %s)" % (name, self._where()), flush=True)
        else:
            print("not ok - file time limit reached between cases", flush=True)
        _now["token"] = None  # no watchdog abort while unwinding
        _kill_pids(_children())
        raise SystemExit(1)

    def _abort(self):
        _kill_pids(_children())
        for s in self.servers:
            s.cleanup()
        sys.stdout.flush()
        os._exit(1)

    def _watchdog(self, name, limit, token):
        """The last resort when a timed-out case does not unwind (blocked in C
        code): report it and end the file, cleaning up."""
        time.sleep(limit + self.GRACE)
        if _now.get("token") is token:
            print("not ok - %s (timed out after %ds in step: %s; it did not unwind, file ended)"
                  % (name, limit, self._where()), flush=True)
            self._abort()

    def case(self, name, fn, *args, timeout=None):
        limit = timeout or CASE_TIMEOUT
        token = object()
        servers_before = list(self.servers)
        children_before = set(_children())
        _now.update(case=name, step=None, fired=False, token=token)
        print("# case: %s" % name, flush=True)
        threading.Thread(target=self._watchdog, args=(name, limit, token), daemon=True).start()
        start = time.monotonic()
        try:
            signal.setitimer(signal.ITIMER_REAL, limit)
            try:
                fn(*args)
            finally:
                signal.setitimer(signal.ITIMER_REAL, 0)
            print("ok - %s (%.1fs)" % (name, time.monotonic() - start), flush=True)
        except CaseTimeout:
            self.failed += 1
            print("not ok - %s (timed out after %ds in step: %s)" % (name, limit, self._where()), flush=True)
            traceback.print_exc(file=sys.stdout)
            self._dump_logs()
            # what the case started is dead weight for the next one
            started = [s for s in self.servers if s not in servers_before]
            for s in started:
                s.cleanup()
            self.servers = [s for s in self.servers if s not in started]
            _kill_pids(set(_children()) - children_before - {s.master_pid for s in self.servers if s.proc})
        except BaseException as e:
            if isinstance(e, (KeyboardInterrupt, SystemExit)):
                raise
            self.failed += 1
            print("not ok - %s" % name, flush=True)
            traceback.print_exc(file=sys.stdout)
            self._dump_logs()
        finally:
            _now.update(case=None, step=None, token=None)

    def _dump_logs(self):
        for s in self.servers:
            print("---- error log of %s:\n%s" % (s.dir, s.log()[-4000:]), flush=True)

    def __exit__(self, *exc):
        for s in self.servers:
            s.cleanup()
        if exc[0] is not None and not _now.get("terminated"):
            print("not ok - test file crashed: %r" % (exc[1],), flush=True)
        code = 1 if self.failed or exc[0] or _now.get("terminated") else 0
        # A client library's non-daemon thread (aiortc's decoder threads of a
        # peer connection a failed case never closed) would keep the
        # interpreter from exiting: give the file's own clean-up a moment,
        # then exit anyway.
        def stray():
            time.sleep(10)
            names = [th.name for th in threading.enumerate()
                     if not th.daemon and th is not threading.main_thread()]
            print("# threads kept the file from exiting: %s" % ", ".join(names), flush=True)
            os._exit(code)
        threading.Thread(target=stray, daemon=True).start()
        sys.exit(code)
