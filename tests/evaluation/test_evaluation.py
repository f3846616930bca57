"""Decoding, scoring and intervals."""

import math

import numpy as np
import pytest
import torch

from lengthgen.evaluation.evaluate import evaluate_length, score_predictions, teacher_forced_exact
from lengthgen.evaluation.metrics import AccuracyCounts, wilson_interval
from lengthgen.models import build_model
from lengthgen.models.base import ModelOutput, SequenceModel
from lengthgen.tasks import EOS, make_task

CPU = torch.device("cpu")


@pytest.mark.parametrize(
    "k,n,lo,hi",
    [(0, 10, 0.0, 0.2775), (10, 10, 0.7225, 1.0), (5, 10, 0.2366, 0.7634), (50, 100, 0.4038, 0.5962)],
)
def test_wilson_known_values(k, n, lo, hi):
    a, b = wilson_interval(k, n)
    assert a == pytest.approx(lo, abs=1e-4) and b == pytest.approx(hi, abs=1e-4)


def test_wilson_narrows_with_n():
    w_small = np.diff(wilson_interval(9, 10))[0]
    w_big = np.diff(wilson_interval(900, 1000))[0]
    assert w_big < w_small
    with pytest.raises(ValueError):
        wilson_interval(11, 10)


class Oracle(SequenceModel):
    """Predicts the reference answer: tests scoring end to end without training."""

    def __init__(self, task, corrupt_every=0):
        super().__init__(task.vocab_size, 8, 1, "none", 8)
        self.task, self.corrupt_every = task, corrupt_every

    def forward(self, tokens, positions=None, cache=None):
        logits = torch.zeros(*tokens.shape, self.vocab_size)
        for b, row in enumerate(tokens.tolist()):
            sep = row.index(1)
            target = self.task.ids(self.task.reference(self.task.decode(row[:sep]))).tolist() + [EOS]
            for t in range(sep, len(row)):
                k = t - sep
                tok = target[k] if k < len(target) else EOS
                if self.corrupt_every and b % self.corrupt_every == 0 and k == 0:
                    tok = 3 + (tok - 3 + 1) % (self.vocab_size - 3)  # wrong first token
                logits[b, t, tok] = 1.0
        return ModelOutput(logits)


@pytest.mark.parametrize("task_name", ["sort", "stack-manipulation", "addition", "c-pvr"])
def test_oracle_scores_perfectly(task_name):
    task = make_task(task_name)
    counts = evaluate_length(Oracle(task), task, 3, 40, np.random.default_rng(0), CPU, batch_size=16)
    assert counts.examples == 40 and counts.exact == 40 and counts.tokens_correct == counts.tokens


def test_corrupted_oracle_scores_exactly_the_corrupted_fraction():
    task = make_task("copy-unique")
    counts = evaluate_length(Oracle(task, corrupt_every=4), task, 5, 64, np.random.default_rng(0), CPU, batch_size=64)
    assert counts.exact == 48  # one in four examples has a wrong first token
    summary = counts.summary()
    assert summary["exact"] == pytest.approx(0.75)
    assert summary["token"] == pytest.approx(1 - 16 / (64 * 5))


def test_missing_eos_is_not_exact():
    task = make_task("sort")
    batch = task.sample(np.random.default_rng(0), 2, 3)
    pred = np.concatenate([batch.targets, np.full((2, 1), 5)], axis=1)
    counts = score_predictions(pred, batch, np.arange(2), None)
    assert counts.exact == 0 and counts.tokens_correct == counts.tokens


def test_teacher_forced_exact_matches_greedy():
    task = make_task("copy-unique", alphabet=12)
    torch.manual_seed(0)
    model = build_model("transformer", task.vocab_size, d_model=16, n_heads=2, n_layers=1)
    # train a few steps so predictions are not constant
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    from lengthgen.training.data import to_lm_batch

    for _ in range(30):
        lm = to_lm_batch(task.sample(np.random.default_rng(_), 32, 3))
        loss = torch.nn.functional.cross_entropy(
            model(torch.from_numpy(lm.tokens)).logits.transpose(1, 2), torch.from_numpy(lm.labels), reduction="none"
        )
        loss = (loss * torch.from_numpy(lm.loss_mask)).sum()
        opt.zero_grad()
        loss.backward()
        opt.step()
    batch = task.sample(np.random.default_rng(5), 200, 3)
    tf = teacher_forced_exact(model, batch, np.random.default_rng(0), CPU)
    greedy = evaluate_length(model, task, 3, 200, np.random.default_rng(5), CPU, batch_size=200)
    assert math.isclose(tf, greedy.exact / greedy.examples)


def test_counts_accumulate():
    a = AccuracyCounts(examples=2, exact=1, tokens=4, tokens_correct=3)
    a.add(AccuracyCounts(examples=2, exact=2, tokens=4, tokens_correct=4))
    assert a.summary()["exact"] == 0.75 and a.summary()["token"] == 7 / 8


def test_tokens_after_an_early_eos_count_as_wrong():
    import numpy as np

    from lengthgen.evaluation.evaluate import score_predictions
    from lengthgen.tasks import EOS, Batch

    targets = np.array([[5, 6, 7]])
    batch = Batch.fixed(np.array([[3, 4]]), targets)
    early = score_predictions(np.array([[5, EOS, 7, EOS]]), batch, np.array([0]), None)
    assert early.tokens_correct == 1 and early.exact == 0  # the 7 after <eos> is not an answer token
    right = score_predictions(np.array([[5, 6, 7, EOS]]), batch, np.array([0]), None)
    assert right.tokens_correct == 3 and right.exact == 1


def test_exact_given_length_tells_a_wrong_stop_from_wrong_content():
    import numpy as np

    from lengthgen.evaluation.evaluate import score_predictions
    from lengthgen.tasks import EOS, Batch

    batch = Batch.fixed(np.array([[3, 4], [3, 4], [3, 4]]), np.array([[5, 6], [5, 6], [5, 6]]))
    pred = np.array(
        [
            [5, 6, EOS],  # right
            [5, 6, 6],  # right content, no stop: a wrong stop
            [5, 7, EOS],  # wrong content
        ]
    )
    counts = score_predictions(pred, batch, np.arange(3), None)
    assert counts.exact == 1 and counts.content == 2
    assert counts.summary()["exact_given_length"] == 2 / 3
