"""The reference plan per CODP position: what a well-played chain earns there.

For each position a scenario offers, the best plan of an expert's plan family
(``game.analysis.plans``: for every make-to-stock role an order-up-to level, for every make-to-order
role a capacity, each following a smoothed forecast of what the stage sees or fixed, with a
phase-out where the end of the game is known) is searched on *training* seeds with
``game.analysis.plans.tune`` (several starts) and then scored on a disjoint set of *test* seeds, so
the figure is out of sample: mean profit per game and its standard error. The winner is the
position with the highest test mean; its margin over the runner-up is given in standard
errors of the paired per-seed differences (the positions play the same test demand).

This, not how the bots happen to play, is what says which position a preset favours.
"""

from __future__ import annotations

import csv
import hashlib
import json
import math
import multiprocessing
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, TextIO

from game.analysis.bestplan import Plan, stored_rules
from game.analysis.plans import play, tune
from game.analysis.promises import pick_rule, rule_label, stored_rule
from game.analysis.stats import paired_difference
from game.codp import apply_choice, apply_codp, choices_for
from game.comaker import apply_comaker
from game.jsonsafe import jsonsafe
from game.scenario import Scenario

TRAIN_SEEDS = 20
TEST_SEEDS = 20
BUDGET = 180  # plans tried per position
TEST_OFFSET = 10_000  # test seeds start here, so they never meet the training seeds


@dataclass(frozen=True)
class Row:
    """One position's reference plan and its out-of-sample result."""

    position: str
    plan: Plan
    train_profit: float
    profits: tuple[float, ...]  # per test seed
    rules: dict[str, dict[str, Any]] = field(default_factory=dict)  # the plan's rules, stored form
    sales: dict[str, float] | None = None  # the sales seat's rule (``game.sales``): weight, margin

    @property
    def mean(self) -> float:
        """Mean test profit per game."""
        return sum(self.profits) / len(self.profits)

    @property
    def se(self) -> float:
        """Standard error of the mean test profit."""
        n = len(self.profits)
        if n < 2:
            return 0.0
        m = self.mean
        return math.sqrt(sum((p - m) ** 2 for p in self.profits) / (n - 1) / n)

    def to_dict(self) -> dict[str, Any]:
        """JSON-compatible form."""
        return {
            "position": self.position,
            "levels": dict(self.plan.levels),
            "capacities": dict(self.plan.capacities),
            **({"rules": self.rules} if self.rules else {}),
            **({"sales": self.sales} if self.sales else {}),
            "train_profit": round(self.train_profit, 2),
            "test_profit": round(self.mean, 2),
            "test_se": round(self.se, 2),
        }


@dataclass
class Reference:
    """Every offered position's reference row, best first."""

    scenario: str
    train: tuple[int, ...]
    test: tuple[int, ...]
    rows: list[Row] = field(default_factory=list)

    @property
    def winner(self) -> Row:
        """The position with the highest mean test profit."""
        return self.rows[0]

    @property
    def margin_se(self) -> float:
        """The winner's lead over the runner-up in standard errors of the paired difference
        (``inf`` when the difference never varies, 0 with one position)."""
        if len(self.rows) < 2:
            return 0.0
        mean, se = paired_difference(self.rows[0].profits, self.rows[1].profits)
        return mean / se if se > 0 else math.inf

    def to_dict(self) -> dict[str, Any]:
        """JSON-compatible form."""
        margin = self.margin_se
        return {
            "scenario": self.scenario,
            "train_seeds": list(self.train),
            "test_seeds": list(self.test),
            "winner": self.winner.position,
            "margin_se": None if math.isinf(margin) else round(margin, 2),
            "positions": [r.to_dict() for r in self.rows],
        }


def seeds(train: int = TRAIN_SEEDS, test: int = TEST_SEEDS, offset: int = 0) -> tuple[list[int], list[int]]:
    """Disjoint training and test seeds (``offset`` moves both, for a fresh draw)."""
    return list(range(offset, offset + train)), list(range(TEST_OFFSET + offset, TEST_OFFSET + offset + test))


def reference_row(
    scenario: Scenario, position: str, train: Sequence[int], test: Sequence[int], budget: int = BUDGET
) -> Row:
    """Tune a plan at ``position`` on ``train`` seeds and score it on ``test``; with a sales
    seat, first its rule (``game.analysis.promises.pick_rule``), then the plan with that rule."""
    scn = apply_choice(scenario, position)
    if scn.sales is not None:
        scn = pick_rule(scn, train)
    rules, value, games = tune(scn, list(train), budget)
    plan = Plan.of(scn, rules, value, games)
    profits = tuple(play(scn, s, rules) for s in test)
    sales = {"weight": scn.sales.weight, "margin": scn.sales.margin} if scn.sales else None
    return Row(position, plan, value, profits, plan.rules_dict(scn), sales)


