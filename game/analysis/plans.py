"""The plan family of the reference and the best plan: what a skilled player does each week.

Every role follows one rule (``Rule``) built only from what its player sees at the decision
point (``game.observe.observe``): the demand or the orders the stage itself received this
week, the rate its pipeline was set up with, its inventory position, the week, and the last
week of the game where the player knows it (``horizon``).

- **Forecast**: exponential smoothing of what the stage sees, ``F = alpha * seen + (1 - alpha)
  * (F + T)``, from the rate the chain was set up with (``initial_rate``), with a trend ``T =
  trend * (change of F) + (1 - trend) * T`` from 0 (Holt's method; a ``trend`` weight of 0
  keeps ``T`` at 0: simple exponential smoothing). What the stage sees is every consumer who
  came at a consumer-facing role (served, waiting or lost) and the orders it received
  elsewhere.
- **Make to stock**: order up to ``F * cover + safety`` (``cover`` in weeks of forecast), plus
  what the trend adds over those weeks, ``T * cover * (cover + 1) / 2``.
- **Make to order**: a capacity of ``F * factor + margin`` (stored as ``cover`` and
  ``safety`` here, ``factor`` and ``margin`` in the stored plans), plus the trend likewise.
- **Phase-out** where the end is known: with ``r`` weeks left after this one, the level (or
  capacity) is 0 while ``r < stop`` and scaled by ``(r - stop + 1) / (ramp + 1)`` (at most 1)
  before that, a linear ramp down over ``ramp`` weeks.

A smoothing weight of 0 (or a cover of 0) is the stationary plan: a fixed order-up-to level
or capacity, ``level`` (the rule's value at the initial rate). Without a phase-out such a rule
plays exactly the stationary plans of the earlier reference.
"""

from __future__ import annotations

import math
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from game.comaker import in_force, known_orders
from game.engine import inventory_position, play_week
from game.horizon import end_known, last_week
from game.observe import initial_rate
from game.sales import SALES_SEAT, bot_promise
from game.scenario import Scenario
from game.start import new_game
from game.state import GameState


def horizon(scenario: Scenario, state: GameState) -> tuple[int, bool]:
    """The last week of ``state``'s game and whether its players know it (``game.horizon``):
    the one place the plans learn the end of the game; the phase-out acts only where the
    end is known."""
    return last_week(scenario, state), end_known(scenario)


@dataclass(frozen=True)
class Rule:
    """One role's rule. ``level`` is the order-up-to level (make to stock) or the capacity
    (make to order) at the initial rate; ``cover`` what a unit more of forecast adds to it."""

    level: float
    alpha: float = 0.0
    cover: float = 0.0
    stop: int = 0
    ramp: int = 0
    trend: float = 0.0

    @property
    def key(self) -> tuple[float, ...]:
        """The rule as a tuple (for caches)."""
        return (self.level, self.alpha, self.cover, self.stop, self.ramp, self.trend)

    @property
    def stationary(self) -> bool:
        """True when the level never follows the forecast."""
        return self.alpha == 0 or self.cover == 0

    def safety(self, rate: float) -> float:
        """The safety term (margin) of ``level = forecast * cover + safety`` for a stage set up
        with ``rate``."""
        return self.level - self.cover * rate

    def to_dict(self, mode: str, rate: float) -> dict[str, Any]:
        """The stored form: ``alpha``, ``trend``, ``cover`` and ``safety`` (make to stock) or
        ``factor`` and ``margin`` (make to order), ``stop`` and ``ramp``; and ``level``, the
        level or capacity at the initial rate, which replays the plan to the bit."""
        cover, safety = ("cover", "safety") if mode == "mts" else ("factor", "margin")
        return {
            "alpha": self.alpha,
            "trend": self.trend,
            cover: self.cover,
            safety: round(self.safety(rate), 6),
            "stop": self.stop,
            "ramp": self.ramp,
            "level": self.level,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], rate: float) -> Rule:
        """Inverse of ``to_dict``."""
        cover = float(data.get("cover", data.get("factor", 0.0)))
        safety = float(data.get("safety", data.get("margin", 0.0)))
        alpha, trend = float(data.get("alpha", 0.0)), float(data.get("trend", 0.0))
        level = float(data["level"]) if "level" in data else safety + cover * rate
        return cls(level, alpha, cover, int(data.get("stop", 0)), int(data.get("ramp", 0)), trend)


