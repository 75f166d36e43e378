"""A class plays in real browsers: a facilitator, four phones in team 1, team 2 all bots.

Covers: creating a session from a preset, joining by code, submitting and waiting, a reload
that restores the seat, forcing a round, ending the game, the debrief charts and the CSV.
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from test_browser_pages import join_seat

pytestmark = pytest.mark.browser

ROLES = ["retailer", "wholesaler", "distributor", "factory"]
LABELS = {"retailer": "Retailer", "wholesaler": "Wholesaler", "distributor": "Distributor", "factory": "Factory"}
WEEKS = 12


def create_session(page: Page, base: str, teams: int) -> str:
    page.goto(base + "/facilitate")
    expect(page.locator("#scenario option[value=classic]")).to_be_attached()
    page.select_option("#scenario", "classic")
    page.fill("#teams", str(teams))
    page.fill("#weeks", str(WEEKS))
    page.fill("#round_seconds", "0")
    page.click("#create-btn")
    page.wait_for_url(re.compile(r"/facilitate/[A-Z0-9]+$"))
    code = page.url.rsplit("/", 1)[1]
    expect(page.locator("#d-code")).to_have_text(code)
    expect(page.locator("#teams-body tr")).to_have_count(teams)
    return code


def join(page: Page, base: str, code: str, name: str, role: str) -> None:
    join_seat(page, base, code, name, role)
    expect(page.locator("#seat-label")).to_have_text(LABELS[role])


def week_text(week: int) -> str:
    return f"Week {week}"  # the players are not told the last week (classic, as Sterman's)


def submit(page: Page, value: int, last: bool = False) -> None:
    """Type and submit this week's decision; unless it is the team's last one (which ends
    the week at once), the page shows it as submitted."""
    expect(page.locator("#value")).to_be_enabled()
    page.fill("#value", str(value))
    page.click("#submit")
    if not last:
        expect(page.locator("#decision-status")).to_contain_text("Submitted")


def test_a_class_plays_in_browsers(live_server: str, new_page) -> None:
    base = live_server
    fac = new_page(width=1280, height=900, mobile=False)
    code = create_session(fac, base, teams=2)

    players = {role: new_page() for role in ROLES}
    for role, page in players.items():
        join(page, base, code, f"Player {role}", role)
    # the dashboard shows who holds team 1's seats; team 2 is all bots
    rows = fac.locator("#teams-body tr")
    expect(rows.nth(0)).to_contain_text("Player retailer")
    expect(rows.nth(1).locator(".tag.bot")).to_have_count(4)
    expect(rows.nth(0).locator(".tag.bot")).to_have_count(0)

    # before the start the decision is closed and the player is told why
    expect(players["retailer"].locator("#banner")).to_contain_text("Waiting for the facilitator")
    expect(players["retailer"].locator("#value")).to_be_disabled()

    fac.click("[data-action=start]")
    for page in players.values():
        expect(page.locator("#week")).to_have_text(week_text(1))
        expect(page.locator("#value")).to_have_attribute("inputmode", "numeric")

    # weeks 1-2: everyone decides; the early deciders wait for the others
    for week in (1, 2):
        for i, role in enumerate(ROLES):
            last = i == len(ROLES) - 1
            submit(players[role], 4 + i, last=last)
            if not last:
                expect(players[role].locator("#decision-status")).to_contain_text("Waiting for the others")
        for page in players.values():
            expect(page.locator("#week")).to_have_text(week_text(week + 1))
            expect(page.locator("#value")).to_be_enabled()

    # only the consumer-facing retailer sees its market (sold, walked away)
    expect(players["retailer"].locator("#v-lost")).to_be_visible()
    expect(players["retailer"].locator("#v-lost")).to_have_text("0")
    expect(players["wholesaler"].locator("#v-lost")).to_be_hidden()

    # the history shows the weeks played, the facilitator sees team 1 in week 3
    expect(players["retailer"].locator("#history-table tbody tr")).to_have_count(3)
    expect(fac.locator("#teams-body tr").nth(0).locator("td").nth(0)).to_have_text("3")

    # week 3: the wholesaler reloads before deciding and carries on in the same seat
    submit(players["retailer"], 8)
    wholesaler = players["wholesaler"]
    wholesaler.reload()
    expect(wholesaler.locator("#join")).to_be_hidden()
    expect(wholesaler.locator("#seat-label")).to_have_text("Wholesaler")
    expect(wholesaler.locator("#week")).to_have_text(week_text(3))
    expect(wholesaler.locator("#t-decided")).to_contain_text("Decided: 1 of 4")
    for role in ("wholesaler", "distributor", "factory"):
        submit(players[role], 8, last=role == "factory")
    for page in players.values():
        expect(page.locator("#week")).to_have_text(week_text(4))

    # a reload after deciding keeps the submitted state (and the value, which may still change)
    submit(players["factory"], 6)
    players["factory"].reload()
    expect(players["factory"].locator("#decide")).to_have_class(re.compile(r"\bdone\b"))
    expect(players["factory"].locator("#value")).to_have_value("6")
    expect(players["factory"].locator("#decision-status")).to_contain_text("Submitted: 6")

    # week 4: only the factory decided; the facilitator forces the round and bots fill in
    # (force_round names the week the dashboard shows: wait until it shows week 4)
    expect(fac.locator("#d-week")).to_have_text(week_text(4))
    fac.click("[data-action=force_round]")
    for page in players.values():
        expect(page.locator("#week")).to_have_text(week_text(5))
        expect(page.locator("#value")).to_be_enabled()

    # week 5 played normally, then the facilitator ends the game
    for role in ROLES:
        submit(players[role], 5, last=role == ROLES[-1])
    for page in players.values():
        expect(page.locator("#week")).to_have_text(week_text(6))
    # the facilitator lets a bot play the distributor's seat, then gives it back
    distributor = players["distributor"]
    # (with the keyboard: the redrawn grid keeps the focus on the same seat's button)
    fac.get_by_role("button", name="Let a bot play Distributor of team 1").focus()
    fac.keyboard.press("Enter")
    expect(distributor.locator("#banner")).to_contain_text("A bot is playing your seat")
    expect(distributor.locator("#value")).to_be_disabled()
    seat = fac.locator("#teams-body tr").nth(0).locator(".seat", has_text="Distributor")
    expect(seat.locator(".tag.bot")).to_have_count(1)
    expect(fac.get_by_role("button", name="Give Distributor of team 1 back to its player")).to_be_focused()
    fac.keyboard.press("Enter")
    expect(seat.locator(".tag.bot")).to_have_count(0)
    expect(distributor.locator("#banner")).to_be_hidden()
    expect(distributor.locator("#value")).to_be_enabled()
    expect(distributor.locator("#week")).to_have_text(week_text(6))

    fac.click("[data-action=end]")
    for page in players.values():
        expect(page.locator("#end-card")).to_contain_text("The game is over")
        expect(page.locator("#end-debrief")).to_be_visible()

    # debrief: class ranking, then team 1's charts hold the weeks played
    fac.goto(f"{base}/debrief/{code}")
    expect(fac.locator("#ranking tbody tr")).to_have_count(2)
    bullwhip = fac.evaluate("() => Chart.getChart('c-class-bw').data.datasets.map((d) => d.data.length)")
    assert bullwhip == [2] * len(ROLES)
    fac.click("[data-view=team-1]")
    expect(fac.locator("#team-view")).to_be_visible()
    for canvas in ("c-orders", "c-stock", "c-cost", "c-compare"):
        expect(fac.locator(f"#{canvas}")).to_be_visible()
    played = fac.evaluate(
        "() => ['c-orders', 'c-stock', 'c-cost'].map((id) => {"
        "  const c = Chart.getChart(id); return c ? c.data.labels.length : -1; })"
    )
    weeks_played = 5
    assert played[0] == played[1] == weeks_played
    assert played[2] == len(ROLES)
    orders = fac.evaluate("() => Chart.getChart('c-orders').data.datasets.map((d) => d.data)")
    # consumer demand plus one line per stage; the retailer's week-1 order is what its player typed
    assert len(orders) == 1 + len(ROLES)
    expect(fac.locator("#compare-note")).to_contain_text("best plans")
    expect(fac.locator("#stages-table tbody tr")).to_have_count(len(ROLES))
    expect(fac.locator("#channels-card")).to_be_hidden()  # one channel: nothing to compare

    # the CSV download holds every week played, for every role of both teams
    with fac.expect_download() as info:
        fac.click("#dl-csv")
    text = Path(info.value.path()).read_text(encoding="utf-8")
    rows_csv = list(csv.DictReader(io.StringIO(text)))
    team1 = [r for r in rows_csv if r["team"] == "1"]
    assert sorted({int(r["week"]) for r in team1}) == list(range(1, weeks_played + 1))
    assert len(team1) == weeks_played * len(ROLES)
    retailer_w1 = next(r for r in team1 if r["week"] == "1" and r["role"] == "retailer")
    assert int(retailer_w1["order"]) == 4  # the retailer typed 4 in week 1
    assert {r["team"] for r in rows_csv} == {"1", "2"}

    # a player sees the debrief once the game is over (with their own token)
    retailer = players["retailer"]
    retailer.click("#end-debrief")
    expect(retailer.locator("#team-view")).to_be_visible()
    expect(retailer.locator("#h-team")).to_have_text(re.compile(r"^Team 1"))
