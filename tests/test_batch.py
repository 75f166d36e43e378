"""The numpy batch engine gives, game by game, exactly what the scalar engine gives.

Every week, stage and event key the batch engine reports is compared with the
events of ``game.simulate.simulate`` for the same scenario, seed and decisions
(fixed random decision matrices, the bot policies, per-game policy parameters),
on every preset at every decoupling point, and the cost and profit totals must be
the same floats.
"""

from __future__ import annotations

import dataclasses
import random
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from game.batch import channel_demand, run_batch, segment_demand, split, unsupported
from game.bestplan import play_plan
from game.codp import apply_codp, positions_for
from game.demand import split as scalar_split
from game.engine import DecisionError
from game.policies import Policy
from game.scenario import Scenario, list_presets, load_scenario, scenario_from_dict
from game.simulate import policies_for, simulate
from game.state import new_game

STERMAN_BENCHMARK = "sterman:theta=0,alpha=1,beta=1,target=28,target_factory=20,fixed_weeks=4"
# The base-stock rule the batch engine vectorises: forecast x (lead time + 1 + safety_weeks).
BASE_STOCK = "base_stock:safety_weeks=1"


def _stage(role: str, supplier: str | None, **kw: Any) -> dict[str, Any]:
    d: dict[str, Any] = {"role": role, "order_delay": 1, "ship_delay": 2, "on_hand": 12}
    d["orders"] = [4] * d["order_delay"]
    d.update(kw)
    d["orders"] = kw.get("orders", [4] * d["order_delay"])
    d["shipments"] = kw.get("shipments", [4] * d["ship_delay"])
    if supplier:
        d["supplier"] = supplier
    return d


def mto_tree() -> Scenario:
    """Supplier -> manufacturer (make-to-order) -> retailer and a drop-ship web shop;
    two patient segments, every cost the batch engine knows, end-of-game write-off."""
    return scenario_from_dict(
        {
            "name": "mto-tree",
            "weeks": 30,
            "unit_cost": 1.5,
            "write_off_rate": 0.4,
            "demand": {"kind": "poisson", "mean": 10},
            "segments": [{"name": "a", "share": 0.7}, {"name": "b", "share": 0.3}],
            "stages": [
                _stage("supplier", None, on_hand=30, orders=[10], shipments=[10, 10], holding_cost=0.1, unit_value=1),
                _stage(
                    "manufacturer",
                    "supplier",
                    on_hand=0,
                    orders=[7],
                    shipments=[7, 7],
                    mode="mto",
                    capacity=9,
                    capacity_cost=0.35,
                    capacity_change_cost=0.25,
                    wip_holding_cost=0.05,
                    unit_value=3,
                    max_capacity=40,
                ),
                _stage(
                    "retailer",
                    "manufacturer",
                    ship_delay=1,
                    on_hand=10,
                    orders=[7],
                    shipments=[7],
                    holding_cost=0.7,
                    backlog_cost=1.3,
                    unit_value=5,
                    market_share=0.7,
                    max_order=50,
                ),
                _stage(
                    "webshop",
                    "manufacturer",
                    ship_delay=1,
                    on_hand=0,
                    backlog=2,
                    orders=[3],
                    shipments=[3],
                    mode="mto",
                    capacity=4,
                    capacity_cost=0.2,
                    capacity_change_cost=0.4,
                    fulfilment_cost=0.9,
                    market_share=0.3,
                    unit_value=4,
                ),
            ],
        },
        "mto-tree",
    )


def two_shops() -> Scenario:
    """A factory rationing two make-to-stock shops (one starts with a backlog)."""
    return scenario_from_dict(
        {
            "name": "two-shops",
            "weeks": 30,
            "demand": {"kind": "uniform", "low": 0, "high": 20},
            "stages": [
                _stage("factory", None, ship_delay=3, on_hand=10),
                _stage("east", "factory", order_delay=2, on_hand=10, orders=[2, 2], shipments=[2, 2], market_share=0.5),
                _stage(
                    "west",
                    "factory",
                    order_delay=2,
                    on_hand=8,
                    backlog=3,
                    orders=[2, 2],
                    shipments=[2, 2],
                    market_share=0.5,
                ),
            ],
        },
        "two-shops",
    )


