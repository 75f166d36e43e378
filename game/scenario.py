"""Scenarios: the data that defines a chain, its demand, costs and options.

A scenario is plain data, loaded from ``config/scenarios/*.toml`` and validated
on load. Errors name the file, the key and the problem (``ScenarioError``).
"""

from __future__ import annotations

import math
import re
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass, field, fields, replace
from functools import cached_property
from pathlib import Path
from typing import Any

from game.codp import POSITIONS, apply_codp
from game.horizon import MAX_WEEKS
from game.jsonsafe import depth
from game.network import Network, Topology, build_network
from game.ranges import limits

SCENARIO_DIR = Path(__file__).resolve().parent.parent / "config" / "scenarios"

INFINITE = math.inf

DEMAND_KINDS = ("step", "constant", "normal", "uniform", "poisson", "series")
VISIBILITY_KEYS = ("pos_demand", "inventories", "pipelines")
TEXT_LANGUAGES = ("nl",)  # translations in ``[text.<lang>]``; English is the top-level keys
TEXT_KEYS = ("title", "description", "debrief")
MAX_NESTING = 16  # tables and lists inside each other in a scenario file (the presets need five)


class ScenarioError(ValueError):
    """A scenario file or mapping is invalid; the message names file, key and problem."""


@dataclass(frozen=True)
class StageSpec:
    """One stage of the chain and everything fixed about it."""

    role: str
    label: str
    supplier: str | None
    order_delay: int
    ship_delay: int
    on_hand: int
    backlog: int
    orders: tuple[int, ...]
    shipments: tuple[int, ...]
    holding_cost: float
    backlog_cost: float
    capacity_cost: float = 0.0
    capacity_change_cost: float = 0.0
    fulfilment_cost: float = 0.0
    wip_holding_cost: float = 0.0
    unit_value: float = 0.0
    market_share: float = 0.0
    delivery_delay: int = 0
    mode: str = "mts"
    capacity: int = 0
    max_order: int = 1000
    max_capacity: int = 1000
    mts_capacity: int = 0

    @property
    def bounded(self) -> bool:
        """True when the stage's throughput is limited while it works to stock."""
        return self.mts_capacity > 0

    @property
    def consumer_facing(self) -> bool:
        """True when consumers buy from this stage."""
        return self.market_share > 0


@dataclass(frozen=True)
class Comaker:
    """The co-makership deal a segment can be offered (``comaker = {...}`` on a segment).

    Its customers tell the team their orders ``horizon`` weeks ahead (advance demand
    information: the segment's demand of week w + horizon is known at week w), accept the
    agreed lead time of their variant (``lead_times``, else ``lead_time``) without walking
    away, and pay ``price`` x (1 - ``discount``)."""

    horizon: int = 2
    discount: float = 0.0
    lead_time: int = 0
    #: (variant name, weeks) pairs: a variant's agreed lead time (others: ``lead_time``)
    lead_times: tuple[tuple[str, int], ...] = ()
    #: the deal is in force from the start (else the team may offer it at setup or a review)
    active: bool = False

    def agreed(self, variant: str) -> int:
        """The agreed lead time (weeks, parcel delivery included) of ``variant``."""
        return dict(self.lead_times).get(variant, self.lead_time)


#: the decision key of the sales seat (``[sales]``), beside the roles'
SALES_SEAT = "sales"


@dataclass(frozen=True)
class Sales:
    """The sales seat (``[sales] enabled = true``): one number a week, the lead time (weeks,
    parcel delivery included) promised to every customer who cannot be served from stock.

    Customers accept or walk away by their segment's patience against that promise; a
    delivery later than promised costs the segment's ``late_cost`` per unit and week late
    (and, where the segment reneges, customers who cancel). ``promise`` is in force until
    the seat's first decision; bots promise the engine's own quote plus ``margin`` weeks."""

    promise: int = 2
    max_promise: int = 12
    margin: int = 1
    #: the weight of the chain's quote in the bots' promise, ``weight`` x quote + ``margin``
    #: (0: a fixed promise of ``margin`` weeks); not a key: the reference's sales rule
    #: (``game.sales.with_rule``)
    weight: float = 1.0


