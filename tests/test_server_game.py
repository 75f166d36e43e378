"""The server through Socket.IO (Flask-SocketIO's test client): a whole game, seats,
reconnects, drop-outs, bots, facilitator controls, timers and what each client sees.

Games run against a real redis-server; time is a hand-driven clock and the
ticker is driven by hand (``hub.tick()``), so nothing depends on timing."""

from __future__ import annotations

import json
from typing import Any

import pytest
from support import decisions, humans

from game.scenario import load_scenario
from game.simulate import simulate
from web.app import socketio_of
from web.store.records import Team

ROLES = ("retailer", "wholesaler", "distributor", "factory")


class Client:
    """A Socket.IO test client that keeps every event it received."""

    def __init__(self, app: Any) -> None:
        self.c = socketio_of(app).test_client(app)
        self.events: list[tuple[str, Any]] = []

    def call(self, event: str, data: Any = None) -> dict[str, Any]:
        ack = self.c.emit(event, data, callback=True)
        self.pull()
        return ack

    def pull(self) -> None:
        for e in self.c.get_received():
            self.events.append((e["name"], e["args"][0] if e["args"] else None))

    def all(self, name: str) -> list[Any]:
        self.pull()
        return [a for n, a in self.events if n == name]

    def last(self, name: str) -> Any:
        got = self.all(name)
        assert got, f"no {name} event received (got {[n for n, _ in self.events]})"
        return got[-1]

    def board(self) -> dict[str, Any]:
        """The facilitator's table now: the last ``dashboard`` with the later ``dashboard_update`` rows."""
        self.pull()
        board: dict[str, Any] | None = None
        for name, data in self.events:
            if name == "dashboard":
                board = data
            elif name == "dashboard_update":  # (the rows seen so far, when the full table was cleared)
                board = board or {"teams": []}
                rows = {t["team"]: t for t in board["teams"]} | {t["team"]: t for t in data["teams"]}
                board = {**board, "session": data["session"], "teams": [rows[n] for n in sorted(rows)]}
        assert board is not None, "no dashboard received"
        return board

    def disconnect(self) -> None:
        self.c.disconnect()


class Game:
    """A session on an app: HTTP client, facilitator and helpers."""

    def __init__(self, app: Any, **body: Any) -> None:
        self.app = app
        self.hub = app.extensions["beergame"]
        self.http = app.test_client()
        r = self.http.post("/api/sessions", json={"scenario": "classic", "weeks": 6, "seed": 7, **body})
        assert r.status_code == 201, r.json
        self.info = r.json
        self.code = r.json["code"]
        self.secret = r.json["facilitator_secret"]
        self.fac = Client(app)
        assert self.fac.call("facilitate", {"code": self.code, "secret": self.secret})["ok"]

    def join(self, name: str, **seat: Any) -> tuple[Client, dict[str, Any]]:
        c = Client(self.app)
        ack = c.call("join", {"code": self.code, "name": name, **seat})
        assert ack["ok"], ack
        return c, ack

    def control(self, **body: Any) -> dict[str, Any]:
        return self.fac.call("control", body)

    def team(self, n: int = 1) -> Team:
        t = self.hub.store.team(self.code, n)
        assert t is not None
        return t

    def state(self, n: int = 1) -> dict[str, Any]:
        """Team ``n``'s engine state as the store holds it (``GameState.to_dict()``)."""
        t = self.team(n)
        assert t.state is not None
        return t.state.to_dict()

    def week(self, n: int = 1) -> int:
        return self.team(n).week

    def force_to(self, week: int) -> None:
        """The facilitator forces every round before ``week`` (each with its week's number)."""
        for w in range(1, week):
            assert self.control(action="force_round", week=w)["ok"]

    def records(self, n: int = 1) -> list[dict[str, Any]]:
        return self.hub.store.weeks(self.code, n)


@pytest.fixture
def app(make_app: Any, redis_url: str) -> Any:
    return make_app(redis_url, DISCONNECT_GRACE_SECONDS=10)


def four(game: Game, team: int = 1) -> dict[str, Client]:
    return {role: game.join(role.title(), team=team, role=role)[0] for role in ROLES}


