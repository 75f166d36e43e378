"""Properties of the engine over random decisions, for every preset in config/scenarios
and every decoupling point its chain allows (make-to-order stages included).

Goods are conserved, nothing goes negative, orders are conserved, a seed and the same
decisions replay identically, and a state survives a JSON round trip mid-game.
"""

from __future__ import annotations

import json
import tomllib
from functools import cache
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from game.codp import apply_choice, apply_codp, positions_for, process_options
from game.engine import decision_bounds, step
from game.horizon import with_length
from game.scenario import SCENARIO_DIR, Scenario, list_presets, load_scenario, scenario_from_dict
from game.start import new_game
from game.state import GameState

PRESETS = list_presets()
MAX_WEEKS = 20
MAX_DECISION = 40
NON_NEGATIVE = ("received", "incoming_order", "shipped", "inventory", "backlog", "order", "cost", "wip", "processed")

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@cache
def _variant(name: str, position: str | None) -> Scenario:
    scn = load_scenario(name)
    return apply_choice(scn, position) if position else scn


@cache
def _positions(name: str) -> tuple[str | None, ...]:
    scn = load_scenario(name)  # every position the chain fits, and its processes per segment
    return (None, *positions_for(scn), *process_options(scn))


@st.composite
def games(draw: st.DrawFn) -> tuple[Scenario, int, list[dict[str, int]]]:
    """A preset (possibly with another decoupling point), a seed and every week's decisions."""
    name = draw(st.sampled_from(PRESETS))
    scn = _variant(name, draw(st.sampled_from(_positions(name))))
    weeks = draw(st.integers(1, min(scn.weeks, MAX_WEEKS)))
    scn = with_length(scn, weeks, (weeks, weeks))
    seed = draw(st.integers(0, 2**32 - 1))
    start = new_game(scn, seed)
    ranges = {}
    for role in scn.roles:
        lo, hi = decision_bounds(scn, start, role)
        ranges[role] = st.integers(lo, min(hi, MAX_DECISION))
    plan = draw(st.lists(st.fixed_dictionaries(ranges), min_size=scn.weeks, max_size=scn.weeks))
    return scn, seed, plan


def play(scn: Scenario, state: GameState, plan: list[dict[str, int]]) -> tuple[list[GameState], list[list[dict]]]:
    """Every state from ``state`` on, and every finished week's events."""
    states, weeks = [state], []
    for decisions in plan:
        state, events = step(scn, state, decisions)
        states.append(state)
        weeks.append(events)
    return states, weeks


def _initial_goods(scn: Scenario) -> int:
    """Stock on hand and in the pipelines at the start, plus what the outside source already owes."""
    total = 0
    for spec in scn.stages:
        total += spec.on_hand + sum(spec.shipments)
        if spec.supplier is None:
            total += sum(spec.orders)
    return total


@given(games())
@SETTINGS
def test_goods_are_conserved(game: tuple[Scenario, int, list[dict[str, int]]]) -> None:
    scn, seed, plan = game
    sources = [i for i, spec in enumerate(scn.stages) if spec.supplier is None]
    start = new_game(scn, seed)
    states, weeks = play(scn, start, plan)
    initial = _initial_goods(scn)
    sold_done = 0  # delivered to consumers in finished weeks
    source_orders = 0  # ordered from the outside source in finished weeks
    for t, state in enumerate(states):
        if t:
            sold_done += sum(ev.get("sold", 0) for ev in weeks[t - 1])
            source_orders += sum(weeks[t - 1][i]["order"] for i in sources)
        sold = sold_done + sum(ev.get("sold", 0) for ev in state.events)
        # a make-to-order source has already ordered this week (instant orders)
        rushed = sum(state.events[i]["order"] or 0 for i in sources) if state.events else 0
        from_outside = source_orders + rushed - sum(sum(state.stages[i].order_q) for i in sources)
        in_chain = sum(s.on_hand + s.wip + sum(s.ship_q) for s in state.stages)
        assert in_chain + sold == initial + from_outside, f"after week {t}"


