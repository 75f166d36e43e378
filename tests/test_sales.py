"""The sales seat (order acceptance against production; due-date quoting after Keskinocak &
Tayur 2004): the mechanism in a tiny game computed by hand, the decision's checks, the bots'
promise, the debrief's figures, and the proof by the reference (plans tuned on some seeds,
scored on others, paired): a promise matched to capacity beats a shorter and a longer one,
and the best promise lengthens with less capacity or more demand."""

from __future__ import annotations

import copy
import math
from dataclasses import replace
from typing import Any

import pytest

from game.analysis.plans import tune
from game.analysis.promises import best_promise, paired, pick_rule, promise_table
from game.engine import DecisionError, decision_bounds, decision_kind, promise_in_force, quote, step
from game.sales import bot_promise, seat_summary, seat_week, with_rule
from game.scenario import SALES_SEAT, ScenarioError, load_scenario, scenario_from_dict
from game.scoring import score_game
from game.simulate import simulate
from game.start import new_game

# one plant making to order from an outside source (a week in the mail, a week on the road),
# nothing in stock or on the way; 4 customers a week, half of whom wait at most 2 weeks (the
# rest as long as it takes); a unit a week late costs 1; no other cost
PLANT: dict[str, Any] = {
    "name": "t",
    "weeks": 5,
    "sales": {"enabled": True, "promise": 1, "max_promise": 6, "margin": 0},
    "demand": {"kind": "series", "series": [4, 4, 4, 4, 4, 4]},
    "segments": [{"name": "all", "share": 1.0, "patience": [[2, 0.5]], "price": 10.0, "late_cost": 1.0}],
    "stages": [
        {
            "role": "plant",
            "mode": "mto",
            "order_delay": 1,
            "ship_delay": 1,
            "orders": [0],
            "shipments": [0],
            "capacity": 0,
            "max_capacity": 10,
            "market_share": 1.0,
            "holding_cost": 0.0,
            "backlog_cost": 0.0,
        }
    ],
}

KEYS = ("promise", "accepted", "lost", "processed", "sold", "backlog", "broken", "late_penalty", "revenue")


def plant(**sales: Any) -> Any:
    data = copy.deepcopy(PLANT)
    data["sales"].update(sales)
    return scenario_from_dict(data)


def row(ev: dict[str, Any]) -> tuple[Any, ...]:
    return tuple(ev[k] for k in KEYS)


def test_customers_accept_by_patience_against_the_promise_and_broken_promises_cost() -> None:
    """Week by week, by hand (capacity and promise decided at the end of the week before):

    1. promise 1 (the first): all 4 accept (everyone waits 1 week); nothing to make yet;
       the plant orders the 4 it owes, which arrive in week 2.
    2. capacity 4, promise 2: 4 made and shipped to week 1's customers (lead time 1 = their
       promise); all 4 new customers accept 2 weeks; 4 more ordered.
    3. capacity 2, promise 3: half accept 3 weeks (2), half walk away (2); 2 made and
       shipped to week 2's customers (lead 1); backlog 2 + 2 = 4; the plant orders 2.
    4. capacity 0, promise 3: 2 accept, 2 walk away; nothing made; backlog 6.
    5. capacity 10, promise 1: all 6 in work made; week 2's last 2 units were promised 2
       weeks and waited 3: 2 broken promises, 2 x 1 week x 1 = 2 late penalty; all 4 accept 1
       week; the 6 shipped are week 2's 2 (lead 3), week 3's 2 (lead 2) and week 4's 2 (lead 1).
    """
    scn = plant()
    st = new_game(scn, 0)
    weeks = [row(st.events[0])]
    for capacity, promise in ((4, 2), (2, 3), (0, 3), (10, 1)):
        st, _ = step(scn, st, {"plant": capacity, SALES_SEAT: promise})
        weeks.append(row(st.events[0]))
    assert weeks == [
        (1, 4, 0, 0, 0, 4, 0, 0.0, 0.0),
        (2, 4, 0, 4, 4, 4, 0, 0.0, 40.0),
        (3, 2, 2, 2, 2, 4, 0, 0.0, 20.0),
        (3, 2, 2, 0, 0, 6, 0, 0.0, 0.0),
        (1, 4, 0, 6, 6, 4, 2, 2.0, 60.0),
    ]
    last = st.events[0]
    assert last["lead_time_sum"] == 2 * 3 + 2 * 2 + 2 * 1
    assert last["promised_sum"] == 2 * 2 + 2 * 3 + 2 * 3
    assert last["promise_cost"] == 2.0
    # the debrief's week: promised 16 / 6, delivered 12 / 6 on average, 2 late, costing 2
    seat = seat_week(5, st.events)
    assert seat is not None
    assert (seat.promise, seat.broken, seat.cost) == (1, 2, 2.0)
    assert seat.promised == pytest.approx(16 / 6)
    assert seat.delivered == pytest.approx(2.0)


