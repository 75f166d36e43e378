"""A first class without rough edges, in Chromium, on a phone (390x844) and a laptop (1366x768):
a refused join says why, a late student shares a seat, every preset is editable in the scenario
editor, an upload after an edit wins, and the debrief and its exports tell the truth.

Screenshots are kept under ``tests/browser/screenshots/`` (not in git) for a reviewer."""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Any

import pytest
import requests
import socketio
from a11y import axe_violations
from playwright.sync_api import Page, expect
from test_browser_pages import new_session

pytestmark = pytest.mark.browser

SHOTS = Path(__file__).resolve().parent / "screenshots"
SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"
SIZES = {"phone": (390, 844), "laptop": (1366, 768)}


def shot(page: Page, name: str) -> Path:
    """Keep a full-page screenshot for a reviewer; its path is printed."""
    SHOTS.mkdir(exist_ok=True)
    path = SHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    print(f"screenshot: {path}")
    return path


def open_page(new_page: Any, size: str, **kw: Any) -> Page:
    width, height = SIZES[size]
    return new_page(width=width, height=height, mobile=size == "phone", **kw)


def facilitator(new_page: Any, base: str, created: dict[str, Any]) -> Page:
    fac = new_page(width=1366, height=768, mobile=False)
    fac.goto(f"{base}/facilitate/{created['code']}#s={created['facilitator_secret']}")
    expect(fac.locator("#d-code")).to_have_text(created["code"])
    return fac


def seat_students(base: str, code: str, names: list[str]) -> list[socketio.Client]:
    """Students on phones we do not watch: each joins the first free seat over Socket.IO."""
    clients = []
    for name in names:
        c = socketio.Client()
        c.connect(base, transports=["websocket"])
        ack = c.call("join", {"code": code, "name": name})
        assert ack["ok"], ack
        clients.append(c)
    return clients


@pytest.mark.parametrize("size", SIZES)
def test_a_refused_join_says_why(live_server: str, new_page, size: str) -> None:
    created = new_session(live_server, weeks=2)
    fac = facilitator(new_page, live_server, created)
    fac.click("[data-action=start]")
    fac.click("[data-action=end]")
    expect(fac.locator("#d-status")).to_have_text("Over")
    code = created["code"]
    page = open_page(new_page, size)
    page.goto(f"{live_server}/join/{code}")
    expect(page.locator("#team option[value='1']")).to_be_attached()
    page.fill("#name", "Late Lou")
    # the page reloads the seat list after a refusal: the message must survive it
    with page.expect_response(re.compile(rf"/api/sessions/{code}$")):
        page.click("#join-btn")
    page.wait_for_timeout(300)
    expect(page.locator("#join-error")).to_have_text("This game is over: it takes no new players.")
    shot(page, f"join-refused-{size}")
    assert axe_violations(page) == []


@pytest.mark.parametrize("size", SIZES)
def test_a_late_student_shares_a_seat_and_decides_for_it(live_server: str, new_page, size: str) -> None:
    created = new_session(live_server, teams=1, weeks=3)
    code = created["code"]
    students = seat_students(live_server, code, ["Ada", "Bo", "Cy", "Dee"])
    try:
        page = open_page(new_page, size)
        page.goto(f"{live_server}/join/{code}")
        expect(page.locator("#team option[value='1']")).to_have_text("Team 1 (full)")
        expect(page.locator("#share-note")).to_be_visible()  # any seat: every one is taken
        page.fill("#name", "Eve")
        page.select_option("#team", "1")
        expect(page.locator("#role option[value=retailer]")).to_have_text("Retailer (taken)")
        page.select_option("#role", "retailer")
        expect(page.locator("#share-note")).to_contain_text("you will play it together")
        shot(page, f"join-share-{size}")
        assert axe_violations(page) == []
        page.click("#join-btn")
        expect(page.locator("#game")).to_be_visible()
        expect(page.locator("#seat-label")).to_have_text("Retailer")
        expect(page.locator("#seat-name")).to_have_text("Ada & Eve")  # the seat's players, not only hers
        fac = facilitator(new_page, live_server, created)
        expect(fac.locator("#teams-body")).to_contain_text("Ada & Eve")
        fac.click("[data-action=start]")
        expect(page.locator("#value")).to_be_enabled()
        page.fill("#value", "9")
        page.click("#submit")
        expect(page.locator("#decision-status")).to_contain_text("Submitted")
        shot(page, f"shared-seat-decided-{size}")
        ack = students[0].call("submit", {"week": 1, "value": 2})  # Ada, on the same seat, changes it
        assert ack["ok"] and ack["previous"] == 9
    finally:
        for c in students:
            c.disconnect()


