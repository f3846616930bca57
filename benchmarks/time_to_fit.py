"""Time to fit: CPU-seconds until a run is fitted in range, per benchmark and recipe.

    python benchmarks/time_to_fit.py results/runs/recipes [--format github|csv]

A recipe is a model column (model, encoding, sweep variant).  For each run:
whether it is fitted (>= FIT_THRESHOLD at the longest training length), the
steps it used (stop-when-fitted ends training at the second consecutive
fitted evaluation) and its training CPU-seconds; per benchmark, the fastest
fitting recipe.  Runs that did not fit show the budget they spent.
"""

from __future__ import annotations

import argparse
from collections import defaultdict

from lengthgen.evaluation.outcomes import format_extrapolation
from lengthgen.evaluation.thresholds import FIT_THRESHOLD
from lengthgen.reporting.loading import load_results
from lengthgen.reporting.runs import summarize_runs
from lengthgen.tables import render_table


def rows_of(folder: str) -> tuple[list[list[str]], list[list[str]]]:
    runs = summarize_runs(load_results(folder))
    detail, best = [], {}
    by_bench: dict[str, list] = defaultdict(list)
    for r in sorted(runs, key=lambda r: (r.benchmark, r.column, r.seed)):
        by_bench[r.benchmark].append(r)
        cpu = r.cpu_seconds if r.cpu_seconds is not None else r.wall_seconds
        detail.append(
            [
                r.benchmark,
                r.column,
                str(r.seed),
                "-" if r.in_range is None else f"{100 * r.in_range:.1f}",
                "yes" if r.fitted else "no",
                str(r.steps),
                "-" if cpu is None else f"{cpu:.0f}",
                format_extrapolation(r.extrapolation, r.fitted),
            ]
        )
    for bench, group in sorted(by_bench.items()):
        fitted = [r for r in group if r.fitted and r.cpu_seconds is not None]
        if fitted:
            fast = min(fitted, key=lambda r: r.cpu_seconds)
            best[bench] = [
                bench,
                f"{len(fitted)}/{len(group)}",
                fast.column,
                f"{fast.cpu_seconds:.0f}",
                str(fast.steps),
            ]
        else:
            top = max(group, key=lambda r: r.in_range or 0)
            best[bench] = [bench, f"0/{len(group)}", f"none (best in range: {top.column})", "-", "-"]
    return detail, list(best.values())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("folder")
    parser.add_argument("--format", default="github", choices=("github", "csv"))
    args = parser.parse_args()
    detail, best = rows_of(args.folder)
    print(f"Fitted: >= {100 * FIT_THRESHOLD:.0f}% at the longest training length. CPU-s: training CPU-seconds.\n")
    print(render_table(["benchmark", "fitted recipes", "fastest recipe", "CPU-s to fit", "steps"], best, args.format))
    print()
    headers = ["benchmark", "recipe", "seed", "in-range %", "fitted", "steps", "CPU-s", "extrapolation"]
    print(render_table(headers, detail, args.format))


if __name__ == "__main__":
    main()
