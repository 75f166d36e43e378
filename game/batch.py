"""Many games at once: the weekly rules of ``game.engine`` on numpy arrays across games.

``run_batch`` plays G games of one scenario side by side (different seeds, so
different demand, and/or different decisions or policy parameters) and gives,
game by game, the same numbers as ``game.simulate.simulate``: every array has
the games on axis 0, and per week and stage the same values as the scalar
engine's events. It mirrors the scalar step line by line, with each number of
the scalar state an array over the games.

It plays:

- any chain or tree of stages (a supplier serving several customers rations
  like the scalar engine), make-to-stock and make-to-order stages (their modes
  as the scenario sets them), several consumer-facing stages (e-commerce);
- the consumer market with segments: lead-time quotes, lost sales with lost
  margin and goodwill, parcel delivery delays, prices and customisation
  premiums, revenue and customer lead times from the ledger of consumer orders
  (oldest first);
- every cost: holding (and work-in-progress holding), backlog, capacity,
  fulfilment, material, end-of-game write-off, goodwill;
- fixed decisions per game and week, and the bot policies ``passthrough``,
  ``base_stock`` and ``sterman`` (including the make-to-order capacity rule),
  vectorised with the same arithmetic and rounding (``floor(x + 0.5)``, clipped
  to the decision bounds); any policy parameter may be an array with one value
  per game (e.g. a base-stock ``level`` or a ``capacity`` per game for a
  what-if search: give every game the same seed).

Stage modes stay as the scenario sets them for the whole game (no strategy
reviews). A scenario the batch engine cannot play exactly makes ``unsupported``
return the reason and ``run_batch`` raise ``NotImplementedError``.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from game.codp import customisable
from game.demand import weekly_totals
from game.engine import COST_PARTS, FLOW_FIELDS, DecisionError
from game.observe import initial_rate
from game.policies import _THETA, Policy
from game.scenario import INFINITE, Scenario

#: Per week and stage arrays of every stage.
FIELDS = (
    *FLOW_FIELDS,
    "capacity",
    "processed",
    "wip",
    "cost",
    *COST_PARTS,
)
#: Per week and stage arrays that only consumer-facing stages fill (0 elsewhere).
MARKET = (
    "demand",
    "accepted",
    "lost",
    "lost_margin",
    "goodwill",
    "quoted_lead_time",
    "sold",
    "delivered",
    "revenue",
    "lead_time_sum",
    "lead_time_max",
)
#: Arrays of floats (money, and the lead time quoted in weeks); the rest count units.
MONEY = frozenset(("cost", *COST_PARTS, "lost_margin", "goodwill", "revenue", "quoted_lead_time"))

ArrayLike = Any  # numbers, sequences or numpy arrays


def unsupported(scenario: Scenario) -> str | None:
    """Why ``run_batch`` cannot play ``scenario`` exactly, or None when it can."""
    roles = scenario.roles
    if any(spec.supplier is not None and roles.index(spec.supplier) > i for i, spec in enumerate(scenario.stages)):
        return "a stage listed before its supplier"
    return None


@dataclass
class BatchResult:
    """G games of one scenario.

    ``weeks[field]`` has shape (G, weeks, stages), stages in scenario order, for
    ``FIELDS`` and ``MARKET`` (a lead time that cannot be quoted is ``inf``, a week
    without deliveries has ``lead_time_max`` -1); ``segments[field]`` has shape (G,
    weeks, stages, segments) for ``demand_by_segment`` and ``lost_by_segment``.
    ``cost_totals``, ``team_cost`` and ``profit`` add up week by week like
    ``GameResult.totals`` and a loop over the events would (so the floats are the same).
    """

    scenario: Scenario
    seeds: list[int]
    weeks: dict[str, np.ndarray]
    segments: dict[str, np.ndarray]

    @property
    def games(self) -> int:
        """Number of games."""
        return len(self.seeds)

    def cost_totals(self) -> np.ndarray:
        """Cost per game and stage over the whole game, shape (G, stages)."""
        cost = self.weeks["cost"]
        total = np.zeros(cost.shape[::2])
        for w in range(cost.shape[1]):
            total = total + cost[:, w, :]
        return total

    def team_cost(self) -> np.ndarray:
        """Team cost per game, shape (G,): the stages' totals added in scenario order."""
        per_stage = self.cost_totals()
        team = np.zeros(per_stage.shape[0])
        for i in range(per_stage.shape[1]):
            team = team + per_stage[:, i]
        return team

    def profit(self) -> np.ndarray:
        """Revenue minus cost per game, shape (G,): ``total += revenue - cost`` event by
        event, weeks in order and stages in scenario order."""
        revenue = self.weeks["revenue"]
        cost = self.weeks["cost"]
        total = np.zeros(cost.shape[0])
        for w in range(cost.shape[1]):
            for i in range(cost.shape[2]):
                total = total + (revenue[:, w, i] - cost[:, w, i])
        return total

    def game(self, g: int) -> list[dict[str, Any]]:
        """Game ``g`` as week records ``{"week", "roles": {role: {field: value}}}`` with the
        engine's event keys and values (``MARKET`` keys and the by-segment lists only at
        consumer-facing stages), for comparisons with ``GameResult.weeks``."""
        roles = self.scenario.roles
        facing = [spec.consumer_facing for spec in self.scenario.stages]
        cols = {f: a[g].tolist() for f, a in self.weeks.items()}
        segs = {f: a[g].tolist() for f, a in self.segments.items()}
        out = []
        for w in range(len(cols["cost"])):
            week: dict[str, Any] = {}
            for i, r in enumerate(roles):
                ev = {f: cols[f][w][i] for f in FIELDS}
                if facing[i]:
                    ev.update({f: cols[f][w][i] for f in MARKET})
                    ev.update({f: segs[f][w][i] for f in segs})
                    if ev["quoted_lead_time"] == INFINITE:
                        ev["quoted_lead_time"] = None
                    if ev["lead_time_max"] < 0:
                        ev["lead_time_max"] = None
                week[r] = ev
            out.append({"week": w + 1, "roles": week})
        return out


