"""What a class sees: the chain as a picture on the phone, the projector as the class's view.

Screenshots are kept in ``tests/browser/screenshots/`` (git-ignored) for a reviewer to look at.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from a11y import axe_violations
from playwright.sync_api import Page, expect
from test_browser_pages import join_seat, new_session

from game.scenario import load_scenario

pytestmark = pytest.mark.browser

SHOTS = Path(__file__).parent / "screenshots"
SIZES = {"phone": (390, 844), "laptop": (1366, 768)}


def shot(page: Page, name: str, full: bool = False) -> None:
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=full)


def states(frames: list[str]) -> list[dict[str, Any]]:
    """The ``state`` payloads among a page's Socket.IO frames."""
    out = []
    for f in frames:
        if f.startswith('42["state",'):
            out.append(json.loads(f[2:])[1])
    return out


def watch_frames(page: Page) -> list[str]:
    frames: list[str] = []
    page.on("websocket", lambda ws: ws.on("framereceived", lambda f: frames.append(str(f))))
    return frames


def facilitator(new_page: Any, base: str, created: dict[str, Any]) -> Page:
    fac = new_page(width=1280, mobile=False)
    fac.goto(f"{base}/facilitate/{created['code']}#s={created['facilitator_secret']}")
    expect(fac.locator("[data-action=start]")).to_be_enabled()
    return fac


def stage(page: Page, role: str) -> Any:
    return page.locator(f"#chain .ch-stage[data-role={role}]")


@pytest.mark.parametrize("size", ["phone", "laptop"])
def test_the_chain_picture_shows_the_view_and_moves_with_the_week(live_server: str, new_page, size: str) -> None:
    width, height = SIZES[size]
    created = new_session(live_server, scenario="classic", teams=1, visibility={"inventories": False})
    page = new_page(width=width, height=height, mobile=size == "phone")
    frames = watch_frames(page)
    join_seat(page, live_server, created["code"], "Ada", "wholesaler")
    fac = facilitator(new_page, live_server, created)
    fac.click("[data-action=start]")
    expect(page.locator("#value")).to_be_enabled()
    page.locator("#chain-card").scroll_into_view_if_needed()
    me = states(frames)[-1]["view"]
    # the own stage: its stock and backlog as the view has them, its goods and orders on its link
    own = stage(page, "wholesaler")
    expect(own.locator(".ch-fig b").first).to_have_text(str(me["me"]["on_hand"]))
    expect(own).to_contain_text("(you)")
    goods = page.locator("#chain .ch-branch:has(> .ch-stage[data-role=wholesaler]) > .ch-link .ch-chip.goods")
    expect(goods).to_have_count(len(me["me"]["on_the_way"]))
    # the other stages: no numbers (their stock is not shared), the link below carries what it shipped
    expect(stage(page, "factory")).to_contain_text("not shared")
    expect(stage(page, "factory").locator(".ch-fig")).to_have_count(0)
    below = page.locator("#chain .ch-branch:has(> .ch-stage[data-role=retailer]) > .ch-link .ch-chip.goods")
    expect(below).to_have_count(len(me["outgoing"]["retailer"]))
    # all four work to stock: the decoupling point sits between the retailer and the consumers
    expect(page.locator("#chain .ch-codp")).to_have_count(1)
    expect(page.locator("#chain .ch-branch:has(> .ch-stage[data-role=retailer]) > .ch-codp")).to_have_count(1)
    # the text version: a table (hidden from sight) with a row per stage
    table = page.locator("#chain .sr-only table")
    expect(table.locator("tbody tr")).to_have_count(4)
    expect(table.locator("tbody tr", has_text="Wholesaler (you)").locator("td").nth(1)).to_have_text(
        str(me["me"]["on_hand"])
    )
    expect(page.locator("#chain .ch-visual")).to_have_attribute("aria-hidden", "true")
    box = page.locator("#chain-card").bounding_box()
    assert box is not None and box["width"] <= width, "the picture fits the screen's width"
    assert page.evaluate("() => document.documentElement.scrollWidth") <= width
    shot(page, f"chain-{size}-week1")
    assert axe_violations(page) == []
    # the week turns: the picture follows the new view and animates what moved
    page.fill("#value", "9")
    page.click("#submit")
    expect(page.locator("#chain .ch-visual.ch-turn")).to_have_count(1)
    after = states(frames)[-1]["view"]
    assert after["week"] == me["week"] + 1
    expect(own.locator(".ch-fig b").first).to_have_text(str(after["me"]["on_hand"]))
    orders = page.locator("#chain .ch-branch:has(> .ch-stage[data-role=wholesaler]) > .ch-link .ch-chip.order")
    expect(orders).to_have_text([str(x) for x in after["me"]["orders_in_mail"]])
    assert 9 in after["me"]["orders_in_mail"]  # the order just placed is in the mail
    page.wait_for_timeout(1300)  # the animation's end
    shot(page, f"chain-{size}-week2", full=size == "phone")


