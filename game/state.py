"""Game state: plain data that serialises to and from JSON-compatible dicts."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, NotRequired, TypedDict

if TYPE_CHECKING:
    from game.scenario import Scenario


class WeekRecord(TypedDict):
    """A played week as a game records it (``GameResult.weeks``): its number, each role's
    events (``engine.step``'s, by role) and, where a server played it, which seats bots
    played (``bots``); the server's records add the strategy and players of the week
    (``web.store.records.WeekEntry``)."""

    week: int
    roles: dict[str, dict[str, Any]]
    bots: NotRequired[list[str]]


@dataclass(slots=True)
class StageState:
    """What one stage holds at the end of a week.

    ``order_q`` holds the orders this stage has placed that are still in the
    mail to its supplier (front = read next week); ``ship_q`` the goods on the
    way to this stage (front = arrives next week). ``owed`` is the backlog per
    customer (the topology's customer order). ``open_orders`` are the accepted
    consumer orders not yet shipped, oldest first, as
    ``[week accepted, units, segment index, revenue per unit, lead time promised]``
    (``None`` where none was: a patient market without parcels, or a chain that could
    not quote); ``deliveries``
    the parcels on the way to consumers. Where segments churn, ``loyalty`` is the
    share of each segment's drawn demand that still comes to this stage and
    ``came`` the consumers who came in each week played (both empty otherwise).
    ``accepted`` is, at a consumer-facing stage, the consumers' units it accepted (sold or
    taken on to wait) in each week played, the latest last (empty elsewhere; a state
    saved before it was kept has none for the weeks before).
    """

    on_hand: int
    owed: list[int]
    order_q: list[int]
    ship_q: list[int]
    mode: str = "mts"
    capacity: int = 0
    wip: int = 0
    open_orders: list[list[Any]] = field(default_factory=list)
    deliveries: list[int] = field(default_factory=list)
    loyalty: list[float] = field(default_factory=list)
    came: list[int] = field(default_factory=list)
    accepted: list[int] = field(default_factory=list)

    @property
    def backlog(self) -> int:
        """Units owed to all customers."""
        return sum(self.owed)

    def copy(self) -> StageState:
        """An independent copy (the engine never mutates its input)."""
        return StageState(
            self.on_hand,
            self.owed[:],
            self.order_q[:],
            self.ship_q[:],
            self.mode,
            self.capacity,
            self.wip,
            list(map(list, self.open_orders)),
            self.deliveries[:],
            self.loyalty[:],
            self.came[:],
            self.accepted[:],
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-compatible form."""
        return {
            "on_hand": self.on_hand,
            "owed": self.owed[:],
            "order_q": self.order_q[:],
            "ship_q": self.ship_q[:],
            "mode": self.mode,
            "capacity": self.capacity,
            "wip": self.wip,
            "open_orders": [o[:] for o in self.open_orders],
            "deliveries": self.deliveries[:],
            "loyalty": self.loyalty[:],
            "came": self.came[:],
            "accepted": self.accepted[:],
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> StageState:
        """Inverse of ``to_dict``."""
        return cls(
            int(d["on_hand"]),
            [int(x) for x in d["owed"]],
            [int(x) for x in d["order_q"]],
            [int(x) for x in d["ship_q"]],
            str(d.get("mode", "mts")),
            int(d.get("capacity", 0)),
            int(d.get("wip", 0)),
            # a state saved before promises were kept has none for its open orders
            [list(o) + [None] * (5 - len(o)) for o in d.get("open_orders", [])],
            [int(x) for x in d.get("deliveries", [])],
            [float(x) for x in d.get("loyalty", [])],
            [int(x) for x in d.get("came", [])],
            [int(x) for x in d.get("accepted", [])],
        )


@dataclass(slots=True)
class GameState:
    """The whole state of one team's game at a decision point.

    ``week`` is the week now being decided (1-based): steps 1-4 of that week
    have run and ``events`` holds their outcome per stage; the decisions (step 5)
    are still to come. ``done`` is set once the last week's decisions are in.
    """

    week: int
    stages: list[StageState]
    demand: list[list[list[int]]]
    codp: str | None = None
    seed: int = 0
    events: list[dict[str, Any]] = field(default_factory=list)
    done: bool = False
    #: per stock point where a role holds several (variants, regions; see ``game.network``),
    #: else None and the engine plays ``stages`` themselves; ``stages`` and ``events`` are
    #: then the roles' totals
    nodes: list[StageState] | None = None
    node_events: list[dict[str, Any]] = field(default_factory=list)
    #: just in time: per week, the stock points whose delivery that week arrives a week late
    late: list[list[int]] = field(default_factory=list)
    #: per stock point, its share of its role's demand as observed so far (``game.network.learn_mix``),
    #: where a make-to-stock role splits one order over several; empty otherwise
    mix: list[float] = field(default_factory=list)
    #: the last week, drawn when the game began (``game.horizon``; 0 in a state saved before)
    end: int = 0

    def copy(self) -> GameState:
        """An independent copy; the demand table is shared (it is never mutated)."""
        return GameState(
            self.week,
            list(map(StageState.copy, self.stages)),
            self.demand,
            self.codp,
            self.seed,
            list(map(dict, self.events)),
            self.done,
            None if self.nodes is None else list(map(StageState.copy, self.nodes)),
            list(map(dict, self.node_events)),
            self.late,
            self.mix[:],
            self.end,
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-compatible form (round-trips through ``from_dict``)."""
        return {
            "week": self.week,
            "stages": [s.to_dict() for s in self.stages],
            "demand": self.demand,
            "codp": self.codp,
            "seed": self.seed,
            "events": [dict(e) for e in self.events],
            "done": self.done,
            **(
                {}
                if self.nodes is None
                else {"nodes": [s.to_dict() for s in self.nodes], "node_events": [dict(e) for e in self.node_events]}
            ),
            **({"late": self.late} if self.late else {}),
            **({"mix": self.mix[:]} if self.mix else {}),
            "end": self.end,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> GameState:
        """Inverse of ``to_dict``."""
        return cls(
            int(d["week"]),
            [StageState.from_dict(s) for s in d["stages"]],
            d["demand"],
            d.get("codp"),
            int(d.get("seed", 0)),
            [dict(e) for e in d.get("events", [])],
            bool(d.get("done", False)),
            None if d.get("nodes") is None else [StageState.from_dict(s) for s in d["nodes"]],
            [dict(e) for e in d.get("node_events", [])],
            [[int(i) for i in week] for week in d.get("late", [])],
            [float(x) for x in d.get("mix", [])],
            int(d.get("end", 0)),
        )

    def modes(self, scenario: Scenario) -> dict[str, str]:
        """Mode per role."""
        return {spec.role: st.mode for spec, st in zip(scenario.stages, self.stages, strict=True)}
