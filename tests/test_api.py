"""The public Python API, and the README's example of it, which must run."""

import re
from pathlib import Path

import numpy as np
import pytest

from lengthgen.api import evaluate, get_task, sample, score
from lengthgen.errors import LengthgenError

README = Path(__file__).resolve().parents[1] / "README.md"


def test_readme_api_example_runs(capsys):
    text = README.read_text(encoding="utf-8")
    match = re.search(r"<!-- api-example[^>]*-->\s*```python\n(.*?)```", text, re.S)
    assert match, "README lost its API example"
    exec(compile(match.group(1), "README.md", "exec"), {})
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("True") and "'censored': True" in out[0] and out[1] == "1.0"


def test_evaluate_tells_fit_from_extrapolation():
    task = get_task("copy-repeat")

    def copy_up_to_8(prompts, max_new):
        # right in range, wrong beyond length 8: fitted, extrapolation 1.0
        body = prompts[:, :-1] if prompts.shape[1] <= 9 else np.zeros_like(prompts[:, :-1])
        return np.concatenate([body, np.full((len(prompts), 1), 2)], axis=1)

    report = evaluate(copy_up_to_8, task, range(1, 9), [10, 12, 16], n=40)
    assert report["fit"]["fitted"] and report["outcome"]["extrapolation"] == {
        "length": 8,
        "factor": 1.0,
        "censored": False,
    }
    assert all("baseline" in r and "chance" in r["baseline"] for r in report["rows"])


def test_score_and_sample_are_deterministic():
    task = get_task("sort")
    a, b = sample(task, 5, 10, seed=4), sample(task, 5, 10, seed=4)
    assert (a.inputs == b.inputs).all()
    wrong = score(a, [[0] for _ in range(10)])
    assert wrong["exact"] == 0.0 and wrong["n"] == 10


def test_generate_with_a_bad_shape_is_a_clear_error():
    with pytest.raises(LengthgenError, match="generate must return"):
        evaluate(lambda p, m: np.zeros(3), get_task("parity"), [1, 2], [3], n=4)


def test_evaluate_refuses_a_training_range_of_length_zero_alone():
    task = get_task("c-pvr")
    with pytest.raises(LengthgenError, match="longest training length must be at least 1"):
        evaluate(lambda inputs: inputs, task, train_lengths=[0], test_lengths=[1])
