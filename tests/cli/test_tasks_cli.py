import json
import subprocess
import sys

import pytest

from lengthgen.cli.main import main
from lengthgen.tasks import TASKS, make_task


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_list_has_every_task(capsys):
    code, out, _ = run(capsys, "tasks", "list")
    assert code == 0
    for name in TASKS:
        assert name in out


def test_list_json(capsys):
    code, out, _ = run(capsys, "tasks", "list", "copy-*", "--format", "json")
    rows = json.loads(out)
    assert code == 0 and {r["name"] for r in rows} == {"copy-unique", "copy-repeat"}


@pytest.mark.parametrize("name", TASKS.names())
def test_show_every_task(capsys, name):
    code, out, _ = run(capsys, "tasks", "show", name)
    assert code == 0 and name in out and "->" in out
    assert "baselines at length" in out and "chance" in out


def test_sample_jsonl_matches_generator(capsys):
    code, out, _ = run(capsys, "tasks", "sample", "sort", "--length", "5", "--n", "4", "--seed", "3")
    lines = out.strip().split("\n")
    assert code == 0 and len(lines) == 4
    task = make_task("sort")
    for line in lines:
        ex = json.loads(line)
        assert ex["target"] == task.reference(ex["input"]) and len(ex["input"]) == 5


def test_sample_params(capsys):
    code, out, _ = run(
        capsys,
        "tasks",
        "sample",
        "addition",
        "--length",
        "3",
        "--n",
        "2",
        "--param",
        "reversed=true",
        "--param",
        "index_hints=true",
        "--param",
        "num_hints=10",
    )
    ex = json.loads(out.splitlines()[0])
    assert code == 0 and ex["input"][0].startswith("h")


def test_sample_byte_identical_across_processes():
    cmd = [sys.executable, "-m", "lengthgen", "tasks", "sample", "c-pvr", "--length", "3", "--n", "20", "--seed", "5"]
    a = subprocess.run(cmd, capture_output=True, check=True).stdout
    b = subprocess.run(cmd, capture_output=True, check=True).stdout
    assert a == b and a.count(b"\n") == 20


@pytest.mark.parametrize(
    "argv,message",
    [
        (["tasks", "sample", "parrity", "--length", "3"], "did you mean: parity"),
        (["tasks", "sample", "count", "--length", "3", "--param", "max_vlue=9"], "max_value"),
        (["tasks", "sample", "count", "--length", "3", "--param", "oops"], "KEY=VALUE"),
        (["tasks", "sample", "count", "--length", "0"], "length must be"),
        (["tasks", "sample", "count", "--length", "3", "--n", "-1"], "--n must be"),
        (["tasks", "sample", "count", "--length", "x"], "invalid int"),
        (["tasks", "show", "nope"], "unknown task"),
        (["tasks", "frobnicate"], "invalid choice"),
        (["tasks", "list", "zzz*"], "no task matches"),
    ],
)
def test_errors_are_one_line_exit_2(capsys, argv, message):
    code, _, err = run(capsys, *argv)
    assert code == 2
    assert message in err and err.count("\n") == 1 and "Traceback" not in err


def test_list_flags_shortcut_prone_tasks(capsys):
    code, out, _ = run(capsys, "tasks", "list", "--format", "json")
    rows = {r["name"]: r for r in json.loads(out)}
    assert code == 0
    assert rows["pvr"]["shortcut (exact)"].startswith("input-mode-answer-token")
    assert rows["c-pvr"]["shortcut (exact)"] == "-"  # version 2 has none (version 1: the input mode)
    assert rows["parity"]["shortcut (exact)"] == "-"


def test_baselines_command(capsys):
    v1 = ["--param", "cell_ids=false", "--param", "distinct_values=false", "--param", "hop_marks=false"]
    code, out, _ = run(
        capsys, "tasks", "baselines", "c-pvr", "--param", "cells=12", *v1, "--lengths", "4-6", "--n", "400"
    )
    assert code == 0
    assert "input-mode-answer-token" in out and "(shortcut)" in out and "chance" in out
    code, out, _ = run(capsys, "tasks", "baselines", "parity", "--lengths", "8", "--format", "json")
    data = json.loads(out)
    assert code == 0 and data["lengths"][0]["chance"]["exact"] == 0.5


@pytest.mark.parametrize("bad", [["--n", "0"], ["--lengths", "0-3"], ["--seed", "-1"], ["--param", "nope=1"]])
def test_baselines_bad_input(capsys, bad):
    code, _, err = run(capsys, "tasks", "baselines", "parity", *bad)
    assert code == 2 and err.count("\n") == 1


def test_sample_streams_with_flat_memory():
    """Memory of `tasks sample` must not grow with --n (it streams chunks)."""
    import tracemalloc

    from lengthgen.cli.tasks_cmd import SAMPLE_CHUNK, iter_sample_lines

    task = make_task("copy-repeat")

    def peak(n):
        tracemalloc.start()
        count = sum(1 for _ in iter_sample_lines(task, 8, n, 0))
        _, top = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        assert count == n
        return top

    # the peak holds about two chunks (the one being written and the next); it must not grow with --n
    small, large = peak(2 * SAMPLE_CHUNK), peak(8 * SAMPLE_CHUNK)
    assert large < 1.3 * small


def test_sample_chunks_are_one_stream():
    from lengthgen.cli import tasks_cmd

    task = make_task("sort")
    whole = tasks_cmd.sample_lines(task, 5, 30, 3)
    original = tasks_cmd.SAMPLE_CHUNK
    try:
        tasks_cmd.SAMPLE_CHUNK = 7
        chunked = tasks_cmd.sample_lines(task, 5, 30, 3)
    finally:
        tasks_cmd.SAMPLE_CHUNK = original
    assert len(chunked) == 30 and chunked[:7] == whole[:7]  # the first chunk is the same draw
