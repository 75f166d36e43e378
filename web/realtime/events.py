"""Socket.IO events: validate, act through ``web.play.rounds``/``web.play.sessions``, tell the clients.

Rooms: ``s:{code}`` everyone in a session, ``p:{code}`` its players, ``f:{code}`` its
facilitators, ``w:{code}`` its projectors, ``seat:{code}:{n}:{role}`` the connections of one seat.
The broadcaster (what a change sends to whom) is ``web.realtime.broadcast``.
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

from flask_socketio import SocketIO

from web import payloads
from web.errors import GameError, bad
from web.play import rounds, sessions
from web.realtime import frames
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


def refusal(exc: BaseException, event: str, hub: Hub) -> dict[str, str]:
    """The error object an event that raised ``exc`` is answered with."""
    if isinstance(exc, GameError):
        return exc.to_dict()
    if isinstance(exc, STORE_DOWN):
        return hub.outage.failed(exc).to_dict()
    log.exception("event %s failed", event)  # a bug: the one traceback we want to see
    return GameError("internal", "the server could not handle this event").to_dict()


Handler = Callable[["Hub", str, dict[str, Any]], dict[str, Any]]  # (hub, sid, checked payload) -> ack fields


def _rooms(ident: Identity) -> list[str]:
    """The rooms of a connection with identity ``ident``."""
    out = [f"s:{ident.code}"]
    if ident.kind == "player":
        out += [f"p:{ident.code}", f"seat:{ident.code}:{ident.team}:{ident.role}"]
    elif ident.kind == "facilitator":
        out.append(f"f:{ident.code}")
    else:
        out.append(f"w:{ident.code}")
    return out


def _take(hub: Hub, sid: str, ident: Identity) -> None:
    """Make ``ident`` this connection's one identity, in exactly its rooms."""
    server = hub.socketio.server
    old = hub.connections.set(sid, ident)
    for room in _rooms(old) if old else []:
        server.leave_room(sid, room)
    for room in _rooms(ident):
        server.enter_room(sid, room)


def _player(hub: Hub, sid: str) -> Identity:
    ident = hub.connections.get(sid)
    if not ident or ident.kind != "player":
        raise GameError("not_joined", "join or resume a seat first")
    return ident


def _facilitator(hub: Hub, sid: str) -> Identity:
    ident = hub.connections.get(sid)
    if not ident or ident.kind != "facilitator":
        raise GameError("forbidden", "only the facilitator may do this (send facilitate first)")
    return ident


def _placed(hub: Hub, seat: dict[str, Any]) -> dict[str, Any]:
    """A seat's ack: where it is, and with several processes the team's ``route``
    (a client that connects again with ``?team=<route>`` is placed by the proxy on one
    process with its teammates; see docs/DEPLOY.md)."""
    ack = {"code": seat["code"], "team": seat["team"], "role": seat["role"]}
    if hub.cfg["MESSAGE_QUEUE"]:
        ack["route"] = f"{seat['code']}-{seat['team']}"
    return ack


def on_join(hub: Hub, sid: str, data: dict[str, Any]) -> dict[str, Any]:
    seat = sessions.join(hub.store, hub.cfg, data, hub.clock())
    ident = Identity("player", seat["code"], seat["team"], seat["role"])
    _take(hub, sid, ident)
    hub.publish(rounds.Changes(seats={(ident.code, ident.team)}))  # the seat's state, to this connection too
    return {"token": seat["token"], **_placed(hub, seat), "shared": seat["shared"]}


def on_resume(hub: Hub, sid: str, data: dict[str, Any]) -> dict[str, Any]:
    seat = sessions.resume(hub.store, hub.cfg, data, hub.clock())
    ident = Identity("player", seat["code"], seat["team"], seat["role"])
    _take(hub, sid, ident)
    if seat["reclaimed"]:
        hub.publish(rounds.Changes(seats={(ident.code, ident.team)}))
    else:
        meta = sessions.load_meta(hub.store, ident.code)
        hub.socketio.emit("state", hub.views.player_state(meta, ident.team, ident.role), to=sid)
        hub.broadcaster.dashboard(ident.code)  # connected again
    return _placed(hub, seat)


def on_submit(hub: Hub, sid: str, data: dict[str, Any]) -> dict[str, Any]:
    """A decision: down the pipeline of ``web.play.rounds``, then to the clients."""
    ident = _player(hub, sid)
    changes = rounds.submit(hub.store, hub.cfg, ident.code, ident.team, ident.role, data, hub.clock())
    hub.publish(changes, keep_public=True)
    mine = changes.mine[(ident.code, ident.team, ident.role)]
    hub.broadcaster.to_seat(ident.code, ident.team, ident.role, "decision", mine)  # the seat's other tabs
    return dict(mine)


def on_choose_codp(hub: Hub, sid: str, data: dict[str, Any]) -> dict[str, Any]:
    ident = _player(hub, sid)
    hub.publish(rounds.choose_codp(hub.store, ident.code, ident.team, data["position"], role=ident.role))
    return {}


def on_choose_deal(hub: Hub, sid: str, data: dict[str, Any]) -> dict[str, Any]:
    ident = _player(hub, sid)
    hub.publish(rounds.choose_deal(hub.store, ident.code, ident.team, data["deal"], role=ident.role))
    return {}


