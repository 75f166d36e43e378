"""HTML pages (player, facilitator, projector, debrief) and the translations they use."""

from __future__ import annotations

import io
import re
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import segno
from flask import Blueprint, Flask, Response, abort, current_app, jsonify, redirect, render_template, request, url_for
from werkzeug.wrappers import Response as BaseResponse

from game.analysis.bestplan import benchmark as benchmark_game
from game.analysis.reference import replay, stored
from game.codp import shop_roles
from game.horizon import ending_at
from web.errors import GameError
from web.http.api import check_results_access
from web.http.links import request_join_base
from web.i18n import (
    COOKIE,
    COOKIE_MAX_AGE,
    LANGUAGES,
    current_language,
    init_i18n,
    js_catalogue,
    js_keys,
    scenario_texts,
)
from web.play.scenarios import base_scenario, custom_base, team_scenario
from web.play.sessions import load_meta

bp = Blueprint("pages", __name__)

CODE_RE = re.compile(r"^[A-Za-z0-9]{3,12}$")


# The pages load only their own scripts and styles (no inline code, no CDN).
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)


@bp.after_request
def _security_headers(resp: Response) -> Response:
    if resp.mimetype == "text/html":
        resp.headers.setdefault("Content-Security-Policy", CSP)
        resp.headers.setdefault("Referrer-Policy", "same-origin")
    resp.headers.setdefault("X-Content-Type-Options", "nosniff")
    return resp


def _code(code: str) -> str:
    """A join code in canonical form; 404 for anything that cannot be one."""
    if not CODE_RE.match(code):
        abort(404)
    return code.upper()


def _page(template: str, **context: Any) -> str:
    info: dict[str, Any] | None = context.get("scenario_info")
    if context.get("code") and info is None:
        info = _scenario_info(str(context["code"]))
    # the session's title and stage labels in the page's language, for the scripts (common.js)
    texts = {"title": info["title"], "labels": info["labels"], "names": info["names"]} if info else None
    keys = _script_keys(template, current_app.static_folder or "")
    return render_template(template, js_strings=js_catalogue(keys), scenario_texts=texts, **context)


_SCRIPT = re.compile(r"filename='(js/[\w.-]+\.js)'")


@lru_cache(maxsize=16)
def _script_keys(template: str, static: str) -> frozenset[str]:
    """The script strings ``template`` needs: those its own scripts (and the base page's) may
    show (``web.i18n.js_keys``); the player page stays within its weight that way."""
    env = current_app.jinja_env
    assert env.loader is not None
    pages = [env.loader.get_source(env, name)[0] for name in ("base.html", template)]
    paths = [Path(static) / found for page in pages for found in _SCRIPT.findall(page)]
    return js_keys(path.read_text(encoding="utf-8") for path in paths)


@bp.get("/")
def landing() -> str:
    """Join a game by code (the player screen starts here)."""
    return _page("play.html", code="")


@bp.get("/join/<code>")
def join(code: str) -> str:
    """The QR code's target: the player screen with the code filled in."""
    return _page("play.html", code=_code(code))


@bp.get("/facilitate")
def facilitate_new() -> str:
    """Create a session from a preset."""
    return _page("facilitate.html", code="", max_teams=int(current_app.config["BEERGAME"]["MAX_TEAMS"]))


@bp.get("/facilitate/<code>")
def facilitate(code: str) -> str:
    """The live dashboard of one session (needs the facilitator secret kept by this browser)."""
    code = _code(code)
    base = request_join_base()
    return _page("facilitate.html", code=code, join=base, join_url=base.join_url(code))


@bp.get("/projector/<code>")
def projector(code: str) -> str:
    """Large-type leaderboard and QR code for the room; shows nothing secret."""
    code = _code(code)
    return _page("projector.html", code=code, join_url=_join_url(code))


@bp.get("/debrief/<code>")
def debrief(code: str) -> str:
    """Charts, KPIs and ranking after (or during) the game. The page shows the scenario's
    public description; the results themselves are fetched with the facilitator secret
    or, once the game is over, a player's token."""
    code = _code(code)
    return _page("debrief.html", code=code, scenario_info=_scenario_info(code))


def _scenario_info(code: str) -> dict[str, Any] | None:
    """The public part of a session's scenario (title, debrief text, stages), or None."""
    ext = current_app.extensions.get("beergame")
    if ext is None:
        return None
    try:
        meta = load_meta(ext.store, code)
    except GameError:
        return None
    scn = meta.base
    texts = scenario_texts(scn)
    return {
        "name": scn.name,
        "custom": meta.settings.custom is not None,
        # which parts of the debrief apply: the decoupling point (a position set or chosen), a web shop
        "has_codp": meta.settings.codp is not None or meta.settings.codp_rule == "team",
        "has_shop": bool(shop_roles(scn)),
        # consumer demand rises and falls within a game: the bullwhip ratio counts that swing too
        "demand_moves": bool(scn.demand.season or scn.demand.life_cycle != "flat"),
        "title": texts["title"],
        "debrief": texts["debrief"],
        "labels": texts["labels"],
        "names": texts["names"],
        "stages": [
            {
                "role": st.role,
                "label": texts["labels"][st.role],
                "supplier": st.supplier,
                "consumer_facing": st.consumer_facing,
            }
            for st in scn.stages
        ],
    }


