"""Cell expansion, hashing, resume and interruption of sweeps."""

import json
import re
import signal
import subprocess
import sys
import time

import pytest

from lengthgen.errors import LengthgenError
from lengthgen.suites import load_suite
from lengthgen.sweeps.cells import expand, is_complete
from lengthgen.sweeps.executors import LocalExecutor
from lengthgen.sweeps.runner import dry_run_table, run_sweep


def test_expansion_counts_and_filters(tiny_suite, tmp_path):
    suite = load_suite(tiny_suite)
    cells = expand(suite, tmp_path / "out")
    # 2 benchmarks x (transformer x 2 encodings + lstm without encodings) x 2 seeds
    assert len(cells) == 2 * (2 + 1) * 2
    assert len({c.key for c in cells}) == len(cells)
    assert {c.pe for c in cells if c.model == "lstm"} == {None}
    assert len(expand(suite, tmp_path, tasks=["count"])) == 6
    assert len(expand(suite, tmp_path, models=["lstm"], seeds=[1])) == 2
    assert len(expand(suite, tmp_path, pes=["alibi"], models=["transformer"])) == 4
    assert len(expand(suite, tmp_path, limit=3)) == 3


def test_keys_are_stable_and_config_sensitive(tiny_suite, tmp_path):
    suite = load_suite(tiny_suite)
    a = [c.key for c in expand(suite, tmp_path / "x")]
    b = [c.key for c in expand(suite, tmp_path / "y")]
    assert a == b  # the output folder is not part of a cell's identity
    tiny_suite.write_text(tiny_suite.read_text().replace("steps: 4", "steps: 5"))
    c = [c.key for c in expand(load_suite(tiny_suite), tmp_path)]
    assert not set(a) & set(c)


@pytest.mark.parametrize(
    "kwargs,message",
    [({"tasks": ["nope"]}, "matches nothing"), ({"models": ["transfomer"]}, "did you mean"), ({"limit": 0}, "--limit")],
)
def test_bad_filters(tiny_suite, tmp_path, kwargs, message):
    with pytest.raises(LengthgenError, match=message):
        expand(load_suite(tiny_suite), tmp_path, **kwargs)


def test_dry_run_lists_cells(tiny_suite, tmp_path):
    table = dry_run_table(expand(load_suite(tiny_suite), tmp_path, limit=2))
    assert "todo" in table and "2 cells" in table


def test_run_then_resume_skips_complete_cells(tiny_suite, tmp_path):
    cells = expand(load_suite(tiny_suite), tmp_path, models=["lstm"])
    report = run_sweep(cells, LocalExecutor(workers=1), progress=False, log=lambda m: None)
    assert len(report.done) == 4 and not report.failed
    assert all(is_complete(c) for c in cells)
    assert not list(tmp_path.glob("*.ckpt.pt")), "checkpoints of finished cells are removed"
    mtimes = {c.key: c.result_path().stat().st_mtime_ns for c in cells}
    again = run_sweep(cells, LocalExecutor(workers=1), progress=False, log=lambda m: None)
    assert again.skipped == 4 and not again.done
    assert mtimes == {c.key: c.result_path().stat().st_mtime_ns for c in cells}


def test_keep_checkpoints_keeps_each_finished_cells_final_model(tiny_suite, tmp_path):
    import torch

    cells = expand(load_suite(tiny_suite), tmp_path, models=["lstm"], limit=2)
    report = run_sweep(cells, LocalExecutor(workers=1), progress=False, log=lambda m: None, keep_checkpoints=True)
    assert len(report.done) == 2
    for cell in cells:
        ckpt = tmp_path / f"{cell.key}.ckpt.pt"
        assert ckpt.exists(), "a kept checkpoint sits beside its result"
        steps = json.loads(cell.result_path().read_text())["config"]["train"]["steps"]
        assert torch.load(ckpt, weights_only=False)["step"] == steps, "the final model, not an earlier one"


