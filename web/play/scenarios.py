"""The scenario each team plays: a preset (or the session's own scenario, kept as TOML text
with the session) with the session's weeks and the team's CODP."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from game.codp import apply_choice, apply_shop, describe_processes, positions_for, process_options, shop_mode
from game.comaker import apply_comaker, in_force, offered
from game.horizon import window, with_length
from game.jsonsafe import jsonsafe
from game.review import describe_position
from game.scenario import Scenario, list_presets, load_scenario, scenario_from_toml
from web.store.records import Team


@lru_cache(maxsize=64)
def base_scenario(name: str) -> Scenario:
    """A preset by name (cached: scenarios are immutable)."""
    return load_scenario(name)


@lru_cache(maxsize=64)
def custom_base(text: str) -> Scenario:
    """A session's own scenario from its TOML text (validated when the session was created)."""
    return scenario_from_toml(text, "scenario")


@lru_cache(maxsize=256)
def team_scenario(
    name: str,
    weeks: int,
    codp: str | None,
    custom: str | None = None,
    shop: str | None = None,
    end_window: tuple[int, int] | None = None,
    deal: bool | None = None,
) -> Scenario:
    """The preset ``name`` (or the scenario in the TOML text ``custom``) with ``weeks`` (and
    the weeks it may end in, ``end_window``: default its own moved along with ``weeks``; see
    ``game.horizon.with_length``) and, when given, the CODP position ``codp`` (or the team's
    processes per segment: ``game.codp.apply_choice``), the web shop's mode ``shop`` and the
    co-makership deal (``deal``: in force or not; None: as the scenario has it)."""
    scn = custom_base(custom) if custom else base_scenario(name)
    if codp and codp != scn.codp:
        scn = apply_choice(scn, codp)
    if shop and shop != shop_mode(scn):
        scn = apply_shop(scn, shop)
    if deal is not None and offered(scn):
        scn = apply_comaker(scn, deal)
    return with_length(scn, weeks, end_window)


def presets() -> list[str]:
    """Names of the preset scenarios."""
    return list_presets()


def summary(scn: Scenario, texts: dict[str, Any]) -> dict[str, Any]:
    """What the set-up form shows of a scenario (``texts``: ``web.i18n.scenario_texts``)."""
    return {
        "name": scn.name,
        "title": texts["title"],
        "description": texts["description"],
        "weeks": scn.weeks,
        "end_window": list(window(scn)),
        "end_known": scn.end_known,
        "roles": list(scn.roles),
        "labels": texts["labels"],
        "codp": scn.codp,
        "codp_positions": list(scn.codp_positions) or positions_for(scn),
        "positions": positions(scn),
        "shop": shop_mode(scn),
        "visibility": dict(scn.visibility),
        "has_prices": scn.has_prices,
    }


_POSITIONS: dict[int, tuple[Scenario, list[dict[str, Any]]]] = {}


def positions(scn: Scenario) -> list[dict[str, Any]]:
    """``game.review.describe_position`` of each of the scenario's positions, as a game would
    begin there (computed once per scenario object: the presets are cached)."""
    hit = _POSITIONS.get(id(scn))
    if hit is not None and hit[0] is scn:
        return hit[1]
    out = [jsonsafe(describe_position(scn, None, p)) for p in list(scn.codp_positions) or positions_for(scn)]
    out += [describe_processes(scn, option) for option in process_options(scn)]
    if len(_POSITIONS) >= 64:
        _POSITIONS.clear()
    _POSITIONS[id(scn)] = (scn, out)  # the entry holds the scenario: its id is not reused meanwhile
    return out


def week_strategy(team: Team, scn: Scenario) -> dict[str, Any]:
    """What a week's record says of the team's strategy that week: its CODP position
    (``codp``) and its web shop's mode (``shop``, null without one); where a segment can
    co-make, ``deal``: whether the co-makership deal was in force."""
    out: dict[str, Any] = {"codp": team.codp, "shop": shop_mode(scn)}
    if offered(scn):
        out["deal"] = in_force(scn)
    return out
