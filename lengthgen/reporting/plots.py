"""Accuracy-vs-length plots (``pip install 'lengthgen[plot]'`` for matplotlib)."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np

from lengthgen.errors import LengthgenError
from lengthgen.reporting.leaderboard import train_max
from lengthgen.reporting.loading import benchmark_of, column_of

PLOT_FORMATS = ("png", "svg")


def _pyplot():
    try:
        import matplotlib

        matplotlib.use("Agg")  # files only; never needs a display
        import matplotlib.pyplot as plt
    except ImportError:
        raise LengthgenError("plotting needs matplotlib: pip install 'lengthgen[plot]'") from None
    return plt


def curves(results: list[dict[str, Any]], metric: str) -> dict[str, dict[str, dict[int, list[float]]]]:
    """benchmark -> model column -> length -> accuracies over seeds."""
    out: dict[str, dict[str, dict[int, list[float]]]] = {}
    for result in results:
        by_len = out.setdefault(benchmark_of(result), {}).setdefault(column_of(result), {})
        for row in result["results"]:
            by_len.setdefault(row["length"], []).append(row[metric])
    return out


def _draw(ax, bench: str, data: dict[str, dict[int, list[float]]], top_train: int, metric: str) -> None:
    ax.axvspan(0, top_train, color="0.9", label="training range")
    for model in sorted(data):
        lengths = sorted(data[model])
        values = [np.asarray(data[model][n]) for n in lengths]
        mean = [v.mean() for v in values]
        (line,) = ax.plot(lengths, mean, marker="o", ms=3, label=model)
        if any(len(v) > 1 for v in values):
            ax.fill_between(
                lengths, [v.min() for v in values], [v.max() for v in values], color=line.get_color(), alpha=0.2
            )
    ax.set_title(bench, fontsize=10)
    ax.set_xlabel("length")
    ax.set_ylabel("exact match" if metric == "exact" else "per-token accuracy")
    ax.set_ylim(-0.03, 1.03)
    ax.set_xlim(left=0)


def plot_results(
    results: list[dict[str, Any]], out_dir: str | Path, metric: str = "exact", formats: tuple[str, ...] = ("png",)
) -> list[Path]:
    """One figure per benchmark plus ``all.<fmt>`` with every benchmark; returns the files."""
    for fmt in formats:
        if fmt not in PLOT_FORMATS:
            raise LengthgenError(f"--format must be one of {', '.join(PLOT_FORMATS)}, got {fmt!r}")
    plt = _pyplot()
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    data = curves(results, metric)
    tops = {}
    for result in results:
        tops[benchmark_of(result)] = max(tops.get(benchmark_of(result), 0), train_max(result))
    written = []
    for bench, by_model in sorted(data.items()):
        fig, ax = plt.subplots(figsize=(5, 3.4))
        _draw(ax, bench, by_model, tops[bench], metric)
        ax.legend(fontsize=7)
        fig.tight_layout()
        for fmt in formats:
            path = out_dir / f"{bench}.{fmt}"
            fig.savefig(path, dpi=120)
            written.append(path)
        plt.close(fig)
    n = len(data)
    cols = min(4, n)
    rows = math.ceil(n / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(4 * cols, 3 * rows), squeeze=False)
    for ax, (bench, by_model) in zip(axes.flat, sorted(data.items())):
        _draw(ax, bench, by_model, tops[bench], metric)
    for ax in list(axes.flat)[n:]:
        ax.axis("off")
    handles, labels = axes.flat[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=min(5, len(labels)), fontsize=8)
    fig.tight_layout(rect=(0, 0.06, 1, 1))
    for fmt in formats:
        path = out_dir / f"all.{fmt}"
        fig.savefig(path, dpi=110)
        written.append(path)
    plt.close(fig)
    for result in results:
        for fmt in formats:
            name = result.get("name", "run")
            for drawn in (
                plot_rank_growth(result, out_dir / f"rank-{name}.{fmt}"),
                plot_representation_rank(result, out_dir / f"representation-{name}.{fmt}"),
            ):
                if drawn is not None:
                    written.append(drawn)
    return written


def _save(plt, fig, path: str | Path) -> Path:
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
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
