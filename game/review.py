"""The strategy review: moving a running game's decoupling point or processes.

At a review week (``review_weeks``) a team may move its CODP (``switch_codp``) or, where the
scenario allows several, its processes per segment (``switch_processes``): the scenario's
stage modes change (``game.codp``) and the running state's stock points follow.
``describe_position`` tells what a choice would mean from the game as it stands.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from game.codp import (
    POSITIONS,
    apply_codp,
    apply_processes,
    apply_shop,
    customisable,
    positions_for,
    processes,
    retail_path,
)
from game.engine import quote, role_totals
from game.network import UNLIMITED
from game.scenario import INFINITE, Scenario
from game.start import new_game
from game.state import GameState, StageState


class CodpError(ValueError):
    """A CODP change that the scenario does not allow."""


def is_review_week(scenario: Scenario, week: int) -> bool:
    """True when teams may move their CODP at the decision point of ``week``."""
    return week in scenario.review_weeks


def switch_codp(
    scenario: Scenario, state: GameState, position: str, *, shop: str | None = None, any_week: bool = False
) -> tuple[Scenario, GameState]:
    """Move a running game's CODP (and, with ``shop``, its web shop's mode) at a strategy
    review (the decision point of a review week).

    Returns the scenario with the new stage modes and a new state; the input state
    is not modified. A stage going make-to-order -> make-to-stock turns its work in
    progress into stock on hand; a stage going make-to-stock -> make-to-order keeps
    its stock, which is shipped first. Orders, backlogs and goods in transit carry on.
    Raises ``CodpError`` for a position the scenario does not offer, or (unless
    ``any_week``) outside its ``review_weeks``.
    """
    allowed = scenario.codp_positions or tuple(positions_for(scenario))
    if position not in POSITIONS:
        raise CodpError(f"unknown position {position!r} (known: {', '.join(POSITIONS)})")
    if position not in allowed:
        raise CodpError(f"position {position!r} is not offered (allowed: {', '.join(allowed)})")
    check_review(scenario, state, any_week)
    if scenario.lanes:  # from a process per segment back to one for all
        return switch_processes(scenario, state, dict.fromkeys(processes(scenario), position), any_week=any_week)
    new_scenario = apply_codp(scenario, position)
    if shop is not None:
        try:
            new_scenario = apply_shop(new_scenario, shop)
        except ValueError as exc:  # no web shop, or an unknown mode
            raise CodpError(str(exc)) from None
    new = state.copy()
    _convert_modes(new_scenario, new)
    new.codp = position
    return new_scenario, new


def check_review(scenario: Scenario, state: GameState, any_week: bool, error: type[CodpError] | None = None) -> None:
    """Raise ``error`` (default ``CodpError``) when the game is over or (unless ``any_week``)
    ``state``'s week is not a strategy review: a change of strategy is made there only."""
    error = error or CodpError
    if state.done:
        raise error("the game is over")
    if not any_week and not is_review_week(scenario, state.week):
        weeks = ", ".join(str(w) for w in scenario.review_weeks) or "none"
        raise error(f"week {state.week} is not a strategy review (review weeks: {weeks})")


def _convert_modes(new_scenario: Scenario, new: GameState) -> None:
    """Put ``new``'s stock points in ``new_scenario``'s stage modes, in place (see
    ``switch_codp``), and write the roles' totals."""
    net = new_scenario.network
    for r, spec in enumerate(new_scenario.stages):
        stages = [new.stages[r]] if new.nodes is None else [new.nodes[i] for i in net.decide[r]]
        for s in stages:
            if spec.mode == s.mode:
                continue
            if spec.mode == "mts":
                if spec.mts_capacity:  # back to the stage's make-to-stock throughput
                    s.capacity = spec.mts_capacity
                else:
                    s.on_hand += s.wip
                    s.wip = 0
            elif s.capacity <= 0 or spec.mts_capacity:
                s.capacity = spec.capacity or s.capacity
            s.mode = spec.mode
    if new.nodes is not None:
        role_totals(new_scenario, new)


def switch_processes(
    scenario: Scenario, state: GameState, choice: Mapping[str, str], *, any_week: bool = False
) -> tuple[Scenario, GameState]:
    """Change a running game's processes per segment (``apply_processes``) at a strategy
    review; returns the new scenario and a new state (the input is not modified).

    The chain's stages change mode as in ``switch_codp``. A process that opens starts
    empty. A process that closes hands its waiting customers (in their order) and every
    unit it holds, processes or has on its way to the consumer-facing stage's own stock
    point, which serves them from then on; what it had ordered and not received is
    cancelled at its decoupling stage. Raises ``CodpError`` as ``switch_codp`` does, or
    for a choice ``apply_processes`` refuses."""
    check_review(scenario, state, any_week)
    try:
        new_scenario = apply_processes(scenario, choice)
    except ValueError as exc:
        raise CodpError(str(exc)) from None
    new = state.copy()
    _renode(scenario, new_scenario, new)
    _convert_modes(new_scenario, new)
    new.codp = new_scenario.codp
    return new_scenario, new


def _close_lane(lane: StageState, facing: StageState) -> None:
    """A closing process's customers and goods go to the consumer-facing stock point, in place:
    its waiting customers join the queue there in the order they came, and the units it holds,
    processes or has on the way are that point's stock at once (parcels already sent still
    arrive when due), and the orders it accepted count as the point's."""
    facing.open_orders = sorted([*facing.open_orders, *lane.open_orders], key=lambda o: o[0])
    facing.owed[0] += lane.owed[0]
    facing.on_hand += lane.on_hand + lane.wip + sum(lane.ship_q)
    facing.deliveries = [a + b for a, b in zip(facing.deliveries, lane.deliveries, strict=True)]
    facing.accepted = [a + b for a, b in zip(facing.accepted, lane.accepted, strict=True)]