def forecast(rule: Rule, seen: float, level: float, trend: float) -> tuple[float, float]:
    """The smoothed level and trend after a week in which the stage saw ``seen``."""
    new = rule.alpha * seen + (1.0 - rule.alpha) * (level + trend)
    if rule.trend:
        trend = rule.trend * (new - level) + (1.0 - rule.trend) * trend
    return new, trend


def target(rule: Rule, level: float, trend: float, rate: float) -> float:
    """The order-up-to level or capacity for a forecast ``level`` and ``trend`` (before the
    phase-out) of a stage set up with ``rate``."""
    return rule.level + rule.cover * (level - rate) + trend * rule.cover * (rule.cover + 1) / 2


def phase(rule: Rule, left: int) -> float:
    """The share of its level a rule keeps with ``left`` weeks to go after this one."""
    if left < rule.stop:
        return 0.0
    return min(1.0, (left - rule.stop + 1) / (rule.ramp + 1))


def stationary(values: Mapping[str, int]) -> dict[str, Rule]:
    """Fixed levels and capacities as rules."""
    return {role: Rule(float(v)) for role, v in values.items()}


def rates(scenario: Scenario) -> dict[str, float]:
    """The rate each role's pipeline was set up with (where its forecast starts)."""
    return {spec.role: float(initial_rate(scenario, i)) for i, spec in enumerate(scenario.stages)}


def _signal_rows(scenario: Scenario) -> list[tuple[list[int], str]]:
    """Per role: the stock points (or the role itself) whose events hold what it sees, and the
    event key: ``demand`` at consumer-facing stock points, ``incoming_order`` elsewhere."""
    net = scenario.network
    if net.identity:
        return [([i], "demand" if spec.consumer_facing else "incoming_order") for i, spec in enumerate(scenario.stages)]
    out = []
    for r, group in enumerate(net.groups):
        # (not a segment's own process: its customers are the process's, as in ``observe``)
        facing = [i for i in group if net.channel[i] >= 0 and i not in net.lanes[r]]
        out.append((facing, "demand") if facing else (net.outlets[r], "incoming_order"))
    return out


def play(scenario: Scenario, seed: int, rules: Mapping[str, Rule], start: GameState | None = None) -> float:
    """Profit (revenue - cost) of one game in which every role follows its rule.

    Make-to-stock roles order up to their level (their inventory position: on hand - backlog
    + supply line), plus the co-makers' orders known for the weeks their lead time and the
    review week cover (``game.comaker.known_orders``, where a deal is in force); make-to-order
    roles run at their capacity; the sales seat, where there is one, promises by the
    scenario's sales rule (``game.sales.bot_promise``). ``start`` (the game's first
    decision point) is copied, never changed. The modes never change."""
    state = start.copy() if start is not None else new_game(scenario, seed)
    last, known = horizon(scenario, state)
    init = rates(scenario)
    rows = []
    for i, (spec, (nodes, key)) in enumerate(zip(scenario.stages, _signal_rows(scenario), strict=True)):
        rule = rules[spec.role]
        mto = state.stages[i].mode == "mto"
        most = spec.max_capacity if mto else spec.max_order
        rows.append((i, spec.role, mto, most, rule, init[spec.role], nodes, key))
    levels = [init[r] for r in scenario.roles]
    trends = [0.0] * len(levels)
    adi = in_force(scenario)
    sales = scenario.sales is not None
    covers = [spec.order_delay + spec.ship_delay + 1 for spec in scenario.stages]
    total = 0.0
    while not state.done:
        events = state.events if state.nodes is None else state.node_events
        left = last - state.week
        dec: dict[str, int] = {}
        for i, role, mto, most, rule, rate, nodes, key in rows:
            value = rule.level
            if rule.alpha and rule.cover:
                seen = 0
                for j in nodes:
                    seen += events[j][key]
                levels[i], trends[i] = forecast(rule, seen, levels[i], trends[i])
                value = target(rule, levels[i], trends[i], rate)
            if known and (rule.stop or rule.ramp) and left < rule.stop + rule.ramp:
                value *= phase(rule, left)
            if not mto:
                value -= inventory_position(scenario, state, i)
                if adi:  # co-makers' orders known ahead: ordered for, beyond the level
                    value += known_orders(scenario, state, i, covers[i])
            x = math.floor(value + 0.5)
            dec[role] = 0 if x < 0 else (x if x < most else most)
        if sales:  # the sales seat: the scenario's sales rule (``game.sales.with_rule``)
            dec[SALES_SEAT] = bot_promise(scenario, state)
        for ev in play_week(scenario, state, dec, totals=False):
            total += ev.get("revenue", 0.0) - ev["cost"]
    return total


