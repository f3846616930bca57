"""One run: build task and model, train, evaluate across lengths, write the result.

A run's configuration comes from (lowest to highest priority) the built-in
defaults, a benchmark file (``benchmark:``), a run YAML (``--config``) and
command-line flags.  The resolved configuration is hashed; the hash names
the run and guards its checkpoint, so a resumed run is the same run.

Long (about 590 lines): configuration resolution, recipes and the
run's identity sit next to the run they define, so that what enters the
fingerprint is read in one place.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from dataclasses import asdict, dataclass, field, fields
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
import torch
from tabulate import tabulate

from lengthgen.config import check_keys, format_lengths, parse_lengths
from lengthgen.data import find_benchmark
from lengthgen.diagnostics.representation import representation_ranks
from lengthgen.errors import LengthgenError
from lengthgen.evaluation.baselines import BaselineAccumulator, summarize
from lengthgen.evaluation.evaluate import check_fits, evaluate_length, sequence_length
from lengthgen.evaluation.outcomes import (
    check_longest_training_length,
    fit_block,
    fit_lengths,
    format_extrapolation,
    outcome_block,
)
from lengthgen.evaluation.thresholds import thresholds_dict
from lengthgen.models import LATE_OPTIONS, MODELS, build_model, resolve_model_options
from lengthgen.models.positional import ENCODING_OPTIONS, PE_VERSIONS, RANDOMIZED_KINDS
from lengthgen.plugins import ensure_model, ensure_task
from lengthgen.results import cell_lock, check_name, environment, write_json_atomic
from lengthgen.suites import METRICS, load_benchmark
from lengthgen.tasks import TASKS, make_task
from lengthgen.training.loop import LATE_TRAIN_OPTIONS, TrainConfig, Trainer

# Ruoss et al. draw positions from a range much larger than any test
# sequence; below a few times the longest one, the test positions are seen
# nearly as often as in training and the encoding tests nothing.
RANDOMIZED_RANGE_FACTOR = 4
RESULT_SCHEMA = 2  # 2: fit block, in-range rows, baselines per row, outcome, compute


@dataclass
class RunConfig:
    task: str = ""
    params: dict[str, Any] = field(default_factory=dict)
    test_params: dict[str, Any] = field(default_factory=dict)
    model: str = "transformer"
    model_options: dict[str, Any] = field(default_factory=dict)
    train_lengths: list[int] = field(default_factory=list)
    test_lengths: list[int] = field(default_factory=list)
    metric: str = "exact"
    seed: int = 0
    train: TrainConfig = field(default_factory=TrainConfig)
    eval_examples: int = 500
    eval_batch_size: int = 256
    representation_rank: bool = False  # RankMe and LiDAR at every evaluated length
    benchmark: str = ""
    variant: str = ""  # a sweep's "vary" setting for this run, e.g. "d_model=64"
    # where and how to run: not part of the run's identity
    device: str = "auto"
    out: str = "results/runs"
    name: str = ""
    compile: bool = False  # torch.compile the training forward (see benchmarks/model_throughput.py)
    # the benchmark recipe whose values were merged in (so a later change of
    # model can take them out again); its values are in the fields above, and
    # a run's identity must not change with how they got there
    applied_recipe: dict[str, Any] | None = field(default=None, repr=False)

    IDENTITY_EXCLUDES = ("device", "out", "name", "compile", "applied_recipe")

    def identity(self) -> dict[str, Any]:
        data = asdict(self)
        for key in self.IDENTITY_EXCLUDES:
            data.pop(key)
        data["model_options"] = {
            k: v for k, v in data["model_options"].items() if not (k in LATE_OPTIONS and v == LATE_OPTIONS[k])
        }
        data["train"] = {
            k: v for k, v in data["train"].items() if not (k in LATE_TRAIN_OPTIONS and v == LATE_TRAIN_OPTIONS[k])
        }
        # likewise task parameters added later (Param.late), at their default
        spec = TASKS.get(self.task).params if self.task in TASKS else {}
        data["params"] = {
            k: v for k, v in data["params"].items() if not (k in spec and spec[k].late and v == spec[k].default)
        }
        # a task whose generator changed (version 2 on) is another run: results
        # and checkpoints of the old version must not count as this one's.
        # Version 1 stays out, so runs of unchanged tasks keep their fingerprints.
        version = TASKS.get(self.task).version if self.task in TASKS else 1
        if version > 1:
            data["task_version"] = version
        pe_version = PE_VERSIONS.get(self.model_options.get("pe"), 1)
        if pe_version > 1:
            data["pe_version"] = pe_version
        return data

    def fingerprint(self) -> str:
        blob = json.dumps(self.identity(), sort_keys=True, default=str)
        return hashlib.sha256(blob.encode()).hexdigest()

    def run_name(self) -> str:
        if self.name:
            return check_name(self.name)
        pe = self.model_options.get("pe")
        parts = (
            [(self.benchmark or self.task).replace(":", "-"), self.model.replace(":", "-")]
            + ([pe] if pe else [])
            + [f"s{self.seed}", self.fingerprint()[:8]]
        )
        return check_name("-".join(parts))


RUN_KEYS: dict[str, Any] = {
    "benchmark": str,
    "task": str,
    "params": dict,
    "test_params": dict,
    "model": str,
    "pe": str,
    "model_options": dict,
    "train_lengths": (str, int, list),
    "test_lengths": (str, int, list),
    "metric": str,
    "seed": int,
    "training": dict,
    "eval_examples": int,
    "eval_batch_size": int,
    "representation_rank": bool,
    "device": str,
    "out": str,
    "name": str,
    "compile": bool,
    "recipe": bool,
}


def _train_types() -> dict[str, Any]:
    out = {}
    for f in fields(TrainConfig):
        kind = type(f.default)
        out[f.name] = (int, float) if kind is float else kind
    return out


def apply_settings(
    cfg: RunConfig, data: dict[str, Any], source: str, base_dir: Path | None = None, allow_code: bool = False
) -> RunConfig:
    """Merge a mapping of run settings (from YAML or flags) into ``cfg``.

    ``allow_code``: a model or task given as ``package.module:Class`` may be
    imported (command-line flags, or a config the user trusts)."""
    check_keys(data, RUN_KEYS, source)
    if data.get("recipe") is False:
        drop_recipe(cfg)
    for key, ensure in (("model", ensure_model), ("task", ensure_task)):
        if isinstance(data.get(key), str):
            try:
                ensure(data[key], allow_code)
            except LengthgenError as exc:
                raise LengthgenError(f"{source}: {exc}") from None
    if data.get("benchmark"):
        path = Path(data["benchmark"])
        if base_dir is not None and not path.is_absolute() and not path.exists() and (base_dir / path).is_file():
            path = base_dir / path
        elif not path.exists():
            path = find_benchmark(data["benchmark"])
        bench = load_benchmark(path)
        cfg.benchmark, cfg.task, cfg.params, cfg.test_params = (
            bench.name,
            bench.task,
            dict(bench.params),
            dict(bench.test_params),
        )
        cfg.train_lengths, cfg.test_lengths, cfg.metric = bench.train_lengths, bench.test_lengths, bench.metric
        model = data.get("model") or cfg.model
        if bench.recipe and data.get("recipe", True) and model == bench.recipe["model"]:
            apply_recipe(cfg, bench.recipe, f"{source}: recipe of {bench.source}")
    if data.get("task") is not None:
        if data["task"] != cfg.task:
            cfg.params, cfg.test_params = {}, {}
        cfg.task = data["task"]
    for key in ("params", "test_params", "model_options"):
        if data.get(key) is not None:
            setattr(cfg, key, {**getattr(cfg, key), **data[key]})
    if data.get("model") is not None:
        if data["model"] != cfg.model:
            drop_recipe(cfg)
        cfg.model = data["model"]
    if data.get("pe") is not None:
        cfg.model_options = {**cfg.model_options, "pe": data["pe"]}
    if cfg.applied_recipe is not None:
        # options the recipe set for its encoding: a run that overrides the
        # encoding drops them instead of failing on them
        pe = cfg.model_options.get("pe")
        for key, kinds in ENCODING_OPTIONS.items():
            recipe_value = cfg.applied_recipe["model_options"].get(key)
            if pe not in kinds and key in cfg.model_options and cfg.model_options[key] == recipe_value:
                cfg.model_options.pop(key)
    for key in ("train_lengths", "test_lengths"):
        if data.get(key) is not None:
            # 0 parses (c-pvr's zero hops); each task checks its own minimum in validate()
            setattr(cfg, key, parse_lengths(data[key], f"{source}: {key}", minimum=0))
    for key in (
        "metric", "seed", "eval_examples", "eval_batch_size", "representation_rank", "device", "out", "name", "compile"
    ):  # fmt: skip
        if data.get(key) is not None:
            setattr(cfg, key, data[key])
    if data.get("training"):
        check_keys(data["training"], _train_types(), f"{source}: training")
        for key, value in data["training"].items():
            kind = type(getattr(TrainConfig, key))
            setattr(cfg.train, key, kind(value) if kind is float else value)
    return cfg


def apply_recipe(cfg: RunConfig, recipe: dict[str, Any], source: str) -> None:
    """A benchmark's recipe, under whatever the same settings or later ones give."""
    check_keys(recipe["training"], _train_types(), f"{source}: training")
    cfg.model_options = {**cfg.model_options, **recipe["model_options"]}
    for key, value in recipe["training"].items():
        kind = type(getattr(TrainConfig, key))
        setattr(cfg.train, key, kind(value) if kind is float else value)
    cfg.applied_recipe = recipe


