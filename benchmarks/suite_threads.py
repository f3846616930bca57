"""Which finishes a suite sooner: cells in parallel with one torch thread
each, or one cell at a time with all the threads?

    python benchmarks/suite_threads.py [--layouts 2x1,1x2] [--steps 400]

Runs the same small suite (the quick suite's benchmarks and settings, the
plain transformer, ``--steps`` training steps per cell) once per layout
``WORKERSxTHREADS`` through ``lengthgen bench`` into a temporary folder and
reports the wall time of each.  Layouts run in alternation, twice when
``--repeat 2``, so drift in machine load hits them alike.  Run it on a quiet
machine: it measures the whole machine.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml
from tabulate import tabulate

BENCHMARKS = ["parity", "count", "sort", "copy-unique"]


def suite_file(folder: Path, steps: int) -> Path:
    suite = {
        "name": "threads",
        "benchmarks": BENCHMARKS,
        "models": ["transformer"],
        "recipes": False,
        "pe": ["none"],
        "seeds": 1,
        "training": {"steps": steps, "batch_size": 32, "lr": 0.002, "warmup": 50, "eval_every": 100},
        "model_config": {"transformer": {"d_model": 64, "n_layers": 2, "n_heads": 4}},
        "evaluation": {"examples": 100},
    }
    path = folder / "threads.yaml"
    path.write_text(yaml.safe_dump(suite))
    return path


def run(layout: str, suite: Path, out: Path) -> float:
    workers, threads = (int(x) for x in layout.split("x"))
    cmd = [sys.executable, "-m", "lengthgen", "bench", "--suite", str(suite), "--out", str(out)]
    cmd += ["--workers", str(workers), "--threads", str(threads), "--no-resume"]
    start = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True, env={**os.environ, "TQDM_DISABLE": "1"})
    if done.returncode:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{done.stderr[-2000:]}")
    return time.perf_counter() - start


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--layouts", default="2x1,1x2", help="comma-separated WORKERSxTHREADS")
    parser.add_argument("--steps", type=int, default=400)
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()
    layouts = [s.strip() for s in args.layouts.split(",") if s.strip()]
    times: dict[str, list[float]] = {layout: [] for layout in layouts}
    with tempfile.TemporaryDirectory() as tmp:
        suite = suite_file(Path(tmp), args.steps)
        for r in range(args.repeat):
            for layout in layouts:
                times[layout].append(run(layout, suite, Path(tmp) / f"{layout}-{r}"))
                print(f"{layout}: {times[layout][-1]:.1f} s", flush=True)
    best = min(min(t) for t in times.values())
    rows = [[layout, " / ".join(f"{t:.1f}" for t in ts), f"{min(ts) / best:.2f}"] for layout, ts in times.items()]
    print(f"\n{len(BENCHMARKS)} cells of {args.steps} steps on {os.cpu_count()} cores")
    print(tabulate(rows, headers=["workers x threads", "wall s", "relative"], tablefmt="github"))


if __name__ == "__main__":
    main()
