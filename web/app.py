"""The Flask application factory: store, Socket.IO, HTTP API, pages and the ticker."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from typing import Any

from flask import Flask
from flask_compress import Compress
from flask_socketio import SocketIO

from web import custom_scenarios, events, pages, rounds, views, wire
from web.api import bp as api_bp
from web.config import load_config
from web.errors import Outage
from web.sessions import SessionMeta
from web.store import STORE_DOWN, Store

log = logging.getLogger(__name__)

MEMORY_WARNING = (
    "No REDIS_URL set: games live in this process only (embedded fakeredis) and will NOT survive a restart. "
    "Set REDIS_URL=redis://... to keep them."
)


class Hub:
    """Everything the handlers share: settings, store, Socket.IO, connections, clock."""

    def __init__(self, cfg: dict[str, Any], store: Store, socketio: SocketIO, clock: Callable[[], float]) -> None:
        self.cfg = cfg
        self.store = store
        self.socketio = socketio
        self.clock = clock
        self.connections = events.Connections()
        self.broadcaster = events.Broadcaster(self)
        self.outage = Outage(log)
        self._public: dict[str, tuple[float, str, dict[str, Any], dict[str, str]]] = {}
        self._ticker_started = False
        self._stop = False

    def publish(self, changes: rounds.Changes, keep_public: bool = False) -> None:
        """Tell every client concerned about ``changes``. ``keep_public``: the public
        session info may stay as it is for the teams whose seats or decisions changed
        (a submission: who sits where did not change); a team's new week drops it."""
        teams = changes.advanced if keep_public else changes.advanced | changes.seats
        for code in {c for c, _ in teams} | changes.sessions | changes.over:
            self._public.pop(code, None)
        self.broadcaster.publish(changes)

    def public_session(self, meta: SessionMeta, extra: dict[str, Any]) -> str:
        """``views.public_session`` with ``extra`` fields, as JSON text. Kept for at most
        two ticks and until a change other than a submission (every player page asks
        for it at each new week), per ``extra`` (the texts in the reader's language)."""
        now = time.monotonic()
        hit = self._public.get(meta.code)
        if not hit or now - hit[0] >= 2 * float(self.cfg["TICK_SECONDS"]) or hit[1] != meta.status:
            hit = (now, meta.status, views.public_session(self.store, meta), {})
            self._public[meta.code] = hit
        key = json.dumps(extra, sort_keys=True)
        body = hit[3].get(key)
        if body is None:
            body = hit[3][key] = json.dumps({**hit[2], **extra}, separators=(",", ":"))
        return body

    def online_since(self) -> float:
        """Seats seen at or after this time count as connected (the ticker marks them)."""
        return self.clock() - 3 * float(self.cfg["TICK_SECONDS"]) - 1.0

    def tick(self, now: float | None = None) -> rounds.Changes:
        """One ticker pass (timers, drop-outs, bot pacing); publishes what changed.
        While the store is unreachable a pass does nothing and the outage is logged
        once when it starts and once when it ends."""
        try:
            changes = rounds.tick(self.store, self.cfg, self.clock() if now is None else now, self.connections.held())
            self.publish(changes)
            self.broadcaster.flush()
        except STORE_DOWN as exc:
            self.outage.failed(exc)
            return rounds.Changes()
        self.outage.ok()
        return changes

    def start_ticker(self) -> None:
        """Run ``tick`` every ``TICK_SECONDS`` in a background task (once)."""
        if self._ticker_started:
            return
        self._ticker_started = True
        self.socketio.start_background_task(self._run_ticker)

    def stop_ticker(self) -> None:
        self._stop = True

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
    app.config["BEERGAME"] = cfg
    if store is None:
        store = Store.from_url(cfg["REDIS_URL"], int(cfg["REDIS_MAX_CONNECTIONS"]))
    if store.kind == "memory":
        log.warning(MEMORY_WARNING)
    socketio = SocketIO(
        app,
        async_mode=cfg["ASYNC_MODE"],
        message_queue=cfg["MESSAGE_QUEUE"],
        max_http_buffer_size=64 * 1024,
        ping_interval=10,
        ping_timeout=20,
        json=wire,
    )
    hub = Hub(cfg, store, socketio, clock)
    app.extensions["beergame"] = hub
    events.register(socketio, hub)
    app.register_blueprint(api_bp)
    app.register_blueprint(custom_scenarios.bp)
    pages.init_pages(app)
    # gzip/brotli/zstd for pages, scripts and JSON (Flask's after_request: the
    # Socket.IO traffic is answered by the middleware before Flask and never touched)
    Compress(app)
    if cfg["TICKER"]:
        hub.start_ticker()
    return app


def socketio_of(app: Flask) -> SocketIO:
    """The app's Socket.IO server."""
    return app.extensions["beergame"].socketio