def reference(
    scenario: Scenario,
    train: int = TRAIN_SEEDS,
    test: int = TEST_SEEDS,
    budget: int = BUDGET,
    positions: Sequence[str] | None = None,
    offset: int = 0,
    jobs: int = 1,
) -> Reference:
    """The reference table of ``scenario``: every offered position, best first. ``jobs`` > 1
    tunes that many positions at a time in worker processes (the same results)."""
    tr, te = seeds(train, test, offset)
    offered = list(positions or choices_for(scenario))
    if jobs > 1 and len(offered) > 1:
        context = multiprocessing.get_context("fork")
        with ProcessPoolExecutor(min(jobs, len(offered)), mp_context=context) as pool:
            rows = list(pool.map(reference_row, *zip(*((scenario, p, tr, te, budget) for p in offered), strict=True)))
    else:
        rows = [reference_row(scenario, p, tr, te, budget) for p in offered]
    rows.sort(key=lambda r: -r.mean)
    return Reference(scenario.name, tuple(tr), tuple(te), rows)


def describe(row: dict[str, Any]) -> str:
    """A stored row's plan for people: per role its level or capacity (``cover·F+safety`` where
    it follows its forecast F, smoothed with weight a) and its phase-out (weeks without orders,
    then weeks of ramp before them)."""
    parts = []
    for role, value in {**row["levels"], **row["capacities"]}.items():
        rule = row.get("rules", {}).get(role)
        text = f"{role} {value}"
        if rule:
            cover = rule.get("cover", rule.get("factor", 0.0))
            safety = rule.get("safety", rule.get("margin", 0.0))
            if rule["alpha"] and cover:
                text = f"{role} {cover:g}·F{safety:+.0f} (a {rule['alpha']:g})"
            if rule["stop"] or rule["ramp"]:
                text += f" stop {rule['stop']}" + (f" ramp {rule['ramp']}" if rule["ramp"] else "")
        parts.append(text)
    if row.get("sales"):
        parts.append(f"sales {rule_label(row['sales']['weight'], int(row['sales']['margin']))}")
    return ", ".join(parts)


def write_reference(ref: Reference, fmt: str, out: TextIO) -> None:
    """Print ``ref`` as a table (for people), JSON or CSV."""
    if fmt == "json":
        out.write(json.dumps(jsonsafe(ref.to_dict()), indent=2, allow_nan=False) + "\n")
        return
    rows = [r.to_dict() for r in ref.rows]
    if fmt == "csv":
        w = csv.writer(out, lineterminator="\n")
        w.writerow(["position", "test_profit", "test_se", "train_profit", "levels", "capacities", "rules"])
        for r in rows:
            w.writerow(
                [
                    r["position"],
                    r["test_profit"],
                    r["test_se"],
                    r["train_profit"],
                    json.dumps(r["levels"], sort_keys=True),
                    json.dumps(r["capacities"], sort_keys=True),
                    json.dumps(r.get("rules", {}), sort_keys=True),
                ]
            )
        return
    out.write(
        f"{ref.scenario}: reference plans tuned on {len(ref.train)} seeds, scored on {len(ref.test)} other seeds\n"
    )
    out.write(f"{'position':<12} {'test profit':>12} {'± se':>8} {'train':>10}  plan\n")
    for r in rows:
        plan = describe(r)
        money = f"{r['test_profit']:>12,.0f} {r['test_se']:>8,.0f} {r['train_profit']:>10,.0f}"
        out.write(f"{r['position']:<12} {money}  {plan}\n")
    margin = ref.margin_se
    lead = "always" if math.isinf(margin) else f"{margin:.1f} standard errors"
    out.write(
        f"winner: {ref.winner.position}, ahead of {ref.rows[1].position if len(ref.rows) > 1 else '-'} by {lead}\n"
    )


# ----------------------------------------------------------------------------
# Stored reference plans (for the debrief: replayed on a team's own demand)
# ----------------------------------------------------------------------------

PLANS_DIR = Path(__file__).resolve().parents[2] / "config" / "reference"


def fingerprint(scenario: Scenario) -> str:
    """A hash of everything in ``scenario`` that changes how it plays (its texts left out), so
    that stored plans of an edited scenario are known to be stale."""
    bare = replace(scenario, title="", description="", debrief="", texts={}, drivers=())
    # the per-segment processes' keys count where they are set (stored plans of other presets stay valid)
    processes = (scenario.max_processes, scenario.process_cost, scenario.lanes)
    extra = repr(processes) if processes != (1, 0.0, ()) else ""
    if scenario.sales is not None:  # the sales seat's keys, where it is enabled
        extra += repr(scenario.sales)
    return hashlib.sha256((repr(bare) + extra).encode()).hexdigest()[:16]


