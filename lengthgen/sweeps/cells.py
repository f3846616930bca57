"""Expanding a suite into cells and telling which cells are already done."""

from __future__ import annotations

import copy
import fnmatch
import itertools
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from lengthgen.config import check_keys
from lengthgen.errors import LengthgenError
from lengthgen.experiment import RunConfig, apply_settings, config_of_record, record_matches, validate
from lengthgen.models import MODELS, build_model
from lengthgen.plugins import add_plugin_paths_from, ensure_model
from lengthgen.registry import close_matches_hint, filter_names
from lengthgen.reporting.loading import read_result
from lengthgen.suites import SUITE_FORMATS, Suite, multiples_to_lengths
from lengthgen.tasks import make_task
from lengthgen.training.loop import TrainConfig
from lengthgen.versions import unreproducible

# Rough sustained training throughput of one worker thread on this project's
# small models (measured with benchmarks/model_throughput.py on 2 cores), used
# only for --dry-run estimates.
ASSUMED_FLOPS_PER_THREAD = 40e9
MAX_CELLS = 100_000
MAX_SEEDS = 10_000


@dataclass
class Cell:
    benchmark: str
    model: str
    pe: str | None
    seed: int
    config: RunConfig

    @property
    def key(self) -> str:
        """File name stem: a hash of the resolved configuration."""
        return self.config.fingerprint()[:16]

    @property
    def label(self) -> str:
        variant = f"[{self.config.variant}]" if self.config.variant else ""
        return f"{self.benchmark}/{self.model}{'+' + self.pe if self.pe else ''}{variant}/s{self.seed}"

    def result_path(self) -> Path:
        return Path(self.config.out) / f"{self.key}.json"

    def estimated_gflops(self) -> float:
        return estimate_training(self.config)[0]


def estimate_training(cfg: RunConfig) -> tuple[float, int]:
    """A run's training cost in GFLOPs (3 x forward FLOPs x tokens seen) and
    its model's parameters, from the configuration alone."""
    task = make_task(cfg.task, **cfg.params)
    model = build_model(cfg.model, task.vocab_size, task.vocab, **cfg.model_options)
    mean_len = sum(cfg.train_lengths) / len(cfg.train_lengths)
    seq = 2 * mean_len + 4  # input + target + separators, roughly, for most tasks
    tokens = cfg.train.steps * cfg.train.batch_size * seq
    params = sum(p.numel() for p in model.parameters())
    return 3 * model.flops_per_token(int(seq / 2)) * tokens / 1e9, params


def _as_list(value: Any, source: str, key: str) -> list:
    if value is None:
        return []
    items = value if isinstance(value, list) else [value]
    if not all(isinstance(v, str) for v in items):
        raise LengthgenError(f"{source}: key {key!r} expects a list of names, got {value!r}")
    return items


TRAIN_FIELDS = {f.name for f in fields(TrainConfig)}


def variants_of(vary: dict[str, Any], source: str) -> list[tuple[tuple[str, Any], ...]]:
    """The grid of a suite's ``vary`` key: every combination of the listed
    values of training options (e.g. ``train_examples``) and model options
    (e.g. ``d_model``).  No ``vary`` gives one empty variant."""
    if not isinstance(vary, dict):
        raise LengthgenError(f"{source}: key 'vary' expects a mapping of option -> list of values")
    keys = sorted(vary)
    total = 1
    for key in keys:
        if not isinstance(vary[key], list) or not vary[key]:
            raise LengthgenError(f"{source}: vary.{key} expects a non-empty list of values")
        total *= len(vary[key])
    if total > MAX_CELLS:
        raise LengthgenError(f"{source}: the vary grid has {total:,} combinations (at most {MAX_CELLS:,})")
    return [tuple(zip(keys, combo)) for combo in itertools.product(*(vary[k] for k in keys))]


MAX_CELLS = 100_000  # far above any study here (the largest has 240), far below what exhausts memory


def seeds_of(setting: Any, source: str) -> list[int]:
    if setting is None:
        return [0]
    if isinstance(setting, int) and not isinstance(setting, bool):
        if setting < 1:
            raise LengthgenError(f"{source}: key 'seeds' must be >= 1 (a count) or a list of seeds")
        if setting > MAX_SEEDS:
            raise LengthgenError(f"{source}: key 'seeds' must be at most {MAX_SEEDS:,}")
        return list(range(setting))
    if isinstance(setting, list) and all(isinstance(s, int) and not isinstance(s, bool) and s >= 0 for s in setting):
        return setting
    raise LengthgenError(f"{source}: key 'seeds' expects a count or a list of non-negative integers, got {setting!r}")


