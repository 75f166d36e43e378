"""Helpers the server benchmarks share: free ports, the Procfile's command, CPU from /proc."""

from __future__ import annotations

import os
import platform
import shlex
import shutil
import socket
import sys
import time
from pathlib import Path
from typing import Any

import redis
import requests

ROOT = Path(__file__).resolve().parent.parent
PROCFILE = ROOT / "Procfile"
REDIS_BIN = shutil.which("redis-server") or "/usr/bin/redis-server"
CLK_TCK = os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(check: Any, timeout: float, what: str) -> None:
    """Poll ``check`` until it is truthy; ``RuntimeError`` after ``timeout`` seconds."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            if check():
                return
        except (OSError, redis.RedisError, requests.RequestException):
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{what} did not come up within {timeout:.0f} s")


def procfile_command(port: int) -> list[str]:
    """The Procfile's ``web`` command (it listens on ``$HOST:$PORT``: the caller sets them)."""
    line = next(x for x in PROCFILE.read_text().splitlines() if x.startswith("web:"))
    cmd = shlex.split(line.removeprefix("web:").strip())
    if cmd[0] != "gunicorn":
        raise RuntimeError(f"unexpected Procfile command: {line}")
    return [sys.executable, "-m", "gunicorn", *cmd[1:]]


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of process ``pid`` so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def children(pid: int) -> list[int]:
    """Direct child processes of ``pid``."""
    raw = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    return [int(x) for x in raw]


def machine() -> str:
    """The machine and how busy it is, for the record beside the figures."""
    names = [x.split(":", 1)[1].strip() for x in Path("/proc/cpuinfo").read_text().splitlines() if "model name" in x]
    cpu = names[0] if names else "unknown CPU"
    load = os.getloadavg()[0]
    return (
        f"{os.cpu_count()} cores ({cpu}), CPython {platform.python_version()}, load average {load:.1f} before the run"
    )
