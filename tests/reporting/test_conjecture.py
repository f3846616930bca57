"""The gated conjecture test on synthetic result sets with known answers."""

import json
import math

import numpy as np
import pytest

from lengthgen.cli.main import main
from lengthgen.errors import LengthgenError
from lengthgen.reporting.conjecture import (
    conjecture_report,
    difference_p,
    permutation_p,
    rankdata,
    select_runs,
    sign_test_p,
    spearman,
)
from lengthgen.reporting.leaderboard import program_lengths
from lengthgen.reporting.loading import load_results
from tests.reporting.test_leaderboard import make_result

WITH_PROGRAM = ["sort", "count", "mode", "copy-unique"]
WITHOUT = ["parity", "copy-repeat", "reverse", "odds-first"]


def run_with(bench, seed, fitted, factor, created="2026-01-01T00:00:00"):
    """A result trained to length 10, tested at 15, 20 and 30: solved
    (>= 90%) exactly up to ``factor`` x 10; in range 100% or 50%."""
    accs = {10: 1.0 if fitted else 0.5}
    for n in (15, 20, 30):
        accs[n] = 1.0 if fitted and n <= factor * 10 else 0.2
    return make_result(bench, "transformer", seed, accs, created=created)


def write(tmp_path, results):
    tmp_path.mkdir(parents=True, exist_ok=True)
    for i, r in enumerate(results):
        (tmp_path / f"{i}.json").write_text(json.dumps(r))
    return tmp_path


def report_for(tmp_path, results, **kw):
    runs = select_runs(load_results(write(tmp_path, results)), "transformer", None, None)
    return conjecture_report(runs, program_lengths(), n_perm=2000, n_boot=400, **kw)


def test_rankdata_ties():
    assert rankdata([10, 20, 20, 5]).tolist() == [2.0, 3.5, 3.5, 1.0]


@pytest.mark.parametrize(
    "x,y,rho",
    [
        ([1, 2, 3, 4], [10, 20, 30, 40], 1.0),
        ([1, 2, 3, 4], [4, 3, 2, 1], -1.0),
        ([1, 2, 3, 4, 5], [2, 1, 4, 3, 5], 0.8),
    ],
)
def test_spearman_known_values(x, y, rho):
    assert spearman(x, y) == pytest.approx(rho)


def test_permutation_p_value():
    x = list(range(8))
    assert permutation_p(x, x[::-1], n_perm=4000) < 0.01
    assert np.isnan(permutation_p(x, [1.0] * 8))


def test_exact_tests_known_values():
    # 3 vs 3 fully separated: 2 of the 20 relabellings are as extreme
    assert difference_p([2.0, 2.0, 2.0], [1.0, 1.0, 1.0]) == pytest.approx(0.1)
    assert difference_p([1.0, 2.0], [1.0, 2.0]) == pytest.approx(1.0)
    assert sign_test_p(5, 0) == pytest.approx(2 / 32) and sign_test_p(3, 3) == 1.0
    assert math.isnan(sign_test_p(0, 0))


def test_fully_confounded_set_is_inconclusive(tmp_path):
    """Every program task fitted, no other task fitted: fit and program are
    the same variable, so nothing can be said about extrapolation."""
    results = [run_with(b, s, True, 2.0) for b in WITH_PROGRAM for s in range(3)]
    results += [run_with(b, s, False, 0) for b in WITHOUT for s in range(3)]
    report = report_for(tmp_path, results)
    assert report["verdict"].startswith("inconclusive")
    assert report["n_fitted_without"] == 0 and report["difference"] is None
    learn = report["learnability"]
    assert learn[True]["runs_fitted"] == 12 and learn[False]["runs_fitted"] == 0
    assert learn[True]["benchmarks_fitted"] == 4 and learn[False]["benchmarks"] == 4


