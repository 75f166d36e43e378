"""The CODP trade-off is real for a well-played chain: each preset's winner is the position
whose reference plan (tuned on training seeds, scored on other seeds) earns most, and the
preset's texts say so. Winners are computed here, never hard-coded."""

from __future__ import annotations

import re

import pytest

from game.analysis.reference import BUDGET, reference
from game.scenario import load_scenario

# preset -> nothing: the winner comes from the reference, the claim from the debrief text
CODP_PRESETS = (
    "operational-excellence",
    "decoupling-point",
    "product-leadership",
    "customer-intimacy",
    "engineer-to-order",
)
ALL_PRESETS = (*CODP_PRESETS, "ecommerce", "segments")

# How the debrief texts name each position.
PHRASES = {
    "mts-local": "make and ship to stock",
    "mts-central": "central stock",
    "ato": "assemble-to-order",
    "mto": "make-to-order",
    "eto": "engineer-to-order",
}


def claimed_winner(debrief: str) -> str:
    """The position named in the debrief's clause that says it wins."""
    clauses = [c for c in re.split(r"[.;]", debrief.lower()) if re.search(r"\bwins\b", c)]
    assert len(clauses) == 1, f"expected one clause saying which position wins, got {clauses}"
    named = [p for p, phrase in PHRASES.items() if phrase in clauses[0]]
    assert len(named) == 1, f"the winning clause must name exactly one position: {clauses[0]!r}"
    return named[0]


@pytest.fixture(scope="module")
def references() -> dict:
    # fewer training seeds than the command line's default, the same expert search and 20 test seeds
    return {name: reference(load_scenario(name), train=6, test=20, budget=BUDGET, jobs=2) for name in CODP_PRESETS}


def test_presets_offer_every_position_and_explain_themselves() -> None:
    for name in ALL_PRESETS:
        scn = load_scenario(name)
        assert set(scn.codp_positions) == set(PHRASES), name
        assert scn.codp in scn.codp_positions
        assert scn.debrief and scn.description, name
        assert scn.has_prices, name


@pytest.mark.parametrize("name", CODP_PRESETS)
def test_reference_winner_is_the_preset_default_and_its_debrief_claim(name: str, references: dict) -> None:
    scn = load_scenario(name)
    ref = references[name]
    table = [(r.position, round(r.mean), round(r.se)) for r in ref.rows]
    assert ref.winner.position == claimed_winner(scn.debrief), table
    assert ref.winner.position == scn.codp, "the preset's default position should be the one that wins"
    assert ref.margin_se > 2, (ref.margin_se, table)


def test_every_position_wins_some_preset(references: dict) -> None:
    winners = {name: ref.winner.position for name, ref in references.items()}
    assert set(winners.values()) == set(PHRASES), winners


def test_the_trade_off_has_two_sides(references: dict) -> None:
    """Where make and ship to stock wins, the upstream positions lose customers; where
    engineer-to-order wins, the stocking positions lose the premium, not sales to impatience."""
    ox = {r.position: r.mean for r in references["operational-excellence"].rows}
    assert ox["mts-local"] > max(v for k, v in ox.items() if k != "mts-local")
    eto = {r.position: r.mean for r in references["engineer-to-order"].rows}
    assert eto["eto"] > eto["mto"] and eto["eto"] > eto["mts-local"]


@pytest.mark.parametrize("name", ALL_PRESETS)
def test_stored_reference_plans_are_fresh_and_name_the_preset_winner(name: str) -> None:
    """The debrief replays ``config/reference/<preset>.json``: it must have been tuned on the
    preset's current rules (``python -m game reference --scenario NAME --save`` after a change)."""
    from game.analysis.reference import stored

    scn = load_scenario(name)
    data = stored(scn)
    assert data is not None, f"stale or missing: run python -m game reference --scenario {name} --save"
    assert len(data["train_seeds"]) >= 20 and len(data["test_seeds"]) >= 20
    assert not set(data["train_seeds"]) & set(data["test_seeds"])
    if name in CODP_PRESETS:
        assert data["winner"] == scn.codp
        assert data["margin_se"] is None or data["margin_se"] > 2
