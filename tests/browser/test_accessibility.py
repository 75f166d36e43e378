"""axe-core on every page: no serious or critical violation, in English and Dutch."""

from __future__ import annotations

import re
from typing import Any

import pytest
import requests
from a11y import axe_violations
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


def new_session(base: str, **body: Any) -> dict[str, Any]:
    r = requests.post(f"{base}/api/sessions", json={"scenario": "classic", "round_seconds": 0, **body}, timeout=10)
    assert r.status_code == 201, r.text
    return r.json()


def test_axe_finds_a_planted_violation(live_server: str, new_page) -> None:
    """The check can fail: an unlabelled field and faint text are reported."""
    page = new_page(width=1000, mobile=False)
    page.goto(live_server + "/")
    assert axe_violations(page) == []
    page.evaluate(
        """() => {
          const main = document.querySelector("main");
          const input = document.createElement("input");
          input.id = "planted";
          const faint = document.createElement("p");
          faint.id = "faint";
          faint.textContent = "faint text";
          faint.style.color = "#bbb";  // the CSSOM, not an inline style attribute (the CSP allows it)
          faint.style.background = "#ccc";
          main.append(input, faint);
        }"""
    )
    found = "\n".join(axe_violations(page))
    assert "#planted" in found and "color-contrast" in found and "#faint" in found


@pytest.mark.parametrize("lang", ["en-GB", "nl-NL"])
def test_every_page_passes_axe(live_server: str, new_page, lang: str) -> None:
    created = new_session(live_server, teams=2, weeks=3, visibility={"pos_demand": True})
    code, secret = created["code"], created["facilitator_secret"]
    checked: dict[str, list[str]] = {}
    # the set-up form, with the scenario editor open
    create = new_page(width=1280, mobile=False, lang=lang)
    create.goto(live_server + "/facilitate")
    expect(create.locator("#scenario option[value=classic]")).to_be_attached()
    create.click("#scn-edit summary")
    expect(create.locator("#scn-keys input").first).to_be_visible()
    checked["set-up"] = axe_violations(create)
    # landing and join pages on a phone
    phone = new_page(lang=lang)
    phone.goto(live_server + "/")
    checked["landing"] = axe_violations(phone)
    phone.goto(f"{live_server}/join/{code}")
    expect(phone.locator("#role option[value=retailer]")).to_be_attached()
    checked["join"] = axe_violations(phone)
    # the player screen with its first-minute explanation, then in the game
    phone.fill("#name", "Ada")
    phone.select_option("#role", "retailer")
    phone.click("#join-btn")
    expect(phone.locator("#intro")).to_be_visible()
    checked["player, first minute"] = axe_violations(phone)
    phone.click("#intro-close")
    # the dashboard and the projector
    fac = new_page(width=1280, mobile=False, lang=lang)
    fac.goto(f"{live_server}/facilitate/{code}#s={secret}")
    fac.click("[data-action=start]")
    expect(phone.locator("#value")).to_be_enabled()
    checked["player, running"] = axe_violations(phone)
    checked["dashboard"] = axe_violations(fac)
    proj = new_page(width=1280, mobile=False, lang=lang)
    proj.goto(f"{live_server}/projector/{code}")
    expect(proj.locator("#board-body tr")).to_have_count(2)
    checked["projector"] = axe_violations(proj)
    # the debrief, class and team views, after the game
    for _ in range(3):
        fac.click("[data-action=force_round]")
        fac.wait_for_timeout(150)
    expect(fac.locator("#d-status")).to_have_text(re.compile(r"Over|Afgelopen|.+"))
    deb = new_page(width=1280, mobile=False, lang=lang)
    deb.goto(f"{live_server}/debrief/{code}#s={secret}")
    expect(deb.locator("#ranking tbody tr")).to_have_count(2)
    checked["debrief, class"] = axe_violations(deb)
    deb.click("[data-view=team-1]")
    expect(deb.locator("#kpis .tile").first).to_be_visible()
    checked["debrief, team"] = axe_violations(deb)
    problems = {page: found for page, found in checked.items() if found}
    assert problems == {}, "\n".join(f"{page}: {line}" for page, lines in problems.items() for line in lines)
