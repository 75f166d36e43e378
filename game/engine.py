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
from collections.abc import Callable, Mapping
from typing import Any

from game.codp import customisable
from game.scenario import INFINITE, Scenario
from game.state import GameState, StageState


class DecisionError(ValueError):
    """A decision is missing, not a whole number, or out of the scenario's bounds."""


class _Plan:
    """Per-scenario constants for the weekly loop, computed once and cached on the scenario."""

    def __init__(self, scenario: Scenario) -> None:
        topo = scenario.topology
        specs = scenario.stages
        self.roles: tuple[str, ...] = scenario.roles
        self.index: dict[str, int] = {r: i for i, r in enumerate(self.roles)}
        self.n: int = topo.n
        self.supplier: list[int] = topo.supplier
        self.slot: list[int] = topo.slot
        self.facing: list[int] = topo.facing
        self.simple_market: bool = topo.simple_market
        self.max_order = [s.max_order for s in specs]
        self.max_capacity = [s.max_capacity for s in specs]
        self.wip_holding_cost = [s.wip_holding_cost for s in specs]
        self.capacity_cost = [s.capacity_cost for s in specs]
        self.capacity_change_cost = [s.capacity_change_cost for s in specs]
        self.fulfilment_cost = [s.fulfilment_cost for s in specs]
        self.unit_value = [s.unit_value for s in specs]
        # customisable() per tuple of stage modes (modes change only at strategy reviews)
        self.custom_cache: dict[tuple[str, ...], bool] = {}
        self.ids = range(self.n)
        # the decision bound when every stage has the same one whatever its mode, else 0
        bounds = set(self.max_order) | set(self.max_capacity)
        self.same_bound = bounds.pop() if len(bounds) == 1 else 0
        self.zero_quotes = [0.0] * self.n
        # per stage: consumer-facing, buys from the outside source, customers, one customer only,
        # "plain" (no wip, fulfilment or material cost: see _advance), holding and backlog cost rates,
        # a plain week's event template with the stage's initial capacity, and that capacity
        self.rows = [
            (
                topo.channel[i] >= 0,
                topo.supplier[i] < 0,
                topo.customers[i],
                len(topo.customers[i]) == 1,
                s.wip_holding_cost == 0
                and (s.fulfilment_cost == 0 or topo.channel[i] < 0)
                and (scenario.unit_cost == 0 or topo.supplier[i] >= 0),
                s.holding_cost,
                s.backlog_cost,
                {**_PLAIN_EVENT, "capacity": s.capacity}.copy,
                s.capacity,
            )
            for i, s in enumerate(specs)
        ]


def _plan(scenario: Scenario) -> _Plan:
    """The scenario's cached ``_Plan`` (stored like the cached ``topology``)."""
    cache = scenario.__dict__
    plan = cache.get("_engine_plan")
    if plan is None:
        plan = cache["_engine_plan"] = _Plan(scenario)
    return plan


def _custom_ok(scenario: Scenario, plan: _Plan, st: list[StageState]) -> bool:
    """``customisable`` for the stages' current modes, memoised per mode combination."""
    if scenario.customisation_stage is None:
        return False
    modes = tuple(s.mode for s in st)
    ok = plan.custom_cache.get(modes)
    if ok is None:
        ok = plan.custom_cache[modes] = customisable(scenario, dict(zip(plan.roles, modes, strict=True)))
    return ok


def _index(scenario: Scenario, role: str) -> int:
    """Position of ``role`` (``ValueError`` for an unknown role, like ``Scenario.index``)."""
    i = _plan(scenario).index.get(role)
    return scenario.index(role) if i is None else i


def decision_kind(scenario: Scenario, state: GameState, role: str) -> str:
    """``"order"`` for a make-to-stock stage, ``"capacity"`` for a make-to-order one."""
    return "capacity" if state.stages[_index(scenario, role)].mode == "mto" else "order"


def decision_bounds(scenario: Scenario, state: GameState, role: str) -> tuple[int, int]:
    """Inclusive bounds for ``role``'s decision this week."""
    plan = _plan(scenario)
    i = _index(scenario, role)
    if state.stages[i].mode == "mto":
        return 0, plan.max_capacity[i]
    return 0, plan.max_order[i]


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


def _decision_list(scenario: Scenario, plan: _Plan, state: GameState, decisions: Mapping[str, Any]) -> list[int]:
    """The decisions as a list in stage order; plain in-bounds ints take the fast path,
    anything else goes through ``validate_decisions`` (same checks, same messages)."""
    if len(decisions) == plan.n:
        get = decisions.get
        out = list(map(get, plan.roles))
        hi = plan.same_bound
        if hi:
            for v in out:
                if type(v) is not int or v < 0 or v > hi:
                    break
            else:
                return out
        else:
            for v, s, hi_order, hi_capacity in zip(out, state.stages, plan.max_order, plan.max_capacity, strict=True):
                if type(v) is not int or v < 0 or v > (hi_capacity if s.mode == "mto" else hi_order):
                    break
            else:
                return out
    checked = validate_decisions(scenario, state, decisions)
    return [checked[r] for r in plan.roles]


