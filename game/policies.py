"""Bot policies: they fill empty seats and drive the comparisons.

A policy is pure: ``decide(obs, memory, view) -> (decision, memory)``. ``obs``
is the role's observation at the decision point (``game.observe.observe``, or
``view["me"]`` of a player's state), ``memory`` a JSON-compatible dict the
caller keeps between weeks (empty at the start) and ``view`` the seat's
``game.visibility.view`` when the visibility options share something (else
``None``). The decision is an order for a make-to-stock stage and a capacity
for a make-to-order one (``obs["decision"]`` says which).

What the bots do with what they are shown (``docs/SCENARIOS.md``, "Information
sharing"): with point-of-sale demand shared every policy forecasts from the
consumer demand the stage serves instead of the orders it receives, scaled by the share
of it that reaches the stage (``shared_signal``: ``pos_share`` on the stage's own position;
a stage with only make-to-order stages below it forecasts its own demand, which is the
consumers' accepted orders, and the base-stock bot the scaled point-of-sale demand in weeks
it was short; Sterman's bot above a stock point behind make-to-order stages, where that share
must be learned, weighs the orders the point of sale accepted against the scaled forecast,
``central_forecast``, and combines that with its own orders' forecast by their record, ``combine``);
with inventories and pipelines shared too, the base-stock bot of a serial chain
of make-to-stock stages orders on its echelon position (its own stock and supply
line plus everything downstream of it, minus what consumers wait for) against a level that covers
the lead times down to the consumer, from the share that enters the echelon
(``echelon_share``). ``shared=0`` makes a bot ignore the view. Where co-makers' orders
are known ahead (the view's ``advance_orders``), the base-stock and Sterman bots forecast the weeks
they cover as those orders plus the forecast of the rest of demand (``ahead``).

Spec strings: ``NAME`` or ``NAME:key=value,key=value``; ``key_<role>=value``
sets a parameter for one role only (see ``parse_policy``).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from statistics import NormalDist, fmean, pstdev
from typing import Any

#: Weeks of the base-stock bot's moving-average forecast (``window``): the ``p`` of the
#: bullwhip bound of Chen et al. (2000) in ``game.scoring``.
FORECAST_WINDOW = 16
#: Fractiles the base-stock bot keeps within (a zero holding or backlog cost would ask
#: for an infinite level).
FRACTILE_RANGE = (0.02, 0.98)


class PolicyError(ValueError):
    """An unknown policy name or a bad parameter."""


def _round(x: float) -> int:
    """Round half up to a whole case (never negative)."""
    return max(0, math.floor(x + 0.5))


# ----------------------------------------------------------------------------
# What a seat is shown
# ----------------------------------------------------------------------------


def served_channels(chain: Sequence[Mapping[str, Any]], role: str) -> list[str]:
    """The consumer-facing roles at or downstream of ``role`` in a view's ``chain``."""
    supplier = {c["role"]: c.get("supplier") for c in chain}
    out = []
    for c in chain:
        if not c.get("consumer_facing"):
            continue
        k: str | None = c["role"]
        for _ in range(len(chain)):
            if k is None or k == role:
                break
            k = supplier.get(k)
        if k == role:
            out.append(c["role"])
    return out


def pos_signal(obs: Mapping[str, Any], view: Mapping[str, Any] | None) -> int | None:
    """This week's point-of-sale demand at the channels the stage serves, when the view
    shares it (``None`` otherwise)."""
    if not view or not view.get("pos_demand"):
        return None
    if view["pos_demand"][-1].get("week") != obs["week"]:
        return None
    return _at_served(obs, view, "by_channel")


def accepted_signal(obs: Mapping[str, Any], view: Mapping[str, Any]) -> float:
    """This week's consumers' units the channels the stage serves accepted (the point of sale's
    ``accepted_by_channel``: sold at once or taken on to wait), when the view shares them."""
    return float(_at_served(obs, view, "accepted_by_channel"))


def _at_served(obs: Mapping[str, Any], view: Mapping[str, Any], key: str) -> int:
    """The latest point-of-sale row's per-channel figure ``key`` summed over the channels the
    stage serves."""
    per_channel = view["pos_demand"][-1].get(key, {})
    return sum(int(per_channel.get(c, 0)) for c in served_channels(view.get("chain", ()), obs["role"]))


