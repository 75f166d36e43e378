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
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import redis
from support import REDIS_BIN, ROOT, free_port, server_env, start_redis, start_server, stop_server, wait_until  # noqa: F401


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


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[Any]) -> Iterator[None]:
    """In CI (``CI`` set), a skipped test fails: a missing redis-server, Chromium or tool
    must not pass for a green run."""
    outcome = yield
    report = outcome.get_result()
    if os.environ.get("CI") and report.skipped and not hasattr(report, "wasxfail"):
        report.outcome = "failed"
        report.longrepr = f"skipped in CI, where every test must run: {report.longrepr}"
