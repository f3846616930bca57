"""The copy-mechanism probe (results/studies/replication-huang/copy_mechanism.py)
classifies answers correctly: checked on hand-written copiers whose rule
is known (by content, by position, the first input token not yet copied)."""

import importlib.util
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import torch

from lengthgen.tasks import make_task
from lengthgen.tasks.base import EOS, SEP

SCRIPT = Path(__file__).resolve().parents[2] / "results/studies/replication-huang/copy_mechanism.py"
pytestmark = pytest.mark.skipif(not SCRIPT.exists(), reason="needs the repository's results folder")


def load_script():
    spec = importlib.util.spec_from_file_location("copy_mechanism", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class Copier(torch.nn.Module):
    """Reads ``x <sep> y_0 .. y_{t-1}`` and answers by a fixed rule, as logits."""

    def __init__(self, vocab: int, by: str):
        super().__init__()
        self.vocab, self.by = vocab, by

    def forward(self, tokens):
        rows = tokens.numpy()
        out = np.zeros((*rows.shape, self.vocab), dtype=np.float32)
        for r, row in enumerate(rows):
            sep = int(np.flatnonzero(row == SEP)[0])
            x = list(row[:sep])
            for t in range(sep, len(row)):
                done = t - sep  # output tokens before this prediction
                if self.by == "position":
                    answer = x[done] if done < len(x) else EOS
                elif self.by == "coverage":  # the first input token not yet copied
                    copied = set(row[sep + 1 : t + 1])
                    answer = next((v for v in x if v not in copied), EOS)
                else:  # content: the successor of the last token read
                    last = row[t]
                    i = x.index(last) if last in x else -1
                    answer = x[i + 1] if 0 <= i + 1 < len(x) else EOS
                out[r, t, answer] = 1.0
        return SimpleNamespace(logits=torch.from_numpy(out))


@pytest.mark.parametrize("by", ["content", "position"])
@pytest.mark.parametrize("jump", [-5, -1, 1, 5])
def test_jump_probe_names_the_rule_of_a_known_copier(by, jump):
    probe = load_script()
    task = make_task("copy-unique", alphabet=40)
    result = probe.jump_probe(Copier(task.vocab_size, by), task, 12, jump, n=60)
    assert result[by] == 100.0
    assert result["other"] == 0.0


@pytest.mark.parametrize("by", ["content", "position", "coverage"])
def test_a_perfect_copier_makes_no_error_at_any_place(by):
    probe = load_script()
    task = make_task("copy-unique", alphabet=40)
    assert probe.place_errors(Copier(task.vocab_size, by), task, 15, n=20).max() == 0.0


@pytest.mark.parametrize("by,answer", [("content", "content"), ("coverage", "hole")])
@pytest.mark.parametrize("back", [3, 5, 10])
def test_hole_probe_names_the_rule_of_a_known_copier(by, answer, back):
    probe = load_script()
    task = make_task("copy-unique", alphabet=40)
    result = probe.hole_probe(Copier(task.vocab_size, by), task, 14, back, n=60)
    assert result[answer] == 100.0 and result["other"] == 0.0


def test_no_place_for_a_jump_longer_than_the_copy():
    probe = load_script()
    task = make_task("copy-unique", alphabet=40)
    assert probe.jump_probe(Copier(task.vocab_size, "content"), task, 4, 5, n=10) is None
