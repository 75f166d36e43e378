"""When the game ends, and who knows it.

A scenario's game ends after a week drawn from its ``end_window`` (default: after
``weeks``), once per seed, so every team of a session (one seed) ends in the same
week and a replay with the same seed ends where the game did. The draw uses its own
``random.Random`` seeded from the seed alone: it takes nothing from the demand's
stream. Unless ``end_known`` is set (or a facilitator reveals it), players are not
told the last week, as Sterman's were not; what they see is built by
``game.visibility`` with ``horizon``.
"""

from __future__ import annotations

import math
import random
from dataclasses import replace
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from game.scenario import Scenario
    from game.state import GameState

MAX_WEEKS = 520  # the longest game, ``end_window`` included


def window(scenario: Scenario) -> tuple[int, int]:
    """The first and the last week the game may end in."""
    return scenario.end_window or (scenario.weeks, scenario.weeks)


def longest(scenario: Scenario) -> int:
    """The most weeks a game of ``scenario`` can last (demand is drawn for that many)."""
    return max(window(scenario)[1], scenario.end_at or 0)


def end_of_game(scenario: Scenario, seed: int) -> int:
    """The last week of the game played with ``seed``: ``end_at`` when set, else drawn
    uniformly from the window (the same for every position and team of a session)."""
    if scenario.end_at is not None:
        return scenario.end_at
    first, last = window(scenario)
    if first == last:
        return last
    return random.Random(f"end of game {seed}").randint(first, last)


def last_week(scenario: Scenario, state: GameState) -> int:
    """The last week of the game in ``state`` (drawn when the game began)."""
    return state.end or scenario.weeks


def end_known(scenario: Scenario) -> bool:
    """True when the players are told the last week (a plan may then phase out)."""
    return scenario.end_known


def horizon(scenario: Scenario, state: GameState, known: bool | None = None) -> dict[str, Any]:
    """The part of a view about the end: ``{"end_known": True, "weeks": last week}`` when the
    players know it (``known``: a session's setting, default the scenario's), else only
    ``{"end_known": False}``: no last week and nothing derived from it."""
    if known is None:
        known = scenario.end_known
    return told(last_week(scenario, state), known)


def told(last: int, known: bool) -> dict[str, Any]:
    """What a player's payload says of the end: ``{"end_known": True, "weeks": last}`` when
    the players know the last week, else ``{"end_known": False}`` and nothing derived from it."""
    return {"end_known": True, "weeks": last} if known else {"end_known": False}


def with_length(scenario: Scenario, weeks: int, end_window: tuple[int, int] | None = None) -> Scenario:
    """``scenario`` planned for ``weeks`` weeks, ending in ``end_window`` (default: its own
    window scaled with the length, rounded half up: [48, 56] around 52 weeks is [18, 22]
    around 20 and [3, 3] around 3)."""
    if end_window is None and scenario.end_window is not None:
        first, last = scenario.end_window
        end_window = (
            max(1, min(weeks, math.floor(first * weeks / scenario.weeks + 0.5))),
            min(MAX_WEEKS, max(weeks, math.floor(last * weeks / scenario.weeks + 0.5))),
        )
    if weeks == scenario.weeks and end_window == scenario.end_window:
        return scenario
    return replace(scenario, weeks=weeks, end_window=end_window)


def ending_at(scenario: Scenario, week: int) -> Scenario:
    """``scenario`` with its game ending after ``week`` whatever the draw, its demand drawn as
    before (to replay a game that ended at ``week``)."""
    return scenario if scenario.end_at == week else replace(scenario, end_at=week)