def suite_test_lengths(multiples: list, cfg: RunConfig, source: str) -> list[int]:
    """The suite's multiples of the longest training length, within what the task can generate."""
    longest = max(cfg.train_lengths)
    top = make_task(cfg.task, **{**cfg.params, **cfg.test_params}).max_length()
    lengths = sorted({n for n in multiples_to_lengths(multiples, longest, source) if top is None or n <= top})
    if not lengths:
        raise LengthgenError(
            f"{source}: no test multiple of {longest} fits {cfg.benchmark or cfg.task} (at most {top})"
        )
    return lengths


def suite_training(settings: dict[str, Any], source: str) -> dict[str, Any]:
    """The suite's training options with its format's defaults: format 2
    packs whole examples wherever the model and encoding allow it (the
    padding-free study, results/studies/padding-free: the same fit rate and
    extrapolation, fitted about 1.5x sooner); format 1 trains as suites
    always did, so that the cells of existing suites keep their identity."""
    fmt = settings.get("format", 1)
    if fmt not in SUITE_FORMATS:
        raise LengthgenError(f"{source}: key 'format' must be one of {', '.join(map(str, SUITE_FORMATS))}, got {fmt!r}")
    training = dict(settings.get("training") or {})
    if fmt >= 2 and "pack_examples" not in training and "pack_examples" not in (settings.get("vary") or {}):
        training["pack_examples"] = "auto"
    return training


def expand(
    suite: Suite,
    out_dir: str | Path,
    tasks: list[str] | None = None,
    models: list[str] | None = None,
    pes: list[str] | None = None,
    seeds: list[int] | None = None,
    limit: int | None = None,
    allow_code: bool = False,
) -> list[Cell]:
    """All cells of ``suite`` after filters, in a stable order."""
    settings = suite.settings
    source = suite.source
    if settings.get("plugin_path") is not None:
        add_plugin_paths_from(settings["plugin_path"], source, Path(source).parent, allow_code)
    model_names = _as_list(settings.get("models"), source, "models") or ["transformer"]
    for name in model_names:
        try:
            ensure_model(name, allow_code)
        except LengthgenError as exc:
            raise LengthgenError(f"{source}: {exc}") from None
        MODELS.get(name)
    pe_list = _as_list(settings.get("pe"), source, "pe")
    seed_list = seeds_of(settings.get("seeds"), source)
    model_config = settings.get("model_config") or {}
    for name, opts in model_config.items():
        if name not in model_names:
            raise LengthgenError(
                f"{source}: model_config names {name!r}, which is not in 'models'{close_matches_hint(name, model_names)}"
            )
        if not isinstance(opts, dict):
            raise LengthgenError(f"{source}: model_config.{name} expects a mapping of options")
    training = suite_training(settings, source)
    variants = variants_of(settings.get("vary") or {}, source)
    evaluation = settings.get("evaluation") or {}
    check_keys(evaluation, {"examples": int, "batch_size": int}, f"{source}: evaluation")

    bench_names = [b.name for b in suite.benchmarks]
    chosen_bench = set(filter_names(bench_names, tasks, "tasks", bench_names + [b.task for b in suite.benchmarks]))
    chosen_bench |= {b.name for b in suite.benchmarks if tasks and any(fnmatch.fnmatch(b.task, p) for p in tasks)}
    model_names = filter_names(model_names, models, "models", model_names)
    if pes:
        pe_list = filter_names(pe_list, pes, "pe", pe_list) if pe_list else pes
    if seeds is not None:
        seed_list = [s for s in seed_list if s in seeds] if settings.get("seeds") is not None else seeds

    # the grid's size before any configuration is built: a suite of a million cells is a one-line error
    planned = len(chosen_bench) * len(model_names) * max(1, len(pe_list or [None])) * len(variants) * len(seed_list)
    if planned > MAX_CELLS and (limit is None or limit > MAX_CELLS):
        raise LengthgenError(
            f"{source}: the suite expands to up to {planned:,} cells (benchmarks x models x encodings x variants x "
            f"seeds), more than {MAX_CELLS:,}; split it, or filter with --tasks/--models/--pe/--seeds or --limit"
        )
    cells: list[Cell] = []
    for bench in suite.benchmarks:
        if bench.name not in chosen_bench:
            continue
        if limit is not None and len(cells) >= limit:
            break
        for model in model_names:
            takes_pe = "pe" in MODELS.get(model).options()
            for pe in (pe_list or [None]) if takes_pe else [None]:
                for variant in variants:
                    for seed in seed_list:
                        cfg = RunConfig(out=str(out_dir))
                        data: dict[str, Any] = {
                            "benchmark": bench.source,
                            "model": model,
                            "seed": seed,
                            "recipe": settings.get("recipes", True),
                        }
                        opts = dict(model_config.get(model) or {})
                        train_opts = copy.deepcopy(training)
                        for key, value in variant:
                            (train_opts if key in TRAIN_FIELDS else opts)[key] = value
                        if pe is not None:
                            opts["pe"] = pe
                        if opts:
                            data["model_options"] = opts
                        if train_opts:
                            data["training"] = train_opts
                        if "examples" in evaluation:
                            data["eval_examples"] = evaluation["examples"]
                        if "batch_size" in evaluation:
                            data["eval_batch_size"] = evaluation["batch_size"]
                        cfg = apply_settings(cfg, data, source, allow_code=allow_code)
                        if "test_multiples" in settings and len(set(cfg.train_lengths)) > 1:
                            cfg.test_lengths = suite_test_lengths(settings["test_multiples"], cfg, source)
                        cfg.benchmark = bench.name
                        cfg.variant = ",".join(f"{k}={v}" for k, v in variant)
                        validate(cfg)
                        cfg.name = cfg.fingerprint()[:16]
                        resolved_pe = cfg.model_options.get("pe") if takes_pe else None
                        cells.append(Cell(bench.name, model, resolved_pe, seed, cfg))
    # a vary list that repeats a value gives the same configuration twice: one cell
    unique: dict[str, Cell] = {}
    for cell in cells:
        unique.setdefault(cell.key, cell)
    cells = list(unique.values())
    if limit is not None:
        if limit < 1:
            raise LengthgenError(f"--limit must be >= 1, got {limit}")
        cells = cells[:limit]
    if not cells:
        raise LengthgenError("the filters leave no cell to run")
    return cells


