"""Context-free tasks of the Chomsky-hierarchy suite.  Reverse lives in ``lists.py``."""

from __future__ import annotations

import numpy as np

from lengthgen.tasks.base import Batch, Task, register_task


@register_task
class StackManipulation(Task):
    """Stack manipulation: apply push/pop actions to a stack.

    Input: an initial stack written bottom to top over ``{a, b}`` (``s``
    letters, ``s`` uniform in ``1..n-1``), then ``n - s`` actions ``pop``,
    ``push_a``, ``push_b``.  A pop on an empty stack does nothing.  Target:
    the final stack read top to bottom (possibly empty).  Length = total
    input tokens ``n``.

    Example (length 5): ``a b push_a pop pop`` -> stack ``a b`` -> ``a b a``
    -> ``a b`` -> ``a`` -> target ``a``.
    """

    name = "stack-manipulation"
    baselines = ("copy-input",)
    family = "chomsky"
    length_unit = "input tokens"
    chomsky = "context-free"
    min_length = 2

    def build_tokens(self):
        return ["a", "b", "pop", "push_a", "push_b"]

    def _sample(self, rng, batch_size, length):
        n = length
        split = rng.integers(1, n, size=batch_size)
        letters = rng.integers(0, 2, size=(batch_size, n))
        actions = rng.integers(0, 3, size=(batch_size, n))  # 0:pop 1:push_a 2:push_b
        is_stack = np.arange(n)[None, :] < split[:, None]
        inputs = np.where(is_stack, letters + self.id("a"), actions + self.id("pop"))
        push = is_stack | (actions > 0)
        letter = np.where(is_stack, letters, actions - 1)
        # Depth after each step is a random walk reflected at 0 (a pop on an
        # empty stack does nothing): S_t - min(0, min_{j<=t} S_j).
        walk = np.cumsum(np.where(push, 1, -1), axis=1)
        depth = walk - np.minimum(np.minimum.accumulate(walk, axis=1), 0)
        # A pushed letter survives iff the stack never drops below it later.
        suffix_min = np.minimum.accumulate(depth[:, ::-1], axis=1)[:, ::-1]
        survives = push & (depth <= suffix_min)
        final = depth[:, -1]
        # Survivors in time order are the stack bottom to top; compact them
        # to the left, then read top to bottom.
        order = np.argsort(~survives, axis=1, kind="stable")
        bottom_up = np.take_along_axis(letter, order, axis=1)
        idx = np.clip(final[:, None] - 1 - np.arange(n)[None, :], 0, n - 1)
        targets = np.take_along_axis(bottom_up, idx, axis=1) + self.id("a")
        return Batch.ragged(inputs, np.full(batch_size, n), targets, final)

    def reference(self, inputs):
        stack = []
        for tok in inputs:
            if tok in ("a", "b"):
                stack.append(tok)
            elif tok == "pop":
                if stack:
                    stack.pop()
            else:
                stack.append(tok[-1])
        return stack[::-1]
