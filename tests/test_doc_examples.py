"""The docs show what the commands print: every ``$ python -m game`` example in
docs/SCENARIOS.md, and the presets table's winners (``bench/doc_examples.py --write``
refreshes the examples)."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

from doc_examples import examples, output  # noqa: E402

from game.analysis.reference import stored  # noqa: E402
from game.scenario import load_scenario  # noqa: E402

SCENARIOS = (ROOT / "docs" / "SCENARIOS.md").read_text(encoding="utf-8")
EXAMPLES = examples(SCENARIOS)


def test_the_examples_are_found() -> None:
    assert len(EXAMPLES) >= 8
    assert all(e.command.startswith("python -m game ") for e in EXAMPLES)


@pytest.mark.parametrize("example", EXAMPLES, ids=[e.command.split("--scenario ")[-1] for e in EXAMPLES])
def test_an_example_shows_what_its_command_prints(example) -> None:
    assert output(example.command) == example.shown, "run: python bench/doc_examples.py --write"


def _table() -> dict[str, tuple[str, str]]:
    """Preset -> (reference winner, bots' winner) from the presets table at the top."""
    rows = re.findall(r"^\| `([a-z-]+)` \|.*\| `?([a-z -]+?)`? \| `?([a-z -]+?)`? \|$", SCENARIOS, re.M)
    return {name: (ref, bots) for name, ref, bots in rows}


def test_the_presets_table_names_the_winners_the_tools_find() -> None:
    table = _table()
    assert {"decoupling-point", "product-leadership", "ecommerce"} <= set(table)
    bots = {}
    for e in EXAMPLES:
        m = re.fullmatch(r"python -m game compare --scenario ([a-z-]+) --seeds 5", e.command)
        if m:
            bots[m.group(1)] = re.search(r"^how the bots played, winner: (\S+)$", e.shown, re.M).group(1)
    checked = 0
    for name, (ref, bot) in table.items():
        data = stored(load_scenario(name))
        if data is not None:
            assert ref == data["winner"], name
            checked += 1
        if name in bots:
            assert bot == bots[name], name
    assert checked >= 7
