"""The Flask application factory: store, Socket.IO, HTTP API, pages and the ticker."""

from __future__ import annotations

import gc
import logging
import time
from collections.abc import Callable
from typing import Any

from flask import Flask
from flask.json.provider import DefaultJSONProvider
from flask.sessions import SecureCookieSessionInterface
from flask_compress import Compress
from flask_socketio import SocketIO
from itsdangerous import URLSafeTimedSerializer
from socketio import packet as socketio_packet

from game.jsonsafe import jsonsafe
from web import wire
from web.config import load_config
from web.errors import Outage
from web.http import custom_scenarios, pages
from web.http.api import bp as api_bp
from web.http.publicinfo import PublicInfo
from web.play import rounds, views
from web.play.sessions import SessionMeta
from web.realtime import events, frames, internals
from web.realtime.broadcast import Broadcaster
from web.realtime.leader import Lease
from web.realtime.relay import Local, Relay, Transport
from web.store import STORE_DOWN, Presence, Store

log = logging.getLogger(__name__)

LEASE_SECONDS = 3.0  # the ticker lease outlives a few missed ticks; a new leader takes over after it

MEMORY_WARNING = (
    "No REDIS_URL set: games live in this process only (embedded fakeredis) and will NOT survive a restart. "
    "Set REDIS_URL=redis://... to keep them."
)


class CookieSessions(SecureCookieSessionInterface):
    """Flask's cookie sessions, with the signing serializer made once per key rather than
    once per request (every Socket.IO event runs in a request context; docs/PERFORMANCE.md)."""

    def __init__(self) -> None:
        self._signer: tuple[tuple[Any, ...], URLSafeTimedSerializer | None] | None = None

    def get_signing_serializer(self, app: Flask) -> URLSafeTimedSerializer | None:
        key = (app.secret_key, tuple(app.config["SECRET_KEY_FALLBACKS"] or ()))
        if self._signer is None or self._signer[0] != key:
            self._signer = (key, super().get_signing_serializer(app))
        return self._signer[1]


class StrictJSON(DefaultJSONProvider):
    """Flask's JSON answers and the pages' ``tojson`` data as strict, compact JSON: an infinite
    or NaN number is written as ``null`` (``game.jsonsafe``), never as ``Infinity`` or ``NaN``,
    which browsers and most readers refuse; no spaces after separators (the player page's weight)."""

    def dumps(self, obj: Any, **kwargs: Any) -> str:
        kwargs["allow_nan"] = False
        kwargs.setdefault("separators", (",", ":"))
        try:
            return super().dumps(obj, **kwargs)
        except ValueError:
            return super().dumps(jsonsafe(obj), **kwargs)


