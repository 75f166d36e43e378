"""The scenario each team plays: a preset with the session's weeks and the team's CODP."""

from __future__ import annotations

from dataclasses import replace
from functools import lru_cache

from game.codp import apply_codp
from game.scenario import Scenario, list_presets, load_scenario


@lru_cache(maxsize=64)
def base_scenario(name: str) -> Scenario:
    """A preset by name (cached: scenarios are immutable)."""
    return load_scenario(name)


@lru_cache(maxsize=256)
def team_scenario(name: str, weeks: int, codp: str | None) -> Scenario:
    """The preset ``name`` with ``weeks`` and, when given, the CODP position ``codp``."""
    scn = base_scenario(name)
    if codp and codp != scn.codp:
        scn = apply_codp(scn, codp)
    if weeks != scn.weeks:
        scn = replace(scn, weeks=weeks)
    return scn


def presets() -> list[str]:
    """Names of the preset scenarios."""
    return list_presets()
