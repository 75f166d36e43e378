"""Customers as the literature has them (Hoekstra & Romme; impatient customers in lost-sales
and backlog models): a customer who wants a tailored product takes the standard one only at a
discount, or not at all; accepted customers whose wait passes their patience cancel; a delivery
later than promised costs what the segment says. Tiny games, computed by hand."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from support import shop_stage

from game.scenario import ScenarioError, scenario_from_dict
from game.scoring import score_game
from game.simulate import simulate

# one shop buying from an outside source: one week in the mail, one on the road, nothing at the start
SHOP: dict[str, Any] = {
    "name": "t",
    "weeks": 6,
    "unit_cost": 4.0,
    "demand": {"kind": "constant", "base": 10},
    "segments": [
        {"name": "now", "share": 0.5, "tolerance": 0, "price": 10.0, "goodwill": 2.0},
        {"name": "tailored", "share": 0.5, "price": 10.0, "premium": 5.0, "customised": True, "goodwill": 3.0},
    ],
    "stages": [shop_stage()],
}


def shop(segments: list[dict[str, Any]] | None = None, **changes: Any):
    data = copy.deepcopy(SHOP)
    if segments is not None:
        data["segments"] = segments
    data.update(changes)
    return scenario_from_dict(data, "test")


def events(scn, orders: list[int]) -> list[dict[str, Any]]:
    return [w["roles"]["shop"] for w in simulate(scn, orders={"shop": orders}).weeks]


# ---------------------------------------------------------------------------
# a tailored product's customers and the standard product
# ---------------------------------------------------------------------------

ORDERS = [30, 0, 10, 10, 10, 10]  # 30 arrive in week 3, then 10 a week


@pytest.mark.parametrize(("stage", "discount", "price"), [("shop", 0.2, 15.0), ("engineering", 0.2, 8.0)])
def test_a_tailored_customer_pays_the_premium_or_takes_the_standard_product_at_a_discount(
    stage: str, discount: float, price: float
) -> None:
    # "engineering": only a chain that works to order throughout can tailor; this shop holds stock
    segs = copy.deepcopy(SHOP["segments"])
    segs[1]["standard_discount"] = discount
    evs = events(shop(segs, customisation_stage=stage), ORDERS)
    # weeks 1-2: nothing in stock, the 5 "now" customers walk away, the 5 tailored wait (10 by week 2)
    assert [e["lost_by_segment"] for e in evs[:2]] == [[5, 0], [5, 0]]
    # week 3: 30 arrive; the 10 waiting and this week's 10 are served: 5 "now" at 10, 15 tailored
    assert evs[2]["sold"] == 20 and evs[2]["revenue"] == 5 * 10 + 15 * price
    assert sum(e["revenue"] for e in evs) == 4 * 5 * 10 + 6 * 5 * price  # 4 weeks of "now", 6 of tailored


def test_a_tailored_customer_who_will_not_take_the_standard_product_is_a_lost_sale() -> None:
    segs = copy.deepcopy(SHOP["segments"])
    segs[1]["standard_discount"] = 1.0
    scn = shop(segs, customisation_stage="engineering")
    evs = events(scn, ORDERS)
    for week, e in enumerate(evs, start=1):
        now_lost = 5 if week <= 2 else 0
        assert e["demand_by_segment"] == [5, 5]
        assert e["lost_by_segment"] == [now_lost, 5] and e["accepted"] == 5 - now_lost
        assert e["lost_margin"] == (now_lost + 5) * (10 - 4)
        assert e["goodwill"] == now_lost * 2 + 5 * 3
    assert [e["backlog"] for e in evs] == [0] * 6  # nobody waits
    assert sum(e["revenue"] for e in evs) == 4 * 5 * 10
    assert evs[0]["cost"] == 5 * 2 + 5 * 3  # goodwill only: no stock, no backlog
    # the same when the shop could tailor, but nobody pays the premium for stock it cannot tailor
    assert events(shop(segs, customisation_stage="shop"), ORDERS)[2]["revenue"] == 5 * 10 + 15 * 15


def test_standard_discount_is_a_share() -> None:
    segs = copy.deepcopy(SHOP["segments"])
    segs[1]["standard_discount"] = 1.5
    with pytest.raises(ScenarioError, match="standard_discount: must be at most 1"):
        shop(segs)


# ---------------------------------------------------------------------------
# reneging and lateness
# ---------------------------------------------------------------------------

ONCE = {"kind": "series", "series": [5, 0, 0, 0, 0, 0]}  # five customers in week 1, nobody after


def waiting(patience: list[list[float]], **seg: Any):
    segment = {"name": "buyers", "share": 1.0, "patience": patience, "price": 10.0, "goodwill": 3.0, **seg}
    return shop([segment], demand=ONCE)


def test_accepted_customers_cancel_once_their_wait_passes_their_patience() -> None:
    # week 1: no stock, an order now would arrive in week 3: quoted 2 weeks, all 5 accept
    evs = events(waiting([[2, 1.0]], renege=True), [0] * 6)
    assert evs[0]["accepted"] == 5 and evs[0]["quoted_lead_time"] == 2
    # weeks 2-3: a delivery now would still come within 2 weeks; week 4 it would take 3: all cancel
    assert [e["reneged"] for e in evs] == [0, 0, 0, 5, 0, 0]
    assert [e["backlog"] for e in evs] == [5, 5, 5, 0, 0, 0]
    week4 = evs[3]
    assert week4["lost_margin"] == 5 * (10 - 4) and week4["goodwill"] == 5 * 3
    assert week4["cost"] == 5 * 3  # goodwill; nobody left waiting
    assert week4["lost"] == 0 and week4["demand"] == 0  # this week's own customers: none
    score = score_game(
        waiting([[2, 1.0]], renege=True), [{"week": k + 1, "roles": {"shop": e}} for k, e in enumerate(evs)]
    )
    assert score["channels"]["shop"]["lost"] == 0 and score["channels"]["shop"]["reneged"] == 5
    assert score["totals"]["reneged"] == 5 and score["totals"]["lost_margin"] == 30
    assert score["kpis"]["lost_share"] == 1.0


def test_customers_cancel_as_their_patience_runs_out() -> None:
    # 40% wait at most 2 weeks, 60% at most 3: week 4 (a 3-week wait) loses 40% of 5, week 5 the rest
    evs = events(waiting([[2, 0.4], [3, 0.6]], renege=True), [0] * 6)
    assert [e["reneged"] for e in evs] == [0, 0, 0, 2, 3, 0]
    assert [e["goodwill"] for e in evs] == [0, 0, 0, 6, 9, 0]


def test_without_reneging_they_wait_as_before() -> None:
    evs = events(waiting([[2, 1.0]]), [0] * 6)
    assert [e["reneged"] for e in evs] == [0] * 6 and [e["backlog"] for e in evs] == [5] * 6


def test_a_late_delivery_costs_the_segment_s_late_cost_per_unit_and_week() -> None:
    # ordered in week 3, the goods arrive in week 5: promised 2 weeks, delivered after 4
    evs = events(waiting([[8, 1.0]], late_cost=0.5), [0, 0, 5, 0, 0, 0])
    assert evs[0]["quoted_lead_time"] == 2
    assert evs[4]["sold"] == 5 and evs[4]["lead_time_sum"] == 5 * 4
    # backlog cost: 5 waiting x 1.0 in weeks 1-4, plus 5 x 0.5 in weeks 4 and 5 (the two weeks late)
    assert [e["backlog_cost"] for e in evs] == [5, 5, 5, 5 + 2.5, 2.5, 0]
    assert [e["late_penalty"] for e in evs] == [0, 0, 0, 2.5, 2.5, 0]
