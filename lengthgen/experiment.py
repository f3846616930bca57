"""One run: build task and model, train, evaluate across lengths, write the result.

A run's configuration comes from (lowest to highest priority) the built-in
defaults, a benchmark file (``benchmark:``), a run YAML (``--config``) and
command-line flags.  The resolved configuration is hashed; the hash names
the run and guards its checkpoint, so a resumed run is the same run.

The configuration itself (fields, merging, provenance, checks, reading a
result file's configuration back) is :mod:`lengthgen.runconfig`.
"""

from __future__ import annotations

import os
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
import torch
from tabulate import tabulate
from tqdm.auto import tqdm

from lengthgen.config import format_lengths
from lengthgen.diagnostics.representation import representation_ranks
from lengthgen.errors import LengthgenError
from lengthgen.evaluation.baselines import BaselineAccumulator, summarize
from lengthgen.evaluation.evaluate import check_fits, evaluate_length, sequence_length
from lengthgen.evaluation.outcomes import (
    fit_block,
    fit_lengths,
    format_extrapolation,
    outcome_block,
)
from lengthgen.evaluation.thresholds import thresholds_dict
from lengthgen.models import MODELS, build_model
from lengthgen.models.positional import RANDOMIZED_KINDS, SEGMENT_KINDS
from lengthgen.results import cell_lock, claim_result_path, environment, write_json_atomic
from lengthgen.runconfig import (  # noqa: F401  (the names scripts and plugins import from here)
    RUN_KEYS,
    RunConfig,
    apply_recipe,
    apply_settings,
    config_of_record,
    drop_recipe,
    record_matches,
    resolve_device,
    uses_autocast,
    validate,
)
from lengthgen.tasks import make_task
from lengthgen.training.data import to_lm_batch
from lengthgen.training.loop import Trainer
from lengthgen.training.tracking import make_tracker
from lengthgen.versions import current_versions

# Ruoss et al. draw positions from a range much larger than any test
# sequence; below a few times the longest one, the test positions are seen
# nearly as often as in training and the encoding tests nothing.
RANDOMIZED_RANGE_FACTOR = 4
RESULT_SCHEMA = 2  # 2: fit block, in-range rows, baselines per row, outcome, compute


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


def offset_span(cfg: RunConfig, task, test_task) -> int | None:
    """The position ids a run's random offsets cover in training, or None
    without offsets: the training option ``offset_span`` where it is set,
    else every position the model reads at the longest length it is trained
    or evaluated on (input ``<sep>`` target; the ``<eos>`` is only a label,
    never read).

    >>> from lengthgen.runconfig import RunConfig
    >>> cfg = RunConfig(task="copy-unique", train_lengths=[1, 5], test_lengths=[10])
    >>> cfg.train.position_offset = "example"
    >>> task, test_task, _ = build(cfg)
    >>> offset_span(cfg, task, test_task)  # 10 tokens, <sep>, 10 tokens
    21
    """
    if cfg.train.position_offset == "none":
        return None
    if cfg.train.offset_span:
        return cfg.train.offset_span
    longest = [sequence_length(task, max(cfg.train_lengths))]
    if cfg.test_lengths:
        longest.append(sequence_length(test_task, max(cfg.test_lengths)))
    return max(longest) - 1


def make_trainer(cfg: RunConfig, task, test_task, model, device: torch.device, **options) -> Trainer:
    """The trainer of a run, probing as every sweep cell does (the first
    test length beyond the range; the test_params inputs where they differ),
    so that a script retraining a committed cell reproduces it.  ``options``
    go to :class:`Trainer` (checkpoint_path, progress, log, ...)."""
    longer = [n for n in cfg.test_lengths if n > max(cfg.train_lengths)]
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
        offset_span=offset_span(cfg, task, test_task),
        autocast=uses_autocast(cfg.precision, device),
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
    claim_result_path(out_dir / f"{name}.json")  # before the lock file: a refused run leaves nothing
    with cell_lock(out_dir, name):
        if reuse_complete:
            done = _complete_result(out_dir / f"{name}.json", cfg.fingerprint())
            if done is not None:
                return done
        return _run_locked(cfg, name, resume, progress, log)