def supply_line(scenario: Scenario, state: GameState, index: int) -> int:
    """Units ordered by stage ``index`` and not yet received: orders in the mail,
    the supplier's backlog owed to it, and goods in transit to it."""
    plan = _plan(scenario)
    s = state.stages[index]
    sup = plan.supplier[index]
    owed = state.stages[sup].owed[plan.slot[index]] if sup >= 0 else 0
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
    plan = _plan(scenario)
    dec = _decision_list(scenario, plan, state, decisions)
    new = state.copy()
    return new, _week(scenario, plan, new, dec)


def play_week(scenario: Scenario, state: GameState, decisions: Mapping[str, Any]) -> list[dict[str, Any]]:
    """``step`` in place: ``state`` itself moves on to the next decision point and the
    finished week's events are returned. For whole-game loops that own their state
    (``run``, ``game.simulate``); everything else should use ``step``."""
    if state.done:
        raise ValueError(f"the game is over (week {state.week} of {scenario.weeks})")
    plan = _plan(scenario)
    return _week(scenario, plan, state, _decision_list(scenario, plan, state, decisions))


def run(
    scenario: Scenario, state: GameState, decide: Callable[[GameState], Mapping[str, Any]]
) -> tuple[GameState, list[list[dict[str, Any]]]]:
    """Play from ``state`` to the end of the game: each week ``decide(state)`` returns
    every role's decision. Returns the final state and the events of each week played.

    Same results as calling ``step`` week by week, but the state is copied once and
    then moved on in place (``state`` itself is not modified)."""
    plan = _plan(scenario)
    state = state.copy()
    weeks: list[list[dict[str, Any]]] = []
    append = weeks.append
    last = scenario.weeks
    while not state.done:
        append(_place_orders(scenario, plan, state, _decision_list(scenario, plan, state, decide(state))))
        if state.week >= last:
            state.done = True
        else:
            _advance(scenario, plan, state)
    return state, weeks


def advance(scenario: Scenario, state: GameState) -> GameState:
    """A copy of ``state`` moved on by steps 1-4 of the next week (used to start a game)."""
    new = state.copy()
    _advance(scenario, _plan(scenario), new)
    return new


def _week(scenario: Scenario, plan: _Plan, new: GameState, dec: list[int]) -> list[dict[str, Any]]:
    """Step 5 of this week and steps 1-4 of the next, in place; returns this week's events."""
    events = _place_orders(scenario, plan, new, dec)
    if new.week >= scenario.weeks:
        new.done = True
    else:
        _advance(scenario, plan, new)
    return events


def _place_orders(scenario: Scenario, plan: _Plan, new: GameState, dec: list[int]) -> list[dict[str, Any]]:
    """Step 5, in place: every stage places its order (make-to-order: sets its capacity)."""
    st = new.stages
    events = new.events
    for i, s, d, ev in zip(plan.ids, st, dec, events, strict=True):
        if s.mode == "mto":
            sup = plan.supplier[i]
            owed = st[sup].owed[plan.slot[i]] if sup >= 0 else 0
            need = sum(s.owed) - s.on_hand - s.wip - (sum(s.order_q) + owed + sum(s.ship_q))
            order = need if need > 0 else 0
            change = plan.capacity_change_cost[i] * abs(d - s.capacity)
            if change:  # hiring, overtime or idle shifts: booked in the week it is decided
                ev["capacity_cost"] += change
                ev["cost"] += change
            s.capacity = d
        else:
            order = d
        s.order_q.append(order)
        ev["order"] = order
        ev["decision"] = d
    new.events = []
    return events


#: The cost terms of every stage's weekly event; ``cost`` is their sum plus goodwill (lost
#: sales) for a consumer-facing stage.
COST_PARTS = ("holding_cost", "backlog_cost", "capacity_cost", "fulfilment_cost", "material_cost", "write_off")
#: The unit flows of every stage's weekly event, in the order tables show them.
FLOW_FIELDS = ("received", "incoming_order", "shipped", "inventory", "backlog", "order", "decision")

_PLAIN_EVENT: dict[str, Any] = {
    "received": 0,
    "incoming_order": 0,
    "shipped": 0,
    "inventory": 0,
    "backlog": 0,
    "order": None,
    "decision": None,
    "cost": 0.0,
    "mode": "mts",
    "capacity": 0,
    "processed": 0,
    "wip": 0,
    "holding_cost": 0.0,
    "backlog_cost": 0.0,
    "capacity_cost": 0.0,
    "fulfilment_cost": 0.0,
    "material_cost": 0.0,
    "write_off": 0.0,
}


