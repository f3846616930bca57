"""Vectorised helpers for tasks that write numbers: carries and joining."""

from __future__ import annotations

import numpy as np


def add_digits(a: np.ndarray, b: np.ndarray, base: int) -> np.ndarray:
    """Digit-wise sum of numbers given least significant digit first [B, W].

    The top column's carry is dropped, so callers leave it zero.  Carries are
    found without a loop over columns: the carry into column k is the
    "generate" bit of the last column below k that does not merely
    propagate (digit sum != base - 1).

    >>> add_digits(np.array([[5, 9, 0]]), np.array([[7, 0, 0]]), 10)  # 95 + 7
    array([[2, 0, 1]])
    """
    col = a + b
    width = col.shape[1]
    generate = col >= base
    stops = np.where(col != base - 1, np.arange(width), -1)
    last_stop = np.maximum.accumulate(stops, axis=1)
    # carry into column k comes from the last stop strictly below k
    below = np.concatenate([np.full((len(col), 1), -1), last_stop[:, :-1]], axis=1)
    carry = np.take_along_axis(generate, np.maximum(below, 0), axis=1) & (below >= 0)
    return (col + carry) % base


def join_ragged(parts: list[tuple[np.ndarray, np.ndarray]], separator: int) -> tuple[np.ndarray, np.ndarray]:
    """Concatenate left-aligned ragged rows with a separator token between parts.

    ``parts`` holds ``(tokens [B, W_i], lengths [B])`` pairs; returns the
    joined tokens (right-padded with 0) and their lengths.
    """
    if len(parts) == 1:
        return parts[0]
    batch = len(parts[0][1])
    total = sum(ln for _, ln in parts) + len(parts) - 1
    if all((ln == tok.shape[1]).all() for tok, ln in parts):
        # Common case (equal lengths): a plain concatenation is much faster.
        sep = np.full((batch, 1), separator)
        pieces = [parts[0][0]]
        for tok, _ in parts[1:]:
            pieces += [sep, tok]
        return np.concatenate(pieces, axis=1), total
    width = int(total.max())
    cols = np.arange(width)[None, :]
    out = np.zeros((batch, width), dtype=np.int64)
    start = np.zeros(batch, dtype=np.int64)
    for i, (tok, ln) in enumerate(parts):
        if i > 0:
            out = np.where(cols == start[:, None], separator, out)
            start = start + 1
        rel = cols - start[:, None]
        inside = (rel >= 0) & (rel < ln[:, None])
        gathered = np.take_along_axis(tok, np.clip(rel, 0, tok.shape[1] - 1), axis=1)
        out = np.where(inside, gathered, out)
        start = start + ln
    return out, total
