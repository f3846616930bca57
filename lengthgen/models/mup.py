"""The maximal-update parametrization (muP) for Adam (Yang et al., Tensor Programs V/VI).

Relative to a base width, with ``m = width / base_width``:

- hidden (matrix-like) weights: init std ``0.02 / sqrt(m)`` (variance ∝ 1/fan_in),
  Adam learning rate ``lr / m``;
- input embeddings and every vector-like parameter (biases, norms, gains):
  init and learning rate unchanged;
- readout: zero-initialised, logits multiplied by ``1 / m``;
- attention logits scaled by ``1 / d_head`` (times ``sqrt(base_d_head)`` so
  the base width matches the standard ``1 / sqrt(d_head)``).

- AdamW weight decay of hidden weights multiplied by ``m``, as the ``mup``
  package does by default, so the decay per step (lr x wd) does not shrink
  with width.

The transformer applies the standard depth scaling of residual-branch
outputs (std / sqrt(2 n_layers)) in both parametrizations, so at
``width == base_width`` the muP model is the standard one up to its
zero-initialised readout, and hyperparameters tuned at the base width
transfer to wider models.
"""

from __future__ import annotations

import math

from torch import nn

PARAMETRIZATIONS = ("standard", "mup")


def attention_scale(d_model: int, n_heads: int, base_width: int) -> float:
    head_dim = d_model // n_heads
    base_head_dim = max(1, base_width // n_heads)
    return math.sqrt(base_head_dim) / head_dim


def apply_mup(
    model: nn.Module, hidden: list[nn.Linear], readout: nn.Linear, width: int, base_width: int
) -> dict[str, float]:
    """Re-initialise ``hidden`` and ``readout`` for muP; return the learning-rate
    multiplier of every hidden weight, by parameter name."""
    m = width / base_width
    for layer in hidden:
        nn.init.normal_(layer.weight, std=0.02 / math.sqrt(m))
    nn.init.zeros_(readout.weight)
    ids = {id(layer.weight) for layer in hidden}
    return {name: 1.0 / m for name, p in model.named_parameters() if id(p) in ids}
