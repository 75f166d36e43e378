"""The lead time quoted to a customer is what the chain then delivers: over a game played by the
preset's reference plans, the mean lead time promised to the accepted customers and the mean
lead time delivered agree within half a week, at every position of every preset."""

from __future__ import annotations

import pytest

from game.bestplan import Plan
from game.codp import apply_codp
from game.reference import stored
from game.scenario import list_presets, load_scenario
from game.simulate import simulate

PRESETS = [name for name in list_presets() if load_scenario(name).codp_positions]
SEEDS = (10_000, 10_001, 10_002)  # test seeds of the stored references


@pytest.mark.parametrize("name", PRESETS)
def test_quoted_and_delivered_lead_times_agree(name: str) -> None:
    base = load_scenario(name)
    data = stored(base)
    assert data is not None, f"run python -m game reference --scenario {name} --save"
    gaps = {}
    for row in data["positions"]:
        scn = apply_codp(base, row["position"])
        plan = Plan(row["position"], row["levels"], row["capacities"], 0.0)
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
        gaps[row["position"]] = (round(promised / promised_units, 2), round(delivered / sold, 2))
    assert all(abs(q - d) <= 0.5 for q, d in gaps.values()), gaps
