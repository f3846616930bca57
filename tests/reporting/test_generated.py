"""The generated-task study's analysis (lengthgen.reporting.generated)."""

import json

import pytest
import yaml

from lengthgen.errors import LengthgenError
from lengthgen.reporting.generated import auc, generated_report, load_manifest, outcomes, render_generated
from lengthgen.reporting.runs import summarize_runs
from tests.reporting.test_leaderboard import make_result


def record(name, group, length, sensitivity=1.0, searched=None):
    return {
        "name": name,
        "group": group,
        "length": length,
        "depth": 1 + length // 4,
        "sensitivity_20": sensitivity,
        "search": {"length": searched} if searched else None,
    }


def runs(spec, seeds=3):
    """spec: {name: (in-range exact, exact at 2L, exact given the length at 2L)}"""
    out = []
    for name, (fit, far, given) in spec.items():
        for seed in range(seeds):
            result = make_result(name, "transformer", seed, {10: fit, 15: far, 20: far})
            result["results"][-1]["exact_given_length"] = given
            out.append(result)
    return summarize_runs(out)


def test_auc_ranks_successes_above_failures():
    assert auc([3.0, 2.0], [1.0]) == 1.0 and auc([1.0], [2.0, 3.0]) == 0.0
    assert auc([1.0, 2.0], [1.0, 2.0]) == 0.5
    assert auc([], [1.0]) is None


def test_short_programs_succeed_controls_fail_reads_supported():
    manifest = {}
    spec = {}
    for i in range(24):  # programs: the short half succeeds
        name = f"g{i}"
        manifest[name] = record(name, "program", 3 + i % 8)
        spec[name] = (1.0, 0.95 if i % 8 < 4 else 0.2, 0.3)
    for i in range(10):
        name = f"c{i}"
        manifest[name] = record(name, "control", 3 + i % 8)
        spec[name] = (1.0, 0.1, 0.1)
    report = generated_report(runs(spec), manifest, n_boot=500)
    assert (report["programs"], report["controls"]) == (24, 10)
    assert report["rate_program"] == pytest.approx(12 / 24) and report["rate_control"] == 0.0
    assert report["verdict"].startswith("supported"), report["verdict"]
    assert report["aucs"]["program length (shorter)"]["auc"] == 1.0
    assert report["failures"] == {"control: wrong content": 10, "program: wrong content": 12}
    assert "AUC, program length (shorter): 1.00" in render_generated(report)


def test_no_gap_is_refuted_and_too_few_fitted_is_inconclusive():
    manifest = {f"g{i}": record(f"g{i}", "program", 4) for i in range(40)}
    manifest |= {f"c{i}": record(f"c{i}", "control", 4) for i in range(30)}
    same = {name: (1.0, 0.95 if int(name[1:]) % 2 else 0.1, 0.1) for name in manifest}
    assert generated_report(runs(same), manifest, n_boot=500)["verdict"].startswith("refuted")
    unfit = {name: (0.5 if name.startswith("c") else 1.0, 0.9, 0.9) for name in manifest}
    verdict = generated_report(runs(unfit), manifest, n_boot=200)["verdict"]
    assert verdict.startswith("inconclusive") and "0 fitted controls" in verdict


def test_wrong_stop_is_told_from_wrong_content_and_search_shortens_the_length():
    manifest = {"g1": record("g1", "program", 7, searched=3), "g2": record("g2", "program", 5)}
    tasks = {t.name: t for t in outcomes(runs({"g1": (1.0, 0.2, 0.95), "g2": (1.0, 0.2, 0.3)}), manifest)}
    assert tasks["g1"].failure == "wrong stop" and tasks["g2"].failure == "wrong content"
    assert tasks["g1"].shortest == 3 and tasks["g2"].shortest == 5


def test_unknown_tasks_and_bad_manifests_are_errors(tmp_path):
    with pytest.raises(LengthgenError, match="none of these results"):
        outcomes(runs({"other": (1.0, 1.0, 1.0)}), {"g1": record("g1", "program", 3)})
    bad = tmp_path / "tasks.yaml"
    bad.write_text("name: x\n")
    with pytest.raises(LengthgenError, match="no 'tasks' list"):
        load_manifest(tmp_path)
    bad.write_text("tasks: [{name: g1}]\n")
    with pytest.raises(LengthgenError, match="task 1 lacks group, length"):
        load_manifest(bad)
    bad.write_text("tasks: [\n")
    with pytest.raises(LengthgenError, match="not valid YAML"):
        load_manifest(bad)


def test_generated_command(tmp_path, capsys):
    from lengthgen.cli.main import main

    manifest = {f"g{i}": record(f"g{i}", "program", 3 + i) for i in range(3)}
    (tmp_path / "tasks.yaml").write_text(yaml.safe_dump({"tasks": list(manifest.values())}))
    folder = tmp_path / "runs"
    folder.mkdir()
    for i, name in enumerate(manifest):
        for seed in range(2):
            result = make_result(name, "transformer", seed, {10: 1.0, 20: 0.95 if i == 0 else 0.3})
            (folder / f"{name}-{seed}.json").write_text(json.dumps(result))
    args = ["generated", str(folder), "--tasks", str(tmp_path / "tasks.yaml"), "--bootstrap", "100"]
    pytest.importorskip("matplotlib")
    assert main([*args, "--plot", str(tmp_path / "g.png")]) == 0
    assert (tmp_path / "g.png").stat().st_size > 1000
    out = capsys.readouterr().out
    assert "3 RASP-L, 0 controls" in out and "verdict: inconclusive" in out
    assert "AUC, program length (shorter): 1.00" in out


