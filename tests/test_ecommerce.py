"""The direct e-commerce seller: a branch from the manufacturer beside the retail chain."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from game.engine import step
from game.scenario import Scenario, load_scenario
from game.scoring import score_game
from game.simulate import simulate
from game.start import new_game

# ecommerce.toml: manufacturer -> wholesaler -> retailer (75% of consumers) and
# manufacturer -> ecommerce (25%, parcels take 2 weeks, fulfilment 0.5 per unit).
ECOMMERCE = Path(__file__).parent / "scenarios" / "ecommerce.toml"


@pytest.fixture(scope="module")
def scn() -> Scenario:
    return load_scenario(ECOMMERCE)


def _with_shares(scn: Scenario, ecommerce: float) -> Scenario:
    shares = {"ecommerce": ecommerce, "retailer": 1.0 - ecommerce}
    return scn.with_stages(tuple(replace(s, market_share=shares.get(s.role, 0.0)) for s in scn.stages))


def test_manufacturer_supplies_both_channels(scn):
    topo = scn.topology
    m = scn.index("manufacturer")
    assert sorted(scn.roles[j] for j in topo.customers[m]) == ["ecommerce", "wholesaler"]
    res = simulate(scn, seed=3, policy="sterman")
    for prev, w in zip(res.weeks, res.weeks[1:], strict=False):
        orders = prev["roles"]["wholesaler"]["order"] + prev["roles"]["ecommerce"]["order"]
        assert w["roles"]["manufacturer"]["incoming_order"] == orders  # one-week order delay for both


def test_rationing_when_the_manufacturer_is_short(scn):
    state = new_game(scn, 0)
    assert state.stages[scn.index("manufacturer")].on_hand == 12
    decisions = {"manufacturer": 8, "wholesaler": 30, "ecommerce": 10, "retailer": 6}
    state, _ = step(scn, state, decisions)
    man = state.events[scn.index("manufacturer")]
    assert man["received"] == 8 and man["incoming_order"] == 40
    assert man["shipped"] == 20  # all it had: 12 + 8
    # shared in proportion to what each customer is owed (30:10)
    assert state.stages[scn.index("wholesaler")].ship_q[-1] == 15
    assert state.stages[scn.index("ecommerce")].ship_q[-1] == 5
    assert state.stages[scn.index("manufacturer")].owed == [15, 5]
    assert man["backlog"] == 20


def test_rationing_shares_remainders_by_largest_fraction(scn):
    state = new_game(scn, 0)
    state, _ = step(scn, state, {"manufacturer": 0, "wholesaler": 7, "ecommerce": 7, "retailer": 6})
    man = scn.index("manufacturer")
    assert state.stages[man].owed == [0, 0] and state.stages[man].on_hand == 6  # 20 on hand, 14 shipped
    state, _ = step(scn, state, {"manufacturer": 0, "wholesaler": 20, "ecommerce": 13, "retailer": 6})
    # 6 + 8 arriving = 14 for 33 owed: 20*14/33 = 8.48, 13*14/33 = 5.52 -> the spare unit goes to 5.52
    assert state.events[man]["shipped"] == 14
    assert state.stages[scn.index("wholesaler")].ship_q[-1] == 8
    assert state.stages[scn.index("ecommerce")].ship_q[-1] == 6
    assert state.stages[man].owed == [12, 7]


def test_ecommerce_share_comes_out_of_the_retail_channel(scn):
    totals = None
    for share in (0.25, 0.5):
        variant = _with_shares(scn, share)
        table = new_game(variant, 9).demand
        # channels in scenario order: ecommerce, retailer
        ecom = [w[0][0] for w in table]
        retail = [w[1][0] for w in table]
        week_totals = [a + b for a, b in zip(ecom, retail, strict=True)]
        if totals is None:
            totals, ecom_low, retail_low = week_totals, ecom, retail
        else:
            assert week_totals == totals  # the same consumers, split differently
            assert sum(ecom) > sum(ecom_low)
            assert [a - b for a, b in zip(retail_low, retail, strict=True)] == [
                a - b for a, b in zip(ecom, ecom_low, strict=True)
            ]
    assert sum(ecom_low) == pytest.approx(0.25 * sum(totals), abs=len(totals))


def test_parcels_fulfilment_cost_and_lead_time(scn):
    res = simulate(scn, seed=5, policy="sterman")
    eco = [w["roles"]["ecommerce"] for w in res.weeks]
    assert [e["delivered"] for e in eco] == [0, 0] + [e["sold"] for e in eco[:-2]]
    for e in eco:
        assert e["fulfilment_cost"] == pytest.approx(0.5 * e["shipped"])
        if e["sold"]:
            assert e["lead_time_max"] >= 2 and e["lead_time_sum"] >= 2 * e["sold"]
    assert all(w["roles"]["retailer"]["fulfilment_cost"] == 0 for w in res.weeks)
    sc = score_game(scn, res.weeks)
    ch = sc["channels"]
    assert ch["ecommerce"]["sold"] == sum(e["sold"] for e in eco)
    assert ch["ecommerce"]["share_of_sales"] + ch["retailer"]["share_of_sales"] == pytest.approx(1.0)
    assert sc["totals"]["fulfilment_cost"] == pytest.approx(0.5 * ch["ecommerce"]["sold"])
    assert sc["totals"]["demand"] == ch["ecommerce"]["demand"] + ch["retailer"]["demand"]


def test_ecommerce_drop_ship_to_order_holds_no_stock(scn):
    drop = scn.with_stages(
        tuple(
            replace(s, mode="mto", on_hand=0, capacity=20, orders=(0,), shipments=(0,)) if s.role == "ecommerce" else s
            for s in scn.stages
        )
    )
    res = simulate(drop, seed=6, policy="sterman")
    eco = [w["roles"]["ecommerce"] for w in res.weeks]
    assert all(e["mode"] == "mto" and e["inventory"] == 0 for e in eco)
    assert sum(e["sold"] for e in eco) > 0
    # it orders exactly what its customers ordered, week by week
    cum_orders = cum_accepted = 0
    for e in eco:
        cum_orders += e["order"]
        cum_accepted += e["accepted"]
        assert cum_orders == cum_accepted
    sc = score_game(drop, res.weeks)
    assert sc["channels"]["ecommerce"]["fill_rate"] == 0  # every unit follows an order
    assert sc["channels"]["ecommerce"]["avg_lead_time"] > 2  # order, supply and parcel


def test_a_team_picks_the_web_shops_mode_beside_its_codp(scn):
    from game.codp import apply_codp, apply_shop, shop_mode, shop_roles
    from game.review import CodpError, switch_codp

    assert shop_roles(scn) == ["ecommerce"] and shop_mode(scn) == "mts"
    assert shop_roles(load_scenario("classic")) == [] and shop_mode(load_scenario("classic")) is None
    drop = apply_shop(apply_codp(scn, "ato"), "mto")
    assert drop.stage("ecommerce").mode == "mto" and drop.stage("ecommerce").on_hand == 0
    assert apply_codp(drop, "mts-local").stage("ecommerce").mode == "mto"  # the CODP leaves the shop alone
    assert drop.stage("retailer").mode == "mto" and drop.stage("manufacturer").mode == "mts"
    with pytest.raises(ValueError):
        apply_shop(load_scenario("classic"), "mto")
    # at a review the shop goes from its warehouse to drop-shipping: its stock is shipped first
    reviewed = replace(scn, review_weeks=(3,))
    state = new_game(reviewed, 4)
    for _ in range(2):
        state, _ = step(reviewed, state, {r: 6 for r in scn.roles})
    shop = scn.roles.index("ecommerce")
    stock = state.stages[shop].on_hand
    assert stock > 0
    new_scn, new = switch_codp(reviewed, state, "mts-local", shop="mto")
    assert shop_mode(new_scn) == "mto" and new.stages[shop].mode == "mto" and new.stages[shop].on_hand == stock
    assert state.stages[shop].mode == "mts"  # the input state is not changed
    after, _ = step(new_scn, new, {r: 6 for r in scn.roles})
    assert after.events[shop]["mode"] == "mto"
    with pytest.raises(CodpError):
        switch_codp(reviewed, state, "mts-local", shop="stock")
    with pytest.raises(CodpError):
        switch_codp(
            load_scenario("classic"), new_game(load_scenario("classic"), 1), "mts-local", shop="mto", any_week=True
        )
