"""Turning task batches into language-modelling sequences ``input SEP target EOS``."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from lengthgen.tasks.base import EOS, PAD, SEP, Batch, Task, concat_batches


@dataclass
class LMBatch:
    """Model inputs and next-token labels, right-padded.

    ``tokens[:, t]`` predicts ``labels[:, t]``; ``loss_mask`` is true where
    the label is a target token or the closing ``<eos>``.
    """

    tokens: np.ndarray  # [B, T] int64
    labels: np.ndarray  # [B, T] int64
    loss_mask: np.ndarray  # [B, T] bool


def to_lm_batch(batch: Batch) -> LMBatch:
    """Lay out ``input SEP target EOS`` per example (vectorised).

    Example: input ``3 5``, target ``8`` -> sequence ``3 5 <sep> 8 <eos>``;
    tokens ``3 5 <sep> 8``, labels ``5 <sep> 8 <eos>``, loss on the last two.
    """
    n = len(batch)
    li, lt = batch.input_lengths, batch.target_lengths
    total = li + lt + 2
    width = int(total.max())
    seq = np.full((n, width), PAD, dtype=np.int64)
    cols = np.arange(width)[None, :]
    in_part = cols < li[:, None]
    seq = np.where(in_part, np.pad(batch.inputs, ((0, 0), (0, max(0, width - batch.inputs.shape[1]))))[:, :width], seq)
    seq[np.arange(n), li] = SEP
    rel = cols - (li[:, None] + 1)
    tg_part = (rel >= 0) & (rel < lt[:, None])
    gathered = np.take_along_axis(batch.targets, np.clip(rel, 0, batch.targets.shape[1] - 1), axis=1)
    seq = np.where(tg_part, gathered, seq)
    seq[np.arange(n), li + 1 + lt] = EOS
    tokens, labels = seq[:, :-1], seq[:, 1:]
    # label position p holds seq[p + 1]; it is a target/EOS token when p + 1 > li
    label_pos = cols[:, 1:]
    loss_mask = (label_pos > li[:, None]) & (label_pos <= (li + 1 + lt)[:, None])
    return LMBatch(tokens=tokens, labels=labels, loss_mask=loss_mask)


def sample_length_groups(
    task: Task, rng: np.random.Generator, batch_size: int, lengths: list[int]
) -> list[tuple[int, Batch]]:
    """``batch_size`` examples with lengths drawn uniformly from ``lengths``,
    generated per distinct length: ``[(length, batch), ...]`` by length."""
    drawn = rng.choice(np.asarray(lengths), size=batch_size)
    values, counts = np.unique(drawn, return_counts=True)
    return [(int(v), task.sample(rng, int(c), int(v))) for v, c in zip(values, counts)]


def sample_mixed_lengths(task: Task, rng: np.random.Generator, batch_size: int, lengths: list[int]) -> Batch:
    """A batch whose examples have lengths drawn uniformly from ``lengths``,
    shuffled so the batch order carries no length information."""
    merged = concat_batches([batch for _, batch in sample_length_groups(task, rng, batch_size, lengths)])
    return merged.select(rng.permutation(batch_size))
