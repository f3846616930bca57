"""``lengthgen rasp run|check|score|search|generate|compile|repl``."""

from __future__ import annotations

import sys
from pathlib import Path

from tabulate import tabulate

from lengthgen.cli.tasks_cmd import parse_params
from lengthgen.config import parse_lengths
from lengthgen.errors import LengthgenError
from lengthgen.plugins import ensure_task
from lengthgen.rasp.check import check_program, compile_for_task, program_task
from lengthgen.rasp.codes import TokenCodes
from lengthgen.rasp.compiler import compile_file, header_of
from lengthgen.rasp.library import conflict_warnings
from lengthgen.rasp.score import SCORE_FORMATS, render_scores, score_library
from lengthgen.rasp.trace import fmt_token, run_values, trace_table
from lengthgen.tasks import make_task
from lengthgen.tasks.base import SPECIALS


def add_parser(sub) -> None:
    p = sub.add_parser("rasp", help="author, run, check and score RASP-L programs")
    rsub = p.add_subparsers(dest="rasp_command", metavar="ACTION", parser_class=type(p))
    p.set_defaults(func=lambda args: p.print_help() or 2)

    run = rsub.add_parser("run", help="run a program on one input")
    run.add_argument("file")
    run.add_argument("--input", required=True, help='tokens separated by spaces, e.g. "3 1 2 <sep>"')
    run.add_argument("--task", help="use this task's vocabulary (default: the file's '# task:' header, if any)")
    run.add_argument("--param", action="append", default=[], metavar="K=V", help="a task parameter (repeatable)")
    run.add_argument("--trace", action="store_true", help="show every intermediate sequence and selector")
    run.set_defaults(func=cmd_run)

    check = rsub.add_parser("check", help="verify a program against a task at every length")
    check.add_argument("file")
    check.add_argument("--task", help="default: the file's '# task:' header")
    check.add_argument("--param", action="append", default=[], metavar="K=V", help="a task parameter (repeatable)")
    check.add_argument("--lengths", default="1-50", help="e.g. 1-50")
    check.add_argument("--n", type=int, default=1000, help="examples per length")
    check.add_argument("--seed", type=int, default=0, help="seed of the sampled examples (default: 0)")
    check.set_defaults(func=cmd_check)

    score = rsub.add_parser("score", help="program length, depth and verified range for every benchmark")
    score.add_argument("--format", default="github", choices=SCORE_FORMATS, help="table format (default: github)")
    score.add_argument("--max-length", type=int, default=50, help="verify lengths up to this")
    score.add_argument("--n", type=int, default=200, help="examples per length when verifying")
    score.add_argument("--no-verify", action="store_true", help="skip verification (no length range)")
    score.set_defaults(func=cmd_score)

    search = rsub.add_parser("search", help="search for the shortest RASP-L program solving a benchmark")
    search.add_argument("benchmark", help="a benchmark name (tasks/<name>.yaml) or file")
    search.add_argument("--max-ops", type=int, default=6, help="longest program searched (normal-form length)")
    search.add_argument(
        "--time-limit", type=float, default=600, help="CPU-seconds of the search (default 600), whatever else runs"
    )
    search.add_argument("--beam", type=int, default=2000, help="attention outputs kept per length (more: slower)")
    search.add_argument("--seed", type=int, default=0, help="seed of the sample inputs")
    search.add_argument("--save", metavar="FILE", help="add the result to this YAML file (e.g. rasp/SEARCH.yaml)")
    search.set_defaults(func=cmd_search)

    gen = rsub.add_parser("generate", help="draw tasks from random RASP-L programs (and unrestricted controls)")
    gen.add_argument("--out", required=True, help="a new or empty folder for the .rasp files and tasks.yaml")
    gen.add_argument("--count", type=int, default=10, help="RASP-L tasks to draw (default: 10)")
    gen.add_argument("--controls", type=int, default=0, help="negative controls to draw (default: 0)")
    gen.add_argument("--seed", type=int, default=0, help="seed of the draw (default: 0)")
    gen.add_argument("--lengths", default="3-10", help="normal-form lengths, spread evenly (default: 3-10)")
    gen.add_argument(
        "--search-seconds",
        type=float,
        default=0.0,
        help="CPU-seconds of rasp search per task: a lower bound for programs, the check that no short RASP-L "
        "program computes a control (default: 0, no search)",
    )
    gen.add_argument(
        "--pool-draws",
        type=int,
        default=20_000,
        help="random RASP-L programs a control must differ from on the fixed sample (default: 20000)",
    )
    gen.add_argument(
        "--control-rules",
        help="keep only controls that break these kinds of rule, comma-separated: arithmetic (x * 2, x %% 3 on "
        "positions or counts), means (a mean compared with another or with a sequence), kinds (a count compared "
        "with a position); default: any",
    )
    gen.add_argument(
        "--exclude",
        action="append",
        default=[],
        metavar="MANIFEST",
        help="an earlier draw's tasks.yaml (or its folder) whose tasks this draw replaces by others; repeatable",
    )
    gen.set_defaults(func=cmd_generate)

    comp = rsub.add_parser(
        "compile", help="compile a program to transformer weights, report its size, check and evaluate the model"
    )
    comp.add_argument("file")
    comp.add_argument("--task", help="default: the file's '# task:' header (a '# vocab:' program needs none)")
    comp.add_argument("--param", action="append", default=[], metavar="K=V", help="a task parameter (repeatable)")
    comp.add_argument("--vocab", help='the tokens of a program with no task, e.g. "0 1 2 3" (default: its # vocab:)')
    comp.add_argument(
        "--max-len",
        type=int,
        help="longest sequence (tokens) the model handles (default: the longest the task makes at --lengths)",
    )
    comp.add_argument("--lengths", default="1-20", help="task lengths to check and evaluate (default: 1-20)")
    comp.add_argument("--n", type=int, default=20, help="examples per length (default: 20)")
    comp.add_argument("--seed", type=int, default=0, help="seed of the sampled examples (default: 0)")
    comp.add_argument("--no-check", action="store_true", help="only compile and report the size")
    comp.set_defaults(func=cmd_compile)

    repl = rsub.add_parser("repl", help="interactive authoring with traces")
    repl.add_argument("--task", help="task vocabulary for token literals")
    repl.add_argument("--load", help="start from this program file")
    repl.set_defaults(func=cmd_repl)


