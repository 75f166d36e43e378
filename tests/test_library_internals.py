"""What ``web.realtime.internals`` relies on in python-socketio and python-engineio, and
``web.store.connection`` in redis-py, beyond their documented API: the installed versions are
within the ranges pinned in ``pyproject.toml`` (an upgrade past them fails here, to be checked
against the library's source and pinned anew), and every name used is still there and does what
it is used for."""

from __future__ import annotations

import importlib.metadata
import inspect
import time
import tomllib
from pathlib import Path
from typing import Any

import engineio
import pytest
import redis
import socketio
from packaging.requirements import Requirement

from web.app import socketio_of
from web.realtime import internals
from web.store import connection

PINNED = ("python-socketio", "python-engineio", "redis")


def pins() -> dict[str, Requirement]:
    project = tomllib.loads((Path(__file__).parent.parent / "pyproject.toml").read_text())["project"]
    return {Requirement(d).name.lower(): Requirement(d) for d in project["dependencies"]}


@pytest.mark.parametrize("name", PINNED)
def test_the_installed_libraries_are_within_the_pinned_range(name: str) -> None:
    wanted = pins()[name].specifier
    assert any(s.operator == "<" for s in wanted), f"{name} needs an upper bound in pyproject.toml"
    installed = importlib.metadata.version(name)
    assert wanted.contains(installed), f"{name} {installed} is outside {wanted}: check web.realtime.internals"


def test_a_connection_closes_at_once_without_waiting_for_its_poll(make_app: Any) -> None:
    app = make_app()
    server = socketio_of(app).server
    http = app.test_client()
    answer = http.get("/socket.io/?EIO=4&transport=polling", headers={"X-Mark": "this one"})
    eio_sid = answer.get_data(as_text=True).split('"sid":"')[1].split('"')[0]
    assert http.post(f"/socket.io/?EIO=4&transport=polling&sid={eio_sid}", data=b"40").status_code == 200
    sock = server.eio.sockets[eio_sid]
    assert isinstance(sock, engineio.socket.Socket) and sock.queue.empty() is False  # the connect answer waits
    assert "wait" in inspect.signature(engineio.socket.Socket.close).parameters
    assert internals.eio_sid_where(server, lambda env: env.get("HTTP_X_MARK") == "this one") == eio_sid
    internals.close_now(server, eio_sid)  # returns although nobody polls
    assert sock.closed
    internals.close_now(server, "no-such-connection")


def test_rooms_leaves_what_the_library_leaves() -> None:
    """The same connects, rooms and disconnects through the library's manager and ``Rooms``
    leave the same bookkeeping (the names ``Rooms.basic_disconnect`` keeps)."""
    left = []
    for m in (socketio.Manager(), internals.Rooms()):
        m.set_server(socketio.Server(async_mode="threading"))
        m.initialize()
        a, b = m.connect("eio-a", "/"), m.connect("eio-b", "/")
        for sid in (a, b):
            m.enter_room(sid, "/", "s:ABC234")
        m.enter_room(a, "/", "seat:ABC234:1:retailer")
        m.callbacks.setdefault(a, {})[1] = print
        m.pending_disconnect.setdefault("/", []).append(a)
        m.disconnect(a, "/")
        names = {a: "a", b: "b"}
        rooms = {ns: {names.get(r, r): sorted(m.rooms[ns][r].values()) for r in m.rooms[ns]} for ns in m.rooms}
        left.append((rooms, set(m.callbacks), m.pending_connect, m.pending_disconnect))
    library, ours = left
    assert ours == library
    assert library[0] == {"/": {None: ["eio-b"], "b": ["eio-b"], "s:ABC234": ["eio-b"]}}


@pytest.mark.redis
def test_the_store_connection_reads_what_redis_py_has(redis_url: str) -> None:
    """``web.store.connection.Connection`` reads redis-py's socket and hiredis's buffer: with
    nothing waiting it answers from the operating system, and with a reply waiting it says so."""
    client = redis.Redis.from_url(redis_url, connection_class=connection.Connection)
    assert client.ping()
    conn = client.connection_pool.get_connection()
    try:
        assert conn._sock is not None and hasattr(conn._parser, "_reader")
        assert hasattr(conn._parser._reader, "has_data")
        assert conn.can_read() is False
        conn.send_command("PING")
        deadline = time.monotonic() + 5
        while not conn.can_read() and time.monotonic() < deadline:
            time.sleep(0.01)
        assert conn.can_read() is True
        assert conn.read_response() in (b"PONG", "PONG", True)
        assert conn.can_read() is False
    finally:
        client.connection_pool.release(conn)
        client.close()
