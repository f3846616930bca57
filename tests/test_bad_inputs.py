"""Every surface a user types into or a file is read from, fed bad input.

Each case must give a short message on stderr naming the problem, exit
code 2 and no traceback (RASP errors add a caret excerpt under the one-line
message).  Result files are different: a bad one is skipped with a warning
naming the file, and the leaderboard still prints.
"""

import json

import pytest

from lengthgen.cli.main import main

T = ["--train-lengths", "1-3", "--test-lengths", "5"]
TINY = ["--steps", "2", "--model-opt", "d_model=16", "--model-opt", "n_heads=2", "--eval-examples", "2"]

CLI_CASES = {
    "unknown command": (["frobnicate"], "invalid choice"),
    "unknown task": (["tasks", "show", "paritty"], "did you mean: parity"),
    "unknown task param": (["tasks", "sample", "count", "--length", "3", "--param", "max_vale=3"], "max_value"),
    "param not k=v": (["tasks", "sample", "count", "--length", "3", "--param", "x"], "KEY=VALUE"),
    "param wrong type": (["tasks", "sample", "count", "--length", "3", "--param", "max_value=abc"], "integer"),
    "param bad choice": (["tasks", "sample", "count", "--length", "3", "--param", "direction=left"], "must be one of"),
    "length zero": (["tasks", "sample", "parity", "--length", "0"], "length must be"),
    "length too long": (["tasks", "sample", "copy-unique", "--length", "999"], "length must be"),
    "length not int": (["tasks", "sample", "parity", "--length", "ten"], "invalid int"),
    "negative n": (["tasks", "sample", "parity", "--length", "3", "--n", "-2"], "--n must be"),
    "negative seed": (["tasks", "sample", "parity", "--length", "3", "--seed", "-1"], "--seed must be"),
    "reversed range": (["run", "--task", "parity", "--train-lengths", "20-1", "--test-lengths", "30"], "empty range"),
    "garbled range": (["run", "--task", "parity", "--train-lengths", "1--3", "--test-lengths", "30"], "bad length"),
    "zero length range": (["run", "--task", "parity", "--train-lengths", "0-3", "--test-lengths", "30"], ">= 1"),
    "no test lengths": (["run", "--task", "parity", "--train-lengths", "1-3"], "test lengths"),
    "unknown model": (["run", "--task", "parity", "--model", "gpt2", *T], "unknown model"),
    "unknown encoding": (["run", "--task", "parity", "--pe", "rotary", *T], "positional encoding"),
    "unknown model option": (["run", "--task", "parity", "--model-opt", "layers=2", *T], "no option 'layers'"),
    "bad model option value": (["run", "--task", "parity", "--model-opt", "d_model=-8", *T], "must be >= 1"),
    "heads do not divide": (["run", "--task", "parity", "--model-opt", "d_model=10", *T], "divisible"),
    "abacus without segments": (["run", "--task", "addition", "--pe", "abacus", *T], "needs segment_tokens"),
    "abacus offset past the table": (
        ["run", "--task", "addition", "--pe", "abacus", "--model-opt", "segment_tokens=+,<sep>"]
        + ["--model-opt", "abacus_offset=600", *T],
        "abacus table is read up to place",
    ),
    "one segment token reaches the later check": (
        ["run", "--task", "addition", "--pe", "abacus", "--model-opt", "segment_tokens=+"]
        + ["--model-opt", "abacus_offset=600", *T],
        "abacus table is read up to place",
    ),
    "negative steps": (["run", "--task", "parity", "--steps", "-1", *T], "'steps' must be >= 1"),
    "zero batch": (["run", "--task", "parity", "--batch-size", "0", *T], "'batch_size' must be >= 1"),
    "bad lr": (["run", "--task", "parity", "--lr", "-0.1", *T], "'lr' must be"),
    "bad device": (["run", "--task", "parity", "--device", "tpu", *T], "device"),
    "cuda missing": (["run", "--task", "parity", "--device", "cuda", *T], "CUDA is not available"),
    "escaping name": (["run", "--task", "parity", "--name", "../../etc/x", *T], "run name"),
    "hidden name": (["run", "--task", "parity", "--name", ".hidden", *T], "run name"),
    "huge eval length": (
        ["run", "--task", "copy-repeat", "--train-lengths", "1-3", "--test-lengths", "30000", *TINY],
        "GiB",
    ),
    "unknown suite file": (["bench", "--suite", "nope.yaml"], "file not found"),
    "bad leaderboard format": (["leaderboard", "results", "--format", "html"], "invalid choice"),
    "missing results folder": (["leaderboard", "/nonexistent/folder"], "no such folder"),
    "bad executor": (["bench", "--suite", "tasks/suites/quick.yaml", "--executor", "mpi"], "invalid choice"),
    "bench filter matches nothing": (
        ["bench", "--suite", "tasks/suites/quick.yaml", "--tasks", "zzz", "--dry-run"],
        "matches nothing",
    ),
    "bench zero limit": (["bench", "--suite", "tasks/suites/quick.yaml", "--limit", "0", "--dry-run"], "--limit"),
    "bench bad seeds": (["bench", "--suite", "tasks/suites/quick.yaml", "--seeds", "x", "--dry-run"], "--seeds"),
    "bench zero workers": (
        ["bench", "--suite", "tasks/suites/quick.yaml", "--workers", "0", "--limit", "1"],
        "--workers",
    ),
    "conjecture unknown model": (["conjecture", "results/runs/quick", "--model", "gpt"], "no results for model"),
    "rasp missing file": (["rasp", "run", "nope.rasp", "--input", "1"], "no such program file"),
    "rasp unknown token": (["rasp", "run", "rasp/sort.rasp", "--input", "1 banana"], "unknown token"),
    "rasp empty input": (["rasp", "run", "rasp/sort.rasp", "--input", " "], "--input is empty"),
    "rasp check no header": (["rasp", "check", "rasp/length.rasp"], "no '# task:' header"),
    "rasp check bad lengths": (["rasp", "check", "rasp/sort.rasp", "--lengths", "9-2"], "empty range"),
    "rasp score bad max": (["rasp", "score", "--max-length", "0"], "must be >= 1"),
}


