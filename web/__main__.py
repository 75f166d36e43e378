"""``python -m web``: run the server (HOST, PORT, ASYNC_MODE, REDIS_URL, PUBLIC_URL from the
environment; ``--host`` and ``--port`` win; ``--help`` says so).

Default async mode: gevent, served by gevent's WSGI server on a listening socket
with TCP_NODELAY (as gunicorn sets it: without it every event that both emits
and acknowledges waits ~40 ms for delayed ACKs). ``ASYNC_MODE=threading`` for
development, ``ASYNC_MODE=eventlet`` still works. Production: the Procfile's
gunicorn command.
"""

from __future__ import annotations

import argparse
import errno
import os
import socket
import sys
from typing import NoReturn

PROG = "python -m web"


class _Parser(argparse.ArgumentParser):
    """One line on stderr for bad options, like the engine's command line."""

    def error(self, message: str) -> NoReturn:
        fail(f"{message} (see {PROG} --help)")


def fail(message: str) -> NoReturn:
    """End with one line on stderr and exit status 2."""
    print(f"{PROG}: error: {message}", file=sys.stderr, flush=True)
    raise SystemExit(2)


def _port(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a port number, got {text!r}") from None
    if not 1 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"must be between 1 and 65535, got {value}")
    return value


def parse_args(argv: list[str]) -> argparse.Namespace:
    """``--host``, ``--port`` and ``--help``; the other settings are environment variables."""
    parser = _Parser(
        prog=PROG,
        allow_abbrev=False,
        description="Run the beer game server. Settings come from environment variables "
        "(REDIS_URL, PUBLIC_URL, ASYNC_MODE, SECRET_KEY, ...: see docs/ARCHITECTURE.md).",
        epilog="Example: PORT=8000 python -m web, or python -m web --port 8000. "
        "Without REDIS_URL the games live in this process only.",
    )
    parser.add_argument("--host", metavar="ADDRESS", help="address to listen on (default: HOST or 0.0.0.0)")
    parser.add_argument("--port", type=_port, metavar="N", help="port to listen on (default: PORT or 5000)")
    return parser.parse_args(argv)


def listen(host: str, port: int) -> socket.socket:
    """A TCP_NODELAY listener on ``host:port`` (accepted sockets inherit it on Linux); a port
    that is taken ends the program with one line saying how to choose another."""
    listener = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    try:
        listener.bind((host, port))
    except OSError as exc:
        listener.close()
        if exc.errno == errno.EADDRINUSE:
            fail(
                f"port {port} is already in use (another server is running there?); "
                f"choose another port: PORT={port + 1} {PROG}, or {PROG} --port {port + 1}"
            )
        if exc.errno == errno.EACCES:
            fail(f"not allowed to listen on port {port}; choose a port above 1023: {PROG} --port 5000")
        fail(f"cannot listen on {host}:{port}: {exc.strerror or exc}")
    listener.listen(1024)
    return listener


def gevent_handler() -> type:
    """gevent's WSGI handler, except that nothing is written after a websocket: the
    websocket runs on the connection's socket itself (simple-websocket writes its own
    101 handshake), and the empty ``200 OK`` Engine.IO answers when it is over reached
    the browser as a broken frame ("Invalid frame header") when a page closed its
    connection. A refused handshake (400) is answered as usual."""
    from gevent import pywsgi

    class Handler(pywsgi.WSGIHandler):
        def run_application(self) -> None:
            if self.environ.get("HTTP_UPGRADE", "").lower() != "websocket":
                return super().run_application()
            try:
                self.result = self.application(self.environ, self.start_response)
                if self.status is not None and self.code != 200:  # a refused handshake
                    self.process_result()
                else:  # the websocket is over: close, write nothing
                    self.close_connection = True
            finally:
                close = getattr(self.result, "close", None)
                if close is not None:
                    close()
                self.result = None

    return Handler


def main(argv: list[str] | None = None) -> None:
    """Start the server and say where to join, and whether games survive a restart."""
    args = parse_args(sys.argv[1:] if argv is None else argv)
    mode = os.environ.get("ASYNC_MODE", "gevent")
    if mode == "gevent":
        from gevent import monkey

        monkey.patch_all()
    elif mode == "eventlet":
        import eventlet

        eventlet.monkey_patch()

    import logging

    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(message)s")
    from web.app import create_app, socketio_of, tune_gc
    from web.config import load_config
    from web.http.links import share_lines

    overrides: dict[str, object] = {"ASYNC_MODE": mode}
    if args.host:
        overrides["HOST"] = args.host
    if args.port:
        overrides["PORT"] = args.port
    try:
        cfg = load_config(overrides)
    except ValueError as exc:
        fail(str(exc))
    host, port = cfg["HOST"], int(cfg["PORT"])
    listener = listen(host, port)  # first: a taken port is one line, no traceback
    app = create_app(overrides)  # warns when games live in this process only
    tune_gc()
    if app.extensions["beergame"].store.kind == "redis":
        print("Store: Redis (REDIS_URL)", file=sys.stderr, flush=True)
    print(f"Beer game on http://{host}:{port} ({mode})", file=sys.stderr, flush=True)
    for line in share_lines(app.config["BEERGAME"]["PUBLIC_URL"], host, port):
        print(line, file=sys.stderr, flush=True)
    if mode == "gevent":
        from gevent import pywsgi

        pywsgi.WSGIServer(listener, app, log=None, handler_class=gevent_handler()).serve_forever()
    else:
        listener.close()  # the port was free a moment ago; the chosen server binds it itself
        socketio_of(app).run(app, host=host, port=port, allow_unsafe_werkzeug=True, log_output=False)


if __name__ == "__main__":
    main()
