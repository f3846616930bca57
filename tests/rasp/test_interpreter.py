"""The case table through both evaluators; library programs; Python DSL."""

import re
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lengthgen.errors import LengthgenError
from lengthgen.rasp import Builder, Interpreter, compile_file, compile_source
from lengthgen.rasp.check import check_program, compile_for_task, program_task
from lengthgen.rasp.codes import TokenCodes
from lengthgen.rasp.library import library_dir, no_program, programs, task_programs
from lengthgen.rasp.reference import evaluate_one
from lengthgen.tasks import TASKS
from tests.rasp.cases import CASES, GENERAL_CASES

LIBRARY_DIR = library_dir()

PRELUDE_HELPERS = [
    "kqv",
    "shift_by",
    "shift_right",
    "cumsum",
    "mask",
    "maximum",
    "minimum",
    "argmax",
    "argmin",
    "num_prev",
    "has_seen",
    "firsts",
    "index_select",
    "first_true",
    "induct",
    "induct_kqv",
    "induct_prev",
    "mode",
    "binary_mode",
]


def run(program, text):
    codes = program.codes.encode(text.split())
    return Interpreter(program.output).run(codes[None, :])[0], evaluate_one(program.output, list(codes))


@pytest.mark.parametrize("name,source,inputs,expected", CASES, ids=[c[0] for c in CASES])
def test_case_table(name, source, inputs, expected):
    """The evaluators agree with hand-computed values (compiled without the
    RASP-L checks: some cases, such as a look-ahead, exist to pin semantics)."""
    fast, slow = run(compile_source(source, strict=False), inputs)
    assert np.allclose(fast, expected), f"vectorised: {fast}"
    assert np.allclose(slow, expected), f"reference: {slow}"


PRELUDE = (Path(__file__).resolve().parents[2] / "lengthgen/rasp/prelude.rasp").read_text()
EXAMPLES = re.findall(r"^#   (\w+\(.*\)) on ([-\d ]+) -> ([-\d ]+)$", PRELUDE, flags=re.M)


def test_every_helper_has_a_case_and_a_worked_example():
    covered = {c[0] for c in CASES}
    documented = {call.split("(")[0] for call, _, _ in EXAMPLES}
    for helper in PRELUDE_HELPERS:
        assert helper in covered and f"def {helper}(" in PRELUDE
        assert helper in documented, f"{helper} has no worked example in prelude.rasp"


@pytest.mark.parametrize("call,inputs,expected", EXAMPLES, ids=[e[0].split("(")[0] for e in EXAMPLES])
def test_worked_examples_in_the_prelude_are_true(call, inputs, expected):
    fast, slow = run(compile_source(f"output = {call};"), inputs)
    want = [float(v) for v in expected.split()]
    assert np.allclose(fast, want) and np.allclose(slow, want)


@pytest.mark.parametrize("name,inputs,expected", GENERAL_CASES, ids=[c[0] for c in GENERAL_CASES])
def test_general_library_programs(name, inputs, expected):
    fast, slow = run(compile_file(LIBRARY_DIR / f"{name}.rasp"), inputs)
    assert np.allclose(fast, expected) and np.allclose(slow, expected)


TASK_PROGRAMS = task_programs()


@pytest.mark.parametrize("entry", TASK_PROGRAMS, ids=[e.name for e in TASK_PROGRAMS])
def test_shipped_programs_verify_at_every_length(entry):
    task = program_task(entry.path)
    program = compile_for_task(entry.path, task)
    top = min(50, task.max_length() or 50)
    report = check_program(program, task, list(range(task.min_length, top + 1)), n=40, seed=1)
    assert report.passed, report.counterexample


def test_library_covers_required_tasks():
    names = {e.name for e in TASK_PROGRAMS}
    assert {"count", "mode", "copy-unique", "sort", "addition-reversed-hints"} <= names
    assert {"length", "histogram", "frac_prevs", "double_histogram"} <= {e.name for e in programs()}
    none = no_program()
    assert {"parity", "addition", "copy-repeat"} <= set(none) and all(none.values())
    assert not names & set(none), "a benchmark cannot both have and lack a program"
    for entry in TASK_PROGRAMS:
        assert entry.task in TASKS


def test_check_finds_counterexample():
    task = program_task(LIBRARY_DIR / "sort.rasp")
    wrong = compile_source('output = where(tokens == "<sep>", full(0), full("<eos>"));', codes=TokenCodes(task.vocab))
    report = check_program(wrong, task, [3, 4], n=20)
    assert not report.passed and report.rows[0].exact < 1
    c = report.counterexample
    assert c.length == 3 and c.expected[-1] == "<eos>" and c.got and c.got != c.expected


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(0, 9), min_size=1, max_size=12), st.sampled_from([c for c in CASES if "<sep>" not in c[2]]))
def test_vectorised_equals_reference_on_random_inputs(tokens, case):
    program = compile_source(case[1], strict=False)
    codes = np.array([tokens], dtype=float)
    fast = Interpreter(program.output).run(codes)[0]
    slow = evaluate_one(program.output, [float(t) for t in tokens])
    assert np.allclose(fast, slow)


def test_batch_equals_one_by_one():
    program = compile_file(LIBRARY_DIR / "double_histogram.rasp")
    rng = np.random.default_rng(0)
    batch = rng.integers(0, 4, size=(64, 10)).astype(float)
    together = Interpreter(program.output).run(batch)
    for i in range(64):
        assert np.allclose(together[i], evaluate_one(program.output, list(batch[i])))


