"""Bot policies: pass-through, base-stock and Sterman's anchoring and adjustment."""

from __future__ import annotations

import math

import pytest

from game.codp import apply_codp
from game.engine import step
from game.observe import initial_rate, observe
from game.policies import POLICIES, Policy, PolicyError, parse_policy
from game.scenario import load_scenario
from game.simulate import simulate
from game.state import new_game


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
    assert set(POLICIES) == {"passthrough", "base_stock", "sterman"}


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
