"""Co-makership (customers as co-makers; advance demand information after Hariharan & Zipkin
1995): the deal's mechanism in tiny games computed by hand, what the seats see, the bots, and
the proof by the reference plans (tuned on some seeds, scored on others, paired)."""

from __future__ import annotations

import copy
import math
from dataclasses import replace
from typing import Any

import pytest
from support import shop_stage

from game.analysis.reference import deal_reference, paired_gain
from game.comaker import ComakerError, apply_comaker, in_force, known_orders, offered, switch_comaker
from game.engine import step
from game.horizon import with_length
from game.policies import ahead, parse_policy
from game.review import CodpError
from game.scenario import SCENARIO_DIR, Scenario, ScenarioError, load_scenario, scenario_from_dict
from game.simulate import simulate
from game.start import new_game
from game.visibility import view

DEAL = {"horizon": 2, "discount": 0.1, "lead_time": 2}

# one shop buying from an outside source (a week in the mail, a week on the road), no stock at
# the start; half its customers can co-make, everybody buys now or never without the deal
SHOP: dict[str, Any] = {
    "name": "t",
    "weeks": 6,
    "unit_cost": 4.0,
    "review_weeks": [3],
    "demand": {"kind": "constant", "base": 10},
    "segments": [
        {"name": "co", "share": 0.5, "tolerance": 0, "price": 10.0, "goodwill": 2.0, "comaker": DEAL},
        {"name": "walk", "share": 0.5, "tolerance": 0, "price": 10.0, "goodwill": 2.0},
    ],
    "stages": [shop_stage()],
}


def shop(**changes: Any) -> Scenario:
    data = copy.deepcopy(SHOP)
    data.update(changes)
    return scenario_from_dict(data, "test")


def weeks(scn: Scenario, orders: list[int]) -> list[dict[str, Any]]:
    return [w["roles"]["shop"] for w in simulate(scn, orders={"shop": orders}).weeks]


ORDERS = [0, 20, 0, 0, 0, 0]  # 20 arrive in week 4


def test_without_the_deal_nothing_changes() -> None:
    evs = weeks(shop(), ORDERS)
    assert [e["lost_by_segment"] for e in evs] == [[5, 5]] * 3 + [[0, 0]] * 2 + [[5, 5]]
    assert sum(e["revenue"] for e in evs) == 200.0
    assert [e["backlog_cost"] for e in evs] == [0.0] * 6


def test_co_makers_wait_the_agreed_lead_time_and_pay_the_discounted_price() -> None:
    scn = apply_comaker(shop(), True)
    evs = weeks(scn, ORDERS)
    # the co-makers stay though nothing is in stock; the walk-ins go
    assert [e["lost_by_segment"] for e in evs] == [[0, 5]] * 3 + [[0, 0]] + [[0, 5]] * 2
    assert [e["accepted"] for e in evs] == [5, 5, 5, 10, 5, 5]
    assert [e["backlog"] for e in evs] == [5, 10, 15, 5, 10, 15]
    # week 4: 20 arrive: the 15 co-makers waiting (oldest first, at 9) and the 5 walk-ins (at 10)
    assert evs[3]["sold"] == 20 and evs[3]["revenue"] == 15 * 9.0 + 5 * 10.0
    # no backlog cost while a co-maker would still be on time if served next week (2 weeks agreed):
    # week 3 charges the 5 of week 1 only, week 6 the 5 of week 4
    assert [e["backlog_cost"] for e in evs] == [0.0, 0.0, 5.0, 0.0, 0.0, 5.0]
    # every accepted co-maker is promised the agreed 2 weeks
    assert evs[0]["quoted_sum"] == 5 * 2 and evs[0]["quoted_units"] == 5
    # the end: the 15 still waiting are lost sales with their goodwill
    assert evs[5]["unserved"] == 15 and evs[5]["cost"] == 5 * 2 + 5.0 + 15 * 2