def is_complete(cell: Cell) -> bool:
    """A result file counts only if it parses, is whole and belongs to this
    cell: its own file, or a record of an earlier definition version that
    today's code rebuilds into this cell (:mod:`lengthgen.versions`)."""
    fingerprint = cell.config.fingerprint()
    if _whole_result_of(cell.result_path(), fingerprint):
        return True
    return fingerprint in earlier_records(Path(cell.config.out))


def _whole_result_of(path: Path, fingerprint: str) -> bool:
    try:
        data = read_result(path)
    except (OSError, ValueError, RecursionError):
        return False
    return (
        isinstance(data, dict)
        and record_matches(data, fingerprint)
        and isinstance(data.get("results"), list)
        and len(data["results"]) > 0
    )


_EARLIER: dict[Path, tuple[int, dict[str, Path]]] = {}  # folder -> (state of its files, index)


def earlier_records(folder: Path) -> dict[str, Path]:
    """Today's fingerprint -> file, for the folder's records made by earlier
    definition versions (their files carry their old fingerprint's name).
    Read again whenever a file in the folder changes."""
    try:
        files = sorted(folder.glob("*.json"))
        stamp = hash(tuple((f.name, f.stat().st_mtime_ns, f.stat().st_size) for f in files))
    except OSError:
        return {}
    cached = _EARLIER.get(folder)
    if cached and cached[0] == stamp:
        return cached[1]
    index: dict[str, Path] = {}
    for path in files:
        try:
            data = read_result(path)
        except (OSError, ValueError, RecursionError):
            continue
        if not isinstance(data, dict) or not isinstance(data.get("results"), list) or not data["results"]:
            continue
        if data.get("definitions") or unreproducible(data):
            continue  # made at today's versions (its own name finds it), or not rebuildable
        try:
            index[config_of_record(data).fingerprint()] = path
        except (LengthgenError, TypeError, ValueError, KeyError):
            continue
    _EARLIER[folder] = (stamp, index)
    return index
