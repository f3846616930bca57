"""Which lookup does answer-only one-hop c-pvr miss?  A linear probe of the
state at ``<sep>``, layer by layer.

    python results/studies/adaptive/probe_one_hop.py [--suite results/studies/adaptive/suites/cpvr-control-14.yaml]
        [--seeds 0] [--n 3000] [--hops 1|2]

Design and prediction: ``probe-one-hop.md`` beside this script, committed
before it ran.  The script retrains each committed cell of the suite exactly
as ``lengthgen bench`` did (one thread; the step count and final loss are
checked against the committed result), runs ``--n`` fresh one-hop inputs
with ``<sep>`` appended, records the residual state at ``<sep>`` after the
embedding and after every block, and fits a multinomial logistic regression
on two thirds of the inputs for each of: ``j`` (the cell ``c0`` points to),
the value of ``c0``, and the answer (the value of ``c<j>``).  It prints the
held-out accuracy per layer and quantity beside three controls: the same
model before training (a random network's state at ``<sep>`` already mixes
the input's tokens), a probe on the input's token counts (what the input
holds without order), and the majority class.
"""

from __future__ import annotations

import argparse
import copy
import json
from pathlib import Path

import numpy as np
import torch

from lengthgen.config import parse_lengths
from lengthgen.data import find_suite
from lengthgen.errors import LengthgenError
from lengthgen.experiment import build, make_trainer
from lengthgen.suites import load_suite
from lengthgen.sweeps.cells import expand
from lengthgen.tables import render_table
from lengthgen.tasks.base import SEP

QUANTITIES = {
    1: ("pointer of c0 (j)", "value of c0", "answer (value of c_j)"),
    2: ("pointer of c0 (j1)", "pointer of c_j1 (j2)", "answer (value of c_j2)"),
}


def labels(task, batch, hops: int = 1) -> np.ndarray:
    """[n, 3] class indices of the three probed quantities, read from the tokens."""
    out = []
    for i in range(len(batch)):
        x, y = (task.decode(part) for part in batch.example(i))
        # '>' separates cells; '?'/'!' lead a mixed-target input (-17) and are not cells
        cells = [t for t in x if t not in (">", "?", "!")]
        triples = {}
        for k in range(0, len(cells), 3):
            p, v, c = cells[k : k + 3]  # layout pvc: pointer, value, id
            triples[int(c[1:])] = (int(p[1:]), int(v[1:]))
        j, v0 = triples[0]
        answer = int(y[0][1:])
        last = j if hops == 1 else triples[j][0]  # the cell whose value is the answer
        if triples[last][1] != answer:
            raise SystemExit(f"error: example {i} is not {hops} hop(s) from c0: {' '.join(x)} -> {y}")
        out.append((j, v0, answer) if hops == 1 else (j, last, answer))
    return np.array(out)


def states_at_sep(model, prompts: torch.Tensor) -> list[torch.Tensor]:
    """The residual state at the last position after the embedding and each block."""
    captured: list[torch.Tensor] = []
    hooks = [model.embedding.register_forward_hook(lambda m, i, o: captured.append(o[:, -1].detach()))]
    hooks += [b.register_forward_hook(lambda m, i, o: captured.append(o[:, -1].detach())) for b in model.blocks]
    try:
        with torch.no_grad():
            model(prompts)
    finally:
        for h in hooks:
            h.remove()
    return captured


def probe(features: torch.Tensor, target: np.ndarray, classes: int, seed: int) -> float:
    """Held-out accuracy of a multinomial logistic regression (2/3 train, 1/3 test)."""
    n = len(target)
    order = np.random.default_rng(seed).permutation(n)
    train, test = order[: 2 * n // 3], order[2 * n // 3 :]
    x = features.double()
    x = (x - x[train].mean(0)) / (x[train].std(0) + 1e-6)
    y = torch.from_numpy(target)
    torch.manual_seed(seed)
    head = torch.nn.Linear(x.shape[1], classes).double()
    opt = torch.optim.LBFGS(head.parameters(), max_iter=300, line_search_fn="strong_wolfe")

    def closure():
        opt.zero_grad()
        loss = torch.nn.functional.cross_entropy(head(x[train]), y[train]) + 1e-3 * head.weight.pow(2).sum()
        loss.backward()
        return loss

    opt.step(closure)
    with torch.no_grad():
        return float((head(x[test]).argmax(1) == y[test]).double().mean())


def probe_row(name: str, features: torch.Tensor, target: np.ndarray, seed: int) -> list[str]:
    classes = int(target.max()) + 1
    return [name] + [f"{100 * probe(features, target[:, q], classes, seed):.1f}" for q in range(target.shape[1])]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--suite", default="results/studies/adaptive/suites/cpvr-control-14.yaml")
    parser.add_argument("--seeds", default="0")
    parser.add_argument("--n", type=int, default=3000)
    parser.add_argument("--results", default="results/studies/adaptive/runs")
    parser.add_argument("--hops", type=int, choices=(1, 2), default=1, help="probe inputs of this many hops")
    parser.add_argument("--variant", help="only the cells of this vary setting (e.g. n_layers=4)")
    args = parser.parse_args()
    torch.set_num_threads(1)
    try:
        suite = load_suite(find_suite(args.suite))
        cells = expand(suite, Path(args.results), seeds=parse_lengths(args.seeds, "--seeds", minimum=0))
    except LengthgenError as err:
        raise SystemExit(f"error: {err}") from None
    for cell in cells:
        if args.variant is not None and cell.config.variant != args.variant:
            continue
        task, test_task, model = build(cell.config)
        untrained = copy.deepcopy(model).eval()  # the same weights before training: the probe's control
        state = make_trainer(cell.config, task, test_task, model, torch.device("cpu"), progress=False).run()
        model.eval()
        committed = Path(args.results) / suite.name / f"{cell.key}.json"
        stored = json.loads(committed.read_text()) if committed.exists() else None
        if stored is None:
            check = "no committed result"
        elif stored["training"]["steps"] == state.step and stored["training"]["final_loss"] == state.curve[-1]["loss"]:
            check = "same steps and final loss as the committed cell"
        else:
            check = "DIFFERENT from the committed cell"
        print(f"{cell.model} seed {cell.seed}: {state.step} steps ({check})", flush=True)
        batch = test_task.sample(np.random.default_rng([cell.seed, 11]), args.n, args.hops)
        li = int(batch.input_lengths[0])
        prompts = torch.from_numpy(np.concatenate([batch.inputs[:, :li], np.full((args.n, 1), SEP)], axis=1))
        target = labels(test_task, batch, args.hops)
        rows = []
        for trained, net in (("trained", model), ("untrained (control)", untrained)):
            for layer, features in enumerate(states_at_sep(net, prompts)):
                name = f"{trained}: " + ("embedding" if layer == 0 else f"block {layer}")
                rows.append(probe_row(name, features, target, cell.seed))
        # what the input holds without order: a probe on token counts
        bag = np.stack([np.bincount(row[:li], minlength=test_task.vocab_size) for row in batch.inputs])
        rows.append(probe_row("bag of input tokens (control)", torch.from_numpy(bag).double(), target, cell.seed))
        majority = [f"{100 * np.bincount(target[:, q]).max() / args.n:.1f}" for q in range(3)]
        rows.append(["majority class"] + majority)
        print(render_table(["state at <sep>", *(f"{q} %" for q in QUANTITIES[args.hops])], rows))
        print()


if __name__ == "__main__":
    main()