def drop_recipe(cfg: RunConfig) -> None:
    """A later setting changed the model: the recipe's options were for
    another model; drop those still at the recipe's value."""
    recipe = cfg.applied_recipe
    if recipe is None:
        return
    for key, value in recipe["model_options"].items():
        if cfg.model_options.get(key) == value:
            cfg.model_options.pop(key)
    defaults = TrainConfig()
    for key, value in recipe["training"].items():
        if getattr(cfg.train, key) == value:
            setattr(cfg.train, key, getattr(defaults, key))
    cfg.applied_recipe = None


def validate(cfg: RunConfig) -> None:
    if not cfg.task:
        raise LengthgenError("no task given (use --task, --benchmark or a config file)")
    # a RunConfig already passed the trust check where it was read; a worker
    # process re-imports the user's code here
    ensure_model(cfg.model)
    ensure_task(cfg.task)
    if not cfg.train_lengths or not cfg.test_lengths:
        raise LengthgenError("both training lengths and test lengths are needed (--train-lengths, --test-lengths)")
    check_longest_training_length(cfg.train_lengths)
    if cfg.metric not in METRICS:
        raise LengthgenError(f"metric must be one of {', '.join(METRICS)}, got {cfg.metric!r}")
    if not 0 <= cfg.seed < 2**63:
        raise LengthgenError(f"seed must be in 0..2^63-1, got {cfg.seed}")
    if not 1 <= cfg.eval_examples <= 1_000_000 or not 1 <= cfg.eval_batch_size <= 100_000:
        raise LengthgenError("eval_examples must be in 1..1,000,000 and eval_batch_size in 1..100,000")
    task = make_task(cfg.task, **cfg.params)
    test_task = make_task(cfg.task, **{**cfg.params, **cfg.test_params})
    for length in cfg.train_lengths:
        task.check_length(length)
    for length in cfg.test_lengths:
        test_task.check_length(length)
    MODELS.get(cfg.model)
    cfg.params = dict(task.config)
    cfg.test_params = {k: test_task.config[k] for k in cfg.test_params}
    options = MODELS.get(cfg.model).options()
    if (
        task.symbolic_answers
        and "tie_embeddings" in options
        and "tie_embeddings" not in cfg.model_options
        and cfg.model_options.get("parametrization", options.get("parametrization")) != "mup"
    ):
        # unseen symbols can only be emitted through the tied embedding rows;
        # an explicit tie_embeddings=false still gets the untied readout
        cfg.model_options = {**cfg.model_options, "tie_embeddings": True}
    cfg.model_options = resolve_model_options(cfg.model, cfg.model_options)
    cfg.train.validate()
    resolve_device(cfg.device)
    cfg.run_name()