def _codes_for(file: str | None, task_name: str | None, params: list[str]):
    header = header_of(Path(file).read_text(encoding="utf-8", errors="replace")) if file else {}
    if not task_name and header.get("vocab"):
        # a program not tied to a task names its own tokens: "# vocab: a b push pop"
        return TokenCodes([*SPECIALS, *dict.fromkeys(header["vocab"].split())])
    if task_name or (file and "# task:" in Path(file).read_text(encoding="utf-8", errors="replace")):
        task = (
            program_task(file, task_name, parse_params(params))
            if file
            else make_task(task_name, **parse_params(params))
        )
        return TokenCodes(task.vocab)
    return TokenCodes()


def _exists(file: str) -> None:
    if not Path(file).is_file():
        raise LengthgenError(f"{file}: no such program file")


def cmd_run(args) -> int:
    _exists(args.file)
    codes = _codes_for(args.file, ensure_task(args.task) if args.task else None, args.param)
    program = _compile(args.file, codes)
    tokens = args.input.split()
    if not tokens:
        raise LengthgenError("--input is empty")
    for tok in tokens:
        codes.code(tok)  # clear error for unknown tokens
    for violation in program.violations:  # a "# mode: rasp" program runs, flagged as not RASP-L
        print(f"note: not RASP-L: {violation}", file=sys.stderr)
    values = run_values(program, codes.encode(tokens))[program.output.uid][0]
    if args.trace:
        print(trace_table(program, tokens))
    else:
        print(
            tabulate(
                [["input", *tokens], ["output", *(fmt_token(v, codes) for v in values)]],
                tablefmt="github",
                disable_numparse=True,
            )
        )
    print(f"next token after the input: {fmt_token(values[-1], codes)}")
    return 0


def _compile(file: str, codes: TokenCodes):
    return compile_file(file, codes)