def demand_signal(obs: Mapping[str, Any], view: Mapping[str, Any] | None) -> float:
    """What the stage forecasts from: the point-of-sale demand it serves when shared,
    else its own customers' demand: every consumer who came at a consumer-facing stage
    (those who walked away too: forecasting from the sales alone would shrink with every
    stock-out), the orders it received elsewhere."""
    pos = pos_signal(obs, view)
    return own_demand(obs) if pos is None else float(pos)


def own_demand(obs: Mapping[str, Any]) -> float:
    """The stage's own customers' demand this week: every consumer who came at a
    consumer-facing stage, the orders it received elsewhere."""
    return float(obs.get("demand", obs["incoming_order"]))


#: Weeks of the initial rate the share of point-of-sale demand starts from (``pos_share``)
#: at a stage with a stock point between it and the consumers: its orders also move that
#: stock (a customer draining its opening stock orders less for weeks), so it learns slowly.
SHARE_PRIOR = 4
#: The same where the consumers' orders reach the stage the week they are placed (only
#: make-to-order stages between, ``direct``), and for the demand entering an echelon.
DIRECT_PRIOR = 1


def modes_below(obs: Mapping[str, Any], view: Mapping[str, Any]) -> set[str]:
    """The modes (``mts``, ``mto``) of the stages between the stage and the consumer channels
    it serves (none when it faces the consumers itself)."""
    chain = {c["role"]: c for c in view.get("chain", ())}
    modes: set[str] = set()
    for k in served_channels(view.get("chain", ()), obs["role"]):
        while k != obs["role"]:
            modes.add(chain[k].get("mode", "mts"))
            k = chain[k]["supplier"]
    return modes


def direct(obs: Mapping[str, Any], view: Mapping[str, Any]) -> bool:
    """True when no stock point stands between the stage and the consumer channels it
    serves (each stage between works to order): its own demand is then the consumers'
    orders that were accepted, passed on the same week."""
    return modes_below(obs, view) <= {"mto"}


def short(obs: Mapping[str, Any]) -> bool:
    """The stage could not fill all it was asked for (an empty shelf or a backlog): consumers
    who then walked away say nothing of the share that reaches it when it has stock."""
    return obs["backlog"] > 0 or obs["on_hand"] <= 0


def pos_share(obs: Mapping[str, Any], memory: dict[str, Any], pos: float, direct: bool = False) -> float:
    """The share of the shared point-of-sale demand that reaches the stage as its own
    demand: what it was asked for so far over what the consumers it serves asked for
    (both from ``SHARE_PRIOR`` weeks of the initial rate, ``DIRECT_PRIOR`` for a
    ``direct`` stage, which also skips the weeks it was ``short``; kept in
    ``memory["asked"]``). Consumers who walk away or are served elsewhere never reach it,
    so a stage that forecast the whole point-of-sale demand would stock for them."""
    prior = (DIRECT_PRIOR if direct else SHARE_PRIOR) * obs["initial_rate"]
    asked = memory.get("asked", [prior, prior])
    if not (direct and short(obs)):
        asked = [asked[0] + own_demand(obs), asked[1] + pos]
    memory["asked"] = asked
    return asked[0] / asked[1] if asked[1] > 0 else 1.0


def echelon_share(obs: Mapping[str, Any], memory: dict[str, Any], pos: float, position: float) -> float:
    """The share of the shared point-of-sale demand that enters the stage's echelon (its
    echelon demand, Clark & Scarf 1960): what left the echelon position since last week
    (that position plus the order the stage then placed, ``memory["echelon_last"]``, minus
    this week's) over the consumers' demand, both from ``DIRECT_PRIOR`` weeks of the initial
    rate (kept in ``memory["entered"]``). Consumers who walk away from a make-to-order
    stage's lead time never enter; the echelon's own stock moves do not count."""
    prior = DIRECT_PRIOR * obs["initial_rate"]
    entered = memory.get("entered", [prior, prior])
    if "echelon_last" in memory:
        entered = [entered[0] + memory["echelon_last"] - position, entered[1] + pos]
    memory["entered"], memory["echelon_at"] = entered, position
    return entered[0] / entered[1] if entered[1] > 0 else 1.0


