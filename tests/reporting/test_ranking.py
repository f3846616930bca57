"""Ranking configurations across benchmarks: MRR, its bootstrap, the fit gate."""

import json

import pytest

from lengthgen.cli.main import main
from lengthgen.errors import LengthgenError
from lengthgen.reporting.loading import load_results
from lengthgen.reporting.ranking import rank_configurations, reciprocal_ranks
from lengthgen.reporting.runs import summarize_run, summarize_runs
from tests.reporting.test_leaderboard import make_result

BENCHES = ["count", "sort", "reverse", "mode", "copy-unique", "parity"]


def run(bench, pe, seed, in_range, beyond):
    return make_result(bench, "transformer", seed, {10: in_range, 15: beyond, 20: beyond}, pe=pe)


def ranking(tmp_path, results, metric="exact", n_boot=300):
    for i, r in enumerate(results):
        (tmp_path / f"{i}.json").write_text(json.dumps(r))
    return rank_configurations(summarize_runs(load_results(tmp_path), metric), n_boot=n_boot)


def test_reciprocal_ranks_share_ties():
    assert reciprocal_ranks({"a": 0.2, "b": 0.9, "c": 0.2}) == {"a": 0.4, "b": 1.0, "c": 0.4}


def test_a_consistent_leader_is_declared(tmp_path):
    results = [
        run(b, pe, s, 1.0, acc) for b in BENCHES for s in range(3) for pe, acc in (("rope", 0.9), ("alibi", 0.3))
    ]
    report = ranking(tmp_path, results)
    assert report["leader"] == "transformer+rope" and report["mrr"]["transformer+rope"] == 1.0
    assert report["mrr"]["transformer+alibi"] == 0.5 and report["margin_ci"][0] > 0
    assert report["verdict"].startswith("transformer+rope ranks first")


def test_too_few_benchmarks_cannot_name_a_leader_even_on_a_clean_sweep(tmp_path):
    from lengthgen.reporting.ranking import benchmarks_needed

    assert [benchmarks_needed(k) for k in (2, 3, 6, 20, 21)] == [6, 4, 3, 3, 2]
    # rope wins all 5 benchmarks in every seed: two exchangeable configurations do that 1 time in 16
    results = [
        run(b, pe, s, 1.0, acc) for b in BENCHES[:5] for s in range(3) for pe, acc in (("rope", 0.9), ("alibi", 0.3))
    ]
    report = ranking(tmp_path, results)
    assert report["leader"] == "transformer+rope" and report["margin_ci"][0] > 0
    assert report["verdict"].startswith("INCONCLUSIVE") and "probability 0.06" in report["verdict"]


def test_a_split_ranking_is_inconclusive(tmp_path):
    results = []
    for i, b in enumerate(BENCHES[:4]):
        for s in range(3):
            results.append(run(b, "rope", s, 1.0, 0.9 if i % 2 else 0.2))
            results.append(run(b, "alibi", s, 1.0, 0.2 if i % 2 else 0.9))
    report = ranking(tmp_path, results)
    assert report["verdict"].startswith("INCONCLUSIVE") and report["margin_ci"][0] <= 0 <= report["margin_ci"][1]


def test_a_seed_not_fitted_in_range_scores_zero_beyond(tmp_path):
    # alibi outputs more beyond the range, but never learned the task in range
    results = [run(b, "rope", s, 1.0, 0.4) for b in BENCHES[:3] for s in range(2)]
    results += [run(b, "alibi", s, 0.5, 1.0) for b in BENCHES[:3] for s in range(2)]
    report = ranking(tmp_path, results)
    assert report["leader"] == "transformer+rope"
    assert report["cells"]["count"]["transformer+alibi"].scores == [0.0, 0.0]


def test_benchmarks_nobody_fitted_are_left_out_and_listed(tmp_path):
    results = [run(b, pe, 0, 1.0, 0.5) for b in BENCHES[:2] for pe in ("rope", "alibi")]
    results += [run("parity", pe, 0, 0.5, 0.5) for pe in ("rope", "alibi")]
    report = ranking(tmp_path, results)
    assert report["dropped"] == ["parity"] and report["benchmarks"] == ["count", "sort"]


