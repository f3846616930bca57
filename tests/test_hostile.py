"""Hostile inputs: every bad file or value gives a one-line error (exit 2) or
a warning naming the skipped file, in bounded time and memory."""

import json
import os
import time
from pathlib import Path

import pytest

from lengthgen.cli.main import main
from tests.reporting.test_leaderboard import make_result

ROOT = Path(__file__).resolve().parents[1]


def run(capsys, *argv):
    start = time.perf_counter()
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    assert time.perf_counter() - start < 60
    return code, out, err


def alias_bomb(levels=9, width=10):
    lines = [f"a0: &a0 [{', '.join(['x'] * width)}]"]
    for i in range(1, levels):
        lines.append(f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * width)}]")
    return "\n".join(lines) + f"\nmodel: *a{levels - 1}\n"


@pytest.mark.parametrize(
    "text, fragment",
    [
        (alias_bomb(), "alias bomb"),
        (alias_bomb(levels=3, width=120), "aliases"),
        ("model: lstm\nseed: 1\nmodel: transformer\n", "duplicate key 'model'"),
        ("seed: " + "[" * 5000 + "]" * 5000 + "\n", "YAML"),
        ("benchmark: count\nmodel: " + "x" * 100_000 + "\n", "unknown model"),
    ],
    ids=["alias-bomb", "many-aliases", "duplicate-key", "deep-nesting", "huge-value"],
)
@pytest.mark.parametrize("command", ["run", "bench"])
def test_hostile_yaml(capsys, tmp_path, text, fragment, command):
    path = tmp_path / "x.yaml"
    if command == "bench":
        text = "benchmarks: [count]\n" + text.replace("model:", "models:", 1).replace("seed:", "seeds:")
    path.write_text(text)
    argv = ["run", "--config", path] if command == "run" else ["bench", "--suite", path, "--dry-run"]
    code, _, err = run(capsys, *argv)
    assert code == 2 and err.count("\n") == 1 and len(err) < 600, err[:300]
    if command == "run":
        assert fragment in err


@pytest.mark.parametrize("special", ["/dev/zero", "fifo", "folder"])
def test_config_that_is_not_a_regular_file(capsys, tmp_path, special):
    if special == "fifo":
        path = tmp_path / "x.yaml"
        os.mkfifo(path)
    elif special == "folder":
        path = tmp_path
    else:
        path = special
    code, _, err = run(capsys, "run", "--config", path)
    assert code == 2 and "regular file" in err


POISON = {
    "deep.json": "[" * 100_000 + "]" * 100_000,
    "zero-length.json": make_result("count", "m", 0, {0: 1.0, 12: 0.5}),
    "no-in-range.json": make_result("count", "m", 1, {12: 0.5, 20: 0.1}),
    "huge-range.json": make_result("count", "m", 2, {10: 1.0, 12: 0.5}, train="1-99999999999"),
    "list-name.json": make_result("count", "m", 3, {10: 1.0}) | {"name": ["a"]},
    "list-benchmark.json": {
        **make_result("count", "m", 4, {10: 1.0}),
        "config": {"task": "count", "model": "m", "benchmark": ["x"]},
    },
    "bad-rank-curve.json": make_result("count", "m", 5, {10: 1.0, 12: 0.5}) | {"diagnostics": {"rank_curve": [{}]}},
    "future-schema.json": make_result("count", "m", 6, {10: 1.0}) | {"schema": 999},
    "evil-name.json": make_result("count", "m", 7, {10: 1.0}) | {"name": "../../../escaped"},
}


@pytest.fixture
def poisoned(tmp_path):
    folder = tmp_path / "sweep"
    folder.mkdir()
    (folder / "good.json").write_text(json.dumps(make_result("count", "transformer", 0, {10: 1.0, 15: 0.9})))
    for name, data in POISON.items():
        (folder / name).write_text(data if isinstance(data, str) else json.dumps(data))
    os.symlink("/dev/zero", folder / "zero.json")
    os.mkfifo(folder / "fifo.json")
    return folder


@pytest.mark.parametrize("command", ["leaderboard", "conjecture", "plot"])
def test_poisoned_result_files_are_skipped(capsys, poisoned, tmp_path, command):
    if command == "plot":
        pytest.importorskip("matplotlib")
    argv = [command, poisoned] + (["--out", tmp_path / "plots"] if command == "plot" else [])
    argv += ["--model", "m", "--bootstrap", "50", "--permutations", "50"] if command == "conjecture" else []
    code, out, err = run(capsys, *argv)
    assert code == 0, err
    for name in ("deep.json", "zero-length.json", "list-benchmark.json", "future-schema.json", "zero.json"):
        assert f"{name}: " in err, name
    assert "fifo.json" in err and "Traceback" not in err
    assert not list(tmp_path.glob("escaped*")) and not (tmp_path.parent / "escaped.png").exists()


