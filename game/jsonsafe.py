"""Strict JSON: what browsers and other readers accept has no Infinity or NaN; and how deep a
parsed value is nested (refused past a limit, before anything walks it recursively)."""

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


def depth(value: Any) -> int:
    """How deep lists and dicts are nested in ``value`` (a scalar is 0), without recursion."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, level = stack.pop()
        children = item.values() if isinstance(item, dict) else item if isinstance(item, list) else None
        if children is not None:
            deepest = max(deepest, level)
            stack.extend((child, level + 1) for child in children)
    return deepest
