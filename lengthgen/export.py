"""Exporting a benchmark as a dataset for other frameworks.

``lengthgen tasks export count --out data/count`` writes one split per
file, ``train`` (examples at the training lengths, lengths drawn uniformly
as in training) and ``test`` (``--test-examples`` per test length), as JSON
Lines or Parquet (``pip install 'lengthgen[export]'``), plus
``metadata.json`` with the task, its version and parameters, the lengths
and the seed.  A Hugging Face ``datasets`` user loads it with
``load_dataset("json" or "parquet", data_files={"train": ..., "test": ...})``.
Examples are generated and written in chunks: memory stays flat whatever the
size, and the same arguments give the same files.
"""

from __future__ import annotations

import json
import os
import tempfile
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


def _records(task, batch, split: str, length: int) -> list[dict[str, Any]]:
    out = []
    for i in range(len(batch)):
        x, y = batch.example(i)
        out.append({"split": split, "length": length, "input": task.decode(x), "target": task.decode(y)})
    return out


def split_chunks(bench: Benchmark, split: str, n: int, seed: int) -> Iterator[list[dict[str, Any]]]:
    """Lists of records of one split, ``CHUNK`` examples at a time."""
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
    for length in bench.test_lengths:
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
    if out.exists() and not out.is_dir():
        raise LengthgenError(f"--out {out}: exists and is not a folder")
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for split, n in (("train", train_examples), ("test", test_examples)):
        path = out / f"{split}.{fmt}"
        # a temporary name of its own: two exports into one folder never write one file
        handle, name = tempfile.mkstemp(prefix=f".{split}.", suffix=f".{fmt}.tmp", dir=out)
        os.close(handle)
        tmp = Path(name)
        try:
            (_write_parquet if fmt == "parquet" else _write_jsonl)(tmp, split_chunks(bench, split, n, seed))
            tmp.replace(path)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        written.append(path)
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
        "splits": {"train": train_examples, "test": test_examples * len(bench.test_lengths)},
        "format": fmt,
        "fields": {"input": "list of tokens", "target": "list of tokens", "length": "task length", "split": "split"},
    }
    write_json_atomic(out / "metadata.json", meta)
    return written + [out / "metadata.json"]


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
