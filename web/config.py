"""Server settings: environment variables with documented defaults.

| variable | default | meaning |
| --- | --- | --- |
| ``REDIS_URL`` | unset | Redis to keep every game in; unset = in-process fakeredis (games die with the process) |
| ``SECRET_KEY`` | random per process | Flask secret (cookies of the pages) |
| ``HOST`` / ``PORT`` | ``0.0.0.0`` / ``5000`` | where ``python -m web`` listens |
| ``ASYNC_MODE`` | ``threading`` (``gevent`` in ``web.wsgi``, ``python -m web``) | gevent, threading or eventlet |
| ``REDIS_MAX_CONNECTIONS`` | ``50`` | Redis connections per process (more requests wait for one) |
| ``MESSAGE_QUEUE`` | unset | Redis URL Flask-SocketIO uses to reach clients of other worker processes |
| ``GAME_TTL_SECONDS`` | ``86400`` | how long a finished game is kept |
| ``IDLE_TTL_SECONDS`` | ``604800`` | how long an unfinished game is kept after its last change |
| ``DISCONNECT_GRACE_SECONDS`` | ``30`` | how long a disconnected player keeps the seat before a bot plays it |
| ``BOT_ROUND_SECONDS`` | ``3`` | pace of a session in which no human plays any seat |
| ``TICK_SECONDS`` | ``0.5`` | how often the background ticker checks timers and presence |
| ``MAX_TEAMS`` | ``300`` | most teams one session may have |
| ``RATE_LIMIT_PER_SECOND`` | ``20`` | most events one connection may send per second |
| ``TICKER`` | ``1`` | ``0`` turns the background ticker off (tests drive it by hand) |
| ``PUBLIC_URL`` | unset | where students join (``https://beer.example.org``: a proxy, tunnel or domain); unset = |
| | | the page's own address, or this machine's network address when the page is on loopback |
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

DEFAULTS: dict[str, Any] = {
    "REDIS_URL": None,
    "SECRET_KEY": None,
    "HOST": "0.0.0.0",
    "PORT": 5000,
    "ASYNC_MODE": "threading",
    "MESSAGE_QUEUE": None,
    "REDIS_MAX_CONNECTIONS": 50,
    "GAME_TTL_SECONDS": 86400,
    "IDLE_TTL_SECONDS": 7 * 86400,
    "DISCONNECT_GRACE_SECONDS": 30.0,
    "BOT_ROUND_SECONDS": 3.0,
    "TICK_SECONDS": 0.5,
    "MAX_TEAMS": 300,
    "RATE_LIMIT_PER_SECOND": 20,
    "TICKER": True,
    "PUBLIC_URL": None,
}

ASYNC_MODES = ("gevent", "threading", "eventlet")


def _convert(key: str, raw: Any) -> Any:
    """Coerce an environment string to the type of the default."""
    default = DEFAULTS[key]
    if raw is None or not isinstance(raw, str):
        return raw
    if raw == "" and default is None:
        return None
    if isinstance(default, bool):
        return raw.strip().lower() not in ("0", "false", "no", "off", "")
    if isinstance(default, int):
        return int(raw)
    if isinstance(default, float):
        return float(raw)
    return raw


def load_config(overrides: Mapping[str, Any] | None = None, environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Settings from ``DEFAULTS``, then the environment, then ``overrides``."""
    env = os.environ if environ is None else environ
    cfg: dict[str, Any] = {}
    for key in DEFAULTS:
        cfg[key] = _convert(key, env[key]) if key in env else DEFAULTS[key]
    for key, value in (overrides or {}).items():
        cfg[key] = _convert(key, value) if key in DEFAULTS else value
    if not cfg["SECRET_KEY"]:
        cfg["SECRET_KEY"] = secrets.token_hex(32)
    if cfg["PUBLIC_URL"]:
        parts = urlsplit(str(cfg["PUBLIC_URL"]))
        if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
            raise ValueError(
                f"PUBLIC_URL must be an http(s) address such as https://beer.example.org, got {cfg['PUBLIC_URL']!r}"
            )
        cfg["PUBLIC_URL"] = str(cfg["PUBLIC_URL"]).rstrip("/")
    if cfg["ASYNC_MODE"] not in ASYNC_MODES:
        raise ValueError(f"ASYNC_MODE must be one of {', '.join(ASYNC_MODES)}, got {cfg['ASYNC_MODE']!r}")
    return cfg
