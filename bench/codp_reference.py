"""Reference plans for the CODP presets, Olhager's drivers and robustness:
``python bench/codp_reference.py [--write]``.

1. For every CODP preset: the reference table (plans tuned on ``--train`` seeds, scored on
   ``--test`` other seeds), with the time it took (the issue's target: under 60 s a preset).
2. The drivers: one change at a time on a base preset, the reference winner and the gap
   between the two positions the driver is about.
3. Robustness: each preset's main parameters moved by -20% and +20% one at a time, and
   whether the preset's winner stays the winner (smaller training and test sets).

``--write`` puts (1)-(3) in docs/SCENARIOS.md and the timings in docs/PERFORMANCE.md; ``--save``
stores each preset's plans in config/reference/, as ``python -m game reference --save`` does;
``--parts drivers,robustness`` (say) runs and writes only those parts.
"""

from __future__ import annotations

import argparse
import datetime
import math
import os
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from perfdoc import write_section

from game.analysis.cli import JOBS
from game.analysis.reference import BUDGET, Reference, describe, reference, save
from game.scenario import Scenario, load_scenario

SCENARIOS_DOC = Path(__file__).resolve().parent.parent / "docs" / "SCENARIOS.md"
PRESETS = ("operational-excellence", "decoupling-point", "product-leadership", "customer-intimacy", "engineer-to-order")
TARGET_SECONDS = 60.0


def _segments(scn: Scenario, fn: Callable) -> Scenario:
    return replace(scn, segments=tuple(fn(s) for s in scn.segments))


def _stages(scn: Scenario, fn: Callable) -> Scenario:
    return scn.with_stages(tuple(fn(s) for s in scn.stages))


def _patience(scn: Scenario, f: float) -> Scenario:
    def one(seg):
        if seg.patience:
            return replace(seg, patience=tuple((w * f, s) for w, s in seg.patience))
        return replace(seg, tolerance=seg.tolerance * f) if not math.isinf(seg.tolerance) else seg

    return _segments(scn, one)


#: (parameter, change) for the robustness sweep: each moves one group of keys by a factor
PARAMETERS: tuple[tuple[str, Callable[[Scenario, float], Scenario]], ...] = (
    ("price", lambda s, f: _segments(s, lambda g: replace(g, price=g.price * f))),
    ("premium", lambda s, f: _segments(s, lambda g: replace(g, premium=g.premium * f))),
    ("patience", _patience),
    ("holding costs", lambda s, f: _stages(s, lambda st: replace(st, holding_cost=st.holding_cost * f))),
    ("capacity costs", lambda s, f: _stages(s, lambda st: replace(st, capacity_cost=st.capacity_cost * f))),
    ("demand spread", lambda s, f: replace(s, demand=replace(s.demand, sd=s.demand.sd * f))),
    ("unit cost", lambda s, f: replace(s, unit_cost=s.unit_cost * f)),
)


def _gap(ref: Reference, a: str, b: str) -> float:
    means = {r.position: r.mean for r in ref.rows}
    return means[a] - means[b]


def drivers() -> list[tuple[str, str, Scenario, str, str]]:
    """(driver, value, scenario, position a, position b): the gap a - b should move as Olhager says."""
    dp = load_scenario("decoupling-point")
    ci = load_scenario("customer-intimacy")
    pl = load_scenario("product-leadership")
    tailored = ci.segments[1]
    one_variant = replace(pl.product, variants=(replace(pl.product.variants[0], share=1.0),))
    shop = dp.index("retailer")
    return [
        ("regional markets", "1", replace(dp, regions=()), "mts-central", "mts-local"),
        ("regional markets", "4 (preset)", dp, "mts-central", "mts-local"),
        ("value added downstream: shop holding cost", "1.2 (preset)", dp, "mts-central", "mts-local"),
        (
            "value added downstream: shop holding cost",
            "3.6",
            dp.with_stages(tuple(replace(s, holding_cost=3.6) if k == shop else s for k, s in enumerate(dp.stages))),
            "mts-central",
            "mts-local",
        ),
        ("variants (same total demand)", "1", replace(pl, product=one_variant), "ato", "mts-central"),
        ("variants (same total demand)", "6 (preset)", pl, "ato", "mts-central"),
        ("customisation premium", "4", _segments(ci, lambda g: replace(g, premium=g.premium / 2)), "mto", "mts-local"),
        ("customisation premium", "8 (preset)", ci, "mto", "mts-local"),
        ("customisation premium", "16", _segments(ci, lambda g: replace(g, premium=g.premium * 2)), "mto", "mts-local"),
        (
            "lead time customers accept (D)",
            "halved",
            replace(
                ci,
                segments=(ci.segments[0], replace(tailored, patience=tuple((w / 2, s) for w, s in tailored.patience))),
            ),
            "mto",
            "mts-local",
        ),
        ("lead time customers accept (D)", "preset (4-8 weeks)", ci, "mto", "mts-local"),
        ("demand volatility (sd)", "1.5", replace(ci, demand=replace(ci.demand, sd=1.5)), "mto", "mts-local"),
        ("demand volatility (sd)", "3 (preset)", ci, "mto", "mts-local"),
        ("demand volatility (sd)", "6", replace(ci, demand=replace(ci.demand, sd=6.0)), "mto", "mts-local"),
    ]


