"""The per-seed table: every seed's value at every length, from hand-made result files."""

import csv
import io
import json

import pytest

from lengthgen.cli.main import main
from lengthgen.reporting.loading import load_results
from lengthgen.reporting.per_seed import per_seed_report
from tests.reporting.test_leaderboard import make_result


@pytest.fixture
def folder(tmp_path):
    results = [
        make_result("count", "transformer", 1, {5: 1.0, 10: 0.97, 20: 0.25}),
        make_result("count", "transformer", 0, {5: 1.0, 10: 0.5, 15: 0.125}),
        make_result("parity", "transformer", 0, {10: 1.0, 20: 0.5}),
    ]
    results[0]["wall_time_s"] = {"train_cpu": 150.0}
    for i, r in enumerate(results):
        (tmp_path / f"r{i}.json").write_text(json.dumps(r))
    return tmp_path


def test_a_row_per_seed_and_a_column_per_length(folder):
    text = per_seed_report(load_results(folder), "exact")
    count, parity = text.split("\n\n### ")
    assert count.startswith("### count / transformer+rope (exact %)") and parity.startswith("parity /")
    lines = count.splitlines()
    header = [c.strip() for c in lines[2].strip("|").split("|")]
    assert header == ["seed", "fitted", "5", "10 = L", "15", "20", "CPU-min"]
    seed0, seed1 = ([c.strip() for c in line.strip("|").split("|")] for line in lines[4:6])
    # seeds sorted; a length a seed was not evaluated at is "-", not 0
    assert seed0 == ["0", "no", "100.0", "50.0", "12.5", "-", "-"]
    assert seed1 == ["1", "yes", "100.0", "97.0", "-", "25.0", "2.5"]


def test_token_metric_and_long_forms(folder):
    assert "(token %)" in per_seed_report(load_results(folder), "token")
    records = json.loads(per_seed_report(load_results(folder), "exact", "json"))
    assert len(records) == 3 + 3 + 2
    first = next(r for r in records if r["seed"] == 1 and r["length"] == 20)
    assert first["value"] == 0.25 and first["fitted"] is True and first["train_cpu_minutes"] == 2.5
    rows = list(csv.DictReader(io.StringIO(per_seed_report(load_results(folder), "exact", "csv"))))
    assert len(rows) == 8 and {r["benchmark"] for r in rows} == {"count", "parity"}


def test_cli(folder, capsys):
    assert main(["leaderboard", str(folder), "--per-seed", "--metric", "exact"]) == 0
    assert "| 1      | yes" in capsys.readouterr().out
    assert main(["leaderboard", str(folder), "--per-seed", "--format", "html"]) == 2
