"""The transport's door: what Engine.IO would hang on, or answer with a traceback in the log,
is handled here, a WSGI middleware in front of the Socket.IO server (docs/PROTOCOL.md, *Sizes*).

- A long-polling POST over ``MAX_FRAME_BYTES`` (or of unknown length) is answered ``400`` at
  once and its HTTP connection closed; the Engine.IO connection is closed too. (The library
  would close it and wait for a poll that never comes: the request hung for good.)
- The packets of a polling POST are checked before the library decodes them: a body that is
  not UTF-8 or holds more packets than the library takes is answered ``400``; an empty packet,
  or one of a type the library does not take from a client (it would close the connection
  and wait, as above), is left out and answered with the ``error`` event ``MALFORMED`` (the
  rest of the body goes through, the connection stays open).
- A WebSocket message the library cannot decode (an empty one, one that starts with no packet
  type) ends the library's WebSocket loop with an exception: it is logged in one line, the
  client gets the ``error`` event and Engine.IO's close packet, and the connection closes.

The byte limit of a WebSocket message (the library counts characters) is checked in
``web.realtime.events.guard_frames``, where the message's text arrives.
"""

from __future__ import annotations

import io
import logging
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import parse_qs

import socketio
from engineio.payload import Payload

log = logging.getLogger(__name__)

MAX_FRAME_BYTES = 65_536  # a WebSocket message or a long-polling POST body (docs/PROTOCOL.md)
DRAIN_BYTES = 1 << 20  # an oversized POST body up to this size is read (and dropped) before the answer
CLIENT_PACKETS = frozenset("1345")  # what the library takes from a client: close, pong, message, upgrade
FLUSH_SECONDS = 2.0  # at most this long for a closing WebSocket's last packets to go out
MARK = "beergame.frames"
MALFORMED = {"code": "bad_request", "message": "malformed Socket.IO frame", "event": None}

Environ = dict[str, Any]
StartResponse = Callable[..., Any]
App = Callable[[Environ, StartResponse], Iterable[bytes]]


class Once:
    """Remembers which connections were already logged about (so a flood logs one line each)."""

    def __init__(self, most: int = 10_000) -> None:
        self._seen: set[str] = set()
        self._lock = threading.Lock()
        self._most = most

    def first(self, key: str) -> bool:
        with self._lock:
            if key in self._seen:
                return False
            if len(self._seen) >= self._most:
                self._seen.clear()
            self._seen.add(key)
            return True

    def forget(self, key: str) -> None:
        with self._lock:
            self._seen.discard(key)


def over_limit(data: Any) -> bool:
    """Whether the WebSocket message that carried an Engine.IO message packet with ``data``
    (the packet type's one byte plus the data in UTF-8) was over ``MAX_FRAME_BYTES``."""
    if isinstance(data, bytes | bytearray):
        return len(data) > MAX_FRAME_BYTES
    if not isinstance(data, str) or 4 * len(data) < MAX_FRAME_BYTES:  # too short to be over it
        return False
    return 1 + len(data.encode("utf-8", "surrogatepass")) > MAX_FRAME_BYTES


def close_connection(server: socketio.Server, eio_sid: str | None, error: bool = True) -> None:
    """Send the ``error`` event ``MALFORMED`` (``error``) and close Engine.IO connection
    ``eio_sid`` without waiting for the client to collect its close packet."""
    if not eio_sid:
        return
    if error:
        tell(server, eio_sid)
    sock = server.eio.sockets.get(eio_sid)
    if sock is not None:
        sock.close(wait=False)


def tell(server: socketio.Server, eio_sid: str) -> None:
    """The ``error`` event ``MALFORMED`` to the Socket.IO connection of ``eio_sid``."""
    sid = server.manager.sid_from_eio_sid(eio_sid, "/")
    if sid:
        server.emit("error", MALFORMED, to=sid)


