"""Aggregation arithmetic on hand-made result files, formats, bad files."""

import csv
import io
import json
from pathlib import Path

import pytest

from lengthgen.cli.main import main
from lengthgen.errors import LengthgenError
from lengthgen.evaluation.outcomes import extrapolation
from lengthgen.reporting.leaderboard import aggregate, render
from lengthgen.reporting.loading import load_results


def make_result(bench, model, seed, accs, pe="rope", train="1-10", created="2026-01-01T00:00:00"):
    """``accs``: {length: exact}; lengths <= 10 are in the training range."""
    rows = [
        {
            "length": n,
            "in_train_range": n <= 10,
            "test": n > 10,
            "exact": a,
            "token": min(1.0, a + 0.1),
            "exact_ci": [0, 1],
            "token_ci": [0, 1],
            "n": 100,
            "mean_steps": None,
        }
        for n, a in sorted(accs.items())
    ]
    return {
        "schema": 1,
        "name": f"{bench}-{model}-{seed}",
        "created": created,
        "seed": seed,
        "config": {
            "task": bench,
            "benchmark": bench,
            "model": model,
            "model_options": {"pe": pe},
            "train_lengths": train,
        },
        "task": {"name": bench, "version": 1},
        "model": {"name": model},
        "results": rows,
    }


@pytest.fixture
def folder(tmp_path):
    results = [
        make_result("count", "transformer", 0, {10: 1.0, 15: 1.0, 20: 0.995, 30: 0.5}),
        make_result("count", "transformer", 1, {10: 1.0, 15: 0.9, 20: 0.5, 30: 0.1}),
        make_result("count", "transformer", 2, {10: 0.9, 15: 0.6, 20: 0.3, 30: 0.0}),
        make_result("parity", "transformer", 0, {10: 1.0, 15: 0.5, 20: 0.5, 30: 0.5}),
        make_result("parity", "lstm", 0, {10: 1.0, 15: 1.0, 20: 1.0, 30: 1.0}, pe=None),
    ]
    for i, r in enumerate(results):
        (tmp_path / f"r{i}.json").write_text(json.dumps(r))
    return tmp_path


def entry(entries, bench, model):
    return next(e for e in entries if e.benchmark == bench and e.model == model)


def test_aggregation_arithmetic(folder):
    entries = aggregate(load_results(folder), "exact")
    e = entry(entries, "count", "transformer+rope")
    seed_means = [(1.0 + 0.995 + 0.5) / 3, (0.9 + 0.5 + 0.1) / 3, (0.6 + 0.3 + 0.0) / 3]
    mean = sum(seed_means) / 3
    sd = (sum((m - mean) ** 2 for m in seed_means) / 2) ** 0.5
    half = 4.303 * sd / 3**0.5  # Student t, 2 degrees of freedom
    assert e.seeds == 3 and e.beyond_mean == pytest.approx(mean)
    assert e.beyond_lo == pytest.approx(max(0.0, mean - half)) and e.beyond_hi == pytest.approx(min(1.0, mean + half))
    assert e.best_seed == pytest.approx(max(seed_means))
    # fitted: >= 95% at the longest training length (10): seeds 0 and 1
    assert e.fitted == 2 and e.in_range == pytest.approx((1.0 + 1.0 + 0.9) / 3)
    assert e.length_2x == 20 and e.solved_2x == 1
    # seed 0 solves (>= 90%) 15 and 20, fails 30; seed 1 solves 15 (exactly 90%), fails 20; seed 2 is not fitted
    assert e.extrapolation == ["2.00", "1.50", "not fitted"]
    lstm = entry(entries, "parity", "lstm")
    assert lstm.beyond_mean == 1.0 and lstm.extrapolation == ["≥ 3.00"]  # censored at the longest length tested


def test_one_seed_gets_a_binomial_interval_not_plus_minus(folder):
    entries = aggregate(load_results(folder))
    text = render(entries, "github")
    assert "±" not in text
    lstm = entry(entries, "parity", "lstm")
    assert lstm.seeds == 1 and 0.98 < lstm.beyond_lo < 0.99 and lstm.beyond_hi == pytest.approx(1.0)  # Wilson, 300


