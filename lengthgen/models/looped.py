"""Looped transformer (Fan et al., 2024, "Looped Transformers for Length
Generalization"): one shared block applied a number of times that grows
with the input.

An input of ``n`` tokens (those before the first ``<sep>``) runs
``T(n) = clamp(ceil(steps_per_length * n) + steps_offset, 1, max_loops)``
iterations, the input embedding injected (added to the state) before every
one, so the block computes ``h <- f(h + x)`` from ``h = 0``.  There is no
step embedding and no halting: depth is a rule of the input length, known
from the prompt, so decoding (by recomputation) gives every generated token
the same number of iterations as the prompt, and a longer test input simply
runs more of them.  Rows of a batch with different ``n`` run their own
counts: a row's state stops changing once it has run its own.

Choices the paper leaves to its tasks, fixed here: ``n`` counts input
tokens only; the state starts at zero (the first iteration sees the input
alone); NoPE by default (the paper's setting); no KV cache.  Since ``T``
depends on the whole prompt, an output inside the prompt can depend on
later prompt tokens; every target comes after ``<sep>``, when the prompt is
complete, so no target is read before it is predicted.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from lengthgen.errors import LengthgenError
from lengthgen.models.base import ModelOutput, SequenceModel, init_weights
from lengthgen.models.transformer import Block, block_flops
from lengthgen.tasks.base import SEP


class LoopedTransformer(SequenceModel):
    """A shared ``n_layers``-layer block looped ``T(n)`` times with input injection.

    >>> model = LoopedTransformer(vocab_size=10, d_model=16, n_heads=2, steps_per_length=1.0, steps_offset=1)
    >>> tokens = torch.tensor([[4, 5, 6, 1, 7], [4, 1, 7, 7, 7]])  # 3 and 1 input tokens before <sep> (id 1)
    >>> model.loops(tokens).tolist()
    [4, 2]
    >>> model(tokens).steps[:, 0].tolist()
    [4.0, 2.0]
    """

    def __init__(
        self,
        vocab_size: int,
        d_model: int = 128,
        n_heads: int = 4,
        n_layers: int = 1,
        d_ff: int | None = None,
        pe: str = "none",
        max_positions: int = 512,
        steps_per_length: float = 1.0,
        steps_offset: int = 0,
        max_loops: int = 256,
        dropout: float = 0.0,
    ):
        super().__init__(vocab_size, d_model, n_heads, pe, max_positions)
        if not 0 <= steps_per_length <= 16:
            raise LengthgenError(f"steps_per_length must be in 0..16, got {steps_per_length}")
        if not 1 <= max_loops <= 4096:
            raise LengthgenError(f"max_loops must be in 1..4096, got {max_loops}")
        self.d_ff = d_ff or 4 * d_model
        self.steps_per_length = steps_per_length
        self.steps_offset = steps_offset
        self.max_loops = max_loops
        self.blocks = nn.ModuleList(Block(d_model, n_heads, self.d_ff, dropout, False) for _ in range(n_layers))
        init_weights(self)

    def loops(self, tokens: torch.Tensor) -> torch.Tensor:
        """Iterations per row [B]: the rule applied to the row's input length."""
        n = ((tokens == SEP).long().cumsum(dim=1) == 0).sum(dim=1)
        steps = torch.ceil(n.double() * self.steps_per_length).long() + self.steps_offset
        return steps.clamp(1, self.max_loops)

    def forward(self, tokens: torch.Tensor, positions: torch.Tensor | None = None, cache=None) -> ModelOutput:
        if cache is not None:
            raise LengthgenError("the looped transformer decodes by recomputation; it has no KV cache")
        positions = self.resolve_positions(tokens, positions)
        encoded = self.encoding_positions(tokens, positions, None)
        x = self.embed(tokens, encoded)
        bias = self.pe.bias(positions, positions)
        rotation = self.pe.rotation(encoded)
        loops = self.loops(tokens)
        h = torch.zeros_like(x)
        for t in range(int(loops.max())):
            state = h + x  # input injection
            for block in self.blocks:
                state = block(state, self.pe, positions, bias, None, rotation)
            # a row that has run its own count keeps its state
            h = torch.where((t < loops).view(-1, 1, 1), state, h)
        steps = loops.to(x.dtype).unsqueeze(1).expand(tokens.shape)
        return self.readout(h, steps=steps)

    def flops_per_token(self, context: int, steps: float | None = None) -> float:
        loops = (
            steps
            if steps is not None
            else min(self.max_loops, math.ceil(self.steps_per_length * context / 2) + self.steps_offset)
        )
        per_loop = len(self.blocks) * block_flops(self.d_model, self.d_ff, context, False, self.n_heads)
        return max(1, loops) * per_loop + 2 * self.d_model * self.vocab_size
