"""kill -9 of a worker under 300 RTMP players (issue 11, Operations): only
that worker's players drop; the publisher and the other worker's players go
on (their byte counts keep growing); the master respawns the worker (a new
pid, running) and new players connect. When the killed worker held the
publisher, its stream ends for every player and the name publishes again.

The players are tests/lib/rtmp_players.py (300 in one process); which
worker accepted which player is read from /proc (socket_owners)."""
# lc-test: serial  (300 players and their server take most of a core)
import os
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from lcserver import Tests, step, wait_for  # noqa: E402
from rtmp_players import RtmpPlayers, socket_owners  # noqa: E402

WORK = tempfile.mkdtemp(prefix="lc-wkill-")
MEDIA = os.path.join(WORK, "v.flv")
N = 300
PROCS = []


def make_media():
    # small and cheap: 320x240 10 fps H.264 at ~100 kbit/s, a keyframe a second,
    # no audio (300 players of it are ~30 Mbit/s through one Python process)
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-y", "-f", "lavfi", "-i", "testsrc2=size=320x240:rate=10",
                    "-t", "10", "-c:v", "libx264", "-preset", "ultrafast", "-g", "10", "-b:v", "100k",
                    "-pix_fmt", "yuv420p", "-f", "flv", MEDIA], check=True, timeout=120)


