"""What a change sends to whom (``web.realtime.broadcast``), the public session info cache
(``web.http.publicinfo``), and several server processes on one Redis (``web.realtime.relay``,
``web.realtime.leader``): two apps in this process stand in for two processes."""

from __future__ import annotations

import json
import threading
import time
from typing import Any

import pytest
from test_server_game import ROLES, Client, Game, four

from web import wire
from web.http.publicinfo import PublicInfo
from web.play import rounds
from web.realtime import relay


@pytest.fixture
def app(make_app: Any, redis_url: str) -> Any:
    return make_app(redis_url, DISCONNECT_GRACE_SECONDS=10)


def updates(c: Client) -> list[dict[str, Any]]:
    return c.all("dashboard_update")


def drain(c: Client) -> None:
    """Forget everything ``c`` received so far."""
    c.pull()
    c.events.clear()


def test_the_dashboard_gets_the_rows_that_changed(app: Any) -> None:
    game = Game(app, teams=3)
    players = four(game, team=2)
    game.control(action="start")
    game.hub.tick()
    before = len(updates(game.fac))
    players["retailer"].call("submit", {"week": 1, "value": 4})
    game.hub.tick()  # whatever the throttle held back
    got = updates(game.fac)[before:]
    assert got and all([t["team"] for t in u["teams"]] == [2] for u in got)
    row = got[-1]["teams"][0]
    assert row["decided"] == ["retailer"] and row["week"] == 1
    assert got[-1]["session"]["status"] == "running"
    # the merged table is the one a fresh dashboard shows
    fresh = Client(app)
    assert fresh.call("facilitate", {"code": game.code, "secret": game.secret})["ok"]
    assert game.fac.board()["teams"] == fresh.last("dashboard")["teams"]


def test_a_seat_going_off_line_updates_its_row(app: Any) -> None:
    game = Game(app, teams=2)
    players = four(game, team=2)
    game.control(action="start")
    game.hub.tick()
    players["factory"].disconnect()
    app.clock.advance(5)  # past the "connected" window, within the grace period
    drain(game.fac)
    game.hub.tick()
    rows = [t for u in updates(game.fac) for t in u["teams"]]
    assert [t["team"] for t in rows] == [2]
    seats = {s["role"]: s["connected"] for s in rows[0]["seats"]}
    assert seats == {"factory": False, "distributor": True, "wholesaler": True, "retailer": True}
    drain(game.fac)
    game.hub.tick()  # nothing changed since
    assert not updates(game.fac)


def test_players_get_standings_and_the_projector_the_whole_table(app: Any) -> None:
    game = Game(app, teams=7)
    players = four(game, team=3)
    proj = Client(app)
    assert proj.call("watch", {"code": game.code})["ok"]
    game.control(action="start")
    for role in ROLES:
        players[role].call("submit", {"week": 1, "value": 30 if role == "retailer" else 4})
    game.hub.tick()
    board = proj.last("leaderboard")["ranking"]
    assert len(board) == 7
    st = players["wholesaler"].last("standings")
    assert st["teams"] == 7 and len(st["ranks"]) == 7 and len(st["top"]) == 5
    assert st["ranks"] == [next(r["rank"] for r in board if r["team"] == n) for n in range(1, 8)]
    assert st["top"] == board[:5]
    assert not players["wholesaler"].all("leaderboard")
    assert not proj.all("standings") and not proj.all("state")


def test_the_state_names_the_seats_bots_play(app: Any) -> None:
    game = Game(app)
    ada, _ = game.join("Ada", team=1, role="retailer")
    assert ada.last("state")["team"]["bots"] == ["factory", "distributor", "wholesaler"]
    game.join("Bo", team=1, role="factory")
    assert ada.last("state")["team"]["bots"] == ["distributor", "wholesaler"]


def test_the_public_info_is_built_once_for_every_request_that_waits() -> None:
    started, release = threading.Event(), threading.Event()
    calls = []

    def build(meta: Any) -> dict[str, Any]:
        calls.append(meta.code)
        started.set()
        release.wait(10)
        return {"code": meta.code, "n": len(calls)}

    class Meta:
        code, status = "ABC234", "running"

    cache = PublicInfo(build, max_age=60)
    out: list[str] = []
    threads = [threading.Thread(target=lambda: out.append(cache.get(Meta, {"x": 1}))) for _ in range(8)]
    threads[0].start()
    assert started.wait(10)
    for t in threads[1:]:
        t.start()
    time.sleep(0.2)  # let them queue behind the build (the count below holds either way)
    release.set()
    for t in threads:
        t.join(10)
    assert calls == ["ABC234"] and cache.builds == 1
    assert out == ['{"code":"ABC234","n":1,"x":1}'] * 8


def test_public_info_read_before_a_change_is_not_kept() -> None:
    cache: PublicInfo

    def build(meta: Any) -> dict[str, Any]:
        if cache.builds == 0:
            cache.drop({meta.code})  # a join lands while the first build reads
        return {"built": cache.builds}

    class Meta:
        code, status = "ABC234", "setup"

    cache = PublicInfo(build, max_age=60)
    assert cache.get(Meta, {}) == '{"built":0}'
    assert cache.get(Meta, {}) == '{"built":1}'  # built again: the first one was stale
    assert cache.get(Meta, {}) == '{"built":1}'  # and kept
    assert cache.builds == 2


