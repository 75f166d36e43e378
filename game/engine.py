"""The pure weekly step: state plus every stage's decision in, new state plus events out.

One week, for every stage at once (Sterman's board game order):

1. Receive the goods in the first shipping box; the boxes advance. A
   make-to-order stage puts what arrives in its work queue and processes up to
   its capacity into finished goods.
2. Read the incoming order (consumer-facing: customers already waiting whose
   patience has run out cancel, then this week's consumers buy from stock,
   wait, or walk away, by segment) and ship
   ``min(on hand, incoming + backlog)``; the rest stays backlog.
3. Cost the week: holding, backlog, capacity, fulfilment and the material of the
   units sold to consumers (cost of goods sold); at the end of the game the
   obsolescence loss on the goods left in the chain and the goodwill of the customers
   still waiting (``_close_books``).
4. Order slips advance one box (the queues below do that implicitly).
5. Every stage places its order: a make-to-stock stage orders its decision; a
   make-to-order stage's decision is its capacity, and it orders exactly what
   it still needs to fill the orders it holds (a base stock of zero).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from itertools import zip_longest
from typing import Any

from game.codp import customisable
from game.horizon import last_week
from game.network import UNLIMITED, learn_mix, split_order
from game.scenario import INFINITE, SALES_SEAT, Scenario, StageSpec
from game.state import GameState, StageState


class DecisionError(ValueError):
    """A decision is missing, not a whole number, or out of the scenario's bounds."""


class _Plan:
    """Per-scenario constants for the weekly loop, computed once and cached on the scenario.

    The loop plays the scenario's nodes (``game.network``): one per role, or per variant
    and region."""

    def __init__(self, scenario: Scenario, fast: bool = True) -> None:
        # False: no shortcut, every week by the general rules (see ``without_fast_paths``)
        self.fast = fast
        self._chain(scenario)
        self._mix()
        self._costs(scenario)
        self._market(scenario)

    def _chain(self, scenario: Scenario) -> None:
        """The nodes, their links and delays, and the decisions' bounds."""
        net = scenario.network
        specs = net.specs
        self.net = net
        self.roles: tuple[str, ...] = scenario.roles
        self.index: dict[str, int] = {r: i for i, r in enumerate(self.roles)}
        self.n: int = net.n
        self.identity = net.identity
        self.supplier: list[int] = net.supplier
        self.slot: list[int] = net.slot
        self.facing: list[int] = net.facing
        self.simple_market: bool = net.simple_market
        self.bounded = [s.mts_capacity > 0 for s in specs]
        # receive inside the shipping loop (the classic path) unless capacity is shared or
        # binds a make-to-stock stage, or lead times are quoted
        self.inline = (
            self.fast and net.simple_market and net.identity and not any(self.bounded) and not scenario.jit.late_share
        )
        self.ship_delay = [s.ship_delay for s in specs]
        self.delivery_delay = [s.delivery_delay for s in specs]
        self.instant = scenario.mto_orders == "instant"
        role_specs = scenario.stages
        self.max_order = [s.max_order for s in role_specs]
        self.max_capacity = [s.max_capacity for s in role_specs]
        # the decision bound when every stage has the same one whatever its mode, else 0
        bounds = set(self.max_order) | set(self.max_capacity)
        self.same_bound = bounds.pop() if len(bounds) == 1 else 0
        self.bills = net.bills
        self.pools = net.pools
        self.pool_of = net.pool_of
        # customisable() per tuple of stage modes (modes change only at strategy reviews)
        self.custom_cache: dict[tuple[str, ...], bool] = {}
        self.heads = [g[0] for g in net.decide]  # a role's mode is its first decide node's
        self.ids = range(self.n)
        self.rev = range(self.n - 1, -1, -1)
        self.zero_quotes = [0.0] * self.n
        self.zero_counts = [0] * self.n

    def _mix(self) -> None:
        """How a role's order is shared over its stock points, and what its position counts."""
        net = self.net
        # a node's share of its role's decide nodes (for sharing out a role's order)
        self.decide_share = [
            [net.nodes[i].share / (sum(net.nodes[j].share for j in g) or 1.0) for i in g] for g in net.decide
        ]
        # the roles whose one order is split over several stock points, and each point's expected
        # share of its role's demand, where the learnt mix starts (``learn_mix``)
        self.mix_groups = [g for g in net.decide if len(g) > 1]
        self.start_mix = [1.0] * self.n
        for g, shares in zip(net.decide, self.decide_share, strict=True):
            for i, share in zip(g, shares, strict=True):
                self.start_mix[i] = share
        # per role, for inventory_position: its nodes, its outlets and its decide nodes
        # (a segment's own process is not the role's stock point: its stock and backlog are the process's)
        own = [[i for i in g if i not in lanes] for g, lanes in zip(net.groups, net.lanes, strict=True)]
        self.position_rows = list(zip(own, net.outlets, net.decide, strict=True))

    def _costs(self, scenario: Scenario) -> None:
        """Per node: its cost rates, and what a week's event starts from."""
        net = self.net
        specs = net.specs
        self.wip_holding_cost = [s.wip_holding_cost for s in specs]
        self.capacity_cost = [s.capacity_cost for s in specs]
        self.capacity_change_cost = [s.capacity_change_cost for s in specs]
        self.fulfilment_cost = [s.fulfilment_cost for s in specs]
        # per node: consumer-facing, buys from the outside source, customers, one customer only,
        # "plain" (no wip, capacity, fulfilment or material cost: see _advance), holding and backlog
        # cost rates, a plain week's event template with the initial capacity, that capacity, and
        # whether a segment's own process can customise (None: not such a process)
        self.rows = [
            (
                net.channel[i] >= 0,
                net.supplier[i] < 0,
                net.customers[i],
                self.fast and len(net.customers[i]) == 1,
                self.fast
                and s.wip_holding_cost == 0
                and not self.bounded[i]
                and (s.fulfilment_cost == 0 or net.channel[i] < 0)
                and (scenario.unit_cost == 0 or net.channel[i] < 0),
                s.holding_cost,
                s.backlog_cost,
                {**_PLAIN_EVENT, "capacity": s.mts_capacity or s.capacity}.copy,
                s.mts_capacity or s.capacity,
                net.custom[i],
            )
            for i, s in enumerate(specs)
        ]
        # per node, for a week that is not plain: the holding, backlog and wip holding cost rates,
        # the capacity cost rate (None: not billed here, but at its pool's first node), throughput
        # bounded while working to stock, and the fulfilment cost rate
        self.cost_rows = [
            (
                s.holding_cost,
                s.backlog_cost,
                s.wip_holding_cost,
                s.capacity_cost if self.bills[i] else None,
                self.bounded[i],
                s.fulfilment_cost,
            )
            for i, s in enumerate(specs)
        ]
        self.pool_rows = [(pool, self.bounded[pool[0]]) for pool in net.pools]
        self.fixed_cost = net.fixed_cost
        # per node, the cost of a change of capacity where it is billed (else None)
        self.change_rate = [s.capacity_change_cost if self.bills[i] else None for i, s in enumerate(specs)]
        # per node, what a unit left at the end of the game loses (see ``_close_books``)
        self.closing_loss = [closing_loss(scenario, s) for s in specs]

    def _market(self, scenario: Scenario) -> None:
        """The consumers: who waits, co-makers' terms, and the sales seat."""
        # customers who cancel when their wait passes their patience, or cost more when late
        self.waiting = any(seg.renege or seg.late_cost for seg in scenario.segments)
        # customers still waiting at the end are lost sales where there are sales (not in the
        # classic game, where the backlog is all a waiting customer costs)
        self.unserved_lost = scenario.has_prices
        # co-making segments (``game.comaker``): their index, discounted-price factor, and per
        # node the lead time agreed for the node's variant
        self.comaking = [k for k, seg in enumerate(scenario.segments) if seg.comaking and seg.comaker]
        self.comaker_price = {
            k: 1.0 - scenario.segments[k].comaker.discount  # type: ignore[union-attr]
            for k in self.comaking
        }
        # the sales seat: the promise in force before its first decision (None: no seat)
        self.sales = scenario.sales
        self.first_promise = scenario.sales.promise if scenario.sales else None
        variants = scenario.product.variants
        self.agreed = [
            {
                k: scenario.segments[k].comaker.agreed(variants[max(nd.variant, 0)].name)  # type: ignore[union-attr]
                for k in self.comaking
            }
            for nd in self.net.nodes
        ]


