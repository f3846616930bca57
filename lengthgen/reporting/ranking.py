"""Ranking configurations (encodings, models) across benchmarks: mean
reciprocal rank with a hierarchical bootstrap, gated on fit.

For each benchmark, each configuration (a leaderboard column such as
``transformer+rope``) scores the mean over its seeds of accuracy beyond the
training range, where a seed that did not fit in range scores 0: a model
that never learned the task has not generalized, whatever it outputs
beyond.  Configurations are ranked per benchmark (1 = best, ties share the
average rank) and the reciprocal ranks averaged over benchmarks.  The
bootstrap resamples benchmarks and, within each benchmark and
configuration, seeds; the leader is declared only when the bootstrap
interval of its MRR margin over the runner-up excludes 0, otherwise the
ranking is "inconclusive".  Few benchmarks cannot name a leader however
clean the result: if the configurations' ranks were exchangeable on every
benchmark, some one of k configurations would come first on all n
benchmarks with probability k^(1-n); while that is 0.05 or more (n < 6 for
2 configurations, n < 3 for 6) the verdict stays "inconclusive" (the
bootstrap would call any clean sweep a win).  Benchmarks where no
configuration fitted any seed carry no information on extrapolation and
are left out (listed).

With ``above_shortcut`` a fitted seed scores only what it gains over the
lazy answer: its accuracy beyond the range minus the benchmark's shortcut
(the larger of chance and the best cheap baseline, at the beyond length
where that baseline is strongest), and only when it beats the shortcut
with 95% confidence (the Wilson lower bound over its pooled beyond-range
examples is above it); otherwise 0.  Near-chance scores then tie at 0
instead of ranking configurations by noise, and a benchmark where no seed
beats its shortcut is left out (listed).
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from lengthgen.errors import LengthgenError
from lengthgen.evaluation.metrics import wilson_interval
from lengthgen.reporting.conjecture import rankdata
from lengthgen.reporting.runs import RunSummary


@dataclass
class Cell:
    """One benchmark x configuration: per-seed scores and what they rest on."""

    scores: list[float]  # beyond-range accuracy per seed, 0 where not fitted
    fitted: int
    in_range: list[float]
    beyond_fitted: list[float]
    cpu_seconds: float | None
    chance: float | None
    baseline: tuple[str, float] | None
    seeds: set[int] = field(default_factory=set)


CLEAN_SWEEP_ALPHA = 0.05


def benchmarks_needed(configurations: int) -> int:
    """The fewest benchmarks on which a clean sweep by one of ``configurations``
    would be unlikely (< 5%) if ranks were exchangeable.

    >>> benchmarks_needed(2), benchmarks_needed(6)
    (6, 3)
    """
    n = 1
    while configurations ** (1 - n) >= CLEAN_SWEEP_ALPHA:
        n += 1
    return n


def shortcut_of(r: RunSummary) -> float:
    """The accuracy a lazy model gets beyond the range: max(chance, best baseline)."""
    known = [v for v in (r.chance, r.baseline[1] if r.baseline else None) if v is not None]
    if not known:
        raise LengthgenError(
            f"{r.benchmark}: this result records neither chance nor a baseline, so a gain over the shortcut "
            "is undefined; rank without --above-shortcut"
        )
    return max(known)


def _score(r: RunSummary, above_shortcut: bool) -> float:
    if not r.fitted:
        return 0.0
    if not above_shortcut:
        return r.beyond_mean
    shortcut = shortcut_of(r)
    if r.beyond_examples:  # files without example counts fall back to the point comparison
        lower, _ = wilson_interval(round(r.beyond_mean * r.beyond_examples), r.beyond_examples)
        if lower <= shortcut:
            return 0.0
    return max(0.0, r.beyond_mean - shortcut)


def _cells(runs: list[RunSummary], above_shortcut: bool = False) -> dict[str, dict[str, Cell]]:
    table: dict[str, dict[str, Cell]] = {}
    for r in runs:
        cell = table.setdefault(r.benchmark, {}).setdefault(r.column, Cell([], 0, [], [], None, r.chance, r.baseline))
        cell.scores.append(_score(r, above_shortcut))
        cell.seeds.add(r.seed)
        cell.fitted += bool(r.fitted)
        if r.in_range is not None:
            cell.in_range.append(r.in_range)
        if r.fitted:
            cell.beyond_fitted.append(r.beyond_mean)
        if r.cpu_seconds is not None:
            cell.cpu_seconds = (cell.cpu_seconds or 0.0) + r.cpu_seconds
    return table


def reciprocal_ranks(scores: dict[str, float]) -> dict[str, float]:
    """1 / rank of each configuration's score (higher is better, ties averaged).

    >>> reciprocal_ranks({"rope": 0.9, "alibi": 0.5, "none": 0.5})
    {'rope': 1.0, 'alibi': 0.4, 'none': 0.4}
    """
    names = list(scores)
    ranks = rankdata([-scores[n] for n in names])
    return {n: 1.0 / float(k) for n, k in zip(names, ranks)}


def mrr(table: dict[str, dict[str, list[float]]], columns: list[str]) -> dict[str, float]:
    """Mean reciprocal rank per configuration over benchmarks, from per-seed
    scores; a configuration missing on a benchmark is ranked last there
    (rank_configurations only passes benchmarks every configuration ran)."""
    totals = dict.fromkeys(columns, 0.0)
    for cells in table.values():
        scores = {c: statistics.fmean(cells[c]) if c in cells else -1.0 for c in columns}
        for c, rr in reciprocal_ranks(scores).items():
            totals[c] += rr
    return {c: v / len(table) for c, v in totals.items()}


def rank_configurations(
    runs: list[RunSummary], n_boot: int = 2000, seed: int = 0, above_shortcut: bool = False
) -> dict[str, Any]:
    """MRR per configuration with 95% bootstrap intervals and a verdict."""
    if not runs:
        raise LengthgenError("no results to rank")
    cells = _cells(runs, above_shortcut)
    columns = sorted({r.column for r in runs})
    if len(columns) < 2:
        raise LengthgenError(f"ranking needs at least two configurations; these results hold only {columns[0]!r}")
    # A benchmark some configuration has no result for, or fewer seeds of, is
    # a sweep still running, not a loss: ranking it would reward whatever ran
    # first (and compare means over different seed sets).
    incomplete = sorted(
        b for b, c in cells.items() if set(c) != set(columns) or len({frozenset(x.seeds) for x in c.values()}) > 1
    )
    complete = {b: c for b, c in cells.items() if b not in incomplete}
    if not complete:
        raise LengthgenError(
            f"no benchmark has results for every configuration ({', '.join(columns)}): nothing to compare yet"
        )
    used = {b: c for b, c in complete.items() if any(cell.fitted for cell in c.values())}
    dropped = sorted(set(complete) - set(used))
    if not used:
        raise LengthgenError("no configuration fitted any benchmark in range: nothing to rank on extrapolation")
    no_gain = sorted(b for b, c in used.items() if above_shortcut and not any(max(x.scores) > 0 for x in c.values()))
    used = {b: c for b, c in used.items() if b not in no_gain}
    if not used:
        raise LengthgenError("no fitted seed beats its benchmark's shortcut beyond the range: nothing to rank")
    scores = {b: {c: cell.scores for c, cell in cs.items()} for b, cs in used.items()}
    point = mrr(scores, columns)
    rng = np.random.default_rng(seed)
    benches = sorted(scores)
    boot: dict[str, list[float]] = {c: [] for c in columns}
    order = sorted(columns, key=lambda c: -point[c])
    leader, runner = order[0], order[1]
    margins = []
    for _ in range(n_boot):
        picks = rng.integers(0, len(benches), len(benches))
        sample = {}
        for i, k in enumerate(picks):
            sample[i] = {c: list(rng.choice(v, len(v))) for c, v in scores[benches[k]].items()}
        values = mrr(sample, columns)
        for c in columns:
            boot[c].append(values[c])
        margins.append(values[leader] - values[runner])
    ci = {c: (float(np.percentile(v, 2.5)), float(np.percentile(v, 97.5))) for c, v in boot.items()}
    margin_ci = (float(np.percentile(margins, 2.5)), float(np.percentile(margins, 97.5)))
    needed = benchmarks_needed(len(columns))
    if len(benches) < needed:
        verdict = (
            f"INCONCLUSIVE: {leader} leads {runner} by {point[leader] - point[runner]:+.2f} MRR, but "
            f"{len(benches)} benchmark(s) cannot name a leader among {len(columns)} configurations "
            f"(a clean sweep by chance has probability {len(columns) ** (1 - len(benches)):.2f}); "
            f"at least {needed} are needed"
        )
    elif margin_ci[0] > 0:
        verdict = f"{leader} ranks first: its MRR margin over {runner} has a 95% interval above 0"
    else:
        verdict = (
            f"INCONCLUSIVE: {leader} leads {runner} by {point[leader] - point[runner]:+.2f} MRR, "
            f"but the 95% interval of the margin [{margin_ci[0]:+.2f}, {margin_ci[1]:+.2f}] includes 0"
        )
    return {
        "columns": order,
        "mrr": point,
        "ci": ci,
        "leader": leader,
        "runner_up": runner,
        "margin_ci": margin_ci,
        "verdict": verdict,
        "benchmarks": benches,
        "dropped": dropped,
        "no_gain": no_gain,
        "above_shortcut": above_shortcut,
        "incomplete": incomplete,
        "cells": used,
        "metric": runs[0].metric,
        "n_boot": n_boot,
    }


def _pct(values: list[float]) -> str:
    return f"{100 * statistics.fmean(values):.1f}" if values else "-"


def _minutes(seconds: list[float | None]) -> str:
    known = [s for s in seconds if s is not None]
    return f"{sum(known) / 60:.1f}" if known else "-"


def _best(cells: dict[str, Cell]) -> str:
    """The top configuration of one benchmark, or the ones sharing the top
    (a benchmark where everyone scores 0 beyond has no best)."""
    means = {c: statistics.fmean(cell.scores) for c, cell in cells.items()}
    top = max(means.values())
    leaders = [c for c, m in means.items() if abs(m - top) < 1e-12]
    if len(leaders) == 1:
        return leaders[0]
    return f"tie: all at {100 * top:.1f}" if len(leaders) == len(means) else "tie: " + ", ".join(leaders)


def render_ranking(report: dict[str, Any], fmt: str = "github") -> str:
    from tabulate import tabulate

    metric = report["metric"]
    rows = []
    for c in report["columns"]:
        cs = [report["cells"][b][c] for b in report["benchmarks"] if c in report["cells"][b]]
        firsts = sum(
            1
            for b in report["benchmarks"]
            if c in report["cells"][b]
            and reciprocal_ranks({k: statistics.fmean(v.scores) for k, v in report["cells"][b].items()})[c] == 1.0
        )
        lo, hi = report["ci"][c]
        rows.append(
            [
                c,
                f"{report['mrr'][c]:.2f} [{lo:.2f}, {hi:.2f}]",
                firsts,
                f"{sum(x.fitted for x in cs)}/{sum(len(x.scores) for x in cs)}",
                _pct([v for x in cs for v in x.in_range]),
                _pct([v for x in cs for v in x.beyond_fitted]),
                _minutes([x.cpu_seconds for x in cs]),
            ]
        )
    head = [
        "configuration",
        "MRR [95% CI]",
        "ranked first",
        "seeds fitted",
        "in-range %",
        "beyond % (fitted)",
        "CPU-min",
    ]
    per_bench = []
    for b in report["benchmarks"]:
        cells = report["cells"][b]
        any_cell = next(iter(cells.values()))
        chance = "-" if any_cell.chance is None else f"{100 * any_cell.chance:.1f}"
        base = "-" if any_cell.baseline is None else f"{100 * any_cell.baseline[1]:.1f} ({any_cell.baseline[0]})"
        best = _best(cells)
        per_bench.append(
            [b, best, *(f"{_pct(cells[c].scores)} ({cells[c].fitted}/{len(cells[c].scores)})" if c in cells else "-"
                        for c in report["columns"]), chance, base]
        )  # fmt: skip
    what = (
        f"{metric} accuracy beyond the training range above the shortcut (points over max(chance, best baseline) "
        "where the 95% Wilson lower bound clears it, else 0; a seed not fitted in range scores 0)"
        if report.get("above_shortcut")
        else f"{metric} accuracy beyond the training range (a seed not fitted in range scores 0)"
    )
    score_head = "gain % (fitted)" if report.get("above_shortcut") else "beyond % (fitted)"
    lines = [
        f"Ranking by {what}; "
        f"{len(report['benchmarks'])} benchmarks, bootstrap {report['n_boot']} resamples of benchmarks and seeds.",
        "",
        tabulate(rows, head, tablefmt=fmt),
        "",
        tabulate(
            per_bench,
            [
                "benchmark",
                "best",
                *[f"{c}: {score_head}" for c in report["columns"]],
                "chance %",
                "best baseline %",
            ],
            tablefmt=fmt,
        ),
        "",
        f"Verdict: {report['verdict']}.",
    ]
    if report["dropped"]:
        lines.append(f"Left out (no configuration fitted in range): {', '.join(report['dropped'])}.")
    if report.get("no_gain"):
        lines.append(f"Left out (no fitted seed beats the shortcut beyond the range): {', '.join(report['no_gain'])}.")
    if report.get("incomplete"):
        lines.append(
            f"Left out (not every configuration has results for the same seeds yet): {', '.join(report['incomplete'])}."
        )
    return "\n".join(lines)
