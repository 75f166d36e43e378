"""A class plays the decoupling-point game on phones (390x844) and a laptop (1366x768): the
decoupling point explained where it is chosen, decisions a student can trust (change until the
week closes, odd values confirmed, a bot's decision told), the end of the game, the dashboard's
seat chips. Screenshots of each screen are kept under ``tests/browser/screenshots/``."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from a11y import axe_violations
from playwright.sync_api import Page, expect
from test_browser_pages import join_seat
from test_browser_pages import new_session as pages_session

pytestmark = pytest.mark.browser

SHOTS = Path(__file__).parent / "screenshots"
PHONE = {"width": 390, "height": 844}
LAPTOP = {"width": 1366, "height": 768, "mobile": False}
LONG_NAME = "Wilhelmina van der Bergh-Ooste"  # 30 characters, the most a name may have


def shot(page: Page, name: str) -> None:
    """Keep what the page shows now (the viewport) for a reviewer."""
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"))


def new_session(base: str, **body: Any) -> dict[str, Any]:
    return pages_session(base, **{"scenario": "decoupling-point", "teams": 1, **body})


def close_intro(page: Page) -> None:
    if page.locator("#intro").is_visible():
        page.click("#intro-close")


def in_view(page: Page, selector: str) -> bool:
    """Whether the element's top is within the first screen of the page."""
    box = page.locator(selector).bounding_box()
    return box is not None and 0 <= box["y"] < page.viewport_size["height"]


def test_the_decoupling_point_is_explained_and_the_team_sees_who_chose(live_server: str, new_page) -> None:
    form = new_page(**LAPTOP)
    form.goto(live_server + "/facilitate")
    expect(form.locator("#scenario option[value=decoupling-point]")).to_be_attached()
    form.select_option("#scenario", "decoupling-point")
    # "As in the preset" names the preset's position, and the help says what both rules do
    expect(form.locator("#codp_position option").first).to_have_text("As in the preset (Make to stock, central)")
    expect(form.locator("#codp-help")).to_contain_text("Each team chooses: teams pick their position")
    # what the chosen position means for this preset, under the select
    expect(form.locator("#codp-explain")).to_contain_text("Make to stock, central: Work to order: Retailer")
    form.select_option("#codp_position", "eto")
    expect(form.locator("#codp-explain")).to_contain_text("No stock held anywhere")
    form.locator("#codp-help").scroll_into_view_if_needed()
    shot(form, "setup-form-codp-1366")
    box = form.locator("#bot_policy").bounding_box()
    assert box is not None and box["width"] > 500  # the bots' options are not cut to a few words

    created = new_session(live_server, codp={"rule": "team"})
    code = created["code"]
    ada, wim = new_page(**PHONE), new_page(**PHONE)
    join_seat(ada, live_server, code, "Ada", "retailer")
    join_seat(wim, live_server, code, "Wim", "wholesaler")
    close_intro(ada)
    close_intro(wim)
    options = ada.locator("#codp-options .codp-option")
    expect(options).to_have_count(5)
    expect(ada.get_by_role("radio", name="Make to order", exact=True)).to_be_visible()
    mto = ada.locator("label[for=codp-mto]")
    expect(mto).to_contain_text("Work to order: Retailer, Wholesaler, Manufacturer")
    expect(mto).to_contain_text("Stock held at: Supplier")
    expect(mto).to_contain_text("An order takes 4 weeks through the stages that work to order")
    expect(mto).to_contain_text(
        re.compile(r"Quoted to customers now, with the stock already in the chain: [\d.]+ weeks?")
    )
    expect(mto).to_contain_text("now, 2% of demand: 0% would buy")  # impatient customers walk away
    expect(ada.locator("label[for=codp-mts-local]")).to_contain_text("from the shop's stock at once")
    expect(ada.locator("label[for=codp-eto]")).to_contain_text("No stock held anywhere")
    ada.locator("#codp-card").scroll_into_view_if_needed()
    shot(ada, "codp-options-390")
    # Wim picks make to order: Ada sees the choice at once, and who made it
    wim.check("#codp-mto")
    wim.click("#codp-card button[type=submit]")
    expect(ada.locator("#codp-now")).to_have_text("Your team's choice now: Make to order (chosen by Wim)")
    expect(ada.locator("#codp-mto")).to_be_checked()
    assert axe_violations(ada) == []

    # the facilitator's dashboard at 1366: whole names on the chips, bots at a glance
    fac = new_page(**LAPTOP)
    fac.goto(f"{live_server}/facilitate/{code}#s={created['facilitator_secret']}")
    long = new_page(**PHONE)
    join_seat(long, live_server, code, LONG_NAME, "manufacturer")
    row = fac.locator("#teams-body tr").first
    who = row.locator(".seat", has_text="Manufacturer").locator(".who")
    expect(who).to_have_text(LONG_NAME)
    assert who.evaluate("(n) => n.scrollWidth <= n.clientWidth + 1")  # the whole name shows, not cut
    expect(row.locator(".seat.is-bot")).to_have_count(1)  # the supplier
    long.close()  # the phone goes away: its seat shows offline at a glance
    offline = row.locator(".seat.is-offline", has_text="Manufacturer")
    expect(offline.locator(".tag.offline")).to_have_text("offline")
    shot(fac, "dashboard-chips-1366")
    assert axe_violations(fac) == []


