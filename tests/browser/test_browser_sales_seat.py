"""A player takes the sales seat on a phone (390x844, English) and a laptop (1366x768, Dutch):
the one number is the lead time promised to customers, with the chain's quote and the customers
waiting beside it, and the promise against the lead time delivered week by week; axe finds no
serious problem. Screenshots are kept under ``tests/browser/screenshots/`` (git-ignored)."""

from __future__ import annotations

from pathlib import Path

import pytest
import requests
from a11y import axe_violations
from playwright.sync_api import Page, expect
from test_browser_pages import join_seat

pytestmark = pytest.mark.browser

SHOTS = Path(__file__).parent / "screenshots"


def join_sales(page: Page, base: str, code: str, name: str, team: int) -> None:
    join_seat(page, base, code, name, "sales", team)
    if page.locator("#intro").is_visible():
        page.click("#intro-close")


def promise(page: Page, week: int, value: int) -> None:
    page.fill("#value", str(value))
    page.click("#submit")
    expect(page.locator("#week")).to_contain_text(str(week + 1))


@pytest.mark.parametrize(
    ("size", "lang", "team", "texts"),
    [
        (
            {"width": 390, "height": 844},
            "en-GB",
            1,
            ("Sales", "The lead time you promise customers, in weeks", "Promise in force", "Customers waiting"),
        ),
        (
            {"width": 1366, "height": 768, "mobile": False},
            "nl-NL",
            2,
            ("Verkoop", "De levertijd die u klanten belooft, in weken", "Geldende belofte", "Wachtende klanten"),
        ),
    ],
)
def test_a_player_promises_lead_times_in_the_sales_seat(
    live_server: str, new_page, size: dict, lang: str, team: int, texts: tuple[str, ...]
) -> None:
    body = {"scenario": "order-acceptance", "teams": 2, "weeks": 10, "seed": 3, "round_seconds": 0}
    created = requests.post(f"{live_server}/api/sessions", json=body, timeout=10).json()
    code, secret = created["code"], created["facilitator_secret"]
    page = new_page(lang=lang, **size)
    join_sales(page, live_server, code, "Sam", team)
    label, decision, in_force, waiting = texts
    expect(page.locator("#seat-label")).to_have_text(label)
    fac = new_page(width=1280, mobile=False)
    fac.goto(f"{live_server}/facilitate/{code}#s={secret}")
    fac.click("[data-action=start]")
    expect(page.locator("#decision-label")).to_have_text(decision)
    expect(page.locator("#sales-card")).to_be_visible()
    expect(page.locator("#h-now")).to_be_hidden()  # a stage's stock is not the sales seat's to see
    expect(page.locator("#sales-card")).to_contain_text(in_force)
    expect(page.locator("#h-queue")).to_have_text(waiting)
    expect(page.locator("#s-promise")).to_have_text("3")  # the preset's promise, in force until the first decision
    promise(page, 1, 2)
    promise(page, 2, 5)
    expect(page.locator("#s-promise")).to_have_text("5")
    expect(page.locator("#decision-label")).to_have_text(decision)  # still, after the decisions went out
    expect(page.locator("#decision-help")).to_contain_text("0")
    expect(page.locator("#t-roles .chip.me")).to_contain_text(label)
    rows = page.locator("#s-history tbody tr")
    expect(rows).to_have_count(3)  # weeks 1 and 2 played, week 3 being decided
    expect(rows.nth(1).locator("td").first).to_have_text("2")  # week 2's customers: the week-1 promise
    expect(rows.nth(2).locator("td").first).to_have_text("3")
    assert int(page.locator("#s-waiting").inner_text()) > 0
    assert axe_violations(page) == []
    SHOTS.mkdir(exist_ok=True)
    tag = f"sales-seat-{size['width']}"
    page.screenshot(path=str(SHOTS / f"{tag}.png"))
    page.screenshot(path=str(SHOTS / f"{tag}-full.png"), full_page=True)