class FrameGuard:
    """WSGI middleware for the Socket.IO path (see the module's docstring)."""

    def __init__(self, app: App, server: socketio.Server, path: str = "/socket.io") -> None:
        self.app = app
        self.server = server
        self.path = path
        self.logged = Once()

    def __call__(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        if not environ.get("PATH_INFO", "").startswith(self.path):
            return self.app(environ, start_response)
        if environ.get("REQUEST_METHOD") == "POST":
            return self._post(environ, start_response)
        if environ.get("HTTP_UPGRADE", "").lower() == "websocket":
            return self._websocket(environ, start_response)
        return self.app(environ, start_response)

    def _log(self, eio_sid: str | None, what: str) -> None:
        if self.logged.first(eio_sid or "?"):
            log.warning("%s from %s; later ones from it are not logged", what, eio_sid or "a new connection")

    def _post(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        eio_sid = _query(environ, "sid")
        length = _length(environ)
        if length is None or length > MAX_FRAME_BYTES:
            if length is not None and length <= DRAIN_BYTES:
                _drain(environ["wsgi.input"], length)
            self._log(eio_sid, f"a long-polling POST over {MAX_FRAME_BYTES} bytes ({length})")
            close_connection(self.server, eio_sid, error=False)
            return _refuse(start_response, f"a frame is at most {MAX_FRAME_BYTES} bytes")
        body = environ["wsgi.input"].read(length) if length else b""
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            return _refuse(start_response, "a frame must be UTF-8 text")
        packets = text.split("\x1e") if text else []
        if len(packets) > Payload.max_decode_packets:
            return _refuse(start_response, f"at most {Payload.max_decode_packets} packets in one POST")
        kept = [p for p in packets if p[:1] in CLIENT_PACKETS]
        if len(kept) < len(packets):
            self._log(eio_sid, "an empty or unknown Engine.IO packet")
            if eio_sid:
                tell(self.server, eio_sid)
        body = "\x1e".join(kept).encode("utf-8")
        environ["wsgi.input"] = io.BytesIO(body)
        environ["CONTENT_LENGTH"] = str(len(body))
        return self.app(environ, start_response)

    def _websocket(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        mark = environ[MARK] = object()  # finds the connection's id (the environ is copied on the way)
        try:
            return self.app(environ, start_response)
        except (ValueError, IndexError, TypeError) as exc:  # the library could not decode a message
            eio_sid = _query(environ, "sid") or self._eio_sid(mark)
            self._log(eio_sid, f"a WebSocket message that is no Engine.IO packet ({type(exc).__name__}: {exc})")
            sock = self.server.eio.sockets.get(eio_sid) if eio_sid else None
            close_connection(self.server, eio_sid)
            end = time.monotonic() + FLUSH_SECONDS
            while sock is not None and not sock.queue.empty() and time.monotonic() < end:
                self.server.sleep(0.01)  # the error event and the close packet go out first
        # the WebSocket owned the connection: tell the WSGI server so, as simple-websocket does
        if "gunicorn.socket" in environ:
            raise StopIteration
        if "werkzeug.socket" in environ:
            raise ConnectionError
        return []

    def _eio_sid(self, mark: object) -> str | None:
        """The Engine.IO id of a connection that began as a WebSocket (its environ is kept)."""
        for eio_sid, env in list(self.server.environ.items()):
            if env.get(MARK) is mark:
                return eio_sid
        return None


def _query(environ: Environ, key: str) -> str | None:
    values = parse_qs(environ.get("QUERY_STRING", "")).get(key)
    return values[0] if values else None


def _length(environ: Environ) -> int | None:
    """The body's declared length (0 when none is declared and none is sent in chunks)."""
    raw = environ.get("CONTENT_LENGTH") or ""
    if not raw:
        return None if "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower() else 0
    try:
        length = int(raw)
    except ValueError:
        return None
    return length if length >= 0 else None


def _drain(stream: Any, length: int) -> None:
    while length > 0:
        chunk = stream.read(min(length, 65_536))
        if not chunk:
            return
        length -= len(chunk)


def _refuse(start_response: StartResponse, message: str) -> list[bytes]:
    body = message.encode("utf-8")
    headers = [
        ("Content-Type", "text/plain; charset=utf-8"),
        ("Content-Length", str(len(body))),
        ("Connection", "close"),
    ]
    start_response("400 BAD REQUEST", headers)
    return [body]
