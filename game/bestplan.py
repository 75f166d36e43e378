"""Best-plan benchmark for the debrief: what the best simple plan would have earned.

Given the consumer demand a team actually faced (the scenario and its seed: the
demand table is drawn from the seed), search for the best *stationary* plan for
a CODP position: a fixed base-stock level for every make-to-stock stage (order
up to the level each week) and a fixed capacity for every make-to-order stage.
Doing this for every position answers "what would the best plan have earned at
our decoupling point" and "what would another decoupling point have earned".

The search is a pattern search (coordinate steps that halve when nothing
improves) with a budget of games per position. It starts from the preset's stored
reference plan for the position (``game.reference``), as stored and scaled to the
demand faced, whichever earns more, when there is one; else from a rate-based plan,
with a larger budget. It plays the real engine, so every rule (segments, lost sales,
capacity queues, write-off) is in the figure. It is a good plan, not a proven optimum.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from game.codp import apply_codp
from game.comaker import in_force, known_orders
from game.engine import inventory_position, play_week
from game.policies import Policy
from game.scenario import Scenario
from game.state import GameState, new_game

DEFAULT_BUDGET = 16  # games per position, from the rate-based start
CHOSEN_BUDGET = 26  # games for the team's own position, from the rate-based start
REFERENCE_BUDGET = 8  # games per position, from its stored reference plan
REFERENCE_CHOSEN_BUDGET = 16  # games for the team's own position, from its stored reference plan


@dataclass(frozen=True)
class Plan:
    """A stationary plan at one CODP position and what it earns on the given demand."""

    position: str | None
    levels: dict[str, int]  # make-to-stock stages: base-stock level
    capacities: dict[str, int]  # make-to-order stages: capacity per week
    profit: float
    games: int = 0

    def policies(self) -> dict[str, Policy]:
        """The plan as bot policies, for ``simulate(policy=...)``."""
        out = {r: Policy("base_stock", {"level": float(v)}) for r, v in self.levels.items()}
        out.update({r: Policy("base_stock", {"capacity": float(v)}) for r, v in self.capacities.items()})
        return out

    def to_dict(self) -> dict[str, Any]:
        """JSON-compatible form."""
        return {
            "position": self.position,
            "levels": dict(self.levels),
            "capacities": dict(self.capacities),
            "profit": round(self.profit, 2),
        }


@dataclass
class Benchmark:
    """Best plans per position on one demand history."""

    chosen: Plan
    by_position: dict[str, Plan] = field(default_factory=dict)

    @property
    def best(self) -> Plan:
        """The most profitable position's plan."""
        return max([self.chosen, *self.by_position.values()], key=lambda p: p.profit)

    def to_dict(self) -> dict[str, Any]:
        """JSON-compatible form for the debrief."""
        return {
            "chosen": self.chosen.to_dict(),
            "best": self.best.to_dict(),
            "by_position": {p: plan.to_dict() for p, plan in self.by_position.items()},
        }


def play_plan(scenario: Scenario, seed: int, plan: dict[str, int], start: GameState | None = None) -> float:
    """Profit (revenue - cost) of one game in which every stage follows ``plan``.

    Make-to-stock stages order up to ``plan[role]`` (their inventory position:
    on hand - backlog + supply line; less the co-makers' orders known for the weeks their lead
    time covers, ``game.comaker.known_orders``); make-to-order stages run at capacity ``plan[role]``.
    ``start`` (the game's first decision point) is copied, never changed.
    """
    state = start.copy() if start is not None else new_game(scenario, seed)
    # a stationary plan: the modes never change, nor the capacities of make-to-order stages
    capacities: dict[str, int] = {}
    levels: list[tuple[int, str, int, int]] = []  # make-to-stock: index, role, level, most it may order
    for i, spec in enumerate(scenario.stages):
        if spec.mode == "mto":
            capacities[spec.role] = min(plan[spec.role], spec.max_capacity)
        else:
            levels.append((i, spec.role, plan[spec.role], spec.max_order))
    total = 0.0
    adi = in_force(scenario)
    while not state.done:
        dec = dict(capacities)
        for i, role, level, most in levels:
            order = level - inventory_position(scenario, state, i)
            if adi:
                spec = scenario.stages[i]
                order += known_orders(scenario, state, i, spec.order_delay + spec.ship_delay + 1)
            dec[role] = 0 if order < 0 else min(order, most)
        for ev in play_week(scenario, state, dec, totals=False):
            total += ev.get("revenue", 0.0) - ev["cost"]
    return total


def _rate(state: GameState) -> float:
    """Mean consumer demand per week over the whole game (all channels)."""
    weeks = state.demand
    return sum(sum(sum(ch) for ch in week) for week in weeks) / max(1, len(weeks))


def _start_plan(scenario: Scenario, state: GameState, rate: float) -> dict[str, int]:
    """Levels covering lead time plus a week, capacities a little above the rate."""
    plan: dict[str, int] = {}
    for spec, s in zip(scenario.stages, state.stages, strict=True):
        share = rate if not spec.consumer_facing else rate * spec.market_share
        if s.mode == "mto":
            plan[spec.role] = math.ceil(share * 1.15)
        else:
            plan[spec.role] = round(share * (spec.order_delay + spec.ship_delay + 1))
    return plan


