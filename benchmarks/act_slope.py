"""ACT steps against input length: does adaptive depth spend more on harder inputs?

    python benchmarks/act_slope.py results/runs/adaptive-v2 [--bootstrap 2000]

For every model column with ACT (UT, Hyper-UT), the least-squares slope of
mean ACT steps per position on the length (hops for c-pvr), one slope per
seed, their mean and a 95% bootstrap interval over seeds; the verdict is
"inconclusive" unless the interval excludes 0.  Models without ACT have no
steps and are not listed.
"""

from __future__ import annotations

import argparse

from lengthgen.reporting.depth import depth_report
from lengthgen.reporting.loading import load_results
from lengthgen.tables import render_table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folders", nargs="+")
    parser.add_argument("--bootstrap", type=int, default=2000)
    args = parser.parse_args()
    results = [r for folder in args.folders for r in load_results(folder)]
    report = depth_report(results, args.bootstrap)
    rows = []
    for column, entry in report.items():
        ci = "-" if entry["ci"] is None else f"[{entry['ci'][0]:+.3f}, {entry['ci'][1]:+.3f}]"
        slopes = ", ".join(f"{s:+.3f}" for s in entry["slopes"])
        rows.append([column, len(entry["slopes"]), slopes, f"{entry['mean']:+.3f}", ci, entry["verdict"]])
    head = ["model", "seeds", "slope per seed (steps per unit length)", "mean", "95% CI", "verdict"]
    print(render_table(head, rows, "github") if rows else "no run with ACT steps in these folders")


if __name__ == "__main__":
    main()