class _Policies:
    """Vectorised bot policies, one per stage, with their memory (forecast, workload)."""

    def __init__(self, scenario: Scenario, pols: Mapping[str, Policy], games: int, overrides: Mapping) -> None:
        self.games = games
        self.per_stage: list[dict[str, Any] | None] = []
        for i, spec in enumerate(scenario.stages):
            pol = pols.get(spec.role)
            if pol is None:
                self.per_stage.append(None)
                continue
            params: dict[str, Any] = dict(pol.params)
            for key, value in overrides.get(spec.role, {}).items():
                params[key] = np.broadcast_to(np.asarray(value, dtype=float), (games,))
            rate = initial_rate(scenario, i)
            self.per_stage.append(
                {
                    "name": pol.name,
                    "p": params,
                    "theta": params.get("theta", _THETA.get(pol.name, 1.0)),
                    "rate": rate,
                    "forecast": np.full(games, float(rate)),
                    "workload": np.full(games, float(rate)),
                    "target": params.get(f"target_{spec.role}", params.get("target", 17.0)),
                    "lead_time": spec.order_delay + spec.ship_delay,
                }
            )

    def decide(self, i: int, week: int, obs: dict[str, np.ndarray], capacity_mode: bool, hi: int) -> np.ndarray:
        """Stage ``i``'s decisions this week (as ``Policy.decide`` on each game's observation)."""
        m = self.per_stage[i]
        assert m is not None
        p = m["p"]
        theta = m["theta"]
        incoming = obs["incoming_order"]
        forecast = theta * incoming + (1.0 - theta) * m["forecast"]
        m["forecast"] = forecast
        if capacity_mode:
            if p.get("capacity") is not None:
                decision = np.broadcast_to(np.trunc(np.asarray(p["capacity"], dtype=float)), (self.games,))
            else:
                signal = obs.get("demand", incoming)
                workload = theta * signal + (1.0 - theta) * m["workload"]
                m["workload"] = workload
                waiting = np.maximum(0, obs["backlog"] - obs["on_hand"])
                rule = _round(workload * p.get("cap_slack", 1.1) + waiting / p.get("cap_weeks", 4.0))
                floor = np.ceil(np.asarray(p.get("cap_floor", 0.5)) * m["rate"])
                decision = np.maximum(rule, floor)
        else:
            name = m["name"]
            if name == "passthrough":
                decision = incoming.astype(float)
            elif name == "base_stock":
                level = p.get("level")
                if level is None:
                    cover = m["lead_time"] + 1 + p.get("safety_weeks", 1.0)
                    level = forecast * cover
                position = obs["on_hand"] - obs["backlog"] + obs["supply_line"]
                decision = _round(level - position)
            else:  # sterman
                stock = obs["on_hand"] - obs["backlog"]
                target = m["target"]
                adjust = p.get("alpha", 0.26) * (target - stock - p.get("beta", 0.34) * obs["supply_line"])
                decision = _round(forecast + adjust)
            if "fixed_weeks" in p:
                fixed = np.trunc(np.asarray(p["fixed_weeks"], dtype=float))
                fixed_order = np.trunc(np.asarray(p.get("fixed_order", m["rate"]), dtype=float))
                decision = np.where(week <= fixed, fixed_order, decision)
        return np.clip(decision, 0, hi).astype(np.int64)


