"""The test harness itself (tests/lib/lcserver.py, issue 11 "the suite"):
a case that hangs fails naming the step it hung in, its servers and
processes are killed and the file goes on; a file ended at its limit
(SIGTERM) names the running case; a file whose client threads never end
still exits; every server has a UDP port slice no other test process holds."""
import os
import subprocess
import sys
import tempfile
import textwrap
import time

LIB = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib")
sys.path.insert(0, LIB)
from lcserver import Server, Tests, step  # noqa: E402

HEAD = "import os, subprocess, sys, threading, time\nsys.path.insert(0, %r)\nfrom lcserver import Tests, wait_for\n" % LIB


def run_file(body, timeout=60, term_after=None):
    """Runs a small test file; returns (seconds, output, its pids file)."""
    d = tempfile.mkdtemp(prefix="lc-harness-")
    path = os.path.join(d, "t.py")
    with open(path, "w") as f:
        f.write(HEAD + textwrap.dedent(body).replace("PIDS", repr(os.path.join(d, "pids"))))
    start = time.monotonic()
    p = subprocess.Popen([sys.executable, path], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        if term_after:
            time.sleep(term_after)
            p.terminate()
        out, _ = p.communicate(timeout=timeout)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    return time.monotonic() - start, out, os.path.join(d, "pids")


def alive(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().split()[2] != "Z"
    except OSError:
        return False


def pids_of(path):
    with open(path) as f:
        return [int(x) for x in f.read().split()]


def hung_case_fails_and_file_goes_on():
    step("a file with a hung case")
    secs, out, pids = run_file("""
        def hang(t):
            s = t.server(workers=1).start()
            sleeper = subprocess.Popen(["sleep", "600"])
            with open(PIDS, "w") as f:
                f.write("%d %d" % (s.master_pid, sleeper.pid))
            t.step("waiting for a reply that never comes")
            time.sleep(600)
        with Tests() as t:
            t.case("hangs", hang, t, timeout=3)
            t.case("next", lambda: wait_for(lambda: False, 600, "the moon"), timeout=2)
            t.case("after", lambda: None)
        """)
    assert "not ok - hangs (timed out after 3s in step: waiting for a reply that never comes)" in out, out
    assert "not ok - next (timed out after 2s in step: waiting for the moon)" in out, out
    assert "ok - after" in out, out
    assert secs < 30, secs
    master, sleeper = pids_of(pids)
    assert not alive(master) and not alive(sleeper), "the hung case's server or process lives on"


def terminated_file_names_its_case():
    step("a file ended by SIGTERM")
    secs, out, _ = run_file("""
        with Tests() as t:
            t.case("first", lambda: None)
            t.case("the slow one", lambda: (t.step("napping"), time.sleep(600)))
        """, term_after=2)
    assert "not ok - the slow one (file time limit reached: killed in step: napping)" in out, out
    assert secs < 20, secs


def stray_thread_does_not_keep_the_file():
    step("a file leaving a non-daemon thread behind")
    secs, out, _ = run_file("""
        with Tests() as t:
            t.case("leaves a thread", lambda: threading.Thread(target=time.sleep, args=(600,)).start())
        """)
    assert "ok - leaves a thread" in out and "threads kept the file from exiting" in out, out
    assert secs < 40, secs


def udp_slices_apart(t):
    a, b = t.server(), t.server()
    c = Server()  # another process's servers are just as apart: the claim is an flock
    try:
        spans = [(s.udp_lo, s.udp_hi) for s in (a, b, c)]
        for i, (lo, hi) in enumerate(spans):
            assert lo < hi and hi < 31000, spans  # below the default 31000-31999 and aiortc's ports
            for lo2, hi2 in spans[i + 1:]:
                assert hi < lo2 or hi2 < lo, spans
        for s in (a, b):
            assert 'udp_ports = "%d-%d"' % (s.udp_lo, s.udp_hi) in open(s.conf).read()
        # a test's own udp_ports wins
        a.write_conf(extra='webrtc: { udp_ports = "40000-40003"; };')
        text = open(a.conf).read()
        assert text.count("udp_ports") == 1 and "40000-40003" in text, text
        secs, out, _ = run_file("""
            from lcserver import Server
            s = Server()
            print("slice %d %d" % (s.udp_lo, s.udp_hi))
            s.cleanup()
            """)
        lo, hi = map(int, out.split("slice ", 1)[1].split()[:2])
        assert all(hi < l2 or h2 < lo for l2, h2 in spans), (lo, hi, spans)
    finally:
        c.cleanup()


with Tests() as t:
    t.case("a hung case fails naming its step, its server and processes are killed, the file goes on",
           hung_case_fails_and_file_goes_on)
    t.case("a file ended at its limit (SIGTERM) names the case it was in", terminated_file_names_its_case)
    t.case("a thread a case left behind does not keep the file from exiting", stray_thread_does_not_keep_the_file)
    t.case("every server has its own UDP port slice, in this process and across processes", udp_slices_apart, t)
