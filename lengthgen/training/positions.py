"""Where training sequences sit in position space: random offsets and packed contexts.

Two ways, from the papers whose protocol the conjecture study follows, to
train every row of a learned position table up to the longest test
sequence, so that "longer than seen" is not "at positions never trained":

- *Random offsets* (Huang et al., 2025, after their public training code):
  each training sequence's positions start at an offset ``o`` drawn
  uniformly from ``0 .. span - n`` for a sequence of ``n`` tokens, where
  ``span`` is the number of tokens the model reads at the longest test
  length (``input <sep> target``; the closing ``<eos>`` is only a label); the
  sequence then occupies positions ``o .. o + n - 1``, all below ``span``.
  ``example`` draws one offset per sequence (as Huang et al.), ``batch``
  one per batch (as McLeish et al.'s Abacus offsets; the batch's longest
  sequence bounds it).  Evaluation starts every sequence at 0.
- *Packing* (Zhou et al., 2023): training rows are ``context`` tokens cut
  from a stream of consecutive examples ``input <sep> target <eos> input
  ...``, starting at a random point of the first example ("packing and
  shifting the context").  Attention crosses example boundaries, as in the
  paper (its count program reads the most recent start token); the loss is
  on target tokens and ``<eos>`` of the examples whose input lies wholly
  inside the row.  Every position ``0 .. context - 1`` holds a real token
  in every row, so every table row up to ``context`` trains, and there is
  no padding.  Evaluation is one example per sequence from position 0.

Both only matter for encodings that read absolute positions; RoPE, ALiBi
and NoPE are unchanged by a shift of all positions, and the randomized
encodings draw their own.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from lengthgen.errors import LengthgenError
from lengthgen.tasks.base import Batch, Task
from lengthgen.training.data import sample_mixed_lengths, to_lm_batch

OFFSET_MODES = ("none", "example", "batch")
# Encodings on which a common shift of all positions changes nothing (or
# which randomize positions themselves): an offset there is a mistake.
SHIFT_INVARIANT_KINDS = (
    "none", "rope", "alibi", "abacus-rope", "randomized", "randomized-rope", "randomized-learned",
    "randomized-fire",
)  # fmt: skip


def check_offset_encoding(mode: str, packed: bool, pe_kind: str | None) -> None:
    """A one-line error where offsets or packing cannot change what an encoding sees."""
    if pe_kind is None or pe_kind not in SHIFT_INVARIANT_KINDS:
        return
    if mode != "none":
        raise LengthgenError(
            f"training option position_offset={mode!r} changes nothing for pe {pe_kind!r} "
            "(it does not read absolute positions, or draws its own); use it with learned, sinusoidal, fire or abacus"
        )
    if packed and pe_kind.startswith("randomized"):
        raise LengthgenError(f"pack_context does not combine with pe {pe_kind!r}, which draws its own positions")


def draw_offsets(rng: np.random.Generator, mode: str, row_tokens: np.ndarray, span: int) -> np.ndarray:
    """Each row's first position [B]: uniform in ``0 .. span - n`` for a row of
    ``n`` real tokens (``example``), or one draw bounded by the longest row
    (``batch``).

    >>> draw_offsets(np.random.default_rng(0), "example", np.array([3, 10]), 10)[1]
    np.int64(0)
    """
    rows = np.asarray(row_tokens, dtype=np.int64)
    if mode == "none":
        return np.zeros(len(rows), dtype=np.int64)
    if int(rows.max()) > span:
        raise LengthgenError(f"a training sequence of {int(rows.max())} tokens does not fit an offset span of {span}")
    if mode == "example":
        return rng.integers(0, span - rows + 1)
    if mode == "batch":
        return np.full(len(rows), rng.integers(0, span - int(rows.max()) + 1), dtype=np.int64)
    raise LengthgenError(f"position_offset must be one of {', '.join(OFFSET_MODES)}, got {mode!r}")


def shifted_positions(offsets: np.ndarray, width: int, row_tokens: np.ndarray) -> np.ndarray:
    """Position ids [B, width]: row i counts up from ``offsets[i]``; columns
    past its ``row_tokens[i]`` real tokens (padding, which no real token
    attends to) repeat its last position, so they never leave the span.

    >>> shifted_positions(np.array([5, 0]), 4, np.array([4, 2])).tolist()
    [[5, 6, 7, 8], [0, 1, 1, 1]]
    """
    cols = np.arange(width)[None, :]
    last = np.asarray(row_tokens, dtype=np.int64)[:, None] - 1
    return np.asarray(offsets, dtype=np.int64)[:, None] + np.minimum(cols, last)


@dataclass
class PackedRows:
    """Packed training rows: ``tokens[:, t]`` predicts ``labels[:, t]``, the loss where ``loss_mask``."""

    tokens: np.ndarray  # [B, context] int64
    labels: np.ndarray  # [B, context] int64
    loss_mask: np.ndarray  # [B, context] bool
    examples: int  # examples whose targets carry loss


def _stream_pieces(batch: Batch) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Each example's whole sequence ``input <sep> target <eos>`` and, per
    token, whether it is predicted (a target token or the closing ``<eos>``)."""
    lm = to_lm_batch(batch)
    total = batch.input_lengths + batch.target_lengths + 2
    seqs, predicted = [], []
    for i, n in enumerate(total):
        seq = np.concatenate([lm.tokens[i, :1], lm.labels[i, : n - 1]])
        flags = np.concatenate([[False], lm.loss_mask[i, : n - 1]])
        seqs.append(seq)
        predicted.append(flags)
    return seqs, predicted


