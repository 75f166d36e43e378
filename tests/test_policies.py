"""Bot policies: pass-through, base-stock and Sterman's anchoring and adjustment."""

from __future__ import annotations

import math
from statistics import NormalDist
from typing import Any

import pytest

from game.codp import apply_codp
from game.engine import step
from game.observe import initial_rate, observe
from game.policies import (
    POLICIES,
    SHARE_PRIOR,
    Policy,
    PolicyError,
    check_roles,
    combine,
    echelon,
    filtered,
    parse_policy,
    pos_share,
    pos_signal,
    served_channels,
)
from game.scenario import load_scenario
from game.simulate import simulate
from game.start import new_game


def obs(**changes) -> dict:
    """An observation as ``game.observe.observe`` returns it (only the keys policies read)."""
    base = {
        "role": "wholesaler",
        "week": 10,
        "weeks": 36,
        "mode": "mts",
        "decision": "order",
        "bounds": (0, 1000),
        "on_hand": 12,
        "backlog": 0,
        "wip": 0,
        "capacity": 0,
        "received": 4,
        "incoming_order": 4,
        "shipped": 4,
        "supply_line": 16,
        "lead_time": 4,
        "initial_rate": 4,
        "cost": 6.0,
    }
    base.update(changes)
    return base


# ---------------------------------------------------------------------------
# pass-through
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("incoming", [0, 3, 8, 17])
def test_passthrough_orders_what_was_ordered(incoming):
    decision, memory = parse_policy("passthrough").decide(obs(incoming_order=incoming, on_hand=50, backlog=9))
    assert decision == incoming
    assert memory["forecast"] == incoming


def test_passthrough_keeps_within_bounds():
    decision, _ = parse_policy("passthrough").decide(obs(incoming_order=40, bounds=(0, 25)))
    assert decision == 25


def test_passthrough_chain_orders_equal_incoming_orders():
    result = simulate(load_scenario("classic-random"), seed=3, policy="passthrough")
    for w in result.weeks:
        for ev in w["roles"].values():
            assert ev["order"] == ev["incoming_order"]
    demand = [w["roles"]["retailer"]["demand"] for w in result.weeks]
    assert [w["roles"]["retailer"]["order"] for w in result.weeks] == demand


def test_fixed_weeks_order_the_initial_rate_then_follow_the_rule():
    pol = parse_policy("passthrough:fixed_weeks=4")
    assert pol.decide(obs(week=4, incoming_order=11))[0] == 4
    assert pol.decide(obs(week=5, incoming_order=11))[0] == 11
    assert parse_policy("passthrough:fixed_weeks=4,fixed_order=7").decide(obs(week=1, incoming_order=11))[0] == 7


# ---------------------------------------------------------------------------
# base-stock
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("on_hand", "backlog", "supply_line", "expected"),
    [(12, 0, 16, 2), (0, 6, 16, 20), (40, 0, 16, 0), (5, 0, 0, 25)],
)
def test_base_stock_orders_up_to_its_level(on_hand, backlog, supply_line, expected):
    # position = on hand - backlog + supply line; order = level - position, never below 0
    decision, _ = parse_policy("base_stock:level=30").decide(
        obs(on_hand=on_hand, backlog=backlog, supply_line=supply_line)
    )
    assert decision == expected


def test_base_stock_default_level_covers_lead_time_plus_review_plus_safety():
    # theta=1: forecast = incoming 6; level = 6 x (4 + 1 + 2) = 42; position = 10 - 0 + 20 = 30
    pol = parse_policy("base_stock:theta=1,safety_weeks=2")
    decision, _ = pol.decide(obs(incoming_order=6, on_hand=10, supply_line=20))
    assert decision == 12


def test_base_stock_keeps_the_inventory_position_at_its_level_in_a_game():
    scn = load_scenario("classic")
    pol = parse_policy("base_stock:level=40")
    state = new_game(scn, seed=0)
    memory: dict[str, dict] = {r: {} for r in scn.roles}
    for _ in range(20):
        decisions = {}
        for role in scn.roles:
            o = observe(scn, state, role)
            decisions[role], memory[role] = pol.decide(o, memory[role])
            position = o["on_hand"] - o["backlog"] + o["supply_line"]
            assert decisions[role] == max(0, 40 - position)
        state, _ = step(scn, state, decisions)


