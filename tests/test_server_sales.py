"""A session of a scenario with a sales seat: the seat is played by the bots' promise
(``game.sales.bot_promise``) every week, and the debrief's records carry the promise."""

from __future__ import annotations

from typing import Any

import pytest
from test_server_game import Game

from game.engine import quote
from game.scenario import load_scenario


@pytest.fixture
def app(make_app: Any, redis_url: str) -> Any:
    return make_app(redis_url, DISCONNECT_GRACE_SECONDS=10)


def test_the_bots_promise_in_an_empty_sales_seat(app: Any) -> None:
    game = Game(app, scenario="order-acceptance", weeks=10)
    game.control(action="start")
    scn = load_scenario("order-acceptance")
    promised = []
    for week in range(1, 8):
        state = game.team().state
        promised.append(min(int(-(-quote(scn, state, "retailer") // 1)) + scn.sales.margin, scn.sales.max_promise))
        game.control(action="force_round", week=week)
    weeks = game.records()
    assert [w["roles"]["retailer"]["promise"] for w in weeks] == [scn.sales.promise, *promised[:6]]
    assert set(promised) != {scn.sales.promise}  # the bots' promise moves with the chain's quote
    assert all("broken" in w["roles"]["retailer"] and "promise_cost" in w["roles"]["retailer"] for w in weeks)


def test_a_player_takes_the_sales_seat(app: Any) -> None:
    game = Game(app, scenario="order-acceptance", weeks=10)
    scn = load_scenario("order-acceptance")
    first, ack = game.join("Ann")  # any free seat: the consumer end first, the sales seat last
    assert ack["role"] == "retailer"
    sales, ack = game.join("Sam", role="sales")
    assert ack["role"] == "sales" and not ack["shared"]
    assert game.control(action="start")["ok"]
    st = sales.last("state")
    assert st["seat"]["role"] == "sales" and st["seat"]["label"] == "Sales" and st["seat"]["bot"] is False
    me = st["view"]["me"]
    state = game.team().state
    assert me["bounds"] == [0, scn.sales.max_promise] and me["promise"] == scn.sales.promise
    assert me["quote"] == pytest.approx(quote(scn, state, "retailer"), abs=0.01)
    assert set(me["capacity"]) == {"manufacturer", "wholesaler", "retailer"}
    assert "on_hand" not in me and "inventories" not in st["view"]  # a stage's stock is not the seat's to see
    assert st["team"]["bots"] == ["supplier", "manufacturer", "wholesaler"]  # the two seats players took are not
    # a promise outside the seat's bounds is refused with a stable code; the week does not move
    bad = sales.call("submit", {"week": 1, "value": scn.sales.max_promise + 1})
    assert bad["ok"] is False and bad["error"]["code"] == "out_of_bounds"
    assert game.week() == 1
    first.call("submit", {"week": 1, "value": 10})
    ok = sales.call("submit", {"week": 1, "value": 6})
    assert ok == {"ok": True, "week": 1, "value": 6, "previous": None}
    assert game.week() == 2  # both humans decided: the week was played once
    first.call("submit", {"week": 2, "value": 10})
    sales.call("submit", {"week": 2, "value": 9})
    assert game.week() == 3
    weeks = game.records()
    # the week-1 customers get the promise in force; the seat's promise holds from week 2 on
    assert [w["roles"]["retailer"]["promise"] for w in weeks] == [scn.sales.promise, 6]
    assert all("sales" not in w["bots"] for w in weeks)
    st = sales.last("state")
    assert st["view"]["me"]["promise"] == 9
    assert [h["promise"] for h in st["history"]][:2] == [scn.sales.promise, 6]
