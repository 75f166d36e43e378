"""The shape of every incoming payload: which fields, which are required, of which type.

One table for every Socket.IO event, every ``control`` action and the body of
``POST /api/sessions`` (docs/PROTOCOL.md lists the same). ``check`` refuses a
payload that is not an object, has an unknown field, lacks a required one or
has a field of the wrong type, with ``bad_request``; what a value means (a
known session, a week within the game, a name without control characters) is
checked where the rule lives. An optional field left out and one sent as
``null`` mean the same.
"""

from __future__ import annotations

from typing import Any

from flask import request

from web import wire
from web.errors import GameError, bad

MAX_BODY_BYTES = 4096  # an HTTP body (a session's own scenario adds its own limit)

# kinds: "int" a whole number (JSON 4, never 4.0 or true), "str" text, "bool"
# true/false, "obj" an object, "list" an array, "any" anything (its own check gives the error)
Spec = dict[str, tuple[str, bool]]  # field -> (kind, required)

EVENTS: dict[str, Spec] = {
    "join": {
        "code": ("str", True),
        "name": ("any", True),
        "team": ("int", False),
        "role": ("str", False),
        "share": ("bool", False),
    },
    "resume": {"token": ("str", True)},
    "submit": {"week": ("int", True), "value": ("int", True)},
    "choose_codp": {"position": ("str", True)},
    "choose_shop": {"mode": ("str", True)},
    "choose_deal": {"deal": ("bool", True)},
    "facilitate": {"code": ("str", True), "secret": ("str", True)},
    # control: the fields besides "action" are checked against ACTIONS[action]
    "control": {"action": ("str", True), **{k: ("any", False) for k in ("seconds", "team", "role", "week")}},
    "inspect": {"team": ("int", True)},
    "watch": {"code": ("str", True)},
}

ACTIONS: dict[str, Spec] = {
    "start": {},
    "pause": {},
    "resume": {},
    "end": {},
    "force_round": {"week": ("int", True), "team": ("int", False)},
    "set_timer": {"seconds": ("int", False)},
    "seat_to_bot": {"team": ("int", True), "role": ("str", True)},
    "seat_to_human": {"team": ("int", True), "role": ("str", True)},
    "reveal_end": {},
}

SESSION: Spec = {
    "scenario": ("str", False),
    "custom_scenario": ("obj", False),
    "teams": ("int", False),
    "weeks": ("int", False),
    "end_window": ("list", False),
    "end_known": ("bool", False),
    "seed": ("int", False),
    "round_seconds": ("int", False),
    "codp": ("obj", False),
    "visibility": ("obj", False),
    "bot_policy": ("str", False),
}
CODP: Spec = {"rule": ("str", False), "position": ("str", False)}

_KIND_TEXT = {"int": "a whole number", "str": "text", "bool": "true or false", "obj": "an object", "list": "a list"}


def is_whole(value: Any) -> bool:
    """A JSON whole number: an ``int`` that is not a bool (4.0 is not whole)."""
    return isinstance(value, int) and not isinstance(value, bool)


def _fits(kind: str, value: Any) -> bool:
    if kind == "int":
        return is_whole(value)
    if kind == "str":
        return isinstance(value, str)
    if kind == "bool":
        return isinstance(value, bool)
    if kind == "obj":
        return isinstance(value, dict)
    if kind == "list":
        return isinstance(value, list)
    return True


def check(data: Any, spec: Spec, what: str) -> dict[str, Any]:
    """``data`` if it is an object of the shape ``spec``; the fields sent as ``null``
    are dropped. ``bad_request`` otherwise (``what`` names the payload in the message)."""
    if not isinstance(data, dict):
        raise bad(f"{what} needs an object: {shape(spec)}")
    extra = sorted(str(k) for k in set(data) - set(spec))
    if extra:
        raise bad(f"{what}: unknown field {extra[0][:40]!r}; it takes {shape(spec)}")
    out = {k: v for k, v in data.items() if v is not None}
    for key, (kind, required) in spec.items():
        if key not in out:
            if required:
                raise bad(f"{what} needs the field {key!r}: {shape(spec)}")
        elif not _fits(kind, out[key]):
            raise bad(f"{what}: {key} must be {_KIND_TEXT[kind]}")
    return out


def check_event(data: Any, event: str) -> dict[str, Any]:
    """A Socket.IO event's payload checked against ``EVENTS[event]`` (and, for ``control``,
    against its action's fields in ``ACTIONS``): the one shape check an event gets, made by
    the handler wrapper (``web.realtime.events``) before the handler runs."""
    out = check(data, EVENTS[event], event)
    if event == "control":
        action = out.pop("action")
        if action not in ACTIONS:
            raise bad(f"action must be one of {', '.join(ACTIONS)}")
        out = {"action": action, **check(out, ACTIONS[action], action)}
    return out


def shape(spec: Spec) -> str:
    """``{"week", "value"}``-like text for messages (optional fields with ``?``)."""
    return "{" + ", ".join(f'"{k}"' + ("" if req else "?") for k, (_, req) in spec.items()) + "}"


def json_body(limit: int = MAX_BODY_BYTES) -> Any:
    """The request's JSON body (at most ``limit`` bytes, read by ``web.wire.loads``: no key
    twice, finite numbers, not too deep); ``bad_request`` for anything else."""
    if request.content_length is not None and request.content_length > limit:
        raise GameError("bad_request", f"the body is too large (at most {limit} bytes)")
    if not request.is_json:
        raise GameError("bad_request", "send a JSON body (Content-Type: application/json)")
    raw = request.stream.read(limit + 1)
    if len(raw) > limit:
        raise GameError("bad_request", f"the body is too large (at most {limit} bytes)")
    try:
        return wire.loads(raw)
    except wire.Refused as exc:
        raise GameError("bad_request", f"the body is not JSON the server reads: {exc}") from None
    except ValueError:  # UnicodeDecodeError is a ValueError
        raise GameError("bad_request", "the body must be JSON") from None
