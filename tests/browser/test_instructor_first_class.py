"""An instructor's first class, in Chromium: join links and QR codes that phones reach, a scenario
of one's own from the browser, slides from the debrief, and a student's first minute."""

from __future__ import annotations

import io
import re
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import psutil
import pytest
import requests
from playwright.sync_api import Page, expect
from support import free_port, server_env, start_server, stop_server
from test_browser_pages import join_seat

pytestmark = pytest.mark.browser

SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"
CUSTOM = (SCENARIOS / "custom.toml").read_text(encoding="utf-8")


def new_session(base: str, **body: Any) -> dict[str, Any]:
    r = requests.post(f"{base}/api/sessions", json={"scenario": "classic", "round_seconds": 0, **body}, timeout=10)
    assert r.status_code == 201, r.text
    return r.json()


def qr_url(page: Page, selector: str) -> str:
    """The URL in the QR code as the browser draws it (decoded from a screenshot)."""
    import zxingcpp
    from PIL import Image

    expect(page.locator(selector)).to_be_visible()
    # loaded (a broken image is "complete" too) and decoded, so that the screenshot has it
    page.wait_for_function(f"() => document.querySelector({selector!r}).complete")
    assert page.evaluate("s => document.querySelector(s).naturalWidth", selector) > 0, "the QR code did not load"
    page.evaluate("s => document.querySelector(s).decode()", selector)
    for _ in range(3):  # a picture taken while the page still lays itself out may catch it mid-move
        shot = Image.open(io.BytesIO(page.locator(selector).screenshot()))
        codes = zxingcpp.read_barcodes(shot)
        if codes:
            break
        page.wait_for_timeout(500)
    assert len(codes) == 1, "no QR code found in the picture"
    return codes[0].text


def machine_addresses() -> tuple[set[str], set[str]]:
    """This machine's IPv4 addresses: (all, those that are not loopback or link-local)."""
    every = {a.address for addrs in psutil.net_if_addrs().values() for a in addrs if a.family.name == "AF_INET"}
    return every, {a for a in every if not a.startswith(("127.", "169.254."))}


def test_join_link_and_qr_code_reach_this_machine_from_other_devices(live_server: str, new_page) -> None:
    created = new_session(live_server)
    code = created["code"]
    assert urlsplit(live_server).hostname == "127.0.0.1"  # the page is opened on loopback
    page = new_page(width=1280, mobile=False)
    page.goto(f"{live_server}/facilitate/{code}#s={created['facilitator_secret']}")
    url = qr_url(page, "#qr")
    parts = urlsplit(url)
    every, others = machine_addresses()
    assert parts.path == f"/join/{code}" and parts.port == urlsplit(live_server).port
    assert expect(page.locator("#d-link")).to_have_text(url.removeprefix("http://")) is None
    if others:  # the machine has another interface: phones get that address
        assert parts.hostname in others, url
        expect(page.locator("#d-where")).to_have_attribute("data-source", "network")
        expect(page.locator("#d-where")).to_contain_text("address on the network")
    else:  # only loopback: the dashboard warns
        assert parts.hostname in every
        expect(page.locator("#d-where.warning")).to_contain_text("Only this machine can open this link")
    # the projector's QR code and the API agree
    proj = new_page(width=1280, mobile=False)
    proj.goto(f"{live_server}/projector/{code}")
    assert qr_url(proj, "img.qr") == url == created["join_url"]


def test_public_url_is_the_qr_codes_url(redis_server: str, tmp_path: Path, new_page) -> None:
    port = free_port()
    env = server_env(f"{redis_server}/14", port, PUBLIC_URL="https://beer.example.org/")
    proc = start_server([sys.executable, "-m", "web"], env, port, tmp_path / "server.log")
    try:
        base = f"http://127.0.0.1:{port}"
        created = new_session(base)
        assert created["join_url"] == f"https://beer.example.org/join/{created['code']}"
        page = new_page(width=1280, mobile=False)
        page.goto(f"{base}/facilitate/{created['code']}#s={created['facilitator_secret']}")
        assert qr_url(page, "#qr") == f"https://beer.example.org/join/{created['code']}"
        expect(page.locator("#d-where")).to_have_attribute("data-source", "public_url")
        page.close()  # before the server stops: a page still connected would report the lost connection
    finally:
        stop_server(proc)
    assert "Students join at https://beer.example.org (PUBLIC_URL)" in (tmp_path / "server.log").read_text()


