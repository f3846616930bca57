"""Positional encodings that matter for length generalization.

One module, chosen by ``kind``, exposes the three ways position can enter a
transformer; each kind implements the ones it uses and returns ``None`` for
the rest:

- ``embed(positions)``: vectors added to token embeddings (learned,
  sinusoidal, randomized);
- ``rotate(x, positions)``: rotary encoding of queries and keys (rope);
- ``bias(q_pos, k_pos)``: additive attention-logit bias (alibi, fire).

``none`` (NoPE) uses none of them: the causal mask alone carries order.

``abacus`` (McLeish et al., 2024) is a learned table indexed not by a
token's place in the sequence but by its place inside its segment: the
count of tokens since the last segment token (for addition, ``+`` and
``<sep>``; they get index 0).  In reversed addition digit k of both
operands and of the sum then share one index, so aligning them is a content match, whatever the
operands' length; global order comes from the causal mask alone.
``abacus-rope`` rotates queries and keys by those indices instead (RoPE on
the place inside the number): attention then depends on the difference of
two tokens' places, so "the digit one place up in every number" is the same
pattern at every length, and no table row is left untrained beyond the
training lengths.

Randomized positional encodings (Ruoss et al., 2023) are sinusoidal
encodings of positions that are a sorted random subset of
``0 .. max_positions-1``, drawn per sequence by the caller through
:meth:`PositionalEncoding.sample_positions` with an explicit numpy
generator, during training and at test time alike.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import nn

from lengthgen.errors import LengthgenError

PE_KINDS = (
    "learned", "sinusoidal", "none", "rope", "alibi", "randomized", "fire", "randomized-rope", "randomized-learned",
    "randomized-fire", "abacus", "abacus-rope",
)  # fmt: skip
# Ruoss et al. randomize the positions fed to any encoding: the sinusoidal
# table (``randomized``), RoPE's angles and the learned table's rows alike;
# Zhou et al. (2024) feed them to FIRE's bias (``randomized-fire``), the
# encoding of their addition record.
RANDOMIZED_KINDS = ("randomized", "randomized-rope", "randomized-learned", "randomized-fire")
FIRE_KINDS = ("fire", "randomized-fire")
ROTARY_KINDS = ("rope", "randomized-rope", "abacus-rope")
# encodings read a token's index inside its segment (number), not its sequence position
SEGMENT_KINDS = ("abacus", "abacus-rope")
TABLE_KINDS = ("learned", "randomized-learned", "abacus")
# Model options that only some encodings read: option -> those encodings.  A
# recipe's value for one is dropped when a run switches to an encoding that
# does not read it (lengthgen.experiment), and setting one for any other
# encoding is an error (check_segment_options).
ENCODING_OPTIONS = {
    "segment_tokens": SEGMENT_KINDS,
    "segment_ends": SEGMENT_KINDS,
    "abacus_offset": ("abacus",),
    "abacus_offset_draw": ("abacus",),
    "place_window": SEGMENT_KINDS,  # transformer only; checked in its constructor
}
# abacus offsets drawn per training row, or once per batch as McLeish et al. draw them
ABACUS_DRAWS = ("row", "batch")


def sinusoidal_table(positions: torch.Tensor, dim: int) -> torch.Tensor:
    """Vaswani et al.'s encoding of (possibly non-contiguous) positions [..., L] -> [..., L, dim]."""
    half = dim // 2
    freq = torch.exp(-math.log(10000.0) * torch.arange(half, device=positions.device, dtype=torch.float32) / half)
    angles = positions.float().unsqueeze(-1) * freq
    table = torch.cat([torch.sin(angles), torch.cos(angles)], dim=-1)
    if dim % 2:
        table = torch.nn.functional.pad(table, (0, 1))
    return table


