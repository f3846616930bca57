"""Seed by seed, length by length: the table a study writes when a few
seeds split (one extrapolates, one does not fit) and a mean would hide it.

``lengthgen leaderboard FOLDER --per-seed`` prints one table per benchmark
and model column: a row per seed with its fit, the metric at every length
it was evaluated at and its training CPU-minutes. csv and json give the
same numbers in long form (one record per seed and length), as fractions.
"""

from __future__ import annotations

import json
from collections import defaultdict
from typing import Any

from lengthgen.errors import LengthgenError
from lengthgen.reporting.leaderboard import FORMATS
from lengthgen.reporting.runs import RunSummary, summarize_runs
from lengthgen.tables import render_table


def _fit_label(run: RunSummary) -> str:
    if run.fitted is None:
        return "?"
    return "yes" if run.fitted else "no"


def _minutes(run: RunSummary) -> float | None:
    seconds = run.cpu_seconds
    return None if seconds is None else seconds / 60


def _records(runs: list[RunSummary]) -> list[dict[str, Any]]:
    out = []
    for run in runs:
        for row in run.result["results"]:
            out.append(
                {
                    "benchmark": run.benchmark,
                    "model": run.column,
                    "seed": run.seed,
                    "metric": run.metric,
                    "fitted": run.fitted,
                    "length": row["length"],
                    "in_train_range": bool(row.get("in_train_range")),
                    "value": row[run.metric],
                    "train_cpu_minutes": _minutes(run),
                }
            )
    return out


def _group_table(runs: list[RunSummary], fmt: str) -> str:
    lengths = sorted({row["length"] for run in runs for row in run.result["results"]})
    top = max(run.train_max for run in runs)
    # L is marked so that a reader can see where the range ends without the suite
    headers = ["seed", "fitted", *(f"{n} = L" if n == top else str(n) for n in lengths), "CPU-min"]
    rows = []
    for run in runs:
        by_length = {row["length"]: row[run.metric] for row in run.result["results"]}
        cells = [f"{100 * by_length[n]:.1f}" if n in by_length else "-" for n in lengths]
        minutes = _minutes(run)
        rows.append([str(run.seed), _fit_label(run), *cells, "-" if minutes is None else f"{minutes:.1f}"])
    return render_table(headers, rows, fmt)


def per_seed_report(results: list[dict[str, Any]], metric: str = "declared", fmt: str = "github") -> str:
    """Every seed's metric at every evaluated length, grouped by benchmark and model column.

    >>> rows = [{"length": n, "in_train_range": n <= 2, "exact": e, "token": e} for n, e in ((2, 1.0), (4, 0.5))]
    >>> result = {"seed": 0, "config": {"task": "count", "model": "transformer", "train_lengths": "1-2"},
    ...           "model": {"name": "transformer"}, "results": rows, "wall_time_s": {"train_cpu": 90.0}}
    >>> print(per_seed_report([result], "exact"))  # doctest: +NORMALIZE_WHITESPACE
    ### count / transformer (exact %)
    <BLANKLINE>
    | seed   | fitted   | 2 = L   | 4    | CPU-min   |
    |--------|----------|---------|------|-----------|
    | 0      | yes      | 100.0   | 50.0 | 1.5       |
    """
    if fmt not in FORMATS:
        raise LengthgenError(f"--format must be one of {', '.join(FORMATS)}, got {fmt!r}")
    runs = summarize_runs(results, None if metric == "declared" else metric)
    if fmt == "json":
        return json.dumps(_records(runs), indent=2)
    if fmt == "csv":
        records = _records(runs)
        headers = list(records[0]) if records else ["benchmark", "model", "seed", "length", "value"]
        return render_table(headers, [["" if r[h] is None else r[h] for h in headers] for r in records], "csv")
    groups: dict[tuple[str, str], list[RunSummary]] = defaultdict(list)
    for run in runs:
        groups[(run.benchmark, run.column)].append(run)
    parts = []
    for (benchmark, column), members in sorted(groups.items()):
        title = f"{benchmark} / {column} ({members[0].metric} %)"
        heading = f"% {title}" if fmt == "latex" else f"### {title}"
        parts.append(f"{heading}\n\n{_group_table(sorted(members, key=lambda r: r.seed), fmt)}")
    return "\n\n".join(parts)
