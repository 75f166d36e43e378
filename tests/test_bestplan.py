"""Best-plan benchmark: stationary plans played by the real engine on the team's demand."""

from __future__ import annotations

import pytest

from game.bestplan import benchmark, for_game, optimise, play_plan
from game.codp import apply_codp
from game.scenario import load_scenario
from game.scoring import team_score
from game.simulate import simulate
from game.state import new_game


def test_play_plan_is_the_same_game_as_the_policies() -> None:
    scn = apply_codp(load_scenario("customer-intimacy"), "ato")
    plan = optimise(scn, seed=4, budget=12)
    played = simulate(scn, 4, plan.policies())
    assert team_score(scn, played.weeks) == pytest.approx(plan.profit)
    assert set(plan.levels) == {"supplier", "manufacturer"}
    assert set(plan.capacities) == {"wholesaler", "retailer"}


def test_search_improves_on_its_start_and_on_worse_plans() -> None:
    scn = apply_codp(load_scenario("decoupling-point"), "mts-local")
    short = optimise(scn, seed=1, budget=1)  # the starting plan only
    found = optimise(scn, seed=1, budget=30)
    assert found.profit >= short.profit
    assert found.games <= 30
    starved = {r: 0 for r in scn.roles}
    assert play_plan(scn, 1, starved) < found.profit
    converged = optimise(scn, seed=1, budget=200)
    assert converged.games < 200, "the search should stop by itself when no step improves"
    plan = {**converged.levels, **converged.capacities}
    for role, value in plan.items():
        for delta in (-1, 1):
            neighbour = dict(plan, **{role: max(0, value + delta)})
            assert play_plan(scn, 1, neighbour) <= converged.profit + 1e-6, (role, delta)


def test_benchmark_covers_every_position_and_names_the_best() -> None:
    scn = load_scenario("product-leadership")
    result = benchmark(scn, seed=0)
    assert result.chosen.position == scn.codp
    assert set(result.by_position) == set(scn.codp_positions) - {scn.codp}
    best = max([result.chosen, *result.by_position.values()], key=lambda p: p.profit)
    assert result.best == best
    data = result.to_dict()
    assert data["best"]["position"] == best.position
    assert set(data["by_position"]) == set(result.by_position)


def test_the_benchmark_depends_on_the_demand_faced() -> None:
    scn = load_scenario("segments")
    a = optimise(apply_codp(scn, "ato"), seed=0, budget=8)
    b = optimise(apply_codp(scn, "ato"), seed=9, budget=8)
    assert a.profit != b.profit
    assert a == optimise(apply_codp(scn, "ato"), seed=0, budget=8)


def test_for_game_uses_the_teams_seed_and_position() -> None:
    scn = load_scenario("customer-intimacy")
    state = new_game(apply_codp(scn, "mto"), seed=6)
    result = for_game(scn, state, budget=4, chosen_budget=4)
    assert result.chosen.position == "mto"
    assert "mto" not in result.by_position
    assert result.chosen == optimise(apply_codp(scn, "mto"), 6, 4)
