"""Command line: play whole games headless, list the presets, compare policies.

``python -m game simulate|scenarios|compare|reference ...`` (also installed as ``beergame``).
Every subcommand is one ``_add_<name>(sub)`` function below that adds its parser and sets
``func(args, out) -> exit status``. Options are never abbreviated (``--seed`` is not
``--seeds``), and bad input ends with one line on stderr, ``beergame: error: <problem>``
(with a pointer to ``--help`` for a bad option), and exit status 2.
"""

from __future__ import annotations

import argparse
import csv
import difflib
import json
import math
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NoReturn, TextIO

from game.analysis import compare
from game.analysis.economics import economics_table
from game.analysis.reference import BUDGET, deal_reference, reference, save, write_reference
from game.codp import POSITIONS, apply_choice
from game.comaker import offered
from game.engine import DecisionError, decision_bounds, decision_kind
from game.horizon import MAX_WEEKS, end_of_game, window
from game.jsonsafe import jsonsafe
from game.policies import POLICIES, Policy, PolicyError, check_roles, parse_policy
from game.scenario import SALES_SEAT, Scenario, ScenarioError, list_presets, load_scenario
from game.simulate import DEFAULT_POLICY, GameResult, simulate
from game.start import new_game

PROG = "beergame"
EXIT_USAGE = 2
FORMATS = ("table", "json", "csv")
#: Positions the reference tunes at a time (processes): the machine's cores, at most two.
JOBS = min(2, os.cpu_count() or 1)


class CliError(Exception):
    """Bad command-line input; the message is the one line shown to the user."""