def test_benchmarks_a_configuration_has_not_run_yet_are_left_out(tmp_path):
    # a sweep half done: alibi has no sort results yet; sort must not count as alibi's loss
    results = [run("count", pe, s, 1.0, acc) for s in range(2) for pe, acc in (("rope", 0.5), ("alibi", 0.9))]
    results += [run("sort", "rope", s, 1.0, 0.9) for s in range(2)]
    report = ranking(tmp_path, results)
    assert report["incomplete"] == ["sort"] and report["benchmarks"] == ["count"]
    assert report["mrr"]["transformer+alibi"] == 1.0
    # every configuration has sort, but alibi only seed 0 so far: still incomplete
    fewer = tmp_path / "fewer"
    fewer.mkdir()
    report = ranking(fewer, results + [run("sort", "alibi", 0, 1.0, 0.1)])
    assert report["incomplete"] == ["sort"] and report["benchmarks"] == ["count"]
    complete = tmp_path / "complete"
    complete.mkdir()
    report = ranking(complete, results + [run("sort", "alibi", s, 1.0, 0.1) for s in range(2)])
    assert report["incomplete"] == [] and report["benchmarks"] == ["count", "sort"]
    other = tmp_path / "disjoint"
    other.mkdir()
    with pytest.raises(LengthgenError, match="every configuration"):  # no benchmark has both yet
        ranking(other, [run("sort", "rope", 0, 1.0, 0.9), run("mode", "alibi", 0, 1.0, 0.5)])


def test_one_configuration_cannot_be_ranked(tmp_path):
    with pytest.raises(LengthgenError, match="at least two configurations"):
        ranking(tmp_path, [run("count", "rope", 0, 1.0, 0.5)])


def test_rank_cli_prints_both_metrics_with_fit_and_baselines(tmp_path, capsys):
    results = [
        run(b, pe, s, 1.0, acc) for b in BENCHES[:3] for s in range(2) for pe, acc in (("rope", 0.9), ("none", 0.3))
    ]
    for i, r in enumerate(results):
        (tmp_path / f"{i}.json").write_text(json.dumps(r))
    out_file = tmp_path / "rank.md"
    assert main(["rank", str(tmp_path), "--bootstrap", "200", "--output", str(out_file)]) == 0
    out = capsys.readouterr().out
    assert out.count("Ranking by") == 2 and "by exact accuracy" in out and "by token accuracy" in out
    assert "seeds fitted" in out and "chance %" in out and "best baseline %" in out
    assert out_file.read_text().strip() == out.strip()
    assert main(["rank", str(tmp_path), "--bootstrap", "200", "--metric", "exact", "--above-shortcut"]) == 0
    out = capsys.readouterr().out
    assert "above the shortcut" in out and "gain % (fitted)" in out


def test_the_best_column_names_ties_instead_of_picking_one(tmp_path):
    from lengthgen.reporting.ranking import _best

    results = [run("count", pe, s, 1.0, 0.0) for s in range(2) for pe in ("rope", "alibi", "none")]
    results += [
        run("sort", pe, s, 1.0, acc) for s in range(2) for pe, acc in (("rope", 0.5), ("alibi", 0.5), ("none", 0.2))
    ]
    results += [
        run("mode", pe, s, 1.0, acc) for s in range(2) for pe, acc in (("rope", 0.5), ("alibi", 0.6), ("none", 0.2))
    ]
    cells = ranking(tmp_path, results)["cells"]
    assert _best(cells["count"]) == "tie: all at 0.0"
    assert _best(cells["sort"]) in (
        "tie: transformer+rope, transformer+alibi",
        "tie: transformer+alibi, transformer+rope",
    )
    assert _best(cells["mode"]) == "transformer+alibi"