def test_the_report_counts_tasks_runs_and_training_compute():
    manifest = {n: record(n, "program" if n.startswith("g") else "control", 4) for n in ("g1", "g2", "g3", "c1")}
    results = []
    for name, cpu in (("g1", 60.0), ("g2", 90.0), ("c1", 30.0)):
        for seed in range(2):
            result = make_result(name, "transformer", seed, {10: 1.0, 20: 1.0})
            result["wall_time_s"] = {"train_cpu": cpu}
            results.append(result)
    text = render_generated(generated_report(summarize_runs(results), manifest, n_boot=50))
    assert (
        "compute: 2 of 3 RASP-L tasks with runs (4 runs), 1 of 1 controls with runs (2 runs); 6.0 CPU-minutes" in text
    )


def test_intention_to_treat_counts_unfitted_tasks_as_failures():
    """Controls that never fit drop out of the fitted-only contrast and
    count as failures when every seed is counted."""
    manifest = {f"g{i}": record(f"g{i}", "program", 4) for i in range(20)}
    manifest |= {f"c{i}": record(f"c{i}", "control", 4) for i in range(10)}
    spec = {n: (1.0, 0.95, 0.95) for n in manifest if n.startswith("g")}
    spec |= {f"c{i}": (1.0, 0.95, 0.95) if i < 2 else (0.3, 0.0, 0.0) for i in range(10)}
    fitted_only = generated_report(runs(spec), manifest, n_boot=200)
    assert (fitted_only["controls"], fitted_only["rate_control"]) == (2, 1.0)
    assert fitted_only["verdict"].startswith("inconclusive") and "2 fitted controls" in fitted_only["verdict"]
    itt = generated_report(runs(spec), manifest, n_boot=200, all_seeds=True)
    assert (itt["programs"], itt["controls"]) == (20, 10)
    assert itt["rate_control"] == pytest.approx(0.2) and itt["fitted"]["control"] == (2, 10)
    assert itt["failures"] == {"control: not fitted": 8}
    assert itt["verdict"].startswith("supported"), itt["verdict"]
    assert "intention to treat" in render_generated(itt)


def test_intention_to_treat_scores_every_seed():
    manifest = {"g1": record("g1", "program", 4)}
    results = [make_result("g1", "transformer", s, {10: 1.0 if s else 0.2, 20: 1.0 if s else 0.0}) for s in range(3)]
    (fitted,) = outcomes(summarize_runs(results), manifest)
    (every,) = outcomes(summarize_runs(results), manifest, all_seeds=True)
    assert fitted.score == 1.0 and fitted.fitted_seeds == 2
    assert every.score == pytest.approx(2 / 3) and every.fitted_seeds == 2 and not every.success


def test_a_band_averages_the_lengths_around_the_multiple_and_needs_each():
    manifest = {"g1": record("g1", "program", 4)}
    accs = {10: 1.0, 18: 0.7, 19: 1.0, 20: 0.4, 21: 1.0, 22: 0.9}
    results = [make_result("g1", "transformer", 0, accs)]
    (one,) = outcomes(summarize_runs(results), manifest)
    (band,) = outcomes(summarize_runs(results), manifest, band=2)
    assert one.score == pytest.approx(0.4) and band.score == pytest.approx(0.8)
    with pytest.raises(LengthgenError, match=r"no test result at 17 \(band 17-23\)"):
        outcomes(summarize_runs(results), manifest, band=3)
    with pytest.raises(LengthgenError, match="--band must be >= 0"):
        outcomes(summarize_runs(results), manifest, band=-1)


def test_controls_are_described_by_the_kind_of_rule_they_break():
    manifest = {"g1": record("g1", "program", 4)}
    manifest["c1"] = record("c1", "control", 4) | {"rules": ["arithmetic"]}
    manifest["c2"] = record("c2", "control", 4) | {"rules": ["arithmetic", "means"]}
    spec = {"g1": (1.0, 1.0, 1.0), "c1": (1.0, 0.2, 0.2), "c2": (1.0, 0.95, 0.95)}
    text = render_generated(generated_report(runs(spec), manifest, n_boot=50))
    assert "controls by the kind of rule broken: arithmetic 1 of 2 succeeded; means 1 of 1 succeeded" in text
    assert "kind of rule" not in render_generated(generated_report(runs({"g1": spec["g1"]}), manifest, n_boot=50))


def test_a_partial_read_says_so_in_the_verdict():
    manifest = {"g1": record("g1", "program", 4), "g2": record("g2", "program", 4)}
    results = [make_result(n, "transformer", s, {10: 1.0, 20: 1.0}) for n in ("g1", "g2") for s in range(3)]
    complete = generated_report(summarize_runs(results), manifest, n_boot=20)
    assert complete["incomplete"] == 0 and "partial" not in complete["verdict"]
    partial = generated_report(summarize_runs(results[:-1]), manifest, n_boot=20)
    assert partial["verdict"].endswith("(partial: 1 tasks have fewer than 3 seeds)")
