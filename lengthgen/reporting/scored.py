"""The conjecture test with benchmarks as units, as conjecture-v3 registered it.

Where :mod:`lengthgen.reporting.conjecture` compares extrapolation factors
of every fitted run, this test scores each benchmark once and decides with
a written rule (results/studies/conjecture-v3/README.md):

- a seed is *fitted* when it passes the fit gate at the longest training
  length L; a benchmark is *scored* when at least ``min_fitted`` of its
  seeds are, its score being the mean over fitted seeds of the metric at
  ``multiple`` x L (and, beside it, at L + ``offset``);
- D = mean score of the scored program benchmarks minus that of the scored
  no-program ones, a one-sided exact permutation p over every relabelling
  of the scored benchmarks, and a hierarchical bootstrap interval
  (benchmarks, then seeds);
- **supported** when each side has at least ``min_per_side`` scored
  benchmarks, p <= 0.05, D >= 0.30 and D at L + offset > 0; **refuted** when
  each side has enough, D <= 0.10 and the interval's upper end is below
  0.30; **inconclusive** otherwise;
- matched pairs counted with pairs as units (a count, never a p: four
  pairs cannot reach 0.05), and a graded secondary score: per fitted seed
  the mean over test lengths of the metric's margin over max(chance, best
  baseline), floored at 0.
"""

from __future__ import annotations

import itertools
import math
import statistics
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from lengthgen.errors import LengthgenError
from lengthgen.reporting.conjecture import MATCHED_PAIRS, _bootstrap_groups
from lengthgen.reporting.runs import RunSummary, row_baseline
from lengthgen.tables import render_table

ALPHA = 0.05
SUPPORT_MARGIN = 0.30
REFUTE_MARGIN = 0.10


def metric_at(run: RunSummary, length: int) -> float | None:
    for row in run.result["results"]:
        if row["length"] == length and row.get("test", True):
            return float(row[run.metric])
    return None


def graded(run: RunSummary) -> float | None:
    """Mean over the run's test lengths beyond L of max(0, metric - max(chance, best baseline))."""
    gains = []
    for row in run.result["results"]:
        if row["length"] <= run.train_max or not row.get("test", True):
            continue
        base = row_baseline(run.result, row, run.metric)
        floor = max(base[0], base[2]) if base else 0.0
        gains.append(max(0.0, float(row[run.metric]) - floor))
    return statistics.fmean(gains) if gains else None


@dataclass
class Scored:
    benchmark: str
    has_program: bool
    seeds: int
    fitted: int
    at_multiple: list[float] = field(default_factory=list)  # per fitted seed
    at_offset: list[float] = field(default_factory=list)
    graded: list[float] = field(default_factory=list)

    def scored(self, min_fitted: int) -> bool:
        return self.fitted >= min_fitted and bool(self.at_multiple)

    @property
    def score(self) -> float | None:
        return statistics.fmean(self.at_multiple) if self.at_multiple else None


def one_sided_p(with_values: list[float], without: list[float]) -> float:
    """Exact one-sided permutation p of mean(with) - mean(without) over every relabelling.

    >>> float(one_sided_p([1.0, 1.0, 0.9], [0.0, 0.1, 0.0]))  # the best of 20 labellings
    0.05
    """
    values = np.asarray(with_values + without, dtype=float)
    k, n = len(with_values), len(values)
    if k == 0 or k == n:
        return float("nan")
    if math.comb(n, k) > 1_000_000:
        raise LengthgenError(f"{math.comb(n, k):,} relabellings are too many for the exact test")
    observed = values[:k].mean() - values[k:].mean()
    total = values.sum()
    hits = count = 0
    for idx in itertools.combinations(range(n), k):
        inside = values[list(idx)].sum()
        diff = inside / k - (total - inside) / (n - k)
        hits += bool(diff >= observed - 1e-12)
        count += 1
    return hits / count


