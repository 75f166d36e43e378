"""The pages one by one: languages, QR code, projector without secrets, keyboard, accessibility
(axe-core), the 360 px phone layout, and the player page's weight."""

from __future__ import annotations

import io
import re
import xml.etree.ElementTree as ET
from typing import Any

import pytest
import requests
import segno
from a11y import axe_violations
from playwright.sync_api import Page, expect
from support import wait_until

pytestmark = pytest.mark.browser


def new_session(base: str, **body: Any) -> dict[str, Any]:
    r = requests.post(f"{base}/api/sessions", json={"scenario": "classic", "round_seconds": 0, **body}, timeout=10)
    assert r.status_code == 201, r.text
    return r.json()


def join_by_keyboard(page: Page, base: str, code: str, name: str) -> None:
    """Join using the keyboard only: type the code, Tab to the name, Enter to send."""
    page.goto(base + "/")
    page.focus("#code")
    page.keyboard.type(code)
    page.keyboard.press("Tab")
    expect(page.locator("#name")).to_be_focused()
    page.keyboard.type(name)
    page.keyboard.press("Enter")
    expect(page.locator("#game")).to_be_visible()


def join_seat(page: Page, base: str, code: str, name: str, role: str, team: int = 1) -> None:
    """Join ``team`` in ``role`` from the join link's form, and wait for the game screen."""
    page.goto(f"{base}/join/{code}")
    expect(page.locator(f"#team option[value='{team}']")).to_be_attached()
    page.fill("#name", name)
    page.select_option("#team", str(team))
    page.select_option("#role", role)
    page.click("#join-btn")
    expect(page.locator("#game")).to_be_visible()


def test_language_follows_the_browser_and_the_switch(live_server: str, new_page) -> None:
    page = new_page(lang="nl-NL")
    page.goto(live_server + "/")
    expect(page.locator("html")).to_have_attribute("lang", "nl")
    expect(page.locator("#h-join")).to_have_text("Doe mee met een spel")
    # strings made by the scripts come from the same catalogue
    expect(page.locator("#conn")).to_have_text("Verbonden")
    page.click("nav.langs a[lang=en]")
    expect(page.locator("#h-join")).to_have_text("Join a game")
    expect(page.locator("#conn")).to_have_text("Connected")
    page.reload()
    expect(page.locator("#h-join")).to_have_text("Join a game")
    # an English browser gets English until it switches
    other = new_page(lang="en-US")
    other.goto(live_server + "/facilitate")
    expect(other.locator("#h-create")).to_have_text("Set up a game")
    other.click("nav.langs a[lang=nl]")
    expect(other.locator("#h-create")).to_have_text("Een spel opzetten")
    expect(other).to_have_url(re.compile(r"/facilitate$"))


def test_qr_code_is_an_svg_of_the_join_link(live_server: str) -> None:
    created = new_session(live_server)
    code, join_url = created["code"], created["join_url"]
    r = requests.get(f"{live_server}/qr/{code}.svg", timeout=10)
    assert r.status_code == 200
    assert r.headers["Content-Type"].startswith("image/svg+xml")
    root = ET.fromstring(r.content)
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    paths = [p.get("d") for p in root.iter("{http://www.w3.org/2000/svg}path")]
    # the drawn modules are exactly those of the join link's QR code
    expected = io.BytesIO()
    assert join_url.endswith(f"/join/{code}")
    segno.make(join_url, error="m").save(expected, kind="svg", scale=8, border=2, xmldecl=False)
    want = [p.get("d") for p in ET.fromstring(expected.getvalue()).iter("{http://www.w3.org/2000/svg}path")]
    assert paths[-1] == want[-1]
    other = io.BytesIO()
    segno.make(join_url.replace(code, "XXXX"), error="m").save(other, kind="svg", scale=8, border=2, xmldecl=False)
    assert (
        paths[-1] != [p.get("d") for p in ET.fromstring(other.getvalue()).iter("{http://www.w3.org/2000/svg}path")][-1]
    )
    assert requests.get(f"{live_server}/qr/not%20a%20code.svg", timeout=10).status_code == 404


def test_projector_shows_the_ranking_and_no_secrets(live_server: str, new_page) -> None:
    created = new_session(live_server, teams=3)
    page = new_page(width=1280, height=720, mobile=False)
    frames: list[str] = []
    page.on("websocket", lambda ws: ws.on("framereceived", lambda f: frames.append(str(f))))
    page.goto(f"{live_server}/projector/{created['code']}")
    expect(page.locator("#board-body tr")).to_have_count(3)
    expect(page.locator(".joincode")).to_have_text(created["code"])
    expect(page.locator("img.qr")).to_be_visible()
    html = page.content()
    assert created["facilitator_secret"] not in html
    assert not any(created["facilitator_secret"] in f for f in frames)
    assert not any('"token"' in f or '"demand"' in f for f in frames)


