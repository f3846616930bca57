"""Examples per second of every task generator at one length.

    python benchmarks/generators.py [--length 64] [--batch 4096] [--seconds 0.5]

Target (issue 2): every task >= 200k examples/s at length 64 on 2 CPU cores,
so generation never bottlenecks training.  Tasks whose largest length is
below the requested one run at their largest length (noted in the table).
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from tabulate import tabulate

from lengthgen.tasks import TASKS, make_task

TARGET = 200_000


def measure(task, length: int, batch: int, seconds: float) -> float:
    rng = np.random.default_rng(0)
    task.sample(rng, batch, length)  # warm-up (caches, allocations)
    count, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        task.sample(rng, batch, length)
        count += batch
    return count / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--length", type=int, default=64)
    parser.add_argument("--batch", type=int, default=4096)
    parser.add_argument("--seconds", type=float, default=0.5)
    args = parser.parse_args()
    rows, slow = [], []
    for name in TASKS:
        task = make_task(name)
        top = task.max_length()
        length = args.length if top is None else min(args.length, top)
        rate = measure(task, length, args.batch, args.seconds)
        ok = rate >= TARGET
        if not ok:
            slow.append(name)
        rows.append([name, length, f"{rate:,.0f}", "ok" if ok else "BELOW TARGET"])
    print(tabulate(rows, headers=["task", "length", "examples/s", f">= {TARGET:,}"], tablefmt="github"))
    print(
        f"\n{len(rows) - len(slow)}/{len(rows)} tasks meet the target" + (f"; below: {', '.join(slow)}" if slow else "")
    )


if __name__ == "__main__":
    main()
