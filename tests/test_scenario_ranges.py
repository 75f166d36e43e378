"""Every numeric key of a scenario has a range (``game.ranges``) that the validator enforces
with a message naming the key; no value that is not finite is taken; deep files are refused
with a message, never a ``RecursionError``; docs/SCENARIOS.md shows the same table."""

from __future__ import annotations

import copy
import functools
import math
import tomllib
from typing import Any

import pytest
from support import ROOT

from game import ranges
from game.scenario import ScenarioError, list_presets, load_scenario, scenario_from_dict, scenario_from_toml


@functools.cache
def full() -> dict[str, Any]:
    """A preset with variants (``[product]``), regions and ``[jit]``: every table a key can be in."""
    doc = tomllib.loads((ROOT / "config" / "scenarios" / "product-leadership.toml").read_text())
    doc["regions"] = [{"name": "north", "share": 0.5}, {"name": "south", "share": 0.5}]
    doc["jit"] = {"late_share": 0.1}
    scenario_from_dict(copy.deepcopy(doc), "full.toml")  # valid as it is
    return doc


def with_value(doc: dict[str, Any], key: str, value: Any) -> tuple[dict[str, Any], str]:
    """``doc`` with ``key`` (as in ``game.ranges``) set to ``value``; and the key as messages name it."""
    doc = copy.deepcopy(doc)
    *tables, name = key.split(".")
    if key in ("stages.orders", "stages.shipments", "demand.series", "review_weeks"):
        value = [value]
    if key == "segments.patience":
        value = [[value, 0.5]]
    if key == "segments.comaker.lead_times":
        value = {doc["product"]["variants"][0]["name"]: value}
    where: Any = doc
    shown = []
    for table in tables:
        where = where.setdefault(table, {})
        if isinstance(where, list):
            shown.append(table if table != "stages" else f"stages.{where[0]['role']}")
            where = where[0]
        else:
            shown.append(table)
    if tables == ["segments"]:
        where.pop("tolerance", None)
        where.pop("patience", None)
    if tables == ["stages"]:
        shown = [f"stages.{where['role']}"]
    elif tables and isinstance(doc.get(tables[0]), list):
        shown = [f"{tables[0]}[0]", *tables[1:]]
    elif tables == ["product", "variants"]:
        shown = ["product.variants[0]"]
    where[name] = value
    return doc, ".".join([*shown, name])


@pytest.mark.parametrize("key", sorted(ranges.RANGES))
def test_every_key_is_refused_outside_its_range_naming_the_key(key: str) -> None:
    rng = ranges.RANGES[key]
    base = full()  # (cached: copied before each change)
    for bad in (rng.hi + 1, rng.lo - 1, math.inf, -math.inf, math.nan, 1e300):
        if isinstance(bad, float) and not math.isfinite(bad) and rng.whole:
            continue  # a whole number is never infinite (TOML has no such integer)
        doc, named = with_value(base, key, int(bad) if rng.whole and math.isfinite(bad) else bad)
        with pytest.raises(ScenarioError) as err:
            scenario_from_dict(doc, "mine.toml")
        assert f"mine.toml: {named}" in str(err.value), (key, bad, str(err.value))


def test_huge_and_infinite_values_in_a_file_are_refused_with_a_message() -> None:
    text = (ROOT / "config" / "scenarios" / "classic.toml").read_text()
    for line, key in (("after = inf", "demand.after"), ("mean = 1e300", "demand.mean"), ("sd = nan", "demand.sd")):
        patched = text.replace("[demand]\n", f"[demand]\n{line}\n", 1)
        patched = "\n".join(x for x in patched.splitlines() if not x.startswith(line.split()[0] + " = ") or x == line)
        with pytest.raises(ScenarioError, match=rf"mine.toml: {key}: must be"):
            scenario_from_toml(patched, "mine.toml")


@pytest.mark.parametrize("depth", [17, 600, 5000])
def test_deep_files_are_refused_with_a_message(depth: int) -> None:
    for text in (f"x = {'[' * depth}{']' * depth}", f"[{'.'.join(['t'] * depth)}]\nx = 1\n"):
        with pytest.raises(ScenarioError, match="nested deeper than"):
            scenario_from_toml(text, "deep.toml")


def test_every_key_read_has_a_range_of_its_own() -> None:
    ranges.UNRANGED.clear()
    for name in list_presets():
        load_scenario(name)
    scenario_from_dict(full(), "full.toml")
    assert not ranges.UNRANGED, "add these keys to game.ranges.RANGES"


def test_the_documented_table_is_the_validators() -> None:
    doc = (ROOT / "docs" / "SCENARIOS.md").read_text()
    assert ranges.markdown() in doc
