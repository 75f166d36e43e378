"""The classic beer game, checked against weeks computed by hand from Sterman's (1989) rules.

Each week, every stage: (1) receives the first shipping box, (2) reads its incoming
order and ships min(on hand, incoming + backlog), (3) pays 0.50 per case on hand and
1.00 per case of backlog, (4) order slips advance, (5) places its order. Order delay
2 weeks, shipping 2 weeks, the factory's lead time 3 weeks (request box + 2 production
boxes). Start: 12 on hand, every box holds 4; demand 4 in weeks 1-4, then 8.

The tables below were worked out on paper; each row is
(received, incoming order, shipped, inventory, backlog, cost) for one week.
"""

from __future__ import annotations

import pytest

from game.engine import DecisionError, step
from game.scenario import load_scenario
from game.simulate import simulate
from game.start import new_game

ROLES = ("factory", "distributor", "wholesaler", "retailer")
STEADY = (4, 4, 4, 12, 0, 6.0)
FIELDS = ("received", "incoming_order", "shipped", "inventory", "backlog", "cost")


@pytest.fixture(scope="module")
def classic():
    return load_scenario("classic")


def play(scenario, weeks: int, special: dict[tuple[str, int], int] | None = None) -> list[dict[str, dict]]:
    """Play ``weeks`` weeks; every order is 4 except ``special[(role, week)]``.
    Returns the events per week (index 0 = week 1) by role."""
    special = special or {}
    state = new_game(scenario, seed=0)
    out = []
    for week in range(1, weeks + 1):
        assert state.week == week
        decisions = {r: special.get((r, week), 4) for r in scenario.roles}
        state, events = step(scenario, state, decisions)
        out.append(dict(zip(scenario.roles, events, strict=True)))
    return out


def rows(events: list[dict[str, dict]], role: str) -> list[tuple]:
    return [tuple(week[role][f] for f in FIELDS) for week in events]


def test_roles_run_from_factory_to_retailer(classic):
    assert classic.roles == ROLES
    assert classic.weeks == 36
    assert [classic.stage(r).on_hand for r in ROLES] == [12, 12, 12, 12]


def test_first_decision_point_is_week_one_after_its_first_four_steps(classic):
    state = new_game(classic, seed=0)
    assert state.week == 1 and not state.done
    for ev in state.events:
        assert tuple(ev[f] for f in FIELDS) == STEADY
        assert ev["order"] is None
    # one order box left in the mail (the other was read this week), both shipping boxes full
    assert [s.order_q for s in state.stages] == [[], [4], [4], [4]]
    assert [s.ship_q for s in state.stages] == [[4, 4]] * 4


def test_all_orders_four_retailer_runs_out_after_the_step(classic):
    events = play(classic, 10)
    for role in ("factory", "distributor", "wholesaler"):
        assert rows(events, role) == [STEADY] * 10
    assert rows(events, "retailer") == [
        (4, 4, 4, 12, 0, 6.0),
        (4, 4, 4, 12, 0, 6.0),
        (4, 4, 4, 12, 0, 6.0),
        (4, 4, 4, 12, 0, 6.0),
        (4, 8, 8, 8, 0, 4.0),  # demand steps to 8
        (4, 8, 8, 4, 0, 2.0),
        (4, 8, 8, 0, 0, 0.0),
        (4, 8, 4, 0, 4, 4.0),  # stock gone: backlog builds by 4 a week
        (4, 8, 4, 0, 8, 8.0),
        (4, 8, 4, 0, 12, 12.0),
    ]
    assert [w["retailer"]["demand"] for w in events] == [4] * 4 + [8] * 6
    assert all(w[r]["order"] == 4 for w in events for r in ROLES)


def test_order_and_shipping_delays_and_backlog_upstream(classic):
    # Retailer orders 20 in week 1; the wholesaler orders 8 in weeks 1 and 2.
    events = play(classic, 8, {("retailer", 1): 20, ("wholesaler", 1): 8, ("wholesaler", 2): 8})
    assert events[0]["retailer"]["order"] == 20
    # the retailer's week-1 order reaches the wholesaler in week 3 (2-week order delay)
    assert rows(events, "wholesaler") == [
        (4, 4, 4, 12, 0, 6.0),
        (4, 4, 4, 12, 0, 6.0),
        (4, 20, 16, 0, 4, 4.0),  # ships all it has, owes 4
        (4, 4, 4, 0, 4, 4.0),  # still owes 4
        (8, 4, 8, 0, 0, 0.0),  # its own week-1 order of 8 arrives: backlog cleared first
        (8, 4, 4, 4, 0, 2.0),
        (4, 4, 4, 4, 0, 2.0),
        (4, 4, 4, 4, 0, 2.0),
    ]
    # the 16 shipped in week 3 arrive at the retailer in week 5 (2-week shipping delay)
    assert rows(events, "retailer") == [
        (4, 4, 4, 12, 0, 6.0),
        (4, 4, 4, 12, 0, 6.0),
        (4, 4, 4, 12, 0, 6.0),
        (4, 4, 4, 12, 0, 6.0),
        (16, 8, 8, 20, 0, 10.0),
        (4, 8, 8, 16, 0, 8.0),
        (8, 8, 8, 16, 0, 8.0),
        (4, 8, 8, 12, 0, 6.0),
    ]
    # the distributor reads the wholesaler's 8s in weeks 3 and 4
    assert rows(events, "distributor") == [
        (4, 4, 4, 12, 0, 6.0),
        (4, 4, 4, 12, 0, 6.0),
        (4, 8, 8, 8, 0, 4.0),
        (4, 8, 8, 4, 0, 2.0),
        (4, 4, 4, 4, 0, 2.0),
        (4, 4, 4, 4, 0, 2.0),
        (4, 4, 4, 4, 0, 2.0),
        (4, 4, 4, 4, 0, 2.0),
    ]
    assert rows(events, "factory") == [STEADY] * 8


