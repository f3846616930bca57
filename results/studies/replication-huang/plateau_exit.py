"""H-R14's rule (README.md, Amendment 20): does the step at which a seed's
training loss first falls below 1.0 predict whether it copies beyond L?

    python results/studies/replication-huang/plateau_exit.py FOLDER_OR_FILE ...

For each result file: the first step of its training curve (every 500
steps) with a loss below 1.0; its class, *early* (that step <= 5,000),
*late* (>= 9,500, or never) or none; bin A, the mean exact match over its
test lengths in (L, 2L] (L its longest training length: 30, 40, 50 for
copies of 25; 60, 80, 100 for copies of 50); and whether the class's
prediction is right (early: bin A >= 50%; late: bin A < 10%, fitted or
not).  Then the registered decision over every seed given: H-R14 holds if
at least 4 seeds receive a prediction, both classes occur and every
prediction is right; it is refuted if any prediction is wrong; otherwise
inconclusive.  Give it only the seeds the amendment names (those started
after it); the ten seeds the pattern was seen on reproduce its table.
"""

from __future__ import annotations

import argparse
import json
import statistics
from pathlib import Path

LOSS = 1.0
EARLY, LATE = 5_000, 9_500
EARLY_BIN_A, LATE_BIN_A = 50.0, 10.0
MIN_PREDICTED = 4


def exit_step(result: dict) -> int | None:
    """The first curve step with a loss below 1.0, or None (never)."""
    return next((e["step"] for e in result["training"]["curve"] if e["loss"] < LOSS), None)


def bin_a(result: dict) -> float:
    """Mean exact match (%) over the test lengths in (L, 2L]."""
    rows = result["results"]
    longest = max(r["length"] for r in rows if r.get("in_train_range"))
    inside = [100 * r["exact"] for r in rows if longest < r["length"] <= 2 * longest]
    if not inside:
        raise SystemExit(f"{result.get('name', '?')}: no test length in ({longest}, {2 * longest}]")
    return statistics.fmean(inside)


def classify(step: int | None) -> str | None:
    """``early``, ``late`` or None (no prediction).

    >>> classify(3_500), classify(22_500), classify(None), classify(7_000)
    ('early', 'late', 'late', None)
    """
    if step is not None and step <= EARLY:
        return "early"
    if step is None or step >= LATE:
        return "late"
    return None


def right(kind: str | None, bin_a_pct: float) -> bool | None:
    if kind is None:
        return None
    return bin_a_pct >= EARLY_BIN_A if kind == "early" else bin_a_pct < LATE_BIN_A


def decision(rows: list[dict]) -> str:
    """The registered reading of the seeds' rows (each with ``class`` and ``right``).

    >>> decision([{"class": "early", "right": True}] * 3 + [{"class": "late", "right": True}])
    'holds'
    >>> decision([{"class": "early", "right": True}] * 5)
    'inconclusive'
    """
    predicted = [r for r in rows if r["class"] is not None]
    if any(not r["right"] for r in predicted):
        return "refuted"
    if len(predicted) >= MIN_PREDICTED and {r["class"] for r in predicted} == {"early", "late"}:
        return "holds"
    return "inconclusive"


def result_files(paths: list[str]) -> list[Path]:
    """The result files named, or in the folders named."""
    files = []
    for p in map(Path, paths):
        files += sorted(p.glob("*.json")) if p.is_dir() else [p]
    if not files:
        raise SystemExit(f"no result files in {', '.join(paths)}")
    return files


def load_result(f: Path) -> dict:
    """A finished run's result file, or a one-line exit naming the file."""
    result = json.loads(f.read_text())
    if not (result.get("training") or {}).get("curve") or not result.get("results"):
        raise SystemExit(f"{f}: not a finished run's result file (no training curve or no results)")
    return result


def read(paths: list[str]) -> list[dict]:
    rows = []
    for f in result_files(paths):
        result = load_result(f)
        step, a = exit_step(result), bin_a(result)
        kind = classify(step)
        rows.append(
            {
                "arm": f.parent.name,
                "seed": result["config"]["seed"],
                "step": step,
                "fitted": bool(result["fit"]["fitted"]),
                "bin_a": a,
                "class": kind,
                "right": right(kind, a),
            }
        )
    return sorted(rows, key=lambda r: (r["arm"], r["seed"]))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("paths", nargs="+", help="run folders or result files")
    rows = read(parser.parse_args(argv).paths)
    print("| arm | seed | loss < 1 at step | fitted | bin A | class | prediction right |")
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        step = "never" if r["step"] is None else f"{r['step']:,}"
        said = {True: "yes", False: "no", None: "-"}[r["right"]]
        print(
            f"| {r['arm']} | {r['seed']} | {step} | {r['fitted']} | {r['bin_a']:.1f} | {r['class'] or '-'} | {said} |"
        )
    print(f"\nH-R14 over these {len(rows)} seeds: {decision(rows)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
