"""Where a reversed-addition model goes wrong: the error rate at each output
position (least significant digit first, then <eos>) at the given lengths.

    python results/studies/recipes/addition_digit_errors.py RUN 8 16 24

RUN is a run's path without extension (RUN.json and its checkpoint
RUN.ckpt.pt, which `lengthgen run --keep-checkpoint` keeps).  Greedy decoding of 300 fresh
sums per length (generator seed 5); positions past a sum's end are not
counted.
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
from lengthgen.tasks.base import EOS, SEP


def position_errors(model, task, length: int, n: int = 300, seed: int = 5) -> np.ndarray:
    """Error rate per output position (digits, then <eos>) over ``n`` sums."""
    batch = task.sample(np.random.default_rng(seed), n, length)
    prompts = torch.from_numpy(np.concatenate([batch.inputs, np.full((n, 1), SEP)], axis=1))
    out, _ = greedy_decode(model, prompts, batch.targets.shape[1] + 1)
    want = np.concatenate([batch.targets, np.zeros((n, 1), dtype=np.int64)], axis=1)
    want[np.arange(n), batch.target_lengths] = EOS
    counted = np.arange(want.shape[1])[None, :] <= batch.target_lengths[:, None]
    wrong = (out.numpy() != want) & counted
    return wrong.sum(axis=0) / np.maximum(counted.sum(axis=0), 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run", help="path of the run without extension")
    parser.add_argument("lengths", nargs="+", type=int)
    args = parser.parse_args()
    result = json.loads(Path(f"{args.run}.json").read_text())
    task = make_task(result["config"]["task"], **result["config"]["params"])
    model = build_model("transformer", task.vocab_size, task.vocab, **result["config"]["model_options"])
    model.load_state_dict(torch.load(f"{args.run}.ckpt.pt", weights_only=False)["model"])
    model.eval()
    for length in args.lengths:
        errors = position_errors(model, task, length)
        print(f"{length:3d} digits: " + " ".join(f"{e:.2f}" for e in errors))


if __name__ == "__main__":
    main()
