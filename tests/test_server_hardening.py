"""Faults and tricks a class meets: a week left decided but not committed, a client
faking its own disconnect, a force-round racing the last submission, the store going
away, malformed frames, and what the facilitator sees of it all."""

from __future__ import annotations

import json
import logging
import shutil
import tempfile
from typing import Any

import pytest
import redis
from support import decisions, free_port, humans, start_redis
from test_server_game import ROLES, Client, Game, four

from web.play import rounds


@pytest.fixture
def app(make_app: Any, redis_url: str) -> Any:
    return make_app(redis_url, DISCONNECT_GRACE_SECONDS=10)


def _decide_in_store_only(game: Game, week: int, roles: tuple[str, ...] = ROLES) -> None:
    """What a server that died between the last decision and the commit leaves behind."""
    for role in roles:
        assert game.hub.store.submit(game.code, 1, week, role, 5).status == "ok"


def test_a_week_every_human_decided_advances_at_the_next_tick_without_a_timer(app: Any) -> None:
    game = Game(app)
    players = four(game)
    game.control(action="start")
    _decide_in_store_only(game, 1)
    assert decisions(game.hub.store, game.code, 1) == dict.fromkeys(ROLES, 5)
    assert game.week() == 1
    game.hub.tick()
    assert game.week() == 2
    assert game.records()[0]["bots"] == []
    assert players["factory"].last("state")["view"]["week"] == 2
    game.hub.tick()
    assert game.week() == 2  # once


def test_a_week_left_decided_while_paused_waits_for_the_resume(app: Any) -> None:
    game = Game(app)
    four(game)
    game.control(action="start")
    _decide_in_store_only(game, 1)
    game.control(action="pause")
    game.hub.tick()
    assert game.week() == 1
    game.control(action="resume")
    game.hub.tick()
    assert game.week() == 2


