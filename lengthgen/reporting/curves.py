"""Accuracy on held-out symbols against a swept quantity (training-set size, width).

``lengthgen curve FOLDER [FOLDER ...] --axis train_examples`` (or
``--axis d_model``, or any swept model or training option): one row per
model (plain heads, +aI, +aI+bI) and value of the axis, over seeds:
accuracy on the training set itself (the last training batches), on fresh
instances of the training symbols (fitted: >= 95%), and on held-out symbols
(mean with a t interval over seeds), beside chance and the best cheap
predictor on held-out symbols and the CPU time per cell; then the trend
(Spearman rho with a permutation p) per model.  The plot puts held-out
accuracy on a log axis with those two lines.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from typing import Any

from lengthgen.evaluation.thresholds import FIT_THRESHOLD
from lengthgen.reporting.leaderboard import t_quantile
from lengthgen.reporting.loading import benchmark_of
from lengthgen.tables import render_table


def model_label(result: dict[str, Any]) -> str:
    config = result["config"]
    options = config.get("model_options") or {}
    if not options.get("modified_heads") and config["model"] != "transformer-modattn":
        label = "plain"
    else:
        label = {"both": "+aI+bI", "qk": "+aI", "ov": "+bI"}.get(options.get("identity", "both"), "modified")
    # two arms of one configuration (load_arms) are two curves, not one curve's seeds
    return f"{label} ({result['_arm']})" if result.get("_arm") else label


def axis_value(result: dict[str, Any], axis: str) -> Any:
    config = result["config"]
    return (config.get("train") or {}).get(axis, (config.get("model_options") or {}).get(axis))


def row_of(result: dict[str, Any], heldout: bool) -> dict[str, Any] | None:
    rows = [r for r in result["results"] if bool(r.get("heldout", r.get("test"))) == heldout]
    return rows[-1] if rows else None


def mean_ci(values: list[float]) -> tuple[float, float]:
    """Mean and half-width of the 95% t interval over seeds (0 for one seed)."""
    mean = statistics.fmean(values)
    if len(values) < 2:
        return mean, 0.0
    return mean, t_quantile(len(values) - 1) * statistics.stdev(values) / len(values) ** 0.5


def curve(results: list[dict[str, Any]], axis: str) -> dict[tuple[str, str, Any], dict[str, Any]]:
    groups: dict[tuple[str, str, Any], list[dict[str, Any]]] = defaultdict(list)
    for result in results:
        value = axis_value(result, axis)
        if value is not None and row_of(result, True) is not None:
            groups[(benchmark_of(result), model_label(result), value)].append(result)
    table = {}
    for key, runs in sorted(groups.items()):
        held = [row_of(r, True) for r in runs]
        fresh = [row_of(r, False) for r in runs]
        baseline = held[0].get("baseline") or {}
        table[key] = {
            "seeds": len(runs),
            "train_set": [(r.get("training") or {}).get("final_train_exact") for r in runs],
            "fresh": [row["exact"] for row in fresh if row is not None],
            "heldout": mean_ci([row["exact"] for row in held]),
            "heldout_runs": [row["exact"] for row in held],
            "chance": (baseline.get("chance") or {}).get("exact"),
            "best": baseline.get("best"),
            "cpu": [(r.get("wall_time_s") or {}).get("train_cpu") for r in runs],
        }
    return table


def _pct(values: list[float | None]) -> str:
    known = [v for v in values if isinstance(v, (int, float))]
    return f"{100 * statistics.fmean(known):.1f}" if known else "-"


def render(table: dict[tuple[str, str, Any], dict[str, Any]], axis: str) -> str:
    rows = []
    for (bench, label, value), e in table.items():
        mean, half = e["heldout"]
        best = "-" if not e["best"] else f"{100 * e['best']['exact']:.1f} ({e['best']['name']})"
        fitted = sum(v >= FIT_THRESHOLD for v in e["fresh"])
        cpu = [c for c in e["cpu"] if c is not None]
        rows.append(
            [
                bench,
                label,
                value,
                e["seeds"],
                _pct(e["train_set"]),
                f"{_pct(e['fresh'])} ({fitted}/{len(e['fresh'])})",
                f"{100 * mean:.1f} ± {100 * half:.1f}",
                "-" if e["chance"] is None else f"{100 * e['chance']:.1f}",
                best,
                f"{statistics.fmean(cpu):.0f}" if cpu else "-",
            ]
        )
    head = [
        "benchmark", "heads", axis, "seeds", "training set %", "fresh training-symbol instances % (fitted)",
        "held-out symbols % (95% CI)", "chance %", "best baseline %", "CPU-s per cell",
    ]  # fmt: skip
    return render_table(head, rows, "github")


def plot_curve(table: dict[tuple[str, str, Any], dict[str, Any]], axis: str, path: str) -> None:
    from lengthgen.reporting.plots import _pyplot

    plt = _pyplot()

    fig, ax = plt.subplots(figsize=(6, 4))
    for bench, label in sorted({k[:2] for k in table}):
        points = sorted((v, e["heldout"]) for (b, lab, v), e in table.items() if (b, lab) == (bench, label))
        xs = [p[0] for p in points]
        means = [100 * p[1][0] for p in points]
        # a t interval over 3 seeds can pass 100%: draw it clipped to what accuracy can be
        below = [m - max(0.0, m - 100 * p[1][1]) for m, p in zip(means, points)]
        above = [min(100.0, m + 100 * p[1][1]) - m for m, p in zip(means, points)]
        ax.errorbar(xs, means, yerr=[below, above], marker="o", label=f"{bench}: {label}")
    any_entry = next(iter(table.values()))
    if any_entry["chance"] is not None:
        ax.axhline(100 * any_entry["chance"], color="grey", ls=":", label="chance")
    best = max((e["best"] for e in table.values() if e["best"]), key=lambda b: b["exact"], default=None)
    if best:
        # the strongest cheap predictor over all cells: a point under this line shows nothing learned
        ax.axhline(100 * best["exact"], color="grey", ls="--", label=f"best baseline, highest cell ({best['name']})")
    ax.set_xscale("log", base=2 if axis == "d_model" else 10)
    ax.set_xlabel(axis)
    ax.set_ylabel("exact on held-out symbols (%)")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path)


def trend(table: dict[tuple[str, str, Any], dict[str, Any]], axis: str) -> str:
    """Spearman rho of held-out accuracy on the swept quantity over every
    run (not means), with a two-sided permutation p: does accuracy fall or
    rise along the axis?  "no trend" unless p < 0.05."""
    from lengthgen.reporting.conjecture import permutation_p, spearman

    rows = []
    for bench, label in sorted({k[:2] for k in table}):
        xs, ys = [], []
        for (b, lab, value), e in table.items():
            if (b, lab) == (bench, label):
                xs += [float(value)] * len(e["heldout_runs"])
                ys += e["heldout_runs"]
        if len(set(xs)) < 2 or len(set(ys)) < 2:
            rows.append([bench, label, len(xs), "-", "-", "no trend (too few distinct values)"])
            continue
        rho, p = spearman(xs, ys), permutation_p(xs, ys)
        verdict = "no trend" if p >= 0.05 else ("rises" if rho > 0 else "falls") + f" with {axis}"
        rows.append([bench, label, len(xs), f"{rho:+.2f}", f"{p:.3f}", verdict])
    return render_table(["benchmark", "heads", "runs", "Spearman rho", "permutation p", "verdict"], rows, "github")
