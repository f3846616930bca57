"""Study 2's rule for "higher accuracy beyond the training hops" (adaptive-v3).

    python results/studies/adaptive/higher_beyond.py ARM CONTROL --model ut --hops 3 --control-layers 4

ARM and CONTROL are run folders; ``--model`` picks the arm's model where
its folder holds several, ``--control-layers`` the control transformer's
depth where its folder holds several; one result per seed must remain.  The
rule, registered in README.md before adaptive-v3's cells: a model is
"higher" at ``--hops`` when its mean exact match over all seeds (fitted or
not) is at least ``--margin`` points above the control's and a one-sided
exact permutation test of the difference of means over the seeds gives
p <= 0.05.  Below the margin no test is read.
"""

from __future__ import annotations

import argparse
import itertools
import json
import statistics
from pathlib import Path


def one_sided_p(arm: list[float], control: list[float]) -> float:
    """Exact one-sided permutation p of mean(arm) - mean(control): the share
    of every relabelling of the pooled seeds whose difference is at least
    the observed one.

    >>> one_sided_p([3.0, 4.0], [1.0, 2.0])  # 1 of the 6 splits is as extreme
    0.16666666666666666
    """
    pooled = arm + control
    k, n = len(arm), len(pooled)
    observed = statistics.fmean(arm) - statistics.fmean(control)
    hits = total = 0
    for idx in itertools.combinations(range(n), k):
        chosen = set(idx)
        x = [pooled[i] for i in chosen]
        y = [pooled[i] for i in range(n) if i not in chosen]
        hits += statistics.fmean(x) - statistics.fmean(y) >= observed - 1e-9
        total += 1
    return hits / total


def exact_at(folder: str, hops: int, model: str | None = None, layers: int | None = None) -> dict[int, float]:
    """Per seed, exact match (%) at ``hops`` of the folder's result files
    (only ``model``, and only the depth ``layers``, when given)."""
    scores = {}
    for path in sorted(Path(folder).glob("*.json")):
        result = json.loads(path.read_text())
        config = result["config"]
        if model is not None and config["model"] != model:
            continue
        if layers is not None and (config["model_options"] or {}).get("n_layers") != layers:
            continue
        rows = [r for r in result["results"] if r["length"] == hops and r.get("test", True)]
        if rows:
            if config["seed"] in scores:
                raise SystemExit(f"{folder}: two results for seed {config['seed']}; pick one model (--model)")
            scores[config["seed"]] = 100 * rows[-1]["exact"]
    if not scores:
        raise SystemExit(f"{folder}: no result at {hops} hops" + (f" with {layers} layers" if layers else ""))
    return scores


def verdict(arm: list[float], control: list[float], margin: float = 10.0) -> tuple[float, float | None, str]:
    """The difference of all-seed means, the p-value (None below the
    margin, where no test is read) and the rule's reading."""
    difference = statistics.fmean(arm) - statistics.fmean(control)
    if difference < margin:
        return difference, None, "not higher (below the margin)"
    p = one_sided_p(arm, control)
    return difference, p, "higher" if p <= 0.05 else "not higher (p > 0.05)"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("arm")
    parser.add_argument("control")
    parser.add_argument("--model", help="the arm's model (its folder holds several)")
    parser.add_argument("--hops", type=int, default=3)
    parser.add_argument("--control-layers", type=int, help="the control transformer's depth (its folder holds several)")
    parser.add_argument("--margin", type=float, default=10.0, help="points above the control before a test is read")
    args = parser.parse_args()
    arm = exact_at(args.arm, args.hops, args.model)
    control = exact_at(args.control, args.hops, layers=args.control_layers)
    difference, p, reading = verdict(list(arm.values()), list(control.values()), args.margin)
    show = ", ".join(f"s{s} {v:.1f}" for s, v in sorted(arm.items()))
    print(f"arm at {args.hops} hops: {show}; mean {statistics.fmean(arm.values()):.1f}")
    show = ", ".join(f"s{s} {v:.1f}" for s, v in sorted(control.items()))
    print(f"control at {args.hops} hops: {show}; mean {statistics.fmean(control.values()):.1f}")
    print(
        f"difference {difference:+.1f} points"
        + ("" if p is None else f", one-sided exact p = {p:.3f}")
        + f": {reading}"
    )


if __name__ == "__main__":
    main()