@pytest.mark.parametrize("name", CLI_CASES)
def test_cli_bad_input(name, capsys):
    argv, fragment = CLI_CASES[name]
    code = main(argv)
    _, err = capsys.readouterr()
    assert code == 2, err
    assert fragment in err, err
    assert err.count("\n") == 1 and err.startswith("lengthgen: error: ") and "Traceback" not in err


YAML_CASES = {
    "syntax error": ("task: [parity", ":2:1", "invalid YAML"),
    "top level list": ("- task: parity", "", "expected a mapping"),
    "unknown key": ("task: parity\nstepz: 3", "", "unknown key 'stepz'"),
    "unknown training key": ("task: parity\ntraining: {stepz: 3}", "", "did you mean: steps"),
    "wrong type seed": ("task: parity\nseed: three", "", "'seed' expects int"),
    "wrong type training": ("task: parity\ntraining: {steps: many}", "", "'steps' expects int"),
    "wrong type params": ("task: parity\nparams: [1, 2]", "", "'params' expects dict"),
    "bool as int": ("task: parity\nseed: true", "", "'seed' expects int"),
    "wrong type data_seed": (
        "task: parity\ntraining: {data_seed: 1.5}",
        "",
        "'data_seed' expects int or null, got float",
    ),
    "python object tag": ("task: !!python/object/apply:os.system [echo]", "", "invalid YAML"),
    "missing benchmark file": ("benchmark: nonexistent-benchmark-file", "", "unknown benchmark"),
}


@pytest.mark.parametrize("name", YAML_CASES)
def test_yaml_bad_input(name, tmp_path, capsys):
    text, where, fragment = YAML_CASES[name]
    path = tmp_path / "run.yaml"
    path.write_text(text + "\n")
    code = main(["run", "--config", str(path), *T])
    _, err = capsys.readouterr()
    assert code == 2 and fragment in err and err.count("\n") == 1, err
    assert "Traceback" not in err
    if "nonexistent" not in text:
        assert str(path) + where in err


RASP_CASES = {
    "syntax": ("output = tokens +;", "expected an expression"),
    "unknown name": ("output = tokenz;", "did you mean: tokens"),
    "selector as sequence": ("output = select(tokens, tokens, ==) + 1;", "cannot combine a selector"),
    "sequence as selector": ("output = aggregate(tokens, tokens);", "must be a selector"),
    "index arithmetic": ("output = indices * 2;", "RASP-L"),
    "map over indices": ("output = map(indices, lambda x: x % 3);", "RASP-L"),
    "dunder in lambda": ("output = map(tokens, lambda x: x.__class__);", "not allowed"),
    "import in lambda": ('output = map(tokens, lambda x: __import__("os"));', "only min, max, abs"),
    "power": ("output = map(tokens, lambda x: 9 ** 99);", "power"),
    "no output": ("x = tokens;", "declares no output"),
}


