"""Causal self-attention, optionally with the abstract-symbols modified head."""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import nn

from lengthgen.errors import LengthgenError
from lengthgen.models.base import LayerCache
from lengthgen.models.positional import PositionalEncoding

IDENTITY_TERMS = ("both", "qk", "ov")


class CausalSelfAttention(nn.Module):
    """Multi-head causal attention with an optional KV cache.

    ``modified=True`` adds the two trainable scalars per head of Boix-Adsera
    et al. (2023): head h's logit between i and j gains
    ``a_h * identity_scale * <x_i, x_j>`` (the ``W_Q W_K^T + a I`` term) and
    the block output gains ``b_h * identity_scale * sum_j attn_h[i, j] x_j``
    (the ``W_V W_O + b I`` term), where ``x`` is the block's normalised
    input.  ``a`` and ``b`` start at 0, so a modified model starts out
    computing exactly what the plain one does.

    The identity value term is computed in the same fused attention call by
    appending ``x`` to every head's values.  ``identity`` picks the terms:
    ``both`` (default), ``qk`` (only ``+aI``) or ``ov`` (only ``+bI``).
    ``identity_scale`` is the fixed multiplier; 1 as in the authors' code
    (a scale of ``d_model**-0.5`` makes the terms learn sqrt(d) times slower).
    """

    def __init__(
        self,
        d_model: int,
        n_heads: int,
        modified: bool = False,
        identity_scale: float | None = None,
        linear: Callable[[int, int], nn.Module] = nn.Linear,
        scale: float | None = None,
        identity: str = "both",
    ):
        super().__init__()
        self.d_model, self.n_heads, self.head_dim = d_model, n_heads, d_model // n_heads
        self.scale = scale  # None: the standard 1/sqrt(head_dim)
        self.qkv = linear(d_model, 3 * d_model)
        self.proj = linear(d_model, d_model)
        if identity not in IDENTITY_TERMS:
            raise LengthgenError(f"identity must be one of {', '.join(IDENTITY_TERMS)}, got {identity!r}")
        self.modified = modified
        self.use_qk = modified and identity in ("both", "qk")
        self.use_ov = modified and identity in ("both", "ov")
        if self.use_qk:
            self.a = nn.Parameter(torch.zeros(n_heads))
        if self.use_ov:
            self.b = nn.Parameter(torch.zeros(n_heads))
        if modified:
            self.identity_scale = 1.0 if identity_scale is None else identity_scale

    def forward(
        self,
        x: torch.Tensor,
        pe: PositionalEncoding,
        q_pos: torch.Tensor,
        bias: torch.Tensor | None = None,
        cache: LayerCache | None = None,
        rotation: tuple[torch.Tensor, torch.Tensor] | None = None,
    ) -> torch.Tensor:
        """``x`` [B, L, D] normalised input; ``q_pos`` [B, L] its position ids;
        ``bias`` [B, H, L, n_keys] the positional logit bias, if any;
        ``rotation`` RoPE's ``pe.rotation(q_pos)`` when the caller computed it
        once for all layers."""
        batch, length, _ = x.shape
        h, dh = self.n_heads, self.head_dim
        q, k, v = self.qkv(x).view(batch, length, 3, h, dh).permute(2, 0, 3, 1, 4).unbind(0)
        rotation = rotation if rotation is not None else pe.rotation(q_pos)  # None: the encoding does not rotate
        if rotation is not None:
            q, k = pe.apply_rotation(q, rotation), pe.apply_rotation(k, rotation)
        if self.use_ov:
            v = torch.cat([v, x.unsqueeze(1).expand(batch, h, length, self.d_model)], dim=-1)
        keys_x = x
        if cache is not None:
            k, v, keys_x = cache.extend(k, v, x if self.modified else None)
        n_keys = k.shape[2]

        if self.use_qk:
            same = torch.einsum("bid,bjd->bij", x, keys_x).unsqueeze(1)
            ident = (self.a * self.identity_scale).view(1, h, 1, 1) * same
            bias = ident if bias is None else bias + ident
        if bias is None and length == n_keys:
            out = F.scaled_dot_product_attention(q, k, v, is_causal=True, scale=self.scale)
        elif bias is None and length == 1:
            out = F.scaled_dot_product_attention(q, k, v, scale=self.scale)  # one new query sees every cached key
        else:
            # queries are the last `length` of the `n_keys` positions
            q_idx = torch.arange(n_keys - length, n_keys, device=x.device)
            hidden = torch.arange(n_keys, device=x.device)[None, :] > q_idx[:, None]
            mask = torch.zeros(length, n_keys, device=x.device, dtype=q.dtype).masked_fill(hidden, float("-inf"))
            mask = mask if bias is None else bias.to(q.dtype) + mask
            out = F.scaled_dot_product_attention(q, k, v, attn_mask=mask, scale=self.scale)
        if self.use_ov:
            out, copied = out.split([dh, self.d_model], dim=-1)
            extra = ((self.b * self.identity_scale).view(1, h, 1, 1) * copied).sum(dim=1)
        y = self.proj(out.transpose(1, 2).reshape(batch, length, self.d_model))
        return y + extra if self.use_ov else y