def test_reneging_customers_cancel_against_the_promise() -> None:
    """The same plant whose customers renege: week 1's 4 accept a promise of 1 week and
    nothing is made for them (capacity 0). At week 2 their wait (1) is the promise; at week
    3 (wait 2) the promise is broken (4 units a week late: 4) but within everyone's
    patience; at week 4 (wait 3) the half who wait at most 2 weeks cancel (2 units, goodwill
    3 each: 6) and the other 2 are late another week (2): 8. Later customers are promised 6
    weeks (half of them accept) and are not late."""
    data = copy.deepcopy(PLANT)
    data["segments"][0].update(renege=True, goodwill=3.0)
    scn = scenario_from_dict(data)
    st = new_game(scn, 0)
    seen = []
    for capacity in (0, 0, 0):
        st, _ = step(scn, st, {"plant": capacity, SALES_SEAT: 6})  # promise 6: nobody new accepts less
        seen.append((st.events[0]["reneged"], st.events[0]["promise_cost"]))
    assert seen == [(0, 0.0), (0, 4 * 1.0), (2, 2 * 3.0 + 2 * 1.0)]


def test_a_missing_promise_keeps_the_one_in_force() -> None:
    scn = plant(promise=3)
    st = new_game(scn, 0)
    assert promise_in_force(scn, st) == 3
    st, _ = step(scn, st, {"plant": 4})
    assert st.events[0]["promise"] == 3
    st, _ = step(scn, st, {"plant": 4, SALES_SEAT: 5})
    st, _ = step(scn, st, {"plant": 4})
    assert promise_in_force(scn, st) == 5


def test_the_promise_is_checked_like_any_decision() -> None:
    scn = plant()
    st = new_game(scn, 0)
    assert decision_kind(scn, st, SALES_SEAT) == "promise"
    assert decision_bounds(scn, st, SALES_SEAT) == (0, 6)
    with pytest.raises(DecisionError, match="sales: decision must be between 0 and 6"):
        step(scn, st, {"plant": 4, SALES_SEAT: 7})
    with pytest.raises(DecisionError, match="whole number"):
        step(scn, st, {"plant": 4, SALES_SEAT: 2.5})
    plain = scenario_from_dict({**copy.deepcopy(PLANT), "sales": {"enabled": False}})
    assert plain.sales is None and promise_in_force(plain, new_game(plain, 0)) is None
    with pytest.raises(DecisionError, match="unknown role 'sales'"):
        step(plain, new_game(plain, 0), {"plant": 4, SALES_SEAT: 2})


def test_scenario_keys_are_checked() -> None:
    with pytest.raises(ScenarioError, match=r"sales\.promise"):
        plant(promise=7)
    with pytest.raises(ScenarioError, match=r"sales\.colour: unknown key"):
        plant(colour=1)
    data = copy.deepcopy(PLANT)
    data["stages"][0]["role"] = "sales"
    with pytest.raises(ScenarioError, match="sales seat"):
        scenario_from_dict(data)


def test_without_the_seat_the_game_is_the_same() -> None:
    """``[sales] enabled = false`` plays exactly like no ``[sales]`` table: same events."""
    data = copy.deepcopy(PLANT)
    del data["sales"]
    off = copy.deepcopy(PLANT)
    off["sales"] = {"enabled": False}
    a, b = scenario_from_dict(data), scenario_from_dict(off)
    ra = simulate(a, 3, "base_stock")
    rb = simulate(b, 3, "base_stock")
    assert ra.weeks == rb.weeks
    assert all("promise" not in ev for w in ra.weeks for ev in w["roles"].values())


def test_bots_promise_the_chains_quote_plus_the_margin() -> None:
    scn = load_scenario("order-acceptance")
    result = simulate(scn, 1)
    st = new_game(scn, 1)
    expected = min(math.ceil(quote(scn, st, "retailer") - 1e-9) + scn.sales.margin, scn.sales.max_promise)
    assert bot_promise(scn, st) == expected
    # the bots' first decision is in force from week 2
    assert result.weeks[1]["roles"]["retailer"]["promise"] == expected
    # a fixed rule promises its margin whatever the quote
    fixed = with_rule(scn, 5, 0.0)
    assert bot_promise(fixed, st) == 5
    assert fixed.sales.promise == 5  # also before the first decision


