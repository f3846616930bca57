"""Tasks defined by RASP-L programs (--task rasp:FILE): the program computes
every target, exactly as its reference evaluator generates it."""

from __future__ import annotations

import numpy as np
import pytest

from lengthgen.errors import LengthgenError
from lengthgen.plugins import ensure_task
from lengthgen.runconfig import _name_part
from lengthgen.tasks import make_task

MODE = """# vocab: 0 1 2 3
# inputs: 0 1 2 3
is_input = tokens >= 0;
count = where(is_input, num_prev(tokens), full(0));
best = aggregate(select(count, count, true), count, 0, max);
winner = aggregate(select(count, best, ==), tokens, 0, max);
output = where(tokens == "<sep>", winner, full("<eos>"));
"""

# the distinct input tokens in increasing order (the searched sort program): a sequence output
DISTINCT_SORTED = """# vocab: 1 2 3 4 5 6
a1 = aggregate(select(tokens, tokens, >), (0 - tokens), 0, max);
output = where(!((tokens > 0)), (0 - a1), where((a1 >= 0), full("<eos>"), (0 - a1)));
"""


@pytest.fixture(autouse=True)
def forget_program_tasks():
    """Program tasks registered here point into tmp_path: unregister them after each test."""
    yield
    from lengthgen.tasks import TASKS

    for name in [n for n in TASKS.names() if n.startswith("rasp:")]:
        TASKS.unregister(name)


def program(tmp_path, source: str, name: str = "p.rasp") -> str:
    path = tmp_path / name
    path.write_text(source)
    return ensure_task(f"rasp:{path}")


@pytest.mark.parametrize("source", [MODE], ids=["mode"])
@pytest.mark.parametrize("length", [1, 5, 17])
def test_targets_are_the_programs_output_by_the_reference_evaluator(tmp_path, source, length):
    task = make_task(program(tmp_path, source))
    batch = task.sample(np.random.default_rng(length), 40, length)
    for i in range(len(batch)):
        x, y = batch.example(i)
        assert task.decode(y) == task.reference(task.decode(x))  # per example, plain Python loops
    again = task.sample(np.random.default_rng(length), 40, length)
    assert np.array_equal(batch.targets, again.targets) and np.array_equal(batch.inputs, again.inputs)


def test_a_program_that_writes_a_sequence_defines_ragged_targets(tmp_path):
    task = make_task(program(tmp_path, DISTINCT_SORTED))
    batch = task.sample(np.random.default_rng(0), 32, 6)
    assert len(set(batch.target_lengths.tolist())) > 1  # answers of several lengths in one batch
    for i in range(len(batch)):
        x, y = batch.example(i)
        assert task.decode(y) == sorted(set(task.decode(x)), key=int) == task.reference(task.decode(x))


@pytest.mark.parametrize(
    "source, fragment",
    [
        ("output = tokens;\n", "'# vocab: ...' header"),
        ("# vocab: a b\n# inputs: a z\noutput = tokens;\n", "not in '# vocab:'"),
        ('# vocab: a b\noutput = full("a");\n', "no <eos> within"),
        ("# vocab: a b\noutput = full(7);\n", "not a token of its '# vocab:'"),
        ("# vocab: a b\n# mode: rasp\noutput = aggregate(select(indices, indices, >), tokens);\n", "not RASP-L"),
    ],
)
def test_a_program_that_defines_no_task_is_a_clear_error(tmp_path, source, fragment):
    with pytest.raises(LengthgenError, match=fragment):
        task = make_task(program(tmp_path, source))
        task.sample(np.random.default_rng(0), 4, 3)


def test_an_edited_program_is_another_task(tmp_path):
    name = program(tmp_path, MODE)
    task = make_task(name)
    (tmp_path / "p.rasp").write_text(MODE.replace("max);\noutput", "max);\n# edited\noutput"))
    with pytest.raises(LengthgenError, match="changed since"):
        make_task(name, **{k: v for k, v in task.config.items() if k == "program_hash"})


def test_run_names_keep_the_programs_stem():
    assert _name_part("rasp:some/where/my prog.rasp") == "rasp-my-prog"


def test_a_missing_file_is_a_clear_error():
    with pytest.raises(LengthgenError, match="no such program file"):
        ensure_task("rasp:/no/such/file.rasp")


def test_a_runs_identity_is_the_programs_content_not_where_its_file_lies(tmp_path):
    from lengthgen.runconfig import RunConfig, validate

    def fingerprint(folder, source, check=True):
        folder.mkdir(exist_ok=True)
        cfg = RunConfig(task=program(folder, source), model="transformer", train_lengths=[2, 3], test_lengths=[5])
        if check:
            validate(cfg)  # fills params.program and program_hash, as a run does
        return cfg.fingerprint()

    here = fingerprint(tmp_path / "here", MODE)
    # what a result file stores as its configuration still names the file, to run it again
    stored = RunConfig(task=program(tmp_path / "here", MODE), model="transformer").identity()
    assert stored["task"] == f"rasp:{tmp_path / 'here' / 'p.rasp'}"
    assert fingerprint(tmp_path / "a clone elsewhere", MODE) == here
    edited = MODE.replace("0, max);\nout", "1, max);\nout")
    assert fingerprint(tmp_path / "edited", edited) != here
    # before validation the file's content stands in for the hash: two programs never share a name
    assert fingerprint(tmp_path / "raw", MODE, check=False) != fingerprint(tmp_path / "raw edited", edited, check=False)