SCENARIOS = {
    "classic": lambda: load_scenario("classic"),
    "classic-random": lambda: load_scenario("classic-random"),
    "mto-tree": mto_tree,
    "two-shops": two_shops,
}


def assert_same_games(scenario: Scenario, seeds: list[int], batch: Any, scalar_games: list[Any]) -> None:
    """Each batch game has the scalar game's event keys (all but ``mode``) with the same
    values, week by week and stage by stage, and the same cost and profit totals."""
    totals = batch.cost_totals()
    team = batch.team_cost()
    profit = batch.profit()
    assert batch.games == len(seeds)
    for g, result in enumerate(scalar_games):
        assert len(result.weeks) == scenario.weeks
        mine = batch.game(g)
        money = 0.0
        for week, theirs in zip(mine, result.weeks, strict=True):
            assert week["week"] == theirs["week"]
            for role in scenario.roles:
                ev = theirs["roles"][role]
                got = week["roles"][role]
                assert set(got) == set(ev) - {"mode"}, (role, set(got) ^ set(ev))
                for field, value in got.items():
                    assert value == ev[field], (seeds[g], week["week"], role, field, value, ev[field])
                money += ev.get("revenue", 0.0) - ev["cost"]
        expected = result.totals()
        assert totals[g].tolist() == [expected["cost"][r] for r in scenario.roles]
        assert team[g] == expected["team_cost"]
        assert profit[g] == money


def test_sterman_benchmark_in_batch() -> None:
    scn = load_scenario("classic")
    batch = run_batch(scn, [0, 1, 2], policy=STERMAN_BENCHMARK)
    cost = dict(zip(scn.roles, batch.cost_totals()[0].tolist(), strict=True))
    assert cost == {"retailer": 46.0, "wholesaler": 50.0, "distributor": 54.0, "factory": 54.0}
    assert batch.team_cost().tolist() == [204.0, 204.0, 204.0]  # deterministic demand: every seed alike


@pytest.mark.parametrize("name", sorted(SCENARIOS))
@pytest.mark.parametrize(
    "policy",
    ["sterman", BASE_STOCK, "passthrough", STERMAN_BENCHMARK, "base_stock:level=30,theta=0.5,cap_slack=1.3"],
)
def test_policies_match_scalar(name: str, policy: str) -> None:
    scn = SCENARIOS[name]()
    seeds = [3, 17, 101, 4242, 9]
    batch = run_batch(scn, seeds, policy=policy)
    assert_same_games(scn, seeds, batch, [simulate(scn, s, policy) for s in seeds])


@pytest.mark.parametrize("name", sorted(SCENARIOS))
@pytest.mark.parametrize("draw", [0, 1, 2])
def test_random_decisions_match_scalar(name: str, draw: int) -> None:
    scn = SCENARIOS[name]()
    rng = np.random.default_rng(1000 + draw)
    seeds = [int(s) for s in rng.integers(0, 10_000, size=6)]
    high = [6, 15, 40][draw]
    orders = {r: rng.integers(0, high + 1, size=(len(seeds), scn.weeks)) for r in scn.roles}
    batch = run_batch(scn, seeds, orders=orders)
    scalar = [simulate(scn, s, orders={r: orders[r][g].tolist() for r in scn.roles}) for g, s in enumerate(seeds)]
    assert_same_games(scn, seeds, batch, scalar)


def test_mixed_fixed_roles_and_bots() -> None:
    scn = load_scenario("classic-random")
    seeds = list(range(8))
    factory = np.arange(scn.weeks) % 9  # one row for every game
    batch = run_batch(scn, seeds, policy={"retailer": "passthrough"}, orders={"factory": factory})
    scalar = [simulate(scn, s, {"retailer": "passthrough"}, {"factory": factory.tolist()}) for s in seeds]
    assert_same_games(scn, seeds, batch, scalar)


