"""``python -m web`` as an instructor meets it: --help, a taken port, a bad option, and the
addresses it prints at start-up."""

from __future__ import annotations

import socket
import subprocess
import sys

import pytest
import requests
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


def _frame(data: bytes, opcode: int = 1) -> bytes:
    """A masked client frame (payloads under 126 bytes)."""
    mask = b"\x01\x02\x03\x04"
    return bytes([0x80 | opcode, 0x80 | len(data)]) + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(data))


def _read_until_closed(sock: socket.socket) -> bytes:
    """What the server sends until it closes the connection (or is quiet for 3 s)."""
    sock.settimeout(3)
    out = b""
    try:
        while chunk := sock.recv(4096):
            out += chunk
    except TimeoutError:
        pass
    return out


@pytest.mark.parametrize("client_leaves", ["disconnect", "close frame"])
def test_nothing_follows_a_websocket_that_closes(tmp_path, client_leaves: str) -> None:
    """After a websocket the embedded server wrote the empty HTTP answer Engine.IO gives when
    it is over: a browser that closed its connection saw a broken frame."""
    port = free_port()
    proc = start_server([sys.executable, "-m", "web"], server_env(None, port), port, tmp_path / "server.log")
    try:
        base = f"http://127.0.0.1:{port}/socket.io/?EIO=4"
        sid = requests.get(f"{base}&transport=polling", timeout=5).text.split('"sid":"')[1].split('"')[0]
        with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
            sock.sendall(
                f"GET /socket.io/?EIO=4&transport=websocket&sid={sid} HTTP/1.1\r\nHost: x\r\n"
                "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                "Sec-WebSocket-Version: 13\r\n\r\n".encode()
            )
            head = b""
            while b"\r\n\r\n" not in head:
                head += sock.recv(1)
            assert head.startswith(b"HTTP/1.1 101"), head
            sock.sendall(_frame(b"2probe"))
            assert sock.recv(4096) == b"\x81\x063probe"
            sock.sendall(_frame(b"5"))  # upgraded
            if client_leaves == "disconnect":
                sock.sendall(_frame(b"1"))  # Engine.IO close
            sock.sendall(_frame(b"\x03\xe8", opcode=8))  # websocket close, 1000
            rest = _read_until_closed(sock)
        closing = rest.rfind(b"\x88")
        assert closing >= 0, rest  # the server's close frame ...
        assert b"HTTP/" not in rest and rest[closing:] == b"\x88\x02\x03\xe8", rest  # ... and nothing after it
        # a refused handshake is still an ordinary HTTP answer
        upgrade = {"Upgrade": "websocket", "Connection": "Upgrade", "Sec-WebSocket-Version": "13"}
        upgrade["Sec-WebSocket-Key"] = "dGhlIHNhbXBsZSBub25jZQ=="
        refused = requests.get(f"{base}&transport=websocket&sid=nosuch", headers=upgrade, timeout=5)
        assert refused.status_code == 400
    finally:
        stop_server(proc)
