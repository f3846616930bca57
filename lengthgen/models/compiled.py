"""A transformer whose weights are written, not trained: the target of the
RASP-L compiler (:mod:`lengthgen.rasp.assemble`).

It is lengthgen's causal transformer with the changes a construction
needs, as tracr's models have them: no layer norm (values sit in fixed
residual dimensions), ReLU MLPs, heads whose query-key and value widths are
set per layer, an attention sink per head (an extra key and value every
query sees, ``nn.MultiheadAttention``'s ``add_bias_kv``) that stands for an
aggregate's default, and float64 so that softmax's near-zero weights stay
noise.  Positions are a learned absolute table when the program reads
``indices``, none otherwise.

>>> model = CompiledTransformer(vocab_size=5, d_model=8, heads=[(2, 3, 4)], mlp_widths=[6], max_positions=10)
>>> model(torch.zeros(2, 7, dtype=torch.long)).logits.shape
torch.Size([2, 7, 5])
"""

from __future__ import annotations

import torch
from torch import nn

from lengthgen.errors import LengthgenError
from lengthgen.models.base import KVCache, ModelOutput, SequenceModel


class CompiledTransformer(SequenceModel):
    supports_cache = True

    def __init__(
        self,
        vocab_size: int,
        d_model: int,
        heads: list[tuple[int, int, int]],
        mlp_widths: list[int],
        max_positions: int,
        pe: str = "learned",
        causal: bool = True,
        length_bound: bool = True,
    ):
        """``heads[l]`` = (heads, query-key width, value width) of layer l;
        ``mlp_widths[l]`` its hidden units (0: no MLP).  ``length_bound``:
        some weights were written for sequences of up to ``max_positions``
        tokens (counts, means, positions), so longer ones are refused
        rather than silently miscounted."""
        if len(heads) != len(mlp_widths):
            raise LengthgenError("heads and mlp_widths need one entry per layer")
        if pe not in ("learned", "none"):
            raise LengthgenError(f"a compiled model reads positions from a learned table or none, not {pe!r}")
        super().__init__(vocab_size, d_model, 1, pe, max_positions)
        self.n_heads = max([h for h, _, _ in heads] + [1])
        self.norm_out = nn.Identity()  # values sit in fixed dimensions: nothing is normalised
        self.causal = causal
        self.length_bound = length_bound
        self.layer_shapes = list(heads)
        self.wq, self.wk, self.wv, self.wo = (nn.ParameterList() for _ in range(4))
        self.sink_k, self.sink_v = nn.ParameterList(), nn.ParameterList()
        self.w1, self.w2 = nn.ParameterList(), nn.ParameterList()
        for (h, qk, v), m in zip(heads, mlp_widths):
            self.wq.append(nn.Parameter(torch.zeros(h, d_model, qk)))
            self.wk.append(nn.Parameter(torch.zeros(h, d_model, qk)))
            self.wv.append(nn.Parameter(torch.zeros(h, d_model, v)))
            self.wo.append(nn.Parameter(torch.zeros(h, v, d_model)))
            self.sink_k.append(nn.Parameter(torch.zeros(h, qk)))
            self.sink_v.append(nn.Parameter(torch.zeros(h, v)))
            self.w1.append(nn.Parameter(torch.zeros(d_model, m)))
            self.w2.append(nn.Parameter(torch.zeros(m, d_model)))
        for p in (self.embedding.weight, self.head.weight):
            nn.init.zeros_(p)
        if pe == "learned":
            nn.init.zeros_(self.pe.table.weight)
        self.double()

    @property
    def n_layers(self) -> int:
        return len(self.layer_shapes)

    def new_cache(self) -> KVCache:
        return KVCache(self.n_layers)

    def compact(self) -> None:
        """Keep, per sublayer, the residual dimensions it reads and writes
        (the nonzero rows and columns of its weights) and its weights cut
        to them: a written model is mostly zeros, and skipping them is
        exact.  Call again after changing the weights."""
        self.cut = []
        with torch.no_grad():
            for layer in range(self.n_layers):
                wq, wk, wv, wo = self.wq[layer], self.wk[layer], self.wv[layer], self.wo[layer]
                read = torch.nonzero(((wq != 0).any(-1) | (wk != 0).any(-1) | (wv != 0).any(-1)).any(0)).flatten()
                write = torch.nonzero((wo != 0).any(0).any(0)).flatten()
                w1, w2 = self.w1[layer], self.w2[layer]
                mlp_read = torch.nonzero((w1 != 0).any(1)).flatten()
                mlp_write = torch.nonzero((w2 != 0).any(0)).flatten()
                self.cut.append(
                    (
                        read,
                        write,
                        wq[:, read].clone(),
                        wk[:, read].clone(),
                        wv[:, read].clone(),
                        wo[:, :, write].clone(),
                        mlp_read,
                        mlp_write,
                        w1[mlp_read].clone(),
                        w2[:, mlp_write].clone(),
                    )
                )

    def forward(self, tokens: torch.Tensor, positions: torch.Tensor | None = None, cache: KVCache | None = None):
        if not hasattr(self, "cut"):
            self.compact()
        offset = cache.length if cache is not None else 0
        positions = self.resolve_positions(tokens, positions, offset)
        h = self.embed(tokens, positions)
        length = tokens.shape[1]
        total = offset + length
        if self.length_bound and total > self.pe.max_positions:
            raise LengthgenError(
                f"a sequence of {total} tokens: this model was compiled for up to {self.pe.max_positions} "
                "(counts and positions past that are not represented); compile it with a larger --max-len"
            )
        # query i (at offset + i) sees keys up to itself
        future = (
            torch.arange(total, device=tokens.device)[None, :]
            > torch.arange(offset, total, device=tokens.device)[:, None]
        )
        for layer in range(self.n_layers):
            rows, cols, wq, wk, wv, wo, mlp_rows, mlp_cols, w1, w2 = self.cut[layer]
            if len(rows) and len(cols):
                x = h[..., rows]
                q = torch.einsum("bld,hde->bhle", x, wq)
                k = torch.einsum("bld,hde->bhle", x, wk)
                v = torch.einsum("bld,hde->bhle", x, wv)
                if cache is not None:
                    k, v, _ = cache.layers[layer].extend(k, v, None)
                scores = q @ k.transpose(-1, -2)
                if self.causal:
                    scores = scores.masked_fill(future, float("-inf"))
                sink = torch.einsum("bhle,he->bhl", q, self.sink_k[layer]).unsqueeze(-1)
                weights = torch.softmax(torch.cat([sink, scores], dim=-1), dim=-1)
                mixed = weights[..., 1:] @ v + weights[..., :1] * self.sink_v[layer][None, :, None, :]
                h = h.index_add(-1, cols, torch.einsum("bhle,hed->bld", mixed, wo))
            if len(mlp_rows) and len(mlp_cols):
                h = h.index_add(-1, mlp_cols, torch.relu(h[..., mlp_rows] @ w1) @ w2)
        if cache is not None:
            cache.positions = positions if cache.positions is None else torch.cat([cache.positions, positions], 1)
        return ModelOutput(h @ self.head.weight.T, hidden=h)

    def flops_per_token(self, context: int, steps: float | None = None) -> float:
        total = 2 * self.d_model * self.vocab_size
        for layer, (h, qk, v) in enumerate(self.layer_shapes):
            total += 2 * h * self.d_model * (2 * qk + 2 * v) + 2 * h * context * (qk + v)
            total += 4 * self.d_model * self.w1[layer].shape[1]
        return float(total)

    def nonzero_parameters(self) -> int:
        return sum(int(torch.count_nonzero(p)) for p in self.parameters())
