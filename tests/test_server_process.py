"""The server as a process over a real network: restart recovery, gunicorn + gevent
(the Procfile), eventlet, and bots playing through the protocol.

Marked slow (server subprocesses); they still run by default."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import requests
import socketio
from support import ROOT, free_port, server_env, start_server, stop_server, wait_until

from game.policies import parse_policy
from web.bot import SeatBot

ROLES = ("retailer", "wholesaler", "distributor", "factory")


def create(base: str, **body: Any) -> dict[str, Any]:
    r = requests.post(f"{base}/api/sessions", json={"scenario": "classic", "seed": 5, **body}, timeout=10)
    assert r.status_code == 201, r.text
    return r.json()


class Player:
    """A python-socketio client over the network that records ``state`` events."""

    def __init__(self, base: str) -> None:
        self.sio = socketio.Client(reconnection=False)
        self.states: list[dict[str, Any]] = []
        self.sio.on("state", self.states.append)
        self.sio.connect(base, wait_timeout=10)

    def call(self, event: str, data: dict[str, Any]) -> dict[str, Any]:
        return self.sio.call(event, data, timeout=10)

    def close(self) -> None:
        self.sio.disconnect()


def team(base: str, secret: str, code: str, n: int = 1) -> dict[str, Any]:
    r = requests.get(f"{base}/api/sessions/{code}/results.json", headers={"X-Facilitator-Secret": secret}, timeout=10)
    assert r.status_code == 200, r.text
    return r.json()["teams"][n - 1]


@pytest.mark.slow
@pytest.mark.redis
def test_game_resumes_after_the_server_process_is_killed(redis_url: str, tmp_path: Path) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = server_env(redis_url, port, DISCONNECT_GRACE_SECONDS="120", ASYNC_MODE="threading")
    cmd = [sys.executable, "-m", "web"]
    proc = start_server(cmd, env, port, tmp_path / "first.log")
    try:
        s = create(base, teams=2, weeks=10)
        code, secret = s["code"], s["facilitator_secret"]
        fac = Player(base)
        assert fac.call("facilitate", {"code": code, "secret": secret})["ok"]
        players = {r: Player(base) for r in ROLES}
        tokens = {}
        for r, p in players.items():
            ack = p.call("join", {"code": code, "name": r, "team": 1, "role": r})
            assert ack["ok"], ack
            tokens[r] = ack["token"]
        assert fac.call("control", {"action": "start"})["ok"]
        for w in (1, 2):
            for p in players.values():
                assert p.call("submit", {"week": w, "value": 6})["ok"]
        assert players["retailer"].call("submit", {"week": 3, "value": 9})["ok"]
        assert fac.call("control", {"action": "set_timer", "seconds": 5})["ok"]
        before = team(base, secret, code)
    finally:
        stop_server(proc, hard=True)  # a crash: SIGKILL, no clean shutdown
    port2 = free_port()
    base2 = f"http://127.0.0.1:{port2}"
    env2 = server_env(redis_url, port2, DISCONNECT_GRACE_SECONDS="120", ASYNC_MODE="threading")
    proc = start_server(cmd, env2, port2, tmp_path / "second.log")
    try:
        after = team(base2, secret, code)
        assert after["weeks"] == before["weeks"] and after["state"]["week"] == 3
        info = requests.get(f"{base2}/api/sessions/{code}", timeout=10).json()
        assert info["status"] == "running" and all(s["taken"] for s in info["teams"][0]["seats"])
        back = {r: Player(base2) for r in ROLES}
        for r, p in back.items():
            ack = p.call("resume", {"token": tokens[r]})
            assert ack == {"ok": True, "code": code, "team": 1, "role": r}
        # the retailer's week-3 decision survived the crash (a submission now changes it)
        assert back["retailer"].call("submit", {"week": 3, "value": 1})["previous"] == 9
        # the re-armed ticker ends week 3 at its deadline: bots play the three missing seats
        wait_until(lambda: team(base2, secret, code)["state"]["week"] >= 4, timeout=60, every=0.2)
        rec = team(base2, secret, code)["weeks"][2]
        assert rec["roles"]["retailer"]["decision"] == 1
        assert sorted(rec["bots"]) == sorted(ROLES[1:])
        fac2 = Player(base2)
        assert fac2.call("facilitate", {"code": code, "secret": secret})["ok"]
        assert fac2.call("control", {"action": "set_timer", "seconds": None})["ok"]
        week = team(base2, secret, code)["state"]["week"]
        for p in back.values():
            assert p.call("submit", {"week": week, "value": 5})["ok"]
        wait_until(lambda: team(base2, secret, code)["state"]["week"] == week + 1, timeout=30)
        for p in [*back.values(), fac2]:
            p.close()
    finally:
        stop_server(proc)


def _smoke(base: str) -> None:
    health = requests.get(f"{base}/healthz", timeout=10)
    assert health.status_code == 200 and health.json() == {"ok": True, "store": "redis", "reachable": True}
    s = create(base, teams=1, weeks=3)
    p = Player(base)
    ack = p.call("join", {"code": s["code"], "name": "Ada"})
    assert ack["ok"] and ack["role"] == "retailer"
    wait_until(lambda: p.states, timeout=10)
    assert p.states[-1]["seat"]["role"] == "retailer"
    assert p.sio.transport() == "websocket" or p.sio.transport() == "polling"
    p.close()


@pytest.mark.slow
@pytest.mark.redis
def test_procfile_gunicorn_gevent_serves_http_and_socketio(redis_url: str, tmp_path: Path) -> None:
    line = (ROOT / "Procfile").read_text().strip()
    assert line.startswith("web: gunicorn -c config/gunicorn.conf.py ")  # gevent, one worker: tests/test_deploy.py
    port = free_port()
    cmd = ["bash", "-c", "exec " + line.removeprefix("web: ").replace("0.0.0.0", "127.0.0.1")]
    proc = start_server(cmd, server_env(redis_url, port), port, tmp_path / "gunicorn.log")
    try:
        _smoke(f"http://127.0.0.1:{port}")
    finally:
        stop_server(proc)


@pytest.mark.slow
@pytest.mark.redis
def test_eventlet_mode_still_runs(redis_url: str, tmp_path: Path) -> None:
    port = free_port()
    env = server_env(redis_url, port, ASYNC_MODE="eventlet")
    proc = start_server([sys.executable, "-m", "web"], env, port, tmp_path / "eventlet.log")
    try:
        _smoke(f"http://127.0.0.1:{port}")
    finally:
        stop_server(proc)


@pytest.mark.slow
@pytest.mark.redis
def test_protocol_bots_play_a_whole_game_over_the_network(live_server: str, tmp_path: Path) -> None:
    """Four bot clients (one the ``python -m web.bot`` command) play every week through the protocol."""
    s = create(live_server, teams=1, weeks=6)
    code, secret = s["code"], s["facilitator_secret"]
    bots = [SeatBot(live_server, parse_policy("sterman")) for _ in range(3)]
    for b, role in zip(bots, ROLES[:3], strict=True):
        b.join(code, f"Bot {role}", team=1, role=role)
    args = ["--url", live_server, "--code", code, "--policy", "passthrough", "--name", "CLI bot", "--timeout", "120"]
    cli = subprocess.Popen(
        [sys.executable, "-m", "web.bot", *args],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        wait_until(
            lambda: all(
                st["taken"] for st in requests.get(f"{live_server}/api/sessions/{code}").json()["teams"][0]["seats"]
            )
        )
        fac = Player(live_server)
        assert fac.call("facilitate", {"code": code, "secret": secret})["ok"]
        assert fac.call("control", {"action": "start"})["ok"]
        for b in bots:
            assert b.wait(120), "bot did not finish"
        out, _ = cli.communicate(timeout=120)
        assert cli.returncode == 0, out
        assert "playing team 1 factory with passthrough" in out
        fac.close()
    finally:
        if cli.poll() is None:
            cli.kill()
        for b in bots:
            b.close()
    result = team(live_server, secret, code)
    assert [w["week"] for w in result["weeks"]] == list(range(1, 7))
    assert all(w["bots"] == [] for w in result["weeks"])  # every week decided by the four clients
    assert all(not b.errors for b in bots), [b.errors for b in bots]
    # the passthrough factory ordered exactly what it was asked for
    for w in result["weeks"]:
        fac_ev = w["roles"]["factory"]
        assert fac_ev["decision"] == fac_ev["incoming_order"]


def test_healthz_answers_503_when_redis_is_unreachable(make_app: Any) -> None:
    app = make_app(f"redis://127.0.0.1:{free_port()}/0")
    r = app.test_client().get("/healthz")
    assert r.status_code == 503
    assert r.json == {"ok": False, "store": "redis", "reachable": False}


@pytest.mark.slow
@pytest.mark.redis
def test_racing_submissions_for_the_last_seat_advance_once(live_server: str) -> None:
    """Eight connections hold the factory seat (same token, many phones) and submit at once."""
    import threading

    s = create(live_server, teams=1, weeks=5)
    code, secret = s["code"], s["facilitator_secret"]
    players = {r: Player(live_server) for r in ROLES}
    tokens = {r: p.call("join", {"code": code, "name": r, "team": 1, "role": r})["token"] for r, p in players.items()}
    phones = [Player(live_server) for _ in range(8)]
    for ph in phones:
        assert ph.call("resume", {"token": tokens["factory"]})["ok"]
    fac = Player(live_server)
    assert fac.call("facilitate", {"code": code, "secret": secret})["ok"]
    assert fac.call("control", {"action": "start"})["ok"]
    for r in ROLES[:3]:
        assert players[r].call("submit", {"week": 1, "value": 4})["ok"]
    barrier = threading.Barrier(len(phones))
    acks: list[dict[str, Any]] = []
    lock = threading.Lock()

    def go(ph: Player, value: int) -> None:
        barrier.wait()
        ack = ph.call("submit", {"week": 1, "value": value})
        with lock:
            acks.append(ack)

    threads = [threading.Thread(target=go, args=(ph, 10 + i)) for i, ph in enumerate(phones)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wins = [a for a in acks if a["ok"]]
    assert len(wins) >= 1  # a repeat before the week closed is a change
    assert {a["error"]["code"] for a in acks if not a["ok"]} <= {"stale_week"}
    result = team(live_server, secret, code)
    assert [w["week"] for w in result["weeks"]] == [1]
    assert result["state"]["week"] == 2
    assert result["weeks"][0]["roles"]["factory"]["decision"] in {a["value"] for a in wins}
    for p in [*players.values(), *phones, fac]:
        p.close()


@pytest.mark.slow
def test_readme_run_command_uses_the_embedded_store_and_says_so(tmp_path: Path) -> None:
    port = free_port()
    log = tmp_path / "readme.log"
    proc = start_server([sys.executable, "-m", "web"], server_env(None, port), port, log)
    try:
        health = requests.get(f"http://127.0.0.1:{port}/healthz", timeout=10).json()
        assert health == {"ok": True, "store": "memory", "reachable": True}
        s = create(f"http://127.0.0.1:{port}", teams=1)
        p = Player(f"http://127.0.0.1:{port}")
        assert p.call("join", {"code": s["code"], "name": "Ada"})["ok"]
        p.close()
    finally:
        stop_server(proc)
    assert "will NOT survive a restart" in log.read_text()


@pytest.mark.slow
def test_socketio_refuses_pages_of_other_origins(live_server: str) -> None:
    foreign = socketio.Client(reconnection=False)
    with pytest.raises(socketio.exceptions.ConnectionError):
        foreign.connect(live_server, headers={"Origin": "http://elsewhere.invalid"}, wait_timeout=5)
    same = socketio.Client(reconnection=False)
    same.connect(live_server, headers={"Origin": live_server}, wait_timeout=5)
    assert same.connected
    same.disconnect()


@pytest.mark.slow
@pytest.mark.redis
def test_two_workers_share_clients_through_the_message_queue(redis_url: str, tmp_path: Path) -> None:
    """A player on one server process sees what the facilitator does on another (MESSAGE_QUEUE)."""
    procs, bases = [], []
    try:
        for i in range(2):
            port = free_port()
            env = server_env(redis_url, port, MESSAGE_QUEUE=redis_url)
            procs.append(start_server([sys.executable, "-m", "web"], env, port, tmp_path / f"worker{i}.log"))
            bases.append(f"http://127.0.0.1:{port}")
        s = create(bases[0], teams=1, weeks=3)
        player = Player(bases[0])
        assert player.call("join", {"code": s["code"], "name": "Ada"})["ok"]
        fac = Player(bases[1])
        assert fac.call("facilitate", {"code": s["code"], "secret": s["facilitator_secret"]})["ok"]
        assert fac.call("control", {"action": "start"})["ok"]
        wait_until(lambda: player.states and player.states[-1]["session"]["status"] == "running", timeout=30)
        assert fac.call("control", {"action": "force_round", "week": 1})["ok"]
        wait_until(lambda: player.states[-1]["view"]["week"] == 2, timeout=30)
        player.close()
        fac.close()
    finally:
        for proc in procs:
            stop_server(proc)
