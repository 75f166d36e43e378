"""The engine's shortcuts give exactly what its general rules give.

For speed the engine takes shortcuts in common cases: plain in-bounds decisions are taken
as they are, a node receives inside the shipping loop, a plain node's event is filled in
from a template, a node with one customer ships without rationing, and the classic market
(one patient segment) accepts everyone without the bookkeeping. ``without_fast_paths``
plays a scenario by the general rules only; every preset, at every decoupling position,
is played both ways (bots and random decisions, several seeds, every week) and must give
the same events and states, float for float and key for key.
"""

from __future__ import annotations

import random

import pytest

from game import engine
from game.codp import apply_codp, positions_for
from game.engine import DecisionError, all_bounds, play_week, step, without_fast_paths
from game.scenario import list_presets, load_scenario
from game.simulate import simulate
from game.start import new_game

PRESETS = list_presets()
SALES_KEYS = ("promise", "promise_cost", "broken")
#: a market key the template holds for ``_close_books`` (customers still waiting at the end)
CLOSING_KEYS = {"unserved": 0}


def variants(name: str) -> list:
    """The preset as it is and at each of its decoupling positions."""
    scenario = load_scenario(name)
    return [scenario] + [apply_codp(scenario, p) for p in positions_for(scenario)]


def random_decisions(scenario, state, rng: random.Random) -> dict:
    """A decision per seat within its bounds: often small, sometimes 0 or the bound itself,
    sometimes a whole float (which the shortcut leaves to the general check)."""
    out = {}
    for role, (lo, hi) in all_bounds(scenario, state).items():
        v = rng.choice((lo, hi, rng.randint(lo, min(hi, 25)), rng.randint(lo, min(hi, 12))))
        out[role] = float(v) if rng.random() < 0.1 else v
    return out


def test_the_general_plan_takes_no_shortcut():
    general = engine._plan(without_fast_paths(load_scenario("classic")))
    fast = engine._plan(load_scenario("classic"))
    assert fast.fast and fast.inline and all(row[3] and row[4] for row in fast.rows)
    assert not general.fast and not general.inline and not any(row[3] or row[4] for row in general.rows)


@pytest.mark.parametrize("name", PRESETS)
def test_bots_play_alike(name):
    for scenario in variants(name):
        general = without_fast_paths(scenario)
        for seed in range(3):
            for policy in ("sterman", None):
                a = simulate(scenario, seed, policy=policy)
                b = simulate(general, seed, policy=policy)
                assert repr(a.weeks) == repr(b.weeks), (scenario.name, scenario.codp, seed, policy)
                assert repr(a.state) == repr(b.state), (scenario.name, scenario.codp, seed, policy)


@pytest.mark.parametrize("name", PRESETS)
def test_random_decisions_play_alike(name):
    for scenario in variants(name):
        general = without_fast_paths(scenario)
        for seed in range(2):
            rng = random.Random(seed)
            a, b = new_game(scenario, seed), new_game(general, seed)
            what_if_a, what_if_b = a.copy(), b.copy()
            while not a.done:
                decisions = random_decisions(scenario, a, rng)
                a, events_a = step(scenario, a, decisions)
                b, events_b = step(general, b, decisions)
                assert repr(events_a) == repr(events_b), (scenario.name, scenario.codp, seed, a.week)
                assert repr(a) == repr(b), (scenario.name, scenario.codp, seed, a.week)
                # the what-if loops' week: in place, without the roles' totals and quotes
                nodes_a = play_week(scenario, what_if_a, decisions, totals=False)
                nodes_b = play_week(general, what_if_b, decisions, totals=False)
                assert repr(nodes_a) == repr(nodes_b), (scenario.name, scenario.codp, seed, a.week)
            assert repr(what_if_a) == repr(what_if_b)


def outcome(scenario, state, decisions) -> str:
    """What ``step`` makes of ``decisions``: the week's events, or the error's message."""
    try:
        return repr(step(scenario, state, decisions))
    except DecisionError as exc:
        return f"refused: {exc}"


@pytest.mark.parametrize("name", PRESETS)
def test_decisions_at_the_bounds_alike(name):
    """Each role's decision just inside and just outside its bounds, the others in bounds."""
    for scenario in variants(name):
        general = without_fast_paths(scenario)
        state, other = new_game(scenario, 0), new_game(general, 0)
        bounds = all_bounds(scenario, state)
        fine = {r: lo for r, (lo, _) in bounds.items()}
        for role, (lo, hi) in bounds.items():
            for v in (lo - 1, lo, hi, hi + 1):
                decisions = {**fine, role: v}
                assert outcome(scenario, state, decisions) == outcome(general, other, decisions), (role, v)


@pytest.mark.parametrize(
    "decisions",
    [
        {"retailer": 4},
        {"retailer": 4, "wholesaler": 4, "distributor": 4, "factory": 4, "shop": 1},
        {"retailer": -1, "wholesaler": 4, "distributor": 4, "factory": 4},
        {"retailer": 4.5, "wholesaler": 4, "distributor": 4, "factory": 4},
        {"retailer": True, "wholesaler": 4, "distributor": 4, "factory": 4},
        {"retailer": "4", "wholesaler": 4, "distributor": 4, "factory": 4},
        {"retailer": 10**6, "wholesaler": 4, "distributor": 4, "factory": 4},
    ],
)
def test_bad_decisions_refused_alike(decisions):
    scenario = load_scenario("classic")
    general = without_fast_paths(scenario)
    with pytest.raises(DecisionError) as fast_error:
        step(scenario, new_game(scenario, 0), decisions)
    with pytest.raises(DecisionError) as general_error:
        step(general, new_game(general, 0), decisions)
    assert str(fast_error.value) == str(general_error.value)


def node_weeks(scenario, seed: int) -> list[list[dict]]:
    """Every week's events of the nodes (``totals=False``), on random decisions."""
    rng = random.Random(seed)
    state = new_game(scenario, seed)
    weeks = []
    while not state.done:
        weeks.append(play_week(scenario, state, random_decisions(scenario, state, rng), totals=False))
    return weeks


@pytest.mark.parametrize("name", PRESETS)
def test_market_keys_in_the_templates_order(name, monkeypatch):
    """``_consumers`` and ``_deliver`` set the market keys of ``_FACING_EVENT``, in its order:
    played on a template without them, a consumer-facing node's event holds the same keys
    and values, the market keys in the same order."""
    scenario = without_fast_paths(load_scenario(name))
    templated = node_weeks(scenario, 1)
    plain = set(engine._PLAIN_EVENT) | set(SALES_KEYS) | set(CLOSING_KEYS)
    market = [k for k in engine._FACING_EVENT if k not in plain]
    monkeypatch.setattr(engine, "_FACING_EVENT", dict(CLOSING_KEYS))
    bare = node_weeks(scenario, 1)
    checked = 0
    for week_t, week_b in zip(templated, bare, strict=True):
        for ev, other in zip(week_t, week_b, strict=True):
            assert ev == other
            if "demand" in ev:  # a consumer-facing node
                assert [k for k in ev if k not in plain] == [k for k in other if k not in plain] == market
                checked += 1
    assert checked
