"""``game.review.describe_position``: what each decoupling point means for a scenario."""

from __future__ import annotations

import pytest

from game.codp import positions_for
from game.engine import quote
from game.review import describe_position
from game.scenario import load_scenario
from game.start import new_game


@pytest.mark.parametrize("name", ["decoupling-point", "customer-intimacy", "ecommerce", "classic"])
def test_every_stage_either_holds_stock_or_works_to_order(name: str) -> None:
    scn = load_scenario(name)
    for position in scn.codp_positions or positions_for(scn):
        d = describe_position(scn, None, position)
        assert sorted(d["to_order"] + d["stock_at"]) == sorted(scn.roles)
        assert d["from_stock"] == (position == "mts-local")
        assert d["lead_time"] is None or d["lead_time"] >= 0


def test_the_positions_move_stock_upstream_one_stage_at_a_time() -> None:
    scn = load_scenario("decoupling-point")
    stock = [describe_position(scn, None, p)["stock_at"] for p in scn.codp_positions]
    assert [len(s) for s in stock] == [4, 3, 2, 1, 0]
    assert stock[-2] == ["supplier"]
    # each stage that works to order adds its delay to what an order takes: a week each for the
    # retailer, the wholesaler and the supplier, two for the manufacturer's production
    weeks = [describe_position(scn, None, p)["order_lead_time"] for p in scn.codp_positions]
    assert weeks == [0, 1, 2, 4, 5]


def test_orders_sent_by_mail_add_the_order_delay() -> None:
    from dataclasses import replace

    scn = load_scenario("decoupling-point")
    mail = replace(scn, mto_orders="mail")
    assert describe_position(mail, None, "mto")["order_lead_time"] == 4 + 3 * 1  # three order delays of a week


def test_the_tailored_premium_is_earned_only_when_the_product_follows_the_order() -> None:
    scn = load_scenario("customer-intimacy")
    premium = {p: describe_position(scn, None, p)["segments"][1]["premium"] for p in scn.codp_positions}
    assert premium == {"mts-local": False, "mts-central": False, "ato": False, "mto": True, "eto": True}
    assert describe_position(scn, None, "mto")["segments"][0]["premium"] is None  # standard pays none


def test_impatient_customers_leave_when_nothing_waits_at_the_shop() -> None:
    scn = load_scenario("decoupling-point")
    now = {p: describe_position(scn, None, p)["segments"][0] for p in ("mts-local", "mto")}
    assert now["mts-local"]["accept"] == 1.0  # served from the shelf
    assert now["mto"]["accept"] == 0  # will not wait at all
    # "soon" waits one or two weeks: all of it at one week (central stock), none at four (to order)
    soon = {p: describe_position(scn, None, p)["segments"][1]["accept"] for p in ("mts-central", "ato", "mto")}
    assert soon == {"mts-central": 1.0, "ato": 0.3, "mto": 0}


def test_at_a_review_the_quote_is_the_engines_for_the_moved_game() -> None:
    from game.review import switch_codp

    scn = load_scenario("decoupling-point")
    state = new_game(scn, 3)
    d = describe_position(scn, state, "ato")
    moved_scn, moved = switch_codp(scn, state, "ato", any_week=True)
    assert d["lead_time"] == round(quote(moved_scn, moved, "retailer"), 1)
    assert state.codp == scn.codp  # the team's game is not changed by looking
