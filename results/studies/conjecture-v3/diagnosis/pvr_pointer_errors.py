"""Where a pvr model goes wrong: exact match at one length by pointer value.

    python results/studies/conjecture-v3/diagnosis/pvr_pointer_errors.py RUN [RUN ...] --length 40

RUN is a run's path without extension (RUN.json and its checkpoint
RUN.ckpt.pt, which `lengthgen run --keep-checkpoint` keeps).  Greedy
decoding of fresh inputs (2,000 by default, generator seed 7), scored as
the suite scores them (the answer digit, then <eos>), grouped by pointer
in bins of 10 (`--width`); wrong answers are split into "a neighbour" (the value one
place before or after the pointed-to one, where it differs from the
answer) and "other".  H7 of conjecture-v3 (README.md) predicts the errors
concentrate on the largest pointers, which training draws rarely.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import torch

from lengthgen.evaluation.decode import greedy_decode
from lengthgen.models import build_model
from lengthgen.tasks import make_task
from lengthgen.tasks.base import EOS, OFFSET, SEP


def answers(model, task, length: int, n: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pointer, the model's answer token and its next token for ``n`` fresh inputs."""
    batch = task.sample(np.random.default_rng(seed), n, length)
    prompts = np.concatenate([batch.inputs, np.full((n, 1), SEP)], axis=1)
    out = []
    with torch.no_grad():
        for start in range(0, n, 250):
            pred, _ = greedy_decode(model, torch.from_numpy(prompts[start : start + 250]), 2)
            out.append(pred.numpy())
    pred = np.concatenate(out)
    pointer = batch.inputs[:, 0] - task.id("@0")
    return batch, pointer, pred


def table(model, task, length: int, n: int, seed: int, width: int = 10) -> list[dict]:
    batch, pointer, pred = answers(model, task, length, n, seed)
    right = (pred[:, 0] == batch.targets[:, 0]) & (pred[:, 1] == EOS)
    values = batch.inputs[:, 1:] - OFFSET  # the digits, 0-based by place
    rows = np.arange(n)
    before = np.where(pointer > 0, values[rows, np.maximum(pointer - 1, 0)], -1)
    after = np.where(pointer < length - 1, values[rows, np.minimum(pointer + 1, length - 1)], -1)
    answer = pred[:, 0] - OFFSET
    truth = batch.targets[:, 0] - OFFSET
    neighbour = ~right & (answer != truth) & ((answer == before) | (answer == after))
    out = []
    for lo in range(0, length, width):
        sel = (pointer >= lo) & (pointer < lo + width)
        if sel.any():
            out.append(
                {
                    "pointers": f"{lo}-{min(lo + width, length) - 1}",
                    "n": int(sel.sum()),
                    "exact": 100 * right[sel].mean(),
                    "neighbour": 100 * neighbour[sel].mean(),
                    "other": 100 * (~right[sel] & ~neighbour[sel]).mean(),
                }
            )
    out.append(
        {
            "pointers": "all",
            "n": n,
            "exact": 100 * right.mean(),
            "neighbour": 100 * neighbour.mean(),
            "other": 100 * (~right & ~neighbour).mean(),
        }
    )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", nargs="+", help="paths of runs without extension")
    parser.add_argument("--length", type=int, default=40)
    parser.add_argument("--examples", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--width", type=int, default=10, help="pointers per row of the table")
    args = parser.parse_args()
    torch.set_num_threads(1)
    for run in args.runs:
        result = json.loads(Path(f"{run}.json").read_text())
        cfg = result["config"]
        # scored on the test distribution (a training-only pointer_tail is left out)
        task = make_task(cfg["task"], **{**cfg["params"], **(cfg.get("test_params") or {})})
        model = build_model(cfg["model"], task.vocab_size, task.vocab, **cfg["model_options"])
        model.load_state_dict(torch.load(f"{run}.ckpt.pt", weights_only=False)["model"])
        model.eval()
        print(f"{run} (seed {cfg['seed']}), length {args.length}, {args.examples} inputs:")
        print("| pointers | n | exact % | wrong: a neighbour's value % | wrong: other % |")
        print("|---|---|---|---|---|")
        for row in table(model, task, args.length, args.examples, args.seed, args.width):
            print(
                f"| {row['pointers']} | {row['n']} | {row['exact']:.1f} | {row['neighbour']:.1f} | {row['other']:.1f} |"
            )


if __name__ == "__main__":
    main()
