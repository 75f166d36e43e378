"""Errors with stable codes: every bad call is answered with one and changes nothing."""

from __future__ import annotations

from typing import Any

CODES: dict[str, int] = {
    "bad_request": 400,
    "invalid_scenario": 400,
    "invalid_name": 400,
    "out_of_bounds": 400,
    "bad_token": 403,
    "forbidden": 403,
    "unknown_session": 404,
    "seat_taken": 409,
    "team_full": 409,
    "not_joined": 409,
    "stale_week": 409,
    "already_decided": 409,
    "not_running": 409,
    "rate_limited": 429,
}


class GameError(Exception):
    """A refused call: ``code`` is one of ``CODES``, ``message`` is for people."""

    def __init__(self, code: str, message: str) -> None:
        if code not in CODES:
            raise ValueError(f"unknown error code {code!r}")
        super().__init__(message)
        self.code = code
        self.message = message

    @property
    def status(self) -> int:
        """The HTTP status that goes with the code."""
        return CODES[self.code]

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message}


def bad(message: str) -> GameError:
    """Shorthand for a ``bad_request``."""
    return GameError("bad_request", message)
