"""The player page on a server that runs as several processes (``MESSAGE_QUEUE``): once it has a
seat it connects again with its team's route, which the proxy hashes to put teammates on one
process (tests/test_deploy.py checks the proxy's side)."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import socketio
from playwright.sync_api import expect
from support import free_port, server_env, start_server, stop_server, wait_until
from test_browser_pages import join_seat, new_session

pytestmark = pytest.mark.browser


@pytest.fixture
def queued_server(redis_url: str, tmp_path: Path) -> Iterator[str]:
    """``python -m web`` with ``MESSAGE_QUEUE`` set, as each of several processes runs."""
    port = free_port()
    env = server_env(redis_url, port, MESSAGE_QUEUE=redis_url)
    proc = start_server([sys.executable, "-m", "web"], env, port, tmp_path / "server.log")
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        stop_server(proc)


def test_the_page_connects_again_with_its_team_route_and_plays_on(queued_server: str, new_page) -> None:
    base = queued_server
    created = new_session(base, teams=2, weeks=3)
    code = created["code"]
    page = new_page()
    sockets: list[str] = []  # every Socket.IO request the page makes, polling and websocket
    page.on("request", lambda r: sockets.append(r.url) if "/socket.io/" in r.url else None)
    page.on("websocket", lambda ws: sockets.append(ws.url))
    route = f"team={code}-1"
    join_seat(page, base, code, "Ada", "retailer")
    assert sockets and route not in sockets[0], sockets[:1]  # the join form's connection has no seat yet
    wait_until(lambda: any(route in u for u in sockets), timeout=10)
    expect(page.locator("#conn")).to_have_text("Connected")

    # the seat goes on over the routed connection: the week starts and the decision is taken
    fac = socketio.Client(reconnection=False)
    fac.connect(base, transports=["websocket"], wait_timeout=10)
    try:
        assert fac.call("facilitate", {"code": code, "secret": created["facilitator_secret"]}, timeout=10)["ok"]
        assert fac.call("control", {"action": "start"}, timeout=10)["ok"]
    finally:
        fac.disconnect()
    expect(page.locator("#value")).to_be_enabled()
    page.fill("#value", "6")
    page.click("#submit")  # the bots have decided: the last decision ends the week
    expect(page.locator("#week")).to_have_text("Week 2")

    # a reload connects with the route at once (the seat keeps it)
    sockets.clear()
    page.reload()
    expect(page.locator("#week")).to_have_text("Week 2")
    expect(page.locator("#conn")).to_have_text("Connected")
    assert sockets and all(route in u for u in sockets), sockets
