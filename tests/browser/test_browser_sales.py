"""The sales seat in a session: the bots promise in it, and the debrief shows the promise against
the lead time delivered, with what broken promises cost."""

from __future__ import annotations

import pytest
import requests
from playwright.sync_api import expect
from support import wait_until

pytestmark = pytest.mark.browser


def test_the_debrief_shows_promised_against_delivered_lead_time(live_server: str, new_page) -> None:
    body = {"scenario": "order-acceptance", "teams": 1, "weeks": 8, "end_window": [8, 8], "seed": 3, "round_seconds": 0}
    created = requests.post(f"{live_server}/api/sessions", json=body, timeout=10).json()
    code, secret = created["code"], created["facilitator_secret"]
    fac = new_page(width=1280, mobile=False)
    fac.goto(f"{live_server}/facilitate/{code}#s={secret}")
    fac.click("[data-action=start]")

    def over() -> bool:
        if requests.get(f"{live_server}/api/sessions/{code}", timeout=5).json()["status"] == "over":
            return True
        fac.click("[data-action=force_round]")  # every seat is a bot's: force each week
        fac.wait_for_timeout(150)
        return False

    wait_until(over, timeout=60, every=0.2)
    fac.goto(f"{live_server}/debrief/{code}#s={secret}")
    fac.click("[data-view=team-1]")
    card = fac.locator("#promise-card")
    expect(card).to_be_visible()
    expect(card.locator("h3")).to_have_text("Promised against delivered lead time (the sales seat)")
    expect(fac.locator("#promise-note")).to_contain_text("units delivered later than promised")
