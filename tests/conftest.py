"""Shared fixtures: a real ``redis-server``, the real app in a subprocess, and app factories.

``redis_server``
    Session-scoped. Starts ``/usr/bin/redis-server`` on a free loopback port with
    a temporary directory, yields its URL (``redis://127.0.0.1:PORT``), shuts it
    down at the end. Database 0 belongs to ``live_server``; ``redis_url`` hands
    each test a freshly flushed database of its own.
``live_server``
    Session-scoped. Starts the real server (``python -m web``, gevent, as the README
    runs it) in a subprocess against ``redis_server`` (database 0) on a free
    port, waits until ``/healthz`` answers, yields the base URL
    (``http://127.0.0.1:PORT``) and stops it at the end. Its ticker runs, so
    timers and bots play as in class.
``make_app``
    A factory: ``make_app(redis_url=None, **config)`` builds ``create_app`` with the
    ticker off and a hand-driven clock (``app.clock``, see ``FakeClock``); the
    store is fakeredis unless ``redis_url`` is given.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
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


@pytest.fixture(scope="session")
def redis_server() -> Iterator[str]:
    """A real redis-server on a free loopback port; yields ``redis://127.0.0.1:PORT``."""
    if not os.path.exists(REDIS_BIN):
        pytest.skip("redis-server is not installed (apt-get install redis-server)")
    directory = tempfile.mkdtemp(prefix="beergame-redis-")
    port = free_port()
    proc = start_redis(directory, port)
    try:
        yield f"redis://127.0.0.1:{port}"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        shutil.rmtree(directory, ignore_errors=True)


_db_counter = iter(range(1, 10_000))


@pytest.fixture
def redis_url(redis_server: str) -> str:
    """A flushed database (1..15) of ``redis_server`` for one test."""
    db = next(_db_counter) % 15 + 1
    url = f"{redis_server}/{db}"
    redis.Redis.from_url(url).flushdb()
    return url


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


@pytest.fixture(scope="session")
def live_server(redis_server: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The real server (``python -m web``) on a free port against ``redis_server`` db 0;
    yields ``http://127.0.0.1:PORT``."""
    port = free_port()
    log = tmp_path_factory.mktemp("live") / "server.log"
    proc = start_server([sys.executable, "-m", "web"], server_env(f"{redis_server}/0", port), port, log)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        stop_server(proc)


class FakeClock:
    """A clock the test moves by hand (``clock.advance(seconds)``)."""

    def __init__(self, start: float = 1_700_000_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> float:
        self.now += seconds
        return self.now


@pytest.fixture
def make_app() -> Callable[..., Any]:
    """``make_app(redis_url=None, **config)``: an app with the ticker off and ``app.clock``
    a ``FakeClock``; fakeredis unless ``redis_url`` is given."""
    from web.app import create_app

    def build(redis_url: str | None = None, **config: Any) -> Any:
        clock = FakeClock()
        cfg = {"TICKER": False, "CLOCK": clock, "REDIS_URL": redis_url or "", "ASYNC_MODE": "threading", **config}
        app = create_app(cfg)
        app.clock = clock  # type: ignore[attr-defined]
        return app

    return build