# the same with room for the market keys, in the order ``_consumers`` and ``_deliver`` set them
# (a key added there lands at the end of a plain week's event; keep this list in step)
_FACING_EVENT: dict[str, Any] = {
    **_PLAIN_EVENT,
    **dict.fromkeys(("demand", "demand_by_segment", "accepted", "lost", "lost_by_segment", "lost_margin")),
    **dict.fromkeys(("goodwill", "quoted_lead_time", "sold", "delivered", "revenue", "lead_time_sum")),
    "lead_time_max": None,
}


def _advance(scenario: Scenario, plan: _Plan, new: GameState) -> None:
    """Steps 1-4 of the next week, in place; the outcome goes to ``new.events``.

    Steps 2-3 run stage by stage in scenario order, which is exact because a
    stage is only touched by itself and by its supplier, listed before it. Step 1
    runs for every stage first when lead times are quoted (the quote reads the
    chain after receiving), else inside the same loop."""
    week = new.week + 1
    st = new.stages
    simple = plan.simple_market
    if simple:
        quotes = plan.zero_quotes
        pre: list[tuple[int, int]] = []
    else:
        pre = [_receive(s) for s in st]
        quotes = [0.0] * plan.n
        specs = scenario.stages
        for i in plan.facing:
            quotes[i] = _wait(scenario, st, i, 1) + specs[i].delivery_delay
    custom_ok = scenario.customisation_stage is not None and _custom_ok(scenario, plan, st)

    # 2. incoming orders and shipping, 3. costs (4: the order queues advance as they are read)
    write_off_rate = scenario.write_off_rate if week == scenario.weeks else 0.0
    unit_cost = scenario.unit_cost
    events: list[dict[str, Any]] = []
    append = events.append
    for i, s, (facing, source, customers, single, plain, hc, bc, plain_event, capacity) in zip(
        plan.ids, st, plan.rows, strict=True
    ):
        mode = s.mode
        # 1. receive (and process, for make-to-order); same as _receive
        if simple:
            r = s.ship_q.pop(0)
            if mode == "mts":
                on_hand = s.on_hand + r
                p = 0
            else:
                wip = s.wip + r
                p = wip if wip < s.capacity else s.capacity
                s.wip = wip - p
                on_hand = s.on_hand + p
            s.on_hand = on_hand
        else:
            r, p = pre[i]
            on_hand = s.on_hand
        owed = s.owed
        if facing:
            # a plain week writes the market straight into its event template (see below)
            lean = plain and mode == "mts" and not write_off_rate
            m = _consumers(scenario, new, i, week, quotes[i], custom_ok, _FACING_EVENT.copy() if lean else None)
            total = owed[0] + m["accepted"]
            inc = m["accepted"]
            ship = total if total <= on_hand else on_hand
            on_hand -= ship
            owed[0] = total - ship
            s.on_hand = on_hand
            _deliver(scenario, s, i, ship, week, m)
        else:
            m = None
            if single:
                c = st[customers[0]]
                inc = c.order_q.pop(0)
                total = owed[0] + inc
                if total <= on_hand:
                    ship = total
                    owed[0] = 0
                else:
                    ship = on_hand
                    owed[0] = total - ship
                c.ship_q.append(ship)
            else:
                inc = 0
                for k, j in enumerate(customers):
                    o = st[j].order_q.pop(0)
                    inc += o
                    owed[k] += o
                total = sum(owed)
                if total <= on_hand:
                    ship = total
                    for k, j in enumerate(customers):
                        st[j].ship_q.append(owed[k])
                        owed[k] = 0
                else:
                    ship = on_hand
                    parts = _ration(owed, ship)
                    for k, j in enumerate(customers):
                        st[j].ship_q.append(parts[k])
                        owed[k] -= parts[k]
            on_hand -= ship
            s.on_hand = on_hand
        if source:  # the outside source fills every order in full
            s.ship_q.append(s.order_q.pop(0))

        backlog = owed[0] if single else sum(owed)
        if plain and mode == "mts" and not write_off_rate:
            # no wip holding, capacity, fulfilment, material or write-off cost: fill in a
            # template (the terms left out are 0.0, so the sums are the same floats)
            holding = hc * on_hand
            backlog_cost = bc * backlog
            ev = m if m is not None else plain_event()
            ev["received"] = r
            ev["incoming_order"] = inc
            ev["shipped"] = ship
            ev["inventory"] = on_hand
            ev["backlog"] = backlog
            ev["cost"] = holding + backlog_cost + m["goodwill"] if m else holding + backlog_cost
            if s.capacity != capacity or m is not None:
                ev["capacity"] = s.capacity
            if s.wip:
                ev["wip"] = s.wip
            ev["holding_cost"] = holding
            ev["backlog_cost"] = backlog_cost
        else:
            wip = s.wip
            holding = hc * on_hand + plan.wip_holding_cost[i] * wip
            backlog_cost = bc * backlog
            capacity_cost = plan.capacity_cost[i] * s.capacity if mode == "mto" else 0.0
            fulfilment = plan.fulfilment_cost[i] * ship if facing else 0.0
            material = unit_cost * s.ship_q[-1] if source else 0.0
            write_off = 0.0
            if write_off_rate:
                write_off = (on_hand + wip + sum(s.ship_q)) * plan.unit_value[i] * write_off_rate
            goodwill = m["goodwill"] if m else 0.0
            ev = {
                "received": r,
                "incoming_order": inc,
                "shipped": ship,
                "inventory": on_hand,
                "backlog": backlog,
                "order": None,
                "decision": None,
                "cost": holding + backlog_cost + capacity_cost + fulfilment + material + write_off + goodwill,
                "mode": mode,
                "capacity": s.capacity,
                "processed": p,
                "wip": wip,
                "holding_cost": holding,
                "backlog_cost": backlog_cost,
                "capacity_cost": capacity_cost,
                "fulfilment_cost": fulfilment,
                "material_cost": material,
                "write_off": write_off,
            }
            if m is not None:
                ev.update(m)
        append(ev)
    new.week = week
    new.events = events


