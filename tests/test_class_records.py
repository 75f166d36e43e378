"""A class's records: late students share a seat, every week names the strategy in force
then and the players on each seat, and the exports (JSON, CSV, XLSX) name the players and
hold money in cents."""

from __future__ import annotations

import csv
import io
import re
from typing import Any

import pytest
from test_server_game import ROLES, Client, Game, four

from web.http.results import rounded, strategy_changes


@pytest.fixture
def app(make_app: Any, redis_url: str) -> Any:
    return make_app(redis_url, DISCONNECT_GRACE_SECONDS=10)


def results(game: Game, kind: str = "json") -> Any:
    r = game.http.get(f"/api/sessions/{game.code}/results.{kind}", headers={"X-Facilitator-Secret": game.secret})
    assert r.status_code == 200, r.data[:300]
    return r


def test_a_late_student_shares_a_taken_seat_and_either_player_decides(app: Any) -> None:
    game = Game(app)
    players = four(game)
    game.control(action="start")
    late = Client(app)
    refused = late.call("join", {"code": game.code, "name": "Lea", "team": 1, "role": "retailer"})
    assert refused["error"]["code"] == "seat_taken"  # without share, as before
    ack = late.call("join", {"code": game.code, "name": "Lea", "team": 1, "role": "retailer", "share": True})
    assert ack["ok"] and ack["role"] == "retailer" and ack["shared"] is True
    state = late.last("state")
    assert state["seat"]["role"] == "retailer" and state["seat"]["name"] == "Retailer & Lea"
    app.clock.advance(1)
    game.hub.tick()  # the dashboard's next update
    seat = next(s for s in game.fac.board()["teams"][0]["seats"] if s["role"] == "retailer")
    assert seat["name"] == "Retailer & Lea"
    # any of them decides, and a later number from either replaces it until the week closes
    assert players["retailer"].call("submit", {"week": 1, "value": 3})["ok"]
    changed = late.call("submit", {"week": 1, "value": 7})
    assert changed["ok"] and changed["previous"] == 3
    assert "retailer" in players["retailer"].last("decided")["decided"]
    for role in ROLES[1:]:
        players[role].call("submit", {"week": 1, "value": 4})
    assert game.week() == 2 and game.records()[0]["roles"]["retailer"]["decision"] == 7
    assert game.records()[0]["players"]["retailer"] == "Retailer & Lea"
    # the sharer's token brings the seat back on another phone
    late.disconnect()
    again = Client(app)
    assert again.call("resume", {"token": ack["token"]})["role"] == "retailer"
    assert again.call("submit", {"week": 2, "value": 5})["ok"]
    # the results name both players of the seat
    team = results(game).json["teams"][0]
    assert team["players"]["retailer"] == ["Retailer", "Lea"]


def test_with_share_a_student_is_seated_even_when_the_session_is_full(app: Any) -> None:
    game = Game(app, teams=2)
    four(game, 1)
    four(game, 2)
    c = Client(app)
    assert c.call("join", {"code": game.code, "name": "Max"})["error"]["code"] == "team_full"
    names = []
    for name in ("Max", "Nia", "Oz"):
        ack = Client(app).call("join", {"code": game.code, "name": name, "share": True})
        assert ack["ok"] and ack["shared"], ack
        names.append((ack["team"], ack["role"]))
    # the seat with the fewest players, in the order free seats are given: team 1 first, consumer end first
    assert names == [(1, "retailer"), (1, "wholesaler"), (1, "distributor")]
    # a seat the facilitator handed to a bot is not shared
    game.control(action="seat_to_bot", team=2, role="factory")
    ack = Client(app).call("join", {"code": game.code, "name": "Pim", "team": 2, "role": "factory", "share": True})
    assert ack["error"]["code"] == "seat_taken"


def test_nobody_joins_a_finished_game(app: Any) -> None:
    game = Game(app)
    game.control(action="start")
    game.control(action="end")
    ack = Client(app).call("join", {"code": game.code, "name": "Late", "share": True})
    assert ack["error"]["code"] == "not_running"


def test_every_week_names_the_strategy_in_force_then(app: Any) -> None:
    game = Game(app, scenario="decoupling-point", weeks=14, codp={"rule": "team", "position": "mts-local"})
    c, _ = game.join("Ada", team=1, role="retailer")
    game.control(action="start")
    game.force_to(13)
    assert c.call("choose_codp", {"position": "mto"})["ok"]
    game.control(action="force_round", week=13)
    records = game.records()
    assert [r["codp"] for r in records] == ["mts-local"] * 12 + ["mto"]
    data = results(game).json
    team = data["teams"][0]
    assert team["codp"] == "mto"  # where it ended
    assert [w["codp"] for w in team["weeks"]] == ["mts-local"] * 12 + ["mto"]
    assert team["strategy"] == [
        {"from_week": 1, "codp": "mts-local", "shop": None},
        {"from_week": 13, "codp": "mto", "shop": None},
    ]
    rows = list(csv.DictReader(io.StringIO(results(game, "csv").text)))
    by_week = {int(r["week"]): r["codp"] for r in rows}
    assert by_week[12] == "mts-local" and by_week[13] == "mto"
    assert {r["player"] for r in rows if r["role"] == "retailer"} == {"Ada"}


