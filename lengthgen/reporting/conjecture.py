"""The RASP-Generalization Conjecture as a two-part test on a sweep's results.

(a) **Learnability.** Program yes/no x fitted in range yes/no, counted over
runs and over benchmarks.  Whether a small model fits a task at all is a
different question from whether it extrapolates, and mixing them makes the
test measure fit (a run that never learned the task scores 0 beyond the
range whatever the conjecture says).

(b) **Extrapolation among fitted runs only.**  Per benchmark, the mean
extrapolation factor over its fitted seeds; then

- program vs no program: difference of means (with minus without), an
  exact or Monte-Carlo permutation p over benchmarks, and a hierarchical
  bootstrap CI (benchmarks within each group, then seeds within a
  benchmark);
- Spearman rho of extrapolation against program length (no program ranks
  longest), against program existence and against attention depth, each
  with a hierarchical bootstrap CI and the number of benchmarks behind it;
- matched pairs (a program task and its no-program twin) with a sign test
  over pairs x seeds where both runs fitted.

Extrapolation factors reaching the longest tested length are censored
("at least"); rank statistics treat them as their lower bound.

The verdict is "inconclusive" whenever fewer than ``MIN_PER_SIDE`` fitted
benchmarks stand on either side, the interval includes zero, or the
permutation test does not reject at ``ALPHA`` (with few benchmarks on one
side, the bootstrap interval can exclude zero while the permutation test,
which respects how few relabellings exist, does not).

Long (about 530 lines): the two parts, their statistics and the
predictions check share one per-benchmark summary; benchmarks as units
(conjecture-v3's rule) is :mod:`lengthgen.reporting.scored`.
"""

from __future__ import annotations

import itertools
import math
import statistics
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from lengthgen.errors import LengthgenError
from lengthgen.evaluation.thresholds import FIT_THRESHOLD, SOLVED_THRESHOLD
from lengthgen.reporting.runs import RunSummary, summarize_runs
from lengthgen.tables import render_table

MIN_PER_SIDE = 3
ALPHA = 0.05
MATCHED_PAIRS = (
    ("copy-unique", "copy-repeat"),
    ("sort", "reverse"),
    ("mode", "parity"),
    ("addition-reversed-hints", "addition-reversed"),
)


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
    if len(x) < 2:
        return float("nan")
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


def difference_p(with_values: list[float], without: list[float], n_perm: int = 10_000, seed: int = 0) -> float:
    """Two-sided permutation p of the difference of group means: exact over
    every relabelling when there are at most 20,000, else Monte Carlo."""
    values = np.asarray(with_values + without, dtype=float)
    k, n = len(with_values), len(values)
    if k == 0 or k == n:
        return float("nan")
    observed = abs(np.mean(with_values) - np.mean(without))
    if math.comb(n, k) <= 20_000:
        diffs = []
        for idx in itertools.combinations(range(n), k):
            mask = np.zeros(n, dtype=bool)
            mask[list(idx)] = True
            diffs.append(abs(values[mask].mean() - values[~mask].mean()))
        diffs = np.asarray(diffs)
        return float(np.mean(diffs >= observed - 1e-12))
    rng = np.random.default_rng(seed)
    hits = 0
    for _ in range(n_perm):
        perm = rng.permutation(values)
        hits += abs(perm[:k].mean() - perm[k:].mean()) >= observed - 1e-12
    return float((hits + 1) / (n_perm + 1))


def sign_test_p(wins: int, losses: int) -> float:
    """Two-sided exact binomial sign test (ties dropped before calling)."""
    n = wins + losses
    if n == 0:
        return float("nan")
    k = min(wins, losses)
    tail = sum(math.comb(n, i) for i in range(k + 1)) / 2**n
    return min(1.0, 2 * tail)


@dataclass
class BenchmarkRow:
    benchmark: str
    program_length: int | None
    depth: int | None
    seeds: int
    fitted: int
    in_range: float | None
    fitted_factors: list[float] = field(default_factory=list)
    censored: int = 0
    model_layers: int | None = None  # the fewest attention layers among the runs

    @property
    def realizable(self) -> bool | None:
        """Whether the model has at least the program's attention depth:
        a program deeper than the model says nothing about the model."""
        if self.depth is None or self.model_layers is None:
            return None
        return self.model_layers >= self.depth

    @property
    def has_program(self) -> bool:
        return self.program_length is not None

    @property
    def extrapolation(self) -> float | None:
        return statistics.fmean(self.fitted_factors) if self.fitted_factors else None