def resolve_device(spec: str) -> torch.device:
    if spec == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        device = torch.device(spec)
    except RuntimeError:
        raise LengthgenError(f"unknown device {spec!r} (use auto, cpu, cuda or cuda:N)") from None
    if device.type == "cuda" and not torch.cuda.is_available():
        raise LengthgenError("--device cuda requested but CUDA is not available (use --device auto or cpu)")
    if device.type not in ("cpu", "cuda"):
        raise LengthgenError(f"unsupported device {spec!r} (use auto, cpu, cuda or cuda:N)")
    if device.type == "cpu" and device.index not in (None, 0):
        raise LengthgenError(f"unsupported device {spec!r}: the CPU is 'cpu'")
    if device.type == "cuda" and device.index is not None and device.index >= torch.cuda.device_count():
        raise LengthgenError(f"--device {spec}: only {torch.cuda.device_count()} CUDA device(s) present")
    return device


def build(cfg: RunConfig):
    """The task, test task and freshly initialised model of a run."""
    task = make_task(cfg.task, **cfg.params)
    test_task = make_task(cfg.task, **{**cfg.params, **cfg.test_params})
    # Model initialisation draws from torch's global generator; forking it
    # keeps the seed local to this call instead of reseeding the process.
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(cfg.seed)
        model = build_model(cfg.model, task.vocab_size, task.vocab, **cfg.model_options)
    return task, test_task, model


