"""Why does the looped abacus-rope arm hold at 15 digits and fall to 0% at 20?
H-L2's test on a retrained cell of ``sota-addition-looped-rope``.

    python results/studies/sota/probe_looped_rope.py [--seed 0] [--n 300] [--save W.pt | --load W.pt] [--zero-queries]

Design and predictions: README of this folder (H-L2), committed before this
script first ran.  The script retrains the cell as ``lengthgen bench`` did
(one thread; steps and final loss checked against the committed result),
then on fresh sums at each length reports teacher-forced exact match and
accuracy at each answer place:

- as trained (``T = d + 1`` iterations of the loop);
- with the loop capped at 11 iterations, the most a training sum ran
  (H-L2b: more iterations than trained move the state off what the block
  learned to read);
- with the *distance mask* in every iteration: a key is hidden from a query
  when both are digits whose places differ by more than ``--window`` (10,
  the largest difference inside a training sum), so every query-key
  rotation left visible is one the block was trained on (H-L2a: RoPE's
  fastest rotations return close to their start at place differences of
  19-20, so a far digit looks like one at the query's own place); and its
  control, as many keys hidden per query at random among the digits the
  mask keeps, never the operand digits of the query's place or the next.

``--zero-queries`` (H-L2c) extends the mask to the queries with place 0,
``+`` and ``<sep>`` (the last predicts answer place 1): from them the
digits with places above ``--window + 1`` are hidden too.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from probe_far_pairs import cell_to_probe, probe_parser, retrained  # noqa: E402  (sibling scripts, not modules)
from probe_far_pairs_addition import as_bias, control_bias, far_keys, fresh_sums  # noqa: E402

from lengthgen.tables import render_table  # noqa: E402

LENGTHS = (10, 15, 20, 30)
TRAINED_LOOPS = 11  # 10-digit sums: T = ceil(21 / 2) = 11


def teacher_forced(model, tokens, lm, bias=None, cap=None):
    """(all answer tokens and <eos> right [B], right per position [B, T]),
    with ``bias`` as the attention bias of every iteration (abacus-rope has
    none of its own) and the loop count capped at ``cap``."""
    rule = model.loops
    if bias is not None:
        model.pe.bias = lambda q, k: bias
    if cap is not None:
        model.loops = lambda t: rule(t).clamp(max=cap)
    try:
        with torch.no_grad():
            pred = model(tokens).logits.argmax(-1).numpy()
    finally:
        if bias is not None:
            del model.pe.bias  # the instance attribute shadowed the method
        if cap is not None:
            del model.loops
    right = (pred == lm.labels) | ~lm.loss_mask
    return right.all(1), right


def rotation_alias(head_dim: int, base: float = 10000.0, distances=range(1, 31)) -> list[list[str]]:
    """For each place difference m: the cosine of the rotation of RoPE's two
    fastest pairs (1 and base^(-2/head_dim) rad a place); 1.0 means a key m
    places away looks, to that pair, like one at the query's place."""
    half = head_dim // 2
    freqs = base ** (-np.arange(half) / half)
    return [[m, *(f"{np.cos(m * f):+.2f}" for f in freqs[:3])] for m in distances]


def main() -> None:
    parser = probe_parser(__doc__, "results/studies/sota/suite-addition-looped-rope.yaml", seed=0, window=10)
    parser.add_argument("--zero-queries", action="store_true", help="mask the place-0 queries too (H-L2c)")
    args = parser.parse_args()
    torch.set_num_threads(1)
    suite, cell = cell_to_probe(args)
    task, test_task, model = retrained(cell, Path(args.results) / suite.name / f"{cell.key}.json", args.load, args.save)

    print(f"distance mask: window {args.window}" + (", place-0 queries masked too" if args.zero_queries else ""))
    rows, places = [], []
    for length in LENGTHS:
        lm, tokens, ids, sep = fresh_sums(task, test_task, model, cell.seed, args.n, length)
        far = far_keys(ids, args.window, zero_queries=args.zero_queries)
        control = control_bias(far, ids, sep, np.random.default_rng([cell.seed, 17]))
        variants = {
            "as trained": teacher_forced(model, tokens, lm),
            f"loop capped at {TRAINED_LOOPS}": teacher_forced(model, tokens, lm, cap=TRAINED_LOOPS),
            "distance mask": teacher_forced(model, tokens, lm, bias=as_bias(far)),
            "its control": teacher_forced(model, tokens, lm, bias=control),
            "mask + cap": teacher_forced(model, tokens, lm, bias=as_bias(far), cap=TRAINED_LOOPS),
        }
        rows.append([length, *(f"{100 * exact.mean():.1f}" for exact, _ in variants.values())])
        first = int(sep[0])  # every sum at one length has the same layout; the label at <sep> + i is place i + 1
        for name, (_, right) in variants.items():
            places.append(
                [length, name, " ".join(f"{100 * right[:, first + i].mean():.0f}" for i in range(length + 2))]
            )
    print(render_table(["digits", *(f"{name} %" for name in variants)], rows))
    print()
    print(render_table(["digits", "", "teacher-forced % right at answer places 1, 2, ... (then <eos>)"], places))
    print()
    head_dim = model.d_model // model.n_heads
    print(f"RoPE rotation by place difference (head dim {head_dim}): cos of the three fastest pairs")
    print(render_table(["places apart", "pair 1", "pair 2", "pair 3"], rotation_alias(head_dim)))


if __name__ == "__main__":
    main()