def test_never_learned_and_collapsed_are_told_apart(tmp_path):
    never = make_result("count", "transformer", 0, {10: 0.0, 15: 0.0, 20: 0.0})
    collapsed = make_result("count", "lstm", 0, {10: 1.0, 15: 0.0, 20: 0.0}, pe=None)
    for i, r in enumerate((never, collapsed)):
        (tmp_path / f"{i}.json").write_text(json.dumps(r))
    entries = aggregate(load_results(tmp_path))
    assert entry(entries, "count", "transformer+rope").extrapolation == ["not fitted"]
    assert entry(entries, "count", "lstm").extrapolation == ["1.00"]
    assert entry(entries, "count", "transformer+rope").fitted == 0 and entry(entries, "count", "lstm").fitted == 1


def test_declared_metric_per_benchmark_and_override(folder):
    r = make_result("bucket-sort", "transformer", 0, {10: 0.5, 15: 0.5})
    r["metric"] = "token"
    (folder / "token.json").write_text(json.dumps(r))
    entries = aggregate(load_results(folder))
    bucket = entry(entries, "bucket-sort", "transformer+rope")
    assert bucket.metric == "token" and bucket.in_range == pytest.approx(0.6) and bucket.other_metric == "exact"
    assert entry(entries, "count", "transformer+rope").metric == "exact"
    assert entry(aggregate(load_results(folder), "token"), "count", "transformer+rope").metric == "token"
    assert entry(aggregate(load_results(folder), "token"), "parity", "transformer+rope").beyond_mean == pytest.approx(
        0.6
    )


def test_groups_and_baselines(folder):
    entries = aggregate(load_results(folder))
    parity = entry(entries, "parity", "transformer+rope")
    count = entry(entries, "count", "transformer+rope")
    assert parity.group == "RASP-L, no program" and count.group == "RASP-L, with a program"
    assert count.program_length is not None and parity.program_length is None
    assert [e.group for e in entries].index("RASP-L, with a program") < [e.group for e in entries].index(
        "RASP-L, no program"
    )
    # baselines recomputed for result files that do not carry them
    assert parity.chance == pytest.approx(0.5) and abs(parity.baseline - 0.5) < 0.1 and not parity.shortcut


def test_newer_rerun_of_a_seed_replaces_older(tmp_path):
    (tmp_path / "a.json").write_text(json.dumps(make_result("count", "ut", 0, {10: 1.0, 20: 0.2})))
    newer = make_result("count", "ut", 0, {10: 1.0, 20: 0.8}, created="2026-02-01T00:00:00")
    (tmp_path / "b.json").write_text(json.dumps(newer))
    e = aggregate(load_results(tmp_path))[0]
    assert e.seeds == 1 and e.beyond_mean == pytest.approx(0.8)


def test_extrapolation_is_relative_to_longest_training_length():
    r = make_result("x", "m", 0, {10: 1.0, 12: 1.0, 18: 0.97, 25: 0.2})
    assert extrapolation(r["results"], 10, "exact") == {"length": 18, "factor": 1.8, "censored": False}


@pytest.mark.parametrize("fmt", ["github", "latex", "csv", "json"])
def test_every_format(folder, fmt):
    text = render(aggregate(load_results(folder)), fmt)
    if fmt == "json":
        data = json.loads(text)
        assert {e["benchmark"] for e in data["entries"]} == {"count", "parity"}
        first = data["entries"][0]
        for key in (
            "in_range",
            "fitted",
            "chance",
            "baseline",
            "beyond_lo",
            "solved_2x",
            "extrapolation",
            "parameters",
        ):
            assert key in first
        # numbers, not display strings: a seed's extrapolation factor, or None when not fitted
        for e in data["entries"]:
            for s in e["extrapolation"]:
                assert s["factor"] is None or isinstance(s["factor"], float)
                assert s["factor"] is None or s["fitted"]
    elif fmt == "csv":
        rows = list(csv.DictReader(io.StringIO(text)))
        assert len(rows) == 3 and list(rows[0])[:2] == ["group", "benchmark"]
        for column in ("in_range", "fitted", "baseline", "chance", "beyond_lo", "extrapolation_min", "cpu_seconds"):
            assert column in rows[0]
        for row in rows:  # every number parses; no "87.5 [85.0, 89.6] (1)", no "⚠"
            for column in ("beyond_mean", "beyond_lo", "beyond_hi", "seeds", "fitted"):
                float(row[column])
            assert 0.0 <= float(row["beyond_lo"]) <= float(row["beyond_mean"]) <= float(row["beyond_hi"]) <= 1.0
            assert "⚠" not in ",".join(row.values())
    elif fmt == "latex":
        assert "\\begin{tabular}" in text and "count" in text and "fitted" in text
    else:
        assert "| count" in text and "in-range" in text and text.startswith("Columns:")


