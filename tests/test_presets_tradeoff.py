"""The CODP trade-off is real: played by the bots, different presets crown different positions.

Winners are computed here by simulation (``game.compare``), never hard-coded: the
winner of a preset is the position with the highest profit averaged over the bot
policies, every position playing the same seeds (the same consumer demand).
"""

from __future__ import annotations

import re

import pytest

from game.compare import best_position, compare, position_means
from game.scenario import load_scenario

PRESETS = (
    "decoupling-point",
    "ecommerce",
    "segments",
    "operational-excellence",
    "customer-intimacy",
    "product-leadership",
)
VALUE_STRATEGIES = ("operational-excellence", "customer-intimacy", "product-leadership")
SEEDS = range(4)

# How the debrief texts name each position.
PHRASES = {
    "mts-local": "make and ship to stock",
    "mts-central": "central stock point",
    "ato": "assemble-to-order",
    "mto": "make-to-order",
    "eto": "engineer-to-order",
}


@pytest.fixture(scope="module")
def results() -> dict[str, list[dict]]:
    return {name: compare(load_scenario(name), SEEDS) for name in PRESETS}


def claimed_winner(debrief: str) -> str:
    """The position named in the debrief's clause that says it wins."""
    clauses = [c for c in re.split(r"[.;]", debrief.lower()) if re.search(r"\bwins\b", c)]
    assert len(clauses) == 1, f"expected one clause saying which position wins, got {clauses}"
    named = [p for p, phrase in PHRASES.items() if phrase in clauses[0]]
    assert len(named) == 1, f"the winning clause must name exactly one position: {clauses[0]!r}"
    return named[0]


def test_presets_offer_every_position_and_explain_themselves() -> None:
    for name in PRESETS:
        scn = load_scenario(name)
        assert set(scn.codp_positions) == set(PHRASES), name
        assert scn.codp in scn.codp_positions
        assert scn.debrief and scn.description, name
        assert scn.has_prices, name


def test_at_least_three_positions_win_somewhere(results: dict[str, list[dict]]) -> None:
    winners = {name: best_position(rows) for name, rows in results.items()}
    assert len(set(winners.values())) >= 3, winners


@pytest.mark.parametrize("name", VALUE_STRATEGIES)
def test_value_strategy_winner_is_what_its_debrief_claims(name: str, results: dict[str, list[dict]]) -> None:
    scn = load_scenario(name)
    means = position_means(results[name])
    winner = best_position(results[name])
    assert winner == claimed_winner(scn.debrief), means
    assert winner == scn.codp, "the preset's default position should be the one its debrief recommends"


def test_value_strategies_favour_different_positions(results: dict[str, list[dict]]) -> None:
    winners = [best_position(results[name]) for name in VALUE_STRATEGIES]
    assert len(set(winners)) == len(VALUE_STRATEGIES), winners


@pytest.mark.xfail(
    strict=True,
    reason="with cost-aware base-stock bots, as with the best plan, make-and-ship-to-stock beats the central "
    "stock point in decoupling-point: the preset needs retuning before its debrief is true again",
)
def test_decoupling_point_debrief_matches_its_winner(results: dict[str, list[dict]]) -> None:
    scn = load_scenario("decoupling-point")
    winner = best_position(results["decoupling-point"])
    assert PHRASES[winner] in scn.debrief.lower()


def test_the_trade_off_has_two_sides(results: dict[str, list[dict]]) -> None:
    """Upstream positions hold less stock; downstream ones lose fewer impatient customers."""
    for name in ("decoupling-point", "operational-excellence"):
        by_pos: dict[str, list[dict]] = {}
        for r in results[name]:
            by_pos.setdefault(r["codp"], []).append(r)

        def mean(pos: str, col: str, by_pos: dict[str, list[dict]] = by_pos) -> float:
            return sum(r[col] for r in by_pos[pos]) / len(by_pos[pos])

        assert mean("eto", "holding") < mean("mts-local", "holding"), name
        assert mean("eto", "write_off") < mean("mts-local", "write_off"), name
        assert mean("mts-local", "lost_units") < mean("eto", "lost_units"), name
        assert mean("mts-local", "capacity") < mean("eto", "capacity"), name
