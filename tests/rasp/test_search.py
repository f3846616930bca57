"""`lengthgen rasp search`: finds short programs that verify, and says
when none exists up to a length (relative to its grammar)."""

from __future__ import annotations

import numpy as np
import pytest
import yaml

from lengthgen.cli.main import main
from lengthgen.errors import LengthgenError
from lengthgen.rasp.candidates import clock
from lengthgen.rasp.check import check_program
from lengthgen.rasp.codes import TokenCodes
from lengthgen.rasp.compiler import compile_source
from lengthgen.rasp.search import Searcher, search
from lengthgen.tasks import make_task


def test_finds_a_verified_sort_program_no_longer_than_the_library():
    task = make_task("sort", alphabet=16)
    result = search(task, max_ops=4, time_limit=120)
    assert result.found and result.length <= 2  # min of the greater tokens (a sign flip of max is free)
    program = compile_source(result.program, codes=TokenCodes(task.vocab))
    assert program.normal.length == result.length  # the search's cost is the normal-form length
    assert check_program(program, task, list(range(1, 17)), 200, seed=7).passed
    assert result.bound == result.length - 1  # every shorter length was searched without pruning


def test_a_too_small_budget_gives_a_lower_bound_not_a_program():
    result = search(make_task("sort", alphabet=16), max_ops=1, time_limit=120)
    assert not result.found and result.bound == 1
    assert "no program of length <= 1" in result.summary()
    # a bound reached through merges that could hide a shorter program says so
    assert ("not proven" in result.summary()) == (not result.proven)


def test_a_stopped_search_claims_no_bound():
    searcher = Searcher(make_task("sort", alphabet=16), 4, list(range(1, 6)), 8)
    searcher.beam = 2000
    result = searcher.run(clock() - 1)  # the deadline has passed
    assert not result.found and result.bound == 0 and "no lower bound" in result.summary()


def test_interrupt_stops_cleanly(monkeypatch):
    searcher = Searcher(make_task("sort", alphabet=16), 4, list(range(1, 6)), 8)
    searcher.beam = 2000

    def interrupted(*args):
        raise KeyboardInterrupt

    monkeypatch.setattr(searcher, "_grow", interrupted)
    result = searcher.run(clock() + 60)
    assert not result.found and result.bound == 0


def test_cli_search_saves_and_score_shows_it(tmp_path, capsys):
    out = tmp_path / "SEARCH.yaml"
    assert main(["rasp", "search", "sort", "--max-ops", "4", "--time-limit", "120", "--save", str(out)]) == 0
    record = yaml.safe_load(out.read_text())["sort"]
    assert record["found"] and record["length"] <= 3 and record["depth"] == 1
    # what the result is relative to, and whether anything could have hidden a shorter program
    assert record["grammar"].startswith("search-") and record["beam"] == 2000
    assert record["sample"] == {"lengths": "1-10", "per_length": 24, "seed": 0}
    assert record["minimal"] == (
        record["lower_bound"] == record["length"] - 1 and not record["unsafe_merges"] and not record["truncated"]
    )
    assert "found a program of length" in capsys.readouterr().out


@pytest.mark.parametrize("flags", [["--max-ops", "0"], ["--max-ops", "13"], ["--time-limit", "0"], ["--beam", "0"]])
def test_bad_search_flags(flags, capsys):
    assert main(["rasp", "search", "sort", *flags]) == 2
    assert "must be in" in capsys.readouterr().err


def test_unknown_benchmark_is_a_clear_error(capsys):
    assert main(["rasp", "search", "sortt"]) == 2
    assert "sort" in capsys.readouterr().err


def test_search_arguments_are_checked():
    with pytest.raises(LengthgenError):
        search(make_task("sort"), max_ops=0)


@pytest.mark.parametrize(
    "content",
    [
        "- a list\n",
        "sort: 3\n",
        "a: [unclosed\n",
        "programs:\n  sort: sort.rasp\nno_program:\n  parity: why\n",  # a copy of MANIFEST.yaml
        "model:\n  name: transformer\ntraining:\n  steps: 10\n",  # a run config
    ],
)
def test_save_refuses_a_file_that_is_not_search_results(tmp_path, capsys, content):
    out = tmp_path / "SEARCH.yaml"
    out.write_text(content)
    assert main(["rasp", "search", "sort", "--max-ops", "1", "--save", str(out)]) == 2
    err = capsys.readouterr().err
    assert str(out) in err and "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert out.read_text() == content  # nothing already written is lost


def test_save_into_a_missing_folder_fails_before_searching(tmp_path, capsys):
    assert main(["rasp", "search", "sort", "--save", str(tmp_path / "no" / "S.yaml")]) == 2
    assert "cannot write" in capsys.readouterr().err


def test_a_merge_that_could_hide_a_shorter_program_is_counted():
    from lengthgen.rasp.search import Seq

    searcher = Searcher(make_task("sort", alphabet=16), 4, list(range(1, 4)), 4)
    per = [np.zeros((4, 3))]
    cheap = Seq("a", "token", per, frozenset({"op1"}))
    other = Seq("b", "token", per, frozenset({"op2", "op3"}))  # same values, more ops, but not a superset
    superset = Seq("c", "token", per, frozenset({"op1", "op4"}))
    assert searcher.add_seq(cheap) is cheap
    assert searcher.add_seq(superset) is None and searcher.unsafe_merges == 0  # every program with c can use a instead
    assert searcher.add_seq(other) is None and searcher.unsafe_merges == 1  # a program sharing op2, op3 might lose
