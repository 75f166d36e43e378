"""``python -m web``: run the server (HOST, PORT, ASYNC_MODE, REDIS_URL from the environment).

Default async mode: gevent. ``ASYNC_MODE=threading`` for development,
``ASYNC_MODE=eventlet`` still works. Production: the Procfile's gunicorn command.
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


def main() -> None:
    """Start the server and say where, and whether games survive a restart."""
    from web.app import MEMORY_WARNING, create_app, socketio_of

    app = create_app({"ASYNC_MODE": MODE})
    cfg = app.config["BEERGAME"]
    host, port = cfg["HOST"], int(cfg["PORT"])
    store = app.extensions["beergame"].store
    if store.kind == "memory":
        print("WARNING: " + MEMORY_WARNING, file=sys.stderr, flush=True)
    else:
        print(f"Store: Redis at {cfg['REDIS_URL']}", file=sys.stderr, flush=True)
    print(f"Beer game on http://{host}:{port} ({MODE})", file=sys.stderr, flush=True)
    socketio_of(app).run(app, host=host, port=port, allow_unsafe_werkzeug=True, log_output=False)


if __name__ == "__main__":
    main()
