"""Adaptive computation time (Graves, 2016) over positions, as used by the
Universal Transformer (Dehghani et al., 2018)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import nn


@dataclass
class ACTResult:
    output: torch.Tensor  # [B, L, D] halting-weighted sum of step states
    ponder: torch.Tensor  # [B, L] N + R, the ponder cost per position
    steps: torch.Tensor  # [B, L] number of steps each position used
    weights_sum: torch.Tensor  # [B, L] total halting weight (1 by construction)


def adaptive_computation(
    state: torch.Tensor,
    step_fn: Callable[[torch.Tensor, int], torch.Tensor],
    halting: nn.Module,
    max_steps: int,
    epsilon: float = 0.01,
) -> ACTResult:
    """Run ``state = step_fn(state, t)`` for up to ``max_steps`` steps with
    per-position halting.

    At step t each still-running position emits ``p_t = sigmoid(halting(state))``.
    A position halts when its running sum would exceed ``1 - epsilon``, or
    at the last allowed step; its final weight is the remainder
    ``R = 1 - sum of its earlier p``.  The output is the weighted sum of the
    states after each step, the weights of a position summing to exactly 1.
    Every position's state keeps being updated while any position runs
    (others may attend to it), but halted positions' outputs are frozen.
    The loop stops early once every position has halted; since outputs of
    halted positions no longer change, that does not depend on the batch.
    """
    batch, length, _ = state.shape
    zeros = state.new_zeros(batch, length)
    cumulative, remainders, n_updates, weights_sum = zeros, zeros, zeros, zeros
    output = torch.zeros_like(state)
    threshold = 1.0 - epsilon
    for t in range(max_steps):
        p = torch.sigmoid(halting(state)).squeeze(-1)
        running = (cumulative < 1.0).to(state.dtype)
        if t == max_steps - 1:
            halts_now = running
        else:
            halts_now = ((cumulative + p * running) > threshold).to(state.dtype) * running
        continuing = running - halts_now
        remainder = halts_now * (1.0 - cumulative)
        weight = p * continuing + remainder
        cumulative = cumulative + p * continuing + remainder
        remainders = remainders + remainder
        n_updates = n_updates + running
        weights_sum = weights_sum + weight
        state = step_fn(state, t)
        output = output + weight.unsqueeze(-1) * state
        if not bool((cumulative < 1.0).any()):
            break
    return ACTResult(output=output, ponder=n_updates + remainders, steps=n_updates, weights_sum=weights_sum)
