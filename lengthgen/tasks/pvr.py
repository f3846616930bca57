"""Pointer value retrieval: single pointer (pvr) and multi-hop (c-pvr)."""

from __future__ import annotations

import numpy as np

from lengthgen.tasks.base import OFFSET, Batch, Param, Task, distinct_rows, register_task


@register_task
class PVR(Task):
    """Pointer value retrieval (Zhang et al., 2021).

    Input: a pointer token ``@p`` followed by ``n`` digit values.  The
    pointer selects the window of ``window`` values starting at position
    ``p`` (0-based); the label aggregates that window: ``first`` (the value
    at ``p``), ``sum`` (sum mod 10) or ``majority`` (most frequent digit,
    smallest on ties).  Length = number of values.

    Example (length 5, window 1): ``@2 7 1 4 4 9`` -> ``4``.
    Example (length 5, window 3, sum): ``@1 7 1 4 4 9`` -> ``9`` (1+4+4).
    """

    name = "pvr"
    baselines = ("input-mode-answer-token", "last-input-token")
    family = "pvr"
    length_unit = "values"
    params = {
        "window": Param(1, "number of values the label aggregates", minimum=1),
        "aggregate": Param("first", "how the window becomes a label", choices=("first", "sum", "majority")),
        "max_pointer": Param(256, "number of pointer tokens (bounds the longest length)", minimum=1),
    }

    def build_tokens(self):
        return [str(d) for d in range(10)] + [f"@{k}" for k in range(self.max_pointer)]

    def max_length(self):
        return self.max_pointer + self.window - 1

    def validate(self):
        self.min_length = self.window  # the window must fit in the values

    def _sample(self, rng, batch_size, length):
        values = rng.integers(0, 10, size=(batch_size, length))
        pointer = rng.integers(0, length - self.window + 1, size=batch_size)
        cols = pointer[:, None] + np.arange(self.window)[None, :]
        window = np.take_along_axis(values, cols, axis=1)
        if self.aggregate == "first":
            label = window[:, 0]
        elif self.aggregate == "sum":
            label = window.sum(axis=1) % 10
        else:
            counts = (window[:, :, None] == np.arange(10)).sum(axis=1)
            label = counts.argmax(axis=1)  # argmax takes the smallest digit on ties
        inputs = np.concatenate([(pointer + self.id("@0"))[:, None], values + OFFSET], axis=1)
        return Batch.fixed(inputs, label[:, None] + OFFSET)

    def reference(self, inputs):
        p = int(inputs[0][1:])
        window = [int(t) for t in inputs[1 + p : 1 + p + self.window]]
        if self.aggregate == "first":
            return [str(window[0])]
        if self.aggregate == "sum":
            return [str(sum(window) % 10)]
        best = max(range(10), key=lambda d: (window.count(d), -d))
        return [str(best)]


@register_task
class CPVR(Task):
    """Compositional (multi-hop) pointer value retrieval, after Abnar et al. (2023).

    An array of ``cells`` cells; cell ``i`` is written as two tokens, a
    pointer ``@j`` to another cell and a value digit.  Start at cell 0,
    follow pointers ``h`` times, and output the value of the cell reached.
    The cells visited are distinct, so every hop is real work.  Length =
    number of hops ``h`` (the complexity axis; ``cells`` stays fixed).

    With ``show_hops=true`` (default) the input starts with a hop-count
    token ``#h``.  With ``show_hops=false`` the last cell of the chain
    points to itself, so "follow pointers until a fixed point" gives the
    answer and no count is needed.

    Example (length 2, 4 cells, show_hops):
    ``#2 @2 5 @0 8 @1 3 @3 6`` -> cell 0 -> cell 2 -> cell 1 -> ``8``.
    """

    name = "c-pvr"
    baselines = ("input-mode-answer-token",)
    family = "pvr"
    length_unit = "hops"
    params = {
        "cells": Param(16, "number of cells in the array", minimum=2),
        "show_hops": Param(True, "start the input with a hop-count token"),
    }

    def build_tokens(self):
        tokens = [str(d) for d in range(10)] + [f"@{k}" for k in range(self.cells)]
        if self.show_hops:
            tokens += [f"#{k}" for k in range(1, self.cells)]
        return tokens

    def max_length(self):
        return self.cells - 1

    def _sample(self, rng, batch_size, length):
        n, h = self.cells, length
        pointers = rng.integers(0, n, size=(batch_size, n))
        values = rng.integers(0, 10, size=(batch_size, n))
        # The chain: cell 0 followed by h distinct other cells.
        others = distinct_rows(rng, batch_size, h, n - 1) + 1
        chain = np.concatenate([np.zeros((batch_size, 1), dtype=np.int64), others], axis=1)
        rows = np.arange(batch_size)[:, None]
        pointers[rows, chain[:, :-1]] = chain[:, 1:]
        if not self.show_hops:
            pointers[rows[:, 0], chain[:, -1]] = chain[:, -1]
        label = values[rows[:, 0], chain[:, -1]]
        cells = np.stack([pointers + self.id("@0"), values + OFFSET], axis=2).reshape(batch_size, 2 * n)
        if self.show_hops:
            cells = np.concatenate([np.full((batch_size, 1), self.id(f"#{h}")), cells], axis=1)
        return Batch.fixed(cells, label[:, None] + OFFSET)

    def reference(self, inputs):
        if self.show_hops:
            hops, cells = int(inputs[0][1:]), inputs[1:]
        else:
            hops, cells = None, inputs
        pointer = [int(cells[2 * i][1:]) for i in range(len(cells) // 2)]
        value = [cells[2 * i + 1] for i in range(len(cells) // 2)]
        cell = 0
        if hops is None:
            while pointer[cell] != cell:
                cell = pointer[cell]
        else:
            for _ in range(hops):
                cell = pointer[cell]
        return [value[cell]]