def make_trainer(cfg: RunConfig, task, test_task, model, device: torch.device, **options) -> Trainer:
    """The trainer of a run, probing as every sweep cell does (the first
    test length beyond the range; the test_params inputs where they differ),
    so that a script retraining a committed cell reproduces it.  ``options``
    go to :class:`Trainer` (checkpoint_path, progress, log, ...)."""
    longer = [n for n in cfg.test_lengths if n > max(cfg.train_lengths)]
    span = None
    if cfg.train.position_offset != "none":
        # random offsets cover the positions the model reads at the longest
        # length evaluated: input <sep> target, the <eos> being only a label
        span = -1 + max(
            [sequence_length(task, max(cfg.train_lengths))]
            + [sequence_length(test_task, max(cfg.test_lengths))] * bool(cfg.test_lengths)
        )
    return Trainer(
        model,
        task,
        cfg.train_lengths,
        cfg.train,
        cfg.seed,
        device,
        probe_length=min(longer) if longer else None,
        # None: the same inputs as training (the stop rule's extra probe only
        # exists where test_params change them)
        probe_task=test_task if cfg.test_params else None,
        compile=cfg.compile,
        offset_span=span,
        **options,
    )


def run_experiment(
    cfg: RunConfig, resume: bool = True, progress: bool | None = None, log=print, reuse_complete: bool = False
) -> dict[str, Any]:
    """Train and evaluate one run.  Two processes asking for the same run
    (same ``out`` and name) take turns on a lock; with ``reuse_complete`` the
    second one returns the first one's result instead of training again."""
    validate(cfg)
    out_dir = Path(cfg.out)
    name = cfg.run_name()
    check_output_folder(out_dir)
    with cell_lock(out_dir, name):
        if reuse_complete:
            done = _complete_result(out_dir / f"{name}.json", cfg.fingerprint())
            if done is not None:
                return done
        return _run_locked(cfg, name, resume, progress, log)


def check_output_folder(out_dir: Path) -> None:
    """Fail before training, not at the first checkpoint, when results
    cannot be written there."""
    if out_dir.exists() and not out_dir.is_dir():
        raise LengthgenError(f"--out {out_dir}: exists and is not a folder")
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        probe = out_dir / f".write-test-{os.getpid()}"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise LengthgenError(f"--out {out_dir}: cannot write there ({exc.strerror or exc})") from None


def _complete_result(path: Path, fingerprint: str) -> dict[str, Any] | None:
    from lengthgen.reporting.loading import check_result, read_result

    try:
        data = read_result(path)
    except (OSError, ValueError, RecursionError):
        return None
    if check_result(data) is None and data.get("fingerprint") == fingerprint:
        data["_path"], data["_reused"] = str(path), True
        return data
    return None