def create_from_form(page: Page) -> str:
    """Create the session with the form's current settings; the new session's code."""
    page.fill("#teams", "1")
    page.fill("#round_seconds", "0")
    page.click("#create-btn")
    page.wait_for_url(re.compile(r"/facilitate/[A-Z0-9]+$"))
    return page.url.rsplit("/", 1)[1]


def play_out(fac: Page, player: Page, weeks: int) -> None:
    fac.click("[data-action=start]")
    for week in range(1, weeks + 1):
        expect(player.locator("#value")).to_be_enabled()
        expect(player.locator("#week")).to_have_text(re.compile(rf"^Week {week}$"))  # the last week is not told
        player.fill("#value", "6")
        player.keyboard.press("Enter")
    expect(player.locator("#end-debrief")).to_be_visible()


def test_an_uploaded_scenario_is_played_and_downloaded(live_server: str, new_page, tmp_path: Path) -> None:
    fac = new_page(width=1280, mobile=False, allow=(r"status of 400",))
    fac.goto(live_server + "/facilitate")
    expect(fac.locator("#scenario option[value=classic]")).to_be_attached()
    fac.click("#scn-edit summary")
    # a bad file: the command line's message, naming the key
    bad = tmp_path / "mine.toml"
    bad.write_text(CUSTOM.replace("order_delay = 1", "order_delay = 0", 1), encoding="utf-8")
    fac.set_input_files("#scn-file", str(bad))
    expect(fac.locator("#scn-error")).to_contain_text(
        "mine.toml: stages.supplier.order_delay: must be at least 1, got 0"
    )
    # the good file
    good = tmp_path / "my-class.toml"
    good.write_text(CUSTOM, encoding="utf-8")
    fac.set_input_files("#scn-file", str(good))
    expect(fac.locator("#scn-status")).to_contain_text("Own scenario: test-custom (my-class.toml)")
    expect(fac.locator("#scn-error")).to_be_empty()
    expect(fac.locator("#weeks")).to_have_value("16")
    # its keys are in the editor, as the file has them
    expect(fac.locator('[data-path=\'["stages",0,"role"]\']')).to_have_value("supplier")
    fac.fill("#weeks", "3")
    code = create_from_form(fac)
    player = new_page()
    join_seat(player, live_server, code, "Ada", "retailer")
    expect(player.locator("#seat-label")).to_have_text("Retailer")
    play_out(fac, player, 3)
    # downloadable from the dashboard: the file as uploaded
    with fac.expect_download() as dl:
        fac.click("#d-scenario")
    assert dl.value.suggested_filename == f"test-custom-{code}.toml"
    assert Path(dl.value.path()).read_text(encoding="utf-8") == CUSTOM
    # and in the debrief
    fac.goto(f"{live_server}/debrief/{code}")
    expect(fac.locator("#db-custom")).to_contain_text("its own scenario (test-custom)")
    expect(fac.locator("#ranking tbody tr")).to_have_count(1)


def test_a_preset_edited_in_the_dashboard_is_played_with_the_change(live_server: str, new_page) -> None:
    fac = new_page(width=1280, mobile=False)
    fac.goto(live_server + "/facilitate")
    expect(fac.locator("#scenario option[value=classic]")).to_be_attached()
    fac.click("#scn-edit summary")
    cost = fac.locator('[data-path=\'["stages",3,"holding_cost"]\']')
    expect(cost).to_have_value("0.5")
    cost.fill("2")
    fac.locator("[data-path='[\"title\"]']").fill("Expensive shelves")
    expect(fac.locator("#scn-status")).to_contain_text("Own scenario: Expensive shelves")
    fac.fill("#weeks", "2")
    code = create_from_form(fac)
    expect(fac.locator("#d-title")).to_have_text("Expensive shelves")
    player = new_page()
    join_seat(player, live_server, code, "Bo", "retailer")
    expect(player.locator("#rates")).to_contain_text("2.00 per unit in stock")
    with fac.expect_download() as dl:
        fac.click("#d-scenario")
    text = Path(dl.value.path()).read_text(encoding="utf-8")
    assert 'title = "Expensive shelves"' in text and "holding_cost = 2" in text