def closing_loss(scenario: Scenario, spec: StageSpec) -> float:
    """What a unit left at ``spec``'s stage when the game ends loses: ``write_off_rate`` of
    its value there (``unit_value``), at most its cost (the books carry it at ``unit_cost``;
    the work done on it was paid as capacity in its week)."""
    loss = scenario.write_off_rate * spec.unit_value
    return loss if loss < scenario.unit_cost else scenario.unit_cost


def without_fast_paths(scenario: Scenario) -> Scenario:
    """A copy of ``scenario`` that the engine plays by its general rules only, without the
    shortcuts it takes in common cases (plain in-bounds decisions, receiving inside the
    shipping loop, a plain node's event, a node with one customer, the classic market).
    The results are the same; for the tests that check they are."""
    copy = scenario.with_stages(scenario.stages)
    copy.__dict__["_engine_plan"] = _Plan(copy, fast=False)
    return copy


def _plan(scenario: Scenario) -> _Plan:
    """The scenario's cached ``_Plan`` (kept in the scenario's ``__dict__``, built once)."""
    cache = scenario.__dict__
    plan = cache.get("_engine_plan")
    if plan is None:
        plan = cache["_engine_plan"] = _Plan(scenario)
    return plan


def _custom_ok(scenario: Scenario, plan: _Plan, st: list[StageState]) -> bool:
    """``customisable`` for the roles' current modes, memoised per mode combination."""
    if scenario.customisation_stage is None:
        return False
    modes = tuple([st[i].mode for i in plan.heads])
    ok = plan.custom_cache.get(modes)
    if ok is None:
        ok = plan.custom_cache[modes] = customisable(scenario, dict(zip(plan.roles, modes, strict=True)))
    return ok


def _index(scenario: Scenario, role: str) -> int:
    """Position of ``role`` (``ValueError`` for an unknown role, like ``Scenario.index``)."""
    i = _plan(scenario).index.get(role)
    return scenario.index(role) if i is None else i


def decision_kind(scenario: Scenario, state: GameState, role: str) -> str:
    """``"order"`` for a make-to-stock stage, ``"capacity"`` for a make-to-order one,
    ``"promise"`` for the sales seat."""
    if role == SALES_SEAT and scenario.sales is not None:
        return "promise"
    return "capacity" if state.stages[_index(scenario, role)].mode == "mto" else "order"


def decision_bounds(scenario: Scenario, state: GameState, role: str) -> tuple[int, int]:
    """Inclusive bounds for ``role``'s decision this week (the sales seat: its promise)."""
    plan = _plan(scenario)
    if role == SALES_SEAT and plan.sales is not None:
        return 0, plan.sales.max_promise
    i = _index(scenario, role)
    if state.stages[i].mode == "mto":
        return 0, plan.max_capacity[i]
    return 0, plan.max_order[i]


def all_bounds(scenario: Scenario, state: GameState) -> dict[str, tuple[int, int]]:
    """``decision_bounds`` of every role this week, and of the sales seat where there is one."""
    seat = (SALES_SEAT,) if scenario.sales is not None else ()
    return {r: decision_bounds(scenario, state, r) for r in scenario.roles + seat}


def validate_decisions(scenario: Scenario, state: GameState, decisions: Mapping[str, Any]) -> dict[str, int]:
    """Check one decision per role, and the sales seat's where it decides (optional: without
    it the promise in force stays); return them as ints. Raises ``DecisionError``."""
    out: dict[str, int] = {}
    seat = scenario.sales is not None
    for extra in decisions:
        if extra not in scenario.roles and not (seat and extra == SALES_SEAT):
            raise DecisionError(f"unknown role {extra!r}")
    for role in scenario.roles + ((SALES_SEAT,) if seat and SALES_SEAT in decisions else ()):
        if role not in decisions:
            raise DecisionError(f"no decision for {role}")
        out[role] = _checked(scenario, state, role, decisions[role])
    return out


def _checked(scenario: Scenario, state: GameState, role: str, value: Any) -> int:
    """One decision as an int: a whole number within ``role``'s bounds. Raises ``DecisionError``."""
    if isinstance(value, bool) or not isinstance(value, int):
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        else:
            raise DecisionError(f"{role}: decision must be a whole number, got {value!r}")
    lo, hi = decision_bounds(scenario, state, role)
    if not lo <= value <= hi:
        raise DecisionError(f"{role}: decision must be between {lo} and {hi}, got {value}")
    return value


def _promise(scenario: Scenario, plan: _Plan, state: GameState, decisions: Mapping[str, Any]) -> int | None:
    """The promise for the customers of the weeks to come: the sales seat's decision (the
    roles' are checked by ``_decision_list``), else the promise in force (None: no sales seat)."""
    if plan.sales is None:
        return None
    if SALES_SEAT in decisions:
        return _checked(scenario, state, SALES_SEAT, decisions[SALES_SEAT])
    return promise_in_force(scenario, state)


def promise_in_force(scenario: Scenario, state: GameState) -> int | None:
    """The lead time the sales seat promises this week's customers (None: no sales seat)."""
    plan = _plan(scenario)
    if plan.sales is None:
        return None
    events = state.events if state.nodes is None else state.node_events
    for i in plan.facing:
        if i < len(events) and events[i].get("promise") is not None:
            return int(events[i]["promise"])
    return plan.first_promise


def _decision_list(scenario: Scenario, plan: _Plan, state: GameState, decisions: Mapping[str, Any]) -> list[int]:
    """The roles' decisions as a list in stage order: plain in-bounds ints as they are (a
    shortcut), anything else through ``validate_decisions``."""
    if plan.sales is not None and SALES_SEAT in decisions:
        decisions = {r: v for r, v in decisions.items() if r != SALES_SEAT}
    if plan.fast and len(decisions) == len(plan.roles):
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


def _node_supply_line(plan: _Plan, st: list[StageState], i: int) -> int:
    """Units node ``i`` ordered and has not received: in the mail, owed by its supplier, in transit."""
    s = st[i]
    sup = plan.supplier[i]
    owed = st[sup].owed[plan.slot[i]] if sup >= 0 else 0
    return sum(s.order_q) + owed + sum(s.ship_q)


def supply_line(scenario: Scenario, state: GameState, index: int) -> int:
    """Units ordered by stage ``index`` and not yet received: orders in the mail,
    the supplier's backlog owed to it, and goods in transit to it."""
    plan = _plan(scenario)
    if state.nodes is None:
        return _node_supply_line(plan, state.stages, index)
    return sum(_node_supply_line(plan, state.nodes, i) for i in plan.net.decide[index])


