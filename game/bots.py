"""A bot's decision for one seat: what the seat may see, then its policy.

The one place that hands a policy its input, for headless games
(``game.simulate``) and for the server's empty seats alike: the observation
(``game.observe.observe``) and, when the visibility options share something or
a co-makership deal is in force, the seat's ``game.visibility.view``, so a bot sees exactly what a player in
that seat would see.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from game.comaker import in_force
from game.observe import observe
from game.policies import Policy
from game.scenario import Scenario
from game.state import GameState
from game.visibility import options, view


def shares_anything(scenario: Scenario, visibility: Mapping[str, Any] | None = None) -> bool:
    """Whether any visibility option is on (the scenario's, overridden by ``visibility``)."""
    return any(options(scenario, visibility).values())


def bot_decision(
    policy: Policy,
    scenario: Scenario,
    state: GameState,
    role: str,
    memory: Mapping[str, Any] | None,
    visibility: Mapping[str, Any] | None = None,
) -> tuple[int, dict[str, Any]]:
    """``policy``'s decision for ``role`` now and its memory for next week."""
    obs = observe(scenario, state, role)
    if not shares_anything(scenario, visibility) and not in_force(scenario):
        return policy.decide(obs, memory)
    return policy.decide(obs, memory, view(scenario, state, role, visibility))
