"""Scoring: money, lost sales and KPIs from a game's week records.

Input everywhere is the scenario and a list of week records
``[{"week": w, "roles": {role: event}}]`` (``GameResult.weeks``, also what the
server stores), in week order. Events are the engine's (see ``game.engine``).

Money
    ``cost`` is the engine's weekly cost per stage: holding, backlog, capacity,
    fulfilment, material, write-off and goodwill. ``profit = revenue - cost``.
    Goods are carried at cost until they are sold: ``material`` is the unit cost
    of the units sold to consumers that week (cost of goods sold), ``write_off``
    the obsolescence loss on the goods left in the chain when the game ends, so
    ``profit = revenue - unit_cost x (opening goods + bought - goods left) -
    write_off - the other costs`` (docs/SCENARIOS.md, "Accounting"). Customers
    accepted and still waiting at the end (``unserved``) count as lost sales:
    their goodwill is a cost, their margin goes into ``lost_margin``.
    In a game without prices (the classic) revenue is 0 and the score is
    ``-cost``. ``lost_margin`` (the margin the lost customers would have paid)
    is reported but is *not* a cost: the revenue was simply never earned.

KPIs (``None`` when undefined, e.g. no demand yet)
    fill_rate
        Units shipped to consumers from stock in the week they were demanded,
        divided by units demanded. A unit that waits (backlog) or walks away
        (lost sale) is not filled. Derived per consumer-facing stage as
        ``max(0, sold - backlog at the end of the previous week)``: the engine
        serves the oldest orders first, so what it ships beyond the old backlog
        went to this week's customers.
    lost_share, backorder_share
        Share of demand lost (walked away at once, cancelled while waiting:
        ``reneged``, or still waiting at the end: ``unserved``), and share that
        had to wait and got served.
    avg_lead_time, max_lead_time
        Weeks from a consumer's order to delivery (parcel delay included), over
        the units sold; units still waiting at the end are not counted.
    bullwhip (per stage)
        ``Var(orders placed by the stage) / Var(consumer demand it serves)``,
        population variances over the weeks whose order is known. "The
        consumer demand it serves" is the demand at the consumer-facing stages
        downstream of it (the e-commerce seller's channel counts for the
        manufacturer, not for the wholesaler). When that demand has zero
        variance (constant demand) the ratio is ``None``; ``order_variance``
        still shows the swing the stage made.
    bullwhip_bound (per stage)
        The figure of Chen, Drezner, Ryan & Simchi-Levi (2000) for a stage that
        forecasts with a moving average of the last ``p`` weeks (the base-stock
        bot's window) and orders up to that mean times ``L`` weeks (its lead time
        plus the review week): ``1 + 2L/p + 2L²/p²``. Without point-of-sale
        sharing the factors of the make-to-stock stages from the consumer up to
        it multiply; with it (echelon ordering), one factor of the weeks its
        echelon level covers. It holds for that rule on i.i.d. demand
        (``bullwhip_bound``); for the teams and other bots it is a benchmark.
        ``None`` for a make-to-order stage (it passes orders on as they come).
    inventory_turns (per stage)
        Units the stage shipped over the game divided by its average on-hand
        stock at the end of the weeks; ``None`` when it never held stock (a
        make-to-order stage). The team figure is consumer sales over the
        average total on-hand stock of the chain.

Ranking: ``team_score`` is the profit (one scale for every scenario) and
``rank_teams`` gives equal scores the same rank (1, 2, 2, 4).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from game.engine import COST_PARTS
from game.policies import FORECAST_WINDOW
from game.sales import debrief as sales_debrief
from game.scenario import Scenario
from game.state import GameState, WeekRecord

#: Money fields summed per stage and week, in display order.
MONEY = ("revenue", *COST_PARTS, "goodwill", "cost", "profit")
#: Unit flows summed per stage and week.
UNITS = (
    "received",
    "shipped",
    "order",
    "processed",
    "demand",
    "accepted",
    "lost",
    "reneged",
    "unserved",
    "sold",
    "delivered",
)
#: Everything summed per stage and week (``lost_margin`` is money but not a cost).
SUMMED = (*MONEY, "lost_margin", *UNITS)

_DIGITS = 9  # rounding of float sums, so equal games give equal numbers


def _r(x: float) -> float:
    return round(x, _DIGITS) + 0.0


def _variance(xs: Sequence[float]) -> float | None:
    """Population variance; ``None`` for an empty series."""
    n = len(xs)
    if not n:
        return None
    mean = sum(xs) / n
    return sum((x - mean) ** 2 for x in xs) / n


def _ratio(num: float, den: float) -> float | None:
    return _r(num / den) if den else None


def _downstream_facing(scenario: Scenario) -> dict[str, list[str]]:
    """For each role, the consumer-facing roles it (indirectly) supplies, itself included."""
    topo = scenario.topology
    roles = scenario.roles
    out: dict[str, list[str]] = {}
    for i, role in enumerate(roles):
        found = []
        for j in topo.facing:
            k = j
            while k >= 0 and k != i:
                k = topo.supplier[k]
            if k == i:
                found.append(roles[j])
        out[role] = found
    return out


def bullwhip_bound(covers: Sequence[int], window: int = FORECAST_WINDOW, shared: bool = False) -> float:
    """Chen et al. (2000): Var(orders) / Var(demand) of the last of a line of stages that
    each order up to ``covers[i]`` x the mean of the last ``window`` weeks' demand
    (``covers[i]``: the stage's lead time plus the review week), the consumer's stage
    first, under i.i.d. demand. ``shared``: every stage forecasts from point-of-sale
    demand and orders on its echelon position (``game.policies.echelon``), whose level
    covers its own ``covers[-1]`` weeks plus the weeks in the pipelines of each stage below
    it (orders in the mail and goods on the way at a decision point: its cover less two),
    one factor; else each forecasts from its customer's orders and the factors multiply.
    Exact for the first stage and with sharing (the ``moving_average`` bot comes within
    sampling error of it); a lower bound upstream without sharing; for any other rule
    only a benchmark."""
    if shared:
        x = (sum(covers) - 2 * (len(covers) - 1)) / window
        return _r(1 + 2 * x + 2 * x * x)
    out = 1.0
    for cover in covers:
        x = cover / window
        out *= 1 + 2 * x + 2 * x * x
    return _r(out)


def bullwhip_bounds(
    scenario: Scenario,
    shared: bool | None = None,
    window: int = FORECAST_WINDOW,
    modes: Mapping[str, str] | None = None,
) -> dict[str, float | None]:
    """``bullwhip_bound`` per stage: its make-to-stock stages down to the consumer (the
    smallest bound where it serves several channels); ``None`` for a make-to-order
    stage. ``shared`` defaults to the scenario's ``pos_demand`` option, ``modes`` to
    its stage modes."""
    if shared is None:
        shared = bool(scenario.visibility.get("pos_demand"))
    topo = scenario.topology
    mode = [(modes or {}).get(s.role, s.mode) for s in scenario.stages]
    out: dict[str, float | None] = {}
    for i, spec in enumerate(scenario.stages):
        if mode[i] == "mto":
            out[spec.role] = None
            continue
        found = []
        for f in topo.facing:
            covers, k = [], f
            while k >= 0:
                if mode[k] != "mto":
                    s = scenario.stages[k]
                    covers.append(s.order_delay + s.ship_delay + 1)
                if k == i:
                    found.append(bullwhip_bound(covers, window, shared))
                    break
                k = topo.supplier[k]
        out[spec.role] = min(found) if found else None
    return out


def team_score(scenario: Scenario, weeks: Iterable[WeekRecord]) -> float:
    """The one number teams are ranked by: profit (revenue - cost); ``-cost`` without prices.

    Fast path (no KPIs), for optimisers that score many games.
    """
    total = 0.0
    for w in weeks:
        for ev in w["roles"].values():
            total += ev.get("revenue", 0.0) - ev["cost"]
    return _r(total)


def weeks_so_far(scenario: Scenario, state: GameState, history: Iterable[WeekRecord] | None) -> list[dict[str, Any]]:
    """The week records up to the state's week: ``history`` (weeks after the state's
    week are dropped) plus the current week's outcome from ``state.events`` when
    the history does not hold it yet (its ``order`` is still ``None``)."""
    out = [dict(w) for w in (history or ()) if w["week"] <= state.week]
    out.sort(key=lambda w: w["week"])
    if state.events and not any(w["week"] == state.week for w in out):
        out.append({"week": state.week, "roles": dict(zip(scenario.roles, state.events, strict=True))})
    return out


def score_game(
    scenario: Scenario,
    weeks: Sequence[WeekRecord],
    weekly: bool = True,
    pos_shared: bool | None = None,
    window: int = FORECAST_WINDOW,
) -> dict[str, Any]:
    """Everything the debrief and the leaderboard need, JSON-compatible.

    ``pos_shared`` (default: the scenario's option) and ``window`` set the bullwhip
    bound beside each stage's ratio.

    ``{"score", "weeks_played", "totals", "stages": {role: {...}},
    "channels": {role: {...}}, "kpis": {...}, "stock_points": {label: {...}},
    "weeks": [{"week", "totals", "stages": {role: {...}}}]}`` (``weeks`` only when
    ``weekly``). ``stock_points`` covers the roles that hold several (variants, regions):
    average stock and backlog, weeks out of stock with customers waiting, and at a
    consumer-facing one its demand and lost customers. Sums cover ``SUMMED``; see the
    module docstring for the KPIs. With a sales seat, ``sales`` holds its debrief
    (``game.sales.debrief``: ``weeks`` only when ``weekly``, and ``summary``).
    """
    tally = _Tally(scenario, weekly)
    for n, rec in enumerate(weeks):
        tally.add_week(n, rec)
    bounds = bullwhip_bounds(scenario, pos_shared, window, tally.last_mode)
    stages_out = _stage_results(tally, bounds)
    totals = _totals(tally)
    shared = bool(pos_shared if pos_shared is not None else scenario.visibility.get("pos_demand"))
    kpis = _kpis(tally, totals, stages_out, {"window": window, "pos_shared": shared, "stages": bounds})
    out = {
        "score": _r(totals["profit"]),
        "weeks_played": len(tally.chain_stock),
        "totals": totals,
        "stages": stages_out,
        "channels": _channel_results(tally),
        "kpis": kpis,
        "stock_points": _stock_points(tally),
    }
    if scenario.sales is not None:  # the sales seat: promised against delivered lead time
        seat = sales_debrief(weeks)
        if seat is not None:
            out["sales"] = seat if weekly else {"summary": seat["summary"]}
    if weekly:
        out["weeks"] = tally.week_rows
    return out


class _Tally:
    """``score_game``'s running sums over the week records, per role, channel and stock point."""

    def __init__(self, scenario: Scenario, weekly: bool) -> None:
        self.scenario = scenario
        self.weekly = weekly
        roles = self.roles = scenario.roles
        facing = self.facing = [roles[i] for i in scenario.topology.facing]
        self.facing_set = set(facing)
        self.zero: dict[str, float] = {k: (0 if k in UNITS else 0.0) for k in SUMMED}
        self.stage_sum = {r: dict(self.zero) for r in roles}
        self.inv_sum = dict.fromkeys(roles, 0)
        self.backlog_sum = dict.fromkeys(roles, 0)
        self.wip_sum = dict.fromkeys(roles, 0)
        self.orders: dict[str, list[tuple[int, int]]] = {r: [] for r in roles}
        self.demand_by_week: dict[str, list[int]] = {r: [] for r in facing}
        self.filled = dict.fromkeys(facing, 0)
        self.lt_sum = dict.fromkeys(facing, 0)
        self.lt_max: dict[str, float | None] = dict.fromkeys(facing)
        self.lost_by_segment = {r: [0] * len(scenario.segments) for r in facing}
        self.demand_by_segment = {r: [0] * len(scenario.segments) for r in facing}
        # stock point label -> [role, inventory, backlog, stock-out weeks, demand, lost]
        self.points: dict[str, list[Any]] = {}
        self.prev_backlog = {r: scenario.stage(r).backlog for r in facing}
        self.chain_stock: list[int] = []
        self.week_rows: list[dict[str, Any]] = []
        self.last_mode: dict[str, str] = {r: scenario.stage(r).mode for r in roles}
        self.last_capacity: dict[str, int] = {r: scenario.stage(r).capacity for r in roles}

    def add_week(self, n: int, rec: WeekRecord) -> None:
        """Add week record ``rec`` (the ``n``-th played) to the sums."""
        evs = rec["roles"]
        row_stages: dict[str, dict[str, Any]] = {}
        row_tot = dict(self.zero)
        stock = 0
        for role in self.roles:
            ev = evs[role]
            wk = row_stages[role] = self._add_stage(n, role, ev, row_tot)
            stock += ev["inventory"]
            if role in self.facing_set:
                self._add_channel(role, ev, wk)
            skus = ev.get("skus")
            if skus and len(skus) > 1:  # a role with several stock points (variants, regions)
                self._add_points(role, skus)
        self.chain_stock.append(stock)
        if self.weekly:
            self.week_rows.append(
                {
                    "week": rec["week"],
                    "totals": {k: (_r(v) if isinstance(v, float) else v) for k, v in row_tot.items()},
                    "stages": {
                        r: {k: (_r(v) if isinstance(v, float) else v) for k, v in row_stages[r].items()}
                        for r in self.roles
                    },
                }
            )

    def _add_stage(self, n: int, role: str, ev: dict[str, Any], row_tot: dict[str, float]) -> dict[str, Any]:
        """Add ``role``'s event to its sums and the week's totals; return its row of the week."""
        acc = self.stage_sum[role]
        rev = ev.get("revenue", 0.0) or 0.0
        cost = ev["cost"]
        wk: dict[str, Any] = {}
        for key in SUMMED:
            if key == "profit":
                v = rev - cost
            elif key == "revenue":
                v = rev
            else:
                v = ev.get(key) or 0
            wk[key] = v
            acc[key] += v
            row_tot[key] += v
        wk["inventory"] = ev["inventory"]
        wk["backlog"] = ev["backlog"]
        wk["wip"] = ev.get("wip", 0)
        wk["mode"] = ev.get("mode", self.last_mode[role])
        wk["capacity"] = ev.get("capacity", 0)
        wk["order"] = ev.get("order")
        self.inv_sum[role] += ev["inventory"]
        self.backlog_sum[role] += ev["backlog"]
        self.wip_sum[role] += wk["wip"]
        self.last_mode[role] = wk["mode"]
        self.last_capacity[role] = wk["capacity"]
        if ev.get("order") is not None:
            self.orders[role].append((n, ev["order"]))
        return wk

    def _add_channel(self, role: str, ev: dict[str, Any], wk: dict[str, Any]) -> None:
        """Add consumer-facing ``role``'s market to its channel's sums (and ``filled`` to ``wk``)."""
        self.demand_by_week[role].append(ev.get("demand", 0))
        sold = ev.get("sold", ev["shipped"])
        now = sold - (self.prev_backlog[role] - (ev.get("reneged") or 0))  # the old backlog still waiting
        wk["filled"] = now if now > 0 else 0
        self.filled[role] += wk["filled"]
        self.prev_backlog[role] = ev["backlog"]
        self.lt_sum[role] += ev.get("lead_time_sum", 0) or 0
        m = ev.get("lead_time_max")
        lt_max = self.lt_max[role]
        if m is not None and (lt_max is None or m > lt_max):
            self.lt_max[role] = m
        for k, x in enumerate(ev.get("lost_by_segment") or ()):
            self.lost_by_segment[role][k] += x
        for k, x in enumerate(ev.get("demand_by_segment") or ()):
            self.demand_by_segment[role][k] += x

    def _add_points(self, role: str, skus: dict[str, list[int]]) -> None:
        """Add the week of ``role``'s stock points (its ``skus``) to their sums."""
        for label, sku in skus.items():
            p = self.points.setdefault(label, [role, 0, 0, 0, 0, 0])
            p[1] += sku[0]
            p[2] += sku[1]
            p[3] += sku[0] == 0 and sku[1] > 0
            if len(sku) > 4:
                p[4] += sku[3]
                p[5] += sku[4]


def _stage_results(t: _Tally, bounds: dict[str, float | None]) -> dict[str, dict[str, Any]]:
    """Each role's sums, averages, turns and bullwhip (beside its ``bounds``)."""
    n_weeks = len(t.chain_stock)
    serves = _downstream_facing(t.scenario)
    stages_out: dict[str, dict[str, Any]] = {}
    for role in t.roles:
        acc = t.stage_sum[role]
        out: dict[str, Any] = {k: (_r(v) if isinstance(v, float) else v) for k, v in acc.items()}
        out["mode"] = t.last_mode[role]
        out["capacity"] = t.last_capacity[role]
        out["avg_inventory"] = _r(t.inv_sum[role] / n_weeks) if n_weeks else None
        out["avg_backlog"] = _r(t.backlog_sum[role] / n_weeks) if n_weeks else None
        out["avg_wip"] = _r(t.wip_sum[role] / n_weeks) if n_weeks else None
        out["inventory_turns"] = _ratio(acc["shipped"] * n_weeks, t.inv_sum[role]) if n_weeks else None
        idx = [n for n, _ in t.orders[role]]
        ov = _variance([o for _, o in t.orders[role]])
        dv = _variance([sum(t.demand_by_week[r][n] for r in serves[role]) for n in idx])
        out["order_variance"] = None if ov is None else _r(ov)
        out["demand_variance"] = None if dv is None else _r(dv)
        out["bullwhip"] = _ratio(ov, dv) if ov is not None and dv else None
        out["bullwhip_bound"] = bounds[role]
        stages_out[role] = out
    return stages_out


def _channel_results(t: _Tally) -> dict[str, dict[str, Any]]:
    """Each consumer-facing role's market: demand, sales, losses, fill rate, lead times."""
    names = [s.name for s in t.scenario.segments]
    channels: dict[str, dict[str, Any]] = {}
    total_sold = sum(t.stage_sum[r]["sold"] for r in t.facing)
    for role in t.facing:
        acc = t.stage_sum[role]
        channels[role] = {
            "demand": acc["demand"],
            "accepted": acc["accepted"],
            "sold": acc["sold"],
            "filled": t.filled[role],
            "lost": acc["lost"],
            "reneged": acc["reneged"],
            "unserved": acc["unserved"],
            "lost_by_segment": dict(zip(names, t.lost_by_segment[role], strict=True)),
            "demand_by_segment": dict(zip(names, t.demand_by_segment[role], strict=True)),
            "revenue": _r(acc["revenue"]),
            "fill_rate": _ratio(t.filled[role], acc["demand"]),
            "avg_lead_time": _ratio(t.lt_sum[role], acc["sold"]),
            "max_lead_time": t.lt_max[role],
            "share_of_sales": _ratio(acc["sold"], total_sold),
        }
    return channels


def _totals(t: _Tally) -> dict[str, Any]:
    """The team's money over every role and its market over the consumer-facing ones."""
    totals: dict[str, Any] = {k: _r(sum(t.stage_sum[r][k] for r in t.roles)) for k in (*MONEY, "lost_margin")}
    for key in ("demand", "sold", "lost", "accepted", "reneged", "unserved"):
        totals[key] = sum(t.stage_sum[r][key] for r in t.facing)
    return totals


def _kpis(
    t: _Tally, totals: dict[str, Any], stages_out: dict[str, dict[str, Any]], bound: dict[str, Any]
) -> dict[str, Any]:
    """The team's KPIs (see the module docstring); ``bound``: the bullwhip bounds and their basis."""
    n_weeks = len(t.chain_stock)
    demand, sold = totals["demand"], totals["sold"]
    consumer_demand = [sum(t.demand_by_week[r][n] for r in t.facing) for n in range(n_weeks)]
    consumer_demand_variance = _variance(consumer_demand)
    worst = [t.lt_max[r] for r in t.facing if t.lt_max[r] is not None]
    # walked away at once, cancelled while waiting, still waiting at the end
    gone = totals["lost"] + totals["reneged"] + totals["unserved"]
    return {
        "fill_rate": _ratio(sum(t.filled.values()), demand),
        "lost_share": _ratio(gone, demand),
        "backorder_share": _ratio(demand - gone - sum(t.filled.values()), demand),
        "avg_lead_time": _ratio(sum(t.lt_sum.values()), sold),
        "max_lead_time": max(worst) if worst else None,
        "bullwhip": {r: stages_out[r]["bullwhip"] for r in t.roles},
        "bullwhip_bound": bound,
        "inventory_turns": _ratio(sold * n_weeks, sum(t.chain_stock)) if n_weeks else None,
        "consumer_demand_variance": _r(consumer_demand_variance) if consumer_demand_variance is not None else None,
    }


def _stock_points(t: _Tally) -> dict[str, dict[str, Any]]:
    """Averages per stock point of the roles that hold several (variants, regions)."""
    n_weeks = len(t.chain_stock)
    return {
        label: {
            "role": p[0],
            "avg_inventory": _r(p[1] / n_weeks),
            "avg_backlog": _r(p[2] / n_weeks),
            "stockout_weeks": p[3],
            **({"demand": p[4], "lost": p[5]} if p[0] in t.facing_set else {}),
        }
        for label, p in t.points.items()
    }


def summary(scenario: Scenario, weeks: Sequence[WeekRecord], pos_shared: bool | None = None) -> dict[str, Any]:
    """``score_game`` without the per-week rows (what dashboards and tables show)."""
    return score_game(scenario, weeks, weekly=False, pos_shared=pos_shared)


def _tie_key(team: Any) -> tuple[int, Any]:
    return (0, team) if isinstance(team, int | float) and not isinstance(team, bool) else (1, str(team))


def rank_teams(entries: Iterable[tuple[Any, float | None]]) -> list[dict[str, Any]]:
    """Rank ``(team, score)`` pairs, highest score first.

    Equal scores (to 1e-9) share a rank and the next rank skips (1, 2, 2, 4);
    within a tie teams are listed by id (numbers before names). Teams without a
    score (``None``) come last, ranked together.
    """
    rows = [(team, None if s is None else round(float(s), _DIGITS)) for team, s in entries]
    rows.sort(key=lambda t: (t[1] is None, -(t[1] or 0.0), _tie_key(t[0])))
    out: list[dict[str, Any]] = []
    prev: Any = object()
    rank = 0
    for pos, (team, s) in enumerate(rows, 1):
        if s != prev:
            rank = pos
            prev = s
        out.append({"rank": rank, "team": team, "score": s})
    return out
