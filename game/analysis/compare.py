"""Side-by-side comparison of CODP positions, sharing options and bot policies on the same demand.

``compare(scenario, seeds, policies)`` plays every allowed decoupling point with
every bot policy on the same seeds (so the same consumer demand) and averages
the money per game: holding, backlog, lost sales, capacity, fulfilment,
write-off, revenue, total cost and profit, and each stage's bullwhip ratio.
With ``sharing`` (``--visibility``) every row is played once with nothing
shared and once per sharing variant. ``add_arguments`` and ``run`` are
``python -m game compare`` (see ``game.analysis.cli``).
"""

from __future__ import annotations

import argparse
import csv
import io
import json
from collections.abc import Sequence
from dataclasses import replace
from typing import Any, TextIO

from game.analysis.reference import verdict, verdict_line
from game.codp import POSITIONS, apply_choice, choices_for
from game.comaker import apply_comaker, offered
from game.jsonsafe import jsonsafe
from game.policies import Policy, parse_policy
from game.scenario import VISIBILITY_KEYS, Jit, Scenario, load_scenario
from game.scoring import summary
from game.simulate import simulate

DEFAULT_POLICIES = ("passthrough", "base_stock", "sterman")

# Column -> key in ``game.scoring`` totals (units demanded and lost, the rest money).
_MONEY = {
    "demand": "demand",
    "holding": "holding_cost",
    "backlog": "backlog_cost",
    "lost_units": "lost",
    "lost_margin": "lost_margin",
    "goodwill": "goodwill",
    "capacity": "capacity_cost",
    "fulfilment": "fulfilment_cost",
    "material": "material_cost",
    "write_off": "write_off",
    "revenue": "revenue",
    "cost": "cost",
    "profit": "profit",
}

COLUMNS = (
    "codp",
    "sharing",
    "policy",
    "demand",
    "holding",
    "backlog",
    "lost_units",
    "lost_margin",
    "goodwill",
    "capacity",
    "fulfilment",
    "material",
    "write_off",
    "revenue",
    "cost",
    "profit",
    "fill_rate",
    "lead_time",
)


#: Label of the variant with nothing shared.
NOTHING_SHARED = "none"


def bullwhip_columns(scenario: Scenario) -> tuple[str, ...]:
    """One bullwhip column per stage, most upstream first: ``bullwhip_<role>``."""
    return tuple(f"bullwhip_{r}" for r in scenario.roles)


def columns(scenario: Scenario) -> tuple[str, ...]:
    """Every column of a row for ``scenario``: ``COLUMNS`` and the bullwhip per stage."""
    return (*COLUMNS, *bullwhip_columns(scenario))


def sharing_label(flags: dict[str, bool]) -> str:
    """``pos_demand+inventories`` for the options on, ``none`` when nothing is shared."""
    return "+".join(k for k in VISIBILITY_KEYS if flags.get(k)) or NOTHING_SHARED


def parse_sharing(spec: str) -> dict[str, bool]:
    """Visibility flags from ``all``, ``none`` or options joined by ``+``
    (``pos_demand+inventories``); ``ValueError`` names an unknown option."""
    spec = spec.strip()
    if spec == "all":
        return dict.fromkeys(VISIBILITY_KEYS, True)
    flags = dict.fromkeys(VISIBILITY_KEYS, False)
    if spec == NOTHING_SHARED:
        return flags
    for part in (p.strip() for p in spec.split("+")):
        if part not in flags:
            raise ValueError(f"--visibility: unknown option {part!r} (known: {', '.join(VISIBILITY_KEYS)}, all)")
        flags[part] = True
    return flags


def game_totals(scenario: Scenario, weeks: Sequence[dict[str, Any]]) -> dict[str, float | None]:
    """The compare columns of one game (``simulate`` week records), from the scoring engine."""
    scored = summary(scenario, weeks)
    out: dict[str, float | None] = {col: float(scored["totals"][key]) for col, key in _MONEY.items()}
    kpis = scored["kpis"]
    out["fill_rate"] = kpis["fill_rate"] if kpis["fill_rate"] is not None else 1.0
    out["lead_time"] = kpis["avg_lead_time"] or 0.0
    for role, col in zip(scenario.roles, bullwhip_columns(scenario), strict=True):
        out[col] = kpis["bullwhip"][role]
    return out


def positions_allowed(scenario: Scenario) -> list[str]:
    """What a team may choose: the scenario's positions (else every position its chain fits),
    then its per-segment process options (``game.codp.choices_for``)."""
    return choices_for(scenario)


