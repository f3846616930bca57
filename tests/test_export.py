"""Dataset export: splits, metadata, determinism, Parquet, bad input."""

import json

import pytest

from lengthgen import export
from lengthgen.cli.main import main
from lengthgen.data import find_benchmark
from lengthgen.suites import load_benchmark


def test_jsonl_export_splits_and_metadata(tmp_path, capsys):
    assert (
        main(
            ["tasks", "export", "sort", "--out", str(tmp_path / "a"), "--train-examples", "50", "--test-examples", "7"]
        )
        == 0
    )
    bench = load_benchmark(find_benchmark("sort"))
    train = [json.loads(line) for line in (tmp_path / "a" / "train.jsonl").read_text().splitlines()]
    test = [json.loads(line) for line in (tmp_path / "a" / "test.jsonl").read_text().splitlines()]
    assert len(train) == 50 and {r["length"] for r in train} <= set(bench.train_lengths)
    assert len(test) == 7 * len(bench.test_lengths) and {r["length"] for r in test} == set(bench.test_lengths)
    assert all(sorted(r["input"], key=int) == r["target"] for r in train + test)  # exact ground truth
    meta = json.loads((tmp_path / "a" / "metadata.json").read_text())
    assert meta["task"]["name"] == "sort" and meta["task"]["version"] == 1 and meta["seed"] == 0
    from lengthgen import __version__
    from lengthgen.tasks import make_task

    assert meta["lengthgen_version"] == __version__ and meta["vocabulary"] == list(
        make_task("sort", **bench.params).vocab
    )
    assert not list((tmp_path / "a").glob(".*tmp"))  # no temporary left behind
    assert (
        main(
            ["tasks", "export", "sort", "--out", str(tmp_path / "b"), "--train-examples", "50", "--test-examples", "7"]
        )
        == 0
    )
    for name in ("train.jsonl", "test.jsonl"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()


def test_chunks_keep_memory_flat(monkeypatch):
    monkeypatch.setattr(export, "CHUNK", 100)
    bench = load_benchmark(find_benchmark("count"))
    sizes = [len(chunk) for chunk in export.split_chunks(bench, "train", 1050, 0)]
    assert sizes == [100] * 10 + [50]


def test_parquet_export(tmp_path):
    pq = pytest.importorskip("pyarrow.parquet")
    bench = load_benchmark(find_benchmark("parity"))
    export.export_benchmark(bench, tmp_path, "parquet", train_examples=30, test_examples=3)
    table = pq.read_table(tmp_path / "train.parquet")
    assert table.num_rows == 30 and table.column_names == ["split", "length", "input", "target"]
    assert pq.read_table(tmp_path / "test.parquet").num_rows == 3 * len(bench.test_lengths)


@pytest.mark.parametrize("bad", [["--train-examples", "-1"], ["--seed", "-2"], ["--format", "csv"]])
def test_bad_export_arguments(tmp_path, capsys, bad):
    assert main(["tasks", "export", "sort", "--out", str(tmp_path), *bad]) == 2
