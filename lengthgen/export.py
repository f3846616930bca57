"""Exporting a benchmark as a dataset for other frameworks.

``lengthgen tasks export count --out data/count`` writes one split per
file, ``train`` (examples at the training lengths, lengths drawn uniformly
as in training) and ``test-N`` for each test length N (``--test-examples``
each), as JSON Lines or Parquet (``pip install 'lengthgen[export]'``), plus
``metadata.json`` with the task, its version and parameters, the
vocabulary, the lengths, the seed and the files.  A Hugging Face
``datasets`` user loads it with ``load_dataset("json" or "parquet",
data_files=metadata["files"])``.
Examples are generated and written in chunks: memory stays flat whatever the
size, and the same arguments give the same files.
"""

from __future__ import annotations

import ctypes
import glob
import json
import os
import re
import shutil
import sys
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from lengthgen import __version__
from lengthgen.errors import LengthgenError
from lengthgen.results import write_json_atomic
from lengthgen.suites import Benchmark
from lengthgen.training.data import sample_length_groups

FORMATS = ("jsonl", "parquet")
CHUNK = 10_000
MAX_EXAMPLES = 100_000_000
EXPORT_FILE = re.compile(r"(train|test|test-\d+)\.(jsonl|parquet)|metadata\.json")  # "test": earlier exports


def _records(task, batch, split: str, length: int) -> list[dict[str, Any]]:
    out = []
    for i in range(len(batch)):
        x, y = batch.example(i)
        out.append({"split": split, "length": length, "input": task.decode(x), "target": task.decode(y)})
    return out


def split_chunks(
    bench: Benchmark, split: str, n: int, seed: int, lengths: list[int] | None = None
) -> Iterator[list[dict[str, Any]]]:
    """Lists of records of one split, ``CHUNK`` examples at a time (``test``:
    ``n`` per test length, of ``lengths`` when given)."""
    if split == "train":
        task = bench.make_task()
        rng = np.random.default_rng([seed, 0])
        remaining = n
        while remaining > 0:
            size = min(CHUNK, remaining)
            records = []
            for length, batch in sample_length_groups(task, rng, size, bench.train_lengths):  # as training draws them
                records += _records(task, batch, split, length)
            remaining -= size
            yield [records[i] for i in rng.permutation(len(records))]  # no length order inside the file
        return
    task = bench.make_test_task()
    for length in bench.test_lengths if lengths is None else lengths:
        rng = np.random.default_rng([seed, 2, length])
        remaining = n
        while remaining > 0:
            batch = task.sample(rng, min(CHUNK, remaining), length)
            remaining -= len(batch)
            yield _records(task, batch, split, length)


