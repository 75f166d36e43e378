"""The information-sharing lesson in the debrief: each stage's bullwhip beside its bound, and
two sessions on the same demand (nothing shared, then point-of-sale demand shared) side by side."""

from __future__ import annotations

from typing import Any

import pytest
import requests
from playwright.sync_api import expect
from support import wait_until
from test_browser_pages import join_seat

pytestmark = pytest.mark.browser


def played_session(base: str, fac: Any, scenario: str) -> str:
    """A bots-only session of 4 weeks on seed 11, started from its dashboard and played out."""
    body = {"scenario": scenario, "teams": 2, "weeks": 4, "seed": 11, "round_seconds": 0}
    created = requests.post(f"{base}/api/sessions", json=body, timeout=10).json()
    code = created["code"]
    fac.goto(f"{base}/facilitate/{code}#s={created['facilitator_secret']}")
    fac.click("[data-action=start]")

    def over() -> bool:
        return requests.get(f"{base}/api/sessions/{code}", timeout=5).json()["status"] == "over"

    wait_until(over, timeout=60, every=0.2)
    return code


def test_two_rounds_side_by_side_with_the_bound(live_server: str, new_page) -> None:
    fac = new_page(width=1280, mobile=False)
    plain = played_session(live_server, fac, "classic-random")
    shared = played_session(live_server, fac, "classic-random-shared")

    fac.goto(f"{live_server}/debrief/{plain}")
    fac.click("[data-view=team-1]")
    header = fac.locator("#stages-table thead th")
    expect(header.nth(3)).to_have_text("Benchmark (Chen et al.)")
    bound = fac.locator("#stages-table tbody tr").nth(0).locator("td").nth(2)
    expect(bound).to_have_text("9.8")  # factory, nothing shared: covers 5, 5, 5, 4 over 16 weeks

    fac.fill("#pair-input", shared.lower())
    fac.click("#db-pair button[type=submit]")
    expect(fac.locator("#pair-view")).to_be_visible()
    expect(fac.locator("#pair-warning")).to_have_text("")
    cards = fac.locator("#pair-teams > .card")
    expect(cards).to_have_count(2)
    first = cards.nth(0)
    expect(first.locator(".pair-a")).to_have_text(f"{plain} · nothing shared")
    expect(first.locator(".pair-b")).to_have_text(f"{shared} · point-of-sale demand shared")
    rows = first.locator(".pair-table tbody tr")
    expect(rows).to_have_count(4)
    factory = rows.nth(0).locator("td")
    expect(factory.nth(1)).to_have_text("9.8")
    expect(factory.nth(4)).to_have_text("3.9")  # shared: one factor of the echelon cover, 4 + 3 x 3 weeks
    assert first.locator("canvas").count() == 2
    assert fac.evaluate("new URL(location.href).searchParams.get('with')") == shared

    fac.reload()  # the pairing survives a reload through the address
    expect(fac.locator("#pair-view")).to_be_visible()
    expect(fac.locator("#pair-teams > .card")).to_have_count(2)


def test_a_player_sees_every_consumer_s_demand_with_the_regions_beside_it(live_server: str, new_page) -> None:
    body = {"scenario": "decoupling-point", "teams": 1, "weeks": 4, "seed": 3, "round_seconds": 0}
    created = requests.post(
        f"{live_server}/api/sessions", json={**body, "visibility": {"pos_demand": True}}, timeout=10
    )
    code = created.json()["code"]
    page = new_page(width=1000, mobile=False)
    join_seat(page, live_server, code, "Ada", "manufacturer")
    fac = new_page(width=1280, mobile=False)
    fac.goto(f"{live_server}/facilitate/{code}#s={created.json()['facilitator_secret']}")
    fac.click("[data-action=start]")
    extra = page.locator("#visible-extra")
    expect(extra).to_contain_text("Consumer demand this week, per stock point: north ")
    state = requests.get(
        f"{live_server}/api/sessions/{code}/results.json",
        headers={"X-Facilitator-Secret": created.json()["facilitator_secret"]},
        timeout=10,
    ).json()
    row = state["teams"][0]["state"]["demand"][0]
    total = sum(map(sum, row))  # every region's week-1 consumers
    expect(extra).to_contain_text(f"Consumer demand, last weeks: {total}")
    for name, region in zip(("north", "east", "south", "west"), row, strict=True):
        expect(extra).to_contain_text(f"{name} {sum(region)}")
    points = state["teams"][0]["state"]["nodes"]
    accepted = sum(p["accepted"][0] for p in points if p["accepted"])  # the four regional shops' week 1
    assert accepted <= total
    expect(page.locator("#accepted-recent")).to_have_text(
        f"Of which accepted (sold or waiting), last weeks: {accepted}"
    )
