"""The start of a game: the state at the first decision point, drawn from a scenario and a seed."""

from __future__ import annotations

import random

from game.demand import demand_table, draws
from game.engine import advance
from game.horizon import end_of_game, longest
from game.scenario import Scenario, StageSpec
from game.state import GameState, StageState


def new_game(scenario: Scenario, seed: int = 0, rng: random.Random | None = None) -> GameState:
    """The state at the first decision point (week 1, after its steps 1-4).

    Demand for the longest game the scenario allows is drawn here from ``rng`` (default:
    ``random.Random(seed)``, seeded only when the demand kind draws anything), and the
    last week from the seed (``game.horizon.end_of_game``), so the same scenario and seed
    give the same game."""
    drawless = not draws(scenario)
    if drawless:
        # the same start for every seed: build it once per scenario, hand out copies
        start = scenario.__dict__.get("_start_state")
        if start is not None:
            state = start.copy()
            state.seed = seed
            state.end = end_of_game(scenario, seed)
            return state
    elif rng is None:
        rng = random.Random(seed)
    net = scenario.network
    churns = any(seg.churn for seg in scenario.segments)
    stages = []
    for i, spec in enumerate(net.specs):
        owed = [0] * len(net.customers[i])
        if owed:
            owed[0] = spec.backlog
        open_orders = [[0, spec.backlog, 0, 0.0, None]] if spec.consumer_facing and spec.backlog else []
        stages.append(
            StageState(
                on_hand=spec.on_hand,
                owed=owed,
                order_q=list(spec.orders),
                ship_q=list(spec.shipments),
                mode=spec.mode,
                capacity=_start_capacity(spec),
                wip=0,
                open_orders=open_orders,
                deliveries=[0] * spec.delivery_delay,
                loyalty=[1.0] * len(scenario.segments) if churns and spec.consumer_facing else [],
            )
        )
    state = GameState(0, stages, demand_table(scenario, rng), scenario.codp, seed)  # type: ignore[arg-type]
    state.end = end_of_game(scenario, seed)
    if scenario.jit.late_share:
        state.late = late_table(scenario, rng)  # type: ignore[arg-type]
    if not net.identity:
        state.nodes = stages
        state.stages = []
    state = advance(scenario, state)
    if drawless:
        scenario.__dict__["_start_state"] = state.copy()
    return state


def _start_capacity(spec: StageSpec) -> int:
    """A stage's capacity at the start: its make-to-order capacity, or its make-to-stock
    throughput limit (0: none) while it works to stock."""
    if spec.mode == "mts" and spec.mts_capacity:
        return spec.mts_capacity
    return spec.capacity


def late_table(scenario: Scenario, rng: random.Random) -> list[list[int]]:
    """Per week, the stock points whose delivery arrives a week late (``[jit] late_share``)."""
    net = scenario.network
    roles = set(scenario.jit.stages or scenario.roles)
    points = [i for i, nd in enumerate(net.nodes) if scenario.stages[nd.role].role in roles]
    share = scenario.jit.late_share
    return [[i for i in points if rng.random() < share] for _ in range(longest(scenario))]
