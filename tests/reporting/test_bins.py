"""Accuracy in length bins over fitted seeds (lengthgen.reporting.bins) and `lengthgen bins`."""

import json

import pytest

from lengthgen.cli.main import main
from lengthgen.errors import LengthgenError
from lengthgen.reporting.bins import bin_rows, load_reference, parse_bins, render_bins
from lengthgen.reporting.runs import summarize_runs
from tests.reporting.test_leaderboard import make_result


def test_parse_bins_accepts_ranges_and_refuses_bad_ones():
    assert parse_bins(["11-20", "21-30"]) == [(11, 20), (21, 30)]
    for bad in (["20-11"], ["x-3"], ["12"], ["11-20", "20-30"], []):
        with pytest.raises(LengthgenError):
            parse_bins(bad)


def runs():
    # seed 0 and 1 fitted (100% and 96% at L = 10), seed 2 not (50%): it must not enter the bins
    return summarize_runs(
        [
            make_result("copy", "transformer", 0, {10: 1.0, 15: 0.9, 20: 0.7, 25: 0.2, 30: 0.0}),
            make_result("copy", "transformer", 1, {10: 0.96, 15: 0.5, 20: 0.3, 25: 0.0, 30: 0.0}),
            make_result("copy", "transformer", 2, {10: 0.5, 15: 1.0, 20: 1.0, 25: 1.0, 30: 1.0}),
        ]
    )


def test_bins_average_lengths_then_fitted_seeds():
    [row] = bin_rows(runs(), [(11, 20), (21, 30)])
    assert (row.seeds, row.fitted, row.perfect) == (3, 2, 1)
    assert row.bins[0] == pytest.approx(((0.9 + 0.7) / 2 + (0.5 + 0.3) / 2) / 2)
    assert row.bins[1] == pytest.approx((0.1 + 0.0) / 2)
    assert row.spread[0] == pytest.approx((0.4, 0.8))


def test_huang_et_al_s_count_keeps_only_seeds_at_100_in_range(capsys, tmp_path):
    [row] = bin_rows(runs(), [(11, 20), (21, 30)], count="perfect")
    assert (row.fitted, row.perfect) == (2, 1)
    assert row.bins == pytest.approx([0.8, 0.1])  # seed 0 alone
    text = render_bins([row], [(11, 20), (21, 30)], "exact", count="perfect")
    assert "exact 11-20 (seeds at 100% at L)" in text and "Huang et al.'s count" in text
    with pytest.raises(LengthgenError, match="--count must be one of fitted, perfect"):
        bin_rows(runs(), [(11, 20)], count="all")
    folder = tmp_path / "arm"
    folder.mkdir()
    for i, r in enumerate(run.result for run in runs()):
        (folder / f"{i}.json").write_text(json.dumps(r))
    assert main(["bins", str(folder), "--bins", "11-20", "--count", "perfect"]) == 0
    assert "| 80.0 " in capsys.readouterr().out


def test_reference_numbers_stand_beside_ours(tmp_path):
    ref = tmp_path / "ref.yaml"
    ref.write_text("copy:\n  transformer+rope: [99.9, 98.7]\n")
    rows = bin_rows(runs(), [(11, 20), (21, 30)], load_reference(ref))
    assert rows[0].reference == [99.9, 98.7]
    text = render_bins(rows, [(11, 20), (21, 30)], "exact")
    assert "99.9" in text and "2 / 3" in text and "60.0 [40.0, 80.0]" in text
    ref.write_text("copy:\n  transformer+rope: [99.9]\n")
    with pytest.raises(LengthgenError, match="1 numbers for 2 bins"):
        bin_rows(runs(), [(11, 20), (21, 30)], load_reference(ref))
    ref.write_text("copy: [1, 2]\n")
    with pytest.raises(LengthgenError, match="mapping of configuration"):
        load_reference(ref)


def test_offset_runs_are_their_own_configuration():
    plain = make_result("copy", "transformer", 0, {10: 1.0, 20: 0.0}, pe="learned")
    shifted = make_result("copy", "transformer", 0, {10: 1.0, 20: 1.0}, pe="learned")
    shifted["config"]["train"] = {"position_offset": "example"}
    rows = bin_rows(summarize_runs([plain, shifted]), [(11, 20)])
    assert [(r.column, r.bins[0]) for r in rows] == [
        ("transformer+learned", 0.0),
        ("transformer+learned[offset=example]", 1.0),
    ]


def test_bins_command_reads_several_folders(tmp_path, capsys):
    for i, seed in enumerate((0, 1)):
        folder = tmp_path / f"arm{i}"
        folder.mkdir()
        result = make_result("copy", "transformer", seed, {10: 1.0, 15: 0.8, 25: 0.4})
        (folder / "r.json").write_text(json.dumps(result))
    assert main(["bins", str(tmp_path / "arm0"), str(tmp_path / "arm1"), "--bins", "11-20", "21-30"]) == 0
    out = capsys.readouterr().out
    assert "2 / 2" in out and "80.0" in out and "40.0" in out
    assert main(["bins", str(tmp_path / "arm0"), "--bins", "30-20"]) == 2
    assert "LOW <= HIGH" in capsys.readouterr().err


def test_bins_leave_out_a_folder_with_no_result_yet(tmp_path, capsys):
    (tmp_path / "done").mkdir()
    (tmp_path / "empty").mkdir()
    (tmp_path / "done" / "r.json").write_text(json.dumps(make_result("copy", "transformer", 0, {10: 1.0, 15: 0.8})))
    assert main(["bins", str(tmp_path / "done"), str(tmp_path / "empty"), "--bins", "11-20"]) == 0
    captured = capsys.readouterr()
    assert "80.0" in captured.out and "left out" in captured.err
    assert main(["bins", str(tmp_path / "empty"), str(tmp_path / "empty"), "--bins", "11-20"]) == 2


def test_two_arms_with_the_same_seeds_keep_their_own_rows(tmp_path, capsys):
    # the same seeds, benchmark and model column, two stop rules: neither folder is a rerun of the other
    for name, beyond, stop in (("early", 0.4, True), ("whole", 1.0, False)):
        (tmp_path / name).mkdir()
        for seed in (0, 1):
            result = make_result("copy", "transformer", seed, {10: 1.0, 15: beyond}, pe="learned")
            result["config"]["train"] = {"stop_when_fitted": stop}
            (tmp_path / name / f"s{seed}.json").write_text(json.dumps(result))
    ref = tmp_path / "ref.yaml"
    ref.write_text("copy:\n  transformer+learned: [99.9]\n")
    args = ["bins", str(tmp_path / "early"), str(tmp_path / "whole"), "--bins", "11-20", "--reference", str(ref)]
    assert main(args) == 0
    lines = [line for line in capsys.readouterr().out.splitlines() if line.startswith("| copy")]
    assert len(lines) == 2
    assert "transformer+learned (early)" in lines[0] and "2 / 2" in lines[0] and "40.0" in lines[0]
    assert "transformer+learned (whole)" in lines[1] and "100.0" in lines[1]
    assert all("99.9" in line for line in lines)