def _run_locked(cfg: RunConfig, name: str, resume: bool, progress: bool | None, log) -> dict[str, Any]:
    device = resolve_device(cfg.device)
    out_dir = Path(cfg.out)
    result_path = out_dir / f"{name}.json"
    ckpt_path = out_dir / f"{name}.ckpt.pt"
    task, test_task, model = build(cfg)
    for length in cfg.test_lengths:  # fail before training, not after
        check_fits(model, sequence_length(test_task, length), 1, f"evaluation at length {length}")
    if model.pe.bounded:
        longest = max(
            [sequence_length(task, n) for n in cfg.train_lengths[-1:]]
            + [sequence_length(test_task, n) for n in cfg.test_lengths[-1:]]
        )
        if model.pe.kind in RANDOMIZED_KINDS and model.pe.max_positions < RANDOMIZED_RANGE_FACTOR * longest:
            raise LengthgenError(
                f"randomized positions need a range of at least {RANDOMIZED_RANGE_FACTOR}x the longest sequence "
                f"({longest} tokens): set --model-opt max_positions={RANDOMIZED_RANGE_FACTOR * longest} or more "
                f"(got {model.pe.max_positions})"
            )
        shifted = sequence_length(task, cfg.train_lengths[-1]) + model.pe.abacus_offset
        if model.pe.abacus_offset and shifted > model.pe.max_positions:
            raise LengthgenError(
                f"abacus_offset {model.pe.abacus_offset} shifts training sequences to position {shifted}, past "
                f"max_positions={model.pe.max_positions}; raise --model-opt max_positions or lower the offset"
            )
        if longest > model.pe.max_positions:
            raise LengthgenError(
                f"sequences of up to {longest} tokens need max_positions >= {longest} for '{model.pe.kind}' "
                f"encodings (got {model.pe.max_positions}); raise --model-opt max_positions"
            )
    model.to(device)
    fingerprint = cfg.fingerprint()
    trainer = make_trainer(
        cfg,
        task,
        test_task,
        model,
        device,
        checkpoint_path=ckpt_path,
        fingerprint=fingerprint,
        progress=progress,
        log=log,
    )
    if resume and trainer.try_resume():
        log(f"resumed {name} from step {trainer.state.step}")
    elif ckpt_path.exists():
        ckpt_path.unlink()
    started = time.perf_counter()
    state = trainer.run()
    train_wall = time.perf_counter() - started

    eval_started = time.perf_counter()
    rows = []
    top = max(cfg.train_lengths)
    heldout = bool(cfg.test_params)
    fit_set = set(fit_lengths(cfg.train_lengths))
    plan = [(n, True) for n in cfg.test_lengths]
    # Fit is measured on the training distribution: where test rows use other
    # parameters (held-out symbols), in-range lengths get a training row too.
    plan += [(n, False) for n in sorted(fit_set) if heldout or n not in cfg.test_lengths]
    for length, is_test in sorted(plan):
        rng = np.random.default_rng([cfg.seed, 2, length] + ([] if is_test or not heldout else [1]))
        eval_task = test_task if is_test else task
        baselines = BaselineAccumulator(eval_task, length)
        counts = evaluate_length(
            model, eval_task, length, cfg.eval_examples, rng, device, cfg.eval_batch_size, on_batch=baselines.add
        )
        row = {
            "length": length,
            "multiple": round(length / top, 4),
            "in_train_range": length <= top,
            "test": is_test,
        }
        if heldout:
            row["heldout"] = is_test  # evaluated with the benchmark's test_params
        row.update(counts.summary())
        row["baseline"] = summarize(baselines.result(), cfg.metric)
        if cfg.representation_rank:
            rep_rng = np.random.default_rng([cfg.seed, 3, length])
            row.update(representation_ranks(model, eval_task, length, min(cfg.eval_examples, 512), rep_rng, device))
        rows.append(row)
    eval_wall = time.perf_counter() - eval_started

    mean_context = float(np.mean(cfg.train_lengths)) * 2
    steps_used = [r["mean_steps"] for r in rows if r["mean_steps"] is not None]
    flops_per_token = model.flops_per_token(int(mean_context), float(np.mean(steps_used)) if steps_used else None)
    result = {
        "schema": RESULT_SCHEMA,
        "name": name,
        "fingerprint": fingerprint,
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "config": {
            **cfg.identity(),
            "train_lengths": format_lengths(cfg.train_lengths),
            "test_lengths": format_lengths(cfg.test_lengths),
        },
        "seed": cfg.seed,
        "task": {"name": task.name, "version": task.version, "params": task.config, "test_params": cfg.test_params},
        "model": {
            "name": cfg.model,
            "options": cfg.model_options,
            "parameters": model.num_parameters(),
            "flops_per_token": flops_per_token,
        },
        "environment": environment(device),
        "wall_time_s": {
            "train": round(state.train_seconds, 3),
            "train_this_session": round(train_wall, 3),
            "eval": round(eval_wall, 3),
            "train_cpu": round(state.cpu_seconds, 3),  # process CPU-seconds in training steps, all threads
        },
        "compute": {
            "train_tokens": state.tokens_seen,
            # forward + backward ~ 3x the forward FLOPs per token
            "train_flops": 3.0 * flops_per_token * state.tokens_seen,
        },
        "training": {
            "steps": state.step,
            "max_steps": cfg.train.steps,
            "stopped_early": state.stopped_early,
            "final_loss": state.curve[-1]["loss"] if state.curve else None,
            "final_train_exact": state.curve[-1].get("train_exact") if state.curve else None,
            "curve": state.curve,
        },
        "diagnostics": {"rank_curve": state.rank_curve} if state.rank_curve else {},
        "metric": cfg.metric,
        "thresholds": thresholds_dict(),
        "fit": fit_block(rows, cfg.metric, top),
        "outcome": outcome_block(rows, cfg.metric, top),
        "results": rows,
    }
    write_json_atomic(result_path, result)
    result["_path"] = str(result_path)
    return result


