"""The JSON module Socket.IO encodes packets with: the standard one, plus ``Raw``.

A ``Raw`` value is encoded once and its text spliced into every packet that
carries it, so a payload part shared by many messages (a seat's view and history,
unchanged while teammates decide) is neither re-encoded nor walked again by
python-socketio's binary check. Clients receive ordinary JSON.
"""

from __future__ import annotations

import json
import secrets
from typing import Any

from game.jsonsafe import jsonsafe

loads = json.loads
MARK = secrets.token_hex(8)  # marks a Raw's place while the packet is encoded (never sent)


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
    """``json.dumps`` that writes each ``Raw`` as its encoded text."""
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
    try:
        return Raw.of_text(dumps(value, separators=(",", ":"), allow_nan=False))
    except ValueError:
        return Raw.of_text(dumps(jsonsafe(value), separators=(",", ":")))
