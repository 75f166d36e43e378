"""Crash faults: the server (gunicorn + gevent) killed with SIGKILL at each step of a
round, and Redis (AOF, ``appendfsync always``) likewise; after the restart every game
is at the right week, no acknowledged decision is lost, and no week hangs or advances
twice. The steps are reached with ``BEERGAME_FAULT`` (``web.faults``)."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
import requests
import socketio
from support import REDIS_BIN, ROOT, free_port, server_env, start_server, wait_until

pytestmark = [pytest.mark.slow, pytest.mark.redis]
ROLES = ("retailer", "factory")  # the two human seats of team 1; the rest are bots
GUNICORN = (ROOT / "Procfile").read_text().strip().removeprefix("web: ")


class Rig:
    """A durable redis-server and the Procfile's gunicorn, each killed and restarted at will."""

    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.redis_port = free_port()
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.redis: subprocess.Popen[bytes] | None = None
        self.server: subprocess.Popen[bytes] | None = None
        self.runs = 0
        self.start_redis()
        self.r = redis.Redis(port=self.redis_port, decode_responses=True)

    def start_redis(self) -> None:
        args = ["--port", str(self.redis_port), "--bind", "127.0.0.1", "--dir", str(self.tmp), "--save", ""]
        args += ["--appendonly", "yes", "--appendfsync", "always"]
        self.redis = subprocess.Popen([REDIS_BIN, *args], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        probe = redis.Redis(port=self.redis_port)
        wait_until(lambda: probe.ping(), timeout=20)

    def kill_redis(self) -> None:
        assert self.redis
        self.redis.send_signal(signal.SIGKILL)
        self.redis.wait(timeout=10)

    def start_server(self, fault: str = "") -> Path:
        self.runs += 1
        log = self.tmp / f"server{self.runs}.log"
        env = server_env(f"redis://127.0.0.1:{self.redis_port}/0", self.port, DISCONNECT_GRACE_SECONDS="300")
        env.update(TICK_SECONDS="0.2", BEERGAME_FAULT=fault)
        cmd = ["bash", "-c", "exec " + GUNICORN.replace("0.0.0.0", "127.0.0.1")]
        self.server = start_server(cmd, env, self.port, log)
        return log

    def kill_server(self) -> None:
        assert self.server
        if self.server.poll() is None:
            os.killpg(self.server.pid, signal.SIGKILL)
        self.server.wait(timeout=10)

    def wait_server_dead(self) -> None:
        assert self.server
        self.server.wait(timeout=30)

    def close(self) -> None:
        for proc in (self.server, self.redis):
            if proc and proc.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL) if proc is self.server else proc.kill()
                proc.wait(timeout=10)

    # -- the game, read straight from Redis --
    def week(self, code: str, team: int = 1) -> int:
        return int(self.r.hget(f"bg:s:{code}:t:{team}", "week"))

    def played(self, code: str, team: int = 1) -> list[int]:
        return [json.loads(w)["week"] for w in self.r.lrange(f"bg:s:{code}:t:{team}:weeks", 0, -1)]

    def decisions(self, code: str, team: int = 1) -> dict[str, str]:
        return self.r.hgetall(f"bg:s:{code}:t:{team}:dec")

    def decision_of(self, code: str, week: int, role: str, team: int = 1) -> int:
        rec = json.loads(self.r.lindex(f"bg:s:{code}:t:{team}:weeks", week - 1))
        assert rec["week"] == week
        return rec["roles"][role]["decision"]


@pytest.fixture
def rig(tmp_path: Path) -> Iterator[Rig]:
    rig = Rig(tmp_path)
    try:
        yield rig
    finally:
        rig.close()


def emit(base: str, token: str, event: str, data: dict[str, Any], timeout: float = 5) -> dict[str, Any] | None:
    """One event on a fresh connection of the seat ``token``; None when no ack came (a crash)."""
    sio = socketio.Client(reconnection=False)
    try:
        sio.connect(base, wait_timeout=10, transports=["websocket"])
        if token:
            assert sio.call("resume", {"token": token}, timeout=10)["ok"]
        return sio.call(event, data, timeout=timeout)
    except (socketio.exceptions.TimeoutError, socketio.exceptions.ConnectionError):
        return None
    finally:
        sio.disconnect()


def new_game(rig: Rig, **body: Any) -> tuple[str, str, dict[str, str]]:
    s = requests.post(f"{rig.base}/api/sessions", json={"teams": 2, "weeks": 8, "seed": 4, **body}, timeout=10).json()
    tokens = {}
    for role in ROLES:
        sio = socketio.Client(reconnection=False)
        sio.connect(rig.base, wait_timeout=10)
        ack = sio.call("join", {"code": s["code"], "name": role, "team": 1, "role": role}, timeout=10)
        assert ack["ok"], ack
        tokens[role] = ack["token"]
        sio.disconnect()
    fac = socketio.Client(reconnection=False)
    fac.connect(rig.base, wait_timeout=10)
    assert fac.call("facilitate", {"code": s["code"], "secret": s["facilitator_secret"]}, timeout=10)["ok"]
    assert fac.call("control", {"action": "start"}, timeout=10)["ok"]
    fac.disconnect()
    return s["code"], s["facilitator_secret"], tokens


