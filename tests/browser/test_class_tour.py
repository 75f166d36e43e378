"""A whole class at a glance, on a phone (390x844) and a laptop (1366x768): the facilitator's
form and dashboard, a student's join form, play and end, the projector and the debrief of one
decoupling-point game. Each page must be free of serious axe-core findings and must not scroll
sideways; its first screen and the whole page are kept under ``tests/browser/screenshots/tour-*``
for a reviewer."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import requests
import socketio
from a11y import axe_violations
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.browser

SHOTS = Path(__file__).parent / "screenshots"
SIZES = {"390": {"width": 390, "height": 844}, "1366": {"width": 1366, "height": 768, "mobile": False}}
WEEKS = 5

# a page that is wider than its window: the elements that stick out on the right
OVERFLOW = """() => {
  const w = document.documentElement.clientWidth;
  if (document.documentElement.scrollWidth <= w) return [];
  return [...document.querySelectorAll("body *")]
    .filter((n) => n.getBoundingClientRect().right > w + 1 && !n.closest(".table-wrap, .ch-visual"))
    .slice(0, 5).map((n) => n.tagName.toLowerCase() + (n.id ? "#" + n.id : "") + "." + n.className);
}"""


def look(page: Page, name: str) -> None:
    """Keep the page's first screen, and check it is accessible and fits its window's width."""
    SHOTS.mkdir(exist_ok=True)
    page.wait_for_timeout(300)  # let a week's animation settle before the picture and the checks
    page.screenshot(path=str(SHOTS / f"tour-{name}.png"))
    page.screenshot(path=str(SHOTS / f"tour-{name}-full.png"), full_page=True)
    assert axe_violations(page) == [], name
    assert page.evaluate(OVERFLOW) == [], name


@pytest.mark.parametrize("size", SIZES)
def test_a_class_from_the_form_to_the_debrief(live_server: str, new_page, size: str) -> None:
    form = new_page(**SIZES[size])
    form.goto(live_server + "/facilitate")
    expect(form.locator("#scenario option[value=decoupling-point]")).to_be_attached()
    form.select_option("#scenario", "decoupling-point")
    look(form, f"form-{size}")

    body = {"scenario": "decoupling-point", "teams": 2, "weeks": WEEKS, "end_window": [WEEKS, WEEKS]}
    created = requests.post(f"{live_server}/api/sessions", json={"round_seconds": 0, **body}, timeout=10).json()
    code, secret = created["code"], created["facilitator_secret"]
    student = new_page(**SIZES[size])
    student.goto(f"{live_server}/join/{code}")
    expect(student.locator("#team option[value='1']")).to_be_attached()
    student.fill("#name", "Ada")
    look(student, f"join-{size}")
    student.select_option("#team", "1")
    student.select_option("#role", "retailer")
    student.click("#join-btn")
    expect(student.locator("#game")).to_be_visible()
    teammate: Any = socketio.Client()  # a second player, so the week waits for the team
    teammate.connect(live_server, transports=["websocket"])
    assert teammate.call("join", {"code": code, "name": "Bo", "team": 1, "role": "wholesaler"})["ok"]

    dash = new_page(**SIZES[size])
    dash.goto(f"{live_server}/facilitate/{code}#s={secret}")
    expect(dash.locator("#d-code")).to_have_text(code)
    dash.click("[data-action=start]")
    expect(student.locator("#value")).to_be_enabled()
    if student.locator("#intro").is_visible():
        student.click("#intro-close")
    student.fill("#value", "4")
    student.click("#submit")
    student.wait_for_function(  # sent, or (a value far from the usual) asked once to confirm
        "() => /Submitted/.test(document.querySelector('#decision-status').textContent)"
        " || /anyway/.test(document.querySelector('#submit').textContent)"
    )
    if "anyway" in student.locator("#submit").inner_text():
        look(student, f"play-confirm-{size}")
        student.click("#submit")
    expect(student.locator("#decision-status")).to_contain_text("Submitted")
    look(student, f"play-{size}")
    assert history_fits(student)
    expect(dash.locator("#teams-body")).to_contain_text("Ada")
    look(dash, f"dashboard-{size}")

    projector = new_page(**SIZES[size])
    projector.goto(f"{live_server}/projector/{code}")
    play_to_the_end(live_server, code, secret)
    expect(student.locator("#end-debrief")).to_be_visible()
    look(student, f"end-{size}")
    assert history_fits(student)
    student.goto(f"{live_server}/lang/nl?next=/join/{code}")  # the same end in Dutch: longer words
    expect(student.locator("#end-debrief")).to_be_visible()
    look(student, f"end-nl-{size}")
    expect(student.locator(".ch-points").first).to_contain_text("noord")  # the region's Dutch name
    assert history_fits(student)
    expect(projector.locator("body")).to_contain_text("Team 2")
    expect(projector.locator("#strip-summary")).to_have_text("The game is over.")  # not "no player yet"
    look(projector, f"projector-{size}")
    look(dash, f"dashboard-over-{size}")

    teammate.disconnect()
    debrief = new_page(**SIZES[size])
    debrief.goto(f"{live_server}/debrief/{code}#s={secret}")
    expect(debrief.locator("#ranking tbody tr")).to_have_count(2)
    look(debrief, f"debrief-{size}")


def history_fits(page: Page) -> bool:
    """The player's history table shows all its columns without scrolling sideways."""
    return page.evaluate("() => { const w = document.querySelector('#history-table').closest('.table-wrap');"
                         " return w.scrollWidth <= w.clientWidth; }")  # fmt: skip


def play_to_the_end(base: str, code: str, secret: str) -> None:
    """The facilitator closes every week (bots decide the seats nobody took) and ends the game."""
    fac: Any = socketio.Client()
    fac.connect(base, transports=["websocket"])
    try:
        assert fac.call("facilitate", {"code": code, "secret": secret})["ok"]
        for week in range(1, WEEKS + 1):
            ack = fac.call("control", {"action": "force_round", "week": week})
            assert ack["ok"], ack
        ack = fac.call("control", {"action": "end"})
        assert ack["ok"] or ack["error"]["code"] == "not_running", ack  # over by itself after the last week
    finally:
        fac.disconnect()