def decide(rule: Rule, obs: Mapping[str, Any], memory: dict[str, Any], last: int | None) -> int:
    """The same rule from a player's observation (``game.observe.observe``): the decision
    this week. ``memory`` keeps the forecast between weeks; ``last`` is the last week where
    the player knows it, else None. For tests and bots: ``play`` is the fast path."""
    rate = float(obs["initial_rate"])
    value = rule.level
    if rule.alpha and rule.cover:
        seen = obs["demand"] if "demand" in obs else obs["incoming_order"]
        level, trend = forecast(rule, seen, memory.get("level", rate), memory.get("trend", 0.0))
        memory.update(level=level, trend=trend)
        value = target(rule, level, trend, rate)
    if last is not None:
        value *= phase(rule, last - obs["week"])
    if obs["mode"] == "mts":
        value -= obs["on_hand"] - obs["backlog"] + obs["supply_line"]
    low, high = obs["bounds"]
    return min(max(math.floor(value + 0.5), low), high)


# ----------------------------------------------------------------------------
# The search
# ----------------------------------------------------------------------------


@dataclass
class Coordinate:
    """One field of one role's rule the search moves: its bounds, its first and its smallest
    step. A cover moves about ``pivot`` (the role's mean weekly signal): the level at that
    forecast stays where it was, and a rule that does not follow a forecast keeps its cover."""

    role: str
    name: str
    low: float
    high: float
    step: float
    least: float
    pivot: float = 0.0

    def move(self, rules: Mapping[str, Rule], sign: int, step: float) -> dict[str, Rule] | None:
        """``rules`` with this coordinate moved a step up (``sign`` 1) or down, within bounds
        (whole numbers where the smallest step is one); None when that changes nothing."""
        rule = rules[self.role]
        old = getattr(rule, self.name)
        x = min(self.high, max(self.low, old + sign * step))
        x = round(x, 4) if self.least < 1 else round(x) if self.name in ("stop", "ramp") else float(round(x))
        if x == old or (self.name == "cover" and rule.alpha == 0) or (self.name == "trend" and rule.stationary):
            return None
        if self.name == "alpha":
            return {**rules, self.role: smoothed(rule, x, self.pivot)}
        if self.name == "cover":
            level = max(0.0, rule.level - (x - old) * self.pivot)
            return {**rules, self.role: replace(rule, cover=x, level=round(level, 2))}
        return {**rules, self.role: replace(rule, **{self.name: x})}


def smoothed(rule: Rule, alpha: float, pivot: float) -> Rule:
    """``rule`` with smoothing weight ``alpha``. A rule that starts or stops following its
    forecast keeps its level where the forecast is ``pivot`` above the initial rate (where
    the forecast settles), so turning the forecast on moves the plan a little, not a lot."""
    level = rule.level
    if rule.alpha == 0 and alpha > 0:
        level -= rule.cover * pivot
    elif rule.alpha > 0 and alpha == 0:
        level += rule.cover * pivot
    return replace(rule, alpha=alpha, level=round(max(0.0, level), 2))


@dataclass
class Together:
    """One field of every role moved at once: the phase-outs by the same weeks, the levels and
    capacities by the same share (``step`` is then a fraction). Crosses the ridges where one
    role's phase-out or level only pays with its neighbours'."""

    name: str
    members: list[Coordinate]
    step: float
    least: float

    def move(self, rules: Mapping[str, Rule], sign: int, step: float) -> dict[str, Rule] | None:
        """``rules`` with every member moved a step up or down; None when none moves."""
        out: dict[str, Rule] | None = None
        for c in self.members:
            own = max(1.0, rules[c.role].level * step) if self.name == "level" else step
            moved = c.move(out or rules, sign, own)
            out = moved or out
        return out


