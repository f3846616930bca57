"""Training throughput with right-padded mixed-length batches vs packed rows.

For each benchmark (its recipe's model, a fresh one per layout), trains
the same number of steps with both layouts, interleaved in chunks so that
both see the same machine load, and reports per layout: the share of the
batch that is real tokens, target (loss-carrying) tokens per step, and
target tokens per CPU-second of training steps (data and optimizer step),
plus the packed/padded ratio of that last number.

A packed row holds ``--context-multiple`` x the longest training sequence
(at least one whole example); both layouts use the recipe's batch size (in
rows), so a packed step carries more examples.

    python benchmarks/packing_throughput.py                       # four recipe benchmarks, 60 steps each
    python benchmarks/packing_throughput.py --benchmarks copy-unique --steps 100
"""

from __future__ import annotations

import argparse
import copy
import time

import numpy as np
import torch
from tabulate import tabulate

from lengthgen.evaluation.evaluate import sequence_length
from lengthgen.experiment import RunConfig, apply_settings, build, make_trainer

DEFAULT = ["copy-unique", "sort", "count", "addition-reversed-hints"]


def trainer_for(cfg: RunConfig):
    task, test_task, model = build(cfg)
    return make_trainer(cfg, task, test_task, model, torch.device("cpu"), progress=False)


def measure(benchmark: str, steps: int, chunks: int, context_multiple: float) -> dict:
    padded_cfg = apply_settings(RunConfig(), {"benchmark": benchmark}, "packing_throughput")
    task, _, _ = build(padded_cfg)
    context = int(context_multiple * sequence_length(task, max(padded_cfg.train_lengths)))
    packed_cfg = copy.deepcopy(padded_cfg)
    packed_cfg.train.pack_context = context
    layouts = {"padded": trainer_for(padded_cfg), "packed": trainer_for(packed_cfg)}
    stats = {name: {"cpu": 0.0, "target": 0, "real": 0, "slots": 0} for name in layouts}
    for _ in range(chunks):
        for name, trainer in layouts.items():
            for _ in range(steps // chunks):
                start = time.process_time()
                batch = trainer.next_batch()
                trainer.learn(batch)
                stats[name]["cpu"] += time.process_time() - start
                stats[name]["target"] += int(batch.mask.sum())
                stats[name]["real"] += int((batch.tokens != 0).sum())
                stats[name]["slots"] += batch.tokens.numel()
    out = {"benchmark": benchmark, "context": context}
    for name, s in stats.items():
        out[name] = {
            "real_share": s["real"] / s["slots"],
            "target_per_step": s["target"] / steps,
            "target_per_cpu_s": s["target"] / s["cpu"],
        }
    out["ratio"] = out["packed"]["target_per_cpu_s"] / out["padded"]["target_per_cpu_s"]
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--benchmarks", nargs="+", default=DEFAULT)
    parser.add_argument("--steps", type=int, default=60, help="training steps per layout and benchmark")
    parser.add_argument("--chunks", type=int, default=6, help="alternations between the two layouts")
    parser.add_argument("--context-multiple", type=float, default=2.0)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    np.set_printoptions(precision=3)
    rows = []
    for bench in args.benchmarks:
        r = measure(bench, args.steps, args.chunks, args.context_multiple)
        rows.append(
            [
                bench,
                r["context"],
                f"{r['padded']['real_share']:.2f}",
                f"{r['packed']['real_share']:.2f}",
                f"{r['padded']['target_per_step']:.0f}",
                f"{r['packed']['target_per_step']:.0f}",
                f"{r['padded']['target_per_cpu_s']:.0f}",
                f"{r['packed']['target_per_cpu_s']:.0f}",
                f"{r['ratio']:.2f}x",
            ]
        )
    headers = [
        "benchmark",
        "packed row",
        "real share padded",
        "real share packed",
        "targets/step padded",
        "targets/step packed",
        "targets/CPU-s padded",
        "targets/CPU-s packed",
        "packed / padded",
    ]
    print(tabulate(rows, headers=headers, tablefmt="github"))
    print(f"\n{args.steps} steps per layout, {args.threads} thread(s), interleaved in {args.chunks} chunks")


if __name__ == "__main__":
    main()