def cmd_check(args) -> int:
    _exists(args.file)
    # a task named on the command line may be the user's own (module:Class); a file header may not load code
    task = program_task(args.file, ensure_task(args.task) if args.task else None, parse_params(args.param))
    lengths = parse_lengths(args.lengths, "--lengths")
    program = compile_for_task(args.file, task)
    report = check_program(program, task, lengths, args.n, args.seed)
    rows = [[r.length, r.n, f"{100 * r.token:.2f}", f"{100 * r.exact:.2f}"] for r in report.rows]
    form = program.normal
    print(
        f"{args.file} on {task!r}: program length {form.length} (+ {form.readout} readout; "
        f"{program.stats.length} operations as written), attention depth {form.depth}, {form.selects} selects"
    )
    print(tabulate(rows, headers=["length", "n", "token %", "exact %"], tablefmt="github"))
    if report.derived or report.unreachable:
        print(
            f"\nthe program compares a growing value with values up to {program.largest_compared:g}: "
            + (f"also checked at {', '.join(map(str, report.derived))}" if report.derived else "")
            + (
                f"{'; ' if report.derived else ''}the task generates at most length {report.unreachable}, "
                "so nothing beyond that is verified"
                if report.unreachable
                else ""
            )
        )
    if report.counterexample:
        c = report.counterexample
        print(
            f"\nfirst counterexample (length {c.length}):\n  input:    {' '.join(c.input)}\n"
            f"  expected: {' '.join(c.expected)}\n  got:      {' '.join(c.got)}"
        )
        return 1
    extra = f" and {', '.join(map(str, report.derived))}" if report.derived else ""
    print(f"\nall {sum(r.n for r in report.rows):,} examples right at lengths {args.lengths}{extra}")
    return 0


def cmd_score(args) -> int:
    if not 1 <= args.max_length <= 100_000 or not 1 <= args.n <= 1_000_000:
        raise LengthgenError("--max-length and --n must be >= 1")
    rows = score_library(verify=not args.no_verify, max_length=args.max_length, n=args.n)
    print(render_scores(rows, args.format))
    for warning in conflict_warnings():
        print(warning, file=sys.stderr)
    return 0


def cmd_search(args) -> int:
    from lengthgen.data import find_benchmark
    from lengthgen.rasp.library import check_search_file, save_search
    from lengthgen.rasp.search import search
    from lengthgen.suites import load_benchmark

    benchmark = load_benchmark(find_benchmark(args.benchmark))
    if args.seed < 0:
        raise LengthgenError(f"--seed must be >= 0, got {args.seed}")
    if args.save:
        check_search_file(args.save)  # fail now, not after the search
    print(
        f"searching {benchmark.name} ({benchmark.task}) up to length {args.max_ops}, {args.time_limit:g} CPU-s",
        file=sys.stderr,
    )
    result = search(
        benchmark.make_task(),
        args.max_ops,
        args.time_limit,
        beam=args.beam,
        seed=args.seed,
        progress=lambda line: print(f"  {line}", file=sys.stderr, flush=True),
    )
    result.benchmark = benchmark.name
    print(result.summary())
    if result.program:
        print(result.program, end="")
    if args.save:
        save_search(args.save, benchmark.name, result.as_dict())
        print(f"saved to {args.save}", file=sys.stderr)
    return 0 if result.found else 1


def cmd_generate(args) -> int:
    from lengthgen.rasp.generate import check_out_folder, excluded_signatures, generate_tasks, write_manifest

    if args.seed < 0:
        raise LengthgenError(f"--seed must be >= 0, got {args.seed}")
    if args.pool_draws < 0:
        raise LengthgenError(f"--pool-draws must be >= 0, got {args.pool_draws}")
    if args.search_seconds < 0:
        raise LengthgenError(f"--search-seconds must be >= 0, got {args.search_seconds}")
    out = Path(args.out)
    check_out_folder(out)
    lengths = tuple(parse_lengths(args.lengths))
    rules = tuple(r.strip() for r in args.control_rules.split(",") if r.strip()) if args.control_rules else None
    exclude = excluded_signatures(args.exclude)
    stats: dict[str, int] = {}
    tasks = generate_tasks(
        args.count,
        args.seed,
        lengths,
        args.controls,
        out,
        search_seconds=args.search_seconds,
        progress=lambda line: print(f"  {line}", file=sys.stderr, flush=True),
        stats=stats,
        pool_draws=args.pool_draws,
        control_rules=rules,
        exclude=exclude,
    )
    settings = {
        "count": args.count,
        "controls": args.controls,
        "seed": args.seed,
        "lengths": args.lengths,
        "search_seconds": args.search_seconds,
        "pool_draws": args.pool_draws,
        "control_rules": list(rules) if rules else "any",
    }
    manifest = write_manifest(out, tasks, settings, stats)
    print(
        f"{len(tasks)} tasks in {out} (manifest: {manifest}); use one as --task rasp:{out / tasks[0].name}.rasp"
        if tasks
        else f"no tasks drawn; manifest: {manifest}"
    )
    return 0


