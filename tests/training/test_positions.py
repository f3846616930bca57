"""Random position offsets and packed contexts (lengthgen.training.positions)."""

import numpy as np
import pytest
import torch

from lengthgen.errors import LengthgenError
from lengthgen.experiment import RunConfig, build, make_trainer, offset_span
from lengthgen.tasks import EOS, SEP
from lengthgen.tasks.base import Batch
from lengthgen.training import positions as positions_module
from lengthgen.training.loop import TrainConfig
from lengthgen.training.positions import draw_offsets, pack_rows, shifted_positions

CPU = torch.device("cpu")


def offset_config(pe="learned", steps=200, **train):
    return RunConfig(
        task="copy-unique",
        params={"alphabet": 16},
        model="transformer",
        model_options={"d_model": 16, "n_heads": 2, "n_layers": 1, "pe": pe, "max_positions": 40},
        train_lengths=[1, 2, 3, 4],
        test_lengths=[12],
        seed=1,
        train=TrainConfig(steps=steps, batch_size=8, warmup=2, eval_every=1000, eval_examples=8, **train),
    )


def table_rows_with_gradient(cfg: RunConfig) -> set[int]:
    task, test_task, model = build(cfg)
    trainer = make_trainer(cfg, task, test_task, model, CPU, progress=False)
    touched: set[int] = set()
    for _ in range(cfg.train.steps):
        trainer.train_step()
        grad = model.pe.table.weight.grad
        touched |= set(np.flatnonzero(grad.abs().sum(dim=1).numpy() > 0).tolist())
    return touched


def test_offsets_train_every_table_row_up_to_the_longest_test_sequence():
    # copy-unique at 12 items: the model reads 12 + 1 + 12 tokens, positions 0..24
    with_offsets = table_rows_with_gradient(offset_config(position_offset="example"))
    assert set(range(25)) <= with_offsets
    assert max(with_offsets) == 24  # and none beyond the span
    # the control: without offsets the rows past the longest training sequence (4 + 4 + 2 tokens) stay untrained
    without = table_rows_with_gradient(offset_config(steps=20))
    assert max(without) == 8


def test_example_offsets_keep_each_sequence_inside_the_span():
    rows = np.array([3, 10, 7, 1])
    offsets = draw_offsets(np.random.default_rng(0), "example", np.repeat(rows, 500), 10)
    ends = offsets + np.repeat(rows, 500) - 1
    assert ends.max() <= 9 and offsets.min() == 0
    assert set(offsets[np.repeat(rows, 500) == 3]) == set(range(8))  # every start 0..span-n is drawn


def test_batch_offsets_share_one_draw():
    offsets = draw_offsets(np.random.default_rng(3), "batch", np.array([2, 5, 4]), 9)
    assert len(set(offsets.tolist())) == 1 and 0 <= offsets[0] <= 4


def test_padding_columns_repeat_the_last_real_position():
    assert shifted_positions(np.array([2, 7]), 5, np.array([5, 3])).tolist() == [[2, 3, 4, 5, 6], [7, 8, 9, 9, 9]]


def test_trainer_batches_carry_offsets_and_evaluation_starts_at_zero():
    cfg = offset_config(steps=5, position_offset="example")
    task, test_task, model = build(cfg)
    trainer = make_trainer(cfg, task, test_task, model, CPU, progress=False)
    batch = trainer.next_batch()
    assert batch.positions is not None and int(batch.positions[:, 0].max()) > 0
    assert int(batch.positions.max()) <= 24
    assert model.sample_positions(np.random.default_rng(0), 2, 5) is None  # evaluation: 0..T-1


class NumberedExamples:
    """A stand-in sampler: example k is ``x x <sep> x <eos>`` with x = 3 + k, so a row shows which examples it holds."""

    def __init__(self):
        self.count = 0

    def __call__(self, task, rng, n, lengths):
        x = 3 + self.count + np.arange(n)[:, None]
        self.count += n
        return Batch.fixed(np.repeat(x, 2, axis=1), x)


def reference_row(shift: int, context: int) -> tuple[list[int], list[int], list[bool]]:
    """The row built by hand: the stream of numbered examples, cut at ``shift``."""
    stream, predicted, owner = [], [], []
    for k in range(20):
        x = 3 + k
        stream += [x, x, SEP, x, EOS]
        predicted += [False, False, False, True, True]
        owner += [k] * 5
    cut = slice(shift, shift + context + 1)
    stream, predicted, owner = stream[cut], predicted[cut], owner[cut]
    mask = [p and (o > 0 or shift == 0) for p, o in zip(predicted[1:], owner[1:])]
    return stream[:-1], stream[1:], mask


@pytest.mark.parametrize("seed", range(6))
def test_packed_row_equals_the_hand_built_layout(monkeypatch, seed):
    monkeypatch.setattr(positions_module, "sample_mixed_lengths", NumberedExamples())
    packed = pack_rows(None, np.random.default_rng(seed), 1, 13, [2])
    shift = int(np.random.default_rng(seed).integers(0, 5))  # the first draw: where in example 0 the row starts
    tokens, labels, mask = reference_row(shift, 13)
    assert packed.tokens[0].tolist() == tokens
    assert packed.labels[0].tolist() == labels
    assert packed.loss_mask[0].tolist() == mask