class _Parser(argparse.ArgumentParser):
    """An argument parser that takes no abbreviated options and reports errors as one line
    instead of usage plus message."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs["allow_abbrev"] = False
        super().__init__(*args, **kwargs)

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
    """The parser of every subcommand."""
    parser = _Parser(prog=PROG, description="The beer distribution game engine, headless.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND", parser_class=_Parser)
    _add_simulate(sub)
    _add_scenarios(sub)
    _add_compare(sub)
    _add_reference(sub)
    _add_economics(sub)
    return parser


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    """Parse ``argv``; an unknown option is named with the closest known one of its subcommand."""
    parser = build_parser()
    args, extra = parser.parse_known_args(list(argv))
    if extra:
        command = parser._subparsers._group_actions[0].choices[args.command]  # type: ignore[union-attr]
        known = [o for o in command._option_string_actions if o.startswith("--")]
        close = difflib.get_close_matches(extra[0].partition("=")[0], known, n=1)
        hint = f"; did you mean {close[0]}?" if close else ""
        raise CliError(f"unrecognized arguments: {' '.join(extra)}{hint} (see {command.prog} --help)")
    return args


def _add_simulate(sub: Any) -> None:
    sim = sub.add_parser(
        "simulate",
        help="play a whole game with bots and/or scripted orders",
        description="Play a whole game headless and print every week's events and the totals: "
        "a table on a terminal, JSON when the output goes to a file or a pipe.",
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
        help='JSON {"<role>": [decision in week 1, week 2, ...]}, one entry per week, for scripted roles '
        "(a make-to-order stage's decision is its capacity; \"sales\": the sales seat's promises, in weeks)",
    )
    sim.add_argument(
        "--codp",
        metavar="POSITION",
        help=f"decoupling point: {', '.join(POSITIONS)}; or a process per segment: per-segment, per-need, "
        "or segment=position,... (scenarios with max_processes > 1)",
    )
    sim.add_argument(
        "--format",
        choices=FORMATS,
        help="output: table (default on a terminal), json (default otherwise) or csv",
    )
    sim.set_defaults(func=cmd_simulate)


def _add_scenarios(sub: Any) -> None:
    scn = sub.add_parser("scenarios", help="list the preset scenarios", description="List the preset scenarios.")
    scn.set_defaults(func=cmd_scenarios)


def _add_compare(sub: Any) -> None:
    cmp = sub.add_parser(
        "compare",
        help="compare policies or decoupling points over many games",
        description="Every CODP position x bot policy on the same demand, averaged per game.",
    )
    compare.add_arguments(cmp)
    cmp.set_defaults(func=cmd_compare)


def _add_reference(sub: Any) -> None:
    ref = sub.add_parser(
        "reference",
        help="the reference plan per decoupling point: tuned on some seeds, scored on others",
        description="Tune an expert's plan (order-up-to levels and capacities that follow a smoothed forecast "
        "or stay fixed, a phase-out where the end is known) at every offered decoupling "
        "point on training seeds and score it on disjoint test seeds: mean profit, its standard error, "
        "the winner and its margin in standard errors. Where a segment can co-make, every choice is "
        "played with and without the co-makership deal (--save stores the plans without it).",
    )
    ref.add_argument("--scenario", required=True, metavar="NAME|PATH", help="a preset name or a .toml file")
    ref.add_argument("--train", type=_seed, default=20, metavar="N", help="training seeds (default 20)")
    ref.add_argument("--test", type=_seed, default=20, metavar="N", help="test seeds (default 20)")
    ref.add_argument(
        "--budget", type=_seed, default=BUDGET, metavar="N", help=f"plans tried per position (default {BUDGET})"
    )
    ref.add_argument(
        "--jobs",
        type=_seed,
        default=JOBS,
        metavar="N",
        help=f"positions tuned at a time, in processes (default {JOBS})",
    )
    ref.add_argument("--format", choices=("table", "json", "csv"), default="table", help="output (default table)")
    ref.add_argument(
        "--save", action="store_true", help="store the plans in config/reference/ for the debrief (presets)"
    )
    ref.set_defaults(func=cmd_reference)


def _add_economics(sub: Any) -> None:
    eco = sub.add_parser(
        "economics",
        help="unit cost, unit values, price and steady-state margin of the CODP presets",
        description="Per scenario (default: every preset with decoupling points): the unit cost, each stage's "
        "unit value, the price per unit served, and a week in steady state at the scenario's own position: "
        "customers served of the mean demand, revenue less material and fulfilment, capacity and holding "
        "cost, and the margin left.",
    )
    eco.add_argument("--scenario", action="append", metavar="NAME|PATH", help="a preset name or a .toml file")
    eco.set_defaults(func=cmd_economics)


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
    seats = scenario.roles + ((SALES_SEAT,) if scenario.sales is not None else ())  # the sales seat: its promises
    for role, values in data.items():
        if role not in seats:
            raise CliError(f"orders file {path}: unknown role {role!r} (roles: {', '.join(seats)})")
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


TABLE_COLUMNS = (("order", "decision"), ("stock", "inventory"), ("owed", "backlog"))


def write_table(result: GameResult, out: TextIO) -> None:
    """A table for people: per week the consumer demand and, per stage, its decision (order, or a
    make-to-order stage's capacity), stock and backlog; then the cost per stage and team."""
    scn = result.scenario
    roles = list(scn.roles)
    width = 6
    group = len(TABLE_COLUMNS) * (width + 1) - 1
    names = [scn.stage(r).label[:group] for r in roles]
    out.write(f"{scn.title} · seed {result.seed} · {len(result.weeks)} weeks")
    out.write(f" · decoupling point {result.state.codp}\n\n" if result.state.codp else "\n\n")
    out.write((f"{'':>4}  {'':>{width}}  " + "  ".join(f"{n:^{group}}" for n in names)).rstrip() + "\n")
    sub = " ".join(f"{c:>{width}}" for c, _ in TABLE_COLUMNS)
    out.write(f"{'week':>4}  {'demand':>{width}}  " + "  ".join(sub for _ in roles) + "\n")
    for w in result.weeks:
        evs = w["roles"]
        demand = sum(ev.get("demand") or 0 for ev in evs.values())
        cells = [" ".join(f"{_short(evs[r].get(key)):>{width}}" for _, key in TABLE_COLUMNS) for r in roles]
        out.write(f"{w['week']:>4}  {demand:>{width}}  " + "  ".join(cells) + "\n")
    totals = result.totals()
    out.write("\ncost: " + ", ".join(f"{scn.stage(r).label} {totals['cost'][r]:.2f}" for r in roles))
    out.write(f"; team {totals['team_cost']:.2f}\n")
    if scn.has_prices:
        revenue = sum(ev.get("revenue") or 0.0 for w in result.weeks for ev in w["roles"].values())
        out.write(f"revenue {revenue:.2f}; profit {revenue - totals['team_cost']:.2f}\n")
    out.write("order: the stage's decision (a make-to-order stage's capacity); owed: backlog\n")
    out.write("(--format json or --format csv for every event)\n")


def _short(value: Any) -> str:
    """A table cell: whole numbers as they are, others with one decimal."""
    if value is None:
        return "-"
    if isinstance(value, float) and not value.is_integer():
        return f"{value:.1f}"
    return str(int(value)) if isinstance(value, float) else str(value)


def cmd_simulate(args: argparse.Namespace, out: TextIO) -> int:
    """``simulate``: play one game and print it."""
    scenario = load_scenario(args.scenario)
    if args.codp:
        try:
            scenario = apply_choice(scenario, args.codp)
        except ValueError as exc:
            raise CliError(f"--codp: {exc}") from None
    weeks = args.weeks or end_of_game(scenario, args.seed)  # without --weeks: the week drawn for the seed
    policies = parse_policies(scenario, args.policy)
    orders = read_orders(args.orders, scenario, weeks, args.seed) if args.orders else None
    result = simulate(scenario, seed=args.seed, policy=policies, orders=orders, weeks=args.weeks)
    fmt = args.format or ("table" if out.isatty() else "json")
    if fmt == "csv":
        write_csv(result, out)
    elif fmt == "table":
        write_table(result, out)
    else:
        json.dump(jsonsafe(result.to_dict()), out, allow_nan=False)
        out.write("\n")
    return 0


# ----------------------------------------------------------------------------
# scenarios and compare
# ----------------------------------------------------------------------------


def cmd_scenarios(args: argparse.Namespace, out: TextIO) -> int:
    """``scenarios``: one line per preset (name, weeks or the window the game ends in, title)."""
    status = 0
    for name in list_presets():
        try:
            scn = load_scenario(name)
        except ScenarioError as exc:
            print(f"{PROG}: error: {exc}", file=sys.stderr)
            status = EXIT_USAGE
            continue
        first, last = window(scn)
        length = f"{scn.weeks:>3}" if first == last else f"{first}-{last}"
        out.write(f"{name:<24} {length:>5} weeks  {scn.title}\n")
    return status


def cmd_economics(args: argparse.Namespace, out: TextIO) -> int:
    """``economics``: the unit economics table (docs/SCENARIOS.md, "Accounting")."""
    if args.scenario:
        scenarios = [load_scenario(name) for name in args.scenario]
    else:
        scenarios = [s for s in map(load_scenario, list_presets()) if s.codp_positions]
    out.write(economics_table(scenarios))
    return 0


def cmd_reference(args: argparse.Namespace, out: TextIO) -> int:
    """``reference``: the out-of-sample reference table of a scenario."""
    if args.train < 1 or args.test < 2:
        raise CliError(f"--train needs at least 1 seed and --test at least 2 (see {PROG} reference --help)")
    scenario = load_scenario(args.scenario)
    deal = offered(scenario)
    jobs = max(1, args.jobs)
    ref = None if deal and not args.save else reference(scenario, args.train, args.test, args.budget, jobs=jobs)
    shown = deal_reference(scenario, args.train, args.test, args.budget) if deal else ref
    assert shown is not None
    write_reference(shown, args.format, out)
    if ref is not None and args.save:  # the plans per decoupling point, without a deal: what the debrief replays
        print(f"{PROG}: stored in {save(ref, scenario)}", file=sys.stderr)
    return 0


def cmd_compare(args: argparse.Namespace, out: TextIO) -> int:
    """``compare``: ``game.analysis.compare.run``; its refusals get the same hint as a bad option."""
    try:
        return compare.run(args, out)
    except (ScenarioError, PolicyError):
        raise
    except ValueError as exc:
        raise CliError(f"{exc} (see {PROG} compare --help)") from None


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``python -m game`` and ``beergame``; returns the exit status."""
    args_list = list(sys.argv[1:] if argv is None else argv)
    try:
        args = parse_args(args_list)
        return args.func(args, sys.stdout)
    except (CliError, ScenarioError, PolicyError, DecisionError) as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except BrokenPipeError:
        # the reader went away (e.g. piped into head): not an error; silence the final flush
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
