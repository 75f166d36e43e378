"""The deployment as shipped: gunicorn with config/gunicorn.conf.py (the Procfile), and
Debian's HAProxy with config/haproxy.cfg in front of two processes that share Redis
and ``MESSAGE_QUEUE``, with every client on 127.0.0.1 (one school NAT)."""

from __future__ import annotations

import os
import resource
import shlex
import shutil
import socket
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
import socketio
from support import ROOT, free_port, server_env, start_server, stop_server, wait_until

ROLES = ("retailer", "wholesaler", "distributor", "factory")
HAPROXY = shutil.which("haproxy") or "/usr/sbin/haproxy"

pytestmark = [pytest.mark.slow, pytest.mark.redis]


def procfile_server(redis_url: str, port: int, log: Path, **extra: str) -> subprocess.Popen[bytes]:
    """The Procfile's command on 127.0.0.1:``port``."""
    line = (ROOT / "Procfile").read_text().strip().removeprefix("web:").strip()
    return start_server(["bash", "-c", "exec " + line], server_env(redis_url, port, **extra), port, log)


def test_the_procfile_runs_one_gevent_worker_from_the_config_file() -> None:
    cmd = shlex.split((ROOT / "Procfile").read_text().strip().removeprefix("web:"))
    assert cmd[:3] == ["gunicorn", "-c", "config/gunicorn.conf.py"]
    settings: dict[str, Any] = {}
    exec((ROOT / "config" / "gunicorn.conf.py").read_text(), settings)
    assert settings["worker_class"] == "gevent" and settings["workers"] == 1
    assert settings["worker_connections"] >= 2000


def test_the_worker_answers_past_a_thousand_open_connections(redis_url: str, tmp_path: Path) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = 2500
    if hard != resource.RLIM_INFINITY and hard < want:
        pytest.fail(f"this test needs {want} open files (ulimit -Hn is {hard})")
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, want), hard))  # the server inherits it
    port = free_port()
    proc = procfile_server(redis_url, port, tmp_path / "gunicorn.log")
    held: list[socket.socket] = []
    try:
        for _ in range(1100):  # idle connections, as many open websockets hold: past gunicorn's default 1000
            held.append(socket.create_connection(("127.0.0.1", port), timeout=10))
        wait_until(lambda: len(os.listdir(f"/proc/{proc.pid}/task")) >= 1, timeout=5)
        r = requests.get(f"http://127.0.0.1:{port}/healthz", timeout=20)
        assert r.status_code == 200 and r.json()["ok"] is True
    finally:
        for s in held:
            s.close()
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
        stop_server(proc)


# -- two processes behind HAProxy ---------------------------------------------------------


@pytest.fixture
def proxy(redis_url: str, tmp_path: Path) -> Iterator[dict[str, Any]]:
    """Two Procfile processes on one Redis with ``MESSAGE_QUEUE``, and HAProxy in front."""
    if not os.path.exists(HAPROXY):
        pytest.skip("haproxy is not installed (apt-get install haproxy)")
    ports = [free_port(), free_port()]
    procs = []
    extra = {"MESSAGE_QUEUE": redis_url, "DISCONNECT_GRACE_SECONDS": "60"}
    try:
        for k, port in enumerate(ports):
            procs.append(procfile_server(redis_url, port, tmp_path / f"web{k + 1}.log", **extra))
        front = free_port()
        env = {**os.environ, "BIND": f"127.0.0.1:{front}", "WEB1": f"127.0.0.1:{ports[0]}"}
        env["WEB2"] = f"127.0.0.1:{ports[1]}"
        log = open(tmp_path / "haproxy.log", "wb")  # noqa: SIM115 - closed with the process
        ha = subprocess.Popen([HAPROXY, "-db", "-f", str(ROOT / "config" / "haproxy.cfg")], env=env, stdout=log,
                              stderr=subprocess.STDOUT, start_new_session=True)  # fmt: skip
        procs.append(ha)
        base = f"http://127.0.0.1:{front}"

        def up() -> bool:
            assert ha.poll() is None, (tmp_path / "haproxy.log").read_text()
            return requests.get(f"{base}/healthz", timeout=2).status_code == 200

        wait_until(up, timeout=30, every=0.1)
        # both processes in the pool (HAProxy's health checks): a round robin of fresh clients hits both
        wait_until(lambda: {cookie_of(requests.get(f"{base}/healthz", timeout=2)) for _ in range(4)} == {"w1", "w2"})
        yield {"base": base, "ports": ports, "logs": tmp_path}
    finally:
        for p in reversed(procs):
            stop_server(p)


