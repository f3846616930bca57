"""Why does reversed addition with abacus positions fail beyond 10 digits?
The far-pairs test (H-A2 in this folder's README) on a retrained cell of
``sota-addition``.

    python results/studies/sota/probe_far_pairs_addition.py [--seed 2] [--n 300] [--save W.pt | --load W.pt]

Design and prediction: README of this folder (H-A2), committed before this
script first ran.  The batch offsets (0-90) train every table row up to id
100, but a training sum holds ids k + 1 .. k + 11 only, so the attention
logit between two digits whose ids are more than 10 apart was never
trained.  The script retrains the cell exactly as ``lengthgen bench`` did
(one thread; steps and final loss checked against the committed result),
then on fresh sums at each length reports teacher-forced exact match (every
answer digit and ``<eos>`` argmax-right) as trained, with a window mask in
every layer (a key is hidden from a query when both are digits with ids
more than ``--window`` apart; ``+`` and ``<sep>``, id 0, are never hidden),
and with a control mask hiding as many keys per query at random among the
digits the window leaves visible, never the operand digits of the query's
place or the next one (the digits the answer is computed from).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from probe_far_pairs import cell_to_probe, probe_parser, retrained, teacher_forced  # noqa: E402  (a sibling script, not a module)

from lengthgen.tables import render_table  # noqa: E402
from lengthgen.training.data import to_lm_batch  # noqa: E402

LENGTHS = (10, 12, 15, 20, 30)


def far_keys(ids: torch.Tensor, window: int, zero_queries: bool, keep: int | None = None) -> torch.Tensor:
    """[B, T, T] True where a key is hidden from a query: both digits with ids
    more than ``window`` apart (H-A2), and with ``zero_queries`` also digits
    with ids above ``window + 1`` from the id-0 queries, ``+`` and ``<sep>``
    (H-A3: the largest id a training sum has, seen from where no digit is).
    Digits with id ``keep`` are never hidden (H-A5: is that digit what the
    hidden places needed?)."""
    q, k = ids.unsqueeze(-1), ids.unsqueeze(-2)
    far = (q != 0) & (k != 0) & ((q - k).abs() > window)
    if zero_queries:
        far = far | ((q == 0) & (k > window + 1))
    if keep is not None:
        far = far & (k != keep)
    return far


def as_bias(hide: torch.Tensor) -> torch.Tensor:
    """[B, 1, T, T] additive attention bias from a [B, T, T] hiding mask."""
    return torch.zeros(hide.shape).masked_fill(hide, float("-inf")).unsqueeze(1)


def control_bias(far: torch.Tensor, ids: torch.Tensor, sep: np.ndarray, rng: np.random.Generator) -> torch.Tensor:
    """Per query, hide as many keys as ``far`` does, drawn at random among the
    digits before it that ``far`` keeps, never an operand digit whose id is the
    query's or the next (the place being added and its carry; for ``<sep>``
    the two units digits)."""
    far = far.numpy()
    causal = np.tril(np.ones(far.shape[-2:], dtype=bool))
    hide = np.zeros_like(far)
    ids_np = ids.numpy()
    for b in range(far.shape[0]):
        operand = np.arange(ids_np.shape[1]) < sep[b]
        for t in range(far.shape[1]):
            count = int((far[b, t] & causal[t]).sum())
            if count == 0:
                continue
            needed = operand & np.isin(ids_np[b], (ids_np[b, t], ids_np[b, t] + 1))
            allowed = causal[t] & ~far[b, t] & (ids_np[b] != 0) & ~needed
            pool = np.nonzero(allowed)[0]
            hide[b, t, rng.choice(pool, size=min(count, len(pool)), replace=False)] = True
    return as_bias(torch.from_numpy(hide))


def fresh_sums(task, test_task, model, seed: int, n: int, length: int):
    """``n`` fresh sums of ``length`` digits (drawn as every probe here draws
    them): the LM batch, its tokens, each token's place id, and where each
    row's ``<sep>`` is."""
    lm = to_lm_batch(test_task.sample(np.random.default_rng([seed, 13, length]), n, length))
    tokens = torch.from_numpy(lm.tokens)
    ids = model.encoding_positions(tokens, torch.arange(tokens.shape[1]).expand_as(tokens))
    return lm, tokens, ids, np.argmax(lm.tokens == task.id("<sep>"), axis=1)


def main() -> None:
    parser = probe_parser(__doc__, "results/studies/sota/suite-addition.yaml", seed=2, window=10)
    parser.add_argument("--places", action="store_true", help="also teacher-forced accuracy at each answer place")
    parser.add_argument("--keep", type=int, help="never hide the digits with this id (H-A5)")
    args = parser.parse_args()
    torch.set_num_threads(1)
    suite, cell = cell_to_probe(args)
    task, test_task, model = retrained(cell, Path(args.results) / suite.name / f"{cell.key}.json", args.load, args.save)

    print(f"window {args.window}" + ("" if args.keep is None else f", digits with id {args.keep} never hidden"))
    rows, unit_rows, places = [], [], []
    for length in LENGTHS:
        lm, tokens, ids, sep = fresh_sums(task, test_task, model, cell.seed, args.n, length)
        plain, right = teacher_forced(model, tokens, lm, None)
        scores, units = [plain], [right[:, int(sep[0])]]
        for zero_queries in (False, True):
            far = far_keys(ids, args.window, zero_queries, args.keep)
            masked, masked_right = teacher_forced(model, tokens, lm, as_bias(far))
            rng = np.random.default_rng([cell.seed, 17])
            control, control_right = teacher_forced(model, tokens, lm, control_bias(far, ids, sep, rng))
            scores += [masked, control]
            units += [masked_right[:, int(sep[0])], control_right[:, int(sep[0])]]
        rows.append([length, *(f"{100 * v.mean():.1f}" for v in scores)])
        unit_rows.append([length, *(f"{100 * v.mean():.0f}" for v in units)])
        # the label at <sep> + i predicts answer place i + 1
        first = int(sep[0])  # every sum at one length has the same layout
        window_right = teacher_forced(model, tokens, lm, as_bias(far_keys(ids, args.window, False, args.keep)))[1]
        zero_right = teacher_forced(model, tokens, lm, as_bias(far_keys(ids, args.window, True, args.keep)))[1]
        named = (("as trained", right), ("window mask", window_right), ("window + id-0", zero_right))
        for name, got in named:
            places.append([length, name, " ".join(f"{100 * got[:, first + i].mean():.0f}" for i in range(length + 2))])
    masks = ["window mask (H-A2)", "its control", "window + id-0 queries (H-A3)", "its control"]
    print(render_table(["digits", "teacher-forced exact %", *(f"{m} %" for m in masks)], rows))
    print()
    print(render_table(["digits", "units place right % (as trained)", *masks], unit_rows))
    if args.places:
        print()
        print(render_table(["digits", "", "teacher-forced % right at answer places 1, 2, ... (then <eos>)"], places))


if __name__ == "__main__":
    main()
