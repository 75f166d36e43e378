"""Visibility: a role's view holds its own situation and only what the options share."""

from __future__ import annotations

import copy
import itertools
import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from game.codp import apply_codp
from game.engine import quote, step
from game.observe import observe
from game.scenario import Scenario, load_scenario
from game.scoring import score_game
from game.simulate import simulate
from game.start import new_game
from game.state import GameState
from game.visibility import facilitator_view, options, public_view, view

ECOMMERCE = Path(__file__).parent / "scenarios" / "ecommerce.toml"
BASE_KEYS = {"role", "label", "week", "end_known", "done", "codp", "visibility", "chain", "me", "outgoing", "history"}
FLAGS = ("pos_demand", "inventories", "pipelines")
SENTINEL = 987_654_321


def _play(scn: Scenario, weeks: int, seed: int = 3) -> tuple[GameState, list[dict[str, Any]]]:
    """A game at the decision point of week ``weeks + 1`` and the history of the weeks before."""
    state = new_game(scn, seed)
    history = []
    for w in range(weeks):
        decisions = {r: (5 + 3 * w + 2 * k) % 11 for k, r in enumerate(scn.roles)}
        week = state.week
        state, events = step(scn, state, decisions)
        history.append({"week": week, "roles": dict(zip(scn.roles, events, strict=True))})
    return state, history


@pytest.fixture(scope="module")
def game():
    scn = load_scenario(ECOMMERCE)
    state, history = _play(scn, 6)
    return scn, state, history


def _dump(obj: Any) -> str:
    return json.dumps(obj, allow_nan=False, sort_keys=True)


def _keys(obj: Any) -> set[str]:
    if isinstance(obj, dict):
        return set(obj) | set().union(*(_keys(v) for v in obj.values()))
    if isinstance(obj, list):
        return set().union(*(_keys(v) for v in obj))
    return set()


def _hide_secrets(scn: Scenario, state: GameState, history: list[dict], role: str) -> tuple[GameState, list[dict]]:
    """Copies where everything ``role`` may not see (with every option off) is a sentinel:
    other stages' stock, backlog, pipelines and customers, future demand, the seed and
    other roles' events. Left alone: what the supplier owes ``role`` (its supply line) and
    the goods ``role`` shipped that are still on their way (its customers' goods in transit)."""
    me = scn.index(role)
    topo = scn.topology
    s2 = GameState.from_dict(copy.deepcopy(state.to_dict()))
    s2.seed = SENTINEL
    s2.demand = [
        copy.deepcopy(row) if w < state.week else [[SENTINEL] * len(c) for c in row]
        for w, row in enumerate(state.demand)
    ]
    for j, st in enumerate(s2.stages):
        if j == me:
            continue
        st.on_hand = st.wip = SENTINEL
        st.order_q = [SENTINEL] * len(st.order_q)
        if topo.supplier[j] != me:
            st.ship_q = [SENTINEL] * len(st.ship_q)
        st.deliveries = [SENTINEL] * len(st.deliveries)
        st.open_orders = [[1, SENTINEL, 0, 1.0, SENTINEL]]
        st.owed = [x if (j == topo.supplier[me] and k == topo.slot[me]) else SENTINEL for k, x in enumerate(st.owed)]
        s2.events[j] = {k: (SENTINEL if isinstance(v, int | float) else v) for k, v in s2.events[j].items()}
    h2 = []
    for rec in history:
        roles = {r: (dict(ev) if r == role else {k: SENTINEL for k in ev}) for r, ev in rec["roles"].items()}
        h2.append({"week": rec["week"], "roles": roles})
    return s2, h2


@pytest.mark.parametrize("role", ["manufacturer", "wholesaler", "ecommerce", "retailer"])
def test_view_does_not_depend_on_anything_hidden(game, role):
    scn, state, history = game
    off = dict.fromkeys(FLAGS, False)
    before = view(scn, state, role, off, history)
    s2, h2 = _hide_secrets(scn, state, history, role)
    after = view(scn, s2, role, off, h2)
    assert after == before
    assert str(SENTINEL) not in _dump(after)
    # the sentinels are really there: sharing everything reveals them
    assert str(SENTINEL) in _dump(view(scn, s2, role, dict.fromkeys(FLAGS, True), h2))


