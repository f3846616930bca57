"""The order the study's cells run in: RASP-L tasks and controls
interleaved in the study's ratio (56 : 21), in batches of 4 tasks, so that
a read of the partial cells holds both groups (the suite lists every
control last).  Order only: every cell is the suite's, and none of the
cells this moves forward had run when it was written.

Amendment 1 (README.md): the controls without cells when it was
registered (amendment1.yaml lists the explored tasks) run first, so that
its test (H-G1) is read early; then (Amendment 3) the 7 far RASP-L
tasks of its test set; then the rest, interleaved as before.

    python results/studies/generated/order.py   # one comma-separated batch a line
"""

from __future__ import annotations

from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
SUITE = HERE / "suite.yaml"
BATCH = 4


def interleaved(names: list[str]) -> list[str]:
    groups = [[n for n in names if n.startswith("g")], [n for n in names if not n.startswith("g")]]
    # each task at its fractional place within its own group; merged, the groups stay in ratio
    placed = [((i + 0.5) / len(group), k, name) for k, group in enumerate(groups) for i, name in enumerate(group)]
    return [name for _, _, name in sorted(placed)]


def main() -> None:
    names = [Path(p).stem for p in yaml.safe_load(SUITE.read_text())["benchmarks"]]
    explored = set(yaml.safe_load((HERE / "amendment1.yaml").read_text())["explored"])
    far = yaml.safe_load((HERE / "amendment3.yaml").read_text())["test_far"]
    first = [n for n in names if not n.startswith("g") and n not in explored]
    first += [n for n in names if n in far]
    order = first + interleaved([n for n in names if n not in first])
    assert sorted(order) == sorted(names)
    for start in range(0, len(order), BATCH):
        print(",".join(order[start : start + BATCH]))


if __name__ == "__main__":
    main()
