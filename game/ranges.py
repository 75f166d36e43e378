"""The range of every numeric key of a scenario file: one table, which ``game.scenario``'s
validator enforces (the message names the key) and from which the table in docs/SCENARIOS.md
("Ranges") is generated (``markdown``; a test keeps the two equal).

A key is written as in the file, with its table: ``stages.holding_cost`` is every stage's,
``segments.price`` every segment's; a key of a list of numbers (``stages.orders``) ranges
each entry. No number may be infinite or NaN. A key missing here gets ``FALLBACK``
(and a test fails until it is added).
"""

from __future__ import annotations

from typing import NamedTuple


class Range(NamedTuple):
    """The smallest and largest value a key takes, what it counts (for the docs), and
    whether it is a whole number."""

    lo: float
    hi: float
    what: str
    whole: bool = False


def whole(lo: int, hi: int, what: str) -> Range:
    """The range of a whole-number key."""
    return Range(lo, hi, what, True)


WEEKS = 520  # ten years of weeks: a game's longest
DELAY = 12  # weeks an order or a shipment may take per link
UNITS = 1_000_000  # units of stock, an order, a capacity
DEMAND = 10_000  # consumer demand per week
MONEY = 10_000.0  # money per unit (a cost, a price)

FALLBACK = Range(0, UNITS, "a number")

RANGES: dict[str, Range] = {
    "weeks": whole(1, WEEKS, "weeks in the game"),
    "unit_cost": Range(0, MONEY, "money per unit"),
    "write_off_rate": Range(0, 1, "share"),
    "review_weeks": whole(1, WEEKS, "week (each entry)"),
    "max_processes": whole(1, 5, "processes a team may run (at most one per position, and per segment)"),
    "process_cost": Range(0, MONEY, "money per week for each process beyond the first"),
    "stages.order_delay": whole(1, DELAY, "weeks"),
    "stages.ship_delay": whole(1, DELAY, "weeks"),
    "stages.delivery_delay": whole(0, DELAY, "weeks"),
    "stages.max_order": whole(1, UNITS, "units per week"),
    "stages.max_capacity": whole(1, UNITS, "units per week"),
    "stages.capacity": whole(0, UNITS, "units per week (at most max_capacity)"),
    "stages.mts_capacity": whole(0, UNITS, "units"),
    "stages.on_hand": whole(0, UNITS, "units"),
    "stages.backlog": whole(0, UNITS, "units"),
    "stages.orders": whole(0, UNITS, "units (each entry)"),
    "stages.shipments": whole(0, UNITS, "units (each entry)"),
    "stages.holding_cost": Range(0, MONEY, "money per unit and week"),
    "stages.backlog_cost": Range(0, MONEY, "money per unit and week"),
    "stages.capacity_cost": Range(0, MONEY, "money per unit of capacity and week"),
    "stages.capacity_change_cost": Range(0, MONEY, "money per unit of change"),
    "stages.fulfilment_cost": Range(0, MONEY, "money per unit"),
    "stages.wip_holding_cost": Range(0, MONEY, "money per unit and week"),
    "stages.unit_value": Range(0, MONEY, "money per unit"),
    "stages.market_share": Range(0, 1, "share"),
    "segments.share": Range(0, 1, "share"),
    "segments.tolerance": Range(0, WEEKS, 'weeks (or "inf")'),
    "segments.patience": Range(0, WEEKS, "weeks (each entry's first number; its share 0 … 1)"),
    "segments.price": Range(0, MONEY, "money per unit"),
    "segments.premium": Range(0, MONEY, "money per unit"),
    "segments.goodwill": Range(0, MONEY, "money per unit short"),
    "segments.churn": Range(0, 1, "share"),
    "segments.standard_discount": Range(0, 1, "share of the price (1: no sale)"),
    "segments.late_cost": Range(0, MONEY, "money per unit and week past the promise"),
    "segments.comaker.horizon": whole(1, DELAY, "weeks the co-makers' orders are known ahead"),
    "segments.comaker.discount": Range(0, 0.9, "share of the price the co-makers pay less"),
    "segments.comaker.lead_time": whole(0, DELAY, "weeks the co-makers accept (parcel delivery included)"),
    "segments.comaker.lead_times": whole(0, DELAY, "weeks, per variant (each entry)"),
    "demand.base": Range(0, DEMAND, "units per week"),
    "demand.after": Range(0, DEMAND, "units per week"),
    "demand.mean": Range(0, DEMAND, "units per week"),
    "demand.sd": Range(0, DEMAND, "units per week"),
    "demand.low": whole(0, DEMAND, "units per week"),
    "demand.high": whole(0, DEMAND, "units per week (at least low)"),
    "demand.series": whole(0, DEMAND, "units per week (each entry)"),
    "demand.step_week": whole(1, WEEKS, "week"),
    "demand.level_sd": Range(0, 2, "relative"),
    "demand.season": Range(0, 1, "relative"),
    "demand.season_period": whole(2, WEEKS, "weeks"),
    "demand.peak_week": whole(0, WEEKS, "week"),
    "demand.peak_spread": whole(0, WEEKS, "weeks"),
    "demand.life_width": Range(1, WEEKS, "weeks"),
    "product.variants.share": Range(0, 1, "share"),
    "product.mix_sd": Range(0, 3, "relative"),
    "product.finish_delay": whole(1, DELAY, "weeks"),
    "product.finish_capacity": whole(0, UNITS, "units per week"),
    "product.finish_capacity_cost": Range(0, MONEY, "money per unit of capacity and week"),
    "product.finish_holding_cost": Range(0, MONEY, "money per unit and week"),
    "regions.share": Range(0, 1, "share"),
    "jit.late_share": Range(0, 1, "share"),
    "sales.promise": whole(0, WEEKS, "weeks promised before the seat's first decision (at most max_promise)"),
    "sales.max_promise": whole(1, WEEKS, "weeks: the longest promise the seat may make"),
    "sales.margin": whole(0, WEEKS, "weeks the bots add to the chain's quote (at most max_promise)"),
}


UNRANGED: set[str] = set()  # keys read without a range of their own (a test keeps this empty)


def limits(key: str) -> Range:
    """The range of ``key`` (``FALLBACK`` when the table has none: noted in ``UNRANGED``)."""
    rng = RANGES.get(key)
    if rng is None:
        UNRANGED.add(key)
        return FALLBACK
    return rng


def _number(x: float) -> str:
    return f"{x:,.0f}" if float(x).is_integer() else f"{x:g}"


def markdown() -> str:
    """The table of docs/SCENARIOS.md's "Ranges" section."""
    rows = ["| key | from | to | counts |", "| --- | --- | --- | --- |"]
    for k, r in RANGES.items():
        kind = "whole number" if r.whole else "number"
        rows.append(f"| `{k}` | {_number(r.lo)} | {_number(r.hi)} | {kind}: {r.what} |")
    return "\n".join(rows) + "\n"
