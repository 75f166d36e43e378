"""``python -m web``: run the server (HOST, PORT, ASYNC_MODE, REDIS_URL from the environment).

Default async mode: gevent, served by gevent's WSGI server on a listening socket
with TCP_NODELAY (as gunicorn sets it: without it every event that both emits
and acknowledges waits ~40 ms for delayed ACKs). ``ASYNC_MODE=threading`` for
development, ``ASYNC_MODE=eventlet`` still works. Production: the Procfile's
gunicorn command.
"""

import os
import sys

MODE = os.environ.get("ASYNC_MODE", "gevent")
if MODE == "gevent":
    from gevent import monkey

    monkey.patch_all()
elif MODE == "eventlet":
    import eventlet

    eventlet.monkey_patch()


def _serve_gevent(app: object, host: str, port: int) -> None:
    """gevent's WSGI server on a TCP_NODELAY listener (accepted sockets inherit it on Linux)."""
    import socket

    from gevent import pywsgi

    listener = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    listener.bind((host, port))
    listener.listen(1024)
    pywsgi.WSGIServer(listener, app, log=None).serve_forever()


def main() -> None:
    """Start the server and say where, and whether games survive a restart."""
    import logging

    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(message)s")
    from web.app import create_app, socketio_of

    app = create_app({"ASYNC_MODE": MODE})  # warns when games live in this process only
    cfg = app.config["BEERGAME"]
    host, port = cfg["HOST"], int(cfg["PORT"])
    if app.extensions["beergame"].store.kind == "redis":
        print("Store: Redis (REDIS_URL)", file=sys.stderr, flush=True)
    print(f"Beer game on http://{host}:{port} ({MODE})", file=sys.stderr, flush=True)
    if MODE == "gevent":
        _serve_gevent(app, host, port)
    else:
        socketio_of(app).run(app, host=host, port=port, allow_unsafe_werkzeug=True, log_output=False)


if __name__ == "__main__":
    main()
