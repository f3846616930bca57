"""One summary per run, shared by the leaderboard, the conjecture test and
the plots: the benchmark's declared metric, fit in range, the outcome
beyond it, chance and the best cheap baseline, and the compute spent."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from lengthgen.config import max_length_of
from lengthgen.errors import LengthgenError
from lengthgen.evaluation.baselines import baselines_for_result_row, best_baseline
from lengthgen.evaluation.outcomes import at_multiple, beyond_rows, extrapolation, fit_block, retention
from lengthgen.evaluation.thresholds import FIT_THRESHOLD, SHORTCUT_MARGIN, SOLVED_THRESHOLD
from lengthgen.reporting.loading import benchmark_of, column_of
from lengthgen.tasks import TASKS

METRICS = ("exact", "token")


def train_max(result: dict[str, Any]) -> int:
    top = max_length_of(result["config"].get("train_lengths"))
    if top:
        return top
    inside = [r["length"] for r in result["results"] if r["in_train_range"]]
    return max(inside) if inside else max(1, min(r["length"] for r in result["results"]) - 1)


def declared_metric(result: dict[str, Any]) -> str:
    metric = result.get("metric") or result["config"].get("metric") or "exact"
    return metric if metric in METRICS else "exact"


@dataclass
class RunSummary:
    result: dict[str, Any] = field(repr=False)
    benchmark: str
    column: str
    seed: int
    metric: str
    train_max: int
    fitted: bool | None
    in_range: float | None  # the metric at the longest training length
    range_mean: float | None
    beyond_mean: float
    beyond_examples: int
    beyond_lengths: list[int]
    solved_at_2x: bool
    length_2x: int
    extrapolation: dict[str, Any]
    retention: dict[str, float | None]
    chance: float | None
    baseline: tuple[str, float] | None
    other: dict[str, float] = field(default_factory=dict)  # the other metric: in range and beyond

    @property
    def shortcut(self) -> bool:
        return (
            self.baseline is not None and self.chance is not None and self.baseline[1] - self.chance > SHORTCUT_MARGIN
        )

    @property
    def parameters(self) -> int | None:
        return self.result.get("model", {}).get("parameters")

    @property
    def attention_layers(self) -> int | None:
        """Attention layers a token passes through: a transformer's layers,
        a Universal Transformer's most steps; None when unknown (an LSTM,
        a plugin model)."""
        options = self.result.get("model", {}).get("options") or self.result["config"].get("model_options") or {}
        for key in ("n_layers", "max_steps"):
            if isinstance(options.get(key), int):
                return options[key]
        return None

    @property
    def cpu_seconds(self) -> float | None:
        return (self.result.get("wall_time_s") or {}).get("train_cpu")

    @property
    def wall_seconds(self) -> float | None:
        return (self.result.get("wall_time_s") or {}).get("train")

    @property
    def flops(self) -> float | None:
        return (self.result.get("compute") or {}).get("train_flops")

    @property
    def steps(self) -> int | None:
        return (self.result.get("training") or {}).get("steps")


# older result files carry no baselines: they are recomputed on fresh examples, within these bounds
RECOMPUTE_EXAMPLES = 2_000
RECOMPUTE_MAX_LENGTH = 100_000


def row_baseline(result: dict[str, Any], row: dict[str, Any], metric: str) -> tuple[float, str, float] | None:
    """(chance, best predictor, its score) at one row: stored by the run, or
    recomputed for older result files (on fresh examples of the same size)."""
    stored = row.get("baseline")
    if isinstance(stored, dict) and "all" in stored:
        name, value = best_baseline({"baselines": stored["all"]}, metric)
        return stored["chance"][metric], name, value
    task = result.get("task") or {}
    name = task.get("name") or result["config"].get("task")
    params = dict(task.get("params") or {})
    version = task.get("version", 1)
    if name in TASKS and version != TASKS.get(name).version:
        legacy = TASKS.get(name).legacy_params.get(version)
        if legacy is None:
            return None  # the generator changed since this run: today's baselines would not be its baselines
        params.update(legacy)
    if row.get("test", not row["in_train_range"]):
        params.update(task.get("test_params") or {})
    try:
        # bounded work whatever the file says: at most RECOMPUTE_EXAMPLES fresh examples, at lengths a run could evaluate
        if row["length"] > RECOMPUTE_MAX_LENGTH:
            return None
        n = min(int(row.get("n") or 200), RECOMPUTE_EXAMPLES)
        entry = baselines_for_result_row(name, params, row["length"], n, 0, 256)
    except (LengthgenError, TypeError, ValueError, KeyError):
        return None
    best, value = best_baseline(entry, metric)
    return entry["chance"][metric], best, value


def probe_fit(result: dict[str, Any], metric: str) -> dict[str, Any] | None:
    """Fit from the training curve's last probe (teacher-forced exact match
    over the training range, which equals greedy exact match) for result
    files without an in-range evaluation on the training distribution."""
    curve = (result.get("training") or {}).get("curve") or []
    value = curve[-1].get("train_exact") if curve and isinstance(curve[-1], dict) else None
    if not isinstance(value, (int, float)) or isinstance(value, bool) or metric != "exact":
        return None
    point = {"length": None, "exact": float(value), "token": float(value)}
    return {
        "metric": metric,
        "longest": point,
        "range_mean": point,
        "fitted": value >= FIT_THRESHOLD,
        "source": "probe",
    }


def summarize_run(result: dict[str, Any], metric: str | None = None) -> RunSummary:
    metric = metric or declared_metric(result)
    other_metric = "token" if metric == "exact" else "exact"
    rows = result["results"]
    top = train_max(result)
    if (result.get("task") or {}).get("test_params") and not any("heldout" in r for r in rows):
        # written before training rows were kept apart: every row used the
        # held-out parameters, so none of them measures fit
        rows = [dict(r, heldout=True) for r in rows]
    fit = fit_block(rows, metric, top)
    if fit["fitted"] is None:
        fit = probe_fit(result, metric) or fit
    beyond = beyond_rows(rows)
    twice = at_multiple(rows, top)
    baselines = [b for b in (row_baseline(result, r, metric) for r in beyond) if b is not None]
    worst = max(baselines, key=lambda b: b[2] - b[0]) if baselines else None
    other_fit = fit_block(rows, other_metric, top)
    if other_fit["fitted"] is None:
        other_fit = probe_fit(result, other_metric) or other_fit
    return RunSummary(
        result=result,
        benchmark=benchmark_of(result),
        column=column_of(result),
        seed=result["seed"],
        metric=metric,
        train_max=top,
        fitted=fit["fitted"],
        in_range=fit["longest"][metric] if fit["longest"] else None,
        range_mean=fit["range_mean"][metric] if fit["range_mean"] else None,
        beyond_mean=sum(r[metric] for r in beyond) / len(beyond),
        beyond_examples=sum(int(r.get("n") or 0) for r in beyond),
        beyond_lengths=[r["length"] for r in beyond],
        solved_at_2x=twice[metric] >= SOLVED_THRESHOLD,
        length_2x=twice["length"],
        extrapolation=extrapolation(rows, top, metric),
        retention=retention(rows, top, metric),
        chance=worst[0] if worst else None,
        baseline=(worst[1], worst[2]) if worst else None,
        other={
            "metric": other_metric,
            "in_range": other_fit["longest"][other_metric] if other_fit["longest"] else None,
            "beyond_mean": sum(r[other_metric] for r in beyond) / len(beyond),
        },
    )


def latest_per_seed(results: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One result per (benchmark, model column, seed): a rerun of a seed replaces the older file."""
    chosen: dict[tuple[str, str, int], dict[str, Any]] = {}
    for result in results:
        key = (benchmark_of(result), column_of(result), result["seed"])
        previous = chosen.get(key)
        if previous is None or str(result.get("created", "")) >= str(previous.get("created", "")):
            chosen[key] = result
    return [chosen[k] for k in sorted(chosen)]


def summarize_runs(results: list[dict[str, Any]], metric: str | None = None) -> list[RunSummary]:
    """Summaries of the latest result per seed, under each benchmark's
    declared metric (or ``metric`` for all when given)."""
    if metric is not None and metric not in METRICS:
        raise LengthgenError(f"metric must be one of {', '.join(METRICS)}, got {metric!r}")
    return [summarize_run(r, metric) for r in latest_per_seed(results)]