@dataclass(frozen=True)
class Segment:
    """A group of consumers with the same real needs."""

    name: str
    share: float
    tolerance: float = INFINITE
    price: float = 0.0
    premium: float = 0.0
    customised: bool = False
    goodwill: float = 0.0
    churn: float = 0.0
    #: (weeks, share) pairs: the share of the segment's customers who wait at most that long;
    #: whoever is not listed waits as long as it takes. Empty: everybody waits ``tolerance``.
    patience: tuple[tuple[float, float], ...] = ()
    #: a customised segment's discount (share of ``price``) for taking the standard product
    #: when the chain cannot customise; 1: they do not buy it at all (lost sales)
    standard_discount: float = 0.0
    #: accepted customers cancel once their wait passes their patience (reneging)
    renege: bool = False
    #: cost per unit and week a customer waits beyond the lead time promised
    late_cost: float = 0.0
    #: the co-makership deal this segment can be offered (None: it cannot co-make)
    comaker: Comaker | None = None
    #: the deal is in force: the segment co-makes (``game.comaker.apply_comaker``)
    comaking: bool = False

    def __repr__(self) -> str:
        """The dataclass repr, the co-makership fields only when set (so a scenario's
        ``game.analysis.reference.fingerprint`` is the same as before they existed)."""
        parts = [
            f"{f.name}={getattr(self, f.name)!r}"
            for f in fields(self)
            if f.name not in ("comaker", "comaking") or getattr(self, f.name) != f.default
        ]
        return f"Segment({', '.join(parts)})"

    def standard_price(self, customised: bool) -> float | None:
        """What a customer of this segment pays: ``price`` plus ``premium`` for a tailored
        product when the chain can customise (``customised``), the discounted ``price`` for
        the standard one when it cannot, ``None`` when they will not buy the standard one."""
        if not self.customised:
            return self.price
        if customised:
            return self.price + self.premium
        if self.standard_discount >= 1.0:
            return None
        return self.price * (1.0 - self.standard_discount)

    @cached_property
    def thresholds(self) -> tuple[tuple[float, float], ...]:
        """The patience distribution as (most weeks a customer waits, share), ``inf`` included."""
        if self.patience:
            rest = 1.0 - sum(share for _, share in self.patience)
            return (*self.patience, (INFINITE, rest)) if rest > 1e-9 else self.patience
        return ((self.tolerance, 1.0),)

    @cached_property
    def _willing(self) -> dict[float, float]:
        """``willing`` per lead time asked so far (quotes take few distinct values)."""
        return {}

    def willing(self, weeks: float) -> float:
        """The share of this segment's customers who accept a lead time of ``weeks``."""
        memo = self._willing
        value = memo.get(weeks)
        if value is None:
            value = sum(share for limit, share in self.thresholds if weeks <= limit)
            if len(memo) < 4096:
                memo[weeks] = value
        return value


@dataclass(frozen=True)
class Demand:
    """How total consumer demand per week is generated (before the split)."""

    kind: str = "step"
    base: float = 4.0
    step_week: int = 5
    after: float = 8.0
    mean: float = 4.0
    sd: float = 0.0
    low: int = 0
    high: int = 8
    series: tuple[int, ...] = ()
    #: the level of demand drawn once per seed: mean x (1 + level_sd x N(0, 1)), at least 0
    level_sd: float = 0.0
    #: seasonality: amplitude as a share of the level, period in weeks, phase drawn per seed
    season: float = 0.0
    season_period: int = 52
    #: life cycle: "flat", or "bell" (rises to a peak and falls away; the peak week is drawn
    #: per seed around ``peak_week`` +- ``peak_spread`` weeks, ``life_width`` weeks wide)
    life_cycle: str = "flat"
    peak_week: int = 0
    peak_spread: int = 0
    life_width: float = 10.0

    @property
    def shaped(self) -> bool:
        """True when the weekly mean moves (level, season or life cycle)."""
        return bool(self.level_sd or self.season or self.life_cycle != "flat")


@dataclass(frozen=True)
class Variant:
    """One end-product variant and its expected share of demand."""

    name: str
    share: float


@dataclass(frozen=True)
class Product:
    """Variety and commonality: the end-product variants and where the product gets its variant.

    Upstream of ``differentiation_stage`` stock is generic; from its final step on, stock
    is held per variant. That final step (``finish_*``) works to order within its capacity.
    ``mix_sd`` is the uncertainty of the mix: each variant's share is drawn once per seed as
    share x exp(mix_sd x N(0, 1)), normalised."""

    variants: tuple[Variant, ...] = (Variant("standard", 1.0),)
    differentiation_stage: str | None = None
    mix_sd: float = 0.0
    finish_delay: int = 1
    finish_capacity: int = 0
    finish_capacity_cost: float = 0.0
    finish_holding_cost: float | None = None


@dataclass(frozen=True)
class Jit:
    """Just-in-time deliveries: every week a small lot, but not always on time.

    ``late_share`` of the shipments to the ``stages`` listed (default: every stage) arrive a week
    after they were due, drawn per seed, week and stock point."""

    late_share: float = 0.0
    stages: tuple[str, ...] = ()


@dataclass(frozen=True)
class Region:
    """One regional market of the consumer-facing retail stage, with its share of demand."""

    name: str
    share: float


