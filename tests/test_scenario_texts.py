"""Translated scenario texts: ``[text.<lang>]`` tables, their validation, the fallback to
English, and the pages and API answering in the page's language."""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path
from typing import Any

import pytest

from game.scenario import (
    SCENARIO_DIR,
    TEXT_KEYS,
    TEXT_LANGUAGES,
    ScenarioError,
    list_presets,
    load_scenario,
    scenario_from_dict,
)

PRESETS = list_presets()

# How the Dutch debriefs name each position (the course's terms).
DUTCH_POSITIONS = {
    "mts-local": "produceren op voorraad en verzenden naar voorraadpunten",
    "mts-central": "centrale voorraad",
    "ato": "assembleren op order",
    "mto": "produceren op order",
    "eto": "ontwerpen op order",
}


def write(tmp_path: Path, extra: str, base: str = "classic") -> Path:
    """A copy of preset ``base`` with ``extra`` TOML appended (tables go at the end)."""
    path = tmp_path / "mine.toml"
    text = (SCENARIO_DIR / f"{base}.toml").read_text(encoding="utf-8")
    text = re.sub(r"(?ms)^\[text\.nl\]\n.*?(?=^\[(?!text))", "", text)  # drop the preset's own translation
    path.write_text(text + "\n" + extra, encoding="utf-8")
    return path


# ---- presets ------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", PRESETS)
def test_every_preset_has_dutch_title_description_debrief_and_labels(name: str) -> None:
    scn = load_scenario(name)
    for key in TEXT_KEYS:
        english = getattr(scn, key)
        dutch = scn.text(key, "nl")
        assert dutch, (name, key)
        if english:
            assert dutch != english, f"{name}: {key} is not translated"
    for stage in scn.stages:
        assert scn.label(stage.role, "nl") != stage.label, f"{name}: label of {stage.role} is not translated"


def test_presets_use_the_course_terms() -> None:
    dutch = " ".join(load_scenario(n).text("debrief", "nl") for n in PRESETS).lower()
    for term in ("klantorderontkoppelpunt", "voorraadrisico", "klassieke distributiemodel", "nieuwe distributiemodel"):
        assert term in dutch, term
    titles = {n: load_scenario(n).text("title", "nl") for n in PRESETS}
    assert titles["operational-excellence"].startswith("Kostenleiderschap")
    assert titles["customer-intimacy"].startswith("Klantpartnerschap")
    assert titles["product-leadership"].startswith("Productleiderschap")


@pytest.mark.parametrize("name", ["operational-excellence", "customer-intimacy", "product-leadership"])
def test_dutch_debrief_names_the_same_winner_as_the_english_one(name: str) -> None:
    scn = load_scenario(name)
    clauses = [c for c in re.split(r"[.;]", scn.text("debrief", "nl").lower()) if re.search(r"\bwint\b", c)]
    assert clauses, "the Dutch debrief should say which position wins"
    named = {key for key, phrase in DUTCH_POSITIONS.items() for c in clauses if phrase in c}
    assert named == {scn.codp}


def test_decoupling_point_dutch_debrief_recommends_the_central_stock() -> None:
    scn = load_scenario("decoupling-point")
    assert scn.codp == "mts-central"
    assert DUTCH_POSITIONS["mts-central"] in scn.text("debrief", "nl").lower()


def test_preset_numbers_do_not_depend_on_the_texts() -> None:
    """The translation is data beside the game: dropping it changes nothing else."""
    for name in PRESETS:
        data = tomllib.loads((SCENARIO_DIR / f"{name}.toml").read_text(encoding="utf-8"))
        assert set(data["text"]) == {"nl"}
        bare = scenario_from_dict({k: v for k, v in data.items() if k != "text"}, name)
        full = load_scenario(name)
        assert bare.stages == full.stages and bare.segments == full.segments and bare.demand == full.demand
        assert bare.texts == {} and full.texts != {}


# ---- lookup and fallback ------------------------------------------------------------------------


def test_text_falls_back_to_english_for_missing_languages_and_keys(tmp_path: Path) -> None:
    scn = load_scenario(write(tmp_path, '[text.nl]\ntitle = "Mijn spel"\n'))
    assert scn.text("title", "nl") == "Mijn spel"
    assert scn.text("title", "nl-BE") == "Mijn spel"
    assert scn.text("title", "nl_NL") == "Mijn spel"
    assert scn.text("title", "en") == scn.title != "Mijn spel"
    assert scn.text("title", "de") == scn.title
    assert scn.text("title", None) == scn.title
    assert scn.text("debrief", "nl") == scn.debrief  # not translated: English
    assert scn.label("retailer", "nl") == "Retailer"
    with pytest.raises(KeyError):
        scn.text("weeks", "nl")


