"""Scoring the program library: length, depth and verified range per benchmark."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass

from lengthgen.data import find_benchmark
from lengthgen.errors import LengthgenError
from lengthgen.rasp.check import check_program, compile_for_task, program_task
from lengthgen.rasp.library import no_program, searched, task_programs
from lengthgen.suites import load_benchmark
from lengthgen.tables import render_table

SCORE_FORMATS = ("github", "latex", "csv", "json")


@dataclass
class ScoreRow:
    benchmark: str
    program: str  # file name or "none"
    task: str
    length: int | None = None  # normal-form length (lengthgen.rasp.normal), readout excluded
    readout: int | None = None
    depth: int | None = None
    selects: int | None = None
    blocks: int | None = None  # fused element-wise blocks
    written: int | None = None  # primitive operations as written (style-dependent)
    searched: str = "-"  # `rasp search`: the shortest found, or "> k" when none is that short
    verified: str = "-"
    reason: str = ""


def benchmark_task(name: str) -> str:
    """The task behind a benchmark name (``tasks/<name>.yaml``), else the name itself."""
    try:
        return load_benchmark(find_benchmark(name)).task
    except LengthgenError:
        return name


def score_library(verify: bool = True, max_length: int = 50, n: int = 200, folder=None) -> list[ScoreRow]:
    rows = []
    for entry in task_programs(folder):
        task = program_task(entry.path)
        program = compile_for_task(entry.path, task)
        form = program.normal
        row = ScoreRow(
            entry.name,
            entry.path.name,
            entry.task,
            length=form.length,
            readout=form.readout,
            depth=form.depth,
            selects=form.selects,
            blocks=form.blocks,
            written=program.stats.length,
        )
        if verify:
            top = min(max_length, task.max_length() or max_length)
            lengths = list(range(task.min_length, top + 1))
            span = check_program(program, task, lengths, n).verified_range()
            row.verified = f"{span[0]}-{span[1]}" if span else "fails"
        rows.append(row)
    have = {r.benchmark for r in rows}
    for name, reason in no_program(folder).items():
        if name not in have:  # a program wins over a manifest entry (and `conflict_warnings` says so)
            rows.append(ScoreRow(name, "none", benchmark_task(name), reason=reason))
    found = searched(folder)
    for row in rows:
        if row.benchmark in found:
            row.searched = search_cell(found[row.benchmark])
    return sorted(rows, key=lambda r: r.benchmark)


def search_cell(record: dict) -> str:
    """``3 (minimal)``, ``> 4``, or with ``?`` where merges or a cut readout
    could have hidden a shorter program (records written before those were
    counted say nothing, so they get the ``?`` too).

    >>> search_cell({"found": False, "lower_bound": 4, "unsafe_merges": 0, "truncated": False})
    '> 4'
    >>> search_cell({"found": False, "lower_bound": 4})
    '> 4?'
    """
    if record.get("found"):
        return f"{record.get('length')}" + (" (minimal)" if record.get("minimal") else "")
    bound = record.get("lower_bound")
    proven = record.get("unsafe_merges") == 0 and record.get("truncated") is False
    return f"> {bound}{'' if proven else '?'}" if bound else f"none <= {record.get('max_ops')} (no bound)"


def render_scores(rows: list[ScoreRow], fmt: str = "github") -> str:
    if fmt == "json":
        return json.dumps([asdict(r) for r in rows], indent=2)
    headers = [
        "benchmark",
        "program",
        "length",
        "+ readout",
        "depth",
        "selects",
        "blocks",
        "as written",
        "searched",
        "verified lengths",
    ]
    table = [
        [
            r.benchmark,
            r.program,
            *("-" if v is None else v for v in (r.length, r.readout, r.depth, r.selects, r.blocks, r.written)),
            r.searched,
            r.verified,
        ]
        for r in rows
    ]
    return render_table(headers, table, fmt) + ("" if fmt in ("json", "csv") else "\n\n" + LENGTH_LEGEND)


LENGTH_LEGEND = (
    "length: attention operations (select, aggregate, selector_width, selector & | !) plus fused element-wise "
    "blocks, on a normal form that rewrites cannot change (lengthgen/rasp/normal.py); + readout: the final "
    "output block (I/O boilerplate), not in length; as written: primitive operations in the source; searched: the "
    "shortest program `lengthgen rasp search` found (rasp/SEARCH.yaml), '> k' when none of length <= k in its "
    "grammar fits the sample, '> k?' when merges of sample-equal candidates or a cut readout could have hidden "
    "one (or the record predates that accounting); '(minimal)' only when nothing could have."
)
