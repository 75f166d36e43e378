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
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from flask import request
from flask_socketio import SocketIO, join_room, leave_room

from web import rounds, sessions, views
from web.errors import GameError, bad

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
    """This process's connections and what they hold (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._who: dict[str, Identity] = {}
        self._rate: dict[str, tuple[float, int]] = {}

    def set(self, sid: str, ident: Identity) -> Identity | None:
        with self._lock:
            old = self._who.get(sid)
            self._who[sid] = ident
            return old

    def get(self, sid: str) -> Identity | None:
        with self._lock:
            return self._who.get(sid)

    def drop(self, sid: str) -> Identity | None:
        with self._lock:
            self._rate.pop(sid, None)
            return self._who.pop(sid, None)

    def held(self) -> dict[str, list[tuple[int, str]]]:
        """Seats held by live connections, per session code."""
        out: dict[str, list[tuple[int, str]]] = {}
        with self._lock:
            for ident in self._who.values():
                if ident.kind == "player":
                    out.setdefault(ident.code, []).append((ident.team, ident.role))
        return out

    def allow(self, sid: str, now: float, per_second: int) -> bool:
        """A one-second window rate limit per connection."""
        with self._lock:
            start, count = self._rate.get(sid, (now, 0))
            if now - start >= 1.0:
                start, count = now, 0
            count += 1
            self._rate[sid] = (start, count)
            return count <= per_second


def register(socketio: SocketIO, hub: Hub) -> None:
    """Attach every event handler to ``socketio``."""
    conns = hub.connections

    def handler(event: str) -> Callable[[Callable[..., dict[str, Any]]], Callable[..., dict[str, Any]]]:
        """Wrap a handler: rate limit, payload checks, errors to ack + ``error`` event."""

        def wrap(fn: Callable[..., dict[str, Any]]) -> Callable[..., dict[str, Any]]:
            def run(data: Any = None, *extra: Any) -> dict[str, Any]:
                sid = request.sid  # type: ignore[attr-defined]
                try:
                    if not conns.allow(sid, time.monotonic(), int(hub.cfg["RATE_LIMIT_PER_SECOND"])):
                        raise GameError("rate_limited", "too many events, slow down")
                    if extra:
                        raise bad("send one payload object")
                    if data is None:
                        data = {}
                    if not isinstance(data, dict):
                        raise bad("the payload must be an object")
                    try:
                        size = len(json.dumps(data))
                    except (TypeError, ValueError):
                        raise bad("the payload must be JSON") from None
                    if size > MAX_PAYLOAD_CHARS:
                        raise bad("the payload is too large")
                    return {"ok": True, **fn(sid, data)}
                except GameError as exc:
                    err = exc.to_dict()
                except Exception:  # never leak a traceback, never leave a client without an answer
                    log.exception("event %s failed", event)
                    err = {"code": "bad_request", "message": "the server could not handle this event"}
                socketio.emit("error", {**err, "event": event}, to=sid)
                return {"ok": False, "error": err}

            run.__name__ = f"on_{event}"
            socketio.on_event(event, run)
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
            leave_room(room, sid=sid)
        for room in rooms(ident):
            join_room(room, sid=sid)

    def player(sid: str) -> Identity:
        ident = conns.get(sid)
        if not ident or ident.kind != "player":
            raise GameError("not_joined", "join or resume a seat first")
        return ident

    def send_state(sid: str, ident: Identity) -> None:
        meta = sessions.load_meta(hub.store, ident.code)
        socketio.emit("state", views.player_state(hub.store, meta, ident.team, ident.role), to=sid)

    @handler("join")
    def on_join(sid: str, data: dict[str, Any]) -> dict[str, Any]:
        seat = sessions.join(hub.store, hub.cfg, data, hub.clock())
        ident = Identity("player", seat["code"], seat["team"], seat["role"])
        seat_rooms(sid, ident)
        send_state(sid, ident)
        hub.publish(rounds.Changes(seats={(ident.code, ident.team)}))
        return {"token": seat["token"], "code": seat["code"], "team": seat["team"], "role": seat["role"]}

    @handler("resume")
    def on_resume(sid: str, data: dict[str, Any]) -> dict[str, Any]:
        if set(data) - {"token"}:
            raise bad('resume needs {"token"}')
        seat = sessions.resume(hub.store, hub.cfg, data, hub.clock())
        ident = Identity("player", seat["code"], seat["team"], seat["role"])
        seat_rooms(sid, ident)
        send_state(sid, ident)
        if seat["reclaimed"]:
            hub.publish(rounds.Changes(seats={(ident.code, ident.team)}))
        return {"code": seat["code"], "team": seat["team"], "role": seat["role"]}

    @handler("submit")
    def on_submit(sid: str, data: dict[str, Any]) -> dict[str, Any]:
        ident = player(sid)
        changes = rounds.submit(hub.store, hub.cfg, ident.code, ident.team, ident.role, data, hub.clock())
        hub.publish(changes, keep_public=True)
        return {"week": data["week"]}

    @handler("choose_codp")
    def on_choose_codp(sid: str, data: dict[str, Any]) -> dict[str, Any]:
        ident = player(sid)
        if set(data) - {"position"}:
            raise bad('choose_codp needs {"position"}')
        hub.publish(rounds.choose_codp(hub.store, hub.cfg, ident.code, ident.team, data.get("position")))
        return {}

    @handler("facilitate")
    def on_facilitate(sid: str, data: dict[str, Any]) -> dict[str, Any]:
        if set(data) - {"code", "secret"}:
            raise bad('facilitate needs {"code", "secret"}')
        meta = sessions.load_meta(hub.store, data.get("code"))
        sessions.check_facilitator(meta, data.get("secret"))
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
        if set(data) - {"team"}:
            raise bad('inspect needs {"team": n}')
        meta = sessions.load_meta(hub.store, ident.code)
        team = data.get("team")
        if isinstance(team, bool) or not isinstance(team, int) or not 1 <= team <= meta.teams:
            raise bad(f"team must be a number from 1 to {meta.teams}")
        return {"team": views.team_detail(hub.store, meta, team)}

    @handler("watch")
    def on_watch(sid: str, data: dict[str, Any]) -> dict[str, Any]:
        if set(data) - {"code"}:
            raise bad('watch needs {"code"}')
        meta = sessions.load_meta(hub.store, data.get("code"))
        seat_rooms(sid, Identity("watcher", meta.code))
        socketio.emit("leaderboard", views.leaderboard(hub.store, meta), to=sid)
        return {"code": meta.code}

    @socketio.on("connect")
    def on_connect(auth: Any = None) -> None:
        return None

    @socketio.on("disconnect")
    def on_disconnect(*_: Any) -> None:
        ident = conns.drop(request.sid)  # type: ignore[attr-defined]
        if ident and ident.kind == "player":
            hub.store.mark_seen(ident.code, [(ident.team, ident.role)], hub.clock())