def save(ref: Reference, scenario: Scenario, directory: Path = PLANS_DIR) -> Path:
    """Write ``ref``'s plans and table to ``<directory>/<scenario name>.json``."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{scenario.name}.json"
    data = {"fingerprint": fingerprint(scenario), **ref.to_dict()}
    path.write_text(json.dumps(jsonsafe(data), indent=2, allow_nan=False) + "\n", encoding="utf-8")
    return path


def stored(scenario: Scenario, directory: Path = PLANS_DIR) -> dict[str, Any] | None:
    """The stored reference of ``scenario`` (None when there is none or it is stale)."""
    path = directory / f"{scenario.name}.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if data.get("fingerprint") != fingerprint(scenario):
        return None
    return data


def replay(scenario: Scenario, seed: int, data: dict[str, Any]) -> dict[str, float]:
    """Profit of every stored position's reference plan on the demand of ``seed``."""
    out: dict[str, float] = {}
    for row in data["positions"]:
        scn = stored_rule(apply_choice(scenario, row["position"]), row)
        out[row["position"]] = play(scn, seed, stored_rules(scn, row))
    return out


def verdict(scenario: Scenario, directory: Path = PLANS_DIR) -> dict[str, Any] | None:
    """What the stored reference of ``scenario`` says wins: ``{"winner", "runner_up",
    "margin_se", "test_profit": {position: mean}, "train_seeds", "test_seeds"}`` (counts of
    seeds), or None when no reference is stored for the scenario as it is."""
    data = stored(scenario, directory)
    if data is None:
        return None
    rows = sorted(data["positions"], key=lambda r: -r["test_profit"])
    return {
        "winner": data["winner"],
        "runner_up": rows[1]["position"] if len(rows) > 1 else None,
        "margin_se": data["margin_se"],
        "test_profit": {r["position"]: r["test_profit"] for r in rows},
        "train_seeds": len(data["train_seeds"]),
        "test_seeds": len(data["test_seeds"]),
    }


def verdict_line(scenario: Scenario, found: dict[str, Any] | None) -> str:
    """One line for people: the reference winner and its margin, or how to compute it."""
    if found is None:
        return (
            f"reference winner: none stored for {scenario.name} as it is "
            f"(python -m game reference --scenario {scenario.name} computes it)"
        )
    margin = found["margin_se"]
    lead = "always" if margin is None else f"{margin:.1f} standard errors"
    ahead = f", ahead of {found['runner_up']} by {lead}" if found["runner_up"] else ""
    return (
        f"reference winner: {found['winner']}{ahead} (expert plans tuned on {found['train_seeds']} seeds, "
        f"scored on {found['test_seeds']} others: python -m game reference)"
    )


def deal_reference(
    scenario: Scenario, train: int = 20, test: int = 20, budget: int | None = None, offset: int = 0
) -> Reference:
    """The reference table of the deal: the expert's best plan (``game.analysis.plans``) without the deal
    and with it (at every decoupling point the scenario offers, else as it stands), each tuned
    on ``train`` seeds and scored on ``test`` other seeds (``reference``), best first. A
    row's ``position`` names the choice: ``"no deal"``, ``"deal"``, or ``"mts-central, deal"``."""
    tr, te = seeds(train, test, offset)
    rows = []
    for position in scenario.codp_positions or (None,):
        scn = apply_codp(scenario, position) if position else scenario
        for deal in (False, True):
            played = apply_comaker(scn, deal)
            rules, value, games = tune(played, tr, budget or BUDGET)
            plan = Plan.of(played, rules, value, games)
            profits = tuple(play(played, s, rules) for s in te)
            label = "deal" if deal else "no deal"
            name = f"{position}, {label}" if position else label
            rows.append(Row(name, plan, value, profits, plan.rules_dict(played)))
    rows.sort(key=lambda r: -r.mean)
    return Reference(scenario.name, tuple(tr), tuple(te), rows)


def paired_gain(ref: Reference, position: str | None = None) -> tuple[float, float]:
    """The deal's mean gain per game over no deal in ``deal_reference``'s ``ref`` (at
    ``position``, else the scenario as it stands or its one position) and its paired standard
    error over the test seeds."""
    by = {r.position.removeprefix(f"{position}, " if position else ""): r.profits for r in ref.rows}
    if position is None and len(ref.rows) == 2:
        by = {r.position.rpartition(", ")[2]: r.profits for r in ref.rows}
    return paired_difference(by["deal"], by["no deal"])
