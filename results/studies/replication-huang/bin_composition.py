"""A bin as Huang et al. fill it (every length in it) beside ours (its test lengths).

H-R25 in README.md.  Their test bins draw each example's length uniformly
from the bin (51-100 at L = 50); ours score three lengths (30, 40 and 50 at
L = 25) and average them.  On a curve that falls inside the bin the two
means differ, and this script measures both on one kept model:

    python results/studies/replication-huang/bin_composition.py RUN [RUN ...] --bins 26-50 51-75

RUN is a run's result file with its final checkpoint beside it or in
``--checkpoints``.  Each length is scored as the run scored its test lengths
(the generator ``[seed, 2, length]``, greedy decoding, the run's number of
examples), so at the run's own test lengths the figures equal the stored ones
(printed beside them: a checkpoint that is not the run's final model shows).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import torch

from lengthgen.errors import LengthgenError
from lengthgen.evaluation.evaluate import evaluate_length

sys.path.insert(0, str(Path(__file__).resolve().parent))
from copy_mechanism import load  # noqa: E402  (a sibling script, not a package module)


def parse_bin(spec: str) -> tuple[int, int]:
    lo, _, hi = spec.partition("-")
    if not (lo.isdigit() and hi.isdigit() and 1 <= int(lo) <= int(hi)):
        raise argparse.ArgumentTypeError(f"bin {spec!r}: give LO-HI with 1 <= LO <= HI")
    return int(lo), int(hi)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", nargs="+", help="result files (RUN.json)")
    parser.add_argument("--checkpoints", help="folder of the RUN.ckpt.pt files (default: beside each RUN.json)")
    parser.add_argument("--bins", type=parse_bin, nargs="+", default=[(26, 50), (51, 75)], metavar="LO-HI")
    args = parser.parse_args()
    torch.set_num_threads(1)
    try:
        for run in args.runs:
            score(run, args.checkpoints, args.bins)
    except (OSError, LengthgenError) as error:  # a missing result file, a length past the model's positions
        raise SystemExit(f"bin_composition.py: {error}") from None


def score(run: str, checkpoints: str | None, bins: list[tuple[int, int]]) -> None:
    """Print one run's exact match at every length of ``bins`` and each bin filled both ways."""
    result, task, model, step = load(run, checkpoints)
    cfg = result["config"]
    stored = {r["length"]: 100 * r["exact"] for r in result["results"]}
    print(f"\n{run} ({cfg['task']}, seed {cfg['seed']}, checkpoint at step {step})")
    print("| length | exact % | stored % |")
    print("|---|---|---|")
    exact = {}
    for lo, hi in bins:
        for length in range(lo, hi + 1):
            rng = np.random.default_rng([cfg["seed"], 2, length])
            counts = evaluate_length(
                model, task, length, cfg["eval_examples"], rng, torch.device("cpu"), cfg["eval_batch_size"]
            )
            exact[length] = 100 * counts.exact / counts.examples
            shown = f"{stored[length]:.1f}" if length in stored else "-"
            print(f"| {length} | {exact[length]:.1f} | {shown} |")
    print("| bin | every length (theirs) | its test lengths (ours) | lengths |")
    print("|---|---|---|---|")
    for lo, hi in bins:
        every = float(np.mean([exact[n] for n in range(lo, hi + 1)]))
        ours = [n for n in sorted(stored) if lo <= n <= hi]
        ours_mean = f"{np.mean([stored[n] for n in ours]):.1f}" if ours else "-"
        print(f"| {lo}-{hi} | {every:.1f} | {ours_mean} | {', '.join(map(str, ours)) or '-'} |")


if __name__ == "__main__":
    main()