@pytest.mark.parametrize("role", ["manufacturer", "retailer"])
def test_future_demand_and_seed_never_shown_even_with_every_option_on(game, role):
    scn, state, history = game
    on = dict.fromkeys(FLAGS, True)
    s2 = state.copy()
    s2.seed = SENTINEL
    s2.demand = [
        row if w < state.week else [[SENTINEL + w] * len(c) for c in row] for w, row in enumerate(state.demand)
    ]
    text = _dump(view(scn, s2, role, on, history))
    assert str(SENTINEL)[:6] not in text
    assert "seed" not in _keys(json.loads(text))


@pytest.mark.parametrize("flags", list(itertools.product([False, True], repeat=3)))
def test_option_keys_present_only_when_on(game, flags):
    scn, state, history = game
    chosen = dict(zip(FLAGS, flags, strict=True))
    for role in scn.roles:
        v = view(scn, state, role, chosen, history)
        _dump(v)  # strict JSON
        assert set(v) == BASE_KEYS | {k for k, on in chosen.items() if on}
        assert v["visibility"] == chosen
        for key in ("inventories", "pipelines"):
            if chosen[key]:
                assert set(v[key]) == set(scn.roles) - {role}


def test_own_observation_and_history(game):
    scn, state, history = game
    v = view(scn, state, "wholesaler", None, history)
    assert v["me"] == json.loads(json.dumps(observe(scn, state, "wholesaler")))
    assert [h["week"] for h in v["history"]] == list(range(1, state.week + 1))  # current week included
    for h, rec in zip(v["history"], history, strict=False):
        assert {k: x for k, x in h.items() if k != "week"} == rec["roles"]["wholesaler"]
    assert v["history"][-1]["order"] is None  # this week's decision is still to come
    assert v["history"][-1]["received"] == state.events[scn.index("wholesaler")]["received"]


def test_history_beyond_the_current_week_is_ignored(game):
    scn, state, history = game
    later, later_history = _play(scn, 9)
    v = view(scn, state, "retailer", None, later_history)
    assert [h["week"] for h in v["history"]] == list(range(1, state.week + 1))
    assert v["history"][:-1] == view(scn, state, "retailer", None, history)["history"][:-1]
    assert later.week > state.week


def test_pos_demand_is_this_and_past_weeks_only(game):
    scn, state, history = game
    v = view(scn, state, "manufacturer", {"pos_demand": True}, history)
    assert [p["week"] for p in v["pos_demand"]] == list(range(1, state.week + 1))
    for p in v["pos_demand"]:
        row = state.demand[p["week"] - 1]
        assert p["by_channel"] == {"ecommerce": sum(row[0]), "retailer": sum(row[1])}
        assert p["demand"] == sum(map(sum, row))
    # the retailer sees its own channel's consumers in its history, not the web shop's
    r = view(scn, state, "retailer", None, history)
    assert "pos_demand" not in r
    assert [h["demand"] for h in r["history"]] == [sum(state.demand[w][1]) for w in range(state.week)]


def test_inventories_and_pipelines_are_the_other_stages_numbers(game):
    scn, state, history = game
    v = view(scn, state, "retailer", {"inventories": True, "pipelines": True}, history)
    for role in ("manufacturer", "wholesaler", "ecommerce"):
        s = state.stages[scn.index(role)]
        assert v["inventories"][role] == {"on_hand": s.on_hand, "backlog": sum(s.owed), "wip": s.wip}
        assert v["pipelines"][role] == {"orders_in_mail": s.order_q, "on_the_way": s.ship_q}
    v = view(scn, state, "retailer", {"inventories": True}, history)
    assert "pipelines" not in v
    assert all(set(x) == {"on_hand", "backlog", "wip"} for x in v["inventories"].values())


