"""The command line, run as ``python -m game`` in a subprocess: output shapes and bad input."""

from __future__ import annotations

import csv
import io
import json
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from game.analysis import cli
from game.scenario import SCENARIO_DIR, list_presets

ROOT = Path(__file__).resolve().parent.parent
ROLES = ["factory", "distributor", "wholesaler", "retailer"]
BENCHMARK = "sterman:theta=0,alpha=1,beta=1,target=28,target_factory=20,fixed_weeks=4"
EVENT_KEYS = {"received", "incoming_order", "shipped", "inventory", "backlog", "order", "cost"}


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "game", *args], cwd=ROOT, capture_output=True, text=True, timeout=120, check=False
    )


def ok_json(*args: str) -> dict:
    proc = run("simulate", *args)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""

    def refuse(name: str) -> None:
        raise AssertionError(f"not strict JSON: {name}")

    return json.loads(proc.stdout, parse_constant=refuse)


def write_json(tmp_path: Path, data: object, name: str = "orders.json") -> str:
    path = tmp_path / name
    path.write_text(json.dumps(data) if not isinstance(data, str) else data, encoding="utf-8")
    return str(path)


# ---------------------------------------------------------------------------
# scenarios
# ---------------------------------------------------------------------------


def test_scenarios_lists_one_line_per_preset():
    proc = run("scenarios")
    assert proc.returncode == 0 and proc.stderr == ""
    lines = proc.stdout.splitlines()
    assert [line.split()[0] for line in lines] == list_presets()
    classic = next(line for line in lines if line.split()[0] == "classic")
    assert "36 weeks" in classic and "Classic beer game (Sterman 1989)" in classic