BAD_FILES = {
    "truncated.json": '{"config": {"task": "count"',
    "not-object.json": "[1, 2, 3]",
    "no-results.json": json.dumps(
        {"config": {"task": "x", "model": "m"}, "seed": 0, "model": {}, "task": {}, "results": []}
    ),
    "bad-row.json": json.dumps(make_result("count", "m", 0, {10: 1.0}) | {"results": [{"length": "ten"}]}),
    "out-of-range.json": json.dumps(make_result("count", "m", 0, {10: 1.7})),
    "bool-seed.json": json.dumps(make_result("count", "m", 0, {10: 1.0}) | {"seed": True}),
    "binary.json": "\udcff",
}


def test_bad_files_are_skipped_with_a_warning(folder):
    for name, text in BAD_FILES.items():
        (folder / name).write_bytes(text.encode("utf-8", "surrogateescape"))
    warnings = []
    results = load_results(folder, warn=warnings.append)
    assert len(results) == 5 and len(warnings) == len(BAD_FILES)
    assert all("skipping" in w for w in warnings)
    assert {w.split(":")[0].split("/")[-1] for w in warnings} == set(BAD_FILES)


def test_no_results_is_an_error(tmp_path):
    with pytest.raises(LengthgenError, match="no usable result"):
        load_results(tmp_path)
    with pytest.raises(LengthgenError, match="no such folder"):
        load_results(tmp_path / "missing")


def test_leaderboard_cli(folder, capsys, tmp_path):
    (folder / "broken.json").write_text("{")
    assert main(["leaderboard", str(folder), "--format", "csv", "--metric", "token"]) == 0
    out, err = capsys.readouterr()
    assert out.startswith("group,benchmark,") and "broken.json" in err
    target = tmp_path / "lb.md"
    assert main(["leaderboard", str(folder), "--output", str(target)]) == 0
    assert "count" in target.read_text()
    assert main(["leaderboard", str(folder), "--format", "html"]) == 2


def test_plot_cli(folder, tmp_path, capsys):
    pytest.importorskip("matplotlib")
    out = tmp_path / "plots"
    assert main(["plot", str(folder), "--out", str(out), "--format", "png,svg"]) == 0
    names = {p.name for p in out.iterdir()}
    assert {"count.png", "parity.svg", "all.png"} <= names
    assert (out / "count.png").read_bytes()[:4] == b"\x89PNG"