def _zeroed(event: dict[str, Any] | None) -> dict[str, Any] | None:
    """A copy of a consumer-facing point's week with nothing in it (a process that opens)."""
    if event is None:
        return None
    out: dict[str, Any] = {}
    for key, value in event.items():
        if isinstance(value, bool) or not isinstance(value, (int, float, list, dict)):
            out[key] = value
        elif isinstance(value, list):
            out[key] = [0] * len(value)
        elif isinstance(value, dict):
            out[key] = {}
        else:
            out[key] = type(value)(0)
    return out


def _renode(old: Scenario, scenario: Scenario, state: GameState) -> None:
    """Move ``state``'s stock points, in place, from ``old``'s network to ``scenario``'s
    (they differ only in the segments' processes; points are matched by label)."""
    was, net = old.network, scenario.network
    points = state.stages if state.nodes is None else state.nodes
    events = state.events if state.nodes is None else state.node_events
    by_label = {nd.label: (points[i], events[i] if events else None) for i, nd in enumerate(was.nodes)}
    facing = by_label[net.nodes[net.markets[0]].label][0]
    for i, nd in enumerate(was.nodes):
        if nd.process and all(n.label != nd.label for n in net.nodes):
            _close_lane(points[i], facing)
    out, out_events = [], []
    for nd in net.nodes:
        point, event = by_label.get(nd.label, (None, None))
        if point is None:
            spec = nd.spec
            point = StageState(
                on_hand=0,
                owed=[0],
                order_q=[0] * (spec.order_delay - 1),  # at a decision point: the order delay less the week's
                ship_q=[0] * spec.ship_delay,
                mode="mto",
                capacity=UNLIMITED,
                deliveries=[0] * spec.delivery_delay,
                loyalty=facing.loyalty[:],
                accepted=[0] * len(facing.accepted),  # it accepted nobody before it opened
            )
            event = _zeroed(by_label[net.nodes[net.markets[0]].label][1])
        out.append(point)
        out_events.append(event)
    for i, point in enumerate(out):  # what each point owes its customers now: by label, 0 for a new one
        if net.customers[i] != [-1]:
            old_i = next((k for k, n in enumerate(was.nodes) if n.label == net.nodes[i].label), None)
            owed = dict(zip((was.nodes[c].label for c in was.customers[old_i]), point.owed, strict=True))
            point.owed = [owed.get(net.nodes[c].label, 0) for c in net.customers[i]]
    state.mix = []
    if state.late:
        index = {nd.label: k for k, nd in enumerate(net.nodes)}
        state.late = [[index[was.nodes[k].label] for k in week if was.nodes[k].label in index] for week in state.late]
    if net.identity:
        state.nodes, state.stages = None, out
        state.events, state.node_events = [e for e in out_events if e is not None], []
    else:
        state.nodes = out
        state.node_events = [e for e in out_events if e is not None]


def describe_position(scenario: Scenario, state: GameState | None, position: str) -> dict[str, Any]:
    """What choosing ``position`` would mean for this scenario, from ``state`` (the team's
    game now, moved as a strategy review moves it; None: before the start, the game as it
    would begin at that position): ``to_order`` the stages that would work
    to order and ``stock_at`` the ones that would hold stock (roles, consumer end first, the
    web shop included), ``lead_time`` the weeks a consumer of the main shop would be quoted
    now for an order its stock cannot serve (None: none can be given; ``game.engine.quote``,
    which counts the stock and work already in the chain), ``order_lead_time`` the weeks an
    order takes through the stages that work to order once nothing waits for it downstream of
    the decoupling point (their order and shipping delays, and the parcel), ``from_stock`` whether
    that shop would serve from stock first (then at ``delivery`` weeks), and ``segments``:
    per customer segment its ``name``, ``share`` of demand, ``accept`` (the share of its
    customers who would wait ``order_lead_time``, or the parcel when served from stock) and
    ``premium`` (None: the segment pays none; else whether this position earns it)."""
    if state is None:
        scn = apply_codp(scenario, position)
        new = new_game(scn)
    else:
        scn, new = switch_codp(scenario, state, position, any_week=True)
    path = retail_path(scn)
    order = path + [s.role for s in scn.stages if s.role not in path]
    modes = {s.role: s.mode for s in scn.stages}
    facing = scn.stage(path[0])
    weeks = quote(scn, new, path[0])
    from_stock = facing.mode == "mts"
    through = sum(
        scn.stage(r).ship_delay + (0 if scn.mto_orders == "instant" else scn.stage(r).order_delay)
        for r in path
        if modes[r] == "mto"
    )
    wait = facing.delivery_delay if from_stock else through + facing.delivery_delay
    custom = customisable(scn, modes)
    segments = [
        {
            "name": seg.name,
            "share": seg.share,
            "accept": round(seg.willing(wait), 3),
            "premium": (custom if seg.customised else None) if seg.premium else None,
        }
        for seg in scn.segments
    ]
    return {
        "position": position,
        "order_lead_time": through + facing.delivery_delay,
        "to_order": [r for r in order if modes[r] == "mto"],
        "stock_at": [r for r in order if modes[r] == "mts"],
        "lead_time": None if weeks == INFINITE else round(weeks, 1),
        "from_stock": from_stock,
        "delivery": facing.delivery_delay,
        "segments": segments,
    }