def test_clean_effect_is_detected(tmp_path):
    results = [run_with(b, s, True, 2.0 if s != 1 else 3.0) for b in WITH_PROGRAM for s in range(3)]
    results += [run_with(b, s, True, 1.0 if s != 2 else 1.5) for b in WITHOUT for s in range(3)]
    report = report_for(tmp_path, results)
    assert report["verdict"].startswith("supported"), report["verdict"]
    diff = report["difference"]
    assert diff["difference"] == pytest.approx(7 / 3 - 7 / 6) and diff["ci"][0] > 0
    assert diff["p"] == pytest.approx(2 / math.comb(8, 4))  # exact: 2 of the 70 relabellings
    assert report["sensitivity"]["program exists"]["rho"] < -0.8
    # matched pairs copy-unique|copy-repeat, sort|reverse, mode|parity: 3 pairs x 3 seeds, program longer in all
    pairs = report["pairs"]
    assert pairs["wins"] == 9 and pairs["losses"] == 0 and pairs["p"] == pytest.approx(2 / 2**9)


def test_reversed_effect_is_contradicted(tmp_path):
    results = [run_with(b, s, True, 1.0) for b in WITH_PROGRAM for s in range(3)]
    results += [run_with(b, s, True, 2.0 + 0.5 * (s == 0)) for b in WITHOUT for s in range(3)]
    assert report_for(tmp_path, results)["verdict"].startswith("contradicted")


def test_noise_is_inconclusive(tmp_path):
    factors = [1.0, 2.0, 1.5]
    results = [run_with(b, s, True, factors[(i + s) % 3]) for i, b in enumerate(WITH_PROGRAM) for s in range(3)]
    results += [run_with(b, s, True, factors[(i + s + 1) % 3]) for i, b in enumerate(WITHOUT) for s in range(3)]
    assert report_for(tmp_path, results)["verdict"].startswith("inconclusive")


def test_unfitted_seeds_are_left_out_and_reruns_counted_once(tmp_path):
    results = [run_with("sort", 0, True, 2.0), run_with("sort", 1, False, 0)]
    # a rerun of seed 0: the newer file replaces the older one
    results.append(run_with("sort", 0, True, 1.5, created="2026-03-01T00:00:00"))
    report = report_for(tmp_path, results)
    (row,) = [r for r in report["rows"] if r.benchmark == "sort"]
    assert row.seeds == 2 and row.fitted == 1 and row.fitted_factors == [1.5]