def test_co_makers_do_not_cancel_but_pay_for_lateness() -> None:
    segs = copy.deepcopy(SHOP["segments"])
    segs[0].update(tolerance=1, renege=True, late_cost=0.5)
    scn = apply_comaker(shop(segments=segs), True)
    evs = weeks(scn, [0] * 6)
    assert [e["reneged"] for e in evs] == [0] * 6
    # week 4: the 5 of week 1 wait 3 weeks, past the 2 agreed; week 5 also those of week 2...
    assert [e["late_penalty"] for e in evs] == [0.0, 0.0, 0.0, 2.5, 5.0, 7.5]


def test_the_deal_reveals_the_co_makers_orders_ahead() -> None:
    scn = apply_comaker(shop(demand={"kind": "series", "series": [2, 4, 6, 8, 10, 12]}), True)
    state = new_game(scn)
    assert state.week == 1
    seen = view(scn, state, "shop")["advance_orders"]
    # half of weeks 2 and 3 (split rounds the odd half up to the first segment)
    assert seen == {"from_week": 2, "orders": [2, 3], "share": 0.5}
    assert known_orders(scn, state, 0, 1) == 2 and known_orders(scn, state, 0, 5) == 5
    assert "advance_orders" not in view(apply_comaker(scn, False), state, "shop")


TWO = {
    **SHOP,
    "stages": [
        {"role": "plant", "order_delay": 1, "ship_delay": 2, "on_hand": 0, "orders": [0], "shipments": [0, 0]},
        {**SHOP["stages"][0], "supplier": "plant"},
    ],
    "demand": {"kind": "series", "series": [2, 4, 6, 8, 10, 12]},
}


@pytest.mark.parametrize(("shop_mode", "plant_sees"), [("mts", []), ("mto", [2, 3])])
def test_known_orders_reach_upstream_through_make_to_order_stages(shop_mode: str, plant_sees: list[int]) -> None:
    # a make-to-order shop passes each order on: the plant is the decoupling point and sees them;
    # behind a shop with its own stock it sees them only when point-of-sale demand is shared
    data = copy.deepcopy(TWO)
    data["stages"][1]["mode"] = shop_mode
    scn = apply_comaker(scenario_from_dict(data, "two"), True)
    state = new_game(scn)
    assert view(scn, state, "plant")["advance_orders"]["orders"] == plant_sees
    assert view(scn, state, "plant", {"pos_demand": True})["advance_orders"]["orders"] == [2, 3]


def test_a_deal_is_offered_at_a_review_and_only_where_a_segment_can_co_make() -> None:
    scn = shop()
    assert offered(scn) == ["co"] and not in_force(scn)
    state = new_game(scn)
    with pytest.raises(ComakerError, match="week 1 is not a strategy review"):
        switch_comaker(scn, state, True)
    for _ in range(2):
        state, _ = step(scn, state, {"shop": 0})
    on, after = switch_comaker(scn, state, True)
    assert in_force(on) and after.week == 3 and after is not state
    assert not in_force(switch_comaker(on, after, False)[0])
    with pytest.raises(CodpError, match="no segment that can co-make"):
        apply_comaker(load_scenario("classic"), True)
    assert in_force(shop(segments=[{**SHOP["segments"][0], "comaker": {**DEAL, "active": True}}, SHOP["segments"][1]]))


@pytest.mark.parametrize(
    ("deal", "message"),
    [
        ({"horizon": 0}, r"segments\[0\]\.comaker\.horizon: must be at least 1"),
        ({"discount": 1.5}, r"segments\[0\]\.comaker\.discount: must be at most 0.9"),
        ({"lead_times": {"black": 2}}, r"segments\[0\]\.comaker\.lead_times\.black: names no variant"),
        ({"lead_times": {"standard": -1}}, r"comaker\.lead_times\.standard: must be a whole number of weeks"),
        ({"window": 3}, r"segments\[0\]\.comaker\.window: unknown key"),
    ],
)
def test_deal_keys_are_checked(deal: dict[str, Any], message: str) -> None:
    segs = copy.deepcopy(SHOP["segments"])
    segs[0]["comaker"] = deal
    with pytest.raises(ScenarioError, match=message):
        shop(segments=segs)


def test_lead_time_per_variant() -> None:
    segs = copy.deepcopy(SHOP["segments"])
    segs[0]["comaker"] = {**DEAL, "lead_times": {"standard": 4}}
    deal = shop(segments=segs).segments[0].comaker
    assert deal is not None and deal.agreed("standard") == 4 and deal.agreed("other") == 2


