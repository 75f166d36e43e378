"""Rounds: a decision's path, advancing a team's week exactly once, controls, the ticker.

A decision goes down one pipeline, read top to bottom in this module:

1. **shape**: the handler wrapper (``web.realtime.events``) checked the payload once (``web.payloads``);
2. **store**: ``record`` keeps it atomically (``submit.lua``: session running, the team on that
   week, the value within the bounds stored with the state, the seat a human's) and says
   whether every human seat has now decided (``web.store.records.week_complete``, the one statement
   of that rule);
3. **engine**: when it has, ``advance`` reads the team (and whether its week is due,
   ``is_due``), lets the bots decide the other seats and plays the week with the pure
   ``game.engine.step`` (``play``);
4. **store**: ``commit.lua`` writes the new week if nobody did meanwhile (a compare-and-set on
   the week and the decisions' revision): any number of racing callers may compute the step,
   exactly one writes it, and only that one reports it;
5. **views**: the team as written comes back in ``Changes.fresh`` with the week's record, from
   which ``web.play.views.Views`` builds the new states without reading the team again;
6. **transport**: the caller hands the ``Changes`` to ``Hub.publish`` (``web.realtime.broadcast``), which
   sends each client what changed for it, on this process and through the relay on others.

A team's week also advances when its deadline passes, when the facilitator forces it,
or when the ticker finds a week complete (after a crash between the last decision and
its commit): each caller names the week it found due.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from game.bots import bot_decision
from game.codp import POSITIONS, SHOP_MODES, choice_processes, positions_for, process_options, shop_roles
from game.comaker import offered
from game.engine import step
from game.policies import parse_policy
from game.review import CodpError, is_review_week, switch_codp, switch_processes
from game.sales import SALES_SEAT, bot_promise
from web import faults
from web.errors import GameError, bad
from web.play.scenarios import week_strategy
from web.play.sessions import SessionMeta, at_state, load_meta, meta_from, new_team, round_seconds
from web.store import STORE_DOWN, Presence, Store
from web.store.records import Submitted, Team, TeamSnapshot, WeekEntry

log = logging.getLogger(__name__)


@dataclass
class Changes:
    """What a call changed, for the broadcaster: teams whose week moved on,
    teams whose seats or decisions changed, sessions that ended. Where the call
    already holds what the clients are sent, it comes along: ``decided`` the
    ``decided`` payload of a team a decision changed, ``fresh`` the snapshot of a
    team as its new week was written, ``mine`` the
    ``decision`` payload of a seat that decided (for its own connections)."""

    advanced: set[tuple[str, int]] = field(default_factory=set)
    seats: set[tuple[str, int]] = field(default_factory=set)
    over: set[str] = field(default_factory=set)
    sessions: set[str] = field(default_factory=set)
    decided: dict[tuple[str, int], dict[str, Any]] = field(default_factory=dict, compare=False)
    fresh: dict[tuple[str, int], TeamSnapshot] = field(default_factory=dict, compare=False)
    mine: dict[tuple[str, int, str], dict[str, Any]] = field(default_factory=dict, compare=False)

    def merge(self, other: Changes) -> Changes:
        """Add ``other``, which happened after this."""
        for key in (other.advanced | other.seats) - other.fresh.keys():
            self.fresh.pop(key, None)  # changed since it was written: read it again
        self.advanced |= other.advanced
        self.seats |= other.seats
        self.over |= other.over
        self.sessions |= other.sessions
        self.decided.update(other.decided)
        self.fresh.update(other.fresh)
        self.mine.update(other.mine)
        return self

    def __bool__(self) -> bool:
        return bool(self.advanced or self.seats or self.over or self.sessions)


def submit(
    store: Store, cfg: dict[str, Any], code: str, team: int, role: str, body: dict[str, Any], now: float
) -> Changes:
    """A player's decision down the pipeline (see the module's docstring): ``body`` is the checked
    ``submit`` payload. A seat that decided this week already changes its decision: the new
    value replaces the old one (the week is played once, with the latest value).
    ``Changes.mine`` holds the seat's ``decision`` payload: the week, the value and the one it
    replaced (None: none)."""
    week, value = body["week"], body["value"]
    got = record(store, code, team, role, week, value)
    faults.point("after_decision" if not got.complete else "last_decision")
    changes = Changes(
        seats={(code, team)}, decided={(code, team): {"team": team, "week": week, "decided": sorted(got.decided)}}
    )
    changes.mine[(code, team, role)] = {"week": week, "value": value, "previous": got.previous}
    if got.complete:
        changes.merge(advance(store, cfg, code, team, now, "complete", week=week))
    return changes


def record(store: Store, code: str, team: int, role: str, week: int, value: int) -> Submitted:
    """Keep a seat's decision (one atomic step in the store), or say why not."""
    got = store.submit(code, team, week, role, value)
    if got.status == "not_running":
        if not got.session_status:
            raise GameError("unknown_session", f"no session with code {code}")
        raise GameError(
            "not_running", "the game is paused" if got.session_status == "paused" else "the game is not running"
        )
    if got.status == "done":
        raise GameError("not_running", "this team's game is over")
    if got.status == "stale_week":
        raise GameError("stale_week", f"it is week {got.week}, not week {week}")
    if got.status == "out_of_bounds":
        lo, hi = got.bounds
        raise GameError("out_of_bounds", f"the value must be between {lo} and {hi}")
    if got.status == "forbidden":
        raise GameError("forbidden", "a bot plays this seat now")
    return got


