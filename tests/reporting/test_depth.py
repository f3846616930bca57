"""The ACT-steps slope: per seed, bootstrap over seeds, a verdict that can be inconclusive."""

from lengthgen.reporting.depth import depth_report, per_length, steps_slope


def run(model, seed, steps_by_length, fitted=True):
    rows = [{"length": n, "mean_steps": s, "exact": 1.0, "token": 1.0} for n, s in steps_by_length.items()]
    config = {"model": model, "model_options": {"pe": "rope"}}
    return {"seed": seed, "config": config, "results": rows, "fit": {"fitted": fitted}}


def test_slope_of_steps_on_length():
    assert abs(steps_slope([{"length": n, "mean_steps": 1 + 0.5 * n} for n in (0, 2, 4)]) - 0.5) < 1e-9
    assert steps_slope([{"length": 3, "mean_steps": 2.0}]) is None  # one length
    assert steps_slope([{"length": 3, "mean_steps": None}, {"length": 4, "mean_steps": None}]) is None


def test_consistent_growth_is_detected_and_flat_noise_is_not():
    growing = [run("ut", s, {1: 2.0 + 0.1 * s, 3: 3.0 + 0.1 * s, 6: 4.5}) for s in range(3)]
    flat = [run("hyper-ut", s, {1: 2.0, 3: 2.0 + d, 6: 2.0 - d}) for s, d in enumerate((0.3, -0.3, 0.1))]
    report = depth_report(growing + flat, n_boot=500)
    assert report["ut+rope"]["verdict"] == "more steps for longer inputs" and report["ut+rope"]["ci"][0] > 0
    assert report["hyper-ut+rope"]["verdict"].startswith("inconclusive")
    still = [run("ut", s, {1: 2.0, 3: 2.0 + d, 6: 2.0}) for s, d in enumerate((0.01, -0.01, 0.0))]
    assert depth_report(still, n_boot=500)["ut+rope"]["verdict"].startswith("flat")
    one = depth_report([run("ut", 0, {1: 2.0, 3: 3.0})])
    assert one["ut+rope"]["verdict"] == "inconclusive (1 of 1 seeds fitted in range)"
    # the same growth from seeds that never learned the task is no evidence
    unfitted = depth_report([run("ut", s, {1: 2.0, 3: 3.0}, fitted=s == 0) for s in range(3)], n_boot=200)
    assert unfitted["ut+rope"]["verdict"] == "inconclusive (1 of 3 seeds fitted in range)"
    assert unfitted["ut+rope"]["fitted"] == [True, False, False] and unfitted["ut+rope"]["ci"] is None
    assert depth_report([run("transformer", 0, {1: None, 3: None})]) == {}  # no ACT, not listed
    fixed = [run("ut", s, {1: 4.0, 3: 4.0}) for s in range(2)]
    for r in fixed:
        r["config"]["model_options"]["act"] = False
    both = depth_report(fixed + [run("ut", s, {1: 2.0, 3: 3.0}) for s in range(2)], n_boot=200)
    assert list(both) == ["ut+rope"] and [round(v, 9) for v in both["ut+rope"]["slopes"]] == [0.5, 0.5]  # not ACT


def test_per_length_interval_over_seeds_and_held_out_rows():
    runs = [run("ut", s, {1: 2.0, 3: 2.5}) for s in range(3)]
    for r, value in zip(runs, (0.2, 0.4, 0.6)):
        for row in r["results"]:
            row.update(exact=value if row["length"] == 3 else 1.0, n=100, in_train_range=True)
    runs[0]["config"]["task"] = runs[1]["config"]["task"] = runs[2]["config"]["task"] = "c-pvr"
    rows = {r["length"]: r for r in per_length(runs)["c-pvr", "ut+rope"]}
    assert rows[3]["seeds"] == 3 and abs(rows[3]["mean"] - 0.4) < 1e-9 and rows[3]["steps"] == 2.5
    assert rows[3]["fitted"] == 3
    lo, hi = rows[3]["ci"]
    assert lo < 0.2 and hi > 0.6  # t over 3 seeds with sd 0.2: wider than any one seed's spread
    assert rows[1]["ci"][0] < 1.0 == rows[1]["ci"][1]  # all seeds at 100%: Wilson keeps the interval open
    # a fixed-length held-out benchmark: the training-symbol row at the tested length is not averaged in
    held = run("ut", 0, {5: 2.0})
    held["config"]["task"] = "symbol-template"
    held["results"] = [
        {"length": 5, "exact": 1.0, "n": 50, "test": False, "in_train_range": True},
        {"length": 5, "exact": 0.5, "n": 50, "test": True, "in_train_range": True},
    ]
    assert per_length([held])["symbol-template", "ut+rope"][0]["mean"] == 0.5


def test_plot_depth_draws_steps_per_seed_in_the_accuracy_panel_colours(tmp_path, monkeypatch):
    import pytest

    pytest.importorskip("matplotlib")
    from matplotlib.colors import to_rgba

    from lengthgen.reporting import plots
    from tests.reporting.test_leaderboard import make_result

    results = []
    for seed in range(2):
        ut = make_result("c-pvr", "ut", seed, {5: 1.0, 10: 1.0, 15: 0.5})
        for row in ut["results"]:
            row["mean_steps"] = 2.0 + seed + row["length"] / 10
        results += [ut, make_result("c-pvr", "transformer", seed, {5: 1.0, 10: 1.0, 15: 0.8})]
    drawn = []
    monkeypatch.setattr(plots, "_save", lambda plt, fig, path: drawn.append(fig) or path)
    assert plots.plot_depth(results, tmp_path / "depth.png") == tmp_path / "depth.png"
    left, right = drawn[0].axes[:2]
    colour = {line.get_label().split(" (")[0]: line.get_color() for line in left.get_lines()}
    lines = right.get_lines()
    assert len(lines) == 3  # the transformer has no steps: ut's mean and one thin line per seed
    assert {to_rgba(line.get_color()) for line in lines} == {to_rgba(colour["ut+rope"])}
    assert list(lines[0].get_ydata()) == pytest.approx([3.0, 3.5, 4.0])  # mean over the two seeds
    assert list(lines[2].get_ydata()) == pytest.approx([3.5, 4.0, 4.5])
    # nothing reports steps: the panel says so instead of drawing an empty axis
    plain = [r for r in results if r["config"]["model"] == "transformer"]
    plots.plot_depth(plain, tmp_path / "plain.png")
    assert drawn[1].axes[1].texts[0].get_text() == "no model reports steps"


def test_per_length_counts_every_seed_beside_the_fitted_ones():
    runs = [run("ut", s, {4: 2.0 + s}) for s in range(3)]
    none_fitted = [run("ut", s, {4: 2.0}, fitted=False) for s in range(2)]
    for r in runs + none_fitted:
        r["config"]["task"] = "c-pvr"
        r["results"][0].update(n=100, in_train_range=False)
    for r, exact, fitted in zip(runs, (0.9, 0.7, 0.2), (True, True, False)):
        r["results"][0]["exact"] = exact
        r["fit"]["fitted"] = fitted
    (row,) = next(iter(per_length(runs).values()))
    assert abs(row["mean"] - 0.6) < 1e-9  # unfitted seeds counted
    assert abs(row["mean_fitted"] - 0.8) < 1e-9 and row["fitted"] == 2 and row["seeds"] == 3
    lo, hi = row["steps_ci"]
    assert lo < row["steps"] == 3.0 < hi
    assert next(iter(per_length(none_fitted).values()))[0]["mean_fitted"] is None