def on_choose_shop(hub: Hub, sid: str, data: dict[str, Any]) -> dict[str, Any]:
    ident = _player(hub, sid)
    hub.publish(rounds.choose_codp(hub.store, ident.code, ident.team, shop=data["mode"], role=ident.role))
    return {}


def on_facilitate(hub: Hub, sid: str, data: dict[str, Any]) -> dict[str, Any]:
    meta = sessions.load_meta(hub.store, data["code"])
    sessions.check_facilitator(meta, data["secret"])
    _take(hub, sid, Identity("facilitator", meta.code))
    hub.socketio.emit("dashboard", hub.views.dashboard(meta, online_since=hub.online_since()), to=sid)
    return {"code": meta.code}


def on_control(hub: Hub, sid: str, data: dict[str, Any]) -> dict[str, Any]:
    ident = _facilitator(hub, sid)
    hub.publish(rounds.control(hub.store, hub.cfg, ident.code, data, hub.clock()))
    return {}


def on_inspect(hub: Hub, sid: str, data: dict[str, Any]) -> dict[str, Any]:
    ident = _facilitator(hub, sid)
    meta = sessions.load_meta(hub.store, ident.code)
    team = meta.team_arg(data["team"])
    return {"team": hub.views.team_detail(meta, team, online_since=hub.online_since())}


def on_watch(hub: Hub, sid: str, data: dict[str, Any]) -> dict[str, Any]:
    meta = sessions.load_meta(hub.store, data["code"])
    _take(hub, sid, Identity("watcher", meta.code))
    hub.socketio.emit("leaderboard", hub.views.leaderboard(meta), to=sid)
    return {"code": meta.code}


# every event a client may send (``web.payloads.EVENTS`` has the same names and their payloads)
HANDLERS: dict[str, Handler] = {
    "join": on_join,
    "resume": on_resume,
    "submit": on_submit,
    "choose_codp": on_choose_codp,
    "choose_deal": on_choose_deal,
    "choose_shop": on_choose_shop,
    "facilitate": on_facilitate,
    "control": on_control,
    "inspect": on_inspect,
    "watch": on_watch,
}


def _answer(hub: Hub, sid: str, event: str, err: dict[str, str]) -> dict[str, Any]:
    """A refusal: the ``error`` event to the connection, and the ack."""
    hub.socketio.emit("error", {**err, "event": event}, to=sid)
    return {"ok": False, "error": err}


def _checked(hub: Hub, event: str, handler: Handler) -> Callable[..., dict[str, Any]]:
    """``handler`` as python-socketio calls it: rate limit, the one shape check of the payload
    (``web.payloads``), errors to ack + ``error`` event."""
    spec = payloads.EVENTS[event]

    def run(sid: str, *args: Any) -> dict[str, Any]:
        try:
            if not hub.connections.allow(sid, time.monotonic(), int(hub.cfg["RATE_LIMIT_PER_SECOND"])):
                raise GameError("rate_limited", "too many events, slow down")
            if len(args) != 1 or args[0] is None:
                raise bad(f"{event} takes one payload object: {payloads.shape(spec)}")
            try:
                size = len(json.dumps(args[0]))
            except (TypeError, ValueError, RecursionError):
                raise bad("the payload must be JSON") from None
            if size > MAX_PAYLOAD_CHARS:
                raise bad(f"the payload is too large (at most {MAX_PAYLOAD_CHARS} characters)")
            return {"ok": True, **handler(hub, sid, payloads.check_event(args[0], event))}
        except Exception as exc:  # never leak a traceback, never leave a client without an answer
            return _answer(hub, sid, event, refusal(exc, event, hub))

    run.__name__ = f"on_{event}"
    return run


def _on_disconnect(hub: Hub, sid: str) -> None:
    ident = hub.connections.drop(sid)
    if ident and ident.kind == "player":
        seat = (ident.team, ident.role)
        still = hub.connections.holds(ident.code, seat)  # another tab of this process holds it
        try:
            hub.store.mark_seen(ident.code, [seat], hub.clock(), closed=not still)
            hub.broadcaster.dashboard(ident.code)
        except STORE_DOWN as exc:
            hub.outage.failed(exc)


def _on_unknown(hub: Hub, event: Any, sid: str) -> dict[str, Any]:
    name = str(event)[:40]
    if not hub.connections.allow(sid, time.monotonic(), int(hub.cfg["RATE_LIMIT_PER_SECOND"])):
        return _answer(hub, sid, name, GameError("rate_limited", "too many events, slow down").to_dict())
    return _answer(hub, sid, name, bad(f"unknown event {name!r}; see the protocol for the events").to_dict())


def register(socketio: SocketIO, hub: Hub) -> None:
    """Attach every handler of ``HANDLERS`` to ``socketio``'s python-socketio server. The
    handlers need no Flask request (they read nothing of one): registered there rather than
    through Flask-SocketIO, an event costs no request context, URL match or session."""
    server = socketio.server
    frames.guard(server)
    for event, handler in HANDLERS.items():
        server.on(event, _checked(hub, event, handler))
    server.on("disconnect", lambda sid, *_: _on_disconnect(hub, sid))
    server.on("*", lambda event, sid, *_: _on_unknown(hub, event, sid))
