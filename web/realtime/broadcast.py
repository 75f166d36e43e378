"""The broadcaster: sends each client what a change means for it.

Players get their ``state`` at once, built by the process that holds their
connection (``deliver`` runs for this process's changes and, through
``web.realtime.relay``, for the other processes'). The session-wide payloads go out at
most once per ``TICK_SECONDS`` per session (the first change at once, later ones
with the next ticker pass), built once by the ticker leader: the facilitators
get ``dashboard_update`` with the rows of the teams that changed; the players
``standings`` (every team's rank and the top of the table) and the projector the
whole ``leaderboard`` at most every ``STANDINGS_TICKS`` ticks. So the cost of an
event does not grow with the class.
"""

from __future__ import annotations

import threading
import time
from typing import TYPE_CHECKING, Any

from web import wire
from web.errors import GameError
from web.play import rounds, sessions, views
from web.realtime.relay import Announcement
from web.store import Presence

META_LIMIT = 1000  # sessions whose meta is kept (a tick at most)
STANDINGS_TICKS = 4  # standings and leaderboard go out at most once per this many ticks (2 s)

if TYPE_CHECKING:
    from web.app import Hub


class Broadcaster:
    """Per process: what went out when, and what is held back for the next tick."""

    def __init__(self, hub: Hub) -> None:
        self.hub = hub
        self._lock = threading.Lock()
        self._sent: dict[str, float] = {}  # code -> when its session update last went out
        self._rows: dict[str, set[int]] = {}  # code -> teams whose dashboard row is due
        self._board: set[str] = set()  # codes whose ranking may have moved
        self._online: dict[str, set[tuple[int, str]]] = {}  # code -> seats shown as connected
        self._metas: dict[str, tuple[float, sessions.SessionMeta]] = {}
        self._standings: dict[str, float] = {}  # code -> when the players' standings last went out
        self._standings_due: set[str] = set()

    def publish(self, changes: rounds.Changes, keep_public: bool = False) -> None:
        """Deliver ``changes`` here and announce them to the other processes.
        ``keep_public``: they come from a submission (the teams in ``seats`` but not
        in ``advanced`` only got a decision; the public session info stays)."""
        if not changes:
            return
        decided: dict[tuple[str, int], dict[str, Any]] = {}
        if keep_public:
            # read who decided once, here, for every process (the announcement carries it)
            only = {(c, n) for c, n in changes.seats - changes.advanced if c not in changes.sessions | changes.over}
            decided = {
                (c, n): changes.decided.get((c, n)) or self.hub.views.team_decided(c, n) for c, n in sorted(only)
            }
        note = Announcement(changes, keep_public, decided, set())
        shipped = self.deliver(note, origin=True)
        self.hub.transport.send(note._replace(shipped=shipped))

    def _meta(self, code: str, fresh: bool) -> sessions.SessionMeta | None:
        """The session's meta, read at most once per tick (``fresh``: read it now)."""
        now = time.monotonic()
        with self._lock:
            hit = self._metas.get(code)
        if hit is None or fresh or now - hit[0] >= self.hub.period():
            try:
                meta = sessions.load_meta(self.hub.store, code)
            except GameError:
                return None
            hit = (now, meta)
            with self._lock:
                if len(self._metas) > META_LIMIT:
                    self._metas.clear()
                self._metas[code] = hit
        return hit[1]

    def deliver(self, note: Announcement, origin: bool = False) -> set[tuple[str, int]]:
        """``state`` (or, for a teammate's decision, ``decided``) to this process's seats of
        the teams ``note`` names; the session-wide payloads when this process leads; the
        public info dropped (after decisions only, ``note.decision``, only when a team's week
        moved on). ``note.decided``: the ``decided`` payloads already read (by the announcing
        process); ``note.shipped``: teams whose states it sent along. ``origin``: the change
        was made here; with other processes, the states of the team's other seats are built
        here too and sent to them. Returns those teams."""
        hub, changes, keep_public = self.hub, note.changes, note.decision
        sent: set[tuple[str, int]] = set()
        teams_moved = changes.advanced if keep_public else changes.advanced | changes.seats
        moved = {c for c, _ in teams_moved} | changes.sessions | changes.over
        if moved:
            hub.public.drop(moved)
        renew = changes.sessions | changes.over

        def meta(code: str) -> sessions.SessionMeta | None:
            return self._meta(code, code in renew)

        rows = changes.advanced | changes.seats
        decided = changes.seats - changes.advanced if keep_public else set()
        teams = set(rows)
        for code in changes.sessions | changes.over:
            m = meta(code)
            if m:
                teams |= {(code, n) for n in m.team_numbers}
        for code, n in sorted(teams):
            m = meta(code)
            if m and self._deliver_team(note, m, n, (code, n) in decided, code in renew, origin):
                sent.add((code, n))
        if not hub.leads():
            return sent
        advanced = {c for c, _ in changes.advanced}
        for code in sorted({c for c, _ in teams} | changes.sessions):
            self._session_update(
                code,
                {n for c, n in rows if c == code},
                board=code in advanced or code in changes.sessions,
                force=code in changes.over,
            )
        for code in sorted(changes.over):
            m = meta(code)
            if m:
                over = wire.Raw.safe({"code": code, "ranking": hub.views.ranking(m)})
                self._emit_room("game_over", over, f"s:{code}")
        return sent

    def _deliver_team(
        self, note: Announcement, m: sessions.SessionMeta, n: int, only_decided: bool, whole: bool, origin: bool
    ) -> bool:
        """Team ``n``'s part of ``deliver``: ``decided`` (``only_decided``: a teammate's decision)
        or every seat's ``state`` to its connections here; where the change was made here
        (``origin``) every taken seat's state is built once and the ones of seats not held here
        go to the transport (True when some did). ``whole``: the session changed, every state is
        built afresh (by each process for its own seats)."""
        hub, code, changes = self.hub, m.code, note.changes
        manager = hub.socketio.server.manager
        rooms = {role: f"seat:{code}:{n}:{role}" for role in m.seats}
        here = {role for role, room in rooms.items() if next(manager.get_participants("/", room), None)}
        if only_decided and not whole:  # only a decision: the light update
            if here:
                hub.socketio.emit(
                    "decided",
                    note.decided.get((code, n)) or changes.decided.get((code, n)) or hub.views.team_decided(code, n),
                    to=[rooms[r] for r in sorted(here)],
                )
            return False
        if origin and not whole:  # every seat's state, built once
            states = hub.views.player_states(m, n, snap=changes.fresh.get((code, n)))
            for role in sorted(here & set(states)):
                hub.socketio.emit("state", states[role], to=rooms[role])
            others = {role: p.text for role, p in states.items() if role not in here}
            if others:
                hub.transport.send_states(code, n, others)
            return bool(others)
        if not here or ((code, n) in note.shipped and not whole):
            return False
        fresh = None if whole else changes.fresh.get((code, n))
        for role, payload in hub.views.player_states(m, n, here, snap=fresh).items():
            hub.socketio.emit("state", payload, to=rooms[role])
        return False

    def deliver_states(self, code: str, n: int, states: dict[str, str]) -> None:
        """States another process built for team ``n``'s seats (role -> JSON text):
        sent as they are to the seats connected here."""
        manager = self.hub.socketio.server.manager
        for role, text in sorted(states.items()):
            room = f"seat:{code}:{n}:{role}"
            if next(manager.get_participants("/", room), None):
                self.hub.socketio.emit("state", wire.Raw.of_text(text), to=room)

    def to_seat(self, code: str, n: int, role: str, event: str, payload: dict[str, Any]) -> None:
        """``event`` to every connection that holds the seat, here and in the other processes."""
        self._emit_room(event, wire.payload(payload), f"seat:{code}:{n}:{role}")

    def _emit_room(self, event: str, payload: wire.Raw, room: str) -> None:
        """A session-wide ``event`` to every member of ``room``: the ones here, and through
        the transport (its payload encoded once) the other processes' ones."""
        self.hub.socketio.emit(event, payload, to=room)
        self.hub.transport.send_event(room, event, payload.text)

    def deliver_event(self, room: str, event: str, text: str) -> None:
        """A session-wide event another process built (its payload as JSON text): sent
        as it is to the members of ``room`` connected here."""
        if next(self.hub.socketio.server.manager.get_participants("/", room), None):
            self.hub.socketio.emit(event, wire.Raw.of_text(text), to=room)

    def _session_update(self, code: str, rows: set[int], board: bool, force: bool = False) -> None:
        now = time.monotonic()
        period = self.hub.period()
        with self._lock:
            self._rows.setdefault(code, set()).update(rows)
            if board:
                self._board.add(code)
            if not force and now - self._sent.get(code, -1e18) < period:
                return
            self._sent[code] = now
            rows = self._rows.pop(code)
            board = code in self._board or force
            self._board.discard(code)
        self._emit_session(code, rows, board)

    def _online_now(self, code: str, presence: Presence, online_since: float) -> set[int]:
        """Remember which seats show as connected; the teams where that changed."""
        seen, closed = presence
        online = {k for k, t in seen.items() if t >= online_since and k not in closed}
        with self._lock:
            before = self._online.get(code)
            self._online[code] = online
        return {n for n, _ in before ^ online} if before is not None else set()

    def _emit_session(self, code: str, rows: set[int], board: bool, presence: Presence | None = None) -> None:
        hub, store = self.hub, self.hub.store
        m = self._meta(code, False)
        if m is None:
            return
        presence = store.presence(code) if presence is None else presence
        online_since = self.hub.online_since()
        rows = rows | self._online_now(code, presence, online_since)
        # session-wide payloads go out encoded (``wire.Raw``): python-socketio's walk for
        # binary parts sees one value, not every row
        changed = hub.views.dashboard_rows(m, sorted(rows), online_since, *presence)
        self._emit_room("dashboard_update", hub.views.dashboard_update(m, changed), f"f:{code}")
        if changed:  # the projector's strip of who decided (its own small event)
            self._emit_room("progress", views.progress(changed), f"w:{code}")
        now = time.monotonic()
        with self._lock:
            if board:
                self._standings_due.add(code)
            standings = code in self._standings_due and (
                m.status == "over" or now - self._standings.get(code, -1e18) >= STANDINGS_TICKS * self.hub.period()
            )
            if standings:
                self._standings_due.discard(code)
                self._standings[code] = now
        if standings:  # the table moves with every round: both at most every STANDINGS_TICKS
            rows_ranked = hub.views.ranking(m)
            self._emit_room("leaderboard", hub.views.leaderboard(m, rows_ranked), f"w:{code}")
            self._emit_room("standings", views.standings(m, rows_ranked), f"p:{code}")

    def dashboard(self, code: str) -> None:
        """A seat's connection opened or closed: the facilitators see it (on the leader;
        another process's leader notices at its next tick)."""
        if self.hub.leads():
            self._session_update(code, set(), board=False)

    def flush(self, presence: dict[str, Presence] | None = None) -> None:
        """Send what was held back, and the rows of teams whose seats went on or off
        line (the ticker calls this on the leader; ``presence``: the sessions' presence
        it read in this pass)."""
        store = self.hub.store
        online_since = self.hub.online_since()
        presence_by: dict[str, Presence] = {}
        for code in store.codes():
            seats = presence_by[code] = (presence or {}).get(code) or store.presence(code)
            flipped = self._online_now(code, seats, online_since)
            if flipped:
                with self._lock:
                    self._rows.setdefault(code, set()).update(flipped)
        with self._lock:
            due = {code: (rows, code in self._board) for code, rows in self._rows.items()}
            due.update({code: (set(), True) for code in self._board if code not in due})
            later = self._standings_due - set(due)  # standings held back past their period
            due.update({code: (set(), False) for code in later})
            self._rows, self._board = {}, set()
            now = time.monotonic()
            for code in due:
                self._sent[code] = now
            for code in set(self._online) - set(presence_by):
                del self._online[code]  # expired sessions
        for code, (rows, board) in sorted(due.items()):
            self._emit_session(code, rows, board, presence_by.get(code))
