"""Accuracy in length bins, counted over fitted seeds, beside published numbers.

Papers report length generalization as accuracy over a *bin* of test
lengths (Huang et al.: 51-100 and 101-150 for a training range of 0-50),
averaged over the seeds that fitted the training range.  ``bin_rows``
gives the same table from lengthgen result files: per benchmark and
configuration, the seeds run, the seeds fitted (and those at 100% at the
longest training length, the stricter count some papers use), each bin's
mean over fitted seeds with the range over them, and the training compute.
A bin's value for one seed is the mean of the metric over the evaluated
lengths inside it.  ``count="perfect"`` averages over the seeds at 100% at
the longest training length instead, Huang et al.'s count (they keep a
seed only once it is at 100% over its training distribution), so that a
seed our fit gate passes at 96% is not held against a number that would
have left it out.

A reference file (YAML) puts the published numbers beside ours::

    copy-unique:                    # benchmark name
      transformer+learned[offset=example]: [99.9, 98.7]   # one number per bin, in %
      transformer+none: [18.0, 0.0]
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from lengthgen.config import load_yaml
from lengthgen.errors import LengthgenError
from lengthgen.reporting.loading import column_of
from lengthgen.reporting.runs import RunSummary


def parse_bins(specs: list[str]) -> list[tuple[int, int]]:
    """``["26-50", "51-75"]`` -> ``[(26, 50), (51, 75)]``; bins may not overlap.

    >>> parse_bins(["26-50", "51-75"])
    [(26, 50), (51, 75)]
    """
    bins = []
    for spec in specs:
        lo, sep, hi = str(spec).partition("-")
        if not sep or not lo.strip().isdigit() or not hi.strip().isdigit() or int(lo) > int(hi):
            raise LengthgenError(f"a bin is LOW-HIGH with LOW <= HIGH (e.g. 26-50), got {spec!r}")
        bins.append((int(lo), int(hi)))
    ordered = sorted(bins)
    for (_, hi), (lo, _) in zip(ordered, ordered[1:]):
        if lo <= hi:
            raise LengthgenError(f"bins overlap: {', '.join(f'{a}-{b}' for a, b in ordered)}")
    if not bins:
        raise LengthgenError("give at least one bin, e.g. --bins 26-50 51-75")
    return bins


def seed_bin(run: RunSummary, bounds: tuple[int, int]) -> float | None:
    """The run's metric averaged over its evaluated lengths inside ``bounds``."""
    lo, hi = bounds
    values = [r[run.metric] for r in run.result["results"] if r.get("test", True) and lo <= r["length"] <= hi]
    return sum(values) / len(values) if values else None


@dataclass
class BinRow:
    benchmark: str
    column: str
    seeds: int
    fitted: int
    perfect: int  # fitted at 100% at the longest training length
    bins: list[float | None]  # mean over fitted seeds
    spread: list[tuple[float, float] | None]  # lowest and highest fitted seed
    cpu_seconds: float
    reference: list[float] | None = field(default=None)


def load_reference(path: str | Path) -> dict[str, dict[str, list[float]]]:
    data = load_yaml(Path(path))
    for bench, columns in data.items():
        if not isinstance(columns, dict) or not all(
            isinstance(v, list) and all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in v)
            for v in columns.values()
        ):
            raise LengthgenError(f"{path}: {bench}: expected a mapping of configuration -> list of numbers (%)")
    return data


COUNTS = {"fitted": "fitted seeds", "perfect": "seeds at 100% at L"}


def bin_rows(
    runs: list[RunSummary],
    bins: list[tuple[int, int]],
    reference: dict[str, dict[str, list[float]]] | None = None,
    count: str = "fitted",
) -> list[BinRow]:
    if count not in COUNTS:
        raise LengthgenError(f"--count must be one of {', '.join(COUNTS)}, got {count!r}")
    groups: dict[tuple[str, str], list[RunSummary]] = {}
    for run in runs:
        groups.setdefault((run.benchmark, run.column), []).append(run)
    rows = []
    for (bench, column), group in sorted(groups.items()):
        fitted = [r for r in group if r.fitted]
        perfect = [r for r in fitted if r.in_range == 1.0]
        means: list[float | None] = []
        spread: list[tuple[float, float] | None] = []
        for bounds in bins:
            values = [
                v for v in (seed_bin(r, bounds) for r in (fitted if count == "fitted" else perfect)) if v is not None
            ]
            means.append(sum(values) / len(values) if values else None)
            spread.append((min(values), max(values)) if values else None)
        # an arm told apart by its folder (keep_arms_apart) has its configuration's reference
        configuration = column_of({k: v for k, v in group[0].result.items() if k != "_arm"})
        ref = (reference or {}).get(bench, {}).get(configuration)
        if ref is not None and len(ref) != len(bins):
            raise LengthgenError(f"reference for {bench} / {column} has {len(ref)} numbers for {len(bins)} bins")
        rows.append(
            BinRow(
                benchmark=bench,
                column=column,
                seeds=len(group),
                fitted=len(fitted),
                perfect=len(perfect),
                bins=means,
                spread=spread,
                cpu_seconds=sum(r.cpu_seconds or 0.0 for r in group),
                reference=ref,
            )
        )
    return rows


def render_bins(
    rows: list[BinRow], bins: list[tuple[int, int]], metric: str, tablefmt: str = "github", count: str = "fitted"
) -> str:
    from tabulate import tabulate

    def pct(v: float | None) -> str:
        return "-" if v is None else f"{100 * v:.1f}"

    headers = ["benchmark", "configuration", "fitted / seeds", "100% at L"]
    for lo, hi in bins:
        headers += [f"{metric} {lo}-{hi} ({COUNTS[count]})", "reference"]
    headers.append("train CPU-min")
    table = []
    for row in rows:
        line = [row.benchmark, row.column, f"{row.fitted} / {row.seeds}", row.perfect]
        counted = row.fitted if count == "fitted" else row.perfect
        for i in range(len(bins)):
            low_high = row.spread[i]
            cell = pct(row.bins[i])
            if low_high is not None and counted > 1:
                cell += f" [{pct(low_high[0])}, {pct(low_high[1])}]"
            line += [cell, "-" if row.reference is None else f"{row.reference[i]:g}"]
        line.append(f"{row.cpu_seconds / 60:.1f}")
        table.append(line)
    if count == "fitted":
        over = "seeds fitted in range (>= 95% at the longest training length), [lowest, highest] fitted seed"
    else:
        over = "seeds at 100% at the longest training length (Huang et al.'s count), [lowest, highest] of them"
    note = f"A bin is the mean over its evaluated lengths; the mean is over {over} beside it; '-' where no seed counts."
    return tabulate(table, headers=headers, tablefmt=tablefmt, disable_numparse=True) + "\n\n" + note
