"""What has a FIRE + randomized + hints cell learned in range, and what not?
H-F1's test (README of this folder) on a saved checkpoint of
``sota-addition-fire`` or ``sota-addition-fire-diagnosis`` (bench deletes a
cell's checkpoint when it completes; copy it aside while the cell trains).

    python results/studies/sota/probe_fire.py CHECKPOINT [--seed 0] [--n 300]
    python results/studies/sota/probe_fire.py CHECKPOINT --suite results/studies/sota/suite-addition-fire-diagnosis.yaml --pe alibi

On fresh sums in the training range, teacher-forced, it reports accuracy on
each kind of answer token: the index hints (each answer digit is preceded by
its hint, the hint its operand digits carry), the digits, and ``<eos>``;
the digits also by answer place.  A hint is predictable without any
arithmetic (it is the hint after the previous one in the first operand), a
digit needs the operand digits whose hint it carries, and the carry.

Then how the lookup is built: the best head for each of its steps (attention
weights), and what the residual stream around an operand digit holds,
whatever heads put it there: linear read-outs after each block, fitted on
half the sums and scored on the other half, of the digit's hint at the digit
(H-F1b) and of the digit's value at the token after it (H-F1c: causal
attention lets the next place's hint see the digit, not the digit's own
hint), beside the same read-outs of the cell's untrained weights.  The
hints are a random sorted subset of 128 tokens, so a digit's place (which a
model can count) gives only the place-only baseline printed beside them.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from probe_far_pairs import attention_maps, cell_to_probe, forward_with_hooks  # noqa: E402  (sibling script, not a module)

from lengthgen.experiment import build  # noqa: E402
from lengthgen.tables import render_table  # noqa: E402
from lengthgen.training.data import to_lm_batch  # noqa: E402

LENGTHS = (1, 2, 3, 5, 7, 10)


def answer_kinds(task, lm) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Masks over label positions [B, T]: answer hints, answer digits, <eos>;
    and each answer digit's place (-1 elsewhere)."""
    labels, mask = lm.labels, lm.loss_mask
    digits = np.isin(labels, [task.id(str(d)) for d in range(10)]) & mask
    eos = (labels == task.id("<eos>")) & mask
    hints = mask & ~digits & ~eos
    place = np.where(digits, np.cumsum(digits, axis=1) - 1, -1)
    return hints, digits, eos, place


def positions(model, batch, lm, salt: int) -> torch.Tensor | None:
    """Position ids as evaluation draws them: a sorted random subset of the
    randomized range for each row (``None``, i.e. 0..T-1, for plain
    encodings).  Without them the model would read consecutive positions,
    which a randomized encoding never trained on."""
    rows = batch.input_lengths + batch.target_lengths + 2
    return model.sample_positions(np.random.default_rng([17, salt]), *lm.tokens.shape, rows)


def lookup_weights(task, tokens: np.ndarray, att: list[torch.Tensor]) -> list[list[str]]:
    """Per layer, the head that does each step of the hint lookup best, as
    its mean attention weight: (1) an operand digit on its own hint (the
    token before it: a previous-token head); (2) the answer position that
    predicts a digit (its hint) and (3) the one before it (which predicts
    that hint), each on the 4 operand tokens of the digit's place (its hint
    and digit in both operands)."""
    digit_ids = [task.id(str(d)) for d in range(10)]
    sep = np.argmax(tokens == task.id("<sep>"), axis=1)
    is_digit = np.isin(tokens, digit_ids)
    rows = []
    for layer, a in enumerate(att):
        a = a.numpy()
        prev, at_hint, before, uniform = [], [], [], []
        for r in range(tokens.shape[0]):
            ops = [i for i in range(1, sep[r]) if is_digit[r, i]]
            prev.append(np.stack([a[r, :, i, i - 1] for i in ops]).mean(0))
            w_hint, w_before = [], []
            for i in range(sep[r] + 1, tokens.shape[1] - 1):
                if is_digit[r, i] or not is_digit[r, i + 1]:
                    continue  # i: an answer hint followed by its digit
                same = [j for j in range(sep[r]) if tokens[r, j] == tokens[r, i]]
                keys = same + [j + 1 for j in same]
                w_hint.append(a[r][:, i][:, keys].sum(-1))  # [H]
                w_before.append(a[r][:, i - 1][:, keys].sum(-1))
                uniform.append(len(keys) / (i + 1))
            at_hint.append(np.stack(w_hint).mean(0))
            before.append(np.stack(w_before).mean(0))
        cols = [np.mean(v, 0) for v in (prev, at_hint, before)]
        rows.append([layer, *(f"{c.max():.2f} (head {c.argmax()})" for c in cols)])
    rows.append(["uniform", "", f"{np.mean(uniform):.2f}", f"{np.mean(uniform):.2f}"])
    return rows


