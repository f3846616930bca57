"""ACT steps against input length: does adaptive depth spend more on harder inputs?

    python benchmarks/act_slope.py results/runs/adaptive-v2 [--bootstrap 2000] [--plot FILE.png]

For every model column with ACT (UT, Hyper-UT), the least-squares slope of
mean ACT steps per position on the length (hops for c-pvr), one slope per
seed, and over the seeds that fitted their training range their mean, a 95%
bootstrap interval and the verdict (inconclusive with fewer than two fitted
seeds, or when the interval includes 0 without lying inside +-0.05).  Models without ACT have no
steps and are not in that table.  Then, for every model, accuracy per length
(exact unless --metric token) with its 95% interval over seeds, the seeds
fitted in range, mean steps (ACT's; a fixed-step model's own count), chance
and the best cheap predictor: the numbers a slope means something next to.
``--plot`` draws both against length (needs lengthgen[plot]).
"""

from __future__ import annotations

import argparse

from lengthgen.errors import LengthgenError
from lengthgen.reporting.depth import depth_report, per_length, slope_table
from lengthgen.reporting.loading import load_results
from lengthgen.tables import render_table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folders", nargs="+")
    parser.add_argument("--bootstrap", type=int, default=2000)
    parser.add_argument("--metric", choices=["exact", "token"], default="exact")
    parser.add_argument("--plot", help="also draw accuracy and steps against length to this file")
    args = parser.parse_args()
    try:
        results = [r for folder in args.folders for r in load_results(folder)]
    except LengthgenError as err:
        raise SystemExit(f"error: {err}") from None
    head, rows = slope_table(depth_report(results, args.bootstrap))
    print(render_table(head, rows, "github") if rows else "no run with ACT steps in these folders")
    rows = []
    for (bench, column), table in per_length(results, args.metric).items():
        for row in table:
            base = "-" if row["baseline"] is None else f"{100 * row['baseline'][1]:.1f} ({row['baseline'][0]})"
            rows.append(
                [
                    bench,
                    column,
                    f"{row['fitted']}/{row['seeds']}",
                    row["length"],
                    f"{100 * row['mean']:.1f} [{100 * row['ci'][0]:.1f}, {100 * row['ci'][1]:.1f}]",
                    row["seeds"],
                    "-" if row["steps"] is None else f"{row['steps']:.2f}",
                    "-" if row["chance"] is None else f"{100 * row['chance']:.1f}",
                    base,
                ]
            )
    head = [
        "benchmark",
        "model",
        "fitted",
        "length",
        f"{args.metric} % [95% CI]",
        "seeds",
        "steps",
        "chance %",
        "best baseline %",
    ]
    print()
    print(render_table(head, rows, "github"))
    if args.plot:
        from lengthgen.reporting.plots import plot_depth

        try:
            print(f"wrote {plot_depth(results, args.plot, args.metric)}")
        except LengthgenError as err:
            raise SystemExit(f"error: {err}") from None


if __name__ == "__main__":
    main()
