"""``lengthgen tasks list|show|sample``."""

from __future__ import annotations

import json
import sys

import numpy as np
from tabulate import tabulate

from lengthgen.config import parse_lengths
from lengthgen.errors import LengthgenError
from lengthgen.evaluation.baselines import baseline_table, default_lengths, describe, shortcut_flags
from lengthgen.evaluation.thresholds import SHORTCUT_MARGIN
from lengthgen.plugins import ensure_task
from lengthgen.rasp.library import programs_by_task
from lengthgen.tables import render_table
from lengthgen.tasks import TASKS, make_task

MAX_BASELINE_EXAMPLES = 100_000


def add_parser(sub) -> None:
    p = sub.add_parser("tasks", help="list, show and sample tasks")
    tsub = p.add_subparsers(dest="tasks_command", metavar="ACTION", parser_class=type(p))
    p.set_defaults(func=lambda args: p.print_help() or 2)

    ls = tsub.add_parser("list", help="table of registered tasks")
    ls.add_argument("pattern", nargs="?", default="*", help="wildcard filter on names, e.g. 'copy-*'")
    ls.add_argument(
        "--format", default="github", choices=("github", "plain", "csv", "json"), help="table format (default: github)"
    )
    ls.set_defaults(func=cmd_list)

    show = tsub.add_parser("show", help="definition, parameters and a worked example")
    show.add_argument("name")
    show.add_argument("--param", action="append", default=[], metavar="K=V", help="task parameter")
    show.set_defaults(func=cmd_show)

    bl = tsub.add_parser("baselines", help="chance and cheap shortcut predictors, length by length")
    bl.add_argument("name")
    bl.add_argument("--lengths", help="e.g. 4,8,16 or 1-20 (default: 4, 8, 16, 32 where the task allows)")
    bl.add_argument("--n", type=int, default=500, help="examples per length")
    bl.add_argument("--seed", type=int, default=0, help="seed of the sampled examples (default: 0)")
    bl.add_argument("--param", action="append", default=[], metavar="K=V", help="task parameter")
    bl.add_argument("--metric", default="exact", choices=("exact", "token"), help="accuracy measure (default: exact)")
    bl.add_argument(
        "--format", default="github", choices=("github", "plain", "csv", "json"), help="table format (default: github)"
    )
    bl.set_defaults(func=cmd_baselines)

    ex = tsub.add_parser("export", help="a benchmark as train/test files (JSON Lines or Parquet) with metadata")
    ex.add_argument("benchmark", help="benchmark name (count) or YAML file")
    ex.add_argument("--out", required=True, help="output folder")
    ex.add_argument(
        "--format",
        default="jsonl",
        choices=("jsonl", "parquet"),
        help="file format (default: jsonl; parquet needs lengthgen[export])",
    )
    ex.add_argument("--train-examples", type=int, default=10_000, help="examples in the train split (default: 10000)")
    ex.add_argument("--test-examples", type=int, default=1_000, help="per test length")
    ex.add_argument("--seed", type=int, default=0, help="seed of the examples (default: 0)")
    ex.set_defaults(func=cmd_export)

    sample = tsub.add_parser("sample", help="examples as JSON Lines on stdout")
    sample.add_argument("name")
    sample.add_argument("--length", type=int, required=True, help="the task length to sample at")
    sample.add_argument("--n", type=int, default=10, help="number of examples")
    sample.add_argument("--seed", type=int, default=0, help="seed of the examples (default: 0)")
    sample.add_argument("--param", action="append", default=[], metavar="K=V", help="task parameter")
    sample.set_defaults(func=cmd_sample)


def parse_params(pairs: list[str]) -> dict[str, str]:
    params = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise LengthgenError(f"--param expects KEY=VALUE, got {pair!r}")
        params[key.strip()] = value.strip()
    return params


def _flag_text(flag: dict | None) -> str:
    if flag is None:
        return "-"
    return f"{flag['name']} +{100 * flag['margin']:.0f} pts @{flag['length']}"


def task_rows(pattern: str = "*") -> list[dict]:
    by_task = programs_by_task()
    rows = []
    for name in TASKS.names(pattern):
        try:
            task = make_task(name)
            flags = shortcut_flags(baseline_table(task, default_lengths(task), n=200))
        except LengthgenError as exc:  # a plugin or program task that no longer builds: named, not fatal
            print(f"lengthgen: warning: task {name!r} skipped: {exc}", file=sys.stderr)
            continue
        rows.append(
            {
                "name": name,
                "family": task.family,
                "length unit": task.length_unit,
                "vocab": task.vocab_size,
                "chomsky": task.chomsky or "-",
                "rasp-l program": ", ".join(by_task.get(name, [])) or "no",
                "shortcut (exact)": _flag_text(flags["exact"]),
                "shortcut (token)": _flag_text(flags["token"]),
            }
        )
    return rows


def cmd_list(args) -> int:
    rows = task_rows(args.pattern)
    if not rows:
        raise LengthgenError(f"no task matches {args.pattern!r}")
    if args.format == "json":
        print(json.dumps(rows, indent=2))
    else:
        print(render_table(list(rows[0]), [list(r.values()) for r in rows], args.format))
        if args.format != "csv":
            print(
                f"\nshortcut: the best cheap baseline beats chance by more than {100 * SHORTCUT_MARGIN:.0f} points "
                "at some length in 4, 8, 16, 32 (default parameters; `lengthgen tasks baselines NAME` for details)"
            )
    return 0


