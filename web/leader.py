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

import redis

KEY = "bg:leader"

# take the lease when it is free, keep it when we hold it
_RENEW = """
local holder = redis.call('GET', KEYS[1])
if holder == false or holder == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return 1
end
return 0
"""

_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


class Lease:
    """This process's claim on the ticker lease."""

    def __init__(self, client: redis.Redis, seconds: float, holder: str | None = None) -> None:
        self.holder = holder or uuid.uuid4().hex
        self.ms = max(1, int(seconds * 1000))
        self._renew = client.register_script(_RENEW)
        self._release = client.register_script(_RELEASE)
        self.held = False

    def renew(self) -> bool:
        """Take or keep the lease; whether this process holds it now."""
        try:
            self.held = bool(int(self._renew(keys=[KEY], args=[self.holder, self.ms])))
        except (redis.RedisError, OSError):
            self.held = False  # unsure: let another process lead rather than two
        return self.held

    def release(self) -> None:
        """Give the lease up (a clean shutdown): another process leads at its next tick."""
        with contextlib.suppress(redis.RedisError, OSError):
            self._release(keys=[KEY], args=[self.holder])
        self.held = False
