"""Accuracy of a model on a task, length by length."""

from __future__ import annotations

import numpy as np
import torch

from lengthgen.errors import LengthgenError
from lengthgen.evaluation.decode import greedy_decode
from lengthgen.evaluation.metrics import (  # noqa: F401  (score_predictions, decode_and_score: re-exported)
    AccuracyCounts,
    decode_and_score,
    score_predictions,
)
from lengthgen.models.base import SequenceModel
from lengthgen.models.positional import SEGMENT_KINDS
from lengthgen.tasks.base import SEP, Batch, Task
from lengthgen.training.data import to_lm_batch

# Attention scores [batch, heads, length, length] dominate eval memory; chunks
# are sized to keep them under this many elements.
SCORE_BUDGET = 64 * 2**20


def sequence_length(task: Task, length: int) -> int:
    """Tokens of ``input <sep> target <eos>`` at ``length`` (from one probe example)."""
    probe = task.sample(np.random.default_rng(0), 1, length)
    return int(probe.input_lengths.max() + probe.target_lengths.max() + 2)


def check_fits(model: SequenceModel, total_len: int, batch: int, what: str) -> None:
    """Refuse, before any work, a sequence whose attention scores cannot fit."""
    per_example = model.n_heads * total_len * total_len
    if per_example > SCORE_BUDGET * 4:
        gib = per_example * 4 / 2**30
        raise LengthgenError(
            f"{what}: sequences of {total_len} tokens need about {gib:.1f} GiB of attention scores per example "
            f"(limit {SCORE_BUDGET * 16 / 2**30:.0f} GiB); use shorter lengths"
        )


def chunk_size(model: SequenceModel, total_len: int, requested: int) -> int:
    per_example = model.n_heads * total_len * total_len
    return max(1, min(requested, SCORE_BUDGET // max(per_example, 1)))


@torch.no_grad()
def evaluate_length(
    model: SequenceModel,
    task: Task,
    length: int,
    n: int,
    rng: np.random.Generator,
    device: torch.device,
    batch_size: int = 256,
    use_cache: bool = True,
    on_batch=None,
) -> AccuracyCounts:
    """Greedy-decode ``n`` fresh examples at ``length`` and count what is right.

    Examples are grouped by input length so every prompt in a decoding batch
    has the same length (no padding inside prompts).  ``on_batch(batch)``,
    when given, sees every sampled batch (baselines score the same examples).
    """
    if n < 1:
        raise LengthgenError(f"number of evaluation examples must be >= 1, got {n}")
    check_fits(model, sequence_length(task, length), 1, f"evaluation at length {length}")
    was_training = model.training
    model.eval()

    def decode(batch: Batch, rows: np.ndarray, li: int, steps: int):
        total = li + 1 + steps
        needed = total + bool(getattr(model, "bos", False))  # a start vector takes a position too
        # an abacus table is read by place in a number (checked where it is read), not by position
        if model.pe.bounded and model.pe.kind not in SEGMENT_KINDS and needed > model.pe.max_positions:
            raise LengthgenError(
                f"length {length} needs {needed} positions but the model has max_positions={model.pe.max_positions}"
            )
        step = chunk_size(model, total, len(rows))
        preds, used_all = [], []
        for start in range(0, len(rows), step):
            part = rows[start : start + step]
            prompts = np.concatenate([batch.inputs[part, :li], np.full((len(part), 1), SEP)], axis=1)
            positions = model.sample_positions(rng, len(part), total)
            pred, used = greedy_decode(
                model, torch.from_numpy(prompts).to(device), steps, positions, use_cache=use_cache
            )
            preds.append(pred.cpu().numpy())
            used_all.append(None if used is None else used.float().cpu().numpy())
        return np.concatenate(preds), None if used_all[0] is None else np.concatenate(used_all)

    try:
        return decode_and_score(task, length, n, rng, batch_size, decode, on_batch)
    finally:
        model.train(was_training)


@torch.no_grad()
def teacher_forced_exact(model: SequenceModel, batch: Batch, rng: np.random.Generator, device: torch.device) -> float:
    """Exact-match rate from one teacher-forced pass.

    Greedy decoding reproduces the target exactly iff every target token
    (and the closing <eos>) is the argmax given the true prefix, so this
    equals greedy exact match at a fraction of the cost; used for the
    training curve.
    """
    was_training = model.training
    model.eval()
    lm = to_lm_batch(batch)
    check_fits(model, lm.tokens.shape[1], 1, "teacher-forced evaluation")
    positions = model.sample_positions(rng, *lm.tokens.shape, batch.input_lengths + batch.target_lengths + 2)
    step = chunk_size(model, lm.tokens.shape[1], len(lm.tokens))
    preds = []
    for start in range(0, len(lm.tokens), step):
        tokens = torch.from_numpy(lm.tokens[start : start + step]).to(device)
        pos = None if positions is None else positions[start : start + step]
        preds.append(model(tokens, pos).logits.argmax(-1).cpu().numpy())
    right = (np.concatenate(preds) == lm.labels) | ~lm.loss_mask
    model.train(was_training)
    return float(right.all(axis=1).mean())
