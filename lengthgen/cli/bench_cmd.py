"""``lengthgen bench``, ``lengthgen leaderboard``, ``lengthgen plot``."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from lengthgen.cli.output import add_log_option, emit
from lengthgen.config import PRECISIONS, parse_lengths
from lengthgen.data import find_suite
from lengthgen.errors import LengthgenError
from lengthgen.registry import filter_names
from lengthgen.reporting.leaderboard import FORMATS, METRIC_CHOICES, aggregate, render
from lengthgen.reporting.loading import benchmark_of, load_results
from lengthgen.results import check_name
from lengthgen.suites import load_suite
from lengthgen.sweeps import EXECUTORS


def _csv(value: str | None) -> list[str] | None:
    return [v.strip() for v in value.split(",") if v.strip()] if value else None


def parse_overrides(pairs: list[str]) -> dict:
    """``["training.steps=50", "seed=3"]`` -> ``{"training": {"steps": 50}, "seed": 3}``
    (values read as YAML scalars: numbers, true/false, lists).

    >>> parse_overrides(["training.steps=50", "model_options.pe=rope"])
    {'training': {'steps': 50}, 'model_options': {'pe': 'rope'}}
    """
    import yaml

    out: dict = {}
    for pair in pairs:
        key, sep, raw = pair.partition("=")
        parts = key.strip().split(".")
        if not sep or not all(parts) or len(parts) > 2:
            raise LengthgenError(f"--set {pair!r}: expected KEY=VALUE or SECTION.KEY=VALUE, e.g. training.steps=50")
        try:
            value = yaml.safe_load(raw)
        except yaml.YAMLError:
            value = raw
        if parts[0] in ("out", "name", "device", "precision", "compile", "track"):
            raise LengthgenError(
                f"--set {pair!r}: {parts[0]!r} is where or how cells run, not what they are: use --{parts[0]}"
            )
        if len(parts) == 1:
            out[parts[0]] = value
        else:
            section = out.setdefault(parts[0], {})
            if not isinstance(section, dict):
                raise LengthgenError(f"--set {pair!r}: {parts[0]!r} was set as a value before")
            section[parts[1]] = value
    return out


def add_parser(sub) -> None:
    p = sub.add_parser("bench", help="run a suite: every benchmark x model x encoding x seed")
    p.add_argument("--suite", required=True, help="suite name (quick) or YAML file (tasks/suites/quick.yaml)")
    p.add_argument("--tasks", help="comma-separated benchmark or task names (wildcards allowed)")
    p.add_argument("--models", help="comma-separated model names")
    p.add_argument("--pe", help="comma-separated positional encodings")
    p.add_argument("--seeds", help="seeds, e.g. 0-2 or 0,3")
    p.add_argument("--limit", type=int, help="run at most this many cells (smoke runs)")
    p.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a setting in every cell, after the suite and recipes (training.steps=50, "
        "model_options.d_model=32, eval_examples=50); repeatable; changes the cells' identity",
    )
    p.add_argument(
        "--trust-config", action="store_true", help="let the suite name Python code (models: [package.module:Class])"
    )
    p.add_argument("--out", default="results/runs", help="results root; cells go to OUT/<suite>/")
    p.add_argument("--executor", default="local", choices=EXECUTORS, help="where cells run (default: local processes)")
    p.add_argument("--workers", type=int, help="local executor: parallel cells (default: one per core)")
    p.add_argument(
        "--threads", type=int, help="local executor: torch threads per cell (default: the cores shared among workers)"
    )
    p.add_argument(
        "--compile",
        action="store_true",
        help="torch.compile every cell's training forward (not part of a cell's identity)",
    )
    p.add_argument("--device", default="auto", help="every cell's device: auto (default), cpu, cuda, cuda:N")
    p.add_argument(
        "--precision",
        default="auto",
        choices=PRECISIONS,
        help="every cell's training precision: auto (default) is bf16 autocast on CUDA and float32 on the CPU; "
        "float32 keeps GPU cells comparable with CPU cells (neither option is part of a cell's identity)",
    )
    add_log_option(p, "every cell")
    p.add_argument("--slurm-partition", help="Slurm partition for --executor slurm (default: the cluster's)")
    p.add_argument("--slurm-timeout", type=int, default=120, help="minutes per cell job")
    p.add_argument("--slurm-cpus", type=int, default=2, help="CPUs per Slurm task (default: 2)")
    p.add_argument("--ray-address", help="join this Ray cluster (default: start a local one)")
    p.add_argument("--resume", dest="resume", action="store_true", default=True, help="skip complete cells (default)")
    p.add_argument("--no-resume", dest="resume", action="store_false", help="rerun every cell")
    p.add_argument("--dry-run", action="store_true", help="list the cells and their estimated cost, run nothing")
    p.add_argument(
        "--keep-checkpoints",
        action="store_true",
        help="keep each finished cell's final checkpoint (KEY.ckpt.pt beside its result) for scripts that read "
        "the trained model; by default it is removed, the result being final",
    )
    p.add_argument(
        "--print-config",
        action="store_true",
        help="print each cell's settings with where each came from (suite, benchmark, recipe, default), run nothing",
    )
    p.add_argument("--leaderboard", help="also write the leaderboard (markdown) to this file")
    p.add_argument("--metric", default="declared", choices=METRIC_CHOICES, help="default: each benchmark's own")
    p.set_defaults(func=cmd_bench)

    lb = sub.add_parser("leaderboard", help="aggregate result files into tables")
    lb.add_argument("folder", help="a sweep folder, e.g. results/runs/quick")
    lb.add_argument("--format", default="github", choices=FORMATS, help="table format (default: github)")
    lb.add_argument("--metric", default="declared", choices=METRIC_CHOICES, help="default: each benchmark's own")
    lb.add_argument("--out", "--output", dest="output", metavar="FILE", help="write to this file instead of stdout")
    lb.add_argument(
        "--per-seed",
        action="store_true",
        help="instead: each seed's fit, metric at every evaluated length and CPU-minutes, a table per benchmark",
    )
    lb.set_defaults(func=cmd_leaderboard)

    rk = sub.add_parser(
        "rank", help="rank configurations (encodings, models) across benchmarks: MRR with a bootstrap CI, gated on fit"
    )
    rk.add_argument(
        "folder",
        help="a sweep folder with two or more configurations, e.g. results/studies/encodings/runs/encodings-v2",
    )
    rk.add_argument("--metric", default="both", choices=("both", "exact", "token"), help="default: both in turn")
    rk.add_argument(
        "--benchmarks",
        help="comma-separated benchmark names (wildcards allowed): rank over these only, e.g. a group of benchmarks "
        "that need positions",
    )
    rk.add_argument("--bootstrap", type=int, default=2000, help="resamples of benchmarks and seeds")
    rk.add_argument("--format", default="github", choices=FORMATS, help="table format (default: github)")
    rk.add_argument("--out", "--output", dest="output", metavar="FILE", help="also write the tables to this file")
    rk.add_argument(
        "--above-shortcut",
        action="store_true",
        help="score each fitted seed by its gain over max(chance, best baseline) beyond the range, not raw accuracy",
    )
    rk.set_defaults(func=cmd_rank)

    cj = sub.add_parser("conjecture", help="RASP-L programs vs measured length generalization, gated on fit")
    cj.add_argument("folder", help="a sweep folder, e.g. results/studies/conjecture-v1/runs/conjecture")
    cj.add_argument("--model", default="transformer", help="the model whose runs are judged (default: transformer)")
    cj.add_argument("--pe", help="only runs with this positional encoding")
    cj.add_argument("--metric", default="declared", choices=METRIC_CHOICES, help="default: each benchmark's own")
    cj.add_argument("--permutations", type=int, default=10_000, help="permutation-test resamples (default: 10000)")
    cj.add_argument("--bootstrap", type=int, default=2000, help="hierarchical bootstrap resamples")
    cj.add_argument("--format", default="text", choices=("text", "json"), help="output format (default: text)")
    cj.add_argument("--out", "--output", dest="output", metavar="FILE", help="write to this file instead of stdout")
    cj.add_argument("--suite", help="judge the predictions written in this suite file (its 'predictions' key)")
    cj.add_argument(
        "--scored",
        action="store_true",
        help="benchmarks as units (conjecture-v3's rule): scored with >= 3 fitted seeds, the metric at 2L and L+10, "
        "one-sided exact permutation test, supported / refuted / inconclusive",
    )
    cj.add_argument(
        "--longer", help="with --scored: a sweep folder with a longer training range, to ask whether it helps"
    )
    cj.add_argument(
        "--all-seeds",
        action="store_true",
        help="with --scored: intention to treat, every seed counts with what it measured, fitted or not",
    )
    cj.set_defaults(func=cmd_conjecture)

    bn = sub.add_parser("bins", help="accuracy in bins of test lengths over fitted seeds, beside published numbers")
    bn.add_argument("folders", nargs="+", help="result folders, e.g. the arms of one study")
    bn.add_argument("--bins", nargs="+", required=True, help="length bins LOW-HIGH, e.g. 26-50 51-75")
    bn.add_argument("--metric", default="declared", choices=METRIC_CHOICES, help="default: each benchmark's own")
    bn.add_argument("--reference", help="YAML of published numbers: benchmark -> configuration -> one %% per bin")
    bn.add_argument(
        "--count",
        default="fitted",
        choices=["fitted", "perfect"],
        help="seeds a bin averages: fitted in range (default) or at 100%% at L (Huang et al.'s count)",
    )
    bn.add_argument("--out", "--output", dest="output", metavar="FILE", help="write to this file instead of stdout")
    bn.set_defaults(func=cmd_bins)

    pl = sub.add_parser("plot", help="accuracy-vs-length curves (needs lengthgen[plot])")
    pl.add_argument("folder")
    pl.add_argument("--out", help="output folder (default: FOLDER/plots)")
    pl.add_argument("--metric", default="declared", choices=METRIC_CHOICES, help="default: each benchmark's own")
    pl.add_argument("--format", default="png", help="png, svg or png,svg")
    pl.set_defaults(func=cmd_plot)


def make_executor(args, sweep_dir: Path):
    from lengthgen.sweeps.executors import LocalExecutor, RayExecutor, SlurmExecutor

    if args.executor == "local":
        if args.workers is not None and args.workers < 1:
            raise LengthgenError(f"--workers must be >= 1, got {args.workers}")
        if args.threads is not None and args.threads < 1:
            raise LengthgenError(f"--threads must be >= 1, got {args.threads}")
        return LocalExecutor(workers=args.workers, threads=args.threads)
    if args.executor == "slurm":
        return SlurmExecutor(
            sweep_dir / "slurm",
            partition=args.slurm_partition,
            timeout_min=args.slurm_timeout,
            cpus_per_task=args.slurm_cpus,
            cluster=os.environ.get("LENGTHGEN_SUBMITIT_CLUSTER"),
        )
    return RayExecutor(address=args.ray_address)


def cmd_bench(args) -> int:
    # torch and the sweep machinery load here, not with the parser (--help stays fast)
    from lengthgen.runconfig import apply_settings, resolve_device, validate
    from lengthgen.sweeps.cells import expand
    from lengthgen.sweeps.runner import dry_run_table, run_sweep

    resolve_device(args.device)  # a missing GPU fails here, not in every worker
    suite = load_suite(find_suite(args.suite))
    sweep_dir = Path(args.out) / check_name(suite.name, "suite name")
    seeds = parse_lengths(args.seeds, "--seeds", minimum=0) if args.seeds else None
    cells = expand(
        suite,
        sweep_dir,
        tasks=_csv(args.tasks),
        models=_csv(args.models),
        pes=_csv(args.pe),
        seeds=seeds,
        limit=args.limit,
        allow_code=args.trust_config,
    )
    overrides = parse_overrides(args.set)
    for cell in cells:
        cell.config.compile = args.compile
        cell.config.device = args.device
        cell.config.precision = args.precision
        cell.config.track = args.log or ""
        if overrides:
            apply_settings(cell.config, overrides, "--set")
            validate(cell.config)
            cell.config.name = cell.config.fingerprint()[:16]
    if args.print_config:
        from lengthgen.runconfig import render_provenance

        for cell in cells:
            print(f"## {cell.label}  ({cell.key})\n\n{render_provenance(cell.config)}\n")
        return 0
    if args.dry_run:
        print(dry_run_table(cells))
        return 0
    executor = make_executor(args, sweep_dir)
    print(f"suite {suite.name}: {len(cells)} cells -> {sweep_dir} ({executor.name} executor)", file=sys.stderr)
    report = run_sweep(cells, executor, resume=args.resume, keep_checkpoints=args.keep_checkpoints)
    entries = aggregate(load_results(sweep_dir), args.metric)
    table = render(entries, "github", args.metric)
    if args.leaderboard:
        write_markdown(Path(args.leaderboard), suite.name, table, args)
    print(table)
    if report.failed:
        print(f"\n{len(report.failed)} cell(s) failed:", file=sys.stderr)
        for label, error in report.failed:
            print(f"  {label}: {error.splitlines()[-1] if error else '?'}", file=sys.stderr)
        return 1
    return 0


def write_markdown(path: Path, suite: str, table: str, args) -> None:
    from lengthgen.results import write_text_atomic

    command = "lengthgen " + " ".join(sys.argv[1:]) if sys.argv[1:] else f"lengthgen bench --suite {args.suite}"
    text = f"# Leaderboard: suite `{suite}`\n\nProduced by `{command}`.\n\n{table}\n"
    write_text_atomic(path, text)


def cmd_leaderboard(args) -> int:
    if args.per_seed:
        from lengthgen.reporting.per_seed import per_seed_report

        emit(per_seed_report(load_results(args.folder), args.metric, args.format), args.output)
        return 0
    entries = aggregate(load_results(args.folder), args.metric)
    text = render(entries, args.format, args.metric)
    emit(text, args.output)
    return 0


def cmd_plot(args) -> int:
    from lengthgen.reporting.plots import plot_results

    formats = tuple(f.strip() for f in args.format.split(",") if f.strip())
    out = Path(args.out) if args.out else Path(args.folder) / "plots"
    metric = None if args.metric == "declared" else args.metric
    written = plot_results(load_results(args.folder), out, metric, formats)
    for path in written:
        print(path)
    return 0


def cmd_rank(args) -> int:
    from lengthgen.reporting.ranking import rank_configurations, render_ranking
    from lengthgen.reporting.runs import summarize_runs

    if not 1 <= args.bootstrap <= 1_000_000:
        raise LengthgenError(f"--bootstrap must be in 1..1000000, got {args.bootstrap}")
    results = load_results(args.folder)
    if args.benchmarks:
        present = sorted({benchmark_of(r) for r in results})
        chosen = set(filter_names(present, _csv(args.benchmarks), "benchmarks", present))
        results = [r for r in results if benchmark_of(r) in chosen]
    metrics = ("exact", "token") if args.metric == "both" else (args.metric,)
    parts = [
        render_ranking(
            rank_configurations(summarize_runs(results, m), args.bootstrap, above_shortcut=args.above_shortcut),
            args.format,
        )
        for m in metrics
    ]
    text = "\n\n".join(parts)
    if args.output:
        from lengthgen.results import write_text_atomic

        write_text_atomic(Path(args.output), text + "\n")
    print(text)
    return 0


def cmd_bins(args) -> int:
    from lengthgen.reporting.bins import bin_rows, load_reference, parse_bins, render_bins
    from lengthgen.reporting.loading import load_arms
    from lengthgen.reporting.runs import summarize_runs

    bins = parse_bins(args.bins)
    reference = load_reference(args.reference) if args.reference else None
    results = load_arms(args.folders)  # a study's arm with no cell yet is left out with a warning
    metric = None if args.metric == "declared" else args.metric
    rows = bin_rows(summarize_runs(results, metric), bins, reference, args.count)
    text = render_bins(rows, bins, metric or "declared metric", count=args.count)
    emit(text, args.output)
    return 0


def _scored_conjecture(args, runs, metric, programs) -> int:
    from lengthgen.reporting.conjecture import select_runs
    from lengthgen.reporting.scored import longer_training, render_scored, scored_report, scored_rows

    if args.suite or args.format != "text":
        raise LengthgenError("--scored prints text; --suite and --format json go with the default test")
    report = scored_report(runs, programs, n_boot=args.bootstrap, all_seeds=args.all_seeds)
    text = render_scored(report)
    if args.longer:
        long_runs = select_runs(load_results(args.longer), args.model, args.pe, metric)
        change = longer_training(
            report["rows"], scored_rows(long_runs, programs, all_seeds=args.all_seeds), report["min_fitted"]
        )
        p = "-" if change["p"] is None else f"{change['p']:.3g}"
        text += (
            f"\nlonger training ({args.longer}): rose on {len(change['rose'])} of {len(change['benchmarks'])} "
            f"program benchmarks scored in both ({', '.join(change['rose']) or 'none'}); one-sided sign test p = {p}"
        )
    emit(text, args.output)
    return 0


def cmd_conjecture(args) -> int:
    import json

    from lengthgen.reporting.conjecture import (
        conjecture_report,
        judge_predictions,
        render_conjecture,
        render_predictions,
        report_json,
        select_runs,
    )
    from lengthgen.reporting.leaderboard import program_lengths

    for flag, value in (("--permutations", args.permutations), ("--bootstrap", args.bootstrap)):
        if not 1 <= value <= 1_000_000:
            raise LengthgenError(f"{flag} must be in 1..1000000, got {value}")
    metric = None if args.metric == "declared" else args.metric
    runs = select_runs(load_results(args.folder), args.model, args.pe, metric)
    if args.scored:
        return _scored_conjecture(args, runs, metric, program_lengths())
    if args.longer or args.all_seeds:
        raise LengthgenError(f"{'--longer' if args.longer else '--all-seeds'} goes with --scored")
    report = conjecture_report(runs, program_lengths(), args.permutations, args.bootstrap)
    judged = None
    if args.suite:
        suite = load_suite(find_suite(args.suite))
        predictions = suite.settings.get("predictions")
        if not predictions:
            raise LengthgenError(f"{suite.source}: no 'predictions' key to judge")
        judged = judge_predictions(report["rows"], predictions)
    if args.format == "json":
        out = report_json(report)
        if judged is not None:
            out["predictions"] = judged
        emit(json.dumps(out, indent=2), args.output)
    else:
        text = render_conjecture(report, args.model, args.metric)
        if judged is not None:
            text += "\n\n" + render_predictions(judged, args.suite)
        emit(text, args.output)
    from lengthgen.rasp.library import conflict_warnings

    for warning in conflict_warnings():
        print(warning, file=sys.stderr)
    return 0
