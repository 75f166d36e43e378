"""What crosses between server processes (``MESSAGE_QUEUE`` set): one Redis channel, one format.

A change is announced to the other processes in a few bytes (which teams and
sessions changed). The process where a team changed builds every seat's ``state``
and ``decided`` once and sends the seats it does not hold theirs as encoded text;
the others pass them on as they are, to the connections they hold. Session-level
changes (start, pause, end) are rebuilt by each process. The session-wide payloads
are built and encoded once, by the ticker leader (``web.realtime.leader``), and sent
as text to the other processes, which pass them on to their members of the room.
So python-socketio keeps its in-process client manager: every process sends only to
its own connections, and no payload is decoded and encoded again on the way.

The format (docs/ARCHITECTURE.md, *Between processes*): each publication on
``CHANNEL`` is one JSON object, ``{"host": <the sender's id>, "parts": [...]}``, each
part one of::

    {"kind": "states", "code": "ABC234", "team": 3, "states": {"retailer": "<JSON text>", ...}}
    {"kind": "event", "room": "p:ABC234", "event": "standings", "payload": "<JSON text>"}
    {"kind": "changes", "decision": true, "advanced": [["ABC234", 3]], "seats": [["ABC234", 3]],
     "over": ["XYZ789"], "sessions": [], "decided": [{"code": "ABC234", "team": 3, "payload": {...}}],
     "shipped": [["ABC234", 3]]}

Payloads the clients receive travel as JSON strings holding their encoded text, passed on as
they are; ``decided`` payloads (a few bytes) as JSON.
"""

from __future__ import annotations

import json
import logging
import queue
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from typing import Any, NamedTuple, Protocol

from web.play.rounds import Changes
from web.store import STORE_FAILED, Channel

log = logging.getLogger(__name__)

CHANNEL = "bg:changes"
BATCH = 500  # most announcements merged into one delivery when they queue up
PUBLISH_EVERY = 0.05  # seconds between two publications at most: what comes meanwhile goes in one
LANES = 2  # deliveries of other processes' changes running side by side (each team always in the same)

Decided = dict[tuple[str, int], dict[str, Any]]  # (code, team) -> its ``decided`` payload
Teams = set[tuple[str, int]]
Part = dict[str, Any]  # a ``states`` or ``event`` part of a publication, as it is sent


class Announcement(NamedTuple):
    """A ``changes`` part: what changed, whether only by decisions (``decision``: the
    broadcaster's ``keep_public``), the ``decided`` payloads read for them and the teams
    whose states were ``shipped`` in parts of their own."""

    changes: Changes
    decision: bool
    decided: Decided
    shipped: Teams


def _teams(keys: Iterable[tuple[str, int]]) -> list[list[Any]]:
    return [[c, n] for c, n in sorted(keys)]


def changes_part(a: Announcement) -> Part:
    """``a`` as a ``changes`` part."""
    return {
        "kind": "changes",
        "decision": a.decision,
        "advanced": _teams(a.changes.advanced),
        "seats": _teams(a.changes.seats),
        "over": sorted(a.changes.over),
        "sessions": sorted(a.changes.sessions),
        "decided": [{"code": c, "team": n, "payload": p} for (c, n), p in sorted(a.decided.items())],
        "shipped": _teams(a.shipped),
    }


def read_changes(part: Part) -> Announcement:
    """The inverse of ``changes_part``."""
    changes = Changes(
        advanced={(str(c), int(n)) for c, n in part["advanced"]},
        seats={(str(c), int(n)) for c, n in part["seats"]},
        over={str(c) for c in part["over"]},
        sessions={str(c) for c in part["sessions"]},
    )
    decided = {(str(d["code"]), int(d["team"])): d["payload"] for d in part["decided"]}
    shipped = {(str(c), int(n)) for c, n in part["shipped"]}
    return Announcement(changes, bool(part["decision"]), decided, shipped)


