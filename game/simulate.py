"""Play whole games headless: bots and scripted orders, one result per game."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from game.bots import bot_decision
from game.engine import play_week
from game.policies import Policy, parse_policy
from game.sales import SALES_SEAT, bot_promise
from game.scenario import Scenario
from game.start import new_game
from game.state import GameState

DEFAULT_POLICY = "sterman"


@dataclass
class GameResult:
    """A finished (or stopped) game: every week's events and the final state."""

    scenario: Scenario
    seed: int
    weeks: list[dict[str, Any]]
    state: GameState

    def totals(self) -> dict[str, Any]:
        """Cost per role and for the team."""
        per_role = {r: 0.0 for r in self.scenario.roles}
        for w in self.weeks:
            for r, ev in w["roles"].items():
                per_role[r] += ev["cost"]
        return {"cost": per_role, "team_cost": sum(per_role.values())}

    def to_dict(self) -> dict[str, Any]:
        """The JSON shape of ``python -m game simulate``."""
        return {
            "scenario": self.scenario.name,
            "seed": self.seed,
            "codp": self.state.codp,
            "weeks": self.weeks,
            "totals": self.totals(),
        }


def policies_for(scenario: Scenario, spec: str | Policy | Mapping[str, str | Policy] | None) -> dict[str, Policy]:
    """One policy per role from a spec string, a policy, or a role -> spec mapping."""
    if spec is None:
        spec = DEFAULT_POLICY
    if isinstance(spec, str | Policy):
        pol = parse_policy(spec) if isinstance(spec, str) else spec
        return {r: pol for r in scenario.roles}
    out = {r: parse_policy(DEFAULT_POLICY) for r in scenario.roles}
    for role, p in spec.items():
        out[role] = parse_policy(p) if isinstance(p, str) else p
    return out


def simulate(
    scenario: Scenario,
    seed: int = 0,
    policy: str | Policy | Mapping[str, str | Policy] | None = None,
    orders: Mapping[str, Sequence[int]] | None = None,
    weeks: int | None = None,
    visibility: Mapping[str, bool] | None = None,
) -> GameResult:
    """Play a game: roles in ``orders`` follow their script (one decision per week),
    the others their policy (the sales seat, where there is one: its script under
    ``"sales"``, else ``game.sales.bot_promise``). The game ends in the week drawn for ``seed``
    (``game.horizon``), or after ``weeks`` weeks when given;
    ``visibility`` overrides the scenario's sharing options (what the bots see)."""
    if weeks is not None and (weeks != scenario.weeks or scenario.end_window or scenario.end_at):
        scenario = replace(scenario, weeks=weeks, end_window=None, end_at=None)
    pols = policies_for(scenario, policy)
    orders = orders or {}
    state = new_game(scenario, seed)
    memory: dict[str, dict[str, Any]] = {r: {} for r in scenario.roles}
    out: list[dict[str, Any]] = []
    while not state.done:
        w = state.week
        decisions: dict[str, int] = {}
        for role in scenario.roles:
            if role in orders:
                decisions[role] = orders[role][w - 1]
            else:
                pol, mem = pols[role], memory[role]
                decisions[role], memory[role] = bot_decision(pol, scenario, state, role, mem, visibility)
        if scenario.sales is not None:  # the sales seat: its script, else the bots' promise
            decisions[SALES_SEAT] = orders[SALES_SEAT][w - 1] if SALES_SEAT in orders else bot_promise(scenario, state)
        events = play_week(scenario, state, decisions)  # in place: this loop owns ``state``
        out.append({"week": w, "roles": dict(zip(scenario.roles, events, strict=True))})
    return GameResult(scenario, seed, out, state)
