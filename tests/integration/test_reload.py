"""Reload (SPEC section 2): a new generation takes new sessions, the old one
drains, live sessions survive, a bad configuration is refused."""
import asyncio
import json
import os
import signal
import subprocess
import socket
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
import websockets  # noqa: E402
from lcserver import BIN, Tests, wait_for  # noqa: E402


def gens(s):
    return sorted({p["generation"] for p in s.processes()})


async def open_session(s):
    ws = await websockets.connect("ws://127.0.0.1:%d/" % s.sig_port, open_timeout=10)
    await ws.send(json.dumps({"method": "connect"}))
    ev = json.loads(await asyncio.wait_for(ws.recv(), 10))
    assert ev["event"] == "session" and ev["status"] == "ESTABLISHED", ev
    return ws


async def ping(ws):
    await ws.send(json.dumps({"method": "ping"}))
    ev = json.loads(await asyncio.wait_for(ws.recv(), 10))
    assert ev == {"event": "pong"}, ev


def session_survives_reload(s):
    async def run():
        ws = await open_session(s)
        await ping(ws)
        gen = s.rest("worker/show")["master"]["generation"]
        holder = [p for p in s.processes("worker", gen) if p["connections"] == 1]
        assert len(holder) == 1, s.processes("worker")
        r = s.rest("config/reload")
        assert r == {"result": "ok", "generation": gen + 1}, r
        s.wait_ready(generation=gen + 1)
        # the old worker drains: it still holds our session and serves it
        old = [p for p in s.processes("worker") if p["pid"] == holder[0]["pid"]]
        assert old and old[0]["state"] == "draining", s.processes()
        for _ in range(3):
            await ping(ws)
        # old and new generations never share a UDP port
        new_ports = [tuple(map(int, p["udp_ports"].split("-"))) for p in s.processes("worker", gen + 1)]
        lo, hi = map(int, old[0]["udp_ports"].split("-"))
        assert all(b < lo or a > hi for a, b in new_ports), (new_ports, lo, hi)
        # a new session lands on the new generation
        ws2 = await open_session(s)
        await ping(ws2)
        assert sum(p["connections"] for p in s.processes("worker", gen + 1)) == 1
        await ws2.close()
        await ws.close()
        # the old worker exits once its last session ended
        wait_for(lambda: not [p for p in s.processes() if p["generation"] == gen], 10, "old generation gone")
        assert gens(s) == [gen + 1]
    asyncio.run(run())


def bad_config_refused(s):
    async def run():
        gen = s.rest("worker/show")["master"]["generation"]
        pids = sorted(p["pid"] for p in s.processes())
        good = open(s.conf).read()
        with open(s.conf, "a") as f:
            f.write("\nno_such_key = 1;\n")
        try:
            code, body = s.rest_error("config/reload")
            assert code == 500 and "no_such_key" in body["error"] and "reload refused" in body["error"], body
            assert "reload refused" in s.log()
            assert s.rest("worker/show")["master"]["generation"] == gen
            assert sorted(p["pid"] for p in s.processes()) == pids
            ws = await open_session(s)
            await ping(ws)
            await ws.close()
        finally:
            with open(s.conf, "w") as f:
                f.write(good)
    asyncio.run(run())


def hup_reload_changes_workers(s):
    gen = s.rest("worker/show")["master"]["generation"]
    s.write_conf(workers=3)
    r = subprocess.run([BIN, "-s", "reload", "-c", s.conf, "-p", s.dir], capture_output=True, text=True,
                       timeout=10)
    assert r.returncode == 0, r.stderr
    s.workers = 3
    s.wait_ready(generation=gen + 1)
    wait_for(lambda: gens(s) == [gen + 1], 10, "old generation gone")
    assert len(s.processes("worker")) == 3


def listen_address_change(s):
    async def run():
        old_port = s.sig_port
        from lcserver import free_port
        s.sig_port = free_port()
        s.write_conf()
        gen = s.rest("worker/show")["master"]["generation"]
        s.rest("config/reload")
        s.wait_ready(generation=gen + 1)
        ws = await open_session(s)
        await ping(ws)
        await ws.close()
        wait_for(lambda: gens(s) == [gen + 1], 10, "old generation gone")
        # nobody may hold the old socket: not even a new-generation child
        # that inherited it from the master during the reload
        try:
            socket.create_connection(("127.0.0.1", old_port), timeout=3).close()
            raise AssertionError("old signaling port still accepts connections after the reload")
        except ConnectionRefusedError:
            pass
    asyncio.run(run())


def shutdown_timeout_bounds_drain(s):
    async def run():
        s.write_conf(extra="")  # harness default: worker_shutdown_timeout = 20
        text = open(s.conf).read().replace("worker_shutdown_timeout = 20;", "worker_shutdown_timeout = 2;")
        with open(s.conf, "w") as f:
            f.write(text)
        s.rest("config/reload")  # this generation has the 2 s timeout
        gen = s.rest("worker/show")["master"]["generation"]
        s.wait_ready(generation=gen)
        wait_for(lambda: gens(s) == [gen], 10, "previous generation gone")
        ws = await open_session(s)
        s.rest("config/reload")
        s.wait_ready(generation=gen + 1)
        # the idle session keeps its worker only for worker_shutdown_timeout
        wait_for(lambda: gens(s) == [gen + 1], 15, "drain bounded by worker_shutdown_timeout")
        assert "worker_shutdown_timeout reached" in s.log()
        try:
            await asyncio.wait_for(ws.recv(), 5)
            raise AssertionError("session still open")
        except websockets.ConnectionClosed:
            pass
    asyncio.run(run())


def reload_while_draining(s):
    async def run():
        ws = await open_session(s)  # keeps generation g draining
        gen = s.rest("worker/show")["master"]["generation"]
        s.rest("config/reload")
        s.wait_ready(generation=gen + 1)
        # a third generation would need ports the draining one still holds
        code, body = s.rest_error("config/reload")
        assert code == 500 and "udp_ports" in body["error"], body
        assert s.rest("worker/show")["master"]["generation"] == gen + 1
        await ping(ws)
        await ws.close()
        wait_for(lambda: gens(s) == [gen + 1], 10, "draining generation gone")
        assert s.rest("config/reload")["generation"] == gen + 2
        s.wait_ready(generation=gen + 2)
    asyncio.run(run())


with Tests() as t:
    s = t.server().start()
    t.case("a live session survives a reload; the old worker drains then exits", session_survives_reload, s)
    t.case("a bad configuration is refused and the running one kept", bad_config_refused, s)
    t.case("-s reload (HUP) applies worker_processes", hup_reload_changes_workers, s)
    t.case("reload moves signaling.listen to a new port", listen_address_change, s)
    t.case("worker_shutdown_timeout bounds the drain", shutdown_timeout_bounds_drain, s)
    t.case("a reload while the previous generation drains on the same ports is refused",
           reload_while_draining, s)
