"""Information sharing a class can measure: bots that use what they are shown, and the
bullwhip against the figure of Chen, Drezner, Ryan & Simchi-Levi (2000) for the rule it holds for."""

from __future__ import annotations

import statistics
import tomllib
from itertools import pairwise
from pathlib import Path

import pytest

from game.codp import apply_codp
from game.policies import FORECAST_WINDOW, parse_policy
from game.scenario import load_scenario, scenario_from_dict
from game.scoring import bullwhip_bound, bullwhip_bounds, summary, team_score
from game.simulate import simulate

#: seeds no preset, reference plan or bot was tuned on
SEEDS = range(300, 312)
#: more of them where the effects are a unit or two a week (a central stock on the smaller presets)
MORE_SEEDS = range(300, 348)
POS = {"pos_demand": True}
ALL = {"pos_demand": True, "inventories": True, "pipelines": True}
#: every CODP preset at the position where every stage holds stock
CODP_PRESETS = (
    "operational-excellence",
    "decoupling-point",
    "customer-intimacy",
    "segments",
    "ecommerce",
    "product-leadership",
    "engineer-to-order",
)


def paired(xs: list[float]) -> tuple[float, float]:
    """Mean and standard error of per-seed paired differences."""
    return statistics.fmean(xs), statistics.stdev(xs) / len(xs) ** 0.5


def sharing_gains(scn, policy: str, visibility: dict) -> tuple[list[float], list[float]]:
    """Per seed: the fall of the most upstream stage's bullwhip (``top_bullwhip``) and the
    rise of the team's profit when ``visibility`` is shared (the same consumers both times)."""
    return gains_per_kind(scn, policy, [visibility])[0]


def top_bullwhip(scn, weeks: list) -> float:
    """The most upstream stage's bullwhip ratio (the score's). Under a life cycle its rise and
    fall is most of the variance of demand and of every order stream, and a chain that starves
    orders less and so scores low for the wrong reason: there the ratio is taken of the
    week-to-week changes (first differences take out the slow cycle; what is left is the
    amplification of the weeks' ups and downs)."""
    top = scn.roles[0]
    if scn.demand.life_cycle == "flat":
        return summary(scn, weeks)["kpis"]["bullwhip"][top]
    orders = [w["roles"][top]["order"] for w in weeks]
    demand = [sum(ev.get("demand", 0) for ev in w["roles"].values()) for w in weeks]
    return statistics.pvariance(changes(orders)) / statistics.pvariance(changes(demand))


def changes(xs: list[int]) -> list[int]:
    """Week-to-week changes of a series."""
    return [b - a for a, b in pairwise(xs)]


def gains_per_kind(scn, policy: str, kinds: list[dict], seeds: range = SEEDS) -> list[tuple[list[float], list[float]]]:
    """``sharing_gains`` for each visibility in ``kinds``, the unshared games played once."""
    out: list[tuple[list[float], list[float]]] = [([], []) for _ in kinds]
    for seed in seeds:
        alone = simulate(scn, seed, policy).weeks
        base = top_bullwhip(scn, alone), team_score(scn, alone)
        for (bullwhip, profit), visibility in zip(out, kinds, strict=True):
            shared = simulate(scn, seed, policy, visibility=visibility).weeks
            bullwhip.append(base[0] - top_bullwhip(scn, shared))
            profit.append(team_score(scn, shared) - base[1])
    return out


@pytest.mark.parametrize(
    ("name", "position"), [("classic-random", None), ("decoupling-point", "mts-local"), ("decoupling-point", None)]
)
@pytest.mark.parametrize("policy", ["base_stock", "sterman"])
def test_shared_point_of_sale_demand_shrinks_the_bullwhip_upstream(
    name: str, position: str | None, policy: str
) -> None:
    scn = load_scenario(name)
    scn = apply_codp(scn, position) if position else scn
    mean, se = paired(sharing_gains(scn, policy, POS)[0])
    assert mean - 2 * se > 0, (mean, se)


@pytest.mark.parametrize("name", ["classic-random", *CODP_PRESETS])
@pytest.mark.parametrize("policy", ["base_stock", "sterman"])
def test_sharing_lowers_the_bullwhip_and_does_not_cost_money(name: str, policy: str) -> None:
    """Point-of-sale demand with the stock and pipelines: the base-stock bots forecast from
    the consumers' demand and order on their echelon position (Chen et al. 2000), and earn
    more; Sterman's bots forecast from the consumers' demand and lose nothing. On
    ``product-leadership`` (``top_bullwhip`` of the week-to-week changes) Sterman's bullwhip,
    which swings widely between seeds, must only not rise for sure."""
    scn = load_scenario(name)
    scn = apply_codp(scn, "mts-local") if name != "classic-random" else scn
    bullwhip, profit = sharing_gains(scn, policy, ALL)
    mean, se = paired(profit)
    if policy == "base_stock":
        assert mean - 2 * se > 0, ("profit", mean, se)
    else:
        assert mean + 2 * se > 0, ("profit", mean, se)
    mean, se = paired(bullwhip)
    noisy = policy == "sterman" and scn.demand.life_cycle != "flat"
    assert (mean + 2 * se if noisy else mean - 2 * se) > 0, ("bullwhip", mean, se)


@pytest.mark.parametrize("name", ["classic-random", "decoupling-point", "operational-excellence", "customer-intimacy"])
def test_sharing_the_point_of_sale_alone_does_not_cost_money_where_stock_sits_downstream(name: str) -> None:
    scn = load_scenario(name)
    scn = apply_codp(scn, "mts-local") if name != "classic-random" else scn
    for policy in ("base_stock", "sterman"):
        mean, se = paired(sharing_gains(scn, policy, POS)[1])
        assert mean + 2 * se > 0, (policy, mean, se)