def test_full_game_four_players_matches_the_engine(app: Any) -> None:
    game = Game(app, teams=2, weeks=8)
    players = four(game)
    assert game.control(action="start")["ok"]
    orders = {r: [4 + (i + w) % 5 for w in range(8)] for i, r in enumerate(ROLES)}
    for w in range(1, 9):
        for role in ROLES:
            state = players[role].last("state")
            assert state["view"]["week"] == w and state["session"]["status"] == "running"
            ack = players[role].call("submit", {"week": w, "value": orders[role][w - 1]})
            assert ack == {"ok": True, "week": w, "value": orders[role][w - 1], "previous": None}
        game.hub.tick()  # the all-bot team 2 keeps pace
    expected = simulate(load_scenario("classic"), seed=7, orders=orders, weeks=8)
    got = game.records(1)
    assert [w["week"] for w in got] == list(range(1, 9))
    for mine, ref in zip(got, expected.weeks, strict=True):
        assert mine["roles"] == json.loads(json.dumps(ref["roles"]))
        assert mine["bots"] == []
    bots = simulate(load_scenario("classic"), seed=7, policy="sterman", weeks=8)
    assert [w["roles"] for w in game.records(2)] == json.loads(json.dumps([w["roles"] for w in bots.weeks]))
    assert game.hub.store.session(game.code).status == "over"
    for c in players.values():
        assert c.last("state")["team"]["done"] is True
        over = c.last("game_over")
        assert over["code"] == game.code and {r["team"] for r in over["ranking"]} == {1, 2}
    final = players["retailer"].last("state")
    assert final["team"]["cost"] == pytest.approx(expected.totals()["team_cost"])
    assert len(final["history"]) == 8
    board = game.fac.board()
    assert [t["week"] for t in board["teams"]] == [8, 8]
    assert set(board["teams"][1]["bots"]) == set(ROLES) and board["teams"][0]["bots"] == []
    r = game.http.get(f"/api/sessions/{game.code}/results.csv", headers={"X-Facilitator-Secret": game.secret})
    assert r.status_code == 200
    rows = r.data.decode().strip().splitlines()
    assert len(rows) == 1 + 2 * 8 * 4


def test_every_player_gets_the_new_state_after_a_round(app: Any) -> None:
    game = Game(app)
    players = four(game)
    game.control(action="start")
    for role in ROLES[:3]:
        players[role].call("submit", {"week": 1, "value": 5})
    # teammates see who has decided (a small ``decided`` event), the round waits for the factory
    assert players["factory"].last("decided") == {"team": 1, "week": 1, "decided": sorted(ROLES[:3])}
    assert players["factory"].last("state")["decided"] is False
    assert game.week() == 1
    players["factory"].call("submit", {"week": 1, "value": 5})
    for c in players.values():
        s = c.last("state")
        assert s["view"]["week"] == 2 and s["decided"] is False and s["team"]["decided"] == []


ALLOWED_STATE_KEYS = {"session", "seat", "view", "history", "decided", "decision", "team"}
HIDDEN_VIEW_KEYS = {"inventories", "pipelines", "pos_demand"}


def _keys(obj: Any) -> set[str]:
    if isinstance(obj, dict):
        return set(obj) | {k for v in obj.values() for k in _keys(v)}
    if isinstance(obj, list):
        return {k for v in obj for k in _keys(v)}
    return set()


def test_a_player_never_receives_another_roles_hidden_data(app: Any) -> None:
    game = Game(app)
    players = four(game)
    game.control(action="start")
    for w in range(1, 5):
        for role in ROLES:
            players[role].call("submit", {"week": w, "value": 913 if role == "factory" else 4})
    game.hub.broadcaster.flush()  # the held-back session updates
    retailer = players["retailer"]
    retailer.pull()
    names = {n for n, _ in retailer.events}
    assert names <= {"state", "decided", "decision", "standings", "error", "game_over"}
    assert all(set(d) == {"team", "week", "decided"} and d["team"] == 1 for d in retailer.all("decided"))
    assert all(d["value"] == 4 for d in retailer.all("decision"))  # only its own decisions
    for state in retailer.all("state"):
        assert set(state) == ALLOWED_STATE_KEYS
        assert not HIDDEN_VIEW_KEYS & set(state["view"])
        assert state["view"]["role"] == "retailer"
        assert not {"demand_table", "seed", "stages", "roles", "observation", "owed"} & _keys(state)
        assert all("roles" not in h for h in state["history"])
        assert "913" not in json.dumps(state["view"])  # the factory's orders stay at the factory
    assert "913" in json.dumps(players["factory"].last("state")["view"])
    assert retailer.all("standings")
    for board in retailer.all("standings"):
        assert set(board) == {"teams", "ranks", "top"}
        assert _keys(board["top"]) <= {"rank", "team", "name", "score", "cost", "profit", "week", "done"}


