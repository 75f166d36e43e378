"""Capacity on make-to-stock stages, variants, regions, instant orders, quotes and patience:
hand-computed weeks, and the engine's conservation per stock point."""

from __future__ import annotations

import copy
import random
from typing import Any

import pytest
from support import shop_stage

from game.codp import apply_codp
from game.engine import step
from game.horizon import end_of_game
from game.network import MIX_PRIOR_WEEKS, learn_mix, split_order
from game.scenario import load_scenario, scenario_from_dict
from game.simulate import simulate
from game.start import new_game
from game.state import GameState

SHOP: dict[str, Any] = {
    "name": "t",
    "weeks": 6,
    "unit_cost": 1.0,
    "demand": {"kind": "constant", "base": 4},
    "segments": [{"name": "all", "share": 1.0, "price": 5.0}],
    "stages": [shop_stage(capacity_cost=0.25)],
}


def scenario(**changes: Any):
    data = copy.deepcopy(SHOP)
    stage = changes.pop("stage", {})
    data["stages"][0].update(stage)
    data.update(changes)
    return scenario_from_dict(data, "test")


def test_capacity_binds_a_make_to_stock_stage_and_is_paid_every_week() -> None:
    scn = scenario(stage={"mts_capacity": 3})
    weeks = simulate(scn, orders={"shop": [5] * scn.weeks}).weeks
    # ordered in week 1, read by the outside source in week 2, arriving from week 3 on: 5 a week,
    # of which 3 become stock and 2 wait in the work queue
    assert weeks[1]["roles"]["shop"]["received"] == 0
    for k, w in enumerate(weeks[2:], start=3):
        ev = w["roles"]["shop"]
        assert ev["received"] == 5 and ev["processed"] == 3
        assert ev["wip"] == 2 * (k - 2)
        assert ev["shipped"] == 3  # 4 wanted, 3 made
    assert all(w["roles"]["shop"]["capacity_cost"] == 0.25 * 3 for w in weeks)
    unlimited = simulate(scenario(), orders={"shop": [5] * 6}).weeks
    assert all(w["roles"]["shop"]["capacity_cost"] == 0 for w in unlimited)  # the classic: no limit, no bill
    assert unlimited[2]["roles"]["shop"]["shipped"] == 5  # all 5 arrived, for the 12 owed


def test_a_make_to_order_stage_orders_in_the_week_the_order_arrives() -> None:
    scn = scenario(stage={"mode": "mto", "capacity": 4})
    weeks = simulate(scn, orders={"shop": [4] * scn.weeks}).weeks
    # week 1: 4 customers, nothing in stock: the shop orders 4 at once; they arrive in week 2
    assert weeks[0]["roles"]["shop"]["order"] == 4
    assert weeks[1]["roles"]["shop"]["received"] == 4 and weeks[1]["roles"]["shop"]["shipped"] == 4
    mail = simulate(scenario(stage={"mode": "mto", "capacity": 4}, mto_orders="mail"), orders={"shop": [4] * 6}).weeks
    assert mail[1]["roles"]["shop"]["received"] == 0  # by mail the order takes a week more
    assert mail[2]["roles"]["shop"]["received"] == 4


def test_quoted_and_delivered_lead_times_agree_on_a_steady_make_to_order_shop() -> None:
    scn = scenario(
        stage={"mode": "mto", "capacity": 4},
        segments=[{"name": "all", "share": 1.0, "price": 5.0, "tolerance": 3}],
    )
    weeks = simulate(scn, orders={"shop": [4] * scn.weeks}).weeks
    for w in weeks:
        ev = w["roles"]["shop"]
        assert ev["quoted_lead_time"] == 1  # goods arrive next week, capacity suffices
    sold = [w["roles"]["shop"] for w in weeks if w["roles"]["shop"]["sold"]]
    assert all(ev["lead_time_sum"] == ev["sold"] * 1 for ev in sold)