def test_labels_are_translated_per_role(tmp_path: Path) -> None:
    scn = load_scenario(write(tmp_path, '[text.nl.labels]\nretailer = "Winkel"\n'))
    assert scn.label("retailer", "nl") == "Winkel"
    assert scn.labels("nl") == {"factory": "Factory", "distributor": "Distributor", "wholesaler": "Wholesaler",
                                "retailer": "Winkel"}  # fmt: skip
    assert scn.labels("en")["retailer"] == "Retailer"


def test_segment_region_and_variant_names_are_translated(tmp_path: Path) -> None:
    scn = load_scenario("decoupling-point")
    assert scn.names("nl")["now"] == "nu" and scn.names("nl")["north"] == "noord"
    assert scn.names("en") == {}  # English: the names as written
    product = load_scenario("product-leadership").names("nl")
    assert product["red"] == "rood" and product["pre-order"] == "voorbestellers"


@pytest.mark.parametrize("name", PRESETS)
def test_every_preset_names_its_segments_regions_and_variants_in_dutch(name: str) -> None:
    scn = load_scenario(name)
    groups = (scn.segments, scn.regions, scn.product.variants)  # one alone is the default, never shown
    shown = {x.name for group in groups if len(group) > 1 for x in group}
    assert shown <= set(scn.names("nl")), f"{name}: no Dutch name for {shown - set(scn.names('nl'))}"


def test_texts_survive_a_codp_change() -> None:
    from game.codp import apply_codp

    scn = load_scenario("decoupling-point")
    moved = apply_codp(scn, "eto")
    assert moved.text("title", "nl") == scn.text("title", "nl") == "Het klantorderontkoppelpunt"


# ---- validation ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("extra", "key", "problem"),
    [
        ('[text.fr]\ntitle = "Le jeu"\n', "text.fr", "unknown language"),
        ('[text.en]\ntitle = "The game"\n', "text.en", "unknown language"),
        ('[text.nl]\ntitel = "Het spel"\n', "text.nl.titel", "unknown key"),
        ("[text.nl]\ntitle = 3\n", "text.nl.title", "non-empty string"),
        ('[text.nl]\ndebrief = "  "\n', "text.nl.debrief", "non-empty string"),
        ('[text]\nnl = "Het spel"\n', "text.nl", "must be a table"),
        ('[text.nl]\nlabels = "Winkel"\n', "text.nl.labels", "role = label"),
        ('[text.nl.labels]\nshop = "Winkel"\n', "text.nl.labels.shop", "names no stage"),
        ("[text.nl.labels]\nretailer = 1\n", "text.nl.labels.retailer", "non-empty string"),
        ('[text.nl]\nnames = "nu"\n', "text.nl.names", "name = display name"),
        ('[text.nl.names]\nnow = "nu"\n', "text.nl.names.now", "names no segment, region or variant"),
    ],
)
def test_bad_texts_name_file_key_and_problem(tmp_path: Path, extra: str, key: str, problem: str) -> None:
    with pytest.raises(ScenarioError) as err:
        load_scenario(write(tmp_path, extra))
    message = str(err.value)
    assert message.startswith("mine.toml: "), message
    assert f": {key}: " in message, message
    assert problem in message, message


def test_text_must_be_a_table() -> None:
    data = tomllib.loads((SCENARIO_DIR / "classic.toml").read_text(encoding="utf-8"))
    with pytest.raises(ScenarioError, match=r"^mine\.toml: text: must be a table"):
        scenario_from_dict({**data, "text": "hallo"}, "mine.toml")


def test_known_languages_are_the_pages_languages() -> None:
    from web.i18n import DEFAULT_LANGUAGE, LANGUAGES

    assert set(TEXT_LANGUAGES) == set(LANGUAGES) - {DEFAULT_LANGUAGE}


# ---- the server answers in the page's language --------------------------------------------------

NL = {"Accept-Language": "nl-NL,nl;q=0.9,en;q=0.5"}
EN = {"Accept-Language": "en-GB,en;q=0.9"}


@pytest.fixture
def client(make_app: Any, redis_url: str) -> Any:
    """The real app against a real redis-server."""
    return make_app(redis_url).test_client()


def presets_by_name(client: Any, **kwargs: Any) -> dict[str, dict[str, Any]]:
    r = client.get("/api/scenarios", **kwargs)
    assert r.status_code == 200
    return {s["name"]: s for s in r.get_json()}


def data_block(page: str, block: str) -> Any:
    return json.loads(page.split(f'<script id="{block}" type="application/json">')[1].split("</script>")[0])