def cmd_baselines(args) -> int:
    if not 1 <= args.n <= MAX_BASELINE_EXAMPLES:
        raise LengthgenError(f"--n must be in 1..{MAX_BASELINE_EXAMPLES}, got {args.n}")
    if args.seed < 0:
        raise LengthgenError(f"--seed must be >= 0, got {args.seed}")
    task = make_task(ensure_task(args.name), **parse_params(args.param))
    lengths = (
        parse_lengths(args.lengths, "--lengths", minimum=task.min_length) if args.lengths else default_lengths(task)
    )
    if len(lengths) > 200:
        raise LengthgenError(f"--lengths: at most 200 lengths, got {len(lengths)}")
    table = baseline_table(task, lengths, n=args.n, seed=args.seed)
    if args.format == "json":
        print(json.dumps({"task": task.name, "params": task.config, "metric": args.metric, "lengths": table}, indent=2))
        return 0
    names = list(table[0]["baselines"])
    headers = ["length", "chance"] + names + ["best", "margin"]
    rows = []
    for entry in table:
        best = entry["best"][args.metric]
        margin = best["value"] - entry["chance"][args.metric]
        flag = " (shortcut)" if margin > SHORTCUT_MARGIN else ""
        rows.append(
            [entry["length"], f"{100 * entry['chance'][args.metric]:.1f}"]
            + [f"{100 * entry['baselines'][n][args.metric]:.1f}" for n in names]
            + [best["name"], f"{100 * margin:+.1f}{flag}"]
        )
    print(f"{task.name}: {args.metric} accuracy (%) of chance and cheap predictors, {args.n} examples per length")
    print(render_table(headers, rows, args.format))
    if args.format != "csv":
        print()
        for name, doc in describe(task).items():
            print(f"  {name}: {doc}")
        print("  chance: a uniform guess over the answer tokens at every scored position")
    return 0


def cmd_show(args) -> int:
    task = make_task(ensure_task(args.name), **parse_params(args.param))
    print(
        f"{task.name} (version {task.version}) - family {task.family}, length = {task.length_unit}"
        + (f", Chomsky level {task.chomsky}" if task.chomsky else "")
    )
    print()
    print(task.describe())
    print()
    if task.params:
        rows = [
            [k, task.config[k], p.help + (f" ({'|'.join(map(str, p.choices))})" if p.choices else "")]
            for k, p in task.params.items()
        ]
        print(tabulate(rows, headers=["parameter", "value", "meaning"], tablefmt="github"))
    else:
        print("parameters: none")
    top = task.max_length()
    length = max(task.min_length, min(5, top if top is not None else 5))
    batch = task.sample(np.random.default_rng(0), 2, length)
    if getattr(task, "source", None):  # a program-defined task: the program is the definition
        print()
        print("program:")
        print("\n".join(f"  {line}" for line in task.source.rstrip().splitlines()))
    print()
    print(f"sampled examples (length {length}, seed 0):")
    for i in range(len(batch)):
        x, y = batch.example(i)
        print(f"  {' '.join(task.decode(x))}  ->  {' '.join(task.decode(y))}")
    print(
        f"vocabulary ({task.vocab_size} tokens): {' '.join(task.vocab[:24])}" + (" ..." if task.vocab_size > 24 else "")
    )
    print(_baseline_line(task, length))
    return 0


def _baseline_line(task, length: int) -> str:
    """What a lazy model scores at the example length (the full table:
    ``lengthgen tasks baselines``)."""
    from lengthgen.evaluation.baselines import baseline_table

    [row] = baseline_table(task, [length], n=200)
    best = row["best"]["exact"]
    return (
        f"baselines at length {length} (exact, 200 examples): chance {row['chance']['exact']:.1%}, "
        f"best {best['name']} {best['value']:.1%} (all of them: lengthgen tasks baselines {task.name})"
    )


SAMPLE_CHUNK = 10_000
SAMPLE_TOKENS = 2_000_000
MAX_SAMPLE_LENGTH = 1_000_000


def iter_sample_lines(task, length: int, n: int, seed: int):
    """JSON Lines for ``n`` examples, generated in chunks so memory stays flat
    however large ``n`` is; identical for identical arguments (the chunks
    draw from one generator, so ``n <= SAMPLE_CHUNK`` gives the same lines as
    one batch)."""
    task.check_length(length)
    if length > MAX_SAMPLE_LENGTH:
        raise LengthgenError(f"--length {length}: at most {MAX_SAMPLE_LENGTH:,} for sampling")
    # about SAMPLE_TOKENS tokens per chunk, whatever the length
    chunk = max(1, min(SAMPLE_CHUNK, SAMPLE_TOKENS // max(1, length)))
    rng = np.random.default_rng(seed)
    remaining = n
    while remaining > 0:
        batch = task.sample(rng, min(chunk, remaining), length)
        remaining -= len(batch)
        for i in range(len(batch)):
            x, y = batch.example(i)
            yield json.dumps({"input": task.decode(x), "target": task.decode(y)}, separators=(", ", ": "))


def sample_lines(task, length: int, n: int, seed: int) -> list[str]:
    return list(iter_sample_lines(task, length, n, seed))


def cmd_sample(args) -> int:
    if args.n < 1:
        raise LengthgenError(f"--n must be >= 1, got {args.n}")
    if args.seed < 0:
        raise LengthgenError(f"--seed must be >= 0, got {args.seed}")
    task = make_task(ensure_task(args.name), **parse_params(args.param))
    out = sys.stdout
    for line in iter_sample_lines(task, args.length, args.n, args.seed):
        out.write(line + "\n")
    out.flush()
    return 0


def cmd_export(args) -> int:
    from lengthgen.data import find_benchmark
    from lengthgen.export import export_benchmark
    from lengthgen.suites import load_benchmark

    bench = load_benchmark(find_benchmark(args.benchmark))
    for path in export_benchmark(bench, args.out, args.format, args.train_examples, args.test_examples, args.seed):
        print(path)
    return 0
