"""Accuracy counts and Wilson score intervals."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from lengthgen.tasks.base import EOS, Batch, Task, iter_batches


def wilson_interval(successes: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """Wilson score interval for a binomial proportion (95% by default).

    Unlike the normal approximation it stays inside [0, 1] and is sensible
    at 0% and 100%, which is where length-generalization results live.

    >>> lo, hi = wilson_interval(100, 100)
    >>> round(lo, 3), round(hi, 3)
    (0.963, 1.0)
    """
    if n <= 0:
        return (0.0, 1.0)
    if not 0 <= successes <= n:
        raise ValueError(f"successes must be in [0, n], got {successes} of {n}")
    p = successes / n
    denom = 1.0 + z * z / n
    center = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return (max(0.0, center - half), min(1.0, center + half))


@dataclass
class AccuracyCounts:
    """Running totals for one test length."""

    examples: int = 0
    exact: int = 0
    tokens: int = 0
    tokens_correct: int = 0
    steps_sum: float = 0.0
    steps_count: int = 0
    # the answer's tokens right, whatever the model did about stopping: exact
    # scored again with the target length given (a wrong stop is not wrong content)
    content: int = 0

    def add(self, other: AccuracyCounts) -> None:
        self.examples += other.examples
        self.exact += other.exact
        self.content += other.content
        self.tokens += other.tokens
        self.tokens_correct += other.tokens_correct
        self.steps_sum += other.steps_sum
        self.steps_count += other.steps_count

    def summary(self) -> dict:
        exact = self.exact / self.examples if self.examples else 0.0
        token = self.tokens_correct / self.tokens if self.tokens else exact
        # Per-token intervals use the number of examples, not tokens: tokens
        # within an example are not independent, so this is the honest width.
        token_ci = wilson_interval(round(token * self.examples), self.examples)
        return {
            "n": self.examples,
            "exact": exact,
            "exact_ci": list(wilson_interval(self.exact, self.examples)),
            "token": token,
            "token_ci": list(token_ci),
            "scored_tokens": self.tokens,
            "mean_steps": self.steps_sum / self.steps_count if self.steps_count else None,
            "exact_given_length": self.content / self.examples if self.examples else 0.0,
        }


def score_predictions(pred: np.ndarray, batch: Batch, rows: np.ndarray, steps: np.ndarray | None) -> AccuracyCounts:
    """Compare generated tokens [len(rows), T] with the targets of ``rows``.

    Exact: every target token right and ``<eos>`` right after.  Per-token:
    scored target positions right, where the answer ends at the first
    ``<eos>`` (anything generated after it counts as wrong).  Exact given
    the length: the first ``target length`` generated tokens equal the
    target, whatever came at the stop (so a wrong stop is told from wrong
    content)."""
    counts = AccuracyCounts()
    for k, i in enumerate(rows):
        tlen = int(batch.target_lengths[i])
        target = batch.targets[i, :tlen]
        got = pred[k, :tlen].copy()
        # generation ends at the first <eos>: tokens emitted after an early
        # <eos> are not part of the answer and count as wrong
        early = np.nonzero(got == EOS)[0]
        if len(early):
            got[early[0] :] = -1
        correct = got == target
        ok = bool(correct.all()) and pred.shape[1] > tlen and pred[k, tlen] == EOS
        counts.content += int((pred[k, :tlen] == target).all())
        counts.examples += 1
        counts.exact += int(ok)
        scored = batch.score_mask[i, :tlen]
        counts.tokens += int(scored.sum())
        counts.tokens_correct += int((correct & scored).sum())
        if steps is not None:
            counts.steps_sum += float(steps[k, : tlen + 1].sum())
            counts.steps_count += tlen + 1
    return counts


def decode_and_score(task: Task, length: int, n: int, rng: np.random.Generator, batch_size: int, decode, on_batch=None):
    """Count what ``decode`` gets right on ``n`` fresh examples at ``length``.

    Examples are grouped by input length so no prompt is padded;
    ``decode(batch, rows, input_length, steps)`` returns the generated
    tokens of those rows ``[len(rows), >= steps]`` and the computation
    steps each used (ACT models) or None.  Shared by model evaluation and
    :func:`lengthgen.api.evaluate_length` (any ``generate`` function)."""
    counts = AccuracyCounts()
    for batch in iter_batches(task, length, n, rng, batch_size):
        if on_batch is not None:
            on_batch(batch)
        for li in np.unique(batch.input_lengths):
            rows = np.nonzero(batch.input_lengths == li)[0]
            steps = int(batch.target_lengths[rows].max()) + 1
            pred, used = decode(batch, rows, int(li), steps)
            counts.add(score_predictions(pred, batch, rows, used))
    return counts
