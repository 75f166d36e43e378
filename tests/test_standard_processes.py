"""The proof of a decoupling point per segment, by the reference (plans tuned on training
seeds, scored on unseen seeds, margins in paired standard errors): in the standard-processes
preset two processes beat one, and one standard process per real need beats one process
per segment. The winners are computed here, never hard-coded."""

from __future__ import annotations

from dataclasses import replace

import pytest

from game.analysis.compare import compare
from game.analysis.reference import Reference, Row, reference_row, seeds
from game.codp import POSITIONS, choices_for, process_options
from game.scenario import load_scenario

TRAIN, TEST, BUDGET = 6, 20, 30


@pytest.fixture(scope="module")
def rows() -> dict[str, Row]:
    scn = load_scenario("standard-processes")
    train, test = seeds(TRAIN, TEST)
    return {c: reference_row(scn, c, train, test, BUDGET) for c in choices_for(scn)}


def _margin(a: Row, b: Row) -> float:
    """``a``'s lead over ``b`` in standard errors of the paired per-seed difference."""
    return Reference("standard-processes", (), (), [a, b]).margin_se


def test_the_options_are_two_standard_processes_and_one_per_segment() -> None:
    options = process_options(load_scenario("standard-processes"))
    assert len(set(options["per-need"].values())) == 2
    assert len(set(options["per-segment"].values())) > 2


def test_two_processes_beat_one(rows: dict[str, Row]) -> None:
    single = max((r for c, r in rows.items() if c in POSITIONS), key=lambda r: r.mean)
    best = max(rows.values(), key=lambda r: r.mean)
    assert best.position == "per-need"
    assert _margin(best, single) > 2, (best.mean, single.position, single.mean)


def test_a_few_standard_processes_beat_one_per_segment(rows: dict[str, Row]) -> None:
    assert rows["per-need"].mean > rows["per-segment"].mean
    assert _margin(rows["per-need"], rows["per-segment"]) > 2


def test_one_per_segment_loses_to_complexity_and_to_pooling(rows: dict[str, Row]) -> None:
    """Without the complexity cost one process per segment still loses (its processes split
    the stock over more stages and run each segment at the edge of its patience), by less:
    the process cost is part of the lesson, not all of it."""
    scn = replace(load_scenario("standard-processes"), process_cost=0.0)
    train, test = seeds(TRAIN, TEST)
    free = {c: reference_row(scn, c, train, test, BUDGET) for c in ("per-segment", "per-need")}
    gap_free = free["per-need"].mean - free["per-segment"].mean
    gap = rows["per-need"].mean - rows["per-segment"].mean
    assert _margin(free["per-need"], free["per-segment"]) > 2
    assert gap_free < gap, (gap_free, gap)


@pytest.mark.parametrize("policy", ["base_stock", "sterman"])
def test_the_bots_play_two_processes_sensibly(policy: str) -> None:
    """Bots in every seat (empty seats, ``compare``) earn more with one process per real need
    than at the best single position, on the same demand."""
    scn = load_scenario("standard-processes")
    rows = compare(scn, range(3), [policy], ["mts-local", "per-need"])
    profit = {r["codp"]: r["profit"] for r in rows}
    assert profit["per-need"] > profit["mts-local"] * 1.2, profit
