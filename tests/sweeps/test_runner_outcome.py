"""What a finished cell prints in a sweep's log (lengthgen.sweeps.runner.cell_outcome)."""

from lengthgen.sweeps.runner import cell_outcome


def test_a_cell_not_fitted_shows_no_number_beyond_the_range():
    line = cell_outcome({"metric": "exact", "score": 0.485, "fitted": False, "in_range": 0.61})
    assert "beyond" not in line and "48.5" not in line and "not fitted" in line and "61.0%" in line


def test_a_fitted_cell_shows_its_accuracy_beyond_the_range():
    assert (
        cell_outcome({"metric": "token", "score": 0.5, "fitted": True, "in_range": 1.0})
        == "token beyond training: 50.0%"
    )
    # older summaries without fit information keep the old line
    assert cell_outcome({"metric": "exact", "score": 0.25}) == "exact beyond training: 25.0%"