def _round(x: np.ndarray) -> np.ndarray:
    """Round half up to a whole case, never negative (``game.policies._round``)."""
    return np.maximum(0.0, np.floor(x + 0.5))


def _ration(owed: np.ndarray, available: np.ndarray) -> np.ndarray:
    """``game.engine._ration`` per game: ``owed`` (G, k) shared out of ``available`` (G,)
    in proportion, largest remainder first, ties to the first listed."""
    total = owed.sum(axis=1)
    safe = np.where(total > 0, total, 1)
    parts = owed * available[:, None] // safe[:, None]
    rest = available - parts.sum(axis=1)
    remainder = owed * available[:, None] - parts * safe[:, None]
    order = np.argsort(-remainder, axis=1, kind="stable")
    rank = np.argsort(order, axis=1, kind="stable")
    return parts + (rank < rest[:, None])


def _decision_array(scenario: Scenario, role: str, values: ArrayLike, games: int, weeks: int) -> np.ndarray:
    """Fixed decisions for ``role`` as int64 (G, weeks); checks whole numbers >= 0."""
    arr = np.asarray(values)
    if arr.ndim == 1:
        arr = np.broadcast_to(arr, (games, arr.shape[0]))
    if arr.ndim != 2 or arr.shape[0] != games or arr.shape[1] < weeks:
        raise DecisionError(f"{role}: need decisions of shape (weeks,) or ({games}, weeks >= {weeks}), got {arr.shape}")
    arr = arr[:, :weeks]
    if arr.dtype.kind == "f":
        if not np.all(np.isfinite(arr)) or not np.all(arr == np.trunc(arr)):
            raise DecisionError(f"{role}: decisions must be whole numbers")
    elif arr.dtype.kind not in "iu" or arr.dtype == np.bool_:
        raise DecisionError(f"{role}: decisions must be whole numbers, got dtype {arr.dtype}")
    return arr.astype(np.int64)