def test_rank_cli_ranks_over_the_chosen_benchmarks_only(tmp_path, capsys):
    # rope wins count and sort, alibi wins mode: over all three rope leads, over mode alone alibi does
    results = [
        run(b, pe, s, 1.0, acc)
        for b in ("count", "sort", "mode")
        for s in range(2)
        for pe, acc in (("rope", 0.9 if b != "mode" else 0.2), ("alibi", 0.3 if b != "mode" else 0.8))
    ]
    for i, r in enumerate(results):
        (tmp_path / f"{i}.json").write_text(json.dumps(r))
    assert main(["rank", str(tmp_path), "--bootstrap", "100", "--metric", "exact"]) == 0
    out = capsys.readouterr().out
    assert "3 benchmarks" in out and "Verdict: INCONCLUSIVE: transformer+rope leads" in out
    assert main(["rank", str(tmp_path), "--bootstrap", "100", "--metric", "exact", "--benchmarks", "mo*"]) == 0
    out = capsys.readouterr().out
    assert "1 benchmarks" in out and "| count" not in out and "| mode" in out
    # alibi sweeps the one benchmark chosen, which cannot name a leader
    assert "INCONCLUSIVE: transformer+alibi leads" in out and "at least 6 are needed" in out
    assert main(["rank", str(tmp_path), "--benchmarks", "sotr"]) == 2
    assert "'sotr' matches nothing (did you mean: sort?)" in capsys.readouterr().err


def test_above_shortcut_scores_the_gain_and_leaves_out_benchmarks_nobody_beats(tmp_path):
    from lengthgen.reporting.ranking import shortcut_of

    results = [run("count", pe, s, 1.0, acc) for s in range(2) for pe, acc in (("rope", 0.9), ("alibi", 0.3))]
    # parity beyond the range at chance: alibi "wins" it by noise on raw accuracy
    results += [run("parity", pe, s, 1.0, acc) for s in range(2) for pe, acc in (("rope", 0.45), ("alibi", 0.5))]
    raw = ranking(tmp_path, results)
    assert raw["benchmarks"] == ["count", "parity"] and raw["mrr"]["transformer+alibi"] == 0.75
    summaries = summarize_runs(load_results(tmp_path), "exact")
    report = rank_configurations(summaries, n_boot=200, above_shortcut=True)
    assert report["no_gain"] == ["parity"] and report["benchmarks"] == ["count"]
    rope = next(r for r in summaries if r.benchmark == "count" and r.column == "transformer+rope")
    assert 0 < shortcut_of(rope) < 0.9
    assert report["cells"]["count"]["transformer+rope"].scores == [pytest.approx(0.9 - shortcut_of(rope))] * 2
    assert report["mrr"]["transformer+rope"] == 1.0


def test_above_shortcut_needs_the_gain_to_clear_its_interval(tmp_path):
    from lengthgen.reporting.ranking import shortcut_of

    base = shortcut_of(summarize_run(run("parity", "rope", 0, 1.0, 0.5)))
    assert base == pytest.approx(0.5)
    # 2 points over the shortcut on 200 examples is inside the noise; 15 points is not
    gains = (("rope", 0.02), ("alibi", 0.15))
    results = [run("parity", pe, s, 1.0, base + gain) for s in range(2) for pe, gain in gains]
    results += [run("sort", pe, s, 1.0, 0.9) for s in range(2) for pe in ("rope", "alibi")]
    for i, r in enumerate(results):
        (tmp_path / f"{i}.json").write_text(json.dumps(r))
    report = rank_configurations(summarize_runs(load_results(tmp_path), "exact"), n_boot=100, above_shortcut=True)
    assert report["cells"]["parity"]["transformer+rope"].scores == [0.0, 0.0]
    assert report["cells"]["parity"]["transformer+alibi"].scores == [pytest.approx(0.15)] * 2


def test_above_shortcut_needs_chance_or_a_baseline():
    from lengthgen.reporting.ranking import shortcut_of
    from lengthgen.reporting.runs import RunSummary

    fields = {f: None for f in RunSummary.__dataclass_fields__}
    summary = RunSummary(**{**fields, "benchmark": "mine", "chance": None, "baseline": None})
    with pytest.raises(LengthgenError, match="neither chance nor a baseline"):
        shortcut_of(summary)