def open_editor(fac: Page, preset: str) -> None:
    fac.select_option("#scenario", preset)
    expect(fac.locator("[data-path='[\"name\"]']")).to_have_value(preset)


def test_every_preset_is_editable_in_the_scenario_editor(live_server: str, new_page) -> None:
    fac = new_page(width=1366, height=768, mobile=False, allow=(r"status of 400",))  # the bad entry at the end
    fac.goto(live_server + "/facilitate")
    expect(fac.locator("#scenario option[value=classic]")).to_be_attached()
    fac.click("#scn-edit summary")
    presets = [s["name"] for s in requests.get(f"{live_server}/api/scenarios", timeout=10).json()]
    assert len(presets) >= 10
    for preset in presets:
        open_editor(fac, preset)
        title = fac.locator("[data-path='[\"title\"]']")
        title.fill(title.input_value() + " (ours)")
        expect(fac.locator("#scn-status")).to_contain_text("(ours)")
        expect(fac.locator("#scn-error")).to_be_empty()
    # nested lists: shown as entries separated by semicolons, read back as lists of lists
    open_editor(fac, "decoupling-point")
    patience = fac.locator("[data-kind=rows]").first
    expect(patience).to_have_value(re.compile(r"^\d+(\.\d+)?, [\d.]+(; \d+(\.\d+)?, [\d.]+)+$"))
    patience.fill("1, 0.6; 2, 0.4")
    expect(fac.locator("#scn-status")).to_contain_text("Own scenario")
    expect(fac.locator("#scn-error")).to_be_empty()
    path = patience.get_attribute("data-path")
    shot(fac, "editor-nested-lists-laptop")
    with fac.expect_download() as dl:
        fac.click("#scn-download")
    assert "patience = [\n    [\n        1,\n        0.6," in Path(dl.value.path()).read_text() or re.search(
        r"patience = \[\s*\[\s*1,\s*0\.6,?\s*\],\s*\[\s*2,\s*0\.4,?\s*\],?\s*\]", Path(dl.value.path()).read_text()
    ), path
    patience.fill("1, 0.6; 2")
    expect(fac.locator("#scn-error")).to_contain_text("patience")
    assert axe_violations(fac) == []


def test_an_upload_after_an_edit_is_the_scenario_created(live_server: str, new_page, tmp_path: Path) -> None:
    fac = new_page(width=1366, height=768, mobile=False)
    fac.goto(live_server + "/facilitate")
    expect(fac.locator("#scenario option[value=classic]")).to_be_attached()
    fac.click("#scn-edit summary")
    open_editor(fac, "classic")
    fac.locator("[data-path='[\"title\"]']").fill("Edited classic")
    good = tmp_path / "my-class.toml"
    good.write_text((SCENARIOS / "custom.toml").read_text(encoding="utf-8"), encoding="utf-8")
    fac.set_input_files("#scn-file", str(good))
    expect(fac.locator("#scn-status")).to_have_text("Own scenario: test-custom (my-class.toml)")
    fac.wait_for_timeout(800)  # an edit's pending check must not take over afterwards
    expect(fac.locator("#scn-status")).to_have_text("Own scenario: test-custom (my-class.toml)")
    expect(fac.locator("#weeks")).to_have_value("16")
    fac.fill("#teams", "1")
    fac.click("#create-btn")
    fac.wait_for_url(re.compile(r"/facilitate/[A-Z0-9]+$"))
    code = fac.url.rsplit("/", 1)[1]
    # the public info names the last week only once it is revealed: the facilitator's results say
    secret = fac.evaluate("(code) => JSON.parse(localStorage.getItem('beergame.fac.' + code)).secret", code)
    info = requests.get(
        f"{live_server}/api/sessions/{code}/results.json", headers={"X-Facilitator-Secret": secret}, timeout=10
    ).json()
    assert info["scenario"] == "test-custom" and info["weeks"] == 16
    shot(fac, "upload-after-edit-laptop")