REASONS = ("complete", "deadline", "force")


def _due(reason: str, snap: TeamSnapshot, now: float) -> bool:
    """Whether the week in ``snap`` may be played now for ``reason``: ``complete``
    (every seat a human plays has decided), ``deadline`` (its round timer ran out),
    ``force`` (the facilitator or the bot pacing, for the week they name)."""
    if reason == "complete":
        return snap.complete
    if reason == "deadline":
        return snap.team.deadline is not None and snap.team.deadline <= now
    return reason == "force"


def advance(
    store: Store,
    cfg: dict[str, Any],
    code: str,
    team: int,
    now: float,
    reason: str,
    week: int | None = None,
    meta: SessionMeta | None = None,
) -> Changes:
    """Play the team's current week if it is due for ``reason`` (see ``_due``) and,
    when ``week`` is given, if it is that week: a caller acts on the week it found
    due and on no other, however many processes race it.

    Bots decide for every seat without a human decision. Returns what changed, with
    the team as written (``Changes.fresh``); empty when another caller advanced the
    week first or it was not due."""
    if reason not in REASONS:
        raise ValueError(f"unknown reason {reason!r}")
    for _ in range(5):  # -1 from commit: a decision arrived or changed while we computed; read again
        snap = store.team_snapshot(code, team, session=meta is None)  # the session too, when not known
        meta = meta or meta_from(code, snap.session if snap is not None else None)
        if snap is None or not is_due(snap, now, reason, week):
            return Changes()
        after, week_record = play(meta, snap)
        seconds = None if after.done else float(snap.round_seconds) or None  # the round timer, else none
        ttl = None if after.done else int(cfg["IDLE_TTL_SECONDS"])  # a game that goes on stays for the idle TTL
        faults.point("before_commit")
        got = store.commit(code, team, snap, after, week_record, seconds, now, ttl=ttl)
        if got.result == 0:
            return Changes()
        if got.result == 1 and got.snapshot is not None:
            faults.point("after_commit")
            changes = Changes(advanced={(code, team)})
            changes.fresh[(code, team)] = got.snapshot
            if after.done:
                changes.merge(_maybe_over(store, cfg, meta))
            return changes
    return Changes()  # pragma: no cover - five decisions racing one commit


def is_due(snap: TeamSnapshot, now: float, reason: str, week: int | None) -> bool:
    """Whether the team's week in ``snap`` is due for ``reason`` (and is ``week``, when given)
    in a running session."""
    if snap.team.done or snap.status != "running":
        return False
    return (week is None or snap.team.week == week) and _due(reason, snap, now)


