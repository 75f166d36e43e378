"""Socket.IO events: validate, act through ``web.rounds``/``web.sessions``, tell the clients.

Rooms: ``s:{code}`` everyone in a session, ``p:{code}`` its players, ``f:{code}`` its
facilitators, ``w:{code}`` its projectors, ``seat:{code}:{n}:{role}`` the connections of one seat.
The broadcaster (what a change sends to whom) is ``web.broadcast``.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import socketio
from flask_socketio import SocketIO
from socketio import packet as sio_packet

from web import payloads, rounds, sessions, views, wire
from web.errors import GameError, bad
from web.frames import MALFORMED, MAX_FRAME_BYTES, close_connection, over_limit
from web.store import STORE_DOWN

if TYPE_CHECKING:
    from web.app import Hub

log = logging.getLogger(__name__)

MAX_PAYLOAD_CHARS = 2000


@dataclass(frozen=True)
class Identity:
    """Who a connection is: a player in a seat, a facilitator or a projector."""

    kind: str  # "player" | "facilitator" | "watcher"
    code: str
    team: int = 0
    role: str = ""


class Connections:
    """This process's connections and what they hold (thread-safe), with the
    connections per seat counted so that what a seat still holds is found at once."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._who: dict[str, Identity] = {}
        self._rate: dict[str, deque[float]] = {}  # sid -> when its last events were let through
        self._seats: dict[str, dict[tuple[int, str], int]] = {}  # code -> seat -> connections

    def _count(self, ident: Identity | None, by: int) -> None:
        if ident is None or ident.kind != "player":
            return
        seats = self._seats.setdefault(ident.code, {})
        seat = (ident.team, ident.role)
        seats[seat] = seats.get(seat, 0) + by
        if seats[seat] <= 0:
            del seats[seat]
            if not seats:
                del self._seats[ident.code]

    def set(self, sid: str, ident: Identity) -> Identity | None:
        with self._lock:
            old = self._who.get(sid)
            self._who[sid] = ident
            self._count(old, -1)
            self._count(ident, 1)
            return old

    def get(self, sid: str) -> Identity | None:
        with self._lock:
            return self._who.get(sid)

    def drop(self, sid: str) -> Identity | None:
        with self._lock:
            self._rate.pop(sid, None)
            ident = self._who.pop(sid, None)
            self._count(ident, -1)
            return ident

    def held(self) -> dict[str, list[tuple[int, str]]]:
        """Seats held by live connections, per session code."""
        with self._lock:
            return {code: list(seats) for code, seats in self._seats.items()}

    def holds(self, code: str, seat: tuple[int, str]) -> bool:
        """Whether a live connection of this process holds ``seat`` of session ``code``."""
        with self._lock:
            return seat in self._seats.get(code, {})

    def allow(self, sid: str, now: float, per_second: int) -> bool:
        """A sliding one-second window per connection: an event is let through when fewer than
        ``per_second`` of the connection's events were let through in the second before
        ``now`` (so no second, wherever it starts, holds more). Refused events do not count."""
        with self._lock:
            if per_second <= 0:
                return False
            times = self._rate.get(sid)
            if times is None or times.maxlen != per_second:
                times = self._rate[sid] = deque(maxlen=per_second)
            if len(times) == times.maxlen and now - times[0] < 1.0:
                return False
            times.append(now)
            return True


class Rooms(socketio.Manager):
    """python-socketio's in-process client manager, which also keeps the rooms of each
    client: a disconnect leaves those rooms directly, where the library's looks through
    every room of the process (each client has one of its own), so that a class of a
    thousand leaving cost a million look-ups."""

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


RESERVED_EVENTS = ("connect", "disconnect", "*")  # the library's own names, never a client's


def refusal(exc: BaseException, event: str, hub: Hub) -> dict[str, str]:
    """The error object an event that raised ``exc`` is answered with."""
    if isinstance(exc, GameError):
        return exc.to_dict()
    if isinstance(exc, STORE_DOWN):
        return hub.outage.failed(exc).to_dict()
    log.exception("event %s failed", event)  # a bug: the one traceback we want to see
    return GameError("internal", "the server could not handle this event").to_dict()


