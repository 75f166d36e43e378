"""The HTTP JSON API: health, scenarios, sessions and results."""

from __future__ import annotations

import logging
import re
from typing import Any

from flask import Blueprint, Response, current_app, jsonify, request
from werkzeug.exceptions import HTTPException

from web.errors import GameError
from web.http.links import request_join_base
from web.http.results import results_csv, results_xlsx, session_results
from web.i18n import scenario_texts
from web.payloads import MAX_BODY_BYTES, json_body
from web.play import own_scenario, sessions
from web.play.own_scenario import MAX_SCENARIO_CHARS
from web.play.scenarios import base_scenario, presets, summary
from web.store import STORE_DOWN, digest

log = logging.getLogger(__name__)
bp = Blueprint("api", __name__)


def _hub() -> Any:
    return current_app.extensions["beergame"]


def _error(exc: GameError) -> tuple[Response, int]:
    return jsonify({"error": exc.to_dict()}), exc.status


def _is_api() -> bool:
    return request.path.startswith("/api/") or request.path == "/healthz"


@bp.errorhandler(GameError)
def _game_error(exc: GameError) -> tuple[Response, int]:
    return _error(exc)


@bp.app_errorhandler(HTTPException)
def _http_error(exc: HTTPException) -> Any:
    """JSON for every HTTP error under ``/api`` (an unknown path, a wrong method...);
    the pages keep Flask's own."""
    if not _is_api():
        return exc
    code = {404: "not_found", 405: "bad_request", 413: "bad_request"}.get(exc.code or 500, "bad_request")
    if (exc.code or 500) >= 500:
        code = "internal"
    return jsonify({"error": {"code": code, "message": exc.description or exc.name}}), exc.code or 500


@bp.errorhandler(Exception)
def _unexpected(exc: Exception) -> tuple[Response, int]:
    """The store unreachable: 503 ``unavailable``; anything else is a bug: logged, 500 ``internal``."""
    if isinstance(exc, STORE_DOWN):
        return _error(_hub().outage.failed(exc))
    log.exception("%s %s failed", request.method, request.path)
    return _error(GameError("internal", "the server could not handle this request"))


@bp.get("/healthz")
def healthz() -> tuple[Response, int]:
    """200 when the store answers, 503 when it does not."""
    store = _hub().store
    ok = store.reachable()
    return jsonify({"ok": ok, "store": store.kind, "reachable": ok}), 200 if ok else 503


@bp.get("/api/scenarios")
def scenarios() -> Response:
    """The presets a facilitator can start a session from (texts in the request's language)."""
    out = []
    for name in presets():
        scn = base_scenario(name)
        out.append(summary(scn, scenario_texts(scn)))
    return jsonify(out)


@bp.post("/api/sessions")
def create_session() -> tuple[Response, int]:
    """Create a session; the answer holds the facilitator secret (shown once)."""
    body = json_body(MAX_BODY_BYTES + MAX_SCENARIO_CHARS)  # room for a session's own scenario
    hub = _hub()
    out = sessions.create_session(hub.store, hub.cfg, body, hub.clock())
    out["join_url"] = request_join_base().join_url(out["code"])
    return jsonify(out), 201


@bp.get("/api/sessions/<code>")
def session_info(code: str) -> Response:
    """Public information: status, weeks, which seats are taken; ``texts``: the scenario's
    title and stage labels in the request's language."""
    hub = _hub()
    meta = sessions.load_meta(hub.store, code)
    texts = scenario_texts(meta.base)
    body = hub.public_session(meta, {"texts": {k: texts[k] for k in ("title", "labels", "names")}})
    return current_app.response_class(body, mimetype="application/json")


def check_results_access(code: str) -> sessions.SessionMeta:
    """The session, when this request may read its results: the facilitator (header
    ``X-Facilitator-Secret``) always, a player of it (query ``token``) once the game
    is over. Raises ``GameError`` (``unknown_session``, ``forbidden``)."""
    hub = _hub()
    meta = sessions.load_meta(hub.store, code)
    secret = request.headers.get("X-Facilitator-Secret")
    if secret:
        sessions.check_facilitator(meta, secret)
        return meta
    token = request.args.get("token", "")
    where = hub.store.token(digest(token)) if 8 <= len(token) <= 200 else None
    if not where or where.code != meta.code:
        raise GameError("forbidden", "send the facilitator secret, or a player token once the game is over")
    if meta.status != "over":
        raise GameError("forbidden", "players see the results once the game is over")
    seat = hub.store.seats(meta.code, where.team).get(where.role)
    if seat is None or not seat.holds(digest(token)):
        raise GameError("forbidden", "this token no longer holds a seat")
    return meta


def _results_allowed(code: str) -> dict[str, Any]:
    return session_results(_hub().store, check_results_access(code).code)


@bp.get("/api/sessions/<code>/results.json")
def results_json(code: str) -> Response:
    """Every team's weeks, state and score."""
    return jsonify(_results_allowed(code))


@bp.get("/api/sessions/<code>/results.csv")
def results_as_csv(code: str) -> Response:
    """One row per team, week and role."""
    data = _results_allowed(code)
    return Response(
        results_csv(data),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="beergame-{data["code"]}.csv"'},
    )


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@bp.get("/api/sessions/<code>/results.xlsx")
def results_as_xlsx(code: str) -> Response:
    """The results as a spreadsheet: every week, the teams and the players."""
    data = _results_allowed(code)
    return Response(
        results_xlsx(data),
        mimetype=XLSX,
        headers={"Content-Disposition": f'attachment; filename="beergame-{data["code"]}.xlsx"'},
    )


@bp.get("/api/sessions/<code>/scenario.toml")
def download(code: str) -> Response:
    """The scenario the session plays, as a TOML file (same access as the results)."""
    meta = check_results_access(code)
    slug = re.sub(r"[^A-Za-z0-9_-]+", "-", meta.settings.scenario).strip("-")[:40] or "scenario"
    return Response(
        own_scenario.session_toml(meta.settings.scenario, meta.settings.custom),
        mimetype="application/toml",
        headers={"Content-Disposition": f'attachment; filename="{slug}-{meta.code}.toml"'},
    )