def states_part(code: str, n: int, states: dict[str, str]) -> Part:
    """Team ``n``'s seat states (role -> JSON text) as a ``states`` part."""
    return {"kind": "states", "code": code, "team": n, "states": states}


def event_part(room: str, event: str, text: str) -> Part:
    """An event for every member of ``room`` (its payload as JSON text) as an ``event`` part."""
    return {"kind": "event", "room": room, "event": event, "payload": text}


def encode(host: str, parts: list[Part]) -> str:
    """One publication: ``parts`` from process ``host``."""
    return json.dumps({"host": host, "parts": parts}, separators=(",", ":"))


def decode(text: str) -> tuple[str, list[Part]]:
    """The inverse of ``encode``: the sender and the parts."""
    message = json.loads(text)
    return str(message["host"]), list(message["parts"])


def merge_changes(items: Iterable[Announcement]) -> list[Announcement]:
    """Announcements merged in order, decisions apart from the rest: a decision merged with
    other changes of its team must not be taken for a decision only. The ones that hold a
    change, decisions first."""
    merged = {True: Announcement(Changes(), True, {}, set()), False: Announcement(Changes(), False, {}, set())}
    for item in items:
        into = merged[item.decision]
        into.changes.merge(item.changes)
        into.decided.update(item.decided)  # the later read wins
        into.shipped.update(item.shipped)
    return [merged[d] for d in (True, False) if merged[d].changes]


class Transport(Protocol):
    """What crosses from this process to the others: the broadcaster's one interface to them.
    ``Local`` (one process) sends nothing; ``Relay`` (``MESSAGE_QUEUE``) publishes on Redis."""

    def send(self, note: Announcement) -> None:
        """Announce what changed here (``note``)."""

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

    def send(self, note: Announcement) -> None:
        pass

    def send_states(self, code: str, n: int, states: dict[str, str]) -> None:
        pass

    def send_event(self, room: str, event: str, text: str) -> None:
        pass

    def start(self, spawn: Callable[..., Any]) -> None:
        pass

    def stop(self) -> None:
        pass


class Receiver(Protocol):
    """Where the other processes' parts go (the broadcaster)."""

    def deliver(self, note: Announcement) -> Any: ...

    def deliver_states(self, code: str, n: int, states: dict[str, str]) -> None: ...

    def deliver_event(self, room: str, event: str, text: str) -> None: ...


Lane = Announcement | Part  # what waits in a lane for delivery


