"""The RASP-L checker refuses programs that are not RASP-L, and says why and where.

The four programs in ``exploits/`` recover the position from a mean over a
boolean (``mean(indices == 0)`` over every position is 1/(i+1)) and then do
index arithmetic; compiled without the checks they solve benchmarks listed
as having no RASP-L program.  The checker must refuse each of them.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from lengthgen.errors import LengthgenError
from lengthgen.rasp.check import check_program, program_task
from lengthgen.rasp.codes import TokenCodes
from lengthgen.rasp.compiler import compile_file, compile_source
from lengthgen.rasp.errors import RaspError
from lengthgen.rasp.interpreter import Interpreter
from lengthgen.rasp.library import manifest_conflicts, no_program
from lengthgen.rasp.reference import evaluate_one
from lengthgen.tasks import make_task

EXPLOITS = sorted((Path(__file__).parent / "exploits").glob("*.rasp"))


@pytest.mark.parametrize("path", EXPLOITS, ids=[p.stem for p in EXPLOITS])
def test_position_recovery_programs_are_real_but_refused(path):
    task = program_task(path)
    codes = TokenCodes(task.vocab)
    # without the checks the program is right: the trick is real
    loose = compile_file(path, codes, strict=False)
    assert loose.violations, "the exploit breaks no rule?"
    assert check_program(loose, task, list(range(1, 25)), 50).passed
    assert path.stem in no_program()
    with pytest.raises(RaspError) as info:
        compile_file(path, codes)
    message = str(info.value)
    assert re.match(rf"{re.escape(str(path))}:\d+:\d+: RASP-L: ", message), message
    assert "mean over several positions" in message


def test_a_mean_is_a_number_a_gather_keeps_its_kind():
    fraction = compile_source("output = aggregate(select(tokens, tokens, true), tokens == 1);").output
    gather = compile_source("output = aggregate(select(indices, indices - 1, ==), tokens == 1);").output
    assert fraction.vkind == "number" and gather.vkind == "token"
    assert gather.values == frozenset([0.0, 1.0])
    # a number may be compared or shifted, never mapped
    compile_source("m = aggregate(select(tokens, tokens, true), tokens == 1); output = (m + 1) > 0.5;")
    for body in ("m * 2", "map(m, lambda x: x * x)", "seq_map(m, tokens, lambda x, y: x + y)", "-m", "m + tokens"):
        with pytest.raises(RaspError, match="RASP-L: .*mean over several positions"):
            compile_source(f"m = aggregate(select(tokens, tokens, true), tokens == 1); output = {body};")


def test_mean_over_symbols_is_refused_max_is_not():
    codes = TokenCodes(make_task("copy-unique").vocab)
    mean = "output = aggregate(select(tokens, tokens, ==), tokens);"
    with pytest.raises(RaspError, match=r"<input>:1:10: RASP-L: mean over values that include symbols \(<pad>"):
        compile_source(mean, codes=codes)
    compile_source(mean.replace("tokens);", "tokens, 0, max);"), codes=codes)
    # through a selector that picks one key, a mean reads one value: allowed
    compile_source("output = aggregate(select(indices, indices - 2, ==), tokens);", codes=codes)
    # a mean of numbers only is a number, not an error
    assert compile_source("output = aggregate(select(tokens, tokens, ==), tokens >= 0);", codes=codes).output.vkind == (
        "number"
    )


@pytest.mark.parametrize(
    "keys, queries, pred, empty",
    [
        ("indices", "indices + 1", "==", True),
        ("indices - 1", "indices", "==", True),
        ("indices", "indices", ">", True),
        ("indices", "indices + 2", ">=", True),
        ("indices", "indices - 1", "==", False),
        ("indices", "indices", "==", False),
        ("indices", "indices", ">=", False),
        ("indices", "indices + 1", "<", False),
        ("tokens", "indices + 1", "<=", False),
    ],
)
def test_look_ahead_selectors_are_flagged(keys, queries, pred, empty):
    source = f"output = aggregate(select({keys}, {queries}, {pred}), tokens, 7, max);"
    loose = compile_source(source, strict=False)
    # the claim "empty at every position" is checked against the evaluator
    values = Interpreter(loose.output).run(np.arange(12, dtype=float)[None, :] % 5)[0]
    assert (values == 7).all() == empty
    if empty:
        with pytest.raises(RaspError, match="look-ahead"):
            compile_source(source)
    else:
        compile_source(source)


def test_overflow_is_an_error_in_both_evaluators():
    program = compile_source(
        "big = map(tokens, lambda x: x * 1000000000 * 1000000000 * 1000000000);\n"
        "huge = map(big, lambda x: x * x * x * x * x * x * x * x * x * x * x * x);\n"
        "output = map(huge, lambda x: min(1, x - x));"
    )
    codes = [5.0, 6.0]
    with pytest.raises(LengthgenError, match="line 2:8: huge produced a value that is not a finite number"):
        Interpreter(program.output).run(np.array([codes]))
    with pytest.raises(LengthgenError, match="line 2:8: huge produced a value that is not a finite number"):
        evaluate_one(program.output, codes)


def test_errors_inside_the_prelude_point_at_the_users_call(tmp_path):
    path = tmp_path / "mine.rasp"
    path.write_text("# four lines\nx = tokens;\ny = x + 1;\noutput = induct(tokens, 0);\n")
    with pytest.raises(RaspError) as info:
        compile_file(path, TokenCodes(make_task("copy-repeat").vocab))
    assert str(info.value).startswith(f"{path}:4:10: RASP-L: mean over values that include symbols")
    assert "in the prelude's induct(), called here" in str(info.value)
    assert "induct(tokens, 0)" in info.value.excerpt()
    # a misuse that is not a RASP-L rule is located the same way
    path.write_text("output = shift_by(1, tokens, tokens);\n")
    with pytest.raises(RaspError, match=r"mine.rasp:1:10: .*in the prelude's shift_by\(\), called here"):
        compile_file(path)


def test_a_program_for_a_no_program_benchmark_is_reported(tmp_path, capsys):
    from lengthgen.cli.main import main

    folder = tmp_path / "lib"
    folder.mkdir()
    (folder / "MANIFEST.yaml").write_text("no_program:\n  sort: thought impossible\n")
    (folder / "sort.rasp").write_text((Path(__file__).parents[2] / "rasp" / "sort.rasp").read_text())
    assert manifest_conflicts(folder) == ["sort"]
    assert main(["--include-path", str(tmp_path / "lib"), "rasp", "score", "--no-verify"]) == 0
    out, err = capsys.readouterr()
    assert "a program for 'sort' exists" in err and "lists it under no_program" in err
    sort_rows = [line for line in out.splitlines() if line.startswith("| sort ")]
    assert len(sort_rows) == 1 and "sort.rasp" in sort_rows[0]
