"""Amendment 1's analysis: outcomes by class (inert_controls.yaml), the
explored tasks (cells in before the amendment) apart from the test.

Classes: a RASP-L task is *first-k* when its answer is one function of its
first k <= 3 input tokens at every length, else *non-trivial*; a control is
*disguised*, *inert at 2L* or *strict* (inert_controls.py says how).

    python results/studies/generated/by_class.py

Reads the committed cells and the study's manifest with lengthgen's own
scoring (``lengthgen.reporting.generated.outcomes``: fitted = >= 2 of 3
seeds pass the fit gate; success = mean exact at 2L >= 90% over them).
"""

from __future__ import annotations

from pathlib import Path

import yaml

from lengthgen.reporting.conjecture import select_runs
from lengthgen.reporting.generated import load_manifest, outcomes
from lengthgen.reporting.loading import load_results

HERE = Path(__file__).resolve().parent
CLASSES = HERE / "inert_controls.yaml"
AMENDMENT = HERE / "amendment1.yaml"
SEEDS = 3


def classes() -> tuple[dict[str, str], set[str]]:
    doc = yaml.safe_load(CLASSES.read_text())
    out = {row["control"]: row["cls"] for row in doc["controls"]}
    manifest = load_manifest(HERE / "tasks")
    first = doc["rasp_l_first_tokens"]
    for name, rec in manifest.items():
        if rec["group"] == "program":
            out[name] = "first-k" if name in first else "non-trivial"
    return out, set(yaml.safe_load(AMENDMENT.read_text())["explored"])


def main() -> None:
    cls, explored = classes()
    runs = select_runs(load_results(str(HERE / "runs" / "generated")), "transformer", None, "exact")
    tasks = {t.name: t for t in outcomes(runs, load_manifest(HERE / "tasks"))}
    order = ["first-k", "non-trivial", "disguised", "inert at 2L", "strict"]
    test: dict[str, list[str]] = {}
    print("| class | set | tasks | with runs | fitted | succeeded | tasks (score at 2L, fitted seeds) |")
    print("|---|---|---|---|---|---|---|")
    for c in order:
        for part in ("explored", "test"):
            names = sorted(n for n, k in cls.items() if k == c and (n in explored) == (part == "explored"))
            ran = [tasks[n] for n in names if n in tasks]
            fitted = [t for t in ran if t.fitted(2)]
            won = [t for t in fitted if t.success]
            if part == "test":
                test[c] = names
            detail = ", ".join(
                f"{t.name} ({t.score:.0%}, {t.fitted_seeds}/{t.seeds})" if t.score is not None else f"{t.name} (-)"
                for t in ran
            )
            if c in ("first-k", "non-trivial"):
                detail = ""  # too many to list; lengthgen generated lists them
            print(f"| {c} | {part} | {len(names)} | {len(ran)} | {len(fitted)} | {len(won)} | {detail} |")
    print()
    print(h_g1(tasks, test))
    print()
    print(near_trivial(tasks))


def h_g1(tasks: dict, test: dict[str, list[str]]) -> str:
    """H-G1's verdict on the test set, by the amendment's rule."""
    pred = yaml.safe_load(AMENDMENT.read_text())["predictions"]
    done = all(n in tasks and tasks[n].seeds >= SEEDS for c in pred for n in test[c])
    won = {c: sum(1 for n in test[c] if n in tasks and tasks[n].fitted(2) and tasks[n].success) for c in pred}
    holds = {
        "disguised": won["disguised"] >= pred["disguised"]["at_least"],
        "strict": won["strict"] <= pred["strict"]["at_most"],
    }
    stated = (
        f"disguised {won['disguised']} of {len(test['disguised'])} succeed (predicted >= "
        f"{pred['disguised']['at_least']}), strict {won['strict']} of {len(test['strict'])} "
        f"(predicted <= {pred['strict']['at_most']})"
    )
    if not done:
        return f"H-G1: pending (test-set controls without all {SEEDS} seeds); so far {stated}"
    return f"H-G1: {'confirmed' if all(holds.values()) else 'refuted'}: {stated}"


def near_trivial(tasks: dict) -> str:
    """Amendment 3: success of RASP-L and control tasks by whether a table
    of their first 3 tokens is right on >= 90% at 2L (first_table.yaml),
    and its predictions on the RASP-L tasks without cells when it was registered."""
    table = yaml.safe_load((HERE / "first_table.yaml").read_text())["tasks"]
    doc = yaml.safe_load((HERE / "amendment3.yaml").read_text())
    test = set(doc["test_near"]) | set(doc["test_far"])
    lines = [
        "| group | first-3 table at 2L | set | tasks with runs | fitted | succeeded |",
        "|---|---|---|---|---|---|",
    ]
    shares = {}
    for group in ("program", "control"):
        for near in (True, False):
            for part in ("explored", "test"):
                names = [
                    n
                    for n, r in table.items()
                    if r["group"] == group
                    and (r["at_40"] >= doc["threshold"]) == near
                    and (n in test) == (part == "test")
                ]
                ran = [tasks[n] for n in names if n in tasks]
                fitted = [t for t in ran if t.fitted(2)]
                won = [t for t in fitted if t.success]
                if not names:
                    continue
                label = ">= 90%" if near else "< 90%"
                lines.append(
                    f"| {group} | {label} | {part} | {len(ran)} of {len(names)} | {len(fitted)} | {len(won)} |"
                )
                if part == "test":
                    shares["near" if near else "far"] = (
                        len(won),
                        len(fitted),
                        all(tasks.get(n) and tasks[n].seeds >= SEEDS for n in names),
                    )
    verdicts = []
    for key, (won, fitted, done) in shares.items():
        want = doc["predictions"][key]["at_least"]
        share = won / fitted if fitted else None
        state = "pending" if not done else ("holds" if share is not None and share >= want else "fails")
        shown = f"{won} of {fitted} fitted" + (f" ({share:.0%})" if share is not None else "")
        verdicts.append(f"{key}: {shown}, predicted >= {want:.0%}: {state}")
    return "\n".join(lines) + "\n\nAmendment 3: " + "; ".join(verdicts)


if __name__ == "__main__":
    main()
