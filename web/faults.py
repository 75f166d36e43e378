"""Fault points for the crash tests: ``BEERGAME_FAULT`` stops the process at a named step.

``BEERGAME_FAULT=crash:before_commit`` kills the process group (SIGKILL, as a
crash of the server would: under gunicorn the arbiter too, so no new worker
starts with the fault armed) the first time it reaches that point; ``pause:before_commit:5`` logs
``fault point before_commit: pausing 5s`` and waits there once (a test kills
Redis meanwhile). Unset, ``point`` does nothing. The points: ``after_decision``
(a decision recorded and acknowledged in the store, not the last),
``last_decision`` (the week's last human decision recorded, nothing computed),
``before_commit`` (the week computed, not written), ``after_commit`` (written,
no client told).
"""

from __future__ import annotations

import logging
import os
import signal
import time

log = logging.getLogger(__name__)

_SPEC = os.environ.get("BEERGAME_FAULT", "").split(":")
_fired = False


def point(name: str) -> None:
    """Crash or pause here when ``BEERGAME_FAULT`` names this point (once per process)."""
    global _fired
    if _fired or len(_SPEC) < 2 or _SPEC[1] != name:
        return
    _fired = True
    if _SPEC[0] == "crash":
        os.killpg(os.getpgid(0), signal.SIGKILL)
    elif _SPEC[0] == "pause":
        seconds = float(_SPEC[2]) if len(_SPEC) > 2 else 5.0
        log.warning("fault point %s: pausing %gs", name, seconds)
        time.sleep(seconds)