def shared_signal(obs: Mapping[str, Any], memory: dict[str, Any], view: Mapping[str, Any], name: str) -> float:
    """What a make-to-stock stage forecasts from when point-of-sale demand ``pos`` is shared
    (Chen et al. 2000; Lee, So & Tang 2000). The base-stock bot on its echelon position: the
    share of it that enters the echelon (``echelon_share``); Chen et al.'s moving-average rule
    there: all of it. Elsewhere the stage fills its own orders on its own position: a
    ``direct`` stage forecasts its own demand (it is the consumers' accepted orders, the same
    week) and, for the base-stock bot in a week it was ``short``, the share of the
    point-of-sale demand it sees when it has stock (its level must cover the consumers its
    shortage turned away); Sterman's anchor is the orders the stage expects to fill, which
    at a ``direct`` stage are its own demand, short or not (those who wait are in its
    backlog, those who walked away order nothing), and above a central stock (``filtered``)
    the orders the point of sale accepted (``central_forecast`` weighs them). A stage with a
    stock point below: the share that reached it so far."""
    pos = float(pos_signal(obs, view) or 0)
    ech = echelon(obs, view) if name in ("base_stock", "moving_average") else None
    if ech is not None:
        return pos if name == "moving_average" else echelon_share(obs, memory, pos, ech[0]) * pos
    straight = direct(obs, view)
    if name == "sterman" and (straight or filtered(obs, view)):
        return own_demand(obs) if straight else accepted_signal(obs, view)
    share = pos_share(obs, memory, pos, straight)
    return own_demand(obs) if straight and not short(obs) else share * pos


def central_forecast(
    obs: Mapping[str, Any], memory: dict[str, Any], view: Mapping[str, Any], accepted: float, theta: float
) -> float:
    """Sterman's shared forecast above a central stock (``filtered``, not ``direct``): two
    forecasts of the consumers' demand that reaches the stage, the smoothed orders the point
    of sale ``accepted`` and the point-of-sale demand scaled by the share that reached the stage
    so far (``pos_share``, smoothed by ``theta`` in ``memory["scaled"]``). The first is right
    in the long run; the second lags while the central stock below draws its opening goods
    down, and so runs low. A stage whose net stock would not fill another week like this one
    takes the larger (running short turns consumers away), any other the smaller (what it
    orders early waits in stock, and the central stock may still be drawing down)."""
    pos = float(pos_signal(obs, view) or 0)
    scaled = memory["scaled"] = _smooth(pos_share(obs, memory, pos) * pos, memory, obs, theta, "scaled")
    pick = max if obs["on_hand"] - obs["backlog"] < own_demand(obs) else min
    return pick(accepted, scaled)


def filtered(obs: Mapping[str, Any], view: Mapping[str, Any]) -> bool:
    """True when a make-to-order stage stands between the stage and a consumer channel it
    serves: consumers who will not wait for its lead time never become demand, so the share
    of the point-of-sale demand that reaches the stage is not known and must be learned."""
    return "mto" in modes_below(obs, view)


#: Weight of the newest squared error in the errors ``combine`` weighs its forecasts by
#: (exponential smoothing: a memory of about ten weeks).
ERROR_WEIGHT = 0.1
#: The shared forecast's error before it has a record, as a share of the initial rate.
PRIOR_ERROR = 1.0


def combine(obs: Mapping[str, Any], memory: dict[str, Any], shared: float, theta: float) -> float:
    """Sterman's anchor where the share of point-of-sale demand reaching the stage must be
    learned (``filtered``, above a stock point): the forecast combination of Bates & Granger
    (1969) of its own smoothed orders and the ``shared`` forecast (``central_forecast``), each weighted by the
    inverse of its smoothed squared error (``ERROR_WEIGHT``) at predicting the orders the
    stage then received (kept in ``memory["combined"]``: last week's forecasts and errors).
    The shared forecast starts without a record (an error of ``PRIOR_ERROR`` x the initial
    rate), so the stage trusts its own orders until the shared signal has predicted them."""
    own = own_demand(obs)
    rate = float(obs["initial_rate"])
    last, errors = memory.get("combined", ([rate, rate], [0.0, (PRIOR_ERROR * rate) ** 2]))
    errors = [(1 - ERROR_WEIGHT) * e + ERROR_WEIGHT * (own - f) ** 2 for e, f in zip(errors, last, strict=True)]
    mine = theta * own + (1 - theta) * last[0]
    memory["combined"] = ([mine, shared], errors)
    total = errors[0] + errors[1]
    return mine if total <= 0 else (errors[1] * mine + errors[0] * shared) / total


