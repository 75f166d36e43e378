"""CODP positions set stage modes; strategy reviews move a running game's CODP."""

from __future__ import annotations

from dataclasses import replace

import pytest

from game.codp import POSITIONS, apply_codp, customisable, positions_for
from game.engine import decision_kind, step
from game.observe import observe
from game.policies import parse_policy
from game.review import CodpError, switch_codp
from game.scenario import load_scenario
from game.start import new_game
from game.state import GameState

CHAIN = ["retailer", "wholesaler", "manufacturer", "supplier"]  # downstream -> upstream


def units(state: GameState) -> int:
    """Goods held in the chain: stock, work in progress, in transit, parcels on the way."""
    return sum(s.on_hand + s.wip + sum(s.ship_q) + sum(s.deliveries) for s in state.stages)


def play_to(scn, week: int, seed: int = 3) -> GameState:
    """Play with the sterman bot up to the decision point of ``week``."""
    pol = parse_policy("sterman")
    state = new_game(scn, seed)
    memory = {r: {} for r in scn.roles}
    while state.week < week:
        dec = {}
        for r in scn.roles:
            dec[r], memory[r] = pol.decide(observe(scn, state, r), memory[r])
        state, _ = step(scn, state, dec)
    return state


@pytest.mark.parametrize("position", list(POSITIONS))
def test_positions_set_modes_along_the_chain(position: str) -> None:
    scn = apply_codp(load_scenario("decoupling-point"), position)
    depth = POSITIONS[position].depth
    for k, role in enumerate(CHAIN):
        assert scn.stage(role).mode == ("mto" if k < depth else "mts"), (position, role)
        if k < min(depth, len(CHAIN) - 1):  # make-to-order stages hold no stock, but for the top of the chain
            assert scn.stage(role).on_hand == 0
    assert scn.codp == position


def test_only_order_driven_finishing_earns_the_premium() -> None:
    def earns(name: str) -> dict[str, bool]:
        scn = load_scenario(name)
        return {p: customisable(scn, {s.role: s.mode for s in apply_codp(scn, p).stages}) for p in POSITIONS}

    # customised at the manufacturer's final step: assembling to order is enough
    assert earns("decoupling-point") == {
        "mts-local": False,
        "mts-central": False,
        "ato": True,
        "mto": True,
        "eto": True,
    }
    # made for the customer from the materials up: production must follow the order
    assert earns("customer-intimacy") == {
        "mts-local": False,
        "mts-central": False,
        "ato": False,
        "mto": True,
        "eto": True,
    }
    # designed for the customer down to the materials: every stage works to order
    assert earns("engineer-to-order") == {
        "mts-local": False,
        "mts-central": False,
        "ato": False,
        "mto": False,
        "eto": True,
    }


def test_ecommerce_keeps_its_own_mode() -> None:
    scn = load_scenario("ecommerce")
    assert positions_for(scn) == list(POSITIONS)
    for p in POSITIONS:
        assert apply_codp(scn, p).stage("ecommerce").mode == scn.stage("ecommerce").mode


def test_switch_mto_to_mts_turns_work_in_progress_into_stock() -> None:
    base = load_scenario("customer-intimacy")
    # without a make-to-stock throughput limit: the work waiting for capacity becomes stock
    base = base.with_stages(tuple(replace(s, mts_capacity=0) for s in base.stages))
    scn = apply_codp(base, "ato")
    state = play_to(scn, 13)
    i = scn.index("wholesaler")
    state.stages[i].wip = 7  # work waiting for capacity
    before_on_hand = state.stages[i].on_hand
    snapshot = state.to_dict()
    new_scn, new = switch_codp(scn, state, "mts-local")
    assert state.to_dict() == snapshot, "the input state must not change"
    assert new.stages[i].mode == "mts" and new.stages[i].wip == 0
    assert new.stages[i].on_hand == before_on_hand + 7
    assert new.codp == "mts-local" and new_scn.codp == "mts-local"
    assert all(decision_kind(new_scn, new, r) == "order" for r in new_scn.roles)
    assert units(new) == units(state)
    assert [s.owed for s in new.stages] == [s.owed for s in state.stages]


def test_switch_mts_to_mto_keeps_stock_and_ships_it_first() -> None:
    scn = load_scenario("customer-intimacy")
    scn = apply_codp(scn, "mts-local")
    state = play_to(scn, 13)
    r = scn.index("retailer")
    state.stages[r].on_hand = 40
    new_scn, new = switch_codp(scn, state, "eto")
    assert all(s.mode == "mto" for s in new.stages)
    assert all(decision_kind(new_scn, new, role) == "capacity" for role in new_scn.roles)
    assert new.stages[r].on_hand == 40
    assert units(new) == units(state)
    # the retailer now orders only what its stock cannot cover, and sells from the stock first
    decisions = {role: 15 for role in new_scn.roles}
    after, events = step(new_scn, new, decisions)
    ev = events[r]
    assert ev["order"] == 0
    got = after.events[r]
    assert got["sold"] > 0
    assert after.stages[r].on_hand == 40 + got["processed"] - got["sold"]


def test_switch_only_at_review_weeks_and_to_offered_positions() -> None:
    scn = load_scenario("decoupling-point")
    assert scn.review_weeks
    off_review = play_to(scn, 2)
    with pytest.raises(CodpError, match="not a strategy review"):
        switch_codp(scn, off_review, "ato")
    _, moved = switch_codp(scn, off_review, "ato", any_week=True)
    assert moved.codp == "ato"
    state = play_to(scn, scn.review_weeks[0])
    with pytest.raises(CodpError, match="unknown position"):
        switch_codp(scn, state, "nowhere")
    narrow = apply_codp(scn, "mts-central")
    narrow = replace(narrow, codp_positions=("mts-central", "ato"))
    with pytest.raises(CodpError, match="not offered"):
        switch_codp(narrow, state, "eto")


def test_switched_game_plays_on_and_conserves_goods() -> None:
    scn = load_scenario("decoupling-point")
    state = play_to(scn, 13)
    for target in ("eto", "ato", "mts-local"):
        scn, state = switch_codp(scn, state, target, any_week=True)
        pol = parse_policy("base_stock")
        for _ in range(3):
            total_in = units(state)
            dec = {r: pol.decide(observe(scn, state, r), {})[0] for r in scn.roles}
            state, events = step(scn, state, dec)
            sold = sum(state.events[i].get("sold", 0) for i in scn.topology.facing)
            # goods only enter from the outside source (its order becomes a shipment) and leave to consumers
            source_in = events[scn.index("supplier")]["order"]
            assert units(state) == total_in + source_in - sold, target
