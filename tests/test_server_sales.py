"""A session of a scenario with a sales seat: the seat is played by the bots' promise
(``game.sales.bot_promise``) every week, and the debrief's records carry the promise."""

from __future__ import annotations

import json
from typing import Any

import pytest
from test_server_game import Game

from game.engine import quote
from game.scenario import load_scenario
from game.state import GameState


@pytest.fixture
def app(make_app: Any, redis_url: str) -> Any:
    return make_app(redis_url, DISCONNECT_GRACE_SECONDS=10)


def test_the_bots_promise_in_an_empty_sales_seat(app: Any) -> None:
    game = Game(app, scenario="order-acceptance", weeks=10)
    game.control(action="start")
    scn = load_scenario("order-acceptance")
    promised = []
    for week in range(1, 8):
        state = GameState.from_dict(json.loads(game.team()["state"]))
        promised.append(min(int(-(-quote(scn, state, "retailer") // 1)) + scn.sales.margin, scn.sales.max_promise))
        game.control(action="force_round", week=week)
    weeks = game.records()
    assert [w["roles"]["retailer"]["promise"] for w in weeks] == [scn.sales.promise, *promised[:6]]
    assert set(promised) != {scn.sales.promise}  # the bots' promise moves with the chain's quote
    assert all("broken" in w["roles"]["retailer"] and "promise_cost" in w["roles"]["retailer"] for w in weeks)
