"""What crosses between server processes (``MESSAGE_QUEUE`` set): one Redis channel.

A change is announced to the other processes in a few bytes (which teams and
sessions changed, ``Relay``). The process where a team changed builds every seat's
``state`` and ``decided`` once and sends the seats it does not hold theirs as
encoded text; the others pass them on as they are, to the connections they hold.
Session-level changes (start, pause, end) are rebuilt by each process. The
session-wide payloads are built and encoded once, by the ticker leader
(``web.realtime.leader``), and sent as text to the other processes, which pass them on to
their members of the room. So python-socketio keeps its in-process client manager:
every process sends only to its own connections, and nothing is decoded and
encoded again on the way.
"""

from __future__ import annotations

import json
import logging
import queue
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from typing import Any, Protocol

from web.play.rounds import Changes
from web.store import STORE_FAILED, Channel

log = logging.getLogger(__name__)

CHANNEL = "bg:changes"
BATCH = 500  # most announcements merged into one delivery when they queue up
PUBLISH_EVERY = 0.05  # seconds between two publications at most: what comes meanwhile goes in one
SEPARATOR = "\x1e"  # between the parts of one publication (JSON text never holds a raw control character)
LANES = 2  # deliveries of other processes' changes running side by side (each team always in the same)


Decided = dict[tuple[str, int], dict[str, Any]]  # (code, team) -> its ``decided`` payload


Teams = set[tuple[str, int]]


def encode(changes: Changes, keep_public: bool, decided: Decided | None = None, shipped: Teams | None = None) -> str:
    """``changes`` as compact JSON, with the ``decided`` payloads read for them and the
    teams whose states were ``shipped`` in messages of their own."""
    return json.dumps(
        {
            "a": sorted(changes.advanced),
            "t": sorted(changes.seats),
            "o": sorted(changes.over),
            "s": sorted(changes.sessions),
            "k": keep_public,
            "d": [[c, n, p] for (c, n), p in sorted((decided or {}).items())],
            "p": sorted(shipped or ()),
        },
        separators=(",", ":"),
    )


def decode(text: str) -> tuple[Changes, bool, Decided, Teams]:
    """The inverse of ``encode``."""
    d = json.loads(text)
    changes = Changes(
        advanced={(str(c), int(n)) for c, n in d["a"]},
        seats={(str(c), int(n)) for c, n in d["t"]},
        over={str(c) for c in d["o"]},
        sessions={str(c) for c in d["s"]},
    )
    decided = {(str(c), int(n)): p for c, n, p in d.get("d", [])}
    return changes, bool(d["k"]), decided, {(str(c), int(n)) for c, n in d.get("p", [])}


def merge_changes(items: Iterable[tuple[Any, ...]]) -> list[tuple[bool, Changes, Decided, Teams]]:
    """Queued ``("c", changes, keep_public, decided, shipped)`` announcements merged in
    order, decisions (``keep_public``) apart from the rest: a decision merged with other
    changes of its team must not be taken for a decision only. The parts that hold a
    change, decisions first."""
    parts = {True: (Changes(), {}, set()), False: (Changes(), {}, set())}
    for _, changes, keep, decided, shipped in items:
        merged, known, sent = parts[keep]
        merged.merge(changes)
        known.update(decided)  # the later read wins
        sent |= shipped
    return [(keep, *parts[keep]) for keep in (True, False) if parts[keep][0]]


def encode_event(room: str, event: str, text: str) -> str:
    """An event for every member of ``room`` (its payload already JSON text) as one message."""
    return f"{room}\t{event}\t{text}"


def decode_event(body: str) -> tuple[str, str, str]:
    """The inverse of ``encode_event``: room, event, payload text."""
    room, event, text = body.split("\t", 2)
    return room, event, text


def encode_states(code: str, n: int, states: dict[str, str]) -> str:
    """Team ``n``'s seat states (role -> JSON text) as one message: a header line and a
    line per role (JSON text never holds a raw newline)."""
    return "\n".join([f"{code}|{n}", *(f"{role}\t{text}" for role, text in sorted(states.items()))])


def decode_states(text: str) -> tuple[str, int, dict[str, str]]:
    """The inverse of ``encode_states``."""
    head, *lines = text.split("\n")
    code, _, n = head.partition("|")
    return code, int(n), dict(line.split("\t", 1) for line in lines)