@dataclass(frozen=True)
class Scenario:
    """A complete, validated scenario."""

    name: str
    title: str
    description: str
    weeks: int
    stages: tuple[StageSpec, ...]
    demand: Demand
    segments: tuple[Segment, ...] = (Segment("all", 1.0),)
    unit_cost: float = 0.0
    write_off_rate: float = 0.0
    visibility: dict[str, bool] = field(default_factory=dict)
    codp: str | None = None
    codp_positions: tuple[str, ...] = ()
    customisation_stage: str | None = None
    review_weeks: tuple[int, ...] = ()
    debrief: str = ""
    texts: dict[str, dict[str, str]] = field(default_factory=dict)
    product: Product = field(default_factory=lambda: Product())
    regions: tuple[Region, ...] = ()
    #: "instant": a make-to-order stage passes an order upstream in the week it arrives (an
    #: electronic order); "mail": it goes by the stage's order delay like any other order
    mto_orders: str = "instant"
    jit: Jit = field(default_factory=lambda: Jit())
    #: one sentence per driver of this scenario: which position it favours and why (debrief)
    drivers: tuple[str, ...] = ()
    #: each role's stock on hand as the file gives it, before a decoupling point moved it
    #: (``game.codp.place_stock``); empty: the stages' own ``on_hand``
    opening: tuple[int, ...] = ()
    #: how many processes (decoupling points) a team may run, one per group of segments
    max_processes: int = field(default=1, repr=False)
    #: what each process beyond the first costs per week (the complexity of running it)
    process_cost: float = field(default=0.0, repr=False)
    #: the team's processes beyond the first (``game.codp.apply_processes``): per process,
    #: its position and the segments (indices) it serves; the rest are served by the chain
    lanes: tuple[tuple[str, tuple[int, ...]], ...] = field(default=(), repr=False)
    #: the weeks in which the game may end (first, last), drawn per seed (``game.horizon``);
    #: None: it ends after ``weeks``
    end_window: tuple[int, int] | None = None
    #: True when the players are told the last week (else pages show no final week)
    end_known: bool = False
    #: the game ends after this week whatever the draw (a replay of a game ended early); not a key
    end_at: int | None = None
    #: the sales seat (``[sales]``); None: no one promises, the chain quotes (``game.engine.quote``)
    sales: Sales | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if self.end_window is not None and not self.end_window[0] <= self.weeks <= self.end_window[1]:
            first, last = self.end_window
            raise ValueError(
                f"weeks ({self.weeks}) must lie in end_window [{first}, {last}]; game.horizon.with_length moves both"
            )

    @property
    def expanded(self) -> bool:
        """True when some role holds stock per variant or per region, the product has a
        final finishing step, or a segment has its own process (several nodes)."""
        return self.product.differentiation_stage is not None or len(self.regions) > 1 or bool(self.lanes)

    @cached_property
    def network(self) -> Network:
        """The stock points the engine plays (one per role, or per variant and region)."""
        return build_network(self)

    def text(self, key: str, lang: str | None = None) -> str:
        """``title``, ``description`` or ``debrief`` in ``lang`` (``nl``, ``nl-BE``...), else in English."""
        if key not in TEXT_KEYS:
            raise KeyError(key)
        return self.texts.get(_language(lang), {}).get(key) or getattr(self, key)

    def driver_texts(self, lang: str | None = None) -> list[str]:
        """``drivers`` in ``lang`` (``[text.nl] drivers``), else in English."""
        translated = self.texts.get(_language(lang), {}).get("drivers")
        return list(translated) if translated else list(self.drivers)

    def label(self, role: str, lang: str | None = None) -> str:
        """The display name of ``role`` in ``lang``, else the English ``label``."""
        return self.texts.get(_language(lang), {}).get(f"labels.{role}") or self.stage(role).label

    def names(self, lang: str | None = None) -> dict[str, str]:
        """Segment, region and variant names shown in ``lang`` (``[text.nl.names]``), only those
        translated (the rest are shown as written)."""
        texts = self.texts.get(_language(lang), {})
        return {k.removeprefix("names."): v for k, v in texts.items() if k.startswith("names.")}

    def labels(self, lang: str | None = None) -> dict[str, str]:
        """Every role's display name in ``lang`` (English where there is no translation)."""
        return {s.role: self.label(s.role, lang) for s in self.stages}

    @cached_property
    def roles(self) -> tuple[str, ...]:
        """Roles from most upstream to most downstream."""
        return tuple(s.role for s in self.stages)

    def stage(self, role: str) -> StageSpec:
        """The stage spec for ``role``."""
        for s in self.stages:
            if s.role == role:
                return s
        raise KeyError(role)

    def index(self, role: str) -> int:
        """Position of ``role`` in ``stages``."""
        return self.roles.index(role)

    @property
    def has_prices(self) -> bool:
        """True when the scenario earns revenue (profit scoring), else cost only."""
        return any(seg.price > 0 for seg in self.segments)

    @property
    def topology(self) -> Topology:
        """The links between roles by index (``game.network.Topology``)."""
        return self.network.topology

    def with_stages(self, stages: tuple[StageSpec, ...], **changes: Any) -> Scenario:
        """A copy with other stage specs (and other fields). The opening stock is kept only
        where the stock on hand is unchanged (or ``opening`` is given)."""
        if "opening" not in changes and [s.on_hand for s in stages] != [s.on_hand for s in self.stages]:
            changes["opening"] = ()
        return replace(self, stages=stages, **changes)


def _language(lang: str | None) -> str:
    """The primary language subtag of a locale name: ``nl_BE`` and ``nl-be`` give ``nl``."""
    return (lang or "").replace("_", "-").split("-")[0].lower()


# ----------------------------------------------------------------------------
# Loading and validation
# ----------------------------------------------------------------------------


