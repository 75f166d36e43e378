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

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from game.scenario import Scenario


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


def apply_codp(scenario: Scenario, position: str) -> Scenario:
    """A copy of ``scenario`` with stage modes set for ``position``.

    Retail-chain stages downstream of the CODP become MTO (no finished stock);
    the CODP stage and everything upstream become MTS. Stages off the retail
    chain (the e-commerce seller) keep their own mode. One decoupling point serves
    every segment: the scenario's processes per segment (``apply_processes``) are dropped.
    """
    if scenario.lanes:
        scenario = replace(scenario, lanes=())
    if position not in POSITIONS:
        raise ValueError(f"unknown position {position!r} (known: {', '.join(POSITIONS)})")
    path = retail_path(scenario)
    depth = POSITIONS[position].depth
    if depth > len(path):
        raise ValueError(f"position {position!r} needs a chain of {depth} stages, this one has {len(path)}")
    mto = set(path[:depth])
    modes = {s.role: "mto" if s.role in mto else "mts" if s.role in path else s.mode for s in scenario.stages}
    return _with_modes(scenario, modes, codp=position)


def apply_processes(scenario: Scenario, processes: Mapping[str, str]) -> Scenario:
    """A copy of ``scenario`` that serves each customer segment through the process
    ``processes`` names for it (segment name -> position; a segment left out goes with the
    first process).

    The shallowest position named is the chain's own decoupling point (``apply_codp``);
    each deeper position is one more process, which sells to its segments' customers and
    works to order from the stock of its decoupling stage, sharing that stage and
    everything upstream with the chain (``game.network``), for ``process_cost`` a week.
    Raises ``ValueError`` naming the segment or position at fault."""
    names = [seg.name for seg in scenario.segments]
    allowed = _offered(scenario)
    for name, position in processes.items():
        if name not in names:
            raise ValueError(f"unknown segment {name!r} (segments: {', '.join(names)})")
        if position not in allowed:
            raise ValueError(f"{name}: position {position!r} is not offered (allowed: {', '.join(allowed)})")
    chosen = sorted(set(processes.values()), key=lambda p: POSITIONS[p].depth)
    if not chosen:
        raise ValueError("name a position for at least one segment")
    if len(chosen) > scenario.max_processes:
        raise ValueError(f"{len(chosen)} processes, the scenario allows {scenario.max_processes} (max_processes)")
    path = retail_path(scenario)
    lanes = []
    for position in chosen[1:]:
        if POSITIONS[position].depth >= len(path):
            raise ValueError(f"a process of its own needs a stage holding stock; {position!r} holds none")
        lanes.append((position, tuple(k for k, n in enumerate(names) if processes.get(n) == position)))
    return replace(apply_codp(scenario, chosen[0]), lanes=tuple(lanes))


def processes(scenario: Scenario) -> dict[str, str]:
    """Each segment's process (its position): its own, else the chain's decoupling point."""
    out = {seg.name: scenario.codp or "" for seg in scenario.segments}
    for position, segs in scenario.lanes:
        for k in segs:
            out[scenario.segments[k].name] = position
    return out


def _offered(scenario: Scenario) -> tuple[str, ...]:
    """The positions a team may choose (``codp_positions``, else every one that fits)."""
    return scenario.codp_positions or tuple(positions_for(scenario))


def need_position(scenario: Scenario, segment: int) -> str:
    """The segment's own need as a position: the deepest offered position that holds stock
    whose lead time (``lead_time``) every customer of the segment accepts
    (Olhager 2010: the decoupling point as far upstream as the customer's tolerance allows),
    else the shallowest offered."""
    seg = scenario.segments[segment]
    path = retail_path(scenario)
    offered = sorted(_offered(scenario), key=lambda p: POSITIONS[p].depth)
    best = offered[0]
    for position in offered:
        if (
            POSITIONS[position].depth < len(path)
            and seg.willing(lead_time(apply_codp(scenario, position), path[0])) >= 1
        ):
            best = position
    return best


