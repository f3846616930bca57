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
    for n in bench.test_lengths:  # one split per test length
        rows = [json.loads(line) for line in (tmp_path / "a" / f"test-{n}.jsonl").read_text().splitlines()]
        assert len(rows) == 7 and {r["length"] for r in rows} == {n}
    test = [json.loads(line) for p in (tmp_path / "a").glob("test-*.jsonl") for line in p.read_text().splitlines()]
    assert len(train) == 50 and {r["length"] for r in train} <= set(bench.train_lengths)
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
    assert meta["files"] == {"train": "train.jsonl", **{f"test-{n}": f"test-{n}.jsonl" for n in bench.test_lengths}}
    for name in meta["files"].values():
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
    assert [pq.read_table(tmp_path / f"test-{n}.parquet").num_rows for n in bench.test_lengths] == [3] * len(
        bench.test_lengths
    )


@pytest.mark.parametrize("bad", [["--train-examples", "-1"], ["--seed", "-2"], ["--format", "csv"]])
def test_bad_export_arguments(tmp_path, capsys, bad):
    assert main(["tasks", "export", "sort", "--out", str(tmp_path), *bad]) == 2


def _export(name: str, out, **kw):
    bench = load_benchmark(find_benchmark(name))
    return export.export_benchmark(bench, out, train_examples=kw.get("train", 40), test_examples=kw.get("test", 3))


def _consistent(out) -> str:
    """The benchmark the folder's set belongs to, checking every file agrees with the metadata."""
    meta = json.loads((out / "metadata.json").read_text())
    assert sorted(p.name for p in out.iterdir()) == sorted([*meta["files"].values(), "metadata.json"])
    for split, name in meta["files"].items():
        lines = (out / name).read_text().splitlines()
        assert len(lines) == meta["splits"][split]
    vocab = set(meta["vocabulary"])
    assert all(set(json.loads(line)["input"]) <= vocab for line in (out / "train.jsonl").read_text().splitlines())
    return meta["benchmark"]


@pytest.mark.parametrize("atomic_exchange", [True, False])
def test_an_interrupted_re_export_leaves_the_old_set_whole(tmp_path, monkeypatch, atomic_exchange):
    out = tmp_path / "data"
    _export("sort", out)
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    if not atomic_exchange:
        monkeypatch.setattr(export, "_exchange", lambda a, b: False)

    def interrupted(path, chunks):
        if "test" in path.name:
            raise KeyboardInterrupt
        original(path, chunks)

    original = export._write_jsonl
    monkeypatch.setattr(export, "_write_jsonl", interrupted)
    with pytest.raises(KeyboardInterrupt):
        _export("parity", out)
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before  # the old set, untouched
    assert [p.name for p in tmp_path.iterdir() if p.name != "data"] == [".data.export.lock"]  # no staging left
    monkeypatch.setattr(export, "_write_jsonl", original)
    _export("parity", out)  # and a finished re-export replaces the whole set
    assert _consistent(out) == "parity"
    assert sorted(p.name for p in tmp_path.iterdir()) == [".data.export.lock", "data"]


def test_a_swap_interrupted_between_its_renames_is_repaired(tmp_path):
    out = tmp_path / "data"
    _export("sort", out)
    out.rename(tmp_path / ".data.old-1234abcd")  # killed after moving the old set aside
    (tmp_path / ".data.staging-x").mkdir()
    _export("parity", out)
    assert _consistent(out) == "parity"
    assert sorted(p.name for p in tmp_path.iterdir()) == [".data.export.lock", "data"]


def test_two_exports_into_one_folder_take_turns(tmp_path):
    import subprocess
    import sys

    out = tmp_path / "data"
    argv = [sys.executable, "-m", "lengthgen", "tasks", "export", "--out", str(out), "--train-examples", "20000"]
    procs = [subprocess.Popen([*argv[:5], name, *argv[5:]]) for name in ("sort", "parity")]
    assert [p.wait(timeout=120) for p in procs] == [0, 0]
    assert _consistent(out) in ("sort", "parity")  # whichever finished last, whole


@pytest.mark.parametrize("content", ["notes.txt", "metadata.json"])
def test_an_export_refuses_a_folder_that_is_not_an_export(tmp_path, capsys, content):
    out = tmp_path / "data"
    out.mkdir()
    (out / content).write_text('{"name": "my project"}')
    assert main(["tasks", "export", "sort", "--out", str(out), "--train-examples", "5"]) == 2
    err = capsys.readouterr().err
    assert "not a lengthgen export" in err and err.count("\n") == 1
    assert [p.name for p in out.iterdir()] == [content]