def pack_rows(task: Task, rng: np.random.Generator, rows: int, context: int, lengths: list[int]) -> PackedRows:
    """``rows`` packed rows of ``context`` tokens cut from one stream of
    examples with lengths drawn uniformly from ``lengths``.

    Each row starts at a uniform random token of its first example and
    takes the examples after it in turn.  The cut first example carries no
    loss (its input is not all in the row); every other example's targets
    do, even one cut at the row's end, since a target token is predicted
    from what precedes it.

    >>> from lengthgen.tasks import make_task
    >>> packed = pack_rows(make_task("copy-unique"), np.random.default_rng(0), 2, 12, [2, 3])
    >>> packed.tokens.shape, bool(packed.loss_mask.any())
    ((2, 12), True)
    """
    if context < 2:
        raise LengthgenError(f"pack_context must be at least 2 tokens, got {context}")
    tokens = np.empty((rows, context), dtype=np.int64)
    labels = np.empty((rows, context), dtype=np.int64)
    mask = np.zeros((rows, context), dtype=bool)
    # examples are drawn in pools (one sampler call each), enough for about a batch of rows
    mean_tokens = sum(2 * n + 2 for n in lengths) / len(lengths)
    pool_size = max(8, int(rows * (context + 1) / mean_tokens * 1.5))
    pool: list[tuple[np.ndarray, np.ndarray]] = []
    counted = 0
    for r in range(rows):
        pieces: list[tuple[np.ndarray, np.ndarray]] = []
        have, shift = 0, -1
        while shift < 0 or have < shift + context + 1:
            if not pool:
                pool = list(zip(*_stream_pieces(sample_mixed_lengths(task, rng, pool_size, lengths))))[::-1]
            piece = pool.pop()
            pieces.append(piece)
            have += len(piece[0])
            if shift < 0:
                shift = int(rng.integers(0, len(piece[0])))
        window = slice(shift, shift + context + 1)
        stream = np.concatenate([p[0] for p in pieces])[window]
        predicted = np.concatenate([p[1] for p in pieces])[window]
        who = np.concatenate([np.full(len(p[0]), i) for i, p in enumerate(pieces)])[window]
        complete = (who != 0) | (shift == 0)
        tokens[r], labels[r] = stream[:-1], stream[1:]
        mask[r] = (predicted & complete)[1:]
        counted += len(np.unique(who[1:][mask[r]]))
    return PackedRows(tokens=tokens, labels=labels, loss_mask=mask, examples=counted)


@dataclass
class ExampleRows:
    """Whole examples packed side by side, attention confined to each."""

    tokens: np.ndarray  # [R, W] int64, PAD after the last example of a row
    labels: np.ndarray  # [R, W]
    loss_mask: np.ndarray  # [R, W] bool
    positions: np.ndarray  # [R, W] each example's own positions from 0 (pads repeat the last)
    segments: np.ndarray  # [R, W] 1, 2, ... per example in its row; 0 for padding
    example: np.ndarray  # [R, W] the example's row in the padded batch (-1 for padding)


def pack_examples(tokens: np.ndarray, labels: np.ndarray, mask: np.ndarray, lengths: np.ndarray) -> ExampleRows:
    """The padded batch's examples (row ``i``: its first ``lengths[i]`` tokens)
    packed first-fit decreasing into rows as wide as the longest example.

    Each example keeps its tokens, labels, loss mask and positions from 0,
    and with attention confined to its own segment (a causal mask within
    it) every one of its outputs is the function of the same inputs as in
    the padded batch, so loss and gradient are the padded batch's.

    >>> t = np.array([[5, 6, 7, 8], [5, 9, 0, 0], [4, 0, 0, 0]])
    >>> rows = pack_examples(t, t, t > 0, np.array([4, 2, 1]))
    >>> rows.tokens.tolist(), rows.segments.tolist(), rows.positions.tolist()
    ([[5, 6, 7, 8], [5, 9, 4, 0]], [[1, 1, 1, 1], [1, 1, 2, 0]], [[0, 1, 2, 3], [0, 1, 0, 0]])
    """
    lengths = np.asarray(lengths, dtype=np.int64)
    width = int(lengths.max())
    free: list[int] = []  # room left in each row
    placed: list[list[int]] = []  # examples of each row, in placing order
    for i in np.argsort(-lengths, kind="stable"):
        n = int(lengths[i])
        row = next((r for r, room in enumerate(free) if room >= n), None)
        if row is None:
            free.append(width)
            placed.append([])
            row = len(free) - 1
        free[row] -= n
        placed[row].append(int(i))
    rows = len(placed)
    out = ExampleRows(
        tokens=np.zeros((rows, width), dtype=np.int64),
        labels=np.zeros((rows, width), dtype=np.int64),
        loss_mask=np.zeros((rows, width), dtype=bool),
        positions=np.zeros((rows, width), dtype=np.int64),
        segments=np.zeros((rows, width), dtype=np.int64),
        example=np.full((rows, width), -1, dtype=np.int64),
    )
    for r, examples in enumerate(placed):
        at = 0
        for s, i in enumerate(examples, start=1):
            n = int(lengths[i])
            cols = slice(at, at + n)
            out.tokens[r, cols], out.labels[r, cols], out.loss_mask[r, cols] = tokens[i, :n], labels[i, :n], mask[i, :n]
            out.positions[r, cols] = np.arange(n)
            out.segments[r, cols], out.example[r, cols] = s, i
            at += n
        if at:
            out.positions[r, at:] = out.positions[r, at - 1]
    return out
