"""Does the best learning rate transfer across widths?  Standard vs muP.

    python results/studies/diagnostics/mup_transfer.py [--steps 300] [--widths 32,64,128]

For each parametrization and width, trains the transformer on copy-unique
(lengths 1-8) at several Adam learning rates and prints the final training
loss; the best learning rate per width is marked.  Under muP (base width
32) the best rate should stay put as the width grows; under the standard
parametrization it tends to shift down.  Writes ``results/studies/diagnostics/plots/mup_transfer.png``
with ``--plot``.
"""

from __future__ import annotations

import argparse

import numpy as np
import torch
from tabulate import tabulate

from lengthgen.models import build_model
from lengthgen.tasks import make_task
from lengthgen.training.data import sample_mixed_lengths, to_lm_batch
from lengthgen.training.loop import TrainConfig, build_optimizer
from lengthgen.training.schedule import warmup_cosine

LRS = [3e-4, 1e-3, 3e-3, 1e-2, 3e-2]


def final_loss(width: int, lr: float, parametrization: str, steps: int, seed: int = 0) -> float:
    task = make_task("copy-unique", alphabet=32)
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        model = build_model(
            "transformer",
            task.vocab_size,
            d_model=width,
            n_heads=4,
            n_layers=2,
            pe="rope",
            parametrization=parametrization,
            base_width=32,
        )
    cfg = TrainConfig(lr=lr, steps=steps, warmup=steps // 10, weight_decay=0.0)
    opt = build_optimizer(model, cfg)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: warmup_cosine(s, cfg.warmup, steps, 0.1))
    rng = np.random.default_rng(seed)
    losses = []
    for _ in range(steps):
        lm = to_lm_batch(sample_mixed_lengths(task, rng, 32, list(range(1, 9))))
        logits = model(torch.from_numpy(lm.tokens)).logits
        loss_all = torch.nn.functional.cross_entropy(
            logits.transpose(1, 2), torch.from_numpy(lm.labels), reduction="none"
        )
        mask = torch.from_numpy(lm.loss_mask)
        loss = (loss_all * mask).sum() / mask.sum()
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        sched.step()
        losses.append(loss.item())
    value = float(np.mean(losses[-20:]))
    return value if np.isfinite(value) else float("inf")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--widths", default="32,64,128")
    parser.add_argument("--plot", help="write a PNG of loss vs learning rate here")
    args = parser.parse_args()
    widths = [int(w) for w in args.widths.split(",")]
    table = {}
    for parametrization in ("standard", "mup"):
        for width in widths:
            table[(parametrization, width)] = [final_loss(width, lr, parametrization, args.steps) for lr in LRS]
    for parametrization in ("standard", "mup"):
        rows = []
        best_lrs = []
        for width in widths:
            losses = table[(parametrization, width)]
            best = int(np.argmin(losses))
            best_lrs.append(LRS[best])
            rows.append([width] + [f"{v:.3f}" + (" *" if i == best else "") for i, v in enumerate(losses)])
        print(f"\n{parametrization}: final training loss (mean of last 20 steps), * = best learning rate")
        print(tabulate(rows, headers=["width"] + [f"lr {lr:g}" for lr in LRS], tablefmt="github"))
        spread = np.log10(max(best_lrs) / min(best_lrs))
        print(f"best learning rates {', '.join(f'{lr:g}' for lr in best_lrs)}: spread {spread:.2f} decades")
    if args.plot:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        fig, axes = plt.subplots(1, 2, figsize=(9, 3.4), sharey=True)
        for ax, parametrization in zip(axes, ("standard", "mup")):
            for width in widths:
                ax.plot(LRS, table[(parametrization, width)], marker="o", label=f"width {width}")
            ax.set_xscale("log")
            ax.set_xlabel("Adam learning rate")
            ax.set_title(parametrization)
        axes[0].set_ylabel("final training loss")
        axes[1].legend(fontsize=8)
        fig.tight_layout()
        fig.savefig(args.plot, dpi=120)
        print(f"\nwrote {args.plot}")


if __name__ == "__main__":
    main()
