"""What a RASP author needs: min, a default that is no token, named
constants in lambdas, a vocabulary for programs not tied to a task."""

from __future__ import annotations

import numpy as np
import pytest

from lengthgen.cli.main import main
from lengthgen.rasp.codes import NONE_CODE, TokenCodes
from lengthgen.rasp.compiler import compile_source
from lengthgen.rasp.errors import RaspError
from lengthgen.rasp.interpreter import Interpreter
from lengthgen.rasp.reference import evaluate_one


def both(source: str, codes: list[float]) -> list[float]:
    program = compile_source(source)
    fast = Interpreter(program.output).run(np.array([codes]))[0].tolist()
    assert fast == evaluate_one(program.output, codes)
    return fast


def test_min_aggregation():
    assert both("output = aggregate(select(tokens, tokens, true), tokens, 0, min);", [5, 2, 7, 1]) == [5, 2, 2, 1]
    # min is max of the negation
    assert both("output = 0 - aggregate(select(tokens, tokens, true), 0 - tokens, 0, max);", [5, 2, 7, 1]) == [
        5,
        2,
        2,
        1,
    ]


def test_none_default_is_no_token():
    values = both("output = aggregate(select(tokens, tokens, <), tokens, none, max);", [5, 2, 7])
    assert values == [NONE_CODE, NONE_CODE, 5]
    codes = TokenCodes()
    assert [codes.token(v) for v in values] == ["<none>", "<none>", "5"]
    assert NONE_CODE not in [codes.code(t) for t in ("<pad>", "<sep>", "<eos>")]


def test_named_constants_in_lambdas():
    a = compile_source("k = 3; output = map(tokens, lambda x: x + k);")
    b = compile_source("output = map(tokens, lambda x: x + 3);")
    assert a.normal == b.normal and a.stats.length == b.stats.length
    assert Interpreter(a.output).run(np.array([[1.0, 2.0]]))[0].tolist() == [4.0, 5.0]
    # inside a function, its own constants; a parameter shadows a constant
    assert both("def f(s) { k = 10; return map(s, lambda x: x * k); } output = f(tokens);", [1, 2]) == [10, 20]
    assert both("x = 7; output = map(tokens, lambda x: x + 1);", [1, 2]) == [2, 3]
    with pytest.raises(RaspError, match="unknown name 'q'"):
        compile_source("output = map(tokens, lambda x: x + q);")
    with pytest.raises(RaspError, match="unknown name 's'"):  # a sequence is not a constant
        compile_source("s = tokens + 1; output = map(tokens, lambda x: x + s);")


def test_vocabulary_header_for_programs_without_a_task(tmp_path, capsys):
    path = tmp_path / "push.rasp"
    path.write_text(
        '# vocab: push pop x\noutput = aggregate(select(tokens, tokens, true), tokens == "push", none, max);\n'
    )
    assert main(["rasp", "run", str(path), "--input", "x push pop"]) == 0
    out = capsys.readouterr().out
    assert "| output | 0 | 1    | 1   |" in out
    assert main(["rasp", "run", str(path), "--input", "x puhs"]) == 2
    assert "push" in capsys.readouterr().err  # a close match for the typo


TRACR_REVERSE = """# mode: rasp
# tracr's make_reverse: every query sees the whole sequence
length = selector_width(select(tokens, tokens, true));
opposite = length - indices - 1;
output = aggregate(select(indices, opposite, ==), tokens);
"""


def test_non_causal_mode_runs_traces_and_is_not_rasp_l(tmp_path, capsys):
    program = compile_source(TRACR_REVERSE)
    assert not program.causal and program.violations
    assert "not RASP-L" in str(program.violations[0])
    codes = [5.0, 6.0, 7.0]
    assert program.interpreter().run(np.array([codes]))[0].tolist() == [7.0, 6.0, 5.0]
    assert evaluate_one(program.output, codes, causal=False) == [7.0, 6.0, 5.0]
    # the same program read causally is something else, and is refused as RASP-L
    with pytest.raises(RaspError, match="RASP-L"):
        compile_source(TRACR_REVERSE.replace("# mode: rasp", "# mode: rasp-l"))
    path = tmp_path / "reverse.rasp"
    path.write_text(TRACR_REVERSE)
    assert main(["rasp", "run", str(path), "--input", "5 6 7", "--trace"]) == 0
    captured = capsys.readouterr()
    assert "not RASP-L" in captured.err and "| output" in captured.out
    path.write_text("# task: reverse\n" + TRACR_REVERSE)
    assert main(["rasp", "check", str(path), "--lengths", "1-3"]) == 2
    assert "not causal" in capsys.readouterr().err
    path.write_text("# mode: fancy\noutput = tokens;\n")
    assert main(["rasp", "run", str(path), "--input", "1"]) == 2
    assert "is not a mode" in capsys.readouterr().err