def optimise(
    scenario: Scenario,
    seed: int | Sequence[int],
    budget: int = DEFAULT_BUDGET,
    start_from: Sequence[Mapping[str, int]] = (),
) -> Plan:
    """The best stationary plan found for ``scenario`` as it stands (its stage modes), on the
    demand of one seed or the mean over several (``profit`` is then the mean).

    The search starts from the best of the plans in ``start_from`` (a value per role), with
    first steps of a quarter of the weekly demand; without any, from a rate-based plan with
    steps of half the weekly demand."""
    seeds = [seed] if isinstance(seed, int) else list(seed)
    starts = [new_game(scenario, s) for s in seeds]
    start = starts[0]
    rate = sum(_rate(s) for s in starts) / len(starts)
    roles = scenario.roles
    seen: dict[tuple[int, ...], float] = {}

    def f(plan: dict[str, int]) -> float:
        key = tuple(plan[r] for r in roles)
        if key not in seen:
            seen[key] = sum(play_plan(scenario, s, plan, st) for s, st in zip(seeds, starts, strict=True)) / len(seeds)
        return seen[key]

    if start_from:
        tried = [{r: max(0, int(p[r])) for r in roles} for p in start_from]
        x = max(tried, key=f)  # the first of equals
        first_step = rate / 4
    else:
        x = _start_plan(scenario, start, rate)
        first_step = rate / 2
    best = f(x)
    steps = dict.fromkeys(roles, max(1, round(first_step)))
    while len(seen) < budget:
        improved = False
        for role in roles:
            for sign in (1, -1):
                if len(seen) >= budget:
                    break
                y = dict(x)
                y[role] = max(0, x[role] + sign * steps[role])
                if y[role] == x[role]:
                    continue
                value = f(y)
                if value > best + 1e-9:
                    x, best, improved = y, value, True
                    break
        if not improved:
            if all(v == 1 for v in steps.values()):
                break
            steps = {r: max(1, v // 2) for r, v in steps.items()}
    modes = {spec.role: s.mode for spec, s in zip(scenario.stages, start.stages, strict=True)}
    return Plan(
        scenario.codp,
        {r: x[r] for r in roles if modes[r] == "mts"},
        {r: x[r] for r in roles if modes[r] == "mto"},
        best,
        len(seen),
    )


def reference_starts(scenario: Scenario, seed: int, reference: Mapping[str, Any]) -> dict[str, list[dict[str, int]]]:
    """Per position of ``reference`` (``game.reference.stored``): its plan as stored, and scaled
    to the demand of ``seed`` (levels and capacities times its mean weekly demand over that
    of the reference's training seeds)."""
    cache = scenario.__dict__.setdefault("_train_rates", {})
    train = tuple(reference["train_seeds"])
    if train not in cache:
        cache[train] = sum(_rate(new_game(scenario, s)) for s in train) / len(train) if train else 0.0
    scale = _rate(new_game(scenario, seed)) / cache[train] if cache[train] else 1.0
    out = {}
    for row in reference["positions"]:
        plan = {**row["levels"], **row["capacities"]}
        out[row["position"]] = [plan, {r: round(v * scale) for r, v in plan.items()}]
    return out


def benchmark(
    scenario: Scenario,
    seed: int,
    chosen: str | None = None,
    positions: Sequence[str] | None = None,
    budget: int | None = None,
    chosen_budget: int | None = None,
    reference: Mapping[str, Any] | None = None,
) -> Benchmark:
    """Best plans on the demand of ``seed``: at the team's ``chosen`` position (default:
    the scenario's) and at every other position offered.

    With the scenario's stored ``reference`` (``game.reference.stored``), a position it
    holds starts from its reference plan (``reference_starts``), so no plan found is below
    the reference plan's profit on this demand; budgets default to ``REFERENCE_BUDGET`` and
    ``REFERENCE_CHOSEN_BUDGET`` there, to ``DEFAULT_BUDGET`` and ``CHOSEN_BUDGET`` elsewhere."""
    chosen = chosen or scenario.codp
    others = list(positions) if positions is not None else list(scenario.codp_positions)
    starts = reference_starts(scenario, seed, reference) if reference else {}

    def best(pos: str | None, games: int | None, from_reference: int, from_rate: int) -> Plan:
        scn = apply_codp(scenario, pos) if pos else scenario
        if pos in starts:
            return optimise(scn, seed, from_reference if games is None else games, starts[pos])
        return optimise(scn, seed, from_rate if games is None else games)

    result = Benchmark(best(chosen, chosen_budget, REFERENCE_CHOSEN_BUDGET, CHOSEN_BUDGET))
    for pos in others:
        if pos != chosen:
            result.by_position[pos] = best(pos, budget, REFERENCE_BUDGET, DEFAULT_BUDGET)
    return result


def for_game(scenario: Scenario, state: GameState, **kwargs: Any) -> Benchmark:
    """The benchmark for a team's game: its seed (so its demand) and its current CODP."""
    return benchmark(scenario, state.seed, chosen=state.codp or scenario.codp, **kwargs)
