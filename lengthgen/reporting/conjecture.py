"""The RASP-Generalization Conjecture, tested on a sweep's results.

Per benchmark: the RASP-L program length of the library (``none`` when the
manifest lists no program) joined with how far the chosen model
length-generalizes.  Then the Spearman rank correlation between program
length and generalization, with a permutation p-value, and the mean
generalization of the two groups "has a short program" / "has none".
Benchmarks without a program rank as longer than any program (ties among
them share the top rank): the conjecture predicts they generalize worst.
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass
from typing import Any

import numpy as np
from tabulate import tabulate

from lengthgen.errors import LengthgenError
from lengthgen.rasp.score import score_library
from lengthgen.reporting.leaderboard import beyond_score, extrapolation_factor
from lengthgen.reporting.loading import benchmark_of


def rankdata(x: list[float]) -> np.ndarray:
    """Ranks 1..n with ties given their average rank (scipy's 'average').

    >>> rankdata([10, 20, 20, 5]).tolist()
    [2.0, 3.5, 3.5, 1.0]
    """
    arr = np.asarray(x, dtype=float)
    order = np.argsort(arr, kind="mergesort")
    ranks = np.empty(len(arr))
    i = 0
    while i < len(arr):
        j = i
        while j + 1 < len(arr) and arr[order[j + 1]] == arr[order[i]]:
            j += 1
        ranks[order[i : j + 1]] = (i + j) / 2 + 1
        i = j + 1
    return ranks


def spearman(x: list[float], y: list[float]) -> float:
    rx, ry = rankdata(x), rankdata(y)
    if rx.std() == 0 or ry.std() == 0:
        return float("nan")
    return float(np.corrcoef(rx, ry)[0, 1])


def permutation_p(x: list[float], y: list[float], n_perm: int = 10_000, seed: int = 0) -> float:
    """Two-sided p-value of Spearman's rho under random pairings."""
    observed = spearman(x, y)
    if math.isnan(observed):
        return float("nan")
    rng = np.random.default_rng(seed)
    rx, ry = rankdata(x), rankdata(y)
    rx_c = (rx - rx.mean()) / rx.std()
    perms = np.array([rng.permutation(ry) for _ in range(n_perm)])
    perms = (perms - ry.mean()) / ry.std()
    rhos = perms @ rx_c / len(rx)
    return float((np.sum(np.abs(rhos) >= abs(observed) - 1e-12) + 1) / (n_perm + 1))


@dataclass
class ConjectureRow:
    benchmark: str
    program_length: int | None
    depth: int | None
    seeds: int
    accuracy: float
    accuracy_std: float
    extrapolation: float


def conjecture_rows(
    results: list[dict[str, Any]], model: str = "transformer", pe: str | None = None, metric: str = "exact"
) -> list[ConjectureRow]:
    scores = {row.benchmark: row for row in score_library(verify=False)}
    by_bench: dict[str, list[dict[str, Any]]] = {}
    for result in results:
        cfg = result["config"]
        if cfg["model"] != model:
            continue
        if pe is not None and (cfg.get("model_options") or {}).get("pe") != pe:
            continue
        by_bench.setdefault(benchmark_of(result), []).append(result)
    if not by_bench:
        raise LengthgenError(f"no results for model {model!r}" + (f" with encoding {pe!r}" if pe else ""))
    rows = []
    for bench, runs in sorted(by_bench.items()):
        score = scores.get(bench)
        if score is None:
            continue  # neither a program nor a manifest entry: the conjecture says nothing
        accs = [beyond_score(r, metric) for r in runs]
        rows.append(
            ConjectureRow(
                benchmark=bench,
                program_length=score.length,
                depth=score.depth,
                seeds=len(runs),
                accuracy=statistics.fmean(accs),
                accuracy_std=statistics.stdev(accs) if len(accs) > 1 else 0.0,
                extrapolation=statistics.fmean(extrapolation_factor(r, metric) for r in runs),
            )
        )
    if not rows:
        raise LengthgenError("none of the benchmarks in these results has a program or a manifest entry in rasp/")
    return rows


MEASURES = ("extrapolation", "accuracy")


def conjecture_report(
    rows: list[ConjectureRow], n_perm: int = 10_000, seed: int = 0, measure: str = "extrapolation"
) -> dict[str, Any]:
    """``measure``: the extrapolation factor (default; immune to chance-level
    accuracy, e.g. 50% on parity) or the accuracy beyond the training range."""
    if measure not in MEASURES:
        raise LengthgenError(f"measure must be one of {', '.join(MEASURES)}, got {measure!r}")
    longest = max((r.program_length for r in rows if r.program_length is not None), default=0)
    lengths = [float(r.program_length) if r.program_length is not None else float(longest + 1) for r in rows]
    values = [getattr(r, measure) for r in rows]
    with_program = [v for r, v in zip(rows, values) if r.program_length is not None]
    without = [v for r, v in zip(rows, values) if r.program_length is None]
    return {
        "measure": measure,
        "spearman_rho": spearman(lengths, values),
        "p_value": permutation_p(lengths, values, n_perm, seed),
        "n_benchmarks": len(rows),
        "mean_with_program": statistics.fmean(with_program) if with_program else None,
        "mean_without_program": statistics.fmean(without) if without else None,
        "n_with_program": len(with_program),
        "n_without_program": len(without),
    }


def render_conjecture(rows: list[ConjectureRow], report: dict[str, Any], metric: str, model: str) -> str:
    table = tabulate(
        [
            [
                r.benchmark,
                r.program_length if r.program_length is not None else "none",
                r.depth if r.depth is not None else "-",
                r.seeds,
                f"{100 * r.accuracy:.1f} ± {100 * r.accuracy_std:.1f}",
                f"{r.extrapolation:.2f}",
            ]
            for r in rows
        ],
        headers=["benchmark", "RASP-L length", "depth", "seeds", f"{metric} % beyond training", "extrapolation"],
        tablefmt="github",
        disable_numparse=True,
    )

    measure = report["measure"]

    def show(v):
        if v is None:
            return "-"
        return f"{v:.2f}" if measure == "extrapolation" else f"{100 * v:.1f}%"

    rho, p = report["spearman_rho"], report["p_value"]
    lines = [
        f"RASP-Generalization Conjecture, model {model}: program length vs {measure} ({metric} match)",
        "",
        table,
        "",
        f"Spearman rho (program length, {measure}) = {rho:+.3f}, permutation p = {p:.4f} "
        f"({report['n_benchmarks']} benchmarks; 'none' ranks longest)"
        if not math.isnan(rho)
        else f"Spearman rho undefined (no variation in program length or {measure})",
        f"has a RASP-L program: mean {measure} {show(report['mean_with_program'])} over {report['n_with_program']} benchmarks; "
        f"has none: {show(report['mean_without_program'])} over {report['n_without_program']}",
        "The conjecture predicts a negative rho and a higher mean for benchmarks with a program.",
    ]
    return "\n".join(lines)