def play(meta: SessionMeta, snap: TeamSnapshot) -> tuple[Team, WeekEntry]:
    """The week in ``snap`` played: bots decide the seats without a human decision, the pure
    engine steps. Returns the team's next state (with its bounds and the bots' memory) and
    the week's record (``GameResult.weeks`` shape, with the strategy and players of the week)."""
    t = snap.team
    assert t.state is not None
    scn = meta.team_scenario(t)
    state = t.state  # the engine and the bots never change their input
    memory: dict[str, Any] = dict(t.memory)
    policy = parse_policy(meta.settings.bot_policy)
    decisions: dict[str, int] = {}
    bots = []
    for role in scn.roles:
        if role in snap.dec:
            decisions[role] = snap.dec[role]
        else:
            decisions[role], memory[role] = bot_decision(
                policy, scn, state, role, memory.get(role, {}), meta.settings.visibility
            )
            bots.append(role)
    if scn.sales is not None:  # the sales seat: its player's promise, else the bots' (game.sales)
        decisions[SALES_SEAT] = snap.dec[SALES_SEAT] if SALES_SEAT in snap.dec else bot_promise(scn, state)
        bots += [] if SALES_SEAT in snap.dec else [SALES_SEAT]
    new, events = step(scn, state, decisions)
    week_record: WeekEntry = {"week": state.week, "roles": dict(zip(scn.roles, events, strict=True)), "bots": bots,
                   **week_strategy(t, scn), "players": {r: s.name for r, s in snap.seats.items()}}  # fmt: skip
    return at_state(replace(t, memory=memory), scn, new), week_record


def _maybe_over(store: Store, cfg: dict[str, Any], meta: SessionMeta) -> Changes:
    """End the session when every team has played its last week."""
    if all(t.team.done for t in store.teams(meta.code, meta.team_numbers, ("done",))):
        return end(store, cfg, meta)
    return Changes()


def end(store: Store, cfg: dict[str, Any], meta: SessionMeta) -> Changes:
    """Mark the session over; it expires ``GAME_TTL_SECONDS`` later."""
    session = store.session(meta.code)
    if session is None or session.status == "over":
        return Changes()
    store.set_session(meta.code, status="over")
    store.drop_deadlines(meta.code, meta.settings.teams)
    store.touch(meta.code, meta.settings.teams, int(cfg["GAME_TTL_SECONDS"]))
    return Changes(over={meta.code}, sessions={meta.code})


# -- facilitator controls ---------------------------------------------------------------


def _not_on_week(team: int | None, week: int, found: Team | None) -> str:
    """Why ``force_round`` of ``week`` ends nothing: where ``team`` is (``found``: its week and
    done flag as stored), or that no team is on that week."""
    if not team or found is None:
        return f"no team is deciding week {week} now"
    if found.done:
        return f"team {team} has played its last week"
    return f"team {team} is deciding week {found.week} now, not week {week}"


def _role_arg(meta: SessionMeta, role: str) -> str:
    if role not in meta.seats:
        raise bad(f"role must be one of {', '.join(meta.seats)}")
    return role


@dataclass(frozen=True)
class Control:
    """One facilitator action on its way: the session, the checked payload (its fields
    besides ``action``) and the time."""

    store: Store
    cfg: dict[str, Any]
    meta: SessionMeta
    body: dict[str, Any]
    now: float

    @property
    def teams(self) -> range:
        return self.meta.team_numbers

    def every_team(self) -> Changes:
        """Every team's seats changed (their clients get new states), and the session."""
        return Changes(sessions={self.meta.code}, seats={(self.meta.code, n) for n in self.teams})


def control(store: Store, cfg: dict[str, Any], code: str, body: dict[str, Any], now: float) -> Changes:
    """Apply one facilitator action (``body``: the checked ``control`` payload; the caller has
    been checked): the action's function in ``CONTROLS``."""
    meta = load_meta(store, code)
    if meta.status == "over":
        raise GameError("not_running", "the game is over")
    fields = {k: v for k, v in body.items() if k != "action"}
    return Changes(sessions={code}).merge(CONTROLS[body["action"]](Control(store, cfg, meta, fields, now)))


def _start(c: Control) -> Changes:
    """``setup`` -> ``running``: every team's round timer starts."""
    if c.meta.status != "setup":
        raise GameError("not_running", "the game has already started")
    code, seconds = c.meta.code, c.meta.round_seconds
    c.store.set_session(code, status="running", started=c.now)
    for n in c.teams:
        c.store.set_advanced_at(code, n, c.now)
        c.store.set_deadline(code, n, c.now + seconds if seconds else None)
    return c.every_team()


def _pause(c: Control) -> Changes:
    """Timers freeze, keeping the time left."""
    if c.meta.status != "running":
        raise GameError("not_running", "the game is not running")
    c.store.set_session(c.meta.code, status="paused")
    for n, snap in enumerate(c.store.teams(c.meta.code, c.teams, ("deadline",)), 1):
        if snap.team.deadline is not None:
            c.store.set_deadline(c.meta.code, n, None, max(0.0, snap.team.deadline - c.now))
    return c.every_team()


