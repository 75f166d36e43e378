"""The end of the game through the server: the session's window, a last week players are not
told, the facilitator who sees it and may reveal it (``control`` action ``reveal_end``)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from test_server_game import ROLES, Client, Game, four

from game.horizon import end_of_game
from web.play.scenarios import team_scenario


@pytest.fixture
def app(make_app: Any, redis_url: str) -> Any:
    return make_app(redis_url, DISCONNECT_GRACE_SECONDS=10)


def _end(game: Game) -> int:
    body = game.info
    return end_of_game(team_scenario("classic", body["weeks"], None, None, None, (4, 9)), body["seed"])


def _seed_ending_late() -> int:
    """A seed whose game ends after the planned 6 weeks (so the planned length tells nothing)."""
    scn = team_scenario("classic", 6, None, None, None, (4, 9))
    return next(s for s in range(100) if end_of_game(scn, s) > 6)


def _no_last_week(payload: Any, end: int) -> None:
    """No key of a player's payload names the last week or what is left of the game."""
    text = json.dumps(payload)
    for key in ('"weeks":', '"weeks_left"', '"end":', '"end_window"', '"planned_weeks"'):
        assert key not in text, key
    assert f"of {end}" not in text


def test_players_and_the_projector_are_not_told_the_last_week(app: Any) -> None:
    game = Game(app, teams=2, end_window=[4, 9], seed=_seed_ending_late())
    end = _end(game)
    assert 6 < end <= 9
    players = four(game)
    proj = Client(app)
    assert proj.call("watch", {"code": game.code})["ok"]
    assert game.control(action="start")["ok"]
    for w in range(1, end + 1):
        for role in ROLES:
            state = players[role].last("state")
            assert state["view"]["week"] == w and state["session"]["end_known"] is False
            _no_last_week(state, end)
            assert players[role].call("submit", {"week": w, "value": 4 + w % 3})["ok"]
        game.hub.tick()
    game.hub.broadcaster.flush()
    assert [w["week"] for w in game.records(1)] == list(range(1, end + 1))
    assert game.hub.store.session(game.code).status == "over"
    for name in ("leaderboard",):
        for payload in proj.all(name):
            _no_last_week(payload, end)
    public = game.http.get(f"/api/sessions/{game.code}").json
    assert "weeks" not in public and public["end_known"] is False
    # the facilitator saw the drawn end all along
    board = game.fac.board()
    assert board["session"]["weeks"] == end and board["session"]["end_window"] == [4, 9]
    assert board["session"]["planned_weeks"] == 6 and board["session"]["end_known"] is False


def test_the_facilitator_reveals_the_last_week(app: Any) -> None:
    game = Game(app, end_window=[4, 9])
    end = _end(game)
    players = four(game)
    proj = Client(app)
    assert proj.call("watch", {"code": game.code})["ok"]
    assert game.control(action="start")["ok"]
    for role in ROLES:
        players[role].call("submit", {"week": 1, "value": 4})
    assert "weeks" not in players["retailer"].last("state")["view"]
    # only the facilitator may reveal it
    assert players["retailer"].call("control", {"action": "reveal_end"})["error"]["code"] == "forbidden"
    intruder = Client(app)
    assert intruder.call("facilitate", {"code": game.code, "secret": "y" * 32})["error"]["code"] == "forbidden"
    assert intruder.call("control", {"action": "reveal_end"})["error"]["code"] == "forbidden"
    assert "weeks" not in players["retailer"].last("state")["view"]
    assert game.control(action="reveal_end", week=3)["error"]["code"] == "bad_request"
    assert game.control(action="reveal_end")["ok"]
    game.hub.broadcaster.flush()
    for role in ROLES:
        state = players[role].last("state")
        assert state["view"]["week"] == 2
        assert state["view"]["end_known"] is True and state["view"]["weeks"] == end
        assert state["session"]["end_known"] is True and state["session"]["weeks"] == end
    assert proj.last("leaderboard")["session"]["weeks"] == end
    assert game.http.get(f"/api/sessions/{game.code}").json["weeks"] == end
    assert game.fac.board()["session"]["end_known"] is True


def test_a_known_end_is_told_from_the_start(app: Any) -> None:
    game = Game(app, end_window=[5, 7], end_known=True)
    c, _ = game.join("Ada", team=1, role="retailer")
    state = c.last("state")
    assert state["view"]["weeks"] == state["session"]["weeks"] == _end_of(game, (5, 7))


def _end_of(game: Game, window: tuple[int, int]) -> int:
    return end_of_game(team_scenario("classic", 6, None, None, None, window), game.info["seed"])


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        ({"end_window": [7, 9]}, "end_window must hold 1 <= first <= weeks (6) <= last <= 520"),
        ({"end_window": [2, 600]}, "end_window must hold"),
        ({"end_window": [5]}, "end_window must be [first, last]"),
        ({"end_window": "5-7"}, "end_window must be a list"),
        ({"end_window": [5, 7.5]}, "end_window must be [first, last]"),
        ({"end_known": "yes"}, "end_known must be true or false"),
    ],
)
def test_bad_windows_are_refused(app: Any, body: dict[str, Any], problem: str) -> None:
    r = app.test_client().post("/api/sessions", json={"scenario": "classic", "weeks": 6, **body})
    assert r.status_code == 400 and r.json["error"]["code"] == "bad_request"
    assert problem in r.json["error"]["message"]


def test_a_preset_window_scales_with_the_weeks_chosen(app: Any) -> None:
    http = app.test_client()
    r = http.post("/api/sessions", json={"scenario": "decoupling-point", "weeks": 20, "seed": 3})
    assert r.status_code == 201
    game_code, secret = r.json["code"], r.json["facilitator_secret"]
    fac = Client(app)
    assert fac.call("facilitate", {"code": game_code, "secret": secret})["ok"]
    session = fac.last("dashboard")["session"]
    assert session["end_window"] == [18, 22] and 18 <= session["weeks"] <= 22
    listed = {s["name"]: s for s in http.get("/api/scenarios").json}
    assert listed["decoupling-point"]["end_window"] == [48, 56]
    assert listed["classic"]["end_window"] == [36, 36] and listed["classic"]["end_known"] is False
