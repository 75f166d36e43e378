"""What crosses between server processes (``MESSAGE_QUEUE`` set).

Players' ``state`` payloads never travel through Redis. A change is announced to
the other processes as a few bytes (which teams and sessions changed, ``Relay``);
each process then builds the states of the seats whose connections it holds,
and only those. Session-wide payloads are built once, by the ticker leader
(``web.leader``), and go through python-socketio's Redis manager; a message to
one client connected to the sending process is sent directly
(``LocalFirstRedisManager``).
"""

from __future__ import annotations

import contextlib
import json
import logging
import queue
import threading
import uuid
from collections.abc import Callable
from typing import Any

import redis
import socketio

from web.rounds import Changes

log = logging.getLogger(__name__)

CHANNEL = "bg:changes"
BATCH = 500  # most announcements merged into one delivery when they queue up
LANES = 8  # deliveries of other processes' changes running side by side


class LocalFirstRedisManager(socketio.RedisManager):
    """python-socketio's Redis manager; an event for one client of this process is
    sent to it directly instead of through Redis (an ack-less ``to=sid`` emit)."""

    def emit(
        self,
        event: str,
        data: Any,
        namespace: str | None = None,
        room: str | None = None,
        skip_sid: Any = None,
        callback: Any = None,
        to: str | None = None,
        **kwargs: Any,
    ) -> Any:
        target = to or room
        if callback is None and isinstance(target, str) and self.is_connected(target, namespace or "/"):
            kwargs["ignore_queue"] = True
        return super().emit(
            event, data, namespace=namespace, room=room, skip_sid=skip_sid, callback=callback, to=to, **kwargs
        )


Decided = dict[tuple[str, int], dict[str, Any]]  # (code, team) -> its ``decided`` payload


def encode(changes: Changes, keep_public: bool, decided: Decided | None = None) -> str:
    """``changes`` (and the ``decided`` payloads read for them) as compact JSON."""
    return json.dumps(
        {
            "a": sorted(changes.advanced),
            "t": sorted(changes.seats),
            "o": sorted(changes.over),
            "s": sorted(changes.sessions),
            "k": keep_public,
            "d": [[c, n, p] for (c, n), p in sorted((decided or {}).items())],
        },
        separators=(",", ":"),
    )


def decode(text: str) -> tuple[Changes, bool, Decided]:
    """The inverse of ``encode``."""
    d = json.loads(text)
    changes = Changes(
        advanced={(str(c), int(n)) for c, n in d["a"]},
        seats={(str(c), int(n)) for c, n in d["t"]},
        over={str(c) for c in d["o"]},
        sessions={str(c) for c in d["s"]},
    )
    return changes, bool(d["k"]), {(str(c), int(n)): p for c, n, p in d.get("d", [])}


