"""How does a trained copy-unique model copy, and where does it fail?

Probes for H-R8 to H-R12, H-R15 and H-R16 in README.md: the jump and hole probes (content,
position or coverage), the clean profile, the layouts (the same copies at
other positions) and the first layer's attention.

    python results/studies/replication-huang/copy_mechanism.py RUN [RUN ...] --lengths 20 30

RUN is a run's result file (RUN.json, or its path without extension) with
its final checkpoint RUN.ckpt.pt beside it or in ``--checkpoints FOLDER``.  The input is ``x_0 .. x_{n-1} <sep>`` with every token
different, and the model is teacher-forced on a copy of it.

*Jump probe.*  The prefix is the true copy ``x_0 .. x_{k-2}`` followed by
``x_{k-1+j}`` instead of ``x_{k-1}`` (a jump of ``j`` places).  The two ways
to copy then disagree about the next token: a model that copies by content
(find the last output token in the input, emit the one after it, an
induction head) answers ``x_{k+j}``; one that copies by position (the k-th
output is the k-th input, found by a trained distance or index) answers
``x_k``.  Every other answer is "other".  ``k`` is drawn uniformly where
both answers exist; 500 probes per jump and length (generator seed 11).

*Hole probe* (``--holes``).  The true copy with one token left out: a
coverage rule fills the hole, a content pointer continues after the last
token (:func:`hole_probe`).

*Clean profile.*  On unaltered copies, the teacher-forced token error at
each output place (in bins of 5, then ``<eos>``): where in the copy a
model that fails beyond the training range goes wrong.

*Layouts* (``--layouts``).  The clean copies' error with the tokens at
other positions: shifted to the top of the trained positions, the copy
moved away from its input, the input moved away from ``<bos>``
(:func:`layout_positions`).

*Attention* (``--attention``).  The first layer's weight from each input
token to its predecessor (:func:`predecessor_weights`): whether the model
has the previous-token head an induction copy needs, and how it holds up
with more tokens before the source.  With ``--shares``, where the rest of
that weight goes (:func:`attention_shares`); with ``--distances``, how it
falls with distance (:func:`distance_shares`).

``--verify`` first re-scores exact match at the given lengths exactly as
the run scored them (same generator, greedy decoding) and prints the two
side by side, so a checkpoint that is not the run's final model shows.
"""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path

import numpy as np
import torch

from lengthgen.evaluation.evaluate import evaluate_length
from lengthgen.experiment import build, offset_span
from lengthgen.models import build_model
from lengthgen.runconfig import config_of_record
from lengthgen.tasks import make_task
from lengthgen.tasks.base import EOS, SEP


def load(run: str, checkpoints: str | None):
    run = run.removesuffix(".json")
    result = json.loads(Path(f"{run}.json").read_text())
    cfg = result["config"]
    task = make_task(cfg["task"], **cfg["params"])
    model = build_model(cfg["model"], task.vocab_size, task.vocab, **cfg["model_options"])
    ckpt = Path(checkpoints, f"{Path(run).name}.ckpt.pt") if checkpoints else Path(f"{run}.ckpt.pt")
    if not ckpt.exists():
        raise SystemExit(f"{ckpt}: no checkpoint (keep one with `lengthgen run --keep-checkpoint`)")
    state = torch.load(ckpt, weights_only=False)
    model.load_state_dict(state["model"])
    model.eval()
    return result, task, model, state.get("step")


@torch.no_grad()
def next_tokens(model, rows: np.ndarray) -> np.ndarray:
    """The model's greedy next token after each row (rows of equal length)."""
    out = []
    for start in range(0, len(rows), 250):
        logits = model(torch.from_numpy(rows[start : start + 250])).logits
        out.append(logits[:, -1].argmax(-1).numpy())
    return np.concatenate(out)


def answers_after(model, x: np.ndarray, k: np.ndarray, prefix) -> np.ndarray:
    """The model's next token after ``x <sep>`` and a copy prefix, per row:
    row i's prefix is its input at the columns ``prefix(k[i])``.  Rows of one
    ``k`` have one length, so each group is built and decoded as a batch."""
    answer = np.empty(len(x), dtype=np.int64)
    for kk in np.unique(k):
        sel = np.flatnonzero(k == kk)
        rows = np.concatenate([x[sel], np.full((len(sel), 1), SEP), x[sel][:, prefix(kk)]], axis=1)
        answer[sel] = next_tokens(model, rows)
    return answer


