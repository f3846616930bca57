"""Length buckets: the same loss and gradient as the padded batch, for every
model in the registry, with less padding; the option enters the identity."""

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from lengthgen.errors import LengthgenError
from lengthgen.experiment import RunConfig
from lengthgen.models import trainable_models
from lengthgen.training.buckets import length_groups
from lengthgen.training.loop import TrainConfig
from tests.training.small import small_trainer

CPU = torch.device("cpu")


@given(st.lists(st.integers(1, 60), min_size=1, max_size=40), st.integers(1, 8))
@settings(max_examples=200, deadline=None)
def test_groups_cover_every_row_once_and_never_pad_more(lengths, buckets):
    lengths = np.array(lengths)
    groups = length_groups(lengths, buckets)
    rows = np.concatenate([r for r, _ in groups])
    assert sorted(rows.tolist()) == list(range(len(lengths)))
    assert 1 <= len(groups) <= buckets
    for r, width in groups:
        assert width == lengths[r].max()
    area = sum(len(r) * w for r, w in groups)
    assert area <= len(lengths) * lengths.max()
    # an equal-count split is one of the options the search considered
    if buckets <= len(lengths):
        even = np.array_split(np.sort(lengths), buckets)
        assert area <= sum(len(c) * c.max() for c in even if len(c))


def trainer(model_name: str, buckets: int, pe: str | None = None):
    return small_trainer(model_name, pe, length_buckets=buckets)


@pytest.mark.parametrize("pe", [None, "learned", "alibi", "randomized"])
@pytest.mark.parametrize("model_name", sorted(trainable_models()))
def test_bucketed_loss_and_gradient_equal_the_padded_ones(model_name, pe):
    if pe is not None and model_name == "lstm":
        pytest.skip("the LSTM reads no positions")
    padded, bucketed = trainer(model_name, 0, pe), trainer(model_name, 4, pe)
    # float64: matmuls over other batch shapes round differently, and in float32
    # that can tip an ACT halting decision sitting at its threshold
    padded.model.double()
    bucketed.model.double()
    bucketed.model.load_state_dict(padded.model.state_dict())
    batch = padded.next_batch()
    assert len(set(batch.row_tokens.tolist())) > 1  # a mixed-length batch: there is padding to skip
    grads = []
    for tr in (padded, bucketed):
        tr.model.zero_grad()
        loss, right = tr.batch_loss(batch, tr.cfg.length_buckets)
        loss.backward()
        grads.append(
            (loss.item(), right.sum().item(), [p.grad.clone() for p in tr.model.parameters() if p.grad is not None])
        )
    (l0, r0, g0), (l1, r1, g1) = grads
    assert l1 == pytest.approx(l0, rel=1e-6) and r0 == r1
    assert len(g0) == len(g1) > 0
    for a, b in zip(g0, g1):
        torch.testing.assert_close(a, b, rtol=1e-6, atol=1e-9)


def test_buckets_compute_fewer_tokens_and_train_the_same_examples():
    padded, bucketed = trainer("transformer", 0), trainer("transformer", 4)
    bucketed.model.load_state_dict(padded.model.state_dict())
    padded.train_step()
    bucketed.train_step()
    assert bucketed.state.tokens_seen < padded.state.tokens_seen
    # the same data stream: the next batches are the same examples
    assert torch.equal(padded.next_batch().tokens, bucketed.next_batch().tokens)


def test_the_option_enters_the_identity_only_when_on():
    base = RunConfig(task="count", train_lengths=[1, 2], test_lengths=[3])
    on = RunConfig(task="count", train_lengths=[1, 2], test_lengths=[3], train=TrainConfig(length_buckets=4))
    assert "length_buckets" not in base.identity()["train"]
    assert on.identity()["train"]["length_buckets"] == 4 and on.fingerprint() != base.fingerprint()


@pytest.mark.parametrize(
    "bad", [{"length_buckets": -1}, {"length_buckets": 65}, {"length_buckets": 2, "pack_context": 32}]
)
def test_bad_bucket_options(bad):
    with pytest.raises(LengthgenError, match="length_buckets"):
        TrainConfig(**bad).validate()
