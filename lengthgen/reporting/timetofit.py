"""Time to fit: CPU-seconds until a run is fitted in range, per benchmark and recipe.

``lengthgen time-to-fit FOLDER [FOLDER ...]`` reads several folders as one
(a recipe's seeds may come from different sweeps); the same run in two
folders counts once, and two arms the recipe's label cannot tell apart
(different cells for the same seed) keep a row each, named by folder.

A recipe is a model column (model, encoding, sweep variant) and its
training budget (steps, curriculum, stop rule).  For each run: whether it
is fitted (>= FIT_THRESHOLD at the longest training length), the steps it
used (stop-when-fitted ends training at the second consecutive fitted
evaluation) and its training CPU-seconds; per benchmark, the fastest
fitting recipe.  Runs that did not fit show the budget they spent.
"""

from __future__ import annotations

import statistics
from collections import defaultdict

from lengthgen.evaluation.outcomes import format_extrapolation
from lengthgen.evaluation.thresholds import FIT_THRESHOLD
from lengthgen.reporting.loading import load_arms
from lengthgen.reporting.runs import latest_per_seed, summarize_runs
from lengthgen.tables import render_table

MIN_SEEDS = 2  # "fits": in at least this many seeds of a recipe


def with_training_tag(result: dict) -> dict:
    """Grids differ in training (steps, curriculum) as well as in model: the
    recipe's label says so, so a later grid's run does not replace an earlier
    grid's run of the same model and seed."""
    config = result["config"]
    train = config.get("train") or {}
    tag = f"{train.get('steps', '?')} steps" + (", curriculum" if train.get("curriculum") else "")
    tag += ", curriculum on fit" if train.get("curriculum_on_fit") else ""
    tag += ", confident stop" if train.get("stop_confident") else ""
    variant = config.get("variant")
    return {**result, "config": {**config, "variant": f"{variant}, {tag}" if variant else tag}}


def rows_of(folders: list[str]) -> tuple[list[list[str]], list[list[str]], int]:
    results = [with_training_tag(r) for r in load_arms(folders)]
    runs = summarize_runs(latest_per_seed(results))
    detail, best = [], []
    by_recipe: dict[str, dict[str, list]] = defaultdict(lambda: defaultdict(list))
    for r in sorted(runs, key=lambda r: (r.benchmark, r.column, r.seed)):
        by_recipe[r.benchmark][r.column].append(r)
        cpu = r.cpu_seconds if r.cpu_seconds is not None else r.wall_seconds
        detail.append(
            [
                r.benchmark,
                r.column,
                str(r.seed),
                "-" if r.in_range is None else f"{100 * r.in_range:.1f}",
                "yes" if r.fitted else "no",
                str(r.steps),
                "-" if cpu is None else f"{cpu:.0f}",
                format_extrapolation(r.extrapolation, r.fitted),
            ]
        )
    reached = some = 0
    for bench, recipes in sorted(by_recipe.items()):

        def rank(item):
            column, group = item
            fitted = [r for r in group if r.fitted and r.cpu_seconds is not None]
            cpu = statistics.median(r.cpu_seconds for r in fitted) if fitted else float("inf")
            return (-len(fitted), cpu, -max(r.in_range or 0 for r in group))

        column, group = min(recipes.items(), key=rank)
        fitted = [r for r in group if r.fitted and r.cpu_seconds is not None]
        reached += len(fitted) >= MIN_SEEDS
        some += len(fitted) >= 1
        best.append(
            [
                bench,
                str(len(recipes)),
                column if fitted else f"none fitted (best in range: {column})",
                f"{len(fitted)}/{len(group)}",
                f"{statistics.median(r.cpu_seconds for r in fitted):.0f}" if fitted else "-",
                str(max(r.steps for r in fitted)) if fitted else "-",
            ]
        )
    return detail, best, (reached, some)


def time_to_fit_report(folders: list[str], fmt: str = "github") -> str:
    detail, best, (reached, some) = rows_of(folders)
    best_head = ["benchmark", "recipes tried", "best recipe", "seeds fitted", "CPU-s to fit", "most steps"]
    detail_head = ["benchmark", "recipe", "seed", "in-range %", "fitted", "steps", "CPU-s", "extrapolation"]
    return "\n".join(
        [
            f"Fitted: >= {100 * FIT_THRESHOLD:.0f}% at the longest training length. CPU-s: training CPU-seconds "
            "(median over the fitted seeds). Best recipe: most seeds fitted, then fastest.\n",
            render_table(best_head, best, fmt),
            f"\n{reached} of {len(best)} benchmarks fitted by one recipe in at least {MIN_SEEDS} seeds; "
            f"{some} fitted in at least one seed.\n",
            render_table(detail_head, detail, fmt),
        ]
    )
