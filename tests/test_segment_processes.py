"""A decoupling point per segment (``game.codp.apply_processes``): a segment served by its
own process buys from a node that works to order from its decoupling stage's stock.
Hand-computed weeks of a tiny chain, the scenario keys' checks, and replay."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from game.analysis.bestplan import benchmark, play_plan
from game.codp import apply_choice, apply_codp, apply_processes, processes
from game.engine import inventory_position, run, step
from game.observe import observe
from game.review import CodpError, switch_codp, switch_processes
from game.scenario import ScenarioError, load_scenario, scenario_from_toml
from game.start import new_game
from game.state import GameState
from game.visibility import pos_demand

TINY = """
name = "tiny-processes"
weeks = 4
unit_cost = 2.0
max_processes = 2
process_cost = 1.5
codp_positions = ["mts-local", "mts-central", "ato"]
[demand]
kind = "constant"
base = 10
mean = 10
[[segments]]
name = "now"
share = 0.5
tolerance = 0
price = 10.0
[[segments]]
name = "patient"
share = 0.5
tolerance = "inf"
price = 10.0
[[stages]]
role = "supplier"
order_delay = 1
ship_delay = 1
on_hand = 20
orders = [0]
shipments = [0]
holding_cost = 0.5
backlog_cost = 0.0
[[stages]]
role = "retailer"
supplier = "supplier"
order_delay = 1
ship_delay = 1
on_hand = 10
orders = [0]
shipments = [0]
holding_cost = 1.0
backlog_cost = 0.0
market_share = 1.0
"""


def _two():
    scn = scenario_from_toml(TINY, "tiny.toml")
    return apply_processes(scn, {"now": "mts-local", "patient": "mts-central"})


def test_two_processes_first_weeks_by_hand() -> None:
    scn = _two()
    assert processes(scn) == {"now": "mts-local", "patient": "mts-central"}
    state = new_game(scn)
    ret, sup = state.events[1], state.events[0]
    # week 1: the impatient half buys from the retailer's stock (5 of 10 units)
    assert ret["skus"]["retailer"] == [5, 0, 0, 5, 0]
    # the patient half orders through its own process: quoted 1 week (the retailer's ship
    # delay), nothing shipped yet, 5 ordered at once from the supplier's stock
    assert ret["skus"]["retailer/mts-central"] == [0, 5, 0, 5, 0]
    assert ret["revenue"] == 50.0  # 5 units at 10
    # retailer: holding 1.0 x 5 + material 2 x 5; its process: process_cost 1.5
    assert ret["cost"] == 5.0 + 10.0 + 1.5
    assert ret["capacity_cost"] == 1.5
    # the role's own flows leave the process out; its market figures count every customer
    assert (ret["incoming_order"], ret["backlog"], ret["demand"], ret["accepted"]) == (5, 0, 10, 10)
    # the supplier ships the process's 5 out of its 20, holding 15 x 0.5
    assert (sup["incoming_order"], sup["shipped"], sup["inventory"], sup["cost"]) == (5, 5, 15, 7.5)
    obs = observe(scn, state, "retailer")
    assert obs["demand"] == 5 and obs["backlog"] == 0 and obs["on_hand"] == 5
    assert inventory_position(scn, state, 1) == 5  # the process's waiting customers are not the retailer's

    state, _ = step(scn, state, {"supplier": 10, "retailer": 5})
    ret, sup = state.events[1], state.events[0]
    # week 2: the process receives week 1's 5 and delivers them (lead time 1), takes 5 new orders
    assert ret["skus"]["retailer/mts-central"] == [0, 5, 0, 5, 0]
    assert ret["skus"]["retailer"] == [0, 0, 0, 5, 0]
    assert ret["sold"] == 10 and ret["revenue"] == 100.0 and ret["lead_time_sum"] == 5
    # material 2 x 10, holding 0, process 1.5
    assert ret["cost"] == 20.0 + 1.5
    # the supplier ships the retailer's 5 and the process's 5 from 15
    assert (sup["incoming_order"], sup["shipped"], sup["inventory"], sup["cost"]) == (10, 10, 5, 2.5)


def test_one_process_is_the_old_game() -> None:
    scn = scenario_from_toml(TINY, "tiny.toml")
    one = apply_processes(scn, {"now": "mts-local", "patient": "mts-local"})
    assert one.lanes == () and one.network.identity
    a = new_game(one)
    b = new_game(apply_codp(scn, "mts-local"))
    assert a.to_dict() == b.to_dict()


def test_process_cost_is_paid_every_week() -> None:
    scn = _two()
    _, weeks = run(scn, new_game(scn), lambda s: {"supplier": 10, "retailer": 5})
    assert [w[1]["capacity_cost"] for w in weeks] == [1.5] * scn.weeks


def test_replay_and_json_round_trip() -> None:
    scn = _two()
    decide = lambda s: {"supplier": 10, "retailer": 5}  # noqa: E731
    state = new_game(scn)
    state, _ = step(scn, state, decide(state))
    again = GameState.from_dict(json.loads(json.dumps(state.to_dict())))
    assert again.to_dict() == state.to_dict()
    a, wa = run(scn, state, decide)
    b, wb = run(scn, again, decide)
    assert wa == wb and a.to_dict() == b.to_dict()


def test_demand_is_the_same_draw_whatever_the_processes() -> None:
    text = TINY.replace('kind = "constant"', 'kind = "poisson"')
    scn = scenario_from_toml(text, "tiny.toml")
    one = new_game(apply_codp(scn, "mts-local"), seed=3)
    two = new_game(apply_processes(scn, {"now": "mts-local", "patient": "mts-central"}), seed=3)
    assert one.demand == two.demand


@pytest.mark.parametrize(
    ("choice", "message"),
    [
        ({"nobody": "ato"}, "unknown segment 'nobody'"),
        ({"now": "eto"}, "position 'eto' is not offered"),
        ({}, "at least one segment"),
    ],
)
def test_apply_processes_refuses(choice: dict[str, str], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        apply_processes(scenario_from_toml(TINY, "tiny.toml"), choice)


def test_more_processes_than_allowed() -> None:
    scn = scenario_from_toml(TINY.replace("max_processes = 2", "max_processes = 1"), "tiny.toml")
    with pytest.raises(ValueError, match="max_processes"):
        apply_processes(scn, {"now": "mts-local", "patient": "ato"})


def test_a_process_needs_stock_to_decouple_from() -> None:
    scn = scenario_from_toml(TINY, "tiny.toml")  # two stages: assemble to order holds no stock
    with pytest.raises(ValueError, match="holds none"):
        apply_processes(scn, {"now": "mts-local", "patient": "ato"})


@pytest.mark.parametrize(
    ("old", "new", "key"),
    [
        ("max_processes = 2", "max_processes = 3", "max_processes"),
        ("max_processes = 2", "max_processes = 0", "max_processes"),
        ("process_cost = 1.5", "process_cost = -1.0", "process_cost"),
        ("process_cost = 1.5", 'process_cost = "x"', "process_cost"),
    ],
)
def test_keys_are_checked(old: str, new: str, key: str) -> None:
    with pytest.raises(ScenarioError, match=key):
        scenario_from_toml(TINY.replace(old, new), "tiny.toml")


def _goods(scn, state: GameState) -> int:
    """Units in the chain: on hand, in process and on the way, at every stock point."""
    points = state.stages if state.nodes is None else state.nodes
    return sum(p.on_hand + p.wip + sum(p.ship_q) for p in points)


def test_a_process_opens_at_a_review_and_works_from_the_next_week() -> None:
    one = apply_codp(scenario_from_toml(TINY, "tiny.toml"), "mts-local")
    decide = {"supplier": 10, "retailer": 10}
    state, _ = step(one, new_game(one), decide)  # week 2's decision point
    before = state.to_dict()
    two, opened = switch_processes(one, state, {"now": "mts-local", "patient": "mts-central"}, any_week=True)
    assert state.to_dict() == before  # the input is not modified
    assert two.lanes == (("mts-central", (1,)),)
    assert _goods(two, opened) == _goods(one, state)
    assert opened.nodes[2].owed == [0] and opened.nodes[0].owed == [state.stages[0].owed[0], 0]
    again = GameState.from_dict(json.loads(json.dumps(opened.to_dict())))
    assert again.to_dict() == opened.to_dict()
    opened, _ = step(two, opened, decide)
    ret = opened.events[1]
    # week 3: the patient 5 now order through the process, quoted its lead time of 1 week,
    # and the supplier receives their order in the same week
    assert ret["skus"]["retailer/mts-central"] == [0, 5, 0, 5, 0]
    assert ret["skus"]["retailer"][3] == 5
    assert opened.events[0]["incoming_order"] == 10 + 5
    assert ret["capacity_cost"] == 1.5


def test_a_process_that_closes_hands_its_customers_and_goods_to_the_shop() -> None:
    two = _two()
    decide = {"supplier": 10, "retailer": 5}
    state, _ = step(two, new_game(two), decide)
    lane = state.nodes[2]
    waiting = lane.owed[0]
    assert waiting == 5 and sum(lane.ship_q) == 5
    shop_owed = state.nodes[1].owed[0]
    one, closed = switch_processes(two, state, {"now": "mts-local", "patient": "mts-local"}, any_week=True)
    assert one.lanes == () and closed.nodes is None
    assert _goods(one, closed) == _goods(two, state)
    assert closed.stages[1].owed == [shop_owed + waiting]
    assert closed.stages[0].owed == [state.nodes[0].owed[0]]  # the process's order is cancelled
    assert sum(o[1] for o in closed.stages[1].open_orders) == sum(o[1] for o in state.nodes[1].open_orders) + waiting
    final, weeks = run(one, closed, lambda s: decide)  # and the game plays on to its end
    assert final.done and weeks[-1][1]["sold"] >= 0


def test_switching_to_the_same_processes_changes_nothing() -> None:
    two = _two()
    state, _ = step(two, new_game(two), {"supplier": 10, "retailer": 5})
    same, moved = switch_processes(two, state, processes(two), any_week=True)
    assert same.lanes == two.lanes and moved.to_dict() == state.to_dict()


def test_processes_move_only_at_a_review() -> None:
    two = _two()
    with pytest.raises(CodpError, match="not a strategy review"):
        switch_processes(two, new_game(two), {"now": "mts-local"})
    with pytest.raises(CodpError, match="unknown segment"):
        switch_processes(two, new_game(two), {"later": "mts-local"}, any_week=True)


def test_the_debriefs_best_plan_keeps_the_teams_processes() -> None:
    scn = _two()
    found = benchmark(scn, 0, positions=[], budget=4, chosen_budget=4)
    plan = {**found.chosen.levels, **found.chosen.capacities}
    assert found.chosen.profit == pytest.approx(play_plan(scn, 0, plan))
    assert found.chosen.profit != pytest.approx(play_plan(apply_codp(scn, "mts-local"), 0, plan))


def test_switch_codp_with_processes_goes_back_to_one() -> None:
    two = _two()
    state, _ = step(two, new_game(two), {"supplier": 10, "retailer": 5})
    one, moved = switch_codp(two, state, "mts-local", any_week=True)
    assert one.lanes == () and moved.nodes is None and moved.codp == "mts-local"


def test_the_debriefs_best_plan_for_a_process_option() -> None:
    """The debrief searches from the session's scenario with the team's choice as stored (an
    option's name): the plan is named as chosen and plays the team's processes."""
    scn = load_scenario("standard-processes")
    found = benchmark(scn, 1, chosen="per-need", positions=["mts-local"], budget=4, chosen_budget=4)
    assert found.chosen.position == "per-need"
    plan = {**found.chosen.levels, **found.chosen.capacities}
    assert found.chosen.profit == pytest.approx(play_plan(apply_choice(scn, "per-need"), 1, plan))


@pytest.mark.parametrize("preset", ["decoupling-point", "ecommerce"])
def test_processes_need_one_shop_without_regions_or_variants(preset: str) -> None:
    text = (Path(__file__).parent.parent / "config" / "scenarios" / f"{preset}.toml").read_text(encoding="utf-8")
    with pytest.raises(ScenarioError, match="max_processes: a process per segment needs one consumer-facing stage"):
        scenario_from_toml("max_processes = 2\n" + text, f"{preset}.toml")


def test_a_process_that_works_to_order_below_the_customising_stage_earns_the_premium() -> None:
    text = TINY.replace(
        'tolerance = "inf"\nprice = 10.0', 'tolerance = "inf"\nprice = 10.0\npremium = 5.0\ncustomised = true'
    )
    text = text.replace("max_processes = 2", 'max_processes = 2\ncustomisation_stage = "supplier"')
    scn = scenario_from_toml(text, "tiny.toml")
    two = apply_processes(scn, {"now": "mts-local", "patient": "mts-central"})
    state, _ = step(two, new_game(two), {"supplier": 10, "retailer": 5})
    # week 2: the process delivers week 1's 5 tailored units at 10 + 5, the shop 5 standard at 10
    assert state.events[1]["revenue"] == 5 * 15.0 + 5 * 10.0
    # one process from the shop's stock cannot tailor: the patient half pays the standard price
    one = apply_codp(scn, "mts-local")
    assert new_game(one).events[1]["revenue"] == 10 * 10.0


def test_a_forecasting_plan_sees_what_the_seat_sees() -> None:
    """The expert plans' forecast at the consumer-facing role reads its own stock point's
    customers, as the seat's observation does, not those of a segment's own process."""
    from game.analysis.plans import _signal_rows

    scn = _two()
    assert _signal_rows(scn)[1] == ([1], "demand")  # the retailer's stock point, not node 2 (the process)


def test_what_the_point_of_sale_accepted_stays_as_recorded_when_a_process_opens_or_closes() -> None:
    """The shared demand and sell-through of weeks played (``game.visibility.pos_demand``) are
    the same after a review that opens a process and after one that closes it; the weeks
    after count the process's customers too."""

    def sales(scn, state) -> list[tuple]:
        return [(p["demand"], p["by_channel"], p["accepted"], p["accepted_by_channel"]) for p in pos_demand(scn, state)]

    one = apply_codp(scenario_from_toml(TINY, "tiny.toml"), "mts-local")
    decide = {"supplier": 10, "retailer": 3}
    state, _ = step(one, new_game(one), decide)
    before = sales(one, state)
    two, opened = switch_processes(one, state, {"now": "mts-local", "patient": "mts-central"}, any_week=True)
    assert sales(two, opened) == before
    opened, _ = step(two, opened, decide)
    rows = sales(two, opened)
    assert rows[:-1] == before
    assert rows[-1][2] == opened.events[1]["accepted"] < rows[-1][0]
    back, closed = switch_processes(two, opened, {"now": "mts-local", "patient": "mts-local"}, any_week=True)
    assert sales(back, closed) == rows
