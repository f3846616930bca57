"""The best cheap baseline over each test band, per task (computed after
the registration commit, before any cell; descriptive).  The draw's
filters checked baselines at 10, 20 and 40 tokens only; the bands hold
odd lengths too, where some answers are constant (c03-15070f09 answers 1
at every odd length).  A baseline is scored at each length (it may know
the length) and averaged over the band as the study's score is.

    python results/studies/generated-v2/band_baselines.py   # writes band_baselines.yaml
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
BANDS = {"1.5x": "28-32", "2x": "38-42"}
N = 500


def band_best(task: str, lengths: str) -> tuple[float, str]:
    out = subprocess.run(
        [sys.executable, "-m", "lengthgen", "tasks", "baselines", task, "--lengths", lengths, "--n", str(N)]
        + ["--format", "json"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    rows = json.loads(out)["lengths"]
    best = [max((b["exact"], name) for name, b in row["baselines"].items()) for row in rows]
    return statistics.fmean(v for v, _ in best), max(set(n for _, n in best), key=[n for _, n in best].count)


def main() -> None:
    manifest = yaml.safe_load((HERE / "tasks" / "tasks.yaml").read_text())["tasks"]
    table = {}
    for record in manifest:
        task = f"rasp:{HERE / 'tasks' / record['file']}"
        table[record["name"]] = {"group": record["group"]}
        for band, lengths in BANDS.items():
            value, name = band_best(task, lengths)
            table[record["name"]][band] = {"exact": round(value, 3), "mostly": name}
    (HERE / "band_baselines.yaml").write_text(yaml.safe_dump({"examples_per_length": N, "tasks": table}))
    for group in ("program", "control"):
        values = [t["2x"]["exact"] for t in table.values() if t["group"] == group]
        print(
            f"{group}: best baseline over the 2x band, mean {statistics.fmean(values):.3f}, "
            f"max {max(values):.3f}, >= 0.9 in {sum(v >= 0.9 for v in values)} of {len(values)}"
        )


if __name__ == "__main__":
    main()