def ended_early(base: str, new_page: Any, weeks_played: int, **body: Any) -> tuple[dict[str, Any], Page]:
    """A session of 2 teams ended by the facilitator after ``weeks_played`` weeks (bots play)."""
    created = new_session(base, teams=2, **body)
    fac = facilitator(new_page, base, created)
    fac.click("[data-action=start]")
    for week in range(1, weeks_played + 1):
        expect(fac.locator("#teams-body")).to_contain_text(f"{week}")
        fac.click("[data-action=force_round]")
        fac.wait_for_timeout(200)
    fac.click("[data-action=end]")
    expect(fac.locator("#d-status")).to_have_text("Over")
    return created, fac


def png_of(page: Page, selector: str) -> Any:
    from PIL import Image

    with page.expect_download() as dl:
        page.locator(selector).click()
    return Image.open(Path(dl.value.path())).convert("RGB"), dl.value.suggested_filename


@pytest.mark.parametrize("size", SIZES)
def test_an_early_end_says_nothing_untrue_and_exports_open_right(live_server: str, new_page, size: str) -> None:
    from openpyxl import load_workbook

    created, _ = ended_early(live_server, new_page, 3)
    code = created["code"]
    page = open_page(new_page, size)
    page.goto(f"{live_server}/debrief/{code}#s={created['facilitator_secret']}")
    expect(page.locator("#ranking tbody tr")).to_have_count(2)
    note = page.locator("#scenario-debrief")
    expect(note).to_have_text(
        "The game ended after week 3 of 36. Consumer demand stayed at 4 a week in the 3 weeks played."
    )
    expect(page.locator("#bw-empty")).to_be_visible()  # no empty chart without a word
    expect(page.locator("#c-class-bw")).to_be_hidden()
    explain = page.locator("#explain").inner_text()
    assert "decoupling point" not in explain.lower() and "e-commerce" not in explain  # not this scenario's
    expect(page.locator("#ranking thead th")).to_have_count(7)
    expect(page.locator("#h-compare")).to_have_text("Against the best plan")  # no other positions here
    shot(page, f"debrief-early-end-{size}")
    assert axe_violations(page) == []
    img, name = png_of(page, ".save-png[data-chart=c-class]")
    assert name == f"beergame-{code}-class-class.png" and img.size == (1600, 900)
    assert img.getpixel((2, 2)) == (255, 255, 255)
    title_band = img.crop((0, 0, 1600, 70))
    assert sum(title_band.convert("L").histogram()[:100]) > 500  # the title is drawn at the top
    img.save(SHOTS / f"debrief-png-class-{size}.png")
    with page.expect_download() as dl:
        page.click("#dl-xlsx")
    assert dl.value.suggested_filename == f"beergame-{code}.xlsx"
    wb = load_workbook(io.BytesIO(Path(dl.value.path()).read_bytes()))
    assert wb.sheetnames == ["Weeks", "Teams", "Players"] and wb["Weeks"].max_row == 1 + 2 * 3 * 4


