"""A server session with sharing on: its empty seats play the sharing-aware bots, and the
results carry the bullwhip bound for what was shared."""

from __future__ import annotations

import json
from typing import Any

import pytest
from test_server_game import Game

from game.scenario import load_scenario
from game.scoring import bullwhip_bounds
from game.simulate import simulate


@pytest.fixture
def app(make_app: Any, redis_url: str) -> Any:
    return make_app(redis_url, DISCONNECT_GRACE_SECONDS=10)


@pytest.mark.parametrize("shared", [True, False])
def test_bots_in_a_shared_session_play_as_the_sharing_aware_engine_bots(app: Any, shared: bool) -> None:
    vis = {"pos_demand": shared, "inventories": shared, "pipelines": shared}
    game = Game(app, scenario="classic-random", weeks=6, visibility=vis, bot_policy="base_stock")
    retailer, _ = game.join("Ada", team=1, role="retailer")
    assert game.control(action="start")["ok"]
    orders = [3, 9, 0, 7, 5, 4]
    for w, value in enumerate(orders, 1):
        assert retailer.call("submit", {"week": w, "value": value})["ok"]
    scn = load_scenario("classic-random")
    expected = simulate(scn, 7, "base_stock", orders={"retailer": orders}, weeks=6, visibility=vis)
    assert [w["roles"] for w in game.records()] == json.loads(json.dumps([w["roles"] for w in expected.weeks]))
    blind = simulate(scn, 7, "base_stock", orders={"retailer": orders}, weeks=6)
    assert (expected.weeks != blind.weeks) is shared
    r = game.http.get(f"/api/sessions/{game.code}/results.json", headers={"X-Facilitator-Secret": game.secret})
    body = r.json
    assert body["visibility"] == vis
    stages = body["teams"][0]["score"]["stages"]
    bounds = {role: st["bullwhip_bound"] for role, st in stages.items()}
    assert bounds == pytest.approx(bullwhip_bounds(scn, shared), abs=1e-4)  # the results round ratios to 4 decimals


def test_a_bot_policy_naming_a_role_the_scenario_lacks_is_refused(app: Any) -> None:
    r = app.test_client().post("/api/sessions", json={"scenario": "classic", "bot_policy": "base_stock:level_shop=3"})
    assert r.status_code == 400
    assert r.json["error"]["code"] == "bad_request" and "shop" in r.json["error"]["message"]
    ok = app.test_client().post(
        "/api/sessions", json={"scenario": "classic", "bot_policy": "base_stock:level_factory=3"}
    )
    assert ok.status_code == 201
