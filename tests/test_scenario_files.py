"""Scenario files: the presets load and play; bad files fail with file, key and problem."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from game.horizon import end_of_game, window
from game.scenario import SCENARIO_DIR, ScenarioError, list_presets, load_scenario
from game.simulate import simulate
from game.start import new_game

CLASSIC = (SCENARIO_DIR / "classic.toml").read_text(encoding="utf-8")


def retailer(text: str, old: str, new: str) -> str:
    """``text`` with ``old`` replaced by ``new`` inside the retailer's [[stages]] table only."""
    head, marker, tail = text.partition('role = "retailer"')
    assert marker and old in tail, old
    return head + marker + tail.replace(old, new, 1)


def top(text: str, old: str, new: str) -> str:
    assert text.count(old) == 1, old
    return text.replace(old, new)


def write(tmp_path: Path, text: str, name: str = "mine.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


# ---------------------------------------------------------------------------
# presets
# ---------------------------------------------------------------------------


def test_presets_include_classic_and_classic_random():
    assert {"classic", "classic-random"} <= set(list_presets())


@pytest.mark.parametrize("name", list_presets())
def test_every_preset_loads_under_its_file_name_and_plays_a_whole_game(name):
    scn = load_scenario(name)
    assert scn.name == name
    assert scn.title and scn.weeks >= 1
    result = simulate(scn, seed=1)
    assert len(result.weeks) == end_of_game(scn, 1) and result.state.done
    first, last = window(scn)
    assert first <= scn.weeks <= last


def test_classic_is_sterman_board_game():
    scn = load_scenario("classic")
    assert scn.roles == ("factory", "distributor", "wholesaler", "retailer")
    for spec in scn.stages:
        assert (spec.on_hand, spec.backlog, spec.holding_cost, spec.backlog_cost) == (12, 0, 0.5, 1.0)
        assert set(spec.orders) == {4} and spec.shipments == (4, 4)
        assert spec.ship_delay == 2
        assert spec.order_delay == (1 if spec.role == "factory" else 2)
    demand = [week[0][0] for week in new_game(scn, seed=99).demand]
    assert demand == [4] * 4 + [8] * 32


def test_classic_random_is_the_classic_chain_with_seeded_demand():
    classic, rnd = load_scenario("classic"), load_scenario("classic-random")
    assert rnd.stages == classic.stages and rnd.weeks == classic.weeks
    a = [w[0][0] for w in new_game(rnd, seed=1).demand]
    assert a == [w[0][0] for w in new_game(rnd, seed=1).demand]
    assert a != [w[0][0] for w in new_game(rnd, seed=2).demand]
    draws = [w[0][0] for seed in range(20) for w in new_game(rnd, seed=seed).demand]
    assert min(draws) == 0 and max(draws) == 8
    assert len(set(draws)) == 9


def test_an_instructor_copy_with_other_delays_loads(tmp_path):
    text = retailer(CLASSIC, "order_delay = 2", "order_delay = 3")
    text = retailer(text, "orders = [4, 4]", "orders = [4, 4, 4]")
    text = top(text, "weeks = 36", "weeks = 20")
    scn = load_scenario(write(tmp_path, text))
    assert scn.weeks == 20 and scn.stage("retailer").order_delay == 3
    assert scn.stage("retailer").orders == (4, 4, 4)
    assert len(simulate(scn, policy="passthrough").weeks) == 20


# ---------------------------------------------------------------------------
# errors name the file, the key and the problem
# ---------------------------------------------------------------------------

BAD = [
    (lambda t: top(t, "weeks = 36", "weeks = 36\nweeks = 40"), "bad.toml", "not valid TOML"),
    (lambda t: top(t, 'name = "classic"\n', ""), "bad.toml", "name: is required"),
    (lambda t: top(t, "weeks = 36", "weeks = 0"), "bad.toml", "weeks: must be at least 1, got 0"),
    (lambda t: top(t, "weeks = 36", 'weeks = "many"'), "bad.toml", "weeks: must be int, got 'many'"),
    (lambda t: top(t, "weeks = 36", "weeks = 36\nturns = 3"), "bad.toml", "turns: unknown key"),
    (lambda t: top(t, 'kind = "step"', 'kind = "chaos"'), "bad.toml", "demand.kind: must be one of"),
    (
        lambda t: top(t, 'kind = "step"', 'kind = "uniform"\nlow = 5\nhigh = 2'),
        "bad.toml",
        "demand.high: must be >= low (5), got 2",
    ),
    (lambda t: top(t, 'kind = "step"', 'kind = "series"'), "bad.toml", "demand.series: is required"),
    (lambda t: top(t, "pos_demand = false", "pos_demand = 1"), "bad.toml", "visibility.pos_demand: must be true"),
    (lambda t: top(t, "pos_demand = false", "x_ray = true"), "bad.toml", "visibility.x_ray: unknown key"),
    (lambda t: top(t, "weeks = 36", 'weeks = 36\ncodp = "nowhere"'), "bad.toml", "codp: unknown position 'nowhere'"),
    (
        lambda t: retailer(t, "order_delay = 2", "order_delay = 0"),
        "bad.toml",
        "stages.retailer.order_delay: must be at least 1, got 0",
    ),
    (
        lambda t: retailer(t, "orders = [4, 4]", "orders = [4]"),
        "bad.toml",
        "stages.retailer.orders: must have 2 entries",
    ),
    (
        lambda t: retailer(t, "shipments = [4, 4]", "shipments = [4, -4]"),
        "bad.toml",
        "stages.retailer.shipments: must be a list of whole numbers from 0 to 1000000",
    ),
    (lambda t: retailer(t, "on_hand = 12", "on_hand = -1"), "bad.toml", "stages.retailer.on_hand: must be at least 0"),
    (
        lambda t: retailer(t, "holding_cost = 0.5", 'holding_cost = "cheap"'),
        "bad.toml",
        "stages.retailer.holding_cost: must be float, got 'cheap'",
    ),
    (
        lambda t: retailer(t, 'supplier = "wholesaler"', 'supplier = "brewery"'),
        "bad.toml",
        "stages.retailer.supplier: must name a stage listed earlier, got 'brewery'",
    ),
    (
        lambda t: retailer(t, 'label = "Retailer"', 'label = "Retailer"\nmode = "jit"'),
        "bad.toml",
        "stages.retailer.mode: must be 'mts' or 'mto'",
    ),
    (
        lambda t: retailer(t, "backlog_cost = 1.0", "backlog_cost = 1.0\nbeer = true"),
        "bad.toml",
        "stages.retailer.beer: unknown key",
    ),
    (
        lambda t: t.replace('role = "retailer"', 'role = "wholesaler"'),
        "bad.toml",
        "role: duplicate role 'wholesaler'",
    ),
    (lambda t: t.replace('role = "retailer"', 'role = "Retail Shop"'), "bad.toml", "role: must be a lower-case"),
    (
        lambda t: retailer(t, "market_share = 1.0", "market_share = 0.5"),
        "bad.toml",
        "stages: market_share of the consumer-facing stages must add up to 1",
    ),
    (
        lambda t: retailer(t, "market_share = 1.0", ""),
        "bad.toml",
        "stages: no stage sells to consumers",
    ),
    (
        lambda t: t + '\n[[segments]]\nname = "all"\nshare = 0.7\n',
        "bad.toml",
        "segments: shares must add up to 1",
    ),
    (
        lambda t: t + '\n[[segments]]\nname = "all"\nshare = 1.0\ntolerance = -2\n',
        "bad.toml",
        "segments[0].tolerance: must be at least 0, got -2",
    ),
    (
        lambda t: t + '\n[[segments]]\nname = "all"\nshare = 1.0\nchurn = 1.5\n',
        "bad.toml",
        "segments[0].churn: must be at most 1, got 1.5",
    ),
]


@pytest.mark.parametrize(("change", "file", "problem"), BAD)
def test_bad_scenario_names_file_key_and_problem(tmp_path, change, file, problem):
    path = write(tmp_path, change(CLASSIC), "bad.toml")
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    message = str(info.value)
    assert message.startswith(f"{file}:"), message
    assert problem in message, message
    assert "\n" not in message


def test_unknown_preset_lists_the_presets():
    with pytest.raises(ScenarioError, match=re.escape("unknown scenario 'nope' (presets: ") + ".*classic"):
        load_scenario("nope")


def test_missing_file_is_named(tmp_path):
    with pytest.raises(ScenarioError, match=re.escape(str(tmp_path / "gone.toml")) + ": file not found"):
        load_scenario(tmp_path / "gone.toml")
