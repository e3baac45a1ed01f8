"""Processes (SPEC section 2): titles, pid file, signals, respawn, master death."""
import os
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from lcserver import Tests, wait_for  # noqa: E402


def cmdline(pid):
    with open("/proc/%d/cmdline" % pid, "rb") as f:
        return f.read().split(b"\0")[0].decode()


def alive(pid):
    try:
        os.kill(pid, 0)
        return True
    except ProcessLookupError:
        return False


def titles_and_pidfile(s):
    with open(os.path.join(s.dir, "logs", "livecdn.pid")) as f:
        assert int(f.read()) == s.master_pid
    assert cmdline(s.master_pid) == "livecdn: master", cmdline(s.master_pid)
    procs = s.processes()
    titles = sorted(cmdline(p["pid"]) for p in procs)
    assert titles == ["livecdn: control", "livecdn: relay", "livecdn: worker 0", "livecdn: worker 1"], titles
    # each worker has its own, disjoint UDP port slice
    w = s.processes("worker")
    lo0, hi0 = map(int, w[0]["udp_ports"].split("-"))
    lo1, hi1 = map(int, w[1]["udp_ports"].split("-"))
    assert hi0 < lo1 or hi1 < lo0


def respawn_worker(s):
    victim = s.processes("worker")[0]
    os.kill(victim["pid"], signal.SIGKILL)

    def respawned():
        w = [p for p in s.processes("worker") if p["index"] == victim["index"] and p["state"] == "running"]
        return w and w[0]["pid"] != victim["pid"] and w[0]
    new = wait_for(respawned, 10, "worker respawn")
    assert new["generation"] == victim["generation"]
    assert new["udp_ports"] == victim["udp_ports"]
    assert "was killed by signal 9" in s.log()
    assert cmdline(new["pid"]) == "livecdn: worker %d" % victim["index"]


def respawn_relay_and_control(s):
    for role in ("relay", "control"):
        old = s.processes(role)[0]
        os.kill(old["pid"], signal.SIGKILL)
        wait_for(lambda: [p for p in s.processes(role) if p["pid"] != old["pid"] and p["state"] == "running"],
                 10, role + " respawn")


def crash_loop_backs_off(s):
    # kill the same worker as soon as it is back, a few times: respawns slow down
    killed = set()

    def worker1():
        w = [p for p in s.processes("worker") if p["index"] == 1 and p["state"] == "running"
             and p["pid"] not in killed]
        return w and w[0]
    for _ in range(3):
        w = wait_for(worker1, 15, "worker 1 running again")
        os.kill(w["pid"], signal.SIGKILL)
        killed.add(w["pid"])
    wait_for(lambda: "respawning in 200 ms" in s.log(), 5, "doubled back-off in the log")
    wait_for(worker1, 15, "worker 1 back after back-off")


def reopen_logs(s):
    os.rename(s.log_path, s.log_path + ".1")
    r = subprocess.run([os.path.join(os.path.dirname(s.conf), "..", "x")] if False else
                       [sys.modules["lcserver"].BIN, "-s", "reopen", "-c", s.conf, "-p", s.dir],
                       capture_output=True, text=True, timeout=10)
    assert r.returncode == 0, r.stderr
    wait_for(lambda: os.path.exists(s.log_path) and "error log reopened" in s.log(), 5, "new log file")
    # children reopen too: a worker's line lands in the new file after a kill -9 + respawn
    s.rest("worker/show")


def fast_stop(s):
    pids = [p["pid"] for p in s.processes()] + [s.master_pid]
    r = subprocess.run([sys.modules["lcserver"].BIN, "-s", "stop", "-c", s.conf, "-p", s.dir],
                       capture_output=True, text=True, timeout=10)
    assert r.returncode == 0, r.stderr
    s.proc.wait(timeout=10)
    for pid in pids:
        wait_for(lambda: not alive(pid), 5, "pid %d gone" % pid)
    assert not os.path.exists(os.path.join(s.dir, "logs", "livecdn.pid"))


def graceful_stop(s):
    pids = [p["pid"] for p in s.processes()]
    s.send_signal(signal.SIGQUIT)
    s.proc.wait(timeout=15)
    for pid in pids:
        wait_for(lambda: not alive(pid), 5, "pid %d gone" % pid)


def children_die_with_master(s):
    pids = [p["pid"] for p in s.processes()]
    os.kill(s.master_pid, signal.SIGKILL)
    for pid in pids:
        wait_for(lambda: not alive(pid), 10, "child %d exits after master death" % pid)


def signal_without_server(t):
    s = t.server()
    r = subprocess.run([sys.modules["lcserver"].BIN, "-s", "reload", "-c", s.conf, "-p", s.dir],
                       capture_output=True, text=True, timeout=10)
    assert r.returncode == 1 and "livecdn.pid" in r.stderr and "is livecdn running" in r.stderr, r.stderr


def second_start_refused(s):
    r = subprocess.run([sys.modules["lcserver"].BIN, "-g", "-c", s.conf, "-p", s.dir],
                       capture_output=True, text=True, timeout=10)
    assert r.returncode == 1 and "already running" in r.stderr, r.stderr


def daemon_mode(t):
    s = t.server()
    r = subprocess.run([sys.modules["lcserver"].BIN, "-c", s.conf, "-p", s.dir], capture_output=True,
                       text=True, timeout=10)
    assert r.returncode == 0, r.stderr
    pidfile = os.path.join(s.dir, "logs", "livecdn.pid")
    pid = int(wait_for(lambda: open(pidfile).read().strip(), 10, "pid file"))
    try:
        wait_for(lambda: len([p for p in s.processes() if p["state"] == "running"]) == 4, 10, "daemon ready")
        assert os.getsid(pid) == pid  # its own session: detached from ours
    finally:
        os.kill(pid, signal.SIGTERM)
        wait_for(lambda: not alive(pid), 10, "daemon exit")


with Tests() as t:
    s = t.server().start()
    t.case("process titles, pid file and disjoint UDP slices", titles_and_pidfile, s)
    t.case("kill -9 of a worker: respawned with the same index and ports", respawn_worker, s)
    t.case("kill -9 of relay and control: respawned", respawn_relay_and_control, s)
    t.case("a worker dying in a loop is respawned with back-off", crash_loop_backs_off, s)
    t.case("-s reopen (USR1) reopens the error log", reopen_logs, s)
    t.case("a second master on the same pid file is refused", second_start_refused, s)
    t.case("-s stop (TERM): every process exits, pid file removed", fast_stop, s)
    s2 = t.server().start()
    t.case("QUIT: graceful stop of every process", graceful_stop, s2)
    s3 = t.server().start()
    t.case("children exit when the master is killed", children_die_with_master, s3)
    t.case("-s reload without a running server: clear error", signal_without_server, t)
    t.case("default mode daemonizes", daemon_mode, t)
