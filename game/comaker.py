"""Co-makership: customers who share their plans and accept a lead time, for a discount.

A segment with a ``comaker`` table can be offered a deal (``apply_comaker``, at setup, or
``switch_comaker`` at a strategy review). While the deal is in force the segment's customers
order ``horizon`` weeks ahead: the team knows the segment's demand of week w + horizon at
week w (advance demand information, Hariharan & Zipkin 1995). When their week comes they
are all accepted, wait the lead time agreed for their variant without walking away or
cancelling (no backlog cost while within it), and pay ``price`` x (1 - ``discount``).

The known orders reach the roles the customer order reaches: the consumer-facing role and,
through roles that work to order, the decoupling point (``known_orders``).
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from game.review import CodpError, check_review

if TYPE_CHECKING:
    from game.scenario import Scenario
    from game.state import GameState


class ComakerError(CodpError):
    """A co-makership deal the scenario does not offer, or offered outside a review."""


def offered(scenario: Scenario) -> list[str]:
    """The names of the segments that can be offered the deal."""
    return [seg.name for seg in scenario.segments if seg.comaker is not None]


def in_force(scenario: Scenario) -> bool:
    """True when some segment co-makes."""
    return any(seg.comaking for seg in scenario.segments)


def apply_comaker(scenario: Scenario, deal: bool) -> Scenario:
    """A copy of ``scenario`` with the deal in force (``deal``) or not for every segment
    that can co-make. Raises ``ComakerError`` when no segment can."""
    if not offered(scenario):
        raise ComakerError(f"{scenario.name} has no segment that can co-make (no comaker table)")
    segments = tuple(replace(seg, comaking=deal and seg.comaker is not None) for seg in scenario.segments)
    if segments == scenario.segments:
        return scenario
    return replace(scenario, segments=segments)


def switch_comaker(
    scenario: Scenario, state: GameState, deal: bool, *, any_week: bool = False
) -> tuple[Scenario, GameState]:
    """Offer (``deal``) or end the deal at a strategy review of a running game.

    Orders already taken keep the lead time agreed for them; from this decision point on
    the segment's orders of the next ``horizon`` weeks are known (or no longer). Returns
    the new scenario and a copy of the state. Raises ``ComakerError`` outside the
    scenario's ``review_weeks`` (unless ``any_week``) or once the game is over."""
    check_review(scenario, state, any_week, ComakerError)
    return apply_comaker(scenario, deal), state.copy()


def reached(scenario: Scenario, state: GameState, role: int) -> list[int]:
    """The consumer-facing nodes whose customer orders reach ``role``: its own, and those of
    roles downstream of it reached through roles that all work to order."""
    net = scenario.network
    topo = scenario.topology
    out = []
    for i in net.facing:
        r = net.role_of[i]
        while r != role and r >= 0 and state.stages[r].mode == "mto":
            r = topo.supplier[r]
        if r == role:
            out.append(i)
    return out


def downstream_facing(scenario: Scenario, role: int) -> list[int]:
    """Every consumer-facing node at or downstream of ``role``."""
    net = scenario.network
    topo = scenario.topology
    out = []
    for i in net.facing:
        r = net.role_of[i]
        while r != role and r >= 0:
            r = topo.supplier[r]
        if r == role:
            out.append(i)
    return out


def advance_orders(scenario: Scenario, state: GameState, nodes: list[int]) -> list[int]:
    """The co-making customers' known orders at consumer-facing ``nodes``, for weeks
    ``state.week + 1`` to ``state.week + horizon`` (the longest horizon in force; a
    segment with a shorter one counts in its weeks only), ending with the demand table."""
    net = scenario.network
    deals = [(k, seg.comaker.horizon) for k, seg in enumerate(scenario.segments) if seg.comaking and seg.comaker]
    if not deals or not nodes:
        return []
    longest = max(h for _, h in deals)
    out = []
    for ahead in range(1, longest + 1):
        week = state.week + ahead
        if week > len(state.demand):
            break
        row = state.demand[week - 1]
        out.append(sum(row[net.channel[i]][k] for i in nodes for k, h in deals if ahead <= h))
    return out


def known_orders(scenario: Scenario, state: GameState, role: int, weeks: int) -> int:
    """The known orders reaching ``role`` (``reached``) over the next ``weeks`` weeks."""
    return sum(advance_orders(scenario, state, reached(scenario, state, role))[:weeks])


def comaking_share(scenario: Scenario) -> float:
    """The share of demand that comes from co-making segments."""
    return sum(seg.share for seg in scenario.segments if seg.comaking)
