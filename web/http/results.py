"""A session's results: every team's weeks and state, as a dict, JSON, CSV or a spreadsheet (XLSX).

Every week's record names the decoupling point and web shop mode in force that week and
the players on each seat then; money is rounded to cents."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from typing import Any

from flask import Flask

from game.codp import shop_mode
from game.engine import COST_PARTS, FLOW_FIELDS
from game.jsonsafe import jsonsafe
from game.scenario import Scenario
from game.scoring import summary
from web.errors import GameError
from web.play.scenarios import week_strategy
from web.play.sessions import load_meta
from web.play.views import Views
from web.store import Store
from web.store.records import Team

CSV_FIELDS = (
    "team",
    "name",
    "codp",
    "shop",
    "week",
    "role",
    "player",
    "bot",
    *FLOW_FIELDS,
    "cost",
    *COST_PARTS,
    "goodwill",
    "demand",
    "lost",
    "revenue",
)


def rounded(obj: Any, digits: int = 2) -> Any:
    """``obj`` with every float rounded to ``digits`` decimals (money to cents: no float noise),
    through dicts and lists; infinite and NaN floats become ``None``."""
    obj = jsonsafe(obj)
    if isinstance(obj, float):
        return round(obj, digits) + 0.0  # + 0.0: no "-0.0"
    if isinstance(obj, dict):
        return {k: rounded(v, digits) for k, v in obj.items()}
    if isinstance(obj, list):
        return [rounded(v, digits) for v in obj]
    return obj


def _weeks(weeks: list[dict[str, Any]], team: Team, scn: Scenario, names: dict[str, str]) -> list[dict[str, Any]]:
    """The team's week records with the strategy and players of each week (records written
    before they were kept get the team's present ones), money in cents."""
    now = week_strategy(team, scn)
    return [rounded({**now, "players": names, **w}) for w in weeks]


