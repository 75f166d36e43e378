"""The whole client surface of docs/PROTOCOL.md under random and malformed input (hypothesis).

Every Socket.IO event (and unknown and reserved names), every ``control`` action,
raw Socket.IO frames and every HTTP endpoint get payloads built to be wrong: not an
object, a required field missing, an unknown field, a field of the wrong type or out
of range, huge, deep, any unicode. Each must be answered with an error (a malformed
frame: an ``error`` event, or the documented silence), the stored state must stay
byte for byte as it was, no answer may be a 5xx, and nothing may log a traceback.
Also: long-polling bodies through the transport's door (``web.realtime.frames``: empty and unknown
packets, multibyte frames at and over the byte limit, bytes that are not UTF-8), own
scenarios deep, huge or not finite (TOML and JSON), JSON with a key twice or a number
that is not finite, and bursts of events across the rate limit's second.
Over ten thousand cases per run (``CASES``), derandomized (the same every run), in
process (fakeredis); the transport's own limits are tried over a real connection in
``test_transport_limits_over_the_network`` and ``tests/test_transport_guard.py``.
"""

from __future__ import annotations

import json
import logging
import math
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
import requests
import tomli_w
import websocket
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from support import free_port, seated_classic_team, server_env, start_server, stop_server
from test_scenario_ranges import full, with_value
from test_server_input import snapshot, strict

from game import ranges
from web import payloads
from web.app import socketio_of
from web.errors import CODES
from web.realtime.events import Connections
from web.realtime.frames import MAX_FRAME_BYTES

CASES = {"events": 2000, "unknown": 600, "frames": 1500, "http": 2500, "polling": 2000, "bursts": 1500}


def fuzz(name: str) -> settings:
    """``CASES[name]`` derandomized examples (the same inputs every run)."""
    return settings(
        max_examples=CASES[name],
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )


def test_a_run_tries_over_ten_thousand_inputs() -> None:
    assert sum(CASES.values()) >= 10_000


