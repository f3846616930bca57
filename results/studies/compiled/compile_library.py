"""Compile every program of the RASP-L library and check the models.

For each program: compile it for the longest sequence its task makes at
lengths 1-50 (a program without a task: sequences of 50 tokens over the
digits 0-9), report its size, compare the model with the interpreter at
every position of ``--n`` examples at every length 1-50, and score it with
the suite's evaluator at lengths 10, 25 and 50.  Writes
``results/studies/compiled/library.md`` and prints it.

    python results/studies/compiled/compile_library.py [--n 10] [--programs sort,count]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
from tabulate import tabulate

from lengthgen.rasp.check import compile_for_task, program_task
from lengthgen.rasp.codes import TokenCodes
from lengthgen.rasp.compiler import compile_file
from lengthgen.rasp.library import programs
from lengthgen.rasp.tomodel import agreement, compile_model, evaluate, longest_sequence
from lengthgen.tasks.base import SPECIALS

HERE = Path(__file__).resolve().parent
DIGITS = TokenCodes([*SPECIALS, *map(str, range(10))])


def valid(task, lengths):
    out = []
    for n in lengths:
        try:
            task.check_length(n)
        except Exception:
            continue
        out.append(n)
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=10, help="examples per length in the agreement check")
    parser.add_argument("--programs", help="comma-separated names (default: the whole library)")
    parser.add_argument("--out", default=str(HERE / "library.md"))
    args = parser.parse_args()
    wanted = set(args.programs.split(",")) if args.programs else None
    rows = []
    for entry in programs():
        if wanted and entry.name not in wanted:
            continue
        start = time.process_time()
        if entry.task:
            task = program_task(entry.path)
            program = compile_for_task(entry.path, task)
            lengths = valid(task, range(1, 51))
            max_len = longest_sequence(task, lengths)
        else:
            task, program, lengths, max_len = None, compile_file(entry.path, DIGITS), [], 50
        compiled = compile_model(program, max_len)
        size = compiled.size()
        checked = differ = 0
        scores = "-"
        if task is not None:
            found = agreement(compiled, task, lengths, args.n)
            checked, differ = sum(a.tokens for a in found), sum(a.disagreements for a in found)
            at = [n for n in (10, 25, 50) if n in lengths]
            scores = ", ".join(f"{e:.0f}" for _, e, _ in evaluate(compiled, task, at, 50))
        else:
            rng = np.random.default_rng(0)
            interp = program.interpreter()
            for length in range(1, 51):
                tokens = rng.integers(3, len(DIGITS.vocab), size=(args.n, length))
                want = interp.run(DIGITS.id_to_code[tokens])
                got = compiled.values(tokens)
                checked += tokens.size
                differ += int((want != got).sum())
        form = program.normal
        rows.append(
            [
                entry.name,
                form.length,
                form.depth,
                size["layers"],
                "/".join(map(str, size["heads"])),
                size["width"],
                "/".join(map(str, size["mlp"])),
                f"{size['nonzero']:,}",
                f"{size['parameters']:,}",
                max_len,
                size["positions"],
                len(compiled.growing),
                f"{differ} of {checked:,}",
                scores,
                f"{time.process_time() - start:.0f}",
            ]
        )
        print(rows[-1], flush=True)
    headers = [
        "program",
        "length (normal form)",
        "attention depth",
        "layers",
        "heads per layer",
        "width",
        "MLP units per layer",
        "nonzero params",
        "dense params",
        "max tokens",
        "positions",
        "ops growing with N",
        "positions differing from interpreter (1-50)",
        "evaluator exact % at 10, 25, 50",
        "CPU-s",
    ]
    table = tabulate(rows, headers=headers, tablefmt="github", disable_numparse=True)
    length = [r[1] for r in rows]
    sizes = {
        "layers": [r[3] for r in rows],
        "heads (all layers)": [sum(map(int, r[4].split("/"))) for r in rows],
        "nonzero parameters": [int(r[7].replace(",", "")) for r in rows],
        "residual width": [r[5] for r in rows],
    }
    lines = [f"- {name}: {spearman(length, values):+.2f}" for name, values in sizes.items()]
    note = f"\nSpearman rank correlation with the normal-form length over {len(rows)} programs:\n" + "\n".join(lines)
    Path(args.out).write_text(table + "\n" + note + "\n", encoding="utf-8")
    print(table + "\n" + note)


def spearman(a: list, b: list) -> float:
    """Rank correlation, ties given their mean rank."""

    def ranks(x: list) -> np.ndarray:
        x = np.asarray(x, dtype=float)
        out = np.empty(len(x))
        for value in np.unique(x):
            where = np.flatnonzero(x == value)
            out[where] = np.mean(np.flatnonzero(np.sort(x) == value))
        return out

    return float(np.corrcoef(ranks(a), ranks(b))[0, 1])


if __name__ == "__main__":
    main()
