"""Packed examples (training option pack_examples): whole examples side by
side, attention confined to each; the same loss and gradient as the padded
batch, for every model that can confine attention, with less padding."""

import inspect

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from lengthgen.errors import LengthgenError
from lengthgen.experiment import RunConfig
from lengthgen.models import MODELS, trainable_models
from lengthgen.training.loop import TrainConfig
from lengthgen.training.positions import pack_examples
from tests.training.small import small_trainer

CPU = torch.device("cpu")


@given(st.lists(st.integers(1, 30), min_size=1, max_size=40))
@settings(max_examples=200, deadline=None)
def test_every_example_lands_whole_in_one_row(lengths):
    lengths = np.array(lengths)
    width = int(lengths.max())
    tokens = np.zeros((len(lengths), width), dtype=np.int64)
    for i, n in enumerate(lengths):
        tokens[i, :n] = 1000 * (i + 1) + np.arange(n)  # every token names its example and place
    rows = pack_examples(tokens, tokens, tokens > 0, lengths)
    assert rows.tokens.shape[1] == width and len(rows.tokens) <= len(lengths)
    assert (rows.segments > 0).sum() == lengths.sum()  # no token lost or doubled
    for i, n in enumerate(lengths):
        where = rows.example == i
        r = np.nonzero(where.any(axis=1))[0]
        assert len(r) == 1  # one row, contiguous, in order, positions from 0
        assert rows.tokens[where].tolist() == tokens[i, :n].tolist()
        assert rows.positions[where].tolist() == list(range(n))
        assert len(set(rows.segments[where].tolist())) == 1


def trainer(model_name: str, packed: bool, pe: str | None = None, offsets: str = "none"):
    return small_trainer(model_name, pe, pack_examples=packed, position_offset=offsets)


def _confines(name: str) -> bool:
    return "segments" in inspect.signature(MODELS.get(name).cls.forward).parameters


CONFINING = sorted(n for n in trainable_models() if _confines(n))
REFUSING = sorted(n for n in trainable_models() if not _confines(n))


# every model that confines attention, and the transformer under each kind of encoding
# (a table read by position, a logit bias, a rotation, a learned bias function)
COMBOS = [(m, None) for m in CONFINING] + [("transformer", pe) for pe in ("learned", "alibi", "rope", "fire")]


@pytest.mark.parametrize("model_name, pe", COMBOS)
def test_packed_loss_and_gradient_equal_the_padded_ones(model_name, pe):
    padded, packed = trainer(model_name, False, pe), trainer(model_name, True, pe)
    # float64: other batch shapes round differently, which can tip an ACT halting decision
    padded.model.double()
    packed.model.double()
    packed.model.load_state_dict(padded.model.state_dict())
    batches = padded.next_batch(), packed.next_batch()
    assert len(batches[1].tokens) < len(batches[0].tokens)  # fewer rows: padding removed
    results = []
    for tr, batch in zip((padded, packed), batches):
        tr.model.zero_grad()
        loss, right = tr.batch_loss(batch)
        loss.backward()
        results.append((loss.item(), right.sum().item(), [p.grad.clone() for p in tr.model.parameters()]))
    (l0, r0, g0), (l1, r1, g1) = results
    assert l1 == pytest.approx(l0, rel=1e-6) and r0 == r1
    for a, b in zip(g0, g1):
        torch.testing.assert_close(a, b, rtol=1e-6, atol=1e-9)


def test_offsets_move_each_packed_example_as_in_its_own_row():
    packed = trainer("transformer", True, "learned", offsets="example")
    batch = packed.next_batch()
    pos, example = batch.positions.numpy(), batch.example.numpy()
    starts = [pos[example == i][0] for i in np.unique(example[example >= 0])]
    assert len(set(starts)) > 1 and all(np.diff(pos[example == i]).tolist() == [1] * (int((example == i).sum()) - 1)
                                         for i in np.unique(example[example >= 0]))  # fmt: skip
    assert pos.max() < packed.offset_span


def test_packing_trains_fewer_tokens_on_the_same_examples():
    padded, packed = trainer("transformer", False), trainer("transformer", True)
    packed.model.load_state_dict(padded.model.state_dict())
    padded.train_step()
    packed.train_step()
    assert packed.state.tokens_seen < padded.state.tokens_seen


def test_the_option_enters_the_identity_only_when_on():
    base = RunConfig(task="count", train_lengths=[1, 2], test_lengths=[3])
    on = RunConfig(task="count", train_lengths=[1, 2], test_lengths=[3], train=TrainConfig(pack_examples=True))
    assert "pack_examples" not in base.identity()["train"]
    assert on.identity()["train"]["pack_examples"] is True and on.fingerprint() != base.fingerprint()


@pytest.mark.parametrize(
    "model_name, pe, fragment",
    [(m, None, "confines attention") for m in REFUSING] + [("transformer", "randomized", "pe 'randomized'")],
)
def test_packing_is_refused_where_it_cannot_confine(model_name, pe, fragment):
    with pytest.raises(LengthgenError, match=fragment):
        trainer(model_name, True, pe)


@pytest.mark.parametrize("other", [{"pack_context": 32}, {"length_buckets": 2}])
def test_packing_does_not_combine_with_other_padding_removal(other):
    with pytest.raises(LengthgenError, match="pack_examples"):
        TrainConfig(pack_examples=True, **other).validate()


def test_auto_resolves_to_the_layout_the_run_can_use():
    from lengthgen.runconfig import apply_settings, validate

    def resolved(model, pe=None):
        data = {"task": "count", "train_lengths": "1-4", "test_lengths": "8", "model": model}
        data["training"] = {"pack_examples": "auto"}
        if pe:
            data["model_options"] = {"pe": pe}
        cfg = apply_settings(RunConfig(), data, "test")
        validate(cfg)
        return cfg

    assert resolved("transformer", "rope").train.pack_examples is True
    assert resolved("transformer", "randomized").train.pack_examples is False
    padded = resolved("lstm")
    assert padded.train.pack_examples is False and "confines attention" in padded.sources["train.pack_examples"]
    # a run that cannot pack under auto is the padded run, fingerprint and all
    explicit = apply_settings(
        RunConfig(), {"task": "count", "train_lengths": "1-4", "test_lengths": "8", "model": "lstm"}, "t"
    )
    validate(explicit)
    assert padded.fingerprint() == explicit.fingerprint()


def test_pack_examples_takes_only_true_false_or_auto():
    with pytest.raises(LengthgenError, match="true, false or auto"):
        TrainConfig(pack_examples="yes").validate()


@pytest.mark.parametrize(
    "flag, model, expected",
    [
        ([], "transformer", False),
        (["--pack-examples"], "transformer", True),
        (["--pack-examples", "auto"], "lstm", False),
    ],
)
def test_the_run_flag_takes_an_optional_auto(flag, model, expected):
    from lengthgen.cli.main import build_parser
    from lengthgen.cli.run_cmd import config_from_args
    from lengthgen.runconfig import validate

    argv = ["run", "--task", "count", "--train-lengths", "1-3", "--test-lengths", "5", "--model", model, *flag]
    cfg = config_from_args(build_parser().parse_args(argv))
    validate(cfg)
    assert cfg.train.pack_examples is expected


def test_the_run_flag_refuses_other_values():
    from lengthgen.cli.main import build_parser

    with pytest.raises(LengthgenError, match="--pack-examples: invalid choice: 'yes'"):
        build_parser().parse_args(["run", "--task", "count", "--pack-examples", "yes"])