def test_per_game_policy_parameters() -> None:
    scn = mto_tree()
    seeds = [5, 6, 7, 8]
    levels = [10, 25, 40, 80]
    caps = [3.0, 9.0, 14.0, 30.0]
    params = {"retailer": {"level": levels}, "manufacturer": {"capacity": caps}, "supplier": {"theta": 0.9}}
    batch = run_batch(scn, seeds, policy=BASE_STOCK, params=params)
    scalar = []
    for g, seed in enumerate(seeds):
        pols = policies_for(scn, BASE_STOCK)
        pols["retailer"] = Policy("base_stock", {"level": float(levels[g])})
        pols["manufacturer"] = Policy("base_stock", {"capacity": caps[g]})
        pols["supplier"] = Policy("base_stock", {"theta": 0.9, "safety_weeks": 1.0})
        scalar.append(simulate(scn, seed, pols))
    assert_same_games(scn, seeds, batch, scalar)
    # the parameters really differ per game
    assert len({round(x, 6) for x in batch.team_cost().tolist()}) == len(seeds)


def test_rationing_is_exercised() -> None:
    """The two-shop factory runs short and shares out what it has (else the tree test proves little)."""
    scn = two_shops()
    rng = np.random.default_rng(7)
    orders = {r: rng.integers(0, 25, size=(4, scn.weeks)) for r in scn.roles}
    batch = run_batch(scn, [1, 2, 3, 4], orders=orders)
    factory = scn.index("factory")
    short = batch.weeks["backlog"][:, :, factory] > 0
    assert short.any()
    assert (batch.weeks["shipped"][:, :, factory][short] > 0).any()


def test_demand_matches_new_game() -> None:
    for scn in (load_scenario("classic-random"), mto_tree(), two_shops()):
        seeds = [0, 1, 99, 12345]
        got = channel_demand(scn, seeds)
        for g, seed in enumerate(seeds):
            table = new_game(scn, seed).demand
            assert got[g].tolist() == [[sum(ch) for ch in week] for week in table]


@settings(max_examples=200, deadline=None)
@given(
    totals=st.lists(st.integers(0, 500), min_size=1, max_size=6),
    shares=st.lists(st.integers(1, 9), min_size=1, max_size=4),
)
def test_split_matches_scalar(totals: list[int], shares: list[int]) -> None:
    fractions = [s / sum(shares) for s in shares]
    got = split(np.array(totals, dtype=np.int64), fractions)
    assert got.tolist() == [scalar_split(t, fractions) for t in totals]


def _preset_variants() -> list[tuple[str, str | None]]:
    out: list[tuple[str, str | None]] = []
    for name in list_presets():
        out += [(name, None)] + [(name, p) for p in positions_for(load_scenario(name))]
    return out


@pytest.mark.parametrize(("name", "position"), _preset_variants())
def test_every_preset_and_decoupling_point(name: str, position: str | None) -> None:
    """Segments with lost sales, quotes, prices and premiums, parcel delays, e-commerce,
    make-to-order stages, write-off: bots and random decisions, as in the scalar engine."""
    scn = load_scenario(name)
    scn = apply_codp(scn, position) if position else scn
    assert unsupported(scn) is None
    seeds = [2, 31, 700]
    for policy in ("sterman", BASE_STOCK):
        batch = run_batch(scn, seeds, policy=policy)
        assert_same_games(scn, seeds, batch, [simulate(scn, s, policy) for s in seeds])
    rng = np.random.default_rng(len(name) * 7 + len(position or ""))
    orders = {r: rng.integers(0, 25, size=(len(seeds), scn.weeks)) for r in scn.roles}
    batch = run_batch(scn, seeds, orders=orders)
    scalar = [simulate(scn, s, orders={r: orders[r][g].tolist() for r in scn.roles}) for g, s in enumerate(seeds)]
    assert_same_games(scn, seeds, batch, scalar)


def test_lost_sales_and_revenue_are_exercised() -> None:
    """The presets above really lose customers, quote lead times and earn revenue."""
    scn = apply_codp(load_scenario("segments"), "eto")
    batch = run_batch(scn, [1, 2, 3], policy="sterman")
    retailer = scn.index("retailer")
    assert batch.weeks["lost"][:, :, retailer].sum() > 0
    assert batch.weeks["revenue"][:, :, retailer].sum() > 0
    assert batch.weeks["goodwill"][:, :, retailer].sum() > 0
    assert (batch.weeks["quoted_lead_time"][:, :, retailer] > 0).any()


