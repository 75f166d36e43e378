"""The customer order decoupling point (CODP) and its five positions.

After Hoekstra & Romme: the CODP is the stage up to which a customer order
penetrates the chain. Stages at and upstream of it are make-to-stock (MTS,
forecast-driven, stock risk); stages downstream of it are make-to-order (MTO,
order-driven, lead-time and capacity risk).

Positions are counted along the retail chain from the consumer: depth 0 is the
consumer-facing stage. A position's ``depth`` is the depth of the CODP stage;
depth equal to the chain's length means nothing is held in stock.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from game.scenario import Scenario
    from game.state import GameState


@dataclass(frozen=True)
class Position:
    """One CODP position."""

    key: str
    depth: int
    title: str
    summary: str


_POSITIONS = (
    Position(
        "mts-local",
        0,
        "Make and ship to stock",
        "Finished goods wait near the customer: instant delivery, the most stock risk.",
    ),
    Position(
        "mts-central",
        1,
        "Make to stock, central",
        "Finished goods wait at a central stock point; the last leg is shipped per order.",
    ),
    Position(
        "ato",
        2,
        "Assemble to order",
        "Modules wait at the manufacturer; assembly and delivery follow the order.",
    ),
    Position(
        "mto",
        3,
        "Make to order",
        "Only materials wait at the supplier; production starts with the order.",
    ),
    Position(
        "eto",
        4,
        "Purchase / engineer to order",
        "Nothing waits in stock: every step follows the order, the longest lead time.",
    ),
)

POSITIONS: dict[str, Position] = {p.key: p for p in _POSITIONS}


def retail_path(scenario: Scenario) -> list[str]:
    """Roles from the consumer-facing stage with the largest market share up to the source."""
    facing = max((s for s in scenario.stages if s.consumer_facing), key=lambda s: s.market_share)
    path = [facing.role]
    supplier = facing.supplier
    while supplier is not None:
        path.append(supplier)
        supplier = scenario.stage(supplier).supplier
    return path


def positions_for(scenario: Scenario) -> list[str]:
    """The positions that fit this scenario's chain (all, when it has four stages)."""
    n = len(retail_path(scenario))
    return [p.key for p in _POSITIONS if p.depth <= n]


def codp_stage(scenario: Scenario, position: str) -> str | None:
    """The role at the CODP for ``position`` (None: nothing in stock)."""
    path = retail_path(scenario)
    depth = POSITIONS[position].depth
    return path[depth] if depth < len(path) else None


def apply_codp(scenario: Scenario, position: str) -> Scenario:
    """A copy of ``scenario`` with stage modes set for ``position``.

    Retail-chain stages downstream of the CODP become MTO (no finished stock);
    the CODP stage and everything upstream become MTS. Stages off the retail
    chain (the e-commerce seller) keep their own mode.
    """
    if position not in POSITIONS:
        raise ValueError(f"unknown position {position!r} (known: {', '.join(POSITIONS)})")
    path = retail_path(scenario)
    depth = POSITIONS[position].depth
    if depth > len(path):
        raise ValueError(f"position {position!r} needs a chain of {depth} stages, this one has {len(path)}")
    mto = set(path[:depth])
    modes = {s.role: "mto" if s.role in mto else "mts" if s.role in path else s.mode for s in scenario.stages}
    return _with_modes(scenario, modes, codp=position)


def opening_stock(scenario: Scenario) -> tuple[int, ...]:
    """Each role's stock on hand as the scenario gives it, before a decoupling point moved it."""
    if len(scenario.opening) == len(scenario.stages):
        return scenario.opening
    return tuple(s.on_hand for s in scenario.stages)


def place_stock(scenario: Scenario, modes: dict[str, str]) -> tuple[int, ...]:
    """Each role's stock on hand at the start when its stages work in ``modes``.

    Every position starts from the same goods: a make-to-stock stage holds its own opening
    stock, and a make-to-order stage's goes to the nearest make-to-stock stage upstream of
    it (the decoupling point, on the retail chain), or to the top of the chain where every
    stage up from it works to order. Goods in transit stay where they are."""
    index = {r: i for i, r in enumerate(scenario.roles)}
    out = [0] * len(scenario.stages)
    for i, units in enumerate(opening_stock(scenario)):
        spec = scenario.stages[i]
        while modes[spec.role] == "mto" and spec.supplier is not None:
            spec = scenario.stages[index[spec.supplier]]
        out[index[spec.role]] += units
    return tuple(out)


