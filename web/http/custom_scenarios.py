"""A facilitator's own scenario over HTTP (see docs/PROTOCOL.md): ``GET
/api/scenarios/<name>/document`` (a preset's keys, for the editor) and ``POST
/api/scenarios/check`` (validate without creating a session); ``web.play.own_scenario`` reads
and checks it."""

from __future__ import annotations

import tomllib

from flask import Blueprint, Response, jsonify

from web.errors import GameError, bad
from web.i18n import scenario_texts
from web.payloads import MAX_BODY_BYTES, json_body
from web.play.own_scenario import MAX_SCENARIO_CHARS, parse, preset_document
from web.play.scenarios import summary

bp = Blueprint("custom_scenarios", __name__)


@bp.errorhandler(GameError)
def _game_error(exc: GameError) -> tuple[Response, int]:
    return jsonify({"error": exc.to_dict()}), exc.status


@bp.get("/api/scenarios/<name>/document")
def document(name: str) -> Response:
    """A preset's keys as JSON, for the dashboard's editor to start from."""
    return jsonify({"name": name, "document": preset_document(name)})


@bp.post("/api/scenarios/check")
def check() -> Response:
    """Validate ``{"custom_scenario": ...}`` without creating a session: its summary, TOML text
    and keys (``document``, for the editor)."""
    body = json_body(MAX_SCENARIO_CHARS + MAX_BODY_BYTES)
    if not isinstance(body, dict) or set(body) != {"custom_scenario"}:
        raise bad('the body must be {"custom_scenario": ...}')
    scn, text = parse(body["custom_scenario"])
    return jsonify({"scenario": summary(scn, scenario_texts(scn)), "toml": text, "document": tomllib.loads(text)})
