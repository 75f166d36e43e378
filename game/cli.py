"""Command line: play whole games headless, list the presets, compare policies.

``python -m game simulate|scenarios|compare|reference ...`` (also installed as ``beergame``).
Bad input ends with one line on stderr naming the problem and exit status 2.
"""

from __future__ import annotations

import argparse
import csv
import importlib
import json
import math
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NoReturn, TextIO

from game.codp import POSITIONS, apply_codp
from game.engine import DecisionError, decision_bounds, decision_kind
from game.jsonsafe import jsonsafe
from game.policies import POLICIES, Policy, PolicyError, check_roles, parse_policy
from game.scenario import Scenario, ScenarioError, list_presets, load_scenario
from game.simulate import DEFAULT_POLICY, GameResult, simulate
from game.state import new_game

PROG = "beergame"
MAX_WEEKS = 520
EXIT_USAGE = 2


class CliError(Exception):
    """Bad command-line input; the message is the one line shown to the user."""


class _Parser(argparse.ArgumentParser):
    """An argument parser that reports errors as one line instead of usage plus message."""

    def error(self, message: str) -> NoReturn:
        raise CliError(f"{message} (see {self.prog} --help)")


def _weeks(text: str) -> int:
    """argparse type for --weeks: a whole number of weeks, 1 to MAX_WEEKS."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a whole number of weeks, got {text!r}") from None
    if not 1 <= value <= MAX_WEEKS:
        raise argparse.ArgumentTypeError(f"must be between 1 and {MAX_WEEKS}, got {value}")
    return value


def _seed(text: str) -> int:
    """argparse type for --seed: a whole number >= 0."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a whole number, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be >= 0, got {value}")
    return value


def build_parser() -> argparse.ArgumentParser:
    """The parser for every subcommand except ``compare`` (dispatched before parsing)."""
    parser = _Parser(prog=PROG, description="The beer distribution game engine, headless.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    sim = sub.add_parser(
        "simulate",
        help="play a whole game with bots and/or scripted orders",
        description="Play a whole game headless and print every week's events and the totals.",
    )
    sim.add_argument("--scenario", required=True, metavar="NAME|PATH", help="a preset name or a .toml file")
    sim.add_argument("--seed", type=_seed, default=0, metavar="N", help="random seed for demand (default 0)")
    sim.add_argument("--weeks", type=_weeks, metavar="N", help="weeks to play (default: the scenario's)")
    known = "; ".join(f"{k}: {v}" for k, v in POLICIES.items())
    sim.add_argument(
        "--policy",
        action="append",
        default=[],
        metavar="[ROLE=]NAME[:PARAMS]",
        help=f"bot policy for every role, or for one role with ROLE=; repeatable (default {DEFAULT_POLICY}). {known}",
    )
    sim.add_argument(
        "--orders",
        metavar="FILE",
        help='JSON {"<role>": [decision in week 1, week 2, ...]} for scripted roles '
        "(a make-to-order stage's decision is its capacity)",
    )
    sim.add_argument("--codp", metavar="POSITION", help=f"decoupling point: {', '.join(POSITIONS)}")
    sim.add_argument("--format", choices=("json", "csv"), default="json", help="output format (default json)")
    sim.set_defaults(func=cmd_simulate)

    scn = sub.add_parser("scenarios", help="list the preset scenarios", description="List the preset scenarios.")
    scn.set_defaults(func=cmd_scenarios)

    sub.add_parser("compare", help="compare policies or decoupling points over many games", add_help=False)

    ref = sub.add_parser(
        "reference",
        help="the reference plan per decoupling point: tuned on some seeds, scored on others",
        description="Tune a stationary plan (order-up-to levels, capacities) at every offered decoupling "
        "point on training seeds and score it on disjoint test seeds: mean profit, its standard error, "
        "the winner and its margin in standard errors.",
    )
    ref.add_argument("--scenario", required=True, metavar="NAME|PATH", help="a preset name or a .toml file")
    ref.add_argument("--train", type=_seed, default=20, metavar="N", help="training seeds (default 20)")
    ref.add_argument("--test", type=_seed, default=20, metavar="N", help="test seeds (default 20)")
    ref.add_argument("--budget", type=_seed, default=40, metavar="N", help="plans tried per position (default 40)")
    ref.add_argument("--format", choices=("table", "json", "csv"), default="table", help="output (default table)")
    ref.set_defaults(func=cmd_reference)
    return parser


# ----------------------------------------------------------------------------
# simulate
# ----------------------------------------------------------------------------


def parse_policies(scenario: Scenario, specs: Sequence[str]) -> dict[str, Policy]:
    """One policy per role from ``NAME[:PARAMS]`` (every role) and ``ROLE=NAME[:PARAMS]`` items."""
    default = parse_policy(DEFAULT_POLICY)
    per_role: dict[str, Policy] = {}
    for item in specs:
        head = item.partition(":")[0]
        if "=" in head:
            role, _, spec = item.partition("=")
            role = role.strip()
            if role not in scenario.roles:
                raise CliError(f"--policy {item}: unknown role {role!r} (roles: {', '.join(scenario.roles)})")
            per_role[role] = parse_policy(spec)
        else:
            default = parse_policy(item)
    out = {r: per_role.get(r, default) for r in scenario.roles}
    for pol in out.values():
        check_roles(pol, scenario.roles)
    return out


