"""Writes this study's benchmark and suite files (run once, before any cell;
rerunning rewrites the same files).  Every value here is part of the design
in README.md: the groups, the two maximum training lengths, the test
lengths, one architecture and one fixed budget for every cell.

    python results/studies/conjecture-v3/make_suites.py
"""

from __future__ import annotations

from pathlib import Path

import yaml

from lengthgen.evaluation.evaluate import sequence_length
from lengthgen.tasks import make_task

HERE = Path(__file__).resolve().parent

# name: (task, params, "program" or "none"); groups from rasp/MANIFEST.yaml at this commit
BENCHMARKS = {
    "count": ("count", {"max_value": 256}, "program"),
    "copy-unique": ("copy-unique", {"alphabet": 128}, "program"),
    "sort": ("sort", {"alphabet": 128}, "program"),
    "mode": ("mode", {}, "program"),
    "addition-reversed-hints": ("addition", {"reversed": True, "index_hints": True, "num_hints": 64}, "program"),
    "pvr": ("pvr", {"max_pointer": 128}, "program"),
    "copy-repeat": ("copy-repeat", {"alphabet": 4}, "none"),
    "reverse": ("reverse", {}, "none"),
    "parity": ("parity", {}, "none"),
    "duplicate-string": ("duplicate-string", {}, "none"),
    "stack-manipulation": ("stack-manipulation", {}, "none"),
    "addition-reversed": ("addition", {"reversed": True, "index_hints": False}, "none"),
}
# The two maximum training lengths (the "longer training helps" contrast is
# 2x in both): items or bits 20 and 40; addition digits 10 and 20, whose
# sequences are about four tokens per digit.
LONGEST = {"addition": (10, 20)}
DEFAULT_LONGEST = (20, 40)
MINIMUM = {"stack-manipulation": 2}
ARCHITECTURE = {"n_layers": 3, "n_heads": 4, "d_model": 64}
TRAINING = {
    "steps": 6000,
    "batch_size": 64,
    "lr": 1.0e-3,
    "warmup": 300,
    "eval_every": 500,
    "checkpoint_every": 500,
}
SEEDS = 5
EXAMPLES = 300
ARMS = {"learned": {"pe": ["learned"], "training": {"position_offset": "example"}}, "nope": {"pe": ["none"]}}


def test_lengths(longest: int) -> list[int]:
    """L + 10 and 2L (the primary metric's lengths), with 1.5L and 2.5L."""
    return sorted({longest + 10, int(1.5 * longest), 2 * longest, int(2.5 * longest)})


def main() -> None:
    for index, longest_of in enumerate(("short", "long")):
        folder = HERE / "benchmarks" / longest_of
        folder.mkdir(parents=True, exist_ok=True)
        names = []
        for name, (task_name, params, group) in BENCHMARKS.items():
            longest = LONGEST.get(task_name, DEFAULT_LONGEST)[index]
            tests = test_lengths(longest)
            task = make_task(task_name, **params)
            for n in tests:
                task.check_length(n)
            # the learned table covers the longest sequence evaluated (tokens read: all but the final <eos>)
            table = sequence_length(task, max(tests)) + 8
            data = {
                "description": f"conjecture-v3 ({group} group): {name}, trained on 1-{longest}",
                "task": task_name,
                "params": params,
                "train_lengths": f"{MINIMUM.get(name, 1)}-{longest}",
                "test_lengths": tests,
                "metric": "exact",
                "recipe": {
                    "reason": "conjecture-v3: one architecture and one fixed budget for every benchmark (README.md)",
                    "model": "transformer",
                    "model_options": {"pe": "learned", **ARCHITECTURE, "max_positions": table},
                    "training": TRAINING,
                },
            }
            (folder / f"{name}.yaml").write_text(yaml.safe_dump(data, sort_keys=False))
            names.append(f"benchmarks/{longest_of}/{name}.yaml")
        for arm, settings in ARMS.items():
            suite = {
                "name": f"conjecture-v3-{arm}-{longest_of}",
                "description": f"conjecture-v3, {arm} arm, {longest_of} training range: see README.md",
                "benchmarks": names,
                "models": ["transformer"],
                "seeds": SEEDS,
                "evaluation": {"examples": EXAMPLES},
                "predictions": {
                    name: ("extrapolates" if group == "program" else "fails")
                    for name, (_, _, group) in BENCHMARKS.items()
                },
                **settings,
            }
            (HERE / f"suite-{arm}-{longest_of}.yaml").write_text(yaml.safe_dump(suite, sort_keys=False))


if __name__ == "__main__":
    main()
