"""H-R14's rule (results/studies/replication-huang/plateau_exit.py): written before its cells."""

import json

import pytest

from tests.studies.scripts import ROOT, study_script

load_script, pytestmark = study_script("results/studies/replication-huang/plateau_exit.py")
RUNS = ROOT / "results/studies/replication-huang/runs"


def result(seed, losses, exact_by_length, longest=25, fitted=True):
    curve = [{"step": 500 * (i + 1), "loss": loss} for i, loss in enumerate(losses)]
    rows = [{"length": n, "exact": e, "in_train_range": n <= longest} for n, e in sorted(exact_by_length.items())]
    return {"config": {"seed": seed}, "training": {"curve": curve}, "results": rows, "fit": {"fitted": fitted}}


def test_the_classes_follow_the_registered_steps():
    probe = load_script()
    steps = {5_000: "early", 5_500: None, 9_000: None, 9_500: "late", None: "late", 500: "early"}
    assert {s: probe.classify(s) for s in steps} == steps
    # the first step below 1.0, not the last; a loss of exactly 1.0 is not below
    assert probe.exit_step(result(0, [3.0, 1.0, 0.9, 1.2, 0.5], {})) == 1_500
    assert probe.exit_step(result(0, [3.0, 1.0], {})) is None


def test_bin_a_reads_only_the_lengths_in_l_to_2l():
    probe = load_script()
    r = result(0, [], {20: 1.0, 25: 1.0, 30: 0.9, 40: 0.6, 50: 0.3, 75: 0.0})
    assert abs(probe.bin_a(r) - 60.0) < 1e-9  # 30, 40, 50; not 25 (in range) nor 75 (bin B)


def test_one_wrong_prediction_refutes_and_one_class_alone_is_inconclusive(tmp_path):
    probe = load_script()
    early_ok = [0.5] * 10  # below 1.0 at 500
    late = [2.0] * 19 + [0.5]  # below 1.0 at 10,000
    middle = [2.0] * 13 + [0.5]  # 7,000: no prediction
    runs = [
        result(0, early_ok, {25: 1.0, 50: 0.9}),
        result(1, early_ok, {25: 1.0, 50: 0.8}),
        result(2, late, {25: 0.96, 50: 0.0}),
        result(3, late, {25: 0.5, 50: 0.05}, fitted=False),
        result(4, middle, {25: 1.0, 50: 0.0}),
    ]
    for i, run in enumerate(runs):
        (tmp_path / f"r{i}.json").write_text(json.dumps(run))
    rows = probe.read([str(tmp_path)])
    assert [r["class"] for r in rows] == ["early", "early", "late", "late", None]
    assert probe.decision(rows) == "holds"
    assert probe.decision(rows[:2] + rows[4:]) == "inconclusive"  # no late seed
    assert probe.decision(rows[:3]) == "inconclusive"  # 3 predictions
    wrong = result(5, late, {25: 1.0, 50: 0.4})  # late, yet 40% beyond L
    (tmp_path / "r5.json").write_text(json.dumps(wrong))
    assert probe.decision(probe.read([str(tmp_path)])) == "refuted"


def test_the_ten_seeds_it_was_seen_on_reproduce_the_readme_table():
    probe = load_script()
    rows = probe.read(
        [str(RUNS / "replication-huang-learned-1h-bos"), str(RUNS / "replication-huang-learned-1h-bos-untied")]
    )
    steps = {(r["arm"].endswith("untied"), r["seed"]): r["step"] for r in rows}
    assert steps == {
        (False, 0): 10_500, (False, 1): 2_000, (False, 2): 2_500, (False, 3): 4_000, (False, 4): 9_500,
        (True, 0): 3_500, (True, 1): 10_000, (True, 2): 3_000, (True, 3): 4_500, (True, 4): 12_500,
    }  # fmt: skip
    assert all(r["right"] for r in rows)


def test_a_file_that_is_not_a_finished_run_is_named(tmp_path):
    probe = load_script()
    (tmp_path / "half.json").write_text(json.dumps({"config": {"seed": 0}, "training": {"curve": []}, "results": []}))
    with pytest.raises(SystemExit, match="half.json: not a finished run's result file"):
        probe.read([str(tmp_path)])