def test_the_bots_forecast_known_weeks_as_known_orders_plus_the_rest() -> None:
    seen = {"advance_orders": {"from_week": 2, "orders": [4, 6], "share": 0.5}}
    total, spread = ahead(10.0, 2.0, 3, seen)
    assert total == 4 + 6 + 2 * 0.5 * 10 + 10
    assert spread == pytest.approx(2.0 * math.sqrt(2 * 0.25 + 1))
    assert ahead(10.0, 2.0, 3, None) == (30.0, pytest.approx(2.0 * math.sqrt(3)))
    # a base-stock bot at a stage that faces known orders orders less safety stock for them
    scn = load_scenario("co-makership")
    on = apply_comaker(scn, True)
    bot = parse_policy("base_stock")
    short = simulate(on, 3, bot).weeks
    blind = simulate(on, 3, parse_policy("base_stock:shared=0")).weeks
    assert [w["roles"]["plant"]["order"] for w in short] != [w["roles"]["plant"]["order"] for w in blind]


# ---------------------------------------------------------------------------
# the proof: reference plans tuned on 6 seeds, scored on 10 others, paired
# ---------------------------------------------------------------------------


def _gain(scn: Scenario) -> tuple[float, float]:
    return paired_gain(deal_reference(scn, train=6, test=10, budget=24))


def test_the_deal_pays_where_demand_is_volatile_and_production_is_slow() -> None:
    gain, se = _gain(load_scenario("co-makership"))
    assert gain > 2 * se > 0


def test_the_deal_does_not_pay_where_demand_is_steady() -> None:
    scn = load_scenario("co-makership")
    gain, se = _gain(replace(scn, demand=replace(scn.demand, sd=1.0)))
    assert gain < -2 * se


def test_the_deal_does_not_pay_when_the_discount_is_large() -> None:
    scn = load_scenario("co-makership")
    dear = tuple(
        replace(seg, comaker=replace(seg.comaker, discount=0.3)) if seg.comaker else seg for seg in scn.segments
    )
    gain, se = _gain(replace(scn, segments=dear))
    assert gain < -2 * se


def test_the_deal_pays_less_where_production_is_quick() -> None:
    scn = load_scenario("co-makership")
    plant = scn.stages[0]
    quick = scn.with_stages((replace(plant, ship_delay=1, shipments=(20,)), scn.stages[1]))
    # knowing orders early is worth less; the agreed lead time still keeps partners who would walk away
    gain, _ = _gain(quick)
    slow_gain, _ = _gain(scn)
    assert gain < slow_gain


def test_compare_and_reference_play_the_choice(capsys: pytest.CaptureFixture[str]) -> None:
    from game.analysis.cli import main

    assert main(["compare", "--scenario", "co-makership", "--seeds", "2", "--policy", "base_stock"]) == 0
    rows = [line.split("  ")[0] for line in capsys.readouterr().out.splitlines()[3:5]]
    assert rows == ["mts-central, no deal", "mts-central, deal"]
    args = ["reference", "--scenario", "co-makership", "--train", "2", "--test", "3", "--budget", "6"]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "mts-central, no deal" in out and "mts-central, deal" in out and "winner: mts-central, " in out


def test_a_session_with_the_deal_shows_the_plant_the_orders_known_ahead(make_app) -> None:
    from web.app import socketio_of

    text = (SCENARIO_DIR / "co-makership.toml").read_text(encoding="utf-8")
    text = text.replace("lead_time = 2 }", "lead_time = 2, active = true }")
    app = make_app()
    body = {"teams": 1, "seed": 3, "round_seconds": 0, "custom_scenario": {"toml": text, "file": "deal.toml"}}
    r = app.test_client().post("/api/sessions", json=body)
    assert r.status_code == 201, r.json
    fac = socketio_of(app).test_client(app)
    assert fac.emit("facilitate", {"code": r.json["code"], "secret": r.json["facilitator_secret"]}, callback=True)["ok"]
    player = socketio_of(app).test_client(app)
    assert player.emit("join", {"code": r.json["code"], "name": "Ada", "role": "plant"}, callback=True)["ok"]
    assert fac.emit("control", {"action": "start"}, callback=True)["ok"]
    states = [e["args"][0] for e in player.get_received() if e["name"] == "state"]
    seen = states[-1]["view"]["advance_orders"]
    scn = apply_comaker(load_scenario("co-makership"), True)
    expected = view(scn, new_game(scn, 3), "plant")["advance_orders"]
    assert seen == expected and len(seen["orders"]) == 5 and seen["share"] == 0.6


