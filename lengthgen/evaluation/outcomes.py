"""What one run's per-length rows say: fit in range, extrapolation, retention.

Every reader (run output, leaderboard, conjecture, plots) derives these
from the stored rows with the same functions, so a number means the same
thing everywhere.  Rows are result rows: ``length``, ``in_train_range``,
``exact``, ``token`` (and optionally ``test``).

>>> rows = [{"length": n, "in_train_range": n <= 10, "exact": e, "token": e}
...         for n, e in [(5, 1.0), (10, 0.97), (15, 0.93), (20, 0.4)]]
>>> fit_block(rows, "exact", 10)["fitted"]
True
>>> extrapolation(rows, 10, "exact")
{'length': 15, 'factor': 1.5, 'censored': False}
>>> format_extrapolation(extrapolation(rows[:3], 10, "exact"))
'≥ 1.50'
"""

from __future__ import annotations

from typing import Any

from lengthgen.errors import LengthgenError
from lengthgen.evaluation.thresholds import FIT_THRESHOLD, SOLVED_THRESHOLD


def check_longest_training_length(train_lengths: list[int]) -> None:
    """Multiples of the training range (1.25x, 2x) and retention are taken
    of its longest length, so training on length 0 alone (c-pvr's zero
    hops) gives no scale to measure extrapolation against."""
    if max(train_lengths) < 1:
        raise LengthgenError("the longest training length must be at least 1 (length 0 alone has no multiples)")


def fit_lengths(train_lengths: list[int]) -> list[int]:
    """Training lengths evaluated after training: all of them for short
    ranges, else the shortest, the quartiles, the middle and the longest."""
    ls = sorted(set(train_lengths))
    if len(ls) <= 5:
        return ls
    last = len(ls) - 1
    return sorted({ls[0], ls[last // 4], ls[last // 2], ls[(3 * last) // 4], ls[last]})


def in_range_rows(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rows inside the training range on the training distribution (rows
    evaluated with held-out parameters, e.g. unseen symbols, do not count)."""
    return sorted((r for r in rows if r["in_train_range"] and not r.get("heldout")), key=lambda r: r["length"])


def beyond_rows(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Test rows beyond the training range (for benchmarks tested only inside
    it, e.g. held-out symbols at fixed length: every test row)."""
    beyond = [r for r in rows if r.get("test", True) and not r["in_train_range"]]
    return sorted(beyond or [r for r in rows if r.get("test", True)] or rows, key=lambda r: r["length"])


def fit_block(rows: list[dict[str, Any]], metric: str, train_max: int) -> dict[str, Any]:
    """Fit in range: both metrics at the longest training length and averaged
    over the evaluated training lengths; ``fitted`` by the benchmark's metric
    at the longest training length.  ``fitted`` is None when no in-range row
    was evaluated."""
    inside = in_range_rows(rows)
    if not inside:
        return {"metric": metric, "threshold": FIT_THRESHOLD, "longest": None, "range_mean": None, "fitted": None}
    longest = next((r for r in inside if r["length"] == train_max), inside[-1])
    return {
        "metric": metric,
        "threshold": FIT_THRESHOLD,
        "longest": {"length": longest["length"], "exact": longest["exact"], "token": longest["token"]},
        "range_mean": {
            "exact": sum(r["exact"] for r in inside) / len(inside),
            "token": sum(r["token"] for r in inside) / len(inside),
            "lengths": [r["length"] for r in inside],
        },
        "fitted": longest[metric] >= FIT_THRESHOLD,
    }


def extrapolation(rows: list[dict[str, Any]], train_max: int, metric: str) -> dict[str, Any]:
    """The longest length L such that every evaluated length from the longest
    training length up to L is solved, as L and L / train_max.  ``censored``
    when L is the longest length evaluated (the truth is "at least").
    ``length`` is None when the longest training length itself is not solved."""
    scan = sorted(
        (r for r in rows if r["length"] >= train_max and (r["length"] > train_max or not r.get("heldout"))),
        key=lambda r: r["length"],
    )
    best = None
    for row in scan:
        if row[metric] < SOLVED_THRESHOLD:
            break
        best = row["length"]
    if best is None:
        return {"length": None, "factor": 0.0, "censored": False}
    return {"length": best, "factor": best / train_max, "censored": best == scan[-1]["length"]}


def format_extrapolation(ext: dict[str, Any], fitted: bool | None = True) -> str:
    if fitted is False:
        return "not fitted"
    if ext["length"] is None:
        return "< 1.00"
    return f"{'≥ ' if ext['censored'] else ''}{ext['factor']:.2f}"


def retention(rows: list[dict[str, Any]], train_max: int, metric: str) -> dict[str, float | None]:
    """acc(kL) / acc(L) for every evaluated length kL beyond L = train_max,
    keyed by k rounded to 2 decimals (None where acc(L) is 0)."""
    base = next((r[metric] for r in in_range_rows(rows) if r["length"] == train_max), None)
    out: dict[str, float | None] = {}
    for r in sorted(rows, key=lambda r: r["length"]):
        if r["length"] > train_max:
            out[f"{r['length'] / train_max:.2f}"] = r[metric] / base if base else None
    return out


def at_multiple(rows: list[dict[str, Any]], train_max: int, multiple: float = 2.0) -> dict[str, Any]:
    """The beyond-range row closest to ``multiple`` x train_max (ties: the longer)."""
    target = multiple * train_max
    return min(beyond_rows(rows), key=lambda r: (abs(r["length"] - target), -r["length"]))


def outcome_block(rows: list[dict[str, Any]], metric: str, train_max: int) -> dict[str, Any]:
    """Everything a reader needs about one run, under the benchmark's metric."""
    fit = fit_block(rows, metric, train_max)
    beyond = beyond_rows(rows)
    twice = at_multiple(rows, train_max)
    ext = extrapolation(rows, train_max, metric)
    return {
        "metric": metric,
        "fit": fit,
        "beyond_mean": sum(r[metric] for r in beyond) / len(beyond),
        "beyond_lengths": [r["length"] for r in beyond],
        "at_2x": {"length": twice["length"], "value": twice[metric], "solved": twice[metric] >= SOLVED_THRESHOLD},
        "extrapolation": ext,
        "retention": retention(rows, train_max, metric),
    }