def echelon(obs: Mapping[str, Any], view: Mapping[str, Any] | None) -> tuple[float, int] | None:
    """``(echelon inventory position, weeks it must cover)`` of the stage when the view
    shares inventories and pipelines and the chain below it is serial and makes to
    stock; else ``None``.

    Echelon position: the stage's own stock, work in process and supply line, plus the
    stock, work in process and goods in transit of every stage downstream of it, minus
    the consumers' backlog. Orders in the mail and backlogs between those stages stay
    inside the echelon and do not count. The cover is the lead times (order delay plus
    shipping delay, the lengths of the shared pipelines) from the stage down to the
    consumer, plus the review week; a make-to-order stage below adds its goods but no
    weeks (its customers wait for its lead time; Chen et al. 2000, centralised demand).
    """
    if not view or "inventories" not in view or "pipelines" not in view:
        return None
    chain = {c["role"]: c for c in view.get("chain", ())}
    customers: dict[str, list[str]] = {}
    for c in chain.values():
        if c.get("supplier"):
            customers.setdefault(c["supplier"], []).append(c["role"])
    role = obs["role"]
    position = obs["on_hand"] + obs.get("wip", 0) + obs["supply_line"]
    cover = obs["lead_time"] + 1
    if chain.get(role, {}).get("consumer_facing"):
        position -= obs["backlog"]
    below = customers.get(role, [])
    while below:
        if len(below) > 1 or chain[role].get("consumer_facing"):
            return None  # a tree or a stage selling beside its customers: no single echelon
        role = below[0]
        inv, pipe = view["inventories"].get(role), view["pipelines"].get(role)
        if inv is None or pipe is None:
            return None
        position += inv["on_hand"] + inv.get("wip", 0) + sum(pipe["on_the_way"])
        if chain[role].get("consumer_facing"):
            position -= inv["backlog"]
        if chain[role].get("mode") != "mto":  # customers wait for a make-to-order stage's lead time
            cover += len(pipe["orders_in_mail"]) + len(pipe["on_the_way"])
        below = customers.get(role, [])
    return float(position), cover


def ahead(mean: float, sd: float, cover: int, view: Mapping[str, Any] | None) -> tuple[float, float]:
    """Expected demand over the next ``cover`` weeks and its spread, from a weekly ``mean``
    and ``sd``: where the view's ``advance_orders`` knows a week, the co-makers' known orders
    plus ``1 - share`` of the mean, with only the unknown part's spread ``(1 - share) x sd``;
    the other weeks ``mean`` and ``sd`` (weeks independent)."""
    adv = (view or {}).get("advance_orders") or {}
    orders = list(adv.get("orders", ()))[:cover]
    if not orders:
        return mean * cover, sd * math.sqrt(cover)
    rest = 1.0 - float(adv.get("share", 0.0))
    k = len(orders)
    total = sum(orders) + k * rest * mean + (cover - k) * mean
    return total, sd * math.sqrt(k * rest * rest + cover - k)


# ----------------------------------------------------------------------------
# Rules
# ----------------------------------------------------------------------------


def _smooth(
    signal: float, memory: dict[str, Any], obs: Mapping[str, Any], theta: float, key: str = "forecast"
) -> float:
    """Exponential smoothing: F = theta * signal + (1 - theta) * F, from the initial rate (the
    last F in ``memory[key]``)."""
    previous = memory.get(key, obs["initial_rate"])
    return theta * signal + (1.0 - theta) * previous