def _shown(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else str(x)


class _Reader:
    """Typed access to a TOML table that reports errors with file and key."""

    def __init__(self, source: str, table: dict[str, Any], prefix: str) -> None:
        self.source = source
        self.table = table
        self.prefix = prefix
        self.section = re.sub(r"\[\d+\]", "", prefix).rstrip(".")  # "stages[2]." -> "stages"
        self.used: set[str] = set()

    def limits(self, key: str, lo: float | None = None, hi: float | None = None) -> tuple[float, float]:
        """``key``'s range from ``game.ranges``, narrowed by ``lo``/``hi`` (another key's value)."""
        rng = limits(f"{self.section}.{key}" if self.section else key)
        return max(rng.lo, lo) if lo is not None else rng.lo, min(rng.hi, hi) if hi is not None else rng.hi

    def check(self, key: str, value: float) -> None:
        """Refuse ``value`` when it is not finite or outside ``key``'s range."""
        self._within(key, value, *self.limits(key))

    def _within(self, key: str, value: float, low: float, high: float) -> None:
        if isinstance(value, float) and not math.isfinite(value):
            raise self.fail(key, f"must be a finite number, got {value}")
        if value < low:
            raise self.fail(key, f"must be at least {_shown(low)}, got {value}")
        if value > high:
            raise self.fail(key, f"must be at most {_shown(high)}, got {value}")

    def fail(self, key: str, problem: str) -> ScenarioError:
        return ScenarioError(f"{self.source}: {self.prefix}{key}: {problem}")

    def get(self, key: str, default: Any = ..., kind: type | tuple[type, ...] = object) -> Any:
        self.used.add(key)
        if key not in self.table:
            if default is ...:
                raise self.fail(key, "is required")
            return default
        value = self.table[key]
        if kind is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if kind is not object and (not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool)):
            name = kind.__name__ if isinstance(kind, type) else "/".join(k.__name__ for k in kind)
            raise self.fail(key, f"must be {name}, got {value!r}")
        return value

    def int(self, key: str, default: Any = ..., lo: int | None = None, hi: int | None = None) -> int:
        """A whole number within ``key``'s range (``game.ranges``; ``lo``/``hi`` narrow it)."""
        value = self.get(key, default, int)
        low, high = self.limits(key, lo, hi)
        if key in self.table:
            self._within(key, value, low, high)
        return value

    def num(self, key: str, default: Any = ..., lo: float | None = None, hi: float | None = None) -> float:
        """A finite number within ``key``'s range (``game.ranges``; ``lo``/``hi`` narrow it)."""
        value = self.get(key, default, float)
        low, high = self.limits(key, lo, hi)
        if value is not None and key in self.table:
            self._within(key, value, low, high)
        return value

    def ints(self, key: str, default: Any = ..., length: int | None = None) -> tuple[int, ...]:
        """A list of whole numbers, each within ``key``'s range."""
        value = self.get(key, default, list)
        low, high = self.limits(key)
        if not all(isinstance(v, int) and not isinstance(v, bool) and low <= v <= high for v in value):
            raise self.fail(key, f"must be a list of whole numbers from {_shown(low)} to {_shown(high)}, got {value!r}")
        if length is not None and len(value) != length:
            raise self.fail(key, f"must have {length} entries (one per week of delay), got {len(value)}")
        return tuple(value)

    def check_unknown(self) -> None:
        extra = sorted(set(self.table) - self.used)
        if extra:
            raise self.fail(extra[0], "unknown key")


def _stage(source: str, idx: int, table: Any, known: list[str]) -> StageSpec:
    if not isinstance(table, dict):
        raise ScenarioError(f"{source}: stages[{idx}]: must be a table")
    r = _Reader(source, table, f"stages[{idx}].")
    role = r.get("role", kind=str)
    if not role.isidentifier() or not role.islower():
        raise r.fail("role", f"must be a lower-case identifier, got {role!r}")
    if role in known:
        raise r.fail("role", f"duplicate role {role!r}")
    r.prefix = f"stages.{role}."
    supplier = r.get("supplier", None, str)
    if supplier is not None and supplier not in known:
        raise r.fail("supplier", f"must name a stage listed earlier, got {supplier!r}")
    order_delay = r.int("order_delay", 2)
    ship_delay = r.int("ship_delay", 2)
    mode = r.get("mode", "mts", str)
    if mode not in ("mts", "mto"):
        raise r.fail("mode", f"must be 'mts' or 'mto', got {mode!r}")
    max_order = r.int("max_order", 1000)
    max_capacity = r.int("max_capacity", 1000)
    spec = StageSpec(
        role=role,
        label=r.get("label", role.capitalize(), str),
        supplier=supplier,
        order_delay=order_delay,
        ship_delay=ship_delay,
        on_hand=r.int("on_hand", 0),
        backlog=r.int("backlog", 0),
        orders=r.ints("orders", (0,) * order_delay, order_delay),
        shipments=r.ints("shipments", (0,) * ship_delay, ship_delay),
        holding_cost=r.num("holding_cost", 0.5),
        backlog_cost=r.num("backlog_cost", 1.0),
        capacity_cost=r.num("capacity_cost", 0.0),
        capacity_change_cost=r.num("capacity_change_cost", 0.0),
        fulfilment_cost=r.num("fulfilment_cost", 0.0),
        wip_holding_cost=r.num("wip_holding_cost", 0.0),
        unit_value=r.num("unit_value", 0.0),
        market_share=r.num("market_share", 0.0),
        delivery_delay=r.int("delivery_delay", 0),
        mode=mode,
        capacity=r.int("capacity", 0, hi=max_capacity),
        max_order=max_order,
        max_capacity=max_capacity,
        mts_capacity=r.int("mts_capacity", 0),
    )
    r.check_unknown()
    return spec


