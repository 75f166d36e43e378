"""Consumer demand: weekly totals from a seeded RNG, split by channel and segment."""

from __future__ import annotations

import math
import random

from game.scenario import Demand, Scenario

#: Demand kinds that draw nothing from the RNG.
DETERMINISTIC = frozenset(("step", "constant", "series"))


def _poisson(rng: random.Random, lam: float) -> int:
    """Poisson draw (Knuth for small means, rounded normal approximation for large)."""
    if lam <= 0:
        return 0
    if lam > 60:
        return max(0, round(rng.gauss(lam, math.sqrt(lam))))
    limit = math.exp(-lam)
    k, p = 0, rng.random()
    while p > limit:
        k += 1
        p *= rng.random()
    return k


def weekly_totals(demand: Demand, weeks: int, rng: random.Random) -> list[int]:
    """Total consumer demand for weeks 1..``weeks``."""
    out: list[int] = []
    for week in range(1, weeks + 1):
        if demand.kind == "step":
            value = demand.base if week < demand.step_week else demand.after
            out.append(max(0, round(value)))
        elif demand.kind == "constant":
            out.append(max(0, round(demand.base)))
        elif demand.kind == "normal":
            out.append(max(0, round(rng.gauss(demand.mean, demand.sd))))
        elif demand.kind == "uniform":
            out.append(rng.randint(demand.low, demand.high))
        elif demand.kind == "poisson":
            out.append(_poisson(rng, demand.mean))
        else:  # series: repeat the last value past its end
            out.append(demand.series[min(week, len(demand.series)) - 1])
    return out


def split(total: int, shares: list[float]) -> list[int]:
    """Split ``total`` into whole parts by ``shares`` (largest remainder, ties to the first)."""
    if len(shares) == 1 and shares[0] == 1.0:
        return [total]
    raw = [total * s for s in shares]
    parts = [math.floor(x + 1e-9) for x in raw]
    rest = total - sum(parts)
    order = sorted(range(len(shares)), key=lambda i: (-(raw[i] - parts[i]), i))
    for i in order[:rest]:
        parts[i] += 1
    return parts


def demand_table(scenario: Scenario, rng: random.Random) -> list[list[list[int]]]:
    """Demand per week, per consumer-facing stage (scenario order), per segment.

    ``table[w][c][s]`` is the demand in week ``w + 1`` at the ``c``-th
    consumer-facing stage from segment ``s``.
    """
    deterministic = scenario.demand.kind in DETERMINISTIC
    if deterministic:
        # the same table for every seed: build it once per scenario and share it (never mutated)
        cached = scenario.__dict__.get("_demand_table")
        if cached is not None:
            return cached
    facing = [s for s in scenario.stages if s.consumer_facing]
    channel_shares = [s.market_share for s in facing]
    segment_shares = [seg.share for seg in scenario.segments]
    totals = weekly_totals(scenario.demand, scenario.weeks, rng)
    if channel_shares == [1.0] and segment_shares == [1.0]:  # one channel, one segment: nothing to split
        table = [[[total]] for total in totals]
    else:
        table = [[split(part, segment_shares) for part in split(total, channel_shares)] for total in totals]
    if deterministic:
        scenario.__dict__["_demand_table"] = table
    return table
