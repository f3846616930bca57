"""The benchmark-level conjecture test registered for conjecture-v3 (lengthgen.reporting.scored)."""

import pytest

from lengthgen.errors import LengthgenError
from lengthgen.reporting.runs import summarize_runs
from lengthgen.reporting.scored import longer_training, one_sided_p, render_scored, scored_report, scored_rows
from tests.reporting.test_leaderboard import make_result

PROGRAMS = {f"p{i}": (5, 2) for i in range(5)} | {f"n{i}": (None, None) for i in range(5)}


def runs_for(scores: dict[str, float], seeds=3, fit=1.0, unfit: dict[str, int] | None = None):
    """Each benchmark trained on 1-10, its fitted seeds scoring ``scores[b]`` at 20 (2L) and at 15, 20 and 25."""
    out = []
    for bench, score in scores.items():
        for seed in range(seeds):
            in_range = 0.5 if seed < (unfit or {}).get(bench, 0) else fit
            out.append(make_result(bench, "transformer", seed, {10: in_range, 20: score, 25: score / 2}))
    return summarize_runs(out)


def test_one_sided_exact_permutation_p():
    assert one_sided_p([1.0, 1.0, 0.9], [0.0, 0.1, 0.0]) == pytest.approx(1 / 20)
    assert one_sided_p([0.0, 0.1, 0.0], [1.0, 1.0, 0.9]) == pytest.approx(1.0)  # the other direction is not evidence
    assert one_sided_p([1.0] * 4, [0.0] * 4) == pytest.approx(1 / 70)


def test_clear_separation_is_supported():
    report = scored_report(runs_for({f"p{i}": 0.95 for i in range(5)} | {f"n{i}": 0.05 for i in range(5)}), PROGRAMS)
    assert report["scored_program"] == 5 and report["scored_none"] == 5
    assert report["p"] == pytest.approx(1 / 252)
    assert report["verdict"].startswith("supported"), report["verdict"]


def test_no_difference_is_refuted_and_a_small_one_inconclusive():
    same = scored_report(runs_for({f"p{i}": 0.5 for i in range(5)} | {f"n{i}": 0.5 for i in range(5)}), PROGRAMS)
    assert same["verdict"].startswith("refuted"), same["verdict"]
    mixed = {"p0": 0.9, "p1": 0.2, "p2": 0.9, "p3": 0.2, "p4": 0.6, "n0": 0.3, "n1": 0.5, "n2": 0.1, "n3": 0.6}
    report = scored_report(runs_for(mixed), PROGRAMS)
    assert report["verdict"].startswith("inconclusive"), report["verdict"]


def test_unfitted_seeds_do_not_count_and_too_few_fitted_leave_a_benchmark_unscored():
    scores = {f"p{i}": 0.95 for i in range(5)} | {f"n{i}": 0.05 for i in range(5)}
    # two of three seeds of p0..p1 and n0..n1 not fitted: those benchmarks are unscored
    unfit = {"p0": 2, "p1": 2, "n0": 2, "n1": 2}
    report = scored_report(runs_for(scores, unfit=unfit), PROGRAMS)
    rows = {r.benchmark: r for r in report["rows"]}
    assert rows["p0"].fitted == 1 and not rows["p0"].scored(3)
    assert (report["scored_program"], report["scored_none"]) == (3, 3)
    assert report["verdict"].startswith("inconclusive") and "at least 4" in report["verdict"]
    # a benchmark with one unfitted seed keeps its score from the other two... when the rule asks for 2
    one = scored_rows(runs_for({"p0": 0.8}, unfit={"p0": 1}), PROGRAMS)[0]
    assert one.fitted == 2 and one.at_multiple == [0.8, 0.8]


def test_all_seeds_keeps_unfitted_seeds_with_what_they_measured():
    # n0..n3 never fit (0.5 in range) and score 0.0 beyond it; the rule as designed cannot see them
    results = [make_result(f"p{i}", "transformer", s, {10: 1.0, 20: 0.9, 25: 0.5}) for i in range(4) for s in range(3)]
    results += [make_result(f"n{i}", "transformer", s, {10: 0.5, 20: 0.0, 25: 0.0}) for i in range(4) for s in range(3)]
    results.append(make_result("p0", "transformer", 3, {10: 0.5, 20: 0.3, 25: 0.1}))  # one unfitted program seed
    runs = summarize_runs(results)
    fitted_only = scored_report(runs, PROGRAMS)
    assert fitted_only["scored_none"] == 0 and fitted_only["verdict"].startswith("inconclusive")
    itt = scored_report(runs, PROGRAMS, all_seeds=True)
    rows = {r.benchmark: r for r in itt["rows"]}
    assert rows["p0"].at_multiple == [0.9, 0.9, 0.9, 0.3] and rows["n0"].at_multiple == [0.0] * 3
    assert (itt["scored_program"], itt["scored_none"]) == (4, 4)
    assert itt["difference"] == pytest.approx((0.9 * 3 + 0.75) / 4)
    assert itt["verdict"].startswith("supported"), itt["verdict"]
    assert "intention to treat" in render_scored(itt)


def test_missing_length_is_an_error():
    runs = summarize_runs([make_result("p0", "transformer", 0, {10: 1.0, 15: 0.9})])
    with pytest.raises(LengthgenError, match="no result at 2 x L = 20"):
        scored_rows(runs, PROGRAMS)


def test_longer_training_counts_rises_among_program_benchmarks():
    short = scored_rows(runs_for({"p0": 0.5, "p1": 0.5, "p2": 0.9, "n0": 0.1}), PROGRAMS)
    long = scored_rows(runs_for({"p0": 0.9, "p1": 0.8, "p2": 0.7, "n0": 0.9}), PROGRAMS)
    change = longer_training(short, long)
    assert change["benchmarks"] == ["p0", "p1", "p2"] and change["rose"] == ["p0", "p1"]
    assert change["p"] == pytest.approx(4 / 8)


def test_rendered_report_names_the_verdict_and_the_pairs():
    scores = {"copy-unique": 0.9, "copy-repeat": 0.1, "sort": 0.9, "reverse": 0.2}
    programs = {"copy-unique": (5, 2), "sort": (3, 1), "copy-repeat": (None, None), "reverse": (None, None)}
    text = render_scored(scored_report(runs_for(scores), programs))
    assert "program side higher in 2 of 2" in text and "verdict: inconclusive" in text


def test_conjecture_command_runs_the_scored_rule(tmp_path, capsys):
    import json

    from lengthgen.cli.main import main

    for bench, score in {"copy-unique": 0.9, "copy-repeat": 0.1}.items():
        for seed in range(3):
            result = make_result(bench, "transformer", seed, {10: 1.0, 20: score, 25: score})
            (tmp_path / f"{bench}-{seed}.json").write_text(json.dumps(result))
    assert main(["conjecture", str(tmp_path), "--scored", "--longer", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "verdict: inconclusive: 1 scored benchmark(s) with a program and 1 without" in out
    assert "rose on 0 of 1 program benchmarks" in out
    assert main(["conjecture", str(tmp_path), "--longer", str(tmp_path)]) == 2
    assert "--longer goes with --scored" in capsys.readouterr().err
