"""Best-plan benchmark: plans of the reference's family played by the real engine on the team's demand."""

from __future__ import annotations

import random

import pytest

from game.analysis.bestplan import (
    REFERENCE_BUDGET,
    REFERENCE_CHOSEN_BUDGET,
    benchmark,
    optimise,
    play_plan,
    reference_starts,
    stored_rules,
)
from game.analysis.plans import play
from game.analysis.reference import replay, stored
from game.codp import apply_codp
from game.engine import all_bounds, play_week
from game.scenario import list_presets, load_scenario
from game.scoring import team_score
from game.simulate import simulate
from game.start import new_game


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


QUOTE_KEYS = ("quoted_lead_time", "quoted_sum", "quoted_units")


def _without_quotes(events: list[dict]) -> list[dict]:
    return [{k: v for k, v in ev.items() if k not in QUOTE_KEYS} for ev in events]


@pytest.mark.parametrize("name", [n for n in list_presets() if load_scenario(n).codp_positions])
def test_what_if_weeks_play_the_same_game_without_totals_and_quotes(name: str) -> None:
    base = load_scenario(name)
    for position in base.codp_positions:
        scn = apply_codp(base, position)
        rng = random.Random(5)
        full = new_game(scn, 2)
        lean = full.copy()
        while not full.done:
            bounds = all_bounds(scn, full)  # within each role's limits (a capacity may be below 40)
            decisions = {r: rng.randint(bounds[r][0], min(40, bounds[r][1])) for r in scn.roles}
            play_week(scn, full, decisions)
            money = [ev.get("revenue", 0.0) - ev["cost"] for ev in play_week(scn, lean, decisions, totals=False)]
            assert len(money) == scn.network.n
            # the same stock points, orders and money to the last bit; only the quotes are left out
            assert [s.to_dict() for s in lean.nodes or lean.stages] == [s.to_dict() for s in full.nodes or full.stages]
            assert _without_quotes(lean.node_events or lean.events) == _without_quotes(full.node_events or full.events)


@pytest.mark.parametrize("name", ["decoupling-point", "engineer-to-order"])
def test_searches_from_the_stored_reference_plans_end_at_or_above_them(name: str) -> None:
    scn = load_scenario(name)
    data = stored(scn)
    assert data is not None
    seed = 123  # neither a training nor a test seed of the reference
    result = benchmark(scn, seed, reference=data)
    replayed = replay(scn, seed, data)
    plans = {result.chosen.position: result.chosen, **result.by_position}
    assert set(plans) == set(replayed)
    for position, plan in plans.items():
        assert plan.profit >= replayed[position]
        assert plan.games <= (REFERENCE_CHOSEN_BUDGET if position == scn.codp else REFERENCE_BUDGET)
        assert play(apply_codp(scn, position), seed, plan.plan_rules()) == plan.profit
    # each start is the stored plan and that plan scaled by the demand faced against the training seeds'
    starts = reference_starts(scn, seed, data)
    stored_plan, scaled = starts[scn.codp]
    row = next(r for r in data["positions"] if r["position"] == scn.codp)
    assert stored_plan == stored_rules(apply_codp(scn, scn.codp), row)
    rate = _weekly_demand(scn, seed)
    train = sum(_weekly_demand(scn, s) for s in data["train_seeds"]) / len(data["train_seeds"])
    assert {r: x.level for r, x in scaled.items()} == {r: round(x.level * rate / train) for r, x in stored_plan.items()}
    assert {r: (x.alpha, x.cover, x.stop) for r, x in scaled.items()} == {
        r: (x.alpha, x.cover, x.stop) for r, x in stored_plan.items()
    }


def _weekly_demand(scn, seed: int) -> float:
    demand = new_game(scn, seed).demand  # per week, per market, per segment
    return sum(n for week in demand for market in week for n in market) / len(demand)


def test_without_a_stored_reference_the_search_starts_from_the_rate_plan() -> None:
    scn = load_scenario("customer-intimacy")
    plain = benchmark(scn, seed=3, budget=6, chosen_budget=6)
    assert plain.chosen == optimise(apply_codp(scn, scn.codp), 3, 6)
    assert all(p.games == 6 for p in plain.by_position.values())