def run_batch(
    scenario: Scenario,
    seeds: Sequence[int] | int = 1,
    policy: str | Policy | Mapping[str, str | Policy] | None = None,
    orders: Mapping[str, ArrayLike] | None = None,
    params: Mapping[str, Mapping[str, ArrayLike]] | None = None,
    weeks: int | None = None,
) -> BatchResult:
    """Play one game per seed at once, like ``simulate(scenario, seed, policy, orders, weeks)``.

    ``seeds``: the seeds (or a count: seeds 0..n-1); each game's demand is drawn
    from its seed exactly as ``new_game`` draws it. ``orders``: role -> fixed
    decisions, shape (weeks,) for every game or (games, weeks); the other roles
    follow ``policy`` (a spec, a ``Policy`` or role -> spec, as in ``simulate``).
    ``params``: role -> {policy parameter: value or one value per game}, on top
    of the policy's own parameters. Raises ``NotImplementedError`` for scenarios
    outside the supported rules (see the module docstring), ``DecisionError`` for
    fixed decisions that are not whole numbers or out of bounds.
    """
    from game.simulate import policies_for  # local: simulate imports the engine

    reason = unsupported(scenario)
    if reason:
        raise NotImplementedError(f"batch engine: scenario {scenario.name!r} uses {reason}")
    if weeks is not None and weeks != scenario.weeks:
        scenario = replace(scenario, weeks=weeks)
    seed_list = list(range(seeds)) if isinstance(seeds, int) else [int(s) for s in seeds]
    if not seed_list:
        raise ValueError("no games: give at least one seed")
    n_games = len(seed_list)
    n_weeks = scenario.weeks
    orders = orders or {}
    for role in orders:
        if role not in scenario.roles:
            raise DecisionError(f"unknown role {role!r}")
    fixed = {r: _decision_array(scenario, r, v, n_games, n_weeks) for r, v in orders.items()}
    pols = {r: p for r, p in policies_for(scenario, policy).items() if r not in fixed}
    for role in params or {}:
        if role not in scenario.roles:
            raise ValueError(f"params: unknown role {role!r}")
    bots = _Policies(scenario, pols, n_games, params or {})
    return _play(scenario, seed_list, segment_demand(scenario, seed_list), fixed, bots)


def segment_demand(scenario: Scenario, seeds: Sequence[int]) -> np.ndarray:
    """Consumer demand per game, week, consumer-facing stage and segment, shape (G, weeks,
    channels, segments): ``new_game``'s demand table for each seed, drawn the same way
    (weekly totals from ``random.Random(seed)``, split by channel, then by segment)."""
    weeks = scenario.weeks
    if scenario.demand.kind in ("step", "constant", "series"):  # no random draws
        one = np.array(weekly_totals(scenario.demand, weeks, random.Random(0)), dtype=np.int64)
        totals = np.broadcast_to(one, (len(seeds), weeks))
    else:
        totals = np.array([weekly_totals(scenario.demand, weeks, random.Random(s)) for s in seeds], dtype=np.int64)
    channels = [s.market_share for s in scenario.stages if s.consumer_facing]
    by_channel = totals[:, :, None] if channels == [1.0] else split(totals, channels)
    segments = [seg.share for seg in scenario.segments]
    return by_channel[..., None] if segments == [1.0] else split(by_channel, segments)


def channel_demand(scenario: Scenario, seeds: Sequence[int]) -> np.ndarray:
    """Consumer demand per game, week and consumer-facing stage, shape (G, weeks, channels)."""
    return segment_demand(scenario, seeds).sum(axis=3)


def split(total: np.ndarray, shares: Sequence[float]) -> np.ndarray:
    """``game.demand.split`` for an array of totals: a new last axis with one part per share."""
    raw = total[..., None] * np.asarray(shares, dtype=float)
    parts = np.floor(raw + 1e-9).astype(np.int64)
    rest = total - parts.sum(axis=-1)
    order = np.argsort(-(raw - parts), axis=-1, kind="stable")
    rank = np.argsort(order, axis=-1, kind="stable")
    return parts + (rank < rest[..., None])