def test_patience_is_a_distribution_and_the_share_lost_rises_with_the_quote() -> None:
    # half wait at most 0 weeks, a quarter at most 1, the rest as long as it takes
    seg = {"name": "all", "share": 1.0, "price": 5.0, "goodwill": 1.0, "patience": [[0, 0.5], [1, 0.25]]}
    scn = scenario(stage={"mode": "mto", "capacity": 8}, segments=[seg], demand={"kind": "constant", "base": 8})
    first = simulate(scn, orders={"shop": [8] * scn.weeks}).weeks[0]["roles"]["shop"]
    assert first["quoted_lead_time"] == 1 and first["lost"] == 4 and first["accepted"] == 4
    slow = scenario(stage={"mode": "mto", "capacity": 8, "ship_delay": 2, "shipments": [0, 0]}, segments=[seg])
    ev = simulate(slow, orders={"shop": [8] * slow.weeks}).weeks[0]["roles"]["shop"]
    assert ev["quoted_lead_time"] == 2 and ev["lost"] == 3 and ev["accepted"] == 1  # 4 x 0.75 lost
    assert scn.segments[0].willing(0) == 1.0 and scn.segments[0].willing(1.0) == 0.5
    assert scn.segments[0].willing(2) == 0.25


def test_split_order_fills_the_shortest_stock_point_first() -> None:
    assert split_order(10, [5, 0, 0], [0.5, 0.3, 0.2]) == [3, 4, 3]  # level 15: 7.5-5, 4.5, 3 -> whole units
    assert split_order(7, [10, -5, 3], [0.5, 0.3, 0.2]) == [0, 7, 0]  # the short one takes it all
    assert split_order(4, [0, 0], [0.5, 0.5]) == [2, 2]
    assert split_order(0, [3, 1], [0.5, 0.5]) == [0, 0]
    for _ in range(200):
        rng = random.Random(_)
        k = rng.randint(2, 5)
        shares = [rng.random() + 0.01 for _ in range(k)]
        total = sum(shares)
        shares = [s / total for s in shares]
        positions = [rng.randint(-20, 40) for _ in range(k)]
        order = rng.randint(0, 60)
        parts = split_order(order, positions, shares)
        assert sum(parts) == order and min(parts) >= 0


VARIANTS: dict[str, Any] = {
    "name": "v",
    "weeks": 4,
    "unit_cost": 1.0,
    "demand": {"kind": "constant", "base": 10},
    "product": {
        "variants": [{"name": "red", "share": 0.5}, {"name": "blue", "share": 0.5}],
        "differentiation_stage": "maker",
    },
    "segments": [{"name": "now", "share": 1.0, "price": 5.0, "tolerance": 0}],
    "stages": [
        {"role": "maker", "order_delay": 1, "ship_delay": 1, "on_hand": 0, "orders": [0], "shipments": [0]},
        {
            "role": "shop",
            "supplier": "maker",
            "order_delay": 1,
            "ship_delay": 1,
            "on_hand": 10,
            "orders": [0],
            "shipments": [0],
            "market_share": 1.0,
        },
    ],
}


def test_a_variant_short_is_not_covered_by_another_variants_surplus() -> None:
    scn = scenario_from_dict(copy.deepcopy(VARIANTS), "variants")
    state = new_game(scn, 0)
    nodes = {nd.label: i for i, nd in enumerate(scn.network.nodes)}
    assert set(nodes) == {"maker", "maker/red", "maker/blue", "shop/red", "shop/blue"}
    # week 1: 5 red and 5 blue customers, 5 of each in stock (10 split by the mix): all sold
    ev = state.events[scn.index("shop")]
    assert ev["sold"] == 10 and ev["lost"] == 0
    # move all the shop's stock to red: blue customers walk away beside red's surplus
    red, blue = state.nodes[nodes["shop/red"]], state.nodes[nodes["shop/blue"]]
    red.on_hand, blue.on_hand = 10, 0
    new, _ = step(scn, state, {"maker": 0, "shop": 0})
    shop = new.events[scn.index("shop")]
    assert shop["skus"]["shop/red"][:1] == [5] and shop["skus"]["shop/blue"][:1] == [0]
    assert shop["lost"] == 5 and shop["sold"] == 5
    assert new.stages[scn.index("shop")].on_hand == 5  # the role's total


def test_the_shop_order_is_shared_out_by_the_split_rule() -> None:
    scn = scenario_from_dict(copy.deepcopy(VARIANTS), "variants")
    state = new_game(scn, 0)
    nodes = {nd.label: i for i, nd in enumerate(scn.network.nodes)}
    state.nodes[nodes["shop/red"]].on_hand = 6
    state.nodes[nodes["shop/blue"]].on_hand = 0
    new, events = step(scn, state, {"maker": 0, "shop": 8})
    assert events[scn.index("shop")]["order"] == 8
    # inventory positions 6 and 0: the level L with (L/2 - 6) + L/2 = 8 is 14, so red gets 1 and
    # blue 7; the final step of each variant reads its shop's order next week
    got = {v: new.node_events[nodes[f"maker/{v}"]]["incoming_order"] for v in ("red", "blue")}
    assert got == {"red": 1, "blue": 7}


