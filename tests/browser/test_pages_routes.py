"""The page routes without a browser: language choice, safe redirects, codes, QR, benchmark access."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest


@pytest.fixture
def client(make_app) -> Any:
    return make_app().test_client()


def create(client: Any, **body: Any) -> dict[str, Any]:
    r = client.post("/api/sessions", json={"scenario": "classic", **body})
    assert r.status_code == 201, r.get_data(as_text=True)
    return r.get_json()


def test_language_from_browser_then_cookie(client: Any) -> None:
    assert 'lang="nl"' in client.get("/", headers={"Accept-Language": "nl-BE,nl;q=0.9"}).get_data(as_text=True)
    assert 'lang="en"' in client.get("/", headers={"Accept-Language": "de-DE"}).get_data(as_text=True)
    r = client.get("/lang/nl?next=/facilitate")
    assert r.status_code == 302 and r.headers["Location"] == "/facilitate"
    assert "lang=nl" in r.headers["Set-Cookie"]
    page = client.get("/", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert 'lang="nl"' in page and "Doe mee met een spel" in page
    # the script catalogue is rendered in the same language
    catalogue = page.split('<script id="i18n" type="application/json">')[1].split("</script>")[0]
    assert json.loads(catalogue)["connected"] == "Verbonden"
    assert client.get("/lang/fr").status_code == 404


def page_catalogue(client: Any, url: str) -> dict[str, str]:
    page = client.get(url).get_data(as_text=True)
    return json.loads(page.split('<script id="i18n" type="application/json">')[1].split("</script>")[0])


def test_each_page_carries_the_strings_of_its_own_scripts(client: Any) -> None:
    """A page's catalogue holds every string its scripts ask for (by name, or by a stem such as
    ``"err_" + code``), and no other page's: the player page gets none of the debrief's."""
    code = create(client)["code"]
    scripts = {
        "/join/" + code: ("common", "spark", "chain", "play"),
        "/facilitate/" + code: ("common", "scenario-editor", "facilitate"),
        "/projector/" + code: ("common", "chain", "projector"),
        "/debrief/" + code: ("common", "debrief"),
    }
    js = Path(__file__).resolve().parents[2] / "web" / "static" / "js"
    for url, names in scripts.items():
        have = page_catalogue(client, url)
        texts = [(js / f"{n}.js").read_text(encoding="utf-8") for n in names]
        asked = {k for text in texts for k in re.findall(r'\bt\("([\w-]+)"\s*[,)]', text)}
        assert asked - set(have) == set(), url
        assert {"err_not_running", "err_seat_taken", "codp_mto", "detail_en"} <= set(have), url
    player = page_catalogue(client, "/join/" + code)
    assert "compare_note" not in player and "seat_to_bot" not in player
    assert "compare_note" in page_catalogue(client, "/debrief/" + code)


@pytest.mark.parametrize("target", ["//evil.example/x", "https://evil.example/", "javascript:alert(1)", "evil"])
def test_language_switch_never_leaves_the_site(client: Any, target: str) -> None:
    r = client.get("/lang/en", query_string={"next": target})
    assert r.status_code == 302
    assert r.headers["Location"] == "/"


def test_codes_are_checked_and_normalised(client: Any) -> None:
    assert client.get("/join/ab").status_code == 404
    assert client.get("/join/<script>").status_code == 404
    page = client.get("/join/k7qx2m").get_data(as_text=True)
    assert 'value="K7QX2M"' in page
    assert client.get("/projector/../../etc").status_code == 404


def test_qr_code_route(client: Any) -> None:
    code = create(client)["code"]
    r = client.get(f"/qr/{code}.svg")
    assert r.status_code == 200 and r.mimetype == "image/svg+xml"
    assert r.data.startswith(b"<svg") and b'xmlns="http://www.w3.org/2000/svg"' in r.data
    assert client.get(f"/qr/{code}.png").status_code == 404


def test_debrief_page_holds_only_public_scenario_data(client: Any) -> None:
    created = create(client, teams=2)
    page = client.get(f"/debrief/{created['code']}").get_data(as_text=True)
    info = json.loads(page.split('<script id="scenario-info" type="application/json">')[1].split("</script>")[0])
    assert [s["role"] for s in info["stages"]] == ["factory", "distributor", "wholesaler", "retailer"]
    assert created["facilitator_secret"] not in page
    assert "demand" not in info
    unknown = client.get("/debrief/ZZZZZZ").get_data(as_text=True)
    assert '<script id="scenario-info" type="application/json">null</script>' in unknown


def test_benchmark_needs_the_facilitator_or_a_finished_game(client: Any) -> None:
    created = create(client, teams=2, weeks=8)
    code = created["code"]
    assert client.get(f"/debrief/{code}/benchmark/1.json").status_code == 403
    wrong = client.get(f"/debrief/{code}/benchmark/1.json", headers={"X-Facilitator-Secret": "nope"})
    assert wrong.status_code == 403
    assert wrong.get_json()["error"]["code"] == "forbidden"
    fac = {"X-Facilitator-Secret": created["facilitator_secret"]}
    ok = client.get(f"/debrief/{code}/benchmark/1.json", headers=fac)
    assert ok.status_code == 200
    plan = ok.get_json()
    assert set(plan) == {"chosen", "best", "by_position", "reference", "drivers"}
    assert plan["reference"] is None and plan["drivers"] == []  # the classic game has neither
    assert plan["best"]["profit"] >= plan["chosen"]["profit"]
    assert set(plan["chosen"]["levels"]) == {"factory", "distributor", "wholesaler", "retailer"}
    far = client.get(f"/debrief/{code}/benchmark/3.json", headers=fac)
    assert far.status_code == 404


def test_pages_forbid_inline_and_foreign_code(client: Any) -> None:
    r = client.get("/")
    csp = r.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "style-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    html = r.get_data(as_text=True)
    assert " style=" not in html and "<style" not in html
    # every script tag loads a same-site file, or is a JSON data block
    for tag in html.split("<script")[1:]:
        head = tag.split(">", 1)[0]
        assert 'src="/static/' in head or 'type="application/json"' in head, head


def test_benchmark_replays_the_stored_reference_plans_and_says_what_drives_the_choice(client: Any) -> None:
    from game.analysis.reference import replay, stored
    from game.scenario import load_scenario

    created = create(client, teams=1, scenario="customer-intimacy")
    fac = {"X-Facilitator-Secret": created["facilitator_secret"]}
    body = client.get(f"/debrief/{created['code']}/benchmark/1.json", headers=fac).get_json()
    ref = body["reference"]
    scn = load_scenario("customer-intimacy")
    assert ref["own"] == scn.codp and ref["winner"] == stored(scn)["winner"]
    assert set(ref["by_position"]) == set(scn.codp_positions)
    assert ref["by_position"][ref["best"]] == max(ref["by_position"].values())
    assert body["drivers"] == scn.driver_texts()
    nl = client.get(f"/debrief/{created['code']}/benchmark/1.json", headers={**fac, "Accept-Language": "nl"})
    assert nl.get_json()["drivers"] == scn.driver_texts("nl") != scn.driver_texts()
    # the stored plans replayed on this session's demand (its seed), at the scenario's length
    assert stored(scn) is not None and replay(scn, 0, stored(scn)).keys() == ref["by_position"].keys()
    # the best plans are searched from the reference plans, so none ends below its reference figure
    found = {body["chosen"]["position"]: body["chosen"]["profit"]}
    found.update({p: plan["profit"] for p, plan in body["by_position"].items()})
    assert all(found[p] >= profit for p, profit in ref["by_position"].items())