def test_factory_production_takes_three_weeks(classic):
    events = play(classic, 7, {("factory", 1): 0, ("factory", 2): 12})
    assert [w["factory"]["received"] for w in events] == [4, 4, 4, 0, 12, 4, 4]
    assert rows(events, "factory") == [
        (4, 4, 4, 12, 0, 6.0),
        (4, 4, 4, 12, 0, 6.0),
        (4, 4, 4, 12, 0, 6.0),
        (0, 4, 4, 8, 0, 4.0),  # the week-1 request of 0 comes out of production
        (12, 4, 4, 16, 0, 8.0),  # the week-2 request of 12
        (4, 4, 4, 16, 0, 8.0),
        (4, 4, 4, 16, 0, 8.0),
    ]
    for role in ("distributor", "wholesaler"):
        assert rows(events, role) == [STEADY] * 7


def test_factory_backlog_when_production_stops(classic):
    # No production for three weeks while the distributor keeps ordering 4.
    events = play(classic, 8, {("factory", w): 0 for w in (1, 2, 3)})
    assert rows(events, "factory") == [
        (4, 4, 4, 12, 0, 6.0),
        (4, 4, 4, 12, 0, 6.0),
        (4, 4, 4, 12, 0, 6.0),
        (0, 4, 4, 8, 0, 4.0),
        (0, 4, 4, 4, 0, 2.0),
        (0, 4, 4, 0, 0, 0.0),
        (4, 4, 4, 0, 0, 0.0),
        (4, 4, 4, 0, 0, 0.0),
    ]
    events = play(classic, 9, {("factory", w): 0 for w in (1, 2, 3, 4)})
    assert [w["factory"]["backlog"] for w in events] == [0, 0, 0, 0, 0, 0, 4, 4, 4]
    assert [w["factory"]["shipped"] for w in events] == [4, 4, 4, 4, 4, 4, 0, 4, 4]
    assert events[6]["factory"]["cost"] == 4.0
    # the distributor feels the missing shipment two weeks later
    assert [w["distributor"]["received"] for w in events] == [4, 4, 4, 4, 4, 4, 4, 4, 0]


def test_sterman_benchmark_costs_46_50_54_54(classic):
    result = simulate(classic, policy="sterman:theta=0,alpha=1,beta=1,target=28,target_factory=20,fixed_weeks=4")
    totals = result.totals()
    assert totals["cost"] == {"retailer": 46.0, "wholesaler": 50.0, "distributor": 54.0, "factory": 54.0}
    assert totals["team_cost"] == 204.0
    assert len(result.weeks) == 36 and result.state.done
    assert [w["roles"]["retailer"]["order"] for w in result.weeks[:4]] == [4, 4, 4, 4]


def test_game_ends_after_the_last_week(classic):
    state = new_game(classic, seed=0)
    for _ in range(classic.weeks):
        state, _events = step(classic, state, dict.fromkeys(ROLES, 4))
    assert state.done
    with pytest.raises(ValueError, match="over"):
        step(classic, state, dict.fromkeys(ROLES, 4))


@pytest.mark.parametrize(
    ("decisions", "problem"),
    [
        ({"factory": 4, "distributor": 4, "wholesaler": 4}, "no decision for retailer"),
        ({**dict.fromkeys(ROLES, 4), "brewer": 4}, "unknown role"),
        ({**dict.fromkeys(ROLES, 4), "retailer": -1}, "between 0 and"),
        ({**dict.fromkeys(ROLES, 4), "retailer": 4.5}, "whole number"),
        ({**dict.fromkeys(ROLES, 4), "retailer": "4"}, "whole number"),
        ({**dict.fromkeys(ROLES, 4), "retailer": True}, "whole number"),
        ({**dict.fromkeys(ROLES, 4), "retailer": 10**9}, "between 0 and"),
    ],
)
def test_bad_decisions_are_refused(classic, decisions, problem):
    state = new_game(classic, seed=0)
    before = state.to_dict()
    with pytest.raises(DecisionError, match=problem):
        step(classic, state, decisions)
    assert state.to_dict() == before


def test_step_does_not_modify_its_input(classic):
    state = new_game(classic, seed=0)
    before = state.to_dict()
    step(classic, state, dict.fromkeys(ROLES, 9))
    assert state.to_dict() == before
