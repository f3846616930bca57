"""Parser and compiler errors: location, message, fuzzing, untrusted input."""

import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lengthgen.rasp import RaspError, compile_source
from lengthgen.rasp.codes import TokenCodes
from lengthgen.tasks import make_task

ERRORS = [
    # (source, line, col, message fragment)
    ("output = tokens +;", 1, 18, "expected an expression"),
    ("output = tokens", 1, 16, "expected ';'"),
    ("x = 1;\noutput = tokns;", 2, 10, "did you mean: tokens"),
    ("output = shift_by(1, tokens);", 1, 10, "takes 3 argument"),
    ("output = select(tokens, tokens, ==);", 1, 1, "output must be a sequence"),
    ("s = select(tokens, tokens, ==);\noutput = s + 1;", 2, 12, "cannot combine a selector"),
    ("output = aggregate(tokens, tokens);", 1, 20, "must be a selector"),
    ("output = selector_width(tokens);", 1, 25, "must be a selector"),
    ("output = map(tokens, 3);", 1, 22, "needs a lambda"),
    ("output = map(indices, lambda x: x + 1);", 1, 10, "RASP-L: map over a position-valued"),
    ("output = indices * 2;", 1, 18, "RASP-L"),
    ("output = indices % 2 == 0;", 1, 18, "RASP-L"),
    ("w = selector_width(select(tokens, tokens, ==));\noutput = w + w;", 2, 12, "RASP-L"),
    ("output = select(tokens, tokens, ~);", 1, 33, "unexpected character"),
    ("output = select(tokens, tokens, 5);", 1, 33, "predicate must be"),
    ('output = tokens == "nope";', 1, 20, "unknown token 'nope'"),
    ("output = map(tokens, lambda x: x ** 2);", 1, 32, "power"),
    ("output = map(tokens, lambda x: y + 1);", 1, 32, "unknown name 'y'"),
    ("def f(x) { return f(x); }\noutput = f(tokens);", 1, 19, "recursion"),
    ("def f(x) { y = x; }", 1, 19, "must end with 'return"),
    ("x = 1;", 0, 0, "declares no output"),
    ("tokens = 1;\noutput = tokens;", 1, 1, "cannot assign to built-in"),
    ('output = "unterminated;', 1, 10, "unterminated string"),
    ("output = tokens < 1 < 2;", 1, 21, "do not chain"),
]


@pytest.mark.parametrize("source,line,col,fragment", ERRORS)
def test_error_location_and_message(source, line, col, fragment):
    with pytest.raises(RaspError) as info:
        compile_source(source, "prog.rasp")
    err = info.value
    assert fragment in err.message, err.message
    assert (err.line, err.col) == (line, col), (err.line, err.col)
    one_line = str(err)
    assert one_line.startswith(f"prog.rasp:{line}:{col}: " if line else "prog.rasp: ") and "\n" not in one_line
    if line:
        excerpt = err.excerpt().splitlines()
        assert len(excerpt) == 3 and excerpt[2].index("^") == col + 1


UNTRUSTED = [
    'output = map(tokens, lambda x: __import__("os").system("true"));',
    "output = map(tokens, lambda x: x.__class__);",
    "output = map(tokens, lambda x: __builtins__);",
    "output = map(tokens, lambda x: (lambda: 1)());",
    "output = map(tokens, lambda x: [y for y in (1, 2)]);",
    "output = map(tokens, lambda x: 9 ** 9 ** 9);",
    "output = map(tokens, lambda x: 10000000000000000000000 * x);",
    "output = map(tokens, lambda x: open('/etc/passwd'));",
    "output = map(tokens, lambda x: " + "(" * 500 + "x" + ")" * 500 + ");",
    "output = map(tokens, lambda x: " + "-" * 5000 + "x);",
    "output = " + "(" * 5000 + "tokens" + ")" * 5000 + ";",
    "output = " + "!" * 5000 + "tokens;",
    "output = " + " + ".join(["tokens"] * 200000) + ";",
    "output = __import__;",
    "output = tokens.__class__;",
]


@pytest.mark.parametrize("source", UNTRUSTED, ids=range(len(UNTRUSTED)))
def test_untrusted_programs_fail_cleanly_and_fast(source):
    start = time.perf_counter()
    with pytest.raises(RaspError):
        compile_source(source)
    assert time.perf_counter() - start < 5.0


@settings(max_examples=300, deadline=2000, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=300))
def test_fuzz_bytes_give_a_program_or_a_clear_error(data):
    text = data.decode("utf-8", errors="replace")
    try:
        program = compile_source(text)
    except RaspError as exc:
        assert str(exc) and "\n" not in str(exc)
    else:
        assert program.output is not None


ALPHABET = list('abcdefghijklmnopqrstuvwxyz_0123456789 ()[]{},;:=+-*/%<>!&|"#\n.') + [
    "tokens",
    "indices",
    "select",
    "aggregate",
    "lambda x:",
    "def ",
    "return ",
    "output",
    "==",
    "<=",
    "map",
    "where",
    "full",
    "selector_width",
    "shift_by",
    "true",
    "max",
    '"<sep>"',
]


@settings(max_examples=400, deadline=2000, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(ALPHABET), max_size=60).map("".join))
def test_fuzz_program_like_text(text):
    try:
        compile_source(text)
    except RaspError as exc:
        assert str(exc)


def test_token_literals_follow_the_task_vocabulary():
    task = make_task("stack-manipulation")
    program = compile_source('output = tokens == "push_a";', codes=TokenCodes(task.vocab))
    assert program.stats.length == 1
    with pytest.raises(RaspError, match="did you mean: push_a"):
        compile_source('output = tokens == "push-a";', codes=TokenCodes(task.vocab))


def test_exponential_inlining_is_refused_quickly(tmp_path):
    """31 functions each calling the previous twice: 2^31 inlined statements
    while only 31 calls deep; refused with a located error, in bounded time."""
    import time

    from lengthgen.rasp.compiler import compile_file
    from lengthgen.rasp.errors import RaspError

    lines = ["def f0(x) { return x + 1; }"]
    lines += [f"def f{i}(x) {{ y = f{i - 1}(x); return f{i - 1}(y); }}" for i in range(1, 31)]
    path = tmp_path / "bomb.rasp"
    path.write_text("\n".join(lines + ["output = f30(tokens);"]) + "\n")
    start = time.perf_counter()
    with pytest.raises(RaspError, match="inlining function calls expands"):
        compile_file(path)
    assert time.perf_counter() - start < 60