def test_visibility_options_share_what_they_say(app: Any) -> None:
    game = Game(app, visibility={"inventories": True})
    players = four(game)
    view = players["retailer"].last("state")["view"]
    assert set(view["inventories"]) == {"wholesaler", "distributor", "factory"}
    assert "pipelines" not in view and "pos_demand" not in view


def test_reconnect_with_the_token_restores_the_seat(app: Any) -> None:
    game = Game(app)
    players = four(game)
    game.control(action="start")
    c = Client(app)
    ack = c.call("join", {"code": game.code, "name": "Late"})
    assert ack["ok"] is False and ack["error"]["code"] == "team_full"
    w = Client(app)
    first = w.call("join", {"code": game.code, "name": "Wendy", "team": 1, "role": "wholesaler"})
    assert first["error"]["code"] == "seat_taken"
    # the real wholesaler reloads the page: new connection, same token
    token = game.tokens["wholesaler"]
    players["wholesaler"].disconnect()
    again = Client(app)
    ack = again.call("resume", {"token": token})
    assert ack == {"ok": True, "code": game.code, "team": 1, "role": "wholesaler"}
    state = again.last("state")
    assert state["seat"] == {
        "team": 1,
        "team_name": "Team 1",
        "role": "wholesaler",
        "label": "Wholesaler",
        "name": "Wholesaler",
        "bot": False,
    }
    assert again.call("submit", {"week": 1, "value": 3})["ok"]


@pytest.fixture(autouse=True)
def _keep_tokens(monkeypatch: pytest.MonkeyPatch) -> None:
    """Remember the token of every join done through ``Game.join``."""
    original = Game.join

    def join(self: Game, name: str, **seat: Any) -> tuple[Client, dict[str, Any]]:
        c, ack = original(self, name, **seat)
        self.__dict__.setdefault("tokens", {})[ack["role"]] = ack["token"]
        return c, ack

    monkeypatch.setattr(Game, "join", join)


def test_a_dropout_is_played_by_a_bot_and_reclaimed(app: Any) -> None:
    game = Game(app)
    players = four(game)
    game.control(action="start")
    players["retailer"].disconnect()
    game.hub.tick()
    assert "retailer" in humans(game.hub.store, game.code, 1)  # still within the grace period
    app.clock.advance(11)
    game.hub.tick()
    assert "retailer" not in humans(game.hub.store, game.code, 1)
    seat = next(s for s in game.fac.board()["teams"][0]["seats"] if s["role"] == "retailer")
    assert seat["bot"] is True and seat["taken"] is True
    for role in ROLES[1:]:
        players[role].call("submit", {"week": 1, "value": 4})
    assert game.week() == 2
    assert game.records()[0]["bots"] == ["retailer"]
    back = Client(app)
    assert back.call("resume", {"token": game.tokens["retailer"]})["ok"]
    assert back.last("state")["seat"]["bot"] is False
    for role in ROLES[1:]:
        players[role].call("submit", {"week": 2, "value": 4})
    assert game.week() == 2  # waits for the retailer again
    assert back.call("submit", {"week": 2, "value": 9})["ok"]
    assert game.week() == 3
    assert game.records()[1]["roles"]["retailer"]["decision"] == 9


def test_timer_expiry_lets_bots_play_the_undecided_seats(app: Any) -> None:
    game = Game(app, round_seconds=30)
    players = four(game)
    game.control(action="start")
    deadline = players["retailer"].last("state")["session"]["deadline"]
    assert deadline == pytest.approx(app.clock.now + 30)
    players["retailer"].call("submit", {"week": 1, "value": 11})
    app.clock.advance(29)
    game.hub.tick()
    assert game.week() == 1
    app.clock.advance(2)
    game.hub.tick()
    assert game.week() == 2
    rec = game.records()[0]
    assert rec["roles"]["retailer"]["decision"] == 11
    assert sorted(rec["bots"]) == sorted(ROLES[1:])
    assert players["factory"].last("state")["session"]["deadline"] == pytest.approx(app.clock.now + 30)