def _receive(s: StageState) -> tuple[int, int]:
    """Step 1 for one stage, in place: (units received, units processed)."""
    r = s.ship_q.pop(0)
    if s.mode == "mts":
        s.on_hand += r
        return r, 0
    s.wip += r
    p = s.wip if s.wip < s.capacity else s.capacity
    s.wip -= p
    s.on_hand += p
    return r, p


def _consumers(
    scenario: Scenario,
    state: GameState,
    i: int,
    week: int,
    quote_weeks: float,
    custom_ok: bool,
    out: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """This week's consumers at consumer-facing stage ``i``: who buys, waits or walks away.

    Units in stock (after the backlog) are sold now (lead time = parcel
    delivery); the rest wait when the segment tolerates the quoted lead time,
    and are lost sales otherwise. The market keys go into ``out`` (default: a
    new dict), which is returned; a key added or dropped here (or in ``_deliver``)
    must be added to or dropped from ``_FACING_EVENT`` too.
    """
    s = state.stages[i]
    segments = scenario.segments
    topo = scenario.topology
    demand = state.demand[week - 1][topo.channel[i]]
    m = {} if out is None else out
    if topo.simple_market and len(demand) == 1 and not s.loyalty:
        # the classic market: one patient segment, no parcels; everybody is accepted
        # (what the general rule below gives, without the bookkeeping)
        n = demand[0]
        if n:
            seg = segments[0]
            s.open_orders.append([week, n, 0, seg.price + (seg.premium if seg.customised and custom_ok else 0.0)])
        m["demand"] = n
        m["demand_by_segment"] = [n]
        m["accepted"] = n
        m["lost"] = 0
        m["lost_by_segment"] = [0]
        m["lost_margin"] = 0.0
        m["goodwill"] = 0.0
        m["quoted_lead_time"] = quote_weeks
        return m
    delay = scenario.stages[i].delivery_delay
    loyalty = s.loyalty
    if loyalty:  # customers lost for good no longer come
        demand = [math.floor(d * share + 0.5) for d, share in zip(demand, loyalty, strict=True)]
        s.came.append(sum(demand))
    accepted = lost = 0
    lost_margin = goodwill = 0.0
    lost_by = [0] * len(demand)
    if topo.simple_market:
        # every segment waits as long as it takes and there is no parcel delay: all are
        # accepted (the general rule below gives the same, with nobody gone)
        for k in topo.segment_order:
            n = demand[k]
            if n:
                seg = segments[k]
                price = seg.price + (seg.premium if seg.customised and custom_ok else 0.0)
                s.open_orders.append([week, n, k, price])
                accepted += n
    else:
        avail = s.on_hand - s.owed[0]
        if avail < 0:
            avail = 0
        for k in topo.segment_order:
            n = demand[k]
            if not n:
                continue
            seg = segments[k]
            now = n if n <= avail else avail
            if delay > seg.tolerance:
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
                if loyalty and seg.churn:
                    loyalty[k] *= 1.0 - seg.churn * gone / n
    m["demand"] = sum(demand)
    m["demand_by_segment"] = list(demand)
    m["accepted"] = accepted
    m["lost"] = lost
    m["lost_by_segment"] = lost_by
    m["lost_margin"] = lost_margin
    m["goodwill"] = goodwill
    m["quoted_lead_time"] = quote_weeks if quote_weeks != INFINITE else None  # None: no lead time can be quoted
    return m


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