def read_orders(path: str, scenario: Scenario, weeks: int, seed: int = 0) -> dict[str, list[int]]:
    """Read and fully validate a scripted-orders file for a game of ``weeks`` weeks."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise CliError(f"cannot read orders file {path}: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise CliError(f"orders file {path}: not UTF-8 text") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        where = f"line {exc.lineno} column {exc.colno}"
        raise CliError(f"orders file {path}: not valid JSON: {exc.msg} at {where}") from None
    if not isinstance(data, dict):
        raise CliError(f'orders file {path}: must be a JSON object {{"<role>": [decisions...]}}')
    state = new_game(scenario, seed)
    orders: dict[str, list[int]] = {}
    for role, values in data.items():
        if role not in scenario.roles:
            raise CliError(f"orders file {path}: unknown role {role!r} (roles: {', '.join(scenario.roles)})")
        kind = decision_kind(scenario, state, role)
        if not isinstance(values, list):
            raise CliError(f"orders file {path}: {role}: must be a list of {kind}s, one per week")
        if len(values) < weeks:
            raise CliError(f"orders file {path}: {role}: {len(values)} {kind}s for a game of {weeks} weeks")
        lo, hi = decision_bounds(scenario, state, role)
        clean: list[int] = []
        for week, value in enumerate(values, 1):
            number = value
            if isinstance(value, float) and math.isfinite(value) and value.is_integer():
                number = int(value)
            if isinstance(number, bool) or not isinstance(number, int):
                raise CliError(f"orders file {path}: {role} week {week}: {kind} must be a whole number, got {value!r}")
            if not lo <= number <= hi:
                raise CliError(f"orders file {path}: {role} week {week}: {kind} must be {lo} to {hi}, got {number}")
            clean.append(number)
        orders[role] = clean
    return orders


def _cell(value: Any) -> Any:
    """A CSV cell: lists joined with ';', None empty."""
    if value is None:
        return ""
    if isinstance(value, list | tuple):
        return ";".join(str(v) for v in value)
    return value


def write_csv(result: GameResult, out: TextIO) -> None:
    """One row per week and role, with a header; columns are the union of the event keys."""
    columns: list[str] = []
    for w in result.weeks:
        for ev in w["roles"].values():
            columns.extend(k for k in ev if k not in columns)
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["week", "role", *columns])
    for w in result.weeks:
        for role, ev in w["roles"].items():
            writer.writerow([w["week"], role, *(_cell(ev.get(k)) for k in columns)])


def cmd_simulate(args: argparse.Namespace, out: TextIO) -> int:
    """``simulate``: play one game and print it."""
    scenario = load_scenario(args.scenario)
    if args.codp:
        try:
            scenario = apply_codp(scenario, args.codp)
        except ValueError as exc:
            raise CliError(f"--codp: {exc}") from None
    weeks = args.weeks or scenario.weeks
    policies = parse_policies(scenario, args.policy)
    orders = read_orders(args.orders, scenario, weeks, args.seed) if args.orders else None
    result = simulate(scenario, seed=args.seed, policy=policies, orders=orders, weeks=weeks)
    if args.format == "csv":
        write_csv(result, out)
    else:
        json.dump(jsonsafe(result.to_dict()), out, allow_nan=False)
        out.write("\n")
    return 0


# ----------------------------------------------------------------------------
# scenarios and compare
# ----------------------------------------------------------------------------


def cmd_scenarios(args: argparse.Namespace, out: TextIO) -> int:
    """``scenarios``: one line per preset (name, weeks, title)."""
    status = 0
    for name in list_presets():
        try:
            scn = load_scenario(name)
        except ScenarioError as exc:
            print(f"{PROG}: error: {exc}", file=sys.stderr)
            status = EXIT_USAGE
            continue
        out.write(f"{name:<24} {scn.weeks:>3} weeks  {scn.title}\n")
    return status


def cmd_reference(args: argparse.Namespace, out: TextIO) -> int:
    """``reference``: the out-of-sample reference table of a scenario."""
    from game.reference import reference, write_reference

    if args.train < 1 or args.test < 2:
        raise CliError("--train needs at least 1 seed and --test at least 2")
    scenario = load_scenario(args.scenario)
    write_reference(reference(scenario, args.train, args.test, args.budget), args.format, out)
    return 0


def cmd_compare(argv: list[str]) -> int:
    """``compare``: handed to ``game.compare.main`` when that module exists."""
    try:
        module = importlib.import_module("game.compare")
    except ModuleNotFoundError as exc:
        if exc.name != "game.compare":
            raise
        raise CliError("compare is not available in this version (no game.compare module)") from None
    return int(module.main(argv) or 0)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``python -m game`` and ``beergame``; returns the exit status."""
    args_list = list(sys.argv[1:] if argv is None else argv)
    try:
        if args_list and args_list[0] == "compare":
            return cmd_compare(args_list[1:])
        args = build_parser().parse_args(args_list)
        return args.func(args, sys.stdout)
    except (CliError, ScenarioError, PolicyError, DecisionError) as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except BrokenPipeError:
        # the reader went away (e.g. piped into head): not an error; silence the final flush
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