def scored_rows(
    runs: list[RunSummary], programs: dict[str, Any], multiple: float = 2.0, offset: int = 10, all_seeds: bool = False
) -> list[Scored]:
    """One row per benchmark.  ``all_seeds`` is the intention-to-treat
    reading: every seed counts with what it measured, fitted or not (a task
    that fails the fit gate stays in the test instead of leaving it)."""
    by_bench: dict[str, list[RunSummary]] = {}
    for run in runs:
        if run.benchmark in programs:
            by_bench.setdefault(run.benchmark, []).append(run)
    if not by_bench:
        raise LengthgenError("none of the benchmarks in these results has a program or a manifest entry in rasp/")
    rows = []
    for bench, seeds in sorted(by_bench.items()):
        row = Scored(bench, programs[bench][0] is not None, len(seeds), sum(1 for r in seeds if r.fitted))
        for run in seeds:
            if not run.fitted and not all_seeds:
                continue
            far = metric_at(run, int(round(multiple * run.train_max)))
            near = metric_at(run, run.train_max + offset)
            if far is None:
                raise LengthgenError(
                    f"{bench} seed {run.seed}: no result at {multiple:g} x L = {int(round(multiple * run.train_max))}"
                )
            row.at_multiple.append(far)
            if near is not None:
                row.at_offset.append(near)
            value = graded(run)
            if value is not None:
                row.graded.append(value)
        rows.append(row)
    return rows


def scored_report(
    runs: list[RunSummary],
    programs: dict[str, Any],
    multiple: float = 2.0,
    offset: int = 10,
    min_fitted: int = 3,
    min_per_side: int = 4,
    n_boot: int = 2000,
    seed: int = 0,
    all_seeds: bool = False,
) -> dict[str, Any]:
    rows = scored_rows(runs, programs, multiple, offset, all_seeds)
    if all_seeds:
        min_fitted = 0  # every benchmark with a seed is scored
    scored = [r for r in rows if r.scored(min_fitted)]
    prog = [r for r in scored if r.has_program]
    none = [r for r in scored if not r.has_program]

    def difference(values) -> float | None:
        a = [values(r) for r in prog if values(r) is not None]
        b = [values(r) for r in none if values(r) is not None]
        return statistics.fmean(a) - statistics.fmean(b) if a and b else None

    d = difference(lambda r: r.score)
    d_near = difference(lambda r: statistics.fmean(r.at_offset) if r.at_offset else None)
    d_graded = difference(lambda r: statistics.fmean(r.graded) if r.graded else None)
    p = one_sided_p([r.score for r in prog], [r.score for r in none]) if prog and none else None
    p_graded = (
        one_sided_p([statistics.fmean(r.graded) for r in prog], [statistics.fmean(r.graded) for r in none])
        if prog and none and all(r.graded for r in prog + none)
        else None
    )
    ci = (
        _bootstrap_groups(
            [[r.at_multiple for r in prog], [r.at_multiple for r in none]],
            lambda s: float(np.mean(s[0]) - np.mean(s[1])),
            n_boot,
            np.random.default_rng(seed),
        )
        if prog and none
        else None
    )
    by_name = {r.benchmark: r for r in scored}
    pairs = []
    for a, b in MATCHED_PAIRS:
        if a in by_name and b in by_name:
            pairs.append({"pair": f"{a} | {b}", "program_higher": by_name[a].score > by_name[b].score})
    report = {
        "rows": rows,
        "multiple": multiple,
        "offset": offset,
        "min_fitted": min_fitted,
        "min_per_side": min_per_side,
        "scored_program": len(prog),
        "scored_none": len(none),
        "difference": d,
        "difference_near": d_near,
        "ci": ci,
        "p": p,
        "graded_difference": d_graded,
        "graded_p": p_graded,
        "pairs": pairs,
        "all_seeds": all_seeds,
    }
    report["verdict"] = verdict(report)
    return report


