"""``compare``: every CODP position x bot policy on the same demand, and its command line."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from game.analysis.cli import main as cli_main
from game.analysis.compare import COLUMNS, columns, compare, parse_sharing, position_means
from game.codp import apply_codp
from game.scenario import SCENARIO_DIR, load_scenario
from game.scoring import summary, team_score
from game.simulate import simulate


def main(argv: list[str]) -> int:
    """``python -m game compare`` with ``argv``."""
    return cli_main(["compare", *argv])


def test_one_row_per_position_and_policy_on_the_same_demand() -> None:
    scn = load_scenario("segments")
    rows = compare(scn, [0, 1], ["base_stock", "passthrough"])
    assert [(r["codp"], r["policy"]) for r in rows] == [
        (p, pol) for p in scn.codp_positions for pol in ("base_stock", "passthrough")
    ]
    assert len({r["demand"] for r in rows}) == 1, "every row must face the same consumer demand"
    for r in rows:
        assert list(r) == [*COLUMNS, *(f"bullwhip_{role}" for role in scn.roles)]
        assert r["sharing"] == "none"
        assert r["profit"] == pytest.approx(r["revenue"] - r["cost"])
        assert 0 <= r["lost_units"] <= r["demand"]


def test_rows_are_averages_of_real_games() -> None:
    scn = load_scenario("customer-intimacy")
    (row,) = compare(scn, [2, 5], ["sterman"], positions=["ato"])
    played = apply_codp(scn, "ato")
    games = [simulate(played, seed, "sterman").weeks for seed in (2, 5)]
    assert row["profit"] == pytest.approx(sum(team_score(played, g) for g in games) / 2)


def test_same_input_same_table_and_seeds_matter() -> None:
    scn = load_scenario("decoupling-point")
    a = compare(scn, [0], ["sterman"], positions=["mts-central"])
    assert a == compare(scn, [0], ["sterman"], positions=["mts-central"])
    assert a != compare(scn, [1], ["sterman"], positions=["mts-central"])


def test_position_means_average_over_policies() -> None:
    rows = [
        {"codp": "a", "policy": "x", "profit": 10.0},
        {"codp": "a", "policy": "y", "profit": -30.0},
        {"codp": "b", "policy": "x", "profit": 0.0},
        {"codp": "b", "policy": "y", "profit": 0.0},
    ]
    assert position_means(rows) == {"a": -10.0, "b": 0.0}


def test_bad_arguments() -> None:
    scn = load_scenario("segments")
    with pytest.raises(ValueError):
        compare(scn, [], ["sterman"])
    with pytest.raises(ValueError):
        compare(scn, [0], [])


def test_cli_table(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--scenario", "operational-excellence", "--seeds", "2"]) == 0
    out = capsys.readouterr().out
    for pos in ("mts-local", "mts-central", "ato", "mto", "eto"):
        assert pos in out
    assert "how the bots played, winner: " in out
    assert "profit" in out.splitlines()[1]
    # beside the bots' table: the stored reference's winner, tuned and scored on other seeds
    stored_ref = json.loads((Path(__file__).parent.parent / "config/reference/operational-excellence.json").read_text())
    assert f"reference winner: {stored_ref['winner']}, ahead of " in out


def test_cli_says_when_no_reference_is_stored(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    edited = tmp_path / "edited.toml"
    text = (Path(__file__).parent.parent / "config/scenarios/operational-excellence.toml").read_text()
    edited.write_text(text.replace("weeks = 52", "weeks = 50", 1))
    assert main(["--scenario", str(edited), "--seeds", "1", "--policy", "sterman", "--codp", "mto"]) == 0
    assert "reference winner: none stored for operational-excellence as it is" in capsys.readouterr().out
    assert main(["--scenario", str(edited), "--seeds", "1", "--policy", "sterman", "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["reference"] is None


def test_cli_json_and_csv(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--scenario", "segments", "--seeds", "1", "--policy", "sterman", "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["scenario"] == "segments" and len(data["rows"]) == 5
    assert data["reference"]["winner"] in data["reference"]["test_profit"]
    assert data["reference"]["test_seeds"] == 20
    assert (
        main(["--scenario", "segments", "--seeds", "1", "--policy", "sterman", "--codp", "ato", "--format", "csv"]) == 0
    )
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert [r["codp"] for r in rows] == ["ato"]
    assert list(rows[0]) == list(columns(load_scenario("segments")))


@pytest.mark.parametrize(
    "argv",
    [
        ["--scenario", "no-such-preset"],
        ["--scenario", "segments", "--seeds", "0"],
        ["--scenario", "segments", "--seeds", "two"],
        ["--scenario", "segments", "--policy", "oracle"],
        ["--scenario", "segments", "--policy", "sterman:alpha=-1"],
        ["--scenario", "segments", "--codp", "somewhere"],
        ["--scenario", "segments", "--format", "xml"],
        ["--scenario", "segments", "--visibility", "pos_demand+gossip"],
        [],
    ],
)
def test_cli_bad_input_is_one_line_and_exit_2(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(argv) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("beergame: error: ")


def test_cli_position_not_offered(tmp_path, capsys: pytest.CaptureFixture[str]) -> None:
    text = (SCENARIO_DIR / "segments.toml").read_text()
    narrow = text.replace(
        'codp_positions = ["mts-local", "mts-central", "ato", "mto", "eto"]', 'codp_positions = ["mts-local", "ato"]'
    )
    assert narrow != text
    path = tmp_path / "narrow.toml"
    path.write_text(narrow)
    assert main(["--scenario", str(path), "--codp", "eto"]) == 2
    assert "not allowed" in capsys.readouterr().err
    assert main(["--scenario", str(path), "--seeds", "1", "--format", "json"]) == 0
    assert [r["codp"] for r in json.loads(capsys.readouterr().out)["rows"]] == ["mts-local"] * 3 + ["ato"] * 3


def test_sharing_variants_play_the_same_seeds_beside_nothing_shared() -> None:
    scn = load_scenario("classic-random")
    pos = parse_sharing("pos_demand")
    rows = compare(scn, [0, 1], ["base_stock", "sterman"], positions=["mts-local"], sharing=[pos, pos])
    assert [(r["sharing"], r["policy"]) for r in rows] == [
        ("none", "base_stock"),
        ("none", "sterman"),
        ("pos_demand", "base_stock"),
        ("pos_demand", "sterman"),
    ]
    assert len({r["demand"] for r in rows}) == 1
    shared = simulate(scn, 1, "base_stock", visibility=pos).weeks
    alone = simulate(scn, 1, "base_stock").weeks
    assert shared != alone, "the bots must play differently when they see the point of sale"
    played = [
        summary(scn, simulate(scn, s, "base_stock", visibility=pos).weeks)["kpis"]["bullwhip"]["factory"]
        for s in (0, 1)
    ]
    assert rows[2]["bullwhip_factory"] == pytest.approx(sum(played) / 2)
    assert rows[2]["bullwhip_factory"] < rows[0]["bullwhip_factory"]


def test_parse_sharing() -> None:
    assert parse_sharing("all") == {"pos_demand": True, "inventories": True, "pipelines": True}
    assert parse_sharing("none") == {"pos_demand": False, "inventories": False, "pipelines": False}
    assert parse_sharing("inventories + pipelines") == {"pos_demand": False, "inventories": True, "pipelines": True}
    with pytest.raises(ValueError, match="unknown option 'stock'"):
        parse_sharing("stock")


def test_cli_visibility_table(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["--scenario", "classic-random", "--seeds", "2", "--codp", "mts-local", "--visibility", "pos_demand"]
    assert main([*argv, "--policy", "base_stock"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[1].split()[:3] == ["codp", "sharing", "policy"]
    assert lines[1].split()[-4:] == ["bw_factory", "bw_distributor", "bw_wholesaler", "bw_retailer"]
    assert [line.split()[1] for line in lines[3:5]] == ["none", "pos_demand"]
