"""The transport's door: what Engine.IO would hang on, or answer with a traceback in the log,
is handled here, a WSGI middleware in front of the Socket.IO server (docs/PROTOCOL.md, *Sizes*).

- A long-polling POST over ``MAX_FRAME_BYTES`` (or of unknown length) is answered ``400`` at
  once and its HTTP connection closed; the Engine.IO connection is closed too. (The library
  would close it and wait for a poll that never comes: the request hung for good.)
- The packets of a polling POST are checked before the library decodes them: a body that is
  not UTF-8 or holds more packets than the library takes is answered ``400``; an empty packet,
  or one of a type the library does not take from a client (it would close the connection
  and wait, as above), is left out and answered with the ``error`` event ``MALFORMED`` (the
  rest of the body goes through, the connection stays open). Packets after a close packet are
  left out (the library would hand them to a connection it has just ended).
- A WebSocket message the library cannot decode (an empty one, one that starts with no packet
  type) ends the library's WebSocket loop with an exception: it is logged in one line, the
  client gets the ``error`` event and Engine.IO's close packet, and the connection closes.

Behind it, ``Packet`` (python-socketio's documented ``serializer`` hook: the packet class the
server decodes every message with) refuses what the library would mishandle before it reaches a
handler, as an event of its own (``REFUSED``) that ``guard`` answers:

- A WebSocket message over ``MAX_FRAME_BYTES`` (the library counts characters) closes the
  connection without an answer.
- A frame the library cannot decode, of a type a client does not send, or binary (the protocol
  is text) would raise out of the library's message handler, which engine.io logs as a
  multi-line traceback each time: it is answered with an ``error`` event and logged in one line,
  once per connection.
- An event named ``connect``, ``disconnect`` or ``*``, or with no name, would run the server's
  own handler of that name (a client could fake its own disconnect): it is answered with
  ``bad_request`` (ack and ``error``) and goes no further.

What has no public hook (closing a connection without waiting for its last poll, finding a
connection from its environ) is in ``web.realtime.internals``.
"""

from __future__ import annotations

import io
import logging
import threading
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import parse_qs

import socketio
from engineio.payload import Payload
from socketio import packet as sio_packet

from web import wire
from web.errors import bad
from web.realtime.internals import close_now, eio_sid_where

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


def over_limit(data: Any) -> bool:
    """Whether the WebSocket message that carried an Engine.IO message packet with ``data``
    (the packet type's one byte plus the data in UTF-8) was over ``MAX_FRAME_BYTES``."""
    if isinstance(data, bytes | bytearray):
        return len(data) > MAX_FRAME_BYTES
    if not isinstance(data, str) or 4 * len(data) < MAX_FRAME_BYTES:  # too short to be over it
        return False
    return 1 + len(data.encode("utf-8", "surrogatepass")) > MAX_FRAME_BYTES


def close_connection(server: socketio.Server, eio_sid: str | None, error: bool = True, flush: float = 0.0) -> None:
    """Send the ``error`` event ``MALFORMED`` (``error``) and close Engine.IO connection
    ``eio_sid`` without waiting for the client to collect its close packet (waiting up to
    ``flush`` seconds for the last packets to go out)."""
    if not eio_sid:
        return
    if error:
        tell(server, eio_sid)
    close_now(server, eio_sid, flush)


def tell(server: socketio.Server, eio_sid: str) -> None:
    """The ``error`` event ``MALFORMED`` to the Socket.IO connection of ``eio_sid``."""
    sid = server.manager.sid_from_eio_sid(eio_sid, "/")
    if sid:
        server.emit("error", MALFORMED, to=sid)


class _Refused:
    """The name of the event a refused frame becomes (no JSON decodes to it: no client sends it)."""

    def __repr__(self) -> str:
        return "<refused frame>"


REFUSED = _Refused()
RESERVED_EVENTS = ("connect", "disconnect", "*")  # the library's own names, never a client's
CLIENT_TYPES = frozenset({sio_packet.CONNECT, sio_packet.DISCONNECT, sio_packet.EVENT, sio_packet.ACK})