def test_the_store_going_away_during_a_commit_answers_unavailable_and_the_week_completes_on_return(
    app: Any, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    game = Game(app)
    players = four(game)
    game.control(action="start")
    for role in ROLES[:3]:
        assert players[role].call("submit", {"week": 1, "value": 4})["ok"]
    store = game.hub.store
    real = store.commit

    def gone(*a: Any, **k: Any) -> Any:
        raise redis.ConnectionError("Connection refused")

    monkeypatch.setattr(store, "commit", gone)
    ack = players["factory"].call("submit", {"week": 1, "value": 4})
    assert ack["error"]["code"] == "unavailable", ack
    assert players["factory"].last("error")["code"] == "unavailable"
    assert decisions(store, game.code, 1)["factory"] == 4  # recorded before the store went away
    monkeypatch.setattr(store, "commit", real)
    game.hub.tick()
    assert game.week() == 2
    assert game.records()[0]["roles"]["factory"]["decision"] == 4


def test_an_unreachable_store_is_unavailable_everywhere_and_logged_once(
    make_app: Any, caplog: pytest.LogCaptureFixture
) -> None:
    port = free_port()
    app = make_app(f"redis://127.0.0.1:{port}/0")
    hub = app.extensions["beergame"]
    http = app.test_client()
    c = Client(app)
    caplog.set_level(logging.INFO)
    ack = c.call("join", {"code": "ABCDEF", "name": "Ada"})
    assert ack["error"]["code"] == "unavailable", ack
    assert c.call("resume", {"token": "x" * 32})["error"]["code"] == "unavailable"
    for url in ("/api/sessions/ABCDEF", "/api/sessions/ABCDEF/results.json", "/api/sessions/ABCDEF/results.csv"):
        r = http.get(url, headers={"X-Facilitator-Secret": "s" * 20})
        assert r.status_code == 503 and r.json["error"]["code"] == "unavailable", (url, r.data)
    r = http.post("/api/sessions", json={"teams": 1})
    assert r.status_code == 503 and r.json["error"]["code"] == "unavailable"
    for _ in range(5):
        hub.tick()
    lines = [r for r in caplog.records if "unreachable" in r.getMessage()]
    assert len(lines) == 1, [r.getMessage() for r in lines]
    assert not any(r.exc_info for r in caplog.records)
    directory = tempfile.mkdtemp(prefix="beergame-redis-")
    proc = start_redis(directory, port)
    try:
        for _ in range(3):
            hub.tick()
        assert len([r for r in caplog.records if "answers again" in r.getMessage()]) == 1
        assert http.post("/api/sessions", json={"teams": 1}).status_code == 201
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        shutil.rmtree(directory, ignore_errors=True)


@pytest.mark.parametrize("event", ["disconnect", "connect"])
def test_a_client_cannot_fake_its_own_disconnect(app: Any, event: str) -> None:
    game = Game(app)
    players = four(game)
    game.control(action="start")
    p = players["retailer"]
    ack = p.call(event, {})
    assert ack["ok"] is False and ack["error"]["code"] == "bad_request", ack
    assert p.last("error")["event"] == event
    app.clock.advance(11)  # past the grace period: the seat is still held
    game.hub.tick()
    assert "retailer" in humans(game.hub.store, game.code, 1)
    seat = next(s for s in game.fac.board()["teams"][0]["seats"] if s["role"] == "retailer")
    assert seat["connected"] is True and seat["bot"] is False


def test_an_unknown_event_is_answered(app: Any) -> None:
    c = Client(app)
    ack = c.call("explode", {"x": 1})
    assert ack["ok"] is False and ack["error"]["code"] == "bad_request"
    assert c.last("error")["event"] == "explode"


def test_force_round_ends_the_week_it_names_and_no_other(app: Any) -> None:
    game = Game(app, teams=2)
    players = four(game)
    game.control(action="start")
    for role in ROLES:
        players[role].call("submit", {"week": 1, "value": 4})  # the last submission wins the race
    assert game.week() == 2
    for body in ({"week": 1, "team": 1}, {"week": 3, "team": 1}, {"week": 3}):
        assert game.control(action="force_round", **body)["error"]["code"] == "stale_week"
    assert (game.week(1), game.week(2)) == (2, 1)
    assert game.control(action="force_round", week=1)["ok"]  # the week-1 team only
    assert (game.week(1), game.week(2)) == (2, 2)
    assert game.control(action="force_round", week=2, team=1)["ok"]
    assert (game.week(1), game.week(2)) == (3, 2)


def test_a_refused_force_round_says_where_the_team_is(app: Any) -> None:
    game = Game(app, teams=2)
    four(game)
    game.control(action="start")
    refused = game.control(action="force_round", week=2, team=1)["error"]
    assert refused["code"] == "stale_week"
    assert refused["message"] == "team 1 is deciding week 1 now, not week 2"
    assert game.control(action="force_round", week=2)["error"]["message"] == "no team is deciding week 2 now"


def test_a_ticker_acts_on_the_week_it_found_due_and_no_other(app: Any, make_app: Any, redis_url: str) -> None:
    """Two processes' tickers find the same deadline due; the second acts after the first advanced."""
    game = Game(app, round_seconds=30)
    four(game)
    game.control(action="start")
    other = make_app(redis_url, DISCONNECT_GRACE_SECONDS=10)
    other.clock.now = app.clock.advance(31)
    stale = game.hub.store.due(app.clock())
    assert stale == [(game.code, 1)]
    game.hub.tick()  # the first process advances week 1; week 2's deadline is 30 s away
    assert game.week() == 2
    other_store = other.extensions["beergame"].store
    other_store.due = lambda now: stale  # what it read before the first one committed
    other.extensions["beergame"].tick()
    assert game.week() == 2
    assert [w["week"] for w in game.records()] == [1]


def test_bot_pacing_acts_on_the_week_it_read(app: Any) -> None:
    game = Game(app, teams=1)
    game.control(action="start")
    cfg, store = game.hub.cfg, game.hub.store
    assert rounds.advance(store, cfg, game.code, 1, app.clock(), "force", week=1)
    assert not rounds.advance(store, cfg, game.code, 1, app.clock(), "force", week=1)  # a second process, late
    assert game.week() == 2


def test_malformed_frames_are_answered_and_logged_once_per_connection(
    app: Any, caplog: pytest.LogCaptureFixture
) -> None:
    c = Client(app)
    server = app.extensions["beergame"].socketio.server
    caplog.set_level(logging.INFO)
    frames = ["42[", '42{"a": 1}', "42[]", "4" + "[" * 5000, "9", '42["join", {"code": "x"}', "0{", "4x"]
    for frame in frames:
        server._handle_eio_message(c.c.eio_sid, frame)
    errors = c.all("error")
    assert errors and all(e["code"] == "bad_request" for e in errors)
    warned = [r for r in caplog.records if "malformed" in r.getMessage()]
    assert len(warned) == 1
    assert not any(r.exc_info for r in caplog.records)
    assert c.call("watch", {"code": "NOPE99"})["error"]["code"] == "unknown_session"  # still connected


def test_the_facilitator_sees_connections_come_and_go(app: Any) -> None:
    game = Game(app)
    players = four(game)
    game.hub.tick()
    ack = game.fac.call("inspect", {"team": 1})
    assert all(s["connected"] for s in ack["team"]["seats"]), ack["team"]["seats"]
    game.fac.events.clear()
    players["retailer"].disconnect()
    game.hub.tick()  # a dashboard held back within the tick goes out with it
    seats = game.fac.board()["teams"][0]["seats"]
    assert {s["role"]: s["connected"] for s in seats}["retailer"] is False
    assert {s["role"]: s["connected"] for s in game.fac.call("inspect", {"team": 1})["team"]["seats"]} == {
        "retailer": False,
        "wholesaler": True,
        "distributor": True,
        "factory": True,
    }


def test_join_sends_one_state_and_the_public_info_follows_the_new_week(app: Any) -> None:
    game = Game(app)
    c, _ = game.join("Ada", team=1, role="retailer")
    assert len(c.all("state")) == 1
    game.control(action="start")
    assert json.loads(game.http.get(f"/api/sessions/{game.code}").data)["week"] == 1
    assert c.call("submit", {"week": 1, "value": 4})["ok"]  # the only human: the week advances
    assert c.last("state")["view"]["week"] == 2
    assert json.loads(game.http.get(f"/api/sessions/{game.code}").data)["week"] == 2


def test_a_disconnect_leaves_exactly_the_rooms_of_its_connection(app: Any) -> None:
    game = Game(app, teams=2)
    players = four(game)
    other, _ = game.join("Eve", team=2, role="retailer")
    manager = game.hub.socketio.server.manager
    before = {room: dict(members) for room, members in manager.rooms["/"].items()}
    players["factory"].disconnect()
    after = {room: dict(members) for room, members in manager.rooms["/"].items()}
    gone = {room for room in before if room not in after or before[room] != after[room]}
    sid = next(iter(set(before[f"seat:{game.code}:1:factory"])))
    assert gone == {None, sid, f"s:{game.code}", f"p:{game.code}", f"seat:{game.code}:1:factory"}
    assert all(sid not in members for members in after.values())
    assert other.call("submit", {"week": 1, "value": 4})["error"]["code"] == "not_running"  # still served
