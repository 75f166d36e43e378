"""Consumer demand: weekly totals from a seeded RNG, split by channel and segment."""

from __future__ import annotations

import math
import random
from functools import lru_cache
from typing import TYPE_CHECKING

from game.horizon import longest

if TYPE_CHECKING:
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


def truncated_mean(centre: float, sd: float) -> float:
    """The mean of ``max(0, X)`` for ``X`` normal with mean ``centre`` and spread ``sd``."""
    if sd <= 0:
        return max(0.0, centre)
    z = centre / sd
    return centre * 0.5 * math.erfc(-z / math.sqrt(2)) + sd * math.exp(-0.5 * z * z) / math.sqrt(2 * math.pi)


@lru_cache(maxsize=4096)
def centre(mean: float, sd: float) -> float:
    """Where to centre a normal draw with spread ``sd`` so that, cut off at zero, it averages
    ``mean``: a wider spread leaves the mean where it was (volatility without volume).

    ``mean`` itself where the cut-off moves the mean by less than 1e-9 (from about six spreads
    above zero; seven or more is taken as that without working it out), so such draws are
    exactly the plain normal's; else Newton's method on
    ``truncated_mean`` (whose slope in the centre is the share of draws above zero). The
    rounding to whole units moves the mean by less than 0.01 more."""
    if mean <= 0 or sd <= 0 or mean >= 7 * sd or truncated_mean(mean, sd) - mean < 1e-9:
        return mean
    c = mean
    for _ in range(100):
        gap = truncated_mean(c, sd) - mean
        if abs(gap) < 1e-12 * max(1.0, mean):
            break
        c -= gap / (0.5 * math.erfc(-c / (sd * math.sqrt(2))))
    return c


def shape(demand: Demand, weeks: int, rng: random.Random) -> list[float]:
    """The weekly multiplier of the mean for weeks 1..``weeks``, drawn once per seed:
    a level (``level_sd``), a season with a random phase, and a bell-shaped life cycle
    whose peak week moves by up to ``peak_spread`` weeks."""
    level = max(0.05, 1.0 + demand.level_sd * rng.gauss(0.0, 1.0)) if demand.level_sd else 1.0
    phase = rng.uniform(0, demand.season_period) if demand.season else 0.0
    peak = demand.peak_week + (rng.randint(-demand.peak_spread, demand.peak_spread) if demand.peak_spread else 0)
    out = []
    for week in range(1, weeks + 1):
        m = level
        if demand.season:
            m *= 1.0 + demand.season * math.sin(2 * math.pi * (week + phase) / demand.season_period)
        if demand.life_cycle == "bell":
            m *= math.exp(-0.5 * ((week - peak) / demand.life_width) ** 2)
        out.append(max(0.0, m))
    return out


def weekly_totals(demand: Demand, weeks: int, rng: random.Random, scale: float = 1.0) -> list[int]:
    """Total consumer demand for weeks 1..``weeks`` of a market that gets ``scale`` of the
    whole (a region: its mean scales with its share, its spread with the square root, as for
    independent markets)."""
    m = shape(demand, weeks, rng) if demand.shaped else None
    root = math.sqrt(scale)
    out: list[int] = []
    for week in range(1, weeks + 1):
        f = scale * (m[week - 1] if m is not None else 1.0)
        if demand.kind == "step":
            value = demand.base if week < demand.step_week else demand.after
            out.append(max(0, round(value * f)))
        elif demand.kind == "constant":
            out.append(max(0, round(demand.base * f)))
        elif demand.kind == "normal":
            g = root * (m[week - 1] if m is not None else 1.0)
            sd = demand.sd * g
            out.append(max(0, round(rng.gauss(centre(demand.mean * f, sd), sd))))
        elif demand.kind == "uniform":
            value = rng.randint(demand.low, demand.high)
            out.append(value if f == 1.0 else max(0, round(value * f)))
        elif demand.kind == "poisson":
            out.append(_poisson(rng, demand.mean * f))
        else:  # series: repeat the last value past its end
            out.append(max(0, round(demand.series[min(week, len(demand.series)) - 1] * f)))
    return out


