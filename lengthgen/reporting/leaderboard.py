"""Aggregating result files into leaderboard tables.

Per benchmark (row) and model + encoding (column), over seeds:

- **beyond-training accuracy**: the metric averaged over the test lengths
  beyond the training range (for benchmarks whose test lengths all lie in
  the training range, e.g. held-out symbols, over all test lengths);
  reported as mean ± std over seeds, with the number of seeds reaching
  >= 99% at the test length closest to twice the longest training length,
  and the best seed;
- **extrapolation factor**: the longest length L, scanning up from the
  longest training length, such that every evaluated length up to L keeps
  >= 95% accuracy, divided by the longest training length (0 when even the
  longest training length is below 95%).
"""

from __future__ import annotations

import json
import statistics
from dataclasses import asdict, dataclass
from typing import Any

from lengthgen.config import parse_lengths
from lengthgen.errors import LengthgenError
from lengthgen.reporting.loading import benchmark_of, column_of
from lengthgen.tables import render_table

FORMATS = ("github", "latex", "csv", "json")
METRIC_KEYS = {"exact": "exact", "token": "token"}


def train_max(result: dict[str, Any]) -> int:
    lengths = result["config"].get("train_lengths")
    try:
        return max(parse_lengths(lengths))
    except (LengthgenError, TypeError, ValueError):
        return max(r["length"] for r in result["results"] if r["in_train_range"])


def beyond_rows(result: dict[str, Any]) -> list[dict[str, Any]]:
    rows = result["results"]
    beyond = [r for r in rows if r.get("test", True) and not r["in_train_range"]]
    return beyond or [r for r in rows if r.get("test", True)] or rows


def beyond_score(result: dict[str, Any], metric: str) -> float:
    rows = beyond_rows(result)
    return sum(r[metric] for r in rows) / len(rows)


def at_twice(result: dict[str, Any], metric: str) -> tuple[int, float]:
    target = 2 * train_max(result)
    row = min(beyond_rows(result), key=lambda r: (abs(r["length"] - target), -r["length"]))
    return row["length"], row[metric]


def extrapolation_factor(result: dict[str, Any], metric: str, threshold: float = 0.95) -> float:
    top = train_max(result)
    best = 0
    for row in sorted((r for r in result["results"] if r["length"] >= top), key=lambda r: r["length"]):
        if row[metric] < threshold:
            break
        best = row["length"]
    return best / top


@dataclass
class Entry:
    benchmark: str
    model: str
    seeds: int
    mean: float
    std: float
    best: float
    length_2x: int
    seeds_99_at_2x: int
    extrapolation_mean: float
    extrapolation_best: float


def aggregate(results: list[dict[str, Any]], metric: str = "exact") -> list[Entry]:
    if metric not in METRIC_KEYS:
        raise LengthgenError(f"--metric must be one of {', '.join(METRIC_KEYS)}, got {metric!r}")
    groups: dict[tuple[str, str], dict[int, dict[str, Any]]] = {}
    for result in results:
        key = (benchmark_of(result), column_of(result))
        # one result per seed: a rerun with the same seed replaces the older file
        seeds = groups.setdefault(key, {})
        previous = seeds.get(result["seed"])
        if previous is None or str(result.get("created", "")) >= str(previous.get("created", "")):
            seeds[result["seed"]] = result
    entries = []
    for (bench, model), by_seed in sorted(groups.items()):
        runs = [by_seed[s] for s in sorted(by_seed)]
        scores = [beyond_score(r, metric) for r in runs]
        twice = [at_twice(r, metric) for r in runs]
        factors = [extrapolation_factor(r, metric) for r in runs]
        entries.append(
            Entry(
                benchmark=bench,
                model=model,
                seeds=len(runs),
                mean=statistics.fmean(scores),
                std=statistics.stdev(scores) if len(scores) > 1 else 0.0,
                best=max(scores),
                length_2x=twice[0][0],
                seeds_99_at_2x=sum(1 for _, acc in twice if acc >= 0.99),
                extrapolation_mean=statistics.fmean(factors),
                extrapolation_best=max(factors),
            )
        )
    return entries


def _grid(entries: list[Entry], cell) -> tuple[list[str], list[list[str]]]:
    models = sorted({e.model for e in entries})
    benches = sorted({e.benchmark for e in entries})
    index = {(e.benchmark, e.model): e for e in entries}
    rows = []
    for bench in benches:
        rows.append([bench] + [cell(index[(bench, m)]) if (bench, m) in index else "-" for m in models])
    return ["benchmark"] + models, rows


def accuracy_cell(e: Entry) -> str:
    return f"{100 * e.mean:.1f} ± {100 * e.std:.1f} [{e.seeds_99_at_2x}/{e.seeds}, best {100 * e.best:.1f}]"


def extrapolation_cell(e: Entry) -> str:
    return f"{e.extrapolation_mean:.2f} (best {e.extrapolation_best:.2f})"


def render(entries: list[Entry], fmt: str = "github", metric: str = "exact") -> str:
    if fmt not in FORMATS:
        raise LengthgenError(f"--format must be one of {', '.join(FORMATS)}, got {fmt!r}")
    if fmt == "json":
        return json.dumps({"metric": metric, "entries": [asdict(e) for e in entries]}, indent=2)
    h1, r1 = _grid(entries, accuracy_cell)
    h2, r2 = _grid(entries, extrapolation_cell)
    label = "exact match" if metric == "exact" else "per-token accuracy"
    if fmt == "csv":
        return render_table(h1, r1, fmt) + "\n\n" + render_table(h2, r2, fmt)
    title1 = (
        f"{label} (%) beyond the training range: mean ± std over seeds "
        f"[seeds >= 99% at ~2x the longest training length / seeds, best seed]"
    )
    title2 = f"extrapolation factor: longest length with {label} >= 95% / longest training length (mean over seeds)"
    if fmt == "latex":
        return f"% {title1}\n{render_table(h1, r1, fmt)}\n\n% {title2}\n{render_table(h2, r2, fmt)}"
    return f"{title1}\n\n{render_table(h1, r1, fmt)}\n\n{title2}\n\n{render_table(h2, r2, fmt)}"