def test_strategy_changes_lists_each_switch_once() -> None:
    weeks = [
        {"week": w, "codp": c, "shop": s}
        for w, c, s in [(1, "a", "mts"), (2, "a", "mts"), (3, "a", "mto"), (4, "b", "mto")]
    ]
    assert strategy_changes(weeks) == [
        {"from_week": 1, "codp": "a", "shop": "mts"},
        {"from_week": 3, "codp": "a", "shop": "mto"},
        {"from_week": 4, "codp": "b", "shop": "mto"},
    ]


def test_rounded_keeps_cents_and_drops_float_noise() -> None:
    assert rounded({"a": [24.299999999999997, -0.001, 3], "b": float("inf")}) == {"a": [24.3, 0.0, 3], "b": None}
    assert str(rounded(-0.001)) == "0.0"


def play(game: Game, weeks: int) -> dict[str, Client]:
    """Seat a player (named after the role) on every seat of team 1 and play ``weeks`` weeks."""
    roles = [s["role"] for s in game.http.get(f"/api/sessions/{game.code}").json["teams"][0]["seats"]]
    players = {role: game.join(role.title(), team=1, role=role)[0] for role in roles}
    game.control(action="start")
    for week in range(1, weeks + 1):
        for p in players.values():
            lo, hi = p.last("state")["view"]["me"]["bounds"]
            assert p.call("submit", {"week": week, "value": min(max(5, lo), hi)})["ok"]
    return players


def rename(game: Game, name: str) -> None:
    """Write team 1's name into its hash (no request renames a team): the exports must treat
    any stored name as text."""
    store = game.hub.store
    store.r.hset(store.team_key(game.code, 1), "name", name)


def test_exports_name_the_players_and_hold_money_in_cents(app: Any) -> None:
    game = Game(app, scenario="customer-intimacy", weeks=4)
    play(game, 4)
    rename(game, "=SUM(A1)")  # a name a spreadsheet must not run
    text = results(game, "csv").text
    rows = list(csv.DictReader(io.StringIO(text)))
    assert {r["player"] for r in rows} == {"Supplier", "Manufacturer", "Wholesaler", "Retailer"}
    assert {r["name"] for r in rows} == {"'=SUM(A1)"}
    noisy = [v for r in rows for v in r.values() if re.fullmatch(r"-?\d+\.\d{3,}", v or "")]
    assert noisy == [], noisy[:5]
    data = results(game).json
    assert data["teams"][0]["players"] == {r: [r.title()] for r in data["roles"]}
    money = [ev[k] for w in data["teams"][0]["weeks"] for ev in w["roles"].values() for k in ("cost", "holding_cost")]
    assert all(round(m, 2) == m for m in money) and any(m != int(m) for m in money)


def test_the_spreadsheet_export_holds_numbers_and_names(app: Any) -> None:
    from openpyxl import load_workbook

    game = Game(app, weeks=3)
    play(game, 3)
    rename(game, "=1+1")
    r = results(game, "xlsx")
    assert r.headers["Content-Type"].startswith("application/vnd.openxmlformats-officedocument.spreadsheetml")
    assert f"beergame-{game.code}.xlsx" in r.headers["Content-Disposition"]
    wb = load_workbook(io.BytesIO(r.data))
    assert wb.sheetnames == ["Weeks", "Teams", "Players"]
    weeks = list(wb["Weeks"].iter_rows(values_only=True))
    header = weeks[0]
    assert header[:8] == ("team", "name", "codp", "shop", "week", "role", "player", "bot")
    assert len(weeks) == 1 + 3 * 4
    first = dict(zip(header, weeks[1], strict=True))
    assert first["name"] == "=1+1"  # text, not a formula
    assert wb["Weeks"]["B2"].data_type == "s"
    assert isinstance(first["week"], int) and isinstance(first["cost"], int | float)  # numbers, not text
    teams = list(wb["Teams"].iter_rows(values_only=True))
    assert teams[0][:6] == ("rank", "team", "name", "score", "cost", "strategy")
    assert teams[1][1] == 1 and isinstance(teams[1][3], int | float)
    people = list(wb["Players"].iter_rows(values_only=True))
    assert sorted(p[3] for p in people[1:]) == ["Distributor", "Factory", "Retailer", "Wholesaler"]
