"""The pure weekly step: state plus every stage's decision in, new state plus events out.

One week, for every stage at once (Sterman's board game order):

1. Receive the goods in the first shipping box; the boxes advance. A
   make-to-order stage puts what arrives in its work queue and processes up to
   its capacity into finished goods.
2. Read the incoming order (consumer-facing: this week's consumers, who buy
   from stock, wait, or walk away, by segment) and ship
   ``min(on hand, incoming + backlog)``; the rest stays backlog.
3. Cost the week: holding, backlog, capacity, fulfilment (and write-off at the
   end of the game).
4. Order slips advance one box (the queues below do that implicitly).
5. Every stage places its order: a make-to-stock stage orders its decision; a
   make-to-order stage's decision is its capacity, and it orders exactly what
   it still needs to fill the orders it holds (a base stock of zero).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from game.codp import customisable
from game.scenario import INFINITE, Scenario
from game.state import GameState, StageState


class DecisionError(ValueError):
    """A decision is missing, not a whole number, or out of the scenario's bounds."""


def decision_kind(scenario: Scenario, state: GameState, role: str) -> str:
    """``"order"`` for a make-to-stock stage, ``"capacity"`` for a make-to-order one."""
    return "capacity" if state.stages[scenario.index(role)].mode == "mto" else "order"


def decision_bounds(scenario: Scenario, state: GameState, role: str) -> tuple[int, int]:
    """Inclusive bounds for ``role``'s decision this week."""
    spec = scenario.stage(role)
    if decision_kind(scenario, state, role) == "capacity":
        return 0, spec.max_capacity
    return 0, spec.max_order


def validate_decisions(scenario: Scenario, state: GameState, decisions: Mapping[str, Any]) -> dict[str, int]:
    """Check one decision per role; return them as ints. Raises ``DecisionError``."""
    out: dict[str, int] = {}
    for extra in decisions:
        if extra not in scenario.roles:
            raise DecisionError(f"unknown role {extra!r}")
    for role in scenario.roles:
        if role not in decisions:
            raise DecisionError(f"no decision for {role}")
        value = decisions[role]
        if isinstance(value, bool) or not isinstance(value, int):
            if isinstance(value, float) and value.is_integer():
                value = int(value)
            else:
                raise DecisionError(f"{role}: decision must be a whole number, got {value!r}")
        lo, hi = decision_bounds(scenario, state, role)
        if not lo <= value <= hi:
            raise DecisionError(f"{role}: decision must be between {lo} and {hi}, got {value}")
        out[role] = value
    return out


def supply_line(scenario: Scenario, state: GameState, index: int) -> int:
    """Units ordered by stage ``index`` and not yet received: orders in the mail,
    the supplier's backlog owed to it, and goods in transit to it."""
    topo = scenario.topology
    s = state.stages[index]
    sup = topo.supplier[index]
    owed = state.stages[sup].owed[topo.slot[index]] if sup >= 0 else 0
    return sum(s.order_q) + owed + sum(s.ship_q)


def _wait(scenario: Scenario, st: list[StageState], i: int, extra: int, depth: int = 0) -> float:
    """Estimated weeks before stage ``i`` can ship ``extra`` units beyond what it owes."""
    topo = scenario.topology
    spec = scenario.stages[i]
    s = st[i]
    need = sum(s.owed) + extra - s.on_hand
    if need <= 0:
        return 0
    sup = topo.supplier[i]
    # Pass upstream only what is neither here, on its way, nor already owed by the supplier
    # (the supplier counts what it owes us itself): otherwise the wait is counted twice.
    upstream = 0.0
    if sup >= 0 and depth <= 8:
        short = need - s.wip - sum(s.ship_q) - st[sup].owed[topo.slot[i]]
        upstream = _wait(scenario, st, sup, short if short > 0 else 0, depth + 1)
    structural = spec.order_delay + spec.ship_delay + upstream
    if s.mode == "mts":
        cum = 0
        for k, x in enumerate(s.ship_q, 1):
            cum += x
            if cum >= need:
                return k
        return max(len(s.ship_q) + 1, structural)
    if s.capacity <= 0:
        return INFINITE
    queued = s.wip + sum(s.ship_q)
    if queued >= need:
        # the goods are here or on the way: capacity and transit decide
        cum = s.wip
        arrive = 0
        for k, x in enumerate(s.ship_q, 1):
            if cum >= need:
                break
            cum += x
            arrive = k
        return max(arrive, math.ceil(need / s.capacity))
    return max(structural, math.ceil(need / s.capacity))