def _segment(source: str, idx: int, table: Any) -> Segment:
    if not isinstance(table, dict):
        raise ScenarioError(f"{source}: segments[{idx}]: must be a table")
    r = _Reader(source, table, f"segments[{idx}].")
    tol = r.get("tolerance", "inf", (int, float, str))
    if isinstance(tol, str):
        if tol != "inf":
            raise r.fail("tolerance", f"must be a number of weeks or 'inf', got {tol!r}")
        tol = INFINITE
    elif isinstance(tol, bool):
        raise r.fail("tolerance", f"must be a number of weeks or 'inf', got {tol!r}")
    else:
        r.check("tolerance", tol)
    seg = Segment(
        name=r.get("name", kind=str),
        share=r.num("share"),
        tolerance=float(tol),
        price=r.num("price", 0.0),
        premium=r.num("premium", 0.0),
        customised=r.get("customised", False, bool),
        goodwill=r.num("goodwill", 0.0),
        churn=r.num("churn", 0.0),
        patience=_patience(r),
        standard_discount=r.num("standard_discount", 0.0),
        renege=r.get("renege", False, bool),
        late_cost=r.num("late_cost", 0.0),
        comaker=_comaker(source, idx, table["comaker"]) if "comaker" in table else None,
    )
    r.used.add("comaker")
    r.check_unknown()
    if seg.comaker is not None and seg.comaker.active:
        seg = replace(seg, comaking=True)
    return seg


def _comaker(source: str, idx: int, table: Any) -> Comaker:
    """A segment's ``comaker`` table: horizon, discount, lead_time, lead_times, active."""
    if not isinstance(table, dict):
        raise ScenarioError(f"{source}: segments[{idx}].comaker: must be a table")
    r = _Reader(source, table, f"segments[{idx}].comaker.")
    raw = r.get("lead_times", {}, dict)
    low, high = r.limits("lead_times")
    lead_times = []
    for name, weeks in raw.items():
        if isinstance(weeks, bool) or not isinstance(weeks, int) or not low <= weeks <= high:
            shown = f"from {_shown(low)} to {_shown(high)}"
            raise r.fail(f"lead_times.{name}", f"must be a whole number of weeks {shown}, got {weeks!r}")
        lead_times.append((name, weeks))
    deal = Comaker(
        horizon=r.int("horizon", 2),
        discount=r.num("discount", 0.0),
        lead_time=r.int("lead_time", 0),
        lead_times=tuple(lead_times),
        active=r.get("active", False, bool),
    )
    r.check_unknown()
    return deal


def _patience(r: _Reader) -> tuple[tuple[float, float], ...]:
    """``patience = [[weeks, share], ...]``: shares of customers by the most weeks they wait."""
    raw = r.get("patience", [], list)
    out: list[tuple[float, float]] = []
    for k, pair in enumerate(raw):
        ok = isinstance(pair, list) and len(pair) == 2
        ok = ok and all(isinstance(v, int | float) and not isinstance(v, bool) for v in pair)
        low, high = r.limits("patience")
        if not ok or not low <= pair[0] <= high or not 0 <= pair[1] <= 1:
            want = f"[weeks {_shown(low)}..{_shown(high)}, share 0..1]"
            raise r.fail("patience", f"entry {k} must be {want}, got {pair!r}")
        if out and pair[0] <= out[-1][0]:
            raise r.fail("patience", "weeks must rise from one entry to the next")
        out.append((float(pair[0]), float(pair[1])))
    if sum(share for _, share in out) > 1 + 1e-6:
        raise r.fail("patience", "shares add up to more than 1 (the rest waits as long as it takes)")
    if out and "tolerance" in r.table:
        raise r.fail("patience", "give either tolerance or patience, not both")
    return tuple(out)


def _demand(source: str, table: Any) -> Demand:
    if not isinstance(table, dict):
        raise ScenarioError(f"{source}: demand: must be a table")
    r = _Reader(source, table, "demand.")
    kind = r.get("kind", "step", str)
    if kind not in DEMAND_KINDS:
        raise r.fail("kind", f"must be one of {', '.join(DEMAND_KINDS)}, got {kind!r}")
    d = Demand(
        kind=kind,
        base=r.num("base", 4.0),
        step_week=r.int("step_week", 5),
        after=r.num("after", 8.0),
        mean=r.num("mean", 4.0),
        sd=r.num("sd", 0.0),
        low=r.int("low", 0),
        high=r.int("high", 8),
        series=r.ints("series", ()),
        level_sd=r.num("level_sd", 0.0),
        season=r.num("season", 0.0),
        season_period=r.int("season_period", 52),
        life_cycle=r.get("life_cycle", "flat", str),
        peak_week=r.int("peak_week", 0),
        peak_spread=r.int("peak_spread", 0),
        life_width=r.num("life_width", 10.0),
    )
    if d.life_cycle not in ("flat", "bell"):
        raise r.fail("life_cycle", f"must be 'flat' or 'bell', got {d.life_cycle!r}")
    if d.high < d.low:
        raise r.fail("high", f"must be >= low ({d.low}), got {d.high}")
    if kind == "series" and not d.series:
        raise r.fail("series", "is required when kind = 'series'")
    r.check_unknown()
    return d


