"""Where do an ACT model's steps go on the c-pvr chain control?  Steps per
output token, by what the token is, against hops.

    python results/studies/adaptive/act_steps_by_token.py [--suite results/studies/adaptive/suites/adaptive-v2-halt-2.yaml]
        [--models ut,hyper-ut] [--seeds 1-3] [--n 300]

`lengthgen depth` fits mean ACT steps per generated position against hops.
On the chain target (one cell id per hop, then the value, then <eos>) that
mean mixes token kinds whose shares change with the hop count, so a rising
mean need not mean more compute per lookup.  This script retrains each
cell of the suite exactly as `lengthgen bench` did (same configuration,
one thread; it checks the step count and final loss against the committed
result and says if they differ), then greedy-decodes fresh examples at
every hop count and splits the steps by the token being predicted: a cell
id (a lookup), the value, <eos>.  Per kind it fits the slope on hops per
seed and, over the seeds that fitted their training range, gives the
bootstrap interval and verdict of `lengthgen depth` (flat within +-0.05 steps
per hop, more, fewer, or inconclusive).

Prediction, written before the first run (adaptive-v2-halt-2, where the
per-position slopes were +0.134 [+0.114, +0.150] for the UT and +0.160 for
the Hyper-UT): steps per token are flat in hops for each kind, and the
per-position slope is the growing share of id tokens, which cost more steps
than the value and <eos>.  If the id tokens' steps rise by more than 0.05
per hop, ACT spends more per lookup on longer chains: "more compute for
harder inputs" in the paper's sense.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import torch

from lengthgen.config import parse_lengths
from lengthgen.data import find_suite
from lengthgen.errors import LengthgenError
from lengthgen.evaluation.decode import greedy_decode
from lengthgen.evaluation.evaluate import score_predictions
from lengthgen.experiment import build, make_trainer
from lengthgen.reporting.depth import depth_report, slope_table
from lengthgen.suites import load_suite
from lengthgen.sweeps.cells import expand
from lengthgen.tables import render_table
from lengthgen.tasks.base import SEP

KINDS = ("id", "value", "eos")


def retrain(cfg):
    """The model of one committed cell, trained again as the sweep trained it."""
    task, test_task, model = build(cfg)
    state = make_trainer(cfg, task, test_task, model, torch.device("cpu"), progress=False).run()
    return test_task, model.eval(), state


def steps_by_kind(model, task, hops: int, n: int, seed: int) -> tuple[dict[str, float], float]:
    """Mean ACT steps spent predicting each kind of output token, and exact match."""
    batch = task.sample(np.random.default_rng([seed, 7, hops]), n, hops)
    li = int(batch.input_lengths[0])
    if (batch.input_lengths != li).any():
        raise SystemExit("error: expected one input length per hop count (min_cells == cells at test time)")
    prompts = np.concatenate([batch.inputs[:, :li], np.full((n, 1), SEP)], axis=1)
    width = int(batch.target_lengths.max()) + 1
    with torch.no_grad():
        pred, used = greedy_decode(model, torch.from_numpy(prompts), width)
    if used is None:
        raise SystemExit("error: this model reports no ACT steps")
    used = used.float().numpy()
    # the token predicted at output position k: ids for k < hops, then the value, then <eos>
    kinds = {
        "id": used[:, :hops],
        "value": used[:, hops : hops + 1],
        "eos": used[:, hops + 1 : hops + 2],
    }
    counts = score_predictions(pred.numpy(), batch, np.arange(n), used)
    means = {k: float(v.mean()) for k, v in kinds.items() if v.size}
    means["all"] = counts.steps_sum / counts.steps_count
    return means, counts.exact / counts.examples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--suite", default="results/studies/adaptive/suites/adaptive-v2-halt-2.yaml")
    parser.add_argument("--models", default="ut,hyper-ut")
    parser.add_argument("--seeds", default="1-3")
    parser.add_argument("--n", type=int, default=300)
    parser.add_argument(
        "--results", default="results/studies/adaptive/runs", help="where the suite's committed results are"
    )
    args = parser.parse_args()
    torch.set_num_threads(1)
    try:
        suite = load_suite(find_suite(args.suite))
        seeds = parse_lengths(args.seeds, "--seeds", minimum=0)
        cells = expand(suite, Path(args.results), models=args.models.split(","), seeds=seeds)
    except LengthgenError as err:
        raise SystemExit(f"error: {err}") from None
    rows, pseudo = [], []
    for cell in cells:
        committed = Path(args.results) / suite.name / f"{cell.key}.json"
        stored = json.loads(committed.read_text()) if committed.exists() else None
        task, model, state = retrain(cell.config)
        same = stored is not None and stored["training"]["steps"] == state.step
        check = "no committed result" if stored is None else ("same steps" if same else "DIFFERENT steps")
        fitted = bool(stored and stored["fit"]["fitted"])
        print(f"{cell.model} seed {cell.seed}: {state.step} steps ({check}), fitted {fitted}", flush=True)
        per_kind: dict[str, list[dict[str, float]]] = {k: [] for k in (*KINDS, "all")}
        for hops in [*cell.config.train_lengths, *cell.config.test_lengths]:
            means, exact = steps_by_kind(model, task, hops, args.n, cell.seed)
            rows.append(
                [cell.model, cell.seed, hops, f"{100 * exact:.1f}"]
                + [f"{means[k]:.2f}" if k in means else "-" for k in (*KINDS, "all")]
            )
            for k, v in means.items():
                per_kind[k].append({"length": hops, "mean_steps": v})
        for kind, kind_rows in per_kind.items():
            pseudo.append(
                {
                    "seed": cell.seed,
                    "config": {"model": f"{cell.model} [{kind}]", "model_options": {}},
                    "results": kind_rows,
                    "fit": {"fitted": fitted},
                }
            )
    print()
    print(render_table(["model", "seed", "hops", "exact %", *(f"steps: {k}" for k in KINDS), "steps: all"], rows))
    print()
    print(render_table(*slope_table(depth_report(pseudo), first="model [token kind]")))


if __name__ == "__main__":
    main()
