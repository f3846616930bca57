"""Held-out-symbol accuracy of a symbolic-task sweep, split by length range.

    python results/studies/symbols/heldout_symbols.py results/studies/symbols/runs/symbols-data [more folders]

The leaderboard averages over test lengths beyond the training range; for
the abstract-symbols study the main question is accuracy on *held-out
symbols* at the trained lengths, so this prints, per benchmark, model and
sweep variant (mean ± std over seeds): exact match on held-out symbols at
test lengths inside the training range, beyond it, and the final
teacher-forced exact match on training symbols.
"""

from __future__ import annotations

import argparse
import statistics
from collections import defaultdict

from lengthgen.reporting.loading import load_results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("folders", nargs="+")
    args = parser.parse_args()
    for folder in args.folders:
        groups: dict[tuple, list[tuple[float, float, float]]] = defaultdict(list)
        for r in load_results(folder):
            c = r["config"]
            inside = [x["exact"] for x in r["results"] if x.get("test") and x["in_train_range"]]
            beyond = [x["exact"] for x in r["results"] if x.get("test") and not x["in_train_range"]]
            groups[(c.get("benchmark") or c["task"], c["model"], c.get("variant", ""))].append(
                (
                    statistics.fmean(inside) if inside else float("nan"),
                    statistics.fmean(beyond) if beyond else float("nan"),
                    r["training"]["final_train_exact"] or 0.0,
                )
            )
        print(f"# {folder}")
        for key in sorted(groups):
            runs = groups[key]

            def show(i, runs=runs):
                xs = [run[i] for run in runs]
                sd = statistics.stdev(xs) if len(xs) > 1 else 0.0
                return f"{100 * statistics.fmean(xs):5.1f} ± {100 * sd:4.1f}"

            print(
                f"{key[0]:15s} {key[1]:20s} {key[2]:40s} held-out, trained lengths {show(0)} | held-out, beyond "
                f"{show(1)} | training symbols {show(2)} | seeds {len(runs)}"
            )


if __name__ == "__main__":
    main()