def draws(scenario: Scenario) -> bool:
    """True when the scenario's demand draws from the RNG (else every seed is the same)."""
    variants = len(scenario.product.variants) > 1
    return (
        scenario.demand.kind not in DETERMINISTIC
        or scenario.demand.shaped
        or (variants and scenario.product.mix_sd > 0)
        or scenario.jit.late_share > 0
    )


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
    if scenario.expanded or scenario.demand.shaped:
        return _market_table(scenario, rng)
    deterministic = not draws(scenario)
    if deterministic:
        # the same table for every seed: build it once per scenario and share it (never mutated)
        cached = scenario.__dict__.get("_demand_table")
        if cached is not None:
            return cached
    facing = [s for s in scenario.stages if s.consumer_facing]
    channel_shares = [s.market_share for s in facing]
    segment_shares = [seg.share for seg in scenario.segments]
    totals = weekly_totals(scenario.demand, longest(scenario), rng)
    if channel_shares == [1.0] and segment_shares == [1.0]:  # one channel, one segment: nothing to split
        table = [[[total]] for total in totals]
    else:
        table = [[split(part, segment_shares) for part in split(total, channel_shares)] for total in totals]
    if deterministic:
        scenario.__dict__["_demand_table"] = table
    return table


def _multinomial(rng: random.Random, total: int, shares: list[float]) -> list[int]:
    """``total`` customers spread over categories with probabilities ``shares``."""
    cum = []
    acc = 0.0
    for x in shares:
        acc += x
        cum.append(acc)
    out = [0] * len(shares)
    last = len(shares) - 1
    for _ in range(total):
        u = rng.random() * acc
        k = 0
        while k < last and u > cum[k]:
            k += 1
        out[k] += 1
    return out


def _market_table(scenario: Scenario, rng: random.Random) -> list[list[list[int]]]:
    """Demand per week, per consumer-facing node, per segment, for a scenario with
    variants, regions or a shaped mean.

    Each region's total is drawn on its own (independent markets); it is shared over the
    consumer-facing roles by market share, then over the variants by the mix (drawn once
    per seed around the expected mix when ``mix_sd`` > 0; customer by customer when demand
    is random), then over segments."""
    net = scenario.network
    product = scenario.product
    nv = len(product.variants)
    mix = [v.share for v in product.variants]
    if nv > 1 and product.mix_sd:
        mix = [x * math.exp(product.mix_sd * rng.gauss(0.0, 1.0)) for x in mix]
        total = sum(mix)
        mix = [x / total for x in mix]
    random_mix = draws(scenario)
    regions = scenario.regions if len(scenario.regions) > 1 else ()
    markets = [weekly_totals(scenario.demand, longest(scenario), rng, g.share) for g in regions] or [
        weekly_totals(scenario.demand, longest(scenario), rng)
    ]
    facing_roles = sorted({net.role_of[i] for i in net.facing})
    role_shares = [scenario.stages[r].market_share for r in facing_roles]
    seg_shares = [seg.share for seg in scenario.segments]
    # where each (role, variant, region) lands among the facing nodes
    slot = {}
    for c, i in enumerate(net.markets):
        nd = net.nodes[i]
        slot[(nd.role, max(nd.variant, 0), nd.region)] = c
    table: list[list[list[int]]] = []
    for w in range(longest(scenario)):
        row = [[0] * len(seg_shares) for _ in net.markets]
        for g, totals in enumerate(markets):
            for r, part in zip(facing_roles, split(totals[w], role_shares), strict=True):
                by_variant = [part] if nv == 1 else _multinomial(rng, part, mix) if random_mix else split(part, mix)
                for v, n in enumerate(by_variant):
                    c = slot.get((r, v, g if regions else -1))
                    if c is None:  # a role that is not regional takes every region's demand
                        c = slot[(r, v, -1)]
                    for k, x in enumerate(split(n, seg_shares)):
                        row[c][k] += x
        table.append(row)
    return table
