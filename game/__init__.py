"""The pure game: rules, scenarios, scoring and bot policies.

No Flask, no Redis, no clock, no global randomness. State plus decisions in,
new state plus events out.
"""

from game.engine import DecisionError, decision_bounds, decision_kind, quote, step, supply_line
from game.observe import observe
from game.policies import Policy, PolicyError, parse_policy
from game.scenario import Scenario, ScenarioError, list_presets, load_scenario
from game.simulate import GameResult, simulate
from game.start import new_game
from game.state import GameState, StageState

__all__ = [
    "DecisionError",
    "GameResult",
    "GameState",
    "Policy",
    "PolicyError",
    "Scenario",
    "ScenarioError",
    "StageState",
    "decision_bounds",
    "decision_kind",
    "list_presets",
    "load_scenario",
    "new_game",
    "observe",
    "parse_policy",
    "quote",
    "simulate",
    "step",
    "supply_line",
]
