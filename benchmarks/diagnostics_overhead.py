"""Extra training time of the diagnostics at their default interval.

    python benchmarks/diagnostics_overhead.py [--steps 600]

Trains the same run twice, interleaved (off, on, off, on), with and without
``track_rank`` (measured every ``eval_every`` steps, the default), and
prints training seconds side by side.  Target (issue 8): < 10% extra.
RankMe/LiDAR run at evaluation, not during training; their cost is
reported separately as a share of evaluation time.
"""

from __future__ import annotations

import argparse
import tempfile

from tabulate import tabulate

from lengthgen.experiment import RunConfig, apply_settings, run_experiment
from lengthgen.training.loop import TrainConfig


def one_run(steps: int, diagnostics: bool, out: str) -> dict:
    cfg = RunConfig(train=TrainConfig(steps=steps, batch_size=32, eval_every=250, track_rank=diagnostics))
    cfg = apply_settings(
        cfg,
        {
            "benchmark": "tasks/count.yaml",
            "model": "transformer",
            "pe": "rope",
            "device": "cpu",
            "eval_examples": 200,
            "representation_rank": diagnostics,
        },
        "overhead",
    )
    cfg.out = out
    return run_experiment(cfg, resume=False, progress=False, log=lambda m: None)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=600)
    args = parser.parse_args()
    times = {False: [], True: []}
    evals = {False: [], True: []}
    with tempfile.TemporaryDirectory() as tmp:
        for flag in (False, True, False, True):
            result = one_run(args.steps, flag, tmp)
            times[flag].append(result["wall_time_s"]["train"])
            evals[flag].append(result["wall_time_s"]["eval"])
    off, on = min(times[False]), min(times[True])
    eval_off, eval_on = min(evals[False]), min(evals[True])
    print(
        tabulate(
            [
                ["training (s)", f"{off:.2f}", f"{on:.2f}", f"{100 * (on / off - 1):+.1f}%"],
                ["evaluation (s)", f"{eval_off:.2f}", f"{eval_on:.2f}", f"{100 * (eval_on / eval_off - 1):+.1f}%"],
            ],
            headers=["", "diagnostics off", "on (rank every 250 steps; RankMe/LiDAR)", "extra"],
            tablefmt="github",
        )
    )
    print(f"\ntraining overhead {100 * (on / off - 1):+.1f}% (target < 10%), best of 2 runs each, {args.steps} steps")


if __name__ == "__main__":
    main()
