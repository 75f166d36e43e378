"""One ticker leader among the server processes: a lease in Redis.

With several processes (``MESSAGE_QUEUE`` set) only the holder of the lease
walks the sessions (round timers, drop-outs, bot pacing) and sends the
session-wide payloads (dashboard updates, leaderboard, standings). Every process
renews or tries to take the lease at each tick; when the holder stops, another
one takes over once the lease runs out (``seconds``).
"""

from __future__ import annotations

import contextlib
import uuid
from typing import TYPE_CHECKING

from web.store import STORE_FAILED

if TYPE_CHECKING:
    from web.store import Store


class Lease:
    """This process's claim on the ticker lease (``bg:leader``, kept by the store)."""

    def __init__(self, store: Store, seconds: float, holder: str | None = None) -> None:
        self.holder = holder or uuid.uuid4().hex
        self.ms = max(1, int(seconds * 1000))
        self.store = store
        self.held = False

    def renew(self) -> bool:
        """Take or keep the lease; whether this process holds it now."""
        try:
            self.held = self.store.renew_lease(self.holder, self.ms)
        except STORE_FAILED:
            self.held = False  # unsure: let another process lead rather than two
        return self.held

    def release(self) -> None:
        """Give the lease up (a clean shutdown): another process leads at its next tick."""
        with contextlib.suppress(STORE_FAILED):
            self.store.release_lease(self.holder)
        self.held = False
