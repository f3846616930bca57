"""Drawn tasks that are easier than their programs (lengthgen.rasp.disguise):
tables of the first tokens, controls whose index arithmetic does nothing."""

from __future__ import annotations

import numpy as np
import pytest

from lengthgen.rasp.codes import TokenCodes
from lengthgen.rasp.compiler import compile_source
from lengthgen.rasp.disguise import answers, decided_by_first, disguising_rewrite, rewrites, table_accuracy
from lengthgen.rasp.generate import VOCAB, Sample, disguised

CODES = TokenCodes(VOCAB)
END = 'output = where(tokens == "<sep>", answer, full("<eos>"));\n'
# max over earlier positions of 2k, read as "> 0": the same answer as max(k) > 0
DOUBLED = (
    "a1 = aggregate(select(tokens, tokens, >=), tokens, 0, max);\n"
    "a2 = aggregate(select(a1, a1, !=), (indices * 2), 0, max);\n"
    "answer = (a2 > 0);\n"
)
# the parity of the number of 1s: the % 2 changes the answer
PARITY = "a1 = selector_width(select(tokens, full(1), ==));\nanswer = (a1 % 2);\n"


def control(body: str):
    return compile_source(body + END, "<control>", CODES, strict=False)


def test_rewrites_replace_every_term_by_every_map():
    found = list(rewrites("a = (indices * 2); b = (a % 3);"))
    assert len(found) == 9 * 9
    text, label = found[0]
    assert text == "a = indices; b = a;" and label == "(indices * 2) -> indices; (a % 3) -> a"
    assert list(rewrites("a = (indices + 1);")) == []  # no index arithmetic, nothing to rewrite


def test_a_doubled_position_read_as_positive_is_a_rasp_l_program():
    sample = Sample(CODES)
    program = control(DOUBLED)
    assert program.violations  # the compiler refuses it as drawn
    want = [answers(program, x) for x in sample.inputs]
    found = disguising_rewrite(DOUBLED + END, CODES, sample.inputs, want)
    assert found is not None and "(indices * 2) -> indices" in found.label
    assert disguised(DOUBLED + END, program, sample)


def test_index_arithmetic_that_changes_the_answer_is_no_disguise():
    program = control(PARITY)
    assert program.violations
    assert not disguised(PARITY + END, program, Sample(CODES))


@pytest.mark.parametrize(
    "table, k",
    [
        (lambda x: x[:, 0] > 1, 1),
        (lambda x: x[:, 0] == x[:, 1], 2),
        (lambda x: (x[:, 0] + x[:, 1] + x[:, 2]) % 2, 3),
    ],
)
def test_decided_by_first_finds_the_smallest_table(table, k):
    rng = np.random.default_rng(0)
    inputs = [rng.integers(0, 4, (300, n)) for n in (3, 7, 20)]
    assert decided_by_first(inputs, [table(x) for x in inputs]) == k


def test_an_answer_that_reads_later_tokens_is_not_a_table_of_the_first():
    rng = np.random.default_rng(1)
    inputs = [rng.integers(0, 4, (300, n)) for n in (5, 9)]
    assert decided_by_first(inputs, [(x == 1).sum(axis=1) % 2 for x in inputs]) is None
    # one function at every length: a first-token rule whose threshold moves with the length is not a table
    moving = [(x[:, 0] > x.shape[1] % 3).astype(int) for x in inputs]
    assert decided_by_first(inputs, moving) is None


def test_table_accuracy_is_the_best_lookup_table_s_score():
    rng = np.random.default_rng(2)
    x = rng.integers(0, 4, (4000, 10))
    first = (x[:, 0] > 1).astype(int)
    noisy = np.where(rng.random(4000) < 0.2, 1 - first, first)  # a fifth of the answers flipped
    assert table_accuracy(x[:2000, :3], noisy[:2000], x[2000:, :3], noisy[2000:]) == pytest.approx(0.8, abs=0.03)
    # an answer the first tokens do not carry: the table does no better than the commonest answer
    parity = x.sum(axis=1) % 2
    assert table_accuracy(x[:2000, :3], parity[:2000], x[2000:, :3], parity[2000:]) == pytest.approx(0.5, abs=0.04)
    # a prefix never seen while fitting gets the commonest answer
    assert table_accuracy(np.array([[0], [0], [1]]), np.array([3, 3, 4]), np.array([[2]]), np.array([3])) == 1.0
