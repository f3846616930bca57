"""The RASP-L compiler: programs become transformer weights that compute
what the interpreter computes, at every position and every length up to
the one compiled for."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from lengthgen.cli.main import main
from lengthgen.rasp.assemble import CompileError, assemble, decode_values, growth, mean_support, to_model
from lengthgen.rasp.check import compile_for_task, program_task
from lengthgen.rasp.codes import TokenCodes
from lengthgen.rasp.compiler import compile_file, compile_source
from lengthgen.rasp.interpreter import Interpreter
from lengthgen.rasp.library import library_dir, programs, task_programs
from lengthgen.rasp.tomodel import agreement, compile_model, evaluate, longest_sequence
from lengthgen.tasks.base import SPECIALS
from tests.rasp.cases import CASES, GENERAL_CASES

DIGITS = TokenCodes([*SPECIALS, *map(str, range(12))])
MAX_LEN = 12


def model_values(program, token_ids: np.ndarray, max_len: int = MAX_LEN) -> np.ndarray:
    asm = assemble(program.output, program.codes, max_len, causal=program.causal)
    with torch.no_grad():
        hidden = to_model(asm)(torch.from_numpy(np.asarray(token_ids, dtype=np.int64))).hidden
    return decode_values(asm, hidden)


def ids(codes: TokenCodes, text: str) -> np.ndarray:
    return np.array([[codes.vocab.index(t) for t in text.split()]])


@pytest.mark.parametrize("name,source,inputs,expected", CASES, ids=[c[0] for c in CASES])
def test_every_case_compiles_to_a_model_that_computes_it(name, source, inputs, expected):
    program = compile_source(source, codes=DIGITS, strict=False)
    got = model_values(program, ids(DIGITS, inputs))[0]
    assert np.allclose(got, expected), f"compiled model: {got}"


@pytest.mark.parametrize("name,source,inputs,expected", CASES, ids=[c[0] for c in CASES])
def test_every_case_agrees_with_the_interpreter_on_random_inputs(name, source, inputs, expected):
    """Token for token at every position, lengths 1..MAX_LEN, inputs over
    the whole vocabulary (specials included)."""
    program = compile_source(source, codes=DIGITS, strict=False)
    asm = assemble(program.output, program.codes, MAX_LEN)
    model = to_model(asm)
    rng = np.random.default_rng(0)
    for length in (1, 2, 5, MAX_LEN):
        tokens = rng.integers(0, len(DIGITS.vocab), size=(40, length))
        want = Interpreter(program.output).run(DIGITS.id_to_code[tokens])
        with torch.no_grad():
            got = decode_values(asm, model(torch.from_numpy(tokens)).hidden)
        assert np.array_equal(got, want), f"length {length}: {tokens[(got != want).any(1)][0]}"


@pytest.mark.parametrize("name,inputs,expected", GENERAL_CASES, ids=[c[0] for c in GENERAL_CASES])
def test_general_library_programs_compile(name, inputs, expected):
    program = compile_file(library_dir() / f"{name}.rasp", DIGITS)
    assert np.allclose(model_values(program, ids(DIGITS, inputs))[0], expected)


LETTERS = TokenCodes([*SPECIALS, *"abcdefghloH()", "1", "2", "3", "4"])
LENGTH = "length = selector_width(select(tokens, tokens, true));\n"
FRAC = 'opens = aggregate(select(indices, indices, <=), tokens == "(");\n'
FRAC += 'closes = aggregate(select(indices, indices, <=), tokens == ")");\n'
# tracr's lib.py programs (make_length, make_reverse, make_hist,
# make_sort_unique, make_frac_prevs, make_pair_balance) written in RASP, on
# the inputs of tracr's own docstring examples, with the outputs those
# docstrings give
TRACR_EXAMPLES = [
    ("length", LENGTH + "output = length;", "a b c d e f g", [7] * 7),
    ("reverse", LENGTH + "output = aggregate(select(indices, length - indices - 1, ==), tokens);", "H e l l o",
     "o l l e H"),
    ("hist", "output = selector_width(select(tokens, tokens, ==));", "a b a c", [2, 1, 2, 1]),
    ("sort_unique", "smaller = selector_width(select(tokens, tokens, <));\n"
     "output = aggregate(select(smaller, indices, ==), tokens);", "2 4 3 1", [1, 2, 3, 4]),
    ("frac_prevs", 'output = aggregate(select(indices, indices, <=), tokens == "l");', "h e l l o",
     [0, 0, 1 / 3, 1 / 2, 2 / 5]),
    ("pair_balance", FRAC + "output = opens - closes;", "a ( ) b ( c ) )", [0, 1 / 2, 0, 0, 1 / 5, 1 / 6, 0, -1 / 8]),
]  # fmt: skip


@pytest.mark.parametrize("name,source,inputs,expected", TRACR_EXAMPLES, ids=[t[0] for t in TRACR_EXAMPLES])
def test_tracr_programs_compile_to_the_outputs_tracr_documents(name, source, inputs, expected):
    """Non-causal (``# mode: rasp``), as tracr evaluates them: the compiled
    model drops the causal mask."""
    program = compile_source("# mode: rasp\n" + source, codes=LETTERS, strict=False)
    assert not program.causal
    if isinstance(expected, str):
        expected = LETTERS.encode(expected.split()).tolist()
    assert np.allclose(model_values(program, ids(LETTERS, inputs)), expected)


TASK_PROGRAMS = [e.name for e in task_programs()]


def valid_lengths(task, lengths) -> list[int]:
    def ok(n: int) -> bool:
        try:
            task.check_length(n)
        except Exception:
            return False
        return True

    return [n for n in lengths if ok(n)]


@pytest.mark.parametrize("name", TASK_PROGRAMS)
def test_library_programs_agree_with_the_interpreter_and_the_evaluator_scores_them(name):
    """Every library program with a task compiles; the model agrees with the
    interpreter at every position and the suite's evaluator scores it 100%
    (lengths 1-6 here; 1-50 in the slow test)."""
    path = library_dir() / f"{name}.rasp"
    task = program_task(path)
    program = compile_for_task(path, task)
    lengths = valid_lengths(task, range(1, 5))
    compiled = compile_model(program, longest_sequence(task, lengths), with_growth=False)
    assert all(a.disagreements == 0 for a in agreement(compiled, task, lengths, 8))
    assert all(exact == 100.0 for _, exact, _ in evaluate(compiled, task, lengths[-1:], 8))


@pytest.mark.slow
@pytest.mark.parametrize("name", TASK_PROGRAMS)
def test_library_programs_agree_at_lengths_1_to_50(name):
    path = library_dir() / f"{name}.rasp"
    task = program_task(path)
    program = compile_for_task(path, task)
    lengths = valid_lengths(task, range(1, 51))
    compiled = compile_model(program, longest_sequence(task, lengths), with_growth=False)
    bad = [a for a in agreement(compiled, task, lengths, 10) if a.disagreements]
    assert not bad, f"first disagreement at length {bad[0].length}: {bad[0].example}"


def test_every_library_program_compiles():
    for entry in programs():
        codes = DIGITS
        if entry.task:
            codes = TokenCodes(program_task(entry.path).vocab)
        program = compile_file(entry.path, codes)
        assert assemble(program.output, codes, 16).n_layers >= 1


def test_depth_is_the_attention_chain_when_maps_fold():
    """Maps of one sequence are linear in its one-hot and cost no layer:
    sort is one attention layer, copy-unique two."""
    sort = compile_model(compile_for_task(library_dir() / "sort.rasp", program_task(library_dir() / "sort.rasp")), 20)
    assert sort.size()["layers"] == 1 == sort.program.stats.attention_depth
    path = library_dir() / "copy-unique.rasp"
    copy = compile_model(compile_for_task(path, program_task(path)), 20)
    assert copy.size()["layers"] == 2 and copy.size()["heads"] == [2, 1]


def test_growth_names_the_operations_whose_weights_grow_with_length():
    histogram = compile_file(library_dir() / "histogram.rasp", DIGITS)
    assert any("width" in op for op in growth(histogram.output, DIGITS, 10))
    sort = compile_file(library_dir() / "sort.rasp", DIGITS)
    assert growth(sort.output, DIGITS, 10) == []  # one model for every length
    shift = compile_source("output = shift_by(1, tokens, 0);", codes=DIGITS)
    assert "indices" in growth(shift.output, DIGITS, 10)


def test_a_mean_of_non_integers_is_refused_with_its_location():
    source = "half = tokens / 2;\noutput = aggregate(select(tokens, tokens, true), half);"
    program = compile_source(source, codes=DIGITS, strict=False)
    with pytest.raises(CompileError, match=r"line 2:\d+: .*non-integer"):
        assemble(program.output, DIGITS, 8)


def test_open_vocabulary_is_refused():
    program = compile_source("output = tokens + 1;")
    with pytest.raises(CompileError, match="vocabulary"):
        assemble(program.output, program.codes, 8)


def test_mean_support_holds_every_mean():
    rng = np.random.default_rng(1)
    support = set(mean_support([0.0, 1.0, 3.0], 6, -1.0).tolist())
    for _ in range(200):
        keys = rng.choice([0.0, 1.0, 3.0], size=rng.integers(1, 7))
        assert keys.sum() / len(keys) in support


def test_sequences_longer_than_compiled_for_are_an_error():
    path = library_dir() / "copy-unique.rasp"
    task = program_task(path)
    compiled = compile_model(compile_for_task(path, task), 6, with_growth=False)
    with pytest.raises(Exception, match="max-len|max_positions"):
        agreement(compiled, task, [8], 2)


def test_a_model_whose_weights_do_not_grow_serves_every_length_and_others_refuse_longer_sequences():
    sort_path = library_dir() / "sort.rasp"
    task = program_task(sort_path)
    sort = compile_model(compile_for_task(sort_path, task), 8, with_growth=False)
    assert not sort.assembly.length_bound
    assert all(a.disagreements == 0 for a in agreement(sort, task, [40], 4))  # 82 tokens, compiled for 8
    assert evaluate(sort, task, [40], 4)[0][1] == 100.0
    histogram = compile_file(library_dir() / "histogram.rasp", DIGITS)
    asm = assemble(histogram.output, DIGITS, 10)
    assert asm.length_bound
    with pytest.raises(Exception, match="compiled for up to 10"):
        to_model(asm)(torch.zeros(1, 11, dtype=torch.long))


def test_cli_compile_reports_size_and_agreement(capsys):
    assert main(["rasp", "compile", str(library_dir() / "sort.rasp"), "--lengths", "1-4", "--n", "4"]) == 0
    out = capsys.readouterr().out
    assert "1 layers (program attention depth 1)" in out
    assert "no weight grows" in out and "agrees with the interpreter" in out
    assert main(["rasp", "compile", str(library_dir() / "histogram.rasp"), "--vocab", "0 1 2", "--max-len", "9"]) == 0
    assert "grow with the sequence length" in capsys.readouterr().out
    assert main(["rasp", "compile", str(library_dir() / "histogram.rasp"), "--vocab", "0 1"]) == 2
    assert "--max-len" in capsys.readouterr().err


def test_cli_compiles_programs_outside_rasp_l_with_a_note(tmp_path, capsys):
    """Index arithmetic (a generated control's kind) is refused by rasp check
    but compiles: its weights are what the construction needs."""
    path = tmp_path / "control.rasp"
    path.write_text("# vocab: 0 1 2\noutput = aggregate(select(indices, indices % 3, ==), tokens, 0, max);\n")
    assert main(["rasp", "compile", str(path), "--max-len", "12"]) == 0
    captured = capsys.readouterr()
    assert "not RASP-L" in captured.err and "1 layers" in captured.out


def test_a_compiled_program_runs_as_model_compiled_and_gets_a_leaderboard_row(tmp_path, capsys):
    """`lengthgen run --model compiled`: no training step, the suite's
    evaluation and record, a leaderboard row beside trained models; the
    program's text is part of the run's identity."""
    import json
    import shutil

    from lengthgen.models import MODELS, build_model

    program = tmp_path / "sort.rasp"
    shutil.copy(library_dir() / "sort.rasp", program)
    args = ["run", "--benchmark", "sort", "--model", "compiled", "--model-opt", f"program={program}"]
    args += ["--test-lengths", "20,40", "--eval-examples", "20", "--out", str(tmp_path / "runs")]
    assert main(args) == 0
    (result_path,) = (tmp_path / "runs").glob("*.json")
    result = json.loads(result_path.read_text())
    assert result["training"]["steps"] == 0 and result["model"]["name"] == "compiled"
    assert all(row["exact"] == 1.0 for row in result["results"])
    assert result["config"]["model_options"]["program_sha256"]
    capsys.readouterr()
    assert main(["leaderboard", str(tmp_path / "runs")]) == 0
    assert "| compiled " in capsys.readouterr().out
    # an edited program is another run, and a model built for the old text refuses the new one
    old = result["config"]["model_options"]
    program.write_text(program.read_text() + "\n# edited\n")
    assert main(args) == 0
    assert len(list((tmp_path / "runs").glob("*.json"))) == 2
    with pytest.raises(Exception, match="changed since"):
        vocab = program_task(library_dir() / "sort.rasp").vocab
        build_model("compiled", len(vocab), vocab, **old)
    assert not MODELS.get("compiled").trainable


def test_model_compiled_needs_a_program(capsys):
    assert main(["run", "--benchmark", "sort", "--model", "compiled", "--out", "/tmp/lengthgen-never"]) == 2
    assert "program=FILE" in capsys.readouterr().err