def _wait(plan: _Plan, st: list[StageState], i: int, extra: int, after: float = 0, depth: int = 0) -> float:
    """Estimated weeks before node ``i`` can ship ``extra`` units beyond what it owes (``extra``
    at most 0: the last of what it owes but ``-extra``), given what it holds, what is on its way,
    its capacity and its supplier's stock and queue, for a request that reaches it in ``after``
    weeks (a make-to-order node orders what it lacks only then)."""
    s = st[i]
    need = sum(s.owed) + extra - s.on_hand
    if need <= 0:
        return after
    limited = s.mode == "mto" or plan.bounded[i]
    cap = s.capacity if limited else 0
    if limited and cap <= 0:
        return INFINITE
    cum = s.wip if limited else 0
    arrive = 0.0
    if cum < need:
        for k, x in enumerate(s.ship_q, 1):
            cum += x
            if cum >= need:
                arrive = k
                break
        else:
            arrive = _resupply(plan, st, i, need - cum, after if s.mode == "mto" else 0, depth)
    if limited and cap < UNLIMITED:
        # a shared capacity is rationed by the work each node holds, so all of the pool's work
        # drains together: this node's need is done when the whole pool's is
        work = need
        pool = plan.pools[plan.pool_of[i]]
        if len(pool) > 1:
            for j in pool:
                if j != i:
                    o = st[j]
                    rest = sum(o.owed) - o.on_hand
                    if rest > 0:
                        work += rest
        arrive = max(arrive, math.ceil(work / cap - 1e-9))
    return max(arrive, after)


def _resupply(plan: _Plan, st: list[StageState], i: int, short: int, ordered: float, depth: int) -> float:
    """Weeks before the ``short``-th unit node ``i`` lacks beyond the goods on their way to it
    arrives. What its supplier owes it comes first (shipped in proportion to what the supplier
    owes each customer), then its orders in the mail, each when it reaches the supplier (the
    first one this week), then an order it places ``ordered`` weeks from now; the supplier
    ships each as its own stock, pipeline and capacity allow."""
    s = st[i]
    spec = plan.net.specs[i]
    sup = plan.supplier[i]
    owes = st[sup].owed[plan.slot[i]] if sup >= 0 else 0
    if short <= owes:
        reach = 0.0
    else:
        reach = ordered + (0 if (s.mode == "mto" and plan.instant) else spec.order_delay)
        cum = owes
        for j, x in enumerate(s.order_q):
            cum += x
            if cum >= short:
                reach = j
                break
    if sup >= 0 and depth <= 8:
        total = sum(st[sup].owed)
        # the supplier's position of that unit beyond what it owes (at most 0: among what it owes)
        pos = math.ceil(short * total / owes - 1e-9) - total if short <= owes else short - owes
        reach = _wait(plan, st, sup, pos, reach, depth + 1)
    return reach + spec.ship_delay


def _quote_node(plan: _Plan, st: list[StageState], i: int) -> float:
    """The lead time quoted at consumer-facing node ``i`` to the next customer who cannot be
    served from stock: its wait plus parcel delivery."""
    s = st[i]
    free = s.on_hand - sum(s.owed)  # this week's customers take the free stock first
    return _wait(plan, st, i, free + 1 if free > 0 else 1) + plan.net.specs[i].delivery_delay


def quote(scenario: Scenario, state: GameState, role: str) -> float:
    """The lead time (weeks) the chain would quote now to a consumer at ``role``
    whose order cannot be served from stock: the wait plus parcel delivery
    (the mean over the role's variants and regions)."""
    plan = _plan(scenario)
    r = scenario.index(role)
    st = state.stages if state.nodes is None else state.nodes
    nodes = plan.net.decide[r]
    quotes = [_quote_node(plan, st, i) for i in nodes]
    return sum(quotes) / len(quotes)


def step(scenario: Scenario, state: GameState, decisions: Mapping[str, Any]) -> tuple[GameState, list[dict[str, Any]]]:
    """Complete the current week with every stage's decision and play on to the next
    decision point. Returns the new state and the finished week's events, one dict
    per stage in scenario order (``order`` is what the stage placed; ``decision``
    what it decided).

    Raises ``DecisionError`` for a missing or invalid decision and ``ValueError``
    when the game is over. The input state is not modified.
    """
    if state.done:
        raise ValueError(f"the game is over (week {state.week} of {last_week(scenario, state)})")
    plan = _plan(scenario)
    dec = _decision_list(scenario, plan, state, decisions)
    promise = _promise(scenario, plan, state, decisions)
    new = state.copy()
    return new, _week(scenario, plan, new, dec, promise=promise)


def play_week(
    scenario: Scenario, state: GameState, decisions: Mapping[str, Any], totals: bool = True
) -> list[dict[str, Any]]:
    """``step`` in place: ``state`` itself moves on to the next decision point and the
    finished week's events are returned. For whole-game loops that own their state
    (``run``, ``game.simulate``); everything else should use ``step``.

    ``totals=False`` (what-if loops that read only money and ``inventory_position``, for a
    whole game): where roles hold several stock points, the roles' totals are not written
    and the events returned are the nodes'; the lead time quoted to consumers is not worked
    out (``quoted_lead_time`` 0.0, and ``quoted_sum`` and ``quoted_units`` count every
    promise as if the chain could quote), which changes no stock, order or money."""
    if state.done:
        raise ValueError(f"the game is over (week {state.week} of {last_week(scenario, state)})")
    plan = _plan(scenario)
    dec = _decision_list(scenario, plan, state, decisions)
    return _week(scenario, plan, state, dec, totals, _promise(scenario, plan, state, decisions))


def inventory_position(scenario: Scenario, state: GameState, index: int) -> int:
    """Stage ``index``'s stock minus what it owes plus its supply line (over its stock
    points: the same figure as its totals in ``state.stages`` give)."""
    plan = _plan(scenario)
    if state.nodes is None:
        s = state.stages[index]
        return s.on_hand - sum(s.owed) + _node_supply_line(plan, state.stages, index)
    st = state.nodes
    group, outlets, decide = plan.position_rows[index]
    position = 0
    for i in group:
        position += st[i].on_hand
    for i in outlets:
        position -= sum(st[i].owed)
    for i in decide:
        position += _node_supply_line(plan, st, i)
    return position


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
    while not state.done:
        decisions = decide(state)
        dec = _decision_list(scenario, plan, state, decisions)
        append(_week(scenario, plan, state, dec, promise=_promise(scenario, plan, state, decisions)))
    return state, weeks


def advance(scenario: Scenario, state: GameState) -> GameState:
    """A copy of ``state`` moved on by steps 1-4 of the next week (used to start a game)."""
    new = state.copy()
    _advance(scenario, _plan(scenario), new)
    if new.nodes is not None:
        role_totals(scenario, new)
    return new


def _week(
    scenario: Scenario, plan: _Plan, new: GameState, dec: list[int], totals: bool = True, promise: int | None = None
) -> list[dict[str, Any]]:
    """Step 5 of this week and steps 1-4 of the next, in place; returns this week's events.
    ``promise``: the sales seat's promise for next week's customers (None: no seat)."""
    if new.nodes is None:
        events = _place_orders(plan, new.stages, new.events, dec)
        new.events = []
    else:
        node_events = _place_orders(plan, new.nodes, new.node_events, _node_decisions(plan, new, dec))
        if not totals:
            events = node_events
        elif new.events:
            events = _with_decisions(plan, new.events, node_events, dec)
        else:  # the totals were not kept last week
            events = _role_events(plan, node_events, dec)
        new.node_events = []
        new.events = []
    if new.week >= last_week(scenario, new):
        new.done = True
        _close_books(scenario, plan, new, events, totals)
    else:
        _advance(scenario, plan, new, totals, promise)
    if new.nodes is not None and totals:
        role_totals(scenario, new)
    return events


