"""Does adaptive depth spend more steps on harder inputs?  The slope of the
mean ACT steps against the length (hops, for c-pvr), per run, with a
bootstrap interval over seeds, and a verdict that can be "inconclusive".

A run's slope is the least-squares slope of ``mean_steps`` on the length
over all its evaluated lengths (inside and beyond the training range).
Seeds are the unit of replication: the interval resamples runs of one
model, not lengths within a run.
"""

from __future__ import annotations

import statistics
from typing import Any

import numpy as np

from lengthgen.reporting.curves import mean_ci
from lengthgen.reporting.loading import benchmark_of, column_of


def steps_slope(rows: list[dict[str, Any]]) -> float | None:
    """Least-squares slope of mean ACT steps on length; None without two lengths.

    >>> round(steps_slope([{"length": 1, "mean_steps": 2.0}, {"length": 3, "mean_steps": 3.0}]), 6)
    0.5
    """
    points = [(r["length"], r["mean_steps"]) for r in rows if isinstance(r.get("mean_steps"), (int, float))]
    if len({x for x, _ in points}) < 2:
        return None
    x, y = np.array(points, dtype=float).T
    return float(np.polyfit(x, y, 1)[0])


FLAT_MARGIN = 0.05  # steps per unit length: an interval inside +-this is "flat", not "inconclusive"


def _fitted(result: dict[str, Any]) -> bool:
    """Fit in range as the run recorded it, or as the leaderboard derives it for older files."""
    recorded = (result.get("fit") or {}).get("fitted")
    if recorded is not None:
        return bool(recorded)
    from lengthgen.reporting.runs import summarize_run

    return bool(summarize_run(result).fitted)


def depth_report(
    results: list[dict[str, Any]], n_boot: int = 2000, seed: int = 0, flat_margin: float = FLAT_MARGIN
) -> dict[str, dict[str, Any]]:
    """Per model column: each seed's slope and whether the seed fitted its
    training range; over the fitted seeds, their mean, a 95% bootstrap
    interval and the verdict: more steps for longer inputs, fewer, flat (the
    interval inside +-``flat_margin``), or inconclusive.  A model that has
    not learned the task spends steps on nothing in particular, so fewer
    than two fitted seeds is always inconclusive."""
    runs: dict[str, list[tuple[float, bool]]] = {}
    for result in results:
        if (result["config"].get("model_options") or {}).get("act") is False:
            continue  # every step at every position: a constant, not a halting decision
        slope = steps_slope(result["results"])
        if slope is not None:
            runs.setdefault(column_of(result), []).append((slope, _fitted(result)))
    rng = np.random.default_rng(seed)
    report = {}
    for column, pairs in sorted(runs.items()):
        values = [v for v, fit in pairs if fit]
        mean = statistics.fmean(values) if values else None
        ci = None
        if len(values) < 2:
            verdict = f"inconclusive ({len(values)} of {len(pairs)} seeds fitted in range)"
        else:
            boot = [float(np.mean(rng.choice(values, len(values)))) for _ in range(n_boot)]
            ci = (float(np.percentile(boot, 2.5)), float(np.percentile(boot, 97.5)))
            if ci[0] > 0:
                verdict = "more steps for longer inputs"
            elif ci[1] < 0:
                verdict = "fewer steps for longer inputs"
            elif -flat_margin < ci[0] and ci[1] < flat_margin:
                verdict = f"flat (within +-{flat_margin} steps per unit length)"
            else:
                verdict = "inconclusive (the interval includes 0)"
        report[column] = {
            "slopes": [v for v, _ in pairs],
            "fitted": [fit for _, fit in pairs],
            "mean": mean,
            "ci": ci,
            "verdict": verdict,
        }
    return report


def slope_table(report: dict[str, dict[str, Any]], first: str = "model") -> tuple[list[str], list[list[str]]]:
    """Headers and rows of a :func:`depth_report`: per column the fitted
    seeds, each seed's slope (* where it did not fit), their mean, interval
    and verdict.

    >>> report = {"ut": {"slopes": [0.1, -0.2], "fitted": [True, False], "mean": 0.1, "ci": None, "verdict": "v"}}
    >>> slope_table(report)[1]
    [['ut', '1/2', '+0.100, -0.200*', '+0.100', '-', 'v']]
    """
    rows = []
    for column, entry in report.items():
        ci = "-" if entry["ci"] is None else f"[{entry['ci'][0]:+.3f}, {entry['ci'][1]:+.3f}]"
        slopes = ", ".join(f"{s:+.3f}" + ("" if fit else "*") for s, fit in zip(entry["slopes"], entry["fitted"]))
        mean = "-" if entry["mean"] is None else f"{entry['mean']:+.3f}"
        fitted = f"{sum(entry['fitted'])}/{len(entry['fitted'])}"
        rows.append([column, fitted, slopes, mean, ci, entry["verdict"]])
    return [first, "fitted", "slope per seed (* not fitted)", "mean (fitted)", "95% CI", "verdict"], rows


