"""HTML pages (player, facilitator, projector, debrief) and the translations they use."""

from __future__ import annotations

from flask import Blueprint, Flask

bp = Blueprint("pages", __name__)


def init_pages(app: Flask) -> None:
    """Register the pages blueprint and the translation machinery on ``app``."""
    app.register_blueprint(bp)