def test_the_debrief_shows_promised_against_delivered_per_week() -> None:
    """``score_game``'s ``sales``: per week the promise, the lead time promised to and
    delivered to the units served, the units late and what that cost; and the summary."""
    scn = load_scenario("order-acceptance")
    result = simulate(scn, 2, orders={SALES_SEAT: [2] * 60})
    events = [w["roles"]["retailer"] for w in result.weeks]
    scored = score_game(scn, result.weeks)["sales"]
    assert [w["promise"] for w in scored["weeks"]] == [3] + [2] * (len(events) - 1)
    for w, ev in zip(scored["weeks"], events, strict=True):
        assert w["delivered"] == (round(ev["lead_time_sum"] / ev["sold"], 2) if ev["sold"] else None)
        assert w["broken"] == ev["broken"]
    summary = scored["summary"]
    assert summary["broken"] == sum(ev["broken"] for ev in events) > 0  # 2 weeks: shorter than the chain can
    assert summary["cost"] == pytest.approx(sum(ev["promise_cost"] for ev in events), abs=0.01)
    assert summary["delivered"] > summary["promised"]
    seat = [seat_week(r["week"], list(r["roles"].values())) for r in result.weeks]
    assert summary == seat_summary([w for w in seat if w is not None])
    assert "sales" not in score_game(load_scenario("classic"), simulate(load_scenario("classic"), 0).weeks)


# ----------------------------------------------------------------------------
# The proof: the reference's plans with a fixed promise, tuned on training seeds
# ----------------------------------------------------------------------------

TRAIN = list(range(8))
TEST = list(range(10_000, 10_012))
BUDGET = 40  # a stationary plan per promise


def _variant(**stage: int) -> Any:
    """The preset with every production stage's capacity (and bound) set as given."""
    scn = load_scenario("order-acceptance")
    stages = tuple(replace(s, **stage) if s.mode == "mto" else s for s in scn.stages)
    return scn.with_stages(stages)


@pytest.fixture(scope="module")
def base_table() -> list[Any]:
    return promise_table(load_scenario("order-acceptance"), range(2, 8), TRAIN, TEST, BUDGET)


def test_a_promise_matched_to_capacity_beats_over_and_under_promising(base_table: list[Any]) -> None:
    best = best_promise(base_table)
    by = {r.promise: r for r in base_table}
    assert 2 < best.promise < 7
    for other in (by[best.promise - 2], by[best.promise + 2]):
        gain, se = paired(best, other)
        assert gain > 2 * se, (best.promise, other.promise, gain, se)


def test_the_best_promise_lengthens_with_less_capacity_or_more_demand(base_table: list[Any]) -> None:
    base = best_promise(base_table).promise
    short = _variant(capacity=8, max_capacity=8)
    scn = load_scenario("order-acceptance")
    busy = replace(scn, demand=replace(scn.demand, mean=scn.demand.mean * 1.25))
    for variant in (short, busy):
        table = promise_table(variant, range(base, base + 4), TRAIN, TEST, BUDGET)
        best = best_promise(table)
        assert best.promise > base
        # and out of sample the longer promise beats the base one there
        gain, se = paired(best, table[0])
        assert gain > 2 * se, (best.promise, gain, se)


def test_the_reference_picks_its_sales_rule_on_training_seeds() -> None:
    """``pick_rule`` keeps the rule whose quickly tuned plan earns most on the training seeds."""
    scn = load_scenario("order-acceptance")
    rules = [(0.0, 2), (0.0, 4), (1.0, 3)]
    picked = pick_rule(scn, TRAIN[:4], rules)
    values = {r: tune(with_rule(scn, r[1], r[0]), TRAIN[:4], 40)[1] for r in rules}
    assert max(values, key=values.__getitem__) == (picked.sales.weight, picked.sales.margin)


def test_the_cli_scripts_the_sales_seat(tmp_path: Any) -> None:
    """``simulate --orders`` takes the seat's promises under ``sales`` (checked like any decision)."""
    from game.analysis.cli import CliError, read_orders

    scn = load_scenario("order-acceptance")
    path = tmp_path / "orders.json"
    path.write_text('{"sales": [2, 2, 5]}')
    assert read_orders(str(path), scn, 3) == {SALES_SEAT: [2, 2, 5]}
    path.write_text('{"sales": [2, 2, 13]}')
    with pytest.raises(CliError, match="sales week 3: promise must be 0 to 12, got 13"):
        read_orders(str(path), scn, 3)
    with pytest.raises(CliError, match="unknown role 'sales'"):
        read_orders(str(path), load_scenario("classic"), 3)