def test_player_screen_is_labelled_keyboard_operable_and_fits_a_phone(live_server: str, new_page) -> None:
    created = new_session(live_server, teams=1, visibility={"pos_demand": True, "inventories": True})
    page = new_page(width=360, height=740)
    page.goto(live_server + "/")
    assert axe_violations(page) == []
    join_by_keyboard(page, live_server, created["code"], "Grace")
    expect(page.locator("#banner")).to_be_visible()
    # the facilitator starts; the player decides with the keyboard
    fac = new_page(width=1280, mobile=False)
    fac.goto(f"{live_server}/facilitate/{created['code']}#s={created['facilitator_secret']}")
    fac.click("[data-action=start]")
    expect(page.locator("#value")).to_be_enabled()
    value = page.locator("#value")
    assert value.get_attribute("inputmode") == "numeric"
    assert value.get_attribute("pattern") == "[0-9]*"
    page.focus("#value")
    page.keyboard.type("99999")
    page.keyboard.press("Enter")
    expect(page.locator("#decision-error")).to_contain_text("between 0 and")
    page.fill("#value", "")
    page.keyboard.type("7")
    page.keyboard.press("Enter")
    expect(page.locator("#week")).to_have_text(re.compile(r"^Week 2$"))
    expect(page.locator("#visibility li.yes")).to_have_count(3)
    # the classic game's cost rates, as the rules set them, are on the screen
    expect(page.locator("#rates")).to_have_text(
        "Your costs each week: 0.50 per unit in stock · 1.00 per unit owed (backlog)"
    )
    assert axe_violations(page) == []
    # nothing sticks out sideways on a 360 px phone
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 360
    # the facilitator's pages pass the same checks
    assert axe_violations(fac) == []


def test_projector_and_set_up_form_pass_axe(live_server: str, new_page) -> None:
    created = new_session(live_server, teams=2)
    page = new_page(width=1280, height=720, mobile=False)
    page.goto(f"{live_server}/projector/{created['code']}")
    expect(page.locator("#board-body tr")).to_have_count(2)
    assert axe_violations(page) == []
    create = new_page(width=360, mobile=True)
    create.goto(live_server + "/facilitate")
    expect(create.locator("#scenario option[value=classic]")).to_be_attached()
    assert axe_violations(create) == []
    assert create.evaluate("() => document.documentElement.scrollWidth") <= 360


PAGE_BUDGET_BYTES = 150_000


def test_player_page_weight(live_server: str, new_page) -> None:
    """Everything the player page transfers on a first visit (cache empty), Socket.IO included."""
    created = new_session(live_server, teams=1)
    page = new_page(width=360, height=740)
    responses: list[Any] = []
    # kept here and read afterwards: a handler that waits on the browser can miss some
    page.on("response", lambda r: responses.append(r))
    page.goto(f"{live_server}/join/{created['code']}")
    expect(page.locator("#conn")).to_have_text("Connected")
    expect(page.locator("#team option[value='1']")).to_be_attached()
    sizes: dict[str, int] = {}
    wire: dict[str, int] = {}  # as transferred: bodies compressed by the server
    for response in list(responses):  # those until now: polls that come in while reading do not count
        try:
            body = response.body()
            sent = response.request.sizes()
        except Exception:  # redirects and aborted polls have no body
            continue
        headers = sum(len(k) + len(v) + 4 for k, v in response.headers.items())
        sizes[response.url] = sizes.get(response.url, 0) + len(body) + headers
        wire[response.url] = wire.get(response.url, 0) + sent["responseBodySize"] + sent["responseHeadersSize"]
    # Engine.IO's polling messages are the connection talking, not what the page is made of:
    # under load their number varies (a slow upgrade keeps the poll loop going), so they are
    # shown but not weighed; the Socket.IO client library is weighed like any script
    chatter = {u: n for u, n in sizes.items() if "/socket.io/?" in u}
    sizes = {u: n for u, n in sizes.items() if u not in chatter}
    total = sum(sizes.values())
    for url, size in sorted(sizes.items(), key=lambda kv: -kv[1]):
        print(f"{size:>8} {wire.get(url, 0):>8} {url.replace(live_server, '')}")
    print(f"{total:>8} {sum(wire[u] for u in sizes):>8} total ({len(sizes)} responses; uncompressed, as transferred)")
    print(f"{sum(chatter.values()):>8} in {len(chatter)} polling messages, not weighed")
    # the server compresses pages, scripts and JSON
    assert sum(wire[u] for u in sizes) < total / 2
    assert any("socket.io-4.8.4.min.js" in u for u in sizes)
    assert not any("chart-" in u for u in sizes), "the player page must not load the chart library"
    assert total < PAGE_BUDGET_BYTES