def test_python_dsl_builds_the_same_graph_as_text():
    text = compile_file(LIBRARY_DIR / "sort.rasp", TokenCodes(TASKS.get("sort")().vocab))
    b = Builder(TokenCodes(TASKS.get("sort")().vocab))
    above = b.select(b.tokens, b.tokens, ">")
    neg_next = b.aggregate(above, 0 - b.tokens, 1, "max")
    py = b.program(b.where(neg_next == 1, b.full("<eos>"), 0 - neg_next))
    assert py.stats == text.stats
    assert py.run(["7", "2", "9", "<sep>", "2"]) == ["<eos>", "7", "<eos>", "2", "7"]


def test_python_dsl_helpers_and_checks():
    b = Builder()
    assert b.program(b.num_prev(b.tokens)).run(["2", "3", "2"]) == ["1", "1", "2"]
    with pytest.raises(LengthgenError, match="RASP-L"):
        b.indices * 2
    with pytest.raises(AttributeError):
        _ = b.no_such_helper


def test_huge_length_fails_early_with_memory_message():
    program = compile_source("output = selector_width(select(tokens, tokens, ==));")
    with pytest.raises(LengthgenError, match="selector cells"):
        Interpreter(program.output).run(np.zeros((1, 20000)))


def test_program_length_counts_distinct_operations():
    once = compile_source("a = tokens + 1; output = a * a;")
    twice = compile_source("output = (tokens + 1) * (tokens + 1);")
    assert once.stats.length == twice.stats.length == 2
    deep = compile_source("output = shift_by(1, shift_by(1, tokens, 0), 0);")
    assert deep.stats.attention_depth == 2 and deep.stats.selects == 1  # the same select serves both


# a batch of token rows of one length (small values, so equalities are common)
EQUAL_LENGTH_ROWS = st.lists(st.lists(st.integers(-3, 4), min_size=1, max_size=14), min_size=1, max_size=5).filter(
    lambda rows: len({len(r) for r in rows}) == 1
)


@settings(max_examples=60, deadline=None)
@given(EQUAL_LENGTH_ROWS)
def test_fast_paths_equal_the_selector_semantics(rows):
    """Running reductions (true selects) and running counts (select(x, x, ==))
    give what the N x N selectors give, in both evaluators."""
    codes = np.array(rows, dtype=float)
    for source in (
        "output = selector_width(select(tokens, tokens, ==));",
        "output = selector_width(select(tokens, tokens, true));",
        "output = aggregate(select(tokens, tokens, true), tokens, 0, max);",
        "output = aggregate(select(tokens, tokens, true), tokens, 0, min);",
        "output = aggregate(select(tokens, tokens, true), tokens == 1);",
        "s = select(tokens, tokens, true); output = aggregate(s, tokens, 0, max) < selector_width(s & s);",
        "output = selector_width(select(tokens, full(1), >=));",
        "output = aggregate(select(tokens, full(2), <), tokens, 9, max);",
        "output = aggregate(select(tokens, full(2), !=), tokens, 9, min);",
        "output = aggregate(select(tokens % 2, full(0), ==), tokens, 9);",
    ):
        program = compile_source(source)
        fast = Interpreter(program.output).run(codes)
        assert Interpreter(program.output).planned("running")
        slow = np.array([evaluate_one(program.output, list(row)) for row in codes])
        assert np.allclose(fast, slow), source


@settings(max_examples=80, deadline=None)
@given(EQUAL_LENGTH_ROWS)
def test_sorted_equality_scans_equal_the_selector_semantics(rows):
    """Reductions over select(k, q, ==) evaluated sorted (forced at every
    length here) give exactly what the reference evaluator gives, including
    keys that match no query, defaults, and values that are not integers
    (which fall back to the selector)."""
    codes = np.array(rows, dtype=float)
    for source in (
        "output = selector_width(select(tokens, tokens % 3, ==));",
        "output = aggregate(select(tokens, tokens + 1, ==), tokens * 7 - 20, -99, max);",
        "output = aggregate(select(tokens % 2, tokens % 3, ==), indices, 5, min);",
        "output = aggregate(select(tokens, tokens - 1, ==), tokens == 2);",
        "output = aggregate(select(tokens, shift_by(1, tokens, 0), ==), tokens, 9);",
        "output = aggregate(select(tokens, tokens % 2, ==), tokens / 4, 0);",
        "output = aggregate(select(tokens / 2, tokens, ==), tokens / 3, 1, max);",
        "s = select(indices % 3, tokens, ==); output = aggregate(s, tokens, 0, max) + selector_width(s);",
        "s = select(tokens, tokens, >=) & select(tokens % 2, indices % 2, ==); output = selector_width(s);",
    ):
        program = compile_source(source, strict=False)  # index arithmetic is fine for the semantics
        interpreter = Interpreter(program.output, scan_min_length=0)
        fast = interpreter.run(codes)
        slow = np.array([evaluate_one(program.output, list(row)) for row in codes])
        assert np.array_equal(fast, slow), source
        assert np.array_equal(fast, Interpreter(program.output, running=False).run(codes)), source


def test_sorted_scans_replace_the_selector_only_from_the_threshold():
    program = compile_source("output = aggregate(select(tokens, tokens + 1, ==), tokens, 0, max);")
    interpreter = Interpreter(program.output, scan_min_length=8)
    assert interpreter.planned("scan") and interpreter.skippable_long and not interpreter.skippable_short
    rng = np.random.default_rng(0)
    for length in (5, 8, 40):
        codes = rng.integers(0, 6, (7, length)).astype(float)
        slow = np.array([evaluate_one(program.output, list(row)) for row in codes])
        assert np.array_equal(interpreter.run(codes), slow)
