"""List tasks of the RASP-L study (Zhou et al., 2023): count, mode, copy, sort, reverse."""

from __future__ import annotations

import numpy as np

from lengthgen.tasks.base import OFFSET, Batch, Param, Task, distinct_rows, register_task


def alphabet_tokens(size: int) -> list[str]:
    return [str(k) for k in range(size)]


@register_task
class Count(Task):
    """Count from ``a`` to ``b`` inclusive.

    Input two integers ``a b`` (tokens ``0 .. max_value-1``); target every
    integer from ``a`` to ``b``, counting up, or down when ``b < a``
    (``direction=both``).  Length = number of output items, ``|b - a| + 1``.

    Example (length 5): ``5 9`` -> ``5 6 7 8 9``; (length 3) ``9 7`` -> ``9 8 7``.
    """

    name = "count"
    baselines = ("copy-input",)
    family = "rasp-l"
    length_unit = "output items"
    params = {
        "max_value": Param(128, "number of integer tokens (bounds the longest length)", minimum=1),
        "direction": Param("up", "count up only, or up and down", choices=("up", "both")),
    }

    def build_tokens(self):
        return alphabet_tokens(self.max_value)

    def max_length(self):
        return self.max_value

    def _sample(self, rng, batch_size, length):
        start = rng.integers(0, self.max_value - length + 1, size=batch_size)
        step = np.ones(batch_size, dtype=np.int64)
        if self.direction == "both":
            down = rng.random(batch_size) < 0.5
            start = np.where(down, start + length - 1, start)
            step = np.where(down, -1, 1)
        targets = start[:, None] + step[:, None] * np.arange(length)[None, :]
        inputs = np.stack([targets[:, 0], targets[:, -1]], axis=1)
        return Batch.fixed(inputs + OFFSET, targets + OFFSET)

    def reference(self, inputs):
        a, b = int(inputs[0]), int(inputs[1])
        out = []
        step = 1 if b >= a else -1
        x = a
        while True:
            out.append(str(x))
            if x == b:
                return out
            x += step


@register_task
class Mode(Task):
    """Mode: the most frequent token.

    Input ``n`` tokens from an alphabet of ``alphabet`` symbols, drawn until
    the most frequent one is unique; target that token.  Length = ``n``.

    Example (length 6): ``2 0 2 1 2 0`` -> ``2``.
    """

    name = "mode"
    baselines = ("first-input-token", "last-input-token")
    family = "rasp-l"
    length_unit = "items"
    params = {"alphabet": Param(8, "number of distinct tokens", minimum=2)}

    def build_tokens(self):
        return alphabet_tokens(self.alphabet)

    def _sample(self, rng, batch_size, length):
        out = np.empty((batch_size, length), dtype=np.int64)
        labels = np.empty(batch_size, dtype=np.int64)
        todo = np.arange(batch_size)
        # Rejection sampling, vectorised: redraw only the rows with a tie.
        while len(todo):
            draw = rng.integers(0, self.alphabet, size=(len(todo), length))
            cells = (np.arange(len(todo))[:, None] * self.alphabet + draw).ravel()
            counts = np.bincount(cells, minlength=len(todo) * self.alphabet).reshape(len(todo), self.alphabet)
            top = counts.max(axis=1)
            unique = (counts == top[:, None]).sum(axis=1) == 1
            out[todo[unique]] = draw[unique]
            labels[todo[unique]] = counts[unique].argmax(axis=1)
            todo = todo[~unique]
        return Batch.fixed(out + OFFSET, labels[:, None] + OFFSET)

    def reference(self, inputs):
        counts: dict[str, int] = {}
        for tok in inputs:
            counts[tok] = counts.get(tok, 0) + 1
        return [max(counts, key=counts.get)]


@register_task
class CopyUnique(Task):
    """Copy a sequence of distinct tokens.

    Input ``n`` distinct tokens from an alphabet of ``alphabet``; target the
    same sequence.  A short RASP-L program exists (an induction head keyed
    on the previous token), so transformers are expected to extrapolate.

    Example (length 4): ``7 2 9 0`` -> ``7 2 9 0``.
    """

    name = "copy-unique"
    baselines = ("sort-input", "reverse-input")
    family = "rasp-l"
    length_unit = "items"
    params = {"alphabet": Param(64, "number of distinct tokens (bounds the longest length)", minimum=1)}

    def build_tokens(self):
        return alphabet_tokens(self.alphabet)

    def max_length(self):
        return self.alphabet

    def _sample(self, rng, batch_size, length):
        seq = distinct_rows(rng, batch_size, length, self.alphabet) + OFFSET
        return Batch.fixed(seq, seq.copy())

    def reference(self, inputs):
        return list(inputs)


@register_task
class CopyRepeat(Task):
    """Copy a sequence whose tokens may repeat.

    Input ``n`` tokens drawn uniformly from a small alphabet; target the same
    sequence.  Repeats make "find the previous occurrence and copy the next
    token" ambiguous, so no short RASP-L program solves it for all lengths.

    Example (length 5): ``1 3 1 1 0`` -> ``1 3 1 1 0``.
    """

    name = "copy-repeat"
    baselines = ("sort-input", "reverse-input")
    family = "rasp-l"
    length_unit = "items"
    params = {"alphabet": Param(4, "number of distinct tokens", minimum=1)}

    def build_tokens(self):
        return alphabet_tokens(self.alphabet)

    def _sample(self, rng, batch_size, length):
        seq = rng.integers(0, self.alphabet, size=(batch_size, length)) + OFFSET
        return Batch.fixed(seq, seq.copy())

    def reference(self, inputs):
        return list(inputs)


@register_task
class Sort(Task):
    """Sort tokens in ascending order.

    Input ``n`` tokens from an alphabet of ``alphabet`` (distinct unless
    ``repeats=true``); target them sorted ascending (by integer value).

    Example (length 4): ``7 2 9 0`` -> ``0 2 7 9``.
    """

    name = "sort"
    baselines = ("copy-input",)
    family = "rasp-l"
    length_unit = "items"
    params = {
        "alphabet": Param(64, "number of distinct tokens", minimum=1),
        "repeats": Param(False, "allow repeated tokens"),
    }

    def build_tokens(self):
        return alphabet_tokens(self.alphabet)

    def max_length(self):
        return None if self.repeats else self.alphabet

    def _sample(self, rng, batch_size, length):
        if self.repeats:
            seq = rng.integers(0, self.alphabet, size=(batch_size, length))
        else:
            seq = distinct_rows(rng, batch_size, length, self.alphabet)
        return Batch.fixed(seq + OFFSET, np.sort(seq, axis=1) + OFFSET)

    def reference(self, inputs):
        return [str(v) for v in sorted(int(t) for t in inputs)]


@register_task
class Reverse(Task):
    """Reverse a string.

    Input ``n`` tokens from an alphabet of ``alphabet`` (binary by default, as
    in the Chomsky-hierarchy suite's reverse-string); target the reversed
    sequence.  Context-free.

    Example (length 5): ``0 1 1 0 1`` -> ``1 0 1 1 0``.
    """

    name = "reverse"
    baselines = ("copy-input",)
    family = "rasp-l"
    length_unit = "items"
    chomsky = "context-free"
    params = {"alphabet": Param(2, "number of distinct tokens", minimum=1)}

    def build_tokens(self):
        return alphabet_tokens(self.alphabet)

    def _sample(self, rng, batch_size, length):
        seq = rng.integers(0, self.alphabet, size=(batch_size, length)) + OFFSET
        return Batch.fixed(seq, seq[:, ::-1].copy())

    def reference(self, inputs):
        return list(reversed(inputs))
