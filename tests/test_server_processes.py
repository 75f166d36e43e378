"""A team chooses a process per segment on the server: the options it is offered, what it
may send, and a game played with its processes."""

from __future__ import annotations

from typing import Any

import pytest
from test_server_game import Game


@pytest.fixture
def app(make_app: Any, redis_url: str) -> Any:
    return make_app(redis_url, DISCONNECT_GRACE_SECONDS=10)


def test_a_team_chooses_its_processes_before_the_start(app: Any) -> None:
    game = Game(app, scenario="standard-processes", weeks=6, codp={"rule": "team", "position": "mts-local"})
    c, _ = game.join("Ada", team=1, role="retailer")
    offered = c.last("state")["team"]["positions"]
    assert [p["position"] for p in offered][-2:] == ["per-segment", "per-need"]
    need = offered[-1]
    assert [x["position"] for x in need["processes"]] == ["mts-local", "ato"] and need["cost"] == 4.0
    assert need["processes"][1]["segments"] == ["quick-tailored", "tailored", "bespoke"]
    assert c.call("choose_codp", {"position": "per-need"})["ok"]
    assert game.team().codp == "per-need" and c.last("state")["team"]["choice"] == "per-need"
    assert len(game.state()["nodes"]) == 5  # the four stages and the second process
    # a mapping of its own, stored with every segment in the scenario's order
    assert c.call("choose_codp", {"position": "bespoke=mto, walk-in=mts-local"})["ok"]
    assert game.team().codp == (
        "walk-in=mts-local,counter=mts-local,trade=mts-local,quick-tailored=mts-local,tailored=mts-local,bespoke=mto"
    )
    for bad in ("nobody=ato", "walk-in=mts-local,bespoke=eto", "walk-in"):
        ack = c.call("choose_codp", {"position": bad})
        assert ack["error"]["code"] == "bad_request", (bad, ack)
    assert c.call("choose_codp", {"position": "per-need"})["ok"]
    game.control(action="start")
    game.force_to(4)
    weeks = game.records()
    assert len(weeks) == 3
    last = game.state()
    skus = last["events"][-1]["skus"]
    assert set(skus) == {"retailer", "retailer/ato"}
    # the debrief: the best plan and the stored reference, both for the team's processes
    r = game.http.get(f"/debrief/{game.code}/benchmark/1.json", headers={"X-Facilitator-Secret": game.secret})
    assert r.status_code == 200, r.json
    assert r.json["chosen"]["position"] == "per-need"
    assert r.json["reference"]["own"] == "per-need" and "per-need" in r.json["reference"]["by_position"]


def test_one_decoupling_point_only_where_the_scenario_allows_no_more(app: Any) -> None:
    game = Game(app, scenario="segments", weeks=6, codp={"rule": "team", "position": "mts-local"})
    c, _ = game.join("Ada", team=1, role="retailer")
    assert all("processes" not in p for p in c.last("state")["team"]["positions"])
    ack = c.call("choose_codp", {"position": "standard-now=mts-local,customised=ato"})
    assert ack["error"]["code"] == "bad_request"


def test_a_team_opens_a_second_process_at_a_review(app: Any) -> None:
    game = Game(app, scenario="standard-processes", weeks=20, codp={"rule": "team", "position": "mts-local"})
    c, _ = game.join("Ada", team=1, role="retailer")
    game.control(action="start")
    game.force_to(13)
    assert game.week() == 13
    assert [p["position"] for p in c.last("state")["team"]["positions"]][-1] == "per-need"
    assert c.call("choose_codp", {"position": "per-need"})["ok"]
    state = game.state()
    assert [n["mode"] for n in state["nodes"]][-1] == "mto" and len(state["nodes"]) == 5
    game.control(action="force_round", week=13)
    assert game.week() == 14
    assert "retailer/ato" in game.records()[-1]["roles"]["retailer"]["skus"]
    assert c.call("choose_codp", {"position": "mts-local"})["error"]["code"] == "not_running"
