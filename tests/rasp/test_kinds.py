"""RASP-L soundness by kinds: positions, counts, bounded values and numbers
compare only like with like, and a comparison with constants is checked
past its largest constant (lengthgen.rasp.valuesets, lengthgen.rasp.check)."""

from __future__ import annotations

from pathlib import Path

import pytest

from lengthgen.rasp.check import check_program, program_task
from lengthgen.rasp.codes import TokenCodes
from lengthgen.rasp.compiler import compile_file, compile_source
from lengthgen.rasp.errors import RaspError
from lengthgen.rasp.library import no_program
from lengthgen.tasks import make_task

EXPLOITS = sorted((Path(__file__).parent / "exploits-kinds").glob("*.rasp"))
COUNT = "w = selector_width(select(tokens, tokens, ==));"
MEAN = "m = aggregate(select(tokens, tokens, true), tokens == 1);"
MEAN2 = "m2 = aggregate(select(tokens, tokens, true), tokens == 2);"


@pytest.mark.parametrize("path", EXPLOITS, ids=[p.stem for p in EXPLOITS])
def test_kind_mixing_programs_are_real_but_refused(path):
    task = program_task(path)
    codes = TokenCodes(task.vocab)
    loose = compile_file(path, codes, strict=False)
    assert loose.violations
    assert check_program(loose, task, list(range(1, 30)), 50).passed  # the trick is real
    assert path.stem in no_program()
    with pytest.raises(RaspError, match="RASP-L: .*compares .* with "):
        compile_file(path, codes)


@pytest.mark.parametrize(
    "body",
    [
        f"{COUNT} output = aggregate(select(indices, w, ==), tokens, 0, max);",  # a count read as a position
        f"{COUNT} output = aggregate(select(w, indices, <), tokens, 0, max);",
        f"{COUNT} output = indices == w;",
        f"{MEAN} {MEAN2} output = aggregate(select(m, m2, ==), tokens, 0, max);",  # a mean against a mean
        f"{MEAN} {MEAN2} output = m < m2;",
        f"{MEAN} output = aggregate(select(indices, m, <=), tokens, 0, max);",
        f"{MEAN} {COUNT} output = m == w;",
        f"{MEAN} output = aggregate(select(m, tokens, ==), tokens, 0, max);",  # a number against a non-constant
        f"{COUNT} output = where(tokens == 1, w, indices);",  # a value that is a count or a position
    ],
)
def test_unlike_kinds_are_not_compared(body):
    with pytest.raises(RaspError, match="RASP-L: "):
        compile_source(body)


@pytest.mark.parametrize(
    "body",
    [
        f"{COUNT} output = aggregate(select(w, w, ==), tokens, 0, max);",  # counts with counts (mode)
        f"{COUNT} output = aggregate(select(w, tokens, ==), tokens, 0, max);",  # a count with a bounded value
        "output = aggregate(select(indices, tokens + 1, ==), tokens, 0, max);",  # a position with a bounded value
        "output = aggregate(select(indices, indices - 1, ==), tokens, 0, max);",
        f"{MEAN} output = aggregate(select(m, full(1), >), tokens, 0, max);",  # a number with a constant
        f"{MEAN} output = m > 0.5;",
        f"{COUNT} output = where(tokens == 1, w, full(0));",
    ],
)
def test_like_kinds_compare(body):
    compile_source(body)


def parity_table(top: int) -> str:
    odd = " + ".join(f"(ones == {k})" for k in range(1, top + 1, 2))
    return (
        "# task: parity\n"
        "ones = selector_width(select(tokens, full(1), ==));\n"
        f"odd = {odd};\n"
        'output = where(tokens == "<sep>", odd, full("<eos>"));\n'
    )


def test_a_table_in_disguise_is_checked_past_its_largest_constant():
    task = make_task("parity")
    program = compile_source(parity_table(29), codes=TokenCodes(task.vocab))
    assert program.largest_compared == 29
    # right wherever the count of ones stays within the table...
    report = check_program(program, task, list(range(1, 21)), 200)
    # ...but the check goes on to 30 and 60, where it is wrong
    assert report.derived == [30, 60]
    assert not report.passed and report.counterexample.length == 60


def test_a_number_compared_with_a_small_constant_reaches_far():
    program = compile_source(f"{MEAN} output = m > 0.02;")
    assert program.largest_compared == pytest.approx(50.0)


def test_library_programs_keep_verifying_with_the_derived_lengths():
    for name in ("pvr", "count", "sort", "mode"):
        path = Path(__file__).parents[2] / "rasp" / f"{name}.rasp"
        task = program_task(path)
        report = check_program(compile_file(path, TokenCodes(task.vocab)), task, list(range(1, 21)), 50)
        assert report.passed, name


PARENS = TokenCodes(["<pad>", "<sep>", "<eos>", "(", ")"])
ALL = "select(tokens, tokens, true)"


@pytest.mark.parametrize(
    "body",
    [
        # tracr's pair balance: a difference of two means is a number, compared with 0
        f'output = aggregate({ALL}, tokens == "(") - aggregate({ALL}, tokens == ")") > 0;',
        # its one-mean form: -1 here is a number, not the code of <pad>
        f'output = aggregate({ALL}, where(tokens == "(", full(1), where(tokens == ")", full(-1), full(0)))) > 0;',
        f'output = aggregate({ALL}, map(tokens, lambda x: 1 if x == "(" else -1)) > 0;',
        # a literal of any reasonable precision
        f'output = aggregate({ALL}, tokens == "(") > 0.333333333333333;',
    ],
)
def test_c_rasp_counting_is_not_refused(body):
    program = compile_source(body, codes=PARENS)
    assert not program.violations


def test_symbols_still_may_not_be_averaged():
    with pytest.raises(RaspError, match="mean over values that include symbols \\(<pad>"):
        compile_source(f'output = aggregate({ALL}, where(tokens == "(", full(1), full("<pad>"))) > 0;', codes=PARENS)
    with pytest.raises(RaspError, match="mean over values that include symbols"):
        compile_source(
            f'output = aggregate({ALL}, map(tokens, lambda x: "<pad>" if x == "(" else 1)) > 0;', codes=PARENS
        )
    with pytest.raises(RaspError, match="mean over values that include symbols"):
        compile_source(f"output = aggregate({ALL}, tokens) > 0;", codes=PARENS)  # tokens pass symbols through
    with pytest.raises(RaspError, match="mean over values that include symbols"):
        compile_source(f"output = aggregate({ALL}, map(tokens, lambda x: x)) > 0;", codes=PARENS)


def test_a_number_plus_a_number_stays_a_number():
    program = compile_source(
        f'm = aggregate({ALL}, tokens == "(") - aggregate({ALL}, tokens == ")"); output = m;', codes=PARENS
    )
    assert program.output.vkind == "number"
    with pytest.raises(RaspError, match="map over a mean"):
        compile_source(
            f'm = aggregate({ALL}, tokens == "(") - aggregate({ALL}, tokens == ")"); output = map(m, lambda x: x * x);',
            codes=PARENS,
        )