def test_the_mix_is_learnt_from_the_demand_observed_so_far() -> None:
    mix = [1.0, 0.5, 0.5, 0.7, 0.3]
    # week 2, prior 8 weeks: the first group saw 3 and 1 (shares 0.75, 0.25), the second nothing
    learn_mix(mix, [[1, 2], [3, 4]], [9, 3, 1, 0, 0], 2)
    assert mix == pytest.approx([1.0, 0.5 + 0.25 / (MIX_PRIOR_WEEKS + 2), 0.5 - 0.25 / (MIX_PRIOR_WEEKS + 2), 0.7, 0.3])
    assert MIX_PRIOR_WEEKS == 8 and mix[1] == pytest.approx(0.525)


def test_the_shop_order_is_split_by_the_learnt_mix() -> None:
    scn = scenario_from_dict(copy.deepcopy(VARIANTS), "variants")
    state = new_game(scn, 0)
    nodes = {nd.label: i for i, nd in enumerate(scn.network.nodes)}
    red, blue = nodes["shop/red"], nodes["shop/blue"]
    assert state.mix[red] == state.mix[blue] == pytest.approx(0.5)  # 5 and 5 came in week 1
    state.nodes[red].on_hand = state.nodes[blue].on_hand = 0
    state.mix[red], state.mix[blue] = 0.8, 0.2
    again = GameState.from_dict(state.to_dict())
    assert again.mix == state.mix
    new, _ = step(scn, again, {"maker": 0, "shop": 10})
    got = {v: new.node_events[nodes[f"maker/{v}"]]["incoming_order"] for v in ("red", "blue")}
    assert got == {"red": 8, "blue": 2}  # positions 0 and 0: the order follows the mix


def test_a_mix_drawn_for_the_game_is_learnt() -> None:
    """product-leadership draws the colour mix per seed: after the game, the learnt shares of
    the shop's colours are nearer the mix drawn than the expected one is."""
    scn = apply_codp(load_scenario("product-leadership"), "mts-local")
    net = scn.network
    shop = net.decide[scn.index("retailer")]
    for seed in range(5):
        result = simulate(scn, seed, "base_stock")
        seen = [sum(row[net.channel[i]][k] for row in result.state.demand for k in range(len(row[0]))) for i in shop]
        drawn = [x / sum(seen) for x in seen]
        learnt = [result.state.mix[i] for i in shop]
        expected = [net.nodes[i].share for i in shop]
        assert (
            sum(map(abs, (a - b for a, b in zip(learnt, drawn, strict=True))))
            < sum(map(abs, (a - b for a, b in zip(expected, drawn, strict=True)))) / 2
        )


REGIONS: dict[str, Any] = {
    "name": "r",
    "weeks": 3,
    "unit_cost": 1.0,
    "codp": "mts-central",
    "demand": {"kind": "constant", "base": 8},
    "regions": [{"name": "north", "share": 0.5}, {"name": "south", "share": 0.5}],
    "segments": [{"name": "all", "share": 1.0, "price": 5.0}],
    "stages": [
        {"role": "central", "order_delay": 1, "ship_delay": 1, "on_hand": 6, "orders": [0], "shipments": [0]},
        {
            "role": "shop",
            "supplier": "central",
            "order_delay": 1,
            "ship_delay": 1,
            "on_hand": 0,
            "orders": [0],
            "shipments": [0],
            "capacity": 10,
            "market_share": 1.0,
        },
    ],
}


def test_central_stock_serves_two_regions() -> None:
    scn = scenario_from_dict(copy.deepcopy(REGIONS), "regions")
    assert [nd.label for nd in scn.network.nodes] == ["central", "shop/north", "shop/south"]
    state = new_game(scn, 0)
    ev = state.events
    # 4 customers in each region wait for the shop, which orders 4 + 4 at once from the central stock
    assert ev[scn.index("shop")]["order"] == 8 and ev[scn.index("shop")]["accepted"] == 8
    # the central stock has 6 for 8 owed: rationed 3 and 3 over the regions, 2 owed
    assert ev[scn.index("central")]["shipped"] == 6 and ev[scn.index("central")]["backlog"] == 2
    assert state.nodes[1].ship_q == [3] and state.nodes[2].ship_q == [3]
    assert state.stages[scn.index("central")].owed == [2]


