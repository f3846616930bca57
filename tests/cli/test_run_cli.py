import json

import pytest

from lengthgen.cli.main import main

TINY = [
    "--model-opt",
    "d_model=16",
    "--model-opt",
    "n_heads=2",
    "--model-opt",
    "n_layers=1",
    "--steps",
    "6",
    "--batch-size",
    "8",
    "--eval-every",
    "3",
    "--eval-examples",
    "10",
    "--warmup",
    "1",
]


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_run_writes_complete_result(capsys, tmp_path):
    code, out, err = run(
        capsys,
        "run",
        "--task",
        "parity",
        "--model",
        "transformer",
        "--pe",
        "alibi",
        "--train-lengths",
        "1-4",
        "--test-lengths",
        "6,8",
        "--seed",
        "1",
        "--out",
        str(tmp_path),
        *TINY,
    )
    assert code == 0, err
    files = list(tmp_path.glob("*.json"))
    assert len(files) == 1
    result = json.loads(files[0].read_text())
    for key in ("config", "seed", "task", "model", "environment", "wall_time_s", "training", "results", "fingerprint"):
        assert key in result
    assert result["task"]["version"] == 1 and result["model"]["options"]["pe"] == "alibi"
    assert (
        result["environment"]["torch"] and result["environment"]["numpy"] and result["environment"]["device"] == "cpu"
    )
    # what decides float rounding, so that a result from another host is told apart
    env = result["environment"]
    assert isinstance(env["cpu"], str) and env["cpu"] and isinstance(env["cpu_kernels"], str) and env["cpu_kernels"]
    # every training length of a short range is evaluated, then the test lengths
    assert [r["length"] for r in result["results"]] == [1, 2, 3, 4, 6, 8]
    assert [r["in_train_range"] for r in result["results"]] == [True] * 4 + [False] * 2
    assert all(0 <= r["exact_ci"][0] <= r["exact"] <= r["exact_ci"][1] <= 1 for r in result["results"])
    assert result["training"]["steps"] == 6 and len(result["training"]["curve"]) == 2
    assert "exact % [95% CI]" in out
    fit = result["fit"]
    assert fit["longest"]["length"] == 4 and fit["range_mean"]["lengths"] == [1, 2, 3, 4]
    assert fit["fitted"] == (result["results"][3]["exact"] >= fit["threshold"])
    assert result["thresholds"]["fit"] == fit["threshold"]
    # parity: chance is 50% at every length and each row names its best baseline
    for row in result["results"]:
        assert row["baseline"]["chance"]["exact"] == 0.5
        assert row["baseline"]["best"]["name"] in row["baseline"]["all"]
    assert result["compute"]["train_tokens"] > 0 and result["compute"]["train_flops"] > 0
    assert ("NOT fitted" in out) != fit["fitted"]


def test_config_file_and_flag_override(capsys, tmp_path):
    cfg = tmp_path / "run.yaml"
    cfg.write_text(
        "benchmark: tasks/count.yaml\nmodel: ut\nmodel_options: {d_model: 16, n_heads: 2, max_steps: 2}\n"
        "training: {steps: 4, batch_size: 4, eval_every: 2, warmup: 1}\neval_examples: 5\nseed: 2\n"
    )
    code, out, err = run(
        capsys, "run", "--config", str(cfg), "--test-lengths", "18", "--out", str(tmp_path), "--name", "ut-count"
    )
    assert code == 0, err
    result = json.loads((tmp_path / "ut-count.json").read_text())
    assert result["config"]["model"] == "ut" and result["config"]["benchmark"] == "count"
    assert result["config"]["test_lengths"] == "18" and result["seed"] == 2
    assert result["results"][-1]["mean_steps"] is not None and "mean steps" in out


MODEL_OPTS = {
    "transformer": ["--pe", "randomized", "--model-opt", "max_positions=64"],
    "transformer-modattn": ["--pe", "fire"],
    "ut": ["--model-opt", "max_steps=2"],
    "hyper-ut": ["--model-opt", "max_steps=2", "--model-opt", "banks=2"],
    "lstm": [],
}


@pytest.mark.parametrize("model", sorted(MODEL_OPTS))
def test_same_command_same_result(capsys, tmp_path, model):
    """Determinism: two runs of one command write identical results (timestamps and wall times aside)."""
    size = ["--model-opt", "d_model=16"] + ([] if model == "lstm" else ["--model-opt", "n_heads=2"])
    if model.startswith("transformer"):
        size += ["--model-opt", "n_layers=1"]
    args = [
        "run",
        "--task",
        "sort",
        "--param",
        "alphabet=10",
        "--train-lengths",
        "1-3",
        "--test-lengths",
        "5",
        "--no-resume",
        "--model",
        model,
        *size,
        *MODEL_OPTS[model],
        *TINY[6:],
    ]
    assert run(capsys, *args, "--out", str(tmp_path / "a"))[0] == 0
    assert run(capsys, *args, "--out", str(tmp_path / "b"))[0] == 0
    a = json.loads(next((tmp_path / "a").glob("*.json")).read_text())
    b = json.loads(next((tmp_path / "b").glob("*.json")).read_text())
    for volatile in ("created", "wall_time_s"):
        a.pop(volatile), b.pop(volatile)
    assert a == b


