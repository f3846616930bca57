"""Pointer value retrieval: single pointer (pvr) and multi-hop (c-pvr)."""

from __future__ import annotations

import numpy as np

from lengthgen.errors import LengthgenError
from lengthgen.tasks.base import OFFSET, PAD, Batch, Param, Task, distinct_rows, register_task


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

    ``pointer_tail`` q draws the pointer from the last quarter of its
    positions with probability q (from all of them otherwise), a training
    option: at length 40 and q = 0.5 pointers 30-39 make 62.5% of the
    draws instead of 25%.
    """

    name = "pvr"
    baselines = ("input-mode-answer-token", "last-input-token")
    family = "pvr"
    length_unit = "values"
    params = {
        "window": Param(1, "number of values the label aggregates", minimum=1),
        "aggregate": Param("first", "how the window becomes a label", choices=("first", "sum", "majority")),
        "max_pointer": Param(256, "number of pointer tokens (bounds the longest length)", minimum=1),
        # a training-distribution option (evaluate with 0 through test_params):
        # with lengths uniform on 1..L, pointer p occurs only in inputs longer
        # than p, so the largest pointers are the rarest; this raises them
        # without changing the lengths (conjecture-v3, H7c)
        "pointer_tail": Param(
            0.0, "probability that the pointer is drawn from the last quarter of its positions", late=True
        ),
    }

    def build_tokens(self):
        return [str(d) for d in range(10)] + [f"@{k}" for k in range(self.max_pointer)]

    def max_length(self):
        return self.max_pointer + self.window - 1

    def validate(self):
        self.min_length = self.window  # the window must fit in the values
        if not 0.0 <= self.pointer_tail <= 1.0:
            raise LengthgenError(f"pointer_tail is a probability in [0, 1], got {self.pointer_tail}")

    def _sample(self, rng, batch_size, length):
        values = rng.integers(0, 10, size=(batch_size, length))
        places = length - self.window + 1
        pointer = rng.integers(0, places, size=batch_size)
        if self.pointer_tail:  # no extra draws at 0: the default's examples are unchanged
            tail = -(-places // 4)
            from_tail = rng.random(batch_size) < self.pointer_tail
            pointer = np.where(from_tail, rng.integers(places - tail, places, size=batch_size), pointer)
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

    An array of ``cells`` cells, each with a pointer to another cell and a
    value.  Start at cell 0, follow pointers ``h`` times, and output the
    value of the cell reached.  The cells visited are distinct, so every hop
    is real work.  Length = number of hops ``h`` (the complexity axis;
    ``cells`` stays fixed).

    Version 2 (the default) is built so that nothing but following the chain
    answers it:

    - every cell is written ``c<i> p<j> v<k>``: its own id, the id it points
      to, its value; cells appear in random order, so a hop is a
      content-addressed lookup (match ``p<j>`` with ``c<j>``) whatever the
      positional encoding;
    - values are distinct within an example (a random permutation of
      ``v0 .. v<cells-1>``), so no statistic of the values (their mode, the
      start cell's value) beats chance, 1/cells;
    - the hop count is written in unary, ``h`` marks ``>`` before the cells:
      longer test inputs repeat a token seen in training instead of
      introducing an unseen ``#h``.

    ``show_hops=false`` drops the marks; the last cell of the chain then
    points to itself, so "follow pointers until a fixed point" gives the
    answer.  That design has a shortcut (pick a cell that points to itself:
    64-86% exact at 1-8 hops with 12 cells, the ``fixed-point-value``
    baseline), so the count is the default.  Version 1 (``cell_ids=false, distinct_values=false,
    hop_marks=false``): cells in index order as ``@j d`` with i.i.d. digit
    values and a ``#h`` count token.

    Zero hops (length 0) asks for cell 0's own value: one lookup, rewarded
    alone, so training can learn the lookup before composing it.

    ``layout`` orders each cell's three tokens; ``pvc`` puts the id last,
    so a lookup can match the raw id token (``c<j>``) whose position has
    already read its cell's pointer and value (one previous-token step),
    instead of a composite key.

    ``shared_ids`` writes a pointer with the id token of the cell it points
    to (``c<j>`` for ``p<j>``): a hop then matches a token against the same
    token, instead of a learned correspondence between 12 pointer tokens
    and 12 id tokens.

    ``min_cells`` (a curriculum over distractors, off by default): each
    batch draws its number of cells n from ``min_cells..cells`` (ids
    ``c0..c<n-1>``, n distinct values out of all ``cells``); set it back to
    ``cells`` in a benchmark's ``test_params`` so tests use the full array.
    Why: a 2-layer transformer learns zero hops with 4 cells in 750 steps
    but stays at chance with 8 or 12 (results/studies/adaptive/suites/cpvr-control*.yaml):
    the content match is found only when few cells compete.

    ``show_chain`` (version 2 only) makes the target a scratchpad: the id
    of every cell the chain reaches, then the value, so each output token is
    one lookup keyed by the token before it.  Why: one hop stayed at chance
    in every design test rewarded on the final value alone
    (results/studies/adaptive/suites/cpvr-control*.yaml), while a single lookup fits; this
    variant tests whether the missing signal for the intermediate lookup,
    not the lookup itself, is what blocks composition.

    ``mixed`` chooses the target per example: the chain (a share
    ``chain_share`` of the examples, the input led by ``?``) or the answer
    alone (led by ``!``); ``chain_share: 0`` in a benchmark's ``test_params``
    tests the answer alone.  Why: a linear probe of an answer-only model
    found the first lookup (``c0``'s pointer) never learned
    (results/studies/adaptive/probe-one-hop.md); the chain examples reward
    it directly while the answer-only ones ask for the composition.

    Example (length 2, 4 cells):
    ``> > c2 p1 v3 c0 p2 v0 c3 p3 v1 c1 p0 v2`` -> cell 0 -> cell 2 -> cell 1 -> ``v2``;
    with ``show_chain`` the target is ``c2 c1 v2``.

    Example (version 1, length 2, 4 cells):
    ``#2 @2 5 @0 8 @1 3 @3 6`` -> cell 0 -> cell 2 -> cell 1 -> ``8``.
    """

    name = "c-pvr"
    baselines = ("input-mode-answer-token",)
    family = "pvr"
    length_unit = "hops"
    version = 2
    legacy_params = {1: {"cell_ids": False, "distinct_values": False, "hop_marks": False}}
    params = {
        "cells": Param(12, "number of cells in the array", minimum=2),
        "show_hops": Param(True, "give the hop count (false: the chain ends at a cell pointing to itself)"),
        "cell_ids": Param(True, "write each cell with its id, cells in random order (v2)"),
        "distinct_values": Param(True, "values are a permutation of the cells' value tokens (v2)"),
        "hop_marks": Param(True, "the hop count as h repeated '>' marks instead of one '#h' token (v2)"),
        "layout": Param(
            "cpv",
            "the order of a cell's id (c), pointer (p) and value (v) tokens; 'pvc' puts the id last",
            choices=("cpv", "cvp", "pcv", "pvc", "vcp", "vpc"),
            late=True,
        ),
        "shared_ids": Param(False, "write pointers with the cells' id tokens (c<j> instead of p<j>)", late=True),
        "min_cells": Param(
            0, "each batch draws its number of cells from min_cells..cells (0: always cells)", minimum=0, late=True
        ),
        "show_chain": Param(False, "target the ids of the cells visited, then the value (a scratchpad)", late=True),
        "mixed": Param(
            False, "each input starts with '?' (the chain is its target) or '!' (the answer only)", late=True
        ),
        "chain_share": Param(0.5, "with mixed: the share of examples whose target is the chain", late=True),
    }

    def validate(self):
        # zero hops (answer: cell 0's value) is a length of its own, a single
        # lookup that is rewarded alone, except with version 1's '#h' tokens
        self.min_length = 1 if self.show_hops and not self.hop_marks else 0
        if self.distinct_values != self.cell_ids:
            # distinct values need value tokens v0..; version 1's digit values go with its index-ordered layout
            raise LengthgenError(
                "c-pvr: cell_ids and distinct_values go together (both true: version 2, both false: version 1)"
            )
        if self.min_cells and not 2 <= self.min_cells <= self.cells:
            raise LengthgenError(
                f"c-pvr: min_cells must be 0 (off) or in 2..cells ({self.cells}), got {self.min_cells}"
            )
        if self.layout != "cpv" and not self.cell_ids:
            raise LengthgenError("c-pvr: layout orders version 2's cell tokens (cell_ids=true)")
        if self.shared_ids and not self.cell_ids:
            raise LengthgenError("c-pvr: shared_ids needs version 2's cell ids (cell_ids=true)")
        if self.min_cells and not self.cell_ids:
            raise LengthgenError("c-pvr: min_cells needs version 2's cell ids (cell_ids=true)")
        if self.show_chain and not self.cell_ids:
            raise LengthgenError("c-pvr: show_chain writes the visited cells' ids (cell_ids=true)")
        if self.mixed and (self.show_chain or not self.cell_ids):
            raise LengthgenError("c-pvr: mixed chooses the target per example (cell_ids=true, show_chain=false)")
        if not 0.0 <= self.chain_share <= 1.0:
            raise LengthgenError(f"c-pvr: chain_share must be in 0..1, got {self.chain_share}")

    def build_tokens(self):
        n = self.cells
        if self.cell_ids:
            pointers = [] if self.shared_ids else [f"p{k}" for k in range(n)]
            tokens = [f"c{k}" for k in range(n)] + pointers + [f"v{k}" for k in range(n)]
        else:
            tokens = [str(d) for d in range(10)] + [f"@{k}" for k in range(n)]
        if self.show_hops:
            tokens += [">"] if self.hop_marks else [f"#{k}" for k in range(1, n)]
        if self.mixed:
            tokens += ["?", "!"]
        return tokens

    def max_length(self):
        return self.cells - 1

    def pointer_base(self) -> int:
        """The token id of a pointer to cell 0 (``p0``, or ``c0`` with shared ids)."""
        return self.id("c0" if self.shared_ids else "p0")

    def _chain(self, rng, batch_size, length, n):
        """Pointers [B, n] with the chain from cell 0 of ``length`` distinct hops, and the chain [B, h+1]."""
        h = length
        pointers = rng.integers(0, n, size=(batch_size, n))
        others = distinct_rows(rng, batch_size, h, n - 1) + 1 if h else np.zeros((batch_size, 0), dtype=np.int64)
        chain = np.concatenate([np.zeros((batch_size, 1), dtype=np.int64), others], axis=1)
        rows = np.arange(batch_size)[:, None]
        if h:
            pointers[rows, chain[:, :-1]] = chain[:, 1:]
        if not self.show_hops:
            pointers[rows[:, 0], chain[:, -1]] = chain[:, -1]
        return pointers, chain

    def _sample(self, rng, batch_size, length):
        n, h = self.cells, length
        if self.min_cells and self.min_cells < self.cells:  # a draw only then: the default stream is unchanged
            n = int(rng.integers(max(self.min_cells, length + 1), self.cells + 1))
        pointers, chain = self._chain(rng, batch_size, length, n)
        rows = np.arange(batch_size)[:, None]
        if self.cell_ids:
            values = distinct_rows(rng, batch_size, n, self.cells)
            order = distinct_rows(rng, batch_size, n, n)  # the cells' order in the input
            parts = {
                "c": order + self.id("c0"),
                "p": pointers[rows, order] + self.pointer_base(),
                "v": values[rows, order] + self.id("v0"),
            }
            cells = np.stack([parts[k] for k in self.layout], axis=2).reshape(batch_size, 3 * n)
            label = values[rows[:, 0], chain[:, -1]] + self.id("v0")
            if self.show_chain:
                label = np.concatenate([chain[:, 1:] + self.id("c0"), label[:, None]], axis=1)
        else:
            values = rng.integers(0, 10, size=(batch_size, n))
            cells = np.stack([pointers + self.id("@0"), values + OFFSET], axis=2).reshape(batch_size, 2 * n)
            label = values[rows[:, 0], chain[:, -1]] + OFFSET
        if self.show_hops:
            count = (
                np.full((batch_size, h), self.id(">")) if self.hop_marks else np.full((batch_size, 1), self.id(f"#{h}"))
            )
            cells = np.concatenate([count, cells], axis=1)
        if self.mixed:  # drawn only then: the default stream is unchanged
            return self._mixed(rng, cells, chain, label)
        return Batch.fixed(cells, label if label.ndim == 2 else label[:, None])

    def _mixed(self, rng, cells, chain, value) -> Batch:
        """Each row's target the chain (input led by '?') or the answer alone ('!')."""
        n, h = len(cells), chain.shape[1] - 1
        shown = rng.random(n) < self.chain_share
        lead = np.where(shown, self.id("?"), self.id("!"))[:, None]
        targets = np.full((n, h + 1), PAD, dtype=np.int64)
        targets[shown, :h] = chain[shown, 1:] + self.id("c0")
        targets[shown, h] = value[shown]
        targets[~shown, 0] = value[~shown]
        lengths = np.where(shown, h + 1, 1)
        inputs = np.concatenate([lead, cells], axis=1)
        return Batch(
            inputs=inputs,
            targets=targets,
            input_lengths=np.full(n, inputs.shape[1], dtype=np.int64),
            target_lengths=lengths.astype(np.int64),
            score_mask=np.arange(h + 1)[None, :] < lengths[:, None],
        )

    def reference(self, inputs):
        inputs = list(inputs)
        show_chain = self.show_chain
        if self.mixed:
            show_chain, inputs = inputs[0] == "?", inputs[1:]
        hops = None
        if self.show_hops and self.hop_marks:
            hops = inputs.count(">")
            inputs = [t for t in inputs if t != ">"]
        elif self.show_hops:
            hops, inputs = int(inputs[0][1:]), inputs[1:]
        if self.cell_ids:
            pointer, value = {}, {}
            for i in range(0, len(inputs), 3):
                part = dict(zip(self.layout, inputs[i : i + 3]))
                cell = int(part["c"][1:])
                pointer[cell], value[cell] = int(part["p"][1:]), part["v"]
        else:
            pointer = [int(inputs[2 * i][1:]) for i in range(len(inputs) // 2)]
            value = [inputs[2 * i + 1] for i in range(len(inputs) // 2)]
        cell, visited = 0, []
        if hops is None:
            while pointer[cell] != cell:
                cell = pointer[cell]
                visited.append(f"c{cell}")
        else:
            for _ in range(hops):
                cell = pointer[cell]
                visited.append(f"c{cell}")
        return [*visited, value[cell]] if show_chain else [value[cell]]

    def extra_baselines(self):
        if not self.cell_ids or self.show_hops:
            return {}

        def fixed_point_value(task, batch, ref):
            # without a count the chain ends at a cell pointing to itself; other
            # cells do so only by chance, so picking any such cell is a shortcut
            # min_cells draws fewer cells per batch: count them from the input
            cells = batch.inputs.reshape(len(batch), -1, 3)
            c, p, v = (task.layout.index(k) for k in "cpv")
            own = (cells[:, :, c] - task.id("c0")) == (cells[:, :, p] - task.pointer_base())
            return cells[np.arange(len(batch)), own.argmax(axis=1), v][:, None]

        return {"fixed-point-value": ("the value of the first cell that points to itself", fixed_point_value)}
