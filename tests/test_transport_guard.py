"""The transport's limits on the server as shipped (gunicorn + gevent, a real redis-server):
an oversized long-polling POST is answered and its connection released at once, the frame
limit counts bytes, and empty or unknown Engine.IO packets are answered without a traceback."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
import websocket
from support import ROOT, free_port, server_env, start_server, stop_server

from web.realtime.frames import MAX_FRAME_BYTES

pytestmark = [pytest.mark.slow, pytest.mark.redis]


@pytest.fixture(scope="module")
def gunicorn(redis_server: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """The Procfile's gunicorn on a free port: (base URL, its log)."""
    port = free_port()
    log = tmp_path_factory.mktemp("gunicorn") / "server.log"
    line = (ROOT / "Procfile").read_text().strip().removeprefix("web:").strip()
    proc = start_server(["bash", "-c", "exec " + line], server_env(f"{redis_server}/0", port), port, log)
    try:
        yield f"http://127.0.0.1:{port}", log
    finally:
        stop_server(proc)
    text = log.read_text(errors="replace")
    assert "Traceback" not in text and "Error handling request" not in text, text[-3000:]


def polling_session(base: str) -> str:
    """A new Engine.IO long-polling connection's id."""
    r = requests.get(f"{base}/socket.io/?EIO=4&transport=polling", timeout=10)
    return json.loads(r.text[1:])["sid"]


def raw_post(base: str, sid: str, body: bytes) -> socket.socket:
    """A long-polling POST of ``body`` written on a socket of its own (the answer is not read)."""
    port = int(base.rsplit(":", 1)[1])
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    head = (
        f"POST /socket.io/?EIO=4&transport=polling&sid={sid} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        f"Content-Type: text/plain;charset=UTF-8\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    sock.sendall(head.encode() + body)
    return sock


def answer(sock: socket.socket, until: float) -> bytes:
    """The first bytes of the server's answer on ``sock``; fails after ``until``."""
    sock.settimeout(max(0.01, until - time.monotonic()))
    return sock.recv(65_536)


def closed(sock: socket.socket, until: float) -> bool:
    """Whether the server closes ``sock`` before ``until`` (reading what else it writes)."""
    while True:
        sock.settimeout(max(0.01, until - time.monotonic()))
        if not sock.recv(65_536):
            return True


def test_a_hundred_oversized_polling_posts_are_answered_and_released(gunicorn: tuple[str, Path]) -> None:
    base, _ = gunicorn
    sids = [polling_session(base) for _ in range(100)]
    healthy: list[int] = []
    stop = threading.Event()

    def probe() -> None:
        while not stop.is_set():
            healthy.append(requests.get(f"{base}/healthz", timeout=5).status_code)
            time.sleep(0.05)

    prober = threading.Thread(target=probe)
    prober.start()
    try:
        socks = [raw_post(base, sid, b"4" + b"x" * MAX_FRAME_BYTES) for sid in sids]  # one byte over
        answers = [answer(s, time.monotonic() + 5) for s in socks]  # a hung one times out here
        # released: the server closes each connection itself (once idle for gunicorn's keepalive, 5 s)
        assert all(closed(s, time.monotonic() + 8) for s in socks)
    finally:
        stop.set()
        prober.join()
    assert all(a.startswith(b"HTTP/1.1 400") for a in answers), {a[:40] for a in answers}
    assert healthy and set(healthy) == {200}
    for s in socks:
        s.close()
    # the Engine.IO connection was closed with it: its next poll is refused at once
    assert requests.get(f"{base}/socket.io/?EIO=4&transport=polling&sid={sids[0]}", timeout=5).status_code == 400
    at_limit = raw_post(base, polling_session(base), b"4" + b"x" * (MAX_FRAME_BYTES - 1))
    assert answer(at_limit, time.monotonic() + 5).startswith(b"HTTP/1.1 200")
    at_limit.close()


def connected(base: str) -> websocket.WebSocket:
    ws = websocket.create_connection(base.replace("http", "ws") + "/socket.io/?EIO=4&transport=websocket", timeout=10)
    assert ws.recv().startswith("0")
    ws.send("40")
    assert ws.recv().startswith("40")
    return ws


def next_message(ws: websocket.WebSocket, prefix: str) -> str:
    """The next message starting with ``prefix`` ("" once the server closed the WebSocket)."""
    while True:
        got = ws.recv()
        if got == "2":
            ws.send("3")
        elif got.startswith(prefix) or got == "":
            return got


def sized(ack: int, size: int) -> str:
    """A ``watch`` frame of exactly ``size`` bytes in UTF-8, mostly two-byte characters."""
    head, tail = f'42{ack}["watch",{{"code":"', '"}]'
    room = size - len(head) - len(tail)
    return head + "é" * (room // 2) + "x" * (room % 2) + tail


def test_the_websocket_frame_limit_counts_bytes(gunicorn: tuple[str, Path]) -> None:
    base, _ = gunicorn
    ws = connected(base)
    frame = sized(1, MAX_FRAME_BYTES)
    assert len(frame.encode()) == MAX_FRAME_BYTES and len(frame) < 40_000
    assert '"bad_request"' in next_message_after(ws, frame, "431[")  # at the limit: answered
    ws.send(sized(2, MAX_FRAME_BYTES + 1))  # one byte over, far fewer characters: closed, no answer
    assert next_message(ws, "432[") == ""
    ws.close()


def next_message_after(ws: websocket.WebSocket, frame: str, prefix: str) -> str:
    ws.send(frame)
    return next_message(ws, prefix)


def test_an_empty_websocket_message_is_answered_and_closes_cleanly(gunicorn: tuple[str, Path]) -> None:
    base, _log = gunicorn
    for bad in ("", "x", "9"):
        ws = connected(base)
        ws.send(bad)
        if bad == "9":  # an unknown packet type: ignored, the connection stays
            assert '"unknown_session"' in next_message_after(ws, '421["watch",{"code":"NOPE99"}]', "431[")
        else:
            error = next_message(ws, '42["error"')
            assert '"malformed Socket.IO frame"' in error
            assert next_message(ws, "1") in ("1", "")  # Engine.IO's close packet, then the close
        ws.close()
    assert requests.get(f"{base}/healthz", timeout=5).status_code == 200


def test_an_empty_packet_in_a_polling_post_is_answered_and_the_rest_goes_through(gunicorn: tuple[str, Path]) -> None:
    base, _ = gunicorn
    sid = polling_session(base)
    url = f"{base}/socket.io/?EIO=4&transport=polling&sid={sid}"
    assert requests.post(url, data=b"40", timeout=5).status_code == 200
    requests.get(url, timeout=5)  # the namespace's connect answer
    body = b'\x1e421["watch",{"code":"NOPE99"}]\x1e\x1ez'
    assert requests.post(url, data=body, timeout=5).status_code == 200
    got = ""
    for _ in range(3):
        got += requests.get(url, timeout=5).text
        if "431[" in got and '"error"' in got:
            break
    assert '"malformed Socket.IO frame"' in got and '"unknown_session"' in got, got
    for packet in (b"2", b"6", b"0"):  # packets a client does not send: the library closed and waited
        assert requests.post(url, data=packet, timeout=5).status_code == 200
    assert requests.post(url, data=b"\xff\xfe", timeout=5).status_code == 400  # not UTF-8
