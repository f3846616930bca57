"""Context-sensitive tasks of the Chomsky-hierarchy suite."""

from __future__ import annotations

import numpy as np

from lengthgen.tasks.base import OFFSET, Batch, Param, Task, register_task


@register_task
class DuplicateString(Task):
    """Duplicate a string: ``w -> w w``.

    Input ``n`` letters over ``{a, b}``; target the string written twice.

    Example (length 3): ``a b b`` -> ``a b b a b b``.
    """

    name = "duplicate-string"
    baselines = ("copy-input",)
    family = "chomsky"
    length_unit = "letters"
    chomsky = "context-sensitive"

    def build_tokens(self):
        return ["a", "b"]

    def _sample(self, rng, batch_size, length):
        seq = rng.integers(0, 2, size=(batch_size, length)) + OFFSET
        return Batch.fixed(seq, np.concatenate([seq, seq], axis=1))

    def reference(self, inputs):
        return list(inputs) + list(inputs)


@register_task
class OddsFirst(Task):
    """Odds first: the letters at odd positions, then those at even positions.

    Positions count from 1.  Input ``n`` letters over ``{a, b}``.

    Example (length 5): ``a a b b a`` -> positions 1,3,5 then 2,4 -> ``a b a a b``.
    """

    name = "odds-first"
    baselines = ("copy-input",)
    family = "chomsky"
    length_unit = "letters"
    chomsky = "context-sensitive"

    def build_tokens(self):
        return ["a", "b"]

    def _sample(self, rng, batch_size, length):
        seq = rng.integers(0, 2, size=(batch_size, length)) + OFFSET
        return Batch.fixed(seq, np.concatenate([seq[:, 0::2], seq[:, 1::2]], axis=1))

    def reference(self, inputs):
        return [t for i, t in enumerate(inputs) if i % 2 == 0] + [t for i, t in enumerate(inputs) if i % 2 == 1]


@register_task
class BinaryAddition(Task):
    """Binary addition, least significant bit first.

    Input two ``n``-bit numbers written LSB first, joined by ``+`` (bits may
    be zero at the top); target their sum as exactly ``n + 1`` bits, LSB
    first.  Length = bits per operand.

    Example (length 3): ``1 1 0 + 1 0 1`` (3 + 5) -> ``0 0 0 1`` (8).
    """

    name = "binary-addition"
    baselines = ("copy-input",)
    family = "chomsky"
    length_unit = "bits per operand"
    chomsky = "context-sensitive"

    def build_tokens(self):
        return ["0", "1", "+"]

    def _sample(self, rng, batch_size, length):
        a = rng.integers(0, 2, size=(batch_size, length))
        b = rng.integers(0, 2, size=(batch_size, length))
        s = np.zeros((batch_size, length + 1), dtype=np.int64)
        carry = np.zeros(batch_size, dtype=np.int64)
        for k in range(length):
            col = a[:, k] + b[:, k] + carry
            s[:, k], carry = col % 2, col // 2
        s[:, length] = carry
        plus = np.full((batch_size, 1), self.id("+"))
        return Batch.fixed(np.concatenate([a + OFFSET, plus, b + OFFSET], axis=1), s + OFFSET)

    def reference(self, inputs):
        plus = inputs.index("+")
        a = int("".join(reversed(inputs[:plus])), 2)
        b = int("".join(reversed(inputs[plus + 1 :])), 2)
        width = plus + 1
        bits = bin(a + b)[2:].zfill(width)
        return list(reversed(bits))


@register_task
class BucketSort(Task):
    """Bucket sort: sort a string over a small alphabet.

    Input ``n`` tokens from ``0 .. alphabet-1`` (repeats expected); target
    them in ascending order.

    Example (length 6): ``3 0 4 0 1 3`` -> ``0 0 1 3 3 4``.
    """

    name = "bucket-sort"
    baselines = ("copy-input",)
    family = "chomsky"
    length_unit = "items"
    chomsky = "context-sensitive"
    params = {"alphabet": Param(5, "number of distinct tokens", minimum=1)}

    def build_tokens(self):
        return [str(k) for k in range(self.alphabet)]

    def _sample(self, rng, batch_size, length):
        seq = rng.integers(0, self.alphabet, size=(batch_size, length))
        return Batch.fixed(seq + OFFSET, np.sort(seq, axis=1) + OFFSET)

    def reference(self, inputs):
        return [str(v) for v in sorted(int(t) for t in inputs)]
