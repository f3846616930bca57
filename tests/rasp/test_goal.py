"""Goal-directed synthesis (lengthgen.rasp.goal): the required selector
pattern is exact, and it finds what the bottom-up beam loses."""

from __future__ import annotations

import math

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from lengthgen.rasp.check import check_program
from lengthgen.rasp.codes import TokenCodes
from lengthgen.rasp.compiler import compile_source
from lengthgen.rasp.goal import GoalRows, GoalSearch, cell_of, query_cells
from lengthgen.rasp.interpreter import COMPARE
from lengthgen.rasp.search import Searcher, SearchResult
from lengthgen.tasks import make_task

values = st.integers(-3, 6).map(float)


@settings(max_examples=200, deadline=None)
@given(keys=st.lists(values, min_size=1, max_size=7), visible=st.integers(1, 7), x=st.floats(-5, 8, width=32))
def test_a_query_selects_what_its_cells_representative_selects(keys, visible, x):
    """The whole construction rests on this: which keys a query value selects
    depends only on its cell among the row's key values."""
    row = np.array(keys)
    valid = np.arange(len(row)) < visible
    ordered, reps = query_cells(row[None, :], valid[None, :])
    for query in (x, *row[valid]):  # between values and on them
        rep = reps[0, cell_of(ordered[0], np.array([query]))[0]]
        assert not np.isnan(rep)
        for pred, compare in COMPARE.items():
            assert (compare(row, query) & valid).tolist() == (compare(row, rep) & valid).tolist(), (pred, query, rep)


def test_goal_rows_are_the_outputs_their_token_does_not_decide():
    searcher = Searcher(make_task("mode", alphabet=4), 6, [5, 6], 8)
    rows = GoalRows(searcher)
    codes = TokenCodes(make_task("mode", alphabet=4).vocab)
    sep = codes.code("<sep>")
    # the answer follows <sep>; the <eos> after it is decided by its (number) token
    tokens = np.concatenate([t[m] for t, m in zip(searcher.tokens_per, searcher.masks)])
    assert rows.n == int((tokens == sep).sum()) > 0
    assert all(searcher.tokens_per[i][b, p] == sep for i, b, p in zip(rows.i, rows.b, rows.p))


def _mode_searcher(beam: int) -> Searcher:
    searcher = Searcher(make_task("mode", alphabet=4), 6, list(range(1, 9)), 12)
    searcher.beam = beam
    searcher.start()
    for budget in (1, 2):
        searcher._grow(budget, math.inf)
    return searcher


def test_mode_is_found_from_counts_alone():
    """With only the length-2 outputs grown (counts), the goal stage builds
    the running maximum of counts the bottom-up beam drops, selects the
    positions whose count reaches it and reads their token."""
    searcher = _mode_searcher(beam=2000)
    assert not searcher._try_readouts(2, math.inf, SearchResult("mode", 6, False))  # nothing bottom-up yet
    found = searcher._goal(GoalSearch(searcher), 6, math.inf, SearchResult("mode", 6, False))
    assert found is not None
    length, source = found
    task = make_task("mode", alphabet=4)
    program = compile_source(source, codes=TokenCodes(task.vocab))
    assert program.normal.length == length == 6  # the search's cost is the normal-form length
    assert "aggregate(select(tokens, tokens, true), selector_width(select(tokens, tokens, ==)), 0, max)" in source
    assert check_program(program, task, list(range(1, 41)), 100, seed=3).passed


def test_a_tighter_limit_finds_nothing_longer():
    searcher = _mode_searcher(beam=2000)
    assert searcher._goal(GoalSearch(searcher), 5, math.inf, SearchResult("mode", 5, False)) is None


def test_the_search_says_how_it_found_a_program():
    task = make_task("mode", alphabet=4)
    searcher = Searcher(task, 6, list(range(1, 9)), 12)
    searcher.beam = 2000
    result = searcher.run(-math.inf + 1)  # no time at all: nothing searched, nothing claimed
    assert not result.found and result.found_by is None
    result = SearchResult("mode", 6, True, length=6, program="x", found_by="goal", shorter_unsearched=True)
    assert "goal-directed" in result.summary() and "not all searched" in result.summary()
    record = result.as_dict()
    assert record["found_by"] == "goal" and record["minimal"] is False and record["shorter_unsearched"] is True