def _with_modes(scenario: Scenario, modes: dict[str, str], **changes: object) -> Scenario:
    """A copy of ``scenario`` with its stages in ``modes`` and the opening stock placed for them."""
    stock = place_stock(scenario, modes)
    stages = tuple(
        replace(s, mode=modes[s.role], on_hand=units) for s, units in zip(scenario.stages, stock, strict=True)
    )
    return scenario.with_stages(stages, opening=opening_stock(scenario), **changes)


#: How a web shop (a consumer-facing stage off the retail chain) works: from its own
#: warehouse (make to stock) or drop-shipping each order from its supplier (make to order).
SHOP_MODES: dict[str, str] = {"mts": "own warehouse", "mto": "drop-ship"}


def shop_roles(scenario: Scenario) -> list[str]:
    """The consumer-facing stages off the retail chain (the web shop), whose mode a team
    picks beside its CODP."""
    path = retail_path(scenario)
    return [s.role for s in scenario.stages if s.consumer_facing and s.role not in path]


def shop_mode(scenario: Scenario) -> str | None:
    """The web shop's mode in ``scenario`` (None: the scenario has no web shop)."""
    roles = shop_roles(scenario)
    return scenario.stage(roles[0]).mode if roles else None


def apply_shop(scenario: Scenario, mode: str) -> Scenario:
    """A copy of ``scenario`` whose web shop works in ``mode`` (``"mts"``: from its own
    warehouse; ``"mto"``: drop-ship, no stock of its own). A make-to-stock shop holds the
    stock the scenario gives it; a drop-shipping shop's goes upstream (``place_stock``)."""
    if mode not in SHOP_MODES:
        raise ValueError(f"unknown web shop mode {mode!r} (known: {', '.join(SHOP_MODES)})")
    roles = shop_roles(scenario)
    if not roles:
        raise ValueError(f"{scenario.name} has no web shop")
    if all(scenario.stage(r).mode == mode for r in roles):
        return scenario
    return _with_modes(scenario, {s.role: mode if s.role in roles else s.mode for s in scenario.stages})


def customisable(scenario: Scenario, modes: dict[str, str]) -> bool:
    """True when the scenario's customisation stage works to order under ``modes``.

    Customised segments only pay their premium when the product is finished
    after the order arrives (with ``customisation_stage = "engineering"``: when every
    stage works to order): the customisation stage, or every stage between it
    and the consumer, runs make-to-order; assemble-to-order counts, because its
    final step at the CODP follows the order.
    """
    if scenario.customisation_stage is None:
        return False
    path = retail_path(scenario)
    target = scenario.customisation_stage
    if target == ENGINEERING:  # designed for the customer: nothing may be made before the order
        return all(modes[r] == "mto" for r in path)
    if target not in path:
        return False
    downstream = path[: path.index(target)]
    return all(modes[r] == "mto" for r in downstream)


#: ``customisation_stage`` for a product designed for each customer: the premium needs every
#: stage to work to order (engineer to order), since even the materials are the customer's.
ENGINEERING = "engineering"


class CodpError(ValueError):
    """A CODP change that the scenario does not allow."""


def is_review_week(scenario: Scenario, week: int) -> bool:
    """True when teams may move their CODP at the decision point of ``week``."""
    return week in scenario.review_weeks