def segment_positions(
    tokens: torch.Tensor,
    positions: torch.Tensor,
    segment_ids: torch.Tensor,
    last: torch.Tensor | None = None,
    origin: torch.Tensor | None = None,
    end_ids: torch.Tensor | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Each token's 1-based index inside its segment, and each row's last segment token.

    A segment starts after every token in ``segment_ids``; the k-th token of
    a segment gets index k, a segment token itself index 0.  (Giving the
    closing token the next index would share it with digit n of a number n
    digits long; a pilot on reversed addition failed at exactly that digit.)
    ``positions`` [B, L] are the tokens' sequence positions; ``last`` [B]
    carries the position of each row's latest segment token across calls
    (decoding with a cache).  ``origin`` [B] is each row's first position
    (0 unless training shifted it, see ``abacus_offset``): every index is
    raised by it, so a row drawn with origin k trains table rows k+1, k+2, ...
    Segment tokens in ``end_ids`` take the next place of the segment they
    close instead of 0, so "the place after the last digit" holds a marker:
    meant for ``abacus-rope``, where the token's own content tells the
    marker from a digit at that place (a learned table row would not).

    >>> ids = torch.tensor([[5, 6, 1, 7, 8, 9, 1, 4]])  # segments end at token 1
    >>> segment_positions(ids, torch.arange(8)[None], torch.tensor([1]))[0]
    tensor([[1, 2, 0, 1, 2, 3, 0, 1]])
    """
    is_end = torch.isin(tokens, segment_ids)
    if origin is None:
        origin = torch.zeros_like(positions[:, 0])
    if last is None:
        last = origin - 1
    ends = torch.where(is_end, positions, torch.full_like(positions, -1)).cummax(dim=1).values
    ends = torch.maximum(ends, last.unsqueeze(1))
    before = torch.cat([last.unsqueeze(1), ends[:, :-1]], dim=1)  # the latest end strictly before each token
    inside = positions - before + origin.unsqueeze(1)
    closing = torch.zeros_like(positions) if end_ids is None else torch.where(torch.isin(tokens, end_ids), inside, 0)
    return torch.where(is_end, closing, inside), ends[:, -1]


def place_window_bias(q_places: torch.Tensor, k_places: torch.Tensor, window: int) -> torch.Tensor:
    """Additive attention bias [B, 1, Lq, Lk] that confines attention to
    nearby places of numbers: a token with a place (a digit, place >= 1)
    sees the tokens whose place is at most ``window`` from its own; a
    segment token (place 0: ``+``, ``<sep>``) sees places up to
    ``window + 1``; segment tokens are seen by all.  Every query's view of a
    long sum is then one that a sum of ``2 * window + 1`` digits also gives,
    so a rule learned from short sums meets nothing new at longer ones.

    >>> places = torch.tensor([[1, 2, 3, 0, 1, 2, 3]])  # 321 + 321, reversed
    >>> (place_window_bias(places, places, 1)[0, 0] == 0).int()
    tensor([[1, 1, 0, 1, 1, 1, 0],
            [1, 1, 1, 1, 1, 1, 1],
            [0, 1, 1, 1, 0, 1, 1],
            [1, 1, 0, 1, 1, 1, 0],
            [1, 1, 0, 1, 1, 1, 0],
            [1, 1, 1, 1, 1, 1, 1],
            [0, 1, 1, 1, 0, 1, 1]], dtype=torch.int32)
    """
    q, k = q_places.unsqueeze(-1), k_places.unsqueeze(-2)
    far = (k > 0) & torch.where(q > 0, (q - k).abs() > window, k > window + 1)
    return torch.zeros(far.shape, device=far.device).masked_fill(far, float("-inf")).unsqueeze(1)


def check_segment_options(
    pe: str,
    vocab_size: int,
    segment_tokens: list[int] | None,
    segment_ends: list[int] | None,
    abacus_offset: int,
    abacus_offset_draw: str = "row",
) -> None:
    """Clear errors for the abacus encodings' options (token ids by now)."""
    if abacus_offset_draw not in ABACUS_DRAWS:
        raise LengthgenError(f"abacus_offset_draw must be one of {', '.join(ABACUS_DRAWS)}, got {abacus_offset_draw!r}")
    if pe in SEGMENT_KINDS and not segment_tokens:
        raise LengthgenError(
            f"pe {pe!r} needs segment_tokens: the tokens after which positions restart (for addition: ['+', '<sep>'])"
        )
    # a rotation by segment index is relative already, so abacus_offset would change nothing for abacus-rope
    given = {
        "segment_tokens": segment_tokens,
        "segment_ends": segment_ends,
        "abacus_offset": abacus_offset,
        "abacus_offset_draw": abacus_offset_draw != "row",
    }
    for key, value in given.items():
        if value and pe not in ENCODING_OPTIONS[key]:
            kinds = " or ".join(repr(k) for k in ENCODING_OPTIONS[key])
            raise LengthgenError(f"{key} only applies to pe {kinds}, not {pe!r}")
    if abacus_offset < 0:
        raise LengthgenError(f"abacus_offset must be >= 0, got {abacus_offset}")
    ids = [*(segment_tokens or ()), *(segment_ends or ())]
    bad = [t for t in ids if isinstance(t, bool) or not isinstance(t, int) or not 0 <= t < vocab_size]
    if bad:
        raise LengthgenError(f"segment_tokens must be token ids in 0..{vocab_size - 1}, got {bad}")
    if set(segment_ends or ()) - set(segment_tokens or ()):
        raise LengthgenError("segment_ends must be among the segment_tokens")


def alibi_slopes(n_heads: int) -> torch.Tensor:
    """Press et al.'s geometric head slopes 2^(-8h/H), h = 1..H (exact for powers of two,
    interleaved as in the reference implementation otherwise)."""

    def power_of_two(n: int) -> list[float]:
        start = 2.0 ** (-8.0 / n)
        return [start ** (i + 1) for i in range(n)]

    if math.log2(n_heads).is_integer():
        return torch.tensor(power_of_two(n_heads))
    closest = 2 ** math.floor(math.log2(n_heads))
    extra = power_of_two(2 * closest)[0::2][: n_heads - closest]
    return torch.tensor(power_of_two(closest) + extra)


class FireBias(nn.Module):
    """FIRE (Li et al., 2023): bias(i, j) = f(psi(i - j) / psi(max(L, i))) per head,
    with psi(x) = log(c x + 1), f a small MLP, and c, L learned.  Normalising
    by the query position maps every relative distance into [0, 1], which is
    what lets it interpolate to longer inputs.

    Initialised as the paper's reference code: c = 0.1 and the threshold
    L = 512 * m with a learned multiplier m = 1, so an optimizer step moves L
    by hundreds of positions, not by the learning rate: L can come down to
    the training lengths, after which longer test inputs give normalised
    distances inside the range seen in training.  (A raw parameter started at
    512 barely moves, and the MLP then sees larger inputs at test time than
    in training.)"""

    def __init__(self, n_heads: int, hidden: int = 32, init_c: float = 0.1, init_threshold: float = 512.0):
        super().__init__()
        self.mlp = nn.Sequential(nn.Linear(1, hidden), nn.ReLU(), nn.Linear(hidden, n_heads))
        self.c = nn.Parameter(torch.tensor(init_c))
        self.register_buffer("threshold_scale", torch.tensor(init_threshold))
        self.threshold_multiplier = nn.Parameter(torch.tensor(1.0))
        self.eps = 1e-6

    @property
    def threshold(self) -> torch.Tensor:
        return (self.threshold_multiplier * self.threshold_scale).abs()

    def normalized(self, q_pos: torch.Tensor, k_pos: torch.Tensor) -> torch.Tensor:
        """The MLP's input psi(i - j) / psi(max(L, i)) [B, Lq, Lk], in [0, 1] where i >= j."""
        c, dtype = self.c.abs(), self.c.dtype
        rel = (q_pos.unsqueeze(-1) - k_pos.unsqueeze(-2)).clamp(min=0).to(dtype)
        norm = torch.maximum(q_pos.to(dtype), self.threshold).unsqueeze(-1)
        return torch.log1p(c * rel) / (torch.log1p(c * norm) + self.eps)

    def forward(self, q_pos: torch.Tensor, k_pos: torch.Tensor) -> torch.Tensor:
        # q_pos [B, Lq], k_pos [B, Lk] -> bias [B, H, Lq, Lk]
        return self.mlp(self.normalized(q_pos, k_pos).unsqueeze(-1)).permute(0, 3, 1, 2)


class PositionalEncoding(nn.Module):
    def __init__(
        self,
        kind: str,
        d_model: int,
        n_heads: int,
        max_positions: int = 512,
        abacus_offset: int = 0,
        abacus_offset_draw: str = "row",
    ):
        super().__init__()
        if kind not in PE_KINDS:
            raise ValueError(f"unknown positional encoding {kind!r}")
        self.kind = kind
        self.abacus_offset = abacus_offset
        self.abacus_offset_draw = abacus_offset_draw
        self.d_model = d_model
        self.head_dim = d_model // n_heads
        self.max_positions = max_positions
        if kind in TABLE_KINDS:
            # abacus indices run one past the position (a segment's first token is 1)
            self.table = nn.Embedding(max_positions + (kind == "abacus"), d_model)
            nn.init.normal_(self.table.weight, std=0.02)
        if kind == "alibi":
            self.register_buffer("slopes", alibi_slopes(n_heads), persistent=False)
        if kind in FIRE_KINDS:
            self.fire = FireBias(n_heads)
        if kind in ROTARY_KINDS:
            half = self.head_dim // 2
            inv = 1.0 / (10000.0 ** (torch.arange(half, dtype=torch.float32) / half))
            self.register_buffer("inv_freq", inv, persistent=False)

    @property
    def bounded(self) -> bool:
        """Whether positions beyond ``max_positions`` are impossible (learned table, randomized range)."""
        return self.kind in (*TABLE_KINDS, *RANDOMIZED_KINDS)

    def sample_positions(
        self,
        rng: np.random.Generator | None,
        batch: int,
        length: int,
        row_lengths: np.ndarray | None = None,
        training: bool = False,
    ) -> np.ndarray | None:
        """Position ids [batch, length] for fresh sequences, or None for 0..length-1.

        Abacus with ``abacus_offset`` k (McLeish et al.) raises every place
        index of a training row by a draw from 0..k (per row, or one draw per
        batch with ``abacus_offset_draw="batch"`` as McLeish et al. draw it),
        so the table rows past the training lengths are trained too;
        evaluation (``training=False``) uses 0.

        Randomized encodings draw a sorted random subset of ``0..max_positions-1``.
        With ``row_lengths`` (a padded batch of sequences of different
        lengths) each row's subset is drawn for its own length, as evaluation
        draws it; columns past a row's length repeat its last position
        (padding, never attended to by real tokens)."""
        if self.kind == "abacus" and training and self.abacus_offset:
            if rng is None:
                raise ValueError("abacus offsets need a numpy Generator")
            rows = 1 if self.abacus_offset_draw == "batch" else batch
            shift = np.broadcast_to(rng.integers(0, self.abacus_offset + 1, size=(rows, 1)), (batch, 1))
            return shift + np.arange(length)[None, :]
        if self.kind not in RANDOMIZED_KINDS:
            return None
        if rng is None:
            raise ValueError("randomized positions need a numpy Generator")
        if row_lengths is not None:
            rows = np.asarray(row_lengths, dtype=np.int64)
            if rows.max() > self.max_positions:
                raise ValueError(f"sequences of {int(rows.max())} tokens exceed max_positions={self.max_positions}")
            keys = rng.random((batch, self.max_positions))
            width = max(length, int(rows.max()))
            # the first k entries of a random permutation are a uniform k-subset
            cand = np.argsort(keys, axis=1)[:, :width]
            inside = np.arange(width)[None, :] < rows[:, None]
            picked = np.sort(np.where(inside, cand, self.max_positions), axis=1)
            last = picked[np.arange(batch), rows - 1]
            return np.where(inside, picked, last[:, None])[:, :length]
        keys = rng.random((batch, self.max_positions))
        picked = (
            np.argpartition(keys, length - 1, axis=1)[:, :length]
            if length < self.max_positions
            else np.argsort(keys, axis=1)
        )
        return np.sort(picked, axis=1)

    def embed(self, positions: torch.Tensor) -> torch.Tensor | None:
        if self.kind == "abacus":
            # the table is indexed by the place in a number, not the sequence position
            largest = int(positions.max()) if positions.numel() else 0
            if largest >= self.table.num_embeddings:
                raise LengthgenError(
                    f"abacus index {largest} (place in a number plus the training offset) exceeds the table of "
                    f"max_positions={self.max_positions}; raise max_positions or lower abacus_offset"
                )
        if self.kind in TABLE_KINDS:
            return self.table(positions)
        if self.kind in ("sinusoidal", "randomized"):
            return sinusoidal_table(positions, self.d_model)
        return None

    def rotation(self, positions: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor] | None:
        """RoPE's factors at positions [B, L] (None for other kinds): ``cos`` and
        the signed ``sin`` [B, 1, L, 2 * (Dh // 2)], each half repeated.

        Computed once per forward and shared by every layer: the angles
        depend only on the positions."""
        if self.kind not in ROTARY_KINDS:
            return None
        angles = positions.float().unsqueeze(-1) * self.inv_freq  # [B, L, half]
        cos, sin = angles.cos().unsqueeze(1), angles.sin().unsqueeze(1)
        return torch.cat([cos, cos], dim=-1), torch.cat([-sin, sin], dim=-1)

    @staticmethod
    def apply_rotation(x: torch.Tensor, rotation: tuple[torch.Tensor, torch.Tensor] | None) -> torch.Tensor:
        """Rotate x [..., B, H, L, Dh] (queries and keys may be stacked in front)
        by ``rotation``: the pair (x1, x2) of the two halves becomes
        (x1 cos - x2 sin, x1 sin + x2 cos)."""
        if rotation is None:
            return x
        cos, signed_sin = (t.to(x.dtype) for t in rotation)
        rotated = 2 * (cos.shape[-1] // 2)
        if rotated == x.shape[-1]:
            # roll swaps the halves without slicing, whose backward pass
            # zero-fills and copies; x1*cos + x2*(-sin) equals x1*cos - x2*sin exactly
            return x * cos + torch.roll(x, rotated // 2, dims=-1) * signed_sin
        head, rest = x[..., :rotated], x[..., rotated:]  # odd head size: the last dimension is not rotated
        return torch.cat([head * cos + torch.roll(head, rotated // 2, dims=-1) * signed_sin, rest], dim=-1)

    def rotate(self, x: torch.Tensor, positions: torch.Tensor) -> torch.Tensor:
        """Apply RoPE to x [B, H, L, Dh] at positions [B, L] (identity for other kinds)."""
        return self.apply_rotation(x, self.rotation(positions))

    def bias(self, q_pos: torch.Tensor, k_pos: torch.Tensor) -> torch.Tensor | None:
        """Additive logit bias [B, H, Lq, Lk] (alibi, fire) or None."""
        if self.kind == "alibi":
            dist = (q_pos.unsqueeze(-1) - k_pos.unsqueeze(-2)).float()  # [B, Lq, Lk], >= 0 where visible
            return -self.slopes.view(1, -1, 1, 1) * dist.unsqueeze(1)
        if self.kind in FIRE_KINDS:
            return self.fire(q_pos, k_pos)
        return None