def jump_probe(model, task, length: int, jump: int, n: int = 500, seed: int = 11) -> dict[str, float] | None:
    """Shares of content, position and other answers after a jump of ``jump``
    places (None where the length leaves no place for that jump)."""
    rng = np.random.default_rng([seed, length, jump + 1000])
    x = task.sample(rng, n, length).inputs
    # k >= 1, and k-1+jump, k+jump and k all inside 0..length-1
    lo, hi = max(1, 1 - jump), min(length - 1, length - 1 - jump)
    if lo > hi:
        return None
    k = rng.integers(lo, hi + 1, size=n)
    answer = answers_after(model, x, k, lambda kk: list(range(kk - 1)) + [kk - 1 + jump])
    content = answer == x[np.arange(n), k + jump]
    position = answer == x[np.arange(n), k]
    # described after H-R8's first probe, not predicted: x_{k-1}, the token
    # the true copy needs after the prefix's second-to-last token (for a
    # jump of -1 it is the content answer, and counted there)
    skipped = (answer == x[np.arange(n), k - 1]) & ~content
    return {
        "content": 100 * content.mean(),
        "position": 100 * position.mean(),
        "skipped": 100 * skipped.mean(),
        "other": 100 * (~content & ~position & ~skipped).mean(),
    }


def hole_probe(model, task, length: int, back: int, n: int = 500, seed: int = 13) -> dict[str, float] | None:
    """H-R8d: the true copy ``x_0 .. x_{k-1}`` with ``x_m`` left out, m = k -
    ``back`` (``back`` >= 3, so the prefix ends with two correct tokens).
    A coverage rule (the first input token not yet copied) answers the hole
    ``x_m``; a content pointer ``x_k`` (the successor of the last token);
    ``x_{k-1}``, the token at the prefix's own length, is "position"."""
    if back < 3:
        raise ValueError("back must be >= 3 (2 is the jump probe's +1)")
    rng = np.random.default_rng([seed, length, back])
    x = task.sample(rng, n, length).inputs
    lo, hi = back, length - 1  # m = k - back >= 0 and x_k exists
    if lo > hi:
        return None
    k = rng.integers(lo, hi + 1, size=n)
    answer = answers_after(model, x, k, lambda kk: [i for i in range(kk) if i != kk - back])
    rows_ = np.arange(n)
    hole, content, position = (answer == x[rows_, k - back]), (answer == x[rows_, k]), (answer == x[rows_, k - 1])
    return {
        "hole": 100 * hole.mean(),
        "content": 100 * content.mean(),
        "position": 100 * position.mean(),
        "other": 100 * (~hole & ~content & ~position).mean(),
    }


@torch.no_grad()
def place_errors(
    model, task, length: int, n: int = 300, seed: int = 12, positions: np.ndarray | None = None
) -> np.ndarray:
    """Teacher-forced token error (%) at each output place of unaltered
    copies: the copy's ``length`` tokens, then its ``<eos>``.  ``positions``
    (one per token read, ``2 * length + 1``) replaces the model's default
    0, 1, 2, ... (see :func:`layout_positions`)."""
    batch = task.sample(np.random.default_rng([seed, length]), n, length)
    x = batch.inputs
    rows = np.concatenate([x, np.full((n, 1), SEP), x], axis=1)
    if positions is None:
        logits = model(torch.from_numpy(rows)).logits
    else:
        where = torch.from_numpy(np.broadcast_to(positions, rows.shape).copy())
        logits = model(torch.from_numpy(rows), positions=where).logits
    # the predictions of the copy's tokens and of its <eos>: from <sep> on
    pred = logits[:, length:].argmax(-1).numpy()
    want = np.concatenate([x, np.full((n, 1), EOS)], axis=1)
    return 100 * (pred != want).mean(axis=0)


def clean_profile(model, task, length: int, width: int = 5) -> list[tuple[str, float]]:
    """:func:`place_errors` in bins of ``width`` places, then ``<eos>``."""
    wrong = place_errors(model, task, length)
    out = [(f"{lo}-{min(lo + width, length) - 1}", wrong[lo : lo + width].mean()) for lo in range(0, length, width)]
    return out + [("<eos>", wrong[length])]


