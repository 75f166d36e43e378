"""Best-plan benchmark for the debrief: what the best plan would have earned.

Given the consumer demand a team actually faced (the scenario and its seed: the
demand table is drawn from the seed), search for the best plan of the reference's plan
family (``game.analysis.plans``: order-up-to levels and capacities that may follow a smoothed
forecast of what the stage sees, and a phase-out where the end is known) for a CODP
position. Doing this for every position answers "what would the best plan have earned at
our decoupling point" and "what would another decoupling point have earned".

With the preset's stored reference plans (``game.analysis.reference``), a position's search starts
from its reference plan, as stored and scaled to the demand faced, whichever earns more,
and moves its levels and phase-out on the team's demand (a small budget: the debrief waits
for it). Without them it searches a stationary plan (a fixed level or capacity per role)
from a rate-based plan, with a larger budget. It plays the real engine, so every rule
(segments, lost sales, capacity queues, write-off) is in the figure. It is a good plan, not
a proven optimum.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from game.analysis.plans import (
    Objective,
    Rule,
    coordinates,
    mean_rate,
    pattern_search,
    play,
    rate_plan,
    rates,
    stationary,
)
from game.codp import apply_choice
from game.policies import Policy
from game.scenario import Scenario
from game.start import new_game
from game.state import GameState

DEFAULT_BUDGET = 16  # games per position, from the rate-based start
CHOSEN_BUDGET = 26  # games for the team's own position, from the rate-based start
REFERENCE_BUDGET = 8  # games per position, from its stored reference plan
REFERENCE_CHOSEN_BUDGET = 16  # games for the team's own position, from its stored reference plan


@dataclass(frozen=True)
class Plan:
    """A plan at one CODP position and what it earns on the given demand.

    ``levels`` and ``capacities`` are its order-up-to levels and capacities at the rate the
    chain was set up with (a stationary plan's fixed ones); ``rules`` the whole plan
    (``game.analysis.plans.Rule`` per role), empty for a stationary plan."""

    position: str | None
    levels: dict[str, int]  # make-to-stock stages: base-stock level
    capacities: dict[str, int]  # make-to-order stages: capacity per week
    profit: float
    games: int = 0
    rules: dict[str, Rule] = field(default_factory=dict)

    @classmethod
    def of(cls, scenario: Scenario, rules: Mapping[str, Rule], profit: float, games: int) -> Plan:
        """The plan ``rules`` for ``scenario`` as it stands (its stage modes)."""
        modes = {spec.role: spec.mode for spec in scenario.stages}
        rules = {r: Rule(x.level, stop=x.stop, ramp=x.ramp) if x.stationary else x for r, x in rules.items()}
        values = {r: round(rule.level) for r, rule in rules.items()}
        stat = all(rule.stationary and not (rule.stop or rule.ramp) for rule in rules.values())
        return cls(
            scenario.codp,
            {r: v for r, v in values.items() if modes[r] == "mts"},
            {r: v for r, v in values.items() if modes[r] == "mto"},
            profit,
            games,
            {} if stat and all(rule.level == values[r] for r, rule in rules.items()) else dict(rules),
        )

    def plan_rules(self) -> dict[str, Rule]:
        """Every role's rule (fixed levels and capacities for a stationary plan)."""
        return dict(self.rules) if self.rules else stationary({**self.levels, **self.capacities})

    def policies(self) -> dict[str, Policy]:
        """A stationary plan as bot policies, for ``simulate(policy=...)``."""
        if self.rules:
            raise ValueError("only a stationary plan plays as base-stock bots")
        out = {r: Policy("base_stock", {"level": float(v)}) for r, v in self.levels.items()}
        out.update({r: Policy("base_stock", {"capacity": float(v)}) for r, v in self.capacities.items()})
        return out

    def rules_dict(self, scenario: Scenario) -> dict[str, dict[str, Any]]:
        """Every role's rule in its stored form (``Rule.to_dict``)."""
        start = rates(scenario)
        modes = {**dict.fromkeys(self.levels, "mts"), **dict.fromkeys(self.capacities, "mto")}
        return {r: rule.to_dict(modes[r], start[r]) for r, rule in self.plan_rules().items()}

    def to_dict(self) -> dict[str, Any]:
        """JSON-compatible form (the rules as fields, for people; ``rules_dict`` stores them)."""
        out: dict[str, Any] = {
            "position": self.position,
            "levels": dict(self.levels),
            "capacities": dict(self.capacities),
            "profit": round(self.profit, 2),
        }
        if self.rules:
            out["rules"] = {
                r: {"level": round(x.level, 2), "alpha": x.alpha, "cover": x.cover, "stop": x.stop, "ramp": x.ramp}
                for r, x in self.rules.items()
            }
        return out


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


def play_plan(scenario: Scenario, seed: int, plan: Mapping[str, int], start: GameState | None = None) -> float:
    """Profit (revenue - cost) of one game in which every stage follows the stationary ``plan``:
    make-to-stock stages order up to ``plan[role]`` (their inventory position: on hand -
    backlog + supply line); make-to-order stages run at capacity ``plan[role]``. ``start``
    (the game's first decision point) is copied, never changed."""
    return play(scenario, seed, stationary(plan), start)


def _modes(scenario: Scenario, state: GameState) -> dict[str, str]:
    return {spec.role: s.mode for spec, s in zip(scenario.stages, state.stages, strict=True)}


def optimise(
    scenario: Scenario,
    seed: int | Sequence[int],
    budget: int = DEFAULT_BUDGET,
    start_from: Sequence[Mapping[str, int]] = (),
) -> Plan:
    """The best stationary plan found for ``scenario`` as it stands (its stage modes), on the
    demand of one seed or the mean over several (``profit`` is then the mean).

    The search (``game.analysis.plans.pattern_search`` over the levels and capacities) starts from the
    best of the plans in ``start_from`` (a value per role), with first steps of a quarter of
    the weekly demand; without any, from a rate-based plan with steps of half the weekly
    demand."""
    f = Objective(scenario, [seed] if isinstance(seed, int) else list(seed))
    modes = _modes(scenario, f.starts[0])
    rate = mean_rate(f.starts)
    if start_from:
        tried = [stationary({r: max(0, int(p[r])) for r in scenario.roles}) for p in start_from]
        x, step = max(tried, key=f), rate / 4  # the first of equals
    else:
        x, step = rate_plan(scenario, modes, rate), rate / 2
    x, best = pattern_search(f, x, coordinates(scenario, modes, ("level",), step, rate), budget - len(f.seen))
    return Plan.of(scenario, x, best, len(f.seen))


def improve(scenario: Scenario, seed: int, budget: int, starts: Sequence[Mapping[str, Rule]]) -> Plan:
    """The best plan found on the demand of ``seed`` from the best of ``starts`` (plans of the
    family, a rule per role): its levels and phase-out moved, steps of an eighth of the
    weekly demand first."""
    f = Objective(scenario, [seed])
    modes = _modes(scenario, f.starts[0])
    rate = mean_rate(f.starts)
    x = max((dict(s) for s in starts), key=f)
    coords = coordinates(scenario, modes, ("level", "stop"), rate / 8, rate)
    x, best = pattern_search(f, x, coords, budget - len(f.seen))
    return Plan.of(scenario, x, best, len(f.seen))


def stored_rules(scenario: Scenario, row: Mapping[str, Any]) -> dict[str, Rule]:
    """A stored reference row's plan (``game.analysis.reference``) as rules: its ``rules`` where it has
    them, else its fixed levels and capacities."""
    if not row.get("rules"):
        return stationary({**row["levels"], **row["capacities"]})
    start = rates(scenario)
    return {r: Rule.from_dict(d, start[r]) for r, d in row["rules"].items()}


def reference_starts(scenario: Scenario, seed: int, reference: Mapping[str, Any]) -> dict[str, list[dict[str, Rule]]]:
    """Per position of ``reference`` (``game.analysis.reference.stored``): its plan as stored, and scaled
    to the demand of ``seed`` (levels and capacities at the initial rate times its mean weekly
    demand over that of the reference's training seeds)."""
    cache = scenario.__dict__.setdefault("_train_rates", {})
    train = tuple(reference["train_seeds"])
    if train not in cache:
        cache[train] = mean_rate([new_game(scenario, s) for s in train]) if train else 0.0
    scale = mean_rate([new_game(scenario, seed)]) / cache[train] if cache[train] else 1.0
    out = {}
    for row in reference["positions"]:
        plan = stored_rules(apply_choice(scenario, row["position"]), row)
        scaled = {r: replace(rule, level=float(round(rule.level * scale))) for r, rule in plan.items()}
        out[row["position"]] = [plan, scaled]
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

    With the scenario's stored ``reference`` (``game.analysis.reference.stored``), a position it
    holds starts from its reference plan (``reference_starts``), so no plan found is below
    the reference plan's profit on this demand; budgets default to ``REFERENCE_BUDGET`` and
    ``REFERENCE_CHOSEN_BUDGET`` there, to ``DEFAULT_BUDGET`` and ``CHOSEN_BUDGET`` elsewhere."""
    chosen = chosen or scenario.codp
    others = list(positions) if positions is not None else list(scenario.codp_positions)
    starts = reference_starts(scenario, seed, reference) if reference else {}

    def best(pos: str | None, games: int | None, from_reference: int, from_rate: int) -> Plan:
        # the team's own choice as it plays it: a position, or its processes per segment
        scn = scenario if not pos or (pos == chosen and scenario.lanes) else apply_choice(scenario, pos)
        if pos in starts:
            return improve(scn, seed, from_reference if games is None else games, starts[pos])
        return optimise(scn, seed, from_rate if games is None else games)

    own = best(chosen, chosen_budget, REFERENCE_CHOSEN_BUDGET, CHOSEN_BUDGET)
    result = Benchmark(replace(own, position=chosen))  # named as the team chose (a process option too)
    for pos in others:
        if pos != chosen:
            result.by_position[pos] = best(pos, budget, REFERENCE_BUDGET, DEFAULT_BUDGET)
    return result