def _play(
    scenario: Scenario, seeds: list[int], demand: np.ndarray, fixed: dict[str, np.ndarray], bots: _Policies
) -> BatchResult:
    """The weekly loop (same order of operations as ``game.engine``). ``demand`` is
    (G, weeks, channels, segments)."""
    topo = scenario.topology
    specs = scenario.stages
    segments = scenario.segments
    n = topo.n
    G = len(seeds)
    W = scenario.weeks
    S = len(segments)
    zeros = np.zeros(G, dtype=np.int64)
    fzeros = np.zeros(G)
    mto = [s.mode == "mto" for s in specs]
    facing = [topo.channel[i] >= 0 for i in range(n)]
    source = [topo.supplier[i] < 0 for i in range(n)]
    customers = topo.customers
    modes = {s.role: s.mode for s in specs}
    custom_ok = scenario.customisation_stage is not None and customisable(scenario, modes)
    prices = [seg.price + (seg.premium if seg.customised and custom_ok else 0.0) for seg in segments]
    # state: one int64 array over the games per scalar number
    on_hand = [np.full(G, s.on_hand, dtype=np.int64) for s in specs]
    wip = [zeros.copy() for _ in specs]
    capacity = [np.full(G, s.capacity, dtype=np.int64) for s in specs]
    spec_change = [s.capacity_change_cost for s in specs]
    order_q = [[np.full(G, x, dtype=np.int64) for x in s.orders] for s in specs]
    ship_q = [[np.full(G, x, dtype=np.int64) for x in s.shipments] for s in specs]
    # owed[i][k]: what stage i owes its k-th customer (the consumer for a facing stage)
    owed = [
        [np.full(G, s.backlog if k == 0 else 0, dtype=np.int64) for k in range(len(customers[i]))]
        for i, s in enumerate(specs)
    ]
    # consumer orders not yet shipped, oldest first: [week accepted, units per game, price]
    ledger: list[list[list[Any]]] = [
        [[0, np.full(G, s.backlog, dtype=np.int64), 0.0]] if facing[i] and s.backlog else []
        for i, s in enumerate(specs)
    ]
    deliveries = [[zeros] * s.delivery_delay for s in specs]

    # recorded as (week, stage, game) so that each write is contiguous; returned as (game, week, stage)
    out = {f: np.zeros((W, n, G), dtype=float if f in MONEY else np.int64) for f in (*FIELDS, *MARKET)}
    by_segment = {f: np.zeros((W, n, S, G), dtype=np.int64) for f in ("demand_by_segment", "lost_by_segment")}
    incoming_now = [zeros] * n
    demand_now = [zeros] * n
    churns = any(seg.churn for seg in segments)
    loyalty = [np.ones((G, S)) if churns and facing[i] else None for i in range(n)]

    def total(arrays: list[np.ndarray]) -> np.ndarray:
        return sum(arrays[1:], arrays[0]) if arrays else zeros

    def wait(i: int, extra: np.ndarray, depth: int = 0) -> np.ndarray:
        """``game.engine._wait`` per game (float weeks)."""
        spec = specs[i]
        need = total(owed[i]) + extra - on_hand[i]
        sup = topo.supplier[i]
        upstream: Any = 0.0
        if sup >= 0 and depth <= 8:
            short = need - wip[i] - total(ship_q[i]) - owed[sup][topo.slot[i]]
            upstream = wait(sup, np.maximum(short, 0), depth + 1)
        structural = spec.order_delay + spec.ship_delay + upstream
        if not mto[i]:
            cum = zeros
            found = np.zeros(G, dtype=bool)
            res = np.zeros(G)
            for k, x in enumerate(ship_q[i], 1):
                cum = cum + x
                hit = ~found & (cum >= need)
                res = np.where(hit, k, res)
                found |= hit
            res = np.where(found, res, np.maximum(len(ship_q[i]) + 1, structural))
        else:
            cap = capacity[i]
            weeks_of_work = np.ceil(need / np.where(cap > 0, cap, 1))
            queued = wip[i] + total(ship_q[i])
            cum = wip[i]
            arrive = zeros
            for k, x in enumerate(ship_q[i], 1):
                going = cum < need
                arrive = np.where(going, k, arrive)
                cum = np.where(going, cum + x, cum)
            res = np.where(queued >= need, np.maximum(arrive, weeks_of_work), np.maximum(structural, weeks_of_work))
            res = np.where(cap <= 0, INFINITE, res)
        return np.where(need <= 0, 0.0, res)

    def market(i: int, week: int, quote: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``game.engine._consumers``: who buys, waits or walks away; returns (accepted, goodwill)."""
        w = week - 1
        spec = specs[i]
        dem = demand[:, w, topo.channel[i], :]
        loyal = loyalty[i]
        if loyal is not None:  # customers lost for good no longer come (game.engine._consumers)
            dem = np.floor(dem * loyal + 0.5).astype(np.int64)
        avail = np.maximum(on_hand[i] - owed[i][0], 0)
        accepted = lost = zeros
        lost_margin = goodwill = fzeros
        for k in topo.segment_order:
            seg = segments[k]
            n_k = dem[:, k]
            now = zeros if spec.delivery_delay > seg.tolerance else np.minimum(n_k, avail)
            avail = avail - now
            rest = n_k - now
            waits = np.where(quote <= seg.tolerance, rest, 0)
            gone = rest - waits
            take = now + waits
            ledger[i].append([week, take, prices[k]])
            accepted = accepted + take
            lost = lost + gone
            lost_margin = lost_margin + gone * (seg.price - scenario.unit_cost)
            goodwill = goodwill + gone * seg.goodwill
            if loyal is not None and seg.churn:
                hit = gone > 0
                loyal[:, k] = np.where(hit, loyal[:, k] * (1.0 - seg.churn * gone / np.where(hit, n_k, 1)), loyal[:, k])
            by_segment["lost_by_segment"][w, i, k] = gone
            by_segment["demand_by_segment"][w, i, k] = n_k
        out["demand"][w, i] = dem.sum(axis=1)
        out["accepted"][w, i] = accepted
        out["lost"][w, i] = lost
        out["lost_margin"][w, i] = lost_margin
        out["goodwill"][w, i] = goodwill
        out["quoted_lead_time"][w, i] = quote
        demand_now[i] = dem.sum(axis=1)
        return accepted, goodwill

    def deliver(i: int, week: int, ship: np.ndarray) -> None:
        """``game.engine._deliver``: ship oldest consumer orders first; revenue and lead times."""
        w = week - 1
        delay = specs[i].delivery_delay
        revenue = fzeros
        lt_sum = zeros
        lt_max = zeros - 1
        left = ship
        for entry in ledger[i]:
            units = entry[1]
            take = np.minimum(units, left)
            revenue = revenue + take * entry[2]
            lead = week - entry[0] + delay
            lt_sum = lt_sum + lead * take
            lt_max = np.where((take > 0) & (lead > lt_max), lead, lt_max)
            left = left - take
            entry[1] = units - take
        while ledger[i] and not ledger[i][0][1].any():
            ledger[i].pop(0)
        if delay:
            deliveries[i].append(ship)
            delivered = deliveries[i].pop(0)
        else:
            delivered = ship
        out["sold"][w, i] = ship
        out["delivered"][w, i] = delivered
        out["revenue"][w, i] = revenue
        out["lead_time_sum"][w, i] = lt_sum
        out["lead_time_max"][w, i] = lt_max

    def advance(week: int) -> None:
        """Steps 1-4 of ``week`` (1-based), recording its events."""
        w = week - 1
        last = week == W
        for i in range(n):
            r = ship_q[i].pop(0)
            if mto[i]:
                wip[i] = wip[i] + r
                p = np.minimum(wip[i], capacity[i])
                wip[i] = wip[i] - p
                on_hand[i] = on_hand[i] + p
            else:
                on_hand[i] = on_hand[i] + r
                p = zeros
            out["received"][w, i] = r
            out["processed"][w, i] = p
        quotes = {}
        for i in topo.facing:
            if topo.simple_market:
                quotes[i] = fzeros
            else:
                quotes[i] = wait(i, zeros + 1) + specs[i].delivery_delay
        for i in range(n):
            spec = specs[i]
            goodwill: Any = 0.0
            if facing[i]:
                inc, goodwill = market(i, week, quotes[i])
                total_owed = owed[i][0] + inc
                ship = np.minimum(total_owed, on_hand[i])
                on_hand[i] = on_hand[i] - ship
                owed[i][0] = total_owed - ship
                deliver(i, week, ship)
            else:
                cust = customers[i]
                if len(cust) == 1:
                    j = cust[0]
                    inc = order_q[j].pop(0)
                    total_owed = owed[i][0] + inc
                    ship = np.minimum(total_owed, on_hand[i])
                    owed[i][0] = total_owed - ship
                    ship_q[j].append(ship)
                else:
                    incs = [order_q[j].pop(0) for j in cust]
                    inc = total(incs)
                    ow = np.stack([owed[i][k] + incs[k] for k in range(len(cust))], axis=1)
                    total_owed = ow.sum(axis=1)
                    enough = total_owed <= on_hand[i]
                    ship = np.where(enough, total_owed, on_hand[i])
                    parts = np.where(enough[:, None], ow, _ration(ow, ship))
                    for k, j in enumerate(cust):
                        ship_q[j].append(parts[:, k])
                        owed[i][k] = ow[:, k] - parts[:, k]
                on_hand[i] = on_hand[i] - ship
            if source[i]:
                ship_q[i].append(order_q[i].pop(0))
            incoming_now[i] = inc
            backlog = total(owed[i])
            holding = spec.holding_cost * on_hand[i] + spec.wip_holding_cost * wip[i]
            backlog_cost = spec.backlog_cost * backlog
            capacity_cost = spec.capacity_cost * capacity[i] if mto[i] else 0.0
            fulfilment = spec.fulfilment_cost * ship if facing[i] else 0.0
            material = scenario.unit_cost * ship_q[i][-1] if source[i] else 0.0
            write_off = 0.0
            if last and scenario.write_off_rate:
                left = on_hand[i] + wip[i] + total(ship_q[i])
                write_off = left * spec.unit_value * scenario.write_off_rate
            cost = holding + backlog_cost + capacity_cost + fulfilment + material + write_off + goodwill
            out["incoming_order"][w, i] = inc
            out["shipped"][w, i] = ship
            out["inventory"][w, i] = on_hand[i]
            out["backlog"][w, i] = backlog
            out["capacity"][w, i] = capacity[i]
            out["wip"][w, i] = wip[i]
            out["cost"][w, i] = cost
            out["holding_cost"][w, i] = holding
            out["backlog_cost"][w, i] = backlog_cost
            out["capacity_cost"][w, i] = capacity_cost
            out["fulfilment_cost"][w, i] = fulfilment
            out["material_cost"][w, i] = material
            out["write_off"][w, i] = write_off

    def supply_line(i: int) -> np.ndarray:
        sup = topo.supplier[i]
        owed_up = owed[sup][topo.slot[i]] if sup >= 0 else zeros
        return total(order_q[i]) + owed_up + total(ship_q[i])

    advance(1)
    for week in range(1, W + 1):
        w = week - 1
        # decisions at the decision point (every stage sees the same state)
        dec: list[np.ndarray] = []
        for i, spec in enumerate(specs):
            hi = spec.max_capacity if mto[i] else spec.max_order
            if spec.role in fixed:
                d = fixed[spec.role][:, w]
                bad = (d < 0) | (d > hi)
                if bad.any():
                    g = int(np.argmax(bad))
                    raise DecisionError(
                        f"{spec.role}: decision must be between 0 and {hi}, got {int(d[g])} (game {g}, week {week})"
                    )
            else:
                obs = {
                    "incoming_order": incoming_now[i],
                    "on_hand": on_hand[i],
                    "backlog": total(owed[i]),
                    "supply_line": supply_line(i),
                }
                if facing[i]:
                    obs["demand"] = demand_now[i]
                d = bots.decide(i, week, obs, mto[i], hi)
            dec.append(d)
        # step 5: place the orders
        for i in range(n):
            d = dec[i]
            if mto[i]:
                need = total(owed[i]) - on_hand[i] - wip[i] - supply_line(i)
                order = np.maximum(need, 0)
                if spec_change[i]:
                    change = spec_change[i] * np.abs(d - capacity[i])
                    out["capacity_cost"][w, i] += change
                    out["cost"][w, i] += change
                capacity[i] = d
            else:
                order = d
            order_q[i].append(order)
            out["order"][w, i] = order
            out["decision"][w, i] = d
        if week < W:
            advance(week + 1)
    return BatchResult(
        scenario,
        seeds,
        {f: a.transpose(2, 0, 1) for f, a in out.items()},
        {f: a.transpose(3, 0, 1, 2) for f, a in by_segment.items()},
    )
