"""The end of the game in Chromium: the player page says "Week 1", never "of N" (nor does the
projector), until the facilitator, who sees the drawn week on the dashboard, reveals it."""

from __future__ import annotations

import re

import pytest
import requests
from playwright.sync_api import expect
from test_browser_pages import join_seat

from game.horizon import end_of_game
from web.play.scenarios import team_scenario

pytestmark = pytest.mark.browser


def test_the_last_week_is_hidden_until_the_facilitator_reveals_it(live_server: str, new_page) -> None:
    body = {"scenario": "classic", "weeks": 6, "end_window": [4, 9], "seed": 21, "round_seconds": 0}
    created = requests.post(f"{live_server}/api/sessions", json=body, timeout=10).json()
    code = created["code"]
    end = end_of_game(team_scenario("classic", 6, None, None, None, (4, 9)), 21)
    fac = new_page(width=1366, height=768, mobile=False)
    fac.goto(f"{live_server}/facilitate/{code}#s={created['facilitator_secret']}")
    expect(fac.locator("#d-end")).to_have_text(f"The game ends after week {end}. The players are not told.")
    player = new_page(width=390, height=844)
    join_seat(player, live_server, code, "Ada", "retailer")
    expect(player.locator("#seat-label")).to_have_text("Retailer")
    proj = new_page(width=1366, height=768, mobile=False)
    proj.goto(f"{live_server}/projector/{code}")
    fac.click("[data-action=start]")
    expect(player.locator("#week")).to_have_text("Week 1")
    expect(proj.locator("#board-body tr")).to_have_count(1)  # the ranking (the orders table is another)
    # no "Week 1 of 6" nor "of 6 weeks" (the strip's "0 of 1 teams have decided" says nothing of the end)
    expect(proj.locator("body")).not_to_contain_text(re.compile(r"\bweek \d+ of \d|\bof \d+ weeks", re.IGNORECASE))
    expect(fac.locator("#d-week")).to_have_text("Week 1")  # the dashboard header may be projected
    fac.once("dialog", lambda d: d.accept())
    fac.click("[data-action=reveal_end]")
    expect(player.locator("#week")).to_have_text(f"Week 1 of {end}")
    expect(fac.locator("#d-end")).to_have_text(f"The game ends after week {end}. The players know.")
    expect(fac.locator("[data-action=reveal_end]")).to_be_disabled()


def test_the_set_up_form_scales_the_window_with_the_weeks(live_server: str, new_page) -> None:
    fac = new_page(width=1366, height=768, mobile=False)
    fac.goto(live_server + "/facilitate")
    expect(fac.locator("#scenario option[value=decoupling-point]")).to_be_attached()
    fac.select_option("#scenario", "decoupling-point")
    expect(fac.locator("#end_first")).to_have_value("48")
    expect(fac.locator("#end_last")).to_have_value("56")
    expect(fac.locator("#end_known")).not_to_be_checked()
    fac.fill("#weeks", "20")
    expect(fac.locator("#end_first")).to_have_value("18")
    expect(fac.locator("#end_last")).to_have_value("22")
    fac.select_option("#scenario", "product-leadership")
    expect(fac.locator("#end_known")).to_be_checked()
    expect(fac.locator("#end_first")).to_have_value("36")