def layout_positions(length: int, layout: str, span: int) -> np.ndarray:
    """H-R9's layouts: the position of each token read (``x``, ``<sep>``, the
    copy), as passed to the model (a model with ``<bos>`` puts it one
    position before the first and shifts the rest by one, as in training).
    ``base`` counts from 0, as evaluation does; ``top`` ends at ``span - 1``,
    the last position random offsets train; ``gapG`` moves the copy's
    tokens ``G`` positions on, so that each output place's source lies
    ``G`` positions further back while the tokens stay the same; ``leadG``
    (H-R10) moves every token after ``x_0`` ``G`` positions on, so each
    source lies ``G`` further from the start with the same tokens before it;
    ``cutGatK`` (H-R16) moves every token from ``x_K`` on ``G`` positions
    on, so the sources after the cut keep their count of earlier tokens but
    see ``x_0 .. x_{K-1}`` ``G`` positions further back.

    >>> layout_positions(2, "gap10", 151).tolist()
    [0, 1, 2, 13, 14]
    >>> layout_positions(2, "lead10", 151).tolist()
    [0, 11, 12, 13, 14]
    >>> layout_positions(2, "top", 151).tolist()
    [146, 147, 148, 149, 150]
    >>> layout_positions(3, "cut10at1", 151).tolist()
    [0, 11, 12, 13, 14, 15, 16]
    """
    read = np.arange(2 * length + 1)
    if layout == "base":
        return read
    if layout == "top":
        if span < len(read):
            raise ValueError(f"{len(read)} tokens do not fit a span of {span}")
        return read + span - len(read)
    if layout.startswith("gap") and layout[3:].isdigit():
        return read + int(layout[3:]) * (read > length)
    if layout.startswith("lead") and layout[4:].isdigit():
        return read + int(layout[4:]) * (read >= 1)
    cut = re.fullmatch(r"cut(\d+)at(\d+)", layout)
    if cut:
        gap, first = int(cut[1]), int(cut[2])
        if not 1 <= first < length:
            raise ValueError(f"layout {layout!r}: the cut must fall inside the input (at 1..{length - 1})")
        return read + gap * (read >= first)
    raise ValueError(f"unknown layout {layout!r} (base, top, gapG, leadG or cutGatK)")


def layout_error(model, task, length: int, layout: str, span: int, first_place: int = 2) -> float:
    """H-R9's measure: teacher-forced token error (%) over output places
    ``first_place`` .. ``length - 1`` of clean copies laid out as ``layout``
    (place 0 is predicted at ``<sep>``, place 1 at the first copied token,
    whose neighbour a gap moves)."""
    wrong = place_errors(model, task, length, positions=layout_positions(length, layout, span))
    return float(wrong[first_place:length].mean())


@torch.no_grad()
def first_layer_weights(
    model, task, length: int, positions: np.ndarray | None = None, layer: int = 0, n: int = 300, seed: int = 12
) -> tuple[torch.Tensor, int]:
    """The attention weights of block ``layer`` over ``n`` clean copies
    (mean over heads: [copy, query, key]) and the column of ``x_0``.  The
    weights are recomputed from the block's input, and checked: they must
    reproduce the block's attention output, so an attention with terms this
    does not recompute (a positional bias, rotations, identity terms) stops
    with an error instead of giving wrong weights."""
    attn = model.blocks[layer].attn
    seen: dict[str, torch.Tensor] = {}
    hooks = [
        attn.register_forward_pre_hook(lambda m, args: seen.__setitem__("x", args[0])),
        attn.register_forward_hook(lambda m, args, out: seen.__setitem__("out", out)),
    ]
    try:
        place_errors(model, task, length, n, seed, positions)
    finally:
        for hook in hooks:
            hook.remove()
    x = seen["x"]
    batch, width, _ = x.shape
    h, dh = attn.n_heads, attn.head_dim
    q, k, v = attn.qkv(x).view(batch, width, 3, h, dh).permute(2, 0, 3, 1, 4).unbind(0)
    logits = (q @ k.transpose(-1, -2)) * (attn.scale if attn.scale is not None else dh**-0.5)
    future = torch.ones(width, width, dtype=torch.bool).triu(1)
    weights = logits.masked_fill(future, float("-inf")).softmax(-1)  # [B, H, query, key]
    rebuilt = attn.proj((weights @ v).transpose(1, 2).reshape(batch, width, -1))
    if not torch.allclose(rebuilt, seen["out"], atol=1e-4):
        raise SystemExit("first_layer_weights: this attention has terms the probe does not recompute")
    return weights.mean(1), (1 if getattr(model, "bos", False) else 0)


