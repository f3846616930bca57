"""Leaderboards: one row per benchmark and model column (model, encoding,
variant), grouped by family, every accuracy next to what makes it mean
something: chance and the best cheap baseline, the fit inside the training
range, and the compute spent.

Each benchmark is scored by the metric it declares (``--metric`` overrides
it for every row); the other metric stays in the csv and json outputs.
"""

from __future__ import annotations

import json
import math
import statistics
from dataclasses import dataclass, field
from typing import Any

from lengthgen.errors import LengthgenError
from lengthgen.evaluation.metrics import wilson_interval
from lengthgen.evaluation.outcomes import format_extrapolation
from lengthgen.evaluation.tdist import t_quantile
from lengthgen.evaluation.thresholds import FIT_THRESHOLD, SHORTCUT_MARGIN, SOLVED_THRESHOLD
from lengthgen.reporting.runs import RunSummary, summarize_runs, train_max  # noqa: F401  (train_max re-exported)
from lengthgen.tables import render_table

FORMATS = ("github", "latex", "csv", "json")
METRIC_CHOICES = ("declared", "exact", "token")

GROUP_ORDER = (
    "RASP-L, with a program",
    "RASP-L, no program",
    "Chomsky: regular",
    "Chomsky: context-free",
    "Chomsky: context-sensitive",
    "pointer value retrieval",
    "abstract symbols",
    "other",
)


def mean_ci(runs: list[RunSummary]) -> tuple[float, float, float]:
    """Mean beyond-range accuracy over seeds with a 95% interval: Student t
    over seeds for two or more, Wilson over the pooled examples for one."""
    return interval_over_seeds([r.beyond_mean for r in runs], sum(r.beyond_examples for r in runs))


def interval_over_seeds(values: list[float], examples: int) -> tuple[float, float, float]:
    """Mean of per-seed accuracies and its 95% interval: t over seeds, never
    narrower than Wilson over the ``examples`` pooled from them.

    >>> [round(v, 3) for v in interval_over_seeds([1.0, 1.0, 1.0], 900)]
    [1.0, 0.996, 1.0]
    """
    mean = statistics.fmean(values)
    # sampling error of the evaluation itself: Wilson over the pooled examples
    n = max(1, examples)
    w_lo, w_hi = wilson_interval(min(n, max(0, round(mean * n))), n)
    # (Wilson's bound at 100% comes out as 0.9999999999999999: the interval always holds its mean)
    w_lo, w_hi = min(w_lo, mean), max(w_hi, mean)
    if len(values) == 1:
        return mean, w_lo, w_hi
    # seed-to-seed spread; never narrower than the evaluation's own error
    # (three seeds all at 0% are not "[0.0, 0.0]")
    half = t_quantile(len(values) - 1) * statistics.stdev(values) / math.sqrt(len(values))
    return mean, min(w_lo, max(0.0, mean - half)), max(w_hi, min(1.0, mean + half))


def program_lengths() -> dict[str, tuple[int | None, int | None]]:
    """benchmark -> (RASP-L program length or None, attention depth or None),
    for every benchmark the program library knows: the shorter of the
    hand-written program and the one `rasp search` found."""
    from lengthgen.rasp.library import searched
    from lengthgen.rasp.score import score_library

    try:
        out = {row.benchmark: (row.length, row.depth) for row in score_library(verify=False)}
        # a shorter program found by `rasp search` is the benchmark's length
        for name, record in searched().items():
            length = record.get("length")
            if record.get("found") and isinstance(length, int):
                known = out.get(name, (None, None))[0]
                if known is None or length < known:
                    out[name] = (length, record.get("depth"))
        return out
    except LengthgenError:
        return {}


def group_of(result: dict[str, Any], has_program: bool) -> str:
    from lengthgen.tasks import TASKS

    name = (result.get("task") or {}).get("name") or result["config"].get("task")
    if name not in TASKS:
        return "other"
    cls = TASKS.get(name)
    if cls.family == "rasp-l":
        return GROUP_ORDER[0] if has_program else GROUP_ORDER[1]
    if cls.family == "chomsky":
        return f"Chomsky: {cls.chomsky}"
    return {"pvr": "pointer value retrieval", "symbolic": "abstract symbols"}.get(cls.family, "other")


@dataclass
class Entry:
    group: str
    benchmark: str
    model: str
    metric: str
    seeds: int
    program_length: int | None
    chance: float | None
    baseline: float | None
    baseline_name: str | None
    shortcut: bool
    in_range: float | None
    fitted: int
    fit_known: int
    beyond_mean: float
    beyond_lo: float
    beyond_hi: float
    solved_2x: int
    length_2x: int
    extrapolation: list[str]
    parameters: int | None
    cpu_seconds: float | None
    wall_seconds: float | None
    flops: float | None
    best_seed: float | None  # the best fitted seed beyond the range (None: no seed fitted)
    other_metric: str
    other_in_range: float | None
    other_beyond: float
    per_seed: list[dict[str, Any]] = field(default_factory=list)