class Relay:
    """The transport between processes (``MESSAGE_QUEUE``): publishes this process's parts
    for the others and hands theirs to ``receiver``."""

    def __init__(self, url: str, receiver: Receiver, sleep: Callable[[float], Any]) -> None:
        self.host = uuid.uuid4().hex
        self._receiver = receiver
        self._sleep = sleep
        self._channel = Channel(url, CHANNEL)
        self._stop = False
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._published = 0.0  # when the last publication went out (monotonic)
        self._outbox: list[Lane] = []
        self._lanes: list[queue.Queue[Lane]] = [queue.Queue() for _ in range(LANES)]

    def _queue(self, item: Lane) -> None:
        with self._lock:
            self._outbox.append(item)
        self._wake.set()

    def send(self, note: Announcement) -> None:
        """Announce ``note``: queued for the publishing task, which merges whatever queued
        while it published last (under load many changes cost one message)."""
        self._queue(note)

    def send_states(self, code: str, n: int, states: dict[str, str]) -> None:
        """Send team ``n``'s seat states (role -> JSON text) to the processes holding them."""
        self._queue(states_part(code, n, states))

    def send_event(self, room: str, event: str, text: str) -> None:
        """Send ``event`` (its payload as JSON text) to the members of ``room`` the other
        processes hold."""
        self._queue(event_part(room, event, text))

    def _take_outbox(self) -> list[Part]:
        """What queued, as the parts of one publication: states and events first, in order,
        then the changes as (at most) two parts, decisions apart from the rest."""
        with self._lock:
            batch, self._outbox = self._outbox, []
        parts = [item for item in batch if not isinstance(item, Announcement)]
        announced = merge_changes(item for item in batch if isinstance(item, Announcement))
        return parts + [changes_part(a) for a in announced]

    def publish(self) -> None:
        """Send the queued parts until ``stop`` (a background task), at most one publication
        per ``PUBLISH_EVERY``: under load a publication carries many changes, which every
        process (this one too) receives once. Best effort: a lost publication costs the
        other processes' players one update, which the next change or a reload brings."""
        while not self._stop:
            self._wake.wait(1.0)
            wait = self._published + PUBLISH_EVERY - time.monotonic()
            if wait > 0:
                self._sleep(wait)
            self._wake.clear()
            parts = self._take_outbox()
            if not parts:
                continue
            self._published = time.monotonic()
            try:
                self._channel.publish(encode(self.host, parts))
            except STORE_FAILED:
                log.warning("could not announce a change to the other processes", exc_info=True)

    def listen(self) -> None:
        """Deliver the other processes' publications until ``stop`` (a background task):
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
        """Publications read from the channel, to the lanes: each team's parts go to one
        lane, in order; the lanes deliver side by side (a delivery waits on Redis: one after
        the other, a busy class would queue up). Changes are merged first."""
        announced: list[Announcement] = []
        for text in texts:
            host, parts = decode(text)
            if host == self.host:
                continue  # our own: delivered when it was made
            for part in parts:
                if part["kind"] == "changes":
                    announced.append(read_changes(part))
                elif part["kind"] == "states":
                    self._lanes[_lane((part["code"], part["team"]))].put(part)
                else:
                    self._lanes[_lane(part["room"])].put(part)
        for a in merge_changes(announced):
            for lane, item in _split(a).items():
                self._lanes[lane].put(item)

    def deliver_lane(self, lane: int) -> None:
        """Deliver one lane's parts until ``stop`` (a background task); changes that queued
        meanwhile are merged into one delivery."""
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
            self._deliver_batch(batch)

    def _deliver_batch(self, batch: list[Lane]) -> None:
        """A lane's parts in order, the changes between two other parts merged."""
        pending: list[Announcement] = []
        for item in batch:
            if isinstance(item, Announcement):
                pending.append(item)
                continue
            self._flush(pending)  # the changes queued before this part, merged
            pending = []
            self._deliver_part(item)
        self._flush(pending)

    def _deliver_part(self, part: Part) -> None:
        try:
            if part["kind"] == "states":
                self._receiver.deliver_states(str(part["code"]), int(part["team"]), dict(part["states"]))
            else:
                self._receiver.deliver_event(str(part["room"]), str(part["event"]), str(part["payload"]))
        except Exception:  # keep delivering: one bad part must not stop the lane
            log.exception("delivering another process's message failed")

    def _flush(self, items: list[Announcement]) -> None:
        """Deliver queued change announcements, merged (decisions apart from the rest)."""
        for a in merge_changes(items):
            try:
                self._receiver.deliver(a)
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


def _lane(key: Any) -> int:
    return hash(key) % LANES


def _split(a: Announcement) -> dict[int, Announcement]:
    """``a`` split by lane: each team, and each session's own changes, always in the same lane."""
    split: dict[int, Changes] = {}
    for name in ("advanced", "seats"):
        for key in getattr(a.changes, name):
            getattr(split.setdefault(_lane(key), Changes()), name).add(key)
    for name in ("over", "sessions"):
        for code in getattr(a.changes, name):
            getattr(split.setdefault(_lane(code), Changes()), name).add(code)
    return {
        lane: Announcement(
            changes,
            a.decision,
            {k: v for k, v in a.decided.items() if k in changes.seats},
            a.shipped & (changes.advanced | changes.seats),
        )
        for lane, changes in split.items()
    }
