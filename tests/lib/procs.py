"""The client processes a test file starts (ffmpeg publishers and players): started with spawn, stopped by
PID with stop_proc, and all of them killed by kill_all in the file's last `finally`."""
import os
import signal
import subprocess

PROCS = []


def spawn(args):
    p = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    PROCS.append(p)
    return p


def stop_proc(p):
    """TERM, then KILL after 5 s."""
    if p and p.poll() is None:
        p.terminate()
        try:
            p.wait(5)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


def kill_all():
    for p in PROCS:
        if p.poll() is None:
            p.kill()
            p.wait()


class Stopped:
    """SIGSTOP a process (a worker) for the block, SIGCONT after. Workers share the listening sockets and the
    kernel hands a connection to whichever is idle, often the same one many times in a row: with one
    stopped, the others take every new connection."""

    def __init__(self, pid):
        self.pid = pid

    def __enter__(self):
        os.kill(self.pid, signal.SIGSTOP)
        return self

    def __exit__(self, *exc):
        os.kill(self.pid, signal.SIGCONT)


def worker_pid_of_udp_port(s, port):
    """The worker (pid) whose webrtc.udp_ports slice holds port: the one that answered a WebRTC offer."""
    for p in s.processes("worker"):
        lo, hi = (int(x) for x in p["udp_ports"].split("-"))
        if lo <= port <= hi:
            return p["pid"]
    return None