def publish(s, name):
    p = subprocess.Popen(["ffmpeg", "-nostdin", "-v", "error", "-re", "-stream_loop", "-1", "-i", MEDIA,
                          "-c", "copy", "-f", "flv", "rtmp://127.0.0.1:%d/live/%s" % (s.rtmp_port, name)],
                         stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    PROCS.append(p)
    return p


def stop(p):
    if p.poll() is None:
        p.kill()
    p.wait(10)


def stream_info(s, name):
    for st in s.rest("stream/find_all")["streams"]:
        if st["name"] == name:
            return st
    return None


def workers(s):
    return {p["index"]: p for p in s.processes("worker") if p["state"] == "running"}


def live(s, name):
    return wait_for(lambda: (stream_info(s, name) or {}).get("frames_in", 0) > 20 and stream_info(s, name),
                    15, "stream %s live" % name)


def players_spread(s, name):
    """N players, started until both workers have at least 20% of them;
    returns (RtmpPlayers, {port: worker pid})."""
    ps = RtmpPlayers("127.0.0.1", s.rtmp_port, "live", name)
    step("opening %d players" % N)
    ps.add(N, rate=150)
    assert not ps.connect_errors, ps.connect_errors[:5]
    wait_for(lambda: all(p.playing for p in ps.players), 30,
             "all %d players playing (%d are)" % (N, sum(p.playing for p in ps.players)))
    pids = [w["pid"] for w in workers(s).values()]
    owners = wait_for(lambda: (lambda o: len(o) >= N and o)(socket_owners(s.rtmp_port, pids)), 10,
                      "every player's server socket found")
    per = {pid: sum(1 for p in ps.players if owners.get(p.port) == pid) for pid in pids}
    assert all(n >= N // 5 for n in per.values()), "players per worker pid: %r" % per
    return ps, owners


def grows(ps, players, seconds=2.0):
    """The players whose byte count did not grow over `seconds`."""
    before = ps.snapshot(players)
    time.sleep(seconds)
    return [p for p in players if p.bytes <= before[p.port]]


def kill_other_worker(s):
    name = "wk1"
    pub = publish(s, name)
    ps = None
    try:
        st = live(s, name)
        owner = st["owner_pid"]
        ps, owners = players_spread(s, name)
        w = workers(s)
        victim = next(p for p in w.values() if p["pid"] != owner)
        mine = [p for p in ps.players if owners[p.port] == victim["pid"]]
        theirs = [p for p in ps.players if owners[p.port] == owner]
        assert not grows(ps, ps.players), "players not receiving before the kill"
        print("# players: %d on worker pid %d (killed), %d on pid %d (publisher's)"
              % (len(mine), victim["pid"], len(theirs), owner), flush=True)

        step("kill -9 worker %d (pid %d, %d players)" % (victim["index"], victim["pid"], len(mine)))
        os.kill(victim["pid"], signal.SIGKILL)
        wait_for(lambda: all(p.closed for p in mine), 10,
                 "the killed worker's players closed (%d of %d)" % (sum(p.closed for p in mine), len(mine)))
        # the other worker's players and the publisher did not notice
        step("the other worker's players keep receiving")
        stalled = grows(ps, theirs, 3.0)
        assert not stalled, "%d of %d players of the surviving worker stalled" % (len(stalled), len(theirs))
        assert not [p for p in theirs if p.closed], "players of the surviving worker closed"
        assert pub.poll() is None, "publisher ended: %s" % pub.stderr.read()[-2000:]
        assert stream_info(s, name)["owner_pid"] == owner

        step("respawn of worker %d" % victim["index"])
        new = wait_for(lambda: (lambda n: n and n["pid"] != victim["pid"] and n)(workers(s).get(victim["index"])),
                       10, "worker %d respawned" % victim["index"])
        assert "was killed by signal 9" in s.log()

        # new players play, some of them on the new worker
        step("new players after the respawn")
        on_new = []
        for _ in range(10):
            more = ps.add(30, rate=100)
            wait_for(lambda: all(p.playing for p in more), 20, "new players playing")
            o = socket_owners(s.rtmp_port, [new["pid"]])
            on_new += [p for p in more if o.get(p.port) == new["pid"]]
            if on_new:
                break
        assert on_new, "no new player landed on the respawned worker"
        assert not grows(ps, on_new + theirs), "players stalled after the respawn"
        assert pub.poll() is None
    finally:
        if ps:
            ps.close()
        stop(pub)


def kill_publisher_worker(s):
    name = "wk2"
    pub = publish(s, name)
    ps = None
    try:
        st = live(s, name)
        owner = st["owner_pid"]
        ps, owners = players_spread(s, name)
        victim = next(p for p in workers(s).values() if p["pid"] == owner)

        step("kill -9 the publisher's worker (pid %d)" % owner)
        os.kill(owner, signal.SIGKILL)
        # its stream ends for every player, on either worker
        wait_for(lambda: all(p.closed for p in ps.players), 15,
                 "every player closed (%d of %d)" % (sum(p.closed for p in ps.players), N))
        wait_for(lambda: stream_info(s, name) is None, 10, "stream released by the master")
        step("the publisher sees its connection end")
        try:
            pub.wait(20)
        except subprocess.TimeoutExpired:
            raise AssertionError("the publisher hangs after its worker died")
        wait_for(lambda: (lambda n: n and n["pid"] != owner and n)(workers(s).get(victim["index"])),
                 10, "worker %d respawned" % victim["index"])
        ps.close()
        ps = None

        # the name, and another, publish again; players play them
        step("publishing again")
        pubs = [publish(s, name), publish(s, name + "b")]
        try:
            for n in (name, name + "b"):
                live(s, n)
                again = RtmpPlayers("127.0.0.1", s.rtmp_port, "live", n)
                try:
                    again.add(20, rate=100)
                    wait_for(lambda: all(p.playing for p in again.players), 20, "players of %s playing" % n)
                finally:
                    again.close()
        finally:
            for p in pubs:
                stop(p)
    finally:
        if ps:
            ps.close()
        stop(pub)


try:
    make_media()
    with Tests() as t:
        s = t.server(workers=2).start()
        t.case("kill -9 of a worker under %d RTMP players: only its players drop, the publisher and the other "
               "worker's players go on, it is respawned and new players connect" % N, kill_other_worker, s,
               timeout=120)
        t.case("kill -9 of the publisher's worker under %d players: the stream ends for all, the name publishes "
               "again" % N, kill_publisher_worker, s, timeout=120)
finally:
    for p in PROCS:
        if p.poll() is None:
            p.kill()
            p.wait()
    subprocess.run(["rm", "-rf", WORK])
