"""Tasks drawn from random programs (lengthgen.rasp.generate): seeded,
filtered, exact against the reference evaluator, controls outside RASP-L."""

from __future__ import annotations

import numpy as np
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from lengthgen.errors import LengthgenError
from lengthgen.rasp.codes import TokenCodes
from lengthgen.rasp.compiler import compile_source
from lengthgen.rasp.errors import RaspError
from lengthgen.rasp.generate import (
    ARITHMETIC_RULE,
    VOCAB,
    Draw,
    Sample,
    best_baseline,
    broken_rules,
    check_out_folder,
    excluded_signatures,
    generate_tasks,
    header,
    reject_reason,
    write_manifest,
)
from lengthgen.rasp.task import ProgramTask

CODES = TokenCodes(VOCAB)
END = 'output = where(tokens == "<sep>", answer, full("<eos>"));\n'


@pytest.fixture(scope="module")
def drawn(tmp_path_factory):
    folder = tmp_path_factory.mktemp("generated")
    stats: dict[str, int] = {}
    tasks = generate_tasks(
        2, seed=3, lengths=(3, 5), controls=1, out=folder, baseline_lengths=(10, 20), stats=stats, pool_draws=300
    )
    return folder, tasks, stats


@pytest.mark.slow  # a second full draw (about 16 s): run in .ci/run after the README's command
def test_the_same_seed_draws_the_same_tasks(drawn, tmp_path):
    folder, tasks, _ = drawn
    again = generate_tasks(
        2, seed=3, lengths=(3, 5), controls=1, out=tmp_path, baseline_lengths=(10, 20), pool_draws=300
    )
    assert [t.source for t in again] == [t.source for t in tasks]
    assert [t.name for t in again] == [t.name for t in tasks]
    other = generate_tasks(1, seed=4, lengths=(3,), baseline_lengths=(10,))
    assert other[0].source != tasks[0].source


def test_groups_lengths_and_files(drawn):
    folder, tasks, stats = drawn
    assert [t.group for t in tasks] == ["program", "program", "control"]
    assert [t.length for t in tasks[:2]] == [3, 5]  # a program lands on the length asked for
    assert abs(tasks[2].length - 3) <= 1  # a control within one of it
    for t in tasks:
        assert (folder / f"{t.name}.rasp").read_text() == t.source
        assert t.best_baseline["exact"] < 0.9
    assert sum(stats.values()) > 0  # what each filter refused is counted


def test_generated_targets_are_the_reference_evaluator_s(drawn):
    folder, tasks, _ = drawn
    for t in tasks:
        task = ProgramTask(program=str(folder / f"{t.name}.rasp"))
        assert task.unrestricted == (t.group == "control")
        for length in (1, 7, 30):
            batch = task.sample(np.random.default_rng(length), 12, length)
            for i in range(len(batch)):
                x, y = batch.example(i)
                assert task.decode(y) == task.reference(task.decode(x)), (t.name, length)
                assert len(task.decode(y)) == 1  # one answer token


def test_controls_break_an_index_arithmetic_rule_and_programs_none(drawn):
    _, tasks, _ = drawn
    for t in tasks:
        if t.group == "control":
            assert ARITHMETIC_RULE in t.violation
            with pytest.raises(RaspError):
                compile_source(t.source, "<control>", CODES)  # rasp check's strict compile refuses it
        else:
            assert compile_source(t.source, "<program>", CODES).violations == []


def compiled(body: str):
    return compile_source(body + END, "<t>", CODES)


