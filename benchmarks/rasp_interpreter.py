"""Vectorised RASP interpreter vs the per-example reference evaluator.

    python benchmarks/rasp_interpreter.py [--length 50] [--batch 10000]

For every program of the library, both evaluators run it as a next-token
predictor over the same ``input <sep> target`` sequences of its task; the
reference runs a subsample and its rate is extrapolated.
Target (issue 4): >= 100x at length 50 with batch 10k.  Also times a full
``check`` of every shipped program at lengths 1-50 with n = 10,000.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from tabulate import tabulate

from lengthgen.rasp.check import check_program, compile_for_task, program_task
from lengthgen.rasp.interpreter import Interpreter
from lengthgen.rasp.library import task_programs
from lengthgen.rasp.reference import evaluate_one
from lengthgen.training.data import to_lm_batch


def compare_running(length: int, batch: int, scans: bool = False) -> None:
    """Running reductions (true selects, selects against a constant, the
    width of select(x, x, ==)) against building their N x N selectors; with
    ``scans``, sorted equality scans (at every length) against their selectors."""
    rows = []
    for entry in task_programs():
        task = program_task(entry.path)
        program = compile_for_task(entry.path, task)
        top = min(length, task.max_length() or length)
        data = task.sample(np.random.default_rng(0), batch, top)
        codes = program.codes.id_to_code[to_lm_batch(data).tokens]
        if scans:
            fast = Interpreter(program.output, scan_min_length=0)
            plain = Interpreter(program.output, scan_min_length=2**31)
            if not fast.planned("scan"):
                continue
        else:
            fast, plain = Interpreter(program.output), Interpreter(program.output, running=False)
            if not fast.planned("running"):
                continue
        times = {"fast": [], "plain": []}
        for _ in range(3):  # alternate, so both see the same machine load
            for name, interpreter in (("fast", fast), ("plain", plain)):
                start = time.perf_counter()
                out = interpreter.run(codes)
                times[name].append(time.perf_counter() - start)
                if name == "fast":
                    reference = out
                else:
                    assert np.array_equal(out, reference), f"{entry.name}: the paths disagree"
        best_fast, best_plain = min(times["fast"]), min(times["plain"])
        nodes = fast.planned("scan") if scans else fast.planned("running")
        rows.append(
            [
                entry.name,
                codes.shape[1],
                len(nodes),
                f"{best_plain:.3f}",
                f"{best_fast:.3f}",
                f"{best_plain / best_fast:.2f}x",
            ]
        )
    what = "sorted equality scans" if scans else "running reductions"
    print(f"\n{what}, task length {length}, batch {batch:,} (best of 3):\n")
    headers = ["program", "tokens/seq", "nodes", "selectors s", "scans s" if scans else "running s", "speed-up"]
    print(tabulate(rows, headers=headers, tablefmt="github"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--length", type=int, default=50)
    parser.add_argument("--batch", type=int, default=10_000)
    parser.add_argument("--reference-sample", type=int, default=200)
    parser.add_argument("--repeats", type=int, default=3, help="best of this many timings, both evaluators")
    parser.add_argument("--skip-check", action="store_true")
    parser.add_argument(
        "--compare-running",
        action="store_true",
        help="also time each program with and without the running reductions (best of 3, side by side)",
    )
    parser.add_argument(
        "--compare-scans",
        action="store_true",
        help="also time each program's equality reductions sorted vs through selectors (best of 3, side by side)",
    )
    parser.add_argument("--only-compare", action="store_true", help="run the comparisons only")
    args = parser.parse_args()
    if args.only_compare:
        if args.compare_running:
            compare_running(args.length, args.batch)
        if args.compare_scans:
            compare_running(args.length, args.batch, scans=True)
        return

    rows = []
    for entry in task_programs():
        task = program_task(entry.path)
        program = compile_for_task(entry.path, task)
        length = min(args.length, task.max_length() or args.length)
        batch = task.sample(np.random.default_rng(0), args.batch, length)
        codes = program.codes.id_to_code[to_lm_batch(batch).tokens]
        interpreter = Interpreter(program.output)
        interpreter.run(codes[:100])  # warm-up
        sample = codes[: args.reference_sample]
        # best of --repeats for both evaluators, alternating, so a busy
        # moment of the machine does not land on one side only
        vec_times, ref_times = [], []
        for _ in range(args.repeats):
            start = time.perf_counter()
            fast = interpreter.run(codes)
            vec_times.append(time.perf_counter() - start)
            start = time.perf_counter()
            slow = [evaluate_one(program.output, list(row)) for row in sample]
            ref_times.append(time.perf_counter() - start)
        vec_rate, ref_rate = len(codes) / min(vec_times), len(sample) / min(ref_times)
        assert np.allclose(fast[: len(sample)], np.array(slow)), f"{entry.name}: interpreters disagree"
        rows.append(
            [
                entry.name,
                program.normal.length,
                codes.shape[1],
                f"{vec_rate:,.0f}",
                f"{ref_rate:,.1f}",
                vec_rate / ref_rate,
            ]
        )
    print(
        f"task length {args.length}, batch {args.batch:,} (reference: {args.reference_sample} examples sampled; "
        f"best of {args.repeats} timings each)\n"
    )
    print(
        tabulate(
            [r[:5] + [f"{r[5]:,.0f}x"] for r in rows],
            headers=["program", "length", "tokens/seq", "vectorised ex/s", "reference ex/s", "speed-up"],
            tablefmt="github",
        )
    )
    ratios = sorted(r[5] for r in rows)
    print(f"\nspeed-up: min {ratios[0]:,.0f}x, median {ratios[len(ratios) // 2]:,.0f}x (target >= 100x)")

    if args.compare_running:
        compare_running(args.length, args.batch)
    if args.compare_scans:
        compare_running(args.length, args.batch, scans=True)
    if args.skip_check:
        return
    rows = []
    for entry in task_programs():
        task = program_task(entry.path)
        prog = compile_for_task(entry.path, task)
        top = min(50, task.max_length() or 50)
        start = time.perf_counter()
        report = check_program(prog, task, list(range(task.min_length, top + 1)), n=10_000)
        rows.append(
            [
                entry.name,
                f"{task.min_length}-{top}",
                "pass" if report.passed else "FAIL",
                f"{time.perf_counter() - start:.1f}",
            ]
        )
    print("\nlengthgen rasp check, n = 10,000 per length:\n")
    print(tabulate(rows, headers=["program", "lengths", "result", "seconds"], tablefmt="github"))


if __name__ == "__main__":
    main()