@given(games())
@SETTINGS
def test_orders_are_conserved_and_demand_is_accepted_or_lost(game: tuple[Scenario, int, list[dict[str, int]]]) -> None:
    scn, seed, plan = game
    start = new_game(scn, seed)
    states, weeks = play(scn, start, plan)
    end = states[-1]

    def by_processes(i: int, key: str) -> list[int]:
        """Per finished week, ``key`` summed over the stock points of the segments' own
        processes that sell through role ``i`` (its flows leave them out, its market counts them)."""
        lanes = scn.network.lanes[i]
        return [sum(states[t].node_events[k][key] or 0 for k in lanes) if lanes else 0 for t in range(len(weeks))]

    for i, spec in enumerate(scn.stages):
        incoming = sum(w[i]["incoming_order"] for w in weeks)
        shipped = sum(w[i]["shipped"] for w in weeks)
        # accepted consumers who cancelled (at the role's own stock point)
        reneged = sum(w[i].get("reneged") or 0 for w in weeks) - sum(by_processes(i, "reneged"))
        # initial backlog + everything ordered from this stage == everything shipped, cancelled + backlog still owed
        assert spec.backlog + incoming == shipped + reneged + end.stages[i].backlog, spec.role
        if spec.consumer_facing:
            for w, process_sold in zip(weeks, by_processes(i, "sold"), strict=True):
                ev = w[i]
                assert ev["demand"] == ev["accepted"] + ev["lost"] == sum(ev["demand_by_segment"])
                assert ev["shipped"] + process_sold == ev["sold"]


@given(games())
@SETTINGS
def test_nothing_goes_negative(game: tuple[Scenario, int, list[dict[str, int]]]) -> None:
    scn, seed, plan = game
    states, weeks = play(scn, new_game(scn, seed), plan)
    for state in states:
        for s in state.stages:
            assert s.on_hand >= 0 and s.wip >= 0 and s.capacity >= 0
            assert min(s.owed, default=0) >= 0
            assert min(s.order_q, default=0) >= 0 and min(s.ship_q, default=0) >= 0
        for ev in state.events:
            assert all(ev[k] >= 0 for k in NON_NEGATIVE if ev.get(k) is not None)
    for events in weeks:
        for ev in events:
            assert all(ev[k] >= 0 for k in NON_NEGATIVE)


@given(games())
@SETTINGS
def test_same_seed_and_decisions_replay_identically(game: tuple[Scenario, int, list[dict[str, int]]]) -> None:
    scn, seed, plan = game
    states_a, weeks_a = play(scn, new_game(scn, seed), plan)
    states_b, weeks_b = play(scn, new_game(scn, seed), plan)
    assert [s.to_dict() for s in states_a] == [s.to_dict() for s in states_b]
    assert weeks_a == weeks_b
    assert states_a[-1].done


def _json(data: Any) -> Any:
    return json.loads(json.dumps(data))


@given(games(), st.data())
@SETTINGS
def test_state_json_round_trip_mid_game_continues_identically(
    game: tuple[Scenario, int, list[dict[str, int]]], data: st.DataObject
) -> None:
    scn, seed, plan = game
    states, weeks = play(scn, new_game(scn, seed), plan)
    cut = data.draw(st.integers(0, len(plan) - 1), label="cut")
    restored = GameState.from_dict(_json(states[cut].to_dict()))
    assert restored.to_dict() == states[cut].to_dict()
    states_b, weeks_b = play(scn, restored, plan[cut:])
    assert [s.to_dict() for s in states_b] == [s.to_dict() for s in states[cut:]]
    assert weeks_b == weeks[cut:]


@given(games())
@SETTINGS
def test_state_is_strict_json(game: tuple[Scenario, int, list[dict[str, int]]]) -> None:
    """Browsers and other JSON readers refuse NaN and Infinity: the state must not hold them."""
    scn, seed, plan = game
    states, weeks = play(scn, new_game(scn, seed), plan)
    for state in states:
        json.dumps(state.to_dict(), allow_nan=False)
    json.dumps(weeks, allow_nan=False)


def test_state_is_strict_json_when_no_lead_time_can_be_quoted() -> None:
    """A make-to-order retailer with no capacity cannot quote a lead time to impatient
    consumers; the state must still be strict JSON (no Infinity in its events)."""
    data = tomllib.loads((SCENARIO_DIR / "classic.toml").read_text(encoding="utf-8"))
    data["segments"] = [{"name": "impatient", "share": 1.0, "tolerance": 2}]
    scn = apply_codp(scenario_from_dict(data, "classic-impatient"), "mts-central")
    state = new_game(scn, seed=0)
    assert scn.stage("retailer").mode == "mto" and state.stages[-1].capacity == 0
    json.dumps(state.to_dict(), allow_nan=False)
