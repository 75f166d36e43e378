"""``bench/load.py`` (the lecture-hall benchmark) runs end to end on a small class: its servers
play every week without an error, with a team on one process and with teams split, and
``--ratio`` pairs a run with one of a single process."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest
from support import ROOT

pytestmark = pytest.mark.slow

SMALL = ["--teams", "4", "--weeks", "2", "--think", "0.2", "--procs", "1", "--timeout", "20", "--deadline", "60"]


def run_load(*args: str) -> str:
    proc = subprocess.run(
        [sys.executable, "bench/load.py", *SMALL, *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout


def test_two_servers_play_a_small_class_without_errors() -> None:
    out = run_load("--servers", "2")
    assert re.search(r"^servers\s+2 \+ queue$", out, re.M), out
    assert re.search(r"^errors\s+0$", out, re.M), out
    assert re.search(r"^team-weeks/s\s+\d", out, re.M), out


def test_ratio_pairs_a_split_class_with_one_process() -> None:
    out = run_load("--servers", "2", "--split", "--ratio", "1")
    pair = re.search(r"^pair 1: one process ([\d.]+) ms/team-week, this ([\d.]+), ratio ([\d.]+)", out, re.M)
    assert pair, out
    one, this, ratio = map(float, pair.groups())
    assert one > 0 and this > 0 and ratio == pytest.approx(this / one, abs=0.01)
    assert "ratio median" in out


def test_against_pairs_each_run_with_another_checkout(tmp_path) -> None:
    """``--against DIR`` serves DIR's code in the first run of each pair: a copy of the
    server whose health answer is broken makes that run fail, so the pair is not made."""
    out = run_load("--ratio", "1", "--against", str(ROOT))
    assert re.search(r"^pair 1: that code [\d.]+ ms/team-week, this [\d.]+, ratio [\d.]+", out, re.M), out
    broken = tmp_path / "broken"
    (broken / "web").mkdir(parents=True)
    (broken / "web" / "__init__.py").write_text("raise SystemExit('not this server')\n")
    proc = subprocess.run(
        [sys.executable, "bench/load.py", *SMALL, "--ratio", "1", "--against", str(broken)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode != 0 and "pair 1" not in proc.stdout
