"""Read H-R19 (README.md, Amendment 25): their own script's seeds on this CPU.

    python results/studies/replication-huang/their_script/read_seeds.py [FOLDER]
    python results/studies/replication-huang/their_script/read_seeds.py --h-r21 [FOLDER]

FOLDER (default: this script's folder) holds `seed-S.log`, the log of
`run_their_seed.sh S`.  Each log holds their Trainer's printed log dicts:
a training loss every 3,000 steps and, at each evaluation, one dict per
test range with its exact-match accuracy.  A seed reproduces their outcome
if it stopped early (100% in range at an evaluation) with bin 51-100 at
0.90 or more there.  The rule (decided as seeds land, in the order 0-4):
at least 4 of 5 reproduce -> holds; 3 of 5 do not (at most 2 can) ->
refuted; 3 of 5 -> inconclusive; otherwise open.
"""

from __future__ import annotations

import ast
import re
import sys
from pathlib import Path

IN_RANGE, BIN_A, BIN_B = "eval_len0-50_acc", "eval_len51-100_acc", "eval_len101-150_acc"
MAX_STEPS = 30_000
SEEDS = range(5)


def parse_log(text: str) -> dict:
    """Their evaluations and losses, and whether the run finished."""
    evals: dict[float, dict[str, float]] = {}
    losses: list[tuple[int, float]] = []
    for line in text.splitlines():
        line = line.strip()
        if not (line.startswith("{") and line.endswith("}")):
            continue
        try:
            logged = ast.literal_eval(line)
        except (ValueError, SyntaxError):
            continue
        epoch = logged.get("epoch")
        if "loss" in logged:
            losses.append((round(epoch * MAX_STEPS), logged["loss"]))
        for key, value in logged.items():
            if key.endswith("_acc"):
                evals.setdefault(epoch, {})[key] = value
    finished = re.search(r"^# finished", text, re.M) is not None
    return {"evals": evals, "losses": losses, "finished": finished}


def outcome(run: dict) -> dict:
    """The seed's last complete evaluation and whether it is their outcome."""
    complete = {e: accs for e, accs in run["evals"].items() if {IN_RANGE, BIN_A, BIN_B} <= accs.keys()}
    if not run["finished"] or not complete:
        return {"status": "running" if not run["finished"] else "no evaluation", "theirs": None}
    epoch = max(complete)
    accs = complete[epoch]
    stopped_early = accs[IN_RANGE] == 1.0
    return {
        "status": "early stop" if stopped_early else "reach max step",
        "step": round(epoch * MAX_STEPS),
        "in_range": accs[IN_RANGE],
        "bin_a": accs[BIN_A],
        "bin_b": accs[BIN_B],
        "theirs": stopped_early and accs[BIN_A] >= 0.90,
    }


def verdict(theirs: list[bool | None]) -> str:
    """Amendment 25's rule on the seeds in order; None is a seed not landed."""
    yes = sum(1 for t in theirs if t is True)
    no = sum(1 for t in theirs if t is False)
    if yes >= 4:
        return "holds"
    if no >= 3:
        return "refuted"
    if yes == 3 and no == 2:
        return "inconclusive"
    return f"open ({yes} reproduce, {no} do not, {len(SEEDS) - yes - no} to run)"


def coverage(o: dict) -> bool | None:
    """H-R21's other class: no early stop, bin 51-100 below 0.10 at the end."""
    if o["theirs"] is None:
        return None
    return o["status"] == "reach max step" and o["bin_a"] < 0.10


def verdict_h_r21(outcomes: list[dict | None]) -> str:
    """Amendment 27's rule over our seeds 0, 2, 3 (None: not landed)."""
    landed = [o for o in outcomes if o is not None and o["theirs"] is not None]
    theirs = sum(1 for o in landed if o["theirs"])
    covered = sum(1 for o in landed if coverage(o))
    left = len(outcomes) - len(landed)
    if theirs >= 2:
        return "holds"
    if covered == len(outcomes):
        return "refuted: its rival holds (the initialisation picks across implementations)"
    if left == 0 or theirs + left < 2 and covered + left < len(outcomes):
        return "inconclusive"
    return f"open ({theirs} their outcome, {covered} coverage, {left} to run)"


def main(argv: list[str]) -> None:
    h_r21 = "--h-r21" in argv
    argv = [a for a in argv if a != "--h-r21"]
    folder = Path(argv[0]) if argv else Path(__file__).parent
    if h_r21:
        return main_h_r21(folder)
    rows, theirs = [], []
    for seed in SEEDS:
        log = folder / f"seed-{seed}.log"
        if not log.exists():
            theirs.append(None)
            rows.append(f"| {seed} | not run | | | | | |")
            continue
        run = parse_log(log.read_text())
        o = outcome(run)
        theirs.append(o["theirs"])
        first_below_1 = next((step for step, loss in run["losses"] if loss < 1), None)
        if o["theirs"] is None:
            rows.append(f"| {seed} | {o['status']} | | | | | |")
            continue
        rows.append(
            f"| {seed} | {o['status']} at {o['step']:,} | {100 * o['in_range']:.2f} | {100 * o['bin_a']:.2f} "
            f"| {100 * o['bin_b']:.2f} | {first_below_1 if first_below_1 is not None else '-'} "
            f"| {'yes' if o['theirs'] else 'no'} |"
        )
    print("| their seed | end | in range 0-50 | 51-100 | 101-150 | first logged loss < 1 (step) | their outcome |")
    print("|---|---|---|---|---|---|---|")
    print("\n".join(rows))
    print(f"\nH-R19: {verdict(theirs)}")


def main_h_r21(folder: Path) -> None:
    print("| our seed | end | in range 0-50 | 51-100 | 101-150 | class |")
    print("|---|---|---|---|---|---|")
    outcomes = []
    for seed in (0, 2, 3):
        log = folder / f"h-r21-seed-{seed}.log"
        if not log.exists():
            outcomes.append(None)
            print(f"| {seed} | not run | | | | |")
            continue
        o = outcome(parse_log(log.read_text()))
        outcomes.append(o)
        if o["theirs"] is None:
            print(f"| {seed} | {o['status']} | | | | |")
            continue
        cls = "their outcome" if o["theirs"] else "coverage" if coverage(o) else "neither"
        print(
            f"| {seed} | {o['status']} at {o['step']:,} | {100 * o['in_range']:.2f} | {100 * o['bin_a']:.2f} "
            f"| {100 * o['bin_b']:.2f} | {cls} |"
        )
    print(f"\nH-R21: {verdict_h_r21(outcomes)}")


if __name__ == "__main__":
    main(sys.argv[1:])
