"""gunicorn settings for the beer game (the Procfile runs ``gunicorn -c config/gunicorn.conf.py``).

One gevent worker per process: Socket.IO keeps each client on the process it
connected to, so several processes run as several gunicorn instances behind a
proxy with sticky sessions (docs/DEPLOY.md), never as ``workers > 1`` here.

Environment: ``HOST`` (default ``0.0.0.0``) and ``PORT`` (``5000``) where to listen,
``WORKER_CONNECTIONS`` (``4000``) the most simultaneous connections the worker
accepts (every player, dashboard and projector holds one; past the limit new
connections, ``/healthz`` included, wait). The process needs as many open files
(``ulimit -n``) as connections, plus some.
"""

from __future__ import annotations

import os

bind = [f"{os.environ.get('HOST', '0.0.0.0')}:{os.environ.get('PORT', '5000')}"]
worker_class = "gevent"
workers = 1
worker_connections = int(os.environ.get("WORKER_CONNECTIONS", "4000"))
backlog = 4096
# websocket connections live for the whole class: the worker's own timeout is its heartbeat
timeout = 60
graceful_timeout = 20
keepalive = 5
accesslog = None
# several instances on one machine (one per core, docs/DEPLOY.md) must not share one control socket
control_socket_disable = True