@pytest.mark.parametrize(
    "body, reason",
    [
        ('answer = (tokens == "<sep>");\n', "constant"),
        ("answer = aggregate(select(indices, (indices - 1), ==), tokens, 0, max);\n", "copies the last input token"),
        ("answer = aggregate(select(indices, full(0), ==), tokens, 0, max);\n", "copies the first input token"),
        (
            "a1 = aggregate(select(indices, (indices - 1), ==), tokens, 0, max);\n"
            "a2 = aggregate(select(indices, (indices - 2), ==), tokens, 0, max);\n"
            "answer = (a1 == a2);\n",
            "decided by the last 3 input tokens",
        ),
        ("answer = aggregate(select(tokens, tokens, true), tokens, 0, max);\n", "one answer in >= 90%"),
        ("answer = (0 - aggregate(select(indices, full(0), ==), tokens, 0, max));\n", "answer outside 0-9"),
        # is the first token 1?  A table of the first token, at every length
        (
            "a1 = aggregate(select(indices, full(0), ==), tokens, 0, max);\nanswer = (a1 == 1);\n",
            "a table of the first 3 input tokens is within 10 points",
        ),
        (  # do the first two tokens agree?
            "a1 = aggregate(select(indices, full(0), ==), tokens, 0, max);\n"
            "a2 = aggregate(select(indices, full(1), ==), tokens, 0, max);\n"
            "answer = (a1 == a2);\n",
            "a table of the first 3",
        ),
        (  # is the first token 0, or a later token 0 too?  Nearly "is the first token 0" at 10+ tokens
            "a1 = aggregate(select(indices, full(0), ==), (tokens == 0), 0, max);\n"
            "a2 = aggregate(select(indices, full(0), >), (tokens == 0), 0, max);\n"
            "answer = (a1 + a2);\n",
            "a table of the first 3",
        ),
    ],
)
def test_filters_reject(body, reason):
    why = reject_reason(compiled(body), Sample(CODES))
    assert why is not None and why.startswith(reason), why


def test_a_balanced_non_local_task_passes_the_filters():
    # are most input tokens 2 or 3?  (neither constant, a copy, local, nor read off the first tokens)
    body = "a1 = aggregate(select(tokens, tokens, true), (tokens > 1), 0);\nanswer = (a1 > 0.5);\n"
    assert reject_reason(compiled(body), Sample(CODES)) is None


def test_best_baseline_finds_the_shortcut(tmp_path):
    path = tmp_path / "first.rasp"
    path.write_text(header("program", {}) + "answer = aggregate(select(indices, full(0), ==), tokens, 0, max);\n" + END)
    top = best_baseline(path, (10,))
    assert top["name"] == "first-input-token" and top["exact"] == 1.0


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n_ops=st.integers(1, 4), unrestricted=st.booleans())
def test_every_draw_compiles_or_is_refused_by_the_compiler(seed, n_ops, unrestricted):
    body = Draw(np.random.default_rng(seed), unrestricted).program(n_ops)
    try:
        program = compile_source(body, "<draw>", CODES, strict=False)
    except RaspError:
        return  # refused with a located error, never another exception
    assert program.interpreter().run(CODES.encode(["1", "0", "3", "<sep>"])).shape == (1, 4)


def test_generate_command_writes_a_manifest_and_refuses_a_used_folder(tmp_path, capsys):
    from lengthgen.cli.main import main

    out = tmp_path / "gen"
    assert main(["rasp", "generate", "--out", str(out), "--count", "1", "--lengths", "4", "--seed", "2"]) == 0
    doc = yaml.safe_load((out / "tasks.yaml").read_text())
    [record] = doc["tasks"]
    assert (out / record["file"]).is_file() and record["group"] == "program" and record["length"] == 4
    assert doc["settings"]["seed"] == 2 and "refused" in doc
    with pytest.raises(LengthgenError, match="not an empty folder"):
        check_out_folder(out)
    assert main(["rasp", "generate", "--out", str(out), "--count", "1"]) != 0
    assert "not an empty folder" in capsys.readouterr().err


def test_bad_arguments_are_errors():
    with pytest.raises(LengthgenError, match="2..12"):
        generate_tasks(1, seed=0, lengths=(1,))
    with pytest.raises(LengthgenError, match=">= 0"):
        generate_tasks(-1, seed=0)


