"""The Dutch and English catalogues cover every user-facing string, keep the placeholders,
and the compiled .mo files match their .po sources."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
TRANSLATIONS = ROOT / "web" / "translations"
PLACEHOLDER = re.compile(r"%\((\w+)\)s")


def catalogue(lang: str, kind: str = "po"):
    path = TRANSLATIONS / lang / "LC_MESSAGES" / f"messages.{kind}"
    with open(path, "rb") as f:
        return read_po(f) if kind == "po" else read_mo(f)


@pytest.fixture(scope="module")
def extracted(tmp_path_factory: pytest.TempPathFactory) -> set[str]:
    """Every msgid in the templates and Python sources, extracted afresh."""
    pot = tmp_path_factory.mktemp("pot") / "messages.pot"
    extract = [sys.executable, "-m", "babel.messages.frontend", "extract", "-F", "babel.cfg", "-k", "_l"]
    subprocess.run(
        [*extract, "-o", str(pot), "."],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    with open(pot, "rb") as f:
        return {m.id for m in read_po(f) if m.id}


@pytest.mark.parametrize("lang", ["en", "nl"])
def test_catalogue_holds_every_string(extracted: set[str], lang: str) -> None:
    po = catalogue(lang)
    have = {m.id for m in po if m.id}
    assert extracted - have == set(), "run the pybabel steps in web/i18n.py"
    untranslated = [m.id for m in po if m.id and not m.string]
    assert untranslated == []


def test_dutch_keeps_placeholders_and_differs() -> None:
    po = catalogue("nl")
    for m in po:
        if m.id:
            assert set(PLACEHOLDER.findall(m.id)) == set(PLACEHOLDER.findall(m.string)), m.id
    same = [m.id for m in po if m.id and m.id == m.string and len(m.id) > 12]
    assert same == [], "long strings left in English"


@pytest.mark.parametrize("lang", ["en", "nl"])
def test_compiled_catalogue_matches_its_source(lang: str) -> None:
    po = {m.id: m.string for m in catalogue(lang) if m.id}
    mo = {m.id: m.string for m in catalogue(lang, "mo") if m.id}
    assert mo == po, "run: pybabel compile -d web/translations"


def test_every_script_string_is_in_the_catalogue() -> None:
    from web.i18n import JS_STRINGS

    ids = {m.id for m in catalogue("nl") if m.id}
    missing = [key for key, text in JS_STRINGS.items() if text._args[0] not in ids]
    assert missing == []
    used = set()
    for js in (ROOT / "web" / "static" / "js").glob("*.js"):
        used |= set(re.findall(r'\bt\("([\w-]+)"\s*[,)]', js.read_text(encoding="utf-8")))
    assert used - set(JS_STRINGS) == set(), "strings used by the scripts but missing from JS_STRINGS"
