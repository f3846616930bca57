"""Running a sweep: skip finished cells, run the rest, report as they finish."""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from tabulate import tabulate
from tqdm.auto import tqdm

from lengthgen.sweeps.cells import ASSUMED_FLOPS_PER_THREAD, Cell, is_complete
from lengthgen.sweeps.executors import Outcome


@dataclass
class SweepReport:
    total: int
    skipped: int = 0
    done: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)


def dry_run_table(cells: list[Cell], threads: int = 1) -> str:
    rows, total = [], 0.0
    # a format-2 suite resolves pack_examples per cell: say which layout each got
    layouts = any(cell.config.train.pack_examples for cell in cells)
    for cell in cells:
        gflops = cell.estimated_gflops()
        total += gflops
        status = "done" if is_complete(cell) else "todo"
        row = [
            cell.label,
            cell.key,
            status,
            f"{gflops:,.0f}",
            f"{gflops * 1e9 / ASSUMED_FLOPS_PER_THREAD / threads / 60:.1f}",
        ]
        rows.append(row + (["packed" if cell.config.train.pack_examples else "padded"] if layouts else []))
    headers = ["cell", "key", "status", "train GFLOPs", "est. minutes"] + (["layout"] if layouts else [])
    table = tabulate(rows, headers=headers, tablefmt="github")
    est = total * 1e9 / ASSUMED_FLOPS_PER_THREAD / 60
    return f"{table}\n\n{len(cells)} cells, about {total:,.0f} GFLOPs of training (~{est:.0f} thread-minutes)"


def cell_outcome(summary: dict) -> str:
    """What one finished cell shows: beyond the range only when it fitted in range.

    >>> cell_outcome({"metric": "exact", "score": 0.485, "fitted": False, "in_range": 0.61})
    'not fitted (exact 61.0% at the longest training length)'
    """
    metric = summary["metric"]
    if summary.get("fitted") is False:
        at = summary.get("in_range")
        where = f" ({metric} {100 * at:.1f}% at the longest training length)" if at is not None else ""
        return f"not fitted{where}"
    return f"{metric} beyond training: {100 * summary['score']:.1f}%"


def run_sweep(
    cells: list[Cell],
    executor,
    resume: bool = True,
    log: Callable[[str], None] | None = None,
    progress: bool | None = None,
    keep_checkpoints: bool = False,
) -> SweepReport:
    """Run every cell not already complete.  Result files are written by the
    cells themselves (temporary file + rename), so an interrupted sweep
    loses at most the cells in flight, and a half-written file is never
    mistaken for a result.  A finished cell's checkpoint (its final model)
    is removed, the result being final, unless ``keep_checkpoints``: scripts
    that read a trained model need it."""
    log = log or (lambda m: print(m, file=sys.stderr))
    report = SweepReport(total=len(cells))
    todo = []
    for cell in cells:
        if resume and is_complete(cell):
            report.skipped += 1
        else:
            if not resume:
                # rerun from scratch: neither a checkpoint nor the old result may be reused
                Path(cell.config.out, f"{cell.key}.ckpt.pt").unlink(missing_ok=True)
                cell.result_path().unlink(missing_ok=True)
            todo.append(cell)
    if report.skipped:
        log(f"{report.skipped} of {len(cells)} cells already complete; running {len(todo)}")
    bar = tqdm(
        total=len(cells),
        initial=report.skipped,
        desc="cells",
        disable=None if progress is None else not progress,
        dynamic_ncols=True,
    )
    finished = report.skipped

    def on_done(cell: Cell, outcome: Outcome) -> None:
        nonlocal finished
        finished += 1
        if outcome.ok:
            if not keep_checkpoints:
                Path(cell.config.out, f"{cell.config.run_name()}.ckpt.pt").unlink(missing_ok=True)
            report.done.append(cell.key)
            s = outcome.summary
            how = "reused " if s.get("reused") else "done   "  # another process finished it meanwhile
            line = f"[{finished}/{len(cells)}] {how}{cell.label}  {cell_outcome(s)}  ({outcome.seconds:.0f}s)"
        else:
            report.failed.append((cell.label, outcome.error))
            line = f"[{finished}/{len(cells)}] FAILED {cell.label}: {outcome.error.splitlines()[-1] if outcome.error else '?'}"
        bar.write(line, file=sys.stderr) if not bar.disable else log(line)
        bar.update(1)

    try:
        if todo:
            executor.run(todo, on_done)
    finally:
        bar.close()
    return report
