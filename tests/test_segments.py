"""Customer segments: impatient customers are lost, patient ones backlogged and served later;
customised customers pay their premium only when the chain finishes to order."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from game.codp import apply_codp, customisable
from game.scenario import load_scenario
from game.scoring import score_game
from game.simulate import simulate

HERE = Path(__file__).parent / "scenarios"
# shop.toml: no stock at the start, one-week order and shipping delays, 10 consumers a week
# (5 impatient with tolerance 0, 5 patient), price 10, unit cost 4, goodwill 2 per lost customer.
SHOP_ORDERS = {"shop": [30, 0, 10, 10, 10, 10, 10, 10]}


@pytest.fixture(scope="module")
def shop_game():
    scn = load_scenario(HERE / "shop.toml")
    return scn, simulate(scn, orders=SHOP_ORDERS)


def _ev(game, week):
    return game[1].weeks[week - 1]["roles"]["shop"]


def test_impatient_lost_patient_backlogged_while_stock_is_out(shop_game):
    # week 1: nothing on the way, so an order placed now (one week in the mail, one on the road);
    # week 2: the 30 ordered in week 1 reach the source now and arrive next week
    for week, backlog, quote in ((1, 5, 2), (2, 10, 1)):
        ev = _ev(shop_game, week)
        assert ev["quoted_lead_time"] == quote
        assert ev["demand_by_segment"] == [5, 5]
        assert ev["lost_by_segment"] == [5, 0]
        assert ev["accepted"] == 5
        assert ev["backlog"] == backlog
        assert ev["shipped"] == 0
        assert ev["lost_margin"] == 5 * (10 - 4)
        assert ev["goodwill"] == 5 * 2
        assert ev["revenue"] == 0


def test_patient_backlog_served_later_with_its_lead_time(shop_game):
    ev = _ev(shop_game, 3)  # the 30 ordered in week 1 arrive
    assert ev["received"] == 30
    assert ev["lost"] == 0  # stock on hand: impatient customers buy
    assert ev["shipped"] == 20  # 10 waiting since weeks 1-2 plus this week's 10
    assert ev["backlog"] == 0
    assert ev["inventory"] == 10
    assert ev["revenue"] == 200
    assert ev["lead_time_sum"] == 5 * 2 + 5 * 1
    assert ev["lead_time_max"] == 2


def test_week_costs_include_goodwill_and_material(shop_game):
    costs = [_ev(shop_game, w)["cost"] for w in range(1, 9)]
    # w1: backlog 5 + goodwill 10; w2: backlog 10 + goodwill 10; w3: 10 on hand x 0.5 + 20 units
    # sold at a unit cost of 4; w4-w8: 10 units sold at 4 each week (material is booked when sold).
    assert costs == [15, 20, 85, 40, 40, 40, 40, 40]


def test_scoring_books_lost_sales_by_segment(shop_game):
    scn, res = shop_game
    sc = score_game(scn, res.weeks)
    ch = sc["channels"]["shop"]
    assert ch["lost_by_segment"] == {"impatient": 10, "patient": 0}
    assert sc["totals"]["lost"] == 10
    assert sc["totals"]["lost_margin"] == 60
    assert sc["totals"]["goodwill"] == 20
    assert sc["totals"]["revenue"] == 700
    assert sc["totals"]["cost"] == 320  # 70 units sold at 4, holding 5, backlog 15, goodwill 20
    assert sc["score"] == 380
    assert sc["kpis"]["fill_rate"] == 0.75  # weeks 3-8 serve their own 10 from stock; 80 demanded
    assert sc["kpis"]["lost_share"] == 0.125
    assert sc["kpis"]["backorder_share"] == 0.125
    assert sc["kpis"]["avg_lead_time"] == round(15 / 70, 9)
    assert sc["kpis"]["max_lead_time"] == 2


def test_impatient_lost_when_parcel_delivery_exceeds_tolerance():
    scn = load_scenario(HERE / "shop.toml")
    shop = replace(scn.stages[0], on_hand=100, delivery_delay=1)
    scn = scn.with_stages((shop,))
    res = simulate(scn, orders={"shop": [0] * 8})
    ev = res.weeks[0]["roles"]["shop"]
    assert ev["lost_by_segment"] == [5, 0]  # in stock, but a parcel takes a week
    assert ev["shipped"] == 5
    assert ev["lead_time_sum"] == 5 * 1


def test_patient_segment_never_lost_even_with_empty_chain():
    scn = load_scenario(HERE / "shop.toml")
    res = simulate(scn, orders={"shop": [0] * 8})
    sc = score_game(scn, res.weeks)
    assert sc["channels"]["shop"]["lost_by_segment"] == {"impatient": 40, "patient": 0}
    assert res.weeks[-1]["roles"]["shop"]["backlog"] == 40
    assert sc["kpis"]["avg_lead_time"] is None  # nothing delivered


CUSTOM = HERE / "custom.toml"


@pytest.mark.parametrize("position", ["mts-local", "mts-central", "ato", "mto", "eto"])
def test_customised_premium_only_when_customisation_stage_works_to_order(position):
    scn = apply_codp(load_scenario(CUSTOM), position)
    res = simulate(scn, seed=2, policy="base_stock:capacity=8")
    modes = {s.role: s.mode for s in scn.stages}
    expected = customisable(scn, modes)
    assert expected == (position in ("ato", "mto", "eto"))
    sold = sum(w["roles"]["retailer"]["sold"] for w in res.weeks)
    revenue = sum(w["roles"]["retailer"]["revenue"] for w in res.weeks)
    assert sold > 0
    assert revenue == sold * (15 if expected else 10)


def test_churned_customers_do_not_come_back():
    """With churn 0.5, each week the impatient segment keeps 1 - 0.5 x (share of it lost)."""
    shop = load_scenario(HERE / "shop.toml")
    scn = replace(shop, segments=(replace(shop.segments[0], churn=0.5), shop.segments[1]))
    game = simulate(scn, orders=SHOP_ORDERS)
    seen = [w["roles"]["shop"]["demand_by_segment"] for w in game.weeks]
    lost = [w["roles"]["shop"]["lost_by_segment"] for w in game.weeks]
    # week 1: all 5 lost -> loyalty 0.5; week 2: floor(5 x 0.5 + 0.5) = 3 come, all lost -> 0.25;
    # week 3 on: floor(5 x 0.25 + 0.5) = 1 comes and buys from the stock that arrived
    assert seen == [[5, 5], [3, 5]] + [[1, 5]] * 6
    assert lost[:3] == [[5, 0], [3, 0], [0, 0]]
    assert [w["roles"]["shop"]["demand"] for w in game.weeks] == [10, 8] + [6] * 6
    assert game.state.stages[0].loyalty == [0.25, 1.0]
    # without churn the same game keeps its 10 consumers a week
    plain = simulate(shop, orders=SHOP_ORDERS)
    assert [w["roles"]["shop"]["demand"] for w in plain.weeks] == [10] * 8


def test_point_of_sale_demand_shows_who_still_came():
    from game.visibility import view

    shop = load_scenario(HERE / "shop.toml")
    scn = replace(shop, segments=(replace(shop.segments[0], churn=0.5), shop.segments[1]))
    state = simulate(scn, orders=SHOP_ORDERS, weeks=4).state
    v = view(scn, state, "shop", {"pos_demand": True})
    assert [row["demand"] for row in v["pos_demand"]] == [10, 8, 6, 6]