def _resume(c: Control) -> Changes:
    """Timers run on from the time left."""
    if c.meta.status != "paused":
        raise GameError("not_running", "the game is not paused")
    c.store.set_session(c.meta.code, status="running")
    for n, snap in enumerate(c.store.teams(c.meta.code, c.teams, ("remaining", "done")), 1):
        if snap.team.remaining and not snap.team.done:
            c.store.set_deadline(c.meta.code, n, c.now + snap.team.remaining)
        c.store.set_advanced_at(c.meta.code, n, c.now)
    return c.every_team()


def _set_timer(c: Control) -> Changes:
    """A new round length, which also restarts the current round's timer."""
    seconds = round_seconds(c.body.get("seconds"))
    c.store.set_session(c.meta.code, round_seconds=seconds)
    for n, snap in enumerate(c.store.teams(c.meta.code, c.teams, ("done",)), 1):
        if snap.team.done:
            continue
        if c.meta.status == "running":
            c.store.set_deadline(c.meta.code, n, c.now + seconds if seconds else None)
        elif c.meta.status == "paused":
            c.store.set_deadline(c.meta.code, n, None, float(seconds) if seconds else None)
    return c.every_team()


def _force_round(c: Control) -> Changes:
    """End week ``week`` now for team ``team``, or for every team on that week."""
    if c.meta.status != "running":
        raise GameError("not_running", "start or resume the game first")
    code, team, week = c.meta.code, c.meta.team_arg(c.body.get("team")), c.body["week"]
    chosen = [team] if team else list(c.teams)
    found = [(n, snap.team) for n, snap in zip(chosen, c.store.teams(code, chosen, ("week", "done")), strict=True)]
    on_week = [n for n, t in found if t.week == week and not t.done]
    if not on_week:
        raise GameError("stale_week", _not_on_week(team, week, found[0][1] if team else None))
    changes = Changes()
    for n in on_week:
        changes.merge(advance(c.store, c.cfg, code, n, c.now, "force", week=week, meta=c.meta))
    return changes


def _reveal_end(c: Control) -> Changes:
    """The players are told the last week from now on."""
    c.store.set_session(c.meta.code, end_revealed=True)
    return c.every_team()


def _seat_to_bot(c: Control) -> Changes:
    """A bot plays the seat until ``seat_to_human``."""
    team, role = c.meta.team_arg(c.body["team"]), _role_arg(c.meta, c.body["role"])
    ttl = int(c.cfg["IDLE_TTL_SECONDS"])
    c.store.set_forced(c.meta.code, team, role, True, ttl)
    c.store.set_human(c.meta.code, team, role, False, ttl)
    return _seat_changed(c, team)


def _seat_to_human(c: Control) -> Changes:
    """The seat's player plays again if connected; an empty seat is free to join."""
    code, team, role = c.meta.code, c.meta.team_arg(c.body["team"]), _role_arg(c.meta, c.body["role"])
    ttl = int(c.cfg["IDLE_TTL_SECONDS"])
    c.store.set_forced(code, team, role, False, ttl)
    seen = c.store.seen(code).get((team, role), 0.0)
    if role in c.store.seats(code, team) and c.now - seen <= float(c.cfg["DISCONNECT_GRACE_SECONDS"]):
        c.store.set_human(code, team, role, True, ttl)
    return _seat_changed(c, team)


def _seat_changed(c: Control, team: int) -> Changes:
    """A seat of ``team`` changed hands: the week may now be complete."""
    changes = Changes(seats={(c.meta.code, team)})
    if c.meta.status == "running":
        changes.merge(advance(c.store, c.cfg, c.meta.code, team, c.now, "complete", meta=c.meta))
    return changes


def _end(c: Control) -> Changes:
    """The game is over for everyone."""
    return end(c.store, c.cfg, c.meta)


# every ``control`` action (``web.payloads.ACTIONS`` has the same names and their fields)
CONTROLS: dict[str, Callable[[Control], Changes]] = {
    "start": _start,
    "pause": _pause,
    "resume": _resume,
    "end": _end,
    "force_round": _force_round,
    "set_timer": _set_timer,
    "seat_to_bot": _seat_to_bot,
    "seat_to_human": _seat_to_human,
    "reveal_end": _reveal_end,
}


# -- the ticker ---------------------------------------------------------------------


