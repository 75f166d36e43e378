"""The typed records the store takes and returns: a session and its settings, a team, a seat
and its players, where a seat token leads, a team as a round reads it, a submitted decision
and a written week (``WeekEntry``: the game's ``WeekRecord`` with the strategy and players of
the week). Redis's form of them (hashes of strings, ``"1"``/``"0"`` flags, JSON text) stays
inside ``web.store``."""

from __future__ import annotations

import hmac
from dataclasses import dataclass, field
from typing import Any, NotRequired

from game.state import GameState, WeekRecord

Bounds = dict[str, tuple[int, int]]  # role -> the lowest and highest decision allowed
MAX_SEAT_PLAYERS = 5  # players who may share one seat (the first and four who joined it later)


class WeekEntry(WeekRecord):
    """A week as the server records it: the game's record (``game.state.WeekRecord``) with the
    team's strategy that week (``codp``, ``shop``, and ``deal`` where a segment can co-make,
    ``web.play.scenarios.week_strategy``) and who played each seat (``players``: role -> name)."""

    codp: NotRequired[str | None]
    shop: NotRequired[str | None]
    deal: NotRequired[bool]
    players: NotRequired[dict[str, str]]


@dataclass(slots=True, frozen=True)
class Player:
    """One player on a seat: the name they chose, their seat token's SHA-256 (only hashes are
    stored) and when they joined (epoch seconds)."""

    name: str
    token: str
    joined: float = 0.0


@dataclass(slots=True, frozen=True)
class Seat:
    """A taken seat: its players, the first one first, then those who joined it later (they
    play it together; any of them decides), in the order they joined."""

    players: tuple[Player, ...]

    @property
    def name(self) -> str:
        """The players' names as one text (``"Ada & Bo"``)."""
        return " & ".join(p.name for p in self.players)

    @property
    def full(self) -> bool:
        """No one else may join the seat (``MAX_SEAT_PLAYERS``)."""
        return len(self.players) >= MAX_SEAT_PLAYERS

    def holds(self, token_hash: str) -> bool:
        """The token with hash ``token_hash`` is one of the seat's players'."""
        return any(hmac.compare_digest(p.token, token_hash) for p in self.players)


@dataclass(slots=True, frozen=True)
class SeatRef:
    """Where a seat token leads: the session, the team and the role."""

    code: str
    team: int
    role: str


@dataclass(slots=True, frozen=True)
class SessionSettings:
    """A session's settings, fixed when it is created: its scenario (a preset's name, or the
    name of the session's own scenario, whose TOML text is ``custom``), the number of teams,
    the planned weeks and the weeks the game may end in (``end_window``: first and last), the
    seed every team's demand and last week are drawn from, the CODP rule (``fixed``: every team
    plays at ``codp``; ``team``: each team chooses, starting there) and position (None: the
    scenario has none), what the players see (``visibility``: option -> shown), the bots'
    policy spec and whether the players are told the last week (``end_told``; None: as the
    scenario says)."""

    scenario: str
    teams: int
    weeks: int
    seed: int
    codp_rule: str
    codp: str | None
    visibility: dict[str, bool]
    bot_policy: str
    end_window: tuple[int, int]
    end_told: bool | None = None
    custom: str | None = None


@dataclass(slots=True)
class SessionRecord:
    """A session as stored: its settings fixed at creation, its status, the round timer
    (0: none), the facilitator secret's hash and whether the last week was revealed."""

    settings: SessionSettings
    status: str = "setup"
    round_seconds: int = 0
    secret: str = ""
    end_revealed: bool = False


@dataclass(slots=True)
class Team:
    """A team's hash: the week being decided, whether its game is over, its strategy (CODP
    position and web shop mode, None: the session's), its name, the round deadline (and the
    time left while paused), when its week last advanced, the decision revision (bumped by
    every decision recorded or changed), who chose the strategy last, its co-makership deal
    (None: as the scenario has it) and who chose it, its engine state with
    its decision bounds (role -> lowest and highest value; none once the game is over: a state
    is always written with them) and its bots' memory. A field the store was not asked for
    keeps its default."""

    week: int = 0
    done: bool = False
    codp: str | None = None
    shop: str | None = None
    name: str = ""
    deadline: float | None = None
    remaining: float | None = None
    advanced_at: float = 0.0
    dec_rev: int = 0
    codp_by: str | None = None
    deal: bool | None = None
    deal_by: str | None = None
    state: GameState | None = None
    memory: dict[str, Any] = field(default_factory=dict)
    bounds: Bounds = field(default_factory=dict)


def week_complete(humans: set[str], decided: set[str]) -> bool:
    """Every seat a human plays has decided the week: the rule that closes a week before its
    deadline (a team nobody plays waits for the bot pacing instead)."""
    return bool(humans) and humans <= decided


@dataclass(slots=True)
class TeamSnapshot:
    """A team with what hangs off it, read together: its hash (``team``), this week's human
    decisions (``dec``: role -> value; ``decided``: their roles), the seats (role -> seat),
    the roles a human plays (``humans``) and the facilitator gave to a bot (``forced``), the
    session's ``round_seconds`` and ``status``, and where asked for the week records
    (``weeks``, from some index); as a commit wrote it, how many records there are
    (``weeks_count``) and the one it added (``last_record``); where asked for, the whole
    ``session``."""

    team: Team
    dec: dict[str, int] = field(default_factory=dict)
    decided: set[str] = field(default_factory=set)
    seats: dict[str, Seat] = field(default_factory=dict)
    taken: set[str] = field(default_factory=set)
    humans: set[str] = field(default_factory=set)
    forced: set[str] = field(default_factory=set)
    round_seconds: int = 0
    status: str = ""
    weeks: list[WeekEntry] | None = None
    weeks_count: int | None = None
    last_record: WeekEntry | None = None
    session: SessionRecord | None = None

    @property
    def complete(self) -> bool:
        """Every seat a human plays has decided the week (``week_complete``)."""
        return week_complete(self.humans, self.decided)


@dataclass(slots=True)
class Submitted:
    """What ``Store.submit`` found: ``status`` (``ok`` or why not) with what the caller needs
    next: the session's status (``not_running``), the team's week (``stale_week``, ``ok``),
    the bounds (``out_of_bounds``), and for ``ok`` the roles that decided, the roles a human
    plays and the value this seat had decided before (None: its first decision this week)."""

    status: str
    session_status: str = ""
    week: int = 0
    bounds: tuple[int, int] = (0, 0)
    decided: set[str] = field(default_factory=set)
    humans: set[str] = field(default_factory=set)
    previous: int | None = None

    @property
    def complete(self) -> bool:
        """The decision completed the week (``week_complete``)."""
        return week_complete(self.humans, self.decided)


@dataclass(slots=True)
class Committed:
    """What ``Store.commit`` did: ``result`` (1 written, 0 already advanced, -1 read again)
    and, when written, the team as it is now (``snapshot``: its decisions cleared, the week's
    record as stored in ``last_record``)."""

    result: int
    snapshot: TeamSnapshot | None = None
