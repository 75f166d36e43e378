"""Information sharing a class can measure: bots that use what they are shown, and the
bullwhip against the lower bound of Chen, Drezner, Ryan & Simchi-Levi (2000)."""

from __future__ import annotations

import statistics

import pytest

from game.codp import apply_codp
from game.policies import FORECAST_WINDOW, parse_policy
from game.scenario import load_scenario
from game.scoring import bullwhip_bound, bullwhip_bounds, summary
from game.simulate import simulate

SEEDS = range(10)
POS = {"pos_demand": True}


def source_bullwhip(scn, policy: str, visibility: dict | None) -> list[float]:
    """The most upstream stage's bullwhip ratio, game by game."""
    top = scn.roles[0]
    return [summary(scn, simulate(scn, s, policy, visibility=visibility).weeks)["kpis"]["bullwhip"][top] for s in SEEDS]


@pytest.mark.parametrize(
    ("name", "position"), [("classic-random", None), ("decoupling-point", "mts-local"), ("decoupling-point", None)]
)
@pytest.mark.parametrize("policy", ["base_stock", "sterman"])
def test_shared_point_of_sale_demand_shrinks_the_bullwhip_upstream(
    name: str, position: str | None, policy: str
) -> None:
    scn = load_scenario(name)
    scn = apply_codp(scn, position) if position else scn
    alone = source_bullwhip(scn, policy, None)
    shared = source_bullwhip(scn, policy, POS)
    spread = statistics.pstdev(alone) + statistics.pstdev(shared)
    gain = statistics.fmean(alone) - statistics.fmean(shared)
    assert gain > spread, (alone, shared)


def test_a_bot_told_to_ignore_the_view_plays_as_if_nothing_were_shared() -> None:
    scn = load_scenario("classic-random")
    blind = parse_policy("base_stock:shared=0")
    assert simulate(scn, 3, blind, visibility=POS).weeks == simulate(scn, 3, "base_stock").weeks
    assert simulate(scn, 3, "base_stock", visibility=POS).weeks != simulate(scn, 3, "base_stock").weeks


def test_the_shared_twin_preset_plays_the_same_demand_with_the_point_of_sale_shared() -> None:
    plain, twin = load_scenario("classic-random"), load_scenario("classic-random-shared")
    assert twin.visibility == {"pos_demand": True, "inventories": False, "pipelines": False}
    assert plain.stages == twin.stages and plain.demand == twin.demand and plain.weeks == twin.weeks
    a, b = simulate(plain, 5, "sterman"), simulate(twin, 5, "sterman")
    assert [w["roles"]["retailer"]["demand"] for w in a.weeks] == [w["roles"]["retailer"]["demand"] for w in b.weeks]
    assert b.weeks == simulate(plain, 5, "sterman", visibility=POS).weeks


def test_the_classic_game_without_sharing_plays_as_before() -> None:
    """Sterman's bots on the classic preset: the published benchmark costs, whatever the sharing code does."""
    scn = load_scenario("classic")
    assert not any(scn.visibility.values())
    spec = "sterman:theta=0,alpha=1,beta=1,target=28,target_factory=20,fixed_weeks=4"
    result = simulate(scn, 0, spec)
    assert result.weeks == simulate(scn, 0, spec, visibility={"pos_demand": False}).weeks
    assert result.totals()["team_cost"] == 204.0


# ---------------------------------------------------------------------------
# the bound
# ---------------------------------------------------------------------------


def test_bound_formula_for_one_stage_and_a_line() -> None:
    # one stage: 1 + 2L/p + 2L^2/p^2
    assert bullwhip_bound([4], 8) == pytest.approx(1 + 1 + 0.5)
    # not shared: the factors multiply; shared: one factor of the summed L
    assert bullwhip_bound([4, 8], 8) == pytest.approx(2.5 * 5)
    assert bullwhip_bound([4, 8], 8, shared=True) == pytest.approx(1 + 3 + 4.5)
    for covers in ([1], [3, 5], [5, 5, 5, 4]):
        assert bullwhip_bound(covers, 8, True) <= bullwhip_bound(covers, 8, False)


def test_bounds_per_stage_follow_the_chain_and_skip_make_to_order_stages() -> None:
    scn = load_scenario("classic-random")
    # covers: lead time + review week; retailer 2 + 2 + 1, ..., factory 1 + 2 + 1
    covers = {"retailer": 5, "wholesaler": 5, "distributor": 5, "factory": 4}
    bounds = bullwhip_bounds(scn, shared=False, window=10)
    line: list[int] = []
    for role in ("retailer", "wholesaler", "distributor", "factory"):
        line.append(covers[role])
        assert bounds[role] == pytest.approx(bullwhip_bound(line, 10))
    central = bullwhip_bounds(apply_codp(load_scenario("decoupling-point"), "mts-central"), shared=True)
    assert central["retailer"] is None
    assert central["wholesaler"] == pytest.approx(bullwhip_bound([3], FORECAST_WINDOW))


def test_the_score_shows_each_stage_beside_its_bound() -> None:
    scn = load_scenario("classic-random")
    weeks = simulate(scn, 1, "base_stock").weeks
    alone = summary(scn, weeks)
    shared = summary(scn, weeks, pos_shared=True)
    for role in scn.roles:
        assert alone["stages"][role]["bullwhip_bound"] == bullwhip_bounds(scn, False)[role]
        assert shared["stages"][role]["bullwhip_bound"] <= alone["stages"][role]["bullwhip_bound"]
    assert alone["kpis"]["bullwhip_bound"]["window"] == FORECAST_WINDOW
    assert shared["kpis"]["bullwhip_bound"]["pos_shared"] is True
    assert summary(load_scenario("classic-random-shared"), weeks)["kpis"]["bullwhip_bound"]["pos_shared"] is True
