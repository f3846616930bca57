import json

import numpy as np
import pytest

from lengthgen.cli.main import main
from lengthgen.reporting.conjecture import (
    ConjectureRow,
    conjecture_report,
    conjecture_rows,
    permutation_p,
    rankdata,
    spearman,
)
from lengthgen.reporting.loading import load_results
from tests.reporting.test_leaderboard import make_result


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
    assert permutation_p(x, x[::-1], n_perm=4000) < 0.01  # perfect anti-correlation, 8! orders
    rng = np.random.default_rng(0)
    noise = rng.permutation(8).tolist()
    assert permutation_p(x, noise, n_perm=2000) > 0.05 or abs(spearman(x, noise)) > 0.7
    assert np.isnan(permutation_p(x, [1.0] * 8))


def test_report_groups_and_none_ranks_longest():
    rows = [
        ConjectureRow("sort", 7, 1, 1, 0.99, 0.0, 2.0),
        ConjectureRow("count", 15, 1, 1, 0.8, 0.0, 1.5),
        ConjectureRow("addition-reversed-hints", 29, 3, 1, 0.4, 0.0, 1.2),
        ConjectureRow("parity", None, None, 1, 0.5, 0.0, 0.0),
        ConjectureRow("copy-repeat", None, None, 1, 0.0, 0.0, 0.0),
    ]
    report = conjecture_report(rows, n_perm=2000)
    assert report["spearman_rho"] == pytest.approx(spearman([7, 15, 29, 30, 30], [2.0, 1.5, 1.2, 0.0, 0.0]))
    assert report["spearman_rho"] < -0.9
    assert report["mean_with_program"] == pytest.approx((2.0 + 1.5 + 1.2) / 3)
    assert report["mean_without_program"] == 0.0 and report["n_without_program"] == 2
    by_acc = conjecture_report(rows, n_perm=100, measure="accuracy")
    assert by_acc["mean_without_program"] == pytest.approx(0.25)


def test_conjecture_from_result_files(tmp_path, capsys):
    runs = [
        make_result("sort", "transformer", 0, {10: 1.0, 15: 1.0, 20: 0.99}),
        make_result("count", "transformer", 0, {10: 1.0, 15: 0.97, 20: 0.5}),
        make_result("parity", "transformer", 0, {10: 1.0, 15: 0.5, 20: 0.5}),
        make_result("parity", "lstm", 0, {10: 1.0, 15: 1.0, 20: 1.0}, pe=None),
        make_result("unknown-bench", "transformer", 0, {10: 1.0, 15: 1.0, 20: 1.0}),
    ]
    for i, r in enumerate(runs):
        (tmp_path / f"{i}.json").write_text(json.dumps(r))
    rows = conjecture_rows(load_results(tmp_path))
    assert [r.benchmark for r in rows] == ["count", "parity", "sort"]
    parity = next(r for r in rows if r.benchmark == "parity")
    # parity holds up to the longest training length (10) and fails at 15
    assert parity.program_length is None and parity.extrapolation == 1.0
    assert main(["conjecture", str(tmp_path), "--permutations", "200"]) == 0
    out = capsys.readouterr().out
    assert "Spearman rho" in out and "none" in out
    assert main(["conjecture", str(tmp_path), "--model", "gpt"]) == 2
