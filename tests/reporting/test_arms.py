"""Two arms compared pair by pair (lengthgen time-to-fit --compare)."""

import json

import pytest

from lengthgen.cli.main import main
from lengthgen.errors import LengthgenError
from lengthgen.reporting.arms import compare_arms, fisher_exact_two_sided, render_arms
from tests.reporting.test_leaderboard import make_result


@pytest.mark.parametrize(
    "table, p",
    [
        ((3, 1, 1, 3), 17 / 35),  # the lady tasting tea: 0.4857
        ((1, 9, 11, 3), 0.0027595),  # Wikipedia's dieting example: 0.002759
        ((5, 0, 5, 0), 1.0),
        ((6, 0, 0, 6), 2 / 924),  # 2 / C(12, 6)
    ],
)
def test_fisher_exact_two_sided_matches_known_values(table, p):
    assert fisher_exact_two_sided(*table) == pytest.approx(p, abs=1e-7)


def test_fisher_exact_is_symmetric_in_rows_and_columns():
    assert fisher_exact_two_sided(2, 7, 8, 2) == pytest.approx(fisher_exact_two_sided(8, 2, 2, 7))
    assert fisher_exact_two_sided(2, 7, 8, 2) == pytest.approx(fisher_exact_two_sided(2, 8, 7, 2))


def arm_run(bench, seed, packed: bool, in_range: float, beyond: float, cpu: float):
    result = make_result(bench, "transformer", seed, {10: in_range, 20: beyond})
    result["config"]["variant"] = f"pack_examples={packed}"
    result["wall_time_s"] = {"train_cpu": cpu}
    return result


def arms(extra=()):
    runs = [
        arm_run("sort", 0, False, 1.0, 0.90, 100.0),
        arm_run("sort", 0, True, 1.0, 0.80, 50.0),
        arm_run("sort", 1, False, 1.0, 0.70, 120.0),
        arm_run("sort", 1, True, 1.0, 0.70, 40.0),
        arm_run("count", 0, False, 0.5, 0.0, 30.0),  # not fitted: counted in the fit rate, not in the pairs
        arm_run("count", 0, True, 1.0, 0.5, 10.0),
        arm_run("count", 1, True, 1.0, 0.5, 10.0),  # no partner
    ]
    return runs + list(extra)


def test_pairs_fit_rate_extrapolation_and_speed():
    report = compare_arms(arms(), "pack_examples", n_boot=500)
    assert report["values"] == ["False", "True"]
    assert report["runs"] == {"False": 3, "True": 4}
    assert report["fitted"] == {"False": 2, "True": 4}
    assert report["fisher_p"] == pytest.approx(fisher_exact_two_sided(2, 1, 4, 0))
    assert report["pairs"] == 3 and report["pairs_fitted_both"] == 2
    ext = report["extrapolation"]
    assert ext["mean_difference"] == pytest.approx(-0.05)  # (-0.10 + 0.0) / 2
    lo, hi = ext["interval"]
    assert lo == pytest.approx(-0.10) and hi == pytest.approx(0.0) and ext["indistinguishable"]
    assert report["speed"]["median_ratio"] == pytest.approx((2.0 + 3.0) / 2)
    text = render_arms(report)
    assert "Fisher exact p" in text and "2.50x" in text


def test_a_large_extrapolation_gap_is_not_indistinguishable():
    report = compare_arms(
        [
            arm_run("sort", s, packed, 1.0, beyond, 10.0)
            for s in range(3)
            for packed, beyond in ((False, 0.9), (True, 0.5))
        ],
        "pack_examples",
        n_boot=200,
    )
    assert report["extrapolation"]["mean_difference"] == pytest.approx(-0.4)
    assert not report["extrapolation"]["indistinguishable"]


def test_an_option_without_two_values_is_an_error():
    with pytest.raises(LengthgenError, match="exactly two values"):
        compare_arms(arms(), "d_model")
    with pytest.raises(LengthgenError, match="exactly two values"):
        compare_arms([r for r in arms() if r["config"]["variant"].endswith("True")], "pack_examples")


def test_the_command_prints_the_three_tests(tmp_path, capsys):
    for i, r in enumerate(arms()):
        (tmp_path / f"r{i}.json").write_text(json.dumps(r))
    assert main(["time-to-fit", str(tmp_path), "--compare", "pack_examples"]) == 0
    out = capsys.readouterr().out
    assert "Fit rate (pack_examples): False 2/3, True 4/4" in out
    assert "Time to fit: median CPU-s False / True = 2.50x over 2 pairs" in out


def write_folder(folder, runs):
    folder.mkdir()
    for i, r in enumerate(runs):
        (folder / f"r{i}.json").write_text(json.dumps(r))


def test_arms_in_two_folders_pair_across_them_and_a_copied_cell_counts_once(tmp_path, capsys):
    runs = arms()
    for i, r in enumerate(runs):
        r["fingerprint"] = f"cell{i}"
    write_folder(tmp_path / "off", [r for r in runs if r["config"]["variant"].endswith("False")])
    write_folder(tmp_path / "on", [r for r in runs if r["config"]["variant"].endswith("True")])
    write_folder(tmp_path / "copy", [r for r in runs if r["config"]["variant"].endswith("True")][:1])
    folders = [str(tmp_path / name) for name in ("off", "on", "copy")]
    assert main(["time-to-fit", *folders, "--compare", "pack_examples"]) == 0
    assert "Fit rate (pack_examples): False 2/3, True 4/4" in capsys.readouterr().out


def test_two_different_cells_for_one_value_and_seed_are_an_error(tmp_path, capsys):
    # two arms sharing a value of the option would otherwise be paired with the other value at random
    runs = arms()
    for i, r in enumerate(runs):
        r["fingerprint"] = f"cell{i}"
    rival = {**runs[1], "fingerprint": "another cell"}
    write_folder(tmp_path / "a", runs)
    write_folder(tmp_path / "b", [rival])
    assert main(["time-to-fit", str(tmp_path / "a"), str(tmp_path / "b"), "--compare", "pack_examples"]) == 2
    err = capsys.readouterr().err
    assert "two runs of sort seed 0 with pack_examples=True" in err and "compare two arms at a time" in err