def select_runs(results: list[dict[str, Any]], model: str, pe: str | None, metric: str | None) -> list[RunSummary]:
    chosen = []
    for result in results:
        cfg = result["config"]
        if cfg["model"] != model:
            continue
        if pe is not None and (cfg.get("model_options") or {}).get("pe") != pe:
            continue
        chosen.append(result)
    if not chosen:
        raise LengthgenError(f"no results for model {model!r}" + (f" with encoding {pe!r}" if pe else ""))
    runs = summarize_runs(chosen, metric)
    # one configuration per benchmark: the same everywhere, or each
    # benchmark's own recipe (conjecture-v2); never two for one benchmark
    per_bench: dict[str, set[str]] = {}
    for r in runs:
        per_bench.setdefault(r.benchmark, set()).add(r.column)
    mixed = {b: c for b, c in per_bench.items() if len(c) > 1}
    if mixed:
        bench, columns = sorted(mixed.items())[0]
        raise LengthgenError(
            f"these results hold {len(columns)} configurations of {model!r} for {bench} ({', '.join(sorted(columns))}); "
            "choose one with --pe (the conjecture compares benchmarks, not models)"
        )
    return runs


def benchmark_rows(runs: list[RunSummary], programs: dict[str, tuple[int | None, int | None]]) -> list[BenchmarkRow]:
    by_bench: dict[str, list[RunSummary]] = {}
    for run in runs:
        if run.benchmark in programs:  # neither a program nor a manifest entry: the conjecture says nothing
            by_bench.setdefault(run.benchmark, []).append(run)
    rows = []
    for bench, seeds in sorted(by_bench.items()):
        length, depth = programs[bench]
        fitted = [r for r in seeds if r.fitted]
        in_range = [r.in_range for r in seeds if r.in_range is not None]
        rows.append(
            BenchmarkRow(
                benchmark=bench,
                program_length=length,
                depth=depth,
                seeds=len(seeds),
                fitted=len(fitted),
                in_range=statistics.fmean(in_range) if in_range else None,
                fitted_factors=[r.extrapolation["factor"] for r in fitted],
                censored=sum(1 for r in fitted if r.extrapolation["censored"]),
                model_layers=min((r.attention_layers for r in seeds if r.attention_layers is not None), default=None),
            )
        )
    if not rows:
        raise LengthgenError("none of the benchmarks in these results has a program or a manifest entry in rasp/")
    return rows


def _bootstrap_groups(
    groups: list[list[list[float]]], stat, n_boot: int, rng: np.random.Generator
) -> tuple[float, float] | None:
    """Percentile 95% CI of ``stat`` over hierarchical resamples: within each
    group benchmarks with replacement, then each benchmark's seeds."""
    values = []
    for _ in range(n_boot):
        sample = []
        for group in groups:
            picks = rng.integers(0, len(group), len(group))
            sample.append([float(np.mean(rng.choice(group[i], len(group[i])))) for i in picks])
        value = stat(sample)
        if not math.isnan(value):
            values.append(value)
    if len(values) < n_boot // 2:
        return None
    return float(np.percentile(values, 2.5)), float(np.percentile(values, 97.5))


def _rank_stat(xs: list[float], rows_values: list[list[float]], n_boot: int, seed: int) -> dict[str, Any]:
    means = [statistics.fmean(v) for v in rows_values]
    rho = spearman(xs, means)
    rng = np.random.default_rng(seed)
    ci = None
    if len(xs) >= 3 and not math.isnan(rho):
        boot = []
        for _ in range(n_boot):
            picks = rng.integers(0, len(xs), len(xs))
            x = [xs[i] for i in picks]
            y = [float(np.mean(rng.choice(rows_values[i], len(rows_values[i])))) for i in picks]
            r = spearman(x, y)
            if not math.isnan(r):
                boot.append(r)
        if len(boot) >= n_boot // 2:
            ci = (float(np.percentile(boot, 2.5)), float(np.percentile(boot, 97.5)))
    return {"rho": rho, "ci": ci, "n": len(xs), "p": permutation_p(xs, means, 5000, seed) if len(xs) >= 3 else None}


