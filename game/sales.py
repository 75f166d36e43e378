"""The sales seat: one number a week, the lead time promised to customers.

Downstream of the decoupling point every customer waits for production, and sales decides
what to promise (``[sales] enabled = true``; ``klantorderontkoppelpunt.txt``: what sales
promises must fit what production can make). The seat's decision is the lead time in weeks,
parcel delivery included, promised to every customer who cannot be served from stock this
week; customers accept it or walk away by their segment's patience, and a delivery later
than promised costs the segment's ``late_cost`` per unit and week late, and customers who
cancel where the segment reneges (``game.engine``). Due-date quoting (Keskinocak & Tayur
2004): a short promise wins orders and breaks promises, a long one loses customers, and the
best promise lengthens as the queue grows, with less capacity or more demand.

This module holds what the engine does not: the bots' promise (the engine's own quote,
``game.engine.quote``, plus a margin), the seat's figures for a week and a game (the
debrief). The reference's sales rule and the proof table of fixed promises are in
``game.analysis.promises``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from game.engine import decision_bounds, promise_in_force, quote
from game.scenario import SALES_SEAT, Scenario
from game.state import GameState

__all__ = [
    "SALES_SEAT",
    "bot_promise",
    "chain_quote",
    "history_line",
    "promise_rule",
    "seat_label",
    "seat_observation",
    "seat_summary",
    "seat_week",
    "seats",
    "with_rule",
]


def chain_quote(scenario: Scenario, state: GameState) -> float:
    """The engine's own estimate of the lead time for the next customer who cannot be
    served from stock (``game.engine.quote``), over the consumer-facing roles (their mean)."""
    facing = [spec.role for spec in scenario.stages if spec.consumer_facing]
    return sum(quote(scenario, state, r) for r in facing) / len(facing)


def promise_rule(scenario: Scenario, state: GameState, margin: float, weight: float = 1.0) -> int:
    """``weight`` x the chain's quote (rounded up) + ``margin`` weeks, within the seat's
    bounds: ``weight`` 1 promises the quote plus a margin, ``weight`` 0 a fixed promise."""
    sales = scenario.sales
    assert sales is not None, "the scenario has no sales seat"
    q = chain_quote(scenario, state) if weight else 0.0
    base = math.ceil(q - 1e-9) if q < sales.max_promise else sales.max_promise
    value = math.floor(weight * base + margin + 0.5)
    return min(max(value, 0), sales.max_promise)


def bot_promise(scenario: Scenario, state: GameState) -> int:
    """What a bot (and the reference's plans, ``game.analysis.plans.play``) promises in the sales
    seat: the chain's quote plus the scenario's margin (``Sales.weight`` x the quote)."""
    sales = scenario.sales
    assert sales is not None, "the scenario has no sales seat"
    return promise_rule(scenario, state, sales.margin, sales.weight)


def with_rule(scenario: Scenario, margin: int, weight: float = 1.0) -> Scenario:
    """``scenario`` with the sales rule ``weight`` x quote + ``margin`` (a ``weight`` of 0:
    the fixed promise ``margin``, also in force before the first decision)."""
    sales = scenario.sales
    assert sales is not None, "the scenario has no sales seat"
    promise = margin if not weight else sales.promise
    return replace(scenario, sales=replace(sales, margin=margin, weight=weight, promise=promise))


@dataclass(frozen=True)
class SeatWeek:
    """The sales seat's week for the debrief: the promise made to the week's customers; of
    the units delivered this week, how many had a promise, the mean lead time promised to
    them and the mean lead time delivered; the units delivered later than promised; and what
    broken promises cost that week (``late_penalty`` plus the goodwill of customers who
    cancelled: ``cost``)."""

    week: int
    promise: int
    sold: int
    promised_units: int
    promised: float | None
    delivered: float | None
    broken: int
    late_penalty: float
    cost: float

    def to_dict(self) -> dict[str, Any]:
        """The JSON shape (``game.scoring``'s ``sales.weeks``)."""
        return {
            "week": self.week,
            "promise": self.promise,
            "sold": self.sold,
            "promised": None if self.promised is None else round(self.promised, 2),
            "delivered": None if self.delivered is None else round(self.delivered, 2),
            "broken": self.broken,
            "late_penalty": round(self.late_penalty, 2),
            "cost": round(self.cost, 2),
        }


def seat_week(week: int, events: Sequence[Mapping[str, Any]]) -> SeatWeek | None:
    """The seat's figures from one week's events (every role's), None without a sales seat."""
    facing = [ev for ev in events if "promise" in ev]
    if not facing:
        return None
    sold = sum(ev["sold"] or 0 for ev in facing)
    promised_sold = sum(ev["promised_sold"] or 0 for ev in facing)
    return SeatWeek(
        week=week,
        promise=int(facing[0]["promise"]),
        sold=sold,
        promised_units=promised_sold,
        promised=sum(ev["promised_sum"] for ev in facing) / promised_sold if promised_sold else None,
        delivered=sum(ev["lead_time_sum"] for ev in facing) / sold if sold else None,
        broken=sum(ev.get("broken", 0) for ev in facing),
        late_penalty=sum(ev["late_penalty"] or 0.0 for ev in facing),
        cost=sum(ev["promise_cost"] for ev in facing),
    )


def seat_summary(weeks: Sequence[SeatWeek]) -> dict[str, Any]:
    """A game's totals for the seat: the mean promise over the weeks, the mean lead time
    promised to and delivered to the units served, the units delivered late and their share
    of the units served, the late penalty and the whole cost of broken promises."""
    if not weeks:
        return {}
    sold = sum(w.sold for w in weeks)
    units = sum(w.promised_units for w in weeks)
    broken = sum(w.broken for w in weeks)
    return {
        "mean_promise": round(sum(w.promise for w in weeks) / len(weeks), 2),
        "promised": round(sum((w.promised or 0.0) * w.promised_units for w in weeks) / units, 2) if units else None,
        "delivered": round(sum((w.delivered or 0.0) * w.sold for w in weeks) / sold, 2) if sold else None,
        "broken": broken,
        "broken_share": round(broken / units, 4) if units else None,
        "late_penalty": round(sum(w.late_penalty for w in weeks), 2),
        "cost": round(sum(w.cost for w in weeks), 2),
    }


def debrief(records: Sequence[Mapping[str, Any]]) -> dict[str, Any] | None:
    """The seat's debrief from a game's week records (``[{"week", "roles": {role: event}}]``):
    per week promised against delivered lead time and what the gap cost, and the summary;
    None without a sales seat."""
    weeks = [seat_week(rec["week"], list(rec["roles"].values())) for rec in records]
    seat = [w for w in weeks if w is not None]
    if not seat:
        return None
    return {"weeks": [w.to_dict() for w in seat], "summary": seat_summary(seat)}


def seats(scenario: Scenario) -> tuple[str, ...]:
    """The seats players may take: every stage's role, and the sales seat where there is one."""
    return scenario.roles + ((SALES_SEAT,) if scenario.sales is not None else ())


#: the sales seat's label (pages show it in their language: ``web.i18n.scenario_texts``)
SALES_LABEL = "Sales"


def seat_label(scenario: Scenario, role: str) -> str:
    """The label of the seat ``role``: its stage's, or the sales seat's."""
    return SALES_LABEL if role == SALES_SEAT and scenario.sales is not None else scenario.stage(role).label


def seat_observation(scenario: Scenario, state: GameState) -> dict[str, Any]:
    """What the sales seat sees this week: the promise in force, the chain's quote now
    (``chain_quote``), the customers waiting (``queue``: units per week accepted, with the
    lead time promised to them and how many weeks they are past it), the production stages'
    capacity, and last week's demand, accepted, lost, reneged and broken promises at the
    consumer-facing stages. Nothing of the stages' stock, costs or orders."""
    sales = scenario.sales
    assert sales is not None, "the scenario has no sales seat"
    facing = [i for i, spec in enumerate(scenario.stages) if spec.consumer_facing]
    events = [state.events[i] if i < len(state.events) else {} for i in facing]
    queue = []
    for i in facing:
        for accepted, units, _seg, _price, promised in state.stages[i].open_orders:
            waited = state.week - accepted
            late = max(0, waited - promised) if promised is not None else 0
            queue.append({"week": accepted, "units": units, "promised": promised, "late": late})
    q = chain_quote(scenario, state)

    def total(key: str) -> int:
        return sum(int(ev.get(key) or 0) for ev in events)

    return {
        "role": SALES_SEAT,
        "week": state.week,
        "decision": "promise",
        "bounds": list(decision_bounds(scenario, state, SALES_SEAT)),
        "promise": promise_in_force(scenario, state),
        "quote": round(q, 2) if math.isfinite(q) else None,
        "queue": queue,
        "waiting": sum(o["units"] for o in queue),
        "capacity": {role: s.capacity for role, s in zip(scenario.roles, state.stages, strict=True) if s.mode == "mto"},
        "demand": total("demand"),
        "accepted": total("accepted"),
        "lost": total("lost"),
        "reneged": total("reneged"),
        "broken": total("broken"),
    }


def history_line(record: Mapping[str, Any]) -> dict[str, Any]:
    """The sales seat's line of one week record: ``seat_week``'s figures (promised against
    delivered lead time, broken promises and their cost) and the week's customers."""
    events = [ev for ev in record["roles"].values() if "promise" in ev]
    week = seat_week(record["week"], events)
    line: dict[str, Any] = week.to_dict() if week else {"week": record["week"]}
    for key in ("demand", "accepted", "lost", "reneged"):
        line[key] = sum(int(ev.get(key) or 0) for ev in events)
    if SALES_SEAT in record.get("bots", ()):
        line["bot"] = True
    return line
