"""Bot policies: they fill empty seats and drive the comparisons.

A policy is pure: ``decide(obs, memory) -> (decision, memory)``. ``obs`` is the
role's observation at the decision point (``game.observe.observe``), ``memory``
a JSON-compatible dict the caller keeps between weeks (empty at the start).
The decision is an order for a make-to-stock stage and a capacity for a
make-to-order one (``obs["decision"]`` says which).

Spec strings: ``NAME`` or ``NAME:key=value,key=value`` (see ``parse_policy``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any


class PolicyError(ValueError):
    """An unknown policy name or a bad parameter."""


def _round(x: float) -> int:
    """Round half up to a whole case (never negative)."""
    return max(0, math.floor(x + 0.5))


def _forecast(obs: dict[str, Any], memory: dict[str, Any], theta: float) -> float:
    """Exponential smoothing of incoming orders: L = theta * incoming + (1 - theta) * L."""
    previous = memory.get("forecast", obs["initial_rate"])
    return theta * obs["incoming_order"] + (1.0 - theta) * previous


def _capacity(obs: dict[str, Any], memory: dict[str, Any], theta: float, params: dict[str, float]) -> int:
    """Capacity for a make-to-order stage: a fixed level, or the expected workload plus a
    share of the work already waiting (orders held and not yet processed).

    The workload is smoothed from every consumer who came (served, waiting or lost) at a
    consumer-facing stage, and from incoming orders elsewhere, so that a stage that is
    losing customers for want of capacity adds capacity instead of cutting it. Capacity
    never drops below ``cap_floor`` times the rate the chain was set up for.
    """
    if params.get("capacity") is not None:
        return int(params["capacity"])
    signal = obs.get("demand", obs["incoming_order"])
    workload = theta * signal + (1.0 - theta) * memory.get("workload", obs["initial_rate"])
    memory["workload"] = workload
    waiting = max(0, obs["backlog"] - obs["on_hand"])
    rule = _round(workload * params.get("cap_slack", 1.1) + waiting / params.get("cap_weeks", 4.0))
    return max(rule, math.ceil(params.get("cap_floor", 0.5) * obs["initial_rate"]))


@dataclass(frozen=True)
class Policy:
    """A named bot policy with its parameters."""

    name: str
    params: dict[str, float] = field(default_factory=dict)

    @property
    def spec(self) -> str:
        """The spec string that ``parse_policy`` reads back into this policy."""
        if not self.params:
            return self.name
        return self.name + ":" + ",".join(f"{k}={v:g}" for k, v in sorted(self.params.items()))

    def decide(self, obs: dict[str, Any], memory: dict[str, Any] | None = None) -> tuple[int, dict[str, Any]]:
        """The decision for this week and the memory to pass next week."""
        memory = dict(memory or {})
        p = self.params
        theta = p.get("theta", _THETA.get(self.name, 1.0))
        forecast = _forecast(obs, memory, theta)
        memory["forecast"] = forecast
        fixed = int(p.get("fixed_weeks", 0))
        if obs["decision"] == "capacity":
            decision = _capacity(obs, memory, theta, p)
        elif obs["week"] <= fixed:
            decision = int(p.get("fixed_order", obs["initial_rate"]))
        elif self.name == "passthrough":
            decision = obs["incoming_order"]
        elif self.name == "base_stock":
            level = p.get("level")
            if level is None:
                cover = obs["lead_time"] + 1 + p.get("safety_weeks", 1.0)
                level = forecast * cover
            position = obs["on_hand"] - obs["backlog"] + obs["supply_line"]
            decision = _round(level - position)
        elif self.name == "sterman":
            stock = obs["on_hand"] - obs["backlog"]
            target = p.get(f"target_{obs['role']}", p.get("target", 17.0))
            adjust = p.get("alpha", 0.26) * (target - stock - p.get("beta", 0.34) * obs["supply_line"])
            decision = _round(forecast + adjust)
        else:  # pragma: no cover - guarded by parse_policy
            raise PolicyError(f"unknown policy {self.name!r}")
        lo, hi = obs["bounds"]
        return min(max(decision, lo), hi), memory


_THETA = {"passthrough": 1.0, "base_stock": 0.3, "sterman": 0.36}

POLICIES: dict[str, str] = {
    "passthrough": "order what was ordered from you this week",
    "base_stock": "order up to a base-stock level (level=N, or forecast x (lead time + 1 + safety_weeks))",
    "sterman": "Sterman's anchoring and adjustment: forecast + alpha x (target - stock - beta x supply line)",
}

_PARAMS = {
    "theta": (0.0, 1.0),
    "alpha": (0.0, 10.0),
    "beta": (0.0, 10.0),
    "target": (0.0, 1e6),
    "level": (0.0, 1e6),
    "safety_weeks": (0.0, 52.0),
    "fixed_weeks": (0.0, 520.0),
    "fixed_order": (0.0, 1e6),
    "capacity": (0.0, 1e6),
    "cap_slack": (0.0, 10.0),
    "cap_weeks": (0.1, 52.0),
    "cap_floor": (0.0, 10.0),
}


def parse_policy(spec: str) -> Policy:
    """Read ``NAME[:key=value,...]``; ``target_<role>=N`` sets one role's target.

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
            base = "target" if key.startswith("target_") else key
            if not eq or base not in _PARAMS:
                raise PolicyError(f"bad policy parameter {item.strip()!r} (known: {', '.join(_PARAMS)})")
            try:
                value = float(raw)
            except ValueError:
                raise PolicyError(f"policy parameter {key} must be a number, got {raw.strip()!r}") from None
            lo, hi = _PARAMS[base]
            if not (lo <= value <= hi) or math.isnan(value):
                raise PolicyError(f"policy parameter {key} must be between {lo:g} and {hi:g}, got {raw.strip()}")
            params[key] = value
    return Policy(name, params)
