"""``lengthgen run``: train one model on one task and evaluate across lengths."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from lengthgen.runconfig import RunConfig

from lengthgen.cli.output import add_log_option
from lengthgen.cli.tasks_cmd import parse_params
from lengthgen.config import PRECISIONS, load_yaml
from lengthgen.errors import LengthgenError


def _typed(value: str):
    """Best-effort typing of KEY=VALUE strings for model options; a comma
    list (``+,<sep>`` or ``[+, <sep>]``) becomes a list of typed items."""
    if value.startswith("[") and value.endswith("]") or "," in value:
        items = [v.strip().strip("'\"") for v in value.strip("[]").split(",")]
        return [_typed(v) for v in items if v]
    low = value.lower()
    if low in ("true", "false"):
        return low == "true"
    if low in ("none", "null"):
        return None
    for kind in (int, float):
        try:
            return kind(value)
        except ValueError:
            pass
    return value


def add_parser(sub) -> None:
    p = sub.add_parser("run", help="train one model on one task, evaluate across lengths")
    p.add_argument("--config", help="run YAML (flags override its values)")
    p.add_argument("--benchmark", help="benchmark name or file (task, params and lengths)")
    p.add_argument(
        "--no-recipe", action="store_true", help="ignore the benchmark's recipe (its model and training defaults)"
    )
    p.add_argument("--task", help="a registered task or module:Class (default: count, or the benchmark's)")
    p.add_argument("--param", action="append", default=[], metavar="K=V", help="task parameter")
    p.add_argument("--model", help="a registered model or module:Class (default: transformer, or the recipe's)")
    p.add_argument("--pe", help="positional encoding (rope, learned, none, alibi, ...; a wrong name lists them all)")
    p.add_argument("--model-opt", action="append", default=[], metavar="K=V", help="model option, e.g. d_model=64")
    p.add_argument("--train-lengths", help="e.g. 1-20")
    p.add_argument("--test-lengths", help="e.g. 21,30,40,60")
    p.add_argument("--steps", type=int, help="training steps (default: 2000, or the recipe's)")
    p.add_argument("--batch-size", type=int, help="examples per step (default: 64)")
    p.add_argument("--lr", type=float, help="peak AdamW learning rate (default: 1e-3)")
    p.add_argument("--warmup", type=int, help="linear warm-up steps before cosine decay (default: 100)")
    p.add_argument("--eval-every", type=int, help="steps between training probes (default: 250)")
    p.add_argument(
        "--curriculum",
        action="store_true",
        default=None,
        help="grow the allowed training lengths linearly over the first half of the steps",
    )
    p.add_argument(
        "--curriculum-on-fit",
        action="store_true",
        default=None,
        help="open the training lengths one at a time, the next when the current longest fits (a hop curriculum)",
    )
    p.add_argument(
        "--init-from",
        metavar="CKPT",
        help="start from the weights of another run's checkpoint (RUN.ckpt.pt, kept by running it with "
        "--keep-checkpoint); the same architecture",
    )
    p.add_argument(
        "--trust-config",
        action="store_true",
        help="let --config name Python code (model: package.module:Class); flags may always",
    )
    p.add_argument(
        "--stop-when-fitted",
        action="store_true",
        default=None,
        help="end training after two consecutive evaluations at or above the fit threshold",
    )
    p.add_argument(
        "--stop-confident",
        action="store_true",
        default=None,
        help="with --stop-when-fitted: stop only when the two evaluations together put the 95%% lower bound "
        "at or above the threshold",
    )
    p.add_argument(
        "--stop-on-test-params",
        action="store_true",
        default=None,
        help="with --stop-when-fitted: also require the longest training length fitted on the benchmark's "
        "test_params inputs, which the final fit check reads",
    )
    p.add_argument(
        "--position-offset",
        choices=("none", "example", "batch"),
        help="shift training positions by a random offset per sequence or per batch, so every position id "
        "up to the longest test sequence trains (learned, sinusoidal, fire, abacus)",
    )
    p.add_argument(
        "--offset-span", type=int, help="position ids the offsets cover (default: the longest test sequence)"
    )
    p.add_argument(
        "--pack-examples",
        nargs="?",
        const=True,  # the bare flag; argparse checks choices only on a value given
        default=None,
        choices=("auto",),
        metavar="auto",
        help="pack whole examples side by side into rows, attention confined to each: the padded batch's loss "
        "with less padding (transformer, ut, hyper-ut); '--pack-examples auto' packs only where the model "
        "and encoding allow it",
    )
    p.add_argument(
        "--pack-context",
        type=int,
        help="train on rows of this many tokens packed with consecutive examples from a random start (Zhou et al.)",
    )
    p.add_argument("--eval-examples", type=int, help="examples per test length")
    p.add_argument("--track-rank", action="store_true", default=None, help="log the rank of W_t - W_0 per layer")
    p.add_argument("--rank-every", type=int, help="steps between rank measurements (default: --eval-every)")
    p.add_argument(
        "--representation-rank",
        action="store_true",
        default=None,
        help="RankMe and LiDAR of final hidden states at every evaluated length",
    )
    p.add_argument("--parametrization", choices=("standard", "mup"), help="transformer init/lr scaling (muP for Adam)")
    p.add_argument("--base-width", type=int, help="muP base width (default 64)")
    p.add_argument("--seed", type=int, help="seed of the model, data and evaluation (default: 0)")
    p.add_argument(
        "--data-seed",
        type=int,
        help="seed of the training stream alone (batches, offsets), so one initialisation can meet another "
        "stream (default: --seed)",
    )
    p.add_argument("--device", help="auto (default), cpu, cuda, cuda:N")
    p.add_argument(
        "--precision",
        choices=PRECISIONS,
        help="training precision: auto (default) is bf16 autocast on CUDA and float32 on the CPU; float32 makes "
        "a GPU run comparable with CPU runs (not part of a run's identity)",
    )
    p.add_argument(
        "--compile",
        action="store_true",
        default=None,
        help="torch.compile the training forward (pays on GPUs; measured not to on small CPU models)",
    )
    p.add_argument("--out", help="folder for the result JSON and checkpoint (default results/runs)")
    p.add_argument("--name", help="run name (default: derived from the config hash)")
    p.add_argument(
        "--no-resume",
        action="store_true",
        help="start from scratch even if a checkpoint or a finished result of the same run exists",
    )
    add_log_option(p, "the run")
    p.add_argument(
        "--keep-checkpoint",
        action="store_true",
        help="keep NAME.ckpt.pt beside the result (scripts that read the trained model need it); by default "
        "a finished run's checkpoint is removed, the result being final",
    )
    p.add_argument(
        "--dry-run",
        action="store_true",
        help="check the configuration, build the model and say what the run would do (where it writes, "
        "parameters, estimated cost, whether it would reuse or resume), train nothing",
    )
    p.add_argument(
        "--print-config",
        action="store_true",
        help="print every setting with its value and where it came from (flag, run file, benchmark, recipe, default), run nothing",
    )
    p.set_defaults(func=cmd_run)


def config_from_args(args) -> RunConfig:
    from lengthgen.runconfig import RunConfig, apply_settings

    cfg = RunConfig()
    if args.config:
        path = Path(args.config)
        cfg = apply_settings(cfg, load_yaml(path), str(path), base_dir=path.parent, allow_code=args.trust_config)
    flags = {
        "benchmark": args.benchmark,
        "task": args.task,
        "model": args.model,
        "pe": args.pe,
        "train_lengths": args.train_lengths,
        "test_lengths": args.test_lengths,
        "seed": args.seed,
        "eval_examples": args.eval_examples,
        "device": args.device,
        "precision": args.precision,
        "compile": args.compile,
        "track": args.log,
        "out": args.out,
        "name": args.name,
        "representation_rank": args.representation_rank,
    }
    if args.no_recipe:
        flags["recipe"] = False
    if args.param:
        flags["params"] = parse_params(args.param)
    model_options = {k: _typed(v) for k, v in parse_params(args.model_opt).items()}
    if args.parametrization:
        model_options["parametrization"] = args.parametrization
    if args.base_width is not None:
        model_options["base_width"] = args.base_width
    if model_options:
        flags["model_options"] = model_options
    training = {
        "steps": args.steps,
        "batch_size": args.batch_size,
        "lr": args.lr,
        "warmup": args.warmup,
        "eval_every": args.eval_every,
        "curriculum": args.curriculum,
        "curriculum_on_fit": args.curriculum_on_fit,
        "init_from": args.init_from,
        "stop_when_fitted": args.stop_when_fitted,
        "stop_confident": args.stop_confident,
        "stop_on_test_params": args.stop_on_test_params,
        "position_offset": args.position_offset,
        "offset_span": args.offset_span,
        "pack_context": args.pack_context,
        "pack_examples": args.pack_examples,
        "track_rank": args.track_rank,
        "rank_every": args.rank_every,
        "data_seed": args.data_seed,
    }
    training = {k: v for k, v in training.items() if v is not None}
    if training:
        flags["training"] = training
    return apply_settings(cfg, {k: v for k, v in flags.items() if v is not None}, "command line", allow_code=True)


def cmd_run(args) -> int:
    from lengthgen.experiment import fit_line, results_table, run_experiment

    cfg = config_from_args(args)
    if args.print_config:
        from lengthgen.runconfig import render_provenance, validate

        validate(cfg)
        print(render_provenance(cfg))
        return 0
    if args.dry_run:
        print(dry_run_report(cfg))
        return 0
    # an identical finished run is reused, as bench reuses a finished cell
    result = run_experiment(
        cfg, resume=not args.no_resume, log=lambda m: print(m, file=sys.stderr), reuse_complete=not args.no_resume
    )
    if result.get("_reused"):
        print(f"reused the finished result of the same run: {result['_path']}", file=sys.stderr)
    if not args.keep_checkpoint:
        Path(result["_path"]).with_suffix(".ckpt.pt").unlink(missing_ok=True)
    print(
        f"{result['name']}: {result['model']['parameters']:,} parameters, "
        f"{result['wall_time_s']['train']:.1f}s training, {result['wall_time_s']['eval']:.1f}s evaluation"
    )
    print(results_table(result))
    print(fit_line(result))
    if result.get("diagnostics", {}).get("rank_curve"):
        last = result["diagnostics"]["rank_curve"][-1]
        ranks = [v["rank"] for v in last["layers"].values()]
        print(
            f"rank of W_t - W_0 at step {last['step']}: median {sorted(ranks)[len(ranks) // 2]} over {len(ranks)} matrices"
        )
    print(f"result: {result['_path']}")
    return 0


def dry_run_report(cfg) -> str:
    """What ``run`` would do with ``cfg``, after every check it makes before training."""
    from lengthgen.evaluation.evaluate import check_fits, sequence_length
    from lengthgen.experiment import _complete_result, build, validate
    from lengthgen.results import claim_result_path
    from lengthgen.sweeps.cells import ASSUMED_FLOPS_PER_THREAD, estimate_training

    validate(cfg)
    out, name = Path(cfg.out), cfg.run_name()
    if out.exists() and not out.is_dir():
        raise LengthgenError(f"--out {out}: exists and is not a folder")
    existing = next(p for p in [out, *out.absolute().parents] if p.exists())
    if not os.access(existing, os.W_OK):  # checked without creating anything
        raise LengthgenError(f"--out {out}: cannot write there ({existing} is not writable)")
    result_path = out / f"{name}.json"
    claim_result_path(result_path)
    task, test_task, model = build(cfg)
    for length in cfg.test_lengths:
        check_fits(model, sequence_length(test_task, length), 1, f"evaluation at length {length}")
    gflops, params = estimate_training(cfg)
    minutes = gflops * 1e9 / ASSUMED_FLOPS_PER_THREAD / 60
    if _complete_result(result_path, cfg.fingerprint()) is not None:
        then = "reuse the finished result of this run (--no-resume trains again)"
    elif (out / f"{name}.ckpt.pt").exists():
        then = "resume from the checkpoint beside it"
    elif result_path.exists():
        then = "train and replace the earlier result of another configuration"
    else:
        then = "train from step 0"
    lengths = ", ".join(str(n) for n in cfg.test_lengths)
    return "\n".join(
        [
            f"run {name}: {cfg.task} with {cfg.model} ({params:,} parameters)",
            f"  result     {result_path}",
            f"  training   {cfg.train.steps:,} steps of batch {cfg.train.batch_size} at lengths "
            f"{min(cfg.train_lengths)}-{max(cfg.train_lengths)}: about {gflops:,.0f} GFLOPs "
            f"(~{minutes:.1f} thread-minutes at {ASSUMED_FLOPS_PER_THREAD / 1e9:.0f} GFLOP/s)",
            f"  evaluation {cfg.eval_examples:,} examples at each of {lengths}",
            f"  would      {then}",
            "nothing was trained (--dry-run)",
        ]
    )
