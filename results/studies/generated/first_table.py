"""Exploratory (after Amendment 2's test failed): how well does a table of
the first k input tokens predict each task's answer?  The best table
(the most frequent answer for each first-k prefix, fitted on one sample)
scored on another, at 20 (L) and 40 (2L) tokens, k = 3.  A task whose
table scores >= 90% at 2L is "near-trivial": a few lines of RASP-L pass
the success threshold on it, whatever its program.

    python results/studies/generated/first_table.py   # writes first_table.yaml
"""

from __future__ import annotations

from collections import Counter, defaultdict
from pathlib import Path

import numpy as np
import yaml

from lengthgen.rasp.compiler import compile_source
from lengthgen.rasp.disguise import answers
from lengthgen.rasp.generate import INPUTS, VOCAB, TokenCodes

HERE = Path(__file__).resolve().parent
K = 3
LENGTHS = (20, 40)
FIT, SCORE = 4000, 2000


def table_accuracy(x_fit, y_fit, x_score, y_score, k: int) -> float:
    votes: dict[tuple, Counter] = defaultdict(Counter)
    for row, y in zip(map(tuple, x_fit[:, :k]), y_fit):
        votes[row][y] += 1
    overall = Counter(y_fit.tolist()).most_common(1)[0][0]
    guess = np.array([votes[tuple(r)].most_common(1)[0][0] if tuple(r) in votes else overall for r in x_score[:, :k]])
    return float((guess == y_score).mean())


def main() -> None:
    doc = yaml.safe_load((HERE / "tasks" / "tasks.yaml").read_text())
    codes = TokenCodes(VOCAB)
    alphabet = np.array([codes.code(t) for t in INPUTS], dtype=np.float64)
    rows = {}
    for rec in doc["tasks"]:
        program = compile_source((HERE / "tasks" / rec["file"]).read_text(), rec["file"], codes, strict=False)
        out = {}
        for n in LENGTHS:
            rng = np.random.default_rng([20261205, n])
            x = alphabet[rng.integers(0, len(alphabet), (FIT + SCORE, n))]
            y = answers(program, x)
            out[n] = round(table_accuracy(x[:FIT], y[:FIT], x[FIT:], y[FIT:], K), 3)
        rows[rec["name"]] = {"group": rec["group"], **{f"at_{n}": v for n, v in out.items()}}
        print(rec["name"], out, flush=True)
    (HERE / "first_table.yaml").write_text(
        yaml.safe_dump({"k": K, "why": __doc__.splitlines()[0], "tasks": rows}, sort_keys=False)
    )


if __name__ == "__main__":
    main()
