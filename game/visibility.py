"""Who may see what: the only shapes of game state that leave the server.

Three audiences:

``view``
    One player's role: its own situation (``game.observe.observe``) and its own
    week history, plus what the visibility options share (keys are *absent*
    when an option is off, never empty):

    - ``pos_demand``: consumer demand at the point of sale, this and past weeks (all
      consumers, per channel and per stock point);
    - ``inventories``: the other stages' stock, backlog and work in process;
    - ``pipelines``: the other stages' orders in the mail and goods in transit.

    While a co-makership deal is in force (``game.comaker``), ``advance_orders``: the
    co-making customers' orders already known for the coming weeks, at the roles their
    orders reach (the consumer-facing role and, through make-to-order roles, the decoupling
    point), and at every role upstream of them when point-of-sale demand is shared.
``facilitator_view``
    Everything about one team except what would reveal future demand (the
    demand table and the seed).
``public_view``
    The projector: the team's week, cost and profit; with ``public_chain`` (the
    chain's structure) and ``order_spread`` (the class's orders per stage, over
    every team, for the weeks every team has played).

The last week (``weeks``) is in a player's and the public view only when the players
know it (``end_known``: the scenario's ``end_known``, or a session's facilitator
revealed it; ``game.horizon``); the facilitator's view always has it.

``history`` is the team's list of week records (``GameResult.weeks`` shape);
weeks after the state's week are ignored, and the current week's outcome is
taken from ``state.events`` when the history does not hold it yet.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

from game.comaker import advance_orders, comaking_share, downstream_facing, in_force, reached
from game.horizon import horizon, last_week
from game.observe import observe
from game.sales import SALES_LABEL, SALES_SEAT, history_line, seat_observation
from game.scenario import VISIBILITY_KEYS, Scenario
from game.scoring import summary, weeks_so_far
from game.state import GameState, StageState, WeekRecord


def options(scenario: Scenario, visibility: Mapping[str, Any] | None = None) -> dict[str, bool]:
    """The visibility flags in force: the scenario's, overridden by ``visibility``
    (a session's options). Raises ``ValueError`` for an unknown option."""
    flags = {k: bool(scenario.visibility.get(k, False)) for k in VISIBILITY_KEYS}
    for key, value in (visibility or {}).items():
        if key not in flags:
            raise ValueError(f"unknown visibility option {key!r} (known: {', '.join(VISIBILITY_KEYS)})")
        flags[key] = bool(value)
    return flags


def chain(scenario: Scenario, state: GameState | None) -> list[dict[str, Any]]:
    """The chain's structure (scenario data every player knows): roles upstream first.
    A role that holds stock per variant or per region also names them (``variants``,
    ``regions``: absent when it holds one stock of each); the role where the product gets
    its variant (generic stock, then a final step per variant) has ``finishes: true``.
    Modes are the state's (without ``state``: the scenario's)."""
    out = []
    for r, spec in enumerate(scenario.stages):
        entry: dict[str, Any] = {
            "role": spec.role,
            "label": spec.label,
            "supplier": spec.supplier,
            "consumer_facing": spec.consumer_facing,
            "mode": state.stages[r].mode if state is not None else spec.mode,
        }
        entry.update(_points(scenario, r))
        out.append(entry)
    return out


def _points(scenario: Scenario, r: int) -> dict[str, Any]:
    """The variants and regions role ``r`` holds stock of (none for a role with one stock point)."""
    if not scenario.expanded:
        return {}
    net = scenario.network
    nodes = [net.nodes[i] for i in net.groups[r]]
    variants = sorted({nd.variant for nd in nodes if nd.variant >= 0})
    regions = sorted({nd.region for nd in nodes if nd.region >= 0})
    out: dict[str, Any] = {"finishes": True} if net.finish[r] else {}
    if len(variants) > 1:
        out["variants"] = [scenario.product.variants[v].name for v in variants]
    if len(regions) > 1:
        out["regions"] = [scenario.regions[g].name for g in regions]
    return out


def pos_demand(scenario: Scenario, state: GameState) -> list[dict[str, Any]]:
    """Consumer demand per week up to and including the current week (never later).

    ``demand`` is every consumer's demand (all regions, variants and channels), ``by_channel``
    the same per consumer-facing role, ``breakdown`` per stock point that sells to consumers
    (``"retailer/black/north"``; one entry per role without variants or regions), over the
    stock points the team has now (after a review that opens or closes a process, the weeks
    before are split as those points would have seen them). Where segments churn, a stock
    point's demand is the consumers who still came. ``accepted`` and
    ``accepted_by_channel``: the units of it the consumer-facing roles accepted (sold at once
    or took on to wait; the rest walked away), the sell-through a point of sale records."""
    net = scenario.network
    points = state.stages if state.nodes is None else state.nodes
    out = []
    for week in range(1, min(state.week, len(state.demand)) + 1):
        row = state.demand[week - 1]
        by_channel: dict[str, int] = {}
        taken: dict[str, int] = {}
        breakdown: dict[str, int] = {}
        for i in net.facing:
            came = points[i].came
            n = came[week - 1] if len(came) >= week else sum(net.demand_at(row, i))
            role = scenario.roles[net.role_of[i]]
            by_channel[role] = by_channel.get(role, 0) + n
            taken[role] = taken.get(role, 0) + _accepted(points[i], week, state.week, n)
            breakdown[net.nodes[i].label] = n
        out.append(
            {
                "week": week,
                "demand": sum(by_channel.values()),
                "by_channel": by_channel,
                "breakdown": breakdown,
                "accepted": sum(taken.values()),
                "accepted_by_channel": taken,
            }
        )
    return out


def _accepted(point: StageState, week: int, now: int, came: int) -> int:
    """What ``point`` accepted in ``week`` (its record ends with the current week ``now``); a
    week before its record began (a state saved before it was kept) counts every consumer who
    ``came``."""
    k = len(point.accepted) - 1 - (now - week)
    return point.accepted[k] if k >= 0 else came


def _inventory(state: GameState, i: int) -> dict[str, int]:
    s = state.stages[i]
    return {"on_hand": s.on_hand, "backlog": sum(s.owed), "wip": s.wip}


def _pipeline(state: GameState, i: int) -> dict[str, list[int]]:
    s = state.stages[i]
    return {"orders_in_mail": list(s.order_q), "on_the_way": list(s.ship_q)}


def outgoing(scenario: Scenario, state: GameState, i: int) -> dict[str, list[int]]:
    """The goods stage ``i`` shipped that are still on their way, per customer role (next
    week first): its customers' ``on_the_way``, which the shipper knows as it sent them."""
    return {scenario.roles[j]: list(state.stages[j].ship_q) for j in scenario.topology.customers[i] if j >= 0}


def _jsonable(obs: Mapping[str, Any]) -> dict[str, Any]:
    """A copy that strict JSON accepts: tuples become lists, an endless wait (inf) becomes None."""
    out: dict[str, Any] = {}
    for key, value in obs.items():
        if isinstance(value, float) and not math.isfinite(value):
            value = None
        elif isinstance(value, tuple):
            value = list(value)
        out[key] = value
    return out


def history_entry(record: WeekRecord, role: str) -> dict[str, Any]:
    """``role``'s line of one week record in ``view``'s ``history``: its own events, the week and,
    when a bot decided for the role that week (its player's time ran out, or a bot plays the
    seat), ``bot``: true. The sales seat's line: ``game.sales.history_line``."""
    if role == SALES_SEAT and role not in record["roles"]:
        return history_line(record)
    line = {**_jsonable(record["roles"][role]), "week": record["week"]}
    if role in record.get("bots", ()):
        line["bot"] = True
    return line


def view(
    scenario: Scenario,
    state: GameState,
    role: str,
    visibility: Mapping[str, Any] | None = None,
    history: Iterable[WeekRecord] | None = None,
    end_known: bool | None = None,
) -> dict[str, Any]:
    """Exactly what ``role`` may see now (JSON-compatible).

    Always: ``role``, ``label``, ``week``, ``end_known``, ``done``, ``codp``,
    ``visibility`` (the flags), ``chain`` (structure), ``me`` (the observation),
    ``outgoing`` (the goods it shipped still on their way, per customer role) and
    ``history`` (``[{"week", **own event}]``); ``weeks`` (the last week) only when
    the end is known (``end_known``: a session's setting, default the scenario's).
    Only when the option is on: ``pos_demand``, ``inventories`` and ``pipelines``
    (other roles only). While a co-makership deal is in force: ``advance_orders`` (``known``).
    """
    if role == SALES_SEAT and scenario.sales is not None:
        return _sales_view(scenario, state, visibility, history, end_known)
    i = scenario.index(role)
    flags = options(scenario, visibility)
    out: dict[str, Any] = {
        "role": role,
        "label": scenario.stages[i].label,
        "week": state.week,
        **horizon(scenario, state, end_known),
        "done": state.done,
        "codp": state.codp,
        "visibility": flags,
        "chain": chain(scenario, state),
        "me": _jsonable(observe(scenario, state, role)),
        "outgoing": outgoing(scenario, state, i),
        "history": [history_entry(w, role) for w in weeks_so_far(scenario, state, history)],
    }
    others = [j for j in range(len(scenario.stages)) if j != i]
    if flags["pos_demand"]:
        out["pos_demand"] = pos_demand(scenario, state)
    if flags["inventories"]:
        out["inventories"] = {scenario.roles[j]: _inventory(state, j) for j in others}
    if flags["pipelines"]:
        out["pipelines"] = {scenario.roles[j]: _pipeline(state, j) for j in others}
    if in_force(scenario):
        out["advance_orders"] = known(scenario, state, i, flags["pos_demand"])
    return out


def _sales_view(
    scenario: Scenario,
    state: GameState,
    visibility: Mapping[str, Any] | None,
    history: Iterable[WeekRecord] | None,
    end_known: bool | None,
) -> dict[str, Any]:
    """The sales seat's ``view``: the same frame as a stage's (``role``, ``week``, the horizon,
    ``done``, ``codp``, ``visibility``, ``chain``), ``me`` its own observation
    (``game.sales.seat_observation``) and ``history`` its lines (``game.sales.history_line``)."""
    return {
        "role": SALES_SEAT,
        "label": SALES_LABEL,
        "week": state.week,
        **horizon(scenario, state, end_known),
        "done": state.done,
        "codp": state.codp,
        "visibility": options(scenario, visibility),
        "chain": chain(scenario, state),
        "me": seat_observation(scenario, state),
        "history": [history_entry(w, SALES_SEAT) for w in weeks_so_far(scenario, state, history)],
    }


def known(scenario: Scenario, state: GameState, i: int, shared: bool) -> dict[str, Any]:
    """Role ``i``'s ``advance_orders``: the co-makers' known orders (``orders``, one per week
    from ``from_week``) at the consumer-facing stock points their orders reach it from (every
    one downstream of it when ``shared``), and the co-makers' ``share`` of demand (the rest
    is not known ahead). ``orders`` is empty where no co-maker's order reaches the role."""
    nodes = downstream_facing(scenario, i) if shared else reached(scenario, state, i)
    return {
        "from_week": state.week + 1,
        "orders": advance_orders(scenario, state, nodes),
        "share": comaking_share(scenario),
    }


def facilitator_view(
    scenario: Scenario,
    state: GameState,
    history: Iterable[WeekRecord] | None = None,
    end_known: bool | None = None,
) -> dict[str, Any]:
    """Everything about one team except future demand: every stage's state, the
    week history, demand so far and the score (no demand table, no seed); ``weeks`` is
    the last week, told to the players or not (``end_known`` says which)."""
    weeks = weeks_so_far(scenario, state, history)
    stages = {}
    for i, role in enumerate(scenario.roles):
        s = state.stages[i]
        stages[role] = {
            **_inventory(state, i),
            **_pipeline(state, i),
            "mode": s.mode,
            "capacity": s.capacity,
            "owed": list(s.owed),
            "waiting_customers": sum(o[1] for o in s.open_orders),
            "parcels": list(s.deliveries),
            "observation": _jsonable(observe(scenario, state, role)),
        }
    return {
        "week": state.week,
        "weeks": last_week(scenario, state),
        "end_known": scenario.end_known if end_known is None else end_known,
        "done": state.done,
        "codp": state.codp,
        "chain": chain(scenario, state),
        "stages": stages,
        "pos_demand": pos_demand(scenario, state),
        "history": [{"week": w["week"], "roles": {r: _jsonable(ev) for r, ev in w["roles"].items()}} for w in weeks],
        "score": summary(scenario, weeks),
    }


def public_view(
    scenario: Scenario,
    state: GameState,
    history: Iterable[WeekRecord] | None = None,
    end_known: bool | None = None,
) -> dict[str, Any]:
    """What the projector may show of one team: week, cost and profit so far (and the
    last week, ``weeks``, only when the players know it; see ``view``)."""
    cost = revenue = 0.0
    for w in weeks_so_far(scenario, state, history):
        for ev in w["roles"].values():
            cost += ev["cost"]
            revenue += ev.get("revenue", 0.0) or 0.0
    return {
        "week": state.week,
        **horizon(scenario, state, end_known),
        "done": state.done,
        "cost": round(cost, 9) + 0.0,
        "profit": round(revenue - cost, 9) + 0.0,
    }


def public_chain(scenario: Scenario, fixed: bool) -> list[dict[str, Any]]:
    """The chain's structure for the projector: ``chain`` with the scenario's modes when every
    team plays the same position (``fixed``), else with ``mode`` ``None`` (each team chooses)."""
    out = chain(scenario, None)
    if not fixed:
        for entry in out:
            entry["mode"] = None
    return out


SPREAD = (0.1, 0.5, 0.9)  # the quantiles of the class's orders the projector shows


def _quantile(values: list[int], q: float) -> float:
    """The ``q`` quantile of sorted ``values`` (linear between ranks), to one decimal."""
    pos = q * (len(values) - 1)
    lo = math.floor(pos)
    hi = min(lo + 1, len(values) - 1)
    return round(values[lo] + (values[hi] - values[lo]) * (pos - lo), 1) + 0.0


def order_spread(roles: Iterable[str], histories: Iterable[list[WeekRecord]], week: int) -> dict[str, list[float]]:
    """Week ``week``'s orders of each role over all teams (``histories``: each team's week
    records, every one holding that week): ``{role: [10th percentile, median, 90th percentile]}``.
    What the projector shows of the class: the spread over the teams (not whose orders they
    were), and only weeks every team has played (all teams face the same demand, so a week one
    team played early would show the others what comes)."""
    rows = [h[week - 1]["roles"] for h in histories]
    out = {}
    for role in roles:
        values = sorted(int(r[role]["order"] or 0) for r in rows)
        out[role] = [_quantile(values, q) for q in SPREAD] if values else []
    return out