class Transport(Protocol):
    """What crosses from this process to the others: the broadcaster's one interface to them.
    ``Local`` (one process) sends nothing; ``Relay`` (``MESSAGE_QUEUE``) publishes on Redis."""

    def send(
        self, changes: Changes, keep_public: bool, decided: Decided | None = None, shipped: Teams | None = None
    ) -> None:
        """Announce ``changes`` (with the ``decided`` payloads read for them and the teams
        whose states were ``shipped``)."""

    def send_states(self, code: str, n: int, states: dict[str, str]) -> None:
        """Team ``n``'s seat states (role -> JSON text) for the seats other processes hold."""

    def send_event(self, room: str, event: str, text: str) -> None:
        """A session-wide ``event`` (its payload as JSON text) for the members of ``room`` elsewhere."""

    def start(self, spawn: Callable[..., Any]) -> None:
        """Start the background tasks (``spawn(fn, *args)``)."""

    def stop(self) -> None:
        """Stop them."""


class Local:
    """The transport of a single process: it holds every connection, so nothing crosses."""

    def send(
        self, changes: Changes, keep_public: bool, decided: Decided | None = None, shipped: Teams | None = None
    ) -> None:
        pass

    def send_states(self, code: str, n: int, states: dict[str, str]) -> None:
        pass

    def send_event(self, room: str, event: str, text: str) -> None:
        pass

    def start(self, spawn: Callable[..., Any]) -> None:
        pass

    def stop(self) -> None:
        pass