@pytest.mark.parametrize(
    ("name", "position"), [("decoupling-point", "ato"), ("ecommerce", "mts-local"), ("segments", "eto")]
)
def test_churn_matches_scalar(name: str, position: str) -> None:
    """Impatient customers who are lost go elsewhere for good: the same shrinking demand in both engines."""
    base = apply_codp(load_scenario(name), position)
    scn = dataclasses.replace(
        base,
        segments=tuple(dataclasses.replace(seg, churn=0.7) if seg.tolerance < 1e9 else seg for seg in base.segments),
    )
    seeds = [2, 31, 700]
    for policy in ("sterman", BASE_STOCK):
        batch = run_batch(scn, seeds, policy=policy)
        scalar = [simulate(scn, s, policy) for s in seeds]
        assert_same_games(scn, seeds, batch, scalar)
    rng = np.random.default_rng(5)
    orders = {r: rng.integers(0, 25, size=(len(seeds), scn.weeks)) for r in scn.roles}
    batch = run_batch(scn, seeds, orders=orders)
    scalar = [simulate(scn, s, orders={r: orders[r][g].tolist() for r in scn.roles}) for g, s in enumerate(seeds)]
    assert_same_games(scn, seeds, batch, scalar)
    # churn really happened: some consumer-facing stage ends with a segment below full loyalty
    assert any(share < 1.0 for game in scalar for st in game.state.stages for share in st.loyalty)


def test_what_if_plans_in_one_batch() -> None:
    """Many stationary plans on one team's demand in one call: the same profit as the
    best-plan search's scalar replay of each plan."""
    scn = apply_codp(load_scenario("decoupling-point"), "ato")
    seed = 11
    modes = {s.role: s.mode for s in scn.stages}
    plans = [
        {r: (base + 4 * k if modes[r] == "mts" else 8 + k) for r in scn.roles}
        for k, base in enumerate([10, 20, 30, 45, 60])
    ]
    params = {
        r: ({"level": [p[r] for p in plans]} if modes[r] == "mts" else {"capacity": [p[r] for p in plans]})
        for r in scn.roles
    }
    batch = run_batch(scn, [seed] * len(plans), policy="base_stock", params=params)
    assert batch.profit().tolist() == [play_plan(scn, seed, p) for p in plans]
    assert len(set(batch.profit().tolist())) == len(plans)


def test_segment_demand_matches_new_game() -> None:
    scn = load_scenario("ecommerce")
    got = segment_demand(scn, [4, 5])
    assert got[0].tolist() == new_game(scn, 4).demand
    assert got[1].tolist() == new_game(scn, 5).demand


def test_supported_scenarios_report_none() -> None:
    for make in SCENARIOS.values():
        assert unsupported(make()) is None


@pytest.mark.parametrize(
    ("orders", "message"),
    [
        ({"retailer": [-1] * 36}, "between 0 and 1000"),
        ({"retailer": [1001] * 36}, "between 0 and 1000"),
        ({"retailer": [1.5] * 36}, "whole numbers"),
        ({"retailer": [True] * 36}, "whole numbers"),
        ({"retailer": [4] * 10}, "shape"),
        ({"shop": [4] * 36}, "unknown role"),
    ],
)
def test_bad_decisions(orders: dict[str, list[Any]], message: str) -> None:
    with pytest.raises(DecisionError, match=message):
        run_batch(load_scenario("classic"), 3, orders=orders)


def test_weeks_override_and_seed_count() -> None:
    scn = load_scenario("classic-random")
    batch = run_batch(scn, 4, policy="sterman", weeks=12)
    assert batch.seeds == [0, 1, 2, 3]
    assert batch.weeks["cost"].shape == (4, 12, 4)
    scalar = [simulate(scn, s, "sterman", weeks=12) for s in range(4)]
    assert_same_games(scalar[0].scenario, batch.seeds, batch, scalar)


def test_games_differ_by_seed() -> None:
    """Random demand really differs between games (so the comparisons above cover many histories)."""
    rng = random.Random(1)
    batch = run_batch(load_scenario("classic-random"), [rng.randrange(10**6) for _ in range(5)])
    demand = batch.weeks["demand"][:, :, -1]
    assert len({tuple(row) for row in demand.tolist()}) == 5
