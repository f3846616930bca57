"""Several seeds trained as one stacked model (``lengthgen.training.seeds``)
against the same seeds one after another, side by side in one process.

Each round runs one training step (forward, loss, backward, AdamW) of S
seeds both ways at a recipe's size (transformer, width 64, 3 layers, 4
heads, batch 64, sequences of ``--tokens``), alternating the two so both
see the same machine load; CPU time of this process, medians over rounds.
Prints ``seeds=S: stacked <ms> vs sequential <ms> per step of all seeds =
<ratio>x`` per S and ends with ``max stacked speed-up``.

    python benchmarks/batched_seeds.py --quick
    python benchmarks/batched_seeds.py --seeds 2 5 8 --device cuda   # where a GPU is
"""

from __future__ import annotations

import argparse
import statistics
import time
import warnings

import torch

from lengthgen.models import build_model
from lengthgen.training.seeds import StackedSeeds

VOCAB = 24


def clock(device: torch.device) -> float:
    if device.type == "cuda":
        torch.cuda.synchronize()
        return time.perf_counter()  # GPU work is not process CPU time
    return time.process_time()


def measure(seeds: int, tokens: int, batch: int, rounds: int, steps: int, device: torch.device) -> tuple[float, float]:
    def make():
        return build_model("transformer", VOCAB, d_model=64, n_layers=3, n_heads=4, pe="rope").to(device)

    models = [make() for _ in range(seeds)]
    stacked = StackedSeeds([make() for _ in range(seeds)])
    opt_seq = [torch.optim.AdamW(m.parameters(), lr=1e-3) for m in models]
    opt_stack = torch.optim.AdamW(stacked.parameters(), lr=1e-3)
    x = torch.randint(3, VOCAB, (seeds, batch, tokens), device=device)
    y = torch.randint(3, VOCAB, (seeds, batch, tokens), device=device)

    def sequential():
        for k, (m, opt) in enumerate(zip(models, opt_seq)):
            loss = torch.nn.functional.cross_entropy(m(x[k]).logits.reshape(-1, VOCAB), y[k].reshape(-1))
            loss.backward()
            opt.step()
            opt.zero_grad(set_to_none=True)

    def together():
        logits = stacked.logits(x)
        # the sum of the seeds' mean losses: each seed's gradient is its own loss's
        loss = torch.nn.functional.cross_entropy(logits.reshape(-1, VOCAB), y.reshape(-1), reduction="sum")
        (loss / (batch * tokens)).backward()
        opt_stack.step()
        opt_stack.zero_grad(set_to_none=True)

    for fn in (sequential, together):  # warm-up
        fn()
    times = {"sequential": [], "stacked": []}
    for _ in range(rounds):
        for name, fn in (("stacked", together), ("sequential", sequential)):
            start = clock(device)
            for _ in range(steps):
                fn()
            times[name].append((clock(device) - start) / steps)
    return statistics.median(times["stacked"]), statistics.median(times["sequential"])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, nargs="+", default=[2, 3, 5], help="seeds per stack")
    ap.add_argument("--tokens", type=int, default=42, help="sequence length (default 42: copy-unique at L = 20)")
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--steps", type=int, default=4, help="steps per round and way")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--quick", action="store_true", help="seeds 3 and 5, 3 rounds of 3 steps")
    args = ap.parse_args()
    if args.quick:
        args.seeds, args.rounds, args.steps = [3, 5], 3, 3
    torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    warnings.filterwarnings("ignore", message=".*batching rule.*")  # said once below, not per call
    best = 0.0
    for s in args.seeds:
        stacked, seq = measure(s, args.tokens, args.batch, args.rounds, args.steps, device)
        best = max(best, seq / stacked)
        print(
            f"seeds={s}: stacked {1000 * stacked:.0f} ms vs sequential {1000 * seq:.0f} ms per step of all seeds "
            f"= {seq / stacked:.2f}x",
            flush=True,
        )
    print(
        f"max stacked speed-up: {best:.2f}x ({device.type}, {args.threads} thread(s), batch {args.batch}, "
        f"{args.tokens} tokens)"
    )


if __name__ == "__main__":
    main()