def _mean(values: list[float | None]) -> float | None:
    known = [v for v in values if v is not None]
    return statistics.fmean(known) if known else None


def aggregate(results: list[dict[str, Any]], metric: str = "declared") -> list[Entry]:
    if metric not in METRIC_CHOICES:
        raise LengthgenError(f"--metric must be one of {', '.join(METRIC_CHOICES)}, got {metric!r}")
    runs = summarize_runs(results, None if metric == "declared" else metric)
    programs = program_lengths()
    groups: dict[tuple[str, str], list[RunSummary]] = {}
    for run in runs:
        groups.setdefault((run.benchmark, run.column), []).append(run)
    entries = []
    for (bench, column), seeds in groups.items():
        seeds.sort(key=lambda r: r.seed)
        length = programs.get(bench, (None, None))[0]
        mean, lo, hi = mean_ci(seeds)
        with_baseline = [r for r in seeds if r.baseline is not None]
        worst = max(with_baseline, key=lambda r: r.baseline[1] - r.chance) if with_baseline else None
        entries.append(
            Entry(
                group=group_of(seeds[0].result, length is not None),
                benchmark=bench,
                model=column,
                metric=seeds[0].metric,
                seeds=len(seeds),
                program_length=length,
                chance=worst.chance if worst else None,
                baseline=worst.baseline[1] if worst else None,
                baseline_name=worst.baseline[0] if worst else None,
                shortcut=any(r.shortcut for r in seeds),
                in_range=_mean([r.in_range for r in seeds]),
                fitted=sum(1 for r in seeds if r.fitted),
                fit_known=sum(1 for r in seeds if r.fitted is not None),
                beyond_mean=mean,
                beyond_lo=lo,
                beyond_hi=hi,
                solved_2x=sum(1 for r in seeds if r.solved_at_2x),
                length_2x=seeds[0].length_2x,
                extrapolation=[format_extrapolation(r.extrapolation, r.fitted) for r in seeds],
                parameters=seeds[0].parameters,
                cpu_seconds=_mean([r.cpu_seconds for r in seeds]),
                wall_seconds=_mean([r.wall_seconds for r in seeds]),
                flops=_mean([r.flops for r in seeds]),
                best_seed=max((r.beyond_mean for r in seeds if r.fitted), default=None),
                other_metric=seeds[0].other["metric"],
                other_in_range=_mean([r.other["in_range"] for r in seeds]),
                other_beyond=statistics.fmean(r.other["beyond_mean"] for r in seeds),
                per_seed=[
                    {
                        "seed": r.seed,
                        "fitted": r.fitted,
                        "in_range": r.in_range,
                        "beyond": r.beyond_mean,
                        "extrapolation": r.extrapolation,
                        "retention": r.retention,
                    }
                    for r in seeds
                ],
            )
        )
    order = {g: i for i, g in enumerate(GROUP_ORDER)}
    entries.sort(key=lambda e: (order.get(e.group, len(order)), e.benchmark, e.model))
    return entries


def pct(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.1f}"