def _node_decisions(plan: _Plan, state: GameState, dec: list[int]) -> list[int]:
    """Each node's decision from its role's: a make-to-stock role's order shared out by
    ``split_order`` over the mix observed so far (``state.mix``), a make-to-order role's
    capacity for every node of its pool; the finishing nodes keep their capacity."""
    st = state.nodes
    assert st is not None
    mix = state.mix or plan.start_mix
    out = [s.capacity for s in st]
    for nodes, d in zip(plan.net.decide, dec, strict=True):
        if len(nodes) == 1:
            out[nodes[0]] = d
        elif st[nodes[0]].mode == "mto":
            for i in nodes:
                out[i] = d
        else:
            positions = [st[i].on_hand - sum(st[i].owed) + _node_supply_line(plan, st, i) for i in nodes]
            for i, part in zip(nodes, split_order(d, positions, [mix[i] for i in nodes]), strict=True):
                out[i] = part
    return out


def _place_orders(
    plan: _Plan, st: list[StageState], events: list[dict[str, Any]], dec: list[int]
) -> list[dict[str, Any]]:
    """Step 5, in place: every node places its order (make-to-order: sets its capacity
    and, with instant orders, has already ordered in the week; see ``_advance``)."""
    instant = plan.instant
    for i, s, d, ev, rate in zip(plan.ids, st, dec, events, plan.change_rate, strict=True):
        if s.mode == "mto":
            if instant:
                order = ev["order"] or 0
                s.order_q.append(0)
            else:
                order = max(0, sum(s.owed) - s.on_hand - s.wip - _node_supply_line(plan, st, i))
                s.order_q.append(order)
            # hiring, overtime or idle shifts: booked in the week it is decided
            change = rate * abs(d - s.capacity) if rate is not None else 0.0
            if change:
                ev["capacity_cost"] += change
                ev["cost"] += change
            s.capacity = d
        else:
            order = d
            s.order_q.append(order)
        ev["order"] = order
        ev["decision"] = d
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
# (tests/test_engine_fast_paths.py checks that they set these keys in this order)
_FACING_EVENT: dict[str, Any] = {
    **_PLAIN_EVENT,
    **dict.fromkeys(("reneged", "late_penalty")),
    **dict.fromkeys(("demand", "demand_by_segment", "accepted", "lost", "lost_by_segment", "lost_margin")),
    **dict.fromkeys(("goodwill", "quoted_lead_time", "quoted_sum", "quoted_units")),
    **dict.fromkeys(("sold", "delivered", "revenue", "lead_time_sum")),
    "lead_time_max": None,
    **dict.fromkeys(("promised_sum", "promised_sold")),
    "unserved": 0,
}


def _advance(scenario: Scenario, plan: _Plan, new: GameState, quotes: bool = True, promise: int | None = None) -> None:
    """Steps 1-4 of the next week, in place; the outcome goes to ``new.events``
    (``new.node_events`` where roles hold several nodes).

    Steps 2-3 run node by node from the consumer upstream: a node is only touched by
    itself and by its supplier, and a make-to-order node passes the orders it takes
    to its supplier in the same week (``mto_orders = "instant"``). Step 1 runs inside
    the same loop where ``plan.inline``, else first (``_week_start``). ``quotes``,
    ``promise``: see ``_week_start``."""
    week, promise, st, got, done, quoted, custom_ok = _week_start(scenario, plan, new, quotes, promise)
    inline = plan.inline
    instant = plan.instant
    events: list[dict[str, Any]] = [_PLAIN_EVENT] * plan.n
    rows = plan.rows
    for i in plan.rev:
        s = st[i]
        facing, source, customers, single, plain, hc, bc, plain_event, capacity, custom = rows[i]
        mode = s.mode
        # 1. receive (and process, for make-to-order)
        if not inline:
            r, p, on_hand = got[i], done[i], s.on_hand
        elif mode == "mts":
            r = s.ship_q.pop(0)
            p = 0
            on_hand = s.on_hand = s.on_hand + r
        else:
            r, p, on_hand = _receive_mto(s)
        # 2. the incoming orders, and shipping
        owed = s.owed
        m = None
        excused = 0
        if facing:  # the market goes straight into the week's event (see below)
            ok = custom_ok if custom is None else custom  # a segment's own process: its position's
            m = _consumers(scenario, plan, new, s, i, week, quoted[i], ok, _FACING_EVENT.copy(), promise)
            s.accepted.append(inc := m["accepted"])
            ship = _deliver(plan, s, i, week, m)
            on_hand = s.on_hand
            if plan.comaking:
                excused = _within_agreed(plan, s, i, week)
        else:
            if single:
                c = st[customers[0]]
                inc = c.order_q.pop(0)
                total = owed[0] + inc
                ship = total if total <= on_hand else on_hand
                owed[0] = total - ship
                c.ship_q.append(ship)
            else:
                inc, ship = _ship_shared(st, owed, customers, on_hand)
            on_hand -= ship
            s.on_hand = on_hand
        backlog = owed[0] if single else sum(owed)
        rush = _rush(plan, st, i, backlog) if instant and mode == "mto" else None
        if source:  # the outside source fills every order in full
            s.ship_q.append(s.order_q.pop(0))
        # 3. costs
        if plain and mode == "mts":
            # no wip holding, capacity, fulfilment or material cost: fill in a template
            # (the terms left out are 0.0; ``_cost_event`` is the general rule)
            holding = hc * on_hand
            backlog_cost = bc * (backlog - excused)
            if m is not None and m["late_penalty"]:
                backlog_cost += m["late_penalty"]
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
            ev = _cost_event(scenario, plan, s, i, m, (r, inc, ship, on_hand, backlog, excused, rush, p))
        events[i] = ev
    _week_end(plan, new, st, events, week)


def _week_start(
    scenario: Scenario, plan: _Plan, new: GameState, quotes: bool, promise: int | None
) -> tuple[int, int | None, list[StageState], list[int], list[int], list[float], bool]:
    """The new week's number, the promise to its customers, the nodes, and, where step 1 does
    not run inside ``_advance``'s loop (capacity shared or binding a make-to-stock stage, or
    lead times quoted: the quote reads the chain after receiving), step 1 for every node
    (the units received and processed per node) and the lead times quoted at the
    consumer-facing nodes; whether the customisation is on offer.

    ``quotes=False`` leaves the quoted lead time out of the events (0.0; nothing else depends
    on it), for what-if loops that read only money. ``promise``: the sales seat's promise to
    this week's customers (its first promise when None)."""
    week = new.week + 1
    if plan.sales is not None and promise is None:
        promise = plan.first_promise
    st = new.stages if new.nodes is None else new.nodes
    got = done = plan.zero_counts
    quoted = plan.zero_quotes
    if not plan.inline:
        got, done = _receive_all(plan, st)
        if quotes and not plan.simple_market:
            quoted = [0.0] * plan.n
            for i in plan.facing:
                quoted[i] = _quote_node(plan, st, i)
    custom_ok = scenario.customisation_stage is not None and _custom_ok(scenario, plan, st)
    return week, promise, st, got, done, quoted, custom_ok


def _receive_mto(s: StageState) -> tuple[int, int, int]:
    """Step 1 at a make-to-order node that receives inside ``_advance``'s loop: what arrives
    joins its work queue and it processes up to its capacity. Returns (units received,
    processed, on hand)."""
    r = s.ship_q.pop(0)
    wip = s.wip + r
    p = wip if wip < s.capacity else s.capacity
    s.wip = wip - p
    s.on_hand += p
    return r, p, s.on_hand


