"""A facilitator's own scenario: an uploaded TOML file or an edited preset, validated with the
command line's messages, kept with the session, played, downloaded, and in the results."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Any

import pytest

from game.scenario import SCENARIO_DIR, ScenarioError, load_scenario
from game.simulate import simulate
from game.start import new_game
from web.app import socketio_of

HERE = Path(__file__).parent
CUSTOM = (HERE / "scenarios" / "custom.toml").read_text(encoding="utf-8")


def create(client: Any, **body: Any) -> Any:
    return client.post("/api/sessions", json={"teams": 1, "seed": 3, "round_seconds": 0, **body})


def cli_message(text: str, name: str, tmp_path: Path) -> str:
    """What ``python -m game simulate --scenario <file>`` says about the same file."""
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ScenarioError) as err:
        load_scenario(path)
    return str(err.value)


def test_an_uploaded_file_is_played_downloaded_and_in_the_results(make_app) -> None:
    app = make_app()
    http = app.test_client()
    r = create(http, custom_scenario={"toml": CUSTOM, "file": "my-class.toml"}, weeks=5)
    assert r.status_code == 201, r.json
    code, secret = r.json["code"], r.json["facilitator_secret"]
    assert r.json["scenario"] == "test-custom"
    info = http.get(f"/api/sessions/{code}").json
    assert [s["role"] for s in info["teams"][0]["seats"]] == ["supplier", "manufacturer", "wholesaler", "retailer"]
    # play it: a human retailer, bots elsewhere, five weeks
    fac = socketio_of(app).test_client(app)
    assert fac.emit("facilitate", {"code": code, "secret": secret}, callback=True)["ok"]
    player = socketio_of(app).test_client(app)
    ack = player.emit("join", {"code": code, "name": "Ada", "role": "retailer"}, callback=True)
    assert ack["ok"], ack
    assert fac.emit("control", {"action": "start"}, callback=True)["ok"]
    for week in range(1, 6):
        assert player.emit("submit", {"week": week, "value": 6}, callback=True)["ok"]
    headers = {"X-Facilitator-Secret": secret}
    results = http.get(f"/api/sessions/{code}/results.json", headers=headers).json
    assert results["custom"] is True and results["scenario"] == "test-custom"
    assert results["scenario_toml"] == CUSTOM
    team = results["teams"][0]
    assert team["done"] and len(team["weeks"]) == 5
    # the same game on the engine alone: the session played the uploaded scenario
    scn = load_scenario(HERE / "scenarios" / "custom.toml")
    solo = simulate(scn, seed=3, policy="sterman", orders={"retailer": [6] * 5}, weeks=5)
    assert [w["roles"] for w in team["weeks"]] == [w["roles"] for w in json.loads(json.dumps(solo.weeks))]
    # download: the text as uploaded, to the facilitator only
    dl = http.get(f"/api/sessions/{code}/scenario.toml", headers=headers)
    assert dl.status_code == 200 and dl.get_data(as_text=True) == CUSTOM
    assert (
        "attachment" in dl.headers["Content-Disposition"]
        and f"test-custom-{code}.toml" in dl.headers["Content-Disposition"]
    )
    assert http.get(f"/api/sessions/{code}/scenario.toml").status_code == 403
    assert http.get(f"/api/sessions/{code}/scenario.toml", headers={"X-Facilitator-Secret": "nope"}).status_code == 403
    # the debrief page knows it is the session's own scenario
    page = http.get(f"/debrief/{code}").get_data(as_text=True)
    assert '"custom":true' in page


def test_a_preset_session_downloads_the_preset_file(make_app) -> None:
    http = make_app().test_client()
    r = create(http, scenario="classic")
    dl = http.get(
        f"/api/sessions/{r.json['code']}/scenario.toml", headers={"X-Facilitator-Secret": r.json["facilitator_secret"]}
    )
    assert dl.get_data(as_text=True) == (SCENARIO_DIR / "classic.toml").read_text(encoding="utf-8")
    results = http.get(
        f"/api/sessions/{r.json['code']}/results.json", headers={"X-Facilitator-Secret": r.json["facilitator_secret"]}
    )
    assert results.json["custom"] is False and "scenario_toml" not in results.json


def test_an_edited_preset_keeps_every_change(make_app) -> None:
    http = make_app().test_client()
    doc = http.get("/api/scenarios/classic/document").json["document"]
    assert doc == tomllib.loads((SCENARIO_DIR / "classic.toml").read_text(encoding="utf-8"))
    doc["weeks"] = 12
    doc["title"] = "Slow mail"
    doc["stages"][0]["order_delay"] = 3
    doc["stages"][0]["orders"] = [4, 4, 4]
    doc["stages"][-1]["holding_cost"] = 2
    doc["visibility"] = {"pos_demand": True}
    checked = http.post("/api/scenarios/check", json={"custom_scenario": {"document": doc}})
    assert checked.status_code == 200, checked.json
    assert checked.json["scenario"]["title"] == "Slow mail" and checked.json["scenario"]["weeks"] == 12
    r = create(http, custom_scenario={"document": doc})
    assert r.status_code == 201, r.json
    assert r.json["weeks"] == 12
    text = http.get(
        f"/api/sessions/{r.json['code']}/scenario.toml", headers={"X-Facilitator-Secret": r.json["facilitator_secret"]}
    ).get_data(as_text=True)
    scn = load_scenario_text(text)
    assert scn.stage("factory").order_delay == 3 and scn.stage("retailer").holding_cost == 2.0
    assert scn.visibility["pos_demand"] is True and scn.title == "Slow mail"


def load_scenario_text(text: str) -> Any:
    from game.scenario import scenario_from_toml

    return scenario_from_toml(text)


@pytest.mark.parametrize(
    ("change", "key"),
    [
        (
            lambda t: t.replace("order_delay = 1", "order_delay = 0", 1),
            "stages.supplier.order_delay: must be at least 1",
        ),
        (lambda t: t.replace("share = 1.0", "share = 0.5", 1), "segments: shares must add up to 1"),
        (lambda t: t.replace('kind = "constant"', 'kind = "weekly"', 1), "demand.kind: must be one of"),
        (lambda t: t + "\ncolour = 3\n", "colour: unknown key"),
        (lambda t: t.replace("weeks = 16", "weeks = ", 1), "not valid TOML"),
    ],
)
def test_a_bad_file_gets_the_command_lines_message_naming_the_key(make_app, tmp_path, change, key: str) -> None:
    http = make_app().test_client()
    text = change(CUSTOM)
    expected = cli_message(text, "mine.toml", tmp_path)
    assert key in expected
    for path, body in (
        ("/api/sessions", {"custom_scenario": {"toml": text, "file": "C:\\class\\mine.toml"}}),
        ("/api/scenarios/check", {"custom_scenario": {"toml": text, "file": "mine.toml"}}),
    ):
        r = http.post(path, json=body)
        assert r.status_code == 400
        assert r.json["error"] == {"code": "invalid_scenario", "message": expected}


def test_an_emptied_field_is_named(make_app) -> None:
    http = make_app().test_client()
    doc = http.get("/api/scenarios/classic/document").json["document"]
    doc["stages"][1]["holding_cost"] = None
    r = http.post("/api/scenarios/check", json={"custom_scenario": {"document": doc}})
    assert r.status_code == 400
    assert r.json["error"]["message"] == "edited scenario: stages[1].holding_cost: must have a value"


@pytest.mark.parametrize(
    "body",
    [
        {"custom_scenario": "name = 'x'"},
        {"custom_scenario": {"toml": 3}},
        {"custom_scenario": {"toml": "", "document": {}}},
        {"custom_scenario": {"document": []}},
        {"custom_scenario": {"toml": CUSTOM, "colour": 1}},
        {"custom_scenario": {"toml": CUSTOM}, "scenario": "classic"},
    ],
)
def test_malformed_requests_are_refused_and_create_nothing(make_app, body: dict[str, Any]) -> None:
    app = make_app()
    http = app.test_client()
    r = http.post("/api/sessions", json=body)
    assert r.status_code == 400 and r.json["error"]["code"] == "bad_request", r.json
    assert app.extensions["beergame"].store.codes() == []


def test_limits(make_app) -> None:
    http = make_app().test_client()
    huge = CUSTOM + "\n# " + "x" * 32_000 + "\n"
    r = http.post("/api/scenarios/check", json={"custom_scenario": {"toml": huge}})
    assert r.status_code == 400 and "too long" in r.json["error"]["message"]
    assert http.get("/api/scenarios/nope/document").status_code == 400


def test_a_team_choosing_its_decoupling_point_keeps_the_own_scenario(make_app) -> None:
    app = make_app()
    http = app.test_client()
    r = create(http, custom_scenario={"toml": CUSTOM}, codp={"rule": "team"})
    assert r.status_code == 201, r.json
    player = socketio_of(app).test_client(app)
    assert player.emit("join", {"code": r.json["code"], "name": "Bo", "role": "retailer"}, callback=True)["ok"]
    assert player.emit("choose_codp", {"position": "mto"}, callback=True)["ok"]
    t = app.extensions["beergame"].store.team(r.json["code"], 1)
    assert t is not None and t.state is not None
    state = t.state.to_dict()
    assert state["codp"] == "mto"
    assert json.dumps(state["demand"]) == json.dumps(
        new_game(load_scenario(HERE / "scenarios" / "custom.toml"), 3).demand
    )
