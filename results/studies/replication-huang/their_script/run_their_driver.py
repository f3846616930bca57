"""Their unique-copy run for one seed, optionally from other initial weights.

    /work/hf-venv/bin/python run_their_driver.py SEED [--init OURS.pt] [--mirror GITDIR]

Like `run_their_seed.sh` (their `run_multiple_seeds.py` from the snapshot
at b39b743, the seed loop set to SEED alone, everything else theirs:
their stream, Trainer, evaluation and early stop), printing their log to
standard output.  With `--init`, a file from `our_init.py`: before their
Trainer trains, their GPT-2's weights are replaced by ours, and its logits
on the file's batch are checked against ours (with their <bos> scored and
their GELU the two models compute one function; the run stops if they
differ by more than 1e-5).  Needs transformers (a venv of its own).
"""

from __future__ import annotations

import argparse
import hashlib
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import torch
import transformers

COMMIT = "b39b743"
TOLERANCE = 1e-5


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("seed", type=int)
    parser.add_argument("--init")
    parser.add_argument("--mirror", default="/work/.mirror/lacoco-lab+length_generalization/repo")
    args = parser.parse_args()
    init = torch.load(args.init, weights_only=False) if args.init else None
    if init is not None:
        digest = hashlib.sha256(Path(args.init).read_bytes()).hexdigest()
        print(f"# initial weights from {args.init} (sha256 {digest}; our cell {init['cell']}, seed {init['seed']})")
    original_train = transformers.Trainer.train

    def train(trainer, *a, **k):
        if init is not None:
            model = trainer.model
            missing, unexpected = model.load_state_dict(init["state_dict"], strict=False)
            if unexpected or [m for m in missing if not m.endswith("attn.bias") and "masked_bias" not in m]:
                raise SystemExit(f"weights do not fit their GPT-2: missing {missing}, unexpected {unexpected}")
            model.eval()
            with torch.no_grad():
                theirs = model(input_ids=init["input_ids"], position_ids=init["position_ids"]).logits
            diff = (theirs[:, 1:][..., init["their_order"]] - init["logits"]).abs().max().item()
            model.train()
            print(f"# their GPT-2 given our weights: largest logit difference from ours {diff:.3g}")
            if diff > TOLERANCE:
                raise SystemExit("their GPT-2 does not compute our function from these weights")
        return original_train(trainer, *a, **k)

    transformers.Trainer.train = train
    with tempfile.TemporaryDirectory() as scratch:
        for name, digest in write_their_code(scratch, args.seed, args.mirror).items():
            print(f"# {digest}  {name}")
        run_their_driver_in(scratch)
        print(Path(scratch, "lm-out-new-multi-run", "unique_copy-average.txt").read_text())


def write_their_code(scratch: str, seed: int, mirror: str) -> dict[str, str]:
    """Their two files from the snapshot into ``scratch``, the seed loop set
    to ``seed`` alone; their sha256 as written."""
    digests = {}
    for name in ("language_modeling_train.py", "run_multiple_seeds.py"):
        text = subprocess.run(
            ["git", "--git-dir", mirror, "show", f"{COMMIT}:algorithmic/{name}"],
            check=True, capture_output=True, text=True,
        ).stdout  # fmt: skip
        if name == "run_multiple_seeds.py":
            assert "for seed in range(1000):" in text
            text = text.replace("for seed in range(1000):", f"for seed in range({seed}, {seed} + 1):")
        Path(scratch, name).write_text(text)
        digests[name] = hashlib.sha256(text.encode()).hexdigest()
    return digests


def run_their_driver_in(scratch: str) -> None:
    """Their driver for unique copy, run in ``scratch`` (their outputs go there)."""
    sys.path.insert(0, scratch)
    sys.argv = ["run_multiple_seeds.py", "--tasks", "unique_copy", "--num_run", "1"]
    cwd = os.getcwd()
    os.chdir(scratch)
    try:
        code = Path(scratch, "run_multiple_seeds.py").read_text()
        exec(compile(code, "run_multiple_seeds.py", "exec"), {"__name__": "__main__"})
    finally:
        os.chdir(cwd)


if __name__ == "__main__":
    main()
