"""The scoring engine: money per stage and week, KPIs, one score and the ranking."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from game.codp import apply_codp
from game.engine import step
from game.scenario import load_scenario
from game.scoring import MONEY, rank_teams, score_game, summary, team_score, weeks_so_far
from game.simulate import simulate
from game.start import new_game

HERE = Path(__file__).parent / "scenarios"
BENCHMARK = "sterman:theta=0,alpha=1,beta=1,target=28,target_factory=20,fixed_weeks=4"
COMPONENTS = (
    "holding_cost",
    "backlog_cost",
    "capacity_cost",
    "fulfilment_cost",
    "material_cost",
    "write_off",
    "goodwill",
)


def _games():
    custom = load_scenario(HERE / "custom.toml")
    yield load_scenario("classic"), "sterman"
    yield load_scenario(HERE / "ecommerce.toml"), "base_stock"
    yield load_scenario(HERE / "shop.toml"), "sterman"
    for pos in ("mts-local", "ato", "eto"):
        yield apply_codp(custom, pos), "base_stock:capacity=7"


GAMES = [(scn, simulate(scn, seed=7, policy=pol)) for scn, pol in _games()]


def test_classic_benchmark_scores_minus_cost():
    scn = load_scenario("classic")
    res = simulate(scn, policy=BENCHMARK)
    sc = score_game(scn, res.weeks)
    assert {r: s["cost"] for r, s in sc["stages"].items()} == {
        "retailer": 46,
        "wholesaler": 50,
        "distributor": 54,
        "factory": 54,
    }
    assert sc["totals"]["cost"] == 204 and sc["totals"]["revenue"] == 0
    assert sc["score"] == -204 == team_score(scn, res.weeks)
    assert sc["weeks_played"] == 36 and len(sc["weeks"]) == 36


@pytest.mark.parametrize("k", range(len(GAMES)))
def test_components_add_up_to_cost_and_profit(k):
    scn, res = GAMES[k]
    sc = score_game(scn, res.weeks)
    for row, rec in zip(sc["weeks"], res.weeks, strict=True):
        for role, s in row["stages"].items():
            ev = rec["roles"][role]
            assert s["cost"] == pytest.approx(ev["cost"])
            assert sum(s[c] for c in COMPONENTS) == pytest.approx(s["cost"])
            assert s["profit"] == pytest.approx(s["revenue"] - s["cost"])
    for role, s in sc["stages"].items():
        assert s["cost"] == pytest.approx(sum(w["roles"][role]["cost"] for w in res.weeks))
        assert s["cost"] == pytest.approx(sum(row["stages"][role]["cost"] for row in sc["weeks"]))
    for key in MONEY:
        assert sc["totals"][key] == pytest.approx(sum(s[key] for s in sc["stages"].values()))
        assert sc["totals"][key] == pytest.approx(sum(row["totals"][key] for row in sc["weeks"]))
    assert sc["score"] == sc["totals"]["profit"] == team_score(scn, res.weeks)
    assert sc["totals"]["demand"] == sc["totals"]["accepted"] + sc["totals"]["lost"]
    json.dumps(sc, allow_nan=False)


def test_profit_games_earn_revenue():
    scn, res = GAMES[1]
    sc = score_game(scn, res.weeks)
    assert sc["totals"]["revenue"] > 0
    assert sc["score"] == pytest.approx(sc["totals"]["revenue"] - sc["totals"]["cost"])


def test_bullwhip_ratio_by_hand():
    scn = load_scenario("classic")
    # demand: 4 for weeks 1-4, then 8: variance 128/81. The retailer alternates 0 and 8: variance 16.
    res = simulate(scn, policy="passthrough", orders={"retailer": [0, 8] * 18})
    sc = score_game(scn, res.weeks)
    assert sc["kpis"]["consumer_demand_variance"] == round(128 / 81, 9)
    assert sc["stages"]["retailer"]["order_variance"] == 16
    assert sc["stages"]["retailer"]["bullwhip"] == 10.125


def test_passthrough_retailer_has_ratio_one_and_sterman_amplifies_upstream():
    scn = load_scenario("classic")
    sc = score_game(scn, simulate(scn, policy="passthrough").weeks)
    assert sc["kpis"]["bullwhip"]["retailer"] == 1.0
    bw = score_game(scn, simulate(scn, policy=BENCHMARK).weeks)["kpis"]["bullwhip"]
    assert 1 < bw["retailer"] < bw["wholesaler"] < bw["distributor"] < bw["factory"]


def test_bullwhip_undefined_for_constant_demand_but_order_swing_reported():
    scn = load_scenario(HERE / "shop.toml")
    sc = score_game(scn, simulate(scn, orders={"shop": [30, 0, 10, 10, 10, 10, 10, 10]}).weeks)
    assert sc["kpis"]["consumer_demand_variance"] == 0
    assert sc["stages"]["shop"]["bullwhip"] is None
    # mean 11.25: (18.75² + 11.25² + 6 x 1.25²) / 8
    assert sc["stages"]["shop"]["order_variance"] == 60.9375


def test_bullwhip_compares_each_stage_with_the_demand_it_serves():
    scn, res = GAMES[1]  # e-commerce: the wholesaler serves only the retail channel
    sc = score_game(scn, res.weeks)
    retail = [w["roles"]["retailer"]["demand"] for w in res.weeks]
    total = [w["roles"]["retailer"]["demand"] + w["roles"]["ecommerce"]["demand"] for w in res.weeks]

    def var(xs):
        m = sum(xs) / len(xs)
        return sum((x - m) ** 2 for x in xs) / len(xs)

    assert sc["stages"]["wholesaler"]["demand_variance"] == pytest.approx(var(retail))
    assert sc["stages"]["retailer"]["demand_variance"] == pytest.approx(var(retail))
    assert sc["stages"]["manufacturer"]["demand_variance"] == pytest.approx(var(total))
    orders = [w["roles"]["manufacturer"]["order"] for w in res.weeks]
    assert sc["stages"]["manufacturer"]["bullwhip"] == pytest.approx(var(orders) / var(total))


def test_inventory_turns_by_hand():
    scn = load_scenario(HERE / "shop.toml")
    sc = score_game(scn, simulate(scn, orders={"shop": [30, 0, 10, 10, 10, 10, 10, 10]}).weeks)
    # 70 units shipped; stock at the end of the weeks: 0, 0, 10, 0, 0, 0, 0, 0 (average 1.25)
    assert sc["stages"]["shop"]["avg_inventory"] == 1.25
    assert sc["stages"]["shop"]["inventory_turns"] == 56
    assert sc["kpis"]["inventory_turns"] == 56


def test_current_week_without_orders_is_scored_and_left_out_of_bullwhip():
    scn = load_scenario("classic")
    state = new_game(scn, 0)
    history = []
    for w in range(10):
        week = state.week
        state, events = step(scn, state, dict.fromkeys(scn.roles, 4 + w % 3))
        history.append({"week": week, "roles": dict(zip(scn.roles, events, strict=True))})
    weeks = weeks_so_far(scn, state, history)
    assert [w["week"] for w in weeks] == list(range(1, 12))
    assert weeks[-1]["roles"]["retailer"]["order"] is None
    sc = score_game(scn, weeks)
    assert sc["weeks_played"] == 11
    assert sc["totals"]["cost"] == pytest.approx(sum(ev["cost"] for w in weeks for ev in w["roles"].values()))
    assert sc["stages"]["retailer"]["order"] == sum(4 + w % 3 for w in range(10))
    assert sc["stages"]["retailer"]["order_variance"] == summary(scn, history)["stages"]["retailer"]["order_variance"]


def test_no_weeks_no_kpis():
    scn = load_scenario("classic")
    sc = score_game(scn, [])
    assert sc["score"] == 0 and sc["weeks"] == []
    assert sc["kpis"]["fill_rate"] is None and sc["kpis"]["avg_lead_time"] is None
    assert all(v is None for v in sc["kpis"]["bullwhip"].values())


def test_rank_teams_ties_share_a_rank_and_are_deterministic():
    entries = [("b", -5.0), ("a", -5.0), ("c", 0.1 + 0.2), ("d", 0.3), ("e", None), ("f", -7)]
    expected = [
        {"rank": 1, "team": "c", "score": 0.3},
        {"rank": 1, "team": "d", "score": 0.3},
        {"rank": 3, "team": "a", "score": -5.0},
        {"rank": 3, "team": "b", "score": -5.0},
        {"rank": 5, "team": "f", "score": -7.0},
        {"rank": 6, "team": "e", "score": None},
    ]
    assert rank_teams(entries) == expected
    for seed in range(5):
        shuffled = entries[:]
        random.Random(seed).shuffle(shuffled)
        assert rank_teams(shuffled) == expected
    assert [r["team"] for r in rank_teams([(10, 1), (2, 1), (1, 2)])] == [1, 2, 10]


def test_rank_teams_orders_games_by_score():
    scored = [(k, team_score(scn, res.weeks)) for k, (scn, res) in enumerate(GAMES)]
    ranking = rank_teams(scored)
    scores = [r["score"] for r in ranking]
    assert scores == sorted(scores, reverse=True)
    assert {r["team"] for r in ranking} == set(range(len(GAMES)))


def test_summary_is_the_score_without_week_rows():
    scn, res = GAMES[1]
    full = score_game(scn, res.weeks)
    rows = full.pop("weeks")
    assert len(rows) == len(res.weeks)
    assert summary(scn, res.weeks) == full


@pytest.mark.parametrize("name", ["decoupling-point", "product-leadership"])
def test_stock_points_add_up_to_their_roles(name: str) -> None:
    """Per variant and region: the stock points' averages sum to their role's, the regions'
    demand and lost customers to the channel's, and segments' demand to the market's."""
    from game.scenario import load_scenario as load
    from game.simulate import simulate as sim

    scn = load(name)
    res = sim(scn, seed=5, policy="sterman")
    sm = summary(scn, res.weeks)
    points = sm["stock_points"]
    assert len(points) >= 4
    for role in {p["role"] for p in points.values()}:
        mine = [p for p in points.values() if p["role"] == role]
        assert sum(p["avg_inventory"] for p in mine) == pytest.approx(sm["stages"][role]["avg_inventory"])
        # what the role owes its customers is owed by the variants' and regions' stock points
        # (the generic stock, labelled by the role alone, owes only the role's own finishing step)
        outer = [p for label, p in points.items() if p["role"] == role and "/" in label]
        assert sum(p["avg_backlog"] for p in outer) == pytest.approx(sm["stages"][role]["avg_backlog"])
        assert all(0 <= p["stockout_weeks"] <= sm["weeks_played"] for p in mine)
        if role in sm["channels"]:
            ch = sm["channels"][role]
            assert sum(p["demand"] for p in mine) == ch["demand"]
            assert sum(p["lost"] for p in mine) == ch["lost"]
    for ch in sm["channels"].values():
        assert sum(ch["demand_by_segment"].values()) == ch["demand"]
        assert sum(ch["lost_by_segment"].values()) == ch["lost"]
    assert summary(load("classic"), sim(load("classic"), seed=1, policy="sterman").weeks)["stock_points"] == {}