def test_a_decision_can_be_changed_checked_and_is_told_when_a_bot_made_it(live_server: str, new_page) -> None:
    created = new_session(live_server, weeks=6, codp={"rule": "fixed", "position": "mto"})
    code = created["code"]
    ada, wim = new_page(**PHONE), new_page(**PHONE)
    join_seat(ada, live_server, code, "Ada", "retailer")
    join_seat(wim, live_server, code, "Wim", "wholesaler")
    # a make-to-order retailer is not told it makes cases: it handles and passes them on
    expect(ada.locator("#intro-list")).to_contain_text("how many cases you can handle and pass on per week")
    expect(ada.locator("#intro-list")).not_to_contain_text("make per week")
    expect(ada.locator("#intro-list")).to_contain_text("What you ship: what consumers ordered")
    shot(ada, "intro-mto-retailer-390")
    close_intro(ada)
    close_intro(wim)
    expect(ada.locator("#t-score")).to_have_text("–")  # no money before a week is played
    expect(ada.locator("#t-cost")).to_have_text("shown after the first week")
    fac = new_page(**LAPTOP)
    fac.goto(f"{live_server}/facilitate/{code}#s={created['facilitator_secret']}")
    expect(fac.locator("#teams-body tr td").nth(2)).to_have_text("–")
    fac.click("[data-action=start]")
    expect(ada.locator("#value")).to_be_enabled()
    capacity = int(ada.locator("#value").input_value())
    assert capacity >= 30  # the current capacity is offered

    # a capacity far below the usual asks once; the second Submit sends it
    ada.fill("#value", "7")
    ada.click("#submit")
    expect(ada.locator("#decision-error")).to_contain_text(f"7 is far from the usual (about {capacity})")
    expect(ada.locator("#submit")).to_have_text("Submit anyway")
    shot(ada, "confirm-odd-value-390")
    ada.click("#submit")
    expect(ada.locator("#decision-status")).to_contain_text("Submitted: 7")
    expect(ada.locator("#submit")).to_have_text("Change")
    # the typo is mended before the week closes; a second tab on the seat follows
    tab = new_page(**PHONE)
    tab.goto(ada.locator("#handoff-link").get_attribute("href"))
    expect(tab.locator("#value")).to_have_value("7")
    ada.fill("#value", "40")
    ada.click("#submit")
    expect(ada.locator("#decision-status")).to_contain_text("Submitted: 40")
    expect(tab.locator("#value")).to_have_value("40")
    expect(tab.locator("#decision-status")).to_contain_text("Submitted: 40")
    shot(ada, "decision-changed-390")
    # Wim never decides: the facilitator forces the week, and Wim is told what the bot did
    fac.click("[data-action=force_round]")
    expect(wim.locator("#bot-note")).to_contain_text("Time ran out in week 1: a bot decided")
    expect(ada.locator("#bot-note")).to_be_hidden()
    shot(wim, "bot-decided-390")
    # the history shows the number Ada typed, beside what went upstream
    row = ada.locator("#history-table tbody tr", has=ada.locator("th", has_text=re.compile(r"^1$")))
    expect(row.locator("td").nth(1)).to_have_text("40")
    expect(ada.locator("#h-decided")).to_have_text("Your capacity")
    wim_row = wim.locator("#history-table tbody tr", has=wim.locator("th", has_text=re.compile(r"^1$")))
    expect(wim_row.locator("td").nth(1)).to_contain_text("(bot)")
    # a change for a week that closed is refused, and nothing is lost
    ack = ada.evaluate(
        """() => new Promise((done) => {
          const s = io({ transports: ["websocket"] });
          const code = document.querySelector("#seat-code").textContent;
          const token = JSON.parse(localStorage.getItem("beergame.seat." + code)).token;
          s.emit("resume", { token }, () => s.emit("submit", { week: 1, value: 3 }, (a) => { s.close(); done(a); }));
        })"""
    )
    assert ack["ok"] is False and ack["error"]["code"] == "stale_week"
    expect(ada.locator("#t-score")).not_to_have_text("–")
    assert axe_violations(ada) == []