def _named_shares(source: str, key: str, raw: Any, kind: type) -> tuple[Any, ...]:
    """A list of ``{name, share}`` tables (variants, regions) whose shares add up to 1."""
    if not isinstance(raw, list) or not raw:
        raise ScenarioError(f"{source}: {key}: must be a list of tables with name and share")
    out = []
    for k, table in enumerate(raw):
        if not isinstance(table, dict):
            raise ScenarioError(f"{source}: {key}[{k}]: must be a table with name and share")
        r = _Reader(source, table, f"{key}[{k}].")
        name = r.get("name", kind=str)
        if not name or name in [o.name for o in out]:
            raise r.fail("name", f"must be a unique non-empty name, got {name!r}")
        out.append(kind(name, r.num("share")))
        r.check_unknown()
    if abs(sum(o.share for o in out) - 1.0) > 1e-6:
        raise ScenarioError(f"{source}: {key}: shares must add up to 1")
    return tuple(out)


def _product(source: str, table: Any, roles: list[str]) -> Product:
    """The ``[product]`` table: variants, mix uncertainty, differentiation stage, final step."""
    if not isinstance(table, dict):
        raise ScenarioError(f"{source}: product: must be a table")
    r = _Reader(source, table, "product.")
    variants = _named_shares(source, "product.variants", r.get("variants", kind=list), Variant)
    stage = r.get("differentiation_stage", None, str)
    if stage is not None and stage not in roles:
        raise r.fail("differentiation_stage", f"names no stage: {stage!r} (stages: {', '.join(roles)})")
    if len(variants) > 1 and stage is None:
        raise r.fail("differentiation_stage", "is required when there is more than one variant")
    holding = r.get("finish_holding_cost", None, (int, float))
    product = Product(
        variants=variants,
        differentiation_stage=stage,
        mix_sd=r.num("mix_sd", 0.0),
        finish_delay=r.int("finish_delay", 1),
        finish_capacity=r.int("finish_capacity", 0),
        finish_capacity_cost=r.num("finish_capacity_cost", 0.0),
        finish_holding_cost=None if holding is None else r.num("finish_holding_cost"),
    )
    r.check_unknown()
    return product


def _jit(source: str, table: Any, roles: list[str]) -> Jit:
    """The ``[jit]`` table: the share of late deliveries and the stages that receive them."""
    if not isinstance(table, dict):
        raise ScenarioError(f"{source}: jit: must be a table")
    r = _Reader(source, table, "jit.")
    stages = tuple(r.get("stages", [], list))
    for role in stages:
        if role not in roles:
            raise r.fail("stages", f"names no stage: {role!r} (stages: {', '.join(roles)})")
    jit = Jit(late_share=r.num("late_share", 0.0), stages=stages)
    r.check_unknown()
    return jit


def _sales(source: str, table: Any, roles: list[str]) -> Sales | None:
    """The ``[sales]`` table: enabled, promise, max_promise, margin (None when not enabled)."""
    if not isinstance(table, dict):
        raise ScenarioError(f"{source}: sales: must be a table")
    r = _Reader(source, table, "sales.")
    enabled = r.get("enabled", False, bool)
    most = r.int("max_promise", 12)
    sales = Sales(promise=r.int("promise", 2, hi=most), max_promise=most, margin=r.int("margin", 1, hi=most))
    r.check_unknown()
    if enabled and SALES_SEAT in roles:
        raise r.fail("enabled", f"a stage's role is {SALES_SEAT!r}, the sales seat's name")
    return sales if enabled else None


def _end_window(r: _Reader, weeks: int) -> tuple[int, int] | None:
    """``end_window = [first, last]``: the weeks the game may end in, around ``weeks``."""
    raw = r.get("end_window", None, list)
    if raw is None:
        return None
    if len(raw) != 2 or not all(isinstance(v, int) and not isinstance(v, bool) for v in raw):
        raise r.fail("end_window", f"must be [first, last], two whole numbers of weeks, got {raw!r}")
    first, last = raw
    if not 1 <= first <= weeks <= last <= MAX_WEEKS:
        raise r.fail(
            "end_window",
            f"must hold 1 <= first <= weeks ({weeks}) <= last <= {MAX_WEEKS}, got [{first}, {last}]",
        )
    return (first, last)


def _raw_names(data: dict[str, Any]) -> list[str]:
    """The names of a scenario's segments, regions and product variants, as written (a table
    without a name is refused where it is read)."""
    product = data.get("product")
    tables = [
        data.get("segments"),
        data.get("regions"),
        product.get("variants") if isinstance(product, dict) else None,
    ]
    return [t["name"] for ts in tables if isinstance(ts, list) for t in ts if isinstance(t, dict) and "name" in t]


