"""Writes the follow-up study's benchmarks and suite (run once, after the
draw and before any cell).  The first study's protocol (its
``write_study``), with the test over bands of five lengths around 1.5x and
2x (README.md says why) and 100 examples a length, 500 a band.

    lengthgen rasp generate --out results/studies/generated-v2/tasks --count 56 --controls 24 \\
        --seed 1 --lengths 3-10 --search-seconds 20 --exclude results/studies/generated/tasks
    python results/studies/generated-v2/make_suites.py
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "generated"))

from make_suites import write_study  # noqa: E402  (the first study's, so both protocols are one code)

BAND = 2
TESTS = [n for centre in (30, 40) for n in range(centre - BAND, centre + BAND + 1)]  # 28-32, 38-42
EXAMPLES = 100


def main() -> None:
    write_study(
        HERE,
        "generated-v2",
        "the generated-task study redrawn far from trivial answers, scored by intention to treat (README.md)",
        TESTS,
        EXAMPLES,
    )


if __name__ == "__main__":
    main()