@pytest.mark.parametrize(
    "argv,message",
    [
        (["--task", "parity", "--train-lengths", "20-1", "--test-lengths", "30"], "empty range"),
        (["--task", "parity", "--train-lengths", "1-3"], "test lengths"),
        (["--task", "parrity", "--train-lengths", "1-3", "--test-lengths", "5"], "did you mean: parity"),
        (["--task", "parity", "--model", "gpt", "--train-lengths", "1-3", "--test-lengths", "5"], "unknown model"),
        (
            ["--task", "parity", "--pe", "rotary", "--train-lengths", "1-3", "--test-lengths", "5"],
            "positional encoding",
        ),
        (["--task", "parity", "--steps", "-5", "--train-lengths", "1-3", "--test-lengths", "5"], "steps"),
        (["--task", "parity", "--lr", "0", "--train-lengths", "1-3", "--test-lengths", "5"], "lr"),
        (["--task", "parity", "--device", "tpu", "--train-lengths", "1-3", "--test-lengths", "5"], "device"),
        (["--task", "parity", "--name", "../escape", "--train-lengths", "1-3", "--test-lengths", "5"], "run name"),
        (["--task", "count", "--train-lengths", "1-3", "--test-lengths", "500"], "length must be"),
        (["--task", "parity", "--model-opt", "d_model", "--train-lengths", "1-3", "--test-lengths", "5"], "KEY=VALUE"),
        (["--config", "/nonexistent.yaml"], "file not found"),
        (["--task", "parity"], "lengths"),
        ([], "no task"),
    ],
)
def test_run_bad_input_one_line_exit_2(capsys, argv, message):
    code, _, err = run(capsys, "run", *argv)
    assert code == 2 and message in err and err.count("\n") == 1, err


def test_bad_config_keys(capsys, tmp_path):
    cfg = tmp_path / "bad.yaml"
    cfg.write_text("task: parity\ntraining: {stepz: 3}\n")
    code, _, err = run(capsys, "run", "--config", str(cfg))
    assert code == 2 and "stepz" in err and "did you mean: steps" in err
    cfg.write_text("task: parity\nseed: abc\n")
    code, _, err = run(capsys, "run", "--config", str(cfg))
    assert code == 2 and "'seed' expects int" in err


def test_models_list(capsys):
    code, out, _ = run(capsys, "models", "list")
    assert code == 0 and all(m in out for m in ("transformer", "transformer-modattn", "ut", "hyper-ut", "lstm"))


def test_heldout_benchmark_measures_fit_on_training_symbols(capsys, tmp_path):
    """same-different tests on held-out symbols at lengths inside the training
    range; fit must come from training symbols, not from the held-out rows."""
    code, out, err = run(
        capsys, "run", "--benchmark", "tasks/same-different.yaml", "--test-lengths", "4,8", "--out", str(tmp_path),
        *TINY,
    )  # fmt: skip
    assert code == 0, err
    result = json.loads(next(tmp_path.glob("*.json")).read_text())
    rows = [(r["length"], r["test"], r["heldout"]) for r in result["results"]]
    # training rows (fit lengths 2..6 subsampled) on training symbols, test rows on held-out symbols
    assert (4, True, True) in rows and (4, False, False) in rows and (8, True, True) in rows
    assert all(not h for n, t, h in rows if not t) and all(h for n, t, h in rows if t)
    fit_lengths = result["fit"]["range_mean"]["lengths"]
    assert fit_lengths == sorted(n for n, t, h in rows if not t)


def test_symbolic_answer_tasks_default_to_a_tied_readout():
    from lengthgen.experiment import RunConfig, validate

    cfg = RunConfig(task="variable-copy", train_lengths=[5], test_lengths=[5], model="transformer")
    validate(cfg)
    assert cfg.model_options["tie_embeddings"] is True
    explicit = RunConfig(
        task="variable-copy", train_lengths=[5], test_lengths=[5], model_options={"tie_embeddings": False}
    )
    validate(explicit)
    assert explicit.model_options["tie_embeddings"] is False
    other = RunConfig(task="sort", train_lengths=[5], test_lengths=[6])
    validate(other)
    assert other.model_options["tie_embeddings"] is False


