"""Parity of a bit string."""

from __future__ import annotations

import numpy as np

from lengthgen.tasks.base import OFFSET, Batch, Param, Task, register_task


@register_task
class Parity(Task):
    """Parity: is the number of ones odd?

    Input ``n`` bits, target one token: ``1`` if the count of ones is odd,
    else ``0``.  Regular in the Chomsky hierarchy; a transformer without a
    scratchpad is expected not to extrapolate (no short RASP-L program).

    Example (length 7): ``1 0 1 0 1 0 0`` -> three ones -> odd -> ``1``.

    ``scratchpad=true`` (the format change with which Anil et al. 2022 fit
    parity): the target is the running parity after every bit, the last one
    being the answer; each step is "previous output XOR bit t", a local rule,
    but reading bit t from output step t is an offset of n + 1 positions
    (index arithmetic, which RASP-L forbids, as for duplicate-string).

    Example (length 7, scratchpad): ``1 0 1 0 1 0 0`` -> ``1 1 0 0 1 1 1``.

    ``ones="uniform-count"`` draws the number of ones uniformly from 0 to
    ``n`` and then their places, as Huang et al. (2025) draw parity data;
    the default draws every bit independently, so the count sits near n/2
    and strings with few or many ones are rare.

    Example (length 4, uniform-count): the count is 0, 1, 2, 3 or 4 with
    probability 1/5 each, so ``0 0 0 0`` -> ``0`` is drawn a fifth of the
    time (a sixteenth with independent bits).
    """

    name = "parity"
    baselines = ("last-input-token",)
    family = "rasp-l"
    length_unit = "bits"
    chomsky = "regular"
    params = {
        "scratchpad": Param(False, "target the running parity after every bit (the last is the answer)"),
        "ones": Param(
            "iid",
            "how bits are drawn: iid (each bit fair) or uniform-count (the number of ones uniform in 0..n, then shuffled)",
            choices=("iid", "uniform-count"),
            late=True,
        ),
    }

    def build_tokens(self):
        return ["0", "1"]

    def _sample(self, rng: np.random.Generator, batch_size: int, length: int) -> Batch:
        if self.ones == "uniform-count":
            count = rng.integers(0, length + 1, size=(batch_size, 1))
            # a row's first `count` places in a random order are its ones
            order = rng.random((batch_size, length)).argsort(axis=1)
            bits = (order < count).astype(np.int64)
        else:
            bits = rng.integers(0, 2, size=(batch_size, length))
        if self.scratchpad:
            return Batch.fixed(bits + OFFSET, np.cumsum(bits, axis=1) % 2 + OFFSET)
        label = bits.sum(axis=1) % 2
        return Batch.fixed(bits + OFFSET, label[:, None] + OFFSET)

    def reference(self, inputs):
        ones, running = 0, []
        for tok in inputs:
            if tok == "1":
                ones += 1
            running.append("1" if ones % 2 == 1 else "0")
        return running if self.scratchpad else running[-1:]
