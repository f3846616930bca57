"""Aggregation arithmetic on hand-made result files, formats, bad files."""

import csv
import io
import json

import pytest

from lengthgen.cli.main import main
from lengthgen.errors import LengthgenError
from lengthgen.reporting.leaderboard import aggregate, extrapolation_factor, render
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
    std = (sum((m - mean) ** 2 for m in seed_means) / 2) ** 0.5
    assert e.seeds == 3 and e.mean == pytest.approx(mean) and e.std == pytest.approx(std)
    assert e.best == pytest.approx(max(seed_means))
    assert e.length_2x == 20 and e.seeds_99_at_2x == 1
    # seed 0: >= 95% through 20 -> 2.0; seed 1: 15 fails -> 1.0; seed 2: the training max fails -> 0
    assert e.extrapolation_mean == pytest.approx((2.0 + 1.0 + 0.0) / 3) and e.extrapolation_best == 2.0
    lstm = entry(entries, "parity", "lstm")
    assert lstm.mean == 1.0 and lstm.extrapolation_best == 3.0 and lstm.std == 0.0


def test_token_metric(folder):
    e = entry(aggregate(load_results(folder), "token"), "parity", "transformer+rope")
    assert e.mean == pytest.approx(0.6)


def test_newer_rerun_of_a_seed_replaces_older(tmp_path):
    (tmp_path / "a.json").write_text(json.dumps(make_result("count", "ut", 0, {10: 1.0, 20: 0.2})))
    newer = make_result("count", "ut", 0, {10: 1.0, 20: 0.8}, created="2026-02-01T00:00:00")
    (tmp_path / "b.json").write_text(json.dumps(newer))
    e = aggregate(load_results(tmp_path))[0]
    assert e.seeds == 1 and e.mean == pytest.approx(0.8)


def test_extrapolation_is_relative_to_longest_training_length():
    r = make_result("x", "m", 0, {10: 1.0, 12: 1.0, 18: 0.97, 25: 0.2})
    assert extrapolation_factor(r, "exact") == pytest.approx(1.8)


@pytest.mark.parametrize("fmt", ["github", "latex", "csv", "json"])
def test_every_format(folder, fmt):
    text = render(aggregate(load_results(folder)), fmt)
    if fmt == "json":
        data = json.loads(text)
        assert {e["benchmark"] for e in data["entries"]} == {"count", "parity"}
    elif fmt == "csv":
        rows = list(csv.reader(io.StringIO(text.split("\n\n")[0])))
        assert rows[0][0] == "benchmark" and len(rows) == 3
    elif fmt == "latex":
        assert "\\begin{tabular}" in text and "count" in text
    else:
        assert "| count" in text and "extrapolation factor" in text


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
    assert out.startswith("benchmark,") and "broken.json" in err
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
