"""Universal Transformer with ACT, and Hyper-UT (hypernetwork-built steps)."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from lengthgen.errors import LengthgenError
from lengthgen.models.act import adaptive_computation
from lengthgen.models.base import ModelOutput, SequenceModel, init_weights
from lengthgen.models.transformer import Block, block_flops
from lengthgen.tasks.base import SEP


class UniversalTransformer(SequenceModel):
    """One shared pre-norm block applied up to ``max_steps`` times, with a
    step embedding added before every step and per-position ACT halting
    (Dehghani et al., 2018).  ``ponder_weight`` is tau in the loss
    ``task loss + tau * mean(N + R)``; the training loop reads it.

    ``halting_start=N`` trains the first N steps as a fixed-step UT (every
    position runs all ``max_steps`` steps, the readout is the last state,
    no ponder cost) and only then lets ACT halt; the training loop reports
    its step through :meth:`set_training_step`, and the ponder ramp
    (``ponder_warmup``) counts from step N.

    >>> model = UniversalTransformer(vocab_size=10, d_model=32, n_heads=4, max_steps=3)
    >>> out = model(torch.zeros(2, 5, dtype=torch.long))
    >>> out.logits.shape, bool((out.steps <= 3).all())
    (torch.Size([2, 5, 10]), True)
    """

    def __init__(
        self,
        vocab_size: int,
        d_model: int = 128,
        n_heads: int = 4,
        d_ff: int | None = None,
        pe: str = "rope",
        max_positions: int = 512,
        max_steps: int = 6,
        ponder_weight: float = 0.01,
        halting_bias: float = 1.0,
        dropout: float = 0.0,
        modified_heads: bool = False,
        position_every_step: bool = False,
        ponder_warmup: int = 0,
        act: bool = True,
        halting_start: int = 0,
    ):
        super().__init__(vocab_size, d_model, n_heads, pe, max_positions)
        if max_steps < 1:
            raise LengthgenError(f"max_steps must be >= 1, got {max_steps}")
        if halting_start < 0:
            raise LengthgenError(f"halting_start must be >= 0, got {halting_start}")
        if halting_start and not act:
            raise LengthgenError("halting_start needs act=true: a fixed-step UT never halts")
        self.d_ff = d_ff or 4 * d_model
        self.max_steps = max_steps
        self.ponder_weight = ponder_weight
        # the ponder cost ramps up linearly over this many training steps (0: from the start),
        # so early training is not pushed to halt before anything is learned
        self.ponder_warmup = ponder_warmup
        # Dehghani et al. add the position (and the step) signal at every step;
        # False adds the position once, at the input
        self.position_every_step = position_every_step
        # act=False: every position runs all max_steps steps (a weight-shared
        # deep transformer, no halting, no ponder cost), the fixed-depth control
        self.act = act
        # ACT trained from step 0 settles at about two steps before the task is
        # learned (results/REPORT.md section 2); a fixed-step phase first tests
        # whether halting, once switched on, keeps a depth that already works
        self.halting_start = halting_start
        # a model built outside training (evaluation, a reloaded checkpoint)
        # halts: training always runs past halting_start
        self.fixed_phase = False
        self.modified_heads = modified_heads
        self.block = self.make_block(d_model, n_heads, self.d_ff, dropout, modified_heads)
        self.step_embedding = nn.Embedding(max_steps, d_model)
        self.halting = nn.Linear(d_model, 1)
        init_weights(self)
        # Start with p ~ 0.73 so positions halt after a couple of steps (as in
        # the tensor2tensor implementation) rather than all running to the cap.
        nn.init.constant_(self.halting.bias, halting_bias)

    def make_block(self, d_model, n_heads, d_ff, dropout, modified):
        return Block(d_model, n_heads, d_ff, dropout, modified)

    def before_step(self, t: int, h0: torch.Tensor, tokens: torch.Tensor) -> None:
        """Hook for subclasses that configure the block per step."""

    def set_training_step(self, step: int) -> None:
        """Called by the training loop before each optimizer step: during the
        first ``halting_start`` steps every position runs every step.  The
        phase stays as the last step left it, so a model evaluated after
        training (or rebuilt from a checkpoint) halts once training went past
        ``halting_start``."""
        self.fixed_phase = step < self.halting_start

    def forward(
        self, tokens: torch.Tensor, positions: torch.Tensor | None = None, cache=None, segments=None
    ) -> ModelOutput:
        if cache is not None:
            raise LengthgenError(f"{type(self).__name__} decodes by recomputation; it has no KV cache")
        positions = self.resolve_positions(tokens, positions)
        h = self.embed(tokens, positions)
        bias = self.confine(self.pe.bias(positions, positions), segments)
        rotation = self.pe.rotation(positions)  # shared by every step
        h0 = h

        signal = self.pe.embed(positions) if self.position_every_step else None

        def step(state: torch.Tensor, t: int) -> torch.Tensor:
            self.before_step(t, h0, tokens)
            state = state + self.step_embedding.weight[t]
            if signal is not None and t > 0:  # step 0 already has it from the input embedding
                state = state + signal.to(state.dtype)
            return self.block(state, self.pe, positions, bias, None, rotation)

        if not self.act or self.fixed_phase:
            for t in range(self.max_steps):
                h = step(h, t)
            return self.readout(h, steps=h.new_full(h.shape[:2], float(self.max_steps)))
        result = adaptive_computation(h, step, self.halting, self.max_steps)
        return self.readout(result.output, ponder=result.ponder, steps=result.steps)

    def flops_per_token(self, context: int, steps: float | None = None) -> float:
        steps = self.max_steps if steps is None else steps
        per_step = block_flops(self.d_model, self.d_ff, context, self.modified_heads, self.n_heads) + 2 * self.d_model
        return steps * per_step + 2 * self.d_model * self.vocab_size


class MixtureLinear(nn.Module):
    """A linear layer whose weight and bias are a mixture of ``banks`` banks.

    The owning model sets :attr:`coeffs` before each use: shape ``[K]`` (one
    mixture for the batch) or ``[B, K]`` (one per example).  Holding the
    coefficients as state lets the ordinary :class:`Block` code run
    unchanged with generated weights.
    """

    def __init__(self, d_in: int, d_out: int, banks: int):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(banks, d_out, d_in) * 0.02)
        self.bias = nn.Parameter(torch.zeros(banks, d_out))
        self.coeffs: torch.Tensor | None = None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        c = self.coeffs
        if c is None:
            raise RuntimeError("MixtureLinear used before its coefficients were set")
        if c.dim() == 1:
            return F.linear(x, torch.einsum("k,koi->oi", c, self.weight), c @ self.bias)
        weight = torch.einsum("bk,koi->boi", c, self.weight)
        return torch.einsum("bli,boi->blo", x, weight) + (c @ self.bias).unsqueeze(1)


class HyperUT(UniversalTransformer):
    """Hyper-UT (Abnar et al., 2023): a Universal Transformer whose step-t
    block weights are generated by a hypernetwork as a mixture over ``banks``
    weight banks, with coefficients ``softmax(g(step embedding))`` and,
    with ``input_conditioned=true``, ``g(step embedding + pooled input)``
    where the input is pooled over the tokens before the first ``<sep>`` (so
    predictions of the target never see the target).  Depth stays adaptive
    with the same ACT halting as the UT.

    >>> model = HyperUT(vocab_size=10, d_model=32, n_heads=4, max_steps=3, banks=2)
    >>> model(torch.zeros(2, 5, dtype=torch.long)).logits.shape
    torch.Size([2, 5, 10])
    """

    def __init__(
        self,
        vocab_size: int,
        banks: int = 4,
        input_conditioned: bool = False,
        mixture_bias_decay: bool = False,
        **kwargs,
    ):
        """``mixture_bias_decay``: weight decay on the banks' biases, which
        are stored as ``[banks, d_out]`` matrices; off, they are regularised
        like the UT's biases (none), so the two differ only in the banks."""
        if banks < 1:
            raise LengthgenError(f"banks must be >= 1, got {banks}")
        self.banks = banks
        self.input_conditioned = input_conditioned
        self.mixture_bias_decay = mixture_bias_decay
        super().__init__(vocab_size, **kwargs)
        d = self.d_model
        self.hyper = nn.Sequential(nn.Linear(d, d), nn.GELU(), nn.Linear(d, banks))
        for m in self.hyper:
            if isinstance(m, nn.Linear):
                nn.init.normal_(m.weight, std=0.02)
                nn.init.zeros_(m.bias)
        self.mixtures = [m for m in self.block.modules() if isinstance(m, MixtureLinear)]

    def decay_exempt(self) -> set[str]:
        if self.mixture_bias_decay:
            return set()
        names = {id(m.bias) for m in self.mixtures}
        return {name for name, p in self.named_parameters() if id(p) in names}

    def make_block(self, d_model, n_heads, d_ff, dropout, modified):
        return Block(d_model, n_heads, d_ff, dropout, modified, linear=lambda i, o: MixtureLinear(i, o, self.banks))

    def before_step(self, t: int, h0: torch.Tensor, tokens: torch.Tensor) -> None:
        signal = self.step_embedding.weight[t]
        if self.input_conditioned:
            prompt = (torch.cumsum((tokens == SEP).long(), dim=1) == 0).to(h0.dtype).unsqueeze(-1)
            pooled = (h0 * prompt).sum(1) / prompt.sum(1).clamp(min=1.0)
            signal = signal + pooled  # [B, D]
        coeffs = torch.softmax(self.hyper(signal), dim=-1)
        for m in self.mixtures:
            m.coeffs = coeffs

    def flops_per_token(self, context: int, steps: float | None = None) -> float:
        # Generating the weights is per sequence, not per token; counted per
        # token it vanishes for long sequences, so it is left out.
        return super().flops_per_token(context, steps)