def test_partial_or_foreign_result_file_is_not_a_result(tiny_suite, tmp_path):
    cell = expand(load_suite(tiny_suite), tmp_path, limit=1)[0]
    path = cell.result_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text('{"fingerprint": "' + cell.config.fingerprint() + '", "results": [')  # truncated
    assert not is_complete(cell)
    path.write_text(json.dumps({"fingerprint": "someone-else", "results": [{"length": 1}]}))
    assert not is_complete(cell)
    report = run_sweep([cell], LocalExecutor(workers=1), progress=False, log=lambda m: None)
    assert report.done == [cell.key] and is_complete(cell)


def test_parallel_local_executor(tiny_suite, tmp_path):
    cells = expand(load_suite(tiny_suite), tmp_path, tasks=["parity"], models=["lstm"])
    report = run_sweep(cells, LocalExecutor(workers=2, cores=2), progress=False, log=lambda m: None)
    assert len(report.done) == 2 and all(is_complete(c) for c in cells)


def volatile_free(path):
    """A result without what records how the run went rather than what it
    computed: when, how long, and from which step a resumed run went on."""
    data = json.loads(path.read_text())
    for key in ("created", "wall_time_s"):
        data.pop(key)
    data["training"].pop("resumed_from_step", None)
    return data


# One kill point stays in the fast suite; the other five run with `-m slow`
# (each starts real processes: 13-20 s on 2 cores).
KILL_POINTS = [
    pytest.param(signal.SIGKILL, 1),
    pytest.param(signal.SIGINT, 0, marks=pytest.mark.slow),
    pytest.param(signal.SIGKILL, 0, marks=pytest.mark.slow),
    pytest.param(signal.SIGINT, 1, marks=pytest.mark.slow),
    pytest.param(signal.SIGINT, 3, marks=pytest.mark.slow),
    pytest.param(signal.SIGKILL, 3, marks=pytest.mark.slow),
]