@pytest.mark.skipif(shutil.which("beergame") is None, reason="console script not installed")
def test_console_script():
    proc = subprocess.run(["beergame", "scenarios"], capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0 and "classic-random" in proc.stdout


# ---------------------------------------------------------------------------
# simulate: JSON
# ---------------------------------------------------------------------------


def test_simulate_json_shape_and_sterman_benchmark():
    out = ok_json("--scenario", "classic", "--policy", BENCHMARK)
    assert out["scenario"] == "classic" and out["seed"] == 0
    assert [w["week"] for w in out["weeks"]] == list(range(1, 37))
    for w in out["weeks"]:
        assert list(w["roles"]) == ROLES
        for ev in w["roles"].values():
            assert set(ev) >= EVENT_KEYS
    assert out["totals"]["cost"] == {"factory": 54.0, "distributor": 54.0, "wholesaler": 50.0, "retailer": 46.0}
    assert out["totals"]["team_cost"] == 204.0
    per_role = {r: sum(w["roles"][r]["cost"] for w in out["weeks"]) for r in ROLES}
    assert per_role == out["totals"]["cost"]


def test_simulate_scenario_by_path_and_weeks():
    out = ok_json("--scenario", str(SCENARIO_DIR / "classic.toml"), "--weeks", "5")
    assert [w["week"] for w in out["weeks"]] == [1, 2, 3, 4, 5]


def test_simulate_seed_replays_and_changes_random_demand():
    args = ("--scenario", "classic-random", "--policy", "passthrough", "--weeks", "12")
    a, b, c = ok_json(*args, "--seed", "7"), ok_json(*args, "--seed", "7"), ok_json(*args, "--seed", "8")
    assert a == b
    demand = [w["roles"]["retailer"]["demand"] for w in a["weeks"]]
    assert demand != [w["roles"]["retailer"]["demand"] for w in c["weeks"]]
    # pass-through: every stage orders what it was asked for
    assert [w["roles"]["retailer"]["order"] for w in a["weeks"]] == demand


def test_policy_per_role_overrides_the_default():
    out = ok_json(
        "--scenario",
        "classic",
        "--weeks",
        "8",
        "--policy",
        "sterman:theta=0,alpha=0",
        "--policy",
        "retailer=passthrough",
    )
    assert [w["roles"]["retailer"]["order"] for w in out["weeks"]] == [4, 4, 4, 4, 8, 8, 8, 8]
    assert {w["roles"][r]["order"] for w in out["weeks"] for r in ROLES[:3]} == {4}


def test_scripted_orders_follow_the_file(tmp_path):
    orders = {"retailer": [20] + [4] * 7, "wholesaler": [8, 8] + [4] * 6}
    out = ok_json(
        "--scenario", "classic", "--weeks", "8", "--orders", write_json(tmp_path, orders), "--policy", "passthrough"
    )
    assert [w["roles"]["retailer"]["order"] for w in out["weeks"]] == orders["retailer"]
    assert [w["roles"]["wholesaler"]["order"] for w in out["weeks"]] == orders["wholesaler"]
    # hand-computed (see test_engine_classic): the 20 reach the wholesaler in week 3, the retailer gets 16 in week 5
    assert [w["roles"]["wholesaler"]["incoming_order"] for w in out["weeks"]][:3] == [4, 4, 20]
    assert [w["roles"]["retailer"]["received"] for w in out["weeks"]][4] == 16
    assert [w["roles"]["retailer"]["inventory"] for w in out["weeks"]] == [12, 12, 12, 12, 20, 16, 16, 12]


def test_orders_file_may_be_longer_than_the_game(tmp_path):
    out = ok_json("--scenario", "classic", "--weeks", "3", "--orders", write_json(tmp_path, {"factory": [5] * 36}))
    assert [w["roles"]["factory"]["order"] for w in out["weeks"]] == [5, 5, 5]


def test_codp_makes_stages_make_to_order_and_orders_set_their_capacity(tmp_path):
    orders = write_json(tmp_path, {"retailer": [6, 7, 8, 9]})
    out = ok_json("--scenario", "classic", "--codp", "mts-central", "--weeks", "4", "--orders", orders)
    assert out["codp"] == "mts-central"
    retailer = [w["roles"]["retailer"] for w in out["weeks"]]
    assert {ev["mode"] for ev in retailer} == {"mto"}
    assert [ev["decision"] for ev in retailer] == [6, 7, 8, 9]
    assert {w["roles"]["factory"]["mode"] for w in out["weeks"]} == {"mts"}


def test_json_output_is_strict_even_when_no_lead_time_can_be_quoted(tmp_path):
    data = (SCENARIO_DIR / "classic.toml").read_text(encoding="utf-8")
    data = data.replace('name = "classic"', 'name = "impatient"') + (
        '\n[[segments]]\nname = "impatient"\nshare = 1.0\ntolerance = 2\n'
    )
    assert tomllib.loads(data)["segments"]
    path = tmp_path / "impatient.toml"
    path.write_text(data, encoding="utf-8")
    out = ok_json("--scenario", str(path), "--codp", "mts-central", "--weeks", "3", "--policy", "sterman:capacity=0")
    assert out["weeks"][0]["roles"]["retailer"]["quoted_lead_time"] is None  # no quote possible


# ---------------------------------------------------------------------------
# simulate: CSV
# ---------------------------------------------------------------------------


def test_simulate_csv_one_row_per_week_and_role_matching_json():
    args = ("--scenario", "classic-random", "--seed", "4", "--weeks", "6", "--policy", "base_stock")
    proc = run("simulate", *args, "--format", "csv")
    assert proc.returncode == 0, proc.stderr
    rows = list(csv.DictReader(io.StringIO(proc.stdout)))
    header = proc.stdout.splitlines()[0].split(",")
    assert header[:2] == ["week", "role"] and set(header) >= EVENT_KEYS
    assert [(int(r["week"]), r["role"]) for r in rows] == [(w, r) for w in range(1, 7) for r in ROLES]
    out = ok_json(*args)
    for row in rows:
        ev = out["weeks"][int(row["week"]) - 1]["roles"][row["role"]]
        for key in ("received", "incoming_order", "shipped", "inventory", "backlog", "order"):
            assert int(row[key]) == ev[key]
        assert float(row["cost"]) == ev["cost"]
    assert all(r["demand"] == "" for r in rows if r["role"] != "retailer")


# ---------------------------------------------------------------------------
# bad input: one line on stderr, exit 2, no traceback
# ---------------------------------------------------------------------------

SIM = ("simulate", "--scenario", "classic")


def bad_cases(tmp: Path) -> list[tuple[tuple[str, ...], str]]:
    def orders(data: object, name: str) -> tuple[str, ...]:
        return (*SIM, "--orders", write_json(tmp, data, name))

    bad_toml = tmp / "broken.toml"
    bad_toml.write_text('name = "x"\nweeks = \n', encoding="utf-8")
    return [
        (("simulate", "--scenario", "nope"), "unknown scenario 'nope'"),
        (("simulate", "--scenario", str(tmp / "gone.toml")), "file not found"),
        (("simulate", "--scenario", str(bad_toml)), "broken.toml: not valid TOML"),
        (("simulate",), "--scenario"),
        ((*SIM, "--weeks", "0"), "--weeks"),
        ((*SIM, "--weeks", "-3"), "--weeks"),
        ((*SIM, "--weeks", "four"), "--weeks"),
        ((*SIM, "--weeks", "100000"), "--weeks"),
        ((*SIM, "--seed", "x"), "--seed"),
        ((*SIM, "--format", "xml"), "--format"),
        ((*SIM, "--policy", "genius"), "unknown policy 'genius'"),
        ((*SIM, "--policy", "sterman:alpha=much"), "alpha must be a number"),
        ((*SIM, "--policy", "sterman:theta=3"), "theta must be between"),
        ((*SIM, "--policy", "sterman:zeta=1"), "bad policy parameter 'zeta=1'"),
        ((*SIM, "--policy", "brewer=passthrough"), "unknown role 'brewer'"),
        ((*SIM, "--codp", "nowhere"), "unknown position 'nowhere'"),
        ((*SIM, "--orders", str(tmp / "missing.json")), "cannot read orders file"),
        (orders("{not json", "malformed.json"), "not valid JSON"),
        (orders([4, 4, 4], "list.json"), "must be a JSON object"),
        (orders({"retailer": 4}, "scalar.json"), "retailer: must be a list"),
        (orders({"retailer": [4] * 35}, "short.json"), "retailer: 35 orders for a game of 36 weeks"),
        (orders({"brewer": [4] * 36}, "role.json"), "unknown role 'brewer'"),
        (orders({"retailer": [4] * 10 + [-1] + [4] * 25}, "negative.json"), "retailer week 11: order must be 0 to"),
        (orders({"retailer": [4.5] * 36}, "fraction.json"), "retailer week 1: order must be a whole number, got 4.5"),
        (orders({"retailer": ["4"] * 36}, "string.json"), "order must be a whole number, got '4'"),
        (orders({"retailer": [True] * 36}, "bool.json"), "order must be a whole number, got True"),
        (orders({"retailer": [4] * 35 + [None]}, "null.json"), "retailer week 36: order must be a whole number"),
        (orders({"retailer": [10**7] * 36}, "huge.json"), "order must be 0 to 1000, got 10000000"),
        ((), "COMMAND"),
        (("brew",), "invalid choice: 'brew'"),
    ]


def test_every_bad_input_ends_with_one_line_and_status_2(tmp_path):
    for args, problem in bad_cases(tmp_path):
        proc = run(*args)
        assert proc.returncode == 2, (args, proc.stderr)
        assert "Traceback" not in proc.stderr, args
        lines = proc.stderr.splitlines()
        assert len(lines) == 1, (args, proc.stderr)
        assert lines[0].startswith("beergame: error: "), lines[0]
        assert problem in lines[0], (args, lines[0])
        assert proc.stdout == "", args


def test_bad_capacity_in_orders_names_the_capacity(tmp_path):
    path = write_json(tmp_path, {"retailer": [-2] * 5})
    proc = run(*SIM, "--codp", "mts-central", "--weeks", "5", "--orders", path)
    assert proc.returncode == 2
    assert proc.stderr.strip().endswith("retailer week 1: capacity must be 0 to 1000, got -2")


# ---------------------------------------------------------------------------
# help, no abbreviations, one style of error, a table on a terminal
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("command", [(), ("simulate",), ("scenarios",), ("compare",)])
def test_help_everywhere_prints_help(command: tuple[str, ...]) -> None:
    proc = run(*command, "--help")
    assert proc.returncode == 0 and proc.stderr == ""
    assert proc.stdout.startswith("usage: beergame " + " ".join(command))


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("compare", "--scenario", "classic", "--seed", "5"), "--seed 5; did you mean --seeds? (see beergame compare"),
        ((*SIM, "--seeds", "3"), "--seeds 3; did you mean --seed? (see beergame simulate --help)"),
        ((*SIM, "--see", "3"), "unrecognized arguments: --see 3"),
        ((*SIM, "--form", "csv"), "unrecognized arguments: --form csv"),
        (("compare", "--scenario", "classic", "--seeds", "0"), "--seeds must be between 1 and 1000, got 0"),
        (("compare", "--scenario", "nope"), "unknown scenario 'nope'"),
        (("compare", "--scenario", "classic", "--codp", "nowhere"), "--codp: unknown position 'nowhere'"),
    ],
)
def test_no_abbreviations_and_one_style_for_every_error(args: tuple[str, ...], message: str) -> None:
    proc = run(*args)
    assert proc.returncode == 2 and proc.stdout == ""
    lines = proc.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("beergame: error: "), proc.stderr
    assert message in lines[0]


