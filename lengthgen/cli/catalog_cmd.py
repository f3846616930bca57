"""``lengthgen suites list`` and ``lengthgen benchmarks list``: what can be run
by name, and from which data folder (checkout, installed copy, --include-path)."""

from __future__ import annotations

from lengthgen.cli.output import emit
from lengthgen.config import format_lengths
from lengthgen.data import benchmark_dirs, suite_dirs
from lengthgen.errors import LengthgenError
from lengthgen.tables import render_table


def add_parser(sub) -> None:
    for what, func in (("suites", cmd_suites), ("benchmarks", cmd_benchmarks)):
        p = sub.add_parser(what, help=f"list the {what} that run by name")
        psub = p.add_subparsers(dest="action", metavar="ACTION", required=True)
        lst = psub.add_parser("list", help=f"every {what[:-1]} found, first found first")
        lst.add_argument(
            "--format", default="github", choices=("github", "plain", "csv"), help="table format (default: github)"
        )
        lst.set_defaults(func=func)


def _first_found(dirs) -> list:
    """(name, path) by name, the first data folder winning (as lookups resolve)."""
    seen: dict = {}
    for folder in dirs:
        for path in sorted(folder.glob("*.yaml")):
            seen.setdefault(path.stem, path)
    return sorted(seen.items())


def cmd_suites(args) -> int:
    from lengthgen.suites import load_suite

    rows = []
    for name, path in _first_found(suite_dirs()):
        try:
            suite = load_suite(path)
        except LengthgenError as exc:
            rows.append([name, "-", f"unreadable: {exc}"[:100], str(path)])
            continue
        about = (suite.description or "").strip().splitlines()[0] if suite.description else ""
        rows.append([name, len(suite.benchmarks), about[:90], str(path)])
    emit(render_table(["suite", "benchmarks", "description", "file"], rows, args.format), None)
    return 0


def cmd_benchmarks(args) -> int:
    from lengthgen.suites import load_benchmark

    rows = []
    for name, path in _first_found(benchmark_dirs()):
        try:
            bench = load_benchmark(path)
        except LengthgenError as exc:
            rows.append([name, "-", "-", "-", "-", f"unreadable: {exc}"[:80]])
            continue
        recipe = bench.recipe or {}
        pe = (recipe.get("model_options") or {}).get("pe", "-") if recipe else "-"
        rows.append(
            [
                name,
                bench.task,
                format_lengths(bench.train_lengths),
                format_lengths(bench.test_lengths),
                bench.metric,
                pe,
            ]
        )
    emit(render_table(["benchmark", "task", "train", "test", "metric", "recipe encoding"], rows, args.format), None)
    return 0