def matched_pairs(runs: list[RunSummary]) -> dict[str, Any]:
    by_key = {(r.benchmark, r.seed): r for r in runs}
    wins = losses = ties = 0
    detail = []
    for prog, twin in MATCHED_PAIRS:
        seeds = sorted({s for b, s in by_key if b == prog} & {s for b, s in by_key if b == twin})
        for seed in seeds:
            a, b = by_key[(prog, seed)], by_key[(twin, seed)]
            if not (a.fitted and b.fitted):
                detail.append({"pair": f"{prog} | {twin}", "seed": seed, "outcome": "not both fitted"})
                continue
            fa, fb = a.extrapolation["factor"], b.extrapolation["factor"]
            outcome = "program longer" if fa > fb else "no-program longer" if fb > fa else "tie"
            wins += fa > fb
            losses += fb > fa
            ties += fa == fb
            detail.append({"pair": f"{prog} | {twin}", "seed": seed, "outcome": outcome, "factors": [fa, fb]})
    return {"wins": wins, "losses": losses, "ties": ties, "p": sign_test_p(wins, losses), "detail": detail}


def conjecture_report(
    runs: list[RunSummary],
    programs: dict[str, tuple[int | None, int | None]],
    n_perm: int = 10_000,
    n_boot: int = 2000,
    seed: int = 0,
) -> dict[str, Any]:
    rows = benchmark_rows(runs, programs)
    scoped = [r for r in runs if r.benchmark in programs]
    # (a) learnability
    learn = {
        side: {
            "runs_fitted": sum(1 for r in scoped if bool(programs[r.benchmark][0] is not None) == side and r.fitted),
            "runs": sum(1 for r in scoped if bool(programs[r.benchmark][0] is not None) == side),
            "benchmarks_fitted": sum(1 for b in rows if b.has_program == side and b.fitted > 0),
            "benchmarks": sum(1 for b in rows if b.has_program == side),
        }
        for side in (True, False)
    }
    # (b) among fitted runs; a program deeper than the model cannot be what
    # the model learned, so the benchmark says nothing about the conjecture
    unrealizable = [b.benchmark for b in rows if b.realizable is False]
    fitted = [b for b in rows if b.fitted_factors and b.realizable is not False]
    with_p = [b for b in fitted if b.has_program]
    without = [b for b in fitted if not b.has_program]
    diff = None
    if with_p and without:
        d = statistics.fmean(b.extrapolation for b in with_p) - statistics.fmean(b.extrapolation for b in without)
        ci = _bootstrap_groups(
            [[b.fitted_factors for b in with_p], [b.fitted_factors for b in without]],
            lambda s: float(np.mean(s[0]) - np.mean(s[1])),
            n_boot,
            np.random.default_rng(seed),
        )
        diff = {
            "difference": d,
            "ci": ci,
            "p": difference_p([b.extrapolation for b in with_p], [b.extrapolation for b in without], n_perm, seed),
        }
    longest = max((b.program_length for b in fitted if b.has_program), default=0)
    deepest = max((b.depth for b in fitted if b.depth is not None), default=0)
    values = [b.fitted_factors for b in fitted]
    sensitivity = {
        "program exists": _rank_stat([0.0 if b.has_program else 1.0 for b in fitted], values, n_boot, seed),
        "program length (none = longest)": _rank_stat(
            [float(b.program_length) if b.has_program else float(longest + 1) for b in fitted], values, n_boot, seed
        ),
        "program length (programs only)": _rank_stat(
            [float(b.program_length) for b in with_p], [b.fitted_factors for b in with_p], n_boot, seed
        ),
        "attention depth (none = deepest)": _rank_stat(
            [float(b.depth) if b.depth is not None else float(deepest + 1) for b in fitted], values, n_boot, seed
        ),
    }
    pairs = matched_pairs(scoped)
    verdict = _verdict(len(with_p), len(without), diff)
    return {
        "rows": rows,
        "learnability": learn,
        "difference": diff,
        "sensitivity": sensitivity,
        "pairs": pairs,
        "n_fitted_with": len(with_p),
        "n_fitted_without": len(without),
        "verdict": verdict,
        "min_per_side": MIN_PER_SIDE,
        "unrealizable": unrealizable,
    }