def tick(
    store: Store,
    cfg: dict[str, Any],
    now: float,
    held: dict[str, list[tuple[int, str]]],
    presence: dict[str, Presence] | None = None,
) -> Changes:
    """One pass of the background ticker at time ``now``.

    ``held`` lists the seats this process's connections hold, per session: they
    are marked as seen. Then: teams past their deadline advance; human seats not
    seen for the grace period go to their bot; a week every human seat of which
    has decided advances (after a crash between the last decision and its commit,
    or a store outage); teams nobody plays keep pace with the session's leading
    team (or ``BOT_ROUND_SECONDS`` when no human plays at all). Every advance
    names the week it found due, so any number of processes may tick at once.
    ``presence``: filled with ``Store.presence`` of each session walked (for the
    broadcaster's pass that follows). A store outage propagates (``STORE_DOWN``):
    the caller reports it once."""
    changes = Changes()
    for code, seats in held.items():
        store.mark_seen(code, seats, now)
    for code, team in store.due(now):
        try:
            changes.merge(advance(store, cfg, code, team, now, "deadline"))
        except GameError:
            store.drop_deadline(code, team)
        except STORE_DOWN:
            raise
        except Exception:  # one broken game must not stop the others' timers
            log.exception("ticker: round of %s team %s failed", code, team)
    for code in store.codes():
        try:
            changes.merge(_tick_session(store, cfg, code, now, presence))
        except GameError:  # pragma: no cover - expired between the two reads
            continue
        except STORE_DOWN:
            raise
        except Exception:
            log.exception("ticker: session %s failed", code)
    return changes


def _tick_session(
    store: Store, cfg: dict[str, Any], code: str, now: float, presence: dict[str, Presence] | None = None
) -> Changes:
    """Drop-outs to bots, weeks left complete, and bot pacing for one session, from
    one read of every team (``Store.teams``)."""
    changes = Changes()
    meta = load_meta(store, code)
    if meta.status == "over":
        return changes
    grace = float(cfg["DISCONNECT_GRACE_SECONDS"])
    ttl = int(cfg["IDLE_TTL_SECONDS"])
    # humans before seen: join and resume mark a seat seen before adding it to humans,
    # so a seat that joins while this pass runs is never taken for a drop-out
    snaps = store.teams(code, meta.team_numbers, ("week", "done", "advanced_at"), ("humans", "decided"))
    seen_closed = store.presence(code)
    if presence is not None:
        presence[code] = seen_closed
    seen = seen_closed[0]
    for n, snap in enumerate(snaps, 1):
        for role in sorted(snap.humans):
            if now - seen.get((n, role), 0.0) > grace:
                store.set_human(code, n, role, False, ttl)
                changes.seats.add((code, n))
                snap.humans.discard(role)
        if meta.status == "running" and snap.complete:
            changes.merge(advance(store, cfg, code, n, now, "complete", meta=meta))
    if meta.status == "running":
        changes.merge(_pace_bots(store, cfg, meta, now, snaps, changes))
    return changes


def _pace_bots(
    store: Store, cfg: dict[str, Any], meta: SessionMeta, now: float, snaps: list[TeamSnapshot], done_now: Changes
) -> Changes:
    """Advance teams with no human seat: up to the leading team's week, or one
    week per ``BOT_ROUND_SECONDS`` when nobody in the session plays. ``snaps``: every
    team as ``_tick_session`` read it (humans as they are after its drop-outs), with
    the weeks it advanced (``done_now``) counted as played."""
    changes = Changes()
    teams = []
    for n, snap in enumerate(snaps, 1):
        t = done_now.fresh.get((meta.code, n), snap).team
        teams.append((n, t.week, t.done, t.advanced_at, len(snap.humans)))
    # progress = weeks played: the last week keeps its number and sets done
    played = [w - 1 + d for _, w, d, _, h in teams if h]
    lead = max(played) if played else None
    for n, week, done, at, humans in teams:
        if done or humans:
            continue
        if lead is not None:
            if week - 1 < lead:
                changes.merge(advance(store, cfg, meta.code, n, now, "force", week=week, meta=meta))
        elif now - at >= float(cfg["BOT_ROUND_SECONDS"]):
            changes.merge(advance(store, cfg, meta.code, n, now, "force", week=week, meta=meta))
    return changes


