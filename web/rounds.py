"""Rounds: submissions, advancing a team's week exactly once, timers, bots and drop-outs.

A team's week advances when every seat a human plays has decided, when its
deadline passes, or when the facilitator forces it. The seats without a human
decision are played by the session's bot policy. The new state is written by
``commit.lua``, a compare-and-set on the week: the engine is pure and
deterministic, so any number of racing callers may compute the step, and
exactly one of them writes it (and only that one tells the clients).
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from typing import Any

from game.bots import bot_decision
from game.engine import all_bounds, step
from game.policies import parse_policy
from game.sales import SALES_SEAT, bot_promise
from game.state import GameState
from web import faults, payloads, views
from web.errors import GameError, bad
from web.results import week_strategy
from web.sessions import SessionMeta, load_meta, meta_from, round_seconds
from web.store import DEADLINES, STORE_DOWN, Presence, Store, seat_name
from web.views import parsed_state

log = logging.getLogger(__name__)


@dataclass
class Changes:
    """What a call changed, for the broadcaster: teams whose week moved on,
    teams whose seats or decisions changed, sessions that ended. Where the call
    already holds what the clients are sent, it comes along: ``decided`` the
    ``decided`` payload of a team a decision changed, ``fresh`` the snapshot of a
    team as its new week was written (``team_snapshot`` shape), ``mine`` the
    ``decision`` payload of a seat that decided (for its own connections)."""

    advanced: set[tuple[str, int]] = field(default_factory=set)
    seats: set[tuple[str, int]] = field(default_factory=set)
    over: set[str] = field(default_factory=set)
    sessions: set[str] = field(default_factory=set)
    decided: dict[tuple[str, int], dict[str, Any]] = field(default_factory=dict, compare=False)
    fresh: dict[tuple[str, int], dict[str, Any]] = field(default_factory=dict, compare=False)
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
    for _ in range(5):  # no bounds stored with this state yet: compute them from it
        if got.status != "bounds":
            break
        got = _submit_with_bounds(store, code, team, week, role, value)
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
    if got.status != "ok":  # pragma: no cover - five states written in a row meanwhile
        raise GameError("stale_week", "that week is over")
    faults.point("after_decision" if not got.complete else "last_decision")
    changes = Changes(
        seats={(code, team)}, decided={(code, team): {"team": team, "week": week, "decided": got.decided}}
    )
    changes.mine[(code, team, role)] = {"week": week, "value": value, "previous": got.previous}
    if got.complete and got.snapshot is not None and got.session is not None:
        meta = meta_from(code, got.session)
        changes.merge(advance(store, cfg, code, team, now, "complete", week=week, meta=meta, snap=got.snapshot))
    return changes


def _submit_with_bounds(store: Store, code: str, team: int, week: int, role: str, value: int) -> Any:
    """``Store.submit`` with the bounds computed here from the team's state (one that was
    written without them: by a strategy review, or before bounds were stored)."""
    raw, t = store.session_and_team(code, team)
    if "state" not in t:
        return store.submit(code, team, week, role, value)  # the script says what is wrong
    meta = meta_from(code, raw)
    state = parsed_state(meta, team, t["state"])
    scn = meta.team_scenario(t)
    bounds = all_bounds(scn, state)
    return store.submit(code, team, week, role, value, bounds=bounds, state=t["state"])


REASONS = ("complete", "deadline", "force")


def _due(reason: str, snap: dict[str, Any], now: float) -> bool:
    """Whether the week in ``snap`` may be played now for ``reason``: ``complete``
    (every seat a human plays has decided), ``deadline`` (its round timer ran out),
    ``force`` (the facilitator or the bot pacing, for the week they name)."""
    t, dec, humans = snap["team"], snap["dec"], snap["humans"]
    if reason == "complete":
        return bool(humans) and humans <= set(dec)
    if reason == "deadline":
        return bool(t.get("deadline")) and float(t["deadline"]) <= now
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
    snap: dict[str, Any] | None = None,
) -> Changes:
    """Play the team's current week if it is due for ``reason`` (see ``_due``) and,
    when ``week`` is given, if it is that week: a caller acts on the week it found
    due and on no other, however many processes race it. ``snap``: the team as the
    caller just read it (``team_snapshot`` shape), instead of reading it again.

    Bots decide for every seat without a human decision. Returns what changed, with
    the team as written (``Changes.fresh``); empty when another caller advanced the
    week first or it was not due."""
    if reason not in REASONS:
        raise ValueError(f"unknown reason {reason!r}")
    meta = meta or load_meta(store, code)
    changes = Changes()
    for _ in range(5):  # -1 from commit: a decision arrived or changed while we computed; read again
        snap = snap or store.team_snapshot(code, team)
        t, dec = snap["team"], snap["dec"]
        if not t or t.get("done") == "1" or snap["status"] != "running":
            return changes
        if (week is not None and int(t["week"]) != week) or not _due(reason, snap, now):
            return changes
        scn = meta.team_scenario(t)
        state = parsed_state(meta, team, t["state"])  # the engine and the bots never change their input
        memory: dict[str, Any] = json.loads(t.get("memory") or "{}")
        policy = parse_policy(meta.bot_policy)
        decisions: dict[str, int] = {}
        bots = []
        for role in scn.roles:
            if role in dec:
                decisions[role] = dec[role]
            else:
                mem = memory.get(role, {})
                decisions[role], memory[role] = bot_decision(policy, scn, state, role, mem, meta.visibility)
                bots.append(role)
        if scn.sales is not None:  # the sales seat: its player's promise, else the bots' (game.sales)
            decisions[SALES_SEAT] = dec[SALES_SEAT] if SALES_SEAT in dec else bot_promise(scn, state)
        new, events = step(scn, state, decisions)
        record = {"week": state.week, "roles": dict(zip(scn.roles, events, strict=True)), "bots": bots,
                  **week_strategy(t, scn), "players": {r: seat_name(s) for r, s in snap["seats"].items()}}  # fmt: skip
        seconds = None if new.done else float(snap["round_seconds"]) or None  # the round timer, else none
        bounds = None if new.done else all_bounds(scn, new)
        ttl = None if new.done else int(cfg["IDLE_TTL_SECONDS"])  # a game that goes on stays for the idle TTL
        faults.point("before_commit")
        got = store.commit(
            code, team, state.week, int(t.get("dec_rev") or 0), new.to_dict(), record, memory, new.done, seconds, now,
            bounds=bounds, ttl=ttl, seats=snap["seats"],
        )  # fmt: skip
        if got.result == 0:
            return changes
        if got.result == 1:
            faults.point("after_commit")
            changes.advanced.add((code, team))
            fresh = {**snap, "team": got.team(t), "dec": {}, "seats": got.seats, "humans": got.humans}
            changes.fresh[(code, team)] = views.written(meta, team, fresh, got.record_text)
            if new.done:
                changes.merge(_maybe_over(store, cfg, meta))
            return changes
        snap = None
    return changes  # pragma: no cover - five decisions racing one commit


def _maybe_over(store: Store, cfg: dict[str, Any], meta: SessionMeta) -> Changes:
    """End the session when every team has played its last week."""
    if all(t["team"]["done"] == "1" for t in store.teams(meta.code, range(1, meta.teams + 1), ("done",))):
        return end(store, cfg, meta)
    return Changes()


def end(store: Store, cfg: dict[str, Any], meta: SessionMeta) -> Changes:
    """Mark the session over; it expires ``GAME_TTL_SECONDS`` later."""
    if store.session(meta.code).get("status") == "over":
        return Changes()
    store.set_session(meta.code, status="over")
    store.drop_deadlines(meta.code, meta.teams)
    store.touch(meta.code, meta.teams, int(cfg["GAME_TTL_SECONDS"]))
    return Changes(over={meta.code}, sessions={meta.code})


# -- facilitator controls ---------------------------------------------------------------


def _not_on_week(team: int | None, week: int, found: tuple[str | None, str | None] | None) -> str:
    """Why ``force_round`` of ``week`` ends nothing: where ``team`` is (``found``: its week and
    done flag as stored), or that no team is on that week."""
    if not team or found is None:
        return f"no team is deciding week {week} now"
    if found[1] == "1":
        return f"team {team} has played its last week"
    return f"team {team} is deciding week {found[0]} now, not week {week}"


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
        store.set_session(code, status="running", started=f"{now:.3f}")
        for n in teams:
            store.set_team(code, n, advanced_at=f"{now:.3f}")
            store.set_deadline(code, n, now + meta.round_seconds if meta.round_seconds else None)
        changes.seats |= {(code, n) for n in teams}
    elif action == "pause":
        if meta.status != "running":
            raise GameError("not_running", "the game is not running")
        store.set_session(code, status="paused")
        for n in teams:
            d = store.team(code, n).get("deadline")
            if d:
                store.set_deadline(code, n, None, max(0.0, float(d) - now))
        changes.seats |= {(code, n) for n in teams}
    elif action == "resume":
        if meta.status != "paused":
            raise GameError("not_running", "the game is not paused")
        store.set_session(code, status="running")
        for n in teams:
            t = store.team(code, n)
            if t.get("remaining") and t.get("done") != "1":
                store.set_deadline(code, n, now + float(t["remaining"]))
            store.set_team(code, n, advanced_at=f"{now:.3f}")
        changes.seats |= {(code, n) for n in teams}
    elif action == "set_timer":
        seconds = round_seconds(body.get("seconds"))
        store.set_session(code, round_seconds=seconds)
        for n in teams:
            if store.team(code, n).get("done") == "1":
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
        pipe = store.r.pipeline(transaction=False)
        for n in chosen:
            pipe.hmget(store.team_key(code, n), "week", "done")
        found = list(zip(chosen, pipe.execute(), strict=True))
        on_week = [n for n, (w, done) in found if w == str(week) and done != "1"]
        if not on_week:
            raise GameError("stale_week", _not_on_week(team, week, found[0][1] if team else None))
        for n in on_week:
            changes.merge(advance(store, cfg, code, n, now, "force", week=week, meta=meta))
    elif action == "reveal_end":  # the players are told the last week from now on
        store.set_session(code, end_revealed="1")
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
            store.r.zrem(DEADLINES, f"{code}:{team}")
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
        humans = snap["humans"]
        for role in sorted(humans):
            if now - seen.get((n, role), 0.0) > grace:
                store.set_human(code, n, role, False, ttl)
                changes.seats.add((code, n))
                humans.discard(role)
        if meta.status == "running" and humans and humans <= snap["decided"]:
            changes.merge(advance(store, cfg, code, n, now, "complete", meta=meta))
    if meta.status == "running":
        changes.merge(_pace_bots(store, cfg, meta, now, snaps, changes))
    return changes


def _pace_bots(
    store: Store, cfg: dict[str, Any], meta: SessionMeta, now: float, snaps: list[dict[str, Any]], done_now: Changes
) -> Changes:
    """Advance teams with no human seat: up to the leading team's week, or one
    week per ``BOT_ROUND_SECONDS`` when nobody in the session plays. ``snaps``: every
    team as ``_tick_session`` read it (humans as they are after its drop-outs), with
    the weeks it advanced (``done_now``) counted as played."""
    changes = Changes()
    teams = []
    for n, snap in enumerate(snaps, 1):
        t = done_now.fresh.get((meta.code, n), snap)["team"]
        teams.append((n, int(t["week"]), t["done"] == "1", float(t.get("advanced_at") or 0), len(snap["humans"])))
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
    by = (store.seats(code, team).get(role) or {}).get("name") or "" if role else ""
    if meta.status != "setup":
        if meta.status not in ("running", "paused") or t.get("done") == "1":
            raise GameError("not_running", "the game is over")
        scn = meta.team_scenario(t)
        if not is_review_week(scn, int(t["week"])):
            weeks = ", ".join(str(w) for w in scn.review_weeks) or "none"
            raise GameError("not_running", f"the deal changes only before the start or at a review (weeks: {weeks})")
    store.set_team(code, team, deal="1" if deal else "0", deal_by=by)
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
    from game.codp import (
        POSITIONS,
        SHOP_MODES,
        CodpError,
        choice_processes,
        positions_for,
        process_options,
        shop_roles,
        switch_codp,
        switch_processes,
    )
    from web.sessions import team_fields

    meta = load_meta(store, code)
    if meta.codp_rule != "team":
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
    position = position or t.get("codp") or meta.codp
    shop = shop or t.get("shop") or None
    by = (store.seats(code, team).get(role) or {}).get("name") or "" if role else ""
    if meta.status == "setup":
        like = {
            "scenario": meta.scenario,
            "weeks": meta.weeks,
            "seed": meta.seed,
            "custom": meta.custom,
            "end_window": meta.end_window,
        }
        fields = team_fields(like, team, position, shop)
        del fields["name"]
        store.set_team(code, team, **fields, codp_by=by)
        return Changes(seats={(code, team)})
    if meta.status not in ("running", "paused"):
        raise GameError("not_running", "the game is over")
    state = GameState.from_dict(json.loads(t["state"]))
    try:
        scn = meta.team_scenario(t)
        if position in POSITIONS:
            _, new = switch_codp(scn, state, position, shop=shop)
        else:  # a process per segment
            _, new = switch_processes(scn, state, choice_processes(meta.base, position))
    except CodpError as exc:
        raise GameError(
            "not_running", f"the decoupling point moves only before the start or at a review: {exc}"
        ) from None
    if not store.replace_state(code, team, state.week, new.to_dict(), position, shop, by=by):
        raise GameError("stale_week", "the week changed meanwhile; look again and retry")
    return Changes(seats={(code, team)})