def test_a_team_chooses_its_decoupling_point(live_server: str, new_page) -> None:
    created = new_session(live_server, teams=2, codp={"rule": "team"})
    page = new_page()
    join_seat(page, live_server, created["code"], "Lin", "retailer")
    expect(page.locator("#codp-card")).to_be_visible()
    expect(page.locator("#decision-label")).to_have_text("Your order this week")
    page.get_by_label("Make to order").check()
    page.click("#codp-card button[type=submit]")
    # the retailer now works to order: its decision is its capacity
    expect(page.locator("#decision-label")).to_have_text("Your capacity this week")
    fac = new_page(width=1280, mobile=False)
    fac.goto(f"{live_server}/facilitate/{created['code']}#s={created['facilitator_secret']}")
    expect(fac.locator("#teams-body tr").nth(0).locator("th .codp")).to_have_text("Make to order")
    # once the game runs the choice is closed
    fac.click("[data-action=start]")
    expect(page.locator("#codp-card")).to_be_hidden()


def test_a_team_picks_whether_its_web_shop_drop_ships(live_server: str, new_page) -> None:
    created = new_session(live_server, scenario="ecommerce", teams=1, codp={"rule": "team", "position": "mts-local"})
    page = new_page()
    join_seat(page, live_server, created["code"], "Sam", "ecommerce")
    expect(page.locator("#shop-options")).to_be_visible()
    expect(page.get_by_label("Own warehouse (make to stock)")).to_be_checked()
    expect(page.locator("#decision-label")).to_have_text("Your order this week")
    page.get_by_label("Drop-ship (to order)").check()
    page.click("#codp-card button[type=submit]")
    expect(page.locator("#decision-label")).to_have_text("Your capacity this week")
    fac = new_page(width=1280, mobile=False)
    fac.goto(f"{live_server}/facilitate/{created['code']}#s={created['facilitator_secret']}")
    row = fac.locator("#teams-body tr").nth(0).locator("th .codp")
    expect(row).to_have_text("Make and ship to stock · web shop drop-ships")


def test_dashboard_needs_the_facilitator_secret(live_server: str, new_page) -> None:
    created = new_session(live_server, teams=2)
    page = new_page(width=1280, mobile=False)
    page.goto(f"{live_server}/facilitate/{created['code']}")
    expect(page.locator("#secret-form")).to_be_visible()
    expect(page.locator("#teams-body tr")).to_have_count(0)
    page.fill("#secret-input", "not-the-secret")
    page.click("#secret-form button")
    expect(page.locator("#dash-error")).to_have_text("You are not allowed to do that.")
    expect(page.locator("#teams-body tr")).to_have_count(0)
    page.fill("#secret-input", created["facilitator_secret"])
    page.click("#secret-form button")
    expect(page.locator("#teams-body tr")).to_have_count(2)
    expect(page.locator("#secret-form")).to_be_hidden()
    expect(page.locator("[data-action=start]")).to_be_enabled()
    # the secret stays out of sight until asked for
    expect(page.locator("#d-secret")).to_be_hidden()
    page.click("#d-secret-box summary")
    expect(page.locator("#d-secret")).to_have_text(created["facilitator_secret"])


def test_projector_fits_a_big_class(live_server: str, new_page) -> None:
    created = new_session(live_server, teams=14)
    page = new_page(width=1280, height=720, mobile=False)
    page.goto(f"{live_server}/projector/{created['code']}")
    expect(page.locator("#board-body tr")).to_have_count(9)  # the top eight beside the class's charts
    expect(page.locator("#board-body td.more")).to_have_text("… and 6 more teams")


def test_pause_resume_and_timer(live_server: str, new_page) -> None:
    created = new_session(live_server, teams=1)
    player = new_page()
    join_by_keyboard(player, live_server, created["code"], "Rosa")
    fac = new_page(width=1280, mobile=False)
    fac.goto(f"{live_server}/facilitate/{created['code']}#s={created['facilitator_secret']}")
    fac.click("[data-action=start]")
    expect(player.locator("#value")).to_be_enabled()
    expect(player.locator("#timer")).to_have_text("")  # no timer in this session
    fac.click("[data-action=pause]")
    expect(player.locator("#banner")).to_have_text("The game is paused.")
    expect(player.locator("#value")).to_be_disabled()
    expect(fac.locator("#d-status")).to_have_text("Paused")
    fac.click("[data-action=resume]")
    expect(player.locator("#banner")).to_be_hidden()
    expect(player.locator("#value")).to_be_enabled()
    # a round timer from now on: the player sees the seconds left
    fac.fill("#timer-seconds", "300")
    fac.click("#timer-form button[type=submit]")
    expect(player.locator("#timer")).to_have_text(re.compile(r"^\d+ s left$"))
    expect(fac.locator("#d-timer")).to_have_text(re.compile(r"^\d+ s left$"))