@pytest.mark.parametrize("role", ["manufacturer", "wholesaler", "retailer", "ecommerce"])
def test_outgoing_is_what_the_role_shipped_still_on_its_way(game, role):
    scn, state, history = game
    v = view(scn, state, role, None, history)
    customers = [c.role for c in scn.stages if c.supplier == role]
    assert set(v["outgoing"]) == set(customers)
    for c in customers:
        assert v["outgoing"][c] == state.stages[scn.index(c)].ship_q
        # the customer's own view of the same link: what it has on the way
        assert view(scn, state, c, None, history)["me"]["on_the_way"] == v["outgoing"][c]
    assert any(sum(goods) for goods in v["outgoing"].values()) or not customers


def test_chain_names_the_variants_and_regions_each_role_stocks():
    presets = Path(__file__).parent.parent / "config" / "scenarios"
    regional = load_scenario(presets / "decoupling-point.toml")
    stages = {c["role"]: c for c in view(regional, new_game(regional, 1), "retailer")["chain"]}
    assert stages["retailer"]["regions"] == [r.name for r in regional.regions] and len(regional.regions) == 4
    assert all("regions" not in c and "variants" not in c for r, c in stages.items() if r != "retailer")
    colours = load_scenario(presets / "product-leadership.toml")
    stages = {c["role"]: c for c in view(colours, new_game(colours, 1), "supplier")["chain"]}
    names = [v.name for v in colours.product.variants]
    diff = colours.product.differentiation_stage
    below = {"wholesaler", "retailer"}
    assert stages[diff]["finishes"] is True and stages[diff]["variants"] == names
    assert all(stages[r]["variants"] == names and "finishes" not in stages[r] for r in below)
    assert "variants" not in stages["supplier"] and "finishes" not in stages["supplier"]
    classic = load_scenario(presets / "classic.toml")
    for c in view(classic, new_game(classic, 1), "retailer")["chain"]:
        assert set(c) == {"role", "label", "supplier", "consumer_facing", "mode"}


def test_session_options_override_the_scenario():
    scn = load_scenario("classic")
    open_scn = replace(scn, visibility=dict.fromkeys(FLAGS, True))
    assert options(open_scn) == dict.fromkeys(FLAGS, True)
    assert options(open_scn, {"inventories": False}) == {"pos_demand": True, "inventories": False, "pipelines": True}
    state = new_game(open_scn, 0)
    assert "inventories" not in view(open_scn, state, "retailer", {"inventories": False})
    assert "inventories" in view(open_scn, state, "retailer")
    assert "inventories" not in view(scn, state, "retailer")
    with pytest.raises(ValueError, match="unknown visibility option"):
        view(scn, state, "retailer", {"everything": True})


def test_view_of_a_finished_game():
    scn = load_scenario("classic")
    res = simulate(scn, policy="sterman")
    v = view(scn, res.state, "factory", {"pos_demand": True}, res.weeks)
    assert v["done"] and len(v["history"]) == scn.weeks and len(v["pos_demand"]) == scn.weeks
    assert all(h["order"] is not None for h in v["history"])


def test_facilitator_sees_every_stage_but_no_future_demand_or_seed(game):
    scn, state, history = game
    s2 = state.copy()
    s2.seed = SENTINEL
    s2.demand = [row if w < state.week else [[SENTINEL] * len(c) for c in row] for w, row in enumerate(state.demand)]
    f = facilitator_view(scn, s2, history)
    text = _dump(f)
    assert str(SENTINEL) not in text and "seed" not in _keys(f)
    assert set(f["stages"]) == set(scn.roles)
    for role in scn.roles:
        s = state.stages[scn.index(role)]
        assert f["stages"][role]["on_hand"] == s.on_hand and f["stages"][role]["orders_in_mail"] == s.order_q
    assert len(f["pos_demand"]) == state.week
    assert [w["week"] for w in f["history"]] == list(range(1, state.week + 1))
    full = [*history, {"week": state.week, "roles": dict(zip(scn.roles, state.events, strict=True))}]
    assert f["score"]["totals"] == score_game(scn, full)["totals"]


def test_public_view_is_week_cost_and_profit_only(game):
    scn, state, history = game
    p = public_view(scn, state, history)
    assert set(p) == {"week", "end_known", "done", "cost", "profit"}
    events = [ev for rec in history for ev in rec["roles"].values()] + list(state.events)
    cost = sum(ev["cost"] for ev in events)
    revenue = sum(ev.get("revenue", 0) for ev in events)
    assert p["cost"] == pytest.approx(cost) and p["profit"] == pytest.approx(revenue - cost)
    assert p["week"] == state.week and p["cost"] > 0


