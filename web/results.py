"""A session's results: every team's weeks and state, as a dict, JSON or CSV."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from flask import Flask

from game.codp import shop_mode
from game.engine import COST_PARTS, FLOW_FIELDS
from game.jsonsafe import jsonsafe
from game.scoring import summary
from game.state import GameState
from web.sessions import load_meta
from web.store import Store
from web.views import ranking

CSV_FIELDS = (
    "team",
    "name",
    "codp",
    "shop",
    "week",
    "role",
    "bot",
    *FLOW_FIELDS,
    "cost",
    *COST_PARTS,
    "goodwill",
    "demand",
    "lost",
    "revenue",
)


def _store(store_or_app: Store | Flask) -> Store:
    if isinstance(store_or_app, Store):
        return store_or_app
    return store_or_app.extensions["beergame"].store


def session_results(store_or_app: Store | Flask, code: str) -> dict[str, Any]:
    """Every team of session ``code``: ``{"code", "scenario", "weeks", "seed", "visibility",
    "status", "ranking", "teams": [{"team", "name", "codp", "shop", "weeks": [GameResult.weeks
    records], "state": GameState dict, "score": game.scoring.summary}]}`` (``shop``: the web
    shop's mode, null without one; the bullwhip bound in the score follows the session's
    point-of-sale sharing).

    Raises ``web.errors.GameError`` (``unknown_session``) for an unknown code."""
    store = _store(store_or_app)
    meta = load_meta(store, code)
    teams = []
    for n in range(1, meta.teams + 1):
        t = store.team(meta.code, n)
        scn = meta.team_scenario(t)
        weeks = store.weeks(meta.code, n)
        state = json.loads(t["state"])
        teams.append(
            {
                "team": n,
                "name": t.get("name", f"Team {n}"),
                "codp": t.get("codp") or None,
                "shop": shop_mode(scn),
                "weeks": weeks,
                "state": state,
                "score": summary(scn, weeks, meta.visibility.get("pos_demand")) if weeks else None,
                "done": GameState.from_dict(state).done,
            }
        )
    return jsonsafe(
        {
            "code": meta.code,
            "scenario": meta.scenario,
            "custom": meta.custom is not None,
            **({"scenario_toml": meta.custom} if meta.custom else {}),
            "title": meta.base.title,
            "weeks": meta.weeks,
            "seed": meta.seed,
            "visibility": dict(meta.visibility),
            "status": store.session(meta.code).get("status"),
            "roles": list(meta.base.roles),
            "ranking": ranking(store, meta),
            "teams": teams,
        }
    )


def _cell(text: str) -> str:
    """Text a spreadsheet will not run as a formula."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def results_csv(results: dict[str, Any]) -> str:
    """One row per team, week and role (team names guarded against spreadsheet formulas)."""
    out = io.StringIO()
    w = csv.DictWriter(out, fieldnames=CSV_FIELDS, extrasaction="ignore", lineterminator="\n")
    w.writeheader()
    for team in results["teams"]:
        for week in team["weeks"]:
            bots = set(week.get("bots", ()))
            for role, ev in week["roles"].items():
                w.writerow(
                    {
                        **ev,
                        "team": team["team"],
                        "name": _cell(team["name"]),
                        "codp": team["codp"] or "",
                        "shop": team.get("shop") or "",
                        "week": week["week"],
                        "role": role,
                        "bot": int(role in bots),
                    }
                )
    return out.getvalue()