def test_the_chain_picture_marks_order_driven_stages_regions_and_shared_stock(live_server: str, new_page) -> None:
    created = new_session(
        live_server, scenario="decoupling-point", teams=1, visibility={"inventories": True, "pipelines": True}
    )
    page = new_page(width=390, height=844, mobile=True, lang="nl-NL")
    frames = watch_frames(page)
    join_seat(page, live_server, created["code"], "Ada", "retailer")
    expect(page.locator("#chain .ch-stage")).to_have_count(4)
    view = states(frames)[-1]["view"]
    # make to stock, central: the retailer works to order, the decoupling point sits above it
    expect(stage(page, "retailer")).to_have_class(re.compile(r"\bmto\b"))
    expect(stage(page, "wholesaler")).to_have_class(re.compile(r"\bmts\b"))
    expect(page.locator("#chain .ch-branch:has(> .ch-stage[data-role=retailer]) > .ch-codp")).to_have_count(1)
    # the retailer's stock per region, and the other stages' shared stock
    expect(stage(page, "retailer").locator(".ch-pt")).to_have_count(4)
    expect(stage(page, "wholesaler").locator(".ch-fig b").first).to_have_text(
        str(view["inventories"]["wholesaler"]["on_hand"])
    )
    page.emulate_media(reduced_motion="reduce")
    assert page.evaluate("() => getComputedStyle(document.querySelector('#chain .ch-fig b')).animationName") in (
        "none",
        "",
    )
    page.locator("#chain-card").scroll_into_view_if_needed()
    shot(page, "chain-phone-decoupling-point-nl")
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 390
    assert axe_violations(page) == []


def chart_weeks(page: Page, role: str) -> int:
    """How many weeks the projector's orders chart of ``role`` holds."""
    return page.evaluate(
        """(role) => {
          const caps = [...document.querySelectorAll('#orders-charts figcaption')];
          const i = caps.findIndex((f) => f.textContent === role);
          const canvas = document.querySelectorAll('#orders-charts canvas')[i];
          return canvas ? Chart.getChart(canvas).data.labels.length : -1;
        }""",
        role,
    )


@pytest.mark.parametrize("size", ["laptop", "phone"])
def test_the_projector_shows_the_class_deciding_and_its_orders_building_up(
    live_server: str, new_page, size: str
) -> None:
    width, height = SIZES[size]
    created = new_session(live_server, scenario="classic", teams=3)
    code = created["code"]
    ada, bo = new_page(), new_page()
    join_seat(ada, live_server, code, "Ada", "retailer")
    join_seat(bo, live_server, code, "Bo", "wholesaler")
    proj = new_page(width=width, height=height, mobile=size == "phone")
    frames = watch_frames(proj)
    proj.goto(f"{live_server}/projector/{code}")
    expect(proj.locator("#strip .cell")).to_have_count(3)
    expect(proj.locator("#chain .ch-stage")).to_have_count(4)
    fac = facilitator(new_page, live_server, created)
    fac.click("[data-action=start]")
    summary = "0 of 1 teams have decided their week; players still deciding: {}"
    expect(proj.locator("#strip-summary")).to_have_text(summary.format(2))
    # team 1: two players; one decides, the strip shows it at once
    team1 = proj.locator("#strip .cell").first
    expect(team1.locator(".d.on")).to_have_count(0)
    expect(team1.locator(".d.bot")).to_have_count(2)
    expect(ada.locator("#value")).to_be_enabled()
    ada.fill("#value", "6")
    ada.click("#submit")
    expect(team1.locator(".d.on")).to_have_count(1)
    expect(proj.locator("#strip-summary")).to_have_text(summary.format(1))
    expect(team1.locator(".sr-only")).to_have_text("Team 1: week 1, 1 of 2 decided")
    shot(proj, f"projector-{size}-deciding", full=size == "phone")
    # the week ends; the bot teams keep pace: the orders of week 1 appear
    bo.fill("#value", "7")
    bo.click("#submit")
    proj.wait_for_function("() => document.querySelectorAll('#orders-charts canvas').length === 4")
    wait_for = (
        "(n) => [...document.querySelectorAll('#orders-charts canvas')]"
        ".every((c) => Chart.getChart(c).data.labels.length === n)"
    )
    proj.wait_for_function(wait_for, arg=1)
    assert chart_weeks(proj, "Retailer") == 1
    expect(proj.locator("#orders-summary")).to_contain_text("Orders in week 1:")
    expect(proj.locator("#chain .ch-stage[data-role=retailer]")).to_contain_text("median order")
    # week 2: the chart grows
    for player, value in ((ada, 9), (bo, 12)):
        expect(player.locator("#value")).to_be_enabled()
        player.fill("#value", str(value))
        player.click("#submit")
    proj.wait_for_function(wait_for, arg=2)
    board = [json.loads(f[2:])[1] for f in frames if f.startswith('42["leaderboard",')][-1]
    retail = board["orders"]["spread"]["retailer"]
    assert len(retail) == 2 and retail[1][2] > retail[0][2] > retail[0][1]  # team 1's 6, then 9, above the bots' 4
    label = proj.locator("#orders-charts canvas").nth(3).get_attribute("aria-label")
    assert label and label.startswith("Retailer: median")
    assert not any(created["facilitator_secret"] in f or '"token"' in f or '"demand"' in f for f in frames)
    assert '"on_hand"' not in "".join(frames)  # no team's stock
    proj.wait_for_timeout(800)
    shot(proj, f"projector-{size}-week3", full=size == "phone")
    assert proj.evaluate("() => document.documentElement.scrollWidth") <= width
    assert axe_violations(proj) == []


