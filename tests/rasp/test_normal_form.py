"""Program length on the normal form: equivalent rewrites score the same,
different programs do not."""

from __future__ import annotations

from pathlib import Path

import pytest

from lengthgen.rasp.check import compile_for_task, program_task
from lengthgen.rasp.codes import TokenCodes
from lengthgen.rasp.compiler import compile_source
from lengthgen.rasp.library import task_programs
from lengthgen.rasp.normal import normal_form
from lengthgen.tasks import make_task

SORT = (Path(__file__).parents[2] / "rasp" / "sort.rasp").read_text()
EVEN_PAIRS = (Path(__file__).parents[2] / "rasp" / "even-pairs.rasp").read_text()

# (name, task for the vocabulary, programs that must all get one length)
EQUIVALENT = [
    (
        "operand order and constants",
        "count",
        [
            "output = aggregate(select(tokens, tokens, true), tokens == 1);",
            "output = aggregate(select(tokens, tokens, true), 1 == tokens);",
            "output = aggregate(select(tokens, tokens, true), tokens == full(1));",
            "output = aggregate(select(tokens, tokens, true), map(tokens, lambda x: x == 1));",
            "output = aggregate(select(indices, tokens, true), seq_map(full(1), tokens, lambda a, b: a == b));",
        ],
    ),
    (
        "sort: where/full folded into one lambda",
        "sort",
        [
            SORT,
            "above = select(tokens, tokens, >);\n"
            'output = map(aggregate(above, 0 - tokens, 1, max), lambda n: "<eos>" if n == 1 else 0 - n);',
            "neg = map(tokens, lambda x: -x);\n"
            "n = aggregate(select(tokens, tokens, >), neg, 1, max);\n"
            'output = where(n != 1, 0 - n, full("<eos>"));',
        ],
    ),
    (
        "even-pairs: nested where versus one seq_map",
        "even-pairs",
        [
            EVEN_PAIRS,
            "first = aggregate(select(indices, full(0), ==), tokens);\n"
            'last = shift_by(1, tokens, "<pad>");\n'
            'output = where(tokens == "<sep>", seq_map(first, last, lambda a, b: "true" if a == b else "false"), '
            'full("<eos>"));',
        ],
    ),
    (
        "commutative sequence operands, merged duplicates",
        "count",
        [
            "a = aggregate(select(indices, full(0), ==), tokens); b = aggregate(select(indices, full(1), ==), tokens);"
            " output = aggregate(select(a + b, tokens, ==), tokens, 0, max);",
            "a = aggregate(select(indices, full(0), ==), tokens); b = aggregate(select(indices, full(1), ==), tokens);"
            " s = b + a; t = a + b; output = aggregate(select(s, tokens, ==) & select(t, tokens, ==), tokens, 0, max);",
        ],
    ),
    (
        "negated selector",
        "count",
        [
            "output = selector_width(select(tokens, tokens, !=));",
            "output = selector_width(!select(tokens, tokens, ==));",
        ],
    ),
    (
        "a one-key read: mean or max",
        "count",
        [
            "output = aggregate(select(indices, indices - 1, ==), tokens, 0) + 1;",
            "output = aggregate(select(indices, indices - 1, ==), tokens, 0, max) + 1;",
            "output = 1 + shift_by(1, tokens, 0);",
        ],
    ),
    (
        "a true select ignores its keys and queries",
        "count",
        [
            "output = aggregate(select(tokens, tokens, true), tokens == 1);",
            "output = aggregate(select(tokens + 1, tokens * 2, true), tokens == 1);",
        ],
    ),
    (
        "selector implication: k > q already says k != q",
        "sort",
        [
            "output = aggregate(select(tokens, tokens, >), tokens, 0, max);",
            "output = aggregate(select(tokens, tokens, >) & select(tokens, tokens, !=), tokens, 0, max);",
            "output = aggregate(select(tokens, tokens, >=) & !select(tokens, tokens, ==), tokens, 0, max);",
        ],
    ),
    (
        "one predicate spelled as two",
        "sort",
        [
            "output = aggregate(select(tokens, tokens, >=), tokens, 0, max);",
            "output = aggregate(select(tokens, tokens, >) | select(tokens, tokens, ==), tokens, 0, max);",
            "output = aggregate(!select(tokens, tokens, <), tokens, 0, max);",
        ],
    ),
    (
        "min as negated max: a sign flip is no block",
        "sort",
        [
            "a = aggregate(select(tokens, tokens, >), tokens, 0, min); output = a;",
            "a = aggregate(select(tokens, tokens, >), 0 - tokens, 0, max); output = 0 - a;",
            "a = aggregate(select(tokens, tokens, >), -tokens, 0, max); output = -a;",
        ],
    ),
    (
        "De Morgan on selectors",
        "sort",
        [
            "output = aggregate(!(select(tokens, tokens, >) & select(indices, full(0), ==)), tokens, 0, max);",
            "output = aggregate(!select(tokens, tokens, >) | !select(indices, full(0), ==), tokens, 0, max);",
            "output = aggregate(select(tokens, tokens, <=) | select(indices, full(0), !=), tokens, 0, max);",
        ],
    ),
    (
        "readout boilerplate is not counted in the length",
        "count",
        [
            "output = selector_width(select(tokens, tokens, ==));",
            'w = selector_width(select(tokens, tokens, ==)); output = where(tokens == "<sep>", full("<eos>"), w);',
        ],
    ),
]

