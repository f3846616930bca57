"""H-R17's rule (results/studies/replication-huang/crossed.py): written before its cells."""

import json

import pytest

from tests.studies.scripts import ROOT, study_script

load_script, pytestmark = study_script("results/studies/replication-huang/crossed.py")
RUNS = ROOT / "results/studies/replication-huang/runs"


def result(seed, exact_beyond, data_seed=None, exit_at=2):
    """A finished run of copies of 1-25: exact at 30, 40 and 50 all ``exact_beyond``."""
    curve = [{"step": 500 * (i + 1), "loss": 0.5 if i + 1 >= exit_at else 2.0} for i in range(60)]
    rows = [{"length": n, "exact": e, "in_train_range": n <= 25} for n, e in [(25, 1.0), (30, exact_beyond),
            (40, exact_beyond), (50, exact_beyond), (75, 0.0)]]  # fmt: skip
    train = {} if data_seed is None else {"data_seed": data_seed}
    return {"config": {"seed": seed, "train": train}, "training": {"curve": curve}, "results": rows,
            "fit": {"fitted": True}}  # fmt: skip


def write(folder, runs):
    folder.mkdir()
    for i, run in enumerate(runs):
        (folder / f"r{i}.json").write_text(json.dumps(run))
    return str(folder)


def test_the_reference_seeds_of_h_r4_have_the_outcomes_the_design_names():
    probe = load_script()
    assert probe.reference_outcomes([str(RUNS / "replication-huang-learned-1h-bos")]) == {
        0: "late", 1: "early", 2: "early", 3: "early", 4: "late"
    }  # fmt: skip


def test_each_cell_follows_its_stream_its_init_or_neither(tmp_path):
    probe = load_script()
    reference = probe.reference_outcomes(
        [write(tmp_path / "ref", [result(s, 1.0 if s in (1, 2) else 0.0) for s in range(5)])]
    )
    cells = [
        result(0, 1.0, data_seed=1),  # late init, early stream, copies beyond L: the stream
        result(4, 0.0, data_seed=2),  # late init, early stream, copies nothing: the init
        result(1, 0.3, data_seed=0),  # 30%: no outcome
        result(2, 0.05, data_seed=4),  # early init, late stream, 5%: the stream
    ]
    rows = probe.read([write(tmp_path / "crossed", cells)], reference)
    assert [(r["init"], r["stream"], r["follows"]) for r in rows] == [
        (0, 1, "stream"), (1, 0, None), (2, 4, "stream"), (4, 2, "init")
    ]  # fmt: skip


def test_the_decision_needs_seven_of_the_eight_cells():
    probe = load_script()
    assert probe.decision([{"follows": "stream"}] * 8) == "the stream picks"
    assert probe.decision([{"follows": "init"}] * 7 + [{"follows": "stream"}]) == "the initialisation picks"
    assert probe.decision([{"follows": "init"}] * 4 + [{"follows": "stream"}] * 4) == "neither alone"
    assert probe.decision([{"follows": "init"}] * 2 + [{"follows": None}]) == (
        "3 of 8 cells in: the stream cannot; the initialisation can still pick"
    )
    with pytest.raises(SystemExit, match="9 cells given"):
        probe.decision([{"follows": "stream"}] * 9)


def test_a_cell_that_crosses_no_outcomes_or_lacks_a_reference_is_refused(tmp_path):
    probe = load_script()
    reference = {0: "late", 1: "early", 2: "early", 3: None}
    for name, cell, message in [
        ("same", result(1, 1.0, data_seed=2), "not a crossing"),
        ("none", result(3, 1.0, data_seed=0), "not a crossing"),
        ("missing", result(7, 1.0, data_seed=0), "seed 7 has no reference"),
    ]:
        with pytest.raises(SystemExit, match=message):
            probe.read([write(tmp_path / name, [cell])], reference)
    with pytest.raises(SystemExit, match="a crossed cell, not a reference seed"):
        probe.reference_outcomes([write(tmp_path / "ref", [result(0, 0.0, data_seed=1)])])


def test_the_two_suites_cross_every_late_init_with_every_early_stream_and_back(tmp_path):
    from lengthgen.suites import load_suite
    from lengthgen.sweeps.cells import expand

    probe = load_script()
    reference = probe.reference_outcomes([str(RUNS / "replication-huang-learned-1h-bos")])
    pairs = []
    for kind in ("late", "early"):
        suite = load_suite(ROOT / f"results/studies/replication-huang/suite-learned-1h-bos-crossed-{kind}-init.yaml")
        for cell in expand(suite, tmp_path):
            pairs.append((cell.config.seed, cell.config.train.data_seed))
            assert reference[cell.config.seed] == kind and reference[cell.config.train.data_seed] != kind
    assert sorted(pairs) == [(0, 1), (0, 2), (1, 0), (1, 4), (2, 0), (2, 4), (4, 1), (4, 2)]
