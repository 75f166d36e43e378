"""Settings from the environment, and the app factory's wiring."""

from __future__ import annotations

from typing import Any

import pytest

from web.config import DEFAULTS, load_config


def test_defaults_without_environment() -> None:
    cfg = load_config(environ={})
    assert cfg["REDIS_URL"] is None and cfg["PORT"] == 5000 and cfg["ASYNC_MODE"] == "threading"
    assert cfg["GAME_TTL_SECONDS"] == DEFAULTS["GAME_TTL_SECONDS"] and len(cfg["SECRET_KEY"]) == 64


def test_environment_is_typed_and_overrides_win() -> None:
    env = {
        "REDIS_URL": "redis://127.0.0.1:1/2",
        "PORT": "8080",
        "DISCONNECT_GRACE_SECONDS": "2.5",
        "TICKER": "0",
        "ASYNC_MODE": "gevent",
        "MESSAGE_QUEUE": "",
        "SECRET_KEY": "k",
    }
    cfg = load_config({"PORT": 9000}, environ=env)
    assert cfg["REDIS_URL"] == "redis://127.0.0.1:1/2"
    assert cfg["PORT"] == 9000
    assert cfg["DISCONNECT_GRACE_SECONDS"] == 2.5
    assert cfg["TICKER"] is False
    assert cfg["ASYNC_MODE"] == "gevent"
    assert cfg["MESSAGE_QUEUE"] is None
    assert cfg["SECRET_KEY"] == "k"


def test_unknown_async_mode_is_refused() -> None:
    with pytest.raises(ValueError, match="ASYNC_MODE"):
        load_config(environ={"ASYNC_MODE": "asyncio"})


def test_app_registers_api_socketio_and_pages(make_app: Any) -> None:
    app = make_app()
    rules = {r.rule for r in app.url_map.iter_rules()}
    assert {"/healthz", "/api/scenarios", "/api/sessions", "/api/sessions/<code>"} <= rules
    assert "/" in rules  # the pages blueprint
    hub = app.extensions["beergame"]
    assert hub.store.kind == "memory" and hub.socketio.async_mode == "threading"