def test_length_zero_rows_load_only_for_tasks_that_have_length_zero(tmp_path):
    from lengthgen.reporting.loading import check_result

    zero_hops = make_result("c-pvr", "m", 0, {0: 1.0, 3: 0.9, 12: 0.2})
    zero_hops["config"]["params"] = {"cells": 16}
    assert check_result(zero_hops) is None
    zero_hops["config"]["params"] = {"cells": 16, "hop_marks": False, "cell_ids": False, "distinct_values": False}
    assert "malformed" in check_result(zero_hops)  # version 1 with '#h' starts at one hop
    assert "malformed" in check_result(POISON["zero-length.json"])  # count has no length 0


@pytest.mark.parametrize(
    "argv, fragment",
    [
        (["run", "--benchmark", "count", "--train-lengths", "1-10000000000"], "too large"),
        (["bench", "--suite", "quick", "--seeds", "0-10000000000", "--dry-run"], "too large"),
        (["run", "--benchmark", "count", "--seed", "99999999999999999999999"], "seed must be"),
        (["tasks", "sample", "count", "--length", "4", "--param", "max_value=1000000000"], "up to 1,000,000"),
        (["tasks", "sample", "symbol-template", "--length", "4", "--param", "template_seed=-1"], ">= 0"),
        (["run", "--benchmark", "count", "--param", "max_value=nan"], "expects an integer"),
        (["rasp", "check", "rasp/sort.rasp", "--lengths", "1-10000000000"], "too large"),
    ],
)
def test_bad_values_are_one_line_errors(capsys, argv, fragment):
    code, _, err = run(capsys, *argv)
    assert code == 2 and fragment in err and err.count("\n") == 1, err[:300]


@pytest.mark.parametrize("target", ["file", "/proc/lengthgen-nope"])
def test_bad_output_path_fails_before_training(capsys, tmp_path, target):
    out = tmp_path / "a-file" if target == "file" else target
    if target == "file":
        out.write_text("x")
    code, _, err = run(capsys, "run", "--benchmark", "count", "--steps", "100000", "--out", out)
    assert code == 2 and "--out" in err and err.count("\n") == 1


@pytest.mark.parametrize("content", ['{"name": "my-package", "version": "1.0.0"}\n', "not json", ""])
def test_a_run_never_writes_its_result_over_a_file_that_is_not_one(capsys, tmp_path, content):
    """out + name from a shared run config can name any file (./package.json)."""
    foreign = tmp_path / "package.json"
    foreign.write_text(content)
    code, _, err = run(
        capsys, "run", "--benchmark", "count", "--steps", "100000", "--out", tmp_path, "--name", "package"
    )
    assert code == 2 and "not a lengthgen result file" in err and err.count("\n") == 1
    assert foreign.read_text() == content and sorted(p.name for p in tmp_path.iterdir()) == ["package.json"]


def test_a_result_file_is_recognised_by_content(tmp_path):
    from lengthgen.errors import LengthgenError
    from lengthgen.results import claim_result_path, is_result_file

    path = tmp_path / "r.json"
    path.write_text('{"schema": 5, "fingerprint": "abc", "results": []}')
    assert is_result_file(path)
    cut = tmp_path / "cut.json"
    cut.write_text('{"fingerprint": "abc", "results": [')  # cut short by a crash: a rerun may replace it
    assert is_result_file(cut)
    assert not is_result_file(tmp_path / "missing.json")
    for foreign in ('{"name": "pkg", "results": []}', '["fingerprint", "results"]', "fingerprint"):
        (tmp_path / "f.json").write_text(foreign)
        assert not is_result_file(tmp_path / "f.json"), foreign
    claim_result_path(path)  # its own kind: may be replaced
    claim_result_path(tmp_path / "new.json")  # a new path
    link = tmp_path / "link.json"
    link.symlink_to(path)
    with pytest.raises(LengthgenError, match="not a lengthgen result"):
        claim_result_path(link)  # a planted link is not followed into someone else's file