def test_simulate_prints_a_table_on_a_terminal_and_json_in_a_pipe() -> None:
    import os
    import pty

    master, slave = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "game", "simulate", "--scenario", "classic", "--weeks", "6"],
        cwd=ROOT,
        stdout=slave,
        stderr=subprocess.PIPE,
    )
    os.close(slave)
    chunks = []
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:  # the other end closed
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(master)
    assert proc.wait(timeout=120) == 0
    text = b"".join(chunks).decode().replace("\r\n", "\n")
    lines = text.splitlines()
    assert lines[0] == "Classic beer game (Sterman 1989) · seed 0 · 6 weeks"
    assert lines[2].split() == ["Factory", "Distributor", "Wholesaler", "Retailer"]
    assert lines[3].split() == ["week", "demand", *["order", "stock", "owed"] * 4]
    rows = [line.split() for line in lines[4:10]]
    assert [int(r[0]) for r in rows] == [1, 2, 3, 4, 5, 6] and [int(r[1]) for r in rows] == [4, 4, 4, 4, 8, 8]
    # the numbers are the JSON's
    data = ok_json("--scenario", "classic", "--weeks", "6")
    for row, week in zip(rows, data["weeks"], strict=True):
        ev = week["roles"]["retailer"]
        assert [int(x) for x in row[-3:]] == [ev["decision"], ev["inventory"], ev["backlog"]]
    assert f"team {data['totals']['team_cost']:.2f}" in text
    assert len(text) < 3000
    table = run("simulate", "--scenario", "classic", "--weeks", "6", "--format", "table")
    assert table.stdout.replace("\r\n", "\n") == text


def test_compare_is_a_subcommand_with_its_own_options(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["compare", "--scenario", "segments", "--seeds", "1", "--policy", "sterman", "--format", "json"]
    assert cli.main(argv) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["scenario"] == "segments" and data["seeds"] == 1


def test_reference_tunes_expert_plans_the_same_in_parallel() -> None:
    args = ("reference", "--scenario", "customer-intimacy", "--train", "2", "--test", "2", "--budget", "12")
    one = run(*args, "--format", "json", "--jobs", "1")
    two = run(*args, "--format", "json", "--jobs", "2")
    assert one.returncode == 0 and two.returncode == 0, one.stderr + two.stderr
    data = json.loads(one.stdout)
    assert json.loads(two.stdout) == data
    assert not set(data["train_seeds"]) & set(data["test_seeds"])
    for row in data["positions"]:
        assert set(row["rules"]) == set(row["levels"]) | set(row["capacities"])
        for role, rule in row["rules"].items():
            shape = {"cover", "safety"} if role in row["levels"] else {"factor", "margin"}
            assert shape | {"alpha", "trend", "stop", "ramp", "level"} == set(rule)
    table = run(*args)
    assert table.returncode == 0 and table.stdout.splitlines()[-1].startswith("winner: ")