@pytest.mark.parametrize("size", SIZES)
def test_a_finished_debrief_without_the_secret_says_how_to_open_it(live_server: str, new_page, size: str) -> None:
    created, _ = ended_early(live_server, new_page, 1)
    page = open_page(new_page, size, allow=(r"status of 403",))
    page.goto(f"{live_server}/debrief/{created['code']}")
    expect(page.locator("#db-error")).to_contain_text("Link for another device")
    box = page.locator("#secret-input")
    expect(box).to_be_visible()
    box.fill(created["facilitator_secret"])
    assert box.evaluate("(n) => n.scrollWidth <= n.clientWidth"), "the secret does not fit its box"
    shot(page, f"debrief-no-secret-{size}")
    assert axe_violations(page) == []
    page.click("#db-secret button")
    expect(page.locator("#ranking tbody tr")).to_have_count(2)


@pytest.mark.parametrize("size", SIZES)
def test_the_debrief_marks_a_switch_and_labels_every_bar(live_server: str, new_page, size: str) -> None:
    created = new_session(live_server, scenario="decoupling-point", teams=1, weeks=14, end_window=[14, 14],
                          codp={"rule": "team", "position": "mts-local"})  # fmt: skip
    code = created["code"]
    ada = seat_students(live_server, code, ["Ada"])[0]
    fac = socketio.Client()
    fac.connect(live_server, transports=["websocket"])
    try:
        assert fac.call("facilitate", {"code": code, "secret": created["facilitator_secret"]})["ok"]
        assert fac.call("control", {"action": "start"})["ok"]
        for week in range(1, 13):
            assert fac.call("control", {"action": "force_round", "week": week})["ok"]
        ack = ada.call("choose_codp", {"position": "mto"})
        assert ack["ok"], ack
        assert fac.call("control", {"action": "force_round", "week": 13})["ok"]
        assert fac.call("control", {"action": "end"})["ok"]
    finally:
        ada.disconnect()
        fac.disconnect()
    page = open_page(new_page, size)
    page.goto(f"{live_server}/debrief/{code}#s={created['facilitator_secret']}")
    expect(page.locator("#ranking tbody tr")).to_have_count(1)
    expect(page.locator("#ranking tbody tr td").last).to_contain_text("(from week 13)")
    page.click("[data-view=team-1]")
    expect(page.locator("#team-strategy")).to_contain_text("At the review of week 13 the team moved from")
    expect(page.locator("#team-players")).to_contain_text("Ada")
    expect(page.locator("#compare-note")).not_to_have_text("Computing the best plans…", timeout=60_000)
    # one bar for the team, one per best plan, one per stored reference plan (none while they are stale)
    bench = requests.get(
        f"{live_server}/debrief/{code}/benchmark/1.json",
        headers={"X-Facilitator-Secret": created["facilitator_secret"]},
        timeout=60,
    ).json()
    bars = 2 + len(bench["by_position"]) + len((bench["reference"] or {}).get("by_position", {}))
    assert bars >= 6
    page.wait_for_function(
        "(n) => Chart.getChart(document.getElementById('c-compare')).data.labels.length === n", arg=bars
    )
    labels, ticks = page.evaluate(
        "() => { const c = Chart.getChart(document.getElementById('c-compare'));"
        " return [c.data.labels.length, c.scales.y.ticks.length]; }"
    )
    assert ticks == labels, f"{ticks} of {labels} bars labelled"
    # and no label is cut at the chart's left edge: its widest line, right-aligned to the axis, starts
    # inside the canvas (Chart.js caps the axis's width, and a longer label runs off the edge)
    widest, room = page.evaluate(
        "() => { const c = Chart.getChart(document.getElementById('c-compare')); const y = c.scales.y;"
        " c.ctx.save(); c.ctx.font = Chart.helpers.toFont(y.options.ticks.font).string;"
        " const w = Math.max(...c.data.labels.flat().map((s) => c.ctx.measureText(String(s)).width));"
        " c.ctx.restore(); return [w, y.right - y.options.ticks.padding]; }"
    )
    assert widest + 2 <= room, f"a label of {widest:.1f} px where {room:.1f} px are left of the axis"
    page.locator("#c-compare").scroll_into_view_if_needed()
    shot(page, f"debrief-switch-{size}")
    assert axe_violations(page) == []
