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

Two options a follow-up study registers (results/studies/generated-v2):
``all_seeds`` (intention to treat) counts every task with runs and scores
it over all its seeds, fitted or not, so a task the model cannot fit in
range counts as a failure rather than dropping out (in the first study
the controls that failed to fit were the ones farthest from trivial);
``band`` scores the test over the lengths within ``band`` of ``multiple``
x L, so that an answer that depends on the length modulo 2 or 3 is not
judged at one residue.

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
    scores: list[float] = field(default_factory=list)  # exact at the multiple, fitted seeds (every seed: ITT)
    given_length: list[float] = field(default_factory=list)  # exact with the target length given, likewise
    all_seeds: bool = False  # intention to treat: every seed scored, every task with runs counted
    rules: tuple[str, ...] = ()  # controls: the kinds of RASP-L rule broken (manifests from 05db4ba on)

    def fitted(self, min_fitted: int) -> bool:
        return self.fitted_seeds >= min_fitted and bool(self.scores)

    def counted(self, min_fitted: int) -> bool:
        """Whether the task enters the contrast: fitted, or (ITT) run at all."""
        return bool(self.scores) if self.all_seeds else self.fitted(min_fitted)

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


def band_score(run: RunSummary, target: int, band: int) -> tuple[float, float]:
    """Exact match, and exact with the target length given, averaged over the
    test lengths ``target - band .. target + band`` (every one required).

    >>> from types import SimpleNamespace
    >>> rows = [{"length": n, "exact": n / 100} for n in (38, 39, 40, 41, 42)]
    >>> run = SimpleNamespace(result={"results": rows}, benchmark="g1", seed=0)
    >>> band_score(run, 40, 2)
    (0.4, 0.4)
    """
    exact, given = [], []
    for length in range(target - band, target + band + 1):
        row = row_at(run, length)
        if row is None:
            what = f"{target}" if band == 0 else f"{length} (band {target - band}-{target + band})"
            raise LengthgenError(f"{run.benchmark} seed {run.seed}: no test result at {what}")
        exact.append(float(row["exact"]))
        given.append(float(row.get("exact_given_length", row["exact"])))
    return statistics.fmean(exact), statistics.fmean(given)


