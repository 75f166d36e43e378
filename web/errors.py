"""Errors with stable codes: every bad call is answered with one and changes nothing."""

from __future__ import annotations

import logging
import threading
from typing import Any

CODES: dict[str, int] = {
    "bad_request": 400,
    "invalid_scenario": 400,
    "invalid_name": 400,
    "out_of_bounds": 400,
    "bad_token": 403,
    "forbidden": 403,
    "unknown_session": 404,
    "not_found": 404,
    "seat_taken": 409,
    "team_full": 409,
    "not_joined": 409,
    "stale_week": 409,
    "already_decided": 409,
    "not_running": 409,
    "rate_limited": 429,
    "internal": 500,
    "unavailable": 503,
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


class Outage:
    """Logs one line when the store becomes unreachable and one when it answers again,
    however many calls fail in between (shared by the ticker, the handlers and the API)."""

    def __init__(self, log: logging.Logger) -> None:
        self.log = log
        self._down = False
        self._lock = threading.Lock()

    def failed(self, exc: BaseException) -> GameError:
        """Note a failed store call; the ``unavailable`` error to answer with."""
        with self._lock:
            first, self._down = not self._down, True
        if first:
            self.log.error("the store is unreachable (%s: %s); answering 'unavailable'", type(exc).__name__, exc)
        return GameError("unavailable", "the game store is unreachable right now; try again in a few seconds")

    def ok(self) -> None:
        """Note a call that reached the store."""
        if self._down:
            with self._lock:
                back, self._down = self._down, False
            if back:
                self.log.warning("the store answers again")

    @property
    def down(self) -> bool:
        return self._down