PARTS = ("tables", "drivers", "robustness")


def tables_section(args: argparse.Namespace, command: str, when: str) -> tuple[str, list[tuple[str, float]]]:
    """The reference table of every CODP preset (stored in config/reference/ with ``--save``),
    and the seconds each took."""
    tables = [f"Expert plans tuned on {args.train} seeds and scored on {args.test} other seeds, {args.budget} plans"]
    tables[0] += " tried per position (`python -m game reference --scenario NAME`). Mean profit per game and its"
    tables[0] += " standard error; the margin is the winner's lead over the runner-up in standard errors of the"
    tables[0] += " paired per-seed differences. The plan: per role its order-up-to level or capacity, or"
    tables[0] += " `cover·F+safety` where it follows its forecast F (smoothing weight a), then its phase-out"
    tables[0] += " (`stop`: weeks without orders at the end; `ramp`: weeks of ramping down before them)."
    timings = []
    for name in PRESETS:
        t0 = time.perf_counter()
        scn = load_scenario(name)
        ref = reference(scn, args.train, args.test, args.budget, jobs=args.jobs)
        seconds = time.perf_counter() - t0
        timings.append((name, seconds))
        if args.save:
            save(ref, scn)  # what python -m game reference --scenario NAME --save stores
        margin = "always ahead" if math.isinf(ref.margin_se) else f"{ref.margin_se:.1f} SE"
        print(f"{name}: {ref.winner.position} by {margin} ({seconds:.1f} s)", flush=True)
        tables += ["", f"`{name}`: winner **{ref.winner.position}**, ahead by {margin}", ""]
        tables += ["| position | test profit | ± SE | training profit | plan |", "| --- | ---: | ---: | ---: | --- |"]
        for r in ref.rows:
            plan = describe(r.to_dict())
            tables.append(f"| {r.position} | {r.mean:,.0f} | {r.se:,.0f} | {r.train_profit:,.0f} | {plan} |")
    text = ["## Which position wins: the reference plans", "", *tables, "", "```", command, "```", ""]
    return "\n".join([*text, f"Measured {when}."]), timings


def drivers_section(args: argparse.Namespace) -> str:
    """Olhager's drivers one at a time: the winner and the gap between the two positions each is about."""
    rows = ["| driver | value | base preset | winner | gap | between |", "| --- | --- | --- | --- | ---: | --- |"]
    done: dict[int, Reference] = {}  # the preset itself comes back under several drivers
    for driver, value, scn, a, b in drivers():
        if id(scn) not in done:
            done[id(scn)] = reference(scn, 6, args.test, args.budget, jobs=args.jobs)
        ref = done[id(scn)]
        gap = _gap(ref, a, b)
        print(f"{driver} = {value}: {ref.winner.position}, {a} - {b} = {gap:,.0f}", flush=True)
        rows.append(f"| {driver} | {value} | `{scn.name}` | {ref.winner.position} | {gap:,.0f} | {a} − {b} |")
    text = [
        "## What moves the decoupling point",
        "",
        "One driver changed at a time on a base preset; reference plans tuned on 6 seeds with the",
        f"reference's search ({args.budget} plans per position; with 60, assemble-to-order's plan for six",
        "colours stays half-tuned and the variety driver reads backwards) and scored on",
        f"{args.test} others. The gap is the test profit of the first position minus the second: the",
        "direction it moves is Olhager's (more regions: pooling favours the central stock; dearer",
        "finished goods: upstream; more variants: assemble to order; a larger premium or more",
        "volatile demand: make to order; customers who accept less: downstream).",
        "`tests/test_codp_drivers.py` checks the directions on smaller samples.",
        "",
        *rows,
    ]
    return "\n".join(text)