def _window(signal: float, memory: dict[str, Any], obs: Mapping[str, Any], p: int) -> tuple[float, float]:
    """Mean and standard deviation of the last ``p`` signals (the initial rate fills the
    weeks before the first); keeps them in ``memory["seen"]``."""
    seen = [*memory.get("seen", ()), signal][-p:]
    memory["seen"] = seen
    xs = [float(obs["initial_rate"])] * (p - len(seen)) + seen
    return fmean(xs), pstdev(xs)


def critical_fractile(obs: Mapping[str, Any], params: Mapping[str, float]) -> float:
    """The newsvendor fractile b / (b + h) of the stage's holding cost h and shortage
    cost b (backlog cost plus what a unit short costs in customers who walk away,
    ``rates["lost_sale"]``); ``fractile`` overrides it; kept within ``FRACTILE_RANGE``."""
    if params.get("fractile") is not None:
        f = params["fractile"]
    else:
        rates = obs.get("rates") or {}
        h = rates.get("holding", 0.5)
        b = rates.get("backlog", 1.0) + (rates.get("lost_sale") or 0.0)
        f = b / (b + h) if b + h > 0 else 0.5
    lo, hi = FRACTILE_RANGE
    return min(max(f, lo), hi)


def base_stock_level(
    mean: float, sd: float, cover: int, fractile: float, view: Mapping[str, Any] | None = None
) -> float:
    """Order-up-to level S = mean x cover + z x sd x sqrt(cover), z the normal quantile of
    the fractile (the newsvendor over the weeks the level covers); where co-makers' orders
    are known, the demand over the cover and its spread are ``ahead``'s."""
    if not (view and view.get("advance_orders")):
        return mean * cover + NormalDist().inv_cdf(fractile) * sd * math.sqrt(cover)
    total, spread = ahead(mean, sd, cover, view)
    return total + NormalDist().inv_cdf(fractile) * spread


def _capacity(obs: Mapping[str, Any], memory: dict[str, Any], signal: float, theta: float, p: Mapping) -> int:
    """Capacity for a make-to-order stage: a fixed level, or the expected workload plus a
    share of the work already waiting (orders held and not yet processed).

    The workload is smoothed from every consumer who came (served, waiting or lost) at a
    consumer-facing stage, from point-of-sale demand when it is shared, and from incoming
    orders elsewhere, so that a stage that is losing customers for want of capacity adds
    capacity instead of cutting it. Capacity never drops below ``cap_floor`` times the
    rate the chain was set up for.
    """
    if p.get("capacity") is not None:
        return int(p["capacity"])
    workload = theta * signal + (1.0 - theta) * memory.get("workload", obs["initial_rate"])
    memory["workload"] = workload
    waiting = max(0, obs["backlog"] - obs["on_hand"])
    rule = _round(workload * p.get("cap_slack", 1.1) + waiting / p.get("cap_weeks", 4.0))
    return max(rule, math.ceil(p.get("cap_floor", 0.5) * obs["initial_rate"]))


def _base_stock(obs: Mapping[str, Any], memory: dict[str, Any], signal: float, view: Any, p: Mapping) -> float:
    """Order up to a level: ``level``, or the newsvendor level of the demand seen over
    the forecast window (``safety_weeks``: the older rule, forecast x (lead time + 1 +
    safety_weeks)); on the echelon position when inventories and pipelines are shared."""
    window = int(p.get("window", FORECAST_WINDOW))
    mean, sd = _window(signal, memory, obs, window)
    position = obs["on_hand"] - obs["backlog"] + obs["supply_line"]
    if p.get("level") is not None:
        return p["level"] - position
    if p.get("safety_weeks") is not None:
        return memory["forecast"] * (obs["lead_time"] + 1 + p["safety_weeks"]) - position
    cover = obs["lead_time"] + 1
    ech = echelon(obs, view)
    if ech is not None:
        position, cover = ech
    elif pos_signal(obs, view) is not None:
        sd = _own_spread(obs, memory, window)
    return base_stock_level(mean, sd, cover, critical_fractile(obs, p), view) - position


