"""What the server keeps to answer a class quickly: pre-encoded payload parts
(``web.wire``), the seat views reused within a week, the cached public session
info, and the ticker's drop-out check while players join."""

from __future__ import annotations

import json
import pickle
from typing import Any

import pytest
from support import humans
from test_server_game import ROLES, Game, four

from web import wire
from web.play import rounds, sessions, views
from web.store import Store
from web.wire import Raw


def test_raw_values_are_spliced_as_their_json() -> None:
    inner = {"a": [1, 2.5, None], "name": 'quote " and \\u0000 and "x:0"', "ü": "ß"}
    doc = {"event": "state", "parts": [Raw(inner), Raw([1, 2]), {"deep": Raw("text")}], "plain": 3}
    plain = {"event": "state", "parts": [inner, [1, 2], {"deep": "text"}], "plain": 3}
    assert json.loads(wire.dumps(doc, separators=(",", ":"))) == plain
    assert json.loads(wire.dumps(["state", doc])) == ["state", plain]
    # a string that looks like a placeholder stays a string
    assert json.loads(wire.dumps({"s": "0123456789abcdef:0", "r": Raw(1)})) == {"s": "0123456789abcdef:0", "r": 1}
    # a message queue pickles payloads: the value survives
    assert pickle.loads(pickle.dumps(Raw(inner))) == Raw(inner)
    with pytest.raises(TypeError):
        wire.dumps({"x": object()})
    with pytest.raises(ValueError):
        Raw(float("inf"))


@pytest.fixture
def app(make_app: Any, redis_url: str) -> Any:
    return make_app(redis_url, DISCONNECT_GRACE_SECONDS=10)


def test_decisions_within_a_week_go_out_as_decided_and_the_new_week_as_state(app: Any) -> None:
    game = Game(app, teams=1, weeks=4)
    players = four(game)
    assert game.control(action="start")["ok"]
    states = len(players["factory"].all("state"))
    for i, role in enumerate(ROLES[:3]):
        assert players[role].call("submit", {"week": 1, "value": 4 + i})["ok"]
        assert players["factory"].last("decided") == {"team": 1, "week": 1, "decided": sorted(ROLES[: i + 1])}
    assert len(players["factory"].all("state")) == states  # no whole state while the week lasts
    assert players["retailer"].last("decided")["decided"] == sorted(ROLES[:3])
    assert players["factory"].call("submit", {"week": 1, "value": 7})["ok"]
    st = players["factory"].last("state")
    assert st["view"]["week"] == 2 and st["team"]["decided"] == [] and st["decided"] is False
    assert [h["week"] for h in st["history"]] == [1, 2]
    assert st["history"][0]["order"] == 7
    assert st["view"]["role"] == "factory" and "inventories" not in st["view"]


def test_public_session_info_follows_joins_and_seat_changes_at_once(app: Any) -> None:
    game = Game(app, teams=2)

    def seats(team: int = 1) -> dict[str, dict[str, Any]]:
        r = game.http.get(f"/api/sessions/{game.code}")
        assert r.status_code == 200 and r.mimetype == "application/json"
        return {s["role"]: s for s in r.json["teams"][team - 1]["seats"]}

    assert not seats()["retailer"]["taken"]
    game.join("Ada", team=1, role="retailer")
    assert seats()["retailer"] == {"role": "retailer", "label": "Retailer", "taken": True, "bot": False}
    assert game.control(action="seat_to_bot", team=1, role="retailer")["ok"]
    assert seats()["retailer"]["bot"] is True
    assert game.control(action="start")["ok"]
    assert game.http.get(f"/api/sessions/{game.code}").json["status"] == "running"
    # Dutch texts are kept apart from English ones
    nl = game.http.get(f"/api/sessions/{game.code}", headers={"Accept-Language": "nl"}).json["texts"]
    en = game.http.get(f"/api/sessions/{game.code}", headers={"Accept-Language": "en"}).json["texts"]
    assert nl != en


def test_a_seat_taken_while_the_ticker_looks_for_drop_outs_stays_human(app: Any, monkeypatch: Any) -> None:
    game = Game(app, teams=1)
    assert game.control(action="start")["ok"]
    store = game.hub.store
    real_presence = store.presence
    joined: list[dict[str, Any]] = []

    def seen_then_someone_joins(code: str) -> Any:
        out = real_presence(code)
        if not joined:  # the join lands between the ticker's reads
            body = {"code": code, "name": "Late", "team": 1, "role": "retailer"}
            joined.append(sessions.join(store, game.hub.cfg, body, app.clock()))
        return out

    monkeypatch.setattr(store, "presence", seen_then_someone_joins)
    app.clock.advance(1)
    rounds.tick(store, game.hub.cfg, app.clock(), {})
    assert joined and "retailer" in humans(store, game.code, 1)
    monkeypatch.setattr(store, "presence", real_presence)
    app.clock.advance(11)  # past the grace period without a connection: now a bot plays it
    rounds.tick(store, game.hub.cfg, app.clock(), {})
    assert "retailer" not in humans(store, game.code, 1)


def _fresh_state(game: Game, role: str) -> dict[str, Any]:
    """The seat's state as a new connection gets it, read from the store with nothing kept."""
    store = Store(game.hub.store.r, game.hub.store.kind)  # a store and views of their own: nothing kept
    meta = sessions.load_meta(store, game.code)
    return json.loads(wire.dumps(views.Views(store).player_state(meta, 1, role)))


def test_the_states_of_a_new_week_are_what_a_fresh_read_gives(app: Any) -> None:
    """A new week's states are built from what the commit wrote, not read back: they must
    be the ones a reconnecting player gets, week after week and at the end."""
    game = Game(app, teams=1, weeks=3, round_seconds=60)
    players = four(game)
    assert game.control(action="start")["ok"]
    for w in range(1, 4):
        for i, role in enumerate(ROLES):
            assert players[role].call("submit", {"week": w, "value": 3 + i + w})["ok"]
        for role in ROLES:
            got = players[role].last("state")
            assert got["team"]["week"] == min(w + 1, 3) and got["team"]["done"] is (w == 3)
            assert got == _fresh_state(game, role), (w, role)
    assert len(players["retailer"].last("state")["history"]) == 3


def test_the_team_a_week_hands_on_is_the_team_as_stored(app: Any) -> None:
    """``Changes.fresh`` spares the broadcaster a read of the team it just wrote: it holds
    what a read right after the commit gives (a bot's memory, the round timer, the bounds
    empty after the last week), and the week's record."""
    game = Game(app, teams=1, weeks=2, round_seconds=60)
    humans = ROLES[:3]  # the fourth seat is a bot's: its memory moves on every week
    for role in humans:
        game.join(role.title(), team=1, role=role)
    assert game.control(action="start")["ok"]
    store, cfg = game.hub.store, game.hub.cfg
    for week in (1, 2):
        for role in humans:
            changes = rounds.submit(store, cfg, game.code, 1, role, {"week": week, "value": 5}, game.hub.clock())
        fresh = changes.fresh[(game.code, 1)]
        stored = store.team_snapshot(game.code, 1)
        assert stored is not None and fresh.team == stored.team, week
        assert fresh.seats == stored.seats and fresh.humans == stored.humans and fresh.dec == {}
        assert fresh.weeks_count == week
    assert stored.team.done and stored.team.bounds == {}
