"""Writes one benchmark file per generated task and the study's suite (run
once, after ``lengthgen rasp generate`` drew the tasks and before any cell;
rerunning rewrites the same files).  Every value here is part of the design
in README.md: the conjecture-v3 protocol (learned positions with a random
offset per sequence, one architecture, one fixed budget, the fit gate) at
a budget of about 2 CPU-minutes a cell.

    lengthgen rasp generate --out results/studies/generated/tasks --count 56 --controls 24 \\
        --seed 0 --lengths 3-10 --search-seconds 20
    python results/studies/generated/make_suites.py

The follow-up study (../generated-v2/make_suites.py) writes its own with
``write_study`` and its test lengths.
"""

from __future__ import annotations

from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
LONGEST = 20
TESTS = [30, 40]  # 1.5x and 2x
ARCHITECTURE = {"n_layers": 3, "n_heads": 4, "d_model": 64}
TRAINING = {"steps": 3000, "batch_size": 64, "lr": 1.0e-3, "warmup": 300, "eval_every": 500, "checkpoint_every": 500}
SEEDS = 3
EXAMPLES = 300


def write_study(here: Path, name: str, description: str, tests: list[int], examples: int) -> None:
    """One benchmark per task of ``here/tasks`` and ``here/suite.yaml``."""
    manifest = yaml.safe_load((here / "tasks" / "tasks.yaml").read_text())
    folder = here / "benchmarks"
    folder.mkdir(exist_ok=True)
    # every position the longest test sequence reads (input, <sep>, answer) plus room
    table = max(tests) + 8
    names = []
    for record in manifest["tasks"]:
        task = record["name"]
        data = {
            "description": f"generated task {task} ({record['group']}, program length {record['length']})",
            "task": f"rasp:../tasks/{record['file']}",
            "train_lengths": f"1-{LONGEST}",
            "test_lengths": tests,
            "metric": "exact",
            "recipe": {
                "reason": "the generated-task study: one architecture and one fixed budget for every task (README.md)",
                "model": "transformer",
                "model_options": {"pe": "learned", **ARCHITECTURE, "max_positions": table},
                "training": TRAINING,
            },
        }
        (folder / f"{task}.yaml").write_text(yaml.safe_dump(data, sort_keys=False))
        names.append(f"benchmarks/{task}.yaml")
    suite = {
        "name": name,
        "description": description,
        "benchmarks": names,
        "models": ["transformer"],
        "seeds": SEEDS,
        "evaluation": {"examples": examples},
        "pe": ["learned"],
        "training": {"position_offset": "example"},
    }
    (here / "suite.yaml").write_text(yaml.safe_dump(suite, sort_keys=False))


def main() -> None:
    write_study(
        HERE,
        "generated",
        "the generated-task study: RASP-L tasks and controls drawn by lengthgen rasp generate (README.md)",
        TESTS,
        EXAMPLES,
    )


if __name__ == "__main__":
    main()