@bp.get("/debrief/<code>/benchmark/<int:team>.json")
def benchmark(code: str, team: int) -> tuple[Response, int]:
    """The best plan of the reference's plan family on the team's own demand, at its decoupling
    point and at every other one (``game.analysis.bestplan``). Same access rule as the results."""
    try:
        meta = check_results_access(_code(code))
    except GameError as exc:
        return jsonify({"error": exc.to_dict()}), exc.status
    if not 1 <= team <= meta.settings.teams:
        return jsonify({"error": {"code": "not_found", "message": f"no team {team} in this session"}}), 404
    store = current_app.extensions["beergame"].store
    raw = store.team(meta.code, team)
    if raw is None or raw.state is None:
        return jsonify({"error": {"code": "not_found", "message": f"no team {team} in this session"}}), 404
    seed = raw.state.seed
    played = len(store.weeks(meta.code, team)) or meta.end
    codp = raw.codp or meta.base.codp
    horizon = (meta.settings.weeks, meta.settings.end_window, played)
    out = {
        **_benchmark(meta.settings.scenario, horizon, codp, seed, meta.settings.custom, raw.shop),
        "reference": _reference(meta.settings.scenario, horizon, codp, seed, meta.settings.custom),
        "drivers": meta.base.driver_texts(current_language()),
    }
    return jsonify(out), 200


Horizon = tuple[int, tuple[int, int] | None, int]  # the session's weeks and end_window, the weeks played


def _played(scenario: str, horizon: Horizon, custom: str | None, shop: str | None = None) -> Any:
    """The session's scenario (every position) ending where the team's game did, its demand
    drawn as in the game (``game.horizon.ending_at``)."""
    weeks, end_window, played = horizon
    return ending_at(team_scenario(scenario, weeks, None, custom, shop, end_window), played)


@lru_cache(maxsize=512)
def _benchmark(
    scenario: str, horizon: Horizon, codp: str | None, seed: int, custom: str | None, shop: str | None = None
) -> dict[str, Any]:
    """Cached: the same scenario, length, position, web shop mode and seed always give the same
    plans (every position is searched with the team's web shop mode). The searches start from
    the preset's stored reference plans where it has them."""
    scn = _played(scenario, horizon, custom, shop)
    positions = list(scn.codp_positions) if scn.codp_positions else None
    data = stored(custom_base(custom) if custom else base_scenario(scenario))
    return benchmark_game(scn, seed, chosen=codp, positions=positions, reference=data).to_dict()


@lru_cache(maxsize=512)
def _reference(
    scenario: str, horizon: Horizon, codp: str | None, seed: int, custom: str | None
) -> dict[str, Any] | None:
    """The preset's stored reference plans (tuned on other demand) replayed on this team's:
    what each position's reference plan earns here, the team's own and the best. None when the
    scenario has no stored reference for its current rules (a session's own scenario)."""
    data = stored(custom_base(custom) if custom else base_scenario(scenario))
    if data is None:
        return None
    profits = replay(_played(scenario, horizon, custom), seed, data)
    return {
        "own": codp,
        "by_position": {p: round(v, 2) for p, v in profits.items()},
        "best": max(profits, key=lambda p: profits[p]),
        "winner": data["winner"],
    }


def _join_url(code: str) -> str:
    return request_join_base().join_url(code)


@bp.get("/qr/<code>.svg")
def qr(code: str) -> Response:
    """The join link of ``code`` as an SVG QR code, drawn on the server."""
    code = _code(code)
    out = io.BytesIO()
    segno.make(_join_url(code), error="m").save(
        out, kind="svg", scale=8, border=2, dark="#000", light="#fff", xmldecl=False, title=f"QR {code}"
    )
    resp = Response(out.getvalue(), mimetype="image/svg+xml")
    resp.headers["Cache-Control"] = "public, max-age=3600"
    return resp


def _safe_next(target: str | None) -> str:
    """Only same-site paths are followed after switching language."""
    if not target:
        return url_for("pages.landing")
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return url_for("pages.landing")
    return target


@bp.get("/lang/<lang>")
def set_language(lang: str) -> BaseResponse:
    """Remember the chosen language in a cookie and go back to the page it was chosen on."""
    if lang not in LANGUAGES:
        abort(404)
    resp = redirect(_safe_next(request.args.get("next")))
    resp.set_cookie(COOKIE, lang, max_age=COOKIE_MAX_AGE, samesite="Lax")
    return resp


def init_pages(app: Flask) -> None:
    """Register the pages blueprint and the translation machinery on ``app``."""
    init_i18n(app)
    app.register_blueprint(bp)