def strategy_changes(weeks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The team's strategies in the order they were played: ``[{"from_week", "codp", "shop"}]``,
    a new entry for every week whose position or web shop mode differs from the week before."""
    out: list[dict[str, Any]] = []
    for w in weeks:
        if not out or (out[-1]["codp"], out[-1]["shop"]) != (w["codp"], w["shop"]):
            out.append({"from_week": w["week"], "codp": w["codp"], "shop": w["shop"]})
    return out


def _views(store_or_app: Store | Flask) -> Views:
    """The app's views (with what they keep), or views of a bare store."""
    if isinstance(store_or_app, Store):
        return Views(store_or_app)
    return store_or_app.extensions["beergame"].views


def session_results(store_or_app: Store | Flask, code: str) -> dict[str, Any]:
    """Every team of session ``code``: ``{"code", "scenario", "weeks", "seed", "visibility",
    "status", "ranking", "teams": [{"team", "name", "codp", "shop", "strategy", "players",
    "weeks": [GameResult.weeks records with "codp", "shop" and "players" of their week],
    "state": GameState dict, "score": game.scoring.summary}]}`` (``codp``/``shop``: the position
    and web shop mode at the end, ``strategy``: each one played and from which week, ``players``:
    role -> names; the bullwhip bound in the score follows the session's point-of-sale sharing).
    Money is rounded to cents, the score's ratios to four decimals.

    Raises ``web.errors.GameError`` (``unknown_session``) for an unknown code."""
    views = _views(store_or_app)
    store = views.store
    meta = load_meta(store, code)
    teams = []
    for n in meta.team_numbers:
        t = store.team(meta.code, n)
        if t is None:
            raise GameError("unknown_session", f"no session with code {meta.code}")
        scn = meta.team_scenario(t)
        seats = store.seats(meta.code, n)
        raw = store.weeks(meta.code, n)
        weeks = _weeks(raw, t, scn, {r: s.name for r, s in seats.items()})
        state = t.state.to_dict() if t.state is not None else {}
        score = summary(scn, raw, meta.settings.visibility.get("pos_demand")) if raw else None
        teams.append(
            {
                "team": n,
                "name": t.name or f"Team {n}",
                "codp": t.codp,
                "shop": shop_mode(scn),
                "strategy": strategy_changes(weeks),
                "players": {r: [p.name for p in seats[r].players] for r in scn.roles if r in seats},
                "weeks": weeks,
                "state": state,
                "score": rounded(score, 4),
                "done": t.done,
            }
        )
    return jsonsafe(
        {
            "code": meta.code,
            "scenario": meta.settings.scenario,
            "custom": meta.settings.custom is not None,
            **({"scenario_toml": meta.settings.custom} if meta.settings.custom else {}),
            "title": meta.base.title,
            "weeks": meta.settings.weeks,
            "seed": meta.settings.seed,
            "visibility": dict(meta.settings.visibility),
            "status": meta.status,
            "roles": list(meta.base.roles),
            "ranking": rounded(views.ranking(meta)),
            "teams": teams,
        }
    )


def _cell(text: str) -> str:
    """Text a spreadsheet will not run as a formula."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def week_rows(results: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """One row per team, week and role, with the fields of ``CSV_FIELDS`` (and the week's events)."""
    for team in results["teams"]:
        for week in team["weeks"]:
            bots = set(week.get("bots", ()))
            for role, ev in week["roles"].items():
                yield {
                    **ev,
                    "team": team["team"],
                    "name": team["name"],
                    "codp": week.get("codp") or "",
                    "shop": week.get("shop") or "",
                    "week": week["week"],
                    "role": role,
                    "player": week.get("players", {}).get(role, ""),
                    "bot": int(role in bots),
                }


def results_csv(results: dict[str, Any]) -> str:
    """One row per team, week and role (names guarded against spreadsheet formulas)."""
    out = io.StringIO()
    w = csv.DictWriter(out, fieldnames=CSV_FIELDS, extrasaction="ignore", lineterminator="\n")
    w.writeheader()
    for row in week_rows(results):
        w.writerow({**row, "name": _cell(row["name"]), "player": _cell(row["player"])})
    return out.getvalue()


def _sheet(ws: Any, header: tuple[str, ...], rows: list[list[Any]]) -> None:
    """Fill worksheet ``ws``: a bold, frozen header row, then ``rows``; text is kept as text (never
    run as a formula), numbers as numbers with two decimals where they have any."""
    from openpyxl.styles import Font

    ws.append(list(header))
    for cell in ws[1]:
        cell.font = Font(bold=True)
    ws.freeze_panes = "A2"
    for row in rows:
        ws.append(row)
        for cell in ws[ws.max_row]:
            if isinstance(cell.value, str):
                cell.data_type = "s"
            elif isinstance(cell.value, float):
                cell.number_format = "0.00"
    for i, name in enumerate(header, 1):
        width = max([len(name), *(len(str(r[i - 1] or "")) for r in rows[:200])])
        ws.column_dimensions[ws.cell(1, i).column_letter].width = min(max(width + 2, 6), 40)


def _strategy_text(team: dict[str, Any]) -> str:
    """The team's strategies with the weeks they held: ``mts-local (weeks 1-12); ato (from week 13)``."""
    parts = []
    for i, s in enumerate(team["strategy"]):
        what = "/".join(x for x in (s["codp"], s["shop"] and f"shop {s['shop']}") if x) or "-"
        parts.append(what if i == 0 and len(team["strategy"]) == 1 else f"{what} (from week {s['from_week']})")
    return "; ".join(parts)


def results_xlsx(results: dict[str, Any]) -> bytes:
    """The results as a spreadsheet (XLSX): numbers are numbers, so it opens right whatever the
    spreadsheet's language and decimal separator. Sheets: ``Weeks`` (the CSV's rows), ``Teams``
    (rank, score, strategies, players) and ``Players`` (one row per player and seat)."""
    from openpyxl import Workbook

    wb = Workbook()
    weeks = wb.active
    weeks.title = "Weeks"
    _sheet(weeks, CSV_FIELDS, [[row.get(f) for f in CSV_FIELDS] for row in week_rows(results)])
    rank = {r["team"]: r for r in results["ranking"]}
    roles = results["roles"]
    team_rows = []
    for tm in results["teams"]:
        r, score = rank.get(tm["team"], {}), tm["score"] or {}
        players = [", ".join(tm["players"].get(role, [])) for role in roles]
        cost = (score.get("totals") or {}).get("cost")
        team_rows.append(
            [r.get("rank"), tm["team"], tm["name"], score.get("score"), cost, _strategy_text(tm), *players]
        )
    _sheet(wb.create_sheet("Teams"), ("rank", "team", "name", "score", "cost", "strategy", *roles), team_rows)
    people = [
        [tm["team"], tm["name"], role, who]
        for tm in results["teams"]
        for role, names in tm["players"].items()
        for who in names
    ]
    _sheet(wb.create_sheet("Players"), ("team", "name", "role", "player"), people)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
