"""What every sequence model shares: token embedding, positions, readout,
the output record, parameter and FLOP accounting."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from lengthgen.errors import LengthgenError
from lengthgen.models.positional import (
    SEGMENT_KINDS,
    PositionalEncoding,
    check_segment_options,
    segment_positions,
)
from lengthgen.tasks.base import PAD


@dataclass
class ModelOutput:
    """Next-token logits [B, L, V]; for adaptive-depth models also the ponder
    cost N + R and the number of steps used, per position [B, L]."""

    logits: torch.Tensor
    ponder: torch.Tensor | None = None
    steps: torch.Tensor | None = None
    hidden: torch.Tensor | None = None  # final normalised states [B, L, D] (representation diagnostics)


class LayerCache:
    """Keys, values and (for modified heads) normalised inputs of one layer."""

    def __init__(self) -> None:
        self.k: torch.Tensor | None = None
        self.v: torch.Tensor | None = None
        self.x: torch.Tensor | None = None

    def extend(self, k: torch.Tensor, v: torch.Tensor, x: torch.Tensor | None):
        if self.k is None:
            self.k, self.v, self.x = k, v, x
        else:
            self.k = torch.cat([self.k, k], dim=2)
            self.v = torch.cat([self.v, v], dim=2)
            self.x = None if x is None else torch.cat([self.x, x], dim=1)
        return self.k, self.v, self.x


class KVCache:
    """Per-layer caches plus the position ids of every cached token."""

    def __init__(self, n_layers: int) -> None:
        self.layers = [LayerCache() for _ in range(n_layers)]
        self.positions: torch.Tensor | None = None
        self.segment_end: torch.Tensor | None = None  # abacus: each row's latest segment token
        self.segment_origin: torch.Tensor | None = None  # abacus: each row's first position
        self.places: torch.Tensor | None = None  # place_window: each cached token's place in its number

    @property
    def length(self) -> int:
        return 0 if self.positions is None else self.positions.shape[1]


def init_weights(module: nn.Module) -> None:
    """GPT-2 style: N(0, 0.02) weights, zero biases, unit norms."""
    for m in module.modules():
        if isinstance(m, nn.Linear):
            nn.init.normal_(m.weight, std=0.02)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, nn.Embedding):
            nn.init.normal_(m.weight, std=0.02)


class SequenceModel(nn.Module):
    """Base class: subclasses implement ``forward(tokens, positions=None, cache=None)``."""

    supports_cache = False

    def __init__(
        self,
        vocab_size: int,
        d_model: int,
        n_heads: int,
        pe: str,
        max_positions: int,
        segment_tokens: list[int] | None = None,
        abacus_offset: int = 0,
        segment_ends: list[int] | None = None,
        abacus_offset_draw: str = "row",
    ):
        super().__init__()
        if d_model % n_heads:
            raise LengthgenError(f"d_model ({d_model}) must be divisible by n_heads ({n_heads})")
        check_segment_options(pe, vocab_size, segment_tokens, segment_ends, abacus_offset, abacus_offset_draw)
        for name, ids in (("segment_ids", segment_tokens), ("segment_end_ids", segment_ends)):
            self.register_buffer(name, torch.tensor(sorted(set(ids or ())), dtype=torch.long), persistent=False)
        self.vocab_size = vocab_size
        self.d_model = d_model
        self.n_heads = n_heads
        self.embedding = nn.Embedding(vocab_size, d_model)
        self.pe = PositionalEncoding(pe, d_model, n_heads, max_positions, abacus_offset, abacus_offset_draw)
        self.norm_out = nn.LayerNorm(d_model)
        self.head = nn.Linear(d_model, vocab_size, bias=False)

    # --- positions ---------------------------------------------------------
    def sample_positions(
        self,
        rng: np.random.Generator | None,
        batch: int,
        length: int,
        row_lengths: np.ndarray | None = None,
        training: bool = False,
    ) -> torch.Tensor | None:
        pos = self.pe.sample_positions(rng, batch, length, row_lengths, training)
        return None if pos is None else torch.from_numpy(pos).to(self.embedding.weight.device)

    @staticmethod
    def confine(bias: torch.Tensor | None, segments: torch.Tensor | None) -> torch.Tensor | None:
        """``bias`` with attention confined to each token's segment (packed
        examples: ``segments`` [B, L], equal ids attend to each other under
        the causal mask, every other pair gets -inf)."""
        if segments is None:
            return bias
        apart = (segments.unsqueeze(-1) != segments.unsqueeze(-2)).unsqueeze(1)  # [B, 1, Lq, Lk]
        confined = torch.zeros(apart.shape, device=segments.device).masked_fill(apart, float("-inf"))
        return confined if bias is None else bias + confined

    def resolve_positions(self, tokens: torch.Tensor, positions: torch.Tensor | None, offset: int = 0) -> torch.Tensor:
        batch, length = tokens.shape
        if positions is None:
            # the largest position is known without reading a tensor (no sync, no graph break)
            largest = offset + length - 1
            positions = torch.arange(offset, offset + length, device=tokens.device).expand(batch, length)
        elif self.pe.bounded:
            largest = int(positions.max())
        # the abacus table is indexed by the place in a number (checked where it is read), not the position
        if self.pe.bounded and self.pe.kind not in SEGMENT_KINDS and largest >= self.pe.max_positions:
            raise LengthgenError(
                f"sequence position {largest} exceeds the model's max_positions={self.pe.max_positions} "
                f"for '{self.pe.kind}' encodings; raise max_positions"
            )
        return positions

    def encoding_positions(
        self, tokens: torch.Tensor, positions: torch.Tensor, cache: KVCache | None = None
    ) -> torch.Tensor:
        """The indices the encoding reads: sequence positions, or for the
        abacus kinds each token's place in its segment (carried across
        cached decoding steps)."""
        if self.pe.kind not in SEGMENT_KINDS:
            return positions
        last = None if cache is None else cache.segment_end
        origin = positions[:, 0] if last is None else cache.segment_origin
        index, end = segment_positions(tokens, positions, self.segment_ids, last, origin, self.segment_end_ids)
        if cache is not None:
            cache.segment_end, cache.segment_origin = end, origin
        # padding after a short row would count on as places of its last
        # segment: it reads row 0 instead (no real token attends to it)
        return torch.where(tokens == PAD, 0, index)

    def embed(self, tokens: torch.Tensor, positions: torch.Tensor) -> torch.Tensor:
        """Token embeddings plus the encoding's vectors at ``positions``
        (as :meth:`encoding_positions` gives them)."""
        return self.add_positions(self.embedding(tokens), positions)

    def add_positions(self, h: torch.Tensor, positions: torch.Tensor) -> torch.Tensor:
        """Input vectors [B, L, D] plus the encoding's vectors at ``positions``."""
        extra = self.pe.embed(positions)
        if extra is None:
            return h
        if self.pe.kind in ("sinusoidal", "randomized"):
            # sinusoids have entries of size ~1 while embeddings start at ~0.02:
            # scale tokens by sqrt(d), as the reference implementations do, or
            # position swamps token identity
            h = h * self.d_model**0.5
        return h + extra.to(h.dtype)

    def readout(self, h: torch.Tensor, **extra) -> ModelOutput:
        hidden = self.norm_out(h)
        return ModelOutput(self.head(hidden) * self.output_multiplier, hidden=hidden, **extra)

    # muP sets this to base_width / width; 1 in the standard parametrization
    output_multiplier: float = 1.0

    def lr_multipliers(self) -> dict[str, float]:
        """Per-parameter learning-rate multipliers (muP); empty means all 1."""
        return {}

    def decay_exempt(self) -> set[str]:
        """Parameters of two or more dimensions that get no weight decay all
        the same (biases stored as a matrix); empty for most models."""
        return set()

    def table_rows(self) -> set[str]:
        """One-dimensional parameters that are rows of a token table, so
        weight-decayed with the tables (training option ``decay_embeddings``);
        empty for most models."""
        return set()

    # --- accounting --------------------------------------------------------
    def num_parameters(self) -> int:
        return sum(p.numel() for p in self.parameters())

    def flops_per_token(self, context: int, steps: float | None = None) -> float:
        """Forward FLOPs per token at a given context length (multiply-add = 2)."""
        raise NotImplementedError

    def new_cache(self) -> KVCache:
        raise LengthgenError(f"{type(self).__name__} does not support a KV cache")
