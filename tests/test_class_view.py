"""The projector as the class's view: who has decided in each team, the chain, and the class's
orders per stage week by week, only for weeks every team has played (real Redis)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from test_server_game import ROLES, Client, Game, four

from game.visibility import order_spread


@pytest.fixture
def app(make_app: Any, redis_url: str) -> Any:
    return make_app(redis_url, DISCONNECT_GRACE_SECONDS=10)


def board(game: Game) -> dict[str, Any]:
    """A fresh ``leaderboard``, as a projector that opens now gets it."""
    proj = Client(game.app)
    assert proj.call("watch", {"code": game.code})["ok"]
    return proj.last("leaderboard")


def test_the_projector_strip_follows_every_decision(app: Any) -> None:
    game = Game(app, teams=3)
    players = four(game)
    proj = Client(app)
    assert proj.call("watch", {"code": game.code})["ok"]
    first = proj.last("leaderboard")
    assert [p["team"] for p in first["progress"]] == [1, 2, 3]
    assert first["progress"][0] == {"team": 1, "week": 1, "done": False, "decided": [], "bots": []}
    assert sorted(first["progress"][1]["bots"]) == sorted(ROLES)  # nobody plays team 2
    game.control(action="start")
    game.hub.tick()
    players["retailer"].call("submit", {"week": 1, "value": 4})
    game.hub.tick()
    got = [t for p in proj.all("progress") for t in p["teams"] if t["team"] == 1]
    assert got[-1]["decided"] == ["retailer"] and got[-1]["week"] == 1
    text = json.dumps(proj.all("progress"))
    assert "Retailer" not in text and game.secret not in text  # roles only: no names, no secrets
    for role in ROLES[1:]:
        players[role].call("submit", {"week": 1, "value": 4})
    game.hub.tick()
    got = [t for p in proj.all("progress") for t in p["teams"] if t["team"] == 1]
    assert got[-1]["week"] == 2 and got[-1]["decided"] == []


def test_the_class_orders_show_only_weeks_every_team_played(app: Any) -> None:
    game = Game(app, teams=3, weeks=8)
    ones = four(game, team=1)
    late, _ = game.join("Late", team=2, role="retailer")
    game.control(action="start")
    for week in (1, 2):
        for i, role in enumerate(ROLES):
            assert ones[role].call("submit", {"week": week, "value": 3 + i + week})["ok"]
        game.hub.tick()
    assert game.week(1) == 3 and game.week(2) == 1
    lb = board(game)
    # team 1 played two weeks, team 2 none: nothing of the class's orders is shown yet
    assert lb["orders"]["played"] == []
    assert lb["orders"]["roles"] == ["factory", "distributor", "wholesaler", "retailer"]
    assert late.call("submit", {"week": 1, "value": 11})["ok"]
    game.hub.tick()
    assert game.week(2) == 2 and game.week(3) >= 2
    lb = board(game)
    assert lb["orders"]["played"] == [1]
    records = [game.records(n) for n in (1, 2, 3)]
    assert lb["orders"]["spread"] == {r: [v] for r, v in order_spread(ROLES, records, 1).items()}
    assert (
        lb["orders"]["spread"]["retailer"][0][1] == sorted(rec[0]["roles"]["retailer"]["order"] for rec in records)[1]
    )
    assert 11 in [rec[0]["roles"]["retailer"]["order"] for rec in records]
    # the chain's structure with the session's modes, nothing of any team's stock
    assert [c["role"] for c in lb["chain"]] == ["factory", "distributor", "wholesaler", "retailer"]
    assert all(c["mode"] == "mts" for c in lb["chain"])
    text = json.dumps(lb)
    assert '"on_hand"' not in text and '"demand"' not in text and game.secret not in text


def test_each_team_choosing_its_position_leaves_the_projector_chain_without_modes(app: Any) -> None:
    game = Game(app, teams=2, scenario="decoupling-point", codp={"rule": "team"})
    lb = board(game)
    assert [c["mode"] for c in lb["chain"]] == [None] * 4
    assert lb["chain"][-1]["regions"] == ["north", "east", "south", "west"]


def test_each_week_of_the_class_orders_is_worked_out_once(app: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from web.play import views

    calls: list[int] = []
    real = views.order_spread
    monkeypatch.setattr(views, "order_spread", lambda roles, h, week: calls.append(week) or real(roles, h, week))
    game = Game(app, teams=2, weeks=8)
    players = four(game, team=1)
    game.control(action="start")
    for week in (1, 2):
        for role in ROLES:
            players[role].call("submit", {"week": week, "value": 4})
        game.hub.tick()
    for _ in range(3):
        assert board(game)["orders"]["played"] == [1, 2]
    assert calls == [1, 2]