class Hub:
    """Everything the handlers share: settings, store, Socket.IO, connections, clock;
    the transport to the other processes (``Local``: none; with ``MESSAGE_QUEUE`` the relay)
    and then the ticker lease."""

    def __init__(self, cfg: dict[str, Any], store: Store, socketio: SocketIO, clock: Callable[[], float]) -> None:
        self.cfg = cfg
        self.store = store
        self.socketio = socketio
        self.clock = clock
        self.connections = events.Connections()
        self.views = views.Views(store)
        self.broadcaster = Broadcaster(self)
        tick = float(cfg["TICK_SECONDS"])
        self.public = PublicInfo(self.views.public_session, max_age=2 * tick)
        self.transport: Transport = Local()
        self.lease: Lease | None = None
        if cfg["MESSAGE_QUEUE"]:
            self.transport = Relay(cfg["MESSAGE_QUEUE"], self.broadcaster, socketio.sleep)
            self.lease = Lease(store, seconds=max(LEASE_SECONDS, 4 * tick))
        self.outage = Outage(log)
        self._ticker_started = False
        self._stop = False

    def leads(self) -> bool:
        """Whether this process runs the session-wide work: always when it is the only
        one (no ``MESSAGE_QUEUE``), else while it holds the ticker lease."""
        return self.lease is None or self.lease.held

    def publish(self, changes: rounds.Changes, keep_public: bool = False) -> None:
        """Tell every client concerned about ``changes``. ``keep_public``: the public
        session info may stay as it is (a submission: who sits where did not change,
        a team's week number may lag by up to two ticks)."""
        self.broadcaster.publish(changes, keep_public)

    def public_session(self, meta: SessionMeta, extra: dict[str, Any]) -> str:
        """``views.public_session`` with ``extra`` fields (the texts in the reader's
        language), as JSON text, from ``web.http.publicinfo``: kept for at most two ticks
        and until a change other than a submission, built once however many wait."""
        return self.public.get(meta, extra)

    def period(self) -> float:
        """The ticker period, ``TICK_SECONDS``."""
        return float(self.cfg["TICK_SECONDS"])

    def online_since(self) -> float:
        """Seats seen at or after this time count as connected (the ticker marks them)."""
        return self.clock() - 3 * float(self.cfg["TICK_SECONDS"]) - 1.0

    def tick(self, now: float | None = None) -> rounds.Changes:
        """One ticker pass: marks the seats this process's connections hold as seen;
        on the leader also timers, drop-outs and bot pacing (publishing what changed)
        and the held-back session updates. While the store is unreachable a pass does
        nothing and the outage is logged once when it starts and once when it ends."""
        now = self.clock() if now is None else now
        held = self.connections.held()
        try:
            if self.lease is not None:
                self.lease.renew()
            if not self.leads():
                for code, seats in held.items():
                    self.store.mark_seen(code, seats, now)
                changes = rounds.Changes()
            else:
                presence: dict[str, Presence] = {}
                changes = rounds.tick(self.store, self.cfg, now, held, presence)
                self.publish(changes)
                self.broadcaster.flush(presence)
        except STORE_DOWN as exc:
            self.outage.failed(exc)
            return rounds.Changes()
        self.outage.ok()
        return changes

    def start_transport(self) -> None:
        """Start the transport's background tasks (the relay's, with ``MESSAGE_QUEUE``)."""
        self.transport.start(self.socketio.start_background_task)

    def start_ticker(self) -> None:
        """Run ``tick`` every ``TICK_SECONDS`` in a background task (once)."""
        if self._ticker_started:
            return
        self._ticker_started = True
        self.socketio.start_background_task(self._run_ticker)

    def stop_ticker(self) -> None:
        self._stop = True
        self.transport.stop()
        if self.lease is not None:
            self.lease.release()

    def _run_ticker(self) -> None:
        period = float(self.cfg["TICK_SECONDS"])
        while not self._stop:
            self.socketio.sleep(period)
            try:
                self.tick()
            except Exception:  # keep ticking: a store hiccup must not stop the timers
                log.exception("ticker pass failed")


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Build the app. ``config`` overrides the environment (see ``web.config``); it
    may also hold ``CLOCK`` (a ``() -> epoch seconds`` callable, for tests) and
    ``STORE`` (a ready ``web.store.Store``)."""
    config = dict(config or {})
    clock = config.pop("CLOCK", time.time)
    store = config.pop("STORE", None)
    cfg = load_config(config)
    app = Flask(__name__)
    app.config.update(SECRET_KEY=cfg["SECRET_KEY"], JSON_SORT_KEYS=False)
    app.session_interface = CookieSessions()
    app.json = StrictJSON(app)
    app.config["BEERGAME"] = cfg
    if store is None:
        store = Store.from_url(cfg["REDIS_URL"], int(cfg["REDIS_MAX_CONNECTIONS"]))
    if store.kind == "memory":
        log.warning(MEMORY_WARNING)
    # with MESSAGE_QUEUE the processes reach each other's clients through web.realtime.relay:
    # python-socketio's own manager stays in-process (each process sends to its own).
    # A connection's events are handled one after the other, where it reads them (no
    # task started per event; connections are served side by side as before).
    socketio = SocketIO(
        app,
        async_mode=cfg["ASYNC_MODE"],
        async_handlers=False,
        max_http_buffer_size=frames.MAX_FRAME_BYTES,  # in characters: web.realtime.frames counts the bytes
        ping_interval=10,
        ping_timeout=20,
        json=wire,
        serializer=frames.Packet,  # refuses what the library would mishandle (web.realtime.frames)
        client_manager=internals.Rooms(),
    )
    # ``json`` is process-wide in python-socketio (the library sets it on the packet class): with
    # ``serializer`` that class is frames.Packet, so the default one (clients made in this process,
    # such as Flask-SocketIO's test client) is given it too, as it would be without ``serializer``
    socketio_packet.Packet.json = wire
    app.wsgi_app = frames.FrameGuard(app.wsgi_app, socketio.server)  # type: ignore[method-assign]
    hub = Hub(cfg, store, socketio, clock)
    app.extensions["beergame"] = hub
    events.register(socketio, hub)
    app.register_blueprint(api_bp)
    app.register_blueprint(custom_scenarios.bp)
    pages.init_pages(app)
    # gzip/brotli/zstd for pages, scripts and JSON (Flask's after_request: the
    # Socket.IO traffic is answered by the middleware before Flask and never touched)
    Compress(app)
    hub.start_transport()
    if cfg["TICKER"]:
        hub.start_ticker()
    return app


GC_THRESHOLDS = (10_000, 20, 10)  # Python's are (700, 10, 10)


def tune_gc() -> None:
    """Garbage collection for a server process (the entry points call it once the app is
    built): what exists now (modules, scenarios, the app) is set aside for good, and the
    young generation is collected every ``GC_THRESHOLDS[0]`` allocations rather than 700
    (a class keeps over a hundred thousand objects alive; docs/PERFORMANCE.md)."""
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)


def socketio_of(app: Flask) -> SocketIO:
    """The app's Socket.IO server."""
    return app.extensions["beergame"].socketio