DIFFERENT = [
    (
        "a select that is not implied still counts",
        "sort",
        "output = aggregate(select(tokens, tokens, >), tokens, 0, max);",
        "output = aggregate(select(tokens, tokens, >) & select(indices, full(0), !=), tokens, 0, max);",
    ),
    (
        "one select vs two",
        "count",
        "output = selector_width(select(tokens, tokens, ==));",
        "output = selector_width(select(tokens, tokens, ==) & select(tokens, tokens, <=));",
    ),
    (
        "an extra block before attention",
        "count",
        "output = selector_width(select(tokens, tokens, ==));",
        "output = selector_width(select(tokens % 3, tokens, ==));",
    ),
    (
        "two different blocks",
        "count",
        "output = aggregate(select(tokens, tokens, true), tokens == 1, 0, max);",
        "output = aggregate(select(tokens, tokens, true), tokens == 1, 0, max) > aggregate(select(tokens, tokens, true), tokens == 2, 0, max);",
    ),
]


def length(source: str, task: str) -> int:
    return normal_form(compile_source(source, codes=TokenCodes(make_task(task).vocab)).output).length


@pytest.mark.parametrize("name, task, sources", EQUIVALENT, ids=[e[0] for e in EQUIVALENT])
def test_equivalent_rewrites_have_one_length(name, task, sources):
    lengths = [length(s, task) for s in sources]
    assert len(set(lengths)) == 1, lengths


@pytest.mark.parametrize("name, task, a, b", DIFFERENT, ids=[d[0] for d in DIFFERENT])
def test_different_programs_have_different_lengths(name, task, a, b):
    assert length(a, task) < length(b, task)


def test_readout_reported_apart():
    plain = normal_form(compile_source("output = selector_width(select(tokens, tokens, ==));").output)
    wrapped = normal_form(compile_source("w = selector_width(select(tokens, tokens, ==)); output = w + 1;").output)
    assert (plain.readout, wrapped.readout) == (0, 1) and plain.length == wrapped.length


@pytest.mark.parametrize("entry", task_programs(), ids=lambda e: e.name)
def test_library_normal_form_is_no_longer_than_written(entry):
    program = compile_for_task(entry.path, program_task(entry.path))
    form = normal_form(program.output)
    assert 0 < form.length + form.readout <= program.stats.length
    assert form.depth == program.stats.attention_depth


def test_blocks_that_differ_only_at_large_positions_are_different_blocks():
    read = "aggregate(select(indices, {q}, ==), tokens, 0, max)"
    once = f"x = {read.format(q='indices - 1')}; output = x == {read.format(q='indices - 1')};"
    # the second read's query differs from the first only from position 70 on: two blocks, two reads
    twice = f"p = where(indices > 69, indices - 2, indices - 1); x = {read.format(q='indices - 1')}; output = x == {read.format(q='p')};"
    assert length(once, "copy-unique") < length(twice, "copy-unique")
