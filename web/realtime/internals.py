"""The one module that relies on python-socketio and python-engineio beyond their documented API.

Each use below has no public equivalent (docs/ARCHITECTURE.md, *What reaches a handler*):

- ``close_now``: ``engineio.Server.disconnect`` closes a connection and waits until its close
  packet is collected; over long-polling that poll may never come, and the request waiting on it
  hangs. Closing without the wait takes the socket (``Server.sockets``) and ``Socket.close(wait=False)``;
  waiting a bounded time for the last packets to go out reads ``Socket.queue``.
- ``eio_sid_where``: the Engine.IO id of a connection from its WSGI environ (python-socketio keeps
  the environs in ``Server.environ``; its public ``get_environ`` goes the other way).
- ``Rooms``: a client manager (the library's documented ``client_manager`` hook) whose disconnect
  leaves the client's own rooms, where the library's looks through every room of the process; it
  keeps the library's bookkeeping (``rooms``, ``callbacks``, ``pending_connect``,
  ``pending_disconnect``) as ``basic_disconnect`` does.

``tests/test_library_internals.py`` fails when the installed versions leave the ranges pinned in
``pyproject.toml`` or when a name used here disappears; the transport tests try the behaviour.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import socketio


def close_now(server: socketio.Server, eio_sid: str, flush_seconds: float = 0.0) -> None:
    """Close Engine.IO connection ``eio_sid`` without waiting for the client to collect its close
    packet; then wait up to ``flush_seconds`` for what was queued for it to go out."""
    sock = server.eio.sockets.get(eio_sid)
    if sock is None:
        return
    sock.close(wait=False)
    end = time.monotonic() + flush_seconds
    while not sock.queue.empty() and time.monotonic() < end:
        server.sleep(0.01)


def eio_sid_where(server: socketio.Server, match: Callable[[dict[str, Any]], bool]) -> str | None:
    """The Engine.IO id of the connection whose WSGI environ ``match``es."""
    for eio_sid, environ in list(server.environ.items()):
        if match(environ):
            return eio_sid
    return None


class Rooms(socketio.Manager):
    """python-socketio's in-process client manager, which also keeps the rooms of each client:
    a disconnect leaves those rooms directly (the library's looks through every room of the
    process, and each client has one of its own)."""

    def __init__(self) -> None:
        super().__init__()
        self._of: dict[tuple[str, str], set[Any]] = {}  # (namespace, sid) -> its rooms

    def basic_enter_room(self, sid: str, namespace: str, room: Any, eio_sid: str | None = None) -> None:
        super().basic_enter_room(sid, namespace, room, eio_sid=eio_sid)
        self._of.setdefault((namespace, sid), set()).add(room)

    def basic_leave_room(self, sid: str, namespace: str, room: Any) -> None:
        super().basic_leave_room(sid, namespace, room)
        rooms = self._of.get((namespace, sid))
        if rooms is not None:
            rooms.discard(room)

    def basic_disconnect(self, sid: str, namespace: str, **kwargs: Any) -> None:
        """The library's ``basic_disconnect``, over the client's own rooms."""
        rooms = self._of.pop((namespace, sid), set())
        if namespace not in self.rooms:
            return
        for room in rooms:
            super().basic_leave_room(sid, namespace, room)
        self.callbacks.pop(sid, None)
        for pending in (self.pending_connect, self.pending_disconnect):
            if sid in pending.get(namespace, ()):
                pending[namespace].remove(sid)
                if not pending[namespace]:
                    del pending[namespace]
