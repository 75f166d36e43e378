"""Time the best-plan benchmark on a 52-week game: ``python bench/bestplan.py [--repeat N]``.

Prints the median wall time (and CPU time) per preset (the team's position plus every other
position offered, starting from the preset's stored reference plans as the debrief
does) and the slowest of them; the target is under 0.5 s.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import time
from pathlib import Path

from game.analysis.bestplan import benchmark
from game.analysis.reference import PLANS_DIR, stored
from game.scenario import load_scenario

PRESETS = (
    "decoupling-point",
    "product-leadership",
    "customer-intimacy",
    "engineer-to-order",
    "operational-excellence",
    "ecommerce",
    "segments",
)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--references", type=Path, default=PLANS_DIR, help="stored reference plans (a directory)")
    args = parser.parse_args()
    worst = 0.0
    for name in PRESETS:
        scenario = load_scenario(name)
        times, cpu = [], []
        for seed in range(args.repeat):
            t, c = time.perf_counter(), time.process_time()
            result = benchmark(scenario, seed, reference=stored(scenario, args.references))
            times.append(time.perf_counter() - t)
            cpu.append(time.process_time() - c)
        med = statistics.median(times)
        worst = max(worst, med)
        games = result.chosen.games + sum(p.games for p in result.by_position.values())
        print(
            f"{name:24} {scenario.weeks} weeks  {games:3d} games  median {med:.3f} s  max {max(times):.3f} s  "
            f"CPU median {statistics.median(cpu):.3f} s"
        )
    print(
        f"slowest preset median: {worst:.3f} s (target < 0.5 s) on {platform.python_implementation()} "
        f"{platform.python_version()}"
    )
    return 0 if worst < 0.5 else 1


if __name__ == "__main__":
    raise SystemExit(main())
