"""The end of the game: drawn per seed from the scenario's window, played to, and never told
to players unless the scenario or the facilitator says so."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import pytest

from game.engine import _plan, step
from game.horizon import end_known, end_of_game, ending_at, last_week, longest, window, with_length
from game.scenario import Scenario, ScenarioError, load_scenario, scenario_from_toml
from game.simulate import simulate
from game.start import new_game
from game.state import GameState
from game.visibility import facilitator_view, public_view, view

SEEDS = range(60)
ALL_SHARED = {"pos_demand": True, "inventories": True, "pipelines": True}


def _decisions(scn: Scenario, week: int) -> dict[str, int]:
    """Some decisions that vary by week and role (orders, or capacities for make-to-order roles)."""
    return {r: 20 + (7 * week + 5 * k) % 30 for k, r in enumerate(scn.roles)}


def _game(scn: Scenario, seed: int) -> list[tuple[GameState, list[dict[str, Any]]]]:
    """Every decision point of a whole game with fixed decisions: (state, history so far)."""
    state, history, out = new_game(scn, seed), [], []
    while not state.done:
        out.append((state, list(history)))
        week = state.week
        state, events = step(scn, state, _decisions(scn, week))
        history.append({"week": week, "roles": dict(zip(scn.roles, events, strict=True))})
    out.append((state, history))
    return out


def _player_texts(scn: Scenario, state: GameState, history: list[dict[str, Any]]) -> list[str]:
    """The JSON of every role's view (everything shared) and of the public view."""
    views = [view(scn, state, role, ALL_SHARED, history) for role in scn.roles]
    return [json.dumps(v, sort_keys=True) for v in [*views, public_view(scn, state, history)]]


def test_the_end_is_drawn_within_the_window_the_same_for_a_seed_and_different_across_seeds() -> None:
    scn = load_scenario("decoupling-point")
    assert window(scn) == (48, 56) and longest(scn) == 56 and not end_known(scn)
    ends = [end_of_game(scn, s) for s in SEEDS]
    assert all(48 <= e <= 56 for e in ends)
    assert len(set(ends)) >= 7  # a uniform draw over nine weeks, sixty seeds
    assert ends == [end_of_game(scn, s) for s in SEEDS]
    for seed in (0, 1, 2):
        state = new_game(scn, seed)
        assert state.end == last_week(scn, state) == ends[seed]
        assert len(state.demand) == 56  # demand covers the longest game
        assert GameState.from_dict(json.loads(json.dumps(state.to_dict()))).end == ends[seed]


def test_every_position_and_team_of_a_seed_ends_in_the_same_week() -> None:
    from game.codp import apply_codp, positions_for

    scn = load_scenario("decoupling-point")
    for seed in (3, 4):
        assert {new_game(apply_codp(scn, p), seed).end for p in positions_for(scn)} == {end_of_game(scn, seed)}


def test_a_game_plays_to_its_drawn_end_and_replays_exactly() -> None:
    scn = replace(load_scenario("classic-random"), end_window=(30, 40))
    lengths = set()
    for seed in (1, 2, 3, 4, 5):
        a, b = simulate(scn, seed, "sterman"), simulate(scn, seed, "sterman")
        assert len(a.weeks) == end_of_game(scn, seed) and a.state.done
        assert json.dumps(a.to_dict()) == json.dumps(b.to_dict())
        lengths.add(len(a.weeks))
    assert len(lengths) > 1


def test_the_draw_of_the_end_takes_nothing_from_the_demand_stream() -> None:
    base = load_scenario("classic-random")
    wide = replace(base, end_window=(30, 40))
    for seed in (1, 2):
        assert new_game(wide, seed).demand[:36] == new_game(base, seed).demand


def test_classic_is_sterman_36_weeks_with_the_end_hidden() -> None:
    scn = load_scenario("classic")
    assert window(scn) == (36, 36) and not end_known(scn)
    assert {end_of_game(scn, s) for s in SEEDS} == {36}
    result = simulate(scn, 5, "sterman")
    assert len(result.weeks) == 36
    v = view(scn, result.state, "retailer")
    assert "weeks" not in v and v["end_known"] is False and "weeks" not in v["me"]