def play(
    scenario: Scenario,
    position: str | None,
    policy: Policy | dict[str, Policy],
    seeds: Sequence[int],
    visibility: dict[str, bool] | None = None,
) -> dict[str, float | None]:
    """Average totals of ``policy`` at ``position`` over ``seeds`` (``visibility``: what is
    shared, over the scenario's). A bullwhip ratio is averaged over the games that define
    it (``None`` when none does)."""
    scn = apply_choice(scenario, position) if position else scenario
    acc: dict[str, list[float]] = {}
    for seed in seeds:
        for k, v in game_totals(scn, simulate(scn, seed, policy, visibility=visibility).weeks).items():
            acc.setdefault(k, [])
            if v is not None:
                acc[k].append(v)
    return {k: (sum(v) / len(v) if v else None) for k, v in acc.items()}


def compare(
    scenario: Scenario,
    seeds: Sequence[int] = (0,),
    policies: Sequence[str | Policy] = DEFAULT_POLICIES,
    positions: Sequence[str] | None = None,
    sharing: Sequence[dict[str, bool]] | None = None,
) -> list[dict[str, Any]]:
    """One row per (CODP position, sharing variant, policy): the per-game averages over ``seeds``.

    Every row is played on the same seeds, so every position, sharing variant and policy
    faces the same consumer demand. Without ``sharing`` the scenario's own visibility
    applies; with it, nothing shared first, then each variant (visibility flags).
    Rows come position by position, then variant by variant, policies in the given order.
    """
    if not seeds:
        raise ValueError("at least one seed is needed")
    pols = [parse_policy(p) if isinstance(p, str) else p for p in policies]
    if not pols:
        raise ValueError("at least one policy is needed")
    chosen = list(positions) if positions is not None else positions_allowed(scenario)
    variants: list[dict[str, bool] | None] = [None]
    if sharing:
        variants = [dict.fromkeys(VISIBILITY_KEYS, False)]
        for v in sharing:
            if sharing_label(v) not in {sharing_label(w) for w in variants if w is not None}:
                variants.append(v)
    cols = columns(scenario)
    rows = []
    for position in chosen or [None]:
        for vis in variants:
            label = sharing_label(vis if vis is not None else scenario.visibility)
            for pol in pols:
                row: dict[str, Any] = {"codp": position or "-", "sharing": label, "policy": pol.spec}
                row.update(play(scenario, position, pol, seeds, vis))
                rows.append({c: row[c] for c in cols})
    return rows


def winners(rows: Sequence[dict[str, Any]]) -> dict[str, str]:
    """The most profitable position per policy (per policy and sharing variant when
    several variants were played: keys ``policy`` or ``policy/sharing``)."""
    several = len({r.get("sharing") for r in rows}) > 1
    best: dict[str, dict[str, Any]] = {}
    for r in rows:
        key = f"{r['policy']}/{r['sharing']}" if several else r["policy"]
        if key not in best or r["profit"] > best[key]["profit"]:
            best[key] = r
    return {p: r["codp"] for p, r in best.items()}


def position_means(rows: Sequence[dict[str, Any]]) -> dict[str, float]:
    """Mean profit per position over the policies compared (in row order)."""
    sums: dict[str, list[float]] = {}
    for r in rows:
        sums.setdefault(r["codp"], []).append(r["profit"])
    return {p: sum(v) / len(v) for p, v in sums.items()}


# ----------------------------------------------------------------------------
# Output
# ----------------------------------------------------------------------------


def _fmt(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.2f}" if abs(value) < 10 else f"{value:.0f}"
    return str(value)


def _header(col: str) -> str:
    """Column heading: ``bw_<role>`` for the bullwhip columns, else the column name."""
    return "bw_" + col.removeprefix("bullwhip_") if col.startswith("bullwhip_") else col


def format_table(rows: Sequence[dict[str, Any]]) -> str:
    """A plain-text table (the profit winner per policy is marked with ``*``)."""
    win = winners(rows)
    cols = list(rows[0]) if rows else list(COLUMNS)
    several = len({r.get("sharing") for r in rows}) > 1
    cells = [[_header(c) for c in cols]]
    for r in rows:
        line = [_fmt(r[c]) for c in cols]
        key = f"{r['policy']}/{r['sharing']}" if several else r["policy"]
        if win.get(key) == r["codp"]:
            line[cols.index("profit")] += "*"
        cells.append(line)
    widths = [max(len(row[i]) for row in cells) for i in range(len(cols))]
    lines = []
    for n, row in enumerate(cells):
        lines.append(
            "  ".join(c.ljust(w) if i < 3 else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths, strict=True)))
        )
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def format_csv(rows: Sequence[dict[str, Any]]) -> str:
    """CSV with a header row."""
    cols = list(rows[0]) if rows else list(COLUMNS)
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=cols, lineterminator="\n")
    writer.writeheader()
    for r in rows:
        writer.writerow({c: (round(r[c], 4) if isinstance(r[c], float) else r[c]) for c in cols})
    return buf.getvalue()