def cmd_compile(args) -> int:
    from lengthgen.rasp.tomodel import agreement, compile_model, evaluate, longest_sequence

    _exists(args.file)
    lengths = parse_lengths(args.lengths, "--lengths")
    if not 1 <= args.n <= 100_000:
        raise LengthgenError(f"--n must be in 1..100000, got {args.n}")
    header = header_of(Path(args.file).read_text(encoding="utf-8", errors="replace"))
    task = None
    if args.task or header.get("task"):
        task = program_task(args.file, ensure_task(args.task) if args.task else None, parse_params(args.param))
        codes = TokenCodes(task.vocab)
    elif args.vocab:
        codes = TokenCodes([*SPECIALS, *dict.fromkeys(args.vocab.split())])
    else:
        codes = _codes_for(args.file, None, args.param)
    # a program outside RASP-L compiles too (what grows, and how, is the point)
    program = compile_file(args.file, codes, strict=False)
    for violation in program.violations:
        print(f"note: not RASP-L: {str(violation).splitlines()[0]}", file=sys.stderr)
    if args.max_len is None and task is None:
        raise LengthgenError("a program without a task needs --max-len (the longest sequence it must handle)")
    max_len = args.max_len if args.max_len is not None else longest_sequence(task, lengths)
    compiled = compile_model(program, max_len)
    size = compiled.size()
    print(
        f"{args.file}: {size['layers']} layers (program attention depth {size['attention depth']}), "
        f"heads per layer {size['heads']}, residual width {size['width']}, MLP units per layer {size['mlp']}"
    )
    print(
        f"parameters: {size['parameters']:,} ({size['nonzero']:,} nonzero); positions: {size['positions']}; "
        f"sequences up to {max_len} tokens"
    )
    if compiled.growing:
        print("weights that grow with the sequence length: " + "; ".join(compiled.growing))
    else:
        print("no weight grows with the sequence length: the same model serves every length")
    if task is None or args.no_check:
        return 0
    if not program.causal:
        print("a '# mode: rasp' program is no next-token predictor: compiled, not checked against the task")
        return 0
    rows = agreement(compiled, task, lengths, args.n, args.seed)
    scores = evaluate(compiled, task, lengths, args.n, args.seed)
    table = [
        [a.length, a.n, a.tokens, a.disagreements, f"{exact:.1f}", f"{token:.1f}"]
        for a, (_, exact, token) in zip(rows, scores)
    ]
    print(
        tabulate(
            table,
            headers=["length", "n", "positions", "differ from interpreter", "exact % (evaluator)", "token %"],
            tablefmt="github",
        )
    )
    first = next((a for a in rows if a.disagreements), None)
    if first is not None:
        codes, want, got = first.example
        print(
            f"\nfirst disagreement (length {first.length}):\n  input:       {' '.join(fmt_token(c, program.codes) for c in codes)}\n"
            f"  interpreter: {' '.join(fmt_token(v, program.codes) for v in want)}\n"
            f"  model:       {' '.join(fmt_token(v, program.codes) for v in got)}"
        )
        return 1
    print(f"\nthe compiled model agrees with the interpreter at every position of {sum(a.tokens for a in rows):,}")
    return 0


def cmd_repl(args) -> int:
    from lengthgen.rasp.repl import Repl

    codes = TokenCodes(make_task(ensure_task(args.task)).vocab) if args.task else TokenCodes()
    Repl(codes, args.load).loop()
    return 0
