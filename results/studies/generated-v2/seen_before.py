"""What was seen before this study's predictions: the first study's
far-from-trivial tasks (a table of their first 3 tokens below 90% at 2L,
``../generated/first_table.yaml``; controls not disguised,
``../generated/inert_controls.yaml``) read both ways, fitted seeds only
(the first study's rule) and every seed (intention to treat, this study's
primary).  Written while designing this study; deterministic.

    python results/studies/generated-v2/seen_before.py
"""

from __future__ import annotations

from pathlib import Path

import yaml

from lengthgen.reporting.conjecture import select_runs
from lengthgen.reporting.generated import load_manifest, outcomes
from lengthgen.reporting.loading import load_results

FIRST = Path(__file__).resolve().parent.parent / "generated"


def main() -> None:
    table = yaml.safe_load((FIRST / "first_table.yaml").read_text())["tasks"]
    classes = {r["control"]: r["cls"] for r in yaml.safe_load((FIRST / "inert_controls.yaml").read_text())["controls"]}
    runs = select_runs(load_results(str(FIRST / "runs" / "generated")), "transformer", None, "exact")
    manifest = load_manifest(FIRST / "tasks")
    print(
        "| reading | group | far tasks with runs | counted | fitted | succeeded | controls (score at 2L, fitted seeds) |"
    )
    print("|---|---|---|---|---|---|---|")
    for itt in (False, True):
        tasks = outcomes(runs, manifest, all_seeds=itt)
        for group in ("program", "control"):
            far = [
                t
                for t in tasks
                if t.group == group and table[t.name]["at_40"] < 0.9 and classes.get(t.name) != "disguised"
            ]
            counted = [t for t in far if t.counted(2)]
            detail = ""
            if group == "control":
                detail = ", ".join(
                    f"{t.name} ({'-' if t.score is None else f'{t.score:.0%}'}, {t.fitted_seeds}/{t.seeds})"
                    for t in far
                )
            print(
                f"| {'every seed' if itt else 'fitted only'} | {group} | {len(far)} | {len(counted)} | "
                f"{sum(t.fitted(2) for t in far)} | {sum(t.success for t in counted)} | {detail} |"
            )


if __name__ == "__main__":
    main()