@pytest.mark.parametrize("kill_signal, after_files", KILL_POINTS)  # after_files 0: mid-way through the first cell
def test_killed_sweep_resumes_to_identical_results(tiny_suite, tmp_path, kill_signal, after_files):
    """Kill a real `lengthgen bench` process part-way, resume it, and compare
    with an uninterrupted sweep: the same set of results, byte for byte
    (apart from timestamps and wall times), no partial file counted."""
    common = [
        sys.executable,
        "-m",
        "lengthgen",
        "bench",
        "--suite",
        str(tiny_suite),
        "--models",
        "transformer",
        "--workers",
        "1",
    ]
    killed_root = tmp_path / "killed"
    proc = subprocess.Popen(common + ["--out", str(killed_root)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    sweep = killed_root / "tiny"
    deadline = time.time() + 120
    if after_files == 0:
        while time.time() < deadline and not list(sweep.glob("*.ckpt.pt")) and proc.poll() is None:
            time.sleep(0.02)  # the first cell has written its first checkpoint: it is training
    while time.time() < deadline and len(list(sweep.glob("[!.]*.json"))) < after_files and proc.poll() is None:
        time.sleep(0.05)
    proc.send_signal(kill_signal)
    proc.wait(timeout=60)
    subprocess.run(common + ["--out", str(killed_root)], check=True, capture_output=True)
    clean_root = tmp_path / "clean"
    subprocess.run(common + ["--out", str(clean_root)], check=True, capture_output=True)

    killed = {p.name: volatile_free(p) for p in sweep.glob("*.json")}
    clean = {p.name: volatile_free(p) for p in (clean_root / "tiny").glob("*.json")}
    assert len(clean) == 8 and set(killed) == set(clean)
    for name in clean:
        assert killed[name]["results"] == clean[name]["results"], name
        assert killed[name]["training"] == clean[name]["training"], name
    assert not [p for p in sweep.iterdir() if p.name.endswith(".tmp")]


def test_bench_cli_prints_leaderboard(tiny_suite, tmp_path, capsys):
    from lengthgen.cli.main import main

    board = tmp_path / "board.md"
    code = main(
        [
            "bench",
            "--suite",
            str(tiny_suite),
            "--models",
            "lstm",
            "--tasks",
            "parity",
            "--out",
            str(tmp_path),
            "--workers",
            "1",
            "--leaderboard",
            str(board),
        ]
    )
    out = capsys.readouterr().out
    assert code == 0 and "extrapolation" in out and "fitted" in out and "| parity" in out
    assert board.read_text().startswith("# Leaderboard: suite `tiny`")


def test_bench_cli_keeps_checkpoints_when_asked(tiny_suite, tmp_path, capsys):
    from lengthgen.cli.main import main

    args = ["bench", "--suite", str(tiny_suite), "--models", "lstm", "--limit", "1", "--workers", "1"]
    assert main(args + ["--out", str(tmp_path / "a")]) == 0
    assert main(args + ["--out", str(tmp_path / "b"), "--keep-checkpoints"]) == 0
    assert not list((tmp_path / "a").rglob("*.ckpt.pt"))
    assert len(list((tmp_path / "b").rglob("*.ckpt.pt"))) == 1


def test_vary_multiplies_cells_and_labels_columns(tiny_suite, tmp_path):
    tiny_suite.write_text(tiny_suite.read_text() + "vary: {d_model: [16, 32], train_examples: [50]}\n")
    cells = expand(load_suite(tiny_suite), tmp_path, models=["transformer"], pes=["none"], seeds=[0])
    assert len(cells) == 2 * 2  # 2 benchmarks x 2 widths
    assert {c.config.model_options["d_model"] for c in cells} == {16, 32}
    assert all(c.config.train.train_examples == 50 for c in cells)
    assert "[d_model=16,train_examples=50]" in cells[0].label
    run_sweep(cells[:2], LocalExecutor(workers=1), progress=False, log=lambda m: None)
    from lengthgen.reporting.leaderboard import aggregate
    from lengthgen.reporting.loading import load_results

    models = {e.model for e in aggregate(load_results(tmp_path))}
    assert models == {
        "transformer+none[d_model=16,train_examples=50]",
        "transformer+none[d_model=32,train_examples=50]",
    }


def test_bad_vary(tiny_suite, tmp_path):
    tiny_suite.write_text(tiny_suite.read_text() + "vary: {d_model: 16}\n")
    with pytest.raises(LengthgenError, match="non-empty list"):
        expand(load_suite(tiny_suite), tmp_path)
    tiny_suite.write_text(tiny_suite.read_text().replace("vary: {d_model: 16}", "vary: {d_modle: [16]}"))
    with pytest.raises(LengthgenError, match="d_modle"):
        expand(load_suite(tiny_suite), tmp_path)


@pytest.mark.slow
def test_two_concurrent_sweeps_train_every_cell_once(tiny_suite, tmp_path):
    """Two `bench` processes on one folder: both exit 0, every cell has one
    result, and each cell was trained by exactly one of them (the other
    waited on the cell's lock and reused the result)."""
    out = tmp_path / "runs"
    cmd = [sys.executable, "-m", "lengthgen", "bench", "--suite", str(tiny_suite), "--out", str(out), "--workers", "2"]
    procs = [subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    logs = [p.communicate(timeout=600) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], [e[-500:] for _, e in logs]
    n = len(expand(load_suite(tiny_suite), out / "tiny"))
    results = list((out / "tiny").glob("[!.]*.json"))
    assert len(results) == n
    trained = sum(err.count("] done ") for _, err in logs)
    reused = sum(err.count("] reused ") for _, err in logs)
    skipped = sum(int(m) for _, err in logs for m in re.findall(rf"^(\d+) of {n} cells already complete", err, re.M))
    assert trained == n and trained + reused + skipped == 2 * n
    assert not list((out / "tiny").glob(".*.tmp"))


def test_repeated_vary_values_are_one_cell(tiny_suite):
    tiny_suite.write_text(
        "name: tiny\nbenchmarks: [parity, count]\nmodels: [transformer]\npe: [none, alibi]\nseeds: 2\n"
        "training: {steps: 4, batch_size: 4}\nvary: {d_model: [16, 16]}\n"
    )
    cells = expand(load_suite(tiny_suite), tiny_suite.parent / "out")
    assert len(cells) == len({c.key for c in cells}) == 8


@pytest.mark.parametrize(
    "workers,threads,cells,expected",
    [(None, None, 8, (2, 1)), (1, None, 8, (1, 2)), (2, 3, 8, (2, 3)), (None, None, 1, (1, 2)), (1, 1, 8, (1, 1))],
)
def test_local_executor_plans_workers_and_threads(workers, threads, cells, expected):
    # default: one single-thread cell per core (benchmarks/suite_threads.py: 1.42x sooner than 1 cell x 2 threads)
    assert LocalExecutor(workers=workers, cores=2, threads=threads).plan(cells) == expected


def test_bench_refuses_zero_threads(tmp_path, capsys):
    from lengthgen.cli.main import main

    code = main(["bench", "--suite", "quick", "--threads", "0", "--out", str(tmp_path), "--limit", "1"])
    assert code != 0
    assert "--threads must be >= 1" in capsys.readouterr().err


def _suite_file(tmp_path, extra: str):
    from lengthgen.suites import load_suite

    path = tmp_path / "suites" / "s.yaml"
    path.parent.mkdir(exist_ok=True)
    path.write_text("name: s\nbenchmarks: [count, symbol-template]\nmodels: [transformer]\nseeds: 1\n" + extra)
    return load_suite(path)


def test_suite_test_multiples_replace_test_lengths_where_lengths_vary(tmp_path):
    suite = _suite_file(tmp_path, "test_multiples: [1.5, 2, 3]\n")
    by_bench = {c.benchmark: c.config for c in expand(suite, tmp_path / "out")}
    assert by_bench["count"].test_lengths == [24, 32, 48]  # count trains on 1-16
    assert by_bench["symbol-template"].test_lengths == [5]  # a fixed-length benchmark keeps its own


@pytest.mark.parametrize(
    "extra,message",
    [
        ("predictions: {count: extrapolates, sorts: fails}\n", "'sorts', which is not a benchmark"),
        ("predictions: {count: maybe}\n", "must be one of extrapolates, fails"),
        ("test_multiples: [0.5]\n", "numbers in \\(1, 1000\\]"),
    ],
)
def test_suite_predictions_and_multiples_are_checked(tmp_path, extra, message):
    with pytest.raises(LengthgenError, match=message):
        _suite_file(tmp_path, extra)


def test_cell_summary_scores_the_rows_the_leaderboard_calls_beyond(tmp_path, monkeypatch):
    # fixed length with held-out symbols: every row is inside the training
    # range, and only the test rows (held-out symbols) count
    import lengthgen.experiment
    from lengthgen.experiment import RunConfig
    from lengthgen.sweeps.executors import run_cell

    rows = [
        {"length": 5, "in_train_range": True, "test": False, "exact": 1.0, "token": 1.0},
        {"length": 5, "in_train_range": True, "test": True, "exact": 0.2, "token": 0.2},
    ]
    monkeypatch.setattr(lengthgen.experiment, "run_experiment", lambda cfg, **kw: {"results": rows})
    cfg = RunConfig(task="symbol-template", train_lengths=[5], test_lengths=[5], out=str(tmp_path))
    outcome = run_cell(cfg, threads=1)
    assert outcome.ok, outcome.error
    assert outcome.summary["score"] == 0.2  # not 0.6, the mean with the training-symbol row


def test_set_overrides_every_cell_and_names_them_anew(tmp_path, capsys):
    from lengthgen.cli.main import main

    assert main(["bench", "--suite", "quick", "--out", str(tmp_path), "--dry-run"]) == 0
    plain = capsys.readouterr().out
    assert (
        main(["bench", "--suite", "quick", "--out", str(tmp_path), "--set", "training.steps=7", "--print-config"]) == 0
    )
    out = capsys.readouterr().out
    steps_rows = [line for line in out.splitlines() if line.startswith("| train.steps ")]
    assert steps_rows and all("| 7 " in r and "--set" in r for r in steps_rows)
    assert main(["bench", "--suite", "quick", "--out", str(tmp_path), "--set", "training.steps=7", "--dry-run"]) == 0
    changed = capsys.readouterr().out

    def keys(text):
        return {line.split("|")[2].strip() for line in text.splitlines() if line.startswith("| ") and "/s" in line}

    assert keys(plain) and keys(plain).isdisjoint(keys(changed))  # other cells, other files
    for bad, message in (
        ("steps=5", "unknown key"),
        ("training.stepz=5", "did you mean"),
        ("out=/x", "use --out"),
        ("x", "KEY=VALUE"),
    ):
        assert main(["bench", "--suite", "quick", "--set", bad, "--dry-run"]) == 2
        assert message in capsys.readouterr().err


def test_a_suite_too_large_to_expand_is_refused_before_building_it(tmp_path):
    import time

    from lengthgen.suites import load_suite

    suite_file = tmp_path / "huge.yaml"
    suite_file.write_text(
        "name: huge\nbenchmarks: [count, sort]\nseeds: 10000\nvary: {d_model: [16, 32, 48, 64, 80, 96, 112, 128]}\n"
    )
    start = time.perf_counter()
    with pytest.raises(LengthgenError, match="160,000 cells"):
        expand(load_suite(suite_file), tmp_path)
    assert time.perf_counter() - start < 10  # refused from the counts, not after building 160,000 configurations
    assert len(expand(load_suite(suite_file), tmp_path, seeds=[0, 1])) == 2 * 8 * 2  # filtered, it runs


def test_format_2_packs_where_the_model_can_and_format_1_never(tiny_suite, tmp_path):
    """Suite format 2's default is pack_examples: auto, resolved per cell before
    its identity: the transformer packs, the LSTM (no segments) pads with the
    padded cell's fingerprint; format 1 keeps every existing cell's identity."""
    old = {c.label: c.config.fingerprint() for c in expand(load_suite(tiny_suite), tmp_path)}
    assert all(not c.config.train.pack_examples for c in expand(load_suite(tiny_suite), tmp_path))
    tiny_suite.write_text(tiny_suite.read_text() + "format: 2\n")
    cells = expand(load_suite(tiny_suite), tmp_path)
    packed = {c.key for c in cells if c.config.train.pack_examples is True}
    assert packed == {c.key for c in cells if c.model == "transformer"} and packed
    for cell in cells:
        assert isinstance(cell.config.train.pack_examples, bool)
        same = old[cell.label] == cell.config.fingerprint()
        assert same == (cell.model == "lstm"), cell.label
    lstm = next(c for c in cells if c.model == "lstm")
    assert "auto: padded" in lstm.config.sources["train.pack_examples"]
    layout = {
        line.split("|")[1].strip(): line.split("|")[-2].strip() for line in dry_run_table(cells).splitlines()[2:-2]
    }
    assert {cell.label: layout[cell.label] for cell in cells} == {
        cell.label: "packed" if cell.model == "transformer" else "padded" for cell in cells
    }
    run_sweep(cells[:1], LocalExecutor(workers=1), progress=False, log=lambda m: None)


def test_format_2_leaves_an_explicit_layout_alone(tiny_suite, tmp_path):
    text = tiny_suite.read_text().replace("eval_examples: 4}", "eval_examples: 4, pack_examples: false}")
    tiny_suite.write_text(text + "format: 2\n")
    assert not any(c.config.train.pack_examples for c in expand(load_suite(tiny_suite), tmp_path))
    tiny_suite.write_text(tiny_suite.read_text().replace("format: 2", "format: 3"))
    with pytest.raises(LengthgenError, match="'format' must be one of 1, 2"):
        expand(load_suite(tiny_suite), tmp_path)


def test_bench_sets_every_cells_precision_and_refuses_it_as_a_setting(tiny_suite, tmp_path, capsys):
    from lengthgen.cli.main import main

    argv = ["bench", "--suite", str(tiny_suite), "--models", "lstm", "--tasks", "parity", "--out", str(tmp_path)]
    assert main([*argv, "--workers", "1", "--seeds", "0", "--precision", "bf16"]) == 0, capsys.readouterr().err
    results = [json.loads(p.read_text()) for p in (tmp_path / "tiny").glob("*.json")]
    assert results and all(r["environment"]["precision"] == "bf16-autocast" for r in results)
    capsys.readouterr()
    assert main([*argv, "--set", "precision=float32", "--dry-run"]) == 2
    assert "use --precision" in capsys.readouterr().err