def residuals(model, tokens: torch.Tensor, positions: torch.Tensor | None) -> list[torch.Tensor]:
    """[B, T, D] residual stream entering the first block, then after each block."""
    captured = []
    hooks = [model.blocks[0].register_forward_pre_hook(lambda m, args: captured.append(args[0]))]
    hooks += [blk.register_forward_hook(lambda m, args, out: captured.append(out)) for blk in model.blocks]
    forward_with_hooks(model, tokens, positions, hooks)
    return captured


def ridge_accuracy(x_fit, y_fit, x_test, y_test, classes: int, alpha: float = 1.0) -> float:
    """Held-out accuracy of a ridge regression onto one-hot labels (argmax);
    closed form, so the read-out has no seed or step count of its own."""
    mean, std = x_fit.mean(0), x_fit.std(0) + 1e-6
    a, b = (x_fit - mean) / std, (x_test - mean) / std
    a, b = np.hstack([a, np.ones((len(a), 1))]), np.hstack([b, np.ones((len(b), 1))])
    w = np.linalg.solve(a.T @ a + alpha * np.eye(a.shape[1]), a.T @ np.eye(classes)[y_fit])
    return float(((b @ w).argmax(1) == y_test).mean())


def readouts(task, model, seed: int, n: int) -> tuple[list[dict[str, float]], float]:
    """Per residual-stream site, held-out accuracies of linear read-outs
    around each operand digit: its hint (the token before it) from the
    digit's position (``hint@digit``) and, as the control that the read-out
    works, from the hint's own (``hint@hint``); the digit's value from the
    token after it (``digit@next``: the next place's hint, or what follows the
    operand) and from its own position (``digit@digit``).  Sums of 5 and 10
    digits, half the sums to fit, half to score.  Also the place-only
    baseline for the hint (its best guess from the digit's place)."""
    digit_ids = [task.id(str(d)) for d in range(10)]
    hint_index = {task.id(f"h{k}"): k for k in range(task.num_hints)}
    feats = {"before": [], "digit": [], "next": []}
    hints, values, places, fit = [], [], [], []
    for length in (5, 10):
        batch = task.sample(np.random.default_rng([seed, 15, length]), n, length)
        lm = to_lm_batch(batch)
        tokens = lm.tokens
        sites = residuals(model, torch.from_numpy(tokens), positions(model, batch, lm, 100 + length))
        sep = np.argmax(tokens == task.id("<sep>"), axis=1)
        rows, cols = [], []
        for r in range(len(tokens)):
            ops = [i for i in range(1, sep[r]) if tokens[r, i] in digit_ids and tokens[r, i - 1] in hint_index]
            rows += [r] * len(ops)
            cols += ops
            hints += [hint_index[tokens[r, i - 1]] for i in ops]
            values += [digit_ids.index(tokens[r, i]) for i in ops]
            # every operand has length + 1 digits: its place is its index mod that
            places += [k % (length + 1) + 100 * length for k in range(len(ops))]
            fit += [r < n // 2] * len(ops)
        rows, cols = np.array(rows), np.array(cols)
        for name, shift in (("before", -1), ("digit", 0), ("next", 1)):
            feats[name].append([s[rows, cols + shift].numpy() for s in sites])
    hints, values, place, fit = np.array(hints), np.array(values), np.array(places), np.array(fit)
    # place only: the most frequent hint of each (length, place) in the fitting half
    guess = {p: np.bincount(hints[fit & (place == p)]).argmax() for p in np.unique(place[fit])}
    place_only = np.mean([guess.get(p, -1) == t for p, t in zip(place[~fit], hints[~fit])])
    reads = {
        "hint@digit": ("digit", hints, task.num_hints),
        "hint@hint": ("before", hints, task.num_hints),
        "digit@next": ("next", values, 10),
        "digit@digit": ("digit", values, 10),
    }
    out = []
    for k in range(len(feats["digit"][0])):
        accs = {}
        for read, (where, y, classes) in reads.items():
            x = np.vstack([per_length[k] for per_length in feats[where]])
            accs[read] = ridge_accuracy(x[fit], y[fit], x[~fit], y[~fit], classes)
        out.append(accs)
    return out, float(place_only)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("checkpoint", help="a bench checkpoint (*.ckpt.pt) of a sota-addition-fire cell")
    parser.add_argument("--suite", default="results/studies/sota/suite-addition-fire.yaml")
    parser.add_argument("--results", default="results/studies/sota/runs")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--pe", help="the cell's encoding where the suite has several (suite-addition-fire-diagnosis: fire, alibi)"
    )
    parser.add_argument("--n", type=int, default=300)
    args = parser.parse_args()
    torch.set_num_threads(1)
    _, cell = cell_to_probe(args, pe=args.pe)
    task, _, model = build(cell.config)
    saved = torch.load(args.checkpoint, map_location="cpu", weights_only=False)
    fingerprint = str(saved.get("fingerprint") or cell.key)
    if not fingerprint.startswith(cell.key):
        raise SystemExit(
            f"error: {args.checkpoint} is cell {fingerprint[:16]}, not {cell.label} ({cell.key}): "
            "choose its cell with --suite, --seed and --pe"
        )
    model.load_state_dict(saved["model"])
    model.eval()
    print(f"{cell.benchmark} seed {cell.seed}: step {saved['step']}, last loss {saved['curve'][-1]['loss']:.3f}\n")

    rows, place_rows = [], []
    for length in LENGTHS:
        batch = task.sample(np.random.default_rng([cell.seed, 13, length]), args.n, length)
        lm = to_lm_batch(batch)
        with torch.no_grad():
            pred = model(torch.from_numpy(lm.tokens), positions(model, batch, lm, length)).logits.argmax(-1).numpy()
        right = pred == lm.labels
        hints, digits, eos, place = answer_kinds(task, lm)
        exact = (right | ~lm.loss_mask).all(1)
        rows.append(
            [
                length,
                *(
                    f"{100 * v:.1f}"
                    for v in (exact.mean(), right[hints].mean(), right[digits].mean(), right[eos].mean())
                ),
            ]
        )
        place_rows.append(
            [length, *(f"{100 * right[place == p].mean():.0f}" if (place == p).any() else "" for p in range(11))]
        )
    print(render_table(["digits", "teacher-forced exact %", "hints %", "digits %", "<eos> %"], rows))
    print("\nanswer digits right by place (0 = least significant), %\n")
    print(render_table(["digits", *(str(p) for p in range(11))], place_rows))

    batch = task.sample(np.random.default_rng([cell.seed, 14]), 32, 5)
    lm = to_lm_batch(batch)
    tokens = torch.from_numpy(lm.tokens)
    print("\nthe lookup's two steps at 5 digits: best head's mean attention weight per layer\n")
    print(
        render_table(
            ["layer", "operand digit -> its hint", "answer hint -> its place", "token before it -> its place"],
            lookup_weights(task, lm.tokens, attention_maps(model, tokens, positions(model, batch, lm, 99))),
        )
    )
    # the same cell's weights before training: what the encoding gives for free
    _, _, untrained = build(cell.config)
    untrained.eval()
    trained, place_only = readouts(task, model, cell.seed, args.n)
    initial, _ = readouts(task, untrained, cell.seed, args.n)
    rows = [
        ["embedding" if k == 0 else f"after block {k - 1}", *(f"{100 * v:.1f}" for v in (*t.values(), *i.values()))]
        for k, (t, i) in enumerate(zip(trained, initial))
    ]
    print("\nwhat the residual stream around an operand digit holds: held-out accuracy of a linear read-out, %")
    print(
        "hint: the digit's hint (128-way; place-only baseline "
        + f"{100 * place_only:.1f}%); digit: its value (10-way);"
    )
    print("@digit / @hint / @next: read at the digit, at its hint (the token before it), at the token after it\n")
    head = list(trained[0])
    print(render_table(["site", *head, *(f"{h}, untrained" for h in head)], rows))


if __name__ == "__main__":
    main()
