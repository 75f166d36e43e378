"""The lead time quoted to a customer is what the chain then delivers: over games played by the
preset's reference plans, the mean lead time promised to the accepted customers and the mean
lead time delivered agree within half a week, at every position of every preset but the few
marked below (strict: each must start failing to pass once its quote is fixed)."""

from __future__ import annotations

import pytest

from game.bestplan import Plan
from game.codp import apply_codp
from game.reference import stored
from game.scenario import list_presets, load_scenario
from game.simulate import simulate

PRESETS = [name for name in list_presets() if load_scenario(name).codp_positions]
SEEDS = (10_000, 10_001, 10_002)  # test seeds of the stored references
# Known gaps, each between half a week and a week: where finished stock runs out at the shop or the
# central stock (engineer-to-order's shop, product-leadership's colours) the quote beyond the
# pipeline assumes a fresh order, though the plan's steady orders bring goods sooner; in the
# engineer-to-order chain of product-leadership the shared queues drain faster than quoted.
KNOWN = {
    ("engineer-to-order", "mts-local"),
    ("product-leadership", "mts-local"),
    ("product-leadership", "mts-central"),
    ("product-leadership", "eto"),
}
CASES = [
    pytest.param(
        name,
        pos,
        marks=pytest.mark.xfail(strict=True, reason="quote off by more than half a week")
        if (name, pos) in KNOWN
        else (),
    )
    for name in PRESETS
    for pos in load_scenario(name).codp_positions
]


@pytest.mark.parametrize(("name", "position"), CASES)
def test_quoted_and_delivered_lead_times_agree(name: str, position: str) -> None:
    base = load_scenario(name)
    data = stored(base)
    assert data is not None, f"run python -m game reference --scenario {name} --save"
    row = next(r for r in data["positions"] if r["position"] == position)
    scn = apply_codp(base, position)
    plan = Plan(position, row["levels"], row["capacities"], 0.0)
    promised = promised_units = delivered = sold = 0.0
    for seed in SEEDS:
        for week in simulate(scn, seed, plan.policies()).weeks:
            for ev in week["roles"].values():
                if "demand" in ev:
                    promised += ev["quoted_sum"]
                    promised_units += ev["quoted_units"]
                    delivered += ev["lead_time_sum"]
                    sold += ev["sold"]
    assert promised_units and sold
    quoted, got = promised / promised_units, delivered / sold
    assert abs(quoted - got) <= 0.5, (round(quoted, 2), round(got, 2))