def test_packed_rows_have_no_padding_and_real_examples():
    cfg = offset_config(pack_context=30)
    task, _, _ = build(cfg)
    packed = pack_rows(task, np.random.default_rng(0), 16, 30, [1, 2, 3, 4])
    assert (packed.tokens != 0).all()
    assert packed.examples > 16
    # every predicted token is a target of copy: it equals the input token the same distance before the <sep>
    for row, labels, mask in zip(packed.tokens, packed.labels, packed.loss_mask):
        for t in np.flatnonzero(mask):
            if labels[t] != EOS:
                seps = np.flatnonzero(row[: t + 1] == SEP)
                start = seps[-1]
                k = t - start  # the k-th target token
                before = np.flatnonzero(np.isin(row[:start], [SEP, EOS]))
                first = before[-1] + 1 if len(before) else 0
                assert labels[t] == row[first + k]


def test_packing_trains_and_counts_whole_rows():
    cfg = offset_config(steps=3, pack_context=30)
    task, test_task, model = build(cfg)
    trainer = make_trainer(cfg, task, test_task, model, CPU, progress=False)
    batch = trainer.next_batch()
    assert tuple(batch.tokens.shape) == (8, 30) and batch.positions is None
    trainer.run()
    assert trainer.state.tokens_seen == 3 * 8 * 30


def test_offsets_and_packing_enter_the_identity_only_when_set():
    base = offset_config().fingerprint()
    assert offset_config(position_offset="none", offset_span=0, pack_context=0).fingerprint() == base
    assert offset_config(position_offset="example").fingerprint() != base
    assert (
        offset_config(position_offset="batch").fingerprint() != offset_config(position_offset="example").fingerprint()
    )
    assert offset_config(pack_context=30).fingerprint() != base


@pytest.mark.parametrize(
    "pe, train, message",
    [
        ("rope", {"position_offset": "example"}, "changes nothing for pe 'rope'"),
        ("none", {"position_offset": "batch"}, "changes nothing for pe 'none'"),
        ("learned", {"position_offset": "sideways"}, "must be one of none, example, batch"),
        ("learned", {"offset_span": 30}, "needs position_offset"),
        ("learned", {"position_offset": "example", "offset_span": 5}, "shorter than a training row"),
        ("learned", {"position_offset": "example", "offset_span": 60}, "need max_positions >= 60"),
        ("learned", {"pack_context": 6}, "shorter than the longest training sequence"),
        ("learned", {"pack_context": 30, "train_examples": 100}, "do not combine"),
    ],
)
def test_misuse_gives_one_line_errors(pe, train, message):
    cfg = offset_config(pe=pe, steps=2, **train)
    with pytest.raises(LengthgenError, match=message) as err:
        task, test_task, model = build(cfg)
        make_trainer(cfg, task, test_task, model, CPU, progress=False)
    assert "\n" not in str(err.value)


def test_packed_rows_take_offsets_too():
    cfg = offset_config(steps=3, pack_context=30, position_offset="batch", offset_span=40)
    task, test_task, model = build(cfg)
    trainer = make_trainer(cfg, task, test_task, model, CPU, progress=False)
    for _ in range(5):
        batch = trainer.next_batch()
        first = batch.positions[:, 0]
        assert (first == first[0]).all() and 0 <= int(first[0]) <= 10  # one draw per batch, rows end inside the span
        assert int(batch.positions.max()) <= 39


def test_default_span_covers_a_run_tested_only_at_its_longest_training_length():
    cfg = offset_config(steps=2, position_offset="example")
    cfg.test_lengths = [4]  # nothing beyond the range: the span is the longest training row
    task, test_task, model = build(cfg)
    trainer = make_trainer(cfg, task, test_task, model, CPU, progress=False)
    assert trainer.offset_span == 9  # 4 + 1 + 4 tokens read
    assert int(trainer.next_batch().positions.max()) <= 8


@pytest.mark.parametrize(
    "train, test_lengths, span",
    [
        ({"position_offset": "none"}, [12], None),
        ({"position_offset": "example"}, [12], 25),  # 12 tokens, <sep>, 12 tokens read (the <eos> is a label)
        ({"position_offset": "batch"}, [], 9),
        ({"position_offset": "example", "offset_span": 30}, [12], 30),
    ],
)
def test_offset_span_is_the_span_the_trainer_draws_offsets_over(train, test_lengths, span):
    cfg = offset_config(steps=2, **train)
    cfg.test_lengths = test_lengths
    task, test_task, model = build(cfg)
    assert offset_span(cfg, task, test_task) == span
    assert make_trainer(cfg, task, test_task, model, CPU, progress=False).offset_span == (span or 0)
