"""Scenario texts in the page's language, in a real browser: a Dutch facilitator sees Dutch preset
titles and descriptions, Dutch players and the projector see Dutch stage names and titles."""

from __future__ import annotations

from typing import Any

import pytest
import requests
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


def new_session(base: str, **body: Any) -> dict[str, Any]:
    r = requests.post(f"{base}/api/sessions", json={"scenario": "classic", "round_seconds": 0, **body}, timeout=10)
    assert r.status_code == 201, r.text
    return r.json()


def test_dutch_facilitator_picks_presets_by_their_dutch_titles(live_server: str, new_page) -> None:
    page = new_page(lang="nl-NL", width=1200, mobile=False)
    page.goto(live_server + "/facilitate")
    expect(page.locator("#scenario option[value=decoupling-point]")).to_have_text("Het klantorderontkoppelpunt")
    expect(page.locator("#scenario option[value=operational-excellence]")).to_have_text(
        "Kostenleiderschap (operational excellence)"
    )
    page.select_option("#scenario", "customer-intimacy")
    expect(page.locator("#scenario-desc")).to_contain_text(
        "Zeven op de tien klanten willen een product dat vanaf het materiaal"
    )
    english = new_page(lang="en-GB", width=1200, mobile=False)
    english.goto(live_server + "/facilitate")
    expect(english.locator("#scenario option[value=decoupling-point]")).to_have_text("The decoupling point")


def test_dutch_player_and_projector_see_dutch_stage_names_and_title(live_server: str, new_page) -> None:
    code = new_session(live_server, teams=1)["code"]
    player = new_page(lang="nl-NL")
    player.goto(live_server + "/")
    player.fill("#code", code)
    player.locator("#code").blur()
    # the join page learns the labels from the session API once the code is known
    expect(player.locator("#role option[value=retailer]")).to_have_text("Detaillist")
    player.fill("#name", "Anouk")
    player.select_option("#role", "retailer")
    player.click("#join-btn")
    expect(player.locator("#game")).to_be_visible()
    expect(player.locator("#seat-label")).to_have_text("Detaillist")
    expect(player.locator("#t-roles")).to_contain_text("Fabriek")
    projector = new_page(lang="nl-NL", width=1280, height=800, mobile=False)
    projector.goto(f"{live_server}/projector/{code}")
    expect(projector.locator("#p-title")).to_have_text("Klassiek bierspel (Sterman 1989)")
    english = new_page(lang="en-GB", width=1280, height=800, mobile=False)
    english.goto(f"{live_server}/projector/{code}")
    expect(english.locator("#p-title")).to_have_text("Classic beer game (Sterman 1989)")