class Relay:
    """The transport between processes (``MESSAGE_QUEUE``): announces this process's changes
    to the others and hands theirs to ``deliver``."""

    def __init__(
        self,
        url: str,
        deliver: Callable[[Changes, bool, Decided, Teams], Any],
        deliver_states: Callable[[str, int, dict[str, str]], Any],
        deliver_event: Callable[[str, str, str], Any],
        sleep: Callable[[float], Any],
    ) -> None:
        self.host = uuid.uuid4().hex
        self._sleep = sleep
        self._prefix = self.host + "|"
        self._deliver = deliver
        self._deliver_states = deliver_states
        self._deliver_event = deliver_event
        self._channel = Channel(url, CHANNEL)
        self._stop = False
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._published = 0.0  # when the last publication went out (monotonic)
        self._outbox: list[tuple[Any, ...]] = []  # ("c", changes, keep, decided, shipped) | ("s" | "e", text)
        self._lanes: list[queue.Queue[tuple[Any, ...]]] = [queue.Queue() for _ in range(LANES)]
        self.received = 0  # announcements from other processes (for tests and the benchmark)

    def send(
        self, changes: Changes, keep_public: bool, decided: Decided | None = None, shipped: Teams | None = None
    ) -> None:
        """Announce ``changes``: queued for the publishing task, which merges whatever
        queued while it published last (under load many changes cost one message)."""
        with self._lock:
            self._outbox.append(("c", changes, keep_public, decided or {}, shipped or set()))
        self._wake.set()

    def send_states(self, code: str, n: int, states: dict[str, str]) -> None:
        """Send team ``n``'s seat states (role -> JSON text) to the processes holding them."""
        with self._lock:
            self._outbox.append(("s", encode_states(code, n, states)))
        self._wake.set()

    def send_event(self, room: str, event: str, text: str) -> None:
        """Send ``event`` (its payload as JSON text) to the members of ``room`` the other
        processes hold."""
        with self._lock:
            self._outbox.append(("e", encode_event(room, event, text)))
        self._wake.set()

    def publish(self) -> None:
        """Send the queued announcements until ``stop`` (a background task), at most one
        publication per ``PUBLISH_EVERY``: under load a publication carries many changes,
        which every process (this one too) receives once. Best effort: a lost
        announcement costs the other processes' players one update, which the next
        change or a reload brings."""
        while not self._stop:
            self._wake.wait(1.0)
            wait = self._published + PUBLISH_EVERY - time.monotonic()
            if wait > 0:
                self._sleep(wait)
            self._wake.clear()
            with self._lock:
                batch, self._outbox = self._outbox, []
            texts = [f"{item[0]}|{item[1]}" for item in batch if item[0] != "c"]  # states and events first, in order
            # submissions and the rest go as (at most) two parts
            for keep, merged, decided, shipped in merge_changes(item for item in batch if item[0] == "c"):
                texts.append("c|" + encode(merged, keep, decided, shipped))
            if not texts:
                continue
            self._published = time.monotonic()
            try:  # the whole batch as one message: each process receives and reads it once
                self._channel.publish(self._prefix + SEPARATOR.join(texts))
            except STORE_FAILED:
                log.warning("could not announce a change to the other processes", exc_info=True)

    def listen(self) -> None:
        """Deliver the other processes' announcements until ``stop`` (a background task):
        it waits for the next message (``PubSub.listen``, no polling), then takes what else
        has arrived meanwhile, and delivers them together."""
        while not self._stop:
            try:
                for batch in self._channel.batches(BATCH):
                    self._handle(batch)
                    if self._stop:
                        break
            except STORE_FAILED:
                if self._stop:
                    break  # stop() closed the connection under the wait
                log.warning("lost the change channel; subscribing again", exc_info=True)
                self._sleep(1.0)
            except Exception:  # keep listening: one bad message must not cut the processes apart
                log.exception("delivering another process's change failed")

    def _handle(self, texts: list[str]) -> None:
        announced: list[tuple[Any, ...]] = []
        for message in texts:
            if message.startswith(self._prefix):
                continue  # our own: delivered when it was made
            self.received += 1
            for part in message.partition("|")[2].split(SEPARATOR):
                self._take(part, announced)
        # each team's announcements go to one lane, in order; the lanes deliver side by side
        # (a delivery waits on Redis: one after the other, a busy class would queue up)
        for keep_public, merged, known, sent in merge_changes(announced):
            split: dict[int, Changes] = {}
            for name in ("advanced", "seats"):
                for key in getattr(merged, name):
                    getattr(split.setdefault(self._lane(key), Changes()), name).add(key)
            for name in ("over", "sessions"):
                for code in getattr(merged, name):
                    getattr(split.setdefault(self._lane(code), Changes()), name).add(code)
            for lane, changes in split.items():
                mine = {k: v for k, v in known.items() if k in changes.seats}
                self._lanes[lane].put(("c", changes, keep_public, mine, sent & (changes.advanced | changes.seats)))

    def _take(self, part: str, announced: list[tuple[Any, ...]]) -> None:
        """One part of another process's publication: states and events go to their lane
        at once, changes join ``announced`` (as ``send`` queued them)."""
        kind, _, body = part.partition("|")
        if kind == "s":
            code, _, rest = body.partition("|")
            n = int(rest.partition("\n")[0])
            self._lanes[self._lane((code, n))].put(("s", body))
        elif kind == "e":
            self._lanes[self._lane(body.partition("\t")[0])].put(("e", body))
        else:
            announced.append(("c", *decode(body)))

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
            pending: list[tuple[Any, ...]] = []
            for item in [*batch, ("end",)]:
                if item[0] == "c":
                    pending.append(item)
                    continue
                self._flush(pending)  # the changes queued before this message, merged
                pending = []
                try:
                    if item[0] == "s":
                        self._deliver_states(*decode_states(item[1]))
                    elif item[0] == "e":
                        self._deliver_event(*decode_event(item[1]))
                except Exception:  # keep delivering: one bad message must not stop the lane
                    log.exception("delivering another process's message failed")

    def _flush(self, items: list[tuple[Any, ...]]) -> None:
        """Deliver queued change announcements, merged (decisions apart from the rest)."""
        for keep, merged, known, sent in merge_changes(items):
            try:
                self._deliver(merged, keep, known, sent)
            except Exception:  # keep delivering: one bad change must not stop the lane
                log.exception("delivering another process's change failed")

    def start(self, spawn: Callable[..., Any]) -> None:
        """Listen, publish and deliver in background tasks."""
        spawn(self.listen)
        spawn(self.publish)
        for lane in range(LANES):
            spawn(self.deliver_lane, lane)

    def stop(self) -> None:
        self._stop = True
        self._wake.set()
        self._channel.close()  # wakes the listener waiting for a message