def guard_frames(socketio: SocketIO) -> None:
    """Refuse what python-socketio would mishandle before it reaches a handler.

    - An event named ``connect``, ``disconnect`` or ``*`` from a client would run the
      server's own handler of that name (a client could fake its own disconnect):
      it is answered with ``bad_request`` (ack and ``error``) and goes no further.
    - A frame the library cannot decode raises out of its message handler, which
      engine.io logs as a multi-line traceback each time: it is answered with an
      ``error`` event and logged in one line, once per connection.

    This wraps the server's two entry points (also where the test client calls them)."""
    server = socketio.server
    original_message = server._handle_eio_message
    original_event = server._handle_event
    original_disconnect = server._handle_eio_disconnect
    logged: set[str] = set()
    lock = threading.Lock()

    def on_event(eio_sid: str, namespace: str | None, ack_id: int | None, data: Any) -> None:
        name = data[0] if isinstance(data, list) and data else None
        if isinstance(name, str) and name not in RESERVED_EVENTS:
            original_event(eio_sid, namespace, ack_id, data)
            return
        ns = namespace or "/"
        sid = server.manager.sid_from_eio_sid(eio_sid, ns)
        if not sid or not server.manager.is_connected(sid, ns):
            return
        shown = name if isinstance(name, str) else None
        err = bad(f"{shown!r} is a reserved event name" if shown else "an event needs a name").to_dict()
        server.emit("error", {**err, "event": shown}, to=sid, namespace=ns)
        if ack_id is not None:
            ack = [{"ok": False, "error": err}]
            server._send_packet(eio_sid, server.packet_class(sio_packet.ACK, namespace=ns, id=ack_id, data=ack))

    def on_message(eio_sid: str, data: Any) -> None:
        if over_limit(data):
            log.warning("a frame over %d bytes from %s; connection closed", MAX_FRAME_BYTES, eio_sid)
            close_connection(server, eio_sid, error=False)
            return
        try:
            original_message(eio_sid, data)
        except Exception as exc:
            with lock:
                first = eio_sid not in logged
                logged.add(eio_sid)
            if first:
                log.warning(
                    "malformed Socket.IO frame from %s (%s: %.80s); later ones from it are not logged",
                    eio_sid,
                    type(exc).__name__,
                    exc,
                )
            sid = server.manager.sid_from_eio_sid(eio_sid, "/")
            if sid:
                message = str(exc) if isinstance(exc, wire.Refused) else MALFORMED["message"]
                server.emit("error", {**MALFORMED, "message": message}, to=sid)

    def on_disconnect(eio_sid: str, *args: Any) -> None:
        with lock:
            logged.discard(eio_sid)
        original_disconnect(eio_sid, *args)

    server._handle_event = on_event  # type: ignore[method-assign]
    server._handle_eio_message = on_message  # type: ignore[method-assign]
    server._handle_eio_disconnect = on_disconnect  # type: ignore[method-assign]
    server.eio.on("message", on_message)
    server.eio.on("disconnect", on_disconnect)