def test_facilitator_controls(app: Any) -> None:
    game = Game(app, teams=2, round_seconds=60)
    players = four(game)
    p = players["retailer"]
    assert p.call("submit", {"week": 1, "value": 4})["error"]["code"] == "not_running"
    assert game.control(action="start")["ok"]
    assert game.control(action="start")["error"]["code"] == "not_running"
    app.clock.advance(20)
    assert game.control(action="pause")["ok"]
    assert p.last("state")["session"]["paused"] is True
    assert p.call("submit", {"week": 1, "value": 4})["error"]["code"] == "not_running"
    app.clock.advance(1000)
    game.hub.tick()
    assert game.week() == 1  # timers froze
    assert game.team().remaining == pytest.approx(40)
    assert game.control(action="resume")["ok"]
    assert game.team().deadline == pytest.approx(app.clock.now + 40)
    assert game.control(action="set_timer", seconds=90)["ok"]
    assert game.team().deadline == pytest.approx(app.clock.now + 90)
    assert game.control(action="set_timer", seconds=None)["ok"]
    assert game.team().deadline is None
    assert game.control(action="force_round", team=2, week=1)["ok"]
    assert (game.week(1), game.week(2)) == (1, 2)
    assert game.control(action="force_round", team=2, week=1)["error"]["code"] == "stale_week"
    assert game.control(action="force_round", week=1)["ok"]  # every team on week 1
    assert (game.week(1), game.week(2)) == (2, 2)
    assert game.control(action="seat_to_bot", team=1, role="factory")["ok"]
    assert players["factory"].last("state")["seat"]["bot"] is True
    assert players["factory"].call("submit", {"week": 2, "value": 4})["error"]["code"] == "forbidden"
    for role in ROLES[:3]:
        players[role].call("submit", {"week": 2, "value": 4})
    assert game.week() == 3  # the factory's bot did not hold the round up
    assert game.control(action="seat_to_human", team=1, role="factory")["ok"]
    assert players["factory"].last("state")["seat"]["bot"] is False
    for role in ROLES[:3]:
        players[role].call("submit", {"week": 3, "value": 4})
    assert game.week() == 3
    assert game.control(action="end")["ok"]
    assert game.hub.store.session(game.code).status == "over"
    assert p.last("game_over")["code"] == game.code
    assert game.control(action="resume")["error"]["code"] == "not_running"


def test_only_the_facilitator_controls(app: Any) -> None:
    game = Game(app)
    players = four(game)
    ack = players["retailer"].call("control", {"action": "start"})
    assert ack["error"]["code"] == "forbidden"
    intruder = Client(app)
    assert intruder.call("facilitate", {"code": game.code, "secret": "x" * 32})["error"]["code"] == "forbidden"
    assert intruder.call("control", {"action": "end"})["error"]["code"] == "forbidden"
    assert game.hub.store.session(game.code).status == "setup"


def test_a_team_of_bots_keeps_pace_with_the_leading_team(app: Any) -> None:
    game = Game(app, teams=3)
    players = four(game)
    game.join("Solo", team=2, role="retailer")
    game.control(action="start")
    for w in (1, 2):
        for role in ROLES:
            players[role].call("submit", {"week": w, "value": 4})
    for _ in range(3):
        game.hub.tick()
    assert (game.week(1), game.week(2), game.week(3)) == (3, 1, 3)


def test_a_session_without_humans_plays_at_bot_pace(app: Any) -> None:
    game = Game(app, teams=1, weeks=3)
    game.control(action="start")
    game.hub.tick()
    assert game.week() == 1
    app.clock.advance(3)
    game.hub.tick()
    assert game.week() == 2


def test_teams_choose_their_decoupling_point_before_the_start(app: Any) -> None:
    game = Game(app, scenario="classic", codp={"rule": "team", "position": "mts-local"})
    c, _ = game.join("Ada", team=1, role="retailer")
    before = c.last("state")["team"]
    assert before["codp_by"] is None
    assert [p["position"] for p in before["positions"]] == ["mts-local", "mts-central", "ato", "mto", "eto"]
    mto = before["positions"][3]  # what the option says: the three stages nearest the consumer work to order
    assert mto["to_order"] == ["retailer", "wholesaler", "distributor"] and mto["stock_at"] == ["factory"]
    assert before["positions"][0]["from_stock"] is True and before["positions"][0]["to_order"] == []
    assert c.call("choose_codp", {"position": "mto"})["ok"]
    assert game.team().codp == "mto"
    state = c.last("state")
    assert state["team"]["codp_by"] == "Ada"
    assert state["view"]["me"]["decision"] == "capacity"
    assert c.call("choose_codp", {"position": "nowhere"})["error"]["code"] == "bad_request"
    game.control(action="start")
    assert c.last("state")["team"]["positions"] is None  # not a review week: nothing to choose
    assert c.call("choose_codp", {"position": "ato"})["error"]["code"] == "not_running"
    fixed = Game(app)
    f, _ = fixed.join("Bo")
    assert f.call("choose_codp", {"position": "mto"})["error"]["code"] == "forbidden"


