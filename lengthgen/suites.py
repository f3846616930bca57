"""Benchmark definitions (``tasks/*.yaml``) and suites (``tasks/suites/*.yaml``).

A benchmark file names one task with its parameters, the training length
range, the test lengths and the headline metric::

    task: addition
    params: {reversed: true, index_hints: true}
    train_lengths: 1-10
    test_multiples: [1.5, 2, 3]      # 15, 20, 30: multiples of the longest training length
    test_lengths: 11                 # optional extra lengths
    metric: exact
    recipe:                          # optional: how to fit it in range on 2 CPU cores
      reason: ALiBi fits in 3,750 steps (392 CPU-s); NoPE and RoPE do not in 4,000
      model: transformer
      model_options: {pe: alibi, d_model: 64, n_layers: 3, n_heads: 4}
      training: {steps: 4000, batch_size: 64, lr: 0.001, stop_when_fitted: true}

A recipe is the default model and training for the benchmark: ``lengthgen
run --benchmark`` and suites use it unless the command line, the run file or
the suite says otherwise (``--no-recipe``, or ``recipes: false`` in a
suite); it applies only when the run's model is the recipe's model.

Test lengths on a common grid of multiples of the longest training length
(``test_multiples``) make retention and "solved at 2x" comparable across
benchmarks; both keys may be given and are merged.

A suite lists benchmarks by name (files in the ``tasks/`` folder above the
suite) or by path relative to the suite file, plus sweep settings that the
sweep command uses.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lengthgen.config import check_keys, load_yaml, parse_lengths
from lengthgen.data import find_benchmark
from lengthgen.errors import LengthgenError
from lengthgen.registry import close_matches_hint
from lengthgen.tasks import TASKS, make_task

METRICS = ("exact", "token")


@dataclass(frozen=True)
class Benchmark:
    name: str
    task: str
    params: dict[str, Any]
    train_lengths: list[int]
    test_lengths: list[int]
    metric: str = "exact"
    description: str = ""
    source: str = ""
    test_params: dict[str, Any] = field(default_factory=dict)
    recipe: dict[str, Any] | None = None  # {model, model_options, training, reason}

    def make_task(self):
        return make_task(self.task, **self.params)

    def make_test_task(self):
        """The task evaluated at test lengths (``test_params`` override
        ``params``, e.g. held-out symbols)."""
        return make_task(self.task, **{**self.params, **self.test_params})


BENCHMARK_KEYS: dict[str, Any] = {
    "name": str,
    "description": str,
    "task": str,
    "params": dict,
    "test_params": dict,
    "train_lengths": (str, int, list),
    "test_lengths": (str, int, list),
    "test_multiples": list,
    "metric": str,
    "recipe": dict,
}
RECIPE_KEYS: dict[str, Any] = {"reason": str, "model": str, "model_options": dict, "training": dict}


def check_recipe(recipe: dict[str, Any], source: str) -> dict[str, Any]:
    check_keys(recipe, RECIPE_KEYS, f"{source}: recipe", required=("reason",))
    if not recipe["reason"].strip():
        raise LengthgenError(f"{source}: recipe: 'reason' must say why this recipe (what was tried)")
    return {
        "reason": " ".join(recipe["reason"].split()),
        "model": recipe.get("model") or "transformer",
        "model_options": dict(recipe.get("model_options") or {}),
        "training": dict(recipe.get("training") or {}),
    }


def multiples_to_lengths(multiples: Any, train_max: int, source: str) -> list[int]:
    """``[1.5, 2]`` with a longest training length of 20 -> ``[30, 40]``."""
    if not isinstance(multiples, list) or not multiples:
        raise LengthgenError(f"{source}: key 'test_multiples' expects a non-empty list of numbers > 1")
    out = []
    for m in multiples:
        if isinstance(m, bool) or not isinstance(m, (int, float)) or not 1.0 < m <= 1000:
            raise LengthgenError(f"{source}: key 'test_multiples' expects numbers in (1, 1000], got {m!r}")
        out.append(int(round(m * train_max)))
    return out


def benchmark_from_dict(data: dict[str, Any], source: str, default_name: str = "") -> Benchmark:
    check_keys(data, BENCHMARK_KEYS, source, required=("task", "train_lengths"))
    if "test_lengths" not in data and "test_multiples" not in data:
        raise LengthgenError(f"{source}: give 'test_lengths' or 'test_multiples' (or both)")
    task_name = data["task"]
    if isinstance(task_name, str) and task_name.startswith("rasp:"):
        # a RASP-L program's task (interpreted, no trust needed; registered by
        # whoever builds it, lengthgen.rasp.task); a relative path is the benchmark file's
        program = Path(task_name[len("rasp:") :])
        beside = Path(source).parent / program
        if not program.is_absolute() and not program.is_file() and beside.is_file():
            program = beside
        if not program.is_file():
            raise LengthgenError(f"{source}: key 'task': no such program file {str(program)!r}")
        task_name = f"rasp:{program}"
    elif task_name not in TASKS:
        hint = close_matches_hint(task_name, TASKS.names())
        raise LengthgenError(f"{source}: key 'task': unknown task {task_name!r}{hint}")
    params = data.get("params") or {}
    test_params = data.get("test_params") or {}
    metric = data.get("metric") or "exact"
    if metric not in METRICS:
        raise LengthgenError(f"{source}: key 'metric' must be one of {', '.join(METRICS)}, got {metric!r}")
    try:
        task = make_task(task_name, **params)
        train = parse_lengths(data["train_lengths"], "train_lengths", minimum=0)
        test = parse_lengths(data["test_lengths"], "test_lengths", minimum=0) if "test_lengths" in data else []
        if "test_multiples" in data:
            test = sorted(set(test) | set(multiples_to_lengths(data["test_multiples"], max(train), source)))
        test_task = make_task(task_name, **{**params, **test_params})
        for length in train:
            task.check_length(length)
        for length in test:
            test_task.check_length(length)
    except LengthgenError as exc:
        raise LengthgenError(f"{source}: {exc}") from None
    return Benchmark(
        name=data.get("name") or default_name or task_name,
        task=task_name,
        params=dict(task.config),
        train_lengths=train,
        test_lengths=test,
        metric=metric,
        description=data.get("description") or "",
        source=source,
        test_params={k: test_task.config[k] for k in test_params},
        recipe=check_recipe(data["recipe"], source) if data.get("recipe") is not None else None,
    )


def load_benchmark(path: str | Path) -> Benchmark:
    path = Path(path)
    return benchmark_from_dict(load_yaml(path), str(path), default_name=path.stem)


SUITE_KEYS: dict[str, Any] = {
    "name": str,
    "description": str,
    "benchmarks": list,
    "models": list,
    "pe": list,
    "seeds": (list, int),
    "training": dict,
    "model_config": dict,
    "evaluation": dict,
    "vary": dict,
    "recipes": bool,
    # every benchmark tested at these multiples of its longest training length
    # (replacing its own test lengths; fixed-length benchmarks keep theirs)
    "test_multiples": list,
    # per benchmark, "extrapolates" or "fails": written before the run
    "predictions": dict,
    # folders for module:Class models and tasks (honoured with --trust-config)
    "plugin_path": (str, list),
    # the suite format: 1 (absent) keeps every training default as it was;
    # 2 trains with pack_examples: auto unless the suite says otherwise
    "format": int,
}
SUITE_FORMATS = (1, 2)
PREDICTIONS = ("extrapolates", "fails")


@dataclass(frozen=True)
class Suite:
    name: str
    benchmarks: list[Benchmark]
    settings: dict[str, Any] = field(default_factory=dict)
    description: str = ""
    source: str = ""


def load_suite(path: str | Path) -> Suite:
    path = Path(path)
    data = load_yaml(path)
    check_keys(data, SUITE_KEYS, str(path), required=("benchmarks",))
    tasks_dir = path.resolve().parent.parent
    benchmarks = []
    for entry in data["benchmarks"]:
        if not isinstance(entry, str):
            raise LengthgenError(f"{path}: key 'benchmarks' expects benchmark names, got {entry!r}")
        if entry.endswith((".yaml", ".yml")):
            file = (path.parent / entry).resolve()
        else:
            # beside the suite first (a suite folder carries its benchmarks), then the data resolver
            file = tasks_dir / f"{entry}.yaml"
            if not file.exists():
                try:
                    file = find_benchmark(entry)
                except LengthgenError as exc:
                    raise LengthgenError(f"{path}: {exc}") from None
        benchmarks.append(load_benchmark(file))
    names = [b.name for b in benchmarks]
    dupes = {n for n in names if names.count(n) > 1}
    if dupes:
        raise LengthgenError(f"{path}: benchmark listed twice: {', '.join(sorted(dupes))}")
    settings = {k: v for k, v in data.items() if k not in ("name", "description", "benchmarks")}
    if "test_multiples" in settings:
        multiples_to_lengths(settings["test_multiples"], 1, str(path))  # checks the numbers
    for bench, said in (settings.get("predictions") or {}).items():
        if bench not in names:
            raise LengthgenError(
                f"{path}: predictions name {bench!r}, which is not a benchmark of the suite{close_matches_hint(bench, names)}"
            )
        if said not in PREDICTIONS:
            raise LengthgenError(
                f"{path}: prediction for {bench!r} must be one of {', '.join(PREDICTIONS)}, got {said!r}"
            )
    return Suite(
        name=data.get("name") or path.stem,
        benchmarks=benchmarks,
        settings=settings,
        description=data.get("description") or "",
        source=str(path),
    )