def test_plot_draws_diagnostics(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    r = make_result("count", "transformer", 0, {10: 1.0, 15: 0.9})
    for row in r["results"]:
        row.update({"rankme": 20.0, "lidar": 10.0})
    layer = {"stable_rank": 1.5, "rank": 3, "norm": 0.1}
    r["diagnostics"] = {"rank_curve": [{"step": s, "layers": {"blocks.0.mlp.0.weight": layer}} for s in (10, 20)]}
    (tmp_path / "r.json").write_text(json.dumps(r))
    out = tmp_path / "plots"
    assert main(["plot", str(tmp_path), "--out", str(out)]) == 0
    names = {p.name for p in out.iterdir()}
    assert {"rank-count-transformer-0.png", "representation-count-transformer-0.png"} <= names


def test_plot_names_from_files_cannot_leave_the_output_folder(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    evil = make_result("count", "transformer", 0, {10: 1.0, 15: 0.9})
    evil["config"]["benchmark"] = "../../escaped"
    evil["name"] = "../../escaped-run"
    evil["results"][0].update({"rankme": 2.0, "lidar": 1.0})
    src = tmp_path / "src"
    src.mkdir()
    (src / "r.json").write_text(json.dumps(evil))
    out = tmp_path / "a" / "b" / "plots"
    assert main(["plot", str(src), "--out", str(out)]) == 0
    printed = capsys.readouterr().out.split()
    assert printed and all(Path(p).resolve().parent == out.resolve() for p in printed)
    assert not list(tmp_path.glob("escaped*")) and not list((tmp_path / "a").glob("escaped*"))


def test_plot_panels_carry_chance_baseline_and_fit(folder):
    from lengthgen.reporting.plots import panels

    data = panels(load_results(folder))
    parity = data["parity"]
    assert parity.train_max == 10 and parity.chance[15] == pytest.approx(0.5)
    assert parity.fitted == {"transformer+rope": (1, 1), "lstm": (1, 1)}
    assert data["count"].fitted["transformer+rope"] == (2, 3)
    # in-range lengths are drawn too
    assert 10 in data["count"].curves["transformer+rope"].values


def test_plot_legends_carry_compute(tmp_path):
    from lengthgen.reporting.plots import _legend_label, panels

    results = [make_result("count", "transformer", s, {10: 1.0, 20: 0.5}) for s in range(3)]
    for r, cpu in zip(results, (10.0, 20.0, None)):
        if cpu is not None:
            r["wall_time_s"] = {"train": 5.0, "train_cpu": cpu}
    panel = panels(results)["count"]
    # the mean over the seeds that recorded CPU time; a seed without it is left out, not counted as 0
    assert _legend_label(panel, "transformer+rope") == "transformer+rope (fitted 3/3, 15 CPU-s/seed)"
    for r in results:
        r.pop("wall_time_s", None)
    assert _legend_label(panels(results)["count"], "transformer+rope") == "transformer+rope (fitted 3/3)"


def test_old_task_versions_get_their_own_baselines(tmp_path):
    """A same-different v1 result (label = any repeat) is compared with v1's
    baselines, not with those of today's generator."""
    old = make_result("same-different", "transformer", 0, {6: 0.6, 8: 0.55}, train="2-6")
    old["task"] = {"name": "same-different", "version": 1, "params": {"num_symbols": 200, "heldout": 0.25}}
    (tmp_path / "r.json").write_text(json.dumps(old))
    (e,) = aggregate(load_results(tmp_path))
    assert e.baseline == pytest.approx(1.0) and e.shortcut
    old["task"]["version"] = 99  # unknown: no baseline rather than a wrong one
    (tmp_path / "r.json").write_text(json.dumps(old))
    (e,) = aggregate(load_results(tmp_path))
    assert e.baseline is None


def test_all_zero_seeds_keep_a_binomial_upper_bound(tmp_path):
    for seed in range(3):
        r = make_result("count", "transformer", seed, {10: 1.0, 15: 0.0, 20: 0.0})
        (tmp_path / f"{seed}.json").write_text(json.dumps(r))
    (e,) = aggregate(load_results(tmp_path))
    assert e.beyond_mean == 0.0 and e.beyond_lo == 0.0 and 0.0 < e.beyond_hi < 0.01  # 600 examples


def test_a_fixed_step_ut_is_its_own_column():
    from lengthgen.reporting.loading import column_of

    act = {"config": {"model": "ut", "model_options": {"pe": "rope"}}}
    fixed = {"config": {"model": "ut", "model_options": {"pe": "rope", "act": False}, "variant": "d_model=32"}}
    assert column_of(act) == "ut+rope"
    assert column_of(fixed) == "ut+rope[act=false][d_model=32]"
    late = {"config": {"model": "ut", "model_options": {"pe": "rope", "halting_start": 2000}}}
    assert column_of(late) == "ut+rope[halting_start=2000]"


def test_best_seed_is_over_fitted_seeds(tmp_path):
    results = [
        make_result("copy", "transformer", 0, {10: 1.0, 20: 0.4}),
        make_result("copy", "transformer", 1, {10: 0.5, 20: 0.9}),  # not fitted, best beyond: not shown as best
        make_result("sort", "transformer", 0, {10: 0.2, 20: 0.7}),  # no fitted seed at all
    ]
    for i, r in enumerate(results):
        (tmp_path / f"r{i}.json").write_text(json.dumps(r))
    entries = aggregate(load_results(tmp_path), "exact")
    assert entry(entries, "copy", "transformer+rope").best_seed == pytest.approx(0.4)
    assert entry(entries, "sort", "transformer+rope").best_seed is None