def test_run_logs_one_line_per_evaluation_without_a_tty(capsys, tmp_path):
    code, _, err = run(
        capsys, "run", "--benchmark", "parity", "--steps", "4", "--eval-every", "2", "--eval-examples", "4",
        "--batch-size", "4", "--model-opt", "d_model=16", "--model-opt", "n_heads=2", "--out", tmp_path,
    )  # fmt: skip
    assert code == 0
    lines = [line for line in err.splitlines() if line.startswith("step ")]
    assert [line.split()[1] for line in lines] == ["2/4", "4/4"] and "in-range exact" in lines[0]


@pytest.mark.parametrize(
    "argv, fragment",
    [
        (["--model-opt", "d_ff=2.5"], "positive integer"),
        (["--model-opt", "d_model=1048576"], "<= 16,384"),
        (["--pe", "randomized", "--model-opt", "max_positions=8", "--train-lengths", "10"], "range of at least 4x"),
        (["--pe", "randomized", "--model-opt", "max_positions=100"], "range of at least 4x"),
        (["--pe", "learned", "--model-opt", "max_positions=30"], "max_positions >="),
        (["--device", "cpu:99"], "unsupported device"),
        (["--lr", "nan"], "finite"),
        (["--eval-examples", "100000000"], "eval_examples"),
    ],
)
def test_bad_run_values_fail_before_training(capsys, tmp_path, argv, fragment):
    code, _, err = run(capsys, "run", "--benchmark", "count", "--steps", "100000", "--out", tmp_path, *argv)
    assert code == 2 and fragment in err and err.count("\n") == 1, err[:300]


def test_checkpoint_with_the_right_fingerprint_but_wrong_shapes(capsys, tmp_path):
    import torch

    args = [
        "run",
        "--benchmark",
        "count",
        "--steps",
        "2",
        "--eval-every",
        "1",
        "--eval-examples",
        "2",
        "--out",
        tmp_path,
    ]
    args += ["--name", "r", "--model-opt", "d_model=16", "--model-opt", "n_heads=2", "--keep-checkpoint"]
    assert run(capsys, *args)[0] == 0
    (tmp_path / "r.json").unlink()  # an interrupted run: the checkpoint is what resumes it
    ckpt = torch.load(tmp_path / "r.ckpt.pt", weights_only=True)
    ckpt["model"] = {k: v[..., :1] if v.dim() else v for k, v in ckpt["model"].items()}
    del ckpt["optimizer"]
    torch.save(ckpt, tmp_path / "r.ckpt.pt")
    code, _, err = run(capsys, *args)
    assert code == 2 and "does not match this model or is incomplete" in err


def test_markdown_tables_survive_pipes_in_names(tmp_path, capsys):
    r = make_result("count", "transformer", 0, {10: 1.0, 15: 0.9})
    r["config"]["benchmark"] = "a|b\nc"
    (tmp_path / "r.json").write_text(json.dumps(r))
    code, out, _ = run(capsys, "leaderboard", tmp_path)
    row = next(line for line in out.splitlines() if "a\\|b c" in line)
    assert code == 0 and row.count(" | ") == out.splitlines()[2].count(" | ")


@pytest.mark.parametrize(
    "source, fragment",
    [
        ("output = tokens + 10000000000;\n", "too large"),
        ("output = tokens + " + "9" * 400 + ";\n", "too large"),
    ],
)
def test_huge_rasp_constants(capsys, tmp_path, source, fragment):
    path = tmp_path / "p.rasp"
    path.write_text(source)
    code, _, err = run(capsys, "rasp", "run", path, "--input", "1 2 3")
    assert code == 2 and fragment in err and "Traceback" not in err


def test_huge_rasp_input_token_and_binary_program(capsys, tmp_path, monkeypatch):
    code, _, err = run(capsys, "rasp", "run", "rasp/sort.rasp", "--input", "7" * 5000 + " 2 <sep>")
    assert code == 2 and len(err) < 1200
    bad = tmp_path / "bad.rasp"
    bad.write_bytes(b"\xff\xfe not utf-8")
    import io

    monkeypatch.setattr("sys.stdin", io.StringIO(":quit\n"))
    code, out, err = run(capsys, "rasp", "repl", "--load", bad)
    assert "not UTF-8" in out + err and "Traceback" not in out + err


def test_lock_holder_removes_temporaries_left_by_a_killed_writer(tmp_path):
    """A SIGKILL mid-write leaves `.NAME.ckpt.pt.PID.XXXX.tmp`; the next
    holder of NAME's lock removes it, and only NAME's own temporaries."""
    from lengthgen.results import cell_lock

    stale = [tmp_path / ".abc.ckpt.pt.4242.deadbeef.tmp", tmp_path / ".abc.json.17.0123abcd.tmp"]
    kept = [
        tmp_path / ".abc.def.ckpt.pt.4242.deadbeef.tmp",
        tmp_path / ".abcd.json.1.0123abcd.tmp",
        tmp_path / "abc.json",
    ]
    for path in stale + kept:
        path.write_bytes(b"x")
    with cell_lock(tmp_path, "abc"):
        assert not any(p.exists() for p in stale)
    assert all(p.exists() for p in kept)


