"""Several seeds of one architecture run as one model (``torch.func``).

The seeds of a cell train the same architecture on different streams.
Stacking their parameters (``stack_module_state``) and mapping the forward
over the stack (``vmap``) turns S small kernel launches into one of S
times the work: the win on a launch-bound GPU.  On CPU the stacked path
is measured by ``benchmarks/batched_seeds.py`` (it is slower there: see
``benchmarks/README.md``); this module is what that script and a GPU run
would use, tested to give each seed exactly its own model's outputs and
gradients.

>>> import torch
>>> from lengthgen.models import build_model
>>> torch.manual_seed(0) is not None
True
>>> models = [build_model("transformer", 8, d_model=16, n_layers=1, n_heads=2) for _ in range(3)]
>>> stacked = StackedSeeds(models)
>>> stacked.logits(torch.randint(3, 8, (3, 2, 5))).shape   # [seeds, batch, time, vocab]
torch.Size([3, 2, 5, 8])
"""

from __future__ import annotations

import copy

import torch
from torch import nn

from lengthgen.errors import LengthgenError


class StackedSeeds:
    """S models of one architecture as one: parameters stacked on a leading
    seed axis, the forward mapped over it."""

    def __init__(self, models: list[nn.Module]):
        from torch.func import stack_module_state

        if not models:
            raise LengthgenError("StackedSeeds needs at least one model")
        shapes = {tuple((k, tuple(v.shape)) for k, v in m.state_dict().items()) for m in models}
        if len(shapes) != 1:
            raise LengthgenError("StackedSeeds stacks models of one architecture (their parameters differ in shape)")
        self.params, self.buffers = stack_module_state(models)
        # the template only describes the computation: its own weights are never read
        self.base = copy.deepcopy(models[0]).to("meta")
        self.seeds = len(models)

    def parameters(self) -> list[torch.Tensor]:
        return list(self.params.values())

    def logits(self, tokens: torch.Tensor, positions: torch.Tensor | None = None) -> torch.Tensor:
        """``tokens`` [S, B, T] (one batch per seed) -> logits [S, B, T, V]."""
        from torch.func import functional_call, vmap

        if tokens.shape[0] != self.seeds:
            raise LengthgenError(f"tokens hold {tokens.shape[0]} seeds' batches, the stack {self.seeds}")

        def one(params, buffers, x, pos):
            return functional_call(self.base, (params, buffers), (x, pos)).logits

        if positions is None:
            return vmap(lambda p, b, x: one(p, b, x, None))(self.params, self.buffers, tokens)
        return vmap(one)(self.params, self.buffers, tokens, positions)

    def state_dict(self, seed: int) -> dict[str, torch.Tensor]:
        """One seed's weights, loadable into its architecture."""
        saved = set(self.base.state_dict())  # non-persistent buffers are rebuilt by the model, not loaded
        return {k: v[seed].detach().clone() for k, v in {**self.params, **self.buffers}.items() if k in saved}
