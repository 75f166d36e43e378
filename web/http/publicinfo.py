"""The public session info (``GET /api/sessions/<code>``), kept briefly and built once.

Every player page asks for it when it opens, so a class arriving at once sends
hundreds of requests within a second. The info is kept for at most ``max_age``
seconds and until a change other than a submission (``drop``); when it must be
rebuilt, the first request builds it and every request that arrives meanwhile
waits for that one build instead of starting its own.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from web import wire
from web.play.sessions import SessionMeta

WAIT_SECONDS = 10.0  # a waiting request builds on its own after this (the builder failed or hangs)


@dataclass
class _Entry:
    built: float
    status: str
    info: dict[str, Any]
    bodies: dict[str, str] = field(default_factory=dict)  # JSON text per variant of the extra fields


class PublicInfo:
    """A per-process cache of one builder's result per session code (thread- and greenlet-safe)."""

    def __init__(self, build: Callable[[SessionMeta], dict[str, Any]], max_age: float) -> None:
        self._build = build
        self.max_age = max_age
        self._lock = threading.Lock()
        self._entries: dict[str, _Entry] = {}
        self._building: dict[str, threading.Event] = {}
        self._generation: dict[str, int] = {}
        self.builds = 0  # how many times the info was built (for tests and the benchmark)

    def drop(self, codes: set[str]) -> None:
        """Forget the info of ``codes``; a build under way is not kept either."""
        with self._lock:
            for code in codes:
                self._entries.pop(code, None)
                self._generation[code] = self._generation.get(code, 0) + 1

    def get(self, meta: SessionMeta, extra: dict[str, Any]) -> str:
        """The info of ``meta``'s session with ``extra`` fields, as JSON text."""
        key = json.dumps(extra, sort_keys=True)
        deadline = time.monotonic() + WAIT_SECONDS
        while True:
            with self._lock:
                hit = self._entries.get(meta.code)
                if hit and time.monotonic() - hit.built < self.max_age and hit.status == meta.status:
                    body = hit.bodies.get(key)
                    if body is None:
                        body = hit.bodies[key] = wire.dumps({**hit.info, **extra}, separators=(",", ":"))
                    return body
                running = self._building.get(meta.code)
                if running is None or time.monotonic() > deadline:
                    running = self._building[meta.code] = threading.Event()
                    generation = self._generation.get(meta.code, 0)
                    builder = True
                else:
                    builder = False
            if not builder:
                running.wait(max(0.0, deadline - time.monotonic()))
                continue
            try:
                info = self._build(meta)
                self.builds += 1
                with self._lock:
                    if self._generation.get(meta.code, 0) == generation:
                        self._entries[meta.code] = _Entry(time.monotonic(), meta.status, info)
                    else:  # changed while we read: serve what we read, keep nothing
                        return wire.dumps({**info, **extra}, separators=(",", ":"))
            finally:
                with self._lock:
                    if self._building.get(meta.code) is running:
                        del self._building[meta.code]
                running.set()
