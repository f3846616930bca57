"""The study analyses that became commands: time-to-fit, depth, curve.

Each is checked against numbers computed here from the result files, so a
command that drops or double-counts runs fails."""

import json
from pathlib import Path

import pytest

from lengthgen.cli.main import main

ROOT = Path(__file__).resolve().parents[2]
RECIPES = ROOT / "results/studies/recipes/runs"
SYMBOLS = ROOT / "results/studies/symbols/runs/symbols-v2-qk"


def run(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def table_rows(text: str, first_cell: str) -> list[list[str]]:
    rows = [[c.strip() for c in line.strip("|").split("|")] for line in text.splitlines() if line.startswith("|")]
    return [r for r in rows if r[0] == first_cell]


@pytest.mark.skipif(not RECIPES.is_dir(), reason="needs the checkout's committed results")
def test_time_to_fit_lists_every_run_once_across_folders(capsys, tmp_path):
    folders = [RECIPES / "recipes-3", RECIPES / "recipes-seeds-2"]
    files = [json.loads(p.read_text()) for f in folders for p in f.glob("*.json")]
    bench = files[0]["config"]["benchmark"]
    runs = {
        (r["config"].get("model_options", {}).get("pe"), r["seed"]) for r in files if r["config"]["benchmark"] == bench
    }
    code, out, _ = run(capsys, "time-to-fit", *folders)
    assert code == 0
    assert len(table_rows(out.split("\n\n", 3)[-1], bench)) == len(runs)
    # the same folder twice adds nothing: a run counts once
    _, twice, _ = run(capsys, "time-to-fit", *folders, folders[0])
    assert twice == out
    code, _, _ = run(capsys, "time-to-fit", *folders, "--output", tmp_path / "t.md")
    assert code == 0 and (tmp_path / "t.md").read_text() == out


def act_run(folder: Path, seed: int, slope: float) -> None:
    rows = [
        {"length": n, "mean_steps": 2.0 + slope * n, "exact": 1.0, "token": 1.0, "in_train_range": n <= 3}
        for n in (1, 3, 6)
    ]
    result = {
        "schema": 2,
        "seed": seed,
        "config": {"task": "c-pvr", "benchmark": "c-pvr", "model": "ut", "model_options": {"pe": "rope"}},
        "task": {"name": "c-pvr", "version": 2},
        "model": {"name": "ut"},
        "results": rows,
        "fit": {"fitted": True},
    }
    (folder / f"ut-{seed}.json").write_text(json.dumps(result))


ARM_RESULT = {
    "schema": 2,
    "seed": 0,
    "config": {"task": "c-pvr", "benchmark": "c-pvr", "model": "ut", "model_options": {"pe": "rope"}},
    "task": {"name": "c-pvr", "version": 2},
    "model": {"name": "ut"},
    "results": [{"length": n, "exact": 1.0, "token": 1.0, "in_train_range": n <= 3} for n in (1, 3, 6)],
    "fit": {"fitted": True},
}


def test_depth_reports_the_slope_and_refuses_nonsense(capsys, tmp_path):
    for seed in range(3):
        act_run(tmp_path, seed, 0.5 + 0.01 * seed)
    code, out, _ = run(capsys, "depth", tmp_path, "--bootstrap", "200")
    row = table_rows(out, "ut+rope")[0]
    assert code == 0 and "3/3" in row and row[-1] == "more steps for longer inputs"
    assert "+0.51" in " ".join(row) or "0.51" in " ".join(row)  # the mean of 0.50, 0.51, 0.52
    code, _, err = run(capsys, "depth", tmp_path, "--bootstrap", "0")
    assert code == 2 and "--bootstrap" in err
    code, _, err = run(capsys, "depth", tmp_path / "missing")
    assert code == 2 and "missing" in err


def test_depth_keeps_two_arms_of_one_configuration_apart(capsys, tmp_path):
    # two arms the model column cannot tell apart (a Hyper-UT with and without
    # input conditioning): the same seeds in two folders are two arms, not reruns
    for name, slope in (("conditioned", 0.5), ("banks", -0.5)):
        (tmp_path / name).mkdir()
        for seed in range(3):
            act_run(tmp_path / name, seed, slope + 0.01 * seed)
    code, out, _ = run(capsys, "depth", tmp_path / "conditioned", tmp_path / "banks", "--bootstrap", "200")
    assert code == 0
    slopes, lengths = out.split("\n\n", 1)
    conditioned, banks = table_rows(slopes, "ut+rope (conditioned)"), table_rows(slopes, "ut+rope (banks)")
    assert len(conditioned) == len(banks) == 1
    assert "3/3" in conditioned[0] and conditioned[0][-1] == "more steps for longer inputs"
    assert "3/3" in banks[0] and banks[0][-1] == "fewer steps for longer inputs"
    steps = {row[1]: row[7] for row in table_rows(lengths, "c-pvr") if row[3] == "6"}
    assert steps["ut+rope (conditioned)"].startswith("5.06") and steps["ut+rope (banks)"].startswith("-0.94")


def test_time_to_fit_keeps_two_arms_apart_and_counts_a_copied_cell_once(capsys, tmp_path):
    # the same seed and recipe label in two folders: one cell copied (one row)
    # or two different cells, two arms (a row each, named by folder)
    for name, fingerprint in (("a", "cell-a"), ("copy", "cell-a"), ("b", "cell-b")):
        (tmp_path / name).mkdir()
        result = json.loads(json.dumps(ARM_RESULT))
        result["fingerprint"] = fingerprint
        (tmp_path / name / "r.json").write_text(json.dumps(result))
    code, out, _ = run(capsys, "time-to-fit", tmp_path / "a", tmp_path / "copy")
    assert code == 0 and len(table_rows(out.split("\n\n", 3)[-1], "c-pvr")) == 1
    code, out, _ = run(capsys, "time-to-fit", tmp_path / "a", tmp_path / "b")
    rows = table_rows(out.split("\n\n", 3)[-1], "c-pvr")
    assert code == 0 and len(rows) == 2
    assert "(a)" in rows[0][1] and "(b)" in rows[1][1]


@pytest.mark.skipif(not SYMBOLS.is_dir(), reason="needs the checkout's committed results")
def test_curve_keeps_two_arms_of_one_configuration_apart(capsys, tmp_path):
    for name in ("first", "second"):
        (tmp_path / name).mkdir()
        for p in SYMBOLS.glob("*.json"):
            result = json.loads(p.read_text())
            result["fingerprint"] = f"{name}-{result.get('fingerprint')}"
            (tmp_path / name / p.name).write_text(json.dumps(result))
    _, one, _ = run(capsys, "curve", SYMBOLS, "--axis", "train_examples")
    code, two, _ = run(capsys, "curve", tmp_path / "first", tmp_path / "second", "--axis", "train_examples")
    bench = json.loads(next(SYMBOLS.glob("*.json")).read_text())["config"]["benchmark"]
    rows = table_rows(one, bench)  # one per axis value, then one trend
    assert code == 0 and len(rows) >= 2
    for name in ("first", "second"):
        arm = [r for r in table_rows(two, bench) if r[1].endswith(f"({name})")]
        assert len(arm) == len(rows)
        assert [r[2:] for r in arm] == [r[2:] for r in rows]  # each arm alone is the one folder's curve


@pytest.mark.skipif(not SYMBOLS.is_dir(), reason="needs the checkout's committed results")
def test_curve_has_one_row_per_model_and_axis_value(capsys, tmp_path):
    files = [json.loads(p.read_text()) for p in SYMBOLS.glob("*.json")]
    values = {r["config"]["train"]["train_examples"] for r in files}
    code, out, _ = run(capsys, "curve", SYMBOLS, "--axis", "train_examples")
    assert code == 0
    for value in values:
        assert f"| {value} " in out.replace(",", ""), value
    act_run(tmp_path, 0, 0.5)  # no held-out symbols in it
    code, _, err = run(capsys, "curve", tmp_path)
    assert code == 2 and "held-out" in err


@pytest.mark.parametrize(
    "command",
    [
        ["leaderboard"],
        ["conjecture", "--permutations", "10", "--bootstrap", "10"],
        ["time-to-fit"],
        ["bins", "--bins", "1-3", "4-9"],
    ],
)
def test_every_table_command_writes_to_out(tmp_path, capsys, command):
    """One flag for where the output goes: --out (a file here; --output still works)."""
    folder = ROOT / "results" / "studies" / "conjecture-v3" / "runs" / "conjecture-v3-learned-short"
    for flag in ("--out", "--output"):
        target = tmp_path / f"table{flag}.txt"
        assert main([command[0], str(folder), *command[1:], flag, str(target)]) == 0, capsys.readouterr().err
        assert target.read_text().strip()
    assert (tmp_path / "table--out.txt").read_text() == (tmp_path / "table--output.txt").read_text()