def _chooser(store: Store, code: str, team: int, role: str | None) -> str:
    """Who chose a team's strategy or deal, as the team shows it: the first player on the seat
    ``role`` (empty for the facilitator, or a seat nobody holds)."""
    seat = store.seats(code, team).get(role) if role else None
    return seat.players[0].name if seat else ""


def choose_deal(store: Store, code: str, team: int, deal: bool, role: str | None = None) -> Changes:
    """A team offers its co-makership deal (``deal`` true) or ends it (false), where the
    scenario has a segment that can co-make (``game.comaker``): before the start, or at the
    decision point of one of the scenario's review weeks. Orders taken keep their terms; the
    week's decisions stand. ``role``: the seat that chose; its player's name is kept as ``deal_by``."""

    meta = load_meta(store, code)
    if not offered(meta.base):
        raise bad("this scenario has no co-makership deal to offer")
    t = store.team(code, team)
    if t is None:
        raise GameError("unknown_session", f"no team {team} in session {code}")
    by = _chooser(store, code, team, role)
    if meta.status != "setup":
        if meta.status not in ("running", "paused") or t.done:
            raise GameError("not_running", "the game is over")
        scn = meta.team_scenario(t)
        if not is_review_week(scn, t.week):
            weeks = ", ".join(str(w) for w in scn.review_weeks) or "none"
            raise GameError("not_running", f"the deal changes only before the start or at a review (weeks: {weeks})")
    store.set_deal(code, team, deal, by=by)
    return Changes(seats={(code, team)})


def choose_codp(
    store: Store,
    code: str,
    team: int,
    position: Any = None,
    *,
    shop: Any = None,
    role: str | None = None,
) -> Changes:
    """A team picks its CODP ``position`` or its web shop's mode ``shop`` (``"mts"``: its
    own warehouse, ``"mto"``: drop-ship) in sessions with ``codp.rule = "team"``: before
    the start, or at the decision point of one of the scenario's review weeks (then
    the week's decisions so far are cleared: the team decides again in its new modes).
    ``role``: the seat that chose; its player's name is kept as ``codp_by``."""

    meta = load_meta(store, code)
    if meta.settings.codp_rule != "team":
        raise GameError("forbidden", "the facilitator fixed the decoupling point for this session")
    if position is not None:
        allowed = [*(meta.base.codp_positions or positions_for(meta.base)), *process_options(meta.base)]
        per_segment = meta.base.max_processes > 1 and isinstance(position, str) and "=" in position
        if not isinstance(position, str) or (position not in allowed and not per_segment):
            raise bad(f"position must be one of {', '.join(allowed)}")
        if position not in POSITIONS:  # processes per segment: segment=position,... or an option's name
            try:
                chosen = choice_processes(meta.base, position)
            except ValueError as exc:
                raise bad(f"position: {exc}") from None
            if per_segment and position not in allowed:  # one spelling per choice: every segment, in order
                position = ",".join(f"{name}={p}" for name, p in chosen.items())
    if shop is not None:
        if not shop_roles(meta.base):
            raise bad("this scenario has no web shop")
        if not isinstance(shop, str) or shop not in SHOP_MODES:
            raise bad(f"mode must be one of {', '.join(SHOP_MODES)}")
    t = store.team(code, team)
    if t is None:
        raise GameError("unknown_session", f"no team {team} in session {code}")
    position = position or t.codp or meta.settings.codp
    shop = shop or t.shop or None
    by = _chooser(store, code, team, role)
    if meta.status == "setup":
        fresh = new_team(meta.scenario_for(position, shop), meta.settings.seed, team, position, shop)
        store.restart_team(code, team, fresh, by=by)
        return Changes(seats={(code, team)})
    if meta.status not in ("running", "paused"):
        raise GameError("not_running", "the game is over")
    assert t.state is not None
    try:
        scn = meta.team_scenario(t)
        if position in POSITIONS:
            _, new = switch_codp(scn, t.state, position, shop=shop)
        else:  # a process per segment
            _, new = switch_processes(scn, t.state, choice_processes(meta.base, position))
    except CodpError as exc:
        raise GameError(
            "not_running", f"the decoupling point moves only before the start or at a review: {exc}"
        ) from None
    after = at_state(replace(t, codp=position, shop=shop), meta.scenario_for(position, shop, t.deal), new)
    if not store.replace_state(code, team, t.week, after, by=by):
        raise GameError("stale_week", "the week changed meanwhile; look again and retry")
    return Changes(seats={(code, team)})