def robustness_section(args: argparse.Namespace) -> str:
    """Each preset's main parameters moved by -20% and +20%: is the preset's winner still the winner?"""
    robust = ["| preset | cases | winner kept | changed to |", "| --- | ---: | ---: | --- |"]
    kept_all = total = 0
    for name in PRESETS:
        base = load_scenario(name)
        kept, moved = 0, []
        for label, change in PARAMETERS:
            for f in (0.8, 1.2):
                scn = change(base, f)
                if scn == base:
                    continue
                got = reference(scn, 4, 10, 40, jobs=args.jobs).winner.position
                kept += got == base.codp
                if got != base.codp:
                    moved.append(f"{label} ×{f}: {got}")
                total += 1
        kept_all += kept
        cases = kept + len(moved)
        robust.append(f"| `{name}` | {cases} | {kept} | {'; '.join(moved) or '-'} |")
        print(f"{name}: winner kept in {kept} of {cases}", flush=True)
    text = [
        "## Robustness of the winners",
        "",
        "Each preset's main parameters (prices, premium, patience, holding and capacity costs, demand",
        "spread, unit cost) moved by −20% and +20%, one at a time (reference plans on 4 training and 10",
        f"test seeds, 40 plans per position): the preset's winner stayed the winner in {kept_all} of {total}",
        "cases. Where it changed, read the change as a driver: customers 20% less patient (D falls against",
        "P) move the decoupling point downstream, as Olhager predicts; a price down to the unit cost leaves",
        "no margin for any position. `tests/test_codp_robustness.py` checks it on smaller samples.",
        "",
        *robust,
    ]
    return "\n".join(text)


def performance_section(args: argparse.Namespace, command: str, when: str, timings: list[tuple[str, float]]) -> str:
    """The seconds each preset's reference took in this run (docs/PERFORMANCE.md)."""
    perf = [
        "## Reference plans: the run behind SCENARIOS.md",
        "",
        "`python -m game reference` for one preset, every position, plans tuned on"
        f" {args.train} seeds and scored on {args.test}, {args.jobs} positions at a time (wall-clock, from the"
        " run that wrote the reference tables in docs/SCENARIOS.md; target under 60 s):",
        "",
        "| preset | seconds | target |",
        "| --- | ---: | --- |",
        *(f"| {n} | {s:.1f} | {'met' if s < TARGET_SECONDS else 'not met'} |" for n, s in timings),
        "",
        "```",
        command + " --write",
        "```",
        "",
        f"Measured {when} (the machine is shared: compare runs, not machines).",
    ]
    return "\n".join(perf)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train", type=int, default=20)
    parser.add_argument("--test", type=int, default=20)
    parser.add_argument("--budget", type=int, default=BUDGET)
    parser.add_argument("--jobs", type=int, default=JOBS, help="positions tuned at a time (processes)")
    parser.add_argument(
        "--write", action="store_true", help="write the sections of docs/SCENARIOS.md and PERFORMANCE.md"
    )
    parser.add_argument("--save", action="store_true", help="store each preset's plans in config/reference/")
    parser.add_argument(
        "--parts", default=",".join(PARTS), help=f"which parts to run and write, comma-separated (default {PARTS})"
    )
    args = parser.parse_args(argv)
    parts = set(args.parts.split(","))
    if not parts <= set(PARTS):
        parser.error(f"--parts: choose from {', '.join(PARTS)}")
    when = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    when += f", load average {os.getloadavg()[0]:.1f} at the start"
    command = f"python bench/codp_reference.py --train {args.train} --test {args.test} --budget {args.budget}"
    command += f" --jobs {args.jobs}"

    sections: list[tuple[str, Path | None]] = []  # (text, document; None: PERFORMANCE.md)
    if "tables" in parts:
        text, timings = tables_section(args, command, when)
        sections += [(text, SCENARIOS_DOC), (performance_section(args, command, when, timings), None)]
    if "drivers" in parts:
        sections.append((drivers_section(args), SCENARIOS_DOC))
    if "robustness" in parts:
        sections.append((robustness_section(args), SCENARIOS_DOC))
    if args.write:
        for text, doc in sections:
            title = text.splitlines()[0].removeprefix("## ")
            if doc is None:
                write_section(title, text)
            else:
                write_section(title, text, doc)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
