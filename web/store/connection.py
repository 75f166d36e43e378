"""The one module of the store that relies on redis-py beyond its documented API.

``Connection`` is redis-py's connection class (``connection_class``, a documented hook) whose
check before the pool lends it first asks the operating system whether the socket has anything
to read. It reads redis-py's ``_sock`` and ``_parser`` and hiredis's reader (``_reader``,
``has_data``), which have no public equivalent. ``tests/test_library_internals.py`` fails when
the installed redis-py leaves the range pinned in ``pyproject.toml`` or when those names go.
"""

from __future__ import annotations

import select
import sys
from typing import Any

import redis


def _os_poll() -> Any:
    """``select.poll`` as the operating system has it, also where gevent or eventlet
    replaced it with one that waits through their event loop (None without poll)."""
    try:
        from gevent import monkey

        if monkey.is_module_patched("select"):
            return monkey.get_original("select", "poll")
    except ImportError:  # pragma: no cover - gevent is a dependency
        pass
    patcher = sys.modules.get("eventlet.patcher")  # only where eventlet is in use
    if patcher is not None and patcher.is_monkey_patched("select"):
        return getattr(patcher.original("select"), "poll", None)
    return getattr(select, "poll", None)


_POLL = _os_poll()


class Connection(redis.Connection):
    """redis-py's connection, with the check the pool makes before lending it (is a reply
    left unread, or did the server close it?) first asked of the operating system
    directly (redis-py asks through ``select.poll``, which under gevent goes round the
    event loop; see docs/PERFORMANCE.md). Only when the socket has something to read
    does redis-py's own check run."""

    def can_read(self, timeout: float = 0) -> bool:
        reader = getattr(self._parser, "_reader", None)  # hiredis's buffer of what was read
        if timeout == 0 and self._sock is not None and reader is not None and _POLL is not None:
            if reader.has_data():
                return True
            poller = _POLL()
            poller.register(self._sock.fileno(), select.POLLIN)
            if not poller.poll(0):
                return False  # the usual answer, in one system call
        # something waits (a reply left over, or the server closed the connection): redis-py's own check tells which
        return super().can_read(timeout)