class Logs(logging.Handler):
    """Every record logged while installed (to find tracebacks and errors)."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def bad(self) -> list[str]:
        return [r.getMessage() for r in self.records if r.exc_info or r.levelno >= logging.ERROR]


@pytest.fixture(scope="module")
def world() -> Iterator[dict[str, Any]]:
    """A running session: one full team (so no join can succeed), week 1, the retailer
    decided; a facilitator, a player who has not decided, a stranger."""
    from web.app import create_app

    app = create_app({"TICKER": False, "REDIS_URL": "", "ASYNC_MODE": "threading", "RATE_LIMIT_PER_SECOND": 10**9})
    team = seated_classic_team(app, weeks=6, seed=3)
    http, fac, players = team["http"], team["fac"], team["players"]
    sio = socketio_of(app)
    assert fac.emit("control", {"action": "start"}, callback=True)["ok"]
    assert players["retailer"].emit("submit", {"week": 1, "value": 4}, callback=True)["ok"]
    logs = Logs()
    logging.getLogger().addHandler(logs)
    try:
        yield {
            "app": app,
            "http": http,
            "code": team["code"],
            "secret": team["secret"],
            "senders": {"facilitator": fac, "player": players["factory"], "decided": players["retailer"]},
            "stranger": sio.test_client(app),
            "logs": logs,
        }
    finally:
        logging.getLogger().removeHandler(logs)


# -- values -----------------------------------------------------------------------

json_scalar = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=40),
)
json_value = st.recursive(
    json_scalar,
    lambda inner: st.one_of(st.lists(inner, max_size=5), st.dictionaries(st.text(max_size=10), inner, max_size=5)),
    max_leaves=20,
)
huge = st.integers(min_value=2100, max_value=10_000).map(lambda n: "é" * n)  # escaped, a frame under 64 KiB
WRONG = {
    "int": st.one_of(
        st.floats(allow_nan=False, allow_infinity=False),
        st.text(max_size=8),
        st.booleans(),
        st.lists(st.integers(), max_size=2),
        st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
    ),
    "str": st.one_of(
        st.integers(), st.floats(allow_nan=False), st.booleans(), st.lists(st.text(max_size=3), max_size=2)
    ),
    "bool": st.one_of(
        st.integers(), st.text(max_size=5), st.floats(allow_nan=False), st.lists(st.booleans(), max_size=2)
    ),
    "obj": st.one_of(st.integers(), st.text(max_size=5), st.booleans(), st.lists(st.integers(), max_size=2)),
    "list": st.one_of(
        st.integers(), st.text(max_size=5), st.booleans(), st.dictionaries(st.text(max_size=3), st.integers())
    ),
    "any": st.one_of(st.integers(), st.floats(allow_nan=False), st.booleans(), st.lists(json_scalar, max_size=2)),
}
OUT_OF_RANGE = st.one_of(st.integers(max_value=-1), st.integers(min_value=2**31))


def templates(code: str) -> dict[str, dict[str, Any]]:
    """A well-formed payload of every event (and control action) that the mutations break."""
    out = {
        "join": {"code": code, "name": "Ada", "team": 1, "role": "retailer"},
        "resume": {"token": "t" * 32},
        "submit": {"week": 1, "value": 4},
        "choose_codp": {"position": "mto"},
        "choose_shop": {"mode": "mto"},
        "choose_deal": {"deal": True},
        "facilitate": {"code": code, "secret": "nope" * 8},
        "inspect": {"team": 1},
        "watch": {"code": code},
    }
    actions = {
        "start": {},
        "pause": {},
        "resume": {},
        "end": {},
        "force_round": {"week": 1, "team": 1},
        "set_timer": {"seconds": 60},
        "seat_to_bot": {"team": 1, "role": "factory"},
        "seat_to_human": {"team": 1, "role": "factory"},
        "reveal_end": {},
    }
    assert set(out) | {"control"} == set(payloads.EVENTS) and set(actions) == set(payloads.ACTIONS)
    for action, fields in actions.items():
        out[f"control:{action}"] = {"action": action, **fields}
    return out


def spec_of(name: str) -> payloads.Spec:
    if name.startswith("control:"):
        return {"action": ("str", True), **payloads.ACTIONS[name.split(":", 1)[1]]}
    return payloads.EVENTS[name]


@st.composite
def broken(draw: st.DrawFn, template: dict[str, Any], spec: payloads.Spec, ranged: bool = True) -> Any:
    """``template`` made wrong in one of the ways a payload can be wrong (never valid)."""
    ways = ["not_object", "extra", "wrong_type", "huge"]
    required = [k for k, (_, req) in spec.items() if req]
    if required:
        ways.append("missing")
    ints = [k for k, (kind, _) in spec.items() if kind == "int" and k in template]
    if ranged and ints:
        ways.append("out_of_range")
    way = draw(st.sampled_from(ways))
    body = dict(template)
    if way == "not_object":
        return draw(st.one_of(st.none(), json_scalar, st.lists(json_value, max_size=3)))
    if way == "extra":
        key = draw(st.text(max_size=12).filter(lambda k: k not in spec))
        body[key] = draw(json_value)
    elif way == "missing":
        del body[draw(st.sampled_from(required))]
    elif way == "wrong_type":
        key = draw(st.sampled_from(sorted(spec)))
        body[key] = draw(WRONG[spec[key][0]].filter(lambda v: v is not None))
    elif way == "huge":
        body[draw(st.text(min_size=1, max_size=5).filter(lambda k: k not in spec))] = draw(huge)
    else:
        body[draw(st.sampled_from(ints))] = draw(OUT_OF_RANGE)
    return body


def sent(world: dict[str, Any], client: Any, event: str, *args: Any) -> dict[str, Any]:
    """Emit and return the ack after checking it is a refusal with a documented code."""
    client.get_received()
    ack = client.emit(event, *args, callback=True)
    assert isinstance(ack, dict) and ack["ok"] is False, (event, args, ack)
    assert ack["error"]["code"] in CODES and ack["error"]["message"], ack
    errors = [e["args"][0] for e in client.get_received() if e["name"] == "error"]
    assert errors and errors[-1]["code"] == ack["error"]["code"], (event, errors)
    return ack


def unchanged(world: dict[str, Any], before: str) -> None:
    assert snapshot(world["app"]) == before
    assert world["logs"].bad() == []


# -- Socket.IO events ------------------------------------------------------------------


@fuzz("events")
@given(data=st.data())
def test_every_event_refuses_broken_payloads(world: dict[str, Any], data: st.DataObject) -> None:
    before = snapshot(world["app"])
    all_templates = templates(world["code"])
    name = data.draw(st.sampled_from(sorted(all_templates)), label="event")
    # out-of-range numbers are refused for a player only where the week is not theirs to decide
    sender = data.draw(st.sampled_from(sorted(world["senders"])), label="sender")
    body = data.draw(broken(all_templates[name], spec_of(name), ranged=sender != "player" or name != "submit"))
    event = name.split(":", 1)[0]
    sent(world, world["senders"][sender], event, body)
    unchanged(world, before)


@fuzz("unknown")
@given(
    event=st.one_of(st.sampled_from(["connect", "disconnect", "message", "json", "error", "*"]), st.text(max_size=30)),
    args=st.lists(json_value, max_size=3),
    who=st.sampled_from(["facilitator", "player", "decided", "stranger"]),
)
def test_unknown_reserved_and_misshapen_calls_are_refused(
    world: dict[str, Any], event: str, args: list[Any], who: str
) -> None:
    client = world["stranger"] if who == "stranger" else world["senders"][who]
    if event in payloads.EVENTS and len(args) == 1 and isinstance(args[0], dict):
        args = [{**args[0], "\x00unknown": 1}]  # a known event: keep it broken
    before = snapshot(world["app"])
    sent(world, client, event, *args)
    unchanged(world, before)


@st.composite
def raw_frames(draw: st.DrawFn) -> str:
    """Socket.IO text frames: wrong types, broken JSON, deep nesting, binary headers, other namespaces."""
    depth = draw(st.integers(min_value=1, max_value=3000))
    event = draw(st.sampled_from([*sorted(payloads.EVENTS), "disconnect", "connect", "x"]))
    return draw(
        st.one_of(
            st.text(max_size=60),
            st.text(max_size=60).map(lambda t: "42" + t),
            st.text(max_size=60).map(lambda t: "4" + t),
            st.just(f'42["{event}",' + "[" * depth + "]" * depth + "]"),
            st.just(f'42["{event}",' + "[" * depth),
            st.just("4" + "{" * depth),
            json_value.map(lambda v: "42" + json.dumps(v)),
            json_value.map(lambda v: f'42["{event}",{json.dumps(v)},{json.dumps(v)}]'),
            st.integers(min_value=0, max_value=9).map(lambda n: f'45{n}-["{event}",{{"_placeholder":true,"num":0}}]'),
            st.sampled_from(["40/admin,", "41/admin,", "40{", "41", "43[]", "431[]", "44", "49", "4", ""]),
            st.sampled_from(ODD_JSON).map(lambda v: f'421["{event}",{{"week":{v},"value":{v}}}]'),
            st.just(f'421["{event}",{{"code":"A","code":"B","week":1,"week":2}}]'),  # a key twice
            st.sampled_from(NEAR_LIMIT).map(lambda n: multibyte(n, event)),
        )
    )


ODD_JSON = ["NaN", "Infinity", "-Infinity", "1e400", "-1e999", "1" * 5000, "0.0", "-0", "1E2"]
NEAR_LIMIT = [MAX_FRAME_BYTES - 1, MAX_FRAME_BYTES, MAX_FRAME_BYTES + 1, MAX_FRAME_BYTES + 2]


def multibyte(size: int, event: str) -> str:
    """A Socket.IO frame whose WebSocket message (with Engine.IO's type byte) is ``size`` bytes,
    mostly two-byte characters (fewer characters than bytes)."""
    head, tail = f'421["{event}",{{"x":"', '"}]'
    room = size - 1 - len(head) - len(tail)
    return head + "é" * (room // 2) + "x" * (room % 2) + tail


@fuzz("frames")
@given(frames=st.lists(raw_frames(), min_size=1, max_size=3))
def test_raw_frames_change_nothing_and_log_no_traceback(world: dict[str, Any], frames: list[str]) -> None:
    app = world["app"]
    before = snapshot(app)
    client = socketio_of(app).test_client(app)
    server = socketio_of(app).server
    for frame in frames:
        server._handle_eio_message(client.eio_sid, frame)
    for e in client.get_received():
        if e["name"] == "error":
            assert e["args"][0]["code"] in CODES
    if client.is_connected():  # a frame may end the connection itself (a disconnect packet, say)
        client.disconnect()
    unchanged(world, before)
    assert world["senders"]["facilitator"].emit("inspect", {"team": 1}, callback=True)["ok"]


# -- HTTP --------------------------------------------------------------------------


SESSION_TEMPLATE = {
    "scenario": "classic",
    "teams": 2,
    "weeks": 10,
    "seed": 1,
    "round_seconds": 60,
    "codp": {"rule": "fixed"},
    "visibility": {"pos_demand": True},
    "bot_policy": "sterman",
}


@st.composite
def http_requests(draw: st.DrawFn, code: str) -> tuple[str, str, dict[str, Any]]:
    """(method, path, requests-like kwargs) that must all be refused."""
    kind = draw(st.sampled_from(["create", "create_raw", "info", "results", "benchmark", "other", "own", "own"]))
    if kind == "own":
        path = draw(st.sampled_from(["/api/scenarios/check", "/api/sessions"]))
        return "POST", path, draw(bad_scenarios())
    if kind == "create":
        body = draw(broken(SESSION_TEMPLATE, payloads.SESSION))
        if isinstance(body, dict) and draw(st.booleans()):  # or break a nested object
            key = draw(st.sampled_from(["codp", "visibility"]))
            spec = payloads.CODP if key == "codp" else {"pos_demand": ("bool", False)}
            body[key] = draw(broken(SESSION_TEMPLATE[key], spec).filter(lambda b: b is not None))
        return "POST", "/api/sessions", {"json": body}
    if kind == "create_raw":
        depth = draw(st.integers(min_value=1, max_value=5000))
        raw = draw(st.one_of(st.binary(max_size=200), st.just(b"[" * depth), st.just(b'{"teams":' * depth)))
        return "POST", "/api/sessions", {"data": raw, "content_type": "application/json"}
    # (a "/" in a code would be another path, which the router may redirect)
    other = quote(draw(st.text(min_size=1, max_size=12).filter(lambda c: c.strip().upper() != code and "/" not in c)))
    which = draw(st.sampled_from([code, other]))
    secret = draw(st.one_of(st.just(""), st.text(st.characters(exclude_characters="\r\n"), max_size=300)))
    token = draw(st.text(max_size=300))
    if kind == "info":
        return "GET", f"/api/sessions/{other}", {}
    if kind == "results":
        ext = draw(st.sampled_from(["json", "csv"]))
        headers = {"X-Facilitator-Secret": secret.encode("utf-8", "replace").decode("latin-1")} if secret else {}
        return "GET", f"/api/sessions/{which}/results.{ext}", {"headers": headers, "query_string": {"token": token}}
    if kind == "benchmark":
        team = draw(
            st.one_of(
                st.integers(min_value=-5, max_value=99).map(str),
                st.text(max_size=5).filter(lambda t: "/" not in t).map(quote),
            )
        )
        return "GET", f"/debrief/{which}/benchmark/{team}.json", {"query_string": {"token": token}}
    method = draw(st.sampled_from(["PUT", "DELETE", "PATCH"]))
    path = draw(st.sampled_from(["/api/sessions", f"/api/sessions/{code}", "/healthz", "/api/scenarios", "/api/x"]))
    return method, path, {"json": draw(json_value)}


DEEP = st.integers(min_value=17, max_value=3000)


@st.composite
def bad_scenarios(draw: st.DrawFn) -> dict[str, Any]:
    """Bodies with an own scenario that must be refused: deep TOML and JSON, a number out of its
    range or not finite, a key twice, a JSON number that is not finite (requests-like kwargs)."""
    way = draw(st.sampled_from(["deep_toml", "deep_tables", "deep_json", "value", "value", "twice", "odd"]))
    if way == "deep_toml":
        n = draw(DEEP)
        return {"json": {"custom_scenario": {"toml": "x = " + "[" * n + "]" * n}}}
    if way == "deep_tables":
        n = draw(st.integers(min_value=17, max_value=700))
        return {"json": {"custom_scenario": {"toml": "[" + ".".join(["t"] * n) + "]\nx = 1\n"}}}
    if way == "deep_json":
        n = draw(DEEP)
        raw = '{"custom_scenario": {"document": ' + "[" * n + "]" * n + "}}"
        return {"data": raw, "content_type": "application/json"}
    if way == "twice":
        return {
            "data": '{"custom_scenario": {"toml": "a"}, "custom_scenario": {"toml": "b"}}',
            "content_type": "application/json",
        }
    if way == "odd":
        raw = '{"custom_scenario": {"document": {"weeks": ' + draw(st.sampled_from(ODD_JSON[:5])) + "}}}"
        return {"data": raw, "content_type": "application/json"}
    key = draw(st.sampled_from(sorted(ranges.RANGES)))
    rng = ranges.RANGES[key]
    value = draw(
        st.one_of(
            st.sampled_from([math.inf, -math.inf, math.nan, 1e300, -1e300, 10**30, -(10**30)]),
            st.floats(min_value=rng.hi, exclude_min=True, allow_infinity=False),
            st.floats(max_value=rng.lo, exclude_max=True, allow_infinity=False),
            st.integers(min_value=int(rng.hi) + 1),
            st.integers(max_value=int(rng.lo) - 1),
        )
    )
    doc, _ = with_value(full(), key, value)
    if (isinstance(value, float) and not math.isfinite(value)) or draw(st.booleans()):
        return {"json": {"custom_scenario": {"toml": tomli_w.dumps(doc), "file": "mine.toml"}}}
    return {"json": {"custom_scenario": {"document": doc}}}


@fuzz("http")
@given(data=st.data())
def test_every_http_endpoint_refuses_broken_requests_with_json(world: dict[str, Any], data: st.DataObject) -> None:
    before = snapshot(world["app"])
    method, path, kwargs = data.draw(http_requests(world["code"]))
    r = world["http"].open(path, method=method, **kwargs)
    assert 400 <= r.status_code < 500, (method, path, str(kwargs)[:300], r.status_code, r.data[:200])
    if path.startswith("/api/") or path == "/healthz":
        assert r.is_json and strict(r.data)["error"]["code"] in CODES, (path, r.data[:200])
    unchanged(world, before)


# -- the transport's door: long-polling bodies -----------------------------------------


PACKETS = ["", "0", "2", "6", "7", "9", "b", "bAAAA", "b!!", "3", "5", "x", "d=4x", "40", "41", "1"]


@st.composite
def polling_bodies(draw: st.DrawFn) -> bytes:
    """Long-polling POST bodies: Engine.IO packets of every type, empty ones, Socket.IO frames,
    multibyte frames at and over the byte limit, bytes that are not UTF-8, too many packets."""
    if draw(st.integers(min_value=0, max_value=9)) == 0:
        return draw(st.binary(max_size=200))
    packet = st.one_of(
        st.sampled_from(PACKETS),
        st.text(max_size=20),
        raw_frames().map(lambda f: "4" + f),
    )
    parts = draw(st.lists(packet, min_size=1, max_size=10))
    return "\x1e".join(parts).encode("utf-8", "surrogatepass")


def polling_sid(world: dict[str, Any]) -> str:
    """An open Engine.IO long-polling connection of ``world`` (a new one once a body closed it)."""
    eio = socketio_of(world["app"]).server.eio
    sid = world.get("polling")
    if sid is None or sid not in eio.sockets or eio.sockets[sid].closed:
        r = world["http"].get("/socket.io/?EIO=4&transport=polling")
        sid = world["polling"] = json.loads(r.data[1:])["sid"]
        world["http"].post(f"/socket.io/?EIO=4&transport=polling&sid={sid}", data=b"40")
    return sid


@fuzz("polling")
@given(body=polling_bodies())
def test_long_polling_bodies_are_answered_at_once_and_change_nothing(world: dict[str, Any], body: bytes) -> None:
    before = snapshot(world["app"])
    sid = polling_sid(world)
    r = world["http"].post(f"/socket.io/?EIO=4&transport=polling&sid={sid}", data=body)
    assert r.status_code in (200, 400), (body[:200], r.status_code)
    if len(body) > MAX_FRAME_BYTES:
        assert r.status_code == 400
    unchanged(world, before)


# -- the rate limit ---------------------------------------------------------------------


@fuzz("bursts")
@given(
    per_second=st.integers(min_value=1, max_value=30),
    start=st.floats(min_value=0, max_value=1e5),
    gaps=st.lists(
        st.one_of(st.just(0.0), st.floats(min_value=0, max_value=0.05), st.floats(min_value=0.05, max_value=1.5)),
        min_size=1,
        max_size=150,
    ),
)
def test_bursts_across_the_rate_limits_second(per_second: int, start: float, gaps: list[float]) -> None:
    """No second, wherever it starts, lets more than the allowance through; an event is
    refused only when the second before it already let the allowance through."""
    conns, now, seen = Connections(), start, []
    for gap in gaps:
        now += gap
        seen.append((now, conns.allow("sid", now, per_second)))
    let = [t for t, ok in seen if ok]
    for k, t in enumerate(let):
        assert sum(1 for u in let[k:] if u - t < 1.0) <= per_second
    for t, ok in seen:
        if not ok:
            assert sum(1 for u in let if 0 <= t - u < 1.0) == per_second


# -- the transport ----------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.redis
def test_transport_limits_over_the_network(redis_url: str, tmp_path: Path) -> None:
    """Over a real WebSocket: anything up to the documented frame limit is answered,
    a frame over it closes the connection, and the server logs no traceback."""
    port = free_port()
    log = tmp_path / "server.log"
    proc = start_server([sys.executable, "-m", "web"], server_env(redis_url, port), port, log)
    try:
        base = f"http://127.0.0.1:{port}"
        code = requests.post(f"{base}/api/sessions", json={"teams": 1}, timeout=10).json()["code"]
        ws = websocket.create_connection(f"ws://127.0.0.1:{port}/socket.io/?EIO=4&transport=websocket", timeout=10)
        assert ws.recv().startswith("0")
        ws.send("40")
        assert ws.recv().startswith("40")

        def answer(frame: str, ack_id: int | None) -> str:
            """The ack of ``frame`` (``ack_id``), or for a malformed frame its ``error`` event."""
            ws.send(frame)
            while True:
                got = ws.recv()
                if got == "2":  # engine.io ping
                    ws.send("3")
                elif (ack_id is not None and got.startswith(f"43{ack_id}[")) or (
                    ack_id is None and got.startswith('42["error"')
                ):
                    return got

        limit = 64 * 1024
        pad = "x" * (limit - 200)
        assert '"bad_request"' in answer('421["watch",{"code":"' + pad + '"}]', 1)  # just under the limit
        assert '"event":null' in answer('42["join",' + "[" * 30_000 + "]" * 30_000 + "]", None)  # deep, under it
        assert '"bad_request"' in answer('423["disconnect",{}]', 3)
        assert '"unknown_session"' in answer('424["watch",{"code":"NOPE99"}]', 4)
        assert '"code":"' + code + '"' in answer(f'425["watch",{{"code":"{code}"}}]', 5)
        ws.send('426["watch",{"code":"' + "y" * (limit + 10) + '"}]')  # over the limit
        for _ in range(20):  # the server closes the WebSocket (a close frame reads as "")
            got = ws.recv()
            assert not got.startswith("436"), got
            if got == "":
                break
            if got == "2":
                ws.send("3")
        assert got == ""
        ws.close()
        assert requests.get(f"{base}/healthz", timeout=10).status_code == 200
    finally:
        stop_server(proc)
    text = log.read_text(errors="replace")
    assert "Traceback" not in text, text[-3000:]