def _own_spread(obs: Mapping[str, Any], memory: dict[str, Any], p: int) -> float:
    """Spread of the demand the stage itself saw over the last ``p`` weeks (kept in
    ``memory["own"]``): with point-of-sale demand shared alone the stage forecasts the
    level from the consumers but still fills the orders it receives on its own position,
    so its safety stock covers the spread of those orders (Lee, So & Tang 2000)."""
    own = [*memory.get("own", ()), own_demand(obs)][-p:]
    memory["own"] = own
    return pstdev([float(obs["initial_rate"])] * (p - len(own)) + own)


def _moving_average(obs: Mapping[str, Any], memory: dict[str, Any], signal: float, view: Any, p: Mapping) -> float:
    """The rule of Chen, Drezner, Ryan & Simchi-Levi (2000): order up to ``cover`` x the mean
    of the last ``window`` demands plus a constant ``safety`` stock, ``cover`` the lead time
    plus the review week (the echelon's weeks on the echelon position when inventories and
    pipelines are shared). Its orders then amplify the variance of i.i.d. demand by
    ``game.scoring.bullwhip_bound`` (exactly, while no order would be negative)."""
    mean, _ = _window(signal, memory, obs, int(p.get("window", FORECAST_WINDOW)))
    position, cover = obs["on_hand"] - obs["backlog"] + obs["supply_line"], obs["lead_time"] + 1
    ech = echelon(obs, view)
    if ech is not None:
        position, cover = ech
    return mean * cover + p.get("safety", 0.0) - position


@dataclass(frozen=True)
class Policy:
    """A named bot policy with its parameters (``key_<role>`` = one role's value)."""

    name: str
    params: dict[str, float] = field(default_factory=dict)

    @property
    def spec(self) -> str:
        """The spec string that ``parse_policy`` reads back into this policy."""
        if not self.params:
            return self.name
        return self.name + ":" + ",".join(f"{k}={v:g}" for k, v in sorted(self.params.items()))

    def for_role(self, role: str) -> dict[str, float]:
        """The parameters in force for ``role``: ``key_<role>`` over ``key``."""
        out = {k: v for k, v in self.params.items() if k in _PARAMS}
        suffix = "_" + role
        for key, value in self.params.items():
            if key.endswith(suffix) and key[: -len(suffix)] in _PARAMS:
                out[key[: -len(suffix)]] = value
        return out

    def roles(self) -> set[str]:
        """The roles named by ``key_<role>`` parameters."""
        return {_split(k)[1] for k in self.params if k not in _PARAMS}

    def decide(
        self, obs: Mapping[str, Any], memory: Mapping[str, Any] | None = None, view: Mapping[str, Any] | None = None
    ) -> tuple[int, dict[str, Any]]:
        """The decision for this week and the memory to pass next week."""
        memory = dict(memory or {})
        p = self.for_role(obs["role"])
        if not p.get("shared", 1):
            view = None
        theta = p.get("theta", _THETA.get(self.name, 1.0))
        signal = demand_signal(obs, view)
        if obs["decision"] != "capacity" and pos_signal(obs, view) is not None:
            signal = shared_signal(obs, memory, view, self.name)
        forecast = _smooth(signal, memory, obs, theta)
        memory["forecast"] = forecast
        fixed = int(p.get("fixed_weeks", 0))
        if obs["decision"] == "capacity":
            decision = _capacity(obs, memory, signal, theta, p)
        elif obs["week"] <= fixed:
            decision = int(p.get("fixed_order", obs["initial_rate"]))
        elif self.name == "passthrough":
            decision = obs["incoming_order"]
        elif self.name == "base_stock":
            decision = _round(_base_stock(obs, memory, signal, view, p))
        elif self.name == "moving_average":
            decision = _round(_moving_average(obs, memory, signal, view, p))
        elif self.name == "sterman":
            if pos_signal(obs, view) is not None and filtered(obs, view) and not direct(obs, view):
                forecast = combine(obs, memory, central_forecast(obs, memory, view, forecast, theta), theta)
            stock = obs["on_hand"] - obs["backlog"]
            target = p.get("target", 17.0)
            adjust = p.get("alpha", 0.26) * (target - stock - p.get("beta", 0.34) * obs["supply_line"])
            cover = obs["lead_time"] + 1  # known orders: the mean demand over the weeks an order covers
            known = view and view.get("advance_orders")
            expected = ahead(forecast, 0.0, cover, view)[0] / cover if known else forecast
            decision = _round(expected + adjust)
        else:  # pragma: no cover - guarded by parse_policy
            raise PolicyError(f"unknown policy {self.name!r}")
        lo, hi = obs["bounds"]
        decision = min(max(decision, lo), hi)
        if "echelon_at" in memory:  # the echelon position once this order is placed
            memory["echelon_last"] = memory.pop("echelon_at") + decision
        return decision, memory


