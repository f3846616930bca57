"""Property-based soundness of the RASP-L kinds.

A causal transformer of fixed size reads a periodic input (0 1 0 1 ...) the
same way at every length once the length is past every constant it compares
with: its output at the end can depend on the length only through the
input's period.  So every program the checker accepts must give, at the
<sep> after n input tokens, the same output for n and n + 2, for every n
from past its largest compared constant to three times that.  Counting
modulo 4 (a parity table), halving or doubling positions (counts or means
used as positions) all break this; the tests below check both that random
accepted programs keep it and that the exploits of each class break it
when compiled without the checks.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lengthgen.rasp.codes import TokenCodes
from lengthgen.rasp.compiler import compile_source
from lengthgen.rasp.errors import RaspError
from lengthgen.tasks import make_task

CODES = TokenCodes(make_task("parity").vocab)  # tokens 0 and 1 are their own values
SEP = float(CODES.code("<sep>"))
PREDS = ("==", "!=", "<", "<=", ">", ">=")
CONSTANTS = ("0", "1", "2", "3", "0.5", "0.25", "0.75")


def end_output(program, n: int) -> float:
    seq = np.array([[j % 2 for j in range(n)] + [SEP]], dtype=np.float64)
    return float(program.interpreter().run(seq)[0, -1])


def keeps_period(program) -> tuple[bool, int]:
    start = int(max(24, 2 * (program.largest_compared or 0) + 2))
    outs = {n: end_output(program, n) for n in range(start, 3 * start + 3)}
    for n in range(start, 3 * start + 1):
        if outs[n] != outs[n + 2] and not (np.isnan(outs[n]) and np.isnan(outs[n + 2])):
            return False, n
    return True, -1


@st.composite
def programs(draw) -> str:
    """Up to five statements, each one operation over the leaves and earlier
    statements, and a bounded output; any kinds may meet (the compiler decides)."""
    names = ["tokens", "indices", "full(0)", "full(1)"]
    lines = []
    for i in range(draw(st.integers(1, 5))):
        a, b, c = (draw(st.sampled_from(names)) for _ in range(3))
        sel = f"select({a}, {b}, {draw(st.sampled_from(PREDS))})"
        expr = draw(
            st.sampled_from(
                [
                    f"selector_width({sel})",
                    f"aggregate({sel}, {c}, 0, max)",
                    f"aggregate({sel}, {c} == 1)",
                    f"({a} {draw(st.sampled_from(PREDS))} {b})",
                    f"({a} {draw(st.sampled_from(PREDS))} {draw(st.sampled_from(CONSTANTS))})",
                    f"({a} + 1)",
                    f"({a} - {b})",
                    f"where({a} == 1, {b}, {c})",
                ]
            )
        )
        lines.append(f"v{i} = {expr};")
        names.append(f"v{i}")
    last = names[-1]
    lines.append(f"output = ({last} {draw(st.sampled_from(PREDS))} {draw(st.sampled_from(CONSTANTS))});")
    return "\n".join(lines)


def accepted(source: str):
    try:
        return compile_source(source, codes=CODES)
    except RaspError:
        return None


@settings(max_examples=300, derandomize=True, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(programs())
def test_accepted_programs_read_a_periodic_input_alike_at_every_length(source):
    program = accepted(source)
    if program is None or (program.largest_compared or 0) > 200:
        return
    ok, n = keeps_period(program)
    assert ok, f"output differs between n = {n} and n + 2:\n{source}"


SEEN: list[bool] = []


@settings(max_examples=200, derandomize=True, deadline=None, database=None)
@given(programs())
def collect_acceptance(source):
    SEEN.append(accepted(source) is not None)


def test_the_generator_reaches_accepted_programs():
    # the property above says something only if many random programs pass the checker
    SEEN.clear()
    collect_acceptance()
    assert len(SEEN) >= 100 and sum(SEEN) >= 0.2 * len(SEEN), f"{sum(SEEN)} of {len(SEEN)} accepted"


PARITY_TABLE = (
    "ones = selector_width(select(tokens, full(1), ==));\noutput = "
    + " + ".join(f"(ones == {k})" for k in range(1, 30, 2))
    + ";"
)
EXPLOITS = {
    # a count read as a position: the token at index n - k
    "count as position": "w = selector_width(select(tokens, tokens, true));\n"
    "h = selector_width(select(indices, w, <) & select(tokens, full(1), ==));\n"
    "output = aggregate(select(indices, h, ==), tokens, 0, max) == 1;",
    # a mean compared with a mean: positions halved
    "mean against mean": "m = aggregate(select(tokens, tokens, true), indices == 0);\n"
    "half = aggregate(select(tokens, tokens, true), indices <= 1);\n"
    "output = aggregate(select(m, half, ==), tokens, 0, max) == 1;",
}


@pytest.mark.parametrize("name", EXPLOITS)
def test_each_exploit_class_is_refused(name):
    with pytest.raises(RaspError, match="RASP-L: "):
        compile_source(EXPLOITS[name], codes=CODES)


def test_a_table_is_accepted_but_looked_past():
    program = compile_source(PARITY_TABLE, codes=CODES)
    assert program.largest_compared == 29
    assert keeps_period(program)[0]  # past 2 x 29 + 2 the table has run out: the output no longer moves
    program.largest_compared = None  # as before: a check that stops inside the table
    assert not keeps_period(program)[0]


@pytest.mark.parametrize("name", EXPLOITS)
def test_the_property_catches_each_exploit_compiled_without_checks(name):
    loose = compile_source(EXPLOITS[name], codes=CODES, strict=False)
    assert loose.violations and not keeps_period(loose)[0]