def test_the_projector_of_a_large_class_shows_the_top_and_turns_pages_of_the_strip(live_server: str, new_page) -> None:
    created = new_session(live_server, scenario="classic", teams=250)
    proj = new_page(width=1366, height=768, mobile=False)
    proj.goto(f"{live_server}/projector/{created['code']}")
    expect(proj.locator("#board-body tr")).to_have_count(9)
    expect(proj.locator("#board-body tr").last).to_have_text("… and 242 more teams")
    expect(proj.locator("#strip-summary")).to_have_text("No team has a player yet: bots play every seat.")
    expect(proj.locator("#strip-page")).to_have_text(re.compile(r"^Teams 1 to \d+ of 250$"))
    per_page = proj.locator("#strip .cell").count()
    assert 20 <= per_page < 250
    expect(proj.locator("#strip-page")).to_have_text(f"Teams 1 to {per_page} of 250")
    # the strip fits the screen: its last cell is above the foot of the window
    last = proj.locator("#strip .cell").last.bounding_box()
    assert last is not None and last["y"] + last["height"] <= 768
    shot(proj, "projector-laptop-250-teams")
    expect(proj.locator("#strip-page")).to_have_text(f"Teams {per_page + 1} to {2 * per_page} of 250", timeout=12_000)
    expect(proj.locator("#strip .cell .tn").first).to_have_text(str(per_page + 1))
    assert axe_violations(proj) == []


def test_the_chain_picture_branches_where_a_stage_supplies_two_channels(live_server: str, new_page) -> None:
    created = new_session(live_server, scenario="ecommerce", teams=1)
    page = new_page(width=390, height=844, mobile=True)
    frames = watch_frames(page)
    join_seat(page, live_server, created["code"], "Ada", "manufacturer")
    expect(page.locator("#chain .ch-stage")).to_have_count(5)
    view = states(frames)[-1]["view"]
    # the manufacturer ships to the wholesaler and to its web shop: two links, each with what it shipped
    kids = page.locator("#chain .ch-branch:has(> .ch-stage[data-role=manufacturer]) > .ch-kids > .ch-branch")
    expect(kids).to_have_count(2)
    for role in ("wholesaler", "ecommerce"):
        goods = page.locator(f"#chain .ch-branch:has(> .ch-stage[data-role={role}]) > .ch-link .ch-chip.goods")
        expect(goods).to_have_text([str(x) for x in reversed(view["outgoing"][role])])
    expect(page.locator("#chain .ch-consumers")).to_have_count(2)  # both channels sell to consumers
    page.locator("#chain-card").scroll_into_view_if_needed()
    shot(page, "chain-phone-ecommerce")
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 390


def test_the_chain_picture_shows_where_the_product_gets_its_colour(live_server: str, new_page) -> None:
    created = new_session(live_server, scenario="product-leadership", teams=1)
    page = new_page(width=390, height=844, mobile=True)
    join_seat(page, live_server, created["code"], "Ada", "wholesaler")
    expect(page.locator("#chain .ch-stage")).to_have_count(4)
    # assemble to order: the manufacturer keeps generic stock and finishes each colour to order
    expect(stage(page, "manufacturer")).to_contain_text("generic stock, finished per variant")
    colours = [v.name for v in load_scenario("product-leadership").product.variants]
    expect(stage(page, "wholesaler").locator(".ch-pt")).to_have_count(len(colours))  # the own stock per colour
    expect(stage(page, "retailer")).to_contain_text("variants: " + ", ".join(colours))
    expect(page.locator("#chain .ch-branch:has(> .ch-stage[data-role=wholesaler]) > .ch-codp")).to_have_count(1)
    page.locator("#chain-card").scroll_into_view_if_needed()
    shot(page, "chain-phone-product-leadership")
    assert axe_violations(page) == []
