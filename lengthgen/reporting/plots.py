"""Accuracy-vs-length plots (``pip install 'lengthgen[plot]'`` for matplotlib)."""

from __future__ import annotations

import math
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from lengthgen.errors import LengthgenError
from lengthgen.evaluation.outcomes import fit_block
from lengthgen.evaluation.tdist import t_quantile
from lengthgen.evaluation.thresholds import FIT_THRESHOLD, SOLVED_THRESHOLD
from lengthgen.reporting.loading import benchmark_of, column_of
from lengthgen.reporting.runs import declared_metric, train_max

PLOT_FORMATS = ("png", "svg")


def _pyplot():
    try:
        import matplotlib

        matplotlib.use("Agg")  # files only; never needs a display
        import matplotlib.pyplot as plt
    except ImportError:
        raise LengthgenError("plotting needs matplotlib: pip install 'lengthgen[plot]'") from None
    return plt


def safe_stem(name: str) -> str:
    """A file name stem from a name read out of a result file: names that
    could leave the output folder ('/', '..', hidden files) are rewritten."""
    stem = re.sub(r"[^A-Za-z0-9._-]", "_", str(name))[:100].strip(".") or "unnamed"
    return stem.replace("..", "_")


@dataclass
class Curve:
    """One model column on one benchmark: per length, the metric over seeds
    and the 95% interval of each single-seed row."""

    values: dict[int, list[float]] = field(default_factory=dict)
    row_ci: dict[int, list[tuple[float, float]]] = field(default_factory=dict)


@dataclass
class Panel:
    benchmark: str
    metric: str
    train_max: int
    train_min: int = 0
    curves: dict[str, Curve] = field(default_factory=dict)
    chance: dict[int, float] = field(default_factory=dict)
    baseline: dict[int, tuple[str, float]] = field(default_factory=dict)
    fitted: dict[str, tuple[int, int]] = field(default_factory=dict)
    # column -> training CPU-seconds of each seed that recorded it (the compute beside the curve)
    cpu_seconds: dict[str, list[float]] = field(default_factory=dict)


def panels(results: list[dict[str, Any]], metric: str | None = None) -> dict[str, Panel]:
    """benchmark -> what its figure shows (the latest result per seed)."""
    from lengthgen.reporting.runs import latest_per_seed, row_baseline

    out: dict[str, Panel] = {}
    for result in latest_per_seed(results):
        m = metric or declared_metric(result)
        bench = benchmark_of(result)
        panel = out.setdefault(bench, Panel(bench, m, 0, 10**9))
        panel.train_max = max(panel.train_max, train_max(result))
        in_range = [r["length"] for r in result["results"] if r.get("in_train_range")]
        panel.train_min = min(panel.train_min, min(in_range) if in_range else 0)
        curve = panel.curves.setdefault(column_of(result), Curve())
        tested = {r["length"] for r in result["results"] if r.get("test", True)}
        for row in result["results"]:
            if not row.get("test", True) and row["length"] in tested:
                continue  # the training-distribution row of a held-out benchmark: the curve shows the test split
            curve.values.setdefault(row["length"], []).append(row[m])
            ci = row.get(f"{m}_ci")
            if isinstance(ci, list) and len(ci) == 2:
                curve.row_ci.setdefault(row["length"], []).append((float(ci[0]), float(ci[1])))
            if row["length"] not in panel.baseline:
                found = row_baseline(result, row, m)
                if found is not None:
                    panel.chance[row["length"]] = found[0]
                    panel.baseline[row["length"]] = (found[1], found[2])
        fit = fit_block(result["results"], m, train_max(result))
        k, n = panel.fitted.get(column_of(result), (0, 0))
        panel.fitted[column_of(result)] = (k + bool(fit["fitted"]), n + 1)
        cpu = (result.get("wall_time_s") or {}).get("train_cpu")
        if cpu is not None:
            panel.cpu_seconds.setdefault(column_of(result), []).append(float(cpu))
    return out


