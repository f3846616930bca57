"""Study 2's "higher beyond the training hops" rule (results/studies/adaptive/higher_beyond.py)."""

import json

import pytest

from tests.studies.scripts import study_script

load_script, pytestmark = study_script("results/studies/adaptive/higher_beyond.py")


def test_one_sided_p_counts_the_relabellings_at_least_as_extreme():
    probe = load_script()
    assert probe.one_sided_p([5.0, 6.0, 7.0], [1.0, 2.0, 3.0]) == pytest.approx(1 / 20)  # the one split of 20
    assert probe.one_sided_p([1.0, 2.0, 3.0], [5.0, 6.0, 7.0]) == 1.0  # every split is at least this low
    assert probe.one_sided_p([4.0, 4.0], [4.0, 4.0]) == 1.0


def test_the_rule_reads_no_test_below_the_margin_and_needs_p_at_most_0_05():
    probe = load_script()
    assert probe.verdict([20.0] * 5, [11.0] * 5) == (9.0, None, "not higher (below the margin)")
    difference, p, reading = probe.verdict([40.0, 41, 42, 43, 44], [10.0, 11, 12, 13, 14])
    assert difference == pytest.approx(30) and p == pytest.approx(1 / 252) and reading == "higher"
    difference, p, reading = probe.verdict([21.7, 30.7, 1.7, 39.3, 42.3], [11.7, 6.0, 5.3, 11.7, 22.7])
    assert p == pytest.approx(14 / 252) and reading == "not higher (p > 0.05)"


def result(seed, model, exact_at_3, layers=None):
    options = {"n_layers": layers} if layers else {}
    rows = [{"length": 2, "exact": 1.0}, {"length": 3, "exact": exact_at_3}]
    return {"config": {"seed": seed, "model": model, "model_options": options}, "results": rows}


def test_exact_at_filters_by_model_and_depth_and_refuses_two_results_for_a_seed(tmp_path):
    probe = load_script()
    runs = [result(0, "ut", 0.2), result(0, "hyper-ut", 0.3), result(1, "ut", 0.4)]
    runs += [result(0, "transformer", 0.1, layers=4), result(0, "transformer", 0.9, layers=8)]
    for i, run in enumerate(runs):
        (tmp_path / f"r{i}.json").write_text(json.dumps(run))
    assert probe.exact_at(str(tmp_path), 3, "ut") == pytest.approx({0: 20.0, 1: 40.0})
    assert probe.exact_at(str(tmp_path), 3, "transformer", layers=8) == pytest.approx({0: 90.0})
    with pytest.raises(SystemExit, match="two results for seed 0"):
        probe.exact_at(str(tmp_path), 3)
    with pytest.raises(SystemExit, match="no result at 5 hops"):
        probe.exact_at(str(tmp_path), 5, "ut")