def add_arguments(p: argparse.ArgumentParser) -> None:
    """The options of ``python -m game compare`` (the parser lives in ``game.analysis.cli``)."""
    p.add_argument("--scenario", required=True, metavar="NAME|PATH", help="preset name or path to a TOML file")
    p.add_argument("--seeds", type=int, default=5, metavar="N", help="games per row, seeds 0..N-1 (default 5)")
    p.add_argument("--policy", action="append", help="bot policy NAME[:k=v,...]; repeat for several (default: all)")
    p.add_argument(
        "--codp",
        action="append",
        help="only this position or process option (per-segment, per-need); repeat for several (default: all allowed)",
    )
    p.add_argument(
        "--visibility",
        action="append",
        metavar="OPTIONS",
        help="also play with these options shared (pos_demand, inventories, pipelines joined by +, or all), "
        "beside the same games with nothing shared; repeat for several",
    )
    p.add_argument(
        "--late-share",
        action="append",
        type=float,
        metavar="SHARE",
        help="just in time: also play with this share (0..1) of deliveries a week late, beside the scenario "
        "as it is; repeat for several",
    )
    p.add_argument("--format", choices=("table", "json", "csv"), default="table", help="output (default table)")


def run(args: argparse.Namespace, out: TextIO) -> int:
    """Play the comparison the parsed options ask for and print it; bad input raises ``ValueError``."""
    if args.seeds < 1 or args.seeds > 1000:
        raise ValueError(f"--seeds must be between 1 and 1000, got {args.seeds}")
    scenario = load_scenario(args.scenario)
    allowed = positions_allowed(scenario)
    for pos in args.codp or []:
        if pos not in POSITIONS and pos not in allowed:
            raise ValueError(f"--codp: unknown position {pos!r} (known: {', '.join(allowed)})")
        if pos not in allowed:
            raise ValueError(f"--codp: {pos!r} is not allowed in {scenario.name} (allowed: {', '.join(allowed)})")
    policies = [parse_policy(p) for p in (args.policy or DEFAULT_POLICIES)]
    sharing = [parse_sharing(v) for v in args.visibility or []]
    rows = compare(scenario, range(args.seeds), policies, args.codp, sharing)
    if offered(scenario):
        rows = _with_deal(scenario, args, policies, sharing, rows)
    if args.late_share:
        rows = _with_late_deliveries(scenario, args, policies, sharing, rows)
    found = verdict(scenario)
    if args.format == "json":
        body = {"scenario": scenario.name, "seeds": args.seeds, "rows": rows, "reference": found}
        out.write(json.dumps(jsonsafe(body), indent=1) + "\n")
    elif args.format == "csv":
        out.write(format_csv(rows))
    else:
        out.write(
            f"{scenario.title}: average per game over seeds 0..{args.seeds - 1} (* = most profitable CODP per policy; "
            "bw_<stage> = bullwhip ratio)\n"
        )
        out.write(format_table(rows) + "\n")
        means = position_means(rows)
        ranked = sorted(means, key=lambda p: -means[p])
        out.write("mean profit over policies: " + ", ".join(f"{p} {means[p]:.0f}" for p in ranked) + "\n")
        out.write(f"how the bots played, winner: {ranked[0]}\n")
        out.write(verdict_line(scenario, found) + "\n")
    return 0


def _with_deal(
    scenario: Scenario, args: argparse.Namespace, policies: list, sharing: list, rows: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """A scenario whose segments can co-make: ``rows`` without the deal and the same games with
    it (``game.comaker``), the choice named in the ``codp`` column (``"mts-central, deal"``)."""
    out = []
    for deal in (False, True):
        scn = apply_comaker(scenario, deal)
        played = rows if scn is scenario else compare(scn, range(args.seeds), policies, args.codp, sharing)
        label = "deal" if deal else "no deal"
        out += [{**r, "codp": label if r["codp"] == "-" else f"{r['codp']}, {label}"} for r in played]
    return out


def _with_late_deliveries(
    scenario: Scenario, args: argparse.Namespace, policies: list, sharing: list, rows: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """``rows`` (the scenario as it is) and the same games with each ``--late-share``: the share
    of deliveries that arrive a week late, named in the ``sharing`` column."""
    out = []
    for share in (scenario.jit.late_share, *args.late_share):
        if not 0 <= share <= 1:
            raise ValueError(f"--late-share must be between 0 and 1, got {share}")
        scn = replace(scenario, jit=Jit(share, scenario.jit.stages))
        played = (
            rows if share == scenario.jit.late_share else compare(scn, range(args.seeds), policies, args.codp, sharing)
        )
        out += [{**r, "sharing": f"{r['sharing']}, {share:.0%} late"} for r in played]
    return out