def results_table(result: dict[str, Any], tablefmt: str = "github") -> str:
    def ci(r, key):
        lo, hi = r[f"{key}_ci"]
        return f"{100 * r[key]:.1f} [{100 * lo:.1f}, {100 * hi:.1f}]"

    metric = result.get("metric", "exact")
    has_steps = any(r["mean_steps"] is not None for r in result["results"])
    has_ranks = any("rankme" in r for r in result["results"])
    has_base = any("baseline" in r for r in result["results"])
    headers = ["length", "range", "n", "exact % [95% CI]", "token % [95% CI]"] + (["mean steps"] if has_steps else [])
    headers += [f"chance {metric} %", f"best baseline {metric} %"] if has_base else []
    headers += ["RankMe", "LiDAR"] if has_ranks else []
    rows = []
    for r in result["results"]:
        row = [r["length"], "train" if r["in_train_range"] else "test", r["n"], ci(r, "exact"), ci(r, "token")]
        if has_steps:
            row.append(f"{r['mean_steps']:.2f}" if r["mean_steps"] is not None else "-")
        if has_base:
            b = r.get("baseline")
            row += (
                [f"{100 * b['chance'][metric]:.1f}", f"{100 * b['best'][metric]:.1f} ({b['best']['name']})"]
                if b
                else ["-", "-"]
            )
        if has_ranks:
            row += [f"{r.get('rankme', 0):.1f}", f"{r.get('lidar', 0):.1f}"]
        rows.append(row)
    return tabulate(rows, headers=headers, tablefmt=tablefmt)


def fit_line(result: dict[str, Any]) -> str:
    """One line: fitted or not, in-range accuracy, extrapolation, compute."""
    fit = result.get("fit") or {}
    out = result.get("outcome") or {}
    metric = result.get("metric", "exact")
    if not fit.get("longest"):
        return "fit: no in-range evaluation"
    longest = fit["longest"]
    status = "fitted" if fit["fitted"] else "NOT fitted"
    text = (
        f"{status} (threshold {100 * fit['threshold']:.0f}% {metric}): {100 * longest[metric]:.1f}% at the longest "
        f"training length {longest['length']}, {100 * fit['range_mean'][metric]:.1f}% over the range"
    )
    if out and fit["fitted"]:
        text += f"; extrapolation {format_extrapolation(out['extrapolation'])} x the longest training length"
    elif out:
        text += "; extrapolation not measured (not fitted in range)"
    if "train_cpu" in result.get("wall_time_s", {}):
        text += f"; {result['wall_time_s']['train_cpu']:.0f} CPU-s, {result['training']['steps']} steps"
        text += " (stopped when fitted)" if result["training"].get("stopped_early") else ""
    return text
