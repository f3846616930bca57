"""Two arms of a sweep compared pair by pair: fit rate, extrapolation, time to fit.

``lengthgen time-to-fit FOLDER --compare OPTION`` reads a sweep whose
``vary`` gives ``OPTION`` exactly two values (for example ``pack_examples:
[false, true]``) and pairs the runs that differ in that option only (same
benchmark, model column and seed).  Three tests, the ones the padding-free
study registered before its cells:

- **fit rate**: fitted runs per arm, two-sided Fisher exact test;
- **extrapolation**: over pairs fitted in both arms, the difference (second
  arm minus first) of exact match averaged over the test lengths beyond the
  training range, with a percentile bootstrap interval over pairs;
  "indistinguishable" when the interval lies within +-``margin``;
- **speed**: over the same pairs, the median of first-arm CPU-seconds over
  second-arm CPU-seconds (a ratio above 1: the second arm fits sooner), with
  a bootstrap interval of the median.

Exact match is read whatever the benchmark's declared metric, since the
question is whether the same models come out; fit is the declared metric's
gate, as everywhere else.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

import numpy as np

from lengthgen.errors import LengthgenError
from lengthgen.reporting.loading import column_of
from lengthgen.reporting.runs import RunSummary, summarize_runs
from lengthgen.tables import render_table


def fisher_exact_two_sided(a: int, b: int, c: int, d: int) -> float:
    """Two-sided Fisher exact p of the 2x2 table [[a, b], [c, d]]: the
    probability, with the margins fixed, of every table no more likely than
    the observed one.

    >>> round(fisher_exact_two_sided(3, 1, 1, 3), 4)
    0.4857
    >>> fisher_exact_two_sided(5, 0, 5, 0)
    1.0
    """
    if min(a, b, c, d) < 0:
        raise LengthgenError(f"Fisher exact test: counts must be >= 0, got {[a, b, c, d]}")
    row1, col1, n = a + b, a + c, a + b + c + d

    def prob(x: int) -> float:
        return math.comb(col1, x) * math.comb(n - col1, row1 - x) / math.comb(n, row1)

    observed = prob(a)
    lo, hi = max(0, row1 + col1 - n), min(row1, col1)
    # the relative tolerance keeps tables exactly as likely as the observed one from being lost to rounding
    p = sum(prob(x) for x in range(lo, hi + 1) if prob(x) <= observed * (1 + 1e-9))
    return min(1.0, p)


def option_value(result: dict[str, Any], option: str) -> str | None:
    """The value a sweep's ``vary`` gave ``option`` in this run (from the
    recorded variant, e.g. ``"pack_examples=True,d_model=64"``)."""
    for key, value in variant_parts(result):
        if key == option:
            return value
    return None


def variant_parts(result: dict[str, Any]) -> list[tuple[str, str]]:
    variant = result["config"].get("variant") or ""
    return [(k.strip(), v.strip()) for k, _, v in (part.partition("=") for part in variant.split(",") if part.strip())]


def without_option(result: dict[str, Any], option: str) -> str:
    """The model column the run would have had without the compared option."""
    rest = ",".join(f"{k}={v}" for k, v in variant_parts(result) if k != option)
    # load_arms names by folder two different cells of one value and seed; without
    # the name they share a key, which pair_runs refuses rather than pair either
    return column_of({**result, "_arm": None, "config": {**result["config"], "variant": rest}})


def exact_beyond(run: RunSummary) -> float:
    return run.beyond_mean if run.metric == "exact" else run.other["beyond_mean"]


def bootstrap_interval(
    values: np.ndarray, statistic, rng: np.random.Generator, n_boot: int = 10_000
) -> tuple[float, float]:
    """95% percentile interval of ``statistic`` over resamples of ``values``."""
    picks = rng.integers(0, len(values), size=(n_boot, len(values)))
    stats = np.array([statistic(values[p]) for p in picks])
    return float(np.quantile(stats, 0.025)), float(np.quantile(stats, 0.975))


@dataclass
class Pair:
    benchmark: str
    column: str  # the model column with the compared option taken out
    seed: int
    first: RunSummary
    second: RunSummary


def pair_runs(results: list[dict[str, Any]], option: str) -> tuple[list[str], list[Pair], dict[str, list[RunSummary]]]:
    """The option's two values (sorted), the runs paired across them, and each value's runs."""
    by_value: dict[str, list[RunSummary]] = defaultdict(list)
    for run in summarize_runs(results):
        value = option_value(run.result, option)
        if value is not None:
            by_value[value].append(run)
    values = sorted(by_value)
    if len(values) != 2:
        found = ", ".join(values) if values else "none"
        raise LengthgenError(f"--compare {option}: expected runs with exactly two values of it, found {found}")

    def key(run: RunSummary) -> tuple[str, str, int]:
        return run.benchmark, without_option(run.result, option), run.seed

    def by_key(runs: list[RunSummary], value: str) -> dict[tuple[str, str, int], RunSummary]:
        keyed: dict[tuple[str, str, int], RunSummary] = {}
        for run in runs:
            other = keyed.setdefault(key(run), run)
            if other is not run:
                # two arms with the same value of the option would be paired at random
                raise LengthgenError(
                    f"--compare {option}: two runs of {run.benchmark} seed {run.seed} with {option}={value} "
                    f"({other.column}; {run.column}); compare two arms at a time"
                )
        return keyed

    first, second = by_key(by_value[values[0]], values[0]), by_key(by_value[values[1]], values[1])
    pairs = [Pair(*k, first[k], second[k]) for k in sorted(first.keys() & second.keys())]
    return values, pairs, by_value


def compare_arms(
    results: list[dict[str, Any]], option: str, margin: float = 0.10, n_boot: int = 10_000, seed: int = 0
) -> dict[str, Any]:
    values, pairs, arm_runs = pair_runs(results, option)
    rng = np.random.default_rng(seed)
    fitted = {v: sum(bool(r.fitted) for r in arm_runs[v]) for v in values}
    total = {v: len(arm_runs[v]) for v in values}
    a, c = fitted[values[0]], fitted[values[1]]
    fisher = fisher_exact_two_sided(a, total[values[0]] - a, c, total[values[1]] - c)
    both = [p for p in pairs if p.first.fitted and p.second.fitted]
    report: dict[str, Any] = {
        "option": option,
        "values": values,
        "runs": total,
        "fitted": fitted,
        "fisher_p": fisher,
        "pairs": len(pairs),
        "pairs_fitted_both": len(both),
        "margin": margin,
        "rows": [
            {
                "benchmark": p.benchmark,
                "seed": p.seed,
                "fitted": (bool(p.first.fitted), bool(p.second.fitted)),
                "exact_beyond": (exact_beyond(p.first), exact_beyond(p.second)),
                "cpu_s": (p.first.cpu_seconds, p.second.cpu_seconds),
                "steps": (p.first.steps, p.second.steps),
            }
            for p in pairs
        ],
    }
    if both:
        diffs = np.array([exact_beyond(p.second) - exact_beyond(p.first) for p in both])
        interval = bootstrap_interval(diffs, np.mean, rng, n_boot)
        report["extrapolation"] = {
            "mean_difference": float(diffs.mean()),
            "interval": interval,
            "indistinguishable": -margin <= interval[0] and interval[1] <= margin,
        }
        timed = [p for p in both if p.first.cpu_seconds and p.second.cpu_seconds]
        if timed:
            ratios = np.array([p.first.cpu_seconds / p.second.cpu_seconds for p in timed])
            report["speed"] = {
                "median_ratio": float(np.median(ratios)),
                "interval": bootstrap_interval(ratios, np.median, rng, n_boot),
                "pairs": len(timed),
            }
    return report


def render_arms(report: dict[str, Any], fmt: str = "github") -> str:
    first, second = report["values"]
    opt = report["option"]
    head = [
        "benchmark",
        "seed",
        f"fitted {first} / {second}",
        f"exact beyond % {first} / {second}",
        f"CPU-s {first} / {second}",
        f"steps {first} / {second}",
    ]

    def cpu(v):
        return "-" if v is None else f"{v:.0f}"

    rows = [
        [
            r["benchmark"],
            str(r["seed"]),
            " / ".join("yes" if f else "no" for f in r["fitted"]),
            " / ".join(f"{100 * x:.1f}" for x in r["exact_beyond"]),
            " / ".join(cpu(v) for v in r["cpu_s"]),
            " / ".join(str(s) for s in r["steps"]),
        ]
        for r in report["rows"]
    ]
    lines = [render_table(head, rows, fmt), ""]
    fitted, runs = report["fitted"], report["runs"]
    verdict = "indistinguishable" if report["fisher_p"] > 0.05 else "different"
    lines.append(
        f"Fit rate ({opt}): {first} {fitted[first]}/{runs[first]}, {second} {fitted[second]}/{runs[second]}; "
        f"two-sided Fisher exact p = {report['fisher_p']:.3f} ({verdict} at 0.05)."
    )
    ext = report.get("extrapolation")
    if ext is None:
        lines.append("Extrapolation and speed: no pair fitted in both arms.")
        return "\n".join(lines)
    lo, hi = ext["interval"]
    verdict = "indistinguishable" if ext["indistinguishable"] else "not shown indistinguishable"
    lines.append(
        f"Extrapolation, {report['pairs_fitted_both']} pairs fitted in both: exact beyond the range, "
        f"{second} - {first} = {100 * ext['mean_difference']:+.1f} points, 95% bootstrap interval "
        f"[{100 * lo:+.1f}, {100 * hi:+.1f}] ({verdict}: the interval within +-{100 * report['margin']:.0f})."
    )
    speed = report.get("speed")
    if speed is not None:
        lo, hi = speed["interval"]
        lines.append(
            f"Time to fit: median CPU-s {first} / {second} = {speed['median_ratio']:.2f}x over "
            f"{speed['pairs']} pairs, 95% bootstrap interval of the median [{lo:.2f}, {hi:.2f}]x."
        )
    return "\n".join(lines)
