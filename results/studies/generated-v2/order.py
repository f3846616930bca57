"""The order the study's cells run in: RASP-L tasks and controls
interleaved in the study's ratio, 4 tasks a batch, so that a read of the
partial cells holds both groups (the suite lists the controls last).

    python results/studies/generated-v2/order.py   # one comma-separated batch a line
"""

from __future__ import annotations

import sys
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "generated"))

from order import BATCH, interleaved  # noqa: E402  (the first study's)


def main() -> None:
    names = [Path(p).stem for p in yaml.safe_load((HERE / "suite.yaml").read_text())["benchmarks"]]
    order = interleaved(names)
    assert sorted(order) == sorted(names)
    for start in range(0, len(order), BATCH):
        print(",".join(order[start : start + BATCH]))


if __name__ == "__main__":
    main()
