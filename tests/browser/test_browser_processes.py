"""A team picks a process per segment on the player page: the options after the positions,
what each process serves, what the extra processes cost, and the choice the team sees."""

from __future__ import annotations

import pytest
import requests
from playwright.sync_api import expect
from test_browser_pages import join_seat
from test_class_play import PHONE, close_intro

pytestmark = pytest.mark.browser


def test_a_team_chooses_one_standard_process_per_real_need(live_server: str, new_page) -> None:
    body = {"scenario": "standard-processes", "round_seconds": 0, "teams": 1, "codp": {"rule": "team"}}
    r = requests.post(f"{live_server}/api/sessions", json=body, timeout=10)
    assert r.status_code == 201, r.text
    code = r.json()["code"]
    ada = new_page(**PHONE)
    join_seat(ada, live_server, code, "Ada", "retailer")
    close_intro(ada)
    expect(ada.locator("#codp-options .codp-option")).to_have_count(7)
    need = ada.locator("label[for=codp-per-need]")
    expect(need).to_contain_text("One standard process per real need")
    expect(need).to_contain_text("Make and ship to stock for walk-in, counter, trade")
    expect(need).to_contain_text("Assemble to order for quick-tailored, tailored, bespoke")
    expect(need).to_contain_text("The processes beyond the first cost 4 a week")
    ada.check("#codp-per-need")
    ada.click("#codp-card button[type=submit]")
    expect(ada.locator("#codp-now")).to_have_text(
        "Your team's choice now: One standard process per real need (chosen by Ada)"
    )
    expect(ada.locator("#codp-per-need")).to_be_checked()
    nl = new_page(**PHONE, lang="nl-NL")
    join_seat(nl, live_server, code, "Wim", "wholesaler")
    close_intro(nl)
    expect(nl.locator("label[for=codp-per-need]")).to_contain_text("Eén standaardproces per echte behoefte")
    expect(nl.locator("label[for=codp-per-need]")).to_contain_text("De processen na het eerste kosten 4 per week")


def test_the_debrief_names_the_teams_processes(live_server: str, new_page) -> None:
    body = {"scenario": "standard-processes", "round_seconds": 0, "teams": 1, "weeks": 3, "codp": {"rule": "team"}}
    created = requests.post(f"{live_server}/api/sessions", json=body, timeout=10).json()
    code = created["code"]
    ada = new_page(**PHONE)
    join_seat(ada, live_server, code, "Ada", "retailer")
    close_intro(ada)
    ada.check("#codp-per-need")
    ada.click("#codp-card button[type=submit]")
    expect(ada.locator("#codp-per-need")).to_be_checked()
    fac = new_page(width=1280, mobile=False)
    fac.goto(f"{live_server}/facilitate/{code}#s={created['facilitator_secret']}")
    fac.click("[data-action=start]")
    expect(ada.locator("#value")).to_be_enabled()
    ada.fill("#value", "30")
    ada.click("#submit")
    expect(ada.locator("#week")).to_contain_text("Week 2")
    fac.click("[data-action=end]")
    expect(ada.locator("#end-card")).to_be_visible()
    fac.goto(f"{live_server}/debrief/{code}")
    fac.click("[data-view=team-1]")
    expect(fac.locator("body")).to_contain_text("One standard process per real need")