def test_api_scenarios_in_dutch_by_accept_language(client: Any) -> None:
    nl = presets_by_name(client, headers=NL)
    en = presets_by_name(client, headers=EN)
    assert set(nl) == set(list_presets())
    for name, scn in nl.items():
        preset = load_scenario(name)
        assert scn["title"] == preset.text("title", "nl") != en[name]["title"] == preset.title
        assert scn["description"] == preset.text("description", "nl") != preset.description
        seat = {"sales"} if preset.sales is not None else set()  # the sales seat is not a stage
        assert set(scn["labels"]) - set(preset.labels("nl")) == seat
        assert {r: scn["labels"][r] for r in preset.roles} == preset.labels("nl")
        assert {r: en[name]["labels"][r] for r in preset.roles} == preset.labels("en")
    assert nl["order-acceptance"]["labels"]["sales"] == "Verkoop"
    assert en["order-acceptance"]["labels"]["sales"] == "Sales"
    assert nl["customer-intimacy"]["title"].startswith("Klantpartnerschap")
    assert nl["classic"]["labels"]["retailer"] == "Detaillist"


def test_api_scenarios_follow_the_language_cookie(client: Any) -> None:
    client.set_cookie("lang", "nl")
    assert presets_by_name(client, headers=EN)["decoupling-point"]["title"] == "Het klantorderontkoppelpunt"
    client.set_cookie("lang", "en")
    assert presets_by_name(client, headers=NL)["decoupling-point"]["title"] == "The decoupling point"


def test_session_info_carries_texts_in_the_request_language(client: Any) -> None:
    r = client.post("/api/sessions", json={"scenario": "ecommerce", "teams": 1}, headers=NL)
    assert r.status_code == 201, r.get_data(as_text=True)
    code = r.get_json()["code"]
    nl = client.get(f"/api/sessions/{code}", headers=NL).get_json()
    en = client.get(f"/api/sessions/{code}", headers=EN).get_json()
    assert nl["texts"] == {
        "title": "E-commerce naast de winkelketen",
        "labels": load_scenario("ecommerce").labels("nl"),
        "names": {"shoppers": "winkelaars", "planners": "planners"},
    }
    assert en["texts"]["names"] == {}  # shown as written
    assert nl["texts"]["labels"]["ecommerce"] == "Webwinkel"
    assert en["texts"]["title"] == "E-commerce beside the retail chain"
    assert en["texts"]["labels"]["ecommerce"] == "Web shop"
    # the rest of the answer does not depend on the language
    assert {k: v for k, v in nl.items() if k != "texts"} == {k: v for k, v in en.items() if k != "texts"}


def test_pages_with_a_code_hold_the_translated_title_and_labels(client: Any) -> None:
    code = client.post("/api/sessions", json={"scenario": "segments", "teams": 1}).get_json()["code"]
    scn = load_scenario("segments")
    for path in (f"/join/{code}", f"/projector/{code}", f"/facilitate/{code}", f"/debrief/{code}"):
        page = client.get(path, headers=NL).get_data(as_text=True)
        assert data_block(page, "scenario-texts") == {
            "title": "Klantsegmenten",
            "labels": scn.labels("nl"),
            "names": {"standard-now": "standaard, nu", "customised": "aangepast"},
        }, path
        english = client.get(path, headers=EN).get_data(as_text=True)
        assert data_block(english, "scenario-texts")["title"] == "Customer segments", path
    assert '<script id="scenario-texts"' not in client.get("/", headers=NL).get_data(as_text=True)
    assert '<script id="scenario-texts"' not in client.get("/join/ZZZZZZ", headers=NL).get_data(as_text=True)


def test_debrief_page_shows_the_dutch_debrief(client: Any) -> None:
    code = client.post("/api/sessions", json={"scenario": "product-leadership", "teams": 1}).get_json()["code"]
    scn = load_scenario("product-leadership")
    info = data_block(client.get(f"/debrief/{code}", headers=NL).get_data(as_text=True), "scenario-info")
    assert info["title"] == "Productleiderschap (product leadership)"
    assert info["debrief"] == scn.text("debrief", "nl") and "assembleren op order wint" in info["debrief"].lower()
    assert {s["role"]: s["label"] for s in info["stages"]} == scn.labels("nl")
    info = data_block(client.get(f"/debrief/{code}", headers=EN).get_data(as_text=True), "scenario-info")
    assert info["debrief"] == scn.debrief


@pytest.mark.parametrize(("scenario", "shown"), [("product-leadership", True), ("decoupling-point", False)])
def test_the_debrief_says_a_moving_demand_swells_the_bullwhip_ratio(client: Any, scenario: str, shown: bool) -> None:
    """Under a life cycle (or a season) the ratio counts the swing of demand itself: the debrief
    says so beside the chart, in the player's language, and only there."""
    code = client.post("/api/sessions", json={"scenario": scenario, "teams": 1}).get_json()["code"]
    english = client.get(f"/debrief/{code}", headers=EN).get_data(as_text=True)
    dutch = client.get(f"/debrief/{code}", headers=NL).get_data(as_text=True)
    assert ('id="bw-cycle"' in english) is shown
    assert ("every ratio counts that swing too" in english) is shown
    assert ("elke verhouding telt" in dutch.replace("\n", " ")) is shown
