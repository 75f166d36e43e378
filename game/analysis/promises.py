"""The sales seat weighed by the reference: the sales rule its plans play (``pick_rule``) and
the proof table of fixed promises (``promise_table``), each promise with a plan tuned on
training seeds (``game.analysis.plans.tune``) and scored on test seeds."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from game.analysis.plans import play, tune
from game.analysis.stats import paired_difference
from game.sales import with_rule
from game.scenario import Scenario

#: the margins (weeks over the chain's quote) the reference's sales rule tries
MARGINS = (0, 1, 2, 3)
#: the budget of the quick search that picks the sales rule (a stationary plan per rule)
PICK_BUDGET = 40


def rules_offered(scenario: Scenario) -> list[tuple[float, int]]:
    """The sales rules the reference weighs, as (weight, margin): the chain's quote plus
    each of ``MARGINS``, and every fixed promise from 1 week to ``max_promise``."""
    sales = scenario.sales
    assert sales is not None, "the scenario has no sales seat"
    return [(1.0, k) for k in MARGINS] + [(0.0, p) for p in range(1, sales.max_promise + 1)]


def rule_label(weight: float, margin: int) -> str:
    """A sales rule for people: ``quote+1`` or ``promise 4``."""
    return f"quote+{margin}" if weight else f"promise {margin}"


def pick_rule(scenario: Scenario, train: Sequence[int], rules: Sequence[tuple[float, int]] | None = None) -> Scenario:
    """``scenario`` with the sales rule that earns most on ``train`` seeds, each rule with its
    own quickly tuned plan (``game.analysis.plans.tune`` with ``PICK_BUDGET``)."""
    best: tuple[float, Scenario] | None = None
    for weight, margin in rules or rules_offered(scenario):
        scn = with_rule(scenario, margin, weight)
        value = tune(scn, list(train), PICK_BUDGET)[1]
        if best is None or value > best[0]:
            best = (value, scn)
    assert best is not None
    return best[1]


def stored_rule(scenario: Scenario, row: Mapping[str, Any]) -> Scenario:
    """``scenario`` with a stored reference row's sales rule (``sales``: weight and margin),
    as it stands where the row has none."""
    rule = row.get("sales")
    if scenario.sales is None or not rule:
        return scenario
    return with_rule(scenario, int(rule["margin"]), float(rule["weight"]))


@dataclass(frozen=True)
class PromiseRow:
    """A fixed promise, the plan tuned with it on the training seeds and what it earns there
    (``train``) and on each test seed (``profits``)."""

    promise: int
    train: float
    profits: tuple[float, ...]

    @property
    def mean(self) -> float:
        """Mean test profit per game."""
        return sum(self.profits) / len(self.profits)


def promise_table(
    scenario: Scenario, promises: Sequence[int], train: Sequence[int], test: Sequence[int], budget: int
) -> list[PromiseRow]:
    """Each fixed promise in ``promises`` with the plan tuned for it on ``train`` seeds
    (``game.analysis.plans.tune``, ``budget`` plans) and scored on ``test`` seeds."""
    out = []
    for p in promises:
        scn = with_rule(scenario, p, 0.0)
        rules, value, _ = tune(scn, list(train), budget)
        out.append(PromiseRow(p, value, tuple(play(scn, s, rules) for s in test)))
    return out


def best_promise(rows: Sequence[PromiseRow]) -> PromiseRow:
    """The row whose promise earns most on the training seeds (the test seeds stay unseen)."""
    return max(rows, key=lambda r: r.train)


def paired(a: PromiseRow, b: PromiseRow) -> tuple[float, float]:
    """``a``'s mean gain per test game over ``b`` and its paired standard error."""
    return paired_difference(a.profits, b.profits)
