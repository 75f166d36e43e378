"""The payloads each client receives: a player's state, the facilitator's dashboard,
the public leaderboard and session info. Nothing else leaves the server."""

from __future__ import annotations

import json
import math
from typing import Any

from game.scoring import rank_teams, team_score, weeks_so_far
from game.state import GameState
from game.visibility import facilitator_view, public_view, view
from web.sessions import SessionMeta
from web.store import Store


def jsonsafe(obj: Any) -> Any:
    """``obj`` with infinities and NaN replaced by ``None`` (browsers reject them in JSON)."""
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {k: jsonsafe(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [jsonsafe(v) for v in obj]
    return obj


def session_info(store: Store, meta: SessionMeta, team: dict[str, str] | None = None) -> dict[str, Any]:
    """The session part of every payload; ``deadline``/``paused`` of one team when given."""
    raw = store.session(meta.code)
    status = raw.get("status", meta.status)
    out = {
        "code": meta.code,
        "title": meta.base.title,
        "scenario": meta.scenario,
        "status": status,
        "paused": status == "paused",
        "weeks": meta.weeks,
        "round_seconds": int(raw.get("round_seconds") or 0) or None,
        "codp_rule": meta.codp_rule,
    }
    if team is not None:
        out["week"] = int(team["week"])
        out["deadline"] = float(team["deadline"]) if team.get("deadline") else None
        out["remaining"] = float(team["remaining"]) if team.get("remaining") else None
    return out


_MONEY: dict[tuple[str, int, int, bool, str], dict[str, float]] = {}


def _money(
    scn: Any, state: GameState, history: list[dict[str, Any]] | None, key: tuple[str, int] | None = None
) -> dict[str, float]:
    """Cost, profit and score so far (cached per team and week: a played week never changes)."""
    ck = (*key, state.week, state.done, f"{state.codp}:{state.seed}") if key else None
    if ck and ck in _MONEY:
        return _MONEY[ck]
    if history is None:
        raise KeyError(ck)
    pv = public_view(scn, state, history)
    out = {"cost": pv["cost"], "profit": pv["profit"], "score": team_score(scn, weeks_so_far(scn, state, history))}
    if ck:
        if len(_MONEY) > 20_000:
            _MONEY.clear()
        _MONEY[ck] = out
    return out


def _cached_money(store: Store, meta: SessionMeta, n: int, scn: Any, state: GameState) -> dict[str, float]:
    """``_money`` reading the week records only when the cache misses."""
    try:
        return _money(scn, state, None, (meta.code, n))
    except KeyError:
        return _money(scn, state, store.weeks(meta.code, n), (meta.code, n))


def player_states(store: Store, meta: SessionMeta, n: int) -> dict[str, dict[str, Any]]:
    """The ``state`` payload of every taken seat of team ``n`` (the team is read once)."""
    snap = store.team_snapshot(meta.code, n)
    if not snap["seats"]:
        return {}
    t = snap["team"]
    scn = meta.scenario_for(t.get("codp") or None)
    state = GameState.from_dict(json.loads(t["state"]))
    history = store.weeks(meta.code, n)
    return {role: _player_state(store, meta, n, role, scn, state, snap, history) for role in snap["seats"]}


def player_state(store: Store, meta: SessionMeta, n: int, role: str) -> dict[str, Any]:
    """The ``state`` event for the player in seat (``n``, ``role``)."""
    snap = store.team_snapshot(meta.code, n)
    t = snap["team"]
    scn = meta.scenario_for(t.get("codp") or None)
    state = GameState.from_dict(json.loads(t["state"]))
    return _player_state(store, meta, n, role, scn, state, snap, store.weeks(meta.code, n))


def _player_state(
    store: Store,
    meta: SessionMeta,
    n: int,
    role: str,
    scn: Any,
    state: GameState,
    snap: dict[str, Any],
    history: list[dict[str, Any]],
) -> dict[str, Any]:
    t = snap["team"]
    v = view(scn, state, role, meta.visibility, history)
    money = _money(scn, state, history, (meta.code, n))
    return jsonsafe(
        {
            "session": session_info(store, meta, t),
            "seat": {
                "team": n,
                "team_name": t.get("name", f"Team {n}"),
                "role": role,
                "label": scn.stage(role).label,
                "name": snap["seats"].get(role, {}).get("name"),
                "bot": role not in snap["humans"],
            },
            "view": v,
            "history": v["history"],
            "decided": role in snap["dec"],
            "team": {
                "week": int(t["week"]),
                "done": t.get("done") == "1",
                "decided": sorted(snap["dec"]),
                "cost": money["cost"],
                "profit": money["profit"],
            },
        }
    )


def team_summary(
    store: Store,
    meta: SessionMeta,
    n: int,
    full: bool = False,
    online_since: float | None = None,
    seen: dict[tuple[int, str], float] | None = None,
) -> dict[str, Any]:
    """One team on the facilitator's dashboard (``full``: with the facilitator view).
    A seat is ``connected`` when a connection held it at or after ``online_since``."""
    snap = store.team_snapshot(meta.code, n)
    t = snap["team"]
    scn = meta.scenario_for(t.get("codp") or None)
    state = GameState.from_dict(json.loads(t["state"]))
    seen = store.seen(meta.code) if seen is None else seen
    seats = []
    for spec in scn.stages:
        seat = snap["seats"].get(spec.role)
        last = seen.get((n, spec.role))
        seats.append(
            {
                "role": spec.role,
                "label": spec.label,
                "taken": seat is not None,
                "name": seat["name"] if seat else None,
                "bot": spec.role not in snap["humans"],
                "forced": spec.role in snap["forced"],
                "decided": spec.role in snap["dec"],
                "last_seen": last,
                "connected": seat is not None and online_since is not None and (last or 0.0) >= online_since,
            }
        )
    money = _cached_money(store, meta, n, scn, state)
    out = {
        "team": n,
        "name": t.get("name", f"Team {n}"),
        "codp": t.get("codp") or None,
        "week": int(t["week"]),
        "done": t.get("done") == "1",
        "deadline": float(t["deadline"]) if t.get("deadline") else None,
        "remaining": float(t["remaining"]) if t.get("remaining") else None,
        "decided": sorted(snap["dec"]),
        "bots": [s["role"] for s in seats if s["bot"]],
        "seats": seats,
        "cost": money["cost"],
        "profit": money["profit"],
    }
    if full:
        out["view"] = facilitator_view(scn, state, store.weeks(meta.code, n))
    return out


def dashboard(store: Store, meta: SessionMeta, full: bool = False, online_since: float | None = None) -> dict[str, Any]:
    """The facilitator's ``dashboard`` event: every team."""
    seen = store.seen(meta.code)
    return jsonsafe(
        {
            "session": session_info(store, meta),
            "roles": list(meta.base.roles),
            "teams": [team_summary(store, meta, n, full, online_since, seen) for n in range(1, meta.teams + 1)],
        }
    )


def ranking(store: Store, meta: SessionMeta) -> list[dict[str, Any]]:
    """Teams ranked by score (``game.scoring.team_score``: profit, or minus cost without prices)."""
    pipe = store.r.pipeline(transaction=False)
    for n in range(1, meta.teams + 1):
        pipe.hmget(store.team_key(meta.code, n), "state", "name", "codp")
    rows = {}
    for n, (raw, name, codp) in enumerate(pipe.execute(), 1):
        scn = meta.scenario_for(codp or None)
        state = GameState.from_dict(json.loads(raw))
        money = _cached_money(store, meta, n, scn, state)
        rows[n] = {"name": name or f"Team {n}", "week": state.week, "done": state.done, **money}
    return [{**rows[r["team"]], **r} for r in rank_teams((n, rows[n]["score"]) for n in rows)]


def leaderboard(store: Store, meta: SessionMeta) -> dict[str, Any]:
    """The public ``leaderboard`` event (projector and players)."""
    return jsonsafe({"session": session_info(store, meta), "ranking": ranking(store, meta)})


def public_session(store: Store, meta: SessionMeta) -> dict[str, Any]:
    """``GET /api/sessions/<code>``: status and which seats are taken (no names, no state)."""
    roles = meta.base.roles
    teams = []
    week = None
    for n in range(1, meta.teams + 1):
        snap = store.team_snapshot(meta.code, n)
        w = int(snap["team"]["week"])
        week = w if week is None else min(week, w)
        teams.append(
            {
                "team": n,
                "name": snap["team"].get("name", f"Team {n}"),
                "week": w,
                "seats": [
                    {
                        "role": r,
                        "label": meta.base.stage(r).label,
                        "taken": r in snap["seats"],
                        "bot": r not in snap["humans"],
                    }
                    for r in roles
                ],
            }
        )
    info = session_info(store, meta)
    return jsonsafe({**info, "week": week, "roles": list(roles), "teams": teams})