def test_a_team_offers_the_deal_before_the_start_and_ends_it_at_a_review(make_app) -> None:
    from web.app import socketio_of

    app = make_app()
    http = app.test_client()
    body = {"scenario": "co-makership", "teams": 1, "seed": 3, "round_seconds": 0, "weeks": 12, "end_window": [12, 12]}
    r = http.post("/api/sessions", json=body)
    assert r.status_code == 201, r.json
    code, secret = r.json["code"], r.json["facilitator_secret"]
    fac = socketio_of(app).test_client(app)
    assert fac.emit("facilitate", {"code": code, "secret": secret}, callback=True)["ok"]
    plant = socketio_of(app).test_client(app)
    assert plant.emit("join", {"code": code, "name": "Ada", "role": "plant"}, callback=True)["ok"]

    def last_state() -> dict[str, Any]:
        return [e["args"][0] for e in plant.get_received() if e["name"] == "state"][-1]

    deal = last_state()["team"]["deal"]
    assert deal["on"] is False and deal["open"] is True and deal["terms"][0]["horizon"] == 5
    assert plant.emit("choose_deal", {"deal": "yes"}, callback=True)["error"]["code"] == "bad_request"
    assert plant.emit("choose_deal", {"deal": True}, callback=True)["ok"]
    st = last_state()
    assert st["team"]["deal"]["on"] is True and st["team"]["deal"]["by"] == "Ada"
    assert len(st["view"]["advance_orders"]["orders"]) == 5
    assert fac.emit("control", {"action": "start"}, callback=True)["ok"]
    assert plant.emit("submit", {"week": 1, "value": 20}, callback=True)["ok"]
    # week 2 is no strategy review (weeks 10, 20, 30): the deal stands
    refused = plant.emit("choose_deal", {"deal": False}, callback=True)
    assert refused["error"]["code"] == "not_running" and "review" in refused["error"]["message"]
    for week in range(2, 10):
        assert plant.emit("submit", {"week": week, "value": 20}, callback=True)["ok"]
    assert last_state()["team"]["deal"]["open"] is True  # week 10: a review
    assert plant.emit("choose_deal", {"deal": False}, callback=True)["ok"]
    assert "advance_orders" not in last_state()["view"]
    for week in range(10, 13):
        assert plant.emit("submit", {"week": week, "value": 20}, callback=True)["ok"]
    results = http.get(f"/api/sessions/{code}/results.json", headers={"X-Facilitator-Secret": secret}).json
    assert [w["deal"] for w in results["teams"][0]["weeks"]] == [True] * 9 + [False] * 3
    # the first week as the engine plays it with the deal
    scn = apply_comaker(with_length(load_scenario("co-makership"), 12, (12, 12)), True)
    first = simulate(scn, 3, orders={"plant": [20] * 12}).weeks[0]["roles"]["shop"]
    assert results["teams"][0]["weeks"][0]["roles"]["shop"]["accepted"] == first["accepted"]


def test_a_scenario_without_a_deal_refuses_it(make_app) -> None:
    from web.app import socketio_of

    app = make_app()
    r = app.test_client().post("/api/sessions", json={"scenario": "classic", "teams": 1, "seed": 1})
    player = socketio_of(app).test_client(app)
    assert player.emit("join", {"code": r.json["code"], "name": "Bo", "role": "retailer"}, callback=True)["ok"]
    states = [e["args"][0] for e in player.get_received() if e["name"] == "state"]
    assert states[-1]["team"]["deal"] is None
    ack = player.emit("choose_deal", {"deal": True}, callback=True)
    assert ack["error"]["code"] == "bad_request" and "no co-makership deal" in ack["error"]["message"]