def test_product_leadership_tells_the_players_its_last_week() -> None:
    scn = load_scenario("product-leadership")
    assert end_known(scn) and window(scn) == (36, 36)
    state = new_game(scn, 2)
    v = view(scn, state, scn.roles[0])
    assert v["end_known"] is True and v["weeks"] == 36
    assert public_view(scn, state)["weeks"] == 36


def test_a_hidden_end_never_shows_in_a_players_or_the_public_view() -> None:
    """Two games alike but for their last week: every view before the earlier end is the same
    JSON in both (also the week's costs: the write-off comes after the last decisions)."""
    scn = load_scenario("decoupling-point")
    assert scn.write_off_rate > 0
    early, late = _game(ending_at(scn, 49), 11), _game(ending_at(scn, 53), 11)
    assert len(early) == 50 and len(late) == 54
    for (s1, h1), (s2, h2) in zip(early[:-1], late, strict=False):
        t1, t2 = _player_texts(scn, s1, h1), _player_texts(scn, s2, h2)
        assert t1 == t2, s1.week
        for text in t1:
            got = json.loads(text)
            assert got["end_known"] is False and "weeks" not in got
            assert "weeks" not in got.get("me", {})
    # the facilitator sees the drawn end, and a revealed end is in every view
    state, history = early[10]
    assert facilitator_view(scn, state, history)["weeks"] == 49
    told = view(scn, state, scn.roles[-1], None, history, end_known=True)
    assert told["end_known"] is True and told["weeks"] == 49
    assert public_view(scn, state, history, end_known=True)["weeks"] == 49


def test_what_is_left_at_the_end_is_written_off_in_the_last_week() -> None:
    scn = ending_at(load_scenario("decoupling-point"), 50)
    games = _game(scn, 4)
    final, history = games[-1]
    assert final.done and final.week == 50 and len(history) == 50
    plan = _plan(scn)
    left = sum(
        (s.on_hand + s.wip + sum(s.ship_q)) * plan.closing_loss[i] for i, s in enumerate(final.nodes or final.stages)
    )
    last = sum(ev["write_off"] for ev in history[-1]["roles"].values())
    assert left > 0 and last == pytest.approx(left)
    assert all(ev["write_off"] == 0 for w in history[:-1] for ev in w["roles"].values())


def test_a_new_length_scales_the_window() -> None:
    scn = load_scenario("decoupling-point")
    assert window(with_length(scn, 30)) == (28, 32)
    assert window(with_length(scn, 20)) == (18, 22)
    assert window(with_length(scn, 3)) == (3, 3)
    assert window(with_length(scn, 500)) == (462, 520)
    assert window(with_length(scn, 30, (30, 31))) == (30, 31)
    assert window(with_length(load_scenario("classic"), 8)) == (8, 8)


BASE = """
name = "tiny"
weeks = 10
{extra}
[demand]
kind = "constant"
base = 4
[[stages]]
role = "shop"
order_delay = 1
ship_delay = 1
on_hand = 8
holding_cost = 0.5
backlog_cost = 1.0
market_share = 1.0
"""


@pytest.mark.parametrize(
    ("extra", "problem"),
    [
        ("end_window = 12", "end_window: must be list"),
        ("end_window = [8]", "end_window: must be [first, last]"),
        ("end_window = [8, 9.5]", "end_window: must be [first, last]"),
        ("end_window = [11, 12]", "end_window: must hold 1 <= first <= weeks (10) <= last"),
        ("end_window = [8, 9]", "end_window: must hold 1 <= first <= weeks (10) <= last"),
        ("end_window = [0, 12]", "end_window: must hold 1 <= first"),
        ("end_window = [8, 600]", "end_window: must hold 1 <= first <= weeks (10) <= last <= 520"),
        ("end_known = 1", "end_known: must be bool"),
    ],
)
def test_bad_horizon_keys_are_refused_naming_the_key(extra: str, problem: str) -> None:
    with pytest.raises(ScenarioError, match=r"^x\.toml: ") as err:
        scenario_from_toml(BASE.format(extra=extra), "x.toml")
    assert problem in str(err.value)


def test_horizon_keys_read() -> None:
    scn = scenario_from_toml(BASE.format(extra="end_window = [8, 12]\nend_known = true"), "x.toml")
    assert scn.end_window == (8, 12) and scn.end_known
    assert {new_game(scn, s).end for s in range(40)} == set(range(8, 13))