def _verdict(n_with: int, n_without: int, diff: dict[str, Any] | None) -> str:
    if n_with < MIN_PER_SIDE or n_without < MIN_PER_SIDE:
        return (
            f"inconclusive: {n_with} fitted benchmark(s) with a program and {n_without} without; "
            f"the test needs at least {MIN_PER_SIDE} on each side"
        )
    if diff is None or diff["ci"] is None:
        return "inconclusive: no interval could be computed"
    lo, hi = diff["ci"]
    if lo > 0 and diff["p"] < ALPHA:
        return (
            f"supported: among fitted runs, benchmarks with a RASP-L program extrapolate further "
            f"(difference {diff['difference']:+.2f}x, 95% CI [{lo:+.2f}, {hi:+.2f}], p = {diff['p']:.3g})"
        )
    if hi < 0 and diff["p"] < ALPHA:
        return (
            f"contradicted: among fitted runs, benchmarks without a program extrapolate further "
            f"(difference {diff['difference']:+.2f}x, 95% CI [{lo:+.2f}, {hi:+.2f}], p = {diff['p']:.3g})"
        )
    stated = f"difference {diff['difference']:+.2f}x with 95% CI [{lo:+.2f}, {hi:+.2f}] (p = {diff['p']:.3g})"
    if lo <= 0 <= hi:
        return f"inconclusive: {stated}: the interval includes zero"
    return (
        f"inconclusive: {stated}: the interval excludes zero but the permutation test does not reject "
        f"at {ALPHA:g} ({n_with} vs {n_without} fitted benchmarks)"
    )


def _fmt(v: float | None, spec: str = ".2f") -> str:
    return "-" if v is None or (isinstance(v, float) and math.isnan(v)) else format(v, spec)


def _depth_cell(b: BenchmarkRow) -> str:
    layers = "?" if b.model_layers is None else str(b.model_layers)
    if b.depth is None:
        return f"- / {layers}"
    return f"{b.depth} / {layers}" + (" ⚠ deeper than the model" if b.realizable is False else "")


# A prediction is judged per benchmark on its fitted seeds: "extrapolates"
# when every fitted seed stays solved to at least this multiple of the longest
# training length, "fails" when none does; split seeds, or fewer than two
# fitted seeds, leave it inconclusive.
EXTRAPOLATES_AT = 2.0
MIN_FITTED_SEEDS = 2


def judge_predictions(rows: list[BenchmarkRow], predictions: dict[str, str]) -> dict[str, Any]:
    """Predicted against observed outcome per benchmark, with a sign test of
    right against wrong over the benchmarks that could be judged."""
    detail, right, wrong = [], 0, 0
    by_name = {b.benchmark: b for b in rows}
    for bench, said in sorted(predictions.items()):
        row = by_name.get(bench)
        if row is None or row.fitted < MIN_FITTED_SEEDS:
            fitted = "no runs" if row is None else f"fitted {row.fitted}/{row.seeds}"
            detail.append(
                {"benchmark": bench, "predicted": said, "observed": f"inconclusive ({fitted})", "right": None}
            )
            continue
        reach = [f >= EXTRAPOLATES_AT for f in row.fitted_factors]
        if all(reach) or not any(reach):
            observed = "extrapolates" if all(reach) else "fails"
            hit = observed == said
            right, wrong = right + hit, wrong + (not hit)
        else:
            observed, hit = f"inconclusive (split {sum(reach)}/{len(reach)})", None
        detail.append({"benchmark": bench, "predicted": said, "observed": observed, "right": hit})
    return {"detail": detail, "right": right, "wrong": wrong, "p": sign_test_p(right, wrong)}


def render_predictions(judged: dict[str, Any], source: str) -> str:
    table = render_table(
        ["benchmark", "predicted (before the run)", "observed (fitted seeds)", "right"],
        [
            [
                d["benchmark"],
                d["predicted"],
                d["observed"],
                "-" if d["right"] is None else ("yes" if d["right"] else "NO"),
            ]
            for d in judged["detail"]
        ],
    )
    undecided = sum(1 for d in judged["detail"] if d["right"] is None)
    return (
        f"Predictions of {source} (observed: every fitted seed solved to >= {EXTRAPOLATES_AT:g}x the longest "
        f"training length, or none; at least {MIN_FITTED_SEEDS} fitted seeds)\n\n{table}\n\n"
        f"right {judged['right']}, wrong {judged['wrong']}, inconclusive {undecided}; "
        f"sign test p = {_fmt(judged['p'], '.3g')}"
    )