def predecessor_weights(model, task, length: int, positions: np.ndarray | None = None, **options) -> np.ndarray:
    """H-R11: the first layer's weight from each input token ``x_i`` to its
    predecessor ``x_{i-1}`` (for ``x_0`` the predecessor is ``<bos>``, nan
    without one), the mean over clean copies (:func:`first_layer_weights`)."""
    weights, start = first_layer_weights(model, task, length, positions, **options)
    rows = np.arange(length) + start
    prev = weights[:, rows, np.maximum(rows - 1, 0)].mean(0).numpy()
    if not start:
        prev[0] = np.nan
    return prev


SHARES = ("pred", "bos", "self", "back2", "rest")


def attention_shares(model, task, length: int, **options) -> dict[str, np.ndarray]:
    """H-R12: where each input token ``x_i`` puts its first-layer weight,
    by place i: its predecessor, ``<bos>`` (nan without one), itself,
    ``x_{i-2}``, and the rest (``x_0 .. x_{i-3}``).  The five sum to 1 at
    places i >= 2; below that the three named neighbours overlap ``<bos>``
    or do not exist, so those places are nan."""
    weights, start = first_layer_weights(model, task, length, **options)
    w = weights.mean(0).numpy()  # [query, key], mean over copies
    shares = {name: np.full(length, np.nan) for name in SHARES}
    for i in range(2, length):
        row = w[start + i]
        shares["pred"][i], shares["self"][i], shares["back2"][i] = (
            row[start + i - 1],
            row[start + i],
            row[start + i - 2],
        )
        shares["rest"][i] = row[start : start + i - 2].sum()
        if start:
            shares["bos"][i] = row[0]
    return shares


def group_weight(
    model, task, length: int, queries: tuple[int, int], keys: tuple[int, int], positions: np.ndarray | None = None
) -> float:
    """H-R16: the first layer's weight from the input tokens at places
    ``queries`` (LO, HI) summed over the input tokens at places ``keys``,
    mean over the query places and the clean copies (:func:`first_layer_weights`)."""
    weights, start = first_layer_weights(model, task, length, positions)
    w = weights.mean(0).numpy()
    rows = range(start + queries[0], start + queries[1] + 1)
    return float(np.mean([w[r, start + keys[0] : start + keys[1] + 1].sum() for r in rows]))


DISTANCES = ((1, 1), (2, 2), (3, 8), (9, 24), (25, None))


def distance_shares(model, task, length: int, **options) -> dict[str, np.ndarray]:
    """H-R15: each input token ``x_i``'s first-layer weight summed over the
    keys ``x_{i-d}`` in the distance bins of :data:`DISTANCES` (named
    ``"d1"``, ``"d3-8"``, ``"d25+"``, ...), beside ``<bos>`` (nan without
    one) and ``x_i`` itself, by place i.  A bin with no key at place i
    (d > i) takes 0 there; the shares sum to 1 at every place."""
    weights, start = first_layer_weights(model, task, length, **options)
    w = weights.mean(0).numpy()  # [query, key], mean over copies
    names = [f"d{lo}" if lo == hi else f"d{lo}+" if hi is None else f"d{lo}-{hi}" for lo, hi in DISTANCES]
    shares = {name: np.zeros(length) for name in names}
    shares["bos"], shares["self"] = np.full(length, np.nan), np.zeros(length)
    for i in range(length):
        row = w[start + i]
        shares["self"][i] = row[start + i]
        if start:
            shares["bos"][i] = row[0]
        for name, (lo, hi) in zip(names, DISTANCES):
            first, last = 0 if hi is None else max(0, i - hi), i - lo  # the bin's key places
            if last >= 0:
                shares[name][i] = row[start + first : start + last + 1].sum()
    return shares


def trained_span(result: dict) -> int:
    """The position ids the run's random offsets covered in training."""
    cfg = config_of_record(result)
    task, test_task, _ = build(cfg)
    span = offset_span(cfg, task, test_task)
    if span is None:
        raise SystemExit(f"{result['name']}: trained without position offsets; the layouts need them")
    return span