def _legend_label(panel: Panel, model: str) -> str:
    """``model (fitted k/n, C CPU-s/seed)``: fit and compute travel with the curve."""
    k, n = panel.fitted[model]
    cpu = panel.cpu_seconds.get(model)
    compute = f", {np.mean(cpu):.0f} CPU-s/seed" if cpu else ""
    return f"{model} (fitted {k}/{n}{compute})"


def _band(curve: Curve, lengths: list[int]) -> tuple[list[float], list[float]]:
    """95% band per length: t over seeds when there are several, else the
    row's own binomial interval."""
    lo, hi = [], []
    for n in lengths:
        v = np.asarray(curve.values[n])
        if len(v) > 1:
            half = t_quantile(len(v) - 1) * v.std(ddof=1) / math.sqrt(len(v))
            lo.append(max(0.0, v.mean() - half))
            hi.append(min(1.0, v.mean() + half))
        elif curve.row_ci.get(n):
            lo.append(curve.row_ci[n][0][0])
            hi.append(curve.row_ci[n][0][1])
        else:
            lo.append(float(v.mean()))
            hi.append(float(v.mean()))
    return lo, hi


def colours_for(columns: list[str]) -> dict[str, Any]:
    """One colour per model column across a whole figure (matplotlib's
    default cycle restarts in every panel, giving two columns one colour)."""
    palette = [f"C{i}" for i in range(10)]
    return {column: palette[i % len(palette)] for i, column in enumerate(sorted(columns))}


def _draw(ax, panel: Panel, colours: dict[str, Any] | None = None) -> None:
    colours = colours or colours_for(list(panel.curves))
    start = panel.train_min if panel.train_min < 10**9 else 0
    ax.axvspan(start - 0.5, panel.train_max + 0.5, color="0.9", label="training range")
    for model in sorted(panel.curves):
        curve = panel.curves[model]
        lengths = sorted(curve.values)
        mean = [float(np.mean(curve.values[n])) for n in lengths]
        colour = colours[model]
        # every seed thin, their mean bold: two or three seeds give a t band of about [0, 1]
        runs = max(len(curve.values[n]) for n in lengths)
        if runs > 1:
            for s in range(runs):
                xs = [n for n in lengths if len(curve.values[n]) > s]
                ax.plot(xs, [curve.values[n][s] for n in xs], color=colour, lw=0.6, alpha=0.35)
        ax.plot(lengths, mean, marker="o", ms=3, color=colour, label=_legend_label(panel, model))
        if runs == 1:
            lo, hi = _band(curve, lengths)
            ax.fill_between(lengths, lo, hi, color=colour, alpha=0.2, linewidth=0)
    if panel.chance:
        lengths = sorted(panel.chance)
        ax.plot(lengths, [panel.chance[n] for n in lengths], ls=":", color="0.3", lw=1, label="chance")
    if panel.baseline:
        lengths = sorted(panel.baseline)
        names = sorted({panel.baseline[n][0] for n in lengths})
        label = "best baseline" + (f" ({names[0]})" if len(names) == 1 else "")
        ax.plot(lengths, [panel.baseline[n][1] for n in lengths], ls="--", color="0.45", lw=1, label=label)
    ax.axhline(FIT_THRESHOLD, color="0.6", lw=0.6, ls="-", label=f"fit ({FIT_THRESHOLD:.0%} at L)")
    ax.axhline(SOLVED_THRESHOLD, color="0.6", lw=0.6, ls="-.", label=f"solved ({SOLVED_THRESHOLD:.0%})")
    ax.set_title(panel.benchmark, fontsize=10)
    ax.set_xlabel("length")
    ax.set_ylabel("exact match" if panel.metric == "exact" else "per-token accuracy")
    ax.set_ylim(-0.03, 1.03)
    ax.set_xlim(left=0)