@pytest.mark.parametrize(
    "body, rules",
    [
        ("a1 = aggregate(select(indices, (indices % 2), ==), tokens, 0, max);\nanswer = (a1 == 1);\n", ("arithmetic",)),
        (  # a running share of 1s compared with another: the means rule alone
            "a1 = aggregate(select(tokens, tokens, true), (tokens == 1), 0);\n"
            "a2 = aggregate(select(a1, a1, <), (tokens == 1), 0, max);\n"
            "answer = a2;\n",
            ("means",),
        ),
        ("answer = (aggregate(select(indices, full(0), ==), tokens, 0, max) == 1);\n", ()),
    ],
)
def test_broken_rules_name_each_kind_a_program_breaks(body, rules):
    program = compile_source(body + END, "<t>", CODES, strict=False)
    assert broken_rules(program) == rules


def test_control_rules_keep_only_controls_that_break_those(tmp_path):
    stats: dict[str, int] = {}
    [task] = generate_tasks(
        0,
        seed=5,
        lengths=(4,),
        controls=1,
        out=tmp_path,
        baseline_lengths=(10,),
        stats=stats,
        pool_draws=50,
        control_rules=("means",),
    )
    assert task.group == "control" and task.rules == ("means",)
    assert task.record()["rules"] == ["means"]
    assert any(reason.startswith("breaks a rule outside --control-rules") for reason in stats)
    with pytest.raises(LengthgenError, match="unknown modulo; choose from arithmetic, means, kinds"):
        generate_tasks(0, seed=5, controls=1, control_rules=("modulo",))


def test_an_excluded_signature_is_refused(tmp_path, monkeypatch):
    from lengthgen.rasp import generate

    # every draw that compiles at the length passes the filters and has one signature, which is excluded
    monkeypatch.setattr(generate, "MAX_DRAWS", 300)
    monkeypatch.setattr(generate, "reject_reason", lambda program, sample: None)
    monkeypatch.setattr(generate, "signature", lambda program, sample: bytes.fromhex("ab" * 16))
    stats: dict[str, int] = {}
    assert generate_tasks(1, seed=2, lengths=(3,), out=tmp_path, stats=stats, exclude=frozenset({"abababab"})) == []
    assert stats["drawn by an earlier study (--exclude)"] >= 1 and stats["slots left empty (program, length 3)"] == 1


@pytest.mark.slow
def test_exclude_replaces_an_earlier_draw_s_tasks(drawn, tmp_path):
    """A follow-up study with the same seed draws other tasks in place of
    those an earlier draw took (their cells were read before its predictions)."""
    folder, tasks, _ = drawn
    write_manifest(tmp_path, tasks, {}, {})
    stats: dict[str, int] = {}
    again = generate_tasks(
        1,
        seed=3,
        lengths=(3,),
        out=tmp_path / "again",
        baseline_lengths=(10, 20),
        stats=stats,
        exclude=excluded_signatures([tmp_path]),
    )
    assert len(again) == 1 and again[0].name not in {t.name for t in tasks}
    assert stats["drawn by an earlier study (--exclude)"] >= 1  # the same seed's first task, refused
    bad = tmp_path / "bad.yaml"
    bad.write_text("tasks: [{name: count}]\n")
    with pytest.raises(LengthgenError, match="'count' is not a generated task's name"):
        excluded_signatures([bad])
    with pytest.raises(LengthgenError, match="cannot read a manifest"):
        excluded_signatures([tmp_path / "missing.yaml"])


def test_the_command_passes_exclude_on(tmp_path, monkeypatch):
    from lengthgen.cli.main import main
    from lengthgen.rasp import generate

    seen = {}
    monkeypatch.setattr(generate, "generate_tasks", lambda *a, **kw: seen.update(kw) or [])
    (tmp_path / "a.yaml").write_text("tasks: [{name: g03-e40b8937}]\n")
    (tmp_path / "b.yaml").write_text("tasks: [{name: c05-8c663e9c}]\n")
    (tmp_path / "out").mkdir()  # the stand-in draws nothing, so makes no folder
    argv = ["rasp", "generate", "--out", str(tmp_path / "out"), "--exclude", str(tmp_path / "a.yaml")]
    assert main([*argv, "--exclude", str(tmp_path / "b.yaml")]) == 0
    assert seen["exclude"] == {"e40b8937", "8c663e9c"}