def process_options(scenario: Scenario) -> dict[str, dict[str, str]]:
    """The per-segment processes a well-advised team would weigh (none unless
    ``max_processes`` > 1), by name: ``per-segment``, every segment at its own need
    (``need_position``); ``per-need``, one standard process per real need (standard or
    tailored product), each at the need of its least patient segment (Hedegaard: one
    solution per real customer need). An
    option needing more processes than the scenario allows, or only one, is left out."""
    if scenario.max_processes < 2:
        return {}
    names = [seg.name for seg in scenario.segments]
    own = {n: need_position(scenario, k) for k, n in enumerate(names)}
    per_need: dict[str, str] = {}
    for tailored in (False, True):
        group = [n for k, n in enumerate(names) if scenario.segments[k].customised == tailored]
        if group:
            position = min((own[n] for n in group), key=lambda p: POSITIONS[p].depth)
            per_need.update(dict.fromkeys(group, position))
    out = {}
    for name, choice in (("per-segment", own), ("per-need", per_need)):
        if 1 < len(set(choice.values())) <= scenario.max_processes:
            out[name] = choice
    return out


def choices_for(scenario: Scenario) -> list[str]:
    """What a team may choose, for ``compare`` and ``reference``: every offered position,
    then the per-segment process options (``process_options``)."""
    return [*_offered(scenario), *process_options(scenario)]


def choice_processes(scenario: Scenario, choice: str) -> dict[str, str]:
    """Each segment's position under ``choice`` (see ``apply_choice``; a position: every
    segment's); ``ValueError`` for a choice the scenario does not offer."""
    return processes(apply_choice(scenario, choice))


def parse_processes(text: str) -> dict[str, str]:
    """``"segment=position,segment=position"`` as a mapping (``ValueError`` when malformed)."""
    out = {}
    for part in text.split(","):
        name, sep, position = part.partition("=")
        if not sep or not name.strip() or not position.strip():
            raise ValueError(f"processes: expected segment=position, got {part!r}")
        out[name.strip()] = position.strip()
    return out


def apply_choice(scenario: Scenario, choice: str) -> Scenario:
    """``scenario`` played with ``choice``: a position (``apply_codp``), the name of a
    process option (``process_options``), or ``"segment=position,..."`` (``apply_processes``)."""
    if choice in POSITIONS:
        return apply_codp(scenario, choice)
    options = process_options(scenario)
    if choice in options:
        return apply_processes(scenario, options[choice])
    if "=" in choice:
        return apply_processes(scenario, parse_processes(choice))
    known = ", ".join((*POSITIONS, *options))
    raise ValueError(f"unknown position {choice!r} (known: {known}; or a process per segment: segment=position,...)")


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


def describe_processes(scenario: Scenario, choice: str) -> dict[str, Any]:
    """What a team's processes per segment under ``choice`` (``apply_choice``) would be:
    ``processes``, per process from the shallowest, its ``position`` and the ``segments`` it
    serves, and ``cost``, what the processes beyond the first cost a week."""
    chosen = choice_processes(scenario, choice)
    order = sorted(set(chosen.values()), key=lambda p: POSITIONS[p].depth)
    return {
        "position": choice,
        "processes": [{"position": p, "segments": [s for s, q in chosen.items() if q == p]} for p in order],
        "cost": scenario.process_cost * (len(order) - 1),
    }


def lead_time(scenario: Scenario, role: str) -> float:
    """The lead time a customer at consumer-facing ``role`` gets when the nearest make-to-stock
    stage upstream has stock: the shipping (and, with ``mto_orders = "mail"``, ordering) delays
    of the make-to-order stages between, the final step where the product is finished to order,
    and parcel delivery."""
    spec = scenario.stage(role)
    weeks = spec.delivery_delay
    diff = scenario.product.differentiation_stage
    while spec.mode == "mto":
        weeks += spec.ship_delay + (spec.order_delay if scenario.mto_orders == "mail" else 0)
        weeks += scenario.product.finish_delay if spec.role == diff else 0
        if spec.supplier is None:
            return weeks
        spec = scenario.stage(spec.supplier)
    return weeks + (scenario.product.finish_delay if spec.role == diff else 0)