class Packet(sio_packet.Packet):
    """python-socketio's packet, decoded with the guard (see the module's docstring): a message
    it refuses becomes the event ``REFUSED`` with what happened, ``{"why": "too_large" |
    "malformed" | "reserved", "message", "event"}``, for ``guard``'s handler."""

    def __init__(self, *args: Any, encoded_packet: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, encoded_packet=encoded_packet, **kwargs)
        if encoded_packet is not None and not encoded_packet:  # the library decodes nothing: no event
            self._refuse("malformed", str(MALFORMED["message"]), "an empty message")

    def decode(self, encoded_packet: Any) -> int:
        if over_limit(encoded_packet):
            return self._refuse("too_large", f"a frame over {MAX_FRAME_BYTES} bytes")
        try:
            attachments = super().decode(encoded_packet)
        except Exception as exc:
            message = str(exc) if isinstance(exc, wire.Refused) else str(MALFORMED["message"])
            return self._refuse("malformed", message, f"{type(exc).__name__}: {exc}")
        if self.packet_type not in CLIENT_TYPES:
            return self._refuse("malformed", str(MALFORMED["message"]), f"packet type {self.packet_type!r}")
        if self.packet_type == sio_packet.EVENT:
            name = self.data[0] if isinstance(self.data, list) and self.data else None
            if not isinstance(name, str) or name in RESERVED_EVENTS:
                shown = name if isinstance(name, str) else None
                message = f"{shown!r} is a reserved event name" if shown else "an event needs a name"
                return self._refuse("reserved", message, event=shown, keep=True)
        return attachments

    def _refuse(self, why: str, message: str, detail: str = "", event: str | None = None, keep: bool = False) -> int:
        """Become the event ``REFUSED``; ``keep``: its namespace and ack id (else neither could be read)."""
        if not keep:
            self.namespace, self.id = None, None
        self.packet_type = sio_packet.EVENT
        self.data = [REFUSED, {"why": why, "message": message, "detail": detail, "event": event}]
        return 0


def guard(server: socketio.Server) -> None:
    """Answer the frames ``Packet`` refused (``server`` decodes with it: ``serializer=Packet``)."""
    if server.packet_class is not Packet:
        raise ValueError("the Socket.IO server must decode with frames.Packet (serializer=frames.Packet)")
    logged = Once()

    def on_refused(sid: str, what: dict[str, Any]) -> dict[str, Any] | None:
        why = what["why"]
        if why == "too_large":
            log.warning("a frame over %d bytes from %s; connection closed", MAX_FRAME_BYTES, sid)
            close_connection(server, server.manager.eio_sid_from_sid(sid, "/"), error=False)
            return None
        if why == "malformed":
            if logged.first(sid):
                log.warning(
                    "malformed Socket.IO frame from %s (%.120s); later ones from it are not logged", sid, what["detail"]
                )
            server.emit("error", {**MALFORMED, "message": what["message"]}, to=sid)
            return None
        err = bad(what["message"]).to_dict()
        server.emit("error", {**err, "event": what["event"]}, to=sid)
        return {"ok": False, "error": err}

    server.on(REFUSED, on_refused)


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
        closing = next((i for i, p in enumerate(kept) if p[:1] == "1"), None)
        if closing is not None:  # the library reads on after a close, into a connection it has ended
            kept = kept[: closing + 1]
        body = "\x1e".join(kept).encode("utf-8")
        environ["wsgi.input"] = io.BytesIO(body)
        environ["CONTENT_LENGTH"] = str(len(body))
        return self.app(environ, start_response)

    def _websocket(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        mark = environ[MARK] = object()  # finds the connection's id (the environ is copied on the way)
        try:
            return self.app(environ, start_response)
        except (ValueError, IndexError, TypeError) as exc:  # the library could not decode a message
            eio_sid = _query(environ, "sid") or eio_sid_where(self.server, lambda env: env.get(MARK) is mark)
            self._log(eio_sid, f"a WebSocket message that is no Engine.IO packet ({type(exc).__name__}: {exc})")
            close_connection(self.server, eio_sid, flush=FLUSH_SECONDS)  # the error event and close packet go out
        # the WebSocket owned the connection: tell the WSGI server so, as simple-websocket does
        if "gunicorn.socket" in environ:
            raise StopIteration
        if "werkzeug.socket" in environ:
            raise ConnectionError
        return []


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