def verdict(report: dict[str, Any]) -> str:
    n_prog, n_none, need = report["scored_program"], report["scored_none"], report["min_per_side"]
    if n_prog < need or n_none < need:
        return (
            f"inconclusive: {n_prog} scored benchmark(s) with a program and {n_none} without; "
            f"the rule needs at least {need} on each side"
        )
    d, p, ci, near = report["difference"], report["p"], report["ci"], report["difference_near"]
    stated = f"D = {d:+.2f} at {report['multiple']:g}L, one-sided p = {p:.3g}"
    if ci is not None:
        stated += f", 95% CI [{ci[0]:+.2f}, {ci[1]:+.2f}]"
    if p <= ALPHA and d >= SUPPORT_MARGIN and near is not None and near > 0:
        return f"supported: {stated}; D at L+{report['offset']} = {near:+.2f}"
    if d <= REFUTE_MARGIN and ci is not None and ci[1] < SUPPORT_MARGIN:
        return f"refuted: {stated}"
    return f"inconclusive: {stated}" + (f"; D at L+{report['offset']} = {near:+.2f}" if near is not None else "")


def longer_training(short: list[Scored], long: list[Scored], min_fitted: int = 3) -> dict[str, Any]:
    """Per program benchmark scored in both ranges, whether its score at the
    multiple rose with the longer range; a one-sided sign test over them."""
    before = {r.benchmark: r for r in short if r.has_program and r.scored(min_fitted)}
    after = {r.benchmark: r for r in long if r.has_program and r.scored(min_fitted)}
    both = sorted(set(before) & set(after))
    rises = [b for b in both if after[b].score > before[b].score]
    n, k = len(both), len(rises)
    p = sum(math.comb(n, i) for i in range(k, n + 1)) / 2**n if n else None
    return {"benchmarks": both, "rose": rises, "p": p}


def render_scored(report: dict[str, Any]) -> str:
    def pct(values: list[float]) -> str:
        return f"{100 * statistics.fmean(values):.1f}" if values else "-"

    m, off = report["multiple"], report["offset"]
    table = [
        [
            r.benchmark,
            "yes" if r.has_program else "no",
            f"{r.fitted} / {r.seeds}",
            "yes" if r.scored(report["min_fitted"]) else "no",
            pct(r.at_offset),
            pct(r.at_multiple),
            pct(r.graded),
        ]
        for r in report["rows"]
    ]
    headers = ["benchmark", "program", "fitted / seeds", "scored", f"L+{off} %", f"{m:g}L %", "graded %"]
    lines = [render_table(headers, table), ""]
    if report.get("all_seeds"):
        lines.append(
            f"scored: {report['scored_program']} with a program, {report['scored_none']} without "
            "(intention to treat: every seed counts with what it measured; values are means over all seeds)"
        )
    else:
        lines.append(
            f"scored: {report['scored_program']} with a program, {report['scored_none']} without "
            f"(a benchmark is scored with >= {report['min_fitted']} fitted seeds; values are means over fitted seeds)"
        )
    if report["difference"] is not None:
        # stated even when too few benchmarks are scored for the rule: a description, not a verdict
        ci, p, near = report["ci"], report["p"], report["difference_near"]
        lines.append(
            f"primary: D = {report['difference']:+.3f} at {m:g}L"
            + (f", one-sided p = {p:.3g}" if p is not None else "")
            + (f", 95% CI [{ci[0]:+.2f}, {ci[1]:+.2f}]" if ci is not None else "")
            + (f"; D at L+{off} = {near:+.3f}" if near is not None else "")
        )
    if report["graded_difference"] is not None:
        gp = report["graded_p"]
        lines.append(
            f"graded (secondary): D = {report['graded_difference']:+.3f}"
            + (f", one-sided p = {gp:.3g}" if gp is not None else "")
        )
    if report["pairs"]:
        higher = sum(p["program_higher"] for p in report["pairs"])
        lines.append(
            f"matched pairs (units; a count, not a test): program side higher in {higher} of {len(report['pairs'])}"
        )
    lines.append(f"verdict: {report['verdict']}")
    return "\n".join(lines)
