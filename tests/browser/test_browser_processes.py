"""A team picks a process per segment on the player page: the options after the positions,
what each process serves, what the extra processes cost, and the choice the team sees."""

from __future__ import annotations

import pytest
import requests
from playwright.sync_api import expect
from test_class_play import PHONE, close_intro, join

pytestmark = pytest.mark.browser


def test_a_team_chooses_one_standard_process_per_real_need(live_server: str, new_page) -> None:
    body = {"scenario": "standard-processes", "round_seconds": 0, "teams": 1, "codp": {"rule": "team"}}
    r = requests.post(f"{live_server}/api/sessions", json=body, timeout=10)
    assert r.status_code == 201, r.text
    code = r.json()["code"]
    ada = new_page(**PHONE)
    join(ada, live_server, code, "Ada", "retailer")
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
    join(nl, live_server, code, "Wim", "wholesaler")
    close_intro(nl)
    expect(nl.locator("label[for=codp-per-need]")).to_contain_text("Eén standaardproces per echte behoefte")
    expect(nl.locator("label[for=codp-per-need]")).to_contain_text("De processen na het eerste kosten 4 per week")
