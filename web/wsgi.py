"""WSGI entry point for gunicorn: ``gunicorn -c config/gunicorn.conf.py "web.wsgi:app"`` (the Procfile).

gunicorn's gevent worker has already monkey-patched the standard library, so
the default async mode here is gevent.
"""

from __future__ import annotations

import os

from web.app import create_app, tune_gc

app = create_app({"ASYNC_MODE": os.environ.get("ASYNC_MODE", "gevent")})
tune_gc()
