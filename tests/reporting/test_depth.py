"""The ACT-steps slope: per seed, bootstrap over seeds, a verdict that can be inconclusive."""

from lengthgen.reporting.depth import depth_report, steps_slope


def run(model, seed, steps_by_length):
    rows = [{"length": n, "mean_steps": s, "exact": 1.0, "token": 1.0} for n, s in steps_by_length.items()]
    return {"seed": seed, "config": {"model": model, "model_options": {"pe": "rope"}}, "results": rows}


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
    assert one["ut+rope"]["verdict"] == "inconclusive (one seed)"
    assert depth_report([run("transformer", 0, {1: None, 3: None})]) == {}  # no ACT, not listed