def test_projector_sees_the_leaderboard_only(app: Any) -> None:
    game = Game(app, teams=2)
    four(game)
    proj = Client(app)
    assert proj.call("watch", {"code": game.code})["ok"]
    board = proj.last("leaderboard")
    assert [r["team"] for r in board["ranking"]] == [1, 2]
    assert {n for n, _ in proj.events} == {"leaderboard"}
    assert "facilitator_secret" not in json.dumps(board) and game.secret not in json.dumps(board)


def test_a_connection_has_one_identity_at_a_time(app: Any) -> None:
    game = Game(app, teams=2)
    c = game.fac  # the facilitator's connection turns into a player
    assert c.call("join", {"code": game.code, "name": "Switcher", "team": 2, "role": "factory"})["ok"]
    c.events.clear()
    fac2 = Client(app)
    assert fac2.call("facilitate", {"code": game.code, "secret": game.secret})["ok"]
    fac2.events.clear()
    assert fac2.call("control", {"action": "start"})["ok"]
    game.hub.broadcaster.flush()
    assert fac2.all("dashboard_update")
    assert not c.all("dashboard_update")  # left the facilitators' room
    assert c.last("state")["seat"]["role"] == "factory"
    assert c.call("control", {"action": "pause"})["error"]["code"] == "forbidden"


def test_teams_move_their_decoupling_point_at_a_review_week(app: Any) -> None:
    game = Game(app, scenario="decoupling-point", weeks=14, codp={"rule": "team", "position": "mts-local"})
    c, _ = game.join("Ada", team=1, role="retailer")
    w, _ = game.join("Wim", team=1, role="wholesaler")
    game.control(action="start")
    assert c.last("state")["view"]["me"]["decision"] == "order"
    game.force_to(12)
    assert game.week() == 12
    assert c.call("choose_codp", {"position": "mto"})["error"]["code"] == "not_running"  # not a review week
    game.control(action="force_round", week=12)
    assert game.week() == 13
    assert c.call("submit", {"week": 13, "value": 3})["ok"]
    offered = c.last("state")["team"]["positions"]
    assert {p["position"]: p["stock_at"] for p in offered}["eto"] == []
    ack = w.call("choose_codp", {"position": "mto"})
    assert ack["ok"], ack
    state = c.last("state")
    assert state["team"]["codp_by"] == "Wim"  # the teammate sees at once who chose
    assert game.team().codp == "mto" and state["view"]["codp"] == "mto"
    assert state["view"]["me"]["decision"] == "capacity"
    assert state["decided"] is False and decisions(game.hub.store, game.code, 1) == {}  # decide again
    assert c.call("choose_codp", {"position": "nowhere"})["error"]["code"] == "bad_request"
    assert c.call("submit", {"week": 13, "value": 12})["ok"]
    assert w.call("submit", {"week": 13, "value": 9})["ok"]
    assert game.week() == 14
    assert game.records()[12]["roles"]["retailer"]["decision"] == 12
    retailer = game.state()["stages"][-1]
    assert retailer["mode"] == "mto" and retailer["capacity"] == 12  # the decision was a capacity
    assert w.call("choose_codp", {"position": "ato"})["error"]["code"] == "not_running"


