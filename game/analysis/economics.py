"""A preset's unit economics: what a unit costs and is worth, and what the chain earns a week
in steady state at the scenario's own decoupling point (the table in docs/SCENARIOS.md).

Steady state here is mean demand, every customer who accepts the position's lead time served
at once, the week's capacity and holding costs as they are at the start of the game."""

from __future__ import annotations

import math
from typing import Any

from game.codp import customisable, lead_time
from game.scenario import Demand, Scenario
from game.start import new_game


def mean_demand(demand: Demand, weeks: int) -> float:
    """The expected consumer demand per week over ``weeks`` weeks (the life cycle's bell at
    its expected peak; a season averages out over its period)."""
    if demand.kind in ("normal", "poisson"):
        base = demand.mean
    elif demand.kind == "uniform":
        base = (demand.low + demand.high) / 2
    elif demand.kind == "constant":
        base = demand.base
    elif demand.kind == "step":
        base = (demand.base * (demand.step_week - 1) + demand.after * (weeks - demand.step_week + 1)) / weeks
    else:
        series = [demand.series[min(w, len(demand.series)) - 1] for w in range(1, weeks + 1)]
        base = sum(series) / weeks
    if demand.life_cycle == "bell":
        bell = [math.exp(-0.5 * ((w - demand.peak_week) / demand.life_width) ** 2) for w in range(1, weeks + 1)]
        base *= sum(bell) / weeks
    return base


def steady_state(scenario: Scenario) -> dict[str, Any]:
    """Per week at the scenario's own position: demand, the customers served (those who accept
    the position's ``lead_time``), revenue, material (unit cost of the units sold),
    fulfilment, capacity and holding cost (those of the first week), and the margin left."""
    state = new_game(scenario, 0)
    modes = {s.role: s.mode for s in scenario.stages}
    custom = customisable(scenario, modes)
    d = mean_demand(scenario.demand, scenario.weeks)
    served = revenue = fulfilment = 0.0
    for spec in scenario.stages:
        if not spec.consumer_facing:
            continue
        lead = lead_time(scenario, spec.role)
        for seg in scenario.segments:
            units = d * spec.market_share * seg.share * seg.willing(lead)
            served += units
            revenue += units * (seg.price + (seg.premium if seg.customised and custom else 0.0))
            fulfilment += units * spec.fulfilment_cost
    material = served * scenario.unit_cost
    capacity = sum(ev["capacity_cost"] for ev in state.events)
    holding = sum(ev["holding_cost"] for ev in state.events)
    return {
        "demand": d,
        "served": served,
        "price": revenue / served if served else 0.0,
        "revenue": revenue,
        "material": material,
        "fulfilment": fulfilment,
        "capacity": capacity,
        "holding": holding,
        "margin": revenue - material - fulfilment - capacity - holding,
    }


ROW = "{:<24} {:<12} {:>5} {:<24} {:>6} {:>7} {:>6} {:>9} {:>9} {:>7} {:>7}"
HEADER = ROW.format(
    "preset", "position", "cost", "unit values", "price", "served", "demand", "rev-mat", "capacity", "holding", "margin"
)


def economics_row(scenario: Scenario) -> str:
    """One line of ``economics_table``: the unit cost, the unit values from the top of the
    chain down, the price per unit served and the steady-state week at the preset's position."""
    s = steady_state(scenario)
    values = "/".join(f"{spec.unit_value:g}" for spec in scenario.stages)
    return ROW.format(
        scenario.name,
        scenario.codp or "-",
        f"{scenario.unit_cost:g}",
        values,
        f"{s['price']:.2f}",
        f"{s['served']:.1f}",
        f"{s['demand']:.1f}",
        f"{s['revenue'] - s['material'] - s['fulfilment']:.2f}",
        f"{s['capacity']:.2f}",
        f"{s['holding']:.2f}",
        f"{s['margin']:.2f}",
    )


def economics_table(scenarios: list[Scenario]) -> str:
    """The unit economics and steady-state week of each scenario, as printed text."""
    return "\n".join([HEADER, "-" * len(HEADER), *(economics_row(s) for s in scenarios)]) + "\n"