def _text_names(where: str, value: Any, names: Sequence[str]) -> dict[str, str]:
    """``[text.<lang>.names]``: segment, region and variant names = their display names."""
    if not isinstance(value, dict):
        raise ScenarioError(f"{where}.names: must be a table of name = display name")
    out: dict[str, str] = {}
    for name, shown in value.items():
        if name not in names:
            raise ScenarioError(
                f"{where}.names.{name}: names no segment, region or variant (names: {', '.join(names) or 'none'})"
            )
        if not isinstance(shown, str) or not shown.strip():
            raise ScenarioError(f"{where}.names.{name}: must be a non-empty string, got {shown!r}")
        out[f"names.{name}"] = shown
    return out


def _texts(source: str, table: Any, roles: list[str], names: Sequence[str] = ()) -> dict[str, dict[str, str]]:
    """The ``[text.<lang>]`` tables: translated title, description, debrief, stage labels and
    the names of segments, regions and variants."""
    if not isinstance(table, dict):
        raise ScenarioError(f"{source}: text: must be a table of languages, e.g. [text.nl]")
    out: dict[str, dict[str, str]] = {}
    for lang, entries in table.items():
        where = f"{source}: text.{lang}"
        if lang not in TEXT_LANGUAGES:
            raise ScenarioError(
                f"{where}: unknown language (known: {', '.join(TEXT_LANGUAGES)}; English is the top level)"
            )
        if not isinstance(entries, dict):
            raise ScenarioError(f"{where}: must be a table")
        texts: dict[str, str] = {}
        for key, value in entries.items():
            if key == "labels":
                if not isinstance(value, dict):
                    raise ScenarioError(f"{where}.labels: must be a table of role = label")
                for role, label in value.items():
                    if role not in roles:
                        raise ScenarioError(f"{where}.labels.{role}: names no stage (stages: {', '.join(roles)})")
                    if not isinstance(label, str) or not label.strip():
                        raise ScenarioError(f"{where}.labels.{role}: must be a non-empty string, got {label!r}")
                    texts[f"labels.{role}"] = label
            elif key == "names":
                texts.update(_text_names(where, value, names))
            elif key == "drivers":
                if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
                    raise ScenarioError(f"{where}.drivers: must be a list of non-empty strings")
                texts["drivers"] = tuple(value)  # type: ignore[assignment]
            elif key in TEXT_KEYS:
                if not isinstance(value, str) or not value.strip():
                    raise ScenarioError(f"{where}.{key}: must be a non-empty string, got {value!r}")
                texts[key] = value
            else:
                known = ", ".join((*TEXT_KEYS, "labels", "names", "drivers"))
                raise ScenarioError(f"{where}.{key}: unknown key (known: {known})")
        out[lang] = texts
    return out


def scenario_from_dict(data: dict[str, Any], source: str = "<scenario>") -> Scenario:
    """Validate a parsed TOML mapping and build a ``Scenario``."""
    if not isinstance(data, dict):
        raise ScenarioError(f"{source}: must be a table")
    r = _Reader(source, data, "")
    name = r.get("name", kind=str)
    stages = _stages(r)
    segments = _segments(r)
    visibility = _visibility(r)
    codp = r.get("codp", None, str)
    positions = tuple(r.get("codp_positions", [], list))
    for p in positions + ((codp,) if codp else ()):
        if p not in POSITIONS:
            raise r.fail("codp", f"unknown position {p!r} (known: {', '.join(POSITIONS)})")
    roles = [s.role for s in stages]
    custom = r.get("customisation_stage", None, str)
    if custom is not None and custom != "engineering" and custom not in roles:
        raise r.fail("customisation_stage", f"names no stage: {custom!r}")
    weeks = r.int("weeks", 36)
    scenario = Scenario(
        name=name,
        title=r.get("title", name, str),
        description=r.get("description", "", str),
        weeks=weeks,
        stages=tuple(stages),
        demand=_demand(source, r.get("demand", {}, dict)),
        segments=segments,
        unit_cost=r.num("unit_cost", 0.0),
        write_off_rate=r.num("write_off_rate", 0.0),
        visibility=visibility,
        codp=codp,
        codp_positions=positions,
        customisation_stage=custom,
        review_weeks=r.ints("review_weeks", ()),
        debrief=r.get("debrief", "", str),
        texts=_texts(source, r.get("text", {}), roles, _raw_names(data)),
        product=_product(source, r.get("product"), roles) if "product" in data else Product(),
        regions=_named_shares(source, "regions", data["regions"], Region) if "regions" in data else (),
        mto_orders=r.get("mto_orders", "instant", str),
        drivers=tuple(r.get("drivers", [], list)),
        jit=_jit(source, data["jit"], roles) if "jit" in data else Jit(),
        max_processes=r.int("max_processes", 1, hi=len(segments)),
        process_cost=r.num("process_cost", 0.0),
        end_window=_end_window(r, weeks),
        end_known=r.get("end_known", False, bool),
        sales=_sales(source, data["sales"], roles) if "sales" in data else None,
    )
    _check_whole(r, scenario)
    if codp:
        try:
            scenario = apply_codp(scenario, codp)
        except ValueError as exc:
            raise ScenarioError(f"{source}: codp: {exc}") from None
    return scenario