# ---------------------------------------------------------------------------
# Sterman's anchoring and adjustment
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "o", "expected"),
    [
        # O = L + alpha (S' - S - beta SL), S = on hand - backlog
        ("theta=0,alpha=1,beta=1,target=28", {}, 4),  # 4 + (28 - 12 - 16)
        ("theta=0,alpha=1,beta=0.5,target=28", {}, 12),  # 4 + (28 - 12 - 8)
        ("theta=0,alpha=0.5,beta=0,target=20", {"on_hand": 0, "backlog": 10}, 19),  # 4 + 0.5 x 30
        ("theta=1,alpha=1,beta=1,target=28", {"incoming_order": 8}, 8),  # forecast = incoming
        ("theta=0,alpha=1,beta=1,target=0", {}, 0),  # negative orders become 0
        ("theta=0,alpha=0.25,beta=0,target=14", {}, 5),  # 4 + 0.5 = 4.5 rounds half up
    ],
)
def test_sterman_rule(params, o, expected):
    decision, _ = parse_policy(f"sterman:{params}").decide(obs(**o))
    assert decision == expected


def test_sterman_forecast_is_exponential_smoothing_from_the_initial_rate():
    pol = parse_policy("sterman:theta=0.25,alpha=0")
    _, mem = pol.decide(obs(incoming_order=8), {})
    assert mem["forecast"] == pytest.approx(0.25 * 8 + 0.75 * 4)
    decision, mem2 = pol.decide(obs(incoming_order=8), mem)
    assert mem2["forecast"] == pytest.approx(0.25 * 8 + 0.75 * 5)
    assert decision == 6  # 5.75 rounds to 6
    assert mem == {"forecast": 5.0}  # the caller's memory is not changed


def test_sterman_target_per_role():
    pol = parse_policy("sterman:theta=0,alpha=1,beta=1,target=28,target_factory=20")
    assert pol.decide(obs(role="factory"))[0] == 0  # 4 + 20 - 12 - 16 = -4 -> 0
    assert pol.decide(obs(role="retailer"))[0] == 4


def test_sterman_defaults_are_sterman_estimates():
    pol = parse_policy("sterman")
    _, mem = pol.decide(obs(incoming_order=8))
    assert mem["forecast"] == pytest.approx(0.36 * 8 + 0.64 * 4)
    decision, _ = pol.decide(obs(incoming_order=4, on_hand=17, supply_line=0))
    assert decision == 4  # on target, empty supply line weighs nothing


def test_sterman_without_adjustment_and_fixed_anchor_orders_four_all_game():
    result = simulate(load_scenario("classic"), policy="sterman:theta=0,alpha=0")
    assert {ev["order"] for w in result.weeks for ev in w["roles"].values()} == {4}


# ---------------------------------------------------------------------------
# make-to-order stages: the decision is a capacity
# ---------------------------------------------------------------------------


def test_capacity_decision_fixed_or_from_forecast_and_waiting_work():
    o = obs(decision="capacity", mode="mto", incoming_order=10, backlog=12, on_hand=4)
    assert parse_policy("sterman:capacity=7").decide(o)[0] == 7
    # forecast 10 x 1.1 + (12 - 4) / 4 = 13
    assert parse_policy("passthrough").decide(o)[0] == 13
    assert parse_policy("passthrough:cap_slack=1,cap_weeks=2").decide(o)[0] == 14


def test_capacity_follows_every_consumer_who_came_not_only_those_who_stayed():
    # A consumer-facing make-to-order stage that lost all 10 customers (none accepted)
    # must add capacity, not cut it: the workload counts the lost customers too.
    o = obs(decision="capacity", mode="mto", incoming_order=0, demand=10, lost=10, backlog=0, on_hand=0)
    assert parse_policy("passthrough").decide(o)[0] == 11  # 10 x 1.1
    without = dict(o)
    del without["demand"]
    assert parse_policy("passthrough").decide(without)[0] == 2  # the floor: 0.5 x initial rate 4


def test_capacity_never_spirals_to_zero_in_a_make_to_order_game():
    scn = apply_codp(load_scenario("customer-intimacy"), "eto")
    result = simulate(scn, seed=1, policy="sterman")
    for week in result.weeks[1:]:
        for i, role in enumerate(scn.roles):
            ev = week["roles"][role]
            assert ev["mode"] == "mto"
            assert ev["capacity"] >= math.ceil(0.5 * initial_rate(scn, i)) > 0


# ---------------------------------------------------------------------------
# parsing
# ---------------------------------------------------------------------------


def test_parse_names_and_params():
    pol = parse_policy(" base-stock : level=30, safety_weeks=2 ")
    assert pol == Policy("base_stock", {"level": 30.0, "safety_weeks": 2.0})
    assert set(POLICIES) == {"passthrough", "base_stock", "sterman", "moving_average"}


