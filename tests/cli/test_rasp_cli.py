import json

import pytest

from lengthgen.cli.main import main
from lengthgen.rasp.codes import TokenCodes
from lengthgen.rasp.library import library_dir
from lengthgen.rasp.repl import Repl

LIBRARY_DIR = library_dir()


def run(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_run_and_trace(capsys):
    code, out, _ = run(capsys, "rasp", "run", LIBRARY_DIR / "sort.rasp", "--input", "7 2 9 <sep>")
    assert code == 0 and "next token after the input: 2" in out
    code, out, _ = run(capsys, "rasp", "run", LIBRARY_DIR / "histogram.rasp", "--input", "3 1 3", "--trace")
    assert code == 0 and "selectors (rows: queries, columns: keys)" in out and "q2 3" in out


def test_check_passes_and_fails(capsys, tmp_path):
    code, out, _ = run(capsys, "rasp", "check", LIBRARY_DIR / "count.rasp", "--lengths", "1-12", "--n", "50")
    assert code == 0 and "all 600 examples right" in out
    bad = tmp_path / "bad.rasp"
    bad.write_text('# task: sort\noutput = where(tokens == "<sep>", full(0), full("<eos>"));\n')
    code, out, _ = run(capsys, "rasp", "check", bad, "--lengths", "2-3", "--n", "10")
    assert code == 1 and "first counterexample" in out and "expected:" in out and "got:" in out


def test_score_formats(capsys):
    code, out, _ = run(capsys, "rasp", "score", "--format", "json", "--max-length", "8", "--n", "20")
    rows = json.loads(out)
    by_name = {r["benchmark"]: r for r in rows}
    assert code == 0 and by_name["sort"]["length"] > 0 and by_name["sort"]["verified"] == "1-8"
    assert by_name["parity"]["program"] == "none" and by_name["parity"]["reason"]
    for fmt in ("github", "csv", "latex"):
        code, out, _ = run(capsys, "rasp", "score", "--format", fmt, "--no-verify")
        assert code == 0 and "count" in out


@pytest.mark.parametrize(
    "source,fragment",
    [("output = tokns;", "bad.rasp:1:10: unknown name 'tokns'"), ("output = indices * 3;", "bad.rasp:1:18: RASP-L")],
)
def test_errors_name_file_line_col_with_caret(capsys, tmp_path, source, fragment):
    path = tmp_path / "bad.rasp"
    path.write_text(source)
    code, _, err = run(capsys, "rasp", "run", path, "--input", "1 2")
    lines = err.splitlines()
    assert code == 2 and fragment in lines[0] and lines[-1].strip() == "^" and "Traceback" not in err


@pytest.mark.parametrize(
    "argv,fragment",
    [
        (["rasp", "run", "missing.rasp", "--input", "1"], "no such program file"),
        (["rasp", "run", str(LIBRARY_DIR / "sort.rasp"), "--input", "1 zz"], "unknown token 'zz'"),
        (["rasp", "check", str(LIBRARY_DIR / "sort.rasp"), "--lengths", "5-1"], "empty range"),
        (["rasp", "check", str(LIBRARY_DIR / "sort.rasp"), "--lengths", "1-500"], "length must be"),
        (["rasp", "check", str(LIBRARY_DIR / "histogram.rasp")], "no '# task:' header"),
        (["rasp", "check", str(LIBRARY_DIR / "sort.rasp"), "--task", "srt"], "did you mean: sort"),
        (["rasp", "check", str(LIBRARY_DIR / "sort.rasp"), "--n", "0"], "--n must be"),
    ],
)
def test_bad_input(capsys, argv, fragment):
    code, _, err = run(capsys, *argv)
    assert code == 2 and fragment in err and "Traceback" not in err


def test_not_utf8(capsys, tmp_path):
    path = tmp_path / "binary.rasp"
    path.write_bytes(b"output = \xff\xfe;")
    code, _, err = run(capsys, "rasp", "run", path, "--input", "1")
    assert code == 2 and "not valid UTF-8" in err


def test_repl_session(tmp_path):
    import io

    out, err = io.StringIO(), io.StringIO()
    repl = Repl(TokenCodes(), out=out, err=err)
    for line in [
        ":input 5 3 5",
        "prev = shift_by(1, tokens, 0);",
        "prev + 1",
        "oops +",
        "prev * indices",
        f":save {tmp_path / 's.rasp'}",
        ":bogus",
    ]:
        assert repl.command(line)
    assert not repl.command(":quit")
    text = out.getvalue()
    assert "input: 5 3 5" in text
    value_rows = [line.split("|")[2:-1] for line in text.splitlines() if line.startswith("| prev + 1")]
    assert [c.strip() for c in value_rows[0]] == ["1", "6", "4"]  # shift_by(1) of 5 3 5, plus one
    errors = err.getvalue()
    assert "expected an expression" in errors and "RASP-L" in errors and "unknown command" in errors
    assert "shift_by" in (tmp_path / "s.rasp").read_text()
    assert "__" not in errors and "repl_value_" not in errors + text


def test_repl_selectors_and_multi_line_definitions(monkeypatch):
    import io

    out, err = io.StringIO(), io.StringIO()
    repl = Repl(TokenCodes(), out=out, err=err)
    lines = iter(
        [":input 2 7 2", "same = select(tokens, tokens, ==);", "def inc(x) {", "    return x + 1;", "}", "inc(tokens)"]
    )

    def fake_input(prompt):
        try:
            return next(lines)
        except StopIteration:
            raise EOFError from None

    monkeypatch.setattr("builtins.input", fake_input)
    repl.loop()
    text, errors = out.getvalue(), err.getvalue()
    assert errors == "", errors
    assert "same = select(tokens, tokens, '==')" in text and "q2 2  1    .    1" in text  # the selector's grid
    rows = [line.split("|")[2:-1] for line in text.splitlines() if line.startswith("| inc(tokens)")]
    assert [c.strip() for c in rows[0]] == ["3", "8", "3"]
