"""The generated-task study's analysis: does a short RASP-L program predict
length generalization on tasks nobody picked?

Tasks come from ``lengthgen rasp generate`` (their ``tasks.yaml`` manifest
holds each task's group, program length, depth and average sensitivity);
results from ``lengthgen bench`` over one benchmark per task, named after
the task.  The rule (results/studies/generated/README.md):

- a seed is *fitted* when it passes the fit gate at L; a task is *fitted*
  when at least ``min_fitted`` seeds are; its *score* is the mean exact
  match at ``multiple`` x L over fitted seeds and it *succeeds* when the
  score is >= ``SUCCESS`` (0.9);
- a fitted task that does not succeed failed by a *wrong stop* when its
  exact match with the target length given reaches ``SUCCESS``, else by
  *wrong content* (no position is out of range: the offsets cover every
  test position);
- the success rate of RASP-L tasks minus that of the controls, with a 95%
  bootstrap interval over tasks; among RASP-L tasks, the AUC with which
  each predictor (shorter program, shallower program, lower sensitivity)
  ranks successes above failures, with bootstrap intervals.

>>> auc([3.0, 2.0], [1.0, 1.0])   # every success ranked above every failure
1.0
>>> auc([1.0], [1.0])             # ties count half
0.5
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from lengthgen.errors import LengthgenError
from lengthgen.reporting.runs import RunSummary
from lengthgen.tables import render_table

SUCCESS = 0.9
SUPPORT_GAP = 0.25
REFUTE_GAP = 0.10
REFUTE_UPPER = 0.30  # the interval must exclude a gap worth calling support
MIN_PROGRAMS = 20
MIN_CONTROLS = 8
# predictors of success: higher value predicts success (so lengths enter negated)
PREDICTORS = {
    "program length (shorter)": lambda t: -t.shortest,
    "depth (shallower)": lambda t: -t.depth,
    "sensitivity (lower)": lambda t: -t.sensitivity,
}


@dataclass
class TaskOutcome:
    name: str
    group: str
    length: int
    shortest: int  # the shorter of the generating program and a searched one
    depth: int
    sensitivity: float
    seeds: int = 0
    fitted_seeds: int = 0
    cpu_seconds: float = 0.0  # training, over its runs
    scores: list[float] = field(default_factory=list)  # exact at the multiple, fitted seeds
    given_length: list[float] = field(default_factory=list)  # exact with the target length given, fitted seeds

    def fitted(self, min_fitted: int) -> bool:
        return self.fitted_seeds >= min_fitted and bool(self.scores)

    @property
    def score(self) -> float | None:
        return statistics.fmean(self.scores) if self.scores else None

    @property
    def success(self) -> bool:
        return self.score is not None and self.score >= SUCCESS

    @property
    def failure(self) -> str | None:
        if self.score is None or self.success:
            return None
        stop = statistics.fmean(self.given_length) if self.given_length else 0.0
        return "wrong stop" if stop >= SUCCESS else "wrong content"


def load_manifest(path: str | Path) -> dict[str, dict[str, Any]]:
    import yaml

    path = Path(path)
    if path.is_dir():
        path = path / "tasks.yaml"
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise LengthgenError(f"--tasks {path}: cannot read the manifest ({exc.strerror or exc})") from None
    except yaml.YAMLError as exc:
        raise LengthgenError(f"--tasks {path}: not valid YAML ({str(exc).splitlines()[0]})") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("tasks"), list):
        raise LengthgenError(f"--tasks {path}: not a manifest of lengthgen rasp generate (no 'tasks' list)")
    need = ("name", "group", "length", "depth", "sensitivity_20")
    for i, t in enumerate(doc["tasks"]):
        missing = [k for k in need if not isinstance(t, dict) or k not in t]
        if missing:
            raise LengthgenError(f"--tasks {path}: task {i + 1} lacks {', '.join(missing)}")
    return {t["name"]: t for t in doc["tasks"]}


def row_at(run: RunSummary, length: int) -> dict[str, Any] | None:
    for row in run.result["results"]:
        if row["length"] == length and row.get("test", True):
            return row
    return None


def outcomes(runs: list[RunSummary], manifest: dict[str, dict[str, Any]], multiple: float = 2.0) -> list[TaskOutcome]:
    by_task: dict[str, TaskOutcome] = {}
    for run in runs:
        record = manifest.get(run.benchmark)
        if record is None:
            continue  # a run of something else in the folder
        searched = (record.get("search") or {}).get("length")
        t = by_task.setdefault(
            run.benchmark,
            TaskOutcome(
                run.benchmark,
                record["group"],
                int(record["length"]),
                min(int(record["length"]), int(searched)) if searched else int(record["length"]),
                int(record["depth"]),
                float(record["sensitivity_20"]),
            ),
        )
        t.seeds += 1
        t.cpu_seconds += run.cpu_seconds or 0.0
        if not run.fitted:
            continue
        t.fitted_seeds += 1
        target = int(round(multiple * run.train_max))
        row = row_at(run, target)
        if row is None:
            raise LengthgenError(f"{run.benchmark} seed {run.seed}: no result at {multiple:g} x L = {target}")
        t.scores.append(float(row["exact"]))
        t.given_length.append(float(row.get("exact_given_length", row["exact"])))
    if not by_task:
        raise LengthgenError("none of these results is a run of a task in the manifest (names must match)")
    return sorted(by_task.values(), key=lambda t: (t.group != "program", t.length, t.name))


def auc(successes: list[float], failures: list[float]) -> float | None:
    """Probability that a success's predictor value exceeds a failure's (ties half)."""
    if not successes or not failures:
        return None
    s = np.asarray(successes, dtype=float)[:, None]
    f = np.asarray(failures, dtype=float)[None, :]
    return float(((s > f).sum() + 0.5 * (s == f).sum()) / (s.size * f.size))


def _auc_of(tasks: list[TaskOutcome], predictor) -> float | None:
    return auc([predictor(t) for t in tasks if t.success], [predictor(t) for t in tasks if not t.success])


def _rate(tasks: list[TaskOutcome]) -> float | None:
    return sum(t.success for t in tasks) / len(tasks) if tasks else None


def bootstrap(tasks_a, tasks_b, statistic, n_boot: int, rng: np.random.Generator):
    """95% percentile interval of ``statistic(a, b)`` resampling each list of tasks."""
    values = []
    for _ in range(n_boot):
        a = [tasks_a[i] for i in rng.integers(0, len(tasks_a), len(tasks_a))] if tasks_a else []
        b = [tasks_b[i] for i in rng.integers(0, len(tasks_b), len(tasks_b))] if tasks_b else []
        v = statistic(a, b)
        if v is not None:
            values.append(v)
    if len(values) < n_boot // 2:
        return None
    return float(np.percentile(values, 2.5)), float(np.percentile(values, 97.5))


def generated_report(
    runs: list[RunSummary],
    manifest: dict[str, dict[str, Any]],
    multiple: float = 2.0,
    min_fitted: int = 2,
    n_boot: int = 2000,
    seed: int = 0,
) -> dict[str, Any]:
    tasks = outcomes(runs, manifest, multiple)
    fitted = [t for t in tasks if t.fitted(min_fitted)]
    programs = [t for t in fitted if t.group == "program"]
    controls = [t for t in fitted if t.group == "control"]
    rng = np.random.default_rng(seed)
    rate_p, rate_c = _rate(programs), _rate(controls)
    gap = rate_p - rate_c if rate_p is not None and rate_c is not None else None
    gap_ci = (
        bootstrap(programs, controls, lambda a, b: _rate(a) - _rate(b), n_boot, rng) if programs and controls else None
    )
    aucs = {}
    for name, predictor in PREDICTORS.items():
        value = _auc_of(programs, predictor)
        ci = (
            bootstrap(programs, [], lambda a, b, p=predictor: _auc_of(a, p), n_boot, rng) if value is not None else None
        )
        aucs[name] = {"auc": value, "ci": ci}
    failures: dict[str, int] = {}
    for t in fitted:
        if t.failure:
            key = f"{t.group}: {t.failure}"
            failures[key] = failures.get(key, 0) + 1
    report = {
        "tasks": tasks,
        "multiple": multiple,
        "min_fitted": min_fitted,
        "programs": len(programs),
        "controls": len(controls),
        "rate_program": rate_p,
        "rate_control": rate_c,
        "gap": gap,
        "gap_ci": gap_ci,
        "aucs": aucs,
        "failures": failures,
        "manifest": {g: sum(1 for r in manifest.values() if r["group"] == g) for g in ("program", "control")},
    }
    report["verdict"] = verdict(report)
    return report


def verdict(report: dict[str, Any]) -> str:
    n_p, n_c = report["programs"], report["controls"]
    if n_p < MIN_PROGRAMS or n_c < MIN_CONTROLS:
        return (
            f"inconclusive: {n_p} fitted RASP-L tasks and {n_c} fitted controls; the rule needs at least "
            f"{MIN_PROGRAMS} and {MIN_CONTROLS}"
        )
    gap, ci, rate = report["gap"], report["gap_ci"], report["rate_program"]
    stated = f"success {rate:.0%} (RASP-L) vs {report['rate_control']:.0%} (controls), gap {gap:+.2f}"
    if ci is not None:
        stated += f", 95% CI [{ci[0]:+.2f}, {ci[1]:+.2f}]"
    if rate >= 0.5 and gap >= SUPPORT_GAP and ci is not None and ci[0] > 0:
        return f"supported: {stated}"
    if gap <= REFUTE_GAP and ci is not None and ci[1] < REFUTE_UPPER:
        return f"refuted: {stated}"
    return f"inconclusive: {stated}"


def render_generated(report: dict[str, Any]) -> str:
    rows = []
    by_key: dict[tuple[str, int], list[TaskOutcome]] = {}
    for t in report["tasks"]:
        by_key.setdefault((t.group, t.length), []).append(t)
    mf = report["min_fitted"]
    for (group, length), ts in sorted(by_key.items(), key=lambda kv: (kv[0][0] != "program", kv[0][1])):
        fitted = [t for t in ts if t.fitted(mf)]
        scores = [t.score for t in fitted]
        rows.append(
            [
                group,
                length,
                len(ts),
                len(fitted),
                sum(t.success for t in fitted),
                f"{100 * statistics.fmean(scores):.1f}" if scores else "-",
            ]
        )
    m = report["multiple"]
    lines = [
        render_table(["group", "length", "tasks", "fitted", "succeeded", f"mean exact at {m:g}L %"], rows),
        "",
    ]

    def pct(v):
        return "-" if v is None else f"{v:.0%}"

    lines.append(
        f"fitted tasks (>= {mf} fitted seeds): {report['programs']} RASP-L, {report['controls']} controls; "
        f"success (>= {SUCCESS:.0%} exact at {m:g}L): {pct(report['rate_program'])} vs {pct(report['rate_control'])}"
    )
    if report["gap"] is not None:
        ci = report["gap_ci"]
        lines.append(
            f"gap: {report['gap']:+.2f}" + (f" (95% CI [{ci[0]:+.2f}, {ci[1]:+.2f}])" if ci else "") + " over tasks"
        )
    for name, value in report["aucs"].items():
        if value["auc"] is None:
            lines.append(f"AUC, {name}: - (needs successes and failures among fitted RASP-L tasks)")
            continue
        ci = value["ci"]
        lines.append(f"AUC, {name}: {value['auc']:.2f}" + (f" [{ci[0]:.2f}, {ci[1]:.2f}]" if ci else ""))
    if report["failures"]:
        lines.append("failures: " + ", ".join(f"{k} {v}" for k, v in sorted(report["failures"].items())))
    tasks = report["tasks"]
    run = {g: [t for t in tasks if t.group == g] for g in ("program", "control")}
    lines.append(
        "compute: "
        + ", ".join(
            f"{len(run[g])} of {report['manifest'][g]} {label} with runs ({sum(t.seeds for t in run[g])} runs)"
            for g, label in (("program", "RASP-L tasks"), ("control", "controls"))
        )
        + f"; {sum(t.cpu_seconds for t in tasks) / 60:.1f} CPU-minutes of training"
    )
    lines.append(f"verdict: {report['verdict']}")
    return "\n".join(lines)


def plot_generated(report: dict[str, Any], path: str) -> str:
    """Score at the multiple against program length: RASP-L tasks and the
    controls side by side (jittered), fitted tasks filled, the 90% success
    line drawn (needs lengthgen[plot])."""
    from lengthgen.reporting.plots import _pyplot

    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6.5, 4))
    rng = np.random.default_rng(0)
    mf = report["min_fitted"]
    for group, shift, colour in (("program", -0.15, "tab:blue"), ("control", 0.15, "tab:red")):
        tasks = [t for t in report["tasks"] if t.group == group and t.score is not None]
        if not tasks:
            continue
        xs = np.array([t.shortest for t in tasks], dtype=float) + shift + rng.uniform(-0.08, 0.08, len(tasks))
        ys = [100 * t.score for t in tasks]
        filled = [t.fitted(mf) for t in tasks]
        label = "RASP-L tasks" if group == "program" else "controls (index arithmetic)"
        ax.scatter(xs, ys, c=[colour if f else "none" for f in filled], edgecolors=colour, s=28, label=label)
    ax.axhline(100 * SUCCESS, color="grey", ls="--", label=f"success ({SUCCESS:.0%})")
    ax.set_xlabel("program length (normal form; shortest known)")
    ax.set_ylabel(f"exact at {report['multiple']:g}L (%), mean of fitted seeds")
    ax.set_ylim(-3, 103)
    ax.legend(fontsize=8, title=f"filled: fitted (>= {mf} seeds)", title_fontsize=8)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path
