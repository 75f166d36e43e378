"""Rounds: submissions, advancing a team's week exactly once, timers, bots and drop-outs.

A team's week advances when every seat a human plays has decided, when its
deadline passes, or when the facilitator forces it. The seats without a human
decision are played by the session's bot policy. The new state is written by
``commit.lua``, a compare-and-set on the week: the engine is pure and
deterministic, so any number of racing callers may compute the step, and
exactly one of them writes it (and only that one tells the clients).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace
from typing import Any

from game.bots import bot_decision
from game.engine import all_bounds, step
from game.policies import parse_policy
from web import faults, payloads, views
from web.errors import GameError, bad
from web.records import Team, TeamSnapshot
from web.results import week_strategy
from web.sessions import SessionMeta, load_meta, new_team, round_seconds
from web.store import STORE_DOWN, Presence, Store, seat_name

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


def submit(store: Store, cfg: dict[str, Any], code: str, team: int, role: str, body: Any, now: float) -> Changes:
    """Record a player's decision (``submit.lua`` checks everything, bounds included, in
    one round trip); advance the team when it was the last one missing. A seat that
    decided this week already changes its decision: the new value replaces the old one
    (the week is played once, with the latest value). ``Changes.mine`` holds the seat's
    ``decision`` payload: the week, the value and the one it replaced (None: none)."""
    body = payloads.check(body, payloads.EVENTS["submit"], "submit")
    week, value = body["week"], body["value"]
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
    faults.point("after_decision" if not got.complete else "last_decision")
    changes = Changes(
        seats={(code, team)}, decided={(code, team): {"team": team, "week": week, "decided": sorted(got.decided)}}
    )
    changes.mine[(code, team, role)] = {"week": week, "value": value, "previous": got.previous}
    if got.complete:
        changes.merge(advance(store, cfg, code, team, now, "complete", week=week))
    return changes


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
    meta = meta or load_meta(store, code)
    changes = Changes()
    for _ in range(5):  # -1 from commit: a decision arrived or changed while we computed; read again
        snap = store.team_snapshot(code, team)
        if snap is None or snap.team.done or snap.status != "running":
            return changes
        if (week is not None and snap.team.week != week) or not _due(reason, snap, now):
            return changes
        t = snap.team
        scn = meta.team_scenario(t)
        assert t.state is not None
        state = t.state  # the engine and the bots never change their input
        memory: dict[str, Any] = dict(t.memory)
        policy = parse_policy(meta.bot_policy)
        decisions: dict[str, int] = {}
        bots = []
        for role in scn.roles:
            if role in snap.dec:
                decisions[role] = snap.dec[role]
            else:
                mem = memory.get(role, {})
                decisions[role], memory[role] = bot_decision(policy, scn, state, role, mem, meta.visibility)
                bots.append(role)
        new, events = step(scn, state, decisions)
        record = {"week": state.week, "roles": dict(zip(scn.roles, events, strict=True)), "bots": bots,
                  **week_strategy(t, scn), "players": {r: seat_name(s) for r, s in snap.seats.items()}}  # fmt: skip
        seconds = None if new.done else float(snap.round_seconds) or None  # the round timer, else none
        bounds = {} if new.done else all_bounds(scn, new)
        ttl = None if new.done else int(cfg["IDLE_TTL_SECONDS"])  # a game that goes on stays for the idle TTL
        after = replace(t, week=new.week, done=new.done, state=new, memory=memory, bounds=bounds)
        faults.point("before_commit")
        got = store.commit(code, team, snap, after, record, seconds, now, ttl=ttl)
        if got.result == 0:
            return changes
        if got.result == 1 and got.snapshot is not None:
            faults.point("after_commit")
            changes.advanced.add((code, team))
            changes.fresh[(code, team)] = views.written(meta, team, got.snapshot, got.record)
            if new.done:
                changes.merge(_maybe_over(store, cfg, meta))
            return changes
    return changes  # pragma: no cover - five decisions racing one commit


def _maybe_over(store: Store, cfg: dict[str, Any], meta: SessionMeta) -> Changes:
    """End the session when every team has played its last week."""
    if all(t.team.done for t in store.teams(meta.code, range(1, meta.teams + 1), ("done",))):
        return end(store, cfg, meta)
    return Changes()


def end(store: Store, cfg: dict[str, Any], meta: SessionMeta) -> Changes:
    """Mark the session over; it expires ``GAME_TTL_SECONDS`` later."""
    session = store.session(meta.code)
    if session is None or session.status == "over":
        return Changes()
    store.set_session(meta.code, status="over")
    store.drop_deadlines(meta.code, meta.teams)
    store.touch(meta.code, meta.teams, int(cfg["GAME_TTL_SECONDS"]))
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


def _team_arg(meta: SessionMeta, team: int | None) -> int | None:
    if team is not None and not 1 <= team <= meta.teams:
        raise bad(f"team must be a number from 1 to {meta.teams}")
    return team


def _role_arg(meta: SessionMeta, role: str) -> str:
    if role not in meta.base.roles:
        raise bad(f"role must be one of {', '.join(meta.base.roles)}")
    return role


def control(store: Store, cfg: dict[str, Any], code: str, body: Any, now: float) -> Changes:
    """Apply one facilitator action (the caller has been checked)."""
    body = payloads.check(body, payloads.EVENTS["control"], "control")
    action = body.pop("action")
    if action not in payloads.ACTIONS:
        raise bad(f"action must be one of {', '.join(payloads.ACTIONS)}")
    body = payloads.check(body, payloads.ACTIONS[action], action)
    meta = load_meta(store, code)
    if meta.status == "over":
        raise GameError("not_running", "the game is over")
    changes = Changes(sessions={code})
    ttl = int(cfg["IDLE_TTL_SECONDS"])
    teams = range(1, meta.teams + 1)
    if action == "start":
        if meta.status != "setup":
            raise GameError("not_running", "the game has already started")
        store.set_session(code, status="running", started=now)
        for n in teams:
            store.set_advanced_at(code, n, now)
            store.set_deadline(code, n, now + meta.round_seconds if meta.round_seconds else None)
        changes.seats |= {(code, n) for n in teams}
    elif action == "pause":
        if meta.status != "running":
            raise GameError("not_running", "the game is not running")
        store.set_session(code, status="paused")
        for n, snap in enumerate(store.teams(code, teams, ("deadline",)), 1):
            if snap.team.deadline is not None:
                store.set_deadline(code, n, None, max(0.0, snap.team.deadline - now))
        changes.seats |= {(code, n) for n in teams}
    elif action == "resume":
        if meta.status != "paused":
            raise GameError("not_running", "the game is not paused")
        store.set_session(code, status="running")
        for n, snap in enumerate(store.teams(code, teams, ("remaining", "done")), 1):
            if snap.team.remaining and not snap.team.done:
                store.set_deadline(code, n, now + snap.team.remaining)
            store.set_advanced_at(code, n, now)
        changes.seats |= {(code, n) for n in teams}
    elif action == "set_timer":
        seconds = round_seconds(body.get("seconds"))
        store.set_session(code, round_seconds=seconds)
        for n, snap in enumerate(store.teams(code, teams, ("done",)), 1):
            if snap.team.done:
                continue
            if meta.status == "running":
                store.set_deadline(code, n, now + seconds if seconds else None)
            elif meta.status == "paused":
                store.set_deadline(code, n, None, float(seconds) if seconds else None)
        changes.seats |= {(code, n) for n in teams}
    elif action == "force_round":
        if meta.status != "running":
            raise GameError("not_running", "start or resume the game first")
        team, week = _team_arg(meta, body.get("team")), body["week"]
        chosen = [team] if team else list(teams)
        found = [(n, snap.team) for n, snap in zip(chosen, store.teams(code, chosen, ("week", "done")), strict=True)]
        on_week = [n for n, t in found if t.week == week and not t.done]
        if not on_week:
            raise GameError("stale_week", _not_on_week(team, week, found[0][1] if team else None))
        for n in on_week:
            changes.merge(advance(store, cfg, code, n, now, "force", week=week, meta=meta))
    elif action == "reveal_end":  # the players are told the last week from now on
        store.set_session(code, end_revealed=True)
        changes.seats |= {(code, n) for n in teams}
    elif action in ("seat_to_bot", "seat_to_human"):
        team = _team_arg(meta, body["team"])
        role = _role_arg(meta, body["role"])
        if action == "seat_to_bot":
            store.set_forced(code, team, role, True, ttl)
            store.set_human(code, team, role, False, ttl)
        else:
            store.set_forced(code, team, role, False, ttl)
            seen = store.seen(code).get((team, role), 0.0)
            if role in store.seats(code, team) and now - seen <= float(cfg["DISCONNECT_GRACE_SECONDS"]):
                store.set_human(code, team, role, True, ttl)
        changes.seats.add((code, team))
        if meta.status == "running":
            changes.merge(advance(store, cfg, code, team, now, "complete", meta=meta))
    elif action == "end":
        changes.merge(end(store, cfg, meta))
    return changes


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
    snaps = store.teams(code, range(1, meta.teams + 1), ("week", "done", "advanced_at"), ("humans", "decided"))
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


def choose_deal(store: Store, code: str, team: int, deal: Any, role: str | None = None) -> Changes:
    """A team offers its co-makership deal (``deal`` true) or ends it (false), where the
    scenario has a segment that can co-make (``game.comaker``): before the start, or at the
    decision point of one of the scenario's review weeks. Orders taken keep their terms; the
    week's decisions stand. ``role``: the seat that chose; its player's name is kept as ``deal_by``."""
    from game.codp import is_review_week
    from game.comaker import offered

    meta = load_meta(store, code)
    if not offered(meta.base):
        raise bad("this scenario has no co-makership deal to offer")
    if not isinstance(deal, bool):
        raise bad("deal must be true or false")
    t = store.team(code, team)
    if t is None:
        raise GameError("unknown_session", f"no team {team} in session {code}")
    by = (store.seats(code, team).get(role) or {}).get("name") or "" if role else ""
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
    cfg: dict[str, Any],
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
    from game.codp import SHOP_MODES, CodpError, positions_for, shop_roles, switch_codp

    meta = load_meta(store, code)
    if meta.codp_rule != "team":
        raise GameError("forbidden", "the facilitator fixed the decoupling point for this session")
    if position is not None:
        allowed = list(meta.base.codp_positions) or positions_for(meta.base)
        if not isinstance(position, str) or position not in allowed:
            raise bad(f"position must be one of {', '.join(allowed)}")
    if shop is not None:
        if not shop_roles(meta.base):
            raise bad("this scenario has no web shop")
        if not isinstance(shop, str) or shop not in SHOP_MODES:
            raise bad(f"mode must be one of {', '.join(SHOP_MODES)}")
    t = store.team(code, team)
    if t is None:
        raise GameError("unknown_session", f"no team {team} in session {code}")
    position = position or t.codp or meta.codp
    shop = shop or t.shop or None
    by = (store.seats(code, team).get(role) or {}).get("name") or "" if role else ""
    if meta.status == "setup":
        fresh = new_team(meta.scenario_for(position, shop), meta.seed, team, position, shop)
        store.restart_team(code, team, fresh, by=by)
        return Changes(seats={(code, team)})
    if meta.status not in ("running", "paused"):
        raise GameError("not_running", "the game is over")
    assert t.state is not None
    try:
        _, new = switch_codp(meta.team_scenario(t), t.state, position, shop=shop)
    except CodpError as exc:
        raise GameError(
            "not_running", f"the decoupling point moves only before the start or at a review: {exc}"
        ) from None
    after = replace(
        t, state=new, bounds=all_bounds(meta.scenario_for(position, shop, t.deal), new), codp=position, shop=shop
    )
    if not store.replace_state(code, team, t.week, after, by=by):
        raise GameError("stale_week", "the week changed meanwhile; look again and retry")
    return Changes(seats={(code, team)})
