"""Training throughput: right-padded mixed-length batches against the
padding-free layouts, side by side in one process.

Layouts (each benchmark's recipe model and training, a fresh model per layout):

* ``padded``: today's batches, every row padded to the batch's longest;
* ``bucketed``: the same examples and the same loss (``length_buckets``),
  run as up to ``--buckets`` groups each padded to its own longest row;
* ``examples``: the same examples and the same loss (``pack_examples``),
  packed whole into rows as wide as the longest, attention confined to each;
* ``packed``: rows of ``--context-multiple`` x the longest training sequence
  cut from a stream of packed examples (``pack_context``; attention crosses
  examples, as Zhou et al. train): more examples per step, another loss.

Useful tokens are the non-padding tokens a step computes on (for packed
rows, every token).  Steps run interleaved in ``--chunks`` rounds so every
layout sees the same machine load; the CPU time is this process's, data and
optimizer step included.  One line per benchmark in the form
``<benchmark>: useful tokens/s <padded> vs <padding-free> = <ratio>x`` (the
padding-free layout being ``--headline``, ``examples`` by default; both it
and ``bucketed`` keep the padded loss), then ``min useful-token speed-up``;
the full table follows.

    python benchmarks/training_throughput.py --quick          # six recipe benchmarks, 40 steps per layout
    python benchmarks/training_throughput.py --benchmarks copy-unique --steps 120 --buckets 8
"""

from __future__ import annotations

import argparse
import copy
import time

import torch
from tabulate import tabulate

from lengthgen.evaluation.evaluate import sequence_length
from lengthgen.experiment import RunConfig, apply_settings, build, make_trainer

DEFAULT = ["copy-unique", "sort", "count", "mode", "reverse", "addition-reversed-hints", "addition-reversed", "parity"]
QUICK = ["copy-unique", "sort", "count", "mode", "reverse", "addition-reversed-hints"]


def trainer_for(cfg: RunConfig):
    task, test_task, model = build(cfg)
    return make_trainer(cfg, task, test_task, model, torch.device("cpu"), progress=False)


def measure(benchmark: str, steps: int, chunks: int, buckets: int, context_multiple: float) -> dict:
    padded = apply_settings(RunConfig(), {"benchmark": benchmark}, "training_throughput")
    task, _, _ = build(padded)
    bucketed = copy.deepcopy(padded)
    bucketed.train.length_buckets = buckets
    examples = copy.deepcopy(padded)
    examples.train.pack_examples = True
    packed = copy.deepcopy(padded)
    packed.train.pack_context = int(context_multiple * sequence_length(task, max(padded.train_lengths)))
    layouts = {
        "padded": trainer_for(padded),
        "bucketed": trainer_for(bucketed),
        "examples": trainer_for(examples),
        "packed": trainer_for(packed),
    }
    stats = {name: {"cpu": 0.0, "useful": 0, "slots": 0, "target": 0} for name in layouts}
    per_chunk = max(1, steps // chunks)
    for _ in range(chunks):
        for name, trainer in layouts.items():
            for _ in range(per_chunk):
                start = time.process_time()
                before = trainer.state.tokens_seen
                batch = trainer.next_batch()
                trainer.learn(batch)
                stats[name]["cpu"] += time.process_time() - start
                stats[name]["useful"] += int((batch.tokens != 0).sum())
                stats[name]["slots"] += trainer.state.tokens_seen - before  # token slots the model computed
                stats[name]["target"] += int(batch.mask.sum())
    out = {"benchmark": benchmark, "context": packed.train.pack_context, "steps": per_chunk * chunks}
    for name, s in stats.items():
        out[name] = {
            "useful_share": s["useful"] / s["slots"],
            "useful_per_cpu_s": s["useful"] / s["cpu"],
            "target_per_cpu_s": s["target"] / s["cpu"],
        }
    out["bucketed_ratio"] = out["bucketed"]["useful_per_cpu_s"] / out["padded"]["useful_per_cpu_s"]
    out["examples_ratio"] = out["examples"]["useful_per_cpu_s"] / out["padded"]["useful_per_cpu_s"]
    out["packed_ratio"] = out["packed"]["target_per_cpu_s"] / out["padded"]["target_per_cpu_s"]
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--benchmarks", nargs="+", default=None)
    parser.add_argument("--quick", action="store_true", help=f"{', '.join(QUICK)}; 40 steps per layout")
    parser.add_argument("--steps", type=int, default=None, help="training steps per layout and benchmark (default 80)")
    parser.add_argument("--chunks", type=int, default=4, help="rounds alternating between the layouts")
    parser.add_argument("--buckets", type=int, default=4, help="length_buckets of the bucketed layout")
    parser.add_argument("--context-multiple", type=float, default=2.0, help="packed row: this x the longest sequence")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument(
        "--headline", choices=("examples", "bucketed"), default="examples", help="the padding-free layout of the lines"
    )
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    benchmarks = args.benchmarks or (QUICK if args.quick else DEFAULT)
    steps = args.steps or (40 if args.quick else 80)
    rows, ratios = [], []
    for bench in benchmarks:
        r = measure(bench, steps, args.chunks, args.buckets, args.context_multiple)
        h = args.headline
        ratios.append(r[f"{h}_ratio"])
        print(
            f"{bench}: useful tokens/s {r['padded']['useful_per_cpu_s']:.0f} vs "
            f"{r[h]['useful_per_cpu_s']:.0f} = {r[f'{h}_ratio']:.2f}x",
            flush=True,
        )
        layouts = ("padded", "bucketed", "examples", "packed")
        rows.append(
            [bench]
            + [f"{r[k]['useful_share']:.2f}" for k in layouts]
            + [f"{r[k]['useful_per_cpu_s']:.0f}" for k in layouts]
            + [f"{r['bucketed_ratio']:.2f}x", f"{r['examples_ratio']:.2f}x", f"{r['packed_ratio']:.2f}x"]
        )
    print(f"min useful-token speed-up: {min(ratios):.2f}x ({args.headline})")
    headers = ["benchmark", "useful share padded", "bucketed", "examples", "packed"]
    headers += ["useful/CPU-s padded", "bucketed", "examples", "packed"]
    headers += ["bucketed / padded", "examples / padded", "packed / padded (targets/CPU-s)"]
    print()
    print(tabulate(rows, headers=headers, tablefmt="github"))
    print(
        f"\n{steps} steps per layout, {args.threads} thread(s), {args.chunks} interleaved rounds; "
        f"bucketed: length_buckets={args.buckets}; packed rows: {args.context_multiple}x the longest training sequence"
    )


if __name__ == "__main__":
    main()