def _si(value: float | None) -> str:
    if value is None:
        return "-"
    for unit, scale in (("P", 1e15), ("T", 1e12), ("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if abs(value) >= scale:
            return f"{value / scale:.1f}{unit}"
    return f"{value:.0f}"


def _compute(e: Entry) -> str:
    parts = []
    if e.cpu_seconds is not None:
        parts.append(f"{e.cpu_seconds:.0f} CPU-s")
    elif e.wall_seconds is not None:  # results written before CPU time was recorded
        parts.append(f"{e.wall_seconds:.0f} s wall")
    if e.flops is not None:
        parts.append(f"{_si(e.flops)}FLOP")
    return ", ".join(parts) or "-"


def _beyond(e: Entry) -> str:
    return f"{pct(e.beyond_mean)} [{pct(e.beyond_lo)}, {pct(e.beyond_hi)}] ({e.seeds})"


def _baseline(e: Entry) -> str:
    if e.baseline is None:
        return "-"
    return f"{pct(e.baseline)}{' ⚠' if e.shortcut else ''}"


def _fitted(e: Entry) -> str:
    return f"{e.fitted}/{e.seeds}" if e.fit_known else "?"


def _extrapolation(e: Entry) -> str:
    return ", ".join(e.extrapolation)


HEADERS = [
    "group",
    "benchmark",
    "model",
    "metric",
    "program",
    "chance",
    "best baseline",
    "in-range",
    "fitted",
    "beyond-range [95% CI] (seeds)",
    "solved @2x",
    "extrapolation",
    "params",
    "train compute",
]


def table_rows(entries: list[Entry]) -> list[list[str]]:
    return [
        [
            e.group,
            e.benchmark,
            e.model,
            e.metric,
            "-" if e.program_length is None else str(e.program_length),
            pct(e.chance),
            _baseline(e),
            pct(e.in_range),
            _fitted(e),
            _beyond(e),
            f"{e.solved_2x}/{e.seeds}",
            _extrapolation(e),
            _si(e.parameters),
            _compute(e),
        ]
        for e in entries
    ]


def legend() -> str:
    return (
        "Columns: metric = the benchmark's declared metric (the other is in csv/json); program = RASP-L program "
        "length (- none); chance = uniform guess; best baseline = best cheap predictor (`lengthgen tasks baselines`), "
        f"⚠ when it beats chance by > {100 * SHORTCUT_MARGIN:.0f} points; in-range = metric at the longest training "
        f"length (mean over seeds); fitted = seeds with in-range >= {100 * FIT_THRESHOLD:.0f}%; beyond-range = mean "
        "over the test lengths beyond training, 95% CI (t over seeds, never narrower than Wilson over the pooled examples); solved @2x = "
        f"seeds >= {100 * SOLVED_THRESHOLD:.0f}% at the test length nearest 2x the longest training length; "
        f"extrapolation = per seed, longest length with every length >= {100 * SOLVED_THRESHOLD:.0f}% over the "
        "longest training length (≥ when it reaches the longest length tested; 'not fitted' when in-range < "
        f"{100 * FIT_THRESHOLD:.0f}%); train compute = mean per seed. All accuracies in %."
    )


def best_seed_table(entries: list[Entry], fmt: str) -> str:
    rows = [[e.benchmark, e.model, pct(e.best_seed), pct(e.beyond_mean)] for e in entries]
    # a seed that did not fit in range says nothing beyond it: the best is over fitted seeds
    return render_table(["benchmark", "model", "best fitted seed", "mean"], rows, fmt)


CSV_COLUMNS = ("group", "benchmark", "model", "metric", "seeds")


def _csv_value(value: Any) -> Any:
    return "" if value is None else value


def numeric_entry(e: Entry) -> dict[str, Any]:
    """An entry as numbers, for csv and json: per seed the extrapolation
    factor (None when not fitted or below 1), whether it is censored at the
    longest length tested, and over the fitted seeds their least and mean
    factor.

    The display strings ("≥ 2.00", "not fitted") stay in the tables people read."""
    per_seed = []
    for s in e.per_seed:
        ext = s.get("extrapolation") or {}
        factor = ext.get("factor") if s.get("fitted") is not False and ext.get("length") is not None else None
        per_seed.append({**s, "extrapolation": {"factor": factor, "censored": bool(ext.get("censored"))}})
    factors = [s["extrapolation"]["factor"] for s in per_seed if s.get("fitted") and s["extrapolation"]["factor"]]
    out = {k: v for k, v in e.__dict__.items() if k not in ("extrapolation", "per_seed")}
    out.update(
        extrapolation_min=min(factors) if factors else None,
        extrapolation_mean=statistics.fmean(factors) if factors else None,
        extrapolation_censored=sum(1 for s in per_seed if s.get("fitted") and s["extrapolation"]["censored"]),
        extrapolation=[s["extrapolation"] | {"seed": s["seed"], "fitted": s.get("fitted")} for s in per_seed],
        per_seed=per_seed,
    )
    return out


def render(entries: list[Entry], fmt: str = "github", metric: str = "declared") -> str:
    if fmt not in FORMATS:
        raise LengthgenError(f"--format must be one of {', '.join(FORMATS)}, got {fmt!r}")
    if fmt == "json":
        payload = {
            "metric": metric,
            "thresholds": {"fit": FIT_THRESHOLD, "solved": SOLVED_THRESHOLD, "shortcut_margin": SHORTCUT_MARGIN},
            "entries": [numeric_entry(e) for e in entries],
        }
        return json.dumps(payload, indent=2)
    if fmt == "csv":
        # machine-readable: raw numbers (fractions, CPU-seconds, FLOPs), one column each
        records = [
            {k: v for k, v in numeric_entry(e).items() if k not in ("per_seed", "extrapolation")} for e in entries
        ]
        headers = list(records[0]) if records else list(CSV_COLUMNS)
        return render_table(headers, [[_csv_value(r[h]) for h in headers] for r in records], "csv")
    rows = table_rows(entries)
    main = render_table(HEADERS, rows, fmt)
    secondary = best_seed_table(entries, fmt)
    if fmt == "latex":
        return f"% {legend()}\n{main}\n\n% best seed (beyond-range, NNCH style)\n{secondary}"
    return f"{legend()}\n\n{main}\n\nBest seed (beyond-range accuracy, as Delétang et al. report):\n\n{secondary}"