@pytest.mark.parametrize("value", ["+,<sep>", "[+, <sep>]", "['+', '<sep>']"])
def test_abacus_run_names_its_segment_tokens_on_the_command_line(capsys, tmp_path, value):
    code, out, err = run(
        capsys,
        "run",
        "--task",
        "addition",
        "--param",
        "reversed=true",
        "--pe",
        "abacus",
        "--model-opt",
        f"segment_tokens={value}",
        "--train-lengths",
        "1-3",
        "--test-lengths",
        "4",
        "--out",
        str(tmp_path),
        *TINY,
    )
    assert code == 0, err
    result = json.loads(next(tmp_path.glob("*.json")).read_text())
    # names, not ids, are the run's identity: a task that renumbers its vocabulary keeps it
    assert result["config"]["model_options"]["segment_tokens"] == ["+", "<sep>"]


def test_a_finished_run_is_reused_and_leaves_no_checkpoint(tmp_path, capsys):
    argv = ["run", "--task", "count", "--train-lengths", "1-3", "--test-lengths", "4", *TINY]
    argv += ["--out", str(tmp_path), "--name", "r"]
    assert main(argv) == 0
    assert (tmp_path / "r.json").exists() and not (tmp_path / "r.ckpt.pt").exists()
    assert not list(tmp_path.glob(".*"))  # no empty lock file, no temporary
    first = json.loads((tmp_path / "r.json").read_text())["created"]
    capsys.readouterr()
    assert main(argv) == 0  # the same run again: its finished result, not a second training
    assert "reused the finished result" in capsys.readouterr().err
    assert json.loads((tmp_path / "r.json").read_text())["created"] == first
    assert main([*argv, "--keep-checkpoint", "--no-resume"]) == 0
    assert (tmp_path / "r.ckpt.pt").exists()


def test_log_csv_writes_the_curve_as_it_happens(tmp_path, capsys):
    import csv

    argv = ["run", "--task", "count", "--train-lengths", "1-3", "--test-lengths", "4", *TINY]
    argv += ["--out", str(tmp_path), "--name", "c", "--log", "csv"]
    assert main(argv) == 0
    rows = list(csv.DictReader((tmp_path / "c.curve.csv").read_text().splitlines()))
    result = json.loads((tmp_path / "c.json").read_text())
    assert [int(r["step"]) for r in rows] == [p["step"] for p in result["training"]["curve"]]
    assert float(rows[-1]["loss"]) == pytest.approx(result["training"]["curve"][-1]["loss"])
    assert "track" not in result["config"]  # how a run is watched is not what it is
    assert main(["run", "--task", "count", "--train-lengths", "1-3", "--test-lengths", "4", "--log", "nope"]) == 2


def test_dry_run_says_what_a_run_would_do_and_writes_nothing(tmp_path, capsys):
    out = tmp_path / "new" / "folder"
    argv = ["run", "--task", "count", "--train-lengths", "1-3", "--test-lengths", "4", *TINY]
    argv += ["--out", str(out), "--name", "r"]
    assert main([*argv, "--dry-run"]) == 0
    text = capsys.readouterr().out
    assert "parameters" in text and "GFLOPs" in text and "train from step 0" in text
    assert not (tmp_path / "new").exists()  # nothing created
    assert main(argv) == 0
    capsys.readouterr()
    assert main([*argv, "--dry-run"]) == 0
    assert "reuse the finished result" in capsys.readouterr().out
    (out / "r.json").write_text('{"name": "not ours"}')
    assert main([*argv, "--dry-run"]) == 2  # the same checks as a real run, before any work
    assert "not a lengthgen result file" in capsys.readouterr().err


def test_evaluation_shows_progress_when_asked(tmp_path, capsys):
    from lengthgen.experiment import run_experiment
    from lengthgen.runconfig import RunConfig, apply_settings

    cfg = apply_settings(
        RunConfig(),
        {
            "task": "count", "train_lengths": "1-3", "test_lengths": "4,5", "eval_examples": 40, "out": str(tmp_path),
            "training": {"steps": 2, "batch_size": 4, "eval_every": 2},
        },
        "test",
    )  # fmt: skip
    run_experiment(cfg, progress=True, log=lambda m: None)
    err = capsys.readouterr().err
    # one bar over every evaluated length (the fit lengths and 4, 5) at 40 examples each, naming the length
    assert "eval:" in err and "/200" in err and "length=" in err


@pytest.mark.parametrize(
    "model", sorted(__import__("lengthgen.models", fromlist=["trainable_models"]).trainable_models())
)
def test_every_model_passes_the_run_checks_at_its_defaults(model, capsys, tmp_path):
    """The command line resolves every default option of every model (an
    option whose default the generic checks refuse would fail here)."""
    argv = ["run", "--task", "count", "--model", model, "--train-lengths", "1-3", "--test-lengths", "4"]
    assert main([*argv, "--out", str(tmp_path), "--dry-run"]) == 0, capsys.readouterr().err