_THETA = {"passthrough": 1.0, "base_stock": 0.3, "moving_average": 0.3, "sterman": 0.36}

POLICIES: dict[str, str] = {
    "passthrough": "order what was ordered from you this week",
    "base_stock": "order up to a base-stock level (level=N, or the newsvendor level from the "
    "holding and backlog costs over the lead time and the demand of the last window=16 weeks)",
    "sterman": "Sterman's anchoring and adjustment: forecast + alpha x (target - stock - beta x supply line)",
    "moving_average": "Chen et al.'s rule: order up to (lead time + 1) x the mean demand of the last window=16 "
    "weeks plus safety=N units",
}

_PARAMS = {
    "theta": (0.0, 1.0),
    "alpha": (0.0, 10.0),
    "beta": (0.0, 10.0),
    "target": (0.0, 1e6),
    "level": (0.0, 1e6),
    "window": (1.0, 52.0),
    "fractile": (0.0, 1.0),
    "safety_weeks": (0.0, 52.0),
    "safety": (0.0, 1e6),
    "shared": (0.0, 1.0),
    "fixed_weeks": (0.0, 520.0),
    "fixed_order": (0.0, 1e6),
    "capacity": (0.0, 1e6),
    "cap_slack": (0.0, 10.0),
    "cap_weeks": (0.1, 52.0),
    "cap_floor": (0.0, 10.0),
}
_ROLE = re.compile(r"[a-z][a-z0-9_-]*\Z")


def _split(key: str) -> tuple[str, str]:
    """``(parameter, role)`` of a ``key_<role>`` key (the longest known parameter wins);
    ``(key, "")`` for a plain key; ``("", "")`` when it names no parameter."""
    if key in _PARAMS:
        return key, ""
    for base in sorted(_PARAMS, key=len, reverse=True):
        if key.startswith(base + "_") and _ROLE.match(key[len(base) + 1 :]):
            return base, key[len(base) + 1 :]
    return "", ""


def parse_policy(spec: str) -> Policy:
    """Read ``NAME[:key=value,...]``; ``key_<role>=N`` (e.g. ``target_factory=20``,
    ``level_retailer=30``) sets one role's value.

    >>> parse_policy("sterman:theta=0,alpha=1").params
    {'theta': 0.0, 'alpha': 1.0}
    """
    name, _, rest = spec.strip().partition(":")
    name = name.strip().replace("-", "_")
    if name not in POLICIES:
        raise PolicyError(f"unknown policy {name!r} (known: {', '.join(POLICIES)})")
    params: dict[str, float] = {}
    if rest.strip():
        for item in rest.split(","):
            key, eq, raw = item.partition("=")
            key = key.strip()
            base = _split(key)[0]
            if not eq or not base:
                known = ", ".join(_PARAMS)
                raise PolicyError(f"bad policy parameter {item.strip()!r} (known: {known}, each also as key_<role>)")
            try:
                value = float(raw)
            except ValueError:
                raise PolicyError(f"policy parameter {key} must be a number, got {raw.strip()!r}") from None
            lo, hi = _PARAMS[base]
            if not (lo <= value <= hi) or math.isnan(value):
                raise PolicyError(f"policy parameter {key} must be between {lo:g} and {hi:g}, got {raw.strip()}")
            params[key] = value
    return Policy(name, params)


def check_roles(policy: Policy, roles: Sequence[str]) -> Policy:
    """``policy``, or ``PolicyError`` when a ``key_<role>`` parameter names a role the
    scenario lacks."""
    unknown = sorted(policy.roles() - set(roles))
    if unknown:
        raise PolicyError(f"policy {policy.spec}: no role {unknown[0]!r} in this scenario (roles: {', '.join(roles)})")
    return policy
