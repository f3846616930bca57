"""Position coupling (Cho et al. 2024): digits of equal significance in both
operands and the sum share one position id.  In lengthgen it is the abacus
index (a place counted from each number's start) on a format whose numbers
start at the same significance: reversed order, or every number padded to
n + 1 digits (addition's ``padded``)."""

import numpy as np
import pytest
import torch

from lengthgen.models.positional import segment_positions
from lengthgen.tasks import make_task
from lengthgen.training.data import to_lm_batch


def coupled_ids(task, length: int, seed: int = 0):
    """Per example: (token strings, abacus ids) over ``input <sep> target``."""
    batch = task.sample(np.random.default_rng(seed), 6, length)
    lm = to_lm_batch(batch)
    tokens = torch.as_tensor(lm.tokens)
    ends = torch.tensor([task.id("+"), task.id("<sep>")])
    ids, _ = segment_positions(tokens, torch.arange(tokens.shape[1])[None].expand_as(tokens), ends)
    out = []
    for i in range(len(batch)):
        n = int(batch.input_lengths[i] + 1 + batch.target_lengths[i])
        out.append((task.decode(lm.tokens[i, :n]), ids[i, :n].tolist()))
    return out


def significance(tokens: list[str], reversed_: bool) -> list[int | None]:
    """The hand-written reference: each digit's power of ten (None for + and <sep>)."""
    out, number = [], []

    def close():
        width = len(number)
        out.extend(k if reversed_ else width - 1 - k for k in range(width))
        number.clear()

    for tok in tokens:
        if tok.isdigit():
            number.append(tok)
        else:
            close()
            out.append(None)
    close()
    return out


@pytest.mark.parametrize(
    "params",
    [{"padded": True}, {"padded": True, "reversed": True}, {"reversed": True}, {"reversed": True, "unequal": True}],
)
def test_equal_significance_shares_one_id(params):
    task = make_task("addition", **params)
    for length in (1, 3, 7):
        for tokens, ids in coupled_ids(task, length):
            sig = significance(tokens, params.get("reversed", False))
            pairs = {(s, i) for s, i in zip(sig, ids) if s is not None}
            by_sig = {}
            for s, i in pairs:
                by_sig.setdefault(s, set()).add(i)
            # one id per significance, and one significance per id
            assert all(len(v) == 1 for v in by_sig.values()), (tokens, ids)
            assert len({next(iter(v)) for v in by_sig.values()}) == len(by_sig), (tokens, ids)


def test_forward_order_without_padding_does_not_couple():
    """Why ``padded`` exists: a sum one digit longer than its operands, or
    unequal operands, put different significances at the same abacus index."""
    task = make_task("addition", unequal=True)
    broken = 0
    for tokens, ids in coupled_ids(task, 4, seed=1):
        sig = significance(tokens, False)
        by_sig = {}
        for s, i in zip(sig, ids):
            if s is not None:
                by_sig.setdefault(s, set()).add(i)
        broken += any(len(v) > 1 for v in by_sig.values())
    assert broken > 0


def test_padded_answers_are_the_reference():
    task = make_task("addition", padded=True)
    batch = task.sample(np.random.default_rng(2), 50, 5)
    for i in range(len(batch)):
        x, y = batch.example(i)
        assert task.decode(y) == task.reference(task.decode(x)) and len(task.decode(y)) == 6