@dataclass
class Shift:
    """Stock moved between a make-to-stock role and its make-to-stock customer: the customer's
    level up by a step, its supplier's down by the same (``sign`` -1: the other way). The two
    levels are near substitutes (the stock of either serves the same consumers a little later
    or sooner), so the best plans lie along a ridge that single moves cannot follow."""

    supplier: Coordinate
    customer: Coordinate
    step: float
    least: float = 1.0

    def move(self, rules: Mapping[str, Rule], sign: int, step: float) -> dict[str, Rule] | None:
        """``rules`` with ``step`` units moved to the customer (``sign`` 1) or back; None when
        either level is at its bound."""
        moved = self.customer.move(rules, sign, step)
        return None if moved is None else self.supplier.move(moved, -sign, step)


def shifts(scenario: Scenario, modes: Mapping[str, str], coords: list[Coordinate], step: float) -> list[Shift]:
    """A ``Shift`` for every make-to-stock role whose supplier makes to stock too."""
    level = {c.role: c for c in coords if c.name == "level"}
    out = []
    for spec in scenario.stages:
        up = spec.supplier
        if up in level and spec.role in level and modes[up] == modes[spec.role] == "mts":
            out.append(Shift(level[up], level[spec.role], max(1.0, step)))
    return out


def together(coords: list[Coordinate]) -> list[Together]:
    """Group moves for the levels, stops and ramps among ``coords``."""
    out = []
    for name, step, least in (("level", 0.1, 0.02), ("stop", 1.0, 1.0), ("ramp", 2.0, 1.0)):
        members = [c for c in coords if c.name == name]
        if len(members) > 1:
            out.append(Together(name, members, step, least))
    return out


def canonical(rules: Mapping[str, Rule], roles: tuple[str, ...]) -> tuple[tuple[float, ...], ...]:
    """A cache key that is the same for rules that play the same game (a rule that does not
    follow the forecast keeps neither its smoothing weight nor its cover)."""
    out = []
    for r in roles:
        rule = rules[r]
        out.append((rule.level, 0.0, 0.0, rule.stop, rule.ramp, 0.0) if rule.stationary else rule.key)
    return tuple(out)


class Objective:
    """Mean profit of a plan over some seeds, each plan played once (a cache)."""

    def __init__(self, scenario: Scenario, seeds: list[int]) -> None:
        self.scenario = scenario
        self.seeds = seeds
        self.starts = [new_game(scenario, s) for s in seeds]
        self.seen: dict[tuple[tuple[float, ...], ...], float] = {}

    def __call__(self, rules: Mapping[str, Rule]) -> float:
        key = canonical(rules, self.scenario.roles)
        if key not in self.seen:
            total = sum(play(self.scenario, s, rules, st) for s, st in zip(self.seeds, self.starts, strict=True))
            self.seen[key] = total / len(self.seeds)
        return self.seen[key]

    @property
    def games(self) -> int:
        """Games played so far."""
        return len(self.seen) * len(self.seeds)


def pattern_search(
    f: Objective,
    rules: dict[str, Rule],
    coords: Sequence[Coordinate | Together | Shift],
    budget: int,
    first: bool = True,
) -> tuple[dict[str, Rule], float]:
    """Coordinate search from ``rules``: each coordinate in turn moves a step up or down,
    again while that improves the mean profit; a coordinate that improves neither way halves
    its step, down to its smallest. Stops when no coordinate improves at its smallest step or
    after ``budget`` new plans. Starts from the coordinates' first steps (``first``) or their
    smallest. The start counts as a plan tried when it is new. Returns the best plan and its
    mean profit."""
    used = len(f.seen)
    best = f(rules)
    steps = [c.step if first else c.least for c in coords]
    done = [False] * len(coords)

    def left() -> bool:
        return len(f.seen) - used < budget

    while not all(done) and left():
        for k, c in enumerate(coords):
            if done[k] or not left():
                continue
            moved = False
            for sign in (1, -1):
                while left():
                    y = c.move(rules, sign, steps[k])
                    if y is None or f(y) <= best + 1e-9:
                        break
                    rules, best, moved = y, f(y), True
                if moved:
                    break
            if moved:
                done = [False] * len(coords)
            elif steps[k] <= c.least:
                done[k] = True
            else:
                steps[k] = max(c.least, steps[k] / 2)
    return rules, best