def plot_results(
    results: list[dict[str, Any]],
    out_dir: str | Path,
    metric: str | None = None,
    formats: tuple[str, ...] = ("png",),
) -> list[Path]:
    """One figure per benchmark plus ``all.<fmt>``; returns the files.

    Each shows the metric against length over the training range (shaded)
    and beyond, a 95% band, chance and the best cheap baseline; legends sit
    outside the axes and the figure is saved tight around them, so nothing
    is cut."""
    for fmt in formats:
        if fmt not in PLOT_FORMATS:
            raise LengthgenError(f"--format must be one of {', '.join(PLOT_FORMATS)}, got {fmt!r}")
    plt = _pyplot()
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    data = panels(results, metric)
    colours = colours_for(sorted({c for panel in data.values() for c in panel.curves}))
    written = []
    for bench, panel in sorted(data.items()):
        fig, ax = plt.subplots(figsize=(5, 3.4))
        _draw(ax, panel, colours)
        ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.02, 1.0), borderaxespad=0)
        for fmt in formats:
            path = out_dir / f"{safe_stem(bench)}.{fmt}"
            fig.savefig(path, dpi=120, bbox_inches="tight")
            written.append(path)
        plt.close(fig)
    n = len(data)
    cols = min(4, n)
    rows = math.ceil(n / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(4 * cols, 3 * rows), squeeze=False)
    handles: dict[str, Any] = {}
    for ax, (_bench, panel) in zip(axes.flat, sorted(data.items())):
        _draw(ax, panel, colours)
        for h, label in zip(*ax.get_legend_handles_labels()):
            # one legend entry per model column, whatever its fitted count on this benchmark
            handles.setdefault(label.split(" (")[0], h)
    for ax in list(axes.flat)[n:]:
        ax.axis("off")
    seeds = max(max(len(v) for v in c.values.values()) for panel in data.values() for c in panel.curves.values())
    examples = sorted(int(r["n"]) for res in results for r in res["results"] if isinstance(r.get("n"), int))
    per_length = f", {examples[len(examples) // 2]} examples per length" if examples else ""
    fig.suptitle(
        f"{n} benchmark(s), up to {seeds} seed(s) per column{per_length}; shaded: the training range", fontsize=9
    )
    fig.tight_layout()
    fig.legend(
        list(handles.values()),
        list(handles),
        loc="upper center",
        bbox_to_anchor=(0.5, 0.0),
        ncol=min(3, len(handles)),
        fontsize=8,
    )
    for fmt in formats:
        path = out_dir / f"all.{fmt}"
        fig.savefig(path, dpi=110, bbox_inches="tight")
        written.append(path)
    plt.close(fig)
    for result in results:
        for fmt in formats:
            name = safe_stem(result.get("name", "run"))
            for draw, stem in ((plot_rank_growth, "rank"), (plot_representation_rank, "representation")):
                try:
                    drawn = draw(result, out_dir / f"{stem}-{name}.{fmt}")
                except (KeyError, TypeError, ValueError, IndexError, AttributeError) as exc:
                    plt.close("all")
                    print(
                        f"lengthgen: warning: skipping the {stem} plot of {result.get('_path', name)}: "
                        f"malformed diagnostics ({type(exc).__name__})",
                        file=sys.stderr,
                    )
                    continue
                if drawn is not None:
                    written.append(drawn)
    return written


def _save(plt, fig, path: str | Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120, bbox_inches="tight")
    plt.close(fig)
    return path


