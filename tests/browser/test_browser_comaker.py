"""Co-makership on the phones: a team offers its partners the deal before the start, sees their
orders known ahead, and the debrief says in which weeks the deal held."""

from __future__ import annotations

import re

import pytest
import requests
from playwright.sync_api import expect
from support import wait_until
from test_browser_pages import join_seat

pytestmark = pytest.mark.browser


def test_a_team_offers_the_deal_and_plans_with_the_orders_known_ahead(live_server: str, new_page) -> None:
    body = {"scenario": "co-makership", "teams": 1, "weeks": 6, "end_window": [6, 6], "seed": 5, "round_seconds": 0}
    created = requests.post(f"{live_server}/api/sessions", json=body, timeout=10).json()
    code = created["code"]
    page = new_page()
    join_seat(page, live_server, code, "Kim", "plant")
    card = page.locator("#deal-card")
    expect(card).to_be_visible()
    expect(page.locator("#deal-terms li")).to_have_text(
        "partners (60% of demand): orders known 5 weeks ahead, 2 weeks' lead time accepted, 7% off the price"
    )
    expect(page.get_by_label("No deal", exact=True)).to_be_checked()
    expect(page.locator("#advance-orders")).to_have_count(0)
    page.get_by_label("Offer the deal").check()
    page.click("#deal-card button[type=submit]")
    expect(page.locator("#deal-now")).to_have_text("The deal is in force. (chosen by Kim)")
    expect(page.locator("#advance-orders")).to_contain_text("Co-makers' orders known ahead, weeks 2 to 6: ")
    # the game runs: the offer closes until a review (none in six weeks)
    fac = new_page(width=1280, mobile=False)
    fac.goto(f"{live_server}/facilitate/{code}#s={created['facilitator_secret']}")
    fac.click("[data-action=start]")
    expect(card).to_be_hidden()
    for week in range(1, 7):
        expect(page.locator("#week")).to_have_text(re.compile(rf"^Week {week}\b"))
        page.fill("#value", "20")
        page.click("#submit")

    def over() -> bool:
        return requests.get(f"{live_server}/api/sessions/{code}", timeout=5).json()["status"] == "over"

    wait_until(over, timeout=60, every=0.2)
    fac.goto(f"{live_server}/debrief/{code}")
    fac.click("[data-view=team-1]")
    expect(fac.locator("#team-deal")).to_contain_text("Co-makership: the deal was in force 6 of 6 weeks (weeks 1 to 6)")