@pytest.mark.parametrize(
    "spec", ["passthrough", "sterman:theta=0,alpha=1,beta=1,target=28,target_factory=20", "base_stock:level=12.5"]
)
def test_spec_round_trips(spec):
    pol = parse_policy(spec)
    assert parse_policy(pol.spec) == pol


@pytest.mark.parametrize(
    ("spec", "problem"),
    [
        ("foo", "unknown policy 'foo'"),
        ("", "unknown policy"),
        ("sterman:gamma=1", "bad policy parameter 'gamma=1'"),
        ("sterman:alpha", "bad policy parameter 'alpha'"),
        ("sterman:alpha=x", "alpha must be a number, got 'x'"),
        ("sterman:alpha=nan", "alpha must be between"),
        ("sterman:theta=2", "theta must be between 0 and 1, got 2"),
        ("sterman:alpha=-1", "alpha must be between"),
        ("base_stock:level=1e9", "level must be between"),
        ("sterman:target_retailer=abc", "target_retailer must be a number"),
    ],
)
def test_parse_errors_name_the_problem(spec, problem):
    with pytest.raises(PolicyError, match=problem.replace("(", r"\(")):
        parse_policy(spec)


def test_decisions_are_whole_numbers_within_bounds():
    for spec in POLICIES:
        for incoming in (0, 5, 300):
            decision, _ = parse_policy(spec).decide(obs(incoming_order=incoming, bounds=(0, 100), on_hand=0))
            assert isinstance(decision, int) and 0 <= decision <= 100


# ---------------------------------------------------------------------------
# the newsvendor base-stock level (issue: a level from the cost ratio)
# ---------------------------------------------------------------------------


def test_base_stock_level_is_the_newsvendor_over_lead_time_plus_review():
    # window 2 of signals 4 and 8: mean 6, sd 2; cover = lead time 4 + 1 = 5
    # fractile b / (b + h) = 1 / 1.5; S = 6 x 5 + z(2/3) x 2 x sqrt(5)
    rates = {"holding": 0.5, "backlog": 1.0}
    pol = parse_policy("base_stock:window=2")
    _, mem = pol.decide(obs(incoming_order=4, rates=rates))
    decision, mem = pol.decide(obs(incoming_order=8, rates=rates, on_hand=10, supply_line=20), mem)
    level = 30 + NormalDist().inv_cdf(2 / 3) * 2 * math.sqrt(5)
    assert decision == math.floor(level - 30 + 0.5)
    assert mem["seen"] == [4.0, 8.0]


def test_base_stock_holds_more_when_backlog_is_dear_and_less_when_stock_is():
    o = {"on_hand": 0, "supply_line": 0}
    cheap_stock = obs(**o, rates={"holding": 0.1, "backlog": 2.0})
    dear_stock = obs(**o, rates={"holding": 2.0, "backlog": 0.1})
    mem = {"seen": [2.0, 9.0, 1.0, 8.0, 3.0, 7.0, 4.0]}
    high, _ = parse_policy("base_stock:window=8").decide(cheap_stock, mem)
    low, _ = parse_policy("base_stock:window=8").decide(dear_stock, mem)
    mean_cover = round(sum([*mem["seen"], 4.0]) / 8 * 5)
    assert high > mean_cover > low


def test_lost_customers_raise_the_fractile_at_the_stock_point_they_depend_on():
    scn = apply_codp(load_scenario("decoupling-point"), "mts-central")
    state = new_game(scn, seed=0)
    wholesaler = observe(scn, state, "wholesaler")
    # the retailer works to order (its goods take 1 week): a shortage at the wholesaler makes
    # the wait 2 weeks, which 0.7 of the soon segment (share 0.78) will not accept:
    # 0.78 x 0.7 x (price 12 - unit cost 6 + goodwill 2)
    assert wholesaler["rates"]["lost_sale"] == pytest.approx(0.78 * 0.7 * 8)
    assert observe(scn, state, "manufacturer")["rates"]["lost_sale"] == 0  # the wholesaler's stock buffers it
    local = apply_codp(load_scenario("decoupling-point"), "mts-local")
    # at the shop only the now segment (share 0.02) walks when it is short: the soon ones wait a week
    assert observe(local, new_game(local, 0), "retailer")["rates"]["lost_sale"] == pytest.approx(0.02 * 8)
    seen = {"seen": [4.0, 16.0, 7.0, 13.0, 10.0, 10.0, 6.0]}
    short = {**wholesaler, "on_hand": 0, "backlog": 0, "supply_line": 0}  # nothing in hand: the level decides
    dear, _ = parse_policy("base_stock").decide(short, seen)
    assert dear > parse_policy("base_stock:fractile=0.5").decide(short, seen)[0]