def render_conjecture(report: dict[str, Any], model: str, metric: str) -> str:
    rows = report["rows"]
    table = render_table(
        [
            "benchmark",
            "RASP-L length",
            "depth / layers",
            "fitted",
            "in-range %",
            "extrapolation (fitted seeds)",
            "censored",
        ],
        [
            [
                b.benchmark,
                "none" if b.program_length is None else b.program_length,
                _depth_cell(b),
                f"{b.fitted}/{b.seeds}",
                _fmt(None if b.in_range is None else 100 * b.in_range, ".1f"),
                "not fitted" if b.extrapolation is None else f"{b.extrapolation:.2f}",
                f"{b.censored}/{b.fitted}" if b.fitted else "-",
            ]
            for b in rows
        ],
    )
    learn = report["learnability"]
    learn_table = render_table(
        ["", "runs fitted", "benchmarks fitted (>= 1 seed)"],
        [
            [
                "has a program" if side else "no program",
                f"{learn[side]['runs_fitted']}/{learn[side]['runs']}",
                f"{learn[side]['benchmarks_fitted']}/{learn[side]['benchmarks']}",
            ]
            for side in (True, False)
        ],
    )
    lines = [
        f"RASP-Generalization Conjecture, model {model} ({metric} metric; fitted: >= {100 * FIT_THRESHOLD:.0f}% at the "
        f"longest training length; extrapolation: longest length with every length >= {100 * SOLVED_THRESHOLD:.0f}%, "
        "over the longest training length)",
        "",
        table,
        "",
        "(a) Learnability: does a small model fit the task in range at all?",
        "",
        learn_table,
        "",
        "(b) Extrapolation among fitted runs only (per benchmark: mean over its fitted seeds)",
        "",
    ]
    diff = report["difference"]
    if diff is None:
        lines.append("program vs no program: not computable (a side has no fitted benchmark)")
    else:
        ci = "no CI" if diff["ci"] is None else f"95% CI [{diff['ci'][0]:+.2f}, {diff['ci'][1]:+.2f}]"
        lines.append(
            f"program vs no program: mean difference {diff['difference']:+.2f}x, {ci} (hierarchical bootstrap), "
            f"permutation p = {_fmt(diff['p'], '.3g')}; {report['n_fitted_with']} vs {report['n_fitted_without']} "
            "fitted benchmarks"
        )
    lines.append("")
    sens_rows = []
    for name, s in report["sensitivity"].items():
        ci = "-" if s["ci"] is None else f"[{s['ci'][0]:+.2f}, {s['ci'][1]:+.2f}]"
        sens_rows.append([name, _fmt(s["rho"], "+.2f"), ci, _fmt(s["p"], ".3g"), s["n"]])
    lines += [
        "Sensitivity: Spearman rho of extrapolation against each predictor (the conjecture predicts rho < 0)",
        "",
        render_table(["predictor", "rho", "95% CI", "permutation p", "benchmarks"], sens_rows),
        "",
    ]
    pairs = report["pairs"]
    if pairs["detail"]:
        n = pairs["wins"] + pairs["losses"]
        lines.append(
            f"Matched pairs ({', '.join(f'{a} | {b}' for a, b in MATCHED_PAIRS)}), seeds where both fitted: "
            f"program twin longer {pairs['wins']}, shorter {pairs['losses']}, ties {pairs['ties']}; "
            f"sign test p = {_fmt(pairs['p'], '.3g')} over {n} untied pairs"
        )
        skipped = sum(1 for d in pairs["detail"] if d["outcome"] == "not both fitted")
        if skipped:
            lines.append(f"  ({skipped} pair x seed combinations skipped: not both fitted)")
        lines.append("")
    if report.get("unrealizable"):
        lines.append(
            "Left out of the comparison (the program needs more attention layers than the model has): "
            + ", ".join(report["unrealizable"])
        )
    lines.append(f"Verdict: {report['verdict']}")
    return "\n".join(lines)


def report_json(report: dict[str, Any]) -> dict[str, Any]:
    out = {k: v for k, v in report.items() if k != "rows"}
    out["learnability"] = {("program" if k else "no_program"): v for k, v in report["learnability"].items()}
    out["rows"] = [{**b.__dict__, "extrapolation": b.extrapolation, "realizable": b.realizable} for b in report["rows"]]
    return out
