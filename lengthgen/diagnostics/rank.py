"""Incremental rank growth (Abbe et al., 2023): the rank of W_t - W_0 over training.

>>> import torch
>>> delta = torch.outer(torch.ones(4), torch.arange(3.0))  # rank 1
>>> round(stable_rank(torch.linalg.svdvals(delta)), 6), rank_above(torch.linalg.svdvals(delta), 0.01)
(1.0, 1)
"""

from __future__ import annotations

import torch
from torch import nn

RELATIVE_THRESHOLD = 0.01  # singular values above 1% of the largest count towards the rank


def stable_rank(singular_values: torch.Tensor) -> float:
    """||A||_F^2 / ||A||_2^2 = sum(s^2) / max(s)^2 (0 for the zero matrix)."""
    top = float(singular_values.max()) if singular_values.numel() else 0.0
    if top == 0.0:
        return 0.0
    return float((singular_values**2).sum()) / top**2


def rank_above(singular_values: torch.Tensor, fraction: float = RELATIVE_THRESHOLD) -> int:
    """How many singular values exceed ``fraction`` of the largest."""
    top = float(singular_values.max()) if singular_values.numel() else 0.0
    if top == 0.0:
        return 0
    return int((singular_values > fraction * top).sum())


def tracked_matrices(model: nn.Module) -> dict[str, torch.Tensor]:
    """The attention and MLP weight matrices: 2-D weights of linear layers
    (and each bank of a Hyper-UT mixture), excluding embeddings and readout."""
    out = {}
    for name, p in model.named_parameters():
        if "embedding" in name or name.startswith("head") or "table" in name or "pe." in name or "hyper." in name:
            continue
        if name.endswith("weight") and p.dim() == 2:
            out[name] = p
        elif name.endswith("weight") and p.dim() == 3:  # mixture banks [K, out, in]
            for k in range(p.shape[0]):
                out[f"{name}[{k}]"] = p[k]
    return out


class RankTracker:
    """Remembers W_0 and reports the spectrum of W_t - W_0 on demand."""

    def __init__(self, model: nn.Module):
        self.model = model
        self.initial = {k: v.detach().clone().float().cpu() for k, v in tracked_matrices(model).items()}

    def measure(self, step: int) -> dict:
        layers = {}
        with torch.no_grad():
            for name, weight in tracked_matrices(self.model).items():
                delta = weight.detach().float().cpu() - self.initial[name]
                s = torch.linalg.svdvals(delta)
                layers[name] = {
                    "stable_rank": round(stable_rank(s), 4),
                    "rank": rank_above(s),
                    "norm": round(float(s.max()) if s.numel() else 0.0, 6),
                }
        return {"step": step, "layers": layers}
