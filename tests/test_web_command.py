"""``python -m web`` as an instructor meets it: --help, a taken port, a bad option, and the
addresses it prints at start-up."""

from __future__ import annotations

import socket
import subprocess
import sys

import pytest
from support import ROOT, free_port, server_env, start_server, stop_server

pytestmark = pytest.mark.slow


def run_web(*args: str, port: int, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "web", *args],
        cwd=ROOT,
        env=server_env(None, port, **env),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_help_prints_help_and_starts_nothing() -> None:
    port = free_port()
    proc = run_web("--help", port=port)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("usage: python -m web") and "--port" in proc.stdout and "PUBLIC_URL" in proc.stdout
    assert "Beer game on" not in proc.stderr


def test_a_taken_port_is_one_line_naming_it_and_how_to_choose_another() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        proc = run_web(port=port)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert f"port {port} is already in use" in lines[0] and "--port" in lines[0] and "PORT=" in lines[0]
    assert "Traceback" not in proc.stderr


@pytest.mark.parametrize(
    ("args", "env", "problem"),
    [
        (("--prot", "8000"), {}, "unrecognized arguments: --prot"),
        (("--po", "8000"), {}, "unrecognized arguments: --po"),  # no abbreviations
        (("--port", "http"), {}, "--port: must be a port number"),
        ((), {"PUBLIC_URL": "beer.example.org"}, "PUBLIC_URL must be an http(s) address"),
    ],
)
def test_bad_settings_are_one_line(args: tuple[str, ...], env: dict[str, str], problem: str) -> None:
    proc = run_web(*args, port=free_port(), **env)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("python -m web: error: ") and problem in lines[0], proc.stderr


def test_start_up_says_where_students_join(tmp_path) -> None:
    port = free_port()
    log = tmp_path / "server.log"
    proc = start_server(
        [sys.executable, "-m", "web", "--port", str(port)],
        server_env(None, free_port(), PUBLIC_URL="https://beer.example.org"),
        port,
        log,
    )
    stop_server(proc)
    text = log.read_text()
    assert f"Beer game on http://127.0.0.1:{port}" in text  # --port wins over PORT
    assert "Students join at https://beer.example.org (PUBLIC_URL)" in text
    assert f"Facilitator: http://localhost:{port}/facilitate" in text
