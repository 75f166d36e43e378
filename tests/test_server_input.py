"""Bad input, every class of it: each gets a stable error code and changes nothing."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest
from support import ROOT, seated_classic_team

from web import payloads, wire
from web.app import socketio_of
from web.play import rounds
from web.realtime import events
from web.realtime.events import Connections


@pytest.fixture
def app(make_app: Any) -> Any:
    return make_app()  # fakeredis: fast


def snapshot(app: Any) -> str:
    """Every key and value in the store (to prove a refused call changed nothing)."""
    r = app.extensions["beergame"].store.r
    out = {}
    for key in sorted(r.keys("*")):
        kind = r.type(key)
        if kind == "hash":
            out[key] = r.hgetall(key)
        elif kind == "set":
            out[key] = sorted(r.smembers(key))
        elif kind == "list":
            out[key] = r.lrange(key, 0, -1)
        elif kind == "zset":
            out[key] = r.zrange(key, 0, -1, withscores=True)
        else:
            out[key] = r.get(key)
    return json.dumps(out, sort_keys=True)


@pytest.fixture
def setup(app: Any) -> dict[str, Any]:
    return seated_classic_team(app, weeks=4, seed=1)


def refused(app: Any, client: Any, event: str, data: Any, code: str) -> None:
    before = snapshot(app)
    client.get_received()
    ack = client.emit(event, data, callback=True)
    assert ack["ok"] is False, ack
    assert ack["error"]["code"] == code, ack
    assert isinstance(ack["error"]["message"], str) and ack["error"]["message"]
    errors = [e["args"][0] for e in client.get_received() if e["name"] == "error"]
    assert errors and errors[-1]["code"] == code and errors[-1]["event"] == event
    assert snapshot(app) == before


JOIN_CASES = [
    ({"code": "NOPE99", "name": "Ada"}, "unknown_session"),
    ({"code": 12345, "name": "Ada"}, "bad_request"),
    ({"code": None, "name": "Ada"}, "bad_request"),
    ({"name": ""}, "invalid_name"),
    ({"name": "   "}, "invalid_name"),
    ({"name": "x" * 31}, "invalid_name"),
    ({"name": "bad\x00name"}, "invalid_name"),
    ({"name": "line\nbreak"}, "invalid_name"),
    ({"name": "rtl\u202eoverride"}, "invalid_name"),
    ({"name": 42}, "invalid_name"),
    ({"name": ["Ada"]}, "invalid_name"),
    ({"name": "Ada", "team": 0}, "bad_request"),
    ({"name": "Ada", "team": 2}, "bad_request"),
    ({"name": "Ada", "team": "1"}, "bad_request"),
    ({"name": "Ada", "team": True}, "bad_request"),
    ({"name": "Ada", "role": "brewer"}, "bad_request"),
    ({"name": "Ada", "team": 1, "role": "retailer"}, "seat_taken"),
    ({"name": "Ada", "team": 1}, "team_full"),
    ({"name": "Ada"}, "team_full"),
]


@pytest.mark.parametrize(("body", "code"), JOIN_CASES)
def test_bad_join(app: Any, setup: dict[str, Any], body: dict[str, Any], code: str) -> None:
    if "code" not in body:
        body = {"code": setup["code"], **body}
    refused(app, socketio_of(app).test_client(app), "join", body, code)


def test_join_without_a_code_or_a_name(app: Any, setup: dict[str, Any]) -> None:
    c = socketio_of(app).test_client(app)
    refused(app, c, "join", {"name": "Ada"}, "bad_request")
    refused(app, c, "join", {"code": setup["code"]}, "bad_request")


def test_names_are_trimmed_and_stored_as_text(app: Any) -> None:
    http = app.test_client()
    s = http.post("/api/sessions", json={"teams": 1}).json
    c = socketio_of(app).test_client(app)
    ack = c.emit("join", {"code": s["code"].lower(), "name": "  <b>Zoë</b>  "}, callback=True)
    assert ack["ok"]
    seat = app.extensions["beergame"].store.seats(s["code"], 1)[ack["role"]]
    assert seat.name == "<b>Zoë</b>"


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"week": 1, "value": -1}, "out_of_bounds"),
        ({"week": 1, "value": 1001}, "out_of_bounds"),
        ({"week": 1, "value": 4.5}, "bad_request"),
        ({"week": 1, "value": "4"}, "bad_request"),
        ({"week": 1, "value": True}, "bad_request"),
        ({"week": 1, "value": None}, "bad_request"),
        ({"week": "1", "value": 4}, "bad_request"),
        ({"week": 1}, "bad_request"),
        ({"week": 1, "value": 4, "extra": 1}, "bad_request"),
        ({"week": 2, "value": 4}, "stale_week"),
        ({"week": 0, "value": 4}, "stale_week"),
        ("submit", "bad_request"),
        ([1, 2], "bad_request"),
        ({"week": 1, "value": 4, "pad": "x" * 5000}, "bad_request"),
    ],
)
def test_bad_submit(app: Any, setup: dict[str, Any], body: Any, code: str) -> None:
    setup["fac"].emit("control", {"action": "start"}, callback=True)
    refused(app, setup["players"]["retailer"], "submit", body, code)


def test_submit_twice_and_before_start_and_without_a_seat(app: Any, setup: dict[str, Any]) -> None:
    p = setup["players"]["retailer"]
    refused(app, p, "submit", {"week": 1, "value": 4}, "not_running")
    setup["fac"].emit("control", {"action": "start"}, callback=True)
    assert p.emit("submit", {"week": 1, "value": 4}, callback=True)["ok"]
    assert p.emit("submit", {"week": 1, "value": 5}, callback=True)["previous"] == 4  # a change
    stranger = socketio_of(app).test_client(app)
    refused(app, stranger, "submit", {"week": 1, "value": 4}, "not_joined")
    refused(app, stranger, "choose_codp", {"position": "mto"}, "not_joined")


@pytest.mark.parametrize(
    "body",
    [{"token": "x" * 32}, {"token": ""}, {"token": 5}, {}, {"token": "a" * 500}, {"token": "x" * 32, "more": 1}],
)
def test_bad_resume(app: Any, setup: dict[str, Any], body: dict[str, Any]) -> None:
    code = "bad_token" if isinstance(body.get("token"), str) and "more" not in body else "bad_request"
    refused(app, socketio_of(app).test_client(app), "resume", body, code)


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"action": "explode"}, "bad_request"),
        ({}, "bad_request"),
        ({"action": "set_timer", "seconds": 1}, "bad_request"),
        ({"action": "set_timer", "seconds": 99999}, "bad_request"),
        ({"action": "set_timer", "seconds": "60"}, "bad_request"),
        ({"action": "force_round", "team": 9}, "bad_request"),  # names no week
        ({"action": "force_round", "week": 1}, "not_running"),
        ({"action": "force_round", "week": 1.0}, "bad_request"),
        ({"action": "pause", "seconds": "x"}, "bad_request"),  # a field pause does not take
        ({"action": "start", "team": 1}, "bad_request"),
        ({"action": "end", "role": []}, "bad_request"),
        ({"action": ["start"]}, "bad_request"),
        ({"action": "seat_to_bot", "team": 2, "role": "retailer"}, "bad_request"),
        ({"action": "seat_to_bot", "team": 1, "role": "brewer"}, "bad_request"),
        ({"action": "seat_to_bot", "team": 1}, "bad_request"),
        ({"action": "pause"}, "not_running"),
        ({"action": "resume"}, "not_running"),
        ({"action": "start", "secret": "x"}, "bad_request"),
    ],
)
def test_bad_control(app: Any, setup: dict[str, Any], body: dict[str, Any], code: str) -> None:
    refused(app, setup["fac"], "control", body, code)


def test_bad_facilitate_and_watch(app: Any, setup: dict[str, Any]) -> None:
    c = socketio_of(app).test_client(app)
    refused(app, c, "facilitate", {"code": setup["code"], "secret": "nope"}, "forbidden")
    refused(app, c, "facilitate", {"code": setup["code"]}, "bad_request")
    refused(app, c, "facilitate", {"code": setup["code"], "secret": 5}, "bad_request")
    refused(app, c, "facilitate", {"code": "ZZZZZZ", "secret": setup["secret"]}, "unknown_session")
    refused(app, c, "watch", {"code": "ZZZZZZ"}, "unknown_session")
    refused(app, c, "watch", {"code": None}, "bad_request")
    for event in ("join", "resume", "facilitate", "watch", "control", "submit"):
        refused(app, c, event, None, "bad_request")  # a null payload
        before = snapshot(app)
        ack = c.emit(event, callback=True)  # no payload at all
        assert ack["ok"] is False and ack["error"]["code"] == "bad_request", (event, ack)
        assert snapshot(app) == before


def test_rate_limit_window() -> None:
    conns = Connections()
    assert all(conns.allow("sid", 100.0, 3) for _ in range(3))
    assert conns.allow("sid", 100.5, 3) is False
    assert conns.allow("other", 100.5, 3) is True
    assert conns.allow("sid", 101.2, 3) is True


def test_a_burst_straddling_a_second_gets_no_more_than_the_allowance() -> None:
    conns = Connections()
    assert conns.allow("sid", 100.0, 20)  # (a fixed window would start here)
    early = sum(conns.allow("sid", 100.9 + i / 1000, 20) for i in range(20))
    late = sum(conns.allow("sid", 101.0 + i / 1000, 20) for i in range(20))
    assert early == 19 and late == 1  # 20 within 0.2 s, never 40
    assert conns.allow("sid", 101.95, 20) is True  # the early burst has left the window by then


def test_no_second_holds_more_than_the_allowance() -> None:
    conns = Connections()
    times = sorted(100 + i * 0.013 + (i % 7) * 0.05 for i in range(2000))
    let = [t for t in times if conns.allow("sid", t, 20)]
    assert len(let) > 20 * int(times[-1] - times[0]) * 0.9  # and the allowance is used
    for k, t in enumerate(let):
        assert sum(1 for u in let[k:] if u - t < 1.0) <= 20


def test_a_rate_limited_event_changes_nothing(make_app: Any) -> None:
    app = make_app(RATE_LIMIT_PER_SECOND=0)
    http = app.test_client()
    s = http.post("/api/sessions", json={"teams": 1}).json
    refused(app, socketio_of(app).test_client(app), "join", {"code": s["code"], "name": "Ada"}, "rate_limited")


# -- HTTP --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        {"scenario": "nope"},
        {"teams": 0},
        {"teams": 301},
        {"teams": "2"},
        {"teams": 2.0},
        {"round_seconds": 2},
        {"round_seconds": -5},
        {"codp": {"rule": "anything"}},
        {"codp": {"rule": "fixed", "position": "nowhere"}},
        {"codp": "mto"},
        {"visibility": {"everything": True}},
        {"visibility": {"pos_demand": "yes"}},
        {"bot_policy": "genius"},
        {"bot_policy": "sterman:alpha=99"},
        {"weeks": 0},
        {"weeks": 10_000},
        {"seed": -1},
        {"seed": "1"},
        {"surprise": 1},
        *[{field: value} for field in ("codp", "visibility") for value in ([], "", False, 0, "x", 1.5)],
        {"codp": {"rule": None, "extra": 1}},
        {"scenario": ["classic"]},
        {"round_seconds": 60.0},
        {"round_seconds": False},
        [],
        "classic",
        None,
        4,
    ],
)
def test_bad_session_bodies(app: Any, body: Any) -> None:
    before = snapshot(app)
    r = app.test_client().post("/api/sessions", json=body)
    assert r.status_code == 400
    assert r.json["error"]["code"] == "bad_request" and r.json["error"]["message"]
    assert snapshot(app) == before


def test_non_json_and_oversized_bodies(app: Any) -> None:
    http = app.test_client()
    for raw in ("[" * 3000, "{" * 2000, '{"teams": ' * 1000, b"\xff\xfe\x00", "NaN", '{"teams": 1} x', ""):
        before = snapshot(app)
        r = http.post("/api/sessions", data=raw, content_type="application/json")
        assert r.status_code == 400 and r.is_json and r.json["error"]["code"] == "bad_request", (raw[:20], r.data)
        assert snapshot(app) == before
    r = http.post("/api/sessions", data='{"teams": 1}', content_type="text/plain")
    assert r.status_code == 400 and r.json["error"]["code"] == "bad_request"
    r = http.post("/api/sessions", data="not json", content_type="application/json")
    assert r.status_code == 400 and r.json["error"]["code"] == "bad_request"
    r = http.post("/api/sessions", json={"scenario": "classic", "pad": "x" * 10_000})
    assert r.status_code == 400 and r.json["error"]["code"] == "bad_request"


def test_every_api_error_is_json(app: Any) -> None:
    http = app.test_client()
    for method, url, status in (
        ("get", "/api/nothing", 404),
        ("get", "/api/sessions", 405),
        ("delete", "/api/sessions/ABCDEF", 405),
        ("put", "/healthz", 405),
        ("get", "/api/sessions/" + "x" * 300, 404),
    ):
        r = getattr(http, method)(url)
        assert (
            r.status_code == status
            and r.is_json
            and r.json["error"]["code"] in ("not_found", "bad_request", "unknown_session")
        ), url
    assert not http.get("/no-such-page").is_json  # the pages keep their own errors


def test_http_endpoints(app: Any, setup: dict[str, Any]) -> None:
    http = setup["http"]
    assert http.get("/healthz").json == {"ok": True, "store": "memory", "reachable": True}
    scenarios = http.get("/api/scenarios").json
    classic = next(s for s in scenarios if s["name"] == "classic")
    assert classic["roles"] == ["factory", "distributor", "wholesaler", "retailer"]
    info = http.get(f"/api/sessions/{setup['code']}").json
    assert info["status"] == "setup" and info["teams"][0]["seats"][0]["taken"] is True
    assert "name" not in json.dumps(info["teams"][0]["seats"])
    r = http.get("/api/sessions/NOPE99")
    assert r.status_code == 404 and r.json["error"]["code"] == "unknown_session"
    code = setup["code"]
    assert http.get(f"/api/sessions/{code}/results.json").status_code == 403
    r = http.get(f"/api/sessions/{code}/results.json", headers={"X-Facilitator-Secret": "wrong"})
    assert r.status_code == 403 and r.json["error"]["code"] == "forbidden"
    ok = http.get(f"/api/sessions/{code}/results.json", headers={"X-Facilitator-Secret": setup["secret"]})
    assert ok.status_code == 200 and ok.json["teams"][0]["team"] == 1


def test_the_benchmark_of_an_unknown_team_is_not_found(app: Any, setup: dict[str, Any]) -> None:
    headers = {"X-Facilitator-Secret": setup["secret"]}
    r = setup["http"].get(f"/debrief/{setup['code']}/benchmark/2.json", headers=headers)
    assert r.status_code == 404 and r.json["error"]["code"] == "not_found"


def strict(text: bytes | str) -> Any:
    """``text`` read as strict JSON (no NaN, Infinity)."""

    def refuse(name: str) -> Any:
        raise AssertionError(f"non-strict JSON: {name}")

    return json.loads(text, parse_constant=refuse)


DEEP_TOML = "x = " + "[" * 600 + "]" * 600
CLASSIC_TOML = (ROOT / "config" / "scenarios" / "classic.toml").read_text()


@pytest.mark.parametrize(
    ("body", "status", "code", "says"),
    [
        ({"custom_scenario": {"toml": DEEP_TOML}}, 400, "invalid_scenario", "nested deeper than"),
        ('{"custom_scenario": ' + "[" * 3000 + "]" * 3000 + "}", 400, "bad_request", "nested deeper than"),
        ('{"custom_scenario": {"document": ' + "[" * 40 + "]" * 40 + "}}", 400, "bad_request", "nested deeper"),
        (
            {"custom_scenario": {"toml": CLASSIC_TOML.replace("after = 8", "after = inf")}},
            400,
            "invalid_scenario",
            "demand.after: must be a finite number",
        ),
        (
            {"custom_scenario": {"toml": CLASSIC_TOML.replace("after = 8", "after = 1e300")}},
            400,
            "invalid_scenario",
            "demand.after: must be at most",
        ),
        ('{"custom_scenario": {"document": {"weeks": 1e400}}}', 400, "bad_request", "too large"),
        ('{"custom_scenario": {"document": {"weeks": NaN}}}', 400, "bad_request", "NaN"),
        ('{"custom_scenario": {"toml": "a"}, "custom_scenario": {"toml": "b"}}', 400, "bad_request", "twice"),
    ],
    ids=["deep-toml", "deep-json", "deep-document", "after-inf", "after-1e300", "1e400", "nan", "key-twice"],
)
def test_own_scenarios_that_are_deep_huge_or_not_finite_are_refused(
    app: Any, body: Any, status: int, code: str, says: str
) -> None:
    http = app.test_client()
    for path in ("/api/scenarios/check", "/api/sessions"):
        kwargs = {"json": body} if isinstance(body, dict) else {"data": body, "content_type": "application/json"}
        before = snapshot(app)
        r = http.post(path, **kwargs)
        assert r.status_code == status, (path, r.data[:300])
        got = strict(r.data)["error"]
        assert got["code"] == code and says in got["message"], (path, got)
        assert snapshot(app) == before


def test_json_bodies_with_a_key_twice_are_refused(app: Any) -> None:
    before = snapshot(app)
    r = app.test_client().post("/api/sessions", data='{"teams": 1, "teams": 2}', content_type="application/json")
    assert r.status_code == 400 and r.json["error"]["code"] == "bad_request"
    assert "'teams'" in r.json["error"]["message"] and "twice" in r.json["error"]["message"]
    assert snapshot(app) == before


def test_an_event_payload_with_a_key_twice_is_refused(app: Any, setup: dict[str, Any]) -> None:
    client = socketio_of(app).test_client(app)
    server = socketio_of(app).server
    before = snapshot(app)
    server._handle_eio_message(client.eio_sid, '421["watch",{"code":"X","code":"' + setup["code"] + '"}]')
    got = client.get_received()
    assert [e["name"] for e in got] == ["error"], got
    assert got[0]["args"][0]["code"] == "bad_request" and "twice" in got[0]["args"][0]["message"]
    assert snapshot(app) == before


def test_no_answer_carries_non_strict_json(app: Any) -> None:
    assert strict(app.json.dumps({"a": math.inf, "b": [math.nan]})) == {"a": None, "b": [None]}
    assert strict(wire.dumps({"a": -math.inf, "r": wire.Raw({"x": 1})})) == {"a": None, "r": {"x": 1}}


def test_players_get_results_once_the_game_is_over(app: Any) -> None:
    http = app.test_client()
    s = http.post("/api/sessions", json={"teams": 1, "weeks": 2}).json
    sio = socketio_of(app)
    c = sio.test_client(app)
    token = c.emit("join", {"code": s["code"], "name": "Ada"}, callback=True)["token"]
    url = f"/api/sessions/{s['code']}/results.csv?token={token}"
    assert http.get(url).status_code == 403
    fac = sio.test_client(app)
    fac.emit("facilitate", {"code": s["code"], "secret": s["facilitator_secret"]}, callback=True)
    fac.emit("control", {"action": "start"}, callback=True)
    fac.emit("control", {"action": "end"}, callback=True)
    r = http.get(url)
    assert r.status_code == 200 and r.mimetype == "text/csv"
    assert http.get(f"/api/sessions/{s['code']}/results.csv?token=wrongtoken").status_code == 403


def test_every_event_and_every_action_has_one_handler() -> None:
    """The handler table and the control table name exactly what the payload shapes name."""
    assert set(events.HANDLERS) == set(payloads.EVENTS)
    assert set(rounds.CONTROLS) == set(payloads.ACTIONS)


def test_the_shape_of_a_control_is_checked_with_its_action() -> None:
    assert payloads.check_event({"action": "force_round", "week": 3}, "control") == {"action": "force_round", "week": 3}
    for body in ({"action": "bogus"}, {"action": "start", "week": 3}, {"action": "force_round"}):
        with pytest.raises(Exception) as err:
            payloads.check_event(body, "control")
        assert getattr(err.value, "code", None) == "bad_request", body
