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
alone); NoPE by default (the paper's setting).  Since ``T`` depends on the
whole prompt, an output inside the prompt can depend on later prompt
tokens; every target comes after ``<sep>``, when the prompt is complete, so
no target is read before it is predicted.

KV-cached decoding keeps one cache per iteration and layer: under the causal
mask the state of iteration ``t`` at a position reads only earlier
positions' states of iteration ``t``, which do not change when tokens are
appended, so a new token runs its ``T`` iterations against the cached keys
and values and gets what recomputing the whole sequence gives.  ``T`` is
fixed by the prompt, so every prompt must hold its ``<sep>`` (generated
tokens after it do not change ``n``).
"""

from __future__ import annotations

import math

import torch
from torch import nn

from lengthgen.errors import LengthgenError
from lengthgen.models.base import KVCache, LayerCache, ModelOutput, SequenceModel, init_weights
from lengthgen.models.transformer import Block, block_flops
from lengthgen.tasks.base import SEP


class LoopCache(KVCache):
    """A :class:`KVCache` with one layer cache per iteration and layer, and
    each row's iteration count, fixed when the prompt is encoded."""

    def __init__(self, n_layers: int) -> None:
        super().__init__(0)
        self.n_layers = n_layers
        self.loops: torch.Tensor | None = None

    def layer(self, iteration: int, index: int) -> LayerCache:
        while len(self.layers) < (iteration + 1) * self.n_layers:
            self.layers.append(LayerCache())
        return self.layers[iteration * self.n_layers + index]


class LoopedTransformer(SequenceModel):
    """A shared ``n_layers``-layer block looped ``T(n)`` times with input injection.

    >>> model = LoopedTransformer(vocab_size=10, d_model=16, n_heads=2, steps_per_length=1.0, steps_offset=1)
    >>> tokens = torch.tensor([[4, 5, 6, 1, 7], [4, 1, 7, 7, 7]])  # 3 and 1 input tokens before <sep> (id 1)
    >>> model.loops(tokens).tolist()
    [4, 2]
    >>> model(tokens).steps[:, 0].tolist()
    [4.0, 2.0]
    """

    supports_cache = True

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
        segment_tokens: list[int] | None = None,
        abacus_offset: int = 0,
        segment_ends: list[int] | None = None,
        abacus_offset_draw: str = "row",
    ):
        # abacus positions (McLeish et al. loop a block over them, with input
        # injection, for their addition record) come from the base class
        super().__init__(
            vocab_size,
            d_model,
            n_heads,
            pe,
            max_positions,
            segment_tokens,
            abacus_offset,
            segment_ends,
            abacus_offset_draw,
        )
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

    def forward(
        self, tokens: torch.Tensor, positions: torch.Tensor | None = None, cache: LoopCache | None = None
    ) -> ModelOutput:
        offset = cache.length if cache is not None else 0
        positions = self.resolve_positions(tokens, positions, offset)
        k_pos = positions if cache is None or cache.positions is None else torch.cat([cache.positions, positions], 1)
        encoded = self.encoding_positions(tokens, positions, cache)
        x = self.embed(tokens, encoded)
        bias = self.pe.bias(positions, k_pos)
        rotation = self.pe.rotation(encoded)
        loops = self._loops_for(tokens, cache)
        h = torch.zeros_like(x)
        for t in range(int(loops.max())):
            state = h + x  # input injection
            for i, block in enumerate(self.blocks):
                state = block(state, self.pe, positions, bias, None if cache is None else cache.layer(t, i), rotation)
            # a row that has run its own count keeps its state
            h = torch.where((t < loops).view(-1, 1, 1), state, h)
        if cache is not None:
            cache.positions = k_pos
        steps = loops.to(x.dtype).unsqueeze(1).expand(tokens.shape)
        return self.readout(h, steps=steps)

    def _loops_for(self, tokens: torch.Tensor, cache: LoopCache | None) -> torch.Tensor:
        if cache is None:
            return self.loops(tokens)
        if cache.loops is None:  # the prompt: the count is fixed here for the whole decode
            if not bool((tokens == SEP).any(dim=1).all()):
                raise LengthgenError(
                    "cached decoding of the looped transformer needs <sep> in every prompt (its depth is a rule "
                    "of the input before <sep>); decode without the cache (use_cache=False)"
                )
            cache.loops = self.loops(tokens)
        return cache.loops

    def new_cache(self) -> LoopCache:
        return LoopCache(len(self.blocks))

    def flops_per_token(self, context: int, steps: float | None = None) -> float:
        loops = (
            steps
            if steps is not None
            else min(self.max_loops, math.ceil(self.steps_per_length * context / 2) + self.steps_offset)
        )
        per_loop = len(self.blocks) * block_flops(self.d_model, self.d_ff, context, False, self.n_heads)
        return max(1, loops) * per_loop + 2 * self.d_model * self.vocab_size