def quote(scenario: Scenario, state: GameState, role: str) -> float:
    """The lead time (weeks) the chain would quote now to a consumer at ``role``
    whose order cannot be served from stock: the wait plus parcel delivery."""
    i = scenario.index(role)
    return _wait(scenario, state.stages, i, 1) + scenario.stages[i].delivery_delay


def step(scenario: Scenario, state: GameState, decisions: Mapping[str, Any]) -> tuple[GameState, list[dict[str, Any]]]:
    """Complete the current week with every stage's decision and play on to the next
    decision point. Returns the new state and the finished week's events, one dict
    per stage in scenario order (``order`` is what the stage placed; ``decision``
    what it decided).

    Raises ``DecisionError`` for a missing or invalid decision and ``ValueError``
    when the game is over. The input state is not modified.
    """
    if state.done:
        raise ValueError(f"the game is over (week {state.week} of {scenario.weeks})")
    dec = validate_decisions(scenario, state, decisions)
    new = state.copy()
    events = _place_orders(scenario, new, dec)
    if new.week >= scenario.weeks:
        new.done = True
    else:
        _advance(scenario, new)
    return new, events


def advance(scenario: Scenario, state: GameState) -> GameState:
    """A copy of ``state`` moved on by steps 1-4 of the next week (used to start a game)."""
    new = state.copy()
    _advance(scenario, new)
    return new


def _place_orders(scenario: Scenario, new: GameState, dec: dict[str, int]) -> list[dict[str, Any]]:
    """Step 5, in place: every stage places its order (make-to-order: sets its capacity)."""
    st = new.stages
    events = new.events
    for i, role in enumerate(scenario.roles):
        s = st[i]
        d = dec[role]
        if s.mode == "mto":
            need = sum(s.owed) - s.on_hand - s.wip - supply_line(scenario, new, i)
            order = need if need > 0 else 0
            s.capacity = d
        else:
            order = d
        s.order_q.append(order)
        ev = events[i]
        ev["order"] = order
        ev["decision"] = d
    new.events = []
    return events


def _advance(scenario: Scenario, new: GameState) -> None:
    """Steps 1-4 of the next week, in place; the outcome goes to ``new.events``."""
    topo = scenario.topology
    specs = scenario.stages
    week = new.week + 1
    st = new.stages
    n = topo.n

    # 1. receive (and process, for make-to-order)
    received = [0] * n
    processed = [0] * n
    for i in range(n):
        s = st[i]
        r = s.ship_q.pop(0)
        received[i] = r
        if s.mode == "mts":
            s.on_hand += r
        else:
            s.wip += r
            p = s.wip if s.wip < s.capacity else s.capacity
            s.wip -= p
            s.on_hand += p
            processed[i] = p

    quotes = [0.0] * n
    if not topo.simple_market:
        for i in topo.facing:
            quotes[i] = _wait(scenario, st, i, 1) + specs[i].delivery_delay
    custom_ok = scenario.customisation_stage is not None and customisable(scenario, new.modes(scenario))

    # 2. incoming orders and shipping
    incoming = [0] * n
    shipped = [0] * n
    market: list[dict[str, Any] | None] = [None] * n
    for i in range(n):
        s = st[i]
        owed = s.owed
        if topo.channel[i] >= 0:
            m = _consumers(scenario, new, i, week, quotes[i], custom_ok)
            market[i] = m
            inc = m["accepted"]
            owed[0] += inc
            total = owed[0]
            ship = total if total <= s.on_hand else s.on_hand
            s.on_hand -= ship
            owed[0] -= ship
            _deliver(scenario, s, i, ship, week, m)
        else:
            customers = topo.customers[i]
            inc = 0
            for k, j in enumerate(customers):
                o = st[j].order_q.pop(0)
                inc += o
                owed[k] += o
            total = sum(owed)
            if total <= s.on_hand:
                ship = total
                for k, j in enumerate(customers):
                    st[j].ship_q.append(owed[k])
                    owed[k] = 0
            else:
                ship = s.on_hand
                parts = _ration(owed, ship)
                for k, j in enumerate(customers):
                    st[j].ship_q.append(parts[k])
                    owed[k] -= parts[k]
            s.on_hand -= ship
        incoming[i] = inc
        shipped[i] = ship
        if topo.supplier[i] < 0:  # the outside source fills every order in full
            s.ship_q.append(s.order_q.pop(0))

    # 3. costs (4: the order queues advanced as they were read)
    last = week == scenario.weeks
    events: list[dict[str, Any]] = []
    for i in range(n):
        s = st[i]
        spec = specs[i]
        backlog = sum(s.owed)
        holding = spec.holding_cost * s.on_hand + spec.wip_holding_cost * s.wip
        backlog_cost = spec.backlog_cost * backlog
        capacity_cost = spec.capacity_cost * s.capacity if s.mode == "mto" else 0.0
        m = market[i]
        fulfilment = spec.fulfilment_cost * shipped[i] if m is not None else 0.0
        material = scenario.unit_cost * s.ship_q[-1] if topo.supplier[i] < 0 else 0.0
        write_off = 0.0
        if last and scenario.write_off_rate:
            left = s.on_hand + s.wip + sum(s.ship_q)
            write_off = left * spec.unit_value * scenario.write_off_rate
        goodwill = m["goodwill"] if m else 0.0
        ev = {
            "received": received[i],
            "incoming_order": incoming[i],
            "shipped": shipped[i],
            "inventory": s.on_hand,
            "backlog": backlog,
            "order": None,
            "decision": None,
            "cost": holding + backlog_cost + capacity_cost + fulfilment + material + write_off + goodwill,
            "mode": s.mode,
            "capacity": s.capacity,
            "processed": processed[i],
            "wip": s.wip,
            "holding_cost": holding,
            "backlog_cost": backlog_cost,
            "capacity_cost": capacity_cost,
            "fulfilment_cost": fulfilment,
            "material_cost": material,
            "write_off": write_off,
        }
        if m is not None:
            ev.update(m)
        events.append(ev)
    new.week = week
    new.events = events