class Relay:
    """Announces this process's changes to the others and hands theirs to ``deliver``."""

    def __init__(
        self, url: str, deliver: Callable[[Changes, bool, Decided], None], sleep: Callable[[float], Any]
    ) -> None:
        self.host = uuid.uuid4().hex
        self._sleep = sleep
        self._prefix = self.host + "|"
        self._deliver = deliver
        self._r = redis.Redis.from_url(url, decode_responses=True, health_check_interval=30)
        self._stop = False
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._outbox: list[tuple[Changes, bool, Decided]] = []
        self._lanes: list[queue.Queue[tuple[Changes, bool, Decided]]] = [queue.Queue() for _ in range(LANES)]
        self.received = 0  # announcements from other processes (for tests and the benchmark)

    def send(self, changes: Changes, keep_public: bool, decided: Decided | None = None) -> None:
        """Announce ``changes``: queued for the publishing task, which merges whatever
        queued while it published last (under load many changes cost one message)."""
        with self._lock:
            self._outbox.append((changes, keep_public, decided or {}))
        self._wake.set()

    def publish(self) -> None:
        """Send the queued announcements until ``stop`` (a background task). Best effort:
        a lost announcement costs the other processes' players one update, which the
        next change or a reload brings."""
        while not self._stop:
            self._wake.wait(1.0)
            self._wake.clear()
            with self._lock:
                batch, self._outbox = self._outbox, []
            # a decision merged with other changes of its team must not be taken for a
            # decision only: submissions and the rest go as (at most) two messages
            for keep in (True, False):
                merged, decided = Changes(), {}
                for changes, k, d in batch:
                    if k is keep:
                        merged.merge(changes)
                        decided.update(d)  # the later read wins
                if not merged:
                    continue
                try:
                    self._r.publish(CHANNEL, self._prefix + encode(merged, keep, decided))
                except (redis.RedisError, OSError):
                    log.warning("could not announce a change to the other processes", exc_info=True)

    def listen(self) -> None:
        """Deliver the other processes' announcements until ``stop`` (a background task)."""
        while not self._stop:
            pubsub = self._r.pubsub(ignore_subscribe_messages=True)
            try:
                pubsub.subscribe(CHANNEL)
                while not self._stop:
                    msg = pubsub.get_message(timeout=1.0)
                    batch = []
                    while msg is not None and len(batch) < BATCH:
                        batch.append(msg)
                        msg = pubsub.get_message(timeout=0)
                    self._handle([m["data"] for m in batch if m.get("type") == "message"])
            except (redis.RedisError, OSError):
                log.warning("lost the change channel; subscribing again", exc_info=True)
                self._sleep(1.0)
            except Exception:  # keep listening: one bad message must not cut the processes apart
                log.exception("delivering another process's change failed")
            finally:
                with contextlib.suppress(Exception):  # closing a broken connection
                    pubsub.close()

    def _handle(self, texts: list[str]) -> None:
        parts: dict[bool, tuple[Changes, Decided]] = {}
        for text in texts:
            if text.startswith(self._prefix):
                continue  # our own: delivered when it was made
            changes, keep_public, decided = decode(text.partition("|")[2])
            merged, known = parts.setdefault(keep_public, (Changes(), {}))
            merged.merge(changes)
            known.update(decided)
            self.received += 1
        # each team's announcements go to one lane, in order; the lanes deliver side by side
        # (a delivery waits on Redis: one after the other, a busy class would queue up)
        for keep_public, (merged, known) in sorted(parts.items(), reverse=True):
            split: dict[int, Changes] = {}
            for name in ("advanced", "seats"):
                for key in getattr(merged, name):
                    getattr(split.setdefault(self._lane(key), Changes()), name).add(key)
            for name in ("over", "sessions"):
                for code in getattr(merged, name):
                    getattr(split.setdefault(self._lane(code), Changes()), name).add(code)
            for lane, changes in split.items():
                mine = {k: v for k, v in known.items() if k in changes.seats}
                self._lanes[lane].put((changes, keep_public, mine))

    @staticmethod
    def _lane(key: Any) -> int:
        return hash(key) % LANES

    def deliver_lane(self, lane: int) -> None:
        """Deliver one lane's announcements until ``stop`` (a background task); what
        queued meanwhile is merged into one delivery."""
        inbox = self._lanes[lane]
        while not self._stop:
            try:
                first = inbox.get(timeout=1.0)
            except queue.Empty:
                continue
            batch = [first]
            while len(batch) < BATCH:
                try:
                    batch.append(inbox.get_nowait())
                except queue.Empty:
                    break
            for keep in (True, False):
                merged, known = Changes(), {}
                for changes, k, d in batch:
                    if k is keep:
                        merged.merge(changes)
                        known.update(d)
                if merged:
                    try:
                        self._deliver(merged, keep, known)
                    except Exception:  # keep delivering: one bad change must not stop the lane
                        log.exception("delivering another process's change failed")

    def stop(self) -> None:
        self._stop = True
        self._wake.set()