def test_the_end_shows_profit_rank_and_the_debrief_first(live_server: str, new_page) -> None:
    created = new_session(live_server, scenario="classic", teams=2, weeks=3)
    code = created["code"]
    phone = new_page(**PHONE)
    join_seat(phone, live_server, code, "Ada", "retailer")
    close_intro(phone)
    fac = new_page(**LAPTOP)
    fac.goto(f"{live_server}/facilitate/{code}#s={created['facilitator_secret']}")
    fac.click("[data-action=start]")
    expect(phone.locator("#value")).to_be_enabled()
    phone.fill("#value", "4")
    phone.click("#submit")
    expect(phone.locator("#week")).to_contain_text("Week 2")
    phone.evaluate("() => window.scrollTo(0, document.body.scrollHeight)")
    fac.click("[data-action=end]")
    expect(phone.locator("#end-card")).to_be_visible()
    expect(phone.locator("#end-rank")).to_have_text(re.compile(r"^Rank [12] of 2$"))
    expect(phone.locator("#end-profit")).not_to_have_text("–")
    expect(phone.locator("#end-debrief")).to_have_attribute("href", f"/debrief/{code}#team-1")
    assert in_view(phone, "#end-debrief")  # on the first screen, not 4,500 px down
    expect(phone.locator("#t-roles .sr-only")).to_have_count(0)  # no "has not decided yet" after the end
    expect(phone.locator("#t-decided")).to_have_text("")
    expect(phone.locator("#decide")).to_be_hidden()
    shot(phone, "end-390")
    assert axe_violations(phone) == []
    laptop = new_page(**LAPTOP)
    laptop.goto(phone.locator("#handoff-link").get_attribute("href"))
    expect(laptop.locator("#end-card")).to_be_visible()
    expect(laptop.locator("#end-rank")).to_have_text(phone.locator("#end-rank").inner_text())  # opened after the end
    assert in_view(laptop, "#end-debrief")
    shot(laptop, "end-1366")
    # the dashboard after the end: no decided marks on the seat chips
    expect(fac.locator("#teams-body .seat .mark")).to_have_count(0)
    shot(fac, "dashboard-over-1366")