def _consumers(
    scenario: Scenario, state: GameState, i: int, week: int, quote_weeks: float, custom_ok: bool
) -> dict[str, Any]:
    """This week's consumers at consumer-facing stage ``i``: who buys, waits or walks away.

    Units in stock (after the backlog) are sold now (lead time = parcel
    delivery); the rest wait when the segment tolerates the quoted lead time,
    and are lost sales otherwise.
    """
    s = state.stages[i]
    spec = scenario.stages[i]
    topo = scenario.topology
    demand = state.demand[week - 1][topo.channel[i]]
    avail = s.on_hand - s.owed[0]
    if avail < 0:
        avail = 0
    accepted = lost = 0
    lost_margin = goodwill = 0.0
    lost_by = [0] * len(demand)
    for k in topo.segment_order:
        n = demand[k]
        if not n:
            continue
        seg = scenario.segments[k]
        now = n if n <= avail else avail
        if spec.delivery_delay > seg.tolerance:
            now = 0
        avail -= now
        rest = n - now
        waits = rest if quote_weeks <= seg.tolerance else 0
        gone = rest - waits
        take = now + waits
        if take:
            price = seg.price + (seg.premium if seg.customised and custom_ok else 0.0)
            s.open_orders.append([week, take, k, price])
            accepted += take
        if gone:
            lost += gone
            lost_by[k] = gone
            lost_margin += gone * (seg.price - scenario.unit_cost)
            goodwill += gone * seg.goodwill
    return {
        "demand": sum(demand),
        "demand_by_segment": list(demand),
        "accepted": accepted,
        "lost": lost,
        "lost_by_segment": lost_by,
        "lost_margin": lost_margin,
        "goodwill": goodwill,
        "quoted_lead_time": quote_weeks,
    }


def _deliver(scenario: Scenario, s: StageState, i: int, ship: int, week: int, m: dict[str, Any]) -> None:
    """Ship ``ship`` units to consumers, oldest orders first; book revenue and lead times."""
    delay = scenario.stages[i].delivery_delay
    revenue = 0.0
    lt_sum = 0
    lt_max = -1
    left = ship
    oo = s.open_orders
    while left and oo:
        first = oo[0]
        take = first[1] if first[1] <= left else left
        revenue += take * first[3]
        lead = week - first[0] + delay
        lt_sum += lead * take
        if lead > lt_max:
            lt_max = lead
        left -= take
        if take == first[1]:
            oo.pop(0)
        else:
            first[1] -= take
    if delay:
        s.deliveries.append(ship)
        delivered = s.deliveries.pop(0)
    else:
        delivered = ship
    m["sold"] = ship
    m["delivered"] = delivered
    m["revenue"] = revenue
    m["lead_time_sum"] = lt_sum
    m["lead_time_max"] = lt_max if lt_max >= 0 else None


def _ration(owed: list[int], available: int) -> list[int]:
    """Share ``available`` units across customers in proportion to what each is owed
    (largest remainder, ties to the first listed)."""
    total = sum(owed)
    if len(owed) == 1:
        return [available]
    parts = [o * available // total for o in owed]
    rest = available - sum(parts)
    order = sorted(range(len(owed)), key=lambda k: (-(owed[k] * available - parts[k] * total), k))
    for k in order[:rest]:
        parts[k] += 1
    return parts
