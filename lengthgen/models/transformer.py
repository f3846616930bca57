"""Decoder-only causal transformer (pre-norm), the suite's main model."""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn

from lengthgen.errors import LengthgenError
from lengthgen.models.attention import CausalSelfAttention
from lengthgen.models.base import KVCache, LayerCache, ModelOutput, SequenceModel, init_weights
from lengthgen.models.mup import PARAMETRIZATIONS, apply_mup, attention_scale
from lengthgen.models.positional import RANDOMIZED_KINDS, SEGMENT_KINDS, PositionalEncoding, place_window_bias

# GPT-2 (and Hugging Face's GPT2 model) uses the tanh approximation of
# GELU ("gelu_new"); torch's default is the exact one
ACTIVATIONS = {"gelu": "none", "gelu_tanh": "tanh"}
# which side of a scored start logit learns from it (see Transformer.__init__)
BOS_SCORE_GRADS = ("both", "start", "hidden")


class Block(nn.Module):
    """Pre-norm block: x + attn(norm(x)), then x + mlp(norm(x)).

    ``linear`` builds every weight matrix, so Hyper-UT can swap in
    hypernetwork-generated layers while sharing this code.
    """

    def __init__(
        self,
        d_model: int,
        n_heads: int,
        d_ff: int,
        dropout: float = 0.0,
        modified: bool = False,
        identity_scale: float | None = None,
        linear: Callable[[int, int], nn.Module] = nn.Linear,
        attention_scale: float | None = None,
        identity: str = "both",
        activation: str = "gelu",
    ):
        super().__init__()
        if activation not in ACTIVATIONS:
            raise LengthgenError(f"activation must be one of {', '.join(ACTIVATIONS)}, got {activation!r}")
        self.norm1 = nn.LayerNorm(d_model)
        self.attn = CausalSelfAttention(d_model, n_heads, modified, identity_scale, linear, attention_scale, identity)
        self.norm2 = nn.LayerNorm(d_model)
        self.mlp = nn.Sequential(
            linear(d_model, d_ff), nn.GELU(approximate=ACTIVATIONS[activation]), linear(d_ff, d_model)
        )
        self.drop = nn.Dropout(dropout)

    def forward(self, x, pe: PositionalEncoding, q_pos, bias=None, cache: LayerCache | None = None, rotation=None):
        x = x + self.drop(self.attn(self.norm1(x), pe, q_pos, bias, cache, rotation))
        return x + self.drop(self.mlp(self.norm2(x)))


def block_flops(d_model: int, d_ff: int, context: int, modified: bool, n_heads: int) -> float:
    """Forward FLOPs of one block for one token attending to ``context`` keys."""
    matmul = 2 * (3 * d_model * d_model + d_model * d_model + 2 * d_model * d_ff)
    value_dim = d_model + (n_heads * d_model if modified else 0)
    attention = 2 * context * (d_model + value_dim)
    return matmul + attention


