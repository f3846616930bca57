"""Study analyses general enough to be commands: ``lengthgen time-to-fit``,
``lengthgen depth`` (adaptive-depth slopes), ``lengthgen curve`` (accuracy
against a swept quantity), ``lengthgen generated`` (the generated-task
study) and ``lengthgen report`` (one shareable page)."""

from __future__ import annotations

import sys

from lengthgen.cli.output import emit
from lengthgen.errors import LengthgenError
from lengthgen.reporting.loading import load_arms, load_results


def add_parser(sub) -> None:
    tf = sub.add_parser("time-to-fit", help="CPU-seconds until fitted in range, per benchmark and recipe")
    tf.add_argument(
        "folders",
        nargs="+",
        help="sweep folders read as one (a recipe's seeds may span sweeps; two arms keep a row each)",
    )
    tf.add_argument("--format", default="github", choices=("github", "csv"), help="table format (default: github)")
    tf.add_argument("--out", "--output", dest="output", metavar="FILE", help="write to this file instead of stdout")
    tf.add_argument(
        "--compare",
        metavar="OPTION",
        help="compare the two values a sweep's vary gave OPTION, pair by pair: fit rate (Fisher exact), "
        "exact beyond the range and CPU-seconds to fit (bootstrap intervals)",
    )
    tf.add_argument(
        "--margin", type=float, default=0.10, help="with --compare: extrapolation 'indistinguishable' within +-this"
    )
    tf.set_defaults(func=cmd_time_to_fit)

    dp = sub.add_parser("depth", help="adaptive depth: ACT steps against length, with fit, chance and baselines")
    dp.add_argument("folders", nargs="+")
    dp.add_argument("--bootstrap", type=int, default=2000, help="bootstrap resamples for the slope interval")
    dp.add_argument("--metric", choices=("exact", "token"), default="exact", help="accuracy measure (default: exact)")
    dp.add_argument("--plot", help="also draw accuracy and steps against length to this file")
    dp.add_argument(
        "--out", "--output", dest="output", metavar="FILE", help="write the tables to this file instead of stdout"
    )
    dp.set_defaults(func=cmd_depth)

    cv = sub.add_parser("curve", help="held-out-symbol accuracy against a swept quantity (data, width)")
    cv.add_argument("folders", nargs="+")
    cv.add_argument("--axis", default="train_examples", help="train_examples, d_model or another swept option")
    cv.add_argument("--plot", help="also draw the curve to this file (needs lengthgen[plot])")
    cv.add_argument(
        "--out", "--output", dest="output", metavar="FILE", help="write the tables to this file instead of stdout"
    )
    cv.set_defaults(func=cmd_curve)

    gn = sub.add_parser(
        "generated", help="the generated-task study: success of RASP-L tasks vs controls, AUC of program length"
    )
    gn.add_argument("folder", help="a sweep folder of runs over generated tasks")
    gn.add_argument("--tasks", required=True, help="the tasks' manifest (tasks.yaml of lengthgen rasp generate)")
    gn.add_argument("--model", default="transformer", help="the model whose runs are judged (default: transformer)")
    gn.add_argument("--multiple", type=float, default=2.0, help="test length as a multiple of L (default: 2)")
    gn.add_argument("--min-fitted", type=int, default=2, help="fitted seeds a task needs to count (default: 2)")
    gn.add_argument("--bootstrap", type=int, default=2000, help="bootstrap resamples over tasks (default: 2000)")
    gn.add_argument(
        "--all-seeds",
        action="store_true",
        help="intention to treat: every task with runs counts, scored over all its seeds, fitted or not",
    )
    gn.add_argument(
        "--band",
        type=int,
        default=0,
        help="score the test over the lengths within BAND of the multiple x L, every one required (default: 0)",
    )
    gn.add_argument("--plot", help="also draw success against program length, controls beside, to this file")
    gn.add_argument("--out", "--output", dest="output", metavar="FILE", help="write to this file instead of stdout")
    gn.set_defaults(func=cmd_generated)

    rp = sub.add_parser(
        "report", help="one self-contained HTML page: leaderboard, figures, verdicts, provenance of every cell"
    )
    rp.add_argument("folders", nargs="+", help="result folders read as one")
    rp.add_argument("--html", required=True, metavar="OUT.html", help="the page to write (no server, no network)")
    rp.set_defaults(func=cmd_report)


def cmd_report(args) -> int:
    from pathlib import Path

    from lengthgen.reporting.html import html_report
    from lengthgen.results import write_text_atomic

    page = html_report(", ".join(args.folders), load_arms(args.folders))
    write_text_atomic(Path(args.html), page)
    print(args.html)
    return 0


def cmd_generated(args) -> int:
    from lengthgen.reporting.conjecture import select_runs
    from lengthgen.reporting.generated import generated_report, load_manifest, render_generated

    if not 1 <= args.bootstrap <= 1_000_000:
        raise LengthgenError(f"--bootstrap must be in 1..1000000, got {args.bootstrap}")
    if args.min_fitted < 1 or args.multiple <= 1:
        raise LengthgenError("--min-fitted must be >= 1 and --multiple > 1")
    manifest = load_manifest(args.tasks)
    runs = select_runs(load_results(args.folder), args.model, None, "exact")
    report = generated_report(
        runs, manifest, args.multiple, args.min_fitted, args.bootstrap, all_seeds=args.all_seeds, band=args.band
    )
    emit(render_generated(report), args.output)
    if args.plot:
        from lengthgen.reporting.generated import plot_generated

        print(f"wrote {plot_generated(report, args.plot)}", file=sys.stderr)
    return 0


def cmd_time_to_fit(args) -> int:
    from lengthgen.reporting.timetofit import time_to_fit_report

    if args.compare:
        from lengthgen.reporting.arms import compare_arms, render_arms

        report = compare_arms(load_arms(args.folders), args.compare, margin=args.margin)
        emit(render_arms(report, args.format), args.output)
        return 0
    emit(time_to_fit_report(args.folders, args.format), args.output)
    return 0


def cmd_depth(args) -> int:
    from lengthgen.reporting.depth import depth_tables

    if args.bootstrap < 1:
        raise LengthgenError(f"--bootstrap must be a positive number of resamples, got {args.bootstrap}")
    # two arms of one configuration (the Hyper-UT with and without input
    # conditioning share a column) keep a row each, named by their folder
    results = load_arms(args.folders)
    emit(depth_tables(results, args.bootstrap, args.metric), args.output)
    if args.plot:
        from lengthgen.reporting.plots import plot_depth

        print(f"wrote {plot_depth(results, args.plot, args.metric)}", file=sys.stderr)
    return 0


def cmd_curve(args) -> int:
    from lengthgen.reporting.curves import curve, plot_curve, render, trend

    table = curve(load_arms(args.folders), args.axis)
    if not table:
        raise LengthgenError(f"no held-out-symbol results with a value of {args.axis!r} in {', '.join(args.folders)}")
    emit(render(table, args.axis) + "\n\n" + trend(table, args.axis), args.output)
    if args.plot:
        plot_curve(table, args.axis, args.plot)
        print(f"wrote {args.plot}", file=sys.stderr)
    return 0