@pytest.mark.parametrize("name", RASP_CASES)
def test_rasp_bad_input(name, tmp_path, capsys):
    source, fragment = RASP_CASES[name]
    path = tmp_path / "prog.rasp"
    path.write_text(source + "\n")
    code = main(["rasp", "run", str(path), "--input", "1 2 3"])
    _, err = capsys.readouterr()
    first = err.splitlines()[0]
    assert code == 2 and fragment in first and first.startswith(f"lengthgen: error: {path}:"), err
    assert "Traceback" not in err


RESULT_CASES = {
    "truncated.json": '{"config": {"task": "count", "model": "m"}, "results": [',
    "empty.json": "",
    "array.json": "[]",
    "no-config.json": json.dumps({"results": [], "seed": 0}),
    "string-length.json": None,  # filled below
    "nan-accuracy.json": None,
    "latin1.json": b"\xe9\xe9",
}


def test_bad_result_files_are_skipped_with_warnings(tmp_path, capsys):
    good = {
        "schema": 1,
        "seed": 0,
        "created": "x",
        "task": {},
        "model": {},
        "config": {"task": "count", "model": "transformer", "train_lengths": "1-4", "model_options": {}},
        "results": [
            {"length": 4, "in_train_range": True, "exact": 1.0, "token": 1.0},
            {"length": 8, "in_train_range": False, "test": True, "exact": 0.5, "token": 0.7},
        ],
    }
    (tmp_path / "good.json").write_text(json.dumps(good))
    bad = dict(RESULT_CASES)
    bad["string-length.json"] = json.dumps({**good, "results": [{**good["results"][0], "length": "4"}]})
    bad["nan-accuracy.json"] = json.dumps({**good, "results": [{**good["results"][0], "exact": float("nan")}]})
    for name, text in bad.items():
        (tmp_path / name).write_bytes(text if isinstance(text, bytes) else text.encode())
    code = main(["leaderboard", str(tmp_path)])
    out, err = capsys.readouterr()
    assert code == 0 and "count" in out
    warnings = [line for line in err.splitlines() if "warning: skipping" in line]
    assert len(warnings) == len(bad)
    for name in bad:
        assert any(name in w for w in warnings)


def test_count_of_bad_inputs_tried():
    # the reliability issue asks for at least 40 distinct bad inputs across surfaces
    assert len(CLI_CASES) + len(YAML_CASES) + len(RASP_CASES) + len(RESULT_CASES) >= 40


def test_debug_flag_shows_traceback(capsys):
    assert main(["--debug", "tasks", "show", "paritty"]) == 2
    assert "Traceback" in capsys.readouterr().err


def test_an_abacus_setup_with_places_inside_the_table_runs(tmp_path, capsys):
    """Sequences longer than the table are fine for abacus: only places are read
    (before, the sequence length was checked and such set-ups were refused)."""
    argv = ["run", "--task", "addition", "--param", "reversed=true", "--pe", "abacus", "--train-lengths", "1-4"]
    argv += ["--test-lengths", "8", "--model-opt", "segment_tokens=+,<sep>", "--model-opt", "max_positions=14"]
    argv += ["--model-opt", "abacus_offset=4", "--model-opt", "abacus_offset_draw=batch", "--model-opt", "d_model=16"]
    argv += ["--model-opt", "n_layers=1", "--model-opt", "n_heads=2", "--steps", "2", "--batch-size", "4"]
    argv += ["--eval-every", "2", "--eval-examples", "4", "--warmup", "1", "--out", str(tmp_path), "--name", "a"]
    assert main(argv) == 0
    argv[argv.index("max_positions=14")] = "max_positions=8"  # test sums reach place 9 (training: 5 + offset 4)
    argv[-1] = "b"
    assert main(argv) == 2
    assert "abacus table is read up to place" in capsys.readouterr().err


@pytest.mark.parametrize(
    "options",
    [
        ["d_model=16384", "n_layers=256"],  # each option within its own cap, the product not
        ["d_model=4096", "max_positions=1048576", "pe=learned"],
    ],
)
def test_a_model_too_large_in_product_is_refused_before_allocation(options, capsys):
    argv = ["run", "--task", "count", "--train-lengths", "1-3", "--test-lengths", "5", "--steps", "1"]
    for opt in options:
        argv += ["--model-opt", opt]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "parameters" in err and "above the cap" in err and "Traceback" not in err


def test_rasp_check_refuses_lengths_it_cannot_hold_up_front(capsys, tmp_path):
    import time

    start = time.perf_counter()
    assert main(["rasp", "check", "rasp/mode.rasp", "--lengths", "1-100000", "--n", "2"]) == 2
    assert "use shorter --lengths" in capsys.readouterr().err
    assert time.perf_counter() - start < 60  # refused before running the short lengths