def test_an_endless_quoted_wait_is_sent_as_null():
    shop = load_scenario(Path(__file__).parent / "scenarios" / "shop.toml")
    scn = shop.with_stages((replace(shop.stages[0], mode="mto", capacity=0),))
    state, history = _play(scn, 0)
    state, events = step(scn, state, {"shop": 0})
    assert quote(scn, state, "shop") == float("inf")  # no capacity: the wait never ends
    assert events[0]["quoted_lead_time"] is None  # events stay strict JSON
    history = [{"week": 1, "roles": {"shop": events[0]}}]
    v = view(scn, state, "shop", None, history)
    assert v["history"][0]["quoted_lead_time"] is None
    _dump(v)
    _dump(facilitator_view(scn, state, history))


@pytest.mark.parametrize("name", ["decoupling-point", "product-leadership", "segments"])
def test_pos_demand_is_every_consumer_with_the_breakdown_per_stock_point(name: str) -> None:
    """All regions and variants: the week's total is the whole demand table row, the
    breakdown one entry per stock point that sells to consumers."""
    scn = load_scenario(name)
    state, _ = _play(scn, 20)
    net = scn.network
    for p in view(scn, state, scn.roles[0], {"pos_demand": True})["pos_demand"]:
        row = state.demand[p["week"] - 1]
        assert p["demand"] == sum(map(sum, row)) == sum(p["by_channel"].values()) == sum(p["breakdown"].values())
        assert list(p["breakdown"]) == [net.nodes[i].label for i in net.facing]
        assert p["breakdown"] == {net.nodes[i].label: sum(row[net.channel[i]]) for i in net.facing}


def test_pos_demand_per_channel_on_a_chain_that_sells_twice() -> None:
    scn = load_scenario("ecommerce")
    state, _ = _play(scn, 5)
    for p in view(scn, state, "manufacturer", {"pos_demand": True})["pos_demand"]:
        row = state.demand[p["week"] - 1]
        assert p["by_channel"] == {"retailer": sum(row[0]), "ecommerce": sum(row[1])} == p["breakdown"]


def test_pos_demand_shows_what_the_point_of_sale_accepted() -> None:
    """Sell-through: per channel the units the consumer-facing roles accepted each week (their
    events' ``accepted``: sold at once or taken on to wait), never more than came; behind a
    make-to-order retailer short of capacity some consumers walk away."""
    scn = apply_codp(load_scenario("decoupling-point"), "mts-central")
    state, history = _play(scn, 12)
    rows = view(scn, state, "supplier", {"pos_demand": True})["pos_demand"]
    weeks = [w["roles"] for w in history] + [dict(zip(scn.roles, state.events, strict=True))]
    assert [p["week"] for p in rows] == list(range(1, 14))
    for p, events in zip(rows, weeks, strict=True):
        assert p["accepted_by_channel"] == {"retailer": events["retailer"]["accepted"]}
        assert p["accepted"] == sum(p["accepted_by_channel"].values()) <= p["demand"]
    assert any(p["accepted"] < p["demand"] for p in rows)


def test_a_state_saved_before_sell_through_was_kept_counts_everyone_who_came() -> None:
    scn = apply_codp(load_scenario("decoupling-point"), "mts-central")
    state, _ = _play(scn, 6)
    old = state.to_dict()
    for point in [*old["stages"], *(old.get("nodes") or [])]:
        del point["accepted"]
    loaded = GameState.from_dict(old)
    rows = view(scn, loaded, "supplier", {"pos_demand": True})["pos_demand"]
    assert all(p["accepted"] == p["demand"] for p in rows)
    later, _ = step(scn, loaded, dict.fromkeys(scn.roles, 40))
    rows = view(scn, later, "supplier", {"pos_demand": True})["pos_demand"]
    assert rows[-1]["accepted"] == later.events[scn.index("retailer")]["accepted"]
    assert all(p["accepted"] == p["demand"] for p in rows[:-1])