def test_safety_weeks_keeps_the_older_cover_rule():
    pol = parse_policy("base_stock:theta=1,safety_weeks=1")
    assert pol.decide(obs(incoming_order=6, on_hand=10, supply_line=20))[0] == 6 * 6 - 30


# ---------------------------------------------------------------------------
# per-role parameters
# ---------------------------------------------------------------------------


def test_any_parameter_can_be_set_for_one_role():
    pol = parse_policy("base_stock:level=30,level_retailer=50,capacity_wholesaler=9")
    assert pol.for_role("retailer")["level"] == 50
    assert pol.for_role("factory") == {"level": 30}
    assert pol.for_role("wholesaler") == {"level": 30, "capacity": 9}
    assert pol.decide(obs(role="retailer", on_hand=0, supply_line=0))[0] == 50
    assert pol.decide(obs(role="factory", on_hand=0, supply_line=0))[0] == 30
    assert pol.decide(obs(role="wholesaler", decision="capacity", mode="mto"))[0] == 9
    assert parse_policy("sterman:cap_floor_retailer=2").for_role("retailer") == {"cap_floor": 2.0}


def test_a_plan_replays_from_per_role_levels():
    scn = load_scenario("classic-random")
    levels = {"retailer": 22, "wholesaler": 26, "distributor": 25, "factory": 21}
    spec = "base_stock:" + ",".join(f"level_{r}={v}" for r, v in levels.items())
    per_role = {r: Policy("base_stock", {"level": float(v)}) for r, v in levels.items()}
    assert simulate(scn, 4, spec).weeks == simulate(scn, 4, per_role).weeks


def test_unknown_roles_are_refused_where_the_scenario_is_known():
    pol = parse_policy("base_stock:level_shop=3")
    with pytest.raises(PolicyError, match="no role 'shop'"):
        check_roles(pol, load_scenario("classic").roles)
    assert check_roles(parse_policy("base_stock:level_factory=3"), load_scenario("classic").roles).roles() == {
        "factory"
    }
    with pytest.raises(PolicyError, match="bad policy parameter 'levels_retailer=3'"):
        parse_policy("base_stock:levels_retailer=3")


# ---------------------------------------------------------------------------
# what the bots do with what they are shown
# ---------------------------------------------------------------------------

CHAIN = [
    {"role": "factory", "supplier": None, "consumer_facing": False},
    {"role": "wholesaler", "supplier": "factory", "consumer_facing": False},
    {"role": "retailer", "supplier": "wholesaler", "consumer_facing": True},
]


def test_shared_point_of_sale_demand_replaces_the_incoming_order_as_forecast_signal():
    view = {"chain": CHAIN, "pos_demand": [{"week": 10, "demand": 9, "by_channel": {"retailer": 9}}]}
    pol = parse_policy("sterman:theta=1,alpha=0")
    assert pol.decide(obs(incoming_order=2))[0] == 2
    # the level from the consumers, scaled by the share of them that reached the stage so far
    share = (SHARE_PRIOR * 4 + 2) / (SHARE_PRIOR * 4 + 9)
    assert pol.decide(obs(incoming_order=2), None, view)[0] == round(9 * share)
    assert pol.decide(obs(incoming_order=2), {"asked": [10**6, 10**6]}, view)[0] == 9
    assert parse_policy("sterman:theta=1,alpha=0,shared=0").decide(obs(incoming_order=2), None, view)[0] == 2
    stale = {"chain": CHAIN, "pos_demand": [{"week": 9, "demand": 9, "by_channel": {"retailer": 9}}]}
    assert pol.decide(obs(incoming_order=2), None, stale)[0] == 2  # only this week's sale counts


def test_the_share_of_point_of_sale_demand_a_stage_sees_is_learned():
    """Half the consumers never reach the stage (they walk away or are served elsewhere):
    the share falls from 1 towards a half, and the scaled signal follows."""
    memory: dict = {}
    shares = [pos_share(obs(incoming_order=5), memory, 10.0) for _ in range(200)]
    assert shares[0] == pytest.approx((SHARE_PRIOR * 4 + 5) / (SHARE_PRIOR * 4 + 10))
    assert shares == sorted(shares, reverse=True)
    assert shares[-1] == pytest.approx(0.5, abs=0.01)
    assert memory["asked"] == [SHARE_PRIOR * 4 + 200 * 5, SHARE_PRIOR * 4 + 200 * 10]


