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

from lengthgen.reporting.loading import column_of


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


def depth_report(
    results: list[dict[str, Any]], n_boot: int = 2000, seed: int = 0, flat_margin: float = FLAT_MARGIN
) -> dict[str, dict[str, Any]]:
    """Per model column: each seed's slope, their mean, a 95% bootstrap
    interval and the verdict: more steps for longer inputs, fewer, flat
    (the interval inside +-``flat_margin``), or inconclusive (a single
    seed always is)."""
    slopes: dict[str, list[float]] = {}
    for result in results:
        slope = steps_slope(result["results"])
        if slope is not None:
            slopes.setdefault(column_of(result), []).append(slope)
    rng = np.random.default_rng(seed)
    report = {}
    for column, values in sorted(slopes.items()):
        mean = statistics.fmean(values)
        if len(values) < 2:
            ci, verdict = None, "inconclusive (one seed)"
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
        report[column] = {"slopes": values, "mean": mean, "ci": ci, "verdict": verdict}
    return report
