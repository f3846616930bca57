"""Which conjecture-v2 cells repeat a training run whose result was known before its predictions.

A cell counts as a rerun when an earlier result file (any other folder under
results/runs, conjecture-v2-nope aside) has the identical training curve
(every logged loss, to 8 decimals: the same configuration, seed and batch
stream), and that file was committed before the commit that wrote
conjecture-v2's predictions.  Such a cell's outcome beyond the range could
differ only through its evaluation lengths, so it is not a test of a
prediction made after it.

    python results/studies/conjecture-v2/reruns.py > results/studies/conjecture-v2/reruns.txt
"""

from __future__ import annotations

import glob
import json
import subprocess
from pathlib import Path

PREDICTIONS_COMMIT = "a78e779"  # "conjecture-v2 suite with its predictions written before any cell ran"
ROOT = Path(__file__).resolve().parents[3]


def curve(result: dict) -> tuple:
    return tuple(round(p["loss"], 8) for p in result["training"]["curve"])


def committed_before(path: str, commit: str) -> bool:
    added = subprocess.run(
        ["git", "log", "--diff-filter=A", "--format=%H", "--", path], cwd=ROOT, capture_output=True, text=True
    ).stdout.split()
    if not added:
        return False
    check = subprocess.run(["git", "merge-base", "--is-ancestor", added[-1], commit], cwd=ROOT)
    return check.returncode == 0


def main() -> None:
    earlier: dict[tuple, list[str]] = {}
    for path in sorted(glob.glob(str(ROOT / "results/runs/**/*.json"), recursive=True)):
        rel = str(Path(path).relative_to(ROOT))
        if "/conjecture-v2/" in rel or "/conjecture-v2-nope/" in rel:
            continue
        try:
            data = json.loads(Path(path).read_text())
            earlier.setdefault(curve(data), []).append(rel)
        except (ValueError, KeyError, TypeError, AttributeError):
            continue
    cells = sorted(glob.glob(str(ROOT / "results/studies/conjecture-v2/runs/conjecture-v2/*.json")))
    reruns = []
    for path in cells:
        data = json.loads(Path(path).read_text())
        before = [p for p in earlier.get(curve(data), []) if committed_before(p, PREDICTIONS_COMMIT)]
        if before:
            reruns.append((data["config"].get("benchmark"), data["seed"], before[0]))
    for bench, seed, source in sorted(reruns):
        print(f"{bench} seed {seed}: same training as {source}")
    print(
        f"\n{len(reruns)} of {len(cells)} conjecture-v2 cells repeat a training run committed before {PREDICTIONS_COMMIT}"
    )


if __name__ == "__main__":
    main()
