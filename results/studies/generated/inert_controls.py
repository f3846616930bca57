"""Is a control's index arithmetic doing anything?  (Amendment 1's classifier)

A control breaks a RASP-L rule with ``x * 2``, ``x % 3`` or ``x % 2`` on a
position or a count.  Whether that rule matters to the answer it is scored
on is another question: ``max(2k) > 0`` is ``max(k) > 0``, and a
``indices % 3`` read only at ``<sep>`` is a constant at any one test length.

For each control, every index-arithmetic term is replaced by each of a few
RASP-L maps of the same operand (``x``, ``x + 1``, ``x - 1``, ``x == 0``,
``x == 1``, ``x > 0``) or a constant 0-2; every combination that compiles
under the RASP-L rules is run on random inputs, and its answers at ``<sep>``
are compared with the control's.  Per control:

- ``range``: the worst agreement over training lengths 1-20 of the
  substitute that agrees best there (the one a model could have fitted);
- ``at 30``, ``at 40``: that substitute's agreement at the test lengths;
- ``best at 40``: the best agreement at 40 of any substitute.

A second check reads the function alone: ``first`` is the smallest k <= 3
such that the answer is a function of the first k input tokens at every
length 1-20, 30 and 40 (the generator's filters refused answers decided
by the last 3 tokens, not by the first; reading the first k tokens is a
RASP-L program of a few lines).  It is computed for every task, RASP-L
ones included.

Classes of a control (decided before the cells they predict, Amendment 1
in README.md):

- **disguised**: its answer is decided by its first k <= 3 tokens, or one
  substitute agrees on >= 99% at every length 1-20 and at 30 and 40 (a
  RASP-L program computes the control's task as scored);
- **inert at 2L**: not disguised, and some substitute agrees on >= 90% at
  40 (on the test a RASP-L program would pass the success threshold);
- **strict**: neither.

    python results/studies/generated/inert_controls.py [--out FILE]

Deterministic (fixed seeds); a few CPU-minutes.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import yaml

from lengthgen.rasp.compiler import compile_source
from lengthgen.rasp.disguise import INDEX_TERM, answers, decided_by_first, rasp_l_rewrites, rewrites
from lengthgen.rasp.generate import INPUTS, VOCAB, TokenCodes

HERE = Path(__file__).resolve().parent
RANGE = tuple(range(1, 21))
TESTS = (30, 40)
PER_RANGE_LENGTH = 200
PER_TEST_LENGTH = 1000
DISGUISED = 0.99
INERT = 0.90


def inputs(codes: TokenCodes, length: int, n: int, seed: int) -> np.ndarray:
    alphabet = np.array([codes.code(t) for t in INPUTS], dtype=np.float64)
    rng = np.random.default_rng([seed, length])
    return alphabet[rng.integers(0, len(alphabet), (n, length))]


def samples(codes: TokenCodes, seed: int) -> dict[int, np.ndarray]:
    return {n: inputs(codes, n, PER_RANGE_LENGTH if n in RANGE else PER_TEST_LENGTH, seed) for n in (*RANGE, *TESTS)}


def first_tokens(xs: dict[int, np.ndarray], want: dict[int, np.ndarray]) -> int | None:
    return decided_by_first(list(xs.values()), [want[n] for n in xs])


def classify(path: Path, codes: TokenCodes, seed: int = 20261205) -> dict:
    text = path.read_text()
    head, body = text.split("\n\n", 1)
    control = compile_source(text, path.name, codes, strict=False)
    xs = samples(codes, seed)
    lengths = list(xs)
    want = {n: answers(control, x) for n, x in xs.items()}
    first = first_tokens(xs, want)
    best_range, best_test = None, (0.0, "")
    tried = sum(1 for _ in rewrites(body)) or 1  # a body without terms counts as its one (illegal) self
    legal = 0
    for found in rasp_l_rewrites(body, codes, list(xs.values()), list(want.values())):
        legal += 1
        agree = dict(zip(lengths, found.agreement))
        worst = min(agree[n] for n in RANGE)
        if best_range is None or worst > best_range[0]:
            best_range = (worst, found.label, agree)
        if agree[40] > best_test[0]:
            best_test = (agree[40], found.label)
    row = {
        "control": path.stem,
        "first": first,
        "terms": len(INDEX_TERM.findall(body)),
        "substitutes": tried,
        "rasp_l": legal,
    }
    if best_range is None:
        cls = "disguised" if first else "strict"
        row.update(range=None, at_30=None, at_40=None, best_at_40=None, substitute=None, cls=cls)
        return row
    worst, label, agree = best_range
    everywhere = min(agree.values())
    if first or everywhere >= DISGUISED:
        cls = "disguised"
    else:
        cls = "inert at 2L" if best_test[0] >= INERT else "strict"
    row.update(
        range=round(worst, 3),
        at_30=round(agree[30], 3),
        at_40=round(agree[40], 3),
        best_at_40=round(best_test[0], 3),
        substitute=label,
        best_at_40_substitute=best_test[1],
        cls=cls,
    )
    return row


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=HERE / "inert_controls.yaml")
    args = ap.parse_args()
    doc = yaml.safe_load((HERE / "tasks" / "tasks.yaml").read_text())
    codes = TokenCodes(VOCAB)
    rows, programs = [], {}
    for rec in doc["tasks"]:
        path = HERE / "tasks" / rec["file"]
        if rec["group"] != "control":
            xs = samples(codes, 20261205)
            program = compile_source(path.read_text(), path.name, codes)
            programs[path.stem] = first_tokens(xs, {n: answers(program, x) for n, x in xs.items()})
            continue
        row = classify(path, codes)
        rows.append(row)
        print(
            f"{row['control']}: {row['cls']:12s} first {row['first']} range {row['range']} at 30 {row['at_30']} "
            f"at 40 {row['at_40']} best at 40 {row['best_at_40']}  ({row['rasp_l']} of {row['substitutes']} "
            "substitutes RASP-L)",
            flush=True,
        )
    decided = {k: v for k, v in programs.items() if v}
    print(f"RASP-L tasks decided by their first k <= 3 tokens: {len(decided)} of {len(programs)} {decided}")
    args.out.write_text(
        yaml.safe_dump(
            {
                "why": "Amendment 1 (README.md): is a control's index arithmetic doing anything? (inert_controls.py)",
                "thresholds": {"disguised": DISGUISED, "inert_at_2L": INERT},
                "controls": rows,
                "rasp_l_first_tokens": {k: v for k, v in programs.items() if v},
            },
            sort_keys=False,
            width=120,
        )
    )
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
