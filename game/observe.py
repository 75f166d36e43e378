"""What a stage knows about itself at the decision point (the basis of every view)."""

from __future__ import annotations

from typing import Any

from game.engine import decision_bounds, decision_kind, supply_line
from game.scenario import Scenario
from game.state import GameState


def initial_rate(scenario: Scenario, index: int) -> int:
    """The order rate the stage's pipeline was set up with (the anchor before any history)."""
    spec = scenario.stages[index]
    boxes = spec.orders or spec.shipments
    return round(sum(boxes) / len(boxes)) if boxes else 0


def lost_sale_cost(scenario: Scenario, state: GameState, index: int) -> float:
    """What a unit short at the stage costs in customers who will not wait for it.

    A shortage here adds at least a week to what a consumer waits when every stage
    between it and the consumer works to order (or it sells to consumers itself); a
    customer who would wait that long but not a week longer walks away: the lost margin
    (price minus unit cost) plus goodwill, weighted by the share of such customers (the
    segments' patience) and the channel's market share. 0 when stock downstream buffers
    the stage or every customer is patient."""
    topo = scenario.topology
    instant = scenario.mto_orders == "instant"
    total = 0.0
    for f in topo.facing:
        wait, k = float(scenario.stages[f].delivery_delay), f
        while k >= 0 and k != index and state.stages[k].mode == "mto":
            # an order passes a make-to-order stage at once (or by mail) and its goods take the ship delay
            wait += scenario.stages[k].ship_delay + (0 if instant else scenario.stages[k].order_delay)
            k = topo.supplier[k]
        if k != index:
            continue
        share = scenario.stages[f].market_share
        for seg in scenario.segments:
            # the customers who would wait ``wait`` weeks but not a week more
            marginal = seg.willing(wait) - seg.willing(wait + 1)
            if marginal > 0:
                total += share * seg.share * marginal * (seg.price - scenario.unit_cost + seg.goodwill)
    return max(0.0, total)


def observe(scenario: Scenario, state: GameState, role: str) -> dict[str, Any]:
    """The role's own situation this week: its stock, backlog, this week's flows,
    its supply line, what its stock, backlog and capacity cost per unit (and what a
    unit short costs in customers who walk away), and the one
    decision it has to make, with bounds. Never the last week: whether players know it is
    the view's business (``game.horizon``)."""
    i = scenario.index(role)
    spec = scenario.stages[i]
    s = state.stages[i]
    ev = state.events[i] if state.events else {}
    obs: dict[str, Any] = {
        "role": role,
        "week": state.week,
        "mode": s.mode,
        "decision": decision_kind(scenario, state, role),
        "bounds": decision_bounds(scenario, state, role),
        "on_hand": s.on_hand,
        "backlog": sum(s.owed),
        "wip": s.wip,
        "capacity": s.capacity,
        "received": ev.get("received", 0),
        "incoming_order": ev.get("incoming_order", 0),
        "shipped": ev.get("shipped", 0),
        "supply_line": supply_line(scenario, state, i),
        "on_the_way": list(s.ship_q),
        "orders_in_mail": list(s.order_q),
        "lead_time": spec.order_delay + spec.ship_delay,
        "initial_rate": initial_rate(scenario, i),
        "cost": ev.get("cost", 0.0),
        "rates": {
            "holding": spec.holding_cost,
            "backlog": spec.backlog_cost,
            "capacity": spec.capacity_cost,
            "capacity_change": spec.capacity_change_cost,
            "fulfilment": spec.fulfilment_cost,
            "lost_sale": lost_sale_cost(scenario, state, i),
        },
    }
    if spec.consumer_facing:
        # the customers of the role's own stock point (not those of a segment's own process)
        skus = ev.get("skus", {})
        lanes = [scenario.network.nodes[k].label for k in scenario.network.lanes[i]]
        obs["demand"] = ev.get("demand", 0) - sum(skus[x][3] for x in lanes if x in skus)
        obs["lost"] = ev.get("lost", 0)
    return obs