def test_debrief_shows_the_sales_of_each_channel(live_server: str, new_page) -> None:
    """E-commerce beside the retail chain: the debrief puts both channels side by side."""
    created = new_session(live_server, scenario="ecommerce", teams=1, weeks=3)
    code = created["code"]
    fac = new_page(width=1280, mobile=False)
    fac.goto(f"{live_server}/facilitate/{code}#s={created['facilitator_secret']}")
    fac.click("[data-action=start]")  # nobody joined: the bots play every seat at their own pace

    def over() -> bool:
        return requests.get(f"{live_server}/api/sessions/{code}", timeout=5).json()["status"] == "over"

    wait_until(over, timeout=60, every=0.2)
    fac.goto(f"{live_server}/debrief/{code}")
    fac.click("[data-view=team-1]")
    rows = fac.locator("#channels-table tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.nth(0).locator("th")).to_have_text("Retailer")
    expect(rows.nth(1).locator("th")).to_have_text("Web shop")
    shares = [rows.nth(k).locator("td").nth(3).inner_text() for k in range(2)]
    assert all(share.endswith("%") for share in shares)


def test_dashboard_and_debrief_show_stock_per_region_and_segment(live_server: str, new_page) -> None:
    """Four regional markets: the facilitator looks inside a team during the game and sees each
    region's shop stock; the debrief shows each region and each segment's lost customers."""
    created = new_session(live_server, scenario="decoupling-point", teams=2, weeks=3)
    code = created["code"]
    fac = new_page(width=1280, mobile=False)
    fac.goto(f"{live_server}/facilitate/{code}#s={created['facilitator_secret']}")
    expect(fac.locator("#teams-body tr")).to_have_count(2)
    fac.locator("#teams-body tr").nth(1).get_by_role("button", name="Look inside").click()
    expect(fac.locator("#h-detail")).to_contain_text("Team 2")
    expect(fac.locator("#detail-stages tbody tr")).to_have_count(4)
    points = fac.locator("#detail-points-table tbody tr")
    expect(points).to_have_count(4)  # the shop in each of the four regions
    expect(points.nth(0).locator("td").nth(0)).to_have_text("north")
    fac.click("#detail-close")
    expect(fac.locator("#team-detail")).to_be_hidden()
    fac.click("[data-action=start]")

    def over() -> bool:
        return requests.get(f"{live_server}/api/sessions/{code}", timeout=5).json()["status"] == "over"

    wait_until(over, timeout=60, every=0.2)
    fac.goto(f"{live_server}/debrief/{code}")
    fac.click("[data-view=team-1]")
    regions = fac.locator("#points-table tbody tr")
    expect(regions).to_have_count(4)
    expect(regions.nth(3).locator("td").nth(0)).to_have_text("west")
    segments = fac.locator("#segments-table tbody tr")
    expect(segments).to_have_count(3)
    expect(segments.nth(0).locator("th")).to_have_text("now")


def test_a_player_takes_the_seat_to_another_phone(live_server: str, new_page) -> None:
    """The hand-off link carries the seat token in the URL fragment: the new phone resumes the seat."""
    created = new_session(live_server, teams=1)
    code = created["code"]
    first = new_page()
    join_by_keyboard(first, live_server, code, "Linus")
    seat = first.locator("#seat-label").inner_text()
    link = first.locator("#handoff-link").get_attribute("href")
    assert link.startswith(f"{live_server}/join/{code}#t=")
    other = new_page()  # another phone: its own storage, no token
    other.goto(link)
    expect(other.locator("#game")).to_be_visible()
    expect(other.locator("#seat-label")).to_have_text(seat)
    assert "#" not in other.url  # the token leaves the address bar
    fac = new_page(width=1280, mobile=False)
    fac.goto(f"{live_server}/facilitate/{code}#s={created['facilitator_secret']}")
    fac.click("[data-action=start]")
    expect(other.locator("#value")).to_be_enabled()
    other.fill("#value", "6")
    other.keyboard.press("Enter")
    expect(other.locator("#week")).to_have_text(re.compile(r"^Week 2$"))