def test_atomic_writes_leave_nothing_behind_and_follow_no_planted_link(tmp_path, monkeypatch):
    from lengthgen.errors import LengthgenError
    from lengthgen.results import write_json_atomic, write_text_atomic

    with pytest.raises(LengthgenError, match="is a folder"):
        write_text_atomic(tmp_path, "x")
    # a failure mid-write (a full disk) leaves neither a temporary nor a changed file
    target = tmp_path / "lb.md"
    target.write_text("old")

    def boom(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("lengthgen.results.os.fsync", boom)
    with pytest.raises(OSError):
        write_text_atomic(target, "new")
    monkeypatch.undo()
    assert target.read_text() == "old" and sorted(p.name for p in tmp_path.iterdir()) == ["lb.md"]
    # a link planted at the temporary name is never followed: the write refuses instead
    import os
    import uuid

    outside = tmp_path / "outside.txt"
    outside.write_text("keep")
    fixed = uuid.UUID(int=0)
    monkeypatch.setattr("lengthgen.results.uuid.uuid4", lambda: fixed)
    (tmp_path / f".lb.md.{os.getpid()}.{fixed.hex[:8]}.tmp").symlink_to(outside)
    with pytest.raises(OSError):
        write_json_atomic(target, {"a": 1})
    assert outside.read_text() == "keep" and target.read_text() == "old"
    monkeypatch.undo()
    write_json_atomic(target, {"a": 1})
    assert json.loads(target.read_text()) == {"a": 1}


STORED_DAMAGE = {
    "a string for a number": lambda d: d["wall_time_s"].__setitem__("train_cpu", "fast"),
    "a list for a name": lambda d: d["task"].__setitem__("name", ["x"]),
    "a list for a mapping": lambda d: d["task"].__setitem__("test_params", [1, 2]),
    "a string for a count": lambda d: d["model"].__setitem__("parameters", "many"),
}


@pytest.mark.parametrize("damage", list(STORED_DAMAGE), ids=list(STORED_DAMAGE))
def test_one_damaged_result_is_skipped_naming_the_field(tmp_path, capsys, damage):
    from lengthgen.cli.main import main

    quick = sorted((ROOT / "results" / "runs" / "quick").glob("*.json"))
    if not quick:
        pytest.skip("needs the checkout's committed results")
    for path in quick:
        (tmp_path / path.name).write_text(path.read_text())
    bad = json.loads(quick[0].read_text())
    STORED_DAMAGE[damage](bad)
    (tmp_path / "bad.json").write_text(json.dumps(bad))
    assert main(["leaderboard", str(tmp_path)]) == 0
    err = capsys.readouterr().err
    assert "bad.json" in err and "Traceback" not in err


def test_names_from_result_files_are_shown_not_interpreted(tmp_path, capsys):
    from lengthgen.cli.main import main

    quick = sorted((ROOT / "results" / "runs" / "quick").glob("*.json"))
    if not quick:
        pytest.skip("needs the checkout's committed results")
    data = json.loads(quick[0].read_text())
    data["config"]["benchmark"] = "<img src=x onerror=alert(1)>\x1b[2J"
    (tmp_path / "r.json").write_text(json.dumps(data))
    assert main(["leaderboard", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "<img" not in out and "\x1b" not in out and "&lt;img" in out


def test_recomputed_baselines_are_bounded_whatever_a_file_claims(tmp_path, capsys):
    """A file without stored baselines gets them recomputed; a row claiming a
    billion examples or a length of a million must not make that unbounded."""
    from lengthgen.cli.main import main

    result = make_result("parity", "transformer", 0, {10: 1.0, 20: 0.5})
    result["results"][-1]["n"] = 10**9
    (tmp_path / "a.json").write_text(json.dumps(result))
    huge = make_result("parity", "transformer", 1, {10: 1.0, 10**6: 0.5})
    (tmp_path / "b.json").write_text(json.dumps(huge))
    start = time.perf_counter()
    assert main(["leaderboard", str(tmp_path)]) == 0
    assert time.perf_counter() - start < 60
    assert "parity" in capsys.readouterr().out
