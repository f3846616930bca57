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
    ):
        """``heads[l]`` = (heads, query-key width, value width) of layer l;
        ``mlp_widths[l]`` its hidden units (0: no MLP)."""
        if len(heads) != len(mlp_widths):
            raise LengthgenError("heads and mlp_widths need one entry per layer")
        if pe not in ("learned", "none"):
            raise LengthgenError(f"a compiled model reads positions from a learned table or none, not {pe!r}")
        super().__init__(vocab_size, d_model, 1, pe, max_positions)
        self.n_heads = max([h for h, _, _ in heads] + [1])
        self.norm_out = nn.Identity()  # values sit in fixed dimensions: nothing is normalised
        self.causal = causal
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
        """Record which residual dimensions each sublayer reads and writes
        (the nonzero rows and columns of its weights): a written model is
        mostly zeros, and skipping them is exact."""
        self.reads, self.writes, self.mlp_reads, self.mlp_writes = [], [], [], []
        for layer in range(self.n_layers):
            read = (self.wq[layer] != 0).any(-1) | (self.wk[layer] != 0).any(-1) | (self.wv[layer] != 0).any(-1)
            self.reads.append(torch.nonzero(read.any(0)).flatten())
            self.writes.append(torch.nonzero((self.wo[layer] != 0).any(0).any(0)).flatten())
            self.mlp_reads.append(torch.nonzero((self.w1[layer] != 0).any(1)).flatten())
            self.mlp_writes.append(torch.nonzero((self.w2[layer] != 0).any(0)).flatten())

    def forward(self, tokens: torch.Tensor, positions: torch.Tensor | None = None, cache: KVCache | None = None):
        if not hasattr(self, "reads"):
            self.compact()
        offset = cache.length if cache is not None else 0
        positions = self.resolve_positions(tokens, positions, offset)
        h = self.embed(tokens, positions)
        length = tokens.shape[1]
        total = offset + length
        # query i (at offset + i) sees keys up to itself
        future = (
            torch.arange(total, device=tokens.device)[None, :]
            > torch.arange(offset, total, device=tokens.device)[:, None]
        )
        for layer in range(self.n_layers):
            rows, cols = self.reads[layer], self.writes[layer]
            if len(rows) and len(cols):
                x = h[..., rows]
                q = torch.einsum("bld,hde->bhle", x, self.wq[layer][:, rows])
                k = torch.einsum("bld,hde->bhle", x, self.wk[layer][:, rows])
                v = torch.einsum("bld,hde->bhle", x, self.wv[layer][:, rows])
                if cache is not None:
                    k, v, _ = cache.layers[layer].extend(k, v, None)
                scores = q @ k.transpose(-1, -2)
                if self.causal:
                    scores = scores.masked_fill(future, float("-inf"))
                sink = torch.einsum("bhle,he->bhl", q, self.sink_k[layer]).unsqueeze(-1)
                weights = torch.softmax(torch.cat([sink, scores], dim=-1), dim=-1)
                mixed = weights[..., 1:] @ v + weights[..., :1] * self.sink_v[layer][None, :, None, :]
                h = h.index_add(-1, cols, torch.einsum("bhle,hed->bld", mixed, self.wo[layer][:, :, cols]))
            rows, cols = self.mlp_reads[layer], self.mlp_writes[layer]
            if len(rows) and len(cols):
                hidden = torch.relu(h[..., rows] @ self.w1[layer][rows])
                h = h.index_add(-1, cols, hidden @ self.w2[layer][:, cols])
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