class Transformer(SequenceModel):
    """Causal transformer language model over ``input SEP target``.

    >>> model = Transformer(vocab_size=10, d_model=32, n_layers=2, n_heads=4, pe="rope")
    >>> model(torch.zeros(3, 7, dtype=torch.long)).logits.shape
    torch.Size([3, 7, 10])
    """

    supports_cache = True

    def __init__(
        self,
        vocab_size: int,
        d_model: int = 128,
        n_layers: int = 2,
        n_heads: int = 4,
        d_ff: int | None = None,
        pe: str = "rope",
        max_positions: int = 512,
        dropout: float = 0.0,
        modified_heads: bool = False,
        identity_scale: float = 1.0,
        identity: str = "both",
        parametrization: str = "standard",
        base_width: int = 64,
        tie_embeddings: bool = False,
        segment_tokens: list[int] | None = None,
        abacus_offset: int = 0,
        segment_ends: list[int] | None = None,
        freeze_embeddings: bool = False,
        abacus_offset_draw: str = "row",
        place_window: int = 0,
        bos: bool = False,
        bos_scored: bool = False,
        bos_score_grad: str = "both",
        activation: str = "gelu",
    ):
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
        if tie_embeddings and parametrization == "mup":
            raise LengthgenError("tie_embeddings cannot be combined with muP (its readout starts at zero)")
        if parametrization not in PARAMETRIZATIONS:
            raise LengthgenError(
                f"parametrization must be one of {', '.join(PARAMETRIZATIONS)}, got {parametrization!r}"
            )
        if isinstance(place_window, bool) or not isinstance(place_window, int) or place_window < 0:
            raise LengthgenError(f"place_window must be an integer >= 0 (0: off), got {place_window!r}")
        if place_window and pe not in SEGMENT_KINDS:
            kinds = " or ".join(repr(k) for k in SEGMENT_KINDS)
            raise LengthgenError(
                f"place_window confines attention by place in a number: it needs pe {kinds}, not {pe!r}"
            )
        # a digit attends only to digits at most this many places away (0: everywhere)
        self.place_window = place_window
        self.d_ff = d_ff or 4 * d_model
        self.modified_heads = modified_heads
        mup = parametrization == "mup"
        scale = attention_scale(d_model, n_heads, base_width) if mup else None
        self.blocks = nn.ModuleList(
            Block(
                d_model,
                n_heads,
                self.d_ff,
                dropout,
                modified_heads,
                identity_scale,
                attention_scale=scale,
                identity=identity,
                activation=activation,
            )  # fmt: skip
            for _ in range(n_layers)
        )
        init_weights(self)
        self._lr_multipliers: dict[str, float] = {}
        width_factor = 1.0
        if mup:
            hidden = [m for b in self.blocks for m in (b.attn.qkv, b.attn.proj, b.mlp[0], b.mlp[2])]
            self._lr_multipliers = apply_mup(self, hidden, self.head, d_model, base_width)
            self.output_multiplier = base_width / d_model
            width_factor = (base_width / d_model) ** 0.5
        # GPT-2: shrink residual-branch outputs so depth does not blow up the
        # stream (in both parametrizations, so muP at the base width is the
        # standard model up to its zero readout)
        for block in self.blocks:
            for out in (block.attn.proj, block.mlp[2]):
                nn.init.normal_(out.weight, std=0.02 * width_factor / (2 * n_layers) ** 0.5)
        if tie_embeddings:
            # the readout scores each token by its own input embedding, so a
            # symbol copied through the residual stream (the b*I term) is
            # predicted even if it never appeared as a training target
            self.head.weight = self.embedding.weight
        if freeze_embeddings:
            # Token embeddings stay at their random initialisation.  A symbol
            # never seen in training is then embedded like the seen ones;
            # trained, a tied table pushes every unseen row along the same
            # softmax gradient until they are one vector (Lazic et al., 2026;
            # results/studies/symbols/copy_probe.py measures it), and a copy of an unseen
            # symbol cannot be told from another.
            self.embedding.weight.requires_grad_(False)

        # Huang et al.'s GPT-2 reads "<bos> input <sep> ..." with the <bos> at
        # the first (offset) position: a fixed token that marks where the
        # sequence starts, which a one-head layer can attend to.  Here it is a
        # learned vector the model puts before every sequence it reads (a
        # row of its own, never a target), so tasks, data and evaluation are
        # unchanged; every real token moves one position up.
        self.bos = bool(bos)
        if self.bos:
            if pe in SEGMENT_KINDS or pe in RANDOMIZED_KINDS or place_window:
                raise LengthgenError(
                    f"bos does not combine with pe {pe!r}, which places tokens by their number or draws positions itself"
                )
            if mup:
                raise LengthgenError("bos is implemented for the standard parametrization, not muP")
            self.start = nn.Parameter(torch.randn(d_model) * 0.02)  # GPT-2's embedding init
        # Huang et al.'s <bos> is a row of their tied vocabulary, so their
        # readout scores it too: one more class, never a target, whose logit
        # every target position pushes down, and whose gradient reaches the
        # start vector through the readout as well as through the input.
        # Here it is the class numbered vocab_size, and a token of that
        # number (a greedy decoder may emit it) reads the start vector.
        self.bos_scored = bool(bos_scored)
        if self.bos_scored and not (self.bos and tie_embeddings):
            raise LengthgenError(
                "bos_scored scores the start vector through the tied readout: it needs bos and tie_embeddings"
            )
        # which side of the start logit (hidden state . start vector) learns
        # from it: a diagnosis of why the scored start token selects the
        # content pointer (does the readout move the start vector, which
        # every layer reads as a key, or the final states?); "both" is the
        # tied readout itself
        if bos_score_grad not in BOS_SCORE_GRADS:
            raise LengthgenError(f"bos_score_grad must be one of {', '.join(BOS_SCORE_GRADS)}, not {bos_score_grad!r}")
        if bos_score_grad != "both" and not self.bos_scored:
            raise LengthgenError("bos_score_grad changes nothing without bos_scored: set bos_scored or leave it out")
        self.bos_score_grad = bos_score_grad

    def lr_multipliers(self) -> dict[str, float]:
        return self._lr_multipliers

    def forward(
        self,
        tokens: torch.Tensor,
        positions: torch.Tensor | None = None,
        cache: KVCache | None = None,
        segments: torch.Tensor | None = None,
    ):
        start = self.bos and (cache is None or cache.length == 0)
        if self.bos:
            if segments is not None:
                raise LengthgenError("bos opens a row, not each packed example: it does not combine with pack_examples")
            if positions is not None:
                positions = positions + 1
                if start:
                    positions = torch.cat([positions[:, :1] - 1, positions], 1)
            if start:  # a placeholder column where the start vector goes
                tokens = torch.cat([tokens.new_zeros(tokens.shape[0], 1), tokens], 1)
        offset = cache.length if cache is not None else 0
        positions = self.resolve_positions(tokens, positions, offset)
        k_pos = positions if cache is None or cache.positions is None else torch.cat([cache.positions, positions], 1)
        encoded = self.encoding_positions(tokens, positions, cache)
        if start:
            vectors = self.token_vectors(tokens[:, 1:])
            first = self.start.to(vectors.dtype).expand(len(tokens), 1, -1)
            h = self.add_positions(torch.cat([first, vectors], 1), encoded)
        else:
            h = self.add_positions(self.token_vectors(tokens), encoded)
        bias = self.confine(self.pe.bias(positions, k_pos), segments)  # shared by all layers
        if self.place_window:
            places = self.places(positions, encoded, cache)
            k_places = places if cache is None or cache.places is None else torch.cat([cache.places, places], 1)
            window = place_window_bias(places, k_places, self.place_window)
            bias = window if bias is None else bias + window
            if cache is not None:
                cache.places = k_places
        rotation = self.pe.rotation(encoded)  # likewise
        for i, block in enumerate(self.blocks):
            h = block(h, self.pe, positions, bias, None if cache is None else cache.layers[i], rotation)
        if cache is not None:
            cache.positions = k_pos
        return self.readout(h[:, 1:] if start else h)

    def table_rows(self) -> set[str]:
        # a scored start vector is a row of the token table, as Huang et al.'s
        # <bos> is, so their optimizer decays it with the table
        return {"start"} if self.bos_scored else set()

    def token_vectors(self, tokens: torch.Tensor) -> torch.Tensor:
        """Token embeddings; with ``bos_scored`` the class ``vocab_size`` is the start vector."""
        if not self.bos_scored:
            return self.embedding(tokens)
        is_start = (tokens == self.vocab_size).unsqueeze(-1)
        vectors = self.embedding(tokens.clamp(max=self.vocab_size - 1))
        return torch.where(is_start, self.start.to(vectors.dtype), vectors)

    def readout(self, h: torch.Tensor, **extra) -> ModelOutput:
        out = super().readout(h, **extra)
        if self.bos_scored:
            hidden, start = out.hidden, self.start.to(out.hidden.dtype)
            if self.bos_score_grad == "start":
                hidden = hidden.detach()
            elif self.bos_score_grad == "hidden":
                start = start.detach()
            start_logit = (hidden @ start).unsqueeze(-1) * self.output_multiplier
            out.logits = torch.cat([out.logits, start_logit], -1)
        return out

    @staticmethod
    def places(positions: torch.Tensor, encoded: torch.Tensor, cache: KVCache | None) -> torch.Tensor:
        """Each token's place in its number (0 for segment tokens), without
        the training offset that ``encoded`` carries: the window is a rule
        about places, the same in every row whatever its offset."""
        origin = positions[:, 0] if cache is None or cache.segment_origin is None else cache.segment_origin
        return torch.where(encoded > 0, encoded - origin.unsqueeze(1), 0)

    def new_cache(self) -> KVCache:
        return KVCache(len(self.blocks))

    def flops_per_token(self, context: int, steps: float | None = None) -> float:
        copies = self.modified_heads and self.blocks[0].attn.use_ov
        per_block = block_flops(self.d_model, self.d_ff, context, copies, self.n_heads)
        return len(self.blocks) * per_block + 2 * self.d_model * (self.vocab_size + self.bos_scored)
