"""Helpers shared by the test modules and fixtures: free ports, polling, real redis-server
and server subprocesses. Test modules import these from here (not from a conftest, whose
module name is shared by every conftest.py in the tree)."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import redis
import requests

ROOT = Path(__file__).resolve().parent.parent
REDIS_BIN = shutil.which("redis-server") or "/usr/bin/redis-server"


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(check: Callable[[], Any], timeout: float = 30.0, every: float = 0.05) -> Any:
    """Poll ``check`` until it returns something truthy; fail after ``timeout`` seconds."""
    end = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < end:
        try:
            last = check()
        except Exception as exc:
            last = exc
        else:
            if last:
                return last
        time.sleep(every)
    raise AssertionError(f"condition not met within {timeout}s (last: {last!r})")


def start_redis(directory: str, port: int) -> subprocess.Popen[bytes]:
    """A redis-server on 127.0.0.1:``port`` keeping its files in ``directory``."""
    proc = subprocess.Popen(
        [
            REDIS_BIN,
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--dir",
            directory,
            "--save",
            "",
            "--appendonly",
            "no",
            "--protected-mode",
            "yes",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    client = redis.Redis(port=port)
    wait_until(lambda: proc.poll() is not None or client.ping(), timeout=20)
    if proc.poll() is not None:
        raise RuntimeError("redis-server did not start")
    return proc


def server_env(redis_url: str | None, port: int, **extra: str) -> dict[str, str]:
    """Environment for a server subprocess."""
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "ASYNC_MODE", "MESSAGE_QUEUE")}
    env.update({"HOST": "127.0.0.1", "PORT": str(port), "PYTHONUNBUFFERED": "1"})
    if redis_url:
        env["REDIS_URL"] = redis_url
    env.update(extra)
    return env


def start_server(cmd: list[str], env: dict[str, str], port: int, log: Path) -> subprocess.Popen[bytes]:
    """Start a server subprocess and wait until its ``/healthz`` answers 200."""
    out = open(log, "wb")  # noqa: SIM115 - closed with the process
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)

    def up() -> bool:
        if proc.poll() is not None:
            raise AssertionError(f"server exited early:\n{log.read_text(errors='replace')}")
        return requests.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200

    try:
        wait_until(up, timeout=60, every=0.1)
    except BaseException:
        stop_server(proc)
        raise
    return proc


def stop_server(proc: subprocess.Popen[bytes], hard: bool = False) -> None:
    """Stop a server subprocess (``hard``: SIGKILL, like a crash)."""
    if proc.poll() is None:
        proc.kill() if hard else proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=15)


CLASSIC_ROLES = ("retailer", "wholesaler", "distributor", "factory")


def seated_classic_team(app: Any, weeks: int, seed: int) -> dict[str, Any]:
    """An in-process classic session of one team (Flask-SocketIO test clients): the session's
    ``code`` and ``secret``, the ``http`` client, the facilitator ``fac`` and one joined client
    per role in ``players`` (not started)."""
    from web.app import socketio_of

    http = app.test_client()
    s = http.post("/api/sessions", json={"scenario": "classic", "teams": 1, "weeks": weeks, "seed": seed}).json
    sio = socketio_of(app)
    fac = sio.test_client(app)
    assert fac.emit("facilitate", {"code": s["code"], "secret": s["facilitator_secret"]}, callback=True)["ok"]
    players = {}
    for role in CLASSIC_ROLES:
        c = sio.test_client(app)
        assert c.emit("join", {"code": s["code"], "name": role, "team": 1, "role": role}, callback=True)["ok"]
        players[role] = c
    return {"code": s["code"], "secret": s["facilitator_secret"], "fac": fac, "players": players, "http": http}


def humans(store: Any, code: str, n: int = 1) -> set[str]:
    """The roles a human plays in team ``n`` (as the store keeps them)."""
    snap = store.team_snapshot(code, n)
    return snap.humans if snap else set()


def decisions(store: Any, code: str, n: int = 1) -> dict[str, int]:
    """Team ``n``'s human decisions this week (as the store keeps them)."""
    snap = store.team_snapshot(code, n)
    return snap.dec if snap else {}


def shop_stage(**changes: Any) -> dict[str, Any]:
    """The one stage of a hand-computed scenario: a shop that sells to every consumer and buys
    from outside (a week in the mail, a week on the road), nothing on hand or on its way at the
    start, holding 0.5 and backlog 1.0 a unit-week; ``changes`` override or add keys."""
    return {
        "role": "shop",
        "order_delay": 1,
        "ship_delay": 1,
        "on_hand": 0,
        "orders": [0],
        "shipments": [0],
        "holding_cost": 0.5,
        "backlog_cost": 1.0,
        "market_share": 1.0,
        **changes,
    }
