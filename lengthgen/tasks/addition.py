"""Multi-digit decimal addition in several formats."""

from __future__ import annotations

import numpy as np

from lengthgen.tasks.base import OFFSET, Batch, Param, Task, register_task
from lengthgen.tasks.digits import add_digits, join_ragged


@register_task
class Addition(Task):
    """Addition of two decimal numbers.

    Input ``a + b`` digit by digit; target the sum.  ``reversed=true`` writes
    operands and sum least significant digit first.  ``index_hints=true``
    puts a hint token before every digit: the digit of ``10^k`` gets hint
    ``h[k]``, the same in both operands and the sum, where ``h`` is a sorted
    random subset of ``num_hints`` hint tokens (so longer numbers use
    hints never seen together, but still ordered).  ``unequal=true`` draws
    the second operand's length uniformly in ``1..n`` (operands are then
    randomly swapped).  The sum is written without leading zeros; operands
    may start with a zero digit only when they are one digit long.
    Length = digits of the longer operand.

    With hints every number is written with ``n + 1`` digits (leading zeros),
    so each hint of the sum also appears in the operands.

    Example (length 2, plain): ``3 5 + 4 1`` -> ``7 6``.
    Example (length 2, reversed, hints ``h1 h4 h9``):
    ``h1 5 h4 3 h9 0 + h1 1 h4 4 h9 0`` -> ``h1 6 h4 7 h9 0``
    (35 + 41 = 76, least significant digit first).
    """

    name = "addition"
    baselines = ("copy-input",)
    family = "rasp-l"
    length_unit = "digits per operand"
    params = {
        "reversed": Param(False, "write operands and sum least significant digit first"),
        "index_hints": Param(False, "precede every digit with a position hint token"),
        "num_hints": Param(128, "size of the hint alphabet (bounds the longest length)", minimum=2),
        "unequal": Param(False, "draw the second operand's length uniformly in 1..n"),
        # Cho et al.'s format for position coupling: with every number n + 1
        # digits wide, the k-th digit of each number has the same significance,
        # so a place index counted from each number's start (pe: abacus) is
        # exactly their coupled position id, in forward order too
        "padded": Param(False, "write every number with n + 1 digits (leading zeros)", late=True),
    }

    def build_tokens(self):
        tokens = [str(d) for d in range(10)] + ["+"]
        if self.index_hints:
            tokens += [f"h{k}" for k in range(self.num_hints)]
        return tokens

    def max_length(self):
        # The sum has up to n + 1 digits, each needing its own hint.
        return self.num_hints - 1 if self.index_hints else None

    def _digits(self, rng, batch_size, width, lengths):
        """Random numbers as least-significant-first digit arrays [B, width],
        with exactly ``lengths[i]`` digits (no leading zero unless one digit)."""
        # int8 digits halve the memory traffic of the whole pipeline.
        digits = rng.integers(0, 10, size=(batch_size, width), dtype=np.int8)
        pos = np.arange(width)
        top = lengths - 1
        lead = rng.integers(1, 10, size=batch_size, dtype=np.int8)
        is_top = (pos[None, :] == top[:, None]) & (top[:, None] > 0)
        digits = np.where(is_top, lead[:, None], digits)
        return np.where(pos[None, :] < lengths[:, None], digits, np.int8(0))

    def _sample(self, rng, batch_size, length):
        n = length
        len_a = np.full(batch_size, n)
        len_b = rng.integers(1, n + 1, size=batch_size) if self.unequal else np.full(batch_size, n)
        a = self._digits(rng, batch_size, n + 1, len_a)
        b = self._digits(rng, batch_size, n + 1, len_b)
        if self.unequal:
            swap = rng.random(batch_size) < 0.5
            a, b = np.where(swap[:, None], b, a), np.where(swap[:, None], a, b)
            len_a, len_b = np.where(swap, len_b, len_a), np.where(swap, len_a, len_b)
        s = add_digits(a, b, base=10)
        # One operand always has n digits, so the sum has n or n + 1.
        len_s = n + (s[:, n] > 0).astype(np.int64)
        hints = None
        if self.index_hints or self.padded:
            # Every number is written with n + 1 digits (leading zeros), so
            # the hint of the sum's top digit also appears in the input.
            len_a = len_b = len_s = np.full(batch_size, n + 1)
        if self.index_hints:
            keys = rng.random((batch_size, self.num_hints))
            hints = np.sort(np.argpartition(keys, n, axis=1)[:, : n + 1], axis=1)
        inputs, in_len = self._join([(a, len_a), (b, len_b)], hints)
        targets, tg_len = self._join([(s, len_s)], hints)
        score = None
        if self.index_hints:
            score = np.broadcast_to(np.arange(targets.shape[1]) % 2 == 1, targets.shape).copy()
        return Batch.ragged(inputs, in_len, targets, tg_len, score)

    def _write(self, digits, lengths, hints):
        """Token ids of numbers [B, width] (LSB first) in this task's format,
        left-aligned, with their token lengths."""
        if (lengths == lengths[0]).all():
            digits = digits[:, : lengths[0]]
            hints = None if hints is None else hints[:, : lengths[0]]
        batch, width = digits.shape
        shift = width - lengths
        if self.reversed:
            tok, hint_tok = digits, hints
        elif shift.max() == 0:
            tok, hint_tok = digits[:, ::-1], None if hints is None else hints[:, ::-1]
        elif shift.max() == 1 and hints is None:
            # A sum one digit shorter than the widest: drop its leading zero.
            flipped = digits[:, ::-1]
            shifted = np.concatenate([flipped[:, 1:], flipped[:, :1]], axis=1)
            tok, hint_tok = np.where(shift[:, None] == 1, shifted, flipped), None
        else:
            order = np.clip(lengths[:, None] - 1 - np.arange(width)[None, :], 0, width - 1)
            tok = np.take_along_axis(digits, order, axis=1)
            hint_tok = None if hints is None else np.take_along_axis(hints, order, axis=1)
        tok = tok.astype(np.int64) + OFFSET
        if hints is None:
            return tok, lengths.copy()
        hint_tok = hint_tok + self.id("h0")
        out = np.empty((batch, 2 * width), dtype=np.int64)
        out[:, 0::2], out[:, 1::2] = hint_tok, tok
        return out, 2 * lengths

    def _join(self, numbers, hints):
        """Concatenate numbers with ``+`` between them, per example."""
        parts = [self._write(d, ln, hints) for d, ln in numbers]
        return join_ragged(parts, self.id("+"))

    def reference(self, inputs):
        plus = inputs.index("+")
        operands = [inputs[:plus], inputs[plus + 1 :]]
        values = []
        for op in operands:
            digits = [t for t in op if t.isdigit()]
            if self.reversed:
                digits = digits[::-1]
            values.append(int("".join(digits)))
        total = values[0] + values[1]
        if self.padded and not self.index_hints:
            out = list(str(total).zfill(len(operands[0])))  # as wide as the operands
            return out[::-1] if self.reversed else out
        if not self.index_hints:
            out = list(str(total))
            return out[::-1] if self.reversed else out
        hints = [t for t in operands[0] if t.startswith("h")]
        width = len(hints)
        digits = list(str(total).zfill(width))  # most significant first
        if self.reversed:
            digits = digits[::-1]
        out = []
        for hint, digit in zip(hints, digits):
            out += [hint, digit]
        return out
