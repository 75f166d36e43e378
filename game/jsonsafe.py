"""Strict JSON: what browsers and other readers accept has no Infinity or NaN."""

from __future__ import annotations

import math
from typing import Any


def jsonsafe(obj: Any) -> Any:
    """``obj`` with infinite and NaN floats replaced by ``None``, through dicts, lists and tuples."""
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {k: jsonsafe(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [jsonsafe(v) for v in obj]
    return obj
