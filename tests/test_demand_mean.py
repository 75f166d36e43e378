"""Volatility without volume: a wider spread of normal demand leaves its mean where it was,
per region, while draws stay seeded (docs/SCENARIOS.md, "Demand")."""

from __future__ import annotations

import math
import random
from dataclasses import replace

import pytest

from game.demand import centre, demand_table, truncated_mean, weekly_totals
from game.scenario import load_scenario
from game.start import new_game

SEEDS = 200


@pytest.mark.parametrize(
    ("name", "sd"),
    [
        *(("decoupling-point", sd) for sd in (8, 16, 32, 48)),
        *(("customer-intimacy", sd) for sd in (6, 12)),  # the volatility driver's sweep and beyond
    ],
)
def test_each_region_keeps_its_mean_as_the_spread_grows(name, sd):
    """decoupling-point: four regions of 10 a week each; at sd 48 (24 a region) a plain normal
    cut off at zero would average about 15.4 a region. customer-intimacy: one market of 10."""
    base = load_scenario(name)
    scn = replace(base, demand=replace(base.demand, sd=sd))
    regions = max(1, len(scn.regions))
    totals = [0] * regions
    n = 0
    for seed in range(SEEDS):
        for week in demand_table(scn, random.Random(seed)):
            n += 1
            for c in range(regions):
                totals[c] += sum(week[c])
    region_sd = sd * math.sqrt(1 / regions)
    se = region_sd / math.sqrt(n)
    tolerance = 4 * se + 0.02  # sampling error, and the rounding to whole units
    for c in range(regions):
        assert abs(totals[c] / n - 10) < tolerance, (c, totals[c] / n)
    if region_sd >= 8:  # the plain normal cut off at zero would fail this test
        assert truncated_mean(10, region_sd) - 10 > tolerance


def test_the_centre_gives_the_mean_and_leaves_narrow_spreads_alone():
    for mean, sd in ((10, 8), (10, 24), (2, 12), (0.5, 4)):
        assert truncated_mean(centre(mean, sd), sd) == pytest.approx(mean, rel=1e-9)
    assert centre(12, 2) == 12  # six spreads above zero: the same draws as before
    assert centre(40, 0) == 40


def test_draws_stay_seeded():
    scn = load_scenario("decoupling-point")
    scn = replace(scn, demand=replace(scn.demand, sd=48))
    assert new_game(scn, 7).demand == new_game(scn, 7).demand
    assert weekly_totals(scn.demand, 52, random.Random(3), 0.25) == weekly_totals(
        scn.demand, 52, random.Random(3), 0.25
    )
    assert new_game(scn, 7).demand != new_game(scn, 8).demand