def _stages(r: _Reader) -> list[StageSpec]:
    """The ``stages`` list: at least one buys from the outside source, some sell to consumers
    (their market shares adding up to 1), and none of those supplies another stage."""
    stages_raw = r.get("stages", kind=list)
    if not stages_raw:
        raise r.fail("stages", "must list at least one stage")
    stages: list[StageSpec] = []
    for i, t in enumerate(stages_raw):
        stages.append(_stage(r.source, i, t, [s.role for s in stages]))
    if not any(s.supplier is None for s in stages):
        raise r.fail("stages", "no stage buys from the outside source (supplier omitted)")
    facing = [s for s in stages if s.consumer_facing]
    if not facing:
        raise r.fail("stages", "no stage sells to consumers (market_share > 0)")
    if abs(sum(s.market_share for s in facing) - 1.0) > 1e-6:
        raise r.fail("stages", "market_share of the consumer-facing stages must add up to 1")
    for s in facing:
        if any(o.supplier == s.role for o in stages):
            raise r.fail(f"stages.{s.role}", "a consumer-facing stage cannot also supply another stage")
    return stages


def _segments(r: _Reader) -> tuple[Segment, ...]:
    """The ``segments`` list (one patient segment by default); their shares add up to 1."""
    segments_raw = r.get("segments", [{"name": "all", "share": 1.0}], list)
    segments = tuple(_segment(r.source, i, t) for i, t in enumerate(segments_raw))
    if not segments:
        raise r.fail("segments", "must list at least one segment")
    if abs(sum(s.share for s in segments) - 1.0) > 1e-6:
        raise r.fail("segments", "shares must add up to 1")
    return segments


def _visibility(r: _Reader) -> dict[str, bool]:
    """The ``visibility`` table: every sharing option, true or false (default false)."""
    vis_raw = r.get("visibility", {}, dict)
    for k, v in vis_raw.items():
        if k not in VISIBILITY_KEYS:
            raise ScenarioError(f"{r.source}: visibility.{k}: unknown key (known: {', '.join(VISIBILITY_KEYS)})")
        if not isinstance(v, bool):
            raise ScenarioError(f"{r.source}: visibility.{k}: must be true or false, got {v!r}")
    return {k: bool(vis_raw.get(k, False)) for k in VISIBILITY_KEYS}


def _check_whole(r: _Reader, scenario: Scenario) -> None:
    """The checks that need the whole scenario, then no key left unread."""
    source = r.source
    r.used.update(("jit", "sales"))
    if not all(isinstance(d, str) and d.strip() for d in scenario.drivers):
        raise r.fail("drivers", "must be a list of non-empty strings")
    r.used.update(("product", "regions"))
    _check_comaker_variants(source, scenario)
    if scenario.mto_orders not in ("instant", "mail"):
        raise r.fail("mto_orders", f"must be 'instant' or 'mail', got {scenario.mto_orders!r}")
    facing = [s for s in scenario.stages if s.consumer_facing]
    if scenario.max_processes > 1 and (len(facing) > 1 or scenario.expanded):
        raise r.fail("max_processes", "a process per segment needs one consumer-facing stage, no variants or regions")
    r.check_unknown()


def _check_comaker_variants(source: str, scenario: Scenario) -> None:
    """Every variant a ``comaker.lead_times`` table names is one of the product's."""
    names = [v.name for v in scenario.product.variants]
    for k, seg in enumerate(scenario.segments):
        for name, _ in seg.comaker.lead_times if seg.comaker else ():
            if name not in names:
                where = f"{source}: segments[{k}].comaker.lead_times.{name}"
                raise ScenarioError(f"{where}: names no variant (variants: {', '.join(names)})")


def load_scenario(name_or_path: str | Path) -> Scenario:
    """Load a preset by name (``classic``) or a TOML file by path."""
    path = Path(name_or_path)
    if path.suffix != ".toml":
        candidate = SCENARIO_DIR / f"{name_or_path}.toml"
        if not candidate.exists():
            known = ", ".join(list_presets()) or "none"
            raise ScenarioError(f"unknown scenario {str(name_or_path)!r} (presets: {known})")
        path = candidate
    if not path.exists():
        raise ScenarioError(f"{path}: file not found")
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ScenarioError(f"{path}: cannot read: {exc}") from None
    return scenario_from_toml(text, path.name)


def scenario_from_toml(text: str, source: str = "<scenario>") -> Scenario:
    """Parse and validate the text of a scenario file; errors name ``source`` and the key."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(f"{source}: not valid TOML: {exc}") from None
    except RecursionError:
        data = None
    if data is None or depth(data) > MAX_NESTING:
        raise ScenarioError(f"{source}: tables and lists nested deeper than {MAX_NESTING} levels")
    return scenario_from_dict(data, source)


def list_presets() -> list[str]:
    """Names of the preset scenarios shipped in ``config/scenarios``."""
    return sorted(p.stem for p in SCENARIO_DIR.glob("*.toml"))