def per_length(results: list[dict[str, Any]], metric: str = "exact") -> dict[tuple[str, str], list[dict[str, Any]]]:
    """Per (benchmark, model column), one row per evaluated length: the metric's mean over
    every seed, fitted or not, with a 95% interval (t over seeds, never
    narrower than Wilson over the pooled examples), beside its mean over the
    fitted seeds only (a selection: both are shown so that neither is read
    alone); the seeds fitted in range; the mean ACT steps where the model has
    them, with a t interval over seeds; the row's chance and best cheap
    predictor.

    >>> base = {"chance": {"exact": 0.1}, "all": {"majority": {"exact": 0.2}}}
    >>> rows = [{"length": 2, "n": 100, "exact": 0.5, "mean_steps": 2.0, "baseline": base}]
    >>> runs = [{"seed": 0, "config": {"task": "c-pvr", "model": "ut"}, "results": rows, "fit": {"fitted": True}}]
    >>> unfitted = [{"length": 2, "n": 100, "exact": 0.1, "mean_steps": 3.0, "baseline": base}]
    >>> runs.append({"seed": 1, "config": {"task": "c-pvr", "model": "ut"}, "results": unfitted, "fit": {"fitted": False}})
    >>> table = per_length(runs)
    >>> [(r["length"], round(r["mean"], 2), r["mean_fitted"], r["seeds"], r["fitted"], r["steps"]) for r in table["c-pvr", "ut"]]
    [(2, 0.3, 0.5, 2, 1, 2.5)]
    >>> table["c-pvr", "ut"][0]["chance"], table["c-pvr", "ut"][0]["baseline"]
    (0.1, ('majority', 0.2))
    """
    from lengthgen.reporting.leaderboard import interval_over_seeds
    from lengthgen.reporting.runs import latest_per_seed, row_baseline

    cells: dict[tuple[str, str], dict[int, dict[str, Any]]] = {}
    fitted: dict[tuple[str, str], int] = {}
    for result in latest_per_seed(results):
        key = (benchmark_of(result), column_of(result))
        fitted[key] = fitted.get(key, 0) + _fitted(result)
        tested = {r["length"] for r in result["results"] if r.get("test", True)}
        for row in result["results"]:
            if not isinstance(row.get(metric), (int, float)):
                continue
            if not row.get("test", True) and row["length"] in tested:
                continue  # a held-out benchmark's training-symbol row at a tested length: the test row speaks
            cell = cells.setdefault(key, {}).setdefault(
                row["length"], {"values": [], "fitted_values": [], "n": 0, "steps": [], "baseline": None}
            )
            cell["values"].append(float(row[metric]))
            if _fitted(result):
                cell["fitted_values"].append(float(row[metric]))
            cell["n"] += int(row.get("n", 0))
            if isinstance(row.get("mean_steps"), (int, float)):
                cell["steps"].append(float(row["mean_steps"]))
            if cell["baseline"] is None:
                cell["baseline"] = row_baseline(result, row, metric)
    table: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for key, by_length in sorted(cells.items()):
        for length, cell in sorted(by_length.items()):
            mean, lo, hi = interval_over_seeds(cell["values"], cell["n"])
            base = cell["baseline"]
            table.setdefault(key, []).append(
                {
                    "length": length,
                    "mean": mean,
                    "ci": (lo, hi),
                    "seeds": len(cell["values"]),
                    "mean_fitted": statistics.fmean(cell["fitted_values"]) if cell["fitted_values"] else None,
                    "fitted": fitted[key],  # seeds of this column that fitted their training range
                    "steps": statistics.fmean(cell["steps"]) if cell["steps"] else None,
                    "steps_ci": _t_interval(cell["steps"]),
                    "chance": None if base is None else base[0],
                    "baseline": None if base is None else (base[1], base[2]),
                }
            )
    return table


def _t_interval(values: list[float]) -> tuple[float, float] | None:
    """95% t interval of a mean over seeds; None with fewer than two."""
    if len(values) < 2:
        return None
    mean, half = mean_ci(values)
    return mean - half, mean + half


def depth_tables(results: list[dict[str, Any]], bootstrap: int = 2000, metric: str = "exact") -> str:
    """The ACT slope table, then accuracy and steps per length beside the
    fit, chance and best cheap predictor that a slope means something next to."""
    from lengthgen.tables import render_table

    head, rows = slope_table(depth_report(results, bootstrap))
    parts = [render_table(head, rows, "github") if rows else "no run with ACT steps in these folders", ""]
    rows = []
    for (bench, column), table in per_length(results, metric).items():
        for row in table:
            base = "-" if row["baseline"] is None else f"{100 * row['baseline'][1]:.1f} ({row['baseline'][0]})"
            steps = "-" if row["steps"] is None else f"{row['steps']:.2f}"
            if row["steps_ci"] is not None:
                steps += f" [{row['steps_ci'][0]:.2f}, {row['steps_ci'][1]:.2f}]"
            rows.append(
                [
                    bench,
                    column,
                    f"{row['fitted']}/{row['seeds']}",
                    row["length"],
                    f"{100 * row['mean']:.1f} [{100 * row['ci'][0]:.1f}, {100 * row['ci'][1]:.1f}]",
                    "-" if row["mean_fitted"] is None else f"{100 * row['mean_fitted']:.1f}",
                    row["seeds"],
                    steps,
                    "-" if row["chance"] is None else f"{100 * row['chance']:.1f}",
                    base,
                ]
            )
    head = ["benchmark", "model", "fitted", "length", f"{metric} % all seeds [95% CI]", "fitted seeds %"]
    head += ["seeds", "steps [95% CI]", "chance %"]
    parts.append(render_table(head + ["best baseline %"], rows, "github"))
    return "\n".join(parts)