def test_a_stage_above_a_make_to_order_stage_weighs_the_shared_forecast_by_its_record():
    """Bates & Granger (1969): the stage starts from its own orders and shifts towards the
    shared forecast as it predicts the orders the stage receives better than its own does."""
    chain = [{**c, "mode": "mto" if c["role"] == "retailer" else "mts"} for c in CHAIN]
    assert filtered(obs(role="factory"), {"chain": chain}) and not filtered(obs(role="factory"), {"chain": CHAIN})
    memory: dict = {}
    assert combine(obs(incoming_order=4), memory, 9.0, 0.5) == 4  # no record yet: its own orders
    # the orders jump to 9 and stay: the shared forecast of 9 keeps predicting them, its own lags
    anchors = [combine(obs(incoming_order=9), memory, 9.0, 0.5) for _ in range(6)]
    assert anchors == sorted(anchors) and anchors[0] > 4 and anchors[-1] == pytest.approx(9, abs=0.1)
    # the orders fall to 2 and the shared forecast stays at 9: the anchor leans on its own orders
    anchors = [combine(obs(incoming_order=2), memory, 9.0, 0.5) for _ in range(8)]
    assert anchors[-1] < 3


def test_a_stage_forecasts_from_the_channels_it_serves():
    chain = [
        {"role": "maker", "supplier": None, "consumer_facing": True},
        {"role": "shop", "supplier": "maker", "consumer_facing": True},
    ]
    assert served_channels(chain, "maker") == ["maker", "shop"]
    assert served_channels(chain, "shop") == ["shop"]
    view = {"chain": chain, "pos_demand": [{"week": 10, "demand": 7, "by_channel": {"maker": 3, "shop": 4}}]}
    assert pos_signal(obs(role="maker"), view) == 7
    assert pos_signal(obs(role="shop"), view) == 4


#: what the factory sees of the stages below it with inventories and pipelines shared
ECHELON_VIEW: dict[str, Any] = {
    "chain": CHAIN,
    "inventories": {
        "wholesaler": {"on_hand": 5, "backlog": 2, "wip": 0},
        "retailer": {"on_hand": 3, "backlog": 4, "wip": 0},
    },
    "pipelines": {
        "wholesaler": {"orders_in_mail": [4, 4], "on_the_way": [1, 2]},
        "retailer": {"orders_in_mail": [9], "on_the_way": [6, 6, 6]},
    },
}


def test_echelon_position_counts_everything_downstream():
    view = ECHELON_VIEW
    o = obs(role="factory", on_hand=10, backlog=3, supply_line=7, lead_time=3)
    # own 10 + 7 (its backlog to the wholesaler stays inside); wholesaler 5 + 3 in transit;
    # retailer 3 + 18 in transit - 4 consumers waiting. Cover: 3 + 1, + 4, + 4.
    assert echelon(o, view) == (10 + 7 + 5 + 3 + 3 + 18 - 4, 12)
    assert echelon(o, {k: v for k, v in view.items() if k != "pipelines"}) is None
    assert echelon(obs(role="retailer", on_hand=3, backlog=4, supply_line=27), view) == (3 + 27 - 4, 5)


def test_echelon_position_passes_through_a_make_to_order_stage_without_adding_weeks():
    chain = [{**c, "mode": "mto" if c["role"] == "retailer" else "mts"} for c in CHAIN]
    inventories = {**ECHELON_VIEW["inventories"], "retailer": {"on_hand": 3, "backlog": 4, "wip": 1}}
    view = {**ECHELON_VIEW, "chain": chain, "inventories": inventories}
    o = obs(role="factory", on_hand=10, backlog=3, supply_line=7, lead_time=3)
    # the retailer's goods and its waiting consumers count; its lead time is the customers' wait
    assert echelon(o, view) == (10 + 7 + 5 + 3 + 3 + 1 + 18 - 4, 3 + 1 + 4)


def test_a_consumer_facing_stage_forecasts_from_every_consumer_who_came_not_only_the_sales():
    pol = parse_policy("sterman:theta=1,alpha=0")
    # 9 came, 2 were accepted (the rest walked away from an empty shelf): the forecast is 9
    assert pol.decide(obs(role="retailer", incoming_order=2, demand=9))[0] == 9
    assert pol.decide(obs(role="wholesaler", incoming_order=2))[0] == 2