def control(rig: Rig, code: str, secret: str, body: dict[str, Any]) -> dict[str, Any]:
    sio = socketio.Client(reconnection=False)
    sio.connect(rig.base, wait_timeout=10)
    try:
        assert sio.call("facilitate", {"code": code, "secret": secret}, timeout=10)["ok"]
        return sio.call("control", body, timeout=10)
    finally:
        sio.disconnect()


def settled(rig: Rig, code: str, week: int) -> None:
    """Team 1 reaches ``week`` and stays there (no second advance) for a few ticks."""
    wait_until(lambda: rig.week(code) >= week, timeout=30)
    time.sleep(1.0)
    assert rig.week(code) == week
    assert rig.played(code) == list(range(1, week))


@pytest.mark.parametrize("point", ["after_decision", "last_decision", "before_commit", "after_commit"])
def test_the_server_killed_at_each_step_of_a_round(rig: Rig, point: str) -> None:
    rig.start_server()
    code, _, tokens = new_game(rig)
    for role, value in (("retailer", 5), ("factory", 6)):  # week 1, played normally
        assert emit(rig.base, tokens[role], "submit", {"week": 1, "value": value})["ok"]
    settled(rig, code, 2)
    rig.kill_server()
    rig.start_server(fault=f"crash:{point}")
    first = emit(rig.base, tokens["retailer"], "submit", {"week": 2, "value": 7})
    if point == "after_decision":
        assert first is None  # died before the ack
        rig.wait_server_dead()
        rig.start_server()
        assert rig.decisions(code) == {"retailer": "7"}  # recorded all the same
        again = emit(rig.base, tokens["retailer"], "submit", {"week": 2, "value": 8})
        assert again["ok"] and again["previous"] == 7  # a change of the recorded decision
        assert emit(rig.base, tokens["factory"], "submit", {"week": 2, "value": 9})["ok"]
    else:
        assert first["ok"]  # acknowledged: must survive what follows
        last = emit(rig.base, tokens["factory"], "submit", {"week": 2, "value": 9})
        if point != "after_commit":
            assert last is None
        rig.wait_server_dead()
        rig.start_server()  # no timer: the new process completes the week by itself
    settled(rig, code, 3)
    assert rig.decision_of(code, 2, "retailer") == (8 if point == "after_decision" else 7)
    assert rig.decision_of(code, 2, "factory") == 9
    assert rig.decision_of(code, 1, "factory") == 6


def test_the_server_killed_during_a_round_timer(rig: Rig) -> None:
    rig.start_server()
    code, secret, tokens = new_game(rig, round_seconds=5)
    assert emit(rig.base, tokens["retailer"], "submit", {"week": 1, "value": 3})["ok"]
    rig.kill_server()
    deadline = float(rig.r.hget(f"bg:s:{code}:t:1", "deadline"))
    time.sleep(max(0.0, deadline - time.time()) + 0.5)  # the deadline passes while nobody runs
    rig.start_server()
    wait_until(lambda: rig.week(code) == 2, timeout=30)
    assert control(rig, code, secret, {"action": "pause"})["ok"]
    time.sleep(1.0)
    assert rig.played(code) == [1] and rig.week(code) == 2  # once, for the overdue week
    assert rig.decision_of(code, 1, "retailer") == 3


def test_redis_killed_after_a_decision_between_the_last_one_and_the_commit_and_during_a_timer(rig: Rig) -> None:
    log = rig.start_server(fault="pause:before_commit:2")
    code, secret, tokens = new_game(rig)
    # an acknowledged decision survives Redis's kill -9 (AOF, fsync always)
    assert emit(rig.base, tokens["retailer"], "submit", {"week": 1, "value": 5})["ok"]
    rig.kill_redis()
    rig.start_redis()
    assert rig.decisions(code) == {"retailer": "5"}
    # the last decision recorded, then Redis dies before the commit
    got: list[Any] = []
    t = threading.Thread(
        target=lambda: got.append(emit(rig.base, tokens["factory"], "submit", {"week": 1, "value": 6}))
    )
    t.start()
    wait_until(lambda: "fault point before_commit" in log.read_text(errors="replace"), timeout=30)
    rig.kill_redis()
    t.join(timeout=30)
    assert got and got[0] is not None and got[0]["error"]["code"] == "unavailable", got
    rig.start_redis()  # Redis returns: the ticker completes the week
    settled(rig, code, 2)
    assert (rig.decision_of(code, 1, "retailer"), rig.decision_of(code, 1, "factory")) == (5, 6)
    # Redis dies while a round timer runs, and comes back after the deadline
    assert control(rig, code, secret, {"action": "set_timer", "seconds": 5})["ok"]
    assert emit(rig.base, tokens["factory"], "submit", {"week": 2, "value": 4})["ok"]
    deadline = float(rig.r.hget(f"bg:s:{code}:t:1", "deadline"))
    rig.kill_redis()
    time.sleep(max(0.0, deadline - time.time()) + 0.5)
    rig.start_redis()
    wait_until(lambda: rig.week(code) == 3, timeout=30)
    assert control(rig, code, secret, {"action": "pause"})["ok"]
    time.sleep(1.0)
    assert rig.played(code) == [1, 2] and rig.week(code) == 3
    assert rig.decision_of(code, 2, "factory") == 4
    text = log.read_text(errors="replace")
    assert "Traceback" not in text, text[-3000:]
    assert text.count("the store is unreachable") <= 3  # one line per outage (three outages)