def export_benchmark(
    bench: Benchmark, out: str | Path, fmt: str = "jsonl", train_examples: int = 10_000, test_examples: int = 1_000,
    seed: int = 0,
) -> list[Path]:  # fmt: skip
    if fmt not in FORMATS:
        raise LengthgenError(f"--format must be one of {', '.join(FORMATS)}, got {fmt!r}")
    for name, n in (("--train-examples", train_examples), ("--test-examples", test_examples)):
        if not 0 <= n <= MAX_EXAMPLES:
            raise LengthgenError(f"{name} must be in 0..{MAX_EXAMPLES:,}, got {n}")
    if seed < 0:
        raise LengthgenError(f"--seed must be >= 0, got {seed}")
    out = Path(out)
    check_export_folder(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    from filelock import FileLock

    # two exports into one folder take turns; the lock lives beside the folder, which is swapped
    with FileLock(str(out.parent / f".{out.name}.export.lock")):
        _recover(out)
        staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.staging-", dir=out.parent))
        try:
            names = _write_set(bench, staging, fmt, train_examples, test_examples, seed)
            _swap_in(staging, out)
        finally:
            shutil.rmtree(staging, ignore_errors=True)  # after a swap it holds the old set
    return [out / name for name in names]


def _write_set(bench: Benchmark, folder: Path, fmt: str, train_examples: int, test_examples: int, seed: int) -> list:
    write = _write_parquet if fmt == "parquet" else _write_jsonl
    # one split per test length: a length is what a user compares, and each loads on its own
    splits = {"train": ("train", train_examples, None)}
    splits.update({f"test-{n}": ("test", test_examples, [n]) for n in bench.test_lengths})
    for name, (split, n, lengths) in splits.items():
        write(folder / f"{name}.{fmt}", split_chunks(bench, split, n, seed, lengths))
    names = [f"{name}.{fmt}" for name in splits]
    task = bench.make_task()
    meta = {
        "benchmark": bench.name,
        "lengthgen_version": __version__,
        "task": {"name": task.name, "version": task.version, "params": task.config, "test_params": bench.test_params},
        "vocabulary": list(task.vocab),
        "train_lengths": bench.train_lengths,
        "test_lengths": bench.test_lengths,
        "metric": bench.metric,
        "seed": seed,
        "splits": {name: n for name, (_, n, _) in splits.items()},
        "files": {name: f"{name}.{fmt}" for name in splits},
        "format": fmt,
        "fields": {"input": "list of tokens", "target": "list of tokens", "length": "task length", "split": "split"},
    }
    write_json_atomic(folder / "metadata.json", meta)
    return names + ["metadata.json"]


def check_export_folder(out: Path) -> None:
    """An export replaces a whole folder, so the folder must be new, empty,
    or an earlier export (its files only, recognised by its metadata)."""
    if out.is_symlink() or (out.exists() and not out.is_dir()):
        raise LengthgenError(f"--out {out}: exists and is not a folder")
    if not out.exists():
        return
    names = {p.name for p in out.iterdir()}
    foreign = sorted(n for n in names if not EXPORT_FILE.fullmatch(n))
    if not foreign and "metadata.json" in names:
        try:
            meta = json.loads((out / "metadata.json").read_text(encoding="utf-8"))
        except (OSError, ValueError, RecursionError):
            meta = None
        if not (isinstance(meta, dict) and "benchmark" in meta and "lengthgen_version" in meta):
            foreign = ["metadata.json (not a lengthgen export's)"]
    if foreign:
        shown = ", ".join(foreign[:5]) + (" ..." if len(foreign) > 5 else "")
        raise LengthgenError(
            f"--out {out}: holds files that are not a lengthgen export ({shown}); an export replaces the whole "
            "folder, so give a new or empty folder"
        )


def _exchange(a: Path, b: Path) -> bool:
    """Swap two folders in one atomic step (Linux renameat2 RENAME_EXCHANGE);
    False where the platform cannot."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    at_fdcwd, rename_exchange = -100, 2
    return renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange) == 0


def _swap_in(staging: Path, out: Path) -> None:
    """Make ``staging`` the folder ``out``; ``staging`` then holds the old
    set (or nothing).  A reader sees the old set or the new one, never a mix."""
    if not out.exists():
        os.rename(staging, out)
        staging.mkdir()  # the caller removes it
        return
    if _exchange(staging, out):
        return
    # elsewhere: two renames; an interruption between them is repaired by _recover
    old = out.parent / f".{out.name}.old-{uuid.uuid4().hex[:8]}"
    os.rename(out, old)
    os.rename(staging, out)
    os.rename(old, staging)


def _recover(out: Path) -> None:
    """Repair what an interrupted export left (under the lock): an old set
    moved aside but not replaced goes back; staging folders are removed."""
    olds = sorted(out.parent.glob(f".{glob.escape(out.name)}.old-*"))
    if olds and not out.exists():
        os.rename(olds.pop(), out)
    for leftover in [*olds, *out.parent.glob(f".{glob.escape(out.name)}.staging-*")]:
        shutil.rmtree(leftover, ignore_errors=True)


def _write_jsonl(path: Path, chunks) -> None:
    with open(path, "w", encoding="utf-8") as fh:
        for records in chunks:
            fh.writelines(json.dumps(r, separators=(", ", ": ")) + "\n" for r in records)


def _write_parquet(path: Path, chunks) -> None:
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:
        raise LengthgenError("Parquet export needs pyarrow: pip install 'lengthgen[export]'") from None
    schema = pa.schema(
        [
            ("split", pa.string()),
            ("length", pa.int64()),
            ("input", pa.list_(pa.string())),
            ("target", pa.list_(pa.string())),
        ]
    )
    with pq.ParquetWriter(path, schema) as writer:
        for records in chunks:
            if records:
                writer.write_table(pa.Table.from_pylist(records, schema=schema))