@pytest.mark.parametrize(
    ("name", "position", "policy"),
    [
        *[
            (name, None if name == "classic-random" else "mts-local", "base_stock")
            for name in ("classic-random", *CODP_PRESETS)
        ],
        *[
            (name, None if name == "classic-random" else "mts-local", "sterman")
            for name in ("classic-random", *CODP_PRESETS)
        ],
    ],
)
def test_the_point_of_sale_shared_alone_lowers_the_bullwhip_and_earns_at_least_as_much(
    name: str, position: str | None, policy: str
) -> None:
    """Point-of-sale demand alone (Chen et al. 2000; Lee, So & Tang 2000): each bot forecasts
    the level from the consumers' demand, scaled by the share of it that reached the stage so
    far, on its own inventory position; the base-stock bot keeps the spread of the orders it
    received for its safety stock. The top stage's bullwhip falls and the team earns at least
    as much. Sterman's bots on ``product-leadership`` (a life cycle whose rise and fall makes
    their chain's profit swing by thousands between seeds) must only not lose for sure."""
    scn = load_scenario(name)
    scn = apply_codp(scn, position) if position else scn
    bullwhip, profit = sharing_gains(scn, policy, POS)
    noisy = policy == "sterman" and scn.demand.life_cycle != "flat"
    mean, se = paired(profit)
    assert (mean + 2 * se if noisy else mean - 2 * se) >= 0, ("profit", mean, se)
    mean, se = paired(bullwhip)
    assert (mean + 2 * se if noisy else mean - 2 * se) > 0, ("bullwhip", mean, se)


@pytest.mark.parametrize("name", CODP_PRESETS)
@pytest.mark.parametrize("policy", ["base_stock", "sterman"])
def test_sharing_at_a_central_stock_lowers_the_bullwhip_and_does_not_cost_money(name: str, policy: str) -> None:
    """``mts-central``: the retailer works to order, the wholesaler holds the finished goods.
    For the point-of-sale demand alone and for everything shared, on ``MORE_SEEDS``, the top
    stage's bullwhip falls and the team earns at least as much (mean minus two standard
    errors). Sterman's stages above the central stock weigh the orders the point of sale
    accepted against the scaled point-of-sale demand (``game.policies.central_forecast``). On
    ``product-leadership`` (``top_bullwhip`` of the week-to-week changes) Sterman's bots,
    whose profit swings by hundreds and whose bullwhip swings widely between seeds, must only
    not earn less on average nor for sure, and their bullwhip not rise for sure."""
    scn = apply_codp(load_scenario(name), "mts-central")
    noisy = policy == "sterman" and scn.demand.life_cycle != "flat"
    kinds = gains_per_kind(scn, policy, [POS, ALL], MORE_SEEDS)
    for kind, (bullwhip, profit) in zip(("pos", "all"), kinds, strict=True):
        mean, se = paired(profit)
        if noisy:
            assert mean >= 0 and mean + 2 * se >= 0, (kind, "profit", mean, se)
        else:
            assert mean - 2 * se >= 0, (kind, "profit", mean, se)
        mean, se = paired(bullwhip)
        assert (mean + 2 * se if noisy else mean - 2 * se) > 0, (kind, "bullwhip", mean, se)


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
    # shared: the echelon covers its own 8 weeks and the retailer's pipelines, 4 - 2 weeks
    assert bullwhip_bound([4, 8], 8, shared=True) == pytest.approx(1 + 2.5 + 2 * 1.25**2)
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


#: how close the moving-average bot comes to the figure of Chen et al. on long i.i.d. games
BOUND_MARGIN = 0.08


def long_iid_chain():
    """``classic-random``'s chain for 520 weeks of normal demand (100 +- 10, never near zero,
    so no order would be negative), started in balance for the moving-average rule."""
    doc = tomllib.loads((Path(__file__).parents[1] / "config/scenarios/classic-random.toml").read_text())
    doc["weeks"] = 520
    doc["demand"] = {"kind": "normal", "mean": 100, "sd": 10}
    for stage in doc["stages"]:
        stage["on_hand"] = 150
        stage["orders"] = [100] * len(stage["orders"])
        stage["shipments"] = [100] * len(stage["shipments"])
    return scenario_from_dict(doc, "long")


@pytest.mark.parametrize("shared", [False, True])
def test_the_moving_average_bot_plays_the_rule_the_bound_is_for(shared: bool) -> None:
    """Chen et al. (2000): a moving average of the last p demands and an order-up-to level of
    that mean times the weeks covered. The retailer's ratio is the formula; with point-of-sale
    demand, stock and pipelines shared (echelon ordering) every stage's is; without sharing the
    stages upstream only stay above the product of the factors."""
    scn = long_iid_chain()
    bounds = bullwhip_bounds(scn, shared)
    visibility = ALL if shared else None
    ratios: dict[str, list[float]] = {role: [] for role in scn.roles}
    for seed in range(6):
        kpis = summary(scn, simulate(scn, seed, "moving_average:safety=50", visibility=visibility).weeks)["kpis"]
        for role in scn.roles:
            ratios[role].append(kpis["bullwhip"][role] / bounds[role])
    for role, xs in ratios.items():
        mean = statistics.fmean(xs)
        if shared or role == "retailer":
            assert abs(mean - 1) < BOUND_MARGIN, (role, xs)
        else:
            assert mean > 1 - BOUND_MARGIN / 2, (role, xs)