def finished_game(live_server: str, new_page) -> tuple[dict[str, Any], Page]:
    created = new_session(live_server, teams=2, weeks=4)
    fac = new_page(width=1280, mobile=False)
    fac.goto(f"{live_server}/facilitate/{created['code']}#s={created['facilitator_secret']}")
    fac.click("[data-action=start]")
    for _ in range(4):
        fac.click("[data-action=force_round]")
        fac.wait_for_timeout(150)
    expect(fac.locator("#d-status")).to_have_text("Over")
    return created, fac


def test_debrief_from_the_link_for_another_device_with_png_and_print(live_server: str, new_page) -> None:
    created, _ = finished_game(live_server, new_page)
    code = created["code"]
    other = new_page(width=1280, mobile=False)  # another device: nothing in its storage
    other.goto(f"{live_server}/debrief/{code}#s={created['facilitator_secret']}")
    expect(other.locator("#ranking tbody tr")).to_have_count(2)
    expect(other.locator("#db-secret")).to_be_hidden()
    assert "#s=" not in other.url and created["facilitator_secret"] not in other.url
    # every chart has its PNG button
    canvases = other.locator(".chart-box canvas")
    buttons = other.locator(".save-png")
    assert buttons.count() == canvases.count() >= 6
    with other.expect_download() as dl:
        other.locator(".save-png[data-chart=c-class]").click()
    assert dl.value.suggested_filename == f"beergame-{code}-class-class.png"
    from PIL import Image

    png = Path(dl.value.path()).read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    img = Image.open(io.BytesIO(png)).convert("RGB")
    assert img.width > 300 and img.getpixel((1, 1)) == (255, 255, 255)  # white, for slides
    assert len(img.getcolors(maxcolors=1 << 20) or []) > 10  # something is drawn
    other.click("[data-view=team-1]")
    expect(other.locator("#team-view")).to_be_visible()
    with other.expect_download() as dl:
        other.locator(".save-png[data-chart=c-orders]").click()
    assert dl.value.suggested_filename == f"beergame-{code}-team-1-orders.png"
    # print layout: no controls, one chart per page
    other.emulate_media(media="print")
    for hidden in (".save-png", "#tabs", "#downloads", ".topbar"):
        assert other.locator(hidden).first.evaluate("(n) => getComputedStyle(n).display") == "none", hidden
    cards = other.locator("#team-view .grid2 > .card")
    assert {cards.nth(i).evaluate("(n) => getComputedStyle(n).breakBefore") for i in range(cards.count())} == {"page"}
    pdf = other.pdf()
    pages = len(re.findall(rb"/Type\s*/Page[^s]", pdf))
    assert pages >= cards.count() + 1  # the heading and KPIs, then one page per chart


def test_a_players_first_minute(live_server: str, new_page) -> None:
    created = new_session(live_server, teams=1)
    page = new_page()
    join_seat(page, live_server, created["code"], "Cy", "wholesaler")
    intro = page.locator("#intro")
    expect(intro).to_be_visible()
    expect(page.locator("#h-intro")).to_have_text("You are the Wholesaler")
    items = page.locator("#intro-list li")
    expect(items.nth(0)).to_contain_text("the goods you ordered from Distributor")
    expect(items.nth(1)).to_contain_text("the orders of Retailer")
    expect(items.nth(2)).to_contain_text("how many cases to order from Distributor")
    expect(items.nth(3)).to_contain_text("0.50 per unit in stock")
    page.click("#intro-close")
    expect(intro).to_be_hidden()
    page.reload()
    expect(page.locator("#seat-label")).to_have_text("Wholesaler")
    expect(intro).to_be_hidden()  # dismissed once, not shown again
    page.click("#intro-open")
    expect(intro).to_be_visible()
    expect(page.locator("#intro-open")).to_have_attribute("aria-expanded", "true")
    # in Dutch, for a new player
    nl = new_page(lang="nl-NL")
    join_seat(nl, live_server, created["code"], "Dirk", "retailer")
    expect(nl.locator("#h-intro")).to_have_text(re.compile(r"^U bent de "))
    expect(nl.locator("#intro-list li").nth(1)).to_contain_text("consumenten")
    expect(nl.locator("#intro-close")).to_have_text("Begrepen")