def coordinates(
    scenario: Scenario, modes: Mapping[str, str], names: tuple[str, ...], level_step: float, rate: float
) -> list[Coordinate | Together | Shift]:
    """The coordinates ``names`` of every role, grouped by name: a level moves by
    ``level_step`` first; a smoothing weight by 0.2; a cover by a week (make to stock) or a
    quarter (make to order), about the role's share of the mean weekly demand ``rate``; the
    phase-out by two weeks. Then the group moves of those fields (``together``) and, with the
    levels, stock moved between make-to-stock neighbours (``shifts``)."""
    half = float(scenario.weeks // 2)
    start = rates(scenario)
    out = []
    for name in names:
        for spec in scenario.stages:
            mto = modes[spec.role] == "mto"
            lead = spec.order_delay + spec.ship_delay + 1
            spans = {
                "level": (0.0, float(spec.max_capacity if mto else 10 * spec.max_order), max(1.0, level_step), 1.0),
                "alpha": (0.0, 1.0, 0.2, 0.05),
                "trend": (0.0, 1.0, 0.2, 0.05),
                "cover": (0.0, 4.0, 0.25, 0.05) if mto else (0.0, 4.0 * lead, 1.0, 0.25),
                "stop": (0.0, half, 2.0, 1.0),
                "ramp": (0.0, half, 2.0, 1.0),
            }
            share = rate * spec.market_share if spec.consumer_facing else rate
            out.append(Coordinate(spec.role, name, *spans[name], pivot=share - start[spec.role]))
    return [*out, *together(out), *shifts(scenario, modes, out, level_step)]


#: Seeds of the training set the search explores on (the whole set picks and polishes).
EXPLORE_SEEDS = 8
#: Shares of the budget: the stationary plan, the scattered starts, the searches from the best
#: starts (the rest: the polish on every training seed).
SHARES = (0.15, 0.15, 0.6)
#: Starts searched further.
SEARCHES = 3
#: The smallest budget that searches expert plans (a smaller one: the stationary plan only).
EXPERT_LEAST = 60
#: The fields the expert search moves, in this order.
EXPERT_FIELDS = ("stop", "alpha", "cover", "level", "ramp", "trend")


def mean_rate(states: list[GameState]) -> float:
    """Mean consumer demand per week over the games of ``states`` (all channels)."""
    per_game = [sum(sum(sum(ch) for ch in week) for week in s.demand) / max(1, len(s.demand)) for s in states]
    return sum(per_game) / len(per_game)


def rate_plan(scenario: Scenario, modes: Mapping[str, str], rate: float) -> dict[str, Rule]:
    """Levels covering the lead time plus a week, capacities a little above the rate."""
    plan = {}
    for spec in scenario.stages:
        share = rate * spec.market_share if spec.consumer_facing else rate
        if modes[spec.role] == "mto":
            plan[spec.role] = Rule(float(math.ceil(share * 1.15)))
        else:
            plan[spec.role] = Rule(float(round(share * (spec.order_delay + spec.ship_delay + 1))))
    return plan


def armed(scenario: Scenario, modes: Mapping[str, str], rules: Mapping[str, Rule]) -> dict[str, Rule]:
    """``rules`` with a cover of the lead time plus the review week (make to stock) or 1 (make
    to order) where they have none: they play as before (a smoothing weight of 0), and a weight
    moved up makes a role follow its forecast."""
    out = {}
    for spec in scenario.stages:
        rule = rules[spec.role]
        if rule.cover == 0:
            cover = 1.0 if modes[spec.role] == "mto" else float(spec.order_delay + spec.ship_delay + 1)
            rule = replace(rule, cover=cover)
        out[spec.role] = rule
    return out


def starts_following(
    scenario: Scenario, modes: Mapping[str, str], rules: Mapping[str, Rule], rate: float
) -> list[dict[str, Rule]]:
    """Starts of the expert search from the stationary plan ``rules``: as they are (armed with
    a cover), with only the most downstream make-to-stock role following a forecast smoothed
    with 0.3, and with every role following one smoothed with 0.2."""
    base = armed(scenario, modes, rules)
    coords = {c.role: c for c in coordinates(scenario, modes, ("alpha",), 1.0, rate)}
    stock = [spec.role for spec in scenario.stages if modes[spec.role] == "mts"]
    out = [base]
    if stock:
        last = stock[-1]
        out.append({**base, last: smoothed(base[last], 0.3, coords[last].pivot)})
    out.append({r: smoothed(rule, 0.2, coords[r].pivot) for r, rule in base.items()})
    return out


def random_starts(
    scenario: Scenario, modes: Mapping[str, str], rules: Mapping[str, Rule], rate: float, n: int
) -> list[dict[str, Rule]]:
    """``n`` plans scattered about the stationary plan ``rules`` (drawn from a generator of
    their own, so the search is the same every time): levels and capacities times 0.7 to 1.5,
    a forecast (with a trend or not) or none, a phase-out of up to half the game."""
    rng = random.Random(repr(sorted((r, x.level) for r, x in rules.items())))
    base = armed(scenario, modes, rules)
    coords = {c.role: c for c in coordinates(scenario, modes, ("alpha",), 1.0, rate)}
    half = scenario.weeks // 2
    out = []
    for _ in range(n):
        plan = {}
        for role, rule in base.items():
            rule = replace(rule, level=round(rule.level * rng.uniform(0.7, 1.5)))
            rule = smoothed(rule, rng.choice((0.0, 0.0, 0.1, 0.2, 0.4)), coords[role].pivot)
            rule = replace(rule, trend=rng.choice((0.0, 0.0, 0.1, 0.3)) if rule.alpha else 0.0)
            plan[role] = replace(rule, stop=int(half * rng.random() ** 2), ramp=rng.choice((0, 0, 2, 4, 8)))
        out.append(plan)
    return out


def tune(
    scenario: Scenario, seeds: list[int], budget: int, starts: list[Mapping[str, Rule]] | None = None
) -> tuple[dict[str, Rule], float, int]:
    """The best plan found for ``scenario`` as it stands (its stage modes) on ``seeds``: its
    rules, its mean profit there and the games played. ``budget`` plans are tried in all.

    1. The stationary plan (levels and capacities), from the best of ``starts`` or a
       rate-based plan, on the first ``EXPLORE_SEEDS`` seeds: all of a budget under
       ``EXPERT_LEAST`` (the search of the earlier reference), else a share.
    2. The expert plans (``search_expert``) with the rest."""
    few = Objective(scenario, seeds[:EXPLORE_SEEDS])
    full = Objective(scenario, seeds) if len(seeds) > EXPLORE_SEEDS else few
    modes = {spec.role: st.mode for spec, st in zip(scenario.stages, few.starts[0].stages, strict=True)}
    rate = mean_rate(few.starts)
    if starts:
        x, step = max((dict(s) for s in starts), key=few), rate / 4
    else:
        x, step = rate_plan(scenario, modes, rate), rate / 2
    first = budget if budget < EXPERT_LEAST else round(budget * SHARES[0])
    x, value = pattern_search(few, x, coordinates(scenario, modes, ("level",), step, rate), first - len(few.seen))
    if budget >= EXPERT_LEAST:
        x, value = search_expert(few, full, modes, x, rate, budget - len(few.seen))
    elif full is not few:
        value = full(x)
    return x, value, few.games + (full.games if full is not few else 0)


def search_expert(
    few: Objective, full: Objective, modes: Mapping[str, str], x: dict[str, Rule], rate: float, budget: int
) -> tuple[dict[str, Rule], float]:
    """The expert plans from the stationary plan ``x``, with ``budget`` more plans.

    Several starts: ``x`` as it is, with its last make-to-stock role or every role following
    a forecast (``starts_following``), and plans scattered about it and about the rate-based
    plan (``random_starts``); the best ``SEARCHES`` searched further on ``few`` seeds in every
    field of every rule (phase-out, forecast, cover, level, trend), each with its share of the
    budget; the best of those and ``x`` on ``full`` seeds, polished there with the rest."""
    scenario = few.scenario
    before = len(few.seen)
    scale = budget / (1 - SHARES[0])
    tries = starts_following(scenario, modes, x, rate)
    scatter = max(0, round(scale * SHARES[1]) - len(tries))
    tries += random_starts(scenario, modes, x, rate, scatter - scatter // 2)
    tries += random_starts(scenario, modes, rate_plan(scenario, modes, rate), rate, scatter // 2)
    tries = sorted(tries, key=few, reverse=True)[:SEARCHES]
    share = round(scale * SHARES[2]) // len(tries)
    coords = coordinates(scenario, modes, EXPERT_FIELDS, rate / 8, rate)
    found = [pattern_search(few, y, coords, share)[0] for y in tries]
    best = max([*found, x], key=full)  # never below the stationary plan on every training seed
    used = len(few.seen) - before + (len(full.seen) if full is not few else 0)
    rest = max(0, budget - used)
    return pattern_search(full, best, coordinates(scenario, modes, EXPERT_FIELDS, 1.0, rate), rest, False)