def test_the_web_shop_drop_ships_or_holds_stock_as_the_team_chooses(app: Any) -> None:
    game = Game(app, scenario="ecommerce", weeks=14, codp={"rule": "team", "position": "mts-local"})
    shop, _ = game.join("Ada", team=1, role="ecommerce")
    r, _ = game.join("Rob", team=1, role="retailer")
    assert shop.last("state")["team"]["shop"] == "mts"
    assert shop.last("state")["view"]["me"]["decision"] == "order"
    assert r.call("choose_shop", {"mode": "mto"})["ok"]  # any member of the team, before the start
    assert game.team().shop == "mto" and game.team().codp == "mts-local"
    state = shop.last("state")
    assert state["team"]["shop"] == "mto" and state["view"]["me"]["decision"] == "capacity"
    assert game.state()["stages"][-1]["mode"] == "mto"
    assert shop.call("choose_codp", {"position": "mto"})["ok"]  # the CODP keeps the shop's mode
    assert game.team().shop == "mto" and shop.last("state")["view"]["me"]["decision"] == "capacity"
    assert shop.call("choose_shop", {"mode": "stock"})["error"]["code"] == "bad_request"
    assert shop.call("choose_shop", {})["error"]["code"] == "bad_request"
    game.control(action="start")
    assert shop.last("state")["team"]["review"] is False
    assert shop.call("choose_shop", {"mode": "mts"})["error"]["code"] == "not_running"  # not a review week
    game.force_to(13)
    assert game.week() == 13 and shop.last("state")["team"]["review"] is True
    assert shop.call("choose_shop", {"mode": "mts"})["ok"]
    state = game.state()
    assert game.team().shop == "mts" and state["stages"][-1]["mode"] == "mts"
    assert state["codp"] == "mto" and state["stages"][-2]["mode"] == "mto"  # the CODP stays
    assert shop.last("state")["view"]["me"]["decision"] == "order"
    assert shop.call("submit", {"week": 13, "value": 7})["ok"]
    game.control(action="force_round", week=13)
    assert game.records()[12]["roles"]["ecommerce"]["order"] == 7  # the decision was an order
    assert game.state()["stages"][-1]["mode"] == "mts"
    from web.http.results import session_results

    assert session_results(game.hub.store, game.code)["teams"][0]["shop"] == "mts"
    classic = Game(app, codp={"rule": "team"})
    c, _ = classic.join("Bo")
    assert c.call("choose_shop", {"mode": "mto"})["error"]["code"] == "bad_request"  # no web shop
    fixed = Game(app, scenario="ecommerce")
    f, _ = fixed.join("Cy")
    assert f.call("choose_shop", {"mode": "mto"})["error"]["code"] == "forbidden"
    assert f.last("state")["team"]["shop"] == "mts" and fixed.team().shop is None


def test_the_facilitator_inspects_a_team_players_cannot(app: Any) -> None:
    game = Game(app, teams=2)
    players = four(game)
    game.control(action="start")
    for role in ROLES:
        players[role].call("submit", {"week": 1, "value": 7})
    ack = game.fac.call("inspect", {"team": 1})
    assert ack["ok"]
    detail = ack["team"]
    assert detail["week"] == 2 and set(detail["view"]["stages"]) == set(ROLES)
    assert detail["view"]["history"][0]["roles"]["factory"]["decision"] == 7
    assert "demand" not in detail["view"] and "seed" not in detail["view"]  # no future demand
    assert game.fac.call("inspect", {"team": 3})["error"]["code"] == "bad_request"
    assert players["retailer"].call("inspect", {"team": 1})["error"]["code"] == "forbidden"


def test_a_decision_can_be_changed_until_the_week_closes(app: Any) -> None:
    """Change, change again: the week is played once, with the latest value; the seat's
    other tab is told; a change for a closed week is refused with ``stale_week``."""
    game = Game(app)
    players = four(game)
    other_tab = Client(app)
    game.control(action="start")
    p = players["retailer"]
    assert p.call("submit", {"week": 1, "value": 4}) == {"ok": True, "week": 1, "value": 4, "previous": None}
    assert p.call("submit", {"week": 1, "value": 40}) == {"ok": True, "week": 1, "value": 40, "previous": 4}
    assert p.call("submit", {"week": 1, "value": 7})["previous"] == 40
    assert decisions(game.hub.store, game.code, 1) == {"retailer": 7}
    assert p.last("decision") == {"week": 1, "value": 7, "previous": 40}
    assert other_tab.call("resume", {"token": game.tokens["retailer"]})["ok"]
    assert other_tab.last("state")["decision"] == 7 and other_tab.last("state")["decided"] is True
    assert p.call("submit", {"week": 1, "value": 8})["ok"]
    assert other_tab.last("decision") == {"week": 1, "value": 8, "previous": 7}  # the other tab follows
    for role in ROLES[1:]:
        assert players[role].call("submit", {"week": 1, "value": 5})["ok"]
    assert game.week() == 2
    assert [w["week"] for w in game.records()] == [1]  # played once
    assert game.records()[0]["roles"]["retailer"]["decision"] == 8
    late = p.call("submit", {"week": 1, "value": 9})
    assert late["ok"] is False and late["error"]["code"] == "stale_week"
    assert game.records()[0]["roles"]["retailer"]["decision"] == 8
    assert p.last("state")["decision"] is None  # a new week: nothing decided yet