def bos_distance_split(model, task, length: int, near: int = 46, far: int = 57) -> tuple[float | None, float | None]:
    """H-R8b's reading: the error over the output places predicted at most
    ``near`` positions after ``<bos>``, and over those at least ``far`` after
    it.  Place i of a copy of n tokens is predicted at the token before it,
    n + 1 + i positions after ``<bos>``; training (n <= 25, then <eos>)
    reaches 51."""
    wrong = place_errors(model, task, length)
    distance = length + 1 + np.arange(length + 1)
    inside, beyond = wrong[distance <= near], wrong[distance >= far]
    return (inside.mean() if inside.size else None), (beyond.mean() if beyond.size else None)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", nargs="+", help="result files (RUN.json)")
    parser.add_argument("--checkpoints", help="folder of the RUN.ckpt.pt files (default: beside each RUN.json)")
    parser.add_argument("--lengths", type=int, nargs="+", default=[20, 30])
    parser.add_argument("--jumps", type=int, nargs="+", default=[-5, -1, 1, 5])
    parser.add_argument("--probes", type=int, default=500, help="probes per jump and length")
    parser.add_argument("--verify", action="store_true", help="re-score exact match as the run did")
    parser.add_argument("--width", type=int, default=5, help="output places per bin of the clean profile")
    parser.add_argument(
        "--holes", type=int, nargs="*", default=[], help="H-R8d: hole probes this many places back (each >= 3)"
    )
    parser.add_argument(
        "--bos-distance", action="store_true", help="H-R8b: error by distance from <bos> (<= 46, >= 57)"
    )
    parser.add_argument(
        "--layouts",
        nargs="*",
        default=[],
        help="H-R9, H-R10: token error over places 2.. of clean copies in these layouts (base, top, gapG, leadG)",
    )
    parser.add_argument("--layout-length", type=int, default=20, help="H-R9: the copies' length")
    parser.add_argument(
        "--shares",
        nargs="*",
        default=None,
        metavar="LO-HI",
        help="H-R12 (with --attention): where the first layer's weight goes (predecessor, <bos>, self, x_{i-2}, "
        "rest), means over these ranges of input places at each of --lengths (default 5-24 50-59)",
    )
    parser.add_argument(
        "--distances",
        nargs="*",
        default=None,
        metavar="LO-HI",
        help="H-R15 (with --attention): the first layer's weight by distance back (1, 2, 3-8, 9-24, 25+, <bos>, "
        "self), means over these ranges of input places at each of --lengths (default 24-26 50-59)",
    )
    parser.add_argument(
        "--group",
        metavar="Q_LO-Q_HI:K_LO-K_HI",
        help="H-R16 (with --attention and --layouts): the first layer's weight from input places Q_LO-Q_HI summed "
        "over input places K_LO-K_HI, at --layout-length in each layout",
    )
    parser.add_argument(
        "--attention",
        action="store_true",
        help="H-R11: the first layer's weight on each input token's predecessor (bins of --width at --lengths; "
        "places 3.. at --layout-length in each of --layouts)",
    )
    args = parser.parse_args()
    if 0 in args.jumps:
        parser.error("a jump of 0 is the clean copy, where both answers agree")
    for layout in args.layouts:
        try:
            layout_positions(args.layout_length, layout, span=10**6)
        except ValueError as error:
            parser.error(str(error))

    def place_ranges(flag: str, given: list[str] | None, default: list[str]) -> list[tuple[int, int]]:
        ranges = []
        for spec in default if given == [] else (given or []):
            lo, _, hi = spec.partition("-")
            if not (lo.isdigit() and hi.isdigit() and 2 <= int(lo) <= int(hi)):
                parser.error(f"{flag} {spec!r}: give ranges of input places LO-HI with 2 <= LO <= HI")
            ranges.append((int(lo), int(hi)))
        if given is not None and not args.attention:
            parser.error(f"{flag} reads the first layer's attention: give --attention too")
        return ranges

    group = None
    if args.group is not None:
        found = re.fullmatch(r"(\d+)-(\d+):(\d+)-(\d+)", args.group)
        q_lo, q_hi, k_lo, k_hi = map(int, found.groups()) if found else (0, -1, 0, -1)
        if not (found and q_lo <= q_hi < args.layout_length and k_lo <= k_hi < q_lo):
            parser.error(
                f"--group {args.group!r}: give Q_LO-Q_HI:K_LO-K_HI, keys before the queries, queries below --layout-length"
            )
        if not (args.attention and args.layouts):
            parser.error("--group reads the first layer's attention in layouts: give --attention and --layouts")
        group = (q_lo, q_hi), (k_lo, k_hi)
    share_ranges = place_ranges("--shares", args.shares, ["5-24", "50-59"])
    distance_ranges = place_ranges("--distances", args.distances, ["24-26", "50-59"])
    torch.set_num_threads(1)
    for run in args.runs:
        result, task, model, step = load(run, args.checkpoints)
        cfg = result["config"]
        print(f"\n{run} (seed {cfg['seed']}, checkpoint at step {step})")
        if args.verify:
            stored = {r["length"]: f"{100 * r['exact']:.1f}, token {100 * r['token']:.1f}" for r in result["results"]}
            for length in args.lengths:
                rng = np.random.default_rng([cfg["seed"], 2, length])
                counts = evaluate_length(
                    model, task, length, cfg["eval_examples"], rng, torch.device("cpu"), cfg["eval_batch_size"]
                )
                print(
                    f"  verify at {length}: exact {100 * counts.exact / counts.examples:.1f}, token {100 * counts.tokens_correct / counts.tokens:.1f}% (stored {stored.get(length, '-')})"
                )
        print("| length | jump | content % | position % | skipped % | other % |")
        print("|---|---|---|---|---|---|")
        for length in args.lengths:
            for jump in args.jumps:
                r = jump_probe(model, task, length, jump, args.probes)
                if r is None:
                    continue
                print(
                    f"| {length} | {jump:+d} | {r['content']:.1f} | {r['position']:.1f} | {r['skipped']:.1f} "
                    f"| {r['other']:.1f} |"
                )
        if args.holes:
            print("| length | hole back | hole % | content % | position % | other % |")
            print("|---|---|---|---|---|---|")
            for length in args.lengths:
                for back in args.holes:
                    r = hole_probe(model, task, length, back, args.probes)
                    if r is not None:
                        print(
                            f"| {length} | {back} | {r['hole']:.1f} | {r['content']:.1f} | {r['position']:.1f} "
                            f"| {r['other']:.1f} |"
                        )
        for length in args.lengths:
            profile = clean_profile(model, task, length, args.width)
            print(f"  token error % by output place at {length}: " + ", ".join(f"{p} {e:.1f}" for p, e in profile))
        if args.layouts:
            span = trained_span(result)
            shown = ", ".join(
                f"{layout} {layout_error(model, task, args.layout_length, layout, span):.2f}%"
                for layout in args.layouts
            )
            print(
                f"  H-R9 layouts at {args.layout_length} (span {span}), error over places 2-{args.layout_length - 1}: {shown}"
            )
        if args.attention:
            for length in args.lengths:
                prev = predecessor_weights(model, task, length)
                bins = [(lo, min(lo + args.width, length) - 1) for lo in range(0, length, args.width)]
                shown = ", ".join(f"{lo}-{hi} {np.nanmean(prev[lo : hi + 1]):.3f}" for lo, hi in bins)
                print(f"  H-R11 first-layer weight on the predecessor at {length}, by input place: {shown}")
                if args.shares is not None:
                    shares = attention_shares(model, task, length)
                    for lo, hi in share_ranges:
                        if hi < length:
                            cells = ", ".join(f"{name} {np.mean(shares[name][lo : hi + 1]):.3f}" for name in SHARES)
                            print(f"  H-R12 first-layer weight at {length}, input places {lo}-{hi}: {cells}")
                if args.distances is not None:
                    shares = distance_shares(model, task, length)
                    for lo, hi in distance_ranges:
                        if hi < length:
                            cells = ", ".join(f"{name} {np.mean(v[lo : hi + 1]):.3f}" for name, v in shares.items())
                            print(
                                f"  H-R15 first-layer weight by distance at {length}, input places {lo}-{hi}: {cells}"
                            )
            if args.layouts:
                span, m = trained_span(result), args.layout_length
                shown = ", ".join(
                    f"{layout} {predecessor_weights(model, task, m, layout_positions(m, layout, span))[3:].mean():.3f}"
                    for layout in args.layouts
                )
                print(f"  H-R11 first-layer weight on the predecessor at {m}, places 3-{m - 1}: {shown}")
                if group is not None:
                    (q_lo, q_hi), (k_lo, k_hi) = group
                    shown = ", ".join(
                        f"{layout} {group_weight(model, task, m, *group, layout_positions(m, layout, span)):.3f}"
                        for layout in args.layouts
                    )
                    print(
                        f"  H-R16 first-layer weight from places {q_lo}-{q_hi} on places {k_lo}-{k_hi} at {m}: {shown}"
                    )
        if args.bos_distance:
            for length in args.lengths:
                inside, beyond = bos_distance_split(model, task, length)
                show = ["-" if v is None else f"{v:.1f}%" for v in (inside, beyond)]
                print(f"  at {length}: error at <= 46 after <bos> {show[0]}, at >= 57 after it {show[1]}")


if __name__ == "__main__":
    main()