def test_a_review_is_announced_and_its_card_is_not_pushed_down(live_server: str, new_page) -> None:
    created = new_session(live_server, weeks=14, codp={"rule": "team", "position": "mts-local"})
    code = created["code"]
    ada, wim = new_page(**PHONE), new_page(**PHONE)
    join_seat(ada, live_server, code, "Ada", "retailer")
    join_seat(wim, live_server, code, "Wim", "wholesaler")
    close_intro(wim)  # Ada never closes the how-to-play card
    fac = new_page(**LAPTOP)
    fac.goto(f"{live_server}/facilitate/{code}#s={created['facilitator_secret']}")
    fac.click("[data-action=start]")
    for week in range(1, 13):
        expect(fac.locator("#d-week")).to_contain_text(f"Week {week}")
        fac.click("[data-action=force_round]")
    expect(ada.locator("#notice")).to_contain_text("Strategy review: your team may move its decoupling point now")
    # a language switch does not bring the how-to-play card back over the review
    ada.click("nav.langs a[lang=nl]")
    expect(ada.locator("#notice")).to_contain_text("Strategieherziening")
    expect(ada.locator("#intro")).to_be_hidden()
    expect(ada.locator("#codp-card")).to_be_visible()
    assert in_view(ada, "#codp-card")
    shot(ada, "review-nl-390")
    wim.check("#codp-ato")
    wim.click("#codp-card button[type=submit]")
    moved = re.compile(r"^Uw team heeft zijn ontkoppelpunt verplaatst: .+\. \(gekozen door Wim\)$")
    expect(ada.locator("#notice")).to_have_text(moved)
    shot(ada, "review-moved-nl-390")
    assert axe_violations(ada) == []


@pytest.mark.parametrize(("lang", "label"), [("en-GB", "("), ("nl-NL", "(details in het Engels: ")])
def test_an_upload_error_shows_beside_the_file_picker(live_server: str, new_page, lang: str, label: str) -> None:
    page = new_page(**LAPTOP, lang=lang, allow=(r"status of 400",))
    page.goto(live_server + "/facilitate")
    expect(page.locator("#scenario option[value=classic]")).to_be_attached()
    page.click("#scn-edit summary")
    expect(page.locator("#scn-keys input").first).to_be_visible()
    bad = b'name = "mine"\n[[stages]]\nrole = "retailer"\norder_delay = 0\n'
    page.set_input_files("#scn-file", files=[{"name": "mine.toml", "mimeType": "text/plain", "buffer": bad}])
    error = page.locator("#scn-file-error")
    expect(error).to_contain_text("mine.toml")
    expect(error).to_contain_text(label)  # the server's detail, said to be English on a Dutch page
    picker, shown = page.locator("#scn-file").bounding_box(), error.bounding_box()
    assert picker is not None and shown is not None and 0 < shown["y"] - picker["y"] < 120
    shot(page, f"upload-error-{lang}-1366")


def test_layout_details_in_dutch(live_server: str, new_page) -> None:
    """The projector's team header sits over the team names, a team's name never wraps, and a
    printed debrief keeps a heading with what follows it."""
    created = new_session(live_server, scenario="classic", teams=2, weeks=2)
    code, secret = created["code"], created["facilitator_secret"]
    proj = new_page(**LAPTOP, lang="nl-NL")
    proj.goto(f"{live_server}/projector/{code}")
    expect(proj.locator("#board-body tr")).to_have_count(2)
    head, name = proj.locator(".board thead th").nth(1), proj.locator("#board-body th").first
    assert head.evaluate("(n) => getComputedStyle(n).textAlign") == "left"
    assert abs(head.bounding_box()["x"] - name.bounding_box()["x"]) < 20
    expect(proj.locator("#board-body td").nth(2)).to_have_text("–")  # no money before a week is played
    shot(proj, "projector-nl-1366")
    fac = new_page(width=390, height=844, lang="nl-NL")
    fac.goto(f"{live_server}/facilitate/{code}#s={secret}")
    team = fac.locator("#teams-body .team-name").first
    expect(team).to_have_text("Team 1")
    assert team.bounding_box()["height"] < 30  # one line: "Team" and "1" together
    fac.click("[data-action=start]")
    for _ in range(2):
        fac.click("[data-action=force_round]")
        fac.wait_for_timeout(200)
    deb = new_page(**LAPTOP, lang="nl-NL")
    deb.goto(f"{live_server}/debrief/{code}#s={secret}")
    expect(deb.locator("#ranking tbody tr")).to_have_count(2)
    deb.emulate_media(media="print")
    assert deb.locator("h2").first.evaluate("(n) => getComputedStyle(n).breakAfter") == "avoid"