def cookie_of(r: requests.Response) -> str | None:
    return r.cookies.get("BGSRV")


class Client:
    """A python-socketio client through the proxy; remembers the process cookie and events."""

    def __init__(self, base: str, transports: list[str] | None = None, route: str | None = None) -> None:
        self.sio = socketio.Client(reconnection=False)
        self.events: list[tuple[str, Any]] = []
        self.lock = threading.Lock()
        self.sio.on("*", self._any)
        self.server: str | None = None  # the process that answered the handshake (HAProxy's X-Process)
        http = self.sio.eio.http = requests.Session()
        http.hooks["response"].append(self._note_process)
        url = f"{base}?team={route}" if route else base
        self.sio.connect(url, transports=transports or ["polling", "websocket"], wait_timeout=15)

    def _note_process(self, r: requests.Response, *args: Any, **kwargs: Any) -> None:
        self.server = self.server or r.headers.get("X-Process")

    def _any(self, event: str, data: Any = None) -> None:
        with self.lock:
            self.events.append((event, data))

    def all(self, name: str) -> list[Any]:
        with self.lock:
            return [d for n, d in self.events if n == name]

    def call(self, event: str, data: dict[str, Any]) -> dict[str, Any]:
        return self.sio.call(event, data, timeout=15)


@pytest.mark.parametrize("routed", [False, True], ids=["cookie", "team-route"])
def test_a_class_behind_one_address_plays_on_both_processes(proxy: dict[str, Any], routed: bool) -> None:
    """Every client on 127.0.0.1. Without a route (a bot written from the protocol) the cookie
    spreads the players, teammates on different processes too; a player who connects again
    with the route from its join ack (as the player page does) sits with its teammates."""
    base = proxy["base"]
    r = requests.post(f"{base}/api/sessions", json={"scenario": "classic", "teams": 2, "weeks": 3, "seed": 3})
    assert r.status_code == 201, r.text
    code, secret = r.json()["code"], r.json()["facilitator_secret"]
    fac, proj = Client(base), Client(base)
    assert fac.call("facilitate", {"code": code, "secret": secret})["ok"]
    assert proj.call("watch", {"code": code})["ok"]
    players: dict[tuple[int, str], Client] = {}
    for n in (1, 2):
        for k, role in enumerate(ROLES):
            # half of them never upgrade: long polling works only when every request reaches one process
            transports = None if k % 2 else ["polling"]
            c = Client(base, transports)
            ack = c.call("join", {"code": code, "name": f"{role} {n}", "team": n, "role": role})
            assert ack["ok"] and ack["route"] == f"{code}-{n}", ack
            if routed:  # connect again with the route, and resume the seat there
                c.sio.disconnect()
                c = Client(base, transports, route=ack["route"])
                assert c.call("resume", {"token": ack["token"]})["ok"]
            players[(n, role)] = c
    on = {seat: c.server for seat, c in players.items()}
    assert set(on.values()) == {"web1", "web2"}, on
    for n in (1, 2):
        where = {on[(n, r)] for r in ROLES}
        if routed:
            assert len(where) == 1, f"team {n}'s players are on different processes: {on}"
        else:
            assert where == {"web1", "web2"}, f"team {n} sits on one process: {on}"
    assert {c.sio.transport() for c in players.values()} == {"polling", "websocket"}

    def week_of(c: Client) -> int:
        states = c.all("state")
        return int(states[-1]["team"]["week"]) if states else 0

    assert fac.call("control", {"action": "start"})["ok"]
    for week in (1, 2, 3):
        wait_until(lambda w=week: all(week_of(c) == w for c in players.values()), timeout=20)
        for c in players.values():
            ack = c.call("submit", {"week": week, "value": 4})
            assert ack == {"ok": True, "week": week, "value": 4, "previous": None}, ack
    wait_until(lambda: all(c.all("game_over") for c in players.values()), timeout=20)
    results = requests.get(f"{base}/api/sessions/{code}/results.json", headers={"X-Facilitator-Secret": secret})
    teams = results.json()["teams"]
    assert [[w["week"] for w in t["weeks"]] for t in teams] == [[1, 2, 3], [1, 2, 3]]
    assert all(w["bots"] == [] for t in teams for w in t["weeks"])  # every seat decided by its player
    for (n, role), c in players.items():
        decided = c.all("decided")
        assert decided and all(d["team"] == n for d in decided)
        assert c.all("standings"), f"{role} of team {n} on {c.server} got no standings"
        assert not c.all("leaderboard")
    assert proj.all("leaderboard") and fac.all("dashboard_update")
    for c in [fac, proj, *players.values()]:
        c.sio.disconnect()