def register(socketio: SocketIO, hub: Hub) -> None:
    """Attach every event handler to ``socketio``'s python-socketio server. The handlers
    need no Flask request (they read nothing of one): registered there rather than
    through Flask-SocketIO, an event costs no request context, URL match or session."""
    conns = hub.connections
    server = socketio.server
    guard_frames(socketio)

    def answer(sid: str, event: str, err: dict[str, str]) -> dict[str, Any]:
        socketio.emit("error", {**err, "event": event}, to=sid)
        return {"ok": False, "error": err}

    def handler(event: str) -> Callable[[Callable[..., dict[str, Any]]], Callable[..., dict[str, Any]]]:
        """Wrap a handler: rate limit, payload checks, errors to ack + ``error`` event."""
        spec = payloads.EVENTS[event]

        def wrap(fn: Callable[..., dict[str, Any]]) -> Callable[..., dict[str, Any]]:
            def run(sid: str, *args: Any) -> dict[str, Any]:
                try:
                    if not conns.allow(sid, time.monotonic(), int(hub.cfg["RATE_LIMIT_PER_SECOND"])):
                        raise GameError("rate_limited", "too many events, slow down")
                    if len(args) != 1 or args[0] is None:
                        raise bad(f"{event} takes one payload object: {payloads.shape(spec)}")
                    try:
                        size = len(json.dumps(args[0]))
                    except (TypeError, ValueError, RecursionError):
                        raise bad("the payload must be JSON") from None
                    if size > MAX_PAYLOAD_CHARS:
                        raise bad(f"the payload is too large (at most {MAX_PAYLOAD_CHARS} characters)")
                    return {"ok": True, **fn(sid, payloads.check(args[0], spec, event))}
                except Exception as exc:  # never leak a traceback, never leave a client without an answer
                    return answer(sid, event, refusal(exc, event, hub))

            run.__name__ = f"on_{event}"
            server.on(event, run)
            return fn

        return wrap

    def rooms(ident: Identity) -> list[str]:
        out = [f"s:{ident.code}"]
        if ident.kind == "player":
            out += [f"p:{ident.code}", f"seat:{ident.code}:{ident.team}:{ident.role}"]
        elif ident.kind == "facilitator":
            out.append(f"f:{ident.code}")
        else:
            out.append(f"w:{ident.code}")
        return out

    def seat_rooms(sid: str, ident: Identity) -> None:
        """Make ``ident`` this connection's one identity, in exactly its rooms."""
        old = conns.set(sid, ident)
        for room in rooms(old) if old else []:
            server.leave_room(sid, room)
        for room in rooms(ident):
            server.enter_room(sid, room)

    def player(sid: str) -> Identity:
        ident = conns.get(sid)
        if not ident or ident.kind != "player":
            raise GameError("not_joined", "join or resume a seat first")
        return ident

    def send_state(sid: str, ident: Identity) -> None:
        meta = sessions.load_meta(hub.store, ident.code)
        socketio.emit("state", views.player_state(hub.store, meta, ident.team, ident.role), to=sid)

    def placed(seat: dict[str, Any]) -> dict[str, Any]:
        """A seat's ack: where it is, and with several processes the team's ``route``
        (a client that connects again with ``?team=<route>`` is placed by the proxy on one
        process with its teammates; see docs/DEPLOY.md)."""
        ack = {"code": seat["code"], "team": seat["team"], "role": seat["role"]}
        if hub.relay is not None:
            ack["route"] = f"{seat['code']}-{seat['team']}"
        return ack

    @handler("join")
    def on_join(sid: str, data: dict[str, Any]) -> dict[str, Any]:
        seat = sessions.join(hub.store, hub.cfg, data, hub.clock())
        ident = Identity("player", seat["code"], seat["team"], seat["role"])
        seat_rooms(sid, ident)
        hub.publish(rounds.Changes(seats={(ident.code, ident.team)}))  # the seat's state, to this connection too
        return {"token": seat["token"], **placed(seat), "shared": seat["shared"]}

    @handler("resume")
    def on_resume(sid: str, data: dict[str, Any]) -> dict[str, Any]:
        seat = sessions.resume(hub.store, hub.cfg, data, hub.clock())
        ident = Identity("player", seat["code"], seat["team"], seat["role"])
        seat_rooms(sid, ident)
        if seat["reclaimed"]:
            hub.publish(rounds.Changes(seats={(ident.code, ident.team)}))
        else:
            send_state(sid, ident)
            hub.broadcaster.dashboard(ident.code)  # connected again
        return placed(seat)

    @handler("submit")
    def on_submit(sid: str, data: dict[str, Any]) -> dict[str, Any]:
        ident = player(sid)
        changes = rounds.submit(hub.store, hub.cfg, ident.code, ident.team, ident.role, data, hub.clock())
        hub.publish(changes, keep_public=True)
        mine = changes.mine[(ident.code, ident.team, ident.role)]
        hub.broadcaster.to_seat(ident.code, ident.team, ident.role, "decision", mine)  # the seat's other tabs
        return dict(mine)

    @handler("choose_codp")
    def on_choose_codp(sid: str, data: dict[str, Any]) -> dict[str, Any]:
        ident = player(sid)
        hub.publish(rounds.choose_codp(hub.store, hub.cfg, ident.code, ident.team, data["position"], role=ident.role))
        return {}

    @handler("choose_deal")
    def on_choose_deal(sid: str, data: dict[str, Any]) -> dict[str, Any]:
        ident = player(sid)
        hub.publish(rounds.choose_deal(hub.store, ident.code, ident.team, data["deal"], role=ident.role))
        return {}

    @handler("choose_shop")
    def on_choose_shop(sid: str, data: dict[str, Any]) -> dict[str, Any]:
        ident = player(sid)
        hub.publish(rounds.choose_codp(hub.store, hub.cfg, ident.code, ident.team, shop=data["mode"], role=ident.role))
        return {}

    @handler("facilitate")
    def on_facilitate(sid: str, data: dict[str, Any]) -> dict[str, Any]:
        meta = sessions.load_meta(hub.store, data["code"])
        sessions.check_facilitator(meta, data["secret"])
        seat_rooms(sid, Identity("facilitator", meta.code))
        socketio.emit("dashboard", views.dashboard(hub.store, meta, online_since=hub.online_since()), to=sid)
        return {"code": meta.code}

    @handler("control")
    def on_control(sid: str, data: dict[str, Any]) -> dict[str, Any]:
        ident = conns.get(sid)
        if not ident or ident.kind != "facilitator":
            raise GameError("forbidden", "only the facilitator may do this (send facilitate first)")
        hub.publish(rounds.control(hub.store, hub.cfg, ident.code, data, hub.clock()))
        return {}

    @handler("inspect")
    def on_inspect(sid: str, data: dict[str, Any]) -> dict[str, Any]:
        ident = conns.get(sid)
        if not ident or ident.kind != "facilitator":
            raise GameError("forbidden", "only the facilitator may do this (send facilitate first)")
        meta = sessions.load_meta(hub.store, ident.code)
        team = data["team"]
        if not 1 <= team <= meta.teams:
            raise bad(f"team must be a number from 1 to {meta.teams}")
        return {"team": views.team_detail(hub.store, meta, team, online_since=hub.online_since())}

    @handler("watch")
    def on_watch(sid: str, data: dict[str, Any]) -> dict[str, Any]:
        meta = sessions.load_meta(hub.store, data["code"])
        seat_rooms(sid, Identity("watcher", meta.code))
        socketio.emit("leaderboard", views.leaderboard(hub.store, meta), to=sid)
        return {"code": meta.code}

    def on_disconnect(sid: str, *_: Any) -> None:
        ident = conns.drop(sid)
        if ident and ident.kind == "player":
            seat = (ident.team, ident.role)
            still = conns.holds(ident.code, seat)  # another tab of this process holds it
            try:
                hub.store.mark_seen(ident.code, [seat], hub.clock(), closed=not still)
                hub.broadcaster.dashboard(ident.code)
            except STORE_DOWN as exc:
                hub.outage.failed(exc)

    def on_unknown(event: Any, sid: str, *_: Any) -> dict[str, Any]:
        name = str(event)[:40]
        if not conns.allow(sid, time.monotonic(), int(hub.cfg["RATE_LIMIT_PER_SECOND"])):
            return answer(sid, name, GameError("rate_limited", "too many events, slow down").to_dict())
        return answer(sid, name, bad(f"unknown event {name!r}; see the protocol for the events").to_dict())

    server.on("disconnect", on_disconnect)
    server.on("*", on_unknown)