def _ship_shared(st: list[StageState], owed: list[int], customers: list[int], on_hand: int) -> tuple[int, int]:
    """Step 2 at a node with several customers: read their orders, and ship what each is owed,
    rationed by ``_ration`` when stock runs short. Returns (units ordered, units shipped)."""
    inc = 0
    for k, j in enumerate(customers):
        o = st[j].order_q.pop(0)
        inc += o
        owed[k] += o
    total = sum(owed)
    if total <= on_hand:
        for k, j in enumerate(customers):
            st[j].ship_q.append(owed[k])
            owed[k] = 0
        return inc, total
    parts = _ration(owed, on_hand)
    for k, j in enumerate(customers):
        st[j].ship_q.append(parts[k])
        owed[k] -= parts[k]
    return inc, on_hand


def _rush(plan: _Plan, st: list[StageState], i: int, backlog: int) -> int:
    """An order-driven node orders what it still needs at once (an electronic order, added to
    the order it mails this week); returns it."""
    s = st[i]
    need = backlog - s.on_hand - s.wip - _node_supply_line(plan, st, i)
    rush = need if need > 0 else 0
    if rush:
        s.order_q[0] += rush
    return rush


def _cost_event(
    scenario: Scenario,
    plan: _Plan,
    s: StageState,
    i: int,
    m: dict[str, Any] | None,
    flows: tuple[int, int, int, int, int, int, int | None, int],
) -> dict[str, Any]:
    """Step 3 at a node that is not plain (wip holding, capacity, fulfilment or material cost):
    its week's event from ``flows`` (received, incoming order, shipped, on hand, backlog, the
    backlog excused, the rush order, processed), merged into the market ``m`` where given."""
    r, inc, ship, on_hand, backlog, excused, rush, p = flows
    facing = m is not None
    hc, bc, whc, cc, bnd, fc = plan.cost_rows[i]
    wip = s.wip
    holding = hc * on_hand + whc * wip
    backlog_cost = bc * (backlog - excused)
    if m is not None and m["late_penalty"]:
        backlog_cost += m["late_penalty"]
    capacity_cost = plan.fixed_cost[i]  # a segment's own process: what running it costs
    if cc is not None and (s.mode == "mto" or bnd) and s.capacity < UNLIMITED:
        capacity_cost += cc * s.capacity
    fulfilment = fc * ship if facing else 0.0
    material = scenario.unit_cost * ship if facing else 0.0  # the cost of the goods sold
    write_off = 0.0  # the last week's is booked when the game ends (``_close_books``)
    ev = {
        "received": r,
        "incoming_order": inc,
        "shipped": ship,
        "inventory": on_hand,
        "backlog": backlog,
        "order": rush,
        "decision": None,
        "cost": holding + backlog_cost + capacity_cost + fulfilment + material + write_off,
        "mode": s.mode,
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
    if m is None:
        return ev
    m.update(ev)  # the market keys are in place already; the template has these first
    m["cost"] += m["goodwill"]
    return m


def _week_end(plan: _Plan, new: GameState, st: list[StageState], events: list[dict[str, Any]], week: int) -> None:
    """Late deliveries (just in time), the new week number and events, and the demand mix learnt."""
    if new.late:  # just in time: this week's delivery to these stock points is a week late
        _deliveries(plan, st, set(new.late[week - 1]) if week <= len(new.late) else set())
    new.week = week
    if new.nodes is None:
        new.events = events
    else:
        new.node_events = events
        if plan.mix_groups:
            _observe_mix(plan, new, events)


def _observe_mix(plan: _Plan, new: GameState, events: list[dict[str, Any]]) -> None:
    """Learn the week's demand mix of the roles that split one order over several stock
    points (``learn_mix``): a consumer-facing point's demand is every consumer who came,
    another's the orders it received."""
    if not new.mix:
        new.mix = plan.start_mix[:]
    demand = [ev["demand"] if "demand" in ev else ev["incoming_order"] for ev in events]
    learn_mix(new.mix, plan.mix_groups, demand, new.week)


def _close_books(scenario: Scenario, plan: _Plan, state: GameState, events: list[dict[str, Any]], totals: bool) -> None:
    """The end of the game, in the last week's ``events`` (the roles', or the nodes' without
    ``totals``), in place; booked after the last decisions, so nothing a player sees before
    then tells the end.

    Goods are carried at cost (``unit_cost``) until they are sold, when their material is
    booked (``material_cost``, the cost of goods sold), so the goods left in the chain (stock,
    work in process, goods in transit, at every node) cost only their obsolescence loss
    (``write_off``, per unit ``closing_loss``). Where goods have a price, customers accepted
    and not served count as lost sales: their margin (``lost_margin``) and ``goodwill``, as
    ``unserved``."""
    st = state.stages if state.nodes is None else state.nodes
    books = [_closing(scenario, plan, i, s) for i, s in enumerate(st)]
    if state.nodes is not None and totals:
        books = [{k: sum(books[i][k] for i in group) for k in _CLOSING} for group in plan.net.groups]
    for ev, book in zip(events, books, strict=True):
        ev["write_off"] = book["write_off"]
        ev["cost"] += book["write_off"]
        if book["unserved"] and "unserved" in ev:
            ev["unserved"] = int(book["unserved"])
            ev["lost_margin"] += book["lost_margin"]
            ev["goodwill"] += book["goodwill"]
            ev["cost"] += book["goodwill"]


_CLOSING = ("write_off", "unserved", "lost_margin", "goodwill")


def _closing(scenario: Scenario, plan: _Plan, i: int, s: StageState) -> dict[str, float]:
    """One node's closing books: the obsolescence of what it holds and, where goods have a
    price, the customers it still owes."""
    book = dict.fromkeys(_CLOSING, 0.0)
    book["write_off"] = (s.on_hand + s.wip + sum(s.ship_q)) * plan.closing_loss[i]
    if plan.unserved_lost and s.open_orders:
        segments = scenario.segments
        for order in s.open_orders:
            seg = segments[order[2]]
            book["unserved"] += order[1]
            book["goodwill"] += order[1] * seg.goodwill
            book["lost_margin"] += order[1] * (seg.price - scenario.unit_cost)
    return book


def _deliveries(plan: _Plan, st: list[StageState], late: set[int]) -> None:
    """Put the shipment every node was sent this week (the last in its queue) where it belongs:
    in its ship-delay slot (with a delivery that came late the week before), or a week later
    for the stock points in ``late``."""
    for i, s in enumerate(st):
        q = s.ship_q
        x = q.pop()
        slot = plan.ship_delay[i] - 1 + (i in late)
        while len(q) <= slot:
            q.append(0)
        q[slot] += x


def _receive_all(plan: _Plan, st: list[StageState]) -> tuple[list[int], list[int]]:
    """Step 1 for every node, in place: the units received and the units processed, per node.

    What arrives goes to stock, or, at a node whose throughput is limited (make-to-order,
    or a make-to-stock stage with ``mts_capacity``), to its work queue; each capacity
    pool then processes up to its capacity, shared over its nodes by what they hold."""
    got = []
    for s, bounded in zip(st, plan.bounded, strict=True):
        r = s.ship_q.pop(0)
        got.append(r)
        if bounded or s.mode != "mts":
            s.wip += r
        else:
            s.on_hand += r
    done = [0] * plan.n
    for pool, bounded in plan.pool_rows:
        first = st[pool[0]]
        if not bounded and first.mode == "mts":
            continue
        cap = first.capacity
        if len(pool) == 1:
            wip = first.wip
            p = wip if wip < cap else cap
            first.wip = wip - p
            first.on_hand += p
            done[pool[0]] = p
            continue
        wips = [st[i].wip for i in pool]
        parts = wips if sum(wips) <= cap else _ration(wips, cap)
        for i, p in zip(pool, parts, strict=True):
            s = st[i]
            s.wip -= p
            s.on_hand += p
            done[i] = p
    return got, done


def role_totals(scenario: Scenario, state: GameState) -> None:
    """Write each role's totals over its nodes into ``state.stages`` and ``state.events``
    (a scenario with variants or regions); the nodes stay in ``state.nodes``."""
    plan = _plan(scenario)
    net = plan.net
    st = state.nodes
    assert st is not None
    topo = scenario.topology
    stages: list[StageState] = []
    for r, group in enumerate(net.groups):
        if len(group) == 1 and net.role_slot_identity[group[0]]:
            stages.append(st[group[0]])  # a role with one stock point: the node is the role
            continue
        decide = net.decide[r]
        outlets = net.outlets[r]
        head = st[decide[0]]
        owed = [0] * len(topo.customers[r])
        for i in outlets:
            for k, c in enumerate(net.customers[i]):
                owed[0 if c < 0 else net.role_slot[c]] += st[i].owed[k]
        lanes = net.lanes[r]
        stages.append(
            StageState(
                on_hand=sum(st[i].on_hand for i in group if i not in lanes),  # the role's own stock
                owed=owed,
                order_q=[sum(x) for x in zip(*(st[i].order_q for i in decide), strict=True)],
                ship_q=[sum(x) for x in zip_longest(*(st[i].ship_q for i in decide), fillvalue=0)],
                mode=head.mode,
                capacity=head.capacity,
                # goods on their way from the generic stock to the final step count as work in process
                # (and so do the goods of a segment's own process: on their way, processed or held)
                wip=sum(st[i].wip for i in group)
                + sum(sum(st[i].ship_q) for i in net.finish[r] + lanes)
                + sum(st[i].on_hand for i in lanes),
                open_orders=[o for i in outlets for o in st[i].open_orders],
                deliveries=[sum(x) for x in zip(*(st[i].deliveries for i in outlets), strict=True)],
                came=[sum(x) for x in zip(*(st[i].came for i in outlets), strict=True)],
                accepted=[sum(x) for x in zip(*(st[i].accepted for i in outlets), strict=True)],
            )
        )
    state.stages = stages
    state.events = _role_events(plan, state.node_events, None) if state.node_events else []


def _with_decisions(
    plan: _Plan, events: list[dict[str, Any]], node_events: list[dict[str, Any]], dec: list[int]
) -> list[dict[str, Any]]:
    """The roles' events of the week (``events``, from ``role_totals``) with what step 5 added
    to their nodes': the orders placed, the decisions, and capacity changes' cost."""
    net = plan.net
    for r, ev in enumerate(events):
        group = net.groups[r]
        if len(group) == 1:
            node = node_events[group[0]]
            ev["order"] = node["order"]
            ev["cost"] = node["cost"]
            ev["capacity_cost"] = node["capacity_cost"]
        else:
            ev["order"] = sum(node_events[i]["order"] or 0 for i in net.decide[r])
            ev["cost"] = sum(node_events[i]["cost"] for i in group)
            ev["capacity_cost"] = sum(node_events[i]["capacity_cost"] for i in group)
        ev["decision"] = dec[r]
    return events


#: event keys summed over a role's nodes (besides the flows in and out, set from its edge)
_SUMMED = ("cost", "processed", "wip", "inventory", *COST_PARTS)
_SUMMED_MARKET = (
    "reneged",
    "late_penalty",
    "demand",
    "accepted",
    "lost",
    "lost_margin",
    "goodwill",
    "sold",
    "delivered",
    "revenue",
    "quoted_sum",
    "quoted_units",
    "promised_sum",
    "promised_sold",
    "unserved",
)
_SUMMED_MARKET_LISTS = ("demand_by_segment", "lost_by_segment")


def _role_events(plan: _Plan, events: list[dict[str, Any]], dec: list[int] | None) -> list[dict[str, Any]]:
    """Each role's event from its nodes' (sums; flows in and out where they cross the role's
    edge; ``skus`` the per-node breakdown), with the role's decision when ``dec`` is given."""
    net = plan.net
    labels = [nd.label for nd in net.nodes]
    out = []
    for r, group in enumerate(net.groups):
        decide = net.decide[r]
        outlets = net.outlets[r]
        evs = [events[i] for i in group]
        head = events[decide[0]]
        if len(group) == 1:
            ev = dict(head)
            ev["skus"] = {labels[group[0]]: _sku(head)}
            if dec is not None:
                ev["decision"] = dec[r]
            out.append(ev)
            continue
        ev: dict[str, Any] = {key: sum(e[key] for e in evs) for key in _SUMMED}
        ev["received"] = sum(events[i]["received"] for i in decide)
        ev["incoming_order"] = sum(events[i]["incoming_order"] for i in outlets)
        ev["shipped"] = sum(events[i]["shipped"] for i in outlets)
        ev["backlog"] = sum(events[i]["backlog"] for i in outlets)
        ev["mode"] = head["mode"]
        ev["capacity"] = head["capacity"]
        orders = [events[i]["order"] for i in decide]
        ev["order"] = None if dec is None and all(o is None for o in orders) else sum(o or 0 for o in orders)
        ev["decision"] = None if dec is None else dec[r]
        market = "demand" in head
        if market:
            for key in _SUMMED_MARKET:
                ev[key] = sum(e[key] for e in evs)
            for key in _SUMMED_MARKET_LISTS:
                ev[key] = [sum(x) for x in zip(*(e[key] for e in evs), strict=True)]
            ev["lead_time_sum"] = sum(e["lead_time_sum"] for e in evs)
            quoted = [(e["quoted_lead_time"], e["demand"]) for e in evs if e["quoted_lead_time"] is not None]
            weight = sum(d for _, d in quoted)
            if not quoted:
                ev["quoted_lead_time"] = None
            elif weight:
                ev["quoted_lead_time"] = sum(q * d for q, d in quoted) / weight
            else:
                ev["quoted_lead_time"] = sum(q for q, _ in quoted) / len(quoted)
            maxes = [e["lead_time_max"] for e in evs if e["lead_time_max"] is not None]
            ev["lead_time_max"] = max(maxes) if maxes else None
            if "promise" in head:  # the sales seat's promise, and its broken promises summed
                ev["promise"] = head["promise"]
                ev["broken"] = sum(e["broken"] for e in evs if "broken" in e)
                ev["promise_cost"] = sum(e["promise_cost"] for e in evs if "promise_cost" in e)
        ev["skus"] = {labels[i]: _sku(e) for i, e in zip(group, evs, strict=True)}
        out.append(ev)
    return out


def _sku(e: dict[str, Any]) -> list[int]:
    """A node's line in its role's ``skus``: inventory, backlog, wip (and demand, lost)."""
    if "demand" in e:
        return [e["inventory"], e["backlog"], e["wip"], e["demand"], e["lost"]]
    return [e["inventory"], e["backlog"], e["wip"]]


def _consumers(
    scenario: Scenario,
    plan: _Plan,
    state: GameState,
    s: StageState,
    i: int,
    week: int,
    quote_weeks: float,
    custom_ok: bool,
    out: dict[str, Any] | None = None,
    promise: int | None = None,
) -> dict[str, Any]:
    """This week's consumers at consumer-facing stage ``i``: who buys, waits or walks away.

    Units in stock (after the backlog) are sold now (lead time = parcel
    delivery); the rest wait when the segment tolerates the quoted lead time
    (the sales seat's ``promise`` where there is one), and are lost sales
    otherwise. The market keys go into ``out`` (default: a new dict), which is
    returned; the keys are set in the order of ``_FACING_EVENT`` (the sales seat's
    keys, ``promise``, ``promise_cost`` and ``broken``, only where there is one).
    """
    topo = plan.net
    demand = state.demand[week - 1][topo.channel[i]]
    if topo.serves[i] is not None:  # a segment served by its own process buys there
        demand = topo.demand_at(state.demand[week - 1], i)
    m = {} if out is None else out
    reneged, lost_margin, goodwill, late = _waiting(scenario, plan, s, i, week) if plan.waiting else _NO_WAITING
    m["reneged"] = reneged
    m["late_penalty"] = late
    if promise is not None:  # the sales seat: its promise and what broken promises cost this week
        m["promise"] = promise
        m["promise_cost"] = late + goodwill
    prices = [seg.standard_price(custom_ok) for seg in scenario.segments]
    refused = [0 if p is not None else n for n, p in zip(demand, prices, strict=True)]
    simple = topo.simple_market and not plan.comaking and promise is None
    if simple and plan.fast and len(demand) == 1 and not s.loyalty and not refused[0]:
        # the classic market: one patient segment, no parcels; everybody is accepted
        # (the case of one segment below, without the bookkeeping)
        n = demand[0]
        if n:
            s.open_orders.append([week, n, 0, prices[0], None])
        # patient customers and no parcels: no lead time is quoted
        _market_keys(m, demand, quote_weeks, (n, 0, [0], lost_margin, goodwill, 0.0, 0))
        return m
    if s.loyalty:  # customers lost for good no longer come
        demand = [math.floor(d * share + 0.5) for d, share in zip(demand, s.loyalty, strict=True)]
        s.came.append(sum(demand))
        refused = [0 if p is not None else n for n, p in zip(demand, prices, strict=True)]
    if simple and not any(refused):
        # every segment waits as long as it takes and there is no parcel delay: all are
        # accepted, and promised nothing (no lead time is quoted)
        accepted = 0
        for k in topo.segment_order:
            n = demand[k]
            if n:
                s.open_orders.append([week, n, k, prices[k], None])
                accepted += n
        takings: _Takings = (accepted, 0, [0] * len(demand), lost_margin, goodwill, 0.0, 0)
    else:
        takings = _serve(scenario, plan, state, s, i, week, (demand, refused, prices), promise, lost_margin, goodwill)
    if plan.comaking:
        takings = _comakers(plan, s, i, week, demand, refused, prices, takings)
    _market_keys(m, demand, quote_weeks, takings)
    return m


#: What a week's consumers at a node came to: units accepted (to buy now or to wait), units
#: lost and per segment, the margin and goodwill lost, and the lead times promised (their sum
#: and the units they were promised to; customers waiting on a chain that cannot quote are
#: not counted).
_Takings = tuple[int, int, list[int], float, float, float, int]


def _market_keys(m: dict[str, Any], demand: list[int], quote_weeks: float, takings: _Takings) -> None:
    """The market keys of the week's event, into ``m``."""
    accepted, lost, lost_by, lost_margin, goodwill, quoted_sum, quoted_units = takings
    m["demand"] = sum(demand)
    m["demand_by_segment"] = list(demand)
    m["accepted"] = accepted
    m["lost"] = lost
    m["lost_by_segment"] = lost_by
    m["lost_margin"] = lost_margin
    m["goodwill"] = goodwill
    m["quoted_lead_time"] = quote_weeks if quote_weeks != INFINITE else None  # None: no lead time can be quoted
    m["quoted_sum"] = quoted_sum
    m["quoted_units"] = quoted_units


def _serve(
    scenario: Scenario,
    plan: _Plan,
    state: GameState,
    s: StageState,
    i: int,
    week: int,
    wants: tuple[list[int], list[int], list[float | None]],
    promise: int | None,
    lost_margin: float,
    goodwill: float,
) -> _Takings:
    """The general rule: those who accept the parcel delay buy from stock (the share who
    would, rounded half up, the most impatient segments first, while the stock left after
    the backlog lasts); each of the rest is quoted the wait behind everyone accepted before
    them this week (``_queue_quotes``) and waits when that fits their patience
    (``_take_orders``). Customers who want a tailored product the chain cannot make refuse
    the standard one, and co-makers are taken in on their own terms (``_comakers``)."""
    demand, refused, prices = wants
    delay = plan.delivery_delay[i]
    want = [n - r for n, r in zip(demand, refused, strict=True)]
    for k in plan.comaking:
        want[k] = 0
    avail = s.on_hand - s.owed[0]
    if avail < 0:
        avail = 0
    nows: dict[int, int] = {}  # per segment with customers this week, those who buy from stock
    for k in plan.net.segment_order:
        if demand[k]:
            n = want[k]
            eligible = n if not delay else math.floor(n * scenario.segments[k].willing(delay) + 0.5)
            now = nows[k] = eligible if eligible <= avail else avail
            avail -= now
    served = sum(nows.values())
    waiting = sum(want[k] for k in nows) - served
    first, step, reach = _queue_quotes(scenario, plan, state, i, want, nows, served, waiting, delay, promise)
    quotes = (first, step, reach)
    return _take_orders(scenario, s, week, (demand, want, refused, prices), nows, delay, quotes, lost_margin, goodwill)


def _queue_quotes(
    scenario: Scenario,
    plan: _Plan,
    state: GameState,
    i: int,
    want: list[int],
    nows: dict[int, int],
    served: int,
    waiting: int,
    delay: int,
    promise: int | None,
) -> tuple[float, float, int]:
    """The lead times quoted to the ``waiting`` customers who could not buy from stock, in
    turn: the first one's quote, the step from one to the next (from the first one's quote
    to the last one's, in proportion), and how many of the queue can be promised a delivery
    at all. With a sales seat, its ``promise`` to every one of them."""
    if not waiting:
        return 0.0, 0.0, 0
    if promise is not None:
        return float(promise), 0.0, waiting
    segments = scenario.segments
    st = state.stages if state.nodes is None else state.nodes
    first = _wait(plan, st, i, served + 1) + delay
    # the queue grows only by those who accept: judge its end by those who would at the first quote
    ahead = sum((want[k] - now) * segments[k].willing(first) for k, now in nows.items())
    ahead = round(ahead) if ahead >= 1.5 else 1
    last = _wait(plan, st, i, served + ahead) + delay if ahead > 1 else first
    reach = 0 if first == INFINITE else waiting
    if first != INFINITE and last == INFINITE:
        # the chain can deliver only so much (a capacity of 0 further up): find the last
        # customer it can deliver to; those behind are quoted an endless wait
        lo, hi = 1, ahead
        while hi - lo > 1:
            mid = (lo + hi) // 2
            if _wait(plan, st, i, served + mid) == INFINITE:
                hi = mid
            else:
                lo = mid
        reach, ahead = lo, lo
        last = _wait(plan, st, i, served + lo) + delay
    step = (last - first) / (ahead - 1) if ahead > 1 and last != INFINITE else 0.0
    return first, step, reach


def _take_orders(
    scenario: Scenario,
    s: StageState,
    week: int,
    wants: tuple[list[int], list[int], list[int], list[float | None]],
    nows: dict[int, int],
    delay: int,
    quotes: tuple[float, float, int],
    lost_margin: float,
    goodwill: float,
) -> _Takings:
    """Per segment: those who buy now, those who accept their quote and wait, and those
    promised nothing who stay, become open orders; the rest are lost (with their goodwill,
    and, where customers are loyal, some of the segment for good). ``wants``: the segments'
    demand, want of the standard product, refusals and prices; ``quotes``: ``_queue_quotes``;
    ``lost_margin`` and ``goodwill``: lost already this week (customers who cancelled)."""
    demand, want, refused, prices = wants
    first, step, reach = quotes
    segments = scenario.segments
    loyalty = s.loyalty
    accepted = lost = quoted_units = 0
    lost_by = [0] * len(demand)
    quoted_sum = 0.0
    queued = 0.0  # accepted to wait so far (expected)
    for k, now in nows.items():
        n = demand[k]
        seg = segments[k]
        rest = want[k] - now
        quoted_sum += now * delay
        quoted_units += now
        expect = offered = endless = 0.0
        fin = 0  # of the rest, those who can be promised a delivery
        if rest:
            fin = rest if reach >= queued + rest else min(rest, max(0, math.floor(reach - queued + 1e-9)))
            if fin:
                expect, offered = _accepting(seg.thresholds, first + step * queued, step, fin)
            if fin < rest:
                endless = _accepting(seg.thresholds, INFINITE, 0.0, rest - fin)[0]
            queued += expect + endless
        waits = fin if expect >= fin - 1e-9 else math.floor(expect + 0.5)
        stays = rest - fin if endless >= rest - fin - 1e-9 else math.floor(endless + 0.5)  # promised nothing
        promised = offered / expect if waits else 0.0  # per customer who waits
        quoted_sum += promised * waits
        quoted_units += waits
        gone = rest - waits - stays + refused[k]
        take = now + waits + stays
        if take:
            price = prices[k]
            if now:
                s.open_orders.append([week, now, k, price, delay])
            if waits:
                s.open_orders.append([week, waits, k, price, promised])
            if stays:
                s.open_orders.append([week, stays, k, price, None])
            accepted += take
        if gone:
            lost += gone
            lost_by[k] = gone
            lost_margin += gone * (seg.price - scenario.unit_cost)
            goodwill += gone * seg.goodwill
            if loyalty and seg.churn:
                loyalty[k] *= 1.0 - seg.churn * gone / n
    return accepted, lost, lost_by, lost_margin, goodwill, quoted_sum, quoted_units


def _comakers(
    plan: _Plan,
    s: StageState,
    i: int,
    week: int,
    demand: list[int],
    refused: list[int],
    prices: list[float | None],
    takings: _Takings,
) -> _Takings:
    """The co-makers are all taken in, at their discounted price and the lead time agreed."""
    accepted, lost, lost_by, lost_margin, goodwill, quoted_sum, quoted_units = takings
    for k in plan.comaking:
        n = demand[k] - refused[k]
        if n:
            lead = plan.agreed[i][k]
            price = prices[k] * plan.comaker_price[k]  # type: ignore[operator]
            s.open_orders.append([week, n, k, price, lead])
            accepted += n
            quoted_sum += n * lead
            quoted_units += n
    return accepted, lost, lost_by, lost_margin, goodwill, quoted_sum, quoted_units


def _within_agreed(plan: _Plan, s: StageState, i: int, week: int) -> int:
    """The co-makers' units waiting at node ``i`` after this week's deliveries that will still
    be on time if they leave next week (within the lead time agreed): no backlog cost."""
    delay = plan.delivery_delay[i]
    agreed = plan.agreed[i]
    return sum(o[1] for o in s.open_orders if o[2] in agreed and week + 1 - o[0] + delay <= o[4])


#: ``_waiting``'s answer where no segment reneges or charges for lateness
_NO_WAITING = (0, 0.0, 0.0, 0.0)


def _waiting(scenario: Scenario, plan: _Plan, s: StageState, i: int, week: int) -> tuple[int, float, float, float]:
    """The customers already waiting at consumer-facing node ``i``, before this week's arrive.

    ``wait`` is the lead time a customer would have if the goods left this week. Of a segment
    that reneges, those promised a delivery whose ``wait`` passes their patience cancel: the
    share of the segment's patience distribution that gave up between last week's wait (at
    least the lead time promised) and ``wait``, among those who would still have waited,
    rounded half up. Everyone still waiting with ``wait`` beyond the promise costs the
    segment's ``late_cost``. Returns (units cancelled, their lost margin, their goodwill,
    the cost of lateness); cancelled units leave the open orders and the backlog."""
    segments = scenario.segments
    delay = plan.delivery_delay[i]
    reneged = 0
    margin = goodwill = late = 0.0
    kept = []
    for order in s.open_orders:
        promised = order[4]
        if promised is None:  # promised nothing: waits as long as it takes
            kept.append(order)
            continue
        seg = segments[order[2]]
        wait = week - order[0] + delay
        units = order[1]
        if seg.renege and not seg.comaking and wait > promised:
            before = seg.willing(max(wait - 1, promised))
            share = 1.0 - seg.willing(wait) / before if before > 0 else 1.0
            gone = min(units, math.floor(units * share + 0.5))
            units -= gone
            reneged += gone
            margin += gone * (seg.price - scenario.unit_cost)
            goodwill += gone * seg.goodwill
        if units:
            order[1] = units
            if wait > promised:
                late += units * seg.late_cost
            kept.append(order)
    if reneged:
        s.open_orders[:] = kept
        s.owed[0] -= reneged
    return reneged, margin, goodwill, late


def _accepting(thresholds: tuple[tuple[float, float], ...], first: float, step: float, n: int) -> tuple[float, float]:
    """Of ``n`` customers quoted ``first``, ``first + step``, ... weeks, how many (in
    expectation) accept, given the segment's patience ``thresholds``, and the sum of the
    lead times promised to them (customers quoted an endless wait promise nothing)."""
    expect = promise = 0.0
    for limit, share in thresholds:
        if first == INFINITE:
            count = n if limit == INFINITE else 0
            expect += share * count
            continue
        if first > limit:
            continue
        count = n if step <= 0 or limit == INFINITE else min(n, math.floor((limit - first) / step + 1e-9) + 1)
        expect += share * count
        promise += share * (count * first + step * count * (count - 1) / 2)
    return expect, promise


def _deliver(plan: _Plan, s: StageState, i: int, week: int, m: dict[str, Any]) -> int:
    """Ship to consumers what the stock allows of what they are owed (the backlog and the
    orders accepted this week, ``m["accepted"]``), oldest orders first; book revenue, lead
    times and the lead times that were promised to the customers served. Returns the units
    shipped."""
    owed = s.owed
    total = owed[0] + m["accepted"]
    on_hand = s.on_hand
    ship = total if total <= on_hand else on_hand
    s.on_hand = on_hand - ship
    owed[0] = total - ship
    delay = plan.delivery_delay[i]
    revenue = 0.0
    lt_sum = 0
    lt_max = -1
    promised = 0.0
    promised_sold = 0
    broken = 0
    left = ship
    oo = s.open_orders
    while left and oo:
        first = oo[0]
        units = first[1]
        take = units if units <= left else left
        revenue += take * first[3]
        lead = week - first[0] + delay
        lt_sum += lead * take
        if lead > lt_max:
            lt_max = lead
        if first[4] is not None:
            promised += take * first[4]
            promised_sold += take
            if lead > first[4]:
                broken += take
        left -= take
        if take == units:
            oo.pop(0)
        else:
            first[1] = units - take
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
    m["promised_sum"] = promised
    m["promised_sold"] = promised_sold
    if "promise" in m:  # the sales seat: units delivered later than promised
        m["broken"] = broken
    return ship


def _ration(owed: list[int], available: int) -> list[int]:
    """Share ``available`` units across customers in proportion to what each is owed
    (largest remainder, ties to the first listed)."""
    total = sum(owed)
    if len(owed) == 1:
        return [available]
    parts = [o * available // total for o in owed]
    rest = available - sum(parts)
    if rest:
        # the largest remainders first (o * available / total - p, in units of 1 / total), ties to the first
        order = sorted([(p * total - o * available, k) for k, (o, p) in enumerate(zip(owed, parts, strict=True))])
        for _, k in order[:rest]:
            parts[k] += 1
    return parts