def test_conjecture_cli(tmp_path, capsys):
    results = [run_with(b, 0, True, 2.0) for b in WITH_PROGRAM] + [run_with("parity", 0, False, 0)]
    results.append(make_result("unknown-bench", "transformer", 0, {10: 1.0, 15: 1.0}))
    write(tmp_path, results)
    assert main(["conjecture", str(tmp_path), "--permutations", "200", "--bootstrap", "100"]) == 0
    out = capsys.readouterr().out
    assert "Learnability" in out and "Verdict: inconclusive" in out and "not fitted" in out
    assert "unknown-bench" not in out
    assert main(["conjecture", str(tmp_path), "--format", "json", "--bootstrap", "100"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["verdict"].startswith("inconclusive") and data["learnability"]["no_program"]["runs"] == 1
    assert main(["conjecture", str(tmp_path), "--model", "gpt"]) == 2
    assert main(["conjecture", str(tmp_path), "--bootstrap", "0"]) == 2


def test_predictions_are_judged_on_fitted_seeds_and_can_be_inconclusive():
    from lengthgen.reporting.conjecture import BenchmarkRow, judge_predictions

    def row(name, factors, seeds=4):
        return BenchmarkRow(name, 5, 2, seeds, len(factors), 0.99, list(factors))

    rows = [
        row("sort", [3.0, 2.5, 2.0]),  # every fitted seed to >= 2x
        row("reverse", [1.0, 1.0]),  # none
        row("mode", [3.0, 1.0, 1.25]),  # split
        row("parity", [1.0]),  # one fitted seed only
        row("count", [1.0, 1.1]),  # predicted to extrapolate, does not
    ]
    predictions = {"sort": "extrapolates", "reverse": "fails", "mode": "extrapolates", "parity": "fails",
                   "count": "extrapolates", "pvr": "extrapolates"}  # fmt: skip
    judged = judge_predictions(rows, predictions)
    observed = {d["benchmark"]: (d["observed"], d["right"]) for d in judged["detail"]}
    assert observed["sort"] == ("extrapolates", True)
    assert observed["reverse"] == ("fails", True)
    assert observed["count"] == ("fails", False)
    assert observed["mode"][1] is None and "split 1/3" in observed["mode"][0]
    assert observed["parity"][1] is None and "fitted 1/4" in observed["parity"][0]
    assert observed["pvr"] == ("inconclusive (no runs)", None)
    assert (judged["right"], judged["wrong"]) == (2, 1)


def test_each_benchmark_may_have_its_own_recipe_but_not_two(tmp_path):
    sort = make_result("sort", "transformer", 0, {10: 1.0, 20: 1.0}, pe="none")
    parity = make_result("parity", "transformer", 0, {10: 1.0, 20: 0.5}, pe="rope")
    runs = select_runs(load_results(write(tmp_path / "a", [sort, parity])), "transformer", None, None)
    assert {r.benchmark for r in runs} == {"sort", "parity"}
    twice = make_result("sort", "transformer", 1, {10: 1.0, 20: 1.0}, pe="alibi")
    with pytest.raises(LengthgenError, match="2 configurations of 'transformer' for sort"):
        select_runs(load_results(write(tmp_path / "b", [sort, parity, twice])), "transformer", None, None)


def test_conjecture_cli_judges_a_suites_predictions(tmp_path, capsys):
    runs = tmp_path / "runs"
    results = [run_with("sort", s, True, 3.0) for s in (0, 1)] + [run_with("parity", s, True, 1.0) for s in (0, 1)]
    write(runs, results)
    suites = tmp_path / "suites"
    suites.mkdir()
    (suites / "p.yaml").write_text(
        "name: p\nbenchmarks: [sort, parity, count]\n"
        "predictions: {sort: extrapolates, parity: extrapolates, count: extrapolates}\n"
    )
    (suites / "none.yaml").write_text("name: none\nbenchmarks: [sort]\n")
    args = ["conjecture", str(runs), "--permutations", "200", "--bootstrap", "100", "--suite"]
    assert main([*args, str(suites / "p.yaml")]) == 0
    out = capsys.readouterr().out
    assert "right 1, wrong 1, inconclusive 1" in out  # sort right, parity wrong, count has no runs
    assert main(["conjecture", str(runs), "--format", "json", "--suite", str(suites / "p.yaml")]) == 0
    judged = json.loads(capsys.readouterr().out)["predictions"]
    assert (judged["right"], judged["wrong"]) == (1, 1)
    assert main([*args, str(suites / "none.yaml")]) == 2
    assert "no 'predictions' key" in capsys.readouterr().err


def test_verdict_says_which_criterion_failed():
    from lengthgen.reporting.conjecture import _verdict

    assert "includes zero" in _verdict(4, 4, {"difference": 0.2, "ci": (-0.1, 0.5), "p": 0.01})
    split = _verdict(9, 3, {"difference": 0.48, "ci": (0.11, 0.88), "p": 0.29})
    assert split.startswith("inconclusive") and "excludes zero but the permutation test does not reject" in split
    assert _verdict(9, 3, {"difference": 0.48, "ci": (0.11, 0.88), "p": 0.01}).startswith("supported")
    assert _verdict(3, 3, {"difference": -0.5, "ci": (-0.9, -0.1), "p": 0.01}).startswith("contradicted")
    assert "at least 3 on each side" in _verdict(9, 2, {"difference": 0.48, "ci": (0.11, 0.88), "p": 0.01})