def outcomes(
    runs: list[RunSummary],
    manifest: dict[str, dict[str, Any]],
    multiple: float = 2.0,
    all_seeds: bool = False,
    band: int = 0,
) -> list[TaskOutcome]:
    if band < 0:
        raise LengthgenError(f"--band must be >= 0, got {band}")
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
                all_seeds=all_seeds,
                rules=tuple(record.get("rules") or ()),
            ),
        )
        t.seeds += 1
        t.cpu_seconds += run.cpu_seconds or 0.0
        t.fitted_seeds += bool(run.fitted)
        if not (run.fitted or all_seeds):
            continue
        exact, given = band_score(run, int(round(multiple * run.train_max)), band)
        t.scores.append(exact)
        t.given_length.append(given)
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
    all_seeds: bool = False,
    band: int = 0,
) -> dict[str, Any]:
    tasks = outcomes(runs, manifest, multiple, all_seeds, band)
    fitted = [t for t in tasks if t.counted(min_fitted)]
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
        # under ITT a task that never fitted failed before any length question arose
        why = "not fitted" if not t.fitted(min_fitted) and not t.success else t.failure
        if why:
            key = f"{t.group}: {why}"
            failures[key] = failures.get(key, 0) + 1
    report = {
        "tasks": tasks,
        "multiple": multiple,
        "min_fitted": min_fitted,
        "all_seeds": all_seeds,
        "band": band,
        "fitted": {
            g: (sum(t.fitted(min_fitted) for t in tasks if t.group == g), sum(t.group == g for t in tasks))
            for g in ("program", "control")
        },
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
    most = max(t.seeds for t in tasks)
    report["incomplete"] = sum(t.seeds < most for t in tasks)
    report["verdict"] = verdict(report)
    if report["incomplete"]:
        # a rule is read on complete tasks; a partial read says so in the verdict itself
        report["verdict"] += f" (partial: {report['incomplete']} tasks have fewer than {most} seeds)"
    return report


def verdict(report: dict[str, Any]) -> str:
    n_p, n_c = report["programs"], report["controls"]
    if n_p < MIN_PROGRAMS or n_c < MIN_CONTROLS:
        which = "" if report.get("all_seeds") else "fitted "
        return (
            f"inconclusive: {n_p} {which}RASP-L tasks and {n_c} {which}controls; the rule needs at least "
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
    itt = report.get("all_seeds", False)
    for (group, length), ts in sorted(by_key.items(), key=lambda kv: (kv[0][0] != "program", kv[0][1])):
        counted = [t for t in ts if t.counted(mf)]
        scores = [t.score for t in counted]
        rows.append(
            [
                group,
                length,
                len(ts),
                sum(t.fitted(mf) for t in ts),
                sum(t.success for t in counted),
                f"{100 * statistics.fmean(scores):.1f}" if scores else "-",
            ]
        )
    m, band = report["multiple"], report.get("band", 0)
    at = f"{m:g}L" + (f" +/- {band}" if band else "")
    lines = [
        render_table(["group", "length", "tasks", "fitted", "succeeded", f"mean exact at {at} %"], rows),
        "",
    ]

    def pct(v):
        return "-" if v is None else f"{v:.0%}"

    if itt:
        fp, fc = report["fitted"]["program"], report["fitted"]["control"]
        lines.append(
            f"tasks, every seed counted fitted or not (intention to treat): {report['programs']} RASP-L, "
            f"{report['controls']} controls; fitted (>= {mf} seeds): {fp[0]} of {fp[1]} RASP-L, {fc[0]} of {fc[1]} "
            f"controls; success (>= {SUCCESS:.0%} exact at {at}, mean of all seeds): "
            f"{pct(report['rate_program'])} vs {pct(report['rate_control'])}"
        )
    else:
        lines.append(
            f"fitted tasks (>= {mf} fitted seeds): {report['programs']} RASP-L, {report['controls']} controls; "
            f"success (>= {SUCCESS:.0%} exact at {at}): {pct(report['rate_program'])} vs "
            f"{pct(report['rate_control'])}"
        )
    if report["gap"] is not None:
        ci = report["gap_ci"]
        lines.append(
            f"gap: {report['gap']:+.2f}" + (f" (95% CI [{ci[0]:+.2f}, {ci[1]:+.2f}])" if ci else "") + " over tasks"
        )
    for name, value in report["aucs"].items():
        if value["auc"] is None:
            lines.append(f"AUC, {name}: - (needs successes and failures among the counted RASP-L tasks)")
            continue
        ci = value["ci"]
        lines.append(f"AUC, {name}: {value['auc']:.2f}" + (f" [{ci[0]:.2f}, {ci[1]:.2f}]" if ci else ""))
    if report["failures"]:
        lines.append("failures: " + ", ".join(f"{k} {v}" for k, v in sorted(report["failures"].items())))
    tasks = report["tasks"]
    kinds = sorted({k for t in tasks for k in t.rules})
    if kinds:  # described, not judged: a control breaking several kinds counts under each
        lines.append(
            "controls by the kind of rule broken: "
            + "; ".join(
                f"{k} {sum(t.success for t in c)} of {len(c)} succeeded"
                for k in kinds
                for c in [[t for t in tasks if k in t.rules and t.counted(mf)]]
            )
        )
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
    band = report.get("band", 0)
    seeds = "all seeds" if report.get("all_seeds") else "fitted seeds"
    ax.set_ylabel(f"exact at {report['multiple']:g}L{f' +/- {band}' if band else ''} (%), mean of {seeds}")
    ax.set_ylim(-3, 103)
    ax.legend(fontsize=8, title=f"filled: fitted (>= {mf} seeds)", title_fontsize=8)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path