def test_changes_cross_processes_as_a_few_bytes() -> None:
    changes = rounds.Changes(advanced={("ABC234", 3)}, seats={("ABC234", 3), ("XYZ789", 1)}, over={"XYZ789"})
    plain = relay.Announcement(changes, False, {}, set())
    text = relay.encode("h", [relay.changes_part(plain)])
    assert len(text) < 200
    host, parts = relay.decode(text)
    assert host == "h" and relay.read_changes(parts[0]) == plain
    decided = {("XYZ789", 1): {"team": 1, "week": 4, "decided": ["factory"]}}
    full = relay.Announcement(changes, True, decided, {("ABC234", 3)})
    assert relay.read_changes(relay.decode(relay.encode("h", [relay.changes_part(full)]))[1][0]) == full


def test_one_documented_format_carries_payload_texts_as_they_are() -> None:
    """Every publication is one JSON object with readable keys; a payload's JSON text comes
    out exactly as it went in (whatever it holds), so nobody encodes it again."""
    state = wire.dumps({"a": "line\nbreak\ttab\x1e|", "b": [1.5, None]})
    event = wire.dumps({"teams": 2, "top": [{"name": "tab\there \u00e9"}]}, separators=(",", ":"))
    parts = [relay.states_part("ABC234", 3, {"retailer": state, "factory": "[1,2]"})]
    parts.append(relay.event_part("p:ABC234", "standings", event))
    text = relay.encode("host1", parts)
    message = json.loads(text)
    assert set(message) == {"host", "parts"} and message["host"] == "host1"
    assert [p["kind"] for p in message["parts"]] == ["states", "event"]
    assert message["parts"][0] == {"kind": "states", "code": "ABC234", "team": 3, "states": parts[0]["states"]}
    assert message["parts"][1]["payload"] == event and message["parts"][0]["states"]["retailer"] == state
    assert relay.decode(text) == ("host1", parts)


def test_queued_announcements_merge_with_decisions_apart() -> None:
    a, b = ("ABC234", 1), ("ABC234", 2)
    early = {a: {"team": 1, "week": 3, "decided": ["factory"]}}
    late = {a: {"team": 1, "week": 3, "decided": ["factory", "retailer"]}}
    items = [
        relay.Announcement(rounds.Changes(seats={a}), True, early, set()),
        relay.Announcement(rounds.Changes(advanced={b}, seats={b}), False, {}, {b}),
        relay.Announcement(rounds.Changes(seats={a}), True, late, set()),
    ]
    assert relay.merge_changes(items) == [
        relay.Announcement(rounds.Changes(seats={a}), True, late, set()),  # the later read wins
        relay.Announcement(rounds.Changes(advanced={b}, seats={b}), False, {}, {b}),
    ]
    assert relay.merge_changes(items[1:2]) == [
        relay.Announcement(rounds.Changes(advanced={b}, seats={b}), False, {}, {b})
    ]
    assert relay.merge_changes([]) == []


class Received:
    """A receiver that writes down what the relay hands it."""

    def __init__(self) -> None:
        self.got: list[tuple[Any, ...]] = []

    def deliver(self, note: relay.Announcement) -> None:
        self.got.append(("changes", *note))

    def deliver_states(self, code: str, n: int, states: dict[str, str]) -> None:
        self.got.append(("states", code, n, states))

    def deliver_event(self, room: str, event: str, text: str) -> None:
        self.got.append(("event", room, event, text))


def test_one_publication_carries_states_events_and_changes() -> None:
    """What another process published in one message reaches the receiver part by part: a
    team's states and events as they are, its changes merged (decisions apart from the rest);
    a publication of this process's own is skipped."""
    receiver = Received()
    r = relay.Relay("redis://127.0.0.1:1/0", receiver, lambda s: None)
    states = relay.states_part("ABC234", 3, {"retailer": '{"a":1}'})
    event = relay.event_part("p:ABC234", "standings", '{"teams":3}')
    decision = rounds.Changes(seats={("ABC234", 1)})
    decided = {("ABC234", 1): {"team": 1, "week": 2, "decided": ["factory"]}}
    week = rounds.Changes(advanced={("ABC234", 3)}, seats={("ABC234", 3)})
    parts = [states, event, relay.changes_part(relay.Announcement(decision, True, decided, set()))]
    parts.append(relay.changes_part(relay.Announcement(week, False, {}, set())))
    mine = rounds.Changes(advanced={("XYZ789", 9)})
    own = relay.encode(r.host, [relay.changes_part(relay.Announcement(mine, False, {}, set()))])
    r._handle([relay.encode("another", parts), own])
    for lane in r._lanes:
        r._deliver_batch(list(lane.queue))
    got = receiver.got
    assert ("states", "ABC234", 3, {"retailer": '{"a":1}'}) in got
    assert ("event", "p:ABC234", "standings", '{"teams":3}') in got
    assert ("changes", decision, True, decided, set()) in got and ("changes", week, False, {}, set()) in got
    assert len(got) == 4


# -- two processes -----------------------------------------------------------------


@pytest.fixture
def two(make_app: Any, redis_url: str) -> Any:
    apps = [make_app(redis_url, MESSAGE_QUEUE=redis_url, DISCONNECT_GRACE_SECONDS=10) for _ in range(2)]
    yield apps
    for a in apps:
        a.extensions["beergame"].stop_ticker()


def test_the_lease_passes_on_when_the_leader_stops(two: Any) -> None:
    ha, hb = (x.extensions["beergame"] for x in two)
    assert ha.lease.renew() and not hb.lease.renew()
    ha.lease.release()
    assert hb.lease.renew() and not ha.lease.renew()
