"""Why does copy-repeat with coupled positions fail beyond its range?  A test
of the far-pairs explanation on a retrained cell of ``sota-lists``.

    python results/studies/sota/probe_far_pairs.py [--seed 0] [--n 300] [--window 15]

Design and prediction: README of this folder ("copy-repeat with coupling:
a design cause to test"), committed before this script first ran.

Coupled ids (abacus restarted at ``<sep>``, batch offsets 0-64) train every
table row up to 80, but a training sequence holds at most 16 items, so two
item ids that sit more than 15 apart never meet in one training context:
the attention logit between them was never trained.  At 48 items they meet
everywhere.  The script retrains the cell exactly as ``lengthgen bench``
did (one thread; steps and final loss checked against the committed
result), then on fresh inputs at each length:

- teacher-forced exact match (every target token and ``<eos>`` argmax-right)
  as trained, and with a *window mask* in every layer that hides a key from
  a query when both carry a nonzero id more than ``--window`` apart (ids 0,
  the ``<sep>`` row, are never hidden: they met every id in training);
  a control mask hides as many keys per query, drawn at random among the
  keys the window keeps visible except the one the copy reads, so that a
  rise under the window mask is not merely fewer keys;
- per-token accuracy by output place (places 1-16 against 17 and beyond);
- attention at the longest length in the head that puts the most weight on
  the copied key at length 16: the weight on that key, the mean weight per
  near wrong key (nonzero id within the window) and per far key.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import torch

from lengthgen.data import find_suite
from lengthgen.errors import LengthgenError
from lengthgen.experiment import build, make_trainer
from lengthgen.suites import load_suite
from lengthgen.sweeps.cells import expand
from lengthgen.tables import render_table
from lengthgen.training.data import to_lm_batch

LENGTHS = (16, 20, 24, 32, 48)


def window_bias(ids: torch.Tensor, window: int) -> torch.Tensor:
    """[B, 1, T, T] additive bias: -inf where query and key ids are both nonzero and more than ``window`` apart."""
    q, k = ids.unsqueeze(-1), ids.unsqueeze(-2)
    far = (q != 0) & (k != 0) & ((q - k).abs() > window)
    return torch.zeros(far.shape).masked_fill(far, float("-inf")).unsqueeze(1)


def random_bias(ids: torch.Tensor, window: int, rng: np.random.Generator) -> torch.Tensor:
    """The control: per query, hide as many keys as the window mask does, drawn
    at random among the keys before it that the window leaves visible, never
    the key the copy reads (the input item whose id is the query's plus one)."""
    q, k = ids.unsqueeze(-1), ids.unsqueeze(-2)
    far = ((q != 0) & (k != 0) & ((q - k).abs() > window)).numpy()
    causal = np.tril(np.ones(far.shape[-2:], dtype=bool))
    hide = np.zeros_like(far)
    ids_np = ids.numpy()
    for b in range(far.shape[0]):
        sep = int(np.argmax(ids_np[b] == 0))  # the first id 0 is <sep> (the input's ids start at 1)
        for t in range(far.shape[1]):
            count = int((far[b, t] & causal[t]).sum())
            if count == 0:
                continue
            copied = np.nonzero(ids_np[b, :sep] == ids_np[b, t] + 1)[0]
            allowed = causal[t] & ~far[b, t] & (ids_np[b] != 0)
            allowed[copied] = False
            pool = np.nonzero(allowed)[0]
            hide[b, t, rng.choice(pool, size=min(count, len(pool)), replace=False)] = True
    return torch.zeros(hide.shape).masked_fill(torch.from_numpy(hide), float("-inf")).unsqueeze(1)


def local_bias(ids: torch.Tensor, items: int = 16) -> torch.Tensor:
    """[B, 1, T, T]: every query sees a context shaped like a training one.

    An output query with id q (``<sep>``: q = 0) sees the ``items`` input
    items with ids lo..lo+items-1, lo = max(1, q - items // 2 + 1), the
    output items from id lo on, and ``<sep>``: the context a training
    sequence of ``items`` items shifted by the offset lo - 1 gives the same
    query.  An input query with id p sees the input ids max(1, p - items + 1)..p.
    """
    b, t = ids.shape
    sep = torch.argmax((ids == 0).int(), dim=1)  # the first id 0 is <sep>
    pos = torch.arange(t)
    in_input = pos[None, :] < sep[:, None]  # [B, T]
    q_id, k_id = ids.unsqueeze(-1), ids.unsqueeze(-2)
    lo_out = (q_id - items // 2 + 1).clamp(min=1)
    lo_in = (q_id - items + 1).clamp(min=1)
    key_in, q_in = in_input.unsqueeze(1), in_input.unsqueeze(2)
    visible_out_q = (k_id == 0) | (key_in & (k_id >= lo_out) & (k_id < lo_out + items)) | (~key_in & (k_id >= lo_out))
    visible_in_q = key_in & (k_id >= lo_in)
    visible = torch.where(q_in, visible_in_q, visible_out_q)
    return torch.zeros(visible.shape).masked_fill(~visible, float("-inf")).unsqueeze(1)


def teacher_forced(model, tokens: torch.Tensor, lm, bias: torch.Tensor | None) -> tuple[np.ndarray, np.ndarray]:
    """Per example: all target tokens and <eos> right; per position: right or not."""
    original = model.confine
    if bias is not None:
        model.confine = lambda b, s: bias if b is None else b + bias
    try:
        with torch.no_grad():
            pred = model(tokens).logits.argmax(-1).numpy()
    finally:
        model.confine = original
    right = (pred == lm.labels) | ~lm.loss_mask
    return right.all(1), right


def attention_maps(model, tokens: torch.Tensor, positions: torch.Tensor | None = None) -> list[torch.Tensor]:
    """[B, H, T, T] attention weights of every layer: the causal softmax
    recomputed from each attention module's inputs, with the positional
    logit bias (ALiBi, FIRE, masks) and RoPE's rotation the block passes it.
    ``positions`` as the model takes them (``None``: 0..T-1)."""
    captured = []

    def grab(module, args, kwargs):
        if module.use_qk:
            raise SystemExit("error: attention_maps does not recompute the modified heads' identity term")
        x, pe, q_pos, bias = args[:4]  # the blocks call attention positionally (models/transformer.py)
        rotation = args[5] if len(args) > 5 and args[5] is not None else pe.rotation(q_pos)
        b, t, _ = x.shape
        q, k, _ = module.qkv(x).view(b, t, 3, module.n_heads, module.head_dim).permute(2, 0, 3, 1, 4).unbind(0)
        if rotation is not None:
            q, k = pe.apply_rotation(q, rotation), pe.apply_rotation(k, rotation)
        scale = module.scale if module.scale is not None else module.head_dim**-0.5  # None: SDPA's default
        logits = q @ k.transpose(-1, -2) * scale + (0 if bias is None else bias)
        logits = logits.masked_fill(torch.ones(t, t, dtype=torch.bool).triu(1), float("-inf"))
        captured.append(logits.softmax(-1))

    forward_with_hooks(
        model, tokens, positions, [blk.attn.register_forward_pre_hook(grab, with_kwargs=True) for blk in model.blocks]
    )
    return captured


def forward_with_hooks(model, tokens: torch.Tensor, positions: torch.Tensor | None, handles: list) -> None:
    """One forward pass without gradients for the hooks behind ``handles`` to
    see, which are removed afterwards even if the pass fails."""
    try:
        with torch.no_grad():
            model(tokens, positions)
    finally:
        for h in handles:
            h.remove()


def copy_weights(att: torch.Tensor, ids: torch.Tensor, window: int, sep: int) -> np.ndarray:
    """[H, 3]: mean weight on the copied key, per near wrong key, per far key, over
    queries at output items 1..n-1 (each predicts the next item, read from the
    input item whose id is its own plus one)."""
    b, h, t, _ = att.shape
    out = np.zeros((h, 3))
    counts = np.zeros(3)
    ids_np = ids.numpy()
    for r in range(b):
        for qpos in range(sep + 1, t):
            qid = ids_np[r, qpos]
            if qid == 0:
                continue
            target = np.nonzero(ids_np[r, :sep] == qid + 1)[0]
            if len(target) == 0:
                continue  # the last item predicts <eos>
            keys = np.arange(qpos + 1)
            kid = ids_np[r, keys]
            near = (kid != 0) & (np.abs(kid - qid) <= window)
            near[target] = False
            far = (kid != 0) & (np.abs(kid - qid) > window)
            w = att[r, :, qpos, : qpos + 1].numpy()
            out[:, 0] += w[:, target[0]]
            counts[0] += 1
            if near.any():
                out[:, 1] += w[:, near].mean(1)
                counts[1] += 1
            if far.any():
                out[:, 2] += w[:, far].mean(1)
                counts[2] += 1
    return out / np.maximum(counts, 1)


def id_profile(att: torch.Tensor, ids: torch.Tensor, sep: int) -> list[list[str]]:
    """Per head: where queries at output items put their weight, by the key's id
    relative to the query's (input keys), on <sep>, on earlier output keys, and
    how sharp the weight is (the mean over queries of the largest weight)."""
    rows = []
    b, h, t, _ = att.shape
    ids_np = ids.numpy()
    rel = (-1, 0, 1, 2)
    for head in range(h):
        sums = np.zeros(len(rel) + 3)
        n = 0
        for r in range(b):
            for qpos in range(sep + 1, t):
                w = att[r, head, qpos, : qpos + 1].numpy()
                qid = ids_np[r, qpos]
                for i, d in enumerate(rel):
                    hit = np.nonzero(ids_np[r, :sep] == qid + d)[0]
                    sums[i] += w[hit].sum()
                sums[len(rel)] += w[sep]
                sums[len(rel) + 1] += w[sep + 1 : qpos + 1].sum()
                sums[len(rel) + 2] += w.max()
                n += 1
        rows.append([f"head {head + 1}", *(f"{v / n:.2f}" for v in sums)])
    return rows


def retrained(cell, committed: Path, load: str | None, save: str | None):
    """The cell's task, test task and model: weights read from ``load``, or
    trained again as ``lengthgen bench`` trained them (one thread), with the
    steps and final loss checked against the committed result ``committed``
    (the same host kind reproduces them bit for bit) and saved to ``save``."""
    if load and not Path(load).is_file():
        raise SystemExit(f"error: --load {load}: no such file (write it first with --save)")
    if save and not load and Path(save).exists():
        raise SystemExit(f"error: --save {save} exists; remove it or choose another path (nothing is overwritten)")
    task, test_task, model = build(cell.config)
    if load:
        model.load_state_dict(torch.load(load))
        print(f"{cell.benchmark} seed {cell.seed}: weights from {load}", flush=True)
    else:
        state = make_trainer(cell.config, task, test_task, model, torch.device("cpu"), progress=False).run()
        stored = json.loads(committed.read_text()) if committed.exists() else None
        if stored is None:
            check = "no committed result"
        elif stored["training"]["steps"] == state.step and stored["training"]["final_loss"] == state.curve[-1]["loss"]:
            check = "same steps and final loss as the committed cell"
        else:
            check = "DIFFERENT from the committed cell"
        print(f"{cell.benchmark} seed {cell.seed}: {state.step} steps ({check})", flush=True)
        if save:
            torch.save(model.state_dict(), save)
    model.eval()
    return task, test_task, model


def probe_parser(doc: str, suite: str, seed: int, window: int) -> argparse.ArgumentParser:
    """The options every far-pairs probe takes (which cell, how many inputs, the window, saved weights)."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("--suite", default=suite)
    parser.add_argument("--results", default="results/studies/sota/runs")
    parser.add_argument("--seed", type=int, default=seed)
    parser.add_argument("--n", type=int, default=300)
    parser.add_argument("--window", type=int, default=window, help="the largest id distance inside a training input")
    parser.add_argument("--save", help="write the retrained weights here (state dict)")
    parser.add_argument("--load", help="read the weights from --save instead of retraining")
    return parser


def cell_to_probe(args: argparse.Namespace, benchmark: str | None = None, pe: str | None = None):
    """(suite, cell) for ``args.seed`` (of ``benchmark`` and ``pe`` where the suite has several), or exit with the reason."""
    try:
        suite = load_suite(find_suite(args.suite))
        cells = [
            c
            for c in expand(suite, Path(args.results), seeds=[args.seed])
            if (benchmark is None or c.config.benchmark == benchmark) and (pe is None or c.pe == pe)
        ]
    except LengthgenError as err:
        raise SystemExit(f"error: {err}") from None
    if not cells:
        what = " ".join(x for x in (benchmark, pe and f"pe {pe}") if x)
        raise SystemExit(f"error: {args.suite} has no {what + ' ' if what else ''}cell for seed {args.seed}")
    return suite, cells[0]


def main() -> None:
    parser = probe_parser(__doc__, "results/studies/sota/suite-lists.yaml", seed=0, window=15)
    args = parser.parse_args()
    torch.set_num_threads(1)
    suite, cell = cell_to_probe(args, benchmark="copy-repeat-16")
    _, test_task, model = retrained(cell, Path(args.results) / suite.name / f"{cell.key}.json", args.load, args.save)

    rows, places = [], []
    weights, profiles = {}, {}
    for length in LENGTHS:
        batch = test_task.sample(np.random.default_rng([cell.seed, 13, length]), args.n, length)
        lm = to_lm_batch(batch)
        tokens = torch.from_numpy(lm.tokens)
        positions = torch.arange(tokens.shape[1]).expand_as(tokens)
        ids = model.encoding_positions(tokens, positions)
        plain, right = teacher_forced(model, tokens, lm, None)
        masked, _ = teacher_forced(model, tokens, lm, window_bias(ids, args.window))
        control, _ = teacher_forced(
            model, tokens, lm, random_bias(ids, args.window, np.random.default_rng([cell.seed, 17]))
        )
        local, _ = teacher_forced(model, tokens, lm, local_bias(ids))
        rows.append([length, *(f"{100 * v.mean():.1f}" for v in (plain, masked, control, local))])
        # per output place: label position li + j predicts item j + 1 (place j + 1)
        sep = length  # every input holds `length` items
        acc = right[:, sep : sep + length].mean(0)
        places.append(
            [
                length,
                f"{100 * acc[: min(16, length)].mean():.1f}",
                f"{100 * acc[16:].mean():.1f}" if length > 16 else "-",
            ]
        )
        if length in (16, LENGTHS[-1]):
            att = attention_maps(model, tokens[:64])
            weights[length] = [copy_weights(a, ids[:64], args.window, sep) for a in att]
            profiles[length] = [id_profile(a, ids[:64], sep) for a in att]
    print(
        render_table(
            ["items", "teacher-forced exact %", "window mask %", "random mask (control) %", "training-like context %"],
            rows,
        )
    )
    print()
    print(render_table(["items", "per-token % at places 1-16", "places 17+"], places))
    print()
    layer, head = max(
        ((li, h) for li in range(len(weights[16])) for h in range(weights[16][li].shape[0])),
        key=lambda lh: weights[16][lh[0]][lh[1], 0],
    )
    table = []
    for length in (16, LENGTHS[-1]):
        w = weights[length][layer][head]
        ratio = f"{w[2] / w[1]:.2f}" if w[1] > 0 and length > 16 else "-"
        table.append([length, f"{w[0]:.3f}", f"{w[1]:.4f}", f"{w[2]:.4f}" if length > 16 else "-", ratio])
    print(f"copy head: layer {layer + 1}, head {head + 1} (most weight on the copied key at 16 items)")
    print(render_table(["items", "copied key", "per near wrong key", "per far key", "far / near"], table))
    print()
    head = ["head", "input id - 1", "same id", "id + 1 (copied)", "id + 2", "<sep>", "output keys", "largest weight"]
    for length, layers in profiles.items():
        for layer_no, rows in enumerate(layers, 1):
            print(f"{length} items, layer {layer_no}: weight of queries at output items, by key")
            print(render_table(head, rows))
            print()


if __name__ == "__main__":
    main()
