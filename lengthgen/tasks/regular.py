"""Regular tasks of the Chomsky-hierarchy suite (Delétang et al., 2022).

Parity, also regular, lives in ``parity.py``.
"""

from __future__ import annotations

import numpy as np

from lengthgen.tasks.base import OFFSET, Batch, Task, register_task


@register_task
class EvenPairs(Task):
    """Even pairs: is the number of ``ab`` and ``ba`` pairs even?

    Input ``n`` letters over ``{a, b}``; target ``true`` if the count of
    adjacent unequal pairs is even, which happens exactly when the first
    and last letters are equal.

    Example (length 5): ``a b b a b`` -> pairs ab, ba, ab -> 3 -> ``false``.
    """

    name = "even-pairs"
    family = "chomsky"
    length_unit = "letters"
    chomsky = "regular"

    def build_tokens(self):
        return ["a", "b", "true", "false"]

    def _sample(self, rng, batch_size, length):
        seq = rng.integers(0, 2, size=(batch_size, length))
        even = seq[:, 0] == seq[:, -1]
        label = np.where(even, self.id("true"), self.id("false"))
        return Batch.fixed(seq + OFFSET, label[:, None])

    def reference(self, inputs):
        pairs = sum(1 for x, y in zip(inputs, inputs[1:]) if x != y)
        return ["true" if pairs % 2 == 0 else "false"]


@register_task
class ModularArithmetic(Task):
    """Modular arithmetic: evaluate an expression mod 5.

    Input ``n`` numbers in ``0..4`` joined by ``n - 1`` operators ``+ - *``
    (``2n - 1`` tokens, no brackets, usual precedence: ``*`` before ``+ -``,
    left to right); target the value mod 5.  Length = number of operands.

    Example (length 3): ``3 + 2 * 4`` -> 3 + 8 = 11 -> ``1``.
    """

    name = "modular-arithmetic"
    baselines = ("first-input-token", "last-input-token")
    family = "chomsky"
    length_unit = "operands"
    chomsky = "regular"

    def build_tokens(self):
        return ["0", "1", "2", "3", "4", "+", "-", "*"]

    def _sample(self, rng, batch_size, length):
        nums = rng.integers(0, 5, size=(batch_size, length))
        ops = rng.integers(0, 3, size=(batch_size, length - 1))  # 0:+ 1:- 2:*
        # A left-to-right scan with (sum of closed terms, open term) handles
        # precedence without building a tree.
        total = np.zeros(batch_size, dtype=np.int64)
        term = nums[:, 0].copy()
        for k in range(length - 1):
            op, x = ops[:, k], nums[:, k + 1]
            mul = op == 2
            total = np.where(mul, total, (total + term) % 5)
            term = np.where(mul, (term * x) % 5, np.where(op == 0, x, (-x) % 5))
        value = (total + term) % 5
        seq = np.empty((batch_size, 2 * length - 1), dtype=np.int64)
        seq[:, 0::2] = nums + OFFSET
        seq[:, 1::2] = ops + self.id("+")
        return Batch.fixed(seq, value[:, None] + OFFSET)

    def reference(self, inputs):
        # Plain-Python evaluation with precedence: split into additive terms.
        terms = []
        sign = 1
        product = int(inputs[0])
        for op, tok in zip(inputs[1::2], inputs[2::2]):
            if op == "*":
                product *= int(tok)
            else:
                terms.append(sign * product)
                sign = 1 if op == "+" else -1
                product = int(tok)
        terms.append(sign * product)
        return [str(sum(terms) % 5)]


@register_task
class CycleNavigation(Task):
    """Cycle navigation: final position on a cycle of 5.

    Start at position 0 of a 5-cycle; each input token moves ``+1``, ``-1``
    or stays (``0``); target the final position.  Length = number of moves.

    Example (length 4): ``+1 +1 -1 +1`` -> ``2``.
    """

    name = "cycle-navigation"
    family = "chomsky"
    length_unit = "moves"
    chomsky = "regular"

    def build_tokens(self):
        return ["0", "1", "2", "3", "4", "+1", "-1", "stay"]

    def _sample(self, rng, batch_size, length):
        moves = rng.integers(0, 3, size=(batch_size, length))  # 0:+1 1:-1 2:stay
        step = np.array([1, -1, 0])[moves]
        pos = step.sum(axis=1) % 5
        return Batch.fixed(moves + self.id("+1"), pos[:, None] + OFFSET)

    def reference(self, inputs):
        pos = 0
        for tok in inputs:
            pos = (pos + {"+1": 1, "-1": -1, "stay": 0}[tok]) % 5
        return [str(pos)]