def switch_codp(
    scenario: Scenario, state: GameState, position: str, *, shop: str | None = None, any_week: bool = False
) -> tuple[Scenario, GameState]:
    """Move a running game's CODP (and, with ``shop``, its web shop's mode) at a strategy
    review (the decision point of a review week).

    Returns the scenario with the new stage modes and a new state; the input state
    is not modified. A stage going make-to-order -> make-to-stock turns its work in
    progress into stock on hand; a stage going make-to-stock -> make-to-order keeps
    its stock, which is shipped first. Orders, backlogs and goods in transit carry on.
    Raises ``CodpError`` for a position the scenario does not offer, or (unless
    ``any_week``) outside its ``review_weeks``.
    """
    allowed = scenario.codp_positions or tuple(positions_for(scenario))
    if position not in POSITIONS:
        raise CodpError(f"unknown position {position!r} (known: {', '.join(POSITIONS)})")
    if position not in allowed:
        raise CodpError(f"position {position!r} is not offered (allowed: {', '.join(allowed)})")
    if state.done:
        raise CodpError("the game is over")
    if not any_week and not is_review_week(scenario, state.week):
        weeks = ", ".join(str(w) for w in scenario.review_weeks) or "none"
        raise CodpError(f"week {state.week} is not a strategy review (review weeks: {weeks})")
    new_scenario = apply_codp(scenario, position)
    if shop is not None:
        try:
            new_scenario = apply_shop(new_scenario, shop)
        except ValueError as exc:  # no web shop, or an unknown mode
            raise CodpError(str(exc)) from None
    new = state.copy()
    net = new_scenario.network
    for r, spec in enumerate(new_scenario.stages):
        stages = [new.stages[r]] if new.nodes is None else [new.nodes[i] for i in net.decide[r]]
        for s in stages:
            if spec.mode == s.mode:
                continue
            if spec.mode == "mts":
                if spec.mts_capacity:  # back to the stage's make-to-stock throughput
                    s.capacity = spec.mts_capacity
                else:
                    s.on_hand += s.wip
                    s.wip = 0
            elif s.capacity <= 0 or spec.mts_capacity:
                s.capacity = spec.capacity or s.capacity
            s.mode = spec.mode
    if new.nodes is not None:
        from game.engine import role_totals  # local: the engine imports this module

        role_totals(new_scenario, new)
    new.codp = position
    return new_scenario, new


def describe_position(scenario: Scenario, state: GameState | None, position: str) -> dict[str, Any]:
    """What choosing ``position`` would mean for this scenario, from ``state`` (the team's
    game now, moved as a strategy review moves it; None: before the start, the game as it
    would begin at that position): ``to_order`` the stages that would work
    to order and ``stock_at`` the ones that would hold stock (roles, consumer end first, the
    web shop included), ``lead_time`` the weeks a consumer of the main shop would be quoted
    now for an order its stock cannot serve (None: none can be given; ``game.engine.quote``,
    which counts the stock and work already in the chain), ``order_lead_time`` the weeks an
    order takes through the stages that work to order once nothing waits for it downstream of
    the decoupling point (their order and shipping delays, and the parcel), ``from_stock`` whether
    that shop would serve from stock first (then at ``delivery`` weeks), and ``segments``:
    per customer segment its ``name``, ``share`` of demand, ``accept`` (the share of its
    customers who would wait ``order_lead_time``, or the parcel when served from stock) and
    ``premium`` (None: the segment pays none; else whether this position earns it)."""
    from game.engine import INFINITE, quote  # local: the engine imports this module
    from game.state import new_game

    if state is None:
        scn = apply_codp(scenario, position)
        new = new_game(scn)
    else:
        scn, new = switch_codp(scenario, state, position, any_week=True)
    path = retail_path(scn)
    order = path + [s.role for s in scn.stages if s.role not in path]
    modes = {s.role: s.mode for s in scn.stages}
    facing = scn.stage(path[0])
    weeks = quote(scn, new, path[0])
    from_stock = facing.mode == "mts"
    through = sum(
        scn.stage(r).ship_delay + (0 if scn.mto_orders == "instant" else scn.stage(r).order_delay)
        for r in path
        if modes[r] == "mto"
    )
    wait = facing.delivery_delay if from_stock else through + facing.delivery_delay
    custom = customisable(scn, modes)
    segments = [
        {
            "name": seg.name,
            "share": seg.share,
            "accept": round(seg.willing(wait), 3),
            "premium": (custom if seg.customised else None) if seg.premium else None,
        }
        for seg in scn.segments
    ]
    return {
        "position": position,
        "order_lead_time": through + facing.delivery_delay,
        "to_order": [r for r in order if modes[r] == "mto"],
        "stock_at": [r for r in order if modes[r] == "mts"],
        "lead_time": None if weeks == INFINITE else round(weeks, 1),
        "from_stock": from_stock,
        "delivery": facing.delivery_delay,
        "segments": segments,
    }