def abacus_reach(model, task, test_task, cfg: RunConfig, examples: int = 64) -> int:
    """The largest place index an abacus table is read at: the longest
    training sequences raised by the largest offset, the longest test
    sequences at offset 0 (measured on sampled examples, seed fixed)."""
    rng = np.random.default_rng([cfg.seed, 17])
    largest = 0
    for source, length, shift in (
        (task, cfg.train_lengths[-1], model.pe.abacus_offset),
        (test_task, cfg.test_lengths[-1], 0),
    ):
        lm = to_lm_batch(source.sample(rng, examples, length))
        tokens = torch.from_numpy(lm.tokens)
        positions = torch.arange(tokens.shape[1]).expand_as(tokens)
        with torch.no_grad():
            largest = max(largest, int(model.encoding_positions(tokens, positions).max()) + shift)
    return largest


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
    if check_result(data) is None and record_matches(data, fingerprint):
        data["_path"], data["_reused"] = str(path), True
        return data
    return None


def _run_locked(cfg: RunConfig, name: str, resume: bool, progress: bool | None, log) -> dict[str, Any]:
    device = resolve_device(cfg.device)
    out_dir = Path(cfg.out)
    result_path = out_dir / f"{name}.json"
    ckpt_path = out_dir / f"{name}.ckpt.pt"
    claim_result_path(result_path)
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
        if model.pe.kind in SEGMENT_KINDS:
            # the table is indexed by the place in a number, so that, not the sequence, must fit
            reach = abacus_reach(model, task, test_task, cfg)
            if reach > model.pe.max_positions:
                raise LengthgenError(
                    f"the abacus table is read up to place {reach} (the longest number's places"
                    f"{f' plus abacus_offset {model.pe.abacus_offset}' if model.pe.abacus_offset else ''}), past "
                    f"max_positions={model.pe.max_positions}; raise --model-opt max_positions or lower the offset"
                )
        elif longest > model.pe.max_positions:
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
        on_point=make_tracker(cfg.track, out_dir / name, name) if cfg.track else None,
    )
    resumed_from = 0
    if resume and trainer.try_resume():
        resumed_from = trainer.state.step
        log(f"resumed {name} from step {resumed_from}")
    elif ckpt_path.exists():
        ckpt_path.unlink()
    started = time.perf_counter()
    # a written model (a compiled program) is evaluated as it is: no step
    state = trainer.run() if MODELS.get(cfg.model).trainable else trainer.state
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
    # evaluation can outlast a short training run: one bar over every example of every length
    bar = tqdm(
        total=len(plan) * cfg.eval_examples,
        desc="eval",
        disable=None if progress is None else not progress,
        dynamic_ncols=True,
        leave=False,
    )
    for length, is_test in sorted(plan):
        rng = np.random.default_rng([cfg.seed, 2, length] + ([] if is_test or not heldout else [1]))
        eval_task = test_task if is_test else task
        baselines = BaselineAccumulator(eval_task, length)
        bar.set_postfix(length=length)  # refreshed: once per length, and the bar names it at once

        def seen(batch, baselines=baselines):
            baselines.add(batch)
            bar.update(len(batch))

        counts = evaluate_length(
            model, eval_task, length, cfg.eval_examples, rng, device, cfg.eval_batch_size, on_batch=seen
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
    bar.close()
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
        "definitions": current_versions(cfg.task, cfg.model, cfg.model_options.get("pe")),
        "provenance": dict(sorted(cfg.sources.items())),  # where each non-default setting came from
        "task": {"name": task.name, "version": task.version, "params": task.config, "test_params": cfg.test_params},
        "model": {
            "name": cfg.model,
            "options": cfg.model_options,
            "parameters": model.num_parameters(),
            "flops_per_token": flops_per_token,
        },
        "environment": environment(device, autocast=trainer.autocast),
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
            "resumed_from_step": resumed_from,  # 0: trained in one go
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