def _in_chain(state: GameState) -> int:
    """Stock, work in process and goods in transit at every stock point."""
    assert state.nodes is not None
    return sum(s.on_hand + s.wip + sum(s.ship_q) for s in state.nodes)


@pytest.mark.parametrize("name", ["decoupling-point", "product-leadership"])
@pytest.mark.parametrize("position", ["mts-local", "mts-central", "ato", "mto", "eto"])
def test_goods_are_conserved_per_stock_point_and_replays_are_identical(name: str, position: str) -> None:
    scn = apply_codp(load_scenario(name), position)
    net = scn.network
    rng = random.Random(7)
    plan = [{r: rng.randint(0, 60) for r in scn.roles} for _ in range(end_of_game(scn, 3))]
    sources = [i for i in range(net.n) if net.supplier[i] < 0]
    source_roles = [scn.index(scn.stages[net.role_of[i]].role) for i in sources]
    initial = sum(sp.on_hand + sum(sp.shipments) for sp in net.specs) + sum(sum(net.specs[i].orders) for i in sources)
    state = new_game(scn, 3)
    bought = sold = 0  # in finished weeks
    for decisions in plan:
        rushed = sum(state.node_events[i]["order"] or 0 for i in sources) if state.node_events else 0
        owed_outside = sum(sum(state.nodes[i].order_q) for i in sources)
        now_sold = sum(ev.get("sold", 0) for ev in state.node_events)
        assert _in_chain(state) + sold + now_sold == initial + bought + rushed - owed_outside
        for s in state.nodes:
            assert s.on_hand >= 0 and s.wip >= 0 and min(s.owed) >= 0
            assert min(s.ship_q, default=0) >= 0 and min(s.order_q, default=0) >= 0
        state, events = step(scn, state, decisions)
        bought += sum(events[r]["order"] for r in source_roles)
        sold += sum(ev.get("sold", 0) for ev in events)
    # a replay from the same seed and decisions is the same game, to the byte
    again = new_game(scn, 3)
    for decisions in plan:
        again, _ = step(scn, again, decisions)
    assert again.to_dict() == state.to_dict()
    assert GameState.from_dict(state.to_dict()).to_dict() == state.to_dict()


def test_just_in_time_deliveries_arrive_a_week_late_as_drawn() -> None:
    scn = scenario(jit={"late_share": 0.5}, weeks=12, stage={"on_hand": 20})
    state = new_game(scn, 5)
    assert len(state.late) == scn.weeks and any(state.late) and not all(state.late)
    assert state.late == new_game(scn, 5).late  # drawn from the seed
    weeks = simulate(scn, 5, orders={"shop": [1 + w for w in range(scn.weeks)]}).weeks
    received = [w["roles"]["shop"]["received"] for w in weeks]
    # the order of week w (w units) is read in week w + 1 and shipped: it arrives in week
    # w + 2, or in week w + 3 when the delivery of week w + 1 was drawn late
    expect = [0] * scn.weeks
    for w in range(1, scn.weeks + 1):
        ship_week = w + 1
        if ship_week > scn.weeks:
            break
        arrive = ship_week + 1 + (0 in state.late[ship_week - 1])
        if arrive <= scn.weeks:
            expect[arrive - 1] += w
    assert received == expect
    plain = simulate(scenario(weeks=12, stage={"on_hand": 20}), 5, orders={"shop": [1 + w for w in range(12)]}).weeks
    assert [w["roles"]["shop"]["received"] for w in plain] == [0, 0, *range(1, 11)]


def test_just_in_time_keeps_goods_and_replays() -> None:
    base = load_scenario("classic-random")
    from dataclasses import replace

    from game.scenario import Jit

    scn = replace(base, jit=Jit(0.3))
    rng = random.Random(1)
    plan = [{r: rng.randint(0, 12) for r in scn.roles} for _ in range(scn.weeks)]
    a = new_game(scn, 2)
    b = new_game(scn, 2)
    for d in plan:
        a, _ = step(scn, a, d)
        b, _ = step(scn, b, d)
        for s in a.stages:
            assert min(s.ship_q) >= 0 and s.on_hand >= 0
    assert a.to_dict() == b.to_dict() and GameState.from_dict(a.to_dict()).to_dict() == a.to_dict()