def plot_rank_growth(result: dict[str, Any], path: str | Path) -> Path | None:
    """Rank (singular values above 1% of the largest) of W_t - W_0 vs step, one line per matrix."""
    curve = (result.get("diagnostics") or {}).get("rank_curve")
    if not curve:
        return None
    plt = _pyplot()
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.4))
    steps = [point["step"] for point in curve]
    for name in curve[0]["layers"]:
        label = name.replace(".weight", "")
        axes[0].plot(steps, [p["layers"][name]["rank"] for p in curve], label=label)
        axes[1].plot(steps, [p["layers"][name]["stable_rank"] for p in curve], label=label)
    axes[0].set_ylabel("rank (> 1% of top singular value)")
    axes[1].set_ylabel("stable rank")
    for ax in axes:
        ax.set_xlabel("training step")
    axes[1].legend(fontsize=6)
    fig.suptitle(f"rank of W_t - W_0: {result.get('name', '')}", fontsize=9)
    return _save(plt, fig, path)


def plot_representation_rank(result: dict[str, Any], path: str | Path) -> Path | None:
    """RankMe and LiDAR of the final hidden states vs length, training range shaded."""
    rows = [r for r in result["results"] if "rankme" in r]
    if not rows:
        return None
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(5, 3.4))
    ax.axvspan(0, train_max(result), color="0.9", label="training range")
    lengths = [r["length"] for r in rows]
    ax.plot(lengths, [r["rankme"] for r in rows], marker="o", label="RankMe")
    ax.plot(lengths, [r["lidar"] for r in rows], marker="s", label="LiDAR")
    ax.set_xlabel("length")
    ax.set_ylabel("effective rank")
    ax.set_title(f"representation rank: {result.get('name', '')}", fontsize=9)
    ax.legend(fontsize=8)
    return _save(plt, fig, path)


def plot_depth(results: list[dict[str, Any]], path: str | Path, metric: str | None = None) -> Path:
    """Adaptive depth at a glance, one row per benchmark: the metric against
    length (as ``plot_results`` draws it: training range, 95% band, chance,
    best baseline, fit and compute in the legend) beside the mean steps per
    position against length for every model that reports them (ACT's
    choice, or a fixed-step model's constant), each seed a thin line so a
    flat mean cannot hide seeds that disagree."""
    from lengthgen.reporting.runs import latest_per_seed

    plt = _pyplot()
    data = panels(results, metric)
    if not data:
        raise LengthgenError("no results to plot")
    # (benchmark, column) -> one {length: steps} per seed
    steps: dict[tuple[str, str], list[dict[int, float]]] = {}
    for result in latest_per_seed(results):
        seed = {
            r["length"]: float(r["mean_steps"])
            for r in result["results"]
            if isinstance(r.get("mean_steps"), (int, float))
        }
        if seed:
            steps.setdefault((benchmark_of(result), column_of(result)), []).append(seed)
    fig, axes = plt.subplots(len(data), 2, figsize=(10, 3.4 * len(data)), squeeze=False)
    for (left, right), (bench, panel) in zip(axes, sorted(data.items())):
        _draw(left, panel)
        right.axvspan(0, panel.train_max + 0.5, color="0.9")
        for i, model in enumerate(sorted(panel.curves)):  # _draw's order, so a model keeps its colour
            seeds = steps.get((bench, model))
            if not seeds:
                continue
            lengths = sorted({n for seed in seeds for n in seed})
            mean = [float(np.mean([seed[n] for seed in seeds if n in seed])) for n in lengths]
            right.plot(lengths, mean, marker="o", ms=3, color=f"C{i % 10}", label=model)
            for seed in seeds:
                right.plot(sorted(seed), [seed[n] for n in sorted(seed)], color=f"C{i % 10}", lw=0.6, alpha=0.4)
        right.set_title(f"{bench}: steps per position", fontsize=10)
        right.set_xlabel("length")
        right.set_ylabel("mean steps per position")
        right.set_xlim(left=0)
        if not right.get_legend_handles_labels()[0]:
            right.text(0.5, 0.5, "no model reports steps", ha="center", va="center", transform=right.transAxes)
    fig.tight_layout()
    # one legend under the figure, not over the curves: the right panels reuse the left's colours
    handles, labels = axes[0][0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="upper center", bbox_to_anchor=(0.5, 0.0), ncol=2, fontsize=7)
    return _save(plt, fig, path)
