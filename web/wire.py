"""The JSON module Socket.IO encodes and decodes packets with: the standard one, plus ``Raw``,
strict both ways (``loads`` is also what the HTTP API reads bodies with).

Read: an object with a key twice, ``NaN``/``Infinity``, a number too large to be finite and
nesting deeper than ``MAX_DEPTH`` are refused (``Refused``, a ``ValueError``). Written: no
infinite or NaN number ever leaves (``null`` in its place, ``game.jsonsafe``).

A ``Raw`` value is encoded once and its text spliced into every packet that
carries it, so a payload part shared by many messages (a seat's view and history,
unchanged while teammates decide) is neither re-encoded nor walked again by
python-socketio's binary check. Clients receive ordinary JSON.
"""

from __future__ import annotations

import json
import math
import secrets
from typing import Any

from game.jsonsafe import depth, jsonsafe

MAX_DEPTH = 32  # arrays and objects inside each other; a scenario document needs about six
MARK = secrets.token_hex(8)  # marks a Raw's place while the packet is encoded (never sent)


class Refused(ValueError):
    """JSON the server does not read (the message says why, for people)."""


def _unique(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out = dict(pairs)
    if len(out) < len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise Refused(f"the key {key[:40]!r} is in one JSON object twice")
            seen.add(key)
    return out


def _finite(text: str) -> float:
    value = float(text)
    if value in (math.inf, -math.inf):
        raise Refused(f"the number {text[:40]} is too large")
    return value


def _constant(name: str) -> Any:
    raise Refused(f"{name} is not a JSON number")


def loads(text: str | bytes, **kwargs: Any) -> Any:
    """``json.loads``, strict: see the module's docstring."""
    try:
        value = json.loads(text, object_pairs_hook=_unique, parse_float=_finite, parse_constant=_constant, **kwargs)
    except RecursionError:
        raise Refused(f"JSON nested deeper than {MAX_DEPTH} levels") from None
    if isinstance(value, dict | list):
        raw = text if isinstance(text, str) else text.decode("utf-8", "replace")
        if raw.count("[") + raw.count("{") > MAX_DEPTH and depth(value) > MAX_DEPTH:
            raise Refused(f"JSON nested deeper than {MAX_DEPTH} levels")
    return value


class Raw:
    """A JSON value, encoded now (strict JSON: no NaN or infinity)."""

    __slots__ = ("text",)

    def __init__(self, value: Any) -> None:
        self.text = json.dumps(value, separators=(",", ":"), allow_nan=False)

    @classmethod
    def safe(cls, value: Any) -> Raw:
        """``value`` encoded as strict JSON, infinite and NaN floats as ``null``
        (``game.jsonsafe``, which only walks the value when it holds one)."""
        try:
            return cls(value)
        except ValueError:
            return cls(jsonsafe(value))

    @classmethod
    def of_text(cls, text: str) -> Raw:
        """A ``Raw`` from text that is already strict JSON (from another process)."""
        raw = cls.__new__(cls)
        raw.text = text
        return raw

    def __reduce__(self) -> tuple[Any, ...]:  # pickled by a message queue: send the value
        return (Raw, (json.loads(self.text),))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Raw) and other.text == self.text

    def __hash__(self) -> int:
        return hash(self.text)


def dumps(obj: Any, **kwargs: Any) -> str:
    """``json.dumps`` that writes each ``Raw`` as its encoded text, strict JSON (an infinite
    or NaN number is written as ``null``)."""
    if kwargs.get("allow_nan", False) is False:
        try:
            return _dumps(obj, allow_nan=False, **{k: v for k, v in kwargs.items() if k != "allow_nan"})
        except ValueError:
            obj = jsonsafe(obj)
    return _dumps(obj, **kwargs)


def _dumps(obj: Any, **kwargs: Any) -> str:
    texts: list[str] = []
    mark = MARK

    def default(o: Any) -> Any:
        if isinstance(o, Raw):
            texts.append(o.text)
            return f"{mark}:{len(texts) - 1}"
        raise TypeError(f"Object of type {type(o).__name__} is not JSON serializable")

    out = json.dumps(obj, default=default, **kwargs)
    for i, text in enumerate(texts):
        out = out.replace(f'"{mark}:{i}"', text, 1)
    return out


def payload(value: Any) -> Raw:
    """A whole payload with ``Raw`` parts, encoded into one ``Raw`` (strict JSON: infinite
    and NaN floats as null, walked for only when the encoder finds one)."""
    return Raw.of_text(dumps(value, separators=(",", ":")))
